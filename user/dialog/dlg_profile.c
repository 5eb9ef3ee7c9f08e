/*
 * dlg_profile.c - dialog profiles (reference §6), with and without value.
 *
 * Each profile has one mutex, a total member count and a hash map from
 * value to a struct dlg_pval that holds the count and the member list of
 * that value, so get_profile_size is O(1) with or without a value.  A
 * profile without value keeps all members under the empty value.  A pval
 * is freed when its last member leaves, so the map only holds values in
 * use.
 *
 * A membership (struct dlg_pmember) is on two lists: its pval's (under the
 * profile lock) and its dialog's (under the slot lock).  Lock order: slot,
 * then profile.  Memberships end when the dialog enters state 5 (done in
 * dlg_set_state_locked, under the same lock as the state change, so the
 * counters can never disagree with the states) and on destroy.
 *
 * Decision vs Kamailio: setting the same (dialog, profile, value) twice
 * is a no-op, so a spiraled INVITE or a rule run twice cannot count a call
 * twice; a dialog may still be in one with-value profile under several
 * values.  unset without a value removes every value of the profile.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dialog/dlg_int.h"

struct dlg_pmember;

struct dlg_pval {
	struct dlg_pval *hnext;		/* hash chain */
	struct dlg_pmember *first;	/* members with this value */
	struct dlg_profile *prof;	/* the profile it belongs to */
	uint32_t count;
	uint32_t hash;
	uint32_t len;
	char value[];			/* NUL-terminated */
};

/* One per (dialog, profile, value): 40 bytes, the profile is its pval's. */
struct dlg_pmember {
	struct dlg_pmember *cnext;		/* the dialog's list */
	struct dlg_pmember *pprev, *pnext;	/* the pval's list */
	struct dlg_pval *pv;
	struct dlg_cell *cell;
};

struct dlg_profile {
	pthread_mutex_t lock;
	char *name;
	bool has_value;
	uint64_t total;
	uint64_t gen;			/* bumped on every count change */
	dlg_profile_remote_fn remote;	/* other nodes' counts (cluster) */
	void *remote_ud;
	struct dlg_pval **buckets;
	size_t nbuckets;		/* power of two */
	size_t nvals;
};

#define PROF_MIN_BUCKETS 16

static void pval_free(struct dlg_pval *pv)
{
	dlg_mem_free(pv, sizeof(*pv) + pv->len + 1);
}

static bool name_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

int dlg_profiles_init(struct dlg_table *t)
{
	const struct dlg_config *cfg = &t->cfg;
	size_t n = cfg->n_profiles_with_value + cfg->n_profiles_no_value;

	if (!n)
		return 0;
	t->profiles = calloc(n, sizeof(*t->profiles));
	if (!t->profiles)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		bool wv = i < cfg->n_profiles_with_value;
		const char *name = wv ? cfg->profiles_with_value[i] :
			cfg->profiles_no_value[i - cfg->n_profiles_with_value];
		struct dlg_profile *p = &t->profiles[i];

		if (!name_ok(name))
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(t->profiles[j].name, name))
				return -EINVAL;
		p->name = strdup(name);
		p->buckets = calloc(PROF_MIN_BUCKETS, sizeof(*p->buckets));
		if (!p->name || !p->buckets) {
			free(p->name);
			free(p->buckets);
			p->name = NULL;
			return -ENOMEM;
		}
		p->nbuckets = PROF_MIN_BUCKETS;
		p->has_value = wv;
		pthread_mutex_init(&p->lock, NULL);
		t->n_profiles = i + 1;
	}
	return 0;
}

/* After every dialog is gone, so every map is empty. */
void dlg_profiles_free(struct dlg_table *t)
{
	for (size_t i = 0; i < t->n_profiles; i++) {
		struct dlg_profile *p = &t->profiles[i];

		for (size_t b = 0; b < p->nbuckets; b++) {
			struct dlg_pval *v, *n;

			for (v = p->buckets[b]; v; v = n) {
				n = v->hnext;
				pval_free(v);
			}
		}
		free(p->buckets);
		free(p->name);
		pthread_mutex_destroy(&p->lock);
	}
	free(t->profiles);
	t->profiles = NULL;
	t->n_profiles = 0;
}

