/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Outbound ESP tunnel mode (RFC 4303): the inner IP packet gets the outer
 * IP (+ UDP) header, ESP header and IV in front and padding, trailer and
 * ICV behind, in place. All jobs of a burst are queued to IPsec-MB before
 * the results are read, so its multi-buffer code paths see full lanes.
 */
#include <endian.h>
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "crypto_rand.h"
#include "cursor.h"
#include "esp_internal.h"

/* Padding bytes are 1, 2, 3, ... (RFC 4303 2.4). */
static const uint8_t pad_bytes[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

/*
 * CBC IVs must be unpredictable (RFC 3602 3). They come from a per-thread
 * AES-128-CTR keystream, IV_STREAM_BYTES at a time: each refill draws a
 * fresh key and counter block from lib/crypto's ChaCha20 IV stream (keyed
 * once from libsodium, DESIGN rule 8), runs one IPsec-MB CTR job and
 * wipes the expanded key. That key guards nothing but the unpredictability
 * of IVs, which is what the ChaCha20 stream is for; it only stretches that
 * stream with AES-NI. ChaCha20 straight into every IV cost about 30 cycles
 * a packet (a sixth of a 64-byte AES-GCM packet's whole ESP cost); this
 * costs a few. A forked child drops what its parent had buffered, so the
 * two never send the same IVs.
 */
enum { IV_STREAM_BYTES = 4096 };

struct iv_stream {
	alignas(64) uint8_t buf[IV_STREAM_BYTES];
	uint32_t avail; /* unused bytes at the end of buf */
};

static _Thread_local struct iv_stream iv_stream;
static pthread_once_t iv_once = PTHREAD_ONCE_INIT;

static void iv_stream_after_fork(void)
{
	sodium_memzero(&iv_stream, sizeof(iv_stream));
}

static void iv_once_init(void)
{
	(void)pthread_atfork(NULL, NULL, iv_stream_after_fork);
}

static void iv_stream_refill(struct iv_stream *s)
{
	alignas(16) uint8_t seed[32]; /* AES key, then the first counter block */
	alignas(16) uint32_t ek[4 * 11], dk[4 * 11];
	IMB_MGR *mgr = crypto_imb();
	IMB_JOB job;

	(void)pthread_once(&iv_once, iv_once_init);
	crypto_iv_random(seed, sizeof(seed));
	memset(s->buf, 0, sizeof(s->buf));
	if (likely(mgr != NULL)) {
		IMB_AES_KEYEXP_128(mgr, seed, ek, dk);
		memset(&job, 0, sizeof(job));
		job.cipher_mode = IMB_CIPHER_CNTR;
		job.cipher_direction = IMB_DIR_ENCRYPT;
		job.chain_order = IMB_ORDER_CIPHER_HASH;
		job.hash_alg = IMB_AUTH_NULL;
		job.key_len_in_bytes = IMB_KEY_128_BYTES;
		job.enc_keys = ek;
		job.dec_keys = dk;
		job.iv = seed + 16;
		job.iv_len_in_bytes = 16;
		job.src = s->buf;
		job.dst = s->buf;
		job.msg_len_to_cipher_in_bytes = sizeof(s->buf);
		/* Synchronous: never mixes with jobs queued in the manager. */
		if (IMB_SUBMIT_CIPHER_BURST(mgr, &job, 1, IMB_CIPHER_CNTR, IMB_DIR_ENCRYPT,
		                            IMB_KEY_128_BYTES) != 1)
			mgr = NULL;
		sodium_memzero(ek, sizeof(ek));
		sodium_memzero(dk, sizeof(dk));
	}
	if (unlikely(mgr == NULL))
		crypto_iv_random(s->buf, sizeof(s->buf));
	sodium_memzero(seed, sizeof(seed));
	s->avail = sizeof(s->buf);
}

/* n (8 or 16, 0 for the NULL cipher) unpredictable IV bytes. */
static inline void iv_random(uint8_t *iv, uint32_t n)
{
	struct iv_stream *s = &iv_stream;

	if (unlikely(s->avail < 16))
		iv_stream_refill(s);
	/* AES: a fixed-size copy, not a call; DES/3DES take 8, the NULL cipher 0. */
	if (likely(n == 16)) {
		memcpy(iv, s->buf + IV_STREAM_BYTES - s->avail, 16);
		s->avail -= 16;
	} else {
		memcpy(iv, s->buf + IV_STREAM_BYTES - s->avail, n);
		s->avail -= n;
	}
}

static inline uint16_t csum_fold(uint64_t s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* IPv6 forbids a zero UDP checksum by default (RFC 8200 8.1): compute it. */
static void udp6_checksum(uint8_t *ip6)
{
	uint8_t *udp = ip6 + 40;
	uint32_t len = get_be16(ip6 + 4);
	uint64_t s = IPPROTO_UDP_ + (uint64_t)len;
	uint32_t i;
	uint16_t c;

	for (i = 8; i < 40; i += 4)
		s += get_be32(ip6 + i);
	for (i = 0; i + 4 <= len; i += 4)
		s += get_be32(udp + i);
	if (i < len) {
		uint8_t last[4] = { 0 };

		memcpy(last, udp + i, len - i);
		s += get_be32(last);
	}
	c = (uint16_t)~csum_fold(s);
	put_be16(udp + 6, c ? c : 0xffff);
}

static inline uint32_t csum_fold32(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	return (s & 0xffff) + (s >> 16);
}

/*
 * Big-endian stores of whole words: put_be32's byte stores, several in a
 * row, are turned by GCC into a byte-insert vector sequence.
 */
static inline void st_be32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static inline void st_be64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

/*
 * The outer IPv4 (+ UDP) header from the SA's template, in three stores
 * and a copy of the addresses: TOS (with ECN) from the inner header, DF
 * from an inner IPv4 (RFC 4301 8.1), the checksum from the template's sum
 * of the fixed fields plus the four that change per packet.
 */
static inline void outer_ipv4(struct esp_sa *sa, uint8_t *out, uint32_t total, uint8_t tos,
                              uint8_t df, bool udp)
{
	uint16_t id = sa->ip_id++;
	uint32_t sum = csum_fold32(sa->v4_sum + tos + total + id + ((uint32_t)df << 8));

	st_be64(out, (uint64_t)0x45 << 56 | (uint64_t)tos << 48 | (uint64_t)total << 32 |
	                     (uint64_t)id << 16 | (uint64_t)df << 8);
	st_be32(out + 8,
	        (uint32_t)sa->outer[8] << 24 | (uint32_t)sa->outer[9] << 16 | (uint16_t)~sum);
	memcpy(out + 12, sa->outer + 12, 8);
	if (udp) {
		/* Ports from the template; UDP checksum 0 over IPv4 (RFC 3948 2.1). */
		memcpy(out + 20, sa->outer + 20, 4);
		st_be32(out + 24, (total - 20) << 16);
	}
}

static inline void outer_ipv6(struct esp_sa *sa, uint8_t *out, uint32_t total, uint8_t tc, bool udp)
{
	st_be32(out, 0x60000000u | (uint32_t)tc << 20);
	st_be32(out + 4, (total - 40) << 16 | (uint32_t)sa->outer[6] << 8 | sa->outer[7]);
	memcpy(out + 8, sa->outer + 8, 32);
	if (udp) {
		/* The UDP checksum is computed once the payload is encrypted. */
		memcpy(out + 40, sa->outer + 40, 4);
		st_be32(out + 44, (total - 40) << 16);
	}
}

/*
 * Checks the inner packet, reserves room and writes everything but the
 * crypto: outer header, ESP header, IV, padding and trailer. Built once
 * per outer header (IPv4/IPv6, with or without UDP) and IV (the sequence
 * number for AEAD, random for CBC) with those as constants; esp_sa_init
 * picks one per SA, so the packet path asks nothing of the SA's kind.
 */
static inline __attribute__((always_inline)) uint8_t outb_prep(struct esp_sa *sa, struct esp_pkt *p,
                                                               struct esp_job_ctx *c, const bool v6,
                                                               const bool udp, const bool aead)
{
	const uint32_t outer = (v6 ? 40u : 20u) + (udp ? 8u : 0u);
	const uint32_t iv_len = aead ? 8u : sa->iv_len;
	uint32_t mask = sa->pad_align - 1u;
	uint8_t *in = p->data;
	uint32_t len = p->len;
	uint32_t pad, tail, head, total;
	uint8_t nh, tos, df, *out, *esp, *t;
	uint64_t seq;

	if (unlikely(len < 20))
		return ESP_DROP_BAD_INNER;
	if ((in[0] >> 4) == 4) {
		if (unlikely((in[0] & 0xf) < 5 || get_be16(in + 2) != len))
			return ESP_DROP_BAD_INNER;
		nh = IPPROTO_IPIP_;
		tos = in[1];
		df = in[6] & 0x40;
	} else if ((in[0] >> 4) == 6) {
		if (unlikely(len < 40 || get_be16(in + 4) != len - 40))
			return ESP_DROP_BAD_INNER;
		nh = IPPROTO_IPV6_;
		tos = (uint8_t)(get_be16(in) >> 4);
		df = 0;
	} else {
		return ESP_DROP_BAD_INNER;
	}
	pad = (0u - (len + ESP_TRAILER)) & mask;
	tail = pad + ESP_TRAILER + sa->icv_len;
	head = outer + ESP_HDR_LEN + iv_len;
	if (unlikely(p->headroom < head))
		return ESP_DROP_NO_HEADROOM;
	if (unlikely(p->tailroom < tail))
		return ESP_DROP_NO_TAILROOM;
	/*
	 * The outer IPv4 total length / IPv6 payload length is 16 bits; checked
	 * before a sequence number is taken, so a dropped packet uses none.
	 */
	total = head + len + tail;
	if (unlikely(total - (v6 ? 40u : 0u) > UINT16_MAX))
		return ESP_DROP_TOO_BIG;
	if (unlikely(sa->seq >= sa->seq_max)) {
		/* RFC 4303 3.3.3: never cycle; the SA must be rekeyed. */
		return ESP_DROP_SEQ_OVERFLOW;
	}
	seq = ++sa->seq;

	t = in + len;
	/* pad < 16; the bytes after it are trailer and ICV, written next. */
	if (likely(p->tailroom >= sizeof(pad_bytes)))
		memcpy(t, pad_bytes, sizeof(pad_bytes));
	else
		memcpy(t, pad_bytes, pad);
	t[pad] = (uint8_t)pad;
	t[pad + 1] = nh;

	out = in - head;
	if (v6)
		outer_ipv6(sa, out, total, tos, udp);
	else
		outer_ipv4(sa, out, total, tos, df, udp);
	esp = out + outer;
	st_be64(esp, (uint64_t)sa->spi << 32 | (uint32_t)seq);
	if (aead) {
		/* RFC 4106 3.1 / RFC 7634 2: the counter never repeats under one key. */
		st_be64(esp + ESP_HDR_LEN, seq);
	} else {
		iv_random(esp + ESP_HDR_LEN, iv_len);
	}
	c->esp = esp;
	c->payload_len = len + pad + ESP_TRAILER;

	p->seq = seq;
	p->data = out;
	p->len = total;
	p->headroom -= head;
	p->tailroom -= tail;
	return ESP_OK;
}

#define ESP_PREP(name, v6, udp, aead)                                             \
	uint8_t name(struct esp_sa *sa, struct esp_pkt *p, struct esp_job_ctx *c) \
	{                                                                         \
		return outb_prep(sa, p, c, v6, udp, aead);                        \
	}
ESP_PREP(esp_prep_ipv4_aead, false, false, true)
ESP_PREP(esp_prep_ipv4_udp_aead, false, true, true)
ESP_PREP(esp_prep_ipv6_aead, true, false, true)
ESP_PREP(esp_prep_ipv6_udp_aead, true, true, true)
ESP_PREP(esp_prep_ipv4_cbc, false, false, false)
ESP_PREP(esp_prep_ipv4_udp_cbc, false, true, false)
ESP_PREP(esp_prep_ipv6_cbc, true, false, false)
ESP_PREP(esp_prep_ipv6_udp_cbc, true, true, false)
#undef ESP_PREP

/*
 * AES-CBC + HMAC-SHA: encrypt-then-MAC as a cipher burst, then a hash
 * burst over the ciphertext, both synchronous: no multi-buffer lanes are
 * left to flush.
 */
/* Runs of packets whose ciphertext is at most this long encrypt on crypto_imb_short_cbc(). */
#define CBC_SHORT 128

static void cbc_run_flush(IMB_MGR *mgr, struct esp_run *r)
{
	IMB_MGR *cm = r->max_len <= CBC_SHORT ? crypto_imb_short_cbc() : mgr;
	uint32_t done = ESP_SUBMIT_CIPHER_BURST(cm, r->jobs, r->n, IMB_CIPHER_CBC, IMB_DIR_ENCRYPT,
	                                        r->key_size);

	if (done == r->n)
		done = ESP_SUBMIT_HASH_BURST(mgr, r->jobs, r->n, r->hash);
	else
		done = 0;
	esp_run_done(r, done);
}

static inline void cbc_run_add(IMB_MGR *mgr, struct esp_run *r, const struct esp_sa *sa,
                               struct esp_job_ctx *c, uint64_t seq, uint8_t *tag)
{
	IMB_JOB *job;

	if (r->n != 0 &&
	    (r->key_size != sa->job_tmpl.key_len_in_bytes || r->hash != sa->job_tmpl.hash_alg))
		cbc_run_flush(mgr, r);
	r->key_size = sa->job_tmpl.key_len_in_bytes;
	r->hash = sa->job_tmpl.hash_alg;
	job = esp_run_job(r, sa, &sa->job_tmpl);
	sa->fill(sa, job, c, seq, tag);
	job->user_data = c;
	r->max_len = MAX(r->max_len, c->payload_len);
}

uint16_t esp_outb_burst(struct esp_pkt *pkts[], uint16_t n)
{
	struct esp_job_ctx ctx[ESP_MAX_BURST];
	uint32_t inner_len[ESP_MAX_BURST];
	struct esp_run *run = &esp_tls_runs.out_cbc;
	IMB_MGR *mgr = crypto_imb();

	run->n = 0;
	run->max_len = 0;
	for (uint32_t pos = 0; pos < n; pos += ESP_MAX_BURST) {
		uint32_t m = MIN((uint32_t)n - pos, (uint32_t)ESP_MAX_BURST);
		struct esp_pkt **b = pkts + pos;
		uint32_t jobs = 0;

		for (uint32_t i = 0; i < m; i++) {
			struct esp_pkt *p = b[i];
			struct esp_sa *sa = p->sa;
			struct esp_job_ctx *c = &ctx[i];

			if (i + 1 < m)
				__builtin_prefetch(b[i + 1]->data);
			inner_len[i] = p->len;
			p->drop = sa->prep(sa, p, c);
			if (unlikely(p->drop != ESP_OK))
				continue;
			if (unlikely(mgr == NULL)) {
				p->drop = ESP_DROP_CRYPTO_ERROR;
				continue;
			}
			if (sa->hash_burst) {
				cbc_run_add(mgr, run, sa, c, p->seq,
				            c->esp + ESP_HDR_LEN + sa->iv_len + c->payload_len);
				continue;
			}
			sa->submit(mgr, sa, c, p->seq,
			           c->esp + ESP_HDR_LEN + sa->iv_len + c->payload_len);
			jobs++;
		}
		if (run->n != 0)
			cbc_run_flush(mgr, run);
		esp_jobs_flush(mgr, jobs);

		for (uint32_t i = 0; i < m; i++) {
			struct esp_pkt *p = b[i];
			struct esp_sa *sa = p->sa;

			if (p->drop != ESP_OK)
				continue;
			if (unlikely(ctx[i].status != IMB_STATUS_COMPLETED)) {
				p->drop = ESP_DROP_CRYPTO_ERROR;
				continue;
			}
			if (sa->udp6_csum)
				udp6_checksum(p->data);
			sa->packets++;
			sa->bytes += inner_len[i];
		}
	}
	return esp_burst_partition(pkts, n);
}
