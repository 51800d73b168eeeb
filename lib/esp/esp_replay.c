/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anti-replay window as a ring of 64-bit blocks (RFC 6479). Bit b of the
 * ring stands for sequence number b modulo the ring size; a number is
 * valid only within [top - window + 1, top], so stale bits of blocks the
 * window left behind are never read, and moving the window only zeroes
 * the blocks it moves onto.
 */
#include <errno.h>
#include <string.h>

#include "compiler.h"
#include "esp_replay.h"

#define BLOCK_BITS ESP_REPLAY_BLOCK_BITS
#define BLOCK_MASK (ESP_REPLAY_BLOCKS - 1)

static_assert((ESP_REPLAY_BLOCKS & (ESP_REPLAY_BLOCKS - 1)) == 0, "ring must be a power of two");
/* The window covers at most window/64 + 1 blocks; one block must stay spare. */
static_assert(ESP_REPLAY_MAX / BLOCK_BITS + 1 < ESP_REPLAY_BLOCKS, "ring too small for the window");

int esp_replay_init(struct esp_replay *w, uint32_t window, bool esn, uint64_t top)
{
	memset(w, 0, sizeof(*w));
	if (window != 0 && (window < ESP_REPLAY_MIN || window > ESP_REPLAY_MAX))
		return -EINVAL;
	w->window = (window + BLOCK_BITS - 1) & ~(uint32_t)(BLOCK_BITS - 1);
	w->esn = esn;
	w->top = top;
	/* The initial top counts as received: one packet with it is a replay. */
	if (w->window != 0 && top != 0)
		w->bits[(top / BLOCK_BITS) & BLOCK_MASK] |= UINT64_C(1) << (top % BLOCK_BITS);
	return 0;
}
