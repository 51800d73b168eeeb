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
#include "metrics.h"
#include "slowpath.h"

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

enum { DAEMON_RETIRING_MAX = 64 };

struct daemon_counters {
	uint64_t ike_punted; /* IKE packets (no IKE yet: counted and freed) */
	uint64_t slow_punted;
	uint64_t acquires;
	uint64_t soft_expires;
	uint64_t hard_expires;
	uint64_t seq_near_end;
	uint64_t neigh_misses;
	uint64_t messages_lost; /* a worker's ring stayed full */
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

/* daemon_stats.c: API commands "stats", "sa", "rate"; metrics series. */
int daemon_api_register(struct daemon *d);
int daemon_metrics_register(struct daemon *d);
void daemon_sa_metrics(struct daemon *d, struct dp_sa *sa, bool add);

#endif
