/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dp_port.h"
#include "dp_worker.h"

/* Ports with an LSC interrupt report through the callback; others are polled. */
static bool port_lsc[RTE_MAX_ETHPORTS];
static bool port_open[RTE_MAX_ETHPORTS];

int dp_mempool_create(struct dp *dp, uint32_t max_mtu, char *err, size_t err_len)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	uint64_t n, nw = dp->n_workers, np = dp->n_ports;
	uint32_t room;

	/*
	 * Every descriptor may hold an mbuf, every ring slot too; then the
	 * per-worker staging (TX buffers, pending queue) and the control
	 * thread's own packets (slow path, fragments, ICMP errors).
	 */
	n = np * (nw * (DP_RX_DESC + DP_TX_DESC) + DP_TX_DESC);
	n += nw * (DP_PUNT_RING + DP_PENDING_MAX + DP_MAX_BURST * (np + nw + 2));
	n += RTE_MIN(nw * (nw - 1) * DP_HANDOFF_RING, 65536u);
	n += 4096;
	if (n > 1u << 20)
		n = 1u << 20;
	/* Room for the frame plus ESP's headers in front (headroom) and trailer. */
	room = max_mtu + RTE_ETHER_HDR_LEN + 256;
	if (room < 2048)
		room = 2048;
	snprintf(name, sizeof(name), "mp_%d", (int)getpid());
	dp->mp = rte_pktmbuf_pool_create(name, (unsigned)n, 256, 0,
	                                 (uint16_t)(room + RTE_PKTMBUF_HEADROOM),
	                                 (int)rte_socket_id());
	if (dp->mp == NULL) {
		snprintf(err, err_len, "mbuf pool of %llu mbufs: %s (give EAL more memory with -m)",
		         (unsigned long long)n, rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static bool is_pci(const char *dev)
{
	/* 0000:3b:00.0 or 3b:00.0 */
	unsigned i, colons = 0;

	for (i = 0; dev[i] != '\0'; i++) {
		if (dev[i] == ':')
			colons++;
		else if (!isxdigit((unsigned char)dev[i]) && dev[i] != '.')
			return false;
	}
	return colons >= 1;
}

static int lsc_event(uint16_t port_id, enum rte_eth_event_type type, void *arg, void *ret)
{
	struct dp *dp = arg;
	struct rte_eth_link link;
	unsigned pi = dp_port_index[port_id];

	(void)type;
	(void)ret;
	if (rte_eth_link_get_nowait(port_id, &link) == 0 && pi < dp->n_ports) {
		dp->ports[pi].link_up = link.link_status == RTE_ETH_LINK_UP;
		fprintf(stderr, "vpngw: port %s link %s (%u Mbps)\n", dp->ports[pi].name,
		        link.link_status ? "up" : "down", link.link_speed);
	}
	return 0;
}

static int find_port(const char *device, unsigned ntx, uint16_t *port_id, char *err, size_t err_len)
{
	char name[RTE_DEV_NAME_MAX_LEN], args[512];
	size_t n = strcspn(device, ",");
	int ret;

	if (n >= sizeof(name)) {
		snprintf(err, err_len, "device name too long: %s", device);
		return -1;
	}
	memcpy(name, device, n);
	name[n] = '\0';
	if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
		return 0;
	/*
	 * Not probed by EAL: a vdev string, or a PCI device EAL was told to
	 * skip. net_af_packet has one queue pair unless told: give it one per
	 * TX queue we use.
	 */
	if (strncmp(device, "net_af_packet", 13) == 0 && strstr(device, "qpairs=") == NULL &&
	    (size_t)snprintf(args, sizeof(args), "%s,qpairs=%u", device, ntx) < sizeof(args))
		device = args;
	ret = rte_dev_probe(device);
	if (ret != 0) {
		snprintf(err, err_len, "cannot probe device \"%s\": %s%s", device,
		         rte_strerror(-ret),
		         is_pci(device) ? " (bound to a DPDK driver? scripts bind NICs)" : "");
		return -1;
	}
	if (rte_eth_dev_get_port_by_name(name, port_id) != 0) {
		snprintf(err, err_len, "device \"%s\" probed but has no ethdev named %s", device,
		         name);
		return -1;
	}
	return 0;
}

int dp_port_open(struct dp *dp, unsigned pi, const char *device, char *err, size_t err_len)
{
	struct dp_port *p = &dp->ports[pi];
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	uint16_t id, q, nrx, ntx = (uint16_t)(dp->n_workers + 1);
	uint16_t nb_rxd = DP_RX_DESC, nb_txd = DP_TX_DESC;
	int ret;

	if (find_port(device, ntx, &id, err, err_len) != 0)
		return -1;
	if (port_open[id]) {
		snprintf(err, err_len, "device \"%s\" used by two ports", device);
		return -1;
	}
	ret = rte_eth_dev_info_get(id, &info);
	if (ret != 0) {
		snprintf(err, err_len, "%s: no device info: %s", device, rte_strerror(-ret));
		return -1;
	}
	if (info.max_rx_queues < 1 || info.max_tx_queues < ntx) {
		snprintf(err, err_len,
		         "%s offers %u RX / %u TX queues; %u workers need 1 RX and %u TX (one per "
		         "worker and one for control; net_pcap: one tx_pcap per TX queue; "
		         "net_af_packet: qpairs=%u)",
		         device, info.max_rx_queues, info.max_tx_queues, dp->n_workers, ntx, ntx);
		return -1;
	}
	memset(&conf, 0, sizeof(conf));
	port_lsc[id] = (*info.dev_flags & RTE_ETH_DEV_INTR_LSC) != 0;
	if (port_lsc[id])
		conf.intr_conf.lsc = 1;
	/*
	 * One RX queue per worker where the device has them. Some drivers want
	 * as many RX as TX queues (net_tap: a queue pair is one kernel tap
	 * queue), net_af_packet has one socket per qpair in a fanout group, so
	 * all its qpairs receive; for others, when the first try is refused,
	 * ask for ntx RX queues. Every
	 * RX queue is polled (queue q by worker q % n_workers), since the
	 * kernel or the NIC spreads flows over all of them.
	 */
	if (strcmp(info.driver_name, "net_tap") == 0)
		nrx = ntx;
	else if (strcmp(info.driver_name, "net_af_packet") == 0)
		nrx = (uint16_t)info.max_rx_queues; /* every qpair's socket is in the fanout */
	else
		nrx = (uint16_t)RTE_MIN(dp->n_workers, (unsigned)info.max_rx_queues);
	ret = rte_eth_dev_configure(id, nrx, ntx, &conf);
	if (ret != 0 && nrx < ntx && info.max_rx_queues >= ntx) {
		nrx = ntx;
		ret = rte_eth_dev_configure(id, nrx, ntx, &conf);
	}
	if (ret != 0) {
		snprintf(err, err_len, "%s: configure (%u RX, %u TX queues): %s", device, nrx, ntx,
		         rte_strerror(-ret));
		return -1;
	}
	port_open[id] = true;
	dp_port_index[id] = (uint8_t)pi;
	if (port_lsc[id])
		rte_eth_dev_callback_register(id, RTE_ETH_EVENT_INTR_LSC, lsc_event, dp);
	rte_eth_dev_adjust_nb_rx_tx_desc(id, &nb_rxd, &nb_txd);
	ret = rte_eth_dev_set_mtu(id, (uint16_t)p->mtu);
	if (ret != 0)
		fprintf(stderr, "vpngw: port %s: driver keeps its MTU (%s); %u enforced by vpngw\n",
		        p->name, rte_strerror(-ret), p->mtu);
	for (q = 0; q < nrx; q++) {
		ret = rte_eth_rx_queue_setup(id, q, nb_rxd, rte_eth_dev_socket_id(id), NULL,
		                             dp->mp);
		if (ret != 0) {
			snprintf(err, err_len, "%s: RX queue %u: %s", device, q,
			         rte_strerror(-ret));
			return -1;
		}
	}
	for (q = 0; q < ntx; q++) {
		ret = rte_eth_tx_queue_setup(id, q, nb_txd, rte_eth_dev_socket_id(id), NULL);
		if (ret != 0) {
			snprintf(err, err_len, "%s: TX queue %u: %s", device, q,
			         rte_strerror(-ret));
			return -1;
		}
	}
	rte_eth_macaddr_get(id, &p->mac);
	p->port_id = id;
	p->n_rxq = nrx;
	p->ctl_txq = (uint16_t)dp->n_workers;
	return 0;
}

int dp_ports_start(struct dp *dp, char *err, size_t err_len)
{
	unsigned pi;
	int ret;

	for (pi = 0; pi < dp->n_ports; pi++) {
		ret = rte_eth_dev_start(dp->ports[pi].port_id);
		if (ret != 0) {
			snprintf(err, err_len, "port %s: start: %s", dp->ports[pi].name,
			         rte_strerror(-ret));
			return -1;
		}
	}
	dp_ports_poll_link(dp);
	return 0;
}

void dp_ports_poll_link(struct dp *dp)
{
	struct rte_eth_link link;
	unsigned pi;
	bool up;

	for (pi = 0; pi < dp->n_ports; pi++) {
		struct dp_port *p = &dp->ports[pi];

		if (port_lsc[p->port_id] && p->link_up)
			continue;
		if (rte_eth_link_get_nowait(p->port_id, &link) != 0)
			continue;
		up = link.link_status == RTE_ETH_LINK_UP;
		if (up != p->link_up) {
			p->link_up = up;
			fprintf(stderr, "vpngw: port %s link %s (%u Mbps)\n", p->name,
			        up ? "up" : "down", link.link_speed);
		}
	}
}

void dp_ports_close(struct dp *dp)
{
	unsigned pi;

	for (pi = 0; pi < dp->n_ports; pi++) {
		uint16_t id = dp->ports[pi].port_id;

		if (!port_open[id])
			continue;
		if (port_lsc[id])
			rte_eth_dev_callback_unregister(id, RTE_ETH_EVENT_INTR_LSC, lsc_event, dp);
		rte_eth_dev_stop(id);
		rte_eth_dev_close(id);
		port_open[id] = false;
	}
}
