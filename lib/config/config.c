/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loading: scan (structure, lines) -> libcyaml (strings into raw
 * structs) -> resolve (every value parsed, checked, defaulted, referenced
 * names looked up). The first error stops the load; nothing half-resolved
 * escapes. Algorithm lists, identities and keys: config_tunnel.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_internal.h"
#include "config_resolve.h"
#include "crypto_mem.h"

#define DEFAULT_MAX_CONNECTIONS 10
#define DEFAULT_CONTROL_SOCKET  "/run/vpngw/vpngw.sock"
#define DEFAULT_METRICS_LISTEN  "127.0.0.1:9469"
#define DEFAULT_MTU             1500
#define MTU_MIN                 576
#define MTU_MAX                 9216
#define PORTS_MAX               64
#define BANDWIDTH_MAX           4000000u /* Mbit/s */

int rc_fail(struct rctx *r, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	config_errf(r->err, config_node_line(&r->nodes, path), path, "%s", msg);
	return -1;
}

void rc_pathf(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, RC_PATH_MAX, fmt, ap);
	va_end(ap);
}

const char *rc_path(char *buf, const char *base, const char *key)
{
	rc_pathf(buf, "%s%s%s", base, base[0] && key[0] != '[' ? "." : "", key);
	return buf;
}

int rc_u32(struct rctx *r, const char *base, const char *key, const char *s, uint32_t def,
           uint32_t min, uint32_t max, uint32_t *v)
{
	char p[RC_PATH_MAX];

	if (s == NULL) {
		*v = def;
		return 0;
	}
	if (!config_parse_u32(s, min, max, v, r->why, sizeof(r->why)))
		return rc_fail(r, rc_path(p, base, key), "%s", r->why);
	return 0;
}

int rc_bool(struct rctx *r, const char *base, const char *key, const char *s, bool def, bool *v)
{
	char p[RC_PATH_MAX];

	if (s == NULL) {
		*v = def;
		return 0;
	}
	if (!config_parse_bool(s, v, r->why, sizeof(r->why)))
		return rc_fail(r, rc_path(p, base, key), "%s", r->why);
	return 0;
}

/* One of names[]; absent: def. */
int rc_enum(struct rctx *r, const char *base, const char *key, const char *s,
            const char *const *names, unsigned n, unsigned def, unsigned *v)
{
	char p[RC_PATH_MAX], allowed[128] = "";
	size_t used = 0;

	if (s == NULL) {
		*v = def;
		return 0;
	}
	for (unsigned i = 0; i < n; i++) {
		if (strcmp(s, names[i]) == 0) {
			*v = i;
			return 0;
		}
		int k = snprintf(allowed + used, sizeof(allowed) - used, "%s%s", i ? ", " : "",
		                 names[i]);

		if (k > 0 && (size_t)k < sizeof(allowed) - used)
			used += (size_t)k;
	}
	return rc_fail(r, rc_path(p, base, key), "\"%.64s\" is not allowed; allowed: %s", s,
	               allowed);
}

int rc_addr(struct rctx *r, const char *path, const char *s, struct config_addr *a)
{
	if (!config_parse_addr(s, a, r->why, sizeof(r->why)))
		return rc_fail(r, path, "%s", r->why);
	return 0;
}

int rc_name(struct rctx *r, const char *base, const char *s, char *out)
{
	char p[RC_PATH_MAX];

	if (!config_parse_name(s, out, r->why, sizeof(r->why)))
		return rc_fail(r, rc_path(p, base, "name"), "%s", r->why);
	return 0;
}

int rc_subnets(struct rctx *r, const char *base, const char *key, char **list, uint32_t count,
               struct config_prefix **out, uint32_t *n)
{
	char p[RC_PATH_MAX], item[RC_PATH_MAX];

	*out = calloc(count, sizeof(**out));
	if (*out == NULL)
		return rc_fail(r, base, "out of memory");
	*n = count;
	for (uint32_t i = 0; i < count; i++) {
		rc_path(p, base, key);
		rc_pathf(item, "%s[%u]", p, i);
		if (!config_parse_prefix(list[i], true, &(*out)[i], r->why, sizeof(r->why)))
			return rc_fail(r, item, "%s", r->why);
	}
	return 0;
}

