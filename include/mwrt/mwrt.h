/*
 * mwrt/mwrt.h - the whole public API of the mwrt runtime.
 */
#ifndef MWRT_MWRT_H
#define MWRT_MWRT_H

#include <mwrt/common.h>
#include <mwrt/alloc.h>
#include <mwrt/runtime.h>
#include <mwrt/object.h>
#include <mwrt/gc.h>
#include <mwrt/hist.h>

#endif /* MWRT_MWRT_H */
