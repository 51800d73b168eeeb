/* SPDX-License-Identifier: BSD-3-Clause */
/* IKEv1 IVs, CBC chaining, padding, phase 1 hashes and KEYMAT (RFC 2409). */
#include "ikev1_crypto.h"

#include <string.h>

#include "compiler.h"
#include "crypto_mem.h"
#include "cursor.h"

int v1_iv_phase1(enum crypto_alg_id prf, const uint8_t *gxi, size_t gxi_len, const uint8_t *gxr,
                 size_t gxr_len, size_t block_len, uint8_t *iv)
{
	uint8_t h[CRYPTO_PRF_MAX_OUT];
	const struct crypto_iov in[] = { { gxi, gxi_len }, { gxr, gxr_len } };

	if (block_len > V1_BLOCK_MAX || block_len > crypto_alg(prf)->out_len ||
	    crypto_hash_v(prf, in, ARRAY_SIZE(in), h) != 0)
		return -1;
	memcpy(iv, h, block_len);
	return 0;
}

int v1_iv_msgid(enum crypto_alg_id prf, const uint8_t *p1_iv, size_t block_len, uint32_t msgid,
                uint8_t *iv)
{
	uint8_t h[CRYPTO_PRF_MAX_OUT], mid[4];

	put_be32(mid, msgid);
	const struct crypto_iov in[] = { { p1_iv, block_len }, { mid, 4 } };
	if (block_len > V1_BLOCK_MAX || block_len > crypto_alg(prf)->out_len ||
	    crypto_hash_v(prf, in, ARRAY_SIZE(in), h) != 0)
		return -1;
	memcpy(iv, h, block_len);
	return 0;
}

int v1_encrypt(const struct crypto_sym *s, uint8_t *iv, uint8_t *buf, size_t plain_len, size_t cap,
               size_t *out_len)
{
	size_t bs = s->encr->block_len;
	size_t pad = bs - plain_len % bs; /* 1..bs: always some padding */
	size_t len = plain_len + pad;

	if (bs == 0 || bs > V1_BLOCK_MAX || len > cap)
		return -1;
	memset(buf + plain_len, 0, pad);
	buf[len - 1] = (uint8_t)(pad - 1);
	if (crypto_sym_encrypt(s, iv, buf, buf, len) != 0)
		return -1;
	memcpy(iv, buf + len - bs, bs);
	*out_len = len;
	return 0;
}

int v1_decrypt(const struct crypto_sym *s, const uint8_t *iv, const uint8_t *in, uint8_t *out,
               size_t len, uint8_t *next_iv)
{
	size_t bs = s->encr->block_len;
	uint8_t last[V1_BLOCK_MAX];

	if (bs == 0 || bs > V1_BLOCK_MAX || len == 0 || len % bs != 0)
		return -1;
	memcpy(last, in + len - bs, bs); /* in and out may be the same buffer */
	if (crypto_sym_decrypt(s, iv, in, out, len) != 0)
		return -1;
	memcpy(next_iv, last, bs);
	return 0;
}

int v1_hash_auth(enum crypto_alg_id prf, const uint8_t *skeyid, size_t skeyid_len,
                 const uint8_t *gx_a, const uint8_t *gx_b, size_t gx_len, const uint8_t cky_a[8],
                 const uint8_t cky_b[8], const uint8_t *sai_b, size_t sai_len, const uint8_t *id_b,
                 size_t id_len, uint8_t *out)
{
	const struct crypto_iov in[] = { { gx_a, gx_len }, { gx_b, gx_len },   { cky_a, 8 },
		                         { cky_b, 8 },     { sai_b, sai_len }, { id_b, id_len } };

	return crypto_prf_v(prf, skeyid, skeyid_len, in, ARRAY_SIZE(in), out) == 0 ? 0 : -1;
}

int v1_keymat(enum crypto_alg_id prf, const uint8_t *skeyid_d, size_t skeyid_len,
              const uint8_t *gqm, size_t gqm_len, uint8_t proto, const uint8_t spi[4],
              const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len, uint8_t *out,
              size_t out_len)
{
	uint8_t k[CRYPTO_PRF_MAX_OUT];
	size_t hl = crypto_alg(prf)->out_len, done = 0;
	int rc = 0;

	if (hl == 0 || hl > sizeof(k))
		return -1;
	while (done < out_len) {
		/* The first round has no previous block: an empty first element. */
		const struct crypto_iov in[] = { { k, done == 0 ? 0 : hl },
			                         { gqm, gqm != NULL ? gqm_len : 0 },
			                         { &proto, 1 },
			                         { spi, 4 },
			                         { ni, ni_len },
			                         { nr, nr_len } };
		if (crypto_prf_v(prf, skeyid_d, skeyid_len, in, ARRAY_SIZE(in), k) != 0) {
			rc = -1;
			break;
		}
		size_t n = MIN(hl, out_len - done);
		memcpy(out + done, k, n);
		done += n;
	}
	crypto_wipe(k, sizeof(k));
	return rc;
}
