/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "crypto_mem.h"
#include "dp_sa.h"

/* True if t names a protocol or a port range narrower than all ports. */
static bool ts_names_l4(const struct ts *t)
{
	return t->proto != 0 || t->port_start != 0 || t->port_end != TS_PORT_ANY_END;
}

/* The IPv4 selectors of one side as ranges; false if one names L4. */
static bool ranges4(const struct ts *t, unsigned n, struct dp_sa_range4 *r, uint8_t *nr)
{
	unsigned i;

	*nr = 0;
	for (i = 0; i < n; i++) {
		if (t[i].family != TS_IPV4)
			continue;
		if (ts_names_l4(&t[i]))
			return false;
		r[*nr].start = (uint32_t)t[i].start.lo;
		r[*nr].end = (uint32_t)t[i].end.lo;
		(*nr)++;
	}
	return true;
}

struct dp_sa *dp_sa_create(const struct esp_sa_conf *conf, const struct dp_sa_params *p, char *err,
                           size_t err_len)
{
	struct dp_sa *sa;
	uint64_t now, hz;

	if (p->n_local > DP_SA_TS_MAX || p->n_remote > DP_SA_TS_MAX) {
		snprintf(err, err_len, "more than %d selectors on one side", DP_SA_TS_MAX);
		return NULL;
	}
	sa = rte_zmalloc("dp_sa", sizeof(*sa), RTE_CACHE_LINE_SIZE);
	if (sa == NULL) {
		snprintf(err, err_len, "out of memory for an SA");
		return NULL;
	}
	/* The ESP state holds the keys: locked, guard-paged, wiped on free. */
	sa->esp = crypto_key_alloc(esp_sa_size());
	if (sa->esp == NULL) {
		snprintf(err, err_len, "out of locked memory for SA keys");
		goto fail;
	}
	if (esp_sa_init(sa->esp, conf, err, err_len) != 0)
		goto fail;
	/*
	 * ESP length = head + align_up(inner + 2) + ICV: the first inner length
	 * whose length steps up is align - 1; tail_max is align + 1 + ICV.
	 */
	{
		uint32_t l0 = esp_outb_len(sa->esp, 0), a = 1;

		while (a < 256 && esp_outb_len(sa->esp, a) == l0)
			a++;
		sa->pad_align = (uint8_t)(a + 1);
		sa->mtu_over = (uint16_t)(esp_sa_head_len(sa->esp) + esp_sa_tail_max(sa->esp) -
		                          (a + 1) - 1);
	}
	sa->id = p->id;
	sa->spi = conf->spi;
	sa->owner = p->owner;
	sa->dir = (uint8_t)conf->dir;
	sa->family = (uint8_t)conf->family;
	sa->esn = conf->esn;
	memcpy(sa->peer, conf->dir == ESP_DIR_OUT ? conf->remote : conf->local, 16);
	sa->soft_packets = p->soft_packets;
	sa->hard_packets = p->hard_packets;
	sa->soft_bytes = p->soft_bytes;
	sa->hard_bytes = p->hard_bytes;
	now = rte_get_tsc_cycles();
	hz = rte_get_tsc_hz();
	sa->soft_seconds = p->soft_seconds;
	sa->hard_seconds = p->hard_seconds;
	sa->soft_tsc = p->soft_seconds ? now + p->soft_seconds * hz : 0;
	sa->hard_tsc = p->hard_seconds ? now + p->hard_seconds * hz : 0;
	sa->n_local = p->n_local;
	sa->n_remote = p->n_remote;
	memcpy(sa->local, p->local, p->n_local * sizeof(p->local[0]));
	memcpy(sa->remote, p->remote, p->n_remote * sizeof(p->remote[0]));
	sa->sel4_l4 = !ranges4(p->remote, p->n_remote, sa->remote4, &sa->n_remote4) ||
	              !ranges4(p->local, p->n_local, sa->local4, &sa->n_local4);
	snprintf(sa->name, sizeof(sa->name), "%s", p->name);
	sa->encr = conf->encr;
	sa->integ = conf->integ;
	sa->udp_encap = conf->udp_encap;
	return sa;
fail:
	dp_sa_free(sa);
	return NULL;
}

