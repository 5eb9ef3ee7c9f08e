/*
 * fp_kmaps.c - what happens when the kernel's maps cannot take a dialog
 * (fp_kmaps.h): the "overflow" list and the "fpstate" flags the kernel
 * reads before it drops a request whose dialog it did not find, the
 * retry into "dialogs" when slots free up, the failure counters.
 *
 * Invariant, under km.lock: a dialog is in "dialogs", or it has an entry
 * with FPP_OUT in km.pend and is then listed in "overflow" (FPP_OVERFLOW)
 * or counted in n_lost; fpstate.degraded is set while n_lost,
 * n_untracked or n_no_callid is not zero, fpstate.overflow_n is
 * n_overflow.  So the kernel never drops a request of a live dialog for
 * "unknown dialog".
 */
#define LOG_TAG "fastpath"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "config/config.h"
#include "core/log.h"
#include "core/stats.h"
#include "core/timer.h"
#include "fastpath/fp_internal.h"
#include "fastpath/fp_kmaps.h"

#define LOG_EVERY_MS 10000	/* at most one warning per 10 s */

/* A warning, at most one per LOG_EVERY_MS; the rest are counted and the
 * next line says how many were left out.  Called under km.lock. */
__attribute__((format(printf, 2, 3))) static void
warn_limited(struct fp_kmaps *km, const char *fmt, ...)
{
	uint64_t now = tmr_now_ms();
	char msg[256];
	va_list ap;

	if (now < km->log_next_ms) {
		km->log_suppressed++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (km->log_suppressed)
		log_warn("%s (and %llu more failures not logged since the "
			 "last such line)",
			 msg, (unsigned long long)km->log_suppressed);
	else
		log_warn("%s", msg);
	km->log_suppressed = 0;
	km->log_next_ms = now + LOG_EVERY_MS;
}

/* strerror(), with the hash map's "full" said as such (E2BIG). */
static const char *err_text(int e)
{
	return e == E2BIG ? "the map is full" : strerror(e);
}

static uint32_t map_max_entries(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) != 0)
		return 0;
	return info.max_entries;
}

/* Tell the kernel (under km.lock).  The kernel reads overflow_n only to
 * skip the "overflow" lookup when it is 0, so adding a key before the
 * count and removing it after is safe. */
static void state_write(struct fastpath *fp)
{
	struct fp_kmaps *km = &fp->km;
	struct sipdlg_fp_state st = { 0 };
	__u32 zero = 0;
	bool maps_short = km->n_lost || km->n_untracked || km->n_no_callid;

	/* While the stored dialogs wait for the database, requests of
	 * theirs are unknown here: pass them, as for dialogs the maps
	 * could not take. */
	st.degraded = maps_short || km->loading;
	st.overflow_n = (__u32)km->n_overflow;
	stat_set(km->st_not_in_kernel, (int64_t)km->n_out);
	if (km->starting) {
		/* Until the reconcile, the predecessor's dialogs may still
		 * be live (being restored): keep what it told the kernel. A
		 * stale key then passes a request, it never drops one. */
		st.degraded |= km->boot.degraded;
		if (km->boot.overflow_n > st.overflow_n)
			st.overflow_n = km->boot.overflow_n;
	}
	/* Every change of the flag is logged: it loosens unknown_dialog. */
	if (st.degraded && !km->degraded && !maps_short)
		log_notice("the fast path passes requests of unknown dialogs "
			   "until the stored dialogs are loaded from the "
			   "database");
	else if (st.degraded && !km->degraded)
		log_warn("the fast path is degraded: %llu dialogs are in "
			 "neither the dialogs nor the overflow map, %llu "
			 "lack their callids entry; no request is dropped as "
			 "an unknown dialog until they end or move in",
			 (unsigned long long)(km->n_lost + km->n_untracked),
			 (unsigned long long)km->n_no_callid);
	else if (!st.degraded && km->degraded)
		log_notice("the fast path is no longer degraded");
	km->degraded = st.degraded;
	if (km->fpstate_fd < 0)
		return;
	/* Only this process writes "fpstate" (after the reconcile): nothing to
	 * tell the kernel when it holds this already.  Every dialog event
	 * comes here; a system call each was most of what attaching XDP
	 * cost per call (bench-cps-ns.sh). */
	if (km->have_written && !km->starting &&
	    memcmp(&km->written, &st, sizeof(st)) == 0)
		return;
	if (bpf_map_update_elem(km->fpstate_fd, &zero, &st, BPF_ANY) != 0) {
		km->have_written = false;
		warn_limited(km, "cannot write the fpstate map: %s",
			     strerror(errno));
		return;
	}
	km->written = st;
	km->have_written = true;
}

