/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ESP stages over mbufs. Outbound: SA slot -> checks (lifetime, TTL,
 * MSS clamp, MTU: fragment or ICMP too-big, bandwidth meter) -> staged ->
 * esp_outb_burst in place in the mbuf (head- and tailroom) -> public next
 * hop. Inbound: SPI -> owner (handoff) -> SAD -> esp_inb_burst -> inbound
 * policy check -> private next hop.
 *
 * TTL: the gateway is one router hop for the inner packet. It decrements
 * the inner TTL / hop limit once on the way in (before encryption) and
 * once on the way out (after decryption), and drops a packet whose TTL
 * would reach 0 (ttl_exceeded; no ICMP time-exceeded is sent). The outer
 * header gets a fresh TTL of 64 from lib/esp.
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_ip.h>

#include "dp_csum.h"
#include "dp_l3.h"
#include "dp_worker.h"

enum { FRAG_MAX = 16 };

static void emit_sa_event(struct dp_worker *w, struct dp_sa *sa, uint32_t type, bool *sent)
{
	struct dp_event ev = { .type = type, .ptr = sa, .sa_id = sa->id };

	*sent = dp_event_emit(w, &ev);
}

/*
 * Lifetimes and sequence space, checked by the owner as the SA is used and
 * by its periodic sweep (dp_worker.c), so an idle SA's time runs out too.
 */
void dp_sa_check_limits(struct dp_worker *w, struct dp_sa *sa)
{
	if (!sa->soft_sent && ((sa->soft_packets && sa->c.packets >= sa->soft_packets) ||
	                       (sa->soft_bytes && sa->c.bytes >= sa->soft_bytes) ||
	                       (sa->soft_tsc && w->now_tsc >= sa->soft_tsc)))
		emit_sa_event(w, sa, DP_EV_SOFT_EXPIRE, &sa->soft_sent);
	if (!sa->expired && ((sa->hard_packets && sa->c.packets >= sa->hard_packets) ||
	                     (sa->hard_bytes && sa->c.bytes >= sa->hard_bytes) ||
	                     (sa->hard_tsc && w->now_tsc >= sa->hard_tsc))) {
		sa->expired = true;
		emit_sa_event(w, sa, DP_EV_HARD_EXPIRE, &sa->hard_sent);
	} else if (sa->expired && !sa->hard_sent) {
		emit_sa_event(w, sa, DP_EV_HARD_EXPIRE, &sa->hard_sent);
	}
	if (sa->dir == ESP_DIR_OUT && !sa->esn && !sa->seq_sent &&
	    esp_sa_seq(sa->esp) >= UINT32_MAX - DP_SA_SEQ_MARGIN)
		emit_sa_event(w, sa, DP_EV_SEQ_NEAR_END, &sa->seq_sent);
}

static void acquire(struct dp_worker *w, uint32_t sa_id)
{
	struct dp_event ev = { .type = DP_EV_ACQUIRE, .sa_id = sa_id };

	/* One acquire per slot and second: a traffic burst is one request to IKE. */
	if (w->now_tsc - w->acquire_tsc[sa_id] < rte_get_tsc_hz() && w->acquire_tsc[sa_id] != 0)
		return;
	if (dp_event_emit(w, &ev))
		w->acquire_tsc[sa_id] = w->now_tsc;
}

/*
 * A hard limit by packets or bytes: the staged packet would be at or past
 * it, counting what the SA sent already and what is staged before it in
 * this burst. Such packets are dropped before the crypto, so exactly the
 * limit leaves, never up to a burst more.
 */
static bool past_hard(const struct dp_sa *sa, uint32_t len)
{
	return sa->expired ||
	       (sa->hard_packets && sa->c.packets + sa->staged_packets >= sa->hard_packets) ||
	       (sa->hard_bytes && len != 0 && sa->c.bytes + sa->staged_bytes >= sa->hard_bytes);
}

