/*
 * cluster.c - the cluster thread: heartbeats, membership, takeover of a
 * dead node's dialogs, handback, fencing at start (cluster.h).
 */
#define LOG_TAG "cluster"
#include "cluster/cl_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "dialog/dlg.h"

/* The thread's tick: every CL_CHECK_MS (cl_int.h) it looks whether a
 * cluster-wide profile changed and publishes it when the last publish is
 * CL_PUBLISH_MS old (cl_profiles.c; another thread reads the others'
 * counts); without such profiles every CL_TICK_MS.  The ticks keep their
 * own cadence (the work of one does not push the next back).  CL_TICK_MS
 * is also the slack of the heartbeat's own punctuality. */
#define CL_TICK_MS 50

uint64_t cl_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t bit(uint32_t node)
{
	return 1ull << (node - 1);
}

int cluster_alloc(const struct sipdlg_config *cfg, struct db_ctx *db,
		  struct dlg_table *t, db_dlg_load_fn fn, void *ud,
		  struct cluster **out)
{
	struct cluster *cl = calloc(1, sizeof(*cl));
	const struct cfg_cluster *cc = &cfg->cluster;

	if (!cl)
		return -ENOMEM;
	cl->cfg = cfg;
	cl->cc = cc;
	cl->db = db;
	cl->t = t;
	cl->fn = fn;
	cl->ud = ud;
	cl->last_takeover_ms = -1;
	pthread_mutex_init(&cl->mu, NULL);
	pthread_cond_init(&cl->cv, NULL);
	pthread_cond_init(&cl->rcv, NULL);
	pthread_rwlock_init(&cl->rlock, NULL);
	/* The address other nodes see in cluster status. */
	if (cc->address[0])
		snprintf(cl->address, sizeof(cl->address), "%s", cc->address);
	else if (cfg->advertise[0])
		snprintf(cl->address, sizeof(cl->address), "%s",
			 cfg->advertise);
	else if (cfg->n_listen)
		snprintf(cl->address, sizeof(cl->address), "%s:%u",
			 cfg->listen[0].host, cfg->listen[0].port);
	if (cl_profiles_init(cl)) {
		cluster_free(cl);
		return -ENOMEM;
	}
	*out = cl;
	return 0;
}

static void reserve_id(void *ud, uint32_t he, uint32_t hid)
{
	dlg_reserve_id(ud, he, hid);
}

int cluster_prepare(struct cluster *cl, char *err, size_t errlen)
{
	const struct cfg_cluster *cc = cl->cc;
	struct db_load_filter f = { cc->nodes, 0 };
	int rc;

	rc = db_link_open(cl->db, &cl->link, err, errlen);
	if (rc)
		return rc;
	if (db_nodes_read(cl->link, cl->nodes, CFG_MAX_NODES, &cl->n_nodes))
		goto db_err;
	for (size_t i = 0; i < cl->n_nodes; i++) {
		const struct db_node_row *r = &cl->nodes[i];

		if (r->node_id < 1 || r->node_id > cc->nodes)
			continue;
		if (r->node_id == cc->node_id && r->taken_over_by &&
		    r->taken_over_by != cc->node_id)
			cl->fenced = true;
		if (r->node_id != cc->node_id &&
		    r->taken_over_by == cc->node_id)
			f.mask |= bit(r->node_id);
	}
	if (!cl->fenced)
		f.mask |= bit(cc->node_id);
	if (cl->fenced) {
		/* Our old calls live on the node that took them over: keep
		 * new calls off their ids. */
		if (db_link_max_ids(cl->db, cl->link, cc->nodes,
				    cc->node_id - 1, reserve_id, cl->t))
			goto db_err;
		log_warn("fenced: node %u's dialogs are held by another node "
			 "(cluster status); they are not loaded, this node "
			 "starts with new calls only until cluster handback",
			 cc->node_id);
	}
	cl->serves = f.mask;
	db_set_load_filter(cl->db, &f);
	/* Counts of an earlier life are wrong now; a fresh heartbeat
	 * before anything is loaded, so nobody takes us over meanwhile. */
	if (db_counts_clear(cl->link, cc->node_id) ||
	    db_node_heartbeat(cl->link, cc->node_id, cl->address,
			      cl->fenced ? "fenced" : "up"))
		goto db_err;
	cl->db_ok = true;
	return 0;
db_err:
	snprintf(err, errlen, "cluster tables: %s", db_link_error(cl->link));
	db_link_close(cl->link);
	cl->link = NULL;
	return -EIO;
}

