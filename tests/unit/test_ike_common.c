/* SPDX-License-Identifier: BSD-3-Clause */
/* The shared IKE pieces: marker, versions, status and causes, IDs, NAT-D, backoff. */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit/testutil.h"

#include "compiler.h"
#include "crypto_mem.h"
#include "ike.h"

static struct ike_endpoint ep(const char *ip, uint16_t port)
{
	struct ike_endpoint e = { 0 };
	bool v6 = strchr(ip, ':') != NULL;

	ck_assert(inet_pton(v6 ? AF_INET6 : AF_INET, ip, e.addr) == 1);
	e.family = v6 ? TS_IPV6 : TS_IPV4;
	e.port = port;
	return e;
}

START_TEST(test_endpoint)
{
	struct ike_endpoint a = ep("198.51.100.7", 500), b = ep("198.51.100.7", 4500);
	struct ike_endpoint c = ep("2001:db8::1", 4500);
	char buf[64];

	ck_assert(ike_endpoint_same_addr(&a, &b));
	ck_assert(!ike_endpoint_eq(&a, &b));
	ck_assert(!ike_endpoint_same_addr(&a, &c));
	ck_assert_str_eq(ike_endpoint_str(&a, buf, sizeof(buf)), "198.51.100.7:500");
	ck_assert_str_eq(ike_endpoint_str(&c, buf, sizeof(buf)), "[2001:db8::1]:4500");
	/* Truncation keeps a terminated string. */
	ck_assert_uint_eq(strlen(ike_endpoint_str(&c, buf, 5)), 4);
}
END_TEST

START_TEST(test_marker)
{
	uint8_t dgram[4 + 28] = { 0 };
	uint8_t esp[4 + 28] = { 0, 0, 0x10, 0 };
	uint8_t keepalive[1] = { 0xff };
	size_t n;

	dgram[4 + 17] = 0x20;
	ck_assert_ptr_eq(ike_payload_strip(4500, dgram, sizeof(dgram), &n), dgram + 4);
	ck_assert_uint_eq(n, 28);
	ck_assert_uint_eq(ike_major_version(dgram + 4, n), 2);
	/* On 500 there is no marker: the datagram is the message. */
	ck_assert_ptr_eq(ike_payload_strip(500, dgram + 4, 28, &n), dgram + 4);
	ck_assert_ptr_null(ike_payload_strip(4500, esp, sizeof(esp), &n));
	ck_assert_ptr_null(ike_payload_strip(4500, keepalive, sizeof(keepalive), &n));
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(ike_payload_strip(500, dgram, 27, &n));
	ck_assert_uint_eq(ike_major_version(dgram, 10), 0);
	dgram[4 + 17] = 0x10;
	ck_assert_uint_eq(ike_major_version(dgram + 4, 28), 1);
}
END_TEST

