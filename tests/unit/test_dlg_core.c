/*
 * test_dlg_core.c - dialog core: identifiers (core_hash, h_id series,
 * cookie), every cell of the state table, forking, late 2xx, spirals,
 * flags, variables, callbacks, the info snapshot and local termination.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/stats.h"
#include "core/timer.h"
#include "dialog/dlg.h"
#include "dialog/dlg_stats.h"

struct env {
	struct tmr_service *ts;
	struct stats *st;
	struct dlg_stats ds;
	struct dlg_table *t;
};

static const char *const prof_wv[] = { "caller" };
static const char *const prof_nv[] = { "inbound" };

static void cfg_defaults(struct dlg_config *c)
{
	memset(c, 0, sizeof(*c));
	c->hash_size = 16;
	c->rr_param = "did";
	c->default_timeout_ms = 3600 * 1000;
	c->match_mode = DLG_MATCH_DID_ONLY;
	c->detect_spirals = 1;
	c->h_id_step = 1;
	c->early_timeout_ms = 300 * 1000;
	c->noack_timeout_ms = 60 * 1000;
	c->end_timeout_ms = 300 * 1000;
	c->profiles_with_value = prof_wv;
	c->n_profiles_with_value = 1;
	c->profiles_no_value = prof_nv;
	c->n_profiles_no_value = 1;
}

static void env_up_cfg(struct env *e, const struct dlg_config *cfg)
{
	memset(e, 0, sizeof(*e));
	e->ts = tmr_service_alloc();
	assert_non_null(e->ts);
	assert_int_equal(tmr_service_start(e->ts), 0);
	e->st = stats_alloc();
	assert_non_null(e->st);
	dlg_stats_register(e->st, 1, &e->ds);
	assert_int_equal(dlg_table_alloc(cfg, e->ts, &e->ds, &e->t), 0);
}

static void env_up(struct env *e)
{
	struct dlg_config cfg;

	cfg_defaults(&cfg);
	env_up_cfg(e, &cfg);
}

static void env_down(struct env *e)
{
	tmr_service_free(e->ts);
	dlg_table_free(e->t);
	stats_free(e->st);
}

static struct dlg_invite invite(const char *callid, const char *ftag)
{
	struct dlg_invite inv;

	memset(&inv, 0, sizeof(inv));
	inv.callid = sip_str_c(callid);
	inv.from_uri = sip_str_c("sip:alice@a.example");
	inv.from_tag = sip_str_c(ftag);
	inv.to_uri = sip_str_c("sip:bob@b.example");
	inv.req_uri = sip_str_c("sip:bob@b.example");
	inv.contact = sip_str_c("sip:alice@10.0.0.1:5060");
	inv.route_set = sip_str_c("<sip:p1.example;lr>");
	inv.socket = sip_str_c("udp:10.0.0.9:5060");
	inv.cseq = 10;
	inv.rr_count = 1;
	return inv;
}

static struct dlg_cell *mk(struct env *e, const char *callid,
			   const char *ftag)
{
	struct dlg_invite inv = invite(callid, ftag);
	struct dlg_cell *c = NULL;

	assert_int_equal(dlg_manage(e->t, &inv, NULL, &c), DLG_RC_CREATED);
	return c;
}

static int rpl(struct dlg_cell *c, int code, const char *totag)
{
	struct dlg_reply r;

	memset(&r, 0, sizeof(r));
	r.code = code;
	if (totag)
		r.to_tag = sip_str_c(totag);
	r.contact = sip_str_c("sip:bob@10.0.0.2:5060");
	r.route_set = sip_str_c("<sip:p2.example;lr>");
	r.socket = sip_str_c("udp:10.0.0.9:5060");
	return dlg_on_reply(c, &r);
}

static int req(struct dlg_cell *c, enum sip_method m, enum dlg_dir dir,
	       uint32_t cseq)
{
	struct dlg_req rq;

	memset(&rq, 0, sizeof(rq));
	rq.method = m;
	rq.cseq = cseq;
	return dlg_on_request(c, dir, &rq);
}

static int64_t sv(struct stat_var *v)
{
	return stat_get(v);
}

/* ---- identifiers ------------------------------------------------------- */

static void test_core_hash_vectors(void **state)
{
	assert_int_equal(dlg_hash_entry(sip_str_c("1-20650@127.0.0.1"), 16384),
			 9739);
	assert_int_equal(dlg_hash_entry(sip_str_c("1-7242@127.0.0.1"), 16384),
			 10562);
	assert_int_equal(dlg_hash_entry(sip_str_c("1-6750@127.0.0.1"), 16384),
			 3003);
	/* The Kamailio capture: Call-ID 1-6718@127.0.0.1, did=a291.* */
	assert_int_equal(dlg_hash_entry(sip_str_c("1-6718@127.0.0.1"), 16384),
			 0x192a);
	/* Surrounding whitespace is trimmed. */
	assert_int_equal(
		dlg_hash_entry(sip_str_c(" \t1-20650@127.0.0.1 \r\n"), 16384),
		9739);
	/* Signed chars: 0xff is -1, giving 0xe02301c0 (0xff unsigned would
	 * give something else). */
	assert_int_equal(dlg_core_hash("\xff", 1), 0xe02301c0u);
	assert_int_equal(dlg_core_hash("", 0), 0);
}

static void test_cookie_examples(void **state)
{
	char b[32];
	uint32_t he, hi;

	assert_int_equal(dlg_cookie_value(1685, 9485, b, sizeof(b)), 8);
	assert_string_equal(b, "596.d052");
	assert_int_equal(dlg_rhex(0, b), 1);
	assert_string_equal(b, "0");
	dlg_rhex(93, b);
	assert_string_equal(b, "d5");
	dlg_rhex(3696, b);
	assert_string_equal(b, "07e");
	dlg_rhex(0xffffffffu, b);
	assert_string_equal(b, "ffffffff");
	assert_int_equal(dlg_cookie_value(0, 0, b, sizeof(b)), 3);
	assert_string_equal(b, "0.0");
	assert_int_equal(dlg_cookie_value(1, 2, b, 3), -ENOSPC);

	assert_int_equal(dlg_cookie_parse(sip_str_c("596.d052"), &he, &hi), 0);
	assert_int_equal(he, 1685);
	assert_int_equal(hi, 9485);
	assert_int_equal(dlg_cookie_parse(sip_str_c("596.D052"), &he, &hi), 0);
	assert_int_equal(hi, 9485);
	assert_int_equal(dlg_cookie_parse(sip_str_c("07E.0"), &he, &hi), 0);
	assert_int_equal(he, 3696);
	assert_int_equal(hi, 0);
	assert_int_equal(
		dlg_cookie_parse(sip_str_c("ffffffff.ffffffff"), &he, &hi), 0);
	assert_int_equal(he, 0xffffffffu);

	/* Round trip of many values. */
	for (uint32_t i = 0, x = 1; i < 2000; i++, x = x * 2654435761u + 7) {
		uint32_t y = x ^ (x >> 7);
		int n = dlg_cookie_value(x, y, b, sizeof(b));

		assert_true(n > 0);
		assert_int_equal(
			dlg_cookie_parse(sip_str_mk(b, (size_t)n), &he, &hi),
			0);
		assert_int_equal(he, x);
		assert_int_equal(hi, y);
	}
}

