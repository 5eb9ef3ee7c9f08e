/*
 * sipdlgctl - control a running sipdlgd over its JSON-RPC unix socket.
 *
 * Each verb maps to one RPC (see DESIGN.md for the names); the result is
 * printed as aligned text, or with --json as the JSON-RPC "result" alone.
 * Exit codes: 0 ok, 1 the daemon answered with an error, 2 no connection /
 * timeout / broken reply, 64 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipdlgctl.h"

#ifndef SIPDLG_VERSION
#define SIPDLG_VERSION "unknown"
#endif

struct verb;
typedef int (*verb_fn)(const struct verb *v, int argc, char **argv,
		       json_t **params, const char **method);
typedef void (*print_fn)(FILE *out, json_t *result);

struct verb {
	const char *name;
	const char *args;	/* for the usage text */
	int min, max;		/* positional arguments; max -1 = any */
	const char *method;	/* fixed method, or NULL when fn picks it */
	verb_fn fn;		/* builds params (and method); NULL = strings */
	print_fn print;
	const char *help;
};

static void usage(FILE *out);

/* "12" -> 12; anything else is a usage error. */
static int arg_uint(const char *what, const char *s, json_t **out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *end || errno || *s == '-' || v > 0xffffffffull) {
		fprintf(stderr, "sipdlgctl: %s must be an unsigned integer, "
			"not '%s'\n", what, s);
		return CTL_EXIT_USAGE;
	}
	*out = json_integer((json_int_t)v);
	return 0;
}

/* list [CALLID [FROMTAG]] and list-ctx: the table or one Call-ID. */
static int verb_list(const struct verb *v, int argc, char **argv,
		     json_t **params, const char **method)
{
	bool ctx = strcmp(v->name, "list-ctx") == 0;

	if (argc == 0) {
		*method = ctx ? "dlg.list_ctx" : "dlg.list";
		return 0;
	}
	*method = ctx ? "dlg.dlg_list_ctx" : "dlg.dlg_list";
	*params = json_array();
	for (int i = 0; i < argc; i++)
		json_array_append_new(*params, json_string(argv[i]));
	return 0;
}

/* end H_ENTRY H_ID [EXTRA_HDRS]: Kamailio takes the ids as integers. */
static int verb_end(const struct verb *v, int argc, char **argv,
		    json_t **params, const char **method)
{
	json_t *he = NULL, *hi = NULL;

	if (arg_uint("H_ENTRY", argv[0], &he) ||
	    arg_uint("H_ID", argv[1], &hi)) {
		json_decref(he);
		return CTL_EXIT_USAGE;
	}
	*params = json_array();
	json_array_append_new(*params, he);
	json_array_append_new(*params, hi);
	if (argc > 2)
		json_array_append_new(*params, json_string(argv[2]));
	return 0;
}

/* xdp [rotate-key]: the status, or a new cookie MAC key. */
static int verb_xdp(const struct verb *v, int argc, char **argv,
		    json_t **params, const char **method)
{
	if (argc == 0) {
		*method = "xdp.status";
		return 0;
	}
	if (strcmp(argv[0], "rotate-key") == 0) {
		*method = "xdp.rotate_key";
		return 0;
	}
	fprintf(stderr, "sipdlgctl: xdp: unknown action '%s' (rotate-key, or "
		"none for the status)\n", argv[0]);
	return CTL_EXIT_USAGE;
}

/* tls reload: read the TLS certificates again (tls.reload). */
static int verb_tls(const struct verb *v, int argc, char **argv,
		    json_t **params, const char **method)
{
	if (strcmp(argv[0], "reload") == 0) {
		*method = "tls.reload";
		return 0;
	}
	fprintf(stderr, "sipdlgctl: tls: unknown action '%s' (reload)\n",
		argv[0]);
	return CTL_EXIT_USAGE;
}

