/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKE_SA_INIT (RFC 7296 1.2, 2.6, 2.7, 2.23), initiator and responder:
 * proposals and KE, cookies, INVALID_KE_PAYLOAD, NO_PROPOSAL_CHOSEN, NAT
 * detection and the move to port 4500, and the SK_* keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_mem.h"
#include "crypto_rand.h"
#include "cursor.h"
#include "ikev2_int.h"

enum {
	NATD_LEN = 20,
	COOKIE_LEN = 1 + 32, /* secret version, HMAC-SHA256 */
	COOKIE_TRIES = 3,    /* COOKIEs an initiator takes for one IKE_SA_INIT */
};

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	if (d && n)
		memcpy(d, p, n);
	return d;
}

static void natd(const uint8_t *spi_i, const uint8_t *spi_r, const struct ike_endpoint *ep,
                 uint8_t out[NATD_LEN])
{
	uint8_t spis[16];

	memcpy(spis, spi_i, 8);
	memcpy(spis + 8, spi_r, 8);
	ike_natd_hash(CRYPTO_PRF_HMAC_SHA1, spis, ep, out);
}

static void wr_natd(struct ikev2_wr *w, const uint8_t *spi_i, const uint8_t *spi_r,
                    const struct ike_endpoint *local, const struct ike_endpoint *remote, bool fake)
{
	uint8_t h[NATD_LEN];

	if (fake)
		crypto_random(h, sizeof(h)); /* a source no one can match: "behind a NAT" */
	else
		natd(spi_i, spi_r, local, h);
	ikev2_wr_notify(w, 0, NULL, 0, IKEV2_N_NAT_DETECTION_SOURCE_IP, h, sizeof(h));
	natd(spi_i, spi_r, remote, h);
	ikev2_wr_notify(w, 0, NULL, 0, IKEV2_N_NAT_DETECTION_DESTINATION_IP, h, sizeof(h));
}

/*
 * The peer's NAT detection notifies against the addresses the message
 * really travelled between: a source hash that matches nothing means the
 * peer is behind a NAT, or fakes it to get ESP in UDP (strongSwan with
 * kernel-libipsec); a destination hash that is not ours means we are.
 */
static void natd_check(struct ikev2_sa *sa, const struct ikev2_msg *m, const uint8_t *spi_r)
{
	uint8_t h[NATD_LEN];
	bool any_src = false, src_ok = false, dst_seen = false, dst_ok = false;

	for (unsigned i = 0; i < m->n_notify; i++) {
		const struct ikev2_notify *n = &m->notify[i];

		if (n->type == IKEV2_N_NAT_DETECTION_SOURCE_IP && n->data_len == NATD_LEN) {
			any_src = true;
			natd(m->spi_i, spi_r, &sa->remote, h);
			src_ok |= crypto_ct_equal(h, n->data, NATD_LEN);
		} else if (n->type == IKEV2_N_NAT_DETECTION_DESTINATION_IP &&
		           n->data_len == NATD_LEN) {
			dst_seen = true;
			natd(m->spi_i, spi_r, &sa->local, h);
			dst_ok |= crypto_ct_equal(h, n->data, NATD_LEN);
		}
	}
	if (any_src && !src_ok)
		sa->nat_peer = true;
	if (dst_seen && !dst_ok)
		sa->nat_us = true;
}

/* ---- initiator: IKE_SA_INIT ---- */

