/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Quick Mode (RFC 2409 5.5): one IPsec SA pair per local x remote subnet
 * pair, each in its own exchange (its own message id and IV) under the
 * ISAKMP SA; with or without PFS; ESP proposals from the config lists;
 * subnet ID payloads; RESPONDER-LIFETIME; KEYMAT; install through
 * ops->child_install; rekeying children make-before-break.
 */
#include "ikev1_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_mem.h"
#include "crypto_rand.h"

/* The shorter of two lifetimes where 0 means none. */
static uint32_t life_min(uint32_t a, uint32_t b)
{
	return a == 0 ? b : b == 0 ? a : MIN(a, b);
}

/* ipsec.lifetime_bytes as a kilobyte lifetime (rounded down: never above it); 0: none. */
static uint32_t config_kb(const struct config_ipsec *ip)
{
	uint64_t kb = ip->lifetime_bytes / 1024;

	return ip->lifetime_bytes == 0 ? 0
	       : kb > UINT32_MAX       ? UINT32_MAX
	       : kb == 0               ? 1
	                               : (uint32_t)kb;
}

static uint16_t encap_mode(const struct v1_sa *sa)
{
	if (!(sa->nat_local || sa->nat_remote) || !(sa->peer_natt || sa->peer_natt_draft))
		return V1_ENCAP_TUNNEL;
	return sa->peer_natt ? V1_ENCAP_UDP_TUNNEL : V1_ENCAP_UDP_TUNNEL_DRAFT;
}

/* ---- keys ------------------------------------------------------------------------------- */

/* KEYMAT for both directions into a locked ike_child. */
static int qm_keys(struct ikev1 *e, struct v1_sa *sa, struct v1_qm *q, const uint8_t *gqm,
                   size_t gqm_len)
{
	const struct crypto_ikev1_keys *k = &sa->keys->k;
	const struct crypto_alg *en = crypto_alg(q->encr), *in = crypto_alg(q->integ);
	size_t need = (size_t)en->key_len + in->key_len;
	uint8_t spi[4];
	/* q->ni is always the initiator's nonce, q->nr the responder's. */
	const uint8_t *ni = q->ni, *nr = q->nr;
	size_t ni_len = q->ni_len, nr_len = q->nr_len;
	struct ike_child *c;

	(void)e;
	if (need > IKE_CHILD_KEY_MAX)
		return -1;
	c = crypto_key_alloc(sizeof(*c));
	if (c == NULL)
		return -1;
	put_be32(spi, q->spi_in);
	if (v1_keymat(sa->prf, k->skeyid_d, k->len, gqm, gqm_len, V1_PROTO_ESP, spi, ni, ni_len, nr,
	              nr_len, c->key_in, need) != 0)
		goto fail;
	put_be32(spi, q->spi_out);
	if (v1_keymat(sa->prf, k->skeyid_d, k->len, gqm, gqm_len, V1_PROTO_ESP, spi, ni, ni_len, nr,
	              nr_len, c->key_out, need) != 0)
		goto fail;
	c->conn = q->conn;
	c->spi_in = q->spi_in;
	c->spi_out = q->spi_out;
	c->encr = q->encr;
	c->integ = q->integ;
	c->enc_key_len = en->key_len;
	c->auth_key_len = in->key_len;
	c->esn = false;
	c->udp_encap = q->encap != V1_ENCAP_TUNNEL || sa->nat_local || sa->nat_remote;
	c->local = sa->local;
	c->remote = sa->remote;
	c->ts_local[0] = q->tsl;
	c->n_ts_local = 1;
	c->ts_remote[0] = q->tsr;
	c->n_ts_remote = 1;
	c->lifetime_s = q->lifetime_s;
	c->lifetime_bytes = (uint64_t)q->lifetime_kb * 1024;
	/*
	 * Installed at QM2 as responder: the initiator installs its side when
	 * QM2 reaches it, so we send on the pair only once QM3 says so.
	 */
	c->outbound_later = !q->initiator;
	crypto_key_free(q->child);
	q->child = c;
	return 0;
fail:
	crypto_key_free(c);
	return -1;
}

static struct v1_child *child_add(struct v1_conn *c)
{
	if (c->n_ch == c->cap_ch) {
		unsigned cap = c->cap_ch ? 2 * c->cap_ch : 4;
		struct v1_child *n = realloc(c->ch, cap * sizeof(*n));

		if (n == NULL)
			return NULL;
		c->ch = n;
		c->cap_ch = cap;
	}
	return &c->ch[c->n_ch++];
}

static void child_remove(struct ikev1 *e, struct v1_conn *c, uint32_t conn, unsigned i, bool notify)
{
	uint8_t spi[4];

	put_be32(spi, c->ch[i].spi_in);
	if (notify && c->sa != NULL)
		v1_info_delete(e, c->sa, V1_PROTO_ESP, spi, 4);
	e->ops.child_delete(e->ops.ctx, conn, c->ch[i].spi_in);
	if (e->st.ipsec_sas > 0)
		e->st.ipsec_sas--;
	c->ch[i] = c->ch[--c->n_ch];
}

