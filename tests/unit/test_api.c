/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket: a server thread polls api_poll() while the test
 * talks to it with api_call() and with raw sockets that misbehave
 * (malformed JSON, oversized lines, split writes, early disconnects).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "testutil.h"

struct server {
	struct api *api;
	pthread_t th;
	volatile bool stop;
	char dir[64];
	char path[128];
	int calls;
};

static int h_echo(void *ctx, json_t *args, json_t **result, char *err, size_t err_len)
{
	struct server *s = ctx;

	(void)err;
	(void)err_len;
	s->calls++;
	*result = json_incref(args);
	return 0;
}

static int h_fail(void *ctx, json_t *args, json_t **result, char *err, size_t err_len)
{
	(void)ctx;
	(void)result;
	snprintf(err, err_len, "no connection '%s'",
	         json_string_value(json_object_get(args, "name")) ?: "?");
	return -1;
}

static int h_null(void *ctx, json_t *args, json_t **result, char *err, size_t err_len)
{
	(void)ctx;
	(void)args;
	(void)err;
	(void)err_len;
	*result = NULL;
	return 0;
}

static void *serve(void *arg)
{
	struct server *s = arg;
	const struct timespec ms = { 0, 1000000 };

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		api_poll(s->api);
		nanosleep(&ms, NULL);
	}
	return NULL;
}

static void server_start(struct server *s)
{
	char err[256] = "";

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/vpngw_api_%d_XXXXXX", (int)getpid());
	ck_assert_ptr_nonnull(mkdtemp(s->dir));
	/* A directory below that does not exist yet: api_listen creates it. */
	snprintf(s->path, sizeof(s->path), "%s/run/vpngw.sock", s->dir);
	s->api = api_listen(s->path, err, sizeof(err));
	ck_assert_msg(s->api != NULL, "%s", err);
	ck_assert_int_eq(api_register(s->api, "echo", h_echo, s), 0);
	ck_assert_int_eq(api_register(s->api, "fail", h_fail, s), 0);
	ck_assert_int_eq(api_register(s->api, "null", h_null, s), 0);
	ck_assert_int_eq(api_register(s->api, "echo", h_echo, s), -1);
	ck_assert_int_eq(pthread_create(&s->th, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
	char run[160];
	struct stat st;

	__atomic_store_n(&s->stop, true, __ATOMIC_RELEASE);
	pthread_join(s->th, NULL);
	api_close(s->api);
	ck_assert_int_eq(stat(s->path, &st), -1); /* the socket is gone */
	snprintf(run, sizeof(run), "%s/run", s->dir);
	rmdir(run);
	rmdir(s->dir);
}

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void raw_send(int fd, const char *s, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t w = send(fd, s + off, n - off, MSG_NOSIGNAL);

		ck_assert_int_gt(w, 0);
		off += (size_t)w;
	}
}

/* Reads one response line (2 s at most) and parses it. */
static json_t *raw_recv(int fd)
{
	char buf[8192];
	size_t n = 0;
	json_t *j;

	while (n < sizeof(buf) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		ck_assert_msg(poll(&p, 1, 2000) == 1, "no response within 2 s");
		r = read(fd, buf + n, 1);
		ck_assert_int_eq(r, 1);
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	j = json_loads(buf, 0, NULL);
	ck_assert_msg(json_is_object(j), "not a JSON object: %s", buf);
	return j;
}

static const char *resp_error(json_t *r)
{
	ck_assert(json_is_false(json_object_get(r, "ok")));
	return json_string_value(json_object_get(r, "error"));
}

START_TEST(request_and_response)
{
	struct server s;
	char err[256];
	json_t *args = json_pack("{s:s,s:i}", "name", "idc-bj-1", "n", 3), *r;

	server_start(&s);
	r = api_call(s.path, "echo", args, 2000, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	ck_assert(json_equal(json_object_get(r, "result"), args));
	json_decref(r);
	json_decref(args);

	r = api_call(s.path, "echo", NULL, 2000, err, sizeof(err));
	ck_assert_uint_eq(json_object_size(json_object_get(r, "result")), 0);
	json_decref(r);

	r = api_call(s.path, "null", NULL, 2000, err, sizeof(err));
	ck_assert(json_is_true(json_object_get(r, "ok")));
	ck_assert(json_is_null(json_object_get(r, "result")));
	json_decref(r);

	args = json_pack("{s:s}", "name", "x");
	r = api_call(s.path, "fail", args, 2000, err, sizeof(err));
	ck_assert_str_eq(resp_error(r), "no connection 'x'");
	json_decref(r);
	json_decref(args);
	server_stop(&s);
}
END_TEST

START_TEST(unknown_command_lists_commands)
{
	struct server s;
	char err[256];
	json_t *r;

	server_start(&s);
	r = api_call(s.path, "bogus", NULL, 2000, err, sizeof(err));
	ck_assert_str_eq(resp_error(r), "unknown command 'bogus'; commands: echo, fail, null");
	json_decref(r);
	server_stop(&s);
}
END_TEST

START_TEST(malformed_requests_answered)
{
	static const char *const bad[] = {
		"{bad json\n",
		"[1,2]\n",
		"{\"cmd\":1}\n",
		"{\"args\":{}}\n",
		"{\"cmd\":\"echo\",\"args\":[1]}\n",
		"{\"cmd\":\"echo\",\"cmd\":\"fail\"}\n",
		"\x01\x02\xff\xfe\n",
	};
	struct server s;
	json_t *r;
	size_t i;
	int fd;

	server_start(&s);
	fd = raw_connect(s.path);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		raw_send(fd, bad[i], strlen(bad[i]));
		r = raw_recv(fd);
		ck_assert_msg(strncmp(resp_error(r), "malformed request", 17) == 0, "%s",
		              resp_error(r));
		json_decref(r);
	}
	/* Empty lines are ignored; the connection still works. */
	raw_send(fd, "\n\r\n{\"cmd\":\"echo\",\"args\":{\"a\":1}}\r\n", 34);
	r = raw_recv(fd);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	close(fd);
	server_stop(&s);
}
END_TEST

START_TEST(oversized_line_rejected_then_recovers)
{
	struct server s;
	size_t big = 200 * 1024;
	char *junk = malloc(big);
	json_t *r;
	int fd;

	server_start(&s);
	memset(junk, 'x', big);
	fd = raw_connect(s.path);
	raw_send(fd, junk, big);
	raw_send(fd, "\n{\"cmd\":\"echo\"}\n", 16);
	r = raw_recv(fd);
	ck_assert_str_eq(resp_error(r), "request longer than 65536 bytes");
	json_decref(r);
	r = raw_recv(fd);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	ck_assert_int_eq(s.calls, 1);
	close(fd);
	free(junk);
	server_stop(&s);
}
END_TEST

START_TEST(split_and_pipelined_requests)
{
	static const char req[] =
	        "{\"cmd\":\"echo\",\"args\":{\"k\":\"v\"}}\n{\"cmd\":\"bogus\"}\n";
	struct server s;
	const struct timespec ms = { 0, 3000000 };
	json_t *r;
	size_t i;
	int fd;

	server_start(&s);
	fd = raw_connect(s.path);
	/* One byte at a time, with pauses: the server must buffer partial lines. */
	for (i = 0; i < sizeof(req) - 1; i++) {
		raw_send(fd, req + i, 1);
		if (i % 8 == 0)
			nanosleep(&ms, NULL);
	}
	r = raw_recv(fd);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "result"), "k")),
	                 "v");
	json_decref(r);
	r = raw_recv(fd);
	ck_assert_ptr_nonnull(strstr(resp_error(r), "unknown command 'bogus'"));
	json_decref(r);
	close(fd);
	server_stop(&s);
}
END_TEST

