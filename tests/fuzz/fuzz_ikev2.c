/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the IKEv2 engine. The first byte picks where the rest
 * goes:
 *   0: a datagram to a responder (IKE_SA_INIT and anything else, port 500);
 *   1: an IKE_SA_INIT response to an initiator waiting for one (its SPI
 *      patched in, so the answer reaches the proposal, KE and NAT-D code);
 *   2: the inner payloads of an encrypted request to an established
 *      responder (byte 1: exchange type, byte 2: first payload type), put
 *      in an SK payload with the real keys so the decrypted-payload parsers
 *      and every exchange handler see them;
 *   3: the same as the response to the initiator's pending CREATE_CHILD_SA.
 * Never a crash, a leak or a sanitizer report; the engine counts and drops.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crypto_mem.h"
#include "ikev2.h"
#include "ikev2_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

unsigned long fuzz_accepted;

enum { FZ_Q = 64 };

struct fz_dgram {
	int from;
	struct ike_endpoint src, dst;
	size_t len;
	uint8_t buf[IKE_MSG_MAX + 4];
};

struct fz_gw {
	int idx;
	struct config *cfg;
	struct ike_status status[2];
	struct ikev2 *e;
	uint32_t spi;
	unsigned installed;
};

static struct fz_gw fz[2];
static struct fz_dgram *fz_q;
static unsigned fz_n;
static uint64_t fz_now;
/* A seed generator sets this to see every datagram the engines send. */
static void (*fz_tap)(int from, const uint8_t *buf, size_t len);

static void fz_send(void *ctx, const struct ike_endpoint *l, const struct ike_endpoint *r,
                    const uint8_t *buf, size_t len)
{
	struct fz_gw *g = ctx;

	if (fz_tap)
		fz_tap(g->idx, buf, len);
	if (fz_n >= FZ_Q || len > sizeof(fz_q[0].buf))
		return;
	fz_q[fz_n].from = g->idx;
	fz_q[fz_n].src = *l;
	fz_q[fz_n].dst = *r;
	fz_q[fz_n].len = len;
	memcpy(fz_q[fz_n].buf, buf, len);
	fz_n++;
}

static uint32_t fz_spi(void *ctx, uint32_t conn)
{
	struct fz_gw *g = ctx;

	(void)conn;
	return ++g->spi;
}

static int fz_install(void *ctx, const struct ike_child *c)
{
	struct fz_gw *g = ctx;

	(void)c;
	g->installed++;
	return 0;
}

static void fz_delete(void *ctx, uint32_t conn, uint32_t spi)
{
	(void)ctx;
	(void)conn;
	(void)spi;
}

static void fz_log(void *ctx, enum ike_log_level l, uint32_t conn, const char *msg)
{
	(void)ctx;
	(void)l;
	(void)conn;
	(void)msg;
}

static const char *const fz_yaml[2] = {
	"gateway:\n  name: a\n  ports:\n"
	"    - {name: wan, device: d0, role: public, address: 203.0.113.1/24}\n"
	"customer_gateways:\n  - {name: b, address: 198.51.100.7}\n"
	"connections:\n  - name: c1\n    customer_gateway: b\n"
	"    local_subnets: [10.1.0.0/16, fd01::/64]\n    remote_subnets: [10.2.0.0/16]\n"
	"    effect_immediately: true\n    psk: s3cret\n"
	"    ike: {version: ikev2, encryption: [aes, aes-gcm-128], integrity: sha256, "
	"dh_group: [group31, group19]}\n"
	"    ipsec: {encryption: [aes-gcm-128, aes], integrity: sha1, pfs: group31}\n",
	"gateway:\n  name: b\n  ports:\n"
	"    - {name: wan, device: d0, role: public, address: 198.51.100.7/24}\n"
	"customer_gateways:\n  - {name: a, address: 203.0.113.1}\n"
	"connections:\n  - name: c1\n    customer_gateway: a\n"
	"    local_subnets: [10.2.0.0/16]\n    remote_subnets: [10.1.0.0/16, fd01::/64]\n"
	"    psk: s3cret\n"
	"    ike: {version: ikev2, encryption: [aes, aes-gcm-128], integrity: sha256, "
	"dh_group: [group31, group19]}\n"
	"    ipsec: {encryption: [aes-gcm-128, aes], integrity: sha1, pfs: group31}\n",
};

static void fz_setup(void)
{
	static const struct ike_ops ops = {
		.send = fz_send,
		.spi_alloc = fz_spi,
		.child_install = fz_install,
		.child_delete = fz_delete,
		.log = fz_log,
	};
	char err[256];

	if (crypto_init() != 0)
		abort();
	if (fz_q == NULL)
		fz_q = calloc(FZ_Q, sizeof(*fz_q));
	if (fz_q == NULL)
		abort();
	fz_n = 0;
	fz_now = 1000;
	for (int i = 0; i < 2; i++) {
		struct ike_ops o = ops;

		memset(&fz[i], 0, sizeof(fz[i]));
		fz[i].idx = i;
		fz[i].spi = i ? 0xb0000000u : 0xa0000000u;
		if (config_load_string(fz_yaml[i], strlen(fz_yaml[i]), "fuzz.yaml", &fz[i].cfg, err,
		                       sizeof(err)) != 0) {
			fprintf(stderr, "fuzz config: %s\n", err);
			abort();
		}
		o.ctx = &fz[i];
		fz[i].e = ikev2_new(fz[i].cfg, &o, fz[i].status, fz_now);
		if (fz[i].e == NULL)
			abort();
	}
}

