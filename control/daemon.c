/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include "daemon.h"
#include "dp_port.h"
#include "dp_worker.h"
#include "static_sa.h"

#define LOG(...) fprintf(stderr, "vpngw: " __VA_ARGS__)

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int daemon_send(struct daemon *d, unsigned w, const struct dp_msg *m)
{
	unsigned tries;

	/*
	 * A full ring means the worker is behind: wait up to ~100 ms for room,
	 * taking its events meanwhile, so that what it retires while it works
	 * through our messages never overflows its event ring.
	 */
	for (tries = 0; tries < 1000; tries++) {
		if (dp_msg_send(d->dp.workers[w].msg, m) == 0)
			return 0;
		daemon_drain_events(d);
		rte_delay_us_sleep(100);
	}
	d->c.messages_lost++;
	LOG("worker %u: message ring full, message %u lost\n", w, m->type);
	return -1;
}

static void send_all(struct daemon *d, const struct dp_msg *m)
{
	unsigned w;

	for (w = 0; w < d->dp.n_workers; w++)
		daemon_send(d, w, m);
}

void daemon_rate_set(struct daemon *d, uint32_t mbps)
{
	struct dp_msg m = { .type = DP_MSG_RATE_SET };

	/* Each worker meters its share: the sum is the gateway's bandwidth. */
	m.arg = (uint32_t)((uint64_t)mbps * 1000 / d->dp.n_workers);
	if (mbps != 0 && m.arg == 0)
		m.arg = 1;
	d->rate_mbps = mbps;
	send_all(d, &m);
}

/* A shared table replaced: free it once every worker has given it back. */
static void retire_shared(struct daemon *d, void *ptr, uint8_t kind)
{
	unsigned i, tries;

	if (ptr == NULL)
		return;
	/* Tables sent faster than the workers return them: wait up to ~1 s for a slot. */
	for (tries = 0; tries < 10000; tries++) {
		for (i = 0; i < DAEMON_RETIRING_MAX; i++) {
			if (d->retiring[i].ptr == NULL) {
				d->retiring[i] =
				        (struct daemon_retiring){ ptr, kind, d->dp.n_workers };
				d->c.retire_expected += d->dp.n_workers;
				return;
			}
		}
		daemon_drain_events(d);
		rte_delay_us_sleep(100);
	}
	LOG("too many tables retiring; one is leaked\n");
}

void daemon_spd_set(struct daemon *d, struct dp_spd *spd)
{
	struct dp_msg m = { .type = DP_MSG_SPD_SET, .ptr = spd };

	retire_shared(d, d->spd, DP_RETIRED_SPD);
	d->spd = spd;
	d->c.tables_sent++;
	send_all(d, &m);
}

void daemon_routes_set(struct daemon *d, struct dp_routes *routes)
{
	struct dp_msg m = { .type = DP_MSG_ROUTE_SET, .ptr = routes };

	retire_shared(d, d->routes, DP_RETIRED_ROUTES);
	d->routes = routes;
	d->c.tables_sent++;
	send_all(d, &m);
}

static void free_object(void *ptr, uint8_t kind)
{
	if (kind == DP_RETIRED_SPD)
		dp_spd_free(ptr);
	else if (kind == DP_RETIRED_ROUTES)
		dp_routes_free(ptr);
	else
		dp_sa_free(ptr);
}

static void retired(struct daemon *d, const struct dp_event *ev)
{
	struct dp_sa *sa = ev->ptr;
	unsigned i;

	if (ev->kind == DP_RETIRED_SA) {
		/* An SA still installed came back: its worker's table was full. */
		if (sa->id < DP_SA_MAX && d->sas[sa->id] == sa) {
			LOG("SA %s spi 0x%08x refused by worker %u (table full)\n", sa->name,
			    sa->spi, ev->worker);
			daemon_sa_metrics(d, sa, false);
			d->sas[sa->id] = NULL;
			d->c.sa_refused++;
		} else {
			d->c.retired++;
		}
		dp_sa_free(sa);
		return;
	}
	for (i = 0; i < DAEMON_RETIRING_MAX; i++) {
		struct daemon_retiring *r = &d->retiring[i];

		if (r->ptr == ev->ptr)
			d->c.retired++;
		if (r->ptr == ev->ptr && --r->left == 0) {
			free_object(r->ptr, r->kind);
			r->ptr = NULL;
		}
		if (r->ptr == ev->ptr)
			return;
	}
}

