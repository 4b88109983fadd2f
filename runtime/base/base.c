/*
 * base.c - the fatal-error exit and the version and status strings.
 */
#include <mwrt/common.h>

#include "base/base.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void mw__fatal(const char *fmt, ...)
{
    // A fixed buffer and write(2): the allocator may be what is broken.
    char buf[512];
    int n = snprintf(buf, sizeof buf, "mwrt: fatal: ");
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 2) {
        n = (int)sizeof buf - 2;
    }
    buf[n++] = '\n';
    ssize_t unused = write(STDERR_FILENO, buf, (size_t)n);
    (void)unused;
    abort();
}

const char *mw_version(void)
{
    return "0.1.0";
}

const char *mw_strerror(int status)
{
    switch (status) {
    case MW_OK:
        return "success";
    case MW_ENOMEM:
        return "out of memory";
    case MW_EINVAL:
        return "invalid argument";
    case MW_EBUSY:
        return "resource busy";
    default:
        return "unknown error";
    }
}
