/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv2 engine: whole exchanges between two in-process engines (gateway A
 * and gateway B) wired back to back through a recording fake of ike_ops.
 * Datagrams wait in a queue the test delivers, drops, repeats or
 * rewrites (a NAT); installed and deleted children are recorded so that
 * keys can be checked crosswise and make-before-break can be watched.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <unistd.h>

#include "unit/testutil.h"

#include "config.h"
#include "cursor.h"
#include "crypto_mem.h"
#include "crypto_prf.h"
#include "ike.h"
#include "ikev2.h"
#include "ikev2_int.h"
#include "ikev2_msg.h"

enum {
	QMAX = 4096,
	CHILD_REC_MAX = 64,
	LOG_MAX = 256,
	NCONN_MAX = 4,
};

struct dgram {
	int from; /* 0 = A, 1 = B */
	struct ike_endpoint src, dst;
	size_t len;
	uint8_t buf[IKE_MSG_MAX + 4];
};

struct child_rec {
	struct ike_child c;
	bool deleted;
	uint64_t installed_ms, deleted_ms;
	unsigned outbound_calls; /* ops.child_outbound for it */
};

struct gw {
	int idx;
	struct config *cfg;
	struct ike_status status[NCONN_MAX];
	struct ikev2 *e;
	struct child_rec kids[CHILD_REC_MAX];
	unsigned n_kids;
	uint32_t next_spi;
	char logs[LOG_MAX][256];
	unsigned n_logs;
	/* Outbound continuity: every moment, per conn, at least one live child. */
	bool gap_seen;
};

static struct gw gws[2];
static struct dgram *q;
static unsigned q_head, q_tail;
static uint64_t now;
/* NAT in front of A: A's source address/port rewritten to nat_addr:port+10000. */
static bool nat_a;
static uint8_t nat_addr[4] = { 192, 0, 2, 99 };
static uint8_t a_addr[4] = { 203, 0, 113, 1 };

/* When set, every datagram is also written as IPv4/UDP into this pcap. */
static FILE *pcap;

static uint16_t ip_csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void pcap_write(const struct ike_endpoint *src, const struct ike_endpoint *dst,
                       const uint8_t *buf, size_t len)
{
	uint8_t h[28];
	uint32_t rec[4] = { (uint32_t)(now / 1000), (uint32_t)(now % 1000) * 1000,
		            (uint32_t)(len + 28), (uint32_t)(len + 28) };

	memset(h, 0, sizeof(h));
	h[0] = 0x45;
	put_be16(h + 2, (uint16_t)(len + 28));
	h[8] = 64;
	h[9] = 17;
	memcpy(h + 12, src->addr, 4);
	memcpy(h + 16, dst->addr, 4);
	put_be16(h + 10, ip_csum(h, 20));
	put_be16(h + 20, src->port);
	put_be16(h + 22, dst->port);
	put_be16(h + 24, (uint16_t)(len + 8));
	ck_assert_uint_eq(fwrite(rec, sizeof(rec), 1, pcap), 1);
	ck_assert_uint_eq(fwrite(h, sizeof(h), 1, pcap), 1);
	ck_assert_uint_eq(fwrite(buf, len, 1, pcap), 1);
}

static void fake_send(void *ctx, const struct ike_endpoint *local,
                      const struct ike_endpoint *remote, const uint8_t *buf, size_t len)
{
	struct gw *g = ctx;
	struct dgram *d;

	if (pcap)
		pcap_write(local, remote, buf, len);

	ck_assert_uint_lt(q_tail - q_head, QMAX);
	ck_assert_uint_le(len, sizeof(d->buf));
	d = &q[q_tail++ % QMAX];
	d->from = g->idx;
	d->src = *local;
	d->dst = *remote;
	d->len = len;
	memcpy(d->buf, buf, len);
	if (nat_a && g->idx == 0) {
		memcpy(d->src.addr, nat_addr, 4);
		d->src.port = (uint16_t)(d->src.port + 10000);
	}
}

static uint32_t fake_spi_alloc(void *ctx, uint32_t conn)
{
	struct gw *g = ctx;

	(void)conn;
	return g->next_spi++;
}

static unsigned live_children(const struct gw *g, uint32_t conn)
{
	unsigned n = 0;

	for (unsigned i = 0; i < g->n_kids; i++)
		if (!g->kids[i].deleted && g->kids[i].c.conn == conn)
			n++;
	return n;
}

static int fake_install(void *ctx, const struct ike_child *c)
{
	struct gw *g = ctx;

	ck_assert_uint_lt(g->n_kids, CHILD_REC_MAX);
	for (unsigned i = 0; i < g->n_kids; i++)
		ck_assert_msg(g->kids[i].c.spi_in != c->spi_in, "inbound SPI installed twice");
	g->kids[g->n_kids].c = *c;
	g->kids[g->n_kids].installed_ms = now;
	g->kids[g->n_kids].deleted = false;
	g->kids[g->n_kids].outbound_calls = 0;
	g->n_kids++;
	return 0;
}

static void fake_delete(void *ctx, uint32_t conn, uint32_t spi_in)
{
	struct gw *g = ctx;

	for (unsigned i = 0; i < g->n_kids; i++) {
		if (g->kids[i].c.spi_in == spi_in && !g->kids[i].deleted) {
			ck_assert_uint_eq(g->kids[i].c.conn, conn);
			g->kids[i].deleted = true;
			g->kids[i].deleted_ms = now;
			return;
		}
	}
	ck_abort_msg("child_delete of an SPI never installed: 0x%08x", spi_in);
}

static void fake_outbound(void *ctx, uint32_t conn, uint32_t spi_in)
{
	struct gw *g = ctx;

	for (unsigned i = 0; i < g->n_kids; i++) {
		if (g->kids[i].c.spi_in == spi_in && !g->kids[i].deleted) {
			ck_assert_uint_eq(g->kids[i].c.conn, conn);
			ck_assert_msg(g->kids[i].c.outbound_later, "child_outbound for 0x%08x",
			              spi_in);
			g->kids[i].outbound_calls++;
			return;
		}
	}
	ck_abort_msg("child_outbound of an SPI not installed: 0x%08x", spi_in);
}

static void fake_log(void *ctx, enum ike_log_level level, uint32_t conn, const char *msg)
{
	struct gw *g = ctx;

	(void)level;
	(void)conn;
	if (getenv("IKEV2_TEST_LOG"))
		fprintf(stderr, "[%c %llu] %s\n", 'A' + g->idx, (unsigned long long)now, msg);
	snprintf(g->logs[g->n_logs % LOG_MAX], sizeof(g->logs[0]), "%s", msg);
	g->n_logs++;
}

static bool logged(const struct gw *g, const char *needle)
{
	unsigned from = g->n_logs > LOG_MAX ? g->n_logs - LOG_MAX : 0;

	for (unsigned i = from; i < g->n_logs; i++)
		if (strstr(g->logs[i % LOG_MAX], needle))
			return true;
	return false;
}

/* ---- configs ---- */

struct side {
	const char *addr;   /* our public address */
	const char *peer;   /* customer gateway address */
	const char *local;  /* local_subnets list */
	const char *remote; /* remote_subnets list */
	const char *psk;
	const char *ike;   /* ike: {...} contents */
	const char *ipsec; /* ipsec: {...} contents */
	const char *extra; /* more connection keys */
	bool immediate;
};

static struct config *make_cfg(const struct side *s)
{
	char yaml[4096];
	char err[512];
	struct config *cfg = NULL;

	snprintf(yaml, sizeof(yaml),
	         "gateway:\n"
	         "  name: gw\n"
	         "  ports:\n"
	         "    - {name: wan, device: d0, role: public, address: %s/24}\n"
	         "customer_gateways:\n"
	         "  - {name: peer, address: %s}\n"
	         "connections:\n"
	         "  - name: c1\n"
	         "    customer_gateway: peer\n"
	         "    local_subnets: [%s]\n"
	         "    remote_subnets: [%s]\n"
	         "    effect_immediately: %s\n"
	         "    psk: %s\n"
	         "    ike: {version: ikev2, %s}\n"
	         "    ipsec: {%s}\n"
	         "%s",
	         s->addr, s->peer, s->local, s->remote, s->immediate ? "true" : "false",
	         s->psk ? s->psk : "s3cret", s->ike, s->ipsec, s->extra ? s->extra : "");
	ck_assert_msg(config_load_string(yaml, strlen(yaml), "t.yaml", &cfg, err, sizeof(err)) == 0,
	              "config: %s\n%s", err, yaml);
	return cfg;
}

static const struct ike_ops fake_ops_tmpl = {
	.send = fake_send,
	.spi_alloc = fake_spi_alloc,
	.child_install = fake_install,
	.child_delete = fake_delete,
	.child_outbound = fake_outbound,
	.log = fake_log,
};

static struct ikev2_tunables tun;

static void setup_pair(const struct side *a, const struct side *b)
{
	ck_assert_int_eq(crypto_init(), 0);
	if (q == NULL)
		q = calloc(QMAX, sizeof(*q));
	ck_assert_ptr_nonnull(q);
	q_head = q_tail = 0;
	now = 1000;
	for (int i = 0; i < 2; i++) {
		struct gw *g = &gws[i];
		struct ike_ops ops = fake_ops_tmpl;

		memset(g, 0, sizeof(*g));
		g->idx = i;
		g->next_spi = i == 0 ? 0xa0000001u : 0xb0000001u;
		g->cfg = make_cfg(i == 0 ? a : b);
		ops.ctx = g;
		g->e = ikev2_new(g->cfg, &ops, g->status, now);
		ck_assert_ptr_nonnull(g->e);
		ikev2_tune(g->e, &tun);
	}
}

static void teardown_pair(void)
{
	for (int i = 0; i < 2; i++) {
		ikev2_free(gws[i].e);
		config_free(gws[i].cfg);
		gws[i].e = NULL;
		gws[i].cfg = NULL;
	}
	nat_a = false;
	memset(&tun, 0, sizeof(tun));
}

static bool same_addr4(const struct ike_endpoint *e, const uint8_t a[4])
{
	return e->family == 4 && memcmp(e->addr, a, 4) == 0;
}

/* Delivers one datagram to the gateway it is addressed to (NAT undone on the way back). */
static void deliver_one(struct dgram *d)
{
	int to = 1 - d->from;
	struct ike_endpoint dst = d->dst;

	if (nat_a && to == 0) {
		ck_assert(same_addr4(&dst, nat_addr));
		memcpy(dst.addr, a_addr, 4);
		dst.port = (uint16_t)(dst.port - 10000);
	}
	ikev2_input(gws[to].e, &dst, &d->src, d->buf, d->len, now);
}

static struct dgram *q_pop(void)
{
	if (q_head == q_tail)
		return NULL;
	return &q[q_head++ % QMAX];
}

/* Delivers everything (including what the deliveries cause); returns how many. */
static unsigned pump(void)
{
	unsigned n = 0;
	struct dgram *d;

	while ((d = q_pop()) != NULL) {
		deliver_one(d);
		n++;
		ck_assert_uint_lt(n, 10000);
	}
	return n;
}

static void drop_all(void)
{
	q_head = q_tail;
}

/* Delivers what is queued now from gateway g (to the other one), in order; the rest stays. */
static void pump_from(int g)
{
	unsigned n = q_tail - q_head;

	for (unsigned i = 0; i < n; i++) {
		struct dgram d = *q_pop();

		if (d.from == g)
			deliver_one(&d);
		else
			q[q_tail++ % QMAX] = d;
	}
}

static void tick_both(void)
{
	ikev2_tick(gws[0].e, now);
	ikev2_tick(gws[1].e, now);
}

/* Advances time in steps of 100 ms, pumping the network, for ms. */
static void run_for(uint64_t ms)
{
	uint64_t end = now + ms;

	while (now < end) {
		now += 100;
		tick_both();
		pump();
		for (int i = 0; i < 2; i++)
			if (live_children(&gws[i], 0) == 0 && gws[i].n_kids > 0)
				gws[i].gap_seen = true;
	}
}

static const struct child_rec *find_kid(const struct gw *g, uint32_t spi_in)
{
	for (unsigned i = 0; i < g->n_kids; i++)
		if (g->kids[i].c.spi_in == spi_in)
			return &g->kids[i];
	return NULL;
}

/* Every live child of A has a live twin in B with the keys crosswise. */
static unsigned check_crosswise(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < gws[0].n_kids; i++) {
		const struct child_rec *a = &gws[0].kids[i];
		const struct child_rec *b;
		size_t kl;

		if (a->deleted)
			continue;
		b = find_kid(&gws[1], a->c.spi_out);
		ck_assert_msg(b != NULL && !b->deleted, "no live twin for A's 0x%08x", a->c.spi_in);
		ck_assert_uint_eq(b->c.spi_out, a->c.spi_in);
		ck_assert_int_eq(a->c.encr, b->c.encr);
		ck_assert_int_eq(a->c.integ, b->c.integ);
		ck_assert_uint_eq(a->c.enc_key_len, crypto_alg(a->c.encr)->key_len);
		kl = (size_t)a->c.enc_key_len + a->c.auth_key_len;
		ck_assert_uint_gt(kl, 0);
		ck_assert_mem_eq(a->c.key_out, b->c.key_in, kl);
		ck_assert_mem_eq(a->c.key_in, b->c.key_out, kl);
		ck_assert(memcmp(a->c.key_in, a->c.key_out, kl) != 0);
		ck_assert_int_eq(a->c.udp_encap, b->c.udp_encap);
		ck_assert_uint_eq(a->c.lifetime_s, gws[0].cfg->connections[0].ipsec.lifetime);
		n++;
	}
	return n;
}

#define A_SIDE(ike_, ipsec_)                                                             \
	{                                                                                \
		.addr = "203.0.113.1", .peer = "198.51.100.7", .local = "10.1.0.0/16",   \
		.remote = "10.2.0.0/16", .ike = ike_, .ipsec = ipsec_, .immediate = true \
	}
#define B_SIDE(ike_, ipsec_)                                                              \
	{                                                                                 \
		.addr = "198.51.100.7", .peer = "203.0.113.1", .local = "10.2.0.0/16",    \
		.remote = "10.1.0.0/16", .ike = ike_, .ipsec = ipsec_, .immediate = false \
	}

static void establish(void)
{
	ikev2_start(gws[0].e, now);
	ikev2_start(gws[1].e, now);
	pump();
}

static void assert_up(void)
{
	ck_assert_msg(gws[0].status[0].state == IKE_STATE_PHASE2_SUCCEEDED, "A: %s %s %s",
	              ike_state_name(gws[0].status[0].state),
	              ike_cause_code(gws[0].status[0].cause), gws[0].status[0].evidence);
	ck_assert_msg(gws[1].status[0].state == IKE_STATE_PHASE2_SUCCEEDED, "B: %s %s %s",
	              ike_state_name(gws[1].status[0].state),
	              ike_cause_code(gws[1].status[0].cause), gws[1].status[0].evidence);
	ck_assert_uint_ge(check_crosswise(), 1);
}

/* ---- algorithm sets ---- */

static const struct {
	const char *ike, *ipsec;
	enum crypto_alg_id esp_encr, esp_integ;
} algsets[] = {
	{ "encryption: aes, integrity: sha256, dh_group: group14",
	  "encryption: aes-gcm-128, pfs: disabled", CRYPTO_ENCR_AES128_GCM16, CRYPTO_INTEG_NONE },
	{ "encryption: aes256, integrity: sha1, dh_group: group2",
	  "encryption: aes256, integrity: sha1, pfs: group2", CRYPTO_ENCR_AES256_CBC,
	  CRYPTO_INTEG_HMAC_SHA1_96 },
	{ "encryption: aes-gcm-128, integrity: sha256, dh_group: group19",
	  "encryption: aes-gcm-128, pfs: group19", CRYPTO_ENCR_AES128_GCM16, CRYPTO_INTEG_NONE },
	{ "encryption: aes256, integrity: sha384, dh_group: group31",
	  "encryption: chacha20-poly1305, pfs: disabled", CRYPTO_ENCR_CHACHA20_POLY1305,
	  CRYPTO_INTEG_NONE },
	{ "encryption: chacha20-poly1305, integrity: sha512, dh_group: group20",
	  "encryption: aes192, integrity: sha512, pfs: group5", CRYPTO_ENCR_AES192_CBC,
	  CRYPTO_INTEG_HMAC_SHA512_256 },
	{ "encryption: 3des, integrity: md5, dh_group: group1", "encryption: des, integrity: md5",
	  CRYPTO_ENCR_DES_CBC, CRYPTO_INTEG_HMAC_MD5_96 },
	{ "encryption: aes-gcm-256, integrity: sha384, dh_group: group21",
	  "encryption: aes-gcm-256, pfs: group15", CRYPTO_ENCR_AES256_GCM16, CRYPTO_INTEG_NONE },
	{ "encryption: aes192, integrity: sha256, dh_group: group16",
	  "encryption: aes-gcm-192, pfs: group14", CRYPTO_ENCR_AES192_GCM16, CRYPTO_INTEG_NONE },
};

