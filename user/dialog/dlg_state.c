/*
 * dlg_state.c - creating dialogs (dlg_manage, spirals) and the state
 * machine of reference §2, driven by the replies of the INVITE
 * transaction and by matched sequential requests.
 *
 * Transition table (event x state; "-" = no change, "bogus" = ignored and
 * counted; every other cell is implemented below, one case each):
 *
 *   event     1 UNCONF   2 EARLY   3 CONF_NA   4 CONF    5 DELETED
 *   RPL1xx    ->2        -         bogus       bogus     bogus
 *   RPL2xx    ->3        ->3       - / FORK    - / FORK  ->3 if never
 *                                                        confirmed, else
 *                                                        bogus
 *   RPL3xx    ->5 fail   ->5 fail  bogus       bogus     bogus
 *   REQACK    bogus      bogus     ->4         -         -
 *   REQBYE    bogus      -         ->5 HASBYE  ->5 HASBYE -
 *   REQPRACK  bogus      PRACK     PRACK       bogus     -
 *   REQ       bogus      -         -           -         -
 *
 * Statistics follow the state: dlg_set_state_locked() is the only place
 * that changes it, and it moves the gauges (early = state 2, active =
 * states 3 and 4) on every transition, so they cannot drift whatever path
 * (reply, request, timer, RPC, clean-up) ends a dialog.
 */
#define LOG_TAG "dialog"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/stats.h"
#include "dialog/dlg_int.h"

static bool is_active(int st)
{
	return st == DLG_STATE_CONFIRMED_NA || st == DLG_STATE_CONFIRMED;
}

void dlg_set_state_locked(struct dlg_cell *c, int new_state)
{
	const struct dlg_stats *st = &c->tbl->st;
	int old = atomic_load(&c->state);

	if (old == new_state)
		return;
	if (old == DLG_STATE_EARLY)
		stat_dec(st->early_dialogs);
	if (new_state == DLG_STATE_EARLY)
		stat_inc(st->early_dialogs);
	if (is_active(old) && !is_active(new_state))
		stat_dec(st->active_dialogs);
	if (!is_active(old) && is_active(new_state))
		stat_inc(st->active_dialogs);
	if (c->linked) {	/* the limits' counts (dlg_table_load) */
		bool was_early = old <= DLG_STATE_EARLY;
		bool is_early = new_state <= DLG_STATE_EARLY;

		if (was_early != is_early)
			atomic_fetch_add(&c->tbl->n_early, is_early ? 1 : -1);
		if (new_state == DLG_STATE_DELETED)
			atomic_fetch_sub(&c->tbl->n_live, 1);
		else if (old == DLG_STATE_DELETED)
			atomic_fetch_add(&c->tbl->n_live, 1);
	}
	atomic_store(&c->state, new_state);
	if (new_state == DLG_STATE_DELETED) {
		c->end_ts = (uint32_t)time(NULL);
		dlg_profiles_leave_locked(c);
	}
}

static int bogus(struct dlg_cell *c, int event, int st)
{
	atomic_fetch_add(&c->tbl->ctr.bogus, 1);
	log_debug("dialog %u:%u: event %d in state %d ignored", c->h_entry,
		  c->h_id, event, st);
	return DLG_RC_BOGUS;
}

/*
 * Lay out @n strings in a string block: *size gets the block's size and
 * refs[i] each string's place.  The block starts with a NUL where every
 * empty string points; a string equal to an earlier one shares it.
 * -E2BIG if the block would pass DLG_BLK_MAX.
 */
static int blk_plan(const struct sip_str *src, size_t n,
		    struct dlg_sref *refs, size_t *size)
{
	size_t off = 1;

	for (size_t i = 0; i < n; i++) {
		size_t j;

		refs[i].off = refs[i].len = 0;
		if (!src[i].len)
			continue;
		for (j = 0; j < i; j++)
			if (src[j].len == src[i].len &&
			    !memcmp(src[j].p, src[i].p, src[i].len))
				break;
		if (j < i) {
			refs[i] = refs[j];
			continue;
		}
		if (off + src[i].len + 1 > DLG_BLK_MAX)
			return -E2BIG;
		refs[i].off = (uint16_t)off;
		refs[i].len = (uint16_t)src[i].len;
		off += src[i].len + 1;
	}
	*size = off;
	return 0;
}

