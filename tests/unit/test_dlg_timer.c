/*
 * test_dlg_timer.c - dialog timers on the shared timer service: lifetime
 * expiry, reset by the ACK and by requests (and timeout_noreset), per
 * dialog timeouts, the still_active refresh hook, the no-ACK guard, the
 * early-dialog and ended-dialog clean-ups, and re-arming races.
 * Timeouts are 40-300 ms; every wait is bounded.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
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

#define WAIT_MAX_MS 5000

struct env {
	struct tmr_service *ts;
	struct stats *st;
	struct dlg_stats ds;
	struct dlg_table *t;
};

static const char *const prof_nv[] = { "inbound" };

static void cfg_defaults(struct dlg_config *c)
{
	memset(c, 0, sizeof(*c));
	c->hash_size = 64;
	c->rr_param = "did";
	c->default_timeout_ms = 3600 * 1000;
	c->early_timeout_ms = 300 * 1000;
	c->noack_timeout_ms = 60 * 1000;
	c->end_timeout_ms = 300 * 1000;
	c->detect_spirals = 1;
	c->profiles_no_value = prof_nv;
	c->n_profiles_no_value = 1;
}

static void env_up(struct env *e, const struct dlg_config *cfg)
{
	memset(e, 0, sizeof(*e));
	e->ts = tmr_service_alloc();
	assert_int_equal(tmr_service_start(e->ts), 0);
	e->st = stats_alloc();
	dlg_stats_register(e->st, 1, &e->ds);
	assert_int_equal(dlg_table_alloc(cfg, e->ts, &e->ds, &e->t), 0);
}

static void env_down(struct env *e)
{
	tmr_service_free(e->ts);
	dlg_table_free(e->t);
	stats_free(e->st);
}

static struct dlg_cell *mk(struct env *e, const char *callid,
			   uint64_t lifetime_ms)
{
	struct dlg_invite inv;
	struct dlg_create_opts o = { .lifetime_ms = lifetime_ms };
	struct dlg_cell *c = NULL;

	memset(&inv, 0, sizeof(inv));
	inv.callid = sip_str_c(callid);
	inv.from_tag = sip_str_c("ft");
	inv.contact = sip_str_c("sip:a@10.0.0.1");
	inv.cseq = 1;
	assert_int_equal(dlg_manage(e->t, &inv, &o, &c), DLG_RC_CREATED);
	return c;
}

static void rpl(struct dlg_cell *c, int code)
{
	struct dlg_reply r = { .code = code };

	r.to_tag = sip_str_c("tt");
	dlg_on_reply(c, &r);
}

static int req(struct dlg_cell *c, enum sip_method m)
{
	struct dlg_req rq = { .method = m, .cseq = 2 };

	return dlg_on_request(c, DLG_DIR_DOWNSTREAM, &rq);
}

static struct dlg_cell *confirmed(struct env *e, const char *callid,
				  uint64_t lifetime_ms)
{
	struct dlg_cell *c = mk(e, callid, lifetime_ms);

	rpl(c, 200);
	req(c, SIP_METHOD_ACK);
	assert_int_equal(dlg_state(c), DLG_STATE_CONFIRMED);
	return c;
}

/* Wait until @c is in state 5; returns the ms waited (bounded). */
static uint64_t wait_ended(struct dlg_cell *c)
{
	uint64_t t0 = tmr_now_ms();

	while (dlg_state(c) != DLG_STATE_DELETED) {
		if (tmr_now_ms() - t0 > WAIT_MAX_MS)
			fail_msg("dialog did not end within %d ms",
				 WAIT_MAX_MS);
		usleep(2000);
	}
	return tmr_now_ms() - t0;
}

/* The callbacks of an ending run after the state changed, with no lock
 * held, on the timer thread: wait until @n of them have run. */
static void wait_count(atomic_int *v, int n)
{
	uint64_t t0 = tmr_now_ms();

	while (atomic_load(v) < n) {
		if (tmr_now_ms() - t0 > WAIT_MAX_MS)
			fail_msg("callback count %d < %d after %d ms",
				 atomic_load(v), n, WAIT_MAX_MS);
		usleep(2000);
	}
}

struct evrec {
	atomic_int expired, failed, terminated;
	atomic_int old_state;
	atomic_uint iflags;
	pthread_t thread;
	atomic_bool other_thread;
};

