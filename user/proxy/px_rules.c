/*
 * px_rules.c - run the routes: rules against one request.
 *
 * The first rule whose match: holds runs; its actions run in order and end
 * at the first forward, reply or drop.  Dialog actions and conditions are
 * delegated to the dialog layer through struct px_dlg_iface (without one,
 * conditions on dialogs are false and dialog actions do nothing).
 */
#define LOG_TAG "routes"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "proxy/px_rules.h"

#define TPL_MAX 512	/* a log line */
/*
 * A value built from a template (a rule's text and pseudo-variables that
 * copy fields of the request) or a field to match a regular expression
 * against: as long as a field of an accepted message can be, plus the
 * rule's own text, so that no comparison sees a cut value.  Per thread:
 * too big for a worker's stack, and conditions do not nest.
 */
#define PX_VAL_CAP (SIP_MSG_MAX + 4096u)
static _Thread_local char tl_want[PX_VAL_CAP], tl_subj[PX_VAL_CAP];
static _Thread_local char tl_user[PX_VAL_CAP], tl_ruri[2 * PX_VAL_CAP];

/* Append @s to @out (bounded). */
static void cat(char *out, size_t *n, size_t cap, const char *s, size_t len)
{
	if (*n + len >= cap)
		len = cap - 1 - *n;
	memcpy(out + *n, s, len);
	*n += len;
	out[*n] = '\0';
}

static void cat_sl(char *out, size_t *n, size_t cap, struct sip_str s)
{
	if (s.p && s.len)
		cat(out, n, cap, s.p, s.len);
}

/*
 * @s (@n bytes) as a C string for a log line: each NUL written as the two
 * characters "\0" into @buf; @s itself when it holds none.
 */
static const char *log_nul_safe(const char *s, size_t n, char *buf,
				size_t cap)
{
	size_t o = 0;

	if (!memchr(s, '\0', n))
		return s;
	for (size_t i = 0; i < n && o + 3 < cap; i++) {
		if (s[i] == '\0') {
			buf[o++] = '\\';
			buf[o++] = '0';
		} else {
			buf[o++] = s[i];
		}
	}
	buf[o] = '\0';
	return buf;
}

static struct sip_str uri_of(const struct sip_nameaddr *na)
{
	return na->uri;
}

static void pv_value(const struct px_req *rq, const struct route_tpl_part *pt,
		     char *out, size_t *n, size_t cap)
{
	const struct sip_msg *m = rq->msg;
	char tmp[64];

	switch (pt->pv) {
	case ROUTE_PV_NONE:
		cat(out, n, cap, pt->text, strlen(pt->text));
		break;
	case ROUTE_PV_FROM_URI:
		cat_sl(out, n, cap, uri_of(&m->from));
		break;
	case ROUTE_PV_FROM_USER:
		cat_sl(out, n, cap, m->from_uri.user);
		break;
	case ROUTE_PV_FROM_DOMAIN:
		cat_sl(out, n, cap, m->from_uri.host);
		break;
	case ROUTE_PV_TO_URI:
		cat_sl(out, n, cap, uri_of(&m->to));
		break;
	case ROUTE_PV_TO_USER:
		cat_sl(out, n, cap, m->to_uri.user);
		break;
	case ROUTE_PV_TO_DOMAIN:
		cat_sl(out, n, cap, m->to_uri.host);
		break;
	case ROUTE_PV_RURI:
		cat_sl(out, n, cap, m->ruri_str);
		break;
	case ROUTE_PV_RURI_USER:
		cat_sl(out, n, cap, m->ruri.user);
		break;
	case ROUTE_PV_RURI_DOMAIN:
		cat_sl(out, n, cap, m->ruri.host);
		break;
	case ROUTE_PV_SRC_IP:
		px_ip_str(&rq->src->remote, tmp, sizeof(tmp));
		cat(out, n, cap, tmp, strlen(tmp));
		break;
	case ROUTE_PV_SRC_PORT:
		snprintf(tmp, sizeof(tmp), "%u", px_addr_port(&rq->src->remote));
		cat(out, n, cap, tmp, strlen(tmp));
		break;
	case ROUTE_PV_CALLID:
		cat_sl(out, n, cap, m->call_id);
		break;
	case ROUTE_PV_HDR: {
		const struct sip_hdr *h = sip_msg_hdr_by_name(m, pt->text);
		if (h)
			cat_sl(out, n, cap, h->value);
		break;
	}
	case ROUTE_PV_DLG_VAR:
		if (rq->px->dlg.var_get)
			rq->px->dlg.var_get(rq->px->dlg_ud, rq, pt->text, out,
					    n, cap);
		break;
	case ROUTE_PV_DLG_STATUS:
	case ROUTE_PV_DLG_LIFETIME:
	case ROUTE_PV_DLG_COUNT:
		if (rq->px->dlg.pv_get)
			rq->px->dlg.pv_get(rq->px->dlg_ud, rq, pt->pv, out, n,
					   cap);
		break;
	}
}

