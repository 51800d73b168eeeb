/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKE SA rekey (RFC 7296 1.3.2, 2.18) with CREATE_CHILD_SA, both roles:
 * the new SA's keys from the old SK_d, the children moving over,
 * collisions (2.8.1: the SA of the lowest nonce goes), INVALID_KE_PAYLOAD
 * and TEMPORARY_FAILURE (2.25.2) while a child exchange is under way.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto_mem.h"
#include "crypto_rand.h"
#include "cursor.h"
#include "ikev2_int.h"

/* Our IKE SA rekey request with a KE of group (2.18). */
static void ike_rekey_send(struct ikev2 *e, struct ikev2_sa *sa, enum crypto_alg_id group)
{
	const struct config_connection *cc = ikev2_cc(e, sa->conn);
	struct ikev2_pending *p = &sa->pend;
	struct ikev2_sk_wr *s;
	struct ikev2_prop_out props[2];
	uint8_t buf[IKE_MSG_MAX], pub[CRYPTO_DH_MAX_PUBLIC];
	struct ikev2_sa *n;
	size_t len;
	unsigned np;
	int plen;

	n = ikev2_sa_new(e, sa->conn, true, e->now_ms);
	if (n == NULL)
		return;
	n->state = IKEV2_SA_REKEY_CHILD;
	n->ch = sa->ch;
	n->dh = crypto_dh_new(group);
	s = malloc(sizeof(*s));
	if (n->dh == NULL || s == NULL || (plen = crypto_dh_public(n->dh, pub, sizeof(pub))) < 0) {
		free(s);
		ikev2_sa_destroy(e, n, false);
		sa->rekey_at_ms = e->now_ms + IKEV2_REKEY_RETRY_MS;
		return;
	}
	n->ni_len = IKEV2_NONCE_LEN;
	crypto_random(n->ni, n->ni_len);
	if (p->new_sa)
		ikev2_sa_destroy(e, p->new_sa, false);
	p->new_sa = n;
	n->rekey_parent = sa;
	np = ikev2_ike_props(cc, props, n->spi_i, 8);
	/* Offer the KE's group first. */
	for (unsigned i = 0; i < np; i++) {
		for (unsigned j = 1; j < props[i].n_dh; j++) {
			if (props[i].dh[j] == group) {
				props[i].dh[j] = props[i].dh[0];
				props[i].dh[0] = group;
			}
		}
	}
	ikev2_sk_begin(sa, s, buf, sizeof(buf), IKEV2_EXCH_CREATE_CHILD_SA, false, sa->req_id);
	ikev2_wr_sa(&s->in, props, np);
	ikev2_wr_simple(&s->in, IKEV2_PL_NONCE, n->ni, n->ni_len);
	ikev2_wr_ke(&s->in, crypto_alg(group)->ikev2_id, pub, (size_t)plen);
	len = ikev2_sk_end(sa, s);
	free(s);
	if (len == 0)
		return;
	sa->peer_rekeyed_ike = false;
	ikev2_send_request(e, sa, IKEV2_REQ_IKE_REKEY, buf, len);
}

void ikev2_ike_rekey_start(struct ikev2 *e, struct ikev2_sa *sa)
{
	/* The group in use first; another only if the peer asks for it. */
	sa->rekey_ke_tried = 0;
	ike_rekey_send(e, sa, sa->ch.dh);
}

/*
 * INVALID_KE_PAYLOAD to our IKE rekey: again at once with the group the
 * peer wants, if ike.dh has it and it was not sent yet; otherwise a
 * dh_group_mismatch on a tunnel that stays up (the old SA carries on until
 * its hard lifetime, then IKE_SA_INIT starts afresh).
 */
