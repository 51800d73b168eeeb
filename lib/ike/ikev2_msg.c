/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv2 message codec: validate-then-parse of the header and each payload
 * through the bounded cursor; a bounded writer for our own messages.
 */
#include <string.h>

#include "cursor.h"
#include "ikev2_msg.h"

#define CRITICAL_BIT 0x80

static int parse_ts_list(struct cursor *c, struct ts *out, unsigned *n_out)
{
	unsigned n = cursor_u8(c);

	cursor_skip(c, 3);
	if (!cursor_ok(c))
		return -1;
	*n_out = 0;
	for (unsigned i = 0; i < n; i++) {
		uint8_t type = cursor_u8(c);
		uint8_t proto = cursor_u8(c);
		uint16_t sel_len = cursor_be16(c);
		uint16_t ps, pe;
		const uint8_t *s, *e;
		size_t alen;
		struct ts t;

		if (!cursor_ok(c))
			return -1;
		if (type == IKEV2_TS_IPV4)
			alen = 4;
		else if (type == IKEV2_TS_IPV6)
			alen = 16;
		else
			return -1;
		if (sel_len != 8 + 2 * alen)
			return -1;
		ps = cursor_be16(c);
		pe = cursor_be16(c);
		s = cursor_take(c, alen);
		e = cursor_take(c, alen);
		if (!cursor_ok(c))
			return -1;
		if (ts_from_range(&t, alen == 4 ? TS_IPV4 : TS_IPV6, s, e) != TS_OK)
			return -1;
		if (ps > pe)
			return -1;
		t.proto = proto;
		t.port_start = ps;
		t.port_end = pe;
		if (*n_out < IKE_TS_MAX)
			out[(*n_out)++] = t;
	}
	return cursor_left(c) == 0 ? 0 : -1;
}

static int parse_delete(struct ikev2_msg *m, struct cursor *c)
{
	uint8_t proto = cursor_u8(c);
	uint8_t spi_len = cursor_u8(c);
	uint16_t n = cursor_be16(c);

	if (!cursor_ok(c))
		return -1;
	if (proto == IKEV2_PROTO_IKE) {
		if (spi_len != 0 || n != 0)
			return -1;
		m->delete_ike = true;
		return 0;
	}
	if (spi_len != 4 || cursor_left(c) != (size_t)n * 4)
		return -1;
	/* Validated only: ikev2_delete_next reads the SPIs where they are. */
	m->n_delete++;
	m->n_delete_spis += n;
	return 0;
}

void ikev2_delete_iter_init(const struct ikev2_msg *m, struct ikev2_delete_iter *it)
{
	it->chain = 0;
	it->c = cursor_init(m->raw, m->raw_len);
	cursor_skip(&it->c, IKEV2_HDR_LEN);
	it->np = m->first_payload;
}

bool ikev2_delete_next(const struct ikev2_msg *m, struct ikev2_delete_iter *it,
                       struct ikev2_delete *d)
{
	while (it->chain < 2) {
		uint8_t type = it->np;
		struct cursor body;
		uint16_t plen;

		if (type == IKEV2_PL_NONE || type == IKEV2_PL_SK || !cursor_ok(&it->c)) {
			/* This chain is done: the inner one next, if there is one. */
			it->chain++;
			it->c = cursor_init(m->inner, m->inner ? m->inner_len : 0);
			it->np = it->chain == 1 && m->inner ? m->sk_first : IKEV2_PL_NONE;
			continue;
		}
		it->np = cursor_u8(&it->c);
		cursor_skip(&it->c, 1);
		plen = cursor_be16(&it->c);
		if (!cursor_ok(&it->c) || plen < IKEV2_GEN_HDR_LEN)
			break;
		body = cursor_sub(&it->c, plen - IKEV2_GEN_HDR_LEN);
		if (type != IKEV2_PL_DELETE)
			continue;
		d->proto = cursor_u8(&body);
		cursor_skip(&body, 1);
		d->n_spi = cursor_be16(&body);
		d->spis = body.p;
		/* The parser checked it; the IKE SA's own Delete has no SPIs. */
		if (cursor_ok(&body) && d->proto != IKEV2_PROTO_IKE &&
		    cursor_left(&body) == (size_t)d->n_spi * 4)
			return true;
	}
	it->chain = 2;
	return false;
}

