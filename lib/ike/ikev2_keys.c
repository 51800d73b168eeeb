/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv2 keys (RFC 7296 2.13-2.18): SKEYSEED and the SK_* keys of an IKE
 * SA, child KEYMAT, PSK AUTH (2.15), and the SK payload (3.14) with
 * CBC+HMAC or AEAD (RFC 5282, RFC 7634: header and SK header as AAD).
 */
#include <string.h>

#include "crypto_mem.h"
#include "crypto_rand.h"
#include "cursor.h"
#include "ikev2_int.h"

void ikev2_keys_free(struct ikev2_keys *k)
{
	if (k == NULL)
		return;
	crypto_sym_wipe(&k->in);
	crypto_sym_wipe(&k->out);
	crypto_key_free(k);
}

int ikev2_keys_derive(struct ikev2_sa *sa, const uint8_t *gir, size_t gir_len,
                      const struct ikev2_sa *old)
{
	const struct crypto_alg *prf = crypto_alg(sa->ch.prf);
	const struct crypto_alg *encr = crypto_alg(sa->ch.encr);
	const struct crypto_alg *integ = crypto_alg(sa->ch.integ);
	size_t plen = prf->out_len, elen = encr->key_len;
	size_t alen = encr->aead ? 0 : integ->key_len;
	size_t total = 3 * plen + 2 * alen + 2 * elen;
	uint8_t skeyseed[CRYPTO_PRF_MAX_OUT];
	uint8_t seed[2 * IKEV2_NONCE_MAX + 16];
	uint8_t km[3 * IKEV2_KEY_MAX + 4 * IKEV2_KEY_MAX];
	struct ikev2_keys *k;
	size_t sl = 0, o = 0;
	int rc = -1;

	if (sa->ni_len + sa->nr_len > 2 * IKEV2_NONCE_MAX || total > sizeof(km) ||
	    elen > IKEV2_KEY_MAX || alen > IKEV2_KEY_MAX)
		return -1;
	memcpy(seed, sa->ni, sa->ni_len);
	sl = sa->ni_len;
	memcpy(seed + sl, sa->nr, sa->nr_len);
	sl += sa->nr_len;
	if (old == NULL) {
		/* SKEYSEED = prf(Ni | Nr, g^ir) */
		if (crypto_prf(sa->ch.prf, seed, sl, gir, gir_len, skeyseed) != 0)
			return -1;
	} else {
		/* Rekey (2.18): SKEYSEED = prf(SK_d(old), g^ir(new) | Ni | Nr), old PRF. */
		struct crypto_iov iov[2] = { { gir, gir_len }, { seed, sl } };

		if (crypto_prf_v(old->ch.prf, old->k->sk_d, old->k->prf_len, iov, 2, skeyseed) != 0)
			return -1;
		/* The old PRF's output is the key of the new prf+. */
		plen = prf->out_len;
	}
	memcpy(seed + sl, sa->spi_i, 8);
	memcpy(seed + sl + 8, sa->spi_r, 8);
	sl += 16;
	if (crypto_prf_plus(sa->ch.prf, skeyseed,
	                    old ? crypto_alg(old->ch.prf)->out_len : prf->out_len, seed, sl, km,
	                    total) != 0)
		goto out;
	k = crypto_key_alloc(sizeof(*k));
	if (k == NULL)
		goto out;
	k->prf_len = plen;
	k->e_len = elen;
	k->a_len = alen;
	memcpy(k->sk_d, km, plen);
	o = plen;
	memcpy(k->sk_ai, km + o, alen);
	o += alen;
	memcpy(k->sk_ar, km + o, alen);
	o += alen;
	memcpy(k->sk_ei, km + o, elen);
	o += elen;
	memcpy(k->sk_er, km + o, elen);
	o += elen;
	memcpy(k->sk_pi, km + o, plen);
	o += plen;
	memcpy(k->sk_pr, km + o, plen);
	{
		enum crypto_alg_id in_integ = encr->aead ? CRYPTO_INTEG_NONE : sa->ch.integ;
		const uint8_t *ein = sa->initiator ? k->sk_er : k->sk_ei;
		const uint8_t *eout = sa->initiator ? k->sk_ei : k->sk_er;
		const uint8_t *ain = sa->initiator ? k->sk_ar : k->sk_ai;
		const uint8_t *aout = sa->initiator ? k->sk_ai : k->sk_ar;

		if (crypto_sym_init(&k->in, sa->ch.encr, ein, elen, in_integ, alen ? ain : NULL,
		                    alen) != 0 ||
		    crypto_sym_init(&k->out, sa->ch.encr, eout, elen, in_integ, alen ? aout : NULL,
		                    alen) != 0) {
			ikev2_keys_free(k);
			goto out;
		}
	}
	ikev2_keys_free(sa->k);
	sa->k = k;
	rc = 0;
out:
	crypto_wipe(skeyseed, sizeof(skeyseed));
	crypto_wipe(km, sizeof(km));
	return rc;
}