/* ---- takeover and handback (the thread) ------------------------------- */

/* With @alive_ms: is @node's heartbeat younger than that now?  Read from
 * the database at once, not the last heartbeat round's copy: that copy
 * may be a round (or a stalled round) old, and a hook asking right after
 * the node died would see it alive.  A node whose dialogs we hold
 * already counts as not alive (asking again loads nothing twice). */
static int node_alive(struct cluster *cl, uint32_t node, uint32_t alive_ms,
		      char *msg, size_t msglen)
{
	struct db_node_row rows[CFG_MAX_NODES];
	size_t n = 0;

	if (db_nodes_read(cl->link, rows, CFG_MAX_NODES, &n)) {
		snprintf(msg, msglen, "reading sipdlg_nodes: %s",
			 db_link_error(cl->link));
		return -EIO;
	}
	for (size_t i = 0; i < n; i++) {
		const struct db_node_row *r = &rows[i];

		/* a negative age (another box's clock ahead) is fresh */
		if (r->node_id != node || r->taken_over_by == cl->cc->node_id ||
		    r->age_ms >= (int64_t)alive_ms)
			continue;
		snprintf(msg, msglen, "node %u is up (heartbeat %lld ms old, "
			 "younger than %u ms): not taken over", node,
			 (long long)r->age_ms, alive_ms);
		return -EALREADY;
	}
	return 0;
}

static int do_takeover(struct cluster *cl, uint32_t node, uint32_t alive_ms,
		       char *msg, size_t msglen, uint64_t *loaded)
{
	const struct cfg_cluster *cc = cl->cc;
	struct db_load_filter f = { cc->nodes, bit(node) };
	struct db_load_result res;
	uint32_t holder;
	char err[512];
	bool won;
	int rc;

	if (node < 1 || node > cc->nodes || node == cc->node_id) {
		snprintf(msg, msglen, "node %u: not another node of this "
			 "cluster (1..%u, this is %u)", node, cc->nodes,
			 cc->node_id);
		return -EINVAL;
	}
	if (alive_ms && (rc = node_alive(cl, node, alive_ms, msg, msglen)))
		return rc;
	if (db_node_claim(cl->link, node, cc->node_id, &won, &holder)) {
		snprintf(msg, msglen, "claiming node %u: %s", node,
			 db_link_error(cl->link));
		return -EIO;
	}
	if (!won) {
		snprintf(msg, msglen, "node %u's dialogs are held by node %u "
			 "(hand them back there first)", node, holder);
		return -EBUSY;
	}
	rc = db_link_load(cl->db, cl->link, cl->t, cl->fn, cl->ud, &f, &res,
			  err, sizeof(err));
	pthread_mutex_lock(&cl->mu);
	cl->serves |= bit(node);
	pthread_mutex_unlock(&cl->mu);
	if (rc) {
		snprintf(msg, msglen, "node %u claimed, but loading its "
			 "dialogs failed: %s", node, err);
		return -EIO;
	}
	*loaded = res.loaded;
	snprintf(msg, msglen, "node %u taken over: %llu dialogs loaded "
		 "(%llu rows, %llu skipped, %llu variables)", node,
		 (unsigned long long)res.loaded, (unsigned long long)res.rows,
		 (unsigned long long)res.skipped,
		 (unsigned long long)res.vars);
	log_notice("%s", msg);
	cl_profiles_publish(cl, true);
	return 0;
}

/* The dialogs of @node's residue leave memory and the kernel without
 * ending: no BYE, no row deleted (the owner loads them). */
static uint64_t unload_node(struct cluster *cl, uint32_t node)
{
	struct dlg_cursor cur = { 0, 0, false };
	struct dlg_cell *cells[256];
	uint32_t nodes = cl->cc->nodes;
	uint64_t n_out = 0;
	size_t n;

	while (!cur.done) {
		n = dlg_cursor_next(cl->t, &cur, cells, 256);
		for (size_t i = 0; i < n; i++) {
			if (dlg_h_id(cells[i]) % nodes == node - 1) {
				dlg_db_row_mark(cells[i], false);
				dlg_discard(cells[i]);
				n_out++;
			}
			dlg_unref(cells[i]);
		}
	}
	return n_out;
}

