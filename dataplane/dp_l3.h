/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-packet L3 helpers of the worker's encrypt path: TCP MSS clamping of
 * tunnelled SYNs, ICMP "fragmentation needed" / ICMPv6 "packet too big"
 * for packets that would not fit the public MTU once encapsulated, and
 * IPv4 fragmentation before encryption. No locks, no logging, no syscalls;
 * they allocate only from the mempools given.
 *
 * All take an mbuf whose data starts at the IP header (the Ethernet header
 * already stripped), single segment unless said otherwise.
 */
#ifndef VPNGW_DP_L3_H
#define VPNGW_DP_L3_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

/*
 * Clamp the MSS option of a TCP SYN (IPv4 or IPv6, no IPv6 extension
 * headers needed) to at most mss, fixing the TCP checksum incrementally.
 * Returns 1 if changed, 0 if not a SYN / no MSS option / already small
 * enough, -1 if the packet is malformed (leave it to the caller's drop).
 */
int dp_mss_clamp(struct rte_mbuf *m, uint16_t mss);

/*
 * Build the ICMP error telling the inner source that the path MTU for it
 * is mtu: ICMPv4 type 3 code 4 (next-hop MTU = mtu) for IPv4, ICMPv6 type 2
 * (packet too big) for IPv6, quoting as much of the original as the RFCs
 * ask (IPv4: header + 8 bytes at least; IPv6: as much as fits in 1280),
 * sent from src (our private address: 4 or 16 bytes, network order) to the
 * original source. The result starts at its IP header. Returns NULL if the
 * original is itself an ICMP error, malformed, or no mbuf is free.
 */
struct rte_mbuf *dp_icmp_too_big(struct rte_mempool *mp, const struct rte_mbuf *orig, uint16_t mtu,
                                 const uint8_t *src);

/*
 * Fragment an IPv4 packet (DF clear) so every fragment is at most mtu bytes
 * (RFC 791), into out[0..max). Fragments are new mbufs from mp, each a
 * single segment starting at its IP header with a correct checksum. The
 * original is not consumed. Returns the number of fragments, or -1 if the
 * packet is malformed, has DF set, or out/mp is too small.
 */
int dp_frag_ipv4(const struct rte_mbuf *m, uint16_t mtu, struct rte_mempool *mp,
                 struct rte_mbuf **out, unsigned max);

#endif
