/* SPDX-License-Identifier: BSD-3-Clause */
/* IKEv1 proposals (phase 1 and ESP) and quick mode ID payloads. */
#include "ikev1_prop.h"

#include <stdio.h>
#include <string.h>

#include "compiler.h"
#include "cursor.h"

/* ---- proposals ------------------------------------------------------------------ */

static bool p1_encr_ok(enum crypto_alg_id id)
{
	return crypto_alg(id)->ikev1_ike != 0 && !crypto_alg(id)->aead;
}

static void p1_wr_transform(struct v1_wr *w, uint8_t num, bool last, enum crypto_alg_id encr,
                            enum crypto_alg_id prf, enum crypto_alg_id group, uint32_t life)
{
	size_t s = w->len;

	v1_wr_u8(w, last ? V1_PL_NONE : V1_PL_T);
	v1_wr_u8(w, 0);
	v1_wr_be16(w, 0);
	v1_wr_u8(w, num);
	v1_wr_u8(w, V1_KEY_IKE);
	v1_wr_be16(w, 0);
	v1_wr_attr(w, V1_A_ENC, crypto_alg(encr)->ikev1_ike);
	if (crypto_alg(encr)->ikev2_key_bits != 0)
		v1_wr_attr(w, V1_A_KEY_LEN, crypto_alg(encr)->ikev2_key_bits);
	v1_wr_attr(w, V1_A_HASH, crypto_alg(prf)->ikev1_ike);
	v1_wr_attr(w, V1_A_AUTH, V1_AUTH_PSK);
	v1_wr_attr(w, V1_A_GROUP, crypto_alg(group)->ikev1_ike);
	v1_wr_attr(w, V1_A_LIFE_TYPE, V1_LIFE_SECONDS);
	v1_wr_attr(w, V1_A_LIFE_DUR, life);
	v1_wr_end(w, s);
}

/* Writes the SA payload: one proposal, a transform per encr x hash x group. */
void v1_p1_wr_sa(struct v1_wr *w, const struct config_ike *ike, bool aggressive)
{
	struct v1_p1_choice list[V1_P1_TRANSFORMS_MAX];
	/* Aggressive mode cannot negotiate the group: KE goes out with the first. */
	uint32_t n_dh = aggressive ? MIN(ike->dh.n, 1u) : ike->dh.n;
	unsigned n = 0;

	for (uint32_t i = 0; i < ike->encryption.n; i++)
		for (uint32_t j = 0; j < ike->prf.n; j++)
			for (uint32_t k = 0; k < n_dh && n < ARRAY_SIZE(list); k++)
				if (p1_encr_ok(ike->encryption.ids[i]))
					list[n++] = (struct v1_p1_choice){
						.encr = ike->encryption.ids[i],
						.prf = ike->prf.ids[j],
						.group = ike->dh.ids[k],
						.life = ike->lifetime
					};
	size_t sa_s = v1_wr_begin(w, V1_PL_SA);
	v1_wr_be32(w, V1_DOI_IPSEC);
	v1_wr_be32(w, V1_SIT_IDENTITY_ONLY);
	size_t p_s = w->len;
	v1_wr_u8(w, V1_PL_NONE);
	v1_wr_u8(w, 0);
	v1_wr_be16(w, 0);
	v1_wr_u8(w, 1);
	v1_wr_u8(w, V1_PROTO_ISAKMP);
	v1_wr_u8(w, 0);
	v1_wr_u8(w, (uint8_t)n);
	for (unsigned i = 0; i < n; i++)
		p1_wr_transform(w, (uint8_t)(i + 1), i + 1 == n, list[i].encr, list[i].prf,
		                list[i].group, list[i].life);
	v1_wr_end(w, p_s);
	v1_wr_end(w, sa_s);
}

