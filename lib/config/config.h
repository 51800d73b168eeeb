/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The gateway's YAML configuration (DESIGN.md "Configuration"), loaded with
 * libcyaml and resolved into typed values the daemon uses as they are:
 * parsed addresses and prefixes, enums, crypto catalogue ids, decoded keys.
 *
 * Every error names the file, the line, the key path
 * (connections[1].ike.encryption) and, where the set is fixed, the allowed
 * values. A bad file is refused whole; nothing half-loaded is returned.
 *
 * Defaults (what an absent key means):
 *   gateway.max_connections 10, bandwidth_mbps 0 (unlimited), workers auto,
 *   poll_mode busy, control_socket /run/vpngw/vpngw.sock, metrics_listen
 *   127.0.0.1:9469, tcp_mss_clamp true (the MSS option of TCP SYNs that
 *   enter or leave a tunnel is lowered to fit the tunnel's MTU), bypass
 *   none; ports[].mtu 1500.
 *   gateway.bypass: [{local: PREFIX, remote: PREFIX}, ...], at most
 *   CONFIG_BYPASS_MAX: private-side traffic from local to remote is
 *   forwarded in the clear, ahead of any tunnel (SPD BYPASS, RFC 4301),
 *   e.g. management traffic to a directly connected network. Both
 *   prefixes of one family, host bits zero. So that it never opens a hole
 *   to the public side, remote must lie within a private port's on-link
 *   subnet or one of its routes, and no public port's subnet, route or
 *   default route may match any of remote as specifically or more.
 *   connections[]: effect_immediately false (respond, or initiate on the
 *   first packet), dpd true, nat_traversal true;
 *   ike: version ikev1, mode main, encryption aes, integrity sha1,
 *   dh_group group2, lifetime 86400, local_id the first public port's
 *   address, remote_id the customer gateway's address;
 *   ipsec: encryption aes, integrity sha1 (none when every cipher is AEAD),
 *   pfs group2, lifetime 86400.
 *   static_sas[]: integrity none (only allowed with AEAD ciphers),
 *   udp_encap false, replay_window 64 (0 turns the check off, else
 *   64..4096 as esp_replay takes it), esn false, no lifetime, initial_seq 0.
 *   lifetime: {seconds: N, bytes: N, packets: N} are hard limits, each SA
 *   direction counting its own use (bytes: inner bytes); 0 or absent: no
 *   limit of that kind. Each hard limit has a soft limit at
 *   CONFIG_LIFETIME_SOFT_PERCENT of it (config_lifetime_soft): the soft one
 *   is reported (log, API state, metrics); at the hard one the data plane
 *   stops using the SA and drops its packets as sa_expired. A static SA is
 *   not renegotiated: once expired it stays so until re-installed (the API
 *   "sa_replace" or a restart). Limits are checked as packets pass, so a
 *   time limit of an idle SA is noticed with its next packet.
 *   out.initial_seq / in.initial_seq, for tests and migrations (taking over
 *   an SA from another box): outbound, the last sequence number used (the
 *   next packet carries initial_seq + 1); inbound, the initial top of the
 *   replay window. 0..2^32-1, or 0..2^64-1 with esn.
 * static_sas do not count against max_connections: they are manual keying
 * for labs and benchmarks, not the product's IPsec connections.
 */
#ifndef VPNGW_CONFIG_H
#define VPNGW_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto_alg.h"

enum config_limits {
	CONFIG_NAME_MAX = 64,     /* names, NUL included: [A-Za-z0-9._-]+ */
	CONFIG_DEVICE_MAX = 256,  /* PCI address or DPDK vdev string */
	CONFIG_SOCKET_MAX = 108,  /* sun_path */
	CONFIG_ID_MAX = 256,      /* IKE identity: an FQDN is at most 253 */
	CONFIG_PSK_MAX = 256,     /* pre-shared key bytes */
	CONFIG_KEY_MAX = 64,      /* largest key_len in the catalogue */
	CONFIG_PROPOSALS_MAX = 8, /* entries in one algorithm list */
	CONFIG_LCORES_MAX = 256,
	CONFIG_CONNECTIONS_MAX = 100000, /* ceiling for gateway.max_connections */
	CONFIG_FILE_MAX = 64 << 20,
	CONFIG_ERR_MIN = 256, /* an err buffer this size holds any message's start */
	CONFIG_LIFETIME_SECONDS_MAX = 315360000, /* ten years */
	CONFIG_LIFETIME_SOFT_PERCENT = 90,
	CONFIG_BYPASS_MAX = 256, /* entries in gateway.bypass */
};

/* An IPv4 or IPv6 address. */
struct config_addr {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t bytes[16];
	} u;
};

