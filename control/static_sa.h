/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Manual keying: turns the config's static_sas into data plane SAs (both
 * directions), SPD rules (local x remote subnets -> PROTECT) and the
 * route table (connected prefixes, port routes, the public gateway). The
 * IKE issues produce the same objects through the same install calls.
 *
 * Slots: static SA i uses slot 2i (outbound) and 2i + 1 (inbound). Owner:
 * in.spi % n_workers (dp.h), for both directions. Lifetimes: the config's
 * hard limits, soft ones at config_lifetime_soft() of them.
 *
 * IKE connections: each policy (local x remote subnet of a connection, in
 * config order) gets a PROTECT rule whose outbound slot has no SA yet:
 * slot 2 * (n_static_sas + p) (the odd one after it is kept for its
 * inbound SA), owner p % n_workers. Its traffic raises DP_EV_ACQUIRE with
 * that slot; IKE installs the SA there (with an inbound SPI owned by the
 * same worker) or sends a new SPD.
 */
#define STATIC_SA_SLOT_OUT(i)         (2u * (i))
#define STATIC_CONN_SLOT(n_static, p) (2u * ((n_static) + (p)))
/*
 * SPD priorities (higher wins): bypass, then static SAs in file order,
 * then each IKE connection in file order with two levels: the rules of
 * its installed children (ike_glue.c) above its own ACQUIRE rules, so
 * that traffic inside a negotiated selector takes the child and the rest
 * of the policy still raises ACQUIRE.
 */
#define STATIC_SA_PRIORITY(i)                     (RTE_ACL_MAX_PRIORITY - 2u - (i))
#define STATIC_CONN_CHILD_PRIORITY(n_static, i)   (RTE_ACL_MAX_PRIORITY - 2u - (n_static)-2u * (i))
#define STATIC_CONN_ACQUIRE_PRIORITY(n_static, i) (STATIC_CONN_CHILD_PRIORITY(n_static, i) - 1u)
#ifndef VPNGW_STATIC_SA_H
#define VPNGW_STATIC_SA_H

#include <stddef.h>

#include <rte_acl.h>

#include "config.h"
#include "dp.h"
#include "dp_route.h"
#include "dp_sa.h"
#include "dp_spd.h"

/* A connection's PROTECT policy waiting for IKE. */
struct static_conn_policy {
	uint32_t conn;   /* index into config.connections */
	uint32_t local;  /* index into its local_subnets */
	uint32_t remote; /* index into its remote_subnets */
	uint32_t slot;   /* outbound SA slot the SPD rule names */
	uint16_t owner;
};

struct static_sa_set {
	struct dp_sa **sas; /* 2 per static SA: [2i] out, [2i + 1] in */
	unsigned n_sas;
	struct dp_spd_rule *rules;
	unsigned n_rules;
	struct static_conn_policy *policies; /* config order */
	unsigned n_policies;
};

/* Builds the SAs and rules; 0 or -1 with a message in err (nothing left allocated). */
int static_sa_build(const struct config *cfg, const struct dp *dp, struct static_sa_set *out,
                    char *err, size_t err_len);
/*
 * Builds the two SAs of static SA i with the given initial sequence numbers
 * (outbound: last used; inbound: window top): 0, or -1 with err set.
 */
int static_sa_pair(const struct config *cfg, const struct dp *dp, unsigned i, uint64_t seq_out,
                   uint64_t seq_in, struct dp_sa **out, struct dp_sa **in, char *err,
                   size_t err_len);
/* Frees the arrays (not the SAs: once installed they belong to the tables). */
void static_sa_release(struct static_sa_set *s);

/* The route table of the config's ports; n_out routes into out (DP_ROUTES_MAX). */
int static_routes_build(const struct config *cfg, struct dp_route *out, unsigned *n_out, char *err,
                        size_t err_len);

#endif