static const char *dir_name(const struct dp_sa *sa)
{
	return sa->dir == ESP_DIR_OUT ? "out" : "in";
}

/* A limit in words for the log: "packets 90 of 90 (hard 100)". */
static void limit_text(const struct dp_sa *sa, enum dp_sa_limit l, bool hard, char *buf, size_t len)
{
	switch (l) {
	case DP_SA_LIMIT_PACKETS:
		snprintf(buf, len, "packets: %llu, %s limit %llu",
		         (unsigned long long)sa->c.packets, hard ? "hard" : "soft",
		         (unsigned long long)(hard ? sa->hard_packets : sa->soft_packets));
		break;
	case DP_SA_LIMIT_BYTES:
		snprintf(buf, len, "bytes: %llu, %s limit %llu", (unsigned long long)sa->c.bytes,
		         hard ? "hard" : "soft",
		         (unsigned long long)(hard ? sa->hard_bytes : sa->soft_bytes));
		break;
	case DP_SA_LIMIT_SECONDS:
		snprintf(buf, len, "seconds: %s limit %llu s", hard ? "hard" : "soft",
		         (unsigned long long)(hard ? sa->hard_seconds : sa->soft_seconds));
		break;
	default:
		snprintf(buf, len, "limit not identified");
		break;
	}
}

static void sa_event(struct daemon *d, struct dp_sa *sa, uint32_t type)
{
	struct dp_sa_ctl *ctl = &sa->ctl;
	char what[128];
	enum dp_sa_limit l;

	switch (type) {
	case DP_EV_SOFT_EXPIRE:
		d->c.soft_expires++;
		ctl->events[DP_SA_EV_SOFT]++;
		l = dp_sa_limit_reached(sa, false);
		ctl->soft_limit = (uint8_t)l;
		if (ctl->state < DP_SA_SOFT_EXPIRED)
			ctl->state = DP_SA_SOFT_EXPIRED;
		limit_text(sa, l, false, what, sizeof(what));
		LOG("SA %s %s spi 0x%08x: soft lifetime reached (%s)\n", sa->name, dir_name(sa),
		    sa->spi, what);
		ike_glue_sa_event(d->ike, sa, type);
		break;
	case DP_EV_HARD_EXPIRE:
		d->c.hard_expires++;
		ctl->events[DP_SA_EV_HARD]++;
		l = dp_sa_limit_reached(sa, true);
		ctl->hard_limit = (uint8_t)l;
		ctl->state = DP_SA_EXPIRED;
		limit_text(sa, l, true, what, sizeof(what));
		/*
		 * Static SAs have nobody to renegotiate them: expired they stay.
		 * A negotiated child's engine hears of it and replaces it.
		 */
		LOG("SA %s %s spi 0x%08x: hard lifetime reached (%s); SA stopped, its packets "
		    "dropped as sa_expired%s\n",
		    sa->name, dir_name(sa), sa->spi, what,
		    ike_glue_sa_event(d->ike, sa, type) ? "; IKE deletes and renegotiates it" : "");
		return;
	case DP_EV_SEQ_NEAR_END:
		d->c.seq_near_end++;
		ctl->events[DP_SA_EV_SEQ]++;
		if (ctl->state < DP_SA_SEQ_NEAR_END)
			ctl->state = DP_SA_SEQ_NEAR_END;
		LOG("SA %s %s spi 0x%08x: sequence numbers nearly used up (last %llu of "
		    "4294967295, no ESN); the SA stops at the end\n",
		    sa->name, dir_name(sa), sa->spi, (unsigned long long)esp_sa_seq(sa->esp));
		ike_glue_sa_event(d->ike, sa, type);
		break;
	default:
		break;
	}
}

