/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the config loader: any bytes as a config file must give
 * a config or one error message, never a crash, a leak or a hang.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crypto_mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Files that loaded: the driver reports it, so a run shows it got deep. */
unsigned long fuzz_accepted;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	char err[512];
	int rc;

	if (crypto_init() != 0)
		abort();
	err[0] = '\0';
	rc = config_load_string((const char *)data, size, "fuzz.yaml", &cfg, err, sizeof(err));
	if (rc == 0) {
		if (cfg == NULL)
			abort();
		fuzz_accepted++;
		config_free(cfg);
	} else if (cfg != NULL || err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL) {
		abort(); /* a failure must leave no config and say why */
	}
	return 0;
}
