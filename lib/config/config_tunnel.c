/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Resolving tunnels: connections (IKE and IPsec proposals, identities,
 * PSKs) and static SAs (manual keys). Algorithm names go through the crypto
 * catalogue, so the allowed values in a message are the ones the code
 * implements, filtered by what the protocol version can carry.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_resolve.h"
#include "crypto_mem.h"
#include "esp_replay.h"

#define LIFETIME_DEFAULT     86400
#define LIFETIME_MIN         60
#define LIFETIME_MAX         604800 /* a week */
#define LIFETIME_BYTES_MIN   16384
#define CONFIG_KEY_ID_PREFIX "keyid:"
#define LIFETIME_PACKETS_MIN 16

enum alg_use {
	USE_IKE, /* IKE SA: ENCR, PRF, DH */
	USE_ESP, /* child/static SA: ENCR, INTEG, DH (PFS) */
};

/* version: CONFIG_IKEV1, CONFIG_IKEV2, or 0 for static SAs (no negotiation). */
static bool alg_usable(const struct crypto_alg *a, enum alg_use use, int version)
{
	if (use == USE_IKE) {
		if (a->id == CRYPTO_ENCR_NULL) /* RFC 7296 3.3.2: not for IKE */
			return false;
		return version != CONFIG_IKEV1 || a->ikev1_ike != 0;
	}
	if (version == CONFIG_IKEV1 && a->kind != CRYPTO_DH && a->id != CRYPTO_INTEG_NONE)
		return a->ikev1_esp != 0;
	return true;
}

static void allowed_algs(enum crypto_kind kind, enum alg_use use, int version, bool with_none,
                         char *buf, size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < CRYPTO_ALG_COUNT; i++) {
		const struct crypto_alg *a = crypto_alg(i);
		int n;

		if (a->kind != kind || !alg_usable(a, use, version) ||
		    (!with_none && a->id == CRYPTO_INTEG_NONE))
			continue;
		n = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", a->name);
		if (n < 0 || (size_t)n >= cap - used)
			break;
		used += (size_t)n;
	}
}

/* The path of entry idx: "x[idx]" when the value is a list, else "x". */
static const char *alg_item(const struct rctx *r, const char *path, uint32_t idx, char *buf)
{
	const struct config_node *nd = config_node_get(&r->nodes, path);

	if (nd != NULL && nd->kind == CONFIG_NODE_LIST)
		rc_pathf(buf, "%s[%u]", path, idx);
	else
		rc_pathf(buf, "%s", path);
	return buf;
}

/* A name or a list of names at path (a proposal list); absent: def. */
static int rc_algs(struct rctx *r, const char *path, enum crypto_kind kind, enum alg_use use,
                   int version, const char *def, struct config_algs *out)
{
	const struct config_node *nd = config_node_get(&r->nodes, path);
	uint32_t n = nd != NULL && nd->kind == CONFIG_NODE_LIST ? nd->count : 1;
	char item[RC_PATH_MAX], allowed[256];

	if (n == 0)
		return rc_fail(r, path, "empty list; give at least one name");
	if (n > CONFIG_PROPOSALS_MAX)
		return rc_fail(r, path, "%u entries; at most %d", n, CONFIG_PROPOSALS_MAX);
	for (uint32_t i = 0; i < n; i++) {
		const char *name = def;
		const struct crypto_alg *a;

		alg_item(r, path, i, item);
		if (nd != NULL) {
			const struct config_node *it = config_node_get(&r->nodes, item);

			name = it && it->value ? it->value : "";
		}
		a = crypto_alg_by_name(kind, name);
		if (a == NULL || !alg_usable(a, use, version)) {
			bool v1_only = a != NULL && alg_usable(a, use, CONFIG_IKEV2);

			allowed_algs(kind, use, version, true, allowed, sizeof(allowed));
			return rc_fail(r, item, "\"%.64s\" is not allowed%s; allowed: %s", name,
			               v1_only ? " with ikev1" : "", allowed);
		}
		for (uint32_t j = 0; j < i; j++)
			if (out->ids[j] == a->id)
				return rc_fail(r, item, "\"%s\" is listed twice", name);
		out->ids[i] = a->id;
	}
	out->n = n;
	return 0;
}

