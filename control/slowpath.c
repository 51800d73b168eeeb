/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Slow path of the control thread: ARP (RFC 826), IPv6 neighbour discovery
 * (RFC 4861) and ICMP/ICMPv6 echo to our addresses, plus the neighbour table
 * the workers' "neighbour set" messages are made from.
 *
 * The table is a fixed pool of entries indexed by an open-addressing hash
 * (linear probing, backward-shift deletion, load at most 1/2), and every
 * timed entry sits in a min-heap by deadline, so neither lookups nor timers
 * scan the table. Punted frames are untrusted: each header is taken through
 * the bounded cursor before any field in it is read, and every answer is
 * built in a fresh mbuf (the punted one may be shared or indirect).
 */
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_jhash.h>

#include "compiler.h"
#include "cursor.h"
#include "dp_csum.h"
#include "slowpath.h"

enum sp_limits {
	SP_NEIGH_MAX = 16384,              /* next hops over all ports and families */
	SP_NEIGH_SLOTS = 2 * SP_NEIGH_MAX, /* power of two; load <= 1/2 keeps probes short */
	SP_TRIES = 3,                      /* requests per resolution before giving up */
	SP_RETRY_MS = 1000,                /* between two requests of one resolution */
	SP_REFRESH_MS = 240000,            /* a learned entry is re-resolved after this... */
	SP_REFRESH_JITTER_MS = 30000,      /* ...less up to this, so they do not all fire at once */
	SP_POLL_BUDGET = 512,              /* timers handled per poll: bounds one poll's TX burst */

	SP_ETH_LEN = 14,
	SP_ARP_LEN = 28,
	SP_IP4_LEN = 20,
	SP_IP6_LEN = 40,
	SP_ICMP_LEN = 8,
	SP_ND_LEN = 24, /* NS/NA: type, code, checksum, flags/reserved, target */
	SP_ND_OPT_LLA = 8,
	SP_ETHERTYPE_IP4 = 0x0800,
	SP_ETHERTYPE_ARP = 0x0806,
	SP_ETHERTYPE_IP6 = 0x86dd,
	SP_ARP_REQUEST = 1,
	SP_ARP_REPLY = 2,
	SP_PROTO_ICMP = 1,
	SP_PROTO_ICMP6 = 58,
	SP_ICMP_ECHO_REPLY = 0,
	SP_ICMP_ECHO_REQUEST = 8,
	SP_ICMP6_ECHO_REQUEST = 128,
	SP_ICMP6_ECHO_REPLY = 129,
	SP_ND_NS = 135,
	SP_ND_NA = 136,
	SP_ND_OPT_SLLA = 1,
	SP_ND_OPT_TLLA = 2,
	SP_NA_ROUTER = 0x80,
	SP_NA_SOLICITED = 0x40,
	SP_NA_OVERRIDE = 0x20,
	SP_ND_HOPS = 255, /* RFC 4861: sent with, and only accepted at, 255 */
	SP_TTL = 64,
};

enum sp_state {
	SP_FREE,
	SP_INCOMPLETE, /* resolving, no MAC yet */
	SP_REACHABLE,  /* learned; refresh timer running */
	SP_PROBE,      /* learned and still used while re-resolving */
	SP_STATIC,     /* from the config: no timer, never overwritten */
};

enum sp_verdict {
	SP_DONE, /* valid and handled (answered or learned from) */
	SP_DROP, /* malformed, not for us, or not answerable */
};

struct sp_neigh {
	uint8_t ip[16];
	struct rte_ether_addr mac;
	uint8_t port;
	uint8_t family;
	uint8_t state;
	uint8_t tries;
	uint32_t heap_pos; /* SP_NO_HEAP when no timer runs */
	uint32_t next_free;
	uint64_t deadline;
};

#define SP_NO_HEAP UINT32_MAX

struct slowpath {
	struct slowpath_port ports[SLOWPATH_MAX_PORTS];
	unsigned n_ports;
	struct rte_mempool *mp;
	struct slowpath_ops ops;
	struct slowpath_stats stats;
	uint64_t now; /* time of the last poll: resolve and learn have no clock */
	uint16_t ip_id;
	uint32_t free_head; /* index + 1 of the first free entry; 0: full */
	uint32_t heap_n;
	uint32_t slots[SP_NEIGH_SLOTS]; /* entry index + 1; 0: empty */
	uint32_t heap[SP_NEIGH_MAX];
	struct sp_neigh neigh[SP_NEIGH_MAX];
};

