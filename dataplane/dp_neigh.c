/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Next hops to Ethernet: each worker keeps its own copy of the neighbour
 * table (an rte_hash fed by NEIGH_SET messages; the control thread's slow
 * path owns the real one). A packet whose next hop has no MAC yet waits in
 * a small bounded pending queue; the first such packet marks the entry
 * incomplete and raises one NEIGH_MISS event, so a burst to an unknown
 * host costs one ARP request, not one per packet.
 */
#include <assert.h>
#include <string.h>
#include <unistd.h>

#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_lcore.h>

#include "dp_worker.h"

/* The hash's data word: MAC in the low 48 bits, state above. */
#define NEIGH_VALID      (1ull << 48)
#define NEIGH_INCOMPLETE (1ull << 49)

int dp_neigh_init(struct dp_worker *w)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters p = { 0 };

	snprintf(name, sizeof(name), "nb%u_%d", w->idx, (int)getpid());
	p.name = name;
	p.entries = DP_NEIGH_MAX;
	p.key_len = sizeof(struct dp_neigh_key);
	p.hash_func = rte_jhash;
	p.socket_id = (int)rte_socket_id();
	w->neigh = rte_hash_create(&p);
	return w->neigh ? 0 : -1;
}

void dp_neigh_fini(struct dp_worker *w)
{
	dp_pending_drop_all(w);
	rte_hash_free(w->neigh);
	w->neigh = NULL;
}

static void key_make(struct dp_neigh_key *k, unsigned port, int family, const uint8_t *ip)
{
	memset(k, 0, sizeof(*k));
	k->port = (uint16_t)port;
	k->family = (uint8_t)family;
	memcpy(k->ip, ip, family == 4 ? 4 : 16);
}

static inline bool key_eq(const struct dp_neigh_key *a, const struct dp_neigh_key *b)
{
	uint64_t a0, a1, b0, b1;
	uint32_t a2, b2;

	static_assert(sizeof(*a) == 20, "neighbour key: 16 + 2 + 1 + 1 bytes");
	memcpy(&a0, a, 8);
	memcpy(&a1, (const uint8_t *)a + 8, 8);
	memcpy(&a2, (const uint8_t *)a + 16, 4);
	memcpy(&b0, b, 8);
	memcpy(&b1, (const uint8_t *)b + 8, 8);
	memcpy(&b2, (const uint8_t *)b + 16, 4);
	return ((a0 ^ b0) | (a1 ^ b1) | (a2 ^ b2)) == 0;
}

/* The Ethernet header of a frame to mac (low 48 bits) from port pi. */
static void eth_header(const struct dp_worker *w, uint8_t *eh, unsigned pi, uint64_t mac,
                       uint16_t ether_type)
{
	unsigned i;

	for (i = 0; i < 6; i++)
		eh[i] = (uint8_t)(mac >> (8 * (5 - i)));
	memcpy(eh + 6, &w->dp->ports[pi].mac, 6);
	memcpy(eh + 12, &ether_type, 2);
}

static void send_eth(struct dp_worker *w, struct rte_mbuf *m, unsigned pi, uint64_t mac,
                     uint16_t ether_type)
{
	uint8_t eh[RTE_ETHER_HDR_LEN];

	eth_header(w, eh, pi, mac, ether_type);
	dp_send_eth(w, m, pi, eh);
}

/*
 * The neighbour of a next hop that is not the last one. A hit fills the
 * one-entry cache: its key, and for a gatewayed next hop the next hop
 * itself, which dp_forward then compares alone.
 */
