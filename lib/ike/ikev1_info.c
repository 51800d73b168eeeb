/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Informational exchanges (RFC 2408 4.8, RFC 2409 5.7): notifies and
 * deletes, encrypted under the ISAKMP SA with HASH(1) once it has keys,
 * in the clear before; DPD R-U-THERE / R-U-THERE-ACK (RFC 3706); NAT
 * keepalives (RFC 3948 2.3). Also the protection helpers quick mode uses:
 * the HASH payload slot, sealing and opening with a message-id IV.
 */
#include "ikev1_int.h"

#include <stdio.h>
#include <string.h>

#include "crypto_mem.h"
#include "crypto_rand.h"

size_t v1_hash_a(const struct v1_sa *sa, bool zero, uint32_t msgid, const uint8_t *ni,
                 size_t ni_len, const uint8_t *nr, size_t nr_len, const uint8_t *rest,
                 size_t rest_len, uint8_t *out)
{
	const struct crypto_ikev1_keys *k = &sa->keys->k;
	uint8_t z = 0, mid[4];

	put_be32(mid, msgid);
	const struct crypto_iov in[] = {
		{ &z, zero ? 1 : 0 }, { mid, 4 }, { ni, ni_len }, { nr, nr_len }, { rest, rest_len }
	};
	if (k->len == 0 || crypto_prf_v(sa->prf, k->skeyid_a, k->len, in, ARRAY_SIZE(in), out) != 0)
		return 0;
	return k->len;
}

size_t v1_wr_hash_slot(const struct v1_sa *sa, struct v1_wr *w)
{
	static const uint8_t zero[CRYPTO_PRF_MAX_OUT];
	size_t at = v1_wr_begin(w, V1_PL_HASH);

	v1_wr_bytes(w, zero, sa->keys->k.len);
	v1_wr_end(w, at);
	return at;
}

size_t v1_wr_encrypt(const struct v1_sa *sa, struct v1_wr *w, uint8_t *iv)
{
	size_t len = v1_wr_finish(w), clen;

	if (len == 0 || v1_encrypt(&sa->keys->sym, iv, w->buf + V1_HDR_LEN, len - V1_HDR_LEN,
	                           w->cap - V1_HDR_LEN, &clen) != 0)
		return 0;
	len = V1_HDR_LEN + clen;
	w->buf[V1_HDR_FLAGS_AT] |= V1_FLAG_E;
	put_be32(w->buf + V1_HDR_LEN_AT, (uint32_t)len);
	return len;
}

size_t v1_seal(struct v1_sa *sa, struct v1_wr *w, size_t hash_at, uint32_t msgid, const uint8_t *ni,
               size_t ni_len, uint8_t *iv)
{
	size_t len = v1_wr_finish(w), hl = sa->keys->k.len;

	if (len == 0)
		return 0;
	const uint8_t *rest = w->buf + hash_at + V1_GEN_LEN + hl;
	if (v1_hash_a(sa, false, msgid, ni, ni_len, NULL, 0, rest, (size_t)(w->buf + len - rest),
	              w->buf + hash_at + V1_GEN_LEN) != hl)
		return 0;
	return v1_wr_encrypt(sa, w, iv);
}

int v1_open(struct ikev1 *e, struct v1_sa *sa, const struct v1_hdr *h, const uint8_t *msg,
            size_t len, const uint8_t *iv, uint8_t *next_iv, struct v1_msg *m)
{
	size_t clen = len - V1_HDR_LEN;

	if (!v1_keyed(sa) || !(h->flags & V1_FLAG_E) || clen > sizeof(e->plain) ||
	    v1_decrypt(&sa->keys->sym, iv, msg + V1_HDR_LEN, e->plain, clen, next_iv) != 0)
		return -1;
	if (v1_msg_parse(h->np, e->plain, clen, m) != 0 || m->first != V1_PL_HASH ||
	    m->hash.len != sa->keys->k.len)
		return -1;
	return 0;
}

static uint32_t new_msgid(void)
{
	uint32_t id;

	do {
		crypto_random(&id, sizeof(id));
	} while (id == 0);
	return id;
}

