/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scalar parsers of the config resolver. Strict on purpose: no signs, no
 * spaces, no octal, no "yes"/"on"; an operator's typo must be an error,
 * not a different value.
 */
#include "config_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

static bool fail(char *why, size_t cap, const char *msg)
{
	snprintf(why, cap, "%s", msg);
	return false;
}

bool config_parse_addr(const char *s, struct config_addr *a, char *why, size_t cap)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->u.v4) == 1) {
		a->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, &a->u.v6) == 1) {
		a->family = AF_INET6;
		return true;
	}
	snprintf(why, cap, "\"%.80s\" is not an IPv4 or IPv6 address", s);
	return false;
}

void config_addr_str(const struct config_addr *a, char *buf, size_t cap)
{
	char tmp[INET6_ADDRSTRLEN];

	if (inet_ntop(a->family, a->u.bytes, tmp, sizeof(tmp)) == NULL)
		snprintf(tmp, sizeof(tmp), "?");
	snprintf(buf, cap, "%s", tmp);
}

/* Decimal digits only, no sign, no leading zeros beyond "0"; ok if it fits 64 bits. */
static bool parse_dec(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return false;
	for (; *s; s++) {
		uint64_t d = (uint64_t)(*s - '0');

		if (*s < '0' || *s > '9' || x > UINT64_MAX / 10 ||
		    (x == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

bool config_parse_prefix(const char *s, bool net, struct config_prefix *p, char *why, size_t cap)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : 0;
	uint64_t len;
	unsigned max;

	memset(p, 0, sizeof(*p));
	if (slash == NULL || alen == 0 || alen >= sizeof(addr)) {
		snprintf(why, cap, "\"%.80s\" is not a prefix (address/length, e.g. 10.0.0.0/16)",
		         s);
		return false;
	}
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (!config_parse_addr(addr, &p->addr, why, cap))
		return false;
	max = p->addr.family == AF_INET ? 32 : 128;
	if (!parse_dec(slash + 1, &len) || len > max) {
		snprintf(why, cap, "\"%.80s\": prefix length \"%.8s\" out of range; allowed: 0..%u",
		         s, slash + 1, max);
		return false;
	}
	p->len = (uint8_t)len;
	if (!net)
		return true;
	/* A subnet with host bits set is almost always a typo'd address. */
	unsigned alen_bytes = max / 8;
	bool host_bits = false;
	struct config_prefix fixed = *p;

	for (unsigned i = 0; i < alen_bytes; i++) {
		unsigned bit0 = i * 8;
		uint8_t mask = bit0 >= len       ? 0
		               : bit0 + 8 <= len ? 0xff
		                                 : (uint8_t)(0xff << (8 - (len - bit0)));

		host_bits |= (p->addr.u.bytes[i] & (uint8_t)~mask) != 0;
		fixed.addr.u.bytes[i] &= mask;
	}
	if (host_bits) {
		char net_str[INET6_ADDRSTRLEN];

		config_addr_str(&fixed.addr, net_str, sizeof(net_str));
		snprintf(why, cap, "\"%.80s\" has host bits set; did you mean %s/%u?", s, net_str,
		         p->len);
		return false;
	}
	return true;
}

bool config_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *v, char *why, size_t cap)
{
	uint64_t x;

	if (!parse_dec(s, &x) || x < min || x > max) {
		snprintf(why, cap, "\"%.40s\" is not allowed; allowed: %u..%u", s, min, max);
		return false;
	}
	*v = (uint32_t)x;
	return true;
}

bool config_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *v, char *why, size_t cap)
{
	uint64_t x;

	if (!parse_dec(s, &x) || x < min || x > max) {
		snprintf(why, cap, "\"%.40s\" is not allowed; allowed: %llu..%llu", s,
		         (unsigned long long)min, (unsigned long long)max);
		return false;
	}
	*v = x;
	return true;
}

bool config_parse_bool(const char *s, bool *v, char *why, size_t cap)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
		*v = s[0] == 't';
		return true;
	}
	snprintf(why, cap, "\"%.40s\" is not allowed; allowed: true, false", s);
	return false;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool config_parse_spi(const char *s, uint32_t *v, char *why, size_t cap)
{
	uint64_t x = 0;
	bool ok;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		const char *h = s + 2;

		ok = *h != '\0' && strlen(h) <= 8;
		for (; ok && *h; h++) {
			int d = hex_digit(*h);

			ok = d >= 0;
			x = x << 4 | (uint64_t)(d & 0xf);
		}
	} else {
		ok = parse_dec(s, &x);
	}
	if (!ok || x > UINT32_MAX) {
		snprintf(why, cap, "\"%.40s\" is not an SPI (0x hex or decimal, below 2^32)", s);
		return false;
	}
	if (x < 256) {
		snprintf(why, cap,
		         "%s is reserved (RFC 4303: 0 and 1..255); allowed: 256..4294967295", s);
		return false;
	}
	*v = (uint32_t)x;
	return true;
}

bool config_parse_hex(const char *s, uint8_t *out, size_t cap_out, size_t *len, char *why,
                      size_t cap)
{
	size_t n;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	n = strlen(s);
	if (n % 2 != 0)
		return fail(why, cap, "odd number of hex digits");
	if (n / 2 > cap_out) {
		snprintf(why, cap, "%zu bytes; at most %zu", n / 2, cap_out);
		return false;
	}
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return fail(why, cap, "not hex (digits 0-9, a-f, optional 0x)");
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return true;
}

bool config_parse_mac(const char *s, uint8_t mac[6], char *why, size_t cap)
{
	for (unsigned i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		int hi = hex_digit(p[0]), lo = hi < 0 ? -1 : hex_digit(p[1]);

		if (hi < 0 || lo < 0 || p[2] != (i == 5 ? '\0' : ':')) {
			snprintf(why, cap, "\"%.40s\" is not a MAC address (aa:bb:cc:dd:ee:ff)", s);
			return false;
		}
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

bool config_parse_name(const char *s, char *out, char *why, size_t cap)
{
	size_t n = strlen(s);

	if (n == 0)
		return fail(why, cap, "empty name");
	if (n >= CONFIG_NAME_MAX) {
		snprintf(why, cap, "name longer than %d characters", CONFIG_NAME_MAX - 1);
		return false;
	}
	if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n) {
		snprintf(why, cap, "\"%.80s\": a name is letters, digits, '.', '_' and '-'", s);
		return false;
	}
	memcpy(out, s, n + 1);
	return true;
}

bool config_parse_endpoint(const char *s, struct config_addr *a, uint16_t *port, char *why,
                           size_t cap)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *h = s;
	size_t hlen;
	uint32_t p;

	/* IPv6 in brackets ([::1]:9469), else the last colon splits. */
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || end[1] != ':')
			goto bad;
		h = s + 1;
		hlen = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
			goto bad;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (!config_parse_addr(host, a, why, cap))
		goto bad;
	if (s[0] == '[' && a->family != AF_INET6)
		goto bad;
	if (!config_parse_u32(colon + 1, 1, 65535, &p, why, cap))
		goto bad;
	*port = (uint16_t)p;
	return true;
bad:
	snprintf(why, cap, "\"%.80s\" is not ADDRESS:PORT (127.0.0.1:9469, [::1]:9469)", s);
	return false;
}
