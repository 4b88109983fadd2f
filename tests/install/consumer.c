/*
 * consumer.c - a program built against an installed mwrt, the way an
 * embedding service would: only <mwrt/mwrt.h> and pkg-config.
 */
#include <mwrt/mwrt.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    char *p = mw_malloc(100);
    if (p == NULL) {
        return 1;
    }
    strcpy(p, "hello from mwrt");
    mw_alloc_stats st;
    if (mw_alloc_get_stats(&st) != 0 || st.classes[12].blocks_in_use != 1) {
        return 1;
    }
    printf("%s %s\n", p, mw_version());
    mw_free(p);
    return 0;
}
