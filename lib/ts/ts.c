/* SPDX-License-Identifier: BSD-3-Clause */
/* Traffic selectors: construction, text, set operations, narrowing. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"
#include "ts.h"

static const char *const ts_err_texts[TS_ERR_COUNT] = { [TS_OK] = "ok",
#define TS_ERR_TEXT(name, str) [TS_ERR_##name] = str,
	                                                TS_ERRORS(TS_ERR_TEXT)
#undef TS_ERR_TEXT
};

const char *ts_strerror(enum ts_err err)
{
	if ((unsigned)err >= TS_ERR_COUNT)
		return "unknown error";
	return ts_err_texts[err];
}

unsigned ts_family_bits(uint8_t family)
{
	switch (family) {
	case TS_IPV4:
		return 32;
	case TS_IPV6:
		return 128;
	default:
		return 0;
	}
}

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void store_be64(uint64_t v, uint8_t *p)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

struct ts_addr ts_addr_load(uint8_t family, const uint8_t *bytes)
{
	struct ts_addr a = { 0, 0 };

	if (family == TS_IPV4) {
		a.lo = (uint64_t)bytes[0] << 24 | (uint64_t)bytes[1] << 16 |
		       (uint64_t)bytes[2] << 8 | bytes[3];
	} else {
		a.hi = load_be64(bytes);
		a.lo = load_be64(bytes + 8);
	}
	return a;
}

void ts_addr_store(uint8_t family, struct ts_addr a, uint8_t *bytes)
{
	if (family == TS_IPV4) {
		bytes[0] = (uint8_t)(a.lo >> 24);
		bytes[1] = (uint8_t)(a.lo >> 16);
		bytes[2] = (uint8_t)(a.lo >> 8);
		bytes[3] = (uint8_t)a.lo;
	} else {
		store_be64(a.hi, bytes);
		store_be64(a.lo, bytes + 8);
	}
}

/* The low k bits set, k in 0..128. */
static struct ts_addr low_mask(unsigned k)
{
	struct ts_addr m;

	if (k >= 128) {
		m.hi = UINT64_MAX;
		m.lo = UINT64_MAX;
	} else if (k >= 64) {
		m.hi = (UINT64_C(1) << (k - 64)) - 1;
		m.lo = UINT64_MAX;
	} else {
		m.hi = 0;
		m.lo = (UINT64_C(1) << k) - 1;
	}
	return m;
}

static struct ts_addr addr_or(struct ts_addr a, struct ts_addr b)
{
	return (struct ts_addr){ a.hi | b.hi, a.lo | b.lo };
}

static struct ts_addr addr_and(struct ts_addr a, struct ts_addr b)
{
	return (struct ts_addr){ a.hi & b.hi, a.lo & b.lo };
}

static struct ts_addr addr_and_not(struct ts_addr a, struct ts_addr b)
{
	return (struct ts_addr){ a.hi & ~b.hi, a.lo & ~b.lo };
}

static bool addr_is_zero(struct ts_addr a)
{
	return (a.hi | a.lo) == 0;
}

/* a + 1; callers never pass the all-ones address. */
static struct ts_addr addr_inc(struct ts_addr a)
{
	a.lo++;
	if (a.lo == 0)
		a.hi++;
	return a;
}

/* Trailing zero bits: the largest block a range starting here can align to. */
static unsigned addr_ctz(struct ts_addr a)
{
	if (a.lo)
		return (unsigned)__builtin_ctzll(a.lo);
	if (a.hi)
		return 64 + (unsigned)__builtin_ctzll(a.hi);
	return 128;
}

static struct ts_addr addr_max(struct ts_addr a, struct ts_addr b)
{
	return ts_addr_cmp(a, b) >= 0 ? a : b;
}

static struct ts_addr addr_min(struct ts_addr a, struct ts_addr b)
{
	return ts_addr_cmp(a, b) <= 0 ? a : b;
}

