/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CHILD_SAs and CREATE_CHILD_SA (RFC 7296 1.3, 2.8, 2.17): keys and
 * install through ike_ops, new children, child rekey (make-before-break,
 * collisions per 2.8.1: the lowest nonce loses), PFS, and the dispatch of
 * CREATE_CHILD_SA to the IKE SA rekey (ikev2_rekey.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_mem.h"
#include "crypto_rand.h"
#include "cursor.h"
#include "ikev2_int.h"

uint64_t ikev2_retry_delay(const struct ikev2 *e, uint32_t base)
{
	uint32_t r;

	if (e->t.no_jitter)
		return base;
	crypto_random(&r, sizeof(r));
	return base + r % (base / 5);
}

bool ikev2_child_exchange_out(const struct ikev2_sa *sa)
{
	return sa->req_pending &&
	       (sa->req_kind == IKEV2_REQ_CHILD_NEW || sa->req_kind == IKEV2_REQ_CHILD_REKEY ||
	        sa->req_kind == IKEV2_REQ_DELETE_CHILD);
}

struct ikev2_child *ikev2_child_find(struct ikev2_sa *sa, uint32_t spi_in)
{
	for (struct ikev2_child *c = sa->children; c; c = c->next)
		if (c->spi_in == spi_in)
			return c;
	return NULL;
}

struct ikev2_child *ikev2_child_find_out(struct ikev2_sa *sa, uint32_t spi_out)
{
	for (struct ikev2_child *c = sa->children; c; c = c->next)
		if (c->spi_out == spi_out)
			return c;
	return NULL;
}

int ikev2_nonce_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int r = memcmp(a, b, al < bl ? al : bl);

	if (r != 0)
		return r;
	return al < bl ? -1 : al > bl;
}

void ikev2_min_nonce(uint8_t *dst, size_t *dl, const uint8_t *a, size_t al, const uint8_t *b,
                     size_t bl)
{
	if (ikev2_nonce_cmp(a, al, b, bl) <= 0) {
		memcpy(dst, a, al);
		*dl = al;
	} else {
		memcpy(dst, b, bl);
		*dl = bl;
	}
}

static void fill_child(struct ikev2 *e, const struct ikev2_sa *sa, const struct ikev2_child *k,
                       struct ike_child *c)
{
	const struct config_connection *cc = ikev2_cc(e, k->conn);

	c->conn = k->conn;
	c->spi_in = k->spi_in;
	c->spi_out = k->spi_out;
	c->encr = k->encr;
	c->integ = k->integ;
	c->enc_key_len = crypto_alg(k->encr)->key_len;
	c->auth_key_len = k->integ == CRYPTO_INTEG_NONE ? 0 : crypto_alg(k->integ)->key_len;
	c->esn = k->esn;
	c->udp_encap = k->udp_encap;
	c->local = sa->local;
	c->remote = sa->remote;
	memcpy(c->ts_local, k->ts_l, sizeof(c->ts_local));
	memcpy(c->ts_remote, k->ts_r, sizeof(c->ts_remote));
	c->n_ts_local = k->n_ts_l;
	c->n_ts_remote = k->n_ts_r;
	c->lifetime_s = cc->ipsec.lifetime;
}