struct dlg_profile *dlg_profile_lookup(struct dlg_table *t,
				       struct sip_str name)
{
	for (size_t i = 0; i < t->n_profiles; i++)
		if (sip_str_eq_c(name, t->profiles[i].name))
			return &t->profiles[i];
	return NULL;
}

const char *dlg_profile_name(const struct dlg_profile *p)
{
	return p->name;
}

bool dlg_profile_has_value(const struct dlg_profile *p)
{
	return p->has_value;
}

/* The value a membership is filed under: "" for profiles without. */
static struct sip_str key_of(const struct dlg_profile *p, struct sip_str v)
{
	return p->has_value ? v : sip_str_mk("", 0);
}

static struct dlg_pval *pval_find(struct dlg_profile *p, struct sip_str v,
				  uint32_t h)
{
	struct dlg_pval *pv = p->buckets[h & (p->nbuckets - 1)];

	for (; pv; pv = pv->hnext)
		if (pv->hash == h && pv->len == v.len &&
		    (!v.len || !memcmp(pv->value, v.p, v.len)))
			return pv;
	return NULL;
}

/* Double the buckets when the map gets dense; a failed grow is harmless. */
static void pval_grow(struct dlg_profile *p)
{
	size_t n = p->nbuckets * 2;
	struct dlg_pval **b = calloc(n, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < p->nbuckets; i++) {
		struct dlg_pval *v, *next;

		for (v = p->buckets[i]; v; v = next) {
			next = v->hnext;
			v->hnext = b[v->hash & (n - 1)];
			b[v->hash & (n - 1)] = v;
		}
	}
	free(p->buckets);
	p->buckets = b;
	p->nbuckets = n;
}

static void pval_remove(struct dlg_profile *p, struct dlg_pval *pv)
{
	struct dlg_pval **pp = &p->buckets[pv->hash & (p->nbuckets - 1)];

	while (*pp != pv)
		pp = &(*pp)->hnext;
	*pp = pv->hnext;
	p->nvals--;
	pval_free(pv);
}

/* Take @m off its pval (profile lock held) and count it out. */
static void member_unlink(struct dlg_profile *p, struct dlg_pmember *m)
{
	struct dlg_pval *pv = m->pv;

	if (m->pprev)
		m->pprev->pnext = m->pnext;
	else
		pv->first = m->pnext;
	if (m->pnext)
		m->pnext->pprev = m->pprev;
	pv->count--;
	p->total--;
	p->gen++;
	if (!pv->count)
		pval_remove(p, pv);
}

static bool member_matches(const struct dlg_pmember *m,
			   const struct dlg_profile *p, struct sip_str v)
{
	if (m->pv->prof != p)
		return false;
	if (!p->has_value || !v.p)
		return true;
	return m->pv->len == v.len && (!v.len || !memcmp(m->pv->value, v.p,
							 v.len));
}

int dlg_profile_set(struct dlg_cell *c, struct dlg_profile *p,
		    struct sip_str value)
{
	struct sip_str v = key_of(p, value);
	uint32_t h = dlg_core_hash(v.p, v.len);
	struct dlg_pmember *m;
	struct dlg_pval *pv;
	int err = 0;

