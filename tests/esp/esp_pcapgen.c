/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Makes ESP packets with our outbound path for the tshark/scapy cross-check
 * (esp_xcheck.py): for every case (algorithm set, outer family, ESN, UDP
 * encapsulation) a handful of inner IPv4 and IPv6 packets (UDP and ICMP,
 * payloads of several sizes) go through esp_outb_burst() with static keys.
 *
 *   esp_pcapgen OUTDIR
 *
 * writes OUTDIR/esp.pcap (LINKTYPE_RAW: the outer IP packets) and
 * OUTDIR/esp.manifest, a line per case and a line per packet, in pcap order:
 *
 *   case NAME SPI FAMILY SRC DST ENCR INTEG ENC_KEY AUTH_KEY ESN FIRST_SEQ UDP
 *   pkt SPI SEQ INNER_HEX
 *
 * The checker knows nothing of our code beyond this file: it decodes the
 * pcap with tshark and scapy and compares with the inner packets listed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_alg.h"
#include "crypto_mem.h"
#include "esp.h"

#define HEADROOM  128
#define BUF_SIZE  2048
#define MAX_INNER 1500

struct xcase {
	const char *name;
	enum crypto_alg_id encr;
	enum crypto_alg_id integ;
	int family;
	bool esn;
	bool udp;
};

/*
 * Every ESP transform tshark 4.0 or scapy can decode, once over outer IPv4;
 * the common ones again over outer IPv6, with ESN and with UDP 4500.
 */
static const struct xcase cases[] = {
	{ "null-sha256-v4", CRYPTO_ENCR_NULL, CRYPTO_INTEG_HMAC_SHA256_128, AF_INET, false, false },
	{ "des-md5-v4", CRYPTO_ENCR_DES_CBC, CRYPTO_INTEG_HMAC_MD5_96, AF_INET, false, false },
	{ "3des-sha1-v4", CRYPTO_ENCR_3DES_CBC, CRYPTO_INTEG_HMAC_SHA1_96, AF_INET, false, false },
	{ "aes128-sha1-v4", CRYPTO_ENCR_AES128_CBC, CRYPTO_INTEG_HMAC_SHA1_96, AF_INET, false,
	  false },
	{ "aes128-md5-v4", CRYPTO_ENCR_AES128_CBC, CRYPTO_INTEG_HMAC_MD5_96, AF_INET, false,
	  false },
	{ "aes192-sha256-v4", CRYPTO_ENCR_AES192_CBC, CRYPTO_INTEG_HMAC_SHA256_128, AF_INET, false,
	  false },
	{ "aes256-sha384-v4", CRYPTO_ENCR_AES256_CBC, CRYPTO_INTEG_HMAC_SHA384_192, AF_INET, false,
	  false },
	{ "aes256-sha512-v4", CRYPTO_ENCR_AES256_CBC, CRYPTO_INTEG_HMAC_SHA512_256, AF_INET, false,
	  false },
	{ "gcm128-v4", CRYPTO_ENCR_AES128_GCM16, CRYPTO_INTEG_NONE, AF_INET, false, false },
	{ "gcm192-v4", CRYPTO_ENCR_AES192_GCM16, CRYPTO_INTEG_NONE, AF_INET, false, false },
	{ "gcm256-v4", CRYPTO_ENCR_AES256_GCM16, CRYPTO_INTEG_NONE, AF_INET, false, false },
	{ "chacha-v4", CRYPTO_ENCR_CHACHA20_POLY1305, CRYPTO_INTEG_NONE, AF_INET, false, false },
	{ "aes128-sha1-v6", CRYPTO_ENCR_AES128_CBC, CRYPTO_INTEG_HMAC_SHA1_96, AF_INET6, false,
	  false },
	{ "aes256-sha256-v6", CRYPTO_ENCR_AES256_CBC, CRYPTO_INTEG_HMAC_SHA256_128, AF_INET6, false,
	  false },
	{ "gcm256-v6", CRYPTO_ENCR_AES256_GCM16, CRYPTO_INTEG_NONE, AF_INET6, false, false },
	{ "chacha-v6", CRYPTO_ENCR_CHACHA20_POLY1305, CRYPTO_INTEG_NONE, AF_INET6, false, false },
	{ "aes128-sha256-esn-v4", CRYPTO_ENCR_AES128_CBC, CRYPTO_INTEG_HMAC_SHA256_128, AF_INET,
	  true, false },
	{ "gcm128-esn-v4", CRYPTO_ENCR_AES128_GCM16, CRYPTO_INTEG_NONE, AF_INET, true, false },
	{ "chacha-esn-v6", CRYPTO_ENCR_CHACHA20_POLY1305, CRYPTO_INTEG_NONE, AF_INET6, true,
	  false },
	{ "aes128-sha1-udp-v4", CRYPTO_ENCR_AES128_CBC, CRYPTO_INTEG_HMAC_SHA1_96, AF_INET, false,
	  true },
	{ "gcm128-udp-v4", CRYPTO_ENCR_AES128_GCM16, CRYPTO_INTEG_NONE, AF_INET, false, true },
	{ "gcm256-udp-v6", CRYPTO_ENCR_AES256_GCM16, CRYPTO_INTEG_NONE, AF_INET6, false, true },
	{ "aes256-sha512-esn-udp-v6", CRYPTO_ENCR_AES256_CBC, CRYPTO_INTEG_HMAC_SHA512_256,
	  AF_INET6, true, true },
};

