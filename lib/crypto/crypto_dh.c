/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Diffie-Hellman for IKE. MODP and ECP groups go through OpenSSL 3 EVP
 * (the MODP primes come from OpenSSL's RFC 2409/3526 constants, generator
 * 2); Curve25519 through libsodium. Public values and shared secrets are
 * kept in IKE's encoding (crypto_dh.h). Peer values are validated here,
 * explicitly, before OpenSSL sees them.
 */
#include "crypto_dh.h"

#include <errno.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <sodium.h>

#include "compiler.h"
#include "crypto_mem.h"
#include "crypto_rand.h"

#define X25519_LEN   32
#define EC_MAX_FIELD 66 /* P-521 */

enum dh_type { DH_MODP, DH_ECP, DH_X25519 };

struct dh_group {
	enum dh_type type;
	BIGNUM *(*prime)(BIGNUM *); /* MODP */
	const char *curve;          /* ECP: OpenSSL group name */
	int curve_nid;
	unsigned field_len; /* ECP: bytes per coordinate */
};

struct crypto_dh {
	enum crypto_alg_id group;
	const struct dh_group *g;
	EVP_PKEY *pkey;             /* MODP, ECP */
	uint8_t x25519[X25519_LEN]; /* X25519 private scalar */
	size_t pub_len;
	uint8_t pub[CRYPTO_DH_MAX_PUBLIC];
};

static const struct dh_group *dh_group(enum crypto_alg_id id)
{
	static const struct dh_group modp768 = { DH_MODP, BN_get_rfc2409_prime_768, NULL, 0, 0 };
	static const struct dh_group modp1024 = { DH_MODP, BN_get_rfc2409_prime_1024, NULL, 0, 0 };
	static const struct dh_group modp1536 = { DH_MODP, BN_get_rfc3526_prime_1536, NULL, 0, 0 };
	static const struct dh_group modp2048 = { DH_MODP, BN_get_rfc3526_prime_2048, NULL, 0, 0 };
	static const struct dh_group modp3072 = { DH_MODP, BN_get_rfc3526_prime_3072, NULL, 0, 0 };
	static const struct dh_group modp4096 = { DH_MODP, BN_get_rfc3526_prime_4096, NULL, 0, 0 };
	static const struct dh_group ecp256 = { DH_ECP, NULL, "prime256v1", NID_X9_62_prime256v1,
		                                32 };
	static const struct dh_group ecp384 = { DH_ECP, NULL, "secp384r1", NID_secp384r1, 48 };
	static const struct dh_group ecp521 = { DH_ECP, NULL, "secp521r1", NID_secp521r1, 66 };
	static const struct dh_group x25519 = { DH_X25519, NULL, NULL, 0, 0 };

	switch (id) {
	case CRYPTO_DH_MODP768:
		return &modp768;
	case CRYPTO_DH_MODP1024:
		return &modp1024;
	case CRYPTO_DH_MODP1536:
		return &modp1536;
	case CRYPTO_DH_MODP2048:
		return &modp2048;
	case CRYPTO_DH_MODP3072:
		return &modp3072;
	case CRYPTO_DH_MODP4096:
		return &modp4096;
	case CRYPTO_DH_ECP256:
		return &ecp256;
	case CRYPTO_DH_ECP384:
		return &ecp384;
	case CRYPTO_DH_ECP521:
		return &ecp521;
	case CRYPTO_DH_CURVE25519:
		return &x25519;
	default:
		return NULL;
	}
}

static struct crypto_dh *dh_alloc(enum crypto_alg_id id)
{
	const struct dh_group *g = dh_group(id);
	struct crypto_dh *dh;

	if (g == NULL)
		return NULL;
	/* Locked memory: the X25519 scalar lives in the struct. */
	dh = crypto_key_alloc(sizeof(*dh));
	if (dh == NULL)
		return NULL;
	dh->group = id;
	dh->g = g;
	dh->pub_len = crypto_alg(id)->out_len;
	return dh;
}