bool ts_valid(const struct ts *t)
{
	unsigned bits = ts_family_bits(t->family);

	if (bits == 0 || ts_addr_cmp(t->start, t->end) > 0 || t->port_start > t->port_end)
		return false;
	/* An IPv4 selector must not reach above 2^32: t->end bounds both ends. */
	return bits == 128 || (t->end.hi == 0 && t->end.lo <= UINT32_MAX);
}

void ts_any(struct ts *out, uint8_t family)
{
	memset(out, 0, sizeof(*out));
	out->family = family;
	out->end = low_mask(ts_family_bits(family));
	out->port_end = TS_PORT_ANY_END;
}

/* A prefix on ts_addr values; the range is start | host bits. */
static enum ts_err set_prefix(struct ts *out, uint8_t family, struct ts_addr a, unsigned len,
                              unsigned flags)
{
	unsigned bits = ts_family_bits(family);
	struct ts_addr host;

	if (bits == 0)
		return TS_ERR_FAMILY;
	if (len > bits)
		return TS_ERR_PREFIX_LEN;
	host = low_mask(bits - len);
	if ((a.hi & host.hi) | (a.lo & host.lo)) {
		if (!(flags & TS_ALLOW_HOST_BITS))
			return TS_ERR_HOST_BITS;
		a = addr_and_not(a, host);
	}
	ts_any(out, family);
	out->start = a;
	out->end = addr_or(a, host);
	return TS_OK;
}

enum ts_err ts_from_prefix(struct ts *out, uint8_t family, const uint8_t *addr, unsigned len,
                           unsigned flags)
{
	if (ts_family_bits(family) == 0)
		return TS_ERR_FAMILY;
	return set_prefix(out, family, ts_addr_load(family, addr), len, flags);
}

enum ts_err ts_from_netmask(struct ts *out, uint8_t family, const uint8_t *addr,
                            const uint8_t *mask, unsigned flags)
{
	unsigned bits = ts_family_bits(family);
	struct ts_addr host;
	unsigned k;

	if (bits == 0)
		return TS_ERR_FAMILY;
	/* A netmask is ones then zeroes: its host part must be low_mask(host bits). */
	host = addr_and_not(low_mask(bits), ts_addr_load(family, mask));
	k = (unsigned)(__builtin_popcountll(host.hi) + __builtin_popcountll(host.lo));
	if (ts_addr_cmp(host, low_mask(k)) != 0)
		return TS_ERR_MASK;
	return set_prefix(out, family, ts_addr_load(family, addr), bits - k, flags);
}

enum ts_err ts_from_range(struct ts *out, uint8_t family, const uint8_t *start, const uint8_t *end)
{
	struct ts_addr s, e;

	if (ts_family_bits(family) == 0)
		return TS_ERR_FAMILY;
	s = ts_addr_load(family, start);
	e = ts_addr_load(family, end);
	if (ts_addr_cmp(s, e) > 0)
		return TS_ERR_RANGE;
	ts_any(out, family);
	out->start = s;
	out->end = e;
	return TS_OK;
}

int ts_prefix_len(const struct ts *t)
{
	unsigned bits = ts_family_bits(t->family);
	struct ts_addr x = { t->start.hi ^ t->end.hi, t->start.lo ^ t->end.lo };
	unsigned k = (unsigned)(__builtin_popcountll(x.hi) + __builtin_popcountll(x.lo));

	/* A prefix's first and last address differ in its k host bits, zero at the start. */
	if (bits == 0 || k > bits || ts_addr_cmp(x, low_mask(k)) != 0 ||
	    !addr_is_zero(addr_and(t->start, x)))
		return -1;
	return (int)(bits - k);
}

void ts_netmask(uint8_t family, unsigned len, uint8_t *mask)
{
	unsigned bits = ts_family_bits(family);
	struct ts_addr all = low_mask(bits);

	if (bits == 0)
		return;
	len = MIN(len, bits);
	ts_addr_store(family, addr_and_not(all, low_mask(bits - len)), mask);
}

/* --- text --- */

struct proto_name {
	uint8_t proto;
	const char *name;
};