struct config_prefix {
	struct config_addr addr;
	uint8_t len;
};

enum config_port_role {
	CONFIG_PORT_PUBLIC,  /* faces the peers: IKE and ESP */
	CONFIG_PORT_PRIVATE, /* faces the protected networks */
};

struct config_route {
	struct config_prefix to; /* host bits zero */
	struct config_addr via;  /* same family as to */
};

struct config_neighbour {
	struct config_addr ip;
	uint8_t mac[6];
};

struct config_port {
	char name[CONFIG_NAME_MAX];
	char device[CONFIG_DEVICE_MAX];
	enum config_port_role role;
	struct config_prefix address; /* our address and the on-link prefix */
	bool has_gateway;
	struct config_addr gateway; /* on-link, same family as address */
	uint32_t mtu;
	struct config_route *routes;
	uint32_t n_routes;
	struct config_neighbour *neighbours; /* static ARP/ND entries */
	uint32_t n_neighbours;
};

enum config_workers {
	CONFIG_WORKERS_AUTO,  /* every lcore EAL gives us but the main one */
	CONFIG_WORKERS_COUNT, /* n_workers of them */
	CONFIG_WORKERS_LIST,  /* exactly lcores[0..n_workers) */
};

enum config_poll_mode {
	CONFIG_POLL_BUSY,     /* spin */
	CONFIG_POLL_ADAPTIVE, /* back off when idle */
};

/*
 * SPD BYPASS (RFC 4301): private-side traffic from local to remote is
 * forwarded in the clear. Both prefixes of one family, host bits zero;
 * remote lies within a private port's on-link subnet or routes.
 */
struct config_bypass {
	struct config_prefix local, remote;
};

struct config_gateway {
	char name[CONFIG_NAME_MAX];
	uint32_t max_connections;
	uint32_t bandwidth_mbps; /* 0: unlimited */
	enum config_workers workers;
	uint32_t n_workers;
	uint16_t lcores[CONFIG_LCORES_MAX];
	enum config_poll_mode poll_mode;
	struct config_port *ports;
	uint32_t n_ports;
	uint32_t public_port; /* index of the first public port: tunnels' local address */
	char control_socket[CONFIG_SOCKET_MAX];
	struct config_addr metrics_addr;
	uint16_t metrics_port;
	bool tcp_mss_clamp; /* clamp the MSS of tunnelled TCP SYNs */
	struct config_bypass *bypass;
	uint32_t n_bypass;
};

struct config_customer_gateway {
	char name[CONFIG_NAME_MAX];
	struct config_addr address;
};

enum config_ike_version {
	CONFIG_IKEV1 = 1,
	CONFIG_IKEV2 = 2,
};

enum config_ike_mode {
	CONFIG_IKE_MAIN,
	CONFIG_IKE_AGGRESSIVE,
};

/* IKE identification types; the values are the IANA ones IKEv1 and IKEv2 share. */
enum config_id_type {
	CONFIG_ID_IPV4 = 1,
	CONFIG_ID_FQDN = 2,
	CONFIG_ID_USER_FQDN = 3,
	CONFIG_ID_IPV6 = 5,
	CONFIG_ID_KEY_ID = 11, /* "keyid:TEXT" (the bytes of TEXT) or "keyid:0xHEX" */
};

struct config_id {
	enum config_id_type type;
	char value[CONFIG_ID_MAX];         /* as written (or the default address as text) */
	struct config_addr addr;           /* CONFIG_ID_IPV4/IPV6 only */
	uint8_t key_id[CONFIG_ID_MAX / 2]; /* CONFIG_ID_KEY_ID only: the identification data */
	uint8_t key_id_len;
};

/* A proposal list in the operator's order of preference. */
struct config_algs {
	enum crypto_alg_id ids[CONFIG_PROPOSALS_MAX];
	uint32_t n;
};

