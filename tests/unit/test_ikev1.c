/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv1 engine: two in-process engines wired back to back through a
 * recording fake of ike_ops. The fake queues every datagram so a test can
 * drop, duplicate or hold messages and put a NAT in the path; it records
 * installed and deleted children (in order, for make-before-break) and the
 * log. Plus known answers for the key derivations and a codec round trip.
 */
#include "unit/testutil.h"

#include <stdarg.h>

#include "config.h"
#include "crypto_mem.h"
#include "ikev1.h"
#include "ikev1_crypto.h"
#include "ikev1_int.h"
#include "ikev1_msg.h"

/* ---- the fake network -------------------------------------------------------------- */

enum { QMAX = 512, CHMAX = 64 };

struct net;

struct side {
	struct net *net;
	int idx;
	struct config *cfg;
	struct ikev1 *e;
	struct ike_status st[4];
	struct ike_child live[CHMAX]; /* installed and not deleted */
	unsigned n_live;
	unsigned installs, deletes;
	uint32_t spi_next;
	char log[1 << 16];
	size_t log_len;
	unsigned keepalives;
};

struct pkt {
	int to;
	struct ike_endpoint src, dst;
	size_t len;
	uint8_t buf[IKE_MSG_MAX + 4];
};

struct net {
	struct side s[2];
	struct pkt *q;
	unsigned n;
	uint64_t now;
	bool nat;         /* side 0 behind a NAT: source NAT_PUB, port + nat_off */
	uint16_t nat_off; /* the NAT's mapping (1000; a new mapping: another value) */
	int drop_to;      /* -1, or drop everything sent to this side */
	bool drop_all;    /* the path is down both ways */
	int drop_nth;     /* drop the n-th datagram sent (1-based), 0: none */
	bool dup;         /* deliver every datagram twice */
	unsigned sent;
	unsigned natd_rfc, natd_draft; /* plain messages carrying NAT-D (20 / 130) */
	char events[1 << 14];          /* "i0:spi d1:spi ..." in order */
	size_t ev_len;
	/* May change a datagram in flight (after the NAT), or drop it (true). */
	void (*mangle)(struct net *n, struct pkt *p);
	bool (*drop_if)(struct net *n, const struct pkt *p);
	unsigned dropped;
	unsigned mangled;
	struct pkt *rec; /* when set: the first REC_MAX datagrams sent, as sent */
	unsigned n_rec;
};

enum { REC_MAX = 32 };

static const uint8_t NAT_PUB[4] = { 203, 0, 113, 9 };
static const uint8_t A_ADDR[4] = { 192, 0, 2, 1 };

static void ev(struct net *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int k = vsnprintf(n->events + n->ev_len, sizeof(n->events) - n->ev_len, fmt, ap);
	va_end(ap);
	if (k > 0 && (size_t)k < sizeof(n->events) - n->ev_len)
		n->ev_len += (size_t)k;
}

/* Counts NAT-D payloads of each kind in an unencrypted message. */
static void count_natd(struct net *n, const uint8_t *buf, size_t len, uint16_t local_port)
{
	size_t off = local_port == IKE_NATT_PORT ? 4 : 0;

	if (len < off + 28 || (buf[off + 19] & V1_FLAG_E))
		return;
	uint8_t np = buf[off + 16];
	size_t at = off + 28;
	while (np != 0 && at + 4 <= len) {
		size_t pl = (size_t)buf[at + 2] << 8 | buf[at + 3];

		if (np == V1_PL_NATD)
			n->natd_rfc++;
		if (np == V1_PL_NATD_DRAFT)
			n->natd_draft++;
		if (pl < 4)
			break;
		np = buf[at];
		at += pl;
	}
}

static void f_send(void *ctx, const struct ike_endpoint *local, const struct ike_endpoint *remote,
                   const uint8_t *buf, size_t len)
{
	struct side *s = ctx;
	struct net *n = s->net;
	struct pkt *p;

	if (len == 1 && buf[0] == 0xff) {
		s->keepalives++;
		return;
	}
	n->sent++;
	count_natd(n, buf, len, local->port);
	if (n->drop_nth != 0 && n->sent == (unsigned)n->drop_nth)
		return;
	if (n->drop_to == 1 - s->idx || n->drop_all)
		return;
	for (int copy = 0; copy < (n->dup ? 2 : 1); copy++) {
		ck_assert_uint_lt(n->n, QMAX);
		p = &n->q[n->n++];
		p->to = 1 - s->idx;
		p->src = *local;
		p->dst = *remote;
		if (n->nat && s->idx == 0) {
			memcpy(p->src.addr, NAT_PUB, 4);
			p->src.port = (uint16_t)(local->port + n->nat_off);
		}
		if (n->nat && s->idx == 1) {
			ck_assert_mem_eq(p->dst.addr, NAT_PUB, 4);
			/* The NAT forwards only what its current mapping covers. */
			if (remote->port != 500 + n->nat_off && remote->port != 4500 + n->nat_off) {
				n->n--;
				return;
			}
			memcpy(p->dst.addr, A_ADDR, 4);
			p->dst.port = (uint16_t)(remote->port - n->nat_off);
		}
		ck_assert_uint_le(len, sizeof(p->buf));
		memcpy(p->buf, buf, len);
		p->len = len;
		if (n->rec != NULL && copy == 0 && n->n_rec < REC_MAX)
			n->rec[n->n_rec++] = *p;
		if (n->mangle != NULL)
			n->mangle(n, p);
		if (n->drop_if != NULL && n->drop_if(n, p)) {
			n->dropped++;
			n->n--;
		}
	}
}

static uint32_t f_spi(void *ctx, uint32_t conn)
{
	struct side *s = ctx;

	(void)conn;
	return s->spi_next++;
}

static int f_install(void *ctx, const struct ike_child *c)
{
	struct side *s = ctx;

	ck_assert_uint_lt(s->n_live, CHMAX);
	s->live[s->n_live++] = *c;
	s->installs++;
	ev(s->net, "i%d:%08x ", s->idx, c->spi_in);
	return 0;
}

static void f_delete(void *ctx, uint32_t conn, uint32_t spi_in)
{
	struct side *s = ctx;

	(void)conn;
	for (unsigned i = 0; i < s->n_live; i++) {
		if (s->live[i].spi_in == spi_in) {
			s->live[i] = s->live[--s->n_live];
			s->deletes++;
			ev(s->net, "d%d:%08x ", s->idx, spi_in);
			return;
		}
	}
}

static void f_outbound(void *ctx, uint32_t conn, uint32_t spi_in)
{
	struct side *s = ctx;

	(void)conn;
	ev(s->net, "o%d:%08x ", s->idx, spi_in);
}

static void f_log(void *ctx, enum ike_log_level level, uint32_t conn, const char *msg)
{
	struct side *s = ctx;
	int k = snprintf(s->log + s->log_len, sizeof(s->log) - s->log_len, "%s\n", msg);

	(void)level;
	(void)conn;
	if (k > 0 && (size_t)k < sizeof(s->log) - s->log_len)
		s->log_len += (size_t)k;
	if (getenv("IKEV1_TEST_LOG"))
		fprintf(stderr, "[%c] %s\n", 'A' + s->idx, msg);
}

/* ---- configs ---------------------------------------------------------------------------- */

struct tcfg {
	const char *addr;  /* our public address */
	const char *peer;  /* customer gateway */
	const char *lan;   /* private port address */
	const char *local; /* local_subnets list body */
	const char *remote;
	bool immediate;
	const char *psk;
	const char *mode;
	const char *enc, *integ, *dh;
	unsigned ike_life;
	const char *remote_id; /* NULL: default */
	const char *local_id;  /* NULL: default (our address) */
	const char *esp_enc, *esp_integ, *pfs;
	unsigned esp_life;
	unsigned long esp_life_bytes; /* ipsec.lifetime_bytes; 0: none */
};

static struct tcfg cfg_a(void)
{
	return (struct tcfg){ .addr = "198.51.100.1",
		              .peer = "198.51.100.2",
		              .lan = "10.1.0.1/16",
		              .local = "10.1.0.0/16",
		              .remote = "10.2.0.0/16",
		              .immediate = true,
		              .psk = "s3cret",
		              .mode = "main",
		              .enc = "aes",
		              .integ = "sha1",
		              .dh = "group2",
		              .ike_life = 28800,
		              .remote_id = NULL,
		              .esp_enc = "aes",
		              .esp_integ = "sha1",
		              .pfs = "group2",
		              .esp_life = 3600 };
}

static struct tcfg cfg_b(void)
{
	struct tcfg t = cfg_a();

	t.addr = "198.51.100.2";
	t.peer = "198.51.100.1";
	t.lan = "10.2.0.1/16";
	t.local = "10.2.0.0/16";
	t.remote = "10.1.0.0/16";
	t.immediate = false;
	return t;
}

static struct config *load(const struct tcfg *t)
{
	char y[4096], rid[256] = "", err[512];
	struct config *cfg = NULL;

	if (t->remote_id != NULL || t->local_id != NULL)
		snprintf(rid, sizeof(rid), "%s%s%s%s%s%s",
		         t->remote_id != NULL ? "      remote_id: \"" : "",
		         t->remote_id != NULL ? t->remote_id : "",
		         t->remote_id != NULL ? "\"\n" : "",
		         t->local_id != NULL ? "      local_id: \"" : "",
		         t->local_id != NULL ? t->local_id : "", t->local_id != NULL ? "\"\n" : "");
	snprintf(y, sizeof(y),
	         "gateway:\n"
	         "  name: gw\n"
	         "  ports:\n"
	         "    - {name: wan, device: d0, role: public, address: %s/%s}\n"
	         "    - {name: lan, device: d1, role: private, address: %s}\n"
	         "customer_gateways:\n"
	         "  - {name: peer, address: %s}\n"
	         "connections:\n"
	         "  - name: c1\n"
	         "    customer_gateway: peer\n"
	         "    local_subnets: [%s]\n"
	         "    remote_subnets: [%s]\n"
	         "    effect_immediately: %s\n"
	         "    psk: \"%s\"\n"
	         "    ike:\n"
	         "      version: ikev1\n"
	         "      mode: %s\n"
	         "      encryption: %s\n"
	         "      integrity: %s\n"
	         "      dh_group: %s\n"
	         "      lifetime: %u\n"
	         "%s"
	         "    ipsec:\n"
	         "      encryption: %s\n"
	         "      integrity: %s\n"
	         "      pfs: %s\n"
	         "      lifetime: %u\n"
	         "      lifetime_bytes: %lu\n"
	         "    dpd: true\n"
	         "    nat_traversal: true\n",
	         t->addr, strchr(t->addr, ':') ? "64" : "24", t->lan, t->peer, t->local, t->remote,
	         t->immediate ? "true" : "false", t->psk, t->mode, t->enc, t->integ, t->dh,
	         t->ike_life, rid, t->esp_enc, t->esp_integ, t->pfs, t->esp_life,
	         t->esp_life_bytes);
	ck_assert_msg(config_load_string(y, strlen(y), "test.yaml", &cfg, err, sizeof(err)) == 0,
	              "config: %s", err);
	return cfg;
}

static struct net *net_new(const struct tcfg *ta, const struct tcfg *tb)
{
	struct net *n = calloc(1, sizeof(*n));
	const struct tcfg *t[2] = { ta, tb };

	ck_assert_ptr_nonnull(n);
	n->q = calloc(QMAX, sizeof(*n->q));
	ck_assert_ptr_nonnull(n->q);
	n->drop_to = -1;
	n->nat_off = 1000;
	n->now = 1000000;
	if (getenv("IKEV1_TEST_LOG"))
		fprintf(stderr, "=== new pair ===\n");
	for (int i = 0; i < 2; i++) {
		struct side *s = &n->s[i];
		struct ike_ops ops = { .ctx = s,
			               .send = f_send,
			               .spi_alloc = f_spi,
			               .child_install = f_install,
			               .child_delete = f_delete,
			               .child_outbound = f_outbound,
			               .log = f_log };
		struct ikev1_tunables tun = { .dpd_idle_ms = 10000,
			                      .keepalive_ms = 20000,
			                      .retransmit_tries = 5,
			                      .retransmit_base_ms = 1000,
			                      .restart_delay_ms = 5000,
			                      .no_jitter = true };

		s->net = n;
		s->idx = i;
		s->spi_next = i == 0 ? 0xa0000001u : 0xb0000001u;
		s->cfg = load(t[i]);
		s->e = ikev1_new(s->cfg, &ops, s->st, n->now);
		ck_assert_ptr_nonnull(s->e);
		ikev1_tune(s->e, &tun);
	}
	return n;
}

