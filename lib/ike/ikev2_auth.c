/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKE_AUTH (RFC 7296 1.2, 2.15, 2.4), initiator and responder: PSK
 * authentication, identities checked against remote_id, INITIAL_CONTACT,
 * and the first CHILD_SA with its selectors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_mem.h"
#include "crypto_rand.h"
#include "cursor.h"
#include "ikev2_int.h"

static bool alone_with_peer(const struct ikev2 *e, const struct ikev2_sa *sa);

/*
 * The connections whose SAs may be with sa's peer: sa's own first, then the
 * others of the same customer gateway address. -1 after the last.
 */
static int next_conn_of_peer(const struct ikev2 *e, const struct ikev2_sa *sa, int c)
{
	int n = c == (int)sa->conn ? ike_conn_by_peer(e->cfg, &sa->remote, 0)
	                           : ike_conn_by_peer(e->cfg, &sa->remote, (uint32_t)c + 1);

	if (n == (int)sa->conn)
		n = ike_conn_by_peer(e->cfg, &sa->remote, (uint32_t)n + 1);
	return n;
}

static void id_body(const struct ike_id *id, uint8_t *body, size_t *len)
{
	body[0] = id->type;
	body[1] = body[2] = body[3] = 0;
	memcpy(body + 4, id->data, id->len);
	*len = 4 + (size_t)id->len;
}

/* IKE_AUTH request: IDi, AUTH, INITIAL_CONTACT, SA, TSi, TSr. */
void ikev2_auth_send(struct ikev2 *e, struct ikev2_sa *sa)
{
	const struct config_connection *cc = ikev2_cc(e, sa->conn);
	struct ikev2_sk_wr *s = malloc(sizeof(*s));
	struct ikev2_prop_out props[2];
	uint8_t buf[IKE_MSG_MAX], body[4 + CONFIG_ID_MAX], auth[CRYPTO_PRF_MAX_OUT];
	struct ike_id id;
	size_t blen, alen, len;
	struct ikev2_pending *p = &sa->pend;
	unsigned n;

	if (s == NULL)
		return;
	ike_id_from_config(&id, &cc->ike.local_id);
	id_body(&id, body, &blen);
	if (ikev2_psk_auth(sa, cc->psk, true, body, blen, auth, &alen) != 0)
		goto out;
	memset(p->ts_l, 0, sizeof(p->ts_l));
	p->conn = sa->conn;
	p->old_spi_in = 0;
	p->spi_in = e->ops.spi_alloc(e->ops.ctx, sa->conn);
	if (p->spi_in == 0) {
		ikev2_sa_fail(e, sa, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_INTERNAL,
		              "no inbound SPI left");
		goto out;
	}
	ikev2_conn_ts(cc, p->ts_l, &p->n_ts_l, p->ts_r, &p->n_ts_r);
	ikev2_sk_begin(sa, s, buf, sizeof(buf), IKEV2_EXCH_IKE_AUTH, false, sa->req_id);
	ikev2_wr_id(&s->in, IKEV2_PL_IDI, &id);
	ikev2_wr_auth(&s->in, auth, alen);
	if (alone_with_peer(e, sa))
		ikev2_wr_notify(&s->in, 0, NULL, 0, IKEV2_N_INITIAL_CONTACT, NULL, 0);
	n = ikev2_esp_props(cc, p->spi_in, false, props);
	ikev2_wr_sa(&s->in, props, n);
	ikev2_wr_ts(&s->in, IKEV2_PL_TSI, p->ts_l, p->n_ts_l);
	ikev2_wr_ts(&s->in, IKEV2_PL_TSR, p->ts_r, p->n_ts_r);
	len = ikev2_sk_end(sa, s);
	if (len == 0)
		goto out;
	sa->state = IKEV2_SA_AUTH_SENT;
	ikev2_send_request(e, sa, IKEV2_REQ_AUTH, buf, len);
out:
	crypto_wipe(auth, sizeof(auth));
	free(s);
}

/* ---- IKE_AUTH, both roles ---- */