static void blk_fill(char *blk, const struct sip_str *src, size_t n,
		     const struct dlg_sref *refs)
{
	blk[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!refs[i].len)
			continue;
		memcpy(blk + refs[i].off, src[i].p, refs[i].len);
		blk[refs[i].off + refs[i].len] = '\0';
	}
}

/* A new cell with the INVITE's strings; -ENOMEM or -E2BIG. */
static int cell_alloc(struct dlg_table *t, const struct dlg_invite *inv,
		      struct sip_str cid, const struct dlg_create_opts *opts,
		      struct dlg_cell **out)
{
	struct sip_str src[7] = { cid, inv->from_uri, inv->to_uri,
				  inv->req_uri, inv->from_tag,
				  inv->route_set, inv->contact };
	struct dlg_sref refs[7];
	struct dlg_cell *c;
	const char *sock = NULL;
	size_t n;
	int err;

	err = blk_plan(src, 7, refs, &n);
	if (err)
		return err;
	if (inv->socket.len) {
		sock = dlg_sock_intern(t, inv->socket);
		if (!sock)
			return -ENOMEM;
	}
	c = dlg_mem_alloc(sizeof(*c) + n);
	if (!c)
		return -ENOMEM;
	c->data_len = (uint16_t)n;
	c->tbl = t;
	atomic_init(&c->ref, 1);	/* the caller's */
	atomic_init(&c->state, DLG_STATE_UNCONFIRMED);
	atomic_init(&c->sflags, opts ? opts->sflags : 0);
	atomic_init(&c->iflags, (opts ? opts->iflags : 0) |
				(t->cfg.send_bye ? DLG_IFLAG_TIMEOUTBYE : 0));
	atomic_init(&c->dflags, 0);
	c->h_entry = dlg_hash_entry(cid, t->size);
	c->lifetime_ms = opts && opts->lifetime_ms ? opts->lifetime_ms :
						     t->cfg.default_timeout_ms;
	c->init_ts = (uint32_t)time(NULL);
	c->from_rr_nb = (uint8_t)inv->rr_count;
	tmr_init(&c->tmr, dlg_timer_fn, c);

	blk_fill(c->data, src, 7, refs);
	c->callid = refs[0];
	c->from_uri = refs[1];
	c->to_uri = refs[2];
	c->req_uri = refs[3];
	c->tag[DLG_CALLER_LEG] = refs[4];
	c->route_set[DLG_CALLER_LEG] = refs[5];
	c->contact[DLG_CALLER_LEG] = refs[6];
	c->sock[DLG_CALLER_LEG] = sock;
	c->cseq[DLG_CALLER_LEG] = inv->cseq;
	*out = c;
	return 0;
}

/*
 * The live dialog (state 1-3) a new INVITE with @cid and caller tag @ftag
 * spirals into, from the slot's keyed Call-ID index (never a walk of the
 * slot, which an attacker can fill); the lowest h_id if several.
 */
static struct dlg_cell *spiral_of_locked(struct dlg_table *t,
					 struct dlg_slot *s,
					 struct sip_str cid,
					 struct sip_str ftag)
{
	struct dlg_cell *best = NULL;

	for (struct dlg_cell *x = dlg_idx_cid_locked(t, s, cid, ftag); x;
	     x = x->cid_next) {
		int st = atomic_load(&x->state);

		if (st <= DLG_STATE_CONFIRMED_NA &&
		    sip_str_eq(DLG_S(x, callid), cid) &&
		    sip_str_eq(dlg_leg_tag(x, DLG_CALLER_LEG), ftag) &&
		    (!best || x->h_id < best->h_id))
			best = x;
	}
	return best;
}

