/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Symmetric crypto over IPsec-MB: the published known answers of every
 * ENCR and INTEG row, tampering, misuse, the job path against the one-shot
 * path, and a cross-check against OpenSSL on random inputs.
 */
#include "unit/testutil.h"

#include <errno.h>
#include <pthread.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "crypto_sym.h"

#define BUF 1200

struct cbc_kat {
	const char *name;
	enum crypto_alg_id alg;
	const char *key, *iv, *plain, *cipher;
};

struct hmac_kat {
	const char *name;
	enum crypto_alg_id alg;
	const char *key, *data, *icv;
};

/* AEAD keys are key || 4-byte salt; the 12-byte nonce is salt || iv. */
struct aead_kat {
	const char *name;
	enum crypto_alg_id alg;
	const char *key, *iv, *aad, *plain, *cipher, *tag;
};

/*
 * Sources: RFC 3602 section 4; NIST SP 800-38A F.2.3 and F.2.5; FIPS 81
 * (the CBC example); NIST CAVP TDES CBC MMT (keying option 1);
 * RFC 2202 sections 2 and 3 (cases whose key length is the ESP key length);
 * RFC 4868 section 2.7.2 (AUTH256/384/512 cases 1-3); McGrew & Viega, "The
 * Galois/Counter Mode of Operation", appendix B test cases; draft-mcgrew-
 * gcm-test-01 (ESP packets); RFC 8439 2.8.2 and A.5; RFC 7634 appendix A.
 */

static const struct cbc_kat cbc_kats[] = {
	{ "RFC 3602 case 1", CRYPTO_ENCR_AES128_CBC, .key = "06a9214036b8a15b512e03d534120006",
	  .iv = "3dafba429d9eb430b422da802c9fac41", .plain = "53696e676c6520626c6f636b206d7367",
	  .cipher = "e353779c1079aeb82708942dbe77181a" },
	{ "RFC 3602 case 2", CRYPTO_ENCR_AES128_CBC, .key = "c286696d887c9aa0611bbb3e2025a45a",
	  .iv = "562e17996d093d28ddb3ba695a2e6f58",
	  .plain = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	  .cipher = "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1" },
	{ "RFC 3602 case 3", CRYPTO_ENCR_AES128_CBC, .key = "56e47a38c5598974bc46903dba290349",
	  .iv = "8ce82eefbea0da3c44699ed7db51b7d9",
	  .plain = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	           "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
	  .cipher = "c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e"
	            "35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55" },
	{ "SP 800-38A F.2.3 CBC-AES192", CRYPTO_ENCR_AES192_CBC,
	  .key = "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
	  .iv = "000102030405060708090a0b0c0d0e0f",
	  .plain = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
	           "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
	  .cipher = "4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a"
	            "571b242012fb7ae07fa9baac3df102e008b0e27988598881d920a9e64f5615cd" },
	{ "SP 800-38A F.2.5 CBC-AES256", CRYPTO_ENCR_AES256_CBC,
	  .key = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
	  .iv = "000102030405060708090a0b0c0d0e0f",
	  .plain = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
	           "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
	  .cipher = "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
	            "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b" },
	{ "FIPS 81 CBC example", CRYPTO_ENCR_DES_CBC, .key = "0123456789abcdef",
	  .iv = "1234567890abcdef", .plain = "4e6f77206973207468652074696d6520666f7220616c6c20",
	  .cipher = "e5c7cdde872bf27c43e934008c389c0f683788499a7c05f6" },
	{ "NIST TDES CBC MMT 1", CRYPTO_ENCR_3DES_CBC,
	  .key = "627f460e08104a1043cd265d5840eaf1313edf97df2a8a8c", .iv = "8e29f75ea77e5475",
	  .plain = "326a494cd33fe756", .cipher = "b22b8d66de970692" },
	{ "NIST TDES CBC MMT 2", CRYPTO_ENCR_3DES_CBC,
	  .key = "37ae5ebf46dff2dc0754b94f31cbb3855e7fd36dc870bfae", .iv = "3d1de3cc132e3b65",
	  .plain = "84401f78fe6c10876d8ea23094ea5309",
	  .cipher = "7b1f7c7e3b1c948ebd04a75ffba7d2f5" },
};

