/* SPDX-License-Identifier: BSD-3-Clause */
#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dp.h"
#include "dp_spd.h"

/*
 * rte_acl reads its input in network order at fixed offsets from a base
 * pointer, and wants the first field one byte long and the rest grouped
 * in 4-byte words. The offsets are those of the IP header counted from
 * its protocol / next header byte, so a TCP, UDP or SCTP packet (IPv4
 * without options and not a later fragment) is classified in place, as
 * DPDK's ipsec-secgw does. Anything else (options, fragments, ICMP type
 * and code, protocols without ports, short L4 headers) gets a key built
 * in the same layout, the bytes between the fields unused.
 */
struct key4 {
	uint8_t proto; /* IPv4 byte 9 */
	uint8_t unused[2];
	uint8_t src[4];
	uint8_t dst[4];
	uint8_t sport[2];
	uint8_t dport[2];
	uint8_t tail; /* rte_acl reads the port word as 4 bytes at sport */
};

struct key6 {
	uint8_t proto; /* IPv6 byte 6 */
	uint8_t unused;
	uint8_t src[16];
	uint8_t dst[16];
	uint8_t sport[2];
	uint8_t dport[2];
};

static_assert(offsetof(struct key4, src) == 12 - 9 && offsetof(struct key4, sport) == 20 - 9,
              "key4 is the IPv4 header from byte 9");
static_assert(offsetof(struct key6, src) == 8 - 6 && offsetof(struct key6, sport) == 40 - 6,
              "key6 is the IPv6 header from byte 6");

enum { F4_PROTO, F4_SRC, F4_DST, F4_SPORT, F4_DPORT, F4_NUM };
enum { F6_PROTO, F6_SRC0, F6_DST0 = F6_SRC0 + 4, F6_SPORT = F6_DST0 + 4, F6_DPORT, F6_NUM };

RTE_ACL_RULE_DEF(acl4_rule, F4_NUM);
RTE_ACL_RULE_DEF(acl6_rule, F6_NUM);

struct dp_spd {
	struct rte_acl_ctx *acl4; /* NULL: no IPv4 rules */
	struct rte_acl_ctx *acl6;
	unsigned n_actions;
	struct dp_spd_action actions[];
};

static void defs4(struct rte_acl_field_def *d)
{
	d[F4_PROTO] = (struct rte_acl_field_def){ .type = RTE_ACL_FIELD_TYPE_BITMASK,
		                                  .size = 1,
		                                  .field_index = F4_PROTO,
		                                  .input_index = 0,
		                                  .offset = offsetof(struct key4, proto) };
	d[F4_SRC] = (struct rte_acl_field_def){ .type = RTE_ACL_FIELD_TYPE_MASK,
		                                .size = 4,
		                                .field_index = F4_SRC,
		                                .input_index = 1,
		                                .offset = offsetof(struct key4, src) };
	d[F4_DST] = (struct rte_acl_field_def){ .type = RTE_ACL_FIELD_TYPE_MASK,
		                                .size = 4,
		                                .field_index = F4_DST,
		                                .input_index = 2,
		                                .offset = offsetof(struct key4, dst) };
	d[F4_SPORT] = (struct rte_acl_field_def){ .type = RTE_ACL_FIELD_TYPE_RANGE,
		                                  .size = 2,
		                                  .field_index = F4_SPORT,
		                                  .input_index = 3,
		                                  .offset = offsetof(struct key4, sport) };
	d[F4_DPORT] = (struct rte_acl_field_def){ .type = RTE_ACL_FIELD_TYPE_RANGE,
		                                  .size = 2,
		                                  .field_index = F4_DPORT,
		                                  .input_index = 3,
		                                  .offset = offsetof(struct key4, dport) };
}

