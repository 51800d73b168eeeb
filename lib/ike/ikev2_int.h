/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv2 engine internals shared by its files: the IKE SA and child
 * records, the engine, and the functions one exchange file calls in
 * another. Not for use outside lib/ike/ikev2*.c (tests may read it).
 */
#ifndef VPNGW_IKEV2_INT_H
#define VPNGW_IKEV2_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto_dh.h"
#include "crypto_prf.h"
#include "crypto_sym.h"
#include "ike.h"
#include "ikev2.h"
#include "ikev2_msg.h"

enum {
	IKEV2_TAB_MIN = 64,
	IKEV2_KEY_MAX = 64, /* longest SK_* key (catalogue key_len / prf out_len) */
	IKEV2_JITTER_PCT = 5,
	IKEV2_REKEY_RETRY_MS = 10000, /* a rekey that failed is tried again after this */
	/*
	 * After TEMPORARY_FAILURE (2.25) we must wait before trying again. A
	 * child exchange and an IKE rekey that crossed fail on both sides; their
	 * retries are this far apart so they cannot cross again in lockstep.
	 */
	IKEV2_CHILD_TEMP_RETRY_MS = IKEV2_REKEY_RETRY_MS,
	IKEV2_IKE_TEMP_RETRY_MS = 2 * IKEV2_REKEY_RETRY_MS,
	/* Log lines a remote sender can cause: one per source or connection this often. */
	IKEV2_LOG_INTERVAL_MS = 5000,
	IKEV2_LOG_SOURCES = 64, /* buckets for sources with no connection (hashed address) */
};

/* One kind of log line, rate-limited (ikev2_log_limited). */
struct ikev2_ratelimit {
	uint64_t last_ms;
	uint64_t suppressed; /* held back since the last line that went out */
	bool used;
};

/* What a connection's remote-triggered lines are about. */
enum ikev2_rl_kind {
	IKEV2_RL_INIT_REFUSED, /* IKE_SA_INIT without an acceptable proposal */
	IKEV2_RL_INVALID_KE,   /* IKE_SA_INIT with the wrong KE group */
	IKEV2_RL_AUTH_FAILED,  /* IKE_AUTH that does not verify */
	IKEV2_RL_KINDS,
};

/* The keys of one IKE SA: locked memory, wiped on free. */
struct ikev2_keys {
	struct crypto_sym in;  /* verifies and decrypts what the peer sends */
	struct crypto_sym out; /* protects what we send */
	uint8_t sk_d[IKEV2_KEY_MAX];
	uint8_t sk_pi[IKEV2_KEY_MAX];
	uint8_t sk_pr[IKEV2_KEY_MAX];
	/* Raw SK_e/SK_a for diagnostics and tests (tshark decryption table). */
	uint8_t sk_ei[IKEV2_KEY_MAX], sk_er[IKEV2_KEY_MAX];
	uint8_t sk_ai[IKEV2_KEY_MAX], sk_ar[IKEV2_KEY_MAX];
	size_t prf_len, e_len, a_len;
};

enum ikev2_child_state {
	IKEV2_CHILD_INSTALLED,
	IKEV2_CHILD_REKEYING, /* our rekey request is out */
	IKEV2_CHILD_REKEYED,  /* replaced: its delete is pending */
};

struct ikev2_child {
	struct ikev2_child *next;
	uint32_t conn;
	uint32_t spi_in, spi_out;
	enum crypto_alg_id encr, integ;
	bool esn;
	bool udp_encap;
	uint8_t state;
	bool installed;    /* in the data plane (a lost collision's child is not) */
	bool peer_rekeyed; /* the peer rekeyed it while ours was out (collision) */
	/*
	 * Made by the peer's rekey of the child whose spi_in this is: installed
	 * with outbound_later, it sends once the peer deletes that one; 0: sends.
	 */
	uint32_t outbound_waits_for;
	uint32_t peer_new_spi; /* spi_in of the child the peer's rekey made */
	struct ts ts_l[IKE_TS_MAX], ts_r[IKE_TS_MAX];
	unsigned n_ts_l, n_ts_r;
	uint64_t installed_ms;
	uint64_t rekey_at_ms;
	uint64_t expire_at_ms; /* hard lifetime (ipsec.lifetime after install); 0: none */
	/*
	 * Past its hard lifetime: the data plane no longer uses it (removed
	 * there), only its Delete is due. A rekey still out may replace it, but
	 * one that fails must not bring it back.
	 */
	bool expired;
	/* The nonces of the exchange that made it (collision resolution). */
	uint8_t n_min[IKEV2_NONCE_MAX];
	size_t n_min_len;
};

