/*
 * db_batch.c - one batch of queued operations, coalesced per dialog and
 * written with a few multi-row statements in one round trip.
 *
 * Why: one UPDATE-then-INSERT round trip per queued write held the
 * database thread near 2,000 calls/s, below what the SIP side does.  A
 * batch is first reduced to one action per dialog (db_plan_build):
 *
 *   - every op of a dialog gets one snapshot, the latest state (its
 *     variable marks accumulate until then), so several updates of one
 *     dialog are one write;
 *   - a confirmed snapshot of a dialog that has no row yet is an INSERT,
 *     of one that has (DLG_DFLAG_DB_ROW) an UPDATE; an ended one (state
 *     5) a DELETE if it has a row, and nothing at all otherwise: a dialog
 *     created and ended within one batch never touches the database;
 *   - a DESTROY op (queued only for dialogs with a row) is a DELETE.
 *
 * and then sent as one multi-statement query (db_plan_exec):
 *
 *   UPDATE dialog SET ... WHERE hash_entry=.. AND hash_id=..;   (each)
 *   DELETE FROM dialog WHERE (hash_entry,hash_id) IN (...);     (new+gone)
 *   DELETE FROM dialog_vars WHERE (hash_entry,hash_id) IN (...);
 *   INSERT INTO dialog (...) VALUES (...),(...),...;
 *   INSERT INTO dialog_vars (...) VALUES (...),...;
 *
 * and a COMMIT.  The DELETE before the INSERT keeps a replay (after a
 * lost connection) from making a duplicate row: the schema has no unique
 * key on (hash_entry, hash_id).  An UPDATE that matched no row (the row
 * was never written, or db_mode 3 emptied the tables) is followed by an
 * INSERT of that dialog before the COMMIT.  A dialog's variables are
 * rewritten (its rows deleted, the live ones inserted) when it is new or
 * one of them changed.  Values are escaped with mysql_real_escape_string
 * on the "binary" connection: stored byte for byte.
 *
 * A deadlock, lock wait timeout or Galera certification conflict (the
 * server's "try restarting transaction", at a statement or the COMMIT)
 * rolls back and replays the whole batch a few times (db.deadlock_
 * retries).  If the server refuses a statement or the COMMIT otherwise
 * (not the connection: a value too long, say), or the conflict outlasts
 * the retries, the transaction is rolled back and the batch written
 * again one dialog at a time with the prepared statements of db_sql.c,
 * each in its own transaction, so only the dialog at fault is lost
 * (counted in db.errors).
 */
#define LOG_TAG "db"
#include "db/db_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/obuf.h"
#include "core/stats.h"
#include "db/db_load.h"
#include "dialog/dlg.h"

/* Keys per IN list (MariaDB turns lists of in_predicate_conversion_
 * threshold = 1000 values into a subquery) and bytes per INSERT. */
#define DB_IN_MAX 500
#define DB_INSERT_BYTES (1u << 20)

/* ---- the plan ---------------------------------------------------------- */

static uint32_t key_hash(uint32_t he, uint32_t hid)
{
	uint64_t k = ((uint64_t)he << 32) | hid;

	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (uint32_t)k;
}

/*
 * The proxy accepts a Call-ID, tag, URI or route set of any length that
 * fits in a message; Kamailio 5.6's dialog table (config/schema/
 * mysql.sql) has fixed columns.  A dialog with a longer value is kept in
 * memory and in the kernel like any other, but never written: a strict
 * server would refuse the row, a lax one would cut it and restore a
 * dialog that no longer matches its calls.  The column at fault, or NULL.
 */
static const char *row_too_long(const struct dlg_info *in)
{
	static const struct {
		const char *col;
		size_t max;
		size_t off;		/* of a const char * in dlg_info */
	} cols[] = {
		{ "callid", 255, offsetof(struct dlg_info, callid) },
		{ "from_uri", 255, offsetof(struct dlg_info, from_uri) },
		{ "to_uri", 255, offsetof(struct dlg_info, to_uri) },
		{ "req_uri", 255, offsetof(struct dlg_info, req_uri) },
		{ "toroute_name", 32, offsetof(struct dlg_info, toroute_name) },
		{ "from_tag", 128, offsetof(struct dlg_info, caller.tag) },
		{ "to_tag", 128, offsetof(struct dlg_info, callee.tag) },
		{ "caller_contact", 255,
		  offsetof(struct dlg_info, caller.contact) },
		{ "callee_contact", 255,
		  offsetof(struct dlg_info, callee.contact) },
		{ "caller_route_set", 512,
		  offsetof(struct dlg_info, caller.route_set) },
		{ "callee_route_set", 512,
		  offsetof(struct dlg_info, callee.route_set) },
		{ "caller_sock", 64, offsetof(struct dlg_info, caller.socket) },
		{ "callee_sock", 64, offsetof(struct dlg_info, callee.socket) },
	};

	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		const char *v = *(const char *const *)(const void *)
					((const char *)in + cols[i].off);

		if (v && strlen(v) > cols[i].max)
			return cols[i].col;
	}
	return NULL;
}

