/* SPDX-License-Identifier: BSD-3-Clause */
/* Traffic selectors: text, edges, set operations, prefixes, narrowing, packet checks. */
#include <arpa/inet.h>

#include "unit/testutil.h"

#include "compiler.h"
#include "ts.h"

#define LIST_MAX 8

/* Parses a selector the test relies on; a failure here is a test bug. */
static struct ts sel(const char *s)
{
	struct ts t;
	enum ts_err err = ts_parse(s, 0, &t);

	ck_assert_msg(err == TS_OK, "%s: %s", s, ts_strerror(err));
	return t;
}

static const char *fmt(const struct ts *t, char buf[TS_STR_MAX])
{
	size_t n = ts_format(t, buf, TS_STR_MAX);

	ck_assert_uint_lt(n, TS_STR_MAX);
	return buf;
}

/* An address from text, its family from a ':'. */
static struct ts_addr addr(const char *s, uint8_t *family)
{
	uint8_t b[16];
	bool v6 = strchr(s, ':') != NULL;

	ck_assert_msg(inet_pton(v6 ? AF_INET6 : AF_INET, s, b) == 1, "bad test address %s", s);
	*family = v6 ? TS_IPV6 : TS_IPV4;
	return ts_addr_load(*family, b);
}

static size_t count_list(const char *const *l)
{
	size_t n = 0;

	while (n < LIST_MAX && l[n])
		n++;
	return n;
}

static size_t sel_list(const char *const *l, struct ts *out)
{
	size_t n = count_list(l);

	for (size_t i = 0; i < n; i++)
		out[i] = sel(l[i]);
	return n;
}

/* --- parse and format --- */

struct text_case {
	const char *in;
	const char *out; /* canonical text */
	uint8_t family;
	const char *first; /* first and last address, as inet_ntop writes them */
	const char *last;
};