size_t px_tpl_expand(const struct px_req *rq, const struct route_tpl *t,
		     char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < t->n_parts; i++)
		pv_value(rq, &t->parts[i], out, &n, cap);
	return n;
}

static bool str_any(const struct px_req *rq, struct sip_str have,
		    const struct route_cond *c, bool icase)
{
	char *want = tl_want;

	for (size_t i = 0; i < c->u.strs.n; i++) {
		if (c->u.strs.re && c->u.strs.re[i]) {
			/*
			 * regexec() takes a C string.  The fields given here
			 * are URI parts, which the parser keeps free of NUL
			 * (only a quoted-pair in a quoted-string may hold
			 * one); if one ever did, the expression would see the
			 * value up to the NUL.
			 */
			char *subj = tl_subj;
			size_t k = have.len < PX_VAL_CAP - 1 ? have.len :
							       PX_VAL_CAP - 1;
			if (k)
				memcpy(subj, have.p, k);
			subj[k] = '\0';
			if (regexec(c->u.strs.re[i], subj, 0, NULL, 0) == 0)
				return true;
			continue;
		}
		size_t n = px_tpl_expand(rq, &c->u.strs.v[i], want, PX_VAL_CAP);
		if (have.len == n && have.p &&
		    (icase ? sip_mem_eqi(have.p, want, n) :
			     memcmp(have.p, want, n) == 0))
			return true;
	}
	return false;
}

static bool cidr_match(const struct route_cidr *c, const struct tp_addr *a)
{
	const uint8_t *ip;
	unsigned bits = c->prefix, bytes;

	if (a->ss.ss_family != c->family)
		return false;
	ip = c->family == AF_INET6 ?
		     ((const struct sockaddr_in6 *)&a->ss)->sin6_addr.s6_addr :
		     (const uint8_t *)&((const struct sockaddr_in *)&a->ss)->sin_addr;
	bytes = bits / 8;
	if (memcmp(ip, c->addr, bytes) != 0)
		return false;
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));
		if ((ip[bytes] & mask) != (c->addr[bytes] & mask))
			return false;
	}
	return true;
}

static bool header_cond(const struct px_req *rq, const struct route_cond *c)
{
	const struct sip_msg *m = rq->msg;
	char *want = tl_want;
	size_t wn = 0;

	enum sip_hdr_id id = sip_hdr_id_from_name(c->u.header.name,
						  strlen(c->u.header.name));

	if (c->u.header.op != ROUTE_HDR_EXISTS)
		wn = px_tpl_expand(rq, &c->u.header.value, want, PX_VAL_CAP);
	for (uint16_t i = 0; i < m->hdr_count; i++) {
		const struct sip_hdr *h = &m->hdrs[i];

		if (id != SIP_HDR_OTHER ? h->id != id :
					  !sip_str_eqi_c(h->name, c->u.header.name))
			continue;
		switch (c->u.header.op) {
		case ROUTE_HDR_EXISTS:
			return true;
		case ROUTE_HDR_EQUALS:
			if (h->value.len == wn &&
			    memcmp(h->value.p, want, wn) == 0)
				return true;
			break;
		case ROUTE_HDR_CONTAINS:
			if (wn == 0 || memmem(h->value.p, h->value.len, want, wn))
				return true;
			break;
		}
	}
	return false;
}

static bool cond_holds(struct px_req *rq, const struct route_cond *c)
{
	const struct sip_msg *m = rq->msg;

	switch (c->type) {
	case ROUTE_COND_METHOD:
		for (size_t i = 0; i < c->u.methods.n; i++)
			if (sip_str_eq_c(m->method_str, c->u.methods.v[i]))
				return true;
		return false;
	case ROUTE_COND_RURI_USER:
		return str_any(rq, m->ruri.user, c, false);
	case ROUTE_COND_RURI_DOMAIN:
		return str_any(rq, m->ruri.host, c, true);
	case ROUTE_COND_FROM_USER:
		return str_any(rq, m->from_uri.user, c, false);
	case ROUTE_COND_FROM_DOMAIN:
		return str_any(rq, m->from_uri.host, c, true);
	case ROUTE_COND_TO_USER:
		return str_any(rq, m->to_uri.user, c, false);
	case ROUTE_COND_TO_DOMAIN:
		return str_any(rq, m->to_uri.host, c, true);
	case ROUTE_COND_SOURCE:
		for (size_t i = 0; i < c->u.sources.n; i++)
			if (cidr_match(&c->u.sources.v[i], &rq->src->remote))
				return true;
		return false;
	case ROUTE_COND_IN_DIALOG:
		return sip_str_present(m->to.tag) == (c->u.want != 0);
	case ROUTE_COND_HEADER:
		return header_cond(rq, c);
	case ROUTE_COND_IS_KNOWN_DLG:
	case ROUTE_COND_IS_IN_PROFILE:
	case ROUTE_COND_PROFILE_SIZE:
	case ROUTE_COND_DLG_ISFLAGSET:
		if (rq->px->dlg.cond)
			return rq->px->dlg.cond(rq->px->dlg_ud, rq, c);
		return c->type == ROUTE_COND_IS_KNOWN_DLG ? !c->u.want : false;
	}
	return false;
}

