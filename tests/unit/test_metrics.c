/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The metrics registry: exact Prometheus text (HELP/TYPE once per family,
 * label escaping), sums over strided per-worker slots, removal, rendering
 * while the control thread registers, JSON, the HTTP endpoint and the
 * rte_telemetry command.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_eal.h>

#include "metrics.h"
#include "testutil.h"

static const char *const conn_dir[] = { "connection", "direction" };

START_TEST(render_exact_with_escaping)
{
	struct metrics *m = metrics_new();
	volatile uint64_t a = 7, b = 0, up = 1;
	struct metric_family *f, *g;
	const char *v1[] = { "idc-bj-1", "out" };
	const char *v2[] = { "we\"ird\\na\nme", "in" };
	size_t len = 0;
	char *text;

	ck_assert_ptr_nonnull(m);
	f = metrics_family(m, "esp_packets_total", "ESP packets by SA.\nSecond \\ line",
	                   METRIC_COUNTER, conn_dir, 2);
	g = metrics_family(m, "up", "1 when the gateway runs.", METRIC_GAUGE, NULL, 0);
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(g);
	ck_assert_ptr_nonnull(metrics_series(f, v1, &a, 1, 0));
	ck_assert_ptr_nonnull(metrics_series(f, v2, &b, 1, 0));
	ck_assert_ptr_nonnull(metrics_series(g, NULL, &up, 1, 0));
	text = metrics_render(m, &len);
	ck_assert_str_eq(text,
	                 "# HELP vpngw_esp_packets_total ESP packets by SA.\\nSecond \\\\ line\n"
	                 "# TYPE vpngw_esp_packets_total counter\n"
	                 "vpngw_esp_packets_total{connection=\"idc-bj-1\",direction=\"out\"} 7\n"
	                 "vpngw_esp_packets_total{connection=\"we\\\"ird\\\\na\\nme\","
	                 "direction=\"in\"} 0\n"
	                 "# HELP vpngw_up 1 when the gateway runs.\n"
	                 "# TYPE vpngw_up gauge\n"
	                 "vpngw_up 1\n");
	ck_assert_uint_eq(len, strlen(text));
	free(text);
	metrics_free(m);
}
END_TEST

START_TEST(empty_registry_renders_empty)
{
	struct metrics *m = metrics_new();
	size_t len = 99;
	char *text = metrics_render(m, &len);

	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, "");
	ck_assert_uint_eq(len, 0);
	free(text);
	metrics_free(m);
}
END_TEST

START_TEST(names_and_labels_validated)
{
	struct metrics *m = metrics_new();
	const char *dunder[] = { "__reserved" };
	const char *dup[] = { "port", "port" };
	const char *dash[] = { "my-label" };
	const char *five[] = { "a", "b", "c", "d", "e" };
	const char *ok[] = { "port" };
	struct metric_family *f1, *f2;

	ck_assert_ptr_null(metrics_family(m, "9lives", "", METRIC_COUNTER, NULL, 0));
	ck_assert_ptr_null(metrics_family(m, "has-dash", "", METRIC_COUNTER, NULL, 0));
	ck_assert_ptr_null(metrics_family(m, "", "", METRIC_COUNTER, NULL, 0));
	ck_assert_ptr_null(metrics_family(m, "x", "", METRIC_COUNTER, dunder, 1));
	ck_assert_ptr_null(metrics_family(m, "x", "", METRIC_COUNTER, dup, 2));
	ck_assert_ptr_null(metrics_family(m, "x", "", METRIC_COUNTER, dash, 1));
	ck_assert_ptr_null(metrics_family(m, "x", "", METRIC_COUNTER, five, 5));
	ck_assert_ptr_null(metrics_family(m, "x", "", METRIC_COUNTER, NULL, 1));
	f1 = metrics_family(m, "rx_total", "first", METRIC_COUNTER, ok, 1);
	f2 = metrics_family(m, "rx_total", "second", METRIC_COUNTER, ok, 1);
	ck_assert_ptr_nonnull(f1);
	ck_assert_ptr_eq(f1, f2);
	metrics_free(m);
}
END_TEST

