/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Phase 1 with pre-shared keys (RFC 2409 5.4): Main Mode (6 messages) and
 * Aggressive Mode (3 messages), initiator and responder; the ISAKMP SA
 * proposal from the config lists and the responder's choice with a named
 * cause when nothing fits; SKEYID and the phase 1 cipher; HASH_I/HASH_R;
 * the peer's ID against remote_id; DPD and NAT-T vendor IDs; NAT-D
 * (RFC 3947) and floating to 4500; INITIAL-CONTACT.
 */
#include "ikev1_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_mem.h"
#include "crypto_rand.h"

enum {
	V1_HASH_MAX = CRYPTO_PRF_MAX_OUT,
};

/* ---- payload helpers ------------------------------------------------------------------ */

static void wr_vids(struct ikev1 *e, struct v1_sa *sa, struct v1_wr *w, bool responder)
{
	const struct config_connection *cc = e->conns[sa->conn].cfg;

	if (cc->nat_traversal) {
		/* As responder, echo the flavour the initiator speaks. */
		if ((!responder || sa->peer_natt) && !e->tun.natt_draft_only)
			v1_wr_payload(w, V1_PL_VID, e->vid_rfc3947, V1_VID_LEN);
		if (!responder || (!sa->peer_natt && sa->peer_natt_draft)) {
			v1_wr_payload(w, V1_PL_VID, e->vid_draft03, V1_VID_LEN);
			v1_wr_payload(w, V1_PL_VID, e->vid_draft02, V1_VID_LEN);
		}
	}
	if (cc->dpd)
		v1_wr_payload(w, V1_PL_VID, e->vid_dpd, V1_VID_LEN);
}

static void read_vids(struct ikev1 *e, struct v1_sa *sa, const struct v1_msg *m)
{
	const struct config_connection *cc = e->conns[sa->conn].cfg;

	for (unsigned i = 0; i < m->n_vid; i++) {
		const struct v1_pl *v = &m->vid[i];

		if (v->len != V1_VID_LEN)
			continue;
		if (memcmp(v->p, e->vid_rfc3947, V1_VID_LEN) == 0)
			sa->peer_natt = cc->nat_traversal;
		else if (memcmp(v->p, e->vid_draft02, V1_VID_LEN) == 0 ||
		         memcmp(v->p, e->vid_draft03, V1_VID_LEN) == 0)
			sa->peer_natt_draft = cc->nat_traversal;
		else if (memcmp(v->p, e->vid_dpd, V1_VID_LEN) == 0)
			sa->peer_dpd = true;
	}
}

static bool natt(const struct v1_sa *sa)
{
	return sa->peer_natt || sa->peer_natt_draft;
}

/* NAT-D (RFC 3947 3.2): first the hash of the destination, then of the source. */
static void wr_natd(struct v1_sa *sa, struct v1_wr *w)
{
	uint8_t spis[16], h[V1_HASH_MAX];
	uint8_t type = sa->peer_natt ? V1_PL_NATD : V1_PL_NATD_DRAFT;
	size_t n;

	if (!natt(sa))
		return;
	v1_cookies(sa, spis);
	n = ike_natd_hash(sa->prf, spis, &sa->remote, h);
	v1_wr_payload(w, type, h, n);
	n = ike_natd_hash(sa->prf, spis, &sa->local, h);
	v1_wr_payload(w, type, h, n);
}

static bool natd_is(const struct v1_sa *sa, const uint8_t spis[16], const struct v1_pl *pl,
                    const struct ike_endpoint *e)
{
	uint8_t h[V1_HASH_MAX];
	size_t n = ike_natd_hash(sa->prf, spis, e, h);

	return n != 0 && pl->len == n && memcmp(pl->p, h, n) == 0;
}

/*
 * NAT-D of the peer against the endpoints the message came on (sa's),
 * or against alt_local/alt_remote when not NULL: the endpoints before the
 * peer floated, which some peers hash in aggressive mode's AM3.
 */
static void check_natd(struct ikev1 *e, struct v1_sa *sa, const struct v1_msg *m,
                       const struct ike_endpoint *alt_local, const struct ike_endpoint *alt_remote)
{
	uint8_t spis[16];

	if (!natt(sa) || m->n_natd < 2)
		return;
	v1_cookies(sa, spis);
	/* The peer's first hash is of us as it sees us. */
	sa->nat_local = !natd_is(sa, spis, &m->natd[0], &sa->local) &&
	                (alt_local == NULL || !natd_is(sa, spis, &m->natd[0], alt_local));
	sa->nat_remote = true;
	for (unsigned i = 1; i < m->n_natd; i++)
		if (natd_is(sa, spis, &m->natd[i], &sa->remote) ||
		    (alt_remote != NULL && natd_is(sa, spis, &m->natd[i], alt_remote)))
			sa->nat_remote = false;
	if (sa->nat_local || sa->nat_remote)
		ike_log(&e->ops, IKE_LOG_INFO, sa->conn, "NAT detected:%s%s",
		        sa->nat_local ? " we are behind a NAT" : "",
		        sa->nat_remote ? " the peer is behind a NAT (or fakes it)" : "");
}

/* Initiator after NAT-D: move to 4500 when a NAT is on the path (RFC 3947 4). */
static void maybe_float(struct v1_sa *sa)
{
	if (natt(sa) && (sa->nat_local || sa->nat_remote) && sa->local.port != IKE_NATT_PORT) {
		sa->local.port = IKE_NATT_PORT;
		sa->remote.port = IKE_NATT_PORT;
	}
}