static void ike_rekey_invalid_ke(struct ikev2 *e, struct ikev2_sa *sa,
                                 const struct ikev2_notify *err, enum crypto_alg_id sent)
{
	const struct config_connection *cc = ikev2_cc(e, sa->conn);
	struct ike_status *st = ikev2_status(e, sa->conn);
	const struct crypto_alg *asked;
	const struct crypto_alg *g =
	        ikev2_ke_retry(&cc->ike.dh, &sa->rekey_ke_tried, sent, err, &asked);
	char ours[128];

	if (g) {
		ike_log(&e->ops, IKE_LOG_INFO, sa->conn,
		        "IKE_SA rekey: the peer wants DH %s (INVALID_KE_PAYLOAD): retrying",
		        g->name);
		ike_rekey_send(e, sa, g->id);
		return;
	}
	ike_status_fail(st, st->state, IKE_CAUSE_DH_GROUP_MISMATCH, e->now_ms, NULL,
	                "INVALID_KE_PAYLOAD to our IKE_SA rekey: the peer wants DH group %s, we "
	                "allow %s%s",
	                asked ? asked->name : "unknown",
	                ikev2_algs_str(&cc->ike.dh, ours, sizeof(ours)),
	                asked && ike_algs_has(&cc->ike.dh, asked->id) ? " (already tried)" : "");
	ike_log(&e->ops, IKE_LOG_WARN, sa->conn, "%s: %s", ike_cause_code(st->cause), st->evidence);
	/* Tried again now and then, in case either side is fixed. */
	sa->rekey_at_ms = e->now_ms + 6 * IKEV2_REKEY_RETRY_MS;
}

/* Moves every child (and the connection) from old to n. */
static void move_children(struct ikev2 *e, struct ikev2_sa *old, struct ikev2_sa *n)
{
	struct ikev2_child **pp = &n->children;

	while (*pp)
		pp = &(*pp)->next;
	*pp = old->children;
	old->children = NULL;
	if (e->conns[old->conn].sa == old)
		e->conns[old->conn].sa = n;
}

/* A new IKE SA made by a CREATE_CHILD_SA takes over (2.18). */
static void ike_rekeyed(struct ikev2 *e, struct ikev2_sa *old, struct ikev2_sa *n)
{
	const struct config_connection *cc = ikev2_cc(e, old->conn);
	struct ike_status *st = ikev2_status(e, old->conn);
	uint64_t life = cc->ike.lifetime;

	n->local = old->local;
	n->remote = old->remote;
	n->natt = old->natt;
	n->nat_us = old->nat_us;
	n->nat_peer = old->nat_peer;
	n->nat_fake = old->nat_fake;
	n->keepalive_at_ms = old->keepalive_at_ms;
	n->state = IKEV2_SA_ESTABLISHED;
	n->down_queued = old->down_queued; /* vpnctl down came during the rekey: it goes too */
	n->established_ms = e->now_ms;
	n->last_rx_ms = e->now_ms;
	n->rekey_at_ms = life ? e->now_ms + life * 900 - ikev2_jitter_ms(e, life) : 0;
	n->expire_at_ms = life ? e->now_ms + life * 1000 : 0;
	e->st.ike_sas++;
	st->ike_sa_up++;
	/* A rekey that works clears a mismatch noted by an earlier try. */
	if (st->state == IKE_STATE_PHASE2_SUCCEEDED && st->cause == IKE_CAUSE_DH_GROUP_MISMATCH)
		ike_status_set(st, IKE_STATE_PHASE2_SUCCEEDED, e->now_ms);
	move_children(e, old, n);
	n->rekey_parent = NULL;
	ike_log(&e->ops, IKE_LOG_INFO, old->conn, "IKE_SA rekeyed");
}

/* The answer to our IKE SA rekey (2.18), with the collision rule of 2.8.1. */
/*
 * The error notify answering our IKE rekey (n, the new SA we offered, is
 * gone after it): INVALID_KE_PAYLOAD and TEMPORARY_FAILURE say how to try
 * again, anything else means again after a while.
 */
