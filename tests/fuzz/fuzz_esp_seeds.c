/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writes seed inputs for fuzz_esp_inb: valid packets of its SAs, made by
 * our outbound path, so mutations start from deep inside the parser.
 *
 *   fuzz_esp_seeds OUTDIR   -> OUTDIR/esp_inb_0.bin ... esp_inb_4.bin
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_mem.h"
#include "cursor.h"
#include "esp.h"
#include "fuzz_esp.h"

#define ROOM 128

static uint32_t inner_packet(uint8_t *p, int v6, uint32_t payload)
{
	uint32_t len = (v6 ? 40u : 20u) + 8u + payload;

	memset(p, 0, len);
	if (v6) {
		p[0] = 0x60;
		put_be16(p + 4, (uint16_t)(len - 40));
		p[6] = 17;
		p[7] = 64;
		p[8] = 0xfd;
		p[23] = 1;
		p[24] = 0xfd;
		p[39] = 2;
	} else {
		p[0] = 0x45;
		put_be16(p + 2, (uint16_t)len);
		p[8] = 64;
		p[9] = 17;
		memcpy(p + 12, (uint8_t[]){ 10, 0, 0, 1, 10, 1, 0, 1 }, 8);
	}
	for (uint32_t i = 0; i < payload; i++)
		p[len - payload + i] = (uint8_t)i;
	return len;
}

static void write_seed(const char *dir, int n, uint8_t mode, const uint8_t *data, uint32_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/esp_inb_%d.bin", dir, n);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(&mode, 1, 1, f) != 1 || fwrite(data, 1, len, f) != len ||
	    fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* An outbound packet of the SA the fuzz target decrypts with spi. */
static uint32_t encrypt(uint8_t *buf, int v6_outer, int v6_inner, int udp, uint32_t spi)
{
	struct esp_sa_conf c = {
		.dir = ESP_DIR_OUT,
		.spi = spi,
		.family = v6_outer ? AF_INET6 : AF_INET,
		.udp_encap = udp,
	};
	struct esp_sa *sa = aligned_alloc(64, (esp_sa_size() + 63) & ~(size_t)63);
	char err[128];

	if (spi == FUZZ_SPI_CBC) {
		c.encr = CRYPTO_ENCR_AES128_CBC;
		c.enc_key = fuzz_aes_key;
		c.enc_key_len = sizeof(fuzz_aes_key);
		c.integ = CRYPTO_INTEG_HMAC_SHA1_96;
		c.auth_key = fuzz_sha1_key;
		c.auth_key_len = sizeof(fuzz_sha1_key);
		c.esn = true;
		c.seq = FUZZ_ESN_TOP + 5;
	} else {
		c.encr = CRYPTO_ENCR_AES128_GCM16;
		c.enc_key = fuzz_gcm_key;
		c.enc_key_len = sizeof(fuzz_gcm_key);
		c.integ = CRYPTO_INTEG_NONE;
	}
	/* Outer addresses as the fuzz target's inbound SA expects them. */
	memcpy(c.local, (uint8_t[]){ 192, 0, 2, 2 }, 4);
	memcpy(c.remote, (uint8_t[]){ 192, 0, 2, 1 }, 4);
	if (v6_outer) {
		memcpy(c.local, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8 }, 4);
		c.local[15] = 2;
		memcpy(c.remote, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8 }, 4);
		c.remote[15] = 1;
	}
	if (sa == NULL || esp_sa_init(sa, &c, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_esp_seeds: %s\n", err);
		exit(1);
	}
	struct esp_pkt p = { .data = buf + ROOM,
		             .headroom = ROOM,
		             .len = inner_packet(buf + ROOM, v6_inner, 37),
		             .sa = sa };
	p.tailroom = 2048 - ROOM - p.len;
	struct esp_pkt *pp = &p;
	if (esp_outb_burst(&pp, 1) != 1) {
		fprintf(stderr, "fuzz_esp_seeds: encrypt failed: %s\n", esp_drop_names[p.drop]);
		exit(1);
	}
	memmove(buf, p.data, p.len);
	esp_sa_wipe(sa);
	free(sa);
	return p.len;
}

int main(int argc, char **argv)
{
	static uint8_t buf[2048];
	uint32_t len;

	if (argc != 2 || crypto_init() != 0) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	len = encrypt(buf, 0, 0, 0, FUZZ_SPI_GCM);
	write_seed(argv[1], 0, 0, buf, len);
	len = encrypt(buf, 0, 1, 1, FUZZ_SPI_CBC);
	write_seed(argv[1], 1, 2, buf, len);
	len = encrypt(buf, 1, 0, 0, FUZZ_SPI_GCM);
	write_seed(argv[1], 2, 4, buf, len);
	/* Payload mode: inner packet, padding 1 2 3, pad length, next header. */
	len = inner_packet(buf, 0, 21);
	memcpy(buf + len, (uint8_t[]){ 1, 2, 3, 3, 4 }, 5);
	write_seed(argv[1], 3, 1, buf, len + 5);
	len = inner_packet(buf, 1, 10);
	memcpy(buf + len, (uint8_t[]){ 0, 41 }, 2);
	write_seed(argv[1], 4, 3, buf, len + 2);
	return 0;
}
