/*
 * test_metrics.c - the Prometheus endpoint's pieces without HTTP: the
 * text format writer (label and HELP escaping, invalid UTF-8, names),
 * the whole exposition from a statistics registry and a dialog table
 * (every family announced by HELP and TYPE before its samples, no
 * series twice, counters vs gauges, the profile values: biggest first,
 * at most max_values_per_profile, hostile values escaped, long ones cut
 * with their hash), the profile snapshot while another thread adds
 * values, and the metrics: config section.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/obuf.h"
#include "core/stats.h"
#include "core/timer.h"
#include "dialog/dlg.h"
#include "metrics/metrics.h"
#include "metrics/prom_text.h"

/* The escaped form of @len bytes of @s, as a C string (static buffer). */
static const char *esc(const char *s, size_t len)
{
	static char out[512];
	struct obuf o;

	ob_init(&o, OBUF_UNLIMITED);
	prom_label_value(&o, s, len);
	assert_false(o.overflow);
	assert_true(o.len < sizeof(out));
	memcpy(out, o.buf ? o.buf : "", o.len);
	out[o.len] = '\0';
	ob_free(&o);
	return out;
}
#define ESC(lit) esc(lit, sizeof(lit) - 1)

static void test_label_escaping(void **state)
{
	assert_string_equal(ESC("alice"), "alice");
	assert_string_equal(ESC(""), "");
	assert_string_equal(ESC("a\\b"), "a\\\\b");
	assert_string_equal(ESC("say \"hi\""), "say \\\"hi\\\"");
	assert_string_equal(ESC("two\nlines"), "two\\nlines");
	/* Valid UTF-8 passes as is: 2, 3 and 4 byte sequences. */
	assert_string_equal(ESC("J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x93\x9e"),
			    "J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x93\x9e");
	/* Not UTF-8: each offending byte as \xHH, its backslash escaped. */
	assert_string_equal(ESC("a\xff" "b"), "a\\\\xFFb");
	assert_string_equal(ESC("\xc0\x80"), "\\\\xC0\\\\x80");	/* overlong */
	assert_string_equal(ESC("\xed\xa0\x80"),	/* a surrogate */
			    "\\\\xED\\\\xA0\\\\x80");
	assert_string_equal(ESC("\xf4\x90\x80\x80"),	/* past U+10FFFF */
			    "\\\\xF4\\\\x90\\\\x80\\\\x80");
	assert_string_equal(ESC("\xe2\x82"), "\\\\xE2\\\\x82");	/* cut short */
	/* A NUL inside the value is a byte like another (valid UTF-8). */
	assert_int_equal(strlen(esc("a\0b", 3)), 1);
	/* Everything at once: the quote cannot end the label early. */
	assert_string_equal(ESC("\"}\n\\x"), "\\\"}\\n\\\\x");
}

static void test_family_and_samples(void **state)
{
	struct obuf o;
	struct prom_label l[2] = {
		{ "profile", "caller", 6 },
		{ "value", "a\"b", 3 },
	};
	const char *want =
		"# HELP sipdlg_x_total A help with a \\\\ and a \\n newline.\n"
		"# TYPE sipdlg_x_total counter\n"
		"sipdlg_x_total 42\n"
		"sipdlg_x_total{profile=\"caller\",value=\"a\\\"b\"} -7\n"
		"sipdlg_x_total 0.5\n"
		"sipdlg_x_total NaN\n"
		"sipdlg_x_total +Inf\n";

	ob_init(&o, OBUF_UNLIMITED);
	prom_family(&o, "sipdlg_x_total", "counter",
		    "A help with a \\ and a \n newline.");
	prom_sample_i64(&o, "sipdlg_x_total", NULL, 0, 42);
	prom_sample_i64(&o, "sipdlg_x_total", l, 2, -7);
	prom_sample_f64(&o, "sipdlg_x_total", NULL, 0, 0.5);
	prom_sample_f64(&o, "sipdlg_x_total", NULL, 0, 0.0 / 0.0);
	prom_sample_f64(&o, "sipdlg_x_total", NULL, 0, 1.0 / 0.0);
	assert_string_equal(ob_cstr(&o), want);
	ob_free(&o);
}