static void net_free(struct net *n)
{
	for (int i = 0; i < 2; i++) {
		ikev1_free(n->s[i].e);
		config_free(n->s[i].cfg);
	}
	free(n->rec);
	free(n->q);
	free(n);
}

static void net_record(struct net *n)
{
	n->rec = calloc(REC_MAX, sizeof(*n->rec));
	ck_assert_ptr_nonnull(n->rec);
}

/* The k-th recorded datagram (0-based) sent to side `to`, or NULL. */
static struct pkt *recorded(struct net *n, int to, unsigned k)
{
	for (unsigned i = 0; i < n->n_rec; i++)
		if (n->rec[i].to == to && k-- == 0)
			return &n->rec[i];
	return NULL;
}

/* The SA payload of a plain message on port 500, parsed. */
static void pkt_sa(const struct pkt *p, struct v1_proposal *prop)
{
	struct v1_hdr h;
	struct v1_msg m;

	ck_assert_int_eq(v1_hdr_parse(p->buf, p->len, &h), 0);
	ck_assert_int_eq(v1_msg_parse(h.np, p->buf + V1_HDR_LEN, p->len - V1_HDR_LEN, &m), 0);
	ck_assert_ptr_nonnull(m.sa.p);
	ck_assert_int_eq(v1_sa_parse(&m.sa, prop), 0);
}

/*
 * Rewrites the value of attribute type in the first transform of the SA
 * payload of a plain message (TV form, as vpngw writes short values).
 */
static bool pkt_set_attr(struct pkt *p, uint16_t type, uint16_t value)
{
	struct v1_proposal *prop = malloc(sizeof(*prop));
	bool done = false;

	ck_assert_ptr_nonnull(prop);
	pkt_sa(p, prop);
	size_t at = (size_t)(prop->t[0].raw - p->buf) + 4; /* number, id, reserved */
	size_t end = (size_t)(prop->t[0].raw - p->buf) + prop->t[0].raw_len;
	while (at + 4 <= end && !done) {
		uint16_t t = (uint16_t)(p->buf[at] << 8 | p->buf[at + 1]);

		if (t == (0x8000 | type)) {
			put_be16(p->buf + at + 2, value);
			done = true;
		}
		at += (t & 0x8000) ? 4 : 4 + (size_t)(p->buf[at + 2] << 8 | p->buf[at + 3]);
	}
	free(prop);
	return done;
}

/* Delivers queued datagrams (and what they cause) until the network is quiet. */
static void deliver(struct net *n)
{
	for (unsigned rounds = 0; n->n > 0; rounds++) {
		struct pkt *p = malloc(sizeof(*p));

		ck_assert_uint_lt(rounds, 10000);
		ck_assert_ptr_nonnull(p);
		*p = n->q[0];
		memmove(&n->q[0], &n->q[1], (n->n - 1) * sizeof(*n->q));
		n->n--;
		ikev1_input(n->s[p->to].e, &p->dst, &p->src, p->buf, p->len, n->now);
		free(p);
	}
}

/* Time passes in steps; both engines tick; the network delivers. */
static void advance(struct net *n, uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t += 250) {
		n->now += 250;
		ikev1_tick(n->s[0].e, n->now);
		ikev1_tick(n->s[1].e, n->now);
		deliver(n);
	}
}

/* Both sides: DPD out of the way, quick retransmits (tries x base), quick restarts. */
static void tune_fast(struct net *n, unsigned tries, unsigned base_ms, unsigned restart_ms)
{
	struct ikev1_tunables tun = { .dpd_idle_ms = 100000000,
		                      .keepalive_ms = 20000,
		                      .retransmit_tries = tries,
		                      .retransmit_base_ms = base_ms,
		                      .restart_delay_ms = restart_ms,
		                      .no_jitter = true };

	ikev1_tune(n->s[0].e, &tun);
	ikev1_tune(n->s[1].e, &tun);
}

static void start(struct net *n)
{
	ikev1_start(n->s[0].e, n->now);
	ikev1_start(n->s[1].e, n->now);
	deliver(n);
}

/* Every child of side 0 has its mirror on side 1: SPIs, keys, selectors crosswise. */
static void check_crosswise(struct net *n, unsigned want)
{
	struct side *a = &n->s[0], *b = &n->s[1];

	ck_assert_uint_eq(a->n_live, want);
	ck_assert_uint_eq(b->n_live, want);
	for (unsigned i = 0; i < a->n_live; i++) {
		const struct ike_child *x = &a->live[i], *y = NULL;

		for (unsigned j = 0; j < b->n_live; j++)
			if (b->live[j].spi_in == x->spi_out)
				y = &b->live[j];
		ck_assert_ptr_nonnull(y);
		ck_assert_uint_eq(y->spi_out, x->spi_in);
		ck_assert_int_eq(x->encr, y->encr);
		ck_assert_int_eq(x->integ, y->integ);
		size_t kl = (size_t)x->enc_key_len + x->auth_key_len;
		ck_assert_uint_gt(kl, 0);
		ck_assert_uint_eq(x->enc_key_len, y->enc_key_len);
		ck_assert_mem_eq(x->key_out, y->key_in, kl);
		ck_assert_mem_eq(x->key_in, y->key_out, kl);
		/* Two directions never share a key. */
		ck_assert(memcmp(x->key_in, x->key_out, kl) != 0);
		ck_assert_uint_eq(x->n_ts_local, 1);
		ck_assert(ts_equal(&x->ts_local[0], &y->ts_remote[0]));
		ck_assert(ts_equal(&x->ts_remote[0], &y->ts_local[0]));
		ck_assert_int_eq(x->udp_encap, y->udp_encap);
	}
}

static void check_up(struct net *n, unsigned children)
{
	ck_assert_str_eq(ike_state_name(n->s[0].st[0].state), "phase2 succeeded");
	ck_assert_str_eq(ike_state_name(n->s[1].st[0].state), "phase2 succeeded");
	ck_assert_int_eq(n->s[0].st[0].cause, IKE_CAUSE_NONE);
	check_crosswise(n, children);
	ck_assert_uint_eq(ikev1_stats(n->s[0].e)->isakmp_sas, 1);
	ck_assert_uint_eq(ikev1_stats(n->s[1].e)->isakmp_sas, 1);
}

static struct net *fail_case(struct tcfg *a, struct tcfg *b, uint64_t ms)
{
	struct net *n = net_new(a, b);

	start(n);
	advance(n, ms);
	return n;
}

static void expect_cause(struct side *s, enum ike_cause c, const char *evidence)
{
	ck_assert_msg(s->st[0].failures[c] > 0, "side %d: no %s (cause now %s, evidence '%s')",
	              s->idx, ike_cause_code(c), ike_cause_code(s->st[0].cause), s->st[0].evidence);
	if (evidence != NULL && s->st[0].cause == c)
		ck_assert_msg(strstr(s->st[0].evidence, evidence) != NULL,
		              "evidence '%s' lacks '%s'", s->st[0].evidence, evidence);
}

/* ---- known answers ---------------------------------------------------------------------- */

/*
 * Expected bytes from python3 (hmac, hashlib), independent of this code:
 *   prf = lambda k, d: hmac.new(k, d, hashlib.sha1).digest()
 *   psk=b"secret"; ni=b"\x01"*16; nr=b"\x02"*16; gxy=b"\x03"*128
 *   ci=b"\x11"*8; cr=b"\x22"*8
 *   skeyid=prf(psk, ni+nr); d=prf(skeyid, gxy+ci+cr+b"\0")
 *   a=prf(skeyid, d+gxy+ci+cr+b"\1"); e=prf(skeyid, a+gxy+ci+cr+b"\2")
 *   k1=prf(e, b"\0"); k2=prf(e, k1); enc=(k1+k2)[:32]          # appendix B
 *   iv=sha1(b"\x04"*128 + b"\x05"*128)[:16]                     # phase 1 IV
 *   iv2=sha1(iv + bytes([1,2,3,4]))[:16]                         # M-ID 0x01020304
 *   seed=b"\x06"*128 + b"\x03" + bytes([0xa0,0,0,1]) + ni + nr   # PFS KEYMAT
 *   K1=prf(d, seed); K2=prf(d, K1+seed); km=(K1+K2)[:36]
 *   the same without g(qm)^xy: km2
 */
START_TEST(test_kat_derivations)
{
	uint8_t ni[16], nr[16], gxy[128], ci[8], cr[8], gxi[128], gxr[128], gqm[128];
	uint8_t enc[32], iv[16], iv2[16], km[36], spi[4] = { 0xa0, 0, 0, 1 };
	struct crypto_ikev1_keys k;

	ck_assert_int_eq(crypto_init(), 0);
	memset(ni, 1, 16);
	memset(nr, 2, 16);
	memset(gxy, 3, 128);
	memset(ci, 0x11, 8);
	memset(cr, 0x22, 8);
	memset(gxi, 4, 128);
	memset(gxr, 5, 128);
	memset(gqm, 6, 128);
	ck_assert_int_eq(crypto_ikev1_skeyid_psk(CRYPTO_PRF_HMAC_SHA1, (const uint8_t *)"secret", 6,
	                                         ni, 16, nr, 16, gxy, 128, ci, cr, &k),
	                 0);
	ck_assert_mem_eq_hex(k.skeyid, "92b6caa0bdb1d0bd245d23dfa53311036dc3b9c0");
	ck_assert_mem_eq_hex(k.skeyid_d, "22de380827afcbac91496da028b1eec5f82ecd02");
	ck_assert_mem_eq_hex(k.skeyid_a, "3b60dd9c44dca62929f20e52102bb21932c2f81d");
	ck_assert_mem_eq_hex(k.skeyid_e, "2e68800088d4f92f88f10945f00e2ea987e0c6c0");
	ck_assert_int_eq(crypto_ikev1_enc_key(CRYPTO_PRF_HMAC_SHA1, &k, enc, 32), 0);
	ck_assert_mem_eq_hex(enc,
	                     "9431e61e6cf9b2940af8b542d9e40bcff77ecad4304a0a9b0db7acd3d9dce731");
	ck_assert_int_eq(v1_iv_phase1(CRYPTO_PRF_HMAC_SHA1, gxi, 128, gxr, 128, 16, iv), 0);
	ck_assert_mem_eq_hex(iv, "c7d13555e7838730562d59385afe0b00");
	ck_assert_int_eq(v1_iv_msgid(CRYPTO_PRF_HMAC_SHA1, iv, 16, 0x01020304, iv2), 0);
	ck_assert_mem_eq_hex(iv2, "edc4609567f0c5b5b46057bbb3ffbf04");
	ck_assert_int_eq(v1_keymat(CRYPTO_PRF_HMAC_SHA1, k.skeyid_d, 20, gqm, 128, 3, spi, ni, 16,
	                           nr, 16, km, 36),
	                 0);
	ck_assert_mem_eq_hex(km, "15bf2b0b72b0ac4fb31ca5d54b3b3e8352428a9da8ec1d192e7a7d838025b597"
	                         "46726253");
	ck_assert_int_eq(v1_keymat(CRYPTO_PRF_HMAC_SHA1, k.skeyid_d, 20, NULL, 0, 3, spi, ni, 16,
	                           nr, 16, km, 36),
	                 0);
	ck_assert_mem_eq_hex(km, "949d69dcb6008de33485c17792898700a0fe3b985ea5b79932c97c1b3ee54790"
	                         "9e15e9dd");
	crypto_wipe(&k, sizeof(k));
}
END_TEST

