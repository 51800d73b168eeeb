/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Symmetric crypto over Intel IPsec-MB: key expansion per SA, the per-SA
 * fields of a job, and synchronous one-shot calls for the cold path.
 */
#include "crypto_sym.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <sodium.h>

/*
 * One manager per thread: a manager holds the multi-buffer lanes of the jobs
 * in flight and is not thread safe. It lives as long as its thread; a
 * pthread key frees it when the thread exits (threads come and go in tests
 * and in the control plane).
 */
static _Thread_local IMB_MGR *tls_mgr;
static _Thread_local IMB_ARCH tls_arch;
static pthread_key_t mgr_key;
static pthread_once_t mgr_key_once = PTHREAD_ONCE_INIT;
static bool mgr_key_ok;

static void mgr_free(void *mgr)
{
	tls_mgr = NULL;
	free_mb_mgr(mgr);
}

static void mgr_key_create(void)
{
	mgr_key_ok = pthread_key_create(&mgr_key, mgr_free) == 0;
}

IMB_MGR *crypto_imb(void)
{
	IMB_MGR *mgr;

	if (likely(tls_mgr != NULL))
		return tls_mgr;
	if (pthread_once(&mgr_key_once, mgr_key_create) != 0 || !mgr_key_ok)
		return NULL;
	mgr = alloc_mb_mgr(0);
	if (mgr == NULL)
		return NULL;
	init_mb_mgr_auto(mgr, &tls_arch);
	if (imb_get_errno(mgr) != 0 || pthread_setspecific(mgr_key, mgr) != 0) {
		free_mb_mgr(mgr);
		return NULL;
	}
	tls_mgr = mgr;
	return mgr;
}

static _Thread_local IMB_MGR *tls_sse_mgr;
static pthread_key_t sse_key;
static pthread_once_t sse_key_once = PTHREAD_ONCE_INIT;
static bool sse_key_ok;

static void sse_mgr_free(void *mgr)
{
	tls_sse_mgr = NULL;
	free_mb_mgr(mgr);
}

static void sse_key_create(void)
{
	sse_key_ok = pthread_key_create(&sse_key, sse_mgr_free) == 0;
}

static __attribute__((noinline)) IMB_MGR *sse_mgr_new(IMB_MGR *main_mgr)
{
	IMB_MGR *mgr;

	if (pthread_once(&sse_key_once, sse_key_create) != 0 || !sse_key_ok)
		return main_mgr;
	mgr = alloc_mb_mgr(0);
	if (mgr == NULL)
		return main_mgr;
	init_mb_mgr_sse(mgr);
	if (imb_get_errno(mgr) != 0 || pthread_setspecific(sse_key, mgr) != 0) {
		free_mb_mgr(mgr);
		return main_mgr;
	}
	tls_sse_mgr = mgr;
	return mgr;
}

IMB_MGR *crypto_imb_short_cbc(void)
{
	IMB_MGR *mgr = crypto_imb();

	if (mgr == NULL || tls_arch != IMB_ARCH_AVX512)
		return mgr;
	if (likely(tls_sse_mgr != NULL))
		return tls_sse_mgr;
	return sse_mgr_new(mgr);
}

const char *crypto_imb_arch_str(uint32_t arch)
{
	switch (arch) {
	case IMB_ARCH_NOAESNI:
		return "noaesni";
	case IMB_ARCH_SSE:
		return "sse";
	case IMB_ARCH_AVX:
		return "avx";
	case IMB_ARCH_AVX2:
		return "avx2";
	case IMB_ARCH_AVX512:
		return "avx512";
	default:
		return "unknown";
	}
}

const char *crypto_imb_arch_name(void)
{
	if (crypto_imb() == NULL)
		return "none";
	return crypto_imb_arch_str(tls_arch);
}

/* Largest HMAC block (SHA-384/512) and ICV (SHA-512-256, AEAD tags). */
#define HMAC_BLOCK_MAX 128
#define ICV_MAX        32

/*
 * RFC 2104 with a key no longer than the block: hash one block of
 * key ^ ipad and one of key ^ opad; IPsec-MB resumes from those states
 * for every packet, so the key itself is not kept.
 */