static int do_handback(struct cluster *cl, uint32_t node, char *msg,
		       size_t msglen, uint64_t *unloaded)
{
	const struct cfg_cluster *cc = cl->cc;
	struct db_node_row rows[CFG_MAX_NODES];
	const struct db_node_row *r = NULL;
	size_t n = 0;
	bool held;

	pthread_mutex_lock(&cl->mu);
	held = node >= 1 && node <= cc->nodes && node != cc->node_id &&
	       (cl->serves & bit(node));
	pthread_mutex_unlock(&cl->mu);
	if (!held) {
		snprintf(msg, msglen, "node %u's dialogs are not held by this "
			 "node (%u)", node, cc->node_id);
		return -EINVAL;
	}
	/* The owner's heartbeat as the database has it now. */
	if (db_nodes_read(cl->link, rows, CFG_MAX_NODES, &n)) {
		snprintf(msg, msglen, "reading sipdlg_nodes: %s",
			 db_link_error(cl->link));
		return -EIO;
	}
	for (size_t i = 0; i < n; i++)
		if (rows[i].node_id == node)
			r = &rows[i];
	if (!r || r->age_ms > (int64_t)cc->takeover_after * 1000) {
		snprintf(msg, msglen, "node %u is not up (no fresh heartbeat): "
			 "nobody would serve its dialogs; start it first",
			 node);
		return -EAGAIN;
	}
	/* Our pending writes of its dialogs first: the owner loads rows. */
	db_flush_wait(cl->db, 5000);
	*unloaded = unload_node(cl, node);
	if (db_node_release(cl->link, node, cc->node_id)) {
		snprintf(msg, msglen, "releasing node %u: %s", node,
			 db_link_error(cl->link));
		return -EIO;
	}
	pthread_mutex_lock(&cl->mu);
	cl->serves &= ~bit(node);
	pthread_mutex_unlock(&cl->mu);
	snprintf(msg, msglen, "node %u handed back: %llu dialogs unloaded "
		 "(not ended); node %u loads them at its next heartbeat", node,
		 (unsigned long long)*unloaded, node);
	log_notice("%s", msg);
	cl_profiles_publish(cl, true);
	return 0;
}

/* Fenced and our row released: load our own rows now. */
static void unfence(struct cluster *cl)
{
	const struct cfg_cluster *cc = cl->cc;
	struct db_load_filter f = { cc->nodes, bit(cc->node_id) };
	struct db_load_result res;
	char err[512];

	if (db_link_load(cl->db, cl->link, cl->t, cl->fn, cl->ud, &f, &res,
			 err, sizeof(err))) {
		log_err("handback: loading our dialogs failed: %s (next "
			"heartbeat tries again)", err);
		return;
	}
	pthread_mutex_lock(&cl->mu);
	cl->fenced = false;
	cl->serves |= bit(cc->node_id);
	pthread_mutex_unlock(&cl->mu);
	log_notice("handback: our dialogs are ours again: %llu loaded "
		   "(%llu rows, %llu already here)",
		   (unsigned long long)res.loaded,
		   (unsigned long long)res.rows,
		   (unsigned long long)res.skipped);
}

/* ---- the heartbeat ------------------------------------------------------ */

