/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Diffie-Hellman: RFC 5903 section 8 (ECP 19/20/21) and RFC 7748 6.1
 * (X25519) known answers, agreement in every group, MODP values checked
 * against OpenSSL BIGNUM arithmetic, and rejection of invalid peer values.
 */
#include "unit/testutil.h"

#include <errno.h>

#include <openssl/bn.h>

#include "compiler.h"
#include "crypto_dh.h"
#include "crypto_mem.h"

struct ecp_vector {
	enum crypto_alg_id group;
	const char *i, *gi, *r, *gr, *girx;
};

/* RFC 5903 sections 8.1, 8.2, 8.3: g^i = gix | giy, g^r = grx | gry, shared = girx. */
static const struct ecp_vector ecp_vectors[] = {
	{ CRYPTO_DH_ECP256, "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433",
	  "DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180"
	  "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3",
	  "C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53",
	  "D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"
	  "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB",
	  "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE" },
	{ CRYPTO_DH_ECP384,
	  "099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F160647B67414DCE655"
	  "E35B538041E649EE3FAEF896783AB194",
	  "667842D7D180AC2CDE6F74F37551F55755C7645C20EF73E31634FE72B4C55EE6"
	  "DE3AC808ACB4BDB4C88732AEE95F41AA"
	  "9482ED1FC0EEB9CAFC4984625CCFC23F65032149E0E144ADA024181535A0F38E"
	  "EB9FCFF3C2C947DAE69B4C634573A81C",
	  "41CB0779B4BDB85D47846725FBEC3C9430FAB46CC8DC5060855CC9BDA0AA2942"
	  "E0308312916B8ED2960E4BD55A7448FC",
	  "E558DBEF53EECDE3D3FCCFC1AEA08A89A987475D12FD950D83CFA41732BC509D"
	  "0D1AC43A0336DEF96FDA41D0774A3571"
	  "DCFBEC7AACF3196472169E838430367F66EEBE3C6E70C416DD5F0C68759DD1FF"
	  "F83FA40142209DFF5EAAD96DB9E6386C",
	  "11187331C279962D93D604243FD592CB9D0A926F422E47187521287E7156C5C4"
	  "D603135569B9E9D09CF5D4A270F59746" },
	{ CRYPTO_DH_ECP521,
	  "0037ADE9319A89F4DABDB3EF411AACCCA5123C61ACAB57B5393DCE47608172A0"
	  "95AA85A30FE1C2952C6771D937BA9777F5957B2639BAB072462F68C27A57382D"
	  "4A52",
	  "0015417E84DBF28C0AD3C278713349DC7DF153C897A1891BD98BAB4357C9ECBE"
	  "E1E3BF42E00B8E380AEAE57C2D107564941885942AF5A7F4601723C4195D176C"
	  "ED3E"
	  "017CAE20B6641D2EEB695786D8C946146239D099E18E1D5A514C739D7CB4A10A"
	  "D8A788015AC405D7799DC75E7B7D5B6CF2261A6A7F1507438BF01BEB6CA3926F"
	  "9582",
	  "0145BA99A847AF43793FDD0E872E7CDFA16BE30FDC780F97BCCC3F078380201E"
	  "9C677D600B343757A3BDBF2A3163E4C2F869CCA7458AA4A4EFFC311F5CB15168"
	  "5EB9",
	  "00D0B3975AC4B799F5BEA16D5E13E9AF971D5E9B984C9F39728B5E5739735A21"
	  "9B97C356436ADC6E95BB0352F6BE64A6C2912D4EF2D0433CED2B6171640012D9"
	  "460F"
	  "015C68226383956E3BD066E797B623C27CE0EAC2F551A10C2C724D9852077B87"
	  "220B6536C5C408A1D2AEBB8E86D678AE49CB57091F4732296579AB44FCD17F0F"
	  "C56A",
	  "01144C7D79AE6956BC8EDB8E7C787C4521CB086FA64407F97894E5E6B2D79B04"
	  "D1427E73CA4BAA240A34786859810C06B3C715A3A8CC3151F2BEE417996D19F3"
	  "DDEA" },
};