int ikev2_child_keymat(const struct ikev2_sa *sa, const uint8_t *gir, size_t gir_len,
                       const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
                       bool we_initiated, struct ike_child *c)
{
	uint8_t seed[CRYPTO_DH_MAX_SECRET + 2 * IKEV2_NONCE_MAX];
	uint8_t km[2 * IKE_CHILD_KEY_MAX];
	size_t el = c->enc_key_len, al = c->auth_key_len, sl = 0;
	int rc;

	if (gir_len > CRYPTO_DH_MAX_SECRET || ni_len > IKEV2_NONCE_MAX ||
	    nr_len > IKEV2_NONCE_MAX || el + al > IKE_CHILD_KEY_MAX)
		return -1;
	if (gir_len > 0) {
		memcpy(seed, gir, gir_len);
		sl = gir_len;
	}
	memcpy(seed + sl, ni, ni_len);
	sl += ni_len;
	memcpy(seed + sl, nr, nr_len);
	sl += nr_len;
	rc = crypto_prf_plus(sa->ch.prf, sa->k->sk_d, sa->k->prf_len, seed, sl, km, 2 * (el + al));
	if (rc == 0) {
		/* KEYMAT: i->r enc, i->r auth, r->i enc, r->i auth. */
		uint8_t *i2r = we_initiated ? c->key_out : c->key_in;
		uint8_t *r2i = we_initiated ? c->key_in : c->key_out;

		memcpy(i2r, km, el + al);
		memcpy(r2i, km + el + al, el + al);
	}
	crypto_wipe(seed, sizeof(seed));
	crypto_wipe(km, sizeof(km));
	return rc == 0 ? 0 : -1;
}

int ikev2_psk_auth(const struct ikev2_sa *sa, const struct config_psk *psk, bool of_initiator,
                   const uint8_t *id_body, size_t id_len, uint8_t *out, size_t *out_len)
{
	static const char pad[] = "Key Pad for IKEv2";
	enum crypto_alg_id prf = sa->ch.prf;
	uint8_t kpad[CRYPTO_PRF_MAX_OUT], maced[CRYPTO_PRF_MAX_OUT];
	size_t plen = crypto_alg(prf)->out_len;
	struct crypto_iov iov[3];
	int rc = -1;

	if (psk == NULL || sa->k == NULL)
		return -1;
	/* MACedIDFor{I,R} = prf(SK_p{i,r}, RestOf{Init,Resp}IDPayload) */
	if (crypto_prf(prf, of_initiator ? sa->k->sk_pi : sa->k->sk_pr, sa->k->prf_len, id_body,
	               id_len, maced) != 0)
		goto out;
	if (of_initiator) {
		iov[0] = (struct crypto_iov){ sa->msg_i, sa->msg_i_len };
		iov[1] = (struct crypto_iov){ sa->nr, sa->nr_len };
	} else {
		iov[0] = (struct crypto_iov){ sa->msg_r, sa->msg_r_len };
		iov[1] = (struct crypto_iov){ sa->ni, sa->ni_len };
	}
	iov[2] = (struct crypto_iov){ maced, plen };
	if (iov[0].p == NULL)
		goto out;
	if (crypto_prf(prf, psk->bytes, psk->len, (const uint8_t *)pad, sizeof(pad) - 1, kpad) != 0)
		goto out;
	if (crypto_prf_v(prf, kpad, plen, iov, 3, out) != 0)
		goto out;
	*out_len = plen;
	rc = 0;
out:
	crypto_wipe(kpad, sizeof(kpad));
	crypto_wipe(maced, sizeof(maced));
	return rc;
}

