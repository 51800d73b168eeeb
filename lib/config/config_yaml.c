/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The first pass over a config file: libyaml events checked against the
 * libcyaml schema tables. libcyaml 1.3.1 reports its errors with a backtrace
 * whose line numbers point at the last event it read (often the line before
 * the fault) and whose sequence indexes are off by one, so structure errors
 * are found here, where each event's own mark is at hand, and libcyaml only
 * loads what already passed. The same pass records every node's key path
 * and line for the resolver's messages.
 */
#include "config_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "crypto_mem.h"

enum {
	SCAN_PATH_MAX = 160,
	/* A 32 MiB file of "- a" lines would otherwise make ~10^7 nodes. */
	SCAN_NODES_MAX = 4u << 20,
};

struct scan {
	yaml_parser_t parser;
	const uint8_t *buf;
	size_t len;
	struct config_nodes *nodes;
	struct config_err *err;
	char path[SCAN_PATH_MAX];
	size_t path_len;
};

void config_errf(struct config_err *e, uint32_t line, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (e->set || e->cap == 0)
		return;
	e->set = true;
	if (path != NULL && path[0] != '\0')
		n = snprintf(e->buf, e->cap, "%s:%u: %s: ", e->name, line, path);
	else
		n = snprintf(e->buf, e->cap, "%s:%u: ", e->name, line);
	if (n < 0 || (size_t)n >= e->cap)
		return;
	va_start(ap, fmt);
	vsnprintf(e->buf + n, e->cap - (size_t)n, fmt, ap);
	va_end(ap);
}

static uint32_t mark_line(const yaml_event_t *ev)
{
	return (uint32_t)ev->start_mark.line + 1;
}

static uint32_t offset_line(const struct scan *s, size_t off)
{
	uint32_t line = 1;

	for (size_t i = 0; i < off && i < s->len; i++)
		line += s->buf[i] == '\n';
	return line;
}

static int next_event(struct scan *s, yaml_event_t *ev)
{
	yaml_parser_t *p = &s->parser;
	uint32_t line;

	if (yaml_parser_parse(p, ev))
		return 0;
	if (p->error == YAML_MEMORY_ERROR) {
		config_errf(s->err, 1, NULL, "out of memory");
		return -1;
	}
	/* Reader errors (bad UTF-8, control bytes) carry an offset, not a mark. */
	line = p->error == YAML_READER_ERROR ? offset_line(s, p->problem_offset)
	                                     : (uint32_t)p->problem_mark.line + 1;
	if (p->context != NULL)
		config_errf(s->err, line, NULL, "YAML syntax error: %s %s (line %u)",
		            p->problem ? p->problem : "?", p->context,
		            (uint32_t)p->context_mark.line + 1);
	else
		config_errf(s->err, line, NULL, "YAML syntax error: %s",
		            p->problem ? p->problem : "?");
	return -1;
}

static int path_push(struct scan *s, const char *fmt, const char *key, uint32_t index)
{
	size_t room = sizeof(s->path) - s->path_len;
	int n = key ? snprintf(s->path + s->path_len, room, fmt, key)
	            : snprintf(s->path + s->path_len, room, fmt, index);

	if (n < 0 || (size_t)n >= room) {
		s->path[s->path_len] = '\0';
		return -1;
	}
	s->path_len += (size_t)n;
	return 0;
}

static void path_pop(struct scan *s, size_t len)
{
	s->path_len = len;
	s->path[len] = '\0';
}

static int add_node(struct scan *s, enum config_node_kind kind, const char *value, uint32_t line,
                    size_t *idx)
{
	struct config_nodes *ns = s->nodes;
	struct config_node *nd;

	if (ns->n == SCAN_NODES_MAX) {
		config_errf(s->err, line, s->path, "too many values (more than %u)",
		            SCAN_NODES_MAX);
		return -1;
	}
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 256;
		struct config_node *v = realloc(ns->v, cap * sizeof(*v));

		if (v == NULL)
			goto nomem;
		ns->v = v;
		ns->cap = cap;
	}
	nd = &ns->v[ns->n];
	memset(nd, 0, sizeof(*nd));
	nd->path = strdup(s->path);
	nd->value = value ? strdup(value) : NULL;
	if (nd->path == NULL || (value && nd->value == NULL)) {
		free(nd->path);
		free(nd->value);
		goto nomem;
	}
	nd->kind = kind;
	nd->line = line;
	*idx = ns->n++;
	return 0;
nomem:
	config_errf(s->err, line, NULL, "out of memory");
	return -1;
}

static const char *event_what(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	default:
		return "a single value";
	}
}

static int scan_node(struct scan *s, yaml_event_t *ev, const cyaml_schema_value_t *schema,
                     uint32_t line);