START_TEST(establishes_with_algorithm_set)
{
	struct side a = A_SIDE(algsets[_i].ike, algsets[_i].ipsec);
	struct side b = B_SIDE(algsets[_i].ike, algsets[_i].ipsec);

	setup_pair(&a, &b);
	establish();
	assert_up();
	ck_assert_int_eq(gws[0].kids[0].c.encr, algsets[_i].esp_encr);
	ck_assert_int_eq(gws[0].kids[0].c.integ, algsets[_i].esp_integ);
	ck_assert(!gws[0].kids[0].c.udp_encap);
	ck_assert_uint_eq(gws[0].status[0].ike_sa_up, 1);
	ck_assert_uint_eq(gws[1].status[0].child_sa_up, 1);
	ck_assert_uint_eq(ikev2_stats(gws[0].e)->ike_sas, 1);
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->child_sas, 1);
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->half_open, 0);
	/* A child rekey (with PFS where configured) keeps the keys crosswise. */
	ikev2_child_expired(gws[0].e, 0, gws[0].kids[0].c.spi_in, false, now);
	run_for(1000);
	ck_assert_uint_eq(check_crosswise(), 1);
	ck_assert_uint_eq(gws[0].n_kids, 2);
	ck_assert(gws[0].kids[0].deleted);
	teardown_pair();
}
END_TEST

START_TEST(proposal_lists_pick_a_common_entry)
{
	struct side a = A_SIDE("encryption: [aes-gcm-256, aes256], integrity: [sha512, sha1], "
	                       "dh_group: [group31, group14]",
	                       "encryption: [aes-gcm-128, aes], integrity: sha1, pfs: disabled");
	struct side b = B_SIDE("encryption: [aes, aes256], integrity: [sha256, sha1], "
	                       "dh_group: [group2, group14]",
	                       "encryption: aes, integrity: sha1, pfs: disabled");

	setup_pair(&a, &b);
	establish();
	assert_up();
	ck_assert_int_eq(gws[0].kids[0].c.encr, CRYPTO_ENCR_AES128_CBC);
	/* B wanted group2 or 14 and A sent group31 first: INVALID_KE_PAYLOAD then a retry. */
	ck_assert(logged(&gws[0], "INVALID_KE_PAYLOAD"));
	teardown_pair();
}
END_TEST

START_TEST(several_subnets_in_one_child)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");

	a.local = "10.1.0.0/16, 10.11.0.0/16";
	a.remote = "10.2.0.0/16, 10.22.0.0/16";
	b.local = "10.2.0.0/16, 10.22.0.0/16";
	b.remote = "10.1.0.0/16, 10.11.0.0/16";
	setup_pair(&a, &b);
	establish();
	assert_up();
	ck_assert_uint_eq(gws[0].n_kids, 1);
	ck_assert_uint_eq(gws[0].kids[0].c.n_ts_local, 2);
	ck_assert_uint_eq(gws[0].kids[0].c.n_ts_remote, 2);
	ck_assert_uint_eq(gws[1].kids[0].c.n_ts_local, 2);
	ck_assert_uint_eq(gws[1].kids[0].c.n_ts_remote, 2);
	teardown_pair();
}
END_TEST

START_TEST(responder_narrows_selectors)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	char buf[TS_STR_MAX];

	a.remote = "10.2.0.0/16";
	b.local = "10.2.3.0/24"; /* B allows less: narrowed to it */
	setup_pair(&a, &b);
	establish();
	assert_up();
	ts_format(&gws[0].kids[0].c.ts_remote[0], buf, sizeof(buf));
	ck_assert_str_eq(buf, "10.2.3.0/24");
	teardown_pair();
}
END_TEST

START_TEST(lost_and_repeated_messages)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct dgram *d, saved;

	setup_pair(&a, &b);
	ikev2_start(gws[0].e, now);
	/* IKE_SA_INIT request lost. */
	ck_assert_uint_eq(q_tail - q_head, 1);
	drop_all();
	now += 1000;
	tick_both();
	ck_assert(logged(&gws[0], "sending retransmit 1 of request message ID 0, seq 1"));
	/* Delivered twice: B answers both from its cache. */
	d = q_pop();
	ck_assert_ptr_nonnull(d);
	saved = *d;
	deliver_one(&saved);
	deliver_one(&saved);
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->resp_resent, 1);
	/* The first response arrives, the copy is ignored; IKE_AUTH request lost. */
	d = q_pop();
	deliver_one(d);
	d = q_pop();
	deliver_one(d); /* the cached copy: not an answer to anything now */
	ck_assert_uint_eq(q_tail - q_head, 1);
	drop_all();
	now += 1000;
	tick_both();
	d = q_pop();
	ck_assert_ptr_nonnull(d);
	saved = *d;
	deliver_one(&saved);
	/* B's IKE_AUTH response lost: A retransmits, B resends its cached answer. */
	drop_all();
	now += 2000;
	tick_both();
	ck_assert(logged(&gws[0], "sending retransmit 2 of request message ID 1, seq 2"));
	pump();
	assert_up();
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->resp_resent, 2);
	ck_assert_uint_eq(gws[1].n_kids, 1); /* installed once */
	teardown_pair();
}
END_TEST

START_TEST(peer_not_responding)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	unsigned sent = 0;

	setup_pair(&a, &b);
	ikev2_start(gws[0].e, now);
	for (int i = 0; i < 200; i++) {
		sent += q_tail - q_head;
		drop_all();
		now += 500;
		tick_both();
	}
	ck_assert_int_eq(gws[0].status[0].state, IKE_STATE_PHASE1_FAILED);
	ck_assert_int_eq(gws[0].status[0].cause, IKE_CAUSE_PEER_NOT_RESPONDING);
	ck_assert_ptr_nonnull(strstr(gws[0].status[0].evidence, "sending retransmit 5"));
	ck_assert(logged(&gws[0], "sending retransmit 5 of request message ID 0, seq 5"));
	/* effect_immediately: restarted after the delay, so more than one try went out. */
	ck_assert_uint_gt(sent, 6);
	ck_assert_uint_ge(ikev2_stats(gws[0].e)->retransmits, 5);
	teardown_pair();
}
END_TEST

START_TEST(retransmits_back_off_exponentially)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	uint64_t sent[16], start;
	unsigned n = 0;

	tun.restart_delay_ms = 1000000; /* no restart within the test */
	setup_pair(&a, &b);
	start = now;
	ikev2_start(gws[0].e, now);
	while (now < start + 60000) {
		if (q_tail != q_head) {
			ck_assert_uint_lt(n, 16);
			sent[n++] = now - start;
			drop_all();
		}
		now += 100;
		tick_both();
	}
	/* The first send, then retransmits after 1, 2, 4, 8, 16 s; then given up after 16 s. */
	ck_assert_uint_eq(n, 6);
	ck_assert_uint_eq(sent[0], 0);
	ck_assert_uint_eq(sent[1], 1000);
	ck_assert_uint_eq(sent[2], 3000);
	ck_assert_uint_eq(sent[3], 7000);
	ck_assert_uint_eq(sent[4], 15000);
	ck_assert_uint_eq(sent[5], 31000);
	ck_assert_int_eq(gws[0].status[0].cause, IKE_CAUSE_PEER_NOT_RESPONDING);
	ck_assert_uint_ge(gws[0].status[0].since_ms, start + 47000);
	teardown_pair();
}
END_TEST

static void expect_fail(int gw, enum ike_state st, enum ike_cause cause, const char *evidence)
{
	const struct ike_status *s = &gws[gw].status[0];

	ck_assert_msg(s->state == st && s->cause == cause, "%c: %s %s (%s), want %s %s", 'A' + gw,
	              ike_state_name(s->state), ike_cause_code(s->cause), s->evidence,
	              ike_state_name(st), ike_cause_code(cause));
	if (evidence)
		ck_assert_msg(strstr(s->evidence, evidence) != NULL, "%c evidence: %s", 'A' + gw,
		              s->evidence);
	ck_assert_uint_ge(s->failures[cause], 1);
}

START_TEST(psk_mismatch)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");

	b.psk = "other";
	setup_pair(&a, &b);
	establish();
	expect_fail(1, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_PSK_MISMATCH, "does not verify");
	expect_fail(0, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_PSK_MISMATCH, "AUTHENTICATION_FAILED");
	ck_assert_uint_eq(gws[0].n_kids + gws[1].n_kids, 0);
	teardown_pair();
}
END_TEST

START_TEST(proposal_mismatch_names_the_transform)
{
	struct side a = A_SIDE("encryption: [aes, aes256], integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes-gcm-128, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");

	setup_pair(&a, &b);
	establish();
	expect_fail(1, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_PROPOSAL_MISMATCH,
	            "no acceptable encryption: peer offers aes/aes256, we allow aes-gcm-128");
	expect_fail(0, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_PROPOSAL_MISMATCH, "NO_PROPOSAL_CHOSEN");
	teardown_pair();
}
END_TEST

/*
 * The initiator's NO_PROPOSAL_CHOSEN evidence names what it offered, each
 * list under its own name: encryption, integrity (none with AEAD only),
 * PRF, DH; and for the CHILD_SA encryption, integrity, PFS.
 */
START_TEST(initiator_no_proposal_evidence_names_each_list)
{
	static const struct {
		const char *a_ike, *a_ipsec, *b_ike, *b_ipsec, *evidence;
		enum ike_state state;
	} c[] = {
		{ "encryption: [aes, aes256], integrity: [sha256, sha1], dh_group: [group14, "
		  "group2]",
		  "encryption: aes-gcm-128, pfs: disabled",
		  "encryption: aes-gcm-128, integrity: sha256, dh_group: group14",
		  "encryption: aes-gcm-128, pfs: disabled",
		  "the peer answered IKE_SA_INIT with NO_PROPOSAL_CHOSEN; we offer encryption "
		  "aes/aes256, integrity sha256/sha1, prf sha256/sha1, dh group14/group2",
		  IKE_STATE_PHASE1_FAILED },
		{ "encryption: aes-gcm-128, integrity: sha384, dh_group: group19",
		  "encryption: aes-gcm-128, pfs: disabled",
		  "encryption: aes, integrity: sha384, dh_group: group19",
		  "encryption: aes-gcm-128, pfs: disabled",
		  "we offer encryption aes-gcm-128, integrity none, prf sha384, dh group19",
		  IKE_STATE_PHASE1_FAILED },
		{ "encryption: aes, integrity: sha256, dh_group: group14",
		  "encryption: [aes256, aes], integrity: sha1, pfs: disabled",
		  "encryption: aes, integrity: sha256, dh_group: group14",
		  "encryption: aes, integrity: sha256, pfs: disabled",
		  "the peer answered NO_PROPOSAL_CHOSEN for the CHILD_SA; we offer encryption "
		  "aes256/aes, integrity sha1, pfs disabled",
		  IKE_STATE_PHASE2_FAILED },
	};
	struct side a = A_SIDE(c[_i].a_ike, c[_i].a_ipsec);
	struct side b = B_SIDE(c[_i].b_ike, c[_i].b_ipsec);

	setup_pair(&a, &b);
	establish();
	expect_fail(0, c[_i].state, IKE_CAUSE_PROPOSAL_MISMATCH, c[_i].evidence);
	teardown_pair();
}
END_TEST

START_TEST(esp_proposal_mismatch)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes, integrity: sha1, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes, integrity: sha256, pfs: disabled");

	setup_pair(&a, &b);
	establish();
	expect_fail(1, IKE_STATE_PHASE2_FAILED, IKE_CAUSE_PROPOSAL_MISMATCH,
	            "no acceptable integrity: peer offers sha1, we allow sha256");
	expect_fail(0, IKE_STATE_PHASE2_FAILED, IKE_CAUSE_PROPOSAL_MISMATCH, "NO_PROPOSAL_CHOSEN");
	teardown_pair();
}
END_TEST

START_TEST(dh_group_mismatch)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: [group19, group2]",
	                       "encryption: aes-gcm-128, pfs: disabled");

	setup_pair(&a, &b);
	establish();
	expect_fail(1, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_DH_GROUP_MISMATCH,
	            "peer offers group14, we allow group19/group2");
	expect_fail(0, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_PROPOSAL_MISMATCH, NULL);
	teardown_pair();
}
END_TEST

/* B allows only group 2 of A's [14, 2]: INVALID_KE_PAYLOAD(2), and A retries with it. */
START_TEST(invalid_ke_payload_followed)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: [group14, group2]",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group2",
	                       "encryption: aes-gcm-128, pfs: disabled");

	setup_pair(&a, &b);
	establish();
	assert_up();
	ck_assert(logged(&gws[0], "INVALID_KE_PAYLOAD"));
	ck_assert_int_eq(gws[0].e->conns[0].sa->ch.dh, CRYPTO_DH_MODP1024);
	ck_assert_int_eq(gws[1].e->conns[0].sa->ch.dh, CRYPTO_DH_MODP1024);
	teardown_pair();
}
END_TEST

/*
 * B wants group14 of A's [group19, group14]: its INVALID_KE_PAYLOAD comes
 * twice (_i 0: the network duplicates it; _i 1: A's first IKE_SA_INIT went
 * twice, a retransmit while waiting, and B answered both). The second copy
 * arrives after A's retry and asks for the group A now sends: stale,
 * counted and ignored; the tunnel is up at the first attempt.
 */
START_TEST(duplicated_invalid_ke_is_stale)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: [group19, group14]",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct dgram ke[2];

	setup_pair(&a, &b);
	ikev2_start(gws[0].e, now);
	if (_i == 1) {
		now += 1000;
		tick_both();
		ck_assert(logged(&gws[0], "sending retransmit 1 of request message ID 0"));
	}
	pump_from(0);
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->invalid_ke_sent, _i == 1 ? 2u : 1u);
	ke[0] = *q_pop();
	ke[1] = _i == 1 ? *q_pop() : ke[0];
	ck_assert_uint_eq(q_tail - q_head, 0);
	deliver_one(&ke[0]); /* A retries with group14 */
	ck_assert_uint_eq(q_tail - q_head, 1);
	deliver_one(&ke[1]); /* the stale copy */
	ck_assert_int_eq(gws[0].status[0].state, IKE_STATE_PHASE1_NEGOTIATING);
	ck_assert_uint_eq(ikev2_stats(gws[0].e)->stale_init, 1);
	pump();
	assert_up();
	ck_assert_uint_eq(gws[0].status[0].failures[IKE_CAUSE_DH_GROUP_MISMATCH], 0);
	ck_assert_uint_eq(gws[0].status[0].ike_sa_up, 1);
	ck_assert_int_eq(gws[0].e->conns[0].sa->ch.dh, CRYPTO_DH_MODP2048);
	teardown_pair();
}
END_TEST

/*
 * After the stale copy of _i 0 above, the peer (_i 0) answers every
 * IKE_SA_INIT of A's with INVALID_KE_PAYLOAD for the group A sends: more
 * than A's earlier request explains, so at the last retransmit it is
 * dh_group_mismatch, not peer_not_responding; a peer that (_i 1) says
 * nothing more after the stale copy is peer_not_responding.
 */