static const struct hmac_kat hmac_kats[] = {
	{ "RFC 2202 HMAC-MD5 case 1", CRYPTO_INTEG_HMAC_MD5_96,
	  .key = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", .data = "4869205468657265",
	  .icv = "9294727a3638bb1c13f48ef8" },
	{ "RFC 2202 HMAC-MD5 case 3", CRYPTO_INTEG_HMAC_MD5_96,
	  .key = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  .data = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
	          "dddddddddddddddddddddddddddddddddddd",
	  .icv = "56be34521d144c88dbb8c733" },
	{ "RFC 2202 HMAC-MD5 case 5", CRYPTO_INTEG_HMAC_MD5_96,
	  .key = "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c",
	  .data = "546573742057697468205472756e636174696f6e", .icv = "56461ef2342edc00f9bab995" },
	{ "RFC 2202 HMAC-SHA1 case 1", CRYPTO_INTEG_HMAC_SHA1_96,
	  .key = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", .data = "4869205468657265",
	  .icv = "b617318655057264e28bc0b6" },
	{ "RFC 2202 HMAC-SHA1 case 3", CRYPTO_INTEG_HMAC_SHA1_96,
	  .key = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  .data = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
	          "dddddddddddddddddddddddddddddddddddd",
	  .icv = "125d7342b9ac11cd91a39af4" },
	{ "RFC 2202 HMAC-SHA1 case 5", CRYPTO_INTEG_HMAC_SHA1_96,
	  .key = "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c",
	  .data = "546573742057697468205472756e636174696f6e", .icv = "4c1a03424b55e07fe7f27be1" },
	{ "RFC 4868 AUTH256-1", CRYPTO_INTEG_HMAC_SHA256_128,
	  .key = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
	  .data = "4869205468657265", .icv = "198a607eb44bfbc69903a0f1cf2bbdc5" },
	{ "RFC 4868 AUTH256-2", CRYPTO_INTEG_HMAC_SHA256_128,
	  .key = "4a6566654a6566654a6566654a6566654a6566654a6566654a6566654a656665",
	  .data = "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
	  .icv = "167f928588c5cc2eef8e3093caa0e87c" },
	{ "RFC 4868 AUTH256-3", CRYPTO_INTEG_HMAC_SHA256_128,
	  .key = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  .data = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
	          "dddddddddddddddddddddddddddddddddddd",
	  .icv = "cdcb1220d1ecccea91e53aba3092f962" },
	{ "RFC 4868 AUTH384-1", CRYPTO_INTEG_HMAC_SHA384_192,
	  .key = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"
	         "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
	  .data = "4869205468657265", .icv = "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee973" },
	{ "RFC 4868 AUTH384-2", CRYPTO_INTEG_HMAC_SHA384_192,
	  .key = "4a6566654a6566654a6566654a6566654a6566654a6566654a6566654a656665"
	         "4a6566654a6566654a6566654a656665",
	  .data = "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
	  .icv = "2c7353974f1842fd66d53c452ca42122b28c0b594cfb184d" },
	{ "RFC 4868 AUTH384-3", CRYPTO_INTEG_HMAC_SHA384_192,
	  .key = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  .data = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
	          "dddddddddddddddddddddddddddddddddddd",
	  .icv = "809f439be00274321d4a538652164b53554a508184a0c316" },
	{ "RFC 4868 AUTH512-1", CRYPTO_INTEG_HMAC_SHA512_256,
	  .key = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"
	         "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
	  .data = "4869205468657265",
	  .icv = "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8" },
	{ "RFC 4868 AUTH512-2", CRYPTO_INTEG_HMAC_SHA512_256,
	  .key = "4a6566654a6566654a6566654a6566654a6566654a6566654a6566654a656665"
	         "4a6566654a6566654a6566654a6566654a6566654a6566654a6566654a656665",
	  .data = "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
	  .icv = "cb370917ae8a7ce28cfd1d8f4705d6141c173b2a9362c15df235dfb251b15454" },
	{ "RFC 4868 AUTH512-3", CRYPTO_INTEG_HMAC_SHA512_256,
	  .key = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  .data = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
	          "dddddddddddddddddddddddddddddddddddd",
	  .icv = "2ee7acd783624ca9398710f3ee05ae41b9f9b0510c87e49e586cc9bf961733d8" },
};

static const struct aead_kat aead_kats[] = {
	{ "GCM spec test case 2", CRYPTO_ENCR_AES128_GCM16,
	  .key = "0000000000000000000000000000000000000000", .iv = "0000000000000000", .aad = "",
	  .plain = "00000000000000000000000000000000", .cipher = "0388dace60b6a392f328c2b971b2fe78",
	  .tag = "ab6e47d42cec13bdf53a67b21257bddf" },
	{ "GCM spec test case 3", CRYPTO_ENCR_AES128_GCM16,
	  .key = "feffe9928665731c6d6a8f9467308308cafebabe", .iv = "facedbaddecaf888", .aad = "",
	  .plain = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	           "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
	  .cipher = "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	            "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
	  .tag = "4d5c2af327cd64a62cf35abd2ba6fab4" },
	{ "GCM spec test case 4", CRYPTO_ENCR_AES128_GCM16,
	  .key = "feffe9928665731c6d6a8f9467308308cafebabe", .iv = "facedbaddecaf888",
	  .aad = "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	  .plain = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	           "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	  .cipher = "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	            "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
	  .tag = "5bc94fbc3221a5db94fae95ae7121a47" },
	{ "GCM spec test case 8", CRYPTO_ENCR_AES192_GCM16,
	  .key = "00000000000000000000000000000000000000000000000000000000",
	  .iv = "0000000000000000", .aad = "", .plain = "00000000000000000000000000000000",
	  .cipher = "98e7247c07f0fe411c267e4384b0f600", .tag = "2ff58d80033927ab8ef4d4587514f0fb" },
	{ "GCM spec test case 9", CRYPTO_ENCR_AES192_GCM16,
	  .key = "feffe9928665731c6d6a8f9467308308feffe9928665731ccafebabe",
	  .iv = "facedbaddecaf888", .aad = "",
	  .plain = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	           "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
	  .cipher = "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c"
	            "7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710acade256",
	  .tag = "9924a7c8587336bfb118024db8674a14" },
	{ "GCM spec test case 10", CRYPTO_ENCR_AES192_GCM16,
	  .key = "feffe9928665731c6d6a8f9467308308feffe9928665731ccafebabe",
	  .iv = "facedbaddecaf888", .aad = "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	  .plain = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	           "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	  .cipher = "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c"
	            "7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710",
	  .tag = "2519498e80f1478f37ba55bd6d27618c" },
	{ "GCM spec test case 14", CRYPTO_ENCR_AES256_GCM16,
	  .key = "0000000000000000000000000000000000000000000000000000000000000000"
	         "00000000",
	  .iv = "0000000000000000", .aad = "", .plain = "00000000000000000000000000000000",
	  .cipher = "cea7403d4d606b6e074ec5d3baf39d18", .tag = "d0d1c8a799996bf0265b98b5d48ab919" },
	{ "GCM spec test case 15", CRYPTO_ENCR_AES256_GCM16,
	  .key = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
	         "cafebabe",
	  .iv = "facedbaddecaf888", .aad = "",
	  .plain = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	           "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
	  .cipher = "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	            "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
	  .tag = "b094dac5d93471bdec1a502270e3cc6c" },
	{ "GCM spec test case 16", CRYPTO_ENCR_AES256_GCM16,
	  .key = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
	         "cafebabe",
	  .iv = "facedbaddecaf888", .aad = "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	  .plain = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	           "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	  .cipher = "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	            "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	  .tag = "76fc6ece0f4e1768cddf8853bb2d551b" },
	{ "draft-mcgrew-gcm-test-01 case 1 (ESP, ESN)", CRYPTO_ENCR_AES128_GCM16,
	  .key = "4c80cdefbb5d10da906ac73c3613a6342e443b68", .iv = "4956ed7e3b244cfe",
	  .aad = "000043218765432100000000",
	  .plain = "45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000"
	           "00000000045f736970045f756470037369700963796265726369747902646b00"
	           "0021000101020201",
	  .cipher = "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34"
	            "cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce"
	            "61bc17d768fd9732",
	  .tag = "459018148f6cbe722fd04796562dfdb4" },
	{ "draft-mcgrew-gcm-test-01 case 2 (ESP)", CRYPTO_ENCR_AES192_GCM16,
	  .key = "feffe9928665731c6d6a8f9467308308feffe9928665731ccafebabe",
	  .iv = "facedbaddecaf888", .aad = "0000a5f80000000a",
	  .plain = "45000028a4ad4000400678800a01038f0a010612802306b8cb712602dd6bb03e"
	           "501016d075680001",
	  .cipher = "a5b1f8066029aea40e598b8122de02420938b3ab33f828e687b8858b5bfbdbd0"
	            "315b27452144cc77",
	  .tag = "95457b9652037f5318027b5b4cd7a636" },
	{ "draft-mcgrew-gcm-test-01 case 3 (ESP)", CRYPTO_ENCR_AES256_GCM16,
	  .key = "abbccddef00112233445566778899aababbccddef00112233445566778899aab"
	         "11223344",
	  .iv = "0102030405060708", .aad = "4a2cbfe300000002",
	  .plain = "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000"
	           "7002400020bf0000020405b40101040201020201",
	  .cipher = "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763"
	            "748a637985771d347f0545659f14e99def842d8e",
	  .tag = "b335f4eecfdbf831824b4c4915956c96" },
	{ "RFC 8439 2.8.2", CRYPTO_ENCR_CHACHA20_POLY1305,
	  .key = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	         "07000000",
	  .iv = "4041424344454647", .aad = "50515253c0c1c2c3c4c5c6c7",
	  .plain = "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
	           "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
	           "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
	           "637265656e20776f756c642062652069742e",
	  .cipher = "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	            "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	            "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	            "3ff4def08e4b7a9de576d26586cec64b6116",
	  .tag = "1ae10b594f09e26a7e902ecbd0600691" },
	{ "RFC 8439 A.5", CRYPTO_ENCR_CHACHA20_POLY1305,
	  .key = "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0"
	         "00000000",
	  .iv = "0102030405060708", .aad = "f33388860000000000004e91",
	  .plain = "496e7465726e65742d4472616674732061726520647261667420646f63756d65"
	           "6e74732076616c696420666f722061206d6178696d756d206f6620736978206d"
	           "6f6e74687320616e64206d617920626520757064617465642c207265706c6163"
	           "65642c206f72206f62736f6c65746564206279206f7468657220646f63756d65"
	           "6e747320617420616e792074696d652e20497420697320696e617070726f7072"
	           "6961746520746f2075736520496e7465726e65742d4472616674732061732072"
	           "65666572656e6365206d6174657269616c206f7220746f206369746520746865"
	           "6d206f74686572207468616e206173202fe2809c776f726b20696e2070726f67"
	           "726573732e2fe2809d",
	  .cipher = "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
	            "4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
	            "332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
	            "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
	            "b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
	            "af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
	            "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
	            "49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
	            "a6ad5cb4022b02709b",
	  .tag = "eead9d67890cbb22392336fea1851f38" },
	{ "RFC 7634 A.1 (ESP)", CRYPTO_ENCR_CHACHA20_POLY1305,
	  .key = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	         "a0a1a2a3",
	  .iv = "1011121314151617", .aad = "0102030400000005",
	  .plain = "45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec10"
	           "0007362708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223"
	           "2425262728292a2b2c2d2e2f303132333435363701020204",
	  .cipher = "24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c6"
	            "14ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3"
	            "cbec163fac469b502773f6fb94e664da9165b82829f641e0",
	  .tag = "76aaa8266b7fb0f7b11b369907e1ad43" },
	{ "RFC 7634 A.2 (IKEv2)", CRYPTO_ENCR_CHACHA20_POLY1305,
	  .key = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	         "a0a1a2a3",
	  .iv = "1011121314151617",
	  .aad = "c0c1c2c3c4c5c6c7d0d1d2d3d4d5d6d72e202500000000090000004529000029",
	  .plain = "0000000c000040010000000a00", .cipher = "610394701f8d017f7c12924889",
	  .tag = "6b71bfe25236efd7cdc67066906315b2" },
};

