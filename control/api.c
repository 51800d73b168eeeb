/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket: a non-blocking Unix stream server polled by the
 * control thread, and the matching one-shot client. Each side writes one
 * compact JSON object per line. Requests are untrusted bytes: a line is
 * bounded, and anything that is not a well-formed request gets an error
 * response on the same connection instead of ending it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api.h"

enum {
	API_MAX_LINE = 64 * 1024,            /* longest request line */
	API_MAX_CLIENTS = 64,                /* concurrent connections */
	API_READ_CHUNK = 4096,               /* bytes read per read() */
	API_READS_PER_POLL = 16,             /* fairness: one client cannot hog a poll */
	API_BACKLOG = 64,                    /* listen() backlog */
	API_ERR_MAX = 512,                   /* handler error message */
	API_MAX_RESPONSE = 64 * 1024 * 1024, /* client side: 10,000s of SAs fit */
	API_IN_CAP = API_MAX_LINE + API_READ_CHUNK + 1,
};

struct api_cmd {
	char *name;
	api_handler_fn fn;
	void *ctx;
};

struct api_client {
	int fd;
	char *in; /* API_IN_CAP bytes */
	size_t in_len;
	bool discarding; /* skipping the rest of an oversized line */
	bool eof;        /* the peer closed its side: answer what is left, then close */
	char *out;
	size_t out_len, out_off, out_cap;
};

struct api {
	int fd;
	char *path;
	struct api_cmd *cmds; /* sorted by name, for the "commands: ..." list */
	size_t n_cmds, cap_cmds;
	struct api_client clients[API_MAX_CLIENTS];
	unsigned n_clients;
};

