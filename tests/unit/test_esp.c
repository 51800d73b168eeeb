/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP tunnel mode: round trips for every transform, outer headers, ESN,
 * sequence overflow, every truncation and bit flip, replay, padding and
 * next header, head/tailroom, the burst contract, and an independent
 * decryption with OpenSSL to show the bytes follow the RFCs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "unit/testutil.h"

#include "compiler.h"
#include "crypto_mem.h"
#include "crypto_sym.h"
#include "esp.h"

#define T32 (UINT64_C(1) << 32)

struct sa_opts {
	enum crypto_alg_id encr;
	enum crypto_alg_id integ;
	bool esn;
	int family;
	bool udp;
	uint64_t seq_out;
	uint64_t seq_in;
	uint32_t window;
	uint32_t spi;
};

static uint8_t enc_key[64], auth_key[64];

static void setup(void)
{
	ck_assert_int_eq(crypto_init(), 0);
	for (unsigned i = 0; i < sizeof(enc_key); i++) {
		enc_key[i] = (uint8_t)(i * 7 + 1);
		auth_key[i] = (uint8_t)(i * 13 + 5);
	}
}

static void conf_from(struct esp_sa_conf *c, const struct sa_opts *o, enum esp_dir dir)
{
	static const uint8_t a4[2][4] = { { 192, 0, 2, 1 }, { 198, 51, 100, 7 } };
	static const uint8_t a6[2][16] = { { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
		                           { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2 } };

	memset(c, 0, sizeof(*c));
	c->dir = dir;
	c->spi = o->spi ? o->spi : 0x1000abcd;
	c->encr = o->encr;
	c->integ = o->integ;
	c->enc_key = enc_key;
	c->enc_key_len = crypto_alg(o->encr)->key_len;
	c->auth_key = auth_key;
	c->auth_key_len = crypto_alg(o->integ)->key_len;
	c->esn = o->esn;
	c->replay_window = dir == ESP_DIR_IN ? o->window : 0;
	c->seq = dir == ESP_DIR_OUT ? o->seq_out : o->seq_in;
	c->family = o->family ? o->family : AF_INET;
	if (c->family == AF_INET) {
		memcpy(c->local, a4[dir == ESP_DIR_IN], 4);
		memcpy(c->remote, a4[dir == ESP_DIR_OUT], 4);
	} else {
		memcpy(c->local, a6[dir == ESP_DIR_IN], 16);
		memcpy(c->remote, a6[dir == ESP_DIR_OUT], 16);
	}
	c->udp_encap = o->udp;
}

static struct esp_sa *sa_new(const struct sa_opts *o, enum esp_dir dir)
{
	struct esp_sa_conf c;
	char err[200] = "";
	size_t size = (esp_sa_size() + 63) & ~(size_t)63;
	struct esp_sa *sa = aligned_alloc(64, size);

	ck_assert_ptr_nonnull(sa);
	conf_from(&c, o, dir);
	ck_assert_msg(esp_sa_init(sa, &c, err, sizeof(err)) == 0, "esp_sa_init: %s", err);
	return sa;
}

static void sa_free(struct esp_sa *sa)
{
	esp_sa_wipe(sa);
	free(sa);
}

/* A packet in its own allocation of exactly headroom + len + tailroom, for ASan. */
static struct esp_pkt *pkt_new(const uint8_t *data, uint32_t len, uint32_t head, uint32_t tail)
{
	struct esp_pkt *p = calloc(1, sizeof(*p));
	uint8_t *mem = malloc(head + len + tail + 1);

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(mem);
	memcpy(mem + head, data, len);
	p->data = mem + head;
	p->len = len;
	p->headroom = head;
	p->tailroom = tail;
	return p;
}

static void pkt_free(struct esp_pkt *p)
{
	/* data - headroom is the allocation again, or free() complains. */
	free(p->data - p->headroom);
	free(p);
}

static uint32_t make_inner(uint8_t *b, bool v6, uint32_t len, uint8_t tos, bool df, uint32_t seed)
{
	memset(b, 0, len);
	if (!v6) {
		b[0] = 0x45;
		b[1] = tos;
		b[2] = (uint8_t)(len >> 8);
		b[3] = (uint8_t)len;
		b[4] = (uint8_t)seed;
		b[6] = df ? 0x40 : 0;
		b[8] = 63;
		b[9] = 17;
		memcpy(b + 12, "\x0a\x00\x00\x01\x0a\x01\x00\x02", 8);
		for (uint32_t i = 20; i < len; i++)
			b[i] = (uint8_t)(i * 31 + seed);
	} else {
		b[0] = (uint8_t)(0x60 | tos >> 4);
		b[1] = (uint8_t)(tos << 4);
		b[4] = (uint8_t)((len - 40) >> 8);
		b[5] = (uint8_t)(len - 40);
		b[6] = 17;
		b[7] = 63;
		b[8] = 0xfd;
		b[24] = 0xfd;
		b[39] = (uint8_t)seed;
		for (uint32_t i = 40; i < len; i++)
			b[i] = (uint8_t)(i * 17 + seed);
	}
	return len;
}

static uint32_t csum_sum(const uint8_t *p, uint32_t len, uint32_t s)
{
	for (uint32_t i = 0; i < len; i += 2)
		s += (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
	return s;
}

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
	return be16(p) << 16 | be16(p + 2);
}

/* The outer header as RFC 4301/3948 want it; returns the ESP offset. */
static uint32_t check_outer(const uint8_t *o, uint32_t len, const struct sa_opts *so,
                            const uint8_t *inner)
{
	uint32_t off;
	uint8_t inner_tos = inner[0] >> 4 == 4 ? inner[1] : (uint8_t)(be16(inner) >> 4);

	if (so->family != AF_INET6) {
		ck_assert_uint_eq(o[0], 0x45);
		ck_assert_uint_eq(o[1], inner_tos);
		ck_assert_uint_eq(be16(o + 2), len);
		ck_assert_uint_eq(csum_fold(csum_sum(o, 20, 0)), 0xffff);
		ck_assert_uint_eq(o[6] & 0x40, inner[0] >> 4 == 4 ? inner[6] & 0x40 : 0);
		/* Never a fragment: no MF, offset 0 (the inner DF aside). */
		ck_assert_uint_eq(be16(o + 6) & ~0x4000u, 0);
		ck_assert_uint_eq(o[8], 64);
		ck_assert_uint_eq(o[9], so->udp ? 17 : 50);
		ck_assert_mem_eq(o + 12, "\xc0\x00\x02\x01\xc6\x33\x64\x07", 8);
		off = 20;
	} else {
		ck_assert_uint_eq(o[0] >> 4, 6);
		ck_assert_uint_eq((be16(o) >> 4) & 0xff, inner_tos);
		/* Flow label 0. */
		ck_assert_uint_eq(be32(o) & 0xfffff, 0);
		ck_assert_uint_eq(be16(o + 4), len - 40);
		ck_assert_uint_eq(o[6], so->udp ? 17 : 50);
		ck_assert_uint_eq(o[7], 64);
		ck_assert_mem_eq(o + 8, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
		ck_assert_mem_eq(o + 24, "\x20\x01\x0d\xb8\0\x01\0\0\0\0\0\0\0\0\0\x02", 16);
		off = 40;
	}
	if (so->udp) {
		const uint8_t *u = o + off;

		ck_assert_uint_eq(be16(u), 4500);
		ck_assert_uint_eq(be16(u + 2), 4500);
		ck_assert_uint_eq(be16(u + 4), len - off);
		if (so->family == AF_INET6) {
			/* Pseudo-header + UDP header and data sum to 0xffff. */
			uint32_t s = csum_sum(o + 8, 32, 0) + (len - off) + 17;

			ck_assert_uint_ne(be16(u + 6), 0);
			ck_assert_uint_eq(csum_fold(csum_sum(u, len - off, s)), 0xffff);
		} else {
			ck_assert_uint_eq(be16(u + 6), 0);
		}
		off += 8;
	}
	return off;
}

static void round_trip(struct esp_sa *out, struct esp_sa *in, const struct sa_opts *o, bool v6,
                       uint32_t len, uint32_t seed)
{
	uint8_t inner[2048];
	struct esp_pkt *p;
	uint32_t spi, off;
	uint64_t seq = esp_sa_seq(out) + 1;

	make_inner(inner, v6, len, (uint8_t)(0xb8 + seed), seed & 1, seed);
	p = pkt_new(inner, len, esp_sa_head_len(out), esp_sa_tail_max(out));
	p->sa = out;
	ck_assert_uint_eq(esp_outb_burst(&p, 1), 1);
	ck_assert_uint_eq(p->drop, ESP_OK);
	ck_assert_uint_eq(p->len, esp_outb_len(out, len));
	ck_assert_uint_eq(p->seq, seq);
	off = check_outer(p->data, p->len, o, inner);
	ck_assert_uint_eq(be32(p->data + off), esp_sa_spi(out));
	ck_assert_uint_eq(be32(p->data + off + 4), (uint32_t)seq);
	ck_assert_int_eq(esp_inb_spi(p->data, p->len, &spi), 0);
	ck_assert_uint_eq(spi, esp_sa_spi(out));

	p->sa = in;
	ck_assert_msg(esp_inb_burst(&p, 1) == 1, "%s/%s len %u: %s", crypto_alg(o->encr)->name,
	              crypto_alg(o->integ)->name, len, esp_drop_names[p->drop]);
	ck_assert_uint_eq(p->seq, seq);
	ck_assert_uint_eq(p->len, len);
	ck_assert_mem_eq(p->data, inner, len);
	ck_assert_uint_eq(p->next_header, v6 ? 41 : 4);
	pkt_free(p);
}

static const enum crypto_alg_id cbc_ciphers[] = {
	CRYPTO_ENCR_AES128_CBC, CRYPTO_ENCR_AES192_CBC, CRYPTO_ENCR_AES256_CBC,
	CRYPTO_ENCR_3DES_CBC,   CRYPTO_ENCR_DES_CBC,    CRYPTO_ENCR_NULL,
};
static const enum crypto_alg_id integs[] = {
	CRYPTO_INTEG_HMAC_MD5_96,     CRYPTO_INTEG_HMAC_SHA1_96,    CRYPTO_INTEG_HMAC_SHA256_128,
	CRYPTO_INTEG_HMAC_SHA384_192, CRYPTO_INTEG_HMAC_SHA512_256,
};
static const enum crypto_alg_id aeads[] = {
	CRYPTO_ENCR_AES128_GCM16,
	CRYPTO_ENCR_AES192_GCM16,
	CRYPTO_ENCR_AES256_GCM16,
	CRYPTO_ENCR_CHACHA20_POLY1305,
};
#define N_COMBOS (ARRAY_SIZE(cbc_ciphers) * ARRAY_SIZE(integs) + ARRAY_SIZE(aeads))

static void combo(unsigned i, struct sa_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->window = 64;
	if (i < ARRAY_SIZE(cbc_ciphers) * ARRAY_SIZE(integs)) {
		o->encr = cbc_ciphers[i / ARRAY_SIZE(integs)];
		o->integ = integs[i % ARRAY_SIZE(integs)];
	} else {
		o->encr = aeads[i - ARRAY_SIZE(cbc_ciphers) * ARRAY_SIZE(integs)];
		o->integ = CRYPTO_INTEG_NONE;
	}
}

START_TEST(round_trip_every_transform)
{
	static const uint32_t sizes4[] = { 20, 21, 64, 99, 257, 1000, 1419, 1500 };
	static const uint32_t sizes6[] = { 40, 41, 64, 99, 257, 1000, 1419, 1500 };
	struct sa_opts o;

	combo((unsigned)_i, &o);
	for (unsigned v = 0; v < 8; v++) {
		struct esp_sa *out, *in;
		uint64_t inner_bytes = 0, n = 0;

		o.family = v & 1 ? AF_INET6 : AF_INET;
		o.udp = v & 2;
		o.esn = v & 4;
		/* With ESN, start just below 2^32 so the high half is not 0. */
		o.seq_out = o.esn ? T32 - 20 : 0;
		o.seq_in = o.seq_out;
		out = sa_new(&o, ESP_DIR_OUT);
		in = sa_new(&o, ESP_DIR_IN);
		for (unsigned s = 0; s < ARRAY_SIZE(sizes4); s++) {
			round_trip(out, in, &o, false, sizes4[s], s + v);
			round_trip(out, in, &o, true, sizes6[s], s + v + 1);
			inner_bytes += sizes4[s] + sizes6[s];
			n += 2;
		}
		ck_assert_uint_eq(esp_sa_packets(out), n);
		ck_assert_uint_eq(esp_sa_bytes(out), inner_bytes);
		ck_assert_uint_eq(esp_sa_packets(in), n);
		ck_assert_uint_eq(esp_sa_bytes(in), inner_bytes);
		ck_assert_uint_eq(esp_sa_seq(out), o.seq_out + n);
		ck_assert_uint_eq(esp_sa_seq(in), o.seq_out + n);
		sa_free(out);
		sa_free(in);
	}
}
END_TEST

/* One outbound packet of a fresh SA pair; the caller frees all three. */
static struct esp_pkt *one_packet(const struct sa_opts *o, struct esp_sa **out, struct esp_sa **in,
                                  uint32_t inner_len)
{
	uint8_t inner[2048];
	struct esp_pkt *p;

	*out = sa_new(o, ESP_DIR_OUT);
	*in = sa_new(o, ESP_DIR_IN);
	make_inner(inner, false, inner_len, 0, true, 3);
	p = pkt_new(inner, inner_len, esp_sa_head_len(*out), esp_sa_tail_max(*out));
	p->sa = *out;
	ck_assert_uint_eq(esp_outb_burst(&p, 1), 1);
	return p;
}

static const struct sa_opts sample_sas[] = {
	{ .encr = CRYPTO_ENCR_AES128_GCM16, .integ = CRYPTO_INTEG_NONE, .window = 64 },
	{ .encr = CRYPTO_ENCR_AES256_GCM16,
	  .integ = CRYPTO_INTEG_NONE,
	  .window = 64,
	  .esn = true,
	  .seq_out = T32 + 5,
	  .seq_in = T32,
	  .udp = true },
	{ .encr = CRYPTO_ENCR_CHACHA20_POLY1305,
	  .integ = CRYPTO_INTEG_NONE,
	  .window = 128,
	  .family = AF_INET6,
	  .udp = true },
	{ .encr = CRYPTO_ENCR_AES128_CBC, .integ = CRYPTO_INTEG_HMAC_SHA1_96, .window = 64 },
	{ .encr = CRYPTO_ENCR_AES256_CBC,
	  .integ = CRYPTO_INTEG_HMAC_SHA256_128,
	  .window = 64,
	  .esn = true,
	  .seq_out = 3 * T32 - 1,
	  .seq_in = 3 * T32 - 10,
	  .family = AF_INET6 },
	{ .encr = CRYPTO_ENCR_3DES_CBC, .integ = CRYPTO_INTEG_HMAC_SHA512_256, .window = 4096 },
	{ .encr = CRYPTO_ENCR_NULL, .integ = CRYPTO_INTEG_HMAC_SHA256_128, .window = 64 },
};

/* Rewrites the outer lengths so a shortened packet still parses as IP. */
static void fix_outer_lengths(uint8_t *b, uint32_t len, const struct sa_opts *o)
{
	uint32_t ip = o->family == AF_INET6 ? 40 : 20;

	if (len < ip)
		return;
	if (o->family == AF_INET6) {
		b[4] = (uint8_t)((len - 40) >> 8);
		b[5] = (uint8_t)(len - 40);
	} else {
		b[2] = (uint8_t)(len >> 8);
		b[3] = (uint8_t)len;
	}
	if (o->udp && len >= ip + 8) {
		b[ip + 4] = (uint8_t)((len - ip) >> 8);
		b[ip + 5] = (uint8_t)(len - ip);
	}
}

START_TEST(every_truncation_is_dropped)
{
	const struct sa_opts *o = &sample_sas[_i];
	struct esp_sa *out, *in;
	struct esp_pkt *p = one_packet(o, &out, &in, 77);

	for (uint32_t fix = 0; fix < 2; fix++) {
		for (uint32_t len = 0; len < p->len; len++) {
			struct esp_pkt *t = pkt_new(p->data, len, 0, 0);

			if (fix)
				fix_outer_lengths(t->data, len, o);
			t->sa = in;
			ck_assert_uint_eq(esp_inb_burst(&t, 1), 0);
			ck_assert_uint_ne(t->drop, ESP_OK);
			pkt_free(t);
		}
	}
	/* The whole packet, exactly sized, still passes. */
	{
		struct esp_pkt *t = pkt_new(p->data, p->len, 0, 0);

		t->sa = in;
		ck_assert_uint_eq(esp_inb_burst(&t, 1), 1);
		pkt_free(t);
	}
	pkt_free(p);
	sa_free(out);
	sa_free(in);
}
END_TEST

START_TEST(every_flipped_byte_fails_the_icv)
{
	const struct sa_opts *o = &sample_sas[_i];
	struct esp_sa *out, *in;
	struct esp_pkt *p = one_packet(o, &out, &in, 100);
	uint32_t esp = (o->family == AF_INET6 ? 40 : 20) + (o->udp ? 8 : 0);
	uint8_t sent[256];
	struct esp_sa_conf c;
	char err[200];

	conf_from(&c, o, ESP_DIR_IN);
	for (uint32_t i = esp; i < p->len; i++) {
		struct esp_pkt *t = pkt_new(p->data, p->len, 0, 0);

		/* 0x80: a flipped sequence number never becomes 0. */
		t->data[i] ^= 0x80;
		memcpy(sent, t->data, t->len);
		ck_assert_int_eq(esp_sa_init(in, &c, err, sizeof(err)), 0);
		t->sa = in;
		ck_assert_uint_eq(esp_inb_burst(&t, 1), 0);
		ck_assert_msg(t->drop == ESP_DROP_BAD_ICV, "byte %u: %s", i,
		              esp_drop_names[t->drop]);
		/* Cipher+auth decrypts nothing before the ICV verified. */
		if (o->integ != CRYPTO_INTEG_NONE)
			ck_assert_mem_eq(t->data, sent, t->len);
		/* A failed ICV does not move the window. */
		ck_assert_uint_eq(esp_sa_seq(in), o->seq_in);
		ck_assert_uint_eq(esp_sa_packets(in), 0);
		pkt_free(t);
	}
	pkt_free(p);
	sa_free(out);
	sa_free(in);
}
END_TEST

/*
 * Cipher+auth verifies before it decrypts (RFC 4303 3.4.4): a packet whose
 * ICV fails, in a burst with good ones, comes back byte for byte as it came,
 * so none of its ciphertext went through the cipher.
 */
START_TEST(forged_packet_is_not_decrypted)
{
	const struct sa_opts *o = &sample_sas[_i];
	struct esp_sa *out, *in;
	struct esp_pkt *pkts[8], *orig[8];
	uint8_t inner[8][300], sent[8][512];
	uint32_t lens[8];
	unsigned good = 0;

	if (o->integ == CRYPTO_INTEG_NONE)
		return; /* AEAD: the tag is checked by the decryption itself */
	out = sa_new(o, ESP_DIR_OUT);
	in = sa_new(o, ESP_DIR_IN);
	for (unsigned i = 0; i < 8; i++) {
		lens[i] = make_inner(inner[i], i & 1, 60 + 31 * i, 0, true, i);
		pkts[i] = pkt_new(inner[i], lens[i], esp_sa_head_len(out), esp_sa_tail_max(out));
		pkts[i]->sa = out;
	}
	ck_assert_uint_eq(esp_outb_burst(pkts, 8), 8);
	for (unsigned i = 0; i < 8; i++) {
		struct esp_pkt *p = pkts[i];

		/* Odd ones forged: in the ciphertext or in the ICV. */
		if (i % 4 == 1)
			p->data[p->len / 2] ^= 0x04;
		else if (i % 4 == 3)
			p->data[p->len - 1] ^= 0x01;
		else
			good++;
		ck_assert_uint_le(p->len, sizeof(sent[i]));
		memcpy(sent[i], p->data, p->len);
		p->sa = in;
		orig[i] = p;
	}
	ck_assert_uint_eq(esp_inb_burst(pkts, 8), good);
	for (unsigned i = 0; i < 8; i++) {
		struct esp_pkt *p = orig[i];

		if (i & 1) {
			ck_assert_uint_eq(p->drop, ESP_DROP_BAD_ICV);
			ck_assert_mem_eq(p->data, sent[i], p->len);
		} else {
			ck_assert_uint_eq(p->drop, ESP_OK);
			ck_assert_uint_eq(p->len, lens[i]);
			ck_assert_mem_eq(p->data, inner[i], lens[i]);
		}
		pkt_free(p);
	}
	sa_free(out);
	sa_free(in);
}
END_TEST

START_TEST(replayed_packet_is_dropped)
{
	const struct sa_opts *o = &sample_sas[_i];
	struct esp_sa *out, *in;
	struct esp_pkt *p = one_packet(o, &out, &in, 300);
	struct esp_pkt *b[3];

	/* Twice in one burst: the first wins, the second is a replay. */
	b[0] = pkt_new(p->data, p->len, 0, 0);
	b[1] = pkt_new(p->data, p->len, 0, 0);
	b[0]->sa = b[1]->sa = in;
	ck_assert_uint_eq(esp_inb_burst(b, 2), 1);
	ck_assert_uint_eq(b[0]->drop, ESP_OK);
	ck_assert_uint_eq(b[1]->drop, ESP_DROP_REPLAY);
	/* And again in a later burst: caught before the ICV. */
	b[2] = pkt_new(p->data, p->len, 0, 0);
	b[2]->sa = in;
	ck_assert_uint_eq(esp_inb_burst(&b[2], 1), 0);
	ck_assert_uint_eq(b[2]->drop, ESP_DROP_REPLAY);
	ck_assert_uint_eq(esp_sa_packets(in), 1);
	for (int i = 0; i < 3; i++)
		pkt_free(b[i]);
	pkt_free(p);
	sa_free(out);
	sa_free(in);
}
END_TEST

/*
 * A replacement with the same SPI and keys (make-before-break): the
 * outbound one goes on at the old one's sequence number + 1, the inbound
 * one refuses what the old one accepted and takes what it did not see.
 */
START_TEST(replacement_carries_seq_and_window)
{
	const struct sa_opts *o = &sample_sas[_i];
	struct esp_sa *out, *in, *out2, *in2;
	struct esp_pkt *p = one_packet(o, &out, &in, 200), *b[2];
	uint64_t seq = esp_sa_seq(out);
	uint8_t inner[256];

	b[0] = pkt_new(p->data, p->len, 0, 0);
	b[0]->sa = in;
	ck_assert_uint_eq(esp_inb_burst(b, 1), 1);
	pkt_free(b[0]);

	out2 = sa_new(o, ESP_DIR_OUT);
	in2 = sa_new(o, ESP_DIR_IN);
	ck_assert_uint_eq(esp_sa_seq(out2), o->seq_out);
	esp_sa_seq_set(out2, seq);
	ck_assert_uint_eq(esp_sa_seq(out2), seq);
	esp_sa_replay_copy(in2, in);
	ck_assert_uint_eq(esp_sa_seq(in2), esp_sa_seq(in));

	/* The old SA's packet is a replay for the new inbound SA. */
	b[0] = pkt_new(p->data, p->len, 0, 0);
	b[0]->sa = in2;
	ck_assert_uint_eq(esp_inb_burst(b, 1), 0);
	ck_assert_uint_eq(b[0]->drop, ESP_DROP_REPLAY);
	pkt_free(b[0]);

	/* The new outbound SA's first packet carries seq + 1 and decrypts. */
	make_inner(inner, false, 120, 0, true, 4);
	b[1] = pkt_new(inner, 120, esp_sa_head_len(out2), esp_sa_tail_max(out2));
	b[1]->sa = out2;
	ck_assert_uint_eq(esp_outb_burst(&b[1], 1), 1);
	ck_assert_uint_eq(b[1]->seq, seq + 1);
	b[1]->sa = in2;
	ck_assert_uint_eq(esp_inb_burst(&b[1], 1), 1);
	ck_assert_uint_eq(b[1]->seq, seq + 1);
	ck_assert_uint_eq(esp_sa_seq(in2), seq + 1);
	pkt_free(b[1]);
	pkt_free(p);
	sa_free(out);
	sa_free(in);
	sa_free(out2);
	sa_free(in2);
}
END_TEST

/*
 * A packet whose ESP payload is the given plaintext, sealed with the SA's
 * keys through the one-shot API, so its ICV is valid whatever it holds.
 */
static struct esp_pkt *craft(const struct sa_opts *o, const uint8_t *pt, uint32_t pt_len,
                             uint32_t seq)
{
	const struct crypto_alg *e = crypto_alg(o->encr);
	const struct crypto_alg *a = crypto_alg(o->integ);
	uint32_t icv_len = e->aead ? e->icv_len : a->icv_len;
	uint32_t len = 20 + 8 + e->iv_len + pt_len + icv_len;
	struct crypto_sym *s = aligned_alloc(64, (sizeof(*s) + 63) & ~(size_t)63);
	uint8_t buf[2048] = { 0 };
	uint8_t *esp = buf + 20, *iv = esp + 8, *ct = iv + e->iv_len;
	struct esp_pkt *p;

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(
	        crypto_sym_init(s, o->encr, enc_key, e->key_len, o->integ, auth_key, a->key_len),
	        0);
	buf[0] = 0x45;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	buf[8] = 64;
	buf[9] = 50;
	esp[0] = 0x10;
	esp[2] = 0xab;
	esp[3] = 0xcd;
	esp[7] = (uint8_t)seq;
	if (e->aead) {
		iv[7] = (uint8_t)seq;
		ck_assert_int_eq(crypto_sym_seal(s, iv, esp, 8, pt, ct, pt_len, ct + pt_len), 0);
	} else {
		for (unsigned i = 0; i < e->iv_len; i++)
			iv[i] = (uint8_t)(0x5a + i);
		ck_assert_int_eq(crypto_sym_encrypt(s, iv, pt, ct, pt_len), 0);
		ck_assert_int_eq(crypto_sym_icv(s, esp, 8 + e->iv_len + pt_len, ct + pt_len), 0);
	}
	crypto_sym_wipe(s);
	free(s);
	p = pkt_new(buf, len, 0, 0);
	return p;
}

static const struct sa_opts craft_sas[] = {
	{ .encr = CRYPTO_ENCR_AES128_GCM16, .integ = CRYPTO_INTEG_NONE, .window = 64 },
	{ .encr = CRYPTO_ENCR_AES128_CBC, .integ = CRYPTO_INTEG_HMAC_SHA256_128, .window = 64 },
};

/*
 * Every pad length a packet can carry with whole blocks, its padding
 * right and then each of its bytes wrong in turn: only the right one
 * passes (the check reads short padding and long padding differently).
 */
START_TEST(every_pad_length_and_wrong_pad_byte)
{
	const struct sa_opts *o = &craft_sas[_i];

	for (uint32_t pad = 0; pad < 32; pad++) {
		/* Inner + pad + trailer: whole AES blocks also for CBC. */
		uint32_t inner = 128 - pad - 2;
		/* craft() numbers packets with one byte: an SA per pad length. */
		struct esp_sa *in = sa_new(o, ESP_DIR_IN);

		for (uint32_t bad = 0; bad <= pad; bad++) {
			uint8_t pt[160];
			struct esp_pkt *p;
			bool good = bad == pad;

			make_inner(pt, false, inner, 0, false, pad);
			for (uint32_t j = 0; j < pad; j++)
				pt[inner + j] = (uint8_t)(j + 1);
			if (!good)
				pt[inner + bad] ^= 0x80;
			pt[inner + pad] = (uint8_t)pad;
			pt[inner + pad + 1] = 4;
			p = craft(o, pt, inner + pad + 2, bad + 1);
			p->sa = in;
			ck_assert_msg(esp_inb_burst(&p, 1) == good, "pad %u, byte %u wrong: %s",
			              pad, bad, esp_drop_names[p->drop]);
			ck_assert_uint_eq(p->drop, (good ? ESP_OK : ESP_DROP_BAD_PADDING));
			if (good)
				ck_assert_mem_eq(p->data, pt, inner);
			pkt_free(p);
		}
		sa_free(in);
	}
}
END_TEST

START_TEST(crafted_trailers)
{
	const struct sa_opts *o = &craft_sas[_i];
	struct {
		const char *what;
		uint8_t pad[16];
		uint8_t pad_len, nh;
		uint8_t want;
	} cases[] = {
		{ "good", { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, 10, 4, ESP_OK },
		{ "pad byte off by one",
		  { 1, 2, 3, 4, 5, 6, 7, 8, 9, 11 },
		  10,
		  4,
		  ESP_DROP_BAD_PADDING },
		{ "pad of zeroes", { 0 }, 10, 4, ESP_DROP_BAD_PADDING },
		{ "pad length past the payload",
		  { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 },
		  255,
		  4,
		  ESP_DROP_BAD_PADDING },
		{ "next header 17",
		  { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 },
		  10,
		  17,
		  ESP_DROP_BAD_NEXT_HEADER },
		{ "next header 59 (dummy)",
		  { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 },
		  10,
		  59,
		  ESP_DROP_DUMMY },
		{ "IPv4 inside with IHL 4",
		  { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 },
		  10,
		  4,
		  ESP_DROP_BAD_INNER },
		{ "IPv4 inside with IHL 15 > its length",
		  { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 },
		  10,
		  4,
		  ESP_DROP_BAD_INNER },
		{ "next header 41 with IPv4 inside",
		  { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 },
		  10,
		  41,
		  ESP_DROP_BAD_INNER },
	};
	struct esp_sa *in = sa_new(o, ESP_DIR_IN);

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t pt[128];
		uint32_t inner = 100; /* 100 + 10 + 2 = 112: whole AES blocks */
		struct esp_pkt *p;

		make_inner(pt, false, inner, 0, false, i);
		if (strstr(cases[i].what, "IHL 4"))
			pt[0] = 0x44;
		if (strstr(cases[i].what, "IHL 15"))
			pt[0] = 0x4f; /* 60 bytes of header in a 40-byte packet */
		if (strstr(cases[i].what, "IHL 15")) {
			pt[2] = 0;
			pt[3] = 40;
		}
		memcpy(pt + inner, cases[i].pad, 10);
		pt[inner + 10] = cases[i].pad_len;
		pt[inner + 11] = cases[i].nh;
		p = craft(o, pt, inner + 12, i + 1);
		p->sa = in;
		ck_assert_uint_eq(esp_inb_burst(&p, 1), cases[i].want == ESP_OK);
		ck_assert_msg(p->drop == cases[i].want, "%s: %s", cases[i].what,
		              esp_drop_names[p->drop]);
		if (cases[i].want == ESP_OK) {
			ck_assert_uint_eq(p->len, inner);
			ck_assert_mem_eq(p->data, pt, inner);
		}
		pkt_free(p);
	}
	sa_free(in);
}
END_TEST

START_TEST(cbc_ciphertext_must_be_whole_blocks)
{
	const struct sa_opts *o = &craft_sas[1];
	struct esp_sa *in = sa_new(o, ESP_DIR_IN);
	uint8_t pt[128] = { 0 };
	struct esp_pkt *p;

	/* 20 bytes of IPv4 ... 105: 105 + 2 = 107 bytes, not whole AES blocks. */
	make_inner(pt, false, 105, 0, false, 1);
	pt[105] = 0;
	pt[106] = 4;
	/* Encrypt 112 bytes, then cut 5 off the ciphertext's end. */
	p = craft(o, pt, 112, 1);
	memmove(p->data + p->len - 16 - 5, p->data + p->len - 16, 16);
	p->len -= 5;
	p->data[3] = (uint8_t)(p->data[3] - 5);
	p->sa = in;
	ck_assert_uint_eq(esp_inb_burst(&p, 1), 0);
	ck_assert_uint_eq(p->drop, ESP_DROP_BAD_LENGTH);
	pkt_free(p);
	sa_free(in);
}
END_TEST

START_TEST(esn_sequence_crosses_2_32)
{
	for (unsigned k = 0; k < 2; k++) {
		struct sa_opts o = { .encr = k ? CRYPTO_ENCR_AES128_CBC : CRYPTO_ENCR_AES128_GCM16,
			             .integ = k ? CRYPTO_INTEG_HMAC_SHA1_96 : CRYPTO_INTEG_NONE,
			             .esn = true,
			             .window = 64,
			             .seq_out = T32 - 3,
			             .seq_in = T32 - 3 };
		struct esp_sa *out = sa_new(&o, ESP_DIR_OUT);
		struct esp_sa *in = sa_new(&o, ESP_DIR_IN);
		/* A receiver that believes the high half is still 0. */
		struct sa_opts lost = o;
		struct esp_sa *in0;

		lost.seq_in = 0;
		for (unsigned i = 0; i < 6; i++) {
			uint8_t inner[200];
			struct esp_pkt *p, *q;

			make_inner(inner, false, 200, 0, false, i);
			p = pkt_new(inner, 200, esp_sa_head_len(out), esp_sa_tail_max(out));
			p->sa = out;
			ck_assert_uint_eq(esp_outb_burst(&p, 1), 1);
			ck_assert_uint_eq(p->seq, T32 - 2 + i);
			q = pkt_new(p->data, p->len, 0, 0);
			p->sa = in;
			ck_assert_uint_eq(esp_inb_burst(&p, 1), 1);
			ck_assert_uint_eq(p->seq, T32 - 2 + i);
			ck_assert_mem_eq(p->data, inner, 200);
			/* seq_hi is authenticated though never sent. */
			in0 = sa_new(&lost, ESP_DIR_IN);
			q->sa = in0;
			if (T32 - 2 + i >= T32) {
				ck_assert_uint_eq(esp_inb_burst(&q, 1), 0);
				/* seq_lo 0 infers to 0, never valid; above it the ICV fails. */
				ck_assert_uint_eq(q->drop, T32 - 2 + i == T32 ? ESP_DROP_REPLAY
				                                              : ESP_DROP_BAD_ICV);
			} else {
				ck_assert_uint_eq(esp_inb_burst(&q, 1), 1);
			}
			pkt_free(p);
			pkt_free(q);
			sa_free(in0);
		}
		ck_assert_uint_eq(esp_sa_seq(out), T32 + 3);
		ck_assert_uint_eq(esp_sa_seq(in), T32 + 3);
		sa_free(out);
		sa_free(in);
	}
}
END_TEST

START_TEST(sequence_overflow_stops_the_sa)
{
	for (unsigned esn = 0; esn < 2; esn++) {
		struct sa_opts o = { .encr = CRYPTO_ENCR_AES128_GCM16,
			             .integ = CRYPTO_INTEG_NONE,
			             .esn = esn,
			             .seq_out = esn ? UINT64_MAX - 1 : T32 - 2 };
		uint64_t last = esn ? UINT64_MAX : T32 - 1;
		struct esp_sa *out = sa_new(&o, ESP_DIR_OUT);

		for (unsigned i = 0; i < 4; i++) {
			uint8_t inner[60];
			struct esp_pkt *p;

			make_inner(inner, false, 60, 0, false, i);
			p = pkt_new(inner, 60, esp_sa_head_len(out), esp_sa_tail_max(out));
			p->sa = out;
			ck_assert_uint_eq(esp_outb_burst(&p, 1), i == 0);
			if (i == 0) {
				ck_assert_uint_eq(p->seq, last);
			} else {
				ck_assert_uint_eq(p->drop, ESP_DROP_SEQ_OVERFLOW);
				/* Untouched: still the inner packet. */
				ck_assert_uint_eq(p->len, 60);
				ck_assert_mem_eq(p->data, inner, 60);
			}
			ck_assert_uint_eq(esp_sa_seq(out), last);
			pkt_free(p);
		}
		ck_assert_uint_eq(esp_sa_packets(out), 1);
		sa_free(out);
	}
}
END_TEST

START_TEST(room_and_inner_checks)
{
	struct sa_opts o = { .encr = CRYPTO_ENCR_AES128_CBC,
		             .integ = CRYPTO_INTEG_HMAC_SHA256_128,
		             .udp = true };
	struct esp_sa *out = sa_new(&o, ESP_DIR_OUT);
	uint32_t head = esp_sa_head_len(out);
	uint32_t tail = esp_outb_len(out, 100) - head - 100;
	uint8_t inner[100];
	struct esp_pkt *p;

	ck_assert_uint_eq(head, 20 + 8 + 8 + 16);
	/* 100 + 2 -> 112 (AES blocks) + 16 ICV. */
	ck_assert_uint_eq(tail, 10 + 2 + 16);
	ck_assert_uint_eq(esp_sa_tail_max(out), 15 + 2 + 16);
	make_inner(inner, false, 100, 0, false, 0);
	struct {
		uint32_t head, tail;
		uint8_t want;
	} rooms[] = {
		{ head - 1, tail, ESP_DROP_NO_HEADROOM },
		{ head, tail - 1, ESP_DROP_NO_TAILROOM },
		{ 0, 0, ESP_DROP_NO_HEADROOM },
		{ head, tail, ESP_OK },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(rooms); i++) {
		p = pkt_new(inner, 100, rooms[i].head, rooms[i].tail);
		p->sa = out;
		ck_assert_uint_eq(esp_outb_burst(&p, 1), rooms[i].want == ESP_OK);
		ck_assert_uint_eq(p->drop, rooms[i].want);
		if (rooms[i].want == ESP_OK) {
			ck_assert_uint_eq(p->headroom, 0);
			ck_assert_uint_eq(p->tailroom, 0);
			ck_assert_uint_eq(p->len, head + 100 + tail);
		}
		pkt_free(p);
	}
	/* Inner packets that are not IPv4/IPv6 or whose length disagrees. */
	for (unsigned i = 0; i < 6; i++) {
		uint8_t b[100];

		make_inner(b, i >= 3, 100, 0, false, 0);
		if (i == 0)
			b[0] = 0x55; /* version 5 */
		if (i == 1)
			b[3] = 99; /* total length != len */
		if (i == 2)
			b[0] = 0x44; /* IHL 4 */
		if (i == 3)
			b[5] = 61; /* payload length != len - 40 */
		if (i == 4)
			b[0] = 0x00;
		p = pkt_new(b, i == 5 ? 19 : 100, 64, 64);
		p->sa = out;
		ck_assert_uint_eq(esp_outb_burst(&p, 1), 0);
		ck_assert_msg(p->drop == ESP_DROP_BAD_INNER, "case %u: %s", i,
		              esp_drop_names[p->drop]);
		pkt_free(p);
	}
	ck_assert_uint_eq(esp_sa_seq(out), 1);
	sa_free(out);
}
END_TEST

/* The outer length field is 16 bits: a packet that would not fit is dropped, costing no number. */
START_TEST(outer_packet_must_fit_16_bits)
{
	for (unsigned v6 = 0; v6 < 2; v6++) {
		struct sa_opts o = { .encr = CRYPTO_ENCR_AES128_GCM16,
			             .integ = CRYPTO_INTEG_NONE,
			             .family = v6 ? AF_INET6 : AF_INET,
			             .udp = v6 };
		struct esp_sa *out = sa_new(&o, ESP_DIR_OUT);
		uint32_t fit = 65535;
		static uint8_t inner[65535];
		struct esp_pkt *p;

		make_inner(inner, v6, 65535, 0, false, 1);
		p = pkt_new(inner, 65535, 256, 256);
		p->sa = out;
		ck_assert_uint_eq(esp_outb_burst(&p, 1), 0);
		ck_assert_msg(p->drop == ESP_DROP_TOO_BIG, "%s", esp_drop_names[p->drop]);
		ck_assert_uint_eq(p->len, 65535);
		ck_assert_uint_eq(esp_sa_seq(out), 0);
		pkt_free(p);
		/* The largest inner packet that fits goes through with number 1. */
		while (esp_outb_len(out, fit) - (v6 ? 40 : 0) > 65535)
			fit--;
		make_inner(inner, v6, fit, 0, false, 1);
		p = pkt_new(inner, fit, 256, 256);
		p->sa = out;
		ck_assert_uint_eq(esp_outb_burst(&p, 1), 1);
		ck_assert_uint_eq(p->seq, 1);
		ck_assert_uint_eq(v6 ? be16(p->data + 4) + 40u : be16(p->data + 2), p->len);
		pkt_free(p);
		/* One byte more does not. */
		make_inner(inner, v6, fit + 4, 0, false, 1);
		p = pkt_new(inner, fit + 4, 256, 256);
		p->sa = out;
		ck_assert_uint_eq(esp_outb_burst(&p, 1), 0);
		ck_assert_uint_eq(p->drop, ESP_DROP_TOO_BIG);
		ck_assert_uint_eq(esp_sa_seq(out), 1);
		pkt_free(p);
		sa_free(out);
	}
}
END_TEST

#define BIG_BURST 70

/* Mixed SAs, failures in between: good ones first in order, then the bad ones. */
START_TEST(burst_order_and_mixed_sas)
{
	struct esp_sa *out[ARRAY_SIZE(sample_sas)], *in[ARRAY_SIZE(sample_sas)];
	struct esp_pkt *pkts[BIG_BURST], *orig[BIG_BURST];
	static uint8_t inner[BIG_BURST][1500];
	uint32_t lens[BIG_BURST];
	uint16_t n = (uint16_t)(_i ? BIG_BURST : ESP_MAX_BURST);
	unsigned good = 0;

	for (unsigned s = 0; s < ARRAY_SIZE(sample_sas); s++) {
		out[s] = sa_new(&sample_sas[s], ESP_DIR_OUT);
		in[s] = sa_new(&sample_sas[s], ESP_DIR_IN);
	}
	for (unsigned i = 0; i < n; i++) {
		struct esp_sa *sa = out[i % ARRAY_SIZE(sample_sas)];

		lens[i] = make_inner(inner[i], i & 2, 40 + (i * 97) % 1400, (uint8_t)i, i & 1, i);
		pkts[i] = orig[i] = pkt_new(inner[i], lens[i], 64, 64);
		pkts[i]->sa = sa;
		if (i % 5 == 3)
			pkts[i]->data[0] = 0x70; /* bad inner */
		else
			good++;
	}
	ck_assert_uint_eq(esp_outb_burst(pkts, n), good);
	for (unsigned i = 0, g = 0, b = good; i < n; i++) {
		if (i % 5 == 3) {
			ck_assert_ptr_eq(pkts[b++], orig[i]);
			ck_assert_uint_eq(orig[i]->drop, ESP_DROP_BAD_INNER);
		} else {
			ck_assert_ptr_eq(pkts[g++], orig[i]);
		}
	}
	/* Inbound: the same order; every 7th good packet is corrupted. */
	for (unsigned i = 0; i < good; i++)
		for (unsigned s = 0; s < ARRAY_SIZE(sample_sas); s++)
			if (pkts[i]->sa == out[s]) {
				pkts[i]->sa = in[s];
				break;
			}
	{
		struct esp_pkt *ib[BIG_BURST], *ib_orig[BIG_BURST];
		unsigned ig = 0;

		for (unsigned i = 0; i < good; i++) {
			ib[i] = ib_orig[i] = pkts[i];
			if (i % 7 == 2)
				ib[i]->data[ib[i]->len - 1] ^= 1;
			else
				ig++;
		}
		ck_assert_uint_eq(esp_inb_burst(ib, (uint16_t)good), ig);
		for (unsigned i = 0, g = 0, b = ig; i < good; i++) {
			if (i % 7 == 2) {
				ck_assert_ptr_eq(ib[b++], ib_orig[i]);
				ck_assert_uint_eq(ib_orig[i]->drop, ESP_DROP_BAD_ICV);
			} else {
				ck_assert_ptr_eq(ib[g++], ib_orig[i]);
			}
		}
	}
	/* The good ones decrypted to their inner packets. */
	for (unsigned i = 0, k = 0; i < n; i++) {
		if (i % 5 == 3)
			continue;
		if (k++ % 7 == 2)
			continue;
		ck_assert_uint_eq(orig[i]->len, lens[i]);
		ck_assert_mem_eq(orig[i]->data, inner[i], lens[i]);
	}
	for (unsigned i = 0; i < n; i++)
		pkt_free(orig[i]);
	for (unsigned s = 0; s < ARRAY_SIZE(sample_sas); s++) {
		sa_free(out[s]);
		sa_free(in[s]);
	}
}
END_TEST

START_TEST(inb_spi_finds_esp)
{
	struct sa_opts o = { .encr = CRYPTO_ENCR_AES128_GCM16, .integ = CRYPTO_INTEG_NONE };
	for (unsigned v = 0; v < 4; v++) {
		struct esp_sa *out, *in;
		struct esp_pkt *p;
		uint32_t spi = 0;
		uint32_t ip = v & 1 ? 40 : 20;

		o.family = v & 1 ? AF_INET6 : AF_INET;
		o.udp = v & 2;
		p = one_packet(&o, &out, &in, 60);
		ck_assert_int_eq(esp_inb_spi(p->data, p->len, &spi), 0);
		ck_assert_uint_eq(spi, 0x1000abcd);
		if (o.udp) {
			/* IKE on 4500: the non-ESP marker. */
			memset(p->data + ip + 8, 0, 4);
			ck_assert_int_eq(esp_inb_spi(p->data, p->len, &spi), -1);
			p->sa = in;
			ck_assert_uint_eq(esp_inb_burst(&p, 1), 0);
			ck_assert_uint_eq(p->drop, ESP_DROP_BAD_OUTER);
			/* Another port: not ours. */
			p->data[ip + 8] = 1;
			p->data[ip + 1] = 0x33;
			p->data[ip + 3] = 0x34;
			ck_assert_int_eq(esp_inb_spi(p->data, p->len, &spi), -1);
		} else {
			p->data[v & 1 ? 6 : 9] = 6; /* TCP */
			ck_assert_int_eq(esp_inb_spi(p->data, p->len, &spi), -1);
			p->sa = in;
			ck_assert_uint_eq(esp_inb_burst(&p, 1), 0);
			ck_assert_uint_eq(p->drop, ESP_DROP_BAD_OUTER);
		}
		ck_assert_int_eq(esp_inb_spi(p->data, 3, &spi), -1);
		pkt_free(p);
		sa_free(out);
		sa_free(in);
	}
}
END_TEST

START_TEST(sa_init_refuses_bad_conf)
{
	struct sa_opts o = { .encr = CRYPTO_ENCR_AES128_CBC,
		             .integ = CRYPTO_INTEG_HMAC_SHA1_96,
		             .window = 64 };
	struct esp_sa *sa = aligned_alloc(64, (esp_sa_size() + 63) & ~(size_t)63);
	struct esp_sa_conf c;
	char err[200];

	for (unsigned i = 0; i < 10; i++) {
		const char *word;

		conf_from(&c, &o, ESP_DIR_IN);
		switch (i) {
		case 0:
			c.spi = 0, word = "spi";
			break;
		case 1:
			c.enc_key_len = 17, word = "enc_key";
			break;
		case 2:
			c.auth_key_len = 16, word = "auth_key";
			break;
		case 3:
			c.integ = CRYPTO_INTEG_NONE, c.auth_key_len = 0, word = "integ";
			break;
		case 4:
			c.encr = CRYPTO_ENCR_AES128_GCM16, c.enc_key_len = 20, word = "integ";
			break;
		case 5:
			c.replay_window = 32, word = "replay_window";
			break;
		case 6:
			c.replay_window = 8192, word = "replay_window";
			break;
		case 7:
			c.family = 7, word = "family";
			break;
		case 8:
			c.seq = T32, word = "seq";
			break;
		default:
			c.encr = CRYPTO_INTEG_HMAC_SHA1_96, word = "encr";
			break;
		}
		err[0] = 0;
		ck_assert_int_eq(esp_sa_init(sa, &c, err, sizeof(err)), -EINVAL);
		ck_assert_msg(strstr(err, word) == err, "case %u: '%s'", i, err);
	}
	conf_from(&c, &o, ESP_DIR_IN);
	ck_assert_int_eq(esp_sa_init(sa, &c, err, sizeof(err)), 0);
	c.seq = T32;
	c.esn = true;
	ck_assert_int_eq(esp_sa_init(sa, &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(esp_sa_seq(sa), T32);
	esp_sa_wipe(sa);
	free(sa);
}
END_TEST

/* AES-128 of one block under the test key (OpenSSL, ECB). */
static void aes128_block(const uint8_t in[16], uint8_t out[16])
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int n;

	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(EVP_EncryptInit_ex(x, EVP_aes_128_ecb(), NULL, enc_key, NULL), 1);
	EVP_CIPHER_CTX_set_padding(x, 0);
	ck_assert_int_eq(EVP_EncryptUpdate(x, out, &n, in, 16), 1);
	EVP_CIPHER_CTX_free(x);
}

/* x = x * h in GF(2^128) as GCM defines it (bitwise, slow, independent). */
static void gf_mul(uint8_t x[16], const uint8_t h[16])
{
	uint8_t z[16] = { 0 }, v[16];

	memcpy(v, h, 16);
	for (unsigned i = 0; i < 128; i++) {
		unsigned lsb = v[15] & 1;

		if (x[i / 8] >> (7 - i % 8) & 1)
			for (unsigned k = 0; k < 16; k++)
				z[k] ^= v[k];
		for (unsigned k = 15; k > 0; k--)
			v[k] = (uint8_t)(v[k] >> 1 | v[k - 1] << 7);
		v[0] >>= 1;
		if (lsb)
			v[0] ^= 0xe1;
	}
	memcpy(x, z, 16);
}

/* GHASH state y after absorbing len bytes (zero-padded to blocks). */
static void ghash_blocks(uint8_t y[16], const uint8_t h[16], const uint8_t *p, uint32_t len)
{
	for (uint32_t off = 0; off < len; off += 16) {
		for (uint32_t k = 0; k < 16 && off + k < len; k++)
			y[k] ^= p[off + k];
		gf_mul(y, h);
	}
}

/* Dead stack below the caller's frame: where the burst's callees lived. */
static __attribute__((noinline)) bool stack_holds(const uint8_t *a, const uint8_t *b)
{
	uint8_t dead[32768];
	const volatile uint8_t *d = dead;
	uint8_t w[16];

	/* Hide from the compiler that dead was never written: it is read as found. */
	__asm__ volatile("" : "+r"(d) : : "memory");
	for (size_t i = 0; i + 16 <= sizeof(dead); i++) {
		for (unsigned k = 0; k < 16; k++)
			w[k] = d[i + k];
		if (memcmp(w, a, 16) == 0 || memcmp(w, b, 16) == 0)
			return true;
	}
	return false;
}

/*
 * The burst runs keep each SA's job template in their slots across bursts:
 * an SA set up again in the same memory, with other keys and another
 * HMAC, must not run on the template left from the one before.
 */
START_TEST(sa_remade_in_place_uses_its_own_template)
{
	static const enum crypto_alg_id hmacs[] = { CRYPTO_INTEG_HMAC_SHA1_96,
		                                    CRYPTO_INTEG_HMAC_SHA256_128,
		                                    CRYPTO_INTEG_HMAC_SHA1_96 };
	size_t size = (esp_sa_size() + 63) & ~(size_t)63;
	struct esp_sa *out = aligned_alloc(64, size), *in[ARRAY_SIZE(hmacs)];
	struct esp_sa_conf c;
	char err[200];

	ck_assert_ptr_nonnull(out);
	for (unsigned k = 0; k < ARRAY_SIZE(hmacs); k++) {
		struct sa_opts o = { .encr = CRYPTO_ENCR_AES128_CBC, .integ = hmacs[k] };

		/* Other keys each time: the key pointers stay, the keys behind them not. */
		enc_key[0] = (uint8_t)(0x40 + k);
		auth_key[0] = (uint8_t)(0x50 + k);
		conf_from(&c, &o, ESP_DIR_OUT);
		ck_assert_int_eq(esp_sa_init(out, &c, err, sizeof(err)), 0);
		/* The receiver is a new SA every time: it checks what out sends. */
		in[k] = sa_new(&o, ESP_DIR_IN);
		for (uint32_t i = 0; i < 40; i++)
			round_trip(out, in[k], &o, false, 64 + i, i);
		esp_sa_wipe(out);
	}
	for (unsigned k = 0; k < ARRAY_SIZE(hmacs); k++)
		sa_free(in[k]);
	free(out);
}
END_TEST

/*
 * The AES-GCM direct path keeps GHASH state and keystream in a context on
 * the stack: neither may be left there once the burst returns.
 */
START_TEST(gcm_context_is_wiped)
{
	struct sa_opts o = { .encr = CRYPTO_ENCR_AES128_GCM16, .integ = CRYPTO_INTEG_NONE };
	struct esp_sa *out = sa_new(&o, ESP_DIR_OUT);
	uint8_t inner[100], j[16], ek[16], ghash[16], ks[16], h[16], tag[16];
	uint8_t put_len[16] = { 0 };
	uint8_t *esp;
	uint32_t payload;
	struct esp_pkt *p;
	bool found;

	make_inner(inner, false, sizeof(inner), 0, false, 9);
	p = pkt_new(inner, sizeof(inner), esp_sa_head_len(out), esp_sa_tail_max(out));
	p->sa = out;
	ck_assert_uint_eq(esp_outb_burst(&p, 1), 1);
	esp = p->data + 20;
	payload = p->len - 20 - 8 - 8 - 16;
	ck_assert_uint_ne(payload % 16, 0);
	/* tag = GHASH ^ E(K, J0); J0 = salt || IV || 1. */
	memcpy(j, enc_key + 16, 4);
	memcpy(j + 4, esp + 8, 8);
	memcpy(j + 12, "\0\0\0\1", 4);
	aes128_block(j, ek);
	/* GHASH over AAD (SPI || seq) and ciphertext, before the length block. */
	memset(h, 0, sizeof(h));
	aes128_block(h, h);
	memset(ghash, 0, sizeof(ghash));
	ghash_blocks(ghash, h, esp, 8);
	ghash_blocks(ghash, h, esp + 16, payload);
	/* Shown right by the tag: (state ^ lengths) * H ^ E(K, J0). */
	memcpy(tag, ghash, 16);
	put_len[7] = 8 * 8;
	put_len[14] = (uint8_t)((payload * 8) >> 8);
	put_len[15] = (uint8_t)(payload * 8);
	ghash_blocks(tag, h, put_len, 16);
	for (unsigned k = 0; k < 16; k++)
		tag[k] ^= ek[k];
	ck_assert_mem_eq(tag, esp + 16 + payload, 16);
	/* The keystream of the last, partial block: counter 2 + payload / 16. */
	j[15] = (uint8_t)(2 + payload / 16);
	aes128_block(j, ks);
	/* The scan runs right after the burst, over the addresses its frames used. */
	found = stack_holds(ghash, ks);
	ck_assert_msg(!found, "GHASH state or keystream left on the stack");
	pkt_free(p);
	sa_free(out);
}
END_TEST

/* --- Independent decryption with OpenSSL --- */

static void openssl_check(const struct sa_opts *o, uint32_t inner_len)
{
	const struct crypto_alg *e = crypto_alg(o->encr);
	const struct crypto_alg *a = crypto_alg(o->integ);
	struct esp_sa *out, *in;
	struct esp_pkt *p;
	uint8_t inner[600], pt[700];
	uint32_t off = (o->family == AF_INET6 ? 40 : 20) + (o->udp ? 8 : 0);
	uint32_t icv_len = e->aead ? e->icv_len : a->icv_len;
	uint8_t *esp, *iv, *ct, *icv;
	uint32_t ct_len, pad;
	uint64_t seq;
	int n, fin;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	p = one_packet(o, &out, &in, inner_len);
	make_inner(inner, false, inner_len, 0, true, 3);
	seq = p->seq;
	esp = p->data + off;
	iv = esp + 8;
	ct = iv + e->iv_len;
	ct_len = p->len - off - 8 - e->iv_len - icv_len;
	icv = ct + ct_len;

	if (e->aead) {
		const EVP_CIPHER *c = o->encr == CRYPTO_ENCR_CHACHA20_POLY1305
		                              ? EVP_chacha20_poly1305()
		                      : e->key_len == 20 ? EVP_aes_128_gcm()
		                      : e->key_len == 28 ? EVP_aes_192_gcm()
		                                         : EVP_aes_256_gcm();
		uint8_t nonce[12], aad[12];
		uint32_t klen = e->key_len - 4;

		/* RFC 4106 / 7634: explicit IV is the 64-bit sequence number here. */
		ck_assert_uint_eq(be32(iv), (uint32_t)(seq >> 32));
		ck_assert_uint_eq(be32(iv + 4), (uint32_t)seq);
		memcpy(nonce, enc_key + klen, 4);
		memcpy(nonce + 4, iv, 8);
		memcpy(aad, esp, 4);
		if (o->esn) {
			aad[4] = (uint8_t)(seq >> 56);
			aad[5] = (uint8_t)(seq >> 48);
			aad[6] = (uint8_t)(seq >> 40);
			aad[7] = (uint8_t)(seq >> 32);
		}
		memcpy(aad + (o->esn ? 8 : 4), esp + 4, 4);
		ck_assert_int_eq(EVP_DecryptInit_ex(ctx, c, NULL, NULL, NULL), 1);
		ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL), 1);
		ck_assert_int_eq(EVP_DecryptInit_ex(ctx, NULL, NULL, enc_key, nonce), 1);
		ck_assert_int_eq(EVP_DecryptUpdate(ctx, NULL, &n, aad, o->esn ? 12 : 8), 1);
		ck_assert_int_eq(EVP_DecryptUpdate(ctx, pt, &n, ct, (int)ct_len), 1);
		ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, icv), 1);
		ck_assert_int_eq(EVP_DecryptFinal_ex(ctx, pt + n, &fin), 1);
	} else {
		const EVP_MD *md =
		        a->id == CRYPTO_INTEG_HMAC_SHA256_128 ? EVP_sha256() : EVP_sha1();
		const EVP_CIPHER *c = e->key_len == 16 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
		uint8_t mac[64], hashed[2048];
		unsigned mac_len;
		uint32_t hlen = 8 + e->iv_len + ct_len;

		/* RFC 4303 2.2.1: the ICV covers ESP..trailer, then seq_hi with ESN. */
		memcpy(hashed, esp, hlen);
		if (o->esn) {
			hashed[hlen] = (uint8_t)(seq >> 56);
			hashed[hlen + 1] = (uint8_t)(seq >> 48);
			hashed[hlen + 2] = (uint8_t)(seq >> 40);
			hashed[hlen + 3] = (uint8_t)(seq >> 32);
			hlen += 4;
		}
		ck_assert_ptr_nonnull(HMAC(md, auth_key, a->key_len, hashed, hlen, mac, &mac_len));
		ck_assert_mem_eq(mac, icv, icv_len);
		ck_assert_int_eq(EVP_DecryptInit_ex(ctx, c, NULL, enc_key, iv), 1);
		ck_assert_int_eq(EVP_CIPHER_CTX_set_padding(ctx, 0), 1);
		ck_assert_int_eq(EVP_DecryptUpdate(ctx, pt, &n, ct, (int)ct_len), 1);
		ck_assert_int_eq(EVP_DecryptFinal_ex(ctx, pt + n, &fin), 1);
	}
	/* Inner packet, padding 1, 2, ..., pad length, next header 4. */
	ck_assert_mem_eq(pt, inner, inner_len);
	pad = ct_len - inner_len - 2;
	ck_assert_uint_lt(pad, MAX(e->block_len, 4));
	ck_assert_uint_eq((inner_len + pad + 2) % MAX(e->block_len, 4), 0);
	for (uint32_t i = 0; i < pad; i++)
		ck_assert_uint_eq(pt[inner_len + i], i + 1);
	ck_assert_uint_eq(pt[inner_len + pad], pad);
	ck_assert_uint_eq(pt[inner_len + pad + 1], 4);
	EVP_CIPHER_CTX_free(ctx);
	pkt_free(p);
	sa_free(out);
	sa_free(in);
}

