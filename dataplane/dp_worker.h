/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker's private state and the stages of its loop. Everything here is
 * touched by the worker alone, except the counters at the top of struct
 * dp_worker, which control reads in place, and the rings.
 *
 * Internal to dataplane/: the stages live in dp_classify.c (RX and
 * classify), dp_esp.c (SPD actions, ESP over mbufs, meter, MTU), dp_neigh.c
 * (routes, neighbours, pending queue, TX) and dp_worker.c (loop, messages,
 * events, handoff).
 */
#ifndef VPNGW_DP_WORKER_H
#define VPNGW_DP_WORKER_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_meter.h>

#include "dp.h"
#include "dp_counters.h"
#include "dp_msg.h"
#include "dp_route.h"
#include "dp_sa.h"
#include "dp_spd.h"

/* Tags in mbuf->hash.usr for packets crossing rings. */
#define DP_TAG_OUTB       0x80000000u /* | SA slot: handed off for encryption */
#define DP_TAG_INB        0x40000000u /* handed off for decryption (SPI in hash.fdir.hi) */
#define DP_PUNT_SLOW      0x10000u    /* | port index: ARP, ND, ICMP echo */
#define DP_PUNT_IKE       0x20000u    /* | port index: UDP 500, 4500 non-ESP */
#define DP_PUNT_PORT(tag) ((tag)&0xffffu)

struct dp_neigh_key {
	uint8_t ip[16];
	uint16_t port;
	uint8_t family;
	uint8_t pad;
};

struct dp_pending {
	struct rte_mbuf *m;
	struct dp_neigh_key key;
	uint16_t ether_type;
};

struct dp_rxq {
	uint16_t port; /* port index */
	uint16_t queue;
};

struct dp_txbuf {
	uint16_t n;
	struct rte_mbuf *pkts[DP_MAX_BURST];
};

struct dp_worker {
	struct dp_worker_counters c; /* first: read by control with a stride */
	struct dp *dp;
	unsigned idx;
	unsigned lcore;
	unsigned n_rxq;
	struct dp_rxq rxq[DP_WORKER_RXQ_MAX];    /* what I poll, filled at create */
	struct rte_ring *msg;                    /* control -> me */
	struct rte_ring *events;                 /* me -> control */
	struct rte_ring *punt;                   /* me -> control, mbufs */
	struct rte_ring *ho_out[DP_MAX_WORKERS]; /* me -> worker d */
	struct rte_ring *ho_in[DP_MAX_WORKERS];  /* worker s -> me */

	/* Tables: mine (SAs I own) or shared read-only (SPD, routes). */
	struct rte_hash *sad_in; /* inbound SPI -> struct dp_sa */
	struct dp_sa **sa_out;   /* [DP_SA_MAX]: outbound SAs by slot */
	uint64_t *acquire_tsc;   /* [DP_SA_MAX]: last acquire raised per slot */
	/*
	 * Every SA in my tables (both directions), swept every sweep_period
	 * TSC cycles for time lifetimes, so an idle SA expires too.
	 */
	struct dp_sa **owned; /* [DP_SA_MAX] */
	unsigned n_owned;
	uint64_t sweep_tsc; /* next sweep */
	uint64_t sweep_period;
	const struct dp_spd *spd;
	const struct dp_routes *routes;
	struct rte_hash *neigh; /* dp_neigh_key -> packed MAC and state */
	struct dp_pending pending[DP_PENDING_MAX];
	unsigned n_pending;

	bool meter_on;
	struct rte_meter_srtcm meter;
	struct rte_meter_srtcm_profile meter_prof;

	struct dp_txbuf tx[DP_MAX_PORTS];
	struct dp_txbuf ho[DP_MAX_WORKERS];
	struct dp_event stash[DP_RETIRE_STASH];
	unsigned n_stash;

	/* ESP stages: filled by classify / handoff, run when full or at loop end. */
	unsigned n_outb;
	struct rte_mbuf *outb[DP_MAX_BURST];
	struct dp_sa *outb_sa[DP_MAX_BURST];
	const struct dp_nexthop *outb_nh[DP_MAX_BURST];
	unsigned n_inb;
	struct rte_mbuf *inb[DP_MAX_BURST];
	struct dp_sa *inb_sa[DP_MAX_BURST];
	/* Some staged packet's SA has a packet or byte limit (stage_limit's work). */
	bool outb_limited, inb_limited;
	uint64_t now_tsc; /* TSC at the start of this loop */

	/*
	 * One-entry caches of per-packet lookups (a burst is mostly one
	 * tunnel): the last outbound SA's next hop and inner MTU, the last
	 * inbound SA, the last resolved neighbour. Any control message
	 * clears them (dp_cache_clear), so they never outlive a table.
	 */
	const struct dp_sa *oc_sa;
	const struct dp_nexthop *oc_nh;
	uint32_t oc_imtu;
	struct dp_sa *ic_sa;
	/*
	 * The last resolved neighbour: its key, and the Ethernet header a
	 * frame to it starts with. nc_nh: the gatewayed next hop it was
	 * resolved for (its key depends on nothing else), so most packets
	 * find it by one pointer compare instead of building a key.
	 */
	bool nc_valid;
	uint8_t nc_family;
	struct dp_neigh_key nc_key;
	const struct dp_nexthop *nc_nh;
	alignas(8) uint8_t nc_eth[RTE_ETHER_HDR_LEN];
} __rte_cache_aligned;

