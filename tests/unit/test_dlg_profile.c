/*
 * test_dlg_profile.c - dialog profiles with and without value: set (no
 * double count), unset, is_in_profile, O(1) sizes per profile and per
 * value, removal when the dialog enters state 5, profile_list, the info
 * snapshot, and concurrent use.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/timer.h"
#include "dialog/dlg.h"

struct env {
	struct tmr_service *ts;
	struct dlg_table *t;
	struct dlg_profile *caller, *inbound;
};

static const char *const prof_wv[] = { "caller", "dest" };
static const char *const prof_nv[] = { "inbound", "outbound" };

static void env_up(struct env *e)
{
	struct dlg_config c;

	memset(&c, 0, sizeof(c));
	c.hash_size = 256;
	c.rr_param = "did";
	c.default_timeout_ms = 3600 * 1000;
	c.detect_spirals = 1;
	c.early_timeout_ms = 300 * 1000;
	c.end_timeout_ms = 300 * 1000;
	c.profiles_with_value = prof_wv;
	c.n_profiles_with_value = 2;
	c.profiles_no_value = prof_nv;
	c.n_profiles_no_value = 2;
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

static int rpl(struct dlg_cell *c, int code)
{
	struct dlg_reply r = { .code = code };

	r.to_tag = sip_str_c("tt");
	return dlg_on_reply(c, &r);
}

static uint64_t size(struct dlg_profile *p, const char *v)
{
	return dlg_profile_size(p, v ? sip_str_c(v) : SIP_STR_NULL);
}

#define V(s) sip_str_c(s)
#define NOV SIP_STR_NULL

static void test_profile_basic(void **state)
{
	struct env e;
	struct dlg_cell *a, *b;

	env_up(&e);
	assert_null(dlg_profile_lookup(e.t, V("nope")));
	assert_null(dlg_profile_lookup(e.t, V("Caller")));
	assert_string_equal(dlg_profile_name(e.caller), "caller");
	assert_true(dlg_profile_has_value(e.caller));
	assert_false(dlg_profile_has_value(e.inbound));
	a = mk(&e, "a@x");
	b = mk(&e, "b@x");
	/* With value: a value is required. */
	assert_int_equal(dlg_profile_set(a, e.caller, NOV), -EINVAL);
	assert_int_equal(dlg_profile_set(a, e.caller, V("")), -EINVAL);
	assert_int_equal(dlg_profile_set(a, e.caller, V("alice")), 0);
	assert_int_equal(dlg_profile_set(a, e.caller, V("alice")), 1);
	assert_int_equal(dlg_profile_set(b, e.caller, V("alice")), 0);
	assert_int_equal(size(e.caller, "alice"), 2);
	assert_int_equal(size(e.caller, NULL), 2);
	assert_int_equal(size(e.caller, "bob"), 0);
	assert_int_equal(size(e.caller, "Alice"), 0);	/* exact bytes */
	/* Without value: the value is ignored. */
	assert_int_equal(dlg_profile_set(a, e.inbound, NOV), 0);
	assert_int_equal(dlg_profile_set(a, e.inbound, V("whatever")), 1);
	assert_int_equal(size(e.inbound, NULL), 1);
	assert_int_equal(size(e.inbound, "whatever"), 1);
	assert_int_equal(dlg_profile_is_in(a, e.inbound, NOV), 1);
	assert_int_equal(dlg_profile_is_in(b, e.inbound, NOV), 0);
	assert_int_equal(dlg_profile_is_in(a, e.caller, V("alice")), 1);
	assert_int_equal(dlg_profile_is_in(a, e.caller, V("bob")), 0);
	assert_int_equal(dlg_profile_is_in(a, e.caller, NOV), 1);
	/* Unset. */
	assert_int_equal(dlg_profile_unset(a, e.caller, V("bob")), -ENOENT);
	assert_int_equal(dlg_profile_unset(a, e.caller, V("alice")), 0);
	assert_int_equal(dlg_profile_unset(a, e.caller, V("alice")), -ENOENT);
	assert_int_equal(size(e.caller, "alice"), 1);
	assert_int_equal(dlg_profile_unset(a, e.inbound, NOV), 0);
	assert_int_equal(size(e.inbound, NULL), 0);
	/* Several values of one profile; unset without value: all. */
	assert_int_equal(dlg_profile_set(a, e.caller, V("v1")), 0);
	assert_int_equal(dlg_profile_set(a, e.caller, V("v2")), 0);
	assert_int_equal(size(e.caller, NULL), 3);
	assert_int_equal(dlg_profile_unset(a, e.caller, NOV), 0);
	assert_int_equal(size(e.caller, NULL), 1);
	assert_int_equal(size(e.caller, "v1"), 0);
	dlg_discard(a);
	dlg_discard(b);
	assert_int_equal(size(e.caller, NULL), 0);
	dlg_unref(a);
	dlg_unref(b);
	env_down(&e);
}

