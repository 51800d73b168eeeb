/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IKE glue's operations over the data plane (struct ike_ops): inbound
 * SPIs, datagrams out through the control TX queues, child SAs into slot
 * pairs and the SPD that names them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "crypto_rand.h"
#include "ike_frame.h"
#include "ike_glue_int.h"

#define LOG GLUE_LOG

/* ---- inbound SPIs ---- */

uint32_t ike_glue_op_spi_alloc(void *ctx, uint32_t conn)
{
	struct ike_glue *g = ctx;
	unsigned t;

	(void)conn;
	for (t = 0; t < GLUE_SPI_TRIES; t++) {
		uint32_t spi, old;

		crypto_random(&spi, sizeof(spi));
		/* Random, so owners spread over the workers (owner = spi % n_workers). */
		if (spi < GLUE_SPI_MIN || ike_spi_get(&g->spis, spi) != NULL)
			continue;
		/* Remember it until installed; the oldest unused one is forgotten. */
		old = g->recent[g->recent_pos];
		if (old != 0) {
			uint32_t *v = ike_spi_get(&g->spis, old);

			if (v != NULL && *v == GLUE_SPI_RECENT)
				ike_spi_del(&g->spis, old);
		}
		if (ike_spi_put(&g->spis, spi, GLUE_SPI_RECENT) != 0)
			return 0;
		g->recent[g->recent_pos] = spi;
		g->recent_pos = (g->recent_pos + 1) % IKE_GLUE_RECENT_SPIS;
		return spi;
	}
	return 0;
}

/* ---- sending ---- */

static int tx_frame(struct ike_glue *g, unsigned port, const uint8_t *mac,
                    const struct ike_endpoint *l, const struct ike_endpoint *r, const uint8_t *buf,
                    size_t len)
{
	const struct dp_port *p = &g->d->dp.ports[port];
	size_t flen = len + IKE_FRAME_ETH_LEN + IKE_FRAME_UDP_LEN +
	              (l->family == TS_IPV6 ? IKE_FRAME_IP6_LEN : IKE_FRAME_IP4_LEN);
	struct rte_mbuf *m;
	uint8_t *data;

	if (flen - IKE_FRAME_ETH_LEN > p->mtu) {
		g->c.drops[IKE_GLUE_DROP_TX_TOO_BIG]++;
		return -1;
	}
	m = rte_pktmbuf_alloc(g->d->dp.mp);
	if (m == NULL) {
		g->c.drops[IKE_GLUE_DROP_TX_NO_MBUF]++;
		return -1;
	}
	data = rte_pktmbuf_tailroom(m) >= flen ? (uint8_t *)rte_pktmbuf_append(m, (uint16_t)flen)
	                                       : NULL;
	if (data == NULL || ike_frame_build(data, flen, mac, p->mac.addr_bytes, l, r, g->ip_id++,
	                                    buf, len) != flen) {
		rte_pktmbuf_free(m);
		g->c.drops[IKE_GLUE_DROP_TX_TOO_BIG]++;
		return -1;
	}
	if (rte_eth_tx_burst(p->port_id, p->ctl_txq, &m, 1) != 1) {
		rte_pktmbuf_free(m);
		g->c.drops[IKE_GLUE_DROP_TX_FULL]++;
		return -1;
	}
	g->c.tx_frames++;
	return 0;
}

static void pending_add(struct ike_glue *g, unsigned port, uint8_t family, const uint8_t *nh,
                        const struct ike_endpoint *l, const struct ike_endpoint *r,
                        const uint8_t *buf, size_t len)
{
	unsigned i;

	for (i = 0; i < IKE_GLUE_PENDING_MAX; i++) {
		struct glue_pending *p = &g->pending[i];

		if (p->used || p->buf == NULL || len > IKE_MSG_MAX + 4)
			continue;
		p->used = true;
		p->since_ms = ike_glue_now_ms();
		p->port = (uint16_t)port;
		p->family = family;
		memcpy(p->nh, nh, 16);
		p->local = *l;
		p->remote = *r;
		p->len = len;
		memcpy(p->buf, buf, len);
		return;
	}
	/* Full: the engine retransmits. */
	g->c.drops[IKE_GLUE_DROP_TX_NO_MAC]++;
}