static int scan_list(struct scan *s, const cyaml_schema_value_t *schema, uint32_t line)
{
	const cyaml_schema_value_t *entry = schema ? schema->sequence.entry : NULL;
	size_t base = s->path_len, idx;
	uint32_t count = 0;
	yaml_event_t ev;

	if (add_node(s, CONFIG_NODE_LIST, NULL, line, &idx) < 0)
		return -1;
	for (;;) {
		if (next_event(s, &ev) < 0)
			return -1;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		/* Free-form values (schema NULL) are a name or a list of names. */
		if (schema == NULL && ev.type != YAML_SCALAR_EVENT) {
			config_errf(s->err, mark_line(&ev), s->path,
			            "expected a list of single values, got %s in it",
			            event_what(&ev));
			yaml_event_delete(&ev);
			return -1;
		}
		if (path_push(s, "[%u]", NULL, count) < 0) {
			yaml_event_delete(&ev);
			config_errf(s->err, line, s->path, "list too long");
			return -1;
		}
		if (scan_node(s, &ev, entry, mark_line(&ev)) < 0)
			return -1;
		path_pop(s, base);
		count++;
	}
	s->nodes->v[idx].count = count;
	if (schema && count < schema->sequence.min) {
		config_errf(s->err, line, s->path, "empty list; at least %u entr%s needed",
		            schema->sequence.min, schema->sequence.min == 1 ? "y" : "ies");
		return -1;
	}
	if (schema && count > schema->sequence.max) {
		config_errf(s->err, line, s->path, "%u entries; at most %u allowed", count,
		            schema->sequence.max);
		return -1;
	}
	return 0;
}

static void allowed_keys(const cyaml_schema_field_t *f, char *buf, size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	for (; f->key != NULL; f++) {
		int n = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", f->key);

		if (n < 0 || (size_t)n >= cap - used)
			break;
		used += (size_t)n;
	}
}

static int scan_map(struct scan *s, const cyaml_schema_value_t *schema, uint32_t line)
{
	const cyaml_schema_field_t *fields = schema->mapping.fields;
	size_t base = s->path_len, idx;
	uint64_t seen = 0;
	uint32_t count = 0;
	yaml_event_t key, val;

	if (add_node(s, CONFIG_NODE_MAP, NULL, line, &idx) < 0)
		return -1;
	for (;;) {
		const cyaml_schema_field_t *f;
		unsigned i;
		int rc;

		if (next_event(s, &key) < 0)
			return -1;
		if (key.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&key);
			break;
		}
		if (key.type != YAML_SCALAR_EVENT) {
			config_errf(s->err, mark_line(&key), s->path,
			            key.type == YAML_ALIAS_EVENT ? "aliases are not supported"
			                                         : "a key must be a plain name");
			yaml_event_delete(&key);
			return -1;
		}
		const char *k = (const char *)key.data.scalar.value;

		for (i = 0, f = fields; f->key != NULL; f++, i++)
			if (strcmp(f->key, k) == 0)
				break;
		rc = path_push(s, base ? ".%s" : "%s", k, 0);
		if (rc < 0 || f->key == NULL) {
			char allowed[512];

			allowed_keys(fields, allowed, sizeof(allowed));
			config_errf(s->err, mark_line(&key), s->path,
			            "unknown key \"%.64s\"; allowed: %s", k, allowed);
			yaml_event_delete(&key);
			return -1;
		}
		if (seen & (1ull << i)) {
			config_errf(s->err, mark_line(&key), NULL, "%s: duplicate key", s->path);
			yaml_event_delete(&key);
			return -1;
		}
		seen |= 1ull << i;
		line = mark_line(&key);
		yaml_event_delete(&key);
		if (next_event(s, &val) < 0)
			return -1;
		if (scan_node(s, &val, f->value.type == CYAML_IGNORE ? NULL : &f->value, line) < 0)
			return -1;
		path_pop(s, base);
		count++;
	}
	s->nodes->v[idx].count = count;
	for (unsigned i = 0; fields[i].key != NULL; i++) {
		if ((fields[i].value.flags & CYAML_FLAG_OPTIONAL) || (seen & (1ull << i)))
			continue;
		config_errf(s->err, s->nodes->v[idx].line, s->path, "missing required key \"%s\"",
		            fields[i].key);
		return -1;
	}
	return 0;
}