static const uint8_t sp_ip6_unspec[16];
static const uint8_t sp_ip6_all_nodes[16] = { 0xff, 0x02, [15] = 0x01 };
static const uint8_t sp_ip6_all_nodes_mac[RTE_ETHER_ADDR_LEN] = { 0x33, 0x33, 0, 0, 0, 1 };

/* ---- neighbour table: hash index ---- */

static uint32_t sp_hash(unsigned port, int family, const uint8_t *ip)
{
	/* Copied into words: rte_jhash would load unaligned 32-bit words from
	 * the frame. */
	uint32_t w[4];
	unsigned n = family == 4 ? 1 : 4;

	memcpy(w, ip, n * 4);
	return rte_jhash_32b(w, n, (uint32_t)port << 8 | (uint32_t)family) & (SP_NEIGH_SLOTS - 1);
}

static bool sp_match(const struct sp_neigh *e, unsigned port, int family, const uint8_t *ip)
{
	return e->port == port && e->family == family &&
	       memcmp(e->ip, ip, family == 4 ? 4 : 16) == 0;
}

/* Slot holding the key, or the empty slot where it would go (load <= 1/2: one exists). */
static uint32_t sp_slot(const struct slowpath *sp, unsigned port, int family, const uint8_t *ip)
{
	uint32_t i = sp_hash(port, family, ip);

	while (sp->slots[i] != 0 && !sp_match(&sp->neigh[sp->slots[i] - 1], port, family, ip))
		i = (i + 1) & (SP_NEIGH_SLOTS - 1);
	return i;
}

static struct sp_neigh *sp_find(const struct slowpath *sp, unsigned port, int family,
                                const uint8_t *ip)
{
	uint32_t s = sp->slots[sp_slot(sp, port, family, ip)];

	return s ? (struct sp_neigh *)&sp->neigh[s - 1] : NULL;
}

/* ---- neighbour table: timers (min-heap by deadline) ---- */

static void sp_heap_set(struct slowpath *sp, uint32_t pos, uint32_t idx)
{
	sp->heap[pos] = idx;
	sp->neigh[idx].heap_pos = pos;
}

static void sp_heap_fix(struct slowpath *sp, uint32_t pos)
{
	uint32_t idx = sp->heap[pos];
	uint64_t d = sp->neigh[idx].deadline;

	while (pos > 0 && sp->neigh[sp->heap[(pos - 1) / 2]].deadline > d) {
		sp_heap_set(sp, pos, sp->heap[(pos - 1) / 2]);
		pos = (pos - 1) / 2;
	}
	for (;;) {
		uint32_t c = 2 * pos + 1;

		if (c >= sp->heap_n)
			break;
		if (c + 1 < sp->heap_n &&
		    sp->neigh[sp->heap[c + 1]].deadline < sp->neigh[sp->heap[c]].deadline)
			c++;
		if (sp->neigh[sp->heap[c]].deadline >= d)
			break;
		sp_heap_set(sp, pos, sp->heap[c]);
		pos = c;
	}
	sp_heap_set(sp, pos, idx);
}

static void sp_timer_stop(struct slowpath *sp, struct sp_neigh *e)
{
	uint32_t pos = e->heap_pos;

	if (pos == SP_NO_HEAP)
		return;
	e->heap_pos = SP_NO_HEAP;
	if (--sp->heap_n != pos) {
		sp_heap_set(sp, pos, sp->heap[sp->heap_n]);
		sp_heap_fix(sp, pos);
	}
}

static void sp_timer_start(struct slowpath *sp, struct sp_neigh *e, uint64_t deadline)
{
	uint32_t idx = (uint32_t)(e - sp->neigh);

	e->deadline = deadline;
	if (e->heap_pos == SP_NO_HEAP)
		sp_heap_set(sp, sp->heap_n++, idx);
	sp_heap_fix(sp, e->heap_pos);
}

/* ---- neighbour table: entries ---- */

static struct sp_neigh *sp_insert(struct slowpath *sp, unsigned port, int family, const uint8_t *ip)
{
	uint32_t slot = sp_slot(sp, port, family, ip);
	struct sp_neigh *e;
	uint32_t idx;

	if (sp->free_head == 0)
		return NULL;
	idx = sp->free_head - 1;
	e = &sp->neigh[idx];
	sp->free_head = e->next_free;
	memset(e, 0, sizeof(*e));
	memcpy(e->ip, ip, family == 4 ? 4 : 16);
	e->port = (uint8_t)port;
	e->family = (uint8_t)family;
	e->heap_pos = SP_NO_HEAP;
	sp->slots[slot] = idx + 1;
	return e;
}

