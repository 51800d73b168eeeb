/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dp_route.h"

/* LPM depths start at 1: a default route is the two halves of the space. */
static int lpm_add(struct dp_routes *t, const struct dp_route *r, uint32_t hop)
{
	uint8_t half[16] = { 0 };
	uint32_t a;
	int ret;

	if (r->len == 0) {
		if (r->family == 4) {
			ret = rte_lpm_add(t->lpm4, 0, 1, hop);
			return ret ? ret : rte_lpm_add(t->lpm4, 0x80000000u, 1, hop);
		}
		ret = rte_lpm6_add(t->lpm6, half, 1, hop);
		half[0] = 0x80;
		return ret ? ret : rte_lpm6_add(t->lpm6, half, 1, hop);
	}
	if (r->family == 4) {
		memcpy(&a, r->prefix, 4);
		return rte_lpm_add(t->lpm4, rte_be_to_cpu_32(a), r->len, hop);
	}
	return rte_lpm6_add(t->lpm6, r->prefix, r->len, hop);
}

struct dp_routes *dp_routes_build(const struct dp_route *r, unsigned n, char *err, size_t err_len)
{
	static unsigned gen;
	struct rte_lpm_config c4 = { .max_rules = DP_ROUTES_MAX, .number_tbl8s = 256 };
	struct rte_lpm6_config c6 = { .max_rules = DP_ROUTES_MAX, .number_tbl8s = 1024 };
	struct dp_routes *t;
	char name[32];
	unsigned i;
	int ret;

	if (n > DP_ROUTES_MAX) {
		snprintf(err, err_len, "more than %d routes", DP_ROUTES_MAX);
		return NULL;
	}
	t = rte_zmalloc("dp_routes", sizeof(*t) + n * sizeof(t->hops[0]), 0);
	if (t == NULL)
		goto nomem;
	/* Names must be unique while an older table is still in use. */
	snprintf(name, sizeof(name), "rt4_%u", gen);
	t->lpm4 = rte_lpm_create(name, (int)rte_socket_id(), &c4);
	snprintf(name, sizeof(name), "rt6_%u", gen++);
	t->lpm6 = rte_lpm6_create(name, (int)rte_socket_id(), &c6);
	if (t->lpm4 == NULL || t->lpm6 == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		t->hops[i].port = r[i].port;
		t->hops[i].onlink = r[i].onlink;
		memcpy(t->hops[i].via, r[i].via, 16);
		ret = lpm_add(t, &r[i], i);
		if (ret != 0) {
			snprintf(err, err_len, "route %u: LPM add failed (%d)", i, ret);
			dp_routes_free(t);
			return NULL;
		}
	}
	t->n_hops = n;
	return t;
nomem:
	snprintf(err, err_len, "out of memory for the route table");
	dp_routes_free(t);
	return NULL;
}

void dp_routes_free(struct dp_routes *t)
{
	if (t == NULL)
		return;
	rte_lpm_free(t->lpm4);
	rte_lpm6_free(t->lpm6);
	rte_free(t);
}
