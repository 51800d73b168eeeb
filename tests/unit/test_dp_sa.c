/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The inbound policy check of a decrypted packet (dp_sa_inner_allowed)
 * against a reference written here from RFC 4301 5.2 and ts.h's reading
 * of packets: addresses compared as big-endian bytes, ports only from
 * TCP/UDP/SCTP first fragments, ICMP type and code in both ports, 0
 * otherwise. Every packet is also put to the general path
 * (dp_sa_inner_allowed_slow), so the IPv4 shortcut and it agree.
 */
#include <netinet/in.h>

#include "unit/dpdk_testutil.h"

#include "crypto_mem.h"
#include "dp.h"
#include "dp_sa.h"

struct pkt {
	uint8_t b[64];
	uint32_t len;
};

static struct dp_sa *make_sa(const char *const *local, unsigned nl, const char *const *remote,
                             unsigned nr)
{
	static const uint8_t key[20] = { 1, 2, 3 };
	struct esp_sa_conf c = { 0 };
	struct dp_sa_params p = { 0 };
	struct dp_sa *sa;
	char err[256];
	unsigned i;

	c.dir = ESP_DIR_IN;
	c.spi = 0x1234;
	c.encr = CRYPTO_ENCR_AES128_GCM16;
	c.integ = CRYPTO_INTEG_NONE;
	c.enc_key = key;
	c.enc_key_len = sizeof(key);
	c.family = AF_INET;
	p.name = "t";
	for (i = 0; i < nl; i++)
		ck_assert_int_eq(ts_parse(local[i], 0, &p.local[i]), TS_OK);
	for (i = 0; i < nr; i++)
		ck_assert_int_eq(ts_parse(remote[i], 0, &p.remote[i]), TS_OK);
	p.n_local = nl;
	p.n_remote = nr;
	sa = dp_sa_create(&c, &p, err, sizeof(err));
	ck_assert_msg(sa != NULL, "%s", err);
	return sa;
}

static void ip4(struct pkt *k, const uint8_t *src, const uint8_t *dst, uint8_t proto, uint16_t frag,
                uint16_t sport, uint16_t dport, uint32_t len)
{
	memset(k, 0, sizeof(*k));
	k->b[0] = 0x45;
	k->b[2] = (uint8_t)(len >> 8);
	k->b[3] = (uint8_t)len;
	k->b[6] = (uint8_t)(frag >> 8);
	k->b[7] = (uint8_t)frag;
	k->b[8] = 64;
	k->b[9] = proto;
	memcpy(k->b + 12, src, 4);
	memcpy(k->b + 16, dst, 4);
	k->b[20] = (uint8_t)(sport >> 8);
	k->b[21] = (uint8_t)sport;
	k->b[22] = (uint8_t)(dport >> 8);
	k->b[23] = (uint8_t)dport;
	k->len = len;
}

/* ---- the reference ---- */

static bool ref_in_range(const struct ts *t, const uint8_t *a, unsigned n)
{
	uint8_t s[16], e[16];

	ts_addr_store(t->family, t->start, s);
	ts_addr_store(t->family, t->end, e);
	return memcmp(s, a, n) <= 0 && memcmp(a, e, n) <= 0;
}

static bool ref_side(const struct ts *t, unsigned family, const uint8_t *a, uint8_t proto,
                     uint16_t port)
{
	if (t->family != family || !ref_in_range(t, a, family == 4 ? 4 : 16))
		return false;
	return (t->proto == 0 || t->proto == proto) && t->port_start <= port && port <= t->port_end;
}

