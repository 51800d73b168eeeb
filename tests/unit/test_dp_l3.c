/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * L3 helpers of the encrypt path: MSS clamping against scapy-made SYNs
 * (expected bytes from scapy too), ICMP too-big fields and checksums,
 * IPv4 fragmentation reassembled here and compared with the original.
 * Checksums are recomputed by the test's own code; every truncation of
 * every input is fed in under ASan.
 */
#include "unit/dpdk_testutil.h"

#include "dp_l3.h"

#define POOL_SIZE 1023

static struct rte_mempool *pool;

/* IP(src="10.1.0.5", dst="192.168.0.9", id=1)/TCP(sport=40000, dport=443, flags="S",
 * seq=1000, options=[("MSS",1460),("SAckOK",b""),("Timestamp",(1,0)),("NOP",None),
 * ("WScale",7)]) */
static const char syn4[] = "4500003c000100004006b0040a010005c0a800099c4001bb000003e800000000a0"
                           "022000bb640000020405b40402080a000000010000000001030307";
/* The same with MSS 1360, as scapy computes it. */
static const char syn4_exp[] = "4500003c000100004006b0040a010005c0a800099c4001bb000003e80000000"
                               "0a0022000bbc80000020405500402080a000000010000000001030307";
/* IPv6(src="2001:db8:1::5", dst="2001:db8:2::9")/TCP(..., flags="S", options=[("NOP",None),
 * ("MSS",1460),("NOP",None),("WScale",7),("SAckOK",b"")]): the MSS at an odd offset. */
static const char syn6[] = "600000000020064020010db800010000000000000000000520010db800020000"
                           "00000000000000099c4001bb000003e800000000800220009d6000000102040"
                           "5b401030307040200";
static const char syn6_exp[] = "600000000020064020010db800010000000000000000000520010db8000200"
                               "0000000000000000099c4001bb000003e8000000008002200001610000010"
                               "204055001030307040200";

static const uint8_t our4[4] = { 10, 0, 0, 1 };
static const uint8_t our6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x0a, [15] = 1 };

/* ---- helpers written apart from the code under test ---- */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void set16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* L4 checksum of an IPv4 or IPv6 packet (no extension headers) is right. */
static bool ref_l4_ok(const uint8_t *ip)
{
	uint8_t ph[40] = { 0 };

	if (ip[0] >> 4 == 4) {
		size_t h = (ip[0] & 15u) * 4, l = be16(ip + 2) - h;

		memcpy(ph, ip + 12, 8);
		ph[9] = ip[9];
		set16(ph + 10, (unsigned)l);
		return ref_sum(ip + h, l, ref_sum(ph, 12, 0)) == 0xffff;
	}
	memcpy(ph, ip + 8, 32);
	memcpy(ph + 34, ip + 4, 2);
	ph[39] = ip[6];
	return ref_sum(ip + 40, be16(ip + 4), ref_sum(ph, 40, 0)) == 0xffff;
}

static void ref_l4_fix(uint8_t *ip, size_t cksum_off)
{
	uint8_t ph[40] = { 0 };
	uint16_t c;
	size_t h, l;

	if (ip[0] >> 4 == 4) {
		h = (ip[0] & 15u) * 4;
		l = be16(ip + 2) - h;
		memcpy(ph, ip + 12, 8);
		ph[9] = ip[9];
		set16(ph + 10, (unsigned)l);
		set16(ip + h + cksum_off, 0);
		c = (uint16_t)~ref_sum(ip + h, l, ref_sum(ph, 12, 0));
	} else {
		h = 40;
		l = be16(ip + 4);
		memcpy(ph, ip + 8, 32);
		memcpy(ph + 34, ip + 4, 2);
		ph[39] = ip[6];
		set16(ip + h + cksum_off, 0);
		c = (uint16_t)~ref_sum(ip + h, l, ref_sum(ph, 40, 0));
	}
	set16(ip + h + cksum_off, c);
}

static void ref_ip4_fix(uint8_t *ip)
{
	set16(ip + 10, 0);
	set16(ip + 10, (uint16_t)~ref_sum(ip, (ip[0] & 15u) * 4, 0));
}

/* An mbuf over exactly n bytes: ASan reports any read past the frame. */
static struct rte_mbuf *mk(const uint8_t *b, size_t n)
{
	return test_mbuf_ext(pool, b, n);
}

