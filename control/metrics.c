/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The metrics registry and its three readers (Prometheus text over
 * libmicrohttpd, rte_telemetry, JSON). Series point at the counters where
 * the workers keep them; a read sums the per-worker copies with relaxed
 * loads, so a worker never sees this module at all.
 *
 * One mutex guards the registry: the control thread registers and removes,
 * the MHD thread and the telemetry thread render. Removal holds the lock,
 * so once metrics_series_remove() returns no reader can still be looking
 * at the counters the series pointed to.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>
#include <rte_telemetry.h>

#include "metrics.h"

#define METRICS_PREFIX "vpngw_"

enum {
	METRICS_NAME_MAX = 96,        /* family name, without the prefix */
	METRICS_HASH_MIN = 16,        /* initial series buckets per family */
	METRICS_HTTP_CONN_LIMIT = 32, /* scrapers are few; bound the damage */
	METRICS_HTTP_TIMEOUT_S = 10,  /* idle HTTP connection lifetime */
	METRICS_TEL_KEY_MAX = RTE_TEL_MAX_STRING_LEN,
};

struct metric_series {
	struct metric_family *fam;
	struct metric_series *prev, *next; /* render order (registration order) */
	struct metric_series *hnext;       /* bucket chain for the duplicate check */
	uint64_t hash;
	char *values[METRICS_MAX_LABELS];
	/* Either a strided set of per-worker slots or a function. */
	const volatile uint64_t *p;
	unsigned n;
	size_t stride;
	uint64_t (*read)(void *arg);
	void *arg;
};

struct metric_family {
	struct metrics *m;
	struct metric_family *next;
	char *name; /* with the vpngw_ prefix */
	char *help;
	enum metric_type type;
	unsigned n_labels;
	char *labels[METRICS_MAX_LABELS];
	struct metric_series *head, *tail;
	struct metric_series **buckets;
	size_t n_buckets, n_series;
};

struct metrics {
	pthread_mutex_t lock;
	struct metric_family *head, *tail;
	struct MHD_Daemon *http;
};

/* The registry that rte_telemetry's callback reads (it takes no argument). */
static struct metrics *metrics_telemetry_target;
static pthread_mutex_t metrics_telemetry_lock = PTHREAD_MUTEX_INITIALIZER;

/* A growable string for the renderers; a failed allocation poisons it. */
struct sbuf {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void sb_reserve(struct sbuf *sb, size_t more)
{
	size_t cap;
	char *nb;

	if (sb->oom || sb->len + more + 1 <= sb->cap)
		return;
	cap = sb->cap ? sb->cap : 1024;
	while (cap < sb->len + more + 1)
		cap *= 2;
	nb = realloc(sb->buf, cap);
	if (!nb) {
		sb->oom = true;
		return;
	}
	sb->buf = nb;
	sb->cap = cap;
}

static void sb_putn(struct sbuf *sb, const char *s, size_t n)
{
	sb_reserve(sb, n);
	if (sb->oom)
		return;
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

static void sb_puts(struct sbuf *sb, const char *s)
{
	sb_putn(sb, s, strlen(s));
}

static void sb_u64(struct sbuf *sb, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);

	sb_putn(sb, tmp, (size_t)n);
}

/*
 * Text format 0.0.4 escaping: HELP escapes backslash and newline; label
 * values also escape the double quote.
 */
static void sb_escaped(struct sbuf *sb, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			sb_puts(sb, "\\\\");
		else if (*s == '\n')
			sb_puts(sb, "\\n");
		else if (quote && *s == '"')
			sb_puts(sb, "\\\"");
		else
			sb_putn(sb, s, 1);
	}
}

static bool name_char_ok(char c, bool first, bool colon)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return true;
	if (colon && c == ':')
		return true;
	return !first && c >= '0' && c <= '9';
}

/* Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names: no colon, no "__". */
static bool name_valid(const char *s, bool label)
{
	size_t i;

	if (!s || !*s || strlen(s) > METRICS_NAME_MAX)
		return false;
	if (label && s[0] == '_' && s[1] == '_')
		return false;
	for (i = 0; s[i]; i++)
		if (!name_char_ok(s[i], i == 0, !label))
			return false;
	return true;
}

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m && pthread_mutex_init(&m->lock, NULL) != 0) {
		free(m);
		return NULL;
	}
	return m;
}