static const struct text_case text_cases[] = {
	{ "10.0.0.0/16", "10.0.0.0/16", TS_IPV4, "10.0.0.0", "10.0.255.255" },
	{ "0.0.0.0/0", "0.0.0.0/0", TS_IPV4, "0.0.0.0", "255.255.255.255" },
	{ "255.255.255.255", "255.255.255.255/32", TS_IPV4, "255.255.255.255", "255.255.255.255" },
	{ "10.0.0.7/32", "10.0.0.7/32", TS_IPV4, "10.0.0.7", "10.0.0.7" },
	{ "10.0.0.1-10.0.0.9", "10.0.0.1-10.0.0.9", TS_IPV4, "10.0.0.1", "10.0.0.9" },
	{ "10.0.0.0-10.0.0.255", "10.0.0.0/24", TS_IPV4, "10.0.0.0", "10.0.0.255" },
	{ "10.0.0.5-10.0.0.5", "10.0.0.5/32", TS_IPV4, "10.0.0.5", "10.0.0.5" },
	{ "10.0.0.0/16[tcp/443]", "10.0.0.0/16[tcp/443]", TS_IPV4, "10.0.0.0", "10.0.255.255" },
	{ "10.0.0.0/16[udp]", "10.0.0.0/16[udp]", TS_IPV4, "10.0.0.0", "10.0.255.255" },
	{ "10.0.0.0/16[17/500-4500]", "10.0.0.0/16[udp/500-4500]", TS_IPV4, "10.0.0.0",
	  "10.0.255.255" },
	{ "10.0.0.0/16[any/53]", "10.0.0.0/16[any/53]", TS_IPV4, "10.0.0.0", "10.0.255.255" },
	{ "10.0.0.0/16[any]", "10.0.0.0/16", TS_IPV4, "10.0.0.0", "10.0.255.255" },
	{ "10.0.0.0/16[tcp/0-65535]", "10.0.0.0/16[tcp]", TS_IPV4, "10.0.0.0", "10.0.255.255" },
	{ "10.0.0.0/16[tcp/0-1023]", "10.0.0.0/16[tcp/0-1023]", TS_IPV4, "10.0.0.0",
	  "10.0.255.255" },
	{ "10.0.0.0/16[47]", "10.0.0.0/16[47]", TS_IPV4, "10.0.0.0", "10.0.255.255" },
	{ "10.0.0.1-10.0.0.9[icmp/2048]", "10.0.0.1-10.0.0.9[icmp/2048]", TS_IPV4, "10.0.0.1",
	  "10.0.0.9" },
	{ "::/0", "::/0", TS_IPV6, "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
	{ "2001:db8::/32", "2001:db8::/32", TS_IPV6,
	  "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff" },
	{ "2001:DB8::/32", "2001:db8::/32", TS_IPV6,
	  "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff" },
	{ "2001:db8::1", "2001:db8::1/128", TS_IPV6, "2001:db8::1", "2001:db8::1" },
	{ "2001:db8::1-2001:db8::ff", "2001:db8::1-2001:db8::ff", TS_IPV6, "2001:db8::1",
	  "2001:db8::ff" },
	{ "2001:db8::/65", "2001:db8::/65", TS_IPV6,
	  "2001:db8::", "2001:db8::7fff:ffff:ffff:ffff" },
	{ "2001:db8::8000:0:0:0/65", "2001:db8:0:0:8000::/65", TS_IPV6,
	  "2001:db8:0:0:8000::", "2001:db8::ffff:ffff:ffff:ffff" },
	{ "2001:db8::/64[icmpv6/128]", "2001:db8::/64[icmpv6/128]", TS_IPV6,
	  "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff" },
	{ "::ffff:10.0.0.0/120", "::ffff:10.0.0.0/120", TS_IPV6, "::ffff:10.0.0.0",
	  "::ffff:10.0.0.255" },
	{ "fe80::-fe80::1:0:0:0", "fe80::-fe80::1:0:0:0", TS_IPV6, "fe80::", "fe80::1:0:0:0" },
};

START_TEST(test_parse_format)
{
	const struct text_case *c = &text_cases[_i];
	char buf[TS_STR_MAX], a[INET6_ADDRSTRLEN];
	uint8_t bytes[16];
	int af = c->family == TS_IPV6 ? AF_INET6 : AF_INET;
	struct ts t = sel(c->in), again;

	ck_assert_msg(ts_valid(&t), "%s", c->in);
	ck_assert_uint_eq(t.family, c->family);
	ts_addr_store(t.family, t.start, bytes);
	ck_assert_str_eq(inet_ntop(af, bytes, a, sizeof(a)), c->first);
	ts_addr_store(t.family, t.end, bytes);
	ck_assert_str_eq(inet_ntop(af, bytes, a, sizeof(a)), c->last);
	ck_assert_str_eq(fmt(&t, buf), c->out);
	/* The canonical text parses back to the same selector. */
	again = sel(buf);
	ck_assert_msg(ts_equal(&t, &again), "%s -> %s", c->in, buf);
}
END_TEST

START_TEST(test_parse_fields)
{
	struct ts t = sel("10.0.0.0/8[udp/500-4500]");

	ck_assert_uint_eq(t.proto, TS_PROTO_UDP);
	ck_assert_uint_eq(t.port_start, 500);
	ck_assert_uint_eq(t.port_end, 4500);
	ck_assert_uint_eq(t.start.lo, 0x0a000000);
	ck_assert_uint_eq(t.end.lo, 0x0affffff);
	ck_assert_uint_eq(t.start.hi | t.end.hi, 0);

	t = sel("10.0.0.0/8");
	ck_assert_uint_eq(t.proto, 0);
	ck_assert_uint_eq(t.port_start, 0);
	ck_assert_uint_eq(t.port_end, 65535);
}
END_TEST

struct err_case {
	const char *in;
	unsigned flags;
	enum ts_err err;
	const char *out; /* canonical text on success */
};

static const struct err_case err_cases[] = {
	{ "", 0, TS_ERR_EMPTY, NULL },
	{ NULL, 0, TS_ERR_EMPTY, NULL },
	{ "10.0.0.1/16", 0, TS_ERR_HOST_BITS, NULL },
	{ "10.0.0.1/16", TS_ALLOW_HOST_BITS, TS_OK, "10.0.0.0/16" },
	{ "10.0.0.128/25", 0, TS_OK, "10.0.0.128/25" },
	{ "10.0.0.128/24", 0, TS_ERR_HOST_BITS, NULL },
	{ "2001:db8::1/64", 0, TS_ERR_HOST_BITS, NULL },
	{ "2001:db8::1/64", TS_ALLOW_HOST_BITS, TS_OK, "2001:db8::/64" },
	{ "2001:db8:0:0:8000::/64", 0, TS_ERR_HOST_BITS, NULL },
	{ "10.0.0.0/33", 0, TS_ERR_PREFIX_LEN, NULL },
	{ "10.0.0.0/33", TS_ALLOW_HOST_BITS, TS_ERR_PREFIX_LEN, NULL },
	{ "::/129", 0, TS_ERR_PREFIX_LEN, NULL },
	{ "::/128", 0, TS_OK, "::/128" },
	{ "10.0.0.0/", 0, TS_ERR_PREFIX_LEN, NULL },
	{ "10.0.0.0/-1", 0, TS_ERR_PREFIX_LEN, NULL },
	{ "10.0.0.0/1x", 0, TS_ERR_PREFIX_LEN, NULL },
	{ "10.0.0.0/99999999", 0, TS_ERR_PREFIX_LEN, NULL },
	{ "10.0.0.0/8 ", 0, TS_ERR_PREFIX_LEN, NULL },
	{ "garbage", 0, TS_ERR_ADDR, NULL },
	{ "10.0.0", 0, TS_ERR_ADDR, NULL },
	{ "10.0.0.256", 0, TS_ERR_ADDR, NULL },
	{ " 10.0.0.0/8", 0, TS_ERR_ADDR, NULL },
	{ "/8", 0, TS_ERR_ADDR, NULL },
	{ "fe80::1%eth0", 0, TS_ERR_ADDR, NULL },
	{ "2001:db8:::1", 0, TS_ERR_ADDR, NULL },
	{ "10.0.0.1-", 0, TS_ERR_ADDR, NULL },
	{ "-10.0.0.1", 0, TS_ERR_ADDR, NULL },
	{ "10.0.0.0/8-10.0.0.1", 0, TS_ERR_PREFIX_LEN, NULL },
	{ "10.0.0.1-10.0.0.9/24", 0, TS_ERR_ADDR, NULL },
	{ "10.0.0.0000000000000000000000000000000000000000000000000000000000001", 0, TS_ERR_ADDR,
	  NULL },
	{ "10.0.0.9-10.0.0.1", 0, TS_ERR_RANGE, NULL },
	{ "2001:db8::2-2001:db8::1", 0, TS_ERR_RANGE, NULL },
	{ "10.0.0.1-::1", 0, TS_ERR_FAMILY, NULL },
	{ "10.0.0.0/8[tcp/65536]", 0, TS_ERR_PORT, NULL },
	{ "10.0.0.0/8[tcp/90-80]", 0, TS_ERR_PORT, NULL },
	{ "10.0.0.0/8[tcp/]", 0, TS_ERR_PORT, NULL },
	{ "10.0.0.0/8[tcp/80-]", 0, TS_ERR_PORT, NULL },
	{ "10.0.0.0/8[tcp/x]", 0, TS_ERR_PORT, NULL },
	{ "10.0.0.0/8[foo]", 0, TS_ERR_PROTO, NULL },
	{ "10.0.0.0/8[256]", 0, TS_ERR_PROTO, NULL },
	{ "10.0.0.0/8[]", 0, TS_ERR_PROTO, NULL },
	{ "10.0.0.0/8[tcp", 0, TS_ERR_PROTO, NULL },
	{ "10.0.0.0/8[tcp]x", 0, TS_ERR_PROTO, NULL },
	{ "10.0.0.0/8[/80]", 0, TS_ERR_PROTO, NULL },
	{ "[tcp]", 0, TS_ERR_EMPTY, NULL },
};

START_TEST(test_parse_errors)
{
	const struct err_case *c = &err_cases[_i];
	struct ts t, untouched;
	char buf[TS_STR_MAX];

	memset(&t, 0xa5, sizeof(t));
	untouched = t;
	ck_assert_msg(ts_parse(c->in, c->flags, &t) == c->err, "'%s': got %s, want %s",
	              c->in ? c->in : "(null)", ts_strerror(ts_parse(c->in, c->flags, &t)),
	              ts_strerror(c->err));
	if (c->err != TS_OK) {
		ck_assert_msg(memcmp(&t, &untouched, sizeof(t)) == 0, "%s: out written on error",
		              c->in);
		return;
	}
	ck_assert_str_eq(fmt(&t, buf), c->out);
}
END_TEST

START_TEST(test_strerror)
{
	ck_assert_str_eq(ts_strerror(TS_OK), "ok");
	for (int e = 1; e < TS_ERR_COUNT; e++) {
		ck_assert_ptr_nonnull(ts_strerror((enum ts_err)e));
		ck_assert_str_ne(ts_strerror((enum ts_err)e), "ok");
	}
	ck_assert_str_eq(ts_strerror(TS_ERR_COUNT), "unknown error");
	ck_assert_str_eq(ts_strerror(TS_ERR_HOST_BITS),
	                 "address has bits set after the prefix length");
}
END_TEST

START_TEST(test_format_truncates)
{
	struct ts t = sel("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd-"
	                  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff[icmpv6/65534-65535]");
	const char *full = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd-"
	                   "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff[icmpv6/65534-65535]";
	char buf[TS_STR_MAX], small[8];

	ck_assert_uint_eq(ts_format(&t, buf, sizeof(buf)), strlen(full));
	ck_assert_str_eq(buf, full);
	ck_assert_uint_eq(ts_format(&t, small, sizeof(small)), strlen(full));
	ck_assert_str_eq(small, "ffff:ff");
	ck_assert_uint_eq(ts_format(&t, NULL, 0), strlen(full));
	t.proto = 255;
	ts_format(&t, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "[255/65534-65535]"));
}
END_TEST

/* --- constructors from bytes --- */

struct mask_case {
	uint8_t family;
	const char *mask;
	int len; /* -1: TS_ERR_MASK */
};

static const struct mask_case mask_cases[] = {
	{ TS_IPV4, "255.255.255.0", 24 },
	{ TS_IPV4, "255.255.255.255", 32 },
	{ TS_IPV4, "0.0.0.0", 0 },
	{ TS_IPV4, "128.0.0.0", 1 },
	{ TS_IPV4, "255.255.255.254", 31 },
	{ TS_IPV4, "255.0.255.0", -1 },
	{ TS_IPV4, "0.255.255.255", -1 },
	{ TS_IPV4, "255.255.255.1", -1 },
	{ TS_IPV6, "ffff:ffff:ffff:ffff::", 64 },
	{ TS_IPV6, "ffff:ffff:ffff:ffff:8000::", 65 },
	{ TS_IPV6, "ffff:ffff:ffff:fffe::", 63 },
	{ TS_IPV6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128 },
	{ TS_IPV6, "::", 0 },
	{ TS_IPV6, "ffff:ffff:ffff:fffe:8000::", -1 },
	{ TS_IPV6, "::1", -1 },
};

START_TEST(test_from_netmask)
{
	const struct mask_case *c = &mask_cases[_i];
	uint8_t zero[16] = { 0 }, mask[16];
	int af = c->family == TS_IPV6 ? AF_INET6 : AF_INET;
	struct ts t;
	enum ts_err err;

	ck_assert_int_eq(inet_pton(af, c->mask, mask), 1);
	err = ts_from_netmask(&t, c->family, zero, mask, 0);
	if (c->len < 0) {
		ck_assert_msg(err == TS_ERR_MASK, "%s: %s", c->mask, ts_strerror(err));
		return;
	}
	ck_assert_msg(err == TS_OK, "%s: %s", c->mask, ts_strerror(err));
	ck_assert_int_eq(ts_prefix_len(&t), c->len);
}
END_TEST

START_TEST(test_netmask_round_trip)
{
	static const uint8_t families[] = { TS_IPV4, TS_IPV6 };

	for (size_t f = 0; f < ARRAY_SIZE(families); f++) {
		uint8_t fam = families[f];
		uint8_t ones[16], mask[16];
		struct ts t;

		memset(ones, 0xff, sizeof(ones));
		for (unsigned len = 0; len <= ts_family_bits(fam); len++) {
			ts_netmask(fam, len, mask);
			ck_assert(ts_from_netmask(&t, fam, ones, mask, TS_ALLOW_HOST_BITS) ==
			          TS_OK);
			ck_assert_int_eq(ts_prefix_len(&t), (int)len);
			/* The host part of all-ones is the last address of the prefix. */
			ck_assert(ts_addr_cmp(t.end, ts_addr_load(fam, ones)) == 0);
			ck_assert(ts_from_prefix(&t, fam, ones, len, TS_ALLOW_HOST_BITS) == TS_OK);
			ck_assert_int_eq(ts_prefix_len(&t), (int)len);
		}
		ck_assert(ts_from_prefix(&t, fam, ones, ts_family_bits(fam) + 1,
		                         TS_ALLOW_HOST_BITS) == TS_ERR_PREFIX_LEN);
	}
}
END_TEST

START_TEST(test_from_range)
{
	const uint8_t a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 9 };
	uint8_t back[16];
	char buf[TS_STR_MAX];
	struct ts t;

	ck_assert(ts_from_range(&t, TS_IPV4, a, b) == TS_OK);
	ck_assert_str_eq(fmt(&t, buf), "10.0.0.1-10.0.0.9");
	ts_addr_store(TS_IPV4, t.end, back);
	ck_assert_mem_eq(back, b, 4);
	ck_assert(ts_from_range(&t, TS_IPV4, b, a) == TS_ERR_RANGE);
	ck_assert(ts_from_range(&t, TS_IPV4, a, a) == TS_OK);
	ck_assert_str_eq(fmt(&t, buf), "10.0.0.1/32");
	ck_assert(ts_from_range(&t, 5, a, b) == TS_ERR_FAMILY);
	ck_assert(ts_from_prefix(&t, 0, a, 8, 0) == TS_ERR_FAMILY);
	ck_assert(ts_from_netmask(&t, 0, a, b, 0) == TS_ERR_FAMILY);
}
END_TEST