/* CBC chaining and RFC 2409 padding: decrypt gives back the bytes, the IV moves on. */
START_TEST(test_encrypt_chain)
{
	struct crypto_sym s;
	uint8_t key[16], iv[16], iv0[16], buf[64], plain[64], next[16];
	size_t len;

	ck_assert_int_eq(crypto_init(), 0);
	memset(key, 7, sizeof(key));
	memset(iv, 9, sizeof(iv));
	memcpy(iv0, iv, 16);
	ck_assert_int_eq(
	        crypto_sym_init(&s, CRYPTO_ENCR_AES128_CBC, key, 16, CRYPTO_INTEG_NONE, NULL, 0),
	        0);
	for (int i = 0; i < 20; i++)
		buf[i] = (uint8_t)i;
	ck_assert_int_eq(v1_encrypt(&s, iv, buf, 20, sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, 32);
	ck_assert_mem_eq(iv, buf + 16, 16); /* next IV: the last cipher block */
	ck_assert_int_eq(v1_decrypt(&s, iv0, buf, plain, len, next), 0);
	for (int i = 0; i < 20; i++)
		ck_assert_uint_eq(plain[i], i);
	ck_assert_uint_eq(plain[31], 11); /* 12 bytes of padding, the last says 11 */
	ck_assert_mem_eq(next, iv, 16);
	/* A whole block still gets padding (a full block of it). */
	ck_assert_int_eq(v1_encrypt(&s, iv, buf, 16, sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, 32);
	ck_assert_int_eq(v1_decrypt(&s, iv0, buf, plain, 17, next), -1);
	crypto_sym_wipe(&s);
}
END_TEST

START_TEST(test_codec_roundtrip)
{
	uint8_t buf[512], ci[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, cr[8] = { 0 };
	struct v1_wr w;
	struct v1_hdr h;
	struct v1_msg m;
	struct v1_notify nt;

	v1_wr_init(&w, buf, sizeof(buf));
	v1_wr_hdr(&w, ci, cr, V1_EXCH_INFO, 0, 77);
	v1_wr_payload(&w, V1_PL_VID, "0123456789abcdef", 16);
	size_t s = v1_wr_begin(&w, V1_PL_N);
	v1_wr_be32(&w, V1_DOI_IPSEC);
	v1_wr_u8(&w, 1);
	v1_wr_u8(&w, 0);
	v1_wr_be16(&w, V1_N_INITIAL_CONTACT);
	v1_wr_end(&w, s);
	size_t len = v1_wr_finish(&w);
	ck_assert_uint_eq(len, 28 + 20 + 12);
	ck_assert_int_eq(v1_hdr_parse(buf, len, &h), 0);
	ck_assert_uint_eq(h.msgid, 77);
	ck_assert_uint_eq(h.np, V1_PL_VID);
	ck_assert_int_eq(v1_msg_parse(h.np, buf + 28, len - 28, &m), 0);
	ck_assert_uint_eq(m.n_vid, 1);
	ck_assert_uint_eq(m.n_n, 1);
	ck_assert_int_eq(v1_notify_parse(&m.n[0], &nt), 0);
	ck_assert_uint_eq(nt.type, V1_N_INITIAL_CONTACT);
	/* A payload that claims more than is there. */
	buf[28 + 20 + 3] = 200;
	ck_assert_int_eq(v1_msg_parse(h.np, buf + 28, len - 28, &m), -1);
	/* A header length beyond the datagram, and a writer out of room. */
	ck_assert_int_eq(v1_hdr_parse(buf, 27, &h), -1);
	v1_wr_init(&w, buf, 30);
	v1_wr_hdr(&w, ci, cr, V1_EXCH_INFO, 0, 0);
	v1_wr_payload(&w, V1_PL_VID, "0123456789abcdef", 16);
	ck_assert_uint_eq(v1_wr_finish(&w), 0);
}
END_TEST

/* Appends an attribute to a transform built by hand. */
static void t_attr(struct v1_transform *t, uint16_t type, uint32_t v)
{
	t->attr[t->n_attr++] = (struct v1_attr){ type, v };
}

/* ---- whole exchanges -------------------------------------------------------------------- */

static void happy(const char *mode, const char *enc, const char *integ, const char *dh,
                  const char *esp_enc, const char *esp_integ, const char *pfs,
                  enum crypto_alg_id want_encr)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.mode = b.mode = mode;
	a.enc = b.enc = enc;
	a.integ = b.integ = integ;
	a.dh = b.dh = dh;
	a.esp_enc = b.esp_enc = esp_enc;
	a.esp_integ = b.esp_integ = esp_integ;
	a.pfs = b.pfs = pfs;
	struct net *n = net_new(&a, &b);
	start(n);
	if (strcmp(mode, "aggressive") == 0) {
		/* Quick mode follows AM3 after a short head start. */
		ck_assert_uint_eq(n->s[0].n_live, 0);
		advance(n, 250);
	}
	check_up(n, 1);
	ck_assert_int_eq(n->s[0].live[0].encr, want_encr);
	ck_assert(!n->s[0].live[0].udp_encap);
	ck_assert_uint_eq(n->s[0].live[0].local.port, 500);
	ck_assert_uint_eq(n->s[0].st[0].ike_sa_up, 1);
	ck_assert_uint_eq(n->s[1].st[0].child_sa_up, 1);
	ck_assert_uint_eq(ikev1_stats(n->s[1].e)->half_open, 0);
	net_free(n);
}

START_TEST(test_main_aes_sha1_modp1024_pfs)
{
	happy("main", "aes", "sha1", "group2", "aes", "sha1", "group2", CRYPTO_ENCR_AES128_CBC);
}
END_TEST

START_TEST(test_main_aes256_sha256_modp2048_nopfs)
{
	happy("main", "aes256", "sha256", "group14", "aes256", "sha256", "disabled",
	      CRYPTO_ENCR_AES256_CBC);
}
END_TEST

START_TEST(test_main_3des_md5_modp1024)
{
	happy("main", "3des", "md5", "group2", "3des", "md5", "group2", CRYPTO_ENCR_3DES_CBC);
}
END_TEST

START_TEST(test_main_esp_aes_gcm)
{
	happy("main", "aes", "sha256", "group14", "aes-gcm-128", "none", "group14",
	      CRYPTO_ENCR_AES128_GCM16);
}
END_TEST

START_TEST(test_aggressive_aes_sha1_modp1024_pfs)
{
	happy("aggressive", "aes", "sha1", "group2", "aes", "sha1", "group2",
	      CRYPTO_ENCR_AES128_CBC);
}
END_TEST

START_TEST(test_aggressive_aes256_sha256_modp2048_nopfs)
{
	happy("aggressive", "aes256", "sha256", "group14", "aes256", "sha256", "disabled",
	      CRYPTO_ENCR_AES256_CBC);
}
END_TEST

/*
 * The catalogue, main mode and quick mode with PFS in the same group:
 * every phase 1 encryption and hash twice, every DH group once, every
 * ESP encryption (IKEv1 has no ChaCha20) and integrity at least once.
 */
static const struct {
	const char *enc, *hash, *dh, *esp_enc, *esp_integ;
	enum crypto_alg_id p1_encr, p1_prf, group, encr, integ;
} catalogue[] = {
	{ "aes", "md5", "group1", "aes", "md5", CRYPTO_ENCR_AES128_CBC, CRYPTO_PRF_HMAC_MD5,
	  CRYPTO_DH_MODP768, CRYPTO_ENCR_AES128_CBC, CRYPTO_INTEG_HMAC_MD5_96 },
	{ "aes192", "sha1", "group2", "aes192", "sha1", CRYPTO_ENCR_AES192_CBC,
	  CRYPTO_PRF_HMAC_SHA1, CRYPTO_DH_MODP1024, CRYPTO_ENCR_AES192_CBC,
	  CRYPTO_INTEG_HMAC_SHA1_96 },
	{ "aes256", "sha256", "group5", "aes256", "sha256", CRYPTO_ENCR_AES256_CBC,
	  CRYPTO_PRF_HMAC_SHA256, CRYPTO_DH_MODP1536, CRYPTO_ENCR_AES256_CBC,
	  CRYPTO_INTEG_HMAC_SHA256_128 },
	{ "des", "sha384", "group14", "des", "sha384", CRYPTO_ENCR_DES_CBC, CRYPTO_PRF_HMAC_SHA384,
	  CRYPTO_DH_MODP2048, CRYPTO_ENCR_DES_CBC, CRYPTO_INTEG_HMAC_SHA384_192 },
	{ "3des", "sha512", "group15", "3des", "sha512", CRYPTO_ENCR_3DES_CBC,
	  CRYPTO_PRF_HMAC_SHA512, CRYPTO_DH_MODP3072, CRYPTO_ENCR_3DES_CBC,
	  CRYPTO_INTEG_HMAC_SHA512_256 },
	{ "aes", "sha256", "group16", "aes-gcm-128", "none", CRYPTO_ENCR_AES128_CBC,
	  CRYPTO_PRF_HMAC_SHA256, CRYPTO_DH_MODP4096, CRYPTO_ENCR_AES128_GCM16, CRYPTO_INTEG_NONE },
	{ "aes192", "sha512", "group19", "aes-gcm-192", "none", CRYPTO_ENCR_AES192_CBC,
	  CRYPTO_PRF_HMAC_SHA512, CRYPTO_DH_ECP256, CRYPTO_ENCR_AES192_GCM16, CRYPTO_INTEG_NONE },
	{ "aes256", "sha384", "group20", "aes-gcm-256", "none", CRYPTO_ENCR_AES256_CBC,
	  CRYPTO_PRF_HMAC_SHA384, CRYPTO_DH_ECP384, CRYPTO_ENCR_AES256_GCM16, CRYPTO_INTEG_NONE },
	{ "des", "md5", "group21", "null", "sha256", CRYPTO_ENCR_DES_CBC, CRYPTO_PRF_HMAC_MD5,
	  CRYPTO_DH_ECP521, CRYPTO_ENCR_NULL, CRYPTO_INTEG_HMAC_SHA256_128 },
	{ "3des", "sha1", "group31", "3des", "md5", CRYPTO_ENCR_3DES_CBC, CRYPTO_PRF_HMAC_SHA1,
	  CRYPTO_DH_CURVE25519, CRYPTO_ENCR_3DES_CBC, CRYPTO_INTEG_HMAC_MD5_96 },
};

START_TEST(test_catalogue_main_mode_pfs)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.enc = b.enc = catalogue[_i].enc;
	a.integ = b.integ = catalogue[_i].hash;
	a.dh = b.dh = a.pfs = b.pfs = catalogue[_i].dh;
	a.esp_enc = b.esp_enc = catalogue[_i].esp_enc;
	a.esp_integ = b.esp_integ = catalogue[_i].esp_integ;
	struct net *n = net_new(&a, &b);
	start(n);
	check_up(n, 1);
	for (int i = 0; i < 2; i++) {
		const struct v1_sa *sa = n->s[i].e->conns[0].sa;
		const struct ike_child *c = &n->s[i].live[0];

		ck_assert_int_eq(sa->encr, catalogue[_i].p1_encr);
		ck_assert_int_eq(sa->prf, catalogue[_i].p1_prf);
		ck_assert_int_eq(sa->group, catalogue[_i].group);
		ck_assert_int_eq(c->encr, catalogue[_i].encr);
		ck_assert_int_eq(c->integ, catalogue[_i].integ);
		ck_assert_uint_eq(c->enc_key_len, crypto_alg(catalogue[_i].encr)->key_len);
		ck_assert_uint_eq(c->auth_key_len, crypto_alg(catalogue[_i].integ)->key_len);
	}
	ck_assert_ptr_nonnull(strstr(n->s[0].log, crypto_alg(catalogue[_i].group)->name));
	ck_assert_ptr_nonnull(strstr(n->s[0].log, ", pfs "));
	net_free(n);
}
END_TEST

/* FQDN and user@FQDN identities, both modes; the FQDN compared without regard to case. */
static void named_ids(const char *mode)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.mode = b.mode = mode;
	a.local_id = "gw-a.example.net";
	b.remote_id = "GW-A.Example.NET";
	b.local_id = "vpn@b.example.net";
	a.remote_id = "vpn@b.example.net";
	struct net *n = net_new(&a, &b);
	start(n);
	advance(n, 500);
	check_up(n, 1);
	ck_assert_uint_eq(n->s[0].e->conns[0].sa->id_b[0], IKE_ID_FQDN);
	ck_assert_uint_eq(n->s[1].e->conns[0].sa->id_b[0], IKE_ID_USER_FQDN);
	net_free(n);
	/* A user@FQDN must match exactly: the user part is not a host name. */
	a.remote_id = "VPN@b.example.net";
	n = fail_case(&a, &b, 1000);
	expect_cause(&n->s[0], IKE_CAUSE_ID_MISMATCH,
	             "does not match to user_fqdn:VPN@b.example.net");
	net_free(n);
}

START_TEST(test_fqdn_ids_main)
{
	named_ids("main");
}
END_TEST

START_TEST(test_fqdn_ids_aggressive)
{
	named_ids("aggressive");
}
END_TEST

START_TEST(test_main_ecp_and_lists)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	/* Lists: the responder picks the first of the initiator's it allows. */
	a.enc = "[aes256, aes]";
	a.integ = "[sha512, sha1]";
	a.dh = "[group19, group14]";
	b.enc = "aes";
	b.integ = "sha1";
	b.dh = "group14";
	a.esp_enc = "[aes192, aes]";
	b.esp_enc = "aes";
	a.pfs = b.pfs = "group19";
	struct net *n = net_new(&a, &b);
	start(n);
	check_up(n, 1);
	ck_assert_int_eq(n->s[1].live[0].encr, CRYPTO_ENCR_AES128_CBC);
	net_free(n);
}
END_TEST

