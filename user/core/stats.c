/*
 * stats.c - the statistics registry.
 *
 * Each statistic is its own heap block (its address is what callers keep,
 * so it never moves) holding an atomic 64-bit counter: stat_add() is one
 * relaxed atomic add, no lock.  The registry's shape (the list of pointers,
 * in registration order) is guarded by a read-write lock, taken for reading
 * by lookups and iteration and for writing only by stats_register().
 *
 * A selector, as taken by stats_foreach() and stats_reset(), is one of:
 *   NULL or "all"   every statistic
 *   "group"         every statistic of the group ("group:" too)
 *   "group:name"    that statistic
 *   "name"          the statistic of that name in any group, when no group
 *                   has that name (Kamailio's get_statistics accepts both)
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/stats.h"

#define STAT_GROUP_MAX 32
#define STAT_NAME_MAX 64

struct stat_var {
	_Atomic int64_t value;
	unsigned flags;
	char group[STAT_GROUP_MAX];
	char name[STAT_NAME_MAX];
};

struct stats {
	pthread_rwlock_t lock;
	struct stat_var **vars;
	size_t n, cap;
	void (*refresh)(void *ud);	/* stats_set_refresh */
	void *refresh_ud;
};

struct stats *stats_alloc(void)
{
	struct stats *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	if (pthread_rwlock_init(&st->lock, NULL) != 0) {
		free(st);
		return NULL;
	}
	return st;
}

void stats_free(struct stats *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++)
		free(st->vars[i]);
	free(st->vars);
	pthread_rwlock_destroy(&st->lock);
	free(st);
}

static bool stat_name_ok(const char *s, size_t max)
{
	size_t len;

	if (!s)
		return false;
	len = strlen(s);
	return len > 0 && len < max && !strchr(s, ':');
}

/* Caller holds the lock. */
static struct stat_var *stats_lookup(const struct stats *st, const char *group,
				     size_t glen, const char *name)
{
	for (size_t i = 0; i < st->n; i++) {
		struct stat_var *v = st->vars[i];

		if (group && (strlen(v->group) != glen ||
			      memcmp(v->group, group, glen) != 0))
			continue;
		if (strcmp(v->name, name) == 0)
			return v;
	}
	return NULL;
}

/* Caller holds the lock. */
static bool stats_has_group(const struct stats *st, const char *group,
			    size_t glen)
{
	for (size_t i = 0; i < st->n; i++)
		if (strlen(st->vars[i]->group) == glen &&
		    memcmp(st->vars[i]->group, group, glen) == 0)
			return true;
	return false;
}

/*
 * Registering the same group and name twice returns the first counter, so
 * two layers may share a statistic.  NULL on a bad name (empty, too long,
 * containing ':', or the group "all") or out of memory.
 */
struct stat_var *stats_register(struct stats *st, const char *group,
				const char *name, unsigned flags)
{
	struct stat_var *v;

	if (!st || !stat_name_ok(group, STAT_GROUP_MAX) ||
	    !stat_name_ok(name, STAT_NAME_MAX) || strcmp(group, "all") == 0)
		return NULL;
	pthread_rwlock_wrlock(&st->lock);
	v = stats_lookup(st, group, strlen(group), name);
	if (v)
		goto out;
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 32;
		struct stat_var **vars = realloc(st->vars, cap * sizeof(*vars));

		if (!vars)
			goto out;
		st->vars = vars;
		st->cap = cap;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		goto out;
	atomic_init(&v->value, 0);
	v->flags = flags;
	strcpy(v->group, group);
	strcpy(v->name, name);
	st->vars[st->n++] = v;
out:
	pthread_rwlock_unlock(&st->lock);
	return v;
}

void stat_add(struct stat_var *v, int64_t delta)
{
	if (v)
		atomic_fetch_add_explicit(&v->value, delta,
					  memory_order_relaxed);
}

void stat_set(struct stat_var *v, int64_t value)
{
	if (v)
		atomic_store_explicit(&v->value, value, memory_order_relaxed);
}

int64_t stat_get(const struct stat_var *v)
{
	if (!v)
		return 0;
	return atomic_load_explicit(&((struct stat_var *)v)->value,
				    memory_order_relaxed);
}

/* A parsed selector; see the top of the file. */
struct stat_sel {
	const char *group;	/* NULL = any group */
	size_t glen;
	const char *name;	/* NULL = every name */
};

