/*
 * db.h - persistence of dialogs in MySQL/MariaDB (Kamailio 5.6's `dialog`
 * and `dialog_vars` tables, reference §8), through one database thread.
 *
 * Life cycle (main.c, in this order):
 *   db_alloc()   after the config is loaded and the stats registry exists;
 *                parses db_url, registers the "db" statistics.  No I/O.
 *   db_check()   connects on the calling thread and checks the `version`
 *                rows (dialog=7, dialog_vars=1) and that every statement
 *                prepares (so missing tables/columns are named).  On error
 *                the caller decides with database.required (db_required()):
 *                starting without it, it calls db_defer_load() instead of
 *                db_load() (db_late.c: the load when the database returns).
 *   db_load()    after dlg_table_alloc(), before the transport starts:
 *                restores the rows (db_fetch_rows per fetch) through the
 *                dialog core's load function (db_load.h).  db_mode 3
 *                empties both tables afterwards (their dialogs are written
 *                again at stop).
 *   db_start()   registers the dialog callbacks of the db_mode and starts
 *                the thread (which reconnects while the server is away:
 *                at once after a loss, then after retry_interval, doubled
 *                after each failure up to retry_max, each attempt
 *                logged).  Before the transport starts.
 *   db_stop()    after the SIP workers and the transport have stopped, and
 *                before dlg_table_free(): db_mode 3 writes every dialog,
 *                the queue is drained (bounded wait), the thread joined and
 *                every dialog reference it held dropped.  From then on
 *                DESTROY callbacks delete no row (a shutdown deletes none).
 *   db_free()
 *
 * Threads: the dialog callbacks (any thread) only push {cell reference or
 * ids} into a bounded queue (database.queue_size) under a mutex held for
 * a few instructions; a full queue drops the write and counts it in
 * db:writes_dropped.  The database thread takes up to 1024 ops at a time,
 * coalesces them per dialog and takes one snapshot of each (dlg_info_get
 * with VARS_ALL|CLEAR_MARKS) when it writes it, so the row always holds
 * the dialog's latest state and writes of one dialog can never be
 * reordered; the batch goes out as a few multi-row statements in one
 * transaction (db_batch.c).  No SIP worker ever calls MySQL.
 */
#ifndef SIPDLG_DB_H
#define SIPDLG_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg_dialog;
struct cfg_database;
struct stats;
struct dlg_table;
struct dlg_cell;
struct db_ctx;
struct db_load_row;

enum db_mode {
	DB_MODE_NONE = 0,
	DB_MODE_REALTIME = 1,
	DB_MODE_DELAYED = 2,
	DB_MODE_SHUTDOWN = 3,
};

/*
 * A context for @cd->db_mode (0 gives a context that does nothing).  @cd
 * and @cdb must outlive it.  @st may be NULL.  0, -EINVAL (bad db_url or
 * an identifier with a backquote: message in @err), -ENOMEM.
 */
int db_alloc(const struct cfg_dialog *cd, const struct cfg_database *cdb,
	     struct stats *st, struct db_ctx **out, char *err, size_t errlen);
void db_free(struct db_ctx *db);	/* NULL-safe; stops first if needed */

enum db_mode db_get_mode(const struct db_ctx *db);
bool db_required(const struct db_ctx *db);

/*
 * Connect and check versions and statements.  0; -ECONNREFUSED the
 * server cannot be reached (message says why); -EPROTO wrong table
 * version or missing table/column; -ENOMEM.  The connection is kept for
 * db_load() and handed to the thread by db_start().
 */
int db_check(struct db_ctx *db, char *err, size_t errlen);

/*
 * The dialog core's load function (see db_load.h for the contract).
 * Returns 0, -EEXIST (a dialog with these ids exists: the row is
 * skipped), or another -errno (the row is skipped and counted).
 */
typedef int (*db_dlg_load_fn)(struct dlg_table *t,
			      const struct db_load_row *row, void *ud);