static const enum crypto_alg_id groups[] = {
	CRYPTO_DH_MODP768,  CRYPTO_DH_MODP1024,   CRYPTO_DH_MODP1536, CRYPTO_DH_MODP2048,
	CRYPTO_DH_MODP3072, CRYPTO_DH_MODP4096,   CRYPTO_DH_ECP256,   CRYPTO_DH_ECP384,
	CRYPTO_DH_ECP521,   CRYPTO_DH_CURVE25519,
};

static size_t expected_secret_len(enum crypto_alg_id g)
{
	switch (g) {
	case CRYPTO_DH_ECP256:
	case CRYPTO_DH_ECP384:
	case CRYPTO_DH_ECP521:
		return crypto_alg(g)->out_len / 2; /* the x coordinate */
	default:
		return crypto_alg(g)->out_len;
	}
}

static struct crypto_dh *from_hex(enum crypto_alg_id g, const char *hex)
{
	uint8_t priv[CRYPTO_DH_MAX_PUBLIC];
	size_t n = hex2bin(hex, priv, sizeof(priv));
	struct crypto_dh *dh = crypto_dh_new_private(g, priv, n);

	ck_assert_ptr_nonnull(dh);
	return dh;
}

START_TEST(ecp_rfc5903_known_answers)
{
	const struct ecp_vector *v = &ecp_vectors[_i];
	size_t plen = crypto_alg(v->group)->out_len, slen = plen / 2;
	uint8_t gi[CRYPTO_DH_MAX_PUBLIC], gr[CRYPTO_DH_MAX_PUBLIC], s[CRYPTO_DH_MAX_SECRET];

	ck_assert_int_eq(crypto_init(), 0);
	struct crypto_dh *i = from_hex(v->group, v->i);
	struct crypto_dh *r = from_hex(v->group, v->r);

	ck_assert_int_eq(crypto_dh_group(i), v->group);
	ck_assert_int_eq(crypto_dh_public(i, gi, sizeof(gi)), (int)plen);
	ck_assert_mem_eq_hex(gi, v->gi);
	ck_assert_int_eq(crypto_dh_public(r, gr, sizeof(gr)), (int)plen);
	ck_assert_mem_eq_hex(gr, v->gr);

	memset(s, 0, sizeof(s));
	ck_assert_int_eq(crypto_dh_shared(i, gr, plen, s, sizeof(s)), (int)slen);
	ck_assert_mem_eq_hex(s, v->girx);
	memset(s, 0, sizeof(s));
	ck_assert_int_eq(crypto_dh_shared(r, gi, plen, s, slen), (int)slen);
	ck_assert_mem_eq_hex(s, v->girx);
	crypto_dh_free(i);
	crypto_dh_free(r);
}
END_TEST

START_TEST(x25519_rfc7748_known_answer)
{
	static const char alice_priv[] =
	        "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
	static const char alice_pub[] =
	        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
	static const char bob_priv[] =
	        "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
	static const char bob_pub[] =
	        "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
	static const char shared[] =
	        "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
	uint8_t a_pub[32], b_pub[32], s[32];

	ck_assert_int_eq(crypto_init(), 0);
	struct crypto_dh *a = from_hex(CRYPTO_DH_CURVE25519, alice_priv);
	struct crypto_dh *b = from_hex(CRYPTO_DH_CURVE25519, bob_priv);

	ck_assert_int_eq(crypto_dh_public(a, a_pub, sizeof(a_pub)), 32);
	ck_assert_mem_eq_hex(a_pub, alice_pub);
	ck_assert_int_eq(crypto_dh_public(b, b_pub, sizeof(b_pub)), 32);
	ck_assert_mem_eq_hex(b_pub, bob_pub);
	memset(s, 0, sizeof(s));
	ck_assert_int_eq(crypto_dh_shared(a, b_pub, 32, s, sizeof(s)), 32);
	ck_assert_mem_eq_hex(s, shared);
	memset(s, 0, sizeof(s));
	ck_assert_int_eq(crypto_dh_shared(b, a_pub, 32, s, sizeof(s)), 32);
	ck_assert_mem_eq_hex(s, shared);
	crypto_dh_free(a);
	crypto_dh_free(b);
}
END_TEST

