/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP benchmark: our esp_outb_burst()/esp_inb_burst() against raw IPsec-MB
 * jobs doing the same crypto, on one core, in the same run.
 *
 *   esp_bench [-r RUNS] [-t SECONDS] [-a ALG_SUBSTRING] [-s SIZE_NAME]
 *
 * For each algorithm and inner packet size it encrypts and decrypts a pool
 * of 96 packets in bursts of 32 for about SECONDS per measurement, ours and
 * raw alternating, RUNS times, and prints the medians as a Markdown table.
 *
 * What each side does per packet:
 *  - encrypt, ours: restore the 20-byte inner IPv4 header (in-place
 *    encryption leaves ciphertext where the next round needs a valid
 *    header), reset the esp_pkt, esp_outb_burst(): checks, padding, outer
 *    header, ESP header, IV, job, counters.
 *  - encrypt, raw: restore the same 20 bytes at the same place (so both
 *    pay it), one job with the same cipher and ICV over the same lengths
 *    of the same buffer layout; nonce/IV and AAD bytes prepared once.
 *  - decrypt, both: copy the encrypted packet (made once by our outbound
 *    path) into the work buffer, because decryption is in place; then ours
 *    runs esp_inb_burst() (replay window 0: the same packets come back every
 *    round), raw runs the job and compares the ICV in constant time. The
 *    copy is on both sides, so the ratio is fair; the absolute numbers
 *    include it.
 * Every packet must succeed on both sides, or the program aborts. The raw
 * jobs are checked once against our packets before timing (decrypt verifies
 * our ICVs, re-encrypt reproduces our ciphertext), so both do the same work.
 *
 * Cycles are TSC cycles (rdtsc, calibrated against CLOCK_MONOTONIC).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <x86intrin.h>

#include <intel-ipsec-mb.h>

#include "crypto_alg.h"
#include "crypto_mem.h"
#include "crypto_sym.h"
#include "esp.h"

#define POOL     96 /* packets cycled through: 3 bursts, fits in L2 */
#define BURST    32
#define BUF_SIZE 2048
#define HEADROOM 128 /* inner packet (encrypt) and ciphertext (both) start here */
#define MAX_RUNS 15

struct bench_alg {
	const char *name;
	enum crypto_alg_id encr;
	enum crypto_alg_id integ;
};

static const struct bench_alg algs[] = {
	{ "AES-128-GCM", CRYPTO_ENCR_AES128_GCM16, CRYPTO_INTEG_NONE },
	{ "AES-256-GCM", CRYPTO_ENCR_AES256_GCM16, CRYPTO_INTEG_NONE },
	{ "AES-128-CBC+HMAC-SHA1", CRYPTO_ENCR_AES128_CBC, CRYPTO_INTEG_HMAC_SHA1_96 },
	{ "AES-256-CBC+HMAC-SHA256", CRYPTO_ENCR_AES256_CBC, CRYPTO_INTEG_HMAC_SHA256_128 },
	{ "ChaCha20-Poly1305", CRYPTO_ENCR_CHACHA20_POLY1305, CRYPTO_INTEG_NONE },
};

/* Inner IPv4 packet sizes, cycled through the pool. */
struct bench_size {
	const char *name;
	uint16_t len[12];
	unsigned int n;
};

static const struct bench_size sizes[] = {
	{ "64", { 64 }, 1 },
	{ "512", { 512 }, 1 },
	{ "1420", { 1420 }, 1 },
	/* IMIX 7:4:1 of 64/570/1500, interleaved as on a link. */
	{ "IMIX", { 64, 570, 64, 64, 570, 64, 1500, 64, 570, 64, 64, 570 }, 12 },
};

/* Raw IPsec-MB state for one SA, set up with IPsec-MB calls only. */
struct raw_sa {
	alignas(64) struct gcm_key_data gcm;
	alignas(16) uint32_t aes_enc[4 * 15];
	alignas(16) uint32_t aes_dec[4 * 15];
	alignas(16) uint8_t chacha[32];
	alignas(16) uint8_t ipad[64];
	alignas(16) uint8_t opad[64];
	IMB_CIPHER_MODE cipher;
	IMB_HASH_ALG hash;
	IMB_KEY_SIZE_BYTES key_size;
	const void *enc_keys;
	const void *dec_keys;
	uint32_t iv_len; /* bytes in the packet */
	uint32_t icv_len;
	uint32_t nonce_len; /* bytes IPsec-MB reads: 12 for AEAD, 16 for CBC */
	bool aead;
};

