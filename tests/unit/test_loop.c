/* test_loop.c - the epoll event loop: timers, file events, hooks, stop. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/loop.h"

struct rec {
	struct ev_loop *loop;
	int order[256];
	int n;
	int count;
	int limit;
	uint64_t stamp[8];
	int64_t other_id;
	int fd;
	unsigned events_seen;
};

static int setup(void **state)
{
	struct ev_loop *loop = ev_loop_alloc();

	if (!loop)
		return -1;
	*state = loop;
	return 0;
}

static int teardown(void **state)
{
	ev_loop_free(*state);
	return 0;
}

/* Each timer's ud is a small struct naming it. */
struct tag {
	struct rec *rec;
	int name;
};

static int64_t record_fire(struct ev_loop *loop, uint64_t id, void *ud)
{
	struct tag *t = ud;

	t->rec->order[t->rec->n++] = t->name;
	return -1;
}

static int64_t stop_fire(struct ev_loop *loop, uint64_t id, void *ud)
{
	ev_loop_stop(loop);
	return -1;
}

static void test_timers_fire_in_order(void **state)
{
	struct ev_loop *loop = *state;
	struct rec r = { 0 };
	struct tag a = { &r, 30 }, b = { &r, 10 }, c = { &r, 20 },
		   d = { &r, 11 };
	uint64_t t0 = ev_now_ms();

	assert_true(ev_timer_add(loop, 30, record_fire, &a) > 0);
	assert_true(ev_timer_add(loop, 10, record_fire, &b) > 0);
	assert_true(ev_timer_add(loop, 20, record_fire, &c) > 0);
	/* Same delay as b, armed later: fires after b. */
	assert_true(ev_timer_add(loop, 10, record_fire, &d) > 0);
	assert_true(ev_timer_add(loop, 40, stop_fire, NULL) > 0);
	assert_int_equal(ev_loop_run(loop), 0);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.order[0], 10);
	assert_int_equal(r.order[1], 11);
	assert_int_equal(r.order[2], 20);
	assert_int_equal(r.order[3], 30);
	assert_true(ev_now_ms() - t0 >= 40);
}