START_TEST(two_fresh_keys_agree_in_every_group)
{
	enum crypto_alg_id g = groups[_i];
	size_t plen = crypto_alg(g)->out_len, slen = expected_secret_len(g);
	uint8_t pa[CRYPTO_DH_MAX_PUBLIC], pb[CRYPTO_DH_MAX_PUBLIC];
	uint8_t sa[CRYPTO_DH_MAX_SECRET], sb[CRYPTO_DH_MAX_SECRET];

	ck_assert_int_eq(crypto_init(), 0);
	struct crypto_dh *a = crypto_dh_new(g);
	struct crypto_dh *b = crypto_dh_new(g);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(crypto_dh_group(a), g);
	ck_assert_int_eq(crypto_dh_public(a, pa, plen - 1), -EINVAL);
	ck_assert_int_eq(crypto_dh_public(a, pa, sizeof(pa)), (int)plen);
	ck_assert_int_eq(crypto_dh_public(b, pb, sizeof(pb)), (int)plen);
	ck_assert(memcmp(pa, pb, plen) != 0);

	ck_assert_int_eq(crypto_dh_shared(a, pb, plen, sa, slen - 1), -EINVAL);
	ck_assert_int_eq(crypto_dh_shared(a, pb, plen, sa, sizeof(sa)), (int)slen);
	ck_assert_int_eq(crypto_dh_shared(b, pa, plen, sb, sizeof(sb)), (int)slen);
	ck_assert_mem_eq(sa, sb, slen);
	/* A key can derive again (IKE retransmits). */
	ck_assert_int_eq(crypto_dh_shared(a, pb, plen, sb, sizeof(sb)), (int)slen);
	ck_assert_mem_eq(sa, sb, slen);
	crypto_dh_free(a);
	crypto_dh_free(b);
}
END_TEST

static BIGNUM *modp_prime(enum crypto_alg_id g)
{
	switch (g) {
	case CRYPTO_DH_MODP768:
		return BN_get_rfc2409_prime_768(NULL);
	case CRYPTO_DH_MODP1024:
		return BN_get_rfc2409_prime_1024(NULL);
	case CRYPTO_DH_MODP1536:
		return BN_get_rfc3526_prime_1536(NULL);
	case CRYPTO_DH_MODP2048:
		return BN_get_rfc3526_prime_2048(NULL);
	case CRYPTO_DH_MODP3072:
		return BN_get_rfc3526_prime_3072(NULL);
	default:
		return BN_get_rfc3526_prime_4096(NULL);
	}
}

/*
 * With chosen exponents, the public values and the secret equal 2^a, 2^b
 * and 2^ab mod p computed with BIGNUMs, left-padded to the prime length;
 * exponents are searched until both a public value and a secret have a
 * leading zero byte, so the padding is exercised.
 */
START_TEST(modp_values_match_bignum_arithmetic_with_padding)
{
	enum crypto_alg_id g = CRYPTO_DH_MODP768;
	size_t plen = crypto_alg(g)->out_len;
	BIGNUM *p = modp_prime(g), *two = BN_new(), *a = BN_new(), *b = BN_new();
	BIGNUM *ab = BN_new(), *v = BN_new();
	BN_CTX *ctx = BN_CTX_new();
	uint8_t priv[8], pub[CRYPTO_DH_MAX_PUBLIC], peer[CRYPTO_DH_MAX_PUBLIC];
	uint8_t s[CRYPTO_DH_MAX_SECRET], exp[CRYPTO_DH_MAX_PUBLIC];
	bool padded_pub = false, padded_secret = false;

	ck_assert_int_eq(crypto_init(), 0);
	ck_assert(p && two && a && b && ab && v && ctx && BN_set_word(two, 2));
	ck_assert(BN_set_word(a, 0x1234567890abcdefULL));
	ck_assert_int_eq(BN_bn2binpad(a, priv, sizeof(priv)), (int)sizeof(priv));
	struct crypto_dh *da = crypto_dh_new_private(g, priv, sizeof(priv));
	ck_assert_ptr_nonnull(da);
	ck_assert_int_eq(crypto_dh_public(da, peer, sizeof(peer)), (int)plen);
	ck_assert(BN_mod_exp(v, two, a, p, ctx));
	ck_assert_int_eq(BN_bn2binpad(v, exp, (int)plen), (int)plen);
	ck_assert_mem_eq(peer, exp, plen);

	for (unsigned long w = 2; w < 20000 && !(padded_pub && padded_secret); w++) {
		ck_assert(BN_set_word(b, w));
		ck_assert_int_eq(BN_bn2binpad(b, priv, sizeof(priv)), (int)sizeof(priv));
		struct crypto_dh *db = crypto_dh_new_private(g, priv, sizeof(priv));
		ck_assert_ptr_nonnull(db);

		ck_assert_int_eq(crypto_dh_public(db, pub, sizeof(pub)), (int)plen);
		ck_assert(BN_mod_exp(v, two, b, p, ctx));
		ck_assert_int_eq(BN_bn2binpad(v, exp, (int)plen), (int)plen);
		ck_assert_mem_eq(pub, exp, plen);
		padded_pub |= pub[0] == 0;

		ck_assert_int_eq(crypto_dh_shared(db, peer, plen, s, sizeof(s)), (int)plen);
		ck_assert(BN_mul(ab, a, b, ctx) && BN_mod_exp(v, two, ab, p, ctx));
		ck_assert_int_eq(BN_bn2binpad(v, exp, (int)plen), (int)plen);
		ck_assert_mem_eq(s, exp, plen);
		padded_secret |= s[0] == 0;
		crypto_dh_free(db);
	}
	ck_assert(padded_pub && padded_secret);
	crypto_dh_free(da);
	BN_CTX_free(ctx);
	BN_free(v);
	BN_free(ab);
	BN_free(b);
	BN_free(a);
	BN_free(two);
	BN_free(p);
}
END_TEST

