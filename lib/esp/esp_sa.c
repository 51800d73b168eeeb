/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP SA set-up: validation of the install request, key expansion, the
 * outer header template and the per-SA choice of job filler, so that the
 * burst functions never ask what kind of SA they hold.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cursor.h"
#include "esp_internal.h"

_Thread_local struct esp_runs esp_tls_runs;

/* SA generations: 0 is no SA's (an empty job slot). */
static atomic_uint_fast64_t sa_gen;

const char *const esp_drop_names[ESP_DROP_COUNT] = { [ESP_OK] = "ok",
#define ESP_DROP_NAME(name, str) [ESP_DROP_##name] = str,
	                                             ESP_DROP_REASONS(ESP_DROP_NAME)
#undef ESP_DROP_NAME
};

/* GCM and ChaCha20-Poly1305 keep their AAD in the same place of the job. */
static_assert(offsetof(IMB_JOB, u.GCM.aad) == offsetof(IMB_JOB, u.CHACHA20_POLY1305.aad),
              "AEAD AAD fields differ");
static_assert(offsetof(IMB_JOB, u.GCM.aad_len_in_bytes) ==
                      offsetof(IMB_JOB, u.CHACHA20_POLY1305.aad_len_in_bytes),
              "AEAD AAD length fields differ");

static inline void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

/*
 * AEAD (RFC 4106, RFC 7634): nonce = salt || explicit IV, AAD = SPI || seq,
 * the ciphertext starts after the IV. Without ESN the AAD is the ESP header
 * itself.
 */
static inline void fill_aead_common(const struct esp_sa *sa, IMB_JOB *job, struct esp_job_ctx *c,
                                    uint8_t *tag)
{
	uint32_t off = ESP_HDR_LEN + 8;

	memcpy(c->nonce, sa->sym.salt, 4);
	memcpy(c->nonce + 4, c->esp + ESP_HDR_LEN, 8);
	job->src = c->esp;
	job->dst = c->esp + off;
	job->cipher_start_src_offset_in_bytes = off;
	job->msg_len_to_cipher_in_bytes = c->payload_len;
	job->hash_start_src_offset_in_bytes = off;
	job->msg_len_to_hash_in_bytes = c->payload_len;
	job->iv = c->nonce;
	job->auth_tag_output = tag;
}

void esp_fill_aead(const struct esp_sa *sa, IMB_JOB *job, struct esp_job_ctx *c, uint64_t seq,
                   uint8_t *tag)
{
	(void)seq;
	fill_aead_common(sa, job, c, tag);
	job->u.GCM.aad = c->esp;
}

void esp_fill_aead_esn(const struct esp_sa *sa, IMB_JOB *job, struct esp_job_ctx *c, uint64_t seq,
                       uint8_t *tag)
{
	fill_aead_common(sa, job, c, tag);
	memcpy(c->aad, c->esp, 4);
	put_be64(c->aad + 4, seq);
	job->u.GCM.aad = c->aad;
}

/* Cipher + HMAC: the ICV covers ESP header, IV and ciphertext. */
void esp_fill_cbc(const struct esp_sa *sa, IMB_JOB *job, struct esp_job_ctx *c, uint64_t seq,
                  uint8_t *tag)
{
	uint32_t off = ESP_HDR_LEN + sa->iv_len;

	(void)seq;
	job->src = c->esp;
	job->dst = c->esp + off;
	job->cipher_start_src_offset_in_bytes = off;
	job->msg_len_to_cipher_in_bytes = c->payload_len;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = off + c->payload_len;
	job->iv = c->esp + ESP_HDR_LEN;
	job->auth_tag_output = tag;
}

/*
 * With ESN the high half is hashed after the trailer but not sent (RFC 4303
 * 2.2.1): it goes where the ICV will be (outbound: tailroom; inbound: the
 * received ICV, which the caller copied aside) and the hash covers 4 more.
 */
void esp_fill_cbc_esn(const struct esp_sa *sa, IMB_JOB *job, struct esp_job_ctx *c, uint64_t seq,
                      uint8_t *tag)
{
	esp_fill_cbc(sa, job, c, seq, tag);
	put_be32(c->esp + job->msg_len_to_hash_in_bytes, (uint32_t)(seq >> 32));
	job->msg_len_to_hash_in_bytes += 4;
}