void ike_glue_pending_poll(struct ike_glue *g, uint64_t now)
{
	unsigned i;

	for (i = 0; i < IKE_GLUE_PENDING_MAX; i++) {
		struct glue_pending *p = &g->pending[i];
		struct rte_ether_addr mac;

		if (!p->used)
			continue;
		if (slowpath_neigh_lookup(g->d->sp, p->port, p->family, p->nh, &mac)) {
			tx_frame(g, p->port, mac.addr_bytes, &p->local, &p->remote, p->buf, p->len);
			p->used = false;
		} else if (now - p->since_ms > IKE_GLUE_PENDING_MS) {
			g->c.drops[IKE_GLUE_DROP_TX_NO_MAC]++;
			p->used = false;
		}
	}
}

void ike_glue_op_send(void *ctx, const struct ike_endpoint *local,
                      const struct ike_endpoint *remote, const uint8_t *buf, size_t len)
{
	struct ike_glue *g = ctx;
	const struct dp_nexthop *nh;
	struct rte_ether_addr mac;
	uint8_t hop[16] = { 0 };
	int family = remote->family == TS_IPV6 ? 6 : 4;

	nh = g->d->routes != NULL ? dp_route_lookup(g->d->routes, family, remote->addr) : NULL;
	if (nh == NULL || nh->port >= g->d->dp.n_ports || local->family != remote->family) {
		g->c.drops[IKE_GLUE_DROP_TX_NO_ROUTE]++;
		return;
	}
	memcpy(hop, nh->onlink ? remote->addr : nh->via, family == 4 ? 4 : 16);
	if (slowpath_neigh_lookup(g->d->sp, nh->port, family, hop, &mac)) {
		tx_frame(g, nh->port, mac.addr_bytes, local, remote, buf, len);
		return;
	}
	slowpath_resolve(g->d->sp, nh->port, family, hop);
	pending_add(g, nh->port, (uint8_t)family, hop, local, remote, buf, len);
}

/* ---- children: SAs, slots, SPD ---- */

struct glue_child *ike_glue_child_of_slot(struct ike_glue *g, uint32_t slot)
{
	uint32_t pair;

	if (slot < g->first_slot || slot >= DP_SA_MAX)
		return NULL;
	pair = (slot - g->first_slot) / 2;
	return pair < g->n_pairs && g->children[pair].used ? &g->children[pair] : NULL;
}

uint32_t ike_glue_child_slot(const struct ike_glue *g, const struct glue_child *c)
{
	return g->first_slot + 2u * (uint32_t)(c - g->children);
}

struct glue_child *ike_glue_child_by_spi(struct ike_glue *g, uint32_t spi_in)
{
	uint32_t *v = ike_spi_get(&g->spis, spi_in);

	if (v == NULL || *v >= g->n_pairs || !g->children[*v].used)
		return NULL;
	return &g->children[*v];
}

static struct glue_child *pair_alloc(struct ike_glue *g)
{
	uint32_t i;

	/*
	 * Next fit: a freed pair is reused only after every other one, so an
	 * SA on its way back from a worker never shares a slot with a new one.
	 */
	for (i = 0; i < g->n_pairs; i++) {
		uint32_t p = (g->next_pair + i) % g->n_pairs;

		if (!g->children[p].used) {
			g->next_pair = (p + 1) % g->n_pairs;
			return &g->children[p];
		}
	}
	return NULL;
}

static bool pair_seen(const struct dp_spd_rule *from, const struct dp_spd_rule *to,
                      const struct ts *src, const struct ts *dst)
{
	for (; from < to; from++)
		if (ts_equal(&from->src, src) && ts_equal(&from->dst, dst))
			return true;
	return false;
}

/*
 * The SPD of the base rules plus, per connection, its children's selector
 * pairs naming their outbound slot, newest child first (a pair already
 * taken by a newer child is left out: after a rekey the old outbound SA
 * gets no more traffic). Built whole and handed over (rule 3).
 *
 * Installs only mark the SPD dirty: it is rebuilt once per tick however
 * many children came (an rte_acl build is the costly part), the old
 * outbound SA carrying traffic meanwhile. A delete rebuilds at once, but
 * only when the current SPD still names the child.
 */