static int hmac_precompute(IMB_MGR *mgr, struct crypto_sym *s, const uint8_t *key, size_t key_len)
{
	alignas(16) uint8_t block[HMAC_BLOCK_MAX];
	size_t block_len = s->integ->block_len;
	int rc = 0;

	if (key_len > block_len || block_len > sizeof(block))
		return -EINVAL;
	for (unsigned pass = 0; pass < 2; pass++) {
		uint8_t *state = pass == 0 ? s->hmac_ipad : s->hmac_opad;

		memset(block, pass == 0 ? 0x36 : 0x5c, block_len);
		for (size_t i = 0; i < key_len; i++)
			block[i] ^= key[i];
		switch (s->imb_hash) {
		case IMB_AUTH_MD5:
			IMB_MD5_ONE_BLOCK(mgr, block, state);
			break;
		case IMB_AUTH_HMAC_SHA_1:
			IMB_SHA1_ONE_BLOCK(mgr, block, state);
			break;
		case IMB_AUTH_HMAC_SHA_256:
			IMB_SHA256_ONE_BLOCK(mgr, block, state);
			break;
		case IMB_AUTH_HMAC_SHA_384:
			IMB_SHA384_ONE_BLOCK(mgr, block, state);
			break;
		case IMB_AUTH_HMAC_SHA_512:
			IMB_SHA512_ONE_BLOCK(mgr, block, state);
			break;
		default:
			rc = -EINVAL;
			break;
		}
	}
	sodium_memzero(block, sizeof(block));
	return rc;
}

static int init_cipher(IMB_MGR *mgr, struct crypto_sym *s, enum crypto_alg_id encr,
                       const uint8_t *key)
{
	/* AEAD keying material is key || salt (RFC 4106 8.1, RFC 7634 2). */
	if (s->encr->salt_len)
		memcpy(s->salt, key + s->cipher_key_len, sizeof(s->salt));

	switch (encr) {
	case CRYPTO_ENCR_NULL:
		s->imb_cipher = IMB_CIPHER_NULL;
		s->imb_key_size = (IMB_KEY_SIZE_BYTES)0;
		return 0;
	case CRYPTO_ENCR_DES_CBC:
		s->imb_cipher = IMB_CIPHER_DES;
		s->imb_key_size = (IMB_KEY_SIZE_BYTES)8;
		IMB_DES_KEYSCHED(mgr, s->k.des.ks[0], key);
		return 0;
	case CRYPTO_ENCR_3DES_CBC:
		s->imb_cipher = IMB_CIPHER_DES3;
		s->imb_key_size = (IMB_KEY_SIZE_BYTES)24;
		for (unsigned i = 0; i < 3; i++) {
			IMB_DES_KEYSCHED(mgr, s->k.des.ks[i], key + 8 * i);
			s->k.des.ks_ptr[i] = s->k.des.ks[i];
		}
		return 0;
	case CRYPTO_ENCR_AES128_CBC:
		s->imb_cipher = IMB_CIPHER_CBC;
		s->imb_key_size = IMB_KEY_128_BYTES;
		IMB_AES_KEYEXP_128(mgr, key, s->k.aes.enc, s->k.aes.dec);
		return 0;
	case CRYPTO_ENCR_AES192_CBC:
		s->imb_cipher = IMB_CIPHER_CBC;
		s->imb_key_size = IMB_KEY_192_BYTES;
		IMB_AES_KEYEXP_192(mgr, key, s->k.aes.enc, s->k.aes.dec);
		return 0;
	case CRYPTO_ENCR_AES256_CBC:
		s->imb_cipher = IMB_CIPHER_CBC;
		s->imb_key_size = IMB_KEY_256_BYTES;
		IMB_AES_KEYEXP_256(mgr, key, s->k.aes.enc, s->k.aes.dec);
		return 0;
	case CRYPTO_ENCR_AES128_GCM16:
		s->imb_cipher = IMB_CIPHER_GCM;
		s->imb_key_size = IMB_KEY_128_BYTES;
		IMB_AES128_GCM_PRE(mgr, key, &s->k.gcm);
		return 0;
	case CRYPTO_ENCR_AES192_GCM16:
		s->imb_cipher = IMB_CIPHER_GCM;
		s->imb_key_size = IMB_KEY_192_BYTES;
		IMB_AES192_GCM_PRE(mgr, key, &s->k.gcm);
		return 0;
	case CRYPTO_ENCR_AES256_GCM16:
		s->imb_cipher = IMB_CIPHER_GCM;
		s->imb_key_size = IMB_KEY_256_BYTES;
		IMB_AES256_GCM_PRE(mgr, key, &s->k.gcm);
		return 0;
	case CRYPTO_ENCR_CHACHA20_POLY1305:
		s->imb_cipher = IMB_CIPHER_CHACHA20_POLY1305;
		s->imb_key_size = IMB_KEY_256_BYTES;
		memcpy(s->k.chacha, key, sizeof(s->k.chacha));
		return 0;
	default:
		return -EINVAL;
	}
}

