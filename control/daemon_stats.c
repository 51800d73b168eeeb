/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the daemon shows: API commands "stats", "sa" and "rate" (JSON
 * shapes vpnctl renders), and the metrics registry's series, which read
 * the workers' counters in place (per-worker copies summed with a stride).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_ethdev.h>

#include "daemon.h"
#include "dp_worker.h"

#define SUM_WORKERS(d, field) sum_workers(d, offsetof(struct dp_worker, field))

static uint64_t sum_workers(const struct daemon *d, size_t off)
{
	uint64_t s = 0;
	unsigned w;

	for (w = 0; w < d->dp.n_workers; w++)
		s += *(const volatile uint64_t *)(const void *)((const char *)&d->dp.workers[w] +
		                                                off);
	return s;
}

static uint64_t cycles_per_packet(const struct dp_worker *w)
{
	return w->c.busy_packets ? w->c.busy_cycles / w->c.busy_packets : 0;
}

static json_t *ports_json(const struct daemon *d)
{
	json_t *a = json_array();
	unsigned pi;
	char mac[RTE_ETHER_ADDR_FMT_SIZE];

	for (pi = 0; pi < d->dp.n_ports; pi++) {
		const struct dp_port *p = &d->dp.ports[pi];
		size_t base =
		        offsetof(struct dp_worker, c.port) + pi * sizeof(struct dp_port_counters);

		rte_ether_format_addr(mac, sizeof(mac), &p->mac);
		json_array_append_new(
		        a,
		        json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I}", "name", p->name,
		                  "role", p->role == DP_PORT_PUBLIC ? "public" : "private", "mac",
		                  mac, "link_up", p->link_up, "rx_packets",
		                  (json_int_t)sum_workers(
		                          d, base + offsetof(struct dp_port_counters, rx_packets)),
		                  "rx_bytes",
		                  (json_int_t)sum_workers(
		                          d, base + offsetof(struct dp_port_counters, rx_bytes)),
		                  "tx_packets",
		                  (json_int_t)sum_workers(
		                          d, base + offsetof(struct dp_port_counters, tx_packets)),
		                  "tx_bytes",
		                  (json_int_t)sum_workers(
		                          d, base + offsetof(struct dp_port_counters, tx_bytes))));
	}
	return a;
}

static json_t *workers_json(const struct daemon *d)
{
	json_t *a = json_array();
	unsigned i;

	for (i = 0; i < d->dp.n_workers; i++) {
		const struct dp_worker *w = &d->dp.workers[i];

		json_array_append_new(
		        a, json_pack("{s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		                     "worker", (int)i, "lcore", (int)w->lcore, "rx_packets",
		                     (json_int_t)w->c.rx_packets, "tx_packets",
		                     (json_int_t)w->c.tx_packets, "encrypted",
		                     (json_int_t)w->c.encrypted, "decrypted",
		                     (json_int_t)w->c.decrypted, "handoff_out",
		                     (json_int_t)w->c.handoff_out, "handoff_in",
		                     (json_int_t)w->c.handoff_in, "punted", (json_int_t)w->c.punted,
		                     "busy_cycles", (json_int_t)w->c.busy_cycles, "busy_packets",
		                     (json_int_t)w->c.busy_packets, "cycles_per_packet",
		                     (json_int_t)cycles_per_packet(w)));
	}
	return a;
}

