/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loading: DESIGN.md's example resolves field by field, defaults
 * apply, static SAs decode their keys, and every bad file is refused with
 * the file, line, key path and allowed values in the message.
 */
#include "unit/testutil.h"

#include <arpa/inet.h>
#include <limits.h>
#include <unistd.h>

#include "compiler.h"
#include "config.h"

#define GCM_KEY_OUT "00112233445566778899aabbccddeeff01020304"
#define GCM_KEY_IN  "ffeeddccbbaa99887766554433221100a1a2a3a4"

/* DESIGN.md's two examples in one file; the comments say the line numbers. */
static const char full_example[] =
        "gateway:\n"                                                  /* 1 */
        "  name: gw-hz\n"                                             /* 2 */
        "  max_connections: 10          # refuse more\n"              /* 3 */
        "  bandwidth_mbps: 1000\n"                                    /* 4 */
        "  workers: auto\n"                                           /* 5 */
        "  poll_mode: busy\n"                                         /* 6 */
        "  ports:\n"                                                  /* 7 */
        "    - name: wan\n"                                           /* 8 */
        "      device: \"0000:3b:00.0\"\n"                            /* 9 */
        "      role: public\n"                                        /* 10 */
        "      address: 203.0.113.1/24\n"                             /* 11 */
        "      gateway: 203.0.113.254\n"                              /* 12 */
        "    - name: lan\n"                                           /* 13 */
        "      device: \"0000:3b:00.1\"\n"                            /* 14 */
        "      role: private\n"                                       /* 15 */
        "      address: 10.0.0.1/24\n"                                /* 16 */
        "      routes: [{to: 10.0.0.0/8, via: 10.0.0.254}]\n"         /* 17 */
        "  control_socket: /run/vpngw/vpngw.sock\n"                   /* 18 */
        "  metrics_listen: 127.0.0.1:9469\n"                          /* 19 */
        "customer_gateways:\n"                                        /* 20 */
        "  - {name: idc-bj, address: 198.51.100.7}\n"                 /* 21 */
        "connections:\n"                                              /* 22 */
        "  - name: idc-bj-1\n"                                        /* 23 */
        "    customer_gateway: idc-bj\n"                              /* 24 */
        "    local_subnets: [10.0.0.0/16]\n"                          /* 25 */
        "    remote_subnets: [192.168.0.0/24, 192.168.1.0/24]\n"      /* 26 */
        "    effect_immediately: true   # true: initiate now\n"       /* 27 */
        "    psk: \"s3cret\"              # or psk_file:\n"           /* 28 */
        "    ike:\n"                                                  /* 29 */
        "      version: ikev1\n"                                      /* 30 */
        "      mode: main\n"                                          /* 31 */
        "      encryption: aes\n"                                     /* 32 */
        "      integrity: sha1\n"                                     /* 33 */
        "      dh_group: group2\n"                                    /* 34 */
        "      lifetime: 86400\n"                                     /* 35 */
        "      local_id: 203.0.113.1\n"                               /* 36 */
        "      remote_id: 198.51.100.7\n"                             /* 37 */
        "    ipsec:\n"                                                /* 38 */
        "      encryption: aes\n"                                     /* 39 */
        "      integrity: sha1\n"                                     /* 40 */
        "      pfs: group2\n"                                         /* 41 */
        "      lifetime: 86400\n"                                     /* 42 */
        "    dpd: true\n"                                             /* 43 */
        "    nat_traversal: true\n"                                   /* 44 */
        "static_sas:\n"                                               /* 45 */
        "  - name: lab-1\n"                                           /* 46 */
        "    peer: 198.51.100.7\n"                                    /* 47 */
        "    local_subnets: [10.0.0.0/16]\n"                          /* 48 */
        "    remote_subnets: [192.168.0.0/24]\n"                      /* 49 */
        "    encryption: aes-gcm-128\n"                               /* 50 */
        "    integrity: none\n"                                       /* 51 */
        "    udp_encap: false\n"                                      /* 52 */
        "    out: {spi: 0x1000, enc_key: \"" GCM_KEY_OUT "\"}\n"      /* 53 */
        "    in:  {spi: 0x2000, enc_key: \"" GCM_KEY_IN "\"}\n"       /* 54 */
        "  - name: lab-2\n"                                           /* 55 */
        "    peer: 2001:db8::7\n"                                     /* 56 */
        "    local_subnets: [fd00::/64]\n"                            /* 57 */
        "    remote_subnets: [fd01::/64, 10.9.0.0/16]\n"              /* 58 */
        "    encryption: aes\n"                                       /* 59 */
        "    integrity: sha1\n"                                       /* 60 */
        "    udp_encap: true\n"                                       /* 61 */
        "    replay_window: 1024\n"                                   /* 62 */
        "    esn: true\n"                                             /* 63 */
        "    out:\n"                                                  /* 64 */
        "      spi: 4096000\n"                                        /* 65 */
        "      enc_key: 0x000102030405060708090a0b0c0d0e0f\n"         /* 66 */
        "      auth_key: 0123456789abcdef0123456789abcdef01234567\n"  /* 67 */
        "    in:\n"                                                   /* 68 */
        "      spi: 0xc1000001\n"                                     /* 69 */
        "      enc_key: f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff\n"           /* 70 */
        "      auth_key: 89abcdef0123456789abcdef0123456789abcdef\n"; /* 71 */

/* A small valid file to build bad ones from: connections start on line 7. */
#define GW                                                                               \
	"gateway:\n"                                                             /* 1 */ \
	"  name: gw\n"                                                           /* 2 */ \
	"  ports:\n"                                                             /* 3 */ \
	"    - {name: wan, device: d0, role: public, address: 203.0.113.1/24}\n" /* 4 */ \
	"customer_gateways:\n"                                                   /* 5 */ \
	"  - {name: cg, address: 198.51.100.7}\n"                                /* 6 */
#define CONN                                              \
	"connections:\n"                         /* 7 */  \
	"  - name: c1\n"                         /* 8 */  \
	"    customer_gateway: cg\n"             /* 9 */  \
	"    local_subnets: [10.0.0.0/16]\n"     /* 10 */ \
	"    remote_subnets: [192.168.0.0/24]\n" /* 11 */ \
	"    psk: s3cret\n"                      /* 12 */
/* A public and a private port; bypass entries start on line 8. */
#define GW_LAN                                                                   \
	"gateway:\n"   /* 1 */                                                   \
	"  name: gw\n" /* 2 */                                                   \
	"  ports:\n"   /* 3 */                                                   \
	"    - {name: wan, device: d0, role: public, address: 203.0.113.1/24,\n" \
	"       gateway: 203.0.113.254}\n" /* 5 */                               \
	"    - {name: lan, device: d1, role: private, address: 10.0.0.1/24,\n"   \
	"       routes: [{to: 172.16.0.0/12, via: 10.0.0.254}]}\n" /* 7 */       \
	"  bypass:\n"                                              /* 8 */
#define PORTS "  ports: [{name: wan, device: d0, role: public, address: 203.0.113.1/24}]\n"
#define CONN_TAIL                                \
	"    local_subnets: [10.0.0.0/16]\n"     \
	"    remote_subnets: [192.168.0.0/24]\n" \
	"    psk: x\n"
#define SA_OUT "    out: {spi: 0x1000, enc_key: " GCM_KEY_OUT "}\n"
#define SA_IN  "    in: {spi: 0x2000, enc_key: " GCM_KEY_IN "}\n"
#define SA_HEAD(enc)                                      \
	"static_sas:\n"                          /* 7 */  \
	"  - name: s1\n"                         /* 8 */  \
	"    peer: 198.51.100.9\n"               /* 9 */  \
	"    local_subnets: [10.0.0.0/16]\n"     /* 10 */ \
	"    remote_subnets: [192.168.0.0/24]\n" /* 11 */ \
	"    encryption: " enc "\n"              /* 12 */

