/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKE PRFs over Intel IPsec-MB: HMAC ipad/opad states come from the
 * one-block hash functions, the HMAC itself from one synchronous job on
 * this thread's manager. IPsec-MB has no general MD5, so an MD5 key longer
 * than the block and plain MD5 hashes go through OpenSSL EVP.
 *
 * IPsec-MB hashes one contiguous buffer; messages given as several pieces
 * are gathered first, into a stack buffer when small, else into a heap
 * buffer bounded by PRF_MAX_MSG (IKE messages are under 64 KiB; AUTH
 * inputs add a nonce and a PRF output to one). This is control-plane code.
 */
#include "crypto_prf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <intel-ipsec-mb.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "compiler.h"
#include "crypto_mem.h"
#include "crypto_sym.h"

#define PRF_MAX_MSG    (128u * 1024)
#define PRF_STACK_MSG  2048u
#define HASH_MAX_BLOCK 128u
#define HASH_STATE_LEN 64u /* the largest one-block state: SHA-512's */

/*
 * IPsec-MB's HMAC jobs take 1..65534 message bytes; outside that range
 * (an empty message, a huge AUTH input) OpenSSL's HMAC computes the same.
 */
#define IMB_HMAC_MAX_MSG 65534u

struct hash_desc {
	IMB_HASH_ALG hmac_alg; /* the HMAC job's hash_alg */
	const EVP_MD *(*evp)(void);
	unsigned block;
	unsigned out;
};

/* The PRF rows' hashes; NULL for an id that is not a PRF. */
static const struct hash_desc *hash_desc(enum crypto_alg_id prf)
{
	static const struct hash_desc md5 = { IMB_AUTH_MD5, EVP_md5, 64, 16 };
	static const struct hash_desc sha1 = { IMB_AUTH_HMAC_SHA_1, EVP_sha1, 64, 20 };
	static const struct hash_desc sha256 = { IMB_AUTH_HMAC_SHA_256, EVP_sha256, 64, 32 };
	static const struct hash_desc sha384 = { IMB_AUTH_HMAC_SHA_384, EVP_sha384, 128, 48 };
	static const struct hash_desc sha512 = { IMB_AUTH_HMAC_SHA_512, EVP_sha512, 128, 64 };

	switch (prf) {
	case CRYPTO_PRF_HMAC_MD5:
		return &md5;
	case CRYPTO_PRF_HMAC_SHA1:
		return &sha1;
	case CRYPTO_PRF_HMAC_SHA256:
		return &sha256;
	case CRYPTO_PRF_HMAC_SHA384:
		return &sha384;
	case CRYPTO_PRF_HMAC_SHA512:
		return &sha512;
	default:
		return NULL;
	}
}

/* A contiguous copy of an iov list, or the single piece itself. */
struct gathered {
	const uint8_t *p;
	size_t len;
	uint8_t *heap; /* non-NULL when the copy lives on the heap */
};

static int gather(const struct crypto_iov *iov, unsigned n, uint8_t *stack, size_t stack_cap,
                  struct gathered *g)
{
	size_t total = 0;

	g->heap = NULL;
	for (unsigned i = 0; i < n; i++) {
		if (iov[i].len > PRF_MAX_MSG - total || (iov[i].len != 0 && iov[i].p == NULL))
			return -EINVAL;
		total += iov[i].len;
	}
	g->len = total;
	if (n == 1) {
		g->p = iov[0].p;
		return 0;
	}
	uint8_t *dst = stack;
	if (total > stack_cap) {
		g->heap = malloc(total);
		if (g->heap == NULL)
			return -EINVAL; /* the header promises 0 or -EINVAL */
		dst = g->heap;
	}
	size_t off = 0;
	for (unsigned i = 0; i < n; i++) {
		if (iov[i].len != 0)
			memcpy(dst + off, iov[i].p, iov[i].len);
		off += iov[i].len;
	}
	g->p = dst;
	return 0;
}

/* The gathered copy may hold secrets (g^xy, SKEYID): wipe it. */
static void gathered_release(struct gathered *g, uint8_t *stack, size_t stack_cap)
{
	if (g->heap != NULL) {
		crypto_wipe(g->heap, g->len);
		free(g->heap);
	} else if (g->p == stack) {
		crypto_wipe(stack, g->len < stack_cap ? g->len : stack_cap);
	}
	g->heap = NULL;
}

