/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ESP SA as the burst functions see it, and the per-packet scratch
 * that lives on the stack of one burst. Private to lib/esp/.
 */
#ifndef VPNGW_ESP_INTERNAL_H
#define VPNGW_ESP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <intel-ipsec-mb.h>
#include <string.h>
#ifdef __AVX2__
#include <immintrin.h>
#endif

#include "compiler.h"
#include "crypto_sym.h"
#include "esp.h"
#include "esp_replay.h"

#define ESP_HDR_LEN   8 /* SPI + sequence number */
#define ESP_TRAILER   2 /* pad length + next header */
#define ESP_ICV_MAX   32
#define ESP_UDP_PORT  4500
#define ESP_OUTER_MAX 48 /* IPv6 + UDP */
#define IPPROTO_ESP_  50
#define IPPROTO_UDP_  17
#define IPPROTO_IPIP_ 4
#define IPPROTO_IPV6_ 41
#define IPPROTO_NONE_ 59 /* TFC dummy packet (RFC 4303 2.6) */

/*
 * IPsec-MB's checked submit validates every job, and in 1.3 also copies
 * two 376-byte tables onto the stack per call (a tenth of a 64-byte
 * packet's cost). Our jobs come from templates checked at SA install and
 * lengths checked per packet (padding out, whole blocks in), so release
 * builds submit unchecked as DPDK's aesni_mb PMD does; debug and
 * sanitizer builds (no NDEBUG) keep IPsec-MB's checks, so the tests still
 * see a bad job.
 */
#ifdef NDEBUG
#define ESP_SUBMIT_JOB(mgr) IMB_SUBMIT_JOB_NOCHECK(mgr)
#define ESP_SUBMIT_CIPHER_BURST(mgr, jobs, n, ci, dir, klen) \
	IMB_SUBMIT_CIPHER_BURST_NOCHECK(mgr, jobs, n, ci, dir, klen)
#define ESP_SUBMIT_HASH_BURST(mgr, jobs, n, h) IMB_SUBMIT_HASH_BURST_NOCHECK(mgr, jobs, n, h)
#else
#define ESP_SUBMIT_JOB(mgr) IMB_SUBMIT_JOB(mgr)
#define ESP_SUBMIT_CIPHER_BURST(mgr, jobs, n, ci, dir, klen) \
	IMB_SUBMIT_CIPHER_BURST(mgr, jobs, n, ci, dir, klen)
#define ESP_SUBMIT_HASH_BURST(mgr, jobs, n, h) IMB_SUBMIT_HASH_BURST(mgr, jobs, n, h)
#endif

/* Per-packet scratch of one burst: IPsec-MB reads nonce and AAD from here. */
struct esp_job_ctx {
	alignas(16) uint8_t nonce[16]; /* AEAD: salt || explicit IV */
	alignas(16) uint8_t icv_calc[ESP_ICV_MAX];
	alignas(16) uint8_t icv_rx[ESP_ICV_MAX]; /* inbound cipher+auth ESN: the ICV saved */
	uint8_t aad[12];
	uint8_t decrypt;      /* inbound: a cipher job is queued after the ICV verified */
	uint8_t *esp;         /* ESP header in the packet */
	const uint8_t *icv;   /* inbound: the received ICV (in the packet or icv_rx) */
	uint32_t payload_len; /* ciphertext: inner + padding + trailer */
	IMB_STATUS status;
};

/*
 * Fills the per-packet fields of a job whose per-SA fields were copied from
 * the SA's template. Chosen once by esp_sa_init (AEAD or cipher+auth, ESN).
 */
typedef void (*esp_fill_fn)(const struct esp_sa *sa, IMB_JOB *job, struct esp_job_ctx *c,
                            uint64_t seq, uint8_t *tag);
/*
 * Runs the crypto of one packet: queues an IPsec-MB job (its result comes
 * back through esp_job_done) or, for AES-GCM, calls the direct API and is
 * done. tag: where the ICV goes (outbound) or the computed one (inbound).
 */
typedef void (*esp_submit_fn)(IMB_MGR *mgr, const struct esp_sa *sa, struct esp_job_ctx *c,
                              uint64_t seq, uint8_t *tag);
/*
 * Outbound: checks the inner packet at p, reserves room and writes all but
 * the crypto (outer header, ESP header, IV, padding, trailer); ESP_OK or
 * the drop reason. One per outer header and IV kind (esp_outb.c).
 */
typedef uint8_t (*esp_prep_fn)(struct esp_sa *sa, struct esp_pkt *p, struct esp_job_ctx *c);

