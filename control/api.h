/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket: a Unix stream socket speaking one JSON object per
 * line each way. Request {"cmd": "sa", "args": {...}}; response
 * {"ok": true, "result": ...} or {"ok": false, "error": "message"}.
 * Served by the control thread through api_poll() (non-blocking); handlers
 * run on the control thread, so they may read control state without locks.
 */
#ifndef VPNGW_API_H
#define VPNGW_API_H

#include <jansson.h>

struct api;

/*
 * Handler for one command: fills *result (new reference) and returns 0, or
 * returns -1 with a message in err (shown to the operator as is).
 */
typedef int (*api_handler_fn)(void *ctx, json_t *args, json_t **result, char *err, size_t err_len);

/*
 * Listens on path (creating its directory, replacing a stale socket; mode
 * 0660). NULL with a message in err on failure.
 */
struct api *api_listen(const char *path, char *err, size_t err_len);
void api_close(struct api *a); /* also unlinks the socket */

int api_register(struct api *a, const char *cmd, api_handler_fn fn, void *ctx);

/* Accepts, reads and answers whatever is ready; never blocks. */
void api_poll(struct api *a);

/*
 * Client side, for vpnctl and tests: sends one request and waits up to
 * timeout_ms for the response. Returns the response (new reference) or NULL
 * with a message in err.
 */
json_t *api_call(const char *path, const char *cmd, json_t *args, int timeout_ms, char *err,
                 size_t err_len);

#endif