/* Queues a filled job; whatever completes meanwhile is recorded. */
static inline void submit(IMB_MGR *mgr, IMB_JOB *job, struct esp_job_ctx *c)
{
	job->user_data = c;
	c->status = IMB_STATUS_BEING_PROCESSED;
	job = ESP_SUBMIT_JOB(mgr);
	while (job != NULL) {
		esp_job_done(job);
		job = IMB_GET_COMPLETED_JOB(mgr);
	}
}

/*
 * Jobs: everything but AES-GCM, whose direct API costs less per packet.
 * Inbound cipher+auth this is the hash only: nothing is decrypted before
 * the ICV verified (RFC 4303 3.4.4), esp_submit_decrypt follows.
 */
void esp_submit_job(IMB_MGR *mgr, const struct esp_sa *sa, struct esp_job_ctx *c, uint64_t seq,
                    uint8_t *tag)
{
	IMB_JOB *job = IMB_GET_NEXT_JOB(mgr);

	esp_job_copy(job, &sa->job_tmpl);
	sa->fill(sa, job, c, seq, tag);
	submit(mgr, job, c);
}

/* Inbound cipher+auth, once the ICV verified: the cipher-only job. */
void esp_submit_decrypt(IMB_MGR *mgr, const struct esp_sa *sa, struct esp_job_ctx *c, uint64_t seq,
                        uint8_t *tag)
{
	IMB_JOB *job = IMB_GET_NEXT_JOB(mgr);
	uint32_t off = ESP_HDR_LEN + sa->iv_len;

	(void)seq;
	(void)tag;
	esp_job_copy(job, &sa->job_cipher);
	job->src = c->esp;
	job->dst = c->esp + off;
	job->cipher_start_src_offset_in_bytes = off;
	job->msg_len_to_cipher_in_bytes = c->payload_len;
	job->iv = c->esp + ESP_HDR_LEN;
	submit(mgr, job, c);
}

static inline void gcm_direct(IMB_MGR *mgr, const struct esp_sa *sa, struct esp_job_ctx *c,
                              const uint8_t *aad, uint64_t aad_len, uint8_t *tag)
{
	/* The manager's function for this key size and direction, chosen at init. */
	aes_gcm_enc_dec_t fn = *(const aes_gcm_enc_dec_t *)((const uint8_t *)mgr + sa->gcm_off);
	struct gcm_context_data gctx;
	uint8_t *data = c->esp + ESP_HDR_LEN + 8;

	memcpy(c->nonce, sa->sym.salt, 4);
	memcpy(c->nonce + 4, c->esp + ESP_HDR_LEN, 8);
	fn(&sa->sym.k.gcm, &gctx, data, data, c->payload_len, c->nonce, aad, aad_len, tag,
	   sa->icv_len);
	/*
	 * GHASH state and the last keystream block stay behind in the context;
	 * wipe those two (the counters are public). The barrier keeps the
	 * stores from being dropped as dead.
	 */
	memset(gctx.aad_hash, 0, sizeof(gctx.aad_hash));
	memset(gctx.partial_block_enc_key, 0, sizeof(gctx.partial_block_enc_key));
	__asm__ volatile("" : : "r"(&gctx) : "memory");
	c->status = IMB_STATUS_COMPLETED;
}

void esp_submit_gcm(IMB_MGR *mgr, const struct esp_sa *sa, struct esp_job_ctx *c, uint64_t seq,
                    uint8_t *tag)
{
	(void)seq;
	gcm_direct(mgr, sa, c, c->esp, 8, tag);
}

void esp_submit_gcm_esn(IMB_MGR *mgr, const struct esp_sa *sa, struct esp_job_ctx *c, uint64_t seq,
                        uint8_t *tag)
{
	memcpy(c->aad, c->esp, 4);
	put_be64(c->aad + 4, seq);
	gcm_direct(mgr, sa, c, c->aad, 12, tag);
}

static uint16_t gcm_offset(enum crypto_alg_id encr, enum esp_dir dir)
{
	bool out = dir == ESP_DIR_OUT;

	switch (encr) {
	case CRYPTO_ENCR_AES128_GCM16:
		return out ? offsetof(IMB_MGR, gcm128_enc) : offsetof(IMB_MGR, gcm128_dec);
	case CRYPTO_ENCR_AES192_GCM16:
		return out ? offsetof(IMB_MGR, gcm192_enc) : offsetof(IMB_MGR, gcm192_dec);
	case CRYPTO_ENCR_AES256_GCM16:
		return out ? offsetof(IMB_MGR, gcm256_enc) : offsetof(IMB_MGR, gcm256_dec);
	default:
		return 0;
	}
}