/* cluster status | takeover NODE [--unless-alive MS] | handback NODE */
static int verb_cluster(const struct verb *v, int argc, char **argv,
			json_t **params, const char **method)
{
	json_t *node = NULL, *alive = NULL;

	if (argc == 4 && strcmp(argv[0], "takeover") == 0 &&
	    strcmp(argv[2], "--unless-alive") == 0) {
		if (arg_uint("NODE", argv[1], &node))
			return CTL_EXIT_USAGE;
		if (arg_uint("MS", argv[3], &alive)) {
			json_decref(node);
			return CTL_EXIT_USAGE;
		}
		*method = "cluster.takeover";
		*params = json_array();
		json_array_append_new(*params, node);
		json_array_append_new(*params, alive);
		return 0;
	}
	if (argc == 0 || (argc == 1 && strcmp(argv[0], "status") == 0)) {
		*method = "cluster.status";
		return 0;
	}
	if (argc == 2 && (strcmp(argv[0], "takeover") == 0 ||
			  strcmp(argv[0], "handback") == 0)) {
		if (arg_uint("NODE", argv[1], &node))
			return CTL_EXIT_USAGE;
		*method = strcmp(argv[0], "takeover") == 0 ?
				  "cluster.takeover" : "cluster.handback";
		*params = json_array();
		json_array_append_new(*params, node);
		return 0;
	}
	fprintf(stderr, "sipdlgctl: cluster: expected 'status', 'takeover "
		"NODE [--unless-alive MS]' or 'handback NODE'\n");
	return CTL_EXIT_USAGE;
}

/* rpc METHOD [PARAMS...]: a PARAM that parses as JSON is sent as such. */
static int verb_rpc(const struct verb *v, int argc, char **argv,
		    json_t **params, const char **method)
{
	*method = argv[0];
	if (argc == 1)
		return 0;
	*params = json_array();
	for (int i = 1; i < argc; i++) {
		json_t *p = json_loads(argv[i], JSON_DECODE_ANY, NULL);

		json_array_append_new(*params, p ? p : json_string(argv[i]));
	}
	return 0;
}

static const struct verb verbs[] = {
	{ "stats", "[GROUP...]", 0, -1, "stats.fetch", NULL, print_stats,
	  "statistics (stats.fetch), grouped" },
	{ "xdp", "[rotate-key]", 0, 1, NULL, verb_xdp, print_xdp,
	  "fast path status (xdp.status); rotate-key: new cookie MAC key "
	  "(xdp.rotate_key)" },
	{ "tls", "reload", 1, 1, NULL, verb_tls, print_generic,
	  "read the TLS certificates and keys again (tls.reload)" },
	{ "version", "", 0, 0, "core.version", NULL, print_version,
	  "the daemon's version (core.version)" },
	{ "uptime", "", 0, 0, "core.uptime", NULL, print_uptime,
	  "how long the daemon has run (core.uptime)" },
	{ "list", "[CALLID [FROMTAG]]", 0, 2, NULL, verb_list, print_dialogs,
	  "dialogs (dlg.list), or one call (dlg.dlg_list)" },
	{ "list-ctx", "[CALLID [FROMTAG]]", 0, 2, NULL, verb_list,
	  print_dialogs, "the same with context (dlg.list_ctx)" },
	{ "end", "H_ENTRY H_ID [EXTRA_HDRS]", 2, 3, "dlg.end_dlg", verb_end,
	  print_generic, "end a dialog by id, BYE both sides (dlg.end_dlg)" },
	{ "terminate", "CALLID [FROMTAG [TOTAG]]", 1, 3, "dlg.terminate_dlg",
	  NULL, print_generic, "end a dialog by Call-ID (dlg.terminate_dlg)" },
	{ "profile-size", "PROFILE [VALUE]", 1, 2, "dlg.profile_get_size",
	  NULL, print_generic, "dialogs in a profile (dlg.profile_get_size)" },
	{ "profile-list", "PROFILE [VALUE]", 1, 2, "dlg.profile_list", NULL,
	  print_dialogs, "the dialogs of a profile (dlg.profile_list)" },
	{ "bridge", "FROM TO [OP]", 2, 3, "dlg.bridge_dlg", NULL,
	  print_generic, "bridge two parties (dlg.bridge_dlg)" },
	{ "events", "[MAX]", 0, 1, "dlg.subscribe", NULL, print_generic,
	  "print dialog events as they happen (dlg.subscribe)" },
	{ "cluster", "[status|takeover NODE [--unless-alive MS]|handback "
	  "NODE]", 0, 4, NULL, verb_cluster, print_generic, "several boxes: "
	  "nodes, heartbeats and owners (cluster.status); take a node's "
	  "dialogs over (cluster.takeover; not while its heartbeat is "
	  "younger than MS) or give them back (cluster.handback)" },
	{ "rpc", "METHOD [PARAMS...]", 1, -1, NULL, verb_rpc, print_generic,
	  "any method; JSON-looking PARAMS are sent as JSON" },
};

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sipdlgctl [OPTIONS] VERB [ARGS...]\n"
		"\n"
		"options:\n"
		"  -s, --socket PATH   control socket (default $SIPDLG_SOCKET, "
		"else " CTL_DEFAULT_SOCKET ")\n"
		"  -j, --json          print the JSON-RPC result alone\n"
		"  -t, --timeout SEC   give up after SEC seconds of silence (default %d)\n"
		"  -h, --help          this text\n"
		"  -V, --version       sipdlgctl's version\n"
		"\n"
		"verbs:\n", CTL_DEFAULT_TIMEOUT_MS / 1000);
	for (size_t i = 0; i < NVERBS; i++) {
		char left[64];

		snprintf(left, sizeof(left), "%s %s", verbs[i].name,
			 verbs[i].args);
		fprintf(out, "  %-36s %s\n", left, verbs[i].help);
	}
	fprintf(out, "\nexit: 0 ok, 1 RPC error, 2 no connection/timeout/"
		     "broken reply, 64 usage\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("sipdlgctl: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n\n", stderr);
	usage(stderr);
	return CTL_EXIT_USAGE;
}

