/*
 * db_load.c - restore at start (reference §8.3): the dialog rows, read
 * streaming (mysql_use_result; db_fetch_rows bounds the rows handled per
 * round), each decoded (db_row.c), checked against the Call-ID's hash and
 * given to the dialog core's load function with its variables.
 */
#define LOG_TAG "db"
#include "db/db_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/log.h"
#include "core/obuf.h"
#include "db/db_load.h"
#include "dialog/dlg.h"

struct var_row {
	uint32_t he, hid;
	char *key, *value;
};

static int var_cmp(const void *a, const void *b)
{
	const struct var_row *x = a, *y = b;

	if (x->he != y->he)
		return x->he < y->he ? -1 : 1;
	if (x->hid != y->hid)
		return x->hid < y->hid ? -1 : 1;
	return 0;
}

/* All dialog_vars rows, sorted by (he, hid). */
static int load_vars(struct db_ctx *db, struct db_conn *cn,
		     const char *where, struct var_row **out, size_t *n_out,
		     char *err, size_t errlen)
{
	const struct cfg_dialog *d = db->cd;
	char q[1536];
	MYSQL_RES *res;
	MYSQL_ROW row;
	struct var_row *v = NULL;
	size_t n = 0, cap = 0;

	snprintf(q, sizeof(q), "SELECT `%s`,`%s`,`%s`,`%s` FROM `%s`%s",
		 d->vars_h_entry_column, d->vars_h_id_column,
		 d->vars_key_column, d->vars_value_column, d->vars_table_name,
		 where);
	if (mysql_query(cn->my, q) ||
	    !(res = mysql_use_result(cn->my))) {
		snprintf(err, errlen, "%s: %s", q, mysql_error(cn->my));
		return -EIO;
	}
	while ((row = mysql_fetch_row(res))) {
		if (!row[0] || !row[1] || !row[2] || !row[3])
			continue;
		if (n == cap) {
			struct var_row *nv;

			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		v[n].he = (uint32_t)strtoul(row[0], NULL, 10);
		v[n].hid = (uint32_t)strtoul(row[1], NULL, 10);
		v[n].key = strdup(row[2]);
		v[n].value = strdup(row[3]);
		n++;
	}
	mysql_free_result(res);
	if (n)
		qsort(v, n, sizeof(*v), var_cmp);
	*out = v;
	*n_out = n;
	return 0;
}

/* A row restored under another h_entry (rehash_on_load). */
struct rehashed {
	uint64_t id;
	uint32_t old_he, hid, new_he;
};

static int rh_add(struct rehashed **v, size_t *n, size_t *cap, uint64_t id,
		  uint32_t old_he, uint32_t hid, uint32_t new_he)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		struct rehashed *nv = realloc(*v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = (struct rehashed){ id, old_he, hid, new_he };
	return 0;
}

/*
 * Store the new h_entry of the rehashed rows, so that the rows are the
 * dialogs' again (their updates and deletes name the new key).  One
 * transaction: the dialog rows by id; their variables in two steps, first
 * to new_he with the top bit set (never a real h_entry: hash_size is at
 * most 2^20), then the bit cleared, so that a row moving onto another's
 * old key can never take the other's variables along.  0 or -EIO.
 */
static int rh_store(struct db_ctx *db, struct db_conn *cn,
		    const struct rehashed *v, size_t n,
		    char *err, size_t errlen)
{
	const struct cfg_dialog *d = db->cd;
	struct obuf q;
	size_t i;
	int st;

	ob_init(&q, OBUF_UNLIMITED);
	ob_printf(&q, "START TRANSACTION;");
	for (i = 0; i < n; i++) {
		ob_printf(&q, "UPDATE `%s` SET `%s`=%u WHERE `id`=%"
			      PRIu64 ";", d->table_name, d->h_entry_column,
			      v[i].new_he, v[i].id);
		ob_printf(&q, "UPDATE `%s` SET `%s`=%u WHERE `%s`=%u "
			      "AND `%s`=%u;", d->vars_table_name,
			      d->vars_h_entry_column,
			      v[i].new_he | 0x80000000u,
			      d->vars_h_entry_column, v[i].old_he,
			      d->vars_h_id_column, v[i].hid);
	}
	ob_printf(&q, "UPDATE `%s` SET `%s`=`%s` & 0x7fffffff WHERE "
		      "`%s` >= 0x80000000;COMMIT", d->vars_table_name,
		      d->vars_h_entry_column, d->vars_h_entry_column,
		      d->vars_h_entry_column);
	if (q.overflow) {
		ob_free(&q);
		return -ENOMEM;
	}
	st = mysql_real_query(cn->my, q.buf, (unsigned long)q.len);
	while (!st) {
		MYSQL_RES *res = mysql_store_result(cn->my);

		mysql_free_result(res);
		st = mysql_next_result(cn->my);
	}
	ob_free(&q);
	if (st > 0) {
		snprintf(err, errlen, "storing the rehashed h_entry of %zu rows "
			 "in '%s': %s", n, d->table_name,
			 mysql_error(cn->my));
		mysql_query(cn->my, "ROLLBACK");
		return -EIO;
	}
	return 0;
}

/* Keys of rows to delete after the read (the late load's rules). */
struct del_keys {
	struct { uint32_t he, hid; } *v;
	size_t n, cap;
};

static int del_add(struct del_keys *d, uint32_t he, uint32_t hid)
{
	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 64;
		void *nv = realloc(d->v, nc * sizeof(*d->v));

		if (!nv)
			return -ENOMEM;
		d->v = nv;
		d->cap = nc;
	}
	d->v[d->n].he = he;
	d->v[d->n].hid = hid;
	d->n++;
	return 0;
}