START_TEST(test_status)
{
	struct ike_status s = { 0 };

	ck_assert_str_eq(ike_state_name(IKE_STATE_PHASE2_SUCCEEDED), "phase2 succeeded");
	ck_assert_str_eq(ike_state_name(IKE_STATE_DOWN), "down");
	ck_assert_str_eq(ike_cause_code(IKE_CAUSE_PSK_MISMATCH), "psk_mismatch");
	ck_assert_str_eq(ike_cause_remedy(IKE_CAUSE_PSK_MISMATCH),
	                 "set the same pre-shared key on both sides");
	ck_assert_str_eq(ike_state_name((enum ike_state)99), "?");

	ike_status_set(&s, IKE_STATE_PHASE1_NEGOTIATING, 100);
	ck_assert_uint_eq(s.since_ms, 100);
	ike_status_set(&s, IKE_STATE_PHASE1_NEGOTIATING, 200); /* unchanged: since kept */
	ck_assert_uint_eq(s.since_ms, 100);
	ike_status_fail(&s, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_PROPOSAL_MISMATCH, 300, NULL,
	                "no acceptable %s", "encryption");
	ck_assert_int_eq(s.state, IKE_STATE_PHASE1_FAILED);
	ck_assert_int_eq(s.cause, IKE_CAUSE_PROPOSAL_MISMATCH);
	ck_assert_str_eq(s.evidence, "no acceptable encryption");
	ck_assert_str_eq(s.remedy, "align the algorithms on both sides");
	ck_assert_uint_eq(s.since_ms, 300);
	ck_assert_uint_eq(s.failures[IKE_CAUSE_PROPOSAL_MISMATCH], 1);
	ike_status_fail(&s, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_PROPOSAL_MISMATCH, 400,
	                "set ike.encryption: aes256", "again");
	ck_assert_uint_eq(s.since_ms, 300);
	ck_assert_str_eq(s.remedy, "set ike.encryption: aes256");
	ck_assert_uint_eq(s.failures[IKE_CAUSE_PROPOSAL_MISMATCH], 2);
	/* A new attempt keeps the failure on show until it gets past it. */
	ike_status_set(&s, IKE_STATE_PHASE1_NEGOTIATING, 450);
	ck_assert_int_eq(s.state, IKE_STATE_PHASE1_NEGOTIATING);
	ck_assert_int_eq(s.cause, IKE_CAUSE_PROPOSAL_MISMATCH);
	ck_assert_str_eq(s.evidence, "again");
	ck_assert_uint_eq(s.since_ms, 450);
	ike_status_set(&s, IKE_STATE_PHASE2_NEGOTIATING, 460); /* phase 1 passed */
	ck_assert_int_eq(s.cause, IKE_CAUSE_NONE);
	ike_status_fail(&s, IKE_STATE_PHASE2_FAILED, IKE_CAUSE_TS_MISMATCH, 470, NULL, "TS");
	ike_status_set(&s, IKE_STATE_PHASE1_NEGOTIATING, 480);
	ck_assert_int_eq(s.cause, IKE_CAUSE_TS_MISMATCH);
	ike_status_set(&s, IKE_STATE_PHASE2_NEGOTIATING, 490); /* phase 2 may fail again */
	ck_assert_int_eq(s.cause, IKE_CAUSE_TS_MISMATCH);
	ck_assert_str_eq(s.evidence, "TS");
	/* Success clears the failure but keeps the counts. */
	ike_status_set(&s, IKE_STATE_PHASE2_SUCCEEDED, 500);
	ck_assert_int_eq(s.cause, IKE_CAUSE_NONE);
	ck_assert_str_eq(s.evidence, "");
	ck_assert_str_eq(s.remedy, "");
	ck_assert_uint_eq(s.failures[IKE_CAUSE_PROPOSAL_MISMATCH], 2);
	ck_assert_uint_eq(s.since_ms, 500);
}
END_TEST

