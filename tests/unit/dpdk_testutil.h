/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK pieces shared by the unit suites that run over mbufs: the EAL once
 * (no hugepages, PCI or telemetry), an mbuf pool, mbufs over external
 * buffers of exactly the frame's size, a checksum reference written apart
 * from the code under test, and the suite run in one process.
 */
#ifndef VPNGW_DPDK_TESTUTIL_H
#define VPNGW_DPDK_TESTUTIL_H

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "unit/testutil.h"

#include "compiler.h"

/* EAL for test NAME (also argv[0]), file prefix vpngw_NAME; exits on failure. */
static inline void test_eal_init(const char *name)
{
	static char prog[64], prefix[80];
	char *argv[] = { prog,
		         "--no-huge",
		         "--no-pci",
		         "-m",
		         "256",
		         "-l",
		         "0",
		         "--file-prefix",
		         prefix,
		         "--no-telemetry",
		         "--log-level=*:warning",
		         NULL };

	snprintf(prog, sizeof(prog), "%s", name);
	snprintf(prefix, sizeof(prefix), "vpngw_%s", name);
	if (rte_eal_init((int)ARRAY_SIZE(argv) - 1, argv) < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		exit(EXIT_FAILURE);
	}
}

/* A pool of n mbufs of data_room bytes each; exits on failure. */
static inline struct rte_mempool *test_pool_create(const char *name, unsigned n, uint16_t data_room)
{
	struct rte_mempool *mp = rte_pktmbuf_pool_create(name, n, 0, 0, data_room, SOCKET_ID_ANY);

	if (mp == NULL) {
		fprintf(stderr, "pool creation failed\n");
		exit(EXIT_FAILURE);
	}
	return mp;
}

static inline void test_ext_free(void *addr, void *opaque)
{
	free(addr);
	free(opaque);
}

/*
 * An mbuf from mp whose data is a malloc'd buffer of exactly n bytes (an
 * external buffer), so that ASan reports any read past the frame.
 */
static inline struct rte_mbuf *test_mbuf_ext(struct rte_mempool *mp, const uint8_t *b, size_t n)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	struct rte_mbuf_ext_shared_info *sh = malloc(sizeof(*sh));
	uint8_t *buf = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(m);
	ck_assert(sh != NULL && buf != NULL && n <= UINT16_MAX);
	memcpy(buf, b, n);
	memset(sh, 0, sizeof(*sh));
	sh->free_cb = test_ext_free;
	sh->fcb_opaque = sh;
	rte_mbuf_ext_refcnt_set(sh, 1);
	rte_pktmbuf_attach_extbuf(m, buf, RTE_BAD_IOVA, (uint16_t)(n ? n : 1), sh);
	m->data_off = 0;
	m->data_len = (uint16_t)n;
	m->pkt_len = (uint32_t)n;
	return m;
}

/*
 * Internet checksum reference, written apart from the code under test:
 * byte pairs summed by hand onto acc, folded (not complemented).
 */
static inline uint16_t ref_sum(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i < n; i++)
		acc += (i % 2 == 0) ? (uint32_t)p[i] * 256u : p[i];
	while (acc > 0xffff)
		acc = (acc >> 16) + (acc & 0xffff);
	return (uint16_t)acc;
}

/*
 * Runs suite s in this process (the EAL and its memory are not meant to be
 * forked), then cleans the EAL up: the exit status of the test.
 */
static inline int test_run_nofork(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rte_eal_cleanup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