void dp_forward_slow(struct dp_worker *w, struct rte_mbuf *m, const struct dp_nexthop *nh,
                     int family, const uint8_t *dst)
{
	struct dp_neigh_key k;
	uint16_t et = rte_cpu_to_be_16(family == 4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
	void *data;
	struct dp_event ev;
	int pos;

	key_make(&k, nh->port, family, nh->onlink ? dst : nh->via);
	if (w->nc_valid && key_eq(&k, &w->nc_key)) {
		if (!nh->onlink) {
			w->nc_nh = nh;
			w->nc_family = (uint8_t)family;
		}
		dp_send_eth(w, m, nh->port, w->nc_eth);
		return;
	}
	pos = rte_hash_lookup_data(w->neigh, &k, &data);
	if (pos >= 0 && ((uintptr_t)data & NEIGH_VALID)) {
		w->nc_key = k;
		eth_header(w, w->nc_eth, nh->port, (uint64_t)(uintptr_t)data, et);
		w->nc_valid = true;
		w->nc_nh = nh->onlink ? NULL : nh;
		w->nc_family = (uint8_t)family;
		dp_send_eth(w, m, nh->port, w->nc_eth);
		return;
	}
	if (w->n_pending == DP_PENDING_MAX) {
		dp_drop_pkt(w, m, DP_DROP_NEIGH_PENDING_FULL);
		return;
	}
	if (pos < 0) {
		/* First packet for this next hop: ask control once. */
		if (rte_hash_add_key_data(w->neigh, &k, (void *)(uintptr_t)NEIGH_INCOMPLETE) < 0) {
			dp_drop_pkt(w, m, DP_DROP_NEIGH_PENDING_FULL);
			return;
		}
		memset(&ev, 0, sizeof(ev));
		ev.type = DP_EV_NEIGH_MISS;
		ev.port = k.port;
		ev.family = k.family;
		memcpy(ev.ip, k.ip, 16);
		if (!dp_event_emit(w, &ev))
			rte_hash_del_key(w->neigh, &k); /* the next packet asks again */
	}
	w->pending[w->n_pending++] = (struct dp_pending){ .m = m, .key = k, .ether_type = et };
}

void dp_neigh_set(struct dp_worker *w, const struct dp_msg *msg)
{
	struct dp_neigh_key k;
	uint64_t mac = 0;
	unsigned i, j;

	if (msg->port >= w->dp->n_ports || (msg->family != 4 && msg->family != 6))
		return;
	key_make(&k, msg->port, msg->family, msg->ip);
	if (msg->valid) {
		for (i = 0; i < 6; i++)
			mac = mac << 8 | msg->mac[i];
		if (rte_hash_add_key_data(w->neigh, &k, (void *)(uintptr_t)(mac | NEIGH_VALID)) < 0)
			return; /* table full: packets keep waiting until they are dropped */
	} else {
		rte_hash_del_key(w->neigh, &k);
	}
	/* Release (or fail) the packets that waited for this next hop, keeping order. */
	for (i = 0, j = 0; i < w->n_pending; i++) {
		struct dp_pending *p = &w->pending[i];

		if (memcmp(&p->key, &k, sizeof(k)) != 0) {
			w->pending[j++] = *p;
			continue;
		}
		if (msg->valid)
			send_eth(w, p->m, k.port, mac, p->ether_type);
		else
			dp_drop_pkt(w, p->m, DP_DROP_NEIGH_FAILED);
	}
	w->n_pending = j;
}

void dp_pending_drop_all(struct dp_worker *w)
{
	unsigned i;

	for (i = 0; i < w->n_pending; i++)
		dp_drop_pkt(w, w->pending[i].m, DP_DROP_NEIGH_FAILED);
	w->n_pending = 0;
}

void dp_tx_flush(struct dp_worker *w)
{
	unsigned pi, i;
	uint16_t sent;

	for (pi = 0; pi < w->dp->n_ports; pi++) {
		struct dp_txbuf *b = &w->tx[pi];
		struct dp_port_counters *pc = &w->c.port[pi];
		uint64_t bytes = 0;

		if (b->n == 0)
			continue;

		/* Bytes counted before TX: the driver may free what it sent. */
		for (i = 0; i < b->n; i++)
			bytes += rte_pktmbuf_pkt_len(b->pkts[i]);
		sent = rte_eth_tx_burst(w->dp->ports[pi].port_id, (uint16_t)w->idx, b->pkts, b->n);
		for (i = sent; i < b->n; i++)
			bytes -= rte_pktmbuf_pkt_len(b->pkts[i]);
		pc->tx_bytes += bytes;
		pc->tx_packets += sent;
		w->c.tx_packets += sent;
		for (i = sent; i < b->n; i++)
			dp_drop_pkt(w, b->pkts[i], DP_DROP_TX_FULL);
		b->n = 0;
	}
}
