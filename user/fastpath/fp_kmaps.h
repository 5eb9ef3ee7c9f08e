/*
 * fp_kmaps.h - lifecycle of the kernel's dialog maps: a dialog that cannot
 * be written into "dialogs" is listed in "overflow" (or, failing that,
 * the fast path is marked degraded in "fpstate") so the kernel passes its
 * requests instead of dropping them as unknown; it moves into "dialogs"
 * when room appears.  Also the "callids" index writes.
 *
 * Retry rule: each time a dialog leaves "dialogs", the FP_KMAPS_RETRY
 * longest-waiting dialogs (arrival order) are tried, stopping at the
 * first insert that fails; the reconcile at start tries them all.  New
 * dialogs still try "dialogs" first.
 *
 * Used by fp_dialogs.c (the dialog-table glue) and fp_rpc.c (status).
 * Thread-safe: the dialog callbacks run on any worker.
 */
#ifndef SIPDLG_FP_KMAPS_H
#define SIPDLG_FP_KMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fastpath/fp_pending.h"

struct fastpath;
struct stats;
struct sipdlg_config;

#define FP_KMAPS_RETRY 4	/* waiting dialogs tried per freed slot */

/* After load: map fds, capacities, a clean "fpstate".  0 or -errno. */
int fp_kmaps_open(struct fastpath *fp, const struct sipdlg_config *cfg,
		  struct stats *st);
/* The same with fp->dialogs_fd, callids_fd, km.fpstate_fd and
 * km.overflow_fd already set (tests build them by hand). */
int fp_kmaps_setup(struct fastpath *fp, int match_mode, struct stats *st);
void fp_kmaps_close(struct fastpath *fp);

/* Write the dialog's identity into "dialogs" (keeping the kernel's
 * counters), or keep it waiting in "overflow" when that fails. */
void fp_kmaps_sync(struct fastpath *fp, const struct sipdlg_dlg_key *key,
		   const struct fp_ident *id);
/* The same for a dialog just created (most likely in no map yet): one
 * insert instead of a lookup and an update. */
void fp_kmaps_sync_new(struct fastpath *fp, const struct sipdlg_dlg_key *key,
		       const struct fp_ident *id);
/* The dialog's identity changed only in what the kernel does not read
 * (its state, outside the relay's "== 4"): no system call for a dialog in
 * "dialogs"; one waiting outside keeps @id for when it moves in. */
void fp_kmaps_note(struct fastpath *fp, const struct sipdlg_dlg_key *key,
		   const struct fp_ident *id);
/* Whether a dialog that fp_kmaps_sync() wrote is in "dialogs", by the
 * bookkeeping alone (no system call): 1 yes, 0 no (it waits outside),
 * -1 cannot tell (start, or dialogs it could not remember): ask the map.
 * Any thread. */
int fp_kmaps_in_kernel(struct fastpath *fp, const struct sipdlg_dlg_key *key);
/* The dialog ended: out of every map; a freed slot goes to the waiting. */
void fp_kmaps_forget(struct fastpath *fp, const struct sipdlg_dlg_key *key,
		     __u64 callid_hash);
/* Whether "callids" is kept: the kernel reads it only in dlg_match_mode
 * 1 and 2 (bpf/sip_match.h), so in mode 0 it is neither written nor
 * cleaned per dialog (the start's reconcile empties it). */
bool fp_kmaps_callids_used(const struct fastpath *fp);
/* "callids"[Call-ID hash] = @key (only when fp_kmaps_callids_used); a
 * failure is counted, logged and keeps the fast path degraded.  0 or
 * -errno. */
int fp_kmaps_callid_put(struct fastpath *fp, const struct sipdlg_dlg_key *key,
			const struct fp_ident *id);
/*
 * The deletions fp_kmaps_forget() deferred, made now in one system call
 * (BPF_MAP_DELETE_BATCH).  A dialog's entry outlives its end by about
 * SIPDLG_CLOCK_PUBLISH_MS while a SIP worker runs (fp_kmaps_flush_due
 * before it sleeps), at most the main loop's tick (fp_clock.c,
 * FP_GONE_TICK_MS) when none does: the kernel's view is that
 * of a dialog lingering in state 5 (matched, passed up, never relayed:
 * its relay_hops entry went at once).  A deletion is deferred only while
 * no dialog waits for a slot.  Any thread.
 */
void fp_kmaps_flush(struct fastpath *fp);
/* fp_kmaps_flush() if the oldest deferred deletion waits @age_ms or more;
 * no lock and no system call otherwise.  Any thread. */
void fp_kmaps_flush_due(struct fastpath *fp, uint64_t age_ms);
/* Start: stale "overflow" keys out, every waiting dialog tried,
 * "fpstate" rewritten, the dialogs in the map counted. */
void fp_kmaps_reconcile(struct fastpath *fp);

/* The stored dialogs are not loaded yet (a start without the database,
 * db.h db_defer_load): while @on, "fpstate" says degraded, so the kernel
 * passes a request whose dialog it does not know instead of dropping it
 * (unknown_dialog: drop); the dialogs loaded later enter the maps by
 * their LOADED callbacks (fp_dialogs.c).  NULL fp: no-op.  Any thread. */
void fp_kmaps_set_loading(struct fastpath *fp, bool on);

/* For xdp.status. */
struct fp_kmaps_info {
	uint64_t in_kernel;		/* entries in "dialogs" */
	uint64_t capacity;		/* its max_entries */
	uint64_t overflow_capacity;
	uint64_t not_in_kernel;		/* dialogs not in "dialogs" */
	uint64_t in_overflow;		/* ... of them listed in "overflow" */
	uint64_t lost;			/* ... listed nowhere (degraded) */
	uint64_t no_callid;		/* in "dialogs", "callids" missing */
	bool degraded;
	uint64_t dialogs_failed, overflow_failed, callids_failed, moved_in;
	size_t n_keys;			/* the first not-in-kernel dialogs */
	struct sipdlg_dlg_key keys[16];
};
void fp_kmaps_info(struct fastpath *fp, struct fp_kmaps_info *out);

#endif
