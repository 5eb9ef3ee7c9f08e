/*
 * cl_int.h - what the files of user/cluster share.
 */
#ifndef SIPDLG_CL_INT_H
#define SIPDLG_CL_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cluster/cluster.h"
#include "config/config.h"
#include "db/db_cluster.h"

struct dlg_profile;

/* One cached count of the other nodes (cl_profiles.c). */
struct cl_count {
	uint32_t prof;		/* index into cl->profs */
	uint32_t hash;
	uint64_t count;
	char *value;
};

struct cl_prof {
	struct dlg_profile *p;
	uint64_t published_gen;
	bool published;
	struct db_count *pub;	/* what the table holds now, by value */
	size_t n_pub;
};

enum cl_req { CL_REQ_NONE, CL_REQ_TAKEOVER, CL_REQ_HANDBACK };

struct cluster {
	const struct sipdlg_config *cfg;
	const struct cfg_cluster *cc;
	struct db_ctx *db;
	struct dlg_table *t;
	db_dlg_load_fn fn;
	void *ud;
	char address[160];
	struct db_link *link;	/* the thread's, once started */

	pthread_t th;
	bool running;
	pthread_mutex_t mu;	/* everything below */
	pthread_cond_t cv;	/* requests in, answers out, stop */
	bool stop;
	uint64_t serves;	/* bit r: rows with h_id % nodes == r */
	bool fenced;		/* our own rows are held by another node */
	enum cl_req req;
	uint32_t req_node;
	uint32_t req_alive_ms;	/* takeover: refused if the heartbeat is younger */
	uint64_t req_seq, done_seq;
	int req_rc;
	char req_msg[640];
	uint64_t req_loaded, req_ms;
	struct db_node_row nodes[CFG_MAX_NODES];
	size_t n_nodes;
	bool db_ok;
	uint64_t hb_ok_ms;	/* monotonic end of the last good heartbeat */
	uint64_t takeovers;
	int64_t last_takeover_ms;	/* detection to served, -1 none */

	/* cluster-wide profiles */
	struct cl_prof profs[CFG_MAX_PROFILES];
	size_t n_profs;
	pthread_rwlock_t rlock;	/* the cache below */
	struct cl_count *rc;	/* sorted by (prof, hash, value) */
	size_t n_rc;
	uint64_t *rc_total;	/* per profile */
	int64_t counts_read_ms;	/* monotonic time of the last read */
	uint64_t published_ms;	/* monotonic time of the last publish */
	pthread_t rth;		/* the reader (cl_profiles.c) */
	bool rrunning;
	bool rstop;		/* under mu */
	pthread_cond_t rcv;	/* the reader's stop */
};

/* Cluster-wide profile counts: a change is looked for every
 * CL_CHECK_MS and published at most every CL_PUBLISH_MS (cluster
 * thread); the other nodes' counts are read every CL_READ_MS (reader
 * thread, its own connection). */
#define CL_CHECK_MS 10
#define CL_PUBLISH_MS 100
#define CL_READ_MS 50

uint64_t cl_mono_ms(void);

/* cl_profiles.c */
int cl_profiles_init(struct cluster *cl);
void cl_profiles_free(struct cluster *cl);
/* Publish the counts that changed (every one with @force) on cl->link
 * (the cluster thread). */
void cl_profiles_publish(struct cluster *cl, bool force);
/* Has a profile changed since its last publish? */
bool cl_profiles_changed(struct cluster *cl);
/* The reader thread of the other nodes' counts (none without cluster
 * profiles); stopped before cluster_free frees anything. */
int cl_profiles_start(struct cluster *cl);
void cl_profiles_stop(struct cluster *cl);

/* cl_rpc.c */
int cl_rpc_register(struct cluster *cl, struct ctl_server *ctl);
/* Ask the thread and wait for its answer (loop thread, bounded).
 * @alive_ms (takeover only, 0 = none): refuse with -EALREADY when the
 * database has @node's heartbeat younger than that, read at once. */
int cl_request(struct cluster *cl, enum cl_req kind, uint32_t node,
	       uint32_t alive_ms, char *msg, size_t msglen, uint64_t *loaded,
	       uint64_t *ms);

#endif /* SIPDLG_CL_INT_H */
