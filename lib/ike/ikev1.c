/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv1 engine core: the public API of ikev1.h, the ISAKMP SA table
 * (hashed by initiator cookie, so a message finds its SA without a scan),
 * input dispatch by exchange type, sending with the non-ESP marker on
 * 4500, retransmission and the timers of SAs, children and connections.
 */
#include "ikev1_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_mem.h"
#include "crypto_rand.h"

struct v1_conn *v1_conn(struct ikev1 *e, uint32_t conn)
{
	return conn < e->n_conns && e->conns[conn].v1 ? &e->conns[conn] : NULL;
}

static unsigned bucket_of(const uint8_t cky_i[8])
{
	uint64_t h = 1469598103934665603ull;

	for (int i = 0; i < 8; i++)
		h = (h ^ cky_i[i]) * 1099511628211ull;
	return (unsigned)(h % V1_BUCKETS);
}

static bool cky_zero(const uint8_t c[8])
{
	static const uint8_t z[8];

	return memcmp(c, z, 8) == 0;
}

struct v1_sa *v1_sa_new(struct ikev1 *e, uint32_t conn, bool initiator,
                        const struct ike_endpoint *local, const struct ike_endpoint *remote)
{
	struct v1_sa *sa = calloc(1, sizeof(*sa));

	if (sa == NULL)
		return NULL;
	/* sa->keys comes with the DH result (derive): a first message costs no locked memory. */
	sa->conn = conn;
	sa->initiator = initiator;
	sa->local = *local;
	sa->remote = *remote;
	sa->started_ms = e->now;
	sa->last_rx_ms = e->now;
	do {
		crypto_random(initiator ? sa->cky_i : sa->cky_r, 8);
	} while (cky_zero(initiator ? sa->cky_i : sa->cky_r));
	return sa;
}

/* Into the cookie hash and the list of all SAs. */
void v1_sa_link(struct ikev1 *e, struct v1_sa *sa)
{
	unsigned b = bucket_of(sa->cky_i);

	sa->hnext = e->buckets[b];
	e->buckets[b] = sa;
	sa->anext = e->all;
	sa->aprev = NULL;
	if (e->all != NULL)
		e->all->aprev = sa;
	e->all = sa;
}

static void hash_unlink(struct ikev1 *e, struct v1_sa *sa)
{
	struct v1_sa **pp = &e->buckets[bucket_of(sa->cky_i)];

	for (; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == sa) {
			*pp = sa->hnext;
			break;
		}
	}
	sa->hnext = NULL;
}

void v1_qm_free(struct v1_qm *q)
{
	crypto_dh_free(q->dh);
	crypto_key_free(q->child);
	free(q->tx);
	memset(q, 0, sizeof(*q));
}

static void sa_free(struct v1_sa *sa)
{
	for (unsigned i = 0; i < V1_QM_MAX; i++)
		if (sa->qm[i] != NULL) {
			v1_qm_free(sa->qm[i]);
			free(sa->qm[i]);
		}
	crypto_dh_free(sa->dh);
	crypto_key_free(sa->keys);
	free(sa->sai_b);
	free(sa->tx);
	free(sa);
}

/*
 * Marks the SA dead: no longer found by cookie nor owned by its
 * connection; freed by reap() at the end of the current entry point, so
 * callers holding the pointer stay safe.
 */
void v1_sa_kill(struct ikev1 *e, struct v1_sa *sa)
{
	struct v1_conn *c = v1_conn(e, sa->conn);

	if (sa->dead)
		return;
	sa->dead = true;
	hash_unlink(e, sa);
	if (!sa->initiator && sa->st != P1_ESTABLISHED && e->st.half_open > 0)
		e->st.half_open--;
	if (sa->st == P1_ESTABLISHED && e->st.isakmp_sas > 0)
		e->st.isakmp_sas--;
	if (c != NULL) {
		if (c->neg == sa)
			c->neg = NULL;
		if (c->sa == sa) {
			/* Another established SA with the peer (both sides started) takes over. */
			c->sa = NULL;
			for (struct v1_sa *o = e->all; o != NULL; o = o->anext)
				if (!o->dead && o->conn == sa->conn && o->st == P1_ESTABLISHED &&
				    (c->sa == NULL || o->established_ms > c->sa->established_ms))
					c->sa = o;
		}
	}
	/* After the connection's SA is settled: deletes for its quick modes go under that one. */
	v1_qm_abandon(e, sa);
}

