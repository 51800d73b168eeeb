/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv2 proposals (RFC 7296 2.7, 3.3) and traffic selectors (2.9): our
 * offers built from a connection's config, the responder's choice with
 * evidence naming the transform that differs, the initiator's check of
 * the answer, and selector offers and narrowing.
 */
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "ikev2_int.h"

/* What a selection wants: the allowed lists per kind. */
struct sel_spec {
	uint8_t proto;
	const struct config_algs *encr, *prf, *integ;
	enum crypto_alg_id dh_list[CONFIG_PROPOSALS_MAX];
	unsigned n_dh;
	bool dh_none_ok; /* a proposal without DH (or DH NONE) is fine */
	bool ignore_dh;  /* IKE_AUTH: DH transforms of child proposals do not count */
	uint16_t ke_group;
};

enum sel_fail {
	FAIL_NONE,
	FAIL_ENCR,
	FAIL_PRF,
	FAIL_INTEG,
	FAIL_DH,
	FAIL_PROTO,
};

static bool list_has(const enum crypto_alg_id *l, unsigned n, enum crypto_alg_id id)
{
	for (unsigned i = 0; i < n; i++)
		if (l[i] == id)
			return true;
	return false;
}

static const struct crypto_alg *tr_alg(const struct ikev2_transform *t, enum crypto_kind kind)
{
	if (t->bad_attr)
		return NULL;
	return crypto_alg_by_ikev2(kind, t->id, t->key_bits);
}

/* What one proposal's transforms offer that the spec allows. */
struct prop_tally {
	bool has_integ, has_dh, dh_none, esn_set;
	bool integ_ok, dh_ok, prf_ok;
	bool have_aead, have_cbc;
	enum crypto_alg_id integ, dh, encr_aead, encr_cbc;
};

/* One transform into the tally (the first acceptable of each kind wins); false: unknown type. */
static bool tally_transform(const struct sel_spec *s, const struct ikev2_transform *t,
                            struct prop_tally *y, struct ike_choice *ch, bool *esn)
{
	const struct crypto_alg *a;

	switch (t->type) {
	case IKEV2_TR_ENCR:
		a = tr_alg(t, CRYPTO_ENCR);
		if (a == NULL || !ike_algs_has(s->encr, a->id))
			break;
		if (a->aead && !y->have_aead) {
			y->have_aead = true;
			y->encr_aead = a->id;
		} else if (!a->aead && !y->have_cbc) {
			y->have_cbc = true;
			y->encr_cbc = a->id;
		}
		break;
	case IKEV2_TR_PRF:
		a = tr_alg(t, CRYPTO_PRF);
		if (s->prf && a && !y->prf_ok && ike_algs_has(s->prf, a->id)) {
			y->prf_ok = true;
			ch->prf = a->id;
			ch->has_prf = true;
		}
		break;
	case IKEV2_TR_INTEG:
		if (t->id == 0)
			break;
		y->has_integ = true;
		a = tr_alg(t, CRYPTO_INTEG);
		if (a && !y->integ_ok && ike_algs_has(s->integ, a->id)) {
			y->integ_ok = true;
			y->integ = a->id;
		}
		break;
	case IKEV2_TR_DH:
		if (s->ignore_dh)
			break;
		if (t->id == 0) {
			y->dh_none = true;
			break;
		}
		y->has_dh = true;
		a = tr_alg(t, CRYPTO_DH);
		if (a && list_has(s->dh_list, s->n_dh, a->id)) {
			/* The KE's group if it is one we allow, else the first we do. */
			if (!y->dh_ok || a->ikev2_id == s->ke_group)
				y->dh = a->id;
			y->dh_ok = true;
		}
		break;
	case IKEV2_TR_ESN:
		if (!y->esn_set && (t->id == 0 || t->id == 1)) {
			y->esn_set = true;
			*esn = t->id == 1;
		}
		break;
	default:
		return false; /* a transform type we do not know */
	}
	return true;
}