int fp_kmaps_setup(struct fastpath *fp, int match_mode, struct stats *st)
{
	struct fp_kmaps *km = &fp->km;
	int r;

	km->match_mode = match_mode;
	km->capacity = map_max_entries(fp->dialogs_fd);
	km->overflow_capacity = map_max_entries(km->overflow_fd);
	r = pthread_mutex_init(&km->lock, NULL);
	if (r)
		return -r;
	km->lock_ok = true;
	r = fp_pending_init(&km->pend, 1024);
	if (r)
		return r;
	if (st) {
		km->st_dialogs_failed =
			stats_register(st, "xdp", "dialogs_insert_failed", 0);
		km->st_overflow_failed =
			stats_register(st, "xdp", "overflow_insert_failed", 0);
		km->st_callids_failed =
			stats_register(st, "xdp", "callids_insert_failed", 0);
		km->st_moved_in =
			stats_register(st, "xdp", "dialogs_moved_in", 0);
		km->st_not_in_kernel = stats_register(
			st, "xdp", "dialogs_not_in_kernel", STAT_NO_RESET);
	}
	/* What a predecessor (maybe killed) left in the pinned map stays
	 * in force until fp_kmaps_reconcile(). */
	{
		__u32 zero = 0;

		if (km->fpstate_fd < 0 ||
		    bpf_map_lookup_elem(km->fpstate_fd, &zero, &km->boot) != 0)
			memset(&km->boot, 0, sizeof(km->boot));
		km->degraded = km->boot.degraded != 0;
		km->starting = true;
		km->have_written = false;
	}
	return 0;
}

int fp_kmaps_open(struct fastpath *fp, const struct sipdlg_config *cfg,
		  struct stats *st)
{
	struct fp_kmaps *km = &fp->km;

	km->fpstate_fd = bpf_object__find_map_fd_by_name(fp->obj, "fpstate");
	km->overflow_fd = bpf_object__find_map_fd_by_name(fp->obj, "overflow");
	if (km->fpstate_fd < 0 || km->overflow_fd < 0)
		log_warn("the BPF object has no fpstate/overflow maps: a "
			 "dialog that does not fit into the dialogs map is "
			 "dropped by unknown_dialog: drop");
	return fp_kmaps_setup(fp, cfg->dialog.dlg_match_mode, st);
}

void fp_kmaps_close(struct fastpath *fp)
{
	struct fp_kmaps *km = &fp->km;

	fp_pending_fini(&km->pend);
	if (km->lock_ok)
		pthread_mutex_destroy(&km->lock);
	km->lock_ok = false;
}

static void ident_to_value(const struct fp_ident *id,
			   struct sipdlg_dlg_value *v)
{
	v->callid_hash = id->callid_hash;
	v->caller_tag_hash = id->caller_tag_hash;
	v->callee_tag_hash = id->callee_tag_hash;
	v->state = id->state;
	v->flags = (v->flags & ~SIPDLG_DLGF_NOMAC) | id->mac_flags;
}

/*
 * In dlg_match_mode 1/2 a dialog without its "callids" entry loses the
 * kernel's Call-ID fallback: a request whose cookie names no dialog the
 * kernel knows, but whose Call-ID would have matched, is then dropped
 * (unknown_dialog: drop) where the controller would take it.  Such
 * dialogs are kept in km.pend and keep the fast path degraded.
 * Under km.lock.
 */
