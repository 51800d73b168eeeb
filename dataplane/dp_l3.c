/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * L3 helpers of the encrypt path: MSS clamping, ICMP "too big" errors and
 * IPv4 fragmentation. Every header field is read only after the bytes it
 * lies in are known to be inside the first segment and inside the length
 * the IP header declares; lengths are size_t and compared against what is
 * left, never summed past it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <rte_mbuf.h>

#include "compiler.h"
#include "cursor.h"
#include "dp_csum.h"
#include "dp_l3.h"

enum dp_l3_limits {
	L3_IP4_HLEN = 20,
	L3_IP6_HLEN = 40,
	L3_TCP_HLEN = 20,
	L3_ICMP_HLEN = 8,
	L3_PROTO_ICMP = 1,
	L3_PROTO_TCP = 6,
	L3_PROTO_ICMP6 = 58,
	L3_TCP_SYN = 0x02,
	L3_TCPOPT_EOL = 0,
	L3_TCPOPT_NOP = 1,
	L3_TCPOPT_MSS = 2,
	L3_IPOPT_EOL = 0,
	L3_IPOPT_NOP = 1,
	L3_IPOPT_COPIED = 0x80,
	L3_IP4_DF = 0x4000,
	L3_IP4_MF = 0x2000,
	L3_IP4_OFF_MASK = 0x1fff,
	L3_TTL = 64,
	/* Linux quotes at most 576 bytes of IPv4 ICMP error in total. */
	L3_ICMP4_MAX = 576,
	/* RFC 4443 2.4(c): an ICMPv6 error must not exceed the minimum MTU. */
	L3_ICMP6_MAX = 1280,
	/* Extension headers walked before giving up on finding ICMPv6. */
	L3_IP6_EXT_MAX = 8,
	/* ICMPv4 types that are errors (RFC 792/1812); above 18 unknown. */
	L3_ICMP4_INFO_MAX = 18,
};

/*
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). A 16-bit field at an odd offset
 * from the start of the summed data straddles two summed words; its bytes
 * then count swapped, so swap old and new the same way.
 */
static uint16_t l3_cksum_adjust(uint16_t hc, uint16_t old, uint16_t new_val, bool odd)
{
	uint32_t sum;

	if (odd) {
		old = (uint16_t)(old << 8 | old >> 8);
		new_val = (uint16_t)(new_val << 8 | new_val >> 8);
	}
	sum = (uint32_t)(uint16_t)~hc + (uint16_t)~old + new_val;
	return (uint16_t)~dp_csum_fold(sum);
}

/*
 * Finds the TCP segment of an IPv4/IPv6 packet: *l4 and *l4_end are offsets
 * from the IP header. 1 found, 0 not TCP (or a non-first fragment), -1
 * malformed.
 */
static int l3_find_tcp(const uint8_t *p, size_t len, size_t pkt_len, size_t *l4, size_t *l4_end)
{
	size_t hlen, tot;

	if (len < 1)
		return -1;
	switch (p[0] >> 4) {
	case 4:
		if (len < L3_IP4_HLEN)
			return -1;
		hlen = (size_t)(p[0] & 0x0f) * 4;
		tot = get_be16(p + 2);
		if (hlen < L3_IP4_HLEN || hlen > len || tot < hlen || tot > pkt_len)
			return -1;
		if (p[9] != L3_PROTO_TCP || (get_be16(p + 6) & L3_IP4_OFF_MASK) != 0)
			return 0;
		*l4 = hlen;
		*l4_end = tot;
		return 1;
	case 6:
		if (len < L3_IP6_HLEN)
			return -1;
		tot = (size_t)get_be16(p + 4) + L3_IP6_HLEN;
		if (tot > pkt_len)
			return -1;
		if (p[6] != L3_PROTO_TCP)
			return 0;
		*l4 = L3_IP6_HLEN;
		*l4_end = tot;
		return 1;
	default:
		return -1;
	}
}

