/* SPDX-License-Identifier: BSD-3-Clause */
/* The IKE pieces IKEv1 and IKEv2 share (ike.h). */
#include "ike.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto_prf.h"
#include "crypto_rand.h"

/* ---- endpoints ---------------------------------------------------------- */

static size_t ike_addr_len(uint8_t family)
{
	return family == TS_IPV6 ? 16 : 4;
}

bool ike_endpoint_same_addr(const struct ike_endpoint *a, const struct ike_endpoint *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, ike_addr_len(a->family)) == 0;
}

bool ike_endpoint_eq(const struct ike_endpoint *a, const struct ike_endpoint *b)
{
	return ike_endpoint_same_addr(a, b) && a->port == b->port;
}

const char *ike_endpoint_str(const struct ike_endpoint *e, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (len == 0)
		return buf;
	if (inet_ntop(e->family == TS_IPV6 ? AF_INET6 : AF_INET, e->addr, ip, sizeof(ip)) == NULL)
		snprintf(ip, sizeof(ip), "?");
	if (e->family == TS_IPV6)
		snprintf(buf, len, "[%s]:%u", ip, e->port);
	else
		snprintf(buf, len, "%s:%u", ip, e->port);
	return buf;
}

void ike_endpoint_from_config(struct ike_endpoint *e, const struct config_addr *a, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->family = a->family == AF_INET6 ? TS_IPV6 : TS_IPV4;
	memcpy(e->addr, a->u.bytes, ike_addr_len(e->family));
	e->port = port;
}

const uint8_t *ike_payload_strip(uint16_t local_port, const uint8_t *buf, size_t len,
                                 size_t *msg_len)
{
	static const uint8_t marker[4];

	*msg_len = 0;
	if (local_port == IKE_NATT_PORT) {
		/* A NAT keepalive is one 0xff byte; ESP would have a non-zero SPI. */
		if (len < sizeof(marker) || memcmp(buf, marker, sizeof(marker)) != 0)
			return NULL;
		buf += sizeof(marker);
		len -= sizeof(marker);
	}
	/* The fixed IKE header is 28 bytes in both versions. */
	if (len < 28)
		return NULL;
	*msg_len = len;
	return buf;
}

unsigned ike_major_version(const uint8_t *msg, size_t len)
{
	/* Version octet at offset 17: major in the high nibble. */
	if (msg == NULL || len < 28)
		return 0;
	return msg[17] >> 4;
}

/* ---- states and causes ------------------------------------------------------ */

static const char *const state_names[IKE_STATE_COUNT] = {
#define IKE_STATE_NAME(id, s) [IKE_STATE_##id] = s,
	IKE_STATES(IKE_STATE_NAME)
#undef IKE_STATE_NAME
};

static const char *const cause_codes[IKE_CAUSE_COUNT] = {
#define IKE_CAUSE_CODE(id, code, remedy) [IKE_CAUSE_##id] = code,
	IKE_CAUSES(IKE_CAUSE_CODE)
#undef IKE_CAUSE_CODE
};

static const char *const cause_remedies[IKE_CAUSE_COUNT] = {
#define IKE_CAUSE_REMEDY(id, code, remedy) [IKE_CAUSE_##id] = remedy,
	IKE_CAUSES(IKE_CAUSE_REMEDY)
#undef IKE_CAUSE_REMEDY
};

const char *ike_state_name(enum ike_state s)
{
	return (unsigned)s < IKE_STATE_COUNT ? state_names[s] : "?";
}

const char *ike_cause_code(enum ike_cause c)
{
	return (unsigned)c < IKE_CAUSE_COUNT ? cause_codes[c] : "?";
}

const char *ike_cause_remedy(enum ike_cause c)
{
	return (unsigned)c < IKE_CAUSE_COUNT ? cause_remedies[c] : "";
}

/*
 * A new attempt after a failure keeps the failure on show until the
 * attempt gets past it: phase 1 negotiating keeps any failure, phase 2
 * negotiating only one of phase 2 (phase 1 just succeeded).
 */
static bool retry_keeps_cause(const struct ike_status *s, enum ike_state state)
{
	if (s->cause == IKE_CAUSE_NONE)
		return false;
	if (state == IKE_STATE_PHASE1_NEGOTIATING)
		return s->failed_in == IKE_STATE_PHASE1_FAILED ||
		       s->failed_in == IKE_STATE_PHASE2_FAILED;
	return state == IKE_STATE_PHASE2_NEGOTIATING && s->failed_in == IKE_STATE_PHASE2_FAILED;
}

