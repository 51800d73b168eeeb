/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inbound ESP tunnel mode (RFC 4303): parse the outer header, check the
 * replay window, verify the ICV (constant time; cipher+auth before any
 * decryption, AEAD by the tag) and decrypt, then check the
 * trailer and hand back the inner packet. Every read of the untrusted
 * packet goes through the bounded cursor or is checked against what is
 * left; nothing of a packet whose ICV fails is looked at.
 */
#include <string.h>

#include "cursor.h"
#include "esp_internal.h"

/*
 * Finds the ESP part of an outer packet: IPv4 or IPv6, ESP directly or in
 * UDP with port 4500 (RFC 3948). Returns ESP_OK with *esp / *esp_len set.
 */
static uint8_t parse_outer(const uint8_t *pkt, uint32_t len, uint32_t *esp_off, uint32_t *esp_len)
{
	struct cursor cur = cursor_init(pkt, len);
	struct cursor ip;
	uint8_t proto;
	uint32_t hdr;

	if (unlikely(len < 1))
		return ESP_DROP_TRUNCATED;
	if ((pkt[0] >> 4) == 4) {
		uint32_t ihl = (pkt[0] & 0xfu) * 4u;
		uint16_t total;

		if (unlikely(len < 20))
			return ESP_DROP_TRUNCATED;
		total = get_be16(pkt + 2);
		/* Fragments are reassembled before ESP (RFC 4303 3.4.1). */
		if (unlikely(ihl < 20 || total < ihl || (get_be16(pkt + 6) & 0x3fff) != 0))
			return ESP_DROP_BAD_OUTER;
		proto = pkt[9];
		ip = cursor_sub(&cur, total); /* fails when total > len */
		hdr = ihl;
	} else if ((pkt[0] >> 4) == 6) {
		if (unlikely(len < 40))
			return ESP_DROP_TRUNCATED;
		proto = pkt[6];
		ip = cursor_sub(&cur, 40u + get_be16(pkt + 4));
		hdr = 40;
	} else {
		return ESP_DROP_BAD_OUTER;
	}
	if (unlikely(!cursor_ok(&ip)))
		return ESP_DROP_TRUNCATED;
	if (unlikely(!cursor_skip(&ip, hdr)))
		return ESP_DROP_TRUNCATED;
	if (proto == IPPROTO_UDP_) {
		uint16_t sport = cursor_be16(&ip);
		uint16_t dport = cursor_be16(&ip);
		uint16_t ulen = cursor_be16(&ip);

		cursor_skip(&ip, 2);
		if (unlikely(!cursor_ok(&ip)))
			return ESP_DROP_TRUNCATED;
		if (unlikely(sport != ESP_UDP_PORT && dport != ESP_UDP_PORT))
			return ESP_DROP_BAD_OUTER;
		if (unlikely(ulen < 8 || ulen - 8u > cursor_left(&ip)))
			return ESP_DROP_TRUNCATED;
		ip = cursor_sub(&ip, ulen - 8u);
		/* A zero first word is the non-ESP marker of IKE (RFC 3948 2.2). */
		if (unlikely(cursor_left(&ip) >= 4 && get_be32(ip.p) == 0))
			return ESP_DROP_BAD_OUTER;
	} else if (unlikely(proto != IPPROTO_ESP_)) {
		return ESP_DROP_BAD_OUTER;
	}
	*esp_off = (uint32_t)(ip.p - pkt);
	*esp_len = (uint32_t)cursor_left(&ip);
	return ESP_OK;
}

int esp_inb_spi(const uint8_t *pkt, uint32_t len, uint32_t *spi)
{
	uint32_t off, esp_len;

	if (parse_outer(pkt, len, &off, &esp_len) != ESP_OK || esp_len < ESP_HDR_LEN)
		return -1;
	*spi = get_be32(pkt + off);
	return 0;
}

