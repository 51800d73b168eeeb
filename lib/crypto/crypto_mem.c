/* SPDX-License-Identifier: BSD-3-Clause */
/* Key memory and secret handling over libsodium. */
#include "crypto_mem.h"

#include <string.h>

#include <sodium.h>

int crypto_init(void)
{
	/* 1 means "already initialised", which is success for us. */
	return sodium_init() >= 0 ? 0 : -1;
}

void *crypto_key_alloc(size_t len)
{
	/*
	 * sodium_malloc mlocks the pages and puts guard pages around them;
	 * it fills the region with garbage (to catch reads of uninitialised
	 * memory), so zero it: callers rely on a clean key buffer.
	 */
	void *p = sodium_malloc(len);

	if (p != NULL)
		memset(p, 0, len);
	return p;
}

void crypto_key_free(void *p)
{
	/* sodium_free wipes before unlocking and releasing; NULL is a no-op. */
	sodium_free(p);
}

void crypto_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}

bool crypto_ct_equal(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0;
}
