/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IKEv1 engine's internal state, shared by its files:
 *   ikev1.c        API, tables (ISAKMP SAs hashed by cookies), dispatch,
 *                  sending, retransmission, timers
 *   ikev1_p1.c     phase 1: main and aggressive mode, proposals, NAT-D
 *   ikev1_qm.c     phase 2: quick mode, ESP proposals, KEYMAT, children
 *   ikev1_info.c   informational exchanges: notify, delete, DPD, NAT keepalive
 *   ikev1_prop.c   proposals (ISAKMP and ESP) and quick mode ID payloads
 *   ikev1_msg.c    the ISAKMP codec; ikev1_crypto.c IVs, CBC, hashes, KEYMAT
 */
#ifndef VPNGW_IKEV1_INT_H
#define VPNGW_IKEV1_INT_H

#include <string.h>

#include "crypto_dh.h"
#include "ikev1.h"
#include "ikev1_crypto.h"
#include "ikev1_msg.h"
#include "ikev1_prop.h"

enum {
	V1_BUCKETS = 4096, /* ISAKMP SA hash buckets (by initiator cookie) */
	V1_NONCE_LEN = 32, /* nonces we send */
	V1_NONCE_MIN = 8,
	V1_NONCE_MAX = 256,
	V1_ID_MAX = 4 + 256,
	V1_QM_MAX = 16, /* quick modes at once under one ISAKMP SA */
	V1_QM_DONE_KEEP_MS = 30000,
	V1_VID_LEN = 16,
	/* A repeated peer message gets our answer again at most this often. */
	V1_RESEND_GAP_MS = 500,
	/* A phase 1 we answer that does not complete in this time is dropped. */
	V1_HALF_OPEN_MS = 60000,
	/* At most this many phase 1 exchanges answered and not yet complete. */
	V1_HALF_OPEN_MAX = 4096,
	/* Quick mode waits this long after our AM3. */
	V1_AM_QM_DELAY_MS = 200,
	/* An IPsec SA lifetime left unspecified (RFC 2407 4.5). */
	V1_LIFE_DEFAULT_S = 28800,
};

enum v1_p1_state {
	P1_I_MM1, /* initiator: sent MM1, waiting MM2 */
	P1_I_MM3,
	P1_I_MM5,
	P1_R_MM2, /* responder: sent MM2, waiting MM3 */
	P1_R_MM4,
	P1_I_AM1,
	P1_R_AM2,
	P1_ESTABLISHED,
};

/* Secret material of an ISAKMP SA: in locked memory, wiped on free. */
struct v1_keys {
	struct crypto_sym sym; /* phase 1 cipher */
	struct crypto_ikev1_keys k;
	uint8_t iv[V1_BLOCK_MAX]; /* phase 1 CBC chain */
};

enum v1_qm_state {
	QM_I1 = 1, /* initiator: sent QM1, waiting QM2 */
	QM_R2,     /* responder: sent QM2, waiting QM3 */
	QM_DONE,   /* initiator: sent QM3 (kept to answer a repeated QM2) */
};

/* Keys of a negotiated child while it waits to be installed. */
struct v1_qm {
	bool used;
	bool initiator;
	uint8_t st; /* enum v1_qm_state */
	uint32_t msgid;
	uint8_t iv[V1_BLOCK_MAX];
	uint8_t ni[V1_NONCE_MAX], nr[V1_NONCE_MAX];
	uint16_t ni_len, nr_len;
	struct crypto_dh *dh;
	uint32_t conn;
	uint32_t spi_in, spi_out;
	struct ts tsl, tsr;
	enum crypto_alg_id encr, integ, pfs;
	uint32_t lifetime_s;
	uint32_t lifetime_kb; /* 0: none */
	uint16_t encap;
	uint32_t rekey_of;       /* inbound SPI of the child this replaces, 0: none */
	struct ike_child *child; /* keys ready to install (locked memory) */
	bool installed;          /* the pair is in the data plane */
	uint8_t *tx;
	size_t tx_len;
	uint64_t rtx_at;
	unsigned rtx_n;
	uint64_t done_at;
	uint8_t rx_digest[20]; /* of the peer's last message of this exchange */
	unsigned seq;          /* message of ours in this exchange, for the log */
	uint64_t resent_at;    /* when a repeat of the peer's was last answered */
};