/* Tries one proposal; FAIL_NONE with ch filled, or the first kind that failed. */
static enum sel_fail try_prop(const struct sel_spec *s, const struct ikev2_proposal *p,
                              struct ike_choice *ch, bool *esn)
{
	struct prop_tally y = { .prf_ok = s->prf == NULL,
		                .integ = CRYPTO_INTEG_NONE,
		                .dh = CRYPTO_DH_MODP768,
		                .encr_aead = CRYPTO_ENCR_NULL,
		                .encr_cbc = CRYPTO_ENCR_NULL };

	if (p->proto != s->proto)
		return FAIL_PROTO;
	memset(ch, 0, sizeof(*ch));
	*esn = false;
	for (unsigned i = 0; i < p->n_tr; i++)
		if (!tally_transform(s, &p->tr[i], &y, ch, esn))
			return FAIL_PROTO;
	/* AEAD only where the proposal has no integrity (RFC 5282 8). */
	if (y.has_integ && y.have_cbc)
		ch->encr = y.encr_cbc;
	else if (!y.has_integ && y.have_aead)
		ch->encr = y.encr_aead;
	else if (y.has_integ && y.have_aead)
		return FAIL_INTEG;
	else
		return FAIL_ENCR;
	if (!y.prf_ok)
		return FAIL_PRF;
	if (!crypto_alg(ch->encr)->aead) {
		if (!y.integ_ok)
			return FAIL_INTEG;
		ch->integ = y.integ;
		ch->has_integ = true;
	} else {
		ch->integ = CRYPTO_INTEG_NONE;
	}
	if (s->n_dh == 0) {
		if (y.has_dh && !y.dh_none)
			return FAIL_DH;
	} else if (y.dh_ok) {
		ch->dh = y.dh;
		ch->has_dh = true;
	} else if (!(s->dh_none_ok && (!y.has_dh || y.dh_none))) {
		return FAIL_DH;
	}
	return FAIL_NONE;
}

/* "aes/aes256" of what the peer offers of one kind, over every proposal. */
static void peer_offer_str(const struct ikev2_sa_payload *sa, uint8_t proto, uint8_t type,
                           char *buf, size_t len)
{
	static const enum crypto_kind kinds[] = { 0, CRYPTO_ENCR, CRYPTO_PRF, CRYPTO_INTEG,
		                                  CRYPTO_DH };
	size_t o = 0;
	uint16_t seen[32];
	unsigned n_seen = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < sa->n; i++) {
		if (sa->p[i].proto != proto)
			continue;
		for (unsigned j = 0; j < sa->p[i].n_tr; j++) {
			const struct ikev2_transform *t = &sa->p[i].tr[j];
			const struct crypto_alg *a;
			char name[24];
			bool dup = false;
			uint16_t key = (uint16_t)(t->id ^ t->key_bits << 6);

			if (t->type != type)
				continue;
			for (unsigned k = 0; k < n_seen; k++)
				dup |= seen[k] == key;
			if (dup || n_seen >= 32)
				continue;
			seen[n_seen++] = key;
			a = t->type <= IKEV2_TR_DH
			            ? crypto_alg_by_ikev2(kinds[type], t->id, t->key_bits)
			            : NULL;
			if (a)
				snprintf(name, sizeof(name), "%s", a->name);
			else if (t->id == 0 && type == IKEV2_TR_DH)
				snprintf(name, sizeof(name), "none");
			else
				snprintf(name, sizeof(name), "id%u", t->id);
			if (o < len)
				o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "/" : "", name);
		}
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "none");
}

const char *ikev2_algs_str(const struct config_algs *a, char *buf, size_t len)
{
	size_t o = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (uint32_t i = 0; i < a->n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "/" : "",
		                      crypto_alg(a->ids[i])->name);
	if (a->n == 0)
		snprintf(buf, len, "none");
	return buf;
}

static int select_any(const struct sel_spec *s, const struct ikev2_sa_payload *sa,
                      struct ike_choice *ch, bool *esn, unsigned *idx, enum ike_cause *cause,
                      enum ike_cause dh_cause, char *ev, size_t ev_len)
{
	enum sel_fail worst = FAIL_PROTO;
	char peer[96], ours[96];