static int errf(char *err, size_t err_len, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int errf(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	errno = saved;
	return -1;
}

/* ---- server ---- */

static int mkdir_parents(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/* A socket file left by a dead daemon is replaced; a live one is not stolen. */
static int clear_stale(const char *path, const struct sockaddr_un *sa, char *err, size_t err_len)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : errf(err, err_len, "%s: %s", path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return errf(err, err_len, "%s exists and is not a socket", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errf(err, err_len, "socket: %s", strerror(errno));
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0)
		return errf(err, err_len, "%s: another process (a running vpngw?) listens there",
		            path);
	if (unlink(path) != 0 && errno != ENOENT)
		return errf(err, err_len, "%s: cannot remove stale socket: %s", path,
		            strerror(errno));
	return 0;
}

struct api *api_listen(const char *path, char *err, size_t err_len)
{
	struct sockaddr_un sa;
	struct api *a;

	if (!path || !*path || unix_addr(path, &sa) != 0) {
		errf(err, err_len, "control socket path '%s' is empty or longer than %zu bytes",
		     path ? path : "", sizeof(sa.sun_path) - 1);
		return NULL;
	}
	if (mkdir_parents(path) != 0) {
		errf(err, err_len, "%s: cannot create its directory: %s", path, strerror(errno));
		return NULL;
	}
	if (clear_stale(path, &sa, err, err_len) != 0)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a || !(a->path = strdup(path))) {
		free(a);
		errf(err, err_len, "out of memory");
		return NULL;
	}
	a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd < 0) {
		errf(err, err_len, "socket: %s", strerror(errno));
		goto fail;
	}
	if (bind(a->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		errf(err, err_len, "%s: bind: %s", path, strerror(errno));
		goto fail;
	}
	/* Operators in the socket's group may drive the gateway; nobody else. */
	if (chmod(path, 0660) != 0 || listen(a->fd, API_BACKLOG) != 0) {
		errf(err, err_len, "%s: %s", path, strerror(errno));
		unlink(path);
		goto fail;
	}
	return a;
fail:
	if (a->fd >= 0)
		close(a->fd);
	free(a->path);
	free(a);
	return NULL;
}

static void client_close(struct api *a, unsigned i)
{
	struct api_client *c = &a->clients[i];

	close(c->fd);
	free(c->in);
	free(c->out);
	a->clients[i] = a->clients[--a->n_clients];
}

void api_close(struct api *a)
{
	size_t i;

	if (!a)
		return;
	while (a->n_clients)
		client_close(a, a->n_clients - 1);
	close(a->fd);
	unlink(a->path);
	for (i = 0; i < a->n_cmds; i++)
		free(a->cmds[i].name);
	free(a->cmds);
	free(a->path);
	free(a);
}

int api_register(struct api *a, const char *cmd, api_handler_fn fn, void *ctx)
{
	size_t i;

	if (!a || !cmd || !*cmd || !fn)
		return -1;
	for (i = 0; i < a->n_cmds; i++) {
		int c = strcmp(cmd, a->cmds[i].name);

		if (c == 0)
			return -1;
		if (c < 0)
			break;
	}
	if (a->n_cmds == a->cap_cmds) {
		size_t cap = a->cap_cmds ? a->cap_cmds * 2 : 16;
		struct api_cmd *n = realloc(a->cmds, cap * sizeof(*n));

		if (!n)
			return -1;
		a->cmds = n;
		a->cap_cmds = cap;
	}
	memmove(&a->cmds[i + 1], &a->cmds[i], (a->n_cmds - i) * sizeof(*a->cmds));
	a->cmds[i].name = strdup(cmd);
	if (!a->cmds[i].name) {
		memmove(&a->cmds[i], &a->cmds[i + 1], (a->n_cmds - i) * sizeof(*a->cmds));
		return -1;
	}
	a->cmds[i].fn = fn;
	a->cmds[i].ctx = ctx;
	a->n_cmds++;
	return 0;
}

static const struct api_cmd *cmd_find(const struct api *a, const char *name)
{
	size_t lo = 0, hi = a->n_cmds;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, a->cmds[mid].name);

		if (c == 0)
			return &a->cmds[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Queues bytes plus a newline for the client; drops the client's output on OOM. */
static void client_queue(struct api_client *c, const char *s, size_t n)
{
	size_t need = c->out_len + n + 1;

	if (need > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 1024;
		char *nb;

		while (cap < need)
			cap *= 2;
		nb = realloc(c->out, cap);
		if (!nb)
			return;
		c->out = nb;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, s, n);
	c->out[c->out_len + n] = '\n';
	c->out_len = need;
}

static void client_send_json(struct api_client *c, json_t *resp)
{
	char *s = json_dumps(resp, JSON_COMPACT);

	if (!s) {
		static const char fallback[] =
		        "{\"ok\":false,\"error\":\"internal error: cannot encode the response\"}";

		client_queue(c, fallback, sizeof(fallback) - 1);
		return;
	}
	client_queue(c, s, strlen(s));
	free(s);
}

static void client_send_error(struct api_client *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void client_send_error(struct api_client *c, const char *fmt, ...)
{
	char msg[API_ERR_MAX * 2];
	json_t *resp;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	resp = json_pack("{s:b,s:s}", "ok", 0, "error", msg);
	client_send_json(c, resp);
	json_decref(resp);
}

static void unknown_command(const struct api *a, struct api_client *c, const char *name)
{
	char list[API_ERR_MAX];
	size_t o = 0, i;

	list[0] = '\0';
	for (i = 0; i < a->n_cmds && o < sizeof(list); i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "",
		                      a->cmds[i].name);
	if (a->n_cmds)
		client_send_error(c, "unknown command '%.64s'; commands: %s", name, list);
	else
		client_send_error(c, "unknown command '%.64s'; no commands registered", name);
}

static void handle_line(struct api *a, struct api_client *c, const char *line, size_t n)
{
	char err[API_ERR_MAX] = "";
	const struct api_cmd *cmd;
	json_t *req, *args, *result = NULL, *resp;
	json_error_t jerr;
	const char *name;

	if (n && line[n - 1] == '\r')
		n--;
	if (n == 0)
		return;
	req = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!req) {
		client_send_error(c, "malformed request: %s at column %d", jerr.text, jerr.column);
		return;
	}
	name = json_string_value(json_object_get(req, "cmd"));
	args = json_object_get(req, "args");
	if (!json_is_object(req) || !name) {
		client_send_error(
		        c, "malformed request: expected {\"cmd\": \"NAME\", \"args\": {...}}");
		goto out;
	}
	if (args && !json_is_null(args) && !json_is_object(args)) {
		client_send_error(c, "malformed request: \"args\" must be an object");
		goto out;
	}
	cmd = cmd_find(a, name);
	if (!cmd) {
		unknown_command(a, c, name);
		goto out;
	}
	args = json_is_object(args) ? json_incref(args) : json_object();
	if (cmd->fn(cmd->ctx, args, &result, err, sizeof(err)) != 0) {
		json_decref(result);
		client_send_error(c, "%s", err[0] ? err : "command failed");
	} else {
		resp = json_pack("{s:b,s:o}", "ok", 1, "result", result ? result : json_null());
		client_send_json(c, resp);
		json_decref(resp);
	}
	json_decref(args);
out:
	json_decref(req);
}

/* Returns false when the client is gone. */
static bool client_flush(struct api_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK;
		}
		c->out_off += (size_t)w;
	}
	c->out_off = c->out_len = 0;
	return true;
}