struct bench {
	const struct bench_alg *alg;
	IMB_MGR *raw_mgr;
	struct raw_sa raw;
	struct esp_sa *out_sa;
	struct esp_sa *in_sa;
	struct esp_sa_conf out_conf;
	struct esp_sa_conf in_conf;
	uint8_t enc_key[64];
	uint8_t auth_key[64];
	uint8_t *buf[POOL];
	uint8_t *tmpl[POOL]; /* encrypted outer packets, from our outbound path */
	uint8_t *inner[POOL];
	uint32_t inner_len[POOL];
	uint32_t tmpl_len[POOL];
	uint32_t dec_off[POOL];     /* where the outer packet goes so ciphertext is at HEADROOM */
	uint32_t payload_len[POOL]; /* ciphertext bytes */
	alignas(16) uint8_t nonce[POOL][16];
	alignas(16) uint8_t tag[POOL][32];
	struct esp_pkt pkts[POOL];
	struct esp_pkt *ptrs[POOL];
	uint64_t pool_bytes; /* inner bytes per pass over the pool */
	unsigned int raw_fail;
};

static double tsc_hz;

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "esp_bench: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(EXIT_FAILURE);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void tsc_calibrate(void)
{
	uint64_t t0 = now_ns(), c0 = __rdtsc(), t1;

	do
		t1 = now_ns();
	while (t1 - t0 < 200000000u);
	tsc_hz = (double)(__rdtsc() - c0) * 1e9 / (double)(t1 - t0);
}