int dlg_manage(struct dlg_table *t, const struct dlg_invite *inv,
	       const struct dlg_create_opts *opts, struct dlg_cell **out)
{
	struct sip_str cid = dlg_trim(inv->callid);
	struct dlg_cb_params p = { 0 };
	struct dlg_cell *c, *x;
	struct dlg_slot *s;
	int err;

	if (!cid.len || !inv->from_tag.len || !inv->contact.len)
		return -EINVAL;
	err = cell_alloc(t, inv, cid, opts, &c);
	if (err)
		return err;
	s = &t->slots[c->h_entry];
	p.msg = inv->msg;
	p.dir = DLG_DIR_DOWNSTREAM;

	pthread_mutex_lock(&s->lock);
	if (t->cfg.detect_spirals) {
		/* Same Call-ID and caller tag, in state 1-3 (a confirmed
		 * dialog does not absorb a new INVITE: §3). */
		x = spiral_of_locked(t, s, cid, inv->from_tag);
		if (x) {
			dlg_ref(x);
			p.old_state = p.new_state = atomic_load(&x->state);
			pthread_mutex_unlock(&s->lock);
			dlg_cell_free_mem(c);	/* never linked nor seen */
			dlg_run_cbs(x, DLGCB_SPIRALED, &p);
			*out = x;
			return DLG_RC_SPIRAL;
		}
	}
	err = dlg_slot_link_locked(t, s, c);
	if (err) {
		pthread_mutex_unlock(&s->lock);
		dlg_cell_free_mem(c);
		return err;
	}
	/* h_id is known now: sign the cookie before anyone sees the cell. */
	if (t->cfg.mac_sign)
		c->mac_gen = t->cfg.mac_sign(t->cfg.mac_ud, c->h_entry, c->h_id,
					     &c->mac);
	dlg_timer_for_state_locked(c);
	stat_inc(t->st.processed_dialogs);
	pthread_mutex_unlock(&s->lock);

	p.old_state = p.new_state = DLG_STATE_UNCONFIRMED;
	dlg_run_cbs(c, DLGCB_CREATED, &p);
	*out = c;
	return DLG_RC_CREATED;
}

/* The callee leg, from the first relayed 2xx; later 2xx never replace it
 * (a contact refreshed before it stays in ext and wins). */
static void store_callee_locked(struct dlg_cell *c, const struct dlg_reply *r)
{
	struct sip_str src[3] = { r->to_tag, r->route_set, r->contact };
	struct dlg_sref refs[3];
	const char *sock = NULL;
	size_t n;
	char *p;

	if (c->callee_blk || r->local)
		return;
	if (blk_plan(src, 3, refs, &n) != 0 ||
	    (r->socket.len && !(sock = dlg_sock_intern(c->tbl, r->socket))) ||
	    !(p = dlg_mem_alloc(n))) {
		log_err("dialog %u:%u: cannot store the callee leg",
			c->h_entry, c->h_id);
		return;
	}
	blk_fill(p, src, 3, refs);
	c->tag[DLG_CALLEE_LEG] = refs[0];
	c->route_set[DLG_CALLEE_LEG] = refs[1];
	c->contact[DLG_CALLEE_LEG] = refs[2];
	c->sock[DLG_CALLEE_LEG] = sock;
	c->callee_len = (uint16_t)n;
	c->callee_blk = p;
}

static void confirm_locked(struct dlg_cell *c, const struct dlg_reply *r)
{
	store_callee_locked(c, r);
	c->start_ts = (uint32_t)time(NULL);
	c->end_ts = 0;
	c->confirmed_once = true;
	atomic_fetch_or(&c->dflags, DLG_DFLAG_NEW);
	dlg_set_state_locked(c, DLG_STATE_CONFIRMED_NA);
	dlg_timer_for_state_locked(c);
}

/*
 * A 2xx in state 5 revives a dialog that failed (CANCEL/final reply raced
 * a 2xx) as Kamailio does, but only one that was never confirmed: a 2xx
 * after a BYE, or the retransmitted 2xx of a dialog that expired, is not a
 * late answer.  An unlinked cell is not revived either.
 */
static bool can_revive(const struct dlg_cell *c)
{
	return c->linked && !c->confirmed_once &&
	       !(atomic_load(&c->dflags) & DLG_DFLAG_HASBYE);
}