static void sp_remove(struct slowpath *sp, struct sp_neigh *e)
{
	uint32_t i = sp_slot(sp, e->port, e->family, e->ip);
	uint32_t j = i;

	sp_timer_stop(sp, e);
	sp->slots[i] = 0;
	/* Backward shift: pull later entries of the run into the hole unless
	 * their home slot lies cyclically in (i, j]. */
	for (;;) {
		const struct sp_neigh *n;
		uint32_t k;

		j = (j + 1) & (SP_NEIGH_SLOTS - 1);
		if (sp->slots[j] == 0)
			break;
		n = &sp->neigh[sp->slots[j] - 1];
		k = sp_hash(n->port, n->family, n->ip);
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		sp->slots[i] = sp->slots[j];
		sp->slots[j] = 0;
		i = j;
	}
	e->state = SP_FREE;
	e->next_free = sp->free_head;
	sp->free_head = (uint32_t)(e - sp->neigh) + 1;
}

static void sp_report(struct slowpath *sp, unsigned port, int family, const uint8_t *ip,
                      const struct rte_ether_addr *mac)
{
	if (sp->ops.neigh_update != NULL)
		sp->ops.neigh_update(sp->ops.ctx, port, family, ip, mac);
}

/* Removes e and tells the workers; the key is copied first because the
 * callback may resolve again and reuse the entry. */
static void sp_give_up(struct slowpath *sp, struct sp_neigh *e)
{
	uint8_t ip[16];
	unsigned port = e->port;
	int family = e->family;

	memcpy(ip, e->ip, sizeof(ip));
	sp_remove(sp, e);
	sp_report(sp, port, family, ip, NULL);
}

static uint64_t sp_refresh_at(const struct slowpath *sp, const struct sp_neigh *e)
{
	return sp->now + SP_REFRESH_MS - sp_hash(e->port, e->family, e->ip) % SP_REFRESH_JITTER_MS;
}

static bool sp_mac_ok(const uint8_t *mac)
{
	static const uint8_t zero[RTE_ETHER_ADDR_LEN];

	return !(mac[0] & 1) && memcmp(mac, zero, sizeof(zero)) != 0;
}

/*
 * A neighbour's MAC seen in a frame. create: make an entry if none (the
 * frame was addressed to us); override: replace a different known MAC (the
 * ND override flag; ARP always overrides). True if learned.
 */
static bool sp_learn(struct slowpath *sp, unsigned port, int family, const uint8_t *ip,
                     const uint8_t *mac, bool create, bool override)
{
	struct sp_neigh *e = sp_find(sp, port, family, ip);
	bool has_mac, changed;

	if (e == NULL) {
		if (!create)
			return false;
		e = sp_insert(sp, port, family, ip);
		if (e == NULL)
			return false;
		e->state = SP_INCOMPLETE;
	}
	if (e->state == SP_STATIC)
		return false;
	has_mac = e->state != SP_INCOMPLETE;
	changed = !has_mac || memcmp(e->mac.addr_bytes, mac, RTE_ETHER_ADDR_LEN) != 0;
	if (has_mac && changed && !override)
		return false;
	memcpy(e->mac.addr_bytes, mac, RTE_ETHER_ADDR_LEN);
	e->state = SP_REACHABLE;
	e->tries = 0;
	sp_timer_start(sp, e, sp_refresh_at(sp, e));
	if (changed)
		sp_report(sp, port, family, ip, &e->mac);
	return true;
}

/* ---- transmit ---- */