/* Everything before the crypto: where the ESP is, lengths, replay. */
static inline uint8_t inb_prepare(const struct esp_sa *sa, struct esp_pkt *p, struct esp_job_ctx *c)
{
	uint32_t off, esp_len, payload;
	uint8_t drop;

	drop = parse_outer(p->data, p->len, &off, &esp_len);
	if (unlikely(drop != ESP_OK))
		return drop;
	if (unlikely(esp_len < (uint32_t)ESP_HDR_LEN + sa->iv_len + ESP_TRAILER + sa->icv_len))
		return ESP_DROP_TRUNCATED;
	payload = esp_len - ESP_HDR_LEN - sa->iv_len - sa->icv_len;
	/* block_len is 1, 8 or 16: CBC ciphertext must be whole blocks. */
	if (unlikely(payload & (sa->block_len - 1u)))
		return ESP_DROP_BAD_LENGTH;
	c->esp = p->data + off;
	c->payload_len = payload;
	p->seq = esp_replay_infer(&sa->replay, get_be32(c->esp + 4));
	/* Before the ICV: a replayed packet costs no crypto (RFC 4303 3.4.3). */
	if (unlikely(!esp_replay_check(&sa->replay, p->seq)))
		return ESP_DROP_REPLAY;
	c->icv = c->esp + ESP_HDR_LEN + sa->iv_len + payload;
	if (sa->icv_save) {
		/* The ESN high half is hashed where the ICV is (esp_fill_cbc_esn). */
		memcpy(c->icv_rx, c->icv, sa->icv_len);
		c->icv = c->icv_rx;
	}
	return ESP_OK;
}

/*
 * Constant time in the bytes compared (the length is the SA's, not a
 * secret): every word is looked at, the differences are only ORed.
 */
static inline bool icv_equal(const uint8_t *a, const uint8_t *b, uint32_t len)
{
	uint32_t d = 0;

	if (len == 16) {
		/* AEAD tags and HMAC-SHA-256-128: two words, no loop. */
		uint64_t x[2], y[2];

		memcpy(x, a, 16);
		memcpy(y, b, 16);
		return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
	}
	if (len == 12) {
		/* HMAC-SHA1-96 and HMAC-MD5-96: a word and a half. */
		uint64_t x0, y0;
		uint32_t x1, y1;

		memcpy(&x0, a, 8);
		memcpy(&y0, b, 8);
		memcpy(&x1, a + 8, 4);
		memcpy(&y1, b + 8, 4);
		return ((x0 ^ y0) | (x1 ^ y1)) == 0;
	}
	for (uint32_t i = 0; i < len; i += 4) {
		uint32_t x, y;

		memcpy(&x, a + i, 4);
		memcpy(&y, b + i, 4);
		d |= x ^ y;
	}
	return d == 0;
}

/*
 * The ICV of a packet whose crypto completed. On failure the packet is left
 * as it came: a saved ICV goes back over the ESN high half.
 */
static inline uint8_t inb_verify(const struct esp_sa *sa, struct esp_job_ctx *c)
{
	if (unlikely(c->status != IMB_STATUS_COMPLETED))
		return ESP_DROP_CRYPTO_ERROR;
	if (unlikely(!icv_equal(c->icv_calc, c->icv, sa->icv_len))) {
		if (sa->icv_save)
			memcpy(c->esp + ESP_HDR_LEN + sa->iv_len + c->payload_len, c->icv_rx,
			       sa->icv_len);
		return ESP_DROP_BAD_ICV;
	}
	return ESP_OK;
}

/* Eight bytes as a little-endian number, whatever the host's byte order. */
static inline uint64_t le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* Padding bytes i + 1 .. i + 8 (RFC 4303 2.4) read as le64(); i + 8 <= 255. */
static inline uint64_t pad_word(uint32_t i)
{
	return UINT64_C(0x0807060504030201) + i * UINT64_C(0x0101010101010101);
}

/*
 * The n padding bytes at p are 1, 2, ..., n, compared eight at a time
 * (the last eight overlapping); a byte loop cost a branch per byte. The
 * ICV verified already, so nothing here needs constant time. Fewer than
 * eight are the top bytes of the eight ending where they end: at least
 * eight bytes (ESP header and IV) come before any padding.
 */