void ike_status_set(struct ike_status *s, enum ike_state state, uint64_t now_ms)
{
	/* A tunnel that comes up settles the version question. */
	if (state == IKE_STATE_PHASE2_NEGOTIATING || state == IKE_STATE_PHASE2_SUCCEEDED)
		s->other_version_ms = 0;
	if (retry_keeps_cause(s, state)) {
		if (s->state != state)
			s->since_ms = now_ms;
		s->state = state;
		return;
	}
	if (s->state != state || s->cause != IKE_CAUSE_NONE)
		s->since_ms = now_ms;
	s->state = state;
	s->cause = IKE_CAUSE_NONE;
	s->evidence[0] = '\0';
	s->remedy[0] = '\0';
}

/* A phase 1 failure that a peer speaking the other IKE version would also cause. */
static bool explained_by_other_version(const struct ike_status *s, enum ike_state state,
                                       enum ike_cause cause, uint64_t now_ms)
{
	if (state != IKE_STATE_PHASE1_FAILED || s->other_version_ms == 0 ||
	    now_ms - s->other_version_ms > IKE_OTHER_VERSION_MS)
		return false;
	return cause == IKE_CAUSE_PROPOSAL_MISMATCH || cause == IKE_CAUSE_PEER_NOT_RESPONDING ||
	       cause == IKE_CAUSE_PEER_REJECTED;
}

static void status_fail_v(struct ike_status *s, enum ike_state state, enum ike_cause cause,
                          uint64_t now_ms, const char *remedy, const char *fmt, va_list ap)
{
	char ev[IKE_EVIDENCE_MAX];

	vsnprintf(ev, sizeof(ev), fmt, ap);
	if (explained_by_other_version(s, state, cause, now_ms)) {
		int n = snprintf(s->evidence, sizeof(s->evidence),
		                 "the peer speaks IKEv%u (heard %llu s ago), this connection "
		                 "IKEv%u; our attempt: %s: ",
		                 s->other_version,
		                 (unsigned long long)((now_ms - s->other_version_ms) / 1000),
		                 3 - s->other_version, ike_cause_code(cause));

		/* What does not fit is cut: the first words say what happened. */
		if (n > 0 && (size_t)n < sizeof(s->evidence))
			memcpy(s->evidence + n, ev,
			       strnlen(ev, sizeof(s->evidence) - (size_t)n - 1) + 1);
		s->evidence[sizeof(s->evidence) - 1] = '\0';
		cause = IKE_CAUSE_IKE_VERSION_MISMATCH;
		remedy = NULL;
	} else {
		memcpy(s->evidence, ev, sizeof(s->evidence));
	}
	if (s->state != state || s->cause != cause)
		s->since_ms = now_ms;
	s->state = state;
	s->failed_in = state;
	s->cause = (unsigned)cause < IKE_CAUSE_COUNT ? cause : IKE_CAUSE_INTERNAL;
	snprintf(s->remedy, sizeof(s->remedy), "%s",
	         remedy != NULL ? remedy : ike_cause_remedy(s->cause));
	s->failures[s->cause]++;
}

void ike_status_fail(struct ike_status *s, enum ike_state state, enum ike_cause cause,
                     uint64_t now_ms, const char *remedy, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	status_fail_v(s, state, cause, now_ms, remedy, fmt, ap);
	va_end(ap);
}

void ike_status_other_version(struct ike_status *s, unsigned version, bool record, uint64_t now_ms,
                              const char *fmt, ...)
{
	va_list ap;

	s->other_version_ms = now_ms != 0 ? now_ms : 1;
	s->other_version = version;
	if (!record)
		return;
	va_start(ap, fmt);
	status_fail_v(s, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_IKE_VERSION_MISMATCH, now_ms, NULL, fmt,
	              ap);
	va_end(ap);
}

