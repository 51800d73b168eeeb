/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for inbound ESP: everything esp_inb_burst() reads from an
 * untrusted packet. The first input byte picks what the rest is:
 *
 *   even: a whole outer packet (IPv4/IPv6, plain ESP or UDP 4500) for an
 *         AES-GCM SA and an AES-CBC + HMAC-SHA1 SA with ESN; reaches the
 *         outer parser, the length checks, the replay window and the ICV;
 *   odd:  the decrypted ESP payload (inner packet, padding, pad length,
 *         next header), wrapped here in a valid packet of a NULL +
 *         HMAC-SHA1 SA so that it passes the ICV and reaches the trailer
 *         and inner-packet checks, which random bytes never would.
 *
 * SAs are made afresh for each input so a crash replays from its input
 * alone. Built for libFuzzer (meson -Dfuzz=true, clang) and, everywhere
 * else, with fuzz_driver.c as a replay-and-mutate test.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_mem.h"
#include "crypto_sym.h"
#include "cursor.h"
#include "esp.h"
#include "fuzz_esp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs that passed every check: the driver reports it, so a run shows it got deep. */
unsigned long fuzz_accepted;

#define BUF_ROOM 128
#define BUF_MAX  4096

static struct esp_sa *sa_new(uint32_t spi, enum crypto_alg_id encr, const uint8_t *ekey,
                             uint32_t ekey_len, enum crypto_alg_id integ, bool esn)
{
	struct esp_sa_conf c = {
		.dir = ESP_DIR_IN,
		.spi = spi,
		.encr = encr,
		.integ = integ,
		.enc_key = ekey,
		.enc_key_len = ekey_len,
		.auth_key = integ == CRYPTO_INTEG_NONE ? NULL : fuzz_sha1_key,
		.auth_key_len = integ == CRYPTO_INTEG_NONE ? 0 : sizeof(fuzz_sha1_key),
		.esn = esn,
		.replay_window = 128,
		.seq = esn ? FUZZ_ESN_TOP : 0,
		.family = AF_INET,
		.local = { 192, 0, 2, 1 },
		.remote = { 192, 0, 2, 2 },
	};
	char err[128];
	struct esp_sa *sa = aligned_alloc(64, (esp_sa_size() + 63) & ~(size_t)63);

	if (sa == NULL || esp_sa_init(sa, &c, err, sizeof(err)) != 0)
		abort();
	return sa;
}

static void run(struct esp_sa *sa, uint8_t *buf, uint32_t len)
{
	struct esp_pkt p = {
		.data = buf + BUF_ROOM,
		.len = len,
		.headroom = BUF_ROOM,
		.tailroom = BUF_MAX - BUF_ROOM - len,
		.sa = sa,
	};
	struct esp_pkt *pp = &p;
	uint16_t good = esp_inb_burst(&pp, 1);

	/* What comes back must lie inside the buffer it was given. */
	if (good == 1 && (p.data < buf || p.data + p.len > buf + BUF_MAX))
		abort();
	if (good == 0 && p.drop == ESP_OK)
		abort();
	fuzz_accepted += good;
}

/* Wraps payload in IPv4 + ESP of a NULL + HMAC-SHA1 SA, with a valid ICV. */
static uint32_t wrap_null_sha1(uint8_t *pkt, const uint8_t *payload, uint32_t len,
                               const struct crypto_sym *sym)
{
	uint32_t total = 20 + 8 + len + 12;

	memset(pkt, 0, 20);
	pkt[0] = 0x45;
	put_be16(pkt + 2, (uint16_t)total);
	pkt[8] = 64;
	pkt[9] = 50;
	memcpy(pkt + 12, (uint8_t[]){ 192, 0, 2, 2, 192, 0, 2, 1 }, 8);
	put_be32(pkt + 20, FUZZ_SPI_NULL);
	put_be32(pkt + 24, 1);
	memcpy(pkt + 28, payload, len);
	if (crypto_sym_icv(sym, pkt + 20, 8 + len, pkt + 28 + len) != 0)
		abort();
	return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[BUF_MAX];
	struct esp_sa *sa;

	if (crypto_init() != 0)
		abort();
	if (size < 1 || size > BUF_MAX - BUF_ROOM - 64)
		return 0;
	if ((data[0] & 1) == 0) {
		uint32_t spi;

		memcpy(buf + BUF_ROOM, data + 1, size - 1);
		/* Steer by SPI as the data plane would; unknown SPIs go to GCM. */
		if (esp_inb_spi(buf + BUF_ROOM, (uint32_t)size - 1, &spi) == 0 &&
		    spi == FUZZ_SPI_CBC)
			sa = sa_new(FUZZ_SPI_CBC, CRYPTO_ENCR_AES128_CBC, fuzz_aes_key,
			            sizeof(fuzz_aes_key), CRYPTO_INTEG_HMAC_SHA1_96, true);
		else
			sa = sa_new(FUZZ_SPI_GCM, CRYPTO_ENCR_AES128_GCM16, fuzz_gcm_key,
			            sizeof(fuzz_gcm_key), CRYPTO_INTEG_NONE, false);
		run(sa, buf, (uint32_t)size - 1);
	} else {
		struct crypto_sym *sym = crypto_key_alloc(sizeof(*sym));

		if (sym == NULL ||
		    crypto_sym_init(sym, CRYPTO_ENCR_NULL, NULL, 0, CRYPTO_INTEG_HMAC_SHA1_96,
		                    fuzz_sha1_key, sizeof(fuzz_sha1_key)) != 0)
			abort();
		uint32_t len = wrap_null_sha1(buf + BUF_ROOM, data + 1, (uint32_t)size - 1, sym);
		crypto_sym_wipe(sym);
		crypto_key_free(sym);
		sa = sa_new(FUZZ_SPI_NULL, CRYPTO_ENCR_NULL, NULL, 0, CRYPTO_INTEG_HMAC_SHA1_96,
		            false);
		run(sa, buf, len);
	}
	esp_sa_wipe(sa);
	free(sa);
	return 0;
}