static int api_stats(void *ctx, json_t *args, json_t **result, char *err, size_t err_len)
{
	struct daemon *d = ctx;
	const struct slowpath_stats *ss = slowpath_stats(d->sp);
	json_t *drops = json_object();
	unsigned r;

	(void)args;
	(void)err;
	(void)err_len;
	for (r = 1; r < DP_DROP_COUNT; r++)
		json_object_set_new(drops, dp_drop_names[r],
		                    json_integer((json_int_t)sum_workers(
		                            d, offsetof(struct dp_worker, c.drops) + r * 8)));
	*result = json_pack(
	        "{s:o, s:o, s:o, s:i, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, "
	        "s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
	        "ports", ports_json(d), "workers", workers_json(d), "drops", drops, "rate_mbps",
	        (int)d->rate_mbps, "control", "ike_punted", (json_int_t)d->c.ike_punted,
	        "slow_punted", (json_int_t)d->c.slow_punted, "acquires", (json_int_t)d->c.acquires,
	        "soft_expires", (json_int_t)d->c.soft_expires, "hard_expires",
	        (json_int_t)d->c.hard_expires, "seq_near_end", (json_int_t)d->c.seq_near_end,
	        "neigh_misses", (json_int_t)d->c.neigh_misses, "messages_lost",
	        (json_int_t)d->c.messages_lost, "events_lost",
	        (json_int_t)SUM_WORKERS(d, c.events_lost), "slowpath", "arp_requests_answered",
	        (json_int_t)ss->arp_requests_answered, "arp_replies_learned",
	        (json_int_t)ss->arp_replies_learned, "arp_requests_sent",
	        (json_int_t)ss->arp_requests_sent, "nd_solicits_answered",
	        (json_int_t)ss->nd_solicits_answered, "nd_adverts_learned",
	        (json_int_t)ss->nd_adverts_learned, "nd_solicits_sent",
	        (json_int_t)ss->nd_solicits_sent, "echo_answered", (json_int_t)ss->echo_answered,
	        "dropped", (json_int_t)ss->dropped);
	if (*result == NULL)
		return -1;
	if (d->ike != NULL)
		json_object_set_new(*result, "ike", ike_glue_stats_json(d->ike));
	/* Objects the workers still hold that they must give back (0 when all came back). */
	json_object_set_new(
	        json_object_get(*result, "control"), "retire",
	        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "expected",
	                  (json_int_t)d->c.retire_expected, "returned", (json_int_t)d->c.retired,
	                  "outstanding", (json_int_t)(d->c.retire_expected - d->c.retired),
	                  "sa_refused", (json_int_t)d->c.sa_refused, "sa_replaced",
	                  (json_int_t)d->c.sa_replaced, "tables_sent", (json_int_t)d->c.tables_sent,
	                  "acquires_unknown", (json_int_t)d->c.acquires_unknown));
	return 0;
}

static int api_sa(void *ctx, json_t *args, json_t **result, char *err, size_t err_len)
{
	struct daemon *d = ctx;
	json_t *sas = json_array();
	unsigned i, r;
	char spi[16];

	(void)args;
	(void)err;
	(void)err_len;
	for (i = 0; i < DP_SA_MAX; i++) {
		const struct dp_sa *sa = d->sas[i];
		json_t *drops;

		if (sa == NULL)
			continue;
		drops = json_object();
		for (r = 1; r < DP_DROP_COUNT; r++)
			if (sa->c.drops[r] != 0)
				json_object_set_new(drops, dp_drop_names[r],
				                    json_integer((json_int_t)sa->c.drops[r]));
		snprintf(spi, sizeof(spi), "0x%08x", sa->spi);
		json_array_append_new(
		        sas,
		        json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:i, s:b, s:s, s:s?, "
		                  "s:s?, s:I, s:{s:I, s:I, s:I, s:I, s:I, s:I}}",
		                  "name", sa->name, "spi", spi, "direction",
		                  sa->dir == ESP_DIR_OUT ? "out" : "in", "encryption",
		                  crypto_alg(sa->encr)->name, "integrity",
		                  crypto_alg(sa->integ)->name, "packets", (json_int_t)sa->c.packets,
		                  "bytes", (json_int_t)sa->c.bytes, "drops", drops, "worker",
		                  (int)sa->owner, "udp_encap", sa->udp_encap, "state",
		                  dp_sa_state_name(sa->ctl.state), "soft_limit",
		                  sa->ctl.soft_limit ? dp_sa_limit_name(sa->ctl.soft_limit) : NULL,
		                  "hard_limit",
		                  sa->ctl.hard_limit ? dp_sa_limit_name(sa->ctl.hard_limit) : NULL,
		                  "seq", (json_int_t)esp_sa_seq(sa->esp), "lifetime",
		                  "soft_packets", (json_int_t)sa->soft_packets, "hard_packets",
		                  (json_int_t)sa->hard_packets, "soft_bytes",
		                  (json_int_t)sa->soft_bytes, "hard_bytes",
		                  (json_int_t)sa->hard_bytes, "soft_seconds",
		                  (json_int_t)sa->soft_seconds, "hard_seconds",
		                  (json_int_t)sa->hard_seconds));
	}
	*result = json_pack("{s:o}", "sas", sas);
	return *result ? 0 : -1;
}