/* Inner packets of each case: version, protocol, payload bytes. */
struct inner_spec {
	int version;
	uint8_t proto; /* 17 UDP, 1 ICMP, 58 ICMPv6 */
	uint16_t payload;
};

/* Payload sizes hit every residue of the block sizes that matter (8, 16). */
static const struct inner_spec inner_specs[] = {
	{ 4, 17, 0 },    { 4, 17, 1 },  { 4, 1, 56 },  { 4, 17, 215 },
	{ 4, 17, 1372 }, { 6, 17, 13 }, { 6, 58, 64 }, { 6, 17, 999 },
};

/* Outbound sequence number before the first packet: ESN cases cross 2^32. */
#define ESN_FIRST_SEQ 0xfffffffdULL

static const uint8_t v4_src[4] = { 198, 51, 100, 1 };
static const uint8_t v4_dst[4] = { 198, 51, 100, 2 };
/* 2001:db8::1 -> 2001:db8::2 (RFC 3849 documentation prefix). */
static const uint8_t v6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t v6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

static void die(const char *what)
{
	fprintf(stderr, "esp_pcapgen: %s\n", what);
	exit(EXIT_FAILURE);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ones' complement sum over len bytes, folded later. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Build a well-formed inner packet (valid checksums, so the decoders show
 * nothing odd) whose payload bytes depend on the case and the packet, so a
 * packet decrypted under the wrong SA or in the wrong order cannot match.
 */
static uint32_t make_inner(uint8_t *p, const struct inner_spec *s, unsigned int case_no,
                           unsigned int pkt_no)
{
	uint32_t l4_off = s->version == 4 ? 20 : 40;
	uint32_t l4_hdr = 8; /* UDP, ICMP echo and ICMPv6 echo headers alike */
	uint32_t l4_len = l4_hdr + s->payload;
	uint32_t len = l4_off + l4_len;
	uint8_t *l4 = p + l4_off;
	uint32_t sum = 0;

	memset(p, 0, len);
	if (s->version == 4) {
		p[0] = 0x45;
		put16(p + 2, (uint16_t)len);
		put16(p + 4, (uint16_t)(case_no << 8 | pkt_no)); /* IP id */
		p[8] = 63;
		p[9] = s->proto;
		memcpy(p + 12, (const uint8_t[]){ 10, 1, 0, 1 }, 4);
		memcpy(p + 16, (const uint8_t[]){ 10, 2, 0, (uint8_t)(1 + pkt_no) }, 4);
		put16(p + 10, csum_fold(csum_add(0, p, 20)));
	} else {
		p[0] = 0x60;
		p[1] = (uint8_t)pkt_no; /* traffic class / flow label bits */
		put16(p + 4, (uint16_t)l4_len);
		p[6] = s->proto;
		p[7] = 63;
		memcpy(p + 8, (const uint8_t[]){ 0xfd, 0, 0, 1, [15] = 1 }, 16);
		memcpy(p + 24, (const uint8_t[]){ 0xfd, 0, 0, 2, [15] = (uint8_t)(1 + pkt_no) },
		       16);
	}

	for (uint32_t i = 0; i < s->payload; i++)
		l4[l4_hdr + i] = (uint8_t)(i * 31 + case_no * 17 + pkt_no * 101 + 7);
	if (s->proto == 17) {
		put16(l4, (uint16_t)(49152 + case_no));
		put16(l4 + 2, (uint16_t)(50000 + pkt_no));
		put16(l4 + 4, (uint16_t)l4_len);
	} else {
		l4[0] = s->proto == 1 ? 8 : 128; /* echo request */
		put16(l4 + 4, (uint16_t)(0x100 + case_no));
		put16(l4 + 6, (uint16_t)pkt_no);
	}

	/* Checksum: UDP and ICMPv6 over the pseudo-header, ICMPv4 without. */
	if (s->version == 4 && s->proto == 17) {
		sum = csum_add(sum, p + 12, 8);
		sum += 17 + l4_len;
	} else if (s->version == 6) {
		sum = csum_add(sum, p + 8, 32);
		sum += l4_len + s->proto;
	}
	uint16_t c = csum_fold(csum_add(sum, l4, l4_len));
	if (s->proto == 17 && c == 0)
		c = 0xffff;
	put16(l4 + (s->proto == 17 ? 6 : 2), c);
	return len;
}

