/*
 * dlg_hash.c - the dialog table: slots with their locks and h_id series,
 * reference counting and the life of a cell (link, reap, destroy),
 * lookups by id and Call-ID, and the iteration the RPC layer uses.
 * Lookups go through the slot's keyed indexes (dlg_index.c), never a walk
 * of the slot: core_hash, which picks the slot, is Kamailio's and can be
 * aimed at by anyone.
 */
#define LOG_TAG "dialog"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/stats.h"
#include "dialog/dlg_int.h"

/* xorshift64*: only the start of each slot's series is random. */
static uint32_t next_rand(struct dlg_table *t)
{
	uint64_t x = t->rand_state;

	if (t->cfg.h_id_rand)
		return t->cfg.h_id_rand(t->cfg.ud);
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->rand_state = x;
	return (uint32_t)((x * 0x2545f4914f6cdd1dULL) >> 32);
}

/*
 * Kamailio's series (reference §1.3).  Step 1: next_id starts at
 * rand % (3*size) and each dialog gets 1 + next_id++.  Step > 1: next_id
 * starts at start + step*(rand % (3*size) + 1); each dialog gets next_id,
 * then next_id += step, so nodes with disjoint starts never collide.
 */
static void slot_init_ids(struct dlg_table *t, struct dlg_slot *s)
{
	uint32_t r = next_rand(t) % (3u * t->size);
	uint32_t step = t->cfg.h_id_step;
	int32_t start = t->cfg.h_id_start;

	if (step <= 1) {
		s->next_id = r;
		return;
	}
	if (start < 0)
		start = (int32_t)t->cfg.server_id;
	s->next_id = (uint32_t)start + step * (r + 1);
}

static uint32_t slot_take_id(const struct dlg_table *t, struct dlg_slot *s)
{
	uint32_t step = t->cfg.h_id_step, id;

	if (step <= 1)
		id = 1 + s->next_id++;
	else {
		id = s->next_id;
		s->next_id += step;
	}
	return id;
}

static bool slot_has_id(const struct dlg_table *t, const struct dlg_slot *s,
			uint32_t h_entry, uint32_t id)
{
	return dlg_idx_id_locked(t, s, h_entry, id) != NULL;
}

/* Put @c (h_id set) into the slot list, sorted by h_id: ids of the slot's
 * series grow, so the walk from the end stops at once; only ids restored
 * from another node's series may land further in. */
static void slot_insert_sorted(struct dlg_slot *s, struct dlg_cell *c)
{
	struct dlg_cell *p;

	for (p = s->last; p && p->h_id > c->h_id; p = p->prev)
		;
	c->prev = p;
	c->next = p ? p->next : s->first;
	if (c->next)
		c->next->prev = c;
	else
		s->last = c;
	if (p)
		p->next = c;
	else
		s->first = c;
	s->count++;
	c->linked = true;
	atomic_fetch_add(&c->ref, 1);
	/* a new cell is in state 1 here (dlg_load sets its state after) */
	if (atomic_load(&c->state) != DLG_STATE_DELETED) {
		atomic_fetch_add(&c->tbl->n_live, 1);
		if (atomic_load(&c->state) <= DLG_STATE_EARLY)
			atomic_fetch_add(&c->tbl->n_early, 1);
	}
}

int dlg_table_alloc(const struct dlg_config *cfg, struct tmr_service *tmr,
		    const struct dlg_stats *stats, struct dlg_table **out)
{
	struct dlg_table *t;
	int err;

	if (!cfg || !tmr || cfg->hash_size == 0 ||
	    (cfg->hash_size & (cfg->hash_size - 1)) || !cfg->rr_param ||
	    !cfg->rr_param[0] || strlen(cfg->rr_param) > 32 ||
	    cfg->match_mode < 0 || cfg->match_mode > 2)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->cfg = *cfg;
	if (!t->cfg.default_timeout_ms)
		t->cfg.default_timeout_ms = 43200u * 1000u;
	t->rr_param = strdup(cfg->rr_param);
	t->rr_param_len = strlen(cfg->rr_param);
	t->cfg.rr_param = t->rr_param;
	t->tmr = tmr;
	if (stats)
		t->st = *stats;
	t->size = cfg->hash_size;
	t->rand_state = tmr_now_ms() ^ ((uint64_t)getpid() << 32) ^
			(uint64_t)(uintptr_t)t;
	if (!t->rand_state)
		t->rand_state = 0x9e3779b97f4a7c15ULL;
	pthread_mutex_init(&t->cb_lock, NULL);
	pthread_mutex_init(&t->sock_lock, NULL);
	t->slots = calloc(t->size, sizeof(*t->slots));
	if (!t->rr_param || !t->slots) {
		err = -ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < t->size; i++) {
		pthread_mutex_init(&t->slots[i].lock, NULL);
		slot_init_ids(t, &t->slots[i]);
	}
	/* The index key: unknown outside, so nobody can aim at a bucket. */
	if (getrandom(t->key, sizeof(t->key), 0) != (ssize_t)sizeof(t->key)) {
		err = -EIO;
		goto fail;
	}
	err = dlg_profiles_init(t);
	if (err)
		goto fail;
	*out = t;
	return 0;
fail:
	dlg_table_free(t);
	return err;
}

