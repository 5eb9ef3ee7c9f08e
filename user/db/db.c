/*
 * db.c - the database thread: the bounded queue the dialog callbacks feed,
 * batches written in transactions, reconnection, the db_mode timers, and
 * the life cycle of db.h.
 */
#define LOG_TAG "db"
#include "db/db_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "core/log.h"
#include "core/stats.h"
#include "core/timer.h"
#include "dialog/dlg.h"

/* Ops taken per batch: coalesced per dialog and written as a few
 * multi-row statements in one transaction (db_batch.c). */
#define DB_BATCH_MAX 1024

static void ms_deadline(struct timespec *ts, uint64_t ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int db_alloc(const struct cfg_dialog *cd, const struct cfg_database *cdb,
	     struct stats *st, struct db_ctx **out, char *err, size_t errlen)
{
	struct db_ctx *db = calloc(1, sizeof(*db));
	int rc;

	if (!db)
		return -ENOMEM;
	db->cd = cd;
	db->cdb = cdb;
	db->mode = (enum db_mode)cd->db_mode;
	pthread_mutex_init(&db->mu, NULL);
	pthread_cond_init(&db->cv, NULL);
	pthread_cond_init(&db->idle_cv, NULL);
	pthread_mutex_init(&db->late.mu, NULL);
	if (db->mode != DB_MODE_NONE) {
		rc = db_url_parse(cd->db_url, cdb->socket, &db->url, err,
				  errlen);
		if (!rc)
			rc = db_sql_build(db, err, errlen);
		if (rc) {
			db_free(db);
			return rc;
		}
		db->qcap = cdb->queue_size ? cdb->queue_size : 1;
		db->q = calloc(db->qcap, sizeof(*db->q));
		if (!db->q) {
			db_free(db);
			return -ENOMEM;
		}
	}
	if (st) {
		db->st_depth = stats_register(st, "db", "queue_depth",
					      STAT_NO_RESET);
		db->st_batches = stats_register(st, "db", "batches_written", 0);
		db->st_dropped = stats_register(st, "db", "writes_dropped", 0);
		db->st_errors = stats_register(st, "db", "errors", 0);
		db->st_reconnects = stats_register(st, "db", "reconnects", 0);
		/* dialogs written or deleted, after coalescing */
		db->st_rows = stats_register(st, "db", "rows_written", 0);
		/* dialogs with a value longer than its Kamailio column */
		db->st_too_long = stats_register(st, "db", "rows_too_long", 0);
		/* transactions run again after a deadlock, lock wait
		 * timeout or Galera certification conflict (db_batch.c) */
		db->st_retries = stats_register(st, "db", "deadlock_retries",
						0);
		/* a start without the database (db_late.c, db_pend.c) */
		db->st_late_pending = stats_register(st, "db", "load_pending",
						     STAT_NO_RESET);
		db->st_late_restored = stats_register(st, "db",
						      "late_restored", 0);
		db->st_late_ended = stats_register(st, "db", "late_ended", 0);
		db->st_late_lost = stats_register(st, "db", "late_ends_lost",
						  0);
	}
	*out = db;
	return 0;
}

void db_set_load_filter(struct db_ctx *db, const struct db_load_filter *f)
{
	db->filter = *f;
}

enum db_mode db_get_mode(const struct db_ctx *db)
{
	return db->mode;
}

bool db_required(const struct db_ctx *db)
{
	return db->cdb->required != 0;
}

int db_check(struct db_ctx *db, char *err, size_t errlen)
{
	int rc;

	if (db->mode == DB_MODE_NONE)
		return 0;
	rc = db_conn_open(db, &db->conn, err, errlen);
	if (!rc)
		rc = db_conn_check_versions(db, &db->conn, err, errlen);
	if (rc)
		db_conn_close(&db->conn);
	return rc;
}

/* ---- the queue --------------------------------------------------------- */

/* Push without waiting on anything but the queue mutex.  Takes over the
 * cell reference of a SYNC op (dropped if the queue is full). */
static void q_push(struct db_ctx *db, const struct db_op *op)
{
	bool full;

	pthread_mutex_lock(&db->mu);
	full = db->qlen == db->qcap || !db->running;
	if (!full) {
		db->q[(db->qhead + db->qlen) % db->qcap] = *op;
		db->qlen++;
		stat_set(db->st_depth, (int64_t)db->qlen);
		pthread_cond_signal(&db->cv);
	}
	pthread_mutex_unlock(&db->mu);
	if (full) {
		stat_inc(db->st_dropped);
		if (op->cell)
			dlg_unref(op->cell);
	}
}

static void q_sync(struct db_ctx *db, struct dlg_cell *c)
{
	struct db_op op = { .kind = DB_OP_SYNC, .cell = c };

	dlg_ref(c);
	q_push(db, &op);
}

size_t db_queue_depth(struct db_ctx *db)
{
	size_t n;

	pthread_mutex_lock(&db->mu);
	n = db->qlen;
	pthread_mutex_unlock(&db->mu);
	return n;
}

int db_flush_wait(struct db_ctx *db, unsigned timeout_ms)
{
	struct timespec dl;
	int rc = 0;

	ms_deadline(&dl, timeout_ms);
	pthread_mutex_lock(&db->mu);
	while ((db->qlen || db->busy) && db->running && rc == 0)
		rc = pthread_cond_timedwait(&db->idle_cv, &db->mu, &dl);
	rc = (db->qlen || db->busy) ? -ETIMEDOUT : 0;
	pthread_mutex_unlock(&db->mu);
	return rc;
}

/* ---- dialog callbacks ------------------------------------------------ */

static void on_dlg_event(struct dlg_cell *c, int type,
			 const struct dlg_cb_params *p)
{
	struct db_ctx *db = p->param;

	if (atomic_load(&db->stopping))
		return;
	if (type == DLGCB_DESTROY) {
		struct db_op op = { .kind = DB_OP_DELETE,
				    .h_entry = dlg_h_entry(c),
				    .h_id = dlg_h_id(c) };

		/* Only a dialog with a row (the database thread marks it when
		 * it writes it, and clears the mark when an end deleted it);
		 * db_mode 3 deletes nothing at run time. */
		if (!(dlg_dflags(c) & DLG_DFLAG_DB_ROW) ||
		    db->mode == DB_MODE_SHUTDOWN)
			return;
		q_push(db, &op);
		return;
	}
	if (db->mode != DB_MODE_REALTIME) {
		/* delayed: deletions at once, the rest by the timer */
		if (db->mode == DB_MODE_DELAYED &&
		    (type & (DLGCB_TERMINATED | DLGCB_EXPIRED)))
			q_sync(db, c);
		return;
	}
	q_sync(db, c);
}

void db_dialog_touch(struct db_ctx *db, struct dlg_cell *c)
{
	enum dlg_state s;

	if (!db || db->mode != DB_MODE_REALTIME || atomic_load(&db->stopping))
		return;
	s = dlg_state(c);
	if (s == DLG_STATE_CONFIRMED_NA || s == DLG_STATE_CONFIRMED)
		q_sync(db, c);
}

/* ---- the thread ------------------------------------------------------ */

/* Drop the cell references of ops that were never planned. */
static void ops_free(struct db_op *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (b[i].cell)
			dlg_unref(b[i].cell);
		b[i].cell = NULL;
	}
}

