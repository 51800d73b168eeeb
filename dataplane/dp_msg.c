/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>

#include <rte_lcore.h>

#include "dp_msg.h"

struct rte_ring *dp_msg_ring_create(const char *name, unsigned count, bool events)
{
	unsigned esize = events ? sizeof(struct dp_event) : sizeof(struct dp_msg);

	return rte_ring_create_elem(name, esize, count, (int)rte_socket_id(),
	                            RING_F_SP_ENQ | RING_F_SC_DEQ);
}

int dp_msg_send(struct rte_ring *r, const struct dp_msg *m)
{
	return rte_ring_enqueue_elem(r, (void *)(uintptr_t)m, sizeof(*m)) == 0 ? 0 : -ENOBUFS;
}