struct config_ike {
	enum config_ike_version version;
	enum config_ike_mode mode; /* CONFIG_IKE_MAIN for ikev2 */
	struct config_algs encryption;
	/*
	 * The same integrity names, twice resolved: as PRFs (always) and as
	 * INTEG transforms (empty when every cipher is AEAD, which needs none).
	 */
	struct config_algs prf;
	struct config_algs integrity;
	struct config_algs dh;
	uint32_t lifetime; /* seconds */
	struct config_id local_id;
	struct config_id remote_id;
};

struct config_ipsec {
	struct config_algs encryption;
	struct config_algs integrity; /* CRYPTO_INTEG_NONE alone when every cipher is AEAD */
	bool pfs;
	enum crypto_alg_id pfs_group; /* when pfs */
	uint32_t lifetime;            /* seconds */
	/* Hard limits of each child SA's use; 0: none. Soft at config_lifetime_soft(). */
	uint64_t lifetime_bytes;
	uint64_t lifetime_packets;
};

struct config_psk {
	size_t len;
	uint8_t bytes[CONFIG_PSK_MAX];
};

struct config_connection {
	char name[CONFIG_NAME_MAX];
	uint32_t customer_gateway; /* index into config.customer_gateways */
	struct config_prefix *local_subnets;
	uint32_t n_local_subnets;
	struct config_prefix *remote_subnets;
	uint32_t n_remote_subnets;
	bool effect_immediately;
	bool dpd;
	bool nat_traversal;
	const struct config_psk *psk; /* in config.secrets (locked memory) */
	struct config_ike ike;
	struct config_ipsec ipsec;
};

/* One direction of a manually keyed SA; key lengths are crypto_alg(...)->key_len. */
struct config_sa_dir {
	uint32_t spi;
	uint64_t initial_seq;    /* for tests and migrations; 0: a new SA */
	const uint8_t *enc_key;  /* in config.secrets; salt at the end for AEAD */
	const uint8_t *auth_key; /* in config.secrets; NULL with INTEG_NONE */
};

/* Hard limits of an SA's use; 0: none. */
struct config_lifetime {
	uint64_t seconds;
	uint64_t bytes;
	uint64_t packets;
};

/* The soft limit of a hard one: CONFIG_LIFETIME_SOFT_PERCENT of it, rounded down, at least 1. */
static inline uint64_t config_lifetime_soft(uint64_t hard)
{
	uint64_t s = hard / 100 * CONFIG_LIFETIME_SOFT_PERCENT +
	             hard % 100 * CONFIG_LIFETIME_SOFT_PERCENT / 100;

	return hard != 0 && s == 0 ? 1 : s;
}

struct config_static_sa {
	char name[CONFIG_NAME_MAX];
	struct config_addr peer;
	struct config_prefix *local_subnets;
	uint32_t n_local_subnets;
	struct config_prefix *remote_subnets;
	uint32_t n_remote_subnets;
	enum crypto_alg_id encryption;
	enum crypto_alg_id integrity; /* CRYPTO_INTEG_NONE with AEAD */
	bool udp_encap;
	uint32_t replay_window; /* 0: off, else 64..4096 */
	bool esn;
	struct config_lifetime lifetime;
	struct config_sa_dir out;
	struct config_sa_dir in;
};

struct config {
	struct config_gateway gateway;
	struct config_customer_gateway *customer_gateways;
	uint32_t n_customer_gateways;
	struct config_connection *connections;
	uint32_t n_connections;
	struct config_static_sa *static_sas;
	uint32_t n_static_sas;
	void *secrets; /* PSKs and static SA keys: one locked, wiped-on-free block */
	size_t secrets_len;
};

/*
 * Loads and checks the file at path. On success *out is a config to
 * release with config_free and 0 is returned. On failure -1 is returned,
 * *out is NULL and err holds the first error as "FILE:LINE: KEY: what;
 * allowed: ..." (truncated to err_len). psk_file paths are taken relative
 * to the directory of path.
 */
int config_load(const char *path, struct config **out, char *err, size_t err_len);

/*
 * The same over a buffer (need not be NUL-terminated). name is the file
 * name used in messages and whose directory relative psk_file paths start
 * from.
 */
int config_load_string(const char *yaml, size_t len, const char *name, struct config **out,
                       char *err, size_t err_len);

/* Wipes the secrets and releases everything; NULL is ignored. */
void config_free(struct config *cfg);

#endif
