/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv2 engine core: message dispatch (header checks, message ids,
 * cached responses, SK decryption, critical payloads, peers that move),
 * timers (retransmits, rekeys, liveness, keepalives, restarts), and the
 * public entry points. SA records and sending are in ikev2_sa.c; the
 * exchanges in ikev2_init.c, ikev2_auth.c, ikev2_child.c, ikev2_info.c.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto_mem.h"
#include "crypto_rand.h"
#include "cursor.h"
#include "ikev2_int.h"

enum {
	HALF_OPEN_TIMEOUT_MS = 30000,
	DEFAULT_LIVENESS_MS = 10000,
	DEFAULT_KEEPALIVE_MS = 20000,
	DEFAULT_HALF_OPEN_COOKIE = 32,
	DEFAULT_HALF_OPEN_MAX = 1024,
	DEFAULT_COOKIE_ROTATE_MS = 60000,
	DEFAULT_RESTART_MS = 5000,
};

/* ---- connection level ---- */

void ikev2_initiate(struct ikev2 *e, uint32_t conn, uint64_t now_ms)
{
	const struct config_connection *cc = ikev2_cc(e, conn);
	const struct config_customer_gateway *cg = &e->cfg->customer_gateways[cc->customer_gateway];
	struct ikev2_sa *sa;

	e->conns[conn].restart = false;
	if (e->conns[conn].sa != NULL)
		return;
	sa = ikev2_sa_new(e, conn, true, now_ms);
	if (sa == NULL)
		return;
	ike_endpoint_from_config(&sa->remote, &cg->address, IKE_PORT);
	if (ike_local_endpoint(e->cfg, &sa->remote, &sa->local) != 0) {
		ike_status_fail(ikev2_status(e, conn), IKE_STATE_PHASE1_FAILED, IKE_CAUSE_INTERNAL,
		                now_ms, NULL, "no public port of the peer's address family");
		ikev2_sa_destroy(e, sa, false);
		return;
	}
	sa->local.port = IKE_PORT;
	e->conns[conn].sa = sa;
	ike_status_set(ikev2_status(e, conn), IKE_STATE_PHASE1_NEGOTIATING, now_ms);
	ikev2_init_send(e, sa);
}

void ikev2_conn_failed(struct ikev2 *e, uint32_t conn, bool restart)
{
	const struct config_connection *cc = ikev2_cc(e, conn);

	if (restart && cc->effect_immediately && !e->conns[conn].admin_down) {
		e->conns[conn].restart = true;
		e->conns[conn].restart_at_ms = e->now_ms + e->t.restart_delay_ms;
	}
}

void ikev2_sa_fail(struct ikev2 *e, struct ikev2_sa *sa, enum ike_state st, enum ike_cause cause,
                   const char *ev)
{
	uint32_t conn = sa->conn;
	bool current = e->conns[conn].sa == sa;

	ike_status_fail(ikev2_status(e, conn), st, cause, e->now_ms, NULL, "%s", ev);
	ike_log(&e->ops, IKE_LOG_WARN, conn, "%s: %s", ike_cause_code(cause), ev);
	ikev2_sa_destroy(e, sa, true);
	if (current)
		ikev2_conn_failed(e, conn, true);
}

/* ---- input ---- */

/*
 * Ports and addresses of an authenticated message: the initiator floats
 * to 4500 after NAT detection, and a peer behind a NAT may move (a new
 * mapping): follow it and move the children with it (RFC 7296 2.23).
 */
static void follow_peer(struct ikev2 *e, struct ikev2_sa *sa, const struct ike_endpoint *local,
                        const struct ike_endpoint *remote)
{
	char a[64], b[64];

	if (ike_endpoint_eq(&sa->remote, remote) && ike_endpoint_eq(&sa->local, local))
		return;
	if (!sa->natt) {
		if (local->port != IKE_NATT_PORT)
			return;
		/* The peer floated to 4500: so do we. */
		sa->natt = true;
		sa->remote = *remote;
		sa->local = *local;
		return;
	}
	if (!sa->nat_peer && !sa->nat_us)
		return;
	ike_log(&e->ops, IKE_LOG_INFO, sa->conn, "peer moved from %s to %s",
	        ike_endpoint_str(&sa->remote, a, sizeof(a)),
	        ike_endpoint_str(remote, b, sizeof(b)));
	sa->remote = *remote;
	sa->local = *local;
	ikev2_child_reinstall_all(e, sa);
}