static int init_integ(IMB_MGR *mgr, struct crypto_sym *s, enum crypto_alg_id integ,
                      const uint8_t *key, size_t key_len)
{
	if (s->encr->aead) {
		/* The AEAD tag is the ICV; its "hash" runs inside the cipher. */
		s->imb_hash = s->imb_cipher == IMB_CIPHER_GCM ? IMB_AUTH_AES_GMAC
		                                              : IMB_AUTH_CHACHA20_POLY1305;
		return 0;
	}
	switch (integ) {
	case CRYPTO_INTEG_NONE:
		s->imb_hash = IMB_AUTH_NULL;
		return 0;
	case CRYPTO_INTEG_HMAC_MD5_96:
		s->imb_hash = IMB_AUTH_MD5;
		break;
	case CRYPTO_INTEG_HMAC_SHA1_96:
		s->imb_hash = IMB_AUTH_HMAC_SHA_1;
		break;
	case CRYPTO_INTEG_HMAC_SHA256_128:
		s->imb_hash = IMB_AUTH_HMAC_SHA_256;
		break;
	case CRYPTO_INTEG_HMAC_SHA384_192:
		s->imb_hash = IMB_AUTH_HMAC_SHA_384;
		break;
	case CRYPTO_INTEG_HMAC_SHA512_256:
		s->imb_hash = IMB_AUTH_HMAC_SHA_512;
		break;
	default:
		return -EINVAL;
	}
	return hmac_precompute(mgr, s, key, key_len);
}

