/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Counters. Each is written by one worker only and read in place by the
 * control thread (metrics registry sums the per-worker copies with a
 * stride), so the packet path pays a plain increment and nothing else.
 * Readers may see a value a few packets old; that is all.
 */
#ifndef VPNGW_DP_COUNTERS_H
#define VPNGW_DP_COUNTERS_H

#include <stdint.h>

#include <rte_common.h>

#include "dp_drop.h"

struct dp_port_counters {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
};

struct dp_worker_counters {
	uint64_t rx_packets;
	uint64_t tx_packets;
	uint64_t encrypted;
	uint64_t decrypted;
	uint64_t handoff_out;  /* packets given to their SA's owner */
	uint64_t handoff_in;   /* packets taken from other workers */
	uint64_t punted;       /* packets given to the control thread */
	uint64_t messages;     /* control messages applied */
	uint64_t events_lost;  /* event ring full */
	uint64_t busy_cycles;  /* TSC cycles of loops that moved packets */
	uint64_t busy_packets; /* packets those loops moved */
	uint64_t idle_sleeps;
	uint64_t drops[DP_DROP_COUNT];
	struct dp_port_counters port[16]; /* DP_MAX_PORTS */
} __rte_cache_aligned;

#endif