static void reap(struct ikev1 *e)
{
	struct v1_sa *sa = e->all;

	while (sa != NULL) {
		struct v1_sa *next = sa->anext;

		if (sa->dead) {
			if (sa->aprev != NULL)
				sa->aprev->anext = sa->anext;
			else
				e->all = sa->anext;
			if (sa->anext != NULL)
				sa->anext->aprev = sa->aprev;
			sa_free(sa);
		}
		sa = next;
	}
}

static struct v1_sa *sa_lookup(struct ikev1 *e, const struct v1_hdr *h,
                               const struct ike_endpoint *remote)
{
	for (struct v1_sa *sa = e->buckets[bucket_of(h->cky_i)]; sa != NULL; sa = sa->hnext) {
		if (memcmp(sa->cky_i, h->cky_i, 8) != 0)
			continue;
		if (memcmp(sa->cky_r, h->cky_r, 8) == 0)
			return sa;
		/* Our MM1/AM1 is answered: the responder's cookie is new to us. */
		if (cky_zero(sa->cky_r) && sa->initiator &&
		    (sa->st == P1_I_MM1 || sa->st == P1_I_AM1))
			return sa;
		/* A repeated first message from the initiator. */
		if (cky_zero(h->cky_r) && !sa->initiator &&
		    ike_endpoint_same_addr(&sa->remote, remote))
			return sa;
	}
	return NULL;
}

struct v1_sa *v1_sa_find(struct ikev1 *e, const uint8_t cky_i[8], const uint8_t cky_r[8])
{
	for (struct v1_sa *sa = e->buckets[bucket_of(cky_i)]; sa != NULL; sa = sa->hnext)
		if (memcmp(sa->cky_i, cky_i, 8) == 0 && memcmp(sa->cky_r, cky_r, 8) == 0)
			return sa;
	return NULL;
}

void v1_send_raw(struct ikev1 *e, const struct v1_sa *sa, const uint8_t *msg, size_t len)
{
	uint8_t *out = e->out;
	size_t off = 0;

	if (len > IKE_MSG_MAX)
		return;
	if (sa->local.port == IKE_NATT_PORT) {
		memset(out, 0, 4); /* non-ESP marker (RFC 3948 2.2) */
		off = 4;
	}
	memmove(out + off, msg, len);
	e->st.tx++;
	e->ops.send(e->ops.ctx, &sa->local, &sa->remote, out, off + len);
}

void v1_p1_send(struct ikev1 *e, struct v1_sa *sa, const uint8_t *msg, size_t len, bool rtx)
{
	uint8_t *copy = malloc(len);

	if (copy == NULL)
		return;
	memcpy(copy, msg, len);
	free(sa->tx);
	sa->tx = copy;
	sa->tx_len = len;
	sa->tx_rtx = rtx;
	sa->rtx_n = 0;
	sa->rtx_at = e->now + v1_rtx_timeout(e, 0);
	v1_send_raw(e, sa, msg, len);
}

unsigned v1_rtx_tries(const struct ikev1 *e)
{
	return e->tun.retransmit_tries;
}

void v1_log_retransmit(struct ikev1 *e, uint32_t conn, unsigned n, uint32_t msgid, unsigned seq)
{
	e->st.retransmits++;
	ike_log(&e->ops, IKE_LOG_INFO, conn,
	        "sending retransmit %u of request message ID %u, seq %u", n, msgid, seq);
}

