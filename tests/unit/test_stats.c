/* test_stats.c - the statistics registry. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/stats.h"

struct fixture {
	struct stats *st;
	struct stat_var *active, *early, *processed, *failed, *xdp_events;
};

static int setup(void **state)
{
	static struct fixture f;

	f.st = stats_alloc();
	if (!f.st)
		return -1;
	f.active = stats_register(f.st, "dialog", "active_dialogs",
				  STAT_NO_RESET);
	f.xdp_events = stats_register(f.st, "xdp", "events", 0);
	f.early = stats_register(f.st, "dialog", "early_dialogs",
				 STAT_NO_RESET);
	f.processed = stats_register(f.st, "dialog", "processed_dialogs", 0);
	f.failed = stats_register(f.st, "dialog", "failed_dialogs", 0);
	if (!f.active || !f.early || !f.processed || !f.failed ||
	    !f.xdp_events)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	stats_free(f->st);
	return 0;
}

static void test_register_and_update(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(stat_get(f->active), 0);
	stat_inc(f->active);
	stat_inc(f->active);
	stat_dec(f->active);
	stat_add(f->active, 10);
	assert_int_equal(stat_get(f->active), 11);
	stat_set(f->active, -3);
	assert_int_equal(stat_get(f->active), -3);
	stat_add(f->processed, INT64_C(5000000000));
	assert_int_equal(stat_get(f->processed), INT64_C(5000000000));

	/* The same name twice is the same counter. */
	assert_ptr_equal(stats_register(f->st, "dialog", "active_dialogs", 0),
			 f->active);
	/* Same name, other group: another counter. */
	assert_ptr_not_equal(stats_register(f->st, "other", "active_dialogs",
					    0), f->active);

	/* Bad names. */
	assert_null(stats_register(f->st, "", "x", 0));
	assert_null(stats_register(f->st, "g", "", 0));
	assert_null(stats_register(f->st, "g:h", "x", 0));
	assert_null(stats_register(f->st, "g", "a:b", 0));
	assert_null(stats_register(f->st, "all", "x", 0));
	assert_null(stats_register(f->st, NULL, "x", 0));
	assert_null(stats_register(NULL, "g", "x", 0));
	char longname[100];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_null(stats_register(f->st, "g", longname, 0));

	/* NULL-safe updates. */
	stat_inc(NULL);
	stat_set(NULL, 3);
	assert_int_equal(stat_get(NULL), 0);
	stats_free(NULL);
}

#define THREADS 4
#define PER_THREAD 100000

static void *hammer(void *arg)
{
	struct fixture *f = arg;

	for (int i = 0; i < PER_THREAD; i++) {
		stat_inc(f->processed);
		stat_add(f->early, 2);
		stat_dec(f->failed);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct fixture *f = *state;
	pthread_t th[THREADS];

	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer, f), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(stat_get(f->processed), THREADS * PER_THREAD);
	assert_int_equal(stat_get(f->early), 2 * THREADS * PER_THREAD);
	assert_int_equal(stat_get(f->failed), -THREADS * PER_THREAD);
}

struct seen {
	char names[16][80];
	int64_t values[16];
	int n;
};

static void collect(const char *group, const char *name, int64_t value,
		    void *ud)
{
	struct seen *s = ud;

	assert_true(s->n < 16);
	snprintf(s->names[s->n], sizeof(s->names[0]), "%s:%s", group, name);
	s->values[s->n++] = value;
}

static void test_foreach(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0 };

	stat_set(f->early, 7);

	/* All, in registration order across groups. */
	assert_int_equal(stats_foreach(f->st, NULL, collect, &s), 5);
	assert_string_equal(s.names[0], "dialog:active_dialogs");
	assert_string_equal(s.names[1], "xdp:events");
	assert_string_equal(s.names[2], "dialog:early_dialogs");
	assert_string_equal(s.names[3], "dialog:processed_dialogs");
	assert_string_equal(s.names[4], "dialog:failed_dialogs");
	assert_int_equal(s.values[2], 7);

	memset(&s, 0, sizeof(s));
	assert_int_equal(stats_foreach(f->st, "all", collect, &s), 5);

	/* One group, with or without the colon. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(stats_foreach(f->st, "dialog", collect, &s), 4);
	assert_string_equal(s.names[0], "dialog:active_dialogs");
	assert_string_equal(s.names[1], "dialog:early_dialogs");
	memset(&s, 0, sizeof(s));
	assert_int_equal(stats_foreach(f->st, "xdp:", collect, &s), 1);
	assert_string_equal(s.names[0], "xdp:events");

	/* One statistic, by full or bare name. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(stats_foreach(f->st, "dialog:early_dialogs", collect,
				       &s), 1);
	assert_int_equal(s.values[0], 7);
	memset(&s, 0, sizeof(s));
	assert_int_equal(stats_foreach(f->st, "failed_dialogs", collect, &s),
			 1);
	assert_string_equal(s.names[0], "dialog:failed_dialogs");

	/* Unknown group or name. */
	assert_int_equal(stats_foreach(f->st, "nosuch", collect, &s), -ENOENT);
	assert_int_equal(stats_foreach(f->st, "nosuch:", collect, &s),
			 -ENOENT);
	assert_int_equal(stats_foreach(f->st, "dialog:nosuch", collect, &s),
			 -ENOENT);
	assert_int_equal(stats_foreach(f->st, "xdp:active_dialogs", collect,
				       &s), -ENOENT);
	assert_int_equal(stats_foreach(f->st, NULL, NULL, NULL), -EINVAL);
}

static void test_find(void **state)
{
	struct fixture *f = *state;

	assert_ptr_equal(stats_find(f->st, "dialog:active_dialogs"), f->active);
	assert_ptr_equal(stats_find(f->st, "active_dialogs"), f->active);
	assert_ptr_equal(stats_find(f->st, "xdp:events"), f->xdp_events);
	assert_null(stats_find(f->st, "dialog:events"));
	assert_null(stats_find(f->st, "nosuch"));
	assert_null(stats_find(f->st, "dialog:"));
	assert_null(stats_find(NULL, "x"));
	assert_null(stats_find(f->st, NULL));
}

static void test_reset(void **state)
{
	struct fixture *f = *state;

	stat_set(f->active, 3);
	stat_set(f->early, 4);
	stat_set(f->processed, 5);
	stat_set(f->failed, 6);
	stat_set(f->xdp_events, 7);

	/* One group: gauges are kept. */
	assert_int_equal(stats_reset(f->st, "dialog"), 2);
	assert_int_equal(stat_get(f->active), 3);
	assert_int_equal(stat_get(f->early), 4);
	assert_int_equal(stat_get(f->processed), 0);
	assert_int_equal(stat_get(f->failed), 0);
	assert_int_equal(stat_get(f->xdp_events), 7);

	/* One statistic; a gauge by name counts 0. */
	stat_set(f->failed, 6);
	assert_int_equal(stats_reset(f->st, "dialog:failed_dialogs"), 1);
	assert_int_equal(stat_get(f->failed), 0);
	assert_int_equal(stats_reset(f->st, "dialog:active_dialogs"), 0);
	assert_int_equal(stat_get(f->active), 3);

	/* Everything. */
	stat_set(f->processed, 5);
	assert_int_equal(stats_reset(f->st, "all"), 3);
	assert_int_equal(stat_get(f->xdp_events), 0);
	assert_int_equal(stat_get(f->processed), 0);
	assert_int_equal(stats_reset(f->st, NULL), 3);

	assert_int_equal(stats_reset(f->st, "nosuch"), -ENOENT);
	assert_int_equal(stats_reset(NULL, "all"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_and_update,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