/* Installs the negotiated pair; a rekey then retires the child it replaces. */
static bool qm_install(struct ikev1 *e, struct v1_sa *sa, struct v1_qm *q)
{
	struct v1_conn *c = v1_conn(e, q->conn);
	struct v1_child *ch;
	char l[TS_STR_MAX], r[TS_STR_MAX];
	uint64_t life = (uint64_t)(q->lifetime_s ? q->lifetime_s : 86400) * 1000;

	if (c == NULL || q->child == NULL)
		return false;
	if (e->ops.child_install(e->ops.ctx, q->child) != 0) {
		ike_status_fail(&e->status[q->conn], IKE_STATE_PHASE2_FAILED, IKE_CAUSE_INTERNAL,
		                e->now, NULL, "the data plane refused the IPsec SA 0x%08x",
		                q->spi_in);
		return false;
	}
	ch = child_add(c);
	if (ch == NULL) {
		e->ops.child_delete(e->ops.ctx, q->conn, q->spi_in);
		return false;
	}
	memset(ch, 0, sizeof(*ch));
	ch->spi_in = q->spi_in;
	ch->spi_out = q->spi_out;
	ch->tsl = q->tsl;
	ch->tsr = q->tsr;
	ch->encr = q->encr;
	ch->integ = q->integ;
	ch->udp_encap = q->child->udp_encap;
	ch->initiator = q->initiator;
	ch->lifetime_s = q->lifetime_s;
	ch->lifetime_kb = q->lifetime_kb;
	ch->installed_ms = e->now;
	ch->expire_at_ms = e->now + life;
	/*
	 * The initiator rekeys at the soft limit; the responder only as a last
	 * resort if the initiator did not (peers such as strongSwan rekey
	 * near 100% of a lifetime they shortened by RESPONDER-LIFETIME).
	 */
	ch->rekey_at_ms = e->now + (q->initiator ? v1_soft_ms(e, life) : life / 100 * 98);
	/*
	 * Make-before-break: older pairs of the same selectors are superseded.
	 * The data plane sends on the new pair from now on; the old inbound SA
	 * keeps receiving for a grace period (ESP the peer sent before it
	 * switched). The one we rekeyed we delete after that; the others (the
	 * peer rekeyed) go when the peer deletes them, or expire.
	 */
	for (unsigned i = 0; i + 1 < c->n_ch; i++) {
		struct v1_child *o = &c->ch[i];

		if (!ts_equal(&o->tsl, &q->tsl) || !ts_equal(&o->tsr, &q->tsr))
			continue;
		o->rekey_at_ms = 0;
		o->rekeying = false;
		if (o->retire_at_ms == 0)
			o->retire_at_ms = e->now + IKE_REKEY_GRACE_MS;
		if (o->spi_in == q->rekey_of)
			o->retire_by_us = true;
	}
	e->st.ipsec_sas++;
	e->status[q->conn].child_sa_up++;
	ts_format(&q->tsl, l, sizeof(l));
	ts_format(&q->tsr, r, sizeof(r));
	ike_log(&e->ops, IKE_LOG_INFO, q->conn,
	        "IPsec SA established: %s === %s, spi in 0x%08x out 0x%08x, %s/%s%s%s", l, r,
	        q->spi_in, q->spi_out, crypto_alg(q->encr)->name, crypto_alg(q->integ)->name,
	        q->pfs != CRYPTO_INTEG_NONE ? ", pfs " : "",
	        q->pfs != CRYPTO_INTEG_NONE ? crypto_alg(q->pfs)->name : "");
	ike_status_set(&e->status[q->conn], IKE_STATE_PHASE2_SUCCEEDED, e->now);
	(void)sa;
	crypto_key_free(q->child);
	q->child = NULL;
	return true;
}

/* ---- initiator ---------------------------------------------------------------------------- */

/* A free exchange slot; a finished one kept for repeats is given up if need be. */
static struct v1_qm *qm_slot(struct v1_sa *sa)
{
	struct v1_qm *done = NULL;

	for (unsigned i = 0; i < V1_QM_MAX; i++) {
		struct v1_qm *q = sa->qm[i];

		if (q == NULL) {
			sa->qm[i] = calloc(1, sizeof(*q));
			if (sa->qm[i] != NULL)
				return sa->qm[i];
			continue;
		}
		if (!q->used)
			return q;
		if (q->st == QM_DONE && (done == NULL || q->done_at < done->done_at))
			done = q;
	}
	if (done != NULL)
		v1_qm_free(done);
	return done;
}

static struct v1_qm *qm_find(struct v1_sa *sa, uint32_t msgid)
{
	for (unsigned i = 0; i < V1_QM_MAX; i++)
		if (sa->qm[i] != NULL && sa->qm[i]->used && sa->qm[i]->msgid == msgid)
			return sa->qm[i];
	return NULL;
}

static int qm_keep_tx(struct v1_qm *q, const uint8_t *msg, size_t len)
{
	uint8_t *copy = malloc(len);

	if (copy == NULL)
		return -1;
	memcpy(copy, msg, len);
	free(q->tx);
	q->tx = copy;
	q->tx_len = len;
	return 0;
}

static int dh_pub(struct v1_qm *q, enum crypto_alg_id group, uint8_t *pub)
{
	int n;

	q->dh = crypto_dh_new(group);
	if (q->dh == NULL)
		return -1;
	n = crypto_dh_public(q->dh, pub, CRYPTO_DH_MAX_PUBLIC);
	return n > 0 ? n : -1;
}

