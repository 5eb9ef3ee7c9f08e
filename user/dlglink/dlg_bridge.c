/*
 * dlg_bridge.c - dlg_bridge / dlg.bridge_dlg, click-to-dial as Kamailio
 * does it (reference section 5.4): an INVITE with a hold SDP to @from,
 * From: bridge_controller; on its 2xx an ACK, then a REFER (Refer-To:
 * @to) to the answering party; when the REFER completes, whatever its
 * status, a BYE.  CSeq 10, 11, 12.  No dialog is linked into the table,
 * so none of this shows in dlg.list, as in Kamailio.
 */
#define LOG_TAG "dialog"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "control/ctl_server.h"
#include "core/log.h"
#include "core/timer.h"
#include "dialog/dlg.h"
#include "dlglink/dlg_bridge.h"
#include "dlglink/dlg_bye.h"
#include "dlglink/dlg_uac.h"
#include "proxy/proxy.h"

#define HOLD_SDP                                                            \
	"v=0\r\n"                                                           \
	"o=kamailio-bridge 0 0 IN IP4 0.0.0.0\r\n"                          \
	"s=kamailio\r\n"                                                    \
	"c=IN IP4 0.0.0.0\r\n"                                              \
	"t=0 0\r\n"                                                         \
	"m=audio 9 RTP/AVP 8 0\r\n"                                         \
	"a=rtpmap:8 PCMA/8000\r\n"                                          \
	"a=rtpmap:0 PCMU/8000\r\n"

enum bridge_step {
	BR_INVITE = 1,
	BR_REFER,
	BR_BYE,
};

/* One bridge; each transaction of it holds a reference. */
struct bridge {
	atomic_int ref;
	struct proxy *px;
	enum bridge_step step;
	char from[256], to[256];
	char callid[64], ftag[24];
	char peer_tag[128];		/* To-tag of the 2xx */
	char contact[256];		/* Contact of the 2xx */
	char route_set[1024];		/* its Record-Routes, reversed */
};

static void bridge_unref(void *p)
{
	struct bridge *b = p;

	if (b && atomic_fetch_sub(&b->ref, 1) == 1)
		free(b);
}

static void bridge_reply(void *p, const struct px_reply *r);

/* Each transaction of a bridge holds a reference to it. */
static const struct px_tx_ops bridge_ops = {
	.on_reply = bridge_reply,
	.release = bridge_unref,
};

/* ACK, REFER or BYE within the bridge's call; @extra: more headers. */
static int send_in_dialog(struct bridge *b, const char *method,
			  unsigned cseq, const char *extra)
{
	const struct cfg_dialog *cd = &proxy_config(b->px)->dialog;
	struct dlg_uac_req r = {
		.method = method,
		.ruri = sip_str_c(b->contact),
		.route_set = b->route_set,
		.from_uri = sip_str_c(cd->bridge_controller),
		.from_tag = sip_str_c(b->ftag),
		.to_uri = sip_str_c(b->from),
		.to_tag = sip_str_c(b->peer_tag),
		.callid = sip_str_c(b->callid),
		.cseq = cseq,
		.hdrs = { extra },
	};

	if (strcmp(method, "ACK") == 0)
		return dlg_uac_send(b->px, &r, NULL, NULL, NULL);
	atomic_fetch_add(&b->ref, 1);
	return dlg_uac_send(b->px, &r, NULL, &bridge_ops, b);
}

int dlgb_bridge(struct proxy *px, const char *from, const char *to,
		const char *op, const char *body)
{
	const struct cfg_dialog *cd = &proxy_config(px)->dialog;
	struct bridge *b = calloc(1, sizeof(*b));
	uint64_t rnd = tmr_now_ms() ^ (uint64_t)(uintptr_t)b;
	char contact[300];
	struct dlg_uac_req r;

	if (!b)
		return -ENOMEM;
	if (strlen(from) >= sizeof(b->from) || strlen(to) >= sizeof(b->to)) {
		free(b);
		return -E2BIG;
	}
	atomic_init(&b->ref, 1);
	b->px = px;
	b->step = BR_INVITE;
	snprintf(b->from, sizeof(b->from), "%s", from);
	snprintf(b->to, sizeof(b->to), "%s", to);
	snprintf(b->callid, sizeof(b->callid), "br-%016llx@sipdlg",
		 (unsigned long long)(rnd * 0x9e3779b97f4a7c15ull));
	snprintf(b->ftag, sizeof(b->ftag), "%08llx",
		 (unsigned long long)((rnd >> 7) & 0xffffffffull));
	if (!body)
		body = HOLD_SDP;
	snprintf(contact, sizeof(contact), "Contact: <%s>\r\n",
		 cd->bridge_contact);
	memset(&r, 0, sizeof(r));
	r.method = "INVITE";
	r.ruri = sip_str_c(from);
	r.from_uri = sip_str_c(cd->bridge_controller);
	r.from_tag = sip_str_c(b->ftag);
	r.to_uri = sip_str_c(from);
	r.callid = sip_str_c(b->callid);
	r.cseq = 10;
	r.hdrs[0] = contact;
	r.body = body;
	r.content_type = "application/sdp";
	if (op && *op)
		r.next_hop = sip_str_c(op);
	/* The transaction holds the creator's reference. */
	return dlg_uac_send(px, &r, NULL, &bridge_ops, b);
}

