/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control <-> worker messages (DESIGN.md rule 3). Control writes typed
 * messages into each worker's single-producer ring; the worker applies at
 * most DP_MSG_BUDGET of them between two bursts. Costly objects (SPD,
 * routes) travel as whole pointers; the object they replace comes back in
 * a RETIRED event and only then is freed. Events flow back on one ring
 * per worker (single producer: the worker; single consumer: control).
 */
#ifndef VPNGW_DP_MSG_H
#define VPNGW_DP_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ring.h>

enum dp_msg_type {
	DP_MSG_SA_ADD,    /* ptr: struct dp_sa; replaces one with the same slot / SPI */
	DP_MSG_SA_DEL,    /* ptr: the struct dp_sa to remove */
	DP_MSG_SPD_SET,   /* ptr: struct dp_spd (shared, read-only) */
	DP_MSG_ROUTE_SET, /* ptr: struct dp_routes (shared, read-only) */
	DP_MSG_NEIGH_SET, /* port, family, ip, mac; valid false: resolution failed */
	DP_MSG_RATE_SET,  /* arg: this worker's share of bandwidth in kbit/s, 0: none */
};

struct dp_msg {
	uint32_t type;
	uint32_t arg;
	void *ptr;
	uint16_t port;
	uint8_t family; /* 4 or 6 */
	uint8_t valid;
	uint8_t mac[6];
	uint8_t ip[16];
	uint8_t pad[2];
};
_Static_assert(sizeof(struct dp_msg) % 4 == 0, "ring elements are multiples of 4 bytes");

enum dp_event_type {
	DP_EV_RETIRED,      /* ptr, kind: an object the worker no longer uses */
	DP_EV_ACQUIRE,      /* sa_id: PROTECT policy whose SA is not installed */
	DP_EV_SOFT_EXPIRE,  /* ptr: the SA */
	DP_EV_HARD_EXPIRE,  /* ptr: the SA (the worker stopped using it) */
	DP_EV_SEQ_NEAR_END, /* ptr: the SA; its sequence space is nearly used */
	DP_EV_NEIGH_MISS,   /* port, family, ip: resolve this next hop */
};

enum dp_retired_kind {
	DP_RETIRED_SA,
	DP_RETIRED_SPD,
	DP_RETIRED_ROUTES,
};

struct dp_event {
	uint32_t type;
	uint16_t worker;
	uint8_t kind; /* enum dp_retired_kind */
	uint8_t family;
	void *ptr;
	uint32_t sa_id;
	uint16_t port;
	uint8_t pad[2];
	uint8_t ip[16];
};
_Static_assert(sizeof(struct dp_event) % 4 == 0, "ring elements are multiples of 4 bytes");

/* A ring of struct dp_msg / dp_event; names must be unique. NULL on failure. */
struct rte_ring *dp_msg_ring_create(const char *name, unsigned count, bool events);

/* Control side: enqueue one message; 0 or -ENOBUFS when the ring is full. */
int dp_msg_send(struct rte_ring *r, const struct dp_msg *m);

#endif
