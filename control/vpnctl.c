/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpnctl: the operator's command line over the control socket. It sends
 * {"cmd": ..., "args": {...}}, then prints the result as JSON (--json, for
 * scripts) or as tables and "key: value" lines (for people).
 *
 * Exit codes are part of the interface: 0 ok, 1 the daemon answered with
 * an error, 2 usage, 3 the daemon could not be reached or did not answer.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"

#define VPNCTL_DEFAULT_SOCKET "/run/vpngw/vpngw.sock"

enum {
	VPNCTL_OK = 0,
	VPNCTL_EXIT_DAEMON_ERROR = 1,
	VPNCTL_EXIT_USAGE = 2,
	VPNCTL_EXIT_UNREACHABLE = 3,
};

enum {
	VPNCTL_TIMEOUT_MS = 10000,
	VPNCTL_CELL_MAX = 128, /* one table cell */
	VPNCTL_TABLE_COLS = 8,
	VPNCTL_ERR_MAX = 512,
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vpnctl [--socket PATH] [--timeout SECONDS] COMMAND [ARGS] [--json]\n"
	           "commands:\n"
	           "  stats            port, worker and drop counters\n"
	           "  sa               installed SAs with their counters\n"
	           "  status [NAME]    connection state, cause and remedy\n"
	           "  up NAME          bring a connection up\n"
	           "  down NAME        take a connection down\n"
	           "  reload           re-read the configuration file\n"
	           "  diagnose NAME    explain why a connection is not up\n"
	           "  rate MBPS        set the gateway bandwidth (0 = unlimited)\n"
	           "options:\n"
	           "  --socket PATH    control socket (default " VPNCTL_DEFAULT_SOCKET ")\n"
	           "  --timeout SECS   wait this long for an answer (default 10)\n"
	           "  --json           print the daemon's JSON result\n"
	           "exit codes: 0 ok, 1 the daemon answered an error, 2 usage, 3 cannot reach "
	           "vpngw\n");
}

/* ---- value formatting ---- */