/* A peer heard in the other IKE version explains our phase 1 failures for a while. */
START_TEST(other_version_explains_phase1_failures)
{
	struct ike_status s;

	memset(&s, 0, sizeof(s));
	ike_status_other_version(&s, 1, true, 1000, "peer %s sent IKEv1", "198.51.100.7:500");
	ck_assert_int_eq(s.cause, IKE_CAUSE_IKE_VERSION_MISMATCH);
	ck_assert_str_eq(s.evidence, "peer 198.51.100.7:500 sent IKEv1");
	ck_assert_str_eq(s.remedy, ike_cause_remedy(IKE_CAUSE_IKE_VERSION_MISMATCH));
	/* Our own IKE_SA_INIT then gets NO_PROPOSAL_CHOSEN: still the version. */
	ike_status_fail(&s, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_PROPOSAL_MISMATCH, 3500, NULL,
	                "the peer answered NO_PROPOSAL_CHOSEN");
	ck_assert_int_eq(s.cause, IKE_CAUSE_IKE_VERSION_MISMATCH);
	ck_assert_str_eq(s.evidence,
	                 "the peer speaks IKEv1 (heard 2 s ago), this connection IKEv2; our "
	                 "attempt: "
	                 "proposal_mismatch: the peer answered NO_PROPOSAL_CHOSEN");
	ck_assert_uint_eq(s.failures[IKE_CAUSE_IKE_VERSION_MISMATCH], 2);
	ck_assert_uint_eq(s.failures[IKE_CAUSE_PROPOSAL_MISMATCH], 0);
	/* ... or silence. A psk_mismatch is no version question. */
	ike_status_fail(&s, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_PEER_NOT_RESPONDING, 4000, NULL,
	                "retransmits exhausted");
	ck_assert_int_eq(s.cause, IKE_CAUSE_IKE_VERSION_MISMATCH);
	ike_status_fail(&s, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_PSK_MISMATCH, 4000, NULL, "AUTH");
	ck_assert_int_eq(s.cause, IKE_CAUSE_PSK_MISMATCH);
	/* Remembered without recording (the host rate-limits the record). */
	ike_status_other_version(&s, 1, false, 5000, "unused");
	ck_assert_int_eq(s.cause, IKE_CAUSE_PSK_MISMATCH);
	/* Long after the peer was last heard in IKEv1: taken as it comes. */
	ike_status_fail(&s, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_PROPOSAL_MISMATCH,
	                5000 + IKE_OTHER_VERSION_MS + 1, NULL, "NO_PROPOSAL_CHOSEN");
	ck_assert_int_eq(s.cause, IKE_CAUSE_PROPOSAL_MISMATCH);
	/* A tunnel that comes up forgets it. */
	ike_status_other_version(&s, 1, false, 90000, "unused");
	ike_status_set(&s, IKE_STATE_PHASE2_SUCCEEDED, 91000);
	ck_assert_uint_eq(s.other_version_ms, 0);
	ike_status_fail(&s, IKE_STATE_PHASE1_FAILED, IKE_CAUSE_PEER_NOT_RESPONDING, 92000, NULL,
	                "retransmits exhausted");
	ck_assert_int_eq(s.cause, IKE_CAUSE_PEER_NOT_RESPONDING);
}
END_TEST

