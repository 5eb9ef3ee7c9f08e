/*
 * cl_profiles.c - cluster-wide profiles (cluster.profiles).
 *
 * Each node publishes its own per-value counts of those profiles to
 * sipdlg_profile_counts when they changed (only the values that changed,
 * by primary key), at most every 100 ms: the cluster thread looks at the
 * profiles' generation every 10 ms, so a change after a quiet spell goes
 * out at once and a steady stream of changes every 100 ms.  A reader
 * thread of its own, on a connection of its own, reads back the sum of
 * the other nodes' counts whose heartbeat is younger than takeover_after
 * every 50 ms; dlg_profile_size (routes, RPC) adds that cached sum to its
 * own live count.  The reader never waits behind the cluster thread's
 * writes (a heartbeat or publish COMMIT that Galera's flow control holds,
 * a takeover loading thousands of rows).
 *
 * Staleness of a remote count: the publisher's rate limit (<= 100 ms) +
 * its check (<= 10 ms) + its COMMIT (certification and replication) +
 * the apply on the reader's Galera node + the reader's tick (<= 50 ms) +
 * its query: about 160 ms plus the database's latencies, which are a few
 * ms on an idle cluster and grow without bound under Galera flow control
 * (measured by `make bench-cluster`, tools/bench/results/
 * LATEST-cluster.md).  A dead node's counts stop counting once its
 * heartbeat is older than takeover_after, and are deleted when it is
 * taken over: its dialogs then count in the taker's own counts.
 */
#define LOG_TAG "cluster"
#include "cluster/cl_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "dialog/dlg.h"

static int cnt_cmp(const void *a, const void *b)
{
	const struct cl_count *x = a, *y = b;

	if (x->prof != y->prof)
		return x->prof < y->prof ? -1 : 1;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return strcmp(x->value, y->value);
}

static size_t prof_index(const struct cluster *cl, const struct dlg_profile *p)
{
	for (size_t i = 0; i < cl->n_profs; i++)
		if (cl->profs[i].p == p)
			return i;
	return SIZE_MAX;
}

/* dlg_profile_size's hook: the others' count from the cache. */
static uint64_t remote_size(void *ud, const struct dlg_profile *p,
			    struct sip_str value)
{
	struct cluster *cl = ud;
	size_t pi = prof_index(cl, p);
	uint64_t n = 0;

	if (pi == SIZE_MAX)
		return 0;
	pthread_rwlock_rdlock(&cl->rlock);
	if (!dlg_profile_has_value(p) || !value.p) {
		n = cl->rc_total ? cl->rc_total[pi] : 0;
	} else {
		char buf[256];
		struct cl_count key;
		struct cl_count *hit;

		if (value.len < sizeof(buf)) {
			memcpy(buf, value.p, value.len);
			buf[value.len] = '\0';
			key.prof = (uint32_t)pi;
			key.hash = dlg_core_hash(buf, value.len);
			key.value = buf;
			hit = cl->n_rc ? bsearch(&key, cl->rc, cl->n_rc,
						 sizeof(*cl->rc), cnt_cmp) :
					 NULL;
			n = hit ? hit->count : 0;
		}
	}
	pthread_rwlock_unlock(&cl->rlock);
	return n;
}

int cl_profiles_init(struct cluster *cl)
{
	const struct cfg_cluster *cc = cl->cc;

	for (size_t i = 0; i < cc->n_profiles; i++) {
		struct dlg_profile *p =
			dlg_profile_lookup(cl->t, sip_str_c(cc->profiles[i]));

		if (!p)
			continue;	/* the config checked the names */
		cl->profs[cl->n_profs].p = p;
		cl->n_profs++;
		dlg_profile_set_remote(p, remote_size, cl);
	}
	cl->rc_total = calloc(cl->n_profs ? cl->n_profs : 1,
			      sizeof(*cl->rc_total));
	return cl->rc_total ? 0 : -ENOMEM;
}

static void rc_free(struct cl_count *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].value);
	free(v);
}

static void counts_free(struct db_count *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)v[i].value);
	free(v);
}

void cl_profiles_free(struct cluster *cl)
{
	for (size_t i = 0; i < cl->n_profs; i++) {
		dlg_profile_set_remote(cl->profs[i].p, NULL, NULL);
		counts_free(cl->profs[i].pub, cl->profs[i].n_pub);
	}
	rc_free(cl->rc, cl->n_rc);
	free(cl->rc_total);
}

