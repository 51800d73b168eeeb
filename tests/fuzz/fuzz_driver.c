/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A main() for fuzz targets where libFuzzer is not linked (gcc builds, CI's
 * sanitizer build): runs the target over every seed file given, then over
 * a fixed number of deterministic mutations of them (byte flips, inserts,
 * truncations, splices), so the target's checks and the sanitizers see far
 * more than the seeds. A crash names the iteration to replay.
 *
 *   fuzz_X [-n ITERATIONS] SEED_FILE...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Set by targets that count inputs passing all their checks. */
extern unsigned long fuzz_accepted __attribute__((weak));

#define MAX_SEEDS 64
#define MAX_INPUT 4096

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t bound)
{
	/* xorshift64*: reproducible across runs, good enough to mutate. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32) % (bound ? bound : 1);
}

static uint8_t seeds[MAX_SEEDS][MAX_INPUT];
static size_t seed_len[MAX_SEEDS];

static size_t mutate(uint8_t *out, unsigned nseeds)
{
	unsigned s = rnd(nseeds);
	size_t len = seed_len[s];
	unsigned rounds = 1 + rnd(4);

	memcpy(out, seeds[s], len);
	while (rounds--) {
		switch (rnd(5)) {
		case 0: /* flip a byte */
			if (len)
				out[rnd((uint32_t)len)] ^= (uint8_t)(1 + rnd(255));
			break;
		case 1: /* truncate */
			len = rnd((uint32_t)len + 1);
			break;
		case 2: /* insert a byte */
			if (len < MAX_INPUT) {
				size_t at = rnd((uint32_t)len + 1);
				memmove(out + at + 1, out + at, len - at);
				out[at] = (uint8_t)rnd(256);
				len++;
			}
			break;
		case 3: { /* splice the tail of another seed */
			unsigned o = rnd(nseeds);
			size_t at = rnd((uint32_t)len + 1), from = rnd((uint32_t)seed_len[o] + 1);
			size_t n = seed_len[o] - from;
			if (at + n > MAX_INPUT)
				n = MAX_INPUT - at;
			memcpy(out + at, seeds[o] + from, n);
			len = at + n;
			break;
		}
		default: /* set an interesting value (lengths, header fields) */
			if (len >= 2) {
				static const uint16_t v[] = { 0,     1,      0x7f, 0x80, 0xff,
					                      0x100, 0xffff, 4500, 50,   17 };
				size_t at = rnd((uint32_t)len - 1);
				uint16_t x = v[rnd(sizeof(v) / sizeof(v[0]))];
				out[at] = (uint8_t)(x >> 8);
				out[at + 1] = (uint8_t)x;
			}
			break;
		}
	}
	return len;
}

int main(int argc, char **argv)
{
	static uint8_t input[MAX_INPUT];
	unsigned long iterations = 20000;
	unsigned nseeds = 0;
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "-n") == 0) {
		iterations = strtoul(argv[2], NULL, 10);
		i = 3;
	}
	for (; i < argc && nseeds < MAX_SEEDS; i++) {
		FILE *f = fopen(argv[i], "rb");

		if (f == NULL) {
			perror(argv[i]);
			return 2;
		}
		seed_len[nseeds] = fread(seeds[nseeds], 1, MAX_INPUT, f);
		fclose(f);
		LLVMFuzzerTestOneInput(seeds[nseeds], seed_len[nseeds]);
		nseeds++;
	}
	if (nseeds == 0) {
		fprintf(stderr, "usage: %s [-n ITERATIONS] SEED_FILE...\n", argv[0]);
		return 2;
	}
	for (unsigned long it = 0; it < iterations; it++) {
		size_t len = mutate(input, nseeds);

		LLVMFuzzerTestOneInput(input, len);
	}
	printf("%u seeds, %lu mutated inputs: no crash", nseeds, iterations);
	if (&fuzz_accepted != NULL)
		printf(", %lu accepted", fuzz_accepted);
	printf("\n");
	return 0;
}
