/*
 * dlg_timer.c - the one timer of each dialog, in the shared timing-wheel
 * timer service (core/timer.h): arming, moving and cancelling cost O(1)
 * and nothing scans the table.
 *
 * What the timer is for depends on the state it was armed in:
 *   states 1/2  early_timeout from creation: the call never got an answer
 *               (lost transaction); it ends as failed (FAILED callbacks,
 *               failed_dialogs+1, early_dialogs-1 if it was early);
 *   state 3     min(lifetime, noack_timeout) from the 2xx: no ACK came;
 *               it expires;
 *   state 4     the lifetime, reset by the ACK and by sequential
 *               requests: it expires, unless the still_active hook says
 *               the call is alive (e.g. the fast path saw its packets);
 *   state 5     end_timeout: unlink it from the table, whoever holds it.
 * Expiry: EXPIRED callbacks (the owner sends BYEs if the dialog has
 * DLG_IFLAG_TIMEOUTBYE), expired_dialogs+1, state 5, profiles left.
 *
 * References: each arming that finds the timer idle gives the timer one
 * reference (counted in c->tmr_refs); a cancel that removes a pending
 * timer, or the end of a firing, drops it.  All arming and cancelling is
 * done under the slot lock, so a firing that finds its timer pending
 * again (re-armed while it waited for the lock) is stale and only drops
 * its reference.
 */
#define LOG_TAG "dialog"

#include <errno.h>

#include "core/log.h"
#include "dialog/dlg_int.h"

void dlg_timer_arm_locked(struct dlg_cell *c, enum dlg_tkind kind,
			  uint64_t ms)
{
	int r;

	/* Take the timer's reference first: the timer may fire at once. */
	dlg_ref(c);
	r = tmr_arm(c->tbl->tmr, &c->tmr, ms);
	if (r == 0) {
		c->tmr_refs++;
	} else {
		/* Already pending (moved) or -ENOMEM: the extra one goes. */
		dlg_ref_put_locked(c);
		if (r < 0) {
			log_err("dialog %u:%u: cannot arm timer: %d",
				c->h_entry, c->h_id, r);
			c->tkind = DLG_T_NONE;
			c->due = false;
			return;
		}
	}
	c->tkind = kind;
	c->due = true;
}

void dlg_timer_stop_locked(struct dlg_cell *c)
{
	if (tmr_cancel(c->tbl->tmr, &c->tmr) == 1) {
		c->tmr_refs--;
		dlg_ref_put_locked(c);
	}
	c->tkind = DLG_T_NONE;
	c->due = false;
}

void dlg_timer_for_state_locked(struct dlg_cell *c)
{
	const struct dlg_config *cfg = &c->tbl->cfg;
	uint64_t ms;

	switch (atomic_load(&c->state)) {
	case DLG_STATE_UNCONFIRMED:
	case DLG_STATE_EARLY:
		if (cfg->early_timeout_ms)
			dlg_timer_arm_locked(c, DLG_T_EARLY,
					     cfg->early_timeout_ms);
		else
			dlg_timer_stop_locked(c);
		break;
	case DLG_STATE_CONFIRMED_NA:
		ms = c->lifetime_ms;
		if (cfg->noack_timeout_ms && cfg->noack_timeout_ms < ms)
			ms = cfg->noack_timeout_ms;
		dlg_timer_arm_locked(c, DLG_T_LIFETIME, ms);
		break;
	case DLG_STATE_CONFIRMED:
		dlg_timer_arm_locked(c, DLG_T_LIFETIME, c->lifetime_ms);
		break;
	case DLG_STATE_DELETED:
		if (cfg->end_timeout_ms)
			dlg_timer_arm_locked(c, DLG_T_END,
					     cfg->end_timeout_ms);
		else
			dlg_timer_stop_locked(c);
		break;
	}
}

int dlg_set_timeout(struct dlg_cell *c, uint64_t ms)
{
	int st, err = 0;

	if (!ms)
		return -EINVAL;
	dlg_lock(c);
	st = atomic_load(&c->state);
	if (st == DLG_STATE_DELETED) {
		err = -EINVAL;
	} else {
		c->lifetime_ms = ms;
		atomic_fetch_or(&c->dflags, DLG_DFLAG_CHANGED);
		if (st == DLG_STATE_CONFIRMED_NA || st == DLG_STATE_CONFIRMED)
			dlg_timer_arm_locked(c, DLG_T_LIFETIME, ms);
	}
	dlg_unlock(c);
	return err;
}