static void wr_id(struct ikev1 *e, struct v1_sa *sa, struct v1_wr *w)
{
	struct ike_id id;

	ike_id_from_config(&id, &e->conns[sa->conn].cfg->ike.local_id);
	sa->id_b[0] = id.type;
	sa->id_b[1] = 0;
	sa->id_b[2] = 0;
	sa->id_b[3] = 0;
	memcpy(sa->id_b + 4, id.data, id.len);
	sa->id_len = 4u + id.len;
	v1_wr_payload(w, V1_PL_ID, sa->id_b, sa->id_len);
}

static int new_ke(struct v1_sa *sa, uint8_t *pub)
{
	int n;

	crypto_dh_free(sa->dh);
	sa->dh = crypto_dh_new(sa->group);
	if (sa->dh == NULL)
		return -1;
	n = crypto_dh_public(sa->dh, pub, CRYPTO_DH_MAX_PUBLIC);
	if (n <= 0)
		return -1;
	sa->gx_len = (uint16_t)n;
	return 0;
}

static bool take_nonce(const struct v1_pl *pl, uint8_t *out, uint16_t *len)
{
	if (pl->p == NULL || pl->len < V1_NONCE_MIN || pl->len > V1_NONCE_MAX)
		return false;
	memcpy(out, pl->p, pl->len);
	*len = (uint16_t)pl->len;
	return true;
}

static bool take_ke(const struct v1_sa *sa, const struct v1_pl *pl, uint8_t *out)
{
	if (pl->p == NULL || pl->len != crypto_alg(sa->group)->out_len)
		return false;
	memcpy(out, pl->p, pl->len);
	return true;
}

