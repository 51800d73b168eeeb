/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IKE glue's SPI table (control/ike_spi.c): random inserts, overwrites
 * and deletions checked against a plain list after every step, with a
 * small table so that runs collide, wrap around its end and are closed up
 * by deletions in every order.
 */
#include "unit/testutil.h"

#include "compiler.h"
#include "ike_spi.h"

enum { MODEL_MAX = 512 };

struct model {
	uint32_t spi[MODEL_MAX];
	uint32_t val[MODEL_MAX];
	unsigned n;
};

static int model_find(const struct model *m, uint32_t spi)
{
	unsigned i;

	for (i = 0; i < m->n; i++)
		if (m->spi[i] == spi)
			return (int)i;
	return -1;
}

/* Small xorshift: a fixed, reproducible sequence per seed. */
static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void check_all(const struct ike_spi_table *t, const struct model *m, uint32_t universe,
                      uint32_t base)
{
	uint32_t k;

	ck_assert_uint_eq(t->n, m->n);
	for (k = 0; k < universe; k++) {
		uint32_t spi = base + k;
		int i = model_find(m, spi);
		uint32_t *v = ike_spi_get(t, spi);

		if (i < 0) {
			ck_assert_msg(v == NULL, "spi %u found after its deletion", spi);
		} else {
			ck_assert_msg(v != NULL, "spi %u lost", spi);
			ck_assert_uint_eq(*v, m->val[i]);
		}
	}
}

/* _i picks the seed and the key universe (dense sequential keys, or spread). */
START_TEST(test_random_against_model)
{
	struct ike_spi_table t;
	struct model m = { .n = 0 };
	uint32_t seed = 0x9e3779b9u + (uint32_t)_i * 7919u, universe = 200, base;
	unsigned step;

	base = _i % 2 ? 0xfffffe00u : 1u; /* keys near 2^32 too */
	ck_assert_int_eq(ike_spi_init(&t, 100), 0);
	for (step = 0; step < 4000; step++) {
		uint32_t spi = base + rnd(&seed) % universe, val = rnd(&seed);
		int i = model_find(&m, spi);

		if (rnd(&seed) % 3 == 0) {
			ck_assert_int_eq(ike_spi_del(&t, spi), i >= 0);
			if (i >= 0) {
				m.spi[i] = m.spi[m.n - 1];
				m.val[i] = m.val[m.n - 1];
				m.n--;
			}
		} else if (i >= 0) {
			ck_assert_int_eq(ike_spi_put(&t, spi, val), 0);
			m.val[i] = val;
		} else if (m.n < t.max) {
			ck_assert_int_eq(ike_spi_put(&t, spi, val), 0);
			m.spi[m.n] = spi;
			m.val[m.n++] = val;
		} else {
			/* Full: refused, nothing changes. */
			ck_assert_int_eq(ike_spi_put(&t, spi, val), -1);
		}
		if (step % 16 == 0)
			check_all(&t, &m, universe, base);
	}
	check_all(&t, &m, universe, base);
	ike_spi_fini(&t);
}
END_TEST

/* Fill to the limit, empty again in reverse and in insertion order. */
START_TEST(test_fill_and_empty)
{
	struct ike_spi_table t;
	uint32_t k;

	ck_assert_int_eq(ike_spi_init(&t, 1000), 0);
	ck_assert_uint_ge(t.mask + 1, 2000);
	ck_assert_uint_eq(t.max, 1000);
	for (k = 1; k <= 1000; k++)
		ck_assert_int_eq(ike_spi_put(&t, k * 64, k), 0);
	ck_assert_int_eq(ike_spi_put(&t, 5, 5), -1);
	ck_assert_int_eq(ike_spi_put(&t, 64, 7), 0); /* overwrite works when full */
	ck_assert_uint_eq(*ike_spi_get(&t, 64), 7);
	for (k = _i ? 1 : 1000; _i ? k <= 1000 : k >= 1; k = _i ? k + 1 : k - 1) {
		ck_assert(ike_spi_del(&t, k * 64));
		ck_assert(ike_spi_get(&t, k * 64) == NULL);
		if (k % 100 == 0) {
			uint32_t j;

			for (j = 1; j <= 1000; j++)
				ck_assert((ike_spi_get(&t, j * 64) != NULL) ==
				          (_i ? j > k : j < k));
		}
	}
	ck_assert_uint_eq(t.n, 0);
	ck_assert(!ike_spi_del(&t, 64));
	ike_spi_fini(&t);
}
END_TEST

START_TEST(test_zero_is_never_an_spi)
{
	struct ike_spi_table t;

	ck_assert_int_eq(ike_spi_init(&t, 4), 0);
	ck_assert_int_eq(ike_spi_put(&t, 0, 1), -1);
	ck_assert(ike_spi_get(&t, 0) == NULL);
	ck_assert(!ike_spi_del(&t, 0));
	ike_spi_fini(&t);
}
END_TEST

static Suite *ike_spi_suite(void)
{
	Suite *s = suite_create("ike_spi");
	TCase *tc = tcase_create("table");

	tcase_add_loop_test(tc, test_random_against_model, 0, 8);
	tcase_add_loop_test(tc, test_fill_and_empty, 0, 2);
	tcase_add_test(tc, test_zero_is_never_an_spi);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(ike_spi_suite)