static void acquire(struct daemon *d, const struct dp_event *ev)
{
	uint32_t base = STATIC_CONN_SLOT(d->cfg->n_static_sas, 0), p;
	struct daemon_policy *pol;
	const struct config_connection *c;
	struct daemon_conn *dc;
	char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
	uint64_t t = now_ms();

	d->c.acquires++;
	if (ev->sa_id < base || (ev->sa_id - base) % 2 != 0 ||
	    (p = (ev->sa_id - base) / 2) >= d->n_policies) {
		d->c.acquires_unknown++;
		return;
	}
	pol = &d->policies[p];
	c = &d->cfg->connections[pol->p.conn];
	dc = &d->conns[pol->p.conn];
	pol->acquires++;
	dc->acquires++;
	dc->last_acquire_ms = t;
	dc->last_policy = p;
	/* The engine initiates unless it already negotiates (it decides). */
	ike_glue_acquire(d->ike, pol->p.conn);
	/* Counted every time; logged once per policy and interval. */
	if (pol->last_log_ms != 0 && t - pol->last_log_ms < DAEMON_ACQUIRE_LOG_MS)
		return;
	pol->last_log_ms = t;
	inet_ntop(c->local_subnets[pol->p.local].addr.family,
	          c->local_subnets[pol->p.local].addr.u.bytes, l, sizeof(l));
	inet_ntop(c->remote_subnets[pol->p.remote].addr.family,
	          c->remote_subnets[pol->p.remote].addr.u.bytes, r, sizeof(r));
	LOG("acquire: connection %s (%s/%u -> %s/%u): traffic waits for an SA\n", c->name, l,
	    c->local_subnets[pol->p.local].len, r, c->remote_subnets[pol->p.remote].len);
}

static void handle_event(struct daemon *d, const struct dp_event *ev)
{
	switch (ev->type) {
	case DP_EV_RETIRED:
		retired(d, ev);
		break;
	case DP_EV_ACQUIRE:
		acquire(d, ev);
		break;
	case DP_EV_SOFT_EXPIRE:
	case DP_EV_HARD_EXPIRE:
	case DP_EV_SEQ_NEAR_END:
		/* The SA is alive: its RETIRED event, if any, comes after this one. */
		sa_event(d, ev->ptr, ev->type);
		break;
	case DP_EV_NEIGH_MISS:
		d->c.neigh_misses++;
		slowpath_resolve(d->sp, ev->port, ev->family, ev->ip);
		break;
	default:
		break;
	}
}

static unsigned drain_worker_events(struct daemon *d, unsigned w)
{
	struct dp_event evs[32];
	unsigned i, n;

	n = rte_ring_dequeue_burst_elem(d->dp.workers[w].events, evs, sizeof(evs[0]), 32, NULL);
	for (i = 0; i < n; i++)
		handle_event(d, &evs[i]);
	return n;
}

void daemon_drain_events(struct daemon *d)
{
	unsigned w;

	/* Handlers may send (a neighbour learned): no drain inside a drain. */
	if (d->draining || d->dp.workers == NULL)
		return;
	d->draining = true;
	for (w = 0; w < d->dp.n_workers; w++)
		while (drain_worker_events(d, w) > 0)
			;
	d->draining = false;
}

static void neigh_update(void *ctx, unsigned port_idx, int family, const uint8_t *ip,
                         const struct rte_ether_addr *mac)
{
	struct daemon *d = ctx;
	struct dp_msg m = { .type = DP_MSG_NEIGH_SET };

	m.port = (uint16_t)port_idx;
	m.family = (uint8_t)family;
	memcpy(m.ip, ip, family == 4 ? 4 : 16);
	m.valid = mac != NULL;
	if (mac != NULL)
		memcpy(m.mac, mac->addr_bytes, 6);
	send_all(d, &m);
}

static unsigned poll_workers(struct daemon *d)
{
	struct rte_mbuf *pkts[32];
	unsigned w, i, n, moved = 0;

	for (w = 0; w < d->dp.n_workers; w++) {
		struct dp_worker *wk = &d->dp.workers[w];

		d->draining = true;
		moved += drain_worker_events(d, w);
		d->draining = false;
		n = rte_ring_sc_dequeue_burst(wk->punt, (void **)pkts, 32, NULL);
		for (i = 0; i < n; i++) {
			uint32_t tag = pkts[i]->hash.usr;

			if (tag & DP_PUNT_IKE) {
				d->c.ike_punted++;
				if (d->ike != NULL)
					ike_glue_input(d->ike, DP_PUNT_PORT(tag), pkts[i]);
				else
					rte_pktmbuf_free(pkts[i]);
			} else {
				d->c.slow_punted++;
				slowpath_input(d->sp, DP_PUNT_PORT(tag), pkts[i]);
			}
		}
		moved += n;
	}
	return moved;
}