static size_t hex(const char *h, uint8_t *out)
{
	return hex2bin(h, out, 4096);
}

/* An IPv4 packet of tot bytes, UDP with a patterned payload. */
static size_t mk_ip4(uint8_t *b, size_t tot, bool df, uint8_t proto)
{
	memset(b, 0, tot);
	b[0] = 0x45;
	set16(b + 2, (unsigned)tot);
	set16(b + 4, 0xbeef);
	set16(b + 6, df ? 0x4000 : 0);
	b[8] = 63;
	b[9] = proto;
	memcpy(b + 12, (uint8_t[]){ 10, 1, 0, 5 }, 4);
	memcpy(b + 16, (uint8_t[]){ 192, 168, 0, 9 }, 4);
	for (size_t i = 20; i < tot; i++)
		b[i] = (uint8_t)(i * 31 + 7);
	ref_ip4_fix(b);
	return tot;
}

static size_t mk_ip6(uint8_t *b, size_t tot, uint8_t nh)
{
	memset(b, 0, tot);
	b[0] = 0x60;
	set16(b + 4, (unsigned)(tot - 40));
	b[6] = nh;
	b[7] = 63;
	memcpy(b + 8, (uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 5 }, 16);
	memcpy(b + 24, (uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 9 }, 16);
	for (size_t i = 40; i < tot; i++)
		b[i] = (uint8_t)(i * 31 + 7);
	return tot;
}

static unsigned pool_before;

static void setup(void)
{
	pool_before = rte_mempool_avail_count(pool);
}

/* Every mbuf a test or the code under test took is back: nothing leaked. */
static void teardown(void)
{
	ck_assert_uint_eq(rte_mempool_avail_count(pool), pool_before);
}

/* ---- MSS ---- */

static void clamp_case(const char *in, const char *exp, int want)
{
	uint8_t b[256], e[256];
	size_t n = hex(in, b), en = hex(exp, e);
	struct rte_mbuf *m = mk(b, n);

	ck_assert(ref_l4_ok(b));
	ck_assert_int_eq(dp_mss_clamp(m, 1360), want);
	ck_assert_uint_eq(en, n);
	ck_assert_mem_eq(rte_pktmbuf_mtod(m, uint8_t *), e, en);
	ck_assert(ref_l4_ok(rte_pktmbuf_mtod(m, uint8_t *)));
	/* Clamping again changes nothing. */
	ck_assert_int_eq(dp_mss_clamp(m, 1360), 0);
	rte_pktmbuf_free(m);
}

START_TEST(mss_clamp_syn_v4)
{
	clamp_case(syn4, syn4_exp, 1);
}
END_TEST

START_TEST(mss_clamp_syn_v6_odd_offset)
{
	clamp_case(syn6, syn6_exp, 1);
}
END_TEST

START_TEST(mss_clamp_leaves_others)
{
	uint8_t b[256];
	size_t n = hex(syn4, b);
	struct rte_mbuf *m;

	/* SYN with MSS already below the limit. */
	clamp_case(syn4_exp, syn4_exp, 0);
	/* Not a SYN (ACK with an MSS option): untouched. */
	b[33] = 0x10;
	ref_l4_fix(b, 16);
	m = mk(b, n);
	ck_assert_int_eq(dp_mss_clamp(m, 1360), 0);
	ck_assert_mem_eq(rte_pktmbuf_mtod(m, uint8_t *), b, n);
	rte_pktmbuf_free(m);
	/* UDP and a non-first fragment: no TCP header to clamp. */
	n = hex(syn4, b);
	b[9] = 17;
	m = mk(b, n);
	ck_assert_int_eq(dp_mss_clamp(m, 1360), 0);
	rte_pktmbuf_free(m);
	n = hex(syn4, b);
	set16(b + 6, 0x0010);
	m = mk(b, n);
	ck_assert_int_eq(dp_mss_clamp(m, 1360), 0);
	ck_assert_mem_eq(rte_pktmbuf_mtod(m, uint8_t *), b, n);
	rte_pktmbuf_free(m);
}
END_TEST