static inline bool pad_ok(const uint8_t *p, uint32_t n)
{
	uint64_t d = 0;
	uint32_t i;

	if (n < 8) {
		uint32_t shift = 8 * (8 - n);

		if (n == 0)
			return true;
		return (le64(p + n - 8) >> shift) == (pad_word(0) & (UINT64_MAX >> shift));
	}
	for (i = 0; i + 8 <= n; i += 8)
		d |= le64(p + i) ^ pad_word(i);
	return (d | (le64(p + n - 8) ^ pad_word(n - 8))) == 0;
}

/* After the ICV verified: the window, the trailer and the inner packet. */
static inline uint8_t inb_finish(struct esp_sa *sa, struct esp_pkt *p, struct esp_job_ctx *c)
{
	uint8_t *inner = c->esp + ESP_HDR_LEN + sa->iv_len;
	uint32_t payload = c->payload_len;
	uint32_t pad_len = inner[payload - 2];
	uint8_t nh = inner[payload - 1];
	uint32_t len, ip_len;
	uint8_t *end = p->data + p->len;

	if (unlikely(!esp_replay_update(&sa->replay, p->seq)))
		return ESP_DROP_REPLAY;
	if (unlikely(pad_len + ESP_TRAILER > payload))
		return ESP_DROP_BAD_PADDING;
	len = payload - ESP_TRAILER - pad_len;
	if (unlikely(!pad_ok(inner + len, pad_len)))
		return ESP_DROP_BAD_PADDING;
	if (nh == IPPROTO_IPIP_) {
		if (unlikely(len < 20 || inner[0] >> 4 != 4))
			return ESP_DROP_BAD_INNER;
		ip_len = get_be16(inner + 2);
		if (unlikely((inner[0] & 0xfu) < 5 || (inner[0] & 0xfu) * 4u > ip_len ||
		             ip_len > len))
			return ESP_DROP_BAD_INNER;
	} else if (nh == IPPROTO_IPV6_) {
		if (unlikely(len < 40 || inner[0] >> 4 != 6))
			return ESP_DROP_BAD_INNER;
		ip_len = 40u + get_be16(inner + 4);
		if (unlikely(ip_len > len))
			return ESP_DROP_BAD_INNER;
	} else if (nh == IPPROTO_NONE_) {
		/* RFC 4303 2.6: a TFC dummy packet is silently discarded. */
		return ESP_DROP_DUMMY;
	} else {
		return ESP_DROP_BAD_NEXT_HEADER;
	}
	/* The inner header's length drops TFC padding (RFC 4303 2.4). */
	p->next_header = nh;
	p->headroom += (uint32_t)(inner - p->data);
	p->tailroom += (uint32_t)(end - (inner + ip_len));
	p->data = inner;
	p->len = ip_len;
	sa->packets++;
	sa->bytes += ip_len;
	return ESP_OK;
}

/* Cipher-only jobs of one key size, run at once (IPsec-MB's cipher burst). */
static void cbc_run_flush(IMB_MGR *mgr, struct esp_run *r)
{
	esp_run_done(r, ESP_SUBMIT_CIPHER_BURST(mgr, r->jobs, r->n, IMB_CIPHER_CBC, IMB_DIR_DECRYPT,
	                                        r->key_size));
}

/* Hash-only jobs of one HMAC, run at once (IPsec-MB's hash burst). */
static void hash_run_flush(IMB_MGR *mgr, struct esp_run *r)
{
	esp_run_done(r, ESP_SUBMIT_HASH_BURST(mgr, r->jobs, r->n, r->hash));
}

static inline void hash_run_add(IMB_MGR *mgr, struct esp_run *r, const struct esp_sa *sa,
                                struct esp_job_ctx *c, uint64_t seq)
{
	IMB_JOB *job;

	if (r->n != 0 && r->hash != sa->job_tmpl.hash_alg)
		hash_run_flush(mgr, r);
	r->hash = sa->job_tmpl.hash_alg;
	job = esp_run_job(r, sa, &sa->job_tmpl);
	sa->fill(sa, job, c, seq, c->icv_calc);
	job->user_data = c;
}

static inline void cbc_run_add(IMB_MGR *mgr, struct esp_run *r, const struct esp_sa *sa,
                               struct esp_job_ctx *c)
{
	uint32_t off = ESP_HDR_LEN + sa->iv_len;
	IMB_JOB *job;