struct v1_sa {
	struct v1_sa *hnext;         /* cookie hash chain */
	struct v1_sa *anext, *aprev; /* all SAs (timers) */
	uint32_t conn;
	bool initiator;
	bool aggressive;
	bool dead; /* unlinked at the end of the current call */
	enum v1_p1_state st;
	uint8_t cky_i[8], cky_r[8];
	struct ike_endpoint local, remote;
	enum crypto_alg_id encr, prf, group;
	uint32_t lifetime_s;
	struct crypto_dh *dh;
	uint8_t gxi[CRYPTO_DH_MAX_PUBLIC], gxr[CRYPTO_DH_MAX_PUBLIC];
	uint16_t gx_len;
	uint8_t ni[V1_NONCE_MAX], nr[V1_NONCE_MAX];
	uint16_t ni_len, nr_len;
	uint8_t *sai_b; /* initiator's SA payload body (for HASH_I/R) */
	size_t sai_len;
	uint8_t id_b[V1_ID_MAX]; /* our phase 1 ID body */
	size_t id_len;
	uint8_t peer_id_b[V1_ID_MAX]; /* aggressive responder: IDii for HASH_I */
	size_t peer_id_len;
	struct v1_keys *keys;
	/* our last phase 1 message, for retransmits and repeated requests */
	uint8_t *tx;
	size_t tx_len;
	bool tx_rtx; /* retransmit it until answered */
	uint64_t rtx_at;
	unsigned rtx_n;
	unsigned seq;          /* phase 1 message pair number, for the retransmit log */
	uint8_t rx_digest[20]; /* of the peer's last phase 1 message */
	bool has_rx_digest;
	uint64_t resent_at; /* when a repeat of the peer's was last answered */
	/* peer capabilities and NAT */
	bool peer_dpd, peer_natt, peer_natt_draft;
	bool nat_local, nat_remote;
	bool initial_contact; /* send INITIAL-CONTACT (a fresh phase 1) */
	bool rekey_of_old;    /* a rekey: the connection had an ISAKMP SA */
	/* liveness */
	uint64_t last_rx_ms;
	uint64_t dpd_at;
	uint32_t dpd_seq;
	bool dpd_wait;
	unsigned dpd_tries;
	uint64_t keepalive_at;
	/* lifetime */
	/* rekey_at_ms: the next attempt (pushed on by each, so a failed one is tried again) */
	uint64_t started_ms, established_ms, rekey_at_ms, expire_at_ms;
	struct v1_qm *qm[V1_QM_MAX]; /* allocated when first needed */
};

struct v1_child {
	uint32_t spi_in, spi_out;
	struct ts tsl, tsr;
	enum crypto_alg_id encr, integ;
	bool udp_encap;
	bool initiator;
	uint32_t lifetime_s;
	uint32_t lifetime_kb; /* the data plane's byte limit, 0: none */
	uint64_t installed_ms, rekey_at_ms, expire_at_ms;
	bool rekeying;
	/*
	 * Superseded by a rekey: its inbound SA serves ESP still in flight
	 * until retire_at_ms (IKE_REKEY_GRACE_MS after the new pair), later
	 * if the peer has not deleted it (bounded by expire_at_ms). We delete
	 * it then (and tell the peer) when we made the rekey; otherwise when
	 * the peer's Delete has come.
	 */
	uint64_t retire_at_ms;
	bool retire_by_us;
	bool peer_deleted;
};