/*
 * A critical payload we do not know (2.5): a request is refused with
 * UNSUPPORTED_CRITICAL_PAYLOAD naming its type; a response is dropped.
 */
static void unsupported_critical(struct ikev2 *e, struct ikev2_sa *sa,
                                 const struct ike_endpoint *local,
                                 const struct ike_endpoint *remote, const struct ikev2_msg *m)
{
	static const uint8_t zero[8];
	uint8_t type = m->unsupported_critical;
	uint8_t buf[512];
	size_t len = 0;

	e->st.malformed++;
	if (m->flags & IKEV2_FLAG_RESPONSE)
		return;
	if (sa == NULL) {
		struct ikev2_wr w;

		ikev2_wr_init(&w, buf, sizeof(buf));
		ikev2_wr_header(&w, m->spi_i, zero, m->exchange, IKEV2_FLAG_RESPONSE, m->msg_id);
		ikev2_wr_notify(&w, 0, NULL, 0, IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD, &type, 1);
		ikev2_wr_finish(&w);
		if (!w.failed)
			ikev2_send_raw(e, local, remote, local->port != IKE_PORT, buf, w.len);
		return;
	}
	{
		struct ikev2_sk_wr *s = malloc(sizeof(*s));

		if (s == NULL)
			return;
		ikev2_sk_begin(sa, s, buf, sizeof(buf), m->exchange, true, m->msg_id);
		ikev2_wr_notify(&s->in, 0, NULL, 0, IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD, &type, 1);
		len = ikev2_sk_end(sa, s);
		free(s);
	}
	if (len)
		ikev2_send_response(e, sa, buf, len);
}

static void dispatch(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_msg *m)
{
	bool resp = m->flags & IKEV2_FLAG_RESPONSE;

	switch (m->exchange) {
	case IKEV2_EXCH_IKE_AUTH:
		if (resp)
			ikev2_auth_response(e, sa, m);
		else
			ikev2_auth_request(e, sa, m);
		break;
	case IKEV2_EXCH_CREATE_CHILD_SA:
		if (resp)
			ikev2_create_child_response(e, sa, m);
		else
			ikev2_create_child_request(e, sa, m);
		break;
	case IKEV2_EXCH_INFORMATIONAL:
		if (resp)
			ikev2_info_response(e, sa, m);
		else
			ikev2_info_request(e, sa, m);
		break;
	default:
		e->st.malformed++;
		ike_log(&e->ops, IKE_LOG_DEBUG, sa->conn, "ignored: %s (%u)",
		        ikev2_exchange_name(m->exchange), m->exchange);
		break;
	}
}

/* IKE_SA_INIT: a request for the responder, or the answer to our initiator SA. */
static void input_sa_init(struct ikev2 *e, const struct ike_endpoint *local,
                          const struct ike_endpoint *remote, const struct ikev2_msg *m)
{
	struct ikev2_sa *sa;

	if (!(m->flags & IKEV2_FLAG_RESPONSE)) {
		if (m->msg_id != 0 || !(m->flags & IKEV2_FLAG_INITIATOR) ||
		    ikev2_spi_key(m->spi_r) != 0 || ikev2_spi_key(m->spi_i) == 0) {
			e->st.malformed++;
			return;
		}
		if (m->unsupported_critical) {
			unsupported_critical(e, NULL, local, remote, m);
			return;
		}
		ikev2_init_request(e, local, remote, m);
		return;
	}
	sa = ikev2_sa_by_spi(e, m->spi_i);
	if (sa == NULL || !sa->initiator || sa->state != IKEV2_SA_INIT_SENT ||
	    m->msg_id != sa->req_id || !sa->req_pending) {
		e->st.unknown_spi++;
		return;
	}
	ikev2_init_response(e, sa, m);
}

