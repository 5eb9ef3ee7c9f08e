/*
 * db_cluster.c - the statements on sipdlg's cluster tables (db_cluster.h).
 * Small and rare (a heartbeat a second, counts at most every 100 ms), so
 * plain text queries with escaped values.
 */
#define LOG_TAG "db"
#include "db/db_int.h"
#include "db/db_cluster.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/obuf.h"

struct db_link {
	struct db_conn c;
};

static int q(struct db_link *l, const char *sql)
{
	if (mysql_query(l->c.my, sql))
		return -EIO;
	return 0;
}

/* The version row of @table: @want, else -EPROTO naming cluster.sql. */
static int check_version(struct db_link *l, const char *table, long want,
			 char *err, size_t errlen)
{
	char sql[256];
	MYSQL_RES *r;
	MYSQL_ROW row;
	long v = -1;

	snprintf(sql, sizeof(sql), "SELECT table_version FROM version WHERE "
		 "table_name='%s'", table);
	if (q(l, sql) || !(r = mysql_store_result(l->c.my))) {
		snprintf(err, errlen, "%s: %s", sql, mysql_error(l->c.my));
		return -EPROTO;
	}
	if ((row = mysql_fetch_row(r)) && row[0])
		v = strtol(row[0], NULL, 10);
	mysql_free_result(r);
	if (v != want) {
		snprintf(err, errlen, "table '%s' %s (version %ld needed; load "
			 "config/schema/cluster.sql)", table,
			 v < 0 ? "is not in the `version` table" :
				 "has another version", want);
		return -EPROTO;
	}
	snprintf(sql, sizeof(sql), "SELECT 1 FROM `%s` LIMIT 0", table);
	if (q(l, sql)) {
		snprintf(err, errlen, "table '%s': %s (load config/schema/"
			 "cluster.sql)", table, mysql_error(l->c.my));
		return -EPROTO;
	}
	mysql_free_result(mysql_store_result(l->c.my));
	return 0;
}

int db_link_open(struct db_ctx *db, struct db_link **out, char *err,
		 size_t errlen)
{
	struct db_link *l = calloc(1, sizeof(*l));
	int rc;

	if (!l)
		return -ENOMEM;
	rc = db_conn_open(db, &l->c, err, errlen);
	if (!rc)
		rc = db_conn_check_versions(db, &l->c, err, errlen);
	if (!rc)
		rc = check_version(l, "sipdlg_nodes", 1, err, errlen);
	if (!rc)
		rc = check_version(l, "sipdlg_profile_counts", 1, err, errlen);
	if (rc) {
		db_link_close(l);
		return rc;
	}
	*out = l;
	return 0;
}

void db_link_close(struct db_link *l)
{
	if (!l)
		return;
	db_conn_close(&l->c);
	free(l);
}

const char *db_link_error(struct db_link *l)
{
	return l && l->c.my ? mysql_error(l->c.my) : "not connected";
}

int db_nodes_read(struct db_link *l, struct db_node_row *out, size_t cap,
		  size_t *n)
{
	MYSQL_RES *r;
	MYSQL_ROW row;

	*n = 0;
	if (q(l, "SELECT node_id, address, TIMESTAMPDIFF(MICROSECOND, "
		 "heartbeat, NOW(6)) DIV 1000, taken_over_by, state FROM "
		 "sipdlg_nodes ORDER BY node_id") ||
	    !(r = mysql_store_result(l->c.my)))
		return -EIO;
	while ((row = mysql_fetch_row(r)) && *n < cap) {
		struct db_node_row *o = &out[(*n)++];

		memset(o, 0, sizeof(*o));
		o->node_id = (uint32_t)strtoul(row[0] ? row[0] : "0", NULL, 10);
		snprintf(o->address, sizeof(o->address), "%s",
			 row[1] ? row[1] : "");
		o->age_ms = row[2] ? strtoll(row[2], NULL, 10) : INT64_MAX;
		o->taken_over_by = (uint32_t)strtoul(row[3] ? row[3] : "0",
						     NULL, 10);
		snprintf(o->state, sizeof(o->state), "%s", row[4] ? row[4] : "");
	}
	mysql_free_result(r);
	return 0;
}