/*
 * Drops the staged packets past their SA's hard limit and compacts the
 * stage; returns how many remain. len: inner lengths (outbound) or NULL
 * (inbound: the inner length is known after decryption only; inb_run
 * checks bytes then).
 */
static unsigned stage_limit(struct dp_worker *w, struct rte_mbuf **pkts, struct dp_sa **sas,
                            const struct dp_nexthop **nhs, unsigned n, bool limited)
{
	unsigned i, k = 0;

	/*
	 * Most SAs have no packet or byte limit: then nothing is counted or
	 * dropped. limited: some staged packet's SA has one (staging noted it;
	 * an SA staged is not expired, and nothing expires it before its run).
	 */
	if (!limited)
		return n;
	for (i = 0; i < n; i++) {
		struct dp_sa *sa = sas[i];
		uint32_t len = nhs != NULL ? rte_pktmbuf_data_len(pkts[i]) : 0;

		if (past_hard(sa, len)) {
			dp_drop_sa(w, sa, pkts[i], DP_DROP_SA_EXPIRED);
			continue;
		}
		sa->staged_packets++;
		sa->staged_bytes += len;
		pkts[k] = pkts[i];
		sas[k] = sa;
		if (nhs != NULL)
			nhs[k] = nhs[i];
		k++;
	}
	for (i = 0; i < k; i++) {
		sas[i]->staged_packets = 0;
		sas[i]->staged_bytes = 0;
	}
	return k;
}

/*
 * The ESP view of a staged mbuf (single segment, data at the IP header);
 * reserve: headroom kept free for the Ethernet header written after ESP.
 * Filled field by field in place: a struct built on the stack and copied
 * made GCC store it in pieces and reload it whole (a store-forwarding
 * stall per packet).
 */
static inline void esp_pkt_set(struct esp_pkt *p, struct rte_mbuf *m, struct esp_sa *sa,
                               uint32_t reserve)
{
	uint32_t off = m->data_off, len = m->data_len;

	p->data = (uint8_t *)m->buf_addr + off;
	p->len = len;
	p->headroom = off - reserve;
	p->tailroom = (uint32_t)m->buf_len - off - len;
	p->sa = sa;
}

static void outb_run(struct dp_worker *w)
{
	struct esp_pkt pk[DP_MAX_BURST], *pp[DP_MAX_BURST];
	uint32_t ilen[DP_MAX_BURST];
	unsigned i, k, n = w->n_outb;

	if (n == 0)
		return;
	n = stage_limit(w, w->outb, w->outb_sa, w->outb_nh, n, w->outb_limited);
	w->n_outb = 0;
	w->outb_limited = false;
	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		esp_pkt_set(&pk[i], w->outb[i], w->outb_sa[i]->esp, RTE_ETHER_HDR_LEN);
		ilen[i] = pk[i].len;
		pp[i] = &pk[i];
	}
	k = esp_outb_burst(pp, (uint16_t)n);
	w->c.encrypted += k;
	for (i = 0; i < k; i++) {
		const struct esp_pkt *p = pp[i];
		unsigned j = (unsigned)(p - pk);
		struct rte_mbuf *m = w->outb[j];
		struct dp_sa *sa = w->outb_sa[j];

		sa->c.packets++;
		sa->c.bytes += ilen[j];
		/*
		 * Limits once per run of one SA's packets, when its counts are
		 * final: the hard ones were enforced exactly in stage_limit.
		 */
		if (i + 1 == k || pp[i + 1]->sa != p->sa)
			dp_sa_check_limits(w, sa);
		/* esp_pkt_set kept the Ethernet header's room in front. */
		dp_forward_at(w, m, p->data, p->len, w->outb_nh[j], sa->family == AF_INET ? 4 : 6,
		              sa->peer);
	}
	for (; i < n; i++) {
		unsigned j = (unsigned)(pp[i] - pk);

		dp_drop_sa(w, w->outb_sa[j], w->outb[j], pp[i]->drop);
	}
}