static void on_ev(struct dlg_cell *c, int type, const struct dlg_cb_params *p)
{
	struct evrec *r = p->param;

	if (type == DLGCB_EXPIRED) {
		atomic_fetch_add(&r->expired, 1);
		atomic_store(&r->old_state, p->old_state);
		atomic_store(&r->iflags, dlg_iflags(c));
		atomic_store(&r->other_thread,
			     !pthread_equal(pthread_self(), r->thread));
		/* No lock is held here. */
		dlg_info_free(dlg_info_get(c, 0));
	} else if (type == DLGCB_FAILED) {
		atomic_fetch_add(&r->failed, 1);
		atomic_store(&r->old_state, p->old_state);
	} else if (type == DLGCB_TERMINATED) {
		atomic_fetch_add(&r->terminated, 1);
	}
}

static void hook(struct env *e, struct evrec *r)
{
	memset(r, 0, sizeof(*r));
	r->thread = pthread_self();
	assert_int_equal(dlg_register_global_cb(
				 e->t,
				 DLGCB_EXPIRED | DLGCB_FAILED | DLGCB_TERMINATED,
				 on_ev, r, NULL), 0);
}

static void test_expiry(void **state)
{
	struct dlg_config cfg;
	struct env e;
	struct evrec r;
	struct dlg_cell *c;
	struct dlg_profile *p;
	uint32_t he, hi;

	cfg_defaults(&cfg);
	cfg.default_timeout_ms = 100;
	cfg.send_bye = 1;
	env_up(&e, &cfg);
	hook(&e, &r);
	p = dlg_profile_lookup(e.t, sip_str_c("inbound"));
	c = confirmed(&e, "exp@x", 0);
	assert_int_equal(dlg_profile_set(c, p, SIP_STR_NULL), 0);
	assert_int_equal(stat_get(e.ds.active_dialogs), 1);
	wait_ended(c);
	wait_count(&r.expired, 1);
	assert_int_equal(atomic_load(&r.expired), 1);
	assert_int_equal(atomic_load(&r.terminated), 0);
	assert_int_equal(atomic_load(&r.old_state), DLG_STATE_CONFIRMED);
	assert_true(atomic_load(&r.other_thread));
	/* The owner reads TIMEOUTBYE to decide about BYEs. */
	assert_true(atomic_load(&r.iflags) & DLG_IFLAG_TIMEOUTBYE);
	assert_true(dlg_dflags(c) & DLG_DFLAG_EXPIRED);
	assert_int_equal(stat_get(e.ds.expired_dialogs), 1);
	assert_int_equal(stat_get(e.ds.active_dialogs), 0);
	assert_int_equal(dlg_profile_size(p, SIP_STR_NULL), 0);
	assert_int_equal(dlg_profile_is_in(c, p, SIP_STR_NULL), 0);
	/* Released by its last holder: gone. */
	he = dlg_h_entry(c);
	hi = dlg_h_id(c);
	dlg_unref(c);
	assert_null(dlg_lookup_id(e.t, he, hi));

	/* A BYE stops the timer: no expiry later. */
	c = confirmed(&e, "exp2@x", 0);
	assert_int_equal(req(c, SIP_METHOD_BYE), DLG_RC_CHANGED);
	usleep(250 * 1000);
	assert_int_equal(atomic_load(&r.expired), 1);
	assert_int_equal(stat_get(e.ds.expired_dialogs), 1);
	dlg_unref(c);
	env_down(&e);
}

static void test_reset_by_requests(void **state)
{
	struct dlg_config cfg;
	struct env e;
	struct dlg_cell *c;
	uint64_t t0, waited;

	cfg_defaults(&cfg);
	cfg.default_timeout_ms = 300;
	env_up(&e, &cfg);
	c = confirmed(&e, "rst@x", 0);
	t0 = tmr_now_ms();
	while (tmr_now_ms() - t0 < 800) {
		assert_int_equal(dlg_state(c), DLG_STATE_CONFIRMED);
		req(c, SIP_METHOD_INFO);
		usleep(50 * 1000);
	}
	req(c, SIP_METHOD_INFO);
	t0 = tmr_now_ms();
	waited = wait_ended(c);
	assert_true(waited >= 250);
	(void)t0;
	assert_int_equal(stat_get(e.ds.expired_dialogs), 1);
	dlg_unref(c);
	env_down(&e);
}

