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
	struct dlg_info *info;	/* SYNC: taken by the DB thread */
	bool all_vars;		/* SYNC: write every var, marked or not */
};

enum db_stmt_id {
	ST_DLG_UPD, ST_DLG_INS, ST_DLG_DEL, ST_VARS_DEL_ALL,
	ST_VAR_UPD, ST_VAR_INS, ST_VAR_DEL, ST_COUNT,
};

struct db_conn {
	MYSQL *my;
	MYSQL_STMT *st[ST_COUNT];
};

struct db_ctx {
	const struct cfg_dialog *cd;
	const struct cfg_database *cdb;
	enum db_mode mode;
	struct db_url url;
	char *sql[ST_COUNT];		/* statement texts */
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

	struct stat_var *st_depth, *st_batches, *st_dropped, *st_errors,
		*st_reconnects;
};

/* db_sql.c */
int db_sql_build(struct db_ctx *db, char *err, size_t errlen);
void db_sql_free(struct db_ctx *db);
int db_conn_open(struct db_ctx *db, struct db_conn *c, char *err,
		 size_t errlen);
void db_conn_close(struct db_conn *c);
int db_conn_check_versions(struct db_ctx *db, struct db_conn *c, char *err,
			   size_t errlen);
/* Write one op; 0, -ENOTCONN (the connection is gone: retry the batch
 * after reconnecting), -EIO (this op failed; logged). */
int db_conn_exec_op(struct db_ctx *db, struct db_conn *c,
		    const struct db_op *op);
int db_conn_begin(struct db_conn *c);
int db_conn_commit(struct db_conn *c);
/* Is @err (a mysql_errno) a lost connection? */
bool db_errno_is_conn(unsigned err);
/* Backquote-quoted identifier check: 0 or -EINVAL. */
int db_ident_ok(const char *name);

#endif /* SIPDLG_DB_INT_H */