void v1_wr_sa_echo(struct v1_wr *w, uint8_t proto, const uint8_t *spi, uint8_t spi_len,
                   const struct v1_transform *t)
{
	size_t sa_s = v1_wr_begin(w, V1_PL_SA);
	v1_wr_be32(w, V1_DOI_IPSEC);
	v1_wr_be32(w, V1_SIT_IDENTITY_ONLY);
	size_t p_s = w->len;
	v1_wr_u8(w, V1_PL_NONE);
	v1_wr_u8(w, 0);
	v1_wr_be16(w, 0);
	v1_wr_u8(w, t->prop);
	v1_wr_u8(w, proto);
	v1_wr_u8(w, spi_len);
	v1_wr_u8(w, 1);
	v1_wr_bytes(w, spi, spi_len);
	size_t t_s = w->len;
	v1_wr_u8(w, V1_PL_NONE);
	v1_wr_u8(w, 0);
	v1_wr_be16(w, 0);
	v1_wr_bytes(w, t->raw, t->raw_len);
	v1_wr_end(w, t_s);
	v1_wr_end(w, p_s);
	v1_wr_end(w, sa_s);
}

void v1_lifetimes(const struct v1_transform *t, uint16_t type_attr, uint16_t dur_attr,
                  uint32_t *seconds, uint32_t *kilobytes)
{
	uint32_t type = 0;

	*seconds = 0;
	*kilobytes = 0;
	for (unsigned i = 0; i < t->n_attr; i++) {
		const struct v1_attr *a = &t->attr[i];
		uint32_t *to = NULL;

		if (a->type == type_attr) {
			type = a->value;
			continue;
		}
		if (a->type != dur_attr)
			continue;
		/* A duration with no type before it means nothing: ignored. */
		if (type == V1_LIFE_SECONDS)
			to = seconds;
		else if (type == V1_LIFE_KB)
			to = kilobytes;
		if (to != NULL && a->value != 0 && (*to == 0 || a->value < *to))
			*to = a->value;
		type = 0;
	}
}

int v1_responder_lifetime(const uint8_t *data, size_t len, uint32_t *seconds, uint32_t *kilobytes)
{
	struct v1_transform t;

	memset(&t, 0, sizeof(t));
	*seconds = 0;
	*kilobytes = 0;
	if (v1_attrs_parse(data, len, &t) != 0)
		return -1;
	v1_lifetimes(&t, V1_Q_LIFE_TYPE, V1_Q_LIFE_DUR, seconds, kilobytes);
	return 0;
}

/* A transform's algorithms; false when one is unknown or not PSK. */
bool v1_p1_decode(const struct v1_transform *t, struct v1_p1_choice *c)
{
	const struct crypto_alg *en, *pr, *gr;

	if (t->id != V1_KEY_IKE || v1_attr_get(t, V1_A_AUTH, 0) != V1_AUTH_PSK)
		return false;
	en = crypto_alg_by_ikev1_ike(CRYPTO_ENCR, (uint16_t)v1_attr_get(t, V1_A_ENC, 0),
	                             (uint16_t)v1_attr_get(t, V1_A_KEY_LEN, 0));
	pr = crypto_alg_by_ikev1_ike(CRYPTO_PRF, (uint16_t)v1_attr_get(t, V1_A_HASH, 0), 0);
	gr = crypto_alg_by_ikev1_ike(CRYPTO_DH, (uint16_t)v1_attr_get(t, V1_A_GROUP, 0), 0);
	if (en == NULL || pr == NULL || gr == NULL || !p1_encr_ok(en->id))
		return false;
	c->encr = en->id;
	c->prf = pr->id;
	c->group = gr->id;
	v1_lifetimes(t, V1_A_LIFE_TYPE, V1_A_LIFE_DUR, &c->life, &c->life_kb);
	return true;
}

static const char *transform_names(const struct v1_proposal *p, int kind, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < p->n_t && off < len; i++) {
		struct v1_p1_choice c;
		enum crypto_alg_id id;
		int n;

		if (!v1_p1_decode(&p->t[i], &c))
			continue;
		id = kind == 0 ? c.encr : kind == 1 ? c.prf : c.group;
		if (strstr(buf, crypto_alg(id)->name) != NULL)
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "", crypto_alg(id)->name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	return buf;
}

