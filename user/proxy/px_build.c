/*
 * px_build.c - build the messages a proxy sends: local replies, forwarded
 * requests and responses, CANCEL and the ACK of a non-2xx answer.
 *
 * Headers are copied as written (names, compact forms, folding), except the
 * ones the proxy must change: Via (ours on top; received/rport on the
 * previous hop's, RFC 3581), Max-Forwards, Route (our entries removed),
 * Record-Route (ours added on top).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proxy/px_internal.h"

const char *pxb_reason(int code)
{
	switch (code) {
	case 100: return "Trying";
	case 180: return "Ringing";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 416: return "Unsupported URI Scheme";
	case 420: return "Bad Extension";
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 482: return "Loop Detected";
	case 483: return "Too Many Hops";
	case 486: return "Busy Here";
	case 487: return "Request Terminated";
	case 500: return "Server Internal Error";
	case 503: return "Service Unavailable";
	case 505: return "Version Not Supported";
	case 513: return "Message Too Large";
	default: return code < 300 ? "OK" : "Error";
	}
}

/* A header line copied as received, byte for byte: name, the white space
 * around its colon, the value with its folds, the spaces and tabs after it
 * (they are in the buffer up to the line's CRLF, which the parser left
 * out of the value). */
static void hdr_line(struct obuf *o, const struct sip_hdr *h)
{
	const char *end = h->value.p + h->value.len;

	while (*end == ' ' || *end == '\t')
		end++;
	if (h->value.p >= h->name.p)
		ob_mem(o, h->name.p, (size_t)(end - h->name.p));
	else {	/* not a slice of one line (cannot happen): rebuild it */
		ob_sl(o, h->name);
		ob_mem(o, ": ", 2);
		ob_sl(o, h->value);
	}
	ob_mem(o, "\r\n", 2);
}

/* The top Via value with RFC 3581 received/rport set from @src. */
static void via_first_fixed(struct obuf *o, const struct sip_msg *m,
			    const struct tp_peer *src)
{
	const struct sip_via *v = &m->via;
	char ip[64];
	struct sip_str params = v->params, rest;
	const char *head_end;

	px_ip_str(&src->remote, ip, sizeof(ip));
	/* Everything before the parameters, as written. */
	head_end = params.p ? params.p : v->raw.p + v->raw.len;
	ob_mem(o, v->raw.p, (size_t)(head_end - v->raw.p));
	/* The parameters, minus received and rport, which we rewrite. */
	rest = params;
	while (rest.len > 0) {
		struct sip_str p;
		const char *semi;
		size_t i = 1;

		/* rest starts at ';' */
		while (i < rest.len && rest.p[i] != ';')
			i++;
		p = sip_str_mk(rest.p, i);
		semi = p.p + 1;
		{
			size_t nl = 0;
			while (nl < p.len - 1 && semi[nl] != '=' &&
			       semi[nl] != ' ' && semi[nl] != '\t')
				nl++;
			struct sip_str name = sip_str_mk(semi, nl);
			if (!sip_str_eqi_c(name, "received") &&
			    !sip_str_eqi_c(name, "rport"))
				ob_sl(o, p);
		}
		rest.p += i;
		rest.len -= i;
	}
	/* received: only when sent-by differs from the source (18.2.1). */
	if (!(v->host.len == strlen(ip) && memcmp(v->host.p, ip, v->host.len) == 0)
	    || sip_str_present(v->rport)) {
		ob_str(o, ";received=");
		ob_str(o, ip);
	}
	if (sip_str_present(v->rport)) {
		ob_str(o, ";rport=");
		ob_u32(o, px_addr_port(&src->remote));
	}
}

void pxb_vias(struct obuf *o, const struct sip_msg *m,
	      const struct tp_peer *src)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_VIA);
	bool first = true;

	for (; h; h = sip_msg_hdr_next(m, h)) {
		if (!first) {
			hdr_line(o, h);
			continue;
		}
		first = false;
		ob_sl(o, h->name);
		ob_mem(o, ": ", 2);
		via_first_fixed(o, m, src);
		/* Other values of the same header line, as written (after
		 * a broken top Via only what follows its stray commas). */
		{
			const char *vend = m->via.raw.p + m->via.raw.len;
			const char *hend = h->value.p + h->value.len;
			const char *q = vend;

			while (q < hend && (*q == ',' || *q == ' ' ||
					    *q == '\t' || *q == '\r' ||
					    *q == '\n'))
				q++;
			if (q < hend)
				ob_mem(o, vend, (size_t)(hend - vend));
		}
		ob_mem(o, "\r\n", 2);
	}
}

