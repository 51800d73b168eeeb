/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Classify a received burst: what is for the control thread (ARP, ND,
 * ICMP echo to us, IKE), what is ESP for us (to its SA's owner), what is
 * private-side transit (SPD, in one rte_acl call per family), and what is
 * dropped (with a reason). Headers are checked here once; the later
 * stages trust the IP header's length fields.
 */
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_prefetch.h>

#include "dp_csum.h"
#include "dp_worker.h"

enum { PREFETCH_AHEAD = 4 };

enum cls {
	CLS_DROP,
	CLS_PUNT_SLOW,
	CLS_PUNT_IKE,
	CLS_ESP,
	CLS_TRANSIT4,
	CLS_TRANSIT6,
};

static bool our_mac(const struct dp_port *p, const struct rte_ether_addr *a)
{
	return rte_is_multicast_ether_addr(a) || rte_is_same_ether_addr(a, &p->mac);
}

/* UDP to us: ESP-in-UDP on 4500, IKE on 500 or 4500 (non-ESP marker). */
static enum cls udp_to_us(const struct dp_port *p, const uint8_t *ip, uint32_t len, uint32_t l4,
                          uint32_t *spi)
{
	uint16_t dport;

	if (len < l4 + 8)
		return CLS_DROP;
	dport = (uint16_t)(ip[l4 + 2] << 8 | ip[l4 + 3]);
	if (dport == 4500 && p->role == DP_PORT_PUBLIC && esp_inb_spi(ip, len, spi) == 0)
		return CLS_ESP;
	if (dport == 500 || dport == 4500)
		return CLS_PUNT_IKE;
	return CLS_DROP;
}

/*
 * ESP straight after the IP header: its SPI, read here once for the owner
 * and the SAD, when there is room for SPI and sequence number and the
 * packet is no fragment (as esp_inb_spi accepts it; the ESP stage checks
 * the rest).
 */
static enum cls esp_to_us(const uint8_t *ip, uint32_t tot, uint32_t l4, bool frag, uint32_t *spi,
                          unsigned *reason)
{
	if (frag || tot < l4 + 8) {
		*reason = DP_DROP_BAD_OUTER;
		return CLS_DROP;
	}
	*spi = (uint32_t)ip[l4] << 24 | (uint32_t)ip[l4 + 1] << 16 | (uint32_t)ip[l4 + 2] << 8 |
	       ip[l4 + 3];
	return CLS_ESP;
}

static enum cls classify4(const struct dp_port *p, struct rte_mbuf *m, unsigned *reason,
                          uint32_t *spi)
{
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, RTE_ETHER_HDR_LEN);
	uint32_t len = rte_pktmbuf_data_len(m) - RTE_ETHER_HDR_LEN;
	uint32_t ihl, tot;

	*reason = DP_DROP_BAD_IP;
	if (len < 20 || (ip[0] >> 4) != 4)
		return CLS_DROP;
	ihl = (uint32_t)(ip[0] & 0xf) * 4;
	tot = (uint32_t)(ip[2] << 8 | ip[3]);
	if (ihl < 20 || tot < ihl || tot > len)
		return CLS_DROP;
	/* Ethernet pads short frames: the IP length is the truth. */
	if (tot < len)
		rte_pktmbuf_trim(m, (uint16_t)(len - tot));
	len = tot;
	if (p->has_v4 && memcmp(ip + 16, p->v4, 4) == 0) {
		*reason = DP_DROP_TO_US_OTHER;
		if (ip[9] == IPPROTO_ESP && p->role == DP_PORT_PUBLIC)
			return esp_to_us(ip, tot, ihl, ((ip[6] & 0x3f) | ip[7]) != 0, spi, reason);
		if (ip[9] == IPPROTO_UDP)
			return udp_to_us(p, ip, len, ihl, spi);
		if (ip[9] == IPPROTO_ICMP)
			return CLS_PUNT_SLOW;
		return CLS_DROP;
	}
	if (p->role == DP_PORT_PUBLIC) {
		/* The public side carries only traffic for us. */
		*reason = DP_DROP_PUBLIC_TRANSIT;
		return CLS_DROP;
	}
	return CLS_TRANSIT4;
}

static enum cls classify6(const struct dp_port *p, struct rte_mbuf *m, unsigned *reason,
                          uint32_t *spi)
{
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, RTE_ETHER_HDR_LEN);
	uint32_t len = rte_pktmbuf_data_len(m) - RTE_ETHER_HDR_LEN;
	uint32_t tot;

	*reason = DP_DROP_BAD_IP;
	if (len < 40 || (ip[0] >> 4) != 6)
		return CLS_DROP;
	tot = 40 + (uint32_t)(ip[4] << 8 | ip[5]);
	if (tot > len)
		return CLS_DROP;
	if (tot < len)
		rte_pktmbuf_trim(m, (uint16_t)(len - tot));
	len = tot;
	/* Neighbour discovery goes to solicited-node multicast: by type, not address. */
	if (ip[6] == IPPROTO_ICMPV6 && len >= 41 && ip[40] >= 133 && ip[40] <= 137)
		return CLS_PUNT_SLOW;
	if (p->has_v6 && memcmp(ip + 24, p->v6, 16) == 0) {
		*reason = DP_DROP_TO_US_OTHER;
		if (ip[6] == IPPROTO_ESP && p->role == DP_PORT_PUBLIC)
			return esp_to_us(ip, tot, 40, false, spi, reason);
		if (ip[6] == IPPROTO_UDP)
			return udp_to_us(p, ip, len, 40, spi);
		if (ip[6] == IPPROTO_ICMPV6)
			return CLS_PUNT_SLOW;
		return CLS_DROP;
	}
	if (p->role == DP_PORT_PUBLIC) {
		*reason = DP_DROP_PUBLIC_TRANSIT;
		return CLS_DROP;
	}
	return CLS_TRANSIT6;
}

