/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv2 message codec (RFC 7296 3): the header, the payload chain and the
 * payloads the engine reads, parsed through the bounded cursor into
 * struct ikev2_msg (pointers into the datagram, or into the decrypted SK
 * plaintext); and a bounded writer that builds messages.
 *
 * Internal to the IKEv2 engine.
 */
#ifndef VPNGW_IKEV2_MSG_H
#define VPNGW_IKEV2_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"
#include "ike.h"
#include "ts.h"

enum {
	IKEV2_HDR_LEN = 28,
	IKEV2_HDR_EXCHANGE_OFF = 18, /* the exchange type's octet in the header */
	IKEV2_GEN_HDR_LEN = 4,
	IKEV2_VERSION = 0x20,

	/* Exchange types. */
	IKEV2_EXCH_IKE_SA_INIT = 34,
	IKEV2_EXCH_IKE_AUTH = 35,
	IKEV2_EXCH_CREATE_CHILD_SA = 36,
	IKEV2_EXCH_INFORMATIONAL = 37,

	/* Header flags. */
	IKEV2_FLAG_INITIATOR = 0x08,
	IKEV2_FLAG_VERSION = 0x10,
	IKEV2_FLAG_RESPONSE = 0x20,

	/* Payload types. */
	IKEV2_PL_NONE = 0,
	IKEV2_PL_SA = 33,
	IKEV2_PL_KE = 34,
	IKEV2_PL_IDI = 35,
	IKEV2_PL_IDR = 36,
	IKEV2_PL_CERT = 37,
	IKEV2_PL_CERTREQ = 38,
	IKEV2_PL_AUTH = 39,
	IKEV2_PL_NONCE = 40,
	IKEV2_PL_NOTIFY = 41,
	IKEV2_PL_DELETE = 42,
	IKEV2_PL_VID = 43,
	IKEV2_PL_TSI = 44,
	IKEV2_PL_TSR = 45,
	IKEV2_PL_SK = 46,
	IKEV2_PL_CP = 47,
	IKEV2_PL_EAP = 48,

	/* Protocol ids. */
	IKEV2_PROTO_IKE = 1,
	IKEV2_PROTO_AH = 2,
	IKEV2_PROTO_ESP = 3,

	/* Transform types. */
	IKEV2_TR_ENCR = 1,
	IKEV2_TR_PRF = 2,
	IKEV2_TR_INTEG = 3,
	IKEV2_TR_DH = 4,
	IKEV2_TR_ESN = 5,
	IKEV2_ATTR_KEY_LENGTH = 14,

	IKEV2_AUTH_PSK = 2,

	/* TS types. */
	IKEV2_TS_IPV4 = 7,
	IKEV2_TS_IPV6 = 8,

	/* Notify error types. */
	IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD = 1,
	IKEV2_N_INVALID_IKE_SPI = 4,
	IKEV2_N_INVALID_MAJOR_VERSION = 5,
	IKEV2_N_INVALID_SYNTAX = 7,
	IKEV2_N_INVALID_MESSAGE_ID = 9,
	IKEV2_N_INVALID_SPI = 11,
	IKEV2_N_NO_PROPOSAL_CHOSEN = 14,
	IKEV2_N_INVALID_KE_PAYLOAD = 17,
	IKEV2_N_AUTHENTICATION_FAILED = 24,
	IKEV2_N_SINGLE_PAIR_REQUIRED = 34,
	IKEV2_N_NO_ADDITIONAL_SAS = 35,
	IKEV2_N_INTERNAL_ADDRESS_FAILURE = 36,
	IKEV2_N_FAILED_CP_REQUIRED = 37,
	IKEV2_N_TS_UNACCEPTABLE = 38,
	IKEV2_N_INVALID_SELECTORS = 39,
	IKEV2_N_TEMPORARY_FAILURE = 43,
	IKEV2_N_CHILD_SA_NOT_FOUND = 44,
	IKEV2_N_ERROR_MAX = 16383, /* types below 16384 are errors */
	/* Notify status types. */
	IKEV2_N_INITIAL_CONTACT = 16384,
	IKEV2_N_SET_WINDOW_SIZE = 16385,
	IKEV2_N_NAT_DETECTION_SOURCE_IP = 16388,
	IKEV2_N_NAT_DETECTION_DESTINATION_IP = 16389,
	IKEV2_N_COOKIE = 16390,
	IKEV2_N_USE_TRANSPORT_MODE = 16391,
	IKEV2_N_REKEY_SA = 16393,
	IKEV2_N_ESP_TFC_PADDING_NOT_SUPPORTED = 16394,
	IKEV2_N_NON_FIRST_FRAGMENTS_ALSO = 16395,

