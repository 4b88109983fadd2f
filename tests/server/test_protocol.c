#include "harness.h"

TCase *tcase_protocol(void)
{
    TCase *tc = tcase_create("protocol");
    return tc;
}