static bool all_aead(const struct config_algs *enc, bool *any)
{
	bool all = true;

	*any = false;
	for (uint32_t i = 0; i < enc->n; i++) {
		bool aead = crypto_alg(enc->ids[i])->aead;

		all &= aead;
		*any |= aead;
	}
	return all;
}

static bool hostname_ok(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > 253)
		return false;
	for (; *s; s++) {
		if (*s == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_",
		           *s) == NULL ||
		    ++label > 63)
			return false;
	}
	return label > 0;
}

/* "keyid:TEXT" (the bytes of TEXT) or "keyid:0xHEX" (those bytes): a KEY_ID identity. */
static int rc_key_id(struct rctx *r, const char *path, const char *s, struct config_id *id)
{
	const char *v = s + strlen(CONFIG_KEY_ID_PREFIX);
	size_t n = strlen(v);

	id->type = CONFIG_ID_KEY_ID;
	if (n == 0)
		return rc_fail(r, path, "empty key id; allowed: keyid:TEXT or keyid:0xHEX");
	if (n > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		size_t len = 0;

		if (!config_parse_hex(v, id->key_id, sizeof(id->key_id), &len, r->why,
		                      sizeof(r->why)))
			return rc_fail(r, path, "key id: %s", r->why);
		id->key_id_len = (uint8_t)len;
		return 0;
	}
	if (n > sizeof(id->key_id))
		return rc_fail(r, path, "key id longer than %zu bytes", sizeof(id->key_id));
	memcpy(id->key_id, v, n);
	id->key_id_len = (uint8_t)n;
	return 0;
}

/* IP, FQDN, user@FQDN or keyid:...; absent: the address def, as an IP identity. */
static int rc_id(struct rctx *r, const char *path, const char *s, const struct config_addr *def,
                 struct config_id *id)
{
	const char *at;

	if (s == NULL) {
		id->addr = *def;
		id->type = def->family == AF_INET ? CONFIG_ID_IPV4 : CONFIG_ID_IPV6;
		config_addr_str(def, id->value, sizeof(id->value));
		return 0;
	}
	if (strlen(s) >= sizeof(id->value))
		return rc_fail(r, path, "longer than %zu characters", sizeof(id->value) - 1);
	snprintf(id->value, sizeof(id->value), "%s", s);
	if (strncmp(s, CONFIG_KEY_ID_PREFIX, strlen(CONFIG_KEY_ID_PREFIX)) == 0)
		return rc_key_id(r, path, s, id);
	if (config_parse_addr(s, &id->addr, r->why, sizeof(r->why))) {
		id->type = id->addr.family == AF_INET ? CONFIG_ID_IPV4 : CONFIG_ID_IPV6;
		return 0;
	}
	at = strchr(s, '@');
	if (at == NULL && hostname_ok(s)) {
		id->type = CONFIG_ID_FQDN;
		return 0;
	}
	if (at != NULL && at != s && hostname_ok(at + 1)) {
		id->type = CONFIG_ID_USER_FQDN;
		return 0;
	}
	return rc_fail(r, path, "\"%.80s\" is not an IP address, FQDN, user@FQDN or keyid:...", s);
}