static void key_fill(uint8_t *k, size_t len, unsigned int case_no, uint8_t tag)
{
	for (size_t i = 0; i < len; i++)
		k[i] = (uint8_t)(i * 7 + case_no * 13 + tag);
}

static void hex_put(FILE *f, const uint8_t *p, size_t len)
{
	if (len == 0) {
		fputc('-', f);
		return;
	}
	for (size_t i = 0; i < len; i++)
		fprintf(f, "%02x", p[i]);
}

/* pcap file header (LINKTYPE_RAW: each packet starts with its IP header). */
static void pcap_header(FILE *f)
{
	const uint32_t magic = 0xa1b2c3d4, snaplen = 65535, linktype = 101;
	const uint16_t major = 2, minor = 4;
	const int32_t zone = 0;
	const uint32_t sigfigs = 0;

	if (fwrite(&magic, 4, 1, f) != 1 || fwrite(&major, 2, 1, f) != 1 ||
	    fwrite(&minor, 2, 1, f) != 1 || fwrite(&zone, 4, 1, f) != 1 ||
	    fwrite(&sigfigs, 4, 1, f) != 1 || fwrite(&snaplen, 4, 1, f) != 1 ||
	    fwrite(&linktype, 4, 1, f) != 1)
		die("cannot write the pcap header");
}

static void pcap_packet(FILE *f, const uint8_t *p, uint32_t len, uint32_t frame)
{
	uint32_t rec[4] = { 1700000000u + frame, 0, len, len };

	if (fwrite(rec, sizeof(rec), 1, f) != 1 || fwrite(p, len, 1, f) != 1)
		die("cannot write a pcap record");
}

static void addr_put(FILE *f, int family, const uint8_t *a)
{
	char s[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, a, s, sizeof(s)))
		die("inet_ntop");
	fputs(s, f);
}

static struct esp_sa *sa_alloc(void)
{
	size_t size = (esp_sa_size() + 63) & ~(size_t)63;
	struct esp_sa *sa = aligned_alloc(64, size);

	if (!sa)
		die("out of memory");
	return sa;
}