	for (unsigned i = 0; i < sa->n; i++) {
		enum sel_fail f = try_prop(s, &sa->p[i], ch, esn);

		if (f == FAIL_NONE) {
			*idx = i;
			return 0;
		}
		/* The proposal that got furthest names the difference. */
		if (worst == FAIL_PROTO || (f != FAIL_PROTO && f > worst))
			worst = f;
	}
	*cause = IKE_CAUSE_PROPOSAL_MISMATCH;
	switch (worst) {
	case FAIL_ENCR:
		peer_offer_str(sa, s->proto, IKEV2_TR_ENCR, peer, sizeof(peer));
		ikev2_algs_str(s->encr, ours, sizeof(ours));
		snprintf(ev, ev_len, "no acceptable encryption: peer offers %s, we allow %s", peer,
		         ours);
		break;
	case FAIL_PRF:
		peer_offer_str(sa, s->proto, IKEV2_TR_PRF, peer, sizeof(peer));
		ikev2_algs_str(s->prf, ours, sizeof(ours));
		snprintf(ev, ev_len, "no acceptable prf: peer offers %s, we allow %s", peer, ours);
		break;
	case FAIL_INTEG:
		peer_offer_str(sa, s->proto, IKEV2_TR_INTEG, peer, sizeof(peer));
		ikev2_algs_str(s->integ, ours, sizeof(ours));
		snprintf(ev, ev_len, "no acceptable integrity: peer offers %s, we allow %s", peer,
		         ours);
		break;
	case FAIL_DH: {
		struct config_algs dl = { .n = s->n_dh };

		memcpy(dl.ids, s->dh_list, sizeof(dl.ids));
		*cause = dh_cause;
		peer_offer_str(sa, s->proto, IKEV2_TR_DH, peer, sizeof(peer));
		ikev2_algs_str(&dl, ours, sizeof(ours));
		snprintf(ev, ev_len, "no acceptable %s: peer offers %s, we allow %s",
		         dh_cause == IKE_CAUSE_PFS_MISMATCH ? "PFS group" : "DH group", peer,
		         s->n_dh ? ours : "none (pfs disabled)");
		break;
	}
	default:
		snprintf(ev, ev_len, "no proposal for protocol %s",
		         s->proto == IKEV2_PROTO_IKE ? "IKE" : "ESP");
		break;
	}
	return -1;
}

static int algs_index(const struct config_algs *a, enum crypto_alg_id id)
{
	for (uint32_t i = 0; i < a->n && i < CONFIG_PROPOSALS_MAX; i++)
		if (a->ids[i] == id)
			return (int)i;
	return -1;
}

const struct crypto_alg *ikev2_ke_retry(const struct config_algs *allowed, uint32_t *tried,
                                        enum crypto_alg_id sent, const struct ikev2_notify *n,
                                        const struct crypto_alg **asked)
{
	int i = algs_index(allowed, sent);

	if (i >= 0)
		*tried |= 1u << i;
	*asked = n->data_len == 2 ? crypto_alg_by_ikev2(CRYPTO_DH, get_be16(n->data), 0) : NULL;
	if (*asked == NULL || (i = algs_index(allowed, (*asked)->id)) < 0)
		return NULL;
	/* Each group once: a peer that keeps changing its mind gets no loop. */
	return (*tried & 1u << i) ? NULL : *asked;
}

int ikev2_ike_select(const struct config_connection *cc, const struct ikev2_sa_payload *sa,
                     uint16_t ke_group, struct ike_choice *ch, unsigned *prop_idx,
                     enum ike_cause *cause, char *ev, size_t ev_len)
{
	struct sel_spec s = { .proto = IKEV2_PROTO_IKE,
		              .encr = &cc->ike.encryption,
		              .prf = &cc->ike.prf,
		              .integ = &cc->ike.integrity,
		              .n_dh = cc->ike.dh.n,
		              .ke_group = ke_group };
	unsigned idx;
	bool esn;

