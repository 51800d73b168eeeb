/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An installed SA as the data plane holds it: the lib/esp state (keys in
 * locked memory), its slot, its owner worker, the selectors for the
 * inbound policy check, lifetimes and per-SA counters. Built and freed by
 * the control thread; between SA_ADD and its return in a RETIRED event it
 * belongs to the owner worker, which alone writes its counters and flags.
 */
#ifndef VPNGW_DP_SA_H
#define VPNGW_DP_SA_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>

#include "dp_drop.h"
#include "esp.h"
#include "ts.h"

enum {
	DP_SA_TS_MAX = 16, /* selectors per side */
	/* Sequence numbers left (32-bit) when "near overflow" is raised. */
	DP_SA_SEQ_MARGIN = 1u << 20,
};

/* Which limit an SA reached (the events do not say; dp_sa_limit_reached tells). */
enum dp_sa_limit {
	DP_SA_LIMIT_NONE,
	DP_SA_LIMIT_PACKETS,
	DP_SA_LIMIT_BYTES,
	DP_SA_LIMIT_SECONDS,
	DP_SA_LIMIT_SEQ, /* sequence space (outbound, without ESN) */
};

/* What the control thread made of an SA's events; state only goes forward. */
enum dp_sa_state {
	DP_SA_ACTIVE,
	DP_SA_SOFT_EXPIRED,
	DP_SA_SEQ_NEAR_END,
	DP_SA_EXPIRED,
};

enum dp_sa_ev {
	DP_SA_EV_SOFT,
	DP_SA_EV_HARD,
	DP_SA_EV_SEQ,
	DP_SA_EV_COUNT,
};

/*
 * Control's part of an SA: written by the control thread only (never by a
 * worker), read by the API and metrics on the control thread.
 */
struct dp_sa_ctl {
	uint8_t state;      /* enum dp_sa_state */
	uint8_t soft_limit; /* enum dp_sa_limit */
	uint8_t hard_limit;
	uint64_t events[DP_SA_EV_COUNT]; /* events received, by enum dp_sa_ev */
};

/* What an SA is made from, beyond the ESP parameters. */
struct dp_sa_params {
	const char *name; /* connection / static SA name */
	uint32_t id;      /* slot, < DP_SA_MAX; unique among installed SAs */
	uint16_t owner;   /* worker index */
	struct ts local[DP_SA_TS_MAX];
	unsigned n_local;
	struct ts remote[DP_SA_TS_MAX];
	unsigned n_remote;
	uint64_t soft_packets, hard_packets; /* 0: no limit */
	uint64_t soft_bytes, hard_bytes;
	uint64_t soft_seconds, hard_seconds;
};

struct dp_sa_counters {
	uint64_t packets;
	uint64_t bytes;
	uint64_t drops[DP_DROP_COUNT];
};

/* An IPv4 address range, host order, inclusive. */
struct dp_sa_range4 {
	uint32_t start, end;
};

struct dp_sa {
	/* Hot, read per burst. */
	struct esp_sa *esp;
	uint32_t id;
	uint32_t spi;
	uint16_t owner;
	uint8_t dir;    /* enum esp_dir */
	uint8_t family; /* outer: AF_INET / AF_INET6 */
	uint8_t peer[16];
	bool esn;
	uint8_t pad_align; /* ESP payload alignment (4 or the cipher block) */
	uint16_t mtu_over; /* outer headers + ESP header + IV + ICV */
	bool soft_sent, hard_sent, seq_sent, expired;
	uint64_t soft_packets, hard_packets, soft_bytes, hard_bytes;
	uint64_t soft_tsc, hard_tsc; /* absolute TSC deadlines; 0: none */
	/* Packets and inner bytes staged for the burst being built (owner only). */
	uint32_t staged_packets;
	uint64_t staged_bytes;
	struct dp_sa_counters c;
	/*
	 * The inbound policy check of IPv4 inner packets when no selector
	 * names a protocol or ports (sel4_l4 false): the IPv4 selectors'
	 * address ranges, host order.
	 */
	bool sel4_l4;
	uint8_t n_remote4, n_local4;
	struct dp_sa_range4 remote4[DP_SA_TS_MAX], local4[DP_SA_TS_MAX];
	/* Cold. */
	unsigned n_local, n_remote;
	struct ts local[DP_SA_TS_MAX];
	struct ts remote[DP_SA_TS_MAX];
	char name[64];
	enum crypto_alg_id encr, integ;
	bool udp_encap;
	uint64_t soft_seconds, hard_seconds; /* as configured, for messages */
	uint32_t owned_idx;                  /* in the owner's list of SAs (owner only) */
	struct dp_sa_ctl ctl;                /* control thread only */
};

/*
 * Builds an SA (memory and keys from locked memory). NULL with a message
 * in err on failure.
 */
struct dp_sa *dp_sa_create(const struct esp_sa_conf *conf, const struct dp_sa_params *p, char *err,
                           size_t err_len);
/* Wipes the keys and frees; the SA must not be in any worker's table. */
void dp_sa_free(struct dp_sa *sa);

/*
 * The largest inner packet that fits mtu once encapsulated by sa (exact:
 * the ESP payload, inner + 2 trailer bytes, padded to pad_align).
 */
static inline uint32_t dp_sa_inner_mtu(const struct dp_sa *sa, uint32_t mtu)
{
	uint32_t room = mtu > sa->mtu_over ? (mtu - sa->mtu_over) & ~(sa->pad_align - 1u) : 0;

	return room > 2 ? room - 2 : 0;
}

/* dp_sa_inner_allowed for any packet and any selectors. */
bool dp_sa_inner_allowed_slow(const struct dp_sa *sa, const uint8_t *pkt, uint32_t len);

static inline bool dp_sa_range4_any(const struct dp_sa_range4 *r, unsigned n, uint32_t a)
{
	for (unsigned i = 0; i < n; i++)
		if (r[i].start <= a && a <= r[i].end)
			return true;
	return false;
}

/*
 * The inbound policy check (RFC 4301 5.2): the inner packet's source lies
 * in one of the SA's remote selectors and its destination in one of its
 * local ones. pkt starts at the inner IP header. IPv4 packets against
 * selectors that leave protocol and ports open need only the two
 * addresses, and as a pair matches when its remote selector matches the
 * source and its local one the destination, "some pair matches" is "some
 * remote matches and some local matches": n + m compares, not n * m.
 */
static inline bool dp_sa_inner_allowed(const struct dp_sa *sa, const uint8_t *pkt, uint32_t len)
{
	uint32_t src, dst;

	if (unlikely(len < 20 || pkt[0] >> 4 != 4 || sa->sel4_l4))
		return dp_sa_inner_allowed_slow(sa, pkt, len);
	memcpy(&src, pkt + 12, 4);
	memcpy(&dst, pkt + 16, 4);
	return dp_sa_range4_any(sa->remote4, sa->n_remote4, rte_be_to_cpu_32(src)) &&
	       dp_sa_range4_any(sa->local4, sa->n_local4, rte_be_to_cpu_32(dst));
}

/*
 * For the control thread on a SOFT_EXPIRE (hard false) or HARD_EXPIRE
 * event: which of the SA's limits is reached now (packets, then bytes,
 * then seconds), reading the owner's counters in place.
 */
enum dp_sa_limit dp_sa_limit_reached(const struct dp_sa *sa, bool hard);
/* "packets", "bytes", "seconds", "sequence", "none". */
const char *dp_sa_limit_name(enum dp_sa_limit l);
/* "active", "soft_expired", "seq_near_end", "expired". */
const char *dp_sa_state_name(enum dp_sa_state s);

#endif