enum ikev2_sa_state {
	IKEV2_SA_INIT_SENT, /* initiator: IKE_SA_INIT out */
	IKEV2_SA_HALF_OPEN, /* responder: IKE_SA_INIT answered */
	IKEV2_SA_AUTH_SENT, /* initiator: IKE_AUTH out */
	IKEV2_SA_ESTABLISHED,
	IKEV2_SA_REKEYED, /* replaced by a new IKE SA, delete pending */
	IKEV2_SA_DELETING,
	IKEV2_SA_REKEY_CHILD, /* made by a CREATE_CHILD_SA, not yet established (internal) */
};

/* What our outstanding request is for. */
enum ikev2_req_kind {
	IKEV2_REQ_NONE,
	IKEV2_REQ_INIT,
	IKEV2_REQ_AUTH,
	IKEV2_REQ_CHILD_NEW,
	IKEV2_REQ_CHILD_REKEY,
	IKEV2_REQ_IKE_REKEY,
	IKEV2_REQ_DELETE_CHILD,
	IKEV2_REQ_DELETE_IKE,
	IKEV2_REQ_LIVENESS,
};

/* A child we asked for and the peer has not answered yet. */
struct ikev2_pending {
	uint32_t conn;
	uint32_t spi_in;
	uint32_t old_spi_in; /* rekey: the child being replaced */
	struct crypto_dh *dh;
	uint8_t nonce[IKEV2_NONCE_LEN];
	struct ts ts_l[IKE_TS_MAX], ts_r[IKE_TS_MAX];
	unsigned n_ts_l, n_ts_r;
	struct ikev2_sa *new_sa;      /* IKE rekey: the new SA (state REKEY_CHILD) */
	enum crypto_alg_id pfs_group; /* the KE group sent (with ipsec.pfs) */
	uint32_t ke_tried;            /* INVALID_KE_PAYLOAD retries: groups sent */
};

struct ikev2_sa {
	struct ikev2 *e;
	struct ikev2_sa *all_next, *all_prev;
	struct ikev2_sa *conn_next, *conn_prev; /* the SAs of one connection */
	/* An IKE rekey's new SA: the old SA that points at it (pend.new_sa, peer_new_sa). */
	struct ikev2_sa *rekey_parent;
	uint32_t conn;
	uint8_t state;
	bool initiator; /* the original initiator of this IKE SA */
	bool counted_half_open;
	bool unknown_peer; /* from no customer gateway's address: only its ID is read */
	uint8_t spi_i[IKEV2_SPI_LEN], spi_r[IKEV2_SPI_LEN];
	struct ike_choice ch;
	struct crypto_dh *dh;
	uint8_t ni[IKEV2_NONCE_MAX], nr[IKEV2_NONCE_MAX];
	size_t ni_len, nr_len;
	struct ikev2_keys *k;
	struct ike_endpoint local, remote;
	bool natt;     /* on 4500 with the non-ESP marker */
	bool nat_us;   /* we are behind a NAT: keepalives */
	bool nat_peer; /* the peer is behind a NAT (or fakes it): ESP in UDP */
	bool nat_fake; /* we fake one (tunable fake_nat): ESP in UDP too */

	/* Our requests (window size 1). */
	uint32_t req_id; /* message id of our next request */
	uint8_t req_kind;
	bool req_pending;
	uint8_t *req_buf;
	size_t req_len;
	unsigned req_tries;
	uint64_t req_timeout_ms;
	uint32_t req_spi; /* child the request is about (rekey/delete) */
	struct ikev2_pending pend;

	/* The peer's requests. */
	uint32_t resp_id; /* message id of the peer's next request */
	bool have_resp;
	uint8_t *resp_buf;
	size_t resp_len;