static void test_profile_state5(void **state)
{
	struct env e;
	struct dlg_cell *c[4];
	struct dlg_req bye = { .method = SIP_METHOD_BYE, .cseq = 3 };
	struct dlg_req ack = { .method = SIP_METHOD_ACK, .cseq = 1 };

	env_up(&e);
	for (int i = 0; i < 4; i++) {
		char cid[32];

		snprintf(cid, sizeof(cid), "s5-%d@x", i);
		c[i] = mk(&e, cid);
		dlg_profile_set(c[i], e.caller, V("u"));
		dlg_profile_set(c[i], e.inbound, NOV);
	}
	/* Early and unconfirmed dialogs count. */
	rpl(c[1], 180);
	assert_int_equal(size(e.caller, "u"), 4);
	/* Failure. */
	rpl(c[0], 486);
	assert_int_equal(size(e.caller, "u"), 3);
	assert_int_equal(size(e.inbound, NULL), 3);
	/* Confirmed, then BYE. */
	rpl(c[1], 200);
	dlg_on_request(c[1], DLG_DIR_DOWNSTREAM, &ack);
	assert_int_equal(size(e.caller, "u"), 3);
	dlg_on_request(c[1], DLG_DIR_UPSTREAM, &bye);
	assert_int_equal(size(e.caller, "u"), 2);
	/* Local end. */
	rpl(c[2], 200);
	dlg_end(c[2], NULL);
	assert_int_equal(size(e.caller, "u"), 1);
	assert_int_equal(dlg_profile_is_in(c[2], e.caller, NOV), 0);
	/* No joining once ended. */
	assert_int_equal(dlg_profile_set(c[2], e.caller, V("u")), -ESTALE);
	assert_int_equal(size(e.caller, "u"), 1);
	/* A revived dialog (late 2xx) starts with no profile. */
	assert_int_equal(rpl(c[0], 200), DLG_RC_CHANGED);
	assert_int_equal(dlg_profile_is_in(c[0], e.caller, NOV), 0);
	assert_int_equal(dlg_profile_set(c[0], e.caller, V("u")), 0);
	assert_int_equal(size(e.caller, "u"), 2);
	dlg_end(c[0], NULL);
	dlg_discard(c[3]);
	assert_int_equal(size(e.caller, NULL), 0);
	assert_int_equal(size(e.inbound, NULL), 0);
	for (int i = 0; i < 4; i++)
		dlg_unref(c[i]);
	env_down(&e);
}

/* Many values: the map grows, every size stays exact. */
static void test_profile_many(void **state)
{
	enum { N = 3000, NV = 400 };
	static struct dlg_cell *c[N];
	static uint64_t model[NV];
	struct env e;
	char cid[32], v[32];

	env_up(&e);
	memset(model, 0, sizeof(model));
	for (int i = 0; i < N; i++) {
		int k = (int)((i * 7919u) % NV);

		snprintf(cid, sizeof(cid), "many-%d@x", i);
		snprintf(v, sizeof(v), "user%d", k);
		c[i] = mk(&e, cid);
		assert_int_equal(dlg_profile_set(c[i], e.caller, V(v)), 0);
		model[k]++;
		if (i % 2)
			dlg_profile_set(c[i], e.inbound, NOV);
	}
	assert_int_equal(size(e.caller, NULL), N);
	assert_int_equal(size(e.inbound, NULL), N / 2);
	for (int k = 0; k < NV; k++) {
		snprintf(v, sizeof(v), "user%d", k);
		assert_int_equal(size(e.caller, v), model[k]);
	}
	for (int i = 0; i < N; i += 3) {
		int k = (int)((i * 7919u) % NV);

		dlg_discard(c[i]);
		model[k]--;
	}
	for (int k = 0; k < NV; k++) {
		snprintf(v, sizeof(v), "user%d", k);
		assert_int_equal(size(e.caller, v), model[k]);
	}
	for (int i = 0; i < N; i++) {
		dlg_discard(c[i]);
		dlg_unref(c[i]);
	}
	assert_int_equal(size(e.caller, NULL), 0);
	assert_int_equal(size(e.inbound, NULL), 0);
	assert_int_equal(size(e.caller, "user1"), 0);
	env_down(&e);
}

struct lst {
	struct env *e;
	int n;
	int stop_at;
};

