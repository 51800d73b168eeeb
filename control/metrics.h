/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The metrics registry: every counter the gateway exposes, registered once
 * by its owner, read by three front ends: GET /metrics (Prometheus text
 * format over libmicrohttpd), DPDK's telemetry socket (rte_telemetry) and
 * `vpnctl stats --json` (through metrics_json). A series reads live values
 * straight from where the workers count them (per-worker copies summed at
 * read time), so registering costs the packet path nothing.
 *
 * Registration and removal happen on the control thread; rendering may run
 * on the HTTP server's or the telemetry thread: the registry takes its own
 * lock, the workers never do.
 */
#ifndef VPNGW_METRICS_H
#define VPNGW_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define METRICS_MAX_LABELS 4

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
};

struct metrics;
struct metric_family;
struct metric_series;

struct metrics *metrics_new(void);
/* Stops the HTTP server, unregisters nothing from rte_telemetry (it has no API for that). */
void metrics_free(struct metrics *m);

/*
 * A family: name without the "vpngw_" prefix ("esp_packets_total"), help
 * text, type and label names. Registering the same name twice returns the
 * first family. NULL on a bad name or label list.
 */
struct metric_family *metrics_family(struct metrics *m, const char *name, const char *help,
                                     enum metric_type type, const char *const *labels,
                                     unsigned n_labels);

/*
 * A series of a family: label values (as many as the family has labels)
 * and where to read it: the sum of n uint64_t values at p, p + stride,
 * p + 2 * stride ... (stride in bytes; n = 1 for a single value).
 * NULL on failure (duplicate label values included).
 */
struct metric_series *metrics_series(struct metric_family *f, const char *const *values,
                                     const volatile uint64_t *p, unsigned n, size_t stride);

/* A series whose value comes from a function (state gauges, derived values). */
struct metric_series *metrics_series_fn(struct metric_family *f, const char *const *values,
                                        uint64_t (*read)(void *arg), void *arg);

/* Removes a series (an SA deleted): its memory may be freed after this returns. */
void metrics_series_remove(struct metric_series *s);

/* The whole registry in Prometheus text format (HELP, TYPE, series); caller frees. */
char *metrics_render(struct metrics *m, size_t *len);

/* {"name": [{"labels": {...}, "value": N}, ...], ...}; caller json_decref()s. */
json_t *metrics_json(struct metrics *m);

/*
 * Serves GET /metrics on listen ("127.0.0.1:9469", "[::1]:9469") from
 * libmicrohttpd's own thread. Returns 0 or -1 with a message in err.
 */
int metrics_http_start(struct metrics *m, const char *listen, char *err, size_t err_len);

/*
 * Registers /vpngw/metrics with rte_telemetry (after rte_eal_init): the same
 * values as a dictionary. Returns 0 or -1.
 */
int metrics_telemetry_register(struct metrics *m);

#endif
