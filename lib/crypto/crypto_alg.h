/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The crypto catalogue: one row per transform vpngw supports, keyed by the
 * IANA IKEv2 transform ids and carrying the IKEv1 ids, the config names of
 * DESIGN.md, the sizes ESP and IKE need and the library that implements it.
 *
 * IKEv1 columns:
 *   ikev1_ike: ISAKMP phase 1 attribute value (RFC 2409 appendix A):
 *              Encryption Algorithm (class 1) for ENCR rows, Hash Algorithm
 *              (class 2) for PRF rows, Group Description (class 4) for DH.
 *   ikev1_esp: IPsec DOI value (RFC 2407 4.4.4 and 4.5): ESP transform id
 *              for ENCR rows, Authentication Algorithm attribute for INTEG
 *              rows, Group Description for DH rows.
 * 0 in an id column means "not defined for that protocol".
 */
#ifndef VPNGW_CRYPTO_ALG_H
#define VPNGW_CRYPTO_ALG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum crypto_kind {
	CRYPTO_ENCR,  /* IKEv2 transform type 1 */
	CRYPTO_PRF,   /* type 2 */
	CRYPTO_INTEG, /* type 3 */
	CRYPTO_DH,    /* type 4 */
};

enum crypto_backend {
	CRYPTO_BACKEND_NONE,    /* NULL encryption / no integrity */
	CRYPTO_BACKEND_IPSECMB, /* Intel IPsec-MB, called directly */
	CRYPTO_BACKEND_OPENSSL, /* OpenSSL libcrypto EVP (MODP, ECP) */
	CRYPTO_BACKEND_SODIUM,  /* libsodium (X25519) */
};

/*
 * X(id, kind, name, ikev2_id, ikev2_key_bits, ikev1_ike, ikev1_esp,
 *   key_len, salt_len, iv_len, icv_len, block_len, out_len, backend)
 *
 * key_len:   bytes of keying material, salt included (RFC 4106/7634 take
 *            the salt from the end of the key), preferred key size for PRFs.
 * block_len: cipher block (ESP pads to max(block_len, 4)); hash block for
 *            INTEG/PRF rows.
 * icv_len:   ESP ICV (truncated HMAC or AEAD tag).
 * out_len:   full PRF/hash output; DH public value length in IKE encoding.
 */
#define CRYPTO_ALGS(X)                                                                            \
	X(ENCR_NULL, CRYPTO_ENCR, "null", 11, 0, 0, 11, 0, 0, 0, 0, 1, 0, NONE)                   \
	X(ENCR_DES_CBC, CRYPTO_ENCR, "des", 2, 0, 1, 2, 8, 0, 8, 0, 8, 0, IPSECMB)                \
	X(ENCR_3DES_CBC, CRYPTO_ENCR, "3des", 3, 0, 5, 3, 24, 0, 8, 0, 8, 0, IPSECMB)             \
	X(ENCR_AES128_CBC, CRYPTO_ENCR, "aes", 12, 128, 7, 12, 16, 0, 16, 0, 16, 0, IPSECMB)      \
	X(ENCR_AES192_CBC, CRYPTO_ENCR, "aes192", 12, 192, 7, 12, 24, 0, 16, 0, 16, 0, IPSECMB)   \
	X(ENCR_AES256_CBC, CRYPTO_ENCR, "aes256", 12, 256, 7, 12, 32, 0, 16, 0, 16, 0, IPSECMB)   \
	X(ENCR_AES128_GCM16, CRYPTO_ENCR, "aes-gcm-128", 20, 128, 0, 20, 20, 4, 8, 16, 1, 0,      \
	  IPSECMB)                                                                                \
	X(ENCR_AES192_GCM16, CRYPTO_ENCR, "aes-gcm-192", 20, 192, 0, 20, 28, 4, 8, 16, 1, 0,      \
	  IPSECMB)                                                                                \
	X(ENCR_AES256_GCM16, CRYPTO_ENCR, "aes-gcm-256", 20, 256, 0, 20, 36, 4, 8, 16, 1, 0,      \
	  IPSECMB)                                                                                \
	X(ENCR_CHACHA20_POLY1305, CRYPTO_ENCR, "chacha20-poly1305", 28, 0, 0, 0, 36, 4, 8, 16, 1, \
	  0, IPSECMB)                                                                             \
	X(INTEG_NONE, CRYPTO_INTEG, "none", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NONE)                   \
	X(INTEG_HMAC_MD5_96, CRYPTO_INTEG, "md5", 1, 0, 0, 1, 16, 0, 0, 12, 64, 16, IPSECMB)      \
	X(INTEG_HMAC_SHA1_96, CRYPTO_INTEG, "sha1", 2, 0, 0, 2, 20, 0, 0, 12, 64, 20, IPSECMB)    \
	X(INTEG_HMAC_SHA256_128, CRYPTO_INTEG, "sha256", 12, 0, 0, 5, 32, 0, 0, 16, 64, 32,       \
	  IPSECMB)                                                                                \
	X(INTEG_HMAC_SHA384_192, CRYPTO_INTEG, "sha384", 13, 0, 0, 6, 48, 0, 0, 24, 128, 48,      \
	  IPSECMB)                                                                                \
	X(INTEG_HMAC_SHA512_256, CRYPTO_INTEG, "sha512", 14, 0, 0, 7, 64, 0, 0, 32, 128, 64,      \
	  IPSECMB)                                                                                \
	X(PRF_HMAC_MD5, CRYPTO_PRF, "md5", 1, 0, 1, 0, 16, 0, 0, 0, 64, 16, IPSECMB)              \
	X(PRF_HMAC_SHA1, CRYPTO_PRF, "sha1", 2, 0, 2, 0, 20, 0, 0, 0, 64, 20, IPSECMB)            \
	X(PRF_HMAC_SHA256, CRYPTO_PRF, "sha256", 5, 0, 4, 0, 32, 0, 0, 0, 64, 32, IPSECMB)        \
	X(PRF_HMAC_SHA384, CRYPTO_PRF, "sha384", 6, 0, 5, 0, 48, 0, 0, 0, 128, 48, IPSECMB)       \
	X(PRF_HMAC_SHA512, CRYPTO_PRF, "sha512", 7, 0, 6, 0, 64, 0, 0, 0, 128, 64, IPSECMB)       \
	X(DH_MODP768, CRYPTO_DH, "group1", 1, 0, 1, 1, 0, 0, 0, 0, 0, 96, OPENSSL)                \
	X(DH_MODP1024, CRYPTO_DH, "group2", 2, 0, 2, 2, 0, 0, 0, 0, 0, 128, OPENSSL)              \
	X(DH_MODP1536, CRYPTO_DH, "group5", 5, 0, 5, 5, 0, 0, 0, 0, 0, 192, OPENSSL)              \
	X(DH_MODP2048, CRYPTO_DH, "group14", 14, 0, 14, 14, 0, 0, 0, 0, 0, 256, OPENSSL)          \
	X(DH_MODP3072, CRYPTO_DH, "group15", 15, 0, 15, 15, 0, 0, 0, 0, 0, 384, OPENSSL)          \
	X(DH_MODP4096, CRYPTO_DH, "group16", 16, 0, 16, 16, 0, 0, 0, 0, 0, 512, OPENSSL)          \
	X(DH_ECP256, CRYPTO_DH, "group19", 19, 0, 19, 19, 0, 0, 0, 0, 0, 64, OPENSSL)             \
	X(DH_ECP384, CRYPTO_DH, "group20", 20, 0, 20, 20, 0, 0, 0, 0, 0, 96, OPENSSL)             \
	X(DH_ECP521, CRYPTO_DH, "group21", 21, 0, 21, 21, 0, 0, 0, 0, 0, 132, OPENSSL)            \
	X(DH_CURVE25519, CRYPTO_DH, "group31", 31, 0, 31, 31, 0, 0, 0, 0, 0, 32, SODIUM)