static esp_prep_fn prep_fn(bool v6, bool udp, bool aead)
{
	static const esp_prep_fn fns[2][2][2] = {
		{ { esp_prep_ipv4_cbc, esp_prep_ipv4_aead },
		  { esp_prep_ipv4_udp_cbc, esp_prep_ipv4_udp_aead } },
		{ { esp_prep_ipv6_cbc, esp_prep_ipv6_aead },
		  { esp_prep_ipv6_udp_cbc, esp_prep_ipv6_udp_aead } },
	};

	return fns[v6][udp][aead];
}

static uint32_t sum16(const uint8_t *p, uint32_t len)
{
	uint32_t s = 0;

	for (uint32_t i = 0; i + 1 < len; i += 2)
		s += get_be16(p + i);
	return s;
}

static void build_outer(struct esp_sa *sa, const struct esp_sa_conf *conf)
{
	uint8_t *o = sa->outer;
	uint8_t ttl = conf->ttl ? conf->ttl : 64;
	uint8_t proto = conf->udp_encap ? IPPROTO_UDP_ : IPPROTO_ESP_;
	uint32_t ip_len;

	memset(o, 0, sizeof(sa->outer));
	if (conf->family == AF_INET6) {
		o[0] = 0x60;
		o[6] = proto;
		o[7] = ttl;
		memcpy(o + 8, conf->local, 16);
		memcpy(o + 24, conf->remote, 16);
		ip_len = 40;
	} else {
		o[0] = 0x45;
		o[8] = ttl;
		o[9] = proto;
		memcpy(o + 12, conf->local, 4);
		memcpy(o + 16, conf->remote, 4);
		ip_len = 20;
		/* Length, TOS, ID, DF and checksum are added per packet. */
		sa->v4_sum = sum16(o, 20);
	}
	if (conf->udp_encap) {
		put_be16(o + ip_len, conf->udp_sport ? conf->udp_sport : ESP_UDP_PORT);
		put_be16(o + ip_len + 2, conf->udp_dport ? conf->udp_dport : ESP_UDP_PORT);
		ip_len += 8;
	}
	sa->outer_len = (uint8_t)ip_len;
}

static int check_conf(const struct esp_sa_conf *conf, char *err, size_t err_len)
{
	const struct crypto_alg *e, *a;

	if (conf->dir != ESP_DIR_OUT && conf->dir != ESP_DIR_IN) {
		snprintf(err, err_len, "dir: %d is neither in nor out", (int)conf->dir);
		return -EINVAL;
	}
	if (conf->spi == 0) {
		snprintf(err, err_len, "spi: 0 is reserved (RFC 4303 2.1)");
		return -EINVAL;
	}
	e = crypto_alg(conf->encr);
	a = crypto_alg(conf->integ);
	if (e == NULL || e->kind != CRYPTO_ENCR) {
		snprintf(err, err_len, "encr: %d is not an encryption algorithm", (int)conf->encr);
		return -EINVAL;
	}
	if (a == NULL || a->kind != CRYPTO_INTEG) {
		snprintf(err, err_len, "integ: %d is not an integrity algorithm", (int)conf->integ);
		return -EINVAL;
	}
	if (e->aead && a->id != CRYPTO_INTEG_NONE) {
		snprintf(err, err_len,
		         "integ: %s is combined AEAD, it takes integrity none, not %s", e->name,
		         a->name);
		return -EINVAL;
	}
	if (!e->aead && a->id == CRYPTO_INTEG_NONE) {
		/* Encryption without integrity invites attacks on CBC (RFC 8221 5). */
		snprintf(err, err_len, "integ: %s needs an integrity algorithm", e->name);
		return -EINVAL;
	}
	if (conf->enc_key_len != e->key_len || (e->key_len && conf->enc_key == NULL)) {
		snprintf(err, err_len, "enc_key: %s takes %u bytes%s, got %u", e->name, e->key_len,
		         e->salt_len ? " (key then salt)" : "", conf->enc_key_len);
		return -EINVAL;
	}
	if (conf->auth_key_len != a->key_len || (a->key_len && conf->auth_key == NULL)) {
		snprintf(err, err_len, "auth_key: %s takes %u bytes, got %u", a->name, a->key_len,
		         conf->auth_key_len);
		return -EINVAL;
	}
	if (conf->dir == ESP_DIR_IN && conf->replay_window != 0 &&
	    (conf->replay_window < ESP_REPLAY_MIN || conf->replay_window > ESP_REPLAY_MAX)) {
		snprintf(err, err_len, "replay_window: %u is not 0 (off) or %u..%u",
		         conf->replay_window, ESP_REPLAY_MIN, ESP_REPLAY_MAX);
		return -EINVAL;
	}
	if (!conf->esn && conf->seq > UINT32_MAX) {
		snprintf(err, err_len, "seq: %llu needs extended sequence numbers",
		         (unsigned long long)conf->seq);
		return -EINVAL;
	}
	if (conf->family != AF_INET && conf->family != AF_INET6) {
		snprintf(err, err_len, "family: %d is neither AF_INET nor AF_INET6", conf->family);
		return -EINVAL;
	}
	return 0;
}

