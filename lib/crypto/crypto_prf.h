/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKE pseudo-random functions (HMAC-MD5/SHA1/SHA2-256/384/512 with keys of
 * any length), plain hashes, prf+ (RFC 7296 2.13) and the IKEv1 SKEYID
 * derivations for pre-shared keys (RFC 2409 5 and appendix B).
 *
 * The PRF argument is always a CRYPTO_PRF_* id.
 */
#ifndef VPNGW_CRYPTO_PRF_H
#define VPNGW_CRYPTO_PRF_H

#include <stddef.h>
#include <stdint.h>

#include "crypto_alg.h"

#define CRYPTO_PRF_MAX_OUT 64

/* A piece of a message to be hashed: PRF inputs are concatenations. */
struct crypto_iov {
	const void *p;
	size_t len;
};

/*
 * out gets crypto_alg(prf)->out_len bytes of HMAC(key, iov[0] | ... | iov[n-1]).
 * Keys longer than the hash block are hashed first (RFC 2104).
 * Returns 0 or -EINVAL.
 */
int crypto_prf_v(enum crypto_alg_id prf, const uint8_t *key, size_t key_len,
                 const struct crypto_iov *iov, unsigned n, uint8_t *out);
int crypto_prf(enum crypto_alg_id prf, const uint8_t *key, size_t key_len, const uint8_t *data,
               size_t len, uint8_t *out);

/*
 * The plain hash under a PRF (MD5, SHA-1, SHA-2) over iov: IKEv1 phase 1
 * IVs, NAT-D hashes. out gets out_len bytes. Returns 0 or -EINVAL.
 */
int crypto_hash_v(enum crypto_alg_id prf, const struct crypto_iov *iov, unsigned n, uint8_t *out);

/*
 * prf+ (RFC 7296 2.13): T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n);
 * out gets out_len bytes of T1 | T2 | ... Returns -EINVAL if out_len
 * exceeds 255 * prf output length.
 */
int crypto_prf_plus(enum crypto_alg_id prf, const uint8_t *key, size_t key_len, const uint8_t *seed,
                    size_t seed_len, uint8_t *out, size_t out_len);

/* IKEv1 keying material for one ISAKMP SA (RFC 2409 5). */
struct crypto_ikev1_keys {
	uint8_t skeyid[CRYPTO_PRF_MAX_OUT];
	uint8_t skeyid_d[CRYPTO_PRF_MAX_OUT];
	uint8_t skeyid_a[CRYPTO_PRF_MAX_OUT];
	uint8_t skeyid_e[CRYPTO_PRF_MAX_OUT];
	size_t len; /* prf output length */
};

/*
 * Pre-shared key authentication:
 *   SKEYID   = prf(psk, Ni_b | Nr_b)
 *   SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
 *   SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
 *   SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
 * Returns 0 or -EINVAL. The caller wipes *k when done.
 */
int crypto_ikev1_skeyid_psk(enum crypto_alg_id prf, const uint8_t *psk, size_t psk_len,
                            const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
                            const uint8_t *gxy, size_t gxy_len, const uint8_t cky_i[8],
                            const uint8_t cky_r[8], struct crypto_ikev1_keys *k);

/*
 * The ISAKMP SA encryption key from SKEYID_e (RFC 2409 appendix B): its
 * first key_len bytes if long enough, else K1 | K2 | ... with
 * K1 = prf(SKEYID_e, 0), Kn = prf(SKEYID_e, Kn-1). Returns 0 or -EINVAL.
 */
int crypto_ikev1_enc_key(enum crypto_alg_id prf, const struct crypto_ikev1_keys *k, uint8_t *key,
                         size_t key_len);

#endif