struct esp_sa {
	/* Line 0: read by every packet. */
	cache_aligned uint32_t spi;
	uint8_t dir;
	uint8_t esn;
	uint8_t iv_len;
	uint8_t icv_len;
	uint8_t pad_align; /* max(block, 4) */
	uint8_t block_len; /* inbound: ciphertext multiple */
	uint8_t outer_len; /* outer IP + UDP bytes */
	uint8_t outer_v6;  /* outer header is IPv6 */
	uint8_t udp;       /* ESP-in-UDP */
	uint8_t udp6_csum; /* outbound IPv6+UDP: checksum after encryption */
	uint8_t icv_save;  /* inbound cipher+auth ESN: the hash overwrites the ICV */
	uint16_t ip_id;    /* outbound IPv4 identification */
	uint32_t v4_sum;   /* outbound IPv4: checksum sum of the fixed fields */
	uint64_t seq;      /* outbound: last used */
	uint64_t seq_max;  /* 2^32-1 or 2^64-1 */
	esp_submit_fn submit;
	esp_prep_fn prep;
	/* Line 1: outer header template (outbound), job filler. */
	cache_aligned uint8_t outer[ESP_OUTER_MAX];
	esp_fill_fn fill;
	uint16_t gcm_off; /* AES-GCM: offset of the enc/dec function in IMB_MGR */
	/* Line 2: counters, written by every packet. */
	cache_aligned uint64_t packets;
	uint64_t bytes;
	/*
	 * Inbound cipher+auth with a real cipher: queues the decryption of a
	 * packet whose ICV verified (job_tmpl is then hash only). NULL otherwise.
	 */
	esp_submit_fn decrypt;
	uint8_t cbc_burst; /* inbound AES-CBC: decrypt through IPsec-MB's cipher burst */
	/*
	 * HMAC-SHA through IPsec-MB's synchronous hash burst, no job manager
	 * to flush: inbound the hash-only stage, outbound (AES-CBC) a cipher
	 * burst, then a hash burst over the ciphertext (encrypt-then-MAC).
	 */
	uint8_t hash_burst;
	/* Unique among all SAs ever set up: which SA a kept job template is of. */
	uint64_t gen;
	/* Per-SA fields of every job (modes, keys, sizes). */
	cache_aligned IMB_JOB job_tmpl;
	IMB_JOB job_cipher; /* inbound cipher+auth: the cipher-only job */
	struct esp_replay replay;
	struct crypto_sym sym;
};

static_assert(sizeof(struct esp_sa) <= 4096, "esp_sa grew past a page");
static_assert(offsetof(struct esp_sa, prep) < CACHE_LINE, "hot fields must share a line");
static_assert(offsetof(struct esp_sa, gcm_off) < 2 * CACHE_LINE, "filler next to the template");
static_assert(offsetof(struct esp_sa, decrypt) < 3 * CACHE_LINE, "decrypt next to the counters");

/* Job fillers, shared by both directions (the template sets the direction). */
void esp_fill_aead(const struct esp_sa *sa, IMB_JOB *job, struct esp_job_ctx *c, uint64_t seq,
                   uint8_t *tag);
void esp_fill_aead_esn(const struct esp_sa *sa, IMB_JOB *job, struct esp_job_ctx *c, uint64_t seq,
                       uint8_t *tag);
void esp_fill_cbc(const struct esp_sa *sa, IMB_JOB *job, struct esp_job_ctx *c, uint64_t seq,
                  uint8_t *tag);
void esp_fill_cbc_esn(const struct esp_sa *sa, IMB_JOB *job, struct esp_job_ctx *c, uint64_t seq,
                      uint8_t *tag);

void esp_submit_decrypt(IMB_MGR *mgr, const struct esp_sa *sa, struct esp_job_ctx *c, uint64_t seq,
                        uint8_t *tag);
void esp_submit_job(IMB_MGR *mgr, const struct esp_sa *sa, struct esp_job_ctx *c, uint64_t seq,
                    uint8_t *tag);
void esp_submit_gcm(IMB_MGR *mgr, const struct esp_sa *sa, struct esp_job_ctx *c, uint64_t seq,
                    uint8_t *tag);
void esp_submit_gcm_esn(IMB_MGR *mgr, const struct esp_sa *sa, struct esp_job_ctx *c, uint64_t seq,
                        uint8_t *tag);