	if (p->has_value && (!value.p || !value.len))
		return -EINVAL;
	m = dlg_mem_alloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	dlg_lock(c);
	if (atomic_load(&c->state) == DLG_STATE_DELETED) {
		err = -ESTALE;
		goto out;
	}
	for (struct dlg_pmember *x = c->members; x; x = x->cnext)
		if (member_matches(x, p, v)) {
			err = 1;
			goto out;
		}
	pthread_mutex_lock(&p->lock);
	pv = pval_find(p, v, h);
	if (!pv) {
		pv = dlg_mem_alloc(sizeof(*pv) + v.len + 1);
		if (!pv) {
			pthread_mutex_unlock(&p->lock);
			err = -ENOMEM;
			goto out;
		}
		pv->prof = p;
		pv->hash = h;
		pv->len = (uint32_t)v.len;
		if (v.len)
			memcpy(pv->value, v.p, v.len);
		pv->hnext = p->buckets[h & (p->nbuckets - 1)];
		p->buckets[h & (p->nbuckets - 1)] = pv;
		if (++p->nvals > p->nbuckets * 2)
			pval_grow(p);
	}
	m->pv = pv;
	m->cell = c;
	m->pnext = pv->first;
	if (pv->first)
		pv->first->pprev = m;
	pv->first = m;
	pv->count++;
	p->total++;
	p->gen++;
	pthread_mutex_unlock(&p->lock);
	m->cnext = c->members;
	c->members = m;
	m = NULL;
	atomic_fetch_or(&c->dflags, DLG_DFLAG_CHANGED_PROF);
out:
	dlg_unlock(c);
	dlg_mem_free(m, sizeof(*m));
	return err;
}

int dlg_profile_unset(struct dlg_cell *c, struct dlg_profile *p,
		      struct sip_str value)
{
	struct sip_str v = p->has_value ? value : SIP_STR_NULL;
	struct dlg_pmember **pp, *m, *gone = NULL;
	int err = -ENOENT;

	dlg_lock(c);
	for (pp = &c->members; (m = *pp);) {
		if (!member_matches(m, p, v)) {
			pp = &m->cnext;
			continue;
		}
		*pp = m->cnext;
		pthread_mutex_lock(&p->lock);
		member_unlink(p, m);
		pthread_mutex_unlock(&p->lock);
		m->cnext = gone;
		gone = m;
		err = 0;
	}
	if (!err)
		atomic_fetch_or(&c->dflags, DLG_DFLAG_CHANGED_PROF);
	dlg_unlock(c);
	while (gone) {
		m = gone->cnext;
		dlg_mem_free(gone, sizeof(*gone));
		gone = m;
	}
	return err;
}

int dlg_profile_is_in(struct dlg_cell *c, struct dlg_profile *p,
		      struct sip_str value)
{
	struct sip_str v = p->has_value ? value : SIP_STR_NULL;
	int r = 0;

	dlg_lock(c);
	for (struct dlg_pmember *m = c->members; m && !r; m = m->cnext)
		r = member_matches(m, p, v);
	dlg_unlock(c);
	return r;
}

uint64_t dlg_profile_size(struct dlg_profile *p, struct sip_str value)
{
	uint64_t n = dlg_profile_size_local(p, value);

	if (p->remote)
		n += p->remote(p->remote_ud, p, value);
	return n;
}

void dlg_profile_set_remote(struct dlg_profile *p, dlg_profile_remote_fn fn,
			    void *ud)
{
	p->remote = fn;
	p->remote_ud = ud;
}

bool dlg_profile_is_cluster(const struct dlg_profile *p)
{
	return p->remote != NULL;
}

uint64_t dlg_profile_gen(struct dlg_profile *p)
{
	uint64_t g;

	pthread_mutex_lock(&p->lock);
	g = p->gen;
	pthread_mutex_unlock(&p->lock);
	return g;
}

uint64_t dlg_profile_counts(struct dlg_profile *p, dlg_profile_count_fn fn,
			    void *ud)
{
	uint64_t g;

	pthread_mutex_lock(&p->lock);
	g = p->gen;
	for (size_t b = 0; b < p->nbuckets; b++)
		for (struct dlg_pval *pv = p->buckets[b]; pv; pv = pv->hnext)
			fn(ud, pv->value, pv->count);
	pthread_mutex_unlock(&p->lock);
	return g;
}