START_TEST(openssl_decrypts_our_esp)
{
	static const struct sa_opts cases[] = {
		{ .encr = CRYPTO_ENCR_AES128_GCM16, .integ = CRYPTO_INTEG_NONE },
		{ .encr = CRYPTO_ENCR_AES256_GCM16,
		  .integ = CRYPTO_INTEG_NONE,
		  .esn = true,
		  .seq_out = 5 * T32 + 7,
		  .udp = true },
		{ .encr = CRYPTO_ENCR_CHACHA20_POLY1305,
		  .integ = CRYPTO_INTEG_NONE,
		  .family = AF_INET6 },
		{ .encr = CRYPTO_ENCR_CHACHA20_POLY1305,
		  .integ = CRYPTO_INTEG_NONE,
		  .esn = true,
		  .seq_out = T32 },
		{ .encr = CRYPTO_ENCR_AES128_CBC, .integ = CRYPTO_INTEG_HMAC_SHA256_128 },
		{ .encr = CRYPTO_ENCR_AES256_CBC,
		  .integ = CRYPTO_INTEG_HMAC_SHA1_96,
		  .esn = true,
		  .seq_out = 2 * T32 + 1,
		  .family = AF_INET6,
		  .udp = true },
	};
	static const uint32_t sizes[] = { 20, 61, 64, 333, 500 };

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		for (unsigned s = 0; s < ARRAY_SIZE(sizes); s++)
			openssl_check(&cases[i], sizes[s]);
}
END_TEST