START_TEST(test_responder_lifetime)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.esp_life = 7200; /* B keeps IPsec SAs for 3600 s and says so */
	struct net *n = net_new(&a, &b);
	start(n);
	check_up(n, 1);
	ck_assert_uint_eq(n->s[0].live[0].lifetime_s, 3600);
	ck_assert_uint_eq(n->s[1].live[0].lifetime_s, 3600);
	net_free(n);
}
END_TEST

START_TEST(test_lifetimes_in_any_order)
{
	struct v1_transform t;
	uint32_t secs, kb;

	memset(&t, 0, sizeof(t));
	t_attr(&t, V1_Q_LIFE_TYPE, V1_LIFE_KB);
	t_attr(&t, V1_Q_LIFE_DUR, 1000);
	t_attr(&t, V1_Q_LIFE_TYPE, V1_LIFE_SECONDS);
	t_attr(&t, V1_Q_LIFE_DUR, 3600);
	v1_lifetimes(&t, V1_Q_LIFE_TYPE, V1_Q_LIFE_DUR, &secs, &kb);
	ck_assert_uint_eq(secs, 3600);
	ck_assert_uint_eq(kb, 1000);
	/* Seconds first, then kilobytes; a repeated type keeps the smaller. */
	memset(&t, 0, sizeof(t));
	t_attr(&t, V1_Q_LIFE_TYPE, V1_LIFE_SECONDS);
	t_attr(&t, V1_Q_LIFE_DUR, 3600);
	t_attr(&t, V1_Q_ENCAP, V1_ENCAP_TUNNEL);
	t_attr(&t, V1_Q_LIFE_TYPE, V1_LIFE_KB);
	t_attr(&t, V1_Q_LIFE_DUR, 1000);
	t_attr(&t, V1_Q_LIFE_TYPE, V1_LIFE_SECONDS);
	t_attr(&t, V1_Q_LIFE_DUR, 600);
	v1_lifetimes(&t, V1_Q_LIFE_TYPE, V1_Q_LIFE_DUR, &secs, &kb);
	ck_assert_uint_eq(secs, 600);
	ck_assert_uint_eq(kb, 1000);
	/* A duration with no type before it is no lifetime. */
	memset(&t, 0, sizeof(t));
	t_attr(&t, V1_Q_LIFE_DUR, 99);
	v1_lifetimes(&t, V1_Q_LIFE_TYPE, V1_Q_LIFE_DUR, &secs, &kb);
	ck_assert_uint_eq(secs, 0);
	ck_assert_uint_eq(kb, 0);
	/* Phase 1: kilobytes before seconds no longer hide the seconds. */
	memset(&t, 0, sizeof(t));
	t.id = V1_KEY_IKE;
	t_attr(&t, V1_A_ENC, 7);
	t_attr(&t, V1_A_HASH, 2);
	t_attr(&t, V1_A_AUTH, V1_AUTH_PSK);
	t_attr(&t, V1_A_GROUP, 2);
	t_attr(&t, V1_A_LIFE_TYPE, V1_LIFE_KB);
	t_attr(&t, V1_A_LIFE_DUR, 50000);
	t_attr(&t, V1_A_LIFE_TYPE, V1_LIFE_SECONDS);
	t_attr(&t, V1_A_LIFE_DUR, 7200);
	struct v1_p1_choice c;
	ck_assert(v1_p1_decode(&t, &c));
	ck_assert_uint_eq(c.life, 7200);
	ck_assert_uint_eq(c.life_kb, 50000);
	/* RESPONDER-LIFETIME data: TV kilobytes, an 8-byte TLV duration saturates. */
	const uint8_t rl[] = { 0x80, 0x01, 0x00, 0x02, 0x00, 0x02, 0x00, 0x08, 0,    0,
		               0,    1,    0,    0,    0,    0,    0x80, 0x01, 0x00, 0x01,
		               0x00, 0x02, 0x00, 0x04, 0x00, 0x01, 0x51, 0x80 };
	ck_assert_int_eq(v1_responder_lifetime(rl, sizeof(rl), &secs, &kb), 0);
	ck_assert_uint_eq(kb, UINT32_MAX);
	ck_assert_uint_eq(secs, 86400);
	ck_assert_int_eq(v1_responder_lifetime(rl, sizeof(rl) - 1, &secs, &kb), -1);
}
END_TEST

START_TEST(test_esp_kilobyte_lifetime_honoured)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.esp_life = 1800; /* shorter than B's 3600: B takes it, though after the kilobytes */
	a.esp_life_bytes = 4096ul * 1024; /* proposed as 4096 kB; B has no byte limit */
	struct net *n = net_new(&a, &b);
	start(n);
	check_up(n, 1);
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(n->s[i].live[0].lifetime_s, 1800);
		ck_assert_uint_eq(n->s[i].live[0].lifetime_bytes, 4096ull * 1024);
	}
	/* A rekey asks for them again. */
	ikev1_child_expired(n->s[0].e, 0, n->s[0].live[0].spi_in, false, n->now);
	deliver(n);
	ck_assert_uint_eq(n->s[1].st[0].child_sa_up, 2);
	for (unsigned i = 0; i < n->s[1].n_live; i++)
		ck_assert_uint_eq(n->s[1].live[i].lifetime_bytes, 4096ull * 1024);
	net_free(n);
}
END_TEST

/*
 * The quick mode responder installs its pair at QM2 (the initiator may
 * send on it as soon as it has QM2) but sends on it only after QM3: until
 * then the initiator may not have it. The initiator sends at once.
 */
START_TEST(test_responder_sends_on_a_new_pair_after_qm3)
{
	struct tcfg a = cfg_a(), b = cfg_b();
	struct net *n = net_new(&a, &b);
	char i1[16], o1[16];

	start(n);
	check_up(n, 1);
	for (int rekey = 0; rekey < 2; rekey++) {
		uint32_t old = n->s[0].live[n->s[0].n_live - 1].spi_in;

		n->events[0] = '\0';
		n->ev_len = 0;
		ikev1_child_expired(n->s[0].e, 0, old, false, n->now);
		deliver(n);
		const struct ike_child *c = &n->s[1].live[n->s[1].n_live - 1];

		ck_assert(c->outbound_later);
		ck_assert(!n->s[0].live[n->s[0].n_live - 1].outbound_later);
		snprintf(i1, sizeof(i1), "i1:%08x ", c->spi_in);
		snprintf(o1, sizeof(o1), "o1:%08x ", c->spi_in);
		const char *pi = strstr(n->events, i1), *po = strstr(n->events, o1);

		ck_assert_msg(pi != NULL && po != NULL && pi < po, "events: %s", n->events);
		ck_assert_ptr_null(strstr(n->events, "o0:"));
	}
	net_free(n);
}
END_TEST

/* The responder's own byte limit reaches the initiator in RESPONDER-LIFETIME. */
START_TEST(test_esp_kilobyte_lifetime_of_the_responder)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	b.esp_life_bytes = 100000; /* 97 kB, rounded down; A has no byte limit */
	struct net *n = net_new(&a, &b);
	start(n);
	check_up(n, 1);
	for (int i = 0; i < 2; i++)
		ck_assert_uint_eq(n->s[i].live[0].lifetime_bytes, 97ull * 1024);
	net_free(n);
}
END_TEST

START_TEST(test_ipv6_outer_and_inner)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.addr = "2001:db8::1";
	a.peer = b.addr = "2001:db8::2";
	b.peer = "2001:db8::1";
	a.lan = "fd01::1/64";
	b.lan = "fd02::1/64";
	a.local = b.remote = "fd01::/64";
	a.remote = b.local = "fd02::/64";
	struct net *n = net_new(&a, &b);
	start(n);
	check_up(n, 1);
	ck_assert_uint_eq(n->s[0].live[0].ts_local[0].family, TS_IPV6);
	ck_assert_uint_eq(n->s[0].live[0].remote.family, TS_IPV6);
	net_free(n);
}
END_TEST

START_TEST(test_two_remote_subnets_two_pairs)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.remote = "10.2.0.0/24, 10.3.0.0/24";
	b.local = "10.2.0.0/24, 10.3.0.0/24";
	b.lan = "10.2.0.1/16";
	struct net *n = net_new(&a, &b);
	start(n);
	check_up(n, 2);
	ck_assert(!ts_equal(&n->s[0].live[0].ts_remote[0], &n->s[0].live[1].ts_remote[0]));
	net_free(n);
}
END_TEST

START_TEST(test_twenty_pairs_more_than_slots)
{
	struct tcfg a = cfg_a(), b = cfg_b();
	const char *loc = "10.1.0.0/24, 10.1.1.0/24, 10.1.2.0/24, 10.1.3.0/24, 10.1.4.0/24";
	const char *rem = "10.2.0.0/24, 10.2.1.0/24, 10.2.2.0/24, 10.2.3.0/24";

	a.local = b.remote = loc;
	a.remote = b.local = rem;
	struct net *n = net_new(&a, &b);
	start(n);
	advance(n, 1000);
	check_up(n, 20);
	net_free(n);
}
END_TEST

START_TEST(test_both_sides_initiate)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	b.immediate = true;
	struct net *n = net_new(&a, &b);
	start(n);
	advance(n, 20000);
	ck_assert_str_eq(ike_state_name(n->s[0].st[0].state), "phase2 succeeded");
	ck_assert_str_eq(ike_state_name(n->s[1].st[0].state), "phase2 succeeded");
	ck_assert_uint_ge(n->s[0].n_live, 1);
	check_crosswise(n, n->s[0].n_live);
	/* Still fine once DPD has run a few times over whatever ISAKMP SA was kept. */
	advance(n, 60000);
	ck_assert_uint_eq(ikev1_stats(n->s[0].e)->dead_peers, 0);
	ck_assert_uint_eq(ikev1_stats(n->s[1].e)->dead_peers, 0);
	check_crosswise(n, n->s[0].n_live);
	net_free(n);
}
END_TEST

START_TEST(test_lost_messages_retransmitted)
{
	/* Lose each of the first messages in turn: MM1..MM6, QM1..QM3. */
	for (int lost = 1; lost <= 9; lost++) {
		struct tcfg a = cfg_a(), b = cfg_b();
		struct net *n = net_new(&a, &b);

		n->drop_nth = lost;
		start(n);
		advance(n, 5000);
		check_up(n, 1);
		ck_assert_msg(
		        strstr(n->s[0].log, "sending retransmit 1 of request message ID") ||
		                strstr(n->s[1].log, "sending retransmit 1 of request message ID"),
		        "no retransmit logged for lost message %d", lost);
		net_free(n);
	}
}
END_TEST

START_TEST(test_aggressive_lost_messages)
{
	/* AM1, AM2, AM3 (the quick mode then overtakes phase 1), QM1..QM3. */
	for (int lost = 1; lost <= 6; lost++) {
		struct tcfg a = cfg_a(), b = cfg_b();

		a.mode = b.mode = "aggressive";
		struct net *n = net_new(&a, &b);
		n->drop_nth = lost;
		start(n);
		advance(n, 8000);
		check_up(n, 1);
		net_free(n);
	}
}
END_TEST

START_TEST(test_unknown_peer_counted)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	b.peer = "198.51.100.77"; /* B knows no gateway at A's address */
	struct net *n = net_new(&a, &b);
	start(n);
	ck_assert_uint_ge(ikev1_stats(n->s[1].e)->unknown_peer, 1);
	ck_assert_uint_eq(n->s[1].n_live, 0);
	ck_assert_str_eq(ike_state_name(n->s[0].st[0].state), "phase1 negotiating");
	net_free(n);
}
END_TEST

START_TEST(test_responder_installs_at_qm2_and_removes_unconfirmed)
{
	struct tcfg a = cfg_a(), b = cfg_b();
	struct net *n = net_new(&a, &b);

	n->drop_nth = 8; /* QM2: MM1..MM6, QM1, then QM2 */
	start(n);
	/* B installed at QM2 already: the initiator may send on it once it has QM2. */
	ck_assert_uint_eq(n->s[1].n_live, 1);
	ck_assert_uint_eq(n->s[1].live[0].spi_in, 0xb0000001u);
	ck_assert_uint_eq(n->s[0].n_live, 0);
	n->drop_to = 0; /* and A never hears from B again: QM3 never comes */
	advance(n, 60000);
	/* That pair is gone (A's later retries may have made new ones, equally unconfirmed). */
	for (unsigned i = 0; i < n->s[1].n_live; i++)
		ck_assert_uint_ne(n->s[1].live[i].spi_in, 0xb0000001u);
	ck_assert_uint_ge(n->s[1].deletes, 1);
	ck_assert(strstr(n->s[1].log, "giving up"));
	net_free(n);
}
END_TEST