START_TEST(mss_clamp_malformed_options)
{
	static const struct {
		size_t off; /* from the TCP header */
		uint8_t val;
	} cases[] = {
		{ 21, 3 },    /* MSS option of length 3 */
		{ 21, 0 },    /* option length 0 */
		{ 21, 1 },    /* option length 1 */
		{ 25, 40 },   /* SACK-permitted running past the header */
		{ 12, 0x40 }, /* data offset 4 (16 bytes) */
		{ 12, 0xf0 }, /* data offset 15: beyond the packet */
	};
	uint8_t b[256];

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t n = hex(syn4, b);
		struct rte_mbuf *m;

		b[20 + cases[i].off] = cases[i].val;
		m = mk(b, n);
		ck_assert_msg(dp_mss_clamp(m, 1360) == -1, "case %u", i);
		rte_pktmbuf_free(m);
	}
}
END_TEST

START_TEST(mss_clamp_every_truncation)
{
	static const char *const pkts[] = { syn4, syn6 };
	uint8_t b[256];

	for (unsigned p = 0; p < ARRAY_SIZE(pkts); p++) {
		size_t n = hex(pkts[p], b);

		for (size_t len = 0; len < n; len++) {
			struct rte_mbuf *m = mk(b, len);

			ck_assert_msg(dp_mss_clamp(m, 1360) == -1, "pkt %u len %zu", p, len);
			rte_pktmbuf_free(m);
		}
	}
}
END_TEST

/* ---- ICMP too big ---- */

START_TEST(too_big_v4_fields)
{
	static const size_t sizes[] = { 1500, 100, 28 };
	uint8_t b[1600];

	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t n = mk_ip4(b, sizes[i], true, 17), q = n < 548 ? n : 548;
		struct rte_mbuf *o = mk(b, n), *r = dp_icmp_too_big(pool, o, 1400, our4);
		const uint8_t *p;

		ck_assert_ptr_nonnull(r);
		p = rte_pktmbuf_mtod(r, const uint8_t *);
		ck_assert_uint_eq(rte_pktmbuf_pkt_len(r), 28 + q);
		ck_assert_uint_eq(p[0], 0x45);
		ck_assert_uint_eq(be16(p + 2), 28 + q);
		ck_assert_uint_eq(p[8], 64);
		ck_assert_uint_eq(p[9], 1);
		ck_assert_mem_eq(p + 12, our4, 4);
		ck_assert_mem_eq(p + 16, b + 12, 4);
		ck_assert_uint_eq(ref_sum(p, 20, 0), 0xffff);
		ck_assert_uint_eq(p[20], 3);
		ck_assert_uint_eq(p[21], 4);
		ck_assert_uint_eq(be16(p + 24), 0);
		ck_assert_uint_eq(be16(p + 26), 1400);
		ck_assert_mem_eq(p + 28, b, q);
		ck_assert_uint_eq(ref_sum(p + 20, 8 + q, 0), 0xffff);
		rte_pktmbuf_free(r);
		rte_pktmbuf_free(o);
	}
}
END_TEST

START_TEST(too_big_v6_fields)
{
	static const size_t sizes[] = { 1500, 1280, 48 };
	uint8_t b[1600];

	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t n = mk_ip6(b, sizes[i], 17), q = n < 1232 ? n : 1232;
		struct rte_mbuf *o = mk(b, n), *r = dp_icmp_too_big(pool, o, 1400, our6);
		const uint8_t *p;

		ck_assert_ptr_nonnull(r);
		p = rte_pktmbuf_mtod(r, const uint8_t *);
		ck_assert_uint_eq(rte_pktmbuf_pkt_len(r), 48 + q);
		ck_assert_uint_le(rte_pktmbuf_pkt_len(r), 1280);
		ck_assert_uint_eq(p[0] >> 4, 6);
		ck_assert_uint_eq(be16(p + 4), 8 + q);
		ck_assert_uint_eq(p[6], 58);
		ck_assert_uint_eq(p[7], 64);
		ck_assert_mem_eq(p + 8, our6, 16);
		ck_assert_mem_eq(p + 24, b + 8, 16);
		ck_assert_uint_eq(p[40], 2);
		ck_assert_uint_eq(p[41], 0);
		ck_assert_uint_eq(be16(p + 44), 0);
		ck_assert_uint_eq(be16(p + 46), 1400);
		ck_assert_mem_eq(p + 48, b, q);
		ck_assert(ref_l4_ok(p));
		rte_pktmbuf_free(r);
		rte_pktmbuf_free(o);
	}
}
END_TEST

static bool answers(const uint8_t *b, size_t n)
{
	struct rte_mbuf *o = mk(b, n),
	                *r = dp_icmp_too_big(pool, o, 1400, b[0] >> 4 == 4 ? our4 : our6);
	bool got = r != NULL;

	rte_pktmbuf_free(r);
	rte_pktmbuf_free(o);
	return got;
}

