/* SPDX-License-Identifier: BSD-3-Clause */
/* Anti-replay window and ESN inference (RFC 4303 3.4.3 and appendix A). */
#include <errno.h>

#include "unit/testutil.h"

#include "compiler.h"
#include "esp_replay.h"

#define T32 (UINT64_C(1) << 32)

enum op { END, UPD, CHK };

/* One step: update or check a number and what it must return. */
struct step {
	enum op op;
	uint64_t seq;
	bool ok;
};

struct window_case {
	const char *name;
	uint32_t window;
	bool esn;
	uint64_t top; /* initial top */
	struct step steps[16];
};

static const struct window_case window_cases[] = {
	{ "64: edges of the window",
	  64,
	  false,
	  0,
	  { { UPD, 100, true },
	    { CHK, 100, false }, /* top itself was seen */
	    { CHK, 37, true },   /* top - W + 1 */
	    { CHK, 36, false },  /* top - W */
	    { CHK, 101, true },
	    { CHK, 0, false },
	    { UPD, 0, false },
	    { UPD, 36, false },
	    { UPD, 37, true },
	    { CHK, 37, false } } },
	{ "128: edges of the window",
	  128,
	  false,
	  0,
	  { { UPD, 1000, true },
	    { CHK, 873, true },
	    { CHK, 872, false },
	    { UPD, 873, true },
	    { UPD, 873, false } } },
	{ "4096: edges of the window",
	  4096,
	  false,
	  0,
	  { { UPD, 10000, true },
	    { CHK, 10000 - 4095, true },
	    { CHK, 10000 - 4096, false },
	    { UPD, 10000 - 4095, true },
	    { CHK, 10000 - 4095, false },
	    { UPD, 14096, true }, /* moves exactly one window */
	    { CHK, 10001, true },
	    { CHK, 10000, false } } },
	{ "100 is rounded up to 128",
	  100,
	  false,
	  0,
	  { { UPD, 1000, true }, { CHK, 873, true }, { CHK, 872, false } } },
	{ "duplicates and out of order",
	  64,
	  false,
	  0,
	  { { UPD, 1, true },
	    { UPD, 3, true },
	    { UPD, 2, true },
	    { UPD, 2, false },
	    { UPD, 3, false },
	    { CHK, 1, false },
	    { CHK, 4, true } } },
	{ "a move of a few blocks keeps the window's bits",
	  64,
	  false,
	  0,
	  { { UPD, 150, true },
	    { UPD, 200, true },
	    { CHK, 150, false },
	    { CHK, 137, true },
	    { CHK, 136, false },
	    { CHK, 199, true } } },
	{ "a jump past the ring clears stale bits",
	  64,
	  false,
	  0,
	  { { UPD, 100, true },
	    /* 100 + 128 * 64 lands on 100's bit in the ring. */
	    { UPD, 100 + 128 * 64 + 1, true },
	    { CHK, 100 + 128 * 64, true },
	    { UPD, 100 + 128 * 64, true },
	    { CHK, 100, false } } },
	{ "a jump of exactly the ring size",
	  4096,
	  false,
	  0,
	  { { UPD, 64 * 127 + 5, true },
	    { UPD, 64 * 255 + 6, true },
	    { CHK, 64 * 255 + 5, true }, /* same ring bit as the first, in the window */
	    { CHK, 64 * 255 + 6, false } } },
	{ "check, check, update, update: the second update loses",
	  64,
	  false,
	  0,
	  { { UPD, 10, true },
	    { CHK, 7, true },
	    { CHK, 7, true },
	    { UPD, 7, true },
	    { UPD, 7, false },
	    { CHK, 12, true },
	    { CHK, 12, true },
	    { UPD, 12, true },
	    { UPD, 12, false } } },
	{ "initial top from the install",
	  64,
	  false,
	  500,
	  /* The initial top counts as seen: one packet with it is a replay. */
	  { { CHK, 500, false },
	    { UPD, 500, false },
	    { CHK, 437, true },
	    { CHK, 436, false },
	    { UPD, 499, true },
	    { CHK, 499, false },
	    { UPD, 501, true } } },
	{ "initial top with the window off",
	  0,
	  false,
	  500,
	  { { CHK, 500, true }, { UPD, 500, true } } },
	{ "window 0 accepts all but 0",
	  0,
	  false,
	  0,
	  { { UPD, 100, true },
	    { UPD, 100, true },
	    { CHK, 1, true },
	    { UPD, 1, true },
	    { CHK, 0, false },
	    { UPD, 0, false } } },
	{ "ESN: the window across 2^32",
	  64,
	  true,
	  0,
	  { { UPD, T32 - 3, true },
	    { UPD, T32 + 2, true },
	    { CHK, T32 - 3, false },
	    { CHK, T32 - 4, true },
	    { CHK, T32 + 2 - 64, false },
	    { CHK, T32, true },
	    { UPD, T32, true },
	    { CHK, T32, false } } },
	{ "ESN: near 2^64",
	  64,
	  true,
	  UINT64_MAX - 10,
	  { { UPD, UINT64_MAX, true },
	    { CHK, UINT64_MAX, false },
	    { CHK, UINT64_MAX - 63, true },
	    { CHK, UINT64_MAX - 64, false } } },
};

