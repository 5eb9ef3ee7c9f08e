/*
 * dlg_proxy.c - the dialog layer inside the proxy: the rule conditions and
 * actions of the dialog module (dlg_manage, profiles, flags, variables,
 * timeouts, is_known_dlg), matching sequential requests to dialogs, and
 * feeding each dialog the replies of its INVITE and BYE transactions.
 *
 * It reaches the proxy through proxy.h only: one struct px_dlg_iface for
 * the request path (its @ud is the dialog table), and per transaction a
 * struct px_tx_ops of the kind of transaction (the INVITE that creates a
 * dialog, a BYE that ends one), so a reply goes straight to the code
 * that knows what it means.
 *
 * Per-request state lives in a thread-local struct: a request is handled
 * from start to end on one thread, and on_done releases what it holds.
 */
#define LOG_TAG "dialog"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/log.h"
#include "dialog/dlg.h"
#include "dlglink/dlg_bridge.h"
#include "dlglink/dlg_bye.h"
#include "dlglink/dlg_proxy.h"
#include "dlglink/dlg_uac.h"
#include "proxy/proxy.h"

#define RS_MAX 2048

struct dlgp_req {
	struct dlg_cell *cell;		/* referenced */
	enum dlg_dir dir;
	int created;			/* DLG_RC_CREATED / DLG_RC_SPIRAL / 0 */
	bool known;			/* a sequential request matched */
	/* Set before dlg_manage (Kamailio's context flags). */
	uint32_t sflags, iflags, iflags_off;
	uint64_t lifetime_ms;
	const char *toroute;		/* timeout_route before dlg_manage */
	/* For the forwarded request: */
	bool has_bd;			/* the dialog, for our branch */
	struct px_branch_dlg bd;
	char rr_params[128];		/* appended to our Record-Route URI */
};

static _Thread_local struct dlgp_req tl_req;

/* The listener of BYEs for unknown dialogs (dlgp_on_unknown_bye): set
 * before the workers start, read by them only. */
static dlgp_unknown_bye_fn unknown_bye_fn;
static void *unknown_bye_ud;

void dlgp_on_unknown_bye(dlgp_unknown_bye_fn fn, void *ud)
{
	unknown_bye_fn = fn;
	unknown_bye_ud = ud;
}

static bool report_unknown_bye(const struct dlg_req *req)
{
	struct dlgp_unknown_bye b = { .callid = req->callid,
				      .from_tag = req->from_tag,
				      .to_tag = req->to_tag };

	if (req->did.p)
		b.has_id = dlg_cookie_parse(req->did, &b.h_entry,
					    &b.h_id) == 0;
	return unknown_bye_fn(unknown_bye_ud, &b);
}

static void sock_str(const struct proxy *px, int idx, char *buf, size_t cap)
{
	const struct px_local *lo = proxy_local(px, idx);

	if (!lo) {
		buf[0] = '\0';
		return;
	}
	snprintf(buf, cap, "%s", lo->sock_name);	/* made at start */
}

/* The cookie value in one of our own Route entries, if any. */
static struct sip_str find_did(const struct px_req *rq)
{
	const char *rr_param = proxy_config(rq->px)->dialog.rr_param;
	struct sip_value_iter it;
	struct sip_nameaddr na;

	sip_value_iter_init(&it, rq->msg, SIP_HDR_ROUTE);
	while (sip_value_next_addr(&it, &na) == 1) {
		struct sip_uri u;
		struct sip_str v;

		if (!px_uri_is_ours(rq->px, na.uri))
			continue;
		if (sip_uri_parse(&u, na.uri.p, na.uri.len) == 0 &&
		    sip_uri_param(&u, rr_param, &v) == 0)
			return v;
	}
	return SIP_STR_NULL;
}