static void series_free(struct metric_series *s)
{
	unsigned i;

	for (i = 0; i < METRICS_MAX_LABELS; i++)
		free(s->values[i]);
	free(s);
}

static void family_free(struct metric_family *f)
{
	struct metric_series *s, *next;
	unsigned i;

	for (s = f->head; s; s = next) {
		next = s->next;
		series_free(s);
	}
	for (i = 0; i < f->n_labels; i++)
		free(f->labels[i]);
	free(f->buckets);
	free(f->name);
	free(f->help);
	free(f);
}

void metrics_free(struct metrics *m)
{
	struct metric_family *f, *next;

	if (!m)
		return;
	if (m->http)
		MHD_stop_daemon(m->http);
	/* The telemetry command stays registered; make it answer empty. */
	pthread_mutex_lock(&metrics_telemetry_lock);
	if (metrics_telemetry_target == m)
		metrics_telemetry_target = NULL;
	pthread_mutex_unlock(&metrics_telemetry_lock);
	for (f = m->head; f; f = next) {
		next = f->next;
		family_free(f);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static struct metric_family *family_find(struct metrics *m, const char *full)
{
	struct metric_family *f;

	for (f = m->head; f; f = f->next)
		if (strcmp(f->name, full) == 0)
			return f;
	return NULL;
}

struct metric_family *metrics_family(struct metrics *m, const char *name, const char *help,
                                     enum metric_type type, const char *const *labels,
                                     unsigned n_labels)
{
	struct metric_family *f = NULL;
	char full[sizeof(METRICS_PREFIX) + METRICS_NAME_MAX];
	unsigned i, j;

	if (!m || !name_valid(name, false) || n_labels > METRICS_MAX_LABELS ||
	    (n_labels && !labels) || (type != METRIC_COUNTER && type != METRIC_GAUGE))
		return NULL;
	for (i = 0; i < n_labels; i++) {
		if (!name_valid(labels[i], true))
			return NULL;
		for (j = 0; j < i; j++)
			if (strcmp(labels[i], labels[j]) == 0)
				return NULL;
	}
	snprintf(full, sizeof(full), METRICS_PREFIX "%s", name);

	pthread_mutex_lock(&m->lock);
	f = family_find(m, full);
	if (f)
		goto out;
	f = calloc(1, sizeof(*f));
	if (!f)
		goto out;
	f->m = m;
	f->type = type;
	f->n_labels = n_labels;
	f->name = strdup(full);
	f->help = strdup(help ? help : "");
	f->n_buckets = METRICS_HASH_MIN;
	f->buckets = calloc(f->n_buckets, sizeof(*f->buckets));
	for (i = 0; i < n_labels; i++)
		f->labels[i] = strdup(labels[i]);
	if (!f->name || !f->help || !f->buckets)
		goto fail;
	for (i = 0; i < n_labels; i++)
		if (!f->labels[i])
			goto fail;
	if (m->tail)
		m->tail->next = f;
	else
		m->head = f;
	m->tail = f;
	goto out;
fail:
	family_free(f);
	f = NULL;
out:
	pthread_mutex_unlock(&m->lock);
	return f;
}

/* FNV-1a over the label values, each terminated by its NUL. */
static uint64_t values_hash(const char *const *values, unsigned n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned i;
	const char *c;

	for (i = 0; i < n; i++) {
		for (c = values[i];; c++) {
			h ^= (unsigned char)*c;
			h *= 0x100000001b3ULL;
			if (!*c)
				break;
		}
	}
	return h;
}

static bool values_equal(const struct metric_series *s, const char *const *values, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (strcmp(s->values[i], values[i]) != 0)
			return false;
	return true;
}

/* Doubles the buckets when chains grow past two on average; keeps the old on OOM. */
static void family_rehash(struct metric_family *f)
{
	size_t nb = f->n_buckets * 2, i;
	struct metric_series **b, *s;

	if (f->n_series < f->n_buckets * 2)
		return;
	b = calloc(nb, sizeof(*b));
	if (!b)
		return;
	for (s = f->head; s; s = s->next) {
		i = s->hash & (nb - 1);
		s->hnext = b[i];
		b[i] = s;
	}
	free(f->buckets);
	f->buckets = b;
	f->n_buckets = nb;
}

static struct metric_series *series_add(struct metric_family *f, const char *const *values,
                                        struct metric_series *tmpl)
{
	struct metrics *m;
	struct metric_series *s = NULL, *it;
	uint64_t h;
	unsigned i;

	if (!f || (f->n_labels && !values))
		return NULL;
	for (i = 0; i < f->n_labels; i++)
		if (!values[i])
			return NULL;
	m = f->m;
	h = values_hash(values, f->n_labels);

	pthread_mutex_lock(&m->lock);
	for (it = f->buckets[h & (f->n_buckets - 1)]; it; it = it->hnext)
		if (it->hash == h && values_equal(it, values, f->n_labels))
			goto out;
	s = calloc(1, sizeof(*s));
	if (!s)
		goto out;
	*s = *tmpl;
	s->fam = f;
	s->hash = h;
	for (i = 0; i < f->n_labels; i++) {
		s->values[i] = strdup(values[i]);
		if (!s->values[i]) {
			series_free(s);
			s = NULL;
			goto out;
		}
	}
	s->prev = f->tail;
	if (f->tail)
		f->tail->next = s;
	else
		f->head = s;
	f->tail = s;
	s->hnext = f->buckets[h & (f->n_buckets - 1)];
	f->buckets[h & (f->n_buckets - 1)] = s;
	f->n_series++;
	family_rehash(f);
out:
	pthread_mutex_unlock(&m->lock);
	return s;
}

struct metric_series *metrics_series(struct metric_family *f, const char *const *values,
                                     const volatile uint64_t *p, unsigned n, size_t stride)
{
	struct metric_series t = { .p = p, .n = n, .stride = stride };

	if (!p || n == 0 || (n > 1 && stride < sizeof(uint64_t)))
		return NULL;
	return series_add(f, values, &t);
}

struct metric_series *metrics_series_fn(struct metric_family *f, const char *const *values,
                                        uint64_t (*read)(void *arg), void *arg)
{
	struct metric_series t = { .read = read, .arg = arg };

	if (!read)
		return NULL;
	return series_add(f, values, &t);
}

void metrics_series_remove(struct metric_series *s)
{
	struct metric_family *f;
	struct metric_series **pp;

	if (!s)
		return;
	f = s->fam;
	pthread_mutex_lock(&f->m->lock);
	for (pp = &f->buckets[s->hash & (f->n_buckets - 1)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			break;
		}
	}
	if (s->prev)
		s->prev->next = s->next;
	else
		f->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		f->tail = s->prev;
	f->n_series--;
	pthread_mutex_unlock(&f->m->lock);
	series_free(s);
}

/* Called with the registry lock held. Workers write these without locks. */
static uint64_t series_value(const struct metric_series *s)
{
	const volatile char *base = (const volatile char *)s->p;
	uint64_t sum = 0;
	unsigned i;

	if (s->read)
		return s->read(s->arg);
	for (i = 0; i < s->n; i++) {
		const volatile uint64_t *slot =
		        (const volatile uint64_t *)(const volatile void *)(base + i * s->stride);

		sum += __atomic_load_n(slot, __ATOMIC_RELAXED);
	}
	return sum;
}

char *metrics_render(struct metrics *m, size_t *len)
{
	struct sbuf sb = { 0 };
	struct metric_family *f;
	struct metric_series *s;
	unsigned i;

	sb_reserve(&sb, 0); /* an empty registry still renders "" */
	if (sb.buf)
		sb.buf[0] = '\0';
	pthread_mutex_lock(&m->lock);
	for (f = m->head; f; f = f->next) {
		sb_puts(&sb, "# HELP ");
		sb_puts(&sb, f->name);
		sb_puts(&sb, " ");
		sb_escaped(&sb, f->help, false);
		sb_puts(&sb, "\n# TYPE ");
		sb_puts(&sb, f->name);
		sb_puts(&sb, f->type == METRIC_COUNTER ? " counter\n" : " gauge\n");
		for (s = f->head; s; s = s->next) {
			sb_puts(&sb, f->name);
			for (i = 0; i < f->n_labels; i++) {
				sb_puts(&sb, i ? "," : "{");
				sb_puts(&sb, f->labels[i]);
				sb_puts(&sb, "=\"");
				sb_escaped(&sb, s->values[i], true);
				sb_puts(&sb, "\"");
			}
			sb_puts(&sb, f->n_labels ? "} " : " ");
			sb_u64(&sb, series_value(s));
			sb_puts(&sb, "\n");
		}
	}
	pthread_mutex_unlock(&m->lock);
	if (sb.oom) {
		free(sb.buf);
		return NULL;
	}
	if (len)
		*len = sb.len;
	return sb.buf;
}

json_t *metrics_json(struct metrics *m)
{
	json_t *root = json_object(), *arr, *item, *labels;
	struct metric_family *f;
	struct metric_series *s;
	bool oom = !root;
	unsigned i;

	if (oom)
		return NULL;
	pthread_mutex_lock(&m->lock);
	for (f = m->head; f && !oom; f = f->next) {
		arr = json_array();
		oom |= json_object_set_new(root, f->name, arr) != 0;
		for (s = f->head; s && !oom; s = s->next) {
			labels = json_object();
			for (i = 0; i < f->n_labels; i++)
				oom |= json_object_set_new(labels, f->labels[i],
				                           json_string(s->values[i])) != 0;
			item = json_pack("{s:o,s:I}", "labels", labels, "value",
			                 (json_int_t)series_value(s));
			oom |= json_array_append_new(arr, item) != 0;
		}
	}
	pthread_mutex_unlock(&m->lock);
	if (oom) {
		json_decref(root);
		return NULL;
	}
	return root;
}

/* ---- HTTP ---- */

static enum MHD_Result http_reply(struct MHD_Connection *c, unsigned code, const char *body,
                                  const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result http_handler(void *cls, struct MHD_Connection *c, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_data_size,
                                    void **req_cls)
{
	struct metrics *m = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len = 0;
	char *body;

	(void)version;
	(void)upload_data;
	/* MHD calls twice per request: answer on the second, after the headers. */
	if (*req_cls == NULL) {
		*req_cls = m;
		return MHD_YES;
	}
	/* Discard any request body (a stray POST) before answering. */
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return http_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n",
		                  "GET, HEAD");
	if (strcmp(url, "/metrics") != 0)
		return http_reply(c, MHD_HTTP_NOT_FOUND, "not found; try /metrics\n", NULL);

	body = metrics_render(m, &len);
	if (!body)
		return http_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL);
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static int errf(char *err, size_t err_len, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int errf(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* "a.b.c.d:port" or "[v6]:port", numeric only: the config already validated it. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, char *err, size_t err_len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *h = listen;
	size_t hl;
	char *end;
	unsigned long port;

	memset(ss, 0, sizeof(*ss));
	colon = strrchr(listen, ':');
	if (!colon)
		return errf(err, err_len, "metrics_listen '%s': expected ADDRESS:PORT", listen);
	hl = (size_t)(colon - listen);
	if (hl >= 2 && listen[0] == '[' && listen[hl - 1] == ']') {
		h = listen + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return errf(err, err_len, "metrics_listen '%s': bad address", listen);
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end || errno || port > 65535)
		return errf(err, err_len, "metrics_listen '%s': bad port (0..65535)", listen);

	if (h == listen) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &sin->sin_addr) == 1)
			return 0;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1)
			return 0;
	}
	return errf(err, err_len,
	            "metrics_listen '%s': not a numeric address (127.0.0.1:9469, [::1]:9469)",
	            listen);
}