static void test_names(void **state)
{
	char n[PROM_NAME_MAX];
	const char *a[] = { "sipdlg", "core", "rcv_bytes", "total" };
	const char *b[] = { "sipdlg", "my-group", "a.b c" };
	const char *c[] = { "9lives" };
	char longer[300];

	assert_string_equal(prom_name(n, a, 4), "sipdlg_core_rcv_bytes_total");
	assert_string_equal(prom_name(n, b, 3), "sipdlg_my_group_a_b_c");
	assert_string_equal(prom_name(n, c, 1), "_9lives");
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	{
		const char *d[] = { "sipdlg", longer };

		assert_int_equal(strlen(prom_name(n, d, 2)), PROM_NAME_MAX - 1);
	}
}

/* ---- a dialog table with profiles --------------------------------- */

static const char *const prof_wv[] = { "caller" };
static const char *const prof_nv[] = { "inbound" };

struct env {
	struct tmr_service *ts;
	struct dlg_table *t;
	struct dlg_profile *caller, *inbound;
	struct stats *st;
};

static void env_up(struct env *e)
{
	struct dlg_config c;

	memset(e, 0, sizeof(*e));
	memset(&c, 0, sizeof(c));
	c.hash_size = 256;
	c.rr_param = "did";
	c.default_timeout_ms = 3600 * 1000;
	c.early_timeout_ms = 300 * 1000;
	c.end_timeout_ms = 300 * 1000;
	c.profiles_with_value = prof_wv;
	c.n_profiles_with_value = 1;
	c.profiles_no_value = prof_nv;
	c.n_profiles_no_value = 1;
	e->st = stats_alloc();
	assert_non_null(e->st);
	e->ts = tmr_service_alloc();
	assert_int_equal(tmr_service_start(e->ts), 0);
	assert_int_equal(dlg_table_alloc(&c, e->ts, NULL, &e->t), 0);
	e->caller = dlg_profile_lookup(e->t, sip_str_c("caller"));
	e->inbound = dlg_profile_lookup(e->t, sip_str_c("inbound"));
	assert_non_null(e->caller);
	assert_non_null(e->inbound);
}

static void env_down(struct env *e)
{
	tmr_service_free(e->ts);
	dlg_table_free(e->t);
	stats_free(e->st);
}

static struct dlg_cell *mk(struct env *e, const char *callid)
{
	struct dlg_invite inv;
	struct dlg_cell *c = NULL;

	memset(&inv, 0, sizeof(inv));
	inv.callid = sip_str_c(callid);
	inv.from_tag = sip_str_c("ft");
	inv.contact = sip_str_c("sip:a@10.0.0.1");
	assert_int_equal(dlg_manage(e->t, &inv, NULL, &c), DLG_RC_CREATED);
	return c;
}

static void setv(struct dlg_cell *c, struct dlg_profile *p, const char *v,
		 size_t len)
{
	assert_int_equal(dlg_profile_set(c, p, sip_str_mk(v, len)), 0);
}

/*
 * The exposition's shape, line by line: every sample's metric has had
 * "# HELP" and "# TYPE" lines (in that order, once each), the samples of
 * a family follow its TYPE without another family in between, and no
 * series (name plus labels) appears twice.  Returns the text's number of
 * samples.
 */