	/* IKE_SA_INIT messages, for AUTH (2.15); freed once authenticated. */
	uint8_t *msg_i, *msg_r;
	size_t msg_i_len, msg_r_len;
	uint8_t cookie[IKEV2_COOKIE_MAX];
	size_t cookie_len;
	unsigned cookie_tries; /* COOKIEs taken: a responder that keeps sending new ones is left */
	enum crypto_alg_id dh_want; /* INVALID_KE_PAYLOAD: retry with this */
	uint32_t ke_tried;          /* IKE_SA_INIT: groups sent (bit per ike.dh entry) */
	uint32_t rekey_ke_tried;    /* the same for the IKE rekey that is under way */
	/*
	 * IKE_SA_INIT answers to an earlier request of ours (all have message
	 * ID 0): datagrams sent of the requests before the current one, and
	 * INVALID_KE_PAYLOADs since that asked for a group already sent.
	 */
	uint32_t init_tx_before;
	uint32_t init_stale_ke;
	enum crypto_alg_id init_stale_group; /* what the last of those asked for */

	struct ikev2_child *children;
	bool peer_rekeyed_ike;          /* collision: the peer rekeyed it too */
	bool peer_deletes;              /* REKEYED by the peer: it sends the delete */
	bool down_queued;               /* vpnctl down while a request was out: Delete after it */
	struct ikev2_sa *peer_new_sa;   /* the SA the peer's IKE rekey made */
	uint8_t n_min[IKEV2_NONCE_MAX]; /* IKE rekey: lowest nonce of its exchange */
	size_t n_min_len;
	uint64_t created_ms, established_ms, last_rx_ms, last_tx_ms;
	uint64_t rekey_at_ms;
	uint64_t expire_at_ms; /* hard lifetime: gone if no rekey made it by then */
	uint64_t keepalive_at_ms;
	uint64_t delete_at_ms; /* half-open timeout, or a REKEYED SA's forced end */
};

struct ikev2_conn {
	struct ikev2_sa *sa;  /* the current IKE SA, NULL when none */
	struct ikev2_sa *sas; /* every IKE SA of the connection (conn_next) */
	uint64_t restart_at_ms;
	uint64_t child_retry_at_ms; /* a new child refused with TEMPORARY_FAILURE: ask again */
	struct ikev2_ratelimit rl[IKEV2_RL_KINDS];
	bool restart;
	bool admin_down;
};

struct ikev2_tab_slot {
	uint64_t key;
	struct ikev2_sa *sa; /* NULL: empty; IKEV2_TOMB: deleted */
};

struct ikev2_tab {
	struct ikev2_tab_slot *slot;
	size_t cap, used, live;
};

struct ikev2 {
	const struct config *cfg;
	struct ike_ops ops;
	struct ike_status *status;
	struct ikev2_stats st;
	struct ikev2_tunables t;
	struct ikev2_conn *conns;
	struct ikev2_sa *all;
	struct ikev2_tab by_spi;      /* our SPI -> SA */
	struct ikev2_tab by_peer_spi; /* responder half-open: the initiator's SPI -> SA */
	/*
	 * Cookie secrets (2.6): [cookie_ver & 1] is the current one, the other
	 * the previous one, still accepted while cookie_prev_ok. Changed every
	 * tunables.cookie_rotate_ms (ikev2_cookie_secret_age).
	 */
	struct ikev2_ratelimit rl_sources[IKEV2_LOG_SOURCES]; /* unknown_peer lines by address */
	uint8_t cookie_secret[2][32];
	uint8_t cookie_ver;
	bool cookie_prev_ok;
	uint64_t cookie_born_ms;
	uint64_t now_ms;
};

/* ---- ikev2_sa.c: SA records, tables, sending ---- */
uint64_t ikev2_spi_key(const uint8_t spi[8]);
/* The SA whose SPI (ours) is spi, or NULL. */
struct ikev2_sa *ikev2_sa_by_spi(struct ikev2 *e, const uint8_t spi[8]);
/* Timeout before retransmit n, scaled by the tunables. */
uint32_t ikev2_retransmit_timeout(const struct ikev2 *e, unsigned n);
/* Past IKE_AUTH: the peer proved who it is (any state but the first exchanges'). */
bool ikev2_sa_authenticated(const struct ikev2_sa *sa);
/* The connection has an established IKE SA (its tunnel may be up). */
bool ikev2_conn_up(const struct ikev2 *e, uint32_t conn);
struct ikev2_sa *ikev2_sa_new(struct ikev2 *e, uint32_t conn, bool initiator, uint64_t now_ms);
void ikev2_sa_destroy(struct ikev2 *e, struct ikev2_sa *sa, bool delete_children);
const uint8_t *ikev2_sa_our_spi(const struct ikev2_sa *sa);
/* Moves sa to another connection (the responder learns it from IDi). */
void ikev2_sa_set_conn(struct ikev2 *e, struct ikev2_sa *sa, uint32_t conn);
/* Sends buf to the peer of sa (marker on 4500). */
void ikev2_send_raw(struct ikev2 *e, const struct ike_endpoint *local,
                    const struct ike_endpoint *remote, bool natt, const uint8_t *buf, size_t len);