/* One payload body of a known type into m. */
static int parse_payload(struct ikev2_msg *m, uint8_t type, struct cursor *c)
{
	struct ikev2_bytes whole = { c->p, cursor_left(c) };

	switch (type) {
	case IKEV2_PL_SA:
		if (m->has_sa)
			return -1;
		m->has_sa = true;
		m->sa = whole;
		return whole.len >= 8 ? 0 : -1;
	case IKEV2_PL_KE:
		if (m->has_ke)
			return -1;
		m->has_ke = true;
		m->ke_group = cursor_be16(c);
		cursor_skip(c, 2);
		m->ke.len = cursor_left(c);
		m->ke.p = c->p;
		return cursor_ok(c) && m->ke.len > 0 ? 0 : -1;
	case IKEV2_PL_NONCE:
		if (m->has_nonce || whole.len < IKEV2_NONCE_MIN || whole.len > IKEV2_NONCE_MAX)
			return -1;
		m->has_nonce = true;
		m->nonce = whole;
		return 0;
	case IKEV2_PL_IDI:
	case IKEV2_PL_IDR:
		if (whole.len < 5)
			return -1;
		if (type == IKEV2_PL_IDI) {
			if (m->has_idi)
				return -1;
			m->has_idi = true;
			m->idi_body = whole;
		} else {
			if (m->has_idr)
				return -1;
			m->has_idr = true;
			m->idr_body = whole;
		}
		return 0;
	case IKEV2_PL_AUTH:
		if (m->has_auth)
			return -1;
		m->has_auth = true;
		m->auth_method = cursor_u8(c);
		cursor_skip(c, 3);
		m->auth.len = cursor_left(c);
		m->auth.p = c->p;
		return cursor_ok(c) && m->auth.len > 0 ? 0 : -1;
	case IKEV2_PL_NOTIFY: {
		struct ikev2_notify n;

		n.proto = cursor_u8(c);
		n.spi_len = cursor_u8(c);
		n.type = cursor_be16(c);
		n.spi = cursor_take(c, n.spi_len);
		if (!cursor_ok(c))
			return -1;
		n.data_len = cursor_left(c);
		n.data = c->p;
		if (m->n_notify < IKEV2_NOTIFY_MAX)
			m->notify[m->n_notify++] = n;
		return 0;
	}
	case IKEV2_PL_DELETE:
		return parse_delete(m, c);
	case IKEV2_PL_TSI:
		if (m->has_tsi)
			return -1;
		m->has_tsi = true;
		return parse_ts_list(c, m->tsi, &m->n_tsi);
	case IKEV2_PL_TSR:
		if (m->has_tsr)
			return -1;
		m->has_tsr = true;
		return parse_ts_list(c, m->tsr, &m->n_tsr);
	case IKEV2_PL_VID:
	case IKEV2_PL_CP:
	case IKEV2_PL_CERTREQ:
	case IKEV2_PL_CERT:
		return 0; /* known, ignored */
	default:
		return 1; /* unknown */
	}
}

/*
 * Walks a payload chain; stops after an SK payload when sk_ok (it must be
 * last). sk_ok only for the outer chain, whose cursor runs over m->raw.
 */
static int parse_chain(struct ikev2_msg *m, uint8_t np, struct cursor *c, bool sk_ok)
{
	while (np != IKEV2_PL_NONE) {
		const uint8_t *at = c->p; /* this payload's generic header */
		uint8_t type = np;
		uint8_t crit;
		uint16_t plen;
		struct cursor body;
		int rc;

		np = cursor_u8(c);
		crit = cursor_u8(c);
		plen = cursor_be16(c);
		if (!cursor_ok(c) || plen < IKEV2_GEN_HDR_LEN)
			return -1;
		body = cursor_sub(c, plen - IKEV2_GEN_HDR_LEN);
		if (!cursor_ok(&body))
			return -1;
		if (type == IKEV2_PL_SK) {
			if (!sk_ok || m->has_sk || cursor_left(c) != 0)
				return -1;
			m->has_sk = true;
			m->sk_first = np;
			m->sk_off = (size_t)(at - m->raw);
			m->sk_len = plen;
			return 0;
		}
		rc = parse_payload(m, type, &body);
		if (rc < 0)
			return -1;
		if (rc > 0 && (crit & CRITICAL_BIT) && m->unsupported_critical == 0)
			m->unsupported_critical = type;
	}
	return cursor_left(c) == 0 ? 0 : -1;
}