int ike_glue_spd_rebuild(struct ike_glue *g)
{
	struct daemon *d = g->d;
	size_t n = g->n_base_rules;
	struct dp_spd_rule *rules;
	struct dp_spd *spd;
	char err[256];
	uint32_t conn, ci;

	for (conn = 0; conn < g->cfg->n_connections; conn++)
		for (ci = g->conn_head[conn]; ci != GLUE_NONE; ci = g->children[ci].next) {
			const struct dp_sa *out = d->sas[ike_glue_child_slot(g, &g->children[ci])];

			if (out != NULL)
				n += (size_t)out->n_local * out->n_remote;
		}
	rules = calloc(n + 1, sizeof(rules[0]));
	if (rules == NULL)
		return -1;
	memcpy(rules, g->base_rules, g->n_base_rules * sizeof(rules[0]));
	n = g->n_base_rules;
	for (conn = 0; conn < g->cfg->n_connections; conn++) {
		const struct dp_spd_rule *first = &rules[n];

		for (ci = g->conn_head[conn]; ci != GLUE_NONE; ci = g->children[ci].next)
			g->children[ci].in_spd = false;
		/*
		 * Newest first, so a rekey's child takes its pairs from the one it
		 * replaces; children waiting for child_outbound come last, taking
		 * only pairs that no other child covers.
		 */
		for (unsigned pass = 0; pass < 2; pass++)
			for (ci = g->conn_head[conn]; ci != GLUE_NONE; ci = g->children[ci].next) {
				uint32_t slot = ike_glue_child_slot(g, &g->children[ci]);
				const struct dp_sa *out = d->sas[slot];
				unsigned j, k;

				if (out == NULL ||
				    (g->children[ci].outbound_at_ms != 0) != (pass == 1))
					continue;
				for (j = 0; j < out->n_local; j++)
					for (k = 0; k < out->n_remote; k++) {
						struct dp_spd_rule *r = &rules[n];

						if (pair_seen(first, r, &out->local[j],
						              &out->remote[k]))
							continue;
						r->src = out->local[j];
						r->dst = out->remote[k];
						r->priority = STATIC_CONN_CHILD_PRIORITY(
						        g->cfg->n_static_sas, conn);
						r->action = DP_SPD_PROTECT;
						r->owner = out->owner;
						r->sa_id = slot;
						n++;
						g->children[ci].in_spd = true;
					}
			}
	}
	spd = dp_spd_build(rules, (unsigned)n, err, sizeof(err));
	if (spd == NULL) {
		LOG("ike: SPD rebuild failed: %s\n", err);
		free(rules);
		return -1;
	}
	free(d->spd_rules);
	d->spd_rules = rules;
	d->n_spd_rules = (unsigned)n;
	daemon_spd_set(d, spd);
	g->c.spd_rebuilds++;
	g->spd_dirty = false;
	return 0;
}

static struct dp_sa *child_sa(struct ike_glue *g, const struct ike_child *c, enum esp_dir dir,
                              struct dp_sa_params *p, char *err, size_t err_len)
{
	const uint8_t *key = dir == ESP_DIR_OUT ? c->key_out : c->key_in;
	struct esp_sa_conf conf;

	memset(&conf, 0, sizeof(conf));
	conf.dir = dir;
	conf.spi = dir == ESP_DIR_OUT ? c->spi_out : c->spi_in;
	conf.encr = c->encr;
	conf.integ = c->integ;
	conf.enc_key = key;
	conf.enc_key_len = c->enc_key_len;
	conf.auth_key = c->auth_key_len ? key + c->enc_key_len : NULL;
	conf.auth_key_len = c->auth_key_len;
	conf.esn = c->esn;
	conf.replay_window = dir == ESP_DIR_IN ? IKE_GLUE_REPLAY_WINDOW : 0;
	conf.family = c->local.family == TS_IPV6 ? AF_INET6 : AF_INET;
	/* lib/esp names the tunnel ends from our side in both directions. */
	memcpy(conf.local, c->local.addr, 16);
	memcpy(conf.remote, c->remote.addr, 16);
	conf.udp_encap = c->udp_encap;
	conf.udp_sport = c->udp_encap ? c->local.port : 0;
	conf.udp_dport = c->udp_encap ? c->remote.port : 0;
	conf.ttl = 64;
	(void)g;
	return dp_sa_create(&conf, p, err, err_len);
}

static void sa_install(struct daemon *d, struct dp_sa *sa)
{
	struct dp_msg m = { .type = DP_MSG_SA_ADD, .ptr = sa };

	d->sas[sa->id] = sa;
	daemon_send(d, sa->owner, &m);
	daemon_sa_metrics(d, sa, true);
}