static size_t check_shape(const char *text)
{
	char *copy = strdup(text), *save = NULL, *line;
	char **series = NULL, cur[PROM_NAME_MAX] = "", help[PROM_NAME_MAX] = "";
	size_t n = 0;

	assert_non_null(copy);
	assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[PROM_NAME_MAX];
		size_t k;

		if (!strncmp(line, "# HELP ", 7)) {
			k = strcspn(line + 7, " ");
			assert_true(k < sizeof(help));
			memcpy(help, line + 7, k);
			help[k] = '\0';
			assert_true(line[7 + k] == ' ' && line[8 + k]);
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			k = strcspn(line + 7, " ");
			assert_true(k < sizeof(cur));
			memcpy(cur, line + 7, k);
			cur[k] = '\0';
			assert_string_equal(cur, help);	/* HELP just before */
			assert_true(!strcmp(line + 8 + k, "counter") ||
				    !strcmp(line + 8 + k, "gauge"));
			/* each family once */
			for (size_t i = 0; i < n; i++) {
				size_t l = strcspn(series[i], "{ ");

				assert_false(l == k &&
					     !strncmp(series[i], cur, k));
			}
			continue;
		}
		assert_true(line[0] != '#');
		k = strcspn(line, "{ ");
		assert_true(k < sizeof(name));
		memcpy(name, line, k);
		name[k] = '\0';
		assert_string_equal(name, cur);
		/* the series: all but the value after the last space */
		*strrchr(line, ' ') = '\0';
		for (size_t i = 0; i < n; i++)
			if (!strcmp(series[i], line))
				fail_msg("series twice: %s", line);
		series = realloc(series, (n + 1) * sizeof(*series));
		assert_non_null(series);
		series[n++] = strdup(line);
	}
	for (size_t i = 0; i < n; i++)
		free(series[i]);
	free(series);
	free(copy);
	return n;
}

/* The value of the sample whose text before the value is @series; -1
 * if absent. */
static long long sample(const char *text, const char *series)
{
	size_t l = strlen(series);

	for (const char *p = text; (p = strstr(p, series)); p += l)
		if ((p == text || p[-1] == '\n') && p[l] == ' ')
			return atoll(p + l + 1);
	return -1;
}

static char *collect(struct env *e, uint32_t max_values)
{
	struct metrics_sources src = {
		.stats = e->st, .dlg = e->t, .start_time = 1700000000,
		.max_values_per_profile = max_values, .version = "9.9.9",
	};
	struct obuf o;

	ob_init(&o, OBUF_UNLIMITED);
	metrics_collect(&src, &o);
	assert_false(o.overflow);
	return ob_take(&o);
}