static void test_noreset(void **state)
{
	struct dlg_config cfg;
	struct env e;
	struct dlg_cell *c;
	uint64_t t0;

	/* Global timeout_noreset: requests do not extend it. */
	cfg_defaults(&cfg);
	cfg.default_timeout_ms = 150;
	cfg.timeout_noreset = 1;
	env_up(&e, &cfg);
	c = confirmed(&e, "nr@x", 0);
	t0 = tmr_now_ms();
	while (dlg_state(c) != DLG_STATE_DELETED) {
		assert_true(tmr_now_ms() - t0 < WAIT_MAX_MS);
		req(c, SIP_METHOD_INFO);
		usleep(20 * 1000);
	}
	assert_true(tmr_now_ms() - t0 < 150 + 1000);
	dlg_unref(c);
	env_down(&e);

	/* Per dialog (dlg_set_property timeout-noreset). */
	cfg.timeout_noreset = 0;
	env_up(&e, &cfg);
	c = confirmed(&e, "nr2@x", 0);
	dlg_set_iflags(c, DLG_IFLAG_TIMER_NORESET);
	t0 = tmr_now_ms();
	while (dlg_state(c) != DLG_STATE_DELETED) {
		assert_true(tmr_now_ms() - t0 < WAIT_MAX_MS);
		req(c, SIP_METHOD_INFO);
		usleep(20 * 1000);
	}
	assert_int_equal(stat_get(e.ds.expired_dialogs), 1);
	dlg_unref(c);
	env_down(&e);
}

static void test_set_timeout(void **state)
{
	struct dlg_config cfg;
	struct env e;
	struct dlg_cell *c, *d;
	struct dlg_info *in;
	int64_t now = (int64_t)time(NULL);

	cfg_defaults(&cfg);
	env_up(&e, &cfg);
	c = confirmed(&e, "st@x", 0);
	in = dlg_info_get(c, 0);
	assert_true(in->timeout >= now + 3599);
	dlg_info_free(in);
	assert_int_equal(dlg_set_timeout(c, 0), -EINVAL);
	assert_int_equal(dlg_set_timeout(c, 80), 0);
	in = dlg_info_get(c, 0);
	assert_true(in->timeout <= now + 2);
	assert_int_equal(in->lifetime, 1);
	assert_int_equal(in->lifetime_ms, 80);
	dlg_info_free(in);
	wait_ended(c);
	assert_int_equal(dlg_set_timeout(c, 80), -EINVAL);
	dlg_unref(c);

	/* Set in early state: applies from confirmation. */
	d = mk(&e, "st2@x", 0);
	assert_int_equal(dlg_set_timeout(d, 80), 0);
	usleep(150 * 1000);
	assert_int_equal(dlg_state(d), DLG_STATE_UNCONFIRMED);
	rpl(d, 200);
	req(d, SIP_METHOD_ACK);
	wait_ended(d);
	dlg_unref(d);

	/* From dlg_manage's options (timeout_avp). */
	d = confirmed(&e, "st3@x", 60);
	wait_ended(d);
	assert_int_equal(stat_get(e.ds.expired_dialogs), 3);
	dlg_unref(d);

	/* Lifetime re-read on a request: no re-arm by itself, the request's
	 * reset applies it. */
	d = confirmed(&e, "st4@x", 0);
	assert_int_equal(dlg_set_lifetime(d, 0), -EINVAL);
	assert_int_equal(dlg_set_lifetime(d, 80), 0);
	usleep(200 * 1000);
	assert_int_equal(dlg_state(d), DLG_STATE_CONFIRMED);
	req(d, SIP_METHOD_INFO);
	wait_ended(d);
	assert_int_equal(dlg_set_lifetime(d, 80), -EINVAL);
	assert_int_equal(stat_get(e.ds.expired_dialogs), 4);
	dlg_unref(d);
	env_down(&e);
}

static atomic_int sa_calls;
static atomic_int sa_mode;

static int still_active(struct dlg_cell *c, uint64_t *extend_ms)
{
	int n = atomic_fetch_add(&sa_calls, 1);

	/* Runs without lock: this must not deadlock. */
	dlg_info_free(dlg_info_get(c, 0));
	if (atomic_load(&sa_mode) == 1) {
		/* The owner ends it meanwhile (e.g. a BYE raced). */
		dlg_end(c, NULL);
		return 0;
	}
	if (n < 3) {
		*extend_ms = 40;
		return 1;
	}
	return 0;
}