static const struct proto_name proto_names[] = {
	{ 0, "any" },
	{ TS_PROTO_ICMP, "icmp" },
	{ TS_PROTO_TCP, "tcp" },
	{ TS_PROTO_UDP, "udp" },
	{ TS_PROTO_ICMPV6, "icmpv6" },
	{ TS_PROTO_SCTP, "sctp" },
};

/* A decimal number of 1..5 digits, no sign, no spaces; false if not, or above max. */
static bool parse_uint(const char *s, size_t n, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_proto(const char *s, size_t n, uint8_t *proto)
{
	unsigned v;

	for (size_t i = 0; i < ARRAY_SIZE(proto_names); i++) {
		if (strlen(proto_names[i].name) == n && memcmp(s, proto_names[i].name, n) == 0) {
			*proto = proto_names[i].proto;
			return true;
		}
	}
	if (!parse_uint(s, n, 255, &v))
		return false;
	*proto = (uint8_t)v;
	return true;
}

/* "PROTO", "PROTO/PORT" or "PROTO/LOW-HIGH", s[0..n) being what is inside the brackets. */
static enum ts_err parse_proto_ports(const char *s, size_t n, struct ts *t)
{
	const char *slash = memchr(s, '/', n);
	size_t plen = slash ? (size_t)(slash - s) : n;
	unsigned lo = 0, hi = TS_PORT_ANY_END;

	if (!parse_proto(s, plen, &t->proto))
		return TS_ERR_PROTO;
	if (slash) {
		const char *p = slash + 1;
		size_t left = n - plen - 1;
		const char *dash = memchr(p, '-', left);

		if (dash) {
			size_t llen = (size_t)(dash - p);

			if (!parse_uint(p, llen, 65535, &lo) ||
			    !parse_uint(dash + 1, left - llen - 1, 65535, &hi) || lo > hi)
				return TS_ERR_PORT;
		} else {
			if (!parse_uint(p, left, 65535, &lo))
				return TS_ERR_PORT;
			hi = lo;
		}
	}
	t->port_start = (uint16_t)lo;
	t->port_end = (uint16_t)hi;
	return TS_OK;
}

/* One address from s[0..n); the family follows from a ':' in the text. */
static enum ts_err parse_addr(const char *s, size_t n, uint8_t *family, struct ts_addr *a)
{
	char buf[64];
	uint8_t bytes[16];
	bool v6 = memchr(s, ':', n) != NULL;

	if (n == 0)
		return TS_ERR_EMPTY;
	if (n >= sizeof(buf))
		return TS_ERR_ADDR;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, bytes) != 1)
		return TS_ERR_ADDR;
	*family = v6 ? TS_IPV6 : TS_IPV4;
	*a = ts_addr_load(*family, bytes);
	return TS_OK;
}

/* The address part: "A", "A/LEN" or "A-B", s[0..n). */
static enum ts_err parse_range(const char *s, size_t n, unsigned flags, struct ts *t)
{
	const char *slash = memchr(s, '/', n);
	const char *dash = memchr(s, '-', n);
	struct ts_addr a, b;
	uint8_t fa, fb;
	enum ts_err err;
	unsigned len;

	/* A '-' after the '/' is a bad prefix length; one before it, a bad range. */
	if (slash && dash) {
		if (dash < slash)
			return TS_ERR_ADDR;
		dash = NULL;
	}
	if (dash) {
		size_t alen = (size_t)(dash - s);

		err = parse_addr(s, alen, &fa, &a);
		if (err == TS_OK)
			err = parse_addr(dash + 1, n - alen - 1, &fb, &b);
		if (err != TS_OK)
			return err == TS_ERR_EMPTY ? TS_ERR_ADDR : err;
		if (fa != fb)
			return TS_ERR_FAMILY;
		if (ts_addr_cmp(a, b) > 0)
			return TS_ERR_RANGE;
		ts_any(t, fa);
		t->start = a;
		t->end = b;
		return TS_OK;
	}
	err = parse_addr(s, slash ? (size_t)(slash - s) : n, &fa, &a);
	if (err != TS_OK)
		return err == TS_ERR_EMPTY && slash ? TS_ERR_ADDR : err;
	len = ts_family_bits(fa);
	if (slash && !parse_uint(slash + 1, n - (size_t)(slash + 1 - s), 255, &len))
		return TS_ERR_PREFIX_LEN;
	return set_prefix(t, fa, a, len, flags);
}