static void established(struct ikev2 *e, struct ikev2_sa *sa)
{
	const struct config_connection *cc = ikev2_cc(e, sa->conn);
	uint64_t life = (uint64_t)cc->ike.lifetime;

	sa->state = IKEV2_SA_ESTABLISHED;
	sa->established_ms = e->now_ms;
	if (sa->counted_half_open) {
		sa->counted_half_open = false;
		if (e->st.half_open)
			e->st.half_open--;
	}
	e->st.ike_sas++;
	ikev2_status(e, sa->conn)->ike_sa_up++;
	sa->rekey_at_ms = life ? e->now_ms + life * 900 - ikev2_jitter_ms(e, life) : 0;
	sa->expire_at_ms = life ? e->now_ms + life * 1000 : 0;
	free(sa->msg_i);
	free(sa->msg_r);
	sa->msg_i = sa->msg_r = NULL;
	sa->msg_i_len = sa->msg_r_len = 0;
	ike_log(&e->ops, IKE_LOG_INFO, sa->conn, "IKE_SA established (%s)",
	        sa->initiator ? "initiator" : "responder");
}

/*
 * INITIAL_CONTACT: the peer restarted and has no other SA with us, so our
 * established IKE SAs with that peer are stale, whatever connection (2.4). SAs still being
 * negotiated stay: both sides may be initiating at once.
 */
static void initial_contact(struct ikev2 *e, struct ikev2_sa *sa)
{
	for (int c = (int)sa->conn; c >= 0; c = next_conn_of_peer(e, sa, c)) {
		struct ikev2_sa *o, *next;

		for (o = e->conns[c].sas; o; o = next) {
			next = o->conn_next;
			if (o != sa &&
			    (o->state == IKEV2_SA_ESTABLISHED || o->state == IKEV2_SA_REKEYED ||
			     o->state == IKEV2_SA_DELETING) &&
			    ike_endpoint_same_addr(&o->remote, &sa->remote))
				ikev2_sa_destroy(e, o, true);
		}
	}
}

/* The connection's current IKE SA: the newest established one. */
static void adopt(struct ikev2 *e, struct ikev2_sa *sa)
{
	struct ikev2_sa *cur = e->conns[sa->conn].sa;

	if (cur == NULL || cur == sa || cur->state != IKEV2_SA_ESTABLISHED)
		e->conns[sa->conn].sa = sa;
}

/* We send INITIAL_CONTACT only when we have no other SA with the peer (2.4). */
static bool alone_with_peer(const struct ikev2 *e, const struct ikev2_sa *sa)
{
	for (int c = (int)sa->conn; c >= 0; c = next_conn_of_peer(e, sa, c))
		for (const struct ikev2_sa *o = e->conns[c].sas; o; o = o->conn_next)
			if (o != sa && ike_endpoint_same_addr(&o->remote, &sa->remote))
				return false;
	return true;
}

/* Verifies the peer's ID and AUTH; 0, or -1 with the status set. */
static int check_peer(struct ikev2 *e, struct ikev2_sa *sa, const struct ikev2_msg *m,
                      bool peer_is_initiator, enum ike_cause *cause, char *ev, size_t ev_len)
{
	const struct config_connection *cc = ikev2_cc(e, sa->conn);
	const struct ikev2_bytes *body = peer_is_initiator ? &m->idi_body : &m->idr_body;
	struct ike_id got, want;
	uint8_t auth[CRYPTO_PRF_MAX_OUT];
	size_t alen;
	char g[128], w[128];
	bool ok;

	if (ike_id_parse(&got, body->p[0], body->p + 4, body->len - 4) != 0) {
		*cause = IKE_CAUSE_ID_MISMATCH;
		snprintf(ev, ev_len, "ID%s of unknown type %u", peer_is_initiator ? "i" : "r",
		         body->p[0]);
		return -1;
	}
	ike_id_from_config(&want, &cc->ike.remote_id);
	if (!ike_id_eq(&got, &want)) {
		*cause = IKE_CAUSE_ID_MISMATCH;
		snprintf(ev, ev_len, "ID%s %s does not match to remote_id %s",
		         peer_is_initiator ? "i" : "r", ike_id_str(&got, g, sizeof(g)),
		         ike_id_str(&want, w, sizeof(w)));
		return -1;
	}
	if (m->auth_method != IKEV2_AUTH_PSK) {
		*cause = IKE_CAUSE_PSK_MISMATCH;
		snprintf(ev, ev_len,
		         "the peer authenticates with method %u, we use a pre-shared key",
		         m->auth_method);
		return -1;
	}
	if (ikev2_psk_auth(sa, cc->psk, peer_is_initiator, body->p, body->len, auth, &alen) != 0) {
		*cause = IKE_CAUSE_INTERNAL;
		snprintf(ev, ev_len, "AUTH computation failed");
		return -1;
	}
	ok = alen == m->auth.len && crypto_ct_equal(auth, m->auth.p, alen);
	crypto_wipe(auth, sizeof(auth));
	if (!ok) {
		*cause = IKE_CAUSE_PSK_MISMATCH;
		snprintf(ev, ev_len,
		         "the peer's AUTH payload does not verify (pre-shared keys differ)");
		return -1;
	}
	return 0;
}