START_TEST(test_duplicated_messages)
{
	struct tcfg a = cfg_a(), b = cfg_b();
	struct net *n = net_new(&a, &b);

	n->dup = true;
	start(n);
	advance(n, 2000);
	check_up(n, 1);
	ck_assert_uint_gt(ikev1_stats(n->s[1].e)->resp_resent + ikev1_stats(n->s[0].e)->resp_resent,
	                  0);
	ck_assert_uint_eq(n->s[0].installs, 1);
	ck_assert_uint_eq(n->s[1].installs, 1);
	net_free(n);
}
END_TEST

START_TEST(test_fail_psk_mismatch)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	b.psk = "other";
	struct net *n = fail_case(&a, &b, 1000);
	expect_cause(&n->s[0], IKE_CAUSE_PSK_MISMATCH, "decryption failed?");
	expect_cause(&n->s[1], IKE_CAUSE_PSK_MISMATCH, "decryption failed?");
	ck_assert_str_eq(ike_state_name(n->s[0].st[0].state), "phase1 failed");
	ck_assert_uint_eq(n->s[0].n_live, 0);
	/* Retries keep the failure on show; the responder holds no half-open SA. */
	advance(n, 7000);
	ck_assert_str_eq(ike_state_name(n->s[0].st[0].state), "phase1 failed");
	ck_assert_int_eq(n->s[0].st[0].cause, IKE_CAUSE_PSK_MISMATCH);
	ck_assert_uint_ge(n->s[0].st[0].failures[IKE_CAUSE_PSK_MISMATCH], 2);
	ck_assert_uint_eq(ikev1_stats(n->s[1].e)->half_open, 0);
	net_free(n);
}
END_TEST

START_TEST(test_fail_psk_mismatch_aggressive)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.mode = b.mode = "aggressive";
	b.psk = "other";
	struct net *n = fail_case(&a, &b, 1000);
	expect_cause(&n->s[0], IKE_CAUSE_PSK_MISMATCH, NULL);
	net_free(n);
}
END_TEST

START_TEST(test_fail_mode_mismatch)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	b.mode = "aggressive";
	struct net *n = fail_case(&a, &b, 1000);
	expect_cause(&n->s[1], IKE_CAUSE_MODE_MISMATCH, "peer initiated main mode");
	expect_cause(&n->s[0], IKE_CAUSE_MODE_MISMATCH, NULL);
	net_free(n);
}
END_TEST

START_TEST(test_fail_mode_mismatch_aggressive_to_main)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.mode = "aggressive";
	struct net *n = fail_case(&a, &b, 1000);
	expect_cause(&n->s[1], IKE_CAUSE_MODE_MISMATCH, "peer initiated aggressive mode");
	expect_cause(&n->s[0], IKE_CAUSE_MODE_MISMATCH, "INVALID_EXCHANGE_TYPE");
	net_free(n);
}
END_TEST

START_TEST(test_fail_dh_group_mismatch_aggressive)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.mode = b.mode = "aggressive";
	a.dh = "group14";
	struct net *n = fail_case(&a, &b, 1000);
	expect_cause(&n->s[1], IKE_CAUSE_DH_GROUP_MISMATCH, "peer offers group14, we allow group2");
	net_free(n);
}
END_TEST

START_TEST(test_fail_id_mismatch)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	b.remote_id = "gw.example.net";
	struct net *n = fail_case(&a, &b, 1000);
	expect_cause(&n->s[1], IKE_CAUSE_ID_MISMATCH,
	             "IDii ipv4:198.51.100.1 does not match to fqdn:gw.example.net");
	expect_cause(&n->s[0], IKE_CAUSE_ID_MISMATCH, NULL);
	net_free(n);
}
END_TEST

START_TEST(test_fail_proposal_mismatch)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.enc = "aes256";
	struct net *n = fail_case(&a, &b, 1000);
	expect_cause(&n->s[1], IKE_CAUSE_PROPOSAL_MISMATCH,
	             "no acceptable encryption: peer offers aes256, we allow aes");
	expect_cause(&n->s[0], IKE_CAUSE_PROPOSAL_MISMATCH, NULL);
	net_free(n);
}
END_TEST

START_TEST(test_fail_dh_group_mismatch)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.dh = "group14";
	struct net *n = fail_case(&a, &b, 1000);
	expect_cause(&n->s[1], IKE_CAUSE_DH_GROUP_MISMATCH, "peer offers group14, we allow group2");
	ck_assert_uint_gt(n->s[0].st[0].failures[IKE_CAUSE_PROPOSAL_MISMATCH], 0);
	net_free(n);
}
END_TEST

START_TEST(test_fail_ts_mismatch)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	b.remote = "10.9.0.0/16";
	struct net *n = fail_case(&a, &b, 1000);
	expect_cause(&n->s[1], IKE_CAUSE_TS_MISMATCH, "INVALID_ID_INFORMATION");
	expect_cause(&n->s[0], IKE_CAUSE_TS_MISMATCH, "INVALID_ID_INFORMATION");
	ck_assert_str_eq(ike_state_name(n->s[0].st[0].state), "phase2 failed");
	net_free(n);
}
END_TEST

START_TEST(test_fail_pfs_mismatch)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	b.pfs = "disabled";
	struct net *n = fail_case(&a, &b, 1000);
	expect_cause(&n->s[1], IKE_CAUSE_PFS_MISMATCH, "pfs: peer uses group2");
	ck_assert_uint_gt(n->s[0].st[0].failures[IKE_CAUSE_PROPOSAL_MISMATCH], 0);
	net_free(n);
}
END_TEST

START_TEST(test_fail_esp_proposal_mismatch)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.esp_integ = "sha256";
	struct net *n = fail_case(&a, &b, 1000);
	expect_cause(&n->s[1], IKE_CAUSE_PROPOSAL_MISMATCH,
	             "no acceptable integrity: peer offers sha256, we allow sha1");
	net_free(n);
}
END_TEST

START_TEST(test_fail_peer_not_responding)
{
	struct tcfg a = cfg_a(), b = cfg_b();
	struct net *n = net_new(&a, &b);

	n->drop_to = 1;
	start(n);
	advance(n, 70000);
	expect_cause(&n->s[0], IKE_CAUSE_PEER_NOT_RESPONDING,
	             "sending retransmit 5 of request message ID 0, seq 1");
	ck_assert(strstr(n->s[0].log, "sending retransmit 5 of request message ID 0, seq 1"));
	net_free(n);
}
END_TEST

/* ---- diagnoses ------------------------------------------------------------------------------ */

static void mangle_mm1_auth_rsa(struct net *n, struct pkt *p)
{
	if (p->to == 1 && n->mangled == 0) {
		ck_assert(pkt_set_attr(p, V1_A_AUTH, 3));
		n->mangled++;
	}
}

START_TEST(test_diag_phase1_auth_method_not_psk)
{
	struct tcfg a = cfg_a(), b = cfg_b();
	struct net *n = net_new(&a, &b);

	n->mangle = mangle_mm1_auth_rsa; /* A offers RSA signatures */
	start(n);
	expect_cause(&n->s[1], IKE_CAUSE_PROPOSAL_MISMATCH,
	             "no acceptable transform: peer offers auth method RSA signatures (3), we "
	             "allow pre-shared key");
	ck_assert_ptr_null(strstr(n->s[1].st[0].evidence, "offers ,"));
	ck_assert_ptr_nonnull(strstr(n->s[1].st[0].remedy, "pre-shared key authentication"));
	expect_cause(&n->s[0], IKE_CAUSE_PROPOSAL_MISMATCH, "NO_PROPOSAL_CHOSEN");
	net_free(n);
}
END_TEST

START_TEST(test_diag_phase1_names_skipped_transforms)
{
	struct tcfg b = cfg_b();
	struct config *cfg = load(&b);
	struct v1_proposal *p = calloc(1, sizeof(*p));
	struct v1_p1_choice ch;
	enum ike_cause cause;
	const char *remedy;
	unsigned idx;
	char why[IKE_EVIDENCE_MAX];

	ck_assert_ptr_nonnull(p);
	p->proto = V1_PROTO_ISAKMP;
	p->n_t = 3;
	for (unsigned i = 0; i < 3; i++) {
		struct v1_transform *t = &p->t[i];

		t->id = V1_KEY_IKE;
		t_attr(t, V1_A_ENC, 7);
		t_attr(t, V1_A_KEY_LEN, 128);
		t_attr(t, V1_A_HASH, i == 2 ? 4 : 2); /* the last: sha256, we allow sha1 */
		t_attr(t, V1_A_AUTH, i == 0 ? 65001 : i == 1 ? 3 : 1);
		t_attr(t, V1_A_GROUP, 2);
	}
	ck_assert_int_eq(v1_p1_choose(&cfg->connections[0].ike, p, &ch, &idx, &cause, &remedy, why,
	                              sizeof(why)),
	                 -1);
	ck_assert_int_eq(cause, IKE_CAUSE_PROPOSAL_MISMATCH);
	ck_assert_str_eq(why,
	                 "no acceptable integrity: peer offers sha256, we allow sha1 (skipped: "
	                 "auth method XAUTH with pre-shared key (65001))");
	/* Nothing but an algorithm we do not know. */
	p->n_t = 1;
	p->t[0].attr[0].value = 65010;
	ck_assert_int_eq(v1_p1_choose(&cfg->connections[0].ike, p, &ch, &idx, &cause, &remedy, why,
	                              sizeof(why)),
	                 -1);
	ck_assert_ptr_null(strstr(why, "offers ,"));
	ck_assert_ptr_nonnull(strstr(why, "auth method XAUTH"));
	p->t[0].attr[3].value = 1; /* PSK now: the unknown encryption is named */
	ck_assert_int_eq(v1_p1_choose(&cfg->connections[0].ike, p, &ch, &idx, &cause, &remedy, why,
	                              sizeof(why)),
	                 -1);
	ck_assert_str_eq(why, "no acceptable transform: peer offers encryption 65010 (key length "
	                      "128), we allow the algorithms of our catalogue");
	ck_assert_ptr_null(remedy);
	free(p);
	config_free(cfg);
}
END_TEST

START_TEST(test_diag_esp_transport_mode)
{
	struct tcfg b = cfg_b();
	struct config *cfg = load(&b);
	struct v1_proposal *p = calloc(1, sizeof(*p));
	struct v1_esp_choice ch;
	enum ike_cause cause;
	const char *remedy;
	unsigned idx;
	char why[IKE_EVIDENCE_MAX];

	ck_assert_ptr_nonnull(p);
	p->proto = V1_PROTO_ESP;
	p->spi_len = 4;
	p->n_t = 1;
	p->t[0].id = 12; /* AES-CBC: what we allow, but in transport mode */
	t_attr(&p->t[0], V1_Q_LIFE_TYPE, V1_LIFE_SECONDS);
	t_attr(&p->t[0], V1_Q_LIFE_DUR, 3600);
	t_attr(&p->t[0], V1_Q_GROUP, 2);
	t_attr(&p->t[0], V1_Q_ENCAP, 2);
	t_attr(&p->t[0], V1_Q_AUTH, 2);
	t_attr(&p->t[0], V1_Q_KEY_LEN, 128);
	ck_assert_int_eq(v1_esp_choose(&cfg->connections[0].ipsec, p, true, &ch, &idx, &cause,
	                               &remedy, why, sizeof(why)),
	                 -1);
	ck_assert_int_eq(cause, IKE_CAUSE_PROPOSAL_MISMATCH);
	ck_assert_str_eq(why, "no acceptable ESP transform: peer offers encapsulation mode "
	                      "transport (2), we allow tunnel mode");
	ck_assert_ptr_nonnull(remedy);
	ck_assert_ptr_nonnull(strstr(remedy, "tunnel mode"));
	/* The same in tunnel mode with an integrity we do not allow: that is what is named. */
	p->t[0].attr[3].value = V1_ENCAP_TUNNEL;
	p->t[0].attr[4].value = 5; /* sha256 */
	ck_assert_int_eq(v1_esp_choose(&cfg->connections[0].ipsec, p, true, &ch, &idx, &cause,
	                               &remedy, why, sizeof(why)),
	                 -1);
	ck_assert_str_eq(why, "no acceptable integrity: peer offers sha256, we allow sha1");
	free(p);
	config_free(cfg);
}
END_TEST

