/* SPDX-License-Identifier: BSD-3-Clause */
#include "crypto_alg.h"

#include <stdio.h>
#include <string.h>

static const struct crypto_alg algs[CRYPTO_ALG_COUNT] = {
#define CRYPTO_ALG_ROW(id_, kind_, name_, v2_, v2bits_, v1ike_, v1esp_, key_, salt_, iv_, icv_, \
                       block_, out_, backend_)                                                  \
	[CRYPTO_##id_] = { .id = CRYPTO_##id_,                                                  \
		           .kind = kind_,                                                       \
		           .name = name_,                                                       \
		           .ikev2_id = v2_,                                                     \
		           .ikev2_key_bits = v2bits_,                                           \
		           .ikev1_ike = v1ike_,                                                 \
		           .ikev1_esp = v1esp_,                                                 \
		           .key_len = key_,                                                     \
		           .salt_len = salt_,                                                   \
		           .iv_len = iv_,                                                       \
		           .icv_len = icv_,                                                     \
		           .block_len = block_,                                                 \
		           .out_len = out_,                                                     \
		           .backend = CRYPTO_BACKEND_##backend_,                                \
		           .aead = (kind_) == CRYPTO_ENCR && (icv_) != 0 },
	CRYPTO_ALGS(CRYPTO_ALG_ROW)
#undef CRYPTO_ALG_ROW
};

const struct crypto_alg *crypto_alg(enum crypto_alg_id id)
{
	return (unsigned)id < CRYPTO_ALG_COUNT ? &algs[id] : NULL;
}

const struct crypto_alg *crypto_alg_by_name(enum crypto_kind kind, const char *name)
{
	for (unsigned i = 0; i < CRYPTO_ALG_COUNT; i++)
		if (algs[i].kind == kind && strcmp(algs[i].name, name) == 0)
			return &algs[i];
	return NULL;
}

/*
 * Ciphers with a Key Length attribute (AES) need it to match; the others
 * must not carry one (RFC 7296 3.3.5), but a 0 or their fixed size is taken.
 */
static bool key_bits_match(const struct crypto_alg *a, uint16_t key_bits)
{
	if (a->ikev2_key_bits != 0)
		return key_bits == a->ikev2_key_bits;
	return key_bits == 0 ||
	       (a->kind == CRYPTO_ENCR && key_bits == 8u * (a->key_len - a->salt_len));
}

const struct crypto_alg *crypto_alg_by_ikev2(enum crypto_kind kind, uint16_t id, uint16_t key_bits)
{
	for (unsigned i = 0; i < CRYPTO_ALG_COUNT; i++) {
		const struct crypto_alg *a = &algs[i];

		if (a->kind != kind || a->ikev2_id != id)
			continue;
		/* INTEG_NONE has id 0, which is a real value for type 3 only. */
		if (id == 0 && kind != CRYPTO_INTEG)
			continue;
		if (key_bits_match(a, key_bits))
			return a;
	}
	return NULL;
}

static const struct crypto_alg *by_ikev1(enum crypto_kind kind, uint16_t value, uint16_t key_bits,
                                         bool esp)
{
	if (value == 0)
		return NULL;
	for (unsigned i = 0; i < CRYPTO_ALG_COUNT; i++) {
		const struct crypto_alg *a = &algs[i];

		if (a->kind != kind || (esp ? a->ikev1_esp : a->ikev1_ike) != value)
			continue;
		/* IKEv1 sends AES's key length as an attribute; absent means 128. */
		if (a->ikev2_key_bits != 0 && key_bits == 0 && a->ikev2_key_bits == 128)
			return a;
		if (key_bits_match(a, key_bits))
			return a;
	}
	return NULL;
}

const struct crypto_alg *crypto_alg_by_ikev1_ike(enum crypto_kind kind, uint16_t value,
                                                 uint16_t key_bits)
{
	return by_ikev1(kind, value, key_bits, false);
}

const struct crypto_alg *crypto_alg_by_ikev1_esp(enum crypto_kind kind, uint16_t value,
                                                 uint16_t key_bits)
{
	return by_ikev1(kind, value, key_bits, true);
}

const char *crypto_kind_name(enum crypto_kind kind)
{
	switch (kind) {
	case CRYPTO_ENCR:
		return "encryption";
	case CRYPTO_PRF:
		return "prf";
	case CRYPTO_INTEG:
		return "integrity";
	case CRYPTO_DH:
		return "dh_group";
	}
	return "?";
}

void crypto_kind_allowed(enum crypto_kind kind, char *buf, size_t cap)
{
	size_t used = 0;

	if (cap == 0)
		return;
	buf[0] = '\0';
	for (unsigned i = 0; i < CRYPTO_ALG_COUNT; i++) {
		if (algs[i].kind != kind)
			continue;
		int n = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", algs[i].name);
		if (n < 0 || (size_t)n >= cap - used)
			break;
		used += (size_t)n;
	}
}