static void run_case(FILE *pcap, FILE *man, unsigned int case_no, uint32_t *frame)
{
	const struct xcase *c = &cases[case_no];
	const struct crypto_alg *ea = crypto_alg(c->encr), *ia = crypto_alg(c->integ);
	uint8_t enc_key[64], auth_key[64];
	struct esp_sa_conf conf = {
		.dir = ESP_DIR_OUT,
		.spi = 0x1000 + case_no,
		.encr = c->encr,
		.integ = c->integ,
		.enc_key = enc_key,
		.enc_key_len = ea->key_len,
		.auth_key = auth_key,
		.auth_key_len = ia->key_len,
		.esn = c->esn,
		.seq = c->esn ? ESN_FIRST_SEQ : 0,
		.family = c->family,
		.udp_encap = c->udp,
	};
	static uint8_t bufs[ARRAY_SIZE(inner_specs)][BUF_SIZE];
	static uint8_t inner[ARRAY_SIZE(inner_specs)][MAX_INNER];
	uint32_t inner_len[ARRAY_SIZE(inner_specs)];
	struct esp_pkt pkts[ARRAY_SIZE(inner_specs)];
	struct esp_pkt *burst[ARRAY_SIZE(inner_specs)];
	const size_t n = ARRAY_SIZE(inner_specs);
	char err[256] = "";

	key_fill(enc_key, ea->key_len, case_no, 1);
	key_fill(auth_key, ia->key_len, case_no, 101);
	if (c->family == AF_INET) {
		memcpy(conf.local, v4_src, 4);
		memcpy(conf.remote, v4_dst, 4);
	} else {
		memcpy(conf.local, v6_src, 16);
		memcpy(conf.remote, v6_dst, 16);
	}

	struct esp_sa *sa = sa_alloc();
	if (esp_sa_init(sa, &conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "esp_pcapgen: case %s: esp_sa_init: %s\n", c->name, err);
		exit(EXIT_FAILURE);
	}

	for (size_t i = 0; i < n; i++) {
		inner_len[i] = make_inner(inner[i], &inner_specs[i], case_no, (unsigned int)i);
		memcpy(bufs[i] + HEADROOM, inner[i], inner_len[i]);
		pkts[i] = (struct esp_pkt){
			.data = bufs[i] + HEADROOM,
			.len = inner_len[i],
			.headroom = HEADROOM,
			.tailroom = BUF_SIZE - HEADROOM - inner_len[i],
			.sa = sa,
		};
		burst[i] = &pkts[i];
	}

	uint16_t ok = esp_outb_burst(burst, (uint16_t)n);
	if (ok != n) {
		fprintf(stderr,
		        "esp_pcapgen: case %s: %u of %zu packets encrypted, first drop: %s\n",
		        c->name, ok, n, esp_drop_names[burst[ok]->drop]);
		exit(EXIT_FAILURE);
	}

	fprintf(man, "case %s 0x%08x %d ", c->name, conf.spi, c->family == AF_INET ? 4 : 6);
	addr_put(man, c->family, conf.local);
	fputc(' ', man);
	addr_put(man, c->family, conf.remote);
	fprintf(man, " %s %s ", ea->name, ia->name);
	hex_put(man, enc_key, ea->key_len);
	fputc(' ', man);
	hex_put(man, auth_key, ia->key_len);
	fprintf(man, " %d %" PRIu64 " %d\n", c->esn, conf.seq + 1, c->udp);

	/* The burst keeps the order of good packets: pkts[i] is inner[i]. */
	for (size_t i = 0; i < n; i++) {
		pcap_packet(pcap, pkts[i].data, pkts[i].len, (*frame)++);
		fprintf(man, "pkt 0x%08x %" PRIu64 " ", conf.spi, pkts[i].seq);
		hex_put(man, inner[i], inner_len[i]);
		fputc('\n', man);
	}

	esp_sa_wipe(sa);
	free(sa);
}

int main(int argc, char **argv)
{
	char path[4096];
	uint32_t frame = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: esp_pcapgen OUTDIR\n");
		return EXIT_FAILURE;
	}
	if (crypto_init() != 0)
		die("crypto_init failed");

	snprintf(path, sizeof(path), "%s/esp.pcap", argv[1]);
	FILE *pcap = fopen(path, "wb");
	if (!pcap) {
		fprintf(stderr, "esp_pcapgen: %s: %s\n", path, strerror(errno));
		return EXIT_FAILURE;
	}
	snprintf(path, sizeof(path), "%s/esp.manifest", argv[1]);
	FILE *man = fopen(path, "w");
	if (!man) {
		fprintf(stderr, "esp_pcapgen: %s: %s\n", path, strerror(errno));
		return EXIT_FAILURE;
	}

	pcap_header(pcap);
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(pcap, man, i, &frame);

	if (fclose(pcap) != 0 || fclose(man) != 0)
		die("cannot finish writing the output files");
	printf("esp_pcapgen: %zu cases, %u packets in %s\n", ARRAY_SIZE(cases), frame, argv[1]);
	return EXIT_SUCCESS;
}