/* 100 timers, distinct delays 3 ms apart, armed in shuffled order. */
static void test_timers_many_shuffled(void **state)
{
	struct ev_loop *loop = *state;
	struct rec r = { 0 };
	struct tag tags[100];
	int64_t ids[100];
	int perm[100];

	for (int i = 0; i < 100; i++)
		perm[i] = i;
	srand(42);
	for (int i = 99; i > 0; i--) {
		int j = rand() % (i + 1), t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (int i = 0; i < 100; i++) {
		int k = perm[i];

		tags[k] = (struct tag){ &r, k };
		ids[k] = ev_timer_add(loop, (uint64_t)k * 3, record_fire,
				      &tags[k]);
		assert_true(ids[k] > 0);
	}
	/* Delete every multiple of 7. */
	for (int k = 0; k < 100; k += 7)
		assert_int_equal(ev_timer_del(loop, (uint64_t)ids[k]), 0);
	assert_true(ev_timer_add(loop, 310, stop_fire, NULL) > 0);
	assert_int_equal(ev_loop_run(loop), 0);
	assert_int_equal(r.n, 100 - 15);
	for (int i = 1; i < r.n; i++)
		assert_true(r.order[i - 1] < r.order[i]);
	for (int i = 0; i < r.n; i++)
		assert_true(r.order[i] % 7 != 0);
}

static int64_t periodic_fire(struct ev_loop *loop, uint64_t id, void *ud)
{
	struct rec *r = ud;

	r->stamp[r->count++] = ev_now_ms();
	if (r->count == r->limit) {
		ev_loop_stop(loop);
		return -1;
	}
	return 10;
}

static void test_periodic_timer(void **state)
{
	struct ev_loop *loop = *state;
	struct rec r = { .limit = 5 };
	uint64_t t0 = ev_now_ms();

	assert_true(ev_timer_add(loop, 10, periodic_fire, &r) > 0);
	assert_int_equal(ev_loop_run(loop), 0);
	assert_int_equal(r.count, 5);
	/* Drift-free cadence: the n-th run is due at t0 + 10 n. */
	for (int i = 0; i < 5; i++)
		assert_true(r.stamp[i] - t0 >= 10u * (unsigned)(i + 1));
	/* It returned -1: nothing left, a bounded wait returns at once. */
	assert_int_equal(ev_loop_once(loop, 0), 0);
}

static int64_t del_other(struct ev_loop *loop, uint64_t id, void *ud)
{
	struct rec *r = ud;

	assert_int_equal(ev_timer_del(loop, (uint64_t)r->other_id), 0);
	/* Deleting itself while running: accepted, and not re-armed. */
	assert_int_equal(ev_timer_del(loop, id), 0);
	assert_int_equal(ev_timer_del(loop, id), -ENOENT);
	r->count++;
	return 5;
}

static int64_t must_not_fire(struct ev_loop *loop, uint64_t id, void *ud)
{
	fail_msg("a deleted timer fired");
	return -1;
}

static void test_timer_delete(void **state)
{
	struct ev_loop *loop = *state;
	struct rec r = { 0 };
	int64_t id;

	id = ev_timer_add(loop, 5, must_not_fire, NULL);
	assert_true(id > 0);
	assert_int_equal(ev_timer_del(loop, (uint64_t)id), 0);
	assert_int_equal(ev_timer_del(loop, (uint64_t)id), -ENOENT);
	assert_int_equal(ev_timer_del(loop, 12345678), -ENOENT);
	assert_int_equal(ev_timer_del(loop, 0), -ENOENT);

	/* The slot is reused; the stale id must not reach the new timer. */
	r.other_id = ev_timer_add(loop, 20, must_not_fire, NULL);
	assert_true(r.other_id > 0);
	assert_true(r.other_id != id);
	assert_int_equal(ev_timer_del(loop, (uint64_t)id), -ENOENT);

	assert_true(ev_timer_add(loop, 1, del_other, &r) > 0);
	assert_true(ev_timer_add(loop, 40, stop_fire, NULL) > 0);
	assert_int_equal(ev_loop_run(loop), 0);
	assert_int_equal(r.count, 1);
	assert_int_equal(ev_timer_add(loop, 1, NULL, NULL), -EINVAL);
}

static void on_pipe(struct ev_loop *loop, int fd, unsigned events, void *ud)
{
	struct rec *r = ud;
	char buf[16];

	r->events_seen |= events;
	if (events & EV_READ) {
		ssize_t n = read(fd, buf, sizeof(buf));

		assert_true(n > 0);
		r->count++;
		ev_loop_stop(loop);
	}
}

static int64_t write_pipe(struct ev_loop *loop, uint64_t id, void *ud)
{
	struct rec *r = ud;

	assert_int_equal(write(r->fd, "x", 1), 1);
	return -1;
}

static void test_file_events(void **state)
{
	struct ev_loop *loop = *state;
	struct rec r = { 0 };
	int p[2];

	assert_int_equal(pipe(p), 0);
	r.fd = p[1];
	assert_int_equal(ev_file_add(loop, p[0], EV_READ, on_pipe, &r), 0);
	assert_true(ev_timer_add(loop, 5, write_pipe, &r) > 0);
	assert_int_equal(ev_loop_run(loop), 0);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.events_seen, EV_READ);

	/* Write readiness on the writing end; replacing the watch. */
	r.events_seen = 0;
	assert_int_equal(ev_file_add(loop, p[1], EV_READ, on_pipe, &r), 0);
	assert_int_equal(ev_file_add(loop, p[1], EV_WRITE, on_pipe, &r), 0);
	assert_int_equal(ev_loop_once(loop, 100), 1);
	assert_int_equal(r.events_seen, EV_WRITE);

	/* Once deleted, no more callbacks. */
	ev_file_del(loop, p[1]);
	ev_file_del(loop, p[1]);	/* twice is harmless */
	r.events_seen = 0;
	assert_int_equal(ev_loop_once(loop, 10), 0);
	assert_int_equal(r.events_seen, 0);

	assert_int_equal(ev_file_add(loop, -1, EV_READ, on_pipe, &r), -EBADF);
	assert_int_equal(ev_file_add(loop, p[0], 0, on_pipe, &r), -EINVAL);
	assert_int_equal(ev_file_add(loop, p[0], 8, on_pipe, &r), -EINVAL);
	assert_int_equal(ev_file_add(loop, 9999, EV_READ, on_pipe, &r),
			 -EBADF);
	ev_file_del(loop, p[0]);
	close(p[0]);
	close(p[1]);
}

/* A timer re-arming with 0 ms must not starve file events. */
static int64_t spin_timer(struct ev_loop *loop, uint64_t id, void *ud)
{
	struct rec *r = ud;

	r->limit++;
	return 0;
}

static void test_zero_timer_no_starvation(void **state)
{
	struct ev_loop *loop = *state;
	struct rec r = { 0 };
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "y", 1), 1);
	assert_int_equal(ev_file_add(loop, p[0], EV_READ, on_pipe, &r), 0);
	assert_true(ev_timer_add(loop, 0, spin_timer, &r) > 0);
	assert_int_equal(ev_loop_run(loop), 0);
	assert_int_equal(r.count, 1);
	ev_file_del(loop, p[0]);
	close(p[0]);
	close(p[1]);
}

static void count_hook(struct ev_loop *loop, void *ud)
{
	(*(int *)ud)++;
}

static void test_before_sleep(void **state)
{
	struct ev_loop *loop = *state;
	int calls = 0, other = 0;

	assert_int_equal(ev_before_sleep_add(loop, count_hook, &calls), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ev_loop_once(loop, 0), 0);
	assert_int_equal(calls, 3);

	/* It runs on every iteration of ev_loop_run too. */
	assert_true(ev_timer_add(loop, 5, stop_fire, NULL) > 0);
	assert_int_equal(ev_loop_run(loop), 0);
	assert_true(calls >= 4);

	for (int i = 1; i < 8; i++)
		assert_int_equal(ev_before_sleep_add(loop, count_hook, &other),
				 0);
	assert_int_equal(ev_before_sleep_add(loop, count_hook, &other),
			 -ENOSPC);
	assert_int_equal(ev_before_sleep_add(loop, NULL, NULL), -EINVAL);
	assert_int_equal(ev_before_sleep_first(loop, count_hook, &other),
			 -ENOSPC);
	assert_int_equal(ev_before_sleep_first(loop, NULL, NULL), -EINVAL);
}

