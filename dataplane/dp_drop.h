/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every reason the data plane drops a packet: one X-macro list makes the
 * enum, the names and the counters (per worker, per SA). lib/esp's reasons
 * come first, so an enum esp_drop value is the same enum dp_drop value and
 * an ESP stage's verdict is counted without a mapping table.
 */
#ifndef VPNGW_DP_DROP_H
#define VPNGW_DP_DROP_H

#include "esp.h"

#define DP_OWN_DROP_REASONS(X)                                                                \
	X(NOT_IP, "not_ip")                   /* neither ARP, IPv4 nor IPv6 */                \
	X(BAD_IP, "bad_ip_header")            /* IP header short, bad length or version */    \
	X(NOT_OUR_MAC, "not_our_mac")         /* unicast frame for another MAC */             \
	X(NO_POLICY, "no_policy")             /* private side: no SPD rule (default drop) */  \
	X(POLICY_DISCARD, "policy_discard")   /* SPD rule says DISCARD */                     \
	X(NO_SA, "no_sa")                     /* PROTECT policy whose SA is not installed */  \
	X(UNKNOWN_SPI, "unknown_spi")         /* inbound ESP with an SPI we do not have */    \
	X(SA_EXPIRED, "sa_expired")           /* hard lifetime reached */                     \
	X(PEER_SOURCE_NAT, "peer_source_nat") /* decrypted packet outside the SA selectors */ \
	X(NO_ROUTE, "no_route")               /* no route, or it leads to the wrong side */   \
	X(NEIGH_PENDING_FULL, "neigh_pending_full") /* next hop unresolved, queue full */     \
	X(NEIGH_FAILED, "neigh_failed")             /* next hop did not answer ARP/ND */      \
	X(MTU_EXCEEDED, "mtu_exceeded")     /* too big once encapsulated: ICMP sent back */   \
	X(FRAG_FAILED, "frag_failed")       /* IPv4 fragmentation impossible (no mbufs) */    \
	X(TTL_EXCEEDED, "ttl_exceeded")     /* inner TTL / hop limit would reach 0 */         \
	X(RATE_LIMITED, "rate_limited")     /* over the gateway's bandwidth_mbps */           \
	X(MULTI_SEGMENT, "multi_segment")   /* chained mbuf that could not be linearised */   \
	X(PUBLIC_TRANSIT, "public_transit") /* public side, not for one of our addresses */   \
	X(TO_US_OTHER, "to_us_other")       /* for our address, not ESP/IKE/ICMP echo */      \
	X(PUNT_FULL, "punt_full")           /* ring to the control thread full */             \
	X(HANDOFF_FULL, "handoff_full")     /* ring to the owner worker full */               \
	X(TX_FULL, "tx_full")               /* TX queue did not take the packet */            \
	X(MALFORMED_MSS, "malformed_tcp")   /* TCP header unreadable for MSS clamping */

#define DP_DROP_REASONS(X) ESP_DROP_REASONS(X) DP_OWN_DROP_REASONS(X)

enum dp_drop {
	DP_OK = 0,
#define DP_DROP_ENUM(name, str) DP_DROP_##name,
	DP_DROP_REASONS(DP_DROP_ENUM)
#undef DP_DROP_ENUM
	        DP_DROP_COUNT
};

_Static_assert((int)DP_DROP_CRYPTO_ERROR == (int)ESP_DROP_CRYPTO_ERROR,
               "ESP reasons must keep their values in the data plane list");

/* "ok", "truncated", ..., "malformed_tcp" indexed by enum dp_drop. */
extern const char *const dp_drop_names[DP_DROP_COUNT];

#endif
