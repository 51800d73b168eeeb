/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * INFORMATIONAL (RFC 7296 1.4, 1.5, 2.4): deleting children and IKE SAs,
 * both ways; the empty liveness check; notifies we only log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_mem.h"
#include "cursor.h"
#include "ikev2_int.h"

static bool conn_has_child(const struct ikev2 *e, uint32_t conn)
{
	const struct ikev2_sa *sa = e->conns[conn].sa;

	if (sa == NULL)
		return false;
	for (const struct ikev2_child *c = sa->children; c; c = c->next)
		if (c->conn == conn && c->installed)
			return true;
	return false;
}

/*
 * The peer ends the IKE SA with AUTHENTICATION_FAILED: cause and evidence.
 * As its first request after IKE_AUTH (message ID 2) to us responding, it
 * is the initiator refusing our IKE_AUTH answer. Its AUTH verified with our
 * pre-shared key, so the keys agree: what it refuses is our ID.
 */
static enum ike_cause auth_failed_evidence(struct ikev2 *e, const struct ikev2_sa *sa,
                                           const struct ikev2_msg *m, char *ev, size_t len)
{
	struct ike_id id;
	char ours[128];

	if (sa->initiator || m->msg_id != 2) {
		snprintf(ev, len, "the peer ended the IKE_SA with AUTHENTICATION_FAILED");
		return IKE_CAUSE_PEER_REJECTED;
	}
	ike_id_from_config(&id, &ikev2_cc(e, sa->conn)->ike.local_id);
	snprintf(ev, len,
	         "the peer refused our IKE_AUTH answer (AUTHENTICATION_FAILED): our ID %s "
	         "(local_id) is not what it expects; its AUTH verified with our pre-shared key",
	         ike_id_str(&id, ours, sizeof(ours)));
	return IKE_CAUSE_ID_MISMATCH;
}

void ikev2_info_request(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_msg *m)
{
	struct ikev2_sk_wr *s = malloc(sizeof(*s));
	uint8_t buf[IKE_MSG_MAX];
	/* Ours of the pairs the peer deletes: at most as many as it listed. */
	uint32_t *gone = m->n_delete_spis ? malloc(m->n_delete_spis * sizeof(*gone)) : NULL;
	struct ikev2_delete_iter it;
	struct ikev2_delete del;
	unsigned n_gone = 0;
	size_t len;

	if (s == NULL || (m->n_delete_spis && gone == NULL)) {
		free(s);
		free(gone);
		return; /* unanswered: the peer retransmits */
	}
	ikev2_sk_begin(sa, s, buf, sizeof(buf), IKEV2_EXCH_INFORMATIONAL, true, m->msg_id);
	if (m->delete_ike || ikev2_msg_notify(m, IKEV2_N_AUTHENTICATION_FAILED)) {
		/*
		 * The whole IKE SA goes, its children with it (1.4.1): answer
		 * empty. AUTHENTICATION_FAILED here is an initiator refusing our
		 * IKE_AUTH answer (2.21.2): for it there is no IKE SA any more.
		 */
		uint32_t conn = sa->conn;
		bool current = e->conns[conn].sa == sa;
		bool refused = ikev2_msg_notify(m, IKEV2_N_AUTHENTICATION_FAILED) != NULL;
		enum ike_cause cause = IKE_CAUSE_NONE;
		char ev[IKE_EVIDENCE_MAX];

		if (refused)
			cause = auth_failed_evidence(e, sa, m, ev, sizeof(ev));
		len = ikev2_sk_end(sa, s);
		if (len)
			ikev2_send_response(e, sa, buf, len);
		ike_log(&e->ops, refused ? IKE_LOG_WARN : IKE_LOG_INFO, conn, "%s",
		        refused ? ev : "the peer deleted the IKE_SA");
		ikev2_sa_destroy(e, sa, true);
		if (current && e->conns[conn].sa == NULL) {
			if (refused)
				ike_status_fail(ikev2_status(e, conn), IKE_STATE_PHASE1_FAILED,
				                cause, e->now_ms, NULL, "%s", ev);
			else
				ike_status_set(ikev2_status(e, conn), IKE_STATE_DOWN, e->now_ms);
			ikev2_conn_failed(e, conn, true);
		}
		free(s);
		free(gone);
		return;
	}
	ikev2_delete_iter_init(m, &it);
	while (ikev2_delete_next(m, &it, &del)) {
		if (del.proto != IKEV2_PROTO_ESP)
			continue;
		for (unsigned i = 0; i < del.n_spi; i++) {
			struct ikev2_child *c =
			        ikev2_child_find_out(sa, get_be32(del.spis + 4 * i));
			uint32_t conn, c_spi_out;

			if (c == NULL)
				continue;
			conn = c->conn;
			c_spi_out = c->spi_out;
			/* Simultaneous deletes: an SA we are deleting ourselves is not listed. */
			if (!(sa->req_pending && sa->req_kind == IKEV2_REQ_DELETE_CHILD &&
			      sa->req_spi == c->spi_in))
				gone[n_gone++] = c->spi_in;
			ike_log(&e->ops, IKE_LOG_INFO, conn,
			        "the peer deleted CHILD_SA 0x%08x (ours 0x%08x)", c->spi_out,
			        c->spi_in);
			ikev2_child_remove(e, sa, c, true);
			if (!conn_has_child(e, conn))
				ike_status_fail(
				        ikev2_status(e, conn), IKE_STATE_PHASE2_FAILED,
				        IKE_CAUSE_PEER_REJECTED, e->now_ms, NULL,
				        "the peer deleted the last CHILD_SA (0x%08x); traffic "
				        "brings it back",
				        c_spi_out);
		}
	}
	if (n_gone)
		ikev2_wr_delete(&s->in, IKEV2_PROTO_ESP, gone, n_gone);
	len = ikev2_sk_end(sa, s);
	if (len)
		ikev2_send_response(e, sa, buf, len);
	free(s);
	free(gone);
}