void v1_retransmits_exhausted(struct ikev1 *e, uint32_t conn, enum ike_state state, bool set_status,
                              unsigned n, uint32_t msgid, unsigned seq)
{
	ike_log(&e->ops, IKE_LOG_WARN, conn,
	        "giving up after %u retransmits of request message ID %u, seq %u", n, msgid, seq);
	if (set_status)
		ike_status_fail(&e->status[conn], state, IKE_CAUSE_PEER_NOT_RESPONDING, e->now,
		                NULL,
		                "sending retransmit %u of request message ID %u, seq %u: no answer",
		                n, msgid, seq);
}

static uint64_t soft_at(struct ikev1 *e, uint64_t life_ms, uint64_t jitter)
{
	uint64_t soft = life_ms / 100 * CONFIG_LIFETIME_SOFT_PERCENT - jitter;
	/* Room for a few retransmits before the hard limit, however short the lifetime. */
	uint64_t margin = 4 * (uint64_t)v1_rtx_timeout(e, 0);

	if (life_ms > margin && soft > life_ms - margin)
		soft = life_ms - margin;
	return soft < life_ms / 2 ? life_ms / 2 : soft;
}

uint64_t v1_soft_ms(struct ikev1 *e, uint64_t life_ms)
{
	return soft_at(e, life_ms, ike_jitter_ms(life_ms / 20, e->tun.no_jitter));
}

uint64_t v1_late_ms(struct ikev1 *e, uint64_t life_ms)
{
	uint64_t base = soft_at(e, life_ms, 0), room = life_ms > base ? life_ms - base : 0;

	return base + room / 2 - ike_jitter_ms(room / 4, e->tun.no_jitter);
}

bool v1_id_matches(const struct ikev1 *e, uint32_t conn, const struct v1_idpl *id, char *got,
                   size_t got_len)
{
	struct ike_id want, have;

	ike_id_from_config(&want, &e->conns[conn].cfg->ike.remote_id);
	if (ike_id_parse(&have, id->type, id->data, id->len) != 0) {
		snprintf(got, got_len, "type %u (%zu bytes)", id->type, id->len);
		return false;
	}
	ike_id_str(&have, got, got_len);
	return ike_id_eq(&want, &have);
}

/* ---- connections ------------------------------------------------------------ */

void v1_conn_restart_later(struct ikev1 *e, uint32_t conn)
{
	struct v1_conn *c = v1_conn(e, conn);

	if (c != NULL && v1_conn_needs_ike(c) && c->restart_at == 0)
		c->restart_at = e->now + e->tun.restart_delay_ms;
}

void v1_conn_keep_phase1(struct ikev1 *e, uint32_t conn)
{
	struct v1_conn *c = v1_conn(e, conn);

	/* With children it is a rekey: no INITIAL-CONTACT, and the status stays "up". */
	if (c != NULL && v1_conn_needs_ike(c) && c->sa == NULL && c->neg == NULL)
		v1_initiate(e, conn, c->n_ch > 0);
}

void v1_conn_children_gone(struct ikev1 *e, uint32_t conn, bool refill)
{
	struct v1_conn *c = v1_conn(e, conn);

	if (c == NULL || c->n_ch != 0)
		return;
	if (c->sa != NULL) {
		ike_status_set(&e->status[conn], IKE_STATE_PHASE2_NEGOTIATING, e->now);
		if (refill && c->wanted)
			c->qm_retry_at = e->now + 1;
	} else if (c->neg != NULL || c->wanted) {
		/* No ISAKMP SA either: what is under way (or due) is a phase 1. */
		ike_status_set(&e->status[conn], IKE_STATE_PHASE1_NEGOTIATING, e->now);
		v1_conn_restart_later(e, conn);
	} else {
		ike_status_set(&e->status[conn], IKE_STATE_DOWN, e->now);
	}
}