void daemon_run(struct daemon *d)
{
	uint64_t last_link = 0, last_ike = 0, t;

	while (!*d->stop) {
		unsigned moved = poll_workers(d);

		t = now_ms();
		slowpath_poll(d->sp, t);
		/* IKE timers: every few ms (the engines want at least every 100 ms). */
		if (t - last_ike >= DAEMON_IKE_TICK_MS) {
			ike_glue_tick(d->ike, t);
			last_ike = t;
		}
		api_poll(d->api);
		if (t - last_link >= 1000) {
			dp_ports_poll_link(&d->dp);
			last_link = t;
		}
		/* The control thread is no packet path: when idle it sleeps, sharing the core. */
		if (moved == 0)
			rte_delay_us_sleep(500);
	}
}

/* ---- start-up ---- */

static int pick_workers(struct daemon *d, char *err, size_t err_len)
{
	const struct config_gateway *g = &d->cfg->gateway;
	unsigned lc, n = 0, i;

	if (g->workers == CONFIG_WORKERS_LIST) {
		for (i = 0; i < g->n_workers; i++) {
			lc = g->lcores[i];
			if (lc == rte_get_main_lcore() || !rte_lcore_is_enabled(lc)) {
				snprintf(err, err_len,
				         "gateway.workers: lcore %u is not an EAL worker lcore "
				         "(EAL -l)",
				         lc);
				return -1;
			}
			d->dp.worker_lcores[n++] = lc;
		}
	} else {
		RTE_LCORE_FOREACH_WORKER(lc)
		{
			if (n == DP_MAX_WORKERS ||
			    (g->workers == CONFIG_WORKERS_COUNT && n == g->n_workers))
				break;
			d->dp.worker_lcores[n++] = lc;
		}
		if (g->workers == CONFIG_WORKERS_COUNT && n < g->n_workers) {
			snprintf(err, err_len,
			         "gateway.workers: %u wanted, EAL gives %u worker lcores (EAL -l)",
			         g->n_workers, n);
			return -1;
		}
	}
	if (n == 0) {
		snprintf(err, err_len, "no worker lcore: give EAL two or more lcores (-l 0-1)");
		return -1;
	}
	if (n > DP_MAX_WORKERS) {
		snprintf(err, err_len, "more than %d workers", DP_MAX_WORKERS);
		return -1;
	}
	d->dp.n_workers = n;
	return 0;
}

static void ports_from_config(struct daemon *d)
{
	const struct config_gateway *g = &d->cfg->gateway;
	unsigned i;

	d->dp.n_ports = g->n_ports;
	for (i = 0; i < g->n_ports; i++) {
		const struct config_port *c = &g->ports[i];
		struct dp_port *p = &d->dp.ports[i];

		snprintf(p->name, sizeof(p->name), "%s", c->name);
		p->role = c->role == CONFIG_PORT_PUBLIC ? DP_PORT_PUBLIC : DP_PORT_PRIVATE;
		p->mtu = c->mtu;
		if (c->address.addr.family == AF_INET) {
			p->has_v4 = true;
			memcpy(p->v4, c->address.addr.u.bytes, 4);
			p->v4_prefix = c->address.len;
		} else {
			p->has_v6 = true;
			memcpy(p->v6, c->address.addr.u.bytes, 16);
			p->v6_prefix = c->address.len;
		}
	}
}

static void install_sa(struct daemon *d, struct dp_sa *sa)
{
	struct dp_msg m = { .type = DP_MSG_SA_ADD, .ptr = sa };

	d->sas[sa->id] = sa;
	daemon_send(d, sa->owner, &m);
	daemon_sa_metrics(d, sa, true);
}

