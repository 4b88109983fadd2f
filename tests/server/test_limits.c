#include "harness.h"

TCase *tcase_limits(void)
{
    TCase *tc = tcase_create("limits");
    return tc;
}
