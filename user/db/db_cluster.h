/*
 * db_cluster.h - sipdlg's own cluster tables (config/schema/cluster.sql),
 * read and written on a connection of the cluster thread's own, never the
 * database thread's and never from a SIP worker.
 *
 *   sipdlg_nodes           one row per node: address, heartbeat (the
 *                          database's clock, NOW(6)), taken_over_by (the
 *                          node serving its dialogs now, 0 = itself), state
 *   sipdlg_profile_counts  per node, profile and value: its live count of
 *                          a cluster-wide profile
 *
 * Kamailio's dialog/dialog_vars tables are untouched: which node owns a
 * row follows from its hash_id (h_id % nodes + 1) and sipdlg_nodes.
 */
#ifndef SIPDLG_DB_CLUSTER_H
#define SIPDLG_DB_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

struct db_link;

/* Open a connection of its own on @db's URL and check the versions of
 * the dialog tables and of the cluster tables.  0, -ECONNREFUSED,
 * -EPROTO (tables missing: the message names cluster.sql), -ENOMEM. */
int db_link_open(struct db_ctx *db, struct db_link **out, char *err,
		 size_t errlen);
void db_link_close(struct db_link *l);	/* NULL-safe */
/* The last error of the link's connection (for logs). */
const char *db_link_error(struct db_link *l);

struct db_node_row {
	uint32_t node_id;
	char address[128];
	int64_t age_ms;		/* NOW(6) - heartbeat, by the database */
	uint32_t taken_over_by;	/* 0 = serves its own */
	char state[16];
};

/* Every row of sipdlg_nodes (at most @cap).  0 or -EIO. */
int db_nodes_read(struct db_link *l, struct db_node_row *out, size_t cap,
		  size_t *n);
/* Upsert this node's row: heartbeat = NOW(6), address, state; the
 * taken_over_by of the row is kept.  0 or -EIO. */
int db_node_heartbeat(struct db_link *l, uint32_t node, const char *address,
		      const char *state);
/* Take @node's dialogs for @taker: taken_over_by set unless another node
 * holds them already (then *holder says which, and 0 is returned with
 * *won false); the node's published profile counts are deleted. */
int db_node_claim(struct db_link *l, uint32_t node, uint32_t taker,
		  bool *won, uint32_t *holder);
/* Give them back: taken_over_by = 0 where it is @taker.  0 or -EIO. */
int db_node_release(struct db_link *l, uint32_t node, uint32_t taker);

/* Restore the rows @f selects through @fn, as db_load does, on @l. */
int db_link_load(struct db_ctx *db, struct db_link *l, struct dlg_table *t,
		 db_dlg_load_fn fn, void *ud, const struct db_load_filter *f,
		 struct db_load_result *res, char *err, size_t errlen);
/* @fn(h_entry, max h_id) for the rows whose h_id % step == residue. */
int db_link_max_ids(struct db_ctx *db, struct db_link *l, uint32_t step,
		    uint32_t residue,
		    void (*fn)(void *ud, uint32_t he, uint32_t hid), void *ud);

struct db_count {
	const char *value;
	uint32_t count;
};
/* Replace @node's published counts of @profile by @v (one transaction;
 * zero counts are not stored).  0 or -EIO. */
int db_counts_publish(struct db_link *l, uint32_t node, const char *profile,
		      const struct db_count *v, size_t n);
/* Change only the rows that changed since the last publish: @up set
 * (inserted or updated by primary key), @gone deleted by primary key, in
 * one transaction.  Equality on the key locks only those rows: no range
 * DELETE whose gap lock a replicated insert of another node would abort
 * (Galera reports that as a deadlock).  0 or -EIO. */
int db_counts_update(struct db_link *l, uint32_t node, const char *profile,
		     const struct db_count *up, size_t n_up,
		     const char *const *gone, size_t n_gone);
/* Forget every count of @node (at start, and when it is taken over). */
int db_counts_clear(struct db_link *l, uint32_t node);
/* @fn(profile, value, sum) over the other nodes whose heartbeat is
 * younger than @fresh_ms.  0 or -EIO. */
int db_counts_read(struct db_link *l, uint32_t self, uint32_t fresh_ms,
		   void (*fn)(void *ud, const char *profile,
			      const char *value, uint64_t count),
		   void *ud);

#endif /* SIPDLG_DB_CLUSTER_H */
