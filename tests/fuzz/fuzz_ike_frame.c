/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the IKE glue's frame parser (control/ike_frame.c): any
 * bytes as a punted frame give a payload inside the input or a reason,
 * never a read outside it. A frame that parses is rebuilt with
 * ike_frame_build from what the parser returned and must parse back to
 * the same endpoints and payload.
 *
 * Built with -DFUZZ_IKE_FRAME_SEEDS_MAIN it is instead a program writing
 * the seed corpus (ike_frame_N.bin) into the directory given.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike_frame.h"

static const uint8_t MAC_A[6] = { 2, 0, 0, 0, 0, 1 }, MAC_B[6] = { 2, 0, 0, 0, 0, 2 };

#ifndef FUZZ_IKE_FRAME_SEEDS_MAIN

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[IKE_MSG_MAX + IKE_FRAME_OVERHEAD + 64];
	struct ike_frame_rx rx, back;
	size_t n;

	if (ike_frame_parse(data, size, &rx) != IKE_FRAME_OK)
		return 0;
	if (rx.payload_len > size ||
	    (rx.payload_len > 0 &&
	     (rx.payload < data || rx.payload + rx.payload_len > data + size)))
		abort();
	(void)ike_frame_is_keepalive(rx.local.port, rx.payload, rx.payload_len);
	/* As the peer would send it back to us: remote -> local. */
	n = ike_frame_build(out, sizeof(out), MAC_A, MAC_B, &rx.remote, &rx.local, 1, rx.payload,
	                    rx.payload_len);
	if (rx.payload_len <= IKE_MSG_MAX && n == 0)
		abort();
	if (n == 0)
		return 0;
	if (ike_frame_parse(out, n, &back) != IKE_FRAME_OK ||
	    !ike_endpoint_eq(&back.local, &rx.local) ||
	    !ike_endpoint_eq(&back.remote, &rx.remote) || back.payload_len != rx.payload_len ||
	    (rx.payload_len > 0 && memcmp(back.payload, rx.payload, rx.payload_len) != 0))
		abort();
	return 0;
}

#else

static void endpoint(struct ike_endpoint *e, uint8_t family, uint8_t last, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->family = family;
	if (family == TS_IPV4) {
		e->addr[0] = 203, e->addr[2] = 113, e->addr[3] = last;
	} else {
		e->addr[0] = 0x20, e->addr[1] = 0x01, e->addr[2] = 0x0d, e->addr[3] = 0xb8;
		e->addr[15] = last;
	}
	e->port = port;
}

int main(int argc, char **argv)
{
	static const struct {
		uint8_t family;
		uint16_t port;
		size_t len;
	} seeds[] = { { TS_IPV4, 500, 28 },
		      { TS_IPV4, 4500, 1 },
		      { TS_IPV6, 4500, 33 },
		      { TS_IPV6, 500, 300 },
		      { TS_IPV4, 4500, 0 } };
	uint8_t payload[512], out[1024];
	unsigned i;

	if (argc != 2)
		return 2;
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13 + 1);
	payload[0] = 0xff; /* the 1-byte seed is a NAT keepalive */
	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		struct ike_endpoint l, r;
		char path[4096];
		size_t n;
		FILE *f;

		endpoint(&l, seeds[i].family, 1, seeds[i].port);
		endpoint(&r, seeds[i].family, 7, seeds[i].port);
		n = ike_frame_build(out, sizeof(out), MAC_A, MAC_B, &r, &l, (uint16_t)i, payload,
		                    seeds[i].len);
		snprintf(path, sizeof(path), "%s/ike_frame_%u.bin", argv[1], i);
		f = fopen(path, "wb");
		if (n == 0 || f == NULL || fwrite(out, 1, n, f) != n || fclose(f) != 0)
			return 1;
	}
	return 0;
}

#endif