static size_t hex(const char *s, uint8_t *out)
{
	return hex2bin(s, out, BUF);
}

static bool all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

START_TEST(cbc_known_answers)
{
	const struct cbc_kat *v = &cbc_kats[_i];
	uint8_t key[BUF], iv[BUF], pt[BUF], ct[BUF], out[BUF];
	size_t key_len = hex(v->key, key), iv_len = hex(v->iv, iv), len = hex(v->plain, pt);
	struct crypto_sym s;

	ck_assert_uint_eq(hex(v->cipher, ct), len);
	ck_assert_uint_eq(iv_len, crypto_alg(v->alg)->iv_len);
	ck_assert_msg(crypto_sym_init(&s, v->alg, key, key_len, CRYPTO_INTEG_NONE, NULL, 0) == 0,
	              "%s: init", v->name);

	memset(out, 0xee, sizeof(out));
	ck_assert_int_eq(crypto_sym_encrypt(&s, iv, pt, out, len), 0);
	ck_assert_msg(memcmp(out, ct, len) == 0, "%s: encrypt", v->name);
	memset(out, 0xee, sizeof(out));
	ck_assert_int_eq(crypto_sym_decrypt(&s, iv, ct, out, len), 0);
	ck_assert_msg(memcmp(out, pt, len) == 0, "%s: decrypt", v->name);

	/* In place, as ESP does it. */
	memcpy(out, pt, len);
	ck_assert_int_eq(crypto_sym_encrypt(&s, iv, out, out, len), 0);
	ck_assert_msg(memcmp(out, ct, len) == 0, "%s: encrypt in place", v->name);
	ck_assert_int_eq(crypto_sym_decrypt(&s, iv, out, out, len), 0);
	ck_assert_msg(memcmp(out, pt, len) == 0, "%s: decrypt in place", v->name);
	crypto_sym_wipe(&s);
}
END_TEST

