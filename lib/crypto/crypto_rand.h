/* SPDX-License-Identifier: BSD-3-Clause */
/* Randomness: libsodium for secrets, a per-thread stream for CBC IVs. */
#ifndef VPNGW_CRYPTO_RAND_H
#define VPNGW_CRYPTO_RAND_H

#include <stddef.h>
#include <stdint.h>

/* Cryptographically secure random bytes (randombytes_buf). */
void crypto_random(void *buf, size_t len);

/*
 * Unpredictable IVs for CBC (RFC 3602 3): bytes from a per-thread ChaCha20
 * stream keyed once from libsodium's generator, refilled a few KiB at a
 * time, so the data path makes no syscall per packet. Not for keys.
 */
void crypto_iv_random(uint8_t *iv, size_t len);

#endif
