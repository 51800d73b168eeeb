/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data plane as the control thread sees it: limits, ports, the worker
 * array and the few calls that start and stop it. Tables reach the workers
 * only as messages (dp_msg.h); counters are read in place (dp_counters.h).
 *
 * SA ownership (DESIGN.md rule 2): the owner worker of an SA is
 * spi % n_workers, where spi is the SA's inbound SPI. An inbound SPI thus
 * names its owner and any worker steers ESP to it without a lookup; the
 * outbound SA of the same pair has the same owner, so one worker holds all
 * mutable state of a tunnel. Static SAs' configured inbound SPIs follow the
 * same rule (any SPI works; its value picks the worker).
 */
#ifndef VPNGW_DP_H
#define VPNGW_DP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

#include "dp_counters.h"

enum dp_limits {
	DP_MAX_BURST = 32,
	DP_MAX_WORKERS = 64,
	DP_MAX_PORTS = 16,
	DP_SA_MAX = 65536,          /* SA slots (both directions); per-worker table of pointers */
	DP_MSG_RING = 4096,         /* control -> worker messages */
	DP_EVENT_RING = 4096,       /* worker -> control events and retired objects */
	DP_PUNT_RING = 1024,        /* worker -> control packets */
	DP_HANDOFF_RING = 1024,     /* worker -> worker packets */
	DP_MSG_BUDGET = 64,         /* messages applied per loop: a flood never stalls */
	DP_PENDING_MAX = 64,        /* packets parked per worker for unresolved next hops */
	DP_NEIGH_MAX = 8192,        /* neighbour entries per worker */
	DP_RETIRE_STASH = 256,      /* retired objects waiting for room in the event ring */
	DP_WORKER_RXQ_MAX = 4 * 16, /* (port, queue) pairs one worker polls */
	DP_RX_DESC = 1024,
	DP_TX_DESC = 1024,
	DP_IDLE_SPINS = 256, /* adaptive: empty polls before the first sleep */
	DP_IDLE_SLEEP_MIN_US = 8,
	DP_IDLE_SLEEP_MAX_US = 160,
	DP_SWEEP_PER_S = 10, /* sweeps of a worker's SAs for time lifetimes (every 100 ms) */
};

enum dp_port_role {
	DP_PORT_PUBLIC,
	DP_PORT_PRIVATE,
};

/* A port as the workers use it; fixed once the workers run. */
struct dp_port {
	char name[64];
	uint16_t port_id;
	uint16_t n_rxq;   /* worker w polls the queues q with q % n_workers == w */
	uint16_t ctl_txq; /* the control thread's TX queue: n_workers */
	uint8_t role;     /* enum dp_port_role */
	bool has_v4;
	bool has_v6;
	uint8_t v4_prefix;
	uint8_t v6_prefix;
	uint8_t v4[4];
	uint8_t v6[16];
	uint32_t mtu;
	struct rte_ether_addr mac;
	bool link_up; /* control's view, for logs and stats */
};

struct dp_worker;

struct dp {
	struct dp_port ports[DP_MAX_PORTS];
	unsigned n_ports;
	unsigned n_workers;
	unsigned worker_lcores[DP_MAX_WORKERS];
	struct dp_worker *workers; /* one array: counters summed with a stride */
	struct rte_mempool *mp;
	bool adaptive;      /* poll_mode adaptive */
	uint16_t mss_clamp; /* 1: clamp tunnelled SYNs to fit the public MTU */
	uint64_t owner_m;   /* dp_owner_m(n_workers), set by dp_workers_create */
	atomic_bool stop;
};

/* The owner worker of an SA pair from its inbound SPI (rule 2 above). */
static inline unsigned dp_owner(const struct dp *dp, uint32_t spi_in)
{
	return spi_in % dp->n_workers;
}

/* The multiplier of dp_owner_fast for n workers (n >= 1). */
static inline uint64_t dp_owner_m(unsigned n)
{
	return UINT64_MAX / n + 1;
}

/*
 * dp_owner without a division per packet (Lemire's fastmod, exact for
 * every 32-bit SPI and worker count): the workers' path.
 */
static inline unsigned dp_owner_fast(const struct dp *dp, uint32_t spi_in)
{
	uint64_t low = dp->owner_m * spi_in;

	return (unsigned)(((unsigned __int128)low * dp->n_workers) >> 64);
}

/* Allocates the workers and their rings. Returns 0 or -1. */
int dp_workers_create(struct dp *dp);
/* Starts every worker on its lcore; 0 or -1. */
int dp_workers_launch(struct dp *dp);
/* Asks the workers to drain and stop, and waits for them. */
void dp_workers_stop(struct dp *dp);
/* Frees the rings and tables the workers held (after stop). */
void dp_workers_free(struct dp *dp);

#endif
