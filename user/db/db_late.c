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
 * writes keep waiting until the load is done.
 */
#define LOG_TAG "db"
#include "db/db_int.h"

#include <errno.h>
#include <stdio.h>
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
		rc = db_load_rows(db, db->t, db->late.fn, db->late.ud,
				  db->late.rehash, true, &res, err, errlen);
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