/* Does any of @in's variables carry a mark (new, changed, deleted)? */
static bool vars_marked(const struct dlg_info *in)
{
	size_t i;

	for (i = 0; i < in->n_vars; i++)
		if (in->vars[i].flags)
			return true;
	return false;
}

int db_plan_build(struct db_ctx *db, struct db_op *ops, size_t n,
		  struct db_plan *p)
{
	size_t cap = 16, i, j;
	uint32_t *slot;

	memset(p, 0, sizeof(*p));
	while (cap < 2 * n)
		cap <<= 1;
	slot = malloc(cap * sizeof(*slot));
	p->it = calloc(n ? n : 1, sizeof(*p->it));
	if (!slot || !p->it) {
		free(slot);
		free(p->it);
		p->it = NULL;
		return -ENOMEM;
	}
	memset(slot, 0xff, cap * sizeof(*slot));
	/* Coalesce: one item per (h_entry, h_id), in first-seen order. */
	for (i = 0; i < n; i++) {
		struct db_op *op = &ops[i];
		uint32_t he = op->cell ? dlg_h_entry(op->cell) : op->h_entry;
		uint32_t hid = op->cell ? dlg_h_id(op->cell) : op->h_id;
		struct db_item *it;

		if (op->kind == DB_OP_SYNC && !op->cell)
			continue;
		j = key_hash(he, hid) & (cap - 1);
		while (slot[j] != UINT32_MAX &&
		       (p->it[slot[j]].he != he || p->it[slot[j]].hid != hid))
			j = (j + 1) & (cap - 1);
		if (slot[j] == UINT32_MAX) {
			slot[j] = (uint32_t)p->n;
			it = &p->it[p->n++];
			it->he = he;
			it->hid = hid;
		} else {
			it = &p->it[slot[j]];
		}
		if (op->kind == DB_OP_DELETE) {
			/* DESTROY: final; a SYNC ref of it cannot be queued
			 * (that ref would have kept it alive), but be safe. */
			it->destroyed = true;
			continue;
		}
		it->all_vars |= op->all_vars;
		if (it->cell)
			dlg_unref(op->cell);	/* one snapshot will do */
		else
			it->cell = op->cell;
		op->cell = NULL;
	}
	free(slot);
	/* One snapshot per dialog, its action, the row mark. */
	for (i = 0; i < p->n; i++) {
		struct db_item *it = &p->it[i];
		const char *col;
		bool had_row;

		it->act = DB_ACT_NONE;
		if (it->cell) {
			it->info = dlg_info_get(it->cell, DLG_INFO_VARS_ALL |
						DLG_INFO_CLEAR_MARKS);
			if (!it->info) {
				log_err("out of memory: dialog %u:%u not "
					"written", it->he, it->hid);
			} else if ((it->info->state == DLG_STATE_CONFIRMED_NA ||
				    it->info->state == DLG_STATE_CONFIRMED) &&
				   (col = row_too_long(it->info)) != NULL) {
				/* No row mark: no UPDATE nor DELETE later.
				 * Counted per skipped write, logged once. */
				if (!stat_get(db->st_too_long))
					log_warn("dialog %u:%u: %s is longer than "
						 "its column; such dialogs are "
						 "not written (db.rows_too_long)",
						 it->he, it->hid, col);
				stat_inc(db->st_too_long);
			} else if (it->info->state == DLG_STATE_CONFIRMED_NA ||
				   it->info->state == DLG_STATE_CONFIRMED) {
				had_row = dlg_db_row_mark(it->cell, true);
				it->act = had_row ? DB_ACT_UPDATE :
						    DB_ACT_INSERT;
				it->vars = !had_row || it->all_vars ||
					   vars_marked(it->info);
			} else if (it->info->state == DLG_STATE_DELETED &&
				   db->mode != DB_MODE_SHUTDOWN) {
				if (dlg_db_row_mark(it->cell, false))
					it->act = DB_ACT_DELETE;
			}
			dlg_unref(it->cell);
			it->cell = NULL;
		}
		if (it->destroyed && db->mode != DB_MODE_SHUTDOWN)
			it->act = DB_ACT_DELETE;
	}
	return 0;
}