/* A plain informational with one ISAKMP notify, as if from sa's peer, into side `to`. */
static void inject_plain_notify(struct net *n, int to, const struct v1_sa *sa, uint16_t type)
{
	uint8_t buf[128], cr[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	struct v1_wr w;

	v1_wr_init(&w, buf, sizeof(buf));
	v1_wr_hdr(&w, sa->cky_i, cr, V1_EXCH_INFO, 0, 0);
	size_t at = v1_wr_begin(&w, V1_PL_N);
	v1_wr_be32(&w, V1_DOI_IPSEC);
	v1_wr_u8(&w, V1_PROTO_ISAKMP);
	v1_wr_u8(&w, 0);
	v1_wr_be16(&w, type);
	v1_wr_end(&w, at);
	size_t len = v1_wr_finish(&w);
	ck_assert_uint_gt(len, 0);
	ikev1_input(n->s[to].e, &sa->local, &sa->remote, buf, len, n->now);
}

START_TEST(test_diag_auth_failed_to_aggressive_first_message)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.mode = b.mode = "aggressive";
	struct net *n = net_new(&a, &b);
	n->drop_to = 1;
	start(n);
	/* The peer answers AM1 with a bare AUTHENTICATION_FAILED (strongSwan does so both
	 * when it refuses aggressive mode and when it has no connection for our ID). */
	inject_plain_notify(n, 0, n->s[0].e->conns[0].neg, V1_N_AUTHENTICATION_FAILED);
	expect_cause(
	        &n->s[0], IKE_CAUSE_PEER_REJECTED,
	        "peer sent AUTHENTICATION_FAILED to our aggressive mode AM1: it accepts neither "
	        "our ID ipv4:198.51.100.1 nor aggressive mode");
	ck_assert_uint_eq(n->s[0].st[0].failures[IKE_CAUSE_MODE_MISMATCH], 0);
	ck_assert_ptr_nonnull(strstr(n->s[0].st[0].remedy, "allow aggressive mode"));
	net_free(n);
}
END_TEST

static bool drop_mm5(struct net *n, const struct pkt *p)
{
	(void)n;
	return p->to == 1 && p->buf[18] == V1_EXCH_MAIN && (p->buf[19] & V1_FLAG_E);
}

START_TEST(test_diag_auth_failed_after_mm5)
{
	struct tcfg a = cfg_a(), b = cfg_b();
	struct net *n = net_new(&a, &b);
	struct v1_sa *sa_b = NULL;

	n->drop_if = drop_mm5;
	start(n);
	ck_assert_uint_eq(n->dropped, 1);
	const struct v1_sa *sa_a = n->s[0].e->conns[0].neg;
	ck_assert_int_eq(sa_a->st, P1_I_MM5);
	for (struct v1_sa *o = n->s[1].e->all; o != NULL; o = o->anext)
		if (o->st == P1_R_MM4)
			sa_b = o;
	ck_assert_ptr_nonnull(sa_b);
	/*
	 * B refuses A after reading MM5, under the phase 1 keys (as strongSwan does
	 * when no connection has A's ID): its IV chain went on with MM5, as A's did.
	 */
	memcpy(sa_b->keys->iv, sa_a->keys->iv, sizeof(sa_b->keys->iv));
	v1_info_notify(n->s[1].e, sa_b, V1_PROTO_ISAKMP, NULL, 0, V1_N_AUTHENTICATION_FAILED, NULL,
	               0);
	n->drop_if = NULL;
	deliver(n);
	expect_cause(
	        &n->s[0], IKE_CAUSE_PEER_REJECTED,
	        "peer sent AUTHENTICATION_FAILED to our MM5 (under the shared keys, so the PSK "
	        "matches): it accepts neither our ID ipv4:198.51.100.1 nor main mode");
	ck_assert_uint_eq(n->s[0].st[0].failures[IKE_CAUSE_ID_MISMATCH], 0);
	ck_assert_uint_eq(n->s[0].st[0].failures[IKE_CAUSE_PSK_MISMATCH], 0);
	ck_assert_ptr_nonnull(strstr(n->s[0].st[0].remedy, "local_id ipv4:198.51.100.1"));
	net_free(n);
}
END_TEST

START_TEST(test_fail_ts_mismatch_aggressive)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.mode = b.mode = "aggressive";
	b.remote = "10.9.0.0/16";
	struct net *n = fail_case(&a, &b, 1000);
	expect_cause(&n->s[1], IKE_CAUSE_TS_MISMATCH, "INVALID_ID_INFORMATION");
	expect_cause(&n->s[0], IKE_CAUSE_TS_MISMATCH, "INVALID_ID_INFORMATION");
	ck_assert_str_eq(ike_state_name(n->s[0].st[0].state), "phase2 failed");
	net_free(n);
}
END_TEST

/* ---- the responder's choice (RFC 2408 4.2) ------------------------------------------------- */

START_TEST(test_responder_echoes_transform_unchanged)
{
	struct tcfg a = cfg_a(), b = cfg_b();
	struct v1_proposal *offer = malloc(sizeof(*offer)), *answer = malloc(sizeof(*answer));

	ck_assert_ptr_nonnull(offer);
	ck_assert_ptr_nonnull(answer);
	a.ike_life = 28800;
	b.ike_life = 3600; /* B keeps its ISAKMP SA for less, but says nothing in MM2 */
	struct net *n = net_new(&a, &b);
	net_record(n);
	start(n);
	check_up(n, 1);
	pkt_sa(recorded(n, 1, 0), offer);  /* MM1 */
	pkt_sa(recorded(n, 0, 0), answer); /* MM2 */
	ck_assert_uint_eq(answer->n_t, 1);
	ck_assert_uint_eq(answer->t[0].raw_len, offer->t[0].raw_len);
	ck_assert_mem_eq(answer->t[0].raw, offer->t[0].raw, offer->t[0].raw_len);
	ck_assert_uint_eq(v1_attr_get(&answer->t[0], V1_A_LIFE_DUR, 0), 28800);
	/* Each side keeps the lifetime it has: A what it offered, B its own shorter one. */
	ck_assert_uint_eq(n->s[0].e->conns[0].sa->lifetime_s, 28800);
	ck_assert_uint_eq(n->s[1].e->conns[0].sa->lifetime_s, 3600);
	free(offer);
	free(answer);
	net_free(n);
}
END_TEST

static uint16_t mangle_type, mangle_value;

/* Changes one attribute of the transform in MM2 (the first message to side 0). */
static void mangle_mm2(struct net *n, struct pkt *p)
{
	if (p->to == 0 && n->mangled == 0) {
		ck_assert(pkt_set_attr(p, mangle_type, mangle_value));
		n->mangled++;
	}
}

static void changed_transform_case(uint16_t type, uint16_t value, const char *evidence)
{
	struct tcfg a = cfg_a(), b = cfg_b();
	struct net *n = net_new(&a, &b);

	mangle_type = type;
	mangle_value = value;
	n->mangle = mangle_mm2;
	start(n);
	ck_assert_uint_eq(n->mangled, 1);
	expect_cause(&n->s[0], IKE_CAUSE_PROPOSAL_MISMATCH, evidence);
	ck_assert_str_eq(ike_state_name(n->s[0].st[0].state), "phase1 failed");
	ck_assert_uint_eq(n->s[0].n_live, 0);
	net_free(n);
}

START_TEST(test_initiator_refuses_changed_lifetime)
{
	changed_transform_case(V1_A_LIFE_DUR, 3600,
	                       "peer changed the transform it chose: life duration 3600, we "
	                       "offered 28800");
}
END_TEST

START_TEST(test_initiator_refuses_transform_not_offered)
{
	/* 3des (5) instead of the aes (7) we offered. */
	changed_transform_case(V1_A_ENC, 5, "encryption 5, we offered 7");
}
END_TEST

/* ---- lifetimes ---------------------------------------------------------------------------- */

START_TEST(test_rekey_ipsec_make_before_break)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.esp_life = b.esp_life = 100;
	struct net *n = net_new(&a, &b);
	start(n);
	check_up(n, 1);
	uint32_t old_a = n->s[0].live[0].spi_in, old_b = n->s[1].live[0].spi_in;
	n->ev_len = 0;
	n->events[0] = '\0';
	char d0[32], d1[32], i0[32], i1[32];
	snprintf(d0, sizeof(d0), "d0:%08x", old_a);
	snprintf(d1, sizeof(d1), "d1:%08x", old_b);
	advance(n, 91000); /* rekeyed at 90 s */
	/* Both pairs on both sides: the old inbound SAs still take ESP sent before the switch. */
	check_crosswise(n, 2);
	ck_assert_ptr_null(strstr(n->events, d0));
	ck_assert_ptr_null(strstr(n->events, d1));
	advance(n, 3500);
	check_crosswise(n, 2);
	/* After the grace A, which rekeyed, deletes the old pair and tells B. */
	advance(n, 1000);
	check_up(n, 1);
	ck_assert_uint_ne(n->s[0].live[0].spi_in, old_a);
	ck_assert_uint_ne(n->s[1].live[0].spi_in, old_b);
	ck_assert_ptr_nonnull(strstr(n->s[1].log, "peer deleted IPsec SA: removing"));
	/* Each side installed the new pair before it deleted the old one. */
	snprintf(i0, sizeof(i0), "i0:%08x", n->s[0].live[0].spi_in);
	snprintf(i1, sizeof(i1), "i1:%08x", n->s[1].live[0].spi_in);
	ck_assert_ptr_nonnull(strstr(n->events, d0));
	ck_assert_ptr_nonnull(strstr(n->events, d1));
	ck_assert_ptr_nonnull(strstr(n->events, i0));
	ck_assert_ptr_nonnull(strstr(n->events, i1));
	ck_assert(strstr(n->events, i0) < strstr(n->events, d0));
	ck_assert(strstr(n->events, i1) < strstr(n->events, d1));
	ck_assert_uint_eq(n->s[0].st[0].child_sa_up, 2);
	net_free(n);
}
END_TEST

START_TEST(test_rekey_old_inbound_kept_despite_early_peer_delete)
{
	struct tcfg a = cfg_a(), b = cfg_b();
	uint8_t spi[4];

	a.esp_life = b.esp_life = 100;
	struct net *n = net_new(&a, &b);
	start(n);
	check_up(n, 1);
	uint32_t old_a = n->s[0].live[0].spi_in, old_b = n->s[1].live[0].spi_in;
	advance(n, 91000); /* A rekeyed at 90 s */
	/* The peer deletes the old pair at once (as some do right after QM3). */
	put_be32(spi, old_b);
	v1_info_delete(n->s[1].e, n->s[1].e->conns[0].sa, V1_PROTO_ESP, spi, 4);
	deliver(n);
	ck_assert_ptr_nonnull(strstr(n->s[0].log, "kept"));
	advance(n, 3000);
	/* A still receives on the old inbound SA until the grace is over ... */
	bool have = false;
	for (unsigned i = 0; i < n->s[0].n_live; i++)
		have |= n->s[0].live[i].spi_in == old_a;
	ck_assert(have);
	advance(n, 1500);
	for (unsigned i = 0; i < n->s[0].n_live; i++)
		ck_assert_uint_ne(n->s[0].live[i].spi_in, old_a);
	ck_assert_uint_eq(n->s[0].n_live, 1);
	/* ... and sends no Delete of its own for a pair the peer deleted (B kept its half). */
	ck_assert_uint_eq(n->s[1].n_live, 2);
	net_free(n);
}
END_TEST

START_TEST(test_soft_limit_leaves_room_for_retransmits)
{
	struct tcfg a = cfg_a(), b = cfg_b();
	struct net *n = net_new(&a, &b);

	/* no_jitter: 90% when the lifetime is long, else 4 x 1 s before the end, not below 50%. */
	ck_assert_uint_eq(v1_soft_ms(n->s[0].e, 3600000), 3240000);
	ck_assert_uint_eq(v1_soft_ms(n->s[0].e, 20000), 16000);
	ck_assert_uint_eq(v1_soft_ms(n->s[0].e, 6000), 3000);
	net_free(n);
}
END_TEST

START_TEST(test_rekey_isakmp)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.ike_life = b.ike_life = 100;
	struct net *n = net_new(&a, &b);
	start(n);
	check_up(n, 1);
	uint32_t spi = n->s[0].live[0].spi_in;
	advance(n, 92000);
	ck_assert_uint_eq(n->s[0].st[0].ike_sa_up, 2);
	ck_assert_uint_eq(n->s[1].st[0].ike_sa_up, 2);
	/* The old ISAKMP SA went on both sides; the IPsec SA was untouched. */
	check_up(n, 1);
	ck_assert_uint_eq(n->s[0].live[0].spi_in, spi);
	ck_assert_uint_eq(n->s[0].deletes, 0);
	net_free(n);
}
END_TEST

