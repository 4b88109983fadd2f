#include "harness.h"

TCase *tcase_mwrt(void)
{
    TCase *tc = tcase_create("mwrt");
    return tc;
}