/* Picks the connection of the peer whose remote_id matches IDi (several per gateway). */
static void pick_conn_by_id(struct ikev2 *e, struct ikev2_sa *sa, const struct ikev2_msg *m)
{
	struct ike_id got, want;
	const struct ikev2_bytes *b = &m->idi_body;

	if (ike_id_parse(&got, b->p[0], b->p + 4, b->len - 4) != 0)
		return;
	ike_id_from_config(&want, &ikev2_cc(e, sa->conn)->ike.remote_id);
	if (ike_id_eq(&got, &want))
		return;
	for (int c = ike_conn_by_peer(e->cfg, &sa->remote, 0); c >= 0;
	     c = ike_conn_by_peer(e->cfg, &sa->remote, (uint32_t)c + 1)) {
		if (e->cfg->connections[c].ike.version != CONFIG_IKEV2)
			continue;
		ike_id_from_config(&want, &e->cfg->connections[c].ike.remote_id);
		if (ike_id_eq(&got, &want)) {
			ikev2_sa_set_conn(e, sa, (uint32_t)c);
			return;
		}
	}
}

/*
 * IKE_AUTH over an SA from an unknown address: if IDi is some connection's
 * remote_id, that connection learns that its peer talks from another
 * address (unknown_peer). Refused either way.
 */
static void unknown_peer_auth(struct ikev2 *e, struct ikev2_sa *sa, const struct ikev2_msg *m,
                              struct ikev2_sk_wr *s, uint8_t *buf)
{
	const struct ikev2_bytes *b = &m->idi_body;
	struct ike_id got, want;
	char a[64], g[128], w[64];
	size_t len;

	if (ike_id_parse(&got, b->p[0], b->p + 4, b->len - 4) == 0) {
		for (uint32_t c = 0; c < e->cfg->n_connections; c++) {
			const struct config_connection *cc = ikev2_cc(e, c);
			const struct config_customer_gateway *cg =
			        &e->cfg->customer_gateways[cc->customer_gateway];
			struct ike_endpoint cge;

			/* Unauthenticated: a tunnel that is up keeps its status. */
			if (cc->ike.version != CONFIG_IKEV2 || e->conns[c].admin_down ||
			    ikev2_conn_up(e, c))
				continue;
			ike_id_from_config(&want, &cc->ike.remote_id);
			if (!ike_id_eq(&got, &want))
				continue;
			ike_endpoint_from_config(&cge, &cg->address, 0);
			ike_endpoint_str(&cge, w, sizeof(w));
			/* The address alone: "198.51.100.7", "2001:db8::7". */
			if (strrchr(w, ':') != NULL)
				*strrchr(w, ':') = '\0';
			if (w[0] == '[' && strlen(w) > 2) {
				memmove(w, w + 1, strlen(w));
				w[strlen(w) - 1] = '\0';
			}
			ike_status_fail(ikev2_status(e, c), IKE_STATE_PHASE1_FAILED,
			                IKE_CAUSE_UNKNOWN_PEER, e->now_ms, NULL,
			                "IKE from %s with IDi %s, but the customer gateway is %s",
			                ike_endpoint_str(&sa->remote, a, sizeof(a)),
			                ike_id_str(&got, g, sizeof(g)), w);
			break;
		}
	}
	ikev2_wr_notify(&s->in, 0, NULL, 0, IKEV2_N_AUTHENTICATION_FAILED, NULL, 0);
	len = ikev2_sk_end(sa, s);
	if (len)
		ikev2_send_raw(e, &sa->local, &sa->remote, sa->natt, buf, len);
	ikev2_sa_destroy(e, sa, false);
}