START_TEST(duplicate_and_bad_series_refused)
{
	struct metrics *m = metrics_new();
	const char *lbl[] = { "port" };
	const char *wan[] = { "wan" };
	const char *null_value[] = { NULL };
	volatile uint64_t x = 0;
	struct metric_family *f = metrics_family(m, "rx_total", "", METRIC_COUNTER, lbl, 1);

	ck_assert_ptr_nonnull(metrics_series(f, wan, &x, 1, 0));
	ck_assert_ptr_null(metrics_series(f, wan, &x, 1, 0));
	ck_assert_ptr_null(metrics_series(f, NULL, &x, 1, 0));
	ck_assert_ptr_null(metrics_series(f, null_value, &x, 1, 0));
	ck_assert_ptr_null(metrics_series(f, (const char *[]){ "lan" }, NULL, 1, 0));
	ck_assert_ptr_null(metrics_series(f, (const char *[]){ "lan" }, &x, 0, 0));
	ck_assert_ptr_null(metrics_series(f, (const char *[]){ "lan" }, &x, 2, 4));
	ck_assert_ptr_null(metrics_series_fn(f, (const char *[]){ "lan" }, NULL, NULL));
	metrics_free(m);
}
END_TEST

/* Per-worker counters laid out as the workers keep them: one cache line each. */
struct worker_slot {
	uint64_t packets;
	uint64_t bytes;
	uint64_t pad[6];
};

START_TEST(sums_strided_worker_slots)
{
	struct metrics *m = metrics_new();
	static struct worker_slot slots[5];
	struct metric_family *f = metrics_family(m, "bytes_total", "B", METRIC_COUNTER, NULL, 0);
	char *text;
	unsigned i;

	for (i = 0; i < 5; i++) {
		slots[i].packets = 1000;
		slots[i].bytes = (uint64_t)1 << (40 + i);
	}
	/* Only the first 4 workers belong to this series; the 5th must not count. */
	ck_assert_ptr_nonnull(
	        metrics_series(f, NULL, &slots[0].bytes, 4, sizeof(struct worker_slot)));
	text = metrics_render(m, NULL);
	ck_assert_str_eq(text, "# HELP vpngw_bytes_total B\n# TYPE vpngw_bytes_total counter\n"
	                       "vpngw_bytes_total 16492674416640\n");
	free(text);
	/* Values are read live at render time. */
	slots[2].bytes += 5;
	text = metrics_render(m, NULL);
	ck_assert_ptr_nonnull(strstr(text, "vpngw_bytes_total 16492674416645\n"));
	free(text);
	metrics_free(m);
}
END_TEST

static uint64_t read_state(void *arg)
{
	return *(int *)arg == 3 ? 1 : 0;
}

START_TEST(function_series)
{
	struct metrics *m = metrics_new();
	const char *lbl[] = { "connection" };
	int state = 3;
	struct metric_family *f = metrics_family(m, "connection_up", "up", METRIC_GAUGE, lbl, 1);
	char *text;

	ck_assert_ptr_nonnull(metrics_series_fn(f, (const char *[]){ "c1" }, read_state, &state));
	text = metrics_render(m, NULL);
	ck_assert_ptr_nonnull(strstr(text, "vpngw_connection_up{connection=\"c1\"} 1\n"));
	free(text);
	state = 0;
	text = metrics_render(m, NULL);
	ck_assert_ptr_nonnull(strstr(text, "vpngw_connection_up{connection=\"c1\"} 0\n"));
	free(text);
	metrics_free(m);
}
END_TEST