void crypto_dh_free(struct crypto_dh *dh)
{
	if (dh == NULL)
		return;
	/* EVP_PKEY_free clears the private BIGNUMs; the struct is wiped by sodium_free. */
	EVP_PKEY_free(dh->pkey);
	crypto_key_free(dh);
}

enum crypto_alg_id crypto_dh_group(const struct crypto_dh *dh)
{
	return dh->group;
}

/*
 * Builds an EVP key of type ("DH" or "EC") from the parameters pushed on
 * bld, and frees bld. A private value pushed as a secure BIGNUM has its
 * copy in the parameters cleansed when they are freed.
 */
static EVP_PKEY *pkey_from_params(OSSL_PARAM_BLD *bld, const char *type, int selection)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, selection, params) != 1)
		pkey = NULL;
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* ---- MODP ---- */

/* An EVP "DH" key from p, g = 2 and the optional private/public values. */
static EVP_PKEY *modp_pkey(const BIGNUM *p, const BIGNUM *priv, const BIGNUM *pub, int selection)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pkey = NULL;
	BIGNUM *g = BN_new();

	if (bld == NULL || g == NULL || !BN_set_word(g, 2) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, p) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, g) ||
	    (priv != NULL && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv)) ||
	    (pub != NULL && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, pub)))
		OSSL_PARAM_BLD_free(bld);
	else
		pkey = pkey_from_params(bld, "DH", selection);
	BN_free(g);
	return pkey;
}

static int modp_store_public(struct crypto_dh *dh)
{
	BIGNUM *pub = NULL;
	int rc = -EINVAL;

	if (EVP_PKEY_get_bn_param(dh->pkey, OSSL_PKEY_PARAM_PUB_KEY, &pub) == 1 &&
	    BN_bn2binpad(pub, dh->pub, (int)dh->pub_len) == (int)dh->pub_len)
		rc = 0;
	BN_free(pub);
	return rc;
}

static int modp_generate(struct crypto_dh *dh)
{
	BIGNUM *p = dh->g->prime(NULL);
	EVP_PKEY *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int rc = -EINVAL;

	if (p == NULL)
		return -ENOMEM;
	params = modp_pkey(p, NULL, NULL, EVP_PKEY_KEY_PARAMETERS);
	if (params == NULL)
		goto out;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL);
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &dh->pkey) != 1)
		goto out;
	rc = modp_store_public(dh);
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(params);
	BN_free(p);
	return rc;
}

static int modp_from_private(struct crypto_dh *dh, const uint8_t *priv, size_t priv_len)
{
	BIGNUM *p = dh->g->prime(NULL);
	BIGNUM *x = BN_secure_new();
	BIGNUM *y = BN_new();
	BIGNUM *g = BN_new();
	BN_CTX *bctx = BN_CTX_new();
	int rc = -EINVAL;

	if (p == NULL || x == NULL || y == NULL || g == NULL || bctx == NULL || !BN_set_word(g, 2))
		goto out;
	if (priv_len > dh->pub_len || BN_bin2bn(priv, (int)priv_len, x) == NULL)
		goto out;
	/* 1 < x < p */
	if (BN_cmp(x, BN_value_one()) <= 0 || BN_cmp(x, p) >= 0)
		goto out;
	BN_set_flags(x, BN_FLG_CONSTTIME);
	if (!BN_mod_exp(y, g, x, p, bctx))
		goto out;
	dh->pkey = modp_pkey(p, x, y, EVP_PKEY_KEYPAIR);
	if (dh->pkey != NULL)
		rc = modp_store_public(dh);
out:
	BN_CTX_free(bctx);
	BN_free(g);
	BN_free(y);
	BN_clear_free(x);
	BN_free(p);
	return rc;
}