size_t ikev2_sk_protect(const struct ikev2_keys *k, uint8_t *msg, size_t hdr_len, size_t cap,
                        uint8_t first_inner, const uint8_t *plain, size_t plain_len)
{
	const struct crypto_alg *encr = k->out.encr;
	bool aead = encr->aead;
	size_t iv_len = encr->iv_len;
	size_t icv_len = aead ? encr->icv_len : k->out.integ->icv_len;
	size_t block = aead ? 1 : encr->block_len;
	size_t body = plain_len + 1;
	size_t pad = (block - body % block) % block;
	size_t enc_len = body + pad;
	size_t sk_len = IKEV2_GEN_HDR_LEN + iv_len + enc_len + icv_len;
	size_t total = hdr_len + sk_len;
	uint8_t *sk = msg + hdr_len;
	uint8_t *iv = sk + IKEV2_GEN_HDR_LEN;
	uint8_t *ct = iv + iv_len;

	if (total > cap || total > IKE_MSG_MAX || sk_len > UINT16_MAX)
		return 0;
	sk[0] = first_inner;
	sk[1] = 0;
	put_be16(sk + 2, (uint16_t)sk_len);
	put_be32(msg + 24, (uint32_t)total);
	memmove(ct, plain, plain_len);
	memset(ct + plain_len, 0, pad);
	ct[plain_len + pad] = (uint8_t)pad;
	if (aead) {
		/* Unique per key: random 8 bytes are fine at IKE message rates. */
		crypto_random(iv, iv_len);
		if (crypto_sym_seal(&k->out, iv, msg, hdr_len + IKEV2_GEN_HDR_LEN, ct, ct, enc_len,
		                    ct + enc_len) != 0)
			return 0;
	} else {
		crypto_random(iv, iv_len);
		if (crypto_sym_encrypt(&k->out, iv, ct, ct, enc_len) != 0)
			return 0;
		if (crypto_sym_icv(&k->out, msg, total - icv_len, msg + total - icv_len) != 0)
			return 0;
	}
	return total;
}

int ikev2_sk_unprotect(const struct ikev2_keys *k, const struct ikev2_msg *m, uint8_t *out,
                       size_t cap)
{
	const struct crypto_alg *encr = k->in.encr;
	bool aead = encr->aead;
	size_t iv_len = encr->iv_len;
	size_t icv_len = aead ? encr->icv_len : k->in.integ->icv_len;
	size_t block = aead ? 1 : encr->block_len;
	const uint8_t *sk = m->raw + m->sk_off;
	size_t enc_len;
	uint8_t padlen;

	if (!m->has_sk || m->sk_len < IKEV2_GEN_HDR_LEN + iv_len + icv_len + 1)
		return -1;
	enc_len = m->sk_len - IKEV2_GEN_HDR_LEN - iv_len - icv_len;
	if (enc_len % block != 0 || enc_len > cap || m->sk_off + m->sk_len != m->raw_len)
		return -1;
	if (aead) {
		if (crypto_sym_open(&k->in, sk + IKEV2_GEN_HDR_LEN, m->raw,
		                    m->sk_off + IKEV2_GEN_HDR_LEN, sk + IKEV2_GEN_HDR_LEN + iv_len,
		                    out, enc_len, sk + IKEV2_GEN_HDR_LEN + iv_len + enc_len) != 0)
			return -1;
	} else {
		if (crypto_sym_icv_verify(&k->in, m->raw, m->raw_len - icv_len,
		                          m->raw + m->raw_len - icv_len) != 0)
			return -1;
		if (crypto_sym_decrypt(&k->in, sk + IKEV2_GEN_HDR_LEN,
		                       sk + IKEV2_GEN_HDR_LEN + iv_len, out, enc_len) != 0)
			return -1;
	}
	padlen = out[enc_len - 1];
	if ((size_t)padlen + 1 > enc_len)
		return -1;
	return (int)(enc_len - padlen - 1);
}