static void fmt_value(char *out, size_t cap, const json_t *v)
{
	char *s;

	if (v == NULL) { /* a key the daemon did not send */
		snprintf(out, cap, "-");
		return;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		snprintf(out, cap, "%s", json_string_value(v));
		break;
	case JSON_INTEGER:
		snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(out, cap, "%.1f", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(out, cap, "yes");
		break;
	case JSON_FALSE:
		snprintf(out, cap, "no");
		break;
	case JSON_NULL:
		snprintf(out, cap, "-");
		break;
	default:
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		snprintf(out, cap, "%s", s ? s : "?");
		free(s);
		break;
	}
}

/* SPIs arrive as "0x..." strings or as numbers; both print as 0x%08x. */
static void fmt_spi(char *out, size_t cap, const json_t *v)
{
	if (json_is_integer(v))
		snprintf(out, cap, "0x%08" PRIx64, (uint64_t)json_integer_value(v));
	else
		fmt_value(out, cap, v);
}

/* ---- tables ---- */

struct table {
	unsigned n_cols;
	const char *head[VPNCTL_TABLE_COLS];
	bool right[VPNCTL_TABLE_COLS]; /* numbers align right */
	size_t width[VPNCTL_TABLE_COLS];
	char (*cells)[VPNCTL_TABLE_COLS][VPNCTL_CELL_MAX];
	size_t n_rows;
};

static int table_init(struct table *t, size_t rows)
{
	unsigned c;

	for (c = 0; c < t->n_cols; c++)
		t->width[c] = strlen(t->head[c]);
	t->n_rows = 0;
	t->cells = calloc(rows ? rows : 1, sizeof(*t->cells));
	return t->cells ? 0 : -1;
}

static char *table_cell(struct table *t, size_t row, unsigned col)
{
	return t->cells[row][col];
}

static void table_print(struct table *t)
{
	size_t r, len;
	unsigned c;

	for (r = 0; r < t->n_rows; r++)
		for (c = 0; c < t->n_cols; c++) {
			len = strlen(t->cells[r][c]);
			if (len > t->width[c])
				t->width[c] = len;
		}
	for (r = 0; r <= t->n_rows; r++) {
		for (c = 0; c < t->n_cols; c++) {
			const char *s = r ? t->cells[r - 1][c] : t->head[c];
			bool last = c + 1 == t->n_cols;

			if (t->right[c])
				printf("%*s", (int)t->width[c], s);
			else
				printf("%-*s", last ? 0 : (int)t->width[c], s);
			printf(last ? "\n" : "  ");
		}
	}
	free(t->cells);
	t->cells = NULL;
}

static uint64_t drops_total(const json_t *drops)
{
	const char *k;
	json_t *v;
	uint64_t sum = 0;

	json_object_foreach((json_t *)drops, k, v) sum += (uint64_t)json_integer_value(v);
	return sum;
}

static void print_ports(const json_t *ports)
{
	static const char *const keys[] = { "name",     "role",       "link_up", "rx_packets",
		                            "rx_bytes", "tx_packets", "tx_bytes" };
	struct table t = { .n_cols = 7,
		           .head = { "PORT", "ROLE", "LINK", "RX PACKETS", "RX BYTES", "TX PACKETS",
		                     "TX BYTES" },
		           .right = { false, false, false, true, true, true, true } };
	size_t i;
	unsigned c;

	if (json_array_size(ports) == 0) {
		printf("no ports\n");
		return;
	}
	if (table_init(&t, json_array_size(ports)) != 0)
		return;
	for (i = 0; i < json_array_size(ports); i++, t.n_rows++)
		for (c = 0; c < t.n_cols; c++)
			fmt_value(table_cell(&t, i, c), VPNCTL_CELL_MAX,
			          json_object_get(json_array_get(ports, i), keys[c]));
	table_print(&t);
}

static void print_workers(const json_t *workers)
{
	static const char *const keys[] = { "worker",    "lcore",     "rx_packets",
		                            "encrypted", "decrypted", "cycles_per_packet" };
	struct table t = { .n_cols = 6,
		           .head = { "WORKER", "LCORE", "RX PACKETS", "ENCRYPTED", "DECRYPTED",
		                     "CYCLES/PACKET" },
		           .right = { false, false, true, true, true, true } };
	size_t i;
	unsigned c;

	if (json_array_size(workers) == 0) {
		printf("no workers\n");
		return;
	}
	if (table_init(&t, json_array_size(workers)) != 0)
		return;
	for (i = 0; i < json_array_size(workers); i++, t.n_rows++)
		for (c = 0; c < t.n_cols; c++)
			fmt_value(table_cell(&t, i, c), VPNCTL_CELL_MAX,
			          json_object_get(json_array_get(workers, i), keys[c]));
	table_print(&t);
}

/* Drop reasons that counted something; the JSON has every reason. */
static void print_drops(const json_t *drops)
{
	struct table t = { .n_cols = 2,
		           .head = { "DROP REASON", "PACKETS" },
		           .right = { false, true } };
	const char *k;
	json_t *v;

	if (drops_total(drops) == 0) {
		printf("no drops\n");
		return;
	}
	if (table_init(&t, json_object_size(drops)) != 0)
		return;
	json_object_foreach((json_t *)drops, k, v)
	{
		if (json_integer_value(v) == 0)
			continue;
		snprintf(table_cell(&t, t.n_rows, 0), VPNCTL_CELL_MAX, "%s", k);
		fmt_value(table_cell(&t, t.n_rows, 1), VPNCTL_CELL_MAX, v);
		t.n_rows++;
	}
	table_print(&t);
}

static void print_stats(const json_t *r)
{
	print_ports(json_object_get(r, "ports"));
	printf("\n");
	print_workers(json_object_get(r, "workers"));
	printf("\n");
	print_drops(json_object_get(r, "drops"));
}

static void print_sa(const json_t *r)
{
	static const char *const keys[] = { "name",      "spi",     "direction", "encryption",
		                            "integrity", "packets", "bytes" };
	struct table t = { .n_cols = 8,
		           .head = { "NAME", "SPI", "DIR", "ENCRYPTION", "INTEGRITY", "PACKETS",
		                     "BYTES", "DROPS" },
		           .right = { false, false, false, false, false, true, true, true } };
	const json_t *sas = json_object_get(r, "sas");
	bool any_drops = false;
	size_t i;
	unsigned c;

	if (json_array_size(sas) == 0) {
		printf("no SAs\n");
		return;
	}
	if (table_init(&t, json_array_size(sas)) != 0)
		return;
	for (i = 0; i < json_array_size(sas); i++, t.n_rows++) {
		const json_t *sa = json_array_get(sas, i);
		uint64_t d = drops_total(json_object_get(sa, "drops"));

		for (c = 0; c < 7; c++) {
			if (c == 1)
				fmt_spi(table_cell(&t, i, c), VPNCTL_CELL_MAX,
				        json_object_get(sa, keys[c]));
			else
				fmt_value(table_cell(&t, i, c), VPNCTL_CELL_MAX,
				          json_object_get(sa, keys[c]));
		}
		snprintf(table_cell(&t, i, 7), VPNCTL_CELL_MAX, "%" PRIu64, d);
		any_drops |= d != 0;
	}
	table_print(&t);
	if (!any_drops)
		return;
	/* The reasons behind the DROPS column, only for SAs that have any. */
	printf("\ndrops by SA:\n");
	for (i = 0; i < json_array_size(sas); i++) {
		const json_t *sa = json_array_get(sas, i);
		const json_t *drops = json_object_get(sa, "drops");
		char name[VPNCTL_CELL_MAX], spi[VPNCTL_CELL_MAX], dir[VPNCTL_CELL_MAX];
		const char *sep = "";
		const char *k;
		json_t *v;

		if (drops_total(drops) == 0)
			continue;
		fmt_value(name, sizeof(name), json_object_get(sa, "name"));
		fmt_spi(spi, sizeof(spi), json_object_get(sa, "spi"));
		fmt_value(dir, sizeof(dir), json_object_get(sa, "direction"));
		printf("  %s %s %s:", name, spi, dir);
		json_object_foreach((json_t *)drops, k, v)
		{
			if (json_integer_value(v) == 0)
				continue;
			printf("%s %s %" JSON_INTEGER_FORMAT, sep, k, json_integer_value(v));
			sep = ",";
		}
		printf("\n");
	}
}

/* ---- connection status and diagnosis ---- */

/* A string member, or "-" when absent or null. */
static const char *str_of(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL ? v : "-";
}

static json_int_t int_of(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* cause / evidence / remedy lines, only when something is wrong. */
static void print_cause(const json_t *c, const char *indent)
{
	if (json_string_value(json_object_get(c, "cause")) == NULL)
		return;
	printf("%scause: %s\n", indent, str_of(c, "cause"));
	printf("%sevidence: %s\n", indent, str_of(c, "evidence"));
	printf("%sremedy: %s\n", indent, str_of(c, "remedy"));
}

/* A child's selectors as "a, b": the list key, else the single one. */
static void subnets_text(char *buf, size_t len, const json_t *ch, const char *list, const char *one)
{
	const json_t *a = json_object_get(ch, list), *v;
	size_t i, off = 0;

	snprintf(buf, len, "%s", str_of(ch, one));
	if (!json_is_array(a) || json_array_size(a) == 0)
		return;
	buf[0] = '\0';
	json_array_foreach(a, i, v)
	{
		int w = snprintf(buf + off, len - off, "%s%s", i > 0 ? ", " : "",
		                 json_string_value(v) ? json_string_value(v) : "?");

		if (w < 0 || (size_t)w >= len - off)
			break;
		off += (size_t)w;
	}
}

/*
 * One block per connection: "NAME (VERSION): STATE since TIME", then
 * cause, evidence and remedy when something is wrong, the peer, and one
 * line pair per child selector pair with SPIs, algorithms and counters.
 */
static void print_status(const json_t *r)
{
	const json_t *conns = json_object_get(r, "connections"), *c;
	size_t i, k;

	if (json_array_size(conns) == 0) {
		printf("no connections\n");
		return;
	}
	json_array_foreach(conns, i, c)
	{
		const json_t *children = json_object_get(c, "children"), *ch;
		char si[VPNCTL_CELL_MAX], so[VPNCTL_CELL_MAX], lt[512], rt[512];

		if (i > 0)
			printf("\n");
		printf("%s (%s): %s since %s\n", str_of(c, "name"), str_of(c, "ike_version"),
		       str_of(c, "state"), str_of(c, "since"));
		print_cause(c, "  ");
		if (json_is_string(json_object_get(c, "peer")))
			printf("  peer: %s\n", str_of(c, "peer"));
		if (json_is_true(json_object_get(c, "traffic_waiting")))
			printf("  traffic waiting: %" JSON_INTEGER_FORMAT " acquire(s)\n",
			       int_of(c, "acquires"));
		if (json_array_size(children) == 0) {
			printf("  children: none\n");
			continue;
		}
		json_array_foreach(children, k, ch)
		{
			fmt_spi(si, sizeof(si), json_object_get(ch, "spi_in"));
			fmt_spi(so, sizeof(so), json_object_get(ch, "spi_out"));
			subnets_text(lt, sizeof(lt), ch, "local_subnets", "local_subnet");
			subnets_text(rt, sizeof(rt), ch, "remote_subnets", "remote_subnet");
			printf("  child: %s === %s, spi in %s out %s, %s/%s\n", lt, rt, si, so,
			       str_of(ch, "encryption"), str_of(ch, "integrity"));
			printf("    in %" JSON_INTEGER_FORMAT " packets %" JSON_INTEGER_FORMAT
			       " bytes, out %" JSON_INTEGER_FORMAT " packets %" JSON_INTEGER_FORMAT
			       " bytes, rekey in %" JSON_INTEGER_FORMAT " s\n",
			       int_of(ch, "packets_in"), int_of(ch, "bytes_in"),
			       int_of(ch, "packets_out"), int_of(ch, "bytes_out"),
			       int_of(ch, "rekey_in_s"));
		}
	}
}

/* State and cause, then every data plane hint with its evidence and remedy. */
static void print_diagnose(const json_t *r)
{
	const json_t *hints = json_object_get(r, "hints"), *h;
	size_t i;

	printf("%s: %s\n", str_of(r, "name"), str_of(r, "state"));
	print_cause(r, "  ");
	printf("  children: %" JSON_INTEGER_FORMAT ", packets out %" JSON_INTEGER_FORMAT
	       ", packets in %" JSON_INTEGER_FORMAT "\n",
	       int_of(r, "children"), int_of(r, "packets_out"), int_of(r, "packets_in"));
	if (json_string_value(json_object_get(r, "cause")) == NULL && json_array_size(hints) == 0)
		printf("  nothing wrong found\n");
	json_array_foreach(hints, i, h)
	{
		printf("  hint: %s\n", str_of(h, "cause"));
		printf("    evidence: %s\n", str_of(h, "evidence"));
		printf("    remedy: %s\n", str_of(h, "remedy"));
	}
}

/* ---- generic "key: value" output ---- */

static bool is_scalar(const json_t *v)
{
	return !json_is_object(v) && !json_is_array(v);
}

static void print_scalar_line(const json_t *v)
{
	char buf[1024];

	fmt_value(buf, sizeof(buf), v);
	printf("%s\n", buf);
}

static bool is_empty(const json_t *v)
{
	return json_is_object(v) ? json_object_size(v) == 0 : json_array_size(v) == 0;
}

static void print_array(const json_t *a, int indent);

/*
 * Objects as "key: value" lines, nested ones indented by two; an object in
 * a list starts on its "- " line, YAML style.
 */
static void print_object(const json_t *o, int indent, bool dash)
{
	bool first = true;
	const char *k;
	json_t *item;

	json_object_foreach((json_t *)o, k, item)
	{
		if (first && dash)
			printf("%*s- %s:", indent - 2, "", k);
		else
			printf("%*s%s:", indent, "", k);
		first = false;
		if (is_scalar(item)) {
			printf(" ");
			print_scalar_line(item);
		} else if (is_empty(item)) {
			printf(" (none)\n");
		} else if (json_is_object(item)) {
			printf("\n");
			print_object(item, indent + 2, false);
		} else {
			printf("\n");
			print_array(item, indent + 2);
		}
	}
}

static void print_array(const json_t *a, int indent)
{
	json_t *item;
	size_t i;

	json_array_foreach(a, i, item)
	{
		if (json_is_object(item) && !is_empty(item)) {
			print_object(item, indent + 2, true);
		} else {
			printf("%*s- ", indent, "");
			print_scalar_line(item);
		}
	}
}

static void print_generic(const json_t *v)
{
	if (json_is_object(v))
		print_object(v, 0, false);
	else if (json_is_array(v))
		print_array(v, 0);
	else
		print_scalar_line(v);
}

/* ---- commands ---- */

struct command {
	const char *name;
	unsigned min_args, max_args;
	const char *arg_key; /* args[arg_key] = the positional argument */
	bool numeric;
	void (*print)(const json_t *result);
};

static const struct command commands[] = {
	{ "stats", 0, 0, NULL, false, print_stats },
	{ "sa", 0, 0, NULL, false, print_sa },
	{ "status", 0, 1, "name", false, print_status },
	{ "up", 1, 1, "name", false, NULL },
	{ "down", 1, 1, "name", false, NULL },
	{ "reload", 0, 0, NULL, false, NULL },
	{ "diagnose", 1, 1, "name", false, print_diagnose },
	{ "rate", 1, 1, "mbps", true, NULL },
};

static const struct command *command_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int usage_error(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "vpnctl: ");
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, "\n");
	usage(stderr);
	return VPNCTL_EXIT_USAGE;
}

