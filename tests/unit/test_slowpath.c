/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Slow path: ARP, ND and echo against a net_ring port whose TX ring the
 * test drains, with a recording fake for neigh_update. Expected frames are
 * scapy's (the expression that made each is next to it), so the bytes and
 * checksums are checked by code we did not write; echo checksums are also
 * recomputed here. Every truncation of every input must be dropped.
 */
#include <rte_ethdev.h>
#include <rte_eth_ring.h>
#include <rte_ring.h>

#include "unit/dpdk_testutil.h"

#include "slowpath.h"

#define RING_SIZE 32768
#define POOL_SIZE 8191

static struct rte_mempool *pool;
static struct rte_ring *rx_ring, *tx_ring;
static uint16_t ring_port;

static const struct rte_ether_addr mac_us = { { 2, 0, 0, 0, 0, 1 } };
static const struct rte_ether_addr mac_peer = { { 2, 0, 0, 0, 0, 2 } };
static const struct rte_ether_addr mac_n3 = { { 2, 0, 0, 0, 0, 3 } };
static const uint8_t ip_peer[4] = { 192, 0, 2, 2 };
static const uint8_t ip_n3[4] = { 192, 0, 2, 3 };
static const uint8_t ip_n4[4] = { 192, 0, 2, 4 };
static const uint8_t ip6_peer[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t ip6_n3[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 3 };

/* ---- scapy vectors ---- */

/* Ether(dst=bcast, src=peer)/ARP(op=1, hwsrc=peer, psrc="192.0.2.2", pdst="192.0.2.1") */
static const char arp_req_us[] = "ffffffffffff02000000000208060001080006040001020000000002c0000202"
                                 "000000000000c0000201";
/* Ether(dst=peer, src=us)/ARP(op=2, hwsrc=us, psrc=.1, hwdst=peer, pdst=.2) */
static const char arp_reply_exp[] =
        "02000000000202000000000108060001080006040002020000000001c0000201"
        "020000000002c0000202";
/* Ether(dst=bcast, src=us)/ARP(op=1, hwsrc=us, psrc=.1, hwdst=0, pdst=.3) */
static const char arp_req_n3_exp[] =
        "ffffffffffff02000000000108060001080006040001020000000001c0000201"
        "000000000000c0000203";
/* Ether(dst=us, src=n3)/ARP(op=2, hwsrc=n3, psrc=.3, hwdst=us, pdst=.1) */
static const char arp_reply_n3[] =
        "02000000000102000000000308060001080006040002020000000003c0000203"
        "020000000001c0000201";
/* Ether(dst=33:33:ff:00:00:01, src=peer)/IPv6(src=::2, dst=ff02::1:ff00:1, hlim=255)/
 * ICMPv6ND_NS(tgt=2001:db8::1)/ICMPv6NDOptSrcLLAddr(lladdr=peer) */
static const char ns_us[] = "3333ff00000102000000000286dd6000000000203aff20010db8000000000000"
                            "000000000002ff0200000000000000000001ff00000187001c27000000002001"
                            "0db80000000000000000000000010101020000000002";
/* Ether(dst=peer, src=us)/IPv6(src=::1, dst=::2, hlim=255)/
 * ICMPv6ND_NA(R=1, S=1, O=1, tgt=2001:db8::1)/ICMPv6NDOptDstLLAddr(lladdr=us) */
static const char na_exp[] = "02000000000202000000000186dd6000000000203aff20010db8000000000000"
                             "00000000000120010db800000000000000000000000288000a73e00000002001"
                             "0db80000000000000000000000010201020000000001";
/* Ether(dst=33:33:ff:00:00:03, src=us)/IPv6(src=::1, dst=ff02::1:ff00:3, hlim=255)/
 * ICMPv6ND_NS(tgt=2001:db8::3)/ICMPv6NDOptSrcLLAddr(lladdr=us) */
static const char ns_n3_exp[] = "3333ff00000302000000000186dd6000000000203aff20010db8000000000000"
                                "000000000001ff0200000000000000000001ff00000387001c25000000002001"
                                "0db80000000000000000000000030101020000000001";
/* Ether(dst=us, src=n3)/IPv6(src=::3, dst=::1, hlim=255)/
 * ICMPv6ND_NA(R=0, S=1, O=1, tgt=2001:db8::3)/ICMPv6NDOptDstLLAddr(lladdr=n3) */
static const char na_n3[] = "02000000000102000000000386dd6000000000203aff20010db8000000000000"
                            "00000000000320010db800000000000000000000000188008a6e600000002001"
                            "0db80000000000000000000000030201020000000003";
/* Ether(dst=us, src=peer)/IPv6(src=::2, dst=::1, hlim=64)/
 * ICMPv6EchoRequest(id=0x1234, seq=7, data="vpngw-echo-v6-payload") */
static const char echo6[] = "02000000000102000000000286dd60000000001d3a4020010db8000000000000"
                            "00000000000220010db80000000000000000000000018000c74c123400077670"
                            "6e67772d6563686f2d76362d7061796c6f6164";
/* The same answered: Ether(dst=peer, src=us)/IPv6(src=::1, dst=::2, hlim=64)/
 * ICMPv6EchoReply(id=0x1234, seq=7, data=...) */
static const char echo6_exp[] = "02000000000202000000000186dd60000000001d3a4020010db8000000000000"
                                "00000000000120010db80000000000000000000000028100c64c123400077670"
                                "6e67772d6563686f2d76362d7061796c6f6164";
/* Ether(dst=us, src=peer)/IP(src=.2, dst=.1, id=7, ttl=61)/
 * ICMP(type=8, id=0x4321, seq=3)/"vpngw-echo-v4-payload" */
static const char echo4[] = "020000000001020000000002080045000031000700003d01f9c1c0000202c000"
                            "020108006c304321000376706e67772d6563686f2d76342d7061796c6f6164";

/* ---- recording fake ---- */

struct upd {
	unsigned port;
	int family;
	uint8_t ip[16];
	bool has_mac;
	struct rte_ether_addr mac;
};

static struct upd updates[64];
static unsigned n_updates, n_updates_total, n_gave_up_total;

static void rec_update(void *ctx, unsigned port_idx, int family, const uint8_t *ip,
                       const struct rte_ether_addr *mac)
{
	(void)ctx;
	n_updates_total++;
	if (mac == NULL)
		n_gave_up_total++;
	if (n_updates >= ARRAY_SIZE(updates))
		return;
	updates[n_updates].port = port_idx;
	updates[n_updates].family = family;
	memset(updates[n_updates].ip, 0, 16);
	memcpy(updates[n_updates].ip, ip, family == 4 ? 4 : 16);
	updates[n_updates].has_mac = mac != NULL;
	if (mac != NULL)
		updates[n_updates].mac = *mac;
	n_updates++;
}

static void ck_update(unsigned i, int family, const uint8_t *ip, const struct rte_ether_addr *mac)
{
	ck_assert_uint_lt(i, n_updates);
	ck_assert_int_eq(updates[i].family, family);
	ck_assert_uint_eq(updates[i].port, 0);
	ck_assert_mem_eq(updates[i].ip, ip, family == 4 ? 4 : 16);
	ck_assert_int_eq(updates[i].has_mac, mac != NULL);
	if (mac != NULL)
		ck_assert_mem_eq(updates[i].mac.addr_bytes, mac->addr_bytes, 6);
}

/* ---- harness ---- */

static struct slowpath *sp;
static unsigned pool_before;

static void setup(void)
{
	struct slowpath_port p = { .port_id = ring_port, .txq = 0, .mac = mac_us };
	struct slowpath_ops ops = { .neigh_update = rec_update };

	p.has_v4 = true;
	memcpy(p.v4, (uint8_t[]){ 192, 0, 2, 1 }, 4);
	p.v4_prefix = 24;
	p.has_v6 = true;
	memcpy(p.v6, (uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, 16);
	p.v6_prefix = 64;
	n_updates = n_updates_total = n_gave_up_total = 0;
	pool_before = rte_mempool_avail_count(pool);
	sp = slowpath_create(&p, 1, pool, &ops);
	ck_assert_ptr_nonnull(sp);
	slowpath_poll(sp, 1000);
}

static void teardown(void)
{
	struct rte_mbuf *m;

	slowpath_free(sp);
	while (rte_ring_dequeue(tx_ring, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	/* Every mbuf the slow path took or made is back: nothing leaked. */
	ck_assert_uint_eq(rte_mempool_avail_count(pool), pool_before);
}

/* An mbuf over exactly n bytes: ASan reports any read past the frame. */
static struct rte_mbuf *mk(const uint8_t *b, size_t n)
{
	return test_mbuf_ext(pool, b, n);
}

static size_t hex(const char *h, uint8_t *out)
{
	return hex2bin(h, out, 2048);
}

static void feed(const uint8_t *b, size_t n)
{
	slowpath_input(sp, 0, mk(b, n));
}

static void feed_hex(const char *h)
{
	uint8_t b[2048];

	feed(b, hex(h, b));
}

static unsigned tx_count(void)
{
	return rte_ring_count(tx_ring);
}

/* Takes the next transmitted frame; its length, 0 if none. */
static size_t tx_take(uint8_t *out, size_t cap)
{
	struct rte_mbuf *m;
	size_t n;

	if (rte_ring_dequeue(tx_ring, (void **)&m) != 0)
		return 0;
	ck_assert_uint_eq(m->nb_segs, 1);
	n = rte_pktmbuf_data_len(m);
	ck_assert_uint_le(n, cap);
	memcpy(out, rte_pktmbuf_mtod(m, uint8_t *), n);
	rte_pktmbuf_free(m);
	return n;
}

static void ck_tx_hex(const char *h)
{
	uint8_t got[2048], exp[2048];
	size_t n = tx_take(got, sizeof(got)), e = hex(h, exp);

	ck_assert_uint_eq(n, e);
	ck_assert_mem_eq(got, exp, e);
}

static void tx_drain(void)
{
	uint8_t b[2048];

	while (tx_take(b, sizeof(b)) > 0)
		;
}

static bool ref_icmp6_ok(const uint8_t *ip6)
{
	uint8_t ph[40];
	size_t len = (size_t)ip6[4] << 8 | ip6[5];

	memcpy(ph, ip6 + 8, 32);
	memset(ph + 32, 0, 8);
	ph[34] = ip6[4];
	ph[35] = ip6[5];
	ph[39] = ip6[6];
	return ref_sum(ip6 + 40, len, ref_sum(ph, 40, 0)) == 0xffff;
}

/* Recomputes the ICMPv6 checksum of an edited test packet. */
static void ref_icmp6_fix(uint8_t *ip6)
{
	uint8_t ph[40] = { 0 };
	size_t len = (size_t)ip6[4] << 8 | ip6[5];
	uint16_t c;

	memcpy(ph, ip6 + 8, 32);
	ph[34] = ip6[4];
	ph[35] = ip6[5];
	ph[39] = ip6[6];
	ip6[42] = ip6[43] = 0;
	c = (uint16_t)~ref_sum(ip6 + 40, len, ref_sum(ph, 40, 0));
	ip6[42] = (uint8_t)(c >> 8);
	ip6[43] = (uint8_t)c;
}

static const struct slowpath_stats *st(void)
{
	return slowpath_stats(sp);
}

/* ---- ARP ---- */

START_TEST(arp_request_for_us_answered_exactly)
{
	uint8_t b[64] = { 0 };
	size_t n = hex(arp_req_us, b);

	feed(b, n);
	ck_tx_hex(arp_reply_exp);
	ck_assert_uint_eq(st()->arp_requests_answered, 1);
	/* The requester was learned, as Linux does for requests that target us. */
	ck_assert_uint_eq(n_updates, 1);
	ck_update(0, 4, ip_peer, &mac_peer);

	/* Padded to the Ethernet minimum: the same answer, nothing learned again. */
	feed(b, 60);
	ck_tx_hex(arp_reply_exp);
	ck_assert_uint_eq(n_updates, 1);
	ck_assert_uint_eq(st()->dropped, 0);
}
END_TEST

START_TEST(arp_request_not_for_us_ignored)
{
	uint8_t b[64];
	size_t n = hex(arp_req_us, b);

	b[41] = 99; /* who-has 192.0.2.99 */
	feed(b, n);
	ck_assert_uint_eq(tx_count(), 0);
	ck_assert_uint_eq(n_updates, 0);
	ck_assert_uint_eq(st()->dropped, 1);
	ck_assert(!slowpath_neigh_lookup(sp, 0, 4, ip_peer, NULL));
}
END_TEST

START_TEST(arp_unsolicited_reply_from_stranger_not_learned)
{
	uint8_t b[64];
	size_t n = hex(arp_reply_n3, b);

	b[41] = 77; /* a reply to someone else */
	feed(b, n);
	ck_assert_uint_eq(n_updates, 0);
	ck_assert_uint_eq(st()->dropped, 1);
}
END_TEST

START_TEST(arp_resolve_retries_then_gives_up)
{
	slowpath_resolve(sp, 0, 4, ip_n3);
	ck_tx_hex(arp_req_n3_exp);
	slowpath_resolve(sp, 0, 4, ip_n3); /* outstanding: not asked again */
	ck_assert_uint_eq(tx_count(), 0);
	slowpath_poll(sp, 1999);
	ck_assert_uint_eq(tx_count(), 0);
	slowpath_poll(sp, 2000);
	ck_tx_hex(arp_req_n3_exp);
	slowpath_poll(sp, 3000);
	ck_tx_hex(arp_req_n3_exp);
	ck_assert_uint_eq(n_updates, 0);
	slowpath_poll(sp, 4000);
	ck_assert_uint_eq(tx_count(), 0);
	ck_assert_uint_eq(st()->arp_requests_sent, 3);
	ck_assert_uint_eq(n_updates, 1);
	ck_update(0, 4, ip_n3, NULL);
	ck_assert(!slowpath_neigh_lookup(sp, 0, 4, ip_n3, NULL));
	/* A later resolve starts over. */
	slowpath_resolve(sp, 0, 4, ip_n3);
	ck_tx_hex(arp_req_n3_exp);
}
END_TEST

START_TEST(arp_reply_learned_and_refreshed)
{
	struct rte_ether_addr got;
	uint8_t b[64];
	size_t n;

	slowpath_resolve(sp, 0, 4, ip_n3);
	tx_drain();
	feed_hex(arp_reply_n3);
	ck_assert_uint_eq(st()->arp_replies_learned, 1);
	ck_assert_uint_eq(n_updates, 1);
	ck_update(0, 4, ip_n3, &mac_n3);
	ck_assert(slowpath_neigh_lookup(sp, 0, 4, ip_n3, &got));
	ck_assert_mem_eq(got.addr_bytes, mac_n3.addr_bytes, 6);
	/* Answered: no retry at the old deadline. */
	slowpath_poll(sp, 2000);
	ck_assert_uint_eq(tx_count(), 0);

	/* Before the entry ages it is re-resolved, first unicast, still in use. */
	slowpath_poll(sp, 300000);
	n = tx_take(b, sizeof(b));
	ck_assert_uint_eq(n, 42);
	ck_assert_mem_eq(b, mac_n3.addr_bytes, 6);
	ck_assert_uint_eq(b[21], 1);
	ck_assert(slowpath_neigh_lookup(sp, 0, 4, ip_n3, NULL));
	feed_hex(arp_reply_n3);
	ck_assert_uint_eq(n_updates, 1); /* same MAC: nothing to push */
	slowpath_poll(sp, 301000);
	ck_assert_uint_eq(tx_count(), 0);

	/* Next refresh unanswered: broadcast retries, then dropped. */
	slowpath_poll(sp, 600000);
	ck_assert_uint_eq(tx_take(b, sizeof(b)), 42);
	ck_assert_mem_eq(b, mac_n3.addr_bytes, 6);
	slowpath_poll(sp, 601000);
	ck_tx_hex(arp_req_n3_exp);
	slowpath_poll(sp, 602000);
	ck_tx_hex(arp_req_n3_exp);
	ck_assert(slowpath_neigh_lookup(sp, 0, 4, ip_n3, NULL));
	slowpath_poll(sp, 603000);
	ck_assert(!slowpath_neigh_lookup(sp, 0, 4, ip_n3, NULL));
	ck_assert_uint_eq(n_updates, 2);
	ck_update(1, 4, ip_n3, NULL);
}
END_TEST

START_TEST(arp_reply_with_new_mac_updates)
{
	uint8_t b[64];
	size_t n = hex(arp_reply_n3, b);

	slowpath_resolve(sp, 0, 4, ip_n3);
	feed(b, n);
	b[11] = 9;
	b[27] = 9; /* the neighbour moved to 02:..:09 */
	feed(b, n);
	ck_assert_uint_eq(n_updates, 2);
	ck_update(1, 4, ip_n3, &(struct rte_ether_addr){ { 2, 0, 0, 0, 0, 9 } });
}
END_TEST

START_TEST(static_entry_never_overwritten_or_resolved)
{
	const struct rte_ether_addr m4 = { { 2, 0, 0, 0, 0, 4 } };
	struct rte_ether_addr got;
	uint8_t b[64];
	size_t n = hex(arp_reply_n3, b);

	ck_assert_int_eq(slowpath_neigh_static(sp, 0, 4, ip_n4, &m4), 0);
	ck_assert_uint_eq(n_updates, 1);
	ck_update(0, 4, ip_n4, &m4);
	b[31] = 4; /* a reply claiming 192.0.2.4 from 02:..:03 */
	feed(b, n);
	ck_assert(slowpath_neigh_lookup(sp, 0, 4, ip_n4, &got));
	ck_assert_mem_eq(got.addr_bytes, m4.addr_bytes, 6);
	slowpath_resolve(sp, 0, 4, ip_n4);
	ck_assert_uint_eq(tx_count(), 0);
	slowpath_poll(sp, 10000000);
	ck_assert_uint_eq(tx_count(), 0);
	ck_assert(slowpath_neigh_lookup(sp, 0, 4, ip_n4, NULL));
	ck_assert_int_eq(slowpath_neigh_static(sp, 5, 4, ip_n4, &m4), -1);
	ck_assert_int_eq(slowpath_neigh_static(sp, 0, 5, ip_n4, &m4), -1);
}
END_TEST

/* Many next hops: the hash keeps the answered ones while the others are
 * given up and removed around them. */
START_TEST(table_of_thousands)
{
	const unsigned n = 12000;
	uint8_t ip[4] = { 10, 0, 0, 0 }, b[64];
	size_t len = hex(arp_reply_n3, b);

	for (unsigned i = 0; i < n; i++) {
		ip[1] = (uint8_t)(i >> 16);
		ip[2] = (uint8_t)(i >> 8);
		ip[3] = (uint8_t)i;
		slowpath_resolve(sp, 0, 4, ip);
		if (i % 2 == 0) {
			memcpy(b + 28, ip, 4);
			feed(b, len);
		}
		if (tx_count() > 1000)
			tx_drain();
	}
	tx_drain();
	ck_assert_uint_eq(n_updates_total, n / 2);
	for (uint64_t t = 2000; t <= 5000; t += 1000) {
		for (unsigned k = 0; k < 40; k++) {
			slowpath_poll(sp, t);
			tx_drain();
		}
	}
	ck_assert_uint_eq(n_gave_up_total, n / 2);
	for (unsigned i = 0; i < n; i++) {
		ip[1] = (uint8_t)(i >> 16);
		ip[2] = (uint8_t)(i >> 8);
		ip[3] = (uint8_t)i;
		ck_assert_int_eq(slowpath_neigh_lookup(sp, 0, 4, ip, NULL), i % 2 == 0);
	}
	/* Full: more than the table holds is refused at once, not queued. */
	for (unsigned i = 0; i < 20000; i++) {
		ip[0] = 11;
		ip[1] = (uint8_t)(i >> 16);
		ip[2] = (uint8_t)(i >> 8);
		ip[3] = (uint8_t)i;
		slowpath_resolve(sp, 0, 4, ip);
		if (tx_count() > 1000)
			tx_drain();
	}
	tx_drain();
	ck_assert_uint_gt(n_gave_up_total, n / 2 + 1000);
}
END_TEST

/* ---- ND ---- */

START_TEST(ns_for_us_answered_with_na)
{
	struct rte_ether_addr got;
	uint8_t b[128];

	feed_hex(ns_us);
	ck_tx_hex(na_exp);
	ck_assert_uint_eq(st()->nd_solicits_answered, 1);
	/* The solicitor's source link-layer option was learned. */
	ck_assert_uint_eq(n_updates, 1);
	ck_update(0, 6, ip6_peer, &mac_peer);
	ck_assert(slowpath_neigh_lookup(sp, 0, 6, ip6_peer, &got));

	/* Another target: not ours to answer. */
	size_t n = hex(ns_us, b);
	b[14 + 40 + 23] = 0x99;
	ref_icmp6_fix(b + 14);
	feed(b, n);
	ck_assert_uint_eq(tx_count(), 0);
	/* Hop limit below 255: off-link, dropped (RFC 4861 7.1.1). */
	n = hex(ns_us, b);
	b[14 + 7] = 64;
	ref_icmp6_fix(b + 14);
	feed(b, n);
	ck_assert_uint_eq(tx_count(), 0);
	/* Bad checksum. */
	n = hex(ns_us, b);
	b[14 + 40 + 2] ^= 1;
	feed(b, n);
	ck_assert_uint_eq(tx_count(), 0);
	ck_assert_uint_eq(st()->dropped, 3);
}
END_TEST

START_TEST(ns_dad_answered_to_all_nodes)
{
	uint8_t b[128], r[128];
	size_t n = hex(ns_us, b), m;

	/* From :: without a source link-layer option. */
	memset(b + 14 + 8, 0, 16);
	n -= 8;
	b[14 + 5] = 24;
	ref_icmp6_fix(b + 14);
	feed(b, n);
	m = tx_take(r, sizeof(r));
	ck_assert_uint_eq(m, 86);
	ck_assert_mem_eq(r, ((uint8_t[]){ 0x33, 0x33, 0, 0, 0, 1 }), 6);
	ck_assert_uint_eq(r[14 + 24], 0xff);
	ck_assert_uint_eq(r[14 + 39], 1);
	ck_assert_uint_eq(r[14 + 40], 136);
	ck_assert_uint_eq(r[14 + 44], 0xa0); /* R and O, not S */
	ck_assert(ref_icmp6_ok(r + 14));
	ck_assert_uint_eq(n_updates, 0);
}
END_TEST

START_TEST(nd_resolve_na_learned)
{
	struct rte_ether_addr got;

	slowpath_resolve(sp, 0, 6, ip6_n3);
	ck_tx_hex(ns_n3_exp);
	ck_assert_uint_eq(st()->nd_solicits_sent, 1);
	slowpath_poll(sp, 2000);
	ck_tx_hex(ns_n3_exp);
	feed_hex(na_n3);
	ck_assert_uint_eq(st()->nd_adverts_learned, 1);
	ck_assert_uint_eq(n_updates, 1);
	ck_update(0, 6, ip6_n3, &mac_n3);
	ck_assert(slowpath_neigh_lookup(sp, 0, 6, ip6_n3, &got));
	ck_assert_mem_eq(got.addr_bytes, mac_n3.addr_bytes, 6);
	slowpath_poll(sp, 3000);
	ck_assert_uint_eq(tx_count(), 0);
	/* Refresh: a unicast NS to the neighbour's own address and MAC. */
	slowpath_poll(sp, 300000);
	uint8_t r[128];
	ck_assert_uint_eq(tx_take(r, sizeof(r)), 86);
	ck_assert_mem_eq(r, mac_n3.addr_bytes, 6);
	ck_assert_mem_eq(r + 14 + 24, ip6_n3, 16);
	ck_assert(ref_icmp6_ok(r + 14));
}
END_TEST

START_TEST(nd_resolve_gives_up)
{
	slowpath_resolve(sp, 0, 6, ip6_n3);
	slowpath_poll(sp, 2000);
	slowpath_poll(sp, 3000);
	ck_assert_uint_eq(tx_count(), 3);
	slowpath_poll(sp, 4000);
	ck_assert_uint_eq(tx_count(), 3);
	ck_assert_uint_eq(n_updates, 1);
	ck_update(0, 6, ip6_n3, NULL);
}
END_TEST

START_TEST(na_unsolicited_from_stranger_not_learned)
{
	uint8_t b[128];
	size_t n = hex(na_n3, b);

	/* To all nodes, S clear. */
	memcpy(b + 14 + 24, (uint8_t[16]){ 0xff, 0x02, [15] = 1 }, 16);
	b[14 + 44] = 0x20;
	ref_icmp6_fix(b + 14);
	feed(b, n);
	ck_assert_uint_eq(n_updates, 0);
	ck_assert_uint_eq(st()->dropped, 1);
	/* The same NA for a neighbour we are resolving is learned. */
	slowpath_resolve(sp, 0, 6, ip6_n3);
	feed(b, n);
	ck_assert_uint_eq(n_updates, 1);
	ck_update(0, 6, ip6_n3, &mac_n3);
}
END_TEST

/* ---- echo ---- */

START_TEST(echo4_answered)
{
	uint8_t q[128], r[128];
	size_t qn = hex(echo4, q), rn;

	feed(q, qn);
	rn = tx_take(r, sizeof(r));
	ck_assert_uint_eq(rn, qn);
	ck_assert_mem_eq(r, mac_peer.addr_bytes, 6);
	ck_assert_mem_eq(r + 6, mac_us.addr_bytes, 6);
	ck_assert_uint_eq(r[14], 0x45);
	ck_assert_uint_eq(r[14 + 8], 64);
	ck_assert_uint_eq(r[14 + 9], 1);
	ck_assert_mem_eq(r + 14 + 12, q + 14 + 16, 4);
	ck_assert_mem_eq(r + 14 + 16, q + 14 + 12, 4);
	ck_assert_uint_eq(ref_sum(r + 14, 20, 0), 0xffff);
	ck_assert_uint_eq(r[34], 0);
	ck_assert_uint_eq(r[35], 0);
	ck_assert_mem_eq(r + 38, q + 38, qn - 38);
	ck_assert_uint_eq(ref_sum(r + 34, rn - 34, 0), 0xffff);
	ck_assert_uint_eq(st()->echo_answered, 1);

	/* Ethernet padding after the datagram is not echoed. */
	memset(q + qn, 0xee, 10);
	feed(q, qn + 10);
	ck_assert_uint_eq(tx_take(r, sizeof(r)), qn);
	/* Bad ICMP checksum, other destination, bad header checksum: dropped. */
	q[36] ^= 1;
	feed(q, qn);
	q[36] ^= 1;
	q[14 + 19] = 9;
	feed(q, qn);
	ck_assert_uint_eq(tx_count(), 0);
	ck_assert_uint_eq(st()->dropped, 2);
}
END_TEST

START_TEST(echo6_answered)
{
	uint8_t r[128];

	feed_hex(echo6);
	size_t n = tx_take(r, sizeof(r));
	ck_assert_uint_gt(n, 54);
	ck_assert(ref_icmp6_ok(r + 14));
	uint8_t e[128];
	size_t en = hex(echo6_exp, e);
	ck_assert_uint_eq(n, en);
	ck_assert_mem_eq(r, e, en);
	ck_assert_uint_eq(st()->echo_answered, 1);
}
END_TEST

/* ---- malformed input ---- */

START_TEST(every_truncation_dropped)
{
	static const char *const pkts[] = { arp_req_us, arp_reply_n3, ns_us, na_n3, echo4, echo6 };
	uint8_t b[256];

	slowpath_resolve(sp, 0, 4, ip_n3);
	slowpath_resolve(sp, 0, 6, ip6_n3);
	tx_drain();
	for (unsigned p = 0; p < ARRAY_SIZE(pkts); p++) {
		size_t n = hex(pkts[p], b);

		for (size_t len = 0; len < n; len++) {
			uint64_t before = st()->dropped;
			feed(b, len);
			ck_assert_msg(st()->dropped == before + 1, "packet %u len %zu not dropped",
			              p, len);
		}
	}
	ck_assert_uint_eq(tx_count(), 0);
	ck_assert_uint_eq(n_updates, 0);
}
END_TEST

START_TEST(garbage_and_odd_frames_dropped)
{
	uint8_t b[256];
	struct rte_mbuf *m, *m2;
	size_t n;

	/* Every byte value in every position of the ARP and NS headers: no crash. */
	for (const char *const *h = (const char *const[]){ arp_req_us, ns_us, echo4, NULL }; *h;
	     h++) {
		n = hex(*h, b);
		for (size_t i = 12; i < n; i++) {
			uint8_t keep = b[i];

			for (unsigned v = 0; v < 256; v += 17) {
				b[i] = (uint8_t)v;
				feed(b, n);
			}
			b[i] = keep;
		}
	}
	tx_drain();
	/* Multi-segment frames are refused. */
	n = hex(arp_req_us, b);
	m = mk(b, 20);
	m2 = mk(b + 20, n - 20);
	ck_assert_int_eq(rte_pktmbuf_chain(m, m2), 0);
	uint64_t before = st()->dropped;
	slowpath_input(sp, 0, m);
	ck_assert_uint_eq(st()->dropped, before + 1);
	/* A port index we do not have. */
	slowpath_input(sp, 3, mk(b, n));
	ck_assert_uint_eq(st()->dropped, before + 2);
	ck_assert_uint_eq(tx_count(), 0);
}
END_TEST

static Suite *slowpath_suite(void)
{
	Suite *s = suite_create("slowpath");
	TCase *tc = tcase_create("slowpath");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, arp_request_for_us_answered_exactly);
	tcase_add_test(tc, arp_request_not_for_us_ignored);
	tcase_add_test(tc, arp_unsolicited_reply_from_stranger_not_learned);
	tcase_add_test(tc, arp_resolve_retries_then_gives_up);
	tcase_add_test(tc, arp_reply_learned_and_refreshed);
	tcase_add_test(tc, arp_reply_with_new_mac_updates);
	tcase_add_test(tc, static_entry_never_overwritten_or_resolved);
	tcase_add_test(tc, table_of_thousands);
	tcase_add_test(tc, ns_for_us_answered_with_na);
	tcase_add_test(tc, ns_dad_answered_to_all_nodes);
	tcase_add_test(tc, nd_resolve_na_learned);
	tcase_add_test(tc, nd_resolve_gives_up);
	tcase_add_test(tc, na_unsolicited_from_stranger_not_learned);
	tcase_add_test(tc, echo4_answered);
	tcase_add_test(tc, echo6_answered);
	tcase_add_test(tc, every_truncation_dropped);
	tcase_add_test(tc, garbage_and_odd_frames_dropped);
	suite_add_tcase(s, tc);
	return s;
}

/* EAL once, without hugepages or PCI; a ring-backed port to capture TX. */
static void eal_setup(void)
{
	struct rte_eth_conf conf = { 0 };

	test_eal_init("test_slowpath");
	pool = test_pool_create("sp_pool", POOL_SIZE, RTE_MBUF_DEFAULT_BUF_SIZE);
	rx_ring = rte_ring_create("sp_rx", RING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	tx_ring = rte_ring_create("sp_tx", RING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (rx_ring == NULL || tx_ring == NULL) {
		fprintf(stderr, "ring creation failed\n");
		exit(EXIT_FAILURE);
	}
	int id = rte_eth_from_rings("net_ring_sp", &rx_ring, 1, &tx_ring, 1, SOCKET_ID_ANY);
	if (id < 0 || rte_eth_dev_configure((uint16_t)id, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup((uint16_t)id, 0, 64, SOCKET_ID_ANY, NULL, pool) != 0 ||
	    rte_eth_tx_queue_setup((uint16_t)id, 0, 64, SOCKET_ID_ANY, NULL) != 0 ||
	    rte_eth_dev_start((uint16_t)id) != 0) {
		fprintf(stderr, "net_ring port setup failed\n");
		exit(EXIT_FAILURE);
	}
	ring_port = (uint16_t)id;
}

int main(void)
{
	eal_setup();
	return test_run_nofork(slowpath_suite());
}