static void test_cookie_malformed(void **state)
{
	static const char *const bad[] = {
		"",		"596d052",	   "59g.d052", "596.d05z",
		"1.2.3",	"123456789.1",	   "1.123456789",
		"596 .d052",	"-1.2",		   "0x1.2",
	};
	uint32_t he = 77, hi = 77;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(dlg_cookie_parse(sip_str_c(bad[i]), &he, &hi),
				 -EBADMSG);
		/* Out-parameters untouched on failure. */
		assert_int_equal(he, 77);
		assert_int_equal(hi, 77);
	}
	assert_int_equal(dlg_cookie_parse(SIP_STR_NULL, &he, &hi), -EBADMSG);
	/* Empty halves read as 0, as in Kamailio. */
	assert_int_equal(dlg_cookie_parse(sip_str_c(".d052"), &he, &hi), 0);
	assert_int_equal(he, 0);
	assert_int_equal(hi, 9485);
	assert_int_equal(dlg_cookie_parse(sip_str_c("596."), &he, &hi), 0);
	assert_int_equal(he, 1685);
	assert_int_equal(hi, 0);
	assert_int_equal(dlg_cookie_parse(sip_str_c("."), &he, &hi), 0);
	/* A very long value must not overflow anything. */
	{
		char big[4096];

		memset(big, 'f', sizeof(big));
		big[2000] = '.';
		assert_int_equal(
			dlg_cookie_parse(sip_str_mk(big, sizeof(big)), &he, &hi),
			-EBADMSG);
	}
}

static uint32_t fixed_rand(void *ud)
{
	return *(uint32_t *)ud;
}

static void test_h_id_series(void **state)
{
	struct dlg_config cfg;
	struct env e;
	uint32_t r = 5;
	struct dlg_cell *c[3];
	char b[64];

	/* Step 1: next_id = rand % (3*size) = 5; ids 6, 7, 8. */
	cfg_defaults(&cfg);
	cfg.h_id_rand = fixed_rand;
	cfg.ud = &r;
	env_up_cfg(&e, &cfg);
	for (int i = 0; i < 3; i++) {
		snprintf(b, sizeof(b), "tag%d", i);
		c[i] = mk(&e, "same-callid@x", b);
		assert_int_equal(dlg_h_id(c[i]), 6 + i);
		assert_int_equal(dlg_h_entry(c[i]),
				 dlg_hash_entry(sip_str_c("same-callid@x"), 16));
	}
	/* Each slot has its own series. */
	{
		struct dlg_cell *o = NULL;
		int k;

		for (k = 0; k < 100; k++) {
			snprintf(b, sizeof(b), "other-%d@x", k);
			if (dlg_hash_entry(sip_str_c(b), 16) !=
			    dlg_h_entry(c[0]))
				break;
		}
		o = mk(&e, b, "t");
		assert_int_equal(dlg_h_id(o), 6);
		dlg_unref(o);
	}
	for (int i = 0; i < 3; i++)
		dlg_unref(c[i]);
	env_down(&e);

	/* Step 4 from 2: next_id = 2 + 4*(5+1) = 26; 26, 30, 34. */
	cfg.h_id_start = 2;
	cfg.h_id_step = 4;
	env_up_cfg(&e, &cfg);
	for (int i = 0; i < 3; i++) {
		snprintf(b, sizeof(b), "tag%d", i);
		c[i] = mk(&e, "same-callid@x", b);
		assert_int_equal(dlg_h_id(c[i]), 26 + 4 * i);
		assert_int_equal(dlg_h_id(c[i]) % 4, 2);
		dlg_unref(c[i]);
	}
	env_down(&e);

	/* h_id_start -1 = server_id; rand 100 % 48 = 4: 3 + 10*5 = 53. */
	r = 100;
	cfg.h_id_start = -1;
	cfg.server_id = 3;
	cfg.h_id_step = 10;
	env_up_cfg(&e, &cfg);
	c[0] = mk(&e, "a@x", "1");
	c[1] = mk(&e, "a@x", "2");
	assert_int_equal(dlg_h_id(c[0]), 53);
	assert_int_equal(dlg_h_id(c[1]), 63);
	dlg_unref(c[0]);
	dlg_unref(c[1]);
	env_down(&e);
}

static void test_table_alloc_errors(void **state)
{
	struct tmr_service *ts = tmr_service_alloc();
	struct dlg_table *t = NULL;
	struct dlg_config cfg;
	static const char *const bad_name[] = { "has space" };
	static const char *const dup[] = { "x", "x" };

	cfg_defaults(&cfg);
	cfg.hash_size = 12;
	assert_int_equal(dlg_table_alloc(&cfg, ts, NULL, &t), -EINVAL);
	cfg_defaults(&cfg);
	cfg.rr_param = "";
	assert_int_equal(dlg_table_alloc(&cfg, ts, NULL, &t), -EINVAL);
	cfg_defaults(&cfg);
	cfg.profiles_with_value = bad_name;
	assert_int_equal(dlg_table_alloc(&cfg, ts, NULL, &t), -EINVAL);
	cfg_defaults(&cfg);
	cfg.profiles_no_value = dup;
	cfg.n_profiles_no_value = 2;
	assert_int_equal(dlg_table_alloc(&cfg, ts, NULL, &t), -EINVAL);
	cfg_defaults(&cfg);
	cfg.profiles_no_value = prof_wv;	/* "caller" twice */
	assert_int_equal(dlg_table_alloc(&cfg, ts, NULL, &t), -EINVAL);
	cfg_defaults(&cfg);
	cfg.hash_size = 1;
	assert_int_equal(dlg_table_alloc(&cfg, ts, NULL, &t), 0);
	dlg_table_free(t);
	tmr_service_free(ts);
}

/* ---- the state table ---------------------------------------------------- */

enum ev { E1XX, E2XX, E2XX_OTHER, E3XX, EACK, EBYE, EPRACK, EREQ, E_N };

/* Bring a new dialog to @st; @failed picks the failed flavour of 5. */
static struct dlg_cell *drive(struct env *e, int st, bool failed)
{
	struct dlg_cell *c = mk(e, "st@x", "ft");