void ikev2_init_send(struct ikev2 *e, struct ikev2_sa *sa)
{
	const struct config_connection *cc = ikev2_cc(e, sa->conn);
	static const uint8_t zero[8];
	struct ikev2_prop_out props[2];
	uint8_t buf[IKE_MSG_MAX], pub[CRYPTO_DH_MAX_PUBLIC];
	enum crypto_alg_id group = sa->dh_want ? sa->dh_want : cc->ike.dh.ids[0];
	struct ikev2_wr w;
	unsigned n;
	int plen;

	/*
	 * Again after a COOKIE: the same KE, as every payload but the cookie
	 * stays (2.6); after INVALID_KE_PAYLOAD, a new one of the group asked for.
	 */
	if (sa->dh == NULL || crypto_dh_group(sa->dh) != group) {
		crypto_dh_free(sa->dh);
		sa->dh = crypto_dh_new(group);
	}
	if (sa->dh == NULL || (plen = crypto_dh_public(sa->dh, pub, sizeof(pub))) < 0) {
		ike_status_fail(ikev2_status(e, sa->conn), IKE_STATE_PHASE1_FAILED,
		                IKE_CAUSE_INTERNAL, e->now_ms, NULL, "DH key generation failed");
		return;
	}
	sa->nat_fake = e->t.fake_nat && cc->nat_traversal;
	if (sa->ni_len == 0) {
		sa->ni_len = IKEV2_NONCE_LEN;
		crypto_random(sa->ni, sa->ni_len);
	}
	ikev2_wr_init(&w, buf, sizeof(buf));
	ikev2_wr_header(&w, sa->spi_i, zero, IKEV2_EXCH_IKE_SA_INIT, IKEV2_FLAG_INITIATOR, 0);
	if (sa->cookie_len)
		ikev2_wr_notify(&w, 0, NULL, 0, IKEV2_N_COOKIE, sa->cookie, sa->cookie_len);
	n = ikev2_ike_props(cc, props, NULL, 0);
	ikev2_wr_sa(&w, props, n);
	ikev2_wr_ke(&w, crypto_alg(group)->ikev2_id, pub, (size_t)plen);
	ikev2_wr_simple(&w, IKEV2_PL_NONCE, sa->ni, sa->ni_len);
	if (cc->nat_traversal)
		wr_natd(&w, sa->spi_i, zero, &sa->local, &sa->remote, sa->nat_fake);
	ikev2_wr_finish(&w);
	if (w.failed)
		return;
	free(sa->msg_i);
	sa->msg_i = dup_bytes(buf, w.len);
	sa->msg_i_len = sa->msg_i ? w.len : 0;
	sa->state = IKEV2_SA_INIT_SENT;
	/* What the request this one replaces has sent: as many answers may still come. */
	if (sa->req_pending && sa->req_kind == IKEV2_REQ_INIT)
		sa->init_tx_before += sa->req_tries + 1;
	ikev2_send_request(e, sa, IKEV2_REQ_INIT, buf, w.len);
}

/* An answer that belongs to an earlier IKE_SA_INIT of ours: counted, and the current one waits. */
static void init_stale(struct ikev2 *e, struct ikev2_sa *sa, const char *what)
{
	e->st.stale_init++;
	ike_log(&e->ops, IKE_LOG_DEBUG, sa->conn,
	        "IKE_SA_INIT: %s answers an earlier request of ours: ignored", what);
}

/* A COOKIE answer: IKE_SA_INIT again with it. */
static void init_take_cookie(struct ikev2 *e, struct ikev2_sa *sa, const struct ikev2_notify *n)
{
	/*
	 * A new cookie replaces the one we sent (the responder changed its
	 * secret meanwhile, 2.6); too many is a responder we do not follow
	 * round in circles.
	 */
	if (sa->cookie_len && sa->cookie_len == n->data_len &&
	    memcmp(sa->cookie, n->data, n->data_len) == 0) {
		/*
		 * The cookie we send already: the answer to a copy of the request
		 * before it (a retransmit, or the network's duplicate). A responder
		 * that refuses our cookie sends a new one.
		 */
		init_stale(e, sa, "a COOKIE we already return");
		return;
	}
	if (n->data_len < 1 || n->data_len > IKEV2_COOKIE_MAX || sa->cookie_tries >= COOKIE_TRIES) {
		e->st.malformed++;
		return;
	}
	memcpy(sa->cookie, n->data, n->data_len);
	sa->cookie_len = n->data_len;
	sa->cookie_tries++;
	ikev2_init_send(e, sa);
}

/* The groups of ike.dh marked in tried: at most one bit set is no retry yet. */
static bool init_retried(uint32_t tried)
{
	return (tried & (tried - 1)) != 0;
}

