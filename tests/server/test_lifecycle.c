#include "harness.h"

TCase *tcase_lifecycle(void)
{
    TCase *tc = tcase_create("lifecycle");
    return tc;
}