void db_plan_free(struct db_plan *p)
{
	size_t i;

	for (i = 0; p->it && i < p->n; i++) {
		if (p->it[i].cell)
			dlg_unref(p->it[i].cell);
		dlg_info_free(p->it[i].info);
	}
	free(p->it);
	memset(p, 0, sizeof(*p));
}

size_t db_plan_writes(const struct db_plan *p)
{
	size_t i, k = 0;

	for (i = 0; i < p->n; i++)
		k += p->it[i].act != DB_ACT_NONE;
	return k;
}

/* ---- SQL text ---------------------------------------------------------- */

/* Multi-statement text in a struct obuf (core/obuf.h), unlimited: a
 * failed allocation sets its overflow flag, checked once at the end. */

/* 'escaped' or NULL (for NULL, or "" when @null_if_empty). */
static void sb_str(struct obuf *b, MYSQL *my, const char *s,
		   bool null_if_empty)
{
	size_t n;

	if (!s || (null_if_empty && !*s)) {
		ob_mem(b, "NULL", 4);
		return;
	}
	n = strlen(s);
	if (!ob_grow(b, 2 * n + 3))
		return;
	b->buf[b->len++] = '\'';
	b->len += mysql_real_escape_string(my, b->buf + b->len, s,
					   (unsigned long)n);
	b->buf[b->len++] = '\'';
}

/*
 * The 23 values of @in in column order (db_sql.c's binds, as text):
 * "(v0,v1,...,v22)" when @names is NULL, else "`c2`=v2,...,`c22`=v22"
 * (an UPDATE's SET list, from @names = the column names).
 */
static void sb_fields(struct obuf *b, MYSQL *my, const struct dlg_info *in,
		      const char *const *names)
{
	char *xdata = db_xdata_build(in->profiles, in->n_profiles);
	int64_t timeout = in->timeout;
	char cs[2][16];
	int k;

	if (!timeout)	/* not armed yet: it will be, for the lifetime */
		timeout = (int64_t)time(NULL) + in->lifetime;
	snprintf(cs[0], sizeof(cs[0]), "%u", in->caller.cseq);
	snprintf(cs[1], sizeof(cs[1]), "%u", in->callee.cseq);
	if (!names)
		ob_mem(b, "(", 1);
	for (k = names ? 2 : 0; k < DB_DLG_COLS; k++) {
		if (k > (names ? 2 : 0))
			ob_mem(b, ",", 1);
		if (names) {
			ob_mem(b, "`", 1);
			ob_str(b, names[k]);
			ob_mem(b, "`=", 2);
		}
		switch (k) {
		case 0: ob_u32(b, in->h_entry); break;
		case 1: ob_u32(b, in->h_id); break;
		case 2: sb_str(b, my, in->callid, false); break;
		case 3: sb_str(b, my, in->from_uri, false); break;
		case 4: sb_str(b, my, in->caller.tag, false); break;
		case 5: sb_str(b, my, in->to_uri, false); break;
		case 6: sb_str(b, my, in->callee.tag, false); break;
		case 7: sb_str(b, my, cs[0], false); break;
		case 8: sb_str(b, my, cs[1], false); break;
		case 9: sb_str(b, my, in->caller.route_set, true); break;
		case 10: sb_str(b, my, in->callee.route_set, true); break;
		case 11: sb_str(b, my, in->caller.contact, false); break;
		case 12: sb_str(b, my, in->callee.contact, false); break;
		case 13: sb_str(b, my, in->caller.socket, false); break;
		case 14: sb_str(b, my, in->callee.socket, false); break;
		case 15: ob_u32(b, (uint32_t)in->state); break;
		case 16: ob_u32(b, (uint32_t)in->start_ts); break;
		case 17: ob_u32(b, timeout > 0 ? (uint32_t)timeout : 0); break;
		case 18: ob_u32(b, in->sflags); break;
		case 19: ob_u32(b, in->iflags); break;
		case 20: sb_str(b, my, in->toroute_name, true); break;
		case 21: sb_str(b, my, in->req_uri, false); break;
		default: sb_str(b, my, xdata, true); break;
		}
	}
	if (!names)
		ob_mem(b, ")", 1);
	free(xdata);
}