struct ikev2_child *ikev2_child_install(struct ikev2 *e, struct ikev2_sa *sa, uint32_t conn,
                                        const struct ike_choice *ch, bool esn, uint32_t spi_in,
                                        uint32_t spi_out, const uint8_t *gir, size_t gir_len,
                                        const uint8_t *ni, size_t ni_len, const uint8_t *nr,
                                        size_t nr_len, bool we_initiated, const struct ts *l,
                                        unsigned n_l, const struct ts *r, unsigned n_r,
                                        uint32_t replaces)
{
	const struct config_connection *cc = ikev2_cc(e, conn);
	struct ike_status *st = ikev2_status(e, conn);
	struct ikev2_child *k = calloc(1, sizeof(*k));
	struct ike_child *c = crypto_key_alloc(sizeof(*c));
	uint64_t life = cc->ipsec.lifetime;
	int rc;

	if (k == NULL || c == NULL) {
		free(k);
		crypto_key_free(c);
		return NULL;
	}
	k->conn = conn;
	k->spi_in = spi_in;
	k->spi_out = spi_out;
	k->encr = ch->encr;
	k->integ = crypto_alg(ch->encr)->aead ? CRYPTO_INTEG_NONE : ch->integ;
	k->esn = esn;
	/* ESP in UDP when either side is behind a NAT, or the peer fakes one (2.23). */
	k->udp_encap = sa->natt && (sa->nat_us || sa->nat_peer || sa->nat_fake);
	k->n_ts_l = n_l < IKE_TS_MAX ? n_l : IKE_TS_MAX;
	k->n_ts_r = n_r < IKE_TS_MAX ? n_r : IKE_TS_MAX;
	memcpy(k->ts_l, l, k->n_ts_l * sizeof(*l));
	memcpy(k->ts_r, r, k->n_ts_r * sizeof(*r));
	k->installed_ms = e->now_ms;
	k->rekey_at_ms = life ? e->now_ms + life * 900 - ikev2_jitter_ms(e, life) : 0;
	k->expire_at_ms = life ? e->now_ms + life * 1000 : 0; /* as the data plane's hard limit */
	ikev2_min_nonce(k->n_min, &k->n_min_len, ni, ni_len, nr, nr_len);
	fill_child(e, sa, k, c);
	/*
	 * The responder of a rekey: the peer installs the new child once it has
	 * our answer, and deletes the old one after; until then we send on the
	 * old one (ops.child_outbound when the Delete comes).
	 */
	k->outbound_waits_for = we_initiated ? 0 : replaces;
	c->outbound_later = k->outbound_waits_for != 0;
	rc = ikev2_child_keymat(sa, gir, gir_len, ni, ni_len, nr, nr_len, we_initiated, c);
	if (rc == 0)
		rc = e->ops.child_install(e->ops.ctx, c);
	crypto_key_free(c);
	if (rc != 0) {
		ike_status_fail(st, IKE_STATE_PHASE2_FAILED, IKE_CAUSE_INTERNAL, e->now_ms, NULL,
		                "the data plane refused the CHILD_SA");
		free(k);
		return NULL;
	}
	k->installed = true;
	k->next = sa->children;
	sa->children = k;
	e->st.child_sas++;
	st->child_sa_up++;
	/* A multi_sa_peer note stays while the tunnel is up, rekeys included. */
	if (st->state != IKE_STATE_PHASE2_SUCCEEDED || st->cause != IKE_CAUSE_MULTI_SA_PEER)
		ike_status_set(st, IKE_STATE_PHASE2_SUCCEEDED, e->now_ms);
	ike_log(&e->ops, IKE_LOG_INFO, conn, "CHILD_SA installed: spi in 0x%08x out 0x%08x%s",
	        spi_in, spi_out, k->udp_encap ? " (ESP in UDP)" : "");
	return k;
}

/* Another child of conn, live, for other selectors than k's. */
static bool other_pair_installed(const struct ikev2 *e, uint32_t conn, const struct ikev2_child *k)
{
	for (const struct ikev2_sa *sa = e->conns[conn].sas; sa; sa = sa->conn_next)
		for (const struct ikev2_child *o = sa->children; o; o = o->next)
			if (o != k && o->conn == conn && o->installed &&
			    o->state != IKEV2_CHILD_REKEYED &&
			    (o->n_ts_l != k->n_ts_l || o->n_ts_r != k->n_ts_r ||
			     memcmp(o->ts_l, k->ts_l, k->n_ts_l * sizeof(*k->ts_l)) != 0 ||
			     memcmp(o->ts_r, k->ts_r, k->n_ts_r * sizeof(*k->ts_r)) != 0))
				return true;
	return false;
}

void ikev2_child_note_partial(struct ikev2 *e, const struct ikev2_child *k)
{
	const struct config_connection *cc = ikev2_cc(e, k->conn);
	struct ike_status *st = ikev2_status(e, k->conn);
	char l[TS_STR_MAX], r[TS_STR_MAX];

	if (!ikev2_ts_partial(cc, k->n_ts_l, k->n_ts_r))
		return;
	ts_format(&k->ts_l[0], l, sizeof(l));
	ts_format(&k->ts_r[0], r, sizeof(r));
	ike_log(&e->ops, IKE_LOG_INFO, k->conn,
	        "the peer's CHILD_SA covers part of the subnets (%s === %s%s): multi_sa_peer, "
	        "accepted",
	        l, r, k->n_ts_l + k->n_ts_r > 2 ? " ..." : "");
	/* The second pair is what makes it one SA per pair; noted once while up. */
	if (!other_pair_installed(e, k->conn, k) || st->cause == IKE_CAUSE_MULTI_SA_PEER)
		return;
	ike_status_fail(st, IKE_STATE_PHASE2_SUCCEEDED, IKE_CAUSE_MULTI_SA_PEER, e->now_ms, NULL,
	                "the peer opened another CHILD_SA for %s === %s: one SA per subnet pair", l,
	                r);
}

