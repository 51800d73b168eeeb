/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ISAKMP message codec for IKEv1 (RFC 2408 3, RFC 2407 4, RFC 3947,
 * RFC 3706): the header, the generic payload chain, SA / proposal /
 * transform / attribute parsing, ID, notify and delete bodies, and a
 * bounded writer for the messages we build. Every received byte is read
 * through lib/cursor.h; a message is validated whole (header length, each
 * payload's declared length within what is left) before any field is used.
 */
#ifndef VPNGW_IKEV1_MSG_H
#define VPNGW_IKEV1_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"

enum {
	V1_HDR_LEN = 28,
	V1_HDR_FLAGS_AT = 19, /* offsets in the header */
	V1_HDR_LEN_AT = 24,
	V1_GEN_LEN = 4, /* generic payload header */
	V1_VERSION = 0x10,
	V1_FLAG_E = 0x01,

	/* Exchange types (RFC 2408 3.1, RFC 2409). */
	V1_EXCH_MAIN = 2, /* Identity Protection */
	V1_EXCH_AGGR = 4,
	V1_EXCH_INFO = 5,
	V1_EXCH_QUICK = 32,

	/* Payload types. */
	V1_PL_NONE = 0,
	V1_PL_SA = 1,
	V1_PL_P = 2,
	V1_PL_T = 3,
	V1_PL_KE = 4,
	V1_PL_ID = 5,
	V1_PL_CERT = 6,
	V1_PL_CR = 7,
	V1_PL_HASH = 8,
	V1_PL_SIG = 9,
	V1_PL_NONCE = 10,
	V1_PL_N = 11,
	V1_PL_D = 12,
	V1_PL_VID = 13,
	V1_PL_NATD = 20,
	V1_PL_NATOA = 21,
	V1_PL_NATD_DRAFT = 130,
	V1_PL_NATOA_DRAFT = 131,

	V1_DOI_IPSEC = 1,
	V1_SIT_IDENTITY_ONLY = 1,

	/* Protocol ids. */
	V1_PROTO_ISAKMP = 1,
	V1_PROTO_ESP = 3,
	V1_KEY_IKE = 1, /* phase 1 transform id */

	/* Phase 1 attributes (RFC 2409 appendix A). */
	V1_A_ENC = 1,
	V1_A_HASH = 2,
	V1_A_AUTH = 3,
	V1_A_GROUP = 4,
	V1_A_LIFE_TYPE = 11,
	V1_A_LIFE_DUR = 12,
	V1_A_KEY_LEN = 14,
	V1_AUTH_PSK = 1,
	V1_LIFE_SECONDS = 1,
	V1_LIFE_KB = 2,

	/* Phase 2 (IPsec DOI) attributes (RFC 2407 4.5). */
	V1_Q_LIFE_TYPE = 1,
	V1_Q_LIFE_DUR = 2,
	V1_Q_GROUP = 3,
	V1_Q_ENCAP = 4,
	V1_Q_AUTH = 5,
	V1_Q_KEY_LEN = 6,
	V1_ENCAP_TUNNEL = 1,
	V1_ENCAP_UDP_TUNNEL = 3,           /* RFC 3947 */
	V1_ENCAP_UDP_TUNNEL_DRAFT = 61443, /* draft-ietf-ipsec-nat-t-ike */

	/* ID types (phase 2 additions to ike.h's). */
	V1_ID_IPV4_ADDR = 1,
	V1_ID_FQDN = 2,
	V1_ID_USER_FQDN = 3,
	V1_ID_IPV4_SUBNET = 4,
	V1_ID_IPV6_ADDR = 5,
	V1_ID_IPV6_SUBNET = 6,
	V1_ID_IPV4_RANGE = 7,
	V1_ID_IPV6_RANGE = 8,

	/* Notify types (RFC 2408 3.14.1, RFC 2407 4.6.3, RFC 3706). */
	V1_N_INVALID_PAYLOAD_TYPE = 1,
	V1_N_NO_PROPOSAL_CHOSEN = 14,
	V1_N_PAYLOAD_MALFORMED = 16,
	V1_N_INVALID_KEY_INFORMATION = 17,
	V1_N_INVALID_ID_INFORMATION = 18,
	V1_N_INVALID_HASH_INFORMATION = 23,
	V1_N_AUTHENTICATION_FAILED = 24,
	V1_N_RESPONDER_LIFETIME = 24576,
	V1_N_INITIAL_CONTACT = 24578,
	V1_N_DPD_R_U_THERE = 36136,
	V1_N_DPD_R_U_THERE_ACK = 36137,

	/* Limits of one parsed message. */
	V1_MSG_MAX_N = 8,
	V1_MSG_MAX_D = 8,
	V1_MSG_MAX_VID = 12,
	V1_MSG_MAX_NATD = 6,
	V1_MSG_MAX_ID = 2,
	V1_SA_MAX_TRANSFORMS = 64,
	V1_TRANSFORM_MAX_ATTRS = 16,
};

/* What v1_sa_parse() and v1_attrs_parse() return besides 0. */
enum {
	V1_PARSE_MALFORMED = -1,
	/* A transform with more than V1_TRANSFORM_MAX_ATTRS attributes: refused, not cut. */
	V1_PARSE_TOO_MANY_ATTRS = -2,
};

/* A payload's body (after its generic header). */
struct v1_pl {
	const uint8_t *p;
	size_t len;
};

struct v1_hdr {
	uint8_t cky_i[8];
	uint8_t cky_r[8];
	uint8_t np;
	uint8_t version;
	uint8_t exch;
	uint8_t flags;
	uint32_t msgid;
	uint32_t len;
};

/* The payload chain of one (plain or decrypted) message. */
struct v1_msg {
	struct v1_pl sa, ke, hash, nonce;
	struct v1_pl id[V1_MSG_MAX_ID];
	unsigned n_id;
	struct v1_pl n[V1_MSG_MAX_N];
	unsigned n_n;
	struct v1_pl d[V1_MSG_MAX_D];
	unsigned n_d;
	struct v1_pl vid[V1_MSG_MAX_VID];
	unsigned n_vid;
	struct v1_pl natd[V1_MSG_MAX_NATD];
	unsigned n_natd;
	uint8_t first;             /* type of the first payload */
	const uint8_t *after_hash; /* bytes after the HASH payload (quick/info hashes) */
	const uint8_t *end;        /* end of the last payload (padding excluded) */
};

/* Parses the 28-byte header; -1 if short, wrong major version or bad length. */
int v1_hdr_parse(const uint8_t *buf, size_t len, struct v1_hdr *h);

/*
 * Parses the payload chain that starts with type np over body[0..len):
 * each payload's length within what is left and at least its header.
 * Trailing bytes after the last payload are allowed (padding). Unknown
 * payload types are skipped. Returns 0 or -1 (malformed).
 */
int v1_msg_parse(uint8_t np, const uint8_t *body, size_t len, struct v1_msg *m);

/* One data attribute (RFC 2408 3.3): TV values fit 16 bits, TLV up to 4 bytes used. */
struct v1_attr {
	uint16_t type;
	uint32_t value;
};

/* A transform as read: id and its attributes, unknown ones kept. */
struct v1_transform {
	uint8_t prop; /* number of the proposal it came in */
	uint8_t num;
	uint8_t id;
	struct v1_attr attr[V1_TRANSFORM_MAX_ATTRS];
	unsigned n_attr;
	/*
	 * The body as received (number, id, attributes) inside the parsed
	 * message, so a responder can echo its choice unchanged (RFC 2408 4.2).
	 */
	const uint8_t *raw;
	size_t raw_len;
};

/*
 * Data attributes (RFC 2408 3.3) over body[0..len) into t->attr: 0,
 * V1_PARSE_MALFORMED or V1_PARSE_TOO_MANY_ATTRS. TLV values longer than
 * 4 bytes saturate at UINT32_MAX.
 */
int v1_attrs_parse(const uint8_t *body, size_t len, struct v1_transform *t);

/*
 * The proposals of an SA payload, flattened: the transforms of every
 * proposal with the first one's protocol, in order, each remembering its
 * proposal number; protocol and SPI are the first proposal's.
 */
struct v1_proposal {
	uint8_t num;
	uint8_t proto;
	uint8_t spi_len;
	uint8_t spi[16];
	struct v1_transform t[V1_SA_MAX_TRANSFORMS];
	unsigned n_t;
};

/* Parses an SA body (DOI, situation, proposals); 0 or a V1_PARSE_ error. */
int v1_sa_parse(const struct v1_pl *sa, struct v1_proposal *p);

/* The value of attribute type in t; def if absent. */
uint32_t v1_attr_get(const struct v1_transform *t, uint16_t type, uint32_t def);

struct v1_notify {
	uint32_t doi;
	uint8_t proto;
	uint8_t spi_len;
	uint16_t type;
	const uint8_t *spi;
	const uint8_t *data;
	size_t data_len;
};
int v1_notify_parse(const struct v1_pl *pl, struct v1_notify *n);

struct v1_delete {
	uint32_t doi;
	uint8_t proto;
	uint8_t spi_len;
	uint16_t n_spi;
	const uint8_t *spis; /* n_spi * spi_len bytes */
};
int v1_delete_parse(const struct v1_pl *pl, struct v1_delete *d);

/* ID payload body: type, protocol, port, data. */
struct v1_idpl {
	uint8_t type;
	uint8_t proto;
	uint16_t port;
	const uint8_t *data;
	size_t len;
};
int v1_id_parse(const struct v1_pl *pl, struct v1_idpl *id);

/* ---- writer --------------------------------------------------------------- */

/*
 * A bounded writer: every put checks the capacity and marks the writer
 * failed instead of overrunning. Payloads chain by themselves: begin()
 * writes the type into the previous payload's (or the header's) next
 * payload field.
 */
struct v1_wr {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool failed;
	size_t np_at; /* offset of the next-payload byte to fill */
};

void v1_wr_init(struct v1_wr *w, uint8_t *buf, size_t cap);
void v1_wr_bytes(struct v1_wr *w, const void *p, size_t n);
void v1_wr_u8(struct v1_wr *w, uint8_t v);
void v1_wr_be16(struct v1_wr *w, uint16_t v);
void v1_wr_be32(struct v1_wr *w, uint32_t v);
/* Header with np 0 and length 0; v1_wr_finish() sets the length. */
void v1_wr_hdr(struct v1_wr *w, const uint8_t cky_i[8], const uint8_t cky_r[8], uint8_t exch,
               uint8_t flags, uint32_t msgid);
/* Opens a payload of type; returns its start offset for v1_wr_end(). */
size_t v1_wr_begin(struct v1_wr *w, uint8_t type);
void v1_wr_end(struct v1_wr *w, size_t start);
/* A whole payload with the given body. */
void v1_wr_payload(struct v1_wr *w, uint8_t type, const void *body, size_t len);
/* Attributes: TV when the value fits 16 bits and tv is allowed, else 4-byte TLV. */
void v1_wr_attr(struct v1_wr *w, uint16_t type, uint32_t value);
/* A Notification payload (RFC 2408 3.14) of the IPsec DOI. */
void v1_wr_notify(struct v1_wr *w, uint8_t proto, const uint8_t *spi, size_t spi_len, uint16_t type,
                  const uint8_t *data, size_t data_len);
/* Writes the header's total length; returns the message length, or 0 if the writer failed. */
size_t v1_wr_finish(struct v1_wr *w);

#endif