static struct config *load_ok(const char *yaml)
{
	char err[512];
	struct config *cfg = NULL;
	int rc = config_load_string(yaml, strlen(yaml), "config.yaml", &cfg, err, sizeof(err));

	ck_assert_msg(rc == 0, "load failed: %s", err);
	ck_assert_ptr_nonnull(cfg);
	return cfg;
}

static void ck_addr(const struct config_addr *a, const char *text)
{
	char buf[INET6_ADDRSTRLEN];

	ck_assert_ptr_nonnull(inet_ntop(a->family, a->u.bytes, buf, sizeof(buf)));
	ck_assert_str_eq(buf, text);
}

static void ck_prefix(const struct config_prefix *p, const char *text)
{
	char buf[64], addr[INET6_ADDRSTRLEN];

	inet_ntop(p->addr.family, p->addr.u.bytes, addr, sizeof(addr));
	snprintf(buf, sizeof(buf), "%s/%u", addr, p->len);
	ck_assert_str_eq(buf, text);
}

START_TEST(design_example_resolves_every_field)
{
	struct config *cfg = load_ok(full_example);
	const struct config_gateway *gw = &cfg->gateway;

	ck_assert_str_eq(gw->name, "gw-hz");
	ck_assert_uint_eq(gw->max_connections, 10);
	ck_assert_uint_eq(gw->bandwidth_mbps, 1000);
	ck_assert_int_eq(gw->workers, CONFIG_WORKERS_AUTO);
	ck_assert_int_eq(gw->poll_mode, CONFIG_POLL_BUSY);
	ck_assert_uint_eq(gw->n_ports, 2);
	ck_assert_str_eq(gw->ports[0].name, "wan");
	ck_assert_str_eq(gw->ports[0].device, "0000:3b:00.0");
	ck_assert_int_eq(gw->ports[0].role, CONFIG_PORT_PUBLIC);
	ck_prefix(&gw->ports[0].address, "203.0.113.1/24");
	ck_assert(gw->ports[0].has_gateway);
	ck_addr(&gw->ports[0].gateway, "203.0.113.254");
	ck_assert_uint_eq(gw->ports[0].mtu, 1500);
	ck_assert_uint_eq(gw->ports[0].n_routes, 0);
	ck_assert_str_eq(gw->ports[1].name, "lan");
	ck_assert_int_eq(gw->ports[1].role, CONFIG_PORT_PRIVATE);
	ck_assert(!gw->ports[1].has_gateway);
	ck_assert_uint_eq(gw->ports[1].n_routes, 1);
	ck_prefix(&gw->ports[1].routes[0].to, "10.0.0.0/8");
	ck_addr(&gw->ports[1].routes[0].via, "10.0.0.254");
	ck_assert_uint_eq(gw->public_port, 0);
	ck_assert_str_eq(gw->control_socket, "/run/vpngw/vpngw.sock");
	ck_addr(&gw->metrics_addr, "127.0.0.1");
	ck_assert_uint_eq(gw->metrics_port, 9469);
	ck_assert(gw->tcp_mss_clamp);
	ck_assert_uint_eq(gw->n_bypass, 0);

	ck_assert_uint_eq(cfg->n_customer_gateways, 1);
	ck_assert_str_eq(cfg->customer_gateways[0].name, "idc-bj");
	ck_addr(&cfg->customer_gateways[0].address, "198.51.100.7");

	ck_assert_uint_eq(cfg->n_connections, 1);
	const struct config_connection *c = &cfg->connections[0];

	ck_assert_str_eq(c->name, "idc-bj-1");
	ck_assert_uint_eq(c->customer_gateway, 0);
	ck_assert_uint_eq(c->n_local_subnets, 1);
	ck_prefix(&c->local_subnets[0], "10.0.0.0/16");
	ck_assert_uint_eq(c->n_remote_subnets, 2);
	ck_prefix(&c->remote_subnets[0], "192.168.0.0/24");
	ck_prefix(&c->remote_subnets[1], "192.168.1.0/24");
	ck_assert(c->effect_immediately && c->dpd && c->nat_traversal);
	ck_assert_uint_eq(c->psk->len, 6);
	ck_assert_mem_eq(c->psk->bytes, "s3cret", 6);
	ck_assert_int_eq(c->ike.version, CONFIG_IKEV1);
	ck_assert_int_eq(c->ike.mode, CONFIG_IKE_MAIN);
	ck_assert_uint_eq(c->ike.encryption.n, 1);
	ck_assert_int_eq(c->ike.encryption.ids[0], CRYPTO_ENCR_AES128_CBC);
	ck_assert_uint_eq(c->ike.prf.n, 1);
	ck_assert_int_eq(c->ike.prf.ids[0], CRYPTO_PRF_HMAC_SHA1);
	ck_assert_uint_eq(c->ike.integrity.n, 1);
	ck_assert_int_eq(c->ike.integrity.ids[0], CRYPTO_INTEG_HMAC_SHA1_96);
	ck_assert_uint_eq(c->ike.dh.n, 1);
	ck_assert_int_eq(c->ike.dh.ids[0], CRYPTO_DH_MODP1024);
	ck_assert_uint_eq(c->ike.lifetime, 86400);
	ck_assert_int_eq(c->ike.local_id.type, CONFIG_ID_IPV4);
	ck_addr(&c->ike.local_id.addr, "203.0.113.1");
	ck_assert_int_eq(c->ike.remote_id.type, CONFIG_ID_IPV4);
	ck_assert_str_eq(c->ike.remote_id.value, "198.51.100.7");
	ck_assert_uint_eq(c->ipsec.encryption.n, 1);
	ck_assert_int_eq(c->ipsec.encryption.ids[0], CRYPTO_ENCR_AES128_CBC);
	ck_assert_uint_eq(c->ipsec.integrity.n, 1);
	ck_assert_int_eq(c->ipsec.integrity.ids[0], CRYPTO_INTEG_HMAC_SHA1_96);
	ck_assert(c->ipsec.pfs);
	ck_assert_int_eq(c->ipsec.pfs_group, CRYPTO_DH_MODP1024);
	ck_assert_uint_eq(c->ipsec.lifetime, 86400);

	ck_assert_uint_eq(cfg->n_static_sas, 2);
	const struct config_static_sa *gcm = &cfg->static_sas[0], *cbc = &cfg->static_sas[1];

	/* AES-GCM: 20 bytes of enc_key, the last 4 the salt; no auth key. */
	ck_assert_str_eq(gcm->name, "lab-1");
	ck_addr(&gcm->peer, "198.51.100.7");
	ck_assert_int_eq(gcm->encryption, CRYPTO_ENCR_AES128_GCM16);
	ck_assert_int_eq(gcm->integrity, CRYPTO_INTEG_NONE);
	ck_assert(!gcm->udp_encap && !gcm->esn);
	ck_assert_uint_eq(gcm->replay_window, 64);
	ck_assert_uint_eq(gcm->out.spi, 0x1000);
	ck_assert_uint_eq(gcm->in.spi, 0x2000);
	ck_assert_mem_eq_hex(gcm->out.enc_key, GCM_KEY_OUT);
	ck_assert_mem_eq_hex(gcm->in.enc_key, GCM_KEY_IN);
	ck_assert_ptr_null(gcm->out.auth_key);
	ck_assert_ptr_null(gcm->in.auth_key);

	ck_assert_str_eq(cbc->name, "lab-2");
	ck_addr(&cbc->peer, "2001:db8::7");
	ck_prefix(&cbc->local_subnets[0], "fd00::/64");
	ck_assert_uint_eq(cbc->n_remote_subnets, 2);
	ck_prefix(&cbc->remote_subnets[1], "10.9.0.0/16");
	ck_assert_int_eq(cbc->encryption, CRYPTO_ENCR_AES128_CBC);
	ck_assert_int_eq(cbc->integrity, CRYPTO_INTEG_HMAC_SHA1_96);
	ck_assert(cbc->udp_encap && cbc->esn);
	ck_assert_uint_eq(cbc->replay_window, 1024);
	ck_assert_uint_eq(cbc->out.spi, 4096000);
	ck_assert_uint_eq(cbc->in.spi, 0xc1000001);
	ck_assert_mem_eq_hex(cbc->out.enc_key, "000102030405060708090a0b0c0d0e0f");
	ck_assert_mem_eq_hex(cbc->out.auth_key, "0123456789abcdef0123456789abcdef01234567");
	ck_assert_mem_eq_hex(cbc->in.enc_key, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
	ck_assert_mem_eq_hex(cbc->in.auth_key, "89abcdef0123456789abcdef0123456789abcdef");
	config_free(cfg);
}
END_TEST

START_TEST(defaults_apply)
{
	struct config *cfg = load_ok(GW CONN);
	const struct config_gateway *gw = &cfg->gateway;
	const struct config_connection *c = &cfg->connections[0];

	ck_assert_uint_eq(gw->max_connections, 10);
	ck_assert_uint_eq(gw->bandwidth_mbps, 0);
	ck_assert_int_eq(gw->workers, CONFIG_WORKERS_AUTO);
	ck_assert_int_eq(gw->poll_mode, CONFIG_POLL_BUSY);
	ck_assert_str_eq(gw->control_socket, "/run/vpngw/vpngw.sock");
	ck_addr(&gw->metrics_addr, "127.0.0.1");
	ck_assert_uint_eq(gw->metrics_port, 9469);
	ck_assert_uint_eq(gw->ports[0].mtu, 1500);
	ck_assert(gw->tcp_mss_clamp);
	ck_assert_uint_eq(gw->n_bypass, 0);
	ck_assert_ptr_null(gw->bypass);
	ck_assert(!c->effect_immediately);
	ck_assert(c->dpd && c->nat_traversal);
	ck_assert_int_eq(c->ike.version, CONFIG_IKEV1);
	ck_assert_int_eq(c->ike.mode, CONFIG_IKE_MAIN);
	ck_assert_int_eq(c->ike.encryption.ids[0], CRYPTO_ENCR_AES128_CBC);
	ck_assert_int_eq(c->ike.prf.ids[0], CRYPTO_PRF_HMAC_SHA1);
	ck_assert_int_eq(c->ike.dh.ids[0], CRYPTO_DH_MODP1024);
	ck_assert_uint_eq(c->ike.lifetime, 86400);
	/* local_id: our public address; remote_id: the customer gateway's. */
	ck_assert_int_eq(c->ike.local_id.type, CONFIG_ID_IPV4);
	ck_assert_str_eq(c->ike.local_id.value, "203.0.113.1");
	ck_assert_str_eq(c->ike.remote_id.value, "198.51.100.7");
	ck_assert_int_eq(c->ipsec.encryption.ids[0], CRYPTO_ENCR_AES128_CBC);
	ck_assert_int_eq(c->ipsec.integrity.ids[0], CRYPTO_INTEG_HMAC_SHA1_96);
	ck_assert(c->ipsec.pfs);
	ck_assert_int_eq(c->ipsec.pfs_group, CRYPTO_DH_MODP1024);
	ck_assert_uint_eq(c->ipsec.lifetime, 86400);
	ck_assert_uint_eq(c->ipsec.lifetime_bytes, 0);
	ck_assert_uint_eq(c->ipsec.lifetime_packets, 0);
	config_free(cfg);
}
END_TEST

START_TEST(identities_of_every_kind_and_volume_lifetimes)
{
	static const struct {
		const char *yaml;
		enum config_id_type type;
		const char *data; /* identification data; NULL: an address */
		size_t len;
	} ids[] = {
		{ "gw.example.com", CONFIG_ID_FQDN, NULL, 0 },
		{ "ops@example.com", CONFIG_ID_USER_FQDN, NULL, 0 },
		{ "\"2001:db8::7\"", CONFIG_ID_IPV6, NULL, 0 },
		{ "keyid:branch-17", CONFIG_ID_KEY_ID, "branch-17", 9 },
		{ "keyid:0x0a0B00ff", CONFIG_ID_KEY_ID, "\x0a\x0b\x00\xff", 4 },
	};
	char yaml[1024];

	for (unsigned i = 0; i < ARRAY_SIZE(ids); i++) {
		snprintf(yaml, sizeof(yaml),
		         GW CONN "    ike: {remote_id: %s}\n"
		                 "    ipsec: {lifetime_bytes: 1000000, lifetime_packets: 5000}\n",
		         ids[i].yaml);
		struct config *cfg = load_ok(yaml);
		const struct config_connection *c = &cfg->connections[0];

		ck_assert_int_eq(c->ike.remote_id.type, ids[i].type);
		if (ids[i].data != NULL) {
			ck_assert_uint_eq(c->ike.remote_id.key_id_len, ids[i].len);
			ck_assert_mem_eq(c->ike.remote_id.key_id, ids[i].data, ids[i].len);
		}
		ck_assert_uint_eq(c->ipsec.lifetime_bytes, 1000000);
		ck_assert_uint_eq(c->ipsec.lifetime_packets, 5000);
		config_free(cfg);
	}
}
END_TEST

START_TEST(proposal_lists_ikev2_and_aead)
{
	struct config *cfg =
	        load_ok(GW CONN "    ike: {version: ikev2, encryption: [aes-gcm-256, aes256],\n"
	                        "          integrity: [sha256, sha384], dh_group: [group31, "
	                        "group14], local_id: vpn@example.com, remote_id: peer.example}\n"
	                        "    ipsec: {encryption: [aes-gcm-128, chacha20-poly1305], pfs: "
	                        "disabled}\n"
	                        "  - name: c2\n"
	                        "    customer_gateway: cg\n"
	                        "    local_subnets: [10.1.0.0/16]\n"
	                        "    remote_subnets: [192.168.9.0/24]\n"
	                        "    psk: other\n"
	                        "    ipsec: {encryption: [aes-gcm-128, aes], integrity: sha256}\n");
	const struct config_connection *c = &cfg->connections[0];

	ck_assert_int_eq(c->ike.version, CONFIG_IKEV2);
	ck_assert_uint_eq(c->ike.encryption.n, 2);
	ck_assert_int_eq(c->ike.encryption.ids[0], CRYPTO_ENCR_AES256_GCM16);
	ck_assert_int_eq(c->ike.encryption.ids[1], CRYPTO_ENCR_AES256_CBC);
	ck_assert_uint_eq(c->ike.prf.n, 2);
	ck_assert_int_eq(c->ike.prf.ids[1], CRYPTO_PRF_HMAC_SHA384);
	/* aes256 is not AEAD, so the names are INTEG transforms as well. */
	ck_assert_uint_eq(c->ike.integrity.n, 2);
	ck_assert_int_eq(c->ike.integrity.ids[0], CRYPTO_INTEG_HMAC_SHA256_128);
	ck_assert_int_eq(c->ike.dh.ids[0], CRYPTO_DH_CURVE25519);
	ck_assert_int_eq(c->ike.dh.ids[1], CRYPTO_DH_MODP2048);
	ck_assert_int_eq(c->ike.local_id.type, CONFIG_ID_USER_FQDN);
	ck_assert_str_eq(c->ike.local_id.value, "vpn@example.com");
	ck_assert_int_eq(c->ike.remote_id.type, CONFIG_ID_FQDN);
	/* Every cipher AEAD: integrity defaults to none. */
	ck_assert_uint_eq(c->ipsec.encryption.n, 2);
	ck_assert_int_eq(c->ipsec.encryption.ids[1], CRYPTO_ENCR_CHACHA20_POLY1305);
	ck_assert_uint_eq(c->ipsec.integrity.n, 1);
	ck_assert_int_eq(c->ipsec.integrity.ids[0], CRYPTO_INTEG_NONE);
	ck_assert(!c->ipsec.pfs);
	c = &cfg->connections[1];
	ck_assert_int_eq(c->ipsec.integrity.ids[0], CRYPTO_INTEG_HMAC_SHA256_128);
	ck_assert_uint_eq(c->psk->len, 5);
	ck_assert_mem_eq(c->psk->bytes, "other", 5);
	config_free(cfg);
}
END_TEST

START_TEST(workers_list_neighbours_and_ipv6)
{
	struct config *cfg =
	        load_ok("gateway:\n"
	                "  name: gw\n"
	                "  workers: [2, 3, 5]\n"
	                "  poll_mode: adaptive\n"
	                "  metrics_listen: \"[::1]:9100\"\n"
	                "  ports:\n"
	                "    - name: wan\n"
	                "      device: net_tap0,iface=wan0\n"
	                "      role: public\n"
	                "      address: 2001:db8:1::1/64\n"
	                "      gateway: 2001:db8:1::fe\n"
	                "      mtu: 9000\n"
	                "      neighbours: [{ip: 2001:db8:1::fe, mac: \"02:00:00:aa:bb:cc\"}]\n");

	ck_assert_int_eq(cfg->gateway.workers, CONFIG_WORKERS_LIST);
	ck_assert_uint_eq(cfg->gateway.n_workers, 3);
	ck_assert_uint_eq(cfg->gateway.lcores[2], 5);
	ck_assert_int_eq(cfg->gateway.poll_mode, CONFIG_POLL_ADAPTIVE);
	ck_addr(&cfg->gateway.metrics_addr, "::1");
	ck_assert_uint_eq(cfg->gateway.metrics_port, 9100);
	ck_assert_uint_eq(cfg->gateway.ports[0].mtu, 9000);
	ck_assert_uint_eq(cfg->gateway.ports[0].n_neighbours, 1);
	ck_assert_mem_eq_hex(cfg->gateway.ports[0].neighbours[0].mac, "0200 00aa bbcc");
	ck_assert_uint_eq(cfg->n_connections, 0);
	config_free(cfg);

	cfg = load_ok("gateway: {name: g, workers: 4, ports: [{name: p, device: d, role: public, "
	              "address: 192.0.2.1/24}]}\n");
	ck_assert_int_eq(cfg->gateway.workers, CONFIG_WORKERS_COUNT);
	ck_assert_uint_eq(cfg->gateway.n_workers, 4);
	config_free(cfg);
}
END_TEST

START_TEST(tcp_mss_clamp_and_bypass)
{
	struct config *cfg =
	        load_ok("gateway:\n"
	                "  name: gw\n"
	                "  tcp_mss_clamp: false\n"
	                "  ports:\n"
	                "    - {name: wan, device: d0, role: public, address: 203.0.113.1/24,\n"
	                "       gateway: 203.0.113.254}\n"
	                "    - name: lan\n"
	                "      device: d1\n"
	                "      role: private\n"
	                "      address: 10.0.0.1/24\n"
	                "      routes: [{to: 10.0.0.0/8, via: 10.0.0.254}]\n"
	                "    - {name: lan6, device: d2, role: private, address: fd00::1/64,\n"
	                "       routes: [{to: fd10::/48, via: fd00::fe}]}\n"
	                "  bypass:\n"
	                "    - {local: 10.0.0.0/24, remote: 10.20.0.0/16}\n"
	                "    - local: fd00::/64\n"
	                "      remote: fd10:0:0:7::/64\n"
	                "    - {local: 10.1.0.0/16, remote: 10.0.0.128/25}\n"
	                "customer_gateways: [{name: cg, address: 198.51.100.7}]\n" CONN);
	const struct config_gateway *gw = &cfg->gateway;

	ck_assert(!gw->tcp_mss_clamp);
	ck_assert_uint_eq(gw->n_bypass, 3);
	ck_prefix(&gw->bypass[0].local, "10.0.0.0/24");
	ck_prefix(&gw->bypass[0].remote, "10.20.0.0/16");
	ck_prefix(&gw->bypass[1].local, "fd00::/64");
	ck_prefix(&gw->bypass[1].remote, "fd10:0:0:7::/64");
	ck_prefix(&gw->bypass[2].local, "10.1.0.0/16");
	ck_prefix(&gw->bypass[2].remote, "10.0.0.128/25");
	config_free(cfg);

	cfg = load_ok(GW_LAN "    - {local: 10.0.0.0/24, remote: 172.16.0.0/12}\n"
	                     "  tcp_mss_clamp: true\n");
	ck_assert(cfg->gateway.tcp_mss_clamp);
	ck_assert_uint_eq(cfg->gateway.n_bypass, 1);
	config_free(cfg);

	cfg = load_ok(GW_LAN "    []\n");
	ck_assert_uint_eq(cfg->gateway.n_bypass, 0);
	config_free(cfg);
}
END_TEST

START_TEST(psk_file_is_read_relative_to_the_config)
{
	char dir[] = "/tmp/vpngw-cfg-XXXXXX", path[PATH_MAX], err[512];
	struct config *cfg = NULL;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/idc.psk", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("from-a-file\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/vpngw.yaml", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(GW "connections:\n  - {name: c1, customer_gateway: cg, local_subnets: [10.0.0.0/16],"
	         " remote_subnets: [192.168.0.0/24], psk_file: idc.psk}\n",
	      f);
	fclose(f);
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cfg->connections[0].psk->len, 11);
	ck_assert_mem_eq(cfg->connections[0].psk->bytes, "from-a-file", 11);
	config_free(cfg);

	snprintf(path, sizeof(path), "%s/idc.psk", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/vpngw.yaml", dir);
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -1);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(strstr(err, "vpngw.yaml:8: connections[0].psk_file: ") != NULL &&
	                      strstr(err, "idc.psk: No such file or directory") != NULL,
	              "%s", err);
	unlink(path);
	rmdir(dir);

	ck_assert_int_eq(config_load("/nonexistent/vpngw.yaml", &cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/nonexistent/vpngw.yaml: No such file or directory");
}
END_TEST

struct bad_case {
	const char *what;
	const char *yaml;
	const char *expect; /* a fragment of the message */
};

static const struct bad_case bad_cases[] = {
	{ "empty file", "", "config.yaml:1: empty file" },
	{ "only a comment", "# nothing\n", "config.yaml:1: empty file" },
	{ "top level is a list", "- a\n- b\n",
	  "config.yaml:1: expected a mapping with gateway: at the top, got a list" },
	{ "syntax: unterminated quote", GW CONN "    dpd: \"true\n",
	  "config.yaml:14: YAML syntax error: found unexpected end of stream while scanning a "
	  "quoted scalar (line 13)" },
	{ "syntax: bad indentation", "gateway:\n  name: gw\n   ports: x\n",
	  "config.yaml:3: YAML syntax error: mapping values are not allowed in this context" },
	{ "second document", GW "---\ngateway: {}\n", "config.yaml:7: a second YAML document" },
	{ "alias", GW "connections:\n  - name: &n c1\n    customer_gateway: *n\n",
	  "config.yaml:9: connections[0].customer_gateway: aliases (*name) are not supported" },
	{ "unknown top key", GW "conections: []\n",
	  "config.yaml:7: conections: unknown key \"conections\"; allowed: gateway, "
	  "customer_gateways, connections, static_sas" },
	{ "unknown key (typo)", GW CONN "    encrption: aes\n",
	  "config.yaml:13: connections[0].encrption: unknown key \"encrption\"; allowed: name, "
	  "customer_gateway," },
	{ "duplicate key", GW CONN "    psk: again\n",
	  "config.yaml:13: connections[0].psk: duplicate key" },
	{ "missing required key",
	  GW "connections:\n  - name: c1\n    local_subnets: [10.0.0.0/16]\n",
	  "config.yaml:8: connections[0]: missing required key \"customer_gateway\"" },
	{ "missing gateway", "customer_gateways: []\n",
	  "config.yaml:1: missing required key \"gateway\"" },
	{ "list where a value goes", "gateway:\n  name: [a, b]\n",
	  "config.yaml:2: gateway.name: expected a single value, got a list" },
	{ "value where a list goes",
	  GW "connections:\n  - name: c1\n    local_subnets: 10.0.0.0/16\n",
	  "config.yaml:9: connections[0].local_subnets: expected a list, got a single value" },
	{ "mapping where a list of names goes", GW CONN "    ike: {encryption: {a: b}}\n",
	  "config.yaml:13: connections[0].ike.encryption: expected a value or a list of values, "
	  "got a mapping" },
	{ "empty subnet list", GW "connections:\n  - name: c1\n    local_subnets: []\n",
	  "config.yaml:9: connections[0].local_subnets: empty list; at least 1 entry needed" },
	{ "bad enum (role)",
	  "gateway:\n  name: gw\n  ports:\n    - {name: wan, device: d0, role: publik, address: "
	  "203.0.113.1/24}\n",
	  "config.yaml:4: gateway.ports[0].role: \"publik\" is not allowed; allowed: public, "
	  "private" },
	{ "bad enum (poll_mode)", "gateway:\n  name: gw\n  poll_mode: lazy\n" PORTS,
	  "config.yaml:3: gateway.poll_mode: \"lazy\" is not allowed; allowed: busy, adaptive" },
	{ "no public port",
	  "gateway:\n  name: gw\n  ports:\n    - {name: lan, device: d0, role: private, address: "
	  "10.0.0.1/24}\n",
	  "config.yaml:3: gateway.ports: no port with role public" },
	{ "bad workers", "gateway:\n  name: gw\n  workers: many\n" PORTS,
	  "config.yaml:3: gateway.workers: \"many\" is not allowed; allowed: auto, a count 1..256, "
	  "or a list of lcore ids" },
	{ "port gateway off subnet",
	  "gateway:\n  name: gw\n  ports:\n    - name: wan\n      device: d0\n      role: public\n"
	  "      address: 203.0.113.1/24\n      gateway: 203.0.114.254\n",
	  "config.yaml:8: gateway.ports[0].gateway: 203.0.114.254 is not on the port's subnet "
	  "203.0.113.1/24" },
	{ "bad mac",
	  "gateway:\n  name: gw\n  ports:\n    - name: wan\n      device: d0\n      role: public\n"
	  "      address: 203.0.113.1/24\n      neighbours:\n        - {ip: 203.0.113.9, mac: "
	  "02:00:00:aa:bb}\n",
	  "config.yaml:9: gateway.ports[0].neighbours[0].mac: \"02:00:00:aa:bb\" is not a MAC "
	  "address" },
	{ "bad metrics port", "gateway:\n  name: gw\n  metrics_listen: 127.0.0.1:99999\n" PORTS,
	  "config.yaml:3: gateway.metrics_listen: \"127.0.0.1:99999\" is not ADDRESS:PORT" },
	{ "bad address",
	  "gateway:\n  name: gw\n  ports:\n    - {name: wan, device: d0, role: public, address: "
	  "203.0.113.1/24}\ncustomer_gateways:\n  - {name: cg, address: 198.51.100.300}\n",
	  "config.yaml:6: customer_gateways[0].address: \"198.51.100.300\" is not an IPv4 or IPv6 "
	  "address" },
	{ "duplicate customer gateway address", GW "  - {name: cg2, address: 198.51.100.7}\n",
	  "config.yaml:7: customer_gateways[1].address: 198.51.100.7 is already the address of "
	  "customer_gateways[0]" },
	{ "bad prefix length",
	  GW
	  "connections:\n  - name: c1\n    customer_gateway: cg\n    local_subnets: [10.0.0.0/33]\n"
	  "    remote_subnets: [192.168.0.0/24]\n    psk: x\n",
	  "config.yaml:10: connections[0].local_subnets[0]: \"10.0.0.0/33\": prefix length \"33\" "
	  "out of range; allowed: 0..32" },
	{ "host bits set",
	  GW
	  "connections:\n  - name: c1\n    customer_gateway: cg\n    local_subnets: [10.0.0.0/16]\n"
	  "    remote_subnets:\n      - 192.168.0.0/24\n      - 192.168.1.1/24\n    psk: x\n",
	  "config.yaml:13: connections[0].remote_subnets[1]: \"192.168.1.1/24\" has host bits set; "
	  "did you mean 192.168.1.0/24?" },
	{ "dangling customer_gateway",
	  GW "connections:\n  - name: c1\n    customer_gateway: cg-typo\n" CONN_TAIL,
	  "config.yaml:9: connections[0].customer_gateway: \"cg-typo\" is not a customer gateway" },
	{ "duplicate connection name",
	  GW CONN
	  "  - {name: c1, customer_gateway: cg, local_subnets: [10.1.0.0/16], remote_subnets: "
	  "[192.168.1.0/24], psk: x}\n",
	  "config.yaml:13: connections[1].name: \"c1\" is already the name of connections[0]" },
	{ "too many connections",
	  "gateway:\n  name: gw\n  max_connections: 1\n  ports:\n    - {name: wan, device: d0, "
	  "role: public, address: 203.0.113.1/24}\ncustomer_gateways:\n  - {name: cg, address: "
	  "198.51.100.7}\nconnections:\n"
	  "  - {name: c1, customer_gateway: cg, local_subnets: [10.0.0.0/16], remote_subnets: "
	  "[192.168.0.0/24], psk: x}\n"
	  "  - {name: c2, customer_gateway: cg, local_subnets: [10.1.0.0/16], remote_subnets: "
	  "[192.168.1.0/24], psk: x}\n",
	  "config.yaml:10: connections[1]: 2 connections, more than gateway.max_connections (1)" },
	{ "psk and psk_file", GW CONN "    psk_file: /etc/vpngw/x.psk\n",
	  "config.yaml:13: connections[0].psk_file: psk and psk_file are both set; keep one" },
	{ "neither psk nor psk_file",
	  GW "connections:\n  - {name: c1, customer_gateway: cg, local_subnets: [10.0.0.0/16], "
	     "remote_subnets: [192.168.0.0/24]}\n",
	  "config.yaml:8: connections[0]: missing psk or psk_file" },
	{ "bad bool", GW CONN "    dpd: yes\n",
	  "config.yaml:13: connections[0].dpd: \"yes\" is not allowed; allowed: true, false" },
	{ "bad ike encryption", GW CONN "    ike:\n      encryption: aes512\n",
	  "config.yaml:14: connections[0].ike.encryption: \"aes512\" is not allowed; allowed: des, "
	  "3des, aes, aes192, aes256" },
	{ "aead in ikev1 phase 1", GW CONN "    ike: {encryption: [aes, aes-gcm-128]}\n",
	  "config.yaml:13: connections[0].ike.encryption[1]: \"aes-gcm-128\" is not allowed with "
	  "ikev1; allowed: des, 3des, aes, aes192, aes256" },
	{ "ike integrity none", GW CONN "    ike: {version: ikev2, integrity: none}\n",
	  "connections[0].ike.integrity: \"none\" is not allowed; allowed: md5, sha1, sha256, "
	  "sha384, sha512" },
	{ "bad dh group", GW CONN "    ike:\n      dh_group: group3\n",
	  "config.yaml:14: connections[0].ike.dh_group: \"group3\" is not allowed; allowed: "
	  "group1, "
	  "group2, group5, group14, group15, group16, group19, group20, group21, group31" },
	{ "aggressive with ikev2", GW CONN "    ike: {version: ikev2, mode: aggressive}\n",
	  "config.yaml:13: connections[0].ike.mode: \"aggressive\" is not allowed with ikev2" },
	{ "bad ike version", GW CONN "    ike: {version: ikev3}\n",
	  "config.yaml:13: connections[0].ike.version: \"ikev3\" is not allowed; allowed: ikev1, "
	  "ikev2" },
	{ "lifetime out of range", GW CONN "    ipsec:\n      lifetime: 10\n",
	  "config.yaml:14: connections[0].ipsec.lifetime: \"10\" is not allowed; allowed: "
	  "60..604800" },
	{ "bad remote_id", GW CONN "    ike: {remote_id: \"bad id!\"}\n",
	  "config.yaml:13: connections[0].ike.remote_id: \"bad id!\" is not an IP address, FQDN, "
	  "user@FQDN or keyid:..." },
	{ "empty key id", GW CONN "    ike: {local_id: \"keyid:\"}\n",
	  "config.yaml:13: connections[0].ike.local_id: empty key id; allowed: keyid:TEXT or "
	  "keyid:0xHEX" },
	{ "key id bad hex", GW CONN "    ike: {local_id: \"keyid:0xabc\"}\n",
	  "config.yaml:13: connections[0].ike.local_id: key id: odd number of hex digits" },
	{ "lifetime_bytes too small", GW CONN "    ipsec: {lifetime_bytes: 1000}\n",
	  "config.yaml:13: connections[0].ipsec.lifetime_bytes: 1000 is too small; allowed: 0 (no "
	  "limit) or 16384..18446744073709551615" },
	{ "lifetime_packets not a number", GW CONN "    ipsec: {lifetime_packets: many}\n",
	  "config.yaml:13: connections[0].ipsec.lifetime_packets: \"many\" is not allowed" },
	{ "integrity with aead in ipsec",
	  GW CONN "    ipsec:\n      encryption: aes-gcm-128\n"
	          "      integrity: sha1\n",
	  "config.yaml:15: connections[0].ipsec.integrity: \"sha1\" is not allowed with "
	  "aes-gcm-128 (an AEAD cipher authenticates itself); allowed: none" },
	{ "integrity none with cbc in ipsec", GW CONN "    ipsec: {integrity: none}\n",
	  "config.yaml:13: connections[0].ipsec.integrity: \"none\" is not allowed with aes, which "
	  "does not authenticate; allowed: md5, sha1, sha256, sha384, sha512" },
	{ "chacha20 in ikev1 quick mode", GW CONN "    ipsec: {encryption: chacha20-poly1305}\n",
	  "config.yaml:13: connections[0].ipsec.encryption: \"chacha20-poly1305\" is not allowed "
	  "with ikev1" },
	{ "bad pfs", GW CONN "    ipsec: {pfs: yes}\n",
	  "config.yaml:13: connections[0].ipsec.pfs: \"yes\" is not allowed; allowed: disabled, "
	  "group1," },
	{ "bad static sa encryption", GW SA_HEAD("aes-gcm-512") SA_OUT SA_IN,
	  "config.yaml:12: static_sas[0].encryption: \"aes-gcm-512\" is not allowed; allowed: "
	  "null, "
	  "des, 3des, aes," },
	{ "wrong key length (gcm without salt)",
	  GW SA_HEAD("aes-gcm-128") "    out: {spi: 0x1000, enc_key: "
	                            "00112233445566778899aabbccddeeff}\n" SA_IN,
	  "config.yaml:13: static_sas[0].out.enc_key: 16 bytes; aes-gcm-128 needs 20 (16-byte key "
	  "then 4-byte salt)" },
	{ "wrong auth key length",
	  GW SA_HEAD("aes") "    integrity: sha256\n"
	                    "    out: {spi: 0x1000, enc_key: 00112233445566778899aabbccddeeff,\n"
	                    "          auth_key: 00112233445566778899aabbccddeeff00112233}\n"
	                    "    in: {spi: 0x2000, enc_key: 00112233445566778899aabbccddeeff}\n",
	  "config.yaml:15: static_sas[0].out.auth_key: 20 bytes; sha256 needs 32" },
	{ "key not hex",
	  GW SA_HEAD("aes") "    integrity: sha1\n    out: {spi: 0x1000, enc_key: zz}\n" SA_IN,
	  "config.yaml:14: static_sas[0].out.enc_key: not hex" },
	{ "spi 0", GW SA_HEAD("aes-gcm-128") "    out: {spi: 0, enc_key: " GCM_KEY_OUT "}\n" SA_IN,
	  "config.yaml:13: static_sas[0].out.spi: 0 is reserved (RFC 4303: 0 and 1..255); allowed: "
	  "256..4294967295" },
	{ "spi reserved",
	  GW SA_HEAD("aes-gcm-128") "    out: {spi: 0xff, enc_key: " GCM_KEY_OUT "}\n" SA_IN,
	  "config.yaml:13: static_sas[0].out.spi: 0xff is reserved" },
	{ "spi too large",
	  GW SA_HEAD("aes-gcm-128") "    out: {spi: 0x100000000, enc_key: " GCM_KEY_OUT "}\n" SA_IN,
	  "config.yaml:13: static_sas[0].out.spi: \"0x100000000\" is not an SPI" },
	{ "integrity with aead in static sa",
	  GW SA_HEAD("aes-gcm-128") "    integrity: sha1\n" SA_OUT SA_IN,
	  "config.yaml:13: static_sas[0].integrity: \"sha1\" is not allowed with aes-gcm-128" },
	{ "static sa cbc without integrity",
	  GW SA_HEAD("aes") "    out: {spi: 0x1000, enc_key: 00112233445566778899aabbccddeeff}\n"
	                    "    in: {spi: 0x2000, enc_key: 00112233445566778899aabbccddeeff}\n",
	  "config.yaml:8: static_sas[0].integrity: missing; aes does not authenticate; allowed: "
	  "md5, sha1," },
	{ "auth_key with integrity none",
	  GW SA_HEAD("aes-gcm-128") "    out: {spi: 0x1000, enc_key: " GCM_KEY_OUT
	                            ", auth_key: 00}\n" SA_IN,
	  "config.yaml:13: static_sas[0].out.auth_key: not allowed with integrity none" },
	{ "replay window too small",
	  GW SA_HEAD("aes-gcm-128") "    replay_window: 32\n" SA_OUT SA_IN,
	  "config.yaml:13: static_sas[0].replay_window: \"32\" is not allowed; allowed: 0 (off) or "
	  "64..4096" },
	{ "duplicate inbound spi",
	  GW SA_HEAD("aes-gcm-128") SA_OUT SA_IN "  - name: s2\n    peer: 198.51.100.10\n"
	                                         "    local_subnets: [10.0.0.0/16]\n"
	                                         "    remote_subnets: [192.168.2.0/24]\n"
	                                         "    encryption: aes-gcm-128\n"
	                                         "    out: {spi: 0x1001, enc_key: " GCM_KEY_OUT
	                                         "}\n"
	                                         "    in: {spi: 8192, enc_key: " GCM_KEY_IN "}\n",
	  "config.yaml:21: static_sas[1].in.spi: 0x2000 is already the inbound SPI of "
	  "static_sas[0]" },
	{ "lifetime packets not a number",
	  GW SA_HEAD("aes-gcm-128") "    lifetime: {packets: lots}\n" SA_OUT SA_IN,
	  "config.yaml:13: static_sas[0].lifetime.packets: \"lots\" is not allowed; allowed: "
	  "0..18446744073709551615 (0: no limit)" },
	{ "lifetime bytes negative",
	  GW SA_HEAD("aes-gcm-128") "    lifetime:\n      bytes: -1\n" SA_OUT SA_IN,
	  "config.yaml:14: static_sas[0].lifetime.bytes: \"-1\" is not allowed" },
	{ "lifetime seconds too long",
	  GW SA_HEAD("aes-gcm-128") "    lifetime:\n      seconds: 315360001\n" SA_OUT SA_IN,
	  "config.yaml:14: static_sas[0].lifetime.seconds: \"315360001\" is not allowed; "
	  "allowed: 0..315360000 (0: no limit)" },
	{ "lifetime unknown key",
	  GW SA_HEAD("aes-gcm-128") "    lifetime: {minutes: 5}\n" SA_OUT SA_IN,
	  "config.yaml:13: static_sas[0].lifetime.minutes: unknown key \"minutes\"; allowed: "
	  "seconds, "
	  "bytes, packets" },
	{ "lifetime packets beyond 64 bits",
	  GW SA_HEAD("aes-gcm-128") "    lifetime: {packets: 18446744073709551616}\n" SA_OUT SA_IN,
	  "config.yaml:13: static_sas[0].lifetime.packets: \"18446744073709551616\" is not "
	  "allowed" },
	{ "lifetime not a mapping", GW SA_HEAD("aes-gcm-128") "    lifetime: 600\n" SA_OUT SA_IN,
	  "config.yaml:13: static_sas[0].lifetime:" },
	{ "initial_seq beyond 32 bits without esn",
	  GW SA_HEAD("aes-gcm-128") "    out: {spi: 0x1000, initial_seq: 4294967296, "
	                            "enc_key: " GCM_KEY_OUT "}\n" SA_IN,
	  "config.yaml:13: static_sas[0].out.initial_seq: \"4294967296\" is not allowed; "
	  "allowed: 0..4294967295 (64-bit with esn: true)" },
	{ "initial_seq in hex",
	  GW SA_HEAD("aes-gcm-128") SA_OUT
	  "    in: {spi: 0x2000, initial_seq: 0x10, enc_key: " GCM_KEY_IN "}\n",
	  "config.yaml:14: static_sas[0].in.initial_seq: \"0x10\" is not allowed" },
	{ "static sa missing key", GW CONN "static_sas:\n  - name: s1\n    peer: 198.51.100.9\n",
	  "config.yaml:14: static_sas[0]: missing required key \"local_subnets\"" },
	{ "bad name", "gateway:\n  name: \"gw hz\"\n" PORTS,
	  "config.yaml:2: gateway.name: \"gw hz\": a name is letters, digits" },
	{ "control bytes", "gateway:\n  name: g\x01w\n", "config.yaml:2: YAML syntax error:" },
	{ "tcp_mss_clamp not a bool", "gateway:\n  name: gw\n  tcp_mss_clamp: yes\n" PORTS,
	  "config.yaml:3: gateway.tcp_mss_clamp: \"yes\" is not allowed; allowed: true, false" },
	{ "tcp_mss_clamp a list", "gateway:\n  name: gw\n  tcp_mss_clamp: [true]\n" PORTS,
	  "config.yaml:3: gateway.tcp_mss_clamp: expected a single value, got a list" },
	{ "unknown gateway key lists the new ones", "gateway:\n  name: gw\n  mss_clamp: true\n",
	  "config.yaml:3: gateway.mss_clamp: unknown key \"mss_clamp\"; allowed: name, "
	  "max_connections, bandwidth_mbps, workers, poll_mode, ports, control_socket, "
	  "metrics_listen, tcp_mss_clamp, bypass" },
	{ "bypass not a list", GW_LAN "    {local: 10.0.0.0/24, remote: 172.16.0.0/12}\n",
	  "config.yaml:8: gateway.bypass: expected a list, got a mapping" },
	{ "bypass unknown key",
	  GW_LAN "    - {local: 10.0.0.0/24, remote: 172.16.0.0/12}\n"
	         "    - {local: 10.0.0.0/24, remote: 172.16.0.0/12, action: allow}\n",
	  "config.yaml:10: gateway.bypass[1].action: unknown key \"action\"; allowed: local, "
	  "remote" },
	{ "bypass missing remote", GW_LAN "    - {local: 10.0.0.0/24}\n",
	  "config.yaml:9: gateway.bypass[0]: missing required key \"remote\"" },
	{ "bypass bad prefix length", GW_LAN "    - {local: 10.0.0.0/24, remote: 172.16.0.0/40}\n",
	  "config.yaml:9: gateway.bypass[0].remote: \"172.16.0.0/40\": prefix length \"40\" out "
	  "of range; allowed: 0..32" },
	{ "bypass local not a prefix", GW_LAN "    - {local: 10.0.0.1, remote: 172.16.0.0/12}\n",
	  "config.yaml:9: gateway.bypass[0].local: \"10.0.0.1\" is not a prefix (address/length" },
	{ "bypass host bits",
	  GW_LAN "    - local: 10.0.0.0/24\n"
	         "      remote: 172.16.1.1/24\n",
	  "config.yaml:10: gateway.bypass[0].remote: \"172.16.1.1/24\" has host bits set; did you "
	  "mean 172.16.1.0/24?" },
	{ "bypass local host bits", GW_LAN "    - {local: 10.0.0.1/24, remote: 172.16.0.0/12}\n",
	  "config.yaml:9: gateway.bypass[0].local: \"10.0.0.1/24\" has host bits set; did you "
	  "mean 10.0.0.0/24?" },
	{ "bypass mixed families", GW_LAN "    - {local: fd00::/64, remote: 10.0.0.0/24}\n",
	  "config.yaml:9: gateway.bypass[0].remote: 10.0.0.0/24 and local fd00::/64 are of "
	  "different address families" },
	{ "bypass remote not behind a private port",
	  GW_LAN "    - {local: 10.0.0.0/24, remote: 172.16.0.0/12}\n"
	         "    - {local: 10.0.0.0/24, remote: 192.168.0.0/24}\n",
	  "config.yaml:10: gateway.bypass[1].remote: 192.168.0.0/24 is not within a private port's "
	  "subnet or routes (gateway.ports[].address, .routes); bypass traffic must stay on the "
	  "private side" },
	{ "bypass remote wider than the private subnet",
	  GW_LAN "    - {local: 172.16.0.0/12, remote: 10.0.0.0/16}\n",
	  "config.yaml:9: gateway.bypass[0].remote: 10.0.0.0/16 is not within a private port's" },
	{ "bypass remote on the public subnet",
	  GW_LAN "    - {local: 10.0.0.0/24, remote: 203.0.113.0/24}\n",
	  "config.yaml:9: gateway.bypass[0].remote: 203.0.113.0/24 is not within a private "
	  "port's" },
	{ "bypass remote partly routed to the public side",
	  "gateway:\n  name: gw\n  ports:\n"
	  "    - {name: wan, device: d0, role: public, address: 203.0.113.1/24,\n"
	  "       routes: [{to: 198.51.100.0/24, via: 203.0.113.254}]}\n"
	  "    - {name: lan, device: d1, role: private, address: 10.0.0.1/24,\n"
	  "       routes: [{to: 198.51.0.0/16, via: 10.0.0.254}]}\n"
	  "  bypass: [{local: 10.0.0.0/24, remote: 198.51.0.0/16}]\n",
	  "config.yaml:8: gateway.bypass[0].remote: 198.51.0.0/16 would be sent out of public port "
	  "wan, whose route 198.51.100.0/24 matches it as specifically or more; bypass traffic "
	  "must stay on the private side" },
	{ "bypass remote on the public subnet, private default",
	  "gateway:\n  name: gw\n  ports:\n"
	  "    - {name: wan, device: d0, role: public, address: 2001:db8::1/64}\n"
	  "    - {name: lan, device: d1, role: private, address: fd00::1/64,\n"
	  "       routes: [{to: \"::/0\", via: fd00::fe}]}\n"
	  "  bypass:\n"
	  "    - {local: fd00::/64, remote: 2001:db8::/48}\n",
	  "config.yaml:8: gateway.bypass[0].remote: 2001:db8::/48 would be sent out of public port "
	  "wan, whose subnet 2001:db8::/64 matches it" },
	{ "bypass remote tied with the public default route",
	  "gateway:\n  name: gw\n  ports:\n"
	  "    - {name: wan, device: d0, role: public, address: 2001:db8::1/64, gateway: "
	  "2001:db8::fe}\n"
	  "    - {name: lan, device: d1, role: private, address: fd00::1/64,\n"
	  "       routes: [{to: \"::/0\", via: fd00::fe}]}\n"
	  "  bypass:\n"
	  "    - {local: fd00::/64, remote: fd20::/48}\n",
	  "config.yaml:8: gateway.bypass[0].remote: fd20::/48 would be sent out of public port "
	  "wan, "
	  "whose default route ::/0 matches it as specifically or more" },
};

START_TEST(bad_file_is_refused_with_key_and_line)
{
	const struct bad_case *bc = &bad_cases[_i];
	struct config *cfg = (struct config *)1;
	char err[512];

	int rc = config_load_string(bc->yaml, strlen(bc->yaml), "config.yaml", &cfg, err,
	                            sizeof(err));
	ck_assert_msg(rc == -1, "%s: loaded", bc->what);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(strstr(err, bc->expect) != NULL, "%s:\n  got:  %s\n  want: %s", bc->what, err,
	              bc->expect);
}
END_TEST

START_TEST(tunnel_names_are_one_namespace)
{
	static const char yaml[] = GW CONN SA_HEAD("aes-gcm-128") SA_OUT SA_IN;
	char buf[2048], err[512];
	struct config *cfg;
	char *s1;

	/* static_sas follow connections, so SA_HEAD's name is patched to clash. */
	snprintf(buf, sizeof(buf), "%s", yaml);
	s1 = strstr(buf, "name: s1");
	ck_assert_ptr_nonnull(s1);
	memcpy(s1, "name: c1", 8);
	ck_assert_int_eq(
	        config_load_string(buf, strlen(buf), "config.yaml", &cfg, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "config.yaml:14: static_sas[0].name: \"c1\" is already the name "
	                          "of connections[0]") != NULL,
	              "%s", err);
}
END_TEST

/*
 * Every prefix of a valid file, and the file with one byte replaced by a
 * few hostile ones at every offset: an error or a config, never a crash
 * (run under ASan/UBSan to mean something).
 */
START_TEST(truncated_and_mangled_files_never_crash)
{
	static const char mangle[] = { '\0', ':', '[', '{', '-', '\n', '&', '*', '\'', 0x7f };
	size_t len = strlen(full_example);
	char *buf = malloc(len + 1);
	unsigned ok = 0, bad = 0;

	ck_assert_ptr_nonnull(buf);
	for (size_t n = 0; n <= len; n++) {
		struct config *cfg = NULL;
		char err[256] = "";

		/* Exactly n bytes, no terminator: the loader must not read past them. */
		char *prefix = malloc(n ? n : 1);

		ck_assert_ptr_nonnull(prefix);
		memcpy(prefix, full_example, n);
		if (config_load_string(prefix, n, "t.yaml", &cfg, err, sizeof(err)) == 0) {
			ck_assert_ptr_nonnull(cfg);
			config_free(cfg);
			ok++;
		} else {
			ck_assert_ptr_null(cfg);
			ck_assert_msg(strncmp(err, "t.yaml:", 7) == 0, "offset %zu: \"%s\"", n,
			              err);
			bad++;
		}
		free(prefix);
	}
	/* The file ends in a complete SA, so the full length loads. */
	ck_assert_uint_ge(ok, 1);
	ck_assert_uint_ge(bad, len / 2);

	for (size_t off = 0; off < len; off++) {
		for (size_t m = 0; m < ARRAY_SIZE(mangle); m++) {
			struct config *cfg = NULL;
			char err[256] = "";

			memcpy(buf, full_example, len);
			buf[off] = mangle[m];
			if (config_load_string(buf, len, "t.yaml", &cfg, err, sizeof(err)) == 0)
				config_free(cfg);
			else
				ck_assert_msg(err[0] != '\0', "offset %zu: no message", off);
		}
	}
	free(buf);
}
END_TEST

START_TEST(static_sa_lifetime_and_initial_seq)
{
	struct config *cfg = load_ok(GW SA_HEAD(
	        "aes-gcm-128") "    esn: true\n"
	                       "    lifetime: {seconds: 30, bytes: 1000000, packets: 5}\n"
	                       "    out: {spi: 0x1000, initial_seq: 18446744073709551615, "
	                       "enc_key: " GCM_KEY_OUT "}\n"
	                       "    in: {spi: 0x2000, initial_seq: 7, enc_key: " GCM_KEY_IN "}\n"
	                       "  - name: s2\n    peer: 198.51.100.10\n"
	                       "    local_subnets: [10.0.0.0/16]\n"
	                       "    remote_subnets: [192.168.2.0/24]\n"
	                       "    encryption: aes-gcm-128\n"
	                       "    lifetime: {packets: 0}\n"
	                       "    out: {spi: 0x1001, initial_seq: 4294967295, "
	                       "enc_key: " GCM_KEY_OUT "}\n"
	                       "    in: {spi: 0x2001, enc_key: " GCM_KEY_IN "}\n");
	const struct config_static_sa *a = &cfg->static_sas[0], *b = &cfg->static_sas[1];

	ck_assert_uint_eq(a->lifetime.seconds, 30);
	ck_assert_uint_eq(a->lifetime.bytes, 1000000);
	ck_assert_uint_eq(a->lifetime.packets, 5);
	ck_assert_uint_eq(a->out.initial_seq, UINT64_MAX);
	ck_assert_uint_eq(a->in.initial_seq, 7);
	ck_assert_uint_eq(b->lifetime.seconds, 0);
	ck_assert_uint_eq(b->lifetime.bytes, 0);
	ck_assert_uint_eq(b->lifetime.packets, 0);
	ck_assert_uint_eq(b->out.initial_seq, UINT32_MAX);
	ck_assert_uint_eq(b->in.initial_seq, 0);
	/* Soft limits: 90 %, rounded down, at least 1; 0 stays "none". */
	ck_assert_uint_eq(config_lifetime_soft(0), 0);
	ck_assert_uint_eq(config_lifetime_soft(1), 1);
	ck_assert_uint_eq(config_lifetime_soft(2), 1);
	ck_assert_uint_eq(config_lifetime_soft(5), 4);
	ck_assert_uint_eq(config_lifetime_soft(100), 90);
	ck_assert_uint_eq(config_lifetime_soft(1000000), 900000);
	ck_assert_uint_eq(config_lifetime_soft(UINT64_MAX), 16602069666338596453ULL);
	config_free(cfg);
}
END_TEST

START_TEST(error_buffer_is_truncated_safely)
{
	struct config *cfg;
	char err[16];

	memset(err, 'x', sizeof(err));
	ck_assert_int_eq(config_load_string("- a\n", 4, "config.yaml", &cfg, err, sizeof(err)), -1);
	ck_assert_uint_eq(strlen(err), sizeof(err) - 1);
	ck_assert_int_eq(config_load_string("- a\n", 4, "config.yaml", &cfg, NULL, 0), -1);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");

	tcase_add_test(tc, design_example_resolves_every_field);
	tcase_add_test(tc, defaults_apply);
	tcase_add_test(tc, identities_of_every_kind_and_volume_lifetimes);
	tcase_add_test(tc, proposal_lists_ikev2_and_aead);
	tcase_add_test(tc, workers_list_neighbours_and_ipv6);
	tcase_add_test(tc, tcp_mss_clamp_and_bypass);
	tcase_add_test(tc, psk_file_is_read_relative_to_the_config);
	tcase_add_loop_test(tc, bad_file_is_refused_with_key_and_line, 0,
	                    (int)ARRAY_SIZE(bad_cases));
	tcase_add_test(tc, tunnel_names_are_one_namespace);
	tcase_add_test(tc, static_sa_lifetime_and_initial_seq);
	tcase_add_test(tc, error_buffer_is_truncated_safely);
	suite_add_tcase(s, tc);
	tc = tcase_create("fuzz");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, truncated_and_mangled_files_never_crash);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(config_suite)