/* UPDATE `t` SET ... WHERE `hash_entry`=he AND `hash_id`=hid; */
static void sb_update(struct obuf *b, struct db_ctx *db, MYSQL *my,
		      const struct dlg_info *in)
{
	ob_str(b, db->sql_upd_head);
	sb_fields(b, my, in, db->col);
	ob_str(b, " WHERE `");
	ob_str(b, db->col[0]);
	ob_mem(b, "`=", 2);
	ob_u32(b, in->h_entry);
	ob_str(b, " AND `");
	ob_str(b, db->col[1]);
	ob_mem(b, "`=", 2);
	ob_u32(b, in->h_id);
	ob_mem(b, ";", 1);
}

/* "<head>(he,hid),(he,hid)...);" for the items @want selects, in lists
 * of at most DB_IN_MAX. */
static void sb_in_lists(struct obuf *b, const char *head,
			const struct db_plan *p,
			bool (*want)(const struct db_item *))
{
	size_t i, k = 0;

	for (i = 0; i < p->n; i++) {
		if (!want(&p->it[i]))
			continue;
		ob_str(b, k ? ",(" : head);
		if (!k)
			ob_mem(b, "(", 1);
		ob_u32(b, p->it[i].he);
		ob_mem(b, ",", 1);
		ob_u32(b, p->it[i].hid);
		ob_mem(b, ")", 1);
		if (++k == DB_IN_MAX) {
			ob_mem(b, ");", 2);
			k = 0;
		}
	}
	if (k)
		ob_mem(b, ");", 2);
}

static bool want_dlg_del(const struct db_item *it)
{
	return it->act == DB_ACT_DELETE || it->act == DB_ACT_INSERT;
}

static bool want_late(const struct db_item *it)
{
	return it->act == DB_ACT_INSERT_LATE;
}

static bool want_vars_del(const struct db_item *it)
{
	return it->act == DB_ACT_DELETE ||
	       (it->vars && (it->act == DB_ACT_INSERT ||
			     it->act == DB_ACT_UPDATE));
}

/* INSERTs of the dialog rows of the items with @act, by DB_INSERT_BYTES. */
static void sb_inserts(struct obuf *b, struct db_ctx *db, MYSQL *my,
		       const struct db_plan *p, enum db_act act)
{
	size_t i, k = 0, start = 0;

	for (i = 0; i < p->n; i++) {
		if (p->it[i].act != act || !p->it[i].info)
			continue;
		if (!k) {
			start = b->len;
			ob_str(b, db->sql_ins_head);
		} else {
			ob_mem(b, ",", 1);
		}
		sb_fields(b, my, p->it[i].info, NULL);
		k++;
		if (b->len - start >= DB_INSERT_BYTES) {
			ob_mem(b, ";", 1);
			k = 0;
		}
	}
	if (k)
		ob_mem(b, ";", 1);
}

/* INSERT of the live variables of the items whose vars are rewritten
 * (@act_mask: bit per enum db_act). */
static void sb_var_inserts(struct obuf *b, struct db_ctx *db, MYSQL *my,
			   const struct db_plan *p, unsigned act_mask)
{
	size_t i, j, k = 0, start = 0;

	for (i = 0; i < p->n; i++) {
		const struct db_item *it = &p->it[i];

		if (!it->vars || !it->info || !(act_mask & (1u << it->act)))
			continue;
		for (j = 0; j < it->info->n_vars; j++) {
			const struct dlg_info_var *v = &it->info->vars[j];

			if (v->flags & DLG_VAR_DELETED)
				continue;
			if (!k) {
				start = b->len;
				ob_str(b, db->sql_var_ins_head);
			} else {
				ob_mem(b, ",", 1);
			}
			ob_mem(b, "(", 1);
			ob_u32(b, it->he);
			ob_mem(b, ",", 1);
			ob_u32(b, it->hid);
			ob_mem(b, ",", 1);
			sb_str(b, my, v->key, false);
			ob_mem(b, ",", 1);
			sb_str(b, my, v->value, false);
			ob_mem(b, ")", 1);
			k++;
			if (b->len - start >= DB_INSERT_BYTES) {
				ob_mem(b, ";", 1);
				k = 0;
			}
		}
	}
	if (k)
		ob_mem(b, ";", 1);
}

/* ---- execution --------------------------------------------------------- */

