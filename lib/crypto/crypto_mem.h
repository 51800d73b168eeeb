/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Key memory and secret handling (libsodium): locked, guarded allocations
 * wiped on free; wiping; constant-time comparison; library start-up.
 */
#ifndef VPNGW_CRYPTO_MEM_H
#define VPNGW_CRYPTO_MEM_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Start the crypto libraries (sodium_init). Call once before any other
 * crypto_* function; safe to call again. Returns 0 or -1.
 */
int crypto_init(void);

/* Locked (mlock), guard-paged, zeroed memory for key material; NULL on failure. */
void *crypto_key_alloc(size_t len);
/* Wipe and release; NULL is ignored. */
void crypto_key_free(void *p);

void crypto_wipe(void *p, size_t len);

/* Constant-time equality of two buffers of the same length. */
bool crypto_ct_equal(const void *a, const void *b, size_t len);

#endif