/* asked is an entry of ike.dh that tried marks as sent. */
static bool init_group_sent(const struct config_connection *cc, uint32_t tried,
                            const struct crypto_alg *asked)
{
	for (unsigned i = 0; asked && i < cc->ike.dh.n && i < 32; i++)
		if (cc->ike.dh.ids[i] == asked->id)
			return (tried & 1u << i) != 0;
	return false;
}

/* INVALID_KE_PAYLOAD: again with the group asked for, or dh_group_mismatch. */
static void init_invalid_ke(struct ikev2 *e, struct ikev2_sa *sa, const struct ikev2_notify *n)
{
	const struct config_connection *cc = ikev2_cc(e, sa->conn);
	const struct crypto_alg *asked;
	const struct crypto_alg *g =
	        ikev2_ke_retry(&cc->ike.dh, &sa->ke_tried, crypto_dh_group(sa->dh), n, &asked);
	char ev[IKE_EVIDENCE_MAX], tmp[128];

	if (g) {
		ike_log(&e->ops, IKE_LOG_INFO, sa->conn,
		        "peer wants DH %s (INVALID_KE_PAYLOAD): retrying", g->name);
		sa->dh_want = g->id;
		ikev2_init_send(e, sa);
		return;
	}
	/*
	 * Every IKE_SA_INIT has message ID 0, so the answer to an earlier one
	 * (our first request retransmitted, or its answer duplicated) arrives
	 * as if it answered the retry. Once we have retried, a request for a
	 * group we sent is such an answer: the group it names is one we moved
	 * to, so it cannot be about the request now out (1.2, 2.1). The
	 * unauthenticated answer must not end the attempt (2.21.1); a peer
	 * that really keeps asking for the group we send ends it at the last
	 * retransmit (ikev2_init_give_up).
	 */
	if (init_retried(sa->ke_tried) && init_group_sent(cc, sa->ke_tried, asked)) {
		sa->init_stale_ke++;
		sa->init_stale_group = asked->id;
		init_stale(e, sa, "INVALID_KE_PAYLOAD for a group we sent");
		return;
	}
	snprintf(ev, sizeof(ev), "INVALID_KE_PAYLOAD: the peer wants DH group %s, we allow %s%s",
	         asked ? asked->name : "unknown", ikev2_algs_str(&cc->ike.dh, tmp, sizeof(tmp)),
	         asked && ike_algs_has(&cc->ike.dh, asked->id) ? " (already tried)" : "");
	ikev2_sa_fail(e, sa, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_DH_GROUP_MISMATCH, ev);
}

bool ikev2_init_give_up(struct ikev2 *e, struct ikev2_sa *sa)
{
	const struct config_connection *cc = ikev2_cc(e, sa->conn);
	char ev[IKE_EVIDENCE_MAX], tmp[128];

	/* More than our earlier requests can have been answered with: the peer means it. */
	if (sa->init_stale_ke <= sa->init_tx_before)
		return false;
	snprintf(ev, sizeof(ev),
	         "INVALID_KE_PAYLOAD: the peer keeps asking for DH group %s, the group we send "
	         "(%u answers, no other); we allow %s",
	         crypto_alg(sa->init_stale_group)->name, sa->init_stale_ke,
	         ikev2_algs_str(&cc->ike.dh, tmp, sizeof(tmp)));
	ikev2_sa_fail(e, sa, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_DH_GROUP_MISMATCH, ev);
	return true;
}

/*
 * Any other error notify ends the attempt, with the cause it points at.
 * Unlike INVALID_KE_PAYLOAD and COOKIE these are answers about what every
 * request of ours carries unchanged (the SA payload, the version), so one
 * to an earlier request is true of the current one too: not stale.
 */
