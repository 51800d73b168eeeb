/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_acl.h>

#include "static_sa.h"

static int prefixes_to_ts(const struct config_prefix *p, unsigned n, struct ts *out,
                          unsigned *n_out, const char *sa, const char *side, char *err,
                          size_t err_len)
{
	unsigned i;

	if (n > DP_SA_TS_MAX) {
		snprintf(err, err_len, "static_sas %s: more than %d %s subnets", sa, DP_SA_TS_MAX,
		         side);
		return -1;
	}
	for (i = 0; i < n; i++) {
		uint8_t fam = p[i].addr.family == AF_INET ? TS_IPV4 : TS_IPV6;

		if (ts_from_prefix(&out[i], fam, p[i].addr.u.bytes, p[i].len, TS_ALLOW_HOST_BITS) !=
		    TS_OK) {
			snprintf(err, err_len, "static_sas %s: bad %s subnet", sa, side);
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
                            enum esp_dir dir, const struct dp_sa_params *p, char *err,
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

int static_sa_build(const struct config *cfg, const struct dp *dp, struct static_sa_set *out,
                    char *err, size_t err_len)
{
	struct dp_sa_params p;
	unsigned i, j, k, nr = 0;

	memset(out, 0, sizeof(*out));
	if (cfg->n_static_sas * 2 > DP_SA_MAX) {
		snprintf(err, err_len, "more than %d static SAs", DP_SA_MAX / 2);
		return -1;
	}
	for (i = 0; i < cfg->n_static_sas; i++)
		nr += cfg->static_sas[i].n_local_subnets * cfg->static_sas[i].n_remote_subnets;
	out->sas = calloc(cfg->n_static_sas * 2 + 1, sizeof(out->sas[0]));
	out->rules = calloc(nr + 1, sizeof(out->rules[0]));
	if (out->sas == NULL || out->rules == NULL) {
		snprintf(err, err_len, "out of memory");
		goto fail;
	}
	for (i = 0; i < cfg->n_static_sas; i++) {
		const struct config_static_sa *s = &cfg->static_sas[i];

		memset(&p, 0, sizeof(p));
		p.name = s->name;
		p.owner = (uint16_t)dp_owner(dp, s->in.spi);
		if (prefixes_to_ts(s->local_subnets, s->n_local_subnets, p.local, &p.n_local,
		                   s->name, "local", err, err_len) != 0 ||
		    prefixes_to_ts(s->remote_subnets, s->n_remote_subnets, p.remote, &p.n_remote,
		                   s->name, "remote", err, err_len) != 0)
			goto fail;
		p.id = 2 * i;
		out->sas[2 * i] = one_sa(cfg, s, ESP_DIR_OUT, &p, err, err_len);
		out->n_sas = 2 * i + 1;
		if (out->sas[2 * i] == NULL)
			goto fail;
		p.id = 2 * i + 1;
		out->sas[2 * i + 1] = one_sa(cfg, s, ESP_DIR_IN, &p, err, err_len);
		out->n_sas = 2 * i + 2;
		if (out->sas[2 * i + 1] == NULL)
			goto fail;
		for (j = 0; j < p.n_local; j++) {
			for (k = 0; k < p.n_remote; k++) {
				struct dp_spd_rule *r = &out->rules[out->n_rules++];

				r->src = p.local[j];
				r->dst = p.remote[k];
				/* The first static SA in the file wins an overlap. */
				r->priority = RTE_ACL_MAX_PRIORITY - 1 - i;
				r->action = DP_SPD_PROTECT;
				r->owner = p.owner;
				r->sa_id = 2 * i;
			}
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
