/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IKE glue: engines, their creation and timers, punted datagrams in,
 * data plane events to the engines (ike_glue.h). The operations over the
 * data plane are in ike_glue_dp.c, what it shows in ike_glue_status.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_mbuf.h>

#include "ike_frame.h"
#include "ike_glue_int.h"

#define LOG GLUE_LOG

const char *const ike_glue_drop_names[IKE_GLUE_DROP_COUNT] = {
#define IKE_GLUE_DROP_NAME(id, name) name,
	IKE_GLUE_DROPS(IKE_GLUE_DROP_NAME)
#undef IKE_GLUE_DROP_NAME
};

uint64_t ike_glue_now_ms(void)
{
	struct timespec ts;

	/* The daemon's clock (daemon.c): since_ms values convert with its start. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

unsigned ike_glue_conn_version(const struct ike_glue *g, uint32_t conn)
{
	return g->cfg->connections[conn].ike.version == CONFIG_IKEV2 ? 2 : 1;
}

/* ---- the two engines, by IKE version ---- */

static void eng_input(struct ike_glue *g, unsigned version, const struct ike_endpoint *l,
                      const struct ike_endpoint *r, const uint8_t *buf, size_t len, uint64_t now)
{
	if (version == 2)
		ikev2_input(g->v2, l, r, buf, len, now);
	if (version == 1)
		ikev1_input(g->v1, l, r, buf, len, now);
}

static void eng_acquire(struct ike_glue *g, uint32_t conn, uint64_t now)
{
	unsigned v = ike_glue_conn_version(g, conn);

	if (v == 2 && g->v2 != NULL)
		ikev2_acquire(g->v2, conn, now);
	if (v == 1 && g->v1 != NULL)
		ikev1_acquire(g->v1, conn, now);
}

static void eng_child_expired(struct ike_glue *g, uint32_t conn, uint32_t spi_in, bool hard,
                              uint64_t now)
{
	unsigned v = ike_glue_conn_version(g, conn);

	if (v == 2 && g->v2 != NULL)
		ikev2_child_expired(g->v2, conn, spi_in, hard, now);
	if (v == 1 && g->v1 != NULL)
		ikev1_child_expired(g->v1, conn, spi_in, hard, now);
}

static int eng_up_down(struct ike_glue *g, uint32_t conn, bool up, uint64_t now)
{
	unsigned v = ike_glue_conn_version(g, conn);

	if (v == 2 && g->v2 != NULL)
		return up ? ikev2_up(g->v2, conn, now) : ikev2_down(g->v2, conn, now);
	if (v == 1 && g->v1 != NULL)
		return up ? ikev1_up(g->v1, conn, now) : ikev1_down(g->v1, conn, now);
	return -1;
}

unsigned ike_glue_eng_children(const struct ike_glue *g, uint32_t conn, struct ike_child_info *out,
                               unsigned cap)
{
	unsigned v = ike_glue_conn_version(g, conn);

	if (v == 2 && g->v2 != NULL)
		return ikev2_children(g->v2, conn, out, cap);
	if (v == 1 && g->v1 != NULL)
		return ikev1_children(g->v1, conn, out, cap);
	return 0;
}

bool ike_glue_eng_peer(const struct ike_glue *g, uint32_t conn, struct ike_endpoint *out)
{
	unsigned v = ike_glue_conn_version(g, conn);

	if (v == 2 && g->v2 != NULL)
		return ikev2_peer(g->v2, conn, out);
	if (v == 1 && g->v1 != NULL)
		return ikev1_peer(g->v1, conn, out);
	return false;
}

static void glue_log(void *ctx, enum ike_log_level level, uint32_t conn, const char *msg)
{
	struct ike_glue *g = ctx;
	static const char *const lv[] = { "error: ", "warning: ", "", "debug: " };

	if (level == IKE_LOG_DEBUG && !g->debug)
		return;
	if (conn < g->cfg->n_connections)
		LOG("%sconnection %s: %s\n", lv[level & 3], g->cfg->connections[conn].name, msg);
	else
		LOG("%sike: %s\n", lv[level & 3], msg);
}

/* ---- creation ---- */

static uint32_t env_u32(const char *name)
{
	const char *v = getenv(name);
	char *end;
	unsigned long x;

	if (v == NULL || *v == '\0')
		return 0;
	x = strtoul(v, &end, 10);
	if (*end != '\0' || x > UINT32_MAX) {
		LOG("ignoring %s=%s: not a number\n", name, v);
		return 0;
	}
	return (uint32_t)x;
}

static void tune_engines(struct ike_glue *g)
{
	uint32_t base = env_u32("VPNGW_IKE_RETRANSMIT_BASE_MS");
	uint32_t tries = env_u32("VPNGW_IKE_RETRANSMIT_TRIES");
	uint32_t live = env_u32("VPNGW_IKE_LIVENESS_MS");
	uint32_t ka = env_u32("VPNGW_IKE_KEEPALIVE_MS");
	uint32_t restart = env_u32("VPNGW_IKE_RESTART_DELAY_MS");
	bool no_jitter = env_u32("VPNGW_IKE_NO_JITTER") != 0;

	g->debug = env_u32("VPNGW_IKE_DEBUG") != 0;
	if (base == 0 && tries == 0 && live == 0 && ka == 0 && restart == 0 && !no_jitter)
		return;
	LOG("ike: tunables from the environment: retransmit base %u ms, tries %u, liveness %u "
	    "ms, keepalive %u ms, restart %u ms%s (0: default)\n",
	    base, tries, live, ka, restart, no_jitter ? ", no jitter" : "");
	if (g->v2 != NULL) {
		struct ikev2_tunables t = { .liveness_idle_ms = live,
			                    .keepalive_ms = ka,
			                    .retransmit_tries = tries,
			                    .retransmit_base_ms = base,
			                    .restart_delay_ms = restart,
			                    .no_jitter = no_jitter };

		ikev2_tune(g->v2, &t);
	}
	if (g->v1 != NULL) {
		struct ikev1_tunables t = { .dpd_idle_ms = live,
			                    .keepalive_ms = ka,
			                    .retransmit_tries = tries,
			                    .retransmit_base_ms = base,
			                    .restart_delay_ms = restart,
			                    .no_jitter = no_jitter };

		ikev1_tune(g->v1, &t);
	}
}

/*
 * Tests only: every connection's IKE / IPsec lifetime in seconds, below
 * the config's minimum, so that rekeys happen within a test run.
 */
static void lifetimes_from_env(struct config *cfg)
{
	uint32_t ike = env_u32("VPNGW_IKE_TEST_IKE_LIFETIME_S");
	uint32_t ipsec = env_u32("VPNGW_IKE_TEST_IPSEC_LIFETIME_S");
	uint32_t i;

	if (ike == 0 && ipsec == 0)
		return;
	LOG("ike: test lifetimes from the environment: IKE %u s, IPsec %u s (0: as configured)\n",
	    ike, ipsec);
	for (i = 0; i < cfg->n_connections; i++) {
		if (ike != 0)
			cfg->connections[i].ike.lifetime = ike;
		if (ipsec != 0)
			cfg->connections[i].ipsec.lifetime = ipsec;
	}
}

static int engines_new(struct ike_glue *g, char *err, size_t err_len)
{
	uint64_t now = ike_glue_now_ms();

	/* Both always there: a responder for peers nobody configured counts them (unknown_peer). */
	g->v2 = ikev2_new(g->cfg, &g->ops, g->status, now);
	if (g->v2 == NULL) {
		snprintf(err, err_len, "IKEv2 engine: out of memory");
		return -1;
	}
	g->v1 = ikev1_new(g->cfg, &g->ops, g->status, now);
	if (g->v1 == NULL) {
		snprintf(err, err_len, "IKEv1 engine: out of memory");
		return -1;
	}
	tune_engines(g);
	return 0;
}

static void peer_key(uint8_t key[17], const struct ike_endpoint *e)
{
	memset(key, 0, 17);
	key[0] = e->family;
	memcpy(key + 1, e->addr, e->family == TS_IPV6 ? 16 : 4);
}

static int peer_cmp(const void *a, const void *b)
{
	const struct glue_peer *x = a, *y = b;
	int c = memcmp(x->key, y->key, sizeof(x->key));

	return c != 0 ? c : (x->conn > y->conn) - (x->conn < y->conn);
}

/* Connections by peer address, so that a datagram finds its peer's in O(log n). */
static int peers_build(struct ike_glue *g)
{
	uint32_t i;

	g->peers = calloc(g->cfg->n_connections + 1, sizeof(g->peers[0]));
	if (g->peers == NULL)
		return -1;
	for (i = 0; i < g->cfg->n_connections; i++) {
		const struct config_customer_gateway *cg =
		        &g->cfg->customer_gateways[g->cfg->connections[i].customer_gateway];
		struct ike_endpoint e;

		ike_endpoint_from_config(&e, &cg->address, 0);
		peer_key(g->peers[i].key, &e);
		g->peers[i].conn = i;
	}
	qsort(g->peers, g->cfg->n_connections, sizeof(g->peers[0]), peer_cmp);
	return 0;
}

/* The first entry for remote's address and how many follow; 0 if none. */
static uint32_t peers_find(const struct ike_glue *g, const struct ike_endpoint *remote,
                           uint32_t *first)
{
	uint8_t key[17];
	uint32_t lo = 0, hi = g->cfg->n_connections, n = 0;

	peer_key(key, remote);
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (memcmp(g->peers[mid].key, key, sizeof(key)) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (lo + n < g->cfg->n_connections &&
	       memcmp(g->peers[lo + n].key, key, sizeof(key)) == 0)
		n++;
	return n;
}

struct ike_glue *ike_glue_new(struct daemon *d, char *err, size_t err_len)
{
	const struct config *cfg = d->cfg;
	struct ike_glue *g = calloc(1, sizeof(*g));
	uint32_t i;

	if (g == NULL)
		goto oom;
	g->d = d;
	g->cfg = cfg;
	g->ops = (struct ike_ops){ .ctx = g,
		                   .send = ike_glue_op_send,
		                   .spi_alloc = ike_glue_op_spi_alloc,
		                   .child_install = ike_glue_op_child_install,
		                   .child_delete = ike_glue_op_child_delete,
		                   .child_outbound = ike_glue_op_child_outbound,
		                   .log = glue_log };
	g->first_slot = STATIC_CONN_SLOT(cfg->n_static_sas, d->n_policies);
	g->n_pairs = g->first_slot < DP_SA_MAX ? (DP_SA_MAX - g->first_slot) / 2 : 0;
	if (ike_spi_init(&g->spis, g->n_pairs + IKE_GLUE_RECENT_SPIS + cfg->n_static_sas) != 0)
		goto oom;
	g->children = calloc(g->n_pairs + 1, sizeof(g->children[0]));
	g->status = calloc(cfg->n_connections + 1, sizeof(g->status[0]));
	g->conn_head = calloc(cfg->n_connections + 1, sizeof(g->conn_head[0]));
	g->last_mismatch_ms = calloc(cfg->n_connections + 1, sizeof(g->last_mismatch_ms[0]));
	g->base_rules = calloc(d->n_spd_rules + 1, sizeof(g->base_rules[0]));
	if (peers_build(g) != 0 || g->children == NULL || g->status == NULL ||
	    g->conn_head == NULL || g->last_mismatch_ms == NULL || g->base_rules == NULL)
		goto oom;
	for (i = 0; i < IKE_GLUE_PENDING_MAX; i++) {
		g->pending[i].buf = malloc(IKE_MSG_MAX + 4);
		if (g->pending[i].buf == NULL)
			goto oom;
	}
	memcpy(g->base_rules, d->spd_rules, d->n_spd_rules * sizeof(g->base_rules[0]));
	g->n_base_rules = d->n_spd_rules;
	for (i = 0; i < cfg->n_connections; i++)
		g->conn_head[i] = GLUE_NONE;
	lifetimes_from_env(d->cfg);
	/* Static SAs' inbound SPIs are never handed out. */
	for (i = 0; i < cfg->n_static_sas; i++)
		if (cfg->static_sas[i].in.spi != 0)
			ike_spi_put(&g->spis, cfg->static_sas[i].in.spi, GLUE_SPI_RESERVED);
	if (engines_new(g, err, err_len) != 0) {
		ike_glue_free(g);
		return NULL;
	}
	return g;
oom:
	snprintf(err, err_len, "IKE: out of memory");
	ike_glue_free(g);
	return NULL;
}

void ike_glue_start(struct ike_glue *g)
{
	uint64_t now = ike_glue_now_ms();

	if (g == NULL || g->started)
		return;
	g->started = true;
	g->busy++;
	if (g->v2 != NULL)
		ikev2_start(g->v2, now);
	if (g->v1 != NULL)
		ikev1_start(g->v1, now);
	g->busy--;
}

void ike_glue_free(struct ike_glue *g)
{
	unsigned i;

	if (g == NULL)
		return;
	ikev2_free(g->v2);
	ikev1_free(g->v1);
	for (i = 0; i < IKE_GLUE_PENDING_MAX; i++)
		free(g->pending[i].buf);
	ike_spi_fini(&g->spis);
	free(g->children);
	free(g->status);
	free(g->conn_head);
	free(g->last_mismatch_ms);
	free(g->peers);
	free(g->base_rules);
	free(g->state_args);
	free(g);
}

/* ---- input, timers, events ---- */

/*
 * A peer whose connections all run the other IKE version: recorded on
 * them (once per interval) and dropped. true when that happened.
 */
static bool version_mismatch(struct ike_glue *g, const struct ike_endpoint *remote,
                             unsigned version, uint64_t now)
{
	uint32_t first, n = peers_find(g, remote, &first), k;
	char ep[64];

	if (n == 0)
		return false;
	for (k = 0; k < n; k++)
		if (ike_glue_conn_version(g, g->peers[first + k].conn) == version)
			return false;
	for (k = 0; k < n; k++) {
		uint32_t i = g->peers[first + k].conn;
		/* Recorded and logged once per interval; remembered on every datagram. */
		bool record = g->last_mismatch_ms[i] == 0 ||
		              now - g->last_mismatch_ms[i] >= IKE_GLUE_MISMATCH_LOG_MS;

		if (record)
			g->last_mismatch_ms[i] = now;
		ike_status_other_version(&g->status[i], version, record, now,
		                         "peer %s sent IKEv%u, connection is configured for IKEv%u",
		                         ike_endpoint_str(remote, ep, sizeof(ep)), version,
		                         3 - version);
		if (record)
			LOG("connection %s: %s\n", g->cfg->connections[i].name,
			    g->status[i].evidence);
	}
	return true;
}

void ike_glue_input(struct ike_glue *g, unsigned port_idx, struct rte_mbuf *m)
{
	struct ike_frame_rx rx;
	const uint8_t *msg;
	size_t mlen;
	unsigned version;
	uint64_t now = ike_glue_now_ms();

	(void)port_idx;
	g->c.rx_frames++;
	/* Workers linearise what they receive: one segment. */
	if (g->busy) {
		/* Never inside an engine: the workers' punt rings are polled only from the loop. */
		g->c.drops[IKE_GLUE_DROP_FRAME]++;
		goto out;
	}
	if (ike_frame_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &rx) !=
	    IKE_FRAME_OK) {
		g->c.drops[IKE_GLUE_DROP_FRAME]++;
		goto out;
	}
	if (ike_frame_is_keepalive(rx.local.port, rx.payload, rx.payload_len)) {
		g->c.keepalives++;
		goto out;
	}
	msg = ike_payload_strip(rx.local.port, rx.payload, rx.payload_len, &mlen);
	if (msg == NULL) {
		g->c.drops[IKE_GLUE_DROP_NOT_IKE]++;
		goto out;
	}
	version = ike_major_version(msg, mlen);
	if (version != 1 && version != 2) {
		g->c.drops[IKE_GLUE_DROP_BAD_VERSION]++;
		goto out;
	}
	if (version_mismatch(g, &rx.remote, version, now)) {
		g->c.drops[IKE_GLUE_DROP_VERSION_MISMATCH]++;
		goto out;
	}
	/* The exact UDP payload, marker included: the engines strip it. */
	g->busy++;
	eng_input(g, version, &rx.local, &rx.remote, rx.payload, rx.payload_len, now);
	g->busy--;
out:
	rte_pktmbuf_free(m);
}

static void defer(struct ike_glue *g, uint32_t conn, uint32_t spi_in, bool hard)
{
	if (g->n_deferred == IKE_GLUE_DEFER_MAX) {
		/* Acquires come again; lifetimes are the engines' own timers too. */
		g->c.deferred_lost++;
		return;
	}
	g->deferred[g->n_deferred++] = (struct glue_deferred){ conn, spi_in, hard };
}

static void run_deferred(struct ike_glue *g, uint64_t now)
{
	struct glue_deferred list[IKE_GLUE_DEFER_MAX];
	unsigned i, n = g->n_deferred;

	memcpy(list, g->deferred, n * sizeof(list[0]));
	g->n_deferred = 0;
	g->busy++;
	for (i = 0; i < n; i++) {
		if (list[i].spi_in == 0)
			eng_acquire(g, list[i].conn, now);
		else if (ike_glue_child_by_spi(g, list[i].spi_in) != NULL)
			eng_child_expired(g, list[i].conn, list[i].spi_in, list[i].hard, now);
	}
	g->busy--;
}

void ike_glue_tick(struct ike_glue *g, uint64_t now_ms)
{
	if (g == NULL || !g->started || g->busy)
		return;
	if (g->n_deferred > 0)
		run_deferred(g, now_ms);
	if (g->spd_dirty)
		ike_glue_spd_rebuild(g);
	ike_glue_pending_poll(g, now_ms);
	ike_glue_outbound_poll(g, now_ms);
	g->busy++;
	if (g->v2 != NULL)
		ikev2_tick(g->v2, now_ms);
	if (g->v1 != NULL)
		ikev1_tick(g->v1, now_ms);
	g->busy--;
}

void ike_glue_acquire(struct ike_glue *g, uint32_t conn)
{
	if (g == NULL || !g->started || conn >= g->cfg->n_connections)
		return;
	if (g->busy) {
		defer(g, conn, 0, false);
		return;
	}
	g->busy++;
	eng_acquire(g, conn, ike_glue_now_ms());
	g->busy--;
}

bool ike_glue_sa_event(struct ike_glue *g, const struct dp_sa *sa, uint32_t type)
{
	uint32_t base = sa->id & ~1u;
	struct glue_child *ch;

	if (g == NULL || sa->id < g->first_slot)
		return false;
	ch = ike_glue_child_of_slot(g, base);
	/* An SA already deleted (its events may still be on the way) is nobody's now. */
	if (ch == NULL || g->d->sas[sa->id] != sa)
		return true;
	/*
	 * Soft lifetime (time, bytes, packets) and sequence space nearly used:
	 * a rekey; hard lifetime: the child is gone.
	 */
	if (g->busy) {
		defer(g, ch->conn, ch->spi_in, type == DP_EV_HARD_EXPIRE);
		return true;
	}
	g->busy++;
	eng_child_expired(g, ch->conn, ch->spi_in, type == DP_EV_HARD_EXPIRE, ike_glue_now_ms());
	g->busy--;
	return true;
}

int ike_glue_up(struct ike_glue *g, uint32_t conn, char *err, size_t err_len)
{
	if (g->busy || eng_up_down(g, conn, true, ike_glue_now_ms()) != 0) {
		snprintf(err, err_len, "connection %s: the IKE engine refused to start it",
		         g->cfg->connections[conn].name);
		return -1;
	}
	return 0;
}

int ike_glue_down(struct ike_glue *g, uint32_t conn, char *err, size_t err_len)
{
	if (g->busy || eng_up_down(g, conn, false, ike_glue_now_ms()) != 0) {
		snprintf(err, err_len, "connection %s: the IKE engine refused to take it down",
		         g->cfg->connections[conn].name);
		return -1;
	}
	return 0;
}

const struct ike_status *ike_glue_status(const struct ike_glue *g, uint32_t conn)
{
	return &g->status[conn];
}

const struct ike_glue_counters *ike_glue_counters(const struct ike_glue *g)
{
	return &g->c;
}
