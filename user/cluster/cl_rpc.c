/*
 * cl_rpc.c - cluster.status, cluster.takeover NODE, cluster.handback NODE.
 * Takeover and handback run on the cluster thread (its connection); the
 * handler waits for the answer (at most 60 s).
 */
#define LOG_TAG "cluster"
#include "cluster/cl_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "control/ctl_server.h"
#include "dialog/dlg.h"

#define CL_RPC_WAIT_S 60

int cl_request(struct cluster *cl, enum cl_req kind, uint32_t node,
	       uint32_t alive_ms, char *msg, size_t msglen, uint64_t *loaded,
	       uint64_t *ms)
{
	struct timespec dl;
	uint64_t seq;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += CL_RPC_WAIT_S;
	pthread_mutex_lock(&cl->mu);
	while (cl->req != CL_REQ_NONE && rc == 0)	/* one at a time */
		rc = pthread_cond_timedwait(&cl->cv, &cl->mu, &dl);
	if (rc) {
		pthread_mutex_unlock(&cl->mu);
		snprintf(msg, msglen, "the cluster thread is busy");
		return -ETIMEDOUT;
	}
	seq = ++cl->req_seq;
	cl->req = kind;
	cl->req_node = node;
	cl->req_alive_ms = alive_ms;
	pthread_cond_broadcast(&cl->cv);
	while (cl->done_seq < seq && rc == 0)
		rc = pthread_cond_timedwait(&cl->cv, &cl->mu, &dl);
	if (cl->done_seq < seq) {
		pthread_mutex_unlock(&cl->mu);
		snprintf(msg, msglen, "no answer from the cluster thread "
			 "within %d s", CL_RPC_WAIT_S);
		return -ETIMEDOUT;
	}
	rc = cl->req_rc;
	snprintf(msg, msglen, "%s", cl->req_msg);
	*loaded = cl->req_loaded;
	*ms = cl->req_ms;
	pthread_mutex_unlock(&cl->mu);
	return rc;
}

/* A JSON integer or a decimal string within [min, max]. */
static bool uint_value(json_t *v, uint32_t min, uint32_t max, uint32_t *out)
{
	if (json_is_string(v)) {
		const char *t = json_string_value(v);
		char *end;
		unsigned long x = strtoul(t, &end, 10);

		if (*t && *t != '-' && !*end && x >= min && x <= max) {
			*out = (uint32_t)x;
			return true;
		}
	} else if (json_is_integer(v) && json_integer_value(v) >= min &&
		   json_integer_value(v) <= max) {
		*out = (uint32_t)json_integer_value(v);
		return true;
	}
	return false;
}

/* [NODE] or {"node": NODE}; a takeover also [NODE, ALIVE_MS] or
 * {"node": NODE, "unless_alive_ms": ALIVE_MS}. */
static int move_params(json_t *params, enum cl_req kind, uint32_t *node,
		       uint32_t *alive_ms, struct ctl_error *err)
{
	json_t *v = NULL, *a = NULL;
	bool two = kind == CL_REQ_TAKEOVER;

	if (json_is_array(params) && (json_array_size(params) == 1 ||
				      (two && json_array_size(params) == 2))) {
		v = json_array_get(params, 0);
		a = json_array_get(params, 1);
	} else if (json_is_object(params)) {
		v = json_object_get(params, "node");
		a = two ? json_object_get(params, "unless_alive_ms") : NULL;
		if (json_object_size(params) != 1u + (a != NULL))
			v = NULL;
	}
	*alive_ms = 0;
	if (!uint_value(v, 1, 64, node))
		return ctl_error_set(err, -32602, two ?
				     "expected a node id (1..64) and "
				     "optionally unless_alive_ms "
				     "(0..3600000)" :
				     "expected one parameter: a node id "
				     "(1..64)");
	if (a && !uint_value(a, 0, 3600000, alive_ms))
		return ctl_error_set(err, -32602, "unless_alive_ms must be "
				     "0..3600000 milliseconds");
	return 0;
}

