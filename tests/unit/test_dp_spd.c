/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SPD lookup (rte_acl) on packets classified in place (TCP, UDP, SCTP
 * without IPv4 options, first fragments) and on keys built for the rest
 * (options, later fragments, ICMP type and code, protocols without ports,
 * short L4 headers), against a reference written here: the rule of the
 * highest priority whose selectors hold the packet's addresses, protocol
 * and ports as ts.h reads a packet. Packets sit in buffers of exactly
 * their size, so ASan sees a read past one.
 */
#include "unit/dpdk_testutil.h"

#include "dp.h"
#include "dp_spd.h"

#define POOL_SIZE 255

static struct rte_mempool *pool;

struct rule_text {
	const char *src, *dst;
	uint32_t priority;
	uint8_t action;
	uint32_t sa_id;
};

static const struct rule_text rules4[] = {
	{ "10.0.0.0/16", "192.168.0.0/24[udp/53]", 40, DP_SPD_PROTECT, 1 },
	{ "10.0.5.0/24[tcp/1000-2000]", "0.0.0.0/0", 50, DP_SPD_DISCARD, 0 },
	{ "10.0.0.0/16", "192.168.0.0/16", 10, DP_SPD_PROTECT, 2 },
	{ "10.0.0.0/16[icmp/2048]", "192.168.7.0/24", 60, DP_SPD_BYPASS, 0 },
	{ "10.0.9.0/24", "192.168.9.0/24[sctp/9-10]", 70, DP_SPD_PROTECT, 3 },
	{ "10.0.0.0/16[udp/0]", "192.168.8.0/24", 80, DP_SPD_DISCARD, 0 },
};

static const struct rule_text rules6[] = {
	{ "2001:db8:1::/48", "2001:db8:2::/48[udp/53]", 40, DP_SPD_PROTECT, 11 },
	{ "2001:db8:1::/48", "2001:db8::/32", 10, DP_SPD_PROTECT, 12 },
	{ "2001:db8:1:5::/64[tcp/1000-2000]", "::/0", 50, DP_SPD_DISCARD, 0 },
	{ "2001:db8:1::/48[icmpv6/32768]", "2001:db8:2:7::/64", 60, DP_SPD_BYPASS, 0 },
};

static struct dp_spd_rule parsed[16];
static unsigned n_parsed;

static struct dp_spd *build(void)
{
	struct dp_spd *spd;
	char err[256];
	unsigned i;

	n_parsed = 0;
	for (i = 0; i < sizeof(rules4) / sizeof(rules4[0]); i++) {
		struct dp_spd_rule *r = &parsed[n_parsed++];

		ck_assert_int_eq(ts_parse(rules4[i].src, 0, &r->src), TS_OK);
		ck_assert_int_eq(ts_parse(rules4[i].dst, 0, &r->dst), TS_OK);
		r->priority = rules4[i].priority;
		r->action = rules4[i].action;
		r->sa_id = rules4[i].sa_id;
	}
	for (i = 0; i < sizeof(rules6) / sizeof(rules6[0]); i++) {
		struct dp_spd_rule *r = &parsed[n_parsed++];

		ck_assert_int_eq(ts_parse(rules6[i].src, 0, &r->src), TS_OK);
		ck_assert_int_eq(ts_parse(rules6[i].dst, 0, &r->dst), TS_OK);
		r->priority = rules6[i].priority;
		r->action = rules6[i].action;
		r->sa_id = rules6[i].sa_id;
	}
	spd = dp_spd_build(parsed, n_parsed, err, sizeof(err));
	ck_assert_msg(spd != NULL, "%s", err);
	return spd;
}

/* ---- the reference ---- */

static bool ref_side(const struct ts *t, unsigned family, const uint8_t *a, uint8_t proto,
                     uint16_t port)
{
	uint8_t s[16], e[16];
	unsigned n = family == 4 ? 4 : 16;

	if (t->family != family)
		return false;
	ts_addr_store(t->family, t->start, s);
	ts_addr_store(t->family, t->end, e);
	return memcmp(s, a, n) <= 0 && memcmp(a, e, n) <= 0 &&
	       (t->proto == 0 || t->proto == proto) && t->port_start <= port && port <= t->port_end;
}

