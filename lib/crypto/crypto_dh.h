/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Diffie-Hellman for IKE: MODP groups 1, 2, 5, 14, 15, 16 (RFC 2409, 3526)
 * and ECP 19, 20, 21 (RFC 5903) through OpenSSL EVP; group 31 (Curve25519,
 * RFC 8031) through libsodium.
 *
 * Public values are in IKE's encoding: MODP big-endian, left-padded to the
 * prime's length; ECP x | y (no 0x04 prefix), each padded to the field
 * size; Curve25519 the 32-byte u-coordinate. The shared secret likewise:
 * MODP padded to the prime length, ECP the x coordinate, X25519 32 bytes.
 */
#ifndef VPNGW_CRYPTO_DH_H
#define VPNGW_CRYPTO_DH_H

#include <stddef.h>
#include <stdint.h>

#include "crypto_alg.h"

#define CRYPTO_DH_MAX_PUBLIC 512 /* MODP 4096 */
#define CRYPTO_DH_MAX_SECRET 512

struct crypto_dh;

/* A new key pair for group (a CRYPTO_DH_* id); NULL on failure. */
struct crypto_dh *crypto_dh_new(enum crypto_alg_id group);

/*
 * A key pair from a given private value (known-answer tests only):
 * MODP/ECP big-endian scalar, X25519 the 32-byte scalar.
 */
struct crypto_dh *crypto_dh_new_private(enum crypto_alg_id group, const uint8_t *priv,
                                        size_t priv_len);

enum crypto_alg_id crypto_dh_group(const struct crypto_dh *dh);

/* Writes the public value (crypto_alg(group)->out_len bytes); returns that length or -EINVAL. */
int crypto_dh_public(const struct crypto_dh *dh, uint8_t *out, size_t cap);

/*
 * Derives the shared secret from the peer's public value after validating
 * it: exact length; MODP 1 < y < p-1; ECP a point on the curve; X25519 not
 * yielding the all-zero secret. Returns the secret length, -EINVAL for a
 * wrong length or small buffer, -EBADMSG for an invalid public value.
 */
int crypto_dh_shared(struct crypto_dh *dh, const uint8_t *peer, size_t peer_len, uint8_t *secret,
                     size_t cap);

/* Frees and wipes the private key; NULL is ignored. */
void crypto_dh_free(struct crypto_dh *dh);

#endif
