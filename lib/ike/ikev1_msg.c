/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ISAKMP codec: validate-then-parse over the bounded cursor. Each payload's
 * declared length is checked against what is left before its body is
 * looked at; structures inside a body (proposals, transforms, attributes)
 * get their own sub-cursors, so a lie at any level ends in -1, never in a
 * read past the datagram.
 */
#include "ikev1_msg.h"

#include <string.h>

int v1_hdr_parse(const uint8_t *buf, size_t len, struct v1_hdr *h)
{
	struct cursor c = cursor_init(buf, len);

	cursor_copy(&c, h->cky_i, 8);
	cursor_copy(&c, h->cky_r, 8);
	h->np = cursor_u8(&c);
	h->version = cursor_u8(&c);
	h->exch = cursor_u8(&c);
	h->flags = cursor_u8(&c);
	h->msgid = cursor_be32(&c);
	h->len = cursor_be32(&c);
	if (!cursor_ok(&c))
		return -1;
	/* Major version 1; any minor (RFC 2408 3.1 says ignore it). */
	if ((h->version >> 4) != 1)
		return -1;
	/* Declared length must be the datagram's (some stacks pad UDP: allow more). */
	if (h->len < V1_HDR_LEN || h->len > len)
		return -1;
	return 0;
}

static void add(struct v1_pl *arr, unsigned *n, unsigned max, struct v1_pl pl)
{
	if (*n < max)
		arr[(*n)++] = pl;
}

int v1_msg_parse(uint8_t np, const uint8_t *body, size_t len, struct v1_msg *m)
{
	struct cursor c = cursor_init(body, len);

	memset(m, 0, sizeof(*m));
	m->first = np;
	m->end = body;
	while (np != V1_PL_NONE) {
		uint8_t type = np;
		uint16_t plen;

		if (cursor_left(&c) < V1_GEN_LEN)
			return -1;
		const uint8_t *start = c.p;
		np = cursor_u8(&c);
		cursor_u8(&c); /* reserved */
		plen = cursor_be16(&c);
		if (plen < V1_GEN_LEN || (size_t)(plen - V1_GEN_LEN) > cursor_left(&c))
			return -1;
		struct v1_pl pl = { .p = c.p, .len = (size_t)plen - V1_GEN_LEN };
		cursor_skip(&c, pl.len);
		m->end = start + plen;

		switch (type) {
		case V1_PL_SA:
			if (m->sa.p != NULL)
				return -1;
			m->sa = pl;
			break;
		case V1_PL_KE:
			if (m->ke.p != NULL)
				return -1;
			m->ke = pl;
			break;
		case V1_PL_HASH:
			if (m->hash.p != NULL)
				return -1;
			m->hash = pl;
			m->after_hash = start + plen;
			break;
		case V1_PL_NONCE:
			if (m->nonce.p != NULL)
				return -1;
			m->nonce = pl;
			break;
		case V1_PL_ID:
			if (m->n_id >= V1_MSG_MAX_ID)
				return -1;
			m->id[m->n_id++] = pl;
			break;
		case V1_PL_N:
			add(m->n, &m->n_n, V1_MSG_MAX_N, pl);
			break;
		case V1_PL_D:
			add(m->d, &m->n_d, V1_MSG_MAX_D, pl);
			break;
		case V1_PL_VID:
			add(m->vid, &m->n_vid, V1_MSG_MAX_VID, pl);
			break;
		case V1_PL_NATD:
		case V1_PL_NATD_DRAFT:
			add(m->natd, &m->n_natd, V1_MSG_MAX_NATD, pl);
			break;
		default:
			/* CERT, CR, SIG, NAT-OA and unknown: skipped. */
			break;
		}
	}
	return cursor_ok(&c) ? 0 : -1;
}

static int attrs_parse(struct cursor *c, struct v1_transform *t)
{
	while (cursor_left(c) > 0) {
		uint16_t type = cursor_be16(c);
		uint32_t value = 0;

		if (type & 0x8000) {
			value = cursor_be16(c);
		} else {
			uint16_t alen = cursor_be16(c);
			const uint8_t *v = cursor_take(c, alen);

			if (v == NULL)
				return V1_PARSE_MALFORMED;
			/* Values longer than 4 bytes saturate (only durations can be). */
			for (uint16_t i = 0; i < alen; i++) {
				if (value >> 24 != 0) {
					value = UINT32_MAX;
					break;
				}
				value = value << 8 | v[i];
			}
		}
		if (!cursor_ok(c))
			return V1_PARSE_MALFORMED;
		if (t->n_attr >= V1_TRANSFORM_MAX_ATTRS)
			return V1_PARSE_TOO_MANY_ATTRS;
		t->attr[t->n_attr++] = (struct v1_attr){ (uint16_t)(type & 0x7fff), value };
	}
	return cursor_ok(c) ? 0 : V1_PARSE_MALFORMED;
}