/* Sends an informational whose body after HASH is written by the caller into w. */
static void info_send(struct ikev1 *e, struct v1_sa *sa, struct v1_wr *w, size_t hash_at,
                      uint32_t msgid)
{
	size_t len;

	if (hash_at != 0) {
		uint8_t iv[V1_BLOCK_MAX];

		if (v1_iv_msgid(sa->prf, sa->keys->iv, crypto_alg(sa->encr)->block_len, msgid,
		                iv) != 0)
			return;
		len = v1_seal(sa, w, hash_at, msgid, NULL, 0, iv);
	} else {
		len = v1_wr_finish(w);
	}
	if (len != 0)
		v1_send_raw(e, sa, w->buf, len);
}

static size_t info_start(struct ikev1 *e, struct v1_sa *sa, struct v1_wr *w, uint32_t *msgid)
{
	bool keyed = v1_keyed(sa);

	*msgid = keyed ? new_msgid() : 0;
	v1_wr_init(w, e->buf, IKE_MSG_MAX);
	v1_wr_hdr(w, sa->cky_i, sa->cky_r, V1_EXCH_INFO, 0, *msgid);
	return keyed ? v1_wr_hash_slot(sa, w) : 0;
}

void v1_info_notify(struct ikev1 *e, struct v1_sa *sa, uint8_t proto, const uint8_t *spi,
                    size_t spi_len, uint16_t type, const uint8_t *data, size_t data_len)
{
	struct v1_wr w;
	uint32_t msgid;
	size_t hash_at = info_start(e, sa, &w, &msgid);

	v1_wr_notify(&w, proto, spi, spi_len, type, data, data_len);
	info_send(e, sa, &w, hash_at, msgid);
}

void v1_info_delete(struct ikev1 *e, struct v1_sa *sa, uint8_t proto, const uint8_t *spi,
                    size_t spi_len)
{
	struct v1_wr w;
	uint32_t msgid;
	uint8_t cookies[16];

	if (!v1_keyed(sa) || sa->st != P1_ESTABLISHED)
		return; /* deletes are only sent protected */
	if (proto == V1_PROTO_ISAKMP) {
		v1_cookies(sa, cookies);
		spi = cookies;
		spi_len = 16;
	}
	size_t hash_at = info_start(e, sa, &w, &msgid);
	size_t s = v1_wr_begin(&w, V1_PL_D);
	v1_wr_be32(&w, V1_DOI_IPSEC);
	v1_wr_u8(&w, proto);
	v1_wr_u8(&w, (uint8_t)spi_len);
	v1_wr_be16(&w, 1);
	v1_wr_bytes(&w, spi, spi_len);
	v1_wr_end(&w, s);
	info_send(e, sa, &w, hash_at, msgid);
}

/* ---- receiving --------------------------------------------------------------------- */

static void p1_fail_remedy(struct ikev1 *e, struct v1_sa *sa, enum ike_cause cause,
                           const char *remedy, const char *what)
{
	ike_log(&e->ops, IKE_LOG_ERR, sa->conn, "phase 1 failed: %s", what);
	if (v1_may_fail_status(e, sa))
		ike_status_fail(&e->status[sa->conn], IKE_STATE_PHASE1_FAILED, cause, e->now,
		                remedy, "%s", what);
	v1_sa_kill(e, sa);
	v1_conn_restart_later(e, sa->conn);
}

static void p1_fail_from_notify(struct ikev1 *e, struct v1_sa *sa, enum ike_cause cause,
                                const char *what)
{
	p1_fail_remedy(e, sa, cause, NULL, what);
}

/*
 * AUTHENTICATION_FAILED names no reason. Before the peer has seen any
 * proof of ours (our first message) or after it verified our HASH_I
 * under the same keys (after MM5: the PSK matches), what is left is
 * policy: it has no connection for our ID, or refuses this mode. We
 * cannot tell which, so the cause is the peer's refusal, and the
 * evidence and remedy name both candidates.
 */
static void p1_auth_failed(struct ikev1 *e, struct v1_sa *sa, const char *where)
{
	char what[2 * IKE_EVIDENCE_MAX], remedy[2 * IKE_REMEDY_MAX], id[128];
	struct ike_id ours;
	const char *mode = sa->aggressive ? "aggressive" : "main";

	ike_id_from_config(&ours, &e->conns[sa->conn].cfg->ike.local_id);
	ike_id_str(&ours, id, sizeof(id));
	snprintf(what, sizeof(what),
	         "peer sent AUTHENTICATION_FAILED to our %s: it accepts neither our ID %s nor %s "
	         "mode from us (its log says which)",
	         where, id, mode);
	snprintf(remedy, sizeof(remedy),
	         "on the peer, set its remote ID to our local_id %s and allow %s mode with a "
	         "pre-shared key (or set the same mode on both sides)",
	         id, mode);
	p1_fail_remedy(e, sa, IKE_CAUSE_PEER_REJECTED, remedy, what);
}

