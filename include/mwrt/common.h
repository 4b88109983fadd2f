/*
 * mwrt/common.h - definitions shared by every public mwrt header.
 *
 * Status calls return 0 on success or a negative MW_E* code; constructors
 * return NULL and leave the reason where the caller can read it (for the
 * allocator: errno, as the C library does).
 */
#ifndef MWRT_COMMON_H
#define MWRT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks a symbol exported from libmwrt; everything else is hidden. */
#if defined(MW_ALLOC_OVERRIDE)
#define MW_API /* the drop-in malloc exports only the C malloc family */
#elif defined(__GNUC__)
#define MW_API __attribute__((visibility("default")))
#else
#define MW_API
#endif

/* Negative status codes.  Values follow errno so they print sensibly. */
#define MW_OK       0
#define MW_ENOMEM   (-12)  /* out of memory */
#define MW_EINVAL   (-22)  /* invalid argument */
#define MW_EBUSY    (-16)  /* resource busy (e.g. threads still attached) */

#define MW_VERSION_MAJOR 0
#define MW_VERSION_MINOR 1
#define MW_VERSION_PATCH 0

/* The library's version as "MAJOR.MINOR.PATCH".  Any thread. */
MW_API const char *mw_version(void);

/* A static, human-readable string for a status code.  Any thread. */
MW_API const char *mw_strerror(int status);

#ifdef __cplusplus
}
#endif
#endif /* MWRT_COMMON_H */
