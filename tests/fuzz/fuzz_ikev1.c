/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the IKEv1 engine. Two engines are set up once with an
 * ISAKMP SA and an IPsec SA between them (main mode, aes/sha1/group2).
 * The first input byte picks where the rest goes:
 *   0  to the responder on port 500 (a new phase 1, or an unknown cookie)
 *   1  to the responder on port 4500 (non-ESP marker added)
 *   2  to the responder, cookies replaced by those of its established SA,
 *      so the bytes reach decryption, the HASH checks and the parsers of
 *      quick mode and informational exchanges
 *   3  the same towards the initiator
 * Whatever the engines answer is dropped. Time moves on with every input
 * so half-open SAs expire; a lost ISAKMP SA is set up again.
 *
 * Built with -DFUZZ_IKEV1_SEEDS_MAIN it is instead the seed writer:
 * fuzz_ikev1_seeds OUTDIR writes ikev1_0.bin ... ikev1_5.bin, real
 * messages of the set-up exchange with their first byte prepended.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crypto_mem.h"
#include "ikev1.h"
#include "ikev1_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

unsigned long fuzz_accepted;

enum { QMAX = 64, REC_MAX = 32 };

struct dgram {
	int to;
	struct ike_endpoint src, dst;
	size_t len;
	uint8_t buf[IKE_MSG_MAX + 4];
};

static struct {
	struct config *cfg[2];
	struct ikev1 *e[2];
	struct ike_status st[2][1];
	struct dgram *q;
	unsigned n;
	bool deliver; /* while setting up; afterwards answers are dropped */
	uint64_t now;
	uint32_t spi;
	struct dgram *rec; /* every datagram of the set-up, for the seeds */
	unsigned n_rec;
} F;

static const char *const yaml[2] = {
	"gateway:\n  name: a\n  ports:\n"
	"    - {name: wan, device: d0, role: public, address: 198.51.100.1/24}\n"
	"    - {name: lan, device: d1, role: private, address: 10.1.0.1/16}\n"
	"customer_gateways:\n  - {name: p, address: 198.51.100.2}\n"
	"connections:\n  - name: c\n    customer_gateway: p\n"
	"    local_subnets: [10.1.0.0/16]\n    remote_subnets: [10.2.0.0/16]\n"
	"    effect_immediately: true\n    psk: \"fuzz\"\n"
	"    ike: {version: ikev1, mode: main}\n",
	"gateway:\n  name: b\n  ports:\n"
	"    - {name: wan, device: d0, role: public, address: 198.51.100.2/24}\n"
	"    - {name: lan, device: d1, role: private, address: 10.2.0.1/16}\n"
	"customer_gateways:\n  - {name: p, address: 198.51.100.1}\n"
	"connections:\n  - name: c\n    customer_gateway: p\n"
	"    local_subnets: [10.2.0.0/16]\n    remote_subnets: [10.1.0.0/16]\n"
	"    psk: \"fuzz\"\n"
	"    ike: {version: ikev1, mode: main}\n",
};

static void f_send(void *ctx, const struct ike_endpoint *local, const struct ike_endpoint *remote,
                   const uint8_t *buf, size_t len)
{
	int from = (int)(intptr_t)ctx;
	struct dgram d;

	if (!F.deliver || len > sizeof(d.buf) || F.n >= QMAX)
		return;
	d.to = 1 - from;
	d.src = *local;
	d.dst = *remote;
	d.len = len;
	memcpy(d.buf, buf, len);
	F.q[F.n++] = d;
	if (F.rec != NULL && F.n_rec < REC_MAX)
		F.rec[F.n_rec++] = d;
}

static uint32_t f_spi(void *ctx, uint32_t conn)
{
	(void)ctx;
	(void)conn;
	return ++F.spi;
}

static int f_install(void *ctx, const struct ike_child *c)
{
	(void)ctx;
	(void)c;
	return 0;
}

static void f_delete(void *ctx, uint32_t conn, uint32_t spi)
{
	(void)ctx;
	(void)conn;
	(void)spi;
}

static void drain(void)
{
	while (F.n > 0) {
		struct dgram *d = malloc(sizeof(*d));

		if (d == NULL)
			abort();
		*d = F.q[0];
		memmove(&F.q[0], &F.q[1], (F.n - 1) * sizeof(F.q[0]));
		F.n--;
		ikev1_input(F.e[d->to], &d->dst, &d->src, d->buf, d->len, F.now);
		free(d);
	}
}

static void teardown(void)
{
	for (int i = 0; i < 2; i++) {
		ikev1_free(F.e[i]);
		config_free(F.cfg[i]);
		F.e[i] = NULL;
		F.cfg[i] = NULL;
	}
}