static void test_still_active(void **state)
{
	struct dlg_config cfg;
	struct env e;
	struct evrec r;
	struct dlg_cell *c;
	uint64_t t0;

	cfg_defaults(&cfg);
	cfg.default_timeout_ms = 60;
	cfg.still_active = still_active;
	env_up(&e, &cfg);
	hook(&e, &r);
	atomic_store(&sa_calls, 0);
	atomic_store(&sa_mode, 0);
	t0 = tmr_now_ms();
	c = confirmed(&e, "sa@x", 0);
	wait_ended(c);
	assert_int_equal(atomic_load(&sa_calls), 4);
	assert_true(tmr_now_ms() - t0 >= 60 + 3 * 40);
	assert_int_equal(atomic_load(&r.expired), 1);
	assert_int_equal(stat_get(e.ds.expired_dialogs), 1);
	dlg_unref(c);

	/* The dialog ended while the hook ran: no expiry on top. */
	atomic_store(&sa_calls, 0);
	atomic_store(&sa_mode, 1);
	c = confirmed(&e, "sa2@x", 0);
	wait_ended(c);
	usleep(100 * 1000);
	assert_int_equal(atomic_load(&sa_calls), 1);
	assert_int_equal(atomic_load(&r.expired), 1);
	assert_int_equal(atomic_load(&r.terminated), 1);
	assert_int_equal(stat_get(e.ds.expired_dialogs), 1);
	assert_int_equal(stat_get(e.ds.active_dialogs), 0);
	dlg_unref(c);
	env_down(&e);
}

static void test_noack(void **state)
{
	struct dlg_config cfg;
	struct env e;
	struct evrec r;
	struct dlg_cell *c;

	cfg_defaults(&cfg);
	cfg.noack_timeout_ms = 80;
	env_up(&e, &cfg);
	hook(&e, &r);
	c = mk(&e, "na@x", 0);
	rpl(c, 200);
	assert_int_equal(stat_get(e.ds.active_dialogs), 1);
	wait_ended(c);
	wait_count(&r.expired, 1);
	assert_int_equal(atomic_load(&r.expired), 1);
	assert_int_equal(atomic_load(&r.old_state), DLG_STATE_CONFIRMED_NA);
	assert_int_equal(stat_get(e.ds.active_dialogs), 0);
	assert_int_equal(stat_get(e.ds.expired_dialogs), 1);
	/* The 2xx retransmitted after that does not revive it. */
	{
		struct dlg_reply rr = { .code = 200 };

		rr.to_tag = sip_str_c("tt");
		assert_int_equal(dlg_on_reply(c, &rr), DLG_RC_BOGUS);
	}
	dlg_unref(c);
	/* Once ACKed, the lifetime rules. */
	c = mk(&e, "na2@x", 0);
	rpl(c, 200);
	req(c, SIP_METHOD_ACK);
	usleep(200 * 1000);
	assert_int_equal(dlg_state(c), DLG_STATE_CONFIRMED);
	assert_int_equal(dlg_end(c, NULL), DLG_RC_CHANGED);
	dlg_unref(c);
	env_down(&e);
}

/*
 * xdp.relay.ack's hooks: the ACK went another way (the kernel).
 * acked_elsewhere at the noack timeout confirms the dialog instead of
 * letting it expire (mode 1) or not (mode 0); ack_pending runs before a
 * request other than ACK meets a dialog in state 3 and may confirm it
 * first; dlg_on_ack_elsewhere confirms only from state 3.
 */
static atomic_int ae_calls, ae_mode, ap_calls, confirmed_cbs, within_cbs;

static int acked_elsewhere(struct dlg_cell *c)
{
	atomic_fetch_add(&ae_calls, 1);
	if (!atomic_load(&ae_mode))
		return 0;
	return dlg_on_ack_elsewhere(c) == DLG_RC_CHANGED;
}

static void ack_pending(struct dlg_cell *c)
{
	atomic_fetch_add(&ap_calls, 1);
	if (atomic_load(&ae_mode))
		assert_int_equal(dlg_on_ack_elsewhere(c), DLG_RC_CHANGED);
}

static void on_confirm(struct dlg_cell *c, int type,
		       const struct dlg_cb_params *p)
{
	if (type == DLGCB_CONFIRMED) {
		assert_int_equal(p->old_state, DLG_STATE_CONFIRMED_NA);
		assert_int_equal(p->new_state, DLG_STATE_CONFIRMED);
		atomic_fetch_add(&confirmed_cbs, 1);
	} else if (type == DLGCB_REQ_WITHIN) {
		atomic_fetch_add(&within_cbs, 1);
	}
}

