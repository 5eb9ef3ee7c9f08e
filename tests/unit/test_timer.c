/*
 * test_timer.c - the timer service (core/timer.c): the timing wheel
 * against a reference on a manual clock (days of simulated time, every
 * level and the parking beyond it), cancel and re-arm semantics, callbacks
 * that arm timers, and the real thread on the real clock.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/timer.h"

/* One timer of the model, and what the test expects of it. */
struct mt {
	struct tmr t;
	uint64_t due;		/* the deadline it was (last) armed for */
	int armed;		/* the model's view: pending */
	int fired;		/* times its callback ran */
	uint64_t fired_at;	/* the manual clock when it ran */
	uint64_t *clock;
};

static void mt_fire(struct tmr *t)
{
	struct mt *m = t->data;

	m->fired++;
	m->fired_at = *m->clock;
	m->armed = 0;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

/* Delays from every level: ms, seconds, minutes, hours, weeks. */
static uint64_t pick_delay(void)
{
	switch (rng() % 6) {
	case 0:
		return rng() % 4;
	case 1:
		return rng() % 1100;
	case 2:
		return rng() % (1u << 21);
	case 3:
		return rng() % (3600u * 1000u * 13u);	/* up to 13 h */
	case 4:
		return rng() % (1ULL << 31);		/* up to 24 days */
	default:
		return (1ULL << 30) + rng() % (1ULL << 33); /* parked */
	}
}

/* Steps of the clock: mostly short, sometimes a long jump. */
static uint64_t pick_step(void)
{
	switch (rng() % 8) {
	case 0:
		return rng() % (1ULL << 28);
	case 1:
		return rng() % (1u << 20);
	default:
		return 1 + rng() % 2000;
	}
}

/*
 * Random arms, re-arms and cancels on a manual clock that moves in random
 * steps over about 40 days: every timer fires exactly once per arming, in
 * the first run_until() that reaches its deadline, and never after a
 * cancel; the pending count always matches the model.
 */
static void test_wheel_matches_model(void **state)
{
	enum { N = 3000, ROUNDS = 6000 };
	static struct mt m[N];
	uint64_t clock = 5000000000ULL + 777;	/* not block-aligned */
	struct tmr_service *ts = tmr_service_alloc_manual(clock);
	size_t pending = 0;

	(void)state;
	assert_non_null(ts);
	for (int i = 0; i < N; i++) {
		tmr_init(&m[i].t, mt_fire, &m[i]);
		m[i].clock = &clock;
	}
	for (int round = 0; round < ROUNDS; round++) {
		/* some operations at this instant */
		for (int k = 0; k < 8; k++) {
			struct mt *x = &m[rng() % N];
			int r;

			if (rng() % 4 == 0) {
				r = tmr_cancel(ts, &x->t);
				assert_int_equal(r, x->armed);
				pending -= (size_t)x->armed;
				x->armed = 0;
			} else {
				uint64_t d = pick_delay();

				r = tmr_arm(ts, &x->t, d);
				assert_int_equal(r, x->armed);
				pending += (size_t)!x->armed;
				x->armed = 1;
				x->due = clock + d;
				assert_int_equal(x->t.expires_ms, x->due);
			}
		}
		assert_int_equal(tmr_pending(ts), pending);

		uint64_t before = clock;

		clock += pick_step();
		for (int i = 0; i < N; i++)
			m[i].fired = 0;
		{
			/* who must fire now */
			static int must[N];

			for (int i = 0; i < N; i++)
				must[i] = m[i].armed && m[i].due <= clock;
			tmr_service_run_until(ts, clock);
			for (int i = 0; i < N; i++) {
				if (must[i]) {
					assert_int_equal(m[i].fired, 1);
					/* not due at the last run (an arm
					 * for "now" comes after it) */
					assert_true(m[i].due >= before);
					pending--;
				} else {
					assert_int_equal(m[i].fired, 0);
				}
			}
		}
		assert_int_equal(tmr_pending(ts), pending);
	}
	/* drain: everything left fires once the clock passes it */
	clock += 1ULL << 35;
	for (int i = 0; i < N; i++) {
		m[i].fired = 0;
		m[i].due = m[i].armed;	/* reused: "must fire" */
	}
	tmr_service_run_until(ts, clock);
	for (int i = 0; i < N; i++)
		assert_int_equal(m[i].fired, (int)m[i].due);
	assert_int_equal(tmr_pending(ts), 0);
	tmr_service_free(ts);
}

/* Timers due in the same ms, and the ms boundaries of every level. */
static void test_wheel_boundaries(void **state)
{
	static const uint64_t delays[] = {
		0, 1, 1023, 1024, 1025, 2047, 2048, (1u << 20) - 1,
		1u << 20, (1u << 20) + 1, (1u << 30) - 1, 1u << 30,
		(1ULL << 30) + 1, 5ULL << 30,
	};
	enum { N = sizeof(delays) / sizeof(delays[0]) };
	struct mt m[N];
	uint64_t clock = 1ULL << 20;	/* aligned on every level below 2 */
	struct tmr_service *ts = tmr_service_alloc_manual(clock);

	(void)state;
	assert_non_null(ts);
	for (int i = 0; i < (int)N; i++) {
		tmr_init(&m[i].t, mt_fire, &m[i]);
		m[i].clock = &clock;
		m[i].fired = 0;
		assert_int_equal(tmr_arm(ts, &m[i].t, delays[i]), 0);
		m[i].due = clock + delays[i];
	}
	/* one ms before, at, and after each deadline */
	for (int i = 0; i < (int)N; i++) {
		uint64_t start = 1ULL << 20;

		if (m[i].due > start) {
			clock = m[i].due - 1;
			tmr_service_run_until(ts, clock);
			assert_int_equal(m[i].fired, 0);
		}
		clock = m[i].due;
		tmr_service_run_until(ts, clock);
		assert_int_equal(m[i].fired, 1);
		assert_int_equal(m[i].fired_at, m[i].due);
	}
	assert_int_equal(tmr_pending(ts), 0);
	tmr_service_free(ts);
}

/* A callback that re-arms its own timer, and one that arms for "now". */
struct chain {
	struct tmr t;
	struct tmr_service *ts;
	int runs;
	uint64_t delay;
};

static void chain_fire(struct tmr *t)
{
	struct chain *c = t->data;

	if (++c->runs < 5)
		assert_int_equal(tmr_arm(c->ts, &c->t, c->delay), 0);
}

static void test_rearm_from_callback(void **state)
{
	uint64_t clock = 123456789;
	struct tmr_service *ts = tmr_service_alloc_manual(clock);
	struct chain a = { .ts = ts, .delay = 0 }, b = { .ts = ts, .delay = 300 };

	(void)state;
	assert_non_null(ts);
	tmr_init(&a.t, chain_fire, &a);
	tmr_init(&b.t, chain_fire, &b);
	tmr_arm(ts, &a.t, 0);
	tmr_arm(ts, &b.t, 300);
	/* a delay-0 re-arm from a callback waits for the next ms */
	tmr_service_run_until(ts, clock);
	assert_int_equal(a.runs, 1);
	for (int ms = 1; ms <= 3; ms++)
		tmr_service_run_until(ts, clock + (uint64_t)ms);
	assert_int_equal(a.runs, 4);
	/* callbacks see the clock they run at: b re-arms 300 ms after it */
	for (int k = 1; k <= 5; k++) {
		tmr_service_run_until(ts, clock + 300 * (uint64_t)k);
		assert_int_equal(b.runs, k);
	}
	assert_int_equal(a.runs, 5);
	assert_int_equal(tmr_pending(ts), 0);
	/* cancel of a fired timer, and a second cancel */
	assert_int_equal(tmr_cancel(ts, &a.t), 0);
	assert_int_equal(tmr_arm(ts, &a.t, 50), 0);
	assert_int_equal(tmr_is_pending(ts, &a.t), 1);
	assert_int_equal(tmr_cancel(ts, &a.t), 1);
	assert_int_equal(tmr_cancel(ts, &a.t), 0);
	assert_int_equal(tmr_is_pending(ts, &a.t), 0);
	tmr_service_free(ts);
}

/* The real thread: deadlines on the monotonic clock, a wake-up for an
 * earlier deadline, stop with timers still pending. */
struct rt {
	struct tmr t;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t fired_at;
};

static void rt_fire(struct tmr *t)
{
	struct rt *r = t->data;

	pthread_mutex_lock(&r->mu);
	r->fired_at = tmr_now_ms();
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static uint64_t rt_wait(struct rt *r, unsigned max_ms)
{
	struct timespec ts;
	uint64_t got;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(max_ms / 1000 + 1);
	pthread_mutex_lock(&r->mu);
	while (!r->fired_at &&
	       pthread_cond_timedwait(&r->cv, &r->mu, &ts) != ETIMEDOUT)
		;
	got = r->fired_at;
	pthread_mutex_unlock(&r->mu);
	return got;
}

static void test_thread_real_clock(void **state)
{
	struct tmr_service *ts = tmr_service_alloc();
	struct rt late, early, never;
	uint64_t t0;

	(void)state;
	assert_non_null(ts);
	assert_int_equal(tmr_service_start(ts), 0);
	memset(&late, 0, sizeof(late));
	memset(&early, 0, sizeof(early));
	memset(&never, 0, sizeof(never));
	for (struct rt *r = &late; r; r = r == &late ? &early :
					 r == &early ? &never : NULL) {
		pthread_mutex_init(&r->mu, NULL);
		pthread_cond_init(&r->cv, NULL);
		tmr_init(&r->t, rt_fire, r);
	}
	t0 = tmr_now_ms();
	assert_int_equal(tmr_arm(ts, &never.t, 100), 0);
	assert_int_equal(tmr_cancel(ts, &never.t), 1);
	tmr_arm(ts, &late.t, 1500);	/* level 1 */
	usleep(20000);
	tmr_arm(ts, &early.t, 30);	/* earlier: must wake the thread */
	assert_true(rt_wait(&early, 2000) >= t0 + 30);
	assert_true(early.fired_at < t0 + 1000);
	assert_true(rt_wait(&late, 4000) >= t0 + 1500);
	assert_int_equal(never.fired_at, 0);
	/* stop with a timer pending: it never runs */
	tmr_arm(ts, &never.t, 60000);
	tmr_service_free(ts);
	assert_int_equal(never.fired_at, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wheel_matches_model),
		cmocka_unit_test(test_wheel_boundaries),
		cmocka_unit_test(test_rearm_from_callback),
		cmocka_unit_test(test_thread_real_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
