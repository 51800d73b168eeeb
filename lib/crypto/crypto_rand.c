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

/* The stream's key and refill count: only the refill reads them. */
struct iv_key {
	uint8_t key[crypto_stream_chacha20_ietf_KEYBYTES];
	/*
	 * The nonce of the next refill. Each refill uses a fresh nonce under
	 * the same key with block counter 0, so no keystream block is ever
	 * produced twice; a 64-bit count cannot wrap in practice.
	 */
	uint64_t refills;
	bool keyed;
};

_Thread_local struct crypto_iv_stream crypto_iv_stream_tls;

static _Thread_local struct iv_key iv_key;

static pthread_once_t iv_once = PTHREAD_ONCE_INIT;
static pthread_key_t iv_exit_key;

/*
 * At thread exit: do not leave the stream key (nor the IVs not yet used)
 * in freed TLS memory. The destructor runs on the exiting thread.
 */
static void iv_stream_exit(void *p)
{
	sodium_memzero(p, sizeof(struct iv_key));
	sodium_memzero(&crypto_iv_stream_tls, sizeof(crypto_iv_stream_tls));
}

/*
 * A forked child would otherwise continue its parent's stream and repeat
 * its IVs; only the forking thread exists in the child, so resetting that
 * thread's state is enough.
 */
static void iv_stream_after_fork(void)
{
	sodium_memzero(&iv_key, sizeof(iv_key));
	sodium_memzero(&crypto_iv_stream_tls, sizeof(crypto_iv_stream_tls));
}

static void iv_once_init(void)
{
	(void)pthread_key_create(&iv_exit_key, iv_stream_exit);
	(void)pthread_atfork(NULL, NULL, iv_stream_after_fork);
}

static void iv_stream_refill(struct iv_key *k, struct crypto_iv_stream *s)
{
	uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = { 0 };

	if (unlikely(!k->keyed)) {
		(void)pthread_once(&iv_once, iv_once_init);
		(void)pthread_setspecific(iv_exit_key, k);
		randombytes_buf(k->key, sizeof(k->key));
		k->refills = 0;
		k->keyed = true;
	}
	for (unsigned i = 0; i < 8; i++)
		nonce[i] = (uint8_t)(k->refills >> (8 * i));
	k->refills++;
	crypto_stream_chacha20_ietf(s->buf, sizeof(s->buf), nonce, k->key);
	s->avail = sizeof(s->buf);
}

void crypto_iv_random_slow(uint8_t *iv, size_t len)
{
	struct crypto_iv_stream *s = &crypto_iv_stream_tls;
	struct iv_key *k = &iv_key;

	while (len > 0) {
		/* avail is 0 until the stream is keyed (and after a fork). */
		if (unlikely(s->avail == 0 || !k->keyed))
			iv_stream_refill(k, s);
		size_t n = s->avail;
		if (n > len)
			n = len;
		memcpy(iv, s->buf + sizeof(s->buf) - s->avail, n);
		s->avail -= n;
		iv += n;
		len -= n;
	}
}