/*
 * The IKE SA an encrypted message is for, if its SPIs, direction, message
 * ID and exchange fit what that SA expects; NULL (counted) otherwise.
 */
static struct ikev2_sa *input_sa(struct ikev2 *e, const struct ikev2_msg *m)
{
	bool resp = m->flags & IKEV2_FLAG_RESPONSE;
	bool from_initiator = m->flags & IKEV2_FLAG_INITIATOR;
	struct ikev2_sa *sa = ikev2_sa_by_spi(e, from_initiator ? m->spi_r : m->spi_i);

	if (sa == NULL ||
	    memcmp(from_initiator ? m->spi_i : m->spi_r, from_initiator ? sa->spi_i : sa->spi_r,
	           8) != 0 ||
	    sa->initiator == from_initiator) {
		e->st.unknown_spi++;
		return NULL;
	}
	/* A response answers our one outstanding request, in its exchange type. */
	if (resp && (!sa->req_pending || m->msg_id != sa->req_id ||
	             m->exchange != sa->req_buf[IKEV2_HDR_EXCHANGE_OFF])) {
		e->st.malformed++;
		return NULL;
	}
	/* Before IKE_AUTH completes, IKE_AUTH is the only exchange there is (1.2). */
	if (!ikev2_sa_authenticated(sa) && m->exchange != IKEV2_EXCH_IKE_AUTH) {
		e->st.malformed++;
		return NULL;
	}
	if (!resp && m->msg_id != sa->resp_id && !(sa->have_resp && m->msg_id + 1 == sa->resp_id)) {
		e->st.malformed++;
		return NULL;
	}
	if (!m->has_sk || sa->k == NULL) {
		e->st.malformed++;
		return NULL;
	}
	return sa;
}

/* A verified, decrypted message for sa (its inner payloads parsed into m). */
static void input_protected(struct ikev2 *e, struct ikev2_sa *sa, const struct ike_endpoint *local,
                            const struct ike_endpoint *remote, struct ikev2_msg *m)
{
	if ((m->flags & IKEV2_FLAG_RESPONSE) && sa->down_queued &&
	    sa->req_kind != IKEV2_REQ_IKE_REKEY) {
		/*
		 * vpnctl down came while this was out: what it answers is moot (the
		 * IKE SA goes, its children at the peer with it). An IKE rekey's
		 * answer is taken, so that the new SA is deleted too.
		 */
		ikev2_request_done(sa);
		sa->down_queued = false;
		ikev2_delete_ike_start(e, sa);
		return;
	}
	if (m->unsupported_critical) {
		unsupported_critical(e, sa, local, remote, m);
		return;
	}
	follow_peer(e, sa, local, remote);
	dispatch(e, sa, m);
}

void ikev2_input(struct ikev2 *e, const struct ike_endpoint *local,
                 const struct ike_endpoint *remote, const uint8_t *buf, size_t len, uint64_t now_ms)
{
	static _Thread_local uint8_t plain[IKE_MSG_MAX];
	struct ikev2_msg m;
	const uint8_t *msg;
	size_t mlen = 0;
	struct ikev2_sa *sa;
	int n;

	e->now_ms = now_ms;
	msg = ike_payload_strip(local->port, buf, len, &mlen);
	if (msg == NULL)
		return; /* a NAT keepalive or ESP: not ours */
	e->st.rx++;
	/*
	 * Another major version is the host's to route: the glue hands each
	 * datagram to the engine of its version and records a peer that
	 * answers in the other one (ike_version_mismatch). Here it is junk.
	 */
	if (ikev2_msg_parse(&m, msg, mlen) != IKEV2_PARSE_OK) {
		e->st.malformed++;
		return;
	}
	if (m.exchange == IKEV2_EXCH_IKE_SA_INIT) {
		input_sa_init(e, local, remote, &m);
		return;
	}
	sa = input_sa(e, &m);
	if (sa == NULL)
		return;
	/* Verified before anything else, a resent answer included: no spoofed resends. */
	n = ikev2_sk_unprotect(sa->k, &m, plain, sizeof(plain));
	if (n < 0) {
		e->st.auth_failed++;
		return;
	}
	if (!(m.flags & IKEV2_FLAG_RESPONSE) && m.msg_id + 1 == sa->resp_id && sa->have_resp) {
		/* A repeated request: the cached response, nothing else (2.1). */
		e->st.resp_resent++;
		ikev2_send_raw(e, &sa->local, &sa->remote, sa->natt, sa->resp_buf, sa->resp_len);
	} else if (ikev2_msg_parse_inner(&m, m.sk_first, plain, (size_t)n) != 0) {
		e->st.malformed++;
	} else {
		sa->last_rx_ms = now_ms;
		input_protected(e, sa, local, remote, &m);
	}
	crypto_wipe(plain, (size_t)n);
}