/* Plain hash of one buffer; out needs HASH_STATE_LEN bytes of room. */
static int hash_buf(IMB_MGR *mgr, enum crypto_alg_id prf, const uint8_t *p, size_t len,
                    uint8_t *out)
{
	switch (prf) {
	case CRYPTO_PRF_HMAC_MD5:
		return EVP_Digest(p, len, out, NULL, EVP_md5(), NULL) == 1 ? 0 : -EINVAL;
	case CRYPTO_PRF_HMAC_SHA1:
		IMB_SHA1(mgr, p, len, out);
		return 0;
	case CRYPTO_PRF_HMAC_SHA256:
		IMB_SHA256(mgr, p, len, out);
		return 0;
	case CRYPTO_PRF_HMAC_SHA384:
		IMB_SHA384(mgr, p, len, out);
		return 0;
	case CRYPTO_PRF_HMAC_SHA512:
		IMB_SHA512(mgr, p, len, out);
		return 0;
	default:
		return -EINVAL;
	}
}

static void hash_one_block(IMB_MGR *mgr, enum crypto_alg_id prf, const uint8_t *block,
                           uint8_t *state)
{
	switch (prf) {
	case CRYPTO_PRF_HMAC_MD5:
		IMB_MD5_ONE_BLOCK(mgr, block, state);
		break;
	case CRYPTO_PRF_HMAC_SHA1:
		IMB_SHA1_ONE_BLOCK(mgr, block, state);
		break;
	case CRYPTO_PRF_HMAC_SHA256:
		IMB_SHA256_ONE_BLOCK(mgr, block, state);
		break;
	case CRYPTO_PRF_HMAC_SHA384:
		IMB_SHA384_ONE_BLOCK(mgr, block, state);
		break;
	case CRYPTO_PRF_HMAC_SHA512:
		IMB_SHA512_ONE_BLOCK(mgr, block, state);
		break;
	default:
		break;
	}
}

/* One keyed HMAC: the states after the first block of key^ipad, key^opad. */
struct hmac {
	alignas(16) uint8_t ipad[HASH_STATE_LEN];
	alignas(16) uint8_t opad[HASH_STATE_LEN];
	uint8_t key[HASH_MAX_BLOCK]; /* for the OpenSSL fallback */
	size_t key_len;
	const struct hash_desc *d;
	enum crypto_alg_id prf;
	IMB_MGR *mgr;
};

static int hmac_init(struct hmac *h, enum crypto_alg_id prf, const uint8_t *key, size_t key_len)
{
	alignas(16) uint8_t k[HASH_MAX_BLOCK] = { 0 };
	alignas(16) uint8_t block[HASH_MAX_BLOCK];
	int rc = -EINVAL;

	h->d = hash_desc(prf);
	h->prf = prf;
	h->mgr = crypto_imb();
	if (h->d == NULL || h->mgr == NULL || (key_len != 0 && key == NULL))
		return -EINVAL;
	/* RFC 2104 2: a key longer than the block is replaced by its hash. */
	h->key_len = key_len;
	if (key_len > h->d->block) {
		if (hash_buf(h->mgr, prf, key, key_len, k) != 0)
			goto out;
		h->key_len = h->d->out;
	} else if (key_len != 0) {
		memcpy(k, key, key_len);
	}
	memcpy(h->key, k, sizeof(h->key));
	for (unsigned i = 0; i < h->d->block; i++)
		block[i] = k[i] ^ 0x36;
	hash_one_block(h->mgr, prf, block, h->ipad);
	for (unsigned i = 0; i < h->d->block; i++)
		block[i] = k[i] ^ 0x5c;
	hash_one_block(h->mgr, prf, block, h->opad);
	rc = 0;
out:
	crypto_wipe(k, sizeof(k));
	crypto_wipe(block, sizeof(block));
	return rc;
}

static void hmac_wipe(struct hmac *h)
{
	crypto_wipe(h->ipad, sizeof(h->ipad));
	crypto_wipe(h->opad, sizeof(h->opad));
	crypto_wipe(h->key, sizeof(h->key));
}

