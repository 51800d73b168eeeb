/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's packet path in one process, timed per burst: the tables
 * of the gateway benchmark (tests/bench/gateway/net.env: one tunnel, its
 * policy, routes and neighbours) put straight into one worker, bursts of
 * 32 frames pushed through dp_classify_burst, the ESP stages and TX onto
 * net_null. A benchmark, never a test.
 *
 *   dp_bench [-d enc|dec] [-a gcm|cbc] [-s SIZE] [-n BURSTS] [-r ROUNDS]
 *
 * Each burst's frames are copied into fresh mbufs before the clock starts
 * (what net_pcap's infinite_rx does, left out here), so the time is our
 * code, the crypto and net_null's freeing. A shared machine preempts and
 * slows a run unevenly (a busy hyperthread sibling most): this prints,
 * in TSC cycles per packet, the fastest of ROUNDS rounds of BURSTS bursts
 * (each round's median burst) and the fastest single burst, the one
 * least disturbed.
 */
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_mbuf.h>

#include "crypto_mem.h"
#include "dp.h"
#include "dp_worker.h"

enum { BURST = 32, FLOWS = 1024, MAX_BURSTS = 1 << 16, MAX_ROUNDS = 64 };

static const uint8_t lan_ip[4] = { 10, 0, 0, 1 }, wan_ip[4] = { 203, 0, 113, 1 };
static const uint8_t lan_nh[4] = { 10, 0, 0, 254 }, wan_nh[4] = { 203, 0, 113, 254 };
static const uint8_t peer_ip[4] = { 198, 51, 100, 7 };
static const uint8_t nh_mac[6] = { 2, 0, 0, 0, 0, 0xfe };

static uint8_t frames[FLOWS][2048];
static uint16_t frame_len[FLOWS];
static uint64_t burst_cycles[MAX_BURSTS];

static void die(const char *what)
{
	fprintf(stderr, "dp_bench: %s\n", what);
	exit(1);
}

static void hex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			die("bad key");
		out[i] = (uint8_t)v;
	}
}

static void port_up(struct dp *dp, unsigned pi, const char *name, uint8_t role, const uint8_t *ip,
                    uint32_t mtu)
{
	struct rte_eth_conf conf = { 0 };
	struct dp_port *p = &dp->ports[pi];
	uint16_t id;

	if (rte_eth_dev_get_port_by_name(name, &id) != 0 ||
	    rte_eth_dev_configure(id, 1, 2, &conf) ||
	    rte_eth_rx_queue_setup(id, 0, 64, 0, NULL, dp->mp) ||
	    rte_eth_tx_queue_setup(id, 0, 512, 0, NULL) ||
	    rte_eth_tx_queue_setup(id, 1, 512, 0, NULL) || rte_eth_dev_start(id))
		die("port setup");
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->port_id = id;
	p->n_rxq = 1;
	p->ctl_txq = 1;
	p->role = role;
	p->has_v4 = true;
	p->v4_prefix = 24;
	memcpy(p->v4, ip, 4);
	p->mtu = mtu;
	rte_eth_macaddr_get(id, &p->mac);
	dp_port_index[id] = (uint8_t)pi;
}

static void neigh(struct dp_worker *w, unsigned port, const uint8_t *ip)
{
	struct dp_msg m = {
		.type = DP_MSG_NEIGH_SET, .port = (uint16_t)port, .family = 4, .valid = 1
	};

	memcpy(m.mac, nh_mac, 6);
	memcpy(m.ip, ip, 4);
	dp_neigh_set(w, &m);
}

static struct dp_sa *sa_make(bool gcm, enum esp_dir dir, uint32_t id, const char *ekey,
                             const char *akey)
{
	struct esp_sa_conf c = { 0 };
	struct dp_sa_params p = { 0 };
	uint8_t ek[32], ak[32];
	struct dp_sa *sa;
	char err[256];

	c.dir = dir;
	c.spi = dir == ESP_DIR_OUT ? 0x1000 : 0x2000;
	c.encr = gcm ? CRYPTO_ENCR_AES128_GCM16 : CRYPTO_ENCR_AES128_CBC;
	c.integ = gcm ? CRYPTO_INTEG_NONE : CRYPTO_INTEG_HMAC_SHA1_96;
	c.enc_key_len = gcm ? 20 : 16;
	c.auth_key_len = gcm ? 0 : 20;
	hex(ekey, ek, c.enc_key_len);
	if (akey)
		hex(akey, ak, 20);
	c.enc_key = ek;
	c.auth_key = akey ? ak : NULL;
	c.family = AF_INET;
	memcpy(dir == ESP_DIR_OUT ? c.local : c.remote, wan_ip, 4);
	memcpy(dir == ESP_DIR_OUT ? c.remote : c.local, peer_ip, 4);
	p.name = "bench";
	p.id = id;
	ts_parse("10.0.0.0/16", 0, &p.local[0]);
	ts_parse("192.168.0.0/16", 0, &p.remote[0]);
	p.n_local = p.n_remote = 1;
	sa = dp_sa_create(&c, &p, err, sizeof(err));
	if (sa == NULL)
		die(err);
	return sa;
}