START_TEST(invalid_ke_for_the_group_sent_ends_at_the_last_retransmit)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: [group19, group14]",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct dgram ke;
	uint64_t end;

	tun.restart_delay_ms = 1000000;
	setup_pair(&a, &b);
	ikev2_start(gws[0].e, now);
	pump_from(0);
	ke = *q_pop();
	deliver_one(&ke);
	deliver_one(&ke);
	ck_assert_int_eq(gws[0].status[0].state, IKE_STATE_PHASE1_NEGOTIATING);
	ck_assert_uint_eq(ikev2_stats(gws[0].e)->stale_init, 1);
	for (end = now + 60000; now < end;) {
		struct dgram *d;

		while ((d = q_pop()) != NULL)
			if (_i == 0 && d->from == 0)
				deliver_one(&ke); /* B's old answer, to each request */
		if (gws[0].status[0].state != IKE_STATE_PHASE1_NEGOTIATING)
			break;
		now += 100;
		tick_both();
	}
	if (_i == 0) {
		expect_fail(0, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_DH_GROUP_MISMATCH,
		            "keeps asking for DH group group14, the group we send");
		ck_assert_uint_eq(ikev2_stats(gws[0].e)->stale_init, 1 + 6);
		ck_assert_uint_eq(gws[0].status[0].failures[IKE_CAUSE_PEER_NOT_RESPONDING], 0);
	} else {
		expect_fail(0, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_PEER_NOT_RESPONDING, NULL);
		ck_assert_uint_eq(gws[0].status[0].failures[IKE_CAUSE_DH_GROUP_MISMATCH], 0);
	}
	ck_assert_ptr_null(gws[0].e->conns[0].sa);
	teardown_pair();
}
END_TEST

/*
 * B wants group14 of A's [group19, group14], and once A has retried with
 * it, B is under load and asks for a cookie. A's IKE_SA_INIT with the
 * cookie keeps its KE and nonce (RFC 7296 2.6: all other payloads
 * unchanged). The INVALID_KE_PAYLOAD and the COOKIE arrive a second time
 * after that: both stale, ignored; the tunnel comes up.
 */
START_TEST(cookie_retry_keeps_the_ke_and_stale_answers_are_ignored)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: [group19, group14]",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct dgram ke, retry, spoof, ck, with_cookie;
	struct ikev2_msg m1, m2;

	tun.half_open_cookie = 1;
	setup_pair(&a, &b);
	ikev2_start(gws[0].e, now);
	pump_from(0);
	ke = *q_pop();
	deliver_one(&ke);
	retry = *q_pop();
	spoof = retry;
	spoof.buf[0] ^= 0x55; /* one half-open SA at B: cookies from now on */
	deliver_one(&spoof);
	drop_all();
	deliver_one(&retry);
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->cookies_sent, 1);
	ck = *q_pop();
	deliver_one(&ck);
	with_cookie = *q_pop();
	ck_assert_int_eq(ikev2_msg_parse(&m1, retry.buf, retry.len), IKEV2_PARSE_OK);
	ck_assert_int_eq(ikev2_msg_parse(&m2, with_cookie.buf, with_cookie.len), IKEV2_PARSE_OK);
	ck_assert_ptr_nonnull(ikev2_msg_notify(&m2, IKEV2_N_COOKIE));
	ck_assert_uint_eq(m2.ke_group, m1.ke_group);
	ck_assert_uint_eq(m2.ke.len, m1.ke.len);
	ck_assert_mem_eq(m2.ke.p, m1.ke.p, m1.ke.len);
	ck_assert_uint_eq(m2.nonce.len, m1.nonce.len);
	ck_assert_mem_eq(m2.nonce.p, m1.nonce.p, m1.nonce.len);
	deliver_one(&ke);
	deliver_one(&ck);
	ck_assert_uint_eq(ikev2_stats(gws[0].e)->stale_init, 2);
	ck_assert_uint_eq(ikev2_stats(gws[0].e)->malformed, 0);
	ck_assert_uint_eq(q_tail - q_head, 0);
	deliver_one(&with_cookie);
	pump();
	assert_up();
	ck_assert_uint_eq(gws[0].status[0].failures[IKE_CAUSE_DH_GROUP_MISMATCH], 0);
	ck_assert_uint_eq(gws[0].status[0].ike_sa_up, 1);
	teardown_pair();
}
END_TEST

/* The host's record of a peer that speaks IKEv1 to an IKEv2 connection (ike_glue does it). */
static void host_saw_ikev1(void)
{
	ike_status_other_version(&gws[0].status[0], 1, true, now,
	                         "peer 198.51.100.7:500 sent IKEv1, connection is configured for "
	                         "IKEv2");
}

/*
 * B refuses A's IKE_SA_INIT with NO_PROPOSAL_CHOSEN while the host sees
 * B's address speak IKEv1 (every 10 s, as ike_glue records it): that is
 * the version mismatch (DESIGN.md), over A's restarts too; once the IKEv1
 * stops, NO_PROPOSAL_CHOSEN is about proposals again.
 */
START_TEST(no_proposal_from_a_peer_speaking_ikev1_is_version_mismatch)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes256, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	unsigned seen_other = 0;

	setup_pair(&a, &b);
	host_saw_ikev1();
	ikev2_start(gws[0].e, now);
	pump();
	expect_fail(0, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_IKE_VERSION_MISMATCH, "IKEv1");
	ck_assert_uint_eq(gws[0].status[0].failures[IKE_CAUSE_PROPOSAL_MISMATCH], 0);
	for (int i = 0; i < 600; i++) { /* 60 s of restarts, the peer's IKEv1 every 10 s */
		if (i % 100 == 99)
			host_saw_ikev1();
		run_for(100);
		if (gws[0].status[0].state == IKE_STATE_PHASE1_FAILED &&
		    gws[0].status[0].cause != IKE_CAUSE_IKE_VERSION_MISMATCH)
			seen_other++;
	}
	ck_assert_uint_eq(seen_other, 0);
	ck_assert_uint_ge(gws[0].status[0].failures[IKE_CAUSE_IKE_VERSION_MISMATCH], 8);
	run_for(IKE_OTHER_VERSION_MS + 10000); /* no more IKEv1 */
	expect_fail(0, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_PROPOSAL_MISMATCH, "NO_PROPOSAL_CHOSEN");
	teardown_pair();
}
END_TEST

START_TEST(ts_mismatch)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");

	b.local = "10.9.0.0/16";
	setup_pair(&a, &b);
	establish();
	expect_fail(1, IKE_STATE_PHASE2_FAILED, IKE_CAUSE_TS_MISMATCH, NULL);
	expect_fail(0, IKE_STATE_PHASE2_FAILED, IKE_CAUSE_TS_MISMATCH, "TS_UNACCEPTABLE");
	teardown_pair();
}
END_TEST

START_TEST(id_mismatch)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14, "
	                       "local_id: a.example",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14, "
	                       "remote_id: other.example",
	                       "encryption: aes-gcm-128, pfs: disabled");

	setup_pair(&a, &b);
	establish();
	expect_fail(1, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_ID_MISMATCH,
	            "IDi fqdn:a.example does not match to remote_id fqdn:other.example");
	teardown_pair();
}
END_TEST

START_TEST(id_fqdn_and_user_fqdn)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14, "
	                       "local_id: a.example, remote_id: vpn@b.example",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14, "
	                       "local_id: vpn@b.example, remote_id: a.example",
	                       "encryption: aes-gcm-128, pfs: disabled");

	setup_pair(&a, &b);
	establish();
	assert_up();
	teardown_pair();
}
END_TEST

START_TEST(responder_id_checked_by_initiator)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14, "
	                       "remote_id: b.example",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");

	setup_pair(&a, &b);
	establish();
	expect_fail(0, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_ID_MISMATCH,
	            "IDr ipv4:198.51.100.7 does not match to remote_id fqdn:b.example");
	teardown_pair();
}
END_TEST

/*
 * A (initiator) refuses B's IDr after B has answered IKE_AUTH: for B the
 * IKE SA and its child are up. A tells it (RFC 7296 2.21.2) in an
 * INFORMATIONAL under the new keys, AUTHENTICATION_FAILED and a Delete of
 * the IKE SA: B ends with no IKE SA and no child, and says why.
 */
START_TEST(initiator_refusing_the_responders_id_ends_the_peers_sa)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14, "
	                       "remote_id: b.example",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");

	setup_pair(&a, &b);
	establish();
	expect_fail(0, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_ID_MISMATCH,
	            "IDr ipv4:198.51.100.7 does not match to remote_id fqdn:b.example");
	ck_assert_uint_eq(gws[1].n_kids, 1); /* B had installed its child */
	ck_assert_uint_eq(live_children(&gws[1], 0), 0);
	ck_assert_ptr_null(gws[1].e->all);
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->ike_sas, 0);
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->child_sas, 0);
	expect_fail(1, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_ID_MISMATCH,
	            "our ID ipv4:198.51.100.7 (local_id)");
	/* A's SA went with B's answer; A installed nothing and restarts later. */
	ck_assert_ptr_null(gws[0].e->all);
	ck_assert_uint_eq(gws[0].n_kids, 0);
	ck_assert(gws[0].e->conns[0].restart);
	teardown_pair();
}
END_TEST

/*
 * strongSwan as initiator refusing our IKE_AUTH answer sends an
 * INFORMATIONAL with AUTHENTICATION_FAILED alone (no Delete) and drops its
 * IKE SA: ours goes too, children and all.
 */
START_TEST(authentication_failed_informational_ends_the_sa)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct ikev2_sa *sa;
	struct ikev2_sk_wr *s = malloc(sizeof(*s));
	uint8_t buf[512];
	size_t len;

	ck_assert_ptr_nonnull(s);
	setup_pair(&a, &b);
	establish();
	assert_up();
	sa = gws[0].e->conns[0].sa;
	ck_assert_uint_eq(sa->req_id, 2);
	ikev2_sk_begin(sa, s, buf, sizeof(buf), IKEV2_EXCH_INFORMATIONAL, false, sa->req_id);
	ikev2_wr_notify(&s->in, 0, NULL, 0, IKEV2_N_AUTHENTICATION_FAILED, NULL, 0);
	len = ikev2_sk_end(sa, s);
	free(s);
	ck_assert_uint_gt(len, 0);
	ikev2_send_request(gws[0].e, sa, IKEV2_REQ_LIVENESS, buf, len);
	pump();
	ck_assert_ptr_null(gws[1].e->all);
	ck_assert_uint_eq(live_children(&gws[1], 0), 0);
	expect_fail(1, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_ID_MISMATCH, "AUTHENTICATION_FAILED");
	teardown_pair();
}
END_TEST

START_TEST(pfs_mismatch_at_rekey)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: group14");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");

	setup_pair(&a, &b);
	establish();
	assert_up(); /* IKE_AUTH's child has no KE: PFS shows at the first rekey */
	ikev2_child_expired(gws[0].e, 0, gws[0].kids[0].c.spi_in, false, now);
	run_for(500);
	expect_fail(1, IKE_STATE_PHASE2_SUCCEEDED, IKE_CAUSE_PFS_MISMATCH, "PFS group");
	expect_fail(0, IKE_STATE_PHASE2_SUCCEEDED, IKE_CAUSE_PFS_MISMATCH, "PFS group14");
	ck_assert_uint_eq(check_crosswise(), 1); /* the old child carries on */
	teardown_pair();
}
END_TEST

/*
 * A rekeys with PFS group14, B refuses it (pfs disabled): every rekey of
 * A's only child fails, and at the child's hard lifetime it must go, not
 * linger unusable: out of the data plane, deleted at the peer, and the
 * status phase2 failed with the cause on record. The hard lifetime comes
 * from the host (_i 0), from the engine's own clock (_i 1), or from the
 * host while a rekey is out that is refused after (_i 2).
 */
START_TEST(child_whose_rekeys_fail_is_deleted_at_its_hard_lifetime)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: group14, lifetime: 600");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled, lifetime: 3600");
	uint32_t old, twin;
	uint64_t t0;

	tun.no_jitter = true;
	setup_pair(&a, &b);
	establish();
	assert_up();
	t0 = now;
	old = gws[0].kids[0].c.spi_in;
	twin = gws[0].kids[0].c.spi_out;
	run_for(541000); /* the rekey at 90% is refused: noted, the child carries on */
	expect_fail(0, IKE_STATE_PHASE2_SUCCEEDED, IKE_CAUSE_PFS_MISMATCH, "PFS group14");
	ck_assert_uint_eq(live_children(&gws[0], 0), 1);
	run_for(t0 + 599000 - now);
	ck_assert(!find_kid(&gws[0], old)->deleted);
	if (_i == 2) {
		ikev2_child_expired(gws[0].e, 0, old, false, now);
		ikev2_tick(gws[0].e, now); /* its rekey goes out */
		ck_assert_int_eq(ikev2_child_find(gws[0].e->conns[0].sa, old)->state,
		                 IKEV2_CHILD_REKEYING);
	}
	if (_i != 1) {
		ikev2_child_expired(gws[0].e, 0, old, true, now);
		ck_assert(find_kid(&gws[0], old)->deleted); /* out of the data plane at once */
	}
	run_for(t0 + 603000 - now);
	ck_assert(find_kid(&gws[0], old)->deleted);
	ck_assert(find_kid(&gws[1], twin)->deleted); /* B was told */
	ck_assert_uint_eq(live_children(&gws[0], 0), 0);
	ck_assert_uint_eq(live_children(&gws[1], 0), 0);
	ck_assert_uint_eq(ikev2_children(gws[0].e, 0, NULL, 0), 0);
	ck_assert_uint_eq(ikev2_stats(gws[0].e)->child_sas, 0);
	ck_assert_ptr_null(ikev2_child_find(gws[0].e->conns[0].sa, old));
	expect_fail(0, IKE_STATE_PHASE2_FAILED, IKE_CAUSE_PFS_MISMATCH, "PFS group14");
	ck_assert(logged(&gws[0], "reached its hard lifetime"));
	ck_assert(logged(&gws[1], "the peer deleted CHILD_SA"));
	ck_assert_int_eq(gws[0].e->conns[0].sa->state, IKEV2_SA_ESTABLISHED); /* IKE SA stays */
	teardown_pair();
}
END_TEST

START_TEST(child_rekey_make_before_break)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes, integrity: sha256, pfs: group14");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes, integrity: sha256, pfs: group14");

	/* Only A's child lifetime runs out: no collision here. */
	b.ipsec = "encryption: aes, integrity: sha256, pfs: group14, lifetime: 172800";
	tun.no_jitter = true;
	setup_pair(&a, &b);
	establish();
	assert_up();
	/* ipsec.lifetime 86400 s: rekey at 90%. Jump there. */
	now += 86400ull * 900 - 1000;
	run_for(2000);
	ck_assert_uint_eq(check_crosswise(), 1);
	ck_assert_uint_eq(gws[0].n_kids, 2);
	ck_assert_uint_eq(gws[1].n_kids, 2);
	for (int g = 0; g < 2; g++) {
		/* The new one went in before the old one went out. */
		ck_assert(gws[g].kids[0].deleted);
		ck_assert_uint_le(gws[g].kids[1].installed_ms, gws[g].kids[0].deleted_ms);
		ck_assert(!gws[g].gap_seen);
	}
	ck_assert(memcmp(gws[0].kids[0].c.key_out, gws[0].kids[1].c.key_out, 16) != 0);
	/*
	 * A started the rekey and sends on the new child at once; B, which
	 * answered, only once A's Delete of the old one came (A has the new
	 * child by then).
	 */
	ck_assert(!gws[0].kids[1].c.outbound_later);
	ck_assert(gws[1].kids[1].c.outbound_later);
	ck_assert_uint_eq(gws[1].kids[1].outbound_calls, 1);
	ck_assert_uint_eq(gws[0].kids[1].outbound_calls, 0);
	ck_assert(!gws[0].kids[0].c.outbound_later && !gws[1].kids[0].c.outbound_later);
	teardown_pair();
}
END_TEST