/*
 * Run the multi-statement @sql and walk its results; the affected-rows
 * count of the first @n_upd results (the UPDATEs, in plan order of the
 * UPDATE items) is checked, and the items whose UPDATE matched no row
 * become DB_ACT_INSERT_LATE.  0, -ENOTCONN, -EAGAIN (retryable: noted in
 * @c, not logged), -EIO (logged).
 */
static int run_multi(struct db_conn *c, struct db_plan *p, const char *sql,
		     size_t len, size_t n_upd)
{
	size_t r = 0, next_upd = 0;
	int st;

	if (mysql_real_query(c->my, sql, (unsigned long)len))
		goto fail;
	do {
		MYSQL_RES *res = mysql_store_result(c->my);

		if (res)
			mysql_free_result(res);
		else if (mysql_field_count(c->my))
			goto fail;
		if (r < n_upd) {
			while (p->it[next_upd].act != DB_ACT_UPDATE)
				next_upd++;
			if (mysql_affected_rows(c->my) == 0) {
				p->it[next_upd].act = DB_ACT_INSERT_LATE;
				p->it[next_upd].vars = true;
			}
			next_upd++;
		}
		r++;
		st = mysql_next_result(c->my);
	} while (st == 0);
	if (st > 0)
		goto fail;
	return 0;
fail:
	{
		unsigned e = mysql_errno(c->my);

		if (db_errno_is_conn(e))
			return -ENOTCONN;
		if (db_errno_is_retry(e)) {
			db_conn_note_retry(c, e, mysql_error(c->my));
			return -EAGAIN;
		}
		log_err("batch statement failed: %s", mysql_error(c->my));
		return -EIO;
	}
}

static int rollback(struct db_conn *c)
{
	if (mysql_rollback(c->my))
		return db_errno_is_conn(mysql_errno(c->my)) ? -ENOTCONN : -EIO;
	return 0;
}

/* 2, 4, 8, 16, 32 ms, then 32: long enough for a conflicting transaction
 * on another node to commit, short next to a batch's worth of calls. */
unsigned db_retry_pause_ms(unsigned k)
{
	return 2u << (k < 4 ? k : 4);
}

/* Another retry after the k-th refusal, the first attempt at @t0_ms?
 * A deadlock or certification conflict comes back at once; a lock wait
 * timeout only after innodb_lock_wait_timeout (50 s by default): the
 * time budget keeps a row locked for long from holding the database
 * thread for every retry's wait. */
static bool retry_more(unsigned k, unsigned max, uint64_t t0_ms)
{
	return k < max && ev_now_ms() - t0_ms < DB_RETRY_BUDGET_MS;
}

/* One dialog's writes and their COMMIT. */
static int item_once(struct db_conn *c, const struct db_item *it)
{
	int rc;

	if (it->act == DB_ACT_DELETE)
		rc = db_sql_delete(c, it->he, it->hid);
	else
		rc = db_sql_write(c, it->info, true);
	return rc ? rc : db_conn_commit(c);
}

/*
 * The slow path: one dialog at a time through the prepared statements,
 * each in a transaction of its own (a deadlock rolls back the whole
 * transaction, so a shared one would lose the dialogs written before
 * it); a retryable refusal is retried DB_ITEM_RETRY_MAX times, then the
 * dialog is counted (db.errors) and skipped, as a refused one: its row
 * keeps what it held until the dialog's next write.  0 or -ENOTCONN.
 */
static int exec_one_by_one(struct db_ctx *db, struct db_conn *c,
			   struct db_plan *p)
{
	size_t i, lost = 0;
	uint64_t t0;
	unsigned k;
	int rc, rr;

	for (i = 0; i < p->n; i++) {
		const struct db_item *it = &p->it[i];

		if (it->act == DB_ACT_NONE)
			continue;
		t0 = ev_now_ms();
		for (k = 0;; k++) {
			rc = item_once(c, it);
			if (!rc || rc == -ENOTCONN)
				break;
			rr = rollback(c);
			if (rr == -ENOTCONN)
				return rr;
			if (rc != -EAGAIN ||
			    !retry_more(k, DB_ITEM_RETRY_MAX, t0))
				break;
			stat_inc(db->st_retries);
			db_sleep_ms(db_retry_pause_ms(k));
		}
		if (rc == -ENOTCONN)
			return rc;
		if (rc)
			stat_inc(db->st_errors);
		lost += rc == -EAGAIN;
	}
	if (lost)
		log_err("%zu dialog writes given up after up to %d retries "
			"each: %s (error %u); their rows keep their previous "
			"state until their next write", lost,
			DB_ITEM_RETRY_MAX, c->err, c->err_no);
	return 0;
}

