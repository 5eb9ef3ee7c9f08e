/*
 * db_int.h - internals shared by the files of user/db (not for others).
 */
#ifndef SIPDLG_DB_INT_H
#define SIPDLG_DB_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <mysql.h>

#include "db/db.h"
#include "db/db_url.h"

struct stat_var;
struct dlg_info;

enum db_op_kind {
	DB_OP_SYNC = 1,		/* write @cell's current state (ref held) */
	DB_OP_DELETE = 2,	/* delete the rows of (h_entry, h_id) */
};

struct db_op {
	enum db_op_kind kind;
	struct dlg_cell *cell;
	uint32_t h_entry, h_id;
	bool all_vars;		/* SYNC: write every var, marked or not */
};

/* One dialog of a batch after coalescing (db_batch.c). */
enum db_act {
	DB_ACT_NONE = 0,
	DB_ACT_INSERT = 1,	/* no row yet */
	DB_ACT_UPDATE = 2,	/* has a row */
	DB_ACT_DELETE = 3,
	DB_ACT_INSERT_LATE = 4,	/* its UPDATE matched no row */
};

struct db_item {
	uint32_t he, hid;
	struct dlg_cell *cell;	/* ref, until the snapshot */
	struct dlg_info *info;	/* the snapshot; NULL for a DESTROY */
	enum db_act act;
	bool destroyed;		/* a DESTROY op was in the batch */
	bool all_vars;		/* rewrite every var (db_mode 2/3 at stop) */
	bool vars;		/* rewrite its dialog_vars rows */
};

struct db_plan {
	struct db_item *it;
	size_t n;
};

#define DB_DLG_COLS 23

enum db_stmt_id {
	ST_DLG_UPD, ST_DLG_INS, ST_DLG_DEL, ST_VARS_DEL_ALL,
	ST_VAR_UPD, ST_VAR_INS, ST_VAR_DEL, ST_COUNT,
};

/* A BYE seen for an unknown dialog while the load is pending (db_pend.c):
 * hashes of its Call-ID and tags, and its cookie's ids if it had one. */
struct db_pend_end {
	uint64_t callid, tag_a, tag_b;
	uint32_t he, hid;
	bool has_id;
};

/* At most this many remembered BYEs (32 bytes each). */
#define DB_PEND_MAX 65536u

/* The load deferred by a start without the database (db_late.c). */
struct db_late {
	atomic_bool pending;		/* not loaded yet (workers read it) */
	db_dlg_load_fn fn;
	void *ud;
	bool rehash;
	db_late_done_fn done;
	pthread_mutex_t mu;		/* the list below */
	struct db_pend_end *v;
	size_t n, cap;
	size_t sorted;			/* v[0..sorted) sorted by callid */
	bool lost_logged;
};

struct db_conn {
	MYSQL *my;
	bool txn;			/* autocommit is off */
	MYSQL_STMT *st[ST_COUNT];
	/* The last retryable error (db_errno_is_retry), for the one
	 * warning a batch logs however often it was retried. */
	unsigned err_no;
	char err[192];
};

struct db_ctx {
	const struct cfg_dialog *cd;
	const struct cfg_database *cdb;
	enum db_mode mode;
	struct db_url url;
	char *sql[ST_COUNT];		/* statement texts */
	const char *col[DB_DLG_COLS];	/* dialog columns, bind order */
	char *sql_upd_head;		/* "UPDATE `t` SET " */
	char *sql_ins_head;		/* "INSERT INTO `t` (...) VALUES " */
	char *sql_dlg_del_head;		/* "DELETE ... WHERE (he,hid) IN (" */
	char *sql_var_del_head;
	char *sql_var_ins_head;
	struct db_conn conn;		/* owned by the thread once started */
	struct dlg_table *t;

	pthread_mutex_t mu;
	pthread_cond_t cv;		/* producer -> thread, stop */
	pthread_cond_t idle_cv;		/* thread -> db_flush_wait */
	struct db_op *q;
	size_t qcap, qhead, qlen;
	bool busy;			/* the thread holds a batch */
	bool stop;			/* thread: finish and exit */
	bool running;
	atomic_bool stopping;		/* callbacks: write nothing more */
	bool cbs_registered;
	pthread_t th;
	unsigned attempts;		/* failed connection attempts in a row */
	uint64_t wait_ms;		/* backoff before the next attempt */
	uint64_t next_try_ms;		/* monotonic; 0 = at once */

	struct db_late late;
	struct db_load_filter filter;	/* rows db_load and the late load read */

	struct stat_var *st_depth, *st_batches, *st_dropped, *st_errors,
		*st_reconnects, *st_rows, *st_too_long, *st_retries;
	struct stat_var *st_late_pending, *st_late_restored, *st_late_ended,
		*st_late_lost;
};

/* db_pend.c: the BYEs remembered while the load is pending. */
void db_pend_sort(struct db_ctx *db);
bool db_pend_match(struct db_ctx *db, uint32_t he, uint32_t hid,
		   const char *callid, const char *ftag, const char *ttag);