static uint8_t *sp_frame(struct slowpath *sp, struct rte_mbuf **mp, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(sp->mp);
	uint8_t *p;

	if (m == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	if (p == NULL || len > UINT16_MAX) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(p, 0, len);
	*mp = m;
	return p;
}

static void sp_eth(uint8_t *p, const uint8_t *dst, const struct slowpath_port *pt, uint16_t type)
{
	memcpy(p, dst, RTE_ETHER_ADDR_LEN);
	memcpy(p + 6, pt->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	put_be16(p + 12, type);
}

static bool sp_tx(struct slowpath *sp, unsigned port, struct rte_mbuf *m)
{
	const struct slowpath_port *pt = &sp->ports[port];

	if (rte_eth_tx_burst(pt->port_id, pt->txq, &m, 1) == 1)
		return true;
	rte_pktmbuf_free(m);
	sp->stats.dropped++;
	return false;
}

static bool sp_send_arp(struct slowpath *sp, unsigned port, uint16_t op, const uint8_t *eth_dst,
                        const uint8_t *tha, const uint8_t *tpa)
{
	const struct slowpath_port *pt = &sp->ports[port];
	struct rte_mbuf *m;
	uint8_t *p = sp_frame(sp, &m, SP_ETH_LEN + SP_ARP_LEN);
	uint8_t *a;

	if (p == NULL) {
		sp->stats.dropped++;
		return false;
	}
	sp_eth(p, eth_dst, pt, SP_ETHERTYPE_ARP);
	a = p + SP_ETH_LEN;
	put_be16(a, 1); /* Ethernet */
	put_be16(a + 2, SP_ETHERTYPE_IP4);
	a[4] = RTE_ETHER_ADDR_LEN;
	a[5] = 4;
	put_be16(a + 6, op);
	memcpy(a + 8, pt->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	memcpy(a + 14, pt->v4, 4);
	if (tha != NULL)
		memcpy(a + 18, tha, RTE_ETHER_ADDR_LEN);
	memcpy(a + 24, tpa, 4);
	return sp_tx(sp, port, m);
}

/* IPv6 header + ND message (NS or NA) with one link-layer address option. */
static bool sp_send_nd(struct slowpath *sp, unsigned port, uint8_t type, uint8_t flags,
                       const uint8_t *eth_dst, const uint8_t *ip_dst, const uint8_t *target)
{
	const struct slowpath_port *pt = &sp->ports[port];
	const size_t icmp_len = SP_ND_LEN + SP_ND_OPT_LLA;
	struct rte_mbuf *m;
	uint8_t *p = sp_frame(sp, &m, SP_ETH_LEN + SP_IP6_LEN + icmp_len);
	uint8_t *ip, *icmp;

	if (p == NULL) {
		sp->stats.dropped++;
		return false;
	}
	sp_eth(p, eth_dst, pt, SP_ETHERTYPE_IP6);
	ip = p + SP_ETH_LEN;
	ip[0] = 0x60;
	put_be16(ip + 4, (uint16_t)icmp_len);
	ip[6] = SP_PROTO_ICMP6;
	ip[7] = SP_ND_HOPS;
	memcpy(ip + 8, pt->v6, 16);
	memcpy(ip + 24, ip_dst, 16);
	icmp = ip + SP_IP6_LEN;
	icmp[0] = type;
	icmp[4] = flags;
	memcpy(icmp + 8, target, 16);
	icmp[24] = type == SP_ND_NS ? SP_ND_OPT_SLLA : SP_ND_OPT_TLLA;
	icmp[25] = 1; /* length in units of 8 bytes */
	memcpy(icmp + 26, pt->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	put_be16(icmp + 2, (uint16_t)~dp_csum_ip6_l4(ip, icmp, icmp_len));
	return sp_tx(sp, port, m);
}

/*
 * One resolution request for e: broadcast / solicited-node multicast, or
 * unicast to the MAC we hold when refreshing (as Linux probes first).
 */
static void sp_solicit(struct slowpath *sp, const struct sp_neigh *e, bool unicast)
{
	static const uint8_t bcast[RTE_ETHER_ADDR_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t eth_dst[RTE_ETHER_ADDR_LEN], ip_dst[16];

	if (e->family == 4) {
		if (sp_send_arp(sp, e->port, SP_ARP_REQUEST, unicast ? e->mac.addr_bytes : bcast,
		                NULL, e->ip))
			sp->stats.arp_requests_sent++;
		return;
	}
	if (unicast) {
		memcpy(eth_dst, e->mac.addr_bytes, sizeof(eth_dst));
		memcpy(ip_dst, e->ip, sizeof(ip_dst));
	} else {
		/* Solicited-node group ff02::1:ffXX:XXXX and its MAC 33:33:ff:XX:XX:XX. */
		static const uint8_t sn[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };

		memcpy(ip_dst, sn, sizeof(sn));
		memcpy(ip_dst + 13, e->ip + 13, 3);
		eth_dst[0] = 0x33;
		eth_dst[1] = 0x33;
		memcpy(eth_dst + 2, ip_dst + 12, 4);
	}
	if (sp_send_nd(sp, e->port, SP_ND_NS, 0, eth_dst, ip_dst, e->ip))
		sp->stats.nd_solicits_sent++;
}

/* ---- ARP ---- */

static enum sp_verdict sp_arp_input(struct slowpath *sp, unsigned port, const uint8_t *eth,
                                    struct cursor *c)
{
	const struct slowpath_port *pt = &sp->ports[port];
	const uint8_t *a = cursor_take(c, SP_ARP_LEN);
	const uint8_t *sha, *spa, *tpa;
	bool for_us, learned = false;
	uint16_t op;

	(void)eth;
	if (a == NULL || get_be16(a) != 1 || get_be16(a + 2) != SP_ETHERTYPE_IP4 ||
	    a[4] != RTE_ETHER_ADDR_LEN || a[5] != 4)
		return SP_DROP;
	op = get_be16(a + 6);
	sha = a + 8;
	spa = a + 14;
	tpa = a + 24;
	if ((op != SP_ARP_REQUEST && op != SP_ARP_REPLY) || !sp_mac_ok(sha))
		return SP_DROP;
	for_us = pt->has_v4 && memcmp(tpa, pt->v4, 4) == 0;

	/* RFC 826 merge: update a known sender from any ARP; add it only when
	 * the packet is for us. Probes (sender 0.0.0.0), multicast senders and
	 * our own address are never learned. */
	if (spa[0] != 0 && spa[0] < 224 && !(pt->has_v4 && memcmp(spa, pt->v4, 4) == 0))
		learned = sp_learn(sp, port, 4, spa, sha, for_us, true);

	if (op == SP_ARP_REPLY) {
		if (!learned)
			return SP_DROP;
		sp->stats.arp_replies_learned++;
		return SP_DONE;
	}
	if (!for_us)
		return learned ? SP_DONE : SP_DROP;
	if (sp_send_arp(sp, port, SP_ARP_REPLY, sha, sha, spa))
		sp->stats.arp_requests_answered++;
	return SP_DONE;
}

/* ---- IPv4: echo ---- */

static bool sp_ip4_bad_src(const uint8_t *a)
{
	return a[0] == 0 || a[0] == 127 || a[0] >= 224;
}

static enum sp_verdict sp_ip4_input(struct slowpath *sp, unsigned port, const uint8_t *eth,
                                    struct cursor *c)
{
	const struct slowpath_port *pt = &sp->ports[port];
	const uint8_t *ip = cursor_take(c, SP_IP4_LEN);
	const uint8_t *icmp;
	size_t hlen, tot, icmp_len;
	struct rte_mbuf *m;
	uint8_t *p, *rip, *ricmp;

	if (ip == NULL || ip[0] >> 4 != 4)
		return SP_DROP;
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	tot = get_be16(ip + 2);
	if (hlen < SP_IP4_LEN || tot < hlen || !cursor_skip(c, hlen - SP_IP4_LEN))
		return SP_DROP;
	icmp_len = tot - hlen;
	/* Frames may carry Ethernet padding after the datagram: the IP length rules. */
	icmp = cursor_take(c, icmp_len);
	if (icmp == NULL || dp_csum_sum(ip, hlen) != 0xffff)
		return SP_DROP;
	/* Fragments are not reassembled here; a fragmented ping goes unanswered. */
	if ((get_be16(ip + 6) & 0x3fff) != 0 || ip[9] != SP_PROTO_ICMP)
		return SP_DROP;
	if (!pt->has_v4 || memcmp(ip + 16, pt->v4, 4) != 0 || sp_ip4_bad_src(ip + 12))
		return SP_DROP;
	if (icmp_len < SP_ICMP_LEN || icmp[0] != SP_ICMP_ECHO_REQUEST || icmp[1] != 0 ||
	    dp_csum_sum(icmp, icmp_len) != 0xffff)
		return SP_DROP;

	p = sp_frame(sp, &m, SP_ETH_LEN + SP_IP4_LEN + icmp_len);
	if (p == NULL)
		return SP_DROP;
	sp_eth(p, eth + 6, pt, SP_ETHERTYPE_IP4);
	rip = p + SP_ETH_LEN;
	/* Options of the request are not echoed: a plain 20-byte header. */
	rip[0] = 0x45;
	rip[1] = ip[1];
	put_be16(rip + 2, (uint16_t)(SP_IP4_LEN + icmp_len));
	put_be16(rip + 4, sp->ip_id++);
	rip[8] = SP_TTL;
	rip[9] = SP_PROTO_ICMP;
	memcpy(rip + 12, pt->v4, 4);
	memcpy(rip + 16, ip + 12, 4);
	put_be16(rip + 10, dp_csum_ip4_hdr(rip));
	ricmp = rip + SP_IP4_LEN;
	memcpy(ricmp, icmp, icmp_len);
	ricmp[0] = SP_ICMP_ECHO_REPLY;
	put_be16(ricmp + 2, 0);
	put_be16(ricmp + 2, (uint16_t)~dp_csum_sum(ricmp, icmp_len));
	if (sp_tx(sp, port, m))
		sp->stats.echo_answered++;
	return SP_DONE;
}

/* ---- IPv6: ND and echo ---- */

struct sp_nd_opts {
	const uint8_t *slla;
	const uint8_t *tlla;
};

/* RFC 4861 4.6: options fill the rest; a zero length is invalid. */
static bool sp_nd_parse_opts(struct cursor *c, struct sp_nd_opts *o)
{
	while (cursor_left(c) > 0) {
		const uint8_t *h = cursor_take(c, 2);
		size_t len;

		if (h == NULL || h[1] == 0)
			return false;
		len = (size_t)h[1] * 8;
		if (!cursor_skip(c, len - 2))
			return false;
		if (h[1] == 1 && h[0] == SP_ND_OPT_SLLA)
			o->slla = h + 2;
		else if (h[1] == 1 && h[0] == SP_ND_OPT_TLLA)
			o->tlla = h + 2;
	}
	return cursor_ok(c);
}

static bool sp_is_our_v6(const struct slowpath_port *pt, const uint8_t *a)
{
	return pt->has_v6 && memcmp(a, pt->v6, 16) == 0;
}

static enum sp_verdict sp_ns_input(struct slowpath *sp, unsigned port, const uint8_t *eth,
                                   const uint8_t *ip, struct cursor *c)
{
	const struct slowpath_port *pt = &sp->ports[port];
	const uint8_t *src = ip + 8, *dst = ip + 24;
	struct sp_nd_opts o = { 0 };
	const uint8_t *nd = cursor_take(c, SP_ND_LEN);
	const uint8_t *target;
	bool dad, sent;

	if (nd == NULL || nd[1] != 0 || ip[7] != SP_ND_HOPS || !sp_nd_parse_opts(c, &o))
		return SP_DROP;
	target = nd + 8;
	if (target[0] == 0xff || !sp_is_our_v6(pt, target))
		return SP_DROP;
	/* RFC 4861 7.1.1: a DAD probe (unspecified source) goes to the
	 * solicited-node group and carries no source link-layer address. */
	dad = memcmp(src, sp_ip6_unspec, 16) == 0;
	if (dad && (dst[0] != 0xff || o.slla != NULL))
		return SP_DROP;
	if (src[0] == 0xff)
		return SP_DROP;
	if (!dad && o.slla != NULL && sp_mac_ok(o.slla))
		sp_learn(sp, port, 6, src, o.slla, true, true);

	/* R: the gateway forwards, so it is a router in RFC 4861's sense. An
	 * answer to a DAD probe goes to all nodes and is not solicited. */
	if (dad)
		sent = sp_send_nd(sp, port, SP_ND_NA, SP_NA_ROUTER | SP_NA_OVERRIDE,
		                  sp_ip6_all_nodes_mac, sp_ip6_all_nodes, pt->v6);
	else
		sent = sp_send_nd(sp, port, SP_ND_NA,
		                  SP_NA_ROUTER | SP_NA_SOLICITED | SP_NA_OVERRIDE,
		                  o.slla != NULL ? o.slla : eth + 6, src, pt->v6);
	if (sent)
		sp->stats.nd_solicits_answered++;
	return SP_DONE;
}

static enum sp_verdict sp_na_input(struct slowpath *sp, unsigned port, const uint8_t *ip,
                                   struct cursor *c)
{
	const struct slowpath_port *pt = &sp->ports[port];
	const uint8_t *dst = ip + 24;
	struct sp_nd_opts o = { 0 };
	const uint8_t *nd = cursor_take(c, SP_ND_LEN);
	const uint8_t *target, *mac;
	struct sp_neigh *e;

	if (nd == NULL || nd[1] != 0 || ip[7] != SP_ND_HOPS || !sp_nd_parse_opts(c, &o))
		return SP_DROP;
	target = nd + 8;
	/* RFC 4861 7.1.2: a multicast answer cannot be solicited. */
	if (target[0] == 0xff || (dst[0] == 0xff && (nd[4] & SP_NA_SOLICITED)))
		return SP_DROP;
	if (sp_is_our_v6(pt, target))
		return SP_DROP; /* someone else claims our address: not ours to learn */
	mac = o.tlla;
	if (mac == NULL) {
		/* Without a link-layer address an NA only confirms a MAC we hold. */
		e = sp_find(sp, port, 6, target);
		if (e == NULL || e->state == SP_INCOMPLETE || e->state == SP_STATIC ||
		    !(nd[4] & SP_NA_SOLICITED))
			return SP_DROP;
		mac = e->mac.addr_bytes;
	}
	if (!sp_mac_ok(mac) ||
	    !sp_learn(sp, port, 6, target, mac, sp_is_our_v6(pt, dst), nd[4] & SP_NA_OVERRIDE))
		return SP_DROP;
	sp->stats.nd_adverts_learned++;
	return SP_DONE;
}

static enum sp_verdict sp_echo6_input(struct slowpath *sp, unsigned port, const uint8_t *eth,
                                      const uint8_t *ip, const uint8_t *icmp, size_t icmp_len)
{
	const struct slowpath_port *pt = &sp->ports[port];
	struct rte_mbuf *m;
	uint8_t *p, *rip, *ricmp;

	if (icmp_len < SP_ICMP_LEN || icmp[1] != 0 || !sp_is_our_v6(pt, ip + 24) || ip[8] == 0xff ||
	    memcmp(ip + 8, sp_ip6_unspec, 16) == 0)
		return SP_DROP;
	p = sp_frame(sp, &m, SP_ETH_LEN + SP_IP6_LEN + icmp_len);
	if (p == NULL)
		return SP_DROP;
	sp_eth(p, eth + 6, pt, SP_ETHERTYPE_IP6);
	rip = p + SP_ETH_LEN;
	memcpy(rip, ip, 4); /* version, traffic class, flow label as asked */
	put_be16(rip + 4, (uint16_t)icmp_len);
	rip[6] = SP_PROTO_ICMP6;
	rip[7] = SP_TTL;
	memcpy(rip + 8, pt->v6, 16);
	memcpy(rip + 24, ip + 8, 16);
	ricmp = rip + SP_IP6_LEN;
	memcpy(ricmp, icmp, icmp_len);
	ricmp[0] = SP_ICMP6_ECHO_REPLY;
	put_be16(ricmp + 2, 0);
	put_be16(ricmp + 2, (uint16_t)~dp_csum_ip6_l4(rip, ricmp, icmp_len));
	if (sp_tx(sp, port, m))
		sp->stats.echo_answered++;
	return SP_DONE;
}

static enum sp_verdict sp_ip6_input(struct slowpath *sp, unsigned port, const uint8_t *eth,
                                    struct cursor *c)
{
	const uint8_t *ip = cursor_take(c, SP_IP6_LEN);
	const uint8_t *icmp;
	struct cursor body, msg;
	size_t len;

	if (ip == NULL || ip[0] >> 4 != 6)
		return SP_DROP;
	len = get_be16(ip + 4);
	/* Frames may carry Ethernet padding after the datagram: the IP length rules. */
	body = cursor_sub(c, len);
	/* ND and echo come without extension headers; anything else is not ours. */
	if (!cursor_ok(&body) || ip[6] != SP_PROTO_ICMP6 || len < 4)
		return SP_DROP;
	icmp = body.p;
	if (dp_csum_ip6_l4(ip, icmp, len) != 0xffff)
		return SP_DROP;
	msg = body;
	switch (icmp[0]) {
	case SP_ND_NS:
		return sp_ns_input(sp, port, eth, ip, &msg);
	case SP_ND_NA:
		return sp_na_input(sp, port, ip, &msg);
	case SP_ICMP6_ECHO_REQUEST:
		return sp_echo6_input(sp, port, eth, ip, icmp, len);
	default:
		return SP_DROP;
	}
}

/* ---- API ---- */

struct slowpath *slowpath_create(const struct slowpath_port *ports, unsigned n_ports,
                                 struct rte_mempool *mp, const struct slowpath_ops *ops)
{
	struct slowpath *sp;
	uint32_t i;

	if (n_ports > SLOWPATH_MAX_PORTS || (n_ports > 0 && ports == NULL) || mp == NULL)
		return NULL;
	sp = calloc(1, sizeof(*sp));
	if (sp == NULL)
		return NULL;
	if (n_ports > 0)
		memcpy(sp->ports, ports, n_ports * sizeof(*ports));
	sp->n_ports = n_ports;
	sp->mp = mp;
	if (ops != NULL)
		sp->ops = *ops;
	for (i = 0; i < SP_NEIGH_MAX; i++) {
		sp->neigh[i].next_free = i + 2 <= SP_NEIGH_MAX ? i + 2 : 0;
		sp->neigh[i].heap_pos = SP_NO_HEAP;
	}
	sp->free_head = 1;
	return sp;
}

void slowpath_free(struct slowpath *sp)
{
	free(sp);
}

static bool sp_args_ok(const struct slowpath *sp, unsigned port, int family, const uint8_t *ip)
{
	return sp != NULL && port < sp->n_ports && (family == 4 || family == 6) && ip != NULL;
}

int slowpath_neigh_static(struct slowpath *sp, unsigned port_idx, int family, const uint8_t *ip,
                          const struct rte_ether_addr *mac)
{
	struct sp_neigh *e;

	if (!sp_args_ok(sp, port_idx, family, ip) || mac == NULL)
		return -1;
	e = sp_find(sp, port_idx, family, ip);
	if (e == NULL)
		e = sp_insert(sp, port_idx, family, ip);
	if (e == NULL)
		return -1;
	sp_timer_stop(sp, e);
	e->state = SP_STATIC;
	e->mac = *mac;
	sp_report(sp, port_idx, family, e->ip, &e->mac);
	return 0;
}

void slowpath_input(struct slowpath *sp, unsigned port_idx, struct rte_mbuf *m)
{
	enum sp_verdict v = SP_DROP;
	const uint8_t *eth;
	struct cursor c;

	if (m == NULL)
		return;
	if (sp == NULL || port_idx >= sp->n_ports || m->nb_segs != 1)
		goto out;
	c = cursor_init(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m));
	eth = cursor_take(&c, SP_ETH_LEN);
	if (eth == NULL)
		goto out;
	switch (get_be16(eth + 12)) {
	case SP_ETHERTYPE_ARP:
		v = sp_arp_input(sp, port_idx, eth, &c);
		break;
	case SP_ETHERTYPE_IP4:
		v = sp_ip4_input(sp, port_idx, eth, &c);
		break;
	case SP_ETHERTYPE_IP6:
		v = sp_ip6_input(sp, port_idx, eth, &c);
		break;
	default:
		break;
	}
out:
	if (v == SP_DROP && sp != NULL)
		sp->stats.dropped++;
	rte_pktmbuf_free(m);
}

void slowpath_resolve(struct slowpath *sp, unsigned port_idx, int family, const uint8_t *ip)
{
	const struct slowpath_port *pt;
	struct sp_neigh *e;

	if (!sp_args_ok(sp, port_idx, family, ip))
		return;
	pt = &sp->ports[port_idx];
	e = sp_find(sp, port_idx, family, ip);
	if (e != NULL) {
		/* Already asked for, or known: re-report a known MAC in case the
		 * worker missed the message that carried it. */
		if (e->state != SP_INCOMPLETE)
			sp_report(sp, port_idx, family, e->ip, &e->mac);
		return;
	}
	if ((family == 4 && !pt->has_v4) || (family == 6 && !pt->has_v6) ||
	    (e = sp_insert(sp, port_idx, family, ip)) == NULL) {
		/* No address to ask from, or the table is full: let the worker
		 * drop what it holds for this next hop. */
		sp_report(sp, port_idx, family, ip, NULL);
		return;
	}
	e->state = SP_INCOMPLETE;
	e->tries = 1;
	sp_timer_start(sp, e, sp->now + SP_RETRY_MS);
	sp_solicit(sp, e, false);
}

void slowpath_poll(struct slowpath *sp, uint64_t now_ms)
{
	unsigned budget = SP_POLL_BUDGET;

	if (sp == NULL)
		return;
	if (now_ms > sp->now)
		sp->now = now_ms;
	while (sp->heap_n > 0 && budget-- > 0) {
		struct sp_neigh *e = &sp->neigh[sp->heap[0]];

		if (e->deadline > sp->now)
			break;
		if (e->state == SP_REACHABLE) {
			/* Refresh before the entry ages: keep using the MAC meanwhile. */
			e->state = SP_PROBE;
			e->tries = 1;
			sp_timer_start(sp, e, sp->now + SP_RETRY_MS);
			sp_solicit(sp, e, true);
		} else if (e->tries >= SP_TRIES) {
			sp_give_up(sp, e);
		} else {
			e->tries++;
			sp_timer_start(sp, e, sp->now + SP_RETRY_MS);
			sp_solicit(sp, e, false);
		}
	}
}

bool slowpath_neigh_lookup(const struct slowpath *sp, unsigned port_idx, int family,
                           const uint8_t *ip, struct rte_ether_addr *mac)
{
	const struct sp_neigh *e;

	if (!sp_args_ok(sp, port_idx, family, ip))
		return false;
	e = sp_find(sp, port_idx, family, ip);
	if (e == NULL || e->state == SP_INCOMPLETE)
		return false;
	if (mac != NULL)
		*mac = e->mac;
	return true;
}

const struct slowpath_stats *slowpath_stats(const struct slowpath *sp)
{
	return &sp->stats;
}