/* The peer's y must be 1 < y < p - 1 (RFC 7296 / SP 800-56A 5.6.2.3.1). */
static int modp_peer(const struct crypto_dh *dh, const uint8_t *peer, size_t len, EVP_PKEY **out)
{
	BIGNUM *p = dh->g->prime(NULL);
	BIGNUM *y = BN_bin2bn(peer, (int)len, NULL);
	BIGNUM *pm1 = BN_new();
	int rc = -ENOMEM;

	if (p == NULL || y == NULL || pm1 == NULL || BN_copy(pm1, p) == NULL ||
	    !BN_sub_word(pm1, 1))
		goto out;
	rc = -EBADMSG;
	if (BN_cmp(y, BN_value_one()) <= 0 || BN_cmp(y, pm1) >= 0)
		goto out;
	*out = modp_pkey(p, NULL, y, EVP_PKEY_PUBLIC_KEY);
	if (*out != NULL)
		rc = 0;
out:
	BN_free(pm1);
	BN_free(y);
	BN_free(p);
	return rc;
}

/* ---- ECP ---- */

/* x | y from OpenSSL's uncompressed encoding 0x04 | x | y. */
static int ecp_store_public(struct crypto_dh *dh)
{
	uint8_t enc[1 + 2 * EC_MAX_FIELD];
	size_t len = 0;

	if (EVP_PKEY_get_octet_string_param(dh->pkey, OSSL_PKEY_PARAM_PUB_KEY, enc, sizeof(enc),
	                                    &len) != 1 ||
	    len != 1 + dh->pub_len || enc[0] != POINT_CONVERSION_UNCOMPRESSED)
		return -EINVAL;
	memcpy(dh->pub, enc + 1, dh->pub_len);
	return 0;
}

static EVP_PKEY *ecp_pkey(const struct dh_group *g, const BIGNUM *priv, const uint8_t *pub_enc,
                          size_t pub_enc_len, int selection)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();

	if (bld == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, g->curve, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub_enc, pub_enc_len) ||
	    (priv != NULL && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv))) {
		OSSL_PARAM_BLD_free(bld);
		return NULL;
	}
	return pkey_from_params(bld, "EC", selection);
}

static int ecp_generate(struct crypto_dh *dh)
{
	dh->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", dh->g->curve);
	if (dh->pkey == NULL)
		return -EINVAL;
	return ecp_store_public(dh);
}

static int ecp_from_private(struct crypto_dh *dh, const uint8_t *priv, size_t priv_len)
{
	EC_GROUP *grp = EC_GROUP_new_by_curve_name(dh->g->curve_nid);
	BIGNUM *d = BN_secure_new();
	EC_POINT *q = NULL;
	uint8_t enc[1 + 2 * EC_MAX_FIELD];
	int rc = -EINVAL;

	if (grp == NULL || d == NULL || priv_len > dh->g->field_len ||
	    BN_bin2bn(priv, (int)priv_len, d) == NULL)
		goto out;
	/* 0 < d < n */
	if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(grp)) >= 0)
		goto out;
	q = EC_POINT_new(grp);
	if (q == NULL || !EC_POINT_mul(grp, q, d, NULL, NULL, NULL) ||
	    EC_POINT_point2oct(grp, q, POINT_CONVERSION_UNCOMPRESSED, enc, sizeof(enc), NULL) !=
	            1 + dh->pub_len)
		goto out;
	dh->pkey = ecp_pkey(dh->g, d, enc, 1 + dh->pub_len, EVP_PKEY_KEYPAIR);
	if (dh->pkey != NULL)
		rc = ecp_store_public(dh);
out:
	EC_POINT_free(q);
	BN_clear_free(d);
	EC_GROUP_free(grp);
	return rc;
}

/* The peer's point: x | y, on the curve (OpenSSL's import checks it, then we check again). */
static int ecp_peer(const struct crypto_dh *dh, const uint8_t *peer, size_t len, EVP_PKEY **out)
{
	uint8_t enc[1 + 2 * EC_MAX_FIELD];
	EVP_PKEY_CTX *ctx = NULL;
	int rc = -EBADMSG;

	enc[0] = POINT_CONVERSION_UNCOMPRESSED;
	memcpy(enc + 1, peer, len);
	*out = ecp_pkey(dh->g, NULL, enc, 1 + len, EVP_PKEY_PUBLIC_KEY);
	if (*out == NULL)
		return -EBADMSG;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL);
	if (ctx != NULL && EVP_PKEY_public_check(ctx) == 1)
		rc = 0;
	EVP_PKEY_CTX_free(ctx);
	if (rc != 0) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	return rc;
}