	if (st == 1)
		return c;
	if (st == 5 && failed) {
		assert_int_equal(rpl(c, 486, "tt"), DLG_RC_CHANGED);
		return c;
	}
	assert_int_equal(rpl(c, 180, "tt"), DLG_RC_CHANGED);
	if (st == 2)
		return c;
	assert_int_equal(rpl(c, 200, "tt"), DLG_RC_CHANGED);
	if (st == 3)
		return c;
	assert_int_equal(req(c, SIP_METHOD_ACK, DLG_DIR_DOWNSTREAM, 10),
			 DLG_RC_CHANGED);
	if (st == 4)
		return c;
	assert_int_equal(req(c, SIP_METHOD_BYE, DLG_DIR_DOWNSTREAM, 11),
			 DLG_RC_CHANGED);
	return c;
}

static int fire(struct dlg_cell *c, enum ev ev)
{
	switch (ev) {
	case E1XX: return rpl(c, 183, "tt");
	case E2XX: return rpl(c, 200, "tt");
	case E2XX_OTHER: return rpl(c, 200, "t2");
	case E3XX: return rpl(c, 486, "tt");
	case EACK: return req(c, SIP_METHOD_ACK, DLG_DIR_DOWNSTREAM, 10);
	case EBYE: return req(c, SIP_METHOD_BYE, DLG_DIR_UPSTREAM, 1);
	case EPRACK: return req(c, SIP_METHOD_PRACK, DLG_DIR_DOWNSTREAM, 11);
	default: return req(c, SIP_METHOD_INFO, DLG_DIR_DOWNSTREAM, 12);
	}
}

struct tcase {
	int from;
	bool failed5;		/* state 5 reached by a failure */
	enum ev ev;
	int rc;
	int to;
};

#define B DLG_RC_BOGUS
#define N DLG_RC_NONE
#define C DLG_RC_CHANGED
#define F DLG_RC_FORK_2XX
static const struct tcase cases[] = {
	{ 1, 0, E1XX, C, 2 }, { 1, 0, E2XX, C, 3 }, { 1, 0, E3XX, C, 5 },
	{ 1, 0, EACK, B, 1 }, { 1, 0, EBYE, B, 1 }, { 1, 0, EPRACK, B, 1 },
	{ 1, 0, EREQ, B, 1 },
	{ 2, 0, E1XX, N, 2 }, { 2, 0, E2XX, C, 3 }, { 2, 0, E3XX, C, 5 },
	{ 2, 0, EACK, B, 2 }, { 2, 0, EBYE, N, 2 }, { 2, 0, EPRACK, N, 2 },
	{ 2, 0, EREQ, N, 2 },
	{ 3, 0, E1XX, B, 3 }, { 3, 0, E2XX, N, 3 }, { 3, 0, E2XX_OTHER, F, 3 },
	{ 3, 0, E3XX, B, 3 }, { 3, 0, EACK, C, 4 }, { 3, 0, EBYE, C, 5 },
	{ 3, 0, EPRACK, N, 3 }, { 3, 0, EREQ, N, 3 },
	{ 4, 0, E1XX, B, 4 }, { 4, 0, E2XX, N, 4 }, { 4, 0, E2XX_OTHER, F, 4 },
	{ 4, 0, E3XX, B, 4 }, { 4, 0, EACK, N, 4 }, { 4, 0, EBYE, C, 5 },
	{ 4, 0, EPRACK, B, 4 }, { 4, 0, EREQ, N, 4 },
	{ 5, 0, E1XX, B, 5 }, { 5, 0, E2XX, B, 5 }, { 5, 0, E3XX, B, 5 },
	{ 5, 0, EACK, N, 5 }, { 5, 0, EBYE, N, 5 }, { 5, 0, EPRACK, N, 5 },
	{ 5, 0, EREQ, N, 5 },
	/* A failed dialog is revived by a late 2xx (never confirmed). */
	{ 5, 1, E2XX, C, 3 }, { 5, 1, E1XX, B, 5 }, { 5, 1, E3XX, B, 5 },
	{ 5, 1, EACK, N, 5 }, { 5, 1, EBYE, N, 5 },
};
#undef B
#undef N
#undef C
#undef F

static void test_state_table(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *k = &cases[i];
		struct env e;
		struct dlg_cell *c;
		struct dlg_match_counters mc;
		int rc;

		env_up(&e);
		c = drive(&e, k->from, k->failed5);
		assert_int_equal(dlg_state(c), k->from);
		rc = fire(c, k->ev);
		if (rc != k->rc || (int)dlg_state(c) != k->to)
			fail_msg("case %zu: state %d event %d: rc %d state %d, "
				 "want rc %d state %d", i, k->from, k->ev, rc,
				 dlg_state(c), k->rc, k->to);
		dlg_match_counters_get(e.t, &mc);
		assert_int_equal(mc.bogus, k->rc == DLG_RC_BOGUS);
		/* The gauges follow the state. */
		assert_int_equal(sv(e.ds.early_dialogs), k->to == 2);
		assert_int_equal(sv(e.ds.active_dialogs),
				 k->to == 3 || k->to == 4);
		assert_int_equal(sv(e.ds.processed_dialogs), 1);
		if (k->to == 2 && k->ev == EPRACK)
			assert_true(dlg_iflags(c) & DLG_IFLAG_PRACK);
		if (k->ev == EBYE && k->rc == DLG_RC_CHANGED)
			assert_true(dlg_dflags(c) & DLG_DFLAG_HASBYE);
		dlg_unref(c);
		env_down(&e);
	}
}

static void test_failed_and_stats(void **state)
{
	struct env e;
	struct dlg_cell *c;

	env_up(&e);
	c = mk(&e, "f@x", "ft");
	assert_int_equal(rpl(c, 100, NULL), DLG_RC_NONE);	/* no event */
	assert_int_equal(dlg_state(c), DLG_STATE_UNCONFIRMED);
	assert_int_equal(rpl(c, 99, NULL), -EINVAL);
	assert_int_equal(rpl(c, 180, "a"), DLG_RC_CHANGED);
	assert_int_equal(sv(e.ds.early_dialogs), 1);
	assert_int_equal(rpl(c, 487, "a"), DLG_RC_CHANGED);
	assert_int_equal(sv(e.ds.early_dialogs), 0);
	assert_int_equal(sv(e.ds.failed_dialogs), 1);
	assert_int_equal(sv(e.ds.active_dialogs), 0);
	/* Late 2xx: revived, counted active; a BYE ends it for good. */
	assert_int_equal(rpl(c, 200, "b"), DLG_RC_CHANGED);
	assert_int_equal(sv(e.ds.active_dialogs), 1);
	assert_int_equal(sv(e.ds.failed_dialogs), 1);
	assert_int_equal(dlg_callee_tag(c).len, 1);
	assert_int_equal(req(c, SIP_METHOD_BYE, DLG_DIR_DOWNSTREAM, 11),
			 DLG_RC_CHANGED);
	assert_int_equal(sv(e.ds.active_dialogs), 0);
	assert_int_equal(rpl(c, 200, "b"), DLG_RC_BOGUS);
	assert_int_equal(dlg_state(c), DLG_STATE_DELETED);
	dlg_unref(c);
	env_down(&e);
}