static int parse_timeout(const char *s, int *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno || !isfinite(v) || v <= 0 || v > 86400)
		return -1;
	*ms = (int)(v * 1000.0 + 0.5);
	if (*ms < 1)
		*ms = 1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct rpc_opts ro = { .timeout_ms = CTL_DEFAULT_TIMEOUT_MS };
	const struct verb *v = NULL;
	const char *method;
	json_t *params = NULL, *result = NULL;
	bool json_out = false;
	int c, nargs, rc;

	ro.socket = getenv("SIPDLG_SOCKET");
	if (!ro.socket || !*ro.socket)
		ro.socket = CTL_DEFAULT_SOCKET;
	opterr = 0;
	/* "+": options end at the verb, so "rpc m -1" keeps its "-1". */
	while ((c = getopt_long(argc, argv, "+:s:jt:hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			ro.socket = optarg;
			break;
		case 'j':
			json_out = true;
			break;
		case 't':
			if (parse_timeout(optarg, &ro.timeout_ms))
				return usage_error("bad --timeout '%s' "
						   "(seconds > 0)", optarg);
			break;
		case 'h':
			usage(stdout);
			return CTL_EXIT_OK;
		case 'V':
			printf("sipdlgctl %s\n", SIPDLG_VERSION);
			return CTL_EXIT_OK;
		case ':':
			return usage_error("option '%s' needs a value",
					   argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("%s", "no verb given");
	for (size_t i = 0; i < NVERBS; i++)
		if (strcmp(argv[optind], verbs[i].name) == 0)
			v = &verbs[i];
	if (!v)
		return usage_error("unknown verb '%s'", argv[optind]);
	nargs = argc - optind - 1;
	for (int i = optind + 1; i < argc; i++) {
		json_t *t = json_string(argv[i]);

		if (!t)
			return usage_error("argument '%s' is not valid UTF-8",
					   argv[i]);
		json_decref(t);
	}
	if (nargs < v->min || (v->max >= 0 && nargs > v->max)) {
		char what[128];

		snprintf(what, sizeof(what), "'%s' takes: %s%s", v->name,
			 v->args, *v->args ? "" : "no arguments");
		return usage_error("%s", what);
	}

	if (strcmp(v->name, "events") == 0)
		return rpc_events(&ro, "dlg.subscribe",
				  nargs ? atol(argv[optind + 1]) : 0, json_out);
	method = v->method;
	if (v->fn) {
		rc = v->fn(v, nargs, argv + optind + 1, &params, &method);
		if (rc) {
			json_decref(params);
			return rc;
		}
	} else if (nargs > 0) {
		params = json_array();
		for (int i = 0; i < nargs; i++)
			json_array_append_new(params,
					      json_string(argv[optind + 1 + i]));
	}

	rc = rpc_call(&ro, method, params, &result);
	json_decref(params);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (json_out) {
		char *text = json_dumps(result, JSON_INDENT(2) |
						JSON_ENCODE_ANY);

		if (text)
			printf("%s\n", text);
		free(text);
	} else {
		v->print(stdout, result);
	}
	json_decref(result);
	if (fflush(stdout) != 0)
		return CTL_EXIT_CONN;
	return CTL_EXIT_OK;
}
