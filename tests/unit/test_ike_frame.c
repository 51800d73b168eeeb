/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKE datagrams as Ethernet frames (control/ike_frame.c): frames built
 * byte for byte as scapy builds them (reference bytes below, checksums
 * included), parsed back, and every way a punted frame can be unsound
 * dropped with its reason, never read past its end.
 */
#include <arpa/inet.h>

#include "unit/testutil.h"

#include "compiler.h"
#include "ike_frame.h"

static const uint8_t MAC_PEER[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t MAC_US[6] = { 2, 0, 0, 0, 0, 1 };

/*
 * scapy 2.5: Ether(dst=02:..:02, src=02:..:01) / IP(src=203.0.113.1,
 * dst=198.51.100.7, id=0x1234, ttl=64, flags=0) / UDP(500, 500) /
 * bytes 1..28.
 */
static const char V4_FRAME[] =
        "020000000002020000000001080045000038123400004011 0245cb007101c6336407"
        "01f401f40024d0ae0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c";
/*
 * Ether(...) / IPv6(src=2001:db8::1, dst=2001:db8:1::7, hlim=64) /
 * UDP(4500, 4501) / 00000000 (non-ESP marker) + bytes 1..29.
 */
static const char V6_FRAME[] =
        "02000000000202000000000186dd600000000029114020010db8000000000000000000000001"
        "20010db80001000000000000000000071194119500299f25000000000102030405060708090a0b0c"
        "0d0e0f101112131415161718191a1b1c1d";

static void endpoint(struct ike_endpoint *e, const char *addr, uint16_t port)
{
	bool v6 = strchr(addr, ':') != NULL;

	memset(e, 0, sizeof(*e));
	e->family = v6 ? TS_IPV6 : TS_IPV4;
	ck_assert(inet_pton(v6 ? AF_INET6 : AF_INET, addr, e->addr) == 1);
	e->port = port;
}

static size_t v4_payload(uint8_t *p)
{
	size_t i;

	for (i = 0; i < 28; i++)
		p[i] = (uint8_t)(i + 1);
	return 28;
}

static size_t v6_payload(uint8_t *p)
{
	size_t i;

	memset(p, 0, 4);
	for (i = 0; i < 29; i++)
		p[4 + i] = (uint8_t)(i + 1);
	return 33;
}

START_TEST(test_build_v4_matches_reference)
{
	struct ike_endpoint l, r;
	uint8_t pl[64], out[256], ref[256];
	size_t n, pn = v4_payload(pl), rn = hex2bin(V4_FRAME, ref, sizeof(ref));

	endpoint(&l, "203.0.113.1", 500);
	endpoint(&r, "198.51.100.7", 500);
	n = ike_frame_build(out, sizeof(out), MAC_PEER, MAC_US, &l, &r, 0x1234, pl, pn);
	ck_assert_uint_eq(n, rn);
	ck_assert_mem_eq(out, ref, rn);
}
END_TEST

START_TEST(test_build_v6_matches_reference)
{
	struct ike_endpoint l, r;
	uint8_t pl[64], out[256], ref[256];
	size_t n, pn = v6_payload(pl), rn = hex2bin(V6_FRAME, ref, sizeof(ref));

	endpoint(&l, "2001:db8::1", 4500);
	endpoint(&r, "2001:db8:1::7", 4501);
	n = ike_frame_build(out, sizeof(out), MAC_PEER, MAC_US, &l, &r, 0, pl, pn);
	ck_assert_uint_eq(n, rn);
	ck_assert_mem_eq(out, ref, rn);
}
END_TEST

/* The reference frames parse into the endpoints seen from the receiver. */
START_TEST(test_parse_reference)
{
	uint8_t f[256], pl[64];
	size_t n = hex2bin(_i == 0 ? V4_FRAME : V6_FRAME, f, sizeof(f));
	size_t pn = _i == 0 ? v4_payload(pl) : v6_payload(pl);
	struct ike_frame_rx rx;
	struct ike_endpoint peer, us;

	if (_i == 0) {
		/* The frame went from 203.0.113.1 to 198.51.100.7: we are .7 here. */
		endpoint(&peer, "203.0.113.1", 500);
		endpoint(&us, "198.51.100.7", 500);
	} else {
		endpoint(&peer, "2001:db8::1", 4500);
		endpoint(&us, "2001:db8:1::7", 4501);
	}
	ck_assert_int_eq(ike_frame_parse(f, n, &rx), IKE_FRAME_OK);
	ck_assert(ike_endpoint_eq(&rx.remote, &peer));
	ck_assert(ike_endpoint_eq(&rx.local, &us));
	ck_assert_uint_eq(rx.payload_len, pn);
	ck_assert_mem_eq(rx.payload, pl, pn);
	/* Ethernet padding after the IP packet is not payload. */
	memset(f + n, 0xee, 20);
	ck_assert_int_eq(ike_frame_parse(f, n + 20, &rx), IKE_FRAME_OK);
	ck_assert_uint_eq(rx.payload_len, pn);
}
END_TEST

/* Every frame cut short is refused, never read past its end. */
START_TEST(test_parse_truncated)
{
	uint8_t f[256];
	size_t n = hex2bin(_i == 0 ? V4_FRAME : V6_FRAME, f, sizeof(f)), cut;
	struct ike_frame_rx rx;

	for (cut = 0; cut < n; cut++) {
		/* A copy of exactly cut bytes on the heap: ASan sees any overread. */
		uint8_t *p = malloc(cut ? cut : 1);

		memcpy(p, f, cut);
		ck_assert_msg(ike_frame_parse(p, cut, &rx) != IKE_FRAME_OK, "cut at %zu accepted",
		              cut);
		free(p);
	}
}
END_TEST

/* Any flipped bit in the UDP header or payload breaks the checksum (or the length). */
START_TEST(test_parse_flipped_udp)
{
	uint8_t f[256];
	size_t n = hex2bin(_i == 0 ? V4_FRAME : V6_FRAME, f, sizeof(f));
	size_t udp = 14 + (_i == 0 ? 20 : 40), pos;
	struct ike_frame_rx rx;

	for (pos = udp; pos < n; pos++) {
		unsigned bit;

		for (bit = 0; bit < 8; bit++) {
			enum ike_frame_err e;

			f[pos] ^= (uint8_t)(1u << bit);
			e = ike_frame_parse(f, n, &rx);
			/* Zeroing an IPv4 checksum turns it off: that one is valid. */
			if (!(_i == 0 && pos >= udp + 6 && pos < udp + 8 && f[udp + 6] == 0 &&
			      f[udp + 7] == 0))
				ck_assert_msg(e != IKE_FRAME_OK, "flip %zu.%u accepted", pos, bit);
			f[pos] ^= (uint8_t)(1u << bit);
		}
	}
	ck_assert_int_eq(ike_frame_parse(f, n, &rx), IKE_FRAME_OK);
}
END_TEST

START_TEST(test_parse_reasons)
{
	uint8_t f[256], g[256];
	size_t n = hex2bin(V4_FRAME, f, sizeof(f)), n6;
	struct ike_frame_rx rx;

	memcpy(g, f, n);
	g[12] = 0x08, g[13] = 0x06; /* ARP */
	ck_assert_int_eq(ike_frame_parse(g, n, &rx), IKE_FRAME_NOT_IP);
	memcpy(g, f, n);
	g[14] = 0x44; /* IHL 4 words */
	ck_assert_int_eq(ike_frame_parse(g, n, &rx), IKE_FRAME_BAD_IP);
	memcpy(g, f, n);
	g[14] = 0x65; /* version 6 in an IPv4 ethertype */
	ck_assert_int_eq(ike_frame_parse(g, n, &rx), IKE_FRAME_BAD_IP);
	memcpy(g, f, n);
	g[14 + 6] = 0x20; /* MF */
	ck_assert_int_eq(ike_frame_parse(g, n, &rx), IKE_FRAME_FRAGMENT);
	memcpy(g, f, n);
	g[14 + 7] = 0x10; /* an offset */
	ck_assert_int_eq(ike_frame_parse(g, n, &rx), IKE_FRAME_FRAGMENT);
	memcpy(g, f, n);
	g[14 + 9] = 6; /* TCP */
	ck_assert_int_eq(ike_frame_parse(g, n, &rx), IKE_FRAME_NOT_UDP);
	memcpy(g, f, n);
	g[14 + 3] = 0x60; /* IP total length beyond the frame */
	ck_assert_int_eq(ike_frame_parse(g, n, &rx), IKE_FRAME_SHORT);
	memcpy(g, f, n);
	g[14 + 20 + 5] = 0x40; /* UDP length beyond the IP packet */
	ck_assert_int_eq(ike_frame_parse(g, n, &rx), IKE_FRAME_BAD_UDP);
	memcpy(g, f, n);
	g[14 + 20 + 5] = 0x04; /* UDP length below its header */
	ck_assert_int_eq(ike_frame_parse(g, n, &rx), IKE_FRAME_BAD_UDP);
	/* IPv4 without a UDP checksum is fine. */
	memcpy(g, f, n);
	g[14 + 20 + 6] = g[14 + 20 + 7] = 0;
	ck_assert_int_eq(ike_frame_parse(g, n, &rx), IKE_FRAME_OK);
	/* IPv6 without one is not. */
	n6 = hex2bin(V6_FRAME, g, sizeof(g));
	g[14 + 40 + 6] = g[14 + 40 + 7] = 0;
	ck_assert_int_eq(ike_frame_parse(g, n6, &rx), IKE_FRAME_BAD_CHECKSUM);
	n6 = hex2bin(V6_FRAME, g, sizeof(g));
	g[14 + 6] = 44; /* fragment header */
	ck_assert_int_eq(ike_frame_parse(g, n6, &rx), IKE_FRAME_FRAGMENT);
	g[14 + 6] = 0; /* hop-by-hop options: not handled */
	ck_assert_int_eq(ike_frame_parse(g, n6, &rx), IKE_FRAME_NOT_UDP);
	ck_assert_str_eq(ike_frame_err_name(IKE_FRAME_BAD_CHECKSUM), "bad_checksum");
	ck_assert_str_eq(ike_frame_err_name(IKE_FRAME_ERR_COUNT), "?");
}
END_TEST

/* Build then parse, both families, sizes from empty to an IKE message's largest. */
START_TEST(test_round_trip)
{
	static uint8_t pl[IKE_MSG_MAX], out[IKE_MSG_MAX + IKE_FRAME_OVERHEAD];
	static const size_t sizes[] = { 0, 1, 2, 27, 28, 29, 333, 1500, IKE_MSG_MAX };
	struct ike_endpoint l, r;
	struct ike_frame_rx rx;
	size_t i, k, n;

	for (i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(i * 7 + 3);
	if (_i == 0) {
		endpoint(&l, "10.1.2.3", 4500);
		endpoint(&r, "10.9.8.7", 61000);
	} else {
		endpoint(&l, "fd00::1", 500);
		endpoint(&r, "fd00:1::ffff", 500);
	}
	for (k = 0; k < ARRAY_SIZE(sizes); k++) {
		n = ike_frame_build(out, sizeof(out), MAC_PEER, MAC_US, &l, &r, (uint16_t)k, pl,
		                    sizes[k]);
		ck_assert_uint_eq(n, sizes[k] + 14 + 8 + (_i == 0 ? 20 : 40));
		ck_assert_int_eq(ike_frame_parse(out, n, &rx), IKE_FRAME_OK);
		/* Parsed as the peer receives it. */
		ck_assert(ike_endpoint_eq(&rx.remote, &l));
		ck_assert(ike_endpoint_eq(&rx.local, &r));
		ck_assert_uint_eq(rx.payload_len, sizes[k]);
		if (sizes[k])
			ck_assert_mem_eq(rx.payload, pl, sizes[k]);
	}
}
END_TEST

START_TEST(test_build_refuses)
{
	struct ike_endpoint l, r, r6;
	uint8_t pl[8] = { 0 }, out[64];

	endpoint(&l, "10.1.2.3", 500);
	endpoint(&r, "10.9.8.7", 500);
	endpoint(&r6, "fd00::1", 500);
	/* 14 + 20 + 8 + 8 = 50 bytes. */
	ck_assert_uint_eq(ike_frame_build(out, 49, MAC_PEER, MAC_US, &l, &r, 0, pl, 8), 0);
	ck_assert_uint_eq(ike_frame_build(out, 50, MAC_PEER, MAC_US, &l, &r, 0, pl, 8), 50);
	ck_assert_uint_eq(ike_frame_build(out, sizeof(out), MAC_PEER, MAC_US, &l, &r6, 0, pl, 8),
	                  0);
	l.family = 0;
	r.family = 0;
	ck_assert_uint_eq(ike_frame_build(out, sizeof(out), MAC_PEER, MAC_US, &l, &r, 0, pl, 8), 0);
}
END_TEST

START_TEST(test_keepalive)
{
	static const uint8_t ka = 0xff, other = 0xfe, two[2] = { 0xff, 0xff };

	ck_assert(ike_frame_is_keepalive(4500, &ka, 1));
	ck_assert(!ike_frame_is_keepalive(500, &ka, 1));
	ck_assert(!ike_frame_is_keepalive(4500, &other, 1));
	ck_assert(!ike_frame_is_keepalive(4500, two, 2));
	ck_assert(!ike_frame_is_keepalive(4500, two, 0));
}
END_TEST

static Suite *ike_frame_suite(void)
{
	Suite *s = suite_create("ike_frame");
	TCase *tc = tcase_create("frames");

	tcase_add_test(tc, test_build_v4_matches_reference);
	tcase_add_test(tc, test_build_v6_matches_reference);
	tcase_add_loop_test(tc, test_parse_reference, 0, 2);
	tcase_add_loop_test(tc, test_parse_truncated, 0, 2);
	tcase_add_loop_test(tc, test_parse_flipped_udp, 0, 2);
	tcase_add_test(tc, test_parse_reasons);
	tcase_add_loop_test(tc, test_round_trip, 0, 2);
	tcase_add_test(tc, test_build_refuses);
	tcase_add_test(tc, test_keepalive);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(ike_frame_suite)