static void test_forking(void **state)
{
	struct env e;
	struct dlg_cell *c;
	struct dlg_info *in;

	env_up(&e);
	c = mk(&e, "fork@x", "ft");
	/* Two early legs. */
	assert_int_equal(rpl(c, 180, "leg-a"), DLG_RC_CHANGED);
	assert_int_equal(rpl(c, 183, "leg-b"), DLG_RC_NONE);
	assert_int_equal(sv(e.ds.early_dialogs), 1);
	/* leg-b answers first and wins. */
	assert_int_equal(rpl(c, 200, "leg-b"), DLG_RC_CHANGED);
	assert_true(sip_str_eq_c(dlg_callee_tag(c), "leg-b"));
	/* leg-a answers too: the caller must ACK and BYE it. */
	assert_int_equal(rpl(c, 200, "leg-a"), DLG_RC_FORK_2XX);
	/* leg-b retransmits: nothing. */
	assert_int_equal(rpl(c, 200, "leg-b"), DLG_RC_NONE);
	assert_true(sip_str_eq_c(dlg_callee_tag(c), "leg-b"));
	assert_int_equal(sv(e.ds.active_dialogs), 1);
	in = dlg_info_get(c, 0);
	assert_string_equal(in->callee.tag, "leg-b");
	dlg_info_free(in);
	/* A local (faked) 2xx stores no callee leg. */
	{
		struct dlg_cell *d = mk(&e, "faked@x", "ft");
		struct dlg_reply r = { .code = 200, .local = true };

		assert_int_equal(dlg_on_reply(d, &r), DLG_RC_CHANGED);
		assert_null(dlg_callee_tag(d).p);
		assert_int_equal(dlg_end(d, NULL), DLG_RC_CHANGED);
		dlg_unref(d);
	}
	assert_int_equal(dlg_end(c, NULL), DLG_RC_CHANGED);
	assert_int_equal(sv(e.ds.active_dialogs), 0);
	dlg_unref(c);
	env_down(&e);
}

/* ---- cluster-wide profiles and fencing ids ----------------------------- */

/* The other nodes' counts, as user/cluster's cache would give them. */
static uint64_t fake_remote(void *ud, const struct dlg_profile *p,
			    struct sip_str value)
{
	if (!value.p)
		return 5;
	return sip_str_eq_c(value, "eve") ? 2 : 0;
}

struct seen_counts {
	int n;
	uint32_t eve;
};

static void see_count(void *ud, const char *value, uint32_t count)
{
	struct seen_counts *sc = ud;

	sc->n++;
	if (!strcmp(value, "eve"))
		sc->eve = count;
}

static void test_profile_remote(void **state)
{
	struct env e;
	struct dlg_profile *pr;
	struct dlg_cell *a, *b;
	struct seen_counts sc = { 0, 0 };
	uint64_t g0, g1;

	env_up(&e);
	pr = dlg_profile_lookup(e.t, sip_str_c("caller"));
	assert_false(dlg_profile_is_cluster(pr));
	g0 = dlg_profile_gen(pr);
	a = mk(&e, "r1@x", "ft");
	b = mk(&e, "r2@x", "ft");
	assert_int_equal(dlg_profile_set(a, pr, sip_str_c("eve")), 0);
	assert_int_equal(dlg_profile_set(b, pr, sip_str_c("bob")), 0);
	g1 = dlg_profile_gen(pr);
	assert_true(g1 != g0);
	/* a no-op set changes nothing, so nothing is published again */
	assert_int_equal(dlg_profile_set(a, pr, sip_str_c("eve")), 1);
	assert_true(dlg_profile_gen(pr) == g1);
	assert_true(dlg_profile_counts(pr, see_count, &sc) == g1);
	assert_int_equal(sc.n, 2);
	assert_int_equal(sc.eve, 1);

	dlg_profile_set_remote(pr, fake_remote, NULL);
	assert_true(dlg_profile_is_cluster(pr));
	assert_int_equal(dlg_profile_size(pr, sip_str_c("eve")), 1 + 2);
	assert_int_equal(dlg_profile_size(pr, SIP_STR_NULL), 2 + 5);
	assert_int_equal(dlg_profile_size_local(pr, sip_str_c("eve")), 1);
	assert_int_equal(dlg_profile_size(pr, sip_str_c("nobody")), 0);
	dlg_profile_set_remote(pr, NULL, NULL);
	assert_int_equal(dlg_profile_size(pr, sip_str_c("eve")), 1);

	/* unload without ending (cluster handback): counts go, gen moves */
	dlg_discard(a);
	assert_int_equal(dlg_profile_size(pr, sip_str_c("eve")), 0);
	assert_true(dlg_profile_gen(pr) != g1);
	dlg_discard(b);
	dlg_unref(a);
	dlg_unref(b);
	env_down(&e);
}

static void test_reserve_id(void **state)
{
	struct dlg_config cfg;
	struct env e;
	struct dlg_cell *c;
	uint32_t he;

	/* node 2 of 2: ids 1, 3, 5, ... */
	cfg_defaults(&cfg);
	cfg.h_id_start = 1;
	cfg.h_id_step = 2;
	env_up_cfg(&e, &cfg);
	he = dlg_hash_entry(sip_str_c("id@x"), 16);
	dlg_reserve_id(e.t, he, 100001);	/* ours: next ids above it */
	dlg_reserve_id(e.t, he, 200000);	/* another node's: ignored */
	c = mk(&e, "id@x", "ft");
	assert_int_equal(dlg_h_id(c), 100003);
	dlg_discard(c);
	dlg_unref(c);
	env_down(&e);
}

/* ---- spirals ------------------------------------------------------------ */

static int spiraled;

static void count_spiral(struct dlg_cell *c, int type,
			 const struct dlg_cb_params *p)
{
	spiraled++;
}

