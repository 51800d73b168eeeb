/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKE datagrams as Ethernet frames, for the daemon's glue (ike_glue.c):
 * parsing a frame the workers punted (Ethernet / IPv4 or IPv6 / UDP) into
 * the endpoints and the exact UDP payload an IKE engine takes, and
 * building the frame of a datagram an engine sends (headers, IPv4 header
 * checksum, UDP checksum). Plain C, no DPDK: unit-tested on buffers.
 *
 * Every byte of a received frame is read through the bounded cursor; a
 * frame that is not a sound, unfragmented UDP datagram gets a reason of
 * enum ike_frame_err, which the caller counts.
 */
#ifndef VPNGW_IKE_FRAME_H
#define VPNGW_IKE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "ike.h"

enum {
	IKE_FRAME_ETH_LEN = 14,
	IKE_FRAME_IP4_LEN = 20,
	IKE_FRAME_IP6_LEN = 40,
	IKE_FRAME_UDP_LEN = 8,
	/* Ethernet + IPv6 + UDP: the most a frame adds to a payload. */
	IKE_FRAME_OVERHEAD = IKE_FRAME_ETH_LEN + IKE_FRAME_IP6_LEN + IKE_FRAME_UDP_LEN,
	IKE_FRAME_TTL = 64,
};

/* Why a punted frame was dropped; X(id, name). */
#define IKE_FRAME_ERRS(X)                                                       \
	X(OK, "ok")                                                             \
	X(SHORT, "short")               /* shorter than its headers say */      \
	X(NOT_IP, "not_ip")             /* ethertype other than IPv4/IPv6 */    \
	X(BAD_IP, "bad_ip")             /* version, IHL, total length */        \
	X(FRAGMENT, "fragment")         /* IKE fragments are not reassembled */ \
	X(NOT_UDP, "not_udp")           /* protocol / next header not UDP */    \
	X(BAD_UDP, "bad_udp")           /* UDP length */                        \
	X(BAD_CHECKSUM, "bad_checksum") /* UDP checksum (zero allowed on IPv4) */

enum ike_frame_err {
#define IKE_FRAME_ERR_ENUM(id, name) IKE_FRAME_##id,
	IKE_FRAME_ERRS(IKE_FRAME_ERR_ENUM)
#undef IKE_FRAME_ERR_ENUM
	        IKE_FRAME_ERR_COUNT
};

const char *ike_frame_err_name(enum ike_frame_err e);

/* A received datagram: local is where it went (us), remote where it came from. */
struct ike_frame_rx {
	struct ike_endpoint local;
	struct ike_endpoint remote;
	const uint8_t *payload; /* points into the frame */
	size_t payload_len;
};

/*
 * Parses an Ethernet frame carrying UDP over IPv4 or IPv6 (no extension
 * headers, no fragments). Trailing Ethernet padding beyond the IP length
 * is ignored. IKE_FRAME_OK with *out filled, or the reason.
 */
enum ike_frame_err ike_frame_parse(const uint8_t *frame, size_t len, struct ike_frame_rx *out);

/* A NAT keepalive (RFC 3948 2.3): one byte 0xff on port 4500. */
bool ike_frame_is_keepalive(uint16_t local_port, const uint8_t *payload, size_t len);

/*
 * Builds the frame of a datagram from local to remote (same family)
 * into out: Ethernet (dst_mac, src_mac), IPv4 (ip_id, DF clear, TTL 64,
 * header checksum) or IPv6 (hop limit 64), UDP with its checksum.
 * Returns the frame length, or 0 if it does not fit cap, the families
 * differ or the payload would not fit one IP packet.
 */
size_t ike_frame_build(uint8_t *out, size_t cap, const uint8_t dst_mac[6], const uint8_t src_mac[6],
                       const struct ike_endpoint *local, const struct ike_endpoint *remote,
                       uint16_t ip_id, const uint8_t *payload, size_t len);

/* The UDP checksum over the pseudo header of local -> remote and the UDP segment. */
uint16_t ike_frame_udp_csum(uint8_t family, const uint8_t *src, const uint8_t *dst,
                            const uint8_t *udp, size_t udp_len);

#endif