static int install_tables(struct daemon *d, char *err, size_t err_len)
{
	struct static_sa_set set;
	struct dp_routes *rt;
	struct dp_spd *spd;
	unsigned i;

	d->route_list = calloc(DP_ROUTES_MAX, sizeof(d->route_list[0]));
	if (d->route_list == NULL)
		return -1;
	rt = NULL;
	if (static_routes_build(d->cfg, d->route_list, &d->n_routes, err, err_len) != 0 ||
	    (rt = dp_routes_build(d->route_list, d->n_routes, err, err_len)) == NULL)
		return -1;
	daemon_routes_set(d, rt);
	if (static_sa_build(d->cfg, &d->dp, &set, err, err_len) != 0)
		return -1;
	spd = dp_spd_build(set.rules, set.n_rules, err, err_len);
	if (spd == NULL) {
		for (i = 0; i < set.n_sas; i++)
			dp_sa_free(set.sas[i]);
		static_sa_release(&set);
		return -1;
	}
	daemon_spd_set(d, spd);
	for (i = 0; i < set.n_sas; i++) {
		struct dp_sa *sa = set.sas[i];

		install_sa(d, sa);
		LOG("SA %s %s spi 0x%08x on worker %u\n", sa->name, dir_name(sa), sa->spi,
		    sa->owner);
	}
	/* Keep what the tables came from (resend), and the connections' policies. */
	d->spd_rules = set.rules;
	d->n_spd_rules = set.n_rules;
	set.rules = NULL;
	d->n_policies = set.n_policies;
	d->policies = calloc(set.n_policies + 1, sizeof(d->policies[0]));
	if (d->policies == NULL) {
		static_sa_release(&set);
		return -1;
	}
	for (i = 0; i < set.n_policies; i++)
		d->policies[i].p = set.policies[i];
	static_sa_release(&set);
	return 0;
}

int daemon_sa_replace(struct daemon *d, const char *name, unsigned count, char *err, size_t err_len)
{
	unsigned i, n;

	for (i = 0; i < d->cfg->n_static_sas; i++)
		if (strcmp(d->cfg->static_sas[i].name, name) == 0)
			break;
	if (i == d->cfg->n_static_sas) {
		snprintf(err, err_len, "no static SA named \"%s\"", name);
		return -1;
	}
	for (n = 0; n < count; n++) {
		struct dp_sa *old_out = d->sas[STATIC_SA_SLOT_OUT(i)];
		struct dp_sa *old_in = d->sas[STATIC_SA_SLOT_OUT(i) + 1];
		struct dp_sa *so, *si;

		if (old_out == NULL || old_in == NULL) {
			snprintf(err, err_len, "static SA %s is not installed", name);
			return -1;
		}
		/*
		 * Same SPIs and keys: the owner worker, as it swaps the new SAs
		 * in, carries the old ones' sequence number, replay window and
		 * counters over (dp_worker.c), so no sequence number (nor, for
		 * AEAD, IV) is used twice under one key and none is skipped.
		 * Control never reads them from under the worker.
		 */
		if (static_sa_pair(d->cfg, &d->dp, i, d->cfg->static_sas[i].out.initial_seq,
		                   d->cfg->static_sas[i].in.initial_seq, &so, &si, err,
		                   err_len) != 0)
			return -1;
		/* Make-before-break: the worker swaps the new SA in, then returns the old. */
		daemon_sa_metrics(d, old_out, false);
		daemon_sa_metrics(d, old_in, false);
		install_sa(d, so);
		install_sa(d, si);
		d->c.retire_expected += 2;
		d->c.sa_replaced++;
		daemon_drain_events(d);
	}
	LOG("static SA %s replaced %u time(s)\n", name, count);
	return 0;
}

/* Waits (taking events) until no shared table is out for retiring; 0 or -1. */
static int wait_retiring(struct daemon *d, unsigned tries)
{
	unsigned i, t;

	for (t = 0; t < tries; t++) {
		daemon_drain_events(d);
		for (i = 0; i < DAEMON_RETIRING_MAX; i++)
			if (d->retiring[i].ptr != NULL)
				break;
		if (i == DAEMON_RETIRING_MAX)
			return 0;
		rte_delay_us_sleep(100);
	}
	return -1;
}

int daemon_tables_resend(struct daemon *d, unsigned count, char *err, size_t err_len)
{
	unsigned n;

	for (n = 0; n < count; n++) {
		struct dp_spd *spd;
		struct dp_routes *rt;

		/*
		 * A route table holds a 64 MiB LPM: build the next one only once
		 * every worker has returned the previous (up to ~2 s), so a
		 * resend loop never piles tables up in memory.
		 */
		if (wait_retiring(d, 20000) != 0) {
			snprintf(err, err_len,
			         "tables_resend: workers did not return the "
			         "previous tables within 2 s");
			return -1;
		}
		spd = dp_spd_build(d->spd_rules, d->n_spd_rules, err, err_len);

		if (spd == NULL)
			return -1;
		daemon_spd_set(d, spd);
		rt = dp_routes_build(d->route_list, d->n_routes, err, err_len);
		if (rt == NULL)
			return -1;
		daemon_routes_set(d, rt);
		daemon_drain_events(d);
	}
	return 0;
}

