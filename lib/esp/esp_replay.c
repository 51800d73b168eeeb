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

#define BLOCK_BITS 64
#define BLOCK_MASK (ESP_REPLAY_BLOCKS - 1)

static_assert((ESP_REPLAY_BLOCKS & (ESP_REPLAY_BLOCKS - 1)) == 0, "ring must be a power of two");
/* The window covers at most window/64 + 1 blocks; one block must stay spare. */
static_assert(ESP_REPLAY_MAX / BLOCK_BITS + 1 < ESP_REPLAY_BLOCKS, "ring too small for the window");

/*
 * Window used to infer the high half without replay check: the number
 * nearest to top wins (half the 32-bit space either side).
 */
#define INFER_NO_WINDOW (UINT32_C(1) << 31)

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

uint64_t esp_replay_infer(const struct esp_replay *w, uint32_t seq_lo)
{
	uint32_t tl = (uint32_t)w->top;
	uint32_t th = (uint32_t)(w->top >> 32);
	uint32_t win = w->window ? w->window : INFER_NO_WINDOW;
	/* Lowest number of the window, modulo 2^32. */
	uint32_t bottom = tl - win + 1;
	uint32_t hi;

	if (!w->esn)
		return seq_lo;
	if (tl >= win - 1) {
		/* The window lies within one 2^32 subspace (RFC 4303 A2.2 case A). */
		hi = seq_lo >= bottom ? th : th + 1;
	} else {
		/*
		 * The window reaches back into the previous subspace (case B):
		 * a large seq_lo belongs there, unless there is none (th = 0).
		 */
		hi = (seq_lo >= bottom && th > 0) ? th - 1 : th;
	}
	return (uint64_t)hi << 32 | seq_lo;
}

bool esp_replay_check(const struct esp_replay *w, uint64_t seq)
{
	if (unlikely(seq == 0))
		return false;
	if (w->window == 0 || seq > w->top)
		return true;
	if (w->top - seq >= w->window)
		return false;
	return !(w->bits[(seq / BLOCK_BITS) & BLOCK_MASK] & (UINT64_C(1) << (seq % BLOCK_BITS)));
}

bool esp_replay_update(struct esp_replay *w, uint64_t seq)
{
	uint64_t *block;
	uint64_t bit;

	if (unlikely(seq == 0))
		return false;
	if (w->window == 0) {
		if (seq > w->top)
			w->top = seq;
		return true;
	}
	if (seq > w->top) {
		uint64_t from = w->top / BLOCK_BITS;
		uint64_t diff = seq / BLOCK_BITS - from;

		/* Zero the blocks the top moves onto; a long jump clears all. */
		if (diff > ESP_REPLAY_BLOCKS)
			diff = ESP_REPLAY_BLOCKS;
		for (uint64_t i = 1; i <= diff; i++)
			w->bits[(from + i) & BLOCK_MASK] = 0;
		w->top = seq;
	} else if (w->top - seq >= w->window) {
		return false;
	}
	block = &w->bits[(seq / BLOCK_BITS) & BLOCK_MASK];
	bit = UINT64_C(1) << (seq % BLOCK_BITS);
	if (*block & bit)
		return false;
	*block |= bit;
	return true;
}