START_TEST(too_big_never_about_errors_or_later_fragments)
{
	uint8_t b[1600];
	size_t n;

	/* ICMPv4: echo request yes; unreachable, time exceeded, unknown type no. */
	n = mk_ip4(b, 1500, true, 1);
	b[20] = 8;
	ck_assert(answers(b, n));
	b[20] = 3;
	ck_assert(!answers(b, n));
	b[20] = 11;
	ck_assert(!answers(b, n));
	b[20] = 200;
	ck_assert(!answers(b, n));
	/* Non-first fragment; multicast source; multicast destination. */
	n = mk_ip4(b, 1500, false, 17);
	set16(b + 6, 0x00b9);
	ck_assert(!answers(b, n));
	n = mk_ip4(b, 1500, true, 17);
	b[12] = 224;
	ck_assert(!answers(b, n));
	n = mk_ip4(b, 1500, true, 17);
	b[16] = 239;
	ck_assert(!answers(b, n));

	/* ICMPv6: echo yes; destination unreachable and packet too big no. */
	n = mk_ip6(b, 1500, 58);
	b[40] = 128;
	ck_assert(answers(b, n));
	b[40] = 1;
	ck_assert(!answers(b, n));
	b[40] = 2;
	ck_assert(!answers(b, n));
	/* An ICMPv6 error behind a destination options header. */
	n = mk_ip6(b, 1500, 60);
	b[40] = 58;
	b[41] = 0;
	b[48] = 3;
	ck_assert(!answers(b, n));
	b[48] = 128;
	ck_assert(answers(b, n));
	/* Fragment header: offset 0 yes, later fragment no. */
	n = mk_ip6(b, 1500, 44);
	b[40] = 17;
	set16(b + 42, 0x0001);
	ck_assert(answers(b, n));
	set16(b + 42, 0x05a9);
	ck_assert(!answers(b, n));
	/* Multicast or unspecified source. */
	n = mk_ip6(b, 1500, 17);
	b[8] = 0xff;
	ck_assert(!answers(b, n));
	memset(b + 8, 0, 16);
	ck_assert(!answers(b, n));
}
END_TEST

START_TEST(too_big_every_truncation)
{
	uint8_t b[1600];
	size_t n;

	/* Declared lengths longer than the buffer: refused, never overread. */
	n = mk_ip4(b, 600, true, 1);
	b[20] = 8;
	for (size_t len = 0; len < n; len++)
		ck_assert_msg(!answers(b, len), "v4 len %zu", len);
	n = mk_ip6(b, 600, 60);
	b[40] = 58;
	b[41] = 0;
	b[48] = 128;
	for (size_t len = 0; len < n; len++)
		ck_assert_msg(!answers(b, len), "v6 len %zu", len);
	/* Headers claiming more than exists: IHL past the buffer, ext header past it. */
	n = mk_ip4(b, 24, true, 17);
	b[0] = 0x4f;
	ck_assert(!answers(b, n));
	n = mk_ip6(b, 48, 0);
	b[41] = 200;
	ck_assert(!answers(b, n));
}
END_TEST

/* ---- fragmentation ---- */

/* Checks fragments of orig and reassembles them; returns the count. */
static void ck_fragments(const uint8_t *orig, size_t olen, struct rte_mbuf **f, int n, uint16_t mtu,
                         size_t nonfirst_hlen)
{
	size_t ohl = (orig[0] & 15u) * 4, payload = olen - ohl;
	uint8_t re[4096];
	size_t got = 0;

	ck_assert_int_gt(n, 0);
	memset(re, 0, sizeof(re));
	for (int i = 0; i < n; i++) {
		const uint8_t *p = rte_pktmbuf_mtod(f[i], const uint8_t *);
		size_t len = rte_pktmbuf_pkt_len(f[i]), hl = (p[0] & 15u) * 4;
		unsigned fo = be16(p + 6);

		ck_assert_uint_eq(f[i]->nb_segs, 1);
		ck_assert_uint_le(len, mtu);
		ck_assert_uint_eq(be16(p + 2), len);
		ck_assert_uint_eq(hl, i == 0 ? ohl : nonfirst_hlen);
		ck_assert_uint_eq(ref_sum(p, hl, 0), 0xffff);
		ck_assert_uint_eq(be16(p + 4), be16(orig + 4));
		ck_assert_uint_eq(p[9], orig[9]);
		ck_assert_mem_eq(p + 12, orig + 12, 8);
		ck_assert_uint_eq((fo & 0x2000) != 0, i + 1 < n);
		ck_assert_uint_eq(fo & 0x4000, 0);
		/* Every fragment but the last carries a multiple of 8 bytes. */
		if (i + 1 < n)
			ck_assert_uint_eq((len - hl) % 8, 0);
		ck_assert_uint_eq((fo & 0x1fff) * 8u, got);
		ck_assert_uint_le(got + len - hl, sizeof(re));
		memcpy(re + got, p + hl, len - hl);
		got += len - hl;
	}
	ck_assert_uint_eq(got, payload);
	ck_assert_mem_eq(re, orig + ohl, payload);
}