int crypto_sym_init(struct crypto_sym *s, enum crypto_alg_id encr, const uint8_t *enc_key,
                    size_t enc_key_len, enum crypto_alg_id integ, const uint8_t *auth_key,
                    size_t auth_key_len)
{
	const struct crypto_alg *e = crypto_alg(encr);
	const struct crypto_alg *a = crypto_alg(integ);
	IMB_MGR *mgr = crypto_imb();
	int rc = -EINVAL;

	sodium_memzero(s, sizeof(*s));
	if (mgr == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	if (e == NULL || a == NULL || e->kind != CRYPTO_ENCR || a->kind != CRYPTO_INTEG)
		goto fail;
	if (enc_key_len != e->key_len || auth_key_len != a->key_len)
		goto fail;
	if ((enc_key_len && enc_key == NULL) || (auth_key_len && auth_key == NULL))
		goto fail;
	/* AEAD carries its own ICV; ESP with neither cipher nor ICV is void (RFC 4303 3.2). */
	if (e->aead && integ != CRYPTO_INTEG_NONE)
		goto fail;
	if (encr == CRYPTO_ENCR_NULL && integ == CRYPTO_INTEG_NONE)
		goto fail;

	s->encr = e;
	s->integ = a;
	s->cipher_key_len = (uint8_t)(e->key_len - e->salt_len);
	rc = init_cipher(mgr, s, encr, enc_key);
	if (rc == 0)
		rc = init_integ(mgr, s, integ, auth_key, auth_key_len);
	if (rc == 0)
		return 0;
fail:
	sodium_memzero(s, sizeof(*s));
	return rc;
}

void crypto_sym_wipe(struct crypto_sym *s)
{
	sodium_memzero(s, sizeof(*s));
}

void crypto_sym_job_prepare(const struct crypto_sym *s, IMB_JOB *job, IMB_CIPHER_DIRECTION dir)
{
	job->cipher_mode = s->imb_cipher;
	job->cipher_direction = dir;
	/* ESP: encrypt-then-MAC out, verify-then-decrypt in (RFC 4303 3.3.2, 3.4.4). */
	job->chain_order = dir == IMB_DIR_ENCRYPT ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
	job->key_len_in_bytes = s->imb_key_size;
	job->hash_alg = s->imb_hash;

	switch (s->imb_cipher) {
	case IMB_CIPHER_CBC:
		job->enc_keys = s->k.aes.enc;
		job->dec_keys = s->k.aes.dec;
		break;
	case IMB_CIPHER_GCM:
		job->enc_keys = &s->k.gcm;
		job->dec_keys = &s->k.gcm;
		break;
	case IMB_CIPHER_CHACHA20_POLY1305:
		job->enc_keys = s->k.chacha;
		job->dec_keys = s->k.chacha;
		break;
	case IMB_CIPHER_DES:
		/* DES decrypts with the same schedule, run backwards. */
		job->enc_keys = s->k.des.ks[0];
		job->dec_keys = s->k.des.ks[0];
		break;
	case IMB_CIPHER_DES3:
		job->enc_keys = s->k.des.ks_ptr;
		job->dec_keys = s->k.des.ks_ptr;
		break;
	default:
		job->enc_keys = NULL;
		job->dec_keys = NULL;
		break;
	}

	switch (s->imb_hash) {
	case IMB_AUTH_AES_GMAC:
	case IMB_AUTH_CHACHA20_POLY1305:
		job->auth_tag_output_len_in_bytes = s->encr->icv_len;
		break;
	case IMB_AUTH_NULL:
		job->auth_tag_output_len_in_bytes = 0;
		break;
	default:
		job->u.HMAC._hashed_auth_key_xor_ipad = s->hmac_ipad;
		job->u.HMAC._hashed_auth_key_xor_opad = s->hmac_opad;
		job->auth_tag_output_len_in_bytes = s->integ->icv_len;
		break;
	}
}

/*
 * Run one job to completion on this thread's manager. The manager must hold
 * no other job: completions come back in submission order, so a job of the
 * data path still queued here would be returned to us and lost to its owner.
 * The one-shot calls are for threads that do not keep jobs in flight.
 */
static int run_job(IMB_MGR *mgr, IMB_JOB *job)
{
	IMB_JOB *done = IMB_SUBMIT_JOB(mgr);

	if (done == NULL)
		done = IMB_FLUSH_JOB(mgr);
	if (unlikely(done != job))
		return -EINVAL;
	return done->status == IMB_STATUS_COMPLETED ? 0 : -EINVAL;
}

static IMB_JOB *start_job(IMB_MGR **mgrp)
{
	IMB_MGR *mgr = crypto_imb();

	if (mgr == NULL || IMB_QUEUE_SIZE(mgr) != 0)
		return NULL;
	*mgrp = mgr;
	return IMB_GET_NEXT_JOB(mgr);
}

/* IPsec-MB wants non-NULL buffers even where nothing is read. */
static const uint8_t empty_buf[16];

static int cipher_oneshot(const struct crypto_sym *s, IMB_CIPHER_DIRECTION dir, const uint8_t *iv,
                          const uint8_t *in, uint8_t *out, size_t len)
{
	IMB_MGR *mgr;
	IMB_JOB *job;

	if (s->encr == NULL || s->encr->aead || len % s->encr->block_len != 0)
		return -EINVAL;
	if (s->imb_cipher == IMB_CIPHER_NULL || len == 0) {
		/* IPsec-MB's NULL cipher leaves dst alone; ours copies. */
		if (len)
			memmove(out, in, len);
		return 0;
	}
	job = start_job(&mgr);
	if (job == NULL)
		return -EINVAL;
	crypto_sym_job_prepare(s, job, dir);
	/* Cipher only: the ICV is a separate call over the ciphertext. */
	job->hash_alg = IMB_AUTH_NULL;
	job->auth_tag_output_len_in_bytes = 0;
	job->src = in;
	job->dst = out;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = len;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = 0;
	job->iv = iv;
	job->iv_len_in_bytes = s->encr->iv_len;
	job->auth_tag_output = NULL;
	return run_job(mgr, job);
}

int crypto_sym_encrypt(const struct crypto_sym *s, const uint8_t *iv, const uint8_t *in,
                       uint8_t *out, size_t len)
{
	return cipher_oneshot(s, IMB_DIR_ENCRYPT, iv, in, out, len);
}

int crypto_sym_decrypt(const struct crypto_sym *s, const uint8_t *iv, const uint8_t *in,
                       uint8_t *out, size_t len)
{
	return cipher_oneshot(s, IMB_DIR_DECRYPT, iv, in, out, len);
}

int crypto_sym_icv(const struct crypto_sym *s, const uint8_t *data, size_t len, uint8_t *icv)
{
	IMB_MGR *mgr;
	IMB_JOB *job;

	if (s->integ == NULL || s->integ->icv_len == 0)
		return -EINVAL;
	job = start_job(&mgr);
	if (job == NULL)
		return -EINVAL;
	crypto_sym_job_prepare(s, job, IMB_DIR_ENCRYPT);
	/* Hash only: the cipher ran (or runs) in its own call. */
	job->cipher_mode = IMB_CIPHER_NULL;
	job->chain_order = IMB_ORDER_CIPHER_HASH;
	job->src = data;
	job->dst = NULL;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = 0;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = len;
	job->iv = NULL;
	job->iv_len_in_bytes = 0;
	job->auth_tag_output = icv;
	return run_job(mgr, job);
}

int crypto_sym_icv_verify(const struct crypto_sym *s, const uint8_t *data, size_t len,
                          const uint8_t *icv)
{
	uint8_t calc[ICV_MAX];
	int rc;

	rc = crypto_sym_icv(s, data, len, calc);
	if (rc == 0 && sodium_memcmp(calc, icv, s->integ->icv_len) != 0)
		rc = -EBADMSG;
	sodium_memzero(calc, sizeof(calc));
	return rc;
}

static int aead_oneshot(const struct crypto_sym *s, IMB_CIPHER_DIRECTION dir, const uint8_t iv[8],
                        const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *out,
                        size_t len, uint8_t *tag)
{
	uint8_t nonce[12];
	IMB_MGR *mgr;
	IMB_JOB *job;
	int rc;

	if (s->encr == NULL || !s->encr->aead)
		return -EINVAL;
	job = start_job(&mgr);
	if (job == NULL)
		return -EINVAL;
	/* RFC 4106 4 / RFC 7634 2: the 12-byte nonce is salt || explicit IV. */
	memcpy(nonce, s->salt, 4);
	memcpy(nonce + 4, iv, 8);
	crypto_sym_job_prepare(s, job, dir);
	job->src = len ? in : empty_buf;
	job->dst = len ? out : (uint8_t *)empty_buf;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = len;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = len;
	job->iv = nonce;
	job->iv_len_in_bytes = sizeof(nonce);
	job->auth_tag_output = tag;
	if (s->imb_cipher == IMB_CIPHER_GCM) {
		job->u.GCM.aad = aad_len ? aad : empty_buf;
		job->u.GCM.aad_len_in_bytes = aad_len;
		job->u.GCM.ctx = NULL;
	} else {
		job->u.CHACHA20_POLY1305.aad = aad_len ? aad : empty_buf;
		job->u.CHACHA20_POLY1305.aad_len_in_bytes = aad_len;
		job->u.CHACHA20_POLY1305.ctx = NULL;
	}
	rc = run_job(mgr, job);
	sodium_memzero(nonce, sizeof(nonce));
	return rc;
}

int crypto_sym_seal(const struct crypto_sym *s, const uint8_t iv[8], const uint8_t *aad,
                    size_t aad_len, const uint8_t *in, uint8_t *out, size_t len, uint8_t *tag)
{
	return aead_oneshot(s, IMB_DIR_ENCRYPT, iv, aad, aad_len, in, out, len, tag);
}

int crypto_sym_open(const struct crypto_sym *s, const uint8_t iv[8], const uint8_t *aad,
                    size_t aad_len, const uint8_t *in, uint8_t *out, size_t len, const uint8_t *tag)
{
	uint8_t calc[ICV_MAX];
	int rc;

	rc = aead_oneshot(s, IMB_DIR_DECRYPT, iv, aad, aad_len, in, out, len, calc);
	if (rc == 0 && sodium_memcmp(calc, tag, s->encr->icv_len) != 0)
		rc = -EBADMSG;
	/* Never hand out plaintext that failed authentication. */
	if (rc != 0 && len)
		sodium_memzero(out, len);
	sodium_memzero(calc, sizeof(calc));
	return rc;
}