int pxb_reply(struct obuf *o, const struct sip_msg *req,
	      const struct tp_peer *src, int code, const char *reason,
	      const char *to_tag)
{
	return pxb_reply_hdrs(o, req, src, code, reason, to_tag, NULL);
}

int pxb_reply_hdrs(struct obuf *o, const struct sip_msg *req,
		   const struct tp_peer *src, int code, const char *reason,
		   const char *to_tag, const char *hdrs)
{
	ob_reset(o);
	ob_str(o, "SIP/2.0 ");
	ob_u32(o, (uint32_t)code);
	ob_mem(o, " ", 1);
	ob_str(o, reason ? reason : pxb_reason(code));
	ob_mem(o, "\r\n", 2);
	pxb_vias(o, req, src);
	for (uint16_t i = 0; i < req->hdr_count; i++) {
		const struct sip_hdr *h = &req->hdrs[i];

		switch (h->id) {
		case SIP_HDR_FROM:
		case SIP_HDR_CALL_ID:
		case SIP_HDR_CSEQ:
			hdr_line(o, h);
			break;
		case SIP_HDR_TO:
			ob_sl(o, h->name);
			ob_mem(o, ": ", 2);
			ob_sl(o, h->value);
			/* 8.2.6.2: add our tag unless there is one or 100. */
			if (!sip_str_present(req->to.tag) && code > 100 &&
			    to_tag && *to_tag) {
				ob_str(o, ";tag=");
				ob_str(o, to_tag);
			}
			ob_mem(o, "\r\n", 2);
			break;
		case SIP_HDR_TIMESTAMP:
			if (code == 100)
				hdr_line(o, h);
			break;
		default:
			break;
		}
	}
	if (hdrs)
		ob_str(o, hdrs);
	ob_str(o, PX_SERVER_HDR "Content-Length: 0\r\n\r\n");
	return o->overflow ? -E2BIG : 0;
}

int pxb_request(struct obuf *o, const struct sip_msg *m,
		const struct tp_peer *src, const struct px_fwd *f)
{
	bool routes_done = false, mf_done = false, vias_done = false;
	bool has_cl = false;

	ob_reset(o);
	ob_sl(o, m->method_str);
	ob_mem(o, " ", 1);
	ob_sl(o, f->ruri);
	ob_mem(o, " SIP/2.0\r\n", 10);
	ob_str(o, f->via);
	ob_str(o, f->rr);
	for (uint16_t i = 0; i < m->hdr_count; i++) {
		const struct sip_hdr *h = &m->hdrs[i];

		switch (h->id) {
		case SIP_HDR_VIA:
			if (!vias_done) {
				pxb_vias(o, m, src);
				vias_done = true;
			}
			break;
		case SIP_HDR_ROUTE:
			if (!routes_done) {
				for (size_t r = 0; r < f->n_routes; r++) {
					ob_str(o, "Route: ");
					ob_sl(o, f->routes[r]);
					ob_mem(o, "\r\n", 2);
				}
				routes_done = true;
			}
			break;
		case SIP_HDR_MAX_FORWARDS:
			if (!mf_done) {
				ob_sl(o, h->name);
				ob_mem(o, ": ", 2);
				ob_u32(o, (uint32_t)f->max_forwards);
				ob_mem(o, "\r\n", 2);
				mf_done = true;
			}
			break;
		case SIP_HDR_CONTENT_LENGTH:
			has_cl = true;
			hdr_line(o, h);
			break;
		default:
			hdr_line(o, h);
			break;
		}
	}
	/* Routes we must add although the request had none (strict next hop). */
	if (!routes_done)
		for (size_t r = 0; r < f->n_routes; r++) {
			ob_str(o, "Route: ");
			ob_sl(o, f->routes[r]);
			ob_mem(o, "\r\n", 2);
		}
	if (!mf_done) {
		ob_str(o, "Max-Forwards: ");
		ob_u32(o, (uint32_t)f->max_forwards);
		ob_mem(o, "\r\n", 2);
	}
	if (!has_cl) {
		ob_str(o, "Content-Length: ");
		ob_u32(o, (uint32_t)m->body.len);
		ob_mem(o, "\r\n", 2);
	}
	ob_mem(o, "\r\n", 2);
	ob_sl(o, m->body);
	return o->overflow ? -E2BIG : 0;
}