/* ev_before_sleep_first: before every hook added so far. */
static char order[8];
static size_t n_order;

static void order_a(struct ev_loop *loop, void *ud) { order[n_order++] = 'a'; }
static void order_b(struct ev_loop *loop, void *ud) { order[n_order++] = 'b'; }
static void order_f(struct ev_loop *loop, void *ud) { order[n_order++] = 'f'; }

static void test_before_sleep_first(void **state)
{
	struct ev_loop *loop = *state;

	n_order = 0;
	assert_int_equal(ev_before_sleep_add(loop, order_a, NULL), 0);
	assert_int_equal(ev_before_sleep_add(loop, order_b, NULL), 0);
	assert_int_equal(ev_before_sleep_first(loop, order_f, NULL), 0);
	assert_int_equal(ev_loop_once(loop, 0), 0);
	assert_int_equal(n_order, 3);
	assert_memory_equal(order, "fab", 3);
}

/* An after-wake hook sees every wake-up, before the callbacks. */
struct wake_rec {
	int wakes, sleeps;
	int wakes_at_read;	/* wakes when the file callback ran */
};

static void wake_hook(struct ev_loop *loop, void *ud)
{
	((struct wake_rec *)ud)->wakes++;
}

static void sleep_hook(struct ev_loop *loop, void *ud)
{
	((struct wake_rec *)ud)->sleeps++;
}

static void on_read_wake(struct ev_loop *loop, int fd, unsigned ev, void *ud)
{
	struct wake_rec *w = ud;
	char c;

	w->wakes_at_read = w->wakes;
	assert_int_equal(read(fd, &c, 1), 1);
}

static void test_after_wake(void **state)
{
	struct ev_loop *loop = *state;
	struct wake_rec w = { 0 };
	int other = 0, p[2];

	assert_int_equal(ev_after_wake_add(loop, wake_hook, &w), 0);
	assert_int_equal(ev_before_sleep_add(loop, sleep_hook, &w), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ev_loop_once(loop, 0), 0);
	assert_int_equal(w.wakes, 3);
	assert_int_equal(w.sleeps, 3);

	assert_int_equal(pipe(p), 0);
	assert_int_equal(ev_file_add(loop, p[0], EV_READ, on_read_wake, &w), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(ev_loop_once(loop, 1000), 1);
	/* the hook ran after the wait and before the callback */
	assert_int_equal(w.wakes, 4);
	assert_int_equal(w.wakes_at_read, 4);
	assert_int_equal(w.sleeps, 4);
	ev_file_del(loop, p[0]);
	close(p[0]);
	close(p[1]);

	for (int i = 1; i < 8; i++)
		assert_int_equal(ev_after_wake_add(loop, count_hook, &other),
				 0);
	assert_int_equal(ev_after_wake_add(loop, count_hook, &other),
			 -ENOSPC);
	assert_int_equal(ev_after_wake_add(loop, NULL, NULL), -EINVAL);
}

static void *stopper(void *arg)
{
	usleep(20000);
	ev_loop_stop(arg);
	return NULL;
}

static void test_stop(void **state)
{
	struct ev_loop *loop = *state;
	pthread_t th;
	uint64_t t0;

	/* Requested before run: run returns at once. */
	ev_loop_stop(loop);
	assert_int_equal(ev_loop_run(loop), 0);

	/* From another thread, while epoll_wait sleeps with nothing armed. */
	t0 = ev_now_ms();
	assert_int_equal(pthread_create(&th, NULL, stopper, loop), 0);
	assert_int_equal(ev_loop_run(loop), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(ev_now_ms() - t0 >= 15);
}

static void test_now_and_free(void **state)
{
	uint64_t a = ev_now_ms(), b = ev_now_ms();

	assert_true(b >= a);
	ev_loop_free(NULL);

	/* Freeing with timers and watches left must not leak. */
	struct ev_loop *loop = ev_loop_alloc();
	int p[2];

	assert_non_null(loop);
	assert_int_equal(pipe(p), 0);
	for (int i = 0; i < 200; i++)
		assert_true(ev_timer_add(loop, 1000 + i, must_not_fire, NULL) > 0);
	assert_int_equal(ev_file_add(loop, p[0], EV_READ, on_pipe, NULL), 0);
	ev_loop_free(loop);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_timers_fire_in_order,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_timers_many_shuffled,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_periodic_timer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timer_delete, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_file_events, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_zero_timer_no_starvation,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_before_sleep_first, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_before_sleep, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_after_wake, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
		cmocka_unit_test(test_now_and_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