static inline void dp_cache_clear(struct dp_worker *w)
{
	w->oc_sa = NULL;
	w->ic_sa = NULL;
	w->nc_valid = false;
	w->nc_nh = NULL;
}

static inline void dp_drop_pkt(struct dp_worker *w, struct rte_mbuf *m, unsigned reason)
{
	w->c.drops[reason]++;
	rte_pktmbuf_free(m);
}

static inline void dp_drop_sa(struct dp_worker *w, struct dp_sa *sa, struct rte_mbuf *m,
                              unsigned reason)
{
	sa->c.drops[reason]++;
	dp_drop_pkt(w, m, reason);
}

/* Port index of a DPDK port id (control fills the map before launch). */
extern uint8_t dp_port_index[RTE_MAX_ETHPORTS];

/* dp_worker.c */
bool dp_event_emit(struct dp_worker *w, const struct dp_event *ev);
/* Queues m for worker owner (tag says what it needs); consumes m. */
void dp_handoff(struct dp_worker *w, unsigned owner, struct rte_mbuf *m, uint32_t tag);

/* dp_classify.c: a received burst from port index pi. */
void dp_classify_burst(struct dp_worker *w, unsigned pi, struct rte_mbuf **pkts, uint16_t n);

/* dp_esp.c */
void dp_outb_submit(struct dp_worker *w, struct rte_mbuf *m, uint32_t sa_id);
/* dp_outb_submit for n packets in order (transit's PROTECT packets of a burst). */
void dp_outb_submit_burst(struct dp_worker *w, struct rte_mbuf **m, const uint32_t *sa_id,
                          unsigned n);
/* m: ESP at its outer IP header, spi read from it (dp_classify.c). */
void dp_inb_submit(struct dp_worker *w, struct rte_mbuf *m, uint32_t spi);
void dp_esp_flush(struct dp_worker *w);
/* Lifetimes and sequence space of an SA I own: emits SOFT / HARD / SEQ events. */
void dp_sa_check_limits(struct dp_worker *w, struct dp_sa *sa);
void dp_rate_set(struct dp_worker *w, uint32_t kbps);

/* dp_neigh.c */
int dp_neigh_init(struct dp_worker *w);
void dp_neigh_fini(struct dp_worker *w);
void dp_forward_slow(struct dp_worker *w, struct rte_mbuf *m, const struct dp_nexthop *nh,
                     int family, const uint8_t *dst);
void dp_neigh_set(struct dp_worker *w, const struct dp_msg *msg);
void dp_tx_flush(struct dp_worker *w);

/* Queues a finished frame for TX on port index pi. */
static inline void dp_tx_enqueue(struct dp_worker *w, unsigned pi, struct rte_mbuf *m)
{
	struct dp_txbuf *b = &w->tx[pi];

	b->pkts[b->n++] = m;
	if (unlikely(b->n == DP_MAX_BURST))
		dp_tx_flush(w);
}

/* Puts the Ethernet header eth in front of m and queues the frame on port pi. */
static inline void dp_send_eth(struct dp_worker *w, struct rte_mbuf *m, unsigned pi,
                               const uint8_t *eth)
{
	uint8_t *eh = (uint8_t *)rte_pktmbuf_prepend(m, RTE_ETHER_HDR_LEN);

	if (unlikely(eh == NULL)) {
		dp_drop_pkt(w, m, DP_DROP_NO_HEADROOM);
		return;
	}
	memcpy(eh, eth, RTE_ETHER_HDR_LEN);
	dp_tx_enqueue(w, pi, m);
}

/*
 * As dp_forward for a packet that lies at ip, len bytes, inside m's buffer
 * with the room of an Ethernet header in front of it (the ESP stages'
 * output): m's data is set once, straight to the frame.
 */
static inline void dp_forward_at(struct dp_worker *w, struct rte_mbuf *m, uint8_t *ip, uint32_t len,
                                 const struct dp_nexthop *nh, int family, const uint8_t *dst)
{
	if (likely(nh == w->nc_nh && family == w->nc_family)) {
		uint8_t *eh = ip - RTE_ETHER_HDR_LEN;

		memcpy(eh, w->nc_eth, RTE_ETHER_HDR_LEN);
		m->data_off = (uint16_t)(eh - (uint8_t *)m->buf_addr);
		m->data_len = (uint16_t)(len + RTE_ETHER_HDR_LEN);
		m->pkt_len = len + RTE_ETHER_HDR_LEN;
		dp_tx_enqueue(w, nh->port, m);
		return;
	}
	m->data_off = (uint16_t)(ip - (uint8_t *)m->buf_addr);
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	dp_forward_slow(w, m, nh, family, dst);
}

/*
 * Sends m (data at the IP header) towards dst via nh; consumes m. The
 * next hop of the last packet costs a pointer compare; anything else
 * looks the neighbour up (dp_neigh.c).
 */
static inline void dp_forward(struct dp_worker *w, struct rte_mbuf *m, const struct dp_nexthop *nh,
                              int family, const uint8_t *dst)
{
	if (likely(nh == w->nc_nh && family == w->nc_family)) {
		dp_send_eth(w, m, nh->port, w->nc_eth);
		return;
	}
	dp_forward_slow(w, m, nh, family, dst);
}
void dp_pending_drop_all(struct dp_worker *w);

#endif