static int start_slowpath(struct daemon *d, char *err, size_t err_len)
{
	struct slowpath_port sp[SLOWPATH_MAX_PORTS];
	struct slowpath_ops ops = { .neigh_update = neigh_update, .ctx = d };
	unsigned i, j;

	memset(sp, 0, sizeof(sp));
	for (i = 0; i < d->dp.n_ports; i++) {
		const struct dp_port *p = &d->dp.ports[i];

		sp[i].port_id = p->port_id;
		sp[i].txq = p->ctl_txq;
		sp[i].mac = p->mac;
		sp[i].has_v4 = p->has_v4;
		memcpy(sp[i].v4, p->v4, 4);
		sp[i].v4_prefix = p->v4_prefix;
		sp[i].has_v6 = p->has_v6;
		memcpy(sp[i].v6, p->v6, 16);
		sp[i].v6_prefix = p->v6_prefix;
	}
	d->sp = slowpath_create(sp, d->dp.n_ports, d->dp.mp, &ops);
	if (d->sp == NULL) {
		snprintf(err, err_len, "slow path: cannot start");
		return -1;
	}
	for (i = 0; i < d->cfg->gateway.n_ports; i++) {
		const struct config_port *c = &d->cfg->gateway.ports[i];

		for (j = 0; j < c->n_neighbours; j++) {
			struct rte_ether_addr mac;

			memcpy(mac.addr_bytes, c->neighbours[j].mac, 6);
			slowpath_neigh_static(d->sp, i,
			                      c->neighbours[j].ip.family == AF_INET ? 4 : 6,
			                      c->neighbours[j].ip.u.bytes, &mac);
		}
	}
	return 0;
}

static int start_services(struct daemon *d, char *err, size_t err_len)
{
	const struct config_gateway *g = &d->cfg->gateway;
	char listen[80], addr[64];

	d->api = api_listen(g->control_socket, err, err_len);
	if (d->api == NULL || daemon_api_register(d) != 0)
		return -1;
	d->metrics = metrics_new();
	if (d->metrics == NULL || daemon_metrics_register(d) != 0) {
		snprintf(err, err_len, "metrics registry: cannot start");
		return -1;
	}
	inet_ntop(g->metrics_addr.family, g->metrics_addr.u.bytes, addr, sizeof(addr));
	snprintf(listen, sizeof(listen), g->metrics_addr.family == AF_INET6 ? "[%s]:%u" : "%s:%u",
	         addr, g->metrics_port);
	if (metrics_http_start(d->metrics, listen, err, err_len) != 0)
		return -1;
	if (metrics_telemetry_register(d->metrics) != 0)
		LOG("rte_telemetry registration failed; /metrics still serves\n");
	return 0;
}