START_TEST(hmac_known_answers)
{
	const struct hmac_kat *v = &hmac_kats[_i];
	uint8_t key[BUF], data[BUF], exp[BUF], icv[BUF];
	size_t key_len = hex(v->key, key), len = hex(v->data, data);
	size_t icv_len = crypto_alg(v->alg)->icv_len;
	struct crypto_sym s;

	ck_assert_uint_eq(hex(v->icv, exp), icv_len);
	ck_assert_msg(crypto_sym_init(&s, CRYPTO_ENCR_NULL, NULL, 0, v->alg, key, key_len) == 0,
	              "%s: init", v->name);
	memset(icv, 0xee, sizeof(icv));
	ck_assert_int_eq(crypto_sym_icv(&s, data, len, icv), 0);
	ck_assert_msg(memcmp(icv, exp, icv_len) == 0, "%s: icv", v->name);
	/* Truncated: nothing past icv_len is written. */
	ck_assert_uint_eq(icv[icv_len], 0xee);
	ck_assert_int_eq(crypto_sym_icv_verify(&s, data, len, exp), 0);

	size_t data_pos[] = { 0, len / 2, len - 1 };
	for (size_t i = 0; i < ARRAY_SIZE(data_pos); i++) {
		data[data_pos[i]] ^= 0x01;
		ck_assert_msg(crypto_sym_icv_verify(&s, data, len, exp) == -EBADMSG,
		              "%s: flipped data byte %zu accepted", v->name, data_pos[i]);
		data[data_pos[i]] ^= 0x01;
	}
	for (size_t i = 0; i < icv_len; i++) {
		exp[i] ^= 0x80;
		ck_assert_msg(crypto_sym_icv_verify(&s, data, len, exp) == -EBADMSG,
		              "%s: flipped icv byte %zu accepted", v->name, i);
		exp[i] ^= 0x80;
	}
	ck_assert_int_eq(crypto_sym_icv_verify(&s, data, len, exp), 0);
	crypto_sym_wipe(&s);
}
END_TEST

START_TEST(aead_known_answers)
{
	const struct aead_kat *v = &aead_kats[_i];
	uint8_t key[BUF], iv[BUF], aad[BUF], pt[BUF], ct[BUF], tag[BUF], out[BUF], got_tag[16];
	size_t key_len = hex(v->key, key), aad_len = hex(v->aad, aad), len = hex(v->plain, pt);
	struct crypto_sym s;

	ck_assert_uint_eq(hex(v->iv, iv), 8);
	ck_assert_uint_eq(hex(v->cipher, ct), len);
	ck_assert_uint_eq(hex(v->tag, tag), 16);
	ck_assert_msg(crypto_sym_init(&s, v->alg, key, key_len, CRYPTO_INTEG_NONE, NULL, 0) == 0,
	              "%s: init", v->name);
	ck_assert_mem_eq(s.salt, key + key_len - 4, 4);

	memset(out, 0xee, sizeof(out));
	ck_assert_int_eq(crypto_sym_seal(&s, iv, aad, aad_len, pt, out, len, got_tag), 0);
	ck_assert_msg(memcmp(out, ct, len) == 0, "%s: ciphertext", v->name);
	ck_assert_msg(memcmp(got_tag, tag, 16) == 0, "%s: tag", v->name);
	memset(out, 0xee, sizeof(out));
	ck_assert_int_eq(crypto_sym_open(&s, iv, aad, aad_len, ct, out, len, tag), 0);
	ck_assert_msg(memcmp(out, pt, len) == 0, "%s: open", v->name);

	memcpy(out, pt, len);
	ck_assert_int_eq(crypto_sym_seal(&s, iv, aad, aad_len, out, out, len, got_tag), 0);
	ck_assert_msg(memcmp(out, ct, len) == 0, "%s: seal in place", v->name);
	ck_assert_int_eq(crypto_sym_open(&s, iv, aad, aad_len, out, out, len, got_tag), 0);
	ck_assert_msg(memcmp(out, pt, len) == 0, "%s: open in place", v->name);

	/* Any change to ciphertext, AAD, tag or IV fails, and no plaintext leaks. */
	if (len) {
		ct[len - 1] ^= 0x01;
		memset(out, 0xee, sizeof(out));
		ck_assert_int_eq(crypto_sym_open(&s, iv, aad, aad_len, ct, out, len, tag),
		                 -EBADMSG);
		ck_assert_msg(all_zero(out, len), "%s: output not wiped", v->name);
		ct[len - 1] ^= 0x01;
	}
	if (aad_len) {
		aad[0] ^= 0x01;
		ck_assert_int_eq(crypto_sym_open(&s, iv, aad, aad_len, ct, out, len, tag),
		                 -EBADMSG);
		aad[0] ^= 0x01;
	}
	tag[15] ^= 0x01;
	ck_assert_int_eq(crypto_sym_open(&s, iv, aad, aad_len, ct, out, len, tag), -EBADMSG);
	tag[15] ^= 0x01;
	iv[7] ^= 0x01;
	ck_assert_int_eq(crypto_sym_open(&s, iv, aad, aad_len, ct, out, len, tag), -EBADMSG);
	iv[7] ^= 0x01;
	ck_assert_int_eq(crypto_sym_open(&s, iv, aad, aad_len, ct, out, len, tag), 0);
	crypto_sym_wipe(&s);
}
END_TEST

/* Random key material of the right size for a row. */
static size_t random_key(enum crypto_alg_id id, uint8_t *key)
{
	size_t len = crypto_alg(id)->key_len;

	randombytes_buf(key, len);
	return len;
}

static void init_random(struct crypto_sym *s, enum crypto_alg_id encr, enum crypto_alg_id integ)
{
	uint8_t ek[64], ak[64];
	size_t ek_len = random_key(encr, ek), ak_len = random_key(integ, ak);

	ck_assert_int_eq(crypto_sym_init(s, encr, ek, ek_len, integ, ak, ak_len), 0);
}

static const struct {
	enum crypto_alg_id encr, integ;
} job_suites[] = {
	{ CRYPTO_ENCR_AES128_CBC, CRYPTO_INTEG_HMAC_SHA1_96 },
	{ CRYPTO_ENCR_AES192_CBC, CRYPTO_INTEG_HMAC_SHA256_128 },
	{ CRYPTO_ENCR_AES256_CBC, CRYPTO_INTEG_HMAC_SHA512_256 },
	{ CRYPTO_ENCR_3DES_CBC, CRYPTO_INTEG_HMAC_MD5_96 },
	{ CRYPTO_ENCR_DES_CBC, CRYPTO_INTEG_HMAC_SHA384_192 },
	{ CRYPTO_ENCR_NULL, CRYPTO_INTEG_HMAC_SHA256_128 },
	{ CRYPTO_ENCR_AES128_CBC, CRYPTO_INTEG_NONE },
	{ CRYPTO_ENCR_AES128_GCM16, CRYPTO_INTEG_NONE },
	{ CRYPTO_ENCR_AES192_GCM16, CRYPTO_INTEG_NONE },
	{ CRYPTO_ENCR_AES256_GCM16, CRYPTO_INTEG_NONE },
	{ CRYPTO_ENCR_CHACHA20_POLY1305, CRYPTO_INTEG_NONE },
};

