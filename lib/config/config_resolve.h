/* SPDX-License-Identifier: BSD-3-Clause */
/* The resolver's shared state and helpers (config.c, config_tunnel.c). */
#ifndef VPNGW_CONFIG_RESOLVE_H
#define VPNGW_CONFIG_RESOLVE_H

#include "config.h"
#include "config_internal.h"

enum {
	RC_PATH_MAX = 160,
	/* Per static SA: enc and auth key, in and out. */
	RC_SA_SECRETS = 4 * CONFIG_KEY_MAX,
};

struct name_ref;

struct rctx {
	struct config *cfg;
	const struct raw_config *raw;
	struct config_nodes nodes;
	struct config_err *err;
	const char *dir;            /* of the config file: psk_file is relative to it */
	struct name_ref *cgw_names; /* customer gateways sorted by name */
	char why[256];
};

/* Sets the error at path (its line from the node map); returns -1. */
int rc_fail(struct rctx *r, const char *path, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* base + "." + key into buf (RC_PATH_MAX); returns buf. */
const char *rc_path(char *buf, const char *base, const char *key);
/* printf into a path buffer of RC_PATH_MAX (truncates). */
void rc_pathf(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rc_tunnel_path(const struct config *cfg, uint32_t order, char *buf);

/* Absent (s NULL): the default. Each returns 0 or -1 with the error set. */
int rc_u32(struct rctx *r, const char *base, const char *key, const char *s, uint32_t def,
           uint32_t min, uint32_t max, uint32_t *v);
int rc_bool(struct rctx *r, const char *base, const char *key, const char *s, bool def, bool *v);
int rc_enum(struct rctx *r, const char *base, const char *key, const char *s,
            const char *const *names, unsigned n, unsigned def, unsigned *v);
int rc_addr(struct rctx *r, const char *path, const char *s, struct config_addr *a);
int rc_name(struct rctx *r, const char *base, const char *s, char *out);
int rc_subnets(struct rctx *r, const char *base, const char *key, char **list, uint32_t count,
               struct config_prefix **out, uint32_t *n);
int rc_customer_gateway(struct rctx *r, const char *path, const char *name, uint32_t *idx);

/* config_tunnel.c */
int rc_connection(struct rctx *r, const struct raw_connection *rc, uint32_t i,
                  struct config_connection *c, struct config_psk *psk);
int rc_static_sa(struct rctx *r, const struct raw_static_sa *rs, uint32_t i,
                 struct config_static_sa *sa, uint8_t *keys);
/* Inbound SPIs of static SAs are unique: the SAD is keyed by them. */
int rc_check_spis(struct rctx *r);

#endif