static void test_spirals(void **state)
{
	struct env e;
	struct dlg_cell *c, *s = NULL;
	struct dlg_invite inv = invite("sp@x", "ft");
	struct dlg_profile *pr;

	env_up(&e);
	spiraled = 0;
	assert_int_equal(dlg_register_global_cb(e.t, DLGCB_SPIRALED,
						count_spiral, NULL, NULL), 0);
	pr = dlg_profile_lookup(e.t, sip_str_c("inbound"));
	c = mk(&e, "sp@x", "ft");
	assert_int_equal(dlg_profile_set(c, pr, SIP_STR_NULL), 0);
	/* States 1, 2, 3: the same INVITE coming back is a spiral. */
	for (int st = 1; st <= 3; st++) {
		if (st == 2)
			rpl(c, 180, "tt");
		if (st == 3)
			rpl(c, 200, "tt");
		assert_int_equal(dlg_manage(e.t, &inv, NULL, &s),
				 DLG_RC_SPIRAL);
		assert_ptr_equal(s, c);
		assert_int_equal(spiraled, st);
		/* Setting the profile again in the spiraled pass: no
		 * second count. */
		assert_int_equal(dlg_profile_set(s, pr, SIP_STR_NULL), 1);
		assert_int_equal(dlg_profile_size(pr, SIP_STR_NULL), 1);
		dlg_unref(s);
	}
	assert_int_equal(sv(e.ds.processed_dialogs), 1);
	/* State 4: a new dialog. */
	req(c, SIP_METHOD_ACK, DLG_DIR_DOWNSTREAM, 10);
	assert_int_equal(dlg_manage(e.t, &inv, NULL, &s), DLG_RC_CREATED);
	assert_ptr_not_equal(s, c);
	assert_int_equal(sv(e.ds.processed_dialogs), 2);
	dlg_discard(s);
	dlg_unref(s);
	/* Another caller tag: a new dialog, whatever the state. */
	inv.from_tag = sip_str_c("other");
	req(c, SIP_METHOD_BYE, DLG_DIR_DOWNSTREAM, 11);
	assert_int_equal(dlg_manage(e.t, &inv, NULL, &s), DLG_RC_CREATED);
	dlg_discard(s);
	dlg_unref(s);
	/* State 5: not a spiral either. */
	inv.from_tag = sip_str_c("ft");
	assert_int_equal(dlg_manage(e.t, &inv, NULL, &s), DLG_RC_CREATED);
	assert_ptr_not_equal(s, c);
	dlg_discard(s);
	dlg_unref(s);
	dlg_unref(c);
	assert_int_equal(sv(e.ds.processed_dialogs), 4);
	assert_int_equal(sv(e.ds.early_dialogs), 0);
	assert_int_equal(sv(e.ds.active_dialogs), 0);
	env_down(&e);

	/* detect_spirals 0: every INVITE makes a dialog. */
	{
		struct dlg_config cfg;
		struct dlg_cell *a, *b;

		cfg_defaults(&cfg);
		cfg.detect_spirals = 0;
		env_up_cfg(&e, &cfg);
		inv = invite("sp@x", "ft");
		assert_int_equal(dlg_manage(e.t, &inv, NULL, &a),
				 DLG_RC_CREATED);
		assert_int_equal(dlg_manage(e.t, &inv, NULL, &b),
				 DLG_RC_CREATED);
		assert_ptr_not_equal(a, b);
		dlg_unref(a);
		dlg_unref(b);
		env_down(&e);
	}
}

static void test_manage_errors(void **state)
{
	struct env e;
	struct dlg_cell *c = NULL;
	struct dlg_invite inv;

	env_up(&e);
	inv = invite("e@x", "ft");
	inv.contact = SIP_STR_NULL;
	assert_int_equal(dlg_manage(e.t, &inv, NULL, &c), -EINVAL);
	inv = invite("e@x", "");
	assert_int_equal(dlg_manage(e.t, &inv, NULL, &c), -EINVAL);
	inv = invite("  ", "ft");
	assert_int_equal(dlg_manage(e.t, &inv, NULL, &c), -EINVAL);
	assert_null(c);
	assert_int_equal(sv(e.ds.processed_dialogs), 0);
	env_down(&e);
}

/* ---- flags and variables ------------------------------------------------ */

static void test_flags(void **state)
{
	struct dlg_config cfg;
	struct env e;
	struct dlg_cell *c;
	struct dlg_invite inv = invite("fl@x", "ft");
	struct dlg_create_opts o = { .sflags = 0x5, .iflags =
						DLG_IFLAG_KA_SRC };

	cfg_defaults(&cfg);
	cfg.send_bye = 1;
	env_up_cfg(&e, &cfg);
	assert_int_equal(dlg_manage(e.t, &inv, &o, &c), DLG_RC_CREATED);
	assert_int_equal(dlg_sflags(c), 0x5);
	assert_int_equal(dlg_isflagset(c, 0), 1);
	assert_int_equal(dlg_isflagset(c, 1), 0);
	for (unsigned i = 0; i < 32; i++)
		assert_int_equal(dlg_setflag(c, i), 0);
	assert_int_equal(dlg_sflags(c), 0xffffffffu);
	assert_int_equal(dlg_resetflag(c, 31), 0);
	assert_int_equal(dlg_isflagset(c, 31), 0);
	assert_int_equal(dlg_setflag(c, 32), -EINVAL);
	assert_int_equal(dlg_resetflag(c, 32), -EINVAL);
	assert_int_equal(dlg_isflagset(c, 99), -EINVAL);
	/* send_bye gives TIMEOUTBYE; properties are iflags. */
	assert_int_equal(dlg_iflags(c),
			 DLG_IFLAG_TIMEOUTBYE | DLG_IFLAG_KA_SRC);
	dlg_set_iflags(c, DLG_IFLAG_TIMER_NORESET | DLG_IFLAG_KA_DST);
	dlg_reset_iflags(c, DLG_IFLAG_KA_SRC);
	assert_int_equal(dlg_iflags(c), DLG_IFLAG_TIMEOUTBYE |
					DLG_IFLAG_KA_DST |
					DLG_IFLAG_TIMER_NORESET);
	/* BYE marks are test-and-set. */
	assert_int_equal(dlg_mark_bye(c, DLG_CALLER_LEG), 0);
	assert_int_equal(dlg_mark_bye(c, DLG_CALLER_LEG), -EALREADY);
	assert_int_equal(dlg_mark_bye(c, DLG_CALLEE_LEG), 0);
	assert_true(dlg_dflags(c) & DLG_DFLAG_CALLERBYE);
	assert_true(dlg_dflags(c) & DLG_DFLAG_CALLEEBYE);
	dlg_unref(c);
	env_down(&e);
}

static const struct dlg_info_var *find_var(const struct dlg_info *in,
					   const char *k)
{
	for (size_t i = 0; i < in->n_vars; i++)
		if (!strcmp(in->vars[i].key, k))
			return &in->vars[i];
	return NULL;
}