/* Sleep up to @ms unless stopping; true if stop was asked. */
static bool nap(struct db_ctx *db, uint64_t ms)
{
	struct timespec dl;
	bool stop;

	ms_deadline(&dl, ms);
	pthread_mutex_lock(&db->mu);
	while (!db->stop &&
	       pthread_cond_timedwait(&db->cv, &db->mu, &dl) == 0)
		;
	stop = db->stop;
	pthread_mutex_unlock(&db->mu);
	return stop;
}

uint64_t db_backoff_next(uint64_t prev_ms, uint64_t first_ms,
			 uint64_t max_ms)
{
	if (max_ms < first_ms)
		max_ms = first_ms;
	if (!prev_ms)
		return first_ms;
	return prev_ms >= max_ms / 2 ? max_ms : prev_ms * 2;
}

/*
 * Connected, or try once.  0, or -ENOTCONN with db->wait_ms set to the
 * wait before the next attempt: retry_interval after the first failure,
 * doubled after each one up to retry_max (a server that stays away is
 * not hammered, one that comes back soon is found soon).  Each failure
 * is logged with its attempt number and the wait; the success after
 * failures says how many there were.
 */
static int ensure_conn(struct db_ctx *db)
{
	char err[512];

	if (db->conn.my)
		return 0;
	if (db->next_try_ms && tmr_now_ms() < db->next_try_ms)
		return -ENOTCONN;	/* still backing off */
	if (db_conn_open(db, &db->conn, err, sizeof(err)) == 0) {
		stat_inc(db->st_reconnects);
		if (db->attempts)
			log_notice("database connection established after %u "
				   "failed attempts", db->attempts);
		else
			log_notice("database connection established");
		db->attempts = 0;
		db->wait_ms = 0;
		db->next_try_ms = 0;
		/* A start without the database: the stored dialogs first,
		 * before any write (db_late.c). */
		if (db_late_load(db, err, sizeof(err)) == 0)
			return 0;
		db_conn_close(&db->conn);	/* lost during the load */
	}
	db->attempts++;
	db->wait_ms = db_backoff_next(db->wait_ms,
				      (uint64_t)db->cdb->retry_interval * 1000,
				      (uint64_t)db->cdb->retry_max * 1000);
	db->next_try_ms = tmr_now_ms() + db->wait_ms;
	log_warn("%s (attempt %u); next attempt in %llu s", err, db->attempts,
		 (unsigned long long)(db->wait_ms / 1000));
	return -ENOTCONN;
}

