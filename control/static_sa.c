/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_acl.h>

#include "static_sa.h"

static int prefixes_to_ts(const struct config_prefix *p, unsigned n, struct ts *out,
                          unsigned *n_out, const char *kind, const char *sa, const char *side,
                          char *err, size_t err_len)
{
	unsigned i;

	if (n > DP_SA_TS_MAX) {
		snprintf(err, err_len, "%s %s: more than %d %s subnets", kind, sa, DP_SA_TS_MAX,
		         side);
		return -1;
	}
	for (i = 0; i < n; i++) {
		uint8_t fam = p[i].addr.family == AF_INET ? TS_IPV4 : TS_IPV6;

		if (ts_from_prefix(&out[i], fam, p[i].addr.u.bytes, p[i].len, TS_ALLOW_HOST_BITS) !=
		    TS_OK) {
			snprintf(err, err_len, "%s %s: bad %s subnet", kind, sa, side);
			return -1;
		}
	}
	*n_out = n;
	return 0;
}

/* The tunnel's local end: the first public port of the peer's family. */
static const struct config_port *public_port(const struct config *cfg, int family)
{
	unsigned i;

	for (i = 0; i < cfg->gateway.n_ports; i++) {
		const struct config_port *p = &cfg->gateway.ports[i];

		if (p->role == CONFIG_PORT_PUBLIC && p->address.addr.family == family)
			return p;
	}
	return NULL;
}

static struct dp_sa *one_sa(const struct config *cfg, const struct config_static_sa *s,
                            enum esp_dir dir, uint64_t seq, const struct dp_sa_params *p, char *err,
                            size_t err_len)
{
	const struct config_port *pub = public_port(cfg, s->peer.family);
	const struct config_sa_dir *d = dir == ESP_DIR_OUT ? &s->out : &s->in;
	struct esp_sa_conf c;
	char why[256];
	struct dp_sa *sa;

	memset(&c, 0, sizeof(c));
	c.dir = dir;
	c.spi = d->spi;
	c.encr = s->encryption;
	c.integ = s->integrity;
	c.enc_key = d->enc_key;
	c.enc_key_len = crypto_alg(s->encryption)->key_len;
	c.auth_key = d->auth_key;
	c.auth_key_len = crypto_alg(s->integrity)->key_len;
	c.esn = s->esn;
	c.seq = seq;
	c.replay_window = dir == ESP_DIR_IN ? s->replay_window : 0;
	c.family = s->peer.family;
	if (pub == NULL) {
		snprintf(err, err_len,
		         "static_sas %s: peer is IPv%c but no public port has an IPv%c address",
		         s->name, s->peer.family == AF_INET ? '4' : '6',
		         s->peer.family == AF_INET ? '4' : '6');
		return NULL;
	}
	/* lib/esp names the tunnel ends from our side in both directions. */
	memcpy(c.local, pub->address.addr.u.bytes, 16);
	memcpy(c.remote, s->peer.u.bytes, 16);
	c.udp_encap = s->udp_encap;
	c.ttl = 64;
	sa = dp_sa_create(&c, p, why, sizeof(why));
	if (sa == NULL)
		snprintf(err, err_len, "static_sas %s (%s): %s", s->name,
		         dir == ESP_DIR_OUT ? "out" : "in", why);
	return sa;
}

