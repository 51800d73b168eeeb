/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Symmetric crypto through Intel IPsec-MB, called directly.
 *
 * A struct crypto_sym holds the expanded keys of one direction of one SA
 * (ESP SA or IKE SA): cipher key schedules, GCM key data, precomputed HMAC
 * inner/outer states. It is key material: the owner keeps it in locked
 * memory and calls crypto_sym_wipe() before freeing it.
 *
 * Two ways to use it:
 *  - the ESP data path fills IPsec-MB jobs itself: crypto_sym_job_prepare()
 *    writes the per-SA fields of a job (modes, key pointers, sizes) once,
 *    the caller sets the per-packet fields (buffers, lengths, IV, AAD, tag);
 *  - the cold path (IKE SK payloads, tests) calls the one-shot functions
 *    below, which run a job synchronously on this thread's manager.
 */
#ifndef VPNGW_CRYPTO_SYM_H
#define VPNGW_CRYPTO_SYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <intel-ipsec-mb.h>

#include "compiler.h"
#include "crypto_alg.h"

/*
 * This thread's IPsec-MB manager, allocated and initialised for the best
 * architecture the CPU has on first use (one per thread: managers are not
 * thread safe). NULL only if allocation failed.
 */
IMB_MGR *crypto_imb(void);

/*
 * The manager for AES-CBC encryption of short packets: where the main one
 * runs AVX-512, whose multi-buffer CBC encrypt costs more per job than
 * the SSE code does (a 64-byte packet's 80 bytes: 60 against 44 cycles
 * here; the AVX-512 code wins from about 128 bytes on), a second manager
 * of this thread initialised for SSE; otherwise crypto_imb(). Only for
 * IPsec-MB's synchronous bursts, which leave no jobs in a manager. NULL
 * only if allocation failed.
 */
IMB_MGR *crypto_imb_short_cbc(void);

/* Name of the arch this thread's manager runs ("avx512", "avx2", "avx", "sse"). */
const char *crypto_imb_arch_name(void);
/* Name of an IMB_ARCH value (for managers made elsewhere, e.g. a benchmark's). */
const char *crypto_imb_arch_str(uint32_t arch);

struct crypto_sym {
	/* Expanded keys first: IPsec-MB wants them 16- (GCM: 64-) aligned. */
	union {
		struct {
			alignas(16) uint32_t enc[4 * 15];
			alignas(16) uint32_t dec[4 * 15];
		} aes;
		alignas(64) struct gcm_key_data gcm;
		struct {
			uint64_t ks[3][16];
			const void *ks_ptr[3]; /* 3DES takes an array of 3 schedules */
		} des;
		alignas(16) uint8_t chacha[32];
	} k;
	/* HMAC: the hash states after one block of key^ipad / key^opad. */
	alignas(16) uint8_t hmac_ipad[64];
	alignas(16) uint8_t hmac_opad[64];
	const struct crypto_alg *encr;  /* never NULL after init */
	const struct crypto_alg *integ; /* INTEG_NONE row for AEAD / null */
	uint8_t salt[4];                /* AEAD: nonce = salt || 8-byte IV */
	uint8_t cipher_key_len;         /* bytes, salt excluded */
	IMB_CIPHER_MODE imb_cipher;
	IMB_HASH_ALG imb_hash;
	IMB_KEY_SIZE_BYTES imb_key_size;
};

/*
 * Expand the keys. enc_key_len must be crypto_alg(encr)->key_len (AEAD:
 * key then salt), auth_key_len crypto_alg(integ)->key_len; AEAD ciphers
 * take integ = CRYPTO_INTEG_NONE. Returns 0, or -EINVAL for a wrong kind,
 * length or combination (s is then wiped).
 */
int crypto_sym_init(struct crypto_sym *s, enum crypto_alg_id encr, const uint8_t *enc_key,
                    size_t enc_key_len, enum crypto_alg_id integ, const uint8_t *auth_key,
                    size_t auth_key_len);

/* Wipe every key byte (sodium_memzero). */
void crypto_sym_wipe(struct crypto_sym *s);

/*
 * Fill the per-SA fields of an IPsec-MB job for direction dir
 * (IMB_DIR_ENCRYPT: cipher then hash; IMB_DIR_DECRYPT: hash then cipher):
 * cipher_mode, cipher_direction, chain_order, key pointers, key length,
 * hash_alg, HMAC ipad/opad, auth tag length. The caller sets src, dst,
 * offsets, lengths, iv, iv_len_in_bytes, AAD and auth_tag_output.
 */
void crypto_sym_job_prepare(const struct crypto_sym *s, IMB_JOB *job, IMB_CIPHER_DIRECTION dir);

/*
 * One-shot cipher (CBC or NULL): len must be a multiple of the block size.
 * iv has encr->iv_len bytes. in and out may be the same buffer.
 * Returns 0 or -EINVAL.
 */
int crypto_sym_encrypt(const struct crypto_sym *s, const uint8_t *iv, const uint8_t *in,
                       uint8_t *out, size_t len);
int crypto_sym_decrypt(const struct crypto_sym *s, const uint8_t *iv, const uint8_t *in,
                       uint8_t *out, size_t len);

/* Integrity: icv gets integ->icv_len bytes of HMAC over data. */
int crypto_sym_icv(const struct crypto_sym *s, const uint8_t *data, size_t len, uint8_t *icv);
/* Constant-time check of an ICV; 0 if it matches, -EBADMSG if not. */
int crypto_sym_icv_verify(const struct crypto_sym *s, const uint8_t *data, size_t len,
                          const uint8_t *icv);

/*
 * AEAD (AES-GCM, ChaCha20-Poly1305): nonce = salt || iv (8 bytes), tag of
 * encr->icv_len bytes. Open returns 0, or -EBADMSG if the tag does not
 * verify (out is then wiped).
 */
int crypto_sym_seal(const struct crypto_sym *s, const uint8_t iv[8], const uint8_t *aad,
                    size_t aad_len, const uint8_t *in, uint8_t *out, size_t len, uint8_t *tag);
int crypto_sym_open(const struct crypto_sym *s, const uint8_t iv[8], const uint8_t *aad,
                    size_t aad_len, const uint8_t *in, uint8_t *out, size_t len,
                    const uint8_t *tag);

#endif