static void no_callid_locked(struct fastpath *fp,
			     const struct sipdlg_dlg_key *key,
			     const struct fp_ident *id)
{
	struct fp_kmaps *km = &fp->km;
	struct fp_pend *p;

	if (km->match_mode == 0)
		return;
	p = fp_pending_add(&km->pend, key);
	if (!p) {
		km->n_untracked++;
		return;
	}
	p->id = *id;
	if (!(p->flags & FPP_NO_CALLID)) {
		p->flags |= FPP_NO_CALLID;
		km->n_no_callid++;
	}
}

int fp_kmaps_callid_put(struct fastpath *fp, const struct sipdlg_dlg_key *key,
			const struct fp_ident *id)
{
	struct fp_kmaps *km = &fp->km;
	__u64 hash = id->callid_hash;
	int r;

	if (!fp_kmaps_callids_used(fp) || !hash)
		return 0;
	if (bpf_map_update_elem(fp->callids_fd, &hash, key, BPF_ANY) == 0) {
		struct fp_pend *p;

		/* A dialog whose entry failed before (the reconcile adds it
		 * again once stale entries made room) is complete now. */
		pthread_mutex_lock(&km->lock);
		p = km->n_no_callid ? fp_pending_find(&km->pend, key) : NULL;
		if (p && (p->flags & FPP_NO_CALLID)) {
			p->flags &= ~FPP_NO_CALLID;
			km->n_no_callid--;
			if (!p->flags)
				fp_pending_del(&km->pend, p);
			state_write(fp);
		}
		pthread_mutex_unlock(&km->lock);
		return 0;
	}
	r = -errno;
	pthread_mutex_lock(&km->lock);
	km->callids_failed++;
	stat_inc(km->st_callids_failed);
	warn_limited(km, "dialog %u:%u: cannot write the callids map: %s",
		     key->h_entry, key->h_id, err_text(-r));
	no_callid_locked(fp, key, id);
	state_write(fp);
	pthread_mutex_unlock(&km->lock);
	return r;
}

/* "dialogs" has no room for @key: list it in "overflow".  Under lock. */
static void out_add_locked(struct fastpath *fp,
			   const struct sipdlg_dlg_key *key,
			   const struct fp_ident *id, int err)
{
	struct fp_kmaps *km = &fp->km;
	struct fp_pend *p;
	__u8 one = 1;

	const char *where = "listed in the overflow map";
	int oerr = 0;

	km->dialogs_failed++;
	stat_inc(km->st_dialogs_failed);
	p = fp_pending_add(&km->pend, key);
	if (!p) {
		/* Nowhere to remember it: degraded until it ends. */
		km->n_untracked++;
		where = "out of memory to track it";
		goto log;
	}
	p->id = *id;
	if (p->flags & FPP_NO_CALLID) {	/* its Call-ID entry is moot now */
		p->flags &= ~FPP_NO_CALLID;
		km->n_no_callid--;
	}
	if (p->flags & FPP_OUT)
		return;
	p->flags |= FPP_OUT;
	km->n_out++;
	if (km->overflow_fd >= 0 &&
	    bpf_map_update_elem(km->overflow_fd, key, &one, BPF_ANY) == 0) {
		p->flags |= FPP_OVERFLOW;
		km->n_overflow++;
		goto log;
	}
	oerr = km->overflow_fd < 0 ? ENOENT : errno;
	km->n_lost++;
	km->overflow_failed++;
	stat_inc(km->st_overflow_failed);
	where = "the overflow map failed too";
log:
	warn_limited(km,
		     "dialog %u:%u is not in the kernel's dialogs map (%s, "
		     "%llu of %u in use): it works through the controller, "
		     "%s%s%s",
		     key->h_entry, key->h_id, err_text(-err),
		     (unsigned long long)km->n_kernel, km->capacity, where,
		     oerr ? ": " : "", oerr ? err_text(oerr) : "");
}

/* @p is no longer outside "dialogs" (moved in, or ended): out of
 * "overflow" and the counts.  Under lock; the caller writes fpstate. */