void dlg_table_free(struct dlg_table *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; t->slots && i < t->size; i++) {
		struct dlg_slot *s = &t->slots[i];
		struct dlg_cell *c, *n;

		for (c = s->first; c; c = n) {
			int st = atomic_load(&c->state);

			n = c->next;
			/* Gauges count what is in the table. */
			if (st == DLG_STATE_EARLY)
				stat_dec(t->st.early_dialogs);
			else if (st == DLG_STATE_CONFIRMED_NA ||
				 st == DLG_STATE_CONFIRMED)
				stat_dec(t->st.active_dialogs);
			c->linked = false;
			c->prev = c->next = NULL;
			dlg_cell_destroy(c);
		}
		dlg_idx_free(s);
		pthread_mutex_destroy(&s->lock);
	}
	dlg_profiles_free(t);
	dlg_cb_list_free(&t->gcbs);
	pthread_mutex_destroy(&t->cb_lock);
	while (t->socks) {
		struct dlg_sock *k = t->socks;

		t->socks = k->next;
		free(k);
	}
	pthread_mutex_destroy(&t->sock_lock);
	free(t->slots);
	free(t->rr_param);
	free(t);
}

struct dlg_ext *dlg_ext_locked(struct dlg_cell *c)
{
	if (!c->ext)
		c->ext = calloc(1, sizeof(*c->ext));
	return c->ext;
}

const char *dlg_sock_intern(struct dlg_table *t, struct sip_str s)
{
	struct dlg_sock *k;

	if (!s.p || !s.len)
		return NULL;
	pthread_mutex_lock(&t->sock_lock);
	for (k = t->socks; k; k = k->next)
		if (sip_str_eq_c(s, k->s))
			break;
	if (!k) {
		k = malloc(sizeof(*k) + s.len + 1);
		if (k) {
			memcpy(k->s, s.p, s.len);
			k->s[s.len] = '\0';
			k->next = t->socks;
			t->socks = k;
		}
	}
	pthread_mutex_unlock(&t->sock_lock);
	return k ? k->s : NULL;
}

void *dlg_table_ud(const struct dlg_table *t)
{
	return t->cfg.ud;
}

const struct dlg_config *dlg_table_config(const struct dlg_table *t)
{
	return &t->cfg;
}

/*
 * Give @c the next free h_id of @s and link it, keeping the list sorted
 * by h_id (new ids normally go last, so the scan stops at once).  Takes
 * the table's reference.  -EAGAIN if the series is exhausted (4 billion
 * live dialogs in one slot: never).
 */
int dlg_slot_link_locked(struct dlg_table *t, struct dlg_slot *s,
			 struct dlg_cell *c)
{
	uint32_t id = 0;
	int tries;

	for (tries = 0; tries < 64; tries++) {
		id = slot_take_id(t, s);
		if (id != 0 && !slot_has_id(t, s, c->h_entry, id))
			break;
	}
	if (tries == 64)
		return -EAGAIN;
	c->h_id = id;
	if (dlg_idx_add_locked(t, s, c))
		return -ENOMEM;
	slot_insert_sorted(s, c);
	return 0;
}

/*
 * Link @c under the id it already has (a dialog restored from the
 * database), and move the slot's id series past it so that new dialogs
 * never take it: -EEXIST if the id is in use.
 */
int dlg_slot_link_id_locked(struct dlg_table *t, struct dlg_slot *s,
			    struct dlg_cell *c)
{
	uint32_t id = c->h_id, step = t->cfg.h_id_step;