/* ---- publish ------------------------------------------------------------ */

struct snap {
	struct db_count *v;
	size_t n, cap;
	bool oom;
};

static void snap_add(void *ud, const char *value, uint32_t count)
{
	struct snap *s = ud;

	if (s->oom || !count)
		return;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		struct db_count *nv = realloc(s->v, nc * sizeof(*nv));

		if (!nv) {
			s->oom = true;
			return;
		}
		s->v = nv;
		s->cap = nc;
	}
	s->v[s->n].value = strdup(value);
	s->v[s->n].count = count;
	if (!s->v[s->n].value) {
		s->oom = true;
		return;
	}
	s->n++;
}

static int count_cmp(const void *a, const void *b)
{
	return strcmp(((const struct db_count *)a)->value,
		      ((const struct db_count *)b)->value);
}

/* The rows that differ between what the table holds (cp->pub) and @s,
 * both sorted by value, written by primary key. */
static int publish_diff(struct cluster *cl, struct cl_prof *cp,
			const struct snap *s)
{
	struct db_count *up = malloc((s->n + 1) * sizeof(*up));
	const char **gone = malloc((cp->n_pub + 1) * sizeof(*gone));
	size_t i = 0, j = 0, n_up = 0, n_gone = 0;
	int rc = -ENOMEM;

	if (!up || !gone)
		goto out;
	while (i < s->n || j < cp->n_pub) {
		int c = i == s->n ? 1 : j == cp->n_pub ? -1 :
			strcmp(s->v[i].value, cp->pub[j].value);

		if (c < 0) {
			up[n_up++] = s->v[i++];
		} else if (c > 0) {
			gone[n_gone++] = cp->pub[j++].value;
		} else {
			if (s->v[i].count != cp->pub[j].count)
				up[n_up++] = s->v[i];
			i++;
			j++;
		}
	}
	rc = db_counts_update(cl->link, cl->cc->node_id,
			      dlg_profile_name(cp->p), up, n_up, gone, n_gone);
out:
	free(up);
	free(gone);
	return rc;
}

static void publish(struct cluster *cl, struct cl_prof *cp, bool force)
{
	struct snap s = { 0 };
	uint64_t gen = dlg_profile_gen(cp->p);
	int rc;

	if (cp->published && gen == cp->published_gen && !force)
		return;
	gen = dlg_profile_counts(cp->p, snap_add, &s);
	if (s.oom) {
		counts_free(s.v, s.n);
		return;
	}
	if (s.n)
		qsort(s.v, s.n, sizeof(*s.v), count_cmp);
	/* The first time, and when told (takeover, handback), the whole
	 * set; then only what changed. */
	if (!cp->published || force)
		rc = db_counts_publish(cl->link, cl->cc->node_id,
				       dlg_profile_name(cp->p), s.v, s.n);
	else
		rc = publish_diff(cl, cp, &s);
	if (rc == 0) {
		counts_free(cp->pub, cp->n_pub);
		cp->pub = s.v;
		cp->n_pub = s.n;
		cp->published = true;
		cp->published_gen = gen;
		return;
	}
	log_warn("publishing the counts of profile '%s': %s",
		 dlg_profile_name(cp->p), db_link_error(cl->link));
	/* The table may not hold cp->pub now: the whole set next time. */
	cp->published = false;
	counts_free(s.v, s.n);
}

/* ---- read ---------------------------------------------------------------- */

struct rd {
	struct cluster *cl;
	struct cl_count *v;
	size_t n, cap;
	uint64_t *total;
	bool oom;
};

static void rd_add(void *ud, const char *profile, const char *value,
		   uint64_t count)
{
	struct rd *r = ud;
	size_t pi = SIZE_MAX;

	for (size_t i = 0; i < r->cl->n_profs; i++)
		if (!strcmp(dlg_profile_name(r->cl->profs[i].p), profile))
			pi = i;
	if (pi == SIZE_MAX || r->oom)
		return;
	r->total[pi] += count;
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 64;
		struct cl_count *nv = realloc(r->v, nc * sizeof(*nv));

		if (!nv) {
			r->oom = true;
			return;
		}
		r->v = nv;
		r->cap = nc;
	}
	r->v[r->n] = (struct cl_count){ (uint32_t)pi,
					dlg_core_hash(value, strlen(value)),
					count, strdup(value) };
	if (!r->v[r->n].value) {
		r->oom = true;
		return;
	}
	r->n++;
}