static void ike_rekey_refused(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_sa *n,
                              const struct ikev2_notify *err)
{
	enum crypto_alg_id sent = crypto_dh_group(n->dh);
	uint64_t delay;

	ikev2_sa_destroy(e, n, false);
	switch (err->type) {
	case IKEV2_N_INVALID_KE_PAYLOAD:
		ike_rekey_invalid_ke(e, sa, err, sent);
		return;
	case IKEV2_N_TEMPORARY_FAILURE:
		/* The peer has a child exchange of its own out (2.25.2): later. */
		delay = ikev2_retry_delay(e, IKEV2_IKE_TEMP_RETRY_MS);
		ike_log(&e->ops, IKE_LOG_INFO, sa->conn,
		        "IKE_SA rekey: the peer answered TEMPORARY_FAILURE, retrying in %llu ms",
		        (unsigned long long)delay);
		sa->rekey_at_ms = e->now_ms + delay;
		return;
	default:
		ike_log(&e->ops, IKE_LOG_WARN, sa->conn, "IKE_SA rekey failed: %s",
		        ikev2_notify_name(err->type));
		sa->rekey_at_ms = e->now_ms + IKEV2_REKEY_RETRY_MS;
		return;
	}
}

/* The peer's answer keys n: its choice (ours), SPI, nonce, KE; 0, or -1. */
static int ike_rekey_keys(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_sa *n,
                          const struct ikev2_msg *m)
{
	const struct config_connection *cc = ikev2_cc(e, sa->conn);
	struct ikev2_sa_payload *sap = malloc(sizeof(*sap));
	uint8_t gir[CRYPTO_DH_MAX_SECRET];
	char ev[IKE_EVIDENCE_MAX];
	enum ike_cause cause;
	struct ike_choice ch;
	int glen = -1, rc = -1;

	if (sap != NULL && m->has_sa && m->has_nonce && m->has_ke &&
	    ikev2_sa_parse(sap, m->sa.p, m->sa.len) == 0 && sap->n == 1 && sap->p[0].spi_len == 8 &&
	    ikev2_ike_select(cc, sap, m->ke_group, &ch, NULL, &cause, ev, sizeof(ev)) == 0 &&
	    ch.has_dh && ch.dh == crypto_dh_group(n->dh) &&
	    (glen = crypto_dh_shared(n->dh, m->ke.p, m->ke.len, gir, sizeof(gir))) >= 0) {
		n->ch = ch;
		memcpy(n->spi_r, sap->p[0].spi, 8);
		memcpy(n->nr, m->nonce.p, m->nonce.len);
		n->nr_len = m->nonce.len;
		rc = ikev2_keys_derive(n, gir, (size_t)glen, sa) == 0 ? 0 : -1;
	} else {
		ike_log(&e->ops, IKE_LOG_WARN, sa->conn, "IKE_SA rekey failed");
	}
	crypto_wipe(gir, sizeof(gir));
	free(sap);
	return rc;
}

/* Both sides rekeyed the IKE SA at once (2.8.1): the SA of the lowest nonce goes, by its maker. */
static void ike_rekey_collision(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_sa *n)
{
	struct ikev2_sa *pn = sa->peer_new_sa;
	struct ikev2_conn *ic = &e->conns[sa->conn];
	bool current = ic->sa == pn || ic->sa == n; /* not after vpnctl down */

	ike_rekeyed(e, sa, n);
	if (ikev2_nonce_cmp(n->n_min, n->n_min_len, pn->n_min, pn->n_min_len) < 0) {
		move_children(e, n, pn);
		if (current)
			ic->sa = pn;
		n->state = IKEV2_SA_REKEYED; /* ours lost: we delete it */
	} else {
		/* Ours won: the peer deletes its new SA. */
		move_children(e, pn, n);
		if (current)
			ic->sa = n;
	}
	sa->peer_new_sa = NULL;
	pn->rekey_parent = NULL;
}