/* Delete the rows (and vars) of @d, each its own autocommitted pair:
 * a replay after a lost connection deletes again what is left.  0, or
 * the first error (-ENOTCONN: the connection is gone). */
static int del_run(struct db_ctx *db, struct db_conn *cn,
		   const struct del_keys *d, char *err, size_t errlen)
{
	size_t i;
	int rc;

	for (i = 0; i < d->n; i++) {
		rc = db_sql_delete(cn, d->v[i].he, d->v[i].hid);
		if (rc) {
			snprintf(err, errlen, "deleting the row of %u:%u: %s",
				 d->v[i].he, d->v[i].hid,
				 mysql_error(cn->my));
			return rc;
		}
	}
	return 0;
}

/*
 * The late load's decision for one row before it is restored: true if
 * it is deleted instead (a BYE for it was seen while it was not loaded).
 */
static bool late_ended(struct db_ctx *db, const struct db_load_row *lr)
{
	return db_pend_match_locked(db, lr->h_entry, lr->h_id, lr->callid,
			     lr->from_tag ? lr->from_tag : "",
			     lr->to_tag ? lr->to_tag : "");
}

/*
 * -EEXIST at the late load: the ids are in memory.  The same Call-ID:
 * the dialog is there already (an earlier, interrupted load), the row is
 * its own.  Another one: a dialog made since the start was given these
 * ids, its write is to come and must find no row of the old call (the
 * old call's cookie names the new dialog now, so it cannot be restored
 * under it): true, the row is deleted.
 */
static bool late_conflict(struct dlg_table *t, const struct db_load_row *lr,
			  uint32_t he)
{
	struct dlg_cell *c = dlg_lookup_id(t, he, lr->h_id);
	struct sip_str cid;
	bool other;

	if (!c)
		return false;
	cid = dlg_callid(c);
	other = cid.len != strlen(lr->callid) ||
		memcmp(cid.p, lr->callid, cid.len) != 0;
	dlg_unref(c);
	return other;
}

int db_load(struct db_ctx *db, struct dlg_table *t, db_dlg_load_fn fn,
	    void *ud, bool rehash, struct db_load_result *res, char *err,
	    size_t errlen)
{
	return db_load_rows(db, &db->conn, t, fn, ud, rehash, false,
			    &db->filter, res, err, errlen);
}

/* " WHERE `col` % step IN (r, ...)" for @f (or "" for every row). */
static void filter_sql(const struct db_load_filter *f, const char *col,
		       char *buf, size_t cap)
{
	size_t n;
	bool first = true;

	buf[0] = '\0';
	if (!f || f->step <= 1)
		return;
	n = (size_t)snprintf(buf, cap, " WHERE `%s` %% %u IN (", col, f->step);
	for (uint32_t r = 0; r < f->step && r < 64 && n < cap; r++) {
		if (!(f->mask & (1ull << r)))
			continue;
		n += (size_t)snprintf(buf + n, cap - n, "%s%u", first ? "" : ",",
				      r);
		first = false;
	}
	if (first && n < cap)	/* no residue: no row */
		n += (size_t)snprintf(buf + n, cap - n, "NULL");
	if (n < cap)
		snprintf(buf + n, cap - n, ")");
}