/* ---- timers ---- */

static void peer_dead(struct ikev2 *e, struct ikev2_sa *sa)
{
	uint32_t conn = sa->conn;
	bool current = e->conns[conn].sa == sa;
	bool was_up = sa->state != IKEV2_SA_INIT_SENT && sa->state != IKEV2_SA_AUTH_SENT;
	uint32_t id = sa->req_id;

	if (was_up)
		e->st.dead_peers++;
	if (current || !was_up)
		ike_status_fail(ikev2_status(e, conn), IKE_STATE_PHASE1_FAILED,
		                IKE_CAUSE_PEER_NOT_RESPONDING, e->now_ms, NULL,
		                "sending retransmit %u of request message ID %u, seq %u: no answer",
		                sa->req_tries, id, sa->req_tries);
	ike_log(&e->ops, IKE_LOG_WARN, conn, "peer not responding: %s SA removed",
	        was_up ? "established" : "half-open");
	ikev2_sa_destroy(e, sa, true);
	if (current)
		ikev2_conn_failed(e, conn, true);
}

static void tick_retransmit(struct ikev2 *e, struct ikev2_sa *sa)
{
	unsigned tries = e->t.retransmit_tries;

	if (sa->req_tries >= tries) {
		if (sa->state != IKEV2_SA_INIT_SENT || !ikev2_init_give_up(e, sa))
			peer_dead(e, sa);
		return;
	}
	sa->req_tries++;
	e->st.retransmits++;
	ike_log(&e->ops, IKE_LOG_INFO, sa->conn,
	        "sending retransmit %u of request message ID %u, seq %u", sa->req_tries, sa->req_id,
	        sa->req_tries);
	sa->req_timeout_ms = e->now_ms + ikev2_retransmit_timeout(e, sa->req_tries);
	ikev2_send_raw(e, &sa->local, &sa->remote, sa->natt, sa->req_buf, sa->req_len);
}

/* One thing to do on an established SA with no request out. */
static void tick_established(struct ikev2 *e, struct ikev2_sa *sa)
{
	const struct config_connection *cc = ikev2_cc(e, sa->conn);
	struct ikev2_child *c;

	if (sa->down_queued) {
		/* vpnctl down: the request that was out is done, the Delete goes now. */
		sa->down_queued = false;
		ikev2_delete_ike_start(e, sa);
		return;
	}
	if (sa->state == IKEV2_SA_REKEYED) {
		/* The rekey's initiator deletes the old SA (2.18); delete_at_ms backs it up. */
		if (!sa->peer_deletes)
			ikev2_delete_ike_start(e, sa);
		return;
	}
	if (sa->state != IKEV2_SA_ESTABLISHED)
		return;
	for (c = sa->children; c; c = c->next) {
		if (c->state == IKEV2_CHILD_REKEYING) {
			/*
			 * A child is REKEYING only while its rekey request is out on
			 * its SA, and none is out here: whatever left it so, it must not
			 * stay so (it would never be rekeyed again).
			 */
			ike_log(&e->ops, IKE_LOG_WARN, c->conn,
			        "CHILD_SA 0x%08x was left rekeying without a request: rekeyed "
			        "again",
			        c->spi_in);
			c->state = c->expired ? IKEV2_CHILD_REKEYED : IKEV2_CHILD_INSTALLED;
			c->peer_rekeyed = false;
			c->rekey_at_ms = e->now_ms;
		}
	}
	for (c = sa->children; c; c = c->next) {
		if (c->state == IKEV2_CHILD_REKEYED) {
			ikev2_delete_child_start(e, sa, c);
			return;
		}
	}
	if (sa->expire_at_ms && e->now_ms >= sa->expire_at_ms) {
		/* No rekey made it in the last tenth of the lifetime: end it, start afresh. */
		ike_log(&e->ops, IKE_LOG_WARN, sa->conn, "IKE_SA lifetime over without a rekey");
		ikev2_delete_ike_start(e, sa);
		ikev2_conn_failed(e, sa->conn, true);
		return;
	}
	if (sa->rekey_at_ms && e->now_ms >= sa->rekey_at_ms) {
		ikev2_ike_rekey_start(e, sa);
		return;
	}
	for (c = sa->children; c; c = c->next) {
		if (c->state == IKEV2_CHILD_INSTALLED && c->rekey_at_ms &&
		    e->now_ms >= c->rekey_at_ms) {
			ikev2_child_rekey_start(e, sa, c);
			return;
		}
	}
	if (cc->dpd && e->now_ms - sa->last_rx_ms >= e->t.liveness_idle_ms &&
	    e->now_ms - sa->last_tx_ms >= e->t.liveness_idle_ms) {
		ikev2_liveness_start(e, sa);
		return;
	}
}