enum ikev2_parse_err ikev2_msg_parse(struct ikev2_msg *m, const uint8_t *buf, size_t len)
{
	struct cursor c = cursor_init(buf, len);
	uint32_t total;

	memset(m, 0, sizeof(*m));
	m->raw = buf;
	cursor_copy(&c, m->spi_i, 8);
	cursor_copy(&c, m->spi_r, 8);
	m->first_payload = cursor_u8(&c);
	m->version = cursor_u8(&c);
	m->exchange = cursor_u8(&c);
	m->flags = cursor_u8(&c);
	m->msg_id = cursor_be32(&c);
	total = cursor_be32(&c);
	if (!cursor_ok(&c))
		return IKEV2_PARSE_MALFORMED;
	if ((m->version >> 4) != 2)
		return IKEV2_PARSE_VERSION;
	if (total != len || total > IKE_MSG_MAX)
		return IKEV2_PARSE_MALFORMED;
	m->raw_len = len;
	if (parse_chain(m, m->first_payload, &c, true) != 0)
		return IKEV2_PARSE_MALFORMED;
	return IKEV2_PARSE_OK;
}

int ikev2_msg_parse_inner(struct ikev2_msg *m, uint8_t first, const uint8_t *buf, size_t len)
{
	struct cursor c = cursor_init(buf, len);

	if (parse_chain(m, first, &c, false) != 0)
		return -1;
	m->inner = buf;
	m->inner_len = len;
	return 0;
}

int ikev2_sa_parse(struct ikev2_sa_payload *sa, const uint8_t *body, size_t len)
{
	struct cursor c = cursor_init(body, len);
	uint8_t last = 2;

	sa->n = 0;
	while (last == 2) {
		struct ikev2_proposal p;
		uint16_t plen;
		uint8_t n_tr;
		struct cursor pc;

		last = cursor_u8(&c);
		cursor_skip(&c, 1);
		plen = cursor_be16(&c);
		if (!cursor_ok(&c) || (last != 0 && last != 2) || plen < 8)
			return -1;
		pc = cursor_sub(&c, plen - 4);
		p.num = cursor_u8(&pc);
		p.proto = cursor_u8(&pc);
		p.spi_len = cursor_u8(&pc);
		n_tr = cursor_u8(&pc);
		if (!cursor_ok(&pc) || p.spi_len > IKEV2_SPI_LEN)
			return -1;
		cursor_copy(&pc, p.spi, p.spi_len);
		p.n_tr = 0;
		for (unsigned i = 0; i < n_tr; i++) {
			uint8_t tlast = cursor_u8(&pc);
			uint16_t tlen;
			struct cursor tc;
			struct ikev2_transform t = { 0 };

			cursor_skip(&pc, 1);
			tlen = cursor_be16(&pc);
			if (!cursor_ok(&pc) || tlen < 8 || (tlast != 0 && tlast != 3) ||
			    (tlast == 0) != (i + 1 == n_tr))
				return -1;
			tc = cursor_sub(&pc, tlen - 4);
			t.type = cursor_u8(&tc);
			cursor_skip(&tc, 1);
			t.id = cursor_be16(&tc);
			while (cursor_ok(&tc) && cursor_left(&tc) > 0) {
				uint16_t at = cursor_be16(&tc);
				uint16_t av = cursor_be16(&tc);

				if (!(at & 0x8000)) {
					/* TLV: skip its value; we know none. */
					cursor_skip(&tc, av);
					t.bad_attr = true;
				} else if ((at & 0x7fff) == IKEV2_ATTR_KEY_LENGTH) {
					t.key_bits = av;
				} else {
					t.bad_attr = true;
				}
			}
			if (!cursor_ok(&tc))
				return -1;
			if (p.n_tr < IKEV2_TRANSFORMS_MAX)
				p.tr[p.n_tr++] = t;
		}
		if (!cursor_ok(&pc) || cursor_left(&pc) != 0)
			return -1;
		if (sa->n < IKEV2_PROPS_MAX)
			sa->p[sa->n++] = p;
	}
	return cursor_left(&c) == 0 && cursor_ok(&c) ? 0 : -1;
}

