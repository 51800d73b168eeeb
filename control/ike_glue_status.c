/* SPDX-License-Identifier: BSD-3-Clause */
/* What the IKE glue shows: connection status, diagnosis, stats and metrics (ike_glue.h). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "compiler.h"
#include "ike_glue_int.h"

/* ---- status and diagnosis ---- */

static json_t *str_or_null(const char *s)
{
	return s != NULL && *s ? json_string(s) : json_null();
}

/* "2026-11-28T08:00:00Z" of a monotonic ms value, through the daemon's start. */
static void since_text(const struct ike_glue *g, uint64_t since_ms, char *buf, size_t len)
{
	long long t = g->d->start_utc;
	time_t tt;
	struct tm tm;

	if (since_ms > g->d->start_ms)
		t += (long long)((since_ms - g->d->start_ms) / 1000);
	tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *ts_json(const struct ts *t)
{
	char buf[TS_STR_MAX];

	ts_format(t, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *ts_list_json(const struct ts *t, unsigned n)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < n && i < IKE_TS_MAX; i++)
		json_array_append_new(a, ts_json(&t[i]));
	return a;
}

/*
 * One entry per child SA, its counters once: local_subnet / remote_subnet
 * (DESIGN's keys) are its first selectors, local_subnets / remote_subnets
 * all of them (an IKEv2 child may carry every subnet pair).
 */
static void children_json(struct ike_glue *g, uint32_t conn, json_t *arr, uint64_t now)
{
	struct ike_child_info info[IKE_GLUE_CHILD_INFO_MAX];
	unsigned n = ike_glue_eng_children(g, conn, info, IKE_GLUE_CHILD_INFO_MAX), i;

	if (n > IKE_GLUE_CHILD_INFO_MAX)
		n = IKE_GLUE_CHILD_INFO_MAX;
	for (i = 0; i < n; i++) {
		const struct ike_child_info *ci = &info[i];
		struct glue_child *ch = ike_glue_child_by_spi(g, ci->spi_in);
		const struct dp_sa *in = NULL, *out = NULL;
		char si[16], so[16];

		if (ch != NULL) {
			out = g->d->sas[ike_glue_child_slot(g, ch)];
			in = g->d->sas[ike_glue_child_slot(g, ch) + 1];
		}
		if (ci->n_ts_local == 0 || ci->n_ts_remote == 0)
			continue;
		snprintf(si, sizeof(si), "0x%08x", ci->spi_in);
		snprintf(so, sizeof(so), "0x%08x", ci->spi_out);
		json_array_append_new(
		        arr,
		        json_pack(
		                "{s:o, s:o, s:o, s:o, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, "
		                "s:b}",
		                "local_subnet", ts_json(&ci->ts_local[0]), "remote_subnet",
		                ts_json(&ci->ts_remote[0]), "local_subnets",
		                ts_list_json(ci->ts_local, ci->n_ts_local), "remote_subnets",
		                ts_list_json(ci->ts_remote, ci->n_ts_remote), "spi_in", si,
		                "spi_out", so, "encryption", crypto_alg(ci->encr)->name,
		                "integrity", crypto_alg(ci->integ)->name, "bytes_in",
		                (json_int_t)(in ? in->c.bytes : 0), "bytes_out",
		                (json_int_t)(out ? out->c.bytes : 0), "packets_in",
		                (json_int_t)(in ? in->c.packets : 0), "packets_out",
		                (json_int_t)(out ? out->c.packets : 0), "rekey_in_s",
		                (json_int_t)(ci->rekey_at_ms > now ? (ci->rekey_at_ms - now) / 1000
		                                                   : 0),
		                "udp_encap", ci->udp_encap));
	}
}

json_t *ike_glue_conn_json(struct ike_glue *g, uint32_t conn)
{
	const struct config_connection *c = &g->cfg->connections[conn];
	const struct ike_status *s = &g->status[conn];
	uint64_t now = ike_glue_now_ms();
	struct ike_endpoint peer;
	char since[32], ep[64];
	json_t *o, *children = json_array(), *failures = json_object();
	unsigned k;

	since_text(g, s->since_ms, since, sizeof(since));
	children_json(g, conn, children, now);
	for (k = 1; k < IKE_CAUSE_COUNT; k++)
		if (s->failures[k] != 0)
			json_object_set_new(failures, ike_cause_code(k),
			                    json_integer((json_int_t)s->failures[k]));
	o = json_pack(
	        "{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I}", "name", c->name,
	        "ike_version", c->ike.version == CONFIG_IKEV2 ? "ikev2" : "ikev1", "state",
	        ike_state_name(s->state), "since", since, "cause",
	        s->cause != IKE_CAUSE_NONE ? json_string(ike_cause_code(s->cause)) : json_null(),
	        "evidence", s->cause != IKE_CAUSE_NONE ? str_or_null(s->evidence) : json_null(),
	        "remedy", s->cause != IKE_CAUSE_NONE ? str_or_null(s->remedy) : json_null(),
	        "children", children, "peer",
	        ike_glue_eng_peer(g, conn, &peer)
	                ? json_string(ike_endpoint_str(&peer, ep, sizeof(ep)))
	                : json_null(),
	        "failures", failures, "ike_sa_up", (json_int_t)s->ike_sa_up, "child_sa_up",
	        (json_int_t)s->child_sa_up);
	return o;
}

static void hint(json_t *hints, const char *cause, const char *evidence, const char *remedy)
{
	json_array_append_new(hints, json_pack("{s:s, s:s, s:s}", "cause", cause, "evidence",
	                                       evidence, "remedy", remedy));
}

json_t *ike_glue_diagnose_json(struct ike_glue *g, uint32_t conn)
{
	const struct config_connection *c = &g->cfg->connections[conn];
	const struct ike_status *s = &g->status[conn];
	const struct daemon_conn *dc = &g->d->conns[conn];
	uint64_t now = ike_glue_now_ms(), pin = 0, pout = 0, nat = 0, oldest = UINT64_MAX;
	json_t *hints = json_array(), *o;
	char text[IKE_EVIDENCE_MAX + 64];
	uint32_t ci;
	unsigned n = 0;

	for (ci = g->conn_head[conn]; ci != GLUE_NONE; ci = g->children[ci].next) {
		const struct glue_child *ch = &g->children[ci];
		const struct dp_sa *out = g->d->sas[ike_glue_child_slot(g, ch)];
		const struct dp_sa *in = g->d->sas[ike_glue_child_slot(g, ch) + 1];

		n++;
		if (out != NULL)
			pout += out->c.packets;
		if (in != NULL) {
			pin += in->c.packets;
			nat += in->c.drops[DP_DROP_PEER_SOURCE_NAT];
		}
		if (ch->installed_ms < oldest)
			oldest = ch->installed_ms;
	}
	if (nat != 0) {
		snprintf(text, sizeof(text),
		         "%llu decrypted packet(s) had an inner source outside the remote subnets "
		         "and were dropped (peer_source_nat)",
		         (unsigned long long)nat);
		hint(hints, "peer_source_nat", text,
		     "disable source NAT for VPN traffic on the peer");
	}
	if (n > 0 && now - oldest >= IKE_GLUE_ONE_WAY_MS && (pout == 0) != (pin == 0)) {
		snprintf(text, sizeof(text),
		         pin == 0 ? "we encrypted %llu packet(s) but received no ESP"
		                  : "we received %llu ESP packet(s) but sent none back",
		         (unsigned long long)(pin == 0 ? pout : pin));
		hint(hints, "one_way_traffic", text,
		     "check peer routes, ACLs, firewall, security groups");
	}
	if (n == 0 && dc->last_acquire_ms != 0 &&
	    now - dc->last_acquire_ms < DAEMON_ACQUIRE_WAITING_MS) {
		snprintf(text, sizeof(text),
		         "traffic for the tunnel is waiting (%llu acquire event(s)), no SA is "
		         "installed",
		         (unsigned long long)dc->acquires);
		hint(hints, "traffic_waiting", text,
		     s->cause != IKE_CAUSE_NONE ? ike_cause_remedy(s->cause)
		                                : "wait for the negotiation, or check its log");
	}
	o = json_pack(
	        "{s:s, s:s, s:o, s:o, s:o, s:i, s:I, s:I, s:o}", "name", c->name, "state",
	        ike_state_name(s->state), "cause",
	        s->cause != IKE_CAUSE_NONE ? json_string(ike_cause_code(s->cause)) : json_null(),
	        "evidence", s->cause != IKE_CAUSE_NONE ? str_or_null(s->evidence) : json_null(),
	        "remedy", s->cause != IKE_CAUSE_NONE ? str_or_null(s->remedy) : json_null(),
	        "children", (int)n, "packets_out", (json_int_t)pout, "packets_in", (json_int_t)pin,
	        "hints", hints);
	return o;
}

/* An engine's counters by name: every field of its stats struct, in order. */
struct stat_field {
	const char *name;
	size_t off;
};

#define STAT(type, f)                        \
	{                                    \
#f, offsetof(struct type, f) \
	}
static const struct stat_field v2_stats[] = {
	STAT(ikev2_stats, rx),
	STAT(ikev2_stats, tx),
	STAT(ikev2_stats, retransmits),
	STAT(ikev2_stats, resp_resent),
	STAT(ikev2_stats, malformed),
	STAT(ikev2_stats, auth_failed),
	STAT(ikev2_stats, unknown_spi),
	STAT(ikev2_stats, unknown_peer),
	STAT(ikev2_stats, cookies_sent),
	STAT(ikev2_stats, half_open),
	STAT(ikev2_stats, half_open_refused),
	STAT(ikev2_stats, ike_sas),
	STAT(ikev2_stats, child_sas),
	STAT(ikev2_stats, dead_peers),
	STAT(ikev2_stats, init_refused),
	STAT(ikev2_stats, invalid_ke_sent),
	STAT(ikev2_stats, logs_suppressed),
	STAT(ikev2_stats, stale_init),
};
static const struct stat_field v1_stats[] = {
	STAT(ikev1_stats, rx),
	STAT(ikev1_stats, tx),
	STAT(ikev1_stats, retransmits),
	STAT(ikev1_stats, resp_resent),
	STAT(ikev1_stats, malformed),
	STAT(ikev1_stats, too_many_attrs),
	STAT(ikev1_stats, decrypt_failed),
	STAT(ikev1_stats, unknown_cookie),
	STAT(ikev1_stats, unknown_peer),
	STAT(ikev1_stats, isakmp_sas),
	STAT(ikev1_stats, ipsec_sas),
	STAT(ikev1_stats, dpd_sent),
	STAT(ikev1_stats, dead_peers),
	STAT(ikev1_stats, half_open),
	STAT(ikev1_stats, half_open_dropped),
};
#undef STAT
/* A field left out of a table above fails the build here. */
_Static_assert(sizeof(v2_stats) / sizeof(v2_stats[0]) * sizeof(uint64_t) ==
                       sizeof(struct ikev2_stats),
               "every ikev2_stats field is named");
_Static_assert(sizeof(v1_stats) / sizeof(v1_stats[0]) * sizeof(uint64_t) ==
                       sizeof(struct ikev1_stats),
               "every ikev1_stats field is named");

static json_t *stats_json(const void *stats, const struct stat_field *f, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; i < n; i++) {
		const uint64_t *v = (const uint64_t *)((const char *)stats + f[i].off);

		json_object_set_new(o, f[i].name, json_integer((json_int_t)*v));
	}
	return o;
}
json_t *ike_glue_stats_json(const struct ike_glue *g)
{
	json_t *o = json_object(), *drops = json_object();
	unsigned r;

	for (r = 0; r < IKE_GLUE_DROP_COUNT; r++)
		json_object_set_new(drops, ike_glue_drop_names[r],
		                    json_integer((json_int_t)g->c.drops[r]));
	json_object_set_new(o, "glue",
	                    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "rx_frames",
	                              (json_int_t)g->c.rx_frames, "keepalives",
	                              (json_int_t)g->c.keepalives, "tx_frames",
	                              (json_int_t)g->c.tx_frames, "children_installed",
	                              (json_int_t)g->c.children_installed, "children_deleted",
	                              (json_int_t)g->c.children_deleted, "install_failed",
	                              (json_int_t)g->c.install_failed, "spd_rebuilds",
	                              (json_int_t)g->c.spd_rebuilds, "drops", drops));
	json_object_set_new(o, "ikev2",
	                    stats_json(ikev2_stats(g->v2), v2_stats, ARRAY_SIZE(v2_stats)));
	json_object_set_new(o, "ikev1",
	                    stats_json(ikev1_stats(g->v1), v1_stats, ARRAY_SIZE(v1_stats)));
	return o;
}

