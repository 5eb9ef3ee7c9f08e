/*
 * dlg_match.c - finding the dialog of a sequential request (reference
 * §1.2): by the DID cookie (h_entry, h_id) followed by the tight match,
 * or by SIP elements (Call-ID and tags), per dlg_match_mode.
 *
 * Tight match: the Call-ID (exact bytes) plus
 *   upstream   (from the callee): From-tag = callee tag, To-tag = caller tag
 *   downstream (from the caller): From-tag = caller tag, To-tag = callee tag
 * upstream tried first.  While the callee tag is unknown (no 2xx yet) only
 * the caller tag is checked: To-tag = caller tag means upstream, From-tag
 * = caller tag downstream.
 *
 * Every dlg_match() call that finds nothing counts exactly one failure
 * counter (the most telling reason: malformed cookie, cookie naming a
 * dialog with other tags, cookie naming nothing, no cookie), so forged or
 * stale requests show up in dlg_match_counters.
 */
#include <errno.h>

#include "dialog/dlg_int.h"

static bool tag_known(struct sip_str t)
{
	return t.p && t.len;
}

enum dlg_dir dlg_tight_match_locked(const struct dlg_cell *c,
				    struct sip_str callid,
				    struct sip_str ftag, struct sip_str ttag)
{
	struct sip_str caller = dlg_leg_tag(c, DLG_CALLER_LEG);
	struct sip_str callee = dlg_leg_tag(c, DLG_CALLEE_LEG);

	if (!sip_str_eq(DLG_S(c, callid), callid))
		return DLG_DIR_NONE;
	if (tag_known(callee)) {
		if (sip_str_eq(ftag, callee) && sip_str_eq(ttag, caller))
			return DLG_DIR_UPSTREAM;
		if (sip_str_eq(ftag, caller) && sip_str_eq(ttag, callee))
			return DLG_DIR_DOWNSTREAM;
		return DLG_DIR_NONE;
	}
	if (tag_known(ttag) && sip_str_eq(ttag, caller))
		return DLG_DIR_UPSTREAM;
	if (tag_known(ftag) && sip_str_eq(ftag, caller))
		return DLG_DIR_DOWNSTREAM;
	return DLG_DIR_NONE;
}

/* The best tight match of the chain starting at @c (see below). */
static void best_of_chain(struct dlg_cell *c, struct sip_str cid,
			  struct sip_str from_tag, struct sip_str to_tag,
			  struct dlg_cell **best, enum dlg_dir *best_dir,
			  bool *best_tagged)
{
	for (; c; c = c->cid_next) {
		enum dlg_dir d = dlg_tight_match_locked(c, cid, from_tag,
							to_tag);
		bool tagged;

		if (d == DLG_DIR_NONE)
			continue;
		tagged = tag_known(dlg_leg_tag(c, DLG_CALLEE_LEG));
		if (!*best || (tagged && !*best_tagged) ||
		    (tagged == *best_tagged && c->h_id < (*best)->h_id)) {
			*best = c;
			*best_dir = d;
			*best_tagged = tagged;
		}
	}
}

struct dlg_cell *dlg_lookup_sip(struct dlg_table *t, struct sip_str callid,
				struct sip_str from_tag, struct sip_str to_tag,
				enum dlg_dir *dir)
{
	struct sip_str cid = dlg_trim(callid);
	struct dlg_cell *best = NULL;
	enum dlg_dir best_dir = DLG_DIR_NONE;
	bool best_tagged = false;
	struct dlg_slot *s;

	if (!cid.len)
		return NULL;
	s = &t->slots[dlg_hash_entry(cid, t->size)];
	pthread_mutex_lock(&s->lock);
	/* The tight match wants the caller's tag as From tag (downstream)
	 * or as To tag (upstream): two chains of the slot's index, in no
	 * particular order.  The choice is the one a walk of the slot by
	 * h_id made: the lowest h_id among the dialogs whose callee tag is
	 * known (they beat untagged ones: serial forking, kamailio#2484),
	 * else the lowest untagged one. */
	if (tag_known(from_tag))
		best_of_chain(dlg_idx_cid_locked(t, s, cid, from_tag), cid,
			      from_tag, to_tag, &best, &best_dir,
			      &best_tagged);
	if (tag_known(to_tag) && !sip_str_eq(to_tag, from_tag))
		best_of_chain(dlg_idx_cid_locked(t, s, cid, to_tag), cid,
			      from_tag, to_tag, &best, &best_dir,
			      &best_tagged);
	if (best)
		dlg_ref(best);
	pthread_mutex_unlock(&s->lock);
	if (best && dir)
		*dir = best_dir;
	return best;
}

/* The cookie's dialog, if it passes the tight match.  -ENOENT: no such
 * id; -ESRCH: the id exists but Call-ID/tags differ. */
static int match_did(struct dlg_table *t, uint32_t he, uint32_t hi,
		     const struct dlg_req *rq, struct sip_str cid,
		     struct dlg_cell **out, enum dlg_dir *dir)
{
	struct dlg_slot *s;
	struct dlg_cell *c;
	enum dlg_dir d = DLG_DIR_NONE;
	int err;

	if (he >= t->size || hi == 0)
		return -ENOENT;
	s = &t->slots[he];
	pthread_mutex_lock(&s->lock);
	c = dlg_idx_id_locked(t, s, he, hi);
	if (!c) {
		err = -ENOENT;
	} else {
		d = dlg_tight_match_locked(c, cid, rq->from_tag, rq->to_tag);
		err = d == DLG_DIR_NONE ? -ESRCH : 0;
		if (!err)
			dlg_ref(c);
	}
	pthread_mutex_unlock(&s->lock);
	if (!err) {
		*out = c;
		*dir = d;
	}
	return err;
}

static int fail(struct dlg_table *t, int err)
{
	switch (err) {
	case -EBADMSG:
		atomic_fetch_add(&t->ctr.bad_cookie, 1);
		break;
	case -ESRCH:
		atomic_fetch_add(&t->ctr.mismatch, 1);
		break;
	case -ENODATA:
		atomic_fetch_add(&t->ctr.no_cookie, 1);
		return -ENOENT;
	default:
		atomic_fetch_add(&t->ctr.not_found, 1);
		break;
	}
	return err;
}

int dlg_match(struct dlg_table *t, const struct dlg_req *rq, int mode,
	      struct dlg_cell **out, enum dlg_dir *dir)
{
	struct sip_str cid = dlg_trim(rq->callid);
	struct dlg_cell *c;
	enum dlg_dir d = DLG_DIR_NONE;
	int why = -ENOENT;

	if (!tag_known(rq->to_tag) || !cid.len)
		return -EINVAL;
	if (mode == DLG_MATCH_CFG)
		mode = t->cfg.match_mode;
	if (mode != DLG_MATCH_DID_NONE) {
		uint32_t he, hi;

		if (!rq->did.p) {
			why = -ENODATA;
		} else if (dlg_cookie_parse(rq->did, &he, &hi)) {
			/* Malformed: no match at all, in every mode. */
			return fail(t, -EBADMSG);
		} else {
			why = match_did(t, he, hi, rq, cid, &c, &d);
			if (!why)
				goto found;
		}
		if (mode == DLG_MATCH_DID_ONLY)
			return fail(t, why);
		if (why == -ENODATA)
			why = -ENOENT;
	}
	c = dlg_lookup_sip(t, cid, rq->from_tag, rq->to_tag, &d);
	if (!c)
		return fail(t, why);
found:
	atomic_fetch_add(&t->ctr.matched, 1);
	*out = c;
	*dir = d;
	return 0;
}
