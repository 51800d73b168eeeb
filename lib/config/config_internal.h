/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loading, inside: the structs libcyaml fills (every scalar kept as
 * the string written, so that the resolver, not libcyaml, words the errors),
 * the schema tables, and the map of YAML nodes by key path that gives every
 * error its line and carries the few values whose type varies (a name or a
 * list of names, "auto" or a count or a list of lcores).
 */
#ifndef VPNGW_CONFIG_INTERNAL_H
#define VPNGW_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cyaml/cyaml.h>

struct raw_route {
	char *to;
	char *via;
};

struct raw_neighbour {
	char *ip;
	char *mac;
};

struct raw_port {
	char *name;
	char *device;
	char *role;
	char *address;
	char *gateway;
	char *mtu;
	struct raw_route *routes;
	uint32_t routes_count;
	struct raw_neighbour *neighbours;
	uint32_t neighbours_count;
};

struct raw_bypass {
	char *local;
	char *remote;
};

/* workers: in the node map (auto, a count or a list). */
struct raw_gateway {
	char *name;
	char *max_connections;
	char *bandwidth_mbps;
	char *poll_mode;
	char *control_socket;
	char *metrics_listen;
	struct raw_port *ports;
	uint32_t ports_count;
	char *tcp_mss_clamp;
	struct raw_bypass *bypass;
	uint32_t bypass_count;
};

struct raw_customer_gateway {
	char *name;
	char *address;
};

/* encryption, integrity, dh_group: in the node map (a name or a list). */
struct raw_ike {
	char *version;
	char *mode;
	char *lifetime;
	char *local_id;
	char *remote_id;
};

/* encryption, integrity: in the node map. */
struct raw_ipsec {
	char *pfs;
	char *lifetime;
	char *lifetime_bytes;
	char *lifetime_packets;
};

struct raw_connection {
	char *name;
	char *customer_gateway;
	char **local_subnets;
	uint32_t local_subnets_count;
	char **remote_subnets;
	uint32_t remote_subnets_count;
	char *effect_immediately;
	char *psk;
	char *psk_file;
	char *dpd;
	char *nat_traversal;
	struct raw_ike *ike;
	struct raw_ipsec *ipsec;
};

struct raw_sa_dir {
	char *spi;
	char *enc_key;
	char *auth_key;
	char *initial_seq;
};

struct raw_lifetime {
	char *seconds;
	char *bytes;
	char *packets;
};

struct raw_static_sa {
	char *name;
	char *peer;
	char **local_subnets;
	uint32_t local_subnets_count;
	char **remote_subnets;
	uint32_t remote_subnets_count;
	char *encryption;
	char *integrity;
	char *udp_encap;
	char *replay_window;
	char *esn;
	struct raw_lifetime *lifetime;
	struct raw_sa_dir *out;
	struct raw_sa_dir *in;
};

struct raw_config {
	struct raw_gateway *gateway;
	struct raw_customer_gateway *customer_gateways;
	uint32_t customer_gateways_count;
	struct raw_connection *connections;
	uint32_t connections_count;
	struct raw_static_sa *static_sas;
	uint32_t static_sas_count;
};

/* The top of the schema: what the scan checks and libcyaml loads. */
extern const cyaml_schema_value_t config_schema;

/* First error only: "NAME:LINE: PATH: message". */
struct config_err {
	char *buf;
	size_t cap;
	const char *name;
	bool set;
};

void config_errf(struct config_err *e, uint32_t line, const char *path, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

enum config_node_kind {
	CONFIG_NODE_SCALAR,
	CONFIG_NODE_LIST,
	CONFIG_NODE_MAP,
};

struct config_node {
	char *path;  /* "connections[1].ike.encryption"; "" for the top */
	char *value; /* scalars only */
	uint32_t line;
	uint32_t count; /* entries of a list or mapping */
	enum config_node_kind kind;
};

/* Sorted by path once the scan is done, for bsearch. */
struct config_nodes {
	struct config_node *v;
	size_t n;
	size_t cap;
};

/*
 * Parses buf with libyaml's event parser and checks it against the schema:
 * syntax, one document, a mapping at the top, no aliases, known keys only,
 * no duplicates, required keys present, the right kind of node (value,
 * list, mapping) for each key. Fills nodes. Returns 0 or -1 with err set.
 * Once this passes, libcyaml loads the same buffer without complaint.
 */
int config_yaml_scan(const uint8_t *buf, size_t len, struct config_nodes *nodes,
                     struct config_err *err);

const struct config_node *config_node_get(const struct config_nodes *nodes, const char *path);

/* The line of path, or of its nearest ancestor present in the file. */
uint32_t config_node_line(const struct config_nodes *nodes, const char *path);

/* Wipes the scalars (a PSK is one) and releases. */
void config_nodes_free(struct config_nodes *nodes);

/* libcyaml over the scanned buffer; its messages go into err. */
int config_raw_load(const uint8_t *buf, size_t len, struct raw_config **out,
                    struct config_err *err);
/* Wipes the secret strings and releases. */
void config_raw_free(struct raw_config *raw);

/*
 * Scalar parsers. Each returns true on success; on failure it writes why
 * (no key, no line: the caller adds those) into why.
 */
struct config_addr;
struct config_prefix;
bool config_parse_addr(const char *s, struct config_addr *a, char *why, size_t cap);
/* net: host bits must be zero (a subnet), else an interface address. */
bool config_parse_prefix(const char *s, bool net, struct config_prefix *p, char *why, size_t cap);
bool config_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *v, char *why,
                      size_t cap);
bool config_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *v, char *why,
                      size_t cap);
bool config_parse_bool(const char *s, bool *v, char *why, size_t cap);
/* ESP SPI: decimal or 0x hex, 256..2^32-1 (0 and 1..255 are reserved, RFC 4303 2.1). */
bool config_parse_spi(const char *s, uint32_t *v, char *why, size_t cap);
/* Hex (optional 0x) into out; *len the decoded length; at most cap_out bytes. */
bool config_parse_hex(const char *s, uint8_t *out, size_t cap_out, size_t *len, char *why,
                      size_t cap);
bool config_parse_mac(const char *s, uint8_t mac[6], char *why, size_t cap);
/* name: [A-Za-z0-9._-]{1,63} */
bool config_parse_name(const char *s, char *out, char *why, size_t cap);
/* "1.2.3.4:9469" or "[::1]:9469" */
bool config_parse_endpoint(const char *s, struct config_addr *a, uint16_t *port, char *why,
                           size_t cap);
/* An address in text, for messages and default identities. */
void config_addr_str(const struct config_addr *a, char *buf, size_t cap);

#endif