/*
 * A responder SA the initiator never authenticated. If it was all the
 * connection had, say so: IKE_AUTH lost on the way (UDP 4500 blocked, or
 * fragments dropped) looks just like this from here.
 */
static void half_open_expired(struct ikev2 *e, struct ikev2_sa *sa)
{
	uint32_t conn = sa->conn;
	struct ike_status *st = ikev2_status(e, conn);
	/* An unknown peer's SA only borrowed conn's proposals: not conn's news. */
	bool ours = !sa->unknown_peer;

	ikev2_sa_destroy(e, sa, false);
	if (ours && e->conns[conn].sa == NULL && st->state == IKE_STATE_PHASE1_NEGOTIATING)
		ike_status_fail(st, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_PEER_NOT_RESPONDING,
		                e->now_ms, NULL,
		                "the peer sent IKE_SA_INIT but no IKE_AUTH followed");
}

void ikev2_tick(struct ikev2 *e, uint64_t now_ms)
{
	struct ikev2_sa *sa, *next;

	e->now_ms = now_ms;
	ikev2_cookie_secret_age(e);
	for (sa = e->all; sa; sa = next) {
		next = sa->all_next;
		if (sa->state == IKEV2_SA_REKEY_CHILD)
			continue;
		if (sa->state == IKEV2_SA_HALF_OPEN &&
		    now_ms - sa->created_ms >= HALF_OPEN_TIMEOUT_MS) {
			half_open_expired(e, sa);
			continue;
		}
		if (sa->delete_at_ms && now_ms >= sa->delete_at_ms) {
			ikev2_sa_destroy(e, sa, true);
			continue;
		}
		/* Whatever is out: the data plane stops using a child at its hard lifetime. */
		ikev2_child_tick_lifetimes(e, sa);
		if (sa->nat_us && sa->natt && now_ms >= sa->keepalive_at_ms) {
			static const uint8_t ka = 0xff;

			sa->keepalive_at_ms = now_ms + e->t.keepalive_ms;
			e->ops.send(e->ops.ctx, &sa->local, &sa->remote, &ka, 1);
		}
		if (sa->req_pending) {
			if (now_ms >= sa->req_timeout_ms)
				tick_retransmit(e, sa);
			continue;
		}
		tick_established(e, sa);
	}
	for (uint32_t c = 0; c < e->cfg->n_connections; c++) {
		struct ikev2_conn *ic = &e->conns[c];

		if (ic->restart && now_ms >= ic->restart_at_ms && ic->sa == NULL && !ic->admin_down)
			ikev2_initiate(e, c, now_ms);
		if (ic->child_retry_at_ms && now_ms >= ic->child_retry_at_ms) {
			if (ic->sa && ic->sa->req_pending) {
				ic->child_retry_at_ms = now_ms + 1000; /* after the exchange out */
			} else {
				ic->child_retry_at_ms = 0;
				ikev2_acquire(e, c, now_ms);
			}
		}
	}
}