const struct ikev2_notify *ikev2_msg_notify(const struct ikev2_msg *m, uint16_t type)
{
	for (unsigned i = 0; i < m->n_notify; i++)
		if (m->notify[i].type == type)
			return &m->notify[i];
	return NULL;
}

const struct ikev2_notify *ikev2_msg_error(const struct ikev2_msg *m)
{
	for (unsigned i = 0; i < m->n_notify; i++)
		if (m->notify[i].type <= IKEV2_N_ERROR_MAX)
			return &m->notify[i];
	return NULL;
}

const char *ikev2_notify_name(uint16_t type)
{
	switch (type) {
	case IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD:
		return "UNSUPPORTED_CRITICAL_PAYLOAD";
	case IKEV2_N_INVALID_IKE_SPI:
		return "INVALID_IKE_SPI";
	case IKEV2_N_INVALID_MAJOR_VERSION:
		return "INVALID_MAJOR_VERSION";
	case IKEV2_N_INVALID_SYNTAX:
		return "INVALID_SYNTAX";
	case IKEV2_N_INVALID_MESSAGE_ID:
		return "INVALID_MESSAGE_ID";
	case IKEV2_N_INVALID_SPI:
		return "INVALID_SPI";
	case IKEV2_N_NO_PROPOSAL_CHOSEN:
		return "NO_PROPOSAL_CHOSEN";
	case IKEV2_N_INVALID_KE_PAYLOAD:
		return "INVALID_KE_PAYLOAD";
	case IKEV2_N_AUTHENTICATION_FAILED:
		return "AUTHENTICATION_FAILED";
	case IKEV2_N_SINGLE_PAIR_REQUIRED:
		return "SINGLE_PAIR_REQUIRED";
	case IKEV2_N_NO_ADDITIONAL_SAS:
		return "NO_ADDITIONAL_SAS";
	case IKEV2_N_INTERNAL_ADDRESS_FAILURE:
		return "INTERNAL_ADDRESS_FAILURE";
	case IKEV2_N_FAILED_CP_REQUIRED:
		return "FAILED_CP_REQUIRED";
	case IKEV2_N_TS_UNACCEPTABLE:
		return "TS_UNACCEPTABLE";
	case IKEV2_N_INVALID_SELECTORS:
		return "INVALID_SELECTORS";
	case IKEV2_N_TEMPORARY_FAILURE:
		return "TEMPORARY_FAILURE";
	case IKEV2_N_CHILD_SA_NOT_FOUND:
		return "CHILD_SA_NOT_FOUND";
	default:
		return "notify";
	}
}

const char *ikev2_exchange_name(uint8_t exch)
{
	switch (exch) {
	case IKEV2_EXCH_IKE_SA_INIT:
		return "IKE_SA_INIT";
	case IKEV2_EXCH_IKE_AUTH:
		return "IKE_AUTH";
	case IKEV2_EXCH_CREATE_CHILD_SA:
		return "CREATE_CHILD_SA";
	case IKEV2_EXCH_INFORMATIONAL:
		return "INFORMATIONAL";
	default:
		return "unknown exchange";
	}
}

/* ---- writer ---- */

void ikev2_wr_init(struct ikev2_wr *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->failed = false;
	w->np_off = SIZE_MAX;
	w->first_np = IKEV2_PL_NONE;
}