START_TEST(frag_sizes_and_mtus)
{
	static const size_t sizes[] = { 1500, 3000, 577, 1401 };
	static const uint16_t mtus[] = { 1400, 576, 68 };
	uint8_t b[3100];
	struct rte_mbuf *f[64];

	for (unsigned s = 0; s < ARRAY_SIZE(sizes); s++) {
		for (unsigned u = 0; u < ARRAY_SIZE(mtus); u++) {
			size_t n = mk_ip4(b, sizes[s], false, 17);
			struct rte_mbuf *m = mk(b, n);
			int k = dp_frag_ipv4(m, mtus[u], pool, f, ARRAY_SIZE(f));

			ck_assert_msg(sizes[s] <= mtus[u] ? k == 1 : k > 1, "size %zu mtu %u: %d",
			              sizes[s], mtus[u], k);
			ck_fragments(b, n, f, k, mtus[u], 20);
			for (int i = 0; i < k; i++)
				rte_pktmbuf_free(f[i]);
			rte_pktmbuf_free(m);
		}
	}
}
END_TEST

START_TEST(frag_fits_is_one_copy)
{
	uint8_t b[1600];
	struct rte_mbuf *f[4];
	size_t n = mk_ip4(b, 1400, false, 17);
	struct rte_mbuf *m = mk(b, n);

	ck_assert_int_eq(dp_frag_ipv4(m, 1400, pool, f, 4), 1);
	ck_assert_uint_eq(rte_pktmbuf_pkt_len(f[0]), n);
	ck_assert_mem_eq(rte_pktmbuf_mtod(f[0], uint8_t *), b, n);
	rte_pktmbuf_free(f[0]);
	rte_pktmbuf_free(m);
}
END_TEST

START_TEST(frag_refused)
{
	uint8_t b[3100];
	struct rte_mbuf *f[64], *m;
	size_t n;

	/* DF set. */
	n = mk_ip4(b, 1500, true, 17);
	m = mk(b, n);
	ck_assert_int_eq(dp_frag_ipv4(m, 1400, pool, f, ARRAY_SIZE(f)), -1);
	rte_pktmbuf_free(m);
	/* Too few output slots: nothing allocated is left behind (teardown). */
	n = mk_ip4(b, 3000, false, 17);
	m = mk(b, n);
	ck_assert_int_eq(dp_frag_ipv4(m, 576, pool, f, 5), -1);
	/* An MTU that leaves no 8 bytes of payload. */
	ck_assert_int_eq(dp_frag_ipv4(m, 27, pool, f, ARRAY_SIZE(f)), -1);
	rte_pktmbuf_free(m);
	/* Malformed: IPv6, bad IHL, length past the buffer, bad options. */
	n = mk_ip6(b, 1500, 17);
	m = mk(b, n);
	ck_assert_int_eq(dp_frag_ipv4(m, 1400, pool, f, ARRAY_SIZE(f)), -1);
	rte_pktmbuf_free(m);
	n = mk_ip4(b, 1500, false, 17);
	b[0] = 0x44;
	m = mk(b, n);
	ck_assert_int_eq(dp_frag_ipv4(m, 1400, pool, f, ARRAY_SIZE(f)), -1);
	rte_pktmbuf_free(m);
	n = mk_ip4(b, 1500, false, 17);
	for (size_t len = 0; len < n; len += (len < 64 ? 1 : 97)) {
		m = mk(b, len);
		ck_assert_msg(dp_frag_ipv4(m, 576, pool, f, ARRAY_SIZE(f)) == -1, "len %zu", len);
		rte_pktmbuf_free(m);
	}
	n = mk_ip4(b, 1500, false, 17);
	b[0] = 0x46;
	b[20] = 0x94; /* option running past the header */
	b[21] = 8;
	m = mk(b, n);
	ck_assert_int_eq(dp_frag_ipv4(m, 576, pool, f, ARRAY_SIZE(f)), -1);
	rte_pktmbuf_free(m);
}
END_TEST

