/*
 * test_db_pend.c - the BYEs remembered while the stored dialogs are not
 * loaded (a start without the database): nothing is remembered unless
 * the load is deferred (db_mode 0, db_skip_load, a loaded start); a BYE
 * matches its row with the tags in either order, by its cookie's ids
 * when it had a cookie and by Call-ID and tags alone when not; another
 * Call-ID, tag or id does not match; BYEs noted after the list was
 * sorted are found too; the list is bounded and counts what it loses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/stats.h"
#include "db/db_int.h"

struct env {
	struct sipdlg_config *cfg;
	struct stats *st;
	struct db_ctx *db;
};

static int load_never(struct dlg_table *t, const struct db_load_row *r,
		      void *ud)
{
	(void)t;
	(void)r;
	(void)ud;
	return -1;
}

static void env_up(struct env *e, int mode, bool skip_load)
{
	char err[256];

	memset(e, 0, sizeof(*e));
	e->cfg = cfg_alloc_defaults();
	assert_non_null(e->cfg);
	e->cfg->dialog.db_mode = mode;
	e->cfg->dialog.db_skip_load = skip_load;
	free(e->cfg->dialog.db_url);
	e->cfg->dialog.db_url = strdup("mysql://u:p@127.0.0.1/sipdlg");
	e->st = stats_alloc();
	assert_non_null(e->st);
	assert_int_equal(db_alloc(&e->cfg->dialog, &e->cfg->database, e->st,
				  &e->db, err, sizeof(err)), 0);
}

static void env_down(struct env *e)
{
	db_free(e->db);
	stats_free(e->st);
	cfg_free(e->cfg);
}

static bool note(struct db_ctx *db, const char *cid, const char *t1,
		 const char *t2, bool has_id, uint32_t he, uint32_t hid)
{
	struct db_end_key k = { .callid = cid, .callid_len = strlen(cid),
				.tag1 = t1, .tag1_len = strlen(t1),
				.tag2 = t2, .tag2_len = strlen(t2),
				.h_entry = he, .h_id = hid, .has_id = has_id };

	return db_note_end(db, &k);
}

static int64_t stat_of(struct env *e, const char *name)
{
	struct stat_var *v = stats_find(e->st, name);

	assert_non_null(v);
	return stat_get(v);
}

static void test_nothing_unless_deferred(void **state)
{
	struct env e;

	(void)state;
	assert_false(db_load_pending(NULL));
	/* a start that loaded (no db_defer_load): nothing remembered */
	env_up(&e, 1, false);
	assert_false(db_load_pending(e.db));
	assert_false(note(e.db, "c1", "a", "b", true, 1, 2));
	assert_int_equal(e.db->late.n, 0);
	env_down(&e);
	/* db_skip_load: no load to defer */
	env_up(&e, 1, true);
	db_defer_load(e.db, load_never, NULL, false, NULL);
	assert_false(db_load_pending(e.db));
	assert_int_equal(stat_of(&e, "db:load_pending"), 0);
	env_down(&e);
	/* db_mode 0 */
	env_up(&e, 0, false);
	db_defer_load(e.db, load_never, NULL, false, NULL);
	assert_false(db_load_pending(e.db));
	env_down(&e);
}

static void test_match_rules(void **state)
{
	struct env e;

	(void)state;
	env_up(&e, 1, false);
	db_defer_load(e.db, load_never, NULL, false, NULL);
	assert_true(db_load_pending(e.db));
	assert_int_equal(stat_of(&e, "db:load_pending"), 1);
	/* from the callee: its tag first; true: match once more */
	assert_true(note(e.db, "c1@h", "callee-t", "caller-t", true, 7, 42));
	/* no cookie: Call-ID and tags only */
	note(e.db, "c2@h", "f2", "t2", false, 0, 0);
	/* an empty Call-ID is not remembered */
	note(e.db, "", "f", "t", true, 1, 1);
	assert_int_equal(e.db->late.n, 2);
	db_pend_sort(e.db);

	assert_true(db_pend_match(e.db, 7, 42, "c1@h", "caller-t",
				  "callee-t"));
	assert_true(db_pend_match(e.db, 7, 42, "c1@h", "callee-t",
				  "caller-t"));
	assert_false(db_pend_match(e.db, 7, 43, "c1@h", "caller-t",
				   "callee-t"));
	assert_false(db_pend_match(e.db, 8, 42, "c1@h", "caller-t",
				   "callee-t"));
	assert_false(db_pend_match(e.db, 7, 42, "c1@h2", "caller-t",
				   "callee-t"));
	assert_false(db_pend_match(e.db, 7, 42, "c1@h", "caller-t", "x"));
	/* a forked leg of the same call (another callee tag) stays */
	assert_false(db_pend_match(e.db, 7, 42, "c1@h", "caller-t", ""));

	assert_true(db_pend_match(e.db, 99, 5, "c2@h", "f2", "t2"));
	assert_false(db_pend_match(e.db, 99, 5, "c2@h", "f2", "t3"));

	/* noted after the sort (the load is running): found as well */
	note(e.db, "c3@h", "f3", "t3", true, 1, 1);
	assert_true(db_pend_match(e.db, 1, 1, "c3@h", "t3", "f3"));
	assert_false(db_pend_match(e.db, 1, 2, "c3@h", "t3", "f3"));
	env_down(&e);
}

static void test_many_sorted(void **state)
{
	struct env e;
	char cid[32];
	unsigned i;

	(void)state;
	env_up(&e, 1, false);
	db_defer_load(e.db, load_never, NULL, false, NULL);
	for (i = 0; i < 5000; i++) {
		snprintf(cid, sizeof(cid), "call-%u", i);
		note(e.db, cid, "f", "t", true, i % 64, i + 1);
	}
	db_pend_sort(e.db);
	for (i = 0; i < 5000; i += 7) {
		snprintf(cid, sizeof(cid), "call-%u", i);
		assert_true(db_pend_match(e.db, i % 64, i + 1, cid, "t", "f"));
		assert_false(db_pend_match(e.db, i % 64, i + 2, cid, "t",
					   "f"));
	}
	assert_false(db_pend_match(e.db, 0, 1, "call-5000", "f", "t"));
	env_down(&e);
}

static void test_bounded(void **state)
{
	struct env e;
	unsigned i;

	(void)state;
	env_up(&e, 1, false);
	db_defer_load(e.db, load_never, NULL, false, NULL);
	for (i = 0; i < DB_PEND_MAX + 3; i++)
		note(e.db, "same", "f", "t", true, 0, i + 1);
	assert_int_equal(e.db->late.n, DB_PEND_MAX);
	assert_int_equal(stat_of(&e, "db:late_ends_lost"), 3);
	/* the load is done: nothing more is noted */
	atomic_store(&e.db->late.pending, false);
	assert_false(note(e.db, "x", "f", "t", false, 0, 0));
	db_pend_clear(e.db);
	assert_int_equal(e.db->late.n, 0);
	env_down(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_unless_deferred),
		cmocka_unit_test(test_match_rules),
		cmocka_unit_test(test_many_sorted),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