/* The sa_id + 1 of the winning PROTECT rule, or 0x1000 + action, or 0 for none. */
static uint32_t ref_verdict(const uint8_t *p, uint32_t len)
{
	unsigned family = p[0] >> 4, l4, i;
	const uint8_t *src, *dst;
	uint16_t sp = 0, dpt = 0;
	uint8_t proto;
	bool first = true;
	const struct dp_spd_rule *best = NULL;

	if (family == 4) {
		proto = p[9];
		src = p + 12;
		dst = p + 16;
		l4 = (p[0] & 15u) * 4;
		first = ((p[6] << 8 | p[7]) & 0x1fff) == 0;
	} else {
		proto = p[6];
		src = p + 8;
		dst = p + 24;
		l4 = 40;
	}
	if (first && (proto == 6 || proto == 17 || proto == 132) && len >= l4 + 4) {
		sp = (uint16_t)(p[l4] << 8 | p[l4 + 1]);
		dpt = (uint16_t)(p[l4 + 2] << 8 | p[l4 + 3]);
	} else if (first && (proto == 1 || proto == 58) && len >= l4 + 2) {
		sp = dpt = (uint16_t)(p[l4] << 8 | p[l4 + 1]);
	}
	for (i = 0; i < n_parsed; i++) {
		const struct dp_spd_rule *r = &parsed[i];

		/* Either side may name the protocol (dp_spd.c's set_l4). */
		uint8_t rp = r->src.proto ? r->src.proto : r->dst.proto;
		struct ts s = r->src, d = r->dst;

		s.proto = d.proto = rp;
		if (ref_side(&s, family, src, proto, sp) && ref_side(&d, family, dst, proto, dpt) &&
		    (best == NULL || r->priority > best->priority))
			best = r;
	}
	if (best == NULL)
		return 0;
	return best->action == DP_SPD_PROTECT ? best->sa_id + 1 : 0x1000u + best->action;
}

static uint32_t verdict(const struct dp_spd_action *a)
{
	if (a == NULL)
		return 0;
	return a->type == DP_SPD_PROTECT ? a->sa_id + 1 : 0x1000u + a->type;
}

/* ---- packets ---- */

static size_t pkt4(uint8_t *b, const uint8_t *src, const uint8_t *dst, uint8_t proto,
                   unsigned opt_words, uint16_t frag, uint16_t sport, uint16_t dport, size_t l4_len)
{
	size_t h = 20 + 4 * (size_t)opt_words, len = h + l4_len;

	memset(b, 0, len);
	b[0] = (uint8_t)(0x45 + opt_words);
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	b[6] = (uint8_t)(frag >> 8);
	b[7] = (uint8_t)frag;
	b[8] = 64;
	b[9] = proto;
	memcpy(b + 12, src, 4);
	memcpy(b + 16, dst, 4);
	memset(b + 20, 1, h - 20); /* options: NOPs */
	if (l4_len >= 2) {
		b[h] = (uint8_t)(sport >> 8);
		b[h + 1] = (uint8_t)sport;
	}
	if (l4_len >= 4) {
		b[h + 2] = (uint8_t)(dport >> 8);
		b[h + 3] = (uint8_t)dport;
	}
	return len;
}

static size_t pkt6(uint8_t *b, const uint8_t *src, const uint8_t *dst, uint8_t nh, uint16_t sport,
                   uint16_t dport, size_t l4_len)
{
	size_t len = 40 + l4_len;

	memset(b, 0, len);
	b[0] = 0x60;
	b[4] = (uint8_t)(l4_len >> 8);
	b[5] = (uint8_t)l4_len;
	b[6] = nh;
	b[7] = 64;
	memcpy(b + 8, src, 16);
	memcpy(b + 24, dst, 16);
	if (l4_len >= 2) {
		b[40] = (uint8_t)(sport >> 8);
		b[41] = (uint8_t)sport;
	}
	if (l4_len >= 4) {
		b[42] = (uint8_t)(dport >> 8);
		b[43] = (uint8_t)dport;
	}
	return len;
}

static const uint8_t protos[] = { 17, 6, 1, 132, 50, 58 };
static const uint16_t ports[] = { 0, 9, 10, 53, 999, 1000, 2000, 2001, 2048, 32768, 65535 };
static const size_t l4_lens[] = { 0, 2, 3, 4, 8 };
#define N_PORTS (sizeof(ports) / sizeof(ports[0]))
#define N_L4    (sizeof(l4_lens) / sizeof(l4_lens[0]))

/*
 * Classifies burst packets at once (the lookup takes a burst of one
 * family) and compares each with the reference; returns how many matched
 * some rule, so a test sees that it reached the rules at all.
 */