void ikev2_child_remove(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_child *c, bool via_ops)
{
	struct ikev2_child **pp;

	for (pp = &sa->children; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	if (via_ops && c->installed) {
		e->ops.child_delete(e->ops.ctx, c->conn, c->spi_in);
		if (e->st.child_sas)
			e->st.child_sas--;
		/* A child the peer's rekey made sends once this one is gone. */
		for (struct ikev2_child *k = sa->children; k; k = k->next)
			if (k->outbound_waits_for == c->spi_in) {
				k->outbound_waits_for = 0;
				if (e->ops.child_outbound != NULL)
					e->ops.child_outbound(e->ops.ctx, k->conn, k->spi_in);
			}
	}
	free(c);
}

/*
 * The peer moved (a new NAT mapping): the children must send to its new
 * address and port. Rather than patch SAs in the data plane, each child is
 * rekeyed at once: make-before-break, the new ones installed with the
 * IKE SA's current endpoints, the old ones deleted after.
 */
void ikev2_child_reinstall_all(struct ikev2 *e, struct ikev2_sa *sa)
{
	for (struct ikev2_child *c = sa->children; c; c = c->next) {
		c->udp_encap = sa->natt;
		if (c->state == IKEV2_CHILD_INSTALLED)
			c->rekey_at_ms = e->now_ms; /* at the next tick */
	}
}

/* conn has a child in the data plane, on any of its IKE SAs. */
static bool conn_has_live_child(const struct ikev2 *e, uint32_t conn)
{
	for (const struct ikev2_sa *sa = e->conns[conn].sas; sa; sa = sa->conn_next)
		for (const struct ikev2_child *c = sa->children; c; c = c->next)
			if (c->conn == conn && c->installed)
				return true;
	return false;
}

void ikev2_child_hard_expire(struct ikev2 *e, struct ikev2_child *c)
{
	uint32_t conn = c->conn;
	struct ike_status *st = ikev2_status(e, conn);
	bool rekey_out = c->state == IKEV2_CHILD_REKEYING;

	if (c->expired)
		return;
	c->expired = true;
	/* The data plane drops its packets from now on (sa_expired): out of it, and of the status.
	 */
	if (c->installed) {
		e->ops.child_delete(e->ops.ctx, conn, c->spi_in);
		c->installed = false;
		if (e->st.child_sas)
			e->st.child_sas--;
	}
	/* The peer is told (Delete at the next tick), unless the rekey still out replaces it. */
	if (!rekey_out)
		c->state = IKEV2_CHILD_REKEYED;
	ike_log(&e->ops, IKE_LOG_WARN, conn, "CHILD_SA 0x%08x reached its hard lifetime %s",
	        c->spi_in, rekey_out ? "while its rekey is out" : "without a rekey: deleted");
	if (conn_has_live_child(e, conn))
		return;
	/*
	 * No tunnel left. What kept the rekeys from making it is on record
	 * (refused by the peer: pfs_mismatch, proposal_mismatch ...), noted
	 * while the old child still carried traffic: now it is why phase 2 is
	 * down. Without one, a new child is all there is to say.
	 */
	if (st->cause != IKE_CAUSE_NONE && st->cause != IKE_CAUSE_MULTI_SA_PEER) {
		if (st->state != IKE_STATE_PHASE2_FAILED)
			st->since_ms = e->now_ms;
		st->state = IKE_STATE_PHASE2_FAILED; /* cause, evidence and remedy stay */
	} else {
		ike_status_set(st, IKE_STATE_PHASE2_NEGOTIATING, e->now_ms);
	}
	/* A new child, once the exchange out is done (not if the rekey out made one). */
	if (!e->conns[conn].admin_down)
		e->conns[conn].child_retry_at_ms = e->now_ms;
}

void ikev2_child_tick_lifetimes(struct ikev2 *e, struct ikev2_sa *sa)
{
	for (struct ikev2_child *c = sa->children; c; c = c->next)
		if (!c->expired && c->expire_at_ms && e->now_ms >= c->expire_at_ms)
			ikev2_child_hard_expire(e, c);
}

/* ---- our CREATE_CHILD_SA ---- */

static size_t write_child_request(struct ikev2 *e, struct ikev2_sa *sa, uint8_t *buf, size_t cap,
                                  struct ikev2_child *old)
{
	struct ikev2_pending *p = &sa->pend;
	const struct config_connection *cc = ikev2_cc(e, p->conn);
	struct ikev2_sk_wr *s = malloc(sizeof(*s));
	struct ikev2_prop_out props[2];
	uint8_t pub[CRYPTO_DH_MAX_PUBLIC];
	size_t len = 0;
	unsigned n;
	int plen = 0;

	if (s == NULL)
		return 0;
	if (cc->ipsec.pfs) {
		p->dh = crypto_dh_new(p->pfs_group);
		if (p->dh == NULL || (plen = crypto_dh_public(p->dh, pub, sizeof(pub))) < 0)
			goto out;
	}
	crypto_random(p->nonce, sizeof(p->nonce));
	ikev2_sk_begin(sa, s, buf, cap, IKEV2_EXCH_CREATE_CHILD_SA, false, sa->req_id);
	if (old) {
		uint8_t spi[4];

		put_be32(spi, old->spi_in);
		ikev2_wr_notify(&s->in, IKEV2_PROTO_ESP, spi, 4, IKEV2_N_REKEY_SA, NULL, 0);
	}
	n = ikev2_esp_props(cc, p->spi_in, true, props);
	for (unsigned i = 0; i < n && p->dh; i++)
		props[i].dh[0] = p->pfs_group; /* the group of the KE we send */
	ikev2_wr_sa(&s->in, props, n);
	ikev2_wr_simple(&s->in, IKEV2_PL_NONCE, p->nonce, sizeof(p->nonce));
	if (p->dh)
		ikev2_wr_ke(&s->in, crypto_alg(p->pfs_group)->ikev2_id, pub, (size_t)plen);
	ikev2_wr_ts(&s->in, IKEV2_PL_TSI, p->ts_l, p->n_ts_l);
	ikev2_wr_ts(&s->in, IKEV2_PL_TSR, p->ts_r, p->n_ts_r);
	len = ikev2_sk_end(sa, s);
out:
	free(s);
	return len;
}

void ikev2_child_rekey_start(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_child *old)
{
	struct ikev2_pending *p = &sa->pend;
	uint8_t buf[IKE_MSG_MAX];
	size_t len;

	crypto_dh_free(p->dh);
	p->dh = NULL;
	p->conn = old ? old->conn : sa->conn;
	p->old_spi_in = old ? old->spi_in : 0;
	p->pfs_group = ikev2_cc(e, p->conn)->ipsec.pfs_group;
	p->ke_tried = 0;
	p->spi_in = e->ops.spi_alloc(e->ops.ctx, p->conn);
	if (p->spi_in == 0) {
		if (old)
			old->rekey_at_ms = e->now_ms + IKEV2_REKEY_RETRY_MS;
		return;
	}
	if (old) {
		p->n_ts_l = old->n_ts_l;
		p->n_ts_r = old->n_ts_r;
		memcpy(p->ts_l, old->ts_l, sizeof(p->ts_l));
		memcpy(p->ts_r, old->ts_r, sizeof(p->ts_r));
	} else {
		ikev2_conn_ts(ikev2_cc(e, p->conn), p->ts_l, &p->n_ts_l, p->ts_r, &p->n_ts_r);
	}
	len = write_child_request(e, sa, buf, sizeof(buf), old);
	if (len == 0)
		return;
	if (old) {
		old->state = IKEV2_CHILD_REKEYING;
		old->peer_rekeyed = false;
	}
	ikev2_send_request(e, sa, old ? IKEV2_REQ_CHILD_REKEY : IKEV2_REQ_CHILD_NEW, buf, len);
}

/*
 * A child whose rekey did not happen: INSTALLED again, rekeyed again at
 * at_ms; past its hard lifetime meanwhile, it is only deleted.
 */
static void rekey_again_at(struct ikev2_child *old, uint64_t at_ms)
{
	if (old == NULL)
		return;
	if (old->expired) {
		old->state = IKEV2_CHILD_REKEYED;
		return;
	}
	old->state = IKEV2_CHILD_INSTALLED;
	old->rekey_at_ms = at_ms;
}

/*
 * INVALID_KE_PAYLOAD to our CREATE_CHILD_SA with PFS (1.3): sent again at
 * once (true) with the group the peer wants if ipsec.pfs is that group and
 * it was not the one sent (the config changed meanwhile); otherwise
 * pfs_mismatch naming both groups, the old child carrying on.
 */
static bool child_invalid_ke(struct ikev2 *e, struct ikev2_sa *sa, const struct ikev2_notify *err,
                             struct ikev2_child *old)
{
	struct ikev2_pending *p = &sa->pend;
	const struct config_connection *cc = ikev2_cc(e, p->conn);
	struct ike_status *st = ikev2_status(e, p->conn);
	struct config_algs allowed = { .n = cc->ipsec.pfs ? 1 : 0, .ids = { cc->ipsec.pfs_group } };
	enum crypto_alg_id sent = crypto_dh_group(p->dh);
	const struct crypto_alg *asked;
	const struct crypto_alg *g = ikev2_ke_retry(&allowed, &p->ke_tried, sent, err, &asked);
	uint8_t buf[IKE_MSG_MAX];
	char ours[64];
	size_t len;

	if (g) {
		ike_log(&e->ops, IKE_LOG_INFO, p->conn,
		        "CREATE_CHILD_SA: the peer wants PFS %s (INVALID_KE_PAYLOAD): retrying",
		        g->name);
		crypto_dh_free(p->dh);
		p->dh = NULL;
		p->pfs_group = g->id;
		len = write_child_request(e, sa, buf, sizeof(buf), old);
		if (len) {
			ikev2_send_request(e, sa, old ? IKEV2_REQ_CHILD_REKEY : IKEV2_REQ_CHILD_NEW,
			                   buf, len);
			return true;
		}
	}
	ike_status_fail(
	        st, old ? st->state : IKE_STATE_PHASE2_FAILED, IKE_CAUSE_PFS_MISMATCH, e->now_ms,
	        NULL,
	        "INVALID_KE_PAYLOAD to our CREATE_CHILD_SA: the peer wants PFS group %s, we "
	        "sent %s and allow %s",
	        asked ? asked->name : "unknown", crypto_alg(sent)->name,
	        ikev2_algs_str(&allowed, ours, sizeof(ours)));
	ike_log(&e->ops, IKE_LOG_WARN, p->conn, "%s: %s", ike_cause_code(st->cause), st->evidence);
	/* Tried again now and then, in case the peer is fixed. */
	rekey_again_at(old, e->now_ms + 6 * IKEV2_REKEY_RETRY_MS);
	return false;
}

enum child_err_outcome {
	CHILD_ERR_OTHER,   /* for ikev2_child_from_response to record */
	CHILD_ERR_SETTLED, /* handled here */
	CHILD_ERR_RESENT,  /* the request went again (a new one is out) */
};

/* The error notifies to our CREATE_CHILD_SA that say when or how to try again. */
static enum child_err_outcome child_response_error(struct ikev2 *e, struct ikev2_sa *sa,
                                                   const struct ikev2_notify *err,
                                                   struct ikev2_child *old)
{
	struct ikev2_pending *p = &sa->pend;
	struct ike_status *st = ikev2_status(e, p->conn);

	if (err->type == IKEV2_N_TEMPORARY_FAILURE) {
		/* The peer is busy (rekeying the IKE SA, 2.25.2): wait, then again. */
		uint64_t delay = ikev2_retry_delay(e, IKEV2_CHILD_TEMP_RETRY_MS);

		ike_log(&e->ops, IKE_LOG_INFO, p->conn,
		        "CREATE_CHILD_SA: the peer answered TEMPORARY_FAILURE, retrying in %llu ms",
		        (unsigned long long)delay);
		if (old)
			rekey_again_at(old, e->now_ms + delay);
		else
			e->conns[p->conn].child_retry_at_ms = e->now_ms + delay;
		return CHILD_ERR_SETTLED;
	}
	if (p->dh && err->type == IKEV2_N_INVALID_KE_PAYLOAD)
		return child_invalid_ke(e, sa, err, old) ? CHILD_ERR_RESENT : CHILD_ERR_SETTLED;
	if (p->dh && err->type == IKEV2_N_NO_PROPOSAL_CHOSEN) {
		/* The first child worked with these algorithms: the KE is what differs. */
		ike_status_fail(
		        st, old ? st->state : IKE_STATE_PHASE2_FAILED, IKE_CAUSE_PFS_MISMATCH,
		        e->now_ms, NULL, "the peer answered %s to our CREATE_CHILD_SA with PFS %s",
		        ikev2_notify_name(err->type), crypto_alg(crypto_dh_group(p->dh))->name);
		/* Tried again now and then, in case the peer is fixed. */
		rekey_again_at(old, e->now_ms + 6 * IKEV2_REKEY_RETRY_MS);
		return CHILD_ERR_SETTLED;
	}
	return CHILD_ERR_OTHER;
}

/* A successful answer has the nonce, and with PFS a KE of our group: g^ir into gir. */
static int child_response_ke(struct ikev2_sa *sa, const struct ikev2_msg *m, uint8_t *gir,
                             size_t cap, int *glen)
{
	struct ikev2_pending *p = &sa->pend;

	if (!m->has_nonce || (p->dh && !m->has_ke))
		return -1;
	if (p->dh == NULL)
		return 0;
	if (m->ke_group != crypto_alg(crypto_dh_group(p->dh))->ikev2_id)
		return -1;
	*glen = crypto_dh_shared(p->dh, m->ke.p, m->ke.len, gir, cap);
	return *glen < 0 ? -1 : 0;
}

/* Our rekey of old crossed the peer's (2.8.1): ours lost if its exchange's lowest nonce is lower.
 */
static bool child_collision_lost(struct ikev2_sa *sa, const struct ikev2_child *old,
                                 const struct ikev2_msg *m)
{
	struct ikev2_pending *p = &sa->pend;
	struct ikev2_child *pc = ikev2_child_find(sa, old->peer_new_spi);
	uint8_t mn[IKEV2_NONCE_MAX];
	size_t mnl;

	ikev2_min_nonce(mn, &mnl, p->nonce, sizeof(p->nonce), m->nonce.p, m->nonce.len);
	return pc && ikev2_nonce_cmp(mn, mnl, pc->n_min, pc->n_min_len) < 0;
}

/* Ours is redundant: never installed; a record of it names it in the Delete we send. */
static void child_drop_lost(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_child *old)
{
	struct ikev2_pending *p = &sa->pend;
	struct ikev2_child *nc;

	ike_log(&e->ops, IKE_LOG_INFO, p->conn,
	        "CHILD_SA rekey collision lost: dropping ours (0x%08x)", p->spi_in);
	old->state = IKEV2_CHILD_REKEYED;
	nc = calloc(1, sizeof(*nc));
	if (nc) {
		/* Not in the data plane: only the delete exchange names it. */
		nc->conn = p->conn;
		nc->spi_in = p->spi_in;
		nc->state = IKEV2_CHILD_REKEYED;
		nc->encr = CRYPTO_ENCR_NULL;
		nc->integ = CRYPTO_INTEG_NONE;
		nc->next = sa->children;
		sa->children = nc;
	}
}

void ikev2_create_child_response(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_msg *m)
{
	struct ikev2_pending *p = &sa->pend;
	uint8_t kind = sa->req_kind;
	uint8_t gir[CRYPTO_DH_MAX_SECRET];
	const struct ikev2_notify *err;
	struct ikev2_child *old, *nc = NULL;
	int glen = 0;

	ikev2_request_done(sa);
	if (kind == IKEV2_REQ_IKE_REKEY) {
		ikev2_ike_rekey_response(e, sa, m);
		return;
	}
	if (kind != IKEV2_REQ_CHILD_REKEY && kind != IKEV2_REQ_CHILD_NEW) {
		e->st.malformed++;
		return;
	}
	old = p->old_spi_in ? ikev2_child_find(sa, p->old_spi_in) : NULL;
	err = ikev2_msg_error(m);
	if (err) {
		enum child_err_outcome o = child_response_error(e, sa, err, old);

		if (o == CHILD_ERR_RESENT)
			return; /* its DH is the new request's */
		if (o == CHILD_ERR_SETTLED)
			goto done;
	} else if (child_response_ke(sa, m, gir, sizeof(gir), &glen) != 0) {
		e->st.malformed++;
		rekey_again_at(old, e->now_ms + IKEV2_REKEY_RETRY_MS);
		goto done;
	} else if (old && old->peer_rekeyed && child_collision_lost(sa, old, m)) {
		child_drop_lost(e, sa, old);
		goto done;
	}
	if (ikev2_child_from_response(e, sa, m, err == NULL && p->dh ? gir : NULL, (size_t)glen,
	                              p->nonce, sizeof(p->nonce), m->nonce.p, m->nonce.len) == 0)
		nc = sa->children;
	if (old) {
		if (nc || (old->peer_rekeyed && err == NULL))
			old->state = IKEV2_CHILD_REKEYED; /* deleted at the next tick */
		else
			rekey_again_at(old, e->now_ms + IKEV2_REKEY_RETRY_MS);
	}
done:
	crypto_wipe(gir, sizeof(gir));
	crypto_dh_free(p->dh);
	p->dh = NULL;
}

/* ---- the peer's CREATE_CHILD_SA ---- */

void ikev2_respond_error(struct ikev2 *e, struct ikev2_sa *sa, const struct ikev2_msg *m,
                         uint16_t type, const uint8_t *data, size_t len)
{
	struct ikev2_sk_wr *s = malloc(sizeof(*s));
	uint8_t buf[512];
	size_t n;

	if (s == NULL)
		return;
	ikev2_sk_begin(sa, s, buf, sizeof(buf), m->exchange, true, m->msg_id);
	ikev2_wr_notify(&s->in, 0, NULL, 0, type, data, len);
	n = ikev2_sk_end(sa, s);
	free(s);
	if (n)
		ikev2_send_response(e, sa, buf, n);
}

/*
 * Whether a peer's CREATE_CHILD_SA for a child can go on now: not on an SA
 * that is going (or being rekeyed by us, 2.25.2), and a REKEY_SA must name
 * a child of ours. *old: the child it rekeys. False: answered already.
 */
static bool child_request_admit(struct ikev2 *e, struct ikev2_sa *sa, const struct ikev2_msg *m,
                                struct ikev2_child **old)
{
	const struct ikev2_notify *rk = ikev2_msg_notify(m, IKEV2_N_REKEY_SA);

	*old = NULL;
	if (sa->state != IKEV2_SA_ESTABLISHED || sa->down_queued) {
		ikev2_respond_error(e, sa, m, IKEV2_N_TEMPORARY_FAILURE, NULL, 0);
		return false;
	}
	if (sa->req_pending && sa->req_kind == IKEV2_REQ_IKE_REKEY) {
		/* 2.25.2: no new or rekeyed child while we rekey the IKE SA it would live on. */
		ike_log(&e->ops, IKE_LOG_INFO, sa->conn,
		        "CREATE_CHILD_SA by the peer while our IKE_SA rekey is out: "
		        "TEMPORARY_FAILURE");
		ikev2_respond_error(e, sa, m, IKEV2_N_TEMPORARY_FAILURE, NULL, 0);
		return false;
	}
	if (rk == NULL)
		return true;
	if (rk->proto != IKEV2_PROTO_ESP || rk->spi_len != 4) {
		ikev2_respond_error(e, sa, m, IKEV2_N_INVALID_SYNTAX, NULL, 0);
		return false;
	}
	*old = ikev2_child_find_out(sa, get_be32(rk->spi));
	if (*old == NULL) {
		ikev2_respond_error(e, sa, m, IKEV2_N_CHILD_SA_NOT_FOUND, NULL, 0);
		return false;
	}
	if ((*old)->state == IKEV2_CHILD_REKEYED) {
		ikev2_respond_error(e, sa, m, IKEV2_N_TEMPORARY_FAILURE, NULL, 0);
		return false;
	}
	return true;
}

/* What we settle, as responder, for the peer's new child. */
struct child_answer {
	struct ike_choice ch;
	bool esn;
	uint32_t peer_spi, spi_in;
	unsigned pi; /* the chosen proposal */
	struct ts l[IKE_TS_MAX], r[IKE_TS_MAX];
	unsigned nl, nr;
	uint8_t nonce[IKEV2_NONCE_LEN];
	uint8_t pub[CRYPTO_DH_MAX_PUBLIC], gir[CRYPTO_DH_MAX_SECRET]; /* with PFS */
	int plen, glen;
};

/*
 * Proposal, PFS KE, selectors and our SPI for the peer's child of conn;
 * false with the refusal answered (NO_PROPOSAL_CHOSEN, INVALID_KE_PAYLOAD,
 * TS_UNACCEPTABLE, NO_ADDITIONAL_SAS).
 */
static bool child_request_choose(struct ikev2 *e, struct ikev2_sa *sa, const struct ikev2_msg *m,
                                 const struct ikev2_sa_payload *sap, uint32_t conn,
                                 struct child_answer *a)
{
	const struct config_connection *cc = ikev2_cc(e, conn);
	struct ike_status *st = ikev2_status(e, conn);
	char ev[IKE_EVIDENCE_MAX];
	enum ike_cause cause;
	struct crypto_dh *dh;

	if (ikev2_esp_select(cc, sap, true, &a->ch, &a->esn, &a->peer_spi, &a->pi, &cause, ev,
	                     sizeof(ev)) != 0) {
		ike_status_fail(st, st->state, cause, e->now_ms, NULL, "%s", ev);
		ike_log(&e->ops, IKE_LOG_WARN, conn, "CREATE_CHILD_SA: %s", ev);
		ikev2_respond_error(e, sa, m, IKEV2_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return false;
	}
	if (a->ch.has_dh) {
		if (!m->has_ke || m->ke_group != crypto_alg(a->ch.dh)->ikev2_id) {
			uint8_t g[2];

			put_be16(g, crypto_alg(a->ch.dh)->ikev2_id);
			ikev2_respond_error(e, sa, m, IKEV2_N_INVALID_KE_PAYLOAD, g, 2);
			return false;
		}
		dh = crypto_dh_new(a->ch.dh);
		if (dh == NULL || (a->plen = crypto_dh_public(dh, a->pub, sizeof(a->pub))) < 0 ||
		    (a->glen = crypto_dh_shared(dh, m->ke.p, m->ke.len, a->gir, sizeof(a->gir))) <
		            0) {
			crypto_dh_free(dh);
			ikev2_respond_error(e, sa, m, IKEV2_N_INVALID_SYNTAX, NULL, 0);
			return false;
		}
		crypto_dh_free(dh);
	}
	if (!ikev2_ts_narrow(cc, m, a->l, &a->nl, a->r, &a->nr)) {
		ike_status_fail(st, st->state, IKE_CAUSE_TS_MISMATCH, e->now_ms, NULL,
		                "traffic selectors of the peer's CREATE_CHILD_SA are unacceptable");
		ikev2_respond_error(e, sa, m, IKEV2_N_TS_UNACCEPTABLE, NULL, 0);
		return false;
	}
	a->spi_in = e->ops.spi_alloc(e->ops.ctx, conn);
	if (a->spi_in == 0) {
		ikev2_respond_error(e, sa, m, IKEV2_N_NO_ADDITIONAL_SAS, NULL, 0);
		return false;
	}
	crypto_random(a->nonce, sizeof(a->nonce));
	return true;
}

/* Our CREATE_CHILD_SA answer: SA (the proposal we chose), nonce, KE, TSi, TSr. */
static size_t write_child_response(struct ikev2_sa *sa, const struct ikev2_msg *m,
                                   const struct ikev2_sa_payload *sap, const struct child_answer *a,
                                   uint8_t *buf, size_t cap)
{
	struct ikev2_prop_out chosen = { .proto = IKEV2_PROTO_ESP,
		                         .spi_len = 4,
		                         .num = sap->p[a->pi].num };
	struct ikev2_sk_wr *s = malloc(sizeof(*s));
	size_t len;

	if (s == NULL)
		return 0;
	put_be32(chosen.spi, a->spi_in);
	chosen.encr[chosen.n_encr++] = a->ch.encr;
	if (a->ch.has_integ)
		chosen.integ[chosen.n_integ++] = a->ch.integ;
	if (a->ch.has_dh)
		chosen.dh[chosen.n_dh++] = a->ch.dh;
	chosen.esn[chosen.n_esn++] = a->esn;
	ikev2_sk_begin(sa, s, buf, cap, IKEV2_EXCH_CREATE_CHILD_SA, true, m->msg_id);
	ikev2_wr_sa(&s->in, &chosen, 1);
	ikev2_wr_simple(&s->in, IKEV2_PL_NONCE, a->nonce, sizeof(a->nonce));
	if (a->ch.has_dh)
		ikev2_wr_ke(&s->in, crypto_alg(a->ch.dh)->ikev2_id, a->pub, (size_t)a->plen);
	ikev2_wr_ts(&s->in, IKEV2_PL_TSI, a->r, a->nr);
	ikev2_wr_ts(&s->in, IKEV2_PL_TSR, a->l, a->nl);
	len = ikev2_sk_end(sa, s);
	free(s);
	return len;
}

void ikev2_create_child_request(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_msg *m)
{
	struct ikev2_sa_payload *sap = malloc(sizeof(*sap));
	struct child_answer *a = calloc(1, sizeof(*a));
	struct ikev2_child *old = NULL, *nc;
	uint8_t buf[IKE_MSG_MAX];
	uint32_t conn;
	size_t len;

	if (sap == NULL || a == NULL)
		goto out;
	if (!m->has_sa || !m->has_nonce || ikev2_sa_parse(sap, m->sa.p, m->sa.len) != 0 ||
	    sap->n == 0) {
		ikev2_respond_error(e, sa, m, IKEV2_N_INVALID_SYNTAX, NULL, 0);
		goto out;
	}
	if (sap->p[0].proto == IKEV2_PROTO_IKE) {
		ikev2_peer_ike_rekey(e, sa, m, sap);
		goto out;
	}
	if (!child_request_admit(e, sa, m, &old))
		goto out;
	conn = old ? old->conn : sa->conn;
	if (!child_request_choose(e, sa, m, sap, conn, a))
		goto out;
	len = write_child_response(sa, m, sap, a, buf, sizeof(buf));
	if (len == 0)
		goto out;
	ikev2_send_response(e, sa, buf, len);
	nc = ikev2_child_install(e, sa, conn, &a->ch, a->esn, a->spi_in, a->peer_spi,
	                         a->ch.has_dh ? a->gir : NULL, a->ch.has_dh ? (size_t)a->glen : 0,
	                         m->nonce.p, m->nonce.len, a->nonce, sizeof(a->nonce), false, a->l,
	                         a->nl, a->r, a->nr, old != NULL ? old->spi_in : 0);
	if (nc && old == NULL)
		ikev2_child_note_partial(e, nc);
	if (nc && old && old->state == IKEV2_CHILD_REKEYING) {
		/* Our rekey of the same child is out: settle it when our answer comes. */
		old->peer_rekeyed = true;
		old->peer_new_spi = nc->spi_in;
	}
	/* Otherwise the peer deletes the old child (it started the rekey). */
out:
	if (a)
		crypto_wipe(a, sizeof(*a));
	free(a);
	free(sap);
}
