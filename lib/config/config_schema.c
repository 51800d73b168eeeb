/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libcyaml schema of the config file and the load into struct raw_config.
 * Scalars load as strings; the resolver parses them so that each error can
 * name its key, its line and the allowed values in one house format.
 */
#include "config_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "crypto_mem.h"

#define STR(key, flags, type, member) \
	CYAML_FIELD_STRING_PTR(key, flags, type, member, 0, CYAML_UNLIMITED)
#define OPT CYAML_FLAG_OPTIONAL
#define REQ CYAML_FLAG_DEFAULT

static const cyaml_schema_value_t string_entry = {
	CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

static const cyaml_schema_field_t route_fields[] = {
	STR("to", REQ, struct raw_route, to),
	STR("via", REQ, struct raw_route, via),
	CYAML_FIELD_END,
};

static const cyaml_schema_value_t route_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_route, route_fields),
};

static const cyaml_schema_field_t neighbour_fields[] = {
	STR("ip", REQ, struct raw_neighbour, ip),
	STR("mac", REQ, struct raw_neighbour, mac),
	CYAML_FIELD_END,
};

static const cyaml_schema_value_t neighbour_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_neighbour, neighbour_fields),
};

static const cyaml_schema_field_t port_fields[] = {
	STR("name", REQ, struct raw_port, name),
	STR("device", REQ, struct raw_port, device),
	STR("role", REQ, struct raw_port, role),
	STR("address", REQ, struct raw_port, address),
	STR("gateway", OPT, struct raw_port, gateway),
	CYAML_FIELD_SEQUENCE("routes", CYAML_FLAG_POINTER | OPT, struct raw_port, routes,
	                     &route_entry, 0, CYAML_UNLIMITED),
	STR("mtu", OPT, struct raw_port, mtu),
	CYAML_FIELD_SEQUENCE("neighbours", CYAML_FLAG_POINTER | OPT, struct raw_port, neighbours,
	                     &neighbour_entry, 0, CYAML_UNLIMITED),
	CYAML_FIELD_END,
};

static const cyaml_schema_value_t port_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_port, port_fields),
};

static const cyaml_schema_field_t bypass_fields[] = {
	STR("local", REQ, struct raw_bypass, local),
	STR("remote", REQ, struct raw_bypass, remote),
	CYAML_FIELD_END,
};

static const cyaml_schema_value_t bypass_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_bypass, bypass_fields),
};

static const cyaml_schema_field_t gateway_fields[] = {
	STR("name", REQ, struct raw_gateway, name),
	STR("max_connections", OPT, struct raw_gateway, max_connections),
	STR("bandwidth_mbps", OPT, struct raw_gateway, bandwidth_mbps),
	CYAML_FIELD_IGNORE("workers", OPT),
	STR("poll_mode", OPT, struct raw_gateway, poll_mode),
	CYAML_FIELD_SEQUENCE("ports", CYAML_FLAG_POINTER, struct raw_gateway, ports, &port_entry, 1,
	                     CYAML_UNLIMITED),
	STR("control_socket", OPT, struct raw_gateway, control_socket),
	STR("metrics_listen", OPT, struct raw_gateway, metrics_listen),
	STR("tcp_mss_clamp", OPT, struct raw_gateway, tcp_mss_clamp),
	CYAML_FIELD_SEQUENCE("bypass", CYAML_FLAG_POINTER | OPT, struct raw_gateway, bypass,
	                     &bypass_entry, 0, CONFIG_BYPASS_MAX),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t customer_gateway_fields[] = {
	STR("name", REQ, struct raw_customer_gateway, name),
	STR("address", REQ, struct raw_customer_gateway, address),
	CYAML_FIELD_END,
};

static const cyaml_schema_value_t customer_gateway_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_customer_gateway,
	                    customer_gateway_fields),
};