static void defs6(struct rte_acl_field_def *d)
{
	unsigned i;

	d[F6_PROTO] = (struct rte_acl_field_def){ .type = RTE_ACL_FIELD_TYPE_BITMASK,
		                                  .size = 1,
		                                  .field_index = F6_PROTO,
		                                  .input_index = 0,
		                                  .offset = offsetof(struct key6, proto) };
	for (i = 0; i < 4; i++) {
		d[F6_SRC0 + i] = (struct rte_acl_field_def){
			.type = RTE_ACL_FIELD_TYPE_MASK,
			.size = 4,
			.field_index = (uint8_t)(F6_SRC0 + i),
			.input_index = (uint8_t)(1 + i),
			.offset = (uint32_t)(offsetof(struct key6, src) + 4 * i)
		};
		d[F6_DST0 + i] = (struct rte_acl_field_def){
			.type = RTE_ACL_FIELD_TYPE_MASK,
			.size = 4,
			.field_index = (uint8_t)(F6_DST0 + i),
			.input_index = (uint8_t)(5 + i),
			.offset = (uint32_t)(offsetof(struct key6, dst) + 4 * i)
		};
	}
	d[F6_SPORT] = (struct rte_acl_field_def){ .type = RTE_ACL_FIELD_TYPE_RANGE,
		                                  .size = 2,
		                                  .field_index = F6_SPORT,
		                                  .input_index = 9,
		                                  .offset = offsetof(struct key6, sport) };
	d[F6_DPORT] = (struct rte_acl_field_def){ .type = RTE_ACL_FIELD_TYPE_RANGE,
		                                  .size = 2,
		                                  .field_index = F6_DPORT,
		                                  .input_index = 9,
		                                  .offset = offsetof(struct key6, dport) };
}

/* Rule values are host order; a prefix is (value, length) per 32-bit word. */
static void set_prefix(struct rte_acl_field *f, unsigned words, const struct ts *t, int len)
{
	uint8_t b[16];
	unsigned i;
	int l;

	ts_addr_store(t->family, t->start, b);
	for (i = 0; i < words; i++) {
		l = len - 32 * (int)i;
		f[i].value.u32 = rte_be_to_cpu_32(*(const uint32_t *)(const void *)(b + 4 * i));
		f[i].mask_range.u32 = (uint32_t)(l < 0 ? 0 : l > 32 ? 32 : l);
	}
}

static void set_l4(struct rte_acl_field *proto, struct rte_acl_field *sport,
                   struct rte_acl_field *dport, const struct ts *s, const struct ts *d)
{
	/* Either side may name the protocol; configured subnets name none. */
	uint8_t p = s->proto ? s->proto : d->proto;

	proto->value.u8 = p;
	proto->mask_range.u8 = p ? 0xff : 0;
	sport->value.u16 = s->port_start;
	sport->mask_range.u16 = s->port_end;
	dport->value.u16 = d->port_start;
	dport->mask_range.u16 = d->port_end;
}

static struct rte_acl_ctx *acl_new(int family, unsigned max_rules)
{
	static unsigned gen;
	char name[RTE_ACL_NAMESIZE];
	struct rte_acl_param prm = { 0 };

	/* rte_acl_create returns an existing context of the same name: never reuse one. */
	snprintf(name, sizeof(name), "spd%d_%u", family, gen++);
	prm.name = name;
	prm.socket_id = (int)rte_socket_id();
	prm.rule_size = family == 4 ? RTE_ACL_RULE_SZ(F4_NUM) : RTE_ACL_RULE_SZ(F6_NUM);
	prm.max_rule_num = max_rules;
	return rte_acl_create(&prm);
}