/* Sleep @ms whatever the stop flag says (the final writes at stop, the
 * pauses between deadlock retries). */
void db_sleep_ms(uint64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
			       .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Coalesce @n ops into one plan (db_batch.c; takes their references) and
 * write it in one transaction until it is written, or the thread is told
 * to stop with @give_up_on_stop, or (when non-zero) the monotonic
 * @deadline_ms passed: the writes at stop, after the thread has been
 * told to stop, so a server that stays away must not hang the shutdown.
 * A deadlock or lock conflict replays the plan a few times (db_batch.c);
 * a dialog the server refuses is counted and skipped; a lost connection
 * rolls the transaction back (the server does) and the plan is replayed
 * once reconnected.
 */
static void batch_write(struct db_ctx *db, struct db_op *b, size_t n,
			bool give_up_on_stop, uint64_t deadline_ms)
{
	struct db_plan plan;
	uint64_t wait;
	size_t w;
	int rc;

	if (db_plan_build(db, b, n, &plan)) {
		log_err("out of memory: %zu writes lost", n);
		stat_add(db->st_dropped, (int64_t)n);
		ops_free(b, n);
		return;
	}
	w = db_plan_writes(&plan);
	for (;;) {
		rc = ensure_conn(db);
		if (!rc)
			rc = db_plan_exec(db, &db->conn, &plan);
		if (!rc) {
			if (w)
				stat_inc(db->st_batches);
			stat_add(db->st_rows, (int64_t)w);
			break;
		}
		stat_inc(db->st_errors);
		if (rc != -ENOTCONN) /* refused even one by one: no replay */
			break;
		/* Lost while connected: try again at once, then back off
		 * (ensure_conn set next_try_ms). */
		wait = 0;
		if (!db->conn.my) {
			uint64_t now = tmr_now_ms();

			wait = db->next_try_ms > now ? db->next_try_ms - now :
						       1;
		}
		db_conn_close(&db->conn);
		if (deadline_ms) {
			uint64_t now = tmr_now_ms();

			if (now >= deadline_ms) {
				log_err("database unreachable at stop: %zu "
					"writes lost", w);
				stat_add(db->st_dropped, (int64_t)w);
				break;
			}
			if (!wait)
				log_warn("database connection lost; %zu "
					 "writes wait", w);
			db_sleep_ms(wait < deadline_ms - now ? wait :
				 deadline_ms - now);
			continue;
		}
		if (!wait)
			log_warn("database connection lost; %zu writes wait",
				 w);
		if (wait && nap(db, wait) && give_up_on_stop) {
			stat_add(db->st_dropped, (int64_t)w);
			break;
		}
	}
	db_plan_free(&plan);
}

/* db_mode 2/3: every confirmed dialog (2: only changed ones) into
 * batches.  @deadline_ms (monotonic) non-zero: the final writes at stop,
 * given up when it passes while the server is away. */
static void write_all(struct db_ctx *db, bool only_changed,
		      uint64_t deadline_ms)
{
	struct dlg_cursor cur = { 0, 0, false };
	struct dlg_cell *cells[DB_BATCH_MAX];
	struct db_op b[DB_BATCH_MAX];
	size_t n, i, k, lost = 0;
	const uint32_t changed = DLG_DFLAG_NEW | DLG_DFLAG_CHANGED |
				 DLG_DFLAG_CHANGED_VARS |
				 DLG_DFLAG_CHANGED_PROF;

	while (!cur.done) {
		n = dlg_cursor_next(db->t, &cur, cells, DB_BATCH_MAX);
		for (i = 0, k = 0; i < n; i++) {
			enum dlg_state s = dlg_state(cells[i]);

			if ((s != DLG_STATE_CONFIRMED_NA &&
			     s != DLG_STATE_CONFIRMED) ||
			    (only_changed && !(dlg_dflags(cells[i]) & changed))) {
				dlg_unref(cells[i]);
				continue;
			}
			memset(&b[k], 0, sizeof(b[k]));
			b[k].kind = DB_OP_SYNC;
			b[k].cell = cells[i];
			/* db_mode 3's stop: the tables were emptied at start,
			 * so a restored dialog's vars (unmarked, as they were
			 * in the DB then) must be written too. */
			b[k].all_vars = !only_changed;
			k++;
		}
		if (!k)
			continue;
		if (deadline_ms && !db->conn.my && tmr_now_ms() >= deadline_ms) {
			/* Given up at stop: no connection attempt per batch. */
			stat_add(db->st_dropped, (int64_t)k);
			lost += k;
			ops_free(b, k);
			continue;
		}
		batch_write(db, b, k, !deadline_ms, deadline_ms);
	}
	if (lost)
		log_err("database unreachable at stop: %zu more dialogs not "
			"written", lost);
}

static void *db_thread(void *arg)
{
	struct db_ctx *db = arg;
	struct db_op b[DB_BATCH_MAX];
	uint64_t period = (uint64_t)db->cd->db_update_period * 1000;
	uint64_t next_flush = tmr_now_ms() + period;
	size_t n;

	if (db->mode != DB_MODE_NONE && !db->conn.my)
		ensure_conn(db);
	for (;;) {
		struct timespec dl;
		uint64_t to = db->mode == DB_MODE_DELAYED && period ? period :
								   1000;

		/* Away: reconnect on the backoff's schedule even while idle,
		 * so the connection is there when writes come. */
		if (!db->conn.my) {
			uint64_t now = tmr_now_ms();

			if (now >= db->next_try_ms)
				ensure_conn(db);
			if (!db->conn.my && db->next_try_ms > now &&
			    db->next_try_ms - now < to)
				to = db->next_try_ms - now;
		}
		pthread_mutex_lock(&db->mu);
		ms_deadline(&dl, to);
		while (!db->qlen && !db->stop &&
		       (db->mode != DB_MODE_DELAYED ||
			tmr_now_ms() < next_flush) &&
		       pthread_cond_timedwait(&db->cv, &db->mu, &dl) == 0)
			;
		if (!db->qlen && db->stop) {
			pthread_mutex_unlock(&db->mu);
			break;
		}
		for (n = 0; n < DB_BATCH_MAX && db->qlen; n++) {
			b[n] = db->q[db->qhead];
			db->qhead = (db->qhead + 1) % db->qcap;
			db->qlen--;
		}
		db->busy = n > 0;
		stat_set(db->st_depth, (int64_t)db->qlen);
		pthread_mutex_unlock(&db->mu);

		if (n)
			batch_write(db, b, n, true, 0);
		if (db->mode == DB_MODE_DELAYED && period &&
		    tmr_now_ms() >= next_flush) {
			write_all(db, true, 0);
			next_flush = tmr_now_ms() + period;
		}
		pthread_mutex_lock(&db->mu);
		db->busy = false;
		if (!db->qlen)
			pthread_cond_broadcast(&db->idle_cv);
		pthread_mutex_unlock(&db->mu);
	}
	pthread_mutex_lock(&db->mu);
	pthread_cond_broadcast(&db->idle_cv);
	pthread_mutex_unlock(&db->mu);
	return NULL;
}

int db_start(struct db_ctx *db, struct dlg_table *t)
{
	int rc;

	if (db->mode == DB_MODE_NONE)
		return 0;
	db->t = t;
	if (!db->cbs_registered) {
		rc = dlg_register_global_cb(t, DLGCB_CONFIRMED_NA |
					    DLGCB_CONFIRMED | DLGCB_REQ_WITHIN |
					    DLGCB_RESPONSE_WITHIN |
					    DLGCB_TERMINATED | DLGCB_EXPIRED |
					    DLGCB_DESTROY, on_dlg_event, db,
					    NULL);
		if (rc)
			return rc;
		db->cbs_registered = true;
	}
	pthread_mutex_lock(&db->mu);
	db->stop = false;
	db->running = true;
	pthread_mutex_unlock(&db->mu);
	rc = pthread_create(&db->th, NULL, db_thread, db);
	if (rc) {
		db->running = false;
		return -rc;
	}
	return 0;
}

void db_stop(struct db_ctx *db, unsigned drain_ms)
{
	size_t i;

	if (!db || !db->running)
		return;
	if (db->mode == DB_MODE_SHUTDOWN || db->mode == DB_MODE_DELAYED) {
		/* Wait for the thread's queue, then write on this thread's
		 * behalf through the same connection: stop the thread
		 * first. */
		db_flush_wait(db, drain_ms);
	} else {
		db_flush_wait(db, drain_ms);
	}
	atomic_store(&db->stopping, true);
	pthread_mutex_lock(&db->mu);
	db->stop = true;
	pthread_cond_broadcast(&db->cv);
	pthread_mutex_unlock(&db->mu);
	pthread_join(db->th, NULL);
	/* Ops left (drain timed out): drop their references. */
	pthread_mutex_lock(&db->mu);
	db->running = false;
	if (db->qlen)
		stat_add(db->st_dropped, (int64_t)db->qlen);
	for (i = 0; i < db->qlen; i++) {
		struct db_op *op = &db->q[(db->qhead + i) % db->qcap];

		if (op->cell)
			dlg_unref(op->cell);
	}
	db->qlen = 0;
	pthread_mutex_unlock(&db->mu);
	if (db->mode == DB_MODE_SHUTDOWN || db->mode == DB_MODE_DELAYED) {
		/* Still not loaded: one more try now, so that the restored
		 * dialogs are in the table before write_all walks it. */
		if (db_load_pending(db) && !db->conn.my) {
			db->next_try_ms = 0;
			ensure_conn(db);
		}
		log_info("writing every dialog to the database at stop");
		write_all(db, db->mode == DB_MODE_DELAYED,
			  tmr_now_ms() + (drain_ms ? drain_ms : 1));
	}
	if (db->mode == DB_MODE_REALTIME)
		db_late_stop(db);
	db_conn_close(&db->conn);
}

void db_free(struct db_ctx *db)
{
	if (!db)
		return;
	db_stop(db, 5000);
	db_conn_close(&db->conn);
	db_url_clear(&db->url);
	db_sql_free(db);
	free(db->q);
	pthread_mutex_destroy(&db->mu);
	pthread_cond_destroy(&db->cv);
	pthread_cond_destroy(&db->idle_cv);
	db_pend_clear(db);
	pthread_mutex_destroy(&db->late.mu);
	free(db);
}