START_TEST(remove_series_and_reuse_labels)
{
	struct metrics *m = metrics_new();
	const char *lbl[] = { "spi" };
	static volatile uint64_t vals[1000];
	struct metric_series *s[1000];
	struct metric_family *f =
	        metrics_family(m, "sa_packets_total", "p", METRIC_COUNTER, lbl, 1);
	char name[16], *text;
	unsigned i;

	/* Enough series to grow the duplicate-check table several times. */
	for (i = 0; i < 1000; i++) {
		const char *v[] = { name };

		snprintf(name, sizeof(name), "0x%04x", i);
		vals[i] = i;
		s[i] = metrics_series(f, v, &vals[i], 1, 0);
		ck_assert_ptr_nonnull(s[i]);
	}
	for (i = 0; i < 1000; i += 2)
		metrics_series_remove(s[i]);
	text = metrics_render(m, NULL);
	ck_assert_ptr_null(strstr(text, "{spi=\"0x0000\"}"));
	ck_assert_ptr_null(strstr(text, "{spi=\"0x03e6\"}"));
	ck_assert_ptr_nonnull(strstr(text, "{spi=\"0x0001\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "{spi=\"0x03e7\"} 999\n"));
	free(text);
	for (i = 0; i < 1000; i++) {
		const char *v[] = { name };

		snprintf(name, sizeof(name), "0x%04x", i);
		/* Removed labels are free again; the kept ones are still taken. */
		if (i % 2)
			ck_assert_ptr_null(metrics_series(f, v, &vals[i], 1, 0));
		else
			ck_assert_ptr_nonnull(metrics_series(f, v, &vals[i], 1, 0));
	}
	metrics_free(m);
}
END_TEST

struct render_ctx {
	struct metrics *m;
	volatile bool stop;
	unsigned renders;
	bool bad;
};

static void *render_loop(void *arg)
{
	struct render_ctx *rc = arg;

	while (!__atomic_load_n(&rc->stop, __ATOMIC_ACQUIRE)) {
		char *text = metrics_render(rc->m, NULL), *line, *save = NULL;
		json_t *j = metrics_json(rc->m);

		if (!text || !j)
			__atomic_store_n(&rc->bad, true, __ATOMIC_RELAXED);
		for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
		     line = strtok_r(NULL, "\n", &save))
			if (strncmp(line, "# ", 2) != 0 && strncmp(line, "vpngw_", 6) != 0)
				__atomic_store_n(&rc->bad, true, __ATOMIC_RELAXED);
		free(text);
		json_decref(j);
		__atomic_fetch_add(&rc->renders, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

START_TEST(render_while_registering)
{
	struct render_ctx rc = { .m = metrics_new() };
	const char *lbl[] = { "connection", "spi" };
	static volatile uint64_t slots[64];
	struct metric_series *s[64] = { 0 };
	pthread_t th[2];
	char a[32], b[32], fname[32];
	unsigned i, k;

	ck_assert_int_eq(pthread_create(&th[0], NULL, render_loop, &rc), 0);
	ck_assert_int_eq(pthread_create(&th[1], NULL, render_loop, &rc), 0);
	for (i = 0; i < 5000; i++) {
		struct metric_family *f;
		const char *v[] = { a, b };

		snprintf(a, sizeof(a), "c%u", i % 7);
		snprintf(b, sizeof(b), "%u", i);
		snprintf(fname, sizeof(fname), "f%u", i % 5);
		f = metrics_family(rc.m, fname, "h", METRIC_COUNTER, lbl, 2);
		ck_assert_ptr_nonnull(f);
		k = i % 64;
		metrics_series_remove(s[k]);
		__atomic_store_n(&slots[k], i, __ATOMIC_RELAXED); /* as a worker would */
		s[k] = metrics_series(f, v, &slots[k], 1, 0);
		ck_assert_ptr_nonnull(s[k]);
	}
	__atomic_store_n(&rc.stop, true, __ATOMIC_RELEASE);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	ck_assert(!rc.bad);
	ck_assert_uint_gt(rc.renders, 0);
	metrics_free(rc.m);
}
END_TEST

START_TEST(json_shape)
{
	struct metrics *m = metrics_new();
	const char *lbl[] = { "port", "reason" };
	volatile uint64_t x = 42, y = 3;
	struct metric_family *f = metrics_family(m, "drops_total", "d", METRIC_COUNTER, lbl, 2);
	struct metric_family *g = metrics_family(m, "workers", "w", METRIC_GAUGE, NULL, 0);
	json_t *j, *arr;

	metrics_series(f, (const char *[]){ "wan", "no_sa" }, &x, 1, 0);
	metrics_series(g, NULL, &y, 1, 0);
	j = metrics_json(m);
	ck_assert_ptr_nonnull(j);
	arr = json_object_get(j, "vpngw_drops_total");
	ck_assert_uint_eq(json_array_size(arr), 1);
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_object_get(json_array_get(arr, 0), "labels"), "reason")),
	                 "no_sa");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(arr, 0), "value")), 42);
	arr = json_object_get(j, "vpngw_workers");
	ck_assert_uint_eq(json_object_size(json_object_get(json_array_get(arr, 0), "labels")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(arr, 0), "value")), 3);
	json_decref(j);
	metrics_free(m);
}
END_TEST

