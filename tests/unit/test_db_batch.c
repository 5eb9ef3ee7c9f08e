/*
 * test_db_batch.c - what the database thread makes of a batch (no server
 * needed): queued ops coalesced per dialog, one snapshot each, INSERT for
 * a dialog without a row, UPDATE with one, DELETE at its end only if it
 * has a row (a dialog created and ended within one batch never touches
 * the database), the row mark that decides it, db_mode 3's nothing at run
 * time; the reconnect backoff; which server errors replay a batch and
 * the pauses between the replays.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/timer.h"
#include "db/db_int.h"
#include "dialog/dlg.h"
#include "dlglink/dlg_config.h"

struct env {
	struct sipdlg_config *cfg;
	struct tmr_service *ts;
	struct dlg_table *t;
	struct db_ctx *db;
	unsigned n;
};

static void env_up(struct env *e, int mode)
{
	struct dlg_config dc;
	char err[256];

	memset(e, 0, sizeof(*e));
	e->cfg = cfg_alloc_defaults();
	assert_non_null(e->cfg);
	e->cfg->dialog.db_mode = mode;
	free(e->cfg->dialog.db_url);
	e->cfg->dialog.db_url = strdup("mysql://u:p@127.0.0.1/sipdlg");
	e->cfg->dialog.hash_size = 16;
	e->ts = tmr_service_alloc();
	assert_int_equal(tmr_service_start(e->ts), 0);
	dlg_config_from_cfg(&dc, &e->cfg->dialog);
	assert_int_equal(dlg_table_alloc(&dc, e->ts, NULL, &e->t), 0);
	assert_int_equal(db_alloc(&e->cfg->dialog, &e->cfg->database, NULL,
				  &e->db, err, sizeof(err)), 0);
}

static void env_down(struct env *e)
{
	tmr_service_free(e->ts);
	dlg_table_free(e->t);
	db_free(e->db);
	cfg_free(e->cfg);
}

/* A dialog in state 4 (INVITE, 200, ACK); referenced.  @cid_len > 0:
 * its Call-ID has that many characters. */
static struct dlg_cell *confirmed_len(struct env *e, size_t cid_len)
{
	char cid[1024], ftag[16];
	struct dlg_invite inv;
	struct dlg_reply r;
	struct dlg_req rq;
	struct dlg_cell *c = NULL;

	snprintf(cid, sizeof(cid), "batch-%u@h", e->n);
	if (cid_len >= 16 && cid_len < sizeof(cid)) {
		size_t k = strlen(cid);

		memset(cid + k, 'x', cid_len - k);
		cid[cid_len] = '\0';
	}
	snprintf(ftag, sizeof(ftag), "f%u", e->n++);
	memset(&inv, 0, sizeof(inv));
	inv.callid = sip_str_c(cid);
	inv.from_uri = sip_str_c("sip:a@h");
	inv.from_tag = sip_str_c(ftag);
	inv.to_uri = sip_str_c("sip:b@h");
	inv.req_uri = sip_str_c("sip:b@h");
	inv.contact = sip_str_c("sip:a@10.0.0.1");
	inv.cseq = 1;
	assert_int_equal(dlg_manage(e->t, &inv, NULL, &c), DLG_RC_CREATED);
	memset(&r, 0, sizeof(r));
	r.code = 200;
	r.to_tag = sip_str_c("tt");
	r.contact = sip_str_c("sip:b@10.0.0.2");
	dlg_on_reply(c, &r);
	memset(&rq, 0, sizeof(rq));
	rq.method = SIP_METHOD_ACK;
	rq.cseq = 1;
	dlg_on_request(c, DLG_DIR_DOWNSTREAM, &rq);
	assert_int_equal(dlg_state(c), DLG_STATE_CONFIRMED);
	return c;
}

static void bye(struct dlg_cell *c)
{
	struct dlg_req rq;

	memset(&rq, 0, sizeof(rq));
	rq.method = SIP_METHOD_BYE;
	rq.cseq = 2;
	dlg_on_request(c, DLG_DIR_DOWNSTREAM, &rq);
	assert_int_equal(dlg_state(c), DLG_STATE_DELETED);
}

static struct dlg_cell *confirmed(struct env *e)
{
	return confirmed_len(e, 0);
}

/* A SYNC op as the callbacks queue it (takes a reference). */
static struct db_op sync_op(struct dlg_cell *c)
{
	struct db_op op = { .kind = DB_OP_SYNC, .cell = c };

	dlg_ref(c);
	return op;
}

/* A Call-ID longer than Kamailio's callid column (255): the dialog lives
 * on, but no row is written for it, ever; one of 255 is written. */
