/*
 * px_request.c - the request path of the proxy (RFC 3261 16.3-16.6):
 * validate, match to a transaction (retransmissions, CANCEL, hop-by-hop
 * ACK), run the rules, then forward, answer or drop.
 */
#define LOG_TAG "proxy"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/stats.h"
#include "proxy/px_fmt.h"
#include "proxy/px_rules.h"

static _Thread_local struct obuf rq_scratch;
static _Thread_local struct obuf rq_scratch2;
/* Server keys: as long as a message (tm.h), too big for the stack. */
static _Thread_local char rq_key[TM_KEY_MAX];

/* Where a request goes and what it looks like when it leaves. */
struct px_route {
	struct sip_str ruri;
	struct sip_str routes[PX_MAX_ROUTES];
	size_t n_routes;
	char *strict_buf;		/* strict next hop: "<old R-URI>" */
};

/* "<R-URI>" for a strict next hop: as long as an R-URI can be. */
static _Thread_local char rq_strict[SIP_MSG_MAX + 3];

static uint64_t fnv(uint64_t h, struct sip_str s)
{
	for (size_t i = 0; i < s.len; i++) {
		h ^= (unsigned char)s.p[i];
		h *= 1099511628211ull;
	}
	return h;
}

/*
 * The Route set as it leaves: our own entries at the top removed (two
 * with double Record-Route), the strict-router cases of 16.4 and 16.6.
 * Returns 0 or -EBADMSG.
 */
static int route_prepare(struct proxy *px, const struct sip_msg *m,
			 struct px_route *r)
{
	struct sip_value_iter it;
	struct sip_nameaddr na;
	size_t first = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	r->strict_buf = rq_strict;
	r->ruri = m->ruri_str;
	sip_value_iter_init(&it, m, SIP_HDR_ROUTE);
	while ((rc = sip_value_next_addr(&it, &na)) == 1) {
		if (r->n_routes == PX_MAX_ROUTES)
			return -EBADMSG;
		r->routes[r->n_routes++] = na.raw;
	}
	if (rc < 0)
		return -EBADMSG;
	/* 16.4: a strict router before us put our URI in the R-URI. */
	if (r->n_routes > 0 && px_uri_is_ours(px, r->ruri)) {
		struct sip_nameaddr last;
		struct sip_str lr = r->routes[r->n_routes - 1];
		if (sip_nameaddr_parse(&last, lr.p, lr.len, 0) == 0) {
			r->ruri = last.uri;
			r->n_routes--;
		}
	}
	/* Pop our own entries from the top. */
	while (first < r->n_routes) {
		struct sip_nameaddr top;
		struct sip_str s = r->routes[first];
		if (sip_nameaddr_parse(&top, s.p, s.len, 0) != 0 ||
		    !px_uri_is_ours(px, top.uri))
			break;
		first++;
	}
	if (first) {
		memmove(r->routes, r->routes + first,
			(r->n_routes - first) * sizeof(r->routes[0]));
		r->n_routes -= first;
	}
	return 0;
}

/* Next hop of a request that follows its Route set (or its R-URI). */
static int route_next_hop(struct proxy *px, struct px_route *r,
			  struct px_target *t)
{
	if (r->n_routes > 0) {
		struct sip_nameaddr top;
		struct sip_str s = r->routes[0];
		struct sip_uri u;

		if (sip_nameaddr_parse(&top, s.p, s.len, 0) != 0 ||
		    sip_uri_parse(&u, top.uri.p, top.uri.len) != 0)
			return -EBADMSG;
		if (!u.lr) {
			/* 16.6 item 7: the next hop is a strict router. */
			int n = snprintf(r->strict_buf, sizeof(rq_strict),
					 "<%.*s>", (int)r->ruri.len, r->ruri.p);
			if (n < 0 || (size_t)n >= sizeof(rq_strict))
				return -EBADMSG;
			if (r->n_routes == PX_MAX_ROUTES)
				return -E2BIG;	/* 32 + the old R-URI */
			r->ruri = top.uri;
			memmove(r->routes, r->routes + 1,
				(r->n_routes - 1) * sizeof(r->routes[0]));
			r->routes[r->n_routes - 1] =
				sip_str_mk(r->strict_buf, (size_t)n);
			return px_uri_target(top.uri, t);
		}
		return px_uri_target(top.uri, t);
	}
	if (px_uri_is_ours(px, r->ruri))
		return -ENOENT;		/* addressed to us: nothing to follow */
	return px_uri_target(r->ruri, t);
}