static int rpc_move(struct cluster *cl, enum cl_req kind, json_t *params,
		    json_t **result, struct ctl_error *err)
{
	uint32_t node = 0, alive_ms = 0;
	uint64_t count = 0, ms = 0;
	char msg[640];
	int rc;

	if (move_params(params, kind, &node, &alive_ms, err))
		return -1;
	rc = cl_request(cl, kind, node, alive_ms, msg, sizeof(msg), &count,
			&ms);
	if (rc)
		return ctl_error_set(err, rc == -EINVAL ? -32602 :
				     rc == -EALREADY ? 409 : 500, "%s", msg);
	*result = json_pack("{s:i,s:I,s:I,s:s}", "node", (int)node,
			    kind == CL_REQ_TAKEOVER ? "loaded" : "unloaded",
			    (json_int_t)count, "ms", (json_int_t)ms,
			    "message", msg);
	return 0;
}

static int rpc_takeover(void *ud, json_t *params, json_t **result,
			struct ctl_error *err)
{
	return rpc_move(ud, CL_REQ_TAKEOVER, params, result, err);
}

static int rpc_handback(void *ud, json_t *params, json_t **result,
			struct ctl_error *err)
{
	return rpc_move(ud, CL_REQ_HANDBACK, params, result, err);
}

static int rpc_status(void *ud, json_t *params, json_t **result,
		      struct ctl_error *err)
{
	struct cluster *cl = ud;
	const struct cfg_cluster *cc = cl->cc;
	json_t *nodes = json_array(), *serves = json_array();
	json_t *profs = json_object();
	int64_t age;

	pthread_mutex_lock(&cl->mu);
	for (uint32_t n = 1; n <= cc->nodes; n++)
		if (cl->serves & (1ull << (n - 1)))
			json_array_append_new(serves, json_integer(n));
	for (size_t i = 0; i < cl->n_nodes; i++) {
		const struct db_node_row *r = &cl->nodes[i];
		bool fresh = r->age_ms <= (int64_t)cc->takeover_after * 1000;

		json_array_append_new(nodes, json_pack(
			"{s:i,s:s,s:I,s:b,s:i,s:i,s:s}", "node_id",
			(int)r->node_id, "address", r->address,
			"heartbeat_age_ms", (json_int_t)r->age_ms, "alive",
			(int)fresh, "taken_over_by", (int)r->taken_over_by,
			"owner", (int)(r->taken_over_by ? r->taken_over_by :
							  r->node_id),
			"state", r->state));
	}
	*result = json_pack("{s:i,s:i,s:s,s:b,s:b,s:o,s:o,s:I,s:I}",
			    "node_id", (int)cc->node_id, "nodes",
			    (int)cc->nodes, "address", cl->address, "fenced",
			    (int)cl->fenced, "database", (int)cl->db_ok,
			    "serves", serves, "members", nodes, "takeovers",
			    (json_int_t)cl->takeovers, "last_takeover_ms",
			    (json_int_t)cl->last_takeover_ms);
	pthread_mutex_unlock(&cl->mu);
	pthread_rwlock_rdlock(&cl->rlock);
	age = cl->counts_read_ms ? (int64_t)cl_mono_ms() -
					   cl->counts_read_ms : -1;
	for (size_t i = 0; i < cl->n_profs; i++)
		json_object_set_new(profs, dlg_profile_name(cl->profs[i].p),
				    json_pack("{s:I,s:I}", "local",
					      (json_int_t)dlg_profile_size_local(
						      cl->profs[i].p,
						      SIP_STR_NULL),
					      "others",
					      (json_int_t)cl->rc_total[i]));
	pthread_rwlock_unlock(&cl->rlock);
	json_object_set_new(*result, "profiles", profs);
	json_object_set_new(*result, "counts_age_ms", json_integer(age));
	return 0;
}

int cl_rpc_register(struct cluster *cl, struct ctl_server *ctl)
{
	int rc = ctl_register(ctl, "cluster.status", rpc_status, cl);

	if (!rc)
		rc = ctl_register(ctl, "cluster.takeover", rpc_takeover, cl);
	if (!rc)
		rc = ctl_register(ctl, "cluster.handback", rpc_handback, cl);
	return rc;
}