void ikev2_info_response(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_msg *m)
{
	uint8_t kind = sa->req_kind;
	uint32_t spi = sa->req_spi;

	(void)m;
	ikev2_request_done(sa);
	switch (kind) {
	case IKEV2_REQ_DELETE_CHILD: {
		struct ikev2_child *c = ikev2_child_find(sa, spi);

		if (c)
			ikev2_child_remove(e, sa, c, true);
		break;
	}
	case IKEV2_REQ_DELETE_IKE: {
		uint32_t conn = sa->conn;
		bool current = e->conns[conn].sa == sa;

		ikev2_sa_destroy(e, sa, true);
		if (current && e->conns[conn].sa == NULL)
			ike_status_set(ikev2_status(e, conn), IKE_STATE_DOWN, e->now_ms);
		break;
	}
	case IKEV2_REQ_LIVENESS:
	default:
		break;
	}
}

void ikev2_delete_child_start(struct ikev2 *e, struct ikev2_sa *sa, struct ikev2_child *c)
{
	struct ikev2_sk_wr *s = malloc(sizeof(*s));
	uint8_t buf[512];
	size_t len;

	if (s == NULL)
		return;
	ikev2_sk_begin(sa, s, buf, sizeof(buf), IKEV2_EXCH_INFORMATIONAL, false, sa->req_id);
	ikev2_wr_delete(&s->in, IKEV2_PROTO_ESP, &c->spi_in, 1);
	len = ikev2_sk_end(sa, s);
	free(s);
	if (len == 0)
		return;
	sa->req_spi = c->spi_in;
	ikev2_send_request(e, sa, IKEV2_REQ_DELETE_CHILD, buf, len);
}

void ikev2_delete_ike_start(struct ikev2 *e, struct ikev2_sa *sa)
{
	struct ikev2_sk_wr *s = malloc(sizeof(*s));
	uint8_t buf[512];
	size_t len;

	if (s == NULL)
		return;
	ikev2_sk_begin(sa, s, buf, sizeof(buf), IKEV2_EXCH_INFORMATIONAL, false, sa->req_id);
	ikev2_wr_delete(&s->in, IKEV2_PROTO_IKE, NULL, 0);
	len = ikev2_sk_end(sa, s);
	free(s);
	if (len == 0)
		return;
	sa->state = IKEV2_SA_DELETING;
	ikev2_send_request(e, sa, IKEV2_REQ_DELETE_IKE, buf, len);
}

void ikev2_liveness_start(struct ikev2 *e, struct ikev2_sa *sa)
{
	struct ikev2_sk_wr *s = malloc(sizeof(*s));
	uint8_t buf[256];
	size_t len;

	if (s == NULL)
		return;
	ikev2_sk_begin(sa, s, buf, sizeof(buf), IKEV2_EXCH_INFORMATIONAL, false, sa->req_id);
	len = ikev2_sk_end(sa, s);
	free(s);
	if (len == 0)
		return;
	ikev2_send_request(e, sa, IKEV2_REQ_LIVENESS, buf, len);
}