static int list_fn(struct dlg_cell *c, void *ud)
{
	struct lst *l = ud;

	/* No profile or slot lock is held. */
	(void)dlg_profile_size(l->e->caller, NOV);
	(void)dlg_profile_is_in(c, l->e->caller, NOV);
	l->n++;
	return l->stop_at && l->n >= l->stop_at;
}

static void test_profile_list(void **state)
{
	struct env e;
	struct dlg_cell *c[10];
	struct lst l = { &e, 0, 0 };
	struct dlg_info *in;

	env_up(&e);
	for (int i = 0; i < 10; i++) {
		char cid[32];

		snprintf(cid, sizeof(cid), "l%d@x", i);
		c[i] = mk(&e, cid);
		dlg_profile_set(c[i], e.caller, V(i < 4 ? "a" : "b"));
		if (i == 0)
			dlg_profile_set(c[i], e.caller, V("b"));
	}
	assert_int_equal(dlg_profile_list(e.caller, V("a"), list_fn, &l), 4);
	assert_int_equal(l.n, 4);
	l.n = 0;
	assert_int_equal(dlg_profile_list(e.caller, V("b"), list_fn, &l), 7);
	l.n = 0;
	/* Once per membership: c[0] twice. */
	assert_int_equal(dlg_profile_list(e.caller, NOV, list_fn, &l), 11);
	l.n = 0;
	l.stop_at = 3;
	assert_int_equal(dlg_profile_list(e.caller, NOV, list_fn, &l), 3);
	l.n = 0;
	l.stop_at = 0;
	assert_int_equal(dlg_profile_list(e.caller, V("zz"), list_fn, &l), 0);
	assert_int_equal(dlg_profile_list(e.inbound, NOV, list_fn, &l), 0);
	/* The snapshot lists memberships newest first, as Kamailio does. */
	dlg_profile_set(c[0], e.inbound, NOV);
	in = dlg_info_get(c[0], 0);
	assert_int_equal(in->n_profiles, 3);
	assert_string_equal(in->profiles[0].name, "inbound");
	assert_null(in->profiles[0].value);
	assert_string_equal(in->profiles[1].value, "b");
	assert_string_equal(in->profiles[2].name, "caller");
	assert_string_equal(in->profiles[2].value, "a");
	dlg_info_free(in);
	dlg_discard(c[0]);
	in = dlg_info_get(c[0], 0);
	assert_int_equal(in->n_profiles, 0);
	dlg_info_free(in);
	for (int i = 0; i < 10; i++) {
		dlg_discard(c[i]);
		dlg_unref(c[i]);
	}
	env_down(&e);
}

struct worker {
	struct env *e;
	int id;
	int bad;
};

static void *prof_worker(void *arg)
{
	struct worker *w = arg;
	struct dlg_profile *dest = dlg_profile_lookup(w->e->t, V("dest"));
	char cid[32], v[32];

	for (int i = 0; i < 1500; i++) {
		struct dlg_invite inv;
		struct dlg_cell *c;

		memset(&inv, 0, sizeof(inv));
		snprintf(cid, sizeof(cid), "thr%d-%d@x", w->id, i);
		snprintf(v, sizeof(v), "d%d", i % 5);
		inv.callid = V(cid);
		inv.from_tag = V("ft");
		inv.contact = V("sip:a@b");
		if (dlg_manage(w->e->t, &inv, NULL, &c) != DLG_RC_CREATED) {
			w->bad++;
			continue;
		}
		dlg_profile_set(c, dest, V(v));
		dlg_profile_set(c, w->e->inbound, NOV);
		if (dlg_profile_size(dest, V(v)) < 1)
			w->bad++;
		if (i % 3 == 0)
			dlg_profile_unset(c, dest, V(v));
		if (i % 2) {
			rpl(c, 200);
			dlg_end(c, NULL);
		} else {
			rpl(c, 486);
		}
		if (dlg_profile_is_in(c, w->e->inbound, NOV))
			w->bad++;
		dlg_unref(c);
	}
	return NULL;
}

static void test_profile_threads(void **state)
{
	struct env e;
	pthread_t th[4];
	struct worker w[4];
	struct dlg_profile *dest;

	env_up(&e);
	dest = dlg_profile_lookup(e.t, V("dest"));
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ &e, i, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, prof_worker,
						&w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].bad, 0);
	}
	assert_int_equal(size(dest, NULL), 0);
	assert_int_equal(size(e.inbound, NULL), 0);
	for (int k = 0; k < 5; k++) {
		char v[32];

		snprintf(v, sizeof(v), "d%d", k);
		assert_int_equal(size(dest, v), 0);
	}
	env_down(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile_basic),
		cmocka_unit_test(test_profile_state5),
		cmocka_unit_test(test_profile_many),
		cmocka_unit_test(test_profile_list),
		cmocka_unit_test(test_profile_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