struct db_load_result {
	uint64_t rows;		/* dialog rows read */
	uint64_t loaded;	/* dialogs created */
	uint64_t skipped;	/* rows skipped (NULLs, bad values, conflicts) */
	uint64_t vars;		/* dialog_vars rows attached */
	uint64_t pages;		/* SELECTs of at most db_fetch_rows rows */
	/* late load only (db_defer_load): */
	uint64_t ended;		/* rows deleted: a BYE was seen meanwhile */
	uint64_t conflicts;	/* rows deleted: a new dialog took the ids */
};

/*
 * Restore every row (unless db_mode is 0 or db_skip_load is set: then 0
 * at once).  Needs a successful db_check().  An h_entry that differs from
 * the Call-ID's hash aborts the load with -ERANGE and a message naming
 * the row, unless @rehash (then the row is restored under the new
 * h_entry).  0 or -errno with a message in @err.
 */
int db_load(struct db_ctx *db, struct dlg_table *t, db_dlg_load_fn fn,
	    void *ud, bool rehash, struct db_load_result *res, char *err,
	    size_t errlen);

/*
 * Which rows a load reads (several boxes on one database, cluster:):
 * those whose hash_id % step has its bit set in @mask (bit r = residue r,
 * step <= 64).  step 0 or 1: every row (the default).  Set before
 * db_load() / db_defer_load().
 */
struct db_load_filter {
	uint32_t step;
	uint64_t mask;
};
void db_set_load_filter(struct db_ctx *db, const struct db_load_filter *f);

/*
 * A start without the database (db_check failed, database.required
 * false): the database thread restores the rows through @fn as soon as
 * it connects, before it writes anything (so no row this box writes is
 * read back, and a row whose ids a new dialog took is deleted, not
 * duplicated).  Until then db_load_pending() is true and the workers
 * report each BYE for an unknown dialog with db_note_end(): the rows
 * such a BYE names are deleted at the load, never restored.  Call before
 * db_start().
 */
typedef void (*db_late_done_fn)(void *ud);
/* @done (may be NULL) runs on the database thread once the load is done
 * or given up, with @ud. */
void db_defer_load(struct db_ctx *db, db_dlg_load_fn fn, void *ud,
		   bool rehash, db_late_done_fn done);
bool db_load_pending(const struct db_ctx *db);	/* NULL-safe */

/* A BYE that matched no dialog: its Call-ID, both tags (either order)
 * and its cookie's ids (has_id false without a cookie). */
struct db_end_key {
	const char *callid, *tag1, *tag2;
	size_t callid_len, tag1_len, tag2_len;
	uint32_t h_entry, h_id;
	bool has_id;
};
/* Remember @k while the load is pending (else nothing): true if the load
 * was pending (the caller matches the request once more: the load may
 * have linked its dialog meanwhile; it cannot from now on without
 * seeing @k).  Any thread. */
bool db_note_end(struct db_ctx *db, const struct db_end_key *k);

/* Register the callbacks of the mode and start the thread.  0 or -errno. */
int db_start(struct db_ctx *db, struct dlg_table *t);
/* See above.  Waits at most @drain_ms for the queue to empty. */
void db_stop(struct db_ctx *db, unsigned drain_ms);

/*
 * db_mode 1: queue a write of @c now (the routes changed its vars,
 * flags, profiles or timeout outside a dialog event).  No-op in other
 * modes and for dialogs not in state 3/4.  Any thread.
 */
void db_dialog_touch(struct db_ctx *db, struct dlg_cell *c);

/* Current number of queued writes (db:queue_depth). */
size_t db_queue_depth(struct db_ctx *db);
/* Block until the queue is empty and nothing is being written, or
 * @timeout_ms passed: 0 or -ETIMEDOUT (tests, shutdown). */
int db_flush_wait(struct db_ctx *db, unsigned timeout_ms);

#endif /* SIPDLG_DB_H */