int dlg_on_reply(struct dlg_cell *c, const struct dlg_reply *r)
{
	struct dlg_cb_run run = { { 0 }, { 0 } };
	int code = r->code, st, rc = DLG_RC_NONE;

	if (code == 100)
		return DLG_RC_NONE;	/* a local 100 Trying is no event */
	if (code < 101 || code > 699)
		return -EINVAL;
	run.p.msg = r->msg;
	run.p.code = code;
	run.types[0] = DLGCB_RESPONSE_FWDED;

	dlg_lock(c);
	st = atomic_load(&c->state);
	run.p.old_state = st;
	if (code < 200) {
		if (st == DLG_STATE_UNCONFIRMED) {
			dlg_set_state_locked(c, DLG_STATE_EARLY);
			rc = DLG_RC_CHANGED;
		}
		if (st <= DLG_STATE_EARLY)
			run.types[1] = DLGCB_EARLY;
		else
			rc = bogus(c, DLG_EV_RPL1XX, st);
	} else if (code < 300) {
		if (st <= DLG_STATE_EARLY ||
		    (st == DLG_STATE_DELETED && can_revive(c))) {
			confirm_locked(c, r);
			run.types[1] = DLGCB_CONFIRMED_NA;
			rc = DLG_RC_CHANGED;
		} else if (st == DLG_STATE_DELETED) {
			rc = bogus(c, DLG_EV_RPL2XX, st);
		} else {
			struct sip_str tag = dlg_leg_tag(c, DLG_CALLEE_LEG);

			/* Same tag: a retransmission.  Another: a forked
			 * branch answered too (first 2xx wins). */
			if (!r->local && tag.p && r->to_tag.p &&
			    !sip_str_eq(tag, r->to_tag))
				rc = DLG_RC_FORK_2XX;
		}
	} else {
		if (st <= DLG_STATE_EARLY) {
			dlg_set_state_locked(c, DLG_STATE_DELETED);
			stat_inc(c->tbl->st.failed_dialogs);
			dlg_timer_for_state_locked(c);
			run.types[1] = DLGCB_FAILED;
			rc = DLG_RC_CHANGED;
		} else {
			rc = bogus(c, DLG_EV_RPL3XX, st);
		}
	}
	run.p.new_state = atomic_load(&c->state);
	dlg_unlock(c);
	dlg_run_cb_set(c, &run);
	return rc;
}

static int event_of(enum sip_method m)
{
	switch (m) {
	case SIP_METHOD_ACK:
		return DLG_EV_REQACK;
	case SIP_METHOD_BYE:
		return DLG_EV_REQBYE;
	case SIP_METHOD_PRACK:
		return DLG_EV_REQPRACK;
	default:
		return DLG_EV_REQ;
	}
}

/* Highest CSeq per direction, from every non-ACK request. */
static void track_cseq_locked(struct dlg_cell *c, enum dlg_dir dir,
			      uint32_t cseq)
{
	int leg;

	if (dir == DLG_DIR_NONE)
		return;
	leg = dir == DLG_DIR_DOWNSTREAM ? DLG_CALLER_LEG : DLG_CALLEE_LEG;
	if (cseq > c->cseq[leg])
		c->cseq[leg] = cseq;
}

/* A re-INVITE moves the remote target of its sender: the new one gets its
 * own copy (the block's may be shared with another string). */
static void refresh_contact_locked(struct dlg_cell *c, enum dlg_dir dir,
				   struct sip_str ct)
{
	struct dlg_ext *x;
	int leg;
	char *n;

	if (dir == DLG_DIR_NONE || !ct.len || ct.len > DLG_BLK_MAX)
		return;
	leg = dir == DLG_DIR_DOWNSTREAM ? DLG_CALLER_LEG : DLG_CALLEE_LEG;
	if (sip_str_eq(dlg_leg_contact(c, leg), ct))
		return;
	x = dlg_ext_locked(c);
	n = x ? malloc(ct.len + 1) : NULL;
	if (!n)
		return;
	memcpy(n, ct.p, ct.len);
	n[ct.len] = '\0';
	free(x->contact[leg]);
	x->contact[leg] = n;
	x->contact_len[leg] = (uint16_t)ct.len;
	atomic_fetch_or(&c->dflags, DLG_DFLAG_CHANGED);
}

static void reset_timer_locked(struct dlg_cell *c, bool force)
{
	if (!force && (c->tbl->cfg.timeout_noreset ||
		       (atomic_load(&c->iflags) & DLG_IFLAG_TIMER_NORESET)))
		return;
	dlg_timer_arm_locked(c, DLG_T_LIFETIME, c->lifetime_ms);
}

/* State 3 -> 4 by the ACK of the 2xx, whichever way it went (the
 * controller's dlg_on_request() or the kernel's, dlg_on_ack_elsewhere()):
 * the lifetime timer instead of the noack one, CONFIRMED to run. */
static void acked_locked(struct dlg_cell *c, struct dlg_cb_run *run)
{
	dlg_set_state_locked(c, DLG_STATE_CONFIRMED);
	reset_timer_locked(c, true);
	run->types[0] = DLGCB_CONFIRMED;
}