static inline void outb_stage(struct dp_worker *w, struct rte_mbuf *m, struct dp_sa *sa,
                              const struct dp_nexthop *nh)
{
	if (w->meter_on &&
	    rte_meter_srtcm_color_blind_check(&w->meter, &w->meter_prof, w->now_tsc,
	                                      rte_pktmbuf_pkt_len(m)) == RTE_COLOR_RED) {
		dp_drop_sa(w, sa, m, DP_DROP_RATE_LIMITED);
		return;
	}
	if (w->n_outb == DP_MAX_BURST)
		outb_run(w);
	w->outb[w->n_outb] = m;
	w->outb_sa[w->n_outb] = sa;
	w->outb_nh[w->n_outb] = nh;
	w->n_outb++;
	w->outb_limited |= (sa->hard_packets | sa->hard_bytes) != 0;
}

/* Too big for the tunnel: ICMP back to the sender (DF / IPv6). */
static void send_too_big(struct dp_worker *w, struct rte_mbuf *m, int family, uint32_t mtu)
{
	const struct dp_port *in = &w->dp->ports[dp_port_index[m->port]];
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint8_t *src =
	        family == 4 ? (in->has_v4 ? in->v4 : NULL) : (in->has_v6 ? in->v6 : NULL);
	const struct dp_nexthop *nh;
	struct rte_mbuf *icmp;
	uint8_t dst[16];

	if (src == NULL)
		return;
	if (family == 6 && mtu < 1280)
		mtu = 1280;
	memcpy(dst, family == 4 ? ip + 12 : ip + 8, family == 4 ? 4 : 16);
	icmp = dp_icmp_too_big(w->dp->mp, m, (uint16_t)mtu, src);
	if (icmp == NULL)
		return;
	icmp->port = m->port;
	nh = dp_route_lookup(w->routes, family, dst);
	if (nh == NULL || w->dp->ports[nh->port].role != DP_PORT_PRIVATE) {
		dp_drop_pkt(w, icmp, DP_DROP_NO_ROUTE);
		return;
	}
	dp_forward(w, icmp, nh, family, dst);
}

/* A PROTECT policy whose SA slot is empty (acquire) or whose SA expired. */
static __attribute__((noinline)) void outb_no_sa(struct dp_worker *w, struct rte_mbuf *m,
                                                 uint32_t sa_id, struct dp_sa *sa)
{
	if (sa == NULL) {
		if (sa_id < DP_SA_MAX)
			acquire(w, sa_id);
		dp_drop_pkt(w, m, DP_DROP_NO_SA);
		return;
	}
	dp_sa_check_limits(w, sa);
	dp_drop_sa(w, sa, m, DP_DROP_SA_EXPIRED);
}

/* The next hop and inner MTU of an SA other than the last one's: into the cache. */
static __attribute__((noinline)) bool outb_route(struct dp_worker *w, struct dp_sa *sa)
{
	const struct dp_nexthop *nh =
	        dp_route_lookup(w->routes, sa->family == AF_INET ? 4 : 6, sa->peer);

	if (nh == NULL || w->dp->ports[nh->port].role != DP_PORT_PUBLIC)
		return false;
	w->oc_sa = sa;
	w->oc_nh = nh;
	w->oc_imtu = dp_sa_inner_mtu(sa, w->dp->ports[nh->port].mtu);
	return true;
}