static bool hash_burst_alg(IMB_HASH_ALG h)
{
	return h == IMB_AUTH_HMAC_SHA_1 || h == IMB_AUTH_HMAC_SHA_224 ||
	       h == IMB_AUTH_HMAC_SHA_256 || h == IMB_AUTH_HMAC_SHA_384 ||
	       h == IMB_AUTH_HMAC_SHA_512;
}

int esp_sa_init(struct esp_sa *sa, const struct esp_sa_conf *conf, char *err, size_t err_len)
{
	const struct crypto_alg *e, *a;
	int rc;

	memset(sa, 0, sizeof(*sa));
	rc = check_conf(conf, err, err_len);
	if (rc)
		return rc;
	e = crypto_alg(conf->encr);
	a = crypto_alg(conf->integ);
	rc = crypto_sym_init(&sa->sym, conf->encr, conf->enc_key, conf->enc_key_len, conf->integ,
	                     conf->auth_key, conf->auth_key_len);
	if (rc) {
		snprintf(err, err_len, "encr: %s with integ %s: key set-up failed", e->name,
		         a->name);
		goto fail;
	}
	if (conf->dir == ESP_DIR_IN) {
		rc = esp_replay_init(&sa->replay, conf->replay_window, conf->esn, conf->seq);
		if (rc) {
			snprintf(err, err_len, "replay_window: %u refused", conf->replay_window);
			goto fail;
		}
	}
	sa->gen = atomic_fetch_add_explicit(&sa_gen, 1, memory_order_relaxed) + 1;
	sa->spi = conf->spi;
	sa->dir = (uint8_t)conf->dir;
	sa->esn = conf->esn;
	sa->iv_len = e->iv_len;
	sa->icv_len = e->aead ? e->icv_len : a->icv_len;
	/* The inbound compare runs in 4-byte words. */
	if (sa->icv_len == 0 || sa->icv_len % 4 != 0 || sa->icv_len > ESP_ICV_MAX) {
		snprintf(err, err_len, "integ: %s has an ICV of %u bytes", a->name, sa->icv_len);
		rc = -EINVAL;
		goto fail;
	}
	sa->block_len = e->block_len;
	sa->pad_align = MAX(e->block_len, 4);
	sa->seq = conf->seq;
	sa->seq_max = conf->esn ? UINT64_MAX : UINT32_MAX;
	sa->outer_v6 = conf->family == AF_INET6;
	sa->udp = conf->udp_encap;
	sa->udp6_csum = conf->udp_encap && conf->family == AF_INET6;
	sa->prep = prep_fn(conf->family == AF_INET6, conf->udp_encap, e->aead);
	if (e->aead)
		sa->fill = conf->esn ? esp_fill_aead_esn : esp_fill_aead;
	else
		sa->fill = conf->esn ? esp_fill_cbc_esn : esp_fill_cbc;
	sa->gcm_off = gcm_offset(conf->encr, conf->dir);
	if (sa->gcm_off)
		sa->submit = conf->esn ? esp_submit_gcm_esn : esp_submit_gcm;
	else
		sa->submit = esp_submit_job;
	build_outer(sa, conf);

	memset(&sa->job_tmpl, 0, sizeof(sa->job_tmpl));
	crypto_sym_job_prepare(&sa->sym, &sa->job_tmpl,
	                       conf->dir == ESP_DIR_OUT ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT);
	sa->job_tmpl.iv_len_in_bytes = e->aead ? 12 : e->iv_len;
	sa->job_tmpl.auth_tag_output_len_in_bytes = sa->icv_len;
	sa->job_tmpl.sgl_state = IMB_SGL_ALL;
	if (e->aead)
		sa->job_tmpl.u.GCM.aad_len_in_bytes = conf->esn ? 12 : 8;
	if (conf->dir == ESP_DIR_IN && !e->aead) {
		/*
		 * Verify, then decrypt (RFC 4303 3.4.4): a hash-only job first,
		 * a cipher-only one for the packets whose ICV verified. The
		 * NULL cipher has nothing to decrypt.
		 */
		sa->job_cipher = sa->job_tmpl;
		sa->job_cipher.hash_alg = IMB_AUTH_NULL;
		sa->job_cipher.auth_tag_output_len_in_bytes = 0;
		sa->job_tmpl.cipher_mode = IMB_CIPHER_NULL;
		sa->job_tmpl.cipher_direction = IMB_DIR_ENCRYPT;
		sa->job_tmpl.chain_order = IMB_ORDER_CIPHER_HASH;
		sa->icv_save = conf->esn;
		if (sa->sym.imb_cipher == IMB_CIPHER_CBC)
			sa->cbc_burst = 1;
		else if (sa->sym.imb_cipher != IMB_CIPHER_NULL)
			sa->decrypt = esp_submit_decrypt;
	}
	/* The HMACs IPsec-MB 1.3's hash burst takes (not MD5). */
	if (!e->aead && hash_burst_alg(sa->job_tmpl.hash_alg) &&
	    (conf->dir == ESP_DIR_IN || sa->sym.imb_cipher == IMB_CIPHER_CBC))
		sa->hash_burst = 1;
	return 0;
fail:
	esp_sa_wipe(sa);
	return -EINVAL;
}