/* ---- public API ---- */

struct ikev2 *ikev2_new(const struct config *cfg, const struct ike_ops *ops,
                        struct ike_status *status, uint64_t now_ms)
{
	struct ikev2 *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->conns = calloc(cfg->n_connections ? cfg->n_connections : 1, sizeof(*e->conns));
	if (e->conns == NULL) {
		free(e);
		return NULL;
	}
	e->cfg = cfg;
	e->ops = *ops;
	e->status = status;
	e->now_ms = now_ms;
	crypto_random(e->cookie_secret[0], sizeof(e->cookie_secret[0]));
	e->cookie_born_ms = now_ms;
	ikev2_tune(e, &(struct ikev2_tunables){ 0 });
	for (uint32_t c = 0; c < cfg->n_connections; c++)
		if (cfg->connections[c].ike.version == CONFIG_IKEV2)
			ike_status_set(&status[c], IKE_STATE_DOWN, now_ms);
	return e;
}

void ikev2_tune(struct ikev2 *e, const struct ikev2_tunables *t)
{
	e->t = *t;
	if (!e->t.liveness_idle_ms)
		e->t.liveness_idle_ms = DEFAULT_LIVENESS_MS;
	if (!e->t.keepalive_ms)
		e->t.keepalive_ms = DEFAULT_KEEPALIVE_MS;
	if (!e->t.half_open_cookie)
		e->t.half_open_cookie = DEFAULT_HALF_OPEN_COOKIE;
	if (!e->t.half_open_max)
		e->t.half_open_max = DEFAULT_HALF_OPEN_MAX;
	if (!e->t.cookie_rotate_ms)
		e->t.cookie_rotate_ms = DEFAULT_COOKIE_ROTATE_MS;
	if (!e->t.retransmit_tries)
		e->t.retransmit_tries = IKE_RETRANSMIT_TRIES;
	if (!e->t.retransmit_base_ms)
		e->t.retransmit_base_ms = IKE_RETRANSMIT_BASE_MS;
	if (!e->t.restart_delay_ms)
		e->t.restart_delay_ms = DEFAULT_RESTART_MS;
}

void ikev2_free(struct ikev2 *e)
{
	if (e == NULL)
		return;
	while (e->all)
		ikev2_sa_destroy(e, e->all, false);
	free(e->by_spi.slot);
	free(e->by_peer_spi.slot);
	free(e->conns);
	crypto_wipe(e->cookie_secret, sizeof(e->cookie_secret));
	free(e);
}

static bool is_v2(const struct ikev2 *e, uint32_t conn)
{
	return conn < e->cfg->n_connections &&
	       e->cfg->connections[conn].ike.version == CONFIG_IKEV2;
}

void ikev2_start(struct ikev2 *e, uint64_t now_ms)
{
	e->now_ms = now_ms;
	for (uint32_t c = 0; c < e->cfg->n_connections; c++)
		if (is_v2(e, c) && e->cfg->connections[c].effect_immediately)
			ikev2_initiate(e, c, now_ms);
}

void ikev2_acquire(struct ikev2 *e, uint32_t conn, uint64_t now_ms)
{
	struct ikev2_sa *sa;

	e->now_ms = now_ms;
	if (!is_v2(e, conn) || e->conns[conn].admin_down)
		return;
	sa = e->conns[conn].sa;
	if (sa == NULL) {
		ikev2_initiate(e, conn, now_ms);
		return;
	}
	/* An IKE SA without a child for this traffic (its child failed or was deleted). */
	if (sa->state == IKEV2_SA_ESTABLISHED && !sa->req_pending) {
		for (struct ikev2_child *c = sa->children; c; c = c->next)
			if (c->conn == conn && c->installed && c->state != IKEV2_CHILD_REKEYED)
				return;
		ikev2_child_rekey_start(e, sa, NULL);
	}
}

