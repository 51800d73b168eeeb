/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP in tunnel mode (RFC 4303, RFC 4301) over contiguous buffers, with
 * optional UDP encapsulation (RFC 3948) and extended sequence numbers.
 * No DPDK: the data plane maps an mbuf onto a struct esp_pkt.
 *
 * Burst contract (as DPDK lib/ipsec): a burst function takes n packets,
 * returns the number k that succeeded; on return pkts[0..k) are the good
 * ones in their original order and pkts[k..n) the failed ones, each with
 * its drop reason set. Nothing is logged, nothing allocated.
 *
 * Per-SA choices (AEAD or cipher+auth, ESN, UDP, IPv4/IPv6 outer) are
 * settled by esp_sa_init(), not per packet.
 */
#ifndef VPNGW_ESP_H
#define VPNGW_ESP_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "crypto_alg.h"
#include "crypto_sym.h"
#include "esp_replay.h"

#define ESP_MAX_BURST 32

/* Drop reasons of the ESP stages: one list makes the enum and the names. */
#define ESP_DROP_REASONS(X)                                                                        \
	X(TRUNCATED, "truncated")             /* shorter than its headers, IV and ICV */           \
	X(BAD_OUTER, "bad_outer_header")      /* not IPv4/IPv6 + ESP (or UDP 4500 + ESP) */        \
	X(BAD_LENGTH, "bad_length")           /* ciphertext not a whole number of blocks */        \
	X(REPLAY, "replay")                   /* seen already, or left of the window */            \
	X(BAD_ICV, "bad_icv")                 /* ICV / AEAD tag does not verify */                 \
	X(BAD_PADDING, "bad_padding")         /* pad length too long or pad bytes not 1, 2, ... */ \
	X(BAD_NEXT_HEADER, "bad_next_header") /* inner protocol not 4 (IPv4) or 41 (IPv6) */       \
	X(DUMMY, "dummy_packet")              /* TFC dummy (next header 59): RFC 4303 2.6 */       \
	X(SEQ_OVERFLOW, "seq_overflow")       /* outbound sequence space used up: SA stopped */    \
	X(NO_HEADROOM, "no_headroom")         /* no room in front for outer headers */             \
	X(NO_TAILROOM, "no_tailroom")         /* no room behind for trailer and ICV */             \
	X(BAD_INNER, "bad_inner_packet")      /* inner (either direction) not sound IPv4/IPv6 */   \
	X(TOO_BIG, "too_big")                 /* outer packet would exceed 65535 bytes */          \
	X(CRYPTO_ERROR, "crypto_error")       /* IPsec-MB refused or failed the job */

enum esp_drop {
	ESP_OK = 0,
#define ESP_DROP_ENUM(name, str) ESP_DROP_##name,
	ESP_DROP_REASONS(ESP_DROP_ENUM)
#undef ESP_DROP_ENUM
	        ESP_DROP_COUNT
};

/* "ok", "truncated", ... indexed by enum esp_drop. */
extern const char *const esp_drop_names[ESP_DROP_COUNT];

enum esp_dir {
	ESP_DIR_OUT,
	ESP_DIR_IN,
};

/* What an SA is made from (the install interface passes this down). */
struct esp_sa_conf {
	enum esp_dir dir;
	uint32_t spi;
	enum crypto_alg_id encr;  /* CRYPTO_ENCR_* */
	enum crypto_alg_id integ; /* CRYPTO_INTEG_*, INTEG_NONE for AEAD */
	const uint8_t *enc_key;   /* AEAD: key then salt (as ip xfrm) */
	uint32_t enc_key_len;
	const uint8_t *auth_key;
	uint32_t auth_key_len;
	bool esn;
	uint32_t replay_window; /* inbound: 0 off, 64..4096 */
	/*
	 * Outbound: the last sequence number used (0 for a new SA; tests set
	 * it near 2^32 or 2^64). Inbound: the initial top of the window.
	 */
	uint64_t seq;
	/* Tunnel endpoints; outbound builds outer src = local, dst = remote. */
	int family;        /* AF_INET or AF_INET6 (outer header) */
	uint8_t local[16]; /* IPv4 in the first 4 bytes */
	uint8_t remote[16];
	bool udp_encap;     /* RFC 3948 ESP-in-UDP */
	uint16_t udp_sport; /* host order; 0 means 4500 */
	uint16_t udp_dport;
	uint8_t ttl; /* outer TTL / hop limit; 0 means 64 */
};