START_TEST(window_table)
{
	const struct window_case *tc = &window_cases[_i];
	struct esp_replay w;

	ck_assert_int_eq(esp_replay_init(&w, tc->window, tc->esn, tc->top), 0);
	for (unsigned s = 0; s < ARRAY_SIZE(tc->steps) && tc->steps[s].op != END; s++) {
		const struct step *st = &tc->steps[s];
		bool got = st->op == UPD ? esp_replay_update(&w, st->seq)
		                         : esp_replay_check(&w, st->seq);

		ck_assert_msg(got == st->ok, "%s: step %u (%s %llu) gave %d", tc->name, s,
		              st->op == UPD ? "update" : "check", (unsigned long long)st->seq, got);
	}
}
END_TEST

START_TEST(init_sizes)
{
	struct esp_replay w;

	ck_assert_int_eq(esp_replay_init(&w, 0, false, 0), 0);
	ck_assert_uint_eq(w.window, 0);
	ck_assert_int_eq(esp_replay_init(&w, 64, false, 0), 0);
	ck_assert_uint_eq(w.window, 64);
	ck_assert_int_eq(esp_replay_init(&w, 65, true, 0), 0);
	ck_assert_uint_eq(w.window, 128);
	ck_assert(w.esn);
	ck_assert_int_eq(esp_replay_init(&w, 4096, false, 0), 0);
	ck_assert_uint_eq(w.window, 4096);
	ck_assert_int_eq(esp_replay_init(&w, 63, false, 0), -EINVAL);
	ck_assert_int_eq(esp_replay_init(&w, 4097, false, 0), -EINVAL);
	ck_assert_int_eq(esp_replay_init(&w, 1, false, 0), -EINVAL);
}
END_TEST

/* Every window size: the oldest number in the window passes, one older fails. */
START_TEST(window_edges_every_size)
{
	for (uint32_t win = 64; win <= 4096; win += 64) {
		struct esp_replay w;
		uint64_t top = 100000 + win;

		ck_assert_int_eq(esp_replay_init(&w, win, false, 0), 0);
		ck_assert(esp_replay_update(&w, top));
		ck_assert(esp_replay_check(&w, top - win + 1));
		ck_assert(!esp_replay_check(&w, top - win));
		/* Fill the whole window, then every number is a duplicate. */
		for (uint64_t s = top - win + 1; s < top; s++)
			ck_assert(esp_replay_update(&w, s));
		for (uint64_t s = top - win + 1; s <= top; s++)
			ck_assert(!esp_replay_check(&w, s));
		ck_assert(esp_replay_check(&w, top + 1));
	}
}
END_TEST

struct infer_case {
	uint32_t window;
	uint64_t top;
	uint32_t seq_lo;
	uint64_t want;
};