static void test_ack_elsewhere(void **state)
{
	struct dlg_config cfg;
	struct env e;
	struct evrec r;
	struct dlg_cell *c;

	cfg_defaults(&cfg);
	cfg.noack_timeout_ms = 60;
	cfg.default_timeout_ms = 60 * 1000;
	cfg.acked_elsewhere = acked_elsewhere;
	cfg.ack_pending = ack_pending;
	env_up(&e, &cfg);
	hook(&e, &r);
	assert_int_equal(dlg_register_global_cb(e.t, DLGCB_CONFIRMED |
						 DLGCB_REQ_WITHIN,
						 on_confirm, NULL, NULL), 0);
	/* not acked anywhere: it expires as before, the hook asked once */
	atomic_store(&ae_mode, 0);
	c = mk(&e, "ae1@x", 0);
	rpl(c, 200);
	wait_ended(c);
	wait_count(&r.expired, 1);
	assert_int_equal(atomic_load(&ae_calls), 1);
	assert_int_equal(atomic_load(&confirmed_cbs), 0);
	dlg_unref(c);

	/* acked by the kernel, its notice lost: confirmed at the timeout,
	 * the lifetime timer armed, callbacks as for an ACK */
	atomic_store(&ae_mode, 1);
	atomic_store(&ae_calls, 0);
	c = mk(&e, "ae2@x", 0);
	rpl(c, 200);
	usleep(250 * 1000);
	assert_int_equal(atomic_load(&ae_calls), 1);
	assert_int_equal(dlg_state(c), DLG_STATE_CONFIRMED);
	assert_int_equal(atomic_load(&confirmed_cbs), 1);
	assert_int_equal(atomic_load(&within_cbs), 1);
	assert_int_equal(atomic_load(&r.expired), 1);
	/* a late notice changes nothing */
	assert_int_equal(dlg_on_ack_elsewhere(c), DLG_RC_NONE);
	assert_int_equal(atomic_load(&confirmed_cbs), 1);
	/* a request on a confirmed dialog asks nothing */
	req(c, SIP_METHOD_INFO);
	assert_int_equal(atomic_load(&ap_calls), 0);
	assert_int_equal(dlg_end(c, NULL), DLG_RC_CHANGED);
	assert_int_equal(dlg_on_ack_elsewhere(c), DLG_RC_NONE);
	dlg_unref(c);

	/* a BYE right behind the kernel's ACK: the pending notice first,
	 * then the BYE ends a confirmed dialog */
	c = mk(&e, "ae3@x", 0);
	rpl(c, 200);
	assert_int_equal(req(c, SIP_METHOD_BYE), DLG_RC_CHANGED);
	assert_int_equal(atomic_load(&ap_calls), 1);
	assert_int_equal(atomic_load(&confirmed_cbs), 2);
	assert_int_equal(dlg_state(c), DLG_STATE_DELETED);
	dlg_unref(c);

	/* nothing pending: the BYE ends it from state 3; an ACK never asks */
	atomic_store(&ae_mode, 0);
	c = mk(&e, "ae4@x", 0);
	rpl(c, 200);
	assert_int_equal(req(c, SIP_METHOD_BYE), DLG_RC_CHANGED);
	assert_int_equal(atomic_load(&ap_calls), 2);
	assert_int_equal(atomic_load(&confirmed_cbs), 2);
	assert_int_equal(dlg_on_ack_elsewhere(c), DLG_RC_NONE);
	dlg_unref(c);
	c = mk(&e, "ae5@x", 0);
	rpl(c, 200);
	req(c, SIP_METHOD_ACK);
	assert_int_equal(atomic_load(&ap_calls), 2);
	assert_int_equal(dlg_state(c), DLG_STATE_CONFIRMED);
	assert_int_equal(dlg_end(c, NULL), DLG_RC_CHANGED);
	dlg_unref(c);
	env_down(&e);
}