START_TEST(many_clients)
{
	enum { N = 60 };
	struct server s;
	char req[64];
	int fd[N], i;
	json_t *r;

	server_start(&s);
	for (i = 0; i < N; i++) {
		fd[i] = raw_connect(s.path);
		snprintf(req, sizeof(req), "{\"cmd\":\"echo\",\"args\":{\"i\":%d}", i);
		raw_send(fd[i], req, strlen(req)); /* half a request each, newline later */
	}
	for (i = N; i-- > 0;)
		raw_send(fd[i], "}\n", 2);
	for (i = 0; i < N; i++) {
		r = raw_recv(fd[i]);
		ck_assert_int_eq(
		        json_integer_value(json_object_get(json_object_get(r, "result"), "i")), i);
		json_decref(r);
	}
	for (i = 0; i < N; i++)
		close(fd[i]);
	server_stop(&s);
}
END_TEST

START_TEST(too_many_clients_told_so)
{
	enum { N = 64 };
	struct server s;
	char err[256];
	int fd[N + 1], i;
	json_t *r;

	server_start(&s);
	for (i = 0; i < N; i++)
		fd[i] = raw_connect(s.path);
	/* Make sure all N are accepted before the extra one arrives. */
	for (i = 0; i < N; i++) {
		raw_send(fd[i], "{\"cmd\":\"null\"}\n", 15);
		json_decref(raw_recv(fd[i]));
	}
	fd[N] = raw_connect(s.path);
	r = raw_recv(fd[N]);
	ck_assert_ptr_nonnull(strstr(resp_error(r), "too many"));
	json_decref(r);
	for (i = 0; i <= N; i++)
		close(fd[i]);
	/* Slots come back once clients leave. */
	for (i = 0; i < 50; i++) {
		r = api_call(s.path, "null", NULL, 2000, err, sizeof(err));
		ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "%s", err);
		json_decref(r);
	}
	server_stop(&s);
}
END_TEST