struct v1_conn {
	bool v1; /* ike.version is ikev1 */
	bool wanted;
	const struct config_connection *cfg;
	struct ike_endpoint peer; /* port 500 */
	struct ike_endpoint local;
	struct v1_sa *sa;  /* the newest established ISAKMP SA, or NULL */
	struct v1_sa *neg; /* a phase 1 we initiated that is under way */
	struct v1_child *ch;
	unsigned n_ch, cap_ch;
	struct ts loc[IKE_TS_MAX], rem[IKE_TS_MAX];
	unsigned n_loc, n_rem;
	uint64_t restart_at;  /* 0: none */
	uint64_t qm_retry_at; /* after a failed quick mode; 0: none */
	bool fill_pending;    /* pairs wait for a free quick mode slot */
	/*
	 * The outer endpoints of the newest ISAKMP SA and whether the peer is
	 * behind a NAT: a peer behind a NAT is reached again only through its
	 * mapping, not at its configured address.
	 */
	struct ike_endpoint via_local, via_remote;
	bool via_nat;
};

/*
 * A connection needs an ISAKMP SA while it is wanted or has children:
 * without one, children get no DPD and no rekey.
 */
static inline bool v1_conn_needs_ike(const struct v1_conn *c)
{
	return c->wanted || c->n_ch > 0;
}

struct ikev1 {
	const struct config *cfg;
	struct ike_ops ops;
	struct ike_status *status;
	struct v1_conn *conns;
	uint32_t n_conns;
	struct v1_sa *buckets[V1_BUCKETS];
	struct v1_sa *all;
	struct ikev1_stats st;
	struct ikev1_tunables tun;
	uint8_t vid_rfc3947[V1_VID_LEN], vid_draft02[V1_VID_LEN], vid_draft03[V1_VID_LEN];
	uint8_t vid_dpd[V1_VID_LEN];
	uint8_t buf[IKE_MSG_MAX + 4];            /* building */
	uint8_t plain[IKE_MSG_MAX];              /* decrypted input */
	uint8_t out[IKE_MSG_MAX + 4];            /* a datagram with the non-ESP marker */
	struct ike_endpoint rx_local, rx_remote; /* of the message being handled */
	uint64_t now;
};

/* ---- ikev1.c ---- */
struct v1_sa *v1_sa_new(struct ikev1 *e, uint32_t conn, bool initiator,
                        const struct ike_endpoint *local, const struct ike_endpoint *remote);
void v1_sa_link(struct ikev1 *e, struct v1_sa *sa);
/* The live SA with exactly these cookies (hash lookup), or NULL. */
struct v1_sa *v1_sa_find(struct ikev1 *e, const uint8_t cky_i[8], const uint8_t cky_r[8]);
void v1_sa_kill(struct ikev1 *e, struct v1_sa *sa);
/* After an authenticated message: last_rx, and follow the peer to 4500 / a new NAT mapping. */
void v1_sa_follow(struct ikev1 *e, struct v1_sa *sa);
/* CKY-I | CKY-R: the ISAKMP SA's SPI in notifies, deletes and NAT-D hashes. */
static inline void v1_cookies(const struct v1_sa *sa, uint8_t out[16])
{
	memcpy(out, sa->cky_i, 8);
	memcpy(out + 8, sa->cky_r, 8);
}
/* The keys of a phase 1 are in place (SKEYID derived). */
static inline bool v1_keyed(const struct v1_sa *sa)
{
	return sa->keys != NULL && sa->keys->k.len != 0;
}
/* Sends raw message bytes from sa's endpoints (marker added on 4500). */
void v1_send_raw(struct ikev1 *e, const struct v1_sa *sa, const uint8_t *msg, size_t len);
/* Keeps a copy of a phase 1 message as the SA's last and sends it. */
void v1_p1_send(struct ikev1 *e, struct v1_sa *sa, const uint8_t *msg, size_t len, bool rtx);
/* The shared schedule (ike.h) at the tuned base. */
static inline uint32_t v1_rtx_timeout(const struct ikev1 *e, unsigned n)
{
	return ike_retransmit_timeout_base_ms(e->tun.retransmit_base_ms, n);
}
unsigned v1_rtx_tries(const struct ikev1 *e);
/* "sending retransmit N of request message ID M, seq S" (DESIGN.md's evidence), counted. */
void v1_log_retransmit(struct ikev1 *e, uint32_t conn, unsigned n, uint32_t msgid, unsigned seq);
/* Retransmits of a request exhausted: logged; the status says so when set_status. */
void v1_retransmits_exhausted(struct ikev1 *e, uint32_t conn, enum ike_state state, bool set_status,
                              unsigned n, uint32_t msgid, unsigned seq);