START_TEST(ike_rekey_keeps_children)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");

	a.ike = "encryption: aes, integrity: sha256, dh_group: group14, lifetime: 3600";
	tun.no_jitter = true;
	setup_pair(&a, &b);
	establish();
	assert_up();
	now += 3600ull * 900;
	run_for(2000);
	ck_assert_uint_eq(gws[0].status[0].ike_sa_up, 2);
	ck_assert_uint_eq(gws[1].status[0].ike_sa_up, 2);
	ck_assert_uint_eq(ikev2_stats(gws[0].e)->ike_sas, 1);
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->ike_sas, 1);
	ck_assert_uint_eq(check_crosswise(), 1);
	ck_assert_uint_eq(gws[0].n_kids, 1); /* children untouched */
	/* The new IKE SA works: a child rekey over it. */
	ikev2_child_expired(gws[1].e, 0, gws[1].kids[0].c.spi_in, false, now);
	run_for(1000);
	ck_assert_uint_eq(check_crosswise(), 1);
	ck_assert_uint_eq(gws[1].n_kids, 2);
	teardown_pair();
}
END_TEST

/* Checks one rekey time: within 85..90% of the lifetime; tracks the spread. */
static void jitter_sample(uint64_t after_ms, uint64_t life_s, uint64_t *lo, uint64_t *hi)
{
	ck_assert_uint_ge(after_ms, life_s * 850);
	ck_assert_uint_le(after_ms, life_s * 900);
	if (after_ms < *lo)
		*lo = after_ms;
	if (after_ms > *hi)
		*hi = after_ms;
}

/*
 * Rekey times carry jitter: every child and IKE SA is due between 85% and
 * 90% of its lifetime, and over many the times spread over that range
 * (48 and 16 draws: all in one quarter of it would happen about once in
 * 10^27 and 10^8 runs).
 */
START_TEST(rekey_times_spread_within_the_jitter_range)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14, "
	                       "lifetime: 7200",
	                       "encryption: aes-gcm-128, pfs: disabled, lifetime: 3600");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14, "
	                       "lifetime: 7200",
	                       "encryption: aes-gcm-128, pfs: disabled, lifetime: 3600");
	uint64_t lo = UINT64_MAX, hi = 0, ike_lo = UINT64_MAX, ike_hi = 0;

	setup_pair(&a, &b);
	establish();
	assert_up();
	for (int k = 0; k < 24; k++) {
		for (int g = 0; g < 2; g++) {
			struct ike_child_info info;

			ck_assert_uint_eq(ikev2_children(gws[g].e, 0, &info, 1), 1);
			jitter_sample(info.rekey_at_ms - info.installed_ms, 3600, &lo, &hi);
		}
		ikev2_child_expired(gws[k & 1].e, 0,
		                    gws[k & 1].kids[gws[k & 1].n_kids - 1].c.spi_in, false, now);
		run_for(300);
		ck_assert_uint_eq(live_children(&gws[0], 0), 1);
	}
	for (int k = 0; k < 8; k++) {
		for (int g = 0; g < 2; g++) {
			const struct ikev2_sa *sa = gws[g].e->conns[0].sa;

			jitter_sample(sa->rekey_at_ms - sa->established_ms, 7200, &ike_lo, &ike_hi);
		}
		gws[k & 1].e->conns[0].sa->rekey_at_ms = now;
		run_for(500);
	}
	ck_assert_uint_gt(hi - lo, 3600 * 50 / 4);
	ck_assert_uint_gt(ike_hi - ike_lo, 7200 * 50 / 4);
	teardown_pair();
}
END_TEST

START_TEST(ike_sa_ends_at_its_hard_lifetime_without_rekey)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");

	a.ike = "encryption: aes, integrity: sha256, dh_group: group14, lifetime: 3600";
	tun.no_jitter = true;
	setup_pair(&a, &b);
	establish();
	assert_up();
	/* B's operator changes its IKE algorithms: every rekey is refused from now on. */
	gws[1].cfg->connections[0].ike.encryption.ids[0] = CRYPTO_ENCR_AES256_CBC;
	now += 3600ull * 900;
	run_for(3600ull * 100 + 5000);
	ck_assert(logged(&gws[0], "IKE_SA lifetime over without a rekey"));
	ck_assert_uint_eq(live_children(&gws[0], 0), 0);
	ck_assert_uint_eq(live_children(&gws[1], 0), 0);
	/* Restarted (effect_immediately) and now failing on the new algorithms, visibly. */
	expect_fail(0, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_PROPOSAL_MISMATCH, "NO_PROPOSAL_CHOSEN");
	teardown_pair();
}
END_TEST

START_TEST(simultaneous_child_rekey)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: group14");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: group14");

	setup_pair(&a, &b);
	establish();
	assert_up();
	/* Both ask at once; each gets the other's request before its answer. */
	ikev2_child_expired(gws[0].e, 0, gws[0].kids[0].c.spi_in, false, now);
	ikev2_child_expired(gws[1].e, 0, gws[1].kids[0].c.spi_in, false, now);
	now += 100;
	tick_both();
	ck_assert_uint_eq(q_tail - q_head, 2);
	run_for(3000);
	/* One child left on each side, twins, and no moment without one. */
	ck_assert_uint_eq(live_children(&gws[0], 0), 1);
	ck_assert_uint_eq(live_children(&gws[1], 0), 1);
	ck_assert_uint_eq(check_crosswise(), 1);
	ck_assert(!gws[0].gap_seen && !gws[1].gap_seen);
	ck_assert(logged(&gws[0], "collision") || logged(&gws[1], "collision"));
	teardown_pair();
}
END_TEST

START_TEST(simultaneous_ike_rekey)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");

	a.ike = b.ike = "encryption: aes, integrity: sha256, dh_group: group14, lifetime: 3600";
	tun.no_jitter = true;
	setup_pair(&a, &b);
	establish();
	assert_up();
	now += 3600ull * 900;
	tick_both();
	ck_assert_uint_eq(q_tail - q_head, 2); /* both rekey requests out */
	run_for(3000);
	ck_assert_uint_eq(ikev2_stats(gws[0].e)->ike_sas, 1);
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->ike_sas, 1);
	ck_assert_uint_eq(check_crosswise(), 1);
	/* The surviving IKE SA carries a child rekey. */
	ikev2_child_expired(gws[0].e, 0, gws[0].kids[0].c.spi_in, false, now);
	run_for(1000);
	ck_assert_uint_eq(check_crosswise(), 1);
	ck_assert_uint_eq(live_children(&gws[0], 0), 1);
	teardown_pair();
}
END_TEST

/* A child is REKEYING only while its SA has that child's rekey request out. */
static void assert_no_stale_rekeying(int g)
{
	for (const struct ikev2_sa *sa = gws[g].e->all; sa; sa = sa->all_next)
		for (const struct ikev2_child *c = sa->children; c; c = c->next)
			ck_assert_msg(c->state != IKEV2_CHILD_REKEYING ||
			                      (sa->req_pending &&
			                       sa->req_kind == IKEV2_REQ_CHILD_REKEY &&
			                       sa->pend.old_spi_in == c->spi_in),
			              "%c: CHILD_SA 0x%08x left REKEYING", 'A' + g, c->spi_in);
}

/* Every live child of g is on the connection's current IKE SA. */
static void assert_children_on_current_sa(int g)
{
	const struct ikev2_sa *cur = gws[g].e->conns[0].sa;

	ck_assert_ptr_nonnull(cur);
	ck_assert_int_eq(cur->state, IKEV2_SA_ESTABLISHED);
	for (unsigned i = 0; i < gws[g].n_kids; i++) {
		const struct ikev2_child *c;
		bool found = false;

		if (gws[g].kids[i].deleted)
			continue;
		for (c = cur->children; c; c = c->next)
			found |= c->spi_in == gws[g].kids[i].c.spi_in;
		ck_assert_msg(found, "%c: live child 0x%08x is not on the current IKE SA", 'A' + g,
		              gws[g].kids[i].c.spi_in);
	}
}

static struct dgram held[2];

/*
 * A CHILD_SA rekey overlapping an IKE_SA rekey by the other side (RFC 7296
 * 2.25.2): whoever has a child exchange out refuses the IKE rekey, whoever
 * rekeys the IKE SA refuses the child, with TEMPORARY_FAILURE; both try
 * again later, one after the other. _i bit 0: which side rekeys the child
 * (0: A, 1: B); bit 1: 0 the requests cross, 1 the IKE rekey is refused
 * before the child request arrives (then the child goes through at once).
 */
START_TEST(child_rekey_overlapping_peer_ike_rekey)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: group14");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: group14");
	int ch = _i & 1, ik = 1 - ch;
	bool crossing = !(_i & 2);
	uint32_t old_spi;

	setup_pair(&a, &b);
	establish();
	assert_up();
	old_spi = gws[ch].kids[0].c.spi_in;
	ikev2_child_expired(gws[ch].e, 0, old_spi, false, now);
	gws[ik].e->conns[0].sa->rekey_at_ms = now;
	now += 100;
	tick_both();
	ck_assert_uint_eq(q_tail - q_head, 2);
	for (int k = 0; k < 2; k++) {
		struct dgram *d = q_pop();

		held[d->from == ch ? 0 : 1] = *d; /* [0]: the child request, [1]: the IKE rekey */
	}
	if (crossing) {
		deliver_one(&held[0]);
		deliver_one(&held[1]);
		pump();
		/* The old child is back to INSTALLED, to be rekeyed again later. */
		ck_assert_int_eq(ikev2_child_find(gws[ch].e->conns[0].sa, old_spi)->state,
		                 IKEV2_CHILD_INSTALLED);
	} else {
		deliver_one(&held[1]);
		pump();
		deliver_one(&held[0]);
		pump();
		ck_assert_uint_eq(gws[ch].n_kids, 2); /* rekeyed at once */
	}
	for (int g = 0; g < 2; g++) {
		assert_no_stale_rekeying(g);
		ck_assert_uint_eq(gws[g].status[0].ike_sa_up, 1);
	}
	/* The retries: the child first, the IKE SA after it. */
	run_for(40000);
	for (int g = 0; g < 2; g++) {
		assert_no_stale_rekeying(g);
		assert_children_on_current_sa(g);
		ck_assert_uint_eq(gws[g].status[0].ike_sa_up, 2);
		ck_assert_uint_eq(ikev2_stats(gws[g].e)->ike_sas, 1);
		ck_assert_uint_eq(live_children(&gws[g], 0), 1);
		ck_assert(!gws[g].gap_seen);
	}
	ck_assert(find_kid(&gws[ch], old_spi)->deleted);
	ck_assert_uint_eq(check_crosswise(), 1);
	ck_assert(logged(&gws[ch], "IKE_SA rekey by the peer while our CREATE_CHILD_SA"));
	ck_assert(logged(&gws[ik], "IKE_SA rekey: the peer answered TEMPORARY_FAILURE"));
	if (crossing) {
		ck_assert(logged(&gws[ik],
		                 "CREATE_CHILD_SA by the peer while our IKE_SA rekey is out"));
		ck_assert(logged(&gws[ch], "CREATE_CHILD_SA: the peer answered TEMPORARY_FAILURE"));
	}
	/* Later rekeys still happen, both kinds, over the new IKE SA. */
	for (int g = 0; g < 2; g++) {
		unsigned before = gws[g].n_kids;
		struct ike_child_info info;

		ck_assert_uint_eq(ikev2_children(gws[g].e, 0, &info, 1), 1);
		ck_assert_uint_gt(info.rekey_at_ms, now);
		ikev2_child_expired(gws[g].e, 0, info.spi_in, false, now);
		run_for(1000);
		ck_assert_uint_eq(gws[g].n_kids, before + 1);
		ck_assert_uint_eq(check_crosswise(), 1);
	}
	gws[ch].e->conns[0].sa->rekey_at_ms = now;
	run_for(2000);
	for (int g = 0; g < 2; g++) {
		ck_assert_uint_eq(gws[g].status[0].ike_sa_up, 3);
		ck_assert_uint_eq(ikev2_stats(gws[g].e)->ike_sas, 1);
		assert_no_stale_rekeying(g);
		assert_children_on_current_sa(g);
	}
	ck_assert_uint_eq(check_crosswise(), 1);
	teardown_pair();
}
END_TEST

/* A new CHILD_SA refused with TEMPORARY_FAILURE (the peer rekeys the IKE SA) is asked for again. */
START_TEST(new_child_refused_during_ike_rekey_is_retried)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct ikev2_sa *sb;

	setup_pair(&a, &b);
	establish();
	assert_up();
	sb = gws[1].e->conns[0].sa;
	ikev2_delete_child_start(gws[1].e, sb, sb->children);
	pump();
	ck_assert_uint_eq(live_children(&gws[0], 0), 0);
	/* A asks for a new child just as B starts rekeying the IKE SA. */
	ikev2_acquire(gws[0].e, 0, now);
	ikev2_ike_rekey_start(gws[1].e, sb);
	ck_assert_uint_eq(q_tail - q_head, 2);
	held[0] = *q_pop();
	held[1] = *q_pop();
	deliver_one(&held[0]);
	deliver_one(&held[1]);
	pump();
	run_for(40000);
	ck_assert_uint_eq(live_children(&gws[0], 0), 1);
	ck_assert_uint_eq(live_children(&gws[1], 0), 1);
	ck_assert_uint_eq(check_crosswise(), 1);
	for (int g = 0; g < 2; g++) {
		ck_assert_uint_eq(gws[g].status[0].ike_sa_up, 2);
		assert_children_on_current_sa(g);
	}
	assert_up();
	ck_assert(logged(&gws[0], "CREATE_CHILD_SA: the peer answered TEMPORARY_FAILURE"));
	teardown_pair();
}
END_TEST

/* Whatever leaves a child REKEYING with no request out, it is rekeyed again, not forgotten. */
START_TEST(child_left_rekeying_is_rekeyed_again)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	uint32_t old;

	setup_pair(&a, &b);
	establish();
	assert_up();
	old = gws[0].kids[0].c.spi_in;
	ikev2_child_find(gws[0].e->conns[0].sa, old)->state = IKEV2_CHILD_REKEYING;
	run_for(1000);
	ck_assert(find_kid(&gws[0], old)->deleted);
	ck_assert_uint_eq(live_children(&gws[0], 0), 1);
	ck_assert_uint_eq(check_crosswise(), 1);
	assert_no_stale_rekeying(0);
	ck_assert(logged(&gws[0], "left rekeying without a request"));
	teardown_pair();
}
END_TEST

START_TEST(dead_peer_detected_and_restarted)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");

	tun.liveness_idle_ms = 5000;
	tun.restart_delay_ms = 2000;
	setup_pair(&a, &b);
	establish();
	assert_up();
	/* Idle and answering: liveness checks pass. */
	run_for(12000);
	ck_assert_int_eq(gws[0].status[0].state, IKE_STATE_PHASE2_SUCCEEDED);
	ck_assert_uint_gt(ikev2_stats(gws[0].e)->tx, 4);
	/* B vanishes. */
	for (int i = 0; i < 800; i++) {
		now += 100;
		tick_both();
		drop_all();
		if (gws[0].status[0].cause == IKE_CAUSE_PEER_NOT_RESPONDING)
			break;
	}
	expect_fail(0, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_PEER_NOT_RESPONDING, NULL);
	ck_assert_uint_eq(live_children(&gws[0], 0), 0);
	ck_assert_uint_eq(ikev2_stats(gws[0].e)->dead_peers, 1);
	/* B comes back (restarted: no state); A restarts and the tunnel returns. */
	ikev2_free(gws[1].e);
	{
		struct ike_ops ops = fake_ops_tmpl;

		ops.ctx = &gws[1];
		gws[1].e = ikev2_new(gws[1].cfg, &ops, gws[1].status, now);
		ikev2_tune(gws[1].e, &tun);
		for (unsigned i = 0; i < gws[1].n_kids; i++)
			gws[1].kids[i].deleted = true;
	}
	run_for(5000);
	ck_assert_int_eq(gws[0].status[0].state, IKE_STATE_PHASE2_SUCCEEDED);
	ck_assert_uint_eq(check_crosswise(), 1);
	teardown_pair();
}
END_TEST