static void punt(struct dp_worker *w, struct rte_mbuf *m, uint32_t tag)
{
	m->hash.usr = tag;
	if (rte_ring_sp_enqueue(w->punt, m) != 0) {
		dp_drop_pkt(w, m, DP_DROP_PUNT_FULL);
		return;
	}
	w->c.punted++;
}

/* SPD actions for private-side transit packets of one family (data at IP). */
static void transit(struct dp_worker *w, int family, struct rte_mbuf **m, unsigned n)
{
	const struct dp_spd_action *act[DP_MAX_BURST];
	struct rte_mbuf *own[DP_MAX_BURST];
	uint32_t own_sa[DP_MAX_BURST];
	unsigned i, n_own = 0;

	dp_spd_lookup(w->spd, family, m, n, act);
	for (i = 0; i < n; i++) {
		if (act[i] == NULL) {
			dp_drop_pkt(w, m[i], DP_DROP_NO_POLICY);
			continue;
		}
		switch (act[i]->type) {
		case DP_SPD_PROTECT:
			if (act[i]->owner == w->idx) {
				own[n_own] = m[i];
				own_sa[n_own++] = act[i]->sa_id;
			} else {
				dp_handoff(w, act[i]->owner, m[i], DP_TAG_OUTB | act[i]->sa_id);
			}
			break;
		case DP_SPD_BYPASS: {
			const uint8_t *ip = rte_pktmbuf_mtod(m[i], const uint8_t *);
			const uint8_t *dst = family == 4 ? ip + 16 : ip + 24;
			const struct dp_nexthop *nh = dp_route_lookup(w->routes, family, dst);

			/* BYPASS never reaches the public side: plain traffic stays private. */
			if (nh == NULL || w->dp->ports[nh->port].role != DP_PORT_PRIVATE)
				dp_drop_pkt(w, m[i], DP_DROP_NO_ROUTE);
			else if (!dp_ttl_dec(rte_pktmbuf_mtod(m[i], uint8_t *)))
				dp_drop_pkt(w, m[i], DP_DROP_TTL_EXCEEDED);
			else
				dp_forward(w, m[i], nh, family, dst);
			break;
		}
		default:
			dp_drop_pkt(w, m[i], DP_DROP_POLICY_DISCARD);
			break;
		}
	}
	/* The packets this worker encrypts, in their order, in one call. */
	if (n_own > 0)
		dp_outb_submit_burst(w, own, own_sa, n_own);
}

void dp_classify_burst(struct dp_worker *w, unsigned pi, struct rte_mbuf **pkts, uint16_t n)
{
	const struct dp_port *p = &w->dp->ports[pi];
	struct dp_port_counters *pc = &w->c.port[pi];
	struct rte_mbuf *t4[DP_MAX_BURST], *t6[DP_MAX_BURST];
	unsigned n4 = 0, n6 = 0, i, reason;
	uint32_t spi = 0;
	enum cls c;

	w->c.rx_packets += n;
	pc->rx_packets += n;
	/* Headers a few packets ahead: their loads (and page walks) overlap. */
	for (i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct rte_ether_hdr *eh;

		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));

		pc->rx_bytes += rte_pktmbuf_pkt_len(m);
		/* Chained frames (scatter RX): the stages want one segment. */
		if (unlikely(m->nb_segs > 1) && rte_pktmbuf_linearize(m) != 0) {
			dp_drop_pkt(w, m, DP_DROP_MULTI_SEGMENT);
			continue;
		}
		if (rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN) {
			dp_drop_pkt(w, m, DP_DROP_NOT_IP);
			continue;
		}
		eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		if (!our_mac(p, &eh->dst_addr)) {
			dp_drop_pkt(w, m, DP_DROP_NOT_OUR_MAC);
			continue;
		}
		reason = DP_DROP_NOT_IP;
		switch (rte_be_to_cpu_16(eh->ether_type)) {
		case RTE_ETHER_TYPE_ARP:
			c = CLS_PUNT_SLOW;
			break;
		case RTE_ETHER_TYPE_IPV4:
			c = classify4(p, m, &reason, &spi);
			break;
		case RTE_ETHER_TYPE_IPV6:
			c = classify6(p, m, &reason, &spi);
			break;
		default:
			c = CLS_DROP;
			break;
		}
		switch (c) {
		case CLS_PUNT_SLOW:
			punt(w, m, DP_PUNT_SLOW | pi);
			break;
		case CLS_PUNT_IKE:
			punt(w, m, DP_PUNT_IKE | pi);
			break;
		case CLS_ESP:
			rte_pktmbuf_adj(m, RTE_ETHER_HDR_LEN);
			dp_inb_submit(w, m, spi);
			break;
		case CLS_TRANSIT4:
			rte_pktmbuf_adj(m, RTE_ETHER_HDR_LEN);
			t4[n4++] = m;
			break;
		case CLS_TRANSIT6:
			rte_pktmbuf_adj(m, RTE_ETHER_HDR_LEN);
			t6[n6++] = m;
			break;
		default:
			dp_drop_pkt(w, m, reason);
			break;
		}
	}
	if (n4 > 0)
		transit(w, 4, t4, n4);
	if (n6 > 0)
		transit(w, 6, t6, n6);
}