static void fz_teardown(void)
{
	for (int i = 0; i < 2; i++) {
		ikev2_free(fz[i].e);
		config_free(fz[i].cfg);
		fz[i].e = NULL;
		fz[i].cfg = NULL;
	}
}

/* Delivers queued datagrams until quiet (bounded). */
static void fz_pump(void)
{
	for (unsigned round = 0; round < 16 && fz_n > 0; round++) {
		static struct fz_dgram batch[FZ_Q];
		unsigned n = fz_n;

		memcpy(batch, fz_q, n * sizeof(batch[0]));
		fz_n = 0;
		for (unsigned i = 0; i < n; i++)
			ikev2_input(fz[1 - batch[i].from].e, &batch[i].dst, &batch[i].src,
			            batch[i].buf, batch[i].len, fz_now);
	}
	fz_n = 0;
}

static const struct ike_endpoint fz_ep_a = { .family = 4, .addr = { 203, 0, 113, 1 }, .port = 500 };
static const struct ike_endpoint fz_ep_b = { .family = 4,
	                                     .addr = { 198, 51, 100, 7 },
	                                     .port = 500 };

/* An encrypted message from sa carrying inner payloads, into out. */
static size_t fz_sk_message(struct ikev2_sa *sa, uint8_t exch, bool response, uint32_t msg_id,
                            uint8_t first, const uint8_t *inner, size_t inner_len, uint8_t *out,
                            size_t cap)
{
	static struct ikev2_sk_wr s;

	ikev2_sk_begin(sa, &s, out, cap, exch, response, msg_id);
	ikev2_wr_bytes(&s.in, inner, inner_len);
	s.in.first_np = first;
	return ikev2_sk_end(sa, &s);
}

static void fz_after(void)
{
	/* Timers with the fuzzed state: retransmits, deletes, rekeys. */
	for (int k = 0; k < 3; k++) {
		fz_now += 20000;
		ikev2_tick(fz[0].e, fz_now);
		ikev2_tick(fz[1].e, fz_now);
		fz_pump();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[IKE_MSG_MAX];
	uint8_t mode;

	if (size < 1 || size > IKE_MSG_MAX - 64)
		return 0;
	mode = data[0] & 3;
	data++;
	size--;
	fz_setup();
	if (mode == 0) {
		ikev2_input(fz[1].e, &fz_ep_b, &fz_ep_a, data, size, fz_now);
		fz_pump();
	} else if (mode == 1) {
		ikev2_start(fz[0].e, fz_now);
		if (fz_n == 1 && size >= 8) {
			memcpy(msg, data, size);
			memcpy(msg, fz_q[0].buf, 8); /* the initiator's SPI */
			fz_n = 0;
			ikev2_input(fz[0].e, &fz_ep_a, &fz_ep_b, msg, size, fz_now);
			fz_pump();
		}
	} else if (size >= 2) {
		struct ikev2_sa *sa;
		size_t n;

		ikev2_start(fz[0].e, fz_now);
		fz_pump();
		if (fz[0].installed == 0 || fz[1].installed == 0)
			abort(); /* the pair must come up for these modes to mean anything */
		if (mode == 2) {
			sa = fz[0].e->conns[0].sa;
			n = fz_sk_message(sa, data[0], false, sa->req_id, data[1], data + 2,
			                  size - 2, msg, sizeof(msg));
			if (n)
				ikev2_input(fz[1].e, &fz_ep_b, &fz_ep_a, msg, n, fz_now);
		} else {
			struct ikev2_sa *sb = fz[1].e->conns[0].sa;

			sa = fz[0].e->conns[0].sa;
			ikev2_child_expired(fz[0].e, 0, sa->children->spi_in, false, fz_now);
			fz_now += 100;
			ikev2_tick(fz[0].e, fz_now);
			fz_n = 0; /* the request is lost; the fuzzed answer comes instead */
			n = fz_sk_message(sb, data[0], true, sa->req_id, data[1], data + 2,
			                  size - 2, msg, sizeof(msg));
			if (n)
				ikev2_input(fz[0].e, &fz_ep_a, &fz_ep_b, msg, n, fz_now);
		}
		fz_pump();
	}
	if (fz[0].installed + fz[1].installed > (mode >= 2 ? 2u : 0u))
		fuzz_accepted++;
	fz_after();
	fz_teardown();
	return 0;
}
