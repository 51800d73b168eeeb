/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the IKEv1 engine. Two fixtures, each a pair of engines
 * set up once with an ISAKMP SA and an IPsec SA between them: main mode
 * (aes/sha1/group2, ESP with PFS; the responder keeps IPsec SAs for less,
 * so its QM2 carries RESPONDER-LIFETIME) and aggressive mode. Engine A
 * (the initiator) has a second connection whose phase 1 never gets an
 * answer, so an initiator state waiting for MM2 / AM2 is always there.
 *
 * The first input byte picks the fixture (bit 3: aggressive) and where
 * the rest goes (bits 0-2):
 *   0  to the responder on port 500 (a new phase 1, or an unknown cookie)
 *   1  to the responder on port 4500 (non-ESP marker added)
 *   2  to the responder, cookies replaced by those of its established SA
 *      (raw ciphertext: the decryption and HASH checks)
 *   3  to the initiator, cookies those of its unanswered phase 1 (MM2/AM2)
 *   4  to the responder: a quick mode message with a new message id
 *   5  to the responder: an informational
 *   6  to the initiator: QM2 of its open quick mode (one is opened if none)
 *   7  to the initiator: an informational
 * For 4-7 the rest is [next payload][message id, 4 bytes][payloads]: the
 * payloads follow a HASH computed as the peer would (HASH(1), or HASH(2)
 * over the initiator's nonce) and the whole is encrypted under the
 * established ISAKMP SA's keys with the exchange's IV, so the bytes reach
 * the quick mode, RESPONDER-LIFETIME, notify and delete handlers.
 * Whatever the engines answer is dropped. Time moves on with every input
 * so half-open SAs and quick modes expire; a lost fixture is set up again.
 *
 * Built with -DFUZZ_IKEV1_SEEDS_MAIN it is instead the seed writer:
 * fuzz_ikev1_seeds OUTDIR writes ikev1_0.bin ... ikev1_5.bin from the
 * exchanges of the set-up (quick mode plaintext decrypted again).
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

enum { QMAX = 64, REC_MAX = 32, FX_MAIN = 0, FX_AGGR = 1, FX_N = 2 };

struct dgram {
	int to;
	struct ike_endpoint src, dst;
	size_t len;
	uint8_t buf[IKE_MSG_MAX + 4];
};

struct fixture {
	struct config *cfg[2];
	struct ikev1 *e[2];
	struct ike_status st[2][2];
};

static struct {
	struct fixture fx[FX_N];
	struct dgram *q;
	unsigned n;
	bool deliver; /* while setting up; afterwards answers are dropped */
	uint64_t now;
	uint32_t spi;
	struct dgram *rec; /* every datagram of a set-up, for the seeds */
	unsigned n_rec;
	unsigned long tried[8], accepted[8];
} F;

#define YAML_GW(name, addr, lan, peer)                                        \
	"gateway:\n  name: " name "\n  ports:\n"                              \
	"    - {name: wan, device: d0, role: public, address: " addr "/24}\n" \
	"    - {name: lan, device: d1, role: private, address: " lan "/16}\n" \
	"customer_gateways:\n  - {name: p, address: " peer "}\n"

/* A: c (up at start) and c2 (its phase 1 goes unanswered); B answers c. */
static const char *const yaml[FX_N][2] = {
	{ YAML_GW("a", "198.51.100.1", "10.1.0.1",
	          "198.51.100.2") "connections:\n"
	                          "  - name: c\n    customer_gateway: p\n"
	                          "    local_subnets: [10.1.0.0/16]\n    remote_subnets: "
	                          "[10.2.0.0/16]\n"
	                          "    effect_immediately: true\n    psk: \"fuzz\"\n"
	                          "    ike: {version: ikev1, mode: main}\n    ipsec: {lifetime: "
	                          "7200}\n"
	                          "  - name: c2\n    customer_gateway: p\n"
	                          "    local_subnets: [10.5.0.0/16]\n    remote_subnets: "
	                          "[10.6.0.0/16]\n"
	                          "    psk: \"fuzz\"\n    ike: {version: ikev1, mode: main}\n",
	  YAML_GW("b", "198.51.100.2", "10.2.0.1",
	          "198.51.100.1") "connections:\n"
	                          "  - name: c\n    customer_gateway: p\n"
	                          "    local_subnets: [10.2.0.0/16]\n    remote_subnets: "
	                          "[10.1.0.0/16]\n"
	                          "    psk: \"fuzz\"\n    ike: {version: ikev1, mode: main}\n"
	                          "    ipsec: {lifetime: 3600}\n" },
	{ YAML_GW("a", "198.51.100.1", "10.1.0.1",
	          "198.51.100.2") "connections:\n"
	                          "  - name: c\n    customer_gateway: p\n"
	                          "    local_subnets: [10.1.0.0/16]\n    remote_subnets: "
	                          "[10.2.0.0/16]\n"
	                          "    effect_immediately: true\n    psk: \"fuzz\"\n"
	                          "    ike: {version: ikev1, mode: aggressive, local_id: "
	                          "a.example.net,\n"
	                          "          remote_id: b@example.net}\n"
	                          "  - name: c2\n    customer_gateway: p\n"
	                          "    local_subnets: [10.5.0.0/16]\n    remote_subnets: "
	                          "[10.6.0.0/16]\n"
	                          "    psk: \"fuzz\"\n    ike: {version: ikev1, mode: "
	                          "aggressive}\n",
	  YAML_GW("b", "198.51.100.2", "10.2.0.1",
	          "198.51.100.1") "connections:\n"
	                          "  - name: c\n    customer_gateway: p\n"
	                          "    local_subnets: [10.2.0.0/16]\n    remote_subnets: "
	                          "[10.1.0.0/16]\n"
	                          "    psk: \"fuzz\"\n"
	                          "    ike: {version: ikev1, mode: aggressive, local_id: "
	                          "b@example.net,\n"
	                          "          remote_id: a.example.net}\n" },
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

static void drain(struct fixture *x)
{
	while (F.n > 0) {
		struct dgram *d = malloc(sizeof(*d));

		if (d == NULL)
			abort();
		*d = F.q[0];
		memmove(&F.q[0], &F.q[1], (F.n - 1) * sizeof(F.q[0]));
		F.n--;
		ikev1_input(x->e[d->to], &d->dst, &d->src, d->buf, d->len, F.now);
		free(d);
	}
}

static void tick(struct fixture *x)
{
	F.now += 250;
	ikev1_tick(x->e[0], F.now);
	ikev1_tick(x->e[1], F.now);
}

static void teardown(struct fixture *x)
{
	for (int i = 0; i < 2; i++) {
		ikev1_free(x->e[i]);
		config_free(x->cfg[i]);
		x->e[i] = NULL;
		x->cfg[i] = NULL;
	}
}

static void setup(int fx)
{
	struct fixture *x = &F.fx[fx];
	char err[256];

	if (crypto_init() != 0)
		abort();
	if (F.q == NULL)
		F.q = calloc(QMAX, sizeof(*F.q));
	if (F.q == NULL)
		abort();
	teardown(x);
	F.now += 1000;
	for (int i = 0; i < 2; i++) {
		struct ike_ops ops = { .ctx = (void *)(intptr_t)i,
			               .send = f_send,
			               .spi_alloc = f_spi,
			               .child_install = f_install,
			               .child_delete = f_delete };

		if (config_load_string(yaml[fx][i], strlen(yaml[fx][i]), "fuzz.yaml", &x->cfg[i],
		                       err, sizeof(err)) != 0) {
			fprintf(stderr, "fuzz_ikev1: %s\n", err);
			abort();
		}
		x->e[i] = ikev1_new(x->cfg[i], &ops, x->st[i], F.now);
		if (x->e[i] == NULL)
			abort();
	}
	F.deliver = true;
	ikev1_start(x->e[0], F.now);
	drain(x);
	tick(x); /* aggressive mode: quick mode follows AM3 after a head start */
	drain(x);
	F.deliver = false;
	if (x->st[0][0].state != IKE_STATE_PHASE2_SUCCEEDED)
		abort();             /* the fixture itself must work */
	ikev1_up(x->e[0], 1, F.now); /* c2: MM1 / AM1 into the void */
}

static struct v1_sa *established(struct ikev1 *e)
{
	struct v1_conn *c = v1_conn(e, 0);

	return c != NULL && c->sa != NULL && !c->sa->dead ? c->sa : NULL;
}

/* The initiator's open quick mode, opened (a rekey of its first child) if none is. */
static struct v1_qm *open_qm(struct fixture *x, struct v1_sa *sa)
{
	struct v1_conn *c = v1_conn(x->e[0], 0);

	for (int round = 0; round < 2; round++) {
		for (unsigned i = 0; i < V1_QM_MAX; i++) {
			struct v1_qm *q = sa->qm[i];

			if (q != NULL && q->used && q->initiator && q->st == QM_I1)
				return q;
		}
		if (round == 0 && c != NULL && c->n_ch > 0)
			ikev1_child_expired(x->e[0], 0, c->ch[0].spi_in, false, F.now);
	}
	return NULL;
}

/*
 * An encrypted quick mode or informational message from body = [np]
 * [message id][payloads], as sa's peer would send it; 0 if it does not fit.
 */
static size_t seal(struct v1_sa *sa, uint8_t exch, const uint8_t *body, size_t len,
                   const struct v1_qm *q, uint8_t *out)
{
	uint8_t iv[V1_BLOCK_MAX];
	uint32_t msgid;
	struct v1_wr w;

	if (len < 5 || !v1_keyed(sa))
		return 0;
	msgid = (uint32_t)body[1] << 24 | (uint32_t)body[2] << 16 | (uint32_t)body[3] << 8 |
	        body[4];
	if (q != NULL) {
		msgid = q->msgid;
		memcpy(iv, q->iv, sizeof(iv));
	} else {
		if (msgid == 0)
			msgid = 1;
		if (v1_iv_msgid(sa->prf, sa->keys->iv, crypto_alg(sa->encr)->block_len, msgid,
		                iv) != 0)
			return 0;
	}
	v1_wr_init(&w, out, IKE_MSG_MAX);
	v1_wr_hdr(&w, sa->cky_i, sa->cky_r, exch, 0, msgid);
	size_t hash_at = v1_wr_hash_slot(sa, &w);
	if (!w.failed)
		out[hash_at] = body[0]; /* the HASH payload's next payload */
	v1_wr_bytes(&w, body + 5, len - 5);
	return v1_seal(sa, &w, hash_at, msgid, q != NULL ? q->ni : NULL, q != NULL ? q->ni_len : 0,
	               iv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[IKE_MSG_MAX + 4];
	struct ike_endpoint a = { .family = 4, .addr = { 198, 51, 100, 1 }, .port = 500 };
	struct ike_endpoint b = { .family = 4, .addr = { 198, 51, 100, 2 }, .port = 500 };
	int to = 1;
	size_t len = 0;

	if (size < 1 || size - 1 > IKE_MSG_MAX)
		return 0;
	uint8_t mode = data[0] & 7;
	int fx = (data[0] >> 3) & 1;
	struct fixture *x = &F.fx[fx];
	if (x->e[0] == NULL || established(x->e[0]) == NULL || established(x->e[1]) == NULL)
		setup(fx);
	struct v1_sa *sa_a = established(x->e[0]), *sa_b = established(x->e[1]);
	const uint8_t *in = data + 1;
	size_t in_len = size - 1;

	switch (mode) {
	case 0:
	case 2:
		memcpy(buf, in, in_len);
		len = in_len;
		if (mode == 2 && len >= 16) {
			memcpy(buf, sa_b->cky_i, 8);
			memcpy(buf + 8, sa_b->cky_r, 8);
		}
		break;
	case 1:
		memset(buf, 0, 4);
		memcpy(buf + 4, in, in_len);
		len = in_len + 4;
		a.port = b.port = IKE_NATT_PORT;
		break;
	case 3: {
		struct v1_conn *c2 = v1_conn(x->e[0], 1);

		to = 0;
		if (c2 != NULL && c2->neg == NULL)
			ikev1_up(x->e[0], 1, F.now);
		memcpy(buf, in, in_len);
		len = in_len;
		if (c2 != NULL && c2->neg != NULL && len >= 8)
			memcpy(buf, c2->neg->cky_i, 8);
		break;
	}
	case 4:
	case 5:
		len = seal(sa_b, mode == 4 ? V1_EXCH_QUICK : V1_EXCH_INFO, in, in_len, NULL, buf);
		break;
	case 6:
	case 7:
		to = 0;
		len = seal(sa_a, mode == 6 ? V1_EXCH_QUICK : V1_EXCH_INFO, in, in_len,
		           mode == 6 ? open_qm(x, sa_a) : NULL, buf);
		break;
	}
	if (len > 0) {
		const struct ikev1_stats *st = ikev1_stats(x->e[to]);
		uint64_t bad = st->malformed + st->unknown_cookie + st->decrypt_failed;

		F.tried[mode]++;
		if (to == 1)
			ikev1_input(x->e[1], &b, &a, buf, len, F.now);
		else
			ikev1_input(x->e[0], &a, &b, buf, len, F.now);
		if (st->malformed + st->unknown_cookie + st->decrypt_failed == bad) {
			fuzz_accepted++;
			F.accepted[mode]++;
		}
	}
	tick(x);
	F.n = 0;
	return 0;
}

/*
 * At exit: the fixtures go (their keys live in sodium's guarded pages,
 * which the leak checker does not scan, so what they point to would
 * look lost); FUZZ_IKEV1_STATS=1 tells how far each mode got, to judge
 * the reach of the seeds.
 */
__attribute__((destructor)) static void report(void)
{
	if (getenv("FUZZ_IKEV1_STATS") != NULL)
		for (int m = 0; m < 8; m++)
			fprintf(stderr, "mode %d: %lu tried, %lu accepted\n", m, F.tried[m],
			        F.accepted[m]);
	for (int i = 0; i < FX_N; i++)
		teardown(&F.fx[i]);
	free(F.q);
	F.q = NULL;
}

#ifdef FUZZ_IKEV1_SEEDS_MAIN
static void write_seed(const char *dir, int idx, uint8_t mode, const uint8_t *p, size_t len)
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
	fwrite(p, 1, len, f);
	fclose(f);
}

/* The k-th recorded datagram of exchange exch. */
static const struct dgram *rec_find(uint8_t exch, unsigned k)
{
	for (unsigned i = 0; i < F.n_rec; i++)
		if (F.rec[i].len >= V1_HDR_LEN && F.rec[i].buf[18] == exch && k-- == 0)
			return &F.rec[i];
	fprintf(stderr, "no recorded message of exchange %u\n", exch);
	exit(1);
}

/* A recorded quick mode message as a mode 4/6 body: [np][message id][payloads after HASH]. */
static size_t qm_body(struct v1_sa *sa, const struct dgram *d, const uint8_t *iv, uint8_t *out)
{
	static uint8_t plain[IKE_MSG_MAX];
	uint8_t next[V1_BLOCK_MAX];
	size_t clen = d->len - V1_HDR_LEN;
	struct v1_msg m;

	if (v1_decrypt(&sa->keys->sym, iv, d->buf + V1_HDR_LEN, plain, clen, next) != 0 ||
	    v1_msg_parse(V1_PL_HASH, plain, clen, &m) != 0 || m.after_hash == NULL) {
		fprintf(stderr, "recorded quick mode message does not decrypt\n");
		exit(1);
	}
	out[0] = plain[0];
	memcpy(out + 1, d->buf + 20, 4);
	memcpy(out + 5, m.after_hash, (size_t)(m.end - m.after_hash));
	return 5 + (size_t)(m.end - m.after_hash);
}

int main(int argc, char **argv)
{
	static uint8_t body[IKE_MSG_MAX];
	uint8_t iv[V1_BLOCK_MAX];
	size_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	F.rec = calloc(REC_MAX, sizeof(*F.rec));
	if (F.rec == NULL)
		return 1;
	setup(FX_MAIN);
	struct v1_sa *sa = established(F.fx[FX_MAIN].e[1]);
	const struct dgram *qm1 = rec_find(V1_EXCH_QUICK, 0), *qm2 = rec_find(V1_EXCH_QUICK, 1);
	unsigned bs = crypto_alg(sa->encr)->block_len;
	uint32_t qm_id = (uint32_t)qm1->buf[20] << 24 | (uint32_t)qm1->buf[21] << 16 |
	                 (uint32_t)qm1->buf[22] << 8 | qm1->buf[23];

	write_seed(argv[1], 0, 0, rec_find(V1_EXCH_MAIN, 0)->buf, rec_find(V1_EXCH_MAIN, 0)->len);
	if (v1_iv_msgid(sa->prf, sa->keys->iv, bs, qm_id, iv) != 0)
		return 1;
	n = qm_body(sa, qm1, iv, body); /* QM1 to the responder */
	write_seed(argv[1], 1, 4, body, n);
	n = qm_body(sa, qm2, qm1->buf + qm1->len - bs, body); /* QM2, RESPONDER-LIFETIME in it */
	write_seed(argv[1], 2, 6, body, n);
	/* An informational to the initiator: R-U-THERE, then a delete of an unknown ESP SA. */
	{
		struct v1_wr w;

		/* The body: [next payload][message id], then the payloads as v1_wr writes them. */
		v1_wr_init(&w, body, sizeof(body));
		v1_wr_bytes(&w, (const uint8_t[]){ V1_PL_N, 0, 0, 0, 7 }, 5);
		w.np_at = 0; /* the first begin() rewrites body[0], the same value */
		size_t at = v1_wr_begin(&w, V1_PL_N);
		v1_wr_be32(&w, V1_DOI_IPSEC);
		v1_wr_u8(&w, V1_PROTO_ISAKMP);
		v1_wr_u8(&w, 16);
		v1_wr_be16(&w, V1_N_DPD_R_U_THERE);
		v1_wr_bytes(&w, sa->cky_i, 8);
		v1_wr_bytes(&w, sa->cky_r, 8);
		v1_wr_be32(&w, 7); /* sequence number */
		v1_wr_end(&w, at);
		at = v1_wr_begin(&w, V1_PL_D);
		v1_wr_be32(&w, V1_DOI_IPSEC);
		v1_wr_u8(&w, V1_PROTO_ESP);
		v1_wr_u8(&w, 4);
		v1_wr_be16(&w, 1);
		v1_wr_be32(&w, 0xdeadbeef);
		v1_wr_end(&w, at);
		if (w.failed)
			return 1;
		write_seed(argv[1], 3, 7, body, w.len);
	}
	F.n_rec = 0;
	setup(FX_AGGR);
	write_seed(argv[1], 4, 0x08, rec_find(V1_EXCH_AGGR, 0)->buf,
	           rec_find(V1_EXCH_AGGR, 0)->len); /* AM1 */
	write_seed(argv[1], 5, 0x08 | 3, rec_find(V1_EXCH_AGGR, 1)->buf,
	           rec_find(V1_EXCH_AGGR, 1)->len); /* AM2 to the unanswered AM1 */
	free(F.rec);
	F.rec = NULL;
	return 0; /* the fixtures go at exit (report) */
}
#endif