/* 3/4 -> 5 by a BYE (received or generated). */
static void bye_locked(struct dlg_cell *c, struct dlg_cb_run *run)
{
	atomic_fetch_or(&c->dflags, DLG_DFLAG_HASBYE);
	dlg_set_state_locked(c, DLG_STATE_DELETED);
	dlg_timer_for_state_locked(c);
	run->types[0] = DLGCB_TERMINATED;
}

int dlg_on_request(struct dlg_cell *c, enum dlg_dir dir,
		   const struct dlg_req *rq)
{
	struct dlg_cb_run run = { { 0 }, { 0 } };
	int ev, st, rc = DLG_RC_NONE;

	if (rq->method == SIP_METHOD_CANCEL)
		return DLG_RC_NONE;	/* the 487 will end it */
	ev = event_of(rq->method);
	run.p.msg = rq->msg;
	run.p.dir = dir;
	if (ev != DLG_EV_REQACK && c->tbl->cfg.ack_pending &&
	    atomic_load(&c->state) == DLG_STATE_CONFIRMED_NA)
		c->tbl->cfg.ack_pending(c);

	dlg_lock(c);
	st = atomic_load(&c->state);
	run.p.old_state = st;
	if (st == DLG_STATE_DELETED)
		goto out;	/* late or crossing: nothing to do */
	if (st == DLG_STATE_UNCONFIRMED) {
		rc = bogus(c, ev, st);
		goto out;
	}
	if (ev != DLG_EV_REQACK)
		track_cseq_locked(c, dir, rq->cseq);
	switch (ev) {
	case DLG_EV_REQBYE:
		if (st == DLG_STATE_EARLY)
			break;	/* Kamailio ignores a BYE in early state */
		bye_locked(c, &run);
		rc = DLG_RC_CHANGED;
		break;
	case DLG_EV_REQACK:
		if (st == DLG_STATE_EARLY) {
			rc = bogus(c, ev, st);
			break;
		}
		if (st == DLG_STATE_CONFIRMED_NA) {
			acked_locked(c, &run);
			rc = DLG_RC_CHANGED;
		} else {
			reset_timer_locked(c, false);
		}
		run.types[1] = DLGCB_REQ_WITHIN;
		break;
	case DLG_EV_REQPRACK:
		if (st == DLG_STATE_CONFIRMED) {
			rc = bogus(c, ev, st);
			break;
		}
		atomic_fetch_or(&c->iflags, DLG_IFLAG_PRACK);
		break;
	default:
		if (st == DLG_STATE_CONFIRMED_NA)
			break;	/* Kamailio runs nothing in state 3 */
		if (rq->method == SIP_METHOD_INVITE)
			refresh_contact_locked(c, dir, rq->contact);
		if (st == DLG_STATE_CONFIRMED)
			reset_timer_locked(c, false);
		run.types[0] = DLGCB_REQ_WITHIN;
		break;
	}
out:
	run.p.new_state = atomic_load(&c->state);
	dlg_unlock(c);
	dlg_run_cb_set(c, &run);
	return rc;
}

int dlg_on_ack_elsewhere(struct dlg_cell *c)
{
	struct dlg_cb_run run = { { 0 }, { 0 } };
	int rc = DLG_RC_NONE;

	run.p.dir = DLG_DIR_DOWNSTREAM;
	dlg_lock(c);
	run.p.old_state = atomic_load(&c->state);
	if (run.p.old_state == DLG_STATE_CONFIRMED_NA) {
		acked_locked(c, &run);
		run.types[1] = DLGCB_REQ_WITHIN;
		rc = DLG_RC_CHANGED;
	}
	run.p.new_state = atomic_load(&c->state);
	dlg_unlock(c);
	dlg_run_cb_set(c, &run);
	return rc;
}

void dlg_on_response_within(struct dlg_cell *c, enum dlg_dir dir, int code,
			    const void *msg)
{
	struct dlg_cb_params p = { 0 };

	p.msg = msg;
	p.code = code;
	p.dir = dir;
	p.old_state = p.new_state = atomic_load(&c->state);
	dlg_run_cbs(c, DLGCB_RESPONSE_WITHIN, &p);
}

