/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What IKEv1 and IKEv2 share, written once (DESIGN.md "Connection status
 * and diagnosis"): endpoints, the connection state and its failure causes
 * with evidence and remedy, the child SA handed to the data plane, the
 * operations an IKE engine needs from its host (send a datagram, allocate
 * an inbound SPI, install and delete child SAs, log), identities, NAT
 * detection hashes and the retransmission schedule.
 *
 * Plain C, no DPDK: the daemon's glue (control/ike_glue.c) implements
 * struct ike_ops over the data plane; unit tests implement it with a
 * recording fake and wire two engines back to back.
 *
 * Time: engines never read a clock. Every entry point takes now_ms, a
 * monotonic millisecond count; status "since" values are in the same unit
 * (the host converts to wall time).
 */
#ifndef VPNGW_IKE_H
#define VPNGW_IKE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "config.h"
#include "crypto_alg.h"
#include "ts.h"

/* ---- endpoints ---------------------------------------------------------- */

enum {
	IKE_PORT = 500,
	IKE_NATT_PORT = 4500,
	/* A selector list in one CHILD_SA / one connection side. */
	IKE_TS_MAX = 16,
	/* Enc key (salt included) + auth key of one direction of a child SA. */
	IKE_CHILD_KEY_MAX = 2 * CONFIG_KEY_MAX,
	IKE_EVIDENCE_MAX = 256,
	IKE_REMEDY_MAX = 256,
	/* Largest IKE datagram we build or accept (no IKE fragmentation yet). */
	IKE_MSG_MAX = 8192,
};

/* One side of a UDP flow. family: 4 or 6 (enum ts_family); port host order. */
struct ike_endpoint {
	uint8_t family;
	uint8_t addr[16]; /* 4 bytes used for IPv4 */
	uint16_t port;
};

bool ike_endpoint_eq(const struct ike_endpoint *a, const struct ike_endpoint *b);
/* Same address, any port. */
bool ike_endpoint_same_addr(const struct ike_endpoint *a, const struct ike_endpoint *b);
/* "198.51.100.7:500" / "[2001:db8::1]:4500" into buf; returns buf. */
const char *ike_endpoint_str(const struct ike_endpoint *e, char *buf, size_t len);
/* From a config address and a port. */
void ike_endpoint_from_config(struct ike_endpoint *e, const struct config_addr *a, uint16_t port);

/*
 * The non-ESP marker: on port 4500 every IKE message is preceded by four
 * zero bytes (RFC 3948 2.2). Engines send and receive exact UDP payloads:
 * ike_payload_strip() returns the IKE message inside a datagram that
 * arrived on local port `port` (NULL if it is not IKE, e.g. a NAT
 * keepalive 0xff), and engines prepend the marker themselves on 4500.
 */
const uint8_t *ike_payload_strip(uint16_t local_port, const uint8_t *buf, size_t len,
                                 size_t *msg_len);
/* The IKE major version in a message's header (1 or 2), 0 if too short. */
unsigned ike_major_version(const uint8_t *msg, size_t len);

/* ---- connection state and causes ---------------------------------------- */

#define IKE_STATES(X)                               \
	X(DOWN, "down")                             \
	X(PHASE1_NEGOTIATING, "phase1 negotiating") \
	X(PHASE1_FAILED, "phase1 failed")           \
	X(PHASE2_NEGOTIATING, "phase2 negotiating") \
	X(PHASE2_FAILED, "phase2 failed")           \
	X(PHASE2_SUCCEEDED, "phase2 succeeded")

enum ike_state {
#define IKE_STATE_ENUM(id, s) IKE_STATE_##id,
	IKE_STATES(IKE_STATE_ENUM)
#undef IKE_STATE_ENUM
	        IKE_STATE_COUNT
};

/* X(id, code, default remedy) in DESIGN.md's words. */
#define IKE_CAUSES(X)                                                                             \
	X(NONE, "none", "")                                                                       \
	X(PSK_MISMATCH, "psk_mismatch", "set the same pre-shared key on both sides")              \
	X(IKE_VERSION_MISMATCH, "ike_version_mismatch", "set the same IKE version on both sides") \
	X(MODE_MISMATCH, "mode_mismatch",                                                         \
	  "set the same negotiation mode (main or aggressive) on both sides")                     \
	X(ID_MISMATCH, "id_mismatch", "set matching local_id / remote_id on both sides")          \
	X(PROPOSAL_MISMATCH, "proposal_mismatch", "align the algorithms on both sides")           \
	X(DH_GROUP_MISMATCH, "dh_group_mismatch", "set the same DH group on both sides")          \
	X(PEER_NOT_RESPONDING, "peer_not_responding",                                             \
	  "check the peer's address, that it runs, and that UDP 500/4500 pass on the path")       \
	X(UNKNOWN_PEER, "unknown_peer", "fix the customer gateway's public IP")                   \
	X(TS_MISMATCH, "ts_mismatch", "set the same local/remote subnets on both sides")          \
	X(PFS_MISMATCH, "pfs_mismatch", "set the same PFS group on both sides")                   \
	X(PEER_REJECTED, "peer_rejected",                                                         \
	  "the peer refused the exchange; see its log for the reason")                            \
	X(MULTI_SA_PEER, "multi_sa_peer", "handled: we accept it; or split the connection")       \
	X(INTERNAL, "internal", "see the gateway log")

enum ike_cause {
#define IKE_CAUSE_ENUM(id, code, remedy) IKE_CAUSE_##id,
	IKE_CAUSES(IKE_CAUSE_ENUM)
#undef IKE_CAUSE_ENUM
	        IKE_CAUSE_COUNT
};

const char *ike_state_name(enum ike_state s);
const char *ike_cause_code(enum ike_cause c);
const char *ike_cause_remedy(enum ike_cause c);

/*
 * A connection's status, one per config connection, owned by the host and
 * written by whichever engine runs that connection. cause is NONE (and
 * evidence/remedy empty) while nothing is wrong.
 */
struct ike_status {
	enum ike_state state;
	uint64_t since_ms; /* when state last changed (monotonic ms) */
	enum ike_cause cause;
	enum ike_state failed_in; /* the state the cause was recorded with */
	char evidence[IKE_EVIDENCE_MAX];
	char remedy[IKE_REMEDY_MAX];
	uint64_t failures[IKE_CAUSE_COUNT]; /* counted for metrics, never reset */
	uint64_t ike_sa_up;                 /* times phase 1 / IKE_SA completed */
	uint64_t child_sa_up;               /* child SAs installed, rekeys included */
	/*
	 * The peer was last heard speaking the other IKE version (major
	 * version other_version) at other_version_ms; 0: not lately. Set by
	 * the host, which routes each datagram by its version (ike_status_other_version).
	 */
	uint64_t other_version_ms;
	unsigned other_version;
};

/*
 * How long a peer heard in the other IKE version explains our own phase 1
 * failures: a peer that only speaks IKEv1 answers our IKE_SA_INIT with
 * NO_PROPOSAL_CHOSEN or not at all.
 */
enum { IKE_OTHER_VERSION_MS = 60000 };

/*
 * A new state with no failure: clears cause, evidence and remedy, except
 * that a new attempt after a failure (phase 1 negotiating after any, phase
 * 2 negotiating after one of phase 2) keeps them on show until it gets
 * further.
 */
void ike_status_set(struct ike_status *s, enum ike_state state, uint64_t now_ms);
/*
 * A failure: state (PHASE1_FAILED / PHASE2_FAILED, or another state for a
 * failure that keeps the tunnel, e.g. peer_source_nat or multi_sa_peer
 * with PHASE2_SUCCEEDED), cause, evidence as printf; the remedy is the
 * cause's default unless remedy != NULL. Counts failures[cause]. The next
 * ike_status_set clears it: an engine that wants a note on a tunnel that
 * stays up (multi_sa_peer) must not set the same state again over it.
 */
void ike_status_fail(struct ike_status *s, enum ike_state state, enum ike_cause cause,
                     uint64_t now_ms, const char *remedy, const char *fmt, ...) VPNGW_PRINTF(6, 7);
/*
 * The host heard the peer speak IKE version `version`, the other one: an
 * ike_version_mismatch now, and for IKE_OTHER_VERSION_MS the reading of
 * our own phase 1 failures that it explains (proposal_mismatch,
 * peer_not_responding, peer_rejected become ike_version_mismatch, with
 * their evidence kept). record: also record the failure now (the host
 * rate-limits that); evidence as printf.
 */
void ike_status_other_version(struct ike_status *s, unsigned version, bool record, uint64_t now_ms,
                              const char *fmt, ...) VPNGW_PRINTF(5, 6);

/* ---- child SAs ------------------------------------------------------------ */

/*
 * A negotiated child SA pair (IKEv2 CHILD_SA, IKEv1 IPsec SA pair) as the
 * data plane installs it. Keys: enc key (salt last for AEAD) then auth
 * key, per direction; wiped by the engine after child_install returns.
 */
struct ike_child {
	uint32_t conn;    /* index into config.connections */
	uint32_t spi_in;  /* chosen by us (ops.spi_alloc), host order */
	uint32_t spi_out; /* chosen by the peer */
	enum crypto_alg_id encr;
	enum crypto_alg_id integ; /* CRYPTO_INTEG_NONE with AEAD */
	uint8_t enc_key_len, auth_key_len;
	uint8_t key_in[IKE_CHILD_KEY_MAX];
	uint8_t key_out[IKE_CHILD_KEY_MAX];
	bool esn;
	bool udp_encap;                    /* ESP-in-UDP between local and remote ports */
	struct ike_endpoint local, remote; /* outer addresses (and ports with udp_encap) */
	struct ts ts_local[IKE_TS_MAX];    /* negotiated selectors */
	unsigned n_ts_local;
	struct ts ts_remote[IKE_TS_MAX];
	unsigned n_ts_remote;
	uint32_t lifetime_s; /* hard limit the data plane enforces; 0: none */
	/*
	 * Volume limits the peer asked for (an IKEv1 kilobyte lifetime); 0: none.
	 * The host enforces the smaller of these and the connection's
	 * ipsec.lifetime_bytes / lifetime_packets, soft at 90% (a rekey).
	 */
	uint64_t lifetime_bytes, lifetime_packets;
	/*
	 * The responder of a rekey: the peer installs its side of this child
	 * only once it has our answer, so outbound traffic stays on the child
	 * it replaces until ops.child_outbound (the peer's Delete of the old
	 * one, its last quick mode message) or IKE_OUTBOUND_WAIT_MS.
	 */
	bool outbound_later;
};

/* The longest a child installed with outbound_later waits for child_outbound. */
enum { IKE_OUTBOUND_WAIT_MS = 2000 };

/* The non-secret part of a child, for status. */
struct ike_child_info {
	uint32_t spi_in, spi_out;
	enum crypto_alg_id encr, integ;
	struct ts ts_local[IKE_TS_MAX];
	unsigned n_ts_local;
	struct ts ts_remote[IKE_TS_MAX];
	unsigned n_ts_remote;
	uint64_t installed_ms;
	uint64_t rekey_at_ms; /* 0: no rekey planned */
	bool udp_encap;
};

/* ---- what an engine needs from its host ------------------------------------ */

enum ike_log_level {
	IKE_LOG_ERR,
	IKE_LOG_WARN,
	IKE_LOG_INFO,
	IKE_LOG_DEBUG,
};

struct ike_ops {
	void *ctx;
	/* Sends one UDP datagram (exact payload, marker included on 4500). */
	void (*send)(void *ctx, const struct ike_endpoint *local, const struct ike_endpoint *remote,
	             const uint8_t *buf, size_t len);
	/*
	 * A fresh inbound SPI for a child of connection conn: never 0, never
	 * one in use; it encodes the owner worker (dp.h). 0 when none is left.
	 */
	uint32_t (*spi_alloc)(void *ctx, uint32_t conn);
	/*
	 * Installs both directions of a child. If another child of the same
	 * connection already covers these selectors (a rekey), outbound
	 * traffic moves to the new one now (or, with c->outbound_later, at
	 * child_outbound) and the old one keeps receiving until child_delete
	 * (make-before-break). 0, or -1 (the engine fails
	 * the child with cause INTERNAL).
	 */
	int (*child_install)(void *ctx, const struct ike_child *c);
	/* Removes the child whose inbound SPI is spi_in (both directions). */
	void (*child_delete)(void *ctx, uint32_t conn, uint32_t spi_in);
	/*
	 * The peer has the child installed with outbound_later: outbound
	 * traffic moves to it now. NULL: the host ignores outbound_later.
	 */
	void (*child_outbound)(void *ctx, uint32_t conn, uint32_t spi_in);
	/* One log line (no newline); conn is UINT32_MAX when none applies. */
	void (*log)(void *ctx, enum ike_log_level level, uint32_t conn, const char *msg);
};

/* Formats and sends a line to ops->log. */
void ike_log(const struct ike_ops *ops, enum ike_log_level level, uint32_t conn, const char *fmt,
             ...) VPNGW_PRINTF(4, 5);

/* ---- identities ------------------------------------------------------------- */

/* ID types (IKEv1 and IKEv2 share the values). */
enum ike_id_type {
	IKE_ID_IPV4 = 1,
	IKE_ID_FQDN = 2,
	IKE_ID_USER_FQDN = 3,
	IKE_ID_IPV6 = 5,
	IKE_ID_KEY_ID = 11,
};

struct ike_id {
	uint8_t type; /* enum ike_id_type */
	uint8_t len;
	uint8_t data[CONFIG_ID_MAX - 1];
};

/* The identification data of a config id (binary address, or the text). */
void ike_id_from_config(struct ike_id *id, const struct config_id *c);
/* From received bytes; -1 for an unknown type or bad length. */
int ike_id_parse(struct ike_id *id, uint8_t type, const uint8_t *data, size_t len);
bool ike_id_eq(const struct ike_id *a, const struct ike_id *b);
/* "ipv4:198.51.100.7", "fqdn:gw.example", "keyid:0a0b" ... into buf. */
const char *ike_id_str(const struct ike_id *id, char *buf, size_t len);

/* ---- NAT detection ---------------------------------------------------------- */

/*
 * NAT detection hash: IKEv2 (RFC 7296 2.23) SHA1(SPIi | SPIr | IP | port),
 * spis = 16 bytes (IKEv1 RFC 3947: HASH(CKY-I | CKY-R | IP | port) with the
 * negotiated hash, prf given). out gets the hash's output length; returns it.
 */
size_t ike_natd_hash(enum crypto_alg_id prf, const uint8_t spis[16], const struct ike_endpoint *e,
                     uint8_t *out);

/* ---- retransmission --------------------------------------------------------- */

enum {
	IKE_RETRANSMIT_BASE_MS = 1000, /* first timeout; doubles each time */
	IKE_RETRANSMIT_MAX_MS = 16000, /* cap on one timeout */
	IKE_RETRANSMIT_TRIES = 5,      /* retransmits before peer_not_responding */
};

/* Timeout before retransmit n (n = 0: after the first send). */
uint32_t ike_retransmit_timeout_ms(unsigned n);
/*
 * The same schedule scaled to a first timeout of base_ms (a tunable; 0:
 * IKE_RETRANSMIT_BASE_MS), so tests can run it fast; never 0.
 */
uint32_t ike_retransmit_timeout_base_ms(uint32_t base_ms, unsigned n);

/* ---- timing ---------------------------------------------------------------------- */

/* A random delay in [0, span_ms) to spread rekeys, 0 when no_jitter or span_ms is 0. */
uint64_t ike_jitter_ms(uint64_t span_ms, bool no_jitter);

/* ---- rekeying ---------------------------------------------------------------- */

enum {
	/*
	 * After a child rekey the old inbound SA keeps receiving this long
	 * (outbound moves to the new one at once): ESP the peer sent on it
	 * before it switched is still in flight.
	 */
	IKE_REKEY_GRACE_MS = 5000,
};

/* ---- proposals -------------------------------------------------------------- */

/* A proposal choice: one algorithm per kind (integ NONE with AEAD; dh NONE: no PFS). */
struct ike_choice {
	enum crypto_alg_id encr, prf, integ, dh;
	bool has_prf, has_integ, has_dh;
};

/* "aes256/sha256/group14" style text of a choice. */
const char *ike_choice_str(const struct ike_choice *c, char *buf, size_t len);

/* Configured algorithm list contains id. */
bool ike_algs_has(const struct config_algs *a, enum crypto_alg_id id);
/* "aes256, aes" text of a list. */
const char *ike_algs_str(const struct config_algs *a, char *buf, size_t len);

/* ---- helpers for the host ---------------------------------------------------- */

/*
 * Config prefixes (a connection's local or remote subnets) as selectors,
 * host bits allowed; at most cap of them. Returns how many were written.
 */
unsigned ike_prefixes_to_ts(const struct config_prefix *p, uint32_t n, struct ts *out,
                            unsigned cap);

/* Our public endpoint for talking to peer (first public port of the peer's family). */
int ike_local_endpoint(const struct config *cfg, const struct ike_endpoint *peer,
                       struct ike_endpoint *local);
/* The connection whose customer gateway has address addr (any port); -1 if none. */
int ike_conn_by_peer(const struct config *cfg, const struct ike_endpoint *addr, uint32_t from);

#endif