/* Sends a request we built and keeps it for retransmits. */
void ikev2_send_request(struct ikev2 *e, struct ikev2_sa *sa, uint8_t kind, const uint8_t *buf,
                        size_t len);
/* Sends a response and caches it for a repeated request. */
void ikev2_send_response(struct ikev2 *e, struct ikev2_sa *sa, const uint8_t *buf, size_t len);
void ikev2_request_done(struct ikev2_sa *sa);
/* Registers / finds a responder SA under the initiator's SPI (repeated IKE_SA_INIT). */
int ikev2_sa_index_peer(struct ikev2 *e, struct ikev2_sa *sa);
struct ikev2_sa *ikev2_sa_by_peer(struct ikev2 *e, const uint8_t spi_i[8],
                                  const struct ike_endpoint *remote);
/* Records a failure, removes sa and its children, restarts the connection if it should. */
void ikev2_sa_fail(struct ikev2 *e, struct ikev2_sa *sa, enum ike_state st, enum ike_cause cause,
                   const char *ev);
/* Starts a connection's first IKE SA. */
void ikev2_initiate(struct ikev2 *e, uint32_t conn, uint64_t now_ms);
/* The connection failed for good (no IKE SA left): status, and restart if wanted. */
void ikev2_conn_failed(struct ikev2 *e, uint32_t conn, bool restart);
struct ike_status *ikev2_status(struct ikev2 *e, uint32_t conn);
const struct config_connection *ikev2_cc(const struct ikev2 *e, uint32_t conn);
uint64_t ikev2_jitter_ms(const struct ikev2 *e, uint64_t lifetime_s);
/*
 * A log line a remote sender can cause, so a flood of them cannot flood
 * the log: it goes out unless rl let one out in the last
 * IKEV2_LOG_INTERVAL_MS (then it is counted, in stats.logs_suppressed and
 * rl), and the next one that goes out says how many were held back.
 */
void ikev2_log_limited(struct ikev2 *e, struct ikev2_ratelimit *rl, enum ike_log_level level,
                       uint32_t conn, const char *fmt, ...) VPNGW_PRINTF(5, 6);
/* The limiter for lines about a source address that has no connection. */
struct ikev2_ratelimit *ikev2_rl_source(struct ikev2 *e, const struct ike_endpoint *remote);

/* Starts an encrypted message on sa: header + SK payload header; inner payloads follow. */
struct ikev2_sk_wr {
	struct ikev2_wr w;  /* the whole message */
	struct ikev2_wr in; /* inner payloads (plaintext) */
	uint8_t inner[IKE_MSG_MAX];
	uint8_t exch, flags;
	uint32_t msg_id;
};
void ikev2_sk_begin(struct ikev2_sa *sa, struct ikev2_sk_wr *s, uint8_t *buf, size_t cap,
                    uint8_t exch, bool response, uint32_t msg_id);
/* Encrypts and protects; returns the message length, 0 on failure. */
size_t ikev2_sk_end(struct ikev2_sa *sa, struct ikev2_sk_wr *s);

/* ---- ikev2_keys.c ---- */
int ikev2_keys_derive(struct ikev2_sa *sa, const uint8_t *gir, size_t gir_len,
                      const struct ikev2_sa *old);
void ikev2_keys_free(struct ikev2_keys *k);
/* Child keying material: i->r enc|auth then r->i enc|auth into c->key_in/key_out. */
int ikev2_child_keymat(const struct ikev2_sa *sa, const uint8_t *gir, size_t gir_len,
                       const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
                       bool we_initiated, struct ike_child *c);
/* PSK AUTH of one side (2.15): who_initiator selects the octets signed. */
int ikev2_psk_auth(const struct ikev2_sa *sa, const struct config_psk *psk, bool of_initiator,
                   const uint8_t *id_body, size_t id_len, uint8_t *out, size_t *out_len);
