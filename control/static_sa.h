/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Manual keying: turns the config's static_sas into data plane SAs (both
 * directions), SPD rules (local x remote subnets -> PROTECT) and the
 * route table (connected prefixes, port routes, the public gateway). The
 * IKE issues produce the same objects through the same install calls.
 *
 * Slots: static SA i uses slot 2i (outbound) and 2i + 1 (inbound). Owner:
 * in.spi % n_workers (dp.h), for both directions.
 */
#ifndef VPNGW_STATIC_SA_H
#define VPNGW_STATIC_SA_H

#include <stddef.h>

#include "config.h"
#include "dp.h"
#include "dp_route.h"
#include "dp_sa.h"
#include "dp_spd.h"

struct static_sa_set {
	struct dp_sa **sas; /* 2 per static SA: [2i] out, [2i + 1] in */
	unsigned n_sas;
	struct dp_spd_rule *rules;
	unsigned n_rules;
};

/* Builds the SAs and rules; 0 or -1 with a message in err (nothing left allocated). */
int static_sa_build(const struct config *cfg, const struct dp *dp, struct static_sa_set *out,
                    char *err, size_t err_len);
/* Frees the arrays (not the SAs: once installed they belong to the tables). */
void static_sa_release(struct static_sa_set *s);

/* The route table of the config's ports; n_out routes into out (DP_ROUTES_MAX). */
int static_routes_build(const struct config *cfg, struct dp_route *out, unsigned *n_out, char *err,
                        size_t err_len);

#endif