static void init_refused(struct ikev2 *e, struct ikev2_sa *sa, const struct ikev2_notify *n)
{
	const struct config_connection *cc = ikev2_cc(e, sa->conn);
	char ev[IKE_EVIDENCE_MAX];
	enum ike_cause cause;

	if (n->type == IKEV2_N_NO_PROPOSAL_CHOSEN) {
		char e1[64], e2[64], e3[64], e4[64];

		/* Integrity "none" with AEAD ciphers only: they need none. */
		snprintf(ev, sizeof(ev),
		         "the peer answered IKE_SA_INIT with NO_PROPOSAL_CHOSEN; we offer "
		         "encryption %s, integrity %s, prf %s, dh %s",
		         ikev2_algs_str(&cc->ike.encryption, e1, sizeof(e1)),
		         ikev2_algs_str(&cc->ike.integrity, e2, sizeof(e2)),
		         ikev2_algs_str(&cc->ike.prf, e3, sizeof(e3)),
		         ikev2_algs_str(&cc->ike.dh, e4, sizeof(e4)));
		cause = IKE_CAUSE_PROPOSAL_MISMATCH;
	} else if (n->type == IKEV2_N_INVALID_MAJOR_VERSION) {
		snprintf(ev, sizeof(ev), "the peer answered INVALID_MAJOR_VERSION");
		cause = IKE_CAUSE_IKE_VERSION_MISMATCH;
	} else {
		snprintf(ev, sizeof(ev), "the peer answered IKE_SA_INIT with %s (%u)",
		         ikev2_notify_name(n->type), n->type);
		cause = IKE_CAUSE_PEER_REJECTED;
	}
	ikev2_sa_fail(e, sa, IKE_STATE_PHASE1_FAILED, cause, ev);
}

/* The responder's choice, nonce and KE: the SK_* keys; 0, or -1 with sa failed. */
static int init_keys(struct ikev2 *e, struct ikev2_sa *sa, const struct ikev2_msg *m,
                     const struct ikev2_sa_payload *sap)
{
	const struct config_connection *cc = ikev2_cc(e, sa->conn);
	uint8_t gir[CRYPTO_DH_MAX_SECRET];
	char ev[IKE_EVIDENCE_MAX];
	enum ike_cause cause;
	struct ike_choice ch;
	int glen, rc = -1;

	if (ikev2_ike_select(cc, sap, m->ke_group, &ch, NULL, &cause, ev, sizeof(ev)) != 0 ||
	    !ch.has_dh || ch.dh != crypto_dh_group(sa->dh) ||
	    m->ke_group != crypto_alg(ch.dh)->ikev2_id) {
		ikev2_sa_fail(e, sa, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_PROPOSAL_MISMATCH,
		              "the peer chose an IKE proposal or KE we did not offer");
		return -1;
	}
	sa->ch = ch;
	memcpy(sa->spi_r, m->spi_r, 8);
	memcpy(sa->nr, m->nonce.p, m->nonce.len);
	sa->nr_len = m->nonce.len;
	glen = crypto_dh_shared(sa->dh, m->ke.p, m->ke.len, gir, sizeof(gir));
	if (glen < 0)
		ikev2_sa_fail(e, sa, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_PEER_REJECTED,
		              "the peer's KE payload is not a valid public value");
	else if (ikev2_keys_derive(sa, gir, (size_t)glen, NULL) != 0)
		ikev2_sa_fail(e, sa, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_INTERNAL,
		              "key derivation failed");
	else
		rc = 0;
	crypto_wipe(gir, sizeof(gir));
	return rc;
}

void ikev2_init_response(struct ikev2 *e, struct ikev2_sa *sa, const struct ikev2_msg *m)
{
	const struct config_connection *cc = ikev2_cc(e, sa->conn);
	const struct ikev2_notify *n;
	struct ikev2_sa_payload *sap;

	if ((n = ikev2_msg_notify(m, IKEV2_N_COOKIE)) != NULL) {
		init_take_cookie(e, sa, n);
		return;
	}
	if ((n = ikev2_msg_notify(m, IKEV2_N_INVALID_KE_PAYLOAD)) != NULL) {
		init_invalid_ke(e, sa, n);
		return;
	}
	if ((n = ikev2_msg_error(m)) != NULL) {
		init_refused(e, sa, n);
		return;
	}
	if (!m->has_sa || !m->has_ke || !m->has_nonce ||
	    memcmp(m->spi_r, "\0\0\0\0\0\0\0\0", 8) == 0) {
		e->st.malformed++;
		return;
	}
	sap = malloc(sizeof(*sap));
	if (sap == NULL)
		return;
	if (ikev2_sa_parse(sap, m->sa.p, m->sa.len) != 0 || sap->n != 1) {
		e->st.malformed++;
		free(sap);
		return;
	}
	if (init_keys(e, sa, m, sap) != 0) {
		free(sap);
		return; /* sa is gone */
	}
	free(sap);
	crypto_dh_free(sa->dh);
	sa->dh = NULL;
	free(sa->msg_r);
	sa->msg_r = dup_bytes(m->raw, m->raw_len);
	sa->msg_r_len = sa->msg_r ? m->raw_len : 0;
	if (cc->nat_traversal) {
		natd_check(sa, m, m->spi_r);
		if (sa->nat_us || sa->nat_peer || sa->nat_fake) {
			/* Float to 4500 (2.23) for IKE_AUTH on. */
			sa->natt = true;
			sa->local.port = IKE_NATT_PORT;
			sa->remote.port = IKE_NATT_PORT;
			sa->keepalive_at_ms = e->now_ms + e->t.keepalive_ms;
		}
	}
	ikev2_request_done(sa);
	ikev2_auth_send(e, sa);
}