int v1_qm_start(struct ikev1 *e, struct v1_sa *sa, uint32_t conn, const struct ts *tsl,
                const struct ts *tsr, uint32_t rekey_of)
{
	const struct config_ipsec *ip = &e->conns[conn].cfg->ipsec;
	struct v1_qm *q = qm_slot(sa);
	uint8_t ke[CRYPTO_DH_MAX_PUBLIC];
	int ke_len = 0;
	struct v1_wr w;

	if (q == NULL || sa->st != P1_ESTABLISHED)
		return -1;
	memset(q, 0, sizeof(*q));
	q->used = true;
	q->initiator = true;
	q->conn = conn;
	q->tsl = *tsl;
	q->tsr = *tsr;
	q->rekey_of = rekey_of;
	q->pfs = ip->pfs ? ip->pfs_group : CRYPTO_INTEG_NONE;
	q->encap = encap_mode(sa);
	/*
	 * A rekey asks for the lifetime the old pair had: a peer that keeps its
	 * own shorter lifetime without telling (RESPONDER-LIFETIME) is matched.
	 */
	q->lifetime_s = ip->lifetime;
	q->lifetime_kb = config_kb(ip);
	for (unsigned i = 0; rekey_of != 0 && i < e->conns[conn].n_ch; i++)
		if (e->conns[conn].ch[i].spi_in == rekey_of) {
			q->lifetime_s = life_min(q->lifetime_s, e->conns[conn].ch[i].lifetime_s);
			q->lifetime_kb = life_min(q->lifetime_kb, e->conns[conn].ch[i].lifetime_kb);
		}
	do {
		crypto_random(&q->msgid, sizeof(q->msgid));
	} while (q->msgid == 0 || qm_find(sa, q->msgid) != q);
	q->spi_in = e->ops.spi_alloc(e->ops.ctx, conn);
	if (q->spi_in == 0)
		goto fail;
	q->ni_len = V1_NONCE_LEN;
	crypto_random(q->ni, q->ni_len);
	if (q->pfs != CRYPTO_INTEG_NONE && (ke_len = dh_pub(q, q->pfs, ke)) < 0)
		goto fail;
	if (v1_iv_msgid(sa->prf, sa->keys->iv, crypto_alg(sa->encr)->block_len, q->msgid, q->iv) !=
	    0)
		goto fail;
	v1_wr_init(&w, e->buf, IKE_MSG_MAX);
	v1_wr_hdr(&w, sa->cky_i, sa->cky_r, V1_EXCH_QUICK, 0, q->msgid);
	size_t hash_at = v1_wr_hash_slot(sa, &w);
	v1_esp_wr_sa(&w, ip, q->lifetime_s, q->lifetime_kb, q->spi_in, q->encap, q->pfs);
	v1_wr_payload(&w, V1_PL_NONCE, q->ni, q->ni_len);
	if (ke_len > 0)
		v1_wr_payload(&w, V1_PL_KE, ke, (size_t)ke_len);
	v1_wr_ts_id(&w, tsl);
	v1_wr_ts_id(&w, tsr);
	size_t len = v1_seal(sa, &w, hash_at, q->msgid, NULL, 0, q->iv);
	if (len == 0 || qm_keep_tx(q, w.buf, len) != 0)
		goto fail;
	q->st = QM_I1;
	q->seq = 1;
	q->rtx_at = e->now + v1_rtx_timeout(e, 0);
	v1_send_raw(e, sa, q->tx, q->tx_len);
	return 0;
fail:
	/* An SPI never installed needs no delete: the host forgets unused ones itself. */
	v1_qm_free(q);
	return -1;
}

static bool pair_busy(const struct v1_sa *sa, const struct v1_conn *c, uint32_t conn,
                      const struct ts *l, const struct ts *r)
{
	for (unsigned i = 0; i < c->n_ch; i++)
		if (ts_equal(&c->ch[i].tsl, l) && ts_equal(&c->ch[i].tsr, r))
			return true;
	for (unsigned i = 0; i < V1_QM_MAX; i++) {
		const struct v1_qm *q = sa->qm[i];

		if (q != NULL && q->used && q->conn == conn && q->st != QM_DONE &&
		    ts_equal(&q->tsl, l) && ts_equal(&q->tsr, r))
			return true;
	}
	return false;
}

void v1_qm_fill(struct ikev1 *e, struct v1_sa *sa)
{
	struct v1_conn *c = v1_conn(e, sa->conn);

	if (c == NULL || sa->st != P1_ESTABLISHED || sa->dead)
		return;
	c->fill_pending = false;
	for (unsigned i = 0; i < c->n_loc; i++)
		for (unsigned j = 0; j < c->n_rem; j++) {
			if (c->loc[i].family != c->rem[j].family ||
			    pair_busy(sa, c, sa->conn, &c->loc[i], &c->rem[j]))
				continue;
			if (v1_qm_start(e, sa, sa->conn, &c->loc[i], &c->rem[j], 0) != 0) {
				c->fill_pending = true; /* out of slots: the tick goes on */
				return;
			}
		}
}

/* g^xy of quick mode with PFS from the peer's KE into gqm; q's DH is done with. <= 0: no fit. */
static int qm_dh_shared(struct v1_qm *q, const struct v1_pl *ke, uint8_t *gqm, size_t cap)
{
	int n = crypto_dh_shared(q->dh, ke->p, ke->len, gqm, cap);

	crypto_dh_free(q->dh);
	q->dh = NULL;
	return n;
}