static void test_exposition(void **state)
{
	struct env e;
	struct dlg_cell *a, *b, *c;
	char *text, longv[300];
	struct stat_var *active, *proc, *open;

	env_up(&e);
	active = stats_register(e.st, "dialog", "active_dialogs",
				STAT_NO_RESET);
	proc = stats_register(e.st, "dialog", "processed_dialogs", 0);
	open = stats_register(e.st, "core", "tcp_open", STAT_NO_RESET);
	stats_register(e.st, "core", "rcv_bytes", 0);
	stat_set(active, 3);
	stat_set(proc, 11);
	stat_set(open, 2);

	a = mk(&e, "a@x");
	b = mk(&e, "b@x");
	c = mk(&e, "c@x");
	setv(a, e.caller, "alice", 5);
	setv(b, e.caller, "alice", 5);
	setv(c, e.caller, "alice", 5);
	setv(a, e.caller, "bob", 3);
	setv(b, e.caller, "bob", 3);
	setv(a, e.caller, "x\"}\n\\", 5);		/* hostile */
	setv(a, e.caller, "\xff", 1);			/* not UTF-8 */
	setv(b, e.caller, "\\xFF", 4);		/* renders alike */
	memset(longv, 'L', sizeof(longv));
	setv(a, e.caller, longv, sizeof(longv));
	assert_int_equal(dlg_profile_set(a, e.inbound, SIP_STR_NULL), 0);
	assert_int_equal(dlg_profile_set(b, e.inbound, SIP_STR_NULL), 0);

	text = collect(&e, 100);
	check_shape(text);
	assert_non_null(strstr(text, "# TYPE sipdlg_dialogs_active gauge\n"
				     "sipdlg_dialogs_active 3\n"));
	assert_non_null(strstr(text, "# TYPE sipdlg_dialogs_processed_total "
				     "counter\nsipdlg_dialogs_processed_total "
				     "11\n"));
	assert_non_null(strstr(text, "# TYPE sipdlg_core_tcp_open gauge\n"));
	assert_non_null(strstr(text, "# TYPE sipdlg_core_rcv_bytes_total "
				     "counter\n"));
	assert_int_equal(sample(text, "sipdlg_build_info{version=\"9.9.9\"}"),
			 1);
	assert_int_equal(sample(text, "sipdlg_profile_size{profile=\"caller\"}"),
			 9);
	assert_int_equal(sample(text, "sipdlg_profile_size{profile=\"inbound\"}"),
			 2);
	assert_int_equal(sample(text,
				"sipdlg_profile_values{profile=\"caller\"}"),
			 6);
	assert_int_equal(sample(text,
				"sipdlg_profile_values{profile=\"inbound\"}"),
			 -1);	/* no values without value */
	assert_int_equal(sample(text, "sipdlg_profile_value_size{profile="
				      "\"caller\",value=\"alice\"}"), 3);
	assert_int_equal(sample(text, "sipdlg_profile_value_size{profile="
				      "\"caller\",value=\"bob\"}"), 2);
	assert_int_equal(sample(text, "sipdlg_profile_value_size{profile="
				      "\"caller\",value=\"x\\\"}\\n\\\\\"}"),
			 1);
	/* "\xff" and the four characters "\xFF" render alike: one sample. */
	assert_int_equal(sample(text, "sipdlg_profile_value_size{profile="
				      "\"caller\",value=\"\\\\xFF\"}"), 1);
	/* biggest first */
	assert_true(strstr(text, "value=\"alice\"") <
		    strstr(text, "value=\"bob\""));
	/* the long value: its first DLG_PROFILE_TOP_VALUE_MAX bytes and
	 * its hash */
	{
		char *p = strstr(text, "value=\"LLLL");
		size_t k;

		assert_non_null(p);
		p += 7;
		k = strspn(p, "L");
		assert_int_equal(k, DLG_PROFILE_TOP_VALUE_MAX);
		assert_memory_equal(p + k, "...#", 4);
		assert_int_equal(strspn(p + k + 4, "0123456789abcdef"), 8);
		assert_memory_equal(p + k + 12, "\"} 1\n", 5);
	}
	assert_non_null(strstr(text, "# TYPE sipdlg_process_cpu_seconds_total "
				     "counter\n"));
	assert_non_null(strstr(text, "sipdlg_process_start_time_seconds "
				     "1700000000\n"));
	assert_true(sample(text, "sipdlg_process_open_fds") > 2);
	assert_true(sample(text, "sipdlg_process_resident_memory_bytes") > 0);
	/* no fast path: no XDP families */
	assert_null(strstr(text, "sipdlg_xdp_packets_total"));
	free(text);

	/* At most max_values_per_profile values: the biggest. */
	text = collect(&e, 1);
	check_shape(text);
	assert_int_equal(sample(text, "sipdlg_profile_value_size{profile="
				      "\"caller\",value=\"alice\"}"), 3);
	assert_null(strstr(text, "value=\"bob\""));
	free(text);
	text = collect(&e, 0);
	check_shape(text);
	assert_null(strstr(text, "sipdlg_profile_value_size{"));
	assert_non_null(strstr(text, "# TYPE sipdlg_profile_value_size gauge"));
	free(text);

	dlg_discard(a);
	dlg_discard(b);
	dlg_discard(c);
	dlg_unref(a);
	dlg_unref(b);
	dlg_unref(c);
	text = collect(&e, 100);
	assert_int_equal(sample(text, "sipdlg_profile_size{profile=\"caller\"}"),
			 0);
	assert_null(strstr(text, "sipdlg_profile_value_size{"));
	free(text);
	env_down(&e);
}

