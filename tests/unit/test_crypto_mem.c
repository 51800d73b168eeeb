/* SPDX-License-Identifier: BSD-3-Clause */
/* Key memory, wiping, constant-time compare, randomness and the IV stream. */
#include "unit/testutil.h"

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compiler.h"
#include "crypto_mem.h"
#include "crypto_rand.h"

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 0)
			return false;
	return true;
}

START_TEST(init_is_idempotent)
{
	ck_assert_int_eq(crypto_init(), 0);
	ck_assert_int_eq(crypto_init(), 0);
}
END_TEST

START_TEST(key_alloc_is_zeroed_and_writable)
{
	static const size_t sizes[] = { 1, 16, 32, 100, 4096, 10000 };

	ck_assert_int_eq(crypto_init(), 0);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint8_t *p = crypto_key_alloc(sizes[i]);

		ck_assert_ptr_nonnull(p);
		ck_assert(all_zero(p, sizes[i]));
		memset(p, 0xa5, sizes[i]);
		ck_assert_uint_eq(p[sizes[i] - 1], 0xa5);
		crypto_key_free(p);
	}
	crypto_key_free(NULL);
}
END_TEST

START_TEST(wipe_zeroes_exactly_the_range)
{
	uint8_t buf[64];

	memset(buf, 0xff, sizeof(buf));
	crypto_wipe(buf + 8, 40);
	ck_assert_uint_eq(buf[7], 0xff);
	ck_assert(all_zero(buf + 8, 40));
	ck_assert_uint_eq(buf[48], 0xff);
}
END_TEST

START_TEST(ct_equal_compares_every_byte)
{
	uint8_t a[33], b[33];

	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = b[i] = (uint8_t)(i * 7 + 1);
	ck_assert(crypto_ct_equal(a, b, sizeof(a)));
	ck_assert(crypto_ct_equal(a, b, 0));
	for (size_t i = 0; i < sizeof(a); i++) {
		b[i] ^= 0x80;
		ck_assert_msg(!crypto_ct_equal(a, b, sizeof(a)), "difference at %zu missed", i);
		b[i] ^= 0x80;
	}
}
END_TEST

START_TEST(random_draws_differ)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 };

	ck_assert_int_eq(crypto_init(), 0);
	crypto_random(a, sizeof(a));
	crypto_random(b, sizeof(b));
	ck_assert(!all_zero(a, sizeof(a)));
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
}
END_TEST

#define IV_COUNT 2048 /* 32 KiB of 16-byte IVs: several refills of the stream */

static int cmp16(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

START_TEST(iv_stream_never_repeats_across_refills)
{
	static uint8_t ivs[IV_COUNT][16];

	ck_assert_int_eq(crypto_init(), 0);
	/* Odd sizes first so IVs straddle refill boundaries. */
	uint8_t odd[13];
	crypto_iv_random(odd, sizeof(odd));
	for (size_t i = 0; i < IV_COUNT; i++)
		crypto_iv_random(ivs[i], 16);
	/* One request larger than the whole buffer is served too. */
	static uint8_t big[10000];
	crypto_iv_random(big, sizeof(big));
	ck_assert(!all_zero(big + sizeof(big) - 64, 64));

	qsort(ivs, IV_COUNT, 16, cmp16);
	for (size_t i = 1; i < IV_COUNT; i++)
		ck_assert_msg(memcmp(ivs[i - 1], ivs[i], 16) != 0, "IV repeated");
	ck_assert(!all_zero(ivs[IV_COUNT - 1], 16));
}
END_TEST

static void *draw_iv(void *arg)
{
	crypto_iv_random(arg, 32);
	return NULL;
}

START_TEST(iv_streams_differ_between_threads)
{
	uint8_t mine[32], t1[32], t2[32];
	pthread_t a, b;

	ck_assert_int_eq(crypto_init(), 0);
	crypto_iv_random(mine, sizeof(mine));
	ck_assert_int_eq(pthread_create(&a, NULL, draw_iv, t1), 0);
	ck_assert_int_eq(pthread_join(a, NULL), 0);
	ck_assert_int_eq(pthread_create(&b, NULL, draw_iv, t2), 0);
	ck_assert_int_eq(pthread_join(b, NULL), 0);
	ck_assert(memcmp(mine, t1, 32) != 0);
	ck_assert(memcmp(mine, t2, 32) != 0);
	ck_assert(memcmp(t1, t2, 32) != 0);
}
END_TEST

START_TEST(iv_stream_differs_after_fork)
{
	uint8_t parent[32], child[32], warm[16];
	int fds[2];

	ck_assert_int_eq(crypto_init(), 0);
	crypto_iv_random(warm, sizeof(warm)); /* the stream is keyed before the fork */
	ck_assert_int_eq(pipe(fds), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		crypto_iv_random(child, sizeof(child));
		_exit(write(fds[1], child, sizeof(child)) == (ssize_t)sizeof(child) ? 0 : 1);
	}
	crypto_iv_random(parent, sizeof(parent));
	ck_assert_int_eq(read(fds[0], child, sizeof(child)), (ssize_t)sizeof(child));
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fds[0]);
	close(fds[1]);
	ck_assert(memcmp(parent, child, sizeof(parent)) != 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("crypto_mem");
	TCase *tc = tcase_create("mem");

	tcase_add_test(tc, init_is_idempotent);
	tcase_add_test(tc, key_alloc_is_zeroed_and_writable);
	tcase_add_test(tc, wipe_zeroes_exactly_the_range);
	tcase_add_test(tc, ct_equal_compares_every_byte);
	suite_add_tcase(s, tc);

	tc = tcase_create("rand");
	tcase_add_test(tc, random_draws_differ);
	tcase_add_test(tc, iv_stream_never_repeats_across_refills);
	tcase_add_test(tc, iv_streams_differ_between_threads);
	tcase_add_test(tc, iv_stream_differs_after_fork);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(suite)