START_TEST(test_rekey_isakmp_retried_after_failed_attempt)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.ike_life = b.ike_life = 200;
	struct net *n = net_new(&a, &b);
	tune_fast(n, 3, 200, 2000);
	start(n);
	check_up(n, 1);
	uint32_t spi = n->s[0].live[0].spi_in;
	advance(n, 178000);
	/* A rekeys at 180 s; everything it sends is lost until 182.5 s: the attempt fails. */
	n->drop_to = 1;
	advance(n, 4500);
	n->drop_to = -1;
	advance(n, 1500);
	ck_assert_ptr_nonnull(strstr(n->s[0].log, "giving up after 3 retransmits"));
	/* Tried again at once, the old SA still valid for 16 s: made it. */
	ck_assert_uint_eq(n->s[0].st[0].ike_sa_up, 2);
	ck_assert_uint_eq(n->s[1].st[0].ike_sa_up, 2);
	advance(n, 30000); /* past the old SA's hard limit */
	check_up(n, 1);
	ck_assert_uint_eq(n->s[0].live[0].spi_in, spi);
	ck_assert_uint_eq(n->s[0].deletes, 0);
	net_free(n);
}
END_TEST

START_TEST(test_rekey_isakmp_by_responder_with_shorter_lifetime)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.ike_life = 28800;
	b.ike_life = 100; /* B, the responder, keeps the ISAKMP SA for 100 s; A would for 8 h */
	struct net *n = net_new(&a, &b);
	start(n);
	check_up(n, 1);
	uint32_t spi = n->s[0].live[0].spi_in;
	advance(n, 94000);
	ck_assert_uint_eq(n->s[1].st[0].ike_sa_up, 1);
	/* Halfway between the soft (90 s) and the hard limit B rekeys it itself. */
	advance(n, 2000);
	ck_assert_ptr_nonnull(strstr(n->s[1].log, "rekeying ISAKMP SA as its responder"));
	ck_assert_uint_eq(n->s[0].st[0].ike_sa_up, 2);
	ck_assert_uint_eq(n->s[1].st[0].ike_sa_up, 2);
	check_up(n, 1); /* the old one deleted on both sides */
	ck_assert_uint_eq(n->s[0].live[0].spi_in, spi);
	/* B started the new SA with its 100 s and rekeys it at its soft limit; and so on. */
	advance(n, 200000);
	ck_assert_uint_ge(n->s[1].st[0].ike_sa_up, 4);
	ck_assert_ptr_null(strstr(n->s[1].log, "ISAKMP SA expired"));
	ck_assert_ptr_null(strstr(n->s[0].log, "ISAKMP SA expired"));
	check_up(n, 1);
	net_free(n);
}
END_TEST

START_TEST(test_children_rekeyed_after_isakmp_sa_lost)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.ike_life = b.ike_life = 100;
	a.esp_life = b.esp_life = 300;
	struct net *n = net_new(&a, &b);
	tune_fast(n, 3, 200, 2000);
	start(n);
	check_up(n, 1);
	uint32_t spi = n->s[0].live[0].spi_in;
	advance(n, 85000);
	/* The path fails for 30 s: every rekey of the ISAKMP SA fails and it expires. */
	n->drop_all = true;
	advance(n, 30000);
	ck_assert_uint_eq(ikev1_stats(n->s[0].e)->isakmp_sas, 0);
	ck_assert_uint_eq(ikev1_stats(n->s[1].e)->isakmp_sas, 0);
	/* The children still carry traffic: the tunnel is up. */
	ck_assert_uint_eq(n->s[0].n_live, 1);
	ck_assert_str_eq(ike_state_name(n->s[0].st[0].state), "phase2 succeeded");
	/* The path is back: a new ISAKMP SA for them. */
	n->drop_all = false;
	advance(n, 10000);
	ck_assert_uint_ge(ikev1_stats(n->s[0].e)->isakmp_sas, 1);
	ck_assert_uint_ge(ikev1_stats(n->s[1].e)->isakmp_sas, 1);
	ck_assert_uint_eq(n->s[0].live[0].spi_in, spi);
	/* ... under which the child is rekeyed at its soft limit (270 s). */
	advance(n, 165000);
	ck_assert_uint_eq(n->s[0].n_live, 1);
	ck_assert_uint_ne(n->s[0].live[0].spi_in, spi);
	ck_assert_uint_eq(n->s[0].st[0].child_sa_up, 2);
	check_crosswise(n, 1);
	ck_assert_str_eq(ike_state_name(n->s[0].st[0].state), "phase2 succeeded");
	net_free(n);
}
END_TEST

static bool drop_first_quick_to_a(struct net *n, const struct pkt *p)
{
	return n->dropped == 0 && p->to == 0 && p->buf[18] == V1_EXCH_QUICK;
}

/* The cookies of the newest quick mode message recorded, to side `to`. */
static bool last_quick_cookies(struct net *n, int to, uint8_t cky[16])
{
	bool found = false;

	for (unsigned i = 0; i < n->n_rec; i++) {
		const struct pkt *p = &n->rec[i];

		if (p->to == to && p->len >= 28 && p->buf[18] == V1_EXCH_QUICK) {
			memcpy(cky, p->buf, 16);
			found = true;
		}
	}
	return found;
}

START_TEST(test_children_rekeyed_under_new_isakmp_sa)
{
	struct tcfg a = cfg_a(), b = cfg_b();
	uint8_t cky[16];

	a.ike_life = b.ike_life = 100;
	a.esp_life = b.esp_life = 150;
	struct net *n = net_new(&a, &b);
	start(n);
	check_up(n, 1);
	uint32_t spi = n->s[0].live[0].spi_in;
	advance(n, 92000); /* the ISAKMP SA was rekeyed at 90 s */
	ck_assert_uint_eq(n->s[0].st[0].ike_sa_up, 2);
	net_record(n);
	advance(n, 50000); /* the child's soft limit: 135 s */
	ck_assert_uint_eq(n->s[0].st[0].child_sa_up, 2);
	ck_assert(last_quick_cookies(n, 1, cky));
	ck_assert_mem_eq(cky, n->s[0].e->conns[0].sa->cky_i, 8);
	ck_assert_mem_eq(cky + 8, n->s[0].e->conns[0].sa->cky_r, 8);
	bool fresh = false;
	for (unsigned i = 0; i < n->s[0].n_live; i++)
		fresh |= n->s[0].live[i].spi_in != spi;
	ck_assert(fresh);
	check_crosswise(n, n->s[0].n_live);
	net_free(n);
}
END_TEST

START_TEST(test_child_rekey_lost_with_old_isakmp_sa_is_redone)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	/* Both soft limits at 90 s: A starts the ISAKMP rekey and the child's quick mode at once.
	 */
	a.ike_life = b.ike_life = 100;
	a.esp_life = b.esp_life = 100;
	struct net *n = net_new(&a, &b);
	start(n);
	check_up(n, 1);
	uint32_t spi = n->s[0].live[0].spi_in;
	advance(n, 89750);
	/* Lose QM2, so the rekey's quick mode is still open when the ISAKMP SA goes. */
	n->drop_if = drop_first_quick_to_a;
	advance(n, 250);
	ck_assert_uint_eq(n->dropped, 1);
	/* The new ISAKMP SA replaced the old one before QM1 was retransmitted. */
	ck_assert_uint_eq(n->s[0].st[0].ike_sa_up, 2);
	ck_assert_uint_eq(n->s[0].st[0].child_sa_up, 1);
	advance(n, 3000);
	/* The pair is rekeyed under the new SA all the same. */
	ck_assert_uint_eq(n->s[0].st[0].child_sa_up, 2);
	advance(n, 10000); /* past the old child's hard limit */
	check_up(n, 1);
	ck_assert_uint_ne(n->s[0].live[0].spi_in, spi);
	net_free(n);
}
END_TEST

START_TEST(test_status_after_last_child_expires_without_isakmp_sa)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.ike_life = b.ike_life = 100;
	a.esp_life = b.esp_life = 120;
	struct net *n = net_new(&a, &b);
	tune_fast(n, 3, 200, 2000);
	start(n);
	check_up(n, 1);
	advance(n, 85000);
	n->drop_all = true; /* for good */
	advance(n, 30000);
	ck_assert_str_eq(ike_state_name(n->s[0].st[0].state), "phase2 succeeded");
	advance(n, 10000); /* the child's hard limit (120 s) has passed */
	ck_assert_uint_eq(n->s[0].n_live, 0);
	ck_assert_uint_eq(n->s[1].n_live, 0);
	/* A wants the tunnel: it keeps trying phase 1, and now says why it fails. */
	advance(n, 10000);
	ck_assert_str_eq(ike_state_name(n->s[0].st[0].state), "phase1 failed");
	ck_assert_int_eq(n->s[0].st[0].cause, IKE_CAUSE_PEER_NOT_RESPONDING);
	/* B only answered: nothing is left of the tunnel on its side. */
	ck_assert_str_ne(ike_state_name(n->s[1].st[0].state), "phase2 succeeded");
	ck_assert_str_ne(ike_state_name(n->s[1].st[0].state), "phase2 negotiating");
	net_free(n);
}
END_TEST

/* ---- liveness and NAT --------------------------------------------------------------------- */

START_TEST(test_dpd_answered)
{
	struct tcfg a = cfg_a(), b = cfg_b();
	struct net *n = net_new(&a, &b);

	start(n);
	advance(n, 60000);
	check_up(n, 1);
	ck_assert_uint_gt(ikev1_stats(n->s[0].e)->dpd_sent, 0);
	ck_assert_uint_eq(ikev1_stats(n->s[0].e)->dead_peers, 0);
	net_free(n);
}
END_TEST

START_TEST(test_dpd_silent_peer_dead)
{
	struct tcfg a = cfg_a(), b = cfg_b();
	struct net *n = net_new(&a, &b);

	start(n);
	check_up(n, 1);
	n->drop_to = 1;
	advance(n, 80000);
	ck_assert_uint_ge(ikev1_stats(n->s[0].e)->dead_peers, 1);
	ck_assert_uint_gt(n->s[0].st[0].failures[IKE_CAUSE_PEER_NOT_RESPONDING], 0);
	ck_assert_uint_eq(n->s[0].n_live, 0);
	ck_assert(strstr(n->s[0].log, "DPD"));
	net_free(n);
}
END_TEST

START_TEST(test_nat_floats_to_4500)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.addr = "192.0.2.1";
	b.peer = "203.0.113.9";
	b.remote_id = "192.0.2.1";
	struct net *n = net_new(&a, &b);
	/* Zeros keep the defaults (keepalive every 20 s), as the host passes them. */
	struct ikev1_tunables zero = { .no_jitter = true };
	ikev1_tune(n->s[0].e, &zero);
	n->nat = true;
	start(n);
	check_up(n, 1);
	ck_assert(n->s[0].live[0].udp_encap);
	ck_assert_uint_eq(n->s[0].live[0].local.port, 4500);
	ck_assert_uint_eq(n->s[0].live[0].remote.port, 4500);
	ck_assert_uint_eq(n->s[1].live[0].local.port, 4500);
	ck_assert_uint_eq(n->s[1].live[0].remote.port, 5500);
	ck_assert_uint_gt(n->natd_rfc, 0);
	ck_assert_uint_eq(n->natd_draft, 0);
	/* Behind the NAT, side A keeps the mapping open. */
	advance(n, 45000);
	ck_assert_uint_ge(n->s[0].keepalives, 2);
	ck_assert_uint_le(n->s[0].keepalives, 3);
	ck_assert_uint_eq(n->s[1].keepalives, 0);
	check_up(n, 1);
	net_free(n);
}
END_TEST

/*
 * The NAT in front of A maps it to a new port: B follows on A's next
 * message (its DPD here) and rekeys the IPsec SAs, whose ESP goes to the
 * old port, so that the new pair sends to the new one; the old pair goes.
 */
START_TEST(test_nat_mapping_change_followed_by_the_ipsec_sas)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.addr = "192.0.2.1";
	b.peer = "203.0.113.9";
	b.remote_id = "192.0.2.1";
	struct net *n = net_new(&a, &b);
	n->nat = true;
	start(n);
	check_up(n, 1);
	ck_assert_uint_eq(n->s[1].live[0].remote.port, 5500);
	n->nat_off = 2000;
	advance(n, 30000); /* A's DPD after 10 s idle arrives from port 6500 */
	ck_assert_uint_ge(n->s[1].installs, 2);
	for (unsigned i = 0; i < n->s[1].n_live; i++)
		ck_assert_uint_eq(n->s[1].live[i].remote.port, 6500);
	ck_assert_uint_ge(n->s[1].deletes, 1);
	ck_assert_msg(strstr(n->s[1].log, "moved") != NULL, "%s", n->s[1].log);
	check_up(n, 1);
	net_free(n);
}
END_TEST