/* Twenty values with 1..20 members: max_values_per_profile 5 exports
 * v20..v16, biggest first; the snapshot agrees. */
static void test_top_values(void **state)
{
	struct env e;
	struct dlg_cell *c[20];
	struct dlg_profile_snap s;
	char *text, v[8], want[96];
	const char *prev = NULL;

	env_up(&e);
	for (int i = 0; i < 20; i++) {
		snprintf(want, sizeof(want), "top-%d@x", i);
		c[i] = mk(&e, want);
	}
	for (int k = 1; k <= 20; k++)
		for (int i = 0; i < k; i++) {
			int len = snprintf(v, sizeof(v), "v%d", k);

			setv(c[i], e.caller, v, (size_t)len);
		}
	assert_int_equal(dlg_profile_snapshot(e.caller, 5, &s), 0);
	assert_int_equal(s.total, 210);
	assert_int_equal(s.nvals, 20);
	assert_int_equal(s.n_top, 5);
	for (size_t i = 0; i < 5; i++) {
		snprintf(want, sizeof(want), "v%zu", 20 - i);
		assert_string_equal(s.top[i].value, want);
		assert_int_equal(s.top[i].count, 20 - i);
	}
	dlg_profile_snap_free(&s);

	text = collect(&e, 5);
	check_shape(text);
	for (int k = 1; k <= 20; k++) {
		const char *at;

		snprintf(want, sizeof(want), "sipdlg_profile_value_size{profile="
			 "\"caller\",value=\"v%d\"}", k);
		assert_int_equal(sample(text, want), k > 15 ? k : -1);
		at = strstr(text, want);
		if (k > 16)	/* v20 first, then v19, ... */
			assert_true(at < prev);
		if (k > 15)
			prev = at;
	}
	free(text);
	for (int i = 0; i < 20; i++) {
		dlg_discard(c[i]);
		dlg_unref(c[i]);
	}
	env_down(&e);
}

/* ---- a snapshot while a worker adds values -------------------------- */

struct adder {
	struct dlg_cell *c;
	struct dlg_profile *p;
	int n;
};

static void *add_values(void *arg)
{
	struct adder *a = arg;
	char v[32];

	for (int i = 0; i < a->n; i++) {
		int len = snprintf(v, sizeof(v), "v%d", i);

		dlg_profile_set(a->c, a->p, sip_str_mk(v, (size_t)len));
	}
	return NULL;
}

static void test_snapshot_while_growing(void **state)
{
	struct env e;
	struct dlg_cell *c;
	struct adder ad;
	pthread_t th;
	int rounds = 0;

	env_up(&e);
	c = mk(&e, "grow@x");
	ad = (struct adder){ c, e.caller, 5000 };
	assert_int_equal(pthread_create(&th, NULL, add_values, &ad), 0);
	/* Snapshots race the map's growth: every one is consistent (no
	 * value twice, counts of 1, totals that only grow). */
	for (uint64_t last = 0; last < 5000 && rounds < 100000; rounds++) {
		struct dlg_profile_snap s;

		assert_int_equal(dlg_profile_snapshot(e.caller, 50, &s), 0);
		assert_true(s.total >= last);
		last = s.total;
		assert_true(s.n_top <= 50);
		for (size_t i = 0; i < s.n_top; i++) {
			assert_int_equal(s.top[i].count, 1);
			for (size_t j = 0; j < i; j++)
				assert_string_not_equal(s.top[i].value,
							s.top[j].value);
		}
		dlg_profile_snap_free(&s);
	}
	pthread_join(th, NULL);
	{
		struct dlg_profile_snap s;

		assert_int_equal(dlg_profile_snapshot(e.caller, 10000, &s), 0);
		assert_int_equal(s.total, 5000);
		assert_int_equal(s.nvals, 5000);
		assert_int_equal(s.n_top, 5000);
		assert_false(s.incomplete);
		dlg_profile_snap_free(&s);
	}
	dlg_discard(c);
	dlg_unref(c);
	env_down(&e);
}

