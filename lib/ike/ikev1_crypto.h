/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv1 message protection and key derivation (RFC 2409 5, 5.5, appendix
 * B): the phase 1 IV from the DH public values, per-message-id IVs for
 * quick mode and informational exchanges, CBC chaining (the IV of the next
 * message is the last cipher block of the previous one), RFC 2409 padding,
 * the phase 1 authentication hashes and KEYMAT for IPsec SAs. Built on
 * lib/crypto only; nothing here is a cipher or hash of its own.
 */
#ifndef VPNGW_IKEV1_CRYPTO_H
#define VPNGW_IKEV1_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "crypto_alg.h"
#include "crypto_prf.h"
#include "crypto_sym.h"

enum {
	V1_BLOCK_MAX = 16,
};

/* Phase 1 IV: the first block_len bytes of hash(g^xi | g^xr). */
int v1_iv_phase1(enum crypto_alg_id prf, const uint8_t *gxi, size_t gxi_len, const uint8_t *gxr,
                 size_t gxr_len, size_t block_len, uint8_t *iv);

/* Quick mode / informational IV: the first block_len bytes of hash(p1_iv | M-ID). */
int v1_iv_msgid(enum crypto_alg_id prf, const uint8_t *p1_iv, size_t block_len, uint32_t msgid,
                uint8_t *iv);

/*
 * Pads buf[0..plain_len) per RFC 2409 (zeros, the last byte the count of
 * the others; always at least one byte) to a multiple of the block and
 * encrypts it in place with iv. iv is then the last cipher block (the
 * next message's IV). *out_len is the cipher length. Returns 0 or -1 if
 * cap is too small.
 */
int v1_encrypt(const struct crypto_sym *s, uint8_t *iv, uint8_t *buf, size_t plain_len, size_t cap,
               size_t *out_len);

/*
 * Decrypts len bytes (a multiple of the block, else -1) from in to out
 * with iv; next_iv gets the last cipher block.
 */
int v1_decrypt(const struct crypto_sym *s, const uint8_t *iv, const uint8_t *in, uint8_t *out,
               size_t len, uint8_t *next_iv);

/*
 * HASH_I / HASH_R for pre-shared keys:
 *   HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)
 *   HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)
 * The caller passes the values in the order of the hash it wants.
 */
int v1_hash_auth(enum crypto_alg_id prf, const uint8_t *skeyid, size_t skeyid_len,
                 const uint8_t *gx_a, const uint8_t *gx_b, size_t gx_len, const uint8_t cky_a[8],
                 const uint8_t cky_b[8], const uint8_t *sai_b, size_t sai_len, const uint8_t *id_b,
                 size_t id_len, uint8_t *out);

/*
 * KEYMAT for one direction of an IPsec SA (RFC 2409 5.5):
 *   K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
 *   Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
 * out gets out_len bytes of K1 | K2 | ...; gqm NULL without PFS. spi in
 * network order as on the wire.
 */
int v1_keymat(enum crypto_alg_id prf, const uint8_t *skeyid_d, size_t skeyid_len,
              const uint8_t *gqm, size_t gqm_len, uint8_t proto, const uint8_t spi[4],
              const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len, uint8_t *out,
              size_t out_len);

#endif