/* ---- metrics ---- */

static uint64_t read_state(void *arg)
{
	const struct glue_state_arg *a = arg;

	return a->g->status[a->conn].state == a->state;
}

/* One series per engine counter: {version} labels, p inside the engine's stats. */
static int engine_series(struct metrics *m, const char *name, const char *help,
                         enum metric_type type, const char *version, const volatile uint64_t *p)
{
	static const char *const lv[] = { "version" };
	struct metric_family *f = metrics_family(m, name, help, type, lv, 1);
	const char *v[] = { version };

	return f != NULL && metrics_series(f, v, p, 1, 0) != NULL ? 0 : -1;
}

static int message_series(struct metrics *m, const char *version, const volatile uint64_t *rx,
                          const volatile uint64_t *tx)
{
	static const char *const l[] = { "version", "direction" };
	struct metric_family *f = metrics_family(
	        m, "ike_messages_total", "IKE messages received and sent", METRIC_COUNTER, l, 2);
	const char *vin[] = { version, "in" }, *vout[] = { version, "out" };

	if (f == NULL || metrics_series(f, vin, rx, 1, 0) == NULL ||
	    metrics_series(f, vout, tx, 1, 0) == NULL)
		return -1;
	return 0;
}

/* The engines' counters in /metrics: one family each, a series per IKE version. */
struct engine_metric {
	const char *name, *help;
	enum metric_type type;
	size_t v2, v1; /* offsets in ikev2_stats / ikev1_stats; NO_STAT: none */
};