START_TEST(cookies_under_init_flood)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct dgram first;

	tun.half_open_cookie = 4;
	tun.half_open_max = 8;
	setup_pair(&a, &b);
	/* A flood of IKE_SA_INIT from A's address with fresh SPIs (a spoofer replaying). */
	ikev2_start(gws[0].e, now);
	first = *q_pop();
	for (int i = 0; i < 20; i++) {
		struct dgram d = first;

		d.buf[0] = (uint8_t)(first.buf[0] ^ (i + 1)); /* another initiator SPI */
		deliver_one(&d);
	}
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->half_open, 4);
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->cookies_sent, 16);
	drop_all();
	/* The real initiator: gets a cookie, returns it, and gets through. */
	deliver_one(&first);
	pump();
	assert_up();
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->cookies_sent, 17);
	teardown_pair();
}
END_TEST

/* Counts B's SAs (every state). */
static unsigned sa_count(int g)
{
	unsigned n = 0;

	for (const struct ikev2_sa *sa = gws[g].e->all; sa; sa = sa->all_next)
		n++;
	return n;
}

/*
 * A flood of IKE_SA_INIT beyond half_open_max (cookies not asked for
 * here): the rest is refused and counted, the table stays at the bound,
 * and once the flood's SAs have timed out the real initiator gets through.
 */
START_TEST(half_open_bound_refuses_the_rest_of_a_flood)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct dgram first;

	tun.half_open_cookie = 1000;
	tun.half_open_max = 8;
	setup_pair(&a, &b);
	ikev2_start(gws[0].e, now);
	first = *q_pop();
	for (int i = 0; i < 40; i++) {
		struct dgram d = first;

		d.buf[0] = (uint8_t)(first.buf[0] ^ (i + 1));
		d.buf[1] = (uint8_t)(first.buf[1] ^ (i >> 3));
		deliver_one(&d);
		ck_assert_uint_le(ikev2_stats(gws[1].e)->half_open, 8);
		ck_assert_uint_le(sa_count(1), 8);
	}
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->half_open, 8);
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->half_open_refused, 32);
	ck_assert_uint_eq(q_tail - q_head, 8); /* answered: only those given state */
	ck_assert_uint_le(gws[1].e->by_peer_spi.live, 8);
	drop_all();
	/* The real initiator meanwhile: refused too, until the flood has aged out. */
	deliver_one(&first);
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->half_open_refused, 33);
	ck_assert_uint_eq(q_tail - q_head, 0);
	run_for(40000); /* half-open SAs go after 30 s; A's retransmit at 31 s gets in */
	assert_up();
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->half_open, 0);
	ck_assert_uint_eq(sa_count(1), 1);
	ck_assert_uint_ge(ikev2_stats(gws[1].e)->half_open_refused, 34);
	teardown_pair();
}
END_TEST

/*
 * The cookie secret changes every cookie_rotate_ms; a cookie made under
 * the previous secret still works (_i 0), one made two secrets ago does
 * not (_i 1): the initiator gets a new cookie, takes it, and gets through.
 */
START_TEST(cookie_secret_rotates_and_the_previous_one_is_accepted)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct dgram first, spoof, with_cookie;
	struct ikev2_msg m;
	uint8_t ver;

	tun.half_open_cookie = 1;
	tun.cookie_rotate_ms = 5000;
	setup_pair(&a, &b);
	ikev2_start(gws[0].e, now);
	first = *q_pop();
	/* One half-open SA already: cookies from now on. */
	spoof = first;
	spoof.buf[0] ^= 0x55;
	deliver_one(&spoof);
	drop_all();
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->half_open, 1);
	deliver_one(&first);
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->cookies_sent, 1);
	deliver_one(q_pop()); /* the COOKIE to A, who sends IKE_SA_INIT again with it */
	with_cookie = *q_pop();
	ck_assert_int_eq(ikev2_msg_parse(&m, with_cookie.buf, with_cookie.len), IKEV2_PARSE_OK);
	ck_assert_ptr_nonnull(ikev2_msg_notify(&m, IKEV2_N_COOKIE));
	ver = gws[1].e->cookie_ver;
	/* One new secret (_i 0), or two (_i 1); only B's clock runs. */
	for (int k = 0; k <= _i; k++) {
		now += 5100;
		ikev2_tick(gws[1].e, now);
	}
	ck_assert_uint_eq(gws[1].e->cookie_ver, (uint8_t)(ver + 1 + _i));
	deliver_one(&with_cookie);
	if (_i == 0) {
		ck_assert_uint_eq(ikev2_stats(gws[1].e)->cookies_sent, 1);
		ck_assert_uint_eq(ikev2_stats(gws[1].e)->half_open, 2);
	} else {
		ck_assert_uint_eq(ikev2_stats(gws[1].e)->cookies_sent, 2);
		ck_assert_uint_eq(ikev2_stats(gws[1].e)->half_open, 1);
	}
	pump();
	assert_up();
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->cookies_sent, _i == 0 ? 1u : 2u);
	teardown_pair();
}
END_TEST

START_TEST(nat_detected_moves_to_4500_with_udp_encap)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct ike_endpoint peer;

	b.peer = "192.0.2.99"; /* B knows A by its NAT's address */
	b.extra = "";
	a.ike = "encryption: aes, integrity: sha256, dh_group: group14, remote_id: 198.51.100.7";
	b.ike = "encryption: aes, integrity: sha256, dh_group: group14, remote_id: 203.0.113.1";
	nat_a = true;
	tun.keepalive_ms = 1000;
	setup_pair(&a, &b);
	establish();
	assert_up();
	for (int g = 0; g < 2; g++) {
		const struct ike_child *c = &gws[g].kids[0].c;

		ck_assert(c->udp_encap);
		ck_assert_uint_eq(c->local.port, g == 0 ? 4500 : 4500);
	}
	ck_assert_uint_eq(gws[0].kids[0].c.remote.port, 4500);
	ck_assert_uint_eq(gws[1].kids[0].c.remote.port, 14500); /* A's NAT mapping */
	ck_assert(ikev2_peer(gws[1].e, 0, &peer));
	ck_assert_uint_eq(peer.port, 14500);
	/* A is behind the NAT: it sends keepalives (one 0xff byte). */
	{
		bool ka = false;

		now += 1100;
		tick_both();
		for (unsigned i = q_head; i < q_tail; i++)
			if (q[i % QMAX].from == 0 && q[i % QMAX].len == 1 &&
			    q[i % QMAX].buf[0] == 0xff)
				ka = true;
		ck_assert(ka);
		drop_all();
	}
	/* The NAT mapping changes: B follows the new port and the children move with it. */
	{
		unsigned before = gws[1].n_kids;

		ikev2_child_expired(gws[0].e, 0, gws[0].kids[0].c.spi_in, false, now);
		now += 100;
		tick_both();
		for (unsigned i = q_head; i < q_tail; i++)
			if (q[i % QMAX].from == 0)
				q[i % QMAX].src.port = 24500;
		run_for(2000);
		ck_assert(ikev2_peer(gws[1].e, 0, &peer));
		ck_assert_uint_eq(peer.port, 24500);
		ck_assert_uint_gt(gws[1].n_kids, before);
		ck_assert_uint_eq(gws[1].kids[gws[1].n_kids - 1].c.remote.port, 24500);
	}
	teardown_pair();
}
END_TEST

/*
 * No NAT, but one side fakes NAT detection (strongSwan with kernel-libipsec
 * does, to get ESP in UDP): both float to 4500 and every child is ESP in UDP.
 * _i: 0 the initiator fakes, 1 the responder fakes.
 */
START_TEST(faked_nat_gives_udp_encap)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct ikev2_tunables faker = { .fake_nat = true };

	setup_pair(&a, &b);
	ikev2_tune(gws[_i].e, &faker);
	establish();
	assert_up();
	for (int g = 0; g < 2; g++) {
		const struct ike_child *c = &gws[g].kids[0].c;

		ck_assert(c->udp_encap);
		ck_assert_uint_eq(c->local.port, 4500);
		ck_assert_uint_eq(c->remote.port, 4500);
	}
	/* Only a real NAT in front of us means keepalives. */
	now += 30000;
	tick_both();
	for (unsigned i = q_head; i < q_tail; i++)
		ck_assert_uint_ne(q[i % QMAX].len, 1);
	teardown_pair();
}
END_TEST

START_TEST(down_deletes_and_up_restores)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");

	setup_pair(&a, &b);
	establish();
	assert_up();
	ck_assert_int_eq(ikev2_down(gws[0].e, 0, now), 0);
	ck_assert_int_eq(gws[0].status[0].state, IKE_STATE_DOWN);
	pump();
	ck_assert_uint_eq(live_children(&gws[0], 0), 0);
	ck_assert_uint_eq(live_children(&gws[1], 0), 0);
	/* While down, the peer's attempts are not answered and change nothing. */
	ikev2_acquire(gws[1].e, 0, now);
	ck_assert_uint_eq(pump(), 1);
	ck_assert_int_eq(gws[0].status[0].state, IKE_STATE_DOWN);
	ck_assert_uint_eq(ikev2_stats(gws[0].e)->unknown_peer, 0);
	ikev2_down(gws[1].e, 0, now);
	ck_assert_int_eq(ikev2_up(gws[1].e, 0, now), 0);
	drop_all();
	ck_assert_int_eq(ikev2_up(gws[0].e, 0, now), 0);
	pump();
	assert_up();
	ck_assert_int_eq(ikev2_up(gws[0].e, 7, now), -1);
	teardown_pair();
}
END_TEST

/*
 * vpnctl down while a request is out (_i: 0 a child rekey, 1 an IKE rekey,
 * 2 a liveness check): with window size 1 the Delete waits for that
 * request's answer; the children leave the data plane at once, the peer
 * takes the Delete (no message ID out of its window) and nothing is left.
 */
START_TEST(down_waits_for_the_request_that_is_out)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct ikev2_sa *sa;
	uint64_t malformed;
	uint32_t out_id;
	uint8_t spi_i[8];
	unsigned deletes = 0;

	setup_pair(&a, &b);
	establish();
	assert_up();
	sa = gws[0].e->conns[0].sa;
	if (_i == 0)
		ikev2_child_expired(gws[0].e, 0, gws[0].kids[0].c.spi_in, false, now);
	else if (_i == 1)
		sa->rekey_at_ms = now;
	else
		ikev2_liveness_start(gws[0].e, sa);
	now += 100;
	ikev2_tick(gws[0].e, now);
	ck_assert(sa->req_pending);
	ck_assert_uint_eq(q_tail - q_head, 1);
	out_id = sa->req_id;
	malformed = ikev2_stats(gws[1].e)->malformed;
	ck_assert_int_eq(ikev2_down(gws[0].e, 0, now), 0);
	ck_assert_int_eq(gws[0].status[0].state, IKE_STATE_DOWN);
	ck_assert_uint_eq(live_children(&gws[0], 0), 0);
	/* Nothing more goes out while that request is unanswered, retransmits aside. */
	ck_assert_uint_eq(q_tail - q_head, 1);
	now += 100;
	ikev2_tick(gws[0].e, now);
	ck_assert_uint_eq(q_tail - q_head, 1);
	/* The answer comes; then the Delete on that SA, with the next message ID. */
	memcpy(spi_i, sa->spi_i, 8);
	deliver_one(q_pop());
	deliver_one(q_pop());
	now += 100;
	ikev2_tick(gws[0].e, now); /* an IKE rekey's new SA is deleted from the timer */
	for (unsigned i = q_head; i < q_tail; i++) {
		struct ikev2_msg m;

		ck_assert_int_eq(ikev2_msg_parse(&m, q[i % QMAX].buf, q[i % QMAX].len),
		                 IKEV2_PARSE_OK);
		ck_assert_uint_eq(m.exchange, IKEV2_EXCH_INFORMATIONAL);
		if (memcmp(m.spi_i, spi_i, 8) == 0) {
			ck_assert_uint_eq(m.msg_id, out_id + 1);
			deletes++;
		}
	}
	ck_assert_uint_eq(deletes, 1);
	run_for(3000);
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->malformed, malformed);
	ck_assert_ptr_null(gws[0].e->all);
	ck_assert_ptr_null(gws[1].e->all);
	ck_assert_uint_eq(live_children(&gws[0], 0), 0);
	ck_assert_uint_eq(live_children(&gws[1], 0), 0);
	ck_assert_uint_eq(ikev2_stats(gws[0].e)->ike_sas, 0);
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->ike_sas, 0);
	ck_assert_int_eq(gws[0].status[0].state, IKE_STATE_DOWN);
	ck_assert_int_eq(gws[1].status[0].state, IKE_STATE_DOWN);
	/* And up brings it back. */
	ck_assert_int_eq(ikev2_up(gws[0].e, 0, now), 0);
	pump();
	assert_up();
	teardown_pair();
}
END_TEST

START_TEST(both_sides_initiate_at_once)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");

	b.immediate = true;
	setup_pair(&a, &b);
	establish();
	assert_up();
	/* Whatever got duplicated, every child has its twin, and it stays so. */
	run_for(30000);
	ck_assert_uint_ge(check_crosswise(), 1);
	ck_assert_int_eq(gws[0].status[0].state, IKE_STATE_PHASE2_SUCCEEDED);
	ck_assert_int_eq(gws[1].status[0].state, IKE_STATE_PHASE2_SUCCEEDED);
	teardown_pair();
}
END_TEST

/* A peer that opens one IKE/CHILD_SA per subnet pair (here: two connections on A). */
START_TEST(peer_with_one_sa_per_subnet_pair)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	char buf[TS_STR_MAX];

	a.extra =
	        "  - name: c2\n"
	        "    customer_gateway: peer\n"
	        "    local_subnets: [10.11.0.0/16]\n"
	        "    remote_subnets: [10.22.0.0/16]\n"
	        "    effect_immediately: true\n"
	        "    psk: s3cret\n"
	        "    ike: {version: ikev2, encryption: aes, integrity: sha256, dh_group: group14}\n"
	        "    ipsec: {encryption: aes-gcm-128, pfs: disabled}\n";
	b.local = "10.2.0.0/16, 10.22.0.0/16";
	b.remote = "10.1.0.0/16, 10.11.0.0/16";
	setup_pair(&a, &b);
	establish();
	ck_assert_int_eq(gws[0].status[1].state, IKE_STATE_PHASE2_SUCCEEDED);
	assert_up();
	ck_assert_uint_eq(check_crosswise(), 2);
	ck_assert_uint_eq(live_children(&gws[1], 0), 2);
	ts_format(&gws[1].kids[1].c.ts_remote[0], buf, sizeof(buf));
	ck_assert_str_eq(buf, "10.11.0.0/16");
	ck_assert(logged(&gws[1], "multi_sa_peer"));
	/* B's status says so, with the tunnel up. */
	ck_assert_int_eq(gws[1].status[0].state, IKE_STATE_PHASE2_SUCCEEDED);
	ck_assert_int_eq(gws[1].status[0].cause, IKE_CAUSE_MULTI_SA_PEER);
	ck_assert_ptr_nonnull(strstr(gws[1].status[0].evidence, "one SA per subnet pair"));
	ck_assert_uint_eq(gws[1].status[0].failures[IKE_CAUSE_MULTI_SA_PEER], 1);
	/* Both stay up through their rekeys, and the note with them. */
	ikev2_child_expired(gws[1].e, 0, gws[1].kids[1].c.spi_in, false, now);
	run_for(2000);
	ck_assert_uint_eq(check_crosswise(), 2);
	ck_assert_int_eq(gws[1].status[0].state, IKE_STATE_PHASE2_SUCCEEDED);
	ck_assert_int_eq(gws[1].status[0].cause, IKE_CAUSE_MULTI_SA_PEER);
	ck_assert_uint_eq(gws[1].status[0].failures[IKE_CAUSE_MULTI_SA_PEER], 1);
	teardown_pair();
}
END_TEST

