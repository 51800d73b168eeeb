/* SPDX-License-Identifier: BSD-3-Clause */
/* The crypto catalogue: ids, names and sizes against the IANA registries. */
#include "unit/testutil.h"

#include "crypto_alg.h"

START_TEST(every_row_is_indexed_by_its_id)
{
	for (unsigned i = 0; i < CRYPTO_ALG_COUNT; i++) {
		const struct crypto_alg *a = crypto_alg(i);

		ck_assert_ptr_nonnull(a);
		ck_assert_uint_eq(a->id, i);
		ck_assert_ptr_nonnull(a->name);
		/* The name finds the row back within its kind. */
		ck_assert_ptr_eq(crypto_alg_by_name(a->kind, a->name), a);
	}
	ck_assert_ptr_null(crypto_alg(CRYPTO_ALG_COUNT));
}
END_TEST

START_TEST(ikev2_ids_follow_iana)
{
	/* RFC 7296 3.3.2 / IANA "Transform Type Values". */
	ck_assert_uint_eq(crypto_alg_by_ikev2(CRYPTO_ENCR, 12, 128)->id, CRYPTO_ENCR_AES128_CBC);
	ck_assert_uint_eq(crypto_alg_by_ikev2(CRYPTO_ENCR, 12, 256)->id, CRYPTO_ENCR_AES256_CBC);
	ck_assert_ptr_null(crypto_alg_by_ikev2(CRYPTO_ENCR, 12, 0)); /* AES needs a key length */
	ck_assert_ptr_null(crypto_alg_by_ikev2(CRYPTO_ENCR, 12, 100));
	ck_assert_uint_eq(crypto_alg_by_ikev2(CRYPTO_ENCR, 20, 192)->id, CRYPTO_ENCR_AES192_GCM16);
	ck_assert_uint_eq(crypto_alg_by_ikev2(CRYPTO_ENCR, 28, 0)->id,
	                  CRYPTO_ENCR_CHACHA20_POLY1305);
	ck_assert_uint_eq(crypto_alg_by_ikev2(CRYPTO_ENCR, 3, 0)->id, CRYPTO_ENCR_3DES_CBC);
	ck_assert_uint_eq(crypto_alg_by_ikev2(CRYPTO_INTEG, 12, 0)->id,
	                  CRYPTO_INTEG_HMAC_SHA256_128);
	ck_assert_uint_eq(crypto_alg_by_ikev2(CRYPTO_INTEG, 0, 0)->id, CRYPTO_INTEG_NONE);
	ck_assert_uint_eq(crypto_alg_by_ikev2(CRYPTO_PRF, 5, 0)->id, CRYPTO_PRF_HMAC_SHA256);
	ck_assert_uint_eq(crypto_alg_by_ikev2(CRYPTO_DH, 31, 0)->id, CRYPTO_DH_CURVE25519);
	ck_assert_uint_eq(crypto_alg_by_ikev2(CRYPTO_DH, 14, 0)->id, CRYPTO_DH_MODP2048);
	ck_assert_ptr_null(crypto_alg_by_ikev2(CRYPTO_DH, 0, 0));
	ck_assert_ptr_null(crypto_alg_by_ikev2(CRYPTO_DH, 22, 0));
}
END_TEST