/* Bigger than the tunnel takes: fragments (IPv4 without DF) or ICMP too big. */
static __attribute__((noinline)) void outb_too_big(struct dp_worker *w, struct rte_mbuf *m,
                                                   struct dp_sa *sa, const struct dp_nexthop *nh,
                                                   uint32_t imtu, int family)
{
	struct rte_mbuf *frags[FRAG_MAX];
	uint8_t *ip = rte_pktmbuf_mtod(m, uint8_t *);
	int nf, i;

	if (family == 4 && !(ip[6] & 0x40)) {
		/* No DF: fragment the inner packet, then encrypt each fragment. */
		dp_ttl_dec(ip);
		nf = dp_frag_ipv4(m, (uint16_t)imtu, w->dp->mp, frags, FRAG_MAX);
		if (nf < 0) {
			dp_drop_sa(w, sa, m, DP_DROP_FRAG_FAILED);
			return;
		}
		rte_pktmbuf_free(m);
		for (i = 0; i < nf; i++)
			outb_stage(w, frags[i], sa, nh);
		return;
	}
	send_too_big(w, m, family, imtu);
	dp_drop_sa(w, sa, m, DP_DROP_MTU_EXCEEDED);
}

static inline void outb_submit(struct dp_worker *w, struct rte_mbuf *m, uint32_t sa_id)
{
	struct dp_sa *sa = sa_id < DP_SA_MAX ? w->sa_out[sa_id] : NULL;
	uint8_t *ip;
	uint32_t imtu;
	int family;

	if (unlikely(sa == NULL || sa->expired)) {
		outb_no_sa(w, m, sa_id, sa);
		return;
	}
	if (unlikely(m->nb_segs > 1) && rte_pktmbuf_linearize(m) != 0) {
		dp_drop_sa(w, sa, m, DP_DROP_MULTI_SEGMENT);
		return;
	}
	ip = rte_pktmbuf_mtod(m, uint8_t *);
	family = ip[0] >> 4;
	/*
	 * TTL is checked now and decremented only once the packet goes on: an
	 * ICMP too-big quotes the header as the sender sent it (as Linux does).
	 */
	if (unlikely(ip[family == 4 ? 8 : 7] <= 1)) {
		dp_drop_sa(w, sa, m, DP_DROP_TTL_EXCEEDED);
		return;
	}
	if (unlikely(sa != w->oc_sa) && !outb_route(w, sa)) {
		dp_drop_sa(w, sa, m, DP_DROP_NO_ROUTE);
		return;
	}
	imtu = w->oc_imtu;
	if (w->dp->mss_clamp && ip[family == 4 ? 9 : 6] == IPPROTO_TCP &&
	    imtu > (family == 4 ? 40u : 60u) &&
	    dp_mss_clamp(m, (uint16_t)(imtu - (family == 4 ? 40 : 60))) < 0) {
		dp_drop_sa(w, sa, m, DP_DROP_MALFORMED_MSS);
		return;
	}
	if (unlikely(rte_pktmbuf_pkt_len(m) > imtu)) {
		outb_too_big(w, m, sa, w->oc_nh, imtu, family);
		return;
	}
	dp_ttl_dec(ip);
	outb_stage(w, m, sa, w->oc_nh);
}

void dp_outb_submit(struct dp_worker *w, struct rte_mbuf *m, uint32_t sa_id)
{
	outb_submit(w, m, sa_id);
}

void dp_outb_submit_burst(struct dp_worker *w, struct rte_mbuf **m, const uint32_t *sa_id,
                          unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		outb_submit(w, m[i], sa_id[i]);
}

