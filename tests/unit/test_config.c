/*
 * test_config.c - the YAML config loader: defaults, every error class with
 * its FILE:LINE:COL, the Kamailio aliases and profile forms, listen
 * addresses and the routes: tree.
 *
 * Fixtures live in tests/unit/config/ and are found relative to the repo
 * root (the tests run from there); CFG_FIXTURES overrides the directory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <regex.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/config_int.h"
#include "core/log.h"

#ifndef CFG_FIXTURES
#define CFG_FIXTURES "tests/unit/config/"
#endif
#define DEFAULT_CONFIG "config/sipdlg.yaml"

/* --- helpers --------------------------------------------------------------- */

struct result {
	int rc;
	struct sipdlg_config *cfg;
	char *errs;
	size_t errs_len;
};

static void result_free(struct result *r)
{
	cfg_free(r->cfg);
	free(r->errs);
	*r = (struct result){ 0 };
}

static struct result load_file(const char *path)
{
	struct result r = { 0 };
	FILE *errs = open_memstream(&r.errs, &r.errs_len);

	assert_non_null(errs);
	r.rc = cfg_load(path, errs, &r.cfg);
	fclose(errs);
	return r;
}

static struct result load_fixture(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s%s", CFG_FIXTURES, name);
	return load_file(path);
}

static struct result load_yaml(const char *name, const char *yaml)
{
	struct result r = { 0 };
	FILE *errs = open_memstream(&r.errs, &r.errs_len);