/* Inner IPv4/UDP packet of flow i, len bytes, out (true) or in. */
static size_t inner(uint8_t *b, unsigned i, size_t len, bool out)
{
	uint8_t local[4] = { 10, 0, 1, (uint8_t)(10 + i % 32) };
	uint8_t remote[4] = { 192, 168, (uint8_t)(i / 32 % 4), (uint8_t)(10 + i / 128 % 8) };
	uint32_t s = 0;

	memset(b, 0, len);
	b[0] = 0x45;
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	b[8] = 64;
	b[9] = 17;
	memcpy(b + 12, out ? local : remote, 4);
	memcpy(b + 16, out ? remote : local, 4);
	for (int k = 0; k < 20; k += 2)
		s += (uint32_t)(b[k] << 8 | b[k + 1]);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	b[10] = (uint8_t)(~s >> 8);
	b[11] = (uint8_t)~s;
	b[20] = (uint8_t)(1024 + i) >> 8;
	b[21] = (uint8_t)(1024 + i);
	b[22] = 0x13;
	b[23] = 0x88;
	b[24] = (uint8_t)((len - 20) >> 8);
	b[25] = (uint8_t)(len - 20);
	return len;
}

/* The frames of the input: plain into the private port, or ESP from the peer. */
static void make_frames(const struct dp *dp, bool enc, bool gcm, size_t size)
{
	struct esp_sa *peer = NULL;

	if (!enc) {
		struct esp_sa_conf c = { 0 };
		uint8_t ek[20], ak[20];
		char err[256];

		/* The peer's outbound SA: the gateway's inbound keys. */
		c.dir = ESP_DIR_OUT;
		c.spi = 0x2000;
		c.encr = gcm ? CRYPTO_ENCR_AES128_GCM16 : CRYPTO_ENCR_AES128_CBC;
		c.integ = gcm ? CRYPTO_INTEG_NONE : CRYPTO_INTEG_HMAC_SHA1_96;
		c.enc_key_len = gcm ? 20 : 16;
		c.auth_key_len = gcm ? 0 : 20;
		hex(gcm ? "101112131415161718191a1b1c1d1e1fb0b1b2b3"
		        : "303132333435363738393a3b3c3d3e3f",
		    ek, c.enc_key_len);
		hex("606162636465666768696a6b6c6d6e6f70717273", ak, 20);
		c.enc_key = ek;
		c.auth_key = gcm ? NULL : ak;
		c.family = AF_INET;
		memcpy(c.local, peer_ip, 4);
		memcpy(c.remote, wan_ip, 4);
		peer = aligned_alloc(64, (esp_sa_size() + 63) & ~(size_t)63);
		if (peer == NULL || esp_sa_init(peer, &c, err, sizeof(err)) != 0)
			die("peer SA");
	}
	for (unsigned i = 0; i < FLOWS; i++) {
		const struct dp_port *in = &dp->ports[enc ? 0 : 1];
		uint8_t *f = frames[i];
		size_t len;

		memcpy(f, in->mac.addr_bytes, 6);
		memcpy(f + 6, nh_mac, 6);
		f[12] = 0x08;
		f[13] = 0x00;
		if (enc) {
			len = inner(f + 14, i, size, true);
		} else {
			static uint8_t buf[2048];
			struct esp_pkt p = { 0 }, *pp = &p;

			inner(buf + 256, i, size, false);
			p.data = buf + 256;
			p.len = (uint32_t)size;
			p.headroom = 256;
			p.tailroom = (uint32_t)(sizeof(buf) - 256 - size);
			p.sa = peer;
			if (esp_outb_burst(&pp, 1) != 1)
				die("peer encryption");
			memcpy(f + 14, p.data, p.len);
			len = p.len;
		}
		frame_len[i] = (uint16_t)(14 + len);
	}
	if (peer != NULL) {
		esp_sa_wipe(peer);
		free(peer);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	char prefix[64];
	char *eal[] = { argv[0],     "--no-huge",      "-m",
		        "512",       "--no-pci",       "-l",
		        "0",         "--file-prefix",  prefix,
		        "--vdev",    "net_null0",      "--vdev",
		        "net_null1", "--no-telemetry", "--log-level=*:warning" };
	const char *dir = "enc", *alg = "gcm";
	unsigned size = 64, bursts = 4096, rounds = 15, i, r, fi = 0;
	uint64_t best = UINT64_MAX, fastest = UINT64_MAX, tx0 = 0;
	struct dp *dp = calloc(1, sizeof(*dp));
	struct dp_worker *w;
	struct dp_spd_rule rule = { 0 };
	struct dp_route routes[3] = { 0 };
	char err[256];
	bool enc, gcm;
	int opt;

	snprintf(prefix, sizeof(prefix), "dpbench%d", (int)getpid());
	while ((opt = getopt(argc, argv, "d:a:s:n:r:")) != -1) {
		switch (opt) {
		case 'd':
			dir = optarg;
			break;
		case 'a':
			alg = optarg;
			break;
		case 's':
			size = (unsigned)atoi(optarg);
			break;
		case 'n':
			bursts = (unsigned)atoi(optarg);
			break;
		case 'r':
			rounds = (unsigned)atoi(optarg);
			break;
		default:
			die("usage: dp_bench [-d enc|dec] [-a gcm|cbc] [-s SIZE] [-n BURSTS] [-r "
			    "ROUNDS]");
		}
	}
	enc = strcmp(dir, "enc") == 0;
	gcm = strcmp(alg, "gcm") == 0;
	if (size < 28 || size > 1500 || bursts == 0 || bursts > MAX_BURSTS || rounds == 0 ||
	    rounds > MAX_ROUNDS)
		die("size 28..1500, bursts 1..65536, rounds 1..64");
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])), eal) < 0 || crypto_init() != 0)
		die("EAL");
	dp->mp = rte_pktmbuf_pool_create("bench", 4095, 256, 0, 2048 + RTE_PKTMBUF_HEADROOM,
	                                 (int)rte_socket_id());
	if (dp->mp == NULL)
		die("mempool");
	dp->n_ports = 2;
	dp->n_workers = 1;
	dp->worker_lcores[0] = rte_lcore_id();
	port_up(dp, 0, "net_null0", DP_PORT_PRIVATE, lan_ip, 1500);
	port_up(dp, 1, "net_null1", DP_PORT_PUBLIC, wan_ip, 2000);
	if (dp_workers_create(dp) != 0)
		die("workers");
	w = &dp->workers[0];

	/* The tables as the daemon builds them for tests/bench/gateway's config. */
	ts_parse("10.0.0.0/16", 0, &rule.src);
	ts_parse("192.168.0.0/16", 0, &rule.dst);
	rule.priority = 1;
	rule.action = DP_SPD_PROTECT;
	w->spd = dp_spd_build(&rule, 1, err, sizeof(err));
	routes[0] = (struct dp_route){ .family = 4, .len = 16, .prefix = { 10 }, .port = 0 };
	memcpy(routes[0].via, lan_nh, 4);
	routes[1] = (struct dp_route){ .family = 4, .len = 0, .port = 1 };
	memcpy(routes[1].via, wan_nh, 4);
	routes[2] = (struct dp_route){
		.family = 4, .len = 24, .prefix = { 203, 0, 113 }, .port = 1, .onlink = true
	};
	w->routes = dp_routes_build(routes, 3, err, sizeof(err));
	if (w->spd == NULL || w->routes == NULL)
		die(err);
	w->sa_out[0] = sa_make(gcm, ESP_DIR_OUT, 0,
	                       gcm ? "000102030405060708090a0b0c0d0e0fa0a1a2a3"
	                           : "202122232425262728292a2b2c2d2e2f",
	                       gcm ? NULL : "404142434445464748494a4b4c4d4e4f50515253");
	{
		struct dp_sa *in = sa_make(gcm, ESP_DIR_IN, 1,
		                           gcm ? "101112131415161718191a1b1c1d1e1fb0b1b2b3"
		                               : "303132333435363738393a3b3c3d3e3f",
		                           gcm ? NULL : "606162636465666768696a6b6c6d6e6f70717273");

		if (rte_hash_add_key_data(w->sad_in, &in->spi, in) < 0)
			die("SAD");
	}
	neigh(w, 0, lan_nh);
	neigh(w, 1, wan_nh);
	make_frames(dp, enc, gcm, size);

	for (r = 0; r < rounds; r++) {
		for (i = 0; i < bursts; i++) {
			struct rte_mbuf *m[BURST];
			uint64_t t0;

			if (rte_pktmbuf_alloc_bulk(dp->mp, m, BURST) != 0)
				die("out of mbufs");
			for (unsigned k = 0; k < BURST; k++, fi = (fi + 1) % FLOWS) {
				memcpy(rte_pktmbuf_mtod(m[k], uint8_t *), frames[fi],
				       frame_len[fi]);
				m[k]->data_len = frame_len[fi];
				m[k]->pkt_len = frame_len[fi];
				m[k]->port = dp->ports[enc ? 0 : 1].port_id;
			}
			t0 = rte_rdtsc();
			w->now_tsc = t0;
			dp_classify_burst(w, enc ? 0 : 1, m, BURST);
			dp_esp_flush(w);
			dp_tx_flush(w);
			burst_cycles[i] = rte_rdtsc() - t0;
		}
		qsort(burst_cycles, bursts, sizeof(burst_cycles[0]), cmp_u64);
		if (burst_cycles[bursts / 2] < best)
			best = burst_cycles[bursts / 2];
		if (burst_cycles[0] < fastest)
			fastest = burst_cycles[0];
	}
	tx0 = w->c.tx_packets;
	if (tx0 != (uint64_t)rounds * bursts * BURST)
		die("not every packet left (drops?)");
	printf("%s %s %u: %.1f cycles/packet (best of %u rounds: median of %u bursts of %d); "
	       "fastest burst %.1f\n",
	       dir, alg, size, (double)best / BURST, rounds, bursts, BURST,
	       (double)fastest / BURST);
	return 0;
}