START_TEST(modp_rejects_out_of_range_peer_values)
{
	enum crypto_alg_id g = groups[_i];
	size_t plen = crypto_alg(g)->out_len;
	BIGNUM *p = modp_prime(g), *v = BN_new();
	uint8_t peer[CRYPTO_DH_MAX_PUBLIC + 1], s[CRYPTO_DH_MAX_SECRET];

	ck_assert_int_eq(crypto_init(), 0);
	ck_assert(p && v);
	struct crypto_dh *dh = crypto_dh_new(g);
	ck_assert_ptr_nonnull(dh);

	memset(peer, 0, sizeof(peer)); /* 0 */
	ck_assert_int_eq(crypto_dh_shared(dh, peer, plen, s, sizeof(s)), -EBADMSG);
	peer[plen - 1] = 1; /* 1 */
	ck_assert_int_eq(crypto_dh_shared(dh, peer, plen, s, sizeof(s)), -EBADMSG);
	ck_assert(BN_copy(v, p) && BN_sub_word(v, 1)); /* p - 1 */
	ck_assert_int_eq(BN_bn2binpad(v, peer, (int)plen), (int)plen);
	ck_assert_int_eq(crypto_dh_shared(dh, peer, plen, s, sizeof(s)), -EBADMSG);
	ck_assert_int_eq(BN_bn2binpad(p, peer, (int)plen), (int)plen); /* p */
	ck_assert_int_eq(crypto_dh_shared(dh, peer, plen, s, sizeof(s)), -EBADMSG);
	memset(peer, 0xff, plen); /* above p */
	ck_assert_int_eq(crypto_dh_shared(dh, peer, plen, s, sizeof(s)), -EBADMSG);

	/* 2 (the generator) is a valid value: the checks above are not blanket refusals. */
	memset(peer, 0, sizeof(peer));
	peer[plen - 1] = 2;
	ck_assert_int_eq(crypto_dh_shared(dh, peer, plen, s, sizeof(s)), (int)plen);
	ck_assert_int_eq(crypto_dh_shared(dh, peer, plen - 1, s, sizeof(s)), -EINVAL);
	ck_assert_int_eq(crypto_dh_shared(dh, peer, plen + 1, s, sizeof(s)), -EINVAL);
	crypto_dh_free(dh);
	BN_free(v);
	BN_free(p);
}
END_TEST

