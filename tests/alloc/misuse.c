/*
 * misuse.c - commit one allocator misuse, named on the command line, so that
 * ctest can check the message a debug build aborts with.
 */
#include <mwrt/mwrt.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s double-free|interior|foreign\n", argv[0]);
        return 2;
    }
    char *keep = mw_malloc(48);
    char *p = mw_malloc(48);
    if (strcmp(argv[1], "double-free") == 0) {
        mw_free(p);
        mw_free(p);
    } else if (strcmp(argv[1], "interior") == 0) {
        mw_free(p + 16);
    } else if (strcmp(argv[1], "foreign") == 0) {
        mw_free(malloc(64));
    } else {
        fprintf(stderr, "unknown case %s\n", argv[1]);
        return 2;
    }
    mw_free(keep);
    puts("misuse went undetected");
    return 0;
}
