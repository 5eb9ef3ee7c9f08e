/*
 * test_dlg_stress.c - 10,000 dialogs with random outcomes (answered and
 * ended by either side, busy, cancelled, late 2xx, forked, spiraled, timed
 * out, never ACKed, stuck early, discarded, long-lived), interleaved 32 at
 * a time with forged requests mixed in: every profile size is checked
 * against a model at checkpoints, and every statistic, profile and match
 * counter ends where the model says.  Then a 4-thread smoke test with a
 * concurrent reader.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/stats.h"
#include "core/timer.h"
#include "dialog/dlg.h"
#include "dialog/dlg_stats.h"

#define WAIT_MAX_MS 20000
#define NUSERS 50

struct env {
	struct tmr_service *ts;
	struct stats *st;
	struct dlg_stats ds;
	struct dlg_table *t;
	struct dlg_profile *caller, *inbound;
};

static const char *const prof_wv[] = { "caller" };
static const char *const prof_nv[] = { "inbound" };

static atomic_int n_created, n_destroy, n_failed, n_expired;

static void count_cb(struct dlg_cell *c, int type,
		     const struct dlg_cb_params *p)
{
	switch (type) {
	case DLGCB_CREATED: atomic_fetch_add(&n_created, 1); break;
	case DLGCB_DESTROY: atomic_fetch_add(&n_destroy, 1); break;
	case DLGCB_FAILED: atomic_fetch_add(&n_failed, 1); break;
	case DLGCB_EXPIRED: atomic_fetch_add(&n_expired, 1); break;
	}
}

/*
 * Clean-up timers of the table.  The single-threaded run uses short ones
 * (its outcomes include stuck early and never-ACKed dialogs); the
 * multi-threaded run avoids those outcomes and uses long ones, so that a
 * thread held back by a slow machine (valgrind serialises threads) never
 * sees a timer end a dialog between two of its steps.
 */
static uint64_t early_timeout_ms = 400, noack_timeout_ms = 300;

static void env_up(struct env *e, uint32_t hash_size)
{
	struct dlg_config c;

	memset(&c, 0, sizeof(c));
	c.hash_size = hash_size;
	c.rr_param = "did";
	c.default_timeout_ms = 3600 * 1000;
	c.match_mode = DLG_MATCH_DID_ONLY;
	c.detect_spirals = 1;
	c.early_timeout_ms = early_timeout_ms;
	c.noack_timeout_ms = noack_timeout_ms;
	c.end_timeout_ms = 300 * 1000;
	c.profiles_with_value = prof_wv;
	c.n_profiles_with_value = 1;
	c.profiles_no_value = prof_nv;
	c.n_profiles_no_value = 1;
	memset(e, 0, sizeof(*e));
	e->ts = tmr_service_alloc();
	assert_int_equal(tmr_service_start(e->ts), 0);
	e->st = stats_alloc();
	dlg_stats_register(e->st, 1, &e->ds);
	assert_int_equal(dlg_table_alloc(&c, e->ts, &e->ds, &e->t), 0);
	e->caller = dlg_profile_lookup(e->t, sip_str_c("caller"));
	e->inbound = dlg_profile_lookup(e->t, sip_str_c("inbound"));
	atomic_store(&n_created, 0);
	atomic_store(&n_destroy, 0);
	atomic_store(&n_failed, 0);
	atomic_store(&n_expired, 0);
	assert_int_equal(dlg_register_global_cb(e->t,
				DLGCB_CREATED | DLGCB_DESTROY | DLGCB_FAILED |
					DLGCB_EXPIRED, count_cb, NULL, NULL),
			 0);
}

static void env_down(struct env *e)
{
	tmr_service_free(e->ts);
	dlg_table_free(e->t);
	stats_free(e->st);
}

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static void wait_table_empty(struct env *e)
{
	uint64_t t0 = tmr_now_ms(), counts[6];

	for (;;) {
		dlg_count_states(e->t, counts);
		if (!(counts[1] + counts[2] + counts[3] + counts[4] + counts[5]))
			return;
		if (tmr_now_ms() - t0 > WAIT_MAX_MS)
			fail_msg("table not empty: %llu %llu %llu %llu %llu",
				 (unsigned long long)counts[1],
				 (unsigned long long)counts[2],
				 (unsigned long long)counts[3],
				 (unsigned long long)counts[4],
				 (unsigned long long)counts[5]);
		usleep(5000);
	}
}

/* ---- one call, step by step ------------------------------------------------ */

