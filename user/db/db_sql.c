/*
 * db_sql.c - the MySQL side: connection, prepared statements built from
 * the configured table and column names (and the heads of db_batch.c's
 * multi-row statements), the version check, and the writes of one dialog
 * at a time.  Only the database thread (and, before it starts, the thread
 * calling db_check/db_load) uses a connection.
 *
 * The one-dialog writes are the slow path of a batch the server refused
 * (db_batch.c), and the statements prepared at db_check name a missing
 * table or column.  Each is an upsert (UPDATE, then INSERT when it
 * matched no row; the connection uses CLIENT_FOUND_ROWS so an UPDATE that
 * changes nothing still counts as a match): a replay never makes a
 * duplicate row (the schema has no unique key on (hash_entry, hash_id)).
 */
#define LOG_TAG "db"
#include "db/db_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errmsg.h>

#include "config/config.h"
#include "core/log.h"
#include "core/obuf.h"
#include "db/db_load.h"
#include "dialog/dlg.h"

#define N_DLG_COLS DB_DLG_COLS

static int errf(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

bool db_errno_is_conn(unsigned e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
	       e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR ||
	       e == CR_COMMANDS_OUT_OF_SYNC || e == 1927 /* ER_CONNECTION_KILLED */ ||
	       e == 1053 /* ER_SERVER_SHUTDOWN */;
}

/*
 * The "try restarting transaction" class: InnoDB's deadlock victim and
 * lock wait timeout, and Galera's certification conflict (reported as
 * 1213 too, "Deadlock: wsrep aborted transaction", SQLSTATE 40001, most
 * often at COMMIT).  1020 (ER_CHECKREAD) is what MariaDB >= 11.6 says
 * with innodb_snapshot_isolation when a row changed under the
 * transaction.  The transaction (1213: already rolled back by the server)
 * can be run again as a whole and usually succeeds.
 */
bool db_errno_is_retry(unsigned e)
{
	return e == 1213 /* ER_LOCK_DEADLOCK */ ||
	       e == 1205 /* ER_LOCK_WAIT_TIMEOUT */ ||
	       e == 1020 /* ER_CHECKREAD */;
}

void db_conn_note_retry(struct db_conn *c, unsigned e, const char *msg)
{
	c->err_no = e;
	snprintf(c->err, sizeof(c->err), "%s", msg ? msg : "");
}

int db_ident_ok(const char *name)
{
	if (!name || !*name || strlen(name) > 64 || strchr(name, '`'))
		return -EINVAL;
	return 0;
}

/* The 23 dialog columns in bind order (hash_entry, hash_id first). */
static void dlg_cols(const struct cfg_dialog *d, const char *c[N_DLG_COLS])
{
	const char *v[N_DLG_COLS] = {
		d->h_entry_column, d->h_id_column, d->callid_column,
		d->from_uri_column, d->from_tag_column, d->to_uri_column,
		d->to_tag_column, d->caller_cseq_column,
		d->callee_cseq_column, d->caller_route_column,
		d->callee_route_column, d->caller_contact_column,
		d->callee_contact_column, d->caller_sock_column,
		d->callee_sock_column, d->state_column,
		d->start_time_column, d->timeout_column, d->sflags_column,
		"iflags", d->toroute_column, "req_uri", "xdata",
	};

	memcpy(c, v, sizeof(v));
}

int db_sql_build(struct db_ctx *db, char *err, size_t errlen)
{
	const struct cfg_dialog *d = db->cd;
	const char *c[N_DLG_COLS];
	const char *vt = d->vars_table_name, *vhe = d->vars_h_entry_column,
		   *vhi = d->vars_h_id_column, *vk = d->vars_key_column,
		   *vv = d->vars_value_column, *t = d->table_name;
	struct obuf q;
	int i, rc = 0;

	dlg_cols(d, c);
	for (i = 0; i < N_DLG_COLS; i++)
		if (db_ident_ok(c[i]))
			return errf(err, errlen, -EINVAL, "dialog: column name "
				    "'%s' is empty, too long or has a '`'",
				    c[i] ? c[i] : "");
	{
		const char *o[] = { t, vt, vhe, vhi, vk, vv };

		for (i = 0; i < 6; i++)
			if (db_ident_ok(o[i]))
				return errf(err, errlen, -EINVAL, "dialog: "
					    "table/column name '%s' is empty, "
					    "too long or has a '`'", o[i]);
	}
	/* UPDATE: columns 2..22, WHERE hash_entry, hash_id.  A statement
	 * that cannot be built is NULL (checked at the end). */
	ob_init(&q, OBUF_UNLIMITED);
	ob_printf(&q, "UPDATE `%s` SET ", t);
	for (i = 2; i < N_DLG_COLS; i++)
		ob_printf(&q, "%s`%s`=?", i > 2 ? "," : "", c[i]);
	ob_printf(&q, " WHERE `%s`=? AND `%s`=?", c[0], c[1]);
	db->sql[ST_DLG_UPD] = ob_take(&q);
	ob_printf(&q, "INSERT INTO `%s` (", t);
	for (i = 0; i < N_DLG_COLS; i++)
		ob_printf(&q, "%s`%s`", i ? "," : "", c[i]);
	ob_printf(&q, ") VALUES (");
	for (i = 0; i < N_DLG_COLS; i++)
		ob_printf(&q, "%s?", i ? "," : "");
	ob_printf(&q, ")");
	db->sql[ST_DLG_INS] = ob_take(&q);
	ob_printf(&q, "DELETE FROM `%s` WHERE `%s`=? AND `%s`=?", t,
		  c[0], c[1]);
	db->sql[ST_DLG_DEL] = ob_take(&q);
	ob_printf(&q, "DELETE FROM `%s` WHERE `%s`=? AND `%s`=?", vt,
		  vhe, vhi);
	db->sql[ST_VARS_DEL_ALL] = ob_take(&q);
	ob_printf(&q, "UPDATE `%s` SET `%s`=? WHERE `%s`=? AND `%s`=? "
		  "AND `%s`=?", vt, vv, vhe, vhi, vk);
	db->sql[ST_VAR_UPD] = ob_take(&q);
	ob_printf(&q, "INSERT INTO `%s` (`%s`,`%s`,`%s`,`%s`) VALUES "
		  "(?,?,?,?)", vt, vhe, vhi, vk, vv);
	db->sql[ST_VAR_INS] = ob_take(&q);
	ob_printf(&q, "DELETE FROM `%s` WHERE `%s`=? AND `%s`=? AND "
		  "`%s`=?", vt, vhe, vhi, vk);
	db->sql[ST_VAR_DEL] = ob_take(&q);
	/* The heads of db_batch.c's multi-row statements. */
	memcpy(db->col, c, sizeof(db->col));
	ob_printf(&q, "UPDATE `%s` SET ", t);
	db->sql_upd_head = ob_take(&q);
	ob_printf(&q, "INSERT INTO `%s` (", t);
	for (i = 0; i < N_DLG_COLS; i++)
		ob_printf(&q, "%s`%s`", i ? "," : "", c[i]);
	ob_printf(&q, ") VALUES ");
	db->sql_ins_head = ob_take(&q);
	ob_printf(&q, "DELETE FROM `%s` WHERE (`%s`,`%s`) IN (", t,
		  c[0], c[1]);
	db->sql_dlg_del_head = ob_take(&q);
	ob_printf(&q, "DELETE FROM `%s` WHERE (`%s`,`%s`) IN (", vt,
		  vhe, vhi);
	db->sql_var_del_head = ob_take(&q);
	ob_printf(&q, "INSERT INTO `%s` (`%s`,`%s`,`%s`,`%s`) VALUES ",
		  vt, vhe, vhi, vk, vv);
	db->sql_var_ins_head = ob_take(&q);
	for (i = 0; i < ST_COUNT; i++)
		if (!db->sql[i])
			rc = -ENOMEM;
	if (!db->sql_upd_head || !db->sql_ins_head || !db->sql_dlg_del_head ||
	    !db->sql_var_del_head || !db->sql_var_ins_head)
		rc = -ENOMEM;
	return rc ? -ENOMEM : 0;
}

void db_sql_free(struct db_ctx *db)
{
	int i;

	for (i = 0; i < ST_COUNT; i++) {
		free(db->sql[i]);
		db->sql[i] = NULL;
	}
	free(db->sql_upd_head);
	free(db->sql_ins_head);
	free(db->sql_dlg_del_head);
	free(db->sql_var_del_head);
	free(db->sql_var_ins_head);
	db->sql_upd_head = db->sql_ins_head = db->sql_dlg_del_head = NULL;
	db->sql_var_del_head = db->sql_var_ins_head = NULL;
}

void db_conn_close(struct db_conn *c)
{
	int i;

	for (i = 0; i < ST_COUNT; i++) {
		if (c->st[i])
			mysql_stmt_close(c->st[i]);
		c->st[i] = NULL;
	}
	if (c->my)
		mysql_close(c->my);
	c->my = NULL;
	c->txn = false;
}

int db_conn_open(struct db_ctx *db, struct db_conn *c, char *err,
		 size_t errlen)
{
	unsigned timeout = 3;
	char where[512];
	int i;

	db_conn_close(c);
	db_url_describe(&db->url, where, sizeof(where));
	c->my = mysql_init(NULL);
	if (!c->my)
		return -ENOMEM;
	mysql_options(c->my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	timeout = 10;
	mysql_options(c->my, MYSQL_OPT_READ_TIMEOUT, &timeout);
	mysql_options(c->my, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
	/* "binary": values are bytes, sent and read back unconverted, so a
	 * Call-ID, URI or variable is stored byte for byte whatever the
	 * columns' charset (Kamailio's schema sets none: with the server's
	 * default latin1, a utf8mb4 connection could not store 4-byte UTF-8
	 * at all, and would convert everything else). */
	mysql_options(c->my, MYSQL_SET_CHARSET_NAME, "binary");
	/* READ COMMITTED: a DELETE or UPDATE by (hash_entry, hash_id) locks
	 * the rows it finds, not the gaps of that non-unique index as
	 * REPEATABLE READ does.  Nothing here needs a repeatable snapshot
	 * (the writer only writes; a load pages by primary key).  On Galera
	 * such a gap lock of a box's batch blocked the applier of another
	 * box's INSERT, which then aborted the batch ("Deadlock found",
	 * retried): 1,500 aborted batches a minute per box at 1,000 calls/s
	 * over two boxes in make bench-cluster. */
	mysql_options(c->my, MYSQL_INIT_COMMAND,
		      "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
	if (!mysql_real_connect(c->my, db->url.socket ? NULL : db->url.host,
				db->url.user, db->url.pass, db->url.db,
				db->url.port, db->url.socket,
				CLIENT_FOUND_ROWS | CLIENT_MULTI_STATEMENTS)) {
		errf(err, errlen, -ECONNREFUSED, "cannot connect to %s: %s",
		     where, mysql_error(c->my));
		db_conn_close(c);
		return -ECONNREFUSED;
	}
	for (i = 0; i < ST_COUNT; i++) {
		c->st[i] = mysql_stmt_init(c->my);
		if (!c->st[i]) {
			db_conn_close(c);
			return -ENOMEM;
		}
		if (mysql_stmt_prepare(c->st[i], db->sql[i],
				       strlen(db->sql[i]))) {
			unsigned e = mysql_stmt_errno(c->st[i]);

			errf(err, errlen, db_errno_is_conn(e) ? -ECONNREFUSED :
			     -EPROTO, "%s: cannot prepare \"%s\": %s "
			     "(is config/schema/mysql.sql loaded, with the "
			     "configured table and column names?)", where,
			     db->sql[i], mysql_stmt_error(c->st[i]));
			db_conn_close(c);
			return db_errno_is_conn(e) ? -ECONNREFUSED : -EPROTO;
		}
	}
	return 0;
}

/* SELECT table_version for @table: 0 with *v, -ENOENT, -EPROTO. */
static int table_version(struct db_conn *c, const char *table, long *v,
			 char *err, size_t errlen)
{
	char q[256], esc[140];
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc = -ENOENT;

	mysql_real_escape_string(c->my, esc, table, strlen(table));
	snprintf(q, sizeof(q), "SELECT table_version FROM version WHERE "
		 "table_name='%s'", esc);
	if (mysql_query(c->my, q) || !(res = mysql_store_result(c->my))) {
		unsigned e = mysql_errno(c->my);

		return errf(err, errlen, db_errno_is_conn(e) ? -ECONNREFUSED :
			    -EPROTO, "cannot read the `version` table: %s "
			    "(load config/schema/mysql.sql)",
			    mysql_error(c->my));
	}
	row = mysql_fetch_row(res);
	if (row && row[0]) {
		*v = strtol(row[0], NULL, 10);
		rc = 0;
	}
	mysql_free_result(res);
	return rc;
}

int db_conn_check_versions(struct db_ctx *db, struct db_conn *c, char *err,
			   size_t errlen)
{
	const struct {
		const char *name;
		long want;
	} t[2] = { { db->cd->table_name, 7 }, { db->cd->vars_table_name, 1 } };
	long v = 0;
	int i, rc;

	for (i = 0; i < 2; i++) {
		rc = table_version(c, t[i].name, &v, err, errlen);
		if (rc == -ENOENT)
			return errf(err, errlen, -EPROTO, "table '%s' has no "
				    "row in the `version` table (expected "
				    "version %ld; load config/schema/"
				    "mysql.sql)", t[i].name, t[i].want);
		if (rc)
			return rc;
		if (v != t[i].want)
			return errf(err, errlen, -EPROTO, "table '%s' has "
				    "version %ld, sipdlg needs %ld (Kamailio "
				    "5.6's schema; see config/schema/"
				    "mysql.sql)", t[i].name, v, t[i].want);
	}
	return 0;
}

/* ---- binds ----------------------------------------------------------- */

struct bind_buf {
	MYSQL_BIND b[N_DLG_COLS];
	unsigned long len[N_DLG_COLS];
	my_bool null[N_DLG_COLS];
	uint32_t u[N_DLG_COLS];
	char cseq[2][16];
};

static void bind_u32(struct bind_buf *bb, int i, uint32_t v)
{
	bb->u[i] = v;
	bb->b[i].buffer_type = MYSQL_TYPE_LONG;
	bb->b[i].is_unsigned = 1;
	bb->b[i].buffer = &bb->u[i];
}

static void bind_str(struct bind_buf *bb, int i, const char *s, bool null_if_empty)
{
	bb->b[i].buffer_type = MYSQL_TYPE_STRING;
	if (!s || (null_if_empty && !*s)) {
		bb->null[i] = 1;
		bb->b[i].is_null = &bb->null[i];
		return;
	}
	bb->len[i] = strlen(s);
	bb->b[i].buffer = (void *)s;
	bb->b[i].buffer_length = bb->len[i];
	bb->b[i].length = &bb->len[i];
}

static int stmt_run(struct db_conn *c, enum db_stmt_id id, MYSQL_BIND *b,
		    uint64_t *affected)
{
	MYSQL_STMT *st = c->st[id];

	if (mysql_stmt_bind_param(st, b) || mysql_stmt_execute(st)) {
		unsigned e = mysql_stmt_errno(st);

		if (db_errno_is_conn(e))
			return -ENOTCONN;
		if (db_errno_is_retry(e)) {	/* the caller retries, logs */
			db_conn_note_retry(c, e, mysql_stmt_error(st));
			return -EAGAIN;
		}
		log_err("statement failed: %s", mysql_stmt_error(st));
		return -EIO;
	}
	if (affected)
		*affected = mysql_stmt_affected_rows(st);
	return 0;
}

int db_sql_delete(struct db_conn *c, uint32_t he, uint32_t hid)
{
	MYSQL_BIND b[2];
	uint32_t v[2] = { he, hid };
	int rc, i;

	memset(b, 0, sizeof(b));
	for (i = 0; i < 2; i++) {
		b[i].buffer_type = MYSQL_TYPE_LONG;
		b[i].is_unsigned = 1;
		b[i].buffer = &v[i];
	}
	rc = stmt_run(c, ST_DLG_DEL, b, NULL);
	if (!rc)
		rc = stmt_run(c, ST_VARS_DEL_ALL, b, NULL);
	return rc;
}

static int write_var(struct db_conn *c, uint32_t he, uint32_t hid,
		     const struct dlg_info_var *v)
{
	MYSQL_BIND b[4];
	uint32_t ids[2] = { he, hid };
	unsigned long kl = strlen(v->key), vl = strlen(v->value);
	uint64_t n = 0;
	int rc;

	memset(b, 0, sizeof(b));
	if (v->flags & DLG_VAR_DELETED) {
		/* he, hid, key */
		b[0].buffer_type = b[1].buffer_type = MYSQL_TYPE_LONG;
		b[0].is_unsigned = b[1].is_unsigned = 1;
		b[0].buffer = &ids[0];
		b[1].buffer = &ids[1];
		b[2].buffer_type = MYSQL_TYPE_STRING;
		b[2].buffer = (void *)v->key;
		b[2].buffer_length = kl;
		b[2].length = &kl;
		return stmt_run(c, ST_VAR_DEL, b, NULL);
	}
	/* UPDATE: value, he, hid, key */
	b[0].buffer_type = MYSQL_TYPE_STRING;
	b[0].buffer = (void *)v->value;
	b[0].buffer_length = vl;
	b[0].length = &vl;
	b[1].buffer_type = b[2].buffer_type = MYSQL_TYPE_LONG;
	b[1].is_unsigned = b[2].is_unsigned = 1;
	b[1].buffer = &ids[0];
	b[2].buffer = &ids[1];
	b[3].buffer_type = MYSQL_TYPE_STRING;
	b[3].buffer = (void *)v->key;
	b[3].buffer_length = kl;
	b[3].length = &kl;
	rc = stmt_run(c, ST_VAR_UPD, b, &n);
	if (rc || n)
		return rc;
	/* INSERT: he, hid, key, value */
	memset(b, 0, sizeof(b));
	b[0].buffer_type = b[1].buffer_type = MYSQL_TYPE_LONG;
	b[0].is_unsigned = b[1].is_unsigned = 1;
	b[0].buffer = &ids[0];
	b[1].buffer = &ids[1];
	b[2].buffer_type = b[3].buffer_type = MYSQL_TYPE_STRING;
	b[2].buffer = (void *)v->key;
	b[2].buffer_length = kl;
	b[2].length = &kl;
	b[3].buffer = (void *)v->value;
	b[3].buffer_length = vl;
	b[3].length = &vl;
	return stmt_run(c, ST_VAR_INS, b, NULL);
}

int db_sql_write(struct db_conn *c, const struct dlg_info *in,
		 bool all_vars)
{
	struct bind_buf bb;
	MYSQL_BIND upd[N_DLG_COLS];
	char *xdata;
	uint64_t n = 0;
	int64_t timeout = in->timeout;
	size_t i;
	int rc;

	if (!timeout)	/* not armed yet: it will be, for the lifetime */
		timeout = (int64_t)time(NULL) + in->lifetime;
	memset(&bb, 0, sizeof(bb));
	xdata = db_xdata_build(in->profiles, in->n_profiles);
	bind_u32(&bb, 0, in->h_entry);
	bind_u32(&bb, 1, in->h_id);
	bind_str(&bb, 2, in->callid, false);
	bind_str(&bb, 3, in->from_uri, false);
	bind_str(&bb, 4, in->caller.tag, false);
	bind_str(&bb, 5, in->to_uri, false);
	bind_str(&bb, 6, in->callee.tag, false);
	snprintf(bb.cseq[0], sizeof(bb.cseq[0]), "%u", in->caller.cseq);
	snprintf(bb.cseq[1], sizeof(bb.cseq[1]), "%u", in->callee.cseq);
	bind_str(&bb, 7, bb.cseq[0], false);
	bind_str(&bb, 8, bb.cseq[1], false);
	bind_str(&bb, 9, in->caller.route_set, true);
	bind_str(&bb, 10, in->callee.route_set, true);
	bind_str(&bb, 11, in->caller.contact, false);
	bind_str(&bb, 12, in->callee.contact, false);
	bind_str(&bb, 13, in->caller.socket, false);
	bind_str(&bb, 14, in->callee.socket, false);
	bind_u32(&bb, 15, (uint32_t)in->state);
	bind_u32(&bb, 16, (uint32_t)in->start_ts);
	bind_u32(&bb, 17, timeout > 0 ? (uint32_t)timeout : 0);
	bind_u32(&bb, 18, in->sflags);
	bind_u32(&bb, 19, in->iflags);
	bind_str(&bb, 20, in->toroute_name, true);	/* NULL when "" */
	bind_str(&bb, 21, in->req_uri, false);
	bind_str(&bb, 22, xdata, true);

	memcpy(upd, &bb.b[2], sizeof(MYSQL_BIND) * (N_DLG_COLS - 2));
	upd[N_DLG_COLS - 2] = bb.b[0];
	upd[N_DLG_COLS - 1] = bb.b[1];
	rc = stmt_run(c, ST_DLG_UPD, upd, &n);
	if (!rc && n == 0)
		rc = stmt_run(c, ST_DLG_INS, bb.b, NULL);
	free(xdata);
	for (i = 0; !rc && i < in->n_vars; i++) {
		const struct dlg_info_var *v = &in->vars[i];

		/* Unmarked vars are in the DB already, except for a dialog
		 * written for the first time (NEW) or a rewrite of all. */
		if (!v->flags && !(in->dflags & DLG_DFLAG_NEW) && !all_vars)
			continue;
		rc = write_var(c, in->h_entry, in->h_id, v);
	}
	return rc;
}

int db_conn_begin(struct db_conn *c)
{
	if (c->txn)
		return 0;	/* one round trip less per batch */
	if (mysql_autocommit(c->my, 0))
		return db_errno_is_conn(mysql_errno(c->my)) ? -ENOTCONN : -EIO;
	c->txn = true;
	return 0;
}

int db_conn_commit(struct db_conn *c)
{
	if (mysql_commit(c->my)) {
		unsigned e = mysql_errno(c->my);

		if (db_errno_is_retry(e)) {	/* the caller retries, logs */
			db_conn_note_retry(c, e, mysql_error(c->my));
			return -EAGAIN;
		}
		log_err("COMMIT failed: %s", mysql_error(c->my));
		return db_errno_is_conn(e) ? -ENOTCONN : -EIO;
	}
	return 0;
}
