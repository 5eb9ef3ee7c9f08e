/*
 * dlg_msg.c - from parsed SIP messages (sip/sip_msg.h) to what the dialog
 * core takes: the initial INVITE's data, a reply's callee leg, a
 * sequential request's identifiers.  The core itself never parses, so it
 * can be driven by tests, the DB loader or the fast path alike.
 *
 * Route sets (reference §0) are stored as name-addrs joined by ',' with no
 * spaces, first element = next hop:
 *   caller set = the INVITE's Record-Route entries as received, in
 *                message order (nearest proxy first, seen from us);
 *   callee set = the 2xx's entries, minus the last rr_count (the caller
 *                side, copied from the INVITE) and minus our own 1 or 2
 *                just above them, reversed (so the proxy nearest to us
 *                comes first).
 */
#include <errno.h>
#include <string.h>

#include "dialog/dlg_int.h"

#define DLG_MAX_RR 64	/* Record-Route entries considered */

/* Append @v (and a ',' before it unless first) to @buf. */
static int join(char *buf, size_t cap, size_t *len, struct sip_str v)
{
	size_t need = v.len + (*len ? 1 : 0);

	if (*len + need + 1 > cap)
		return -ENOSPC;
	if (*len)
		buf[(*len)++] = ',';
	memcpy(buf + *len, v.p, v.len);
	*len += v.len;
	buf[*len] = '\0';
	return 0;
}

/* Collect up to DLG_MAX_RR Record-Route values; returns the count or
 * -EBADMSG / -E2BIG.  A value holding a NUL (an escaped one in a quoted
 * display name, which the parser accepts) is -EBADMSG: the route set is
 * kept and stored as a C string, and a cut one would route elsewhere. */
static int rr_values(const struct sip_msg *m, struct sip_str *vals)
{
	struct sip_value_iter it;
	struct sip_str v;
	int n = 0, r;

	sip_value_iter_init(&it, m, SIP_HDR_RECORD_ROUTE);
	while ((r = sip_value_next(&it, &v)) == 1) {
		if (n == DLG_MAX_RR)
			return -E2BIG;
		vals[n] = dlg_trim(v);
		if (vals[n].len && memchr(vals[n].p, '\0', vals[n].len))
			return -EBADMSG;
		n++;
	}
	return r < 0 ? r : n;
}

int dlg_invite_from_msg(struct dlg_invite *inv, const struct sip_msg *m,
			char *rs_buf, size_t rs_cap)
{
	struct sip_str rr[DLG_MAX_RR];
	size_t len = 0;
	int n, err;

	memset(inv, 0, sizeof(*inv));
	if (!m->is_request || !m->from.tag.p || !m->from.tag.len)
		return -EINVAL;
	/* Kamailio creates no dialog without exactly one Contact. */
	if (m->n_contact != 1 || m->contact.star || !m->contact.uri.len)
		return -EINVAL;
	n = rr_values(m, rr);
	if (n < 0)
		return n == -E2BIG ? -ENOSPC : n;
	if (rs_cap)
		rs_buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		err = join(rs_buf, rs_cap, &len, rr[i]);
		if (err)
			return err;
	}
	inv->callid = m->call_id;
	inv->from_uri = m->from.uri;
	inv->from_tag = m->from.tag;
	inv->to_uri = m->to.uri;
	inv->req_uri = m->ruri_str;
	inv->contact = m->contact.uri;
	inv->route_set = sip_str_mk(rs_buf, len);
	inv->cseq = m->cseq.num;
	inv->rr_count = (unsigned)n;
	inv->msg = m;
	return 0;
}

int dlg_callee_route_set(const struct sip_msg *rsp, unsigned caller_rr,
			 unsigned own_rr, char *buf, size_t cap, size_t *len)
{
	struct sip_str rr[DLG_MAX_RR];
	int n = rr_values(rsp, rr), keep;

	*len = 0;
	if (cap)
		buf[0] = '\0';
	if (n < 0)
		return n == -E2BIG ? -ENOSPC : n;
	keep = n - (int)caller_rr - (int)own_rr;
	for (int i = keep - 1; i >= 0; i--) {
		int err = join(buf, cap, len, rr[i]);

		if (err)
			return err;
	}
	return 0;
}

int dlg_reply_from_msg(struct dlg_reply *r, const struct sip_msg *rsp,
		       const struct dlg_cell *c, unsigned own_rr,
		       char *rs_buf, size_t rs_cap)
{
	size_t len = 0;
	int err;

	memset(r, 0, sizeof(*r));
	if (rsp->is_request)
		return -EINVAL;
	r->code = rsp->status;
	r->to_tag = rsp->to.tag;
	r->msg = rsp;
	if (rsp->status < 200 || rsp->status >= 300)
		return 0;
	if (rsp->n_contact >= 1 && !rsp->contact.star)
		r->contact = rsp->contact.uri;
	err = dlg_callee_route_set(rsp, dlg_caller_rr_count(c), own_rr,
				   rs_buf, rs_cap, &len);
	if (err)
		return err;
	r->route_set = sip_str_mk(rs_buf, len);
	return 0;
}

void dlg_req_from_msg(struct dlg_req *rq, const struct sip_msg *m,
		      struct sip_str did)
{
	memset(rq, 0, sizeof(*rq));
	rq->method = m->method;
	rq->method_str = m->method_str;
	rq->callid = m->call_id;
	rq->from_tag = m->from.tag;
	rq->to_tag = m->to.tag;
	rq->did = did;
	rq->cseq = m->cseq.num;
	if (m->n_contact >= 1 && !m->contact.star)
		rq->contact = m->contact.uri;
	rq->msg = m;
}