/* An unknown payload marked critical (2.5) is refused, naming its type. */
START_TEST(unknown_critical_payload_refused)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct dgram d, *r;
	struct ikev2_msg m;
	const struct ikev2_notify *n;
	size_t len;

	setup_pair(&a, &b);
	ikev2_start(gws[0].e, now);
	d = *q_pop();
	/* Append an unknown payload (type 200) with the critical bit at the chain's end. */
	ck_assert_int_eq(ikev2_msg_parse(&m, d.buf, d.len), IKEV2_PARSE_OK);
	{
		size_t off = IKEV2_HDR_LEN, last = 16;

		while (off < d.len) {
			last = off;
			off += get_be16(d.buf + off + 2);
		}
		d.buf[last] = 200;
	}
	len = d.len;
	d.buf[len] = 0;
	d.buf[len + 1] = 0x80;
	put_be16(d.buf + len + 2, 6);
	d.buf[len + 4] = 1;
	d.buf[len + 5] = 2;
	d.len = len + 6;
	put_be32(d.buf + 24, (uint32_t)d.len);
	deliver_one(&d);
	r = q_pop();
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(ikev2_msg_parse(&m, r->buf, r->len), IKEV2_PARSE_OK);
	n = ikev2_msg_notify(&m, IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD);
	ck_assert_ptr_nonnull(n);
	ck_assert_uint_eq(n->data_len, 1);
	ck_assert_uint_eq(n->data[0], 200);
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->half_open, 0);
	/* Without the critical bit it is skipped and the exchange goes on. */
	d.buf[len + 1] = 0;
	deliver_one(&d);
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->half_open, 1);
	teardown_pair();
}
END_TEST

START_TEST(hard_expiry_deletes_and_renegotiates)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	uint32_t old;

	setup_pair(&a, &b);
	establish();
	assert_up();
	old = gws[0].kids[0].c.spi_in;
	ikev2_child_expired(gws[0].e, 0, old, true, now);
	run_for(2000);
	ck_assert(find_kid(&gws[0], old)->deleted);
	ck_assert_uint_eq(live_children(&gws[0], 0), 1);
	ck_assert_uint_eq(check_crosswise(), 1);
	teardown_pair();
}
END_TEST

START_TEST(deleted_child_comes_back_on_acquire)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct ikev2_sa *sb;

	setup_pair(&a, &b);
	establish();
	assert_up();
	/* B deletes its only child (an operator, or a peer's idle timeout). */
	sb = gws[1].e->conns[0].sa;
	ikev2_delete_child_start(gws[1].e, sb, sb->children);
	pump();
	ck_assert_uint_eq(live_children(&gws[0], 0), 0);
	ck_assert_uint_eq(live_children(&gws[1], 0), 0);
	expect_fail(0, IKE_STATE_PHASE2_FAILED, IKE_CAUSE_PEER_REJECTED, "deleted the last");
	/* Traffic for it: a new child over the same IKE SA. */
	ikev2_acquire(gws[0].e, 0, now);
	pump();
	assert_up();
	ck_assert_uint_eq(gws[0].status[0].ike_sa_up, 1);
	teardown_pair();
}
END_TEST

START_TEST(half_open_sa_expires)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");

	setup_pair(&a, &b);
	ikev2_start(gws[0].e, now);
	deliver_one(q_pop());
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->half_open, 1);
	ck_assert_int_eq(gws[1].status[0].state, IKE_STATE_PHASE1_NEGOTIATING);
	for (int i = 0; i < 320; i++) {
		drop_all();
		now += 100;
		tick_both();
	}
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->half_open, 0);
	expect_fail(1, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_PEER_NOT_RESPONDING, "no IKE_AUTH");
	teardown_pair();
}
END_TEST

START_TEST(ipv6_outer_and_inner)
{
	struct side a = A_SIDE("encryption: aes-gcm-256, integrity: sha384, dh_group: group20",
	                       "encryption: aes-gcm-256, pfs: group20");
	struct side b = B_SIDE("encryption: aes-gcm-256, integrity: sha384, dh_group: group20",
	                       "encryption: aes-gcm-256, pfs: group20");

	a.addr = "2001:db8::1";
	a.peer = "2001:db8::2";
	b.addr = "2001:db8::2";
	b.peer = "2001:db8::1";
	a.local = b.remote = "fd01::/64, 10.1.0.0/16";
	a.remote = b.local = "fd02::/64";
	setup_pair(&a, &b);
	establish();
	assert_up();
	ck_assert_uint_eq(gws[0].kids[0].c.remote.family, 6);
	ck_assert_uint_eq(gws[0].kids[0].c.n_ts_local, 2);
	ck_assert_uint_eq(gws[0].kids[0].c.ts_remote[0].family, TS_IPV6);
	ikev2_child_expired(gws[1].e, 0, gws[1].kids[0].c.spi_in, false, now);
	run_for(1000);
	ck_assert_uint_eq(check_crosswise(), 1);
	teardown_pair();
}
END_TEST

/* The peer talks from another address than its customer gateway's: told by its ID. */
START_TEST(unknown_peer_recognised_by_id)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14, "
	                       "local_id: a.example",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14, "
	                       "remote_id: a.example",
	                       "encryption: aes-gcm-128, pfs: disabled");

	b.peer = "203.0.113.50"; /* wrong: A is 203.0.113.1 */
	setup_pair(&a, &b);
	establish();
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->unknown_peer, 1);
	expect_fail(1, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_UNKNOWN_PEER,
	            "IKE from 203.0.113.1:500 with IDi fqdn:a.example, but the customer gateway is "
	            "203.0.113.50");
	ck_assert_int_eq(gws[0].status[0].state, IKE_STATE_PHASE1_FAILED);
	ck_assert_uint_eq(gws[0].n_kids + gws[1].n_kids, 0);
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->half_open, 0);
	teardown_pair();
}
END_TEST

START_TEST(acquire_initiates_a_waiting_connection)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");

	a.immediate = false;
	setup_pair(&a, &b);
	establish();
	ck_assert_uint_eq(gws[0].n_kids, 0);
	ck_assert_int_eq(gws[0].status[0].state, IKE_STATE_DOWN);
	ikev2_acquire(gws[1].e, 0, now); /* B initiates this time */
	pump();
	assert_up();
	teardown_pair();
}
END_TEST

START_TEST(garbage_is_counted_not_crashed_on)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct ike_endpoint l = { .family = 4, .port = 500 }, r = { .family = 4, .port = 500 };
	uint8_t junk[64];

	setup_pair(&a, &b);
	memcpy(l.addr, (uint8_t[]){ 198, 51, 100, 7 }, 4);
	memcpy(r.addr, a_addr, 4);
	memset(junk, 0x41, sizeof(junk));
	ikev2_input(gws[1].e, &l, &r, junk, sizeof(junk), now);
	junk[17] = 0x20; /* v2 */
	ikev2_input(gws[1].e, &l, &r, junk, sizeof(junk), now);
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->malformed, 2);
	establish();
	assert_up();
	/* A tampered encrypted message: authentication fails, counted. */
	ikev2_child_expired(gws[0].e, 0, gws[0].kids[0].c.spi_in, false, now);
	now += 100;
	tick_both();
	{
		struct dgram *d = q_pop();

		ck_assert_ptr_nonnull(d);
		d->buf[d->len - 1] ^= 1;
		deliver_one(d);
	}
	ck_assert_uint_eq(ikev2_stats(gws[1].e)->auth_failed, 1);
	/* An IKE_SA_INIT from an address no customer gateway has: counted. */
	drop_all();
	ikev2_down(gws[0].e, 0, now);
	drop_all(); /* its delete */
	ikev2_up(gws[0].e, 0, now);
	{
		struct dgram *d = q_pop();
		uint64_t half = ikev2_stats(gws[1].e)->half_open;

		ck_assert_ptr_nonnull(d);
		r.addr[3] = 77;
		ikev2_input(gws[1].e, &l, &r, d->buf, d->len, now);
		ck_assert_uint_eq(ikev2_stats(gws[1].e)->unknown_peer, 1);
		ck_assert_uint_le(ikev2_stats(gws[1].e)->half_open, half + 1);
	}
	teardown_pair();
}
END_TEST

/* An IKEv1 message given to the IKEv2 engine is counted and dropped; nothing else changes. */
START_TEST(other_major_version_is_dropped)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct dgram d;

	setup_pair(&a, &b);
	ikev2_start(gws[0].e, now);
	d = *q_pop();
	d.buf[17] = 0x10; /* major version 1 */
	d.from = 1;       /* as if B answered in IKEv1 */
	d.src = d.dst;
	d.dst = q[0].src;
	deliver_one(&d);
	ck_assert_uint_eq(ikev2_stats(gws[0].e)->malformed, 1);
	ck_assert_int_eq(gws[0].status[0].state, IKE_STATE_PHASE1_NEGOTIATING);
	ck_assert_ptr_nonnull(gws[0].e->conns[0].sa);
	ck_assert_uint_eq(gws[0].status[0].failures[IKE_CAUSE_IKE_VERSION_MISMATCH], 0);
	ck_assert_uint_eq(q_tail - q_head, 0);
	teardown_pair();
}
END_TEST

/*
 * Known answer for the key derivation: SKEYSEED and the SK_* keys for
 * fixed nonces, SPIs and g^ir, PRF HMAC-SHA256, AES-128-CBC + HMAC-SHA256-128.
 * The expected bytes were computed independently with python3:
 *   import hmac, hashlib
 *   ni = bytes(range(32)); nr = bytes(range(32, 64)); g = bytes([0x5a]) * 256
 *   spi_i = bytes.fromhex('0102030405060708'); spi_r = bytes.fromhex('1112131415161718')
 *   prf = lambda k, d: hmac.new(k, d, hashlib.sha256).digest()
 *   skeyseed = prf(ni + nr, g)
 *   s = ni + nr + spi_i + spi_r; t = b''; out = b''; i = 1
 *   while len(out) < 32*3 + 32*2 + 16*2:
 *       t = prf(skeyseed, t + s + bytes([i])); out += t; i += 1
 *   SK_d = out[0:32], SK_ai = out[32:64], SK_ar = out[64:96], SK_ei = out[96:112],
 *   SK_er = out[112:128], SK_pi = out[128:160], SK_pr = out[160:192]
 */
#define KAT_SK_D  "32707e6554ce3e3022cf7c22036c25e4131fa2427a87476963544119dbdbb972"
#define KAT_SK_AI "09c9ef810bf621dc68801f8c9c409383ba2dc2f5618f3a40572903c7c1ee6001"
#define KAT_SK_AR "2e2a554aace4630b9398806f0344bbc8674bc88751a55f56e5a4e88cd4c2f88e"
#define KAT_SK_EI "f5608afa5cc891c53218fb617e9d4075"
#define KAT_SK_ER "cab439e1aa4860c61c2206892bd94bcf"
#define KAT_SK_PI "94f6d81e34e0e77b21ad6c357193b752c860fc69ea5c3f505445df5333a2ffdd"
#define KAT_SK_PR "c5e5552326c8b6c4beed2e4f5c99819e6086ad88e2e0ab7a9a46511dcae0fdfe"
START_TEST(key_derivation_known_answer)
{
	struct ikev2_sa sa;
	uint8_t g[256];

	ck_assert_int_eq(crypto_init(), 0);
	memset(&sa, 0, sizeof(sa));
	sa.initiator = true;
	sa.ch.encr = CRYPTO_ENCR_AES128_CBC;
	sa.ch.prf = CRYPTO_PRF_HMAC_SHA256;
	sa.ch.integ = CRYPTO_INTEG_HMAC_SHA256_128;
	for (int i = 0; i < 32; i++) {
		sa.ni[i] = (uint8_t)i;
		sa.nr[i] = (uint8_t)(32 + i);
	}
	sa.ni_len = sa.nr_len = 32;
	hex2bin("0102030405060708", sa.spi_i, 8);
	hex2bin("1112131415161718", sa.spi_r, 8);
	memset(g, 0x5a, sizeof(g));
	ck_assert_int_eq(ikev2_keys_derive(&sa, g, sizeof(g), NULL), 0);
	ck_assert_mem_eq_hex(sa.k->sk_d, KAT_SK_D);
	ck_assert_mem_eq_hex(sa.k->sk_ai, KAT_SK_AI);
	ck_assert_mem_eq_hex(sa.k->sk_ar, KAT_SK_AR);
	ck_assert_mem_eq_hex(sa.k->sk_ei, KAT_SK_EI);
	ck_assert_mem_eq_hex(sa.k->sk_er, KAT_SK_ER);
	ck_assert_mem_eq_hex(sa.k->sk_pi, KAT_SK_PI);
	ck_assert_mem_eq_hex(sa.k->sk_pr, KAT_SK_PR);
	ikev2_keys_free(sa.k);
}
END_TEST

/* The codec: what the writer builds, the parser reads back, and truncations fail. */
START_TEST(codec_round_trip_and_truncation)
{
	uint8_t buf[1024];
	struct ikev2_wr w;
	struct ikev2_msg m;
	struct ikev2_sa_payload *sap = malloc(sizeof(*sap));
	struct ikev2_prop_out p = { .proto = IKEV2_PROTO_ESP, .spi_len = 4, .spi = { 1, 2, 3, 4 } };
	struct ts ts[2];
	static const uint8_t spi_i[8] = { 1 }, spi_r[8] = { 2 };
	size_t full;

	ck_assert_ptr_nonnull(sap);
	ck_assert_int_eq(ts_parse("10.0.0.0/8", 0, &ts[0]), TS_OK);
	ck_assert_int_eq(ts_parse("2001:db8::/32[tcp/443]", 0, &ts[1]), TS_OK);
	p.encr[p.n_encr++] = CRYPTO_ENCR_AES256_CBC;
	p.encr[p.n_encr++] = CRYPTO_ENCR_3DES_CBC;
	p.integ[p.n_integ++] = CRYPTO_INTEG_HMAC_SHA256_128;
	p.esn[p.n_esn++] = 0;
	ikev2_wr_init(&w, buf, sizeof(buf));
	ikev2_wr_header(&w, spi_i, spi_r, IKEV2_EXCH_CREATE_CHILD_SA, IKEV2_FLAG_INITIATOR, 7);
	ikev2_wr_sa(&w, &p, 1);
	ikev2_wr_ts(&w, IKEV2_PL_TSI, ts, 2);
	ikev2_wr_notify(&w, 0, NULL, 0, IKEV2_N_COOKIE, (const uint8_t *)"abc", 3);
	ikev2_wr_finish(&w);
	ck_assert(!w.failed);
	full = w.len;
	ck_assert_int_eq(ikev2_msg_parse(&m, buf, full), IKEV2_PARSE_OK);
	ck_assert_uint_eq(m.msg_id, 7);
	ck_assert_uint_eq(m.n_tsi, 2);
	ck_assert(ts_equal(&m.tsi[1], &ts[1]));
	ck_assert_ptr_nonnull(ikev2_msg_notify(&m, IKEV2_N_COOKIE));
	ck_assert_int_eq(ikev2_sa_parse(sap, m.sa.p, m.sa.len), 0);
	ck_assert_uint_eq(sap->n, 1);
	ck_assert_uint_eq(sap->p[0].n_tr, 4);
	ck_assert_uint_eq(sap->p[0].tr[0].key_bits, 256);
	for (size_t cut = 0; cut < full; cut++) {
		put_be32(buf + 24, (uint32_t)cut);
		ck_assert_int_ne(ikev2_msg_parse(&m, buf, cut), IKEV2_PARSE_OK);
	}
	/* An unknown payload with the critical bit is reported. */
	put_be32(buf + 24, (uint32_t)full);
	buf[16] = 99; /* first payload type: unknown */
	buf[IKEV2_HDR_LEN + 1] = 0x80;
	ck_assert_int_eq(ikev2_msg_parse(&m, buf, full), IKEV2_PARSE_OK);
	ck_assert_uint_eq(m.unsupported_critical, 99);
	/* An SK payload after another one: its offset is where it starts. */
	{
		static const uint8_t body[24];
		size_t sk_at;

		ikev2_wr_init(&w, buf, sizeof(buf));
		ikev2_wr_header(&w, spi_i, spi_r, IKEV2_EXCH_INFORMATIONAL, IKEV2_FLAG_INITIATOR,
		                1);
		ikev2_wr_notify(&w, 0, NULL, 0, IKEV2_N_COOKIE, (const uint8_t *)"abcde", 5);
		sk_at = w.len;
		ikev2_wr_simple(&w, IKEV2_PL_SK, body, sizeof(body));
		ikev2_wr_finish(&w);
		ck_assert_int_eq(ikev2_msg_parse(&m, buf, w.len), IKEV2_PARSE_OK);
		ck_assert(m.has_sk);
		ck_assert_uint_eq(m.sk_off, sk_at);
		ck_assert_uint_eq(m.sk_len, 4 + sizeof(body));
		ck_assert_uint_eq(m.sk_off + m.sk_len, m.raw_len);
	}
	free(sap);
}
END_TEST