void esp_sa_wipe(struct esp_sa *sa)
{
	crypto_sym_wipe(&sa->sym);
	sodium_memzero(sa, sizeof(*sa));
}

size_t esp_sa_size(void)
{
	return sizeof(struct esp_sa);
}

uint32_t esp_sa_head_len(const struct esp_sa *sa)
{
	return sa->outer_len + ESP_HDR_LEN + sa->iv_len;
}

uint32_t esp_sa_tail_max(const struct esp_sa *sa)
{
	return sa->pad_align - 1u + ESP_TRAILER + sa->icv_len;
}

uint32_t esp_outb_len(const struct esp_sa *sa, uint32_t inner_len)
{
	uint32_t mask = sa->pad_align - 1u;
	uint32_t payload = (inner_len + ESP_TRAILER + mask) & ~mask;

	return esp_sa_head_len(sa) + payload + sa->icv_len;
}

uint32_t esp_sa_spi(const struct esp_sa *sa)
{
	return sa->spi;
}

uint64_t esp_sa_seq(const struct esp_sa *sa)
{
	return sa->dir == ESP_DIR_OUT ? sa->seq : sa->replay.top;
}

void esp_sa_seq_set(struct esp_sa *sa, uint64_t seq)
{
	sa->seq = seq;
}

void esp_sa_replay_copy(struct esp_sa *dst, const struct esp_sa *src)
{
	dst->replay = src->replay;
}

uint64_t esp_sa_packets(const struct esp_sa *sa)
{
	return sa->packets;
}

uint64_t esp_sa_bytes(const struct esp_sa *sa)
{
	return sa->bytes;
}

static void reverse(struct esp_pkt *pkts[], uint32_t a, uint32_t b)
{
	while (a + 1 < b) {
		struct esp_pkt *t = pkts[a];

		pkts[a++] = pkts[--b];
		pkts[b] = t;
	}
}

uint16_t esp_burst_partition(struct esp_pkt *pkts[], uint16_t n)
{
	struct esp_pkt *bad[ESP_MAX_BURST];
	uint32_t good = 0, ok;

	/* Mostly nothing failed: the order is already the contract's. */
	for (ok = 0; ok < n && pkts[ok]->drop == ESP_OK; ok++)
		;
	if (ok == n)
		return n;

	for (uint32_t pos = 0; pos < n; pos += ESP_MAX_BURST) {
		uint32_t m = MIN((uint32_t)n - pos, (uint32_t)ESP_MAX_BURST);
		uint32_t g = 0, nb = 0;

		/* Stable split of this chunk... */
		for (uint32_t i = 0; i < m; i++) {
			struct esp_pkt *p = pkts[pos + i];

			if (p->drop == ESP_OK)
				pkts[pos + g++] = p;
			else
				bad[nb++] = p;
		}
		memcpy(&pkts[pos + g], bad, nb * sizeof(bad[0]));
		/* ...then its good ones move in front of earlier failures. */
		if (good < pos && g > 0) {
			reverse(pkts, good, pos);
			reverse(pkts, pos, pos + g);
			reverse(pkts, good, pos + g);
		}
		good += g;
	}
	return (uint16_t)good;
}
