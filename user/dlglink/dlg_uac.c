/*
 * dlg_uac.c - build and send the requests the box writes itself (see
 * dlg_uac.h for the layout every one of them shares).
 */
#include <errno.h>
#include <string.h>

#include "core/obuf.h"
#include "dialog/dlg.h"
#include "dlglink/dlg_uac.h"
#include "proxy/proxy.h"

static _Thread_local struct obuf uac_buf;

/* "<uri>" unless @uri is already a name-addr. */
static void addr(struct obuf *o, struct sip_str uri)
{
	if (uri.len && uri.p[uri.len - 1] == '>') {
		ob_sl(o, uri);
		return;
	}
	ob_mem(o, "<", 1);
	ob_sl(o, uri);
	ob_mem(o, ">", 1);
}

int dlg_uac_fill_leg(struct dlg_uac_req *r, const struct dlg_info *in,
		     int to)
{
	const struct dlg_info_leg *leg = to == DLG_CALLER_LEG ? &in->caller :
								 &in->callee;
	const struct dlg_info_leg *oth = to == DLG_CALLER_LEG ? &in->callee :
								 &in->caller;

	if (!leg->contact[0])
		return -ENOENT;
	r->ruri = sip_str_c(leg->contact);
	r->route_set = leg->route_set;
	r->from_uri = sip_str_c(to == DLG_CALLER_LEG ? in->to_uri :
						       in->from_uri);
	r->from_tag = sip_str_c(oth->tag);
	r->to_uri = sip_str_c(to == DLG_CALLER_LEG ? in->from_uri :
						     in->to_uri);
	r->to_tag = sip_str_c(leg->tag);
	r->callid = sip_str_c(in->callid);
	return 0;
}

int dlg_uac_build(struct obuf *o, const struct dlg_uac_req *r)
{
	ob_reset(o);
	ob_str(o, r->method);
	ob_mem(o, " ", 1);
	ob_sl(o, r->ruri);
	ob_str(o, " SIP/2.0\r\n");
	if (r->route_set && r->route_set[0])
		ob_printf(o, "Route: %s\r\n", r->route_set);
	ob_str(o, "From: ");
	addr(o, r->from_uri);
	ob_str(o, ";tag=");
	ob_sl(o, r->from_tag);
	ob_str(o, "\r\nTo: ");
	addr(o, r->to_uri);
	if (sip_str_present(r->to_tag)) {
		ob_str(o, ";tag=");
		ob_sl(o, r->to_tag);
	}
	ob_str(o, "\r\nCall-ID: ");
	ob_sl(o, r->callid);
	ob_str(o, "\r\nCSeq: ");
	ob_u32(o, r->cseq);
	ob_mem(o, " ", 1);
	ob_str(o, r->method);
	ob_str(o, "\r\nMax-Forwards: 70\r\n");
	for (int i = 0; i < DLG_UAC_MAX_HDRS; i++) {
		const char *h = r->hdrs[i];
		size_t n = h ? strlen(h) : 0;

		if (!n)
			continue;
		ob_mem(o, h, n);
		if (h[n - 1] != '\n')
			ob_mem(o, "\r\n", 2);
	}
	if (r->body && r->content_type)
		ob_printf(o, "Content-Type: %s\r\n", r->content_type);
	ob_str(o, "Content-Length: ");
	ob_u32(o, r->body ? (uint32_t)strlen(r->body) : 0);
	ob_str(o, "\r\n\r\n");
	if (r->body)
		ob_str(o, r->body);
	return o->overflow ? -E2BIG : 0;
}

struct sip_str dlg_uac_next_hop(const char *route_set, struct sip_str ruri)
{
	const char *lt = route_set ? strchr(route_set, '<') : NULL, *gt;

	if (!lt || !(gt = strchr(lt, '>')))
		return ruri;
	return sip_str_mk(lt + 1, (size_t)(gt - lt - 1));
}

int dlg_uac_send(struct proxy *px, const struct dlg_uac_req *r,
		 const struct px_branch_dlg *bd, const struct px_tx_ops *ops,
		 void *obj)
{
	struct obuf *o = &uac_buf;
	struct sip_str hop = sip_str_present(r->next_hop) ?
				     r->next_hop :
				     dlg_uac_next_hop(r->route_set, r->ruri);
	int rc = dlg_uac_build(o, r);

	if (rc == 0 && strcmp(r->method, "ACK") == 0)
		rc = proxy_send_stateless(px, o->buf, o->len, hop);
	else if (rc == 0)
		return proxy_uac_send(px, o->buf, o->len, hop, bd, ops, obj);
	if (obj && ops && ops->release)
		ops->release(obj);
	return rc;
}