/* Whether a repeated peer message may be answered again now (rate limit). */
static inline bool v1_may_resend(uint64_t now, uint64_t *resent_at)
{
	if (*resent_at != 0 && now < *resent_at + V1_RESEND_GAP_MS)
		return false;
	*resent_at = now;
	return true;
}
/*
 * When to rekey an SA of life_ms (from now): the soft limit (90%) minus
 * jitter, but leaving four first-retransmit intervals before the hard
 * limit, and never before half the lifetime.
 */
uint64_t v1_soft_ms(struct ikev1 *e, uint64_t life_ms);
/*
 * When the responder of an SA of life_ms rekeys it if the initiator has
 * not: after the latest soft limit of the initiator, halfway to the hard
 * limit, minus jitter, so the two sides do not race.
 */
uint64_t v1_late_ms(struct ikev1 *e, uint64_t life_ms);
/* The connection's engine state, NULL when it is not an IKEv1 connection. */
struct v1_conn *v1_conn(struct ikev1 *e, uint32_t conn);
void v1_conn_restart_later(struct ikev1 *e, uint32_t conn);
/* Starts a phase 1 if the connection needs an ISAKMP SA and has none, nor one under way. */
void v1_conn_keep_phase1(struct ikev1 *e, uint32_t conn);
/*
 * The connection's last child is gone: its status says what is left
 * (phase 2 negotiating under an ISAKMP SA, phase 1 negotiating, down);
 * refill: quick modes again soon when wanted.
 */
void v1_conn_children_gone(struct ikev1 *e, uint32_t conn, bool refill);
int v1_initiate(struct ikev1 *e, uint32_t conn, bool rekey);
void v1_children_delete_all(struct ikev1 *e, uint32_t conn, bool notify);
bool v1_id_matches(const struct ikev1 *e, uint32_t conn, const struct v1_idpl *id, char *got,
                   size_t got_len);

/* Counts a v1_sa_parse() failure. */
static inline void v1_count_parse_error(struct ikev1 *e, int rc)
{
	e->st.malformed++;
	if (rc == V1_PARSE_TOO_MANY_ATTRS)
		e->st.too_many_attrs++;
}

/*
 * A phase 1 failure of sa may set the connection's status: not while the
 * tunnel works (another ISAKMP SA, or children that still carry traffic).
 */
static inline bool v1_may_fail_status(struct ikev1 *e, const struct v1_sa *sa)
{
	const struct v1_conn *c = v1_conn(e, sa->conn);

	return c == NULL || ((c->sa == NULL || c->sa == sa) && c->n_ch == 0);
}

/* ---- ikev1_p1.c ---- */
void v1_p1_input(struct ikev1 *e, struct v1_sa *sa, const struct v1_hdr *h, const uint8_t *msg,
                 size_t len);
struct v1_sa *v1_p1_responder(struct ikev1 *e, const struct ike_endpoint *local,
                              const struct ike_endpoint *remote, const struct v1_hdr *h,
                              const uint8_t *msg, size_t len);