	if (id == 0 || slot_has_id(t, s, c->h_entry, id))
		return -EEXIST;
	if (dlg_idx_add_locked(t, s, c))
		return -ENOMEM;
	if (step <= 1) {
		if (s->next_id < id)
			s->next_id = id;	/* next: 1 + next_id > id */
	} else if (id % step == (uint32_t)t->cfg.h_id_start % step &&
		   s->next_id <= id) {
		s->next_id = id + step;	/* our series only */
	}
	slot_insert_sorted(s, c);
	return 0;
}

/* The caller drops the table's reference after unlocking. */
void dlg_slot_unlink_locked(struct dlg_slot *s, struct dlg_cell *c)
{
	if (!c->linked)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->first = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->last = c->prev;
	c->prev = c->next = NULL;
	c->linked = false;
	s->count--;
	dlg_idx_del_locked(c->tbl, s, c);
}

void dlg_ref(struct dlg_cell *c)
{
	atomic_fetch_add(&c->ref, 1);
}

void dlg_ref_put_locked(struct dlg_cell *c)
{
	int old = atomic_fetch_sub(&c->ref, 1);

	if (old <= 1)
		log_err("BUG: dialog %u:%u lost its last reference under lock",
			c->h_entry, c->h_id);
}

/*
 * Drop one reference.  The decrement is done under the slot lock so that
 * the holder that drops the last reference outside the table sees it:
 * when a state-5 dialog is held by nobody but the table (and its timer),
 * it is unlinked here and freed.
 */
void dlg_unref(struct dlg_cell *c)
{
	struct dlg_slot *s;
	bool reap = false;
	int old;

	if (!c)
		return;
	s = dlg_slot_of(c);
	pthread_mutex_lock(&s->lock);
	old = atomic_fetch_sub(&c->ref, 1);
	if (old == 1) {
		pthread_mutex_unlock(&s->lock);
		dlg_cell_destroy(c);
		return;
	}
	if (c->linked && atomic_load(&c->state) == DLG_STATE_DELETED &&
	    old - 1 == 1 + (int)c->tmr_refs) {
		dlg_timer_stop_locked(c);
		dlg_slot_unlink_locked(s, c);
		reap = true;
	}
	pthread_mutex_unlock(&s->lock);
	if (reap && atomic_fetch_sub(&c->ref, 1) == 1)
		dlg_cell_destroy(c);
}

/* The last reference is gone: nobody else can reach @c. */
void dlg_cell_destroy(struct dlg_cell *c)
{
	struct dlg_cb_params p = { 0 };

	if (c->linked)
		log_err("BUG: destroying linked dialog %u:%u", c->h_entry,
			c->h_id);
	p.old_state = p.new_state = atomic_load(&c->state);
	dlg_run_cbs(c, DLGCB_DESTROY, &p);
	/* Memberships are normally gone at state 5; this catches the rest
	 * (table free) so the counters stay right. */
	if (c->members) {
		dlg_lock(c);
		dlg_profiles_leave_locked(c);
		dlg_unlock(c);
	}
	dlg_vars_free(c);
	dlg_cb_list_free(&c->cbs);
	if (c->ext) {
		free(c->ext->contact[0]);
		free(c->ext->contact[1]);
		free(c->ext);
	}
	dlg_cell_free_mem(c);
}

struct dlg_cell *dlg_lookup_id(struct dlg_table *t, uint32_t h_entry,
			       uint32_t h_id)
{
	struct dlg_slot *s;
	struct dlg_cell *c;

	if (h_entry >= t->size || h_id == 0)
		return NULL;
	s = &t->slots[h_entry];
	pthread_mutex_lock(&s->lock);
	c = dlg_idx_id_locked(t, s, h_entry, h_id);
	if (c)
		dlg_ref(c);
	pthread_mutex_unlock(&s->lock);
	return c;
}

/*
 * Keep @c in @cells (@n of @max used), sorted by h_id, the @max lowest
 * ones only: the order the slot list gave before there was an index.
 * Returns the new count.  Nothing is referenced yet.
 */
static size_t keep_lowest(struct dlg_cell **cells, size_t n, size_t max,
			  struct dlg_cell *c)
{
	size_t i;

	if (n == max) {
		if (!max || cells[n - 1]->h_id < c->h_id)
			return n;
		n--;	/* the highest one makes room */
	}
	for (i = n; i > 0 && cells[i - 1]->h_id > c->h_id; i--)
		cells[i] = cells[i - 1];
	cells[i] = c;
	return n + 1;
}