uint64_t dlg_profile_size_local(struct dlg_profile *p, struct sip_str value)
{
	uint64_t n;

	pthread_mutex_lock(&p->lock);
	if (!p->has_value || !value.p) {
		n = p->total;
	} else {
		struct dlg_pval *pv =
			pval_find(p, value, dlg_core_hash(value.p, value.len));

		n = pv ? pv->count : 0;
	}
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* Reference the members of @pv into the growing array *cells. */
static int collect(struct dlg_pval *pv, struct dlg_cell ***cells, size_t *n,
		   size_t *cap)
{
	for (struct dlg_pmember *m = pv->first; m; m = m->pnext) {
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 64;
			struct dlg_cell **a = realloc(*cells, nc * sizeof(*a));

			if (!a)
				return -ENOMEM;
			*cells = a;
			*cap = nc;
		}
		dlg_ref(m->cell);
		(*cells)[(*n)++] = m->cell;
	}
	return 0;
}

int dlg_profile_list(struct dlg_profile *p, struct sip_str value,
		     dlg_iter_fn fn, void *ud)
{
	struct dlg_cell **cells = NULL;
	size_t n = 0, cap = 0;
	int err = 0, visited = 0;
	bool stop = false;

	pthread_mutex_lock(&p->lock);
	if (p->has_value && value.p) {
		struct dlg_pval *pv =
			pval_find(p, value, dlg_core_hash(value.p, value.len));

		if (pv)
			err = collect(pv, &cells, &n, &cap);
	} else {
		for (size_t b = 0; b < p->nbuckets && !err; b++)
			for (struct dlg_pval *pv = p->buckets[b]; pv && !err;
			     pv = pv->hnext)
				err = collect(pv, &cells, &n, &cap);
	}
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < n; i++) {
		if (!stop && !err) {
			visited++;
			stop = fn(cells[i], ud) != 0;
		}
		dlg_unref(cells[i]);
	}
	free(cells);
	return err ? err : visited;
}

void dlg_profiles_leave_locked(struct dlg_cell *c)
{
	struct dlg_pmember *m, *next;

	for (m = c->members; m; m = next) {
		struct dlg_profile *p = m->pv->prof;

		next = m->cnext;
		pthread_mutex_lock(&p->lock);
		member_unlink(p, m);
		pthread_mutex_unlock(&p->lock);
		dlg_mem_free(m, sizeof(*m));
	}
	if (c->members)
		atomic_fetch_or(&c->dflags, DLG_DFLAG_CHANGED_PROF);
	c->members = NULL;
}

size_t dlg_profiles_count_locked(const struct dlg_cell *c, size_t *bytes)
{
	size_t n = 0;

	for (const struct dlg_pmember *m = c->members; m; m = m->cnext) {
		n++;
		*bytes += strlen(m->pv->prof->name) + 1;
		if (m->pv->prof->has_value)
			*bytes += m->pv->len + 1;
	}
	return n;
}

size_t dlg_profiles_copy_locked(const struct dlg_cell *c,
				struct dlg_info_profile *out, char **strp)
{
	size_t n = 0, i;
	char *s = *strp;

	/* Newest first, as Kamailio lists them (it links each new
	 * membership at the head): ["inbound", {"caller": "alice"}] after
	 * setting caller then inbound. */
	for (const struct dlg_pmember *m = c->members; m; m = m->cnext)
		n++;
	i = 0;
	for (const struct dlg_pmember *m = c->members; m; m = m->cnext) {
		struct dlg_info_profile *o = &out[i++];
		size_t l = strlen(m->pv->prof->name);

		memcpy(s, m->pv->prof->name, l + 1);
		o->name = s;
		s += l + 1;
		o->value = NULL;
		if (m->pv->prof->has_value) {
			memcpy(s, m->pv->value, m->pv->len + 1);
			o->value = s;
			s += m->pv->len + 1;
		}
	}
	*strp = s;
	return n;
}

/* ---- snapshots for the metrics endpoint ------------------------------ */

size_t dlg_profile_count(const struct dlg_table *t)
{
	return t ? t->n_profiles : 0;
}

struct dlg_profile *dlg_profile_at(struct dlg_table *t, size_t i)
{
	return t && i < t->n_profiles ? &t->profiles[i] : NULL;
}

/* Buckets walked per hold of the profile lock: with at most two values
 * per bucket on average (pval_grow), a hold copies ~128 counts. */
#define SNAP_CHUNK 64
/* A walk restarts when the map grows under it; a map that doubles more
 * often than this during one snapshot gets totals only. */