static const char *p1_attr_name(uint16_t type)
{
	switch (type) {
	case V1_A_ENC:
		return "encryption";
	case V1_A_HASH:
		return "hash";
	case V1_A_AUTH:
		return "auth method";
	case V1_A_GROUP:
		return "group";
	case V1_A_LIFE_TYPE:
		return "life type";
	case V1_A_LIFE_DUR:
		return "life duration";
	case V1_A_KEY_LEN:
		return "key length";
	default:
		return "attribute";
	}
}

/* How many of a's attributes b has with the same value (each of b's used once). */
static unsigned attrs_common(const struct v1_transform *a, const struct v1_transform *b)
{
	bool used[V1_TRANSFORM_MAX_ATTRS] = { false };
	unsigned n = 0;

	for (unsigned i = 0; i < a->n_attr; i++)
		for (unsigned j = 0; j < b->n_attr; j++)
			if (!used[j] && a->attr[i].type == b->attr[j].type &&
			    a->attr[i].value == b->attr[j].value) {
				used[j] = true;
				n++;
				break;
			}
	return n;
}

/* Whether t has an attribute of type with value v (any value when !match_value). */
static bool attr_in(const struct v1_transform *t, uint16_t type, uint32_t v, bool match_value)
{
	for (unsigned i = 0; i < t->n_attr; i++)
		if (t->attr[i].type == type && (!match_value || t->attr[i].value == v))
			return true;
	return false;
}

/* The first difference between the peer's transform t and our o, as text. */
static void attr_diff(const struct v1_transform *t, const struct v1_transform *o, char *buf,
                      size_t len)
{
	for (unsigned i = 0; i < t->n_attr; i++) {
		const struct v1_attr *a = &t->attr[i];

		if (attr_in(o, a->type, a->value, true))
			continue;
		if (attr_in(o, a->type, 0, false))
			snprintf(buf, len, "%s %u, we offered %u", p1_attr_name(a->type), a->value,
			         v1_attr_get(o, a->type, 0));
		else
			snprintf(buf, len, "%s %u added", p1_attr_name(a->type), a->value);
		return;
	}
	for (unsigned i = 0; i < o->n_attr; i++)
		if (!attr_in(t, o->attr[i].type, 0, false)) {
			snprintf(buf, len, "%s left out, we offered %u",
			         p1_attr_name(o->attr[i].type), o->attr[i].value);
			return;
		}
	snprintf(buf, len, "attributes repeated");
}

int v1_p1_check_choice(const struct v1_proposal *ours, const struct v1_proposal *theirs,
                       struct v1_p1_choice *out, char *why, size_t why_len)
{
	const struct v1_transform *t = &theirs->t[0], *best = NULL;
	unsigned best_common = 0;
	char diff[96];

	if (theirs->proto != V1_PROTO_ISAKMP || theirs->n_t != 1) {
		snprintf(why, why_len, "peer answered with %u transforms for protocol %u, not one",
		         theirs->n_t, theirs->proto);
		return -1;
	}
	for (unsigned i = 0; i < ours->n_t; i++) {
		const struct v1_transform *o = &ours->t[i];
		unsigned common = attrs_common(o, t);

		if (o->id == t->id && o->n_attr == t->n_attr && common == o->n_attr) {
			if (!v1_p1_decode(t, out))
				break; /* our own offer always decodes */
			return 0;
		}
		if (o->id == t->id && (best == NULL || common > best_common)) {
			best = o;
			best_common = common;
		}
	}
	if (best == NULL) {
		snprintf(why, why_len, "peer chose a transform we did not offer (transform id %u)",
		         t->id);
		return -1;
	}
	attr_diff(t, best, diff, sizeof(diff));
	snprintf(why, why_len,
	         "peer changed the transform it chose: %s; a responder must echo it unchanged "
	         "(RFC 2408 4.2)",
	         diff);
	return -1;
}