static void inb_run(struct dp_worker *w)
{
	struct esp_pkt pk[DP_MAX_BURST], *pp[DP_MAX_BURST];
	unsigned i, k, n = w->n_inb;

	if (n == 0)
		return;
	n = stage_limit(w, w->inb, w->inb_sa, NULL, n, w->inb_limited);
	w->n_inb = 0;
	w->inb_limited = false;
	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		esp_pkt_set(&pk[i], w->inb[i], w->inb_sa[i]->esp, 0);
		pp[i] = &pk[i];
	}
	k = esp_inb_burst(pp, (uint16_t)n);
	w->c.decrypted += k;
	for (i = 0; i < n; i++) {
		unsigned j = (unsigned)(pp[i] - pk);
		struct rte_mbuf *m = w->inb[j];
		struct dp_sa *sa = w->inb_sa[j];
		const struct dp_nexthop *nh;
		uint8_t *ip;
		int family;

		if (i >= k) {
			dp_drop_sa(w, sa, m, pp[i]->drop);
			continue;
		}
		/* A hard limit by bytes reached earlier in this burst: not one more. */
		if (sa->expired) {
			dp_drop_sa(w, sa, m, DP_DROP_SA_EXPIRED);
			continue;
		}
		sa->c.packets++;
		sa->c.bytes += pp[i]->len;
		/*
		 * Limits once per run of one SA's packets; per packet only for a
		 * hard limit by bytes, which only the decrypted length tells.
		 */
		if (unlikely(sa->hard_bytes != 0) || i + 1 == k || pp[i + 1]->sa != pp[i]->sa)
			dp_sa_check_limits(w, sa);
		ip = pp[i]->data;
		family = pp[i]->next_header == 4 ? 4 : 6;
		if (!dp_sa_inner_allowed(sa, ip, pp[i]->len)) {
			dp_drop_sa(w, sa, m, DP_DROP_PEER_SOURCE_NAT);
			continue;
		}
		if (!dp_ttl_dec(ip)) {
			dp_drop_sa(w, sa, m, DP_DROP_TTL_EXCEEDED);
			continue;
		}
		nh = dp_route_lookup(w->routes, family, family == 4 ? ip + 16 : ip + 24);
		if (nh == NULL || w->dp->ports[nh->port].role != DP_PORT_PRIVATE) {
			dp_drop_sa(w, sa, m, DP_DROP_NO_ROUTE);
			continue;
		}
		/* The outer headers were in front: room for the Ethernet header. */
		dp_forward_at(w, m, ip, pp[i]->len, nh, family, family == 4 ? ip + 16 : ip + 24);
	}
}

void dp_inb_submit(struct dp_worker *w, struct rte_mbuf *m, uint32_t spi)
{
	struct dp_sa *sa;
	void *data;
	unsigned owner;

	owner = dp_owner_fast(w->dp, spi);
	if (owner != w->idx) {
		m->hash.fdir.hi = spi;
		dp_handoff(w, owner, m, DP_TAG_INB);
		return;
	}
	if (likely(w->ic_sa != NULL && w->ic_sa->spi == spi)) {
		sa = w->ic_sa;
	} else {
		if (rte_hash_lookup_data(w->sad_in, &spi, &data) < 0) {
			dp_drop_pkt(w, m, DP_DROP_UNKNOWN_SPI);
			return;
		}
		sa = data;
		w->ic_sa = sa;
	}
	if (sa->expired) {
		dp_sa_check_limits(w, sa);
		dp_drop_sa(w, sa, m, DP_DROP_SA_EXPIRED);
		return;
	}
	if (w->n_inb == DP_MAX_BURST)
		inb_run(w);
	w->inb[w->n_inb] = m;
	w->inb_sa[w->n_inb] = sa;
	w->n_inb++;
	w->inb_limited |= (sa->hard_packets | sa->hard_bytes) != 0;
}

void dp_esp_flush(struct dp_worker *w)
{
	outb_run(w);
	inb_run(w);
}

void dp_rate_set(struct dp_worker *w, uint32_t kbps)
{
	struct rte_meter_srtcm_params p;

	w->meter_on = false;
	if (kbps == 0)
		return;
	p.cir = (uint64_t)kbps * 1000 / 8;
	/* Bursts of 20 ms at the rate, never less than a few jumbo frames. */
	p.cbs = p.cir / 50 > 32768 ? p.cir / 50 : 32768;
	p.ebs = p.cbs;
	if (rte_meter_srtcm_profile_config(&w->meter_prof, &p) != 0 ||
	    rte_meter_srtcm_config(&w->meter, &w->meter_prof) != 0)
		return;
	w->meter_on = true;
}
