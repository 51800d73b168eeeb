/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internet checksums (RFC 1071) of the L3 helpers and the slow path, on
 * DPDK's rte_ip.h. Values are as the big-endian checksum field reads
 * (get_be16/put_be16): a sum over data whose checksum is right folds to
 * 0xffff, and a field is set to the complement of the folded sum.
 */
#ifndef VPNGW_DP_CSUM_H
#define VPNGW_DP_CSUM_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

/* Folds a 32-bit sum of 16-bit words to 16 bits, end-around carry; not complemented. */
static inline uint16_t dp_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * Ones-complement sum of n bytes (an odd last byte padded with zero),
 * folded, not complemented. rte_raw_cksum adds the words in memory order;
 * the sum is the same in either byte order but swapped, so swap it back.
 */
static inline uint16_t dp_csum_sum(const void *p, size_t n)
{
	return rte_be_to_cpu_16(rte_raw_cksum(p, n));
}

/* Checksum field of an IPv4 header: its IHL says the length; the field must be zero. */
static inline uint16_t dp_csum_ip4_hdr(const uint8_t *ip)
{
	return rte_be_to_cpu_16(rte_ipv4_cksum((const struct rte_ipv4_hdr *)ip));
}

/*
 * Sum of the len-byte upper-layer message at l4 (ICMPv6, UDP, TCP) with
 * the pseudo-header (RFC 8200 8.1) of the IPv6 header ip6 before it: its
 * addresses, its payload length (which must be len: no extension headers)
 * and its next header. Folded, not complemented.
 */
static inline uint16_t dp_csum_ip6_l4(const uint8_t *ip6, const uint8_t *l4, size_t len)
{
	uint32_t sum = rte_ipv6_phdr_cksum((const struct rte_ipv6_hdr *)ip6, 0);

	sum += rte_raw_cksum(l4, len);
	return rte_be_to_cpu_16(dp_csum_fold(sum));
}

/* Decrements TTL / hop limit; false if the packet must not be forwarded. */
static inline bool dp_ttl_dec(uint8_t *ip)
{
	uint32_t c;

	if ((ip[0] >> 4) == 4) {
		if (ip[8] <= 1)
			return false;
		ip[8]--;
		/* RFC 1624 incremental update: the TTL/proto word dropped by 0x0100. */
		c = (uint32_t)(ip[10] << 8 | ip[11]) + 0x0100;
		c = (c & 0xffff) + (c >> 16);
		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
		return true;
	}
	if (ip[7] <= 1)
		return false;
	ip[7]--;
	return true;
}

#endif