static void sa_remove(struct daemon *d, uint32_t slot)
{
	struct dp_sa *sa = d->sas[slot];
	struct dp_msg m = { .type = DP_MSG_SA_DEL };

	if (sa == NULL)
		return;
	/* The owner takes it out of its tables and returns it (RETIRED), then it is freed. */
	daemon_sa_metrics(d, sa, false);
	d->sas[slot] = NULL;
	m.ptr = sa;
	d->c.retire_expected++;
	daemon_send(d, sa->owner, &m);
}

/* The smaller of two limits where 0 means none. */
static uint64_t limit_min(uint64_t a, uint64_t b)
{
	if (a == 0)
		return b;
	return b != 0 && b < a ? b : a;
}

int ike_glue_op_child_install(void *ctx, const struct ike_child *c)
{
	struct ike_glue *g = ctx;
	struct daemon *d = g->d;
	struct dp_sa_params p;
	struct glue_child *ch;
	struct dp_sa *in = NULL, *out = NULL;
	uint32_t *e;
	char err[256];
	uint32_t slot;

	if (c->conn >= g->cfg->n_connections || c->spi_in == 0 || c->n_ts_local == 0 ||
	    c->n_ts_remote == 0 || c->n_ts_local > DP_SA_TS_MAX || c->n_ts_remote > DP_SA_TS_MAX ||
	    c->local.family != c->remote.family) {
		LOG("ike: child install refused: bad child (connection %u, spi 0x%08x)\n", c->conn,
		    c->spi_in);
		goto fail;
	}
	e = ike_spi_get(&g->spis, c->spi_in);
	if (e != NULL && *e != GLUE_SPI_RECENT) {
		LOG("ike: connection %s: inbound SPI 0x%08x already in use\n",
		    g->cfg->connections[c->conn].name, c->spi_in);
		goto fail;
	}
	ch = pair_alloc(g);
	if (ch == NULL) {
		LOG("ike: connection %s: no free SA slot\n", g->cfg->connections[c->conn].name);
		goto fail;
	}
	slot = ike_glue_child_slot(g, ch);
	memset(&p, 0, sizeof(p));
	p.name = g->cfg->connections[c->conn].name;
	p.owner = (uint16_t)dp_owner(&d->dp, c->spi_in);
	memcpy(p.local, c->ts_local, c->n_ts_local * sizeof(p.local[0]));
	p.n_local = c->n_ts_local;
	memcpy(p.remote, c->ts_remote, c->n_ts_remote * sizeof(p.remote[0]));
	p.n_remote = c->n_ts_remote;
	/*
	 * The engine rekeys by time itself; the data plane enforces the hard
	 * limit, and counts volume: its soft event makes the engine rekey.
	 */
	p.hard_seconds = c->lifetime_s;
	p.hard_bytes =
	        limit_min(c->lifetime_bytes, g->cfg->connections[c->conn].ipsec.lifetime_bytes);
	p.soft_bytes = config_lifetime_soft(p.hard_bytes);
	p.hard_packets =
	        limit_min(c->lifetime_packets, g->cfg->connections[c->conn].ipsec.lifetime_packets);
	p.soft_packets = config_lifetime_soft(p.hard_packets);
	p.id = slot + 1;
	in = child_sa(g, c, ESP_DIR_IN, &p, err, sizeof(err));
	p.id = slot;
	out = in != NULL ? child_sa(g, c, ESP_DIR_OUT, &p, err, sizeof(err)) : NULL;
	if (in == NULL || out == NULL) {
		LOG("ike: connection %s: child SA spi 0x%08x/0x%08x: %s\n",
		    g->cfg->connections[c->conn].name, c->spi_in, c->spi_out, err);
		dp_sa_free(in);
		goto fail;
	}
	ch->used = true;
	ch->conn = c->conn;
	ch->spi_in = c->spi_in;
	ch->spi_out = c->spi_out;
	ch->installed_ms = ike_glue_now_ms();
	ch->outbound_at_ms = c->outbound_later ? ch->installed_ms + IKE_OUTBOUND_WAIT_MS : 0;
	g->n_outbound_waiting += c->outbound_later;
	ch->next = g->conn_head[c->conn];
	g->conn_head[c->conn] = (uint32_t)(ch - g->children);
	/* Room for every slot pair and the recent ones: this never fails. */
	ike_spi_put(&g->spis, c->spi_in, (uint32_t)(ch - g->children));
	/* Inbound first: the peer may send as soon as it has installed its side. */
	sa_install(d, in);
	sa_install(d, out);
	/* Then the SPD names the new outbound slot (after SA_ADD in the owner's ring). */
	ch->in_spd = false;
	g->spd_dirty = true;
	g->c.children_installed++;
	LOG("ike: connection %s: child SA installed: in 0x%08x out 0x%08x on worker %u%s\n",
	    g->cfg->connections[c->conn].name, c->spi_in, c->spi_out, out->owner,
	    c->udp_encap ? " (ESP in UDP)" : "");
	return 0;
fail:
	g->c.install_failed++;
	return -1;
}

