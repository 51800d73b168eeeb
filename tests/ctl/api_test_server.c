/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A stand-in daemon for the vpnctl tests: serves the control socket with
 * canned answers in the shapes the real daemon uses, so vpnctl's output and
 * exit codes can be checked without DPDK. Usage: api_test_server SOCKET.
 * Prints "ready" once listening; SIGTERM or SIGINT ends it.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The shape control/daemon_stats.c answers "stats" with. */
static const char stats_json[] =
        "{\"ports\":[{\"name\":\"wan\",\"role\":\"public\",\"link_up\":true,"
        "\"rx_packets\":1200,\"rx_bytes\":1843200,\"tx_packets\":1100,\"tx_bytes\":1650000},"
        "{\"name\":\"lan\",\"role\":\"private\",\"link_up\":false,\"rx_packets\":1100,"
        "\"rx_bytes\":1540000,\"tx_packets\":1195,\"tx_bytes\":1673000}],"
        "\"workers\":[{\"worker\":0,\"lcore\":1,\"rx_packets\":2300,\"encrypted\":1100,"
        "\"decrypted\":1195,\"cycles_per_packet\":1100.0},{\"worker\":1,\"lcore\":2,"
        "\"rx_packets\":0,\"encrypted\":0,\"decrypted\":0}],"
        "\"drops\":{\"replay\":2,\"bad_icv\":1,\"no_sa\":0}}";

static const char sa_json[] =
        "{\"sas\":[{\"name\":\"lab-1\",\"spi\":\"0x00001000\",\"direction\":\"out\","
        "\"encryption\":\"aes-gcm-128\",\"integrity\":\"none\",\"packets\":1100,"
        "\"bytes\":1540000,\"drops\":{}},"
        "{\"name\":\"lab-1\",\"spi\":8192,\"direction\":\"in\","
        "\"encryption\":\"aes-gcm-128\",\"integrity\":\"none\",\"packets\":1195,"
        "\"bytes\":1673000,\"drops\":{\"replay\":2,\"bad_icv\":1,\"peer_source_nat\":0}}]}";

static const char status_json[] =
        "{\"connections\":[{\"name\":\"idc-bj-1\",\"ike_version\":\"ikev1\","
        "\"state\":\"phase1 failed\",\"since\":\"2026-11-28T08:00:00Z\","
        "\"cause\":\"psk_mismatch\",\"evidence\":\"invalid HASH_V1 payload length\","
        "\"remedy\":\"set the same pre-shared key on both sides\",\"children\":[]},"
        "{\"name\":\"lab-1\",\"ike_version\":\"ikev2\",\"state\":\"phase2 succeeded\","
        "\"since\":\"2026-11-28T08:01:00Z\",\"cause\":null,\"evidence\":null,\"remedy\":null,"
        "\"peer\":\"198.51.100.7:4500\","
        "\"children\":[{\"local_subnet\":\"10.0.0.0/16\",\"remote_subnet\":\"192.168.0.0/24\","
        "\"spi_in\":\"0xc1000001\",\"spi_out\":2402954001,\"encryption\":\"aes\","
        "\"integrity\":\"sha1\",\"bytes_in\":10,\"bytes_out\":20,\"packets_in\":1,"
        "\"packets_out\":2,\"rekey_in_s\":3500},"
        "{\"local_subnet\":\"10.1.0.0/25\",\"remote_subnet\":\"10.2.0.0/24\","
        "\"local_subnets\":[\"10.1.0.0/25\",\"10.1.0.128/25\"],"
        "\"remote_subnets\":[\"10.2.0.0/24\",\"10.3.0.0/24\"],"
        "\"spi_in\":\"0xc1000003\",\"spi_out\":\"0x8f3a2b13\",\"encryption\":\"aes-gcm-128\","
        "\"integrity\":\"none\",\"bytes_in\":0,\"bytes_out\":0,\"packets_in\":0,"
        "\"packets_out\":0,\"rekey_in_s\":3000}]}]}";

static int canned(void *ctx, json_t *args, json_t **result, char *err, size_t err_len)
{
	(void)args;
	*result = json_loads(ctx, 0, NULL);
	if (!*result) {
		snprintf(err, err_len, "test server: bad canned JSON");
		return -1;
	}
	return 0;
}

/* Connection commands: "nope" does not exist, anything else does. */
static int by_name(void *ctx, json_t *args, json_t **result, char *err, size_t err_len)
{
	const char *name = json_string_value(json_object_get(args, "name"));

	if (name && strcmp(name, "nope") == 0) {
		snprintf(err, err_len, "no connection 'nope'; connections: idc-bj-1, lab-1");
		return -1;
	}
	if (ctx)
		return canned(ctx, args, result, err, err_len);
	*result = json_pack("{s:s,s:s}", "name", name ? name : "", "state", "phase1 negotiating");
	return 0;
}

static int reload(void *ctx, json_t *args, json_t **result, char *err, size_t err_len)
{
	(void)ctx;
	(void)args;
	(void)err;
	(void)err_len;
	*result = NULL;
	return 0;
}

static int rate(void *ctx, json_t *args, json_t **result, char *err, size_t err_len)
{
	(void)ctx;
	(void)err;
	(void)err_len;
	*result = json_pack("{s:O}", "bandwidth_mbps", json_object_get(args, "mbps"));
	return 0;
}

int main(int argc, char **argv)
{
	const struct timespec ms = { 0, 1000000 };
	char err[256];
	struct api *a;

	if (argc != 2) {
		fprintf(stderr, "usage: api_test_server SOCKET\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	a = api_listen(argv[1], err, sizeof(err));
	if (!a) {
		fprintf(stderr, "api_test_server: %s\n", err);
		return 1;
	}
	api_register(a, "stats", canned, (void *)stats_json);
	api_register(a, "sa", canned, (void *)sa_json);
	api_register(a, "status", by_name, (void *)status_json);
	api_register(a, "up", by_name, NULL);
	api_register(a, "down", by_name, NULL);
	api_register(a, "reload", reload, NULL);
	api_register(a, "rate", rate, NULL);
	/* "diagnose" left out on purpose: the unknown-command path. */
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		api_poll(a);
		nanosleep(&ms, NULL);
	}
	api_close(a);
	return 0;
}