/* Quick modes we initiated and the peer refused: fail them with cause. */
static void qm_fail_pending(struct ikev1 *e, struct v1_sa *sa, enum ike_cause cause,
                            const char *what)
{
	struct v1_conn *c = v1_conn(e, sa->conn);

	for (unsigned i = 0; i < V1_QM_MAX; i++) {
		struct v1_qm *q = sa->qm[i];

		if (q == NULL || !q->used || !q->initiator || q->child != NULL)
			continue;
		if (q->rekey_of != 0 && c != NULL)
			for (unsigned k = 0; k < c->n_ch; k++)
				if (c->ch[k].spi_in == q->rekey_of)
					c->ch[k].rekeying = false;
		v1_qm_free(q);
	}
	ike_log(&e->ops, IKE_LOG_ERR, sa->conn, "quick mode failed: %s", what);
	ike_status_fail(&e->status[sa->conn], IKE_STATE_PHASE2_FAILED, cause, e->now, NULL, "%s",
	                what);
	if (c != NULL)
		c->qm_retry_at = e->now + e->tun.restart_delay_ms;
}

/* Unprotected notifies: only believed as the answer to our first message. */
static void plain_notify(struct ikev1 *e, struct v1_sa *sa, const struct v1_notify *n)
{
	char what[160];

	if (!sa->initiator || (sa->st != P1_I_MM1 && sa->st != P1_I_AM1))
		return;
	const char *mode = sa->aggressive ? "aggressive" : "main";
	switch (n->type) {
	case V1_N_NO_PROPOSAL_CHOSEN:
		snprintf(what, sizeof(what), "peer sent NO_PROPOSAL_CHOSEN to our %s mode proposal",
		         mode);
		p1_fail_from_notify(e, sa, IKE_CAUSE_PROPOSAL_MISMATCH, what);
		break;
	case 7: /* INVALID-EXCHANGE-TYPE: it does not do this mode */
		snprintf(what, sizeof(what), "peer refused %s mode (INVALID_EXCHANGE_TYPE)", mode);
		p1_fail_from_notify(e, sa, IKE_CAUSE_MODE_MISMATCH, what);
		break;
	case V1_N_AUTHENTICATION_FAILED:
		p1_auth_failed(e, sa, sa->aggressive ? "aggressive mode AM1" : "main mode MM1");
		break;
	case V1_N_INVALID_KEY_INFORMATION:
		p1_fail_from_notify(e, sa, IKE_CAUSE_DH_GROUP_MISMATCH,
		                    "peer sent INVALID_KEY_INFORMATION to our KE");
		break;
	case V1_N_INVALID_ID_INFORMATION:
		p1_fail_from_notify(e, sa, IKE_CAUSE_ID_MISMATCH,
		                    "peer sent INVALID_ID_INFORMATION: it does not accept our ID");
		break;
	default:
		break;
	}
}