START_TEST(ikev1_ids_follow_rfc2409_and_rfc2407)
{
	/* ISAKMP: AES = 7 with key length (absent: 128), 3DES = 5, SHA = 2. */
	ck_assert_uint_eq(crypto_alg_by_ikev1_ike(CRYPTO_ENCR, 7, 0)->id, CRYPTO_ENCR_AES128_CBC);
	ck_assert_uint_eq(crypto_alg_by_ikev1_ike(CRYPTO_ENCR, 7, 256)->id, CRYPTO_ENCR_AES256_CBC);
	ck_assert_uint_eq(crypto_alg_by_ikev1_ike(CRYPTO_ENCR, 5, 0)->id, CRYPTO_ENCR_3DES_CBC);
	ck_assert_uint_eq(crypto_alg_by_ikev1_ike(CRYPTO_PRF, 2, 0)->id, CRYPTO_PRF_HMAC_SHA1);
	ck_assert_uint_eq(crypto_alg_by_ikev1_ike(CRYPTO_PRF, 4, 0)->id, CRYPTO_PRF_HMAC_SHA256);
	ck_assert_uint_eq(crypto_alg_by_ikev1_ike(CRYPTO_DH, 2, 0)->id, CRYPTO_DH_MODP1024);
	/* IPsec DOI: ESP_AES = 12, ESP_3DES = 3, HMAC-SHA = 2, HMAC-SHA2-256 = 5. */
	ck_assert_uint_eq(crypto_alg_by_ikev1_esp(CRYPTO_ENCR, 12, 192)->id,
	                  CRYPTO_ENCR_AES192_CBC);
	ck_assert_uint_eq(crypto_alg_by_ikev1_esp(CRYPTO_ENCR, 3, 0)->id, CRYPTO_ENCR_3DES_CBC);
	ck_assert_uint_eq(crypto_alg_by_ikev1_esp(CRYPTO_INTEG, 2, 0)->id,
	                  CRYPTO_INTEG_HMAC_SHA1_96);
	ck_assert_uint_eq(crypto_alg_by_ikev1_esp(CRYPTO_INTEG, 5, 0)->id,
	                  CRYPTO_INTEG_HMAC_SHA256_128);
	ck_assert_ptr_null(crypto_alg_by_ikev1_esp(CRYPTO_INTEG, 0, 0));
}
END_TEST

START_TEST(sizes_match_the_rfcs)
{
	const struct crypto_alg *gcm = crypto_alg(CRYPTO_ENCR_AES128_GCM16);
	const struct crypto_alg *sha256 = crypto_alg(CRYPTO_INTEG_HMAC_SHA256_128);
	const struct crypto_alg *sha512 = crypto_alg(CRYPTO_INTEG_HMAC_SHA512_256);

	/* RFC 4106: 16-byte key + 4-byte salt, 8-byte IV, 16-byte ICV. */
	ck_assert(gcm->aead);
	ck_assert_uint_eq(gcm->key_len, 20);
	ck_assert_uint_eq(gcm->salt_len, 4);
	ck_assert_uint_eq(gcm->iv_len, 8);
	ck_assert_uint_eq(gcm->icv_len, 16);
	/* RFC 4868: truncation to half the output. */
	ck_assert_uint_eq(sha256->icv_len, 16);
	ck_assert_uint_eq(sha512->icv_len, 32);
	ck_assert(!crypto_alg(CRYPTO_ENCR_AES128_CBC)->aead);
	ck_assert_uint_eq(crypto_alg(CRYPTO_DH_ECP521)->out_len, 132);
	ck_assert_uint_eq(crypto_alg(CRYPTO_DH_MODP1024)->out_len, 128);
}
END_TEST

START_TEST(allowed_values_list_every_name)
{
	char buf[256];

	crypto_kind_allowed(CRYPTO_DH, buf, sizeof(buf));
	ck_assert_str_eq(buf, "group1, group2, group5, group14, group15, group16, group19, "
	                      "group20, group21, group31");
	crypto_kind_allowed(CRYPTO_ENCR, buf, 10);
	ck_assert_uint_lt(strlen(buf), 10);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("crypto_alg");
	TCase *tc = tcase_create("catalogue");

	tcase_add_test(tc, every_row_is_indexed_by_its_id);
	tcase_add_test(tc, ikev2_ids_follow_iana);
	tcase_add_test(tc, ikev1_ids_follow_rfc2409_and_rfc2407);
	tcase_add_test(tc, sizes_match_the_rfcs);
	tcase_add_test(tc, allowed_values_list_every_name);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