uint8_t esp_prep_ipv4_aead(struct esp_sa *sa, struct esp_pkt *p, struct esp_job_ctx *c);
uint8_t esp_prep_ipv4_udp_aead(struct esp_sa *sa, struct esp_pkt *p, struct esp_job_ctx *c);
uint8_t esp_prep_ipv6_aead(struct esp_sa *sa, struct esp_pkt *p, struct esp_job_ctx *c);
uint8_t esp_prep_ipv6_udp_aead(struct esp_sa *sa, struct esp_pkt *p, struct esp_job_ctx *c);
uint8_t esp_prep_ipv4_cbc(struct esp_sa *sa, struct esp_pkt *p, struct esp_job_ctx *c);
uint8_t esp_prep_ipv4_udp_cbc(struct esp_sa *sa, struct esp_pkt *p, struct esp_job_ctx *c);
uint8_t esp_prep_ipv6_cbc(struct esp_sa *sa, struct esp_pkt *p, struct esp_job_ctx *c);
uint8_t esp_prep_ipv6_udp_cbc(struct esp_sa *sa, struct esp_pkt *p, struct esp_job_ctx *c);

/*
 * Burst contract: good packets first in their order, failed ones after
 * them in theirs. Returns the number of good ones.
 */
uint16_t esp_burst_partition(struct esp_pkt *pkts[], uint16_t n);

/*
 * Copies a job template. A struct assignment of IMB_JOB's 200 bytes
 * becomes a call to memcpy; 32-byte moves inline cost a few cycles.
 */
static inline void esp_job_copy(IMB_JOB *dst, const IMB_JOB *src)
{
#ifdef __AVX2__
	uint8_t *d = (uint8_t *)dst;
	const uint8_t *s = (const uint8_t *)src;
	size_t i;

	for (i = 0; i + 32 <= sizeof(*dst); i += 32)
		_mm256_storeu_si256((__m256i *)(d + i),
		                    _mm256_loadu_si256((const __m256i *)(s + i)));
	if (i < sizeof(*dst))
		memcpy(d + i, s + i, sizeof(*dst) - i);
#else
	*dst = *src;
#endif
}

/*
 * Jobs of one kind run at once through IPsec-MB's synchronous burst API.
 * key_size: cipher runs; hash: hash runs (outbound CBC runs use both).
 * A run lives as long as its thread (esp_runs): a job slot keeps the
 * per-SA fields of the template last copied into it, tagged with that
 * SA's generation, so a tunnel's packets copy no template once its slots
 * hold it; IPsec-MB writes only a job's status, and the per-packet fields
 * are all set for every packet.
 */
struct esp_run {
	uint32_t n;
	uint32_t max_len; /* longest ciphertext in the run (outbound CBC) */
	IMB_KEY_SIZE_BYTES key_size;
	IMB_HASH_ALG hash;
	uint64_t gen[ESP_MAX_BURST]; /* esp_sa.gen of the template in jobs[i]; 0: none */
	IMB_JOB jobs[ESP_MAX_BURST];
};

/* This thread's runs: outbound CBC (cipher then hash), inbound hash, inbound CBC. */
struct esp_runs {
	struct esp_run out_cbc;
	struct esp_run in_hash;
	struct esp_run in_cbc;
};

extern _Thread_local struct esp_runs esp_tls_runs;

/* The next job of run r, holding tmpl's per-SA fields (copied unless it still does). */
static inline IMB_JOB *esp_run_job(struct esp_run *r, const struct esp_sa *sa, const IMB_JOB *tmpl)
{
	uint32_t i = r->n++;

	if (r->gen[i] != sa->gen) {
		esp_job_copy(&r->jobs[i], tmpl);
		r->gen[i] = sa->gen;
	}
	return &r->jobs[i];
}

/* Records the status of a run's jobs; those the burst did not complete failed. */
static inline void esp_run_done(struct esp_run *r, uint32_t done)
{
	for (uint32_t i = 0; i < r->n; i++) {
		struct esp_job_ctx *c = r->jobs[i].user_data;

		c->status = i < done ? r->jobs[i].status : IMB_STATUS_INVALID_ARGS;
	}
	r->n = 0;
	r->max_len = 0;
}

/* Records a finished job's status in its scratch. */
static inline void esp_job_done(IMB_JOB *job)
{
	struct esp_job_ctx *c = job->user_data;

	c->status = job->status;
}

/* Finishes whatever the job manager still holds: once per burst, only if jobs went in. */
static inline void esp_jobs_flush(IMB_MGR *mgr, unsigned jobs)
{
	IMB_JOB *job;

	if (jobs != 0)
		while ((job = IMB_FLUSH_JOB(mgr)) != NULL)
			esp_job_done(job);
}

#endif