static void heartbeat(struct cluster *cl)
{
	const struct cfg_cluster *cc = cl->cc;
	struct db_node_row rows[CFG_MAX_NODES];
	uint32_t due[CFG_MAX_NODES];
	size_t n = 0, n_due = 0;
	bool fenced, released = false, taken = false;

	uint64_t hb_ms = (uint64_t)cc->heartbeat_interval * 1000;
	uint64_t hb_t0 = cl_mono_ms(), t1;
	bool steady;

	pthread_mutex_lock(&cl->mu);
	fenced = cl->fenced;
	pthread_mutex_unlock(&cl->mu);
	if (db_node_heartbeat(cl->link, cc->node_id, cl->address,
			      fenced ? "fenced" : "up") ||
	    db_nodes_read(cl->link, rows, CFG_MAX_NODES, &n)) {
		if (cl->db_ok)
			log_err("cluster heartbeat: %s",
				db_link_error(cl->link));
		cl->db_ok = false;
		db_link_close(cl->link);
		cl->link = NULL;
		return;
	}
	if (!cl->db_ok)
		log_notice("cluster heartbeat written again");
	cl->db_ok = true;
	/* Our own round trips were on time: the one before came at most
	 * two intervals ago and this one took less than an interval.  When
	 * they were late too (Galera's flow control, an applier behind, a
	 * starved machine), another node's old heartbeat is more likely the
	 * same stall than a death: taking a live node over would answer its
	 * calls twice and make it fence itself, so wait for a round on time. */
	t1 = cl_mono_ms();
	steady = cl->hb_ok_ms && t1 - cl->hb_ok_ms <= 2 * hb_ms + CL_TICK_MS &&
		 t1 - hb_t0 < hb_ms;
	if (!steady && cl->hb_ok_ms)
		log_notice("cluster heartbeat late (%llu ms since the last one, "
			 "this one took %llu ms): no automatic takeover this "
			 "round", (unsigned long long)(t1 - cl->hb_ok_ms),
			 (unsigned long long)(t1 - hb_t0));
	cl->hb_ok_ms = t1;
	for (size_t i = 0; i < n; i++) {
		const struct db_node_row *r = &rows[i];

		if (r->node_id == cc->node_id && fenced && !r->taken_over_by)
			released = true;
		if (r->node_id == cc->node_id && !fenced && r->taken_over_by &&
		    r->taken_over_by != cc->node_id)
			taken = true;
		if (r->node_id == cc->node_id || r->taken_over_by ||
		    r->age_ms <= (int64_t)cc->takeover_after * 1000 ||
		    !steady)
			continue;
		for (size_t j = 0; j < cc->n_backup_of; j++)
			if (cc->backup_of[j] == r->node_id)
				due[n_due++] = r->node_id;
	}
	pthread_mutex_lock(&cl->mu);
	memcpy(cl->nodes, rows, n * sizeof(rows[0]));
	cl->n_nodes = n;
	pthread_mutex_unlock(&cl->mu);
	if (released)
		unfence(cl);
	if (taken) {
		/* Taken over while alive (the address moved away, a person
		 * ran cluster takeover): the taker serves our dialogs now;
		 * serving them here too would answer every request twice. */
		uint64_t n_out = unload_node(cl, cc->node_id);

		pthread_mutex_lock(&cl->mu);
		cl->fenced = true;
		cl->serves &= ~bit(cc->node_id);
		pthread_mutex_unlock(&cl->mu);
		log_warn("fenced: another node took our dialogs over while we "
			 "ran; %llu dialogs unloaded here (not ended); new "
			 "calls only until cluster handback",
			 (unsigned long long)n_out);
	}
	for (size_t i = 0; i < n_due; i++) {
		uint64_t t0 = cl_mono_ms(), loaded = 0;
		char msg[640];

		log_warn("node %u: no heartbeat for more than %u s: taking "
			 "its dialogs over (backup_of)", due[i],
			 cc->takeover_after);
		if (do_takeover(cl, due[i], 0, msg, sizeof(msg), &loaded) == 0) {
			pthread_mutex_lock(&cl->mu);
			cl->takeovers++;
			cl->last_takeover_ms = (int64_t)(cl_mono_ms() - t0);
			pthread_mutex_unlock(&cl->mu);
		} else {
			log_err("automatic takeover: %s", msg);
		}
	}
}

static void serve_request(struct cluster *cl)
{
	enum cl_req kind;
	uint32_t node, alive_ms;
	uint64_t seq, t0 = cl_mono_ms(), count = 0;
	char msg[640] = "";
	int rc;

	pthread_mutex_lock(&cl->mu);
	kind = cl->req;
	node = cl->req_node;
	alive_ms = cl->req_alive_ms;
	seq = cl->req_seq;
	pthread_mutex_unlock(&cl->mu);
	if (kind == CL_REQ_NONE)
		return;
	if (!cl->link) {
		rc = -ENOTCONN;
		snprintf(msg, sizeof(msg), "the cluster's database connection "
			 "is down");
	} else if (kind == CL_REQ_TAKEOVER) {
		rc = do_takeover(cl, node, alive_ms, msg, sizeof(msg), &count);
	} else {
		rc = do_handback(cl, node, msg, sizeof(msg), &count);
	}
	pthread_mutex_lock(&cl->mu);
	if (kind == CL_REQ_TAKEOVER && rc == 0) {
		cl->takeovers++;
		cl->last_takeover_ms = (int64_t)(cl_mono_ms() - t0);
	}
	cl->req = CL_REQ_NONE;
	cl->req_rc = rc;
	snprintf(cl->req_msg, sizeof(cl->req_msg), "%s", msg);
	cl->req_loaded = count;
	cl->req_ms = cl_mono_ms() - t0;
	cl->done_seq = seq;
	pthread_cond_broadcast(&cl->cv);
	pthread_mutex_unlock(&cl->mu);
}