/* out gets the full hash output of HMAC over one buffer. */
static int hmac_run(const struct hmac *h, const uint8_t *msg, size_t len, uint8_t *out)
{
	IMB_MGR *mgr = h->mgr;

	if (unlikely(len == 0 || len > IMB_HMAC_MAX_MSG)) {
		unsigned int n = 0;

		if (HMAC(h->d->evp(), h->key, (int)h->key_len, msg, len, out, &n) == NULL ||
		    n != h->d->out)
			return -EINVAL;
		return 0;
	}

	IMB_JOB *job = IMB_GET_NEXT_JOB(mgr);

	/* Start from a clean job: the ring slot may hold another user's fields. */
	memset(job, 0, sizeof(*job));
	job->cipher_mode = IMB_CIPHER_NULL;
	job->cipher_direction = IMB_DIR_ENCRYPT;
	job->chain_order = IMB_ORDER_HASH_CIPHER;
	job->hash_alg = h->d->hmac_alg;
	job->src = msg;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = len;
	job->auth_tag_output = out;
	job->auth_tag_output_len_in_bytes = h->d->out;
	job->u.HMAC._hashed_auth_key_xor_ipad = h->ipad;
	job->u.HMAC._hashed_auth_key_xor_opad = h->opad;

	/* Synchronous: flush until our own job comes back. */
	IMB_JOB *done = IMB_SUBMIT_JOB(mgr);
	while (done != job) {
		done = IMB_FLUSH_JOB(mgr);
		if (done == NULL)
			break;
	}
	return job->status == IMB_STATUS_COMPLETED ? 0 : -EINVAL;
}

static int hmac_run_v(const struct hmac *h, const struct crypto_iov *iov, unsigned n, uint8_t *out)
{
	uint8_t stack[PRF_STACK_MSG];
	struct gathered g;
	int rc = gather(iov, n, stack, sizeof(stack), &g);

	if (rc != 0)
		return rc;
	rc = hmac_run(h, g.p, g.len, out);
	gathered_release(&g, stack, sizeof(stack));
	return rc;
}

int crypto_prf_v(enum crypto_alg_id prf, const uint8_t *key, size_t key_len,
                 const struct crypto_iov *iov, unsigned n, uint8_t *out)
{
	struct hmac h;
	int rc = hmac_init(&h, prf, key, key_len);

	if (rc == 0)
		rc = hmac_run_v(&h, iov, n, out);
	hmac_wipe(&h);
	return rc;
}

int crypto_prf(enum crypto_alg_id prf, const uint8_t *key, size_t key_len, const uint8_t *data,
               size_t len, uint8_t *out)
{
	const struct crypto_iov iov = { data, len };

	return crypto_prf_v(prf, key, key_len, &iov, 1, out);
}

int crypto_hash_v(enum crypto_alg_id prf, const struct crypto_iov *iov, unsigned n, uint8_t *out)
{
	const struct hash_desc *d = hash_desc(prf);
	int rc = -EINVAL;

	if (d == NULL)
		return -EINVAL;
	if (prf == CRYPTO_PRF_HMAC_MD5) {
		/* EVP streams the pieces: no gathering needed. */
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1) {
			rc = 0;
			for (unsigned i = 0; i < n && rc == 0; i++)
				if (EVP_DigestUpdate(ctx, iov[i].p, iov[i].len) != 1)
					rc = -EINVAL;
			if (rc == 0 && EVP_DigestFinal_ex(ctx, out, NULL) != 1)
				rc = -EINVAL;
		}
		EVP_MD_CTX_free(ctx);
		return rc;
	}

	IMB_MGR *mgr = crypto_imb();
	uint8_t stack[PRF_STACK_MSG];
	uint8_t digest[HASH_STATE_LEN];
	struct gathered g;

	if (mgr == NULL)
		return -EINVAL;
	rc = gather(iov, n, stack, sizeof(stack), &g);
	if (rc != 0)
		return rc;
	/* The one-shot functions may write a whole state: go through digest. */
	rc = hash_buf(mgr, prf, g.p, g.len, digest);
	if (rc == 0)
		memcpy(out, digest, d->out);
	gathered_release(&g, stack, sizeof(stack));
	crypto_wipe(digest, sizeof(digest));
	return rc;
}