/* RFC 2409 appendix A and the XAUTH / hybrid drafts' private values. */
static const char *auth_method_name(uint32_t m)
{
	switch (m) {
	case 1:
		return "pre-shared key";
	case 2:
		return "DSS signatures";
	case 3:
		return "RSA signatures";
	case 4:
		return "RSA encryption";
	case 5:
		return "revised RSA encryption";
	case 64221:
	case 64222:
		return "hybrid RSA";
	case 65001:
	case 65002:
		return "XAUTH with pre-shared key";
	case 65003:
	case 65004:
		return "XAUTH with DSS signatures";
	case 65005:
	case 65006:
		return "XAUTH with RSA signatures";
	default:
		return "unknown";
	}
}

/* Why a phase 1 transform that v1_p1_decode() refuses is skipped, as text. */
static void p1_skip_reason(const struct v1_transform *t, char *buf, size_t len, bool *auth)
{
	uint32_t am = v1_attr_get(t, V1_A_AUTH, 0), enc = v1_attr_get(t, V1_A_ENC, 0);
	uint32_t kl = v1_attr_get(t, V1_A_KEY_LEN, 0);
	const struct crypto_alg *en =
	        crypto_alg_by_ikev1_ike(CRYPTO_ENCR, (uint16_t)enc, (uint16_t)kl);

	*auth = false;
	if (t->id != V1_KEY_IKE) {
		snprintf(buf, len, "transform id %u (not KEY_IKE)", t->id);
	} else if (am != V1_AUTH_PSK) {
		*auth = true;
		snprintf(buf, len, "auth method %s (%u)", auth_method_name(am), am);
	} else if (en == NULL || !p1_encr_ok(en->id)) {
		snprintf(buf, len, "encryption %u (key length %u)", enc, kl);
	} else if (crypto_alg_by_ikev1_ike(CRYPTO_PRF, (uint16_t)v1_attr_get(t, V1_A_HASH, 0), 0) ==
	           NULL) {
		snprintf(buf, len, "hash %u", v1_attr_get(t, V1_A_HASH, 0));
	} else {
		snprintf(buf, len, "group %u", v1_attr_get(t, V1_A_GROUP, 0));
	}
}

/* "no acceptable <kind>: peer offers <offered>, we allow <allowed>[ (skipped: ...)]" */
static void mismatch_why(char *why, size_t why_len, const char *kind, const char *offered,
                         const char *allowed, const char *skipped)
{
	snprintf(why, why_len, "no acceptable %s: peer offers %s, we allow %s%s%s%s", kind, offered,
	         allowed, skipped[0] ? " (skipped: " : "", skipped, skipped[0] ? ")" : "");
}

/*
 * Responder's choice: the first transform of the peer whose algorithms
 * are all in our lists. If none, *why names the kind that differs.
 */