int static_sa_pair(const struct config *cfg, const struct dp *dp, unsigned i, uint64_t seq_out,
                   uint64_t seq_in, struct dp_sa **out, struct dp_sa **in, char *err,
                   size_t err_len)
{
	const struct config_static_sa *s = &cfg->static_sas[i];
	const struct config_lifetime *l = &s->lifetime;
	struct dp_sa_params p;

	*out = *in = NULL;
	memset(&p, 0, sizeof(p));
	p.name = s->name;
	p.owner = (uint16_t)dp_owner(dp, s->in.spi);
	if (prefixes_to_ts(s->local_subnets, s->n_local_subnets, p.local, &p.n_local, "static_sas",
	                   s->name, "local", err, err_len) != 0 ||
	    prefixes_to_ts(s->remote_subnets, s->n_remote_subnets, p.remote, &p.n_remote,
	                   "static_sas", s->name, "remote", err, err_len) != 0)
		return -1;
	p.hard_packets = l->packets;
	p.soft_packets = config_lifetime_soft(l->packets);
	p.hard_bytes = l->bytes;
	p.soft_bytes = config_lifetime_soft(l->bytes);
	p.hard_seconds = l->seconds;
	p.soft_seconds = config_lifetime_soft(l->seconds);
	p.id = STATIC_SA_SLOT_OUT(i);
	*out = one_sa(cfg, s, ESP_DIR_OUT, seq_out, &p, err, err_len);
	if (*out == NULL)
		return -1;
	p.id = STATIC_SA_SLOT_OUT(i) + 1;
	*in = one_sa(cfg, s, ESP_DIR_IN, seq_in, &p, err, err_len);
	if (*in == NULL) {
		dp_sa_free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

int static_sa_build(const struct config *cfg, const struct dp *dp, struct static_sa_set *out,
                    char *err, size_t err_len)
{
	unsigned i, j, k, nr = 0, np = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < cfg->n_static_sas; i++)
		nr += cfg->static_sas[i].n_local_subnets * cfg->static_sas[i].n_remote_subnets;
	for (i = 0; i < cfg->n_connections; i++)
		np += cfg->connections[i].n_local_subnets * cfg->connections[i].n_remote_subnets;
	nr += 2 * cfg->gateway.n_bypass;
	if ((uint64_t)cfg->n_static_sas * 2 + (uint64_t)np * 2 > DP_SA_MAX) {
		snprintf(err, err_len,
		         "%u static SAs and %u connection policies need more than %d SA slots "
		         "(2 each)",
		         cfg->n_static_sas, np, DP_SA_MAX);
		return -1;
	}
	out->sas = calloc(cfg->n_static_sas * 2 + 1, sizeof(out->sas[0]));
	out->rules = calloc(nr + np + 1, sizeof(out->rules[0]));
	out->policies = calloc(np + 1, sizeof(out->policies[0]));
	if (out->sas == NULL || out->rules == NULL || out->policies == NULL) {
		snprintf(err, err_len, "out of memory");
		goto fail;
	}
	for (i = 0; i < cfg->n_static_sas; i++) {
		struct dp_sa *so, *si;

		if (static_sa_pair(cfg, dp, i, cfg->static_sas[i].out.initial_seq,
		                   cfg->static_sas[i].in.initial_seq, &so, &si, err, err_len) != 0)
			goto fail;
		out->sas[2 * i] = so;
		out->sas[2 * i + 1] = si;
		out->n_sas = 2 * i + 2;
		for (j = 0; j < so->n_local; j++) {
			for (k = 0; k < so->n_remote; k++) {
				struct dp_spd_rule *r = &out->rules[out->n_rules++];

				r->src = so->local[j];
				r->dst = so->remote[k];
				/* The first static SA in the file wins an overlap. */
				r->priority = STATIC_SA_PRIORITY(i);
				r->action = DP_SPD_PROTECT;
				r->owner = so->owner;
				r->sa_id = so->id;
			}
		}
	}
	/*
	 * IKE connections: PROTECT without an SA yet. Their traffic raises
	 * ACQUIRE (once per policy and second per worker) and is dropped as
	 * no_sa until IKE installs the SA in the policy's slot.
	 */
	for (i = 0; i < cfg->n_connections; i++) {
		const struct config_connection *c = &cfg->connections[i];
		struct ts loc[DP_SA_TS_MAX], rem[DP_SA_TS_MAX];
		unsigned nl, nrem;

		if (prefixes_to_ts(c->local_subnets, c->n_local_subnets, loc, &nl, "connections",
		                   c->name, "local", err, err_len) != 0 ||
		    prefixes_to_ts(c->remote_subnets, c->n_remote_subnets, rem, &nrem,
		                   "connections", c->name, "remote", err, err_len) != 0)
			goto fail;
		for (j = 0; j < nl; j++) {
			for (k = 0; k < nrem; k++) {
				struct static_conn_policy *pol = &out->policies[out->n_policies];
				struct dp_spd_rule *r = &out->rules[out->n_rules++];

				pol->conn = i;
				pol->local = j;
				pol->remote = k;
				pol->slot = STATIC_CONN_SLOT(cfg->n_static_sas, out->n_policies);
				pol->owner = (uint16_t)(out->n_policies % dp->n_workers);
				out->n_policies++;
				r->src = loc[j];
				r->dst = rem[k];
				/* Below every static SA; the first connection wins an overlap. */
				r->priority = STATIC_CONN_ACQUIRE_PRIORITY(cfg->n_static_sas, i);
				r->action = DP_SPD_PROTECT;
				r->owner = pol->owner;
				r->sa_id = pol->slot;
			}
		}
	}
	/*
	 * gateway.bypass: plain between two private-side networks, both ways,
	 * above every tunnel (RFC 4301 BYPASS). The data plane forwards such
	 * a packet only to a private port, and the config refuses a bypass
	 * whose remote side a public route could take.
	 */
	for (i = 0; i < cfg->gateway.n_bypass; i++) {
		const struct config_bypass *b = &cfg->gateway.bypass[i];
		struct ts loc, rem;
		unsigned nl, nrem;

		if (prefixes_to_ts(&b->local, 1, &loc, &nl, "gateway.bypass", "entry", "local", err,
		                   err_len) != 0 ||
		    prefixes_to_ts(&b->remote, 1, &rem, &nrem, "gateway.bypass", "entry", "remote",
		                   err, err_len) != 0)
			goto fail;
		for (j = 0; j < 2; j++) {
			struct dp_spd_rule *r = &out->rules[out->n_rules++];

			r->src = j == 0 ? loc : rem;
			r->dst = j == 0 ? rem : loc;
			r->priority = RTE_ACL_MAX_PRIORITY - 1;
			r->action = DP_SPD_BYPASS;
		}
	}
	return 0;
fail:
	for (i = 0; i < out->n_sas; i++)
		dp_sa_free(out->sas[i]);
	static_sa_release(out);
	return -1;
}

void static_sa_release(struct static_sa_set *s)
{
	free(s->sas);
	free(s->rules);
	free(s->policies);
	memset(s, 0, sizeof(*s));
}

static int add_route(struct dp_route *out, unsigned *n, const struct config_prefix *to,
                     unsigned port, const struct config_addr *via, char *err, size_t err_len)
{
	struct dp_route *r;

	if (*n >= DP_ROUTES_MAX) {
		snprintf(err, err_len, "more than %d routes", DP_ROUTES_MAX);
		return -1;
	}
	r = &out[(*n)++];
	memset(r, 0, sizeof(*r));
	r->family = to->addr.family == AF_INET ? 4 : 6;
	r->len = to->len;
	memcpy(r->prefix, to->addr.u.bytes, 16);
	/* The connected prefix's host bits: LPM wants the network address. */
	{
		unsigned b;

		for (b = to->len; b < (r->family == 4 ? 32u : 128u); b++)
			r->prefix[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
	}
	r->port = (uint16_t)port;
	r->onlink = via == NULL;
	if (via != NULL)
		memcpy(r->via, via->u.bytes, 16);
	return 0;
}

int static_routes_build(const struct config *cfg, struct dp_route *out, unsigned *n_out, char *err,
                        size_t err_len)
{
	unsigned pi, i;

	*n_out = 0;
	for (pi = 0; pi < cfg->gateway.n_ports; pi++) {
		const struct config_port *p = &cfg->gateway.ports[pi];

		if (add_route(out, n_out, &p->address, pi, NULL, err, err_len) != 0)
			return -1;
		for (i = 0; i < p->n_routes; i++)
			if (add_route(out, n_out, &p->routes[i].to, pi, &p->routes[i].via, err,
			              err_len) != 0)
				return -1;
		if (p->has_gateway) {
			struct config_prefix def;

			memset(&def, 0, sizeof(def));
			def.addr.family = p->gateway.family;
			if (add_route(out, n_out, &def, pi, &p->gateway, err, err_len) != 0)
				return -1;
		}
	}
	return 0;
}