#define NO_STAT SIZE_MAX
#define V2(f)   offsetof(struct ikev2_stats, f)
#define V1(f)   offsetof(struct ikev1_stats, f)
static const struct engine_metric engine_metrics[] = {
	{ "ike_retransmits_total", "IKE requests sent again", METRIC_COUNTER, V2(retransmits),
	  V1(retransmits) },
	{ "ike_malformed_total", "IKE messages dropped as malformed", METRIC_COUNTER, V2(malformed),
	  V1(malformed) },
	{ "ike_unknown_peer_total", "IKE messages from addresses no customer gateway has",
	  METRIC_COUNTER, V2(unknown_peer), V1(unknown_peer) },
	{ "ike_dead_peers_total", "Peers declared dead", METRIC_COUNTER, V2(dead_peers),
	  V1(dead_peers) },
	{ "ike_sas", "Established IKE SAs", METRIC_GAUGE, V2(ike_sas), V1(isakmp_sas) },
	{ "ike_child_sas", "Installed child SAs", METRIC_GAUGE, V2(child_sas), V1(ipsec_sas) },
	{ "ike_half_open", "IKE SAs we answer that are not complete yet", METRIC_GAUGE,
	  V2(half_open), V1(half_open) },
	{ "ike_half_open_refused_total", "First IKE messages refused: half-open table full",
	  METRIC_COUNTER, V2(half_open_refused), V1(half_open_dropped) },
	{ "ike_cookies_sent_total", "COOKIE notifies sent (RFC 7296 2.6)", METRIC_COUNTER,
	  V2(cookies_sent), NO_STAT },
};
#undef V2
#undef V1

