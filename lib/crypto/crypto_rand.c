/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Randomness. Secrets come straight from libsodium; CBC IVs come from a
 * per-thread ChaCha20 keystream so the data path makes no syscall and
 * takes no lock per packet (DESIGN.md rule 8).
 */
#include "crypto_rand.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#include "compiler.h"

void crypto_random(void *buf, size_t len)
{
	randombytes_buf(buf, len);
}

/* Bytes of keystream made per refill: 64 ChaCha20 blocks. */
#define IV_STREAM_BUF 4096

struct iv_stream {
	uint8_t buf[IV_STREAM_BUF];
	uint8_t key[crypto_stream_chacha20_ietf_KEYBYTES];
	/*
	 * The nonce of the next refill. Each refill uses a fresh nonce under
	 * the same key with block counter 0, so no keystream block is ever
	 * produced twice; a 64-bit count cannot wrap in practice.
	 */
	uint64_t refills;
	size_t pos; /* next unused byte of buf */
	bool keyed;
};

static _Thread_local struct iv_stream iv_stream;

static pthread_once_t iv_once = PTHREAD_ONCE_INIT;
static pthread_key_t iv_exit_key;

/* At thread exit: do not leave the stream key in freed TLS memory. */
static void iv_stream_exit(void *p)
{
	sodium_memzero(p, sizeof(struct iv_stream));
}

/*
 * A forked child would otherwise continue its parent's stream and repeat
 * its IVs; only the forking thread exists in the child, so resetting that
 * thread's state is enough.
 */
static void iv_stream_after_fork(void)
{
	sodium_memzero(&iv_stream, sizeof(iv_stream));
}

static void iv_once_init(void)
{
	(void)pthread_key_create(&iv_exit_key, iv_stream_exit);
	(void)pthread_atfork(NULL, NULL, iv_stream_after_fork);
}

static void iv_stream_refill(struct iv_stream *s)
{
	uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = { 0 };

	if (unlikely(!s->keyed)) {
		(void)pthread_once(&iv_once, iv_once_init);
		(void)pthread_setspecific(iv_exit_key, s);
		randombytes_buf(s->key, sizeof(s->key));
		s->refills = 0;
		s->keyed = true;
	}
	for (unsigned i = 0; i < 8; i++)
		nonce[i] = (uint8_t)(s->refills >> (8 * i));
	s->refills++;
	crypto_stream_chacha20_ietf(s->buf, sizeof(s->buf), nonce, s->key);
	s->pos = 0;
}

void crypto_iv_random(uint8_t *iv, size_t len)
{
	struct iv_stream *s = &iv_stream;

	while (len > 0) {
		if (unlikely(s->pos == sizeof(s->buf) || !s->keyed))
			iv_stream_refill(s);
		size_t n = sizeof(s->buf) - s->pos;
		if (n > len)
			n = len;
		memcpy(iv, s->buf + s->pos, n);
		s->pos += n;
		iv += n;
		len -= n;
	}
}
