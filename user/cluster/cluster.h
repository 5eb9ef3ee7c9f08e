/*
 * cluster.h - several boxes sharing dialogs through a MariaDB Galera
 * cluster (the cluster: section; db_mode 1).
 *
 * A thread of its own, with its own database connection, does the
 * cluster's database work; SIP workers never wait on it:
 *   - every heartbeat_interval: this node's heartbeat in sipdlg_nodes,
 *     the nodes read back, and the nodes of backup_of whose heartbeat is
 *     older than takeover_after taken over;
 *   - the counts of the cluster-wide profiles published when they
 *     changed, at most every 100 ms;
 * and, when there are cluster-wide profiles, a second one on a second
 * connection reads the other nodes' counts every 50 ms into a cache that
 * dlg_profile_size adds to the local count (cl_profiles.c);
 *   - takeover / handback asked by the control socket (cluster.takeover,
 *     cluster.handback), answered when done.
 *
 * Owner of a dialog: node (h_id % nodes) + 1, unless sipdlg_nodes says
 * another node took that node over.  Start order (main.c):
 *   cluster_alloc()   after db_check();
 *   cluster_prepare() before db_load(): opens the connection, decides
 *                     which nodes' rows this node serves (its own unless
 *                     another holds them: fenced; plus the nodes it holds)
 *                     and sets the database's load filter;
 *   cluster_start()   after db_start(): the thread and the RPCs;
 *   cluster_free()    before db_stop().
 */
#ifndef SIPDLG_CLUSTER_H
#define SIPDLG_CLUSTER_H

#include <stddef.h>

#include "db/db.h"

struct sipdlg_config;
struct dlg_table;
struct ctl_server;
struct cluster;

int cluster_alloc(const struct sipdlg_config *cfg, struct db_ctx *db,
		  struct dlg_table *t, db_dlg_load_fn fn, void *ud,
		  struct cluster **out);
int cluster_prepare(struct cluster *cl, char *err, size_t errlen);
int cluster_start(struct cluster *cl, struct ctl_server *ctl);
void cluster_free(struct cluster *cl);	/* NULL-safe */

#endif /* SIPDLG_CLUSTER_H */