	/* Parser limits. */
	IKEV2_PROPS_MAX = 16,
	IKEV2_TRANSFORMS_MAX = 64,
	IKEV2_NOTIFY_MAX = 16,
	IKEV2_NONCE_MIN = 16,
	IKEV2_NONCE_MAX = 256,
	IKEV2_NONCE_LEN = 32, /* what we send */
	IKEV2_COOKIE_MAX = 64,
	IKEV2_SPI_LEN = 8,
};

/* One transform of a proposal, as received. */
struct ikev2_transform {
	uint8_t type;
	uint16_t id;
	uint16_t key_bits; /* Key Length attribute, 0: none */
	bool bad_attr;     /* an attribute we do not know: the transform is unusable */
};

struct ikev2_proposal {
	uint8_t num;
	uint8_t proto;
	uint8_t spi_len;
	uint8_t spi[IKEV2_SPI_LEN];
	uint8_t n_tr;
	struct ikev2_transform tr[IKEV2_TRANSFORMS_MAX];
};

struct ikev2_sa_payload {
	unsigned n;
	struct ikev2_proposal p[IKEV2_PROPS_MAX];
};

struct ikev2_notify {
	uint8_t proto;
	uint8_t spi_len;
	uint16_t type;
	const uint8_t *spi;
	const uint8_t *data;
	size_t data_len;
};

/* A Delete payload of child SAs (ESP, AH): n_spi 4-byte SPIs, network order, at spis. */
struct ikev2_delete {
	uint8_t proto;
	unsigned n_spi;
	const uint8_t *spis;
};

struct ikev2_bytes {
	const uint8_t *p;
	size_t len;
};

/* A parsed message: the header, then what the payload chains held. */
struct ikev2_msg {
	const uint8_t *raw; /* the whole IKE message (no non-ESP marker) */
	size_t raw_len;
	uint8_t spi_i[IKEV2_SPI_LEN];
	uint8_t spi_r[IKEV2_SPI_LEN];
	uint8_t first_payload;
	uint8_t version;
	uint8_t exchange;
	uint8_t flags;
	uint32_t msg_id;

	/* SK payload (encrypted), if any: the body after the generic header. */
	bool has_sk;
	uint8_t sk_first; /* next payload of the SK payload: the first inner one */
	size_t sk_off;    /* offset of the SK generic header in raw */
	size_t sk_len;    /* length of the SK payload, generic header included */

	bool has_sa, has_ke, has_nonce, has_idi, has_idr, has_auth, has_tsi, has_tsr;
	struct ikev2_bytes sa; /* SA payload body, parsed on demand */
	uint16_t ke_group;
	struct ikev2_bytes ke;
	struct ikev2_bytes nonce;
	struct ikev2_bytes idi_body; /* type, reserved, data: what AUTH signs */
	struct ikev2_bytes idr_body;
	uint8_t auth_method;
	struct ikev2_bytes auth;
	unsigned n_notify;
	struct ikev2_notify notify[IKEV2_NOTIFY_MAX];
	/*
	 * Delete payloads of child SAs: how many and their SPIs in all, as
	 * many as the message holds; read them with ikev2_delete_next.
	 */
	unsigned n_delete, n_delete_spis;
	bool delete_ike; /* a Delete payload for the IKE SA itself */
	/* The decrypted inner chain (ikev2_msg_parse_inner), for ikev2_delete_next. */
	const uint8_t *inner;
	size_t inner_len;
	unsigned n_tsi, n_tsr;
	struct ts tsi[IKE_TS_MAX];
	struct ts tsr[IKE_TS_MAX];
	uint8_t unsupported_critical; /* the type of a critical payload we do not know, or 0 */
};

/* Outcome of parsing. */
enum ikev2_parse_err {
	IKEV2_PARSE_OK = 0,
	IKEV2_PARSE_MALFORMED,
	IKEV2_PARSE_VERSION, /* major version is not 2 */
};