int v1_initiate(struct ikev1 *e, uint32_t conn, bool rekey)
{
	struct v1_conn *c = v1_conn(e, conn);
	struct v1_sa *sa;

	if (c == NULL)
		return -1;
	if (c->neg != NULL)
		return 0; /* already under way */
	if (rekey && c->via_nat)
		sa = v1_sa_new(e, conn, true, &c->via_local, &c->via_remote);
	else
		sa = v1_sa_new(e, conn, true, &c->local, &c->peer);
	if (sa == NULL)
		return -1;
	sa->aggressive = c->cfg->ike.mode == CONFIG_IKE_AGGRESSIVE;
	sa->rekey_of_old = rekey;
	/*
	 * INITIAL-CONTACT tells the peer to drop everything it has with our
	 * address: only when no connection of ours to that peer has SAs.
	 */
	sa->initial_contact = !rekey;
	for (int i = ike_conn_by_peer(e->cfg, &c->peer, 0); i >= 0 && sa->initial_contact;
	     i = ike_conn_by_peer(e->cfg, &c->peer, (uint32_t)i + 1)) {
		const struct v1_conn *o = &e->conns[i];

		if (o->v1 &&
		    (o->sa != NULL || o->n_ch > 0 || (o->neg != NULL && (uint32_t)i != conn)))
			sa->initial_contact = false;
	}
	v1_sa_link(e, sa);
	c->neg = sa;
	c->restart_at = 0;
	/*
	 * A retry after a failure keeps the failure on show (cause, evidence,
	 * remedy) until it succeeds or fails otherwise: operators and pollers
	 * see why, not a short-lived "negotiating".
	 */
	if (!rekey && e->status[conn].cause == IKE_CAUSE_NONE)
		ike_status_set(&e->status[conn], IKE_STATE_PHASE1_NEGOTIATING, e->now);
	if (v1_p1_start(e, sa) != 0) {
		ike_status_fail(&e->status[conn], IKE_STATE_PHASE1_FAILED, IKE_CAUSE_INTERNAL,
		                e->now, NULL, "could not build the first phase 1 message");
		v1_sa_kill(e, sa);
		v1_conn_restart_later(e, conn);
		return -1;
	}
	return 0;
}

void v1_children_delete_all(struct ikev1 *e, uint32_t conn, bool notify)
{
	struct v1_conn *c = v1_conn(e, conn);

	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->n_ch; i++) {
		uint8_t spi[4];

		put_be32(spi, c->ch[i].spi_in);
		if (notify && c->sa != NULL)
			v1_info_delete(e, c->sa, V1_PROTO_ESP, spi, 4);
		e->ops.child_delete(e->ops.ctx, conn, c->ch[i].spi_in);
		if (e->st.ipsec_sas > 0)
			e->st.ipsec_sas--;
	}
	c->n_ch = 0;
}

static void conn_init(struct ikev1 *e, uint32_t i)
{
	struct v1_conn *c = &e->conns[i];
	const struct config_connection *cc = &e->cfg->connections[i];
	const struct config_customer_gateway *g = &e->cfg->customer_gateways[cc->customer_gateway];

	c->cfg = cc;
	c->v1 = cc->ike.version == CONFIG_IKEV1;
	if (!c->v1)
		return;
	ike_endpoint_from_config(&c->peer, &g->address, IKE_PORT);
	if (ike_local_endpoint(e->cfg, &c->peer, &c->local) != 0)
		c->v1 = false; /* no public port of the peer's family: nothing to run */
	c->n_loc = ike_prefixes_to_ts(cc->local_subnets, cc->n_local_subnets, c->loc, IKE_TS_MAX);
	c->n_rem = ike_prefixes_to_ts(cc->remote_subnets, cc->n_remote_subnets, c->rem, IKE_TS_MAX);
	if (c->v1)
		ike_status_set(&e->status[i], IKE_STATE_DOWN, e->now);
}