static void *xalloc(size_t size)
{
	void *p = aligned_alloc(64, (size + 63) & ~(size_t)63);

	if (!p)
		die("%s", "out of memory");
	memset(p, 0, size);
	return p;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An inner IPv4/UDP packet of len bytes with a valid header checksum. */
static void make_inner(uint8_t *p, uint32_t len, unsigned int i)
{
	uint32_t sum = 0;

	for (uint32_t k = 0; k < len; k++)
		p[k] = (uint8_t)(k * 13 + i);
	memcpy(p, (const uint8_t[]){ 0x45, 0, 0,  0, 0, 0, 0x40, 0, 64, 17,
	                             0,    0, 10, 1, 0, 1, 10,   2, 0,  (uint8_t)i },
	       20);
	put16(p + 2, (uint16_t)len);
	for (int k = 0; k < 20; k += 2)
		sum += (uint32_t)p[k] << 8 | p[k + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(p + 10, (uint16_t)~sum);
	put16(p + 20, 1234);
	put16(p + 22, 5678);
	put16(p + 24, (uint16_t)(len - 20));
	put16(p + 26, 0);
}

/* HMAC inner/outer hash states after the key block, via IPsec-MB. */
static void raw_hmac_keys(IMB_MGR *mgr, struct raw_sa *r, const uint8_t *key, size_t len)
{
	uint8_t block[64];

	for (int pass = 0; pass < 2; pass++) {
		uint8_t x = pass ? 0x5c : 0x36;

		memset(block, x, sizeof(block));
		for (size_t i = 0; i < len; i++)
			block[i] ^= key[i];
		if (r->hash == IMB_AUTH_HMAC_SHA_1)
			IMB_SHA1_ONE_BLOCK(mgr, block, pass ? r->opad : r->ipad);
		else
			IMB_SHA256_ONE_BLOCK(mgr, block, pass ? r->opad : r->ipad);
	}
}

static void raw_init(struct bench *b)
{
	struct raw_sa *r = &b->raw;
	IMB_MGR *mgr = b->raw_mgr;
	const struct crypto_alg *e = crypto_alg(b->alg->encr);
	const struct crypto_alg *a = crypto_alg(b->alg->integ);

	memset(r, 0, sizeof(*r));
	r->iv_len = e->iv_len;
	r->aead = e->aead;
	r->icv_len = e->aead ? e->icv_len : a->icv_len;
	r->nonce_len = e->aead ? 12 : 16;
	switch (b->alg->encr) {
	case CRYPTO_ENCR_AES128_GCM16:
		r->cipher = IMB_CIPHER_GCM;
		r->hash = IMB_AUTH_AES_GMAC;
		r->key_size = IMB_KEY_128_BYTES;
		IMB_AES128_GCM_PRE(mgr, b->enc_key, &r->gcm);
		r->enc_keys = r->dec_keys = &r->gcm;
		break;
	case CRYPTO_ENCR_AES256_GCM16:
		r->cipher = IMB_CIPHER_GCM;
		r->hash = IMB_AUTH_AES_GMAC;
		r->key_size = IMB_KEY_256_BYTES;
		IMB_AES256_GCM_PRE(mgr, b->enc_key, &r->gcm);
		r->enc_keys = r->dec_keys = &r->gcm;
		break;
	case CRYPTO_ENCR_CHACHA20_POLY1305:
		r->cipher = IMB_CIPHER_CHACHA20_POLY1305;
		r->hash = IMB_AUTH_CHACHA20_POLY1305;
		r->key_size = IMB_KEY_256_BYTES;
		memcpy(r->chacha, b->enc_key, 32);
		r->enc_keys = r->dec_keys = r->chacha;
		break;
	case CRYPTO_ENCR_AES128_CBC:
		r->cipher = IMB_CIPHER_CBC;
		r->key_size = IMB_KEY_128_BYTES;
		IMB_AES_KEYEXP_128(mgr, b->enc_key, r->aes_enc, r->aes_dec);
		break;
	case CRYPTO_ENCR_AES256_CBC:
		r->cipher = IMB_CIPHER_CBC;
		r->key_size = IMB_KEY_256_BYTES;
		IMB_AES_KEYEXP_256(mgr, b->enc_key, r->aes_enc, r->aes_dec);
		break;
	default:
		die("%s: no raw setup", b->alg->name);
	}
	if (r->cipher == IMB_CIPHER_CBC) {
		r->enc_keys = r->aes_enc;
		r->dec_keys = r->aes_dec;
		r->hash = b->alg->integ == CRYPTO_INTEG_HMAC_SHA1_96 ? IMB_AUTH_HMAC_SHA_1
		                                                     : IMB_AUTH_HMAC_SHA_256;
		raw_hmac_keys(mgr, r, b->auth_key, a->key_len);
	}
}

static bool ct_equal(const uint8_t *a, const uint8_t *b, uint32_t len)
{
	uint8_t d = 0;

	for (uint32_t i = 0; i < len; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

/* Every field of one raw job, as any IPsec-MB user sets it per packet. */
static void raw_fill(const struct bench *b, IMB_JOB *job, unsigned int i, IMB_CIPHER_DIRECTION dir)
{
	const struct raw_sa *r = &b->raw;
	uint8_t *ct = b->buf[i] + HEADROOM;
	uint8_t *esp = ct - 8 - r->iv_len;
	uint32_t len = b->payload_len[i];

	job->cipher_mode = r->cipher;
	job->hash_alg = r->hash;
	job->cipher_direction = dir;
	job->chain_order = dir == IMB_DIR_ENCRYPT ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
	job->key_len_in_bytes = r->key_size;
	job->enc_keys = r->enc_keys;
	job->dec_keys = r->dec_keys;
	job->src = esp;
	job->dst = ct;
	job->cipher_start_src_offset_in_bytes = 8 + r->iv_len;
	job->msg_len_to_cipher_in_bytes = len;
	job->iv = b->nonce[i];
	job->iv_len_in_bytes = r->nonce_len;
	job->auth_tag_output = dir == IMB_DIR_ENCRYPT ? ct + len : (uint8_t *)b->tag[i];
	job->auth_tag_output_len_in_bytes = r->icv_len;
	job->user_data = (void *)(uintptr_t)i;
	if (r->cipher == IMB_CIPHER_GCM) {
		job->hash_start_src_offset_in_bytes = 8 + r->iv_len;
		job->msg_len_to_hash_in_bytes = len;
		job->u.GCM.aad = esp;
		job->u.GCM.aad_len_in_bytes = 8;
	} else if (r->cipher == IMB_CIPHER_CHACHA20_POLY1305) {
		job->hash_start_src_offset_in_bytes = 8 + r->iv_len;
		job->msg_len_to_hash_in_bytes = len;
		job->u.CHACHA20_POLY1305.aad = esp;
		job->u.CHACHA20_POLY1305.aad_len_in_bytes = 8;
	} else {
		job->hash_start_src_offset_in_bytes = 0;
		job->msg_len_to_hash_in_bytes = 8 + r->iv_len + len;
		job->u.HMAC._hashed_auth_key_xor_ipad = r->ipad;
		job->u.HMAC._hashed_auth_key_xor_opad = r->opad;
	}
}

static void raw_done(struct bench *b, IMB_JOB *job)
{
	unsigned int i = (unsigned int)(uintptr_t)job->user_data;

	if (job->status != IMB_STATUS_COMPLETED) {
		b->raw_fail++;
		return;
	}
	if (job->cipher_direction == IMB_DIR_DECRYPT &&
	    !ct_equal(b->tag[i], b->buf[i] + HEADROOM + b->payload_len[i], b->raw.icv_len))
		b->raw_fail++;
}

/* One burst of raw jobs: the submit/flush pattern of our outbound path. */
static void raw_burst(struct bench *b, unsigned int first, IMB_CIPHER_DIRECTION dir)
{
	IMB_MGR *mgr = b->raw_mgr;
	IMB_JOB *job;

	for (unsigned int i = first; i < first + BURST; i++) {
		job = IMB_GET_NEXT_JOB(mgr);
		raw_fill(b, job, i, dir);
		job = IMB_SUBMIT_JOB(mgr);
		while (job != NULL) {
			raw_done(b, job);
			job = IMB_GET_COMPLETED_JOB(mgr);
		}
	}
	while ((job = IMB_FLUSH_JOB(mgr)) != NULL)
		raw_done(b, job);
}

static void check_raw(struct bench *b, const char *what)
{
	if (b->raw_fail)
		die("raw IPsec-MB %s: a job failed or an ICV did not verify", what);
}

static void pass_ours_enc(struct bench *b)
{
	for (unsigned int first = 0; first < POOL; first += BURST) {
		for (unsigned int i = first; i < first + BURST; i++) {
			memcpy(b->buf[i] + HEADROOM, b->inner[i], 20);
			b->pkts[i] = (struct esp_pkt){
				.data = b->buf[i] + HEADROOM,
				.len = b->inner_len[i],
				.headroom = HEADROOM,
				.tailroom = BUF_SIZE - HEADROOM - b->inner_len[i],
				.sa = b->out_sa,
			};
		}
		if (esp_outb_burst(b->ptrs + first, BURST) != BURST)
			die("%s: esp_outb_burst dropped a packet", b->alg->name);
	}
}

static void pass_raw_enc(struct bench *b)
{
	for (unsigned int first = 0; first < POOL; first += BURST) {
		for (unsigned int i = first; i < first + BURST; i++)
			memcpy(b->buf[i] + HEADROOM, b->inner[i], 20);
		raw_burst(b, first, IMB_DIR_ENCRYPT);
	}
	check_raw(b, "encrypt");
}

static void pass_ours_dec(struct bench *b)
{
	for (unsigned int first = 0; first < POOL; first += BURST) {
		for (unsigned int i = first; i < first + BURST; i++) {
			memcpy(b->buf[i] + b->dec_off[i], b->tmpl[i], b->tmpl_len[i]);
			b->pkts[i] = (struct esp_pkt){
				.data = b->buf[i] + b->dec_off[i],
				.len = b->tmpl_len[i],
				.headroom = b->dec_off[i],
				.tailroom = BUF_SIZE - b->dec_off[i] - b->tmpl_len[i],
				.sa = b->in_sa,
			};
		}
		uint16_t ok = esp_inb_burst(b->ptrs + first, BURST);
		if (ok != BURST)
			die("esp_inb_burst dropped a packet: %s",
			    esp_drop_names[b->ptrs[first + ok]->drop]);
	}
}

static void pass_raw_dec(struct bench *b)
{
	for (unsigned int first = 0; first < POOL; first += BURST) {
		for (unsigned int i = first; i < first + BURST; i++)
			memcpy(b->buf[i] + b->dec_off[i], b->tmpl[i], b->tmpl_len[i]);
		raw_burst(b, first, IMB_DIR_DECRYPT);
	}
	check_raw(b, "decrypt");
}

static void sa_setup(struct esp_sa *sa, const struct esp_sa_conf *conf)
{
	char err[256] = "";

	if (esp_sa_init(sa, conf, err, sizeof(err)) != 0)
		die("esp_sa_init: %s", err);
}

/*
 * Pool, keys, SAs and the encrypted templates for one algorithm and size;
 * then the raw jobs are checked against our packets.
 */
static void bench_setup(struct bench *b, const struct bench_alg *alg, const struct bench_size *sz)
{
	const struct crypto_alg *e = crypto_alg(alg->encr), *a = crypto_alg(alg->integ);

	b->alg = alg;
	for (unsigned int k = 0; k < sizeof(b->enc_key); k++) {
		b->enc_key[k] = (uint8_t)(0x11 * k + 3);
		b->auth_key[k] = (uint8_t)(0x07 * k + 5);
	}
	b->out_conf = (struct esp_sa_conf){
		.dir = ESP_DIR_OUT,
		.spi = 0x4000,
		.encr = alg->encr,
		.integ = alg->integ,
		.enc_key = b->enc_key,
		.enc_key_len = e->key_len,
		.auth_key = b->auth_key,
		.auth_key_len = a->key_len,
		.family = AF_INET,
		.local = { 198, 51, 100, 1 },
		.remote = { 198, 51, 100, 2 },
	};
	b->in_conf = b->out_conf;
	b->in_conf.dir = ESP_DIR_IN;
	b->in_conf.replay_window = 0;
	memcpy(b->in_conf.local, b->out_conf.remote, 16);
	memcpy(b->in_conf.remote, b->out_conf.local, 16);
	sa_setup(b->out_sa, &b->out_conf);
	sa_setup(b->in_sa, &b->in_conf);
	raw_init(b);

	b->pool_bytes = 0;
	for (unsigned int i = 0; i < POOL; i++) {
		b->inner_len[i] = sz->len[i % sz->n];
		make_inner(b->inner[i], b->inner_len[i], i);
		memcpy(b->buf[i] + HEADROOM, b->inner[i], b->inner_len[i]);
		b->pool_bytes += b->inner_len[i];
	}
	pass_ours_enc(b);
	for (unsigned int i = 0; i < POOL; i++) {
		const struct esp_pkt *p = &b->pkts[i];
		uint32_t outer = (p->data[0] & 0xfu) * 4u; /* IPv4 outer, no UDP */
		const uint8_t *iv = p->data + outer + 8;

		b->tmpl_len[i] = p->len;
		memcpy(b->tmpl[i], p->data, p->len);
		b->dec_off[i] = HEADROOM - outer - 8 - e->iv_len;
		b->payload_len[i] = p->len - outer - 8 - e->iv_len - b->raw.icv_len;
		if (e->aead) {
			memcpy(b->nonce[i], b->enc_key + e->key_len - 4, 4);
			memcpy(b->nonce[i] + 4, iv, 8);
		} else {
			memcpy(b->nonce[i], iv, 16);
		}
	}

	/* Raw decrypt of our packets must verify and give the inner packets. */
	b->raw_fail = 0;
	pass_raw_dec(b);
	for (unsigned int i = 0; i < POOL; i++)
		if (memcmp(b->buf[i] + HEADROOM, b->inner[i], b->inner_len[i]) != 0)
			die("%s: raw decrypt does not give the inner packet", alg->name);
	/* Re-encrypting in place must reproduce our ciphertext and ICV. */
	for (unsigned int first = 0; first < POOL; first += BURST)
		raw_burst(b, first, IMB_DIR_ENCRYPT);
	check_raw(b, "encrypt");
	for (unsigned int i = 0; i < POOL; i++)
		if (memcmp(b->buf[i] + b->dec_off[i], b->tmpl[i], b->tmpl_len[i]) != 0)
			die("%s: raw encrypt differs from our ESP packet", alg->name);
}

struct meas {
	double mpps;
	double cycles; /* TSC cycles per packet */
};

static struct meas measure(struct bench *b, void (*pass)(struct bench *), double seconds,
                           bool reset_out_sa)
{
	uint64_t passes = 0, t0, t1, c0, c1;

	/* A fresh outbound SA: the sequence number never nears 2^32. */
	if (reset_out_sa)
		sa_setup(b->out_sa, &b->out_conf);
	pass(b); /* warm caches and the manager */
	t0 = now_ns();
	c0 = __rdtsc();
	do {
		pass(b);
		passes++;
		t1 = now_ns();
	} while ((double)(t1 - t0) < seconds * 1e9);
	c1 = __rdtsc();
	return (struct meas){
		.mpps = (double)(passes * POOL) * 1e3 / (double)(t1 - t0),
		.cycles = (double)(c1 - c0) / (double)(passes * POOL),
	};
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void cpu_model(char *out, size_t cap)
{
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(out, cap, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && c) {
			snprintf(out, cap, "%s", c + 2);
			out[strcspn(out, "\n")] = 0;
			break;
		}
	}
	fclose(f);
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: esp_bench [-r RUNS (1..%d)] [-t SECONDS] [-a ALG_SUBSTRING] "
	        "[-s 64|512|1420|IMIX]\n",
	        MAX_RUNS);
	exit(EXIT_FAILURE);
}

int main(int argc, char **argv)
{
	unsigned int runs = 5;
	double seconds = 0.3;
	const char *alg_filter = NULL, *size_filter = NULL;
	char model[128];
	IMB_ARCH raw_arch = IMB_ARCH_NONE;
	int opt;

	while ((opt = getopt(argc, argv, "r:t:a:s:h")) != -1) {
		switch (opt) {
		case 'r':
			runs = (unsigned int)strtoul(optarg, NULL, 10);
			if (runs < 1 || runs > MAX_RUNS)
				usage();
			break;
		case 't':
			seconds = strtod(optarg, NULL);
			if (!(seconds > 0 && seconds < 60))
				usage();
			break;
		case 'a':
			alg_filter = optarg;
			break;
		case 's':
			size_filter = optarg;
			break;
		default:
			usage();
		}
	}
	if (crypto_init() != 0)
		die("%s", "crypto_init failed");

	struct bench *b = xalloc(sizeof(*b));
	b->raw_mgr = alloc_mb_mgr(0);
	if (!b->raw_mgr)
		die("%s", "alloc_mb_mgr failed");
	init_mb_mgr_auto(b->raw_mgr, &raw_arch);
	b->out_sa = xalloc(esp_sa_size());
	b->in_sa = xalloc(esp_sa_size());
	for (unsigned int i = 0; i < POOL; i++) {
		b->buf[i] = xalloc(BUF_SIZE);
		b->tmpl[i] = xalloc(BUF_SIZE);
		b->inner[i] = xalloc(BUF_SIZE);
		b->ptrs[i] = &b->pkts[i];
	}

	tsc_calibrate();
	cpu_model(model, sizeof(model));
	printf("CPU: %s; TSC %.3f GHz; IPsec-MB %s, arch ours %s, raw %s\n", model, tsc_hz / 1e9,
	       imb_get_version_str(), crypto_imb_arch_name(), crypto_imb_arch_str(raw_arch));
	printf("one core, bursts of %d over a pool of %d packets, %.2f s per measurement, "
	       "median of %u runs, ours and raw alternating;\n"
	       "Gbps counts inner bytes; decrypt includes copying each encrypted packet "
	       "into the work buffer on both sides; cycles are TSC cycles\n\n",
	       BURST, POOL, seconds, runs);
	printf("| algorithm | inner size | dir | ours Mpps | ours Gbps | ours cyc/pkt | raw Mpps | "
	       "raw Gbps | raw cyc/pkt | ours/raw |\n");
	printf("|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
	fflush(stdout);

	for (size_t ai = 0; ai < ARRAY_SIZE(algs); ai++) {
		if (alg_filter && !strstr(algs[ai].name, alg_filter))
			continue;
		for (size_t si = 0; si < ARRAY_SIZE(sizes); si++) {
			if (size_filter && strcmp(sizes[si].name, size_filter) != 0)
				continue;
			bench_setup(b, &algs[ai], &sizes[si]);
			double avg_bytes = (double)b->pool_bytes / POOL;

			for (int dir = 0; dir < 2; dir++) {
				double om[MAX_RUNS], oc[MAX_RUNS], rm[MAX_RUNS], rc[MAX_RUNS];
				void (*ours)(struct bench *) = dir ? pass_ours_dec : pass_ours_enc;
				void (*raw)(struct bench *) = dir ? pass_raw_dec : pass_raw_enc;

				for (unsigned int r = 0; r < runs; r++) {
					struct meas mo, mr;

					/* Alternate which side goes first. */
					if (r & 1) {
						mr = measure(b, raw, seconds, false);
						mo = measure(b, ours, seconds, !dir);
					} else {
						mo = measure(b, ours, seconds, !dir);
						mr = measure(b, raw, seconds, false);
					}
					om[r] = mo.mpps;
					oc[r] = mo.cycles;
					rm[r] = mr.mpps;
					rc[r] = mr.cycles;
				}
				double o = median(om, runs), rw = median(rm, runs);
				printf("| %s | %s | %s | %.2f | %.2f | %.0f | %.2f | %.2f | %.0f | "
				       "%.2f |\n",
				       algs[ai].name, sizes[si].name, dir ? "decrypt" : "encrypt",
				       o, o * avg_bytes * 8 / 1e3, median(oc, runs), rw,
				       rw * avg_bytes * 8 / 1e3, median(rc, runs), o / rw);
				fflush(stdout);
			}
		}
	}

	esp_sa_wipe(b->out_sa);
	esp_sa_wipe(b->in_sa);
	free_mb_mgr(b->raw_mgr);
	return EXIT_SUCCESS;
}