enum crypto_alg_id {
#define CRYPTO_ALG_ENUM(id, ...) CRYPTO_##id,
	CRYPTO_ALGS(CRYPTO_ALG_ENUM)
#undef CRYPTO_ALG_ENUM
	        CRYPTO_ALG_COUNT
};

struct crypto_alg {
	enum crypto_alg_id id;
	enum crypto_kind kind;
	const char *name; /* config name (DESIGN.md) */
	uint16_t ikev2_id;
	uint16_t ikev2_key_bits; /* Key Length attribute value, 0: none sent */
	uint16_t ikev1_ike;
	uint16_t ikev1_esp;
	uint8_t key_len;
	uint8_t salt_len;
	uint8_t iv_len;
	uint8_t icv_len;
	uint8_t block_len;
	uint16_t out_len;
	enum crypto_backend backend;
	bool aead; /* ENCR rows that need no INTEG transform */
};

/* The row for an id; never NULL for id < CRYPTO_ALG_COUNT. */
const struct crypto_alg *crypto_alg(enum crypto_alg_id id);

/* By config name within a kind ("aes", "sha256", "group14"); NULL if none. */
const struct crypto_alg *crypto_alg_by_name(enum crypto_kind kind, const char *name);

/* By IKEv2 transform type and id; key_bits from the Key Length attribute (0 if absent). */
const struct crypto_alg *crypto_alg_by_ikev2(enum crypto_kind kind, uint16_t id, uint16_t key_bits);

/* By IKEv1 ISAKMP phase 1 attribute value (ENCR, PRF=hash, DH). */
const struct crypto_alg *crypto_alg_by_ikev1_ike(enum crypto_kind kind, uint16_t value,
                                                 uint16_t key_bits);

/* By IPsec DOI value (ENCR=ESP transform id, INTEG=auth algorithm, DH). */
const struct crypto_alg *crypto_alg_by_ikev1_esp(enum crypto_kind kind, uint16_t value,
                                                 uint16_t key_bits);

/* "encryption", "integrity", "prf", "dh_group": for messages to operators. */
const char *crypto_kind_name(enum crypto_kind kind);

/*
 * The allowed config names of a kind, comma separated ("aes, aes192, ..."),
 * for error messages that list the allowed values. Truncated to fit cap.
 */
void crypto_kind_allowed(enum crypto_kind kind, char *buf, size_t cap);

#endif