size_t dlg_lookup_callid(struct dlg_table *t, struct sip_str callid,
			 struct sip_str from_tag, struct dlg_cell **cells,
			 size_t max)
{
	struct sip_str cid = dlg_trim(callid);
	struct dlg_slot *s;
	size_t n = 0, steps = 0;

	if (!cid.p || !cid.len)
		return 0;
	s = &t->slots[dlg_hash_entry(cid, t->size)];
	pthread_mutex_lock(&s->lock);
	/* With a From tag, its (Call-ID, tag) chain; without, the Call-ID's
	 * own chain (the RPCs that name a call by its Call-ID alone): never
	 * a walk of the slot, which an attacker can fill (dlg_index.c). */
	for (struct dlg_cell *c = from_tag.p ?
				  dlg_idx_cid_locked(t, s, cid, from_tag) :
				  dlg_idx_callid_locked(t, s, cid);
	     c; c = from_tag.p ? c->cid_next : c->cido_next) {
		steps++;
		if (!sip_str_eq(DLG_S(c, callid), cid))
			continue;
		if (from_tag.p &&
		    !sip_str_eq(dlg_leg_tag(c, DLG_CALLER_LEG), from_tag))
			continue;
		n = keep_lowest(cells, n, max, c);
	}
	for (size_t i = 0; i < n; i++)
		dlg_ref(cells[i]);
	pthread_mutex_unlock(&s->lock);
	atomic_fetch_add(&t->callid_steps, steps);
	return n;
}

uint64_t dlg_callid_lookup_steps(const struct dlg_table *t)
{
	return atomic_load(&((struct dlg_table *)t)->callid_steps);
}

/* The calling thread's CPU time: the work done with a lock held, not the
 * time a busy machine kept the thread off a CPU. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reference every cell of @s with h_id > @after, up to @max; *hold_ns
 * (if not NULL) gets the CPU time spent with the slot lock held. */
static size_t slot_collect(struct dlg_table *t, uint32_t slot,
			   uint32_t after, struct dlg_cell **cells,
			   size_t max, bool *more, uint64_t *hold_ns)
{
	struct dlg_slot *s = &t->slots[slot];
	size_t n = 0;
	struct dlg_cell *c;
	uint64_t t0;

	pthread_mutex_lock(&s->lock);
	t0 = hold_ns ? cpu_ns() : 0;
	/* Resume after the last one given, found through the index while
	 * it is still there (the common case): no walk of a slot an
	 * attacker filled, batch after batch. */
	c = after ? dlg_idx_id_locked(t, s, slot, after) : NULL;
	if (c)
		c = c->next;
	else
		for (c = s->first; c && c->h_id <= after; c = c->next)
			;
	for (; c && n < max; c = c->next) {
		dlg_ref(c);
		cells[n++] = c;
	}
	*more = c != NULL;
	if (hold_ns)
		*hold_ns = cpu_ns() - t0;
	pthread_mutex_unlock(&s->lock);
	return n;
}

int dlg_foreach_slot(struct dlg_table *t, uint32_t slot, dlg_iter_fn fn,
		     void *ud)
{
	struct dlg_cell *batch[64];
	uint32_t after = 0;
	int visited = 0;
	bool more = true, stop = false;

	if (slot >= t->size)
		return -ERANGE;
	while (more && !stop) {
		size_t n = slot_collect(t, slot, after, batch, 64,
					&more, NULL);

		for (size_t i = 0; i < n; i++) {
			if (!stop) {
				visited++;
				stop = fn(batch[i], ud) != 0;
			}
			after = batch[i]->h_id;
			dlg_unref(batch[i]);
		}
		if (!n)
			break;
	}
	return visited;
}

size_t dlg_cursor_next(struct dlg_table *t, struct dlg_cursor *cur,
		       struct dlg_cell **cells, size_t max)
{
	size_t n = 0;

	while (!cur->done && n < max) {
		bool more;
		size_t k;
		uint64_t hold;

		if (cur->slot >= t->size) {
			cur->done = true;
			break;
		}
		k = slot_collect(t, cur->slot, cur->h_id, cells + n,
				 max - n, &more, &hold);
		if (hold > atomic_load(&t->cursor_max_hold_ns))
			atomic_store(&t->cursor_max_hold_ns, hold);
		if (k)
			cur->h_id = cells[n + k - 1]->h_id;
		n += k;
		if (!more) {
			cur->slot++;
			cur->h_id = 0;
		}
	}
	if (cur->slot >= t->size)
		cur->done = true;
	return n;
}