static bool creates_dialog(const struct sip_msg *m)
{
	if (sip_str_present(m->to.tag))
		return false;
	return m->method == SIP_METHOD_INVITE ||
	       m->method == SIP_METHOD_SUBSCRIBE ||
	       m->method == SIP_METHOD_REFER;
}

static const char *tp_name(enum tp_proto p)
{
	return p == TP_TCP ? "TCP" : p == TP_TLS ? "TLS" : "UDP";
}

/* "Record-Route: <sip:HOST:PORT;transport=tcp;lr;PARAMS>\r\n" */
static void rr_line(char *buf, size_t *n, size_t cap,
		    const struct px_local *lo, const char *params, bool r2)
{
	struct px_sb b = px_sb_at(buf, cap, *n);

	px_sb_str(&b, "Record-Route: <sip:");
	px_sb_str(&b, lo->adv_host);
	px_sb_chr(&b, ':');
	px_sb_u32(&b, lo->adv_port);
	if (lo->proto == TP_TCP)
		px_sb_str(&b, ";transport=tcp");
	else if (lo->proto == TP_TLS)
		px_sb_str(&b, ";transport=tls");
	px_sb_str(&b, r2 ? ";lr;r2=on" : ";lr");
	px_sb_str(&b, params);
	px_sb_str(&b, ">\r\n");
	if (!b.over)
		*n = b.n;
	else if (*n < cap)
		buf[*n] = '\0';	/* all or nothing, as before */
}

/*
 * Build the outgoing request into @o.  @branch_tail makes the branch unique
 * (the tx id) or deterministic (a hash, for stateless ACK forwarding).
 */
static int build_forward(struct proxy *px, struct px_req *rq,
			 struct px_route *r, const struct px_target *t,
			 int local_idx, uint32_t lh, uint64_t branch_tail,
			 struct obuf *o, char *branch, size_t branch_cap,
			 size_t *branch_len)
{
	const struct sip_msg *m = rq->msg;
	const struct px_local *lo = &px->local[local_idx];
	char via[200], rr[600];
	struct px_sb vb;
	size_t rrn = 0;
	struct px_fwd f;
	struct px_branch_dlg bd;
	const char *rr_params = "";
	bool has_dlg = px->dlg.branch_dlg &&
		       px->dlg.branch_dlg(px->dlg_ud, rq, &bd, &rr_params);
	int bl;

	bl = (int)px_branch(branch, branch_cap, has_dlg ? &bd : NULL, lh,
			    branch_tail);
	*branch_len = (size_t)bl;
	vb = px_sb_at(via, sizeof(via), 0);
	px_sb_str(&vb, "Via: SIP/2.0/");
	px_sb_str(&vb, tp_name(lo->proto));
	px_sb_chr(&vb, ' ');
	px_sb_str(&vb, lo->adv_host);
	px_sb_chr(&vb, ':');
	px_sb_u32(&vb, lo->adv_port);
	px_sb_str(&vb, ";branch=");
	px_sb_str(&vb, branch);
	px_sb_str(&vb, "\r\n");
	rr[0] = '\0';
	if (creates_dialog(m)) {
		int in_idx = rq->src->listen_idx;
		bool dbl = in_idx >= 0 && in_idx != local_idx &&
			   (size_t)in_idx < px->n_local;

		/* Topmost faces the callee; the caller's side below it. */
		rr_line(rr, &rrn, sizeof(rr), lo, rr_params, dbl);
		if (dbl)
			rr_line(rr, &rrn, sizeof(rr), &px->local[in_idx],
				rr_params, true);
		rq->own_rr = dbl ? 2 : 1;
	}
	memset(&f, 0, sizeof(f));
	f.ruri = r->ruri;
	memcpy(f.routes, r->routes, r->n_routes * sizeof(r->routes[0]));
	f.n_routes = r->n_routes;
	f.via = via;
	f.rr = rr;
	f.max_forwards = m->max_forwards < 0 ? 70 : m->max_forwards - 1;
	(void)t;
	return pxb_request(o, m, rq->src, &f);
}

/* The largest UDP payload to @t (65,535 less the IP and UDP headers);
 * no limit but the message's own over TCP. */
static size_t udp_payload_max(const struct px_target *t)
{
	if (t->proto != TP_UDP)
		return SIZE_MAX;
	return t->addr.ss.ss_family == AF_INET6 ? 65535u - 8u
						  : 65535u - 20u - 8u;
}