int dp_mss_clamp(struct rte_mbuf *m, uint16_t mss)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	size_t len = rte_pktmbuf_data_len(m);
	size_t l4, l4_end, doff, i;
	uint8_t *tcp;
	int changed = 0, rc;

	rc = l3_find_tcp(p, len, rte_pktmbuf_pkt_len(m), &l4, &l4_end);
	if (rc <= 0)
		return rc;
	if (l4_end - l4 < L3_TCP_HLEN)
		return -1;
	tcp = p + l4;
	doff = (size_t)(tcp[12] >> 4) * 4;
	if (doff < L3_TCP_HLEN || doff > l4_end - l4)
		return -1;
	/* A header split across segments is left alone rather than rewritten. */
	if (doff > len - l4)
		return 0;
	if (!(tcp[13] & L3_TCP_SYN))
		return 0;

	for (i = L3_TCP_HLEN; i < doff;) {
		size_t olen;
		uint16_t old;

		if (tcp[i] == L3_TCPOPT_EOL)
			break;
		if (tcp[i] == L3_TCPOPT_NOP) {
			i++;
			continue;
		}
		if (doff - i < 2)
			return -1;
		olen = tcp[i + 1];
		if (olen < 2 || olen > doff - i)
			return -1;
		if (tcp[i] == L3_TCPOPT_MSS) {
			if (olen != 4)
				return -1;
			old = get_be16(tcp + i + 2);
			if (old > mss) {
				uint16_t hc = get_be16(tcp + 16);

				put_be16(tcp + i + 2, mss);
				put_be16(tcp + 16, l3_cksum_adjust(hc, old, mss, (i + 2) & 1));
				changed = 1;
			}
		}
		i += olen;
	}
	return changed;
}

/* True if an IPv4 packet with this protocol/payload must not get an ICMP error. */
static bool l3_ip4_icmp_is_error(const uint8_t *l4, size_t left)
{
	uint8_t type;

	if (left < 1)
		return true; /* unreadable: treat as an error, send nothing */
	type = l4[0];
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12 ||
	       type > L3_ICMP4_INFO_MAX;
}

static bool l3_ip4_addr_bad_src(const uint8_t *a)
{
	/* 0/8, 127/8, multicast and reserved 224/3, limited broadcast. */
	return a[0] == 0 || a[0] == 127 || a[0] >= 224;
}

static struct rte_mbuf *l3_too_big_v4(struct rte_mempool *mp, const uint8_t *o, size_t len,
                                      size_t pkt_len, uint16_t mtu, const uint8_t *src)
{
	size_t hlen, tot, quote;
	struct rte_mbuf *r;
	uint8_t *ip, *icmp;

	if (len < L3_IP4_HLEN)
		return NULL;
	hlen = (size_t)(o[0] & 0x0f) * 4;
	tot = get_be16(o + 2);
	if (hlen < L3_IP4_HLEN || hlen > len || tot < hlen || tot > pkt_len)
		return NULL;
	/* RFC 1812 4.3.2.7: only about the first fragment, unicast, and never an error. */
	if ((get_be16(o + 6) & L3_IP4_OFF_MASK) != 0)
		return NULL;
	if (l3_ip4_addr_bad_src(o + 12) || o[16] >= 224)
		return NULL;
	if (o[9] == L3_PROTO_ICMP && l3_ip4_icmp_is_error(o + hlen, MIN(tot, len) - hlen))
		return NULL;

	quote = MIN(MIN(tot, len), (size_t)(L3_ICMP4_MAX - L3_IP4_HLEN - L3_ICMP_HLEN));
	r = rte_pktmbuf_alloc(mp);
	if (r == NULL)
		return NULL;
	ip = (uint8_t *)rte_pktmbuf_append(r, (uint16_t)(L3_IP4_HLEN + L3_ICMP_HLEN + quote));
	if (ip == NULL) {
		rte_pktmbuf_free(r);
		return NULL;
	}
	memset(ip, 0, L3_IP4_HLEN + L3_ICMP_HLEN);
	ip[0] = 0x45;
	ip[1] = 0xc0; /* precedence "internetwork control", as routers send errors */
	put_be16(ip + 2, (uint16_t)(L3_IP4_HLEN + L3_ICMP_HLEN + quote));
	ip[8] = L3_TTL;
	ip[9] = L3_PROTO_ICMP;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, o + 12, 4);
	put_be16(ip + 10, dp_csum_ip4_hdr(ip));

	icmp = ip + L3_IP4_HLEN;
	icmp[0] = 3; /* destination unreachable */
	icmp[1] = 4; /* fragmentation needed and DF set */
	put_be16(icmp + 6, mtu);
	memcpy(icmp + L3_ICMP_HLEN, o, quote);
	put_be16(icmp + 2, (uint16_t)~dp_csum_sum(icmp, L3_ICMP_HLEN + quote));
	r->l3_len = L3_IP4_HLEN;
	r->packet_type = RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_ICMP;
	return r;
}