static bool ref_allowed(const struct dp_sa *sa, const uint8_t *p, uint32_t len)
{
	unsigned family, l4, i, j;
	uint16_t sp = 0, dpt = 0;
	const uint8_t *src, *dst;
	uint8_t proto;
	bool first = true;

	if (len < 1)
		return false;
	family = p[0] >> 4;
	if (family == 4 && len >= 20) {
		proto = p[9];
		src = p + 12;
		dst = p + 16;
		l4 = (p[0] & 15u) * 4;
		first = ((p[6] << 8 | p[7]) & 0x1fff) == 0;
	} else if (family == 6 && len >= 40) {
		proto = p[6];
		src = p + 8;
		dst = p + 24;
		l4 = 40;
	} else {
		return false;
	}
	if (first && (proto == 6 || proto == 17 || proto == 132) && len >= l4 + 4) {
		sp = (uint16_t)(p[l4] << 8 | p[l4 + 1]);
		dpt = (uint16_t)(p[l4 + 2] << 8 | p[l4 + 3]);
	} else if (first && (proto == 1 || proto == 58) && len >= l4 + 2) {
		sp = dpt = (uint16_t)(p[l4] << 8 | p[l4 + 1]);
	}
	for (i = 0; i < sa->n_remote; i++)
		for (j = 0; j < sa->n_local; j++)
			if (ref_side(&sa->remote[i], family, src, proto, sp) &&
			    ref_side(&sa->local[j], family, dst, proto, dpt))
				return true;
	return false;
}

static unsigned check_all(const struct dp_sa *sa, const uint8_t (*addrs)[4], unsigned na)
{
	static const uint8_t protos[] = { 17, 6, 1, 50, 132 };
	static const uint16_t ports[] = { 0, 53, 999, 1000, 2000, 2001, 65535 };
	unsigned s, d, pr, po, frag, allowed = 0;
	struct pkt k;

	for (s = 0; s < na; s++)
		for (d = 0; d < na; d++)
			for (pr = 0; pr < sizeof(protos); pr++)
				for (po = 0; po < sizeof(ports) / sizeof(ports[0]); po++)
					for (frag = 0; frag < 2; frag++) {
						bool want, got;

						ip4(&k, addrs[s], addrs[d], protos[pr],
						    frag ? 0x0010 : 0, ports[po],
						    ports[(po + 3) % 7], 28);
						want = ref_allowed(sa, k.b, k.len);
						got = dp_sa_inner_allowed(sa, k.b, k.len);
						ck_assert_msg(
						        got == want,
						        "%u.%u.%u.%u -> %u.%u.%u.%u proto %u: "
						        "got %d, want %d",
						        addrs[s][0], addrs[s][1], addrs[s][2],
						        addrs[s][3], addrs[d][0], addrs[d][1],
						        addrs[d][2], addrs[d][3], protos[pr], got,
						        want);
						ck_assert(dp_sa_inner_allowed_slow(sa, k.b,
						                                   k.len) == want);
						allowed += want;
					}
	return allowed;
}

/* Edges of the selectors below, one inside and one outside each. */
static const uint8_t edges[][4] = {
	{ 192, 168, 0, 0 }, { 192, 167, 255, 255 }, { 192, 168, 0, 255 }, { 192, 168, 1, 0 },
	{ 192, 168, 5, 9 }, { 192, 168, 5, 10 },    { 192, 168, 5, 20 },  { 192, 168, 5, 21 },
	{ 10, 0, 0, 0 },    { 9, 255, 255, 255 },   { 10, 0, 255, 255 },  { 10, 1, 0, 0 },
	{ 172, 16, 0, 1 },  { 172, 16, 0, 2 },      { 0, 0, 0, 0 },       { 255, 255, 255, 255 },
	{ 128, 0, 0, 0 },   { 127, 255, 255, 255 },
};

START_TEST(inner_check_ipv4_ranges_mixed_families)
{
	static const char *const local[] = { "10.0.0.0/16", "2001:db8:1::/48", "172.16.0.1" };
	static const char *const remote[] = { "2001:db8:2::/48", "192.168.0.0/24",
		                              "192.168.5.10-192.168.5.20" };
	struct dp_sa *sa = make_sa(local, 3, remote, 3);

	/* No selector names protocol or ports: the IPv4 shortcut answers. */
	ck_assert(!sa->sel4_l4);
	ck_assert_uint_eq(sa->n_local4, 2);
	ck_assert_uint_eq(sa->n_remote4, 2);
	ck_assert_uint_gt(check_all(sa, edges, sizeof(edges) / sizeof(edges[0])), 0);
	dp_sa_free(sa);
}
END_TEST