static void test_value_longer_than_its_column(void **state)
{
	struct env e;
	struct dlg_cell *lng, *fits;
	struct db_op ops[2];
	struct db_plan p;

	(void)state;
	env_up(&e, DB_MODE_REALTIME);
	lng = confirmed_len(&e, 256);
	fits = confirmed_len(&e, 255);
	ops[0] = sync_op(lng);
	ops[1] = sync_op(fits);
	assert_int_equal(db_plan_build(e.db, ops, 2, &p), 0);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.it[0].act, DB_ACT_NONE);
	assert_int_equal(p.it[1].act, DB_ACT_INSERT);
	assert_false(dlg_dflags(lng) & DLG_DFLAG_DB_ROW);
	db_plan_free(&p);
	/* its end deletes nothing: it never had a row */
	bye(lng);
	ops[0] = sync_op(lng);
	assert_int_equal(db_plan_build(e.db, ops, 1, &p), 0);
	assert_int_equal(p.it[0].act, DB_ACT_NONE);
	db_plan_free(&p);
	dlg_unref(lng);
	dlg_unref(fits);
	env_down(&e);
}

static void test_coalesce_insert_then_update(void **state)
{
	struct env e;
	struct dlg_cell *a, *b;
	struct db_op ops[5];
	struct db_plan p;
	int refs;

	(void)state;
	env_up(&e, DB_MODE_REALTIME);
	a = confirmed(&e);
	b = confirmed(&e);
	refs = dlg_ref_count(a);
	dlg_var_set(a, sip_str_c("k"), sip_str_c("v1"));
	/* three writes of a, two of b: two items, one snapshot each */
	ops[0] = sync_op(a);
	ops[1] = sync_op(b);
	ops[2] = sync_op(a);
	ops[3] = sync_op(a);
	ops[4] = sync_op(b);
	assert_int_equal(db_plan_build(e.db, ops, 5, &p), 0);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.it[0].hid, dlg_h_id(a));
	assert_int_equal(p.it[0].act, DB_ACT_INSERT);
	assert_true(p.it[0].vars);
	assert_int_equal(p.it[0].info->n_vars, 1);
	assert_int_equal(p.it[1].act, DB_ACT_INSERT);
	assert_int_equal(db_plan_writes(&p), 2);
	assert_int_equal(dlg_ref_count(a), refs); /* op refs dropped */
	assert_true(dlg_dflags(a) & DLG_DFLAG_DB_ROW);
	db_plan_free(&p);

	/* next batch: a has a row now; vars unchanged, then changed */
	ops[0] = sync_op(a);
	assert_int_equal(db_plan_build(e.db, ops, 1, &p), 0);
	assert_int_equal(p.it[0].act, DB_ACT_UPDATE);
	assert_false(p.it[0].vars);
	db_plan_free(&p);
	dlg_var_set(a, sip_str_c("k"), sip_str_c("v2"));
	ops[0] = sync_op(a);
	assert_int_equal(db_plan_build(e.db, ops, 1, &p), 0);
	assert_int_equal(p.it[0].act, DB_ACT_UPDATE);
	assert_true(p.it[0].vars);
	db_plan_free(&p);

	/* the end of a dialog with a row deletes it and clears the mark */
	bye(a);
	ops[0] = sync_op(a);
	assert_int_equal(db_plan_build(e.db, ops, 1, &p), 0);
	assert_int_equal(p.it[0].act, DB_ACT_DELETE);
	assert_false(dlg_dflags(a) & DLG_DFLAG_DB_ROW);
	db_plan_free(&p);
	/* written again after that (the BYE's reply): nothing to do */
	ops[0] = sync_op(a);
	assert_int_equal(db_plan_build(e.db, ops, 1, &p), 0);
	assert_int_equal(p.it[0].act, DB_ACT_NONE);
	assert_int_equal(db_plan_writes(&p), 0);
	db_plan_free(&p);
	dlg_unref(a);
	dlg_unref(b);
	env_down(&e);
}

static void test_created_and_ended_in_one_batch(void **state)
{
	struct env e;
	struct dlg_cell *a;
	struct db_op ops[3];
	struct db_plan p;

	(void)state;
	env_up(&e, DB_MODE_REALTIME);
	a = confirmed(&e);
	ops[0] = sync_op(a);	/* CONFIRMED_NA */
	ops[1] = sync_op(a);	/* CONFIRMED */
	bye(a);
	ops[2] = sync_op(a);	/* TERMINATED */
	assert_int_equal(db_plan_build(e.db, ops, 3, &p), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.it[0].act, DB_ACT_NONE);
	assert_false(dlg_dflags(a) & DLG_DFLAG_DB_ROW);
	db_plan_free(&p);
	dlg_unref(a);
	env_down(&e);
}