static int api_rate(void *ctx, json_t *args, json_t **result, char *err, size_t err_len)
{
	struct daemon *d = ctx;
	json_t *v = args ? json_object_get(args, "mbps") : NULL;

	if (v != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 10000000) {
			snprintf(err, err_len,
			         "rate: mbps must be an integer 0..10000000 (0: unlimited)");
			return -1;
		}
		daemon_rate_set(d, (uint32_t)json_integer_value(v));
	}
	*result = json_pack("{s:i}", "mbps", (int)d->rate_mbps);
	return 0;
}

static json_t *prefix_json(const struct config_prefix *p)
{
	char a[INET6_ADDRSTRLEN], buf[INET6_ADDRSTRLEN + 8];

	inet_ntop(p->addr.family, p->addr.u.bytes, a, sizeof(a));
	snprintf(buf, sizeof(buf), "%s/%u", a, p->len);
	return json_string(buf);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The connection named by args "name"; -1 with err set (required: name must be there). */
static int conn_arg(const struct daemon *d, json_t *args, const char *cmd, bool required, char *err,
                    size_t err_len)
{
	json_t *name = args ? json_object_get(args, "name") : NULL;
	uint32_t i;

	if (name == NULL && !required)
		return -2;
	if (!json_is_string(name)) {
		snprintf(err, err_len, "%s: name (a connection) %s", cmd,
		         name == NULL ? "is required" : "must be a string");
		return -1;
	}
	for (i = 0; i < d->cfg->n_connections; i++)
		if (strcmp(json_string_value(name), d->cfg->connections[i].name) == 0)
			return (int)i;
	snprintf(err, err_len, "no connection named \"%s\"", json_string_value(name));
	return -1;
}

/* DESIGN.md's status object, plus what the data plane saw (acquires). */
static json_t *conn_status_json(struct daemon *d, uint32_t i, uint64_t t)
{
	const struct config_connection *c = &d->cfg->connections[i];
	const struct daemon_conn *dc = &d->conns[i];
	json_t *o = ike_glue_conn_json(d->ike, i), *last = json_null();

	if (o == NULL)
		return NULL;
	if (dc->last_acquire_ms != 0) {
		const struct daemon_policy *p = &d->policies[dc->last_policy];

		last = json_pack("{s:o, s:o, s:I}", "local_subnet",
		                 prefix_json(&c->local_subnets[p->p.local]), "remote_subnet",
		                 prefix_json(&c->remote_subnets[p->p.remote]), "ago_ms",
		                 (json_int_t)(t - dc->last_acquire_ms));
	}
	json_object_set_new(o, "acquires", json_integer((json_int_t)dc->acquires));
	json_object_set_new(o, "traffic_waiting",
	                    json_boolean(dc->last_acquire_ms != 0 &&
	                                 t - dc->last_acquire_ms < DAEMON_ACQUIRE_WAITING_MS));
	json_object_set_new(o, "last_acquire", last);
	return o;
}

/* {"name"?}: every connection (or one) with state, cause, evidence, remedy, children. */
static int api_status(void *ctx, json_t *args, json_t **result, char *err, size_t err_len)
{
	struct daemon *d = ctx;
	json_t *conns;
	uint64_t t = mono_ms();
	int one = conn_arg(d, args, "status", false, err, err_len);
	uint32_t i;

	if (one == -1)
		return -1;
	conns = json_array();
	for (i = 0; i < d->cfg->n_connections; i++) {
		if (one >= 0 && (uint32_t)one != i)
			continue;
		json_array_append_new(conns, conn_status_json(d, i, t));
	}
	*result = json_pack("{s:o}", "connections", conns);
	return *result ? 0 : -1;
}

static int up_down(struct daemon *d, json_t *args, bool up, json_t **result, char *err,
                   size_t err_len)
{
	int i = conn_arg(d, args, up ? "up" : "down", true, err, err_len);

	if (i < 0)
		return -1;
	if ((up ? ike_glue_up(d->ike, (uint32_t)i, err, err_len)
	        : ike_glue_down(d->ike, (uint32_t)i, err, err_len)) != 0)
		return -1;
	*result = json_pack("{s:s, s:s}", "name", d->cfg->connections[i].name, "state",
	                    ike_state_name(ike_glue_status(d->ike, (uint32_t)i)->state));
	return *result ? 0 : -1;
}

static int api_up(void *ctx, json_t *args, json_t **result, char *err, size_t err_len)
{
	return up_down(ctx, args, true, result, err, err_len);
}

static int api_down(void *ctx, json_t *args, json_t **result, char *err, size_t err_len)
{
	return up_down(ctx, args, false, result, err, err_len);
}

/* {"name"}: state, cause, evidence, remedy and what the data plane shows. */
static int api_diagnose(void *ctx, json_t *args, json_t **result, char *err, size_t err_len)
{
	struct daemon *d = ctx;
	int i = conn_arg(d, args, "diagnose", true, err, err_len);

	if (i < 0)
		return -1;
	*result = ike_glue_diagnose_json(d->ike, (uint32_t)i);
	return *result ? 0 : -1;
}

static int count_arg(json_t *args, const char *cmd, unsigned *count, char *err, size_t err_len)
{
	json_t *v = args ? json_object_get(args, "count") : NULL;

	*count = 1;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 100000) {
		snprintf(err, err_len, "%s: count must be an integer 1..100000", cmd);
		return -1;
	}
	*count = (unsigned)json_integer_value(v);
	return 0;
}