int v1_p1_choose(const struct config_ike *ike, const struct v1_proposal *p,
                 struct v1_p1_choice *out, unsigned *idx, enum ike_cause *cause,
                 const char **remedy, char *why, size_t why_len)
{
	bool any_enc = false, any_prf = false, any_grp = false, any = false, auth = false;
	char offered[128], allowed[128], skipped[96] = "";

	*remedy = NULL;
	*cause = IKE_CAUSE_PROPOSAL_MISMATCH;
	if (p->proto != V1_PROTO_ISAKMP) {
		snprintf(why, why_len, "proposal is not for ISAKMP (protocol %u)", p->proto);
		return -1;
	}
	for (unsigned i = 0; i < p->n_t; i++) {
		struct v1_p1_choice c;

		if (!v1_p1_decode(&p->t[i], &c)) {
			bool a;

			/* The first one skipped says what the peer wants that we lack. */
			if (skipped[0] == '\0') {
				p1_skip_reason(&p->t[i], skipped, sizeof(skipped), &a);
				auth = a;
			}
			continue;
		}
		bool en = ike_algs_has(&ike->encryption, c.encr);
		bool pr = ike_algs_has(&ike->prf, c.prf);
		bool gr = ike_algs_has(&ike->dh, c.group);

		any = true;
		any_enc |= en;
		any_prf |= pr;
		any_grp |= gr;
		if (en && pr && gr) {
			*out = c;
			*idx = i;
			return 0;
		}
	}
	if (!any) {
		snprintf(why, why_len, "no acceptable transform: peer offers %s, we allow %s",
		         skipped, auth ? "pre-shared key" : "the algorithms of our catalogue");
		if (auth)
			*remedy = "set pre-shared key authentication on the peer (vpngw "
			          "authenticates "
			          "with pre-shared keys only)";
	} else if (!any_enc) {
		mismatch_why(why, why_len, "encryption",
		             transform_names(p, 0, offered, sizeof(offered)),
		             ike_algs_str(&ike->encryption, allowed, sizeof(allowed)), skipped);
	} else if (!any_prf) {
		mismatch_why(why, why_len, "integrity",
		             transform_names(p, 1, offered, sizeof(offered)),
		             ike_algs_str(&ike->prf, allowed, sizeof(allowed)), skipped);
	} else if (!any_grp) {
		*cause = IKE_CAUSE_DH_GROUP_MISMATCH;
		mismatch_why(why, why_len, "dh_group",
		             transform_names(p, 2, offered, sizeof(offered)),
		             ike_algs_str(&ike->dh, allowed, sizeof(allowed)), skipped);
	} else {
		snprintf(why, why_len,
		         "no acceptable combination of encryption/integrity/dh_group");
	}
	return -1;
}

/* ---- ID payloads <-> selectors ----------------------------------------------------- */

void v1_wr_ts_id(struct v1_wr *w, const struct ts *t)
{
	uint8_t a[16], b[16];
	int plen = ts_prefix_len(t);
	size_t al = t->family == TS_IPV6 ? 16 : 4;
	size_t s = v1_wr_begin(w, V1_PL_ID);

	ts_addr_store(t->family, t->start, a);
	if (plen >= 0) {
		ts_netmask(t->family, (unsigned)plen, b);
		v1_wr_u8(w, t->family == TS_IPV6 ? V1_ID_IPV6_SUBNET : V1_ID_IPV4_SUBNET);
	} else {
		ts_addr_store(t->family, t->end, b);
		v1_wr_u8(w, t->family == TS_IPV6 ? V1_ID_IPV6_RANGE : V1_ID_IPV4_RANGE);
	}
	v1_wr_u8(w, t->proto);
	v1_wr_be16(w, t->port_start == t->port_end ? t->port_start : 0);
	v1_wr_bytes(w, a, al);
	v1_wr_bytes(w, b, al);
	v1_wr_end(w, s);
}

int v1_ts_from_id(const struct v1_pl *pl, struct ts *t)
{
	struct v1_idpl id;
	enum ts_err rc;

	if (v1_id_parse(pl, &id) != 0)
		return -1;
	switch (id.type) {
	case V1_ID_IPV4_ADDR:
	case V1_ID_IPV6_ADDR: {
		uint8_t fam = id.type == V1_ID_IPV4_ADDR ? TS_IPV4 : TS_IPV6;

		if (id.len != (fam == TS_IPV4 ? 4u : 16u))
			return -1;
		rc = ts_from_prefix(t, fam, id.data, fam == TS_IPV4 ? 32 : 128, 0);
		break;
	}
	case V1_ID_IPV4_SUBNET:
	case V1_ID_IPV6_SUBNET: {
		uint8_t fam = id.type == V1_ID_IPV4_SUBNET ? TS_IPV4 : TS_IPV6;
		size_t al = fam == TS_IPV4 ? 4 : 16;

		if (id.len != 2 * al)
			return -1;
		rc = ts_from_netmask(t, fam, id.data, id.data + al, TS_ALLOW_HOST_BITS);
		break;
	}
	case V1_ID_IPV4_RANGE:
	case V1_ID_IPV6_RANGE: {
		uint8_t fam = id.type == V1_ID_IPV4_RANGE ? TS_IPV4 : TS_IPV6;
		size_t al = fam == TS_IPV4 ? 4 : 16;

		if (id.len != 2 * al)
			return -1;
		rc = ts_from_range(t, fam, id.data, id.data + al);
		break;
	}
	default:
		return -1;
	}
	if (rc != TS_OK)
		return -1;
	t->proto = id.proto;
	if (id.port != 0) {
		t->port_start = id.port;
		t->port_end = id.port;
	}
	return 0;
}