void ike_log(const struct ike_ops *ops, enum ike_log_level level, uint32_t conn, const char *fmt,
             ...)
{
	char line[512];
	va_list ap;

	if (ops == NULL || ops->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ops->log(ops->ctx, level, conn, line);
}

/* ---- identities ----------------------------------------------------------------- */

void ike_id_from_config(struct ike_id *id, const struct config_id *c)
{
	size_t n;

	memset(id, 0, sizeof(*id));
	switch (c->type) {
	case CONFIG_ID_IPV4:
		id->type = IKE_ID_IPV4;
		id->len = 4;
		memcpy(id->data, c->addr.u.bytes, 4);
		return;
	case CONFIG_ID_IPV6:
		id->type = IKE_ID_IPV6;
		id->len = 16;
		memcpy(id->data, c->addr.u.bytes, 16);
		return;
	case CONFIG_ID_FQDN:
		id->type = IKE_ID_FQDN;
		break;
	case CONFIG_ID_USER_FQDN:
		id->type = IKE_ID_USER_FQDN;
		break;
	case CONFIG_ID_KEY_ID:
		id->type = IKE_ID_KEY_ID;
		id->len = c->key_id_len;
		memcpy(id->data, c->key_id, c->key_id_len);
		return;
	}
	n = strnlen(c->value, sizeof(c->value));
	if (n > sizeof(id->data))
		n = sizeof(id->data);
	memcpy(id->data, c->value, n);
	id->len = (uint8_t)n;
}

int ike_id_parse(struct ike_id *id, uint8_t type, const uint8_t *data, size_t len)
{
	memset(id, 0, sizeof(*id));
	switch (type) {
	case IKE_ID_IPV4:
		if (len != 4)
			return -1;
		break;
	case IKE_ID_IPV6:
		if (len != 16)
			return -1;
		break;
	case IKE_ID_FQDN:
	case IKE_ID_USER_FQDN:
	case IKE_ID_KEY_ID:
		if (len == 0 || len > sizeof(id->data))
			return -1;
		break;
	default:
		return -1;
	}
	id->type = type;
	id->len = (uint8_t)len;
	memcpy(id->data, data, len);
	return 0;
}

static bool ascii_ieq(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t x = a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x = (uint8_t)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (uint8_t)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

bool ike_id_eq(const struct ike_id *a, const struct ike_id *b)
{
	if (a->type != b->type || a->len != b->len)
		return false;
	/* DNS names compare without regard to case (RFC 4343). */
	if (a->type == IKE_ID_FQDN)
		return ascii_ieq(a->data, b->data, a->len);
	return memcmp(a->data, b->data, a->len) == 0;
}

const char *ike_id_str(const struct ike_id *id, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	size_t off;

	if (len == 0)
		return buf;
	switch (id->type) {
	case IKE_ID_IPV4:
	case IKE_ID_IPV6:
		if (inet_ntop(id->type == IKE_ID_IPV4 ? AF_INET : AF_INET6, id->data, ip,
		              sizeof(ip)) == NULL)
			snprintf(ip, sizeof(ip), "?");
		snprintf(buf, len, "%s:%s", id->type == IKE_ID_IPV4 ? "ipv4" : "ipv6", ip);
		return buf;
	case IKE_ID_FQDN:
	case IKE_ID_USER_FQDN:
		off = (size_t)snprintf(buf, len,
		                       "%s:", id->type == IKE_ID_FQDN ? "fqdn" : "user_fqdn");
		/* Printable ASCII only: the bytes come from the peer. */
		for (unsigned i = 0; i < id->len && off + 1 < len; i++)
			buf[off++] =
			        id->data[i] >= 0x20 && id->data[i] < 0x7f ? (char)id->data[i] : '?';
		if (off < len)
			buf[off] = '\0';
		return buf;
	case IKE_ID_KEY_ID: {
		/* As the config writes it: keyid:TEXT when printable, keyid:0xHEX otherwise. */
		bool text = id->len > 0 && !(id->len > 2 && id->data[0] == '0' &&
		                             (id->data[1] == 'x' || id->data[1] == 'X'));

		for (unsigned i = 0; i < id->len && text; i++)
			text = id->data[i] > 0x20 && id->data[i] < 0x7f;
		off = (size_t)snprintf(buf, len, text ? "keyid:" : "keyid:0x");
		for (unsigned i = 0; i < id->len && off + 2 < len; i++)
			off += (size_t)(text ? snprintf(buf + off, len - off, "%c", id->data[i])
			                     : snprintf(buf + off, len - off, "%02x", id->data[i]));
		return buf;
	}
	default:
		snprintf(buf, len, "type%u", id->type);
		return buf;
	}
}

/* ---- NAT detection ---------------------------------------------------------------- */

size_t ike_natd_hash(enum crypto_alg_id prf, const uint8_t spis[16], const struct ike_endpoint *e,
                     uint8_t *out)
{
	uint8_t port[2] = { (uint8_t)(e->port >> 8), (uint8_t)e->port };
	struct crypto_iov iov[3] = {
		{ spis, 16 },
		{ e->addr, ike_addr_len(e->family) },
		{ port, sizeof(port) },
	};

	if (crypto_hash_v(prf, iov, 3, out) != 0)
		return 0;
	return crypto_alg(prf)->out_len;
}

/* ---- retransmission ------------------------------------------------------------------- */

uint32_t ike_retransmit_timeout_ms(unsigned n)
{
	uint32_t t = IKE_RETRANSMIT_BASE_MS;

	while (n-- > 0 && t < IKE_RETRANSMIT_MAX_MS)
		t *= 2;
	return t < IKE_RETRANSMIT_MAX_MS ? t : IKE_RETRANSMIT_MAX_MS;
}

uint32_t ike_retransmit_timeout_base_ms(uint32_t base_ms, unsigned n)
{
	uint64_t t = ike_retransmit_timeout_ms(n);

	if (base_ms != 0)
		t = t * base_ms / IKE_RETRANSMIT_BASE_MS;
	return t != 0 ? (uint32_t)t : 1;
}

/* ---- timing ------------------------------------------------------------------------------ */

uint64_t ike_jitter_ms(uint64_t span_ms, bool no_jitter)
{
	uint64_t r;

	if (no_jitter || span_ms == 0)
		return 0;
	crypto_random(&r, sizeof(r));
	return r % span_ms;
}

/* ---- proposals -------------------------------------------------------------------------- */

const char *ike_choice_str(const struct ike_choice *c, char *buf, size_t len)
{
	int n;

	if (len == 0)
		return buf;
	n = snprintf(buf, len, "%s", crypto_alg(c->encr)->name);
	if (c->has_integ && c->integ != CRYPTO_INTEG_NONE && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "/%s", crypto_alg(c->integ)->name);
	if (c->has_prf && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "/prf%s", crypto_alg(c->prf)->name);
	if (c->has_dh && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "/%s", crypto_alg(c->dh)->name);
	return buf;
}

bool ike_algs_has(const struct config_algs *a, enum crypto_alg_id id)
{
	for (uint32_t i = 0; i < a->n; i++)
		if (a->ids[i] == id)
			return true;
	return false;
}

const char *ike_algs_str(const struct config_algs *a, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (uint32_t i = 0; i < a->n && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
		                 crypto_alg(a->ids[i])->name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	return buf;
}

/* ---- config helpers ---------------------------------------------------------------------- */

unsigned ike_prefixes_to_ts(const struct config_prefix *p, uint32_t n, struct ts *out, unsigned cap)
{
	unsigned k = 0;

	for (uint32_t i = 0; i < n && k < cap; i++) {
		uint8_t fam = p[i].addr.family == AF_INET6 ? TS_IPV6 : TS_IPV4;

		if (ts_from_prefix(&out[k], fam, p[i].addr.u.bytes, p[i].len, TS_ALLOW_HOST_BITS) ==
		    TS_OK)
			k++;
	}
	return k;
}

int ike_local_endpoint(const struct config *cfg, const struct ike_endpoint *peer,
                       struct ike_endpoint *local)
{
	int want = peer->family == TS_IPV6 ? AF_INET6 : AF_INET;

	for (uint32_t i = 0; i < cfg->gateway.n_ports; i++) {
		const struct config_port *p = &cfg->gateway.ports[i];

		if (p->role != CONFIG_PORT_PUBLIC || p->address.addr.family != want)
			continue;
		ike_endpoint_from_config(local, &p->address.addr,
		                         peer->port == IKE_NATT_PORT ? IKE_NATT_PORT : IKE_PORT);
		return 0;
	}
	return -1;
}

int ike_conn_by_peer(const struct config *cfg, const struct ike_endpoint *addr, uint32_t from)
{
	for (uint32_t i = from; i < cfg->n_connections; i++) {
		const struct config_customer_gateway *g =
		        &cfg->customer_gateways[cfg->connections[i].customer_gateway];
		struct ike_endpoint e;

		ike_endpoint_from_config(&e, &g->address, addr->port);
		if (ike_endpoint_same_addr(&e, addr))
			return (int)i;
	}
	return -1;
}