/* ---- HTTP ---- */

static uint16_t free_tcp_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/* One HTTP/1.0 exchange; returns the whole response (caller frees). */
static char *http_request(uint16_t port, const char *req)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		                  .sin_port = htons(port),
		                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ssize_t r;

	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while ((r = read(fd, buf + n, cap - n - 1)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(fd);
	return buf;
}

START_TEST(http_serves_metrics)
{
	struct metrics *m = metrics_new();
	const char *lbl[] = { "port" };
	volatile uint64_t x = 12345;
	struct metric_family *f =
	        metrics_family(m, "rx_packets_total", "rx", METRIC_COUNTER, lbl, 1);
	char listen[32], err[256] = "", *resp, *body, *expect;
	uint16_t port = free_tcp_port();

	metrics_series(f, (const char *[]){ "wan" }, &x, 1, 0);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	ck_assert_msg(metrics_http_start(m, listen, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(metrics_http_start(m, listen, err, sizeof(err)), -1);

	resp = http_request(port, "GET /metrics HTTP/1.0\r\n\r\n");
	ck_assert_msg(strncmp(resp, "HTTP/1.0 200", 12) == 0 ||
	                      strncmp(resp, "HTTP/1.1 200", 12) == 0,
	              "%s", resp);
	ck_assert_msg(strcasestr(resp, "\r\nContent-Type: text/plain; version=0.0.4\r\n"), "%s",
	              resp);
	body = strstr(resp, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	expect = metrics_render(m, NULL);
	ck_assert_str_eq(body + 4, expect);
	ck_assert_ptr_nonnull(strstr(body, "vpngw_rx_packets_total{port=\"wan\"} 12345\n"));
	free(expect);
	free(resp);

	resp = http_request(port, "GET /other HTTP/1.0\r\n\r\n");
	ck_assert_msg(strstr(resp, " 404 ") != NULL, "%s", resp);
	free(resp);
	resp = http_request(port, "POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc");
	ck_assert_msg(strstr(resp, " 405 ") != NULL, "%s", resp);
	ck_assert_msg(strcasestr(resp, "\r\nAllow: GET, HEAD\r\n"), "%s", resp);
	free(resp);
	metrics_free(m);
}
END_TEST

START_TEST(http_ipv6_loopback)
{
	struct metrics *m = metrics_new();
	char listen[32], err[256] = "";
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	uint16_t port = free_tcp_port();
	char buf[512];
	ssize_t n;
	int fd;

	snprintf(listen, sizeof(listen), "[::1]:%u", port);
	ck_assert_msg(metrics_http_start(m, listen, err, sizeof(err)) == 0, "%s", err);
	sa.sin6_port = htons(port);
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_gt(write(fd, "GET /metrics HTTP/1.0\r\n\r\n", 25), 0);
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 12);
	buf[n] = '\0';
	ck_assert_msg(strstr(buf, " 200 ") != NULL, "%s", buf);
	close(fd);
	metrics_free(m);
}
END_TEST

START_TEST(http_bad_listen_explained)
{
	struct metrics *m = metrics_new();
	char err[256];

	ck_assert_int_eq(metrics_http_start(m, "localhost", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "localhost"));
	ck_assert_int_eq(metrics_http_start(m, "127.0.0.1:99999", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "port"));
	ck_assert_int_eq(metrics_http_start(m, "host.example:80", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "numeric"));
	ck_assert_int_eq(metrics_http_start(m, "[::1:80", err, sizeof(err)), -1);
	metrics_free(m);
}
END_TEST

START_TEST(http_port_in_use_explained)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct metrics *m = metrics_new();
	socklen_t sl = sizeof(sa);
	char addr[32], err[256] = "";
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sa.sin_port));
	ck_assert_int_eq(metrics_http_start(m, addr, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, addr) != NULL, "%s", err);
	close(fd);
	metrics_free(m);
}
END_TEST