/* Encrypts inner payloads into an SK payload of msg (header already written). */
size_t ikev2_sk_protect(const struct ikev2_keys *k, uint8_t *msg, size_t hdr_len, size_t cap,
                        uint8_t first_inner, const uint8_t *plain, size_t plain_len);
/* Verifies and decrypts m's SK payload into out; the inner chain's length, or -1. */
int ikev2_sk_unprotect(const struct ikev2_keys *k, const struct ikev2_msg *m, uint8_t *out,
                       size_t cap);

/* ---- ikev2_init.c: IKE_SA_INIT ---- */
/* A new cookie secret once the current one is cookie_rotate_ms old (the previous still valid). */
void ikev2_cookie_secret_age(struct ikev2 *e);
void ikev2_init_send(struct ikev2 *e, struct ikev2_sa *sa);
void ikev2_init_request(struct ikev2 *e, const struct ike_endpoint *local,
                        const struct ike_endpoint *remote, const struct ikev2_msg *m);
void ikev2_init_response(struct ikev2 *e, struct ikev2_sa *sa, const struct ikev2_msg *m);
/*
 * Our IKE_SA_INIT got no answer in all its retransmits: true (sa failed)
 * when the peer did answer, but only INVALID_KE_PAYLOAD for the group we
 * sent, more often than our earlier requests explain (dh_group_mismatch).
 */
bool ikev2_init_give_up(struct ikev2 *e, struct ikev2_sa *sa);

/* ---- ikev2_auth.c: IKE_AUTH ---- */
void ikev2_auth_send(struct ikev2 *e, struct ikev2_sa *sa);
void ikev2_auth_request(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_msg *m);
void ikev2_auth_response(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_msg *m);
/* The child of an IKE_AUTH or CREATE_CHILD_SA response (sa->pend): 0, or -1 with status set. */
int ikev2_child_from_response(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_msg *m,
                              const uint8_t *gir, size_t gir_len, const uint8_t *ni, size_t ni_len,
                              const uint8_t *nr, size_t nr_len);

/* ---- ikev2_prop.c: proposals and selectors ---- */
/*
 * "aes256/aes" of a config list, "none" when empty: evidence text. Not
 * ike_algs_str: its ", " reads badly inside a sentence that lists several
 * kinds, and an empty list must say "none".
 */
const char *ikev2_algs_str(const struct config_algs *a, char *buf, size_t len);
/*
 * INVALID_KE_PAYLOAD (RFC 7296 1.2, 1.3): the group notify n asks for, if
 * allowed lists it and it was not sent yet; NULL: no retry. *tried has a
 * bit per entry of allowed; the group just sent is marked in it. *asked is
 * what n names (NULL if it names nothing we know).
 */
const struct crypto_alg *ikev2_ke_retry(const struct config_algs *allowed, uint32_t *tried,
                                        enum crypto_alg_id sent, const struct ikev2_notify *n,
                                        const struct crypto_alg **asked);
/* IKE proposals of a connection. */
unsigned ikev2_ike_props(const struct config_connection *cc, struct ikev2_prop_out *out,
                         const uint8_t *spi, uint8_t spi_len);
/*
 * Picks an IKE proposal; 0 with the choice and the index of the chosen
 * proposal in sa (prop_idx may be NULL), or -1 with evidence and cause.
 */
int ikev2_ike_select(const struct config_connection *cc, const struct ikev2_sa_payload *sa,
                     uint16_t ke_group, struct ike_choice *ch, unsigned *prop_idx,
                     enum ike_cause *cause, char *ev, size_t ev_len);
unsigned ikev2_esp_props(const struct config_connection *cc, uint32_t spi, bool with_dh,
                         struct ikev2_prop_out *out);
/* Picks an ESP proposal as ikev2_ike_select does, with the peer's SPI and ESN. */
int ikev2_esp_select(const struct config_connection *cc, const struct ikev2_sa_payload *sa,
                     bool ke_allowed, struct ike_choice *ch, bool *esn, uint32_t *peer_spi,
                     unsigned *prop_idx, enum ike_cause *cause, char *ev, size_t ev_len);
/* Our selectors for a connection (initiator offer). */
void ikev2_conn_ts(const struct config_connection *cc, struct ts *l, unsigned *n_l, struct ts *r,
                   unsigned *n_r);