static void test_destroy_op_deletes(void **state)
{
	struct env e;
	struct db_op op = { .kind = DB_OP_DELETE, .h_entry = 3, .h_id = 77 };
	struct db_plan p;

	(void)state;
	env_up(&e, DB_MODE_REALTIME);
	assert_int_equal(db_plan_build(e.db, &op, 1, &p), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.it[0].he, 3);
	assert_int_equal(p.it[0].hid, 77);
	assert_int_equal(p.it[0].act, DB_ACT_DELETE);
	db_plan_free(&p);
	env_down(&e);
}

static void test_mode3_deletes_nothing(void **state)
{
	struct env e;
	struct dlg_cell *a;
	struct db_op ops[2];
	struct db_plan p;

	(void)state;
	env_up(&e, DB_MODE_SHUTDOWN);
	a = confirmed(&e);
	dlg_db_row_mark(a, true);	/* as after a restore */
	bye(a);
	ops[0] = sync_op(a);
	ops[1] = (struct db_op){ .kind = DB_OP_DELETE, .h_entry = 1,
				 .h_id = 2 };
	assert_int_equal(db_plan_build(e.db, ops, 2, &p), 0);
	assert_int_equal(db_plan_writes(&p), 0);
	db_plan_free(&p);
	dlg_unref(a);
	env_down(&e);
}

static void test_backoff(void **state)
{
	uint64_t w = 0;
	const uint64_t want[] = { 1000, 2000, 4000, 8000, 16000, 32000,
				  60000, 60000 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		w = db_backoff_next(w, 1000, 60000);
		assert_int_equal(w, want[i]);
	}
	/* a cap below the first wait: the first wait, always */
	assert_int_equal(db_backoff_next(0, 5000, 1000), 5000);
	assert_int_equal(db_backoff_next(5000, 5000, 1000), 5000);
	assert_int_equal(db_backoff_next(3000, 1000, 5000), 5000);
}

/* "Try restarting transaction": deadlock (Galera's certification
 * conflict too), lock wait timeout, snapshot isolation's changed row;
 * not a lost connection nor a refused value. */
static void test_retryable_errors(void **state)
{
	(void)state;
	assert_true(db_errno_is_retry(1213));
	assert_true(db_errno_is_retry(1205));
	assert_true(db_errno_is_retry(1020));
	assert_false(db_errno_is_retry(1406));	/* data too long */
	assert_false(db_errno_is_retry(1062));	/* duplicate key */
	assert_false(db_errno_is_retry(2013));	/* lost: a reconnect */
	assert_false(db_errno_is_retry(0));
	assert_false(db_errno_is_conn(1213));
	assert_false(db_errno_is_conn(1205));
}

/* A few ms, growing, bounded: all retries of a batch within 62 ms of
 * pauses (plus the server's own waits). */
static void test_retry_pauses(void **state)
{
	const unsigned want[] = { 2, 4, 8, 16, 32, 32, 32 };
	unsigned k, sum = 0;

	(void)state;
	for (k = 0; k < sizeof(want) / sizeof(want[0]); k++)
		assert_int_equal(db_retry_pause_ms(k), want[k]);
	for (k = 0; k < DB_RETRY_MAX; k++)
		sum += db_retry_pause_ms(k);
	assert_int_equal(sum, 62);
	assert_int_equal(db_retry_pause_ms(1000), 32);
	assert_true(DB_ITEM_RETRY_MAX < DB_RETRY_MAX);
	/* the budget outlasts the pauses, never a 50 s lock wait each */
	assert_true(DB_RETRY_BUDGET_MS > 62 && DB_RETRY_BUDGET_MS <= 10000);
}

/* The note the one warning of a batch quotes: the last error, cut to
 * the buffer. */
static void test_retry_note(void **state)
{
	struct db_conn c;
	char long_msg[400];

	(void)state;
	memset(&c, 0, sizeof(c));
	db_conn_note_retry(&c, 1205, "Lock wait timeout exceeded; try "
			   "restarting transaction");
	assert_int_equal(c.err_no, 1205);
	assert_string_equal(c.err, "Lock wait timeout exceeded; try "
			    "restarting transaction");
	memset(long_msg, 'x', sizeof(long_msg) - 1);
	long_msg[sizeof(long_msg) - 1] = 0;
	db_conn_note_retry(&c, 1213, long_msg);
	assert_int_equal(c.err_no, 1213);
	assert_int_equal(strlen(c.err), sizeof(c.err) - 1);
	db_conn_note_retry(&c, 1213, NULL);
	assert_string_equal(c.err, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_coalesce_insert_then_update),
		cmocka_unit_test(test_value_longer_than_its_column),
		cmocka_unit_test(test_created_and_ended_in_one_batch),
		cmocka_unit_test(test_destroy_op_deletes),
		cmocka_unit_test(test_mode3_deletes_nothing),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_retryable_errors),
		cmocka_unit_test(test_retry_pauses),
		cmocka_unit_test(test_retry_note),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