/* Every Delete payload and every SPI in it is read, however many the message holds. */
START_TEST(codec_reads_every_delete_payload)
{
	static uint8_t buf[IKE_MSG_MAX];
	static const uint8_t spi_i[8] = { 1 }, spi_r[8] = { 2 };
	static const unsigned counts[] = { 1, 40, 2, 0, 300, 1 };
	uint32_t spis[300], seen = 0, want = 0;
	struct ikev2_delete_iter it;
	struct ikev2_delete d;
	struct ikev2_wr w;
	struct ikev2_msg m;
	unsigned payloads = 0;

	ikev2_wr_init(&w, buf, sizeof(buf));
	ikev2_wr_header(&w, spi_i, spi_r, IKEV2_EXCH_INFORMATIONAL, IKEV2_FLAG_INITIATOR, 3);
	for (unsigned k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		for (unsigned i = 0; i < counts[k]; i++) {
			spis[i] = 0x10000000u * (k + 1) + i;
			want += spis[i];
		}
		ikev2_wr_delete(&w, IKEV2_PROTO_ESP, spis, counts[k]);
	}
	ikev2_wr_notify(&w, 0, NULL, 0, IKEV2_N_COOKIE, (const uint8_t *)"x", 1);
	ikev2_wr_finish(&w);
	ck_assert(!w.failed);
	ck_assert_int_eq(ikev2_msg_parse(&m, buf, w.len), IKEV2_PARSE_OK);
	ck_assert_uint_eq(m.n_delete, 6);
	ck_assert_uint_eq(m.n_delete_spis, 344);
	ikev2_delete_iter_init(&m, &it);
	while (ikev2_delete_next(&m, &it, &d)) {
		ck_assert_uint_lt(payloads, 6);
		ck_assert_uint_eq(d.proto, IKEV2_PROTO_ESP);
		ck_assert_uint_eq(d.n_spi, counts[payloads]);
		for (unsigned i = 0; i < d.n_spi; i++) {
			ck_assert_uint_eq(get_be32(d.spis + 4 * i),
			                  0x10000000u * (payloads + 1) + i);
			seen += get_be32(d.spis + 4 * i);
		}
		payloads++;
	}
	ck_assert_uint_eq(payloads, 6);
	ck_assert_uint_eq(seen, want);
	ck_assert(!ikev2_delete_next(&m, &it, &d)); /* stays done */
}
END_TEST

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

/*
 * tshark, a decoder nobody here wrote, decrypts and verifies our SK
 * payloads with the SK_* keys and finds the payloads we put inside.
 */
START_TEST(tshark_decrypts_our_exchange)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14, "
	                       "local_id: a.example, remote_id: vpn@b.example",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14, "
	                       "local_id: vpn@b.example, remote_id: a.example",
	                       "encryption: aes-gcm-128, pfs: disabled");
	static const uint32_t ghdr[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 101 /* raw IP */ };
	char path[] = "/tmp/test_ikev2_XXXXXX";
	char cmd[2048], line[1024], si[17], sr[17], ei[33], er[33], ai[65], ar[65];
	const struct ikev2_sa *sa;
	bool idi = false, idr = false, auth = false, tsi = false, fqdn = false, good = false;
	bool bad = false;
	FILE *out;
	int fd;

	setup_pair(&a, &b);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	pcap = fdopen(fd, "wb");
	ck_assert_ptr_nonnull(pcap);
	ck_assert_uint_eq(fwrite(ghdr, 4, 6, pcap), 6);
	establish();
	ikev2_child_expired(gws[0].e, 0, gws[0].kids[0].c.spi_in, false, now);
	run_for(1000);
	fclose(pcap);
	pcap = NULL;
	assert_up();
	sa = gws[0].e->conns[0].sa;
	ck_assert_ptr_nonnull(sa);
	hex(sa->spi_i, 8, si);
	hex(sa->spi_r, 8, sr);
	hex(sa->k->sk_ei, 16, ei);
	hex(sa->k->sk_er, 16, er);
	hex(sa->k->sk_ai, 32, ai);
	hex(sa->k->sk_ar, 32, ar);
	snprintf(cmd, sizeof(cmd),
	         "tshark -n -r %s -o 'uat:ikev2_decryption_table:%s,%s,%s,%s,"
	         "\"AES-CBC-128 [RFC3602]\",%s,%s,\"HMAC_SHA2_256_128 [RFC4868]\"' -V 2>&1",
	         path, si, sr, ei, er, ai, ar);
	out = popen(cmd, "r");
	ck_assert_ptr_nonnull(out);
	while (fgets(line, sizeof(line), out)) {
		idi |= strstr(line, "Identification - Initiator") != NULL;
		idr |= strstr(line, "Identification - Responder") != NULL;
		auth |= strstr(line, "Payload: Authentication (39)") != NULL;
		tsi |= strstr(line, "Traffic Selector - Initiator") != NULL;
		fqdn |= strstr(line, "a.example") != NULL;
		good |= strstr(line, "[correct]") != NULL;
		bad |= strstr(line, "[incorrect") != NULL || strstr(line, "Invalid") != NULL;
	}
	if (getenv("IKEV2_TEST_KEEP_PCAP"))
		fprintf(stderr, "%s\n", cmd);
	else
		unlink(path);
	ck_assert_int_eq(pclose(out), 0);
	ck_assert_msg(idi && idr && auth && tsi && fqdn, "tshark did not decrypt: %d %d %d %d %d",
	              idi, idr, auth, tsi, fqdn);
	ck_assert(good);
	ck_assert(!bad);
	teardown_pair();
}
END_TEST

/* ---- a hostile or broken peer ---- */

/* Sends sa's peer a message sa protects (exchange, request or response, msg_id, inner payloads). */
static void inject_from(int gw, struct ikev2_sa *sa, uint8_t exch, bool response, uint32_t msg_id,
                        void (*inner)(struct ikev2_wr *w))
{
	static struct ikev2_sk_wr s;
	static uint8_t buf[IKE_MSG_MAX];
	size_t len;

	ikev2_sk_begin(sa, &s, buf, sizeof(buf), exch, response, msg_id);
	if (inner)
		inner(&s.in);
	len = ikev2_sk_end(sa, &s);
	ck_assert_uint_gt(len, 0);
	ikev2_input(gws[1 - gw].e, &sa->remote, &sa->local, buf, len, now);
}

static void wr_delete_ike(struct ikev2_wr *w)
{
	ikev2_wr_delete(w, IKEV2_PROTO_IKE, NULL, 0);
}

static void wr_temporary_failure(struct ikev2_wr *w)
{
	ikev2_wr_notify(w, 0, NULL, 0, IKEV2_N_TEMPORARY_FAILURE, NULL, 0);
}

static uint16_t inject_ke_group;

static void wr_invalid_ke(struct ikev2_wr *w)
{
	uint8_t g[2];

	put_be16(g, inject_ke_group);
	ikev2_wr_notify(w, 0, NULL, 0, IKEV2_N_INVALID_KE_PAYLOAD, g, 2);
}

/*
 * A's request out; B's SA answers it with INVALID_KE_PAYLOAD(group) in
 * B's place (B's message ID window moves as if B had sent it).
 */
static void answer_a_with_invalid_ke(uint16_t group)
{
	struct ikev2_sa *sa = gws[0].e->conns[0].sa, *sb = gws[1].e->conns[0].sa;

	ck_assert(sa->req_pending);
	ck_assert_uint_eq(sb->resp_id, sa->req_id);
	drop_all();
	inject_ke_group = group;
	inject_from(1, sb, IKEV2_EXCH_CREATE_CHILD_SA, true, sa->req_id, wr_invalid_ke);
	sb->resp_id++;
	sb->have_resp = false;
}

/* The peer's IKE_SA rekey answer asks for another group of ours: rekeyed again with it. */
START_TEST(ike_rekey_follows_invalid_ke_payload)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: [group14, group2]",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: [group14, group2]",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct config_algs *bdh;

	setup_pair(&a, &b);
	establish();
	assert_up();
	ck_assert_int_eq(gws[0].e->conns[0].sa->ch.dh, CRYPTO_DH_MODP2048);
	/* B's operator now allows group2 only; A rekeys with group14 first. */
	bdh = &gws[1].cfg->connections[0].ike.dh;
	bdh->ids[0] = CRYPTO_DH_MODP1024;
	bdh->n = 1;
	gws[0].e->conns[0].sa->rekey_at_ms = now;
	run_for(2000);
	for (int g = 0; g < 2; g++) {
		ck_assert_uint_eq(gws[g].status[0].ike_sa_up, 2);
		ck_assert_int_eq(gws[g].e->conns[0].sa->ch.dh, CRYPTO_DH_MODP1024);
		ck_assert_uint_eq(gws[g].status[0].failures[IKE_CAUSE_DH_GROUP_MISMATCH], 0);
	}
	assert_up();
	ck_assert(logged(&gws[0], "IKE_SA rekey: the peer wants DH group2 (INVALID_KE_PAYLOAD)"));
	teardown_pair();
}
END_TEST

/*
 * INVALID_KE_PAYLOAD to our IKE rekey for a group ike.dh does not have, or
 * one already sent: dh_group_mismatch naming both, the tunnel stays up and
 * a later rekey clears it.
 */
START_TEST(ike_rekey_invalid_ke_not_allowed_is_dh_group_mismatch)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");

	setup_pair(&a, &b);
	establish();
	assert_up();
	gws[0].e->conns[0].sa->rekey_at_ms = now;
	now += 100;
	tick_both();
	answer_a_with_invalid_ke(19);
	expect_fail(0, IKE_STATE_PHASE2_SUCCEEDED, IKE_CAUSE_DH_GROUP_MISMATCH,
	            "INVALID_KE_PAYLOAD to our IKE_SA rekey: the peer wants DH group group19, we "
	            "allow group14");
	ck_assert(!gws[0].e->conns[0].sa->req_pending); /* no retry with a group we do not allow */
	ck_assert_uint_eq(check_crosswise(), 1);
	/* The group we sent, asked for again: no loop either. */
	gws[0].e->conns[0].sa->rekey_at_ms = now;
	now += 100;
	tick_both();
	answer_a_with_invalid_ke(14);
	ck_assert_ptr_nonnull(strstr(gws[0].status[0].evidence, "group14 (already tried)"));
	ck_assert(!gws[0].e->conns[0].sa->req_pending);
	ck_assert_uint_eq(gws[0].status[0].failures[IKE_CAUSE_DH_GROUP_MISMATCH], 2);
	/* Tried again after a while; the real peer accepts, and the note goes. */
	run_for(61000);
	ck_assert_uint_eq(gws[0].status[0].ike_sa_up, 2);
	ck_assert_int_eq(gws[0].status[0].cause, IKE_CAUSE_NONE);
	assert_up();
	teardown_pair();
}
END_TEST

/* INVALID_KE_PAYLOAD to a child rekey with PFS, for a group pfs does not name: pfs_mismatch. */
START_TEST(child_rekey_invalid_ke_not_allowed_is_pfs_mismatch)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: group14");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: group14");
	uint32_t old;

	setup_pair(&a, &b);
	establish();
	assert_up();
	old = gws[0].kids[0].c.spi_in;
	ikev2_child_expired(gws[0].e, 0, old, false, now);
	now += 100;
	tick_both();
	answer_a_with_invalid_ke(2);
	expect_fail(
	        0, IKE_STATE_PHASE2_SUCCEEDED, IKE_CAUSE_PFS_MISMATCH,
	        "INVALID_KE_PAYLOAD to our CREATE_CHILD_SA: the peer wants PFS group group2, we "
	        "sent group14 and allow group14");
	ck_assert(!gws[0].e->conns[0].sa->req_pending);
	ck_assert_int_eq(ikev2_child_find(gws[0].e->conns[0].sa, old)->state,
	                 IKEV2_CHILD_INSTALLED);
	ck_assert_uint_eq(check_crosswise(), 1);
	/* Rekeyed later, when the peer answers properly. */
	run_for(61000);
	ck_assert(find_kid(&gws[0], old)->deleted);
	ck_assert_uint_eq(check_crosswise(), 1);
	teardown_pair();
}
END_TEST

/*
 * The PFS group was changed on both sides while a rekey was out: the
 * peer's INVALID_KE_PAYLOAD names the group our config now has, and the
 * request goes again with it.
 */
START_TEST(child_rekey_follows_invalid_ke_payload_for_the_configured_group)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: group14");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: group14");
	uint32_t old;

	setup_pair(&a, &b);
	establish();
	assert_up();
	old = gws[0].kids[0].c.spi_in;
	ikev2_child_expired(gws[0].e, 0, old, false, now);
	now += 100;
	tick_both();
	gws[0].cfg->connections[0].ipsec.pfs_group = CRYPTO_DH_MODP1024;
	gws[1].cfg->connections[0].ipsec.pfs_group = CRYPTO_DH_MODP1024;
	answer_a_with_invalid_ke(2);
	ck_assert(gws[0].e->conns[0].sa->req_pending);
	pump();
	run_for(1000);
	ck_assert(find_kid(&gws[0], old)->deleted);
	ck_assert_uint_eq(live_children(&gws[0], 0), 1);
	ck_assert_uint_eq(check_crosswise(), 1);
	ck_assert_uint_eq(gws[0].status[0].failures[IKE_CAUSE_PFS_MISMATCH], 0);
	assert_up();
	ck_assert(
	        logged(&gws[0], "CREATE_CHILD_SA: the peer wants PFS group2 (INVALID_KE_PAYLOAD)"));
	teardown_pair();
}
END_TEST

/* Runs IKE_SA_INIT only; A's IKE_AUTH request is lost. Returns B's half-open SA. */
static struct ikev2_sa *init_only(void)
{
	ikev2_start(gws[0].e, now);
	deliver_one(q_pop()); /* IKE_SA_INIT to B */
	deliver_one(q_pop()); /* its answer to A, who sends IKE_AUTH */
	drop_all();
	ck_assert_int_eq(gws[1].e->all->state, IKEV2_SA_HALF_OPEN);
	ck_assert_int_eq(gws[0].e->all->state, IKEV2_SA_AUTH_SENT);
	return gws[1].e->all;
}

/*
 * Whoever answered IKE_SA_INIT holds the SK keys without having
 * authenticated: its INFORMATIONAL delete before IKE_AUTH must not end
 * our SA (only IKE_AUTH exists before IKE_AUTH, 1.2).
 */
START_TEST(requests_before_ike_auth_are_dropped)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct ikev2_sa *sb;
	uint64_t malformed;

	setup_pair(&a, &b);
	sb = init_only();
	malformed = ikev2_stats(gws[0].e)->malformed;
	inject_from(1, sb, IKEV2_EXCH_INFORMATIONAL, false, 0, wr_delete_ike);
	ck_assert_uint_eq(ikev2_stats(gws[0].e)->malformed, malformed + 1);
	ck_assert_ptr_nonnull(gws[0].e->all);
	ck_assert_int_eq(gws[0].status[0].state, IKE_STATE_PHASE1_NEGOTIATING);
	ck_assert_uint_eq(q_tail - q_head, 0); /* not answered either */
	/* A's IKE_AUTH retransmit gets through. */
	run_for(3000);
	assert_up();
	teardown_pair();
}
END_TEST

/*
 * A response in another exchange type than our request's must not consume
 * the request: our IKE_SA delete would never complete and the SA would
 * stay in DELETING for good.
 */
