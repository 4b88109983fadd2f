#include "harness.h"

TCase *tcase_concurrency(void)
{
    TCase *tc = tcase_create("concurrency");
    return tc;
}