static void qm_i_fail(struct ikev1 *e, struct v1_qm *q, enum ike_cause cause, const char *fmt, ...)
        VPNGW_PRINTF(4, 5);

/* Our quick mode failed on the peer's answer: status, and the exchange is over. */
static void qm_i_fail(struct ikev1 *e, struct v1_qm *q, enum ike_cause cause, const char *fmt, ...)
{
	char why[IKE_EVIDENCE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	ike_log(&e->ops, IKE_LOG_ERR, q->conn, "quick mode failed: %s", why);
	ike_status_fail(&e->status[q->conn], IKE_STATE_PHASE2_FAILED, cause, e->now, NULL, "%s",
	                why);
	q->st = QM_DONE;
	q->done_at = e->now;
}

/*
 * QM2's choice: one ESP transform of ours, PFS as we asked, Nr; the
 * lifetimes the responder keeps (its answer, RESPONDER-LIFETIME). -1
 * when refused (the status says why) or malformed (counted).
 */
static int qm_i2_choice(struct ikev1 *e, struct v1_qm *q, const struct v1_msg *m)
{
	const struct config_ipsec *ip = &e->conns[q->conn].cfg->ipsec;
	struct v1_proposal *p = malloc(sizeof(*p));
	struct v1_esp_choice ch;
	enum crypto_alg_id grp;

	if (p == NULL)
		return -1;
	int rc = m->sa.p != NULL ? v1_sa_parse(&m->sa, p) : V1_PARSE_MALFORMED;
	if (rc != 0 || p->proto != V1_PROTO_ESP || p->spi_len != 4 || p->n_t != 1 ||
	    !v1_esp_decode(&p->t[0], &ch, &grp) || m->nonce.p == NULL ||
	    m->nonce.len < V1_NONCE_MIN || m->nonce.len > V1_NONCE_MAX) {
		free(p);
		v1_count_parse_error(e, rc);
		return -1;
	}
	q->spi_out = get_be32(p->spi);
	free(p);
	if (!ike_algs_has(&ip->encryption, ch.encr) || !v1_esp_integ_ok(ip, &ch) || grp != q->pfs) {
		qm_i_fail(e, q, IKE_CAUSE_PROPOSAL_MISMATCH,
		          "peer chose ESP transform we did not offer");
		return -1;
	}
	if ((q->pfs != CRYPTO_INTEG_NONE) != (m->ke.p != NULL)) {
		qm_i_fail(e, q, IKE_CAUSE_PFS_MISMATCH,
		          "quick mode: we %s PFS, the peer's answer %s KE",
		          q->pfs != CRYPTO_INTEG_NONE ? "use" : "do not use",
		          m->ke.p != NULL ? "has" : "has no");
		return -1;
	}
	memcpy(q->nr, m->nonce.p, m->nonce.len);
	q->nr_len = (uint16_t)m->nonce.len;
	q->encr = ch.encr;
	q->integ = ch.integ;
	q->encap = ch.encap;
	/* The responder may keep the pair for less (in its answer or RESPONDER-LIFETIME). */
	q->lifetime_s = life_min(q->lifetime_s, ch.life);
	q->lifetime_kb = life_min(q->lifetime_kb, ch.life_kb);
	for (unsigned i = 0; i < m->n_n; i++) {
		struct v1_notify n;
		uint32_t secs, kb;

		if (v1_notify_parse(&m->n[i], &n) != 0 || n.type != V1_N_RESPONDER_LIFETIME ||
		    v1_responder_lifetime(n.data, n.data_len, &secs, &kb) != 0)
			continue;
		q->lifetime_s = life_min(q->lifetime_s, secs);
		q->lifetime_kb = life_min(q->lifetime_kb, kb);
	}
	return 0;
}

/* QM3: HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b); then the pair is installed. */
static void qm_i3(struct ikev1 *e, struct v1_sa *sa, struct v1_qm *q)
{
	uint8_t hb[CRYPTO_PRF_MAX_OUT];
	size_t hl = v1_hash_a(sa, true, q->msgid, q->ni, q->ni_len, q->nr, q->nr_len, NULL, 0, hb);
	struct v1_wr w;

	v1_wr_init(&w, e->buf, IKE_MSG_MAX);
	v1_wr_hdr(&w, sa->cky_i, sa->cky_r, V1_EXCH_QUICK, 0, q->msgid);
	v1_wr_payload(&w, V1_PL_HASH, hb, hl);
	size_t len = v1_wr_encrypt(sa, &w, q->iv);
	if (len == 0 || qm_keep_tx(q, w.buf, len) != 0)
		return;
	v1_send_raw(e, sa, q->tx, q->tx_len);
	q->st = QM_DONE;
	q->seq = 2;
	q->done_at = e->now;
	q->installed = qm_install(e, sa, q);
	v1_qm_fill(e, sa); /* pairs that waited for a free slot */
}

/* QM2 as initiator: the responder's choice, Nr, [KE], then QM3 and install. */
static void qm_i2(struct ikev1 *e, struct v1_sa *sa, struct v1_qm *q, const struct v1_msg *m)
{
	uint8_t gqm[CRYPTO_DH_MAX_SECRET];
	int gqm_len = 0, rc;

	if (qm_i2_choice(e, q, m) != 0)
		return;
	if (q->dh != NULL) {
		gqm_len = qm_dh_shared(q, &m->ke, gqm, sizeof(gqm));
		if (gqm_len <= 0) {
			qm_i_fail(e, q, IKE_CAUSE_PFS_MISMATCH,
			          "quick mode: the peer's KE does not fit %s",
			          crypto_alg(q->pfs)->name);
			return;
		}
	}
	rc = qm_keys(e, sa, q, gqm_len > 0 ? gqm : NULL, gqm_len > 0 ? (size_t)gqm_len : 0);
	crypto_wipe(gqm, sizeof(gqm));
	if (rc == 0)
		qm_i3(e, sa, q);
}

/* ---- responder ------------------------------------------------------------------------------ */

/* The connection whose subnets hold the peer's proposed pair (several may share the peer). */
static int qm_conn(struct ikev1 *e, struct v1_sa *sa, const struct ts *tsl, const struct ts *tsr)
{
	const struct v1_conn *c = &e->conns[sa->conn];

	if (ts_pair_within(tsl, tsr, c->loc, c->n_loc, c->rem, c->n_rem))
		return (int)sa->conn;
	for (int i = ike_conn_by_peer(e->cfg, &c->peer, 0); i >= 0;
	     i = ike_conn_by_peer(e->cfg, &c->peer, (uint32_t)i + 1)) {
		const struct v1_conn *o = &e->conns[i];

		if (o->v1 && ts_pair_within(tsl, tsr, o->loc, o->n_loc, o->rem, o->n_rem))
			return i;
	}
	return -1;
}

static void qm_r_fail(struct ikev1 *e, struct v1_sa *sa, uint32_t conn, enum ike_cause cause,
                      uint16_t notify, const char *remedy, const char *why)
{
	ike_log(&e->ops, IKE_LOG_ERR, conn, "quick mode from peer refused: %s", why);
	ike_status_fail(&e->status[conn], IKE_STATE_PHASE2_FAILED, cause, e->now, remedy, "%s",
	                why);
	v1_info_notify(e, sa, V1_PROTO_ESP, NULL, 0, notify, NULL, 0);
}

/*
 * The pair QM1 proposes (its IDs, else the phase 1 addresses) and the
 * connection whose subnets hold it; -1 when refused (the peer is told).
 */
static int qm_r1_selectors(struct ikev1 *e, struct v1_sa *sa, const struct v1_msg *m,
                           struct ts *tsl, struct ts *tsr)
{
	char why[2 * IKE_EVIDENCE_MAX], l[TS_STR_MAX], r[TS_STR_MAX];
	int conn;

	if (m->n_id == 2) {
		if (v1_ts_from_id(&m->id[0], tsr) != 0 || v1_ts_from_id(&m->id[1], tsl) != 0) {
			qm_r_fail(e, sa, sa->conn, IKE_CAUSE_TS_MISMATCH,
			          V1_N_INVALID_ID_INFORMATION, NULL,
			          "quick mode ID payloads we cannot read");
			return -1;
		}
	} else {
		/* No IDs: the phase 1 addresses themselves (RFC 2409 5.5). */
		ts_from_prefix(tsr, sa->remote.family, sa->remote.addr,
		               ts_family_bits(sa->remote.family), 0);
		ts_from_prefix(tsl, sa->local.family, sa->local.addr,
		               ts_family_bits(sa->local.family), 0);
	}
	conn = qm_conn(e, sa, tsl, tsr);
	if (conn >= 0)
		return conn;
	ts_format(tsr, r, sizeof(r));
	ts_format(tsl, l, sizeof(l));
	snprintf(why, sizeof(why),
	         "INVALID_ID_INFORMATION: peer proposes %s === %s, outside our local x remote "
	         "subnets",
	         r, l);
	qm_r_fail(e, sa, sa->conn, IKE_CAUSE_TS_MISMATCH, V1_N_INVALID_ID_INFORMATION, NULL, why);
	return -1;
}

/*
 * QM2: the chosen transform t echoed, Nr, [KE], the peer's IDs back,
 * RESPONDER-LIFETIME when we keep the pair for less than the peer
 * (peer_s, 0: no time limit) asked. Sent, kept for repeats, and the
 * pair installed. -1 if it could not be built.
 */
static int qm_r2(struct ikev1 *e, struct v1_sa *sa, struct v1_qm *q, const struct v1_msg *m,
                 const struct v1_transform *t, const uint8_t *ke, size_t ke_len, uint32_t peer_s,
                 uint32_t peer_kb)
{
	uint8_t spi_in[4];
	struct v1_wr w;

	v1_wr_init(&w, e->buf, IKE_MSG_MAX);
	v1_wr_hdr(&w, sa->cky_i, sa->cky_r, V1_EXCH_QUICK, 0, q->msgid);
	size_t hash_at = v1_wr_hash_slot(sa, &w);
	put_be32(spi_in, q->spi_in);
	/* The transform as the peer sent it; RESPONDER-LIFETIME below says if we keep it less. */
	v1_wr_sa_echo(&w, V1_PROTO_ESP, spi_in, 4, t);
	v1_wr_payload(&w, V1_PL_NONCE, q->nr, q->nr_len);
	if (ke_len > 0)
		v1_wr_payload(&w, V1_PL_KE, ke, ke_len);
	if (m->n_id == 2) {
		v1_wr_payload(&w, V1_PL_ID, m->id[0].p, m->id[0].len);
		v1_wr_payload(&w, V1_PL_ID, m->id[1].p, m->id[1].len);
	}
	if (peer_s == 0 || peer_s > q->lifetime_s || q->lifetime_kb != peer_kb) {
		/* RFC 2407 4.6.3.1: we keep the SA for less than the peer asked. */
		uint8_t spi[4], attrs[32];
		struct v1_wr aw;

		put_be32(spi, q->spi_out);
		v1_wr_init(&aw, attrs, sizeof(attrs));
		v1_wr_attr(&aw, V1_Q_LIFE_TYPE, V1_LIFE_SECONDS);
		v1_wr_attr(&aw, V1_Q_LIFE_DUR, q->lifetime_s);
		if (q->lifetime_kb != 0) {
			v1_wr_attr(&aw, V1_Q_LIFE_TYPE, V1_LIFE_KB);
			v1_wr_attr(&aw, V1_Q_LIFE_DUR, q->lifetime_kb);
		}
		v1_wr_notify(&w, V1_PROTO_ESP, spi, 4, V1_N_RESPONDER_LIFETIME, attrs, aw.len);
	}
	size_t len = v1_seal(sa, &w, hash_at, q->msgid, q->ni, q->ni_len, q->iv);
	if (len == 0 || qm_keep_tx(q, w.buf, len) != 0)
		return -1;
	q->st = QM_R2;
	q->seq = 1;
	q->rtx_at = e->now + v1_rtx_timeout(e, 0);
	if (e->status[q->conn].state != IKE_STATE_PHASE2_SUCCEEDED &&
	    e->status[q->conn].cause == IKE_CAUSE_NONE)
		ike_status_set(&e->status[q->conn], IKE_STATE_PHASE2_NEGOTIATING, e->now);
	v1_send_raw(e, sa, q->tx, q->tx_len);
	/*
	 * Installed now, not at QM3: the initiator (strongSwan too) moves its
	 * traffic to the new pair as soon as it has QM2, and its ESP must
	 * find our inbound SA (INTEROP: lost pings on peer-driven rekeys).
	 * If QM3 never comes the pair is removed again (v1_qm_tick).
	 */
	q->installed = qm_install(e, sa, q);
	return 0;
}

/* A new exchange for QM1 as the responder chose it. */
static void qm_r1_init(struct v1_qm *q, uint32_t msgid, uint32_t conn, const struct ts *tsl,
                       const struct ts *tsr, const struct config_ipsec *ip,
                       const struct v1_esp_choice *ch, uint32_t peer_s)
{
	memset(q, 0, sizeof(*q));
	q->used = true;
	q->msgid = msgid;
	q->conn = conn;
	q->tsl = *tsl;
	q->tsr = *tsr;
	q->encr = ch->encr;
	q->integ = ch->integ;
	q->encap = ch->encap;
	q->pfs = ip->pfs ? ip->pfs_group : CRYPTO_INTEG_NONE;
	q->lifetime_s = life_min(ip->lifetime, peer_s);
	q->lifetime_kb = life_min(ch->life_kb, config_kb(ip));
	q->nr_len = V1_NONCE_LEN;
	crypto_random(q->nr, q->nr_len);
}

/* QM1 as responder: the pair, the ESP choice, [PFS], KEYMAT, then QM2 and install. */
static void qm_r1(struct ikev1 *e, struct v1_sa *sa, const struct v1_hdr *h, const struct v1_msg *m,
                  const uint8_t *next_iv, const uint8_t *digest)
{
	struct v1_proposal *p;
	struct ts tsl, tsr;
	struct v1_esp_choice ch;
	enum ike_cause cause;
	const char *remedy;
	char why[2 * IKE_EVIDENCE_MAX];
	unsigned idx;
	int conn, rc;
	struct v1_qm *q;
	uint8_t ke[CRYPTO_DH_MAX_PUBLIC], gqm[CRYPTO_DH_MAX_SECRET];
	int ke_len = 0, gqm_len = 0;

	if (m->sa.p == NULL || m->nonce.p == NULL || m->nonce.len < V1_NONCE_MIN ||
	    m->nonce.len > V1_NONCE_MAX || (m->n_id != 0 && m->n_id != 2)) {
		e->st.malformed++;
		return;
	}
	conn = qm_r1_selectors(e, sa, m, &tsl, &tsr);
	if (conn < 0)
		return;
	const struct config_ipsec *ip = &e->conns[conn].cfg->ipsec;
	p = malloc(sizeof(*p));
	if (p == NULL)
		return;
	rc = v1_sa_parse(&m->sa, p);
	if (rc != 0 || p->proto != V1_PROTO_ESP || p->spi_len != 4) {
		free(p);
		v1_count_parse_error(e, rc);
		return;
	}
	if (v1_esp_choose(ip, p, m->ke.p != NULL, &ch, &idx, &cause, &remedy, why, sizeof(why)) !=
	    0) {
		free(p);
		qm_r_fail(e, sa, (uint32_t)conn, cause, V1_N_NO_PROPOSAL_CHOSEN, remedy, why);
		return;
	}
	q = qm_slot(sa);
	if (q == NULL) {
		free(p);
		return; /* busy: the peer retransmits */
	}
	/*
	 * No lifetime at all means 28800 s to the peer (RFC 2407 4.5); only
	 * kilobytes, no time limit. Ours applies if shorter (and is said in QM2).
	 */
	uint32_t peer_s = ch.life != 0 || ch.life_kb != 0 ? ch.life : V1_LIFE_DEFAULT_S;
	qm_r1_init(q, h->msgid, (uint32_t)conn, &tsl, &tsr, ip, &ch, peer_s);
	q->spi_out = get_be32(p->spi);
	memcpy(q->iv, next_iv, crypto_alg(sa->encr)->block_len);
	memcpy(q->rx_digest, digest, sizeof(q->rx_digest));
	memcpy(q->ni, m->nonce.p, m->nonce.len);
	q->ni_len = (uint16_t)m->nonce.len;
	q->spi_in = e->ops.spi_alloc(e->ops.ctx, q->conn);
	if (q->spi_in == 0)
		goto fail;
	if (q->pfs != CRYPTO_INTEG_NONE) {
		ke_len = dh_pub(q, q->pfs, ke);
		if (ke_len < 0)
			goto fail;
		gqm_len = qm_dh_shared(q, &m->ke, gqm, sizeof(gqm));
		if (gqm_len <= 0) {
			qm_r_fail(e, sa, q->conn, IKE_CAUSE_PFS_MISMATCH,
			          V1_N_INVALID_KEY_INFORMATION, NULL,
			          "quick mode KE does not fit our PFS group");
			goto fail;
		}
	}
	rc = qm_keys(e, sa, q, gqm_len > 0 ? gqm : NULL, gqm_len > 0 ? (size_t)gqm_len : 0);
	crypto_wipe(gqm, sizeof(gqm));
	if (rc != 0 || qm_r2(e, sa, q, m, &p->t[idx], ke, (size_t)ke_len, peer_s, ch.life_kb) != 0)
		goto fail;
	free(p);
	return;
fail:
	free(p);
	v1_qm_free(q);
}

void v1_qm_input(struct ikev1 *e, struct v1_sa *sa, const struct v1_hdr *h, const uint8_t *msg,
                 size_t len)
{
	struct v1_msg m;
	struct v1_qm *q;
	uint8_t d[20], iv[V1_BLOCK_MAX], next[V1_BLOCK_MAX], hb[CRYPTO_PRF_MAX_OUT];
	size_t bs, hl;

	if (sa->st != P1_ESTABLISHED)
		return; /* overtook the last phase 1 message: the peer retransmits it */
	if (!(h->flags & V1_FLAG_E) || h->msgid == 0) {
		e->st.malformed++;
		return;
	}
	bs = crypto_alg(sa->encr)->block_len;
	v1_digest(msg, len, d);
	q = qm_find(sa, h->msgid);
	if (q != NULL && memcmp(d, q->rx_digest, sizeof(d)) == 0) {
		if (q->tx != NULL && v1_may_resend(e->now, &q->resent_at)) {
			e->st.resp_resent++;
			v1_send_raw(e, sa, q->tx, q->tx_len);
		}
		return;
	}
	if (q == NULL) {
		if (v1_iv_msgid(sa->prf, sa->keys->iv, bs, h->msgid, iv) != 0 ||
		    v1_open(e, sa, h, msg, len, iv, next, &m) != 0)
			goto bad;
		hl = v1_hash_a(sa, false, h->msgid, NULL, 0, NULL, 0, m.after_hash,
		               (size_t)(m.end - m.after_hash), hb);
		if (hl == 0 || hl != m.hash.len || !crypto_ct_equal(hb, m.hash.p, hl))
			goto bad;
		v1_sa_follow(e, sa);
		qm_r1(e, sa, h, &m, next, d);
		return;
	}
	if (q->st == QM_DONE || v1_open(e, sa, h, msg, len, q->iv, next, &m) != 0)
		goto bad;
	if (q->st == QM_I1) {
		hl = v1_hash_a(sa, false, h->msgid, q->ni, q->ni_len, NULL, 0, m.after_hash,
		               (size_t)(m.end - m.after_hash), hb);
		if (hl == 0 || hl != m.hash.len || !crypto_ct_equal(hb, m.hash.p, hl))
			goto bad;
		memcpy(q->iv, next, bs);
		memcpy(q->rx_digest, d, sizeof(d));
		v1_sa_follow(e, sa);
		qm_i2(e, sa, q, &m);
		return;
	}
	/* QM_R2: QM3 = HASH(3) alone. */
	hl = v1_hash_a(sa, true, h->msgid, q->ni, q->ni_len, q->nr, q->nr_len, NULL, 0, hb);
	if (hl == 0 || hl != m.hash.len || !crypto_ct_equal(hb, m.hash.p, hl))
		goto bad;
	v1_sa_follow(e, sa);
	if (!q->installed)
		q->installed = qm_install(e, sa, q);
	if (q->installed && e->ops.child_outbound != NULL)
		e->ops.child_outbound(e->ops.ctx, q->conn, q->spi_in);
	v1_qm_free(q);
	return;
bad:
	e->st.decrypt_failed++;
}

void v1_qm_abandon(struct ikev1 *e, struct v1_sa *sa)
{
	for (unsigned i = 0; i < V1_QM_MAX; i++) {
		struct v1_qm *q = sa->qm[i];
		struct v1_conn *c;

		if (q == NULL || !q->used || q->st == QM_DONE)
			continue;
		c = v1_conn(e, q->conn);
		if (!q->initiator) {
			/* Installed at QM2, and its QM3 can no longer come: as when it never did.
			 */
			for (unsigned k = 0; c != NULL && q->installed && k < c->n_ch; k++)
				if (c->ch[k].spi_in == q->spi_in) {
					child_remove(e, c, q->conn, k, true);
					break;
				}
		} else if (c != NULL && q->rekey_of != 0) {
			for (unsigned k = 0; k < c->n_ch; k++)
				if (c->ch[k].spi_in == q->rekey_of)
					c->ch[k].rekeying = false;
		} else if (c != NULL) {
			c->fill_pending = true;
		}
		v1_qm_free(q);
	}
}

/* ---- timers ------------------------------------------------------------------------------- */

void v1_qm_tick(struct ikev1 *e, struct v1_sa *sa)
{
	for (unsigned i = 0; i < V1_QM_MAX && !sa->dead; i++) {
		struct v1_qm *q = sa->qm[i];

		if (q == NULL || !q->used)
			continue;
		if (q->st == QM_DONE) {
			if (e->now >= q->done_at + V1_QM_DONE_KEEP_MS)
				v1_qm_free(q);
			continue;
		}
		if (e->now < q->rtx_at)
			continue;
		if (q->rtx_n >= v1_rtx_tries(e)) {
			struct v1_conn *c = v1_conn(e, q->conn);

			/* A failed extra exchange leaves a working tunnel's status alone. */
			v1_retransmits_exhausted(e, q->conn, IKE_STATE_PHASE2_FAILED,
			                         q->rekey_of == 0 && (c == NULL || c->n_ch == 0),
			                         q->rtx_n, q->msgid, q->seq);
			if (c != NULL) {
				for (unsigned k = 0; k < c->n_ch; k++) {
					if (c->ch[k].spi_in == q->rekey_of)
						c->ch[k].rekeying = false;
					/* Installed at QM2 and never confirmed: take it out. */
					if (q->installed && c->ch[k].spi_in == q->spi_in) {
						child_remove(e, c, q->conn, k, true);
						k--;
					}
				}
				if (q->initiator)
					c->qm_retry_at = e->now + e->tun.restart_delay_ms;
			}
			v1_qm_free(q);
			continue;
		}
		q->rtx_n++;
		v1_log_retransmit(e, q->conn, q->rtx_n, q->msgid, q->seq);
		v1_send_raw(e, sa, q->tx, q->tx_len);
		q->rtx_at = e->now + v1_rtx_timeout(e, q->rtx_n);
	}
}

void v1_child_peer_deleted(struct ikev1 *e, uint32_t conn, unsigned i)
{
	struct v1_conn *c = v1_conn(e, conn);
	struct v1_child *ch = &c->ch[i];

	if (ch->retire_at_ms != 0 && e->now < ch->retire_at_ms) {
		ike_log(&e->ops, IKE_LOG_INFO, conn,
		        "peer deleted rekeyed IPsec SA: spi in 0x%08x out 0x%08x kept %u ms more "
		        "for "
		        "packets in flight",
		        ch->spi_in, ch->spi_out, (unsigned)(ch->retire_at_ms - e->now));
		ch->peer_deleted = true;
		return;
	}
	ike_log(&e->ops, IKE_LOG_INFO, conn,
	        "peer deleted IPsec SA: removing spi in 0x%08x out 0x%08x", ch->spi_in,
	        ch->spi_out);
	child_remove(e, c, conn, i, false);
}

/* A superseded child whose grace is over: gone if we rekeyed it or the peer deleted it. */
static bool child_retire_due(const struct ikev1 *e, const struct v1_child *ch)
{
	return ch->retire_at_ms != 0 && e->now >= ch->retire_at_ms &&
	       (ch->retire_by_us || ch->peer_deleted);
}

void v1_child_tick(struct ikev1 *e, uint32_t conn)
{
	struct v1_conn *c = v1_conn(e, conn);

	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->n_ch; i++) {
		struct v1_child *ch = &c->ch[i];

		if (child_retire_due(e, ch)) {
			ike_log(&e->ops, IKE_LOG_INFO, conn, "rekeyed IPsec SA 0x%08x retired",
			        ch->spi_in);
			child_remove(e, c, conn, i, !ch->peer_deleted);
			i--;
			continue;
		}
		if (e->now >= ch->expire_at_ms) {
			ike_log(&e->ops, IKE_LOG_INFO, conn, "IPsec SA 0x%08x expired", ch->spi_in);
			child_remove(e, c, conn, i, true);
			i--;
			v1_conn_children_gone(e, conn, true);
			continue;
		}
		if (ch->rekey_at_ms != 0 && e->now >= ch->rekey_at_ms && !ch->rekeying &&
		    c->sa != NULL && c->sa->st == P1_ESTABLISHED) {
			ike_log(&e->ops, IKE_LOG_INFO, conn, "rekeying IPsec SA 0x%08x",
			        ch->spi_in);
			if (v1_qm_start(e, c->sa, conn, &ch->tsl, &ch->tsr, ch->spi_in) == 0)
				ch->rekeying = true;
		}
	}
	if (c->fill_pending && c->sa != NULL && c->wanted)
		v1_qm_fill(e, c->sa);
	if (c->qm_retry_at != 0 && e->now >= c->qm_retry_at && c->sa != NULL) {
		c->qm_retry_at = 0;
		if (c->wanted)
			v1_qm_fill(e, c->sa);
	}
}