static const cyaml_schema_field_t ike_fields[] = {
	STR("version", OPT, struct raw_ike, version),
	STR("mode", OPT, struct raw_ike, mode),
	CYAML_FIELD_IGNORE("encryption", OPT),
	CYAML_FIELD_IGNORE("integrity", OPT),
	CYAML_FIELD_IGNORE("dh_group", OPT),
	STR("lifetime", OPT, struct raw_ike, lifetime),
	STR("local_id", OPT, struct raw_ike, local_id),
	STR("remote_id", OPT, struct raw_ike, remote_id),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t ipsec_fields[] = {
	CYAML_FIELD_IGNORE("encryption", OPT),
	CYAML_FIELD_IGNORE("integrity", OPT),
	STR("pfs", OPT, struct raw_ipsec, pfs),
	STR("lifetime", OPT, struct raw_ipsec, lifetime),
	STR("lifetime_bytes", OPT, struct raw_ipsec, lifetime_bytes),
	STR("lifetime_packets", OPT, struct raw_ipsec, lifetime_packets),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t connection_fields[] = {
	STR("name", REQ, struct raw_connection, name),
	STR("customer_gateway", REQ, struct raw_connection, customer_gateway),
	CYAML_FIELD_SEQUENCE("local_subnets", CYAML_FLAG_POINTER, struct raw_connection,
	                     local_subnets, &string_entry, 1, CYAML_UNLIMITED),
	CYAML_FIELD_SEQUENCE("remote_subnets", CYAML_FLAG_POINTER, struct raw_connection,
	                     remote_subnets, &string_entry, 1, CYAML_UNLIMITED),
	STR("effect_immediately", OPT, struct raw_connection, effect_immediately),
	STR("psk", OPT, struct raw_connection, psk),
	STR("psk_file", OPT, struct raw_connection, psk_file),
	CYAML_FIELD_MAPPING_PTR("ike", OPT, struct raw_connection, ike, ike_fields),
	CYAML_FIELD_MAPPING_PTR("ipsec", OPT, struct raw_connection, ipsec, ipsec_fields),
	STR("dpd", OPT, struct raw_connection, dpd),
	STR("nat_traversal", OPT, struct raw_connection, nat_traversal),
	CYAML_FIELD_END,
};

static const cyaml_schema_value_t connection_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_connection, connection_fields),
};

static const cyaml_schema_field_t sa_dir_fields[] = {
	STR("spi", REQ, struct raw_sa_dir, spi),
	STR("enc_key", REQ, struct raw_sa_dir, enc_key),
	STR("auth_key", OPT, struct raw_sa_dir, auth_key),
	STR("initial_seq", OPT, struct raw_sa_dir, initial_seq),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t lifetime_fields[] = {
	STR("seconds", OPT, struct raw_lifetime, seconds),
	STR("bytes", OPT, struct raw_lifetime, bytes),
	STR("packets", OPT, struct raw_lifetime, packets),
	CYAML_FIELD_END,
};

static const cyaml_schema_field_t static_sa_fields[] = {
	STR("name", REQ, struct raw_static_sa, name),
	STR("peer", REQ, struct raw_static_sa, peer),
	CYAML_FIELD_SEQUENCE("local_subnets", CYAML_FLAG_POINTER, struct raw_static_sa,
	                     local_subnets, &string_entry, 1, CYAML_UNLIMITED),
	CYAML_FIELD_SEQUENCE("remote_subnets", CYAML_FLAG_POINTER, struct raw_static_sa,
	                     remote_subnets, &string_entry, 1, CYAML_UNLIMITED),
	STR("encryption", REQ, struct raw_static_sa, encryption),
	STR("integrity", OPT, struct raw_static_sa, integrity),
	STR("udp_encap", OPT, struct raw_static_sa, udp_encap),
	STR("replay_window", OPT, struct raw_static_sa, replay_window),
	STR("esn", OPT, struct raw_static_sa, esn),
	CYAML_FIELD_MAPPING_PTR("lifetime", OPT, struct raw_static_sa, lifetime, lifetime_fields),
	CYAML_FIELD_MAPPING_PTR("out", REQ, struct raw_static_sa, out, sa_dir_fields),
	CYAML_FIELD_MAPPING_PTR("in", REQ, struct raw_static_sa, in, sa_dir_fields),
	CYAML_FIELD_END,
};

static const cyaml_schema_value_t static_sa_entry = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_static_sa, static_sa_fields),
};