/* ---- ESP proposals ---------------------------------------------------------------------- */

static void wr_esp_transform(struct v1_wr *w, uint8_t num, bool last, enum crypto_alg_id encr,
                             enum crypto_alg_id integ, uint32_t life, uint32_t life_kb,
                             uint16_t encap, enum crypto_alg_id pfs)
{
	size_t s = w->len;

	v1_wr_u8(w, last ? V1_PL_NONE : V1_PL_T);
	v1_wr_u8(w, 0);
	v1_wr_be16(w, 0);
	v1_wr_u8(w, num);
	v1_wr_u8(w, (uint8_t)crypto_alg(encr)->ikev1_esp);
	v1_wr_be16(w, 0);
	if (life_kb != 0) {
		v1_wr_attr(w, V1_Q_LIFE_TYPE, V1_LIFE_KB);
		v1_wr_attr(w, V1_Q_LIFE_DUR, life_kb);
	}
	v1_wr_attr(w, V1_Q_LIFE_TYPE, V1_LIFE_SECONDS);
	v1_wr_attr(w, V1_Q_LIFE_DUR, life);
	if (pfs != CRYPTO_INTEG_NONE)
		v1_wr_attr(w, V1_Q_GROUP, crypto_alg(pfs)->ikev1_esp);
	v1_wr_attr(w, V1_Q_ENCAP, encap);
	if (integ != CRYPTO_INTEG_NONE)
		v1_wr_attr(w, V1_Q_AUTH, crypto_alg(integ)->ikev1_esp);
	if (crypto_alg(encr)->ikev2_key_bits != 0)
		v1_wr_attr(w, V1_Q_KEY_LEN, crypto_alg(encr)->ikev2_key_bits);
	v1_wr_end(w, s);
}

/* SA payload for ESP: our proposal, every encryption x integrity. */
void v1_esp_wr_sa(struct v1_wr *w, const struct config_ipsec *ip, uint32_t life, uint32_t life_kb,
                  uint32_t spi, uint16_t encap, enum crypto_alg_id pfs)
{
	struct v1_esp_choice list[64];
	unsigned n = 0;

	for (uint32_t i = 0; i < ip->encryption.n; i++) {
		enum crypto_alg_id en = ip->encryption.ids[i];

		if (crypto_alg(en)->ikev1_esp == 0)
			continue;
		if (crypto_alg(en)->aead) {
			if (n < ARRAY_SIZE(list))
				list[n++] = (struct v1_esp_choice){ .encr = en,
					                            .integ = CRYPTO_INTEG_NONE };
			continue;
		}
		for (uint32_t j = 0; j < ip->integrity.n && n < ARRAY_SIZE(list); j++)
			if (ip->integrity.ids[j] != CRYPTO_INTEG_NONE)
				list[n++] = (struct v1_esp_choice){ .encr = en,
					                            .integ = ip->integrity.ids[j] };
	}
	size_t sa_s = v1_wr_begin(w, V1_PL_SA);
	v1_wr_be32(w, V1_DOI_IPSEC);
	v1_wr_be32(w, V1_SIT_IDENTITY_ONLY);
	size_t p_s = w->len;
	v1_wr_u8(w, V1_PL_NONE);
	v1_wr_u8(w, 0);
	v1_wr_be16(w, 0);
	v1_wr_u8(w, 1);
	v1_wr_u8(w, V1_PROTO_ESP);
	v1_wr_u8(w, 4);
	v1_wr_u8(w, (uint8_t)n);
	v1_wr_be32(w, spi);
	for (unsigned i = 0; i < n; i++)
		wr_esp_transform(w, (uint8_t)(i + 1), i + 1 == n, list[i].encr, list[i].integ, life,
		                 life_kb, encap, pfs);
	v1_wr_end(w, p_s);
	v1_wr_end(w, sa_s);
}

