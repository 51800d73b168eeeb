/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKE PRFs: published HMAC vectors (RFC 2202, RFC 4231, RFC 4868 2.7),
 * plain hashes (FIPS 180 / RFC 1321 "abc"), and prf+ and the IKEv1
 * derivations against an independent composition with OpenSSL's HMAC().
 */
#include "unit/testutil.h"

#include <errno.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "compiler.h"
#include "crypto_mem.h"
#include "crypto_prf.h"

/* A byte string given as text, hex, or one byte repeated. */
struct bytes {
	const char *txt;
	const char *hex;
	uint8_t fill;
	size_t fill_len;
};

#define TXT(s)             \
	{                  \
		.txt = (s) \
	}
#define HEX(s)             \
	{                  \
		.hex = (s) \
	}
#define FILL(b, n)                           \
	{                                    \
		.fill = (b), .fill_len = (n) \
	}

static size_t bytes_get(const struct bytes *b, uint8_t *out, size_t cap)
{
	if (b->txt != NULL) {
		size_t n = strlen(b->txt);
		ck_assert_uint_le(n, cap);
		memcpy(out, b->txt, n);
		return n;
	}
	if (b->hex != NULL)
		return hex2bin(b->hex, out, cap);
	ck_assert_uint_le(b->fill_len, cap);
	memset(out, b->fill, b->fill_len);
	return b->fill_len;
}

struct prf_vector {
	const char *name;
	enum crypto_alg_id prf;
	struct bytes key, data;
	const char *mac; /* compared over its own length (truncated cases) */
};

static const char data_long_key[] = "Test Using Larger Than Block-Size Key - Hash Key First";
static const char data_long_both_2202[] =
        "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data";
static const char data_long_both_4231[] =
        "This is a test using a larger than block-size key and a larger than block-size data. "
        "The key needs to be hashed before being used by the HMAC algorithm.";
#define KEY_1_25 "0102030405060708090a0b0c0d0e0f10111213141516171819"