static void out_clear_locked(struct fastpath *fp, struct fp_pend *p)
{
	struct fp_kmaps *km = &fp->km;

	if (!(p->flags & FPP_OUT))
		return;
	if (p->flags & FPP_OVERFLOW) {
		bpf_map_delete_elem(km->overflow_fd, &p->key);
		km->n_overflow--;
	} else {
		km->n_lost--;
	}
	km->n_out--;
	p->flags &= ~(FPP_OUT | FPP_OVERFLOW);
}

/* Whether @key waits in the deferred deletions. */
static bool gone_has(struct fp_kmaps *km, const struct sipdlg_dlg_key *key)
{
	bool found = false;

	pthread_mutex_lock(&km->lock);
	for (size_t i = 0; i < km->n_gone && !found; i++)
		found = km->gone[i].h_entry == key->h_entry &&
			km->gone[i].h_id == key->h_id;
	pthread_mutex_unlock(&km->lock);
	return found;
}

/* A dialog waiting outside "dialogs" takes @id when it moves in: true
 * if @key is such a dialog.  Nothing waits (the usual case): no lock. */
static bool pend_note(struct fp_kmaps *km, const struct sipdlg_dlg_key *key,
		      const struct fp_ident *id)
{
	struct fp_pend *p;
	bool out = false;

	if (!fp_pending_hint(&km->pend))
		return false;
	pthread_mutex_lock(&km->lock);
	p = fp_pending_find(&km->pend, key);
	if (p && (p->flags & FPP_OUT)) {
		__u64 created = p->id.created_ns;

		p->id = *id;	/* written when it moves in */
		p->id.created_ns = created;
		out = true;
	}
	pthread_mutex_unlock(&km->lock);
	return out;
}

/* fp_kmaps_sync(); @fresh: the dialog was just created, so it is most
 * likely in no map yet: insert first (one system call, not a lookup and
 * an update), read-modify-write only if it is there after all. */
static void sync_key(struct fastpath *fp, const struct sipdlg_dlg_key *key,
		     const struct fp_ident *id, bool fresh)
{
	struct fp_kmaps *km = &fp->km;
	struct sipdlg_dlg_value v, old;
	struct fp_pend *p;
	bool have;
	int r;

	/* Racing with this dialog's other event listing it is the race
	 * handled below (a slot found after all). */
	if (pend_note(km, key, id))
		return;

	/* In "dialogs" (or new): read-modify-write keeps the kernel's
	 * counters.  Only this dialog's own events write its entry. */
	r = -EEXIST;
	if (fresh) {
		memset(&v, 0, sizeof(v));
		v.created_ns = id->created_ns;
		ident_to_value(id, &v);
		r = bpf_map_update_elem(fp->dialogs_fd, key, &v,
					BPF_NOEXIST) == 0 ? 0 : -errno;
		/* The key of an ended dialog whose entry waits for the batch
		 * deletion (h_id is random: next to never): that deletion
		 * goes first, then the insert again. */
		if (r == -EEXIST && gone_has(km, key)) {
			fp_kmaps_flush(fp);
			r = bpf_map_update_elem(fp->dialogs_fd, key, &v,
						BPF_NOEXIST) == 0 ? 0 : -errno;
		}
		have = false;
	}
	if (r == -EEXIST) {
		have = bpf_map_lookup_elem(fp->dialogs_fd, key, &v) == 0;
		if (!have) {
			memset(&v, 0, sizeof(v));
			v.created_ns = id->created_ns;
		}
		old = v;
		ident_to_value(id, &v);
		/* The kernel confirmed it (xdp.relay.ack: state 4 and the
		 * callee tag, written when it relayed the ACK) before the
		 * controller heard of it: never put an earlier state back. */
		if (have && old.state == 4 && v.state < 4) {
			v.state = old.state;
			if (!v.callee_tag_hash)
				v.callee_tag_hash = old.callee_tag_hash;
		}
		/* The same identity again (an event that changed nothing
		 * the kernel matches on): no write. */
		if (have && memcmp(&old, &v, sizeof(v)) == 0)
			return;
		r = bpf_map_update_elem(fp->dialogs_fd, key, &v, BPF_ANY) == 0 ?
			    0 : -errno;
		/* An entry updated in place: nothing in the bookkeeping
		 * changes (no lock). */
		if (!r && have)
			return;
	}
	pthread_mutex_lock(&km->lock);
	if (r && have) {
		/* The old identity stays; it is looser (no callee tag yet),
		 * never a reason to drop. */
		km->dialogs_failed++;
		stat_inc(km->st_dialogs_failed);
		warn_limited(km, "dialog %u:%u: cannot update its dialogs map "
				 "entry: %s",
			     key->h_entry, key->h_id, strerror(-r));
	} else if (r) {
		out_add_locked(fp, key, id, r);
	} else if (!have) {
		km->n_kernel++;
		/* Two events of one dialog on two workers: one may have
		 * listed it as out while the other found a free slot. */
		p = fp_pending_find(&km->pend, key);
		if (p) {
			out_clear_locked(fp, p);
			if (!p->flags)
				fp_pending_del(&km->pend, p);
		}
	}
	state_write(fp);
	pthread_mutex_unlock(&km->lock);
	if (!r && !have)
		fp_kmaps_callid_put(fp, key, id);
}