static int read_psk_file(struct rctx *r, const char *path, const char *file, struct config_psk *psk)
{
	uint8_t buf[CONFIG_PSK_MAX + 3];
	char full[PATH_MAX];
	size_t got = 0;
	struct stat st;
	int fd, n, rc = -1;

	if (file[0] == '/')
		n = snprintf(full, sizeof(full), "%s", file);
	else
		n = snprintf(full, sizeof(full), "%s/%s", r->dir, file);
	if (file[0] == '\0' || n < 0 || (size_t)n >= sizeof(full))
		return rc_fail(r, path, "\"%.80s\" is not a usable path", file);
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rc_fail(r, path, "%s: %s", full, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc_fail(r, path, "%s: not a regular file", full);
		goto out;
	}
	while (got < sizeof(buf)) {
		ssize_t k = read(fd, buf + got, sizeof(buf) - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			rc_fail(r, path, "%s: %s", full, strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	/* Editors end files with a newline; it is not part of the key. */
	if (got > 0 && buf[got - 1] == '\n')
		got--;
	if (got > 0 && buf[got - 1] == '\r')
		got--;
	if (got == 0 || got > CONFIG_PSK_MAX) {
		rc_fail(r, path, "%s: the key must be 1..%d bytes", full, CONFIG_PSK_MAX);
		goto out;
	}
	memcpy(psk->bytes, buf, got);
	psk->len = got;
	rc = 0;
out:
	crypto_wipe(buf, sizeof(buf));
	close(fd);
	return rc;
}

static int rc_psk(struct rctx *r, const char *base, const struct raw_connection *rc,
                  struct config_psk *psk)
{
	char p[RC_PATH_MAX];
	size_t n;

	if (rc->psk != NULL && rc->psk_file != NULL)
		return rc_fail(r, rc_path(p, base, "psk_file"),
		               "psk and psk_file are both set; keep one");
	if (rc->psk == NULL && rc->psk_file == NULL)
		return rc_fail(r, base, "missing psk or psk_file (one of them is required)");
	if (rc->psk_file != NULL)
		return read_psk_file(r, rc_path(p, base, "psk_file"), rc->psk_file, psk);
	n = strlen(rc->psk);
	if (n == 0 || n > CONFIG_PSK_MAX)
		return rc_fail(r, rc_path(p, base, "psk"), "must be 1..%d bytes", CONFIG_PSK_MAX);
	memcpy(psk->bytes, rc->psk, n);
	psk->len = n;
	return 0;
}

static int rc_ike(struct rctx *r, const char *base, const struct raw_ike *ri,
                  struct config_connection *c)
{
	static const char *const versions[] = { "ikev1", "ikev2" };
	static const char *const modes[] = { "main", "aggressive" };
	static const struct raw_ike none;
	const struct config *cfg = r->cfg;
	struct config_ike *ike = &c->ike;
	char ib[RC_PATH_MAX], p[RC_PATH_MAX];
	unsigned v, mode;
	bool any_aead;

	rc_pathf(ib, "%s.ike", base);
	ri = ri ? ri : &none;
	if (rc_enum(r, ib, "version", ri->version, versions, 2, 0, &v) < 0 ||
	    rc_enum(r, ib, "mode", ri->mode, modes, 2, 0, &mode) < 0)
		return -1;
	ike->version = v == 0 ? CONFIG_IKEV1 : CONFIG_IKEV2;
	ike->mode = (enum config_ike_mode)mode;
	if (ike->version == CONFIG_IKEV2 && ike->mode == CONFIG_IKE_AGGRESSIVE)
		return rc_fail(r, rc_path(p, ib, "mode"),
		               "\"aggressive\" is not allowed with ikev2; allowed: main (or leave "
		               "mode out)");
	if (rc_algs(r, rc_path(p, ib, "encryption"), CRYPTO_ENCR, USE_IKE, (int)ike->version, "aes",
	            &ike->encryption) < 0 ||
	    rc_algs(r, rc_path(p, ib, "integrity"), CRYPTO_PRF, USE_IKE, (int)ike->version, "sha1",
	            &ike->prf) < 0 ||
	    rc_algs(r, rc_path(p, ib, "dh_group"), CRYPTO_DH, USE_IKE, (int)ike->version, "group2",
	            &ike->dh) < 0)
		return -1;
	/* AEAD ciphers take the integrity names as PRFs only; others as INTEG too. */
	if (!all_aead(&ike->encryption, &any_aead)) {
		for (uint32_t i = 0; i < ike->prf.n; i++)
			ike->integrity.ids[i] =
			        crypto_alg_by_name(CRYPTO_INTEG, crypto_alg(ike->prf.ids[i])->name)
			                ->id;
		ike->integrity.n = ike->prf.n;
	}
	if (rc_u32(r, ib, "lifetime", ri->lifetime, LIFETIME_DEFAULT, LIFETIME_MIN, LIFETIME_MAX,
	           &ike->lifetime) < 0)
		return -1;
	return rc_id(r, rc_path(p, ib, "local_id"), ri->local_id,
	             &cfg->gateway.ports[cfg->gateway.public_port].address.addr,
	             &ike->local_id) < 0 ||
	                       rc_id(r, rc_path(p, ib, "remote_id"), ri->remote_id,
	                             &cfg->customer_gateways[c->customer_gateway].address,
	                             &ike->remote_id) < 0
	               ? -1
	               : 0;
}

static int rc_u64(struct rctx *r, const char *base, const char *key, const char *s, uint64_t max,
                  uint64_t *v)
{
	char p[RC_PATH_MAX];

	*v = 0;
	if (s != NULL && !config_parse_u64(s, 0, max, v, r->why, sizeof(r->why)))
		return rc_fail(r, rc_path(p, base, key), "%s (0: no limit)", r->why);
	return 0;
}

static int rc_ipsec(struct rctx *r, const char *base, const struct raw_ipsec *ri,
                    struct config_connection *c)
{
	static const struct raw_ipsec none;
	struct config_ipsec *ipsec = &c->ipsec;
	int version = (int)c->ike.version;
	char ib[RC_PATH_MAX], p[RC_PATH_MAX], item[RC_PATH_MAX], allowed[256];
	const struct crypto_alg *first;
	bool all, any, has_none = false;

	rc_pathf(ib, "%s.ipsec", base);
	ri = ri ? ri : &none;
	if (rc_algs(r, rc_path(p, ib, "encryption"), CRYPTO_ENCR, USE_ESP, version, "aes",
	            &ipsec->encryption) < 0)
		return -1;
	all = all_aead(&ipsec->encryption, &any);
	first = crypto_alg(ipsec->encryption.ids[0]);
	rc_path(p, ib, "integrity");
	if (rc_algs(r, p, CRYPTO_INTEG, USE_ESP, version, all ? "none" : "sha1",
	            &ipsec->integrity) < 0)
		return -1;
	for (uint32_t i = 0; i < ipsec->integrity.n; i++) {
		const struct crypto_alg *a = crypto_alg(ipsec->integrity.ids[i]);

		has_none |= a->id == CRYPTO_INTEG_NONE;
		if (all && a->id != CRYPTO_INTEG_NONE)
			return rc_fail(
			        r, alg_item(r, p, i, item),
			        "\"%s\" is not allowed with %s (an AEAD cipher authenticates "
			        "itself); allowed: none (or leave integrity out)",
			        a->name, first->name);
	}
	if (!all && has_none) {
		for (uint32_t i = 0; i < ipsec->encryption.n; i++)
			if (!crypto_alg(ipsec->encryption.ids[i])->aead)
				first = crypto_alg(ipsec->encryption.ids[i]);
		allowed_algs(CRYPTO_INTEG, USE_ESP, version, false, allowed, sizeof(allowed));
		return rc_fail(r, p,
		               "\"none\" is not allowed with %s, which does not authenticate; "
		               "allowed: %s",
		               first->name, allowed);
	}
	rc_path(p, ib, "pfs");
	ipsec->pfs = true;
	if (ri->pfs != NULL && strcmp(ri->pfs, "disabled") == 0) {
		ipsec->pfs = false;
	} else {
		const struct crypto_alg *g =
		        crypto_alg_by_name(CRYPTO_DH, ri->pfs ? ri->pfs : "group2");

		if (g == NULL) {
			allowed_algs(CRYPTO_DH, USE_ESP, version, true, allowed, sizeof(allowed));
			return rc_fail(r, p, "\"%.64s\" is not allowed; allowed: disabled, %s",
			               ri->pfs, allowed);
		}
		ipsec->pfs_group = g->id;
	}
	if (rc_u32(r, ib, "lifetime", ri->lifetime, LIFETIME_DEFAULT, LIFETIME_MIN, LIFETIME_MAX,
	           &ipsec->lifetime) < 0 ||
	    rc_u64(r, ib, "lifetime_bytes", ri->lifetime_bytes, UINT64_MAX,
	           &ipsec->lifetime_bytes) < 0 ||
	    rc_u64(r, ib, "lifetime_packets", ri->lifetime_packets, UINT64_MAX,
	           &ipsec->lifetime_packets) < 0)
		return -1;
	/* Below a few packets' worth a child would be rekeyed continuously. */
	if (ipsec->lifetime_bytes != 0 && ipsec->lifetime_bytes < LIFETIME_BYTES_MIN)
		return rc_fail(r, rc_path(p, ib, "lifetime_bytes"),
		               "%" PRIu64 " is too small; allowed: 0 (no limit) or %u..%" PRIu64,
		               ipsec->lifetime_bytes, LIFETIME_BYTES_MIN, UINT64_MAX);
	if (ipsec->lifetime_packets != 0 && ipsec->lifetime_packets < LIFETIME_PACKETS_MIN)
		return rc_fail(r, rc_path(p, ib, "lifetime_packets"),
		               "%" PRIu64 " is too small; allowed: 0 (no limit) or %u..%" PRIu64,
		               ipsec->lifetime_packets, LIFETIME_PACKETS_MIN, UINT64_MAX);
	return 0;
}

int rc_connection(struct rctx *r, const struct raw_connection *rc, uint32_t i,
                  struct config_connection *c, struct config_psk *psk)
{
	char base[RC_PATH_MAX], p[RC_PATH_MAX];

	rc_pathf(base, "connections[%u]", i);
	if (rc_name(r, base, rc->name, c->name) < 0 ||
	    rc_customer_gateway(r, rc_path(p, base, "customer_gateway"), rc->customer_gateway,
	                        &c->customer_gateway) < 0 ||
	    rc_subnets(r, base, "local_subnets", rc->local_subnets, rc->local_subnets_count,
	               &c->local_subnets, &c->n_local_subnets) < 0 ||
	    rc_subnets(r, base, "remote_subnets", rc->remote_subnets, rc->remote_subnets_count,
	               &c->remote_subnets, &c->n_remote_subnets) < 0 ||
	    rc_bool(r, base, "effect_immediately", rc->effect_immediately, false,
	            &c->effect_immediately) < 0 ||
	    rc_bool(r, base, "dpd", rc->dpd, true, &c->dpd) < 0 ||
	    rc_bool(r, base, "nat_traversal", rc->nat_traversal, true, &c->nat_traversal) < 0 ||
	    rc_psk(r, base, rc, psk) < 0)
		return -1;
	c->psk = psk;
	if (rc_ike(r, base, rc->ike, c) < 0 || rc_ipsec(r, base, rc->ipsec, c) < 0)
		return -1;
	return 0;
}

static int rc_key(struct rctx *r, const char *path, const char *hex, const struct crypto_alg *a,
                  uint8_t *out)
{
	size_t len;

	if (!config_parse_hex(hex, out, CONFIG_KEY_MAX, &len, r->why, sizeof(r->why)))
		return rc_fail(r, path, "%s", r->why);
	if (len == a->key_len)
		return 0;
	if (a->salt_len != 0)
		return rc_fail(r, path, "%zu bytes; %s needs %u (%u-byte key then %u-byte salt)",
		               len, a->name, a->key_len, a->key_len - a->salt_len, a->salt_len);
	return rc_fail(r, path, "%zu bytes; %s needs %u", len, a->name, a->key_len);
}

static int rc_sa_dir(struct rctx *r, const char *base, const char *dir, const struct raw_sa_dir *rd,
                     const struct crypto_alg *enc, const struct crypto_alg *integ, bool esn,
                     uint8_t *keys, struct config_sa_dir *d)
{
	char db[RC_PATH_MAX], p[RC_PATH_MAX];

	rc_pathf(db, "%s.%s", base, dir);
	if (!config_parse_spi(rd->spi, &d->spi, r->why, sizeof(r->why)))
		return rc_fail(r, rc_path(p, db, "spi"), "%s", r->why);
	if (rc_key(r, rc_path(p, db, "enc_key"), rd->enc_key, enc, keys) < 0)
		return -1;
	d->enc_key = keys;
	if (rd->initial_seq != NULL &&
	    !config_parse_u64(rd->initial_seq, 0, esn ? UINT64_MAX : UINT32_MAX, &d->initial_seq,
	                      r->why, sizeof(r->why)))
		return rc_fail(r, rc_path(p, db, "initial_seq"), "%s%s", r->why,
		               esn ? "" : " (64-bit with esn: true)");
	if (integ->id == CRYPTO_INTEG_NONE) {
		if (rd->auth_key != NULL && rd->auth_key[0] != '\0')
			return rc_fail(r, rc_path(p, db, "auth_key"),
			               "not allowed with integrity none; leave it out");
		return 0;
	}
	if (rd->auth_key == NULL)
		return rc_fail(r, db, "missing auth_key; %s needs %u bytes", integ->name,
		               integ->key_len);
	if (rc_key(r, rc_path(p, db, "auth_key"), rd->auth_key, integ, keys + CONFIG_KEY_MAX) < 0)
		return -1;
	d->auth_key = keys + CONFIG_KEY_MAX;
	return 0;
}

static int rc_lifetime(struct rctx *r, const char *base, const struct raw_lifetime *rl,
                       struct config_lifetime *l)
{
	char lb[RC_PATH_MAX];

	memset(l, 0, sizeof(*l));
	if (rl == NULL)
		return 0;
	rc_pathf(lb, "%s.lifetime", base);
	if (rc_u64(r, lb, "seconds", rl->seconds, CONFIG_LIFETIME_SECONDS_MAX, &l->seconds) < 0 ||
	    rc_u64(r, lb, "bytes", rl->bytes, UINT64_MAX, &l->bytes) < 0 ||
	    rc_u64(r, lb, "packets", rl->packets, UINT64_MAX, &l->packets) < 0)
		return -1;
	return 0;
}

static int rc_integ_needed(struct rctx *r, const char *path, bool given,
                           const struct crypto_alg *enc, const char *allowed)
{
	if (!given)
		return rc_fail(r, path, "missing; %s does not authenticate; allowed: %s", enc->name,
		               allowed);
	return rc_fail(r, path,
	               "\"none\" is not allowed with %s, which does not authenticate; "
	               "allowed: %s",
	               enc->name, allowed);
}

int rc_static_sa(struct rctx *r, const struct raw_static_sa *rs, uint32_t i,
                 struct config_static_sa *sa, uint8_t *keys)
{
	char base[RC_PATH_MAX], p[RC_PATH_MAX], allowed[256];
	const struct crypto_alg *enc, *integ;

	rc_pathf(base, "static_sas[%u]", i);
	if (rc_name(r, base, rs->name, sa->name) < 0 ||
	    rc_addr(r, rc_path(p, base, "peer"), rs->peer, &sa->peer) < 0 ||
	    rc_subnets(r, base, "local_subnets", rs->local_subnets, rs->local_subnets_count,
	               &sa->local_subnets, &sa->n_local_subnets) < 0 ||
	    rc_subnets(r, base, "remote_subnets", rs->remote_subnets, rs->remote_subnets_count,
	               &sa->remote_subnets, &sa->n_remote_subnets) < 0)
		return -1;
	enc = crypto_alg_by_name(CRYPTO_ENCR, rs->encryption);
	if (enc == NULL) {
		allowed_algs(CRYPTO_ENCR, USE_ESP, 0, true, allowed, sizeof(allowed));
		return rc_fail(r, rc_path(p, base, "encryption"),
		               "\"%.64s\" is not allowed; allowed: %s", rs->encryption, allowed);
	}
	rc_path(p, base, "integrity");
	allowed_algs(CRYPTO_INTEG, USE_ESP, 0, enc->aead, allowed, sizeof(allowed));
	if (enc->aead)
		snprintf(allowed, sizeof(allowed), "none (or leave integrity out)");
	integ = crypto_alg_by_name(CRYPTO_INTEG, rs->integrity ? rs->integrity : "none");
	if (integ == NULL)
		return rc_fail(r, p, "\"%.64s\" is not allowed; allowed: %s", rs->integrity,
		               allowed);
	if (enc->aead && integ->id != CRYPTO_INTEG_NONE)
		return rc_fail(
		        r, p,
		        "\"%s\" is not allowed with %s (an AEAD cipher authenticates itself); "
		        "allowed: %s",
		        integ->name, enc->name, allowed);
	if (!enc->aead && integ->id == CRYPTO_INTEG_NONE)
		return rc_integ_needed(r, p, rs->integrity != NULL, enc, allowed);
	sa->encryption = enc->id;
	sa->integrity = integ->id;
	if (rc_bool(r, base, "udp_encap", rs->udp_encap, false, &sa->udp_encap) < 0 ||
	    rc_bool(r, base, "esn", rs->esn, false, &sa->esn) < 0)
		return -1;
	if (!config_parse_u32(rs->replay_window ? rs->replay_window : "64", 0, ESP_REPLAY_MAX,
	                      &sa->replay_window, r->why, sizeof(r->why)) ||
	    (sa->replay_window != 0 && sa->replay_window < ESP_REPLAY_MIN))
		return rc_fail(r, rc_path(p, base, "replay_window"),
		               "\"%.40s\" is not allowed; allowed: 0 (off) or %d..%d",
		               rs->replay_window, ESP_REPLAY_MIN, ESP_REPLAY_MAX);
	if (rc_lifetime(r, base, rs->lifetime, &sa->lifetime) < 0 ||
	    rc_sa_dir(r, base, "out", rs->out, enc, integ, sa->esn, keys, &sa->out) < 0 ||
	    rc_sa_dir(r, base, "in", rs->in, enc, integ, sa->esn, keys + 2 * CONFIG_KEY_MAX,
	              &sa->in) < 0)
		return -1;
	return 0;
}

struct spi_ref {
	uint32_t spi;
	uint32_t idx;
};

static int spi_ref_cmp(const void *a, const void *b)
{
	const struct spi_ref *x = a, *y = b;

	if (x->spi != y->spi)
		return x->spi < y->spi ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

int rc_check_spis(struct rctx *r)
{
	const struct config *cfg = r->cfg;
	uint32_t n = cfg->n_static_sas;
	struct spi_ref *v;
	char p[RC_PATH_MAX];
	int rc = 0;

	if (n < 2)
		return 0;
	v = calloc(n, sizeof(*v));
	if (v == NULL)
		return rc_fail(r, "static_sas", "out of memory");
	for (uint32_t i = 0; i < n; i++)
		v[i] = (struct spi_ref){ cfg->static_sas[i].in.spi, i };
	qsort(v, n, sizeof(*v), spi_ref_cmp);
	for (uint32_t i = 1; i < n && rc == 0; i++) {
		if (v[i - 1].spi != v[i].spi)
			continue;
		rc_pathf(p, "static_sas[%u].in.spi", v[i].idx);
		rc = rc_fail(r, p, "0x%x is already the inbound SPI of static_sas[%u]", v[i].spi,
		             v[i - 1].idx);
	}
	free(v);
	return rc;
}