static const struct prf_vector vectors[] = {
	/* RFC 2202 section 2: HMAC-MD5 */
	{ "2202 md5 1", CRYPTO_PRF_HMAC_MD5, FILL(0x0b, 16), TXT("Hi There"),
	  "9294727a3638bb1c13f48ef8158bfc9d" },
	{ "2202 md5 2", CRYPTO_PRF_HMAC_MD5, TXT("Jefe"), TXT("what do ya want for nothing?"),
	  "750c783e6ab0b503eaa86e310a5db738" },
	{ "2202 md5 3", CRYPTO_PRF_HMAC_MD5, FILL(0xaa, 16), FILL(0xdd, 50),
	  "56be34521d144c88dbb8c733f0e8b3f6" },
	{ "2202 md5 4", CRYPTO_PRF_HMAC_MD5, HEX(KEY_1_25), FILL(0xcd, 50),
	  "697eaf0aca3a3aea3a75164746ffaa79" },
	{ "2202 md5 5", CRYPTO_PRF_HMAC_MD5, FILL(0x0c, 16), TXT("Test With Truncation"),
	  "56461ef2342edc00f9bab995690efd4c" },
	{ "2202 md5 6", CRYPTO_PRF_HMAC_MD5, FILL(0xaa, 80), TXT(data_long_key),
	  "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd" },
	{ "2202 md5 7", CRYPTO_PRF_HMAC_MD5, FILL(0xaa, 80), TXT(data_long_both_2202),
	  "6f630fad67cda0ee1fb1f562db3aa53e" },
	/* RFC 2202 section 3: HMAC-SHA-1 */
	{ "2202 sha1 1", CRYPTO_PRF_HMAC_SHA1, FILL(0x0b, 20), TXT("Hi There"),
	  "b617318655057264e28bc0b6fb378c8ef146be00" },
	{ "2202 sha1 2", CRYPTO_PRF_HMAC_SHA1, TXT("Jefe"), TXT("what do ya want for nothing?"),
	  "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
	{ "2202 sha1 3", CRYPTO_PRF_HMAC_SHA1, FILL(0xaa, 20), FILL(0xdd, 50),
	  "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
	{ "2202 sha1 4", CRYPTO_PRF_HMAC_SHA1, HEX(KEY_1_25), FILL(0xcd, 50),
	  "4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
	{ "2202 sha1 5", CRYPTO_PRF_HMAC_SHA1, FILL(0x0c, 20), TXT("Test With Truncation"),
	  "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04" },
	{ "2202 sha1 6", CRYPTO_PRF_HMAC_SHA1, FILL(0xaa, 80), TXT(data_long_key),
	  "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
	{ "2202 sha1 7", CRYPTO_PRF_HMAC_SHA1, FILL(0xaa, 80), TXT(data_long_both_2202),
	  "e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
	/* RFC 4231 section 4 (cases 1-4, 6, 7 are also RFC 4868 2.7.1) */
	{ "4231 sha256 1", CRYPTO_PRF_HMAC_SHA256, FILL(0x0b, 20), TXT("Hi There"),
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ "4231 sha384 1", CRYPTO_PRF_HMAC_SHA384, FILL(0x0b, 20), TXT("Hi There"),
	  "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
	  "faea9ea9076ede7f4af152e8b2fa9cb6" },
	{ "4231 sha512 1", CRYPTO_PRF_HMAC_SHA512, FILL(0x0b, 20), TXT("Hi There"),
	  "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	  "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
	{ "4231 sha256 2", CRYPTO_PRF_HMAC_SHA256, TXT("Jefe"), TXT("what do ya want for nothing?"),
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ "4231 sha384 2", CRYPTO_PRF_HMAC_SHA384, TXT("Jefe"), TXT("what do ya want for nothing?"),
	  "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
	  "8e2240ca5e69e2c78b3239ecfab21649" },
	{ "4231 sha512 2", CRYPTO_PRF_HMAC_SHA512, TXT("Jefe"), TXT("what do ya want for nothing?"),
	  "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	  "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
	{ "4231 sha256 3", CRYPTO_PRF_HMAC_SHA256, FILL(0xaa, 20), FILL(0xdd, 50),
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	{ "4231 sha384 3", CRYPTO_PRF_HMAC_SHA384, FILL(0xaa, 20), FILL(0xdd, 50),
	  "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
	  "2a5ab39dc13814b94e3ab6e101a34f27" },
	{ "4231 sha512 3", CRYPTO_PRF_HMAC_SHA512, FILL(0xaa, 20), FILL(0xdd, 50),
	  "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
	  "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb" },
	{ "4231 sha256 4", CRYPTO_PRF_HMAC_SHA256, HEX(KEY_1_25), FILL(0xcd, 50),
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ "4231 sha384 4", CRYPTO_PRF_HMAC_SHA384, HEX(KEY_1_25), FILL(0xcd, 50),
	  "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e"
	  "6801dd23c4a7d679ccf8a386c674cffb" },
	{ "4231 sha512 4", CRYPTO_PRF_HMAC_SHA512, HEX(KEY_1_25), FILL(0xcd, 50),
	  "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
	  "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd" },
	/* Case 5 publishes only the first 128 bits. */
	{ "4231 sha256 5", CRYPTO_PRF_HMAC_SHA256, FILL(0x0c, 20), TXT("Test With Truncation"),
	  "a3b6167473100ee06e0c796c2955552b" },
	{ "4231 sha384 5", CRYPTO_PRF_HMAC_SHA384, FILL(0x0c, 20), TXT("Test With Truncation"),
	  "3abf34c3503b2a23a46efc619baef897" },
	{ "4231 sha512 5", CRYPTO_PRF_HMAC_SHA512, FILL(0x0c, 20), TXT("Test With Truncation"),
	  "415fad6271580a531d4179bc891d87a6" },
	{ "4231 sha256 6", CRYPTO_PRF_HMAC_SHA256, FILL(0xaa, 131), TXT(data_long_key),
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ "4231 sha384 6", CRYPTO_PRF_HMAC_SHA384, FILL(0xaa, 131), TXT(data_long_key),
	  "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
	  "0c2ef6ab4030fe8296248df163f44952" },
	{ "4231 sha512 6", CRYPTO_PRF_HMAC_SHA512, FILL(0xaa, 131), TXT(data_long_key),
	  "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
	  "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },
	{ "4231 sha256 7", CRYPTO_PRF_HMAC_SHA256, FILL(0xaa, 131), TXT(data_long_both_4231),
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
	{ "4231 sha384 7", CRYPTO_PRF_HMAC_SHA384, FILL(0xaa, 131), TXT(data_long_both_4231),
	  "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
	  "a678cc31e799176d3860e6110c46523e" },
	{ "4231 sha512 7", CRYPTO_PRF_HMAC_SHA512, FILL(0xaa, 131), TXT(data_long_both_4231),
	  "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
	  "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58" },
	/* RFC 4868 2.7.2: keys as long as the output (the IKE-preferred size) */
	{ "4868 sha256 1", CRYPTO_PRF_HMAC_SHA256, FILL(0x0b, 32), TXT("Hi There"),
	  "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7" },
	{ "4868 sha256 2", CRYPTO_PRF_HMAC_SHA256, TXT("JefeJefeJefeJefeJefeJefeJefeJefe"),
	  TXT("what do ya want for nothing?"),
	  "167f928588c5cc2eef8e3093caa0e87c9ff566a14794aa61648d81621a2a40c6" },
	{ "4868 sha256 3", CRYPTO_PRF_HMAC_SHA256, FILL(0xaa, 32), FILL(0xdd, 50),
	  "cdcb1220d1ecccea91e53aba3092f962e549fe6ce9ed7fdc43191fbde45c30b0" },
	{ "4868 sha256 4", CRYPTO_PRF_HMAC_SHA256,
	  HEX("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"), FILL(0xcd, 50),
	  "372efcf9b40b35c2115b1346903d2ef42fced46f0846e7257bb156d3d7b30d3f" },
	{ "4868 sha384 1", CRYPTO_PRF_HMAC_SHA384, FILL(0x0b, 48), TXT("Hi There"),
	  "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee9737a959796489bddbc"
	  "4c5df61d5b3297b4fb68dab9f1b582c2" },
	{ "4868 sha384 2", CRYPTO_PRF_HMAC_SHA384,
	  TXT("JefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefe"),
	  TXT("what do ya want for nothing?"),
	  "2c7353974f1842fd66d53c452ca42122b28c0b594cfb184da86a368e9b8e16f5"
	  "349524ca4e82400cbde0686d403371c9" },
	{ "4868 sha384 3", CRYPTO_PRF_HMAC_SHA384, FILL(0xaa, 48), FILL(0xdd, 50),
	  "809f439be00274321d4a538652164b53554a508184a0c3160353e3428597003d"
	  "35914a18770f9443987054944b7c4b4a" },
	{ "4868 sha512 1", CRYPTO_PRF_HMAC_SHA512, FILL(0x0b, 64), TXT("Hi There"),
	  "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8"
	  "ac2878ebd5803f6f0b61dbce5e251ff8789a4722c1be65aea45fd464e89f8f5b" },
	{ "4868 sha512 2", CRYPTO_PRF_HMAC_SHA512,
	  TXT("JefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefe"),
	  TXT("what do ya want for nothing?"),
	  "cb370917ae8a7ce28cfd1d8f4705d6141c173b2a9362c15df235dfb251b15454"
	  "6aa334ae9fb9afc2184932d8695e397bfa0ffb93466cfcceaae38c833b7dba38" },
	{ "4868 sha512 3", CRYPTO_PRF_HMAC_SHA512, FILL(0xaa, 64), FILL(0xdd, 50),
	  "2ee7acd783624ca9398710f3ee05ae41b9f9b0510c87e49e586cc9bf961733d8"
	  "623c7b55cebefccf02d5581acc1c9d5fb1ff68a1de45509fbe4da9a433922655" },
};

static const enum crypto_alg_id prfs[] = {
	CRYPTO_PRF_HMAC_MD5,    CRYPTO_PRF_HMAC_SHA1,   CRYPTO_PRF_HMAC_SHA256,
	CRYPTO_PRF_HMAC_SHA384, CRYPTO_PRF_HMAC_SHA512,
};

static const EVP_MD *evp_md(enum crypto_alg_id prf)
{
	switch (prf) {
	case CRYPTO_PRF_HMAC_MD5:
		return EVP_md5();
	case CRYPTO_PRF_HMAC_SHA1:
		return EVP_sha1();
	case CRYPTO_PRF_HMAC_SHA256:
		return EVP_sha256();
	case CRYPTO_PRF_HMAC_SHA384:
		return EVP_sha384();
	default:
		return EVP_sha512();
	}
}

/* The reference: OpenSSL's HMAC over one buffer. */
static void ref_hmac(enum crypto_alg_id prf, const uint8_t *key, size_t key_len,
                     const uint8_t *data, size_t len, uint8_t *out)
{
	unsigned int n = 0;

	ck_assert_ptr_nonnull(HMAC(evp_md(prf), key, (int)key_len, data, len, out, &n));
	ck_assert_uint_eq(n, crypto_alg(prf)->out_len);
}

static void fill_pattern(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed * 17 + (i >> 8));
}

START_TEST(published_hmac_vectors)
{
	const struct prf_vector *v = &vectors[_i];
	uint8_t key[256], data[256], out[CRYPTO_PRF_MAX_OUT], exp[CRYPTO_PRF_MAX_OUT];
	size_t key_len = bytes_get(&v->key, key, sizeof(key));
	size_t data_len = bytes_get(&v->data, data, sizeof(data));
	size_t exp_len = hex2bin(v->mac, exp, sizeof(exp));

	ck_assert_int_eq(crypto_init(), 0);
	memset(out, 0, sizeof(out));
	ck_assert_int_eq(crypto_prf(v->prf, key, key_len, data, data_len, out), 0);
	ck_assert_msg(memcmp(out, exp, exp_len) == 0, "%s: wrong MAC", v->name);
	/* The same message split into pieces gives the same MAC. */
	if (data_len >= 3) {
		const struct crypto_iov iov[] = { { data, 1 },
			                          { data + 1, 0 },
			                          { data + 1, data_len - 2 },
			                          { data + data_len - 1, 1 } };
		memset(out, 0, sizeof(out));
		ck_assert_int_eq(crypto_prf_v(v->prf, key, key_len, iov, 4, out), 0);
		ck_assert_msg(memcmp(out, exp, exp_len) == 0, "%s: wrong MAC over iov", v->name);
	}
}
END_TEST

START_TEST(prf_matches_openssl_for_keys_and_messages_of_any_length)
{
	static const size_t key_lens[] = { 0, 1, 16, 63, 64, 65, 127, 128, 129, 256, 512 };
	static const size_t msg_lens[] = { 0,   1,    55,   56,   64,    111,   112,
		                           128, 2047, 2048, 2049, 65534, 65535, 70000 };
	static uint8_t key[512], msg[70000];
	uint8_t out[CRYPTO_PRF_MAX_OUT], exp[CRYPTO_PRF_MAX_OUT];

	ck_assert_int_eq(crypto_init(), 0);
	fill_pattern(key, sizeof(key), 1);
	fill_pattern(msg, sizeof(msg), 2);
	for (size_t p = 0; p < ARRAY_SIZE(prfs); p++)
		for (size_t k = 0; k < ARRAY_SIZE(key_lens); k++)
			for (size_t m = 0; m < ARRAY_SIZE(msg_lens); m++) {
				size_t ml = msg_lens[m], half = ml / 2;
				const struct crypto_iov iov[] = { { msg, half },
					                          { msg + half, ml - half } };

				ref_hmac(prfs[p], key, key_lens[k], msg, ml, exp);
				memset(out, 0, sizeof(out));
				int rc = crypto_prf_v(prfs[p], key, key_lens[k], iov, 2, out);
				ck_assert_msg(rc == 0, "prf %d key %zu msg %zu: %d", prfs[p],
				              key_lens[k], ml, rc);
				ck_assert_msg(memcmp(out, exp, crypto_alg(prfs[p])->out_len) == 0,
				              "prf %d key %zu msg %zu", prfs[p], key_lens[k], ml);
			}
}
END_TEST

START_TEST(prf_rejects_bad_arguments)
{
	static uint8_t big[100000];
	uint8_t out[CRYPTO_PRF_MAX_OUT];
	const struct crypto_iov iov[] = { { big, sizeof(big) }, { big, sizeof(big) } };

	ck_assert_int_eq(crypto_init(), 0);
	ck_assert_int_eq(crypto_prf(CRYPTO_ENCR_AES128_CBC, big, 16, big, 16, out), -EINVAL);
	ck_assert_int_eq(crypto_prf(CRYPTO_INTEG_HMAC_SHA1_96, big, 16, big, 16, out), -EINVAL);
	/* Beyond the gathering bound (IKE messages are far smaller). */
	ck_assert_int_eq(crypto_prf_v(CRYPTO_PRF_HMAC_SHA256, big, 16, iov, 2, out), -EINVAL);
	ck_assert_int_eq(crypto_hash_v(CRYPTO_PRF_HMAC_SHA256, iov, 2, out), -EINVAL);
	ck_assert_int_eq(crypto_hash_v(CRYPTO_DH_MODP2048, iov, 1, out), -EINVAL);
}
END_TEST

START_TEST(hash_of_abc_is_the_published_digest)
{
	static const char *const digests[] = {
		"900150983cd24fb0d6963f7d28e17f72",         /* RFC 1321 A.5 */
		"a9993e364706816aba3e25717850c26c9cd0d89d", /* FIPS 180 examples */
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
		"8086072ba1e7cc2358baeca134c825a7",
		"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
		"2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
	};
	const struct crypto_iov one[] = { { "abc", 3 } };
	const struct crypto_iov split[] = { { "a", 1 }, { "", 0 }, { "bc", 2 } };
	uint8_t out[CRYPTO_PRF_MAX_OUT + 1];

	ck_assert_int_eq(crypto_init(), 0);
	for (size_t p = 0; p < ARRAY_SIZE(prfs); p++) {
		size_t n = crypto_alg(prfs[p])->out_len;

		memset(out, 0xee, sizeof(out));
		ck_assert_int_eq(crypto_hash_v(prfs[p], one, 1, out), 0);
		ck_assert_mem_eq_hex(out, digests[p]);
		ck_assert_uint_eq(out[n], 0xee); /* nothing written past out_len */
		memset(out, 0, sizeof(out));
		ck_assert_int_eq(crypto_hash_v(prfs[p], split, 3, out), 0);
		ck_assert_mem_eq_hex(out, digests[p]);
	}
}
END_TEST

START_TEST(hash_of_long_messages_matches_openssl)
{
	static uint8_t msg[5000];
	uint8_t out[CRYPTO_PRF_MAX_OUT], exp[EVP_MAX_MD_SIZE];

	ck_assert_int_eq(crypto_init(), 0);
	fill_pattern(msg, sizeof(msg), 3);
	for (size_t p = 0; p < ARRAY_SIZE(prfs); p++) {
		const struct crypto_iov iov[] = { { msg, 1000 }, { msg + 1000, 4000 } };

		ck_assert_int_eq(EVP_Digest(msg, sizeof(msg), exp, NULL, evp_md(prfs[p]), NULL), 1);
		ck_assert_int_eq(crypto_hash_v(prfs[p], iov, 2, out), 0);
		ck_assert_mem_eq(out, exp, crypto_alg(prfs[p])->out_len);
	}
}
END_TEST

/* prf+ composed independently: T1 = prf(K, S | 1), Tn = prf(K, Tn-1 | S | n). */
static void ref_prf_plus(enum crypto_alg_id prf, const uint8_t *key, size_t key_len,
                         const uint8_t *seed, size_t seed_len, uint8_t *out, size_t out_len)
{
	size_t h = crypto_alg(prf)->out_len;
	uint8_t *buf = malloc(h + seed_len + 1);
	uint8_t t[CRYPTO_PRF_MAX_OUT];
	size_t tlen = 0;

	ck_assert_ptr_nonnull(buf);
	for (unsigned n = 1; out_len > 0; n++) {
		memcpy(buf, t, tlen);
		memcpy(buf + tlen, seed, seed_len);
		buf[tlen + seed_len] = (uint8_t)n;
		ref_hmac(prf, key, key_len, buf, tlen + seed_len + 1, t);
		tlen = h;
		size_t take = out_len < h ? out_len : h;
		memcpy(out, t, take);
		out += take;
		out_len -= take;
	}
	free(buf);
}

START_TEST(prf_plus_matches_the_rfc7296_composition)
{
	static const size_t key_lens[] = { 16, 48, 200 };
	static const size_t seed_lens[] = { 0, 32, 1100, 3000 };
	static uint8_t key[200], seed[3000], out[255 * 64 + 1], exp[255 * 64];

	ck_assert_int_eq(crypto_init(), 0);
	fill_pattern(key, sizeof(key), 4);
	fill_pattern(seed, sizeof(seed), 5);
	for (size_t p = 0; p < ARRAY_SIZE(prfs); p++) {
		size_t h = crypto_alg(prfs[p])->out_len;
		const size_t out_lens[] = { 1, h - 1, h, h + 1, 7 * h + 5, 255 * h };

		for (size_t k = 0; k < ARRAY_SIZE(key_lens); k++)
			for (size_t s = 0; s < ARRAY_SIZE(seed_lens); s++)
				for (size_t o = 0; o < ARRAY_SIZE(out_lens); o++) {
					size_t ol = out_lens[o];

					ref_prf_plus(prfs[p], key, key_lens[k], seed, seed_lens[s],
					             exp, ol);
					memset(out, 0xee, sizeof(out));
					ck_assert_int_eq(crypto_prf_plus(prfs[p], key, key_lens[k],
					                                 seed, seed_lens[s], out,
					                                 ol),
					                 0);
					ck_assert_msg(memcmp(out, exp, ol) == 0,
					              "prf %d key %zu seed %zu out %zu", prfs[p],
					              key_lens[k], seed_lens[s], ol);
					ck_assert_uint_eq(out[ol], 0xee);
				}
		/* 255 blocks at most (RFC 7296 2.13). */
		ck_assert_int_eq(crypto_prf_plus(prfs[p], key, 16, seed, 32, out, 255 * h + 1),
		                 -EINVAL);
	}
	ck_assert_int_eq(crypto_prf_plus(CRYPTO_DH_MODP2048, key, 16, seed, 32, out, 16), -EINVAL);
}
END_TEST

static void cat(uint8_t *buf, size_t *len, const void *p, size_t n)
{
	memcpy(buf + *len, p, n);
	*len += n;
}

START_TEST(ikev1_skeyid_matches_the_rfc2409_composition)
{
	static const size_t gxy_lens[] = { 32, 256, 512 };
	uint8_t psk[37], ni[32], nr[48], gxy[512], cky_i[8], cky_r[8];
	uint8_t buf[1024], skeyid[64], d[64], a[64], e[64];
	struct crypto_ikev1_keys k;

	ck_assert_int_eq(crypto_init(), 0);
	fill_pattern(psk, sizeof(psk), 6);
	fill_pattern(ni, sizeof(ni), 7);
	fill_pattern(nr, sizeof(nr), 8);
	fill_pattern(gxy, sizeof(gxy), 9);
	fill_pattern(cky_i, 8, 10);
	fill_pattern(cky_r, 8, 11);
	for (size_t p = 0; p < ARRAY_SIZE(prfs); p++)
		for (size_t g = 0; g < ARRAY_SIZE(gxy_lens); g++) {
			enum crypto_alg_id prf = prfs[p];
			size_t h = crypto_alg(prf)->out_len, gl = gxy_lens[g], n = 0;
			uint8_t zero = 0, one = 1, two = 2;

			cat(buf, &n, ni, sizeof(ni));
			cat(buf, &n, nr, sizeof(nr));
			ref_hmac(prf, psk, sizeof(psk), buf, n, skeyid);
			n = 0;
			cat(buf, &n, gxy, gl);
			cat(buf, &n, cky_i, 8);
			cat(buf, &n, cky_r, 8);
			cat(buf, &n, &zero, 1);
			ref_hmac(prf, skeyid, h, buf, n, d);
			n = 0;
			cat(buf, &n, d, h);
			cat(buf, &n, gxy, gl);
			cat(buf, &n, cky_i, 8);
			cat(buf, &n, cky_r, 8);
			cat(buf, &n, &one, 1);
			ref_hmac(prf, skeyid, h, buf, n, a);
			n = 0;
			cat(buf, &n, a, h);
			cat(buf, &n, gxy, gl);
			cat(buf, &n, cky_i, 8);
			cat(buf, &n, cky_r, 8);
			cat(buf, &n, &two, 1);
			ref_hmac(prf, skeyid, h, buf, n, e);

			ck_assert_int_eq(crypto_ikev1_skeyid_psk(prf, psk, sizeof(psk), ni,
			                                         sizeof(ni), nr, sizeof(nr), gxy,
			                                         gl, cky_i, cky_r, &k),
			                 0);
			ck_assert_uint_eq(k.len, h);
			ck_assert_mem_eq(k.skeyid, skeyid, h);
			ck_assert_mem_eq(k.skeyid_d, d, h);
			ck_assert_mem_eq(k.skeyid_a, a, h);
			ck_assert_mem_eq(k.skeyid_e, e, h);
			crypto_wipe(&k, sizeof(k));
		}
	ck_assert_int_eq(crypto_ikev1_skeyid_psk(CRYPTO_ENCR_AES128_CBC, psk, sizeof(psk), ni,
	                                         sizeof(ni), nr, sizeof(nr), gxy, 32, cky_i, cky_r,
	                                         &k),
	                 -EINVAL);
}
END_TEST

START_TEST(ikev1_enc_key_expands_per_rfc2409_appendix_b)
{
	static const size_t key_lens[] = { 8, 16, 24, 32, 100 };
	uint8_t key[128], exp[128 + 64], kn[64];
	struct crypto_ikev1_keys k;

	ck_assert_int_eq(crypto_init(), 0);
	for (size_t p = 0; p < ARRAY_SIZE(prfs); p++) {
		enum crypto_alg_id prf = prfs[p];
		size_t h = crypto_alg(prf)->out_len;

		memset(&k, 0, sizeof(k));
		fill_pattern(k.skeyid_e, h, 12 + (unsigned)p);
		k.len = h;
		for (size_t l = 0; l < ARRAY_SIZE(key_lens); l++) {
			size_t kl = key_lens[l];

			if (kl <= h) {
				memcpy(exp, k.skeyid_e, kl);
			} else {
				/* K1 = prf(SKEYID_e, 0), Kn = prf(SKEYID_e, Kn-1) */
				uint8_t zero = 0;

				ref_hmac(prf, k.skeyid_e, h, &zero, 1, kn);
				for (size_t got = 0; got < kl; got += h) {
					memcpy(exp + got, kn, h);
					ref_hmac(prf, k.skeyid_e, h, exp + got, h, kn);
				}
			}
			memset(key, 0xee, sizeof(key));
			ck_assert_int_eq(crypto_ikev1_enc_key(prf, &k, key, kl), 0);
			ck_assert_msg(memcmp(key, exp, kl) == 0, "prf %d key_len %zu", prf, kl);
			ck_assert_uint_eq(key[kl], 0xee);
		}
	}
	/* The keys must come from the same PRF. */
	k.len = 20;
	ck_assert_int_eq(crypto_ikev1_enc_key(CRYPTO_PRF_HMAC_SHA256, &k, key, 32), -EINVAL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("crypto_prf");
	TCase *tc = tcase_create("hmac");

	tcase_add_loop_test(tc, published_hmac_vectors, 0, (int)ARRAY_SIZE(vectors));
	tcase_add_test(tc, prf_matches_openssl_for_keys_and_messages_of_any_length);
	tcase_add_test(tc, prf_rejects_bad_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("hash");
	tcase_add_test(tc, hash_of_abc_is_the_published_digest);
	tcase_add_test(tc, hash_of_long_messages_matches_openssl);
	suite_add_tcase(s, tc);

	tc = tcase_create("derive");
	tcase_add_test(tc, prf_plus_matches_the_rfc7296_composition);
	tcase_add_test(tc, ikev1_skeyid_matches_the_rfc2409_composition);
	tcase_add_test(tc, ikev1_enc_key_expands_per_rfc2409_appendix_b);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