/* Parses the header and the outer payload chain (up to and including an SK payload). */
enum ikev2_parse_err ikev2_msg_parse(struct ikev2_msg *m, const uint8_t *buf, size_t len);
/* Parses a decrypted inner chain into m (first payload type first). 0 or -1. */
int ikev2_msg_parse_inner(struct ikev2_msg *m, uint8_t first, const uint8_t *buf, size_t len);
/* Parses an SA payload body. 0 or -1 when malformed. */
int ikev2_sa_parse(struct ikev2_sa_payload *sa, const uint8_t *body, size_t len);
/* First notify of type, or NULL. */
const struct ikev2_notify *ikev2_msg_notify(const struct ikev2_msg *m, uint16_t type);
/* The first error notify (type < 16384), or NULL. */
const struct ikev2_notify *ikev2_msg_error(const struct ikev2_msg *m);
const char *ikev2_notify_name(uint16_t type);

/* Walks the child Delete payloads of a parsed message, outer chain then inner. */
struct ikev2_delete_iter {
	unsigned chain; /* 0: outer, 1: inner, 2: done */
	struct cursor c;
	uint8_t np;
};
void ikev2_delete_iter_init(const struct ikev2_msg *m, struct ikev2_delete_iter *it);
/* The next child Delete payload into d; false after the last. */
bool ikev2_delete_next(const struct ikev2_msg *m, struct ikev2_delete_iter *it,
                       struct ikev2_delete *d);
const char *ikev2_exchange_name(uint8_t exch);

/* ---- writer ---- */

struct ikev2_wr {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool failed;
	size_t np_off; /* where the next payload type goes; SIZE_MAX: into first_np */
	uint8_t first_np;
};

void ikev2_wr_init(struct ikev2_wr *w, uint8_t *buf, size_t cap);
/* Header (28 bytes); the length is set by ikev2_wr_finish. */
void ikev2_wr_header(struct ikev2_wr *w, const uint8_t spi_i[8], const uint8_t spi_r[8],
                     uint8_t exchange, uint8_t flags, uint32_t msg_id);
void ikev2_wr_finish(struct ikev2_wr *w);
void ikev2_wr_bytes(struct ikev2_wr *w, const void *p, size_t n);
void ikev2_wr_u8(struct ikev2_wr *w, uint8_t v);
void ikev2_wr_be16(struct ikev2_wr *w, uint16_t v);
void ikev2_wr_be32(struct ikev2_wr *w, uint32_t v);
/* Starts a payload: links it into the chain and writes its generic header; returns its offset. */
size_t ikev2_wr_begin(struct ikev2_wr *w, uint8_t type);
void ikev2_wr_end(struct ikev2_wr *w, size_t off);
/* Whole payloads. */
void ikev2_wr_notify(struct ikev2_wr *w, uint8_t proto, const uint8_t *spi, uint8_t spi_len,
                     uint16_t type, const uint8_t *data, size_t len);
void ikev2_wr_simple(struct ikev2_wr *w, uint8_t type, const uint8_t *data, size_t len);
void ikev2_wr_ke(struct ikev2_wr *w, uint16_t group, const uint8_t *pub, size_t len);
void ikev2_wr_id(struct ikev2_wr *w, uint8_t type, const struct ike_id *id);
void ikev2_wr_auth(struct ikev2_wr *w, const uint8_t *auth, size_t len);
void ikev2_wr_ts(struct ikev2_wr *w, uint8_t type, const struct ts *ts, unsigned n);
void ikev2_wr_delete(struct ikev2_wr *w, uint8_t proto, const uint32_t *spis, unsigned n);

/*
 * SA payload with proposals. A proposal is given as lists per transform
 * type; each list entry is a crypto_alg id (ESN: 0 = no, 1 = yes).
 */
struct ikev2_prop_out {
	uint8_t num; /* proposal number; 0: its position */
	uint8_t proto;
	uint8_t spi_len;
	uint8_t spi[IKEV2_SPI_LEN];
	unsigned n_encr, n_prf, n_integ, n_dh, n_esn;
	enum crypto_alg_id encr[CONFIG_PROPOSALS_MAX];
	enum crypto_alg_id prf[CONFIG_PROPOSALS_MAX];
	enum crypto_alg_id integ[CONFIG_PROPOSALS_MAX];
	enum crypto_alg_id dh[CONFIG_PROPOSALS_MAX];
	uint8_t esn[2];
};
void ikev2_wr_sa(struct ikev2_wr *w, const struct ikev2_prop_out *props, unsigned n);

#endif
