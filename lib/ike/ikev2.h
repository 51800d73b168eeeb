/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv2 (RFC 7296) with pre-shared keys: the engine for every config
 * connection whose ike.version is ikev2. Initiator and responder;
 * IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA (new child, child rekey, IKE
 * rekey), INFORMATIONAL (delete, liveness, notifies); NAT detection and
 * UDP 4500; cookies; retransmission; lifetimes with jitter: an IKE SA
 * or child is rekeyed at a random point between 85% and 90% of its
 * lifetime (tunnels set up together do not all rekey together), and one
 * whose rekey never made it ends at 100%.
 *
 * The engine owns its IKE SAs and children; it talks to the world only
 * through struct ike_ops (ike.h) and writes each connection's status into
 * the array the host gives it. Not thread safe: one control thread.
 * Every byte from the network is read through the bounded cursor.
 */
#ifndef VPNGW_IKEV2_H
#define VPNGW_IKEV2_H

#include "ike.h"

struct ikev2;

struct ikev2_stats {
	uint64_t rx;                /* IKEv2 messages handed in */
	uint64_t tx;                /* sent, retransmits included */
	uint64_t retransmits;       /* requests sent again */
	uint64_t resp_resent;       /* cached responses sent for a repeated request */
	uint64_t malformed;         /* dropped: bad header, payload chain, length */
	uint64_t auth_failed;       /* SK payload did not verify */
	uint64_t unknown_spi;       /* no IKE SA for the SPIs */
	uint64_t unknown_peer;      /* IKE_SA_INIT from no customer gateway */
	uint64_t cookies_sent;      /* COOKIE notifies (RFC 7296 2.6) */
	uint64_t half_open;         /* responder IKE SAs not yet authenticated (gauge) */
	uint64_t half_open_refused; /* IKE_SA_INIT dropped: half-open table full */
	uint64_t ike_sas;           /* established IKE SAs (gauge) */
	uint64_t child_sas;         /* installed children (gauge) */
	uint64_t dead_peers;        /* peers declared dead by liveness checks */
	uint64_t init_refused;      /* IKE_SA_INIT answered NO_PROPOSAL_CHOSEN */
	uint64_t invalid_ke_sent;   /* IKE_SA_INIT answered INVALID_KE_PAYLOAD */
	uint64_t stale_init;        /* answers to an earlier IKE_SA_INIT of ours, ignored */
	uint64_t logs_suppressed;   /* remote-triggered log lines held back (rate limit) */
};

/*
 * An engine for cfg (kept by reference: it must outlive the engine).
 * status has cfg->n_connections entries; the engine writes the entries
 * of IKEv2 connections only. NULL on allocation failure.
 */
struct ikev2 *ikev2_new(const struct config *cfg, const struct ike_ops *ops,
                        struct ike_status *status, uint64_t now_ms);
/* Frees everything (no messages sent, no children deleted through ops). */
void ikev2_free(struct ikev2 *e);

/*
 * Connections with effect_immediately start initiating; the others wait
 * for the peer, an acquire or ikev2_up. Call once after ikev2_new.
 */
void ikev2_start(struct ikev2 *e, uint64_t now_ms);

/*
 * A datagram that arrived for us: buf/len is the exact UDP payload
 * (with the non-ESP marker on 4500), local/remote the addresses and ports
 * it travelled between. Anything malformed is counted and dropped.
 */
void ikev2_input(struct ikev2 *e, const struct ike_endpoint *local,
                 const struct ike_endpoint *remote, const uint8_t *buf, size_t len,
                 uint64_t now_ms);

/* Timers: retransmits, rekeys, liveness, NAT keepalives. Call at least every 100 ms. */
void ikev2_tick(struct ikev2 *e, uint64_t now_ms);

/* The data plane saw traffic for conn with no SA (ACQUIRE): initiate unless already. */
void ikev2_acquire(struct ikev2 *e, uint32_t conn, uint64_t now_ms);
/*
 * The data plane reports a child's lifetime: soft (rekey now) or hard
 * (the data plane has stopped using it: delete it and rekey if needed).
 */
void ikev2_child_expired(struct ikev2 *e, uint32_t conn, uint32_t spi_in, bool hard,
                         uint64_t now_ms);

/* vpnctl up / down: 0, or -1 if conn is not an IKEv2 connection. */
int ikev2_up(struct ikev2 *e, uint32_t conn, uint64_t now_ms);
int ikev2_down(struct ikev2 *e, uint32_t conn, uint64_t now_ms);

/* The installed children of conn (at most cap into out); returns how many there are. */
unsigned ikev2_children(const struct ikev2 *e, uint32_t conn, struct ike_child_info *out,
                        unsigned cap);
/* The peer endpoint conn currently talks to (after NAT-T, after a peer moved); false if none. */
bool ikev2_peer(const struct ikev2 *e, uint32_t conn, struct ike_endpoint *out);

const struct ikev2_stats *ikev2_stats(const struct ikev2 *e);

/*
 * Tunables, for tests that need short timers: all 0 means the defaults.
 * Lifetimes in the config still drive rekeys; these only shorten waits.
 */
struct ikev2_tunables {
	uint32_t liveness_idle_ms;   /* default 10000: check an idle peer after this */
	uint32_t keepalive_ms;       /* default 20000: NAT keepalive interval behind a NAT */
	uint32_t half_open_cookie;   /* default 32: cookies once this many half-open SAs */
	uint32_t half_open_max;      /* default 1024: refuse more */
	uint32_t cookie_rotate_ms;   /* default 60000: a new cookie secret this often */
	uint32_t retransmit_tries;   /* default IKE_RETRANSMIT_TRIES */
	uint32_t retransmit_base_ms; /* default IKE_RETRANSMIT_BASE_MS */
	uint32_t restart_delay_ms;   /* default 5000: effect_immediately restart after a failure */
	bool no_jitter;              /* rekey exactly at 90% of the lifetime */
	/*
	 * Pretend to be behind a NAT (a NAT_DETECTION_SOURCE_IP that matches
	 * nothing, as strongSwan does with encap=yes or kernel-libipsec):
	 * IKE floats to 4500 and every child is ESP in UDP. For tests, and for
	 * paths that drop plain ESP.
	 */
	bool fake_nat;
};
void ikev2_tune(struct ikev2 *e, const struct ikev2_tunables *t);

#endif