/* ---- responder: IKE_SA_INIT ---- */

void ikev2_cookie_secret_age(struct ikev2 *e)
{
	uint64_t age = e->now_ms - e->cookie_born_ms;

	if (age < e->t.cookie_rotate_ms)
		return;
	/* The current one becomes the previous, unless it is past that age too. */
	e->cookie_prev_ok = age < 2 * (uint64_t)e->t.cookie_rotate_ms;
	e->cookie_ver++;
	crypto_random(e->cookie_secret[e->cookie_ver & 1], sizeof(e->cookie_secret[0]));
	e->cookie_born_ms = e->now_ms;
}

/* Cookie = <version of the secret> | HMAC-SHA256(secret, Ni | IPi | SPIi) (2.6). */
static void cookie_make(const struct ikev2 *e, uint8_t ver, const struct ikev2_msg *m,
                        const struct ike_endpoint *remote, uint8_t out[COOKIE_LEN])
{
	struct crypto_iov iov[3] = { { m->nonce.p, m->nonce.len },
		                     { remote->addr, remote->family == 4 ? 4u : 16u },
		                     { m->spi_i, 8 } };

	out[0] = ver;
	crypto_prf_v(CRYPTO_PRF_HMAC_SHA256, e->cookie_secret[ver & 1], sizeof(e->cookie_secret[0]),
	             iov, 3, out + 1);
}

/* The COOKIE of m was made by us under the current or the previous secret, for this initiator. */
static bool cookie_ok(const struct ikev2 *e, const struct ikev2_msg *m,
                      const struct ike_endpoint *remote)
{
	const struct ikev2_notify *n = ikev2_msg_notify(m, IKEV2_N_COOKIE);
	uint8_t ck[COOKIE_LEN];
	bool ok;

	if (n == NULL || n->data_len != COOKIE_LEN)
		return false;
	if (n->data[0] != e->cookie_ver &&
	    !(e->cookie_prev_ok && n->data[0] == (uint8_t)(e->cookie_ver - 1)))
		return false;
	cookie_make(e, n->data[0], m, remote, ck);
	ok = crypto_ct_equal(n->data, ck, sizeof(ck));
	crypto_wipe(ck, sizeof(ck));
	return ok;
}

static void send_init_notify(struct ikev2 *e, const struct ike_endpoint *local,
                             const struct ike_endpoint *remote, const struct ikev2_msg *m,
                             uint16_t type, const uint8_t *data, size_t len)
{
	static const uint8_t zero[8];
	uint8_t buf[256];
	struct ikev2_wr w;

	ikev2_wr_init(&w, buf, sizeof(buf));
	ikev2_wr_header(&w, m->spi_i, zero, IKEV2_EXCH_IKE_SA_INIT, IKEV2_FLAG_RESPONSE, 0);
	ikev2_wr_notify(&w, 0, NULL, 0, type, data, len);
	ikev2_wr_finish(&w);
	if (!w.failed)
		ikev2_send_raw(e, local, remote, local->port != IKE_PORT, buf, w.len);
}