static void on_request(void *ud, struct px_req *rq)
{
	const struct sip_msg *m = rq->msg;
	struct dlg_req req;
	struct dlg_cell *c;
	enum dlg_dir dir;
	int rc;

	memset(&tl_req, 0, sizeof(tl_req));
	rq->dlg_ctx = &tl_req;
	if (!sip_str_present(m->to.tag) || m->method == SIP_METHOD_CANCEL)
		return;
	dlg_req_from_msg(&req, m, find_did(rq));
	rc = dlg_match(ud, &req, DLG_MATCH_CFG, &c, &dir);
	if ((rc == -ENOENT || rc == -ESRCH) && unknown_bye_fn &&
	    m->method == SIP_METHOD_BYE) {
		/* The listener may be restoring this very dialog: once
		 * it took note, the dialog is either never restored or
		 * linked already, so one more match settles it (a miss
		 * is then counted twice by the core). */
		if (report_unknown_bye(&req))
			rc = dlg_match(ud, &req, DLG_MATCH_CFG, &c, &dir);
	}
	if (rc != 0)
		return;		/* counted by the core */
	tl_req.cell = c;
	tl_req.dir = dir;
	tl_req.known = true;
	tl_req.has_bd = true;
	tl_req.bd.h_entry = dlg_h_entry(c);
	tl_req.bd.h_id = dlg_h_id(c);
	tl_req.bd.dir = dir == DLG_DIR_UPSTREAM;
	dlg_on_request(c, dir, &req);
}

static void release(void *cell)
{
	dlg_unref(cell);
}

static bool branch_dlg(void *ud, const struct px_req *rq,
		       struct px_branch_dlg *bd, const char **rr_params)
{
	const struct dlgp_req *d = rq->dlg_ctx;

	if (!d || !d->has_bd)
		return false;
	*bd = d->bd;
	*rr_params = d->rr_params;
	return true;
}

/* The replies of the INVITE that created a dialog. */
static void invite_reply(void *cell, const struct px_reply *x)
{
	struct dlg_cell *c = cell;
	struct dlg_reply r;
	char rs[RS_MAX], sock[96];
	unsigned own_rr = x->own_rr ? x->own_rr : 1;
	int rc;

	if (x->code <= 100)
		return;
	if (x->rsp) {
		if (dlg_reply_from_msg(&r, x->rsp, c, own_rr, rs,
				       sizeof(rs)) != 0) {
			memset(&r, 0, sizeof(r));
			r.code = x->code;
			r.to_tag = x->rsp->to.tag;
			r.msg = x->rsp;
		}
		sock_str(x->px, x->listen_idx, sock, sizeof(sock));
		r.socket = sip_str_c(sock);
	} else {
		memset(&r, 0, sizeof(r));
		r.code = x->code;
		r.local = true;
	}
	rc = dlg_on_reply(c, &r);
	(void)rc;	/* a second branch's 2xx never gets here: absorb_2xx */
}

/*
 * A 2xx from a second branch after the dialog was confirmed by the first:
 * the box ACKs it and sends it a BYE, and the caller never sees it (the
 * dialog module's forking rule).  Retransmissions of the winning 2xx go
 * up as usual.
 */
static bool absorb_2xx(void *cell, const struct px_reply *x)
{
	struct dlg_cell *c = cell;
	const struct sip_msg *rsp = x->rsp;
	unsigned own_rr = x->own_rr ? x->own_rr : 1;
	struct sip_str ctag;
	struct dlg_info *in;
	struct dlg_uac_req r;
	char rs[RS_MAX];
	size_t rl = 0;

	if (!sip_str_present(rsp->to.tag))
		return false;
	ctag = dlg_callee_tag(c);
	if (!sip_str_present(ctag) || sip_str_eq(ctag, rsp->to.tag))
		return false;	/* not confirmed yet, or the winner's */
	if (rsp->n_contact < 1 || rsp->contact.star)
		return true;	/* cannot reach that leg: absorb anyway */
	if (dlg_callee_route_set(rsp, dlg_caller_rr_count(c), own_rr, rs,
				 sizeof(rs), &rl) != 0)
		rl = 0;
	rs[rl] = '\0';
	in = dlg_info_get(c, 0);
	if (!in)
		return true;
	memset(&r, 0, sizeof(r));
	r.method = "ACK";
	r.ruri = rsp->contact.uri;
	r.route_set = rs;
	r.from_uri = sip_str_c(in->from_uri);
	r.from_tag = sip_str_c(in->caller.tag);
	r.to_uri = sip_str_c(in->to_uri);
	r.to_tag = rsp->to.tag;
	r.callid = sip_str_c(in->callid);
	r.cseq = rsp->cseq.num;
	if (dlg_uac_send(x->px, &r, NULL, NULL, NULL) != -E2BIG) {
		r.method = "BYE";
		r.cseq = rsp->cseq.num + 1;
		dlg_uac_send(x->px, &r, NULL, NULL, NULL);
	}
	log_info("dialog %u:%u: a 2xx from a second branch (To-tag %.*s) "
		 "was answered with ACK and BYE",
		 in->h_entry, in->h_id, (int)rsp->to.tag.len, rsp->to.tag.p);
	dlg_info_free(in);
	return true;
}

