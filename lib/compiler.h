/* SPDX-License-Identifier: BSD-3-Clause */
/* Small compiler helpers shared by lib/, dataplane/ and control/. */
#ifndef VPNGW_COMPILER_H
#define VPNGW_COMPILER_H

#include <assert.h>
#include <stdalign.h>

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define CACHE_LINE    64
#define cache_aligned alignas(CACHE_LINE)

/* printf-style format checking: fmt is argument f, the values start at a. */
#define VPNGW_PRINTF(f, a) __attribute__((format(printf, f, a)))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