/* The IKEv2 connection of a peer address; -1 if none, -2 if only ones that are down. */
static int conn_for_peer(struct ikev2 *e, const struct ike_endpoint *remote)
{
	int down = -1;

	for (int c = ike_conn_by_peer(e->cfg, remote, 0); c >= 0;
	     c = ike_conn_by_peer(e->cfg, remote, (uint32_t)c + 1)) {
		if (e->cfg->connections[c].ike.version != CONFIG_IKEV2)
			continue;
		if (!e->conns[c].admin_down)
			return c;
		down = -2;
	}
	return down;
}

/*
 * IKE from an address no customer gateway has: the IKE SA is set up with
 * the first connection whose proposals fit, only to read the peer's ID in
 * IKE_AUTH and tell the connection it belongs to (unknown_peer); it is
 * never authenticated.
 */
static int conn_accepting(struct ikev2 *e, const struct ikev2_sa_payload *sap, uint16_t ke)
{
	for (uint32_t c = 0; c < e->cfg->n_connections; c++) {
		const struct config_connection *cc = ikev2_cc(e, c);
		struct ike_choice ch;
		enum ike_cause cause;
		char ev[8];

		if (cc->ike.version == CONFIG_IKEV2 && !e->conns[c].admin_down &&
		    ikev2_ike_select(cc, sap, ke, &ch, NULL, &cause, ev, sizeof(ev)) == 0)
			return (int)c;
	}
	return -1;
}

/*
 * Whether an IKE_SA_INIT request gets any further: a retransmission is
 * answered from the cache, a connection that is down stays silent, the
 * half-open table has a bound, and under load only an initiator that
 * returns our cookie gets state (2.6). Its connection (-1 for an unknown
 * address, *unknown set), or -2: done with it.
 */
static int init_admit(struct ikev2 *e, const struct ike_endpoint *local,
                      const struct ike_endpoint *remote, const struct ikev2_msg *m, bool *unknown)
{
	struct ikev2_sa *sa = ikev2_sa_by_peer(e, m->spi_i, remote);
	char a[64];
	int c;

	if (sa != NULL) {
		/* A retransmitted IKE_SA_INIT: the same answer (2.1). */
		if (sa->have_resp && sa->msg_i_len == m->raw_len &&
		    memcmp(sa->msg_i, m->raw, m->raw_len) == 0) {
			e->st.resp_resent++;
			ikev2_send_raw(e, &sa->local, &sa->remote, sa->natt, sa->resp_buf,
			               sa->resp_len);
		}
		return -2;
	}
	c = conn_for_peer(e, remote);
	if (c == -2)
		return -2; /* its connection is down (vpnctl down): not answered */
	*unknown = c < 0;
	if (*unknown) {
		e->st.unknown_peer++;
		ikev2_log_limited(e, ikev2_rl_source(e, remote), IKE_LOG_WARN, UINT32_MAX,
		                  "IKE_SA_INIT from %s: no IKEv2 customer gateway has this address "
		                  "(unknown_peer)",
		                  ike_endpoint_str(remote, a, sizeof(a)));
	}
	if (!m->has_sa || !m->has_ke || !m->has_nonce) {
		e->st.malformed++;
		return -2;
	}
	if (e->st.half_open >= e->t.half_open_max) {
		e->st.half_open_refused++;
		return -2;
	}
	if (e->st.half_open >= e->t.half_open_cookie) {
		/* Under load: only initiators that prove their address get state (2.6). */
		ikev2_cookie_secret_age(e);
		if (!cookie_ok(e, m, remote)) {
			uint8_t ck[COOKIE_LEN];

			cookie_make(e, e->cookie_ver, m, remote, ck);
			e->st.cookies_sent++;
			send_init_notify(e, local, remote, m, IKEV2_N_COOKIE, ck, sizeof(ck));
			return -2;
		}
	}
	return c;
}

/*
 * The proposal of connection c for the request, or false with it refused:
 * NO_PROPOSAL_CHOSEN, or INVALID_KE_PAYLOAD naming the group we want.
 */