/* The first CHILD_SA, as the responder settles it in IKE_AUTH. */
struct auth_child {
	struct ike_choice ch;
	bool esn;
	uint32_t peer_spi, spi_in;
	unsigned pi; /* the chosen proposal */
	struct ts l[IKE_TS_MAX], r[IKE_TS_MAX];
	unsigned nl, nr;
};

/*
 * The peer's first CHILD_SA of IKE_AUTH: into s the chosen proposal and
 * selectors (0), or the error notify (its type), with the status set.
 */
static uint16_t auth_first_child(struct ikev2 *e, struct ikev2_sa *sa, const struct ikev2_msg *m,
                                 struct ikev2_sa_payload *sap, struct ikev2_sk_wr *s,
                                 struct auth_child *k)
{
	const struct config_connection *cc = ikev2_cc(e, sa->conn);
	struct ikev2_prop_out chosen = { .proto = IKEV2_PROTO_ESP, .spi_len = 4 };
	char ev[IKE_EVIDENCE_MAX];
	enum ike_cause cause;
	uint16_t err = 0;

	if (!m->has_sa || ikev2_sa_parse(sap, m->sa.p, m->sa.len) != 0) {
		err = IKEV2_N_NO_PROPOSAL_CHOSEN;
		cause = IKE_CAUSE_PROPOSAL_MISMATCH;
		snprintf(ev, sizeof(ev), "IKE_AUTH without a usable SA payload");
	} else if (ikev2_esp_select(cc, sap, false, &k->ch, &k->esn, &k->peer_spi, &k->pi, &cause,
	                            ev, sizeof(ev)) != 0) {
		err = IKEV2_N_NO_PROPOSAL_CHOSEN;
	} else if (!ikev2_ts_narrow(cc, m, k->l, &k->nl, k->r, &k->nr)) {
		err = IKEV2_N_TS_UNACCEPTABLE;
		cause = IKE_CAUSE_TS_MISMATCH;
		snprintf(ev, sizeof(ev), "traffic selectors of the peer are unacceptable");
	} else if ((k->spi_in = e->ops.spi_alloc(e->ops.ctx, sa->conn)) == 0) {
		err = IKEV2_N_NO_ADDITIONAL_SAS;
		cause = IKE_CAUSE_INTERNAL;
		snprintf(ev, sizeof(ev), "no inbound SPI left");
	}
	if (err) {
		ikev2_wr_notify(&s->in, 0, NULL, 0, err, NULL, 0);
		ike_status_fail(ikev2_status(e, sa->conn), IKE_STATE_PHASE2_FAILED, cause,
		                e->now_ms, NULL, "%s", ev);
		ike_log(&e->ops, IKE_LOG_WARN, sa->conn, "CHILD_SA in IKE_AUTH: %s", ev);
		return err;
	}
	chosen.num = sap->p[k->pi].num;
	put_be32(chosen.spi, k->spi_in);
	chosen.encr[chosen.n_encr++] = k->ch.encr;
	if (k->ch.has_integ)
		chosen.integ[chosen.n_integ++] = k->ch.integ;
	chosen.esn[chosen.n_esn++] = k->esn;
	ikev2_wr_sa(&s->in, &chosen, 1);
	ikev2_wr_ts(&s->in, IKEV2_PL_TSI, k->r, k->nr);
	ikev2_wr_ts(&s->in, IKEV2_PL_TSR, k->l, k->nl);
	return 0;
}

/* The peer's ID or AUTH did not verify: AUTHENTICATION_FAILED, and the SA goes. */
static void auth_refuse(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_sk_wr *s, uint8_t *buf,
                        enum ike_cause cause, const char *ev)
{
	uint32_t conn = sa->conn;
	size_t len;