int v1_attrs_parse(const uint8_t *body, size_t len, struct v1_transform *t)
{
	struct cursor c = cursor_init(body, len);

	t->n_attr = 0;
	return attrs_parse(&c, t);
}

int v1_sa_parse(const struct v1_pl *sa, struct v1_proposal *p)
{
	struct cursor c = cursor_init(sa->p, sa->len);
	uint32_t doi = cursor_be32(&c);

	memset(p, 0, sizeof(*p) - sizeof(p->t));
	p->n_t = 0;
	cursor_be32(&c); /* situation */
	if (!cursor_ok(&c) || doi != V1_DOI_IPSEC)
		return V1_PARSE_MALFORMED;
	/* Every proposal payload; transforms of the first one's protocol are kept. */
	for (unsigned n_prop = 0;; n_prop++) {
		uint8_t np = cursor_u8(&c);
		cursor_u8(&c);
		uint16_t plen = cursor_be16(&c);
		if (!cursor_ok(&c) || plen < 8 || (size_t)(plen - 4) > cursor_left(&c))
			return V1_PARSE_MALFORMED;
		struct cursor pc = cursor_sub(&c, (size_t)plen - 4);
		uint8_t num = cursor_u8(&pc);
		uint8_t proto = cursor_u8(&pc);
		uint8_t spi_len = cursor_u8(&pc);
		uint8_t n_t = cursor_u8(&pc);
		const uint8_t *spi = cursor_take(&pc, spi_len);
		if (!cursor_ok(&pc) || spi_len > sizeof(p->spi))
			return V1_PARSE_MALFORMED;
		if (n_prop == 0) {
			p->num = num;
			p->proto = proto;
			p->spi_len = spi_len;
			memcpy(p->spi, spi, spi_len);
		}
		for (unsigned i = 0; i < n_t; i++) {
			if (cursor_left(&pc) < 8)
				return V1_PARSE_MALFORMED;
			cursor_u8(&pc); /* next payload: T or none; the count rules */
			cursor_u8(&pc);
			uint16_t tlen = cursor_be16(&pc);
			if (tlen < 8 || (size_t)(tlen - 4) > cursor_left(&pc))
				return V1_PARSE_MALFORMED;
			struct cursor tc = cursor_sub(&pc, (size_t)tlen - 4);
			struct v1_transform tmp;
			bool keep = proto == p->proto && p->n_t < V1_SA_MAX_TRANSFORMS;
			struct v1_transform *t = keep ? &p->t[p->n_t] : &tmp;
			int rc;

			memset(t, 0, sizeof(*t));
			t->prop = num;
			t->raw = tc.p;
			t->raw_len = (size_t)tlen - 4;
			t->num = cursor_u8(&tc);
			t->id = cursor_u8(&tc);
			cursor_be16(&tc);
			if (!cursor_ok(&tc))
				return V1_PARSE_MALFORMED;
			rc = attrs_parse(&tc, t);
			if (rc != 0)
				return rc;
			if (keep)
				p->n_t++;
		}
		if (!cursor_ok(&pc))
			return V1_PARSE_MALFORMED;
		if (np != V1_PL_P || n_prop >= 64)
			break;
	}
	return cursor_ok(&c) && p->n_t > 0 ? 0 : V1_PARSE_MALFORMED;
}

uint32_t v1_attr_get(const struct v1_transform *t, uint16_t type, uint32_t def)
{
	for (unsigned i = 0; i < t->n_attr; i++)
		if (t->attr[i].type == type)
			return t->attr[i].value;
	return def;
}

int v1_notify_parse(const struct v1_pl *pl, struct v1_notify *n)
{
	struct cursor c = cursor_init(pl->p, pl->len);

	n->doi = cursor_be32(&c);
	n->proto = cursor_u8(&c);
	n->spi_len = cursor_u8(&c);
	n->type = cursor_be16(&c);
	n->spi = cursor_take(&c, n->spi_len);
	if (!cursor_ok(&c))
		return -1;
	n->data_len = cursor_left(&c);
	n->data = c.p;
	return 0;
}