void fp_kmaps_note(struct fastpath *fp, const struct sipdlg_dlg_key *key,
		   const struct fp_ident *id)
{
	pend_note(&fp->km, key, id);
}

bool fp_kmaps_callids_used(const struct fastpath *fp)
{
	return fp->callids_fd >= 0 && fp->km.match_mode != 0;
}

void fp_kmaps_sync(struct fastpath *fp, const struct sipdlg_dlg_key *key,
		   const struct fp_ident *id)
{
	sync_key(fp, key, id, false);
}

void fp_kmaps_sync_new(struct fastpath *fp, const struct sipdlg_dlg_key *key,
		       const struct fp_ident *id)
{
	sync_key(fp, key, id, true);
}

int fp_kmaps_in_kernel(struct fastpath *fp, const struct sipdlg_dlg_key *key)
{
	struct fp_kmaps *km = &fp->km;
	struct fp_pend *p;
	int r;

	if (!km->lock_ok)
		return -1;
	pthread_mutex_lock(&km->lock);
	p = fp_pending_find(&km->pend, key);
	if (p && (p->flags & FPP_OUT))
		r = 0;
	else if (km->starting || km->n_untracked)
		r = -1;		/* a dialog may be in no list: ask the map */
	else
		r = 1;
	pthread_mutex_unlock(&km->lock);
	return r;
}

/*
 * Move up to @max waiting dialogs (oldest first) into the maps; stop at
 * the first "dialogs" insert that fails (the map is full again).
 * Under km.lock.
 */
static void retry_locked(struct fastpath *fp, size_t max)
{
	struct fp_kmaps *km = &fp->km;
	struct fp_pend *p, *next;
	size_t tries = 0;

	for (p = km->pend.head; p && tries < max; p = next) {
		next = p->next;
		tries++;
		if (p->flags & FPP_OUT) {
			struct sipdlg_dlg_value v;
			int w;

			memset(&v, 0, sizeof(v));
			v.created_ns = p->id.created_ns;
			ident_to_value(&p->id, &v);
			w = bpf_map_update_elem(fp->dialogs_fd, &p->key, &v,
						BPF_NOEXIST) == 0 ? 0 : errno;
			/* EEXIST: a racing event of the dialog wrote (and
			 * counted) it; it only needs clearing here. */
			if (w && w != EEXIST)
				break;
			if (!w) {
				km->n_kernel++;
				km->moved_in++;
				stat_inc(km->st_moved_in);
			}
			/* In "dialogs" first, then out of "overflow": the
			 * kernel finds it in one or the other throughout. */
			out_clear_locked(fp, p);
			if (fp_kmaps_callids_used(fp) && p->id.callid_hash &&
			    bpf_map_update_elem(fp->callids_fd,
						&p->id.callid_hash, &p->key,
						BPF_ANY) != 0) {
				km->callids_failed++;
				stat_inc(km->st_callids_failed);
				if (km->match_mode != 0) {
					p->flags |= FPP_NO_CALLID;
					km->n_no_callid++;
				}
			}
		} else if (p->flags & FPP_NO_CALLID) {
			if (bpf_map_update_elem(fp->callids_fd,
						&p->id.callid_hash, &p->key,
						BPF_ANY) == 0) {
				p->flags &= ~FPP_NO_CALLID;
				km->n_no_callid--;
			}
		}
		if (!p->flags)
			fp_pending_del(&km->pend, p);
	}
}