/*
 * Walks IPv6 extension headers: false if the packet is a non-first fragment,
 * an ICMPv6 error, or its headers run out of the buffer.
 */
static bool l3_ip6_may_answer(const uint8_t *o, size_t len)
{
	size_t off = L3_IP6_HLEN;
	uint8_t nh = o[6];
	unsigned n;

	for (n = 0; n < L3_IP6_EXT_MAX; n++) {
		switch (nh) {
		case 0:  /* hop-by-hop */
		case 43: /* routing */
		case 60: /* destination options */
			if (len - off < 2)
				return false;
			nh = o[off];
			if (((size_t)o[off + 1] + 1) * 8 > len - off)
				return false;
			off += ((size_t)o[off + 1] + 1) * 8;
			break;
		case 44: /* fragment */
			if (len - off < 8)
				return false;
			if ((get_be16(o + off + 2) & 0xfff8) != 0)
				return false;
			nh = o[off];
			off += 8;
			break;
		case L3_PROTO_ICMP6:
			/* RFC 4443 2.4(e): types below 128 are errors. */
			return len - off >= 1 && o[off] >= 128;
		default:
			return true;
		}
	}
	return true;
}

static struct rte_mbuf *l3_too_big_v6(struct rte_mempool *mp, const uint8_t *o, size_t len,
                                      size_t pkt_len, uint16_t mtu, const uint8_t *src)
{
	static const uint8_t unspec[16];
	size_t tot, quote, icmp_len;
	struct rte_mbuf *r;
	uint8_t *ip, *icmp;

	if (len < L3_IP6_HLEN)
		return NULL;
	tot = (size_t)get_be16(o + 4) + L3_IP6_HLEN;
	if (tot > pkt_len)
		return NULL;
	len = MIN(len, tot);
	/* RFC 4443 2.4(e): never to a multicast or unspecified source. */
	if (o[8] == 0xff || memcmp(o + 8, unspec, 16) == 0)
		return NULL;
	if (!l3_ip6_may_answer(o, len))
		return NULL;

	quote = MIN(len, (size_t)(L3_ICMP6_MAX - L3_IP6_HLEN - L3_ICMP_HLEN));
	icmp_len = L3_ICMP_HLEN + quote;
	r = rte_pktmbuf_alloc(mp);
	if (r == NULL)
		return NULL;
	ip = (uint8_t *)rte_pktmbuf_append(r, (uint16_t)(L3_IP6_HLEN + icmp_len));
	if (ip == NULL) {
		rte_pktmbuf_free(r);
		return NULL;
	}
	memset(ip, 0, L3_IP6_HLEN + L3_ICMP_HLEN);
	ip[0] = 0x60;
	put_be16(ip + 4, (uint16_t)icmp_len);
	ip[6] = L3_PROTO_ICMP6;
	ip[7] = L3_TTL;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, o + 8, 16);

	icmp = ip + L3_IP6_HLEN;
	icmp[0] = 2; /* packet too big */
	put_be32(icmp + 4, mtu);
	memcpy(icmp + L3_ICMP_HLEN, o, quote);
	put_be16(icmp + 2, (uint16_t)~dp_csum_ip6_l4(ip, icmp, icmp_len));
	r->l3_len = L3_IP6_HLEN;
	r->packet_type = RTE_PTYPE_L3_IPV6 | RTE_PTYPE_L4_ICMP;
	return r;
}

struct rte_mbuf *dp_icmp_too_big(struct rte_mempool *mp, const struct rte_mbuf *orig, uint16_t mtu,
                                 const uint8_t *src)
{
	const uint8_t *o = rte_pktmbuf_mtod(orig, const uint8_t *);
	size_t len = rte_pktmbuf_data_len(orig);

	if (len < 1)
		return NULL;
	if (o[0] >> 4 == 4)
		return l3_too_big_v4(mp, o, len, rte_pktmbuf_pkt_len(orig), mtu, src);
	if (o[0] >> 4 == 6)
		return l3_too_big_v6(mp, o, len, rte_pktmbuf_pkt_len(orig), mtu, src);
	return NULL;
}

/*
 * The options a non-first fragment carries (RFC 791: those with the copied
 * flag), padded with EOL to a multiple of 4. Returns their length, or -1 if
 * the options are malformed.
 */