static int add_rule(struct dp_spd *spd, const struct dp_spd_rule *r, uint32_t userdata, char *err,
                    size_t err_len)
{
	struct ts sp[TS_PREFIXES_MAX], dpf[TS_PREFIXES_MAX];
	size_t ns, nd, i, j;
	int ret;

	if (r->src.family != r->dst.family) {
		snprintf(err, err_len, "policy mixes IPv4 and IPv6 selectors");
		return -1;
	}
	if (ts_to_prefixes(&r->src, sp, TS_PREFIXES_MAX, &ns) != TS_OK ||
	    ts_to_prefixes(&r->dst, dpf, TS_PREFIXES_MAX, &nd) != TS_OK) {
		snprintf(err, err_len, "policy selector cannot be split into prefixes");
		return -1;
	}
	for (i = 0; i < ns; i++) {
		for (j = 0; j < nd; j++) {
			if (r->src.family == TS_IPV4) {
				struct acl4_rule a;

				memset(&a, 0, sizeof(a));
				a.data.category_mask = 1;
				a.data.priority = (int32_t)r->priority;
				a.data.userdata = userdata;
				set_prefix(&a.field[F4_SRC], 1, &sp[i], ts_prefix_len(&sp[i]));
				set_prefix(&a.field[F4_DST], 1, &dpf[j], ts_prefix_len(&dpf[j]));
				set_l4(&a.field[F4_PROTO], &a.field[F4_SPORT], &a.field[F4_DPORT],
				       &r->src, &r->dst);
				ret = rte_acl_add_rules(spd->acl4, (struct rte_acl_rule *)&a, 1);
			} else {
				struct acl6_rule a;

				memset(&a, 0, sizeof(a));
				a.data.category_mask = 1;
				a.data.priority = (int32_t)r->priority;
				a.data.userdata = userdata;
				set_prefix(&a.field[F6_SRC0], 4, &sp[i], ts_prefix_len(&sp[i]));
				set_prefix(&a.field[F6_DST0], 4, &dpf[j], ts_prefix_len(&dpf[j]));
				set_l4(&a.field[F6_PROTO], &a.field[F6_SPORT], &a.field[F6_DPORT],
				       &r->src, &r->dst);
				ret = rte_acl_add_rules(spd->acl6, (struct rte_acl_rule *)&a, 1);
			}
			if (ret != 0) {
				snprintf(err, err_len, "rte_acl_add_rules: %d", ret);
				return -1;
			}
		}
	}
	return 0;
}

static unsigned count_family(const struct dp_spd_rule *rules, unsigned n, uint8_t family)
{
	unsigned i, c = 0;
	size_t ns, nd;
	struct ts tmp[TS_PREFIXES_MAX];

	for (i = 0; i < n; i++) {
		if (rules[i].src.family != family)
			continue;
		if (ts_to_prefixes(&rules[i].src, tmp, TS_PREFIXES_MAX, &ns) != TS_OK ||
		    ts_to_prefixes(&rules[i].dst, tmp, TS_PREFIXES_MAX, &nd) != TS_OK)
			return UINT32_MAX;
		c += (unsigned)(ns * nd);
	}
	return c;
}

struct dp_spd *dp_spd_build(const struct dp_spd_rule *rules, unsigned n, char *err, size_t err_len)
{
	struct rte_acl_field_def d4[F4_NUM], d6[F6_NUM];
	struct rte_acl_config cfg;
	struct dp_spd *spd;
	unsigned n4, n6, i;

	n4 = count_family(rules, n, TS_IPV4);
	n6 = count_family(rules, n, TS_IPV6);
	if (n4 == UINT32_MAX || n6 == UINT32_MAX) {
		snprintf(err, err_len, "policy selector cannot be split into prefixes");
		return NULL;
	}
	spd = rte_zmalloc("dp_spd", sizeof(*spd) + n * sizeof(spd->actions[0]), 0);
	if (spd == NULL) {
		snprintf(err, err_len, "out of memory for the SPD");
		return NULL;
	}
	spd->n_actions = n;
	if (n4 > 0 && (spd->acl4 = acl_new(4, n4)) == NULL)
		goto nomem;
	if (n6 > 0 && (spd->acl6 = acl_new(6, n6)) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		spd->actions[i] = (struct dp_spd_action){ .type = rules[i].action,
			                                  .owner = rules[i].owner,
			                                  .sa_id = rules[i].sa_id };
		/* userdata 0 means "no match" to rte_acl: store index + 1. */
		if (add_rule(spd, &rules[i], i + 1, err, err_len) != 0)
			goto fail;
	}
	defs4(d4);
	defs6(d6);
	memset(&cfg, 0, sizeof(cfg));
	cfg.num_categories = 1;
	if (spd->acl4 != NULL) {
		cfg.num_fields = F4_NUM;
		memcpy(cfg.defs, d4, sizeof(d4));
		if (rte_acl_build(spd->acl4, &cfg) != 0) {
			snprintf(err, err_len, "rte_acl_build (IPv4) failed");
			goto fail;
		}
	}
	if (spd->acl6 != NULL) {
		cfg.num_fields = F6_NUM;
		memcpy(cfg.defs, d6, sizeof(d6));
		if (rte_acl_build(spd->acl6, &cfg) != 0) {
			snprintf(err, err_len, "rte_acl_build (IPv6) failed");
			goto fail;
		}
	}
	return spd;
nomem:
	snprintf(err, err_len, "rte_acl_create failed");
fail:
	dp_spd_free(spd);
	return NULL;
}