#define JOB_PKTS    8
#define JOB_HDR     8 /* SPI + sequence number: ESP's AAD / start of the ICV */
#define JOB_PAYLOAD 96

struct job_pkt {
	uint8_t buf[JOB_HDR + 16 + JOB_PAYLOAD]; /* hdr | iv | payload */
	uint8_t nonce[12];
	uint8_t tag[32];
};

/*
 * Fill a job the way the ESP data path will: per-SA fields from
 * crypto_sym_job_prepare(), per-packet fields here, in place.
 */
static void fill_job(const struct crypto_sym *s, IMB_JOB *job, IMB_CIPHER_DIRECTION dir,
                     struct job_pkt *p)
{
	const struct crypto_alg *e = s->encr;

	crypto_sym_job_prepare(s, job, dir);
	job->src = p->buf;
	/* dst is where the cipher output starts: the offset applies to src only. */
	job->dst = p->buf + JOB_HDR + e->iv_len;
	job->cipher_start_src_offset_in_bytes = JOB_HDR + e->iv_len;
	job->msg_len_to_cipher_in_bytes = JOB_PAYLOAD;
	job->auth_tag_output = p->tag;
	if (e->aead) {
		memcpy(p->nonce, s->salt, 4);
		memcpy(p->nonce + 4, p->buf + JOB_HDR, 8);
		job->iv = p->nonce;
		job->iv_len_in_bytes = 12;
		job->hash_start_src_offset_in_bytes = JOB_HDR + e->iv_len;
		job->msg_len_to_hash_in_bytes = JOB_PAYLOAD;
		if (s->imb_cipher == IMB_CIPHER_GCM) {
			job->u.GCM.aad = p->buf;
			job->u.GCM.aad_len_in_bytes = JOB_HDR;
		} else {
			job->u.CHACHA20_POLY1305.aad = p->buf;
			job->u.CHACHA20_POLY1305.aad_len_in_bytes = JOB_HDR;
		}
	} else {
		job->iv = p->buf + JOB_HDR;
		job->iv_len_in_bytes = e->iv_len;
		/* RFC 4303 3.3.4: the ICV covers header, IV and ciphertext. */
		job->hash_start_src_offset_in_bytes = 0;
		job->msg_len_to_hash_in_bytes = JOB_HDR + e->iv_len + JOB_PAYLOAD;
	}
}

/* Submit JOB_PKTS jobs at once (several lanes in flight), then drain. */
static void run_jobs(const struct crypto_sym *s, IMB_CIPHER_DIRECTION dir, struct job_pkt *pkts)
{
	IMB_MGR *mgr = crypto_imb();
	unsigned done = 0;
	IMB_JOB *job;

	ck_assert_ptr_nonnull(mgr);
	for (uintptr_t i = 0; i < JOB_PKTS; i++) {
		job = IMB_GET_NEXT_JOB(mgr);
		fill_job(s, job, dir, &pkts[i]);
		job->user_data = (void *)(i + 1);
		job = IMB_SUBMIT_JOB(mgr);
		while (job != NULL) {
			ck_assert_int_eq(job->status, IMB_STATUS_COMPLETED);
			done++;
			job = IMB_GET_COMPLETED_JOB(mgr);
		}
	}
	while ((job = IMB_FLUSH_JOB(mgr)) != NULL) {
		ck_assert_int_eq(job->status, IMB_STATUS_COMPLETED);
		done++;
	}
	ck_assert_uint_eq(done, JOB_PKTS);
	ck_assert_uint_eq(IMB_QUEUE_SIZE(mgr), 0);
}

START_TEST(job_path_matches_one_shot)
{
	enum crypto_alg_id encr = job_suites[_i].encr, integ = job_suites[_i].integ;
	static struct job_pkt pkts[JOB_PKTS], plain[JOB_PKTS], sent[JOB_PKTS];
	struct crypto_sym s;

	init_random(&s, encr, integ);
	const struct crypto_alg *e = s.encr, *a = s.integ;
	size_t icv_len = e->aead ? e->icv_len : a->icv_len;
	size_t iv_len = e->iv_len, pay = JOB_HDR + iv_len, total = pay + JOB_PAYLOAD;

	for (unsigned i = 0; i < JOB_PKTS; i++) {
		randombytes_buf(pkts[i].buf, sizeof(pkts[i].buf));
		memset(pkts[i].tag, 0, sizeof(pkts[i].tag));
		plain[i] = pkts[i];
	}
	run_jobs(&s, IMB_DIR_ENCRYPT, pkts);

	for (unsigned i = 0; i < JOB_PKTS; i++) {
		uint8_t exp[sizeof(pkts[0].buf)], tag[32];

		memcpy(exp, plain[i].buf, pay);
		if (e->aead) {
			ck_assert_int_eq(crypto_sym_seal(&s, exp + JOB_HDR, exp, JOB_HDR,
			                                 plain[i].buf + pay, exp + pay, JOB_PAYLOAD,
			                                 tag),
			                 0);
		} else {
			ck_assert_int_eq(crypto_sym_encrypt(&s, exp + JOB_HDR, plain[i].buf + pay,
			                                    exp + pay, JOB_PAYLOAD),
			                 0);
			if (icv_len)
				ck_assert_int_eq(crypto_sym_icv(&s, exp, total, tag), 0);
		}
		ck_assert_msg(memcmp(pkts[i].buf, exp, total) == 0, "packet %u differs", i);
		if (icv_len)
			ck_assert_msg(memcmp(pkts[i].tag, tag, icv_len) == 0, "tag %u differs", i);
		else
			ck_assert(all_zero(pkts[i].tag, sizeof(pkts[i].tag)));
	}

	/* Inbound: ICV over the ciphertext first, then decrypt, in place. */
	for (unsigned i = 0; i < JOB_PKTS; i++) {
		sent[i] = pkts[i];
		memset(pkts[i].tag, 0, sizeof(pkts[i].tag));
	}
	run_jobs(&s, IMB_DIR_DECRYPT, pkts);
	for (unsigned i = 0; i < JOB_PKTS; i++) {
		ck_assert_msg(memcmp(pkts[i].buf, plain[i].buf, total) == 0, "packet %u", i);
		ck_assert_msg(memcmp(pkts[i].tag, sent[i].tag, icv_len) == 0, "icv %u", i);
	}
	crypto_sym_wipe(&s);
}
END_TEST