struct esp_sa;

/*
 * A packet in a contiguous buffer. Outbound input: the inner IPv4/IPv6
 * packet at data; output: the outer packet (IP [+ UDP] + ESP) at data,
 * which moved back into the headroom. Inbound input: the outer IP packet;
 * output: the inner packet. headroom/tailroom are the writable bytes before
 * data and after data + len, and are updated.
 */
struct esp_pkt {
	uint8_t *data;
	uint32_t len;
	uint32_t headroom;
	uint32_t tailroom;
	struct esp_sa *sa;   /* set by the caller (inbound: looked up by SPI) */
	uint64_t seq;        /* out: the packet's full sequence number */
	uint8_t next_header; /* inbound out: 4 or 41 */
	uint8_t drop;        /* enum esp_drop, ESP_OK when good */
};

/*
 * Bytes an SA adds in front of / behind the inner packet at most, so the
 * caller can reserve head- and tailroom and check the MTU.
 */
uint32_t esp_sa_head_len(const struct esp_sa *sa);
uint32_t esp_sa_tail_max(const struct esp_sa *sa);
/* Length of the outer packet for an inner packet of inner_len bytes. */
uint32_t esp_outb_len(const struct esp_sa *sa, uint32_t inner_len);

/* Size to allocate for an SA (the caller owns the memory: locked, aligned to 64). */
size_t esp_sa_size(void);

/*
 * Set up an SA in memory of esp_sa_size() bytes aligned to 64. Returns 0
 * or -EINVAL with a message in err (the key, what is wrong).
 */
int esp_sa_init(struct esp_sa *sa, const struct esp_sa_conf *conf, char *err, size_t err_len);

/* Wipe keys and state before the memory is freed. */
void esp_sa_wipe(struct esp_sa *sa);

uint32_t esp_sa_spi(const struct esp_sa *sa);
/* Outbound: last sequence number used; inbound: window top. */
uint64_t esp_sa_seq(const struct esp_sa *sa);
/*
 * Outbound: sets the last sequence number used, so the next packet carries
 * seq + 1 (an SA replaced with the same SPI and keys goes on where the old
 * one stopped). Only the SA's owner calls it, between bursts.
 */
void esp_sa_seq_set(struct esp_sa *sa, uint64_t seq);
/*
 * Inbound: dst takes src's anti-replay state whole (window top and bits),
 * so a replacement with the same SPI refuses what the old one saw. Both
 * SAs inbound; only the owner calls it, between bursts.
 */
void esp_sa_replay_copy(struct esp_sa *dst, const struct esp_sa *src);
/* Successful packets and their inner bytes, for lifetimes and counters. */
uint64_t esp_sa_packets(const struct esp_sa *sa);
uint64_t esp_sa_bytes(const struct esp_sa *sa);

/*
 * The SPI of an inbound outer packet (IPv4/IPv6, plain ESP or UDP 4500
 * with a non-zero first word), for the SAD lookup. Returns 0 with *spi
 * set, -1 if the packet is not ESP (IKE on 4500 carries the non-ESP marker).
 */
int esp_inb_spi(const uint8_t *pkt, uint32_t len, uint32_t *spi);

uint16_t esp_outb_burst(struct esp_pkt *pkts[], uint16_t n);
uint16_t esp_inb_burst(struct esp_pkt *pkts[], uint16_t n);

#endif