static const struct infer_case infer_cases[] = {
	/* Window within one subspace (Tl >= W - 1). */
	{ 64, 3 * T32 + 1000, 1000, 3 * T32 + 1000 },
	{ 64, 3 * T32 + 1000, 937, 3 * T32 + 937 },   /* bottom of the window */
	{ 64, 3 * T32 + 1000, 936, 4 * T32 + 936 },   /* below: the next subspace */
	{ 64, 3 * T32 + 1000, 5000, 3 * T32 + 5000 }, /* ahead */
	{ 64, T32 - 10, 0xfffffff0u, T32 - 16 },      /* top just below 2^32 */
	{ 64, T32 - 10, 5, T32 + 5 },                 /* wrapped past 2^32 */
	{ 64, T32 - 1, 0, T32 },
	{ 64, 63, 0, 0 }, /* Tl = W - 1: 0, refused later */
	{ 64, 63, 1, 1 },
	/* Window reaching into the previous subspace (Tl < W - 1). */
	{ 64, T32 + 10, 0xfffffff0u, T32 - 16 }, /* top just above 2^32 */
	{ 64, T32 + 10, 3, T32 + 3 },
	{ 64, T32 + 10, 20, T32 + 20 },
	{ 64, T32 + 10, 0xffffffcbu, T32 - 53 },          /* top - W + 1 */
	{ 64, T32 + 10, 0xffffffcau, T32 + 0xffffffcau }, /* below it: ahead */
	{ 4096, 7 * T32 + 100, 0xfffff100u, 6 * T32 + 0xfffff100u },
	{ 4096, 7 * T32 + 100, 0xfffff000u, 7 * T32 + 0xfffff000u },
	/* No previous subspace at the start. */
	{ 64, 5, 0xfffffff0u, 0xfffffff0u },
	{ 64, 0, 1, 1 },
	/* Window off: the number nearest the top. */
	{ 0, T32 + 10, 0xfffffff0u, T32 - 16 },
	{ 0, T32 - 10, 5, T32 + 5 },
};

START_TEST(esn_infer_table)
{
	const struct infer_case *tc = &infer_cases[_i];
	struct esp_replay w;
	uint64_t got;

	ck_assert_int_eq(esp_replay_init(&w, tc->window, true, tc->top), 0);
	got = esp_replay_infer(&w, tc->seq_lo);
	ck_assert_msg(got == tc->want, "case %d: top %#llx seq_lo %#x gave %#llx, want %#llx", _i,
	              (unsigned long long)tc->top, tc->seq_lo, (unsigned long long)got,
	              (unsigned long long)tc->want);
}
END_TEST

START_TEST(no_esn_infer_is_identity)
{
	struct esp_replay w;

	ck_assert_int_eq(esp_replay_init(&w, 64, false, 0xfffffff0u), 0);
	ck_assert_uint_eq(esp_replay_infer(&w, 5), 5);
	ck_assert_uint_eq(esp_replay_infer(&w, 0xffffffffu), 0xffffffffu);
}
END_TEST

/* Inferred numbers walk across 2^32 and the window follows. */
START_TEST(esn_walk_across_2_32)
{
	struct esp_replay w;
	uint64_t seq;

	ck_assert_int_eq(esp_replay_init(&w, 128, true, T32 - 200), 0);
	for (seq = T32 - 199; seq < T32 + 200; seq++) {
		uint64_t got = esp_replay_infer(&w, (uint32_t)seq);

		ck_assert_uint_eq(got, seq);
		ck_assert(esp_replay_check(&w, got));
		ck_assert(esp_replay_update(&w, got));
	}
	/* A replay of one before 2^32 is inferred into the window and refused. */
	seq = esp_replay_infer(&w, 0xffffffffu);
	ck_assert_uint_eq(seq, T32 + 0xffffffffu); /* left of the window: the next subspace */
	seq = esp_replay_infer(&w, (uint32_t)(T32 + 150));
	ck_assert_uint_eq(seq, T32 + 150);
	ck_assert(!esp_replay_check(&w, seq));
}
END_TEST

static Suite *replay_suite(void)
{
	Suite *s = suite_create("esp_replay");
	TCase *tc = tcase_create("window");

	tcase_add_loop_test(tc, window_table, 0, ARRAY_SIZE(window_cases));
	tcase_add_test(tc, init_sizes);
	tcase_add_test(tc, window_edges_every_size);
	tcase_add_loop_test(tc, esn_infer_table, 0, ARRAY_SIZE(infer_cases));
	tcase_add_test(tc, no_esn_infer_is_identity);
	tcase_add_test(tc, esn_walk_across_2_32);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(replay_suite)