/* init() with a filled struct: on failure every byte must be zero again. */
static int init_dirty(struct crypto_sym *s, enum crypto_alg_id encr, const uint8_t *ek,
                      size_t ek_len, enum crypto_alg_id integ, const uint8_t *ak, size_t ak_len)
{
	int rc;

	memset(s, 0xa5, sizeof(*s));
	rc = crypto_sym_init(s, encr, ek, ek_len, integ, ak, ak_len);
	if (rc != 0)
		ck_assert_msg(all_zero(s, sizeof(*s)), "not wiped after rc %d", rc);
	return rc;
}

START_TEST(init_rejects_wrong_lengths_and_combinations)
{
	uint8_t k[128];
	struct crypto_sym s;

	randombytes_buf(k, sizeof(k));
	for (unsigned id = 0; id < CRYPTO_ALG_COUNT; id++) {
		const struct crypto_alg *a = crypto_alg(id);

		if (a->kind == CRYPTO_ENCR) {
			enum crypto_alg_id integ = id == CRYPTO_ENCR_NULL
			                                   ? CRYPTO_INTEG_HMAC_SHA1_96
			                                   : CRYPTO_INTEG_NONE;
			size_t ak = crypto_alg(integ)->key_len;

			ck_assert_int_eq(init_dirty(&s, id, k, a->key_len, integ, k, ak), 0);
			ck_assert_int_eq(init_dirty(&s, id, k, a->key_len + 1, integ, k, ak),
			                 -EINVAL);
			if (a->key_len)
				ck_assert_int_eq(
				        init_dirty(&s, id, k, a->key_len - 1, integ, k, ak),
				        -EINVAL);
		} else if (a->kind == CRYPTO_INTEG && id != CRYPTO_INTEG_NONE) {
			ck_assert_int_eq(
			        init_dirty(&s, CRYPTO_ENCR_AES128_CBC, k, 16, id, k, a->key_len),
			        0);
			ck_assert_int_eq(init_dirty(&s, CRYPTO_ENCR_AES128_CBC, k, 16, id, k,
			                            a->key_len - 1),
			                 -EINVAL);
			ck_assert_int_eq(init_dirty(&s, CRYPTO_ENCR_AES128_CBC, k, 16, id, k,
			                            a->key_len + 1),
			                 -EINVAL);
			/* An AEAD carries its own ICV. */
			ck_assert_int_eq(
			        init_dirty(&s, CRYPTO_ENCR_AES128_GCM16, k, 20, id, k, a->key_len),
			        -EINVAL);
			ck_assert_int_eq(init_dirty(&s, CRYPTO_ENCR_CHACHA20_POLY1305, k, 36, id, k,
			                            a->key_len),
			                 -EINVAL);
		}
	}
	/* ESP must have confidentiality or integrity. */
	ck_assert_int_eq(init_dirty(&s, CRYPTO_ENCR_NULL, NULL, 0, CRYPTO_INTEG_NONE, NULL, 0),
	                 -EINVAL);
	/* CBC without integrity is legal ESP (RFC 4303 3.2). */
	ck_assert_int_eq(init_dirty(&s, CRYPTO_ENCR_AES256_CBC, k, 32, CRYPTO_INTEG_NONE, NULL, 0),
	                 0);
	/* Wrong kinds and ids out of range. */
	ck_assert_int_eq(
	        init_dirty(&s, CRYPTO_INTEG_HMAC_SHA1_96, k, 20, CRYPTO_INTEG_NONE, NULL, 0),
	        -EINVAL);
	ck_assert_int_eq(
	        init_dirty(&s, CRYPTO_ENCR_AES128_CBC, k, 16, CRYPTO_PRF_HMAC_SHA256, k, 32),
	        -EINVAL);
	ck_assert_int_eq(
	        init_dirty(&s, CRYPTO_ENCR_AES128_CBC, k, 16, CRYPTO_ENCR_AES128_CBC, k, 16),
	        -EINVAL);
	ck_assert_int_eq(init_dirty(&s, CRYPTO_ALG_COUNT, k, 16, CRYPTO_INTEG_NONE, NULL, 0),
	                 -EINVAL);
	ck_assert_int_eq(init_dirty(&s, CRYPTO_DH_MODP2048, k, 0, CRYPTO_INTEG_HMAC_SHA1_96, k, 20),
	                 -EINVAL);
	crypto_sym_wipe(&s);
}
END_TEST

START_TEST(one_shots_refuse_misuse)
{
	uint8_t iv[16] = { 0 }, buf[64] = { 0 }, tag[32];
	struct crypto_sym cbc, gcm, hmac;

	init_random(&cbc, CRYPTO_ENCR_AES128_CBC, CRYPTO_INTEG_NONE);
	init_random(&hmac, CRYPTO_ENCR_NULL, CRYPTO_INTEG_HMAC_SHA256_128);
	init_random(&gcm, CRYPTO_ENCR_AES128_GCM16, CRYPTO_INTEG_NONE);
	/* CBC needs whole blocks. */
	ck_assert_int_eq(crypto_sym_encrypt(&cbc, iv, buf, buf, 15), -EINVAL);
	ck_assert_int_eq(crypto_sym_decrypt(&cbc, iv, buf, buf, 17), -EINVAL);
	/* Each call only for the transform the SA has. */
	ck_assert_int_eq(crypto_sym_seal(&cbc, iv, NULL, 0, buf, buf, 16, tag), -EINVAL);
	ck_assert_int_eq(crypto_sym_open(&cbc, iv, NULL, 0, buf, buf, 16, tag), -EINVAL);
	ck_assert_int_eq(crypto_sym_encrypt(&gcm, iv, buf, buf, 16), -EINVAL);
	ck_assert_int_eq(crypto_sym_icv(&cbc, buf, 16, tag), -EINVAL);
	ck_assert_int_eq(crypto_sym_icv(&gcm, buf, 16, tag), -EINVAL);
	ck_assert_int_eq(crypto_sym_icv_verify(&cbc, buf, 16, tag), -EINVAL);
	/* IPsec-MB hashes at least one byte; ESP and IKE always have a header. */
	ck_assert_int_eq(crypto_sym_icv(&hmac, buf, 0, tag), -EINVAL);
	crypto_sym_wipe(&cbc);
	crypto_sym_wipe(&gcm);
	crypto_sym_wipe(&hmac);
}
END_TEST