enum ts_err ts_parse(const char *s, unsigned flags, struct ts *out)
{
	struct ts t;
	const char *br;
	size_t n;
	enum ts_err err;

	if (s == NULL || *s == '\0')
		return TS_ERR_EMPTY;
	n = strlen(s);
	br = memchr(s, '[', n);
	err = parse_range(s, br ? (size_t)(br - s) : n, flags, &t);
	if (err != TS_OK)
		return err;
	if (br) {
		size_t inner = n - (size_t)(br - s) - 1;

		if (inner == 0 || br[inner] != ']')
			return TS_ERR_PROTO;
		err = parse_proto_ports(br + 1, inner - 1, &t);
		if (err != TS_OK)
			return err;
	}
	*out = t;
	return TS_OK;
}

/* Appends to buf like snprintf, tracking the full length even when truncated. */
__attribute__((format(printf, 4, 5))) static void appendf(char *buf, size_t len, size_t *pos,
                                                          const char *fmt, ...)
{
	size_t room = *pos < len ? len - *pos : 0;
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(room ? buf + *pos : NULL, room, fmt, ap);
	va_end(ap);
	if (w > 0)
		*pos += (size_t)w;
}

size_t ts_format(const struct ts *t, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	uint8_t bytes[16];
	int af = t->family == TS_IPV6 ? AF_INET6 : AF_INET;
	int plen = ts_prefix_len(t);
	const char *pname = NULL;
	size_t pos = 0;

	if (len > 0)
		buf[0] = '\0';
	ts_addr_store(t->family, t->start, bytes);
	inet_ntop(af, bytes, a, sizeof(a));
	ts_addr_store(t->family, t->end, bytes);
	inet_ntop(af, bytes, b, sizeof(b));
	if (plen >= 0)
		appendf(buf, len, &pos, "%s/%d", a, plen);
	else
		appendf(buf, len, &pos, "%s-%s", a, b);
	if (t->proto == 0 && t->port_start == 0 && t->port_end == TS_PORT_ANY_END)
		return pos;

	for (size_t i = 0; i < ARRAY_SIZE(proto_names); i++)
		if (proto_names[i].proto == t->proto)
			pname = proto_names[i].name;
	if (pname)
		appendf(buf, len, &pos, "[%s", pname);
	else
		appendf(buf, len, &pos, "[%u", t->proto);
	if (t->port_start == t->port_end)
		appendf(buf, len, &pos, "/%u", t->port_start);
	else if (t->port_start != 0 || t->port_end != TS_PORT_ANY_END)
		appendf(buf, len, &pos, "/%u-%u", t->port_start, t->port_end);
	appendf(buf, len, &pos, "]");
	return pos;
}

/* --- set operations --- */

bool ts_equal(const struct ts *a, const struct ts *b)
{
	return a->family == b->family && a->proto == b->proto &&
	       ts_addr_cmp(a->start, b->start) == 0 && ts_addr_cmp(a->end, b->end) == 0 &&
	       a->port_start == b->port_start && a->port_end == b->port_end;
}

/* a's protocol and ports inside b's. */
static bool proto_ports_within(const struct ts *a, const struct ts *b)
{
	return (b->proto == 0 || b->proto == a->proto) && b->port_start <= a->port_start &&
	       a->port_end <= b->port_end;
}

bool ts_is_subset(const struct ts *a, const struct ts *b)
{
	return a->family == b->family && ts_addr_cmp(b->start, a->start) <= 0 &&
	       ts_addr_cmp(a->end, b->end) <= 0 && proto_ports_within(a, b);
}

