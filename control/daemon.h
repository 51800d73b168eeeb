/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's control thread: wires config, ports, workers, the slow
 * path, the API and metrics together, installs SAs and tables through the
 * workers' rings, and runs the control loop on the main lcore (events,
 * punted packets, timers, API) until a signal asks it to stop.
 */
#ifndef VPNGW_DAEMON_H
#define VPNGW_DAEMON_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "api.h"
#include "config.h"
#include "dp.h"
#include "dp_msg.h"
#include "dp_route.h"
#include "dp_sa.h"
#include "dp_spd.h"
#include "ike_glue.h"
#include "metrics.h"
#include "slowpath.h"
#include "static_sa.h"

/* Exit codes (DESIGN.md "Interfaces"). */
enum daemon_exit {
	DAEMON_EXIT_OK = 0,
	DAEMON_EXIT_FAIL = 1,
	DAEMON_EXIT_CONFIG = 2,
	DAEMON_EXIT_PORT = 3,
};

/* A shared table waiting for every worker to hand it back. */
struct daemon_retiring {
	void *ptr;
	uint8_t kind; /* enum dp_retired_kind */
	unsigned left;
};

enum {
	DAEMON_RETIRING_MAX = 64,
	/* An acquire is logged once per policy in this interval (counted always). */
	DAEMON_ACQUIRE_LOG_MS = 10000,
	/* A connection has "traffic_waiting" while its last acquire is this recent. */
	DAEMON_ACQUIRE_WAITING_MS = 10000,
	/* Per SA slot: packets, bytes, drops by reason, events by enum dp_sa_ev. */
	DAEMON_SA_SERIES = 2 + DP_DROP_COUNT + DP_SA_EV_COUNT,
	/* IKE engine timers run this often from the control loop. */
	DAEMON_IKE_TICK_MS = 10,
};

/* What the data plane tells of a connection (its IKE state lives in ike_glue.c). */
struct daemon_conn {
	uint64_t acquires;        /* ACQUIRE events for its policies */
	uint64_t last_acquire_ms; /* monotonic; 0: never */
	uint32_t last_policy;     /* index into daemon.policies */
};

struct daemon_policy {
	struct static_conn_policy p;
	uint64_t acquires;
	uint64_t last_log_ms; /* 0: never logged */
};

struct daemon_counters {
	uint64_t ike_punted; /* IKE frames punted to control (handed to ike_glue) */
	uint64_t slow_punted;
	uint64_t acquires;
	uint64_t soft_expires;
	uint64_t hard_expires;
	uint64_t seq_near_end;
	uint64_t neigh_misses;
	uint64_t messages_lost;    /* a worker's ring stayed full */
	uint64_t acquires_unknown; /* ACQUIRE for a slot no policy of ours names */
	uint64_t retire_expected;  /* objects sent away that must come back */
	uint64_t retired;          /* of those, returned and freed */
	uint64_t sa_refused;       /* SAs a worker returned unused (table full) */
	uint64_t sa_replaced;      /* SA pairs replaced through the API */
	uint64_t tables_sent;      /* SPD and route tables sent (both counted) */
};

struct daemon {
	struct config *cfg;
	struct dp dp;
	struct slowpath *sp;
	struct api *api;
	struct metrics *metrics;
	struct dp_sa **sas;               /* by slot; the installed SA (NULL: none) */
	struct metric_series **sa_series; /* by slot: 2 + DP_DROP_COUNT each */
	struct dp_spd *spd;
	struct dp_routes *routes;
	struct dp_spd_rule *spd_rules; /* what spd was built from (for a resend) */
	unsigned n_spd_rules;
	struct dp_route *route_list; /* what routes was built from */
	unsigned n_routes;
	struct daemon_conn *conns; /* by config.connections index */
	struct ike_glue *ike;      /* the IKE engines */
	struct daemon_policy *policies;
	unsigned n_policies;
	uint64_t start_ms;   /* monotonic ms (CLOCK_MONOTONIC, as the IKE engines' now_ms) */
	long long start_utc; /* time(NULL) at start: "since" of connections */
	bool draining;       /* inside an event drain: no nested one */
	struct daemon_retiring retiring[DAEMON_RETIRING_MAX];
	uint32_t rate_mbps;
	struct daemon_counters c;
	volatile sig_atomic_t *stop;
};

/*
 * Everything after rte_eal_init: ports, pool, workers, tables, slow path,
 * API and metrics. Returns DAEMON_EXIT_OK or the exit code to use.
 */
int daemon_start(struct daemon *d, struct config *cfg, volatile sig_atomic_t *stop);
/* The control loop; returns when *stop is set. */
void daemon_run(struct daemon *d);
/* Stops workers (they drain), ports, and frees everything. */
void daemon_stop(struct daemon *d);

/* Sends one message to worker w, waiting a little if its ring is full. */
int daemon_send(struct daemon *d, unsigned w, const struct dp_msg *m);
/*
 * Replaces the SPD / route table on every worker; the old one is freed when
 * all workers have returned it.
 */
void daemon_spd_set(struct daemon *d, struct dp_spd *spd);
void daemon_routes_set(struct daemon *d, struct dp_routes *routes);
/* Sets the gateway bandwidth (0: unlimited), shared evenly by the workers. */
void daemon_rate_set(struct daemon *d, uint32_t mbps);

/*
 * Replaces static SA name (both directions) count times with new SAs from
 * the same config (make-before-break: the worker swaps each in before it
 * returns the old one). 0, or -1 with err set.
 */
int daemon_sa_replace(struct daemon *d, const char *name, unsigned count, char *err,
                      size_t err_len);
/* Rebuilds and re-sends the SPD and the route table count times; 0 or -1. */
int daemon_tables_resend(struct daemon *d, unsigned count, char *err, size_t err_len);
/* Handles whatever events the workers have returned (not punted packets). */
void daemon_drain_events(struct daemon *d);

/*
 * daemon_stats.c: API commands "stats", "sa", "rate", "status", "up",
 * "down", "diagnose", "sa_replace", "tables_resend"; metrics series.
 */
int daemon_api_register(struct daemon *d);
int daemon_metrics_register(struct daemon *d);
void daemon_sa_metrics(struct daemon *d, struct dp_sa *sa, bool add);

#endif
