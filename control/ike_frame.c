/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "cursor.h"
#include "ike_frame.h"

enum {
	ETHERTYPE_IPV4 = 0x0800,
	ETHERTYPE_IPV6 = 0x86dd,
	IPPROTO_UDP_ = 17,
	IP4_MAX_LEN = 65535,
};

static const char *const frame_err_names[] = {
#define IKE_FRAME_ERR_NAME(id, name) name,
	IKE_FRAME_ERRS(IKE_FRAME_ERR_NAME)
#undef IKE_FRAME_ERR_NAME
};

const char *ike_frame_err_name(enum ike_frame_err e)
{
	return (unsigned)e < IKE_FRAME_ERR_COUNT ? frame_err_names[e] : "?";
}

/* One's complement sum of len bytes (odd tail padded with zero), not folded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	/* Fold now and then so that a 64 KiB segment never overflows 32 bits. */
	return (sum & 0xffff) + (sum >> 16);
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Pseudo header (RFC 768 / RFC 8200 8.1) plus the segment as it is, folded, not inverted. */
static uint16_t udp_sum(uint8_t family, const uint8_t *src, const uint8_t *dst, const uint8_t *udp,
                        size_t udp_len)
{
	size_t alen = family == TS_IPV6 ? 16 : 4;
	uint8_t tail[8] = { 0 };
	uint32_t sum = 0;

	put_be32(tail, (uint32_t)udp_len);
	tail[7] = IPPROTO_UDP_;
	sum = csum_add(sum, src, alen);
	sum = csum_add(sum, dst, alen);
	sum = csum_add(sum, tail, sizeof(tail));
	sum = csum_add(sum, udp, udp_len);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t ike_frame_udp_csum(uint8_t family, const uint8_t *src, const uint8_t *dst,
                            const uint8_t *udp, size_t udp_len)
{
	uint16_t c = (uint16_t)~udp_sum(family, src, dst, udp, udp_len);

	/* A computed 0 is sent as 0xffff (0 means "no checksum" on IPv4). */
	return c == 0 ? 0xffff : c;
}

/* UDP header and payload of a datagram whose IP payload is ip (len bytes). */
static enum ike_frame_err parse_udp(struct cursor *ip, uint8_t family, const uint8_t *src,
                                    const uint8_t *dst, struct ike_frame_rx *out)
{
	const uint8_t *udp = ip->p;
	size_t total = cursor_left(ip);
	uint16_t ulen, sum;

	out->remote.port = cursor_be16(ip);
	out->local.port = cursor_be16(ip);
	ulen = cursor_be16(ip);
	sum = cursor_be16(ip);
	if (!cursor_ok(ip))
		return IKE_FRAME_SHORT;
	if (ulen < IKE_FRAME_UDP_LEN || ulen > total)
		return IKE_FRAME_BAD_UDP;
	if (sum == 0) {
		/* No checksum: allowed on IPv4 only (RFC 768 / RFC 8200 8.1). */
		if (family == TS_IPV6)
			return IKE_FRAME_BAD_CHECKSUM;
	} else if (udp_sum(family, src, dst, udp, ulen) != 0xffff) {
		/* A sound segment sums, its checksum included, to all ones. */
		return IKE_FRAME_BAD_CHECKSUM;
	}
	out->payload = cursor_take(ip, ulen - IKE_FRAME_UDP_LEN);
	out->payload_len = ulen - IKE_FRAME_UDP_LEN;
	return out->payload != NULL || out->payload_len == 0 ? IKE_FRAME_OK : IKE_FRAME_SHORT;
}

static enum ike_frame_err parse_ip4(struct cursor *c, struct ike_frame_rx *out)
{
	const uint8_t *h = cursor_take(c, IKE_FRAME_IP4_LEN);
	unsigned ihl;
	uint16_t tot, frag;
	struct cursor ip;

	if (h == NULL)
		return IKE_FRAME_SHORT;
	ihl = (unsigned)(h[0] & 0xf) * 4;
	tot = get_be16(h + 2);
	frag = get_be16(h + 6);
	if ((h[0] >> 4) != 4 || ihl < IKE_FRAME_IP4_LEN || tot < ihl)
		return IKE_FRAME_BAD_IP;
	/* Options: skip them; the total length must lie within the frame. */
	if (!cursor_skip(c, ihl - IKE_FRAME_IP4_LEN) || cursor_left(c) < (size_t)tot - ihl)
		return IKE_FRAME_SHORT;
	if ((frag & 0x3fff) != 0) /* MF set or an offset */
		return IKE_FRAME_FRAGMENT;
	if (h[9] != IPPROTO_UDP_)
		return IKE_FRAME_NOT_UDP;
	out->local.family = out->remote.family = TS_IPV4;
	memcpy(out->remote.addr, h + 12, 4);
	memcpy(out->local.addr, h + 16, 4);
	ip = cursor_sub(c, (size_t)tot - ihl);
	return parse_udp(&ip, TS_IPV4, h + 12, h + 16, out);
}

static enum ike_frame_err parse_ip6(struct cursor *c, struct ike_frame_rx *out)
{
	const uint8_t *h = cursor_take(c, IKE_FRAME_IP6_LEN);
	uint16_t plen;
	struct cursor ip;

	if (h == NULL)
		return IKE_FRAME_SHORT;
	if ((h[0] >> 4) != 6)
		return IKE_FRAME_BAD_IP;
	plen = get_be16(h + 4);
	if (cursor_left(c) < plen)
		return IKE_FRAME_SHORT;
	if (h[6] == 44) /* Fragment header */
		return IKE_FRAME_FRAGMENT;
	if (h[6] != IPPROTO_UDP_)
		return IKE_FRAME_NOT_UDP;
	out->local.family = out->remote.family = TS_IPV6;
	memcpy(out->remote.addr, h + 8, 16);
	memcpy(out->local.addr, h + 24, 16);
	ip = cursor_sub(c, plen);
	return parse_udp(&ip, TS_IPV6, h + 8, h + 24, out);
}

enum ike_frame_err ike_frame_parse(const uint8_t *frame, size_t len, struct ike_frame_rx *out)
{
	struct cursor c = cursor_init(frame, len);
	uint16_t type;

	memset(out, 0, sizeof(*out));
	if (!cursor_skip(&c, 12))
		return IKE_FRAME_SHORT;
	type = cursor_be16(&c);
	if (!cursor_ok(&c))
		return IKE_FRAME_SHORT;
	if (type == ETHERTYPE_IPV4)
		return parse_ip4(&c, out);
	if (type == ETHERTYPE_IPV6)
		return parse_ip6(&c, out);
	return IKE_FRAME_NOT_IP;
}

bool ike_frame_is_keepalive(uint16_t local_port, const uint8_t *payload, size_t len)
{
	return local_port == IKE_NATT_PORT && len == 1 && payload[0] == 0xff;
}

static uint16_t ip4_csum(const uint8_t *h)
{
	return csum_fold(csum_add(0, h, IKE_FRAME_IP4_LEN));
}

size_t ike_frame_build(uint8_t *out, size_t cap, const uint8_t dst_mac[6], const uint8_t src_mac[6],
                       const struct ike_endpoint *local, const struct ike_endpoint *remote,
                       uint16_t ip_id, const uint8_t *payload, size_t len)
{
	bool v6 = local->family == TS_IPV6;
	size_t iph = v6 ? IKE_FRAME_IP6_LEN : IKE_FRAME_IP4_LEN;
	size_t ulen = IKE_FRAME_UDP_LEN + len;
	size_t total = IKE_FRAME_ETH_LEN + iph + ulen;
	uint8_t *ip, *udp;

	if (local->family != remote->family || (local->family != TS_IPV4 && !v6))
		return 0;
	if (ulen + (v6 ? 0 : iph) > IP4_MAX_LEN || total > cap)
		return 0;
	memcpy(out, dst_mac, 6);
	memcpy(out + 6, src_mac, 6);
	put_be16(out + 12, v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
	ip = out + IKE_FRAME_ETH_LEN;
	udp = ip + iph;
	if (v6) {
		put_be32(ip, 6u << 28);
		put_be16(ip + 4, (uint16_t)ulen);
		ip[6] = IPPROTO_UDP_;
		ip[7] = IKE_FRAME_TTL;
		memcpy(ip + 8, local->addr, 16);
		memcpy(ip + 24, remote->addr, 16);
	} else {
		ip[0] = 0x45;
		ip[1] = 0;
		put_be16(ip + 2, (uint16_t)(iph + ulen));
		put_be16(ip + 4, ip_id);
		put_be16(ip + 6, 0);
		ip[8] = IKE_FRAME_TTL;
		ip[9] = IPPROTO_UDP_;
		put_be16(ip + 10, 0);
		memcpy(ip + 12, local->addr, 4);
		memcpy(ip + 16, remote->addr, 4);
		put_be16(ip + 10, ip4_csum(ip));
	}
	put_be16(udp, local->port);
	put_be16(udp + 2, remote->port);
	put_be16(udp + 4, (uint16_t)ulen);
	put_be16(udp + 6, 0);
	if (len > 0)
		memcpy(udp + IKE_FRAME_UDP_LEN, payload, len);
	put_be16(udp + 6, ike_frame_udp_csum(local->family, local->addr, remote->addr, udp, ulen));
	return total;
}
