/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv2 SA records: the tables that find an IKE SA by our SPI (and a
 * half-open one by the initiator's SPI) with open addressing, so no
 * packet scans the SAs; creating and freeing SAs; sending requests (kept
 * for retransmission) and responses (kept for a repeated request); and
 * the frame of an encrypted message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_mem.h"
#include "crypto_rand.h"
#include "cursor.h"
#include "ikev2_int.h"

#define IKEV2_TOMB ((struct ikev2_sa *)(uintptr_t)1)

/* ---- tables ---- */

uint64_t ikev2_spi_key(const uint8_t spi[8])
{
	uint64_t k = 0;

	for (int i = 0; i < 8; i++)
		k = k << 8 | spi[i];
	return k;
}

static size_t tab_hash(uint64_t k, size_t cap)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k & (cap - 1);
}

static int tab_grow(struct ikev2_tab *t)
{
	size_t ncap = t->cap ? t->cap : IKEV2_TAB_MIN;
	struct ikev2_tab_slot *ns;

	if (t->live * 2 >= ncap / 2)
		ncap *= 2;
	ns = calloc(ncap, sizeof(*ns));
	if (ns == NULL)
		return -1;
	for (size_t i = 0; i < t->cap; i++) {
		struct ikev2_tab_slot *s = &t->slot[i];

		if (s->sa == NULL || s->sa == IKEV2_TOMB)
			continue;
		size_t j = tab_hash(s->key, ncap);

		while (ns[j].sa != NULL)
			j = (j + 1) & (ncap - 1);
		ns[j] = *s;
	}
	free(t->slot);
	t->slot = ns;
	t->cap = ncap;
	t->used = t->live;
	return 0;
}

static int tab_add(struct ikev2_tab *t, uint64_t key, struct ikev2_sa *sa)
{
	size_t j;

	if ((t->used + 1) * 4 >= t->cap * 3 && tab_grow(t) != 0)
		return -1;
	j = tab_hash(key, t->cap);
	while (t->slot[j].sa != NULL && t->slot[j].sa != IKEV2_TOMB)
		j = (j + 1) & (t->cap - 1);
	if (t->slot[j].sa == NULL)
		t->used++;
	t->slot[j].key = key;
	t->slot[j].sa = sa;
	t->live++;
	return 0;
}

static void tab_del(struct ikev2_tab *t, uint64_t key, struct ikev2_sa *sa)
{
	if (t->cap == 0)
		return;
	for (size_t j = tab_hash(key, t->cap); t->slot[j].sa != NULL; j = (j + 1) & (t->cap - 1)) {
		if (t->slot[j].sa == sa && t->slot[j].key == key) {
			t->slot[j].sa = IKEV2_TOMB;
			t->live--;
			return;
		}
	}
}

/* The SA with key, and (if remote) that peer address. */
static struct ikev2_sa *tab_find(const struct ikev2_tab *t, uint64_t key,
                                 const struct ike_endpoint *remote)
{
	if (t->cap == 0)
		return NULL;
	for (size_t j = tab_hash(key, t->cap); t->slot[j].sa != NULL; j = (j + 1) & (t->cap - 1)) {
		struct ikev2_sa *sa = t->slot[j].sa;

		if (sa == IKEV2_TOMB || t->slot[j].key != key)
			continue;
		if (remote == NULL || ike_endpoint_same_addr(&sa->remote, remote))
			return sa;
	}
	return NULL;
}

/* ---- helpers ---- */

struct ike_status *ikev2_status(struct ikev2 *e, uint32_t conn)
{
	return &e->status[conn];
}

const struct config_connection *ikev2_cc(const struct ikev2 *e, uint32_t conn)
{
	return &e->cfg->connections[conn];
}

uint64_t ikev2_jitter_ms(const struct ikev2 *e, uint64_t lifetime_s)
{
	uint32_t r;
	uint64_t span = lifetime_s * 1000 * IKEV2_JITTER_PCT / 100;

	if (e->t.no_jitter || span == 0)
		return 0;
	crypto_random(&r, sizeof(r));
	return r % span;
}