/* SKEYID, SKEYID_d/a/e, the phase 1 cipher key and IV. */
static int derive(struct ikev1 *e, struct v1_sa *sa)
{
	const struct config_psk *psk = e->conns[sa->conn].cfg->psk;
	const struct crypto_alg *en = crypto_alg(sa->encr);
	uint8_t gxy[CRYPTO_DH_MAX_SECRET], key[CONFIG_KEY_MAX];
	const uint8_t *peer = sa->initiator ? sa->gxr : sa->gxi;
	int n, rc = -1;

	if (psk == NULL)
		return -1;
	if (sa->keys == NULL)
		sa->keys = crypto_key_alloc(sizeof(*sa->keys));
	if (sa->keys == NULL)
		return -1;
	n = crypto_dh_shared(sa->dh, peer, sa->gx_len, gxy, sizeof(gxy));
	if (n <= 0)
		goto out;
	if (crypto_ikev1_skeyid_psk(sa->prf, psk->bytes, psk->len, sa->ni, sa->ni_len, sa->nr,
	                            sa->nr_len, gxy, (size_t)n, sa->cky_i, sa->cky_r,
	                            &sa->keys->k) != 0)
		goto out;
	if (crypto_ikev1_enc_key(sa->prf, &sa->keys->k, key, en->key_len) != 0 ||
	    crypto_sym_init(&sa->keys->sym, sa->encr, key, en->key_len, CRYPTO_INTEG_NONE, NULL,
	                    0) != 0 ||
	    v1_iv_phase1(sa->prf, sa->gxi, sa->gx_len, sa->gxr, sa->gx_len, en->block_len,
	                 sa->keys->iv) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		crypto_wipe(&sa->keys->k, sizeof(sa->keys->k));
	crypto_wipe(gxy, sizeof(gxy));
	crypto_wipe(key, sizeof(key));
	crypto_dh_free(sa->dh);
	sa->dh = NULL;
	return rc;
}

/* HASH_I (initiator = true) or HASH_R over the given ID body. */
static size_t auth_hash(const struct v1_sa *sa, bool initiator, const uint8_t *id_b, size_t id_len,
                        uint8_t *out)
{
	const struct crypto_ikev1_keys *k = &sa->keys->k;
	int rc;

	if (initiator)
		rc = v1_hash_auth(sa->prf, k->skeyid, k->len, sa->gxi, sa->gxr, sa->gx_len,
		                  sa->cky_i, sa->cky_r, sa->sai_b, sa->sai_len, id_b, id_len, out);
	else
		rc = v1_hash_auth(sa->prf, k->skeyid, k->len, sa->gxr, sa->gxi, sa->gx_len,
		                  sa->cky_r, sa->cky_i, sa->sai_b, sa->sai_len, id_b, id_len, out);
	return rc == 0 ? k->len : 0;
}

static bool auth_verify(const struct v1_sa *sa, bool initiator, const struct v1_msg *m)
{
	uint8_t h[V1_HASH_MAX];
	size_t n;

	if (m->hash.p == NULL || m->n_id < 1)
		return false;
	n = auth_hash(sa, initiator, m->id[0].p, m->id[0].len, h);
	return n != 0 && m->hash.len == n && crypto_ct_equal(m->hash.p, h, n);
}

static void fail_remedy(struct ikev1 *e, struct v1_sa *sa, enum ike_cause cause, const char *remedy,
                        const char *fmt, ...) VPNGW_PRINTF(5, 6);

/*
 * Phase 1 failed: log, status (evidence as printf, remedy NULL: the
 * cause's), drop the SA, retry later if wanted.
 */
static void fail_remedy(struct ikev1 *e, struct v1_sa *sa, enum ike_cause cause, const char *remedy,
                        const char *fmt, ...)
{
	char ev[IKE_EVIDENCE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ev, sizeof(ev), fmt, ap);
	va_end(ap);
	ike_log(&e->ops, IKE_LOG_ERR, sa->conn, "phase 1 failed (%s): %s", ike_cause_code(cause),
	        ev);
	/* A failed rekey (or a stray attempt) leaves a working tunnel's status alone. */
	if (v1_may_fail_status(e, sa))
		ike_status_fail(&e->status[sa->conn], IKE_STATE_PHASE1_FAILED, cause, e->now,
		                remedy, "%s", ev);
	v1_sa_kill(e, sa);
	v1_conn_restart_later(e, sa->conn);
}

#define fail(e, sa, cause, ...) fail_remedy(e, sa, cause, NULL, __VA_ARGS__)

/* ---- sending ------------------------------------------------------------------------- */

/* Finishes w: encrypts it under the phase 1 chain when enc, sends and caches it. */
static int p1_finish(struct ikev1 *e, struct v1_sa *sa, struct v1_wr *w, bool enc, bool rtx)
{
	size_t len = enc ? v1_wr_encrypt(sa, w, sa->keys->iv) : v1_wr_finish(w);

	if (len == 0)
		return -1;
	v1_p1_send(e, sa, w->buf, len, rtx);
	return 0;
}

static void wr_start(struct ikev1 *e, struct v1_sa *sa, struct v1_wr *w, uint8_t exch)
{
	v1_wr_init(w, e->buf, IKE_MSG_MAX);
	v1_wr_hdr(w, sa->cky_i, sa->cky_r, exch, 0, 0);
}

int v1_p1_start(struct ikev1 *e, struct v1_sa *sa)
{
	const struct config_ike *ike = &e->conns[sa->conn].cfg->ike;
	struct v1_wr w;

	if (ike->dh.n == 0 || ike->encryption.n == 0 || ike->prf.n == 0)
		return -1;
	wr_start(e, sa, &w, sa->aggressive ? V1_EXCH_AGGR : V1_EXCH_MAIN);
	size_t sa_at = w.len;
	v1_p1_wr_sa(&w, ike, sa->aggressive);
	if (w.failed)
		return -1;
	free(sa->sai_b);
	sa->sai_len = w.len - sa_at - V1_GEN_LEN;
	sa->sai_b = malloc(sa->sai_len);
	if (sa->sai_b == NULL)
		return -1;
	memcpy(sa->sai_b, w.buf + sa_at + V1_GEN_LEN, sa->sai_len);
	sa->seq = 1;
	if (sa->aggressive) {
		uint8_t ke[CRYPTO_DH_MAX_PUBLIC];

		sa->group = ike->dh.ids[0];
		if (new_ke(sa, ke) != 0)
			return -1;
		memcpy(sa->gxi, ke, sa->gx_len);
		sa->ni_len = V1_NONCE_LEN;
		crypto_random(sa->ni, sa->ni_len);
		v1_wr_payload(&w, V1_PL_KE, ke, sa->gx_len);
		v1_wr_payload(&w, V1_PL_NONCE, sa->ni, sa->ni_len);
		wr_id(e, sa, &w);
		sa->st = P1_I_AM1;
	} else {
		sa->st = P1_I_MM1;
	}
	wr_vids(e, sa, &w, false);
	return p1_finish(e, sa, &w, false, true);
}

/* ---- after phase 1 ----------------------------------------------------------------------- */

/* The peer says it has no state for us (rebooted): drop what we had with it. */
void v1_initial_contact(struct ikev1 *e, struct v1_sa *sa)
{
	struct v1_conn *c = v1_conn(e, sa->conn);

	if (c == NULL)
		return;
	/*
	 * Only what predates this phase 1: when both sides start at once,
	 * the other side's fresh SAs and children are not stale.
	 */
	ike_log(&e->ops, IKE_LOG_INFO, sa->conn, "INITIAL-CONTACT: dropping old SAs of this peer");
	for (unsigned i = 0; i < c->n_ch; i++) {
		if (c->ch[i].installed_ms >= sa->started_ms)
			continue;
		e->ops.child_delete(e->ops.ctx, sa->conn, c->ch[i].spi_in);
		if (e->st.ipsec_sas > 0)
			e->st.ipsec_sas--;
		c->ch[i--] = c->ch[--c->n_ch];
	}
	for (struct v1_sa *o = e->all; o != NULL; o = o->anext) {
		if (o == sa || o->dead || o->conn != sa->conn || o->st != P1_ESTABLISHED ||
		    o->established_ms >= sa->started_ms ||
		    !ike_endpoint_same_addr(&o->remote, &sa->remote))
			continue;
		v1_sa_kill(e, o);
	}
}

static bool has_initial_contact(const struct v1_msg *m)
{
	for (unsigned i = 0; i < m->n_n; i++) {
		struct v1_notify n;

		if (v1_notify_parse(&m->n[i], &n) == 0 && n.type == V1_N_INITIAL_CONTACT)
			return true;
	}
	return false;
}

void v1_p1_established(struct ikev1 *e, struct v1_sa *sa)
{
	struct v1_conn *c = v1_conn(e, sa->conn);
	uint64_t life = (uint64_t)(sa->lifetime_s ? sa->lifetime_s : 86400) * 1000;
	struct v1_sa *old;

	if (!sa->initiator && e->st.half_open > 0)
		e->st.half_open--;
	sa->st = P1_ESTABLISHED;
	sa->tx_rtx = false;
	sa->established_ms = e->now;
	sa->expire_at_ms = e->now + life;
	sa->rekey_at_ms = e->now + (sa->initiator ? v1_soft_ms(e, life) : v1_late_ms(e, life));
	sa->dpd_at = e->now + e->tun.dpd_idle_ms;
	if (sa->nat_local)
		sa->keepalive_at = e->now + e->tun.keepalive_ms;
	e->st.isakmp_sas++;
	e->status[sa->conn].ike_sa_up++;
	ike_log(&e->ops, IKE_LOG_INFO, sa->conn, "ISAKMP SA established (%s, %s/%s/%s)",
	        sa->aggressive ? "aggressive mode" : "main mode", crypto_alg(sa->encr)->name,
	        crypto_alg(sa->prf)->name, crypto_alg(sa->group)->name);
	if (c == NULL)
		return;
	old = c->sa;
	c->sa = sa;
	if (c->neg == sa)
		c->neg = NULL;
	c->via_local = sa->local;
	c->via_remote = sa->remote;
	c->via_nat = sa->nat_remote;
	if (old != NULL && old != sa && sa->initiator && sa->rekey_of_old &&
	    old->established_ms <= sa->started_ms) {
		/*
		 * Make-before-break: the new SA carries on, the old one goes. One
		 * the peer made meanwhile (both rekeyed at once) is not older: kept.
		 */
		v1_info_delete(e, old, V1_PROTO_ISAKMP, old->cky_i, 16);
		v1_sa_kill(e, old);
	}
	if (c->n_ch == 0)
		ike_status_set(&e->status[sa->conn], IKE_STATE_PHASE2_NEGOTIATING, e->now);
	if (!sa->initiator || !c->wanted)
		return;
	/*
	 * After aggressive mode our AM3 and first QM1 would leave together and
	 * a multi-threaded responder (strongSwan) may see the QM1 first and
	 * drop it (INTEROP.md): give AM3 a head start.
	 */
	if (sa->aggressive)
		c->qm_retry_at = e->now + V1_AM_QM_DELAY_MS;
	else
		v1_qm_fill(e, sa);
}

/* ---- responder: first message ------------------------------------------------------------- */

static void notify_plain(struct ikev1 *e, struct v1_sa *sa, uint16_t type)
{
	v1_info_notify(e, sa, V1_PROTO_ISAKMP, NULL, 0, type, NULL, 0);
}

static int conn_for_peer(struct ikev1 *e, const struct ike_endpoint *remote)
{
	for (int i = ike_conn_by_peer(e->cfg, remote, 0); i >= 0;
	     i = ike_conn_by_peer(e->cfg, remote, (uint32_t)i + 1))
		if (e->conns[i].v1)
			return i;
	return -1;
}

void v1_digest(const uint8_t *msg, size_t len, uint8_t out[20])
{
	const struct crypto_iov in = { msg, len };

	crypto_hash_v(CRYPTO_PRF_HMAC_SHA1, &in, 1, out);
}

/*
 * The responder's choice from the first message's proposal: SAi_b kept
 * for the hashes, the chosen transform echoed into w. False when it
 * failed (sa is then gone).
 */
static bool p1_r_choose(struct ikev1 *e, struct v1_sa *sa, const struct v1_msg *m, struct v1_wr *w)
{
	const struct config_ike *ike = &e->conns[sa->conn].cfg->ike;
	struct v1_proposal *p = malloc(sizeof(*p));
	struct v1_p1_choice ch;
	enum ike_cause cause;
	const char *remedy;
	char why[IKE_EVIDENCE_MAX];
	unsigned idx;
	int rc;

	if (p == NULL) {
		v1_sa_kill(e, sa);
		return false;
	}
	rc = v1_sa_parse(&m->sa, p);
	if (rc != 0) {
		free(p);
		v1_count_parse_error(e, rc);
		v1_sa_kill(e, sa);
		return false;
	}
	if (v1_p1_choose(ike, p, &ch, &idx, &cause, &remedy, why, sizeof(why)) != 0) {
		free(p);
		notify_plain(e, sa, V1_N_NO_PROPOSAL_CHOSEN);
		fail_remedy(e, sa, cause, remedy, "%s", why);
		return false;
	}
	sa->encr = ch.encr;
	sa->prf = ch.prf;
	sa->group = ch.group;
	sa->lifetime_s = ch.life != 0 ? MIN(ch.life, ike->lifetime) : ike->lifetime;
	sa->sai_b = malloc(m->sa.len);
	if (sa->sai_b == NULL) {
		free(p);
		v1_sa_kill(e, sa);
		return false;
	}
	memcpy(sa->sai_b, m->sa.p, m->sa.len);
	sa->sai_len = m->sa.len;
	/* The peer's transform as it sent it; our shorter lifetime applies here only. */
	v1_wr_sa_echo(w, V1_PROTO_ISAKMP, NULL, 0, &p->t[idx]);
	free(p);
	return true;
}

/* AM1 brought KE, Ni and IDii with the proposal: AM2 with ours, HASH_R and NAT-D. */
static void p1_am1(struct ikev1 *e, struct v1_sa *sa, const struct v1_msg *m, struct v1_wr *w)
{
	uint8_t ke[CRYPTO_DH_MAX_PUBLIC], hr[V1_HASH_MAX];
	struct v1_idpl id;
	char got[128], want[128];
	struct ike_id wid;

	if (m->n_id < 1 || v1_id_parse(&m->id[0], &id) != 0 ||
	    !take_nonce(&m->nonce, sa->ni, &sa->ni_len) || !take_ke(sa, &m->ke, sa->gxi)) {
		if (m->ke.p != NULL && m->ke.len != crypto_alg(sa->group)->out_len) {
			notify_plain(e, sa, V1_N_INVALID_KEY_INFORMATION);
			fail(e, sa, IKE_CAUSE_DH_GROUP_MISMATCH,
			     "aggressive mode KE does not fit %s", crypto_alg(sa->group)->name);
			return;
		}
		e->st.malformed++;
		v1_sa_kill(e, sa);
		return;
	}
	if (!v1_id_matches(e, sa->conn, &id, got, sizeof(got))) {
		ike_id_from_config(&wid, &e->conns[sa->conn].cfg->ike.remote_id);
		notify_plain(e, sa, V1_N_INVALID_ID_INFORMATION);
		fail(e, sa, IKE_CAUSE_ID_MISMATCH, "IDii %s does not match to %s", got,
		     ike_id_str(&wid, want, sizeof(want)));
		return;
	}
	if (id.len + 4 > sizeof(sa->peer_id_b)) {
		e->st.malformed++;
		v1_sa_kill(e, sa);
		return;
	}
	memcpy(sa->peer_id_b, m->id[0].p, m->id[0].len);
	sa->peer_id_len = m->id[0].len;
	sa->gx_len = (uint16_t)m->ke.len;
	if (new_ke(sa, ke) != 0 || sa->gx_len != m->ke.len) {
		v1_sa_kill(e, sa);
		return;
	}
	memcpy(sa->gxr, ke, sa->gx_len);
	sa->nr_len = V1_NONCE_LEN;
	crypto_random(sa->nr, sa->nr_len);
	if (derive(e, sa) != 0) {
		notify_plain(e, sa, V1_N_INVALID_KEY_INFORMATION);
		fail(e, sa, IKE_CAUSE_INTERNAL, "key derivation failed (bad KE?)");
		return;
	}
	v1_wr_payload(w, V1_PL_KE, ke, sa->gx_len);
	v1_wr_payload(w, V1_PL_NONCE, sa->nr, sa->nr_len);
	wr_id(e, sa, w);
	size_t hl = auth_hash(sa, false, sa->id_b, sa->id_len, hr);
	v1_wr_payload(w, V1_PL_HASH, hr, hl);
	wr_vids(e, sa, w, true);
	/* NAT-D: ours now, the peer's in AM3 (AM1 cannot have them: no responder cookie yet). */
	wr_natd(sa, w);
	sa->st = P1_R_AM2;
	sa->seq = 1;
	if (p1_finish(e, sa, w, false, true) != 0)
		v1_sa_kill(e, sa);
}

struct v1_sa *v1_p1_responder(struct ikev1 *e, const struct ike_endpoint *local,
                              const struct ike_endpoint *remote, const struct v1_hdr *h,
                              const uint8_t *msg, size_t len)
{
	struct v1_msg m;
	struct v1_sa *sa;
	struct v1_wr w;
	char buf[64];
	int conn;
	bool aggr = h->exch == V1_EXCH_AGGR;

	if (v1_msg_parse(h->np, msg + V1_HDR_LEN, len - V1_HDR_LEN, &m) != 0 || m.sa.p == NULL) {
		e->st.malformed++;
		return NULL;
	}
	conn = conn_for_peer(e, remote);
	if (conn < 0) {
		e->st.unknown_peer++;
		ike_log(&e->ops, IKE_LOG_WARN, UINT32_MAX,
		        "IKEv1 from %s: no customer gateway has it",
		        ike_endpoint_str(remote, buf, sizeof(buf)));
		return NULL;
	}
	sa = v1_sa_new(e, (uint32_t)conn, false, local, remote);
	if (sa == NULL)
		return NULL;
	memcpy(sa->cky_i, h->cky_i, 8);
	sa->aggressive = aggr;
	v1_sa_link(e, sa);
	e->st.half_open++;
	read_vids(e, sa, &m);
	v1_digest(msg, len, sa->rx_digest);
	sa->has_rx_digest = true;
	if (e->status[conn].state == IKE_STATE_DOWN && e->status[conn].cause == IKE_CAUSE_NONE)
		ike_status_set(&e->status[conn], IKE_STATE_PHASE1_NEGOTIATING, e->now);
	if ((e->conns[conn].cfg->ike.mode == CONFIG_IKE_AGGRESSIVE) != aggr) {
		notify_plain(e, sa, 7 /* INVALID-EXCHANGE-TYPE */);
		fail(e, sa, IKE_CAUSE_MODE_MISMATCH,
		     "peer initiated %s mode, we are configured for %s",
		     aggr ? "aggressive" : "main", aggr ? "main" : "aggressive");
		return NULL;
	}
	wr_start(e, sa, &w, h->exch);
	if (!p1_r_choose(e, sa, &m, &w))
		return NULL;
	if (aggr) {
		p1_am1(e, sa, &m, &w);
		return sa->dead ? NULL : sa;
	}
	/* MM2: the choice and our vendor IDs. */
	wr_vids(e, sa, &w, true);
	sa->st = P1_R_MM2;
	sa->seq = 1;
	if (p1_finish(e, sa, &w, false, false) != 0)
		v1_sa_kill(e, sa);
	return sa;
}

/* ---- the rest of phase 1 --------------------------------------------------------------- */

/*
 * Our offer, the peer's choice: the chosen transform must be one we sent,
 * attributes unchanged (RFC 2408 4.2). False with why when it is not.
 */
static bool p1_accept_choice(struct ikev1 *e, struct v1_sa *sa, const struct v1_msg *m, char *why,
                             size_t why_len)
{
	const struct config_ike *ike = &e->conns[sa->conn].cfg->ike;
	struct v1_proposal *ours = malloc(sizeof(*ours)), *theirs = malloc(sizeof(*theirs));
	const struct v1_pl offer = { sa->sai_b, sa->sai_len };
	struct v1_p1_choice c;
	bool ok = false;
	int rc;

	snprintf(why, why_len, "peer's SA payload unreadable");
	if (ours == NULL || theirs == NULL || m->sa.p == NULL)
		goto out;
	rc = v1_sa_parse(&m->sa, theirs);
	if (rc != 0) {
		v1_count_parse_error(e, rc);
		goto out;
	}
	if (v1_sa_parse(&offer, ours) != 0 ||
	    v1_p1_check_choice(ours, theirs, &c, why, why_len) != 0)
		goto out;
	if (sa->aggressive && c.group != sa->group) {
		snprintf(why, why_len, "peer chose %s, aggressive mode sent a %s KE",
		         crypto_alg(c.group)->name, crypto_alg(sa->group)->name);
		goto out;
	}
	sa->encr = c.encr;
	sa->prf = c.prf;
	sa->group = c.group;
	/* Unchanged, so ours; a responder that keeps the SA for less rekeys it itself. */
	sa->lifetime_s = c.life != 0 ? c.life : ike->lifetime;
	ok = true;
out:
	free(ours);
	free(theirs);
	return ok;
}

static void check_peer_id(struct ikev1 *e, struct v1_sa *sa, const struct v1_msg *m,
                          const char *which, bool *ok)
{
	struct v1_idpl id;
	struct ike_id wid;
	char got[128], want[128];

	*ok = false;
	if (m->n_id < 1 || v1_id_parse(&m->id[0], &id) != 0) {
		e->st.malformed++;
		return;
	}
	if (!v1_id_matches(e, sa->conn, &id, got, sizeof(got))) {
		char ev[300];

		ike_id_from_config(&wid, &e->conns[sa->conn].cfg->ike.remote_id);
		snprintf(ev, sizeof(ev), "%s %s does not match to %s", which, got,
		         ike_id_str(&wid, want, sizeof(want)));
		if (v1_keyed(sa))
			v1_info_notify(e, sa, V1_PROTO_ISAKMP, NULL, 0, V1_N_INVALID_ID_INFORMATION,
			               NULL, 0);
		fail(e, sa, IKE_CAUSE_ID_MISMATCH, "%s", ev);
		return;
	}
	*ok = true;
}

static void psk_fail(struct ikev1 *e, struct v1_sa *sa)
{
	e->st.decrypt_failed++;
	fail(e, sa, IKE_CAUSE_PSK_MISMATCH, "invalid HASH_V1 payload length, decryption failed?");
}

/*
 * An encrypted phase 1 message: decrypts with the phase 1 chain into
 * e->plain and parses it. On success the chain moves on.
 */
static int p1_open(struct ikev1 *e, struct v1_sa *sa, const struct v1_hdr *h, const uint8_t *msg,
                   size_t len, struct v1_msg *m)
{
	uint8_t next[V1_BLOCK_MAX];
	size_t clen = len - V1_HDR_LEN;

	if (!v1_keyed(sa) || clen > sizeof(e->plain) ||
	    v1_decrypt(&sa->keys->sym, sa->keys->iv, msg + V1_HDR_LEN, e->plain, clen, next) != 0)
		return -1;
	if (v1_msg_parse(h->np, e->plain, clen, m) != 0 || m->hash.p == NULL ||
	    m->hash.len != sa->keys->k.len)
		return -1;
	memcpy(sa->keys->iv, next, crypto_alg(sa->encr)->block_len);
	return 0;
}

/* The peer's message is taken: a repeat of it gets our answer again. */
static void p1_remember(struct v1_sa *sa, const uint8_t d[20])
{
	memcpy(sa->rx_digest, d, 20);
	sa->has_rx_digest = true;
}

/* Our answer to MM2 / MM3, retransmitted until the next message comes. */
static void p1_answer(struct ikev1 *e, struct v1_sa *sa, struct v1_wr *w, const uint8_t d[20])
{
	p1_remember(sa, d);
	if (p1_finish(e, sa, w, false, true) != 0)
		fail(e, sa, IKE_CAUSE_INTERNAL, "could not build a phase 1 message");
}

/* MM2 (initiator): the responder's choice; MM3 with KE, Ni, NAT-D. */
static void p1_mm2(struct ikev1 *e, struct v1_sa *sa, const struct v1_hdr *h,
                   const struct v1_msg *m, const uint8_t d[20])
{
	uint8_t ke[CRYPTO_DH_MAX_PUBLIC];
	char why[IKE_EVIDENCE_MAX];
	struct v1_wr w;

	memcpy(sa->cky_r, h->cky_r, 8);
	read_vids(e, sa, m);
	if (!p1_accept_choice(e, sa, m, why, sizeof(why))) {
		fail(e, sa, IKE_CAUSE_PROPOSAL_MISMATCH, "%s", why);
		return;
	}
	if (new_ke(sa, ke) != 0) {
		e->st.malformed++;
		return;
	}
	memcpy(sa->gxi, ke, sa->gx_len);
	sa->ni_len = V1_NONCE_LEN;
	crypto_random(sa->ni, sa->ni_len);
	wr_start(e, sa, &w, V1_EXCH_MAIN);
	v1_wr_payload(&w, V1_PL_KE, ke, sa->gx_len);
	v1_wr_payload(&w, V1_PL_NONCE, sa->ni, sa->ni_len);
	wr_natd(sa, &w);
	sa->st = P1_I_MM3;
	sa->seq = 2;
	p1_answer(e, sa, &w, d);
}

/* MM3 (responder): KE, Ni, NAT-D; the keys; MM4 with ours. */
static void p1_mm3(struct ikev1 *e, struct v1_sa *sa, const struct v1_msg *m, const uint8_t d[20])
{
	uint8_t ke[CRYPTO_DH_MAX_PUBLIC];
	struct v1_wr w;

	if (!take_ke(sa, &m->ke, sa->gxi) || !take_nonce(&m->nonce, sa->ni, &sa->ni_len)) {
		e->st.malformed++;
		return;
	}
	if (new_ke(sa, ke) != 0) {
		e->st.malformed++;
		return;
	}
	memcpy(sa->gxr, ke, sa->gx_len);
	sa->nr_len = V1_NONCE_LEN;
	crypto_random(sa->nr, sa->nr_len);
	if (derive(e, sa) != 0) {
		fail(e, sa, IKE_CAUSE_INTERNAL, "key derivation failed (bad KE?)");
		return;
	}
	check_natd(e, sa, m, NULL, NULL);
	wr_start(e, sa, &w, V1_EXCH_MAIN);
	v1_wr_payload(&w, V1_PL_KE, ke, sa->gx_len);
	v1_wr_payload(&w, V1_PL_NONCE, sa->nr, sa->nr_len);
	wr_natd(sa, &w);
	sa->st = P1_R_MM4;
	sa->seq = 2;
	p1_answer(e, sa, &w, d);
}

/* MM4 (initiator): KE, Nr, NAT-D; the keys, 4500 if a NAT; MM5 with IDii, HASH_I. */
static void p1_mm4(struct ikev1 *e, struct v1_sa *sa, const struct v1_msg *m, const uint8_t d[20])
{
	uint8_t hb[V1_HASH_MAX];
	struct v1_wr w;

	if (!take_ke(sa, &m->ke, sa->gxr) || !take_nonce(&m->nonce, sa->nr, &sa->nr_len)) {
		e->st.malformed++;
		return;
	}
	if (derive(e, sa) != 0) {
		fail(e, sa, IKE_CAUSE_INTERNAL, "key derivation failed (bad KE?)");
		return;
	}
	check_natd(e, sa, m, NULL, NULL);
	maybe_float(sa);
	wr_start(e, sa, &w, V1_EXCH_MAIN);
	wr_id(e, sa, &w);
	v1_wr_payload(&w, V1_PL_HASH, hb, auth_hash(sa, true, sa->id_b, sa->id_len, hb));
	if (sa->initial_contact) {
		uint8_t cookies[16];

		v1_cookies(sa, cookies);
		v1_wr_notify(&w, V1_PROTO_ISAKMP, cookies, 16, V1_N_INITIAL_CONTACT, NULL, 0);
	}
	sa->st = P1_I_MM5;
	sa->seq = 3;
	p1_remember(sa, d);
	if (p1_finish(e, sa, &w, true, true) != 0)
		fail(e, sa, IKE_CAUSE_INTERNAL, "could not build MM5");
}

/* MM5 (responder): IDii, HASH_I; MM6 with IDir, HASH_R; established. */
static void p1_mm5(struct ikev1 *e, struct v1_sa *sa, const struct v1_msg *m, const uint8_t d[20])
{
	uint8_t hb[V1_HASH_MAX];
	struct v1_wr w;
	bool ok;

	if (!auth_verify(sa, true, m)) {
		v1_info_notify(e, sa, V1_PROTO_ISAKMP, NULL, 0, V1_N_AUTHENTICATION_FAILED, NULL,
		               0);
		psk_fail(e, sa);
		return;
	}
	check_peer_id(e, sa, m, "IDii", &ok);
	if (!ok)
		return;
	v1_sa_follow(e, sa);
	if (has_initial_contact(m))
		v1_initial_contact(e, sa);
	wr_start(e, sa, &w, V1_EXCH_MAIN);
	wr_id(e, sa, &w);
	v1_wr_payload(&w, V1_PL_HASH, hb, auth_hash(sa, false, sa->id_b, sa->id_len, hb));
	p1_remember(sa, d);
	sa->seq = 3;
	if (p1_finish(e, sa, &w, true, false) != 0) {
		fail(e, sa, IKE_CAUSE_INTERNAL, "could not build MM6");
		return;
	}
	v1_p1_established(e, sa);
}

/* MM6 (initiator): IDir, HASH_R; established. */
static void p1_mm6(struct ikev1 *e, struct v1_sa *sa, const struct v1_msg *m, const uint8_t d[20])
{
	bool ok;

	if (!auth_verify(sa, false, m)) {
		psk_fail(e, sa);
		return;
	}
	check_peer_id(e, sa, m, "IDir", &ok);
	if (!ok)
		return;
	v1_sa_follow(e, sa);
	p1_remember(sa, d);
	v1_p1_established(e, sa);
}

/* AM2 (initiator): SA, KE, Nr, IDir, HASH_R, NAT-D; AM3 with HASH_I; established. */
static void p1_am2(struct ikev1 *e, struct v1_sa *sa, const struct v1_hdr *h,
                   const struct v1_msg *m, const uint8_t d[20])
{
	uint8_t hb[V1_HASH_MAX];
	char why[IKE_EVIDENCE_MAX];
	struct v1_wr w;
	bool ok;

	memcpy(sa->cky_r, h->cky_r, 8);
	read_vids(e, sa, m);
	if (!p1_accept_choice(e, sa, m, why, sizeof(why))) {
		fail(e, sa, IKE_CAUSE_PROPOSAL_MISMATCH, "%s", why);
		return;
	}
	if (!take_ke(sa, &m->ke, sa->gxr) || !take_nonce(&m->nonce, sa->nr, &sa->nr_len) ||
	    m->hash.p == NULL) {
		e->st.malformed++;
		return;
	}
	if (derive(e, sa) != 0) {
		fail(e, sa, IKE_CAUSE_INTERNAL, "key derivation failed (bad KE?)");
		return;
	}
	if (!auth_verify(sa, false, m)) {
		psk_fail(e, sa);
		return;
	}
	check_peer_id(e, sa, m, "IDir", &ok);
	if (!ok)
		return;
	check_natd(e, sa, m, NULL, NULL);
	maybe_float(sa);
	wr_start(e, sa, &w, V1_EXCH_AGGR);
	v1_wr_payload(&w, V1_PL_HASH, hb, auth_hash(sa, true, sa->id_b, sa->id_len, hb));
	wr_natd(sa, &w);
	p1_remember(sa, d);
	sa->seq = 2;
	if (p1_finish(e, sa, &w, false, false) != 0) {
		fail(e, sa, IKE_CAUSE_INTERNAL, "could not build AM3");
		return;
	}
	v1_sa_follow(e, sa);
	if (sa->initial_contact) {
		/* AM3 went in the clear: INITIAL-CONTACT in a protected informational. */
		uint8_t cookies[16];

		v1_cookies(sa, cookies);
		v1_info_notify(e, sa, V1_PROTO_ISAKMP, cookies, 16, V1_N_INITIAL_CONTACT, NULL, 0);
	}
	v1_p1_established(e, sa);
}

/* AM3 (responder): HASH_I, NAT-D; established. */
static void p1_am3(struct ikev1 *e, struct v1_sa *sa, const struct v1_msg *m, const uint8_t d[20])
{
	uint8_t hb[V1_HASH_MAX];

	if (m->hash.p == NULL) {
		e->st.malformed++;
		return;
	}
	/* HASH_I covers the initiator's ID body from AM1. */
	if (m->hash.len != sa->keys->k.len ||
	    auth_hash(sa, true, sa->peer_id_b, sa->peer_id_len, hb) != m->hash.len ||
	    !crypto_ct_equal(m->hash.p, hb, m->hash.len)) {
		psk_fail(e, sa);
		return;
	}
	/*
	 * The initiator floated to 4500 before AM3 and hashes the ports it
	 * sends from: follow it first, then compare (RFC 3947 4).
	 */
	struct ike_endpoint was_local = sa->local, was_remote = sa->remote;
	v1_sa_follow(e, sa);
	check_natd(e, sa, m, &was_local, &was_remote);
	p1_remember(sa, d);
	v1_p1_established(e, sa);
}

/* A message the peer sent before: it lost our answer. */
static bool p1_repeat(struct ikev1 *e, struct v1_sa *sa, const uint8_t d[20])
{
	if (!sa->has_rx_digest || memcmp(d, sa->rx_digest, 20) != 0)
		return false;
	if (sa->tx != NULL && v1_may_resend(e->now, &sa->resent_at)) {
		e->st.resp_resent++;
		v1_send_raw(e, sa, sa->tx, sa->tx_len);
	}
	return true;
}

void v1_p1_input(struct ikev1 *e, struct v1_sa *sa, const struct v1_hdr *h, const uint8_t *msg,
                 size_t len)
{
	struct v1_msg m;
	uint8_t d[20];
	bool enc = h->flags & V1_FLAG_E;

	if ((h->exch == V1_EXCH_AGGR) != sa->aggressive) {
		if (sa->initiator && (sa->st == P1_I_MM1 || sa->st == P1_I_AM1))
			fail(e, sa, IKE_CAUSE_MODE_MISMATCH, "peer answered in %s mode, we use %s",
			     sa->aggressive ? "main" : "aggressive",
			     sa->aggressive ? "aggressive" : "main");
		else
			e->st.malformed++;
		return;
	}
	v1_digest(msg, len, d);
	if (p1_repeat(e, sa, d))
		return;
	if (enc) {
		if (p1_open(e, sa, h, msg, len, &m) != 0) {
			if (sa->st == P1_I_MM5 || sa->st == P1_R_MM4 || sa->st == P1_R_AM2) {
				/* As strongSwan does: tell it, under our keys. */
				if (!sa->initiator)
					v1_info_notify(e, sa, V1_PROTO_ISAKMP, NULL, 0,
					               V1_N_PAYLOAD_MALFORMED, NULL, 0);
				psk_fail(e, sa);
			} else {
				e->st.decrypt_failed++;
			}
			return;
		}
	} else if (v1_msg_parse(h->np, msg + V1_HDR_LEN, len - V1_HDR_LEN, &m) != 0) {
		e->st.malformed++;
		return;
	}
	/* Messages 2 to 4 of main mode and 2 of aggressive mode come in the clear, 5 and 6 not. */
	bool want_enc = sa->st == P1_R_MM4 || sa->st == P1_I_MM5;
	if (sa->st != P1_ESTABLISHED && sa->st != P1_R_AM2 && enc != want_enc) {
		e->st.malformed++;
		return;
	}
	switch (sa->st) {
	case P1_I_MM1:
		p1_mm2(e, sa, h, &m, d);
		break;
	case P1_R_MM2:
		p1_mm3(e, sa, &m, d);
		break;
	case P1_I_MM3:
		p1_mm4(e, sa, &m, d);
		break;
	case P1_R_MM4:
		p1_mm5(e, sa, &m, d);
		break;
	case P1_I_MM5:
		p1_mm6(e, sa, &m, d);
		break;
	case P1_I_AM1:
		p1_am2(e, sa, h, &m, d);
		break;
	case P1_R_AM2:
		p1_am3(e, sa, &m, d);
		break;
	case P1_ESTABLISHED:
		/* A late repeat we no longer have the digest of, or garbage: drop. */
		break;
	}
}