void dp_sa_free(struct dp_sa *sa)
{
	if (sa == NULL)
		return;
	if (sa->esp != NULL) {
		esp_sa_wipe(sa->esp);
		crypto_key_free(sa->esp);
	}
	rte_free(sa);
}

/* Reads the 5-tuple the selectors speak of; false if the header is unsound. */
static bool inner_tuple(const uint8_t *p, uint32_t len, struct ts_tuple *t)
{
	uint32_t l4;

	memset(t, 0, sizeof(*t));
	if (len < 1)
		return false;
	if ((p[0] >> 4) == 4) {
		if (len < 20)
			return false;
		t->family = TS_IPV4;
		t->proto = p[9];
		t->src = ts_addr_load(TS_IPV4, p + 12);
		t->dst = ts_addr_load(TS_IPV4, p + 16);
		l4 = (uint32_t)(p[0] & 0xf) * 4;
		/* Non-initial fragments carry no ports: 0, as ts.h reads OPAQUE. */
		if ((((uint16_t)p[6] << 8 | p[7]) & 0x1fff) != 0)
			return true;
	} else if ((p[0] >> 4) == 6) {
		if (len < 40)
			return false;
		t->family = TS_IPV6;
		t->proto = p[6];
		t->src = ts_addr_load(TS_IPV6, p + 8);
		t->dst = ts_addr_load(TS_IPV6, p + 24);
		l4 = 40;
	} else {
		return false;
	}
	if (t->proto == TS_PROTO_TCP || t->proto == TS_PROTO_UDP || t->proto == TS_PROTO_SCTP) {
		if (len >= l4 + 4) {
			t->sport = (uint16_t)(p[l4] << 8 | p[l4 + 1]);
			t->dport = (uint16_t)(p[l4 + 2] << 8 | p[l4 + 3]);
		}
	} else if (t->proto == TS_PROTO_ICMP || t->proto == TS_PROTO_ICMPV6) {
		if (len >= l4 + 2)
			t->sport = t->dport = (uint16_t)(p[l4] << 8 | p[l4 + 1]);
	}
	return true;
}

bool dp_sa_inner_allowed_slow(const struct dp_sa *sa, const uint8_t *pkt, uint32_t len)
{
	struct ts_tuple t;
	unsigned i, j;

	if (!inner_tuple(pkt, len, &t))
		return false;
	for (i = 0; i < sa->n_remote; i++)
		for (j = 0; j < sa->n_local; j++)
			if (ts_match_packet(&sa->remote[i], &sa->local[j], &t))
				return true;
	return false;
}

enum dp_sa_limit dp_sa_limit_reached(const struct dp_sa *sa, bool hard)
{
	const volatile struct dp_sa_counters *c = &sa->c;
	uint64_t pk = hard ? sa->hard_packets : sa->soft_packets;
	uint64_t by = hard ? sa->hard_bytes : sa->soft_bytes;
	uint64_t tsc = hard ? sa->hard_tsc : sa->soft_tsc;

	if (pk != 0 && c->packets >= pk)
		return DP_SA_LIMIT_PACKETS;
	if (by != 0 && c->bytes >= by)
		return DP_SA_LIMIT_BYTES;
	if (tsc != 0 && rte_get_tsc_cycles() >= tsc)
		return DP_SA_LIMIT_SECONDS;
	return DP_SA_LIMIT_NONE;
}

const char *dp_sa_limit_name(enum dp_sa_limit l)
{
	static const char *const names[] = { "none", "packets", "bytes", "seconds", "sequence" };

	return (unsigned)l < sizeof(names) / sizeof(names[0]) ? names[l] : "none";
}

const char *dp_sa_state_name(enum dp_sa_state s)
{
	static const char *const names[] = { "active", "soft_expired", "seq_near_end", "expired" };

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "active";
}