static const struct px_tx_ops invite_ops = {
	.on_reply = invite_reply,
	.absorb_2xx = absorb_2xx,
	.release = release,
};

static void on_forward(void *ud, struct px_req *rq, struct tm_tx *tx)
{
	struct dlgp_req *d = rq->dlg_ctx;
	const struct px_tx_ops *ops;

	if (!d || !d->cell || proxy_tx_followed(tx))
		return;
	if (d->created == DLG_RC_CREATED)
		ops = &invite_ops;
	else if (d->known && rq->msg->method == SIP_METHOD_BYE)
		ops = &dlgp_bye_tx_ops;
	else
		return;		/* spirals and other requests: nothing to feed */
	dlg_ref(d->cell);
	proxy_tx_follow(tx, ops, d->cell);
}

static void on_local(void *ud, struct px_req *rq, int code)
{
	struct dlgp_req *d = rq->dlg_ctx;
	struct dlg_reply r;

	if (!d || !d->cell || d->created != DLG_RC_CREATED)
		return;
	if (code == 0) {
		dlg_discard(d->cell);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.code = code;
	r.local = true;
	dlg_on_reply(d->cell, &r);
}

static void on_done(void *ud, struct px_req *rq)
{
	struct dlgp_req *d = rq->dlg_ctx;

	if (!d)
		return;
	dlg_unref(d->cell);
	memset(d, 0, sizeof(*d));
	rq->dlg_ctx = NULL;
}

/* --- rule conditions -------------------------------------------------- */

static struct sip_str expand(const struct px_req *rq,
			     const struct route_profile_ref *ref, char *buf,
			     size_t cap)
{
	size_t n;

	if (!ref->has_value)
		return SIP_STR_NULL;
	n = px_tpl_expand(rq, &ref->value, buf, cap);
	return sip_str_mk(buf, n);
}

/*
 * A value built from a template may hold a NUL when it copies a header
 * whose quoted-string has an escaped one ($hdr(To) of RFC 4475's
 * "intmeth").  What a dialog keeps (a variable, a profile value, written
 * to the database and the control socket as C strings) and what names a
 * target (bridge, REFER) refuses such a value rather than keep it cut at
 * the NUL: true, with a warning, when @s holds one.
 */
static bool nul_refused(const char *what, unsigned line, const char *s,
			size_t n)
{
	if (!memchr(s, '\0', n))
		return false;
	log_warn("%s (line %u): the value holds a NUL byte; not done", what,
		 line);
	return true;
}

static bool cmp(uint64_t have, enum route_cmp op, uint64_t n)
{
	switch (op) {
	case ROUTE_CMP_GT: return have > n;
	case ROUTE_CMP_GE: return have >= n;
	case ROUTE_CMP_LT: return have < n;
	case ROUTE_CMP_LE: return have <= n;
	case ROUTE_CMP_EQ: return have == n;
	}
	return false;
}

static bool cond(void *ud, struct px_req *rq, const struct route_cond *c)
{
	struct dlgp_req *d = rq->dlg_ctx;
	struct dlg_profile *p;
	char val[256];

	switch (c->type) {
	case ROUTE_COND_IS_KNOWN_DLG:
		return (d && d->cell) == (c->u.want != 0);
	case ROUTE_COND_IS_IN_PROFILE:
		p = dlg_profile_lookup(ud, sip_str_c(c->u.profile.name));
		if (!p || !d || !d->cell)
			return false;
		return dlg_profile_is_in(d->cell, p,
					 expand(rq, &c->u.profile, val,
						sizeof(val))) == 1;
	case ROUTE_COND_PROFILE_SIZE:
		p = dlg_profile_lookup(ud, sip_str_c(c->u.size.profile.name));
		if (!p)
			return false;
		return cmp(dlg_profile_size(p, expand(rq, &c->u.size.profile,
						       val, sizeof(val))),
			   c->u.size.cmp, c->u.size.n);
	case ROUTE_COND_DLG_ISFLAGSET:
		if (d && d->cell)
			return dlg_isflagset(d->cell, c->u.flag) == 1;
		return d && (d->sflags >> c->u.flag) & 1u;
	default:
		return false;
	}
}

/* --- rule actions ------------------------------------------------------ */

static void manage(struct dlg_table *t, struct px_req *rq,
		   struct dlgp_req *d)
{
	const struct sip_msg *m = rq->msg;
	struct dlg_invite inv;
	struct dlg_create_opts opts;
	char rs[RS_MAX], sock[96];
	int rc;

	if (d->cell)
		return;		/* already managed or matched */
	if (sip_str_present(m->to.tag)) {
		/* Kamailio: dlg_manage on a sequential request matches by
		 * SIP elements only. */
		struct dlg_req req;
		struct dlg_cell *c;
		enum dlg_dir dir;

		dlg_req_from_msg(&req, m, SIP_STR_NULL);
		if (dlg_match(t, &req, DLG_MATCH_DID_NONE, &c, &dir) == 0) {
			d->cell = c;
			d->dir = dir;
			d->known = true;
		}
		return;
	}
	if (m->method != SIP_METHOD_INVITE)
		return;
	if (dlg_invite_from_msg(&inv, m, rs, sizeof(rs)) != 0)
		return;		/* no From-tag / Contact: no dialog (as Kamailio) */
	/* Kamailio stores $ru as it is at dlg_manage: after a ruri_user:
	 * rewrite earlier in the rule (its ruri_pvar default). */
	if (rq->ruri_len)
		inv.req_uri = sip_str_mk(rq->ruri, rq->ruri_len);
	sock_str(rq->px, rq->src->listen_idx, sock, sizeof(sock));
	inv.socket = sip_str_c(sock);
	memset(&opts, 0, sizeof(opts));
	opts.sflags = d->sflags;
	opts.iflags = d->iflags;
	opts.lifetime_ms = d->lifetime_ms;
	rc = dlg_manage(t, &inv, &opts, &d->cell);
	if (rc < 0) {
		d->cell = NULL;
		return;
	}
	d->created = rc;
	if (d->toroute && rc == DLG_RC_CREATED)
		dlg_set_toroute(d->cell, d->toroute);
	d->has_bd = true;
	d->bd.h_entry = dlg_h_entry(d->cell);
	d->bd.h_id = dlg_h_id(d->cell);
	d->bd.dir = 0;
	if (d->iflags_off)
		dlg_reset_iflags(d->cell, d->iflags_off);
	if (rc == DLG_RC_CREATED &&
	    proxy_config(rq->px)->dialog.dlg_match_mode != 2)
		dlg_cookie_param(d->cell, d->rr_params, sizeof(d->rr_params));
}

static void action(void *ud, struct px_req *rq, const struct route_action *a)
{
	struct dlgp_req *d = rq->dlg_ctx;
	struct dlg_table *t = ud;
	struct dlg_profile *p;
	char val[256];

	if (!d)
		return;
	switch (a->type) {
	case ROUTE_ACT_DLG_MANAGE:
	case ROUTE_ACT_DLG_FLAG:
		manage(t, rq, d);
		break;
	case ROUTE_ACT_SET_DLG_PROFILE:
	case ROUTE_ACT_UNSET_DLG_PROFILE:
		p = dlg_profile_lookup(t, sip_str_c(a->u.profile.name));
		if (!p || !d->cell)
			break;
		if (a->type == ROUTE_ACT_SET_DLG_PROFILE) {
			struct sip_str pv = expand(rq, &a->u.profile, val,
						   sizeof(val));

			if (!pv.p || !nul_refused("set_dlg_profile",
						  a->pos.line, pv.p, pv.len))
				dlg_profile_set(d->cell, p, pv);
		} else
			dlg_profile_unset(d->cell, p,
					  expand(rq, &a->u.profile, val, sizeof(val)));
		break;
	case ROUTE_ACT_DLG_SETFLAG:
		if (d->cell)
			dlg_setflag(d->cell, a->u.flag);
		else
			d->sflags |= 1u << a->u.flag;
		break;
	case ROUTE_ACT_DLG_RESETFLAG:
		if (d->cell)
			dlg_resetflag(d->cell, a->u.flag);
		else
			d->sflags &= ~(1u << a->u.flag);
		break;
	case ROUTE_ACT_TIMEOUT:
		if (d->cell)
			dlg_set_timeout(d->cell, (uint64_t)a->u.timeout * 1000u);
		else
			d->lifetime_ms = (uint64_t)a->u.timeout * 1000u;
		break;
	case ROUTE_ACT_TIMEOUT_BYE:
	case ROUTE_ACT_TIMEOUT_NORESET: {
		uint32_t bit = a->type == ROUTE_ACT_TIMEOUT_BYE ?
				       DLG_IFLAG_TIMEOUTBYE :
				       DLG_IFLAG_TIMER_NORESET;
		if (d->cell) {
			if (a->u.on)
				dlg_set_iflags(d->cell, bit);
			else
				dlg_reset_iflags(d->cell, bit);
		} else if (a->u.on) {
			d->iflags |= bit;
			d->iflags_off &= ~bit;
		} else {
			d->iflags &= ~bit;
			d->iflags_off |= bit;
		}
		break;
	}
	case ROUTE_ACT_DLG_KEEPALIVE: {
		/* The sides given, and only those (ka-src / ka-dst). */
		uint32_t all = DLG_IFLAG_KA_SRC | DLG_IFLAG_KA_DST;
		uint32_t on = ((a->u.ka_sides & ROUTE_KA_CALLER) ?
				       DLG_IFLAG_KA_SRC : 0) |
			      ((a->u.ka_sides & ROUTE_KA_CALLEE) ?
				       DLG_IFLAG_KA_DST : 0);
		if (d->cell) {
			dlg_reset_iflags(d->cell, all & ~on);
			dlg_set_iflags(d->cell, on);
		} else {
			d->iflags = (d->iflags & ~all) | on;
			d->iflags_off = (d->iflags_off & ~all) | (all & ~on);
		}
		break;
	}
	case ROUTE_ACT_SET_DLG_VAR:
		if (d->cell) {
			size_t n = px_tpl_expand(rq, &a->u.var.value, val,
						 sizeof(val));

			if (nul_refused("set_dlg_var", a->pos.line, val, n))
				break;
			dlg_var_set(d->cell, sip_str_c(a->u.var.key),
				    sip_str_mk(val, n));
		}
		break;
	case ROUTE_ACT_DLG_BYE:
		if (d->cell && (dlg_state(d->cell) == DLG_STATE_CONFIRMED ||
				dlg_state(d->cell) == DLG_STATE_CONFIRMED_NA)) {
			int sides = a->u.side == ROUTE_SIDE_CALLER ?
					    DLGP_BYE_CALLER :
				    a->u.side == ROUTE_SIDE_CALLEE ?
					    DLGP_BYE_CALLEE :
					    DLGP_BYE_ALL;
			dlgp_bye(rq->px, d->cell, sides, NULL);
			if (sides == DLGP_BYE_ALL)
				dlg_end(d->cell, rq->msg);
		}
		break;
	case ROUTE_ACT_TIMEOUT_ROUTE:
		if (d->cell)
			dlg_set_toroute(d->cell, a->u.route_name);
		else
			d->toroute = a->u.route_name;
		break;
	case ROUTE_ACT_DLG_BRIDGE: {
		char from[256], to[256], op[256];

		size_t fn = px_tpl_expand(rq, &a->u.bridge.from, from,
					  sizeof(from));
		size_t tn = px_tpl_expand(rq, &a->u.bridge.to, to, sizeof(to));
		size_t on = px_tpl_expand(rq, &a->u.bridge.op, op, sizeof(op));

		if (nul_refused("dlg_bridge", a->pos.line, from, fn) ||
		    nul_refused("dlg_bridge", a->pos.line, to, tn) ||
		    nul_refused("dlg_bridge", a->pos.line, op, on))
			break;
		if (dlgb_bridge(rq->px, from, to, op[0] ? op : NULL, NULL) != 0)
			log_warn("dlg_bridge (line %u): cannot call %s",
				 a->pos.line, from);
		break;
	}
	case ROUTE_ACT_DLG_REFER:
		if (d->cell) {
			size_t n = px_tpl_expand(rq, &a->u.refer.uri, val,
						 sizeof(val));
			val[n < sizeof(val) ? n : sizeof(val) - 1] = '\0';
			if (nul_refused("dlg_refer", a->pos.line, val, n))
				break;
			if (dlgp_refer(rq->px, d->cell,
				       a->u.refer.side == ROUTE_SIDE_CALLER ?
					       DLG_CALLER_LEG :
					       DLG_CALLEE_LEG,
				       val) != 0)
				log_warn("dlg_refer (line %u): the dialog is "
					 "not confirmed",
					 a->pos.line);
		}
		break;
	default:
		break;
	}
}

static void var_get(void *ud, const struct px_req *rq, const char *key,
		    char *out, size_t *n, size_t cap)
{
	const struct dlgp_req *d = rq->dlg_ctx;
	int len;

	if (!d || !d->cell || *n + 1 >= cap)
		return;
	len = dlg_var_get(d->cell, sip_str_c(key), out + *n, cap - *n);
	if (len > 0)
		*n += (size_t)len < cap - *n ? (size_t)len : cap - *n - 1;
}

/* $DLG_status / $DLG_lifetime of the dialog this request matched (empty
 * for others, Kamailio's NULL), and $DLG_count = active_dialogs. */
static void pv_get(void *ud, const struct px_req *rq, enum route_pv pv,
		   char *out, size_t *n, size_t cap)
{
	const struct dlgp_req *d = rq->dlg_ctx;
	long long v;
	int w;

	if (pv == ROUTE_PV_DLG_COUNT) {
		v = (long long)dlg_active_count(ud);
	} else {
		struct dlg_info *in;

		if (!d || !d->cell || !d->known)
			return;
		in = dlg_info_get(d->cell, 0);
		if (!in)
			return;
		v = pv == ROUTE_PV_DLG_STATUS ? in->state : in->duration;
		dlg_info_free(in);
	}
	w = snprintf(out + *n, cap - *n, "%lld", v);
	if (w > 0)
		*n += (size_t)w < cap - *n ? (size_t)w : cap - *n - 1;
}

static void load(void *ud, uint64_t *dialogs, uint64_t *early)
{
	dlg_table_load(ud, dialogs, early);
}

static const struct px_dlg_iface dlgp_iface = {
	.on_request = on_request,
	.cond = cond,
	.action = action,
	.var_get = var_get,
	.pv_get = pv_get,
	.branch_dlg = branch_dlg,
	.on_forward = on_forward,
	.on_local = on_local,
	.on_done = on_done,
	.load = load,
};

/*
 * The lifetime of a dialog ended: run its timeout_route rule, Kamailio's
 * timeout route, with the dialog as context and no message (conditions
 * on the message see nothing; forward/reply/drop do nothing).  It cannot
 * keep the dialog alive: the expiry is already done, as in Kamailio.
 */
static void on_expired(struct dlg_cell *c, int type,
		       const struct dlg_cb_params *p)
{
	struct proxy *px = p->param;
	struct dlgp_req d = { .cell = c, .known = true };
	char name[32];

	if (!dlg_toroute(c, name))
		return;
	if (proxy_run_rule(px, name, &d) == -ENOENT)
		log_warn("dialog %u:%u: timeout_route '%s' names no rule",
			 dlg_h_entry(c), dlg_h_id(c), name);
}

int dlgp_install(struct dlg_table *t, struct proxy *px)
{
	proxy_set_dialog(px, &dlgp_iface, t);
	return dlg_register_global_cb(t, DLGCB_EXPIRED, on_expired, px, NULL);
}