void cl_profiles_publish(struct cluster *cl, bool force)
{
	if (!cl->n_profs || !cl->link)
		return;
	for (size_t i = 0; i < cl->n_profs; i++)
		publish(cl, &cl->profs[i], force);
	cl->published_ms = cl_mono_ms();
}

bool cl_profiles_changed(struct cluster *cl)
{
	for (size_t i = 0; i < cl->n_profs; i++) {
		const struct cl_prof *cp = &cl->profs[i];

		if (!cp->published || dlg_profile_gen(cp->p) != cp->published_gen)
			return true;
	}
	return false;
}

/* The other nodes' counts into the cache.  0 or -EIO. */
static int read_counts(struct cluster *cl, struct db_link *l)
{
	struct rd r = { .cl = cl };
	struct cl_count *old;
	size_t n_old;

	r.total = calloc(cl->n_profs, sizeof(*r.total));
	if (!r.total)
		return 0;	/* try again next tick */
	if (db_counts_read(l, cl->cc->node_id, cl->cc->takeover_after * 1000u,
			   rd_add, &r) || r.oom) {
		bool oom = r.oom;

		rc_free(r.v, r.n);
		free(r.total);
		return oom ? 0 : -EIO;
	}
	if (r.n)
		qsort(r.v, r.n, sizeof(*r.v), cnt_cmp);
	pthread_rwlock_wrlock(&cl->rlock);
	old = cl->rc;
	n_old = cl->n_rc;
	cl->rc = r.v;
	cl->n_rc = r.n;
	memcpy(cl->rc_total, r.total, cl->n_profs * sizeof(*r.total));
	cl->counts_read_ms = (int64_t)cl_mono_ms();
	pthread_rwlock_unlock(&cl->rlock);
	rc_free(old, n_old);
	free(r.total);
	return 0;
}

/* ---- the reader thread --------------------------------------------------- */

/* Wait until @until_ms (monotonic) or the stop; true if stopping. */
static bool reader_wait(struct cluster *cl, uint64_t until_ms)
{
	uint64_t now = cl_mono_ms(), ms = until_ms > now ? until_ms - now : 0;
	struct timespec dl;
	bool stop;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += (time_t)(ms / 1000);
	dl.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&cl->mu);
	while (!cl->rstop &&
	       pthread_cond_timedwait(&cl->rcv, &cl->mu, &dl) == 0)
		;
	stop = cl->rstop;
	pthread_mutex_unlock(&cl->mu);
	return stop;
}

static void *reader(void *arg)
{
	struct cluster *cl = arg;
	uint64_t next = cl_mono_ms(), retry_at = 0;
	struct db_link *l = NULL;
	bool down_logged = false;
	char err[512];

	while (!reader_wait(cl, next)) {
		uint64_t now = cl_mono_ms();

		/* On the cadence; from now when this read came late. */
		next += CL_READ_MS;
		if (next <= now)
			next = now + CL_READ_MS;
		if (!l) {
			if (now < retry_at)
				continue;
			if (db_link_open(cl->db, &l, err, sizeof(err))) {
				if (!down_logged)
					log_warn("reading the other nodes' "
						 "profile counts: %s (retried "
						 "every second)", err);
				down_logged = true;
				retry_at = now + 1000;
				continue;
			}
			if (down_logged)
				log_notice("reading the other nodes' profile "
					   "counts again");
			down_logged = false;
		}
		if (read_counts(cl, l)) {
			if (!down_logged)
				log_warn("reading the other nodes' profile "
					 "counts: %s (retried every second)",
					 db_link_error(l));
			down_logged = true;
			db_link_close(l);
			l = NULL;
			retry_at = now + 1000;
		}
	}
	db_link_close(l);
	return NULL;
}

int cl_profiles_start(struct cluster *cl)
{
	int rc;

	if (!cl->n_profs)
		return 0;
	rc = pthread_create(&cl->rth, NULL, reader, cl);
	if (rc)
		return -rc;
	cl->rrunning = true;
	return 0;
}

void cl_profiles_stop(struct cluster *cl)
{
	if (!cl->rrunning)
		return;
	pthread_mutex_lock(&cl->mu);
	cl->rstop = true;
	pthread_cond_broadcast(&cl->rcv);
	pthread_mutex_unlock(&cl->mu);
	pthread_join(cl->rth, NULL);
	cl->rrunning = false;
}