void ikev2_log_limited(struct ikev2 *e, struct ikev2_ratelimit *rl, enum ike_log_level level,
                       uint32_t conn, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (rl->used && e->now_ms - rl->last_ms < IKEV2_LOG_INTERVAL_MS) {
		rl->suppressed++;
		e->st.logs_suppressed++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (rl->suppressed)
		ike_log(&e->ops, level, conn, "%s (and %llu more like it in the last %llu s)", line,
		        (unsigned long long)rl->suppressed,
		        (unsigned long long)(e->now_ms - rl->last_ms) / 1000);
	else
		ike_log(&e->ops, level, conn, "%s", line);
	rl->used = true;
	rl->last_ms = e->now_ms;
	rl->suppressed = 0;
}

struct ikev2_ratelimit *ikev2_rl_source(struct ikev2 *e, const struct ike_endpoint *remote)
{
	/* FNV-1a of the address: sources share a bucket at worst, never take more. */
	uint32_t h = 2166136261u;

	for (unsigned i = 0; i < (remote->family == 4 ? 4u : 16u); i++)
		h = (h ^ remote->addr[i]) * 16777619u;
	return &e->rl_sources[h % IKEV2_LOG_SOURCES];
}

bool ikev2_sa_authenticated(const struct ikev2_sa *sa)
{
	return sa->state != IKEV2_SA_INIT_SENT && sa->state != IKEV2_SA_HALF_OPEN &&
	       sa->state != IKEV2_SA_AUTH_SENT;
}

bool ikev2_conn_up(const struct ikev2 *e, uint32_t conn)
{
	const struct ikev2_sa *sa = e->conns[conn].sa;

	return sa != NULL && sa->state == IKEV2_SA_ESTABLISHED;
}

const uint8_t *ikev2_sa_our_spi(const struct ikev2_sa *sa)
{
	return sa->initiator ? sa->spi_i : sa->spi_r;
}

struct ikev2_sa *ikev2_sa_new(struct ikev2 *e, uint32_t conn, bool initiator, uint64_t now_ms)
{
	struct ikev2_sa *sa = calloc(1, sizeof(*sa));
	uint8_t *ours;

	if (sa == NULL)
		return NULL;
	sa->e = e;
	sa->conn = conn;
	sa->initiator = initiator;
	sa->created_ms = now_ms;
	sa->last_rx_ms = now_ms;
	ours = initiator ? sa->spi_i : sa->spi_r;
	do {
		crypto_random(ours, 8);
	} while (ikev2_spi_key(ours) == 0 ||
	         tab_find(&e->by_spi, ikev2_spi_key(ours), NULL) != NULL);
	if (tab_add(&e->by_spi, ikev2_spi_key(ours), sa) != 0) {
		free(sa);
		return NULL;
	}
	sa->all_next = e->all;
	if (e->all)
		e->all->all_prev = sa;
	e->all = sa;
	sa->conn_next = e->conns[conn].sas;
	if (sa->conn_next)
		sa->conn_next->conn_prev = sa;
	e->conns[conn].sas = sa;
	return sa;
}

static void conn_unlink(struct ikev2 *e, struct ikev2_sa *sa)
{
	if (sa->conn_prev)
		sa->conn_prev->conn_next = sa->conn_next;
	else
		e->conns[sa->conn].sas = sa->conn_next;
	if (sa->conn_next)
		sa->conn_next->conn_prev = sa->conn_prev;
	sa->conn_next = sa->conn_prev = NULL;
}

void ikev2_sa_set_conn(struct ikev2 *e, struct ikev2_sa *sa, uint32_t conn)
{
	if (sa->conn == conn)
		return;
	if (e->conns[sa->conn].sa == sa)
		e->conns[sa->conn].sa = NULL;
	conn_unlink(e, sa);
	sa->conn = conn;
	sa->conn_next = e->conns[conn].sas;
	if (sa->conn_next)
		sa->conn_next->conn_prev = sa;
	e->conns[conn].sas = sa;
}

static void sa_free_pending(struct ikev2 *e, struct ikev2_sa *sa)
{
	crypto_dh_free(sa->pend.dh);
	sa->pend.dh = NULL;
	if (sa->pend.new_sa != NULL) {
		struct ikev2_sa *n = sa->pend.new_sa;

		sa->pend.new_sa = NULL;
		ikev2_sa_destroy(e, n, false);
	}
}

void ikev2_sa_destroy(struct ikev2 *e, struct ikev2_sa *sa, bool delete_children)
{
	struct ikev2_child *c, *next;

	/* Pointers between an old SA and its rekey's new one, both ways (no scan). */
	if (sa->rekey_parent != NULL) {
		if (sa->rekey_parent->peer_new_sa == sa)
			sa->rekey_parent->peer_new_sa = NULL;
		if (sa->rekey_parent->pend.new_sa == sa)
			sa->rekey_parent->pend.new_sa = NULL;
	}
	if (sa->peer_new_sa != NULL && sa->peer_new_sa->rekey_parent == sa)
		sa->peer_new_sa->rekey_parent = NULL;
	sa_free_pending(e, sa);
	for (c = sa->children; c; c = next) {
		next = c->next;
		if (delete_children && c->installed) {
			e->ops.child_delete(e->ops.ctx, c->conn, c->spi_in);
			if (e->st.child_sas)
				e->st.child_sas--;
		}
		crypto_wipe(c, sizeof(*c));
		free(c);
	}
	sa->children = NULL;
	tab_del(&e->by_spi, ikev2_spi_key(ikev2_sa_our_spi(sa)), sa);
	if (!sa->initiator)
		tab_del(&e->by_peer_spi, ikev2_spi_key(sa->spi_i), sa);
	if (sa->counted_half_open && e->st.half_open)
		e->st.half_open--;
	if (sa->state == IKEV2_SA_ESTABLISHED || sa->state == IKEV2_SA_REKEYED ||
	    sa->state == IKEV2_SA_DELETING) {
		if (sa->established_ms && e->st.ike_sas)
			e->st.ike_sas--;
	}
	if (sa->conn < e->cfg->n_connections && e->conns[sa->conn].sa == sa)
		e->conns[sa->conn].sa = NULL;
	conn_unlink(e, sa);
	if (sa->all_prev)
		sa->all_prev->all_next = sa->all_next;
	else
		e->all = sa->all_next;
	if (sa->all_next)
		sa->all_next->all_prev = sa->all_prev;
	crypto_dh_free(sa->dh);
	ikev2_keys_free(sa->k);
	free(sa->req_buf);
	free(sa->resp_buf);
	free(sa->msg_i);
	free(sa->msg_r);
	crypto_wipe(sa, sizeof(*sa));
	free(sa);
}

/* Registers a responder SA under the initiator's SPI (retransmitted IKE_SA_INIT). */
int ikev2_sa_index_peer(struct ikev2 *e, struct ikev2_sa *sa)
{
	return tab_add(&e->by_peer_spi, ikev2_spi_key(sa->spi_i), sa);
}

struct ikev2_sa *ikev2_sa_by_peer(struct ikev2 *e, const uint8_t spi_i[8],
                                  const struct ike_endpoint *remote)
{
	return tab_find(&e->by_peer_spi, ikev2_spi_key(spi_i), remote);
}

/* ---- sending ---- */

void ikev2_send_raw(struct ikev2 *e, const struct ike_endpoint *local,
                    const struct ike_endpoint *remote, bool natt, const uint8_t *buf, size_t len)
{
	uint8_t out[IKE_MSG_MAX + 4];

	if (len > IKE_MSG_MAX)
		return;
	if (natt) {
		memset(out, 0, 4);
		memcpy(out + 4, buf, len);
		e->ops.send(e->ops.ctx, local, remote, out, len + 4);
	} else {
		e->ops.send(e->ops.ctx, local, remote, buf, len);
	}
	e->st.tx++;
}

uint32_t ikev2_retransmit_timeout(const struct ikev2 *e, unsigned n)
{
	uint64_t t = ike_retransmit_timeout_ms(n);

	if (e->t.retransmit_base_ms)
		t = t * e->t.retransmit_base_ms / IKE_RETRANSMIT_BASE_MS;
	return t ? (uint32_t)t : 1;
}

void ikev2_send_request(struct ikev2 *e, struct ikev2_sa *sa, uint8_t kind, const uint8_t *buf,
                        size_t len)
{
	uint8_t *copy = malloc(len);

	if (copy == NULL)
		return;
	memcpy(copy, buf, len);
	free(sa->req_buf);
	sa->req_buf = copy;
	sa->req_len = len;
	sa->req_kind = kind;
	sa->req_pending = true;
	sa->req_tries = 0;
	sa->req_timeout_ms = e->now_ms + ikev2_retransmit_timeout(e, 0);
	sa->last_tx_ms = e->now_ms;
	ikev2_send_raw(e, &sa->local, &sa->remote, sa->natt, buf, len);
}

void ikev2_request_done(struct ikev2_sa *sa)
{
	sa->req_pending = false;
	sa->req_kind = IKEV2_REQ_NONE;
	sa->req_id++;
	free(sa->req_buf);
	sa->req_buf = NULL;
	sa->req_len = 0;
}

void ikev2_send_response(struct ikev2 *e, struct ikev2_sa *sa, const uint8_t *buf, size_t len)
{
	uint8_t *copy = malloc(len);

	if (copy != NULL) {
		memcpy(copy, buf, len);
		free(sa->resp_buf);
		sa->resp_buf = copy;
		sa->resp_len = len;
		sa->have_resp = true;
	}
	sa->resp_id++;
	ikev2_send_raw(e, &sa->local, &sa->remote, sa->natt, buf, len);
}

void ikev2_sk_begin(struct ikev2_sa *sa, struct ikev2_sk_wr *s, uint8_t *buf, size_t cap,
                    uint8_t exch, bool response, uint32_t msg_id)
{
	uint8_t flags =
	        (sa->initiator ? IKEV2_FLAG_INITIATOR : 0) | (response ? IKEV2_FLAG_RESPONSE : 0);

	ikev2_wr_init(&s->w, buf, cap);
	ikev2_wr_header(&s->w, sa->spi_i, sa->spi_r, exch, flags, msg_id);
	ikev2_wr_init(&s->in, s->inner, sizeof(s->inner));
	s->exch = exch;
	s->flags = flags;
	s->msg_id = msg_id;
}

size_t ikev2_sk_end(struct ikev2_sa *sa, struct ikev2_sk_wr *s)
{
	size_t n;

	if (s->w.failed || s->in.failed || sa->k == NULL)
		return 0;
	s->w.buf[16] = IKEV2_PL_SK;
	n = ikev2_sk_protect(sa->k, s->w.buf, s->w.len, s->w.cap, s->in.first_np, s->inner,
	                     s->in.len);
	crypto_wipe(s->inner, s->in.len);
	return n;
}

struct ikev2_sa *ikev2_sa_by_spi(struct ikev2 *e, const uint8_t spi[8])
{
	return tab_find(&e->by_spi, ikev2_spi_key(spi), NULL);
}