	ikev2_wr_notify(&s->in, 0, NULL, 0, IKEV2_N_AUTHENTICATION_FAILED, NULL, 0);
	len = ikev2_sk_end(sa, s);
	if (len)
		ikev2_send_raw(e, &sa->local, &sa->remote, sa->natt, buf, len);
	ike_status_fail(ikev2_status(e, conn), IKE_STATE_PHASE1_FAILED, cause, e->now_ms, NULL,
	                "%s", ev);
	ikev2_log_limited(e, &e->conns[conn].rl[IKEV2_RL_AUTH_FAILED], IKE_LOG_WARN, conn,
	                  "IKE_AUTH: %s", ev);
	ikev2_sa_destroy(e, sa, false);
}

void ikev2_auth_request(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_msg *m)
{
	const struct config_connection *cc;
	struct ikev2_sk_wr *s = NULL;
	struct ikev2_sa_payload *sap = NULL;
	struct auth_child *k = NULL;
	uint8_t buf[IKE_MSG_MAX], body[4 + CONFIG_ID_MAX], auth[CRYPTO_PRF_MAX_OUT];
	char ev[IKE_EVIDENCE_MAX];
	enum ike_cause cause;
	struct ike_id id;
	size_t blen, alen, len;
	uint16_t child_err;

	if (sa->state != IKEV2_SA_HALF_OPEN || sa->initiator) {
		e->st.malformed++;
		return;
	}
	if (!m->has_idi || !m->has_auth) {
		e->st.malformed++;
		return;
	}
	s = malloc(sizeof(*s));
	sap = malloc(sizeof(*sap));
	k = calloc(1, sizeof(*k));
	if (s == NULL || sap == NULL || k == NULL)
		goto out;
	ikev2_sk_begin(sa, s, buf, sizeof(buf), IKEV2_EXCH_IKE_AUTH, true, m->msg_id);
	if (sa->unknown_peer) {
		unknown_peer_auth(e, sa, m, s, buf);
		goto out;
	}
	pick_conn_by_id(e, sa, m);
	cc = ikev2_cc(e, sa->conn);
	if (check_peer(e, sa, m, true, &cause, ev, sizeof(ev)) != 0) {
		auth_refuse(e, sa, s, buf, cause, ev);
		goto out;
	}
	/* Our AUTH needs message 2, so before established() frees it. */
	ike_id_from_config(&id, &cc->ike.local_id);
	id_body(&id, body, &blen);
	if (ikev2_psk_auth(sa, cc->psk, false, body, blen, auth, &alen) != 0)
		goto out;
	established(e, sa);
	if (ikev2_msg_notify(m, IKEV2_N_INITIAL_CONTACT))
		initial_contact(e, sa);
	adopt(e, sa);
	ikev2_wr_id(&s->in, IKEV2_PL_IDR, &id);
	ikev2_wr_auth(&s->in, auth, alen);
	child_err = auth_first_child(e, sa, m, sap, s, k);
	len = ikev2_sk_end(sa, s);
	if (len == 0)
		goto out;
	ikev2_send_response(e, sa, buf, len);
	if (!child_err) {
		struct ikev2_child *nc;

		k->ch.has_dh = false;
		nc = ikev2_child_install(e, sa, sa->conn, &k->ch, k->esn, k->spi_in, k->peer_spi,
		                         NULL, 0, sa->ni, sa->ni_len, sa->nr, sa->nr_len, false,
		                         k->l, k->nl, k->r, k->nr, 0);
		if (nc)
			ikev2_child_note_partial(e, nc);
	}
out:
	crypto_wipe(auth, sizeof(auth));
	free(s);
	free(sap);
	free(k);
}

/* The initiator checks the responder's child: what it chose must be what we offered. */
static bool ts_within(const struct ts *got, unsigned n_got, const struct ts *offered,
                      unsigned n_off)
{
	if (n_got == 0)
		return false;
	for (unsigned i = 0; i < n_got; i++)
		if (!ts_covered(&got[i], offered, n_off))
			return false;
	return true;
}