/* Takes ev (the node's first event) and deletes it. */
static int scan_node(struct scan *s, yaml_event_t *ev, const cyaml_schema_value_t *schema,
                     uint32_t line)
{
	enum cyaml_type want = schema ? schema->type : CYAML_IGNORE;
	yaml_event_type_t type = ev->type;
	size_t idx;
	int rc;

	if (type == YAML_ALIAS_EVENT) {
		config_errf(s->err, mark_line(ev), s->path, "aliases (*name) are not supported");
		yaml_event_delete(ev);
		return -1;
	}
	if ((want == CYAML_MAPPING && type != YAML_MAPPING_START_EVENT) ||
	    (want == CYAML_SEQUENCE && type != YAML_SEQUENCE_START_EVENT) ||
	    (want == CYAML_STRING && type != YAML_SCALAR_EVENT) ||
	    (want == CYAML_IGNORE && type == YAML_MAPPING_START_EVENT)) {
		const char *exp = want == CYAML_MAPPING    ? "a mapping (key: value)"
		                  : want == CYAML_SEQUENCE ? "a list"
		                  : want == CYAML_STRING   ? "a single value"
		                                           : "a value or a list of values";

		config_errf(s->err, line, s->path, "expected %s, got %s", exp, event_what(ev));
		yaml_event_delete(ev);
		return -1;
	}
	if (type == YAML_SCALAR_EVENT) {
		rc = add_node(s, CONFIG_NODE_SCALAR, (const char *)ev->data.scalar.value, line,
		              &idx);
		/* libyaml's copy of a PSK or key: wipe it before it goes back. */
		crypto_wipe(ev->data.scalar.value, ev->data.scalar.length);
		yaml_event_delete(ev);
		return rc;
	}
	yaml_event_delete(ev);
	if (type == YAML_SEQUENCE_START_EVENT)
		return scan_list(s, schema, line);
	return scan_map(s, schema, line);
}

static int node_cmp(const void *a, const void *b)
{
	return strcmp(((const struct config_node *)a)->path, ((const struct config_node *)b)->path);
}

static int scan_stream(struct scan *s)
{
	yaml_event_t ev;
	uint32_t line;

	/* STREAM-START, then DOCUMENT-START or (empty file) STREAM-END. */
	if (next_event(s, &ev) < 0)
		return -1;
	yaml_event_delete(&ev);
	if (next_event(s, &ev) < 0)
		return -1;
	if (ev.type != YAML_DOCUMENT_START_EVENT) {
		/* Comments only: the end mark is past them; the file's start says more. */
		config_errf(s->err, 1, NULL,
		            "empty file; expected a mapping with gateway: at the top");
		yaml_event_delete(&ev);
		return -1;
	}
	yaml_event_delete(&ev);
	if (next_event(s, &ev) < 0)
		return -1;
	line = mark_line(&ev);
	if (ev.type != YAML_MAPPING_START_EVENT) {
		config_errf(s->err, line, NULL,
		            "expected a mapping with gateway: at the top, got %s", event_what(&ev));
		yaml_event_delete(&ev);
		return -1;
	}
	if (scan_node(s, &ev, &config_schema, line) < 0)
		return -1;
	if (next_event(s, &ev) < 0) /* DOCUMENT-END */
		return -1;
	yaml_event_delete(&ev);
	if (next_event(s, &ev) < 0)
		return -1;
	if (ev.type != YAML_STREAM_END_EVENT) {
		config_errf(s->err, mark_line(&ev), NULL,
		            "a second YAML document (---); the config is one document");
		yaml_event_delete(&ev);
		return -1;
	}
	yaml_event_delete(&ev);
	return 0;
}

int config_yaml_scan(const uint8_t *buf, size_t len, struct config_nodes *nodes,
                     struct config_err *err)
{
	struct scan s = { .buf = buf, .len = len, .nodes = nodes, .err = err };
	int rc;

	if (!yaml_parser_initialize(&s.parser)) {
		config_errf(err, 1, NULL, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&s.parser, buf, len);
	rc = scan_stream(&s);
	yaml_parser_delete(&s.parser);
	if (rc == 0 && nodes->n > 0)
		qsort(nodes->v, nodes->n, sizeof(nodes->v[0]), node_cmp);
	return rc;
}

const struct config_node *config_node_get(const struct config_nodes *nodes, const char *path)
{
	struct config_node key = { .path = (char *)path };

	if (nodes->n == 0)
		return NULL;
	return bsearch(&key, nodes->v, nodes->n, sizeof(key), node_cmp);
}

uint32_t config_node_line(const struct config_nodes *nodes, const char *path)
{
	char buf[SCAN_PATH_MAX];
	size_t len;

	snprintf(buf, sizeof(buf), "%s", path);
	for (;;) {
		const struct config_node *nd = config_node_get(nodes, buf);

		if (nd != NULL)
			return nd->line;
		len = strlen(buf);
		if (len == 0)
			return 1;
		/* Drop the last ".key" or "[i]". */
		while (len > 0 && buf[len - 1] != '.' && buf[len - 1] != '[')
			len--;
		buf[len > 0 ? len - 1 : 0] = '\0';
	}
}

void config_nodes_free(struct config_nodes *nodes)
{
	for (size_t i = 0; i < nodes->n; i++) {
		if (nodes->v[i].value != NULL)
			crypto_wipe(nodes->v[i].value, strlen(nodes->v[i].value));
		free(nodes->v[i].value);
		free(nodes->v[i].path);
	}
	free(nodes->v);
	memset(nodes, 0, sizeof(*nodes));
}