static struct ikev1_tunables v1_default_tunables(void)
{
	return (struct ikev1_tunables){ .dpd_idle_ms = 10000,
		                        .keepalive_ms = 20000,
		                        .retransmit_tries = IKE_RETRANSMIT_TRIES,
		                        .retransmit_base_ms = IKE_RETRANSMIT_BASE_MS,
		                        .restart_delay_ms = 5000 };
}

static void vid_md5(uint8_t out[V1_VID_LEN], const char *s)
{
	const struct crypto_iov in = { s, strlen(s) };

	crypto_hash_v(CRYPTO_PRF_HMAC_MD5, &in, 1, out);
}

struct ikev1 *ikev1_new(const struct config *cfg, const struct ike_ops *ops,
                        struct ike_status *status, uint64_t now_ms)
{
	/* RFC 3706: "DPD" vendor ID, version 1.0 (not the MD5 of a string). */
	static const uint8_t dpd[V1_VID_LEN] = { 0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9,
		                                 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00 };
	struct ikev1 *e;

	if (crypto_init() != 0)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->cfg = cfg;
	e->ops = *ops;
	e->status = status;
	e->now = now_ms;
	e->tun = v1_default_tunables();
	/* RFC 3947 2.1: MD5("RFC 3947"); the drafts' VIDs are the MD5 of their names. */
	vid_md5(e->vid_rfc3947, "RFC 3947");
	vid_md5(e->vid_draft02, "draft-ietf-ipsec-nat-t-ike-02\n");
	vid_md5(e->vid_draft03, "draft-ietf-ipsec-nat-t-ike-03");
	memcpy(e->vid_dpd, dpd, sizeof(dpd));
	e->n_conns = cfg->n_connections;
	if (e->n_conns > 0) {
		e->conns = calloc(e->n_conns, sizeof(*e->conns));
		if (e->conns == NULL) {
			free(e);
			return NULL;
		}
	}
	for (uint32_t i = 0; i < e->n_conns; i++)
		conn_init(e, i);
	return e;
}

void ikev1_free(struct ikev1 *e)
{
	if (e == NULL)
		return;
	for (struct v1_sa *sa = e->all; sa != NULL; sa = sa->anext)
		v1_sa_kill(e, sa);
	reap(e);
	for (uint32_t i = 0; i < e->n_conns; i++)
		free(e->conns[i].ch);
	free(e->conns);
	crypto_wipe(e->plain, sizeof(e->plain));
	crypto_wipe(e->buf, sizeof(e->buf));
	free(e);
}

/* Every numeric tunable left 0 keeps its default. */
void ikev1_tune(struct ikev1 *e, const struct ikev1_tunables *t)
{
	const struct ikev1_tunables d = v1_default_tunables();

	e->tun = *t;
	if (e->tun.dpd_idle_ms == 0)
		e->tun.dpd_idle_ms = d.dpd_idle_ms;
	if (e->tun.keepalive_ms == 0)
		e->tun.keepalive_ms = d.keepalive_ms;
	if (e->tun.retransmit_tries == 0)
		e->tun.retransmit_tries = d.retransmit_tries;
	if (e->tun.retransmit_base_ms == 0)
		e->tun.retransmit_base_ms = d.retransmit_base_ms;
	if (e->tun.restart_delay_ms == 0)
		e->tun.restart_delay_ms = d.restart_delay_ms;
}

void ikev1_start(struct ikev1 *e, uint64_t now_ms)
{
	e->now = now_ms;
	for (uint32_t i = 0; i < e->n_conns; i++) {
		struct v1_conn *c = v1_conn(e, i);

		if (c != NULL && c->cfg->effect_immediately) {
			c->wanted = true;
			v1_initiate(e, i, false);
		}
	}
	reap(e);
}

/* ---- input -------------------------------------------------------------------- */