static unsigned check_burst(const struct dp_spd *spd, int family, uint8_t (*bufs)[128],
                            const size_t *lens, unsigned n)
{
	struct rte_mbuf *m[DP_MAX_BURST] = { 0 };
	const struct dp_spd_action *act[DP_MAX_BURST];
	unsigned i, hits = 0;

	for (i = 0; i < n; i++)
		m[i] = test_mbuf_ext(pool, bufs[i], lens[i]);
	dp_spd_lookup(spd, family, m, n, act);
	for (i = 0; i < n; i++) {
		uint32_t want = ref_verdict(bufs[i], (uint32_t)lens[i]);

		ck_assert_msg(verdict(act[i]) == want,
		              "packet %u (version %u, proto %u, len %zu): got %#x, want %#x", i,
		              bufs[i][0] >> 4, family == 4 ? bufs[i][9] : bufs[i][6], lens[i],
		              verdict(act[i]), want);
		hits += want != 0;
		rte_pktmbuf_free(m[i]);
	}
	return hits;
}

START_TEST(spd_ipv4_in_place_and_keys_agree_with_reference)
{
	static const uint8_t srcs[][4] = {
		{ 10, 0, 0, 1 }, { 10, 0, 5, 7 }, { 10, 0, 9, 1 }, { 10, 1, 0, 1 }
	};
	static const uint8_t dsts[][4] = { { 192, 168, 0, 9 },
		                           { 192, 168, 7, 1 },
		                           { 192, 168, 9, 2 },
		                           { 192, 168, 8, 3 },
		                           { 192, 169, 0, 1 } };
	struct dp_spd *spd = build();
	uint8_t bufs[DP_MAX_BURST][128];
	size_t lens[DP_MAX_BURST];
	unsigned n = 0, hits = 0, s, d, pr, po, opt, fr, l;

	for (s = 0; s < 4; s++)
		for (d = 0; d < 5; d++)
			for (pr = 0; pr < sizeof(protos); pr++)
				for (po = 0; po < N_PORTS; po++)
					for (opt = 0; opt < 2; opt++)
						for (fr = 0; fr < 3; fr++)
							for (l = 0; l < N_L4; l++) {
								/* 0: whole; 1: first of several; 2:
								 * a later one. */
								uint16_t frag = fr == 0   ? 0
								                : fr == 1 ? 0x2000
								                          : 0x0004;

								lens[n] = pkt4(
								        bufs[n], srcs[s], dsts[d],
								        protos[pr], opt, frag,
								        ports[po],
								        ports[(po + 5) % N_PORTS],
								        l4_lens[l]);
								if (++n == DP_MAX_BURST) {
									hits += check_burst(
									        spd, 4, bufs, lens,
									        n);
									n = 0;
								}
							}
	hits += check_burst(spd, 4, bufs, lens, n);
	ck_assert_uint_gt(hits, 1000);
	dp_spd_free(spd);
}
END_TEST

START_TEST(spd_ipv6_in_place_and_keys_agree_with_reference)
{
	uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 5, [15] = 1 };
	uint8_t dst[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 7, [15] = 2 };
	struct dp_spd *spd = build();
	uint8_t bufs[DP_MAX_BURST][128];
	size_t lens[DP_MAX_BURST];
	unsigned n = 0, hits = 0, v, pr, po, l;

	for (v = 0; v < 4; v++) {
		/* Source in or out of the /64 of the TCP rule, destination in or out of /32. */
		src[7] = v & 1 ? 6 : 5;
		dst[3] = v & 2 ? 0xb9 : 0xb8;
		for (pr = 0; pr < sizeof(protos); pr++)
			for (po = 0; po < N_PORTS; po++)
				for (l = 0; l < N_L4; l++) {
					lens[n] = pkt6(bufs[n], src, dst, protos[pr], ports[po],
					               ports[(po + 5) % N_PORTS], l4_lens[l]);
					if (++n == DP_MAX_BURST) {
						hits += check_burst(spd, 6, bufs, lens, n);
						n = 0;
					}
				}
	}
	hits += check_burst(spd, 6, bufs, lens, n);
	ck_assert_uint_gt(hits, 100);
	dp_spd_free(spd);
}
END_TEST

static Suite *dp_spd_suite(void)
{
	Suite *s = suite_create("dp_spd");
	TCase *tc = tcase_create("lookup");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, spd_ipv4_in_place_and_keys_agree_with_reference);
	tcase_add_test(tc, spd_ipv6_in_place_and_keys_agree_with_reference);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	test_eal_init("test_dp_spd");
	pool = test_pool_create("spd_pool", POOL_SIZE, 256 + RTE_PKTMBUF_HEADROOM);
	return test_run_nofork(dp_spd_suite());
}