START_TEST(frag_copies_only_copied_options)
{
	uint8_t b[1600], opts[12] = {
		1,                      /* NOP */
		7,    7, 4, 0, 0, 0, 0, /* record route: not copied */
		0x94, 4, 0, 0,          /* router alert: copied */
	};
	struct rte_mbuf *f[64];
	size_t n = mk_ip4(b, 1500, false, 17);
	struct rte_mbuf *m;
	int k;

	memmove(b + 32, b + 20, n - 20);
	memcpy(b + 20, opts, sizeof(opts));
	n += 12;
	b[0] = 0x48;
	set16(b + 2, (unsigned)n);
	ref_ip4_fix(b);
	m = mk(b, n);
	k = dp_frag_ipv4(m, 576, pool, f, ARRAY_SIZE(f));
	ck_fragments(b, n, f, k, 576, 24);
	for (int i = 1; i < k; i++)
		ck_assert_mem_eq(rte_pktmbuf_mtod(f[i], uint8_t *) + 20, opts + 8, 4);
	for (int i = 0; i < k; i++)
		rte_pktmbuf_free(f[i]);
	rte_pktmbuf_free(m);
}
END_TEST

START_TEST(frag_of_fragment_and_chained_mbuf)
{
	uint8_t b[3100];
	struct rte_mbuf *f[64], *m, *m2;
	size_t n = mk_ip4(b, 3000, false, 17);
	int k;

	/* Source in two segments, split inside the payload. */
	m = mk(b, 1000);
	m2 = mk(b + 1000, n - 1000);
	ck_assert_int_eq(rte_pktmbuf_chain(m, m2), 0);
	k = dp_frag_ipv4(m, 1400, pool, f, ARRAY_SIZE(f));
	ck_fragments(b, n, f, k, 1400, 20);
	for (int i = 0; i < k; i++)
		rte_pktmbuf_free(f[i]);
	rte_pktmbuf_free(m);

	/* A middle fragment (offset 800, MF) splits into pieces that keep MF. */
	set16(b + 6, 0x2000 | 100);
	ref_ip4_fix(b);
	m = mk(b, n);
	k = dp_frag_ipv4(m, 1400, pool, f, ARRAY_SIZE(f));
	ck_assert_int_eq(k, 3);
	for (int i = 0; i < k; i++) {
		const uint8_t *p = rte_pktmbuf_mtod(f[i], const uint8_t *);

		ck_assert_uint_eq(be16(p + 6) & 0x2000, 0x2000);
		ck_assert_uint_eq((be16(p + 6) & 0x1fff) * 8u, 800 + (size_t)i * 1376);
		rte_pktmbuf_free(f[i]);
	}
	rte_pktmbuf_free(m);
}
END_TEST

static Suite *dp_l3_suite(void)
{
	Suite *s = suite_create("dp_l3");
	TCase *tc = tcase_create("dp_l3");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, mss_clamp_syn_v4);
	tcase_add_test(tc, mss_clamp_syn_v6_odd_offset);
	tcase_add_test(tc, mss_clamp_leaves_others);
	tcase_add_test(tc, mss_clamp_malformed_options);
	tcase_add_test(tc, mss_clamp_every_truncation);
	tcase_add_test(tc, too_big_v4_fields);
	tcase_add_test(tc, too_big_v6_fields);
	tcase_add_test(tc, too_big_never_about_errors_or_later_fragments);
	tcase_add_test(tc, too_big_every_truncation);
	tcase_add_test(tc, frag_sizes_and_mtus);
	tcase_add_test(tc, frag_fits_is_one_copy);
	tcase_add_test(tc, frag_refused);
	tcase_add_test(tc, frag_copies_only_copied_options);
	tcase_add_test(tc, frag_of_fragment_and_chained_mbuf);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	test_eal_init("test_dp_l3");
	pool = test_pool_create("l3_pool", POOL_SIZE, 4096 + RTE_PKTMBUF_HEADROOM);
	return test_run_nofork(dp_l3_suite());
}