static void *cl_thread(void *arg)
{
	struct cluster *cl = arg;
	uint64_t hb_ms = (uint64_t)cl->cc->heartbeat_interval * 1000;
	uint64_t next_hb = cl_mono_ms() + hb_ms;
	uint64_t tick_ms = cl->n_profs ? CL_CHECK_MS : CL_TICK_MS;
	uint64_t next_tick = cl_mono_ms() + tick_ms;

	for (;;) {
		struct timespec dl;
		uint64_t now = cl_mono_ms(), wait_ms;

		wait_ms = next_tick > now ? next_tick - now : 0;
		pthread_mutex_lock(&cl->mu);
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += (time_t)(wait_ms / 1000);
		dl.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
		while (!cl->stop && cl->req == CL_REQ_NONE &&
		       pthread_cond_timedwait(&cl->cv, &cl->mu, &dl) == 0)
			;
		if (cl->stop) {
			pthread_mutex_unlock(&cl->mu);
			break;
		}
		pthread_mutex_unlock(&cl->mu);
		if (!cl->link) {
			char err[512];

			if (cl_mono_ms() < next_hb) {
				serve_request(cl);
				continue;
			}
			if (db_link_open(cl->db, &cl->link, err, sizeof(err))) {
				next_hb = cl_mono_ms() + hb_ms;
				serve_request(cl);
				continue;
			}
		}
		serve_request(cl);
		now = cl_mono_ms();
		if (now >= next_hb) {
			next_hb = now + hb_ms;
			heartbeat(cl);
		}
		now = cl_mono_ms();
		if (now < next_tick)
			continue;	/* woken by a request */
		/* The next tick on the cadence; when this one ran late by
		 * more than a tick, from now. */
		next_tick += tick_ms;
		if (next_tick <= now)
			next_tick = now + tick_ms;
		if (cl->link && cl->n_profs &&
		    now - cl->published_ms >= CL_PUBLISH_MS &&
		    cl_profiles_changed(cl))
			cl_profiles_publish(cl, false);
	}
	if (cl->link)
		db_node_heartbeat(cl->link, cl->cc->node_id, cl->address,
				  "stopped");
	return NULL;
}

int cluster_start(struct cluster *cl, struct ctl_server *ctl)
{
	int rc = cl_rpc_register(cl, ctl);

	if (rc)
		return rc;
	rc = pthread_create(&cl->th, NULL, cl_thread, cl);
	if (rc)
		return -rc;
	cl->running = true;
	rc = cl_profiles_start(cl);
	if (rc)
		return rc;
	log_notice("cluster node %u of %u (%s): serving the dialogs of "
		   "node(s) with residues 0x%llx%s", cl->cc->node_id,
		   cl->cc->nodes, cl->address, (unsigned long long)cl->serves,
		   cl->fenced ? ", fenced" : "");
	return 0;
}

void cluster_free(struct cluster *cl)
{
	if (!cl)
		return;
	cl_profiles_stop(cl);
	if (cl->running) {
		pthread_mutex_lock(&cl->mu);
		cl->stop = true;
		pthread_cond_broadcast(&cl->cv);
		pthread_mutex_unlock(&cl->mu);
		pthread_join(cl->th, NULL);
	}
	db_link_close(cl->link);
	cl_profiles_free(cl);
	pthread_mutex_destroy(&cl->mu);
	pthread_cond_destroy(&cl->cv);
	pthread_cond_destroy(&cl->rcv);
	pthread_rwlock_destroy(&cl->rlock);
	free(cl);
}