int pxb_response_fwd(struct obuf *o, const struct sip_msg *rsp)
{
	const char *hdrs_start = rsp->hdrs[0].name.p;
	bool first_via = true;

	ob_reset(o);
	/* Status line as received. */
	ob_mem(o, rsp->raw.p, (size_t)(hdrs_start - rsp->raw.p));
	for (uint16_t i = 0; i < rsp->hdr_count; i++) {
		const struct sip_hdr *h = &rsp->hdrs[i];

		if (h->id == SIP_HDR_VIA && first_via) {
			const char *vend = rsp->via.raw.p + rsp->via.raw.len;
			const char *hend = h->value.p + h->value.len;

			first_via = false;
			/* Drop our value; keep the rest of the line, if any. */
			while (vend < hend && (*vend == ' ' || *vend == '\t' ||
					       *vend == ',' || *vend == '\r' ||
					       *vend == '\n'))
				vend++;
			if (vend < hend) {
				ob_sl(o, h->name);
				ob_mem(o, ": ", 2);
				ob_mem(o, vend, (size_t)(hend - vend));
				ob_mem(o, "\r\n", 2);
			}
			continue;
		}
		hdr_line(o, h);
	}
	ob_mem(o, "\r\n", 2);
	ob_sl(o, rsp->body);
	return o->overflow ? -E2BIG : 0;
}

/* The lines of @m with @id, as written (Route set of our INVITE, ...). */
static void copy_hdrs(struct obuf *o, const struct sip_msg *m,
		      enum sip_hdr_id id)
{
	for (const struct sip_hdr *h = sip_msg_hdr(m, id); h;
	     h = sip_msg_hdr_next(m, h))
		hdr_line(o, h);
}

/* RFC 3261 9.1: CANCEL mirrors our INVITE (same Via, Route, R-URI...). */
int pxb_cancel(struct obuf *o, const struct sip_msg *inv)
{
	ob_reset(o);
	ob_str(o, "CANCEL ");
	ob_sl(o, inv->ruri_str);
	ob_str(o, " SIP/2.0\r\nVia: ");
	ob_sl(o, inv->via.raw);
	ob_mem(o, "\r\n", 2);
	copy_hdrs(o, inv, SIP_HDR_ROUTE);
	copy_hdrs(o, inv, SIP_HDR_FROM);
	copy_hdrs(o, inv, SIP_HDR_TO);
	copy_hdrs(o, inv, SIP_HDR_CALL_ID);
	ob_str(o, "CSeq: ");
	ob_u32(o, inv->cseq.num);
	ob_str(o, " CANCEL\r\nMax-Forwards: 70\r\n" PX_SERVER_HDR
		  "Content-Length: 0\r\n\r\n");
	return o->overflow ? -E2BIG : 0;
}

/* RFC 3261 17.1.1.3: the ACK of a non-2xx final response. */
int pxb_ack(struct obuf *o, const struct sip_msg *inv,
	    const struct sip_msg *rsp)
{
	ob_reset(o);
	ob_str(o, "ACK ");
	ob_sl(o, inv->ruri_str);
	ob_str(o, " SIP/2.0\r\nVia: ");
	ob_sl(o, inv->via.raw);
	ob_mem(o, "\r\n", 2);
	copy_hdrs(o, inv, SIP_HDR_ROUTE);
	copy_hdrs(o, inv, SIP_HDR_FROM);
	copy_hdrs(o, rsp, SIP_HDR_TO);
	copy_hdrs(o, inv, SIP_HDR_CALL_ID);
	ob_str(o, "CSeq: ");
	ob_u32(o, inv->cseq.num);
	ob_str(o, " ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
	return o->overflow ? -E2BIG : 0;
}
