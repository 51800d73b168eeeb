/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the unit suites. */
#ifndef VPNGW_TESTUTIL_H
#define VPNGW_TESTUTIL_H

#include <check.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Hex (spaces and newlines ignored) into out; aborts the test on bad input. */
static inline size_t hex2bin(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		int v;

		if (isspace((unsigned char)*hex))
			continue;
		if (*hex >= '0' && *hex <= '9')
			v = *hex - '0';
		else if (*hex >= 'a' && *hex <= 'f')
			v = *hex - 'a' + 10;
		else if (*hex >= 'A' && *hex <= 'F')
			v = *hex - 'A' + 10;
		else
			ck_abort_msg("bad hex digit '%c'", *hex);
		if (hi < 0) {
			hi = v;
			continue;
		}
		ck_assert_msg(n < cap, "hex longer than %zu bytes", cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	ck_assert_msg(hi < 0, "odd number of hex digits");
	return n;
}

#define ck_assert_mem_eq_hex(got, hex)                          \
	do {                                                    \
		uint8_t exp_[4096];                             \
		size_t n_ = hex2bin((hex), exp_, sizeof(exp_)); \
		ck_assert_mem_eq((got), exp_, n_);              \
	} while (0)

/* Run one suite and exit with its verdict: the main() of every unit test. */
#define TEST_MAIN(suite_fn)                                  \
	int main(void)                                       \
	{                                                    \
		SRunner *sr = srunner_create(suite_fn());    \
		srunner_run_all(sr, CK_NORMAL);              \
		int failed = srunner_ntests_failed(sr);      \
		srunner_free(sr);                            \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS; \
	}

#endif