void dlg_on_bye_reply(struct dlg_cell *c, int code, const void *msg)
{
	struct dlg_cb_params p = { 0 };
	bool run = false;

	if (code < 200)
		return;
	dlg_lock(c);
	if (atomic_load(&c->state) == DLG_STATE_DELETED &&
	    !c->term_confirmed) {
		c->term_confirmed = true;
		run = true;
	}
	dlg_unlock(c);
	if (!run)
		return;
	p.msg = msg;
	p.code = code;
	p.old_state = p.new_state = DLG_STATE_DELETED;
	dlg_run_cbs(c, DLGCB_TERMINATED_CONFIRMED, &p);
}

int dlg_end(struct dlg_cell *c, const void *msg)
{
	struct dlg_cb_run run = { { 0 }, { 0 } };
	int st, rc;

	run.p.msg = msg;
	dlg_lock(c);
	st = atomic_load(&c->state);
	run.p.old_state = st;
	if (st <= DLG_STATE_EARLY) {
		rc = -EINVAL;
	} else if (st == DLG_STATE_DELETED) {
		rc = DLG_RC_NONE;
	} else {
		bye_locked(c, &run);
		rc = DLG_RC_CHANGED;
	}
	run.p.new_state = atomic_load(&c->state);
	dlg_unlock(c);
	dlg_run_cb_set(c, &run);
	return rc;
}

void dlg_discard(struct dlg_cell *c)
{
	bool drop = false;

	dlg_lock(c);
	if (atomic_load(&c->state) != DLG_STATE_DELETED) {
		dlg_set_state_locked(c, DLG_STATE_DELETED);
		dlg_timer_stop_locked(c);
		if (c->linked) {
			dlg_slot_unlink_locked(dlg_slot_of(c), c);
			drop = true;
		}
	}
	dlg_unlock(c);
	if (drop)
		dlg_unref(c);	/* the table's; the caller still holds one */
}

int dlg_mark_bye(struct dlg_cell *c, enum dlg_leg leg)
{
	unsigned bit = leg == DLG_CALLER_LEG ? DLG_DFLAG_CALLERBYE :
					       DLG_DFLAG_CALLEEBYE;

	return (atomic_fetch_or(&c->dflags, bit) & bit) ? -EALREADY : 0;
}

/* Timer entries (dlg_timer.c), under the lock. */
void dlg_fail_early_locked(struct dlg_cell *c, struct dlg_cb_run *run)
{
	run->p.old_state = atomic_load(&c->state);
	dlg_set_state_locked(c, DLG_STATE_DELETED);
	stat_inc(c->tbl->st.failed_dialogs);
	dlg_timer_for_state_locked(c);
	run->types[0] = DLGCB_FAILED;
	run->p.new_state = DLG_STATE_DELETED;
}

void dlg_expire_locked(struct dlg_cell *c, struct dlg_cb_run *run)
{
	run->p.old_state = atomic_load(&c->state);
	atomic_fetch_or(&c->dflags, DLG_DFLAG_EXPIRED);
	dlg_set_state_locked(c, DLG_STATE_DELETED);
	stat_inc(c->tbl->st.expired_dialogs);
	dlg_timer_for_state_locked(c);
	run->types[0] = DLGCB_EXPIRED;
	run->p.new_state = DLG_STATE_DELETED;
}

int dlg_force_state(struct dlg_cell *c, int new_state)
{
	struct dlg_cb_run run = { { 0 }, { 0 } };
	int old;

	if (new_state < DLG_STATE_UNCONFIRMED || new_state > DLG_STATE_DELETED)
		return -EINVAL;
	dlg_lock(c);
	old = atomic_load(&c->state);
	if (old != new_state) {
		if (new_state == DLG_STATE_DELETED)
			bye_locked(c, &run);	/* timer, profiles, end_ts */
		else
			dlg_set_state_locked(c, new_state);
	}
	dlg_unlock(c);
	/* dlg.set_state runs no callbacks (Kamailio's semantics); the
	 * collected ones are dropped on purpose. */
	return old;
}

int dlg_load(struct dlg_table *t, const struct dlg_load *ld,
	     struct dlg_cell **out)
{
	struct sip_str cid = dlg_trim(ld->callid);
	struct dlg_invite inv = { 0 };
	struct dlg_create_opts opts = { 0 };
	struct dlg_cb_params p = { 0 };
	struct dlg_slot *s;
	struct dlg_cell *c;
	int64_t now = (int64_t)time(NULL);
	uint64_t arm_ms = 0;
	int err;