/* A child waiting for child_outbound sends now: the SPD names it. */
static void outbound_now(struct ike_glue *g, struct glue_child *ch)
{
	ch->outbound_at_ms = 0;
	g->n_outbound_waiting--;
	g->spd_dirty = true; /* retried each tick until a rebuild succeeds */
	if (ike_glue_spd_rebuild(g) != 0)
		LOG("ike: connection %s: SPD not rebuilt; child 0x%08x sends once it is\n",
		    g->cfg->connections[ch->conn].name, ch->spi_in);
}

void ike_glue_op_child_outbound(void *ctx, uint32_t conn, uint32_t spi_in)
{
	struct ike_glue *g = ctx;
	struct glue_child *ch = ike_glue_child_by_spi(g, spi_in);

	if (ch != NULL && ch->conn == conn && ch->outbound_at_ms != 0)
		outbound_now(g, ch);
}

void ike_glue_outbound_poll(struct ike_glue *g, uint64_t now)
{
	if (g->n_outbound_waiting == 0)
		return;
	for (uint32_t conn = 0; conn < g->cfg->n_connections; conn++)
		for (uint32_t ci = g->conn_head[conn]; ci != GLUE_NONE; ci = g->children[ci].next) {
			struct glue_child *ch = &g->children[ci];

			if (ch->outbound_at_ms != 0 && now >= ch->outbound_at_ms) {
				LOG("ike: connection %s: child 0x%08x sends: the peer did not "
				    "confirm within %u ms\n",
				    g->cfg->connections[conn].name, ch->spi_in,
				    (unsigned)IKE_OUTBOUND_WAIT_MS);
				outbound_now(g, ch);
			}
		}
}

void ike_glue_op_child_delete(void *ctx, uint32_t conn, uint32_t spi_in)
{
	struct ike_glue *g = ctx;
	struct glue_child *ch = ike_glue_child_by_spi(g, spi_in);
	uint32_t *link, idx, slot;

	if (ch == NULL || ch->conn != conn) {
		LOG("ike: child delete: no child with inbound SPI 0x%08x on connection %u\n",
		    spi_in, conn);
		return;
	}
	idx = (uint32_t)(ch - g->children);
	for (link = &g->conn_head[conn]; *link != GLUE_NONE; link = &g->children[*link].next)
		if (*link == idx) {
			*link = ch->next;
			break;
		}
	ch->used = false;
	if (ch->outbound_at_ms != 0)
		g->n_outbound_waiting--;
	ike_spi_del(&g->spis, spi_in);
	slot = ike_glue_child_slot(g, ch);
	/*
	 * The SPD stops naming the slot before the SAs go: a newer child (or
	 * the ACQUIRE rule, when none is left) takes the traffic first. After
	 * a rekey the SPD already names the new child: nothing to rebuild.
	 */
	if (ch->in_spd)
		g->spd_dirty = true; /* retried each tick until a rebuild succeeds */
	if (ch->in_spd && ike_glue_spd_rebuild(g) != 0)
		LOG("ike: connection %s: SPD not rebuilt; child 0x%08x's traffic is dropped until "
		    "the next rebuild\n",
		    g->cfg->connections[conn].name, spi_in);
	sa_remove(g->d, slot);
	sa_remove(g->d, slot + 1);
	g->c.children_deleted++;
	LOG("ike: connection %s: child SA deleted: in 0x%08x out 0x%08x%s\n",
	    g->cfg->connections[conn].name, spi_in, ch->spi_out,
	    g->conn_head[conn] == GLUE_NONE ? "; no child left, traffic waits for IKE" : "");
}