START_TEST(one_shot_never_takes_a_queued_job)
{
	uint8_t data[64] = { 1 }, tag[32], icv[32];
	struct crypto_sym s;
	IMB_MGR *mgr = crypto_imb();
	IMB_JOB *job, *done;

	init_random(&s, CRYPTO_ENCR_NULL, CRYPTO_INTEG_HMAC_SHA1_96);
	/* A lone HMAC job waits in a multi-buffer lane until flushed. */
	job = IMB_GET_NEXT_JOB(mgr);
	crypto_sym_job_prepare(&s, job, IMB_DIR_ENCRYPT);
	job->src = data;
	job->dst = data;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = 0;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = sizeof(data);
	job->iv = NULL;
	job->iv_len_in_bytes = 0;
	job->auth_tag_output = tag;
	ck_assert_ptr_null(IMB_SUBMIT_JOB(mgr));
	ck_assert_uint_eq(IMB_QUEUE_SIZE(mgr), 1);

	ck_assert_int_eq(crypto_sym_icv(&s, data, sizeof(data), icv), -EINVAL);
	ck_assert_uint_eq(IMB_QUEUE_SIZE(mgr), 1);

	done = IMB_FLUSH_JOB(mgr);
	ck_assert_ptr_eq(done, job);
	ck_assert_int_eq(done->status, IMB_STATUS_COMPLETED);
	ck_assert_int_eq(crypto_sym_icv(&s, data, sizeof(data), icv), 0);
	ck_assert_mem_eq(icv, tag, 12);
	crypto_sym_wipe(&s);
}
END_TEST

START_TEST(null_encryption_copies)
{
	uint8_t in[48], out[48], tag[12];
	struct crypto_sym s;

	init_random(&s, CRYPTO_ENCR_NULL, CRYPTO_INTEG_HMAC_SHA1_96);
	randombytes_buf(in, sizeof(in));
	ck_assert_int_eq(crypto_sym_encrypt(&s, NULL, in, out, sizeof(in)), 0);
	ck_assert_mem_eq(out, in, sizeof(in));
	memset(out, 0, sizeof(out));
	ck_assert_int_eq(crypto_sym_decrypt(&s, NULL, in, out, sizeof(in)), 0);
	ck_assert_mem_eq(out, in, sizeof(in));
	ck_assert_int_eq(crypto_sym_icv(&s, in, sizeof(in), tag), 0);
	ck_assert_int_eq(crypto_sym_icv_verify(&s, in, sizeof(in), tag), 0);
	crypto_sym_wipe(&s);
}
END_TEST

START_TEST(wipe_clears_every_byte)
{
	struct crypto_sym s;

	init_random(&s, CRYPTO_ENCR_AES256_CBC, CRYPTO_INTEG_HMAC_SHA512_256);
	ck_assert(!all_zero(s.hmac_ipad, sizeof(s.hmac_ipad)));
	ck_assert(!all_zero(&s.k, sizeof(s.k)));
	crypto_sym_wipe(&s);
	ck_assert(all_zero(&s, sizeof(s)));
}
END_TEST

static void *other_thread(void *arg)
{
	const struct crypto_sym *s = arg;
	uint8_t iv[8] = { 0 }, buf[32] = { 0 }, tag[16];
	static IMB_MGR *mgr;

	mgr = crypto_imb();
	if (mgr == NULL || crypto_imb() != mgr)
		return NULL;
	/* Keys expanded on one thread serve any thread's manager. */
	if (crypto_sym_seal(s, iv, NULL, 0, buf, buf, sizeof(buf), tag) != 0)
		return NULL;
	if (crypto_sym_open(s, iv, NULL, 0, buf, buf, sizeof(buf), tag) != 0)
		return NULL;
	return mgr;
}

START_TEST(one_manager_per_thread)
{
	static const char *const archs[] = { "sse", "avx", "avx2", "avx512" };
	IMB_MGR *mine = crypto_imb();
	struct crypto_sym s;
	pthread_t t;
	void *theirs = NULL;
	bool known = false;

	ck_assert_ptr_nonnull(mine);
	ck_assert_ptr_eq(crypto_imb(), mine);
	for (size_t i = 0; i < ARRAY_SIZE(archs); i++)
		known |= strcmp(crypto_imb_arch_name(), archs[i]) == 0;
	ck_assert_msg(known, "arch %s", crypto_imb_arch_name());

	init_random(&s, CRYPTO_ENCR_AES256_GCM16, CRYPTO_INTEG_NONE);
	ck_assert_int_eq(pthread_create(&t, NULL, other_thread, &s), 0);
	ck_assert_int_eq(pthread_join(t, &theirs), 0);
	ck_assert_ptr_nonnull(theirs);
	ck_assert_ptr_ne(theirs, mine);
	crypto_sym_wipe(&s);
}
END_TEST

/* Cross-check against OpenSSL on random keys, data and lengths. */
static const EVP_CIPHER *ossl_cipher(enum crypto_alg_id id)
{
	switch (id) {
	case CRYPTO_ENCR_3DES_CBC:
		return EVP_des_ede3_cbc();
	case CRYPTO_ENCR_AES128_CBC:
		return EVP_aes_128_cbc();
	case CRYPTO_ENCR_AES192_CBC:
		return EVP_aes_192_cbc();
	case CRYPTO_ENCR_AES256_CBC:
		return EVP_aes_256_cbc();
	case CRYPTO_ENCR_AES128_GCM16:
		return EVP_aes_128_gcm();
	case CRYPTO_ENCR_AES192_GCM16:
		return EVP_aes_192_gcm();
	case CRYPTO_ENCR_AES256_GCM16:
		return EVP_aes_256_gcm();
	case CRYPTO_ENCR_CHACHA20_POLY1305:
		return EVP_chacha20_poly1305();
	default:
		return NULL;
	}
}