static void test_vars(void **state)
{
	struct env e;
	struct dlg_cell *c;
	struct dlg_info *in;
	char b[8];

	env_up(&e);
	c = mk(&e, "v@x", "ft");
	assert_int_equal(dlg_var_get(c, sip_str_c("k"), b, sizeof(b)),
			 -ENOENT);
	assert_int_equal(dlg_var_set(c, sip_str_c("k"), sip_str_c("v1")), 0);
	assert_int_equal(dlg_var_set(c, sip_str_c("long"),
				     sip_str_c("0123456789")), 0);
	assert_int_equal(dlg_var_set(c, sip_str_c("gone"), sip_str_c("x")),
			 0);
	assert_int_equal(dlg_var_set(c, SIP_STR_NULL, sip_str_c("x")),
			 -EINVAL);
	assert_true(dlg_dflags(c) & DLG_DFLAG_CHANGED_VARS);
	assert_int_equal(dlg_var_get(c, sip_str_c("k"), b, sizeof(b)), 2);
	assert_string_equal(b, "v1");
	/* Truncated copy, full length returned. */
	assert_int_equal(dlg_var_get(c, sip_str_c("long"), b, sizeof(b)), 10);
	assert_string_equal(b, "0123456");
	/* A NEW var deleted is simply gone (no row to delete). */
	assert_int_equal(dlg_var_set(c, sip_str_c("gone"), sip_str_c("")), 0);
	assert_int_equal(dlg_var_set(c, sip_str_c("gone"), SIP_STR_NULL),
			 -ENOENT);
	in = dlg_info_get(c, DLG_INFO_CLEAR_MARKS);
	assert_int_equal(in->n_vars, 2);
	assert_string_equal(in->vars[0].key, "k");	/* oldest first */
	assert_int_equal(in->vars[0].flags, DLG_VAR_NEW);
	dlg_info_free(in);
	assert_false(dlg_dflags(c) & DLG_DFLAG_CHANGED_VARS);
	/* Written to the DB: now changes and deletions are marked. */
	assert_int_equal(dlg_var_set(c, sip_str_c("k"), sip_str_c("v2")), 0);
	assert_int_equal(dlg_var_set(c, sip_str_c("long"), SIP_STR_NULL), 0);
	assert_int_equal(dlg_var_get(c, sip_str_c("long"), b, sizeof(b)),
			 -ENOENT);
	in = dlg_info_get(c, 0);
	assert_int_equal(in->n_vars, 1);	/* deleted ones hidden */
	dlg_info_free(in);
	in = dlg_info_get(c, DLG_INFO_VARS_ALL | DLG_INFO_CLEAR_MARKS);
	assert_int_equal(in->n_vars, 2);
	assert_int_equal(find_var(in, "k")->flags, DLG_VAR_CHANGED);
	assert_string_equal(find_var(in, "k")->value, "v2");
	assert_int_equal(find_var(in, "long")->flags, DLG_VAR_DELETED);
	dlg_info_free(in);
	in = dlg_info_get(c, DLG_INFO_VARS_ALL);
	assert_int_equal(in->n_vars, 1);
	assert_int_equal(in->vars[0].flags, 0);
	dlg_info_free(in);
	/* Deleted, then set again before the DB saw it: a change. */
	dlg_var_set(c, sip_str_c("k"), SIP_STR_NULL);
	dlg_var_set(c, sip_str_c("k"), sip_str_c("v3"));
	in = dlg_info_get(c, DLG_INFO_VARS_ALL);
	assert_int_equal(in->vars[0].flags, DLG_VAR_CHANGED);
	dlg_info_free(in);
	/* In state 5 the listing shows no vars (the DB layer still can). */
	dlg_discard(c);
	in = dlg_info_get(c, 0);
	assert_int_equal(in->n_vars, 0);
	dlg_info_free(in);
	in = dlg_info_get(c, DLG_INFO_VARS_ALL);
	assert_int_equal(in->n_vars, 1);
	dlg_info_free(in);
	dlg_unref(c);
	env_down(&e);
}

/* ---- callbacks ---------------------------------------------------------- */

struct cbrec {
	int types[64];
	int n;
	int states[64];
	int param_freed;
};

static void rec_cb(struct dlg_cell *c, int type, const struct dlg_cb_params *p)
{
	struct cbrec *r = p->param;

	if (r->n < 64) {
		r->states[r->n] = p->new_state;
		r->types[r->n++] = type;
	}
	/* No lock is held: touching the dialog must not deadlock. */
	if (type != DLGCB_DESTROY) {
		char b[4];

		dlg_var_set(c, sip_str_c("cb"), sip_str_c("1"));
		dlg_var_get(c, sip_str_c("cb"), b, sizeof(b));
		dlg_info_free(dlg_info_get(c, 0));
	}
}

static void free_param(void *p)
{
	((struct cbrec *)p)->param_freed++;
}

static void test_callbacks(void **state)
{
	static struct cbrec g, d;
	struct env e;
	struct dlg_cell *c;
	static const int want[] = {
		DLGCB_CREATED,	      DLGCB_RESPONSE_FWDED, DLGCB_EARLY,
		DLGCB_RESPONSE_FWDED, DLGCB_CONFIRMED_NA,   DLGCB_CONFIRMED,
		DLGCB_REQ_WITHIN,     DLGCB_REQ_WITHIN,	    DLGCB_RESPONSE_WITHIN,
		DLGCB_TERMINATED,     DLGCB_TERMINATED_CONFIRMED,
		DLGCB_DESTROY,
	};

	memset(&g, 0, sizeof(g));
	memset(&d, 0, sizeof(d));
	env_up(&e);
	assert_int_equal(dlg_register_global_cb(e.t, 0, rec_cb, &g, NULL),
			 -EINVAL);
	assert_int_equal(dlg_register_global_cb(e.t, DLGCB_ALL, NULL, &g,
						NULL), -EINVAL);
	assert_int_equal(dlg_register_global_cb(e.t, DLGCB_ALL, rec_cb, &g,
						free_param), 0);
	c = mk(&e, "cb@x", "ft");
	assert_int_equal(dlg_register_cb(c, DLGCB_ALL & ~DLGCB_CREATED,
					 rec_cb, &d, free_param), 0);
	rpl(c, 180, "tt");
	rpl(c, 200, "tt");
	req(c, SIP_METHOD_ACK, DLG_DIR_DOWNSTREAM, 10);
	req(c, SIP_METHOD_INFO, DLG_DIR_UPSTREAM, 1);
	dlg_on_response_within(c, DLG_DIR_UPSTREAM, 200, NULL);
	req(c, SIP_METHOD_BYE, DLG_DIR_UPSTREAM, 2);
	dlg_on_bye_reply(c, 100, NULL);		/* provisional: nothing */
	dlg_on_bye_reply(c, 200, NULL);
	dlg_on_bye_reply(c, 200, NULL);		/* only once */
	dlg_unref(c);
	assert_int_equal(g.n, (int)(sizeof(want) / sizeof(want[0])));
	for (int i = 0; i < g.n; i++)
		assert_int_equal(g.types[i], want[i]);
	assert_int_equal(g.states[2], DLG_STATE_EARLY);
	assert_int_equal(g.states[4], DLG_STATE_CONFIRMED_NA);
	assert_int_equal(g.states[9], DLG_STATE_DELETED);
	/* The per-dialog list saw the same minus CREATED; its param was
	 * freed with the cell. */
	assert_int_equal(d.n, g.n - 1);
	assert_int_equal(d.param_freed, 1);
	assert_int_equal(g.param_freed, 0);
	env_down(&e);
	assert_int_equal(g.param_freed, 1);
}