static const cyaml_schema_field_t top_fields[] = {
	CYAML_FIELD_MAPPING_PTR("gateway", REQ, struct raw_config, gateway, gateway_fields),
	CYAML_FIELD_SEQUENCE("customer_gateways", CYAML_FLAG_POINTER | OPT, struct raw_config,
	                     customer_gateways, &customer_gateway_entry, 0, CYAML_UNLIMITED),
	CYAML_FIELD_SEQUENCE("connections", CYAML_FLAG_POINTER | OPT, struct raw_config,
	                     connections, &connection_entry, 0, CYAML_UNLIMITED),
	CYAML_FIELD_SEQUENCE("static_sas", CYAML_FLAG_POINTER | OPT, struct raw_config, static_sas,
	                     &static_sa_entry, 0, CYAML_UNLIMITED),
	CYAML_FIELD_END,
};

const cyaml_schema_value_t config_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct raw_config, top_fields),
};

/*
 * libcyaml logs one message per line: the error, then a backtrace. Keep
 * the first error line and the first line number of the backtrace.
 */
struct cyaml_log {
	char msg[256];
	unsigned line;
};

static void cyaml_log_capture(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
	struct cyaml_log *log = ctx;
	char buf[256];
	const char *l;
	size_t n;

	if (level < CYAML_LOG_ERROR)
		return;
	vsnprintf(buf, sizeof(buf), fmt, args);
	n = strcspn(buf, "\n");
	buf[n] = '\0';
	if (log->line == 0 && (l = strstr(buf, "(line: ")) != NULL)
		sscanf(l, "(line: %u", &log->line);
	if (log->msg[0] == '\0' && strncmp(buf, "Load: Backtrace", 15) != 0)
		snprintf(log->msg, sizeof(log->msg), "%s",
		         strncmp(buf, "Load: ", 6) == 0 ? buf + 6 : buf);
}

static const cyaml_config_t cyaml_cfg_proto = {
	.log_fn = cyaml_log_capture,
	.mem_fn = cyaml_mem,
	.log_level = CYAML_LOG_ERROR,
	.flags = CYAML_CFG_NO_ALIAS,
};

int config_raw_load(const uint8_t *buf, size_t len, struct raw_config **out, struct config_err *err)
{
	struct cyaml_log log = { .msg = "", .line = 0 };
	cyaml_config_t cfg = cyaml_cfg_proto;
	cyaml_err_t rc;

	cfg.log_ctx = &log;
	*out = NULL;
	rc = cyaml_load_data(buf, len, &cfg, &config_schema, (cyaml_data_t **)out, NULL);
	if (rc == CYAML_OK && *out != NULL)
		return 0;
	/* The scan accepts only what libcyaml loads: this is a gap in the scan. */
	config_errf(err, log.line ? log.line : 1, NULL, "libcyaml: %s",
	            log.msg[0] ? log.msg : cyaml_strerror(rc));
	if (*out != NULL) {
		config_raw_free(*out);
		*out = NULL;
	}
	return -1;
}

static void wipe_str(char *s)
{
	if (s != NULL)
		crypto_wipe(s, strlen(s));
}

void config_raw_free(struct raw_config *raw)
{
	cyaml_config_t cfg = cyaml_cfg_proto;
	struct cyaml_log log;

	if (raw == NULL)
		return;
	for (uint32_t i = 0; i < raw->connections_count; i++)
		wipe_str(raw->connections[i].psk);
	for (uint32_t i = 0; i < raw->static_sas_count; i++) {
		struct raw_static_sa *sa = &raw->static_sas[i];
		struct raw_sa_dir *d[2] = { sa->out, sa->in };

		for (unsigned j = 0; j < 2; j++) {
			if (d[j] == NULL)
				continue;
			wipe_str(d[j]->enc_key);
			wipe_str(d[j]->auth_key);
		}
	}
	cfg.log_ctx = &log;
	cyaml_free(&cfg, &config_schema, raw, 0);
}