/* The whole plan in one transaction, COMMIT included: 0, -ENOTCONN,
 * -EAGAIN, -EIO (the transaction may be open: roll it back), -ENOMEM. */
static int plan_once(struct db_ctx *db, struct db_conn *c, struct db_plan *p)
{
	struct obuf b;
	size_t i, n_upd = 0, n_late = 0;
	int rc;

	/* A replay (after a reconnect or a retryable refusal): the
	 * UPDATEs that matched nothing the first time are UPDATEs again
	 * (the INSERT was rolled back). */
	for (i = 0; i < p->n; i++) {
		if (p->it[i].act == DB_ACT_INSERT_LATE)
			p->it[i].act = DB_ACT_UPDATE;
		n_upd += p->it[i].act == DB_ACT_UPDATE;
	}
	rc = db_conn_begin(c);
	if (rc)
		return rc;
	ob_init(&b, OBUF_UNLIMITED);
	for (i = 0; i < p->n; i++)
		if (p->it[i].act == DB_ACT_UPDATE)
			sb_update(&b, db, c->my, p->it[i].info);
	sb_in_lists(&b, db->sql_dlg_del_head, p, want_dlg_del);
	sb_in_lists(&b, db->sql_var_del_head, p, want_vars_del);
	sb_inserts(&b, db, c->my, p, DB_ACT_INSERT);
	sb_var_inserts(&b, db, c->my, p, 1u << DB_ACT_INSERT |
		       1u << DB_ACT_UPDATE);
	if (b.overflow) {
		ob_free(&b);
		return -ENOMEM;
	}
	rc = run_multi(c, p, b.buf, b.len, n_upd);
	if (!rc) {
		for (i = 0; i < p->n; i++)
			n_late += p->it[i].act == DB_ACT_INSERT_LATE;
	}
	if (!rc && n_late) {
		/* Rows to insert after all: their vars were rewritten only if
		 * marked; delete and insert every one (vars = true now). */
		ob_reset(&b);
		sb_in_lists(&b, db->sql_var_del_head, p, want_late);
		sb_inserts(&b, db, c->my, p, DB_ACT_INSERT_LATE);
		sb_var_inserts(&b, db, c->my, p, 1u << DB_ACT_INSERT_LATE);
		rc = b.overflow ? -ENOMEM : run_multi(c, p, b.buf, b.len, 0);
	}
	ob_free(&b);
	return rc ? rc : db_conn_commit(c);
}

/*
 * A deadlock, lock wait timeout or Galera certification conflict
 * (-EAGAIN) rolls back and replays the whole plan, DB_RETRY_MAX times at
 * most and none begun DB_RETRY_BUDGET_MS after the first attempt, each
 * retry counted in db.deadlock_retries, one warning logged for the
 * batch.  Then, or when the server refuses a statement or the
 * COMMIT, the plan is written one dialog at a time.
 */
int db_plan_exec(struct db_ctx *db, struct db_conn *c, struct db_plan *p)
{
	uint64_t t0 = ev_now_ms();
	unsigned k;
	int rc, rr;

	if (!db_plan_writes(p))
		return 0;
	for (k = 0;; k++) {
		rc = plan_once(db, c, p);
		if (rc != -EAGAIN || !retry_more(k, DB_RETRY_MAX, t0))
			break;
		rr = rollback(c);
		if (rr)
			return rr == -ENOTCONN ? rr : -EIO;
		stat_inc(db->st_retries);
		db_sleep_ms(db_retry_pause_ms(k));
	}
	if (k && !rc)
		log_warn("batch of %zu dialog writes: %s (error %u); written "
			 "after %u retries (db.deadlock_retries)",
			 db_plan_writes(p), c->err, c->err_no, k);
	else if (k && rc != -EAGAIN)
		log_warn("batch of %zu dialog writes: %s (error %u); retried "
			 "%u times, then refused otherwise", db_plan_writes(p),
			 c->err, c->err_no, k);
	else if (rc == -EAGAIN)
		log_warn("batch of %zu dialog writes: %s (error %u), still "
			 "after %u retries; writing one dialog at a time",
			 db_plan_writes(p), c->err, c->err_no, k);
	if (!rc || rc == -ENOTCONN || rc == -ENOMEM)
		return rc;
	/* Refused by the server: one dialog at a time, the one at fault
	 * (or still in conflict) is skipped. */
	rc = rollback(c);
	if (!rc)
		rc = exec_one_by_one(db, c, p);
	return rc;
}
