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

/*
 * The full 64-bit sequence number of a packet that carries seq_lo (RFC 4303
 * appendix A2.2); without ESN, seq_lo itself.
 */
uint64_t esp_replay_infer(const struct esp_replay *w, uint32_t seq_lo);

/* True if seq may be accepted: not 0, not left of the window, not seen. */
bool esp_replay_check(const struct esp_replay *w, uint64_t seq);

/*
 * Marks seq as seen and moves the window; call only after the ICV
 * verified. False if seq was seen meanwhile or fell left of the window.
 */
bool esp_replay_update(struct esp_replay *w, uint64_t seq);

#endif