START_TEST(ecp_rejects_points_off_the_curve)
{
	enum crypto_alg_id g = groups[_i];
	size_t plen = crypto_alg(g)->out_len, slen = plen / 2;
	uint8_t peer[CRYPTO_DH_MAX_PUBLIC], s[CRYPTO_DH_MAX_SECRET];

	ck_assert_int_eq(crypto_init(), 0);
	struct crypto_dh *a = crypto_dh_new(g);
	struct crypto_dh *b = crypto_dh_new(g);
	ck_assert(a && b);
	ck_assert_int_eq(crypto_dh_public(b, peer, sizeof(peer)), (int)plen);
	ck_assert_int_eq(crypto_dh_shared(a, peer, plen, s, sizeof(s)), (int)slen);

	peer[plen - 1] ^= 1; /* y changed: off the curve */
	ck_assert_int_eq(crypto_dh_shared(a, peer, plen, s, sizeof(s)), -EBADMSG);
	memset(peer, 0, plen); /* (0, 0) */
	ck_assert_int_eq(crypto_dh_shared(a, peer, plen, s, sizeof(s)), -EBADMSG);
	memset(peer, 0xff, plen); /* coordinates beyond the field */
	ck_assert_int_eq(crypto_dh_shared(a, peer, plen, s, sizeof(s)), -EBADMSG);
	ck_assert_int_eq(crypto_dh_shared(a, peer, plen - 1, s, sizeof(s)), -EINVAL);
	ck_assert_int_eq(crypto_dh_shared(a, peer, plen + 1, s, sizeof(s)), -EINVAL);
	crypto_dh_free(a);
	crypto_dh_free(b);
}
END_TEST

START_TEST(x25519_rejects_low_order_points)
{
	uint8_t peer[33], s[32];

	ck_assert_int_eq(crypto_init(), 0);
	struct crypto_dh *dh = crypto_dh_new(CRYPTO_DH_CURVE25519);
	ck_assert_ptr_nonnull(dh);
	memset(peer, 0, sizeof(peer)); /* u = 0 */
	ck_assert_int_eq(crypto_dh_shared(dh, peer, 32, s, sizeof(s)), -EBADMSG);
	peer[0] = 1; /* u = 1, order 4 */
	ck_assert_int_eq(crypto_dh_shared(dh, peer, 32, s, sizeof(s)), -EBADMSG);
	peer[0] = 9; /* the base point is fine */
	ck_assert_int_eq(crypto_dh_shared(dh, peer, 32, s, sizeof(s)), 32);
	ck_assert_int_eq(crypto_dh_shared(dh, peer, 31, s, sizeof(s)), -EINVAL);
	ck_assert_int_eq(crypto_dh_shared(dh, peer, 33, s, sizeof(s)), -EINVAL);
	crypto_dh_free(dh);
}
END_TEST

START_TEST(bad_groups_and_private_values_are_refused)
{
	uint8_t zero[66] = { 0 }, one[1] = { 1 };

	ck_assert_int_eq(crypto_init(), 0);
	ck_assert_ptr_null(crypto_dh_new(CRYPTO_PRF_HMAC_SHA256));
	ck_assert_ptr_null(crypto_dh_new(CRYPTO_ALG_COUNT));
	ck_assert_ptr_null(crypto_dh_new_private(CRYPTO_ENCR_AES128_CBC, one, 1));
	ck_assert_ptr_null(crypto_dh_new_private(CRYPTO_DH_MODP2048, zero, 32));
	ck_assert_ptr_null(crypto_dh_new_private(CRYPTO_DH_MODP2048, one, 1));
	ck_assert_ptr_null(crypto_dh_new_private(CRYPTO_DH_ECP256, zero, 32));
	ck_assert_ptr_null(crypto_dh_new_private(CRYPTO_DH_ECP256, zero, 33));
	ck_assert_ptr_null(crypto_dh_new_private(CRYPTO_DH_CURVE25519, zero, 31));
	crypto_dh_free(NULL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("crypto_dh");
	TCase *tc = tcase_create("known_answers");

	tcase_add_loop_test(tc, ecp_rfc5903_known_answers, 0, (int)ARRAY_SIZE(ecp_vectors));
	tcase_add_test(tc, x25519_rfc7748_known_answer);
	tcase_add_test(tc, modp_values_match_bignum_arithmetic_with_padding);
	suite_add_tcase(s, tc);

	tc = tcase_create("agreement");
	tcase_add_loop_test(tc, two_fresh_keys_agree_in_every_group, 0, (int)ARRAY_SIZE(groups));
	suite_add_tcase(s, tc);

	tc = tcase_create("validation");
	tcase_add_loop_test(tc, modp_rejects_out_of_range_peer_values, 0, 6);
	tcase_add_loop_test(tc, ecp_rejects_points_off_the_curve, 6, 9);
	tcase_add_test(tc, x25519_rejects_low_order_points);
	tcase_add_test(tc, bad_groups_and_private_values_are_refused);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