bool ts_intersect(const struct ts *a, const struct ts *b, struct ts *out)
{
	struct ts r;

	if (a->family != b->family)
		return false;
	if (a->proto != 0 && b->proto != 0 && a->proto != b->proto)
		return false;
	r.family = a->family;
	r.proto = a->proto ? a->proto : b->proto;
	r.start = addr_max(a->start, b->start);
	r.end = addr_min(a->end, b->end);
	r.port_start = MAX(a->port_start, b->port_start);
	r.port_end = MIN(a->port_end, b->port_end);
	if (ts_addr_cmp(r.start, r.end) > 0 || r.port_start > r.port_end)
		return false;
	*out = r;
	return true;
}

enum ts_err ts_to_prefixes(const struct ts *t, struct ts *out, size_t cap, size_t *n)
{
	unsigned bits = ts_family_bits(t->family);
	struct ts_addr cur = t->start;
	size_t count = 0;

	for (;;) {
		/* The largest aligned block at cur that ends at or before t->end. */
		unsigned k = MIN(addr_ctz(cur), bits);
		struct ts_addr last;

		while (k > 0 && ts_addr_cmp(addr_or(cur, low_mask(k)), t->end) > 0)
			k--;
		last = addr_or(cur, low_mask(k));
		if (count < cap) {
			out[count] = *t;
			out[count].start = cur;
			out[count].end = last;
		}
		count++;
		if (ts_addr_cmp(last, t->end) >= 0)
			break;
		cur = addr_inc(last);
	}
	*n = count;
	return count > cap ? TS_ERR_NOSPACE : TS_OK;
}

bool ts_covered(const struct ts *t, const struct ts *set, size_t n)
{
	struct ts_addr cur = t->start;

	/*
	 * Walk t's range from its start: each step jumps to the furthest end
	 * among the eligible entries that hold cur. Quadratic, for the short
	 * lists of one connection.
	 */
	for (;;) {
		bool found = false;
		struct ts_addr reach = cur;

		for (size_t i = 0; i < n; i++) {
			const struct ts *s = &set[i];

			if (s->family != t->family || !proto_ports_within(t, s) ||
			    !ts_contains_addr(s, t->family, &cur))
				continue;
			if (!found || ts_addr_cmp(s->end, reach) > 0)
				reach = s->end;
			found = true;
		}
		if (!found)
			return false;
		if (ts_addr_cmp(reach, t->end) >= 0)
			return true;
		cur = addr_inc(reach);
	}
}

/*
 * Adds x to out[0..*n) unless an entry already holds it; entries x holds
 * are dropped, x taking the first one's place so the order stays stable.
 */
static enum ts_err add_minimal(struct ts *out, size_t cap, size_t *n, const struct ts *x)
{
	size_t w = 0;
	bool placed = false;

	for (size_t i = 0; i < *n; i++)
		if (ts_is_subset(x, &out[i]))
			return TS_OK;
	for (size_t i = 0; i < *n; i++) {
		if (ts_is_subset(&out[i], x)) {
			if (!placed)
				out[w++] = *x;
			placed = true;
			continue;
		}
		out[w++] = out[i];
	}
	if (!placed) {
		if (w >= cap)
			return TS_ERR_NOSPACE;
		out[w++] = *x;
	}
	*n = w;
	return TS_OK;
}

enum ts_err ts_narrow(const struct ts *offered, size_t n_offered, const struct ts *configured,
                      size_t n_configured, struct ts *out, size_t cap, size_t *n_out,
                      bool *first_covered)
{
	enum ts_err err = TS_OK;

	*n_out = 0;
	*first_covered = n_offered > 0 && ts_covered(&offered[0], configured, n_configured);
	for (size_t i = 0; i < n_offered; i++) {
		for (size_t j = 0; j < n_configured; j++) {
			struct ts x;

			if (!ts_intersect(&offered[i], &configured[j], &x))
				continue;
			if (add_minimal(out, cap, n_out, &x) != TS_OK)
				err = TS_ERR_NOSPACE;
		}
	}
	return err;
}

bool ts_pair_within(const struct ts *local, const struct ts *remote, const struct ts *conf_local,
                    size_t n_local, const struct ts *conf_remote, size_t n_remote)
{
	return ts_covered(local, conf_local, n_local) && ts_covered(remote, conf_remote, n_remote);
}
