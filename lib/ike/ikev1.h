/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv1 (RFC 2407, 2408, 2409) with pre-shared keys: the engine for every
 * config connection whose ike.version is ikev1. Main Mode and Aggressive
 * Mode, Quick Mode with and without PFS (one IPsec SA pair per local x
 * remote subnet pair under one ISAKMP SA), informational exchanges
 * (notifies, deletes, DPD R-U-THERE / ACK), NAT-T (RFC 3947 and the draft
 * vendor IDs, NAT-D, floating to 4500), rekeying, retransmission.
 *
 * Same shape as ikev2.h: the engine talks to the world only through
 * struct ike_ops (ike.h) and writes each connection's status into the
 * array the host gives it. Not thread safe: one control thread. Every
 * byte from the network is read through the bounded cursor.
 */
#ifndef VPNGW_IKEV1_H
#define VPNGW_IKEV1_H

#include "ike.h"

struct ikev1;

struct ikev1_stats {
	uint64_t rx;
	uint64_t tx;
	uint64_t retransmits;
	uint64_t resp_resent; /* our last message sent again for a repeated one */
	uint64_t malformed;
	uint64_t too_many_attrs; /* transforms refused for more attributes than we read (malformed
	                            too) */
	uint64_t decrypt_failed; /* encrypted payloads that did not decrypt/verify */
	uint64_t unknown_cookie;
	uint64_t unknown_peer;
	uint64_t isakmp_sas; /* established ISAKMP SAs (gauge) */
	uint64_t ipsec_sas;  /* installed IPsec SA pairs (gauge) */
	uint64_t dpd_sent;
	uint64_t dead_peers;
	uint64_t half_open;         /* phase 1 exchanges we answer, not yet done (gauge) */
	uint64_t half_open_dropped; /* first messages refused: too many half open */
};

struct ikev1 *ikev1_new(const struct config *cfg, const struct ike_ops *ops,
                        struct ike_status *status, uint64_t now_ms);
void ikev1_free(struct ikev1 *e);
void ikev1_start(struct ikev1 *e, uint64_t now_ms);
void ikev1_input(struct ikev1 *e, const struct ike_endpoint *local,
                 const struct ike_endpoint *remote, const uint8_t *buf, size_t len,
                 uint64_t now_ms);
void ikev1_tick(struct ikev1 *e, uint64_t now_ms);
void ikev1_acquire(struct ikev1 *e, uint32_t conn, uint64_t now_ms);
void ikev1_child_expired(struct ikev1 *e, uint32_t conn, uint32_t spi_in, bool hard,
                         uint64_t now_ms);
int ikev1_up(struct ikev1 *e, uint32_t conn, uint64_t now_ms);
int ikev1_down(struct ikev1 *e, uint32_t conn, uint64_t now_ms);
unsigned ikev1_children(const struct ikev1 *e, uint32_t conn, struct ike_child_info *out,
                        unsigned cap);
bool ikev1_peer(const struct ikev1 *e, uint32_t conn, struct ike_endpoint *out);
const struct ikev1_stats *ikev1_stats(const struct ikev1 *e);

/* Timing knobs; a numeric field left 0 keeps its default. */
struct ikev1_tunables {
	uint32_t dpd_idle_ms;        /* default 10000: R-U-THERE after this much silence */
	uint32_t keepalive_ms;       /* default 20000 */
	uint32_t retransmit_tries;   /* default IKE_RETRANSMIT_TRIES */
	uint32_t retransmit_base_ms; /* default IKE_RETRANSMIT_BASE_MS */
	uint32_t restart_delay_ms;   /* default 5000 */
	bool no_jitter;
	/* Tests: announce only the draft NAT-T vendor IDs (NAT-D 130, encapsulation 61443). */
	bool natt_draft_only;
};
void ikev1_tune(struct ikev1 *e, const struct ikev1_tunables *t);

#endif
