/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Traffic selectors (RFC 4301 4.4.1, RFC 7296 3.13): an address range of
 * one family, an IP protocol and a port range. Shared by IKEv2 (TS
 * payloads, narrowing), IKEv1 (quick mode ID payloads: subnets, ranges,
 * single addresses), the SPD builder (CIDR prefixes for rte_acl/rte_lpm)
 * and the inbound policy check after decryption (drop peer_source_nat).
 *
 * Addresses are held as 128-bit host-order integers (two u64), IPv4 in the
 * low 32 bits, so comparing two addresses is two integer compares. Every
 * range is inclusive. Functions other than the constructors expect valid
 * selectors (ts_valid()); the constructors only make valid ones.
 *
 * Plain C, no allocation. Searching many selectors on the packet path is
 * the data plane's job (rte_acl/rte_lpm over ts_to_prefixes() output);
 * the list functions here are for the control plane and small lists.
 */
#ifndef VPNGW_TS_H
#define VPNGW_TS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ts_family {
	TS_IPV4 = 4,
	TS_IPV6 = 6,
};

enum {
	TS_PORT_ANY_END = 65535,
	/* The longest selector text: IPv6 range plus "[icmpv6/65535-65535]". */
	TS_STR_MAX = 128,
	/* Most prefixes one range can need: 2 * bits - 2 (IPv6). */
	TS_PREFIXES_MAX = 254,
	/* IP protocol numbers ts_parse()/ts_format() know by name. */
	TS_PROTO_ICMP = 1,
	TS_PROTO_TCP = 6,
	TS_PROTO_UDP = 17,
	TS_PROTO_ICMPV6 = 58,
	TS_PROTO_SCTP = 132,
};

/* ts_parse() and ts_from_prefix() flags. */
enum {
	/* Accept "10.0.0.1/16" and clear the host bits (10.0.0.0/16). */
	TS_ALLOW_HOST_BITS = 1u << 0,
};

/* Errors of the constructors: one list makes the enum and the texts. */
#define TS_ERRORS(X)                                                                  \
	X(EMPTY, "empty selector")                                                    \
	X(ADDR, "bad IPv4/IPv6 address")                                              \
	X(PREFIX_LEN, "bad prefix length (IPv4: 0..32, IPv6: 0..128)")                \
	X(HOST_BITS, "address has bits set after the prefix length")                  \
	X(MASK, "netmask is not a run of ones followed by zeroes")                    \
	X(RANGE, "range start is above its end")                                      \
	X(FAMILY, "IPv4 and IPv6 mixed, or unknown family")                           \
	X(PROTO, "bad protocol (a number 0..255, any, tcp, udp, icmp, icmpv6, sctp)") \
	X(PORT, "bad port or port range (0..65535, low-high)")                        \
	X(NOSPACE, "output array too small")

enum ts_err {
	TS_OK = 0,
#define TS_ERR_ENUM(name, str) TS_ERR_##name,
	TS_ERRORS(TS_ERR_ENUM)
#undef TS_ERR_ENUM
	        TS_ERR_COUNT
};

/* A 128-bit address in host order; IPv4 in the low 32 bits of lo. */
struct ts_addr {
	uint64_t hi;
	uint64_t lo;
};

struct ts {
	struct ts_addr start; /* inclusive */
	struct ts_addr end;   /* inclusive, >= start */
	uint16_t port_start;  /* host order; 0..65535 = any */
	uint16_t port_end;
	uint8_t family; /* enum ts_family */
	uint8_t proto;  /* IP protocol, 0 = any */
};

/*
 * What the policy check reads from a packet: addresses, protocol and ports
 * (host order). For ICMP/ICMPv6 both ports carry type << 8 | code, as IKEv2
 * encodes ICMP selectors (RFC 7296 3.13.1). A packet without ports (other
 * protocols, non-initial fragments) carries 0 in both: it matches only
 * selectors whose port ranges include 0, the cautious reading of RFC 4301
 * 4.4.1's OPAQUE.
 */
struct ts_tuple {
	struct ts_addr src;
	struct ts_addr dst;
	uint16_t sport;
	uint16_t dport;
	uint8_t family; /* enum ts_family */
	uint8_t proto;
};

/* "empty selector", ... for TS_ERR_*; "ok" for TS_OK. */
const char *ts_strerror(enum ts_err err);

/* 32 for TS_IPV4, 128 for TS_IPV6, 0 otherwise. */
unsigned ts_family_bits(uint8_t family);

/* Network-order bytes (4 or 16 by family) to a ts_addr, and back. */
struct ts_addr ts_addr_load(uint8_t family, const uint8_t *bytes);
void ts_addr_store(uint8_t family, struct ts_addr a, uint8_t *bytes);