/* The late load holds the list's lock from its check of a row to the
 * row's dialog being linked (db_load.c): a BYE noted meanwhile waits. */
void db_pend_lock(struct db_ctx *db);
void db_pend_unlock(struct db_ctx *db);
bool db_pend_match_locked(struct db_ctx *db, uint32_t he, uint32_t hid,
			  const char *callid, const char *ftag,
			  const char *ttag);
void db_pend_clear(struct db_ctx *db);

/* db_load.c: db_load() and, with @late, the late load's rules: rows a
 * remembered BYE ended and rows whose ids a new dialog holds are deleted
 * instead of restored (counted in res->ended / res->conflicts). */
int db_load_rows(struct db_ctx *db, struct db_conn *cn, struct dlg_table *t,
		 db_dlg_load_fn fn, void *ud, bool rehash, bool late,
		 const struct db_load_filter *filter,
		 struct db_load_result *res, char *err, size_t errlen);

/* db_late.c: on the database thread, right after a connection is made
 * and before anything is written: the deferred load.  0 (done, or given
 * up with an error logged), -ENOTCONN (connection lost: try again on the
 * next connection; the message in @err). */
int db_late_load(struct db_ctx *db, char *err, size_t errlen);
/* db_late.c: db_stop in db_mode 1 with the load still pending (the
 * thread is joined): one connection attempt, and the rows the
 * remembered BYEs name (by their cookie ids) are deleted, nothing is
 * restored, so the next start does not bring those calls back. */
void db_late_stop(struct db_ctx *db);

/* db_sql.c */
int db_sql_build(struct db_ctx *db, char *err, size_t errlen);
void db_sql_free(struct db_ctx *db);
int db_conn_open(struct db_ctx *db, struct db_conn *c, char *err,
		 size_t errlen);
void db_conn_close(struct db_conn *c);
int db_conn_check_versions(struct db_ctx *db, struct db_conn *c, char *err,
			   size_t errlen);
/* The prepared-statement writes of one dialog: an upsert of its row and
 * its vars (all of them with @all_vars), or the delete of both. */
int db_sql_write(struct db_conn *c, const struct dlg_info *in,
		 bool all_vars);
int db_sql_delete(struct db_conn *c, uint32_t he, uint32_t hid);
/* Autocommit off (once per connection): the next statements are one
 * transaction until db_conn_commit. */
int db_conn_begin(struct db_conn *c);
/* 0, -ENOTCONN, -EAGAIN (a retryable refusal, noted in @c, not
 * logged), -EIO (logged).  db_sql_write/db_sql_delete return the same. */
int db_conn_commit(struct db_conn *c);
/* db_batch.c: coalesce @n ops (their cell references are taken over)
 * into @p; then write it in one transaction: 0, -ENOTCONN (replay @p
 * after reconnecting), -EIO (COMMIT refused), -ENOMEM.  A plan can be
 * executed again after -ENOTCONN.  A retryable refusal
 * (db_errno_is_retry) replays the plan up to DB_RETRY_MAX times, then
 * each dialog alone, like a refused statement or COMMIT. */
int db_plan_build(struct db_ctx *db, struct db_op *ops, size_t n,
		  struct db_plan *p);
int db_plan_exec(struct db_ctx *db, struct db_conn *c, struct db_plan *p);
size_t db_plan_writes(const struct db_plan *p);	/* items with an action */
void db_plan_free(struct db_plan *p);
/* db.c: the wait after @prev_ms (0: none yet): @first_ms, then doubled
 * up to @max_ms (at least @first_ms). */
uint64_t db_backoff_next(uint64_t prev_ms, uint64_t first_ms,
			 uint64_t max_ms);
/* Is @err (a mysql_errno) a lost connection? */
bool db_errno_is_conn(unsigned err);
/* Is @err a "try restarting transaction" refusal (deadlock, lock wait
 * timeout, Galera certification conflict)?  Noted in @c by the callers
 * that return -EAGAIN for it. */
bool db_errno_is_retry(unsigned err);
void db_conn_note_retry(struct db_conn *c, unsigned err, const char *msg);
/* db_batch.c: a transaction refused with a retryable error is run again
 * up to DB_RETRY_MAX times (a dialog written alone: DB_ITEM_RETRY_MAX),
 * within DB_RETRY_BUDGET_MS, after db_retry_pause_ms(k) for the k-th
 * retry (k from 0). */
#define DB_RETRY_MAX 5
#define DB_ITEM_RETRY_MAX 2
/* No retry begins this long after the first attempt (a batch, or a
 * dialog written alone): lock wait timeouts each take the server's
 * innodb_lock_wait_timeout. */
#define DB_RETRY_BUDGET_MS 10000
unsigned db_retry_pause_ms(unsigned k);
/* Sleep @ms (nanosleep, resumed after a signal); db.c. */
void db_sleep_ms(uint64_t ms);
/* Backquote-quoted identifier check: 0 or -EINVAL. */
int db_ident_ok(const char *name);

#endif /* SIPDLG_DB_INT_H */