	assert_non_null(errs);
	r.rc = cfg_load_string(name, yaml, strlen(yaml), errs, &r.cfg);
	fclose(errs);
	return r;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* @r has a line containing @want; shows every message when it has not. */
#define assert_err(r, want)                                                 \
	do {                                                                \
		if (!strstr((r)->errs, (want)))                             \
			fail_msg("missing \"%s\" in:\n%s", (want), (r)->errs); \
	} while (0)

#define assert_ok(r)                                                        \
	do {                                                                \
		if ((r)->rc != 0)                                           \
			fail_msg("load failed (%d):\n%s", (r)->rc, (r)->errs); \
		assert_non_null((r)->cfg);                                  \
		assert_string_equal((r)->errs, "");                         \
	} while (0)

static void assert_invalid(const struct result *r, size_t n_problems)
{
	assert_int_equal(r->rc, -EINVAL);
	assert_null(r->cfg);
	if (count_lines(r->errs) != n_problems)
		fail_msg("expected %zu problems, got:\n%s", n_problems,
			 r->errs);
}

static void assert_listen(const struct cfg_listen *l, enum cfg_proto proto,
			  int family, const char *host, uint16_t port)
{
	assert_int_equal(l->proto, proto);
	assert_string_equal(l->host, host);
	assert_int_equal(l->port, port);
	assert_int_equal(l->addr.ss_family, family);
	if (family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&l->addr;
		struct in_addr want;

		assert_int_equal(l->addr_len, sizeof(*sin));
		assert_int_equal(ntohs(sin->sin_port), port);
		assert_int_equal(inet_pton(AF_INET, host, &want), 1);
		assert_memory_equal(&sin->sin_addr, &want, sizeof(want));
	} else {
		const struct sockaddr_in6 *sin6 = (const void *)&l->addr;
		struct in6_addr want;

		assert_int_equal(l->addr_len, sizeof(*sin6));
		assert_int_equal(ntohs(sin6->sin6_port), port);
		assert_int_equal(inet_pton(AF_INET6, host, &want), 1);
		assert_memory_equal(&sin6->sin6_addr, &want, sizeof(want));
	}
}

/* One part of a value: pv and its text (NULL for none). */
static void assert_part(const struct route_tpl *t, size_t i, enum route_pv pv,
			const char *text)
{
	assert_true(i < t->n_parts);
	assert_int_equal(t->parts[i].pv, pv);
	if (text)
		assert_string_equal(t->parts[i].text, text);
	else
		assert_null(t->parts[i].text);
}

/* --- defaults ------------------------------------------------------------- */

/* Kamailio 5.6's dialog-module defaults, one by one. */
static void check_kamailio_defaults(const struct cfg_dialog *d)
{
	assert_int_equal(d->enable_stats, 1);
	assert_int_equal(d->hash_size, 4096);
	assert_string_equal(d->rr_param, "did");
	assert_int_equal(d->default_timeout, 43200);
	assert_null(d->dlg_extra_hdrs);
	assert_int_equal(d->dlg_match_mode, 0);
	assert_int_equal(d->detect_spirals, 1);
	assert_string_equal(d->db_url,
			    "mysql://openser:openserrw@localhost/openser");
	assert_int_equal(d->db_url_set, 0);
	assert_int_equal(d->db_mode, 0);
	assert_int_equal(d->db_update_period, 60);
	assert_int_equal(d->db_fetch_rows, 200);
	assert_string_equal(d->table_name, "dialog");
	assert_string_equal(d->callid_column, "callid");
	assert_string_equal(d->from_uri_column, "from_uri");
	assert_string_equal(d->from_tag_column, "from_tag");
	assert_string_equal(d->to_uri_column, "to_uri");
	assert_string_equal(d->to_tag_column, "to_tag");
	assert_string_equal(d->caller_cseq_column, "caller_cseq");
	assert_string_equal(d->callee_cseq_column, "callee_cseq");
	assert_string_equal(d->caller_route_column, "caller_route_set");
	assert_string_equal(d->callee_route_column, "callee_route_set");
	assert_string_equal(d->caller_contact_column, "caller_contact");
	assert_string_equal(d->callee_contact_column, "callee_contact");
	assert_string_equal(d->caller_sock_column, "caller_sock");
	assert_string_equal(d->callee_sock_column, "callee_sock");
	assert_string_equal(d->h_id_column, "hash_id");
	assert_string_equal(d->h_entry_column, "hash_entry");
	assert_string_equal(d->state_column, "state");
	assert_string_equal(d->start_time_column, "start_time");
	assert_string_equal(d->timeout_column, "timeout");
	assert_string_equal(d->sflags_column, "sflags");
	assert_string_equal(d->toroute_column, "toroute_name");
	assert_string_equal(d->vars_table_name, "dialog_vars");
	assert_string_equal(d->vars_h_id_column, "hash_id");
	assert_string_equal(d->vars_h_entry_column, "hash_entry");
	assert_string_equal(d->vars_key_column, "dialog_key");
	assert_string_equal(d->vars_value_column, "dialog_value");
	assert_string_equal(d->bridge_controller,
			    "sip:controller@kamailio.org");
	assert_string_equal(d->bridge_contact,
			    "sip:controller@kamailio.org:5060");
	assert_int_equal(d->send_bye, 0);
	assert_int_equal(d->timeout_noreset, 0);
	assert_int_equal(d->early_timeout, 300);
	assert_int_equal(d->noack_timeout, 60);
	assert_int_equal(d->end_timeout, 300);
	assert_int_equal(d->h_id_start, 0);
	assert_int_equal(d->h_id_step, 1);
	assert_int_equal(d->ka_timer, 0);
	assert_int_equal(d->ka_interval, 0);
	assert_int_equal(d->ka_failed_limit, 1);
	assert_null(d->lreq_callee_headers);
	assert_int_equal(d->db_skip_load, 0);
}

/* The rest of sipdlg's own defaults. */
static void check_own_defaults(const struct sipdlg_config *c)
{
	assert_int_equal(c->n_listen, 2);
	assert_listen(&c->listen[0], CFG_PROTO_UDP, AF_INET, "127.0.0.1", 5060);
	assert_listen(&c->listen[1], CFG_PROTO_TCP, AF_INET, "127.0.0.1", 5060);
	assert_string_equal(c->advertise, "");
	assert_int_equal(c->workers, 0);
	assert_int_equal(c->t1_ms, 500);
	assert_int_equal(c->t2_ms, 4000);
	assert_int_equal(c->tcp.idle_timeout_ms, 120000);
	assert_int_equal(c->tcp.connect_timeout_ms, 10000);
	assert_int_equal(c->tcp.message_timeout_ms, 10000);
	assert_int_equal(c->tcp.max_connections, 4096);
	assert_int_equal(c->tcp.max_connections_per_source, 256);
	assert_int_equal(c->tcp.reserved_outbound, 256);
	assert_int_equal(c->tcp.max_out_bytes, 262144);
	assert_int_equal(c->xdp.n_interfaces, 1);
	assert_string_equal(c->xdp.interfaces[0], "lo");
	assert_int_equal(c->proxy.n_supported, 0);	/* none by default */
	assert_int_equal(c->xdp.mode, CFG_XDP_AUTO);
	assert_string_equal(c->xdp.pin_path, "/sys/fs/bpf/sipdlg");
	assert_int_equal(c->xdp.unknown_dialog, CFG_POLICY_PASS);
	assert_int_equal(c->xdp.max_dialog_pps, 0);
	assert_int_equal(c->xdp.enabled, 1);
	assert_int_equal(c->database.required, 0);
	assert_int_equal(c->database.queue_size, 65536);
	assert_int_equal(c->database.retry_interval, 5);
	assert_int_equal(c->database.retry_max, 60);
	assert_int_equal(c->database.rehash_on_load, 0);
	assert_string_equal(c->database.socket, "");
	assert_string_equal(c->control.socket, "/run/sipdlg/sipdlg.sock");
	assert_int_equal(c->control.mode, 0660);
	assert_null(c->control.group);
	assert_int_equal(c->log.level, LOG_LVL_INFO);
	assert_int_equal(c->log.target, CFG_LOG_STDERR);
}

static void test_alloc_defaults_match_kamailio(void **state)
{
	struct sipdlg_config *c = cfg_alloc_defaults();

	assert_non_null(c);
	check_kamailio_defaults(&c->dialog);
	assert_int_equal(c->dialog.n_profiles_with_value, 0);
	assert_int_equal(c->dialog.n_profiles_no_value, 0);
	check_own_defaults(c);
	assert_int_equal(c->routes.n_rules, 0);
	assert_null(c->path);
	cfg_free(c);
}

static void test_empty_file_is_all_defaults(void **state)
{
	static const char *const files[] = { "empty.yaml",
					     "comments_only.yaml" };

	for (size_t i = 0; i < 2; i++) {
		struct result r = load_fixture(files[i]);

		assert_ok(&r);
		check_kamailio_defaults(&r.cfg->dialog);
		check_own_defaults(r.cfg);
		assert_int_equal(r.cfg->routes.n_rules, 0);
		assert_non_null(strstr(r.cfg->path, files[i]));
		result_free(&r);
	}
	/* A bare document marker or a null document too. */
	struct result r = load_yaml("doc.yaml", "---\n...\n");

	assert_ok(&r);
	check_own_defaults(r.cfg);
	result_free(&r);
}

static void test_default_file(void **state)
{
	struct result r = load_file(DEFAULT_CONFIG);
	const struct sipdlg_config *c;
	const struct route_rule *rule;
	const struct route_action *a;

	assert_ok(&r);
	c = r.cfg;
	assert_string_equal(c->path, DEFAULT_CONFIG);
	/* Values the file writes out equal the built-in defaults. */
	check_kamailio_defaults(&c->dialog);
	check_own_defaults(c);
	assert_int_equal(c->dialog.n_profiles_with_value, 1);
	assert_string_equal(c->dialog.profiles_with_value[0], "caller");
	assert_int_equal(c->dialog.n_profiles_no_value, 1);
	assert_string_equal(c->dialog.profiles_no_value[0], "inbound");

	/* The sample routes of DESIGN.md. */
	assert_int_equal(c->routes.n_rules, 2);
	rule = &c->routes.rules[0];
	assert_int_equal(rule->match.n, 2);
	assert_int_equal(rule->match.v[0].type, ROUTE_COND_METHOD);
	assert_int_equal(rule->match.v[0].u.methods.n, 1);
	assert_string_equal(rule->match.v[0].u.methods.v[0], "INVITE");
	assert_int_equal(rule->match.v[1].type, ROUTE_COND_IN_DIALOG);
	assert_int_equal(rule->match.v[1].u.want, 0);
	assert_int_equal(rule->actions.n, 5);
	a = rule->actions.v;
	assert_int_equal(a[0].type, ROUTE_ACT_DLG_MANAGE);
	assert_int_equal(a[1].type, ROUTE_ACT_SET_DLG_PROFILE);
	assert_string_equal(a[1].u.profile.name, "caller");
	assert_int_equal(a[1].u.profile.has_value, 1);
	assert_part(&a[1].u.profile.value, 0, ROUTE_PV_FROM_USER, NULL);
	assert_int_equal(a[2].type, ROUTE_ACT_SET_DLG_PROFILE);
	assert_string_equal(a[2].u.profile.name, "inbound");
	assert_int_equal(a[2].u.profile.has_value, 0);
	assert_int_equal(a[3].type, ROUTE_ACT_IF);
	assert_int_equal(a[3].u.branch.cond.n, 1);
	assert_int_equal(a[3].u.branch.cond.v[0].type, ROUTE_COND_PROFILE_SIZE);
	assert_int_equal(a[3].u.branch.cond.v[0].u.size.cmp, ROUTE_CMP_GT);
	assert_int_equal(a[3].u.branch.cond.v[0].u.size.n, 2);
	assert_int_equal(a[3].u.branch.then_acts.n, 1);
	assert_int_equal(a[3].u.branch.then_acts.v[0].type, ROUTE_ACT_REPLY);
	assert_int_equal(a[3].u.branch.then_acts.v[0].u.reply.code, 486);
	assert_int_equal(a[3].u.branch.else_acts.n, 0);
	assert_int_equal(a[4].type, ROUTE_ACT_FORWARD);
	assert_int_equal(a[4].u.forward.proto, CFG_PROTO_UDP);
	assert_int_equal(a[4].u.forward.port, 5080);
	assert_string_equal(a[4].u.forward.host, "127.0.0.1");

	rule = &c->routes.rules[1];
	assert_int_equal(rule->match.n, 1);
	assert_int_equal(rule->match.v[0].type, ROUTE_COND_IN_DIALOG);
	assert_int_equal(rule->match.v[0].u.want, 0);
	assert_int_equal(rule->actions.n, 1);
	assert_int_equal(rule->actions.v[0].type, ROUTE_ACT_FORWARD);
	result_free(&r);
}

/* The default file names every dialog parameter (as a key or a comment). */
static void test_default_file_documents_every_parameter(void **state)
{
	FILE *f = fopen(DEFAULT_CONFIG, "r");
	char *text = NULL;
	size_t cap = 0;
	ssize_t n;

	assert_non_null(f);
	n = getdelim(&text, &cap, '\0', f);
	fclose(f);
	assert_true(n > 0);
	for (const struct cfg_key *k = cfg_dialog_keys; k->name; k++) {
		char want[80];

		snprintf(want, sizeof(want), " %s:", k->name);
		if (!k->alias_of && !strstr(text, want))
			fail_msg("%s is not in %s", k->name, DEFAULT_CONFIG);
	}
	free(text);
}

/* --- one error class each ------------------------------------------------- */

static void test_yaml_syntax_error(void **state)
{
	struct result r = load_fixture("syntax_error.yaml");

	/* One message: nothing after the syntax error is looked at. */
	assert_invalid(&r, 1);
	assert_err(&r, "tests/unit/config/syntax_error.yaml:4:12: YAML syntax "
		   "error: mapping values are not allowed");
	result_free(&r);

	r = load_yaml("tab.yaml", "dialog:\n\thash_size: 1\n");
	assert_invalid(&r, 1);
	assert_err(&r, "tab.yaml:2:1: YAML syntax error");
	assert_err(&r, "not tabs");
	result_free(&r);

	r = load_yaml("flow.yaml", "xdp:\n  interfaces: [lo, eth0\n");
	assert_invalid(&r, 1);
	assert_err(&r, "flow.yaml:3:1: YAML syntax error: did not find "
		   "expected ',' or ']' (while parsing a flow sequence at "
		   "line 2)");
	result_free(&r);
}

static void test_unknown_keys(void **state)
{
	struct result r = load_fixture("unknown_key.yaml");

	assert_invalid(&r, 5);
	assert_err(&r, "unknown_key.yaml:3:3: unknown key 'hash_sise' in "
		   "dialog (did you mean 'hash_size'?)");
	assert_err(&r, "unknown_key.yaml:5:3: unknown key 'completely_unknown' "
		   "in dialog\n");
	assert_err(&r, "unknown_key.yaml:7:3: unknown key 'pin_pth' in xdp "
		   "(did you mean 'pin_path'?)");
	assert_err(&r, "unknown_key.yaml:8:1: unknown top-level key 'lisen' "
		   "(did you mean 'listen'?)");
	assert_err(&r, "unknown_key.yaml:9:1: unknown top-level key "
		   "'rr_param' (dialog parameters go under dialog:)");
	result_free(&r);
}

static void test_wrong_types(void **state)
{
	struct result r = load_fixture("wrong_type.yaml");

	assert_invalid(&r, 8);
	assert_err(&r, "wrong_type.yaml:2:14: hash_size: expected an integer, "
		   "got the string \"4096\"");
	assert_err(&r, "wrong_type.yaml:3:12: db_mode: expected an integer, "
		   "got 'two'");
	assert_err(&r, "wrong_type.yaml:4:24: profiles_with_value: expected a "
		   "list");
	assert_err(&r, "wrong_type.yaml:5:13: rr_param: expected a string, got "
		   "a list");
	assert_err(&r, "wrong_type.yaml:6:19: detect_spirals: expected true or "
		   "false, got 'maybe'");
	assert_err(&r, "wrong_type.yaml:7:9: listen: expected a list");
	assert_err(&r, "wrong_type.yaml:9:15: interfaces: expected a list, "
		   "e.g. [lo, eth0], got a map");
	assert_err(&r, "wrong_type.yaml:10:9: routes: expected a list");
	result_free(&r);

	r = load_yaml("root.yaml", "- listen\n- dialog\n");
	assert_invalid(&r, 1);
	assert_err(&r, "root.yaml:1:1: the config must be a map of sections");
	result_free(&r);

	r = load_yaml("sect.yaml", "dialog: [hash_size]\n");
	assert_invalid(&r, 1);
	assert_err(&r, "sect.yaml:1:9: dialog: expected a map of key: value, "
		   "got a list");
	result_free(&r);
}

static void test_hash_size(void **state)
{
	struct result r = load_fixture("hash_size.yaml");

	assert_invalid(&r, 1);
	assert_string_equal(r.errs, "tests/unit/config/hash_size.yaml:4:14: "
			    "hash_size: 1000 is not a power of two (try "
			    "1024)\n");
	result_free(&r);

	r = load_yaml("h.yaml", "dialog:\n  hash_size: 0\n");
	assert_invalid(&r, 1);
	assert_err(&r, "h.yaml:2:14: hash_size: must be greater than 0");
	result_free(&r);

	r = load_yaml("h.yaml", "dialog:\n  hash_size: 3000\n");
	assert_err(&r, "h.yaml:2:14: hash_size: 3000 is not a power of two "
		   "(try 2048)");
	result_free(&r);

	r = load_yaml("h.yaml", "dialog: { hash_size: 1048576 }\n");
	assert_ok(&r);
	assert_int_equal(r.cfg->dialog.hash_size, 1u << 20);
	result_free(&r);

	r = load_yaml("h.yaml", "dialog: { hash_size: 1 }\n");
	assert_ok(&r);
	assert_int_equal(r.cfg->dialog.hash_size, 1);
	result_free(&r);
}

static void test_ranges(void **state)
{
	struct result r = load_fixture("ranges.yaml");

	assert_invalid(&r, 7);
	assert_err(&r, "ranges.yaml:2:12: db_mode: 4 is out of range 0..3");
	assert_err(&r, "ranges.yaml:3:19: dlg_match_mode: 3 is out of range "
		   "0..2");
	assert_err(&r, "ranges.yaml:4:3: dlg_flag: not supported: a script "
		   "flag");
	assert_err(&r, "ranges.yaml:5:3: keep_proxy_rr: not supported: ");
	assert_err(&r, "ranges.yaml:6:20: ka_failed_limit: must be greater "
		   "than 0");
	assert_err(&r, "ranges.yaml:7:14: hash_size: 2097152 is out of range "
		   "1..1048576");
	assert_err(&r, "ranges.yaml:10:10: t2_ms: 400 is less than t1_ms 500");
	result_free(&r);
}

static void test_timeouts_must_be_positive(void **state)
{
	struct result r = load_fixture("timeouts.yaml");

	assert_invalid(&r, 6);
	assert_err(&r, "timeouts.yaml:2:20: default_timeout: must be greater "
		   "than 0 (got 0)");
	assert_err(&r, "timeouts.yaml:3:18: early_timeout: must be greater "
		   "than 0 (got -1)");
	assert_err(&r, "timeouts.yaml:4:18: noack_timeout: must be greater "
		   "than 0 (got 0)");
	assert_err(&r, "timeouts.yaml:5:16: end_timeout: must be greater than "
		   "0 (got -300)");
	assert_err(&r, "timeouts.yaml:8:18: timeout: must be greater than 0 "
		   "(got 0)");
	assert_err(&r, "timeouts.yaml:9:18: timeout: must be greater than 0 "
		   "(got -5)");
	result_free(&r);
}

static void test_rr_param(void **state)
{
	struct result r = load_yaml("rr.yaml", "dialog:\n  rr_param: \"\"\n");

	assert_invalid(&r, 1);
	assert_err(&r, "rr.yaml:2:13: rr_param: must not be empty");
	result_free(&r);

	r = load_yaml("rr.yaml", "dialog:\n  rr_param: "
		      "abcdefghijabcdefghijabcdefghijabc\n");
	assert_invalid(&r, 1);
	assert_err(&r, "rr.yaml:2:13: rr_param: "
		   "'abcdefghijabcdefghijabcdefghijabc' is 33 characters; at "
		   "most 32 are allowed");
	result_free(&r);

	r = load_yaml("rr.yaml", "dialog:\n  rr_param: "
		      "abcdefghijabcdefghijabcdefghijab\n");
	assert_ok(&r);
	assert_int_equal(strlen(r.cfg->dialog.rr_param), 32);
	result_free(&r);
}

static void test_profile_in_both_lists(void **state)
{
	struct result r = load_fixture("profiles_both.yaml");

	assert_invalid(&r, 1);
	assert_err(&r, "profiles_both.yaml:3:22: profile 'trunk' is in both "
		   "profiles_with_value and profiles_no_value");
	result_free(&r);
}

static void test_listen_malformed(void **state)
{
	struct result r = load_fixture("listen_bad.yaml");

	assert_invalid(&r, 8);
	assert_err(&r, "listen_bad.yaml:3:5: listen: unknown protocol 'sctp' "
		   "(use udp, tcp or tls)");
	assert_err(&r, "listen_bad.yaml:4:5: listen: '127.0.0.256' is not a "
		   "numeric IPv4 address");
	assert_err(&r, "listen_bad.yaml:5:5: listen: port 0 is out of range "
		   "1..65535");
	assert_err(&r, "listen_bad.yaml:6:5: listen: port 65536 is out of "
		   "range 1..65535");
	assert_err(&r, "listen_bad.yaml:7:5: listen: missing port");
	assert_err(&r, "listen_bad.yaml:8:5: listen: unterminated '['");
	assert_err(&r, "listen_bad.yaml:9:5: listen: 'localhost' is not a "
		   "numeric IPv4 address (names are not resolved)");
	assert_err(&r, "listen_bad.yaml:10:5: listen: IPv6 addresses need "
		   "brackets");
	result_free(&r);

	r = load_yaml("l.yaml", "listen: [\"udp:127.0.0.1:5060\", "
		      "\"UDP:127.0.0.1:5060\"]\n");
	assert_invalid(&r, 1);
	assert_err(&r, "l.yaml:1:32: listen: 'UDP:127.0.0.1:5060' is listed "
		   "twice");
	result_free(&r);

	r = load_yaml("l.yaml", "listen: []\n");
	assert_invalid(&r, 1);
	assert_err(&r, "l.yaml:1:9: listen: needs at least one address");
	result_free(&r);

	r = load_yaml("l.yaml", "listen: \"127.0.0.1:5060\"\n");
	assert_invalid(&r, 1);
	assert_err(&r, "needs a protocol");
	result_free(&r);
}

/* tls: defaults, the enums, and what listen:/forward: ask of it (the
 * file checks with real certificates are in e2e test_tls_config.sh). */
static void test_tls_section(void **state)
{
	struct result r = load_yaml("t.yaml", "tls: {ca_dir: /}\n");

	assert_ok(&r);
	assert_int_equal(r.cfg->tls.present, 1);
	assert_int_equal(r.cfg->tls.verify_peer, CFG_TLS_VERIFY_OPTIONAL);
	assert_int_equal(r.cfg->tls.min_version, CFG_TLS_1_2);
	assert_int_equal(r.cfg->tls.handshake_timeout_ms, 5000);
	result_free(&r);

	r = load_yaml("t.yaml", "tls:\n  verify_peer: maybe\n"
		      "  min_version: TLS1.1\n");
	assert_invalid(&r, 2);
	assert_err(&r, "t.yaml:2:16: verify_peer: 'maybe' is not one of none, "
		   "optional, required");
	assert_err(&r, "t.yaml:3:16: min_version: 'TLS1.1' is not one of "
		   "TLS1.2, TLS1.3");
	result_free(&r);

	r = load_yaml("t.yaml", "listen: [\"tcp:[::1]:5061\", "
		      "\"tls:[::1]:5061\"]\ntls: {ca_dir: /}\n");
	assert_invalid(&r, 1);
	assert_err(&r, "t.yaml:1:28: listen: 'tls:[::1]:5061' takes the TCP "
		   "port of another entry");
	result_free(&r);

	r = load_yaml("t.yaml", "listen: [\"tls:[::1]:5061\"]\n");
	assert_invalid(&r, 1);
	assert_err(&r, "t.yaml:1:10: listen: a tls: entry needs a tls: "
		   "section");
	result_free(&r);
}

static void test_ipv6_listen(void **state)
{
	struct result r = load_fixture("ipv6_listen.yaml");

	assert_ok(&r);
	assert_int_equal(r.cfg->n_listen, 3);
	assert_listen(&r.cfg->listen[0], CFG_PROTO_UDP, AF_INET6, "::1", 5060);
	assert_listen(&r.cfg->listen[1], CFG_PROTO_TCP, AF_INET6,
		      "2001:db8::10", 5070);
	assert_listen(&r.cfg->listen[2], CFG_PROTO_UDP, AF_INET, "192.0.2.1",
		      5060);
	assert_string_equal(r.cfg->advertise, "[2001:db8::10]:5070");
	result_free(&r);

	r = load_yaml("v6.yaml", "listen: \"udp:[fe80::1%eth0]:5060\"\n");
	assert_invalid(&r, 1);
	assert_err(&r, "v6.yaml:1:9: listen: 'fe80::1%eth0' is not an IPv6 "
		   "address");
	result_free(&r);
}

static void test_db_mode_needs_db_url(void **state)
{
	struct result r = load_fixture("db_url_missing.yaml");

	assert_invalid(&r, 1);
	assert_err(&r, "db_url_missing.yaml:2:12: db_mode: 1 needs db_url");
	result_free(&r);

	r = load_yaml("db.yaml", "dialog:\n  db_url: \"\"\n  db_mode: 2\n");
	assert_invalid(&r, 1);
	assert_err(&r, "db.yaml:3:12: db_mode: 2 needs db_url");
	result_free(&r);

	r = load_yaml("db.yaml", "dialog:\n  db_mode: 1\n  db_url: "
		      "mysql://sipdlg:secret@db1:3306/sipdlg\n");
	assert_ok(&r);
	assert_int_equal(r.cfg->dialog.db_mode, 1);
	assert_int_equal(r.cfg->dialog.db_url_set, 1);
	assert_string_equal(r.cfg->dialog.db_url,
			    "mysql://sipdlg:secret@db1:3306/sipdlg");
	result_free(&r);

	r = load_yaml("db.yaml", "dialog:\n  db_url: postgres://x@y/z\n");
	assert_invalid(&r, 1);
	assert_err(&r, "db.yaml:2:11: db_url: 'postgres://x@y/z' is not a "
		   "mysql:// URL");
	result_free(&r);
}

static void test_routes_unknown_and_invalid(void **state)
{
	struct result r = load_fixture("routes_bad.yaml");

	assert_invalid(&r, 8);
	assert_err(&r, "routes_bad.yaml:5:30: unknown condition 'from_usr' "
		   "(did you mean 'from_user'?)");
	assert_err(&r, "routes_bad.yaml:8:9: unknown action 'forwrd' (did you "
		   "mean 'forward'?)");
	assert_err(&r, "routes_bad.yaml:9:27: set_dlg_profile: profile "
		   "'caller' is in profiles_with_value and needs a value");
	assert_err(&r, "routes_bad.yaml:10:36: set_dlg_profile: profile "
		   "'inbound' is in profiles_no_value and takes no value");
	assert_err(&r, "routes_bad.yaml:11:27: set_dlg_profile: profile "
		   "'nobody' is not declared");
	assert_err(&r, "routes_bad.yaml:12:14: log: unknown pseudo-variable "
		   "'$fx'");
	assert_err(&r, "routes_bad.yaml:13:15: profile_size: needs one of gt, "
		   "ge, lt, le, eq");
	assert_err(&r, "routes_bad.yaml:16:9: this action never runs: 'reply' "
		   "at line 15 ends the rule");
	result_free(&r);
}

/* Smaller route mistakes, each on its own. */
static void test_routes_shapes(void **state)
{
	static const struct {
		const char *yaml;
		const char *want;
	} cases[] = {
		{ "routes:\n  - actions: [ dlg_bye ]\n",
		  "r.yaml:2:16: dlg_bye needs a value: dlg_bye: all" },
		{ "routes:\n  - actions: [ { drop: true } ]\n",
		  "r.yaml:2:18: drop takes no value" },
		{ "routes:\n  - actions: [ { forward: \"udp:1.2.3.4:5\", "
		  "reply: \"500 x\" } ]\n",
		  "r.yaml:2:16: an action is one 'name: value' pair" },
		{ "routes:\n  - match: { methd: INVITE }\n    actions: []\n",
		  "r.yaml:2:14: unknown condition 'methd' (did you mean "
		  "'method'?)" },
		{ "routes:\n  - match: { method: invite }\n    actions: []\n",
		  "r.yaml:2:22: method: SIP methods are case-sensitive; write "
		  "INVITE" },
		{ "routes:\n  - match: { in_dialog: false }\n",
		  "r.yaml:2:5: a rule needs actions: [...]" },
		{ "routes:\n  - method: INVITE\n    actions: []\n",
		  "r.yaml:2:5: unknown key 'method' in a rule (it takes name, "
		  "match, actions) (conditions go in the match: map)" },
		{ "routes:\n  - actions:\n      - if: {}\n        then: []\n",
		  "r.yaml:3:13: if: needs at least one condition" },
		{ "routes:\n  - actions:\n      - if: { in_dialog: true }\n",
		  "r.yaml:3:9: if: needs then: [actions]" },
		{ "routes:\n  - actions:\n      - then: [drop]\n",
		  "r.yaml:3:9: unknown action 'then'" },
		{ "routes:\n  - actions: [ { reply: \"99 Too Low\" } ]\n",
		  "r.yaml:2:25: reply: expected \"CODE Reason\"" },
		{ "routes:\n  - actions: [ { reply: \"700 Too High\" } ]\n",
		  "r.yaml:2:25: reply: code 700 is out of range 100..699" },
		{ "routes:\n  - actions: [ { dlg_setflag: 32 } ]\n",
		  "r.yaml:2:31: dlg_setflag: 32 is out of range 0..31" },
		{ "routes:\n  - actions: [ { dlg_bye: both } ]\n",
		  "r.yaml:2:27: dlg_bye: 'both' is not one of caller, callee, "
		  "all" },
		{ "routes:\n  - actions: [ { dlg_refer: [all, \"sip:a@b\"] } ]\n",
		  "r.yaml:2:30: dlg_refer: 'all' is not one of caller, callee" },
		{ "routes:\n  - match: { source: 10.0.0.1/8 }\n    actions: []\n",
		  "r.yaml:2:22: source: '10.0.0.1/8' has host bits set (did "
		  "you mean 10.0.0.0/8?)" },
		{ "routes:\n  - match: { header: [X-A, b, c] }\n    actions: []\n",
		  "r.yaml:2:22: header: expected Name, [Name, value]" },
		{ "routes:\n  - match: { eq: 1 }\n    actions: []\n",
		  "r.yaml:2:14: match: 'eq' compares a profile_size" },
		{ "routes:\n  - actions: [ { log: \"$hdr\" } ]\n",
		  "r.yaml:2:23: log: $hdr needs a name: $hdr(Name)" },
		{ "routes:\n  - actions: [ { log: \"cost 5$\" } ]\n",
		  "r.yaml:2:23: log: a lone '$' (write $$ for a literal '$')" },
		{ "routes:\n  - actions: [ { log: \"$ci(x)\" } ]\n",
		  "r.yaml:2:23: log: $ci takes no argument" },
		{ "routes:\n  - actions: [ { log: \"$dlg_var(k\" } ]\n",
		  "r.yaml:2:23: log: unterminated '$dlg_var('" },
		{ "routes:\n  - actions: [ { log: \"$(fU{s.len})\" } ]\n",
		  "r.yaml:2:23: log: '$(' transformations are not supported" },
		{ "routes:\n  - actions: [ { set_dlg_var: [\"a b\", x] } ]\n",
		  "r.yaml:2:32: set_dlg_var: 'a b' is not a variable name" },
		{ "routes:\n  - actions: [ { forward: \"udp:127.0.0.1:0\" } ]\n",
		  "r.yaml:2:27: forward: port 0 is out of range 1..65535" },
		{ "routes:\n  - actions: [ [drop] ]\n",
		  "r.yaml:2:16: an action is a word (dlg_manage) or a 'name: "
		  "value' map" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r = load_yaml("r.yaml", cases[i].yaml);

		if (r.rc != -EINVAL || !strstr(r.errs, cases[i].want))
			fail_msg("case %zu: want \"%s\", got (%d):\n%s", i,
				 cases[i].want, r.rc, r.errs);
		result_free(&r);
	}
}

static void test_duplicate_keys(void **state)
{
	struct result r = load_fixture("duplicate_keys.yaml");

	assert_invalid(&r, 2);
	assert_err(&r, "duplicate_keys.yaml:4:3: duplicate key 'hash_size' "
		   "(first given at line 2)");
	assert_err(&r, "duplicate_keys.yaml:7:1: duplicate key 'xdp' (first "
		   "given at line 5)");
	result_free(&r);
}

/* Every problem is reported, sorted by position, one per line. */
static void test_many_errors_all_reported(void **state)
{
	static const char *const want[] = {
		":3:16: unknown action 'dlg_manag' (did you mean "
		"'dlg_manage'?)",
		":5:14: hash_size: 1000 is not a power of two (try 1024)",
		":6:12: db_mode: 9 is out of range 0..3",
		":7:13: rr_param: must not be empty",
		":8:10: listen: missing port",
		":10:9: mode: 'fast' is not one of auto, native, generic",
		":12:10: level: 'verbose' is not one of error, warn, notice, "
		"info, debug",
	};
	struct result r = load_fixture("many_errors.yaml");
	const char *at = r.errs;

	assert_invalid(&r, 7);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *hit = strstr(at, want[i]);

		if (!hit)
			fail_msg("\"%s\" missing or out of order in:\n%s",
				 want[i], r.errs);
		at = hit;
	}
	result_free(&r);
}

/* --- Kamailio compatibility ------------------------------------------------ */

static void test_alias_names(void **state)
{
	struct result r = load_fixture("alias_conflict.yaml");

	assert_invalid(&r, 1);
	assert_err(&r, "alias_conflict.yaml:4:3: 'callid_column' and "
		   "'call_id_column' (line 2) set the same parameter; keep "
		   "one");
	result_free(&r);

	r = load_yaml("a.yaml",
		      "dialog:\n"
		      "  call_id_column: cid\n"
		      "  from_cseq_column: fc\n"
		      "  to_cseq_column: tc\n"
		      "  from_route_column: fr\n"
		      "  to_route_column: tr\n"
		      "  from_contact_column: fct\n"
		      "  to_contact_column: tct\n"
		      "  from_sock_column: fs\n"
		      "  to_sock_column: ts\n"
		      "  toroute_name_column: trn\n");
	assert_ok(&r);
	assert_string_equal(r.cfg->dialog.callid_column, "cid");
	assert_string_equal(r.cfg->dialog.caller_cseq_column, "fc");
	assert_string_equal(r.cfg->dialog.callee_cseq_column, "tc");
	assert_string_equal(r.cfg->dialog.caller_route_column, "fr");
	assert_string_equal(r.cfg->dialog.callee_route_column, "tr");
	assert_string_equal(r.cfg->dialog.caller_contact_column, "fct");
	assert_string_equal(r.cfg->dialog.callee_contact_column, "tct");
	assert_string_equal(r.cfg->dialog.caller_sock_column, "fs");
	assert_string_equal(r.cfg->dialog.callee_sock_column, "ts");
	assert_string_equal(r.cfg->dialog.toroute_column, "trn");
	result_free(&r);

	r = load_yaml("a.yaml", "dialog:\n  to_sock_column: x\n"
		      "  callee_sock_column: y\n");
	assert_invalid(&r, 1);
	assert_err(&r, "a.yaml:3:3: 'callee_sock_column' and 'to_sock_column' "
		   "(line 2)");
	result_free(&r);

	r = load_yaml("a.yaml", "dialog:\n  table_name: \"my table\"\n");
	assert_invalid(&r, 1);
	assert_err(&r, "a.yaml:2:15: table_name: 'my table' is not a valid "
		   "table or column name");
	result_free(&r);
}

static void test_profiles_string_form(void **state)
{
	struct result r = load_yaml("p.yaml",
				    "dialog:\n"
				    "  profiles_with_value: \"caller ; c2;gw \"\n"
				    "  profiles_no_value: \" a ; b ; \"\n");
	const struct cfg_dialog *d;

	assert_ok(&r);
	d = &r.cfg->dialog;
	assert_int_equal(d->n_profiles_with_value, 3);
	assert_string_equal(d->profiles_with_value[0], "caller");
	assert_string_equal(d->profiles_with_value[1], "c2");
	assert_string_equal(d->profiles_with_value[2], "gw");
	assert_int_equal(d->n_profiles_no_value, 2);
	assert_string_equal(d->profiles_no_value[0], "a");
	assert_string_equal(d->profiles_no_value[1], "b");
	result_free(&r);

	r = load_yaml("p.yaml", "dialog:\n  profiles_no_value: [a, b-c, a]\n");
	assert_invalid(&r, 2);
	assert_err(&r, "p.yaml:2:26: profiles_no_value: profile name 'b-c' may "
		   "only have letters, digits and '_'");
	assert_err(&r, "p.yaml:2:31: profiles_no_value: profile 'a' is listed "
		   "twice");
	result_free(&r);

	r = load_yaml("p.yaml", "dialog:\n  profiles_no_value: \"x ; x\"\n");
	assert_invalid(&r, 1);
	assert_err(&r, "p.yaml:2:22: profiles_no_value: profile 'x' is listed "
		   "twice");
	result_free(&r);
}

/* --- other sections ---------------------------------------------------- */

static void test_sections(void **state)
{
	struct result r = load_yaml(
		"s.yaml",
		"advertise: sip.example.com:5060\n"
		"workers: 4\n"
		"sip: { t1_ms: 250, t2_ms: 2000 }\n"
		"proxy: { supported: [100rel, \"x-odd.tag!%*_+`'~\"] }\n"
		"dialog:\n"
		"  dlg_extra_hdrs: \"X-Reason: timeout\\r\\n\"\n"
		"  enable_stats: false\n"
		"  h_id_start: 100\n"
		"  h_id_step: 4\n"
		"  ka_timer: 5\n"
		"  ka_interval: 30\n"
		"xdp:\n"
		"  interfaces: [eth0, eth1]\n"
		"  mode: generic\n"
		"  unknown_dialog: drop\n"
		"  max_dialog_pps: 500\n"
		"  enabled: no\n"
		"database: { required: true, queue_size: 10, retry_interval: 2,"
		" retry_max: 30, rehash_on_load: true,"
		" socket: /run/mysqld/mysqld.sock }\n"
		"control: { socket: /tmp/s.sock, mode: 0640, group: sipdlg }\n"
		"log: { level: debug, target: syslog }\n"
		"limits: { max_dialogs: 5000, max_early_dialogs: 2000,"
		" max_transactions: 8000, max_memory_mb: 512, retry_after: 30 }\n");
	const struct sipdlg_config *c;

	assert_ok(&r);
	c = r.cfg;
	assert_string_equal(c->advertise, "sip.example.com:5060");
	assert_int_equal(c->workers, 4);
	assert_int_equal(c->t1_ms, 250);
	assert_int_equal(c->t2_ms, 2000);
	assert_string_equal(c->dialog.dlg_extra_hdrs, "X-Reason: timeout\r\n");
	assert_int_equal(c->dialog.enable_stats, 0);
	assert_int_equal(c->dialog.h_id_start, 100);
	assert_int_equal(c->dialog.h_id_step, 4);
	assert_int_equal(c->dialog.ka_interval, 30);
	assert_int_equal(c->proxy.n_supported, 2);
	assert_string_equal(c->proxy.supported[0], "100rel");
	assert_string_equal(c->proxy.supported[1], "x-odd.tag!%*_+`'~");
	assert_int_equal(c->xdp.n_interfaces, 2);
	assert_string_equal(c->xdp.interfaces[0], "eth0");
	assert_string_equal(c->xdp.interfaces[1], "eth1");
	assert_int_equal(c->xdp.mode, CFG_XDP_GENERIC);
	assert_int_equal(c->xdp.unknown_dialog, CFG_POLICY_DROP);
	assert_int_equal(c->xdp.max_dialog_pps, 500);
	assert_int_equal(c->xdp.enabled, 0);
	assert_int_equal(c->database.required, 1);
	assert_int_equal(c->database.queue_size, 10);
	assert_int_equal(c->database.retry_interval, 2);
	assert_int_equal(c->database.retry_max, 30);
	assert_int_equal(c->database.rehash_on_load, 1);
	assert_string_equal(c->database.socket, "/run/mysqld/mysqld.sock");
	assert_string_equal(c->control.socket, "/tmp/s.sock");
	assert_int_equal(c->control.mode, 0640);
	assert_string_equal(c->control.group, "sipdlg");
	assert_int_equal(c->log.level, LOG_LVL_DEBUG);
	assert_int_equal(c->log.target, CFG_LOG_SYSLOG);
	assert_int_equal(c->limits.max_dialogs, 5000);
	assert_int_equal(c->limits.max_early_dialogs, 2000);
	assert_int_equal(c->limits.max_transactions, 8000);
	assert_int_equal(c->limits.max_memory_mb, 512);
	assert_int_equal(c->limits.retry_after, 30);
	result_free(&r);

	/* Edge forms: shortest AVP, "warning", mode without quotes/0o. */
	r = load_yaml("s.yaml", "dialog: { lreq_callee_headers: \"X-A: 1\" }\n"
		      "log: { level: warning }\n"
		      "control: { mode: 660 }\n");
	assert_ok(&r);
	assert_string_equal(r.cfg->dialog.lreq_callee_headers, "X-A: 1");
	assert_int_equal(r.cfg->log.level, LOG_LVL_WARN);
	assert_int_equal(r.cfg->control.mode, 0660);
	result_free(&r);

	r = load_yaml("s.yaml", "control: { mode: \"0o600\" }\n"
		      "dialog: { lreq_callee_headers: null, enable_stats: off }\n");
	assert_ok(&r);
	/* limits: default to none, Retry-After 5 */
	assert_int_equal(r.cfg->limits.max_dialogs, 0);
	assert_int_equal(r.cfg->limits.max_early_dialogs, 0);
	assert_int_equal(r.cfg->limits.max_transactions, 0);
	assert_int_equal(r.cfg->limits.max_memory_mb, 0);
	assert_int_equal(r.cfg->limits.retry_after, 5);
	assert_int_equal(r.cfg->control.mode, 0600);
	assert_null(r.cfg->dialog.lreq_callee_headers);
	assert_int_equal(r.cfg->dialog.enable_stats, 0);
	result_free(&r);
}

/* tcp: every key read, the caps checked against each other. */
static void test_tcp_section(void **state)
{
	struct result r = load_yaml(
		"t.yaml",
		"tcp:\n"
		"  idle_timeout_ms: 60000\n"
		"  connect_timeout_ms: 3000\n"
		"  message_timeout_ms: 2000\n"
		"  max_connections: 100\n"
		"  max_connections_per_source: 90\n"
		"  reserved_outbound: 10\n"
		"  max_out_bytes: 65536\n");

	assert_ok(&r);
	assert_int_equal(r.cfg->tcp.idle_timeout_ms, 60000);
	assert_int_equal(r.cfg->tcp.connect_timeout_ms, 3000);
	assert_int_equal(r.cfg->tcp.message_timeout_ms, 2000);
	assert_int_equal(r.cfg->tcp.max_connections, 100);
	assert_int_equal(r.cfg->tcp.max_connections_per_source, 90);
	assert_int_equal(r.cfg->tcp.reserved_outbound, 10);
	assert_int_equal(r.cfg->tcp.max_out_bytes, 65536);
	result_free(&r);

	r = load_yaml("t.yaml", "tcp: { reserved_outbound: 0 }\n");
	assert_ok(&r);
	assert_int_equal(r.cfg->tcp.reserved_outbound, 0);
	result_free(&r);

	r = load_yaml("t.yaml", "tcp:\n  max_connections: 10\n"
		      "  max_connections_per_source: 2\n"
		      "  reserved_outbound: 10\n");
	assert_invalid(&r, 1);
	assert_err(&r, "t.yaml:4:22: reserved_outbound: 10 leaves no "
		   "connection of max_connections (10) for clients");
	result_free(&r);

	r = load_yaml("t.yaml", "tcp:\n  max_connections: 100\n"
		      "  reserved_outbound: 20\n");
	assert_invalid(&r, 1);
	assert_err(&r, "t.yaml:2:3: max_connections_per_source: 256 is more than "
		   "the 80 connections clients may open");
	result_free(&r);

	r = load_yaml("t.yaml", "tcp:\n  message_timeout_ms: 0\n"
		      "  max_out_bytes: 1000\n  idle_timout_ms: 5\n");
	assert_invalid(&r, 3);
	assert_err(&r, "t.yaml:2:23: message_timeout_ms:");
	assert_err(&r, "t.yaml:3:18: max_out_bytes:");
	assert_err(&r, "unknown key 'idle_timout_ms' in tcp (did you mean "
		   "'idle_timeout_ms'?)");
	result_free(&r);
}

static void test_section_errors(void **state)
{
	static const struct {
		const char *yaml;
		const char *want;
	} cases[] = {
		{ "control:\n  mode: \"0968\"\n",
		  "s.yaml:2:9: mode: '0968' is not an octal file mode" },
		{ "control:\n  socket: run/x.sock\n",
		  "s.yaml:2:11: socket: 'run/x.sock' must be an absolute path" },
		{ "xdp:\n  interfaces: []\n",
		  "s.yaml:2:15: interfaces: empty; name at least one, or set "
		  "enabled: false" },
		{ "xdp:\n  interfaces: [lo, lo]\n",
		  "s.yaml:2:20: interfaces: 'lo' is listed twice" },
		{ "xdp:\n  interfaces: [averyveryverylongname]\n",
		  "s.yaml:2:16: interfaces: 'averyveryverylongname' is not an "
		  "interface name" },
		{ "proxy:\n  supported: [100rel, \"a b\"]\n",
		  "s.yaml:2:23: supported: 'a b' is not an option tag" },
		{ "proxy:\n  supported: [timer, \"x/y\"]\n",
		  "s.yaml:2:22: supported: 'x/y' is not an option tag" },
		{ "proxy:\n  supported: [timer, TIMER]\n",
		  "s.yaml:2:22: supported: 'TIMER' is listed twice" },
		{ "proxy:\n  supported: {a: b}\n",
		  "s.yaml:2:14: supported: expected a list" },
		{ "proxy:\n  requires: [x]\n",
		  "s.yaml:2:3: unknown key 'requires'" },
		{ "xdp:\n  unknown_dialog: reject\n",
		  "s.yaml:2:19: unknown_dialog: 'reject' is not one of pass, "
		  "drop" },
		{ "limits:\n  max_dialogs: 100\n  max_early_dialogs: 200\n",
		  "s.yaml:3:22: max_early_dialogs: 200 is more than "
		  "max_dialogs 100" },
		{ "limits:\n  max_memory_mb: 20000000\n",
		  "s.yaml:2:18: max_memory_mb: 20000000 is out of range" },
		{ "limits:\n  retry_after: 0\n",
		  "s.yaml:2:16: retry_after: must be greater than 0" },
		{ "limits:\n  max_dialog: 5\n",
		  "s.yaml:2:3: unknown key 'max_dialog' in limits (did you mean "
		  "'max_dialogs'?)" },
		{ "limits:\n  max_transactions: -1\n",
		  "s.yaml:2:21: max_transactions: -1 is out of range" },
		{ "xdp:\n  invite_limit: { per_source_pps: 20, burst: 0 }\n",
		  "s.yaml:2:46: burst: must be at least 1 when per_source_pps "
		  "is above 0" },
		{ "xdp:\n  invite_limit: { per_source_pps: 20 }\n",
		  "s.yaml:2:17: invite_limit: burst is missing: with "
		  "per_source_pps above 0 give the bucket depth (1..1000000 "
		  "INVITEs)" },
		{ "xdp:\n  invite_limit: { per_source_pps: 1000001, burst: 5 }\n",
		  "s.yaml:2:35: per_source_pps: 1000001 is out of range" },
		{ "xdp:\n  invite_limit: { per_source_pps: -1, burst: 5 }\n",
		  "s.yaml:2:35: per_source_pps: -1 is out of range" },
		{ "xdp:\n  invite_limit: { per_source_pps: 5, burst: 2000000 }\n",
		  "s.yaml:2:45: burst: 2000000 is out of range" },
		{ "xdp:\n  invite_limit: { pps: 5, burst: 2 }\n",
		  "s.yaml:2:19: unknown key 'pps' in xdp.invite_limit" },
		{ "xdp:\n  invite_limit: 5\n",
		  "s.yaml:2:17: " },
		{ "xdp:\n  enabled: false\n"
		  "  invite_limit: { per_source_pps: 5, burst: 2 }\n",
		  "s.yaml:3:17: invite_limit: the limit on UDP runs in the XDP "
		  "program, but xdp.enabled is false" },
		{ "log:\n  target: syslg\n",
		  "s.yaml:2:11: target: 'syslg' is not one of stderr, syslog "
		  "(did you mean 'syslog'?)" },
		{ "advertise: \"a b\"\n",
		  "s.yaml:1:12: advertise: 'a b' is not a host name or address" },
		{ "workers: 5000\n",
		  "s.yaml:1:10: workers: 5000 is out of range 0..1024" },
		{ "dialog:\n  bridge_controller: controller@x\n",
		  "s.yaml:2:22: bridge_controller: 'controller@x' is not a SIP "
		  "URI" },
		{ "a: &x 1\n",
		  "s.yaml:1:1: unknown top-level key 'a'" },
		{ "log: *x\n",
		  "s.yaml:1:6: aliases (*x) are not supported" },
		{ "log: {}\n---\nlog: {}\n",
		  "s.yaml:2:1: a second YAML document" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r = load_yaml("s.yaml", cases[i].yaml);

		if (r.rc != -EINVAL || !strstr(r.errs, cases[i].want))
			fail_msg("case %zu: want \"%s\", got (%d):\n%s", i,
				 cases[i].want, r.rc, r.errs);
		result_free(&r);
	}
}

/* --- the routes tree ----------------------------------------------------- */

static void check_calls_rule(const struct route_rule *rule)
{
	const struct route_cond *m = rule->match.v;
	const struct route_action *a = rule->actions.v;
	const struct route_action *br, *inner;
	const struct route_cidr *src;
	uint8_t v4[4] = { 10, 0, 0, 0 };

	assert_string_equal(rule->name, "calls");
	assert_int_equal(rule->pos.line, 9);
	assert_int_equal(rule->match.n, 4);
	assert_int_equal(m[0].type, ROUTE_COND_METHOD);
	assert_int_equal(m[0].pos.line, 11);
	assert_int_equal(m[0].pos.col, 7);
	assert_int_equal(m[0].u.methods.n, 2);
	assert_string_equal(m[0].u.methods.v[0], "INVITE");
	assert_string_equal(m[0].u.methods.v[1], "MESSAGE");
	assert_int_equal(m[1].type, ROUTE_COND_RURI_DOMAIN);
	assert_int_equal(m[1].u.strs.n, 2);
	assert_part(&m[1].u.strs.v[0], 0, ROUTE_PV_NONE, "example.com");
	assert_int_equal(m[1].u.strs.v[1].n_parts, 1);
	assert_part(&m[1].u.strs.v[1], 0, ROUTE_PV_FROM_DOMAIN, NULL);
	assert_int_equal(m[2].type, ROUTE_COND_SOURCE);
	assert_int_equal(m[2].u.sources.n, 3);
	src = m[2].u.sources.v;
	assert_int_equal(src[0].family, AF_INET);
	assert_int_equal(src[0].prefix, 8);
	assert_memory_equal(src[0].addr, v4, 4);
	assert_int_equal(src[1].family, AF_INET6);
	assert_int_equal(src[1].prefix, 32);
	assert_int_equal(src[1].addr[0], 0x20);
	assert_int_equal(src[1].addr[3], 0xb8);
	assert_int_equal(src[2].family, AF_INET);
	assert_int_equal(src[2].prefix, 32);
	assert_int_equal(src[2].addr[3], 7);
	assert_int_equal(m[3].type, ROUTE_COND_HEADER);
	assert_string_equal(m[3].u.header.name, "X-Tenant");
	assert_int_equal(m[3].u.header.op, ROUTE_HDR_CONTAINS);
	assert_string_equal(m[3].u.header.value.raw, "acme");

	assert_int_equal(rule->actions.n, 13);
	assert_int_equal(a[0].type, ROUTE_ACT_DLG_MANAGE);
	assert_int_equal(a[0].pos.line, 16);
	assert_int_equal(a[0].pos.col, 9);
	assert_int_equal(a[1].type, ROUTE_ACT_DLG_FLAG);
	assert_int_equal(a[2].type, ROUTE_ACT_SET_DLG_PROFILE);
	assert_string_equal(a[2].u.profile.name, "caller");
	assert_int_equal(a[2].u.profile.with_value, 1);
	assert_int_equal(a[2].u.profile.has_value, 1);
	assert_string_equal(a[2].u.profile.value.raw, "$fU");
	assert_part(&a[2].u.profile.value, 0, ROUTE_PV_FROM_USER, NULL);
	assert_int_equal(a[3].type, ROUTE_ACT_SET_DLG_PROFILE);
	assert_string_equal(a[3].u.profile.name, "inbound");
	assert_int_equal(a[3].u.profile.with_value, 0);
	assert_int_equal(a[3].u.profile.has_value, 0);
	assert_int_equal(a[4].type, ROUTE_ACT_DLG_SETFLAG);
	assert_int_equal(a[4].u.flag, 3);
	assert_int_equal(a[5].type, ROUTE_ACT_DLG_RESETFLAG);
	assert_int_equal(a[5].u.flag, 4);
	assert_int_equal(a[6].type, ROUTE_ACT_TIMEOUT);
	assert_int_equal(a[6].u.timeout, 3600);
	assert_int_equal(a[7].type, ROUTE_ACT_SET_DLG_VAR);
	assert_string_equal(a[7].u.var.key, "tenant");
	assert_int_equal(a[7].u.var.value.n_parts, 1);
	assert_part(&a[7].u.var.value, 0, ROUTE_PV_HDR, "X-Tenant");
	assert_int_equal(a[8].type, ROUTE_ACT_TIMEOUT_BYE);
	assert_int_equal(a[8].u.on, 1);
	assert_int_equal(a[9].type, ROUTE_ACT_TIMEOUT_NORESET);
	assert_int_equal(a[9].u.on, 0);
	assert_int_equal(a[10].type, ROUTE_ACT_LOG);
	assert_int_equal(a[10].u.log.n_parts, 5);
	assert_part(&a[10].u.log, 0, ROUTE_PV_NONE, "call ");
	assert_part(&a[10].u.log, 1, ROUTE_PV_CALLID, NULL);
	assert_part(&a[10].u.log, 2, ROUTE_PV_NONE, " from ");
	assert_part(&a[10].u.log, 3, ROUTE_PV_FROM_USER, NULL);
	assert_part(&a[10].u.log, 4, ROUTE_PV_NONE, " costs $1");

	br = &a[11];
	assert_int_equal(br->type, ROUTE_ACT_IF);
	assert_int_equal(br->pos.line, 27);
	assert_int_equal(br->u.branch.cond.n, 2);
	assert_int_equal(br->u.branch.cond.v[0].type, ROUTE_COND_PROFILE_SIZE);
	assert_string_equal(br->u.branch.cond.v[0].u.size.profile.name,
			    "caller");
	assert_int_equal(br->u.branch.cond.v[0].u.size.cmp, ROUTE_CMP_GE);
	assert_int_equal(br->u.branch.cond.v[0].u.size.n, 3);
	assert_int_equal(br->u.branch.cond.v[1].type, ROUTE_COND_DLG_ISFLAGSET);
	assert_int_equal(br->u.branch.cond.v[1].u.flag, 3);
	assert_int_equal(br->u.branch.then_acts.n, 2);
	assert_int_equal(br->u.branch.then_acts.v[0].type, ROUTE_ACT_LOG);
	assert_string_equal(br->u.branch.then_acts.v[0].u.log.raw, "too many");
	assert_int_equal(br->u.branch.then_acts.v[1].type, ROUTE_ACT_REPLY);
	assert_int_equal(br->u.branch.then_acts.v[1].u.reply.code, 486);
	assert_string_equal(br->u.branch.then_acts.v[1].u.reply.reason,
			    "Busy Here");
	assert_int_equal(br->u.branch.else_acts.n, 1);
	inner = &br->u.branch.else_acts.v[0];
	assert_int_equal(inner->type, ROUTE_ACT_IF);
	assert_int_equal(inner->u.branch.cond.n, 1);
	assert_int_equal(inner->u.branch.cond.v[0].type,
			 ROUTE_COND_IS_IN_PROFILE);
	assert_string_equal(inner->u.branch.cond.v[0].u.profile.name, "gw");
	assert_int_equal(inner->u.branch.cond.v[0].u.profile.has_value, 0);
	assert_int_equal(inner->u.branch.then_acts.n, 1);
	assert_int_equal(inner->u.branch.then_acts.v[0].type, ROUTE_ACT_DLG_BYE);
	assert_int_equal(inner->u.branch.then_acts.v[0].u.side, ROUTE_SIDE_ALL);
	assert_int_equal(inner->u.branch.else_acts.n, 0);

	assert_int_equal(a[12].type, ROUTE_ACT_FORWARD);
	assert_int_equal(a[12].u.forward.proto, CFG_PROTO_UDP);
	assert_string_equal(a[12].u.forward.host, "2001:db8::1");
	assert_int_equal(a[12].u.forward.port, 5080);
	assert_int_equal(a[12].u.forward.addr.ss_family, AF_INET6);
	assert_int_equal(a[12].u.forward.addr_len,
			 sizeof(struct sockaddr_in6));
}

static void test_routes_tree(void **state)
{
	struct result r = load_fixture("routes.yaml");
	const struct route_list *l;
	const struct route_rule *rule;

	assert_ok(&r);
	l = &r.cfg->routes;
	assert_int_equal(l->n_rules, 4);

	rule = &l->rules[0];
	assert_string_equal(rule->name, "sequential");
	assert_int_equal(rule->match.n, 2);
	assert_int_equal(rule->match.v[0].type, ROUTE_COND_IN_DIALOG);
	assert_int_equal(rule->match.v[0].u.want, 1);
	assert_int_equal(rule->match.v[1].type, ROUTE_COND_IS_KNOWN_DLG);
	assert_int_equal(rule->match.v[1].u.want, 0);
	assert_int_equal(rule->actions.n, 1);
	assert_int_equal(rule->actions.v[0].type, ROUTE_ACT_DROP);

	check_calls_rule(&l->rules[1]);

	rule = &l->rules[2];
	assert_null(rule->name);
	assert_int_equal(rule->match.n, 2);
	assert_int_equal(rule->match.v[0].type, ROUTE_COND_HEADER);
	assert_string_equal(rule->match.v[0].u.header.name, "X-Refer");
	assert_int_equal(rule->match.v[0].u.header.op, ROUTE_HDR_EQUALS);
	assert_string_equal(rule->match.v[0].u.header.value.raw, "yes");
	assert_int_equal(rule->match.v[1].type, ROUTE_COND_TO_USER);
	assert_string_equal(rule->match.v[1].u.strs.v[0].raw, "bob");
	assert_int_equal(rule->actions.n, 3);
	assert_int_equal(rule->actions.v[0].type, ROUTE_ACT_DLG_REFER);
	assert_int_equal(rule->actions.v[0].u.refer.side, ROUTE_SIDE_CALLEE);
	assert_string_equal(rule->actions.v[0].u.refer.uri.raw,
			    "sip:vm@10.0.0.9");
	assert_int_equal(rule->actions.v[1].type, ROUTE_ACT_UNSET_DLG_PROFILE);
	assert_int_equal(rule->actions.v[2].type, ROUTE_ACT_FORWARD);
	assert_int_equal(rule->actions.v[2].u.forward.proto, CFG_PROTO_TCP);

	rule = &l->rules[3];
	assert_int_equal(rule->match.n, 0);
	assert_int_equal(rule->actions.n, 1);
	assert_int_equal(rule->actions.v[0].type, ROUTE_ACT_REPLY);
	assert_int_equal(rule->actions.v[0].u.reply.code, 404);
	assert_string_equal(rule->actions.v[0].u.reply.reason, "Not Here");
	result_free(&r);
}

static void test_names(void **state)
{
	assert_string_equal(route_cond_name(ROUTE_COND_PROFILE_SIZE),
			    "profile_size");
	assert_string_equal(route_cond_name(0), "?");
	assert_string_equal(route_action_name(ROUTE_ACT_SET_DLG_PROFILE),
			    "set_dlg_profile");
	assert_string_equal(route_action_name(ROUTE_ACT_IF), "if");
	assert_string_equal(route_pv_name(ROUTE_PV_FROM_USER), "$fU");
	assert_string_equal(route_pv_name(ROUTE_PV_DLG_VAR), "$dlg_var");
	assert_string_equal(route_pv_name(ROUTE_PV_NONE), "");
}

/* --- small pieces -------------------------------------------------------- */

/* "~REGEX" values: compiled at load, '$' is an anchor, bad ones reported. */
static void test_regex_values(void **state)
{
	struct result r;
	const struct route_cond *c;

	(void)state;
	r = load_yaml("re.yaml",
		      "routes:\n"
		      "  - match: { ruri_domain: [\"~^example\\\\.(com|org)$\", x.net],\n"
		      "             ruri_user: \"~^\\\\+?49\" }\n"
		      "    actions: [drop]\n");
	assert_ok(&r);
	c = &r.cfg->routes.rules[0].match.v[0];
	assert_int_equal(c->type, ROUTE_COND_RURI_DOMAIN);
	assert_int_equal(c->u.strs.n, 2);
	assert_non_null(c->u.strs.re[0]);
	assert_null(c->u.strs.re[1]);
	assert_int_equal(regexec(c->u.strs.re[0], "EXAMPLE.org", 0, NULL, 0), 0);
	assert_int_not_equal(regexec(c->u.strs.re[0], "example.net", 0, NULL, 0), 0);
	c = &r.cfg->routes.rules[0].match.v[1];
	assert_int_equal(regexec(c->u.strs.re[0], "+4930123", 0, NULL, 0), 0);
	result_free(&r);

	r = load_yaml("re.yaml", "routes:\n"
				 "  - match: { ruri_user: \"~^(12+\" }\n"
				 "    actions: [drop]\n");
	assert_invalid(&r, 1);
	assert_err(&r, "re.yaml:2:25: ruri_user: bad regular expression");
	result_free(&r);
}

/* Kamailio's $DLG_status / $DLG_lifetime / $DLG_count in values. */
static void test_dlg_pvs(void **state)
{
	struct result r;
	const struct route_tpl *t;

	(void)state;
	r = load_yaml("pv.yaml", "routes:\n"
				 "  - actions: [ { log: \"s=$DLG_status l=$DLG_lifetime c=$DLG_count\" }, drop ]\n");
	assert_ok(&r);
	t = &r.cfg->routes.rules[0].actions.v[0].u.log;
	assert_int_equal(t->n_parts, 6);
	assert_int_equal(t->parts[1].pv, ROUTE_PV_DLG_STATUS);
	assert_int_equal(t->parts[3].pv, ROUTE_PV_DLG_LIFETIME);
	assert_int_equal(t->parts[5].pv, ROUTE_PV_DLG_COUNT);
	result_free(&r);
	r = load_yaml("pv.yaml", "routes:\n"
				 "  - actions: [ { log: \"$DLG_state\" }, drop ]\n");
	assert_invalid(&r, 1);
	assert_err(&r, "did you mean '$DLG_status'");
	result_free(&r);
}

/* timeout_route: names a rule, which is then kept for expiries only. */
static void test_timeout_route(void **state)
{
	struct result r;

	(void)state;
	r = load_yaml("tr.yaml", "routes:\n"
				 "  - name: expired\n"
				 "    actions: [ { log: x } ]\n"
				 "  - actions: [ dlg_manage, { timeout_route: expired }, drop ]\n");
	assert_ok(&r);
	assert_true(r.cfg->routes.rules[0].timeout_only);
	assert_false(r.cfg->routes.rules[1].timeout_only);
	assert_string_equal(r.cfg->routes.rules[1].actions.v[1].u.route_name,
			    "expired");
	assert_ptr_equal(route_find(&r.cfg->routes, "expired"),
			 &r.cfg->routes.rules[0]);
	result_free(&r);
	r = load_yaml("tr.yaml", "routes:\n"
				 "  - actions: [ { timeout_route: nope }, drop ]\n");
	assert_invalid(&r, 1);
	assert_err(&r, "tr.yaml:2:18: timeout_route: no rule is named 'nope'");
	result_free(&r);
}

static void test_suggest(void **state)
{
	static const char *const cands[] = { "hash_size", "rr_param",
					     "db_mode", NULL };

	assert_int_equal(cfg_edit_distance("hash_sise", "hash_size"), 1);
	assert_int_equal(cfg_edit_distance("hahs_size", "hash_size"), 1);
	assert_int_equal(cfg_edit_distance("HASH_SIZE", "hash_size"), 0);
	assert_int_equal(cfg_edit_distance("", "abc"), 3);
	assert_string_equal(cfg_suggest("hash_sz", cands), "hash_size");
	assert_string_equal(cfg_suggest("db_mod", cands), "db_mode");
	assert_null(cfg_suggest("timeout", cands));
}

static void test_free_null_and_missing_file(void **state)
{
	struct sipdlg_config *c = (void *)0x1;
	struct result r;

	cfg_free(NULL);
	route_list_free(NULL);

	r = load_fixture("does_not_exist.yaml");
	assert_int_equal(r.rc, -ENOENT);
	assert_null(r.cfg);
	assert_err(&r, "does_not_exist.yaml: cannot read: ");
	result_free(&r);

	/* *out is untouched on failure; errs may be NULL. */
	assert_int_equal(cfg_load_string("x", "dialog: [", 9, NULL, &c),
			 -EINVAL);
	assert_ptr_equal(c, (void *)0x1);
	c = NULL;
	assert_int_equal(cfg_load_string(NULL, "", 0, NULL, &c), 0);
	assert_non_null(c);
	assert_string_equal(c->path, "<string>");
	cfg_free(c);
}

/*
 * A NUL byte cannot reach the database through the rules: a value with
 * one (YAML's "\0") is refused (SIP messages with one are refused by the
 * parser, test_sip_parse.c; rows with one at restore, test_db_row.c).
 */
static void test_nul_in_value_refused(void **state)
{
	static const char yaml[] =
		"routes:\n"
		"  - match: { method: INVITE }\n"
		"    actions:\n"
		"      - dlg_manage\n"
		"      - set_dlg_var: [k, \"a\\0b\"]\n"
		"      - forward: \"udp:127.0.0.1:5080\"\n";
	struct result r = load_yaml("nul.yaml", yaml);

	(void)state;
	assert_int_equal(r.rc, -EINVAL);
	assert_err(&r, "contains a NUL character");
	result_free(&r);
}

/*
 * xdp.cookie_mac.key_file: off by default and when empty; a missing file
 * is fine if its directory exists (created at start); a bad file is
 * refused at the key_file line with the key file's own position; settings
 * the MAC cannot work with are refused.
 */
/*
 * No dialog key is accepted and ignored: every Kamailio parameter the
 * loader does not take as a key is refused with a message naming the
 * YAML way, at the key's own position, and changes nothing; none of them
 * is also in the key table.  (The keys that are taken are proved to have
 * an effect where they act: ka_* and lreq_callee_headers by
 * test_dlg_keepalive and tests/e2e/test_keepalive.sh, the others by the
 * tests of their layer.)
 */
static void test_refused_dialog_keys(void **state)
{
	static const char *const script_only[] = {
		"dlg_flag", "timeout_avp", "initial_cbs_inscript", "ruri_pvar",
		"wait_ack", "keep_proxy_rr", "track_cseq_updates",
		"dlg_filter_mode",
	};
	const char *name;
	size_t i;

	for (i = 0; (name = cfg_dialog_refused_name(i)); i++) {
		char yaml[128], want[128];
		struct result r;

		for (const struct cfg_key *k = cfg_dialog_keys; k->name; k++)
			assert_string_not_equal(k->name, name);
		snprintf(yaml, sizeof(yaml), "dialog:\n  hash_size: 8\n"
			 "  %s: 1\n", name);
		snprintf(want, sizeof(want), "s.yaml:3:3: %s: not supported: ",
			 name);
		r = load_yaml("s.yaml", yaml);
		assert_invalid(&r, 1);
		assert_err(&r, want);
		result_free(&r);
	}
	assert_int_equal(i, sizeof(script_only) / sizeof(script_only[0]));
	for (i = 0; i < sizeof(script_only) / sizeof(script_only[0]); i++)
		assert_non_null(cfg_dialog_refused(script_only[i]));
	/* The messages name the YAML way. */
	assert_non_null(strstr(cfg_dialog_refused("dlg_flag"), "dlg_manage"));
	assert_non_null(strstr(cfg_dialog_refused("timeout_avp"), "timeout:"));
	assert_null(cfg_dialog_refused("ka_timer"));
}

/* Keep-alives: the keys work together and with dlg_keepalive; a key of
 * theirs given while they are off would be ignored, so it is refused. */
static void test_keepalive_keys(void **state)
{
	static const char routes[] =
		"routes:\n"
		"  - actions: [ dlg_manage, { dlg_keepalive: callee },\n"
		"               { forward: \"udp:127.0.0.1:5080\" } ]\n";
	char yaml[512];
	struct result r;

	snprintf(yaml, sizeof(yaml), "dialog: { ka_timer: 1, ka_interval: 2, "
		 "ka_failed_limit: 3 }\n%s", routes);
	r = load_yaml("k.yaml", yaml);
	assert_ok(&r);
	assert_int_equal(r.cfg->dialog.ka_timer, 1);
	assert_int_equal(r.cfg->dialog.ka_interval, 2);
	assert_int_equal(r.cfg->dialog.ka_failed_limit, 3);
	assert_int_equal(r.cfg->routes.rules[0].actions.v[1].type,
			 ROUTE_ACT_DLG_KEEPALIVE);
	assert_int_equal(r.cfg->routes.rules[0].actions.v[1].u.ka_sides,
			 ROUTE_KA_CALLEE);
	result_free(&r);

	r = load_yaml("k.yaml", routes);
	assert_invalid(&r, 1);
	assert_err(&r, "k.yaml:2:45: dlg_keepalive: keep-alives are off; set "
		   "dialog: ka_timer and ka_interval");
	result_free(&r);

	r = load_yaml("k.yaml", "dialog:\n  ka_interval: 30\n"
		      "  ka_failed_limit: 2\n");
	assert_invalid(&r, 2);
	assert_err(&r, "k.yaml:2:16: ka_interval: keep-alives are off unless "
		   "ka_timer and ka_interval are both > 0");
	assert_err(&r, "k.yaml:3:20: ka_failed_limit: keep-alives are off");
	result_free(&r);

	r = load_yaml("k.yaml", "dialog: { ka_timer: 1, ka_interval: 2 }\n"
		      "routes:\n  - actions: [ { dlg_keepalive: sideways } ]\n");
	assert_invalid(&r, 1);
	assert_err(&r, "dlg_keepalive: 'sideways' is not one of none, caller, "
		   "callee, both");
	result_free(&r);
}

/* xdp.invite_limit: the values reach the config; off by default and
 * with pps 0 (burst then free). */
static void test_invite_limit(void **state)
{
	struct result r;

	r = load_yaml("i.yaml", "xdp: {}\n");
	assert_ok(&r);
	assert_int_equal(r.cfg->xdp.invite_limit_pps, 0);
	assert_int_equal(r.cfg->xdp.invite_limit_burst, 0);
	result_free(&r);
	r = load_yaml("i.yaml", "xdp:\n  invite_limit: { per_source_pps: 20, "
			       "burst: 40 }\n");
	assert_ok(&r);
	assert_int_equal(r.cfg->xdp.invite_limit_pps, 20);
	assert_int_equal(r.cfg->xdp.invite_limit_burst, 40);
	result_free(&r);
	r = load_yaml("i.yaml", "xdp:\n  invite_limit: { per_source_pps: 0 }\n");
	assert_ok(&r);
	assert_int_equal(r.cfg->xdp.invite_limit_pps, 0);
	result_free(&r);
	r = load_yaml("i.yaml", "xdp:\n  invite_limit: { per_source_pps: "
			       "1000000, burst: 1000000 }\n");
	assert_ok(&r);
	assert_int_equal(r.cfg->xdp.invite_limit_pps, 1000000);
	result_free(&r);
}

static void test_cookie_mac(void **state)
{
	char dir[] = "/tmp/sipdlg-cfgmac.XXXXXX", key[64], yaml[512];
	struct result r;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(key, sizeof(key), "%s/mac.key", dir);

	r = load_yaml("m.yaml", "xdp: {}\n");
	assert_ok(&r);
	assert_string_equal(r.cfg->xdp.mac_key_file, "");
	result_free(&r);
	r = load_yaml("m.yaml", "xdp:\n  cookie_mac: { key_file: \"\" }\n");
	assert_ok(&r);
	assert_string_equal(r.cfg->xdp.mac_key_file, "");
	result_free(&r);
	r = load_yaml("m.yaml", "xdp:\n  cookie_mac:\n");
	assert_ok(&r);
	result_free(&r);

	/* not there yet: created at start */
	snprintf(yaml, sizeof(yaml), "xdp:\n  cookie_mac: { key_file: %s }\n",
		 key);
	r = load_yaml("m.yaml", yaml);
	assert_ok(&r);
	assert_string_equal(r.cfg->xdp.mac_key_file, key);
	result_free(&r);

	/* a good file */
	f = fopen(key, "w");
	assert_non_null(f);
	fputs("000102030405060708090a0b0c0d0e0f\n", f);
	fclose(f);
	assert_int_equal(chmod(key, 0600), 0);
	r = load_yaml("m.yaml", yaml);
	assert_ok(&r);
	result_free(&r);

	/* group-readable */
	assert_int_equal(chmod(key, 0640), 0);
	r = load_yaml("m.yaml", yaml);
	assert_invalid(&r, 1);
	assert_err(&r, "m.yaml:2:27: cookie_mac.key_file: ");
	assert_err(&r, "(mode 0640)");
	assert_err(&r, "chmod 600");
	result_free(&r);

	/* not hex: the key file's line and column */
	f = fopen(key, "w");
	fputs("000102030405060708090a0b0c0d0e0f\n00010203040506070809zz\n", f);
	fclose(f);
	assert_int_equal(chmod(key, 0600), 0);
	r = load_yaml("m.yaml", yaml);
	assert_invalid(&r, 1);
	assert_err(&r, "/mac.key:2:21: 'z' is not a hex digit");
	result_free(&r);
	unlink(key);
	assert_int_equal(rmdir(dir), 0);

	r = load_yaml("m.yaml", "xdp:\n  cookie_mac: { key_file: mac.key }\n");
	assert_invalid(&r, 1);
	assert_err(&r, "m.yaml:2:27: cookie_mac.key_file: 'mac.key' must be an "
		   "absolute path");
	result_free(&r);
	r = load_yaml("m.yaml", "xdp:\n  cookie_mac: { key_file: "
		      "/nonexistent-sipdlg/mac.key }\n");
	assert_invalid(&r, 1);
	assert_err(&r, "no directory /nonexistent-sipdlg");
	result_free(&r);
	r = load_yaml("m.yaml", "xdp:\n  cookie_mac: { keyfile: /x }\n");
	assert_invalid(&r, 1);
	assert_err(&r, "unknown key 'keyfile' in xdp.cookie_mac (did you mean "
		   "'key_file'?)");
	result_free(&r);
	r = load_yaml("m.yaml", "xdp:\n  cookie_mac: /etc/mac.key\n");
	assert_invalid(&r, 1);
	result_free(&r);

	/* settings the MAC cannot work with */
	r = load_yaml("m.yaml", "xdp:\n  enabled: false\n"
		      "  cookie_mac: { key_file: /tmp/mac.key }\n");
	assert_invalid(&r, 1);
	assert_err(&r, "m.yaml:3:27: cookie_mac: the MAC is checked by the XDP "
		   "program, but xdp.enabled is false");
	result_free(&r);
	r = load_yaml("m.yaml", "dialog: { dlg_match_mode: 2 }\n"
		      "xdp:\n  cookie_mac: { key_file: /tmp/mac.key }\n");
	assert_invalid(&r, 1);
	assert_err(&r, "dlg_match_mode 2 puts no cookie");
	result_free(&r);
}

/* --- cluster: ------------------------------------------------------------ */

#define CL_DB "dialog:\n  db_mode: 1\n  db_url: \"mysql://u@unix(/s)/d\"\n" \
	      "  profiles_with_value: [caller]\n"

static void test_cluster_ok(void **state)
{
	struct result r = load_yaml("c.yaml", CL_DB
		"cluster: { node_id: 3, nodes: 4, address: \"10.0.0.3:5060\","
		" heartbeat_interval: 2, takeover_after: 5, backup_of: [1, 2],"
		" profiles: [caller] }\n");
	const struct cfg_cluster *c;

	assert_ok(&r);
	c = &r.cfg->cluster;
	assert_int_equal(c->enabled, 1);
	assert_int_equal(c->node_id, 3);
	assert_int_equal(c->nodes, 4);
	assert_string_equal(c->address, "10.0.0.3:5060");
	assert_int_equal(c->heartbeat_interval, 2);
	assert_int_equal(c->takeover_after, 5);
	assert_int_equal(c->n_backup_of, 2);
	assert_int_equal(c->backup_of[1], 2);
	assert_int_equal(c->n_profiles, 1);
	assert_string_equal(c->profiles[0], "caller");
	/* Kamailio's scheme: node N makes ids with h_id % nodes == N - 1 */
	assert_int_equal(r.cfg->dialog.h_id_start, 2);
	assert_int_equal(r.cfg->dialog.h_id_step, 4);
	result_free(&r);

	/* no cluster: section: one box, nothing set */
	r = load_yaml("c.yaml", CL_DB);
	assert_ok(&r);
	assert_int_equal(r.cfg->cluster.enabled, 0);
	assert_int_equal(r.cfg->dialog.h_id_step, 1);
	result_free(&r);

	/* explicit h_id_* that agree are accepted */
	r = load_yaml("c.yaml", CL_DB "  h_id_start: 1\n  h_id_step: 2\n"
		      "cluster: { node_id: 2, nodes: 2 }\n");
	assert_ok(&r);
	result_free(&r);
}

/*
 * An item of a list that is not a usable scalar is refused at its own
 * position (config_list.c), whichever key the list is; the other items
 * are still checked.
 */
static void test_list_bad_items(void **state)
{
	static const struct {
		const char *yaml;
		size_t n;
		const char *want;
	} cases[] = {
		{ "xdp:\n  interfaces: [lo, {a: b}, eth0]\n", 1,
		  "l.yaml:2:20: interfaces: expected a string, got a map" },
		{ "proxy:\n  supported: [timer, [x]]\n", 1,
		  "l.yaml:2:22: supported: expected a string, got a list" },
		{ "proxy:\n  supported: [timer, [x], \"a b\"]\n", 2,
		  "l.yaml:2:27: supported: 'a b' is not an option tag" },
		{ CL_DB "cluster: { node_id: 1, nodes: 2, profiles: "
		  "[caller, ~] }\n", 1,
		  "l.yaml:5:53: profiles: expected a string, got nothing" },
		{ CL_DB "cluster: { node_id: 1, nodes: 2, backup_of: "
		  "[2, x] }\n", 1,
		  "l.yaml:5:49: backup_of: expected an integer, got 'x'" },
		{ "xdp:\n  relay: { methods: [INFO, {a: b}] }\n", 1,
		  "l.yaml:2:28: relay.methods: expected a string, got a map" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r = load_yaml("l.yaml", cases[i].yaml);

		assert_invalid(&r, cases[i].n);
		assert_err(&r, cases[i].want);
		result_free(&r);
	}
}

/* More profiles than fit (CFG_MAX_PROFILES) are refused, not dropped. */
static void cluster_too_many_profiles(void)
{
	char yaml[4096], list[1024] = "";
	size_t used = 0;
	struct result r;

	for (int i = 0; i <= CFG_MAX_PROFILES; i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used,
					 "%sp%d", i ? ", " : "", i);
	assert_true(used < sizeof(list));
	/* p0..p63 with a value, p64 without: all 65 declared */
	snprintf(yaml, sizeof(yaml), "dialog:\n  db_mode: 1\n"
		 "  db_url: \"mysql://u@unix(/s)/d\"\n"
		 "  profiles_with_value: [%.*s]\n"
		 "  profiles_no_value: [p%d]\n"
		 "cluster: { node_id: 1, nodes: 2, profiles: [%s] }\n",
		 (int)(strrchr(list, ',') - list), list, CFG_MAX_PROFILES,
		 list);
	r = load_yaml("c.yaml", yaml);
	assert_invalid(&r, 1);
	assert_err(&r, "profiles: at most 64 profiles");
	result_free(&r);
}

static void test_cluster_refused(void **state)
{
	struct result r;

	r = load_yaml("c.yaml", CL_DB "cluster: { node_id: 3, nodes: 2 }\n");
	assert_invalid(&r, 1);
	assert_err(&r, "c.yaml:5:21: node_id: 3 is more than nodes (2)");
	result_free(&r);

	r = load_yaml("c.yaml", "dialog: { db_mode: 2, db_url: \"mysql://u@h/d\" }\n"
		      "cluster: { node_id: 1, nodes: 2 }\n");
	assert_invalid(&r, 1);
	assert_err(&r, "c.yaml:1:20: cluster: needs dialog.db_mode: 1");
	result_free(&r);

	r = load_yaml("c.yaml", "cluster: { node_id: 1, nodes: 2 }\n");
	assert_invalid(&r, 1);
	assert_err(&r, "c.yaml:1:10: cluster: needs dialog.db_mode: 1");
	result_free(&r);

	r = load_yaml("c.yaml", "dialog: { db_mode: 1 }\n"
		      "cluster: { node_id: 1, nodes: 2 }\n");
	assert_err(&r, "cluster: needs dialog.db_url");
	result_free(&r);

	r = load_yaml("c.yaml", CL_DB "  h_id_start: 0\n  h_id_step: 3\n"
		      "cluster: { node_id: 2, nodes: 2 }\n");
	assert_invalid(&r, 2);
	assert_err(&r, "c.yaml:5:15: h_id_start: 0 disagrees with cluster "
		   "node_id 2");
	assert_err(&r, "c.yaml:6:14: h_id_step: 3 disagrees with cluster "
		   "nodes 2");
	result_free(&r);

	r = load_yaml("c.yaml", CL_DB "cluster: { nodes: 2 }\n");
	assert_invalid(&r, 1);
	assert_err(&r, "c.yaml:5:10: cluster: node_id is missing");
	result_free(&r);

	r = load_yaml("c.yaml", CL_DB "cluster: { node_id: 1 }\n");
	assert_invalid(&r, 1);
	assert_err(&r, "cluster: nodes is missing");
	result_free(&r);

	r = load_yaml("c.yaml", CL_DB "cluster: { node_id: 1, nodes: 2,"
		      " heartbeat_interval: 3, takeover_after: 3 }\n");
	assert_invalid(&r, 1);
	assert_err(&r, "takeover_after: 3 s is not more than "
		   "heartbeat_interval (3 s)");
	result_free(&r);

	r = load_yaml("c.yaml", CL_DB "cluster: { node_id: 1, nodes: 2,"
		      " backup_of: [1, 3, 2, 2] }\n");
	assert_invalid(&r, 3);
	assert_err(&r, "backup_of: node 1 is this node");
	assert_err(&r, "backup_of: node 3 is more than nodes (2)");
	assert_err(&r, "backup_of: node 2 is listed twice");
	result_free(&r);

	r = load_yaml("c.yaml", CL_DB "cluster: { node_id: 1, nodes: 2,"
		      " profiles: [caller, nope] }\n");
	assert_invalid(&r, 1);
	assert_err(&r, "profiles: 'nope' is not declared");
	result_free(&r);

	cluster_too_many_profiles();

	r = load_yaml("c.yaml", CL_DB "cluster: { node_id: 1, nodes: 2,"
		      " address: \"a b\", tko: 1 }\n");
	assert_invalid(&r, 2);
	assert_err(&r, "address:");
	assert_err(&r, "tko");
	result_free(&r);

	r = load_yaml("c.yaml", CL_DB "cluster: [1, 2]\n");
	assert_invalid(&r, 1);
	result_free(&r);
}

/* xdp.relay: on for the five methods by default; lifecycle methods and
 * unknown names refused at their position. */
static void test_relay(void **state)
{
	struct result r;

	(void)state;
	r = load_yaml("r.yaml", "xdp: {}\n");
	assert_ok(&r);
	assert_int_equal(r.cfg->xdp.relay_enabled, CFG_RELAY_DEFAULT_ENABLED);
	assert_int_equal(r.cfg->xdp.relay_methods,
			 (1u << 5) | (1u << 6) | (1u << 7) | (1u << 10) |
				 (1u << 11));
	result_free(&r);
	r = load_yaml("r.yaml", "xdp:\n  relay: { enabled: false }\n");
	assert_ok(&r);
	assert_int_equal(r.cfg->xdp.relay_enabled, 0);
	result_free(&r);
	r = load_yaml("r.yaml", "xdp:\n  relay: { methods: [OPTIONS] }\n");
	assert_ok(&r);
	assert_int_equal(r.cfg->xdp.relay_methods, 1u << 5);
	result_free(&r);
	r = load_yaml("r.yaml", "xdp:\n  relay: { methods: INFO }\n");
	assert_ok(&r);
	assert_int_equal(r.cfg->xdp.relay_methods, 1u << 6);
	result_free(&r);
	r = load_yaml("r.yaml", "xdp:\n  relay: { methods: [] }\n");
	assert_ok(&r);
	assert_int_equal(r.cfg->xdp.relay_methods, 0);
	result_free(&r);

	r = load_yaml("r.yaml", "xdp:\n  relay: { methods: [INFO, BYE] }\n");
	assert_invalid(&r, 1);
	assert_err(&r, "r.yaml:2:28: relay.methods: BYE is never relayed in "
		   "the kernel: a BYE ends the dialog");
	result_free(&r);
	r = load_yaml("r.yaml", "xdp:\n  relay:\n    methods: [INVITE, ACK, "
		      "CANCEL, PRACK, REFER]\n");
	assert_invalid(&r, 5);
	assert_err(&r, "r.yaml:3:15: relay.methods: INVITE is never relayed");
	assert_err(&r, "r.yaml:3:43: relay.methods: REFER is never relayed");
	result_free(&r);
	r = load_yaml("r.yaml", "xdp:\n  relay: { methods: [info] }\n");
	assert_invalid(&r, 1);
	assert_err(&r, "'info': SIP method names are case-sensitive; write "
		   "INFO");
	result_free(&r);
	r = load_yaml("r.yaml", "xdp:\n  relay: { methods: [SUBSCRIBE] }\n");
	assert_invalid(&r, 1);
	assert_err(&r, "r.yaml:2:22: relay.methods: 'SUBSCRIBE' cannot be "
		   "relayed in the kernel");
	result_free(&r);
	r = load_yaml("r.yaml", "xdp:\n  relay: { methods: [INFO, INFO] }\n");
	assert_invalid(&r, 1);
	assert_err(&r, "'INFO' is listed twice");
	result_free(&r);
	r = load_yaml("r.yaml", "xdp:\n  relay: { methods: {a: b} }\n");
	assert_invalid(&r, 1);
	result_free(&r);
	r = load_yaml("r.yaml", "xdp:\n  relay: { enable: true }\n");
	assert_invalid(&r, 1);
	assert_err(&r, "unknown key 'enable' in xdp.relay");
	result_free(&r);
	r = load_yaml("r.yaml", "xdp:\n  relay: { enabled: maybe }\n");
	assert_invalid(&r, 1);
	result_free(&r);

	/* relay.ack: the ACK of the 2xx, on by default, a switch of its own
	 * (ACK stays refused in methods, the message says where it is) */
	r = load_yaml("r.yaml", "xdp: {}\n");
	assert_ok(&r);
	assert_int_equal(r.cfg->xdp.relay_ack, 1);
	result_free(&r);
	r = load_yaml("r.yaml", "xdp:\n  relay: { ack: false }\n");
	assert_ok(&r);
	assert_int_equal(r.cfg->xdp.relay_ack, 0);
	assert_true(cfg_relay_on(r.cfg));
	result_free(&r);
	r = load_yaml("r.yaml", "xdp:\n  relay: { methods: [], ack: true }\n");
	assert_ok(&r);
	assert_true(cfg_relay_on(r.cfg));	/* the ACK alone */
	result_free(&r);
	r = load_yaml("r.yaml", "xdp:\n  relay: { methods: [], ack: false }\n");
	assert_ok(&r);
	assert_false(cfg_relay_on(r.cfg));
	result_free(&r);
	r = load_yaml("r.yaml", "xdp:\n  relay: { ack: maybe }\n");
	assert_invalid(&r, 1);
	assert_err(&r, "r.yaml:2:17: ack: expected true or false, got 'maybe'");
	result_free(&r);
	r = load_yaml("r.yaml", "xdp:\n  relay: { ack: [ACK] }\n");
	assert_invalid(&r, 1);
	result_free(&r);
	r = load_yaml("r.yaml", "xdp:\n  relay: { methods: [ACK] }\n");
	assert_invalid(&r, 1);
	assert_err(&r, "(the ACK of the 2xx that confirms a dialog: "
		   "xdp.relay.ack)");
	result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_defaults_match_kamailio),
		cmocka_unit_test(test_empty_file_is_all_defaults),
		cmocka_unit_test(test_default_file),
		cmocka_unit_test(test_tcp_section),
		cmocka_unit_test(test_default_file_documents_every_parameter),
		cmocka_unit_test(test_yaml_syntax_error),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_hash_size),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_timeouts_must_be_positive),
		cmocka_unit_test(test_rr_param),
		cmocka_unit_test(test_profile_in_both_lists),
		cmocka_unit_test(test_listen_malformed),
		cmocka_unit_test(test_ipv6_listen),
		cmocka_unit_test(test_db_mode_needs_db_url),
		cmocka_unit_test(test_routes_unknown_and_invalid),
		cmocka_unit_test(test_routes_shapes),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_many_errors_all_reported),
		cmocka_unit_test(test_alias_names),
		cmocka_unit_test(test_profiles_string_form),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_cluster_ok),
		cmocka_unit_test(test_cluster_refused),
		cmocka_unit_test(test_list_bad_items),
		cmocka_unit_test(test_section_errors),
		cmocka_unit_test(test_routes_tree),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_regex_values),
		cmocka_unit_test(test_dlg_pvs),
		cmocka_unit_test(test_timeout_route),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_free_null_and_missing_file),
		cmocka_unit_test(test_nul_in_value_refused),
		cmocka_unit_test(test_invite_limit),
		cmocka_unit_test(test_cookie_mac),
		cmocka_unit_test(test_relay),
		cmocka_unit_test(test_refused_dialog_keys),
		cmocka_unit_test(test_keepalive_keys),
		cmocka_unit_test(test_tls_section),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
