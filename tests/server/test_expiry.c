#include "harness.h"

TCase *tcase_expiry(void)
{
    TCase *tc = tcase_create("expiry");
    return tc;
}