	if (ld->state < DLG_STATE_EARLY || ld->state > DLG_STATE_DELETED ||
	    !cid.len || ld->h_entry >= t->size ||
	    dlg_hash_entry(cid, t->size) != ld->h_entry || ld->h_id == 0)
		return -EINVAL;
	inv.callid = cid;
	inv.from_uri = ld->from_uri;
	inv.from_tag = ld->from_tag;
	inv.to_uri = ld->to_uri;
	inv.req_uri = ld->req_uri;
	inv.contact = ld->caller_contact;
	inv.route_set = ld->caller_route_set;
	inv.socket = ld->caller_sock;
	inv.cseq = ld->caller_cseq;
	opts.sflags = ld->sflags;
	opts.iflags = ld->iflags;
	/* Lifetime as Kamailio derives it: timeout - start_time. */
	if (ld->timeout > 0 && ld->start_time > 0 && ld->timeout > ld->start_time)
		opts.lifetime_ms = (uint64_t)(ld->timeout - ld->start_time) * 1000u;
	else if (ld->timeout > now)
		opts.lifetime_ms = (uint64_t)(ld->timeout - now) * 1000u;
	err = cell_alloc(t, &inv, cid, &opts, &c);
	if (err)
		return err;
	/* send_bye was applied by cell_alloc; the stored iflags win. */
	atomic_store(&c->iflags, ld->iflags);
	c->h_id = ld->h_id;
	c->init_ts = 0;
	c->start_ts = ld->start_time > 0 && ld->start_time <= UINT32_MAX ?
			      (uint32_t)ld->start_time : 0;
	if (ld->to_tag.len) {
		struct dlg_reply r = { 0 };

		r.to_tag = ld->to_tag;
		r.contact = ld->callee_contact;
		r.route_set = ld->callee_route_set;
		r.socket = ld->callee_sock;
		store_callee_locked(c, &r);	/* not linked yet: no lock */
		c->cseq[DLG_CALLEE_LEG] = ld->callee_cseq;
	}
	c->confirmed_once = ld->state >= DLG_STATE_CONFIRMED_NA;
	if (ld->toroute_name.p && ld->toroute_name.len &&
	    ld->toroute_name.len < sizeof(c->ext->toroute) &&
	    dlg_ext_locked(c))	/* not linked yet: no lock */
		memcpy(c->ext->toroute, ld->toroute_name.p,
		       ld->toroute_name.len);
	s = &t->slots[c->h_entry];
	pthread_mutex_lock(&s->lock);
	err = dlg_slot_link_id_locked(t, s, c);
	if (err) {
		pthread_mutex_unlock(&s->lock);
		free(c->ext);
		dlg_cell_free_mem(c);
		return err;
	}
	dlg_set_state_locked(c, ld->state);
	if (ld->state == DLG_STATE_CONFIRMED_NA ||
	    ld->state == DLG_STATE_CONFIRMED) {
		/* to the millisecond: with whole seconds from a truncated
		 * now the deadline was up to 1 s late, and dlg.list showed
		 * timeout + 1 */
		int64_t now_ms = (int64_t)tmr_unix_ms();

		if (ld->timeout * 1000 > now_ms)
			arm_ms = (uint64_t)(ld->timeout * 1000 - now_ms);
		dlg_timer_arm_locked(c, DLG_T_LIFETIME, arm_ms);
	} else {
		dlg_timer_for_state_locked(c);
	}
	pthread_mutex_unlock(&s->lock);
	p.old_state = p.new_state = ld->state;
	dlg_run_cbs(c, DLGCB_LOADED, &p);
	*out = c;
	return 0;
}

void dlg_load_done(struct dlg_cell *c)
{
	dlg_lock(c);
	dlg_vars_clear_marks_locked(c);
	atomic_fetch_and(&c->dflags, ~(DLG_DFLAG_NEW | DLG_DFLAG_CHANGED |
				       DLG_DFLAG_CHANGED_VARS |
				       DLG_DFLAG_CHANGED_PROF));
	/* It came from a row: a later write updates it, its end deletes it. */
	atomic_fetch_or(&c->dflags, DLG_DFLAG_DB_ROW);
	dlg_unlock(c);
}