START_TEST(client_disconnects_mid_line)
{
	struct server s;
	char err[256];
	json_t *r;
	int fd;

	server_start(&s);
	fd = raw_connect(s.path);
	raw_send(fd, "{\"cmd\":\"ec", 10);
	close(fd);
	/* And one that asks, then leaves without reading the answer. */
	fd = raw_connect(s.path);
	raw_send(fd, "{\"cmd\":\"echo\"}\n{\"cmd\":\"echo\"}\n", 30);
	close(fd);
	r = api_call(s.path, "echo", NULL, 2000, err, sizeof(err));
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "%s", err);
	json_decref(r);
	server_stop(&s);
}
END_TEST

START_TEST(last_request_without_newline)
{
	struct server s;
	json_t *r;
	int fd;

	server_start(&s);
	fd = raw_connect(s.path);
	raw_send(fd, "{\"cmd\":\"echo\",\"args\":{\"z\":1}}", 29);
	shutdown(fd, SHUT_WR);
	r = raw_recv(fd);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r, "result"), "z")), 1);
	json_decref(r);
	close(fd);
	server_stop(&s);
}
END_TEST

START_TEST(call_reports_unreachable)
{
	char err[256] = "";
	json_t *r;

	errno = 0;
	r = api_call("/nonexistent/vpngw.sock", "stats", NULL, 500, err, sizeof(err));
	ck_assert_ptr_null(r);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_msg(strstr(err, "/nonexistent/vpngw.sock") != NULL, "%s", err);
}
END_TEST

START_TEST(call_times_out)
{
	char dir[64], path[128], err[256] = "";
	struct timespec t0, t1;
	struct api *a;
	json_t *r;
	long ms;

	snprintf(dir, sizeof(dir), "/tmp/vpngw_api_to_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	a = api_listen(path, err, sizeof(err)); /* listening, but nobody polls */
	ck_assert_ptr_nonnull(a);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = api_call(path, "stats", NULL, 300, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_ptr_null(r);
	ck_assert_msg(strstr(err, "no response") != NULL, "%s", err);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ck_assert_int_ge(ms, 250);
	ck_assert_int_lt(ms, 2000);
	api_close(a);
	rmdir(dir);
}
END_TEST

START_TEST(listen_replaces_stale_refuses_live)
{
	char dir[64], path[96], file[96], err[256] = "";
	struct api *a, *b;
	struct stat st;
	int fd;

	snprintf(dir, sizeof(dir), "/tmp/vpngw_api_st_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	a = api_listen(path, err, sizeof(err));
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0660);
	/* A live daemon owns it: a second one must not steal the socket. */
	b = api_listen(path, err, sizeof(err));
	ck_assert_ptr_null(b);
	ck_assert_msg(strstr(err, "listens there") != NULL, "%s", err);
	/* A dead daemon's socket file (bound, never listening) is replaced. */
	api_close(a);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	close(fd);
	a = api_listen(path, err, sizeof(err));
	ck_assert_msg(a != NULL, "%s", err);
	api_close(a);
	/* A regular file is not ours to delete. */
	snprintf(file, sizeof(file), "%s/f", dir);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	close(fd);
	ck_assert_ptr_null(api_listen(file, err, sizeof(err)));
	ck_assert_msg(strstr(err, "not a socket") != NULL, "%s", err);
	unlink(file);
	ck_assert_ptr_null(
	        api_listen("/tmp/"
	                   "a-path-far-too-long-for-sun-path-xxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	                   err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "longer than"));
	rmdir(dir);
}
END_TEST

static Suite *api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *tc = tcase_create("server");
	TCase *tl = tcase_create("client");

	tcase_add_test(tc, request_and_response);
	tcase_add_test(tc, unknown_command_lists_commands);
	tcase_add_test(tc, malformed_requests_answered);
	tcase_add_test(tc, oversized_line_rejected_then_recovers);
	tcase_add_test(tc, split_and_pipelined_requests);
	tcase_add_test(tc, many_clients);
	tcase_add_test(tc, too_many_clients_told_so);
	tcase_add_test(tc, client_disconnects_mid_line);
	tcase_add_test(tc, last_request_without_newline);
	tcase_add_test(tl, call_reports_unreachable);
	tcase_add_test(tl, call_times_out);
	tcase_add_test(tl, listen_replaces_stale_refuses_live);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tl);
	return s;
}

TEST_MAIN(api_suite)