enum outcome {
	O_BYE_CALLER, O_BYE_CALLEE, O_BUSY, O_CANCEL, O_TIMEOUT, O_NOACK,
	O_EARLY_STUCK, O_LONG, O_FORK, O_SPIRAL, O_LATE_2XX, O_DISCARD, O_N
};

struct call {
	struct dlg_cell *c;
	enum outcome o;
	int step;
	int user;
	char callid[32], did[20];
};

struct run {
	struct env *e;
	uint64_t seed;
	int n_forged_mismatch, n_forged_missing, n_forged_bad, n_matched;
	int expect_failed, expect_expired;
};

static void reply(struct call *k, int code, const char *tag, int want)
{
	struct dlg_reply r = { .code = code };
	int rc;

	r.to_tag = sip_str_c(tag);
	r.contact = sip_str_c("sip:bob@10.0.0.2");
	r.route_set = sip_str_c("<sip:p2;lr>");
	rc = dlg_on_reply(k->c, &r);
	if (want >= 0 && rc != want)
		fail_msg("%s: reply %d: rc %d want %d (state %d, outcome %d)",
			 k->callid, code, rc, want, dlg_state(k->c), k->o);
}

/* A sequential request that must match, with its cookie. */
static void seq(struct run *ru, struct call *k, enum sip_method m, bool up,
		const char *ttag, int want)
{
	struct dlg_req rq;
	struct dlg_cell *c = NULL;
	enum dlg_dir d;
	int rc;

	memset(&rq, 0, sizeof(rq));
	rq.method = m;
	rq.callid = sip_str_c(k->callid);
	rq.from_tag = sip_str_c(up ? ttag : "ft");
	rq.to_tag = sip_str_c(up ? "ft" : ttag);
	rq.did = sip_str_c(k->did);
	rq.cseq = (uint32_t)(k->step + 2);
	if (m == SIP_METHOD_INVITE)
		rq.contact = sip_str_c(up ? "sip:b@9.9.9.9" : "sip:a@8.8.8.8");
	rc = dlg_match(ru->e->t, &rq, DLG_MATCH_CFG, &c, &d);
	if (rc)
		fail_msg("%s: legit request not matched: %d", k->callid, rc);
	ru->n_matched++;
	assert_ptr_equal(c, k->c);
	assert_int_equal(d, up ? DLG_DIR_UPSTREAM : DLG_DIR_DOWNSTREAM);
	rc = dlg_on_request(c, d, &rq);
	if (want >= 0 && rc != want)
		fail_msg("%s: request %d: rc %d want %d (state %d)", k->callid,
			 m, rc, want, dlg_state(c));
	dlg_unref(c);
}

static void forge(struct run *ru, struct call *k)
{
	struct dlg_req rq;
	struct dlg_cell *c = NULL;
	enum dlg_dir d;
	char did[24];
	uint64_t r = rnd(&ru->seed) % 3;

	memset(&rq, 0, sizeof(rq));
	rq.method = SIP_METHOD_BYE;
	rq.callid = sip_str_c(k->callid);
	rq.from_tag = sip_str_c("forged-f");
	rq.to_tag = sip_str_c("forged-t");
	if (r == 0) {
		rq.did = sip_str_c(k->did);
		assert_int_equal(dlg_match(ru->e->t, &rq, -1, &c, &d), -ESRCH);
		ru->n_forged_mismatch++;
	} else if (r == 1) {
		dlg_cookie_value(dlg_h_entry(k->c), 0xfffffff0u, did,
				 sizeof(did));
		rq.did = sip_str_c(did);
		assert_int_equal(dlg_match(ru->e->t, &rq, -1, &c, &d), -ENOENT);
		ru->n_forged_missing++;
	} else {
		rq.did = sip_str_c("q.z");
		assert_int_equal(dlg_match(ru->e->t, &rq, -1, &c, &d),
				 -EBADMSG);
		ru->n_forged_bad++;
	}
}