void ikev2_child_expired(struct ikev2 *e, uint32_t conn, uint32_t spi_in, bool hard,
                         uint64_t now_ms)
{
	e->now_ms = now_ms;
	if (!is_v2(e, conn))
		return;
	for (struct ikev2_sa *sa = e->conns[conn].sas; sa; sa = sa->conn_next) {
		struct ikev2_child *c = ikev2_child_find(sa, spi_in);

		if (c == NULL || c->conn != conn)
			continue;
		if (hard)
			ikev2_child_hard_expire(e, c);
		else if (c->state == IKEV2_CHILD_INSTALLED)
			c->rekey_at_ms = now_ms;
		return;
	}
}

int ikev2_up(struct ikev2 *e, uint32_t conn, uint64_t now_ms)
{
	e->now_ms = now_ms;
	if (!is_v2(e, conn))
		return -1;
	e->conns[conn].admin_down = false;
	/* As for traffic: a new IKE SA, or a child over the one that is up. */
	ikev2_acquire(e, conn, now_ms);
	return 0;
}

/*
 * vpnctl down of an authenticated IKE SA: its children leave the data
 * plane now; the IKE SA is deleted with an INFORMATIONAL request of its
 * own. With window size 1 (2.3) that request must wait for one that is
 * still out: the SA stays, marked, until that answer comes (or the peer is
 * given up on), and the Delete follows it.
 */
static void sa_close(struct ikev2 *e, struct ikev2_sa *sa)
{
	while (sa->children)
		ikev2_child_remove(e, sa, sa->children, true);
	if (sa->state == IKEV2_SA_DELETING)
		return; /* its Delete is out already */
	if (sa->req_pending)
		sa->down_queued = true;
	else
		ikev2_delete_ike_start(e, sa);
}

int ikev2_down(struct ikev2 *e, uint32_t conn, uint64_t now_ms)
{
	struct ikev2_sa *sa, *next;

	e->now_ms = now_ms;
	if (!is_v2(e, conn))
		return -1;
	e->conns[conn].admin_down = true;
	e->conns[conn].restart = false;
	e->conns[conn].child_retry_at_ms = 0;
	e->conns[conn].sa = NULL; /* whatever closes below is no longer the tunnel */
	for (sa = e->conns[conn].sas; sa; sa = next) {
		next = sa->conn_next;
		if (sa->state == IKEV2_SA_REKEY_CHILD)
			continue; /* goes with the SA whose rekey made it */
		if (ikev2_sa_authenticated(sa))
			sa_close(e, sa);
		else
			ikev2_sa_destroy(e, sa, true); /* no peer to tell yet */
	}
	ike_status_set(ikev2_status(e, conn), IKE_STATE_DOWN, now_ms);
	return 0;
}

unsigned ikev2_children(const struct ikev2 *e, uint32_t conn, struct ike_child_info *out,
                        unsigned cap)
{
	unsigned n = 0;

	if (conn >= e->cfg->n_connections)
		return 0;
	for (const struct ikev2_sa *sa = e->conns[conn].sas; sa; sa = sa->conn_next) {
		for (const struct ikev2_child *c = sa->children; c; c = c->next) {
			if (c->conn != conn || !c->installed)
				continue;
			if (n < cap) {
				struct ike_child_info *i = &out[n];

				memset(i, 0, sizeof(*i));
				i->spi_in = c->spi_in;
				i->spi_out = c->spi_out;
				i->encr = c->encr;
				i->integ = c->integ;
				memcpy(i->ts_local, c->ts_l, sizeof(c->ts_l));
				memcpy(i->ts_remote, c->ts_r, sizeof(c->ts_r));
				i->n_ts_local = c->n_ts_l;
				i->n_ts_remote = c->n_ts_r;
				i->installed_ms = c->installed_ms;
				i->rekey_at_ms = c->rekey_at_ms;
				i->udp_encap = c->udp_encap;
			}
			n++;
		}
	}
	return n;
}

bool ikev2_peer(const struct ikev2 *e, uint32_t conn, struct ike_endpoint *out)
{
	if (conn >= e->cfg->n_connections || e->conns[conn].sa == NULL)
		return false;
	*out = e->conns[conn].sa->remote;
	return true;
}

const struct ikev2_stats *ikev2_stats(const struct ikev2 *e)
{
	return &e->st;
}