/* Delete @n keys of "dialogs": one batch, single deletions after a
 * key the batch stopped at (not there) or when batches are refused.
 * The number deleted. */
static size_t delete_keys(struct fastpath *fp,
			  const struct sipdlg_dlg_key *keys, size_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	__u32 count = (__u32)n;
	size_t done, i;

	if (bpf_map_delete_batch(fp->dialogs_fd, keys, &count, &o) == 0)
		return n;
	/* count: deleted before the key that failed (ENOENT: a racing
	 * event removed it); anything else: maybe no batch support */
	done = errno == ENOENT && count < n ? count : 0;
	i = errno == ENOENT && count < n ? (size_t)count + 1 : 0;
	for (; i < n; i++)
		if (bpf_map_delete_elem(fp->dialogs_fd, &keys[i]) == 0)
			done++;
	return done;
}

void fp_kmaps_flush(struct fastpath *fp)
{
	struct fp_kmaps *km = &fp->km;
	struct sipdlg_dlg_key keys[FP_KMAPS_GONE_MAX];
	size_t n, done;

	if (!km->lock_ok)
		return;
	pthread_mutex_lock(&km->lock);
	n = km->n_gone;
	memcpy(keys, km->gone, n * sizeof(keys[0]));
	km->n_gone = 0;
	atomic_store(&km->gone_first_ms, 0);
	pthread_mutex_unlock(&km->lock);
	if (!n)
		return;
	done = delete_keys(fp, keys, n);
	pthread_mutex_lock(&km->lock);
	km->n_kernel -= done < km->n_kernel ? done : km->n_kernel;
	if (done && km->pend.n)
		retry_locked(fp, FP_KMAPS_RETRY * done);
	state_write(fp);
	pthread_mutex_unlock(&km->lock);
}

void fp_kmaps_flush_due(struct fastpath *fp, uint64_t age_ms)
{
	uint64_t first = atomic_load(&fp->km.gone_first_ms);

	/* no lock, no clock read while nothing waits (the usual pass) */
	if (first && tmr_now_ms() >= first + age_ms)
		fp_kmaps_flush(fp);
}

void fp_kmaps_forget(struct fastpath *fp, const struct sipdlg_dlg_key *key,
		     __u64 callid_hash)
{
	struct fp_kmaps *km = &fp->km;
	struct sipdlg_dlg_key other;
	struct fp_pend *p;
	bool freed, defer = false, full = false;

	pthread_mutex_lock(&km->lock);
	p = fp_pending_find(&km->pend, key);
	if (p) {
		out_clear_locked(fp, p);
		if (p->flags & FPP_NO_CALLID)
			km->n_no_callid--;
		fp_pending_del(&km->pend, p);
		state_write(fp);
	} else if (km->defer_ok && !km->starting && !km->pend.n &&
		   !km->n_untracked && km->n_gone < FP_KMAPS_GONE_MAX) {
		/* In "dialogs" (nothing says otherwise) and no dialog waits
		 * for its slot: the deletion can wait for the batch. */
		if (!km->n_gone)
			atomic_store(&km->gone_first_ms, tmr_now_ms());
		km->gone[km->n_gone++] = *key;
		full = km->n_gone == FP_KMAPS_GONE_MAX;
		defer = true;
	}
	pthread_mutex_unlock(&km->lock);

	/* The Call-ID index may meanwhile name a newer dialog: keep it.
	 * In dlg_match_mode 0 nothing was written (and the start's
	 * reconcile emptied the map): no lookup, no delete. */
	if (fp_kmaps_callids_used(fp) && callid_hash &&
	    bpf_map_lookup_elem(fp->callids_fd, &callid_hash, &other) == 0 &&
	    other.h_entry == key->h_entry && other.h_id == key->h_id)
		bpf_map_delete_elem(fp->callids_fd, &callid_hash);
	if (defer) {
		if (full)
			fp_kmaps_flush(fp);
		return;
	}
	/* Also when it was listed as out: a racing event may have written
	 * it (ENOENT is the usual answer then). */
	freed = bpf_map_delete_elem(fp->dialogs_fd, key) == 0;
	pthread_mutex_lock(&km->lock);
	if (freed) {
		if (km->n_kernel)
			km->n_kernel--;
		retry_locked(fp, FP_KMAPS_RETRY);
		state_write(fp);
	} else if (!p && km->n_untracked) {
		/* Likely one we could not remember (it was in no map). */
		km->n_untracked--;
		state_write(fp);
	}
	pthread_mutex_unlock(&km->lock);
}