static bool client_idle_out(const struct api_client *c)
{
	return c->out_off == c->out_len;
}

/*
 * Answers the complete lines in the input buffer, one at a time and only
 * while the previous answer has gone out: a client that does not read its
 * answers stops being read (the kernel then pushes back on it).
 */
static bool client_process(struct api *a, struct api_client *c)
{
	size_t start = 0;
	bool no_newline = false;

	while (client_idle_out(c)) {
		char *nl = memchr(c->in + start, '\n', c->in_len - start);
		size_t n;

		if (!nl) {
			no_newline = true;
			break;
		}
		n = (size_t)(nl - (c->in + start));
		if (c->discarding)
			c->discarding = false;
		else if (n > API_MAX_LINE)
			client_send_error(c, "request longer than %d bytes", API_MAX_LINE);
		else
			handle_line(a, c, c->in + start, n);
		start += n + 1;
		if (!client_flush(c))
			return false;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	if (!no_newline)
		return true;
	if (c->discarding) {
		c->in_len = 0;
	} else if (c->in_len > API_MAX_LINE) {
		client_send_error(c, "request longer than %d bytes", API_MAX_LINE);
		c->discarding = true;
		c->in_len = 0;
	} else if (c->eof && c->in_len) {
		/* The last request may lack its newline (printf ... | nc -U). */
		handle_line(a, c, c->in, c->in_len);
		c->in_len = 0;
	}
	return client_flush(c);
}

static bool client_read(struct api *a, struct api_client *c)
{
	unsigned i;

	for (i = 0; i < API_READS_PER_POLL && !c->eof && client_idle_out(c); i++) {
		ssize_t r;

		if (c->in_len + API_READ_CHUNK > API_IN_CAP - 1)
			break;
		r = read(c->fd, c->in + c->in_len, API_READ_CHUNK);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return false;
		}
		if (r == 0)
			c->eof = true;
		c->in_len += (size_t)r;
		if (!client_process(a, c))
			return false;
	}
	return true;
}

static void api_accept(struct api *a)
{
	static const char busy[] =
	        "{\"ok\":false,\"error\":\"too many control connections; try again\"}\n";

	for (;;) {
		struct api_client *c;
		int fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return; /* EAGAIN, or a transient error: retried next poll */
		if (a->n_clients == API_MAX_CLIENTS) {
			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* nothing more to tell it */
			}
			close(fd);
			continue;
		}
		c = &a->clients[a->n_clients];
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->in = malloc(API_IN_CAP);
		if (!c->in) {
			close(fd);
			continue;
		}
		a->n_clients++;
	}
}

void api_poll(struct api *a)
{
	struct pollfd pfd[API_MAX_CLIENTS + 1];
	unsigned i, n;

	if (!a)
		return;
	pfd[0] = (struct pollfd){ .fd = a->fd, .events = POLLIN };
	n = a->n_clients;
	for (i = 0; i < n; i++) {
		struct api_client *c = &a->clients[i];

		pfd[i + 1] = (struct pollfd){ .fd = c->fd,
			                      .events = client_idle_out(c) ? POLLIN : POLLOUT };
	}
	if (poll(pfd, n + 1, 0) <= 0)
		return;
	/* Backwards: client_close() moves the last client into the freed slot. */
	for (i = n; i-- > 0;) {
		struct api_client *c = &a->clients[i];
		bool alive = true;

		if (!pfd[i + 1].revents)
			continue;
		if (!client_idle_out(c))
			alive = client_flush(c) && client_process(a, c);
		if (alive && client_idle_out(c))
			alive = client_read(a, c);
		if (!alive || (c->eof && client_idle_out(c)))
			client_close(a, i);
	}
	if (pfd[0].revents & POLLIN)
		api_accept(a);
}