static void reply_tx(struct proxy *px, struct tm_tx *tx,
		     const struct sip_msg *m, int code, const char *reason)
{
	struct obuf *o = &rq_scratch2;

	if (pxb_reply(o, m, &tx->src, code, reason, tx->to_tag) == 0) {
		stat_inc(px->s.local_replies);
		px_tx_send_upstream(px, tx, code, o->buf, o->len);
		if (code > 100)
			px_tx_tell(px, tx, NULL, code);
	}
}

static void end_without_client(struct proxy *px, struct tm_tx *tx)
{
	tx->cdone = true;
	if (tx->sstate == TM_S_PROCEEDING) {	/* dropped: nothing to wait for */
		tx->sdone = true;
	}
	px_tx_finish(px, tx);
}

/* ACK of a 2xx and any other request we pass on without a transaction. */
static void forward_stateless(struct proxy *px, struct px_req *rq,
			      const struct px_decision *d)
{
	const struct sip_msg *m = rq->msg;
	struct px_route r;
	struct px_target t;
	char branch[TM_BRANCH_MAX];
	size_t bl;
	int idx, rc;

	if (m->max_forwards == 0 || route_prepare(px, m, &r) != 0) {
		stat_inc(px->s.drop_requests);
		return;
	}
	rc = d->verdict == PXV_FORWARD ? px_dest_target(d->fwd, &t) :
					 route_next_hop(px, &r, &t);
	idx = rc == 0 ? px_pick_local(px, &t, rq->src->listen_idx) : -1;
	if (idx < 0) {
		stat_inc(px->s.drop_requests);
		return;
	}
	/* Same branch for the same incoming branch: retransmitted ACKs of
	 * retransmitted 2xx stay one "transaction" downstream. */
	uint64_t h = fnv(1469598103934665603ull, m->via.branch) ^ px->salt;
	if (build_forward(px, rq, &r, &t, idx, px_loop_hash(m), h,
			  &rq_scratch, branch, sizeof(branch), &bl) != 0) {
		stat_inc(px->s.drop_requests);
		return;
	}
	struct tp_peer dst;

	px_target_peer(&t, idx, &dst);
	if (px_send(px, &dst, rq_scratch.buf, rq_scratch.len) == 0)
		stat_inc(px->s.fwd_requests);
}

static void on_ack(struct proxy *px, struct px_req *rq)
{
	const struct sip_msg *m = rq->msg;
	char *key = rq_key;
	size_t kl = tm_server_key(m, SIP_METHOD_ACK, key);
	struct px_decision d;

	if (kl) {
		struct tm_tx *tx = tm_lookup_server(px->tm, key, kl);
		if (tx) {
			bool absorbed;
			pthread_mutex_lock(&tx->lock);
			absorbed = tx->sstate == TM_S_COMPLETED ||
				   tx->sstate == TM_S_CONFIRMED;
			px_tx_on_ack(px, tx);
			pthread_mutex_unlock(&tx->lock);
			tm_tx_unref(tx);
			if (absorbed)
				return;	/* hop-by-hop ACK of our non-2xx */
		}
	}
	if (px->dlg.on_request)
		px->dlg.on_request(px->dlg_ud, rq);
	px_rules_run(rq, &px->cfg->routes, &d);
	if (d.verdict == PXV_DROP || d.verdict == PXV_REPLY)
		stat_inc(px->s.drop_requests);	/* an ACK is never answered */
	else
		forward_stateless(px, rq, &d);
	if (px->dlg.on_done)
		px->dlg.on_done(px->dlg_ud, rq);
}

static void on_cancel(struct proxy *px, struct px_req *rq)
{
	const struct sip_msg *m = rq->msg;
	char *key = rq_key;
	size_t kl = tm_server_key(m, SIP_METHOD_INVITE, key);
	struct tm_tx *tx = kl ? tm_lookup_server(px->tm, key, kl) : NULL;

	if (!tx) {
		px_reply_stateless(px, m, rq->src, 481, NULL);
		return;
	}
	px_reply_stateless(px, m, rq->src, 200, NULL);
	pthread_mutex_lock(&tx->lock);
	px_tx_cancel(px, tx);
	pthread_mutex_unlock(&tx->lock);
	tm_tx_unref(tx);
}