START_TEST(test_valid)
{
	struct ts t;

	ts_any(&t, TS_IPV4);
	ck_assert(ts_valid(&t));
	ck_assert_uint_eq(t.end.lo, UINT32_MAX);
	t.end.lo = (uint64_t)UINT32_MAX + 1;
	ck_assert(!ts_valid(&t));
	ts_any(&t, TS_IPV6);
	ck_assert(ts_valid(&t));
	t.start.lo = 1;
	t.end.hi = 0;
	t.end.lo = 0;
	ck_assert(!ts_valid(&t));
	ts_any(&t, TS_IPV6);
	t.port_start = 10;
	t.port_end = 9;
	ck_assert(!ts_valid(&t));
	ts_any(&t, TS_IPV6);
	t.family = 5;
	ck_assert(!ts_valid(&t));
	ck_assert_uint_eq(ts_family_bits(5), 0);
}
END_TEST

/* --- addresses at the edges --- */

struct contains_case {
	const char *sel;
	const char *addr;
	bool in;
};

static const struct contains_case contains_cases[] = {
	{ "10.0.0.0/16", "10.0.0.0", true },
	{ "10.0.0.0/16", "10.0.255.255", true },
	{ "10.0.0.0/16", "9.255.255.255", false },
	{ "10.0.0.0/16", "10.1.0.0", false },
	{ "10.0.0.1-10.0.0.9", "10.0.0.1", true },
	{ "10.0.0.1-10.0.0.9", "10.0.0.9", true },
	{ "10.0.0.1-10.0.0.9", "10.0.0.0", false },
	{ "10.0.0.1-10.0.0.9", "10.0.0.10", false },
	{ "0.0.0.0/0", "0.0.0.0", true },
	{ "0.0.0.0/0", "255.255.255.255", true },
	{ "0.0.0.0/0", "::", false },
	{ "0.0.0.0/0", "::ffff:10.0.0.1", false },
	{ "255.255.255.255", "255.255.255.255", true },
	{ "255.255.255.255", "255.255.255.254", false },
	{ "0.0.0.0/32", "0.0.0.0", true },
	{ "0.0.0.0/32", "0.0.0.1", false },
	{ "::/0", "::", true },
	{ "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "::/0", "0.0.0.0", false },
	{ "2001:db8::/32", "2001:db8::", true },
	{ "2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "2001:db8::/32", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false },
	{ "2001:db8::/32", "2001:db9::", false },
	/* A range across the boundary of the two 64-bit halves. */
	{ "2001:db8::ffff:ffff:ffff:fffe-2001:db8:0:1::1", "2001:db8::ffff:ffff:ffff:fffe", true },
	{ "2001:db8::ffff:ffff:ffff:fffe-2001:db8:0:1::1", "2001:db8::ffff:ffff:ffff:ffff", true },
	{ "2001:db8::ffff:ffff:ffff:fffe-2001:db8:0:1::1", "2001:db8:0:1::", true },
	{ "2001:db8::ffff:ffff:ffff:fffe-2001:db8:0:1::1", "2001:db8:0:1::1", true },
	{ "2001:db8::ffff:ffff:ffff:fffe-2001:db8:0:1::1", "2001:db8:0:1::2", false },
	{ "2001:db8::ffff:ffff:ffff:fffe-2001:db8:0:1::1", "2001:db8::ffff:ffff:ffff:fffd", false },
	{ "2001:db8::ffff:ffff:ffff:fffe-2001:db8:0:1::1", "2001:db8:0:2::1", false },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	  true },
};

START_TEST(test_contains_addr)
{
	const struct contains_case *c = &contains_cases[_i];
	struct ts t = sel(c->sel);
	uint8_t fam;
	struct ts_addr a = addr(c->addr, &fam);

	ck_assert_msg(ts_contains_addr(&t, fam, &a) == c->in, "%s in %s: want %d", c->addr, c->sel,
	              c->in);
}
END_TEST

/* --- subset, intersection, equality --- */

struct set_case {
	const char *a;
	const char *b;
	bool a_in_b;
	bool b_in_a;
	const char *both; /* a ∩ b, NULL when empty */
};

static const struct set_case set_cases[] = {
	{ "10.0.0.0/16", "10.0.0.0/16", true, true, "10.0.0.0/16" },
	{ "10.0.0.0/16", "10.1.0.0/16", false, false, NULL },
	{ "10.0.0.0-10.0.0.9", "10.0.0.10-10.0.0.20", false, false, NULL },
	{ "10.0.0.0-10.0.0.10", "10.0.0.10-10.0.0.20", false, false, "10.0.0.10/32" },
	{ "10.0.1.0/24", "10.0.0.0/16", true, false, "10.0.1.0/24" },
	{ "10.0.0.0-10.0.0.100", "10.0.0.50-10.0.0.200", false, false, "10.0.0.50-10.0.0.100" },
	{ "0.0.0.0/0", "10.0.0.0/16", false, true, "10.0.0.0/16" },
	{ "10.0.0.0/8", "::/0", false, false, NULL },
	{ "::ffff:10.0.0.0/104", "10.0.0.0/8", false, false, NULL },
	{ "10.0.0.0/8[tcp]", "10.0.0.0/8", true, false, "10.0.0.0/8[tcp]" },
	{ "10.0.0.0/8[tcp]", "10.0.0.0/8[udp]", false, false, NULL },
	{ "10.0.0.0/8[tcp/80-443]", "10.0.0.0/8[tcp/400-500]", false, false,
	  "10.0.0.0/8[tcp/400-443]" },
	{ "10.0.0.0/8[tcp/80]", "10.0.0.0/8[tcp/443]", false, false, NULL },
	{ "10.0.0.0/8[tcp/443]", "10.0.0.0/8[tcp/443]", true, true, "10.0.0.0/8[tcp/443]" },
	{ "10.0.0.0/8[tcp/443]", "10.0.0.0/8[any/443]", true, false, "10.0.0.0/8[tcp/443]" },
	{ "10.0.0.0/8[any/53]", "10.0.0.0/16[udp]", false, false, "10.0.0.0/16[udp/53]" },
	{ "10.0.0.0/16[tcp/443]", "10.0.0.0/8[tcp/1-1024]", true, false, "10.0.0.0/16[tcp/443]" },
	{ "10.0.0.0/16[tcp/443]", "10.1.0.0/16[tcp/443]", false, false, NULL },
	{ "2001:db8::/32", "2001:db8:8000::-2001:db9::ff", false, false, "2001:db8:8000::/33" },
	{ "2001:db8::/64", "2001:db8::/48", true, false, "2001:db8::/64" },
	{ "::/0", "::/0", true, true, "::/0" },
	{ "2001:db8::/64", "2001:db8:0:1::/64", false, false, NULL },
};

START_TEST(test_subset_intersect)
{
	const struct set_case *c = &set_cases[_i];
	struct ts a = sel(c->a), b = sel(c->b), x, y;
	char buf[TS_STR_MAX];
	bool got;

	ck_assert_msg(ts_is_subset(&a, &b) == c->a_in_b, "%s in %s", c->a, c->b);
	ck_assert_msg(ts_is_subset(&b, &a) == c->b_in_a, "%s in %s", c->b, c->a);
	ck_assert_msg(ts_equal(&a, &b) == (c->a_in_b && c->b_in_a), "%s == %s", c->a, c->b);
	memset(&x, 0, sizeof(x));
	got = ts_intersect(&a, &b, &x);
	ck_assert_msg(got == (c->both != NULL), "%s ∩ %s: got %d", c->a, c->b, got);
	if (!got)
		return;
	ck_assert_str_eq(fmt(&x, buf), c->both);
	ck_assert(ts_is_subset(&x, &a) && ts_is_subset(&x, &b));
	ck_assert(ts_intersect(&b, &a, &y));
	ck_assert(ts_equal(&x, &y));
}
END_TEST

START_TEST(test_equal_fields)
{
	struct ts a = sel("10.0.0.0/8[tcp/443]"), b = a;

	ck_assert(ts_equal(&a, &b));
	b.proto = TS_PROTO_UDP;
	ck_assert(!ts_equal(&a, &b));
	b = a;
	b.port_end = 444;
	ck_assert(!ts_equal(&a, &b));
	b = a;
	b.port_start = 442;
	ck_assert(!ts_equal(&a, &b));
	b = a;
	b.end.lo--;
	ck_assert(!ts_equal(&a, &b));
	b = a;
	b.family = TS_IPV6;
	ck_assert(!ts_equal(&a, &b));
}
END_TEST

/* --- ranges to prefixes --- */

struct prefix_case {
	const char *range;
	size_t n;                    /* prefixes expected */
	const char *const *prefixes; /* all of them, or NULL to check first/last only */
	const char *first;
	const char *last;
};

static const char *const p_1_14[] = { "10.0.0.1/32", "10.0.0.2/31",  "10.0.0.4/30",
	                              "10.0.0.8/30", "10.0.0.12/31", "10.0.0.14/32" };
static const char *const p_v6_1_6[] = { "2001:db8::1/128", "2001:db8::2/127", "2001:db8::4/127",
	                                "2001:db8::6/128" };
static const char *const p_v6_cross[] = { "2001:db8::ffff:ffff:ffff:ffff/128",
	                                  "2001:db8:0:1::/128" };
static const char *const p_ports[] = { "10.0.0.0/24[tcp/443]", "10.0.1.0/32[tcp/443]" };
static const char *const p_one[] = { "10.0.0.7/32" };
static const char *const p_top[] = { "255.255.255.255/32" };
static const char *const p_all4[] = { "0.0.0.0/0" };
static const char *const p_all6[] = { "::/0" };
static const char *const p_v6_63[] = { "2001:db8::/63" };
static const char *const p_odd[] = { "192.168.0.255/32", "192.168.1.0/24", "192.168.2.0/32" };

static const struct prefix_case prefix_cases[] = {
	{ "10.0.0.1-10.0.0.14", 6, p_1_14, NULL, NULL },
	{ "10.0.0.7", 1, p_one, NULL, NULL },
	{ "255.255.255.255", 1, p_top, NULL, NULL },
	{ "0.0.0.0/0", 1, p_all4, NULL, NULL },
	{ "192.168.0.255-192.168.2.0", 3, p_odd, NULL, NULL },
	{ "10.0.0.0-10.0.1.0[tcp/443]", 2, p_ports, NULL, NULL },
	{ "0.0.0.1-255.255.255.255", 32, NULL, "0.0.0.1/32", "128.0.0.0/1" },
	{ "0.0.0.0-255.255.255.254", 32, NULL, "0.0.0.0/1", "255.255.255.254/32" },
	/* The worst case for IPv4: 2 * 32 - 2. */
	{ "0.0.0.1-255.255.255.254", 62, NULL, "0.0.0.1/32", "255.255.255.254/32" },
	{ "::/0", 1, p_all6, NULL, NULL },
	{ "2001:db8::1-2001:db8::6", 4, p_v6_1_6, NULL, NULL },
	{ "2001:db8::ffff:ffff:ffff:ffff-2001:db8:0:1::", 2, p_v6_cross, NULL, NULL },
	{ "2001:db8::-2001:db8:0:1:ffff:ffff:ffff:ffff", 1, p_v6_63, NULL, NULL },
	{ "::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", TS_PREFIXES_MAX, NULL, "::1/128",
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128" },
	{ "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 128, NULL, "::/1",
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128" },
};

START_TEST(test_to_prefixes)
{
	const struct prefix_case *c = &prefix_cases[_i];
	struct ts t = sel(c->range), out[TS_PREFIXES_MAX];
	char buf[TS_STR_MAX];
	size_t n = 0;

	ck_assert(ts_to_prefixes(&t, out, ARRAY_SIZE(out), &n) == TS_OK);
	ck_assert_uint_eq(n, c->n);
	for (size_t i = 0; i < n; i++) {
		if (c->prefixes)
			ck_assert_str_eq(fmt(&out[i], buf), c->prefixes[i]);
		/* Each a prefix with t's protocol and ports, back to back, covering t exactly. */
		ck_assert_int_ge(ts_prefix_len(&out[i]), 0);
		ck_assert(ts_is_subset(&out[i], &t));
		ck_assert(out[i].proto == t.proto && out[i].port_start == t.port_start &&
		          out[i].port_end == t.port_end);
		if (i > 0) {
			struct ts_addr next = out[i - 1].end;

			next.lo++;
			if (next.lo == 0)
				next.hi++;
			ck_assert(ts_addr_cmp(next, out[i].start) == 0);
		}
	}
	ck_assert(ts_addr_cmp(out[0].start, t.start) == 0);
	ck_assert(ts_addr_cmp(out[n - 1].end, t.end) == 0);
	if (c->first) {
		ck_assert_str_eq(fmt(&out[0], buf), c->first);
		ck_assert_str_eq(fmt(&out[n - 1], buf), c->last);
	}
	/* Minimal: no two neighbours of one length merge into an aligned block twice as big. */
	for (size_t i = 0; i + 1 < n; i++) {
		struct ts merged = out[i];

		merged.end = out[i + 1].end;
		ck_assert_msg(ts_prefix_len(&out[i]) != ts_prefix_len(&out[i + 1]) ||
		                      ts_prefix_len(&merged) < 0,
		              "%s: entries %zu and %zu merge", c->range, i, i + 1);
	}
}
END_TEST

START_TEST(test_to_prefixes_nospace)
{
	struct ts t = sel("10.0.0.1-10.0.0.14"), out[4];
	char buf[TS_STR_MAX];
	size_t n = 0;

	memset(out, 0, sizeof(out));
	ck_assert(ts_to_prefixes(&t, out, 3, &n) == TS_ERR_NOSPACE);
	ck_assert_uint_eq(n, 6);
	ck_assert_str_eq(fmt(&out[0], buf), "10.0.0.1/32");
	ck_assert_str_eq(fmt(&out[2], buf), "10.0.0.4/30");
	/* Nothing written past cap. */
	ck_assert_uint_eq(out[3].family, 0);
	ck_assert(ts_to_prefixes(&t, out, 0, &n) == TS_ERR_NOSPACE);
	ck_assert_uint_eq(n, 6);
}
END_TEST

/* --- narrowing as responder --- */

struct narrow_case {
	const char *name;
	const char *offered[LIST_MAX];
	const char *configured[LIST_MAX];
	const char *result[LIST_MAX]; /* none: TS_UNACCEPTABLE */
	bool first_covered;
};

static const struct narrow_case narrow_cases[] = {
	{ "any narrowed to the configured subnet",
	  { "0.0.0.0/0" },
	  { "10.0.0.0/16" },
	  { "10.0.0.0/16" },
	  false },
	{ "any narrowed to several configured subnets",
	  { "0.0.0.0/0" },
	  { "10.0.0.0/16", "192.168.1.0/24", "172.16.0.0/12" },
	  { "10.0.0.0/16", "192.168.1.0/24", "172.16.0.0/12" },
	  false },
	{ "offer narrower than configured is taken as is",
	  { "10.0.1.0/24" },
	  { "10.0.0.0/16" },
	  { "10.0.1.0/24" },
	  true },
	{ "nothing in common", { "172.16.0.0/12" }, { "10.0.0.0/16" }, { NULL }, false },
	{ "adjacent but disjoint", { "10.1.0.0/16" }, { "10.0.0.0/16" }, { NULL }, false },
	{ "mixed families, each narrowed within its own",
	  { "0.0.0.0/0", "::/0" },
	  { "10.0.0.0/16", "2001:db8::/48" },
	  { "10.0.0.0/16", "2001:db8::/48" },
	  false },
	{ "IPv6 offer against IPv4 configuration", { "::/0" }, { "10.0.0.0/16" }, { NULL }, false },
	{ "packet selector first, inside the configuration",
	  { "10.0.0.5/32[tcp/80]", "10.0.0.0/8" },
	  { "10.0.0.0/16" },
	  { "10.0.0.0/16" },
	  true },
	{ "packet selector first, outside the configuration",
	  { "10.9.0.5/32[tcp/80]", "10.0.0.0/8" },
	  { "10.0.0.0/16" },
	  { "10.0.0.0/16" },
	  false },
	{ "packet selector only",
	  { "10.0.0.5/32[tcp/80]" },
	  { "10.0.0.0/16" },
	  { "10.0.0.5/32[tcp/80]" },
	  true },
	{ "duplicates collapse",
	  { "10.0.0.0/24", "10.0.0.0/24" },
	  { "10.0.0.0/16", "10.0.0.0/16" },
	  { "10.0.0.0/24" },
	  true },
	{ "partial overlap keeps the common part",
	  { "10.0.0.0-10.0.1.127" },
	  { "10.0.1.0/24" },
	  { "10.0.1.0/25" },
	  false },
	{ "configured protocol and port narrow the offer",
	  { "0.0.0.0/0" },
	  { "10.0.0.0/16[tcp/22]" },
	  { "10.0.0.0/16[tcp/22]" },
	  false },
	{ "offered protocol and port kept",
	  { "10.0.0.0/24[udp/53]" },
	  { "10.0.0.0/16" },
	  { "10.0.0.0/24[udp/53]" },
	  true },
	{ "protocols differ", { "10.0.0.0/24[udp]" }, { "10.0.0.0/16[tcp]" }, { NULL }, false },
	{ "covered by the union of two configured subnets",
	  { "10.0.0.0/23" },
	  { "10.0.0.0/24", "10.0.1.0/24" },
	  { "10.0.0.0/24", "10.0.1.0/24" },
	  true },
	{ "later wider intersection replaces an earlier one in place",
	  { "10.0.0.0/24", "192.168.0.0/16", "10.0.0.0/8" },
	  { "10.0.0.0/16", "192.168.1.0/24" },
	  { "10.0.0.0/16", "192.168.1.0/24" },
	  true },
	{ "no offer", { NULL }, { "10.0.0.0/16" }, { NULL }, false },
	{ "no configuration", { "10.0.0.0/16" }, { NULL }, { NULL }, false },
};

START_TEST(test_narrow)
{
	const struct narrow_case *c = &narrow_cases[_i];
	struct ts off[LIST_MAX], conf[LIST_MAX], out[LIST_MAX * LIST_MAX];
	size_t n_off = sel_list(c->offered, off), n_conf = sel_list(c->configured, conf);
	size_t want = count_list(c->result), n = 99;
	char buf[TS_STR_MAX];
	bool first = !c->first_covered;

	ck_assert(ts_narrow(off, n_off, conf, n_conf, out, ARRAY_SIZE(out), &n, &first) == TS_OK);
	ck_assert_msg(n == want, "%s: %zu selectors, want %zu", c->name, n, want);
	ck_assert_msg(first == c->first_covered, "%s: first_covered %d", c->name, first);
	for (size_t i = 0; i < n; i++) {
		bool in_offer = false, in_conf = false;

		ck_assert_str_eq(fmt(&out[i], buf), c->result[i]);
		/* RFC 7296 2.9: what we accept lies inside both the offer and our policy. */
		for (size_t j = 0; j < n_off; j++)
			in_offer |= ts_is_subset(&out[i], &off[j]);
		for (size_t j = 0; j < n_conf; j++)
			in_conf |= ts_is_subset(&out[i], &conf[j]);
		ck_assert(in_offer && in_conf);
	}
}
END_TEST

START_TEST(test_narrow_nospace)
{
	struct ts off = sel("0.0.0.0/0"), out[2];
	struct ts conf[3] = { sel("10.0.0.0/16"), sel("10.1.0.0/16"), sel("10.2.0.0/16") };
	size_t n = 0;
	bool first = true;

	ck_assert(ts_narrow(&off, 1, conf, 3, out, 2, &n, &first) == TS_ERR_NOSPACE);
	ck_assert_uint_eq(n, 2);
	ck_assert(!first);
	ck_assert(ts_narrow(&off, 1, conf, 2, out, 2, &n, &first) == TS_OK);
	ck_assert_uint_eq(n, 2);
}
END_TEST

/* --- a peer's pair inside our local x remote (multi_sa_peer) --- */

struct pair_case {
	const char *local;
	const char *remote;
	const char *conf_local[LIST_MAX];
	const char *conf_remote[LIST_MAX];
	bool within;
};

static const struct pair_case pair_cases[] = {
	{ "10.0.0.0/16",
	  "192.168.0.0/24",
	  { "10.0.0.0/16" },
	  { "192.168.0.0/24", "192.168.1.0/24" },
	  true },
	{ "10.0.0.0/16",
	  "192.168.1.0/24",
	  { "10.0.0.0/16" },
	  { "192.168.0.0/24", "192.168.1.0/24" },
	  true },
	{ "10.0.0.0/16",
	  "192.168.0.0/23",
	  { "10.0.0.0/16" },
	  { "192.168.0.0/24", "192.168.1.0/24" },
	  true },
	{ "10.0.0.0/16",
	  "192.168.0.0/22",
	  { "10.0.0.0/16" },
	  { "192.168.0.0/24", "192.168.1.0/24" },
	  false },
	{ "10.0.0.0/8", "192.168.0.0/24", { "10.0.0.0/16" }, { "192.168.0.0/24" }, false },
	{ "192.168.0.0/24", "10.0.0.0/16", { "10.0.0.0/16" }, { "192.168.0.0/24" }, false },
	{ "10.0.0.5/32[tcp/80]", "192.168.0.9", { "10.0.0.0/16" }, { "192.168.0.0/24" }, true },
	{ "10.0.0.0/23",
	  "192.168.0.0/24",
	  { "10.0.0.0/24[tcp]", "10.0.1.0/24" },
	  { "192.168.0.0/24" },
	  false },
	{ "10.0.0.0/23[tcp]",
	  "192.168.0.0/24",
	  { "10.0.0.0/24[tcp]", "10.0.1.0/24" },
	  { "192.168.0.0/24" },
	  true },
	{ "10.0.0.0-10.0.2.255",
	  "192.168.0.0/24",
	  { "10.0.0.0/24", "10.0.2.0/24" },
	  { "192.168.0.0/24" },
	  false },
	{ "10.0.0.0-10.0.2.255",
	  "192.168.0.0/24",
	  { "10.0.2.0/24", "10.0.0.0/24", "10.0.1.0/24" },
	  { "192.168.0.0/24" },
	  true },
	{ "2001:db8::/63",
	  "2001:db8:1::/48",
	  { "2001:db8::/64", "2001:db8:0:1::/64" },
	  { "2001:db8:1::/48" },
	  true },
	{ "2001:db8::/63", "2001:db8:1::/48", { "2001:db8::/64" }, { "2001:db8:1::/48" }, false },
	{ "::/0", "::/0", { "::/1", "8000::/1" }, { "::/0" }, true },
	{ "0.0.0.0/0", "0.0.0.0/0", { "0.0.0.0/0" }, { "::/0" }, false },
	{ "10.0.0.0/16", "192.168.0.0/24", { NULL }, { "192.168.0.0/24" }, false },
};

START_TEST(test_pair_within)
{
	const struct pair_case *c = &pair_cases[_i];
	struct ts l = sel(c->local), r = sel(c->remote), cl[LIST_MAX], cr[LIST_MAX];
	size_t nl = sel_list(c->conf_local, cl), nr = sel_list(c->conf_remote, cr);

	ck_assert_msg(ts_pair_within(&l, &r, cl, nl, cr, nr) == c->within, "%s x %s: want %d",
	              c->local, c->remote, c->within);
}
END_TEST

/* --- packets against a selector pair --- */

struct packet_case {
	const char *src_sel; /* the SA's remote selector */
	const char *dst_sel; /* its local one */
	const char *src;
	const char *dst;
	uint8_t proto;
	uint16_t sport;
	uint16_t dport;
	bool match;
};

static const struct packet_case packet_cases[] = {
	{ "192.168.0.0/24", "10.0.0.0/16", "192.168.0.5", "10.0.3.4", 6, 1234, 80, true },
	{ "192.168.0.0/24", "10.0.0.0/16", "192.168.0.0", "10.0.255.255", 17, 0, 0, true },
	/* The peer NATs before encrypting: the source is its public address (peer_source_nat). */
	{ "192.168.0.0/24", "10.0.0.0/16", "203.0.113.9", "10.0.3.4", 6, 1234, 80, false },
	{ "192.168.0.0/24", "10.0.0.0/16", "192.168.1.0", "10.0.3.4", 6, 1234, 80, false },
	{ "192.168.0.0/24", "10.0.0.0/16", "192.168.0.5", "10.1.0.0", 6, 1234, 80, false },
	{ "192.168.0.0/24", "10.0.0.0/16", "10.0.3.4", "192.168.0.5", 6, 80, 1234, false },
	{ "192.168.0.0/24[tcp]", "10.0.0.0/16", "192.168.0.5", "10.0.3.4", 17, 1234, 53, false },
	{ "192.168.0.0/24[tcp]", "10.0.0.0/16", "192.168.0.5", "10.0.3.4", 6, 1234, 53, true },
	{ "192.168.0.0/24", "10.0.0.0/16[tcp/443]", "192.168.0.5", "10.0.3.4", 6, 1234, 443, true },
	{ "192.168.0.0/24", "10.0.0.0/16[tcp/443]", "192.168.0.5", "10.0.3.4", 6, 1234, 444,
	  false },
	{ "192.168.0.0/24", "10.0.0.0/16[tcp/443]", "192.168.0.5", "10.0.3.4", 6, 1234, 442,
	  false },
	{ "192.168.0.0/24", "10.0.0.0/16[tcp/443]", "192.168.0.5", "10.0.3.4", 17, 1234, 443,
	  false },
	{ "192.168.0.0/24[tcp/1024-65535]", "10.0.0.0/16", "192.168.0.5", "10.0.3.4", 6, 1024, 80,
	  true },
	{ "192.168.0.0/24[tcp/1024-65535]", "10.0.0.0/16", "192.168.0.5", "10.0.3.4", 6, 1023, 80,
	  false },
	{ "192.168.0.0/24[tcp/1024-65535]", "10.0.0.0/16", "192.168.0.5", "10.0.3.4", 6, 65535, 80,
	  true },
	/* ICMP echo request: type 8 code 0 in the ports. */
	{ "192.168.0.0/24", "10.0.0.0/16[icmp/2048]", "192.168.0.5", "10.0.3.4", 1, 0x0800, 0x0800,
	  true },
	{ "192.168.0.0/24", "10.0.0.0/16[icmp/2048]", "192.168.0.5", "10.0.3.4", 1, 0, 0, false },
	/* No ports (GRE): 0 matches "any" ports, not a port range without 0. */
	{ "192.168.0.0/24", "10.0.0.0/16", "192.168.0.5", "10.0.3.4", 47, 0, 0, true },
	{ "192.168.0.0/24", "10.0.0.0/16[any/53]", "192.168.0.5", "10.0.3.4", 47, 0, 0, false },
	{ "192.168.0.0/24", "10.0.0.0/16", "2001:db8::5", "2001:db8:1::4", 6, 1234, 80, false },
	{ "2001:db8::/64", "2001:db8:1::/48", "2001:db8::5", "2001:db8:1::4", 6, 1234, 80, true },
	{ "2001:db8::/64", "2001:db8:1::/48", "2001:db8:0:1::5", "2001:db8:1::4", 6, 1234, 80,
	  false },
	{ "2001:db8::/64", "2001:db8:1::/48", "192.168.0.5", "10.0.3.4", 6, 1234, 80, false },
	{ "0.0.0.0/0", "0.0.0.0/0", "255.255.255.255", "0.0.0.0", 0, 0, 65535, true },
};

START_TEST(test_match_packet)
{
	const struct packet_case *c = &packet_cases[_i];
	struct ts src = sel(c->src_sel), dst = sel(c->dst_sel);
	struct ts_tuple p;
	uint8_t fs, fd;

	p.src = addr(c->src, &fs);
	p.dst = addr(c->dst, &fd);
	ck_assert_uint_eq(fs, fd);
	p.family = fs;
	p.proto = c->proto;
	p.sport = c->sport;
	p.dport = c->dport;
	ck_assert_msg(ts_match_packet(&src, &dst, &p) == c->match,
	              "%s:%u -> %s:%u proto %u against %s -> %s: want %d", c->src, c->sport, c->dst,
	              c->dport, c->proto, c->src_sel, c->dst_sel, c->match);
}
END_TEST

static Suite *ts_suite(void)
{
	Suite *s = suite_create("ts");
	TCase *tc = tcase_create("text");

	tcase_add_loop_test(tc, test_parse_format, 0, ARRAY_SIZE(text_cases));
	tcase_add_test(tc, test_parse_fields);
	tcase_add_loop_test(tc, test_parse_errors, 0, ARRAY_SIZE(err_cases));
	tcase_add_test(tc, test_strerror);
	tcase_add_test(tc, test_format_truncates);
	suite_add_tcase(s, tc);

	tc = tcase_create("bytes");
	tcase_add_loop_test(tc, test_from_netmask, 0, ARRAY_SIZE(mask_cases));
	tcase_add_test(tc, test_netmask_round_trip);
	tcase_add_test(tc, test_from_range);
	tcase_add_test(tc, test_valid);
	suite_add_tcase(s, tc);

	tc = tcase_create("sets");
	tcase_add_loop_test(tc, test_contains_addr, 0, ARRAY_SIZE(contains_cases));
	tcase_add_loop_test(tc, test_subset_intersect, 0, ARRAY_SIZE(set_cases));
	tcase_add_test(tc, test_equal_fields);
	tcase_add_loop_test(tc, test_to_prefixes, 0, ARRAY_SIZE(prefix_cases));
	tcase_add_test(tc, test_to_prefixes_nospace);
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_add_loop_test(tc, test_narrow, 0, ARRAY_SIZE(narrow_cases));
	tcase_add_test(tc, test_narrow_nospace);
	tcase_add_loop_test(tc, test_pair_within, 0, ARRAY_SIZE(pair_cases));
	tcase_add_loop_test(tc, test_match_packet, 0, ARRAY_SIZE(packet_cases));
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(ts_suite)
