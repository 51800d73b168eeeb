/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the IKE glue: the state ike_glue.c (engines, ops, children, SPD)
 * and ike_glue_status.c (status, diagnosis, stats, metrics) share.
 */
#ifndef VPNGW_IKE_GLUE_INT_H
#define VPNGW_IKE_GLUE_INT_H

#include <stdio.h>

#include "daemon.h"
#include "ike_glue.h"
#include "ike_spi.h"
#include "ikev1.h"
#include "ikev2.h"

#define GLUE_LOG(...) fprintf(stderr, "vpngw: " __VA_ARGS__)

enum {
	GLUE_NONE = UINT32_MAX,
	GLUE_SPI_RESERVED = UINT32_MAX - 1, /* a static SA's inbound SPI */
	GLUE_SPI_RECENT = UINT32_MAX - 2,   /* handed out, not installed yet */
	GLUE_SPI_MIN = 0x100,               /* 1..255 are reserved by IANA */
	GLUE_SPI_TRIES = 64,
};

/* A negotiated child: slot pair 2 * pair + first_slot (out) and + 1 (in). */
struct glue_child {
	bool used;
	uint32_t conn;
	uint32_t spi_in;
	uint32_t spi_out;
	uint32_t next; /* the connection's list, newest first */
	uint64_t installed_ms;
	bool in_spd; /* the SPD the workers have (or are about to get) names its slot */
	/*
	 * Installed with outbound_later: its SPD rules yield to the older
	 * children of the connection until ops.child_outbound or this time.
	 */
	uint64_t outbound_at_ms; /* 0: sends now */
};

struct glue_pending {
	bool used;
	uint64_t since_ms;
	uint16_t port;
	uint8_t family;
	uint8_t nh[16];
	struct ike_endpoint local, remote;
	size_t len;
	uint8_t *buf; /* IKE_MSG_MAX + 4 */
};

/* A connection under its customer gateway's address: the peer index, sorted by key. */
struct glue_peer {
	uint8_t key[17]; /* family, then the address (16 bytes, zero padded) */
	uint32_t conn;
};

/* Argument of a connection-state gauge: 1 while connection conn is in state. */
struct glue_state_arg {
	struct ike_glue *g;
	uint32_t conn;
	uint32_t state;
};

/*
 * An event that arrived while an engine was running (the glue drained the
 * workers' events from inside an engine's call, e.g. waiting for ring
 * room): engines are not re-entered, it waits for the next tick.
 */
struct glue_deferred {
	uint32_t conn;
	uint32_t spi_in; /* 0: an acquire */
	bool hard;
};

struct ike_glue {
	struct daemon *d;
	const struct config *cfg;
	struct ike_ops ops;
	struct ike_status *status; /* by connection */
	struct ikev2 *v2;
	struct ikev1 *v1;
	bool debug;
	bool started;
	/* Children by slot pair. */
	uint32_t first_slot;
	uint32_t n_pairs;
	uint32_t next_pair; /* where the search for a free pair starts */
	struct glue_child *children;
	uint32_t *conn_head;        /* by connection: newest child, or GLUE_NONE */
	uint64_t *last_mismatch_ms; /* by connection */
	struct glue_peer *peers;    /* every connection, sorted by its peer's address */
	/* Inbound SPIs in use: child index, or GLUE_SPI_RESERVED / GLUE_SPI_RECENT. */
	struct ike_spi_table spis;
	uint32_t recent[IKE_GLUE_RECENT_SPIS];
	unsigned recent_pos;
	/* The SPD rules static_sa_build made (static SAs, ACQUIRE rules, bypass). */
	struct dp_spd_rule *base_rules;
	unsigned n_base_rules;
	struct glue_pending pending[IKE_GLUE_PENDING_MAX];
	uint16_t ip_id;
	struct glue_state_arg *state_args;
	unsigned busy;  /* inside an engine call */
	bool spd_dirty; /* children changed since the last SPD: rebuild at the next tick */
	unsigned n_outbound_waiting; /* children with outbound_at_ms != 0 */
	struct glue_deferred deferred[IKE_GLUE_DEFER_MAX];
	unsigned n_deferred;
	struct ike_glue_counters c;
};

extern const char *const ike_glue_drop_names[IKE_GLUE_DROP_COUNT];

/* CLOCK_MONOTONIC in ms: the daemon's clock and the engines' now_ms. */
uint64_t ike_glue_now_ms(void);
/* 1 or 2: the IKE version connection conn is configured for. */
unsigned ike_glue_conn_version(const struct ike_glue *g, uint32_t conn);
/* The engine's children / current peer of a connection (ikev2.h, ikev1.h). */
unsigned ike_glue_eng_children(const struct ike_glue *g, uint32_t conn, struct ike_child_info *out,
                               unsigned cap);
bool ike_glue_eng_peer(const struct ike_glue *g, uint32_t conn, struct ike_endpoint *out);
/* The installed child with inbound SPI spi_in; NULL if none. */
struct glue_child *ike_glue_child_by_spi(struct ike_glue *g, uint32_t spi_in);
/* A child's outbound slot (its inbound SA is in the next one). */
uint32_t ike_glue_child_slot(const struct ike_glue *g, const struct glue_child *c);

/* ike_glue_dp.c: struct ike_ops over the data plane. */
uint32_t ike_glue_op_spi_alloc(void *ctx, uint32_t conn);
void ike_glue_op_send(void *ctx, const struct ike_endpoint *local,
                      const struct ike_endpoint *remote, const uint8_t *buf, size_t len);
int ike_glue_op_child_install(void *ctx, const struct ike_child *c);
void ike_glue_op_child_delete(void *ctx, uint32_t conn, uint32_t spi_in);
void ike_glue_op_child_outbound(void *ctx, uint32_t conn, uint32_t spi_in);
/* Children whose wait for child_outbound ran out send now. */
void ike_glue_outbound_poll(struct ike_glue *g, uint64_t now);
/* Datagrams waiting for a next hop's MAC: sent once it is known, dropped when too old. */
void ike_glue_pending_poll(struct ike_glue *g, uint64_t now);
/* The SPD of the base rules and the children's (see ike_glue_dp.c); 0 or -1. */
int ike_glue_spd_rebuild(struct ike_glue *g);
/* The child owning SA slot slot (either direction); NULL if none. */
struct glue_child *ike_glue_child_of_slot(struct ike_glue *g, uint32_t slot);

#endif