static void start(struct run *ru, struct call *k, int idx)
{
	struct dlg_invite inv;
	struct dlg_create_opts o = { 0 };
	char user[32];

	memset(k, 0, sizeof(*k));
	k->o = (enum outcome)(rnd(&ru->seed) % O_N);
	k->user = (int)(rnd(&ru->seed) % NUSERS);
	snprintf(k->callid, sizeof(k->callid), "stress-%d@h", idx);
	if (k->o == O_TIMEOUT)
		o.lifetime_ms = 20 + rnd(&ru->seed) % 40;
	memset(&inv, 0, sizeof(inv));
	inv.callid = sip_str_c(k->callid);
	inv.from_tag = sip_str_c("ft");
	inv.contact = sip_str_c("sip:a@10.0.0.1");
	inv.route_set = sip_str_c("<sip:p1;lr>");
	inv.cseq = 1;
	assert_int_equal(dlg_manage(ru->e->t, &inv, &o, &k->c),
			 DLG_RC_CREATED);
	dlg_cookie_value(dlg_h_entry(k->c), dlg_h_id(k->c), k->did,
			 sizeof(k->did));
	snprintf(user, sizeof(user), "u%d", k->user);
	assert_int_equal(dlg_profile_set(k->c, ru->e->caller,
					 sip_str_c(user)), 0);
	assert_int_equal(dlg_profile_set(k->c, ru->e->inbound, SIP_STR_NULL),
			 0);
}

/* Advance @k by one step; returns true when its script is over. */
static bool step(struct run *ru, struct call *k)
{
	int s = k->step++;

	switch (k->o) {
	case O_BYE_CALLER:
	case O_BYE_CALLEE:
	case O_LONG:
		switch (s) {
		case 0: reply(k, 180, "tt", DLG_RC_CHANGED); return false;
		case 1: reply(k, 200, "tt", DLG_RC_CHANGED); return false;
		case 2: seq(ru, k, SIP_METHOD_ACK, false, "tt", DLG_RC_CHANGED);
			return k->o == O_LONG;
		case 3: seq(ru, k, SIP_METHOD_INFO, true, "tt", DLG_RC_NONE);
			return false;
		case 4: seq(ru, k, SIP_METHOD_INVITE, s & 1, "tt", DLG_RC_NONE);
			return false;
		default:
			seq(ru, k, SIP_METHOD_BYE, k->o == O_BYE_CALLEE, "tt",
			    DLG_RC_CHANGED);
			return true;
		}
	case O_BUSY:
	case O_CANCEL:
		if (s == 0 && k->o == O_CANCEL) {
			reply(k, 183, "tt", DLG_RC_CHANGED);
			return false;
		}
		reply(k, k->o == O_CANCEL ? 487 : 486, "tt", DLG_RC_CHANGED);
		ru->expect_failed++;
		return true;
	case O_TIMEOUT:
	case O_NOACK:
		if (s == 0) {
			reply(k, 200, "tt", DLG_RC_CHANGED);
			if (k->o == O_NOACK) {
				ru->expect_expired++;
				return true;
			}
			return false;
		}
		/* The short lifetime may already have run out. */
		seq(ru, k, SIP_METHOD_ACK, false, "tt", -1);
		ru->expect_expired++;
		return true;
	case O_EARLY_STUCK:
		reply(k, 180, "tt", DLG_RC_CHANGED);
		ru->expect_failed++;
		return true;
	case O_FORK:
		switch (s) {
		case 0: reply(k, 180, "ta", DLG_RC_CHANGED); return false;
		case 1: reply(k, 180, "tb", DLG_RC_NONE); return false;
		case 2: reply(k, 200, "tb", DLG_RC_CHANGED); return false;
		case 3: reply(k, 200, "ta", DLG_RC_FORK_2XX); return false;
		case 4: seq(ru, k, SIP_METHOD_ACK, false, "tb", DLG_RC_CHANGED);
			return false;
		default:
			seq(ru, k, SIP_METHOD_BYE, true, "tb", DLG_RC_CHANGED);
			return true;
		}
	case O_SPIRAL:
		if (s == 0) {
			struct dlg_invite inv;
			struct dlg_cell *x = NULL;
			char user[32];

			memset(&inv, 0, sizeof(inv));
			inv.callid = sip_str_c(k->callid);
			inv.from_tag = sip_str_c("ft");
			inv.contact = sip_str_c("sip:a@10.0.0.1");
			assert_int_equal(dlg_manage(ru->e->t, &inv, NULL, &x),
					 DLG_RC_SPIRAL);
			assert_ptr_equal(x, k->c);
			snprintf(user, sizeof(user), "u%d", k->user);
			assert_int_equal(dlg_profile_set(x, ru->e->caller,
							 sip_str_c(user)), 1);
			dlg_unref(x);
			return false;
		}
		if (s == 1) {
			reply(k, 200, "tt", DLG_RC_CHANGED);
			return false;
		}
		if (s == 2) {
			seq(ru, k, SIP_METHOD_ACK, false, "tt", DLG_RC_CHANGED);
			return false;
		}
		seq(ru, k, SIP_METHOD_BYE, false, "tt", DLG_RC_CHANGED);
		return true;
	case O_LATE_2XX:
		switch (s) {
		case 0: reply(k, 487, "tt", DLG_RC_CHANGED);
			ru->expect_failed++;
			return false;
		case 1: reply(k, 200, "tt", DLG_RC_CHANGED); return false;
		case 2: seq(ru, k, SIP_METHOD_ACK, false, "tt", DLG_RC_CHANGED);
			return false;
		default:
			seq(ru, k, SIP_METHOD_BYE, true, "tt", DLG_RC_CHANGED);
			return true;
		}
	default:
		dlg_discard(k->c);
		return true;
	}
}