int db_node_heartbeat(struct db_link *l, uint32_t node, const char *address,
		      const char *state)
{
	char a[2 * 128 + 1], st[2 * 16 + 1], sql[768];
	size_t al = strnlen(address, 127), sl = strnlen(state, 15);

	mysql_real_escape_string(l->c.my, a, address, (unsigned long)al);
	mysql_real_escape_string(l->c.my, st, state, (unsigned long)sl);
	snprintf(sql, sizeof(sql), "INSERT INTO sipdlg_nodes (node_id, "
		 "address, heartbeat, taken_over_by, state) VALUES (%u, '%s', "
		 "NOW(6), 0, '%s') ON DUPLICATE KEY UPDATE address = "
		 "VALUES(address), heartbeat = NOW(6), state = VALUES(state)",
		 node, a, st);
	return q(l, sql);
}

int db_node_claim(struct db_link *l, uint32_t node, uint32_t taker,
		  bool *won, uint32_t *holder)
{
	char sql[512];
	MYSQL_RES *r;
	MYSQL_ROW row;

	*won = false;
	*holder = 0;
	/* A node never seen gets a row that says so (heartbeat long ago). */
	snprintf(sql, sizeof(sql), "INSERT INTO sipdlg_nodes (node_id, "
		 "address, heartbeat, taken_over_by, state) VALUES (%u, '', "
		 "NOW(6) - INTERVAL 1 DAY, %u, 'taken_over') ON DUPLICATE KEY "
		 "UPDATE state = IF(taken_over_by IN (0, %u), 'taken_over', "
		 "state), taken_over_by = IF(taken_over_by IN (0, %u), %u, "
		 "taken_over_by)", node, taker, taker, taker, taker);
	if (q(l, sql))
		return -EIO;
	snprintf(sql, sizeof(sql), "SELECT taken_over_by FROM sipdlg_nodes "
		 "WHERE node_id = %u", node);
	if (q(l, sql) || !(r = mysql_store_result(l->c.my)))
		return -EIO;
	if ((row = mysql_fetch_row(r)) && row[0])
		*holder = (uint32_t)strtoul(row[0], NULL, 10);
	mysql_free_result(r);
	*won = *holder == taker;
	if (*won)
		return db_counts_clear(l, node);
	return 0;
}

int db_node_release(struct db_link *l, uint32_t node, uint32_t taker)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "UPDATE sipdlg_nodes SET taken_over_by = "
		 "0 WHERE node_id = %u AND taken_over_by = %u", node, taker);
	return q(l, sql);
}

int db_link_load(struct db_ctx *db, struct db_link *l, struct dlg_table *t,
		 db_dlg_load_fn fn, void *ud, const struct db_load_filter *f,
		 struct db_load_result *res, char *err, size_t errlen)
{
	return db_load_rows(db, &l->c, t, fn, ud, false, false, f, res, err,
			    errlen);
}

int db_link_max_ids(struct db_ctx *db, struct db_link *l, uint32_t step,
		    uint32_t residue,
		    void (*fn)(void *ud, uint32_t he, uint32_t hid), void *ud)
{
	const struct cfg_dialog *d = db->cd;
	char sql[512];
	MYSQL_RES *r;
	MYSQL_ROW row;

	snprintf(sql, sizeof(sql), "SELECT `%s`, MAX(`%s`) FROM `%s` WHERE "
		 "`%s` %% %u = %u GROUP BY `%s`", d->h_entry_column,
		 d->h_id_column, d->table_name, d->h_id_column, step, residue,
		 d->h_entry_column);
	if (q(l, sql) || !(r = mysql_store_result(l->c.my)))
		return -EIO;
	while ((row = mysql_fetch_row(r)))
		if (row[0] && row[1])
			fn(ud, (uint32_t)strtoul(row[0], NULL, 10),
			   (uint32_t)strtoul(row[1], NULL, 10));
	mysql_free_result(r);
	return 0;
}

int db_counts_clear(struct db_link *l, uint32_t node)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "DELETE FROM sipdlg_profile_counts WHERE "
		 "node = %u", node);
	return q(l, sql);
}