bool v1_esp_decode(const struct v1_transform *t, struct v1_esp_choice *c, enum crypto_alg_id *grp)
{
	const struct crypto_alg *en, *in = NULL, *gr = NULL;
	uint32_t auth = v1_attr_get(t, V1_Q_AUTH, 0), g = v1_attr_get(t, V1_Q_GROUP, 0);

	en = crypto_alg_by_ikev1_esp(CRYPTO_ENCR, t->id, (uint16_t)v1_attr_get(t, V1_Q_KEY_LEN, 0));
	if (en == NULL)
		return false;
	if (auth != 0) {
		in = crypto_alg_by_ikev1_esp(CRYPTO_INTEG, (uint16_t)auth, 0);
		if (in == NULL)
			return false;
	}
	if (g != 0) {
		gr = crypto_alg_by_ikev1_esp(CRYPTO_DH, (uint16_t)g, 0);
		if (gr == NULL)
			return false;
	}
	c->encr = en->id;
	c->integ = in != NULL ? in->id : CRYPTO_INTEG_NONE;
	v1_lifetimes(t, V1_Q_LIFE_TYPE, V1_Q_LIFE_DUR, &c->life, &c->life_kb);
	c->encap = (uint16_t)v1_attr_get(t, V1_Q_ENCAP, V1_ENCAP_TUNNEL);
	c->num = t->num;
	c->prop = t->prop;
	*grp = gr != NULL ? gr->id : CRYPTO_INTEG_NONE;
	return true;
}

bool v1_esp_integ_ok(const struct config_ipsec *ip, const struct v1_esp_choice *c)
{
	if (crypto_alg(c->encr)->aead)
		return c->integ == CRYPTO_INTEG_NONE;
	return c->integ != CRYPTO_INTEG_NONE && ike_algs_has(&ip->integrity, c->integ);
}

bool v1_encap_ok(uint16_t m)
{
	return m == V1_ENCAP_TUNNEL || m == V1_ENCAP_UDP_TUNNEL || m == V1_ENCAP_UDP_TUNNEL_DRAFT;
}