int daemon_start(struct daemon *d, struct config *cfg, volatile sig_atomic_t *stop)
{
	char err[512];
	uint32_t max_mtu = 0;
	unsigned i;

	memset(d, 0, sizeof(*d));
	d->cfg = cfg;
	d->stop = stop;
	d->dp.adaptive = cfg->gateway.poll_mode == CONFIG_POLL_ADAPTIVE;
	d->dp.mss_clamp = cfg->gateway.tcp_mss_clamp;
	atomic_init(&d->dp.stop, false);
	if (cfg->gateway.n_ports > DP_MAX_PORTS) {
		LOG("gateway.ports: at most %d ports\n", DP_MAX_PORTS);
		return DAEMON_EXIT_CONFIG;
	}
	if (pick_workers(d, err, sizeof(err)) != 0) {
		LOG("%s\n", err);
		return DAEMON_EXIT_CONFIG;
	}
	ports_from_config(d);
	for (i = 0; i < d->dp.n_ports; i++)
		max_mtu = RTE_MAX(max_mtu, d->dp.ports[i].mtu);
	d->start_ms = now_ms();
	d->start_utc = (long long)time(NULL);
	d->sas = calloc(DP_SA_MAX, sizeof(d->sas[0]));
	d->sa_series = calloc((size_t)DP_SA_MAX * DAEMON_SA_SERIES, sizeof(d->sa_series[0]));
	d->conns = calloc(cfg->n_connections + 1, sizeof(d->conns[0]));
	if (d->sas == NULL || d->sa_series == NULL || d->conns == NULL ||
	    dp_mempool_create(&d->dp, max_mtu, err, sizeof(err)) != 0) {
		LOG("%s\n", d->dp.mp == NULL ? err : "out of memory");
		return DAEMON_EXIT_FAIL;
	}
	for (i = 0; i < d->dp.n_ports; i++) {
		if (dp_port_open(&d->dp, i, cfg->gateway.ports[i].device, err, sizeof(err)) != 0) {
			LOG("port %s: %s\n", cfg->gateway.ports[i].name, err);
			return DAEMON_EXIT_PORT;
		}
		LOG("port %s: %s, %u RX queue(s), MTU %u, MAC " RTE_ETHER_ADDR_PRT_FMT "\n",
		    d->dp.ports[i].name,
		    d->dp.ports[i].role == DP_PORT_PUBLIC ? "public" : "private",
		    d->dp.ports[i].n_rxq, d->dp.ports[i].mtu,
		    RTE_ETHER_ADDR_BYTES(&d->dp.ports[i].mac));
	}
	if (dp_workers_create(&d->dp) != 0) {
		LOG("cannot create workers (rings, tables): out of memory?\n");
		return DAEMON_EXIT_FAIL;
	}
	if (install_tables(d, err, sizeof(err)) != 0) {
		LOG("%s\n", err);
		return DAEMON_EXIT_CONFIG;
	}
	d->ike = ike_glue_new(d, err, sizeof(err));
	if (d->ike == NULL) {
		LOG("%s\n", err);
		return DAEMON_EXIT_FAIL;
	}
	daemon_rate_set(d, cfg->gateway.bandwidth_mbps);
	if (start_slowpath(d, err, sizeof(err)) != 0 || start_services(d, err, sizeof(err)) != 0) {
		LOG("%s\n", err);
		return DAEMON_EXIT_FAIL;
	}
	if (dp_ports_start(&d->dp, err, sizeof(err)) != 0) {
		LOG("%s\n", err);
		return DAEMON_EXIT_PORT;
	}
	if (dp_workers_launch(&d->dp) != 0) {
		LOG("cannot launch workers\n");
		return DAEMON_EXIT_FAIL;
	}
	/* Ports and workers run: connections with effect_immediately initiate now. */
	ike_glue_start(d->ike);
	LOG("gateway %s running: %u port(s), %u worker(s), %u static SA(s), %u connection(s) "
	    "(%u connection policies)\n",
	    cfg->gateway.name, d->dp.n_ports, d->dp.n_workers, cfg->n_static_sas,
	    cfg->n_connections, d->n_policies);
	return DAEMON_EXIT_OK;
}

void daemon_stop(struct daemon *d)
{
	unsigned i;

	if (d->dp.workers != NULL) {
		dp_workers_stop(&d->dp);
		/* Objects the workers returned while stopping. */
		poll_workers(d);
	}
	/* The HTTP and telemetry readers go before the counters they read. */
	metrics_free(d->metrics);
	d->metrics = NULL;
	api_close(d->api);
	d->api = NULL;
	/* The engines go without sending or deleting anything; their SAs are freed below. */
	ike_glue_free(d->ike);
	d->ike = NULL;
	dp_ports_close(&d->dp);
	slowpath_free(d->sp);
	d->sp = NULL;
	if (d->sas != NULL)
		for (i = 0; i < DP_SA_MAX; i++)
			dp_sa_free(d->sas[i]);
	free(d->sas);
	free(d->sa_series);
	free(d->spd_rules);
	free(d->route_list);
	free(d->policies);
	free(d->conns);
	d->spd_rules = NULL;
	d->route_list = NULL;
	d->policies = NULL;
	d->conns = NULL;
	d->sas = NULL;
	dp_spd_free(d->spd);
	dp_routes_free(d->routes);
	for (i = 0; i < DAEMON_RETIRING_MAX; i++)
		if (d->retiring[i].ptr != NULL)
			free_object(d->retiring[i].ptr, d->retiring[i].kind);
	dp_workers_free(&d->dp);
	rte_mempool_free(d->dp.mp);
	d->dp.mp = NULL;
}
