/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: probe by PCI address or vdev string, one RX queue per worker (as
 * many as the device has; more where the driver needs them: net_tap wants
 * as many RX as TX queues, net_af_packet receives on all its qpairs), one
 * TX queue per worker plus one for the control thread, MTU, link state.
 * Every RX queue is polled by some worker. Control thread only.
 */
#ifndef VPNGW_DP_PORT_H
#define VPNGW_DP_PORT_H

#include <stddef.h>

#include "dp.h"

/*
 * Creates the mbuf pool, sized from workers, ports and ring sizes, with
 * data room for max_mtu. 0 or -1 with a message in err.
 */
int dp_mempool_create(struct dp *dp, uint32_t max_mtu, char *err, size_t err_len);

/*
 * Opens dp->ports[pi] on device (PCI address or vdev string) with the
 * queues above and the port's MTU (an MTU the driver refuses is logged and
 * still enforced by the data plane). Fills port_id, n_rxq, ctl_txq, mac.
 * 0 or -1 with a message in err.
 */
int dp_port_open(struct dp *dp, unsigned pi, const char *device, char *err, size_t err_len);

/* Starts every opened port; 0 or -1 with a message in err. */
int dp_ports_start(struct dp *dp, char *err, size_t err_len);

/* Polls link state of ports without an LSC interrupt; logs changes. */
void dp_ports_poll_link(struct dp *dp);

/* Stops and closes every port (after the workers stopped). */
void dp_ports_close(struct dp *dp);

#endif