static struct tm_tx *new_tx(struct proxy *px, const struct sip_msg *m,
			    const struct tp_peer *src, const char *key,
			    size_t kl, bool *retrans)
{
	struct tm_tx *tx = tm_tx_alloc(px->tm, px), *old = NULL;

	*retrans = false;
	if (!tx)
		return NULL;
	tx->skey = malloc(kl);
	if (!tx->skey) {
		tm_tx_unref(tx);
		return NULL;
	}
	memcpy(tx->skey, key, kl);
	tx->skey_len = kl;
	tx->method = m->method;
	tx->invite = m->method == SIP_METHOD_INVITE;
	px_reply_peer(&m->via, src, &tx->src);
	tx->req = malloc(m->raw.len ? m->raw.len : 1);
	if (!tx->req) {
		tm_tx_unref(tx);
		return NULL;
	}
	memcpy(tx->req, m->raw.p, m->raw.len);
	tx->req_len = m->raw.len;
	snprintf(tx->to_tag, sizeof(tx->to_tag), "%016llx",
		 (unsigned long long)(tx->id * 0x9e3779b97f4a7c15ull ^ px->salt));
	tx->sstate = TM_S_PROCEEDING;
	tx->cstate = TM_C_NONE;
	tx->cdone = true;	/* until a request is forwarded */
	if (tm_insert_server(px->tm, tx, &old) == -EEXIST) {
		tm_tx_unref(tx);
		*retrans = true;
		return old;
	}
	tx->counted = true;
	stat_inc(px->s.tx_created);
	stat_inc(px->s.tx_active);
	return tx;
}

static void retransmission(struct proxy *px, struct tm_tx *tx)
{
	stat_inc(px->s.retransmissions);
	pthread_mutex_lock(&tx->lock);
	if ((tx->sstate == TM_S_PROCEEDING || tx->sstate == TM_S_COMPLETED) &&
	    tx->last_rsp)
		px_send(px, &tx->src, tx->last_rsp, tx->last_rsp_len);
	pthread_mutex_unlock(&tx->lock);
}

static void forward_tx(struct proxy *px, struct px_req *rq, struct tm_tx *tx,
		       const struct px_decision *d)
{
	const struct sip_msg *m = rq->msg;
	struct px_route r;
	struct px_target t;
	int idx, rc;
	uint32_t lh;

	if (route_prepare(px, m, &r) != 0) {
		/* px_validate let no unparsable or overlong Route through */
		reply_tx(px, tx, m, 400, PX_TOO_MANY_ROUTES_REASON);
		return;
	}
	if (rq->ruri_len)
		r.ruri = sip_str_mk(rq->ruri, rq->ruri_len);
	if (d->verdict == PXV_FORWARD) {
		rc = px_dest_target(d->fwd, &t);
	} else if (sip_str_present(m->to.tag)) {
		rc = route_next_hop(px, &r, &t);
	} else {
		stat_inc(px->s.not_found);
		reply_tx(px, tx, m, 404, NULL);
		return;
	}
	if (rc == -ENOENT) {
		stat_inc(px->s.not_found);
		reply_tx(px, tx, m, 404, NULL);
		return;
	}
	if (rc == -EPROTONOSUPPORT) {
		reply_tx(px, tx, m, 416, NULL);
		return;
	}
	if (rc == -E2BIG) {
		stat_inc(px->s.too_many_routes);
		reply_tx(px, tx, m, 400, PX_TOO_MANY_ROUTES_REASON);
		return;
	}
	if (rc != 0) {
		reply_tx(px, tx, m, rc == -EBADMSG ? 400 : 503,
			 rc == -EBADMSG ? "Bad Request - Malformed Route" :
					  "Service Unavailable - Next Hop Unresolvable");
		return;
	}
	idx = px_pick_local(px, &t, rq->src->listen_idx);
	if (idx < 0 && t.proto == TP_TLS) {
		/* RFC 3261 26.2.2 / 16.6: a sips: (or transport=tls) target
		 * must go out over TLS, never downgraded to UDP/TCP; we have
		 * no TLS socket of that family, a condition of this server
		 * and not of the request, so 503 (21.5.4) rather than 416
		 * (the scheme is one we understand) or 480 (the callee is
		 * not the problem).  Answered, not dropped, so the caller
		 * can try elsewhere at once. */
		px_no_tls_note(px, t.addr.ss.ss_family);
		reply_tx(px, tx, m, 503, "Service Unavailable - No TLS "
			 "Listen Entry For The Next Hop's Address Family");
		return;
	}
	if (idx < 0) {
		reply_tx(px, tx, m, 503,
			 "Service Unavailable - No Socket For Next Hop");
		return;
	}
	lh = px_loop_hash(m);	/* a loop was refused by px_validate */
	if (build_forward(px, rq, &r, &t, idx, lh, tx->id ^ px->salt,
			  &rq_scratch, tx->branch, sizeof(tx->branch),
			  &tx->branch_len) != 0 ||
	    rq_scratch.len > udp_payload_max(&t)) {
		/* With our Via and Record-Route it no longer fits (in a
		 * message, or in the UDP datagram to the next hop). */
		reply_tx(px, tx, m, 513, NULL);
		return;
	}
	tx->own_rr = (uint8_t)rq->own_rr;
	if (px->dlg.on_forward)
		px->dlg.on_forward(px->dlg_ud, rq, tx);
	if (px_tx_forward(px, tx, &t, idx, rq_scratch.buf, rq_scratch.len) != 0)
		reply_tx(px, tx, m, 503,
			 "Service Unavailable - Cannot Reach Next Hop");
}

