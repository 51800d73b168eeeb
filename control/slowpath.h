/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's slow path for packets the workers punt: ARP (reply
 * for our addresses, learn from replies, resolve next hops), IPv6 neighbour
 * discovery (NS/NA for our addresses and next hops), and ICMP/ICMPv6 echo
 * to our own addresses. It owns the neighbour table; every change is
 * reported through ops->neigh_update so the caller can push a "neighbour
 * set" message to each worker. Not thread safe: the control thread only.
 */
#ifndef VPNGW_SLOWPATH_H
#define VPNGW_SLOWPATH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#define SLOWPATH_MAX_PORTS 16

/* One of our ports as the slow path sees it. Addresses in network order. */
struct slowpath_port {
	uint16_t port_id; /* DPDK port id */
	uint16_t txq;     /* the TX queue reserved for the control thread */
	struct rte_ether_addr mac;
	bool has_v4;
	uint8_t v4[4];
	uint8_t v4_prefix;
	bool has_v6;
	uint8_t v6[16];
	uint8_t v6_prefix;
};

struct slowpath_ops {
	/*
	 * A neighbour became known or changed (mac != NULL), or was given up on
	 * after unanswered resolution (mac == NULL). family is 4 or 6; ip has 4
	 * or 16 bytes.
	 */
	void (*neigh_update)(void *ctx, unsigned port_idx, int family, const uint8_t *ip,
	                     const struct rte_ether_addr *mac);
	void *ctx;
};

struct slowpath_stats {
	uint64_t arp_requests_answered;
	uint64_t arp_replies_learned;
	uint64_t arp_requests_sent;
	uint64_t nd_solicits_answered;
	uint64_t nd_adverts_learned;
	uint64_t nd_solicits_sent;
	uint64_t echo_answered;
	uint64_t dropped; /* malformed, not for us, or TX full */
};

struct slowpath;

/* ports[i] is port index i (the index the workers use). NULL on failure. */
struct slowpath *slowpath_create(const struct slowpath_port *ports, unsigned n_ports,
                                 struct rte_mempool *mp, const struct slowpath_ops *ops);
void slowpath_free(struct slowpath *sp);

/*
 * A static neighbour from the config: never expires, never re-resolved;
 * reported through neigh_update like a learned one.
 */
int slowpath_neigh_static(struct slowpath *sp, unsigned port_idx, int family, const uint8_t *ip,
                          const struct rte_ether_addr *mac);

/*
 * A punted packet (Ethernet frame) that arrived on port_idx: ARP, NS/NA,
 * ICMP(v6) echo to us. Consumes m (answers it, learns from it or frees it).
 */
void slowpath_input(struct slowpath *sp, unsigned port_idx, struct rte_mbuf *m);

/*
 * A worker needs the MAC of ip on port_idx: send an ARP request / NS unless
 * one is outstanding; retry from slowpath_poll; give up after a few tries
 * (neigh_update with mac == NULL).
 */
void slowpath_resolve(struct slowpath *sp, unsigned port_idx, int family, const uint8_t *ip);

/* Timers: retries of resolution, refresh of learned entries. now in ms (monotonic). */
void slowpath_poll(struct slowpath *sp, uint64_t now_ms);

/* Looks up a known neighbour; true with *mac set. */
bool slowpath_neigh_lookup(const struct slowpath *sp, unsigned port_idx, int family,
                           const uint8_t *ip, struct rte_ether_addr *mac);

const struct slowpath_stats *slowpath_stats(const struct slowpath *sp);

#endif