void fp_kmaps_reconcile(struct fastpath *fp)
{
	struct fp_kmaps *km = &fp->km;
	struct sipdlg_dlg_key key, next, *prev = NULL;
	uint64_t stale = 0, counted = 0, before;

	pthread_mutex_lock(&km->lock);
	while (km->overflow_fd >= 0 &&
	       bpf_map_get_next_key(km->overflow_fd, prev, &next) == 0) {
		struct fp_pend *p = fp_pending_find(&km->pend, &next);

		key = next;
		if (p && (p->flags & FPP_OVERFLOW)) {
			prev = &key;
			continue;
		}
		bpf_map_delete_elem(km->overflow_fd, &key);
		stale++;
	}
	/* Count what is in "dialogs" now (the restore wrote it, the
	 * reconcile of fp_dialogs.c removed the stale part). */
	prev = NULL;
	while (bpf_map_get_next_key(fp->dialogs_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		counted++;
	}
	km->n_kernel = counted;
	before = km->n_out;
	retry_locked(fp, km->pend.n);
	km->starting = false;	/* from now on fpstate is ours alone */
	state_write(fp);
	if (stale || km->n_out || before)
		log_notice("kernel overflow map reconciled: %llu stale "
			   "entries removed, %llu dialogs moved into the "
			   "dialogs map, %llu still outside it",
			   (unsigned long long)stale,
			   (unsigned long long)(before - km->n_out),
			   (unsigned long long)km->n_out);
	pthread_mutex_unlock(&km->lock);
}

void fp_kmaps_info(struct fastpath *fp, struct fp_kmaps_info *out)
{
	struct fp_kmaps *km = &fp->km;
	struct fp_pend *p;
	size_t walked = 0;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&km->lock);
	out->in_kernel = km->n_kernel;
	out->capacity = km->capacity;
	out->overflow_capacity = km->overflow_capacity;
	out->not_in_kernel = km->n_out + km->n_untracked;
	out->in_overflow = km->n_overflow;
	out->lost = km->n_lost + km->n_untracked;
	out->no_callid = km->n_no_callid;
	out->degraded = km->n_lost || km->n_untracked || km->n_no_callid;
	out->dialogs_failed = km->dialogs_failed;
	out->overflow_failed = km->overflow_failed;
	out->callids_failed = km->callids_failed;
	out->moved_in = km->moved_in;
	/* Bounded walk: a status call must not hold the lock for long. */
	for (p = km->pend.head; p && out->n_keys < 16 && walked < 4096;
	     p = p->next, walked++)
		if (p->flags & FPP_OUT)
			out->keys[out->n_keys++] = p->key;
	pthread_mutex_unlock(&km->lock);
}

void fp_kmaps_set_loading(struct fastpath *fp, bool on)
{
	if (!fp || !fp->km.lock_ok)
		return;
	pthread_mutex_lock(&fp->km.lock);
	fp->km.loading = on;
	state_write(fp);
	pthread_mutex_unlock(&fp->km.lock);
}