int v1_p1_start(struct ikev1 *e, struct v1_sa *sa);
void v1_p1_established(struct ikev1 *e, struct v1_sa *sa);
void v1_initial_contact(struct ikev1 *e, struct v1_sa *sa);
void v1_digest(const uint8_t *msg, size_t len, uint8_t out[20]);

/* ---- ikev1_qm.c ---- */
/* The peer deleted child i of conn: removed now, or at the end of its grace. */
void v1_child_peer_deleted(struct ikev1 *e, uint32_t conn, unsigned i);
void v1_qm_input(struct ikev1 *e, struct v1_sa *sa, const struct v1_hdr *h, const uint8_t *msg,
                 size_t len);
/* Opens quick modes for every local x remote pair without a child. */
void v1_qm_fill(struct ikev1 *e, struct v1_sa *sa);
int v1_qm_start(struct ikev1 *e, struct v1_sa *sa, uint32_t conn, const struct ts *tsl,
                const struct ts *tsr, uint32_t rekey_of);
void v1_qm_free(struct v1_qm *q);
/*
 * sa goes: the quick modes we started under it end, so their pairs are
 * rekeyed (or made) under the connection's next ISAKMP SA.
 */
void v1_qm_abandon(struct ikev1 *e, struct v1_sa *sa);
void v1_qm_tick(struct ikev1 *e, struct v1_sa *sa);
void v1_child_tick(struct ikev1 *e, uint32_t conn);

/* ---- ikev1_info.c ---- */
void v1_info_input(struct ikev1 *e, struct v1_sa *sa, const struct v1_hdr *h, const uint8_t *msg,
                   size_t len);
/* An informational with one notify; encrypted with HASH when sa has keys. */
void v1_info_notify(struct ikev1 *e, struct v1_sa *sa, uint8_t proto, const uint8_t *spi,
                    size_t spi_len, uint16_t type, const uint8_t *data, size_t data_len);
void v1_info_delete(struct ikev1 *e, struct v1_sa *sa, uint8_t proto, const uint8_t *spi,
                    size_t spi_len);
/*
 * prf(SKEYID_a, [0 |] M-ID | [Ni_b |] [Nr_b |] rest): quick mode HASH(1)
 * (no nonces), HASH(2) (ni), HASH(3) (zero, ni, nr, no rest) and the
 * informational HASH(1). Returns the hash length, 0 on error.
 */
size_t v1_hash_a(const struct v1_sa *sa, bool zero, uint32_t msgid, const uint8_t *ni,
                 size_t ni_len, const uint8_t *nr, size_t nr_len, const uint8_t *rest,
                 size_t rest_len, uint8_t *out);
/*
 * Finishes w and encrypts all after the header with sa's cipher and iv
 * (then the last cipher block), sets the E flag and the new length.
 * Returns the message length, 0 on error.
 */
size_t v1_wr_encrypt(const struct v1_sa *sa, struct v1_wr *w, uint8_t *iv);
/* Opens a HASH payload with a zero body; returns its offset for v1_seal(). */
size_t v1_wr_hash_slot(const struct v1_sa *sa, struct v1_wr *w);
/*
 * Fills the HASH at hash_at (over M-ID [| ni] | the rest of the message),
 * pads and encrypts after the header with iv (then the last cipher block).
 * Returns the message length, 0 on error.
 */
size_t v1_seal(struct v1_sa *sa, struct v1_wr *w, size_t hash_at, uint32_t msgid, const uint8_t *ni,
               size_t ni_len, uint8_t *iv);
/*
 * Decrypts an encrypted quick mode / informational message with iv into
 * e->plain and parses it; next_iv gets the last cipher block. 0 or -1.
 */
int v1_open(struct ikev1 *e, struct v1_sa *sa, const struct v1_hdr *h, const uint8_t *msg,
            size_t len, const uint8_t *iv, uint8_t *next_iv, struct v1_msg *m);
void v1_dpd_tick(struct ikev1 *e, struct v1_sa *sa);

#endif