int db_counts_publish(struct db_link *l, uint32_t node, const char *profile,
		      const struct db_count *v, size_t n)
{
	char p[2 * 64 + 1], e[2 * 255 + 1];
	struct obuf b;
	size_t rows = 0;
	int rc = 0;

	mysql_real_escape_string(l->c.my, p, profile,
				 (unsigned long)strnlen(profile, 64));
	ob_init(&b, OBUF_UNLIMITED);
	ob_printf(&b, "START TRANSACTION; DELETE FROM sipdlg_profile_counts "
		  "WHERE node = %u AND profile = '%s';", node, p);
	for (size_t i = 0; i < n; i++) {
		if (!v[i].count)
			continue;
		mysql_real_escape_string(l->c.my, e, v[i].value,
					 (unsigned long)strnlen(v[i].value,
								255));
		ob_printf(&b, "%s(%u, '%s', '%s', %u, NOW(6))",
			  rows ? "," : "INSERT INTO sipdlg_profile_counts "
			  "(node, profile, value, count, updated) VALUES ",
			  node, p, e, v[i].count);
		rows++;
	}
	ob_printf(&b, "%sCOMMIT", rows ? ";" : "");
	if (b.overflow) {
		ob_free(&b);
		return -ENOMEM;
	}
	if (mysql_real_query(l->c.my, b.buf, (unsigned long)b.len))
		rc = -EIO;
	/* every result of the multi-statement, so the link is usable */
	for (int s = rc ? 1 : 0; !s;) {
		mysql_free_result(mysql_store_result(l->c.my));
		s = mysql_next_result(l->c.my);
		if (s > 0)
			rc = -EIO;
	}
	if (rc)
		mysql_query(l->c.my, "ROLLBACK");
	ob_free(&b);
	return rc;
}

/* Run @b's multi-statement and drain every result; ROLLBACK on error. */
static int run_multi(struct db_link *l, struct obuf *b)
{
	int rc = 0;

	if (b->overflow)
		return -ENOMEM;
	if (mysql_real_query(l->c.my, b->buf, (unsigned long)b->len))
		rc = -EIO;
	for (int s = rc ? 1 : 0; !s;) {
		mysql_free_result(mysql_store_result(l->c.my));
		s = mysql_next_result(l->c.my);
		if (s > 0)
			rc = -EIO;
	}
	if (rc)
		mysql_query(l->c.my, "ROLLBACK");
	return rc;
}

int db_counts_update(struct db_link *l, uint32_t node, const char *profile,
		     const struct db_count *up, size_t n_up,
		     const char *const *gone, size_t n_gone)
{
	char p[2 * 64 + 1], e[2 * 255 + 1];
	struct obuf b;
	int rc;

	if (!n_up && !n_gone)
		return 0;
	mysql_real_escape_string(l->c.my, p, profile,
				 (unsigned long)strnlen(profile, 64));
	ob_init(&b, OBUF_UNLIMITED);
	ob_printf(&b, "START TRANSACTION");
	for (size_t i = 0; i < n_up; i++) {
		mysql_real_escape_string(l->c.my, e, up[i].value,
					 (unsigned long)strnlen(up[i].value,
								255));
		ob_printf(&b, "%s(%u, '%s', '%s', %u, NOW(6))",
			  i ? "," : "; INSERT INTO sipdlg_profile_counts "
			  "(node, profile, value, count, updated) VALUES ",
			  node, p, e, up[i].count);
	}
	if (n_up)
		ob_printf(&b, " ON DUPLICATE KEY UPDATE count = VALUES(count), "
			  "updated = VALUES(updated)");
	if (n_gone)
		ob_printf(&b, "; DELETE FROM sipdlg_profile_counts WHERE "
			  "node = %u AND profile = '%s' AND value IN (", node,
			  p);
	for (size_t i = 0; i < n_gone; i++) {
		mysql_real_escape_string(l->c.my, e, gone[i],
					 (unsigned long)strnlen(gone[i], 255));
		ob_printf(&b, "%s'%s'", i ? "," : "", e);
	}
	ob_printf(&b, "%s; COMMIT", n_gone ? ")" : "");
	rc = run_multi(l, &b);
	ob_free(&b);
	return rc;
}

int db_counts_read(struct db_link *l, uint32_t self, uint32_t fresh_ms,
		   void (*fn)(void *ud, const char *profile,
			      const char *value, uint64_t count),
		   void *ud)
{
	char sql[512];
	MYSQL_RES *r;
	MYSQL_ROW row;

	snprintf(sql, sizeof(sql), "SELECT c.profile, c.value, SUM(c.count) "
		 "FROM sipdlg_profile_counts c JOIN sipdlg_nodes n ON "
		 "n.node_id = c.node WHERE c.node <> %u AND n.heartbeat > "
		 "NOW(6) - INTERVAL %u MICROSECOND GROUP BY c.profile, "
		 "c.value", self, fresh_ms * 1000u);
	if (q(l, sql) || !(r = mysql_store_result(l->c.my)))
		return -EIO;
	while ((row = mysql_fetch_row(r)))
		if (row[0] && row[1] && row[2])
			fn(ud, row[0], row[1], strtoull(row[2], NULL, 10));
	mysql_free_result(r);
	return 0;
}