void dp_spd_free(struct dp_spd *spd)
{
	if (spd == NULL)
		return;
	rte_acl_free(spd->acl4);
	rte_acl_free(spd->acl6);
	rte_free(spd);
}

/* Ports of TCP/UDP/SCTP (first fragment only); 0 otherwise, as ts.h reads OPAQUE. */
static void l4_ports(const uint8_t *l4, uint32_t left, uint8_t proto, uint8_t *sp, uint8_t *dpt)
{
	memset(sp, 0, 2);
	memset(dpt, 0, 2);
	if ((proto == 6 || proto == 17 || proto == 132) && left >= 4) {
		memcpy(sp, l4, 2);
		memcpy(dpt, l4 + 2, 2);
	} else if ((proto == 1 || proto == 58) && left >= 2) {
		/* ICMP type/code in both ports, as IKEv2 encodes ICMP selectors. */
		memcpy(sp, l4, 2);
		memcpy(dpt, l4, 2);
	}
}

static bool has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132;
}

void dp_spd_lookup(const struct dp_spd *spd, int family, struct rte_mbuf *const *m, unsigned n,
                   const struct dp_spd_action **act)
{
	struct key4 k4[DP_MAX_BURST];
	struct key6 k6[DP_MAX_BURST];
	const uint8_t *data[DP_MAX_BURST];
	uint32_t res[DP_MAX_BURST];
	unsigned i;

	for (i = 0; i < n; i++)
		act[i] = NULL;
	if (spd == NULL || n == 0 || n > DP_MAX_BURST)
		return;
	if (family == 4 && spd->acl4 == NULL)
		return;
	if (family == 6 && spd->acl6 == NULL)
		return;
	for (i = 0; i < n; i++) {
		const uint8_t *p = rte_pktmbuf_mtod(m[i], const uint8_t *);
		uint32_t len = rte_pktmbuf_data_len(m[i]);

		/* The caller checked the IP header; the L4 header may be short. */
		if (family == 4) {
			uint32_t ihl = (uint32_t)(p[0] & 0xf) * 4;
			bool first = ((((uint16_t)p[6] << 8) | p[7]) & 0x1fff) == 0;

			if (likely(ihl == 20 && first && has_ports(p[9]) && len >= 24)) {
				data[i] = p + 9;
				continue;
			}
			k4[i].proto = p[9];
			memcpy(k4[i].src, p + 12, 4);
			memcpy(k4[i].dst, p + 16, 4);
			/* A later fragment has no ports: 0. */
			l4_ports(p + ihl, first ? len - ihl : 0, p[9], k4[i].sport, k4[i].dport);
			data[i] = &k4[i].proto;
		} else {
			if (likely(has_ports(p[6]) && len >= 44)) {
				data[i] = p + 6;
				continue;
			}
			k6[i].proto = p[6];
			memcpy(k6[i].src, p + 8, 16);
			memcpy(k6[i].dst, p + 24, 16);
			l4_ports(p + 40, len - 40, p[6], k6[i].sport, k6[i].dport);
			data[i] = &k6[i].proto;
		}
	}
	if (rte_acl_classify(family == 4 ? spd->acl4 : spd->acl6, data, res, n, 1) != 0)
		return;
	for (i = 0; i < n; i++)
		if (res[i] != 0 && res[i] <= spd->n_actions)
			act[i] = &spd->actions[res[i] - 1];
}
