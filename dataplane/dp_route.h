/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Routes: rte_lpm / rte_lpm6 from destination to next hop (port and
 * gateway, or on-link). One table for all ports; the caller checks the
 * port's role (decrypted traffic must leave on a private port, ESP on a
 * public one). Built whole by control, shared read-only by the workers,
 * swapped with DP_MSG_ROUTE_SET and freed once every worker returned it.
 */
#ifndef VPNGW_DP_ROUTE_H
#define VPNGW_DP_ROUTE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
/* rte_lpm.h's lookup_bulk helper declares a VLA; the rest stays under -Wvla. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wvla"
#include <rte_lpm.h>
#pragma GCC diagnostic pop
#include <rte_lpm6.h>

enum { DP_ROUTES_MAX = 4096 };

struct dp_route {
	uint8_t family; /* 4 or 6 */
	uint8_t len;    /* prefix length */
	uint8_t prefix[16];
	uint16_t port; /* port index */
	bool onlink;   /* next hop is the destination itself */
	uint8_t via[16];
};

struct dp_nexthop {
	uint16_t port;
	bool onlink;
	uint8_t via[16];
};

struct dp_routes {
	struct rte_lpm *lpm4;
	struct rte_lpm6 *lpm6;
	unsigned n_hops;
	struct dp_nexthop hops[];
};

struct dp_routes *dp_routes_build(const struct dp_route *r, unsigned n, char *err, size_t err_len);
void dp_routes_free(struct dp_routes *t);

/*
 * The next hop for dst (4 or 16 bytes, network order); NULL if none.
 * Inline: every decrypted packet looks its destination up.
 */
static inline const struct dp_nexthop *dp_route_lookup(const struct dp_routes *t, int family,
                                                       const uint8_t *dst)
{
	uint32_t hop, a;

	if (t == NULL)
		return NULL;
	if (family == 4) {
		memcpy(&a, dst, 4);
		if (rte_lpm_lookup(t->lpm4, rte_be_to_cpu_32(a), &hop) != 0)
			return NULL;
	} else if (rte_lpm6_lookup(t->lpm6, dst, &hop) != 0) {
		return NULL;
	}
	return hop < t->n_hops ? &t->hops[hop] : NULL;
}

#endif