/* Caller holds the lock.  0 or -ENOENT. */
static int stat_sel_parse(const struct stats *st, const char *sel,
			  struct stat_sel *out)
{
	const char *colon;

	*out = (struct stat_sel){ 0 };
	if (!sel || strcmp(sel, "all") == 0)
		return 0;
	colon = strchr(sel, ':');
	if (colon) {
		out->group = sel;
		out->glen = (size_t)(colon - sel);
		out->name = colon[1] ? colon + 1 : NULL;
		if (!stats_has_group(st, out->group, out->glen))
			return -ENOENT;
		if (out->name && !stats_lookup(st, out->group, out->glen,
					       out->name))
			return -ENOENT;
		return 0;
	}
	if (stats_has_group(st, sel, strlen(sel))) {
		out->group = sel;
		out->glen = strlen(sel);
		return 0;
	}
	if (stats_lookup(st, NULL, 0, sel)) {
		out->name = sel;
		return 0;
	}
	return -ENOENT;
}

static bool stat_sel_match(const struct stat_sel *s, const struct stat_var *v)
{
	if (s->group && (strlen(v->group) != s->glen ||
			 memcmp(v->group, s->group, s->glen) != 0))
		return false;
	return !s->name || strcmp(v->name, s->name) == 0;
}

int stats_foreach(const struct stats *st, const char *group, stats_iter_fn fn,
		  void *ud)
{
	struct stats *mst = (struct stats *)st;	/* the lock is not shape */
	struct stat_sel sel;
	int count = 0, err;

	if (!st || !fn)
		return -EINVAL;
	if (st->refresh)
		st->refresh(st->refresh_ud);
	pthread_rwlock_rdlock(&mst->lock);
	err = stat_sel_parse(st, group, &sel);
	if (err)
		goto out;
	for (size_t i = 0; i < st->n; i++) {
		const struct stat_var *v = st->vars[i];

		if (!stat_sel_match(&sel, v))
			continue;
		fn(v->group, v->name, stat_get(v), ud);
		count++;
	}
out:
	pthread_rwlock_unlock(&mst->lock);
	return err ? err : count;
}

/* Only the registry's read lock: workers never take it (stat_add is an
 * atomic add), so a scrape cannot hold one of them up. */
int stats_foreach_flags(const struct stats *st, stats_iter_flags_fn fn,
			void *ud)
{
	struct stats *mst = (struct stats *)st;
	int count = 0;

	if (!st || !fn)
		return -EINVAL;
	if (st->refresh)
		st->refresh(st->refresh_ud);
	pthread_rwlock_rdlock(&mst->lock);
	for (size_t i = 0; i < st->n; i++, count++)
		fn(st->vars[i]->group, st->vars[i]->name,
		   stat_get(st->vars[i]), st->vars[i]->flags, ud);
	pthread_rwlock_unlock(&mst->lock);
	return count;
}

void stats_set_refresh(struct stats *st, void (*fn)(void *ud), void *ud)
{
	if (!st)
		return;
	st->refresh_ud = ud;
	st->refresh = fn;
}

struct stat_var *stats_find(const struct stats *st, const char *name)
{
	struct stats *mst = (struct stats *)st;
	const char *colon;
	struct stat_var *v;

	if (!st || !name)
		return NULL;
	colon = strchr(name, ':');
	pthread_rwlock_rdlock(&mst->lock);
	if (colon)
		v = stats_lookup(st, name, (size_t)(colon - name), colon + 1);
	else
		v = stats_lookup(st, NULL, 0, name);
	pthread_rwlock_unlock(&mst->lock);
	return v;
}

/* Returns how many statistics were zeroed (STAT_NO_RESET ones are skipped),
 * or -ENOENT for an unknown selector. */
int stats_reset(struct stats *st, const char *group)
{
	struct stat_sel sel;
	int count = 0, err;

	if (!st)
		return -EINVAL;
	pthread_rwlock_rdlock(&st->lock);
	err = stat_sel_parse(st, group, &sel);
	if (err)
		goto out;
	for (size_t i = 0; i < st->n; i++) {
		struct stat_var *v = st->vars[i];

		if (!stat_sel_match(&sel, v) || (v->flags & STAT_NO_RESET))
			continue;
		stat_set(v, 0);
		count++;
	}
out:
	pthread_rwlock_unlock(&st->lock);
	return err ? err : count;
}