void ikev2_wr_bytes(struct ikev2_wr *w, const void *p, size_t n)
{
	if (w->failed || n > w->cap - w->len) {
		w->failed = true;
		return;
	}
	if (n > 0)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void ikev2_wr_u8(struct ikev2_wr *w, uint8_t v)
{
	ikev2_wr_bytes(w, &v, 1);
}

void ikev2_wr_be16(struct ikev2_wr *w, uint16_t v)
{
	uint8_t b[2];

	put_be16(b, v);
	ikev2_wr_bytes(w, b, 2);
}

void ikev2_wr_be32(struct ikev2_wr *w, uint32_t v)
{
	uint8_t b[4];

	put_be32(b, v);
	ikev2_wr_bytes(w, b, 4);
}

void ikev2_wr_header(struct ikev2_wr *w, const uint8_t spi_i[8], const uint8_t spi_r[8],
                     uint8_t exchange, uint8_t flags, uint32_t msg_id)
{
	ikev2_wr_bytes(w, spi_i, 8);
	ikev2_wr_bytes(w, spi_r, 8);
	w->np_off = w->len;
	ikev2_wr_u8(w, IKEV2_PL_NONE);
	ikev2_wr_u8(w, IKEV2_VERSION);
	ikev2_wr_u8(w, exchange);
	ikev2_wr_u8(w, flags);
	ikev2_wr_be32(w, msg_id);
	ikev2_wr_be32(w, 0);
}

void ikev2_wr_finish(struct ikev2_wr *w)
{
	if (!w->failed && w->len >= IKEV2_HDR_LEN)
		put_be32(w->buf + 24, (uint32_t)w->len);
}

size_t ikev2_wr_begin(struct ikev2_wr *w, uint8_t type)
{
	size_t off = w->len;

	if (w->failed)
		return off;
	if (w->np_off == SIZE_MAX)
		w->first_np = type;
	else
		w->buf[w->np_off] = type;
	w->np_off = off;
	ikev2_wr_u8(w, IKEV2_PL_NONE);
	ikev2_wr_u8(w, 0);
	ikev2_wr_be16(w, 0);
	return off;
}

void ikev2_wr_end(struct ikev2_wr *w, size_t off)
{
	if (w->failed)
		return;
	if (w->len - off > UINT16_MAX) {
		w->failed = true;
		return;
	}
	put_be16(w->buf + off + 2, (uint16_t)(w->len - off));
}

void ikev2_wr_notify(struct ikev2_wr *w, uint8_t proto, const uint8_t *spi, uint8_t spi_len,
                     uint16_t type, const uint8_t *data, size_t len)
{
	size_t off = ikev2_wr_begin(w, IKEV2_PL_NOTIFY);

	ikev2_wr_u8(w, proto);
	ikev2_wr_u8(w, spi_len);
	ikev2_wr_be16(w, type);
	ikev2_wr_bytes(w, spi, spi_len);
	ikev2_wr_bytes(w, data, len);
	ikev2_wr_end(w, off);
}

void ikev2_wr_simple(struct ikev2_wr *w, uint8_t type, const uint8_t *data, size_t len)
{
	size_t off = ikev2_wr_begin(w, type);

	ikev2_wr_bytes(w, data, len);
	ikev2_wr_end(w, off);
}

void ikev2_wr_ke(struct ikev2_wr *w, uint16_t group, const uint8_t *pub, size_t len)
{
	size_t off = ikev2_wr_begin(w, IKEV2_PL_KE);

	ikev2_wr_be16(w, group);
	ikev2_wr_be16(w, 0);
	ikev2_wr_bytes(w, pub, len);
	ikev2_wr_end(w, off);
}

void ikev2_wr_id(struct ikev2_wr *w, uint8_t type, const struct ike_id *id)
{
	size_t off = ikev2_wr_begin(w, type);

	ikev2_wr_u8(w, id->type);
	ikev2_wr_u8(w, 0);
	ikev2_wr_be16(w, 0);
	ikev2_wr_bytes(w, id->data, id->len);
	ikev2_wr_end(w, off);
}

void ikev2_wr_auth(struct ikev2_wr *w, const uint8_t *auth, size_t len)
{
	size_t off = ikev2_wr_begin(w, IKEV2_PL_AUTH);

	ikev2_wr_u8(w, IKEV2_AUTH_PSK);
	ikev2_wr_u8(w, 0);
	ikev2_wr_be16(w, 0);
	ikev2_wr_bytes(w, auth, len);
	ikev2_wr_end(w, off);
}

void ikev2_wr_ts(struct ikev2_wr *w, uint8_t type, const struct ts *ts, unsigned n)
{
	size_t off = ikev2_wr_begin(w, type);

	ikev2_wr_u8(w, (uint8_t)n);
	ikev2_wr_u8(w, 0);
	ikev2_wr_be16(w, 0);
	for (unsigned i = 0; i < n; i++) {
		uint8_t a[16];
		size_t alen = ts[i].family == TS_IPV4 ? 4 : 16;

		ikev2_wr_u8(w, alen == 4 ? IKEV2_TS_IPV4 : IKEV2_TS_IPV6);
		ikev2_wr_u8(w, ts[i].proto);
		ikev2_wr_be16(w, (uint16_t)(8 + 2 * alen));
		ikev2_wr_be16(w, ts[i].port_start);
		ikev2_wr_be16(w, ts[i].port_end);
		ts_addr_store(ts[i].family, ts[i].start, a);
		ikev2_wr_bytes(w, a, alen);
		ts_addr_store(ts[i].family, ts[i].end, a);
		ikev2_wr_bytes(w, a, alen);
	}
	ikev2_wr_end(w, off);
}

void ikev2_wr_delete(struct ikev2_wr *w, uint8_t proto, const uint32_t *spis, unsigned n)
{
	size_t off = ikev2_wr_begin(w, IKEV2_PL_DELETE);

	ikev2_wr_u8(w, proto);
	ikev2_wr_u8(w, proto == IKEV2_PROTO_IKE ? 0 : 4);
	ikev2_wr_be16(w, (uint16_t)n);
	for (unsigned i = 0; i < n; i++)
		ikev2_wr_be32(w, spis[i]);
	ikev2_wr_end(w, off);
}

static void wr_transform(struct ikev2_wr *w, bool last, uint8_t type, enum crypto_alg_id id)
{
	const struct crypto_alg *a = crypto_alg(id);
	uint16_t tid = a->ikev2_id;
	uint16_t bits = type == IKEV2_TR_ENCR ? a->ikev2_key_bits : 0;

	ikev2_wr_u8(w, last ? 0 : 3);
	ikev2_wr_u8(w, 0);
	ikev2_wr_be16(w, bits ? 12 : 8);
	ikev2_wr_u8(w, type);
	ikev2_wr_u8(w, 0);
	ikev2_wr_be16(w, tid);
	if (bits) {
		ikev2_wr_be16(w, 0x8000 | IKEV2_ATTR_KEY_LENGTH);
		ikev2_wr_be16(w, bits);
	}
}

static void wr_esn(struct ikev2_wr *w, bool last, uint8_t esn)
{
	ikev2_wr_u8(w, last ? 0 : 3);
	ikev2_wr_u8(w, 0);
	ikev2_wr_be16(w, 8);
	ikev2_wr_u8(w, IKEV2_TR_ESN);
	ikev2_wr_u8(w, 0);
	ikev2_wr_be16(w, esn);
}

void ikev2_wr_sa(struct ikev2_wr *w, const struct ikev2_prop_out *props, unsigned n)
{
	size_t off = ikev2_wr_begin(w, IKEV2_PL_SA);

	for (unsigned i = 0; i < n; i++) {
		const struct ikev2_prop_out *p = &props[i];
		unsigned total = p->n_encr + p->n_prf + p->n_integ + p->n_dh + p->n_esn;
		unsigned k = 0;
		size_t poff = w->len;

		ikev2_wr_u8(w, i + 1 == n ? 0 : 2);
		ikev2_wr_u8(w, 0);
		ikev2_wr_be16(w, 0);
		ikev2_wr_u8(w, p->num ? p->num : (uint8_t)(i + 1));
		ikev2_wr_u8(w, p->proto);
		ikev2_wr_u8(w, p->spi_len);
		ikev2_wr_u8(w, (uint8_t)total);
		ikev2_wr_bytes(w, p->spi, p->spi_len);
		for (unsigned j = 0; j < p->n_encr; j++)
			wr_transform(w, ++k == total, IKEV2_TR_ENCR, p->encr[j]);
		for (unsigned j = 0; j < p->n_prf; j++)
			wr_transform(w, ++k == total, IKEV2_TR_PRF, p->prf[j]);
		for (unsigned j = 0; j < p->n_integ; j++)
			wr_transform(w, ++k == total, IKEV2_TR_INTEG, p->integ[j]);
		for (unsigned j = 0; j < p->n_dh; j++)
			wr_transform(w, ++k == total, IKEV2_TR_DH, p->dh[j]);
		for (unsigned j = 0; j < p->n_esn; j++)
			wr_esn(w, ++k == total, p->esn[j]);
		if (!w->failed)
			put_be16(w->buf + poff + 2, (uint16_t)(w->len - poff));
	}
	ikev2_wr_end(w, off);
}