/* Non-negative decimal integer, no sign, no trailing junk. */
static bool parse_uint(const char *s, unsigned long long max, json_int_t *out)
{
	unsigned long long v;
	char *end;

	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = (json_int_t)v;
	return true;
}

static json_t *build_args(const struct command *cmd, char **pos, unsigned n_pos)
{
	json_t *args = json_object();
	json_int_t num;

	if (!args || n_pos == 0)
		return args;
	if (cmd->numeric) {
		if (!parse_uint(pos[0], 100000000ULL, &num)) {
			json_decref(args);
			return NULL;
		}
		json_object_set_new(args, cmd->arg_key, json_integer(num));
	} else {
		json_object_set_new(args, cmd->arg_key, json_string(pos[0]));
	}
	return args;
}

int main(int argc, char **argv)
{
	const char *sock = VPNCTL_DEFAULT_SOCKET;
	char *pos[8];
	unsigned n_pos = 0;
	bool json = false, opts_done = false;
	int timeout_ms = VPNCTL_TIMEOUT_MS, i, rc;
	const struct command *cmd;
	char err[VPNCTL_ERR_MAX];
	json_t *args, *resp, *result;
	json_int_t secs;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!opts_done && strcmp(a, "--") == 0) {
			opts_done = true;
		} else if (!opts_done && strcmp(a, "--json") == 0) {
			json = true;
		} else if (!opts_done && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
			usage(stdout);
			return VPNCTL_OK;
		} else if (!opts_done && strcmp(a, "--socket") == 0) {
			if (++i == argc || !*argv[i])
				return usage_error("%s needs a path%s", a, "");
			sock = argv[i];
		} else if (!opts_done && strncmp(a, "--socket=", 9) == 0 && a[9]) {
			sock = a + 9;
		} else if (!opts_done && strcmp(a, "--timeout") == 0) {
			if (++i == argc || !parse_uint(argv[i], 3600, &secs) || secs == 0)
				return usage_error("%s needs a number of seconds (1..3600)%s", a,
				                   "");
			timeout_ms = (int)secs * 1000;
		} else if (!opts_done && a[0] == '-' && a[1]) {
			return usage_error("unknown option '%s'%s", a, "");
		} else if (n_pos == sizeof(pos) / sizeof(pos[0])) {
			return usage_error("too many arguments%s%s", "", "");
		} else {
			pos[n_pos++] = argv[i];
		}
	}
	if (n_pos == 0)
		return usage_error("no command given%s%s", "", "");
	cmd = command_find(pos[0]);
	if (!cmd)
		return usage_error("unknown command '%s'%s", pos[0], "");
	if (n_pos - 1 < cmd->min_args || n_pos - 1 > cmd->max_args)
		return usage_error("wrong number of arguments for '%s'%s", cmd->name,
		                   cmd->min_args ? " (it needs one)" : "");
	args = build_args(cmd, pos + 1, n_pos - 1);
	if (!args)
		return usage_error("%s: '%s' is not a number of Mbit/s (0 = unlimited)", cmd->name,
		                   pos[1]);

	resp = api_call(sock, cmd->name, args, timeout_ms, err, sizeof(err));
	json_decref(args);
	if (!resp) {
		fprintf(stderr, "vpnctl: %s\n", err);
		fprintf(stderr,
		        "vpnctl: is vpngw running? Check 'systemctl status vpngw', or "
		        "pass --socket PATH (tried %s)\n",
		        sock);
		return VPNCTL_EXIT_UNREACHABLE;
	}
	if (!json_is_true(json_object_get(resp, "ok"))) {
		const char *msg = json_string_value(json_object_get(resp, "error"));

		fprintf(stderr, "vpnctl: %s: %s\n", cmd->name, msg ? msg : "failed");
		json_decref(resp);
		return VPNCTL_EXIT_DAEMON_ERROR;
	}
	result = json_object_get(resp, "result");
	rc = VPNCTL_OK;
	if (json) {
		if (json_dumpf(result ? result : json_null(), stdout,
		               JSON_INDENT(2) | JSON_ENCODE_ANY) != 0)
			rc = VPNCTL_EXIT_DAEMON_ERROR;
		printf("\n");
	} else if (cmd->print && json_is_object(result)) {
		cmd->print(result);
	} else if (!result || json_is_null(result) ||
	           (json_is_object(result) && json_object_size(result) == 0)) {
		printf("ok\n");
	} else {
		print_generic(result);
	}
	json_decref(resp);
	if (fflush(stdout) != 0)
		rc = VPNCTL_EXIT_DAEMON_ERROR;
	return rc;
}