/* ---- shared ---- */

/* A key pair of the group: a random private key when generate, else priv. */
static struct crypto_dh *dh_new(enum crypto_alg_id group, bool generate, const uint8_t *priv,
                                size_t priv_len)
{
	struct crypto_dh *dh = dh_alloc(group);
	int rc = -EINVAL;

	if (dh == NULL)
		return NULL;
	switch (dh->g->type) {
	case DH_MODP:
		rc = generate ? modp_generate(dh) : modp_from_private(dh, priv, priv_len);
		break;
	case DH_ECP:
		rc = generate ? ecp_generate(dh) : ecp_from_private(dh, priv, priv_len);
		break;
	case DH_X25519:
		if (generate)
			crypto_random(dh->x25519, sizeof(dh->x25519));
		else if (priv_len == X25519_LEN)
			memcpy(dh->x25519, priv, X25519_LEN);
		else
			break;
		rc = crypto_scalarmult_curve25519_base(dh->pub, dh->x25519) == 0 ? 0 : -EINVAL;
		break;
	}
	if (rc != 0) {
		crypto_dh_free(dh);
		return NULL;
	}
	return dh;
}

struct crypto_dh *crypto_dh_new(enum crypto_alg_id group)
{
	return dh_new(group, true, NULL, 0);
}

struct crypto_dh *crypto_dh_new_private(enum crypto_alg_id group, const uint8_t *priv,
                                        size_t priv_len)
{
	return dh_new(group, false, priv, priv_len);
}

int crypto_dh_public(const struct crypto_dh *dh, uint8_t *out, size_t cap)
{
	if (cap < dh->pub_len)
		return -EINVAL;
	memcpy(out, dh->pub, dh->pub_len);
	return (int)dh->pub_len;
}

/* Length of the shared secret in IKE's encoding. */
static size_t secret_len(const struct crypto_dh *dh)
{
	switch (dh->g->type) {
	case DH_MODP:
		return dh->pub_len;
	case DH_ECP:
		return dh->g->field_len;
	case DH_X25519:
		break;
	}
	return X25519_LEN;
}

static int evp_derive(struct crypto_dh *dh, EVP_PKEY *peer, uint8_t *secret, size_t want)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, dh->pkey, NULL);
	size_t len = want;
	int rc = -EINVAL;

	if (ctx == NULL || EVP_PKEY_derive_init(ctx) != 1)
		goto out;
	/* MODP: left-pad to the prime's length, as IKE wants g^ir (RFC 7296 2.14). */
	if (dh->g->type == DH_MODP && EVP_PKEY_CTX_set_dh_pad(ctx, 1) != 1)
		goto out;
	if (EVP_PKEY_derive_set_peer(ctx, peer) != 1) {
		/* OpenSSL's own public-key check refused the peer. */
		rc = -EBADMSG;
		goto out;
	}
	if (EVP_PKEY_derive(ctx, secret, &len) != 1 || len != want) {
		crypto_wipe(secret, want);
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

int crypto_dh_shared(struct crypto_dh *dh, const uint8_t *peer, size_t peer_len, uint8_t *secret,
                     size_t cap)
{
	size_t want = secret_len(dh);
	EVP_PKEY *peer_key = NULL;
	int rc = -EINVAL;

	if (peer_len != dh->pub_len || cap < want)
		return -EINVAL;
	switch (dh->g->type) {
	case DH_MODP:
		rc = modp_peer(dh, peer, peer_len, &peer_key);
		break;
	case DH_ECP:
		rc = ecp_peer(dh, peer, peer_len, &peer_key);
		break;
	case DH_X25519:
		/* libsodium refuses a result of all zeros (a low-order point). */
		if (crypto_scalarmult_curve25519(secret, dh->x25519, peer) != 0) {
			crypto_wipe(secret, want);
			return -EBADMSG;
		}
		return (int)want;
	}
	if (rc == 0)
		rc = evp_derive(dh, peer_key, secret, want);
	EVP_PKEY_free(peer_key);
	return rc == 0 ? (int)want : rc;
}