int crypto_prf_plus(enum crypto_alg_id prf, const uint8_t *key, size_t key_len, const uint8_t *seed,
                    size_t seed_len, uint8_t *out, size_t out_len)
{
	const struct hash_desc *d = hash_desc(prf);
	uint8_t stack[PRF_STACK_MSG];
	uint8_t t[CRYPTO_PRF_MAX_OUT];
	uint8_t *buf = stack;
	struct hmac h;
	int rc;

	if (d == NULL || out_len > 255u * d->out || seed_len > PRF_MAX_MSG ||
	    (seed_len != 0 && seed == NULL))
		return -EINVAL;
	rc = hmac_init(&h, prf, key, key_len);
	if (rc != 0)
		goto out;

	/* buf = T(n-1) | S | n, built once; T1 skips the empty T0. */
	size_t buf_len = d->out + seed_len + 1;
	if (buf_len > sizeof(stack)) {
		buf = malloc(buf_len);
		if (buf == NULL) {
			rc = -EINVAL;
			goto out;
		}
	}
	if (seed_len != 0)
		memcpy(buf + d->out, seed, seed_len);

	size_t done = 0;
	for (unsigned i = 1; done < out_len; i++) {
		buf[buf_len - 1] = (uint8_t)i;
		if (i == 1)
			rc = hmac_run(&h, buf + d->out, seed_len + 1, t);
		else
			rc = hmac_run(&h, buf, buf_len, t);
		if (rc != 0)
			break;
		size_t n = out_len - done < d->out ? out_len - done : d->out;
		memcpy(out + done, t, n);
		memcpy(buf, t, d->out);
		done += n;
	}
	crypto_wipe(buf, buf_len);
	if (buf != stack)
		free(buf);
out:
	hmac_wipe(&h);
	crypto_wipe(t, sizeof(t));
	return rc;
}

int crypto_ikev1_skeyid_psk(enum crypto_alg_id prf, const uint8_t *psk, size_t psk_len,
                            const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
                            const uint8_t *gxy, size_t gxy_len, const uint8_t cky_i[8],
                            const uint8_t cky_r[8], struct crypto_ikev1_keys *k)
{
	const struct hash_desc *d = hash_desc(prf);
	struct hmac h;
	int rc;

	if (d == NULL)
		return -EINVAL;
	crypto_wipe(k, sizeof(*k));
	k->len = d->out;

	const struct crypto_iov nonces[] = { { ni, ni_len }, { nr, nr_len } };
	rc = crypto_prf_v(prf, psk, psk_len, nonces, ARRAY_SIZE(nonces), k->skeyid);
	if (rc != 0)
		goto fail;

	/* One keyed HMAC for the three derivations from SKEYID. */
	rc = hmac_init(&h, prf, k->skeyid, k->len);
	if (rc != 0)
		goto fail;
	const uint8_t n0 = 0, n1 = 1, n2 = 2;
	const struct crypto_iov d_in[] = {
		{ gxy, gxy_len }, { cky_i, 8 }, { cky_r, 8 }, { &n0, 1 }
	};
	const struct crypto_iov a_in[] = {
		{ k->skeyid_d, k->len }, { gxy, gxy_len }, { cky_i, 8 }, { cky_r, 8 }, { &n1, 1 }
	};
	const struct crypto_iov e_in[] = {
		{ k->skeyid_a, k->len }, { gxy, gxy_len }, { cky_i, 8 }, { cky_r, 8 }, { &n2, 1 }
	};
	rc = hmac_run_v(&h, d_in, ARRAY_SIZE(d_in), k->skeyid_d);
	if (rc == 0)
		rc = hmac_run_v(&h, a_in, ARRAY_SIZE(a_in), k->skeyid_a);
	if (rc == 0)
		rc = hmac_run_v(&h, e_in, ARRAY_SIZE(e_in), k->skeyid_e);
	hmac_wipe(&h);
	if (rc == 0)
		return 0;
fail:
	crypto_wipe(k, sizeof(*k));
	return rc;
}

int crypto_ikev1_enc_key(enum crypto_alg_id prf, const struct crypto_ikev1_keys *k, uint8_t *key,
                         size_t key_len)
{
	const struct hash_desc *d = hash_desc(prf);
	uint8_t kn[CRYPTO_PRF_MAX_OUT], next[CRYPTO_PRF_MAX_OUT];
	struct hmac h;
	int rc;

	if (d == NULL || k->len != d->out)
		return -EINVAL;
	if (key_len <= k->len) {
		memcpy(key, k->skeyid_e, key_len);
		return 0;
	}
	/* RFC 2409 appendix B: K1 = prf(SKEYID_e, 0) with a single zero octet. */
	rc = hmac_init(&h, prf, k->skeyid_e, k->len);
	if (rc != 0)
		goto out;
	kn[0] = 0;
	size_t in_len = 1;
	for (size_t done = 0; done < key_len;) {
		rc = hmac_run(&h, kn, in_len, next);
		if (rc != 0)
			break;
		size_t n = key_len - done < d->out ? key_len - done : d->out;
		memcpy(key + done, next, n);
		memcpy(kn, next, d->out);
		done += n;
		in_len = d->out;
	}
	if (rc != 0)
		crypto_wipe(key, key_len);
out:
	hmac_wipe(&h);
	crypto_wipe(kn, sizeof(kn));
	crypto_wipe(next, sizeof(next));
	return rc;
}