START_TEST(inner_check_whole_space_and_empty_side)
{
	static const char *const any4[] = { "0.0.0.0/0" };
	static const char *const v6only[] = { "2001:db8::/32" };
	struct dp_sa *sa = make_sa(any4, 1, any4, 1);

	ck_assert(!sa->sel4_l4);
	ck_assert_uint_eq(check_all(sa, edges, sizeof(edges) / sizeof(edges[0])),
	                  18 * 18 * 5 * 7 * 2);
	dp_sa_free(sa);
	/* No IPv4 selector on one side: no IPv4 packet passes. */
	sa = make_sa(any4, 1, v6only, 1);
	ck_assert_uint_eq(check_all(sa, edges, sizeof(edges) / sizeof(edges[0])), 0);
	dp_sa_free(sa);
}
END_TEST

START_TEST(inner_check_protocols_and_ports)
{
	static const char *const local[] = { "10.0.0.0/16[udp/53]", "172.16.0.1[tcp/1000-2000]" };
	static const char *const remote[] = { "192.168.0.0/24", "192.168.5.10-192.168.5.20[icmp]" };
	struct dp_sa *sa = make_sa(local, 2, remote, 2);

	/* Ports and protocols: the general path, checked against the reference. */
	ck_assert(sa->sel4_l4);
	ck_assert_uint_gt(check_all(sa, edges, sizeof(edges) / sizeof(edges[0])), 0);
	dp_sa_free(sa);
}
END_TEST

START_TEST(inner_check_short_and_other_versions)
{
	static const char *const local[] = { "0.0.0.0/0", "::/0" };
	static const char *const remote[] = { "0.0.0.0/0", "::/0" };
	struct dp_sa *sa = make_sa(local, 2, remote, 2);
	struct pkt k;
	uint8_t v6[40] = { 0x60 };

	ip4(&k, edges[0], edges[1], 17, 0, 1, 2, 28);
	for (uint32_t len = 0; len < 20; len++)
		ck_assert(!dp_sa_inner_allowed(sa, k.b, len));
	ck_assert(dp_sa_inner_allowed(sa, k.b, 20));
	k.b[0] = 0x55;
	ck_assert(!dp_sa_inner_allowed(sa, k.b, 28));
	ck_assert(dp_sa_inner_allowed(sa, v6, 40));
	ck_assert(!dp_sa_inner_allowed(sa, v6, 39));
	dp_sa_free(sa);
}
END_TEST

/* The workers' division-free owner is the owner control computes. */
START_TEST(owner_fast_is_spi_mod_workers)
{
	static const uint32_t spis[] = { 0,          1,           2,           63,
		                         64,         65,          0x1000,      0x2000,
		                         0x7fffffff, 0x80000000u, 0xfffffffeu, 0xffffffffu };
	struct dp dp = { 0 };
	uint32_t x = 12345;

	for (unsigned n = 1; n <= DP_MAX_WORKERS; n++) {
		dp.n_workers = n;
		dp.owner_m = dp_owner_m(n);
		for (unsigned i = 0; i < sizeof(spis) / sizeof(spis[0]); i++)
			ck_assert_uint_eq(dp_owner_fast(&dp, spis[i]), dp_owner(&dp, spis[i]));
		for (unsigned i = 0; i < 20000; i++) {
			x = x * 1103515245u + 12345u;
			ck_assert_uint_eq(dp_owner_fast(&dp, x), dp_owner(&dp, x));
		}
	}
}
END_TEST

static Suite *dp_sa_suite(void)
{
	Suite *s = suite_create("dp_sa");
	TCase *tc = tcase_create("inner_check");

	tcase_add_test(tc, inner_check_ipv4_ranges_mixed_families);
	tcase_add_test(tc, inner_check_whole_space_and_empty_side);
	tcase_add_test(tc, inner_check_protocols_and_ports);
	tcase_add_test(tc, inner_check_short_and_other_versions);
	tcase_add_test(tc, owner_fast_is_spi_mod_workers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	test_eal_init("test_dp_sa");
	if (crypto_init() != 0)
		return EXIT_FAILURE;
	return test_run_nofork(dp_sa_suite());
}