START_TEST(test_ids)
{
	struct config_id c = { .type = CONFIG_ID_IPV4 };
	struct ike_id a, b;
	char buf[128];
	static const uint8_t fqdn[] = "GW.Example.net";
	static const uint8_t keyid[] = { 0x0a, 0xff };

	ck_assert(inet_pton(AF_INET, "203.0.113.1", c.addr.u.bytes) == 1);
	c.addr.family = AF_INET;
	ike_id_from_config(&a, &c);
	ck_assert_uint_eq(a.type, IKE_ID_IPV4);
	ck_assert_uint_eq(a.len, 4);
	ck_assert_str_eq(ike_id_str(&a, buf, sizeof(buf)), "ipv4:203.0.113.1");
	ck_assert_int_eq(ike_id_parse(&b, IKE_ID_IPV4, a.data, 4), 0);
	ck_assert(ike_id_eq(&a, &b));
	ck_assert_int_eq(ike_id_parse(&b, IKE_ID_IPV4, a.data, 3), -1);
	ck_assert_int_eq(ike_id_parse(&b, 99, a.data, 4), -1);
	ck_assert_int_eq(ike_id_parse(&b, IKE_ID_FQDN, fqdn, 0), -1);

	c.type = CONFIG_ID_FQDN;
	snprintf(c.value, sizeof(c.value), "gw.example.net");
	ike_id_from_config(&a, &c);
	ck_assert_int_eq(ike_id_parse(&b, IKE_ID_FQDN, fqdn, sizeof(fqdn) - 1), 0);
	ck_assert(ike_id_eq(&a, &b)); /* DNS names ignore case */
	ck_assert_str_eq(ike_id_str(&a, buf, sizeof(buf)), "fqdn:gw.example.net");
	ck_assert_int_eq(ike_id_parse(&b, IKE_ID_USER_FQDN, fqdn, sizeof(fqdn) - 1), 0);
	ck_assert(!ike_id_eq(&a, &b)); /* type differs */

	c.type = CONFIG_ID_USER_FQDN;
	snprintf(c.value, sizeof(c.value), "vpn@example.net");
	ike_id_from_config(&a, &c);
	ck_assert_str_eq(ike_id_str(&a, buf, sizeof(buf)), "user_fqdn:vpn@example.net");
	ck_assert_int_eq(ike_id_parse(&b, IKE_ID_USER_FQDN, (const uint8_t *)"VPN@example.net", 15),
	                 0);
	ck_assert(!ike_id_eq(&a, &b)); /* the user part is case sensitive */

	ck_assert_int_eq(ike_id_parse(&b, IKE_ID_KEY_ID, keyid, sizeof(keyid)), 0);
	ck_assert_str_eq(ike_id_str(&b, buf, sizeof(buf)), "keyid:0x0aff");
	/* A config KEY_ID (keyid:0x0aff) is the same identity; a text one prints as text. */
	c.type = CONFIG_ID_KEY_ID;
	memcpy(c.key_id, keyid, sizeof(keyid));
	c.key_id_len = sizeof(keyid);
	ike_id_from_config(&a, &c);
	ck_assert(ike_id_eq(&a, &b));
	memcpy(c.key_id, "branch-17", 9);
	c.key_id_len = 9;
	ike_id_from_config(&a, &c);
	ck_assert_uint_eq(a.type, IKE_ID_KEY_ID);
	ck_assert(!ike_id_eq(&a, &b));
	ck_assert_str_eq(ike_id_str(&a, buf, sizeof(buf)), "keyid:branch-17");
	/* Peer bytes that are not printable never reach a log raw. */
	ck_assert_int_eq(ike_id_parse(&b, IKE_ID_FQDN, (const uint8_t *)"a\nb", 3), 0);
	ck_assert_str_eq(ike_id_str(&b, buf, sizeof(buf)), "fqdn:a?b");
}
END_TEST

/*
 * Expected values from Python's hashlib:
 *   sha1(bytes(range(16)) + inet_aton("192.0.2.1") + (500).to_bytes(2, "big"))
 *   sha256(bytes(range(16)) + inet_pton(AF_INET6, "2001:db8::1") + (4500).to_bytes(2, "big"))
 */
START_TEST(test_natd)
{
	uint8_t spis[16], out[64];
	struct ike_endpoint a = ep("192.0.2.1", 500), b = ep("2001:db8::1", 4500);

	for (unsigned i = 0; i < sizeof(spis); i++)
		spis[i] = (uint8_t)i;
	ck_assert_uint_eq(ike_natd_hash(CRYPTO_PRF_HMAC_SHA1, spis, &a, out), 20);
	ck_assert_mem_eq_hex(out, "cbdb568e416b17702d6a3fd9c2b2ba148cfc6944");
	ck_assert_uint_eq(ike_natd_hash(CRYPTO_PRF_HMAC_SHA256, spis, &b, out), 32);
	ck_assert_mem_eq_hex(out,
	                     "19ad531efe2a87a23400b9732eb5aa5d5f3c01a532f148531d7947ec9171c8a9");
	a.port = 501;
	ike_natd_hash(CRYPTO_PRF_HMAC_SHA1, spis, &a, out);
	ck_assert(memcmp(out, "\xcb\xdb\x56\x8e", 4) != 0);
}
END_TEST

