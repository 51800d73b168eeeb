/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inbound anti-replay window (RFC 4303 3.4.3) with extended sequence
 * numbers (RFC 4303 appendix A), as a ring of 64-bit blocks in the style of
 * RFC 6479: a check never shifts bits, an update clears at most the blocks
 * the window moves past.
 *
 * Use: seq = esp_replay_infer(w, seq_lo) -> esp_replay_check(w, seq) before
 * the ICV -> after the ICV verifies, esp_replay_update(w, seq), which fails
 * if a packet with the same number got there first (same burst).
 */
#ifndef VPNGW_ESP_REPLAY_H
#define VPNGW_ESP_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define ESP_REPLAY_MIN 64
#define ESP_REPLAY_MAX 4096
/* Blocks in the ring: a power of two with one spare block beyond the window. */
#define ESP_REPLAY_BLOCKS 128

struct esp_replay {
	uint64_t top;    /* highest sequence number accepted so far (64-bit) */
	uint32_t window; /* packets: 0 = no replay check, else 64..4096 */
	bool esn;
	uint64_t bits[ESP_REPLAY_BLOCKS];
};

/*
 * window 0 turns the check off (sequence numbers are still inferred and
 * tracked); otherwise 64..4096. A window that is not a multiple of 64 is
 * rounded up. top is the initial top of the window (0 for a new SA); a
 * non-zero top counts as already seen, so a packet with exactly that
 * number is refused as a replay. Returns 0 or -EINVAL.
 */
int esp_replay_init(struct esp_replay *w, uint32_t window, bool esn, uint64_t top);

#define ESP_REPLAY_BLOCK_BITS 64
/*
 * Window used to infer the high half without replay check: the number
 * nearest to top wins (half the 32-bit space either side).
 */
#define ESP_REPLAY_INFER_NO_WINDOW (UINT32_C(1) << 31)

/*
 * The full 64-bit sequence number of a packet that carries seq_lo (RFC 4303
 * appendix A2.2); without ESN, seq_lo itself. Inline, as the check and
 * the update: three per packet.
 */
static inline uint64_t esp_replay_infer(const struct esp_replay *w, uint32_t seq_lo)
{
	uint32_t tl = (uint32_t)w->top;
	uint32_t th = (uint32_t)(w->top >> 32);
	uint32_t win = w->window ? w->window : ESP_REPLAY_INFER_NO_WINDOW;
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

/* True if seq may be accepted: not 0, not left of the window, not seen. */
static inline bool esp_replay_check(const struct esp_replay *w, uint64_t seq)
{
	if (seq == 0)
		return false;
	if (w->window == 0 || seq > w->top)
		return true;
	if (w->top - seq >= w->window)
		return false;
	return !(w->bits[(seq / ESP_REPLAY_BLOCK_BITS) & (ESP_REPLAY_BLOCKS - 1)] &
	         (UINT64_C(1) << (seq % ESP_REPLAY_BLOCK_BITS)));
}

/*
 * Marks seq as seen and moves the window; call only after the ICV
 * verified. False if seq was seen meanwhile or fell left of the window.
 */
static inline bool esp_replay_update(struct esp_replay *w, uint64_t seq)
{
	uint64_t *block;
	uint64_t bit;

	if (seq == 0)
		return false;
	if (w->window == 0) {
		if (seq > w->top)
			w->top = seq;
		return true;
	}
	if (seq > w->top) {
		uint64_t from = w->top / ESP_REPLAY_BLOCK_BITS;
		uint64_t diff = seq / ESP_REPLAY_BLOCK_BITS - from;

		/* Zero the blocks the top moves onto; a long jump clears all. */
		if (diff > ESP_REPLAY_BLOCKS)
			diff = ESP_REPLAY_BLOCKS;
		for (uint64_t i = 1; i <= diff; i++)
			w->bits[(from + i) & (ESP_REPLAY_BLOCKS - 1)] = 0;
		w->top = seq;
	} else if (w->top - seq >= w->window) {
		return false;
	}
	block = &w->bits[(seq / ESP_REPLAY_BLOCK_BITS) & (ESP_REPLAY_BLOCKS - 1)];
	bit = UINT64_C(1) << (seq % ESP_REPLAY_BLOCK_BITS);
	if (*block & bit)
		return false;
	*block |= bit;
	return true;
}

#endif