/* ---- rte_telemetry ---- */

static json_t *telemetry_query(const char *cmd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[16384];
	json_error_t jerr;
	json_t *j;
	ssize_t n;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/dpdk_telemetry.v2",
	         rte_eal_get_runtime_dir());
	ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect %s",
	              sa.sun_path);
	n = read(fd, buf, sizeof(buf) - 1); /* the greeting */
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(write(fd, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	close(fd);
	j = json_loads(buf, 0, &jerr);
	ck_assert_msg(j != NULL, "bad telemetry JSON: %s (%s)", buf, jerr.text);
	return j;
}

START_TEST(telemetry_command)
{
	char prefix[64];
	char *argv[] = {
		"test_metrics", "--no-huge",       "--no-pci",      "-m",   "256", "-l", "0",
		"--log-level",  "lib.eal:warning", "--file-prefix", prefix, NULL
	};
	struct metrics *m = metrics_new();
	const char *lbl[] = { "connection", "direction" };
	volatile uint64_t x = 77, y = 5;
	struct metric_family *f = metrics_family(m, "sa_bytes_total", "b", METRIC_COUNTER, lbl, 2);
	struct metric_family *g = metrics_family(m, "workers", "w", METRIC_GAUGE, NULL, 0);
	json_t *j, *r;

	snprintf(prefix, sizeof(prefix), "vpngw_tm_%d", (int)getpid());
	ck_assert_int_ge(rte_eal_init(11, argv), 0);
	metrics_series(f, (const char *[]){ "idc-bj.1", "out" }, &x, 1, 0);
	metrics_series(g, NULL, &y, 1, 0);
	ck_assert_int_eq(metrics_telemetry_register(m), 0);

	j = telemetry_query("/vpngw/metrics");
	r = json_object_get(j, "/vpngw/metrics");
	ck_assert_msg(json_is_object(r), "%s", json_dumps(j, 0));
	/* Keys allow only [A-Za-z0-9_/]: "idc-bj.1" becomes "idc_bj_1". */
	ck_assert_int_eq(json_integer_value(json_object_get(
	                         json_object_get(r, "vpngw_sa_bytes_total"), "idc_bj_1/out")),
	                 77);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "vpngw_workers")), 5);
	json_decref(j);

	/* After metrics_free the command still answers, with nothing in it. */
	metrics_free(m);
	j = telemetry_query("/vpngw/metrics");
	ck_assert_uint_eq(json_object_size(json_object_get(j, "/vpngw/metrics")), 0);
	json_decref(j);
	rte_eal_cleanup();
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("registry");
	TCase *th = tcase_create("http");
	TCase *tt = tcase_create("telemetry");

	tcase_add_test(tc, render_exact_with_escaping);
	tcase_add_test(tc, empty_registry_renders_empty);
	tcase_add_test(tc, names_and_labels_validated);
	tcase_add_test(tc, duplicate_and_bad_series_refused);
	tcase_add_test(tc, sums_strided_worker_slots);
	tcase_add_test(tc, function_series);
	tcase_add_test(tc, remove_series_and_reuse_labels);
	tcase_add_test(tc, render_while_registering);
	tcase_add_test(tc, json_shape);
	tcase_add_test(th, http_serves_metrics);
	tcase_add_test(th, http_ipv6_loopback);
	tcase_add_test(th, http_bad_listen_explained);
	tcase_add_test(th, http_port_in_use_explained);
	tcase_add_test(tt, telemetry_command);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, th);
	suite_add_tcase(s, tt);
	return s;
}

TEST_MAIN(metrics_suite)