int ikev2_child_from_response(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_msg *m,
                              const uint8_t *gir, size_t gir_len, const uint8_t *ni, size_t ni_len,
                              const uint8_t *nr, size_t nr_len)
{
	struct ikev2_pending *p = &sa->pend;
	const struct config_connection *cc = ikev2_cc(e, p->conn);
	const struct ikev2_notify *n = ikev2_msg_error(m);
	struct ikev2_sa_payload *sap;
	char ev[IKE_EVIDENCE_MAX];
	enum ike_cause cause = IKE_CAUSE_NONE;
	struct ike_choice ch;
	bool esn;
	uint32_t peer_spi;
	int rc = -1;

	if (n != NULL) {
		if (n->type == IKEV2_N_TS_UNACCEPTABLE) {
			cause = IKE_CAUSE_TS_MISMATCH;
			snprintf(ev, sizeof(ev), "the peer answered TS_UNACCEPTABLE");
		} else if (n->type == IKEV2_N_NO_PROPOSAL_CHOSEN) {
			char e1[64], e2[64];

			cause = IKE_CAUSE_PROPOSAL_MISMATCH;
			snprintf(ev, sizeof(ev),
			         "the peer answered NO_PROPOSAL_CHOSEN for the CHILD_SA; we offer "
			         "encryption %s, integrity %s, pfs %s",
			         ikev2_algs_str(&cc->ipsec.encryption, e1, sizeof(e1)),
			         ikev2_algs_str(&cc->ipsec.integrity, e2, sizeof(e2)),
			         cc->ipsec.pfs ? crypto_alg(cc->ipsec.pfs_group)->name
			                       : "disabled");
		} else if (n->type == IKEV2_N_INVALID_KE_PAYLOAD) {
			/* Only without PFS here (with it, create_child_response decides). */
			const struct crypto_alg *g =
			        n->data_len == 2
			                ? crypto_alg_by_ikev2(CRYPTO_DH, get_be16(n->data), 0)
			                : NULL;

			cause = IKE_CAUSE_PFS_MISMATCH;
			snprintf(ev, sizeof(ev),
			         "the peer answered INVALID_KE_PAYLOAD: it wants PFS group %s, we "
			         "allow "
			         "none (pfs disabled)",
			         g ? g->name : "unknown");
		} else {
			cause = IKE_CAUSE_PEER_REJECTED;
			snprintf(ev, sizeof(ev), "the peer answered %s (%u) for the CHILD_SA",
			         ikev2_notify_name(n->type), n->type);
		}
		goto fail;
	}
	sap = malloc(sizeof(*sap));
	if (sap == NULL)
		return -1;
	if (!m->has_sa || ikev2_sa_parse(sap, m->sa.p, m->sa.len) != 0 || sap->n != 1 ||
	    ikev2_esp_select(cc, sap, gir != NULL, &ch, &esn, &peer_spi, NULL, &cause, ev,
	                     sizeof(ev)) != 0) {
		free(sap);
		if (cause == IKE_CAUSE_NONE || cause == IKE_CAUSE_PROPOSAL_MISMATCH) {
			cause = IKE_CAUSE_PROPOSAL_MISMATCH;
			snprintf(ev, sizeof(ev), "the peer chose an ESP proposal we did not offer");
		}
		goto fail;
	}
	free(sap);
	if (cc->ipsec.pfs && gir != NULL && !ch.has_dh) {
		cause = IKE_CAUSE_PFS_MISMATCH;
		snprintf(ev, sizeof(ev), "the peer answered without PFS, we want %s",
		         crypto_alg(cc->ipsec.pfs_group)->name);
		goto fail;
	}
	if (!ts_within(m->tsi, m->n_tsi, p->ts_l, p->n_ts_l) ||
	    !ts_within(m->tsr, m->n_tsr, p->ts_r, p->n_ts_r)) {
		cause = IKE_CAUSE_TS_MISMATCH;
		snprintf(ev, sizeof(ev), "the peer answered with selectors we did not offer");
		goto fail;
	}
	if (ikev2_child_install(e, sa, p->conn, &ch, esn, p->spi_in, peer_spi, gir, gir_len, ni,
	                        ni_len, nr, nr_len, true, m->tsi, m->n_tsi, m->tsr, m->n_tsr,
	                        0) == NULL)
		return -1;
	p->spi_in = 0;
	rc = 0;
	return rc;
fail:
	ike_status_fail(ikev2_status(e, p->conn), IKE_STATE_PHASE2_FAILED, cause, e->now_ms, NULL,
	                "%s", ev);
	ike_log(&e->ops, IKE_LOG_WARN, p->conn, "CHILD_SA failed: %s", ev);
	return rc;
}