static bool settles_by_timer(const struct call *k)
{
	return k->o == O_TIMEOUT || k->o == O_NOACK || k->o == O_EARLY_STUCK;
}

/* Every held dialog not in state 5 counts in its profiles. */
static void check_profiles(struct run *ru, struct call **held, size_t n)
{
	uint64_t per[NUSERS] = { 0 }, live = 0;
	char user[32];

	for (size_t i = 0; i < n; i++) {
		if (dlg_state(held[i]->c) == DLG_STATE_DELETED)
			continue;
		per[held[i]->user]++;
		live++;
	}
	assert_int_equal(dlg_profile_size(ru->e->caller, SIP_STR_NULL), live);
	assert_int_equal(dlg_profile_size(ru->e->inbound, SIP_STR_NULL), live);
	for (int u = 0; u < NUSERS; u++) {
		snprintf(user, sizeof(user), "u%d", u);
		assert_int_equal(dlg_profile_size(ru->e->caller,
						  sip_str_c(user)), per[u]);
	}
}

static void wait_settled(struct call **held, size_t n)
{
	uint64_t t0 = tmr_now_ms();

	for (size_t i = 0; i < n; i++) {
		if (!settles_by_timer(held[i]))
			continue;
		while (dlg_state(held[i]->c) != DLG_STATE_DELETED) {
			if (tmr_now_ms() - t0 > WAIT_MAX_MS)
				fail_msg("%s did not settle", held[i]->callid);
			usleep(2000);
		}
	}
}

static void test_random_10000(void **state)
{
	enum { N = 10000, INFLIGHT = 32, CHECK_EVERY = 1000 };
	static struct call calls[N];
	static struct call *held[N];
	struct call *fly[INFLIGHT];
	size_t nheld = 0, nfly = 0;
	struct env e;
	struct run ru;
	struct dlg_match_counters mc;
	int next = 0, done = 0;

	env_up(&e, 1024);
	memset(&ru, 0, sizeof(ru));
	ru.e = &e;
	ru.seed = 0x9d1a5eedULL ^ (uint64_t)time(NULL);
	print_message("# seed %llu\n", (unsigned long long)ru.seed);

	while (done < N) {
		if (nfly < INFLIGHT && next < N &&
		    (nfly == 0 || rnd(&ru.seed) % 3 == 0)) {
			start(&ru, &calls[next], next);
			fly[nfly++] = &calls[next];
			next++;
			continue;
		}
		size_t i = (size_t)(rnd(&ru.seed) % nfly);
		struct call *k = fly[i];

		if (rnd(&ru.seed) % 10 == 0)
			forge(&ru, k);
		if (!step(&ru, k))
			continue;
		fly[i] = fly[--nfly];
		done++;
		if (k->o == O_LONG || settles_by_timer(k)) {
			held[nheld++] = k;
		} else {
			dlg_unref(k->c);
			k->c = NULL;
		}
		if (done % CHECK_EVERY == 0) {
			/* Quiesce: finish nothing new, let timers settle. */
			while (nfly) {
				k = fly[0];
				while (!step(&ru, k))
					;
				fly[0] = fly[--nfly];
				done++;
				if (k->o == O_LONG || settles_by_timer(k)) {
					held[nheld++] = k;
				} else {
					dlg_unref(k->c);
					k->c = NULL;
				}
			}
			wait_settled(held, nheld);
			check_profiles(&ru, held, nheld);
			assert_int_equal(stat_get(e.ds.early_dialogs), 0);
		}
	}
	/* Hang up the long calls, release everything. */
	wait_settled(held, nheld);
	check_profiles(&ru, held, nheld);
	for (size_t i = 0; i < nheld; i++) {
		if (held[i]->o == O_LONG)
			assert_int_equal(dlg_end(held[i]->c, NULL),
					 DLG_RC_CHANGED);
		dlg_unref(held[i]->c);
	}
	wait_table_empty(&e);

	assert_int_equal(stat_get(e.ds.active_dialogs), 0);
	assert_int_equal(stat_get(e.ds.early_dialogs), 0);
	assert_int_equal(stat_get(e.ds.processed_dialogs), N);
	assert_int_equal(stat_get(e.ds.failed_dialogs), ru.expect_failed);
	assert_int_equal(stat_get(e.ds.expired_dialogs), ru.expect_expired);
	assert_int_equal(atomic_load(&n_failed), ru.expect_failed);
	assert_int_equal(atomic_load(&n_expired), ru.expect_expired);
	assert_int_equal(atomic_load(&n_created), N);
	assert_int_equal(atomic_load(&n_destroy), N);
	assert_int_equal(dlg_profile_size(e.caller, SIP_STR_NULL), 0);
	assert_int_equal(dlg_profile_size(e.inbound, SIP_STR_NULL), 0);
	dlg_match_counters_get(e.t, &mc);
	assert_int_equal(mc.matched, ru.n_matched);
	assert_int_equal(mc.mismatch, ru.n_forged_mismatch);
	assert_int_equal(mc.not_found, ru.n_forged_missing);
	assert_int_equal(mc.bad_cookie, ru.n_forged_bad);
	assert_int_equal(mc.no_cookie, 0);
	assert_int_equal(tmr_pending(e.ts), 0);
	env_down(&e);
}