int metrics_http_start(struct metrics *m, const char *listen, char *err, size_t err_len)
{
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	uint16_t port;

	if (m->http)
		return errf(err, err_len, "metrics HTTP server already running");
	if (!listen || parse_listen(listen, &ss, err, err_len) != 0)
		return listen ? -1 : errf(err, err_len, "metrics_listen: missing");
	if (ss.ss_family == AF_INET6) {
		flags |= MHD_USE_IPv6;
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	m->http = MHD_start_daemon(flags, port, NULL, NULL, http_handler, m, MHD_OPTION_SOCK_ADDR,
	                           (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
	                           (unsigned)METRICS_HTTP_CONN_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
	                           (unsigned)METRICS_HTTP_TIMEOUT_S, MHD_OPTION_END);
	if (!m->http)
		return errf(err, err_len,
		            "metrics_listen %s: cannot listen (address in use or "
		            "not local?)",
		            listen);
	return 0;
}

/* ---- rte_telemetry ---- */

/*
 * rte_telemetry accepts dictionary keys of [A-Za-z0-9_/] only, shorter
 * than RTE_TEL_MAX_STRING_LEN; anything else becomes '_'.
 */
static void tel_key(char *out, size_t cap, const struct metric_series *s, unsigned n)
{
	size_t o = 0;
	unsigned i;
	const char *c;

	for (i = 0; i < n && o + 1 < cap; i++) {
		if (i)
			out[o++] = '/';
		for (c = s->values[i]; *c && o + 1 < cap; c++) {
			bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			          (*c >= '0' && *c <= '9') || *c == '_';

			out[o++] = ok ? *c : '_';
		}
	}
	if (o == 0 && cap > 5)
		o = (size_t)snprintf(out, cap, "value");
	out[o] = '\0';
}

/*
 * The reply is a dictionary: family name -> value for families without
 * labels, family name -> {label values joined by '/': value} otherwise.
 * rte_telemetry caps a dictionary at RTE_TEL_MAX_DICT_ENTRIES and the whole
 * reply at 16 KiB; what does not fit is left out (GET /metrics has it all).
 */
static int metrics_telemetry_cb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char key[METRICS_TEL_KEY_MAX];
	struct metric_family *f;
	struct metric_series *s;
	struct rte_tel_data *sub;
	struct metrics *m;
	unsigned entries = 0, sub_entries;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&metrics_telemetry_lock);
	m = metrics_telemetry_target;
	if (!m)
		goto out;
	pthread_mutex_lock(&m->lock);
	for (f = m->head; f && entries < RTE_TEL_MAX_DICT_ENTRIES; f = f->next) {
		if (f->n_labels == 0) {
			if (f->head)
				entries += rte_tel_data_add_dict_u64(d, f->name,
				                                     series_value(f->head)) == 0;
			continue;
		}
		sub = rte_tel_data_alloc();
		if (!sub)
			break;
		rte_tel_data_start_dict(sub);
		sub_entries = 0;
		for (s = f->head; s && sub_entries < RTE_TEL_MAX_DICT_ENTRIES; s = s->next) {
			tel_key(key, sizeof(key), s, f->n_labels);
			sub_entries += rte_tel_data_add_dict_u64(sub, key, series_value(s)) == 0;
		}
		if (rte_tel_data_add_dict_container(d, f->name, sub, 0) == 0)
			entries++;
		else
			rte_tel_data_free(sub);
	}
	pthread_mutex_unlock(&m->lock);
out:
	pthread_mutex_unlock(&metrics_telemetry_lock);
	return 0;
}

int metrics_telemetry_register(struct metrics *m)
{
	static bool registered;
	int rc = 0;

	pthread_mutex_lock(&metrics_telemetry_lock);
	metrics_telemetry_target = m;
	if (!registered) {
		rc = rte_telemetry_register_cmd(
		        "/vpngw/metrics", metrics_telemetry_cb,
		        "vpngw counters: family -> value, or family -> {label values: value}");
		registered = rc == 0;
	}
	pthread_mutex_unlock(&metrics_telemetry_lock);
	return rc == 0 ? 0 : -1;
}