static Suite *esp_suite(void)
{
	Suite *s = suite_create("esp");
	TCase *tc = tcase_create("esp");

	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, round_trip_every_transform, 0, N_COMBOS);
	tcase_add_loop_test(tc, every_truncation_is_dropped, 0, ARRAY_SIZE(sample_sas));
	tcase_add_loop_test(tc, every_flipped_byte_fails_the_icv, 0, ARRAY_SIZE(sample_sas));
	tcase_add_loop_test(tc, forged_packet_is_not_decrypted, 0, ARRAY_SIZE(sample_sas));
	tcase_add_loop_test(tc, replayed_packet_is_dropped, 0, ARRAY_SIZE(sample_sas));
	tcase_add_loop_test(tc, replacement_carries_seq_and_window, 0, ARRAY_SIZE(sample_sas));
	tcase_add_loop_test(tc, crafted_trailers, 0, ARRAY_SIZE(craft_sas));
	tcase_add_loop_test(tc, every_pad_length_and_wrong_pad_byte, 0, ARRAY_SIZE(craft_sas));
	tcase_add_test(tc, cbc_ciphertext_must_be_whole_blocks);
	tcase_add_test(tc, esn_sequence_crosses_2_32);
	tcase_add_test(tc, sequence_overflow_stops_the_sa);
	tcase_add_test(tc, room_and_inner_checks);
	tcase_add_test(tc, outer_packet_must_fit_16_bits);
	tcase_add_loop_test(tc, burst_order_and_mixed_sas, 0, 2);
	tcase_add_test(tc, inb_spi_finds_esp);
	tcase_add_test(tc, sa_init_refuses_bad_conf);
	tcase_add_test(tc, openssl_decrypts_our_esp);
	tcase_add_test(tc, gcm_context_is_wiped);
	tcase_add_test(tc, sa_remade_in_place_uses_its_own_template);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(esp_suite)