/* {"name": STATIC_SA, "count": N}: replace that SA pair N times (same keys). */
static int api_sa_replace(void *ctx, json_t *args, json_t **result, char *err, size_t err_len)
{
	struct daemon *d = ctx;
	json_t *name = args ? json_object_get(args, "name") : NULL;
	unsigned count;

	if (!json_is_string(name)) {
		snprintf(err, err_len, "sa_replace: name (a static SA) is required");
		return -1;
	}
	if (count_arg(args, "sa_replace", &count, err, err_len) != 0 ||
	    daemon_sa_replace(d, json_string_value(name), count, err, err_len) != 0)
		return -1;
	*result = json_pack("{s:i}", "replaced", (int)count);
	return *result ? 0 : -1;
}

/* {"count": N}: rebuild and re-send the SPD and route table N times. */
static int api_tables_resend(void *ctx, json_t *args, json_t **result, char *err, size_t err_len)
{
	struct daemon *d = ctx;
	unsigned count;

	if (count_arg(args, "tables_resend", &count, err, err_len) != 0 ||
	    daemon_tables_resend(d, count, err, err_len) != 0)
		return -1;
	*result = json_pack("{s:i}", "resent", (int)count);
	return *result ? 0 : -1;
}

int daemon_api_register(struct daemon *d)
{
	if (api_register(d->api, "stats", api_stats, d) != 0 ||
	    api_register(d->api, "sa", api_sa, d) != 0 ||
	    api_register(d->api, "rate", api_rate, d) != 0 ||
	    api_register(d->api, "status", api_status, d) != 0 ||
	    api_register(d->api, "up", api_up, d) != 0 ||
	    api_register(d->api, "down", api_down, d) != 0 ||
	    api_register(d->api, "diagnose", api_diagnose, d) != 0 ||
	    api_register(d->api, "sa_replace", api_sa_replace, d) != 0 ||
	    api_register(d->api, "tables_resend", api_tables_resend, d) != 0)
		return -1;
	return 0;
}