	if (r->n != 0 && r->key_size != sa->job_cipher.key_len_in_bytes)
		cbc_run_flush(mgr, r);
	r->key_size = sa->job_cipher.key_len_in_bytes;
	job = esp_run_job(r, sa, &sa->job_cipher);
	job->src = c->esp;
	job->dst = c->esp + off;
	job->cipher_start_src_offset_in_bytes = off;
	job->msg_len_to_cipher_in_bytes = c->payload_len;
	job->iv = c->esp + ESP_HDR_LEN;
	job->user_data = c;
}

/*
 * Three passes over a burst: (1) parse, replay check and the first job:
 * AEAD decrypts and computes the tag, cipher+auth only hashes; (2) the ICV
 * compare, then for cipher+auth the decryption of the packets that
 * verified, so no byte of a forged packet is decrypted; (3) the trailer.
 */
uint16_t esp_inb_burst(struct esp_pkt *pkts[], uint16_t n)
{
	struct esp_job_ctx ctx[ESP_MAX_BURST];
	struct esp_run *run = &esp_tls_runs.in_cbc, *hrun = &esp_tls_runs.in_hash;
	IMB_MGR *mgr = crypto_imb();

	run->n = 0;
	hrun->n = 0;
	for (uint32_t pos = 0; pos < n; pos += ESP_MAX_BURST) {
		uint32_t m = MIN((uint32_t)n - pos, (uint32_t)ESP_MAX_BURST);
		struct esp_pkt **b = pkts + pos;
		uint32_t queued = 0, jobs = 0;

		for (uint32_t i = 0; i < m; i++) {
			struct esp_pkt *p = b[i];
			struct esp_sa *sa = p->sa;
			struct esp_job_ctx *c = &ctx[i];

			if (i + 1 < m)
				__builtin_prefetch(b[i + 1]->data);
			p->drop = inb_prepare(sa, p, c);
			if (unlikely(p->drop != ESP_OK))
				continue;
			if (unlikely(mgr == NULL)) {
				p->drop = ESP_DROP_CRYPTO_ERROR;
				continue;
			}
			if (sa->hash_burst) {
				hash_run_add(mgr, hrun, sa, c, p->seq);
				continue;
			}
			sa->submit(mgr, sa, c, p->seq, c->icv_calc);
			jobs++;
		}
		if (hrun->n != 0)
			hash_run_flush(mgr, hrun);
		esp_jobs_flush(mgr, jobs);

		/*
		 * In order, so the first of two same-numbered packets wins; an
		 * SA's packets all finish in the same pass, so its order holds.
		 */
		for (uint32_t i = 0; i < m; i++) {
			struct esp_pkt *p = b[i];
			struct esp_sa *sa = p->sa;
			struct esp_job_ctx *c = &ctx[i];

			c->decrypt = 0;
			if (p->drop != ESP_OK)
				continue;
			p->drop = inb_verify(sa, c);
			if (unlikely(p->drop != ESP_OK))
				continue;
			if (sa->cbc_burst) {
				cbc_run_add(mgr, run, sa, c);
				c->decrypt = 1;
				continue;
			}
			if (sa->decrypt != NULL) {
				sa->decrypt(mgr, sa, c, p->seq, NULL);
				c->decrypt = 1;
				queued++;
				continue;
			}
			p->drop = inb_finish(sa, p, c);
		}
		if (run->n != 0)
			cbc_run_flush(mgr, run);
		else if (queued == 0)
			continue;
		esp_jobs_flush(mgr, queued);

		for (uint32_t i = 0; i < m; i++) {
			struct esp_pkt *p = b[i];
			struct esp_job_ctx *c = &ctx[i];

			if (!c->decrypt)
				continue;
			if (unlikely(c->status != IMB_STATUS_COMPLETED)) {
				p->drop = ESP_DROP_CRYPTO_ERROR;
				continue;
			}
			p->drop = inb_finish(p->sa, p, c);
		}
	}
	return esp_burst_partition(pkts, n);
}
