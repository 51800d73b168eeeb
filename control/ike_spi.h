/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The inbound SPIs the IKE glue has handed out or installed: a fixed-size
 * open-addressing table (linear probing, deletion by shifting back, no
 * tombstones) from SPI to a 32-bit value. Sized once for everything that
 * can be in it, it never grows and never fills. Plain C, no DPDK.
 */
#ifndef VPNGW_IKE_SPI_H
#define VPNGW_IKE_SPI_H

#include <stdbool.h>
#include <stdint.h>

struct ike_spi_entry {
	uint32_t spi; /* 0: empty (SPI 0 is never valid) */
	uint32_t val;
};

struct ike_spi_table {
	struct ike_spi_entry *e;
	uint32_t mask; /* capacity - 1, a power of two */
	uint32_t n;
	uint32_t max; /* entries allowed: half the capacity */
};

/* Room for max entries (capacity >= 2 * max); 0 or -1 (out of memory). */
int ike_spi_init(struct ike_spi_table *t, uint32_t max);
void ike_spi_fini(struct ike_spi_table *t);

/* The value of spi; NULL if absent (or spi is 0). */
uint32_t *ike_spi_get(const struct ike_spi_table *t, uint32_t spi);
/* Inserts or overwrites; -1 for spi 0 or when max entries are in. */
int ike_spi_put(struct ike_spi_table *t, uint32_t spi, uint32_t val);
/* Removes spi if present; true if it was. */
bool ike_spi_del(struct ike_spi_table *t, uint32_t spi);

#endif
