/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv1 proposals and selectors: the ISAKMP SA proposal (phase 1) and
 * the ESP proposal (quick mode) written from the config lists, transforms
 * decoded through the crypto catalogue's IKEv1 columns, the responder's
 * choice with the kind of transform that differs named when nothing fits,
 * and quick mode ID payloads to and from traffic selectors.
 */
#ifndef VPNGW_IKEV1_PROP_H
#define VPNGW_IKEV1_PROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike.h"
#include "ikev1_msg.h"

enum {
	/* Transforms we offer at most: 64 of 36 bytes keep MM1 well under IKE_MSG_MAX. */
	V1_P1_TRANSFORMS_MAX = 64,
};

/* One phase 1 transform's algorithms and lifetime (seconds, 0: none). */
struct v1_p1_choice {
	enum crypto_alg_id encr, prf, group;
	uint32_t life;
	uint32_t life_kb; /* kilobytes, 0: none (we keep no byte count of ISAKMP SAs) */
};

/* One ESP transform: algorithms, lifetimes (0: none), encapsulation mode, numbers. */
struct v1_esp_choice {
	enum crypto_alg_id encr, integ;
	uint32_t life;
	uint32_t life_kb;
	uint16_t encap;
	uint8_t num;
	uint8_t prop;
};

/*
 * Our ISAKMP SA payload: one proposal, a transform per encryption x hash
 * x group (aggressive mode: the first group only, its KE goes along).
 */
void v1_p1_wr_sa(struct v1_wr *w, const struct config_ike *ike, bool aggressive);
/*
 * A responder's SA payload: the chosen transform t echoed byte for byte
 * (RFC 2408 4.2: the responder must not change its attributes) in a
 * proposal numbered as the peer numbered it, with our SPI for protocol.
 */
void v1_wr_sa_echo(struct v1_wr *w, uint8_t proto, const uint8_t *spi, uint8_t spi_len,
                   const struct v1_transform *t);
/*
 * Initiator: the responder's answer must be one transform that is one of
 * ours with the same attributes (any order). 0 with *out its algorithms,
 * else -1 and why names what differs.
 */
int v1_p1_check_choice(const struct v1_proposal *ours, const struct v1_proposal *theirs,
                       struct v1_p1_choice *out, char *why, size_t why_len);
/* A phase 1 transform's algorithms; false when one is unknown or auth is not PSK. */
bool v1_p1_decode(const struct v1_transform *t, struct v1_p1_choice *c);
/*
 * Responder: the first of the peer's transforms whose algorithms are all
 * in our lists (*idx its index). -1 with *cause, why ("no acceptable
 * encryption: peer offers aes256, we allow aes"; what we skipped, such as
 * "auth method RSA signatures (3)") and a *remedy when the cause's own
 * does not fit (else NULL) when none is.
 */
int v1_p1_choose(const struct config_ike *ike, const struct v1_proposal *p,
                 struct v1_p1_choice *out, unsigned *idx, enum ike_cause *cause,
                 const char **remedy, char *why, size_t why_len);

/*
 * Lifetimes in an attribute list (RFC 2407 4.5, RFC 2409 appendix A):
 * each Life Duration applies to the Life Type before it; seconds and
 * kilobytes in any order, the smaller one if a type repeats; 0 when
 * absent. type_attr/dur_attr: V1_A_LIFE_* (phase 1) or V1_Q_LIFE_*.
 */
void v1_lifetimes(const struct v1_transform *t, uint16_t type_attr, uint16_t dur_attr,
                  uint32_t *seconds, uint32_t *kilobytes);
/* The lifetimes of a RESPONDER-LIFETIME notify's data (an attribute list); -1 if malformed. */
int v1_responder_lifetime(const uint8_t *data, size_t len, uint32_t *seconds, uint32_t *kilobytes);

/* Our ESP SA payload: a transform per encryption x integrity (life_kb 0: seconds only). */
void v1_esp_wr_sa(struct v1_wr *w, const struct config_ipsec *ip, uint32_t life, uint32_t life_kb,
                  uint32_t spi, uint16_t encap, enum crypto_alg_id pfs);
/* An ESP transform; *grp the PFS group (CRYPTO_INTEG_NONE: none). */
bool v1_esp_decode(const struct v1_transform *t, struct v1_esp_choice *c, enum crypto_alg_id *grp);
bool v1_esp_integ_ok(const struct config_ipsec *ip, const struct v1_esp_choice *c);
bool v1_encap_ok(uint16_t mode);
/*
 * Responder: the first acceptable ESP transform (*idx its index), or -1
 * with *cause, why (as v1_p1_choose: "encapsulation mode transport (2)")
 * and *remedy (NULL: the cause's).
 */
int v1_esp_choose(const struct config_ipsec *ip, const struct v1_proposal *p, bool has_ke,
                  struct v1_esp_choice *out, unsigned *idx, enum ike_cause *cause,
                  const char **remedy, char *why, size_t why_len);

/* A quick mode ID payload for a selector (subnet, else range), and back. */
void v1_wr_ts_id(struct v1_wr *w, const struct ts *t);
int v1_ts_from_id(const struct v1_pl *pl, struct ts *t);

#endif