/* The names of the transforms the responder considers (known algorithms, a mode we do). */
static void names_of(const struct v1_proposal *p, bool integ, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < p->n_t && off < len; i++) {
		struct v1_esp_choice c;
		enum crypto_alg_id g;
		int n;

		if (!v1_esp_decode(&p->t[i], &c, &g) || !v1_encap_ok(c.encap))
			continue;
		const char *name = crypto_alg(integ ? c.integ : c.encr)->name;
		if (strstr(buf, name) != NULL)
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "", name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static const char *encap_name(uint32_t m)
{
	switch (m) {
	case V1_ENCAP_TUNNEL:
		return "tunnel";
	case 2:
		return "transport";
	case V1_ENCAP_UDP_TUNNEL:
		return "UDP tunnel";
	case 4:
		return "UDP transport";
	case V1_ENCAP_UDP_TUNNEL_DRAFT:
		return "UDP tunnel (draft)";
	case 61444:
		return "UDP transport (draft)";
	default:
		return "unknown";
	}
}

/* Why an ESP transform is skipped before its algorithms are compared, as text. */
static void esp_skip_reason(const struct v1_transform *t, char *buf, size_t len, bool *mode)
{
	uint32_t kl = v1_attr_get(t, V1_Q_KEY_LEN, 0), auth = v1_attr_get(t, V1_Q_AUTH, 0);
	uint32_t g = v1_attr_get(t, V1_Q_GROUP, 0);
	uint32_t encap = v1_attr_get(t, V1_Q_ENCAP, V1_ENCAP_TUNNEL);

	*mode = false;
	if (crypto_alg_by_ikev1_esp(CRYPTO_ENCR, t->id, (uint16_t)kl) == NULL) {
		snprintf(buf, len, "ESP transform %u (key length %u)", t->id, kl);
	} else if (auth != 0 && crypto_alg_by_ikev1_esp(CRYPTO_INTEG, (uint16_t)auth, 0) == NULL) {
		snprintf(buf, len, "auth algorithm %u", auth);
	} else if (g != 0 && crypto_alg_by_ikev1_esp(CRYPTO_DH, (uint16_t)g, 0) == NULL) {
		snprintf(buf, len, "group %u", g);
	} else {
		*mode = true;
		snprintf(buf, len, "encapsulation mode %s (%u)", encap_name(encap), encap);
	}
}

/* Picks the peer's first acceptable ESP transform, or explains why none is. */
int v1_esp_choose(const struct config_ipsec *ip, const struct v1_proposal *p, bool has_ke,
                  struct v1_esp_choice *out, unsigned *idx, enum ike_cause *cause,
                  const char **remedy, char *why, size_t why_len)
{
	enum crypto_alg_id want = ip->pfs ? ip->pfs_group : CRYPTO_INTEG_NONE;
	bool any = false, any_enc = false, any_integ = false, any_algs = false, mode = false;
	enum crypto_alg_id peer_grp = CRYPTO_INTEG_NONE;
	char offered[128], allowed[128], skipped[96] = "";

	*remedy = NULL;
	for (unsigned i = 0; i < p->n_t; i++) {
		struct v1_esp_choice c;
		enum crypto_alg_id g;

		if (!v1_esp_decode(&p->t[i], &c, &g) || !v1_encap_ok(c.encap)) {
			bool m;

			if (skipped[0] == '\0') {
				esp_skip_reason(&p->t[i], skipped, sizeof(skipped), &m);
				mode = m;
			}
			continue;
		}
		bool en = ike_algs_has(&ip->encryption, c.encr), in = v1_esp_integ_ok(ip, &c);

		any = true;
		any_enc |= en;
		any_integ |= in;
		if (!en || !in)
			continue;
		any_algs = true;
		peer_grp = g;
		if (g == want && has_ke == (want != CRYPTO_INTEG_NONE)) {
			*out = c;
			*idx = i;
			return 0;
		}
	}
	*cause = IKE_CAUSE_PROPOSAL_MISMATCH;
	if (!any) {
		snprintf(why, why_len, "no acceptable ESP transform: peer offers %s, we allow %s",
		         skipped, mode ? "tunnel mode" : "the algorithms of our catalogue");
		if (mode)
			*remedy = "set tunnel mode on the peer (vpngw does tunnel mode only)";
	} else if (!any_enc) {
		names_of(p, false, offered, sizeof(offered));
		mismatch_why(why, why_len, "encryption", offered,
		             ike_algs_str(&ip->encryption, allowed, sizeof(allowed)), skipped);
	} else if (!any_integ) {
		names_of(p, true, offered, sizeof(offered));
		mismatch_why(why, why_len, "integrity", offered,
		             ike_algs_str(&ip->integrity, allowed, sizeof(allowed)), skipped);
	} else if (any_algs) {
		*cause = IKE_CAUSE_PFS_MISMATCH;
		snprintf(why, why_len, "pfs: peer %s%s, we %s%s",
		         peer_grp != CRYPTO_INTEG_NONE || has_ke ? "uses " : "uses no PFS",
		         peer_grp != CRYPTO_INTEG_NONE ? crypto_alg(peer_grp)->name : "",
		         want != CRYPTO_INTEG_NONE ? "use " : "have PFS disabled",
		         want != CRYPTO_INTEG_NONE ? crypto_alg(want)->name : "");
	} else {
		snprintf(why, why_len, "no acceptable ESP transform combination");
	}
	return -1;
}
