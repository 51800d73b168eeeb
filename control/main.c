/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpngw --config FILE [-- EAL args]
 * Exit codes: 0 clean stop, 1 other failure, 2 bad config, 3 no usable port.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>

#include "config.h"
#include "crypto_mem.h"
#include "daemon.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vpngw --config FILE [-- EAL arguments]\n"
	           "  e.g. vpngw --config /etc/vpngw/vpngw.yaml -- -l 0-3 -a 0000:3b:00.0\n");
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	char *eal_argv[256];
	int eal_argc = 1, i, rc;
	struct config *cfg = NULL;
	struct daemon d;
	struct sigaction sa;
	char err[1024];

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "vpngw: unknown argument \"%s\"\n", argv[i]);
			usage(stderr);
			return DAEMON_EXIT_CONFIG;
		}
	}
	if (path == NULL) {
		usage(stderr);
		return DAEMON_EXIT_CONFIG;
	}
	eal_argv[0] = argv[0];
	for (; i < argc && eal_argc < 255; i++)
		eal_argv[eal_argc++] = argv[i];
	eal_argv[eal_argc] = NULL;

	if (crypto_init() != 0) {
		fprintf(stderr, "vpngw: crypto libraries failed to start\n");
		return DAEMON_EXIT_FAIL;
	}
	if (config_load(path, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return DAEMON_EXIT_CONFIG;
	}
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "vpngw: EAL initialisation failed (EAL arguments after --)\n");
		config_free(cfg);
		return DAEMON_EXIT_FAIL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	rc = daemon_start(&d, cfg, &stop_requested);
	if (rc == DAEMON_EXIT_OK)
		daemon_run(&d);
	daemon_stop(&d);
	config_free(cfg);
	rte_eal_cleanup();
	if (rc == DAEMON_EXIT_OK)
		fprintf(stderr, "vpngw: stopped\n");
	return rc;
}