/* ---- the metrics: section ------------------------------------------- */

static int load(const char *yaml, struct sipdlg_config **cfg, char **errs)
{
	size_t len = 0;
	FILE *f = open_memstream(errs, &len);
	int rc;

	assert_non_null(f);
	rc = cfg_load_string("m.yaml", yaml, strlen(yaml), f, cfg);
	fclose(f);
	return rc;
}

static void expect_error(const char *yaml, const char *msg)
{
	struct sipdlg_config *cfg = NULL;
	char *errs = NULL;

	assert_int_equal(load(yaml, &cfg, &errs), -EINVAL);
	assert_null(cfg);
	if (!strstr(errs, msg))
		fail_msg("expected '%s' in: %s", msg, errs);
	free(errs);
}

static void test_config(void **state)
{
	struct sipdlg_config *cfg = NULL;
	char *errs = NULL;

	/* Absent: off, 100 values. */
	assert_int_equal(load("log: {level: info}\n", &cfg, &errs), 0);
	assert_true(!cfg->metrics.listen || !cfg->metrics.listen[0]);
	assert_int_equal(cfg->metrics.max_values_per_profile, 100);
	cfg_free(cfg);
	free(errs);

	assert_int_equal(load("metrics: { listen: \"127.0.0.1:9091\", "
			      "max_values_per_profile: 5 }\n", &cfg, &errs), 0);
	assert_string_equal(cfg->metrics.listen, "127.0.0.1:9091");
	assert_int_equal(cfg->metrics.addr.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&cfg->metrics.addr)
				       ->sin_port), 9091);
	assert_int_equal(cfg->metrics.max_values_per_profile, 5);
	cfg_free(cfg);
	free(errs);

	assert_int_equal(load("metrics: { listen: \"[::1]:9091\" }\n", &cfg,
			      &errs), 0);
	assert_int_equal(cfg->metrics.addr.ss_family, AF_INET6);
	cfg_free(cfg);
	free(errs);

	assert_int_equal(load("metrics: { listen: \"\" }\n", &cfg, &errs), 0);
	assert_string_equal(cfg->metrics.listen, "");
	cfg_free(cfg);
	free(errs);
	assert_int_equal(load("metrics:\n", &cfg, &errs), 0);
	cfg_free(cfg);
	free(errs);

	expect_error("metrics: { listen: \"127.0.0.1\" }\n",
		     "m.yaml:1:20: metrics.listen: '127.0.0.1' needs a port");
	expect_error("metrics: { listen: \"[::1]\" }\n", "needs a port");
	expect_error("metrics: { listen: \"localhost:9091\" }\n",
		     "is not a numeric IPv4 address");
	expect_error("metrics: { listen: \"127.0.0.1:99999\" }\n",
		     "out of range 1..65535");
	expect_error("metrics: { listen: \"::1:9091\" }\n",
		     "IPv6 addresses need brackets");
	expect_error("metrics: { listen: \"[::zz]:9091\" }\n",
		     "is not an IPv6 address");
	expect_error("metrics: { listen: [a] }\n",
		     "m.yaml:1:20: listen: expected a string");
	expect_error("metrics: { listn: \"127.0.0.1:9091\" }\n",
		     "did you mean 'listen'");
	expect_error("metrics: { max_values_per_profile: 10001 }\n",
		     "max_values_per_profile");
	expect_error("metrics: { max_values_per_profile: -1 }\n",
		     "max_values_per_profile");
	expect_error("metrics: 5\n", "metrics");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_family_and_samples),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_exposition),
		cmocka_unit_test(test_top_values),
		cmocka_unit_test(test_snapshot_while_growing),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
