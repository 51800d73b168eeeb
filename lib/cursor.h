/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bounded byte cursor: the only way untrusted bytes (IKE, ESP, config) are
 * read. Every read checks what is left first, compares size_t lengths against
 * what is left (never pos + len, which can overflow), and on a short read
 * marks the cursor failed and returns zeroes, so a parser may check once at
 * the end of a structure instead of after every field.
 */
#ifndef VPNGW_CURSOR_H
#define VPNGW_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cursor {
	const uint8_t *p;
	size_t left;
	bool failed;
};

static inline struct cursor cursor_init(const void *buf, size_t len)
{
	struct cursor c = { .p = buf, .left = len, .failed = false };
	return c;
}

static inline size_t cursor_left(const struct cursor *c)
{
	return c->failed ? 0 : c->left;
}

static inline bool cursor_ok(const struct cursor *c)
{
	return !c->failed;
}

/* Returns a pointer to the next n bytes and moves past them, or NULL. */
static inline const uint8_t *cursor_take(struct cursor *c, size_t n)
{
	const uint8_t *p;

	if (c->failed || n > c->left) {
		c->failed = true;
		return NULL;
	}
	p = c->p;
	c->p += n;
	c->left -= n;
	return p;
}

static inline bool cursor_skip(struct cursor *c, size_t n)
{
	return cursor_take(c, n) != NULL;
}

static inline bool cursor_copy(struct cursor *c, void *dst, size_t n)
{
	const uint8_t *p = cursor_take(c, n);

	if (p == NULL)
		return false;
	memcpy(dst, p, n);
	return true;
}

static inline uint8_t cursor_u8(struct cursor *c)
{
	const uint8_t *p = cursor_take(c, 1);

	return p ? p[0] : 0;
}

static inline uint16_t cursor_be16(struct cursor *c)
{
	const uint8_t *p = cursor_take(c, 2);

	return p ? (uint16_t)((uint16_t)p[0] << 8 | p[1]) : 0;
}

static inline uint32_t cursor_be32(struct cursor *c)
{
	const uint8_t *p = cursor_take(c, 4);

	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

static inline uint64_t cursor_be64(struct cursor *c)
{
	uint64_t hi = cursor_be32(c);

	return hi << 32 | cursor_be32(c);
}

/*
 * A sub-cursor over the next n bytes (a payload whose declared length must
 * lie within what is left). The parent moves past them.
 */
static inline struct cursor cursor_sub(struct cursor *c, size_t n)
{
	const uint8_t *p = cursor_take(c, n);
	struct cursor s = { .p = p, .left = p ? n : 0, .failed = p == NULL };

	return s;
}

/* Big-endian stores for writers of our own packets (trusted lengths). */
static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif
