/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker loop: apply a bounded number of control messages, receive a
 * burst from each port, take packets handed over by other workers, run the
 * ESP stages, transmit. Between two bursts the tables may change; inside
 * one they do not (rule 3). Idle workers in poll_mode adaptive back off:
 * rte_pause for a while, then sleeps growing to DP_IDLE_SLEEP_MAX_US, so
 * several daemons share two cores; a loop that moves packets spins again.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include "dp_worker.h"

uint8_t dp_port_index[RTE_MAX_ETHPORTS];

static bool stash_flush(struct dp_worker *w)
{
	unsigned sent;

	if (w->n_stash == 0)
		return true;
	sent = rte_ring_enqueue_burst_elem(w->events, w->stash, sizeof(w->stash[0]), w->n_stash,
	                                   NULL);
	memmove(w->stash, w->stash + sent, (w->n_stash - sent) * sizeof(w->stash[0]));
	w->n_stash -= sent;
	return w->n_stash == 0;
}

bool dp_event_emit(struct dp_worker *w, const struct dp_event *ev)
{
	struct dp_event e = *ev;

	e.worker = (uint16_t)w->idx;
	/* Retired objects must reach control (or leak): they wait in a stash. */
	if (e.type == DP_EV_RETIRED) {
		if (stash_flush(w) && rte_ring_enqueue_elem(w->events, &e, sizeof(e)) == 0)
			return true;
		if (w->n_stash < DP_RETIRE_STASH) {
			w->stash[w->n_stash++] = e;
			return true;
		}
		w->c.events_lost++;
		return false;
	}
	if (rte_ring_enqueue_elem(w->events, &e, sizeof(e)) != 0) {
		w->c.events_lost++;
		return false;
	}
	return true;
}

static void retire(struct dp_worker *w, void *ptr, uint8_t kind)
{
	struct dp_event ev = { .type = DP_EV_RETIRED, .ptr = ptr, .kind = kind };

	if (ptr != NULL)
		dp_event_emit(w, &ev);
}

/* The list of my SAs, swept for time lifetimes: O(1) add, swap and remove. */
static void owned_add(struct dp_worker *w, struct dp_sa *sa)
{
	sa->owned_idx = w->n_owned;
	w->owned[w->n_owned++] = sa;
}

static void owned_swap(struct dp_worker *w, struct dp_sa *old, struct dp_sa *sa)
{
	sa->owned_idx = old->owned_idx;
	w->owned[sa->owned_idx] = sa;
}

static void owned_del(struct dp_worker *w, struct dp_sa *sa)
{
	struct dp_sa *last = w->owned[--w->n_owned];

	w->owned[sa->owned_idx] = last;
	last->owned_idx = sa->owned_idx;
}

/*
 * A replacement with the same SPI (same keys, make-before-break) goes on
 * exactly where the old one stopped: the outbound sequence number, the
 * inbound replay window, the counters. Nothing is staged between two
 * loops, so the old SA's state is final here.
 */
static void sa_carry(struct dp_sa *sa, const struct dp_sa *old)
{
	if (old->spi != sa->spi || old->dir != sa->dir)
		return;
	if (sa->dir == ESP_DIR_OUT)
		esp_sa_seq_set(sa->esp, esp_sa_seq(old->esp));
	else
		esp_sa_replay_copy(sa->esp, old->esp);
	sa->c = old->c;
}

static void sa_add(struct dp_worker *w, struct dp_sa *sa)
{
	void *old = NULL;

	if (sa->dir == ESP_DIR_IN) {
		if (rte_hash_lookup_data(w->sad_in, &sa->spi, &old) < 0)
			old = NULL;
		if (old != NULL && old != sa)
			sa_carry(sa, old);
		if (rte_hash_add_key_data(w->sad_in, &sa->spi, sa) < 0) {
			retire(w, sa, DP_RETIRED_SA); /* table full: control sees it come back */
			return;
		}
	} else {
		old = w->sa_out[sa->id];
		if (old != NULL && old != sa)
			sa_carry(sa, old);
		w->sa_out[sa->id] = sa;
	}
	if (old == NULL)
		owned_add(w, sa);
	else if (old != sa)
		owned_swap(w, old, sa);
	/* Make-before-break: the new SA is in place before the old one leaves. */
	if (old != NULL && old != sa)
		retire(w, old, DP_RETIRED_SA);
}

static void sa_del(struct dp_worker *w, struct dp_sa *sa)
{
	void *cur;

	if (sa->dir == ESP_DIR_IN) {
		if (rte_hash_lookup_data(w->sad_in, &sa->spi, &cur) >= 0 && cur == sa) {
			rte_hash_del_key(w->sad_in, &sa->spi);
			owned_del(w, sa);
		}
	} else if (w->sa_out[sa->id] == sa) {
		w->sa_out[sa->id] = NULL;
		owned_del(w, sa);
	}
	retire(w, sa, DP_RETIRED_SA);
}

/* Time lifetimes of every SA I own, idle or not; off the packet path. */
static void sa_sweep(struct dp_worker *w)
{
	unsigned i;

	w->sweep_tsc = w->now_tsc + w->sweep_period;
	for (i = 0; i < w->n_owned; i++)
		dp_sa_check_limits(w, w->owned[i]);
}

static void apply(struct dp_worker *w, const struct dp_msg *m)
{
	const void *old;

	/* SAs, routes or neighbours change: nothing cached from them survives. */
	dp_cache_clear(w);

	switch (m->type) {
	case DP_MSG_SA_ADD:
		sa_add(w, m->ptr);
		break;
	case DP_MSG_SA_DEL:
		sa_del(w, m->ptr);
		break;
	case DP_MSG_SPD_SET:
		old = w->spd;
		w->spd = m->ptr;
		retire(w, (void *)(uintptr_t)old, DP_RETIRED_SPD);
		break;
	case DP_MSG_ROUTE_SET:
		old = w->routes;
		w->routes = m->ptr;
		retire(w, (void *)(uintptr_t)old, DP_RETIRED_ROUTES);
		break;
	case DP_MSG_NEIGH_SET:
		dp_neigh_set(w, m);
		break;
	case DP_MSG_RATE_SET:
		dp_rate_set(w, m->arg);
		break;
	default:
		break;
	}
	w->c.messages++;
}

/* Applies at most budget messages; the rest wait for the next loop. */
static unsigned drain_messages(struct dp_worker *w, unsigned budget)
{
	struct dp_msg msgs[16];
	unsigned n, i, done = 0;

	while (done < budget) {
		n = rte_ring_dequeue_burst_elem(w->msg, msgs, sizeof(msgs[0]),
		                                RTE_MIN(16u, budget - done), NULL);
		if (n == 0)
			break;
		for (i = 0; i < n; i++)
			apply(w, &msgs[i]);
		done += n;
	}
	return done;
}

void dp_handoff(struct dp_worker *w, unsigned owner, struct rte_mbuf *m, uint32_t tag)
{
	struct dp_txbuf *b = &w->ho[owner];

	m->hash.usr = tag;
	b->pkts[b->n++] = m;
	w->c.handoff_out++;
	if (b->n < DP_MAX_BURST)
		return;
	{
		unsigned k, sent = rte_ring_sp_enqueue_burst(w->ho_out[owner], (void **)b->pkts,
		                                             b->n, NULL);

		for (k = sent; k < b->n; k++)
			dp_drop_pkt(w, b->pkts[k], DP_DROP_HANDOFF_FULL);
		b->n = 0;
	}
}

static void handoff_flush(struct dp_worker *w)
{
	unsigned d, k, sent;

	for (d = 0; d < w->dp->n_workers; d++) {
		struct dp_txbuf *b = &w->ho[d];

		if (b->n == 0)
			continue;
		sent = rte_ring_sp_enqueue_burst(w->ho_out[d], (void **)b->pkts, b->n, NULL);
		for (k = sent; k < b->n; k++)
			dp_drop_pkt(w, b->pkts[k], DP_DROP_HANDOFF_FULL);
		b->n = 0;
	}
}

static unsigned handoff_receive(struct dp_worker *w)
{
	struct rte_mbuf *pkts[DP_MAX_BURST];
	unsigned s, n, i, total = 0;

	for (s = 0; s < w->dp->n_workers; s++) {
		if (w->ho_in[s] == NULL)
			continue;
		n = rte_ring_sc_dequeue_burst(w->ho_in[s], (void **)pkts, DP_MAX_BURST, NULL);
		for (i = 0; i < n; i++) {
			uint32_t tag = pkts[i]->hash.usr;

			if (tag & DP_TAG_OUTB)
				dp_outb_submit(w, pkts[i], tag & ~DP_TAG_OUTB);
			else
				dp_inb_submit(w, pkts[i], pkts[i]->hash.fdir.hi);
		}
		w->c.handoff_in += n;
		total += n;
	}
	return total;
}

static void flush_all(struct dp_worker *w)
{
	dp_esp_flush(w);
	handoff_flush(w);
	dp_tx_flush(w);
}

static void idle_backoff(struct dp_worker *w, unsigned *idle)
{
	struct timespec ts;
	unsigned us;

	if (++*idle < DP_IDLE_SPINS) {
		rte_pause();
		return;
	}
	/* Sleeps double from the minimum to the maximum while nothing arrives. */
	us = DP_IDLE_SLEEP_MIN_US << RTE_MIN((*idle - DP_IDLE_SPINS) / 16, 5u);
	if (us > DP_IDLE_SLEEP_MAX_US)
		us = DP_IDLE_SLEEP_MAX_US;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)us * 1000;
	nanosleep(&ts, NULL);
	w->c.idle_sleeps++;
}

static int worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct dp *dp = w->dp;
	struct rte_mbuf *pkts[DP_MAX_BURST];
	unsigned idle = 0, pi, i, moved;
	uint16_t n;

	/* Tables sent before launch are all in place before the first packet. */
	while (drain_messages(w, DP_MSG_BUDGET) > 0)
		;
	while (!atomic_load_explicit(&dp->stop, memory_order_relaxed)) {
		w->now_tsc = rte_rdtsc();
		moved = drain_messages(w, DP_MSG_BUDGET);
		stash_flush(w);
		for (i = 0; i < w->n_rxq; i++) {
			pi = w->rxq[i].port;
			n = rte_eth_rx_burst(dp->ports[pi].port_id, w->rxq[i].queue, pkts,
			                     DP_MAX_BURST);
			if (n > 0) {
				dp_classify_burst(w, pi, pkts, n);
				moved += n;
			}
		}
		moved += handoff_receive(w);
		flush_all(w);
		if (unlikely(w->now_tsc >= w->sweep_tsc))
			sa_sweep(w);
		if (moved > 0) {
			w->c.busy_cycles += rte_rdtsc() - w->now_tsc;
			w->c.busy_packets += moved;
			idle = 0;
		} else if (dp->adaptive) {
			idle_backoff(w, &idle);
		}
	}
	/* Drain: what is staged leaves; packets still waiting for ARP are dropped. */
	handoff_receive(w);
	flush_all(w);
	dp_pending_drop_all(w);
	dp_tx_flush(w);
	stash_flush(w);
	return 0;
}

static struct rte_ring *ring_new(const char *what, unsigned a, unsigned b, unsigned count)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "%s%u_%u_%d", what, a, b, (int)getpid());
	return rte_ring_create(name, count, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
}

/* Every RX queue of every port has one poller: queue q is worker q % n_workers's. */
static int rxq_assign(struct dp *dp, struct dp_worker *w)
{
	unsigned pi, q;

	w->n_rxq = 0;
	for (pi = 0; pi < dp->n_ports; pi++) {
		for (q = w->idx; q < dp->ports[pi].n_rxq; q += dp->n_workers) {
			if (w->n_rxq == DP_WORKER_RXQ_MAX)
				return -1;
			w->rxq[w->n_rxq++] = (struct dp_rxq){ (uint16_t)pi, (uint16_t)q };
		}
	}
	return 0;
}

int dp_workers_create(struct dp *dp)
{
	struct rte_hash_parameters hp = { 0 };
	char name[RTE_RING_NAMESIZE];
	unsigned i, j;

	dp->owner_m = dp_owner_m(dp->n_workers);
	dp->workers = rte_zmalloc("dp_workers", dp->n_workers * sizeof(struct dp_worker),
	                          RTE_CACHE_LINE_SIZE);
	if (dp->workers == NULL)
		return -1;
	for (i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = &dp->workers[i];

		w->dp = dp;
		w->idx = i;
		w->lcore = dp->worker_lcores[i];
		if (rxq_assign(dp, w) != 0)
			return -1;
		snprintf(name, sizeof(name), "msg%u_%d", i, (int)getpid());
		w->msg = dp_msg_ring_create(name, DP_MSG_RING, false);
		snprintf(name, sizeof(name), "ev%u_%d", i, (int)getpid());
		w->events = dp_msg_ring_create(name, DP_EVENT_RING, true);
		w->punt = ring_new("punt", i, 0, DP_PUNT_RING);
		w->sa_out = rte_zmalloc("sa_out", DP_SA_MAX * sizeof(w->sa_out[0]), 0);
		w->acquire_tsc = rte_zmalloc("acq", DP_SA_MAX * sizeof(uint64_t), 0);
		w->owned = rte_zmalloc("owned", DP_SA_MAX * sizeof(w->owned[0]), 0);
		w->sweep_period = rte_get_tsc_hz() / DP_SWEEP_PER_S;
		snprintf(name, sizeof(name), "sad%u_%d", i, (int)getpid());
		hp.name = name;
		hp.entries = DP_SA_MAX;
		hp.key_len = sizeof(uint32_t);
		hp.hash_func = rte_jhash;
		hp.socket_id = (int)rte_socket_id();
		w->sad_in = rte_hash_create(&hp);
		if (w->msg == NULL || w->events == NULL || w->punt == NULL || w->sa_out == NULL ||
		    w->acquire_tsc == NULL || w->owned == NULL || w->sad_in == NULL ||
		    dp_neigh_init(w) != 0)
			return -1;
	}
	/* Worker-to-worker SPSC rings: out of i into j. */
	for (i = 0; i < dp->n_workers; i++) {
		for (j = 0; j < dp->n_workers; j++) {
			if (i == j)
				continue;
			dp->workers[i].ho_out[j] = ring_new("ho", i, j, DP_HANDOFF_RING);
			if (dp->workers[i].ho_out[j] == NULL)
				return -1;
			dp->workers[j].ho_in[i] = dp->workers[i].ho_out[j];
		}
	}
	return 0;
}

int dp_workers_launch(struct dp *dp)
{
	unsigned i;

	for (i = 0; i < dp->n_workers; i++)
		if (rte_eal_remote_launch(worker_main, &dp->workers[i], dp->worker_lcores[i]) != 0)
			return -1;
	return 0;
}

void dp_workers_stop(struct dp *dp)
{
	unsigned i;

	atomic_store(&dp->stop, true);
	for (i = 0; i < dp->n_workers; i++)
		rte_eal_wait_lcore(dp->worker_lcores[i]);
}

static void ring_free_mbufs(struct rte_ring *r)
{
	void *m;

	while (r != NULL && rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
}

void dp_workers_free(struct dp *dp)
{
	unsigned i, j;

	if (dp->workers == NULL)
		return;
	for (i = 0; i < dp->n_workers; i++) {
		struct dp_worker *w = &dp->workers[i];

		ring_free_mbufs(w->punt);
		rte_ring_free(w->punt);
		for (j = 0; j < dp->n_workers; j++) {
			ring_free_mbufs(w->ho_out[j]);
			rte_ring_free(w->ho_out[j]);
		}
		rte_ring_free(w->msg);
		rte_ring_free(w->events);
		rte_hash_free(w->sad_in);
		rte_free(w->sa_out);
		rte_free(w->acquire_tsc);
		rte_free(w->owned);
		dp_neigh_fini(w);
	}
	rte_free(dp->workers);
	dp->workers = NULL;
}