void ikev1_input(struct ikev1 *e, const struct ike_endpoint *local,
                 const struct ike_endpoint *remote, const uint8_t *buf, size_t len, uint64_t now_ms)
{
	const uint8_t *msg;
	size_t mlen;
	struct v1_hdr h;
	struct v1_sa *sa;

	e->now = now_ms;
	e->st.rx++;
	msg = ike_payload_strip(local->port, buf, len, &mlen);
	if (msg == NULL) {
		if (local->port != IKE_NATT_PORT)
			e->st.malformed++; /* shorter than a header */
		return;                    /* on 4500: a NAT keepalive or not IKE */
	}
	if (v1_hdr_parse(msg, mlen, &h) != 0) {
		e->st.malformed++;
		return;
	}
	mlen = h.len; /* bytes after the declared length are ignored */
	sa = sa_lookup(e, &h, remote);
	if (sa == NULL) {
		if (cky_zero(h.cky_r) && h.msgid == 0 &&
		    (h.exch == V1_EXCH_MAIN || h.exch == V1_EXCH_AGGR) && !(h.flags & V1_FLAG_E)) {
			if (e->st.half_open >= V1_HALF_OPEN_MAX)
				e->st.half_open_dropped++;
			else
				v1_p1_responder(e, local, remote, &h, msg, mlen);
		} else
			e->st.unknown_cookie++;
		reap(e);
		return;
	}
	/* Remembered for handlers that follow a peer's port change after authentication. */
	e->rx_local = *local;
	e->rx_remote = *remote;
	switch (h.exch) {
	case V1_EXCH_MAIN:
	case V1_EXCH_AGGR:
		if (h.msgid != 0) {
			e->st.malformed++;
			break;
		}
		v1_p1_input(e, sa, &h, msg, mlen);
		break;
	case V1_EXCH_QUICK:
		v1_qm_input(e, sa, &h, msg, mlen);
		break;
	case V1_EXCH_INFO:
		v1_info_input(e, sa, &h, msg, mlen);
		break;
	default:
		e->st.malformed++;
		break;
	}
	reap(e);
}

/* After an authenticated message: follow the peer to 4500 or a new NAT mapping. */
void v1_sa_follow(struct ikev1 *e, struct v1_sa *sa)
{
	sa->last_rx_ms = e->now;
	if (!sa->peer_natt && !sa->peer_natt_draft)
		return;
	if (ike_endpoint_eq(&sa->remote, &e->rx_remote) &&
	    ike_endpoint_eq(&sa->local, &e->rx_local))
		return;
	if (e->rx_local.port != IKE_NATT_PORT)
		return; /* never float back to 500 */
	/* Floated already and established: not the float, a new NAT mapping. */
	bool moved = sa->st == P1_ESTABLISHED && sa->local.port == IKE_NATT_PORT;
	char was[64], now_at[64];

	ike_endpoint_str(&sa->remote, was, sizeof(was));
	sa->local = e->rx_local;
	sa->remote = e->rx_remote;
	/* A new NAT mapping of the newest SA is where its successor is sent. */
	struct v1_conn *c = v1_conn(e, sa->conn);
	if (c == NULL || c->sa != sa)
		return;
	c->via_local = sa->local;
	c->via_remote = sa->remote;
	if (!moved)
		return;
	/*
	 * Established on 4500 already: the peer's NAT mapping changed. Its
	 * IPsec SAs still send to the old one: rekeyed at once, the new pairs
	 * sending to where the peer is now (make-before-break, as any rekey).
	 */
	ike_log(&e->ops, IKE_LOG_INFO, sa->conn,
	        "peer moved from %s to %s: its IPsec SAs are rekeyed to follow", was,
	        ike_endpoint_str(&sa->remote, now_at, sizeof(now_at)));
	for (unsigned i = 0; i < c->n_ch; i++)
		if (c->ch[i].rekey_at_ms != 0 && !c->ch[i].rekeying)
			c->ch[i].rekey_at_ms = e->now;
}

/* ---- timers --------------------------------------------------------------------- */