	memcpy(s.dh_list, cc->ike.dh.ids, sizeof(s.dh_list));
	if (select_any(&s, sa, ch, &esn, &idx, cause, IKE_CAUSE_DH_GROUP_MISMATCH, ev, ev_len) != 0)
		return -1;
	if (prop_idx)
		*prop_idx = idx;
	return 0;
}

int ikev2_esp_select(const struct config_connection *cc, const struct ikev2_sa_payload *sa,
                     bool ke_allowed, struct ike_choice *ch, bool *esn, uint32_t *peer_spi,
                     unsigned *prop_idx, enum ike_cause *cause, char *ev, size_t ev_len)
{
	struct sel_spec s = { .proto = IKEV2_PROTO_ESP,
		              .encr = &cc->ipsec.encryption,
		              .prf = NULL,
		              .integ = &cc->ipsec.integrity,
		              .n_dh = 0 };
	unsigned idx;

	if (!ke_allowed) {
		/* IKE_AUTH: the child's keys come from SK_d alone; PFS shows at rekey. */
		s.ignore_dh = true;
		s.dh_none_ok = true;
	} else if (cc->ipsec.pfs) {
		s.dh_list[0] = cc->ipsec.pfs_group;
		s.n_dh = 1;
	} else {
		s.dh_none_ok = true;
	}
	if (select_any(&s, sa, ch, esn, &idx, cause, IKE_CAUSE_PFS_MISMATCH, ev, ev_len) != 0)
		return -1;
	if (sa->p[idx].spi_len != 4) {
		*cause = IKE_CAUSE_PROPOSAL_MISMATCH;
		snprintf(ev, ev_len, "ESP proposal with a %u-byte SPI", sa->p[idx].spi_len);
		return -1;
	}
	*peer_spi = (uint32_t)sa->p[idx].spi[0] << 24 | (uint32_t)sa->p[idx].spi[1] << 16 |
	            (uint32_t)sa->p[idx].spi[2] << 8 | sa->p[idx].spi[3];
	if (*peer_spi == 0) {
		*cause = IKE_CAUSE_PROPOSAL_MISMATCH;
		snprintf(ev, ev_len, "ESP proposal with SPI 0");
		return -1;
	}
	if (prop_idx)
		*prop_idx = idx;
	return 0;
}

/* Splits a config list into AEAD and other ciphers. */
static void split_encr(const struct config_algs *a, struct ikev2_prop_out *aead,
                       struct ikev2_prop_out *cbc)
{
	for (uint32_t i = 0; i < a->n && i < CONFIG_PROPOSALS_MAX; i++) {
		if (crypto_alg(a->ids[i])->aead)
			aead->encr[aead->n_encr++] = a->ids[i];
		else
			cbc->encr[cbc->n_encr++] = a->ids[i];
	}
}

unsigned ikev2_ike_props(const struct config_connection *cc, struct ikev2_prop_out *out,
                         const uint8_t *spi, uint8_t spi_len)
{
	struct ikev2_prop_out aead = { .proto = IKEV2_PROTO_IKE },
	                      cbc = { .proto = IKEV2_PROTO_IKE };
	unsigned n = 0;

	split_encr(&cc->ike.encryption, &aead, &cbc);
	for (uint32_t i = 0; i < cc->ike.prf.n; i++) {
		aead.prf[aead.n_prf++] = cc->ike.prf.ids[i];
		cbc.prf[cbc.n_prf++] = cc->ike.prf.ids[i];
	}
	for (uint32_t i = 0; i < cc->ike.integrity.n; i++)
		if (cc->ike.integrity.ids[i] != CRYPTO_INTEG_NONE)
			cbc.integ[cbc.n_integ++] = cc->ike.integrity.ids[i];
	for (uint32_t i = 0; i < cc->ike.dh.n; i++) {
		aead.dh[aead.n_dh++] = cc->ike.dh.ids[i];
		cbc.dh[cbc.n_dh++] = cc->ike.dh.ids[i];
	}
	if (aead.n_encr)
		out[n++] = aead;
	if (cbc.n_encr)
		out[n++] = cbc;
	for (unsigned i = 0; i < n; i++) {
		out[i].spi_len = spi_len;
		if (spi_len)
			memcpy(out[i].spi, spi, spi_len);
	}
	return n;
}