static const volatile uint64_t *stat_at(const void *stats, size_t off)
{
	return (const volatile uint64_t *)((const char *)stats + off);
}

int ike_glue_metrics_register(struct ike_glue *g, struct metrics *m)
{
	static const char *const lst[] = { "connection", "state" };
	static const char *const lca[] = { "connection", "cause" };
	static const char *const lr[] = { "reason" };
	struct metric_family *fs, *ff, *fd;
	uint32_t i, k;
	int rc = 0;

	fs = metrics_family(m, "connection_state",
	                    "1 for a connection's current state (DESIGN.md states)", METRIC_GAUGE,
	                    lst, 2);
	ff = metrics_family(m, "ike_failures_total", "IKE failures by connection and cause",
	                    METRIC_COUNTER, lca, 2);
	fd = metrics_family(m, "ike_glue_drops_total",
	                    "IKE datagrams the daemon dropped before or after the engines",
	                    METRIC_COUNTER, lr, 1);
	g->state_args = calloc((size_t)g->cfg->n_connections * IKE_STATE_COUNT + 1,
	                       sizeof(g->state_args[0]));
	if (fs == NULL || ff == NULL || fd == NULL || g->state_args == NULL)
		return -1;
	for (i = 0; i < g->cfg->n_connections; i++) {
		const char *name = g->cfg->connections[i].name;

		for (k = 0; k < IKE_STATE_COUNT; k++) {
			struct glue_state_arg *a = &g->state_args[i * IKE_STATE_COUNT + k];
			const char *v[] = { name, ike_state_name(k) };

			*a = (struct glue_state_arg){ g, i, k };
			if (metrics_series_fn(fs, v, read_state, a) == NULL)
				return -1;
		}
		for (k = 1; k < IKE_CAUSE_COUNT; k++) {
			const char *v[] = { name, ike_cause_code(k) };

			if (metrics_series(ff, v, &g->status[i].failures[k], 1, 0) == NULL)
				return -1;
		}
	}
	for (k = 0; k < IKE_GLUE_DROP_COUNT; k++) {
		const char *v[] = { ike_glue_drop_names[k] };

		if (metrics_series(fd, v, &g->c.drops[k], 1, 0) == NULL)
			return -1;
	}
	{
		static const char *const none[] = { "version" };
		struct metric_family *fk =
		        metrics_family(m, "ike_keepalives_received_total",
		                       "NAT keepalives received", METRIC_COUNTER, none, 0);

		if (fk == NULL || metrics_series(fk, none, &g->c.keepalives, 1, 0) == NULL)
			return -1;
	}
	rc |= message_series(m, "ikev2", &ikev2_stats(g->v2)->rx, &ikev2_stats(g->v2)->tx);
	rc |= message_series(m, "ikev1", &ikev1_stats(g->v1)->rx, &ikev1_stats(g->v1)->tx);
	for (size_t e = 0; e < ARRAY_SIZE(engine_metrics); e++) {
		const struct engine_metric *em = &engine_metrics[e];

		rc |= engine_series(m, em->name, em->help, em->type, "ikev2",
		                    stat_at(ikev2_stats(g->v2), em->v2));
		if (em->v1 != NO_STAT)
			rc |= engine_series(m, em->name, em->help, em->type, "ikev1",
			                    stat_at(ikev1_stats(g->v1), em->v1));
	}
	return rc != 0 ? -1 : 0;
}