START_TEST(test_nat_aggressive_floats_to_4500)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.mode = b.mode = "aggressive";
	a.addr = "192.0.2.1";
	b.peer = "203.0.113.9";
	b.remote_id = "192.0.2.1";
	struct net *n = net_new(&a, &b);
	n->nat = true;
	start(n);
	advance(n, 250); /* quick mode follows AM3 */
	check_up(n, 1);
	ck_assert(n->s[0].live[0].udp_encap);
	ck_assert(n->s[1].live[0].udp_encap);
	ck_assert_uint_eq(n->s[0].live[0].local.port, 4500);
	ck_assert_uint_eq(n->s[1].live[0].local.port, 4500);
	ck_assert_uint_eq(n->s[1].live[0].remote.port, 5500);
	/* B (not behind the NAT) sees only the peer behind one, and keeps no mapping open. */
	ck_assert_ptr_null(strstr(n->s[1].log, "we are behind a NAT"));
	ck_assert_ptr_nonnull(strstr(n->s[1].log, "the peer is behind a NAT"));
	ck_assert_ptr_nonnull(strstr(n->s[0].log, "we are behind a NAT"));
	ck_assert(!n->s[1].e->conns[0].sa->nat_local);
	ck_assert(n->s[1].e->conns[0].sa->nat_remote);
	advance(n, 45000);
	ck_assert_uint_ge(n->s[0].keepalives, 2);
	ck_assert_uint_eq(n->s[1].keepalives, 0);
	check_up(n, 1);
	net_free(n);
}
END_TEST

START_TEST(test_nat_draft_vendor_ids)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.addr = "192.0.2.1";
	b.peer = "203.0.113.9";
	b.remote_id = "192.0.2.1";
	struct net *n = net_new(&a, &b);
	struct ikev1_tunables tun = { .dpd_idle_ms = 10000,
		                      .keepalive_ms = 20000,
		                      .no_jitter = true,
		                      .natt_draft_only = true };
	ikev1_tune(n->s[0].e, &tun); /* A speaks only the drafts: B follows */
	n->nat = true;
	start(n);
	check_up(n, 1);
	ck_assert(n->s[0].live[0].udp_encap);
	ck_assert(n->s[1].live[0].udp_encap);
	ck_assert_uint_eq(n->s[1].live[0].local.port, 4500);
	ck_assert_uint_gt(n->natd_draft, 0);
	ck_assert_uint_eq(n->natd_rfc, 0);
	net_free(n);
}
END_TEST

START_TEST(test_rekey_isakmp_by_responder_through_nat)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.addr = "192.0.2.1";
	b.peer = "203.0.113.9";
	b.remote_id = "192.0.2.1";
	a.ike_life = 28800;
	b.ike_life = 100;
	struct net *n = net_new(&a, &b);
	n->nat = true;
	start(n);
	check_up(n, 1);
	advance(n, 94000);
	net_record(n);
	/* B rekeys as the responder: A is reachable only through its NAT mapping. */
	advance(n, 2000);
	ck_assert_ptr_nonnull(strstr(n->s[1].log, "rekeying ISAKMP SA as its responder"));
	ck_assert_uint_eq(n->s[0].st[0].ike_sa_up, 2);
	ck_assert_uint_eq(n->s[1].st[0].ike_sa_up, 2);
	const struct pkt *mm1 = NULL;
	for (unsigned i = 0; i < n->n_rec && mm1 == NULL; i++)
		if (n->rec[i].to == 0 && n->rec[i].buf[4 + 18] == V1_EXCH_MAIN)
			mm1 = &n->rec[i];
	ck_assert_ptr_nonnull(mm1);
	ck_assert_uint_eq(mm1->src.port, 4500);
	ck_assert_uint_eq(mm1->dst.port, 4500); /* after the NAT: A's own port */
	check_up(n, 1);
	ck_assert(n->s[1].live[0].udp_encap);
	ck_assert_uint_eq(n->s[1].live[0].remote.port, 5500);
	net_free(n);
}
END_TEST

START_TEST(test_peer_restart_initial_contact)
{
	struct tcfg a = cfg_a(), b = cfg_b();
	struct net *n = net_new(&a, &b);

	start(n);
	check_up(n, 1);
	advance(n, 1000);
	/* Side A restarts with no memory: a new engine, INITIAL-CONTACT in its MM5. */
	struct ike_ops ops = { .ctx = &n->s[0],
		               .send = f_send,
		               .spi_alloc = f_spi,
		               .child_install = f_install,
		               .child_delete = f_delete,
		               .log = f_log };
	struct ikev1_tunables tun = { .dpd_idle_ms = 10000, .no_jitter = true };
	ikev1_free(n->s[0].e);
	n->s[0].n_live = 0;
	n->s[0].e = ikev1_new(n->s[0].cfg, &ops, n->s[0].st, n->now);
	ikev1_tune(n->s[0].e, &tun);
	ikev1_start(n->s[0].e, n->now);
	deliver(n);
	check_up(n, 1);
	ck_assert_uint_eq(n->s[1].deletes, 1);
	net_free(n);
}
END_TEST

START_TEST(test_peer_restart_initial_contact_aggressive)
{
	struct tcfg a = cfg_a(), b = cfg_b();

	a.mode = b.mode = "aggressive";
	struct net *n = net_new(&a, &b);
	start(n);
	advance(n, 1000);
	check_up(n, 1);
	struct ike_ops ops = { .ctx = &n->s[0],
		               .send = f_send,
		               .spi_alloc = f_spi,
		               .child_install = f_install,
		               .child_delete = f_delete,
		               .log = f_log };
	struct ikev1_tunables tun = { .dpd_idle_ms = 10000, .no_jitter = true };
	ikev1_free(n->s[0].e);
	n->s[0].n_live = 0;
	n->s[0].e = ikev1_new(n->s[0].cfg, &ops, n->s[0].st, n->now);
	ikev1_tune(n->s[0].e, &tun);
	ikev1_start(n->s[0].e, n->now);
	deliver(n);
	advance(n, 500);
	check_up(n, 1);
	ck_assert_uint_eq(n->s[1].deletes, 1);
	net_free(n);
}
END_TEST

START_TEST(test_down_deletes_both_sides)
{
	struct tcfg a = cfg_a(), b = cfg_b();
	struct net *n = net_new(&a, &b);

	start(n);
	check_up(n, 1);
	ck_assert_int_eq(ikev1_down(n->s[0].e, 0, n->now), 0);
	deliver(n);
	ck_assert_uint_eq(n->s[0].n_live, 0);
	ck_assert_uint_eq(n->s[1].n_live, 0);
	ck_assert_str_eq(ike_state_name(n->s[0].st[0].state), "down");
	ck_assert_str_eq(ike_state_name(n->s[1].st[0].state), "down");
	struct ike_child_info info[4];
	ck_assert_uint_eq(ikev1_children(n->s[0].e, 0, info, 4), 0);
	ck_assert_uint_eq(ikev1_stats(n->s[1].e)->isakmp_sas, 0);
	net_free(n);
}
END_TEST

START_TEST(test_garbage_is_counted)
{
	struct tcfg a = cfg_a(), b = cfg_b();
	struct net *n = net_new(&a, &b);
	uint8_t junk[64];
	struct ike_endpoint l = { .family = 4, .addr = { 198, 51, 100, 2 }, .port = 500 };
	struct ike_endpoint r = { .family = 4, .addr = { 198, 51, 100, 1 }, .port = 500 };

	memset(junk, 0x41, sizeof(junk));
	ikev1_input(n->s[1].e, &l, &r, junk, sizeof(junk), n->now);
	ikev1_input(n->s[1].e, &l, &r, junk, 10, n->now);
	ck_assert_uint_eq(ikev1_stats(n->s[1].e)->malformed, 2);
	start(n);
	check_up(n, 1);
	net_free(n);
}
END_TEST

static Suite *ikev1_suite(void)
{
	Suite *s = suite_create("ikev1");
	TCase *c = tcase_create("unit");

	tcase_set_timeout(c, 120);
	tcase_add_test(c, test_kat_derivations);
	tcase_add_test(c, test_encrypt_chain);
	tcase_add_test(c, test_codec_roundtrip);
	tcase_add_test(c, test_main_aes_sha1_modp1024_pfs);
	tcase_add_test(c, test_main_aes256_sha256_modp2048_nopfs);
	tcase_add_test(c, test_main_3des_md5_modp1024);
	tcase_add_test(c, test_main_esp_aes_gcm);
	tcase_add_test(c, test_aggressive_aes_sha1_modp1024_pfs);
	tcase_add_test(c, test_aggressive_aes256_sha256_modp2048_nopfs);
	tcase_add_test(c, test_main_ecp_and_lists);
	tcase_add_loop_test(c, test_catalogue_main_mode_pfs, 0, (int)ARRAY_SIZE(catalogue));
	tcase_add_test(c, test_fqdn_ids_main);
	tcase_add_test(c, test_fqdn_ids_aggressive);
	tcase_add_test(c, test_responder_lifetime);
	tcase_add_test(c, test_lifetimes_in_any_order);
	tcase_add_test(c, test_esp_kilobyte_lifetime_honoured);
	tcase_add_test(c, test_esp_kilobyte_lifetime_of_the_responder);
	tcase_add_test(c, test_responder_sends_on_a_new_pair_after_qm3);
	tcase_add_test(c, test_ipv6_outer_and_inner);
	tcase_add_test(c, test_two_remote_subnets_two_pairs);
	tcase_add_test(c, test_twenty_pairs_more_than_slots);
	tcase_add_test(c, test_both_sides_initiate);
	tcase_add_test(c, test_lost_messages_retransmitted);
	tcase_add_test(c, test_aggressive_lost_messages);
	tcase_add_test(c, test_unknown_peer_counted);
	tcase_add_test(c, test_responder_installs_at_qm2_and_removes_unconfirmed);
	tcase_add_test(c, test_duplicated_messages);
	tcase_add_test(c, test_fail_psk_mismatch);
	tcase_add_test(c, test_fail_psk_mismatch_aggressive);
	tcase_add_test(c, test_fail_mode_mismatch);
	tcase_add_test(c, test_fail_mode_mismatch_aggressive_to_main);
	tcase_add_test(c, test_fail_dh_group_mismatch_aggressive);
	tcase_add_test(c, test_fail_id_mismatch);
	tcase_add_test(c, test_fail_proposal_mismatch);
	tcase_add_test(c, test_fail_dh_group_mismatch);
	tcase_add_test(c, test_fail_ts_mismatch);
	tcase_add_test(c, test_fail_pfs_mismatch);
	tcase_add_test(c, test_fail_esp_proposal_mismatch);
	tcase_add_test(c, test_fail_peer_not_responding);
	tcase_add_test(c, test_fail_ts_mismatch_aggressive);
	tcase_add_test(c, test_diag_phase1_auth_method_not_psk);
	tcase_add_test(c, test_diag_phase1_names_skipped_transforms);
	tcase_add_test(c, test_diag_esp_transport_mode);
	tcase_add_test(c, test_diag_auth_failed_to_aggressive_first_message);
	tcase_add_test(c, test_diag_auth_failed_after_mm5);
	tcase_add_test(c, test_responder_echoes_transform_unchanged);
	tcase_add_test(c, test_initiator_refuses_changed_lifetime);
	tcase_add_test(c, test_initiator_refuses_transform_not_offered);
	tcase_add_test(c, test_rekey_ipsec_make_before_break);
	tcase_add_test(c, test_rekey_old_inbound_kept_despite_early_peer_delete);
	tcase_add_test(c, test_soft_limit_leaves_room_for_retransmits);
	tcase_add_test(c, test_rekey_isakmp);
	tcase_add_test(c, test_rekey_isakmp_retried_after_failed_attempt);
	tcase_add_test(c, test_rekey_isakmp_by_responder_with_shorter_lifetime);
	tcase_add_test(c, test_children_rekeyed_after_isakmp_sa_lost);
	tcase_add_test(c, test_children_rekeyed_under_new_isakmp_sa);
	tcase_add_test(c, test_child_rekey_lost_with_old_isakmp_sa_is_redone);
	tcase_add_test(c, test_status_after_last_child_expires_without_isakmp_sa);
	tcase_add_test(c, test_dpd_answered);
	tcase_add_test(c, test_dpd_silent_peer_dead);
	tcase_add_test(c, test_nat_floats_to_4500);
	tcase_add_test(c, test_nat_mapping_change_followed_by_the_ipsec_sas);
	tcase_add_test(c, test_nat_draft_vendor_ids);
	tcase_add_test(c, test_nat_aggressive_floats_to_4500);
	tcase_add_test(c, test_rekey_isakmp_by_responder_through_nat);
	tcase_add_test(c, test_peer_restart_initial_contact);
	tcase_add_test(c, test_peer_restart_initial_contact_aggressive);
	tcase_add_test(c, test_down_deletes_both_sides);
	tcase_add_test(c, test_garbage_is_counted);
	suite_add_tcase(s, c);
	return s;
}

TEST_MAIN(ikev1_suite)