int db_load_rows(struct db_ctx *db, struct db_conn *cn, struct dlg_table *t,
		 db_dlg_load_fn fn, void *ud, bool rehash, bool late,
		 const struct db_load_filter *filter,
		 struct db_load_result *res, char *err, size_t errlen)
{
	char vwhere[512], where[512];
	struct del_keys del = { 0 };
	const struct cfg_dialog *d = db->cd;
	struct db_load_result r = { 0 };
	struct var_row *vars = NULL;
	size_t n_vars = 0, i, vi = 0;
	uint32_t hash_size = dlg_table_config(t)->hash_size;
	char *q = NULL, page[4096];
	unsigned long last_he = 0, last_hid = 0;
	bool have_last = false;
	uint32_t page_rows;
	MYSQL_RES *mr;
	MYSQL_ROW row;
	struct rehashed *rh = NULL;
	size_t n_rh = 0, cap_rh = 0;
	int rc = 0;

	if (db->mode == DB_MODE_NONE || d->db_skip_load) {
		if (res)
			*res = r;
		return 0;
	}
	if (!cn->my)
		return -ENOTCONN;
	filter_sql(filter, d->vars_h_id_column, vwhere, sizeof(vwhere));
	filter_sql(filter, d->h_id_column, where, sizeof(where));
	rc = load_vars(db, cn, vwhere, &vars, &n_vars, err, errlen);
	if (rc)
		return rc;
	if (asprintf(&q, "SELECT `id`,`%s`,`%s`,`%s`,`%s`,`%s`,`%s`,`%s`,`%s`,"
		     "`%s`,`%s`,`%s`,`%s`,`%s`,`%s`,`%s`,`%s`,`%s`,`%s`,`%s`,"
		     "`iflags`,`%s`,`req_uri`,`xdata` FROM `%s`%s",
		     d->h_entry_column, d->h_id_column,
		     d->callid_column, d->from_uri_column, d->from_tag_column,
		     d->to_uri_column, d->to_tag_column, d->caller_cseq_column,
		     d->callee_cseq_column, d->caller_route_column,
		     d->callee_route_column, d->caller_contact_column,
		     d->callee_contact_column, d->caller_sock_column,
		     d->callee_sock_column, d->state_column,
		     d->start_time_column, d->timeout_column, d->sflags_column,
		     d->toroute_column, d->table_name, where) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	/*
	 * db_fetch_rows: each SELECT reads at most that many rows, the next
	 * one starting after the last (hash_entry, hash_id) seen (keyset
	 * paging), so no single statement holds the table and the
	 * connection for the whole restore.  Kamailio fetches in chunks of
	 * the same size from one result.
	 */
next_page:
	page_rows = 0;
	if (!have_last)
		snprintf(page, sizeof(page), "%s ORDER BY `%s`,`%s` LIMIT %u",
			 q, d->h_entry_column, d->h_id_column,
			 d->db_fetch_rows);
	else
		snprintf(page, sizeof(page), "%s %s (`%s`>%lu OR (`%s`=%lu "
			 "AND `%s`>%lu)) ORDER BY `%s`,`%s` LIMIT %u", q,
			 where[0] ? "AND" : "WHERE",
			 d->h_entry_column, last_he, d->h_entry_column,
			 last_he, d->h_id_column, last_hid, d->h_entry_column,
			 d->h_id_column, d->db_fetch_rows);
	if (mysql_query(cn->my, page) ||
	    !(mr = mysql_use_result(cn->my))) {
		snprintf(err, errlen, "cannot read table '%s': %s",
			 d->table_name, mysql_error(cn->my));
		rc = -EIO;
		goto out;
	}
	r.pages++;
	while ((row = mysql_fetch_row(mr))) {
		unsigned long *lens = mysql_fetch_lengths(mr);
		struct db_load_row lr;
		struct db_load_var *lv = NULL;
		char why[256];
		uint32_t he, old_he;
		size_t k, nv;
		int dfail = 0;

		r.rows++;
		page_rows++;
		if (row[1] && row[2]) {
			last_he = strtoul(row[1], NULL, 10);
			last_hid = strtoul(row[2], NULL, 10);
			have_last = true;
		}
		if (db_row_decode(row, lens, &lr, why, sizeof(why))) {
			log_warn("table '%s' row id %s skipped: %s",
				 d->table_name, row[0] ? row[0] : "?", why);
			r.skipped++;
			continue;
		}
		he = dlg_hash_entry((struct sip_str){ lr.callid,
						      strlen(lr.callid) },
				    hash_size);
		if (he != lr.h_entry) {
			if (!rehash) {
				snprintf(err, errlen, "table '%s' row id %llu "
					 "(Call-ID '%s'): hash_entry %u, but "
					 "the Call-ID hashes to %u with "
					 "hash_size %u: hash_size changed "
					 "since it was written (set it back, "
					 "or set database.rehash_on_load: "
					 "true)",
					 d->table_name,
					 (unsigned long long)lr.id, lr.callid,
					 lr.h_entry, he, hash_size);
				db_load_row_clear(&lr);
				rc = -ERANGE;
				break;
			}
		}
		/* Vars of (stored he, hid): merge-join on the sorted list. */
		while (vi < n_vars &&
		       (vars[vi].he < lr.h_entry ||
			(vars[vi].he == lr.h_entry && vars[vi].hid < lr.h_id)))
			vi++;
		for (nv = 0; vi + nv < n_vars && vars[vi + nv].he == lr.h_entry &&
			     vars[vi + nv].hid == lr.h_id; nv++)
			;
		if (nv) {
			lv = calloc(nv, sizeof(*lv));
			for (k = 0; lv && k < nv; k++) {
				lv[k].key = vars[vi + k].key;
				lv[k].value = vars[vi + k].value;
			}
			lr.vars = lv;
			lr.n_vars = lv ? nv : 0;
		}
		old_he = lr.h_entry;
		/* Late: the check and the restore are one step for the
		 * workers' db_note_end (db_pend.c), so a BYE is either seen
		 * here or finds the dialog linked when it matches again. */
		if (late)
			db_pend_lock(db);
		if (late && late_ended(db, &lr)) {
			db_pend_unlock(db);
			log_info("table '%s' row id %llu (Call-ID '%s'): ended "
				 "by a BYE while the database was away: "
				 "deleted, not restored", d->table_name,
				 (unsigned long long)lr.id, lr.callid);
			dfail = del_add(&del, old_he, lr.h_id);
			r.ended++;
			goto next;
		}
		lr.h_entry = he;
		rc = fn(t, &lr, ud);
		if (late)
			db_pend_unlock(db);
		if (late && rc == -EEXIST && late_conflict(t, &lr, he)) {
			log_warn("table '%s' row id %llu (Call-ID '%s'): its "
				 "ids %u:%u were given to a new dialog while "
				 "the database was away: deleted, not "
				 "restored", d->table_name,
				 (unsigned long long)lr.id, lr.callid, he,
				 lr.h_id);
			dfail = del_add(&del, old_he, lr.h_id);
			r.conflicts++;
			goto next;
		}
		if (rc == 0 && he != old_he &&
		    rh_add(&rh, &n_rh, &cap_rh, lr.id, old_he, lr.h_id, he)) {
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			free(lv);
			db_load_row_clear(&lr);
			break;
		}
		if (rc == 0) {
			r.loaded++;
			r.vars += lr.n_vars;
		} else if (late && rc == -EEXIST) {
			r.skipped++;	/* restored by an interrupted load */
		} else {
			log_warn("table '%s' row id %llu not restored: %s",
				 d->table_name, (unsigned long long)lr.id,
				 strerror(-rc));
			r.skipped++;
		}
next:
		rc = 0;
		if (dfail) {
			rc = dfail;
			snprintf(err, errlen, "out of memory");
			free(lv);
			db_load_row_clear(&lr);
			break;
		}
		free(lv);
		db_load_row_clear(&lr);
	}
	if (!rc && mysql_errno(cn->my)) {
		snprintf(err, errlen, "reading table '%s': %s", d->table_name,
			 mysql_error(cn->my));
		rc = -EIO;
	}
	mysql_free_result(mr);
	if (!rc && have_last && page_rows == d->db_fetch_rows)
		goto next_page;
	if (!rc && del.n)
		rc = del_run(db, cn, &del, err, errlen);
	if (!rc && n_rh) {
		rc = rh_store(db, cn, rh, n_rh, err, errlen);
		if (!rc)
			log_notice("table '%s': %zu rows rehashed to hash_size "
				   "%u", d->table_name, n_rh, hash_size);
	}
	/* db_mode 3: the rows are written again at stop (kamailio#3669). */
	if (!rc && db->mode == DB_MODE_SHUTDOWN) {
		char dq[256];

		snprintf(dq, sizeof(dq), "DELETE FROM `%s`", d->table_name);
		if (mysql_query(cn->my, dq))
			log_err("%s: %s", dq, mysql_error(cn->my));
		snprintf(dq, sizeof(dq), "DELETE FROM `%s`",
			 d->vars_table_name);
		if (mysql_query(cn->my, dq))
			log_err("%s: %s", dq, mysql_error(cn->my));
	}
out:
	free(q);
	free(rh);
	free(del.v);
	for (i = 0; i < n_vars; i++) {
		free(vars[i].key);
		free(vars[i].value);
	}
	free(vars);
	if (res)
		*res = r;
	return rc;
}