/*
 * We refuse the responder's ID or AUTH, but it sent its IKE_AUTH answer:
 * for it the IKE SA and the first child are up. It is told under the new
 * SA's keys in an INFORMATIONAL of its own (2.21.2: an error the initiator
 * finds in IKE_AUTH): AUTHENTICATION_FAILED, what strongSwan sends and
 * takes as the end of the IKE SA, with a Delete of the IKE SA that any peer
 * acts on. The SA is no longer the connection's; it stays, DELETING, until
 * that is answered or its retransmits run out.
 */
static void auth_refuse_responder(struct ikev2 *e, struct ikev2_sa *sa, enum ike_cause cause,
                                  const char *ev)
{
	uint32_t conn = sa->conn;
	bool current = e->conns[conn].sa == sa;
	struct ikev2_sk_wr *s = malloc(sizeof(*s));
	uint8_t buf[512];
	size_t len = 0;

	ike_status_fail(ikev2_status(e, conn), IKE_STATE_PHASE1_FAILED, cause, e->now_ms, NULL,
	                "%s", ev);
	ike_log(&e->ops, IKE_LOG_WARN, conn, "%s: %s; telling the peer (AUTHENTICATION_FAILED)",
	        ike_cause_code(cause), ev);
	if (s != NULL) {
		ikev2_sk_begin(sa, s, buf, sizeof(buf), IKEV2_EXCH_INFORMATIONAL, false,
		               sa->req_id);
		ikev2_wr_notify(&s->in, 0, NULL, 0, IKEV2_N_AUTHENTICATION_FAILED, NULL, 0);
		ikev2_wr_delete(&s->in, IKEV2_PROTO_IKE, NULL, 0);
		len = ikev2_sk_end(sa, s);
		free(s);
	}
	if (len == 0) {
		ikev2_sa_destroy(e, sa, true);
	} else {
		sa->state = IKEV2_SA_DELETING;
		if (current)
			e->conns[conn].sa = NULL;
		ikev2_send_request(e, sa, IKEV2_REQ_DELETE_IKE, buf, len);
	}
	if (current)
		ikev2_conn_failed(e, conn, true);
}

void ikev2_auth_response(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_msg *m)
{
	const struct ikev2_notify *n;
	char ev[IKE_EVIDENCE_MAX];
	enum ike_cause cause;

	if (sa->state != IKEV2_SA_AUTH_SENT || !sa->initiator) {
		e->st.malformed++;
		return;
	}
	n = ikev2_msg_error(m);
	if (n && (n->type == IKEV2_N_AUTHENTICATION_FAILED || !m->has_auth)) {
		if (n->type == IKEV2_N_AUTHENTICATION_FAILED) {
			cause = IKE_CAUSE_PSK_MISMATCH;
			snprintf(
			        ev, sizeof(ev),
			        "the peer answered IKE_AUTH with AUTHENTICATION_FAILED (pre-shared "
			        "key or our ID rejected)");
		} else {
			cause = IKE_CAUSE_PEER_REJECTED;
			snprintf(ev, sizeof(ev), "the peer answered IKE_AUTH with %s (%u)",
			         ikev2_notify_name(n->type), n->type);
		}
		ikev2_request_done(sa);
		ikev2_sa_fail(e, sa, IKE_STATE_PHASE1_FAILED, cause, ev);
		return;
	}
	if (!m->has_idr || !m->has_auth) {
		e->st.malformed++;
		return;
	}
	if (check_peer(e, sa, m, false, &cause, ev, sizeof(ev)) != 0) {
		ikev2_request_done(sa);
		auth_refuse_responder(e, sa, cause, ev);
		return;
	}
	ikev2_request_done(sa);
	established(e, sa);
	adopt(e, sa);
	ike_status_set(ikev2_status(e, sa->conn), IKE_STATE_PHASE2_NEGOTIATING, e->now_ms);
	ikev2_child_from_response(e, sa, m, NULL, 0, sa->ni, sa->ni_len, sa->nr, sa->nr_len);
}