static const EVP_MD *ossl_md(enum crypto_alg_id id)
{
	switch (id) {
	case CRYPTO_INTEG_HMAC_MD5_96:
		return EVP_md5();
	case CRYPTO_INTEG_HMAC_SHA1_96:
		return EVP_sha1();
	case CRYPTO_INTEG_HMAC_SHA256_128:
		return EVP_sha256();
	case CRYPTO_INTEG_HMAC_SHA384_192:
		return EVP_sha384();
	case CRYPTO_INTEG_HMAC_SHA512_256:
		return EVP_sha512();
	default:
		return NULL;
	}
}

static void ossl_crypt(const EVP_CIPHER *c, const uint8_t *key, const uint8_t *iv,
                       const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                       uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n, fin;

	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(EVP_EncryptInit_ex(ctx, c, NULL, key, iv), 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	if (aad_len)
		ck_assert_int_eq(EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len), 1);
	ck_assert_int_eq(EVP_EncryptUpdate(ctx, out, &n, in, (int)len), 1);
	ck_assert_int_eq(EVP_EncryptFinal_ex(ctx, out + n, &fin), 1);
	ck_assert_uint_eq((size_t)(n + fin), len);
	if (tag)
		ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag), 1);
	EVP_CIPHER_CTX_free(ctx);
}

START_TEST(agrees_with_openssl)
{
	static const size_t lens[] = { 0,  1,   15,  16,  17,  55,  56,  63,   64,
		                       65, 111, 112, 127, 128, 129, 255, 1000, 1024 };
	uint8_t key[64], iv[16], aad[20], in[BUF], out[BUF], ref[BUF], tag[32], ref_tag[64];

	for (unsigned id = 0; id < CRYPTO_ALG_COUNT; id++) {
		const struct crypto_alg *a = crypto_alg(id);
		const EVP_CIPHER *c = a->kind == CRYPTO_ENCR ? ossl_cipher(id) : NULL;
		const EVP_MD *md = a->kind == CRYPTO_INTEG ? ossl_md(id) : NULL;
		struct crypto_sym s;

		if (c == NULL && md == NULL)
			continue; /* DES (OpenSSL legacy provider): FIPS 81 answer above */
		for (size_t li = 0; li < ARRAY_SIZE(lens); li++) {
			size_t len = lens[li], aad_len = (li % 3) * 4 + (li % 2) * 8;

			randombytes_buf(in, len);
			randombytes_buf(aad, sizeof(aad));
			randombytes_buf(iv, sizeof(iv));
			if (md && len == 0) {
				continue; /* no ICV over nothing: one_shots_refuse_misuse */
			} else if (md) {
				unsigned md_len = 0;

				randombytes_buf(key, a->key_len);
				ck_assert_int_eq(crypto_sym_init(&s, CRYPTO_ENCR_NULL, NULL, 0, id,
				                                 key, a->key_len),
				                 0);
				ck_assert_int_eq(crypto_sym_icv(&s, in, len, tag), 0);
				ck_assert_ptr_nonnull(
				        HMAC(md, key, (int)a->key_len, in, len, ref_tag, &md_len));
				ck_assert_msg(memcmp(tag, ref_tag, a->icv_len) == 0, "%s len %zu",
				              a->name, len);
			} else if (a->aead) {
				uint8_t nonce[12];

				randombytes_buf(key, a->key_len);
				ck_assert_int_eq(crypto_sym_init(&s, id, key, a->key_len,
				                                 CRYPTO_INTEG_NONE, NULL, 0),
				                 0);
				memcpy(nonce, key + a->key_len - 4, 4);
				memcpy(nonce + 4, iv, 8);
				ossl_crypt(c, key, nonce, aad, aad_len, in, len, ref, ref_tag);
				ck_assert_int_eq(
				        crypto_sym_seal(&s, iv, aad, aad_len, in, out, len, tag),
				        0);
				ck_assert_msg(memcmp(out, ref, len) == 0 &&
				                      memcmp(tag, ref_tag, 16) == 0,
				              "%s len %zu aad %zu", a->name, len, aad_len);
				ck_assert_int_eq(crypto_sym_open(&s, iv, aad, aad_len, ref, out,
				                                 len, ref_tag),
				                 0);
				ck_assert_mem_eq(out, in, len);
			} else {
				size_t blen =
				        (len + a->block_len - 1) / a->block_len * a->block_len;

				randombytes_buf(in + len, blen - len);
				randombytes_buf(key, a->key_len);
				ck_assert_int_eq(crypto_sym_init(&s, id, key, a->key_len,
				                                 CRYPTO_INTEG_NONE, NULL, 0),
				                 0);
				ossl_crypt(c, key, iv, NULL, 0, in, blen, ref, NULL);
				ck_assert_int_eq(crypto_sym_encrypt(&s, iv, in, out, blen), 0);
				ck_assert_msg(memcmp(out, ref, blen) == 0, "%s len %zu", a->name,
				              blen);
				ck_assert_int_eq(crypto_sym_decrypt(&s, iv, ref, out, blen), 0);
				ck_assert_mem_eq(out, in, blen);
			}
			crypto_sym_wipe(&s);
		}
	}
}
END_TEST

static Suite *crypto_sym_suite(void)
{
	Suite *s = suite_create("crypto_sym");
	TCase *kat = tcase_create("known_answers");
	TCase *use = tcase_create("use");

	tcase_add_loop_test(kat, cbc_known_answers, 0, ARRAY_SIZE(cbc_kats));
	tcase_add_loop_test(kat, hmac_known_answers, 0, ARRAY_SIZE(hmac_kats));
	tcase_add_loop_test(kat, aead_known_answers, 0, ARRAY_SIZE(aead_kats));
	tcase_add_test(kat, agrees_with_openssl);
	suite_add_tcase(s, kat);

	tcase_add_loop_test(use, job_path_matches_one_shot, 0, ARRAY_SIZE(job_suites));
	tcase_add_test(use, init_rejects_wrong_lengths_and_combinations);
	tcase_add_test(use, one_shots_refuse_misuse);
	tcase_add_test(use, one_shot_never_takes_a_queued_job);
	tcase_add_test(use, null_encryption_copies);
	tcase_add_test(use, wipe_clears_every_byte);
	tcase_add_test(use, one_manager_per_thread);
	suite_add_tcase(s, use);
	return s;
}

TEST_MAIN(crypto_sym_suite)