static void test_early_timeout(void **state)
{
	struct dlg_config cfg;
	struct env e;
	struct evrec r;
	struct dlg_cell *c, *d;
	struct dlg_profile *p;

	cfg_defaults(&cfg);
	cfg.early_timeout_ms = 100;
	env_up(&e, &cfg);
	hook(&e, &r);
	p = dlg_profile_lookup(e.t, sip_str_c("inbound"));
	c = mk(&e, "et@x", 0);
	rpl(c, 180);
	d = mk(&e, "et2@x", 0);		/* never got any reply */
	dlg_profile_set(c, p, SIP_STR_NULL);
	dlg_profile_set(d, p, SIP_STR_NULL);
	assert_int_equal(stat_get(e.ds.early_dialogs), 1);
	wait_ended(c);
	wait_ended(d);
	wait_count(&r.failed, 2);
	assert_int_equal(atomic_load(&r.failed), 2);
	assert_int_equal(stat_get(e.ds.early_dialogs), 0);
	assert_int_equal(stat_get(e.ds.failed_dialogs), 2);
	assert_int_equal(dlg_profile_size(p, SIP_STR_NULL), 0);
	dlg_unref(c);
	dlg_unref(d);
	/* Answered in time: the early timer is replaced. */
	c = mk(&e, "et3@x", 0);
	rpl(c, 180);
	rpl(c, 200);
	req(c, SIP_METHOD_ACK);
	usleep(200 * 1000);
	assert_int_equal(dlg_state(c), DLG_STATE_CONFIRMED);
	dlg_end(c, NULL);
	dlg_unref(c);
	env_down(&e);
}

static void test_end_timeout(void **state)
{
	struct dlg_config cfg;
	struct env e;
	struct dlg_cell *c, *x;
	uint32_t he, hi;
	uint64_t t0;

	cfg_defaults(&cfg);
	cfg.end_timeout_ms = 100;
	env_up(&e, &cfg);
	c = confirmed(&e, "end@x", 0);
	he = dlg_h_entry(c);
	hi = dlg_h_id(c);
	req(c, SIP_METHOD_BYE);
	/* Held (say by a lost BYE transaction): still findable... */
	x = dlg_lookup_id(e.t, he, hi);
	assert_ptr_equal(x, c);
	dlg_unref(x);
	/* ... until end_timeout unlinks it whoever holds it. */
	t0 = tmr_now_ms();
	while ((x = dlg_lookup_id(e.t, he, hi))) {
		dlg_unref(x);
		assert_true(tmr_now_ms() - t0 < WAIT_MAX_MS);
		usleep(5000);
	}
	assert_int_equal(dlg_ref_count(c), 1);	/* ours alone */
	dlg_unref(c);
	env_down(&e);
}

/* Tiny lifetimes re-armed by requests while they fire: the stale-firing
 * path, with exact counts at the end. */
static void test_rearm_race(void **state)
{
	struct dlg_config cfg;
	struct env e;
	struct dlg_cell *c[200];
	char cid[32];
	uint64_t t0;
	bool all;

	cfg_defaults(&cfg);
	/* Long enough that no dialog expires before its ACK even under
	 * valgrind; the short timeouts come from dlg_set_timeout below. */
	cfg.default_timeout_ms = 60000;
	env_up(&e, &cfg);
	for (int i = 0; i < 200; i++) {
		snprintf(cid, sizeof(cid), "race-%d@x", i);
		c[i] = confirmed(&e, cid, 0);
		dlg_set_timeout(c[i], (uint64_t)(1 + i % 4));
	}
	for (int round = 0; round < 20; round++)
		for (int i = 0; i < 200; i++) {
			if (i % 7 == round % 7)
				dlg_set_timeout(c[i], 2);
			else
				req(c[i], SIP_METHOD_INFO);
		}
	t0 = tmr_now_ms();
	do {
		all = true;
		for (int i = 0; i < 200; i++)
			all = all && dlg_state(c[i]) == DLG_STATE_DELETED;
		assert_true(tmr_now_ms() - t0 < WAIT_MAX_MS);
		usleep(2000);
	} while (!all);
	assert_int_equal(stat_get(e.ds.expired_dialogs), 200);
	assert_int_equal(stat_get(e.ds.active_dialogs), 0);
	for (int i = 0; i < 200; i++)
		dlg_unref(c[i]);
	{
		uint64_t counts[6];

		dlg_count_states(e.t, counts);
		assert_int_equal(counts[1] + counts[2] + counts[3] + counts[4] +
					 counts[5], 0);
	}
	assert_int_equal(tmr_pending(e.ts), 0);
	env_down(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_reset_by_requests),
		cmocka_unit_test(test_noreset),
		cmocka_unit_test(test_set_timeout),
		cmocka_unit_test(test_still_active),
		cmocka_unit_test(test_noack),
		cmocka_unit_test(test_ack_elsewhere),
		cmocka_unit_test(test_early_timeout),
		cmocka_unit_test(test_end_timeout),
		cmocka_unit_test(test_rearm_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