unsigned ikev2_esp_props(const struct config_connection *cc, uint32_t spi, bool with_dh,
                         struct ikev2_prop_out *out)
{
	struct ikev2_prop_out aead = { .proto = IKEV2_PROTO_ESP },
	                      cbc = { .proto = IKEV2_PROTO_ESP };
	unsigned n = 0;

	split_encr(&cc->ipsec.encryption, &aead, &cbc);
	for (uint32_t i = 0; i < cc->ipsec.integrity.n; i++)
		if (cc->ipsec.integrity.ids[i] != CRYPTO_INTEG_NONE)
			cbc.integ[cbc.n_integ++] = cc->ipsec.integrity.ids[i];
	if (with_dh && cc->ipsec.pfs) {
		aead.dh[aead.n_dh++] = cc->ipsec.pfs_group;
		cbc.dh[cbc.n_dh++] = cc->ipsec.pfs_group;
	}
	aead.esn[aead.n_esn++] = 0;
	cbc.esn[cbc.n_esn++] = 0;
	if (aead.n_encr)
		out[n++] = aead;
	if (cbc.n_encr && cbc.n_integ)
		out[n++] = cbc;
	for (unsigned i = 0; i < n; i++) {
		out[i].spi_len = 4;
		out[i].spi[0] = (uint8_t)(spi >> 24);
		out[i].spi[1] = (uint8_t)(spi >> 16);
		out[i].spi[2] = (uint8_t)(spi >> 8);
		out[i].spi[3] = (uint8_t)spi;
	}
	return n;
}

static unsigned prefixes_to_ts(const struct config_prefix *p, uint32_t n, struct ts *out)
{
	unsigned k = 0;

	for (uint32_t i = 0; i < n && k < IKE_TS_MAX; i++) {
		uint8_t fam = p[i].addr.family == AF_INET ? TS_IPV4 : TS_IPV6;

		if (ts_from_prefix(&out[k], fam, p[i].addr.u.bytes, p[i].len, TS_ALLOW_HOST_BITS) ==
		    TS_OK)
			k++;
	}
	return k;
}

void ikev2_conn_ts(const struct config_connection *cc, struct ts *l, unsigned *n_l, struct ts *r,
                   unsigned *n_r)
{
	*n_l = prefixes_to_ts(cc->local_subnets, cc->n_local_subnets, l);
	*n_r = prefixes_to_ts(cc->remote_subnets, cc->n_remote_subnets, r);
}

bool ikev2_ts_partial(const struct config_connection *cc, unsigned n_l, unsigned n_r)
{
	return n_l < cc->n_local_subnets || n_r < cc->n_remote_subnets;
}

bool ikev2_ts_narrow(const struct config_connection *cc, const struct ikev2_msg *m, struct ts *l,
                     unsigned *n_l, struct ts *r, unsigned *n_r)
{
	struct ts cl[IKE_TS_MAX], cr[IKE_TS_MAX];
	unsigned ncl, ncr;
	size_t nl = 0, nr = 0;
	bool first;

	if (!m->has_tsi || !m->has_tsr)
		return false;
	ikev2_conn_ts(cc, cl, &ncl, cr, &ncr);
	/* TSi: the initiator's side = our remote; TSr: our local. */
	if (ts_narrow(m->tsi, m->n_tsi, cr, ncr, r, IKE_TS_MAX, &nr, &first) != TS_OK &&
	    nr < IKE_TS_MAX)
		return false;
	if (ts_narrow(m->tsr, m->n_tsr, cl, ncl, l, IKE_TS_MAX, &nl, &first) != TS_OK &&
	    nl < IKE_TS_MAX)
		return false;
	if (nl > IKE_TS_MAX)
		nl = IKE_TS_MAX;
	if (nr > IKE_TS_MAX)
		nr = IKE_TS_MAX;
	*n_l = (unsigned)nl;
	*n_r = (unsigned)nr;
	return nl > 0 && nr > 0;
}