/* ---- metrics ---- */

static const size_t W = sizeof(struct dp_worker);

static uint64_t read_cpp(void *arg)
{
	return cycles_per_packet(arg);
}

static int worker_series(struct daemon *d, const char *name, const char *help, size_t off,
                         enum metric_type type)
{
	static const char *const labels[] = { "worker" };
	struct metric_family *f = metrics_family(d->metrics, name, help, type, labels, 1);
	unsigned i;
	char idx[16];

	if (f == NULL)
		return -1;
	for (i = 0; i < d->dp.n_workers; i++) {
		const char *v[] = { idx };

		snprintf(idx, sizeof(idx), "%u", i);
		if (off == SIZE_MAX) {
			if (metrics_series_fn(f, v, read_cpp, &d->dp.workers[i]) == NULL)
				return -1;
		} else if (metrics_series(
		                   f, v,
		                   (const volatile uint64_t
		                            *)(const void *)((char *)&d->dp.workers[i] + off),
		                   1, 0) == NULL) {
			return -1;
		}
	}
	return 0;
}

static int port_series(struct daemon *d, const char *name, const char *help, size_t field)
{
	static const char *const labels[] = { "port" };
	struct metric_family *f = metrics_family(d->metrics, name, help, METRIC_COUNTER, labels, 1);
	unsigned pi;

	if (f == NULL)
		return -1;
	for (pi = 0; pi < d->dp.n_ports; pi++) {
		const char *v[] = { d->dp.ports[pi].name };
		const char *p = (const char *)&d->dp.workers[0].c.port[pi] + field;

		if (metrics_series(f, v, (const volatile uint64_t *)(const void *)p,
		                   d->dp.n_workers, W) == NULL)
			return -1;
	}
	return 0;
}

void daemon_sa_metrics(struct daemon *d, struct dp_sa *sa, bool add)
{
	static const char *const l3[] = { "connection", "spi", "direction" };
	static const char *const l4[] = { "connection", "spi", "direction", "reason" };
	static const char *const l4e[] = { "connection", "spi", "direction", "event" };
	static const char *const ev_names[DP_SA_EV_COUNT] = { "soft_expire", "hard_expire",
		                                              "seq_near_end" };
	struct metric_series **s = &d->sa_series[(size_t)sa->id * DAEMON_SA_SERIES];
	struct metric_family *fp, *fb, *fd, *fe;
	char spi[16];
	unsigned r;

	if (d->metrics == NULL)
		return;
	if (!add) {
		for (r = 0; r < DAEMON_SA_SERIES; r++) {
			if (s[r] != NULL)
				metrics_series_remove(s[r]);
			s[r] = NULL;
		}
		return;
	}
	fp = metrics_family(d->metrics, "sa_packets_total", "Packets through an SA", METRIC_COUNTER,
	                    l3, 3);
	fb = metrics_family(d->metrics, "sa_bytes_total", "Inner bytes through an SA",
	                    METRIC_COUNTER, l3, 3);
	fd = metrics_family(d->metrics, "sa_drops_total", "Packets of an SA dropped, by reason",
	                    METRIC_COUNTER, l4, 4);
	fe = metrics_family(d->metrics, "sa_events_total",
	                    "Lifetime and sequence events the data plane raised for an SA",
	                    METRIC_COUNTER, l4e, 4);
	if (fp == NULL || fb == NULL || fd == NULL || fe == NULL)
		return;
	snprintf(spi, sizeof(spi), "0x%08x", sa->spi);
	{
		const char *v[] = { sa->name, spi, sa->dir == ESP_DIR_OUT ? "out" : "in", NULL };

		s[0] = metrics_series(fp, v, &sa->c.packets, 1, 0);
		s[1] = metrics_series(fb, v, &sa->c.bytes, 1, 0);
		for (r = 1; r < DP_DROP_COUNT; r++) {
			v[3] = dp_drop_names[r];
			s[1 + r] = metrics_series(fd, v, &sa->c.drops[r], 1, 0);
		}
		for (r = 0; r < DP_SA_EV_COUNT; r++) {
			v[3] = ev_names[r];
			s[2 + DP_DROP_COUNT + r] = metrics_series(fe, v, &sa->ctl.events[r], 1, 0);
		}
	}
}