static bool init_choose(struct ikev2 *e, const struct ike_endpoint *local,
                        const struct ike_endpoint *remote, const struct ikev2_msg *m,
                        const struct ikev2_sa_payload *sap, uint32_t c, struct ike_choice *ch,
                        unsigned *pi)
{
	const struct config_connection *cc = ikev2_cc(e, c);
	char ev[IKE_EVIDENCE_MAX], a[64];
	enum ike_cause cause;
	uint8_t g[2];

	if (ikev2_ike_select(cc, sap, m->ke_group, ch, pi, &cause, ev, sizeof(ev)) != 0) {
		/*
		 * Unauthenticated, and the source address is easily forged: it
		 * must not turn a tunnel that is up into "phase1 failed".
		 */
		if (!ikev2_conn_up(e, c))
			ike_status_fail(ikev2_status(e, c), IKE_STATE_PHASE1_FAILED, cause,
			                e->now_ms, NULL, "%s", ev);
		e->st.init_refused++;
		ikev2_log_limited(e, &e->conns[c].rl[IKEV2_RL_INIT_REFUSED], IKE_LOG_WARN, c,
		                  "IKE_SA_INIT from %s: %s", ike_endpoint_str(remote, a, sizeof(a)),
		                  ev);
		send_init_notify(e, local, remote, m, IKEV2_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return false;
	}
	if (m->ke_group == crypto_alg(ch->dh)->ikev2_id)
		return true;
	put_be16(g, crypto_alg(ch->dh)->ikev2_id);
	e->st.invalid_ke_sent++;
	ikev2_log_limited(e, &e->conns[c].rl[IKEV2_RL_INVALID_KE], IKE_LOG_INFO, c,
	                  "IKE_SA_INIT with KE group %u: asking for %s (INVALID_KE_PAYLOAD)",
	                  m->ke_group, crypto_alg(ch->dh)->name);
	send_init_notify(e, local, remote, m, IKEV2_N_INVALID_KE_PAYLOAD, g, 2);
	return false;
}

/* The responder's SA for the request: our nonce, DH, SK_* keys, NAT detection; NULL on failure. */
static struct ikev2_sa *responder_sa(struct ikev2 *e, const struct ike_endpoint *local,
                                     const struct ike_endpoint *remote, const struct ikev2_msg *m,
                                     uint32_t c, const struct ike_choice *ch, uint8_t *pub,
                                     size_t pub_cap, int *plen)
{
	const struct config_connection *cc = ikev2_cc(e, c);
	struct ikev2_sa *sa = ikev2_sa_new(e, c, false, e->now_ms);
	uint8_t gir[CRYPTO_DH_MAX_SECRET];
	int glen;

	if (sa == NULL)
		return NULL;
	sa->ch = *ch;
	sa->local = *local;
	sa->remote = *remote;
	sa->natt = local->port != IKE_PORT;
	memcpy(sa->spi_i, m->spi_i, 8);
	memcpy(sa->ni, m->nonce.p, m->nonce.len);
	sa->ni_len = m->nonce.len;
	sa->nr_len = IKEV2_NONCE_LEN;
	crypto_random(sa->nr, sa->nr_len);
	sa->dh = crypto_dh_new(ch->dh);
	if (sa->dh == NULL || (*plen = crypto_dh_public(sa->dh, pub, pub_cap)) < 0) {
		ikev2_sa_destroy(e, sa, false);
		return NULL;
	}
	glen = crypto_dh_shared(sa->dh, m->ke.p, m->ke.len, gir, sizeof(gir));
	if (glen < 0 || ikev2_keys_derive(sa, gir, (size_t)glen, NULL) != 0) {
		crypto_wipe(gir, sizeof(gir));
		e->st.malformed++;
		ikev2_sa_destroy(e, sa, false);
		return NULL;
	}
	crypto_wipe(gir, sizeof(gir));
	crypto_dh_free(sa->dh);
	sa->dh = NULL;
	if (cc->nat_traversal) {
		static const uint8_t zero[8];

		natd_check(sa, m, zero);
		sa->nat_fake = e->t.fake_nat;
	}
	return sa;
}

/* Our IKE_SA_INIT response: the chosen proposal (number num), KE, nonce, NAT detection. */
static size_t write_init_response(struct ikev2 *e, struct ikev2_sa *sa, const struct ikev2_msg *m,
                                  uint8_t num, const uint8_t *pub, size_t plen, uint8_t *buf,
                                  size_t cap)
{
	const struct config_connection *cc = ikev2_cc(e, sa->conn);
	const struct ike_choice *ch = &sa->ch;
	struct ikev2_prop_out chosen;
	struct ikev2_wr w;

	memset(&chosen, 0, sizeof(chosen));
	chosen.proto = IKEV2_PROTO_IKE;
	chosen.num = num;
	chosen.encr[chosen.n_encr++] = ch->encr;
	chosen.prf[chosen.n_prf++] = ch->prf;
	if (ch->has_integ)
		chosen.integ[chosen.n_integ++] = ch->integ;
	chosen.dh[chosen.n_dh++] = ch->dh;
	ikev2_wr_init(&w, buf, cap);
	ikev2_wr_header(&w, sa->spi_i, sa->spi_r, IKEV2_EXCH_IKE_SA_INIT, IKEV2_FLAG_RESPONSE, 0);
	ikev2_wr_sa(&w, &chosen, 1);
	ikev2_wr_ke(&w, crypto_alg(ch->dh)->ikev2_id, pub, plen);
	ikev2_wr_simple(&w, IKEV2_PL_NONCE, sa->nr, sa->nr_len);
	if (cc->nat_traversal && (ikev2_msg_notify(m, IKEV2_N_NAT_DETECTION_SOURCE_IP) ||
	                          ikev2_msg_notify(m, IKEV2_N_NAT_DETECTION_DESTINATION_IP)))
		wr_natd(&w, sa->spi_i, sa->spi_r, &sa->local, &sa->remote, sa->nat_fake);
	ikev2_wr_finish(&w);
	return w.failed ? 0 : w.len;
}

void ikev2_init_request(struct ikev2 *e, const struct ike_endpoint *local,
                        const struct ike_endpoint *remote, const struct ikev2_msg *m)
{
	struct ikev2_sa_payload *sap = NULL;
	uint8_t buf[IKE_MSG_MAX], pub[CRYPTO_DH_MAX_PUBLIC];
	struct ikev2_sa *sa;
	struct ike_choice ch;
	bool unknown = false;
	unsigned pi;
	size_t len;
	int c, plen = 0;

	c = init_admit(e, local, remote, m, &unknown);
	if (c == -2)
		return;
	sap = malloc(sizeof(*sap));
	if (sap == NULL)
		return;
	if (ikev2_sa_parse(sap, m->sa.p, m->sa.len) != 0) {
		e->st.malformed++;
		goto out;
	}
	if (unknown && (c = conn_accepting(e, sap, m->ke_group)) < 0)
		goto out; /* no connection would talk to it: nothing to learn */
	if (!init_choose(e, local, remote, m, sap, (uint32_t)c, &ch, &pi))
		goto out;
	sa = responder_sa(e, local, remote, m, (uint32_t)c, &ch, pub, sizeof(pub), &plen);
	if (sa == NULL)
		goto out;
	len = write_init_response(e, sa, m, sap->p[pi].num, pub, (size_t)plen, buf, sizeof(buf));
	if (len == 0) {
		ikev2_sa_destroy(e, sa, false);
		goto out;
	}
	sa->msg_i = dup_bytes(m->raw, m->raw_len);
	sa->msg_i_len = sa->msg_i ? m->raw_len : 0;
	sa->msg_r = dup_bytes(buf, len);
	sa->msg_r_len = sa->msg_r ? len : 0;
	sa->state = IKEV2_SA_HALF_OPEN;
	sa->unknown_peer = unknown;
	sa->counted_half_open = true;
	e->st.half_open++;
	ikev2_sa_index_peer(e, sa);
	if (!unknown && (e->conns[c].sa == NULL || e->conns[c].sa->state != IKEV2_SA_ESTABLISHED))
		ike_status_set(ikev2_status(e, (uint32_t)c), IKE_STATE_PHASE1_NEGOTIATING,
		               e->now_ms);
	ikev2_send_response(e, sa, buf, len);
out:
	free(sap);
}