static void setup(void)
{
	char err[256];

	if (crypto_init() != 0)
		abort();
	if (F.q == NULL)
		F.q = calloc(QMAX, sizeof(*F.q));
	if (F.q == NULL)
		abort();
	teardown();
	F.now = 1000;
	for (int i = 0; i < 2; i++) {
		struct ike_ops ops = { .ctx = (void *)(intptr_t)i,
			               .send = f_send,
			               .spi_alloc = f_spi,
			               .child_install = f_install,
			               .child_delete = f_delete };

		if (config_load_string(yaml[i], strlen(yaml[i]), "fuzz.yaml", &F.cfg[i], err,
		                       sizeof(err)) != 0) {
			fprintf(stderr, "fuzz_ikev1: %s\n", err);
			abort();
		}
		F.e[i] = ikev1_new(F.cfg[i], &ops, F.st[i], F.now);
		if (F.e[i] == NULL)
			abort();
	}
	F.deliver = true;
	ikev1_start(F.e[0], F.now);
	drain();
	F.deliver = false;
	if (F.st[0][0].state != IKE_STATE_PHASE2_SUCCEEDED)
		abort(); /* the fixture itself must work */
}

static struct v1_sa *established(struct ikev1 *e)
{
	for (struct v1_sa *sa = e->all; sa != NULL; sa = sa->anext)
		if (!sa->dead && sa->st == P1_ESTABLISHED)
			return sa;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[IKE_MSG_MAX + 4];
	struct ike_endpoint a = { .family = 4, .addr = { 198, 51, 100, 1 }, .port = 500 };
	struct ike_endpoint b = { .family = 4, .addr = { 198, 51, 100, 2 }, .port = 500 };
	int to = 1;
	size_t len;

	if (F.e[0] == NULL || established(F.e[0]) == NULL || established(F.e[1]) == NULL)
		setup();
	if (size < 1 || size - 1 > IKE_MSG_MAX)
		return 0;
	uint8_t mode = data[0] & 3;
	len = size - 1;
	memcpy(buf, data + 1, len);
	if (mode == 1) {
		memmove(buf + 4, buf, len);
		memset(buf, 0, 4);
		len += 4;
		a.port = b.port = IKE_NATT_PORT;
	} else if (mode >= 2) {
		to = mode == 2 ? 1 : 0;
		struct v1_sa *sa = established(F.e[to]);

		if (sa != NULL && len >= 16) {
			memcpy(buf, sa->cky_i, 8);
			memcpy(buf + 8, sa->cky_r, 8);
		}
	}
	const struct ikev1_stats *st = ikev1_stats(F.e[to]);
	uint64_t bad = st->malformed + st->unknown_cookie + st->decrypt_failed;
	if (to == 1)
		ikev1_input(F.e[1], &b, &a, buf, len, F.now);
	else
		ikev1_input(F.e[0], &a, &b, buf, len, F.now);
	if (st->malformed + st->unknown_cookie + st->decrypt_failed == bad)
		fuzz_accepted++;
	F.now += 250;
	ikev1_tick(F.e[0], F.now);
	ikev1_tick(F.e[1], F.now);
	F.n = 0;
	return 0;
}

#ifdef FUZZ_IKEV1_SEEDS_MAIN
static void write_seed(const char *dir, int idx, uint8_t mode, const struct dgram *d)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/ikev1_%d.bin", dir, idx);
	f = fopen(path, "wb");
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	fputc(mode, f);
	fwrite(d->buf, 1, d->len, f);
	fclose(f);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	F.rec = calloc(REC_MAX, sizeof(*F.rec));
	if (F.rec == NULL)
		return 1;
	setup();
	/* MM1..MM6, QM1..QM3 in order. */
	if (F.n_rec < 9) {
		fprintf(stderr, "only %u datagrams recorded\n", F.n_rec);
		return 1;
	}
	write_seed(argv[1], 0, 0, &F.rec[0]); /* MM1 to the responder */
	write_seed(argv[1], 1, 0, &F.rec[2]); /* MM3 */
	write_seed(argv[1], 2, 2, &F.rec[4]); /* MM5: encrypted, phase 1 IV */
	write_seed(argv[1], 3, 2, &F.rec[6]); /* QM1: encrypted, new message id */
	write_seed(argv[1], 4, 3, &F.rec[7]); /* QM2 towards the initiator */
	write_seed(argv[1], 5, 1, &F.rec[0]); /* MM1 on 4500 */
	teardown();
	free(F.rec);
	free(F.q);
	return 0;
}
#endif