void ikev2_ike_rekey_response(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_msg *m)
{
	struct ikev2_pending *p = &sa->pend;
	struct ikev2_sa *n = p->new_sa;
	const struct ikev2_notify *err = ikev2_msg_error(m);

	p->new_sa = NULL;
	if (n == NULL) {
		ike_log(&e->ops, IKE_LOG_WARN, sa->conn, "IKE_SA rekey failed");
		sa->rekey_at_ms = e->now_ms + IKEV2_REKEY_RETRY_MS;
		return;
	}
	if (err != NULL) {
		ike_rekey_refused(e, sa, n, err);
		return;
	}
	if (ike_rekey_keys(e, sa, n, m) != 0) {
		ikev2_sa_destroy(e, n, false);
		sa->rekey_at_ms = e->now_ms + IKEV2_REKEY_RETRY_MS;
		return;
	}
	crypto_dh_free(n->dh);
	n->dh = NULL;
	ikev2_min_nonce(n->n_min, &n->n_min_len, n->ni, n->ni_len, n->nr, n->nr_len);
	if (sa->peer_rekeyed_ike && sa->peer_new_sa)
		ike_rekey_collision(e, sa, n);
	else
		ike_rekeyed(e, sa, n);
	sa->state = IKEV2_SA_REKEYED;
}

/*
 * Whether the peer's IKE rekey can be answered now, and with what: the
 * proposal (*ch, *idx), or false with the refusal sent (TEMPORARY_FAILURE,
 * NO_PROPOSAL_CHOSEN, INVALID_KE_PAYLOAD, INVALID_SYNTAX).
 */