int daemon_metrics_register(struct daemon *d)
{
	static const char *const lr[] = { "reason" };
	struct metric_family *f;
	unsigned r, i;

	if (port_series(d, "port_rx_packets_total", "Packets received on a port",
	                offsetof(struct dp_port_counters, rx_packets)) != 0 ||
	    port_series(d, "port_rx_bytes_total", "Bytes received on a port",
	                offsetof(struct dp_port_counters, rx_bytes)) != 0 ||
	    port_series(d, "port_tx_packets_total", "Packets sent on a port",
	                offsetof(struct dp_port_counters, tx_packets)) != 0 ||
	    port_series(d, "port_tx_bytes_total", "Bytes sent on a port",
	                offsetof(struct dp_port_counters, tx_bytes)) != 0)
		return -1;
	if (worker_series(d, "worker_rx_packets_total", "Packets a worker received",
	                  offsetof(struct dp_worker, c.rx_packets), METRIC_COUNTER) != 0 ||
	    worker_series(d, "worker_encrypted_total", "Packets a worker encrypted",
	                  offsetof(struct dp_worker, c.encrypted), METRIC_COUNTER) != 0 ||
	    worker_series(d, "worker_decrypted_total", "Packets a worker decrypted",
	                  offsetof(struct dp_worker, c.decrypted), METRIC_COUNTER) != 0 ||
	    worker_series(d, "worker_handoff_out_total",
	                  "Packets a worker handed to the SA's owner worker",
	                  offsetof(struct dp_worker, c.handoff_out), METRIC_COUNTER) != 0 ||
	    worker_series(d, "worker_handoff_in_total", "Packets a worker took from other workers",
	                  offsetof(struct dp_worker, c.handoff_in), METRIC_COUNTER) != 0 ||
	    worker_series(d, "worker_busy_cycles_total", "TSC cycles of loops that moved packets",
	                  offsetof(struct dp_worker, c.busy_cycles), METRIC_COUNTER) != 0 ||
	    worker_series(d, "worker_busy_packets_total", "Packets moved by busy loops",
	                  offsetof(struct dp_worker, c.busy_packets), METRIC_COUNTER) != 0 ||
	    worker_series(d, "worker_cycles_per_packet", "Busy cycles per packet moved", SIZE_MAX,
	                  METRIC_GAUGE) != 0)
		return -1;
	f = metrics_family(d->metrics, "drops_total",
	                   "Packets dropped by the data plane, by reason", METRIC_COUNTER, lr, 1);
	if (f == NULL)
		return -1;
	for (r = 1; r < DP_DROP_COUNT; r++) {
		const char *v[] = { dp_drop_names[r] };

		if (metrics_series(f, v, &d->dp.workers[0].c.drops[r], d->dp.n_workers, W) == NULL)
			return -1;
	}
	for (i = 0; i < DP_SA_MAX; i++)
		if (d->sas[i] != NULL)
			daemon_sa_metrics(d, d->sas[i], true);
	{
		static const char *const lc[] = { "connection" };

		f = metrics_family(
		        d->metrics, "acquire_total",
		        "ACQUIRE events: traffic for a connection's policy without an SA",
		        METRIC_COUNTER, lc, 1);
		if (f == NULL)
			return -1;
		for (i = 0; i < d->cfg->n_connections; i++) {
			const char *v[] = { d->cfg->connections[i].name };

			if (metrics_series(f, v, &d->conns[i].acquires, 1, 0) == NULL)
				return -1;
		}
	}
	if (d->ike != NULL && ike_glue_metrics_register(d->ike, d->metrics) != 0)
		return -1;
	return 0;
}
