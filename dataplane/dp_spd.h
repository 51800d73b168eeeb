/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The security policy database of the private side: rte_acl over the
 * 5-tuple (addresses as prefixes, protocol, port ranges), one context per
 * family. Built whole by the control thread, handed to every worker as a
 * pointer (DP_MSG_SPD_SET), read-only and shared; freed by control once
 * every worker has returned it.
 */
#ifndef VPNGW_DP_SPD_H
#define VPNGW_DP_SPD_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "ts.h"

enum dp_spd_action_type {
	DP_SPD_DISCARD = 1,
	DP_SPD_BYPASS,  /* plain, to the private side only */
	DP_SPD_PROTECT, /* ESP with SA slot sa_id, owned by worker owner */
};

struct dp_spd_rule {
	struct ts src; /* packet source: the local side for outbound */
	struct ts dst;
	uint32_t priority; /* higher wins */
	uint8_t action;    /* enum dp_spd_action_type */
	uint16_t owner;
	uint32_t sa_id;
};

struct dp_spd_action {
	uint8_t type;
	uint16_t owner;
	uint32_t sa_id;
};

struct dp_spd;

/*
 * Builds the SPD from rules (IPv4 and IPv6 mixed). Ranges are split into
 * prefixes. NULL with a message in err on failure.
 */
struct dp_spd *dp_spd_build(const struct dp_spd_rule *rules, unsigned n, char *err, size_t err_len);
void dp_spd_free(struct dp_spd *spd);

/*
 * Classifies n packets whose data starts at the IP header, all of one
 * family (4 or 6). act[i] is NULL when no rule matches (default: drop).
 */
void dp_spd_lookup(const struct dp_spd *spd, int family, struct rte_mbuf *const *m, unsigned n,
                   const struct dp_spd_action **act);

#endif