/* ---- threads ----------------------------------------------------------- */

struct tw {
	struct env *e;
	int id;
	uint64_t seed;
	atomic_bool *stop;
	int fails;
};

static void *worker(void *arg)
{
	struct tw *w = arg;
	struct run ru;

	memset(&ru, 0, sizeof(ru));
	ru.e = w->e;
	ru.seed = w->seed;
	for (int i = 0; i < 2000; i++) {
		struct call k;

		start(&ru, &k, w->id * 100000 + i);
		/* Outcomes that need no timer to finish quickly. */
		if (k.o == O_EARLY_STUCK || k.o == O_NOACK)
			k.o = O_CANCEL;
		if (k.o == O_LONG)
			k.o = O_BYE_CALLEE;
		while (!step(&ru, &k))
			;
		dlg_unref(k.c);
	}
	return NULL;
}

static void *reader(void *arg)
{
	struct tw *w = arg;

	while (!atomic_load(w->stop)) {
		struct dlg_cursor cur = { 0, 0, false };
		struct dlg_cell *b[16];
		uint64_t counts[6];

		while (!cur.done) {
			size_t n = dlg_cursor_next(w->e->t, &cur, b, 16);

			for (size_t i = 0; i < n; i++) {
				struct dlg_info *in = dlg_info_get(b[i], 0);
				struct dlg_cell *x;

				if (!in || in->h_id != dlg_h_id(b[i]))
					w->fails++;
				dlg_info_free(in);
				x = dlg_lookup_id(w->e->t, dlg_h_entry(b[i]),
						  dlg_h_id(b[i]));
				dlg_unref(x);
				dlg_unref(b[i]);
			}
		}
		dlg_count_states(w->e->t, counts);
		(void)dlg_profile_size(w->e->caller, sip_str_c("u1"));
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct env e;
	pthread_t th[5];
	struct tw w[5];
	atomic_bool stop = false;

	early_timeout_ms = noack_timeout_ms = 600000;
	env_up(&e, 64);
	for (int i = 0; i < 5; i++) {
		w[i] = (struct tw){ &e, i, 0x1234567ULL * (uint64_t)(i + 1),
				    &stop, 0 };
		assert_int_equal(pthread_create(&th[i], NULL,
						i < 4 ? worker : reader, &w[i]),
				 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	atomic_store(&stop, true);
	pthread_join(th[4], NULL);
	assert_int_equal(w[4].fails, 0);
	wait_table_empty(&e);
	assert_int_equal(stat_get(e.ds.active_dialogs), 0);
	assert_int_equal(stat_get(e.ds.early_dialogs), 0);
	assert_int_equal(stat_get(e.ds.processed_dialogs), 8000);
	assert_int_equal(atomic_load(&n_destroy), 8000);
	assert_int_equal(stat_get(e.ds.failed_dialogs), atomic_load(&n_failed));
	assert_int_equal(stat_get(e.ds.expired_dialogs),
			 atomic_load(&n_expired));
	assert_int_equal(dlg_profile_size(e.caller, SIP_STR_NULL), 0);
	assert_int_equal(dlg_profile_size(e.inbound, SIP_STR_NULL), 0);
	env_down(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_10000),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