/* The final response of one of the bridge's transactions. */
static void bridge_reply(void *p, const struct px_reply *r)
{
	struct bridge *b = p;
	const struct sip_msg *rsp = r->rsp;
	const struct cfg_dialog *cd = &proxy_config(b->px)->dialog;
	int code = r->code;
	char extra[700];
	size_t rl;

	if (code < 200)
		return;

	/* A retransmitted 2xx of our INVITE: its ACK got lost, send it again. */
	if (rsp && rsp->cseq.method == SIP_METHOD_INVITE && b->step != BR_INVITE) {
		if (code >= 200 && code < 300)
			send_in_dialog(b, "ACK", 10, NULL);
		return;
	}
	if (rsp && b->step == BR_REFER && rsp->cseq.method != SIP_METHOD_REFER)
		return;
	switch (b->step) {
	case BR_INVITE:
		if (code < 200 || code >= 300 || !rsp) {
			log_notice("bridge %s: the INVITE to %s failed (%d)",
				   b->callid, b->from, code);
			return;
		}
		snprintf(b->peer_tag, sizeof(b->peer_tag), "%.*s",
			 (int)rsp->to.tag.len, rsp->to.tag.p ? rsp->to.tag.p : "");
		if (rsp->n_contact >= 1 && !rsp->contact.star)
			snprintf(b->contact, sizeof(b->contact), "%.*s",
				 (int)rsp->contact.uri.len, rsp->contact.uri.p);
		else
			snprintf(b->contact, sizeof(b->contact), "%s", b->from);
		if (dlg_callee_route_set(rsp, 0, 0, b->route_set,
					 sizeof(b->route_set), &rl) != 0)
			b->route_set[0] = '\0';
		send_in_dialog(b, "ACK", 10, NULL);
		b->step = BR_REFER;
		snprintf(extra, sizeof(extra),
			 "Referred-By: %s\r\nRefer-To: %s\r\nContact: <%s>\r\n",
			 cd->bridge_controller, b->to, cd->bridge_contact);
		send_in_dialog(b, "REFER", 11, extra);
		break;
	case BR_REFER:
		/* Whatever the REFER's answer: hang up our leg. */
		b->step = BR_BYE;
		send_in_dialog(b, "BYE", 12, NULL);
		break;
	case BR_BYE:
		break;
	}
}

static int rpc_bridge(void *ud, json_t *params, json_t **result,
		      struct ctl_error *err)
{
	json_t *f = ctl_param(params, 0, "from"), *t = ctl_param(params, 1, "to");
	json_t *op = ctl_param(params, 2, "op"), *bd = ctl_param(params, 3, "body");
	const char *ops = NULL, *body = NULL;
	int r;

	if (!json_is_string(f) || !json_is_string(t) ||
	    (op && !json_is_string(op)) || (bd && !json_is_string(bd)))
		return ctl_error_set(err, 500, "Invalid parameters");
	if (op && strcmp(json_string_value(op), ".") != 0)
		ops = json_string_value(op);
	if (bd) {
		body = json_string_value(bd);
		if (strcmp(body, ".") == 0)
			body = NULL;		/* the default hold SDP */
		else if (strcmp(body, "_") == 0)
			body = "";		/* empty body */
	}
	r = dlgb_bridge(ud, json_string_value(f), json_string_value(t), ops,
			body);
	if (r)
		return ctl_error_set(err, 500, "Bridge failed: %s", strerror(-r));
	*result = json_object();
	return 0;
}

int dlgb_install(struct proxy *px, struct ctl_server *srv)
{
	return ctl_register(srv, "dlg.bridge_dlg", rpc_bridge, px);
}