/* Same family, and host bits of a inside p's prefix. */
static bool prefix_contains(const struct config_prefix *p, const struct config_addr *a)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (p->addr.family != a->family)
		return false;
	if (memcmp(p->addr.u.bytes, a->u.bytes, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (p->addr.u.bytes[full] & mask) == (a->u.bytes[full] & mask);
}

/* q within p: same family, no shorter, and q's network inside p's. */
static bool prefix_within(const struct config_prefix *p, const struct config_prefix *q)
{
	return p->len <= q->len && prefix_contains(p, &q->addr);
}

static bool prefix_overlaps(const struct config_prefix *a, const struct config_prefix *b)
{
	return a->len <= b->len ? prefix_contains(a, &b->addr) : prefix_contains(b, &a->addr);
}

/*
 * The k-th prefix a port routes: 0 its on-link subnet, then its routes,
 * then (with a gateway, when asked for) the default route. False past the
 * last.
 */
static bool port_prefix(const struct config_port *port, uint32_t k, bool with_default,
                        struct config_prefix *out, const char **what)
{
	if (k == 0) {
		unsigned len = port->address.len;

		*out = port->address; /* the network, for messages */
		for (unsigned b = len; b < sizeof(out->addr.u.bytes) * 8; b++)
			out->addr.u.bytes[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
		*what = "subnet";
		return true;
	}
	if (k - 1 < port->n_routes) {
		*out = port->routes[k - 1].to;
		*what = "route";
		return true;
	}
	if (k - 1 == port->n_routes && port->has_gateway && with_default) {
		memset(out, 0, sizeof(*out));
		out->addr.family = port->gateway.family;
		*what = "default route";
		return true;
	}
	return false;
}

/*
 * SPD BYPASS entries send traffic out in the clear, so remote must be
 * routed to a private port: inside one's subnet or routes, and no public
 * port's prefix as long or longer may match any of it (ties are refused:
 * which port wins would be the data plane's choice, not the operator's).
 */
static int resolve_bypass(struct rctx *r, const struct raw_gateway *rg, struct config_gateway *gw)
{
	char item[RC_PATH_MAX], p[RC_PATH_MAX];

	if (rg->bypass_count == 0)
		return 0;
	gw->bypass = calloc(rg->bypass_count, sizeof(*gw->bypass));
	if (gw->bypass == NULL)
		return rc_fail(r, "gateway.bypass", "out of memory");
	gw->n_bypass = rg->bypass_count;
	for (uint32_t i = 0; i < rg->bypass_count; i++) {
		const struct raw_bypass *rb = &rg->bypass[i];
		struct config_bypass *b = &gw->bypass[i];
		struct config_prefix q;
		const char *what;
		int best = -1;

		rc_pathf(item, "gateway.bypass[%u]", i);
		if (!config_parse_prefix(rb->local, true, &b->local, r->why, sizeof(r->why)))
			return rc_fail(r, rc_path(p, item, "local"), "%s", r->why);
		rc_path(p, item, "remote"); /* every error from here on is remote's */
		if (!config_parse_prefix(rb->remote, true, &b->remote, r->why, sizeof(r->why)))
			return rc_fail(r, p, "%s", r->why);
		if (b->local.addr.family != b->remote.addr.family)
			return rc_fail(r, p, "%s and local %s are of different address families",
			               rb->remote, rb->local);
		for (uint32_t j = 0; j < gw->n_ports; j++) {
			const struct config_port *port = &gw->ports[j];

			if (port->role != CONFIG_PORT_PRIVATE)
				continue;
			for (uint32_t k = 0; port_prefix(port, k, false, &q, &what); k++)
				if (prefix_within(&q, &b->remote) && q.len > best)
					best = q.len;
		}
		if (best < 0)
			return rc_fail(r, p,
			               "%s is not within a private port's subnet or routes "
			               "(gateway.ports[].address, .routes); bypass traffic must "
			               "stay on the private side",
			               rb->remote);
		for (uint32_t j = 0; j < gw->n_ports; j++) {
			const struct config_port *port = &gw->ports[j];
			char a[64];

			if (port->role != CONFIG_PORT_PUBLIC)
				continue;
			for (uint32_t k = 0; port_prefix(port, k, true, &q, &what); k++) {
				if (q.len < best || !prefix_overlaps(&q, &b->remote))
					continue;
				config_addr_str(&q.addr, a, sizeof(a));
				return rc_fail(r, p,
				               "%s would be sent out of public port %s, whose %s "
				               "%s/%u matches it as specifically or more; bypass "
				               "traffic must stay on the private side",
				               rb->remote, port->name, what, a, q.len);
			}
		}
	}
	return 0;
}

static int resolve_port(struct rctx *r, const struct raw_port *rp, uint32_t i,
                        struct config_port *port)
{
	static const char *const roles[] = { "public", "private" };
	char base[RC_PATH_MAX], p[RC_PATH_MAX], item[RC_PATH_MAX];
	unsigned role;

	rc_pathf(base, "gateway.ports[%u]", i);
	if (rc_name(r, base, rp->name, port->name) < 0)
		return -1;
	if (rp->device[0] == '\0' || strlen(rp->device) >= sizeof(port->device))
		return rc_fail(r, rc_path(p, base, "device"),
		               "must be a PCI address or DPDK vdev of 1..%zu characters",
		               sizeof(port->device) - 1);
	snprintf(port->device, sizeof(port->device), "%s", rp->device);
	if (rc_enum(r, base, "role", rp->role, roles, 2, 0, &role) < 0)
		return -1;
	port->role = (enum config_port_role)role;
	if (!config_parse_prefix(rp->address, false, &port->address, r->why, sizeof(r->why)))
		return rc_fail(r, rc_path(p, base, "address"), "%s", r->why);
	if (rp->gateway != NULL) {
		if (rc_addr(r, rc_path(p, base, "gateway"), rp->gateway, &port->gateway) < 0)
			return -1;
		if (!prefix_contains(&port->address, &port->gateway))
			return rc_fail(r, p, "%s is not on the port's subnet %s", rp->gateway,
			               rp->address);
		port->has_gateway = true;
	}
	if (rc_u32(r, base, "mtu", rp->mtu, DEFAULT_MTU, MTU_MIN, MTU_MAX, &port->mtu) < 0)
		return -1;
	if (rp->routes_count > 0) {
		port->routes = calloc(rp->routes_count, sizeof(*port->routes));
		if (port->routes == NULL)
			return rc_fail(r, base, "out of memory");
		port->n_routes = rp->routes_count;
	}
	for (uint32_t j = 0; j < rp->routes_count; j++) {
		struct config_route *rt = &port->routes[j];

		rc_pathf(item, "%s.routes[%u]", base, j);
		if (!config_parse_prefix(rp->routes[j].to, true, &rt->to, r->why, sizeof(r->why)))
			return rc_fail(r, rc_path(p, item, "to"), "%s", r->why);
		if (rc_addr(r, rc_path(p, item, "via"), rp->routes[j].via, &rt->via) < 0)
			return -1;
		if (rt->via.family != rt->to.addr.family)
			return rc_fail(r, p, "%s and to %s are of different address families",
			               rp->routes[j].via, rp->routes[j].to);
	}
	if (rp->neighbours_count > 0) {
		port->neighbours = calloc(rp->neighbours_count, sizeof(*port->neighbours));
		if (port->neighbours == NULL)
			return rc_fail(r, base, "out of memory");
		port->n_neighbours = rp->neighbours_count;
	}
	for (uint32_t j = 0; j < rp->neighbours_count; j++) {
		struct config_neighbour *nb = &port->neighbours[j];

		rc_pathf(item, "%s.neighbours[%u]", base, j);
		if (rc_addr(r, rc_path(p, item, "ip"), rp->neighbours[j].ip, &nb->ip) < 0)
			return -1;
		if (!config_parse_mac(rp->neighbours[j].mac, nb->mac, r->why, sizeof(r->why)))
			return rc_fail(r, rc_path(p, item, "mac"), "%s", r->why);
	}
	return 0;
}

static int resolve_workers(struct rctx *r, struct config_gateway *gw)
{
	const char *path = "gateway.workers";
	const struct config_node *nd = config_node_get(&r->nodes, path);
	char item[RC_PATH_MAX];

	gw->workers = CONFIG_WORKERS_AUTO;
	if (nd == NULL || (nd->kind == CONFIG_NODE_SCALAR && strcmp(nd->value, "auto") == 0))
		return 0;
	if (nd->kind == CONFIG_NODE_SCALAR) {
		if (!config_parse_u32(nd->value, 1, CONFIG_LCORES_MAX, &gw->n_workers, r->why,
		                      sizeof(r->why)))
			return rc_fail(r, path,
			               "\"%.40s\" is not allowed; allowed: auto, a count 1..%d, "
			               "or a list of lcore ids",
			               nd->value, CONFIG_LCORES_MAX);
		gw->workers = CONFIG_WORKERS_COUNT;
		return 0;
	}
	if (nd->count == 0 || nd->count > CONFIG_LCORES_MAX)
		return rc_fail(r, path, "%u lcores; allowed: 1..%d", nd->count, CONFIG_LCORES_MAX);
	gw->workers = CONFIG_WORKERS_LIST;
	gw->n_workers = nd->count;
	for (uint32_t i = 0; i < nd->count; i++) {
		const struct config_node *it;
		uint32_t lc;

		rc_pathf(item, "%s[%u]", path, i);
		it = config_node_get(&r->nodes, item);
		if (it == NULL || !config_parse_u32(it->value, 0, CONFIG_LCORES_MAX - 1, &lc,
		                                    r->why, sizeof(r->why)))
			return rc_fail(r, item, "%s", it ? r->why : "missing");
		for (uint32_t j = 0; j < i; j++)
			if (gw->lcores[j] == lc)
				return rc_fail(r, item, "lcore %u is listed twice", lc);
		gw->lcores[i] = (uint16_t)lc;
	}
	return 0;
}

static int resolve_gateway(struct rctx *r, const struct raw_gateway *rg, struct config_gateway *gw)
{
	static const char *const poll_modes[] = { "busy", "adaptive" };
	const char *base = "gateway";
	char p[RC_PATH_MAX];
	unsigned mode;
	bool have_public = false;

	if (rc_name(r, base, rg->name, gw->name) < 0 ||
	    rc_u32(r, base, "max_connections", rg->max_connections, DEFAULT_MAX_CONNECTIONS, 1,
	           CONFIG_CONNECTIONS_MAX, &gw->max_connections) < 0 ||
	    rc_u32(r, base, "bandwidth_mbps", rg->bandwidth_mbps, 0, 0, BANDWIDTH_MAX,
	           &gw->bandwidth_mbps) < 0 ||
	    resolve_workers(r, gw) < 0 ||
	    rc_enum(r, base, "poll_mode", rg->poll_mode, poll_modes, 2, 0, &mode) < 0 ||
	    rc_bool(r, base, "tcp_mss_clamp", rg->tcp_mss_clamp, true, &gw->tcp_mss_clamp) < 0)
		return -1;
	gw->poll_mode = (enum config_poll_mode)mode;
	const char *sock = rg->control_socket ? rg->control_socket : DEFAULT_CONTROL_SOCKET;

	if (sock[0] == '\0' || strlen(sock) >= sizeof(gw->control_socket))
		return rc_fail(r, rc_path(p, base, "control_socket"),
		               "must be a path of 1..%zu characters",
		               sizeof(gw->control_socket) - 1);
	snprintf(gw->control_socket, sizeof(gw->control_socket), "%s", sock);
	if (!config_parse_endpoint(rg->metrics_listen ? rg->metrics_listen : DEFAULT_METRICS_LISTEN,
	                           &gw->metrics_addr, &gw->metrics_port, r->why, sizeof(r->why)))
		return rc_fail(r, rc_path(p, base, "metrics_listen"), "%s", r->why);

	if (rg->ports_count > PORTS_MAX)
		return rc_fail(r, "gateway.ports", "%u ports; at most %d", rg->ports_count,
		               PORTS_MAX);
	gw->ports = calloc(rg->ports_count, sizeof(*gw->ports));
	if (gw->ports == NULL)
		return rc_fail(r, base, "out of memory");
	gw->n_ports = rg->ports_count;
	for (uint32_t i = 0; i < rg->ports_count; i++) {
		if (resolve_port(r, &rg->ports[i], i, &gw->ports[i]) < 0)
			return -1;
		/* Few ports: a pairwise check is cheaper than anything clever. */
		for (uint32_t j = 0; j < i; j++) {
			rc_pathf(p, "gateway.ports[%u]", i);
			if (strcmp(gw->ports[j].name, gw->ports[i].name) == 0)
				return rc_fail(r, rc_path(p, p, "name"),
				               "\"%s\" is already the name of gateway.ports[%u]",
				               gw->ports[i].name, j);
			if (strcmp(gw->ports[j].device, gw->ports[i].device) == 0)
				return rc_fail(r, rc_path(p, p, "device"),
				               "\"%s\" is already the device of gateway.ports[%u]",
				               gw->ports[i].device, j);
		}
		if (gw->ports[i].role == CONFIG_PORT_PUBLIC && !have_public) {
			gw->public_port = i;
			have_public = true;
		}
	}
	if (!have_public)
		return rc_fail(r, "gateway.ports",
		               "no port with role public; tunnels need one to reach their peers");
	return resolve_bypass(r, rg, gw);
}

struct name_ref {
	const char *name;
	uint32_t order; /* file order: customer gateway index, or connections then static_sas */
};

static int name_ref_cmp(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->order > y->order) - (x->order < y->order);
}

static int addr_ref_cmp(const void *a, const void *b)
{
	const struct config_customer_gateway *x = *(const struct config_customer_gateway *const *)a;
	const struct config_customer_gateway *y = *(const struct config_customer_gateway *const *)b;

	if (x->address.family != y->address.family)
		return x->address.family - y->address.family;
	int c = memcmp(x->address.u.bytes, y->address.u.bytes, sizeof(x->address.u.bytes));

	return c ? c : (x > y) - (x < y);
}

static int resolve_customer_gateways(struct rctx *r)
{
	const struct raw_config *raw = r->raw;
	struct config *cfg = r->cfg;
	const struct config_customer_gateway **by_addr = NULL;
	char base[RC_PATH_MAX], p[RC_PATH_MAX];
	uint32_t n = raw->customer_gateways_count;
	int rc = -1;

	if (n == 0)
		return 0;
	cfg->customer_gateways = calloc(n, sizeof(*cfg->customer_gateways));
	r->cgw_names = calloc(n, sizeof(*r->cgw_names));
	by_addr = calloc(n, sizeof(*by_addr));
	if (cfg->customer_gateways == NULL || r->cgw_names == NULL || by_addr == NULL) {
		rc_fail(r, "customer_gateways", "out of memory");
		goto out;
	}
	cfg->n_customer_gateways = n;
	for (uint32_t i = 0; i < n; i++) {
		struct config_customer_gateway *cg = &cfg->customer_gateways[i];

		rc_pathf(base, "customer_gateways[%u]", i);
		if (rc_name(r, base, raw->customer_gateways[i].name, cg->name) < 0 ||
		    rc_addr(r, rc_path(p, base, "address"), raw->customer_gateways[i].address,
		            &cg->address) < 0)
			goto out;
		r->cgw_names[i] = (struct name_ref){ cg->name, i };
		by_addr[i] = cg;
	}
	/* Sorted once: duplicate checks and the connections' look-ups stay O(n log n). */
	qsort(r->cgw_names, n, sizeof(*r->cgw_names), name_ref_cmp);
	for (uint32_t i = 1; i < n; i++) {
		if (strcmp(r->cgw_names[i - 1].name, r->cgw_names[i].name) != 0)
			continue;
		rc_pathf(base, "customer_gateways[%u]", r->cgw_names[i].order);
		rc_fail(r, rc_path(p, base, "name"),
		        "\"%s\" is already the name of customer_gateways[%u]", r->cgw_names[i].name,
		        r->cgw_names[i - 1].order);
		goto out;
	}
	/* A peer is told apart by its address (unknown_peer); two can't share one. */
	qsort(by_addr, n, sizeof(*by_addr), addr_ref_cmp);
	for (uint32_t i = 1; i < n; i++) {
		char a[64];

		if (by_addr[i - 1]->address.family != by_addr[i]->address.family ||
		    memcmp(&by_addr[i - 1]->address.u, &by_addr[i]->address.u,
		           sizeof(by_addr[i]->address.u)) != 0)
			continue;
		config_addr_str(&by_addr[i]->address, a, sizeof(a));
		rc_pathf(base, "customer_gateways[%td]", by_addr[i] - cfg->customer_gateways);
		rc_fail(r, rc_path(p, base, "address"),
		        "%s is already the address of customer_gateways[%td]", a,
		        by_addr[i - 1] - cfg->customer_gateways);
		goto out;
	}
	rc = 0;
out:
	free(by_addr);
	return rc;
}

int rc_customer_gateway(struct rctx *r, const char *path, const char *name, uint32_t *idx)
{
	struct name_ref key = { name, 0 };
	uint32_t lo = 0, hi = r->cfg->n_customer_gateways;

	/* Lower bound by name alone: the first of equal names is the one. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (strcmp(r->cgw_names[mid].name, key.name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < r->cfg->n_customer_gateways && strcmp(r->cgw_names[lo].name, name) == 0) {
		*idx = r->cgw_names[lo].order;
		return 0;
	}
	return rc_fail(r, path, "\"%.64s\" is not a customer gateway (customer_gateways[].name)",
	               name);
}

/* Connections and static SAs share one namespace: vpnctl names either. */
static int check_tunnel_names(struct rctx *r)
{
	const struct config *cfg = r->cfg;
	uint32_t n = cfg->n_connections + cfg->n_static_sas;
	struct name_ref *v;
	char a[RC_PATH_MAX], b[RC_PATH_MAX], p[RC_PATH_MAX];
	int rc = 0;

	if (n < 2)
		return 0;
	v = calloc(n, sizeof(*v));
	if (v == NULL)
		return rc_fail(r, "connections", "out of memory");
	for (uint32_t i = 0; i < cfg->n_connections; i++)
		v[i] = (struct name_ref){ cfg->connections[i].name, i };
	for (uint32_t i = 0; i < cfg->n_static_sas; i++)
		v[cfg->n_connections + i] =
		        (struct name_ref){ cfg->static_sas[i].name, cfg->n_connections + i };
	qsort(v, n, sizeof(*v), name_ref_cmp);
	for (uint32_t i = 1; i < n && rc == 0; i++) {
		if (strcmp(v[i - 1].name, v[i].name) != 0)
			continue;
		rc_tunnel_path(cfg, v[i - 1].order, a);
		rc_tunnel_path(cfg, v[i].order, b);
		rc = rc_fail(r, rc_path(p, b, "name"), "\"%s\" is already the name of %s",
		             v[i].name, a);
	}
	free(v);
	return rc;
}

void rc_tunnel_path(const struct config *cfg, uint32_t order, char *buf)
{
	if (order < cfg->n_connections)
		rc_pathf(buf, "connections[%u]", order);
	else
		rc_pathf(buf, "static_sas[%u]", order - cfg->n_connections);
}

static int resolve(struct rctx *r)
{
	const struct raw_config *raw = r->raw;
	struct config *cfg = r->cfg;
	char p[RC_PATH_MAX];
	size_t secrets;

	if (resolve_gateway(r, raw->gateway, &cfg->gateway) < 0 || resolve_customer_gateways(r) < 0)
		return -1;
	if (raw->connections_count > cfg->gateway.max_connections) {
		rc_pathf(p, "connections[%u]", cfg->gateway.max_connections);
		return rc_fail(r, p,
		               "%u connections, more than gateway.max_connections (%u); raise "
		               "max_connections or remove connections",
		               raw->connections_count, cfg->gateway.max_connections);
	}
	/* All secrets in one locked block: one mlock, one wipe. */
	secrets = raw->connections_count * sizeof(struct config_psk) +
	          raw->static_sas_count * RC_SA_SECRETS;
	if (secrets > 0) {
		cfg->secrets = crypto_key_alloc(secrets);
		if (cfg->secrets == NULL)
			return rc_fail(r, "", "cannot allocate %zu bytes of locked memory for keys",
			               secrets);
		cfg->secrets_len = secrets;
	}
	if (raw->connections_count > 0) {
		cfg->connections = calloc(raw->connections_count, sizeof(*cfg->connections));
		if (cfg->connections == NULL)
			return rc_fail(r, "connections", "out of memory");
		cfg->n_connections = raw->connections_count;
	}
	for (uint32_t i = 0; i < raw->connections_count; i++) {
		struct config_psk *psk = (struct config_psk *)cfg->secrets + i;

		if (rc_connection(r, &raw->connections[i], i, &cfg->connections[i], psk) < 0)
			return -1;
	}
	if (raw->static_sas_count > 0) {
		cfg->static_sas = calloc(raw->static_sas_count, sizeof(*cfg->static_sas));
		if (cfg->static_sas == NULL)
			return rc_fail(r, "static_sas", "out of memory");
		cfg->n_static_sas = raw->static_sas_count;
	}
	for (uint32_t i = 0; i < raw->static_sas_count; i++) {
		uint8_t *keys = (uint8_t *)cfg->secrets +
		                raw->connections_count * sizeof(struct config_psk) +
		                (size_t)i * RC_SA_SECRETS;

		if (rc_static_sa(r, &raw->static_sas[i], i, &cfg->static_sas[i], keys) < 0)
			return -1;
	}
	return check_tunnel_names(r) < 0 || rc_check_spis(r) < 0 ? -1 : 0;
}

static char *dir_of(const char *name)
{
	const char *slash = strrchr(name, '/');
	size_t n;
	char *d;

	if (slash == NULL)
		return strdup(".");
	n = slash == name ? 1 : (size_t)(slash - name);
	d = malloc(n + 1);
	if (d != NULL) {
		memcpy(d, name, n);
		d[n] = '\0';
	}
	return d;
}

int config_load_string(const char *yaml, size_t len, const char *name, struct config **out,
                       char *err, size_t err_len)
{
	struct config_err e = { .buf = err, .cap = err ? err_len : 0, .name = name };
	struct rctx r = { .err = &e };
	struct raw_config *raw = NULL;
	int rc = -1;

	*out = NULL;
	if (e.cap > 0)
		err[0] = '\0';
	if (len > CONFIG_FILE_MAX) {
		config_errf(&e, 1, NULL, "file larger than %d bytes", CONFIG_FILE_MAX);
		return -1;
	}
	if (crypto_init() < 0) {
		config_errf(&e, 1, NULL, "libsodium failed to start");
		return -1;
	}
	if (config_yaml_scan((const uint8_t *)yaml, len, &r.nodes, &e) < 0 ||
	    config_raw_load((const uint8_t *)yaml, len, &raw, &e) < 0)
		goto out;
	r.raw = raw;
	r.dir = dir_of(name);
	r.cfg = calloc(1, sizeof(*r.cfg));
	if (r.dir == NULL || r.cfg == NULL) {
		config_errf(&e, 1, NULL, "out of memory");
		goto out;
	}
	rc = resolve(&r);
out:
	if (rc == 0)
		*out = r.cfg;
	else
		config_free(r.cfg);
	free(r.cgw_names);
	free((char *)r.dir);
	config_raw_free(raw);
	config_nodes_free(&r.nodes);
	return rc;
}

int config_load(const char *path, struct config **out, char *err, size_t err_len)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, rc = -1;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CONFIG_FILE_MAX) {
		snprintf(err, err_len, "%s: not a regular file of at most %d bytes", path,
		         CONFIG_FILE_MAX);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		snprintf(err, err_len, "%s: out of memory", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, err_len, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	rc = config_load_string(buf, got, path, out, err, err_len);
out:
	if (buf != NULL) {
		crypto_wipe(buf, got); /* the file holds PSKs and keys */
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (uint32_t i = 0; i < cfg->gateway.n_ports; i++) {
		free(cfg->gateway.ports[i].routes);
		free(cfg->gateway.ports[i].neighbours);
	}
	free(cfg->gateway.ports);
	free(cfg->gateway.bypass);
	free(cfg->customer_gateways);
	for (uint32_t i = 0; i < cfg->n_connections; i++) {
		free(cfg->connections[i].local_subnets);
		free(cfg->connections[i].remote_subnets);
	}
	free(cfg->connections);
	for (uint32_t i = 0; i < cfg->n_static_sas; i++) {
		free(cfg->static_sas[i].local_subnets);
		free(cfg->static_sas[i].remote_subnets);
	}
	free(cfg->static_sas);
	crypto_key_free(cfg->secrets); /* wipes */
	free(cfg);
}