static void p1_rtx_tick(struct ikev1 *e, struct v1_sa *sa)
{
	if (!sa->tx_rtx || sa->tx == NULL || e->now < sa->rtx_at)
		return;
	if (sa->rtx_n >= v1_rtx_tries(e)) {
		v1_retransmits_exhausted(e, sa->conn, IKE_STATE_PHASE1_FAILED,
		                         sa->st != P1_ESTABLISHED && v1_conn(e, sa->conn) != NULL &&
		                                 v1_may_fail_status(e, sa),
		                         sa->rtx_n, 0, sa->seq);
		v1_sa_kill(e, sa);
		v1_conn_restart_later(e, sa->conn);
		return;
	}
	sa->rtx_n++;
	v1_log_retransmit(e, sa->conn, sa->rtx_n, 0, sa->seq);
	v1_send_raw(e, sa, sa->tx, sa->tx_len);
	sa->rtx_at = e->now + v1_rtx_timeout(e, sa->rtx_n);
}

static void sa_lifetime_tick(struct ikev1 *e, struct v1_sa *sa)
{
	struct v1_conn *c = v1_conn(e, sa->conn);

	if (sa->st != P1_ESTABLISHED || c == NULL)
		return;
	if (sa->expire_at_ms != 0 && e->now >= sa->expire_at_ms) {
		ike_log(&e->ops, IKE_LOG_INFO, sa->conn, "ISAKMP SA expired");
		v1_info_delete(e, sa, V1_PROTO_ISAKMP, sa->cky_i, 16);
		v1_sa_kill(e, sa);
		/*
		 * Children outlive it; a new one is made for their DPD and rekeys,
		 * at once by the side that initiated this one, after the restart
		 * delay by the other, so the two do not race.
		 */
		if (sa->initiator)
			v1_conn_keep_phase1(e, sa->conn);
		else
			v1_conn_restart_later(e, sa->conn);
		return;
	}
	/*
	 * Only the newest SA of a connection is rekeyed: by its initiator at
	 * the soft limit, by its responder later (v1_late_ms) if the initiator
	 * has not. An attempt that fails is made again after the restart delay
	 * for as long as this SA lasts.
	 */
	if (c->sa == sa && c->neg == NULL && sa->rekey_at_ms != 0 && e->now >= sa->rekey_at_ms &&
	    v1_conn_needs_ike(c)) {
		sa->rekey_at_ms = e->now + e->tun.restart_delay_ms;
		ike_log(&e->ops, IKE_LOG_INFO, sa->conn, "%s",
		        sa->initiator ? "rekeying ISAKMP SA"
		                      : "rekeying ISAKMP SA as its responder: the peer has not");
		v1_initiate(e, sa->conn, true);
	}
}

void ikev1_tick(struct ikev1 *e, uint64_t now_ms)
{
	e->now = now_ms;
	for (struct v1_sa *sa = e->all; sa != NULL; sa = sa->anext) {
		if (sa->dead)
			continue;
		if (!sa->initiator && sa->st != P1_ESTABLISHED &&
		    now_ms - sa->started_ms >= V1_HALF_OPEN_MS) {
			ike_log(&e->ops, IKE_LOG_INFO, sa->conn,
			        "dropping half-open phase 1 after %u ms",
			        (unsigned)V1_HALF_OPEN_MS);
			v1_sa_kill(e, sa);
			continue;
		}
		p1_rtx_tick(e, sa);
		if (sa->dead)
			continue;
		v1_qm_tick(e, sa);
		if (sa->dead)
			continue;
		v1_dpd_tick(e, sa);
		if (sa->dead)
			continue;
		sa_lifetime_tick(e, sa);
	}
	for (uint32_t i = 0; i < e->n_conns; i++) {
		struct v1_conn *c = v1_conn(e, i);

		if (c == NULL)
			continue;
		if (c->restart_at != 0 && now_ms >= c->restart_at) {
			c->restart_at = 0;
			v1_conn_keep_phase1(e, i);
		}
		v1_child_tick(e, i);
	}
	reap(e);
}

/* ---- control ------------------------------------------------------------------------ */

