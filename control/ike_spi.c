/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>

#include "ike_spi.h"

static uint32_t spi_home(const struct ike_spi_table *t, uint32_t spi)
{
	/* Multiplicative hashing: SPIs may be anything, sequential included. */
	return (spi * 2654435761u) & t->mask;
}

int ike_spi_init(struct ike_spi_table *t, uint32_t max)
{
	uint32_t cap = 64;

	while (cap / 2 < max && cap < (1u << 31))
		cap *= 2;
	t->e = calloc(cap, sizeof(t->e[0]));
	t->mask = cap - 1;
	t->n = 0;
	t->max = cap / 2 < max ? cap / 2 : max;
	return t->e != NULL ? 0 : -1;
}

void ike_spi_fini(struct ike_spi_table *t)
{
	free(t->e);
	t->e = NULL;
}

static struct ike_spi_entry *spi_find(const struct ike_spi_table *t, uint32_t spi)
{
	uint32_t i = spi_home(t, spi);

	if (spi == 0)
		return NULL;
	/* At most half full: a run always ends at an empty slot. */
	while (t->e[i].spi != 0) {
		if (t->e[i].spi == spi)
			return &t->e[i];
		i = (i + 1) & t->mask;
	}
	return NULL;
}

uint32_t *ike_spi_get(const struct ike_spi_table *t, uint32_t spi)
{
	struct ike_spi_entry *e = spi_find(t, spi);

	return e != NULL ? &e->val : NULL;
}

int ike_spi_put(struct ike_spi_table *t, uint32_t spi, uint32_t val)
{
	uint32_t i = spi_home(t, spi);

	if (spi == 0)
		return -1;
	while (t->e[i].spi != 0 && t->e[i].spi != spi)
		i = (i + 1) & t->mask;
	if (t->e[i].spi == 0) {
		if (t->n == t->max)
			return -1;
		t->n++;
	}
	t->e[i].spi = spi;
	t->e[i].val = val;
	return 0;
}

bool ike_spi_del(struct ike_spi_table *t, uint32_t spi)
{
	struct ike_spi_entry *e = spi_find(t, spi);
	uint32_t hole, j;

	if (e == NULL)
		return false;
	hole = (uint32_t)(e - t->e);
	t->n--;
	/*
	 * Close the hole: a later entry of the run moves into it unless its
	 * home lies cyclically in (hole, j], where a lookup still finds it.
	 */
	for (j = (hole + 1) & t->mask; t->e[j].spi != 0; j = (j + 1) & t->mask) {
		uint32_t k = spi_home(t, t->e[j].spi);
		bool stays = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j);

		if (stays)
			continue;
		t->e[hole] = t->e[j];
		hole = j;
	}
	t->e[hole].spi = 0;
	t->e[hole].val = 0;
	return true;
}