/* ---- client ---- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline; 0, or -1 with errno ETIMEDOUT. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		long long left = deadline - now_ms();
		int rc;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		rc = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

static int call_connect(const char *path, long long deadline, char *err, size_t err_len)
{
	struct sockaddr_un sa;
	socklen_t sl = sizeof(int);
	int fd, soerr = 0;

	if (unix_addr(path, &sa) != 0)
		return errf(err, err_len, "cannot connect to %s: path too long", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errf(err, err_len, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	/* A full backlog: wait for the daemon's next poll. */
	if ((errno == EAGAIN || errno == EINPROGRESS) && wait_fd(fd, POLLOUT, deadline) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
		return fd;
	if (soerr)
		errno = soerr;
	errf(err, err_len, "cannot connect to %s: %s", path, strerror(errno));
	close(fd);
	return -1;
}

static int call_send(int fd, const char *s, size_t n, long long deadline)
{
	size_t off = 0;

	while (off < n) {
		ssize_t w = send(fd, s + off, n - off, MSG_NOSIGNAL);

		if (w >= 0) {
			off += (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if ((errno != EAGAIN && errno != EWOULDBLOCK) || wait_fd(fd, POLLOUT, deadline))
			return -1;
	}
	return 0;
}

/* Reads up to the first newline; the buffer is NUL-terminated, without it. */
static char *call_recv(int fd, size_t *len, long long deadline, char *err, size_t err_len,
                       const char *path, int timeout_ms)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap), *nb;

	while (buf) {
		ssize_t r;
		char *nl;

		if (n + 1 >= cap) {
			if (cap >= API_MAX_RESPONSE) {
				errno = EMSGSIZE;
				errf(err, err_len, "response from %s longer than %d bytes", path,
				     API_MAX_RESPONSE);
				break;
			}
			nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		r = recv(fd, buf + n, cap - n - 1, 0);
		if (r > 0) {
			nl = memchr(buf + n, '\n', (size_t)r);
			n += (size_t)r;
			if (nl) {
				*len = (size_t)(nl - buf);
				buf[*len] = '\0';
				return buf;
			}
			continue;
		}
		if (r == 0) {
			errno = ECONNRESET;
			errf(err, err_len, "%s closed the connection without a response", path);
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			errf(err, err_len, "reading from %s: %s", path, strerror(errno));
			break;
		}
		if (wait_fd(fd, POLLIN, deadline) != 0) {
			errf(err, err_len, "no response from %s within %d ms", path, timeout_ms);
			break;
		}
	}
	if (!buf)
		errf(err, err_len, "out of memory");
	free(buf);
	return NULL;
}

json_t *api_call(const char *path, const char *cmd, json_t *args, int timeout_ms, char *err,
                 size_t err_len)
{
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	json_t *req, *resp = NULL;
	json_error_t jerr;
	char *line = NULL, *buf = NULL;
	size_t len = 0;
	int fd;

	if (!path || !cmd) {
		errno = EINVAL;
		errf(err, err_len, "api_call: no socket path or command");
		return NULL;
	}
	req = json_pack("{s:s,s:o}", "cmd", cmd, "args", args ? json_incref(args) : json_object());
	line = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!line) {
		errno = EINVAL;
		errf(err, err_len, "cannot encode the request");
		return NULL;
	}
	fd = call_connect(path, deadline, err, err_len);
	if (fd < 0)
		goto out;
	buf = malloc(strlen(line) + 2);
	if (!buf) {
		errf(err, err_len, "out of memory");
		goto out_close;
	}
	len = (size_t)sprintf(buf, "%s\n", line);
	if (call_send(fd, buf, len, deadline) != 0) {
		errf(err, err_len, "sending to %s: %s", path, strerror(errno));
		goto out_close;
	}
	free(buf);
	buf = call_recv(fd, &len, deadline, err, err_len, path, timeout_ms);
	if (!buf)
		goto out_close;
	resp = json_loadb(buf, len, 0, &jerr);
	if (!json_is_object(resp) || !json_is_boolean(json_object_get(resp, "ok"))) {
		json_decref(resp);
		resp = NULL;
		errno = EPROTO;
		errf(err, err_len, "malformed response from %s", path);
	}
out_close:
	close(fd);
out:
	free(buf);
	free(line);
	return resp;
}