/* ---- data kept per dialog ------------------------------------------------ */

static void test_info_and_cseq(void **state)
{
	struct env e;
	struct dlg_cell *c;
	struct dlg_info *in;
	struct dlg_req rq;
	char b[64];

	env_up(&e);
	c = mk(&e, " info@x ", "ft");
	assert_true(sip_str_eq_c(dlg_callid(c), "info@x"));
	assert_true(sip_str_eq_c(dlg_from_uri(c), "sip:alice@a.example"));
	assert_true(sip_str_eq_c(dlg_to_uri(c), "sip:bob@b.example"));
	assert_true(sip_str_eq_c(dlg_req_uri(c), "sip:bob@b.example"));
	assert_true(sip_str_eq_c(dlg_caller_tag(c), "ft"));
	assert_int_equal(dlg_caller_rr_count(c), 1);
	assert_ptr_equal(dlg_table_of(c), e.t);
	{
		char v[20];
		int n = dlg_cookie_param(c, b, sizeof(b));

		assert_int_equal(n, (int)strlen(b));

		dlg_cookie_value(dlg_h_entry(c), dlg_h_id(c), v, sizeof(v));
		assert_true(strncmp(b, ";did=", 5) == 0);
		assert_string_equal(b + 5, v);
		assert_int_equal(dlg_cookie_param(c, b, 4), -ENOSPC);
	}
	in = dlg_info_get(c, 0);
	assert_int_equal(in->state, 1);
	assert_int_equal(in->ref, 3);	/* the table's, the timer's, ours */
	assert_string_equal(in->callid, "info@x");
	assert_string_equal(in->caller.tag, "ft");
	assert_string_equal(in->caller.contact, "sip:alice@10.0.0.1:5060");
	assert_string_equal(in->caller.route_set, "<sip:p1.example;lr>");
	assert_string_equal(in->caller.socket, "udp:10.0.0.9:5060");
	assert_int_equal(in->caller.cseq, 10);
	assert_string_equal(in->callee.tag, "");
	assert_string_equal(in->callee.contact, "");
	assert_int_equal(in->callee.cseq, 0);
	assert_int_equal(in->timeout, 0);
	assert_int_equal(in->start_ts, 0);
	assert_true(in->init_ts > 0);
	assert_int_equal(in->lifetime, 3600);
	dlg_info_free(in);

	rpl(c, 183, "tt");
	/* PRACK and UPDATE in early state move the caller CSeq. */
	req(c, SIP_METHOD_PRACK, DLG_DIR_DOWNSTREAM, 11);
	req(c, SIP_METHOD_UPDATE, DLG_DIR_DOWNSTREAM, 12);
	rpl(c, 200, "tt");
	req(c, SIP_METHOD_ACK, DLG_DIR_DOWNSTREAM, 10);
	/* A lower CSeq (crossing, reordered) never lowers it. */
	req(c, SIP_METHOD_INFO, DLG_DIR_DOWNSTREAM, 11);
	req(c, SIP_METHOD_INFO, DLG_DIR_UPSTREAM, 7);
	/* Re-INVITEs refresh the contact of their side: longer, shorter. */
	memset(&rq, 0, sizeof(rq));
	rq.method = SIP_METHOD_INVITE;
	rq.cseq = 8;
	rq.contact = sip_str_c("sip:bob@192.168.100.200:5080;transport=tcp");
	dlg_on_request(c, DLG_DIR_UPSTREAM, &rq);
	rq.cseq = 13;
	rq.contact = sip_str_c("sip:a@1.2.3.4");
	dlg_on_request(c, DLG_DIR_DOWNSTREAM, &rq);
	in = dlg_info_get(c, 0);
	assert_int_equal(in->state, 4);
	assert_int_equal(in->caller.cseq, 13);
	assert_int_equal(in->callee.cseq, 8);
	assert_string_equal(in->caller.contact, "sip:a@1.2.3.4");
	assert_string_equal(in->callee.contact,
			    "sip:bob@192.168.100.200:5080;transport=tcp");
	assert_string_equal(in->callee.tag, "tt");
	assert_string_equal(in->callee.route_set, "<sip:p2.example;lr>");
	assert_string_equal(in->callee.socket, "udp:10.0.0.9:5060");
	assert_true(in->iflags & DLG_IFLAG_PRACK);
	assert_true(in->dflags & DLG_DFLAG_NEW);
	assert_true(in->start_ts > 0);
	assert_true(in->timeout >= in->start_ts + 3599);
	assert_true(in->duration >= 0 && in->duration < 5);
	assert_int_equal(in->end_ts, 0);
	dlg_info_free(in);
	/* A contact refresh without Contact keeps the old one. */
	rq.contact = SIP_STR_NULL;
	dlg_on_request(c, DLG_DIR_DOWNSTREAM, &rq);
	in = dlg_info_get(c, 0);
	assert_string_equal(in->caller.contact, "sip:a@1.2.3.4");
	dlg_info_free(in);

	assert_int_equal(dlg_end(c, NULL), DLG_RC_CHANGED);
	assert_int_equal(dlg_end(c, NULL), DLG_RC_NONE);
	in = dlg_info_get(c, 0);
	assert_int_equal(in->state, 5);
	assert_true(in->end_ts >= in->start_ts);
	assert_int_equal(in->duration, in->end_ts - in->start_ts);
	assert_int_equal(in->timeout, 0);
	dlg_info_free(in);
	dlg_unref(c);
	env_down(&e);
}

static void test_end_and_discard(void **state)
{
	struct env e;
	struct dlg_cell *c;
	uint32_t he, hi;

	env_up(&e);
	c = mk(&e, "end@x", "ft");
	assert_int_equal(dlg_end(c, NULL), -EINVAL);	/* early: CANCEL */
	rpl(c, 180, "tt");
	assert_int_equal(dlg_end(c, NULL), -EINVAL);
	/* Discarded (never relayed): gone from the table at once, no
	 * failed count, gauges back. */
	he = dlg_h_entry(c);
	hi = dlg_h_id(c);
	dlg_discard(c);
	assert_int_equal(dlg_state(c), DLG_STATE_DELETED);
	assert_null(dlg_lookup_id(e.t, he, hi));
	assert_int_equal(sv(e.ds.failed_dialogs), 0);
	assert_int_equal(sv(e.ds.early_dialogs), 0);
	assert_int_equal(dlg_ref_count(c), 1);
	dlg_unref(c);

	/* A BYE'd dialog stays findable while held, goes when released. */
	c = mk(&e, "end@x", "ft2");
	rpl(c, 200, "tt");
	req(c, SIP_METHOD_ACK, DLG_DIR_DOWNSTREAM, 10);
	he = dlg_h_entry(c);
	hi = dlg_h_id(c);
	req(c, SIP_METHOD_BYE, DLG_DIR_DOWNSTREAM, 11);
	{
		struct dlg_cell *x = dlg_lookup_id(e.t, he, hi);

		assert_ptr_equal(x, c);
		dlg_unref(x);
	}
	dlg_unref(c);
	assert_null(dlg_lookup_id(e.t, he, hi));
	assert_int_equal(sv(e.ds.active_dialogs), 0);
	env_down(&e);
}

