/*
 * db_late.c - the stored dialogs loaded late: sipdlgd started while the
 * database was away (database.required false), and the database thread
 * restores the rows the first time it connects.
 *
 * The order is what keeps the rows right: the load runs inside the
 * connection step of the thread (db.c ensure_conn), before any queued
 * write goes out, so
 *   - no row this box wrote since the start exists yet: the load reads
 *     only rows of the calls from before, and cannot clobber new ones;
 *   - a row whose ids a dialog made since the start holds is deleted
 *     (db_load.c late_conflict), so the new dialog's first write finds
 *     no old row under its key (no duplicate key in the table);
 *   - a row a BYE ended meanwhile (db_pend.c) is deleted, not restored.
 * A connection lost during the load leaves it pending: the next
 * connection loads again (rows already in memory are skipped), and the
 * writes keep waiting until the load is done.  A stop with the load
 * still pending (db_late_stop) deletes the rows the remembered BYEs name
 * if the database answers then, and restores nothing.
 */
#define LOG_TAG "db"
#include "db/db_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/log.h"
#include "core/stats.h"

void db_defer_load(struct db_ctx *db, db_dlg_load_fn fn, void *ud,
		   bool rehash, db_late_done_fn done)
{
	if (!db || db->mode == DB_MODE_NONE || db->cd->db_skip_load)
		return;
	db->late.fn = fn;
	db->late.ud = ud;
	db->late.rehash = rehash;
	db->late.done = done;
	atomic_store(&db->late.pending, true);
	stat_set(db->st_late_pending, 1);
	log_notice("the stored dialogs will be loaded when the database "
		   "returns; until then the rows of calls whose BYE passes "
		   "are remembered and deleted at the load");
}

static void late_done(struct db_ctx *db)
{
	atomic_store(&db->late.pending, false);
	stat_set(db->st_late_pending, 0);
	db_pend_clear(db);
	if (db->late.done)
		db->late.done(db->late.ud);
}

int db_late_load(struct db_ctx *db, char *err, size_t errlen)
{
	struct db_load_result res;
	int rc;

	if (!atomic_load(&db->late.pending))
		return 0;
	rc = db_conn_check_versions(db, &db->conn, err, errlen);
	if (!rc) {
		db_pend_sort(db);
		rc = db_load_rows(db, &db->conn, db->t, db->late.fn,
				  db->late.ud, db->late.rehash, true,
				  &db->filter, &res, err, errlen);
	}
	if (rc && db->conn.my && db_errno_is_conn(mysql_errno(db->conn.my)))
		return -ENOTCONN;
	if (rc == -ENOTCONN || rc == -ECONNREFUSED)
		return -ENOTCONN;
	if (rc) {
		/* As a failed restore at start would have been (there it
		 * stops the daemon): said loudly, and the box goes on
		 * writing its own dialogs. */
		log_err("restore after the database came back failed: %s; "
			"the stored dialogs are not restored", err);
		late_done(db);
		return 0;
	}
	late_done(db);
	stat_add(db->st_late_restored, (int64_t)res.loaded);
	stat_add(db->st_late_ended, (int64_t)res.ended);
	log_notice("restored %llu dialogs from the database after it came "
		   "back (%llu rows, %llu skipped, %llu variables, %llu ended "
		   "by a BYE meanwhile, %llu ids taken by new dialogs)",
		   (unsigned long long)res.loaded,
		   (unsigned long long)res.rows,
		   (unsigned long long)res.skipped,
		   (unsigned long long)res.vars,
		   (unsigned long long)res.ended,
		   (unsigned long long)res.conflicts);
	return 0;
}

/* The cookie ids of the remembered BYEs that had one (malloc'd). */
static size_t pend_ids(struct db_ctx *db, uint32_t (**out)[2])
{
	uint32_t (*v)[2];
	size_t i, n = 0;

	pthread_mutex_lock(&db->late.mu);
	v = calloc(db->late.n ? db->late.n : 1, sizeof(*v));
	for (i = 0; v && i < db->late.n; i++) {
		if (!db->late.v[i].has_id)
			continue;
		v[n][0] = db->late.v[i].he;
		v[n][1] = db->late.v[i].hid;
		n++;
	}
	pthread_mutex_unlock(&db->late.mu);
	*out = v;
	return v ? n : 0;
}

/* Delete the row(s) of (@he, @hid) that a remembered BYE names: 1 if
 * one was, 0 if none, -1 on an error (logged). */
static int stop_delete(struct db_ctx *db, uint32_t he, uint32_t hid)
{
	const struct cfg_dialog *d = db->cd;
	char q[512];
	MYSQL_RES *res;
	MYSQL_ROW row;
	bool hit = false;

	snprintf(q, sizeof(q), "SELECT `%s`,`%s`,`%s` FROM `%s` WHERE `%s`=%u "
		 "AND `%s`=%u", d->callid_column, d->from_tag_column,
		 d->to_tag_column, d->table_name, d->h_entry_column, he,
		 d->h_id_column, hid);
	if (mysql_query(db->conn.my, q) ||
	    !(res = mysql_store_result(db->conn.my))) {
		log_err("%s: %s", q, mysql_error(db->conn.my));
		return -1;
	}
	while (!hit && (row = mysql_fetch_row(res)))
		hit = row[0] && db_pend_match(db, he, hid, row[0],
					     row[1] ? row[1] : "",
					     row[2] ? row[2] : "");
	mysql_free_result(res);
	if (!hit)
		return 0;
	if (db_sql_delete(&db->conn, he, hid)) {
		log_err("deleting the row of %u:%u: %s", he, hid,
			mysql_error(db->conn.my));
		return -1;
	}
	return 1;
}

void db_late_stop(struct db_ctx *db)
{
	char err[512];
	uint32_t (*ids)[2] = NULL;
	size_t n, i, gone = 0;

	if (!atomic_load(&db->late.pending) || !db->late.n)
		return;
	n = pend_ids(db, &ids);
	if (!db->conn.my && db_conn_open(db, &db->conn, err, sizeof(err))) {
		log_warn("stopping with the stored dialogs never loaded: the "
			 "%zu BYEs seen for them are forgotten (%s); their "
			 "calls will be restored at the next start", n, err);
		free(ids);
		return;
	}
	db_pend_sort(db);
	for (i = 0; i < n; i++) {
		int r = stop_delete(db, ids[i][0], ids[i][1]);

		if (r < 0)
			break;
		gone += (size_t)r;
	}
	free(ids);
	log_notice("stopping with the stored dialogs never loaded: %zu rows "
		   "of calls whose BYE passed meanwhile deleted", gone);
	stat_add(db->st_late_ended, (int64_t)gone);
}