static int l3_ip4_copied_opts(const uint8_t *opt, size_t n, uint8_t *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		size_t olen;

		if (opt[i] == L3_IPOPT_EOL)
			break;
		if (opt[i] == L3_IPOPT_NOP) {
			i++;
			continue;
		}
		if (n - i < 2)
			return -1;
		olen = opt[i + 1];
		if (olen < 2 || olen > n - i)
			return -1;
		if (opt[i] & L3_IPOPT_COPIED) {
			memcpy(out + o, opt + i, olen);
			o += olen;
		}
		i += olen;
	}
	while (o & 3)
		out[o++] = L3_IPOPT_EOL;
	return (int)o;
}

/*
 * IP options: the first fragment keeps all of them; later fragments carry
 * only the copy-flagged ones (RFC 791), so their header may be shorter.
 */
int dp_frag_ipv4(const struct rte_mbuf *m, uint16_t mtu, struct rte_mempool *mp,
                 struct rte_mbuf **out, unsigned max)
{
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	size_t len = rte_pktmbuf_data_len(m);
	uint8_t opts[40];
	size_t hlen, hlen_n, tot, payload, first, rest, pos, orig_off;
	uint16_t frag;
	bool orig_mf;
	unsigned n, i;
	int olen;

	if (len < L3_IP4_HLEN || ip[0] >> 4 != 4)
		return -1;
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	tot = get_be16(ip + 2);
	if (hlen < L3_IP4_HLEN || hlen > len || tot < hlen || tot > rte_pktmbuf_pkt_len(m))
		return -1;
	frag = get_be16(ip + 6);
	if (frag & L3_IP4_DF)
		return -1;
	orig_off = (size_t)(frag & L3_IP4_OFF_MASK) * 8;
	orig_mf = (frag & L3_IP4_MF) != 0;
	olen = l3_ip4_copied_opts(ip + L3_IP4_HLEN, hlen - L3_IP4_HLEN, opts);
	if (olen < 0)
		return -1;
	hlen_n = L3_IP4_HLEN + (size_t)olen;
	payload = tot - hlen;

	if (tot <= mtu) {
		first = payload;
		rest = 8; /* unused */
		n = 1;
	} else {
		if (mtu < hlen + 8)
			return -1;
		first = (mtu - hlen) & ~(size_t)7;
		rest = (mtu - hlen_n) & ~(size_t)7;
		n = 1 + (unsigned)((payload - first + rest - 1) / rest);
	}
	if (n > max)
		return -1;
	/* The last fragment's offset must still fit the 13-bit field. */
	if (n > 1 && (orig_off + first + (size_t)(n - 2) * rest) / 8 > L3_IP4_OFF_MASK)
		return -1;
	if (rte_pktmbuf_alloc_bulk(mp, out, n) != 0)
		return -1;

	for (i = 0, pos = 0; i < n; i++) {
		size_t h = i == 0 ? hlen : hlen_n;
		size_t chunk = MIN(i == 0 ? first : rest, payload - pos);
		const void *src;
		uint16_t f;
		uint8_t *d;

		d = (uint8_t *)rte_pktmbuf_append(out[i], (uint16_t)(h + chunk));
		if (d == NULL)
			goto fail;
		if (i == 0) {
			memcpy(d, ip, hlen);
		} else {
			memcpy(d, ip, L3_IP4_HLEN);
			memcpy(d + L3_IP4_HLEN, opts, (size_t)olen);
			d[0] = (uint8_t)(0x40 | hlen_n / 4);
		}
		src = rte_pktmbuf_read(m, (uint32_t)(hlen + pos), (uint32_t)chunk, d + h);
		if (src == NULL)
			goto fail;
		if (src != d + h)
			memcpy(d + h, src, chunk);
		put_be16(d + 2, (uint16_t)(h + chunk));
		f = (uint16_t)((orig_off + pos) / 8);
		if (i + 1 < n || orig_mf)
			f |= L3_IP4_MF;
		put_be16(d + 6, f);
		put_be16(d + 10, 0);
		put_be16(d + 10, dp_csum_ip4_hdr(d));
		out[i]->l3_len = (uint16_t)h;
		out[i]->packet_type = m->packet_type;
		out[i]->port = m->port;
		pos += chunk;
	}
	return (int)n;

fail:
	for (i = 0; i < n; i++)
		rte_pktmbuf_free(out[i]);
	return -1;
}