int v1_delete_parse(const struct v1_pl *pl, struct v1_delete *d)
{
	struct cursor c = cursor_init(pl->p, pl->len);

	d->doi = cursor_be32(&c);
	d->proto = cursor_u8(&c);
	d->spi_len = cursor_u8(&c);
	d->n_spi = cursor_be16(&c);
	if (!cursor_ok(&c) || d->spi_len == 0)
		return -1;
	/* n_spi * spi_len fits easily in size_t: both are at most 16 bits. */
	d->spis = cursor_take(&c, (size_t)d->n_spi * d->spi_len);
	return cursor_ok(&c) ? 0 : -1;
}

int v1_id_parse(const struct v1_pl *pl, struct v1_idpl *id)
{
	struct cursor c = cursor_init(pl->p, pl->len);

	id->type = cursor_u8(&c);
	id->proto = cursor_u8(&c);
	id->port = cursor_be16(&c);
	if (!cursor_ok(&c))
		return -1;
	id->len = cursor_left(&c);
	id->data = c.p;
	return 0;
}

/* ---- writer --------------------------------------------------------------- */

void v1_wr_init(struct v1_wr *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->failed = false;
	w->np_at = 16;
}

void v1_wr_bytes(struct v1_wr *w, const void *p, size_t n)
{
	if (w->failed || n > w->cap - w->len) {
		w->failed = true;
		return;
	}
	if (n > 0)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void v1_wr_u8(struct v1_wr *w, uint8_t v)
{
	v1_wr_bytes(w, &v, 1);
}

void v1_wr_be16(struct v1_wr *w, uint16_t v)
{
	uint8_t b[2];

	put_be16(b, v);
	v1_wr_bytes(w, b, 2);
}

void v1_wr_be32(struct v1_wr *w, uint32_t v)
{
	uint8_t b[4];

	put_be32(b, v);
	v1_wr_bytes(w, b, 4);
}

void v1_wr_hdr(struct v1_wr *w, const uint8_t cky_i[8], const uint8_t cky_r[8], uint8_t exch,
               uint8_t flags, uint32_t msgid)
{
	v1_wr_bytes(w, cky_i, 8);
	v1_wr_bytes(w, cky_r, 8);
	w->np_at = w->len;
	v1_wr_u8(w, V1_PL_NONE);
	v1_wr_u8(w, V1_VERSION);
	v1_wr_u8(w, exch);
	v1_wr_u8(w, flags);
	v1_wr_be32(w, msgid);
	v1_wr_be32(w, 0);
}

size_t v1_wr_begin(struct v1_wr *w, uint8_t type)
{
	size_t start = w->len;

	if (!w->failed && w->np_at < w->len)
		w->buf[w->np_at] = type;
	w->np_at = start;
	v1_wr_u8(w, V1_PL_NONE);
	v1_wr_u8(w, 0);
	v1_wr_be16(w, 0);
	return start;
}

void v1_wr_end(struct v1_wr *w, size_t start)
{
	if (w->failed || w->len - start > UINT16_MAX) {
		w->failed = true;
		return;
	}
	put_be16(w->buf + start + 2, (uint16_t)(w->len - start));
}

void v1_wr_payload(struct v1_wr *w, uint8_t type, const void *body, size_t len)
{
	size_t s = v1_wr_begin(w, type);

	v1_wr_bytes(w, body, len);
	v1_wr_end(w, s);
}

void v1_wr_attr(struct v1_wr *w, uint16_t type, uint32_t value)
{
	if (value <= UINT16_MAX) {
		v1_wr_be16(w, (uint16_t)(0x8000 | type));
		v1_wr_be16(w, (uint16_t)value);
	} else {
		v1_wr_be16(w, type);
		v1_wr_be16(w, 4);
		v1_wr_be32(w, value);
	}
}

void v1_wr_notify(struct v1_wr *w, uint8_t proto, const uint8_t *spi, size_t spi_len, uint16_t type,
                  const uint8_t *data, size_t data_len)
{
	size_t s = v1_wr_begin(w, V1_PL_N);

	v1_wr_be32(w, V1_DOI_IPSEC);
	v1_wr_u8(w, proto);
	v1_wr_u8(w, (uint8_t)spi_len);
	v1_wr_be16(w, type);
	v1_wr_bytes(w, spi, spi_len);
	v1_wr_bytes(w, data, data_len);
	v1_wr_end(w, s);
}

size_t v1_wr_finish(struct v1_wr *w)
{
	if (w->failed || w->len < V1_HDR_LEN)
		return 0;
	put_be32(w->buf + V1_HDR_LEN_AT, (uint32_t)w->len);
	return w->len;
}