START_TEST(test_backoff)
{
	ck_assert_uint_eq(ike_retransmit_timeout_ms(0), IKE_RETRANSMIT_BASE_MS);
	ck_assert_uint_eq(ike_retransmit_timeout_ms(1), 2 * IKE_RETRANSMIT_BASE_MS);
	ck_assert_uint_eq(ike_retransmit_timeout_ms(2), 4 * IKE_RETRANSMIT_BASE_MS);
	ck_assert_uint_eq(ike_retransmit_timeout_ms(10), IKE_RETRANSMIT_MAX_MS);
	ck_assert_uint_eq(ike_retransmit_timeout_ms(1000), IKE_RETRANSMIT_MAX_MS);
}
END_TEST

START_TEST(test_backoff_tuned)
{
	/* 0 is the default base; other bases scale the schedule, cap included. */
	for (unsigned n = 0; n < 8; n++)
		ck_assert_uint_eq(ike_retransmit_timeout_base_ms(0, n),
		                  ike_retransmit_timeout_ms(n));
	ck_assert_uint_eq(ike_retransmit_timeout_base_ms(200, 0), 200);
	ck_assert_uint_eq(ike_retransmit_timeout_base_ms(200, 2), 800);
	ck_assert_uint_eq(ike_retransmit_timeout_base_ms(200, 9),
	                  200 * IKE_RETRANSMIT_MAX_MS / IKE_RETRANSMIT_BASE_MS);
	/* Never 0, however small the base. */
	ck_assert_uint_eq(ike_retransmit_timeout_base_ms(1, 0), 1);
}
END_TEST

START_TEST(test_jitter)
{
	bool below_half = false, above_half = false;

	ck_assert_int_eq(crypto_init(), 0);
	ck_assert_uint_eq(ike_jitter_ms(1000, true), 0);
	ck_assert_uint_eq(ike_jitter_ms(0, false), 0);
	ck_assert_uint_eq(ike_jitter_ms(1, false), 0);
	for (int i = 0; i < 200; i++) {
		uint64_t j = ike_jitter_ms(1000, false);

		ck_assert_uint_lt(j, 1000);
		below_half |= j < 500;
		above_half |= j >= 500;
	}
	/* Spread over the span (200 draws all in one half: 2^-199). */
	ck_assert(below_half && above_half);
}
END_TEST

START_TEST(test_prefixes_to_ts)
{
	struct config_prefix p[3];
	struct ts t[IKE_TS_MAX];
	char buf[TS_STR_MAX];

	memset(p, 0, sizeof(p));
	p[0].addr.family = AF_INET;
	ck_assert(inet_pton(AF_INET, "10.1.2.3", p[0].addr.u.bytes) == 1);
	p[0].len = 16; /* host bits are allowed: 10.1.0.0/16 */
	p[1].addr.family = AF_INET6;
	ck_assert(inet_pton(AF_INET6, "fd00::", p[1].addr.u.bytes) == 1);
	p[1].len = 64;
	p[2].addr.family = AF_INET;
	ck_assert(inet_pton(AF_INET, "192.0.2.1", p[2].addr.u.bytes) == 1);
	p[2].len = 32;
	ck_assert_uint_eq(ike_prefixes_to_ts(p, 3, t, IKE_TS_MAX), 3);
	ck_assert_uint_eq(t[0].family, TS_IPV4);
	ts_format(&t[0], buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "10.1.0.0/16"));
	ck_assert_uint_eq(t[1].family, TS_IPV6);
	ck_assert_int_eq(ts_prefix_len(&t[1]), 64);
	ck_assert_int_eq(ts_prefix_len(&t[2]), 32);
	/* No more than cap. */
	ck_assert_uint_eq(ike_prefixes_to_ts(p, 3, t, 2), 2);
}
END_TEST