static void protected_notify(struct ikev1 *e, struct v1_sa *sa, const struct v1_notify *n)
{
	bool p1 = sa->st != P1_ESTABLISHED;

	switch (n->type) {
	case V1_N_DPD_R_U_THERE:
		if (n->data_len == 4 && sa->st == P1_ESTABLISHED) {
			uint8_t cookies[16];

			v1_cookies(sa, cookies);
			v1_info_notify(e, sa, V1_PROTO_ISAKMP, cookies, 16, V1_N_DPD_R_U_THERE_ACK,
			               n->data, 4);
		}
		break;
	case V1_N_DPD_R_U_THERE_ACK:
		if (n->data_len == 4 && sa->dpd_wait && get_be32(n->data) == sa->dpd_seq) {
			sa->dpd_wait = false;
			sa->dpd_tries = 0;
			sa->dpd_at = e->now + e->tun.dpd_idle_ms;
		}
		break;
	case V1_N_INITIAL_CONTACT:
		v1_initial_contact(e, sa);
		break;
	case V1_N_NO_PROPOSAL_CHOSEN:
		if (p1)
			p1_fail_from_notify(e, sa, IKE_CAUSE_PROPOSAL_MISMATCH,
			                    "peer sent NO_PROPOSAL_CHOSEN");
		else
			qm_fail_pending(e, sa, IKE_CAUSE_PROPOSAL_MISMATCH,
			                "peer sent NO_PROPOSAL_CHOSEN to our quick mode "
			                "(ESP algorithms or PFS differ)");
		break;
	case V1_N_INVALID_ID_INFORMATION:
		if (p1)
			p1_fail_from_notify(e, sa, IKE_CAUSE_ID_MISMATCH,
			                    "peer sent INVALID_ID_INFORMATION: it does not accept "
			                    "our ID");
		else
			qm_fail_pending(e, sa, IKE_CAUSE_TS_MISMATCH,
			                "peer sent INVALID_ID_INFORMATION to our quick mode "
			                "(subnets differ)");
		break;
	case V1_N_AUTHENTICATION_FAILED:
		/* Protected by keys from the same PSK: the key is right (p1_auth_failed). */
		if (p1 && sa->st == P1_I_MM5) {
			p1_auth_failed(e, sa, "MM5 (under the shared keys, so the PSK matches)");
			break;
		}
		/* fall through */
	case V1_N_PAYLOAD_MALFORMED:
	case V1_N_INVALID_HASH_INFORMATION:
		if (p1)
			p1_fail_from_notify(e, sa, IKE_CAUSE_PEER_REJECTED,
			                    n->type == V1_N_AUTHENTICATION_FAILED
			                            ? "peer sent AUTHENTICATION_FAILED"
			                            : "peer sent an error notify");
		break;
	default:
		break;
	}
}

static void delete_children(struct ikev1 *e, struct v1_sa *sa, const struct v1_delete *d)
{
	struct v1_conn *c = v1_conn(e, sa->conn);
	bool removed = false;

	if (c == NULL || d->spi_len != 4)
		return;
	for (unsigned s = 0; s < d->n_spi; s++) {
		uint32_t spi = get_be32(d->spis + (size_t)s * 4);

		for (unsigned i = 0; i < c->n_ch; i++) {
			if (c->ch[i].spi_out != spi)
				continue;
			unsigned before = c->n_ch;
			v1_child_peer_deleted(e, sa->conn, i);
			removed |= c->n_ch < before;
			break;
		}
	}
	if (removed)
		v1_conn_children_gone(e, sa->conn, sa->initiator);
}

static void delete_isakmp(struct ikev1 *e, struct v1_sa *sa, const struct v1_delete *d)
{
	struct v1_conn *c = v1_conn(e, sa->conn);

	if (d->spi_len != 16 || d->n_spi < 1)
		return;
	/* The SA it came under, or another of the same connection (found by cookie). */
	struct v1_sa *o = v1_sa_find(e, d->spis, d->spis + 8);
	if (o != NULL && o->conn == sa->conn) {
		ike_log(&e->ops, IKE_LOG_INFO, sa->conn, "peer deleted ISAKMP SA");
		v1_sa_kill(e, o);
	}
	if (c == NULL || c->sa != NULL || c->neg != NULL)
		return;
	/* Children outlive their ISAKMP SA; a new one is made for DPD and rekeying. */
	if (v1_conn_needs_ike(c))
		v1_conn_keep_phase1(e, sa->conn);
	else
		ike_status_set(&e->status[sa->conn], IKE_STATE_DOWN,
		               e->now); /* the peer closed it */
}