int dlg_set_lifetime(struct dlg_cell *c, uint64_t ms)
{
	int err = 0;

	if (!ms)
		return -EINVAL;
	dlg_lock(c);
	if (atomic_load(&c->state) == DLG_STATE_DELETED) {
		err = -EINVAL;
	} else if (c->lifetime_ms != ms) {
		c->lifetime_ms = ms;
		atomic_fetch_or(&c->dflags, DLG_DFLAG_CHANGED);
	}
	dlg_unlock(c);
	return err;
}

/*
 * Ask the owner whether a confirmed dialog is still alive.  Called with
 * the lock held; drops it around the hook.  Returns true when the firing
 * is finished (re-armed, stale, or the dialog moved on meanwhile).
 */
static bool ask_still_active(struct dlg_cell *c)
{
	struct dlg_table *t = c->tbl;
	uint64_t ext = 0;
	int r;

	dlg_unlock(c);
	r = t->cfg.still_active(c, &ext);
	dlg_lock(c);
	if (tmr_is_pending(t->tmr, &c->tmr) ||
	    atomic_load(&c->state) != DLG_STATE_CONFIRMED)
		return true;	/* re-armed or ended while we asked */
	if (r != 1)
		return false;
	dlg_timer_arm_locked(c, DLG_T_LIFETIME, ext ? ext : c->lifetime_ms);
	return true;
}

/*
 * A dialog in state 3 at its noack timeout: did its ACK go another way?
 * Called with the lock held; drops it around the hook (which confirms
 * the dialog itself, re-arming the timer).  True when the firing is
 * finished: re-armed or moved on meanwhile.
 */
static bool ask_acked_elsewhere(struct dlg_cell *c)
{
	struct dlg_table *t = c->tbl;

	dlg_unlock(c);
	t->cfg.acked_elsewhere(c);
	dlg_lock(c);
	return tmr_is_pending(t->tmr, &c->tmr) ||
	       atomic_load(&c->state) != DLG_STATE_CONFIRMED_NA;
}

/* The timer service calls this on its thread, no lock held; it owns the
 * reference the arming gave the timer. */
void dlg_timer_fn(struct tmr *tm)
{
	struct dlg_cell *c = tm->data;
	struct dlg_table *t = c->tbl;
	struct dlg_slot *s = dlg_slot_of(c);
	struct dlg_cb_run run = { { 0 }, { 0 } };
	bool drop_table = false;

	dlg_lock(c);
	if (tmr_is_pending(t->tmr, &c->tmr))
		goto done;	/* stale: re-armed while we waited */
	c->due = false;
	switch (atomic_load(&c->state)) {
	case DLG_STATE_UNCONFIRMED:
	case DLG_STATE_EARLY:
		log_debug("dialog %u:%u: no final reply after %llu ms, "
			   "ending it as failed", c->h_entry, c->h_id,
			   (unsigned long long)t->cfg.early_timeout_ms);
		dlg_fail_early_locked(c, &run);
		break;
	case DLG_STATE_CONFIRMED:
		if (t->cfg.still_active && ask_still_active(c))
			break;
		/* fall through */
	case DLG_STATE_CONFIRMED_NA:
		/* (state 4 falls through to here: not asked) */
		if (atomic_load(&c->state) == DLG_STATE_CONFIRMED_NA &&
		    t->cfg.acked_elsewhere && ask_acked_elsewhere(c))
			break;
		dlg_expire_locked(c, &run);
		break;
	case DLG_STATE_DELETED:
		if (c->linked) {
			log_debug("dialog %u:%u: still held %llu ms after "
				   "it ended, unlinking it", c->h_entry,
				   c->h_id,
				   (unsigned long long)t->cfg.end_timeout_ms);
			dlg_slot_unlink_locked(s, c);
			drop_table = true;
		}
		c->tkind = DLG_T_NONE;
		break;
	}
done:
	c->tmr_refs--;
	dlg_unlock(c);
	dlg_run_cb_set(c, &run);
	if (drop_table)
		dlg_unref(c);	/* the table's */
	dlg_unref(c);		/* the timer's */
}