/* dlg.set_state: forced states move the gauges, run no callbacks. */
static int n_cb;
static void count_cb(struct dlg_cell *c, int type, const struct dlg_cb_params *p)
{
	n_cb++;
}

static void test_force_state(void **state)
{
	struct env e;
	struct dlg_cell *c;

	env_up(&e);
	c = mk(&e, "force@x", "ft");
	rpl(c, 200, "tt");
	req(c, SIP_METHOD_ACK, DLG_DIR_DOWNSTREAM, 10);
	assert_int_equal(sv(e.ds.active_dialogs), 1);
	assert_int_equal(dlg_register_global_cb(e.t, DLGCB_ALL, count_cb, NULL,
						NULL), 0);
	n_cb = 0;
	assert_int_equal(dlg_force_state(c, 9), -EINVAL);
	assert_int_equal(dlg_force_state(c, DLG_STATE_EARLY), DLG_STATE_CONFIRMED);
	assert_int_equal(sv(e.ds.active_dialogs), 0);
	assert_int_equal(sv(e.ds.early_dialogs), 1);
	assert_int_equal(dlg_force_state(c, DLG_STATE_DELETED), DLG_STATE_EARLY);
	assert_int_equal(dlg_state(c), DLG_STATE_DELETED);
	assert_int_equal(sv(e.ds.early_dialogs), 0);
	assert_int_equal(n_cb, 0);
	dlg_unref(c);
	env_down(&e);
}

/* Restoring a dialog from the database keeps its ids and its state. */
static void test_load(void **state)
{
	struct env e;
	struct dlg_cell *c, *x;
	struct dlg_load ld = { 0 };
	uint32_t he;
	struct dlg_info *in;

	env_up(&e);
	ld.callid = sip_str_c("load-1@x");
	he = dlg_hash_entry(ld.callid, dlg_table_config(e.t)->hash_size);
	ld.h_entry = he;
	ld.h_id = 777;
	ld.from_uri = sip_str_c("sip:a@x");
	ld.from_tag = sip_str_c("ft");
	ld.to_uri = sip_str_c("sip:b@y");
	ld.to_tag = sip_str_c("tt");
	ld.req_uri = sip_str_c("sip:b@y");
	ld.caller_contact = sip_str_c("sip:a@1.2.3.4");
	ld.callee_contact = sip_str_c("sip:b@5.6.7.8");
	ld.caller_cseq = 12;
	ld.callee_cseq = 3;
	ld.state = DLG_STATE_CONFIRMED;
	ld.start_time = (int64_t)time(NULL) - 10;
	ld.timeout = (int64_t)time(NULL) + 100;
	ld.sflags = 5;
	ld.iflags = DLG_IFLAG_TIMEOUTBYE;
	assert_int_equal(dlg_load(e.t, &ld, &c), 0);
	assert_int_equal(dlg_state(c), DLG_STATE_CONFIRMED);
	assert_int_equal(sv(e.ds.active_dialogs), 1);
	assert_int_equal(sv(e.ds.processed_dialogs), 0);
	x = dlg_lookup_id(e.t, he, 777);
	assert_ptr_equal(x, c);
	dlg_unref(x);
	in = dlg_info_get(c, 0);
	assert_string_equal(in->callee.tag, "tt");
	assert_int_equal(in->caller.cseq, 12);
	assert_int_equal(in->callee.cseq, 3);
	assert_int_equal(in->sflags, 5);
	assert_int_equal(in->iflags, DLG_IFLAG_TIMEOUTBYE);
	assert_int_equal(in->lifetime, 110);
	/* the stored timeout exactly, also listed in a later second */
	assert_int_equal(in->timeout, ld.timeout);
	dlg_info_free(in);
	{
		time_t t0 = time(NULL);

		for (int i = 0; i < 150 && time(NULL) == t0; i++)
			usleep(10000);
		assert_true(time(NULL) != t0);
		in = dlg_info_get(c, 0);
		assert_int_equal(in->timeout, ld.timeout);
		dlg_info_free(in);
	}
	/* The same id again, or an h_entry that is not the Call-ID's. */
	assert_int_equal(dlg_load(e.t, &ld, &x), -EEXIST);
	ld.h_id = 778;
	ld.h_entry = (he + 1) % dlg_table_config(e.t)->hash_size;
	assert_int_equal(dlg_load(e.t, &ld, &x), -EINVAL);
	ld.h_entry = he;
	ld.state = 1;
	assert_int_equal(dlg_load(e.t, &ld, &x), -EINVAL);
	/* A tight match on the restored tags works. */
	{
		struct dlg_req rq = { .method = SIP_METHOD_BYE,
				      .callid = sip_str_c("load-1@x"),
				      .from_tag = sip_str_c("tt"),
				      .to_tag = sip_str_c("ft"), .cseq = 4 };
		char did[20];
		enum dlg_dir dir;

		dlg_cookie_value(he, 777, did, sizeof(did));
		rq.did = sip_str_c(did);
		assert_int_equal(dlg_match(e.t, &rq, DLG_MATCH_CFG, &x, &dir), 0);
		assert_ptr_equal(x, c);
		assert_int_equal(dir, DLG_DIR_UPSTREAM);
		dlg_unref(x);
	}
	dlg_unref(c);
	env_down(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_hash_vectors),
		cmocka_unit_test(test_cookie_examples),
		cmocka_unit_test(test_cookie_malformed),
		cmocka_unit_test(test_h_id_series),
		cmocka_unit_test(test_table_alloc_errors),
		cmocka_unit_test(test_state_table),
		cmocka_unit_test(test_failed_and_stats),
		cmocka_unit_test(test_forking),
		cmocka_unit_test(test_spirals),
		cmocka_unit_test(test_profile_remote),
		cmocka_unit_test(test_reserve_id),
		cmocka_unit_test(test_manage_errors),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_vars),
		cmocka_unit_test(test_callbacks),
		cmocka_unit_test(test_info_and_cseq),
		cmocka_unit_test(test_end_and_discard),
		cmocka_unit_test(test_force_state),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