static bool peer_rekey_choose(struct ikev2 *e, struct ikev2_sa *sa, const struct ikev2_msg *m,
                              const struct ikev2_sa_payload *sap, struct ike_choice *ch,
                              unsigned *idx)
{
	const struct config_connection *cc = ikev2_cc(e, sa->conn);
	char ev[IKE_EVIDENCE_MAX];
	enum ike_cause cause;

	if (sa->state != IKEV2_SA_ESTABLISHED || sa->down_queued || !m->has_ke) {
		ikev2_respond_error(e, sa, m, IKEV2_N_TEMPORARY_FAILURE, NULL, 0);
		return false;
	}
	if (ikev2_child_exchange_out(sa)) {
		/*
		 * 2.25.2: not while our own child exchange is out. Its answer comes
		 * on this SA; a rekey now would move the children away from it
		 * (the new child would land on the old SA, the old one stay
		 * REKEYING). The peer tries again later.
		 */
		ike_log(&e->ops, IKE_LOG_INFO, sa->conn,
		        "IKE_SA rekey by the peer while our CREATE_CHILD_SA/delete is out: "
		        "TEMPORARY_FAILURE");
		ikev2_respond_error(e, sa, m, IKEV2_N_TEMPORARY_FAILURE, NULL, 0);
		return false;
	}
	if (ikev2_ike_select(cc, sap, m->ke_group, ch, idx, &cause, ev, sizeof(ev)) != 0) {
		ike_log(&e->ops, IKE_LOG_WARN, sa->conn, "IKE_SA rekey: %s", ev);
		ikev2_respond_error(e, sa, m, IKEV2_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return false;
	}
	if (m->ke_group != crypto_alg(ch->dh)->ikev2_id) {
		uint8_t g[2];

		put_be16(g, crypto_alg(ch->dh)->ikev2_id);
		ikev2_respond_error(e, sa, m, IKEV2_N_INVALID_KE_PAYLOAD, g, 2);
		return false;
	}
	if (sap->p[*idx].spi_len != 8) {
		ikev2_respond_error(e, sa, m, IKEV2_N_INVALID_SYNTAX, NULL, 0);
		return false;
	}
	return true;
}

/* The new SA of the peer's rekey, keyed from the old SA's SK_d; NULL on failure. */
static struct ikev2_sa *peer_rekey_new_sa(struct ikev2 *e, struct ikev2_sa *sa,
                                          const struct ikev2_msg *m, const uint8_t spi_i[8],
                                          const struct ike_choice *ch, uint8_t *pub, size_t pub_cap,
                                          int *plen)
{
	struct ikev2_sa *n = ikev2_sa_new(e, sa->conn, false, e->now_ms);
	uint8_t gir[CRYPTO_DH_MAX_SECRET];
	int glen;

	if (n == NULL)
		return NULL;
	n->state = IKEV2_SA_REKEY_CHILD;
	n->ch = *ch;
	memcpy(n->spi_i, spi_i, 8);
	memcpy(n->ni, m->nonce.p, m->nonce.len);
	n->ni_len = m->nonce.len;
	n->nr_len = IKEV2_NONCE_LEN;
	crypto_random(n->nr, n->nr_len);
	n->dh = crypto_dh_new(ch->dh);
	if (n->dh == NULL || (*plen = crypto_dh_public(n->dh, pub, pub_cap)) < 0 ||
	    (glen = crypto_dh_shared(n->dh, m->ke.p, m->ke.len, gir, sizeof(gir))) < 0 ||
	    ikev2_keys_derive(n, gir, (size_t)glen, sa) != 0) {
		crypto_wipe(gir, sizeof(gir));
		ikev2_sa_destroy(e, n, false);
		return NULL;
	}
	crypto_wipe(gir, sizeof(gir));
	crypto_dh_free(n->dh);
	n->dh = NULL;
	ikev2_min_nonce(n->n_min, &n->n_min_len, n->ni, n->ni_len, n->nr, n->nr_len);
	return n;
}

/* Our answer to the peer's IKE rekey: the proposal chosen (number num) with n's SPI, nonce, KE. */
static size_t write_peer_rekey_response(struct ikev2_sa *sa, const struct ikev2_msg *m,
                                        const struct ikev2_sa *n, uint8_t num, const uint8_t *pub,
                                        size_t plen, uint8_t *buf, size_t cap)
{
	struct ikev2_prop_out chosen = { .proto = IKEV2_PROTO_IKE, .spi_len = 8, .num = num };
	struct ikev2_sk_wr *s = malloc(sizeof(*s));
	size_t len;

	if (s == NULL)
		return 0;
	memcpy(chosen.spi, n->spi_r, 8);
	chosen.encr[chosen.n_encr++] = n->ch.encr;
	chosen.prf[chosen.n_prf++] = n->ch.prf;
	if (n->ch.has_integ)
		chosen.integ[chosen.n_integ++] = n->ch.integ;
	chosen.dh[chosen.n_dh++] = n->ch.dh;
	ikev2_sk_begin(sa, s, buf, cap, IKEV2_EXCH_CREATE_CHILD_SA, true, m->msg_id);
	ikev2_wr_sa(&s->in, &chosen, 1);
	ikev2_wr_simple(&s->in, IKEV2_PL_NONCE, n->nr, n->nr_len);
	ikev2_wr_ke(&s->in, crypto_alg(n->ch.dh)->ikev2_id, pub, plen);
	len = ikev2_sk_end(sa, s);
	free(s);
	return len;
}

void ikev2_peer_ike_rekey(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_msg *m,
                          struct ikev2_sa_payload *sap)
{
	uint8_t buf[IKE_MSG_MAX], pub[CRYPTO_DH_MAX_PUBLIC];
	struct ike_choice ch;
	struct ikev2_sa *n;
	unsigned idx;
	size_t len;
	int plen = 0;

	if (!peer_rekey_choose(e, sa, m, sap, &ch, &idx))
		return;
	n = peer_rekey_new_sa(e, sa, m, sap->p[idx].spi, &ch, pub, sizeof(pub), &plen);
	if (n == NULL) {
		ikev2_respond_error(e, sa, m, IKEV2_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return;
	}
	len = write_peer_rekey_response(sa, m, n, sap->p[idx].num, pub, (size_t)plen, buf,
	                                sizeof(buf));
	if (len == 0) {
		ikev2_sa_destroy(e, n, false);
		return;
	}
	ikev2_send_response(e, sa, buf, len);
	if (sa->req_pending && sa->req_kind == IKEV2_REQ_IKE_REKEY) {
		/* Collision: decided when our own response arrives. */
		sa->peer_rekeyed_ike = true;
		sa->peer_new_sa = n;
		ike_rekeyed(e, sa, n);
		n->rekey_parent = sa;
		return;
	}
	ike_rekeyed(e, sa, n);
	/* The peer deletes the old SA; if it does not, we do after a while. */
	sa->state = IKEV2_SA_REKEYED;
	sa->peer_deletes = true;
	sa->delete_at_ms = e->now_ms + 60000;
}