START_TEST(test_algs)
{
	struct config_algs a = { .ids = { CRYPTO_ENCR_AES256_CBC, CRYPTO_ENCR_AES128_CBC },
		                 .n = 2 };
	struct ike_choice c = { .encr = CRYPTO_ENCR_AES128_GCM16,
		                .prf = CRYPTO_PRF_HMAC_SHA256,
		                .dh = CRYPTO_DH_ECP256,
		                .has_prf = true,
		                .has_dh = true };
	char buf[128];

	ck_assert(ike_algs_has(&a, CRYPTO_ENCR_AES128_CBC));
	ck_assert(!ike_algs_has(&a, CRYPTO_ENCR_3DES_CBC));
	ck_assert_str_eq(ike_algs_str(&a, buf, sizeof(buf)), "aes256, aes");
	ck_assert_str_eq(ike_choice_str(&c, buf, sizeof(buf)), "aes-gcm-128/prfsha256/group19");
	c.encr = CRYPTO_ENCR_AES128_CBC;
	c.integ = CRYPTO_INTEG_HMAC_SHA1_96;
	c.has_integ = true;
	c.has_prf = false;
	c.has_dh = false;
	ck_assert_str_eq(ike_choice_str(&c, buf, sizeof(buf)), "aes/sha1");
}
END_TEST

static const char cfg_yaml[] =
        "gateway:\n"
        "  name: gw\n"
        "  ports:\n"
        "    - {name: lan, device: net_null0, role: private, address: 10.0.0.1/24}\n"
        "    - {name: wan, device: net_null1, role: public, address: 203.0.113.1/24,\n"
        "       gateway: 203.0.113.254}\n"
        "customer_gateways:\n"
        "  - {name: a, address: 198.51.100.7}\n"
        "  - {name: b, address: 198.51.100.8}\n"
        "connections:\n"
        "  - {name: c1, customer_gateway: a, local_subnets: [10.0.0.0/24],\n"
        "     remote_subnets: [192.168.0.0/24], psk: x}\n"
        "  - {name: c2, customer_gateway: b, local_subnets: [10.0.0.0/24],\n"
        "     remote_subnets: [192.168.1.0/24], psk: x}\n"
        "  - {name: c3, customer_gateway: a, local_subnets: [10.0.0.0/24],\n"
        "     remote_subnets: [192.168.2.0/24], psk: x}\n";

START_TEST(test_config_helpers)
{
	char path[] = "/tmp/ike_common_XXXXXX", err[512];
	struct config *cfg;
	struct ike_endpoint peer = ep("198.51.100.7", 4500), local, other = ep("198.51.100.9", 500);
	struct ike_endpoint v6 = ep("2001:db8::7", 500);
	char buf[64];
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, cfg_yaml, sizeof(cfg_yaml) - 1), (ssize_t)sizeof(cfg_yaml) - 1);
	close(fd);
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "%s", err);
	unlink(path);

	ck_assert_int_eq(ike_local_endpoint(cfg, &peer, &local), 0);
	ck_assert_str_eq(ike_endpoint_str(&local, buf, sizeof(buf)), "203.0.113.1:4500");
	ck_assert_int_eq(ike_local_endpoint(cfg, &v6, &local), -1);

	ck_assert_int_eq(ike_conn_by_peer(cfg, &peer, 0), 0);
	ck_assert_int_eq(ike_conn_by_peer(cfg, &peer, 1), 2);
	ck_assert_int_eq(ike_conn_by_peer(cfg, &peer, 3), -1);
	ck_assert_int_eq(ike_conn_by_peer(cfg, &other, 0), -1);
	config_free(cfg);
}
END_TEST

static Suite *ike_common_suite(void)
{
	Suite *s = suite_create("ike_common");
	TCase *tc = tcase_create("common");

	tcase_add_test(tc, test_endpoint);
	tcase_add_test(tc, test_marker);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, other_version_explains_phase1_failures);
	tcase_add_test(tc, test_ids);
	tcase_add_test(tc, test_natd);
	tcase_add_test(tc, test_backoff);
	tcase_add_test(tc, test_backoff_tuned);
	tcase_add_test(tc, test_jitter);
	tcase_add_test(tc, test_prefixes_to_ts);
	tcase_add_test(tc, test_algs);
	tcase_add_test(tc, test_config_helpers);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(ike_common_suite)