#define SNAP_RESTARTS 8

/* Min-heap on count: top[0] is the smallest of the kept values. */
static void snap_sift_down(struct dlg_profile_top *top, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct dlg_profile_top tmp;

		if (l < n && top[l].count < top[m].count)
			m = l;
		if (r < n && top[r].count < top[m].count)
			m = r;
		if (m == i)
			return;
		tmp = top[i];
		top[i] = top[m];
		top[m] = tmp;
		i = m;
	}
}

static void snap_sift_up(struct dlg_profile_top *top, size_t i)
{
	while (i) {
		size_t parent = (i - 1) / 2;
		struct dlg_profile_top tmp;

		if (top[parent].count <= top[i].count)
			return;
		tmp = top[i];
		top[i] = top[parent];
		top[parent] = tmp;
		i = parent;
	}
}

/* Copy @pv into slot @slot: a prefix of its value, no allocation (the
 * profile lock is held). */
static void snap_fill(struct dlg_profile_top *t, const struct dlg_pval *pv)
{
	size_t n = pv->len < DLG_PROFILE_TOP_VALUE_MAX ? pv->len :
		DLG_PROFILE_TOP_VALUE_MAX;

	memcpy(t->value, pv->value, n);
	t->value[n] = '\0';
	t->len = n;
	t->full_len = pv->len;
	t->hash = pv->hash;
	t->count = pv->count;
}

static void snap_offer(struct dlg_profile_snap *s, size_t max,
		       const struct dlg_pval *pv)
{
	if (s->n_top < max) {
		snap_fill(&s->top[s->n_top], pv);
		snap_sift_up(s->top, s->n_top++);
	} else if (pv->count > s->top[0].count) {
		snap_fill(&s->top[0], pv);
		snap_sift_down(s->top, s->n_top, 0);
	}
}

static int snap_cmp(const void *a, const void *b)
{
	const struct dlg_profile_top *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->value, y->value);
}

/*
 * The profile lock is what set/unset_dlg_profile take on the SIP
 * workers, so it is held for one chunk of buckets at a time, never for
 * the whole map, and nothing is allocated under it.  A grow between two
 * chunks moves values between buckets: the walk then starts over.
 */
int dlg_profile_snapshot(struct dlg_profile *p, size_t max,
			 struct dlg_profile_snap *out)
{
	struct dlg_profile_snap s = { 0 };
	size_t nb, b = 0, restarts = 0;

	pthread_mutex_lock(&p->lock);
	s.total = p->total;
	s.nvals = p->has_value ? p->nvals : 0;
	nb = p->nbuckets;
	pthread_mutex_unlock(&p->lock);
	if (!p->has_value || !max || !s.nvals) {
		*out = s;
		return 0;
	}
	/* Room for the values there are (and some that may come during the
	 * walk), not for @max of them: @max may be large and most profiles
	 * hold few values. */
	if (max > s.nvals + SNAP_CHUNK)
		max = s.nvals + SNAP_CHUNK;
	s.top = calloc(max, sizeof(*s.top));
	if (!s.top)
		return -ENOMEM;
	while (b < nb) {
		size_t end;

		pthread_mutex_lock(&p->lock);
		if (p->nbuckets != nb) {
			nb = p->nbuckets;
			b = 0;
			s.n_top = 0;
			if (++restarts > SNAP_RESTARTS) {
				pthread_mutex_unlock(&p->lock);
				s.incomplete = true;
				break;
			}
		}
		end = b + SNAP_CHUNK < nb ? b + SNAP_CHUNK : nb;
		for (; b < end; b++)
			for (const struct dlg_pval *pv = p->buckets[b]; pv;
			     pv = pv->hnext)
				snap_offer(&s, max, pv);
		pthread_mutex_unlock(&p->lock);
	}
	qsort(s.top, s.n_top, sizeof(*s.top), snap_cmp);
	*out = s;
	return 0;
}

void dlg_profile_snap_free(struct dlg_profile_snap *s)
{
	if (!s)
		return;
	free(s->top);
	s->top = NULL;
	s->n_top = 0;
}
