/* SPDX-License-Identifier: BSD-3-Clause */
/* The SAs shared by the inbound ESP fuzz target and its seed generator. */
#ifndef VPNGW_FUZZ_ESP_H
#define VPNGW_FUZZ_ESP_H

#include <stdint.h>

#define FUZZ_SPI_GCM  0x1000u       /* AES-128-GCM, no ESN */
#define FUZZ_SPI_CBC  0x2000u       /* AES-128-CBC + HMAC-SHA1-96, ESN */
#define FUZZ_SPI_NULL 0x3000u       /* NULL + HMAC-SHA1-96: payload mode */
#define FUZZ_ESN_TOP  0xfffffff0ull /* inbound window top: ESN inference crosses 2^32 */

static const uint8_t fuzz_gcm_key[20] = { 1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
	                                  11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
static const uint8_t fuzz_aes_key[16] = { 0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
	                                  0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c };
static const uint8_t fuzz_sha1_key[20] = { 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
	                                   0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
	                                   0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b };

#endif