/* One counter per reason a request failed px_validate. */
static void count_refusal(struct proxy *px, const struct px_check_result *v)
{
	struct stat_var *c = NULL;

	switch (v->why) {
	case PXC_RURI_HEADERS: c = px->s.ruri_headers; break;
	case PXC_TOO_MANY_ROUTES: c = px->s.too_many_routes; break;
	case PXC_URI_SCHEME: c = px->s.bad_scheme; break;
	case PXC_MAX_FORWARDS: c = px->s.too_many_hops; break;
	case PXC_LOOP: c = px->s.loops; break;
	case PXC_BAD_PROXY_REQUIRE: c = px->s.bad_proxy_require; break;
	case PXC_BAD_EXTENSION: c = px->s.bad_extension; break;
	case PXC_OK: break;
	}
	stat_inc(c);
}

void px_on_request(struct proxy *px, struct tp_rcv *rcv)
{
	const struct sip_msg *m = rcv->msg;
	struct px_req rq = { .px = px, .msg = m, .src = &rcv->src };
	struct px_check_result v;
	struct px_decision d;
	char *key = rq_key;
	size_t kl;
	struct tm_tx *tx;
	bool retrans;

	stat_inc(px->s.rcv_requests);
	if (px_validate(px, m, &v) != 0) {
		count_refusal(px, &v);
		if (m->method == SIP_METHOD_ACK)
			stat_inc(px->s.drop_requests);	/* never answered */
		else
			px_reply_stateless_hdrs(px, m, rq.src, v.code,
						v.reason, v.extra);
		return;
	}
	if (m->method == SIP_METHOD_ACK) {
		on_ack(px, &rq);
		return;
	}
	if (m->method == SIP_METHOD_CANCEL) {
		on_cancel(px, &rq);
		return;
	}
	kl = tm_server_key(m, m->method, key);
	if (kl == 0) {
		/* Cannot happen (tm.h: TM_KEY_MAX); never silently. */
		px_reply_stateless(px, m, rq.src, 500,
				   "Server Internal Error - Transaction Key");
		return;
	}
	tx = tm_lookup_server(px->tm, key, kl);
	if (tx) {
		retransmission(px, tx);
		tm_tx_unref(tx);
		return;
	}
	/* Before any state is made for it: a flood of new calls stops at
	 * the ceilings of limits:, calls set up already go on. */
	if (px_limits_refuse(px, &rq))
		return;
	tx = new_tx(px, m, rq.src, key, kl, &retrans);
	if (!tx) {
		px_reply_stateless(px, m, rq.src, 500,
				   "Server Internal Error - Out Of Memory");
		return;
	}
	if (retrans) {
		retransmission(px, tx);
		tm_tx_unref(tx);
		return;
	}
	pthread_mutex_lock(&tx->lock);
	if (tx->invite)
		reply_tx(px, tx, m, 100, NULL);
	if (px->dlg.on_request)
		px->dlg.on_request(px->dlg_ud, &rq);
	px_rules_run(&rq, &px->cfg->routes, &d);
	switch (d.verdict) {
	case PXV_REPLY:
		if (px->dlg.on_local)
			px->dlg.on_local(px->dlg_ud, &rq, d.code);
		reply_tx(px, tx, m, d.code, d.reason);
		break;
	case PXV_DROP:
		if (px->dlg.on_local)
			px->dlg.on_local(px->dlg_ud, &rq, 0);
		stat_inc(px->s.drop_requests);
		break;
	case PXV_FORWARD:
	case PXV_NONE:
		forward_tx(px, &rq, tx, &d);
		break;
	}
	if (tx->cstate == TM_C_NONE)
		end_without_client(px, tx);
	if (px->dlg.on_done)
		px->dlg.on_done(px->dlg_ud, &rq);
	pthread_mutex_unlock(&tx->lock);
	tm_tx_unref(tx);
}