/* Responder narrowing: TSi/TSr of the request to our side's view; false if unacceptable. */
bool ikev2_ts_narrow(const struct config_connection *cc, const struct ikev2_msg *m, struct ts *l,
                     unsigned *n_l, struct ts *r, unsigned *n_r);
/* A child with fewer subnets than the connection has (a peer with one SA per pair). */
bool ikev2_ts_partial(const struct config_connection *cc, unsigned n_l, unsigned n_r);
/* Derives keys and installs a child; returns it, or NULL (status set). */
struct ikev2_child *ikev2_child_install(struct ikev2 *e, struct ikev2_sa *sa, uint32_t conn,
                                        const struct ike_choice *ch, bool esn, uint32_t spi_in,
                                        uint32_t spi_out, const uint8_t *gir, size_t gir_len,
                                        const uint8_t *ni, size_t ni_len, const uint8_t *nr,
                                        size_t nr_len, bool we_initiated, const struct ts *l,
                                        unsigned n_l, const struct ts *r, unsigned n_r,
                                        uint32_t replaces);
/*
 * A new child (not a rekey) the peer asked for covers part of the
 * connection's subnets: logged, and once a second pair is up too, noted on
 * the status as multi_sa_peer (state stays PHASE2_SUCCEEDED).
 */
void ikev2_child_note_partial(struct ikev2 *e, const struct ikev2_child *k);
struct ikev2_child *ikev2_child_find(struct ikev2_sa *sa, uint32_t spi_in);
struct ikev2_child *ikev2_child_find_out(struct ikev2_sa *sa, uint32_t spi_out);
void ikev2_child_remove(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_child *c, bool via_ops);
void ikev2_child_reinstall_all(struct ikev2 *e, struct ikev2_sa *sa);
/*
 * c reached its hard lifetime (the host's report, or expire_at_ms): out of
 * the data plane now, deleted at the peer next. Once conn has no child
 * left, the status says phase2 failed with the failure on record (a
 * rekey refused: pfs_mismatch, say) and a new child is asked for.
 */
void ikev2_child_hard_expire(struct ikev2 *e, struct ikev2_child *c);
/* Children of sa past expire_at_ms: ikev2_child_hard_expire (every tick). */
void ikev2_child_tick_lifetimes(struct ikev2 *e, struct ikev2_sa *sa);
void ikev2_create_child_request(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_msg *m);
void ikev2_create_child_response(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_msg *m);
/* base, plus up to a fifth more at random (unless jitter is off): peers drift apart. */
uint64_t ikev2_retry_delay(const struct ikev2 *e, uint32_t base);
/* Our outstanding request creates, rekeys or deletes a child of sa. */
bool ikev2_child_exchange_out(const struct ikev2_sa *sa);
/* Nonces compared as octet strings (2.8.1); the lower of two into dst. */
int ikev2_nonce_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl);
void ikev2_min_nonce(uint8_t *dst, size_t *dl, const uint8_t *a, size_t al, const uint8_t *b,
                     size_t bl);
/* Answers the peer's request m with one error notify. */
void ikev2_respond_error(struct ikev2 *e, struct ikev2_sa *sa, const struct ikev2_msg *m,
                         uint16_t type, const uint8_t *data, size_t len);

/* ---- ikev2_rekey.c: IKE SA rekey ---- */
void ikev2_ike_rekey_start(struct ikev2 *e, struct ikev2_sa *sa);
/* The answer to our IKE SA rekey (sa->pend.new_sa). */
void ikev2_ike_rekey_response(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_msg *m);
/* The peer's CREATE_CHILD_SA whose SA payload proposes IKE (sap parsed). */
void ikev2_peer_ike_rekey(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_msg *m,
                          struct ikev2_sa_payload *sap);
/* Starts our CREATE_CHILD_SA: rekey of child old (or NULL: a new child of conn). */
void ikev2_child_rekey_start(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_child *old);

/* ---- ikev2_info.c: INFORMATIONAL ---- */
void ikev2_info_request(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_msg *m);
void ikev2_info_response(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_msg *m);
void ikev2_delete_child_start(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_child *c);
void ikev2_delete_ike_start(struct ikev2 *e, struct ikev2_sa *sa);
void ikev2_liveness_start(struct ikev2 *e, struct ikev2_sa *sa);

#endif
