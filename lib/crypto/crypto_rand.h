/* SPDX-License-Identifier: BSD-3-Clause */
/* Randomness: libsodium for secrets, a per-thread stream for CBC IVs. */
#ifndef VPNGW_CRYPTO_RAND_H
#define VPNGW_CRYPTO_RAND_H

#include <stddef.h>
#include <stdint.h>

/* Cryptographically secure random bytes (randombytes_buf). */
void crypto_random(void *buf, size_t len);

/* Bytes of keystream made per refill: 64 ChaCha20 blocks. */
#define CRYPTO_IV_STREAM_BUF 4096

/* A thread's IV stream (crypto_rand.c); the fast path below takes from it. */
struct crypto_iv_stream {
	uint8_t buf[CRYPTO_IV_STREAM_BUF];
	size_t avail; /* unused bytes at the end of buf; 0 until keyed */
};

extern _Thread_local struct crypto_iv_stream crypto_iv_stream_tls;

/* Refills (keying the stream on first use) and takes len bytes. */
void crypto_iv_random_slow(uint8_t *iv, size_t len);

/*
 * Unpredictable IVs for CBC (RFC 3602 3): bytes from a per-thread ChaCha20
 * stream keyed once from libsodium's generator, refilled a few KiB at a
 * time, so the data path makes no syscall per packet. Not for keys.
 * Inline: a packet's IV is a copy out of the buffer; a refill is a call.
 */
static inline void crypto_iv_random(uint8_t *iv, size_t len)
{
	struct crypto_iv_stream *s = &crypto_iv_stream_tls;

	if (__builtin_expect(len == 16 && s->avail >= 16, 1)) {
		__builtin_memcpy(iv, s->buf + CRYPTO_IV_STREAM_BUF - s->avail, 16);
		s->avail -= 16;
		return;
	}
	crypto_iv_random_slow(iv, len);
}

#endif
