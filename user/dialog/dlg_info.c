/*
 * dlg_info.c - a consistent copy of one dialog, for the RPC layer (the
 * dialog object of reference §10.2), for building BYE/REFER/OPTIONS
 * (contacts, route sets, CSeqs, sockets, tags) and for the DB layer
 * (variables with their marks).
 *
 * The copy is taken under the slot lock in one allocation (the struct,
 * the profile and variable arrays, then every string NUL-terminated), so
 * the caller reads it at leisure without any lock or reference.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dialog/dlg_int.h"

static size_t slen(struct sip_str s)
{
	return s.len + 1;
}

static const char *copy_str(char **p, const char *s, size_t len)
{
	char *d = *p;

	if (len)
		memcpy(d, s, len);
	d[len] = '\0';
	*p += len + 1;
	return d;
}

static const char *copy_sip(char **p, struct sip_str s)
{
	return copy_str(p, s.p ? s.p : "", s.len);
}

static void copy_leg(char **p, const struct dlg_cell *c, int leg,
		     struct dlg_info_leg *o)
{
	o->tag = copy_sip(p, dlg_leg_tag(c, leg));
	o->contact = copy_sip(p, dlg_leg_contact(c, leg));
	o->route_set = copy_sip(p, dlg_leg_route_set(c, leg));
	o->socket = copy_sip(p, dlg_leg_socket(c, leg));
	o->cseq = c->cseq[leg];
}

static size_t leg_bytes(const struct dlg_cell *c, int leg)
{
	return slen(dlg_leg_tag(c, leg)) + slen(dlg_leg_contact(c, leg)) +
	       slen(dlg_leg_route_set(c, leg)) + slen(dlg_leg_socket(c, leg));
}

/*
 * Absolute UNIX expiry of the lifetime timer, 0 if none is armed: the
 * real-time clock in ms plus what is left on the monotonic one, in whole
 * seconds down, as Kamailio's start time + lifetime; the same whenever
 * it is listed.  The 10 ms allow for the two clocks' ms truncation: a
 * restored dialog is armed to the ms of its stored timeout and must list
 * exactly that.
 */
static int64_t unix_timeout(const struct dlg_cell *c, int64_t now)
{
	uint64_t mono = tmr_now_ms();
	uint64_t due = c->tmr.expires_ms;	/* tmr_arm writes it under
						 * our slot lock */

	if (c->tkind != DLG_T_LIFETIME || !c->due)
		return 0;
	if (due <= mono)
		return now;
	return (int64_t)(tmr_unix_ms() + (due - mono) + 10) / 1000;
}

struct dlg_info *dlg_info_get(struct dlg_cell *c, unsigned flags)
{
	size_t np, nv, bytes = 0, head;
	struct dlg_info *in;
	int64_t now = (int64_t)time(NULL);
	bool ended;
	char *p;

	dlg_lock(c);
	ended = atomic_load(&c->state) == DLG_STATE_DELETED;
	np = dlg_profiles_count_locked(c, &bytes);
	nv = 0;
	if (!ended || (flags & DLG_INFO_VARS_ALL))
		nv = dlg_vars_count_locked(c, flags, &bytes);
	bytes += slen(DLG_S(c, callid)) + slen(DLG_S(c, from_uri)) +
		 slen(DLG_S(c, to_uri)) + slen(DLG_S(c, req_uri)) +
		 sizeof(c->ext->toroute) + leg_bytes(c, DLG_CALLER_LEG) +
		 leg_bytes(c, DLG_CALLEE_LEG);
	head = sizeof(*in) + np * sizeof(in->profiles[0]) +
	       nv * sizeof(in->vars[0]);
	in = calloc(1, head + bytes);
	if (!in) {
		dlg_unlock(c);
		return NULL;
	}
	in->profiles = (struct dlg_info_profile *)(in + 1);
	in->vars = (struct dlg_info_var *)(in->profiles + np);
	p = (char *)in + head;

	in->h_entry = c->h_entry;
	in->h_id = c->h_id;
	in->ref = atomic_load(&c->ref);
	in->state = atomic_load(&c->state);
	in->callid = copy_sip(&p, DLG_S(c, callid));
	in->from_uri = copy_sip(&p, DLG_S(c, from_uri));
	in->to_uri = copy_sip(&p, DLG_S(c, to_uri));
	in->req_uri = copy_sip(&p, DLG_S(c, req_uri));
	if (c->ext)
		memcpy(p, c->ext->toroute, sizeof(c->ext->toroute));
	in->toroute_name = p;
	p += sizeof(c->ext->toroute);
	in->init_ts = c->init_ts;
	in->start_ts = c->start_ts;
	in->end_ts = c->end_ts;
	if (c->start_ts && c->end_ts)
		in->duration = (int64_t)c->end_ts - (int64_t)c->start_ts;
	else if (c->start_ts)
		in->duration = now - (int64_t)c->start_ts;
	in->timeout = unix_timeout(c, now);
	in->lifetime_ms = c->lifetime_ms;
	in->lifetime = (uint32_t)((c->lifetime_ms + 999) / 1000);
	in->dflags = atomic_load(&c->dflags);
	in->sflags = atomic_load(&c->sflags);
	in->iflags = atomic_load(&c->iflags);
	copy_leg(&p, c, DLG_CALLER_LEG, &in->caller);
	copy_leg(&p, c, DLG_CALLEE_LEG, &in->callee);
	in->n_profiles = dlg_profiles_copy_locked(c, in->profiles, &p);
	if (nv)
		in->n_vars = dlg_vars_copy_locked(c, flags, in->vars, &p);
	if (flags & DLG_INFO_CLEAR_MARKS)
		dlg_vars_clear_marks_locked(c);
	dlg_unlock(c);
	return in;
}

void dlg_info_free(struct dlg_info *info)
{
	free(info);
}

int dlg_set_toroute(struct dlg_cell *c, const char *name)
{
	size_t n = name ? strlen(name) : 0;
	struct dlg_ext *x;
	int err = 0;

	if (n >= sizeof(x->toroute))
		return -EINVAL;
	dlg_lock(c);
	x = n || c->ext ? dlg_ext_locked(c) : NULL;
	if (x) {
		memset(x->toroute, 0, sizeof(x->toroute));
		memcpy(x->toroute, name, n);
	} else if (n) {
		err = -ENOMEM;
	}
	if (!err)
		atomic_fetch_or(&c->dflags, DLG_DFLAG_CHANGED);
	dlg_unlock(c);
	return err;
}

size_t dlg_toroute(struct dlg_cell *c, char *buf)
{
	dlg_lock(c);
	if (c->ext)
		memcpy(buf, c->ext->toroute, sizeof(c->ext->toroute));
	else
		buf[0] = '\0';
	dlg_unlock(c);
	buf[31] = '\0';
	return strlen(buf);
}