uint64_t dlg_cursor_max_hold_ns(const struct dlg_table *t)
{
	return atomic_load(&t->cursor_max_hold_ns);
}

void dlg_count_states(struct dlg_table *t, uint64_t counts[6])
{
	memset(counts, 0, 6 * sizeof(counts[0]));
	for (uint32_t i = 0; i < t->size; i++) {
		struct dlg_slot *s = &t->slots[i];

		pthread_mutex_lock(&s->lock);
		for (struct dlg_cell *c = s->first; c; c = c->next) {
			int st = atomic_load(&c->state);

			if (st >= 1 && st <= 5)
				counts[st]++;
		}
		pthread_mutex_unlock(&s->lock);
	}
}

void dlg_match_counters_get(struct dlg_table *t,
			    struct dlg_match_counters *out)
{
	out->matched = atomic_load(&t->ctr.matched);
	out->no_cookie = atomic_load(&t->ctr.no_cookie);
	out->bad_cookie = atomic_load(&t->ctr.bad_cookie);
	out->not_found = atomic_load(&t->ctr.not_found);
	out->mismatch = atomic_load(&t->ctr.mismatch);
	out->bogus = atomic_load(&t->ctr.bogus);
}

/* Accessors. */
uint32_t dlg_h_entry(const struct dlg_cell *c) { return c->h_entry; }
uint32_t dlg_h_id(const struct dlg_cell *c) { return c->h_id; }
struct sip_str dlg_callid(const struct dlg_cell *c) { return DLG_S(c, callid); }
struct sip_str dlg_from_uri(const struct dlg_cell *c) { return DLG_S(c, from_uri); }
struct sip_str dlg_to_uri(const struct dlg_cell *c) { return DLG_S(c, to_uri); }
struct sip_str dlg_req_uri(const struct dlg_cell *c) { return DLG_S(c, req_uri); }
unsigned dlg_caller_rr_count(const struct dlg_cell *c) { return c->from_rr_nb; }
struct dlg_table *dlg_table_of(const struct dlg_cell *c) { return c->tbl; }

struct sip_str dlg_caller_tag(const struct dlg_cell *c)
{
	return dlg_leg_tag(c, DLG_CALLER_LEG);
}

struct sip_str dlg_callee_tag(struct dlg_cell *c)
{
	struct sip_str s;

	dlg_lock(c);
	s = dlg_leg_tag(c, DLG_CALLEE_LEG);
	dlg_unlock(c);
	return s;
}

enum dlg_state dlg_state(const struct dlg_cell *c)
{
	return (enum dlg_state)atomic_load(&c->state);
}

int dlg_ref_count(const struct dlg_cell *c)
{
	return atomic_load(&c->ref);
}

uint32_t dlg_dflags(const struct dlg_cell *c)
{
	return atomic_load(&c->dflags);
}

bool dlg_db_row_mark(struct dlg_cell *c, bool has_row)
{
	uint32_t old;

	if (has_row)
		old = atomic_fetch_or(&c->dflags, DLG_DFLAG_DB_ROW);
	else
		old = atomic_fetch_and(&c->dflags, ~DLG_DFLAG_DB_ROW);
	return (old & DLG_DFLAG_DB_ROW) != 0;
}

void dlg_table_load(const struct dlg_table *t, uint64_t *live,
		    uint64_t *early)
{
	long l = atomic_load(&t->n_live), e = atomic_load(&t->n_early);

	*live = l > 0 ? (uint64_t)l : 0;
	*early = e > 0 ? (uint64_t)e : 0;
}

int64_t dlg_active_count(const struct dlg_table *t)
{
	return t->st.active_dialogs ? stat_get(t->st.active_dialogs) : 0;
}

/*
 * A node that starts with its dialogs held by another (cluster fencing)
 * does not load them, but must not give their ids to new calls: move the
 * slot's series past @h_id (ours only; others are never generated here).
 */
void dlg_reserve_id(struct dlg_table *t, uint32_t h_entry, uint32_t h_id)
{
	uint32_t step = t->cfg.h_id_step;
	struct dlg_slot *s;

	if (h_entry >= t->size)
		return;
	s = &t->slots[h_entry];
	pthread_mutex_lock(&s->lock);
	if (step <= 1) {
		if (s->next_id < h_id)
			s->next_id = h_id;
	} else if (h_id % step == (uint32_t)t->cfg.h_id_start % step &&
		   s->next_id <= h_id) {
		s->next_id = h_id + step;
	}
	pthread_mutex_unlock(&s->lock);
}
