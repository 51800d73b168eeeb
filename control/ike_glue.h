/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IKE engines inside the daemon: the glue owns the IKEv2 and IKEv1
 * engines (lib/ike) and one struct ike_status per config connection, and
 * implements struct ike_ops over the data plane:
 *
 * - punted IKE frames (UDP 500, 4500 with the non-ESP marker) are parsed
 *   (ike_frame.c) and handed to the engine of their IKE major version;
 *   NAT keepalives are counted; a peer speaking the other version than
 *   its connection is recorded as ike_version_mismatch;
 * - datagrams the engines send leave as Ethernet/IP/UDP frames on the
 *   control thread's TX queue of the egress port, the next hop's MAC from
 *   the slow path (a few wait in a small queue while it resolves);
 * - inbound SPIs are random, unique, and name their owner worker
 *   (spi % n_workers, dp.h);
 * - a negotiated child becomes two dp_sa objects in a free slot pair
 *   (inbound first, then outbound, through the rings); the SPD is rebuilt
 *   with the child's selector pairs naming its outbound slot above the
 *   connection's ACQUIRE rules, the newest child first (a rekey moves
 *   outbound traffic at once; the old inbound SA keeps working until it
 *   is deleted: make-before-break);
 * - ACQUIRE and lifetime events of the data plane reach the engines.
 *
 * Test tunables (environment, read at start; 0 or unset: the engines'
 * defaults):
 *   VPNGW_IKE_RETRANSMIT_BASE_MS  first retransmit timeout
 *   VPNGW_IKE_RETRANSMIT_TRIES    retransmits before peer_not_responding
 *   VPNGW_IKE_LIVENESS_MS         idle time before a liveness check / DPD
 *   VPNGW_IKE_KEEPALIVE_MS        NAT keepalive interval
 *   VPNGW_IKE_RESTART_DELAY_MS    restart delay after a failure
 *   VPNGW_IKE_NO_JITTER=1         rekey exactly at the soft lifetime
 *   VPNGW_IKE_DEBUG=1             engines' debug lines in the log
 *   VPNGW_IKE_TEST_IKE_LIFETIME_S   every connection's ike.lifetime (below the
 *   VPNGW_IKE_TEST_IPSEC_LIFETIME_S config's minimum of 60 s: rekey tests)
 *
 * Control thread only. ike_glue.c: engines, input, timers, events;
 * ike_glue_dp.c: the operations over the data plane; ike_glue_status.c:
 * status, diagnosis, stats, metrics; ike_glue_int.h: what they share.
 */
#ifndef VPNGW_IKE_GLUE_H
#define VPNGW_IKE_GLUE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <rte_mbuf.h>

#include "ike.h"

struct daemon;
struct dp_sa;
struct metrics;
struct ike_glue;

enum {
	IKE_GLUE_PENDING_MAX = 32,        /* datagrams waiting for a next hop's MAC */
	IKE_GLUE_PENDING_MS = 3000,       /* ... at most this long */
	IKE_GLUE_RECENT_SPIS = 1024,      /* SPIs handed out, not yet installed */
	IKE_GLUE_REPLAY_WINDOW = 128,     /* inbound window of negotiated SAs */
	IKE_GLUE_CHILD_INFO_MAX = 16,     /* children shown per connection */
	IKE_GLUE_ONE_WAY_MS = 10000,      /* one_way_traffic after this long */
	IKE_GLUE_MISMATCH_LOG_MS = 10000, /* a version mismatch recorded once per interval */
	IKE_GLUE_DEFER_MAX = 256,         /* events held while an engine runs */
};

/* Why the glue dropped something, counted; X(id, name). */
#define IKE_GLUE_DROPS(X)                                                                        \
	X(FRAME, "frame")                       /* punted frame not a sound UDP datagram */      \
	X(NOT_IKE, "not_ike")                   /* no IKE header (after the marker on 4500) */   \
	X(BAD_VERSION, "bad_version")           /* major version neither 1 nor 2 */              \
	X(VERSION_MISMATCH, "version_mismatch") /* the peer's connection is the other */         \
	X(TX_NO_ROUTE, "tx_no_route")           /* no port or route towards the peer */          \
	X(TX_NO_MAC, "tx_no_mac")               /* next hop unresolved in time, or queue full */ \
	X(TX_TOO_BIG, "tx_too_big")             /* datagram larger than the port's MTU */        \
	X(TX_NO_MBUF, "tx_no_mbuf")                                                              \
	X(TX_FULL, "tx_full") /* the port's TX queue took nothing */

enum ike_glue_drop {
#define IKE_GLUE_DROP_ENUM(id, name) IKE_GLUE_DROP_##id,
	IKE_GLUE_DROPS(IKE_GLUE_DROP_ENUM)
#undef IKE_GLUE_DROP_ENUM
	        IKE_GLUE_DROP_COUNT
};

struct ike_glue_counters {
	uint64_t rx_frames;  /* IKE frames punted to us */
	uint64_t keepalives; /* NAT keepalives received */
	uint64_t tx_frames;  /* datagrams sent */
	uint64_t children_installed;
	uint64_t children_deleted;
	uint64_t install_failed;
	uint64_t spd_rebuilds;
	uint64_t deferred_lost; /* events that arrived inside an engine call, queue full */
	uint64_t drops[IKE_GLUE_DROP_COUNT];
};

/*
 * Creates the engines for d->cfg (after the workers and tables exist,
 * before metrics are registered). NULL with err set on failure.
 */
struct ike_glue *ike_glue_new(struct daemon *d, char *err, size_t err_len);
/* Engines start (effect_immediately connections initiate): after the ports run. */
void ike_glue_start(struct ike_glue *g);
/* Frees the engines; the SAs stay in d->sas for the daemon to free. */
void ike_glue_free(struct ike_glue *g);

/* A punted IKE frame from port index port_idx; consumes m. */
void ike_glue_input(struct ike_glue *g, unsigned port_idx, struct rte_mbuf *m);
/* Engine timers and the pending queue; call at least every 100 ms. */
void ike_glue_tick(struct ike_glue *g, uint64_t now_ms);
/* ACQUIRE for connection conn's policy. */
void ike_glue_acquire(struct ike_glue *g, uint32_t conn);
/*
 * A lifetime event (DP_EV_SOFT_EXPIRE / HARD_EXPIRE / SEQ_NEAR_END) for
 * sa: if it is a negotiated child's, the engine hears of it (true).
 */
bool ike_glue_sa_event(struct ike_glue *g, const struct dp_sa *sa, uint32_t type);

/* vpnctl up / down: 0, or -1 with err set. */
int ike_glue_up(struct ike_glue *g, uint32_t conn, char *err, size_t err_len);
int ike_glue_down(struct ike_glue *g, uint32_t conn, char *err, size_t err_len);

const struct ike_status *ike_glue_status(const struct ike_glue *g, uint32_t conn);
/* DESIGN.md's status object of a connection (new reference). */
json_t *ike_glue_conn_json(struct ike_glue *g, uint32_t conn);
/* State, cause, evidence, remedy and data plane hints (new reference). */
json_t *ike_glue_diagnose_json(struct ike_glue *g, uint32_t conn);
/* Engine and glue counters for "stats" (new reference). */
json_t *ike_glue_stats_json(const struct ike_glue *g);

/* Connection states, failures by cause, engine and glue counters. */
int ike_glue_metrics_register(struct ike_glue *g, struct metrics *m);

const struct ike_glue_counters *ike_glue_counters(const struct ike_glue *g);

#endif