void ikev1_acquire(struct ikev1 *e, uint32_t conn, uint64_t now_ms)
{
	struct v1_conn *c = v1_conn(e, conn);

	e->now = now_ms;
	if (c == NULL)
		return;
	c->wanted = true;
	if (c->sa == NULL && c->neg == NULL)
		v1_initiate(e, conn, false);
	else if (c->sa != NULL)
		v1_qm_fill(e, c->sa);
	reap(e);
}

void ikev1_child_expired(struct ikev1 *e, uint32_t conn, uint32_t spi_in, bool hard,
                         uint64_t now_ms)
{
	struct v1_conn *c = v1_conn(e, conn);

	e->now = now_ms;
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->n_ch; i++) {
		if (c->ch[i].spi_in != spi_in)
			continue;
		if (hard) {
			c->ch[i].expire_at_ms = now_ms; /* removed by the child tick */
		} else if (c->ch[i].rekey_at_ms != 0) {
			c->ch[i].rekey_at_ms = now_ms; /* 0: superseded, never rekeyed */
		}
		break;
	}
	v1_child_tick(e, conn);
	reap(e);
}

int ikev1_up(struct ikev1 *e, uint32_t conn, uint64_t now_ms)
{
	struct v1_conn *c = v1_conn(e, conn);
	int rc = 0;

	e->now = now_ms;
	if (c == NULL)
		return -1;
	c->wanted = true;
	if (c->sa == NULL && c->neg == NULL)
		rc = v1_initiate(e, conn, false);
	else if (c->sa != NULL)
		v1_qm_fill(e, c->sa);
	reap(e);
	return rc;
}

int ikev1_down(struct ikev1 *e, uint32_t conn, uint64_t now_ms)
{
	struct v1_conn *c = v1_conn(e, conn);

	e->now = now_ms;
	if (c == NULL)
		return -1;
	c->wanted = false;
	c->restart_at = 0;
	v1_children_delete_all(e, conn, true);
	for (struct v1_sa *sa = e->all; sa != NULL; sa = sa->anext) {
		if (sa->dead || sa->conn != conn)
			continue;
		if (sa->st == P1_ESTABLISHED)
			v1_info_delete(e, sa, V1_PROTO_ISAKMP, sa->cky_i, 16);
		v1_sa_kill(e, sa);
	}
	ike_status_set(&e->status[conn], IKE_STATE_DOWN, now_ms);
	reap(e);
	return 0;
}

unsigned ikev1_children(const struct ikev1 *e, uint32_t conn, struct ike_child_info *out,
                        unsigned cap)
{
	const struct v1_conn *c = conn < e->n_conns && e->conns[conn].v1 ? &e->conns[conn] : NULL;
	unsigned n = 0;

	if (c == NULL)
		return 0;
	for (unsigned i = 0; i < c->n_ch && n < cap; i++, n++) {
		const struct v1_child *ch = &c->ch[i];
		struct ike_child_info *o = &out[n];

		memset(o, 0, sizeof(*o));
		o->spi_in = ch->spi_in;
		o->spi_out = ch->spi_out;
		o->encr = ch->encr;
		o->integ = ch->integ;
		o->ts_local[0] = ch->tsl;
		o->n_ts_local = 1;
		o->ts_remote[0] = ch->tsr;
		o->n_ts_remote = 1;
		o->installed_ms = ch->installed_ms;
		o->rekey_at_ms = ch->rekey_at_ms;
		o->udp_encap = ch->udp_encap;
	}
	return n;
}

bool ikev1_peer(const struct ikev1 *e, uint32_t conn, struct ike_endpoint *out)
{
	const struct v1_conn *c = conn < e->n_conns && e->conns[conn].v1 ? &e->conns[conn] : NULL;

	if (c == NULL)
		return false;
	if (c->sa != NULL)
		*out = c->sa->remote;
	else
		*out = c->peer;
	return true;
}

const struct ikev1_stats *ikev1_stats(const struct ikev1 *e)
{
	return &e->st;
}