static inline int ts_addr_cmp(struct ts_addr a, struct ts_addr b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

/* True if t is well formed: known family, start <= end within the family, ports ordered. */
bool ts_valid(const struct ts *t);

/* The whole address space of a family, any protocol, any port. */
void ts_any(struct ts *out, uint8_t family);

/*
 * addr/len from network-order bytes. Host bits set are TS_ERR_HOST_BITS
 * unless flags has TS_ALLOW_HOST_BITS, which clears them. Protocol and
 * ports are "any".
 */
enum ts_err ts_from_prefix(struct ts *out, uint8_t family, const uint8_t *addr, unsigned len,
                           unsigned flags);

/* An address and a netmask (IKEv1 ID_IPV4/IPV6_ADDR_SUBNET); flags as ts_from_prefix. */
enum ts_err ts_from_netmask(struct ts *out, uint8_t family, const uint8_t *addr,
                            const uint8_t *mask, unsigned flags);

/* start..end inclusive from network-order bytes (IKEv1 ID_*_ADDR_RANGE, IKEv2 TS). */
enum ts_err ts_from_range(struct ts *out, uint8_t family, const uint8_t *start, const uint8_t *end);

/*
 * Parses "10.0.0.0/16", "10.0.0.1" (a /32 or /128), "10.0.0.1-10.0.0.9"
 * or the IPv6 forms, optionally followed by "[PROTO]" or "[PROTO/PORT]"
 * or "[PROTO/LOW-HIGH]", PROTO being a number, any, tcp, udp, icmp,
 * icmpv6 or sctp. No spaces. On error *out is untouched.
 */
enum ts_err ts_parse(const char *s, unsigned flags, struct ts *out);

/*
 * "10.0.0.0/16" when the range is a prefix, else "10.0.0.1-10.0.0.9",
 * then "[tcp/443]" / "[udp]" / "[any/53]" when protocol or ports are not
 * "any". Writes at most len bytes, NUL-terminated when len > 0; returns
 * the length of the whole text (truncated if >= len). TS_STR_MAX always fits.
 */
size_t ts_format(const struct ts *t, char *buf, size_t len);

/* The prefix length if t's address range is one CIDR prefix, else -1. */
int ts_prefix_len(const struct ts *t);

/* The netmask of a prefix length as network-order bytes (4 or 16). */
void ts_netmask(uint8_t family, unsigned len, uint8_t *mask);

static inline bool ts_contains_addr(const struct ts *t, uint8_t family, const struct ts_addr *a)
{
	return t->family == family && ts_addr_cmp(t->start, *a) <= 0 &&
	       ts_addr_cmp(*a, t->end) <= 0;
}

static inline bool ts_proto_port_match(const struct ts *t, uint8_t proto, uint16_t port)
{
	return (t->proto == 0 || t->proto == proto) && t->port_start <= port && port <= t->port_end;
}

/*
 * True if the packet's source lies in src (address, protocol, source
 * port) and its destination in dst. For the inbound check of a decrypted
 * packet, src is the SA's remote selector and dst its local one.
 */
static inline bool ts_match_packet(const struct ts *src, const struct ts *dst,
                                   const struct ts_tuple *p)
{
	return ts_contains_addr(src, p->family, &p->src) &&
	       ts_contains_addr(dst, p->family, &p->dst) &&
	       ts_proto_port_match(src, p->proto, p->sport) &&
	       ts_proto_port_match(dst, p->proto, p->dport);
}

/* Same family, address range, protocol and port range. */
bool ts_equal(const struct ts *a, const struct ts *b);

/* True if every packet a selects, b selects too (a protocol of 0 in a needs 0 in b). */
bool ts_is_subset(const struct ts *a, const struct ts *b);

/* The packets both select, into *out; false (out untouched) when none or families differ. */
bool ts_intersect(const struct ts *a, const struct ts *b, struct ts *out);

/*
 * Splits t's address range into the fewest CIDR prefixes, in address
 * order, each keeping t's protocol and ports. *n gets the count needed
 * (at most TS_PREFIXES_MAX); if that exceeds cap, out holds the first cap
 * and the result is TS_ERR_NOSPACE.
 */
enum ts_err ts_to_prefixes(const struct ts *t, struct ts *out, size_t cap, size_t *n);

/*
 * True if the union of set covers t: its addresses, each under selectors
 * whose protocol and ports include t's. A t covered only by splitting its
 * protocol or ports across entries counts as not covered (configured
 * subnets have any protocol and port, so for them the answer is exact).
 */
bool ts_covered(const struct ts *t, const struct ts *set, size_t n);

/*
 * IKEv2 narrowing as responder (RFC 7296 2.9) of one TS list: TSi against
 * our remote selectors, or TSr against our local ones.
 *
 * Policy: we accept every part of the offer our configuration allows, so
 * the result is all non-empty intersections offered[i] ∩ configured[j],
 * without entries that lie inside another entry (the initiator's packet
 * selector is inside its wider ones). Each is a subset of both lists, as
 * 2.9 requires. An empty result (n_out 0) is TS_UNACCEPTABLE for the IKE
 * layer. *first_covered says whether offered[0] lies wholly inside our
 * configuration: when the initiator put the triggering packet's selector
 * first, false means the SA would not carry that packet, and the IKE layer
 * decides whether to answer TS_UNACCEPTABLE. TS_ERR_NOSPACE when the
 * result needs more than cap entries (out then holds a partial list).
 */
enum ts_err ts_narrow(const struct ts *offered, size_t n_offered, const struct ts *configured,
                      size_t n_configured, struct ts *out, size_t cap, size_t *n_out,
                      bool *first_covered);

/*
 * True if a peer's proposed pair (from our point of view: local, remote)
 * lies within our configured local x remote subnets: local covered by
 * conf_local and remote by conf_remote (ts_covered). A peer that opens one
 * CHILD_SA per subnet pair (multi_sa_peer) proposes such pairs.
 */
bool ts_pair_within(const struct ts *local, const struct ts *remote, const struct ts *conf_local,
                    size_t n_local, const struct ts *conf_remote, size_t n_remote);

#endif