bool px_conds_hold(struct px_req *rq, const struct route_cond_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (!cond_holds(rq, &set->v[i]))
			return false;
	return true;
}

/* Run @acts; returns true when a terminal action decided. */
static bool run_actions(struct px_req *rq, const struct route_action_list *acts,
			struct px_decision *d, int depth)
{
	for (size_t i = 0; i < acts->n; i++) {
		const struct route_action *a = &acts->v[i];

		switch (a->type) {
		case ROUTE_ACT_FORWARD:
			d->verdict = PXV_FORWARD;
			d->fwd = &a->u.forward;
			return true;
		case ROUTE_ACT_REPLY:
			d->verdict = PXV_REPLY;
			d->code = a->u.reply.code;
			d->reason = a->u.reply.reason;
			return true;
		case ROUTE_ACT_DROP:
			d->verdict = PXV_DROP;
			return true;
		case ROUTE_ACT_IF:
			if (depth > 16)
				break;
			if (px_conds_hold(rq, &a->u.branch.cond) ?
				    run_actions(rq, &a->u.branch.then_acts, d,
						depth + 1) :
				    run_actions(rq, &a->u.branch.else_acts, d,
						depth + 1))
				return true;
			break;
		case ROUTE_ACT_RURI_USER: {
			/* sip:NEWUSER@host...: the user part replaced. */
			const struct sip_uri *u = &rq->msg->ruri;
			char *user = tl_user;
			size_t un = px_tpl_expand(rq, &a->u.ruri_user, user,
						  PX_VAL_CAP);
			const char *start = rq->msg->ruri_str.p;
			const char *end = start + rq->msg->ruri_str.len;
			const char *host = u->host.p;
			int w;

			if (u->type != SIP_SCHEME_SIP && u->type != SIP_SCHEME_SIPS)
				break;
			/*
			 * A NUL (from $hdr(...) of a header holding an escaped
			 * one) cannot be in a URI, and "%.*s" would cut the
			 * user at it: leave the R-URI as it is.
			 */
			if (memchr(user, '\0', un)) {
				log_warn("ruri_user (line %u): the value holds a "
					 "NUL byte; Request-URI not changed",
					 a->pos.line);
				break;
			}
			if (!host)
				break;
			/* host may be written in brackets: keep them. */
			if (host > start && host[-1] == '[')
				host--;
			w = snprintf(tl_ruri, sizeof(tl_ruri), "%.*s:%.*s@%.*s",
				     (int)u->scheme.len, u->scheme.p, (int)un, user,
				     (int)(end - host), host);
			if (w > 0 && (size_t)w < sizeof(tl_ruri)) {
				rq->ruri = tl_ruri;
				rq->ruri_len = (size_t)w;
			}
			break;
		}
		case ROUTE_ACT_LOG: {
			char line[TPL_MAX];
			size_t ln = px_tpl_expand(rq, &a->u.log, line,
						  sizeof(line));

			/* An escaped NUL from a header shows as "\0", so the
			 * rest of the line is not lost. */
			log_notice("%s", log_nul_safe(line, ln, tl_subj,
						      PX_VAL_CAP));
			break;
		}
		default:
			/* Dialog actions. */
			if (rq->px->dlg.action)
				rq->px->dlg.action(rq->px->dlg_ud, rq, a);
			break;
		}
	}
	return false;
}

void px_rules_run_rule(struct px_req *rq, const struct route_rule *r,
		       struct px_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->verdict = PXV_NONE;
	d->rule = r;
	run_actions(rq, &r->actions, d, 0);
}

void px_rules_run(struct px_req *rq, const struct route_list *rules,
		  struct px_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->verdict = PXV_NONE;
	for (size_t i = 0; i < rules->n_rules; i++) {
		const struct route_rule *r = &rules->rules[i];

		if (r->timeout_only || !px_conds_hold(rq, &r->match))
			continue;
		d->rule = r;
		run_actions(rq, &r->actions, d, 0);
		return;
	}
}

int proxy_run_rule(struct proxy *px, const char *name, void *dlg_ctx)
{
	static const struct sip_msg none;
	static const struct tp_peer nobody;
	const struct route_rule *r = route_find(&px->cfg->routes, name);
	struct px_req rq = { .px = px, .msg = &none, .src = &nobody,
			     .dlg_ctx = dlg_ctx };
	struct px_decision d;

	if (!r)
		return -ENOENT;
	px_rules_run_rule(&rq, r, &d);
	return 0;
}