START_TEST(response_of_another_exchange_is_dropped)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct ikev2_sa *sa, *sb;

	setup_pair(&a, &b);
	establish();
	assert_up();
	sa = gws[0].e->conns[0].sa;
	sb = gws[1].e->conns[0].sa;
	ikev2_delete_ike_start(gws[0].e, sa);
	drop_all();
	inject_from(1, sb, IKEV2_EXCH_CREATE_CHILD_SA, true, sa->req_id, wr_temporary_failure);
	ck_assert(sa->req_pending);
	/* The retransmitted delete completes: no IKE SA is left on either side. */
	run_for(5000);
	ck_assert_ptr_null(gws[0].e->all);
	ck_assert_ptr_null(gws[1].e->all);
	teardown_pair();
}
END_TEST

static uint32_t del_spis[3][48];
static unsigned del_n[3];

static void wr_three_deletes(struct ikev2_wr *w)
{
	for (int k = 0; k < 3; k++)
		ikev2_wr_delete(w, IKEV2_PROTO_ESP, del_spis[k], del_n[k]);
}

/*
 * The peer deletes several children in one INFORMATIONAL request with
 * three Delete payloads, one of them with more than 32 SPIs, ours far
 * down the lists: every child named goes, and the answer names our half
 * of each.
 */
START_TEST(every_delete_payload_and_spi_is_handled)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	static uint8_t plain[IKE_MSG_MAX];
	struct ikev2_sa *sa, *sb;
	struct ikev2_delete_iter it;
	struct ikev2_delete d;
	struct ikev2_msg m;
	struct dgram *r;
	unsigned answered = 0;
	int n;

	setup_pair(&a, &b);
	establish();
	assert_up();
	sa = gws[0].e->conns[0].sa;
	sb = gws[1].e->conns[0].sa;
	for (int k = 0; k < 3; k++) {
		ikev2_child_rekey_start(gws[0].e, sa, NULL); /* more children, same selectors */
		pump();
	}
	ck_assert_uint_eq(live_children(&gws[0], 0), 4);
	ck_assert_uint_eq(check_crosswise(), 4);
	/* Payload 0: one unknown SPI; 1: 40 SPIs, B's kids 1 and 2 at 35 and 39; 2: kid 3 last. */
	del_n[0] = 1;
	del_spis[0][0] = 0xdead0000u;
	del_n[1] = 40;
	for (unsigned i = 0; i < 40; i++)
		del_spis[1][i] = 0xdead1000u + i;
	del_spis[1][35] = gws[1].kids[1].c.spi_in;
	del_spis[1][39] = gws[1].kids[2].c.spi_in;
	del_n[2] = 2;
	del_spis[2][0] = 0xdead2000u;
	del_spis[2][1] = gws[1].kids[3].c.spi_in;
	inject_from(1, sb, IKEV2_EXCH_INFORMATIONAL, false, sb->req_id, wr_three_deletes);
	sb->req_id++;
	for (unsigned k = 1; k <= 3; k++)
		ck_assert(find_kid(&gws[0], gws[0].kids[k].c.spi_in)->deleted);
	ck_assert_uint_eq(live_children(&gws[0], 0), 1);
	ck_assert(!gws[0].kids[0].deleted);
	/* A's answer lists A's inbound SPIs of those three pairs. */
	r = q_pop();
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(ikev2_msg_parse(&m, r->buf, r->len), IKEV2_PARSE_OK);
	n = ikev2_sk_unprotect(sb->k, &m, plain, sizeof(plain));
	ck_assert_int_ge(n, 0);
	ck_assert_int_eq(ikev2_msg_parse_inner(&m, m.sk_first, plain, (size_t)n), 0);
	ikev2_delete_iter_init(&m, &it);
	while (ikev2_delete_next(&m, &it, &d)) {
		for (unsigned i = 0; i < d.n_spi; i++) {
			uint32_t spi = get_be32(d.spis + 4 * i);

			ck_assert(spi == gws[0].kids[1].c.spi_in ||
			          spi == gws[0].kids[2].c.spi_in || spi == gws[0].kids[3].c.spi_in);
			answered++;
		}
	}
	ck_assert_uint_eq(answered, 3);
	teardown_pair();
}
END_TEST

/* Builds an IKE_SA_INIT request offering the IKE algorithms of yaml_ike. */
static size_t forged_init(const char *yaml_ike, uint8_t *buf, size_t cap)
{
	struct side o = A_SIDE("", "encryption: aes-gcm-128");
	struct config *cfg;
	struct ikev2_prop_out props[2];
	static const uint8_t zero[8];
	uint8_t spi[8] = { 0x5f, 1, 2, 3, 4, 5, 6, 7 }, nonce[32], ke[256];
	struct ikev2_wr w;
	unsigned n;

	o.ike = yaml_ike;
	cfg = make_cfg(&o);
	memset(nonce, 0x33, sizeof(nonce));
	memset(ke, 0x44, sizeof(ke));
	ikev2_wr_init(&w, buf, cap);
	ikev2_wr_header(&w, spi, zero, IKEV2_EXCH_IKE_SA_INIT, IKEV2_FLAG_INITIATOR, 0);
	n = ikev2_ike_props(&cfg->connections[0], props, NULL, 0);
	ikev2_wr_sa(&w, props, n);
	ikev2_wr_ke(&w, 14, ke, sizeof(ke));
	ikev2_wr_simple(&w, IKEV2_PL_NONCE, nonce, sizeof(nonce));
	ikev2_wr_finish(&w);
	ck_assert(!w.failed);
	config_free(cfg);
	return w.len;
}

/*
 * IKE_SA_INIT is unauthenticated and its source address easy to forge:
 * one forged datagram with a bad proposal must not turn a tunnel that is
 * up into "phase1 failed" (it is still refused, and logged).
 */
START_TEST(forged_init_does_not_fail_an_up_tunnel)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct ike_endpoint from = { .family = 4, .port = 500 }, to = { .family = 4, .port = 500 };
	uint8_t buf[1024];
	size_t len;
	struct dgram *r;
	struct ikev2_msg m;

	setup_pair(&a, &b);
	establish();
	assert_up();
	memcpy(from.addr, a_addr, 4);
	memcpy(to.addr, (uint8_t[]){ 198, 51, 100, 7 }, 4);
	len = forged_init("encryption: 3des, integrity: md5, dh_group: group14", buf, sizeof(buf));
	ikev2_input(gws[1].e, &to, &from, buf, len, now);
	r = q_pop();
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(ikev2_msg_parse(&m, r->buf, r->len), IKEV2_PARSE_OK);
	ck_assert_ptr_nonnull(ikev2_msg_notify(&m, IKEV2_N_NO_PROPOSAL_CHOSEN));
	ck_assert(logged(&gws[1], "no acceptable encryption"));
	assert_up();
	ck_assert_int_eq(gws[1].status[0].cause, IKE_CAUSE_NONE);
	teardown_pair();
}
END_TEST

static unsigned count_logged(const struct gw *g, const char *needle)
{
	unsigned from = g->n_logs > LOG_MAX ? g->n_logs - LOG_MAX : 0, n = 0;

	for (unsigned i = from; i < g->n_logs; i++)
		n += strstr(g->logs[i % LOG_MAX], needle) != NULL;
	return n;
}

/* Sends B n forged IKE_SA_INIT requests (fresh SPIs) from address from. */
static void flood_b(const char *yaml_ike, const uint8_t from[4], unsigned n)
{
	struct ike_endpoint src = { .family = 4, .port = 500 }, dst = { .family = 4, .port = 500 };
	static uint8_t buf[1024];
	size_t len = forged_init(yaml_ike, buf, sizeof(buf));

	memcpy(src.addr, from, 4);
	memcpy(dst.addr, (uint8_t[]){ 198, 51, 100, 7 }, 4);
	for (unsigned i = 0; i < n; i++) {
		put_be32(buf + 4, i + 1); /* another initiator SPI each time */
		ikev2_input(gws[1].e, &dst, &src, buf, len, now);
	}
	drop_all();
}

/*
 * What an outsider can make us log (an unknown address, a proposal we
 * refuse, the wrong KE group) comes out once per source or connection
 * every few seconds, the next line saying how many were held back; the
 * counters still count every message.
 */
START_TEST(remote_triggered_warnings_are_rate_limited)
{
	struct side a = A_SIDE("encryption: aes, integrity: sha256, dh_group: group14",
	                       "encryption: aes-gcm-128, pfs: disabled");
	struct side b = B_SIDE("encryption: aes, integrity: sha256, dh_group: group2",
	                       "encryption: aes-gcm-128, pfs: disabled");
	static const uint8_t stranger[4] = { 203, 0, 113, 77 };
	static const char *bad = "encryption: 3des, integrity: md5, dh_group: group2";
	static const char *wrong_ke =
	        "encryption: aes, integrity: sha256, dh_group: [group14, group2]";
	const struct ikev2_stats *st;

	setup_pair(&a, &b);
	st = ikev2_stats(gws[1].e);
	flood_b(bad, stranger, 500);
	flood_b(bad, a_addr, 500);
	flood_b(wrong_ke, a_addr, 500);
	ck_assert_uint_eq(st->unknown_peer, 500);
	ck_assert_uint_eq(st->init_refused, 500);
	ck_assert_uint_eq(st->invalid_ke_sent, 500);
	ck_assert_uint_eq(gws[1].status[0].failures[IKE_CAUSE_PROPOSAL_MISMATCH], 500);
	ck_assert_uint_eq(st->logs_suppressed, 3 * 499);
	ck_assert_uint_eq(count_logged(&gws[1], "no IKEv2 customer gateway"), 1);
	ck_assert_uint_eq(count_logged(&gws[1], "no acceptable encryption"), 1);
	ck_assert_uint_eq(count_logged(&gws[1], "(INVALID_KE_PAYLOAD)"), 1);
	ck_assert_uint_le(gws[1].n_logs, 3);
	/* A few seconds on, the next of each goes out with the count of the rest. */
	now += 6000;
	flood_b(bad, stranger, 1);
	flood_b(bad, a_addr, 1);
	flood_b(wrong_ke, a_addr, 1);
	ck_assert_uint_eq(count_logged(&gws[1], "no IKEv2 customer gateway"), 2);
	ck_assert_uint_eq(count_logged(&gws[1], "and 499 more like it in the last 6 s"), 3);
	ck_assert_uint_eq(st->unknown_peer, 501);
	ck_assert_uint_eq(st->init_refused, 501);
	ck_assert_uint_eq(st->invalid_ke_sent, 501);
	/* Another source is another bucket: its first line is not held back. */
	flood_b(bad, (uint8_t[]){ 192, 0, 2, 200 }, 1);
	ck_assert_uint_eq(count_logged(&gws[1], "from 192.0.2.200:500: no IKEv2"), 1);
	teardown_pair();
}
END_TEST

static Suite *ikev2_suite(void)
{
	Suite *s = suite_create("ikev2");
	TCase *tc = tcase_create("exchanges");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, key_derivation_known_answer);
	tcase_add_test(tc, codec_round_trip_and_truncation);
	tcase_add_test(tc, codec_reads_every_delete_payload);
	tcase_add_loop_test(tc, establishes_with_algorithm_set, 0,
	                    (int)(sizeof(algsets) / sizeof(algsets[0])));
	tcase_add_test(tc, proposal_lists_pick_a_common_entry);
	tcase_add_test(tc, several_subnets_in_one_child);
	tcase_add_test(tc, responder_narrows_selectors);
	tcase_add_test(tc, lost_and_repeated_messages);
	tcase_add_test(tc, peer_not_responding);
	tcase_add_test(tc, retransmits_back_off_exponentially);
	tcase_add_test(tc, psk_mismatch);
	tcase_add_test(tc, proposal_mismatch_names_the_transform);
	tcase_add_test(tc, esp_proposal_mismatch);
	tcase_add_loop_test(tc, initiator_no_proposal_evidence_names_each_list, 0, 3);
	tcase_add_test(tc, dh_group_mismatch);
	tcase_add_test(tc, invalid_ke_payload_followed);
	tcase_add_loop_test(tc, duplicated_invalid_ke_is_stale, 0, 2);
	tcase_add_loop_test(tc, invalid_ke_for_the_group_sent_ends_at_the_last_retransmit, 0, 2);
	tcase_add_test(tc, cookie_retry_keeps_the_ke_and_stale_answers_are_ignored);
	tcase_add_test(tc, no_proposal_from_a_peer_speaking_ikev1_is_version_mismatch);
	tcase_add_test(tc, ts_mismatch);
	tcase_add_test(tc, id_mismatch);
	tcase_add_test(tc, id_fqdn_and_user_fqdn);
	tcase_add_test(tc, responder_id_checked_by_initiator);
	tcase_add_test(tc, initiator_refusing_the_responders_id_ends_the_peers_sa);
	tcase_add_test(tc, authentication_failed_informational_ends_the_sa);
	tcase_add_test(tc, pfs_mismatch_at_rekey);
	tcase_add_loop_test(tc, child_whose_rekeys_fail_is_deleted_at_its_hard_lifetime, 0, 3);
	tcase_add_test(tc, child_rekey_make_before_break);
	tcase_add_test(tc, ike_rekey_keeps_children);
	tcase_add_test(tc, ike_sa_ends_at_its_hard_lifetime_without_rekey);
	tcase_add_test(tc, rekey_times_spread_within_the_jitter_range);
	tcase_add_test(tc, simultaneous_child_rekey);
	tcase_add_test(tc, simultaneous_ike_rekey);
	tcase_add_loop_test(tc, child_rekey_overlapping_peer_ike_rekey, 0, 4);
	tcase_add_test(tc, new_child_refused_during_ike_rekey_is_retried);
	tcase_add_test(tc, child_left_rekeying_is_rekeyed_again);
	tcase_add_test(tc, dead_peer_detected_and_restarted);
	tcase_add_test(tc, cookies_under_init_flood);
	tcase_add_test(tc, half_open_bound_refuses_the_rest_of_a_flood);
	tcase_add_loop_test(tc, cookie_secret_rotates_and_the_previous_one_is_accepted, 0, 2);
	tcase_add_test(tc, nat_detected_moves_to_4500_with_udp_encap);
	tcase_add_loop_test(tc, faked_nat_gives_udp_encap, 0, 2);
	tcase_add_test(tc, down_deletes_and_up_restores);
	tcase_add_loop_test(tc, down_waits_for_the_request_that_is_out, 0, 3);
	tcase_add_test(tc, acquire_initiates_a_waiting_connection);
	tcase_add_test(tc, both_sides_initiate_at_once);
	tcase_add_test(tc, unknown_peer_recognised_by_id);
	tcase_add_test(tc, ipv6_outer_and_inner);
	tcase_add_test(tc, half_open_sa_expires);
	tcase_add_test(tc, deleted_child_comes_back_on_acquire);
	tcase_add_test(tc, unknown_critical_payload_refused);
	tcase_add_test(tc, hard_expiry_deletes_and_renegotiates);
	tcase_add_test(tc, tshark_decrypts_our_exchange);
	tcase_add_test(tc, peer_with_one_sa_per_subnet_pair);
	tcase_add_test(tc, garbage_is_counted_not_crashed_on);
	tcase_add_test(tc, other_major_version_is_dropped);
	tcase_add_test(tc, requests_before_ike_auth_are_dropped);
	tcase_add_test(tc, response_of_another_exchange_is_dropped);
	tcase_add_test(tc, forged_init_does_not_fail_an_up_tunnel);
	tcase_add_test(tc, every_delete_payload_and_spi_is_handled);
	tcase_add_test(tc, remote_triggered_warnings_are_rate_limited);
	tcase_add_test(tc, ike_rekey_follows_invalid_ke_payload);
	tcase_add_test(tc, ike_rekey_invalid_ke_not_allowed_is_dh_group_mismatch);
	tcase_add_test(tc, child_rekey_invalid_ke_not_allowed_is_pfs_mismatch);
	tcase_add_test(tc, child_rekey_follows_invalid_ke_payload_for_the_configured_group);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(ikev2_suite)