void v1_info_input(struct ikev1 *e, struct v1_sa *sa, const struct v1_hdr *h, const uint8_t *msg,
                   size_t len)
{
	struct v1_msg m;

	if (!(h->flags & V1_FLAG_E)) {
		if (v1_msg_parse(h->np, msg + V1_HDR_LEN, len - V1_HDR_LEN, &m) != 0) {
			e->st.malformed++;
			return;
		}
		for (unsigned i = 0; i < m.n_n && !sa->dead; i++) {
			struct v1_notify n;

			if (v1_notify_parse(&m.n[i], &n) == 0)
				plain_notify(e, sa, &n);
		}
		return;
	}

	uint8_t iv[V1_BLOCK_MAX], next[V1_BLOCK_MAX], hb[CRYPTO_PRF_MAX_OUT];
	bool ok = v1_keyed(sa) &&
	          v1_iv_msgid(sa->prf, sa->keys->iv, crypto_alg(sa->encr)->block_len, h->msgid,
	                      iv) == 0 &&
	          v1_open(e, sa, h, msg, len, iv, next, &m) == 0;
	if (ok) {
		size_t hl = v1_hash_a(sa, false, h->msgid, NULL, 0, NULL, 0, m.after_hash,
		                      (size_t)(m.end - m.after_hash), hb);
		ok = hl != 0 && hl == m.hash.len && crypto_ct_equal(hb, m.hash.p, hl);
	}
	if (!ok) {
		e->st.decrypt_failed++;
		/* strongSwan answers a PSK mismatch under its own keys (INTEROP.md). */
		if (sa->st == P1_I_MM5) {
			ike_log(&e->ops, IKE_LOG_ERR, sa->conn,
			        "invalid HASH_V1 payload length, decryption failed?");
			p1_fail_from_notify(e, sa, IKE_CAUSE_PSK_MISMATCH,
			                    "invalid HASH_V1 payload length, decryption failed?");
		}
		return;
	}
	v1_sa_follow(e, sa);
	for (unsigned i = 0; i < m.n_n && !sa->dead; i++) {
		struct v1_notify n;

		if (v1_notify_parse(&m.n[i], &n) == 0)
			protected_notify(e, sa, &n);
	}
	for (unsigned i = 0; i < m.n_d && !sa->dead; i++) {
		struct v1_delete d;

		if (v1_delete_parse(&m.d[i], &d) != 0)
			continue;
		if (d.proto == V1_PROTO_ESP)
			delete_children(e, sa, &d);
		else if (d.proto == V1_PROTO_ISAKMP)
			delete_isakmp(e, sa, &d);
	}
}

/* ---- liveness ------------------------------------------------------------------------ */

static void peer_dead(struct ikev1 *e, struct v1_sa *sa)
{
	uint32_t conn = sa->conn;

	e->st.dead_peers++;
	ike_log(&e->ops, IKE_LOG_WARN, conn,
	        "DPD: peer did not answer %u R-U-THERE, declaring it dead", sa->dpd_tries + 1);
	v1_children_delete_all(e, conn, false);
	for (struct v1_sa *o = e->all; o != NULL; o = o->anext)
		if (!o->dead && o->conn == conn)
			v1_sa_kill(e, o);
	ike_status_fail(&e->status[conn], IKE_STATE_DOWN, IKE_CAUSE_PEER_NOT_RESPONDING, e->now,
	                NULL, "DPD: no R-U-THERE-ACK after %u tries", sa->dpd_tries + 1);
	v1_conn_restart_later(e, conn);
}

static void send_dpd(struct ikev1 *e, struct v1_sa *sa)
{
	uint8_t cookies[16], seq[4];

	v1_cookies(sa, cookies);
	put_be32(seq, sa->dpd_seq);
	e->st.dpd_sent++;
	v1_info_notify(e, sa, V1_PROTO_ISAKMP, cookies, 16, V1_N_DPD_R_U_THERE, seq, 4);
}

void v1_dpd_tick(struct ikev1 *e, struct v1_sa *sa)
{
	struct v1_conn *c = v1_conn(e, sa->conn);

	if (sa->st != P1_ESTABLISHED || c == NULL)
		return;
	if (sa->nat_local && sa->keepalive_at != 0 && e->now >= sa->keepalive_at) {
		static const uint8_t ka = 0xff; /* RFC 3948 2.3 */

		e->ops.send(e->ops.ctx, &sa->local, &sa->remote, &ka, 1);
		sa->keepalive_at = e->now + e->tun.keepalive_ms;
	}
	if (!c->cfg->dpd || !sa->peer_dpd || c->sa != sa)
		return;
	if (sa->dpd_wait) {
		if (e->now < sa->dpd_at)
			return;
		if (sa->dpd_tries >= v1_rtx_tries(e)) {
			peer_dead(e, sa);
			return;
		}
		sa->dpd_tries++;
		send_dpd(e, sa);
		sa->dpd_at = e->now + v1_rtx_timeout(e, sa->dpd_tries);
		return;
	}
	if (e->now - sa->last_rx_ms >= e->tun.dpd_idle_ms && e->now >= sa->dpd_at) {
		if (sa->dpd_seq == 0)
			crypto_random(&sa->dpd_seq, sizeof(sa->dpd_seq));
		sa->dpd_seq++;
		sa->dpd_wait = true;
		sa->dpd_tries = 0;
		send_dpd(e, sa);
		sa->dpd_at = e->now + v1_rtx_timeout(e, 0);
	}
}
