/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Seeds for fuzz_ikev2: real IKE_SA_INIT/IKE_AUTH datagrams of two engines
 * (modes 0 and 1) and inner payload chains of CREATE_CHILD_SA and
 * INFORMATIONAL built with the engine's writer (modes 2 and 3).
 *
 *   fuzz_ikev2_seeds OUTDIR
 */
#include "fuzz_ikev2.c"

#include "crypto_dh.h"

enum { SEEDS = 10 };

static uint8_t tapped[8][IKE_MSG_MAX];
static size_t tapped_len[8];
static unsigned n_tapped;

static void tap(int from, const uint8_t *buf, size_t len)
{
	(void)from;
	if (n_tapped < 8 && len <= IKE_MSG_MAX) {
		memcpy(tapped[n_tapped], buf, len);
		tapped_len[n_tapped++] = len;
	}
}

static void write_seed(const char *dir, int n, const uint8_t *head, size_t hlen,
                       const uint8_t *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/ikev2_%d.bin", dir, n);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(head, 1, hlen, f) != hlen || fwrite(data, 1, len, f) != len ||
	    fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* Inner payloads: a seed of mode, exchange, first payload, chain. */
static void write_inner(const char *dir, int n, uint8_t mode, uint8_t exch, struct ikev2_wr *w)
{
	uint8_t head[3] = { mode, exch, w->first_np };

	if (w->failed)
		abort();
	write_seed(dir, n, head, sizeof(head), w->buf, w->len);
}

static void child_payloads(struct ikev2_wr *w, bool rekey, bool response)
{
	struct ikev2_prop_out p[2];
	const struct config_connection *cc = &fz[0].cfg->connections[0];
	uint8_t nonce[32], pub[CRYPTO_DH_MAX_PUBLIC];
	struct crypto_dh *dh = crypto_dh_new(CRYPTO_DH_CURVE25519);
	struct ts l[IKE_TS_MAX], r[IKE_TS_MAX];
	unsigned nl, nr, np;
	int plen;

	if (dh == NULL || (plen = crypto_dh_public(dh, pub, sizeof(pub))) < 0)
		abort();
	memset(nonce, 0x4e, sizeof(nonce));
	if (rekey) {
		uint8_t spi[4] = { 0xa0, 0, 0, 1 };

		ikev2_wr_notify(w, IKEV2_PROTO_ESP, spi, 4, IKEV2_N_REKEY_SA, NULL, 0);
	}
	np = ikev2_esp_props(cc, 0xc0000001u, true, p);
	ikev2_wr_sa(w, p, response ? 1 : np);
	ikev2_wr_simple(w, IKEV2_PL_NONCE, nonce, sizeof(nonce));
	ikev2_wr_ke(w, 31, pub, (size_t)plen);
	ikev2_conn_ts(cc, l, &nl, r, &nr);
	ikev2_wr_ts(w, IKEV2_PL_TSI, l, nl);
	ikev2_wr_ts(w, IKEV2_PL_TSR, r, nr);
	crypto_dh_free(dh);
}

int main(int argc, char **argv)
{
	static uint8_t buf[IKE_MSG_MAX];
	struct ikev2_wr w;
	uint8_t m0 = 0, m1 = 1;
	int n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	fz_setup();
	fz_tap = tap;
	ikev2_start(fz[0].e, fz_now);
	fz_pump();
	fz_tap = NULL;
	if (n_tapped < 4)
		abort();
	write_seed(argv[1], n++, &m0, 1, tapped[0], tapped_len[0]); /* IKE_SA_INIT request */
	write_seed(argv[1], n++, &m1, 1, tapped[1], tapped_len[1]); /* IKE_SA_INIT response */
	write_seed(argv[1], n++, &m0, 1, tapped[2], tapped_len[2]); /* IKE_AUTH request */

	ikev2_wr_init(&w, buf, sizeof(buf));
	child_payloads(&w, false, false);
	write_inner(argv[1], n++, 2, IKEV2_EXCH_CREATE_CHILD_SA, &w);
	ikev2_wr_init(&w, buf, sizeof(buf));
	child_payloads(&w, true, false);
	write_inner(argv[1], n++, 2, IKEV2_EXCH_CREATE_CHILD_SA, &w);
	ikev2_wr_init(&w, buf, sizeof(buf));
	{
		uint32_t spi = 0xa0000001u;

		ikev2_wr_delete(&w, IKEV2_PROTO_ESP, &spi, 1);
	}
	write_inner(argv[1], n++, 2, IKEV2_EXCH_INFORMATIONAL, &w);
	ikev2_wr_init(&w, buf, sizeof(buf));
	ikev2_wr_delete(&w, IKEV2_PROTO_IKE, NULL, 0);
	write_inner(argv[1], n++, 2, IKEV2_EXCH_INFORMATIONAL, &w);
	ikev2_wr_init(&w, buf, sizeof(buf));
	{
		struct ikev2_prop_out p[2];
		uint8_t spi[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, nonce[32], pub[CRYPTO_DH_MAX_PUBLIC];
		struct crypto_dh *dh = crypto_dh_new(CRYPTO_DH_CURVE25519);
		unsigned np = ikev2_ike_props(&fz[0].cfg->connections[0], p, spi, 8);
		int plen;

		if (dh == NULL || (plen = crypto_dh_public(dh, pub, sizeof(pub))) < 0)
			abort();
		memset(nonce, 0x4f, sizeof(nonce));
		ikev2_wr_sa(&w, p, np);
		ikev2_wr_simple(&w, IKEV2_PL_NONCE, nonce, sizeof(nonce));
		ikev2_wr_ke(&w, 31, pub, (size_t)plen);
		crypto_dh_free(dh);
	}
	write_inner(argv[1], n++, 2, IKEV2_EXCH_CREATE_CHILD_SA, &w);
	ikev2_wr_init(&w, buf, sizeof(buf));
	child_payloads(&w, false, true);
	write_inner(argv[1], n++, 3, IKEV2_EXCH_CREATE_CHILD_SA, &w);
	ikev2_wr_init(&w, buf, sizeof(buf));
	ikev2_wr_notify(&w, 0, NULL, 0, IKEV2_N_TS_UNACCEPTABLE, NULL, 0);
	write_inner(argv[1], n++, 3, IKEV2_EXCH_CREATE_CHILD_SA, &w);
	if (n != SEEDS)
		abort();
	fz_teardown();
	return 0;
}
