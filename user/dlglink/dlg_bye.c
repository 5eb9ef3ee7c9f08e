/*
 * dlg_bye.c - requests the box generates within a dialog (reference
 * sections 5.1-5.3): the BYEs of dlg.end_dlg, dlg.terminate_dlg, dlg.bye,
 * dlg_bye and timeouts, and dlg_refer's REFER followed by a BYE.
 *
 * Towards one leg: R-URI = that leg's contact, Route = its route set,
 * From/To = the other party and this leg with their tags, Call-ID, CSeq =
 * the highest this leg has seen from the other side + 1 (tracked per
 * direction, PRACK and UPDATE included, so the BYE is never "too low"),
 * Max-Forwards: 70, dlg_extra_hdrs, the call's extra headers.  Each BYE
 * has its own client transaction; when one side's fails the other still
 * goes out; the first final reply (or the timeout) confirms the end.
 */
#define LOG_TAG "dialog"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "control/ctl_server.h"
#include "core/log.h"
#include "dialog/dlg.h"
#include "dlglink/dlg_bye.h"
#include "dlglink/dlg_uac.h"
#include "proxy/proxy.h"

/* What the expiry callback and the dlg.* methods here share (owned by
 * the control server, which outlives the dialog table). */
struct dlg_bye_ctx {
	struct proxy *px;
	struct dlg_table *t;
};

static void release(void *cell)
{
	dlg_unref(cell);
}

/* The final reply of a BYE that ends the dialog (forwarded or ours). */
static void bye_reply(void *cell, const struct px_reply *r)
{
	if (r->code >= 200)
		dlg_on_bye_reply(cell, r->code, r->rsp);
}

const struct px_tx_ops dlgp_bye_tx_ops = {
	.on_reply = bye_reply,
	.release = release,
};

/* Whatever the REFER's answer, the referred party gets a BYE. */
static void refer_reply(void *cell, const struct px_reply *r, int to)
{
	if (r->code >= 200)
		dlgp_refer_done(r->px, cell, to);
}

static void refer_caller_reply(void *cell, const struct px_reply *r)
{
	refer_reply(cell, r, DLG_CALLER_LEG);
}

static void refer_callee_reply(void *cell, const struct px_reply *r)
{
	refer_reply(cell, r, DLG_CALLEE_LEG);
}

static const struct px_tx_ops refer_ops[2] = {
	[DLG_CALLER_LEG] = { .on_reply = refer_caller_reply,
			     .release = release },
	[DLG_CALLEE_LEG] = { .on_reply = refer_callee_reply,
			     .release = release },
};

/*
 * Build and send one in-dialog request towards leg @to: a BYE (@refer_to
 * NULL) or a REFER to @refer_to.  @bump is added to the CSeq the other
 * side last used (1 for a lone request; the BYE after a REFER uses 2).
 */
static int send_req(struct proxy *px, struct dlg_cell *c,
		    const struct dlg_info *in, enum dlg_leg to,
		    const char *extra, const char *refer_to, uint32_t bump)
{
	const struct dlg_info_leg *oth = to == DLG_CALLER_LEG ? &in->callee :
								 &in->caller;
	const struct cfg_dialog *cd = &proxy_config(px)->dialog;
	char refer_hdrs[1024];
	struct dlg_uac_req r = {
		.method = refer_to ? "REFER" : "BYE",
		.cseq = oth->cseq + bump,
		/* lreq_callee_headers: towards the callee only (5.1). */
		.hdrs = { cd->dlg_extra_hdrs, extra,
			  to == DLG_CALLEE_LEG ? cd->lreq_callee_headers :
						 NULL },
	};
	/* Towards the callee we speak as the caller: direction 0. */
	struct px_branch_dlg bd = { .h_entry = in->h_entry, .h_id = in->h_id,
				    .dir = to == DLG_CALLER_LEG };

	if (dlg_uac_fill_leg(&r, in, to) != 0)
		return -ENOENT;
	if (refer_to) {
		/* Reference 5.3: the three headers, as Kamailio writes them
		 * (instead of dlg_extra_hdrs). */
		int n = snprintf(refer_hdrs, sizeof(refer_hdrs),
				 "Referred-By: %s\r\nRefer-To: %s\r\n"
				 "Contact: <%s>\r\n",
				 cd->bridge_controller, refer_to,
				 cd->bridge_contact);
		if (n < 0 || (size_t)n >= sizeof(refer_hdrs))
			return -E2BIG;
		r.hdrs[0] = refer_hdrs;
	}
	dlg_ref(c);
	return dlg_uac_send(px, &r, &bd,
			    refer_to ? &refer_ops[to] : &dlgp_bye_tx_ops, c);
}

static int send_one(struct proxy *px, struct dlg_cell *c,
		    const struct dlg_info *in, enum dlg_leg to,
		    const char *extra)
{
	return send_req(px, c, in, to, extra, NULL, 1);
}

int dlgp_refer(struct proxy *px, struct dlg_cell *c, int to, const char *uri)
{
	struct dlg_info *in;
	int r;

	if (dlg_state(c) != DLG_STATE_CONFIRMED &&
	    dlg_state(c) != DLG_STATE_CONFIRMED_NA)
		return -EINVAL;
	in = dlg_info_get(c, 0);
	if (!in)
		return -ENOMEM;
	r = send_req(px, c, in, to, NULL, uri, 1);
	dlg_info_free(in);
	return r;
}

void dlgp_refer_done(struct proxy *px, struct dlg_cell *c, int to)
{
	struct dlg_info *in;

	if (dlg_mark_bye(c, to) != 0)
		return;
	in = dlg_info_get(c, 0);
	if (!in)
		return;
	if (send_req(px, c, in, to, NULL, NULL, 2) != 0)
		log_warn("dialog %u:%u: BYE after REFER failed", in->h_entry,
			 in->h_id);
	dlg_info_free(in);
}

int dlgp_bye(struct proxy *px, struct dlg_cell *c, int sides,
	     const char *extra)
{
	struct dlg_info *in = dlg_info_get(c, 0);
	int sent = 0, r;

	if (!in)
		return -ENOMEM;
	if ((sides & DLGP_BYE_CALLER) && dlg_mark_bye(c, DLG_CALLER_LEG) == 0) {
		r = send_one(px, c, in, DLG_CALLER_LEG, extra);
		if (r)
			log_warn("dialog %u:%u: BYE to the caller failed: %s",
				 in->h_entry, in->h_id, strerror(-r));
		else
			sent++;
	}
	if ((sides & DLGP_BYE_CALLEE) && dlg_mark_bye(c, DLG_CALLEE_LEG) == 0) {
		r = send_one(px, c, in, DLG_CALLEE_LEG, extra);
		if (r)
			log_warn("dialog %u:%u: BYE to the callee failed: %s",
				 in->h_entry, in->h_id, strerror(-r));
		else
			sent++;
	}
	dlg_info_free(in);
	return sent;
}

/* Lifetime over: BYE both ways when timeout_bye / send_bye asked for it. */
static void on_expired(struct dlg_cell *c, int type,
		       const struct dlg_cb_params *p)
{
	struct dlg_bye_ctx *ctx = p->param;

	if (dlg_iflags(c) & DLG_IFLAG_TIMEOUTBYE)
		dlgp_bye(ctx->px, c, DLGP_BYE_ALL, NULL);
}

/* End a dialog from the control socket: BYE both ways, then state 5. */
static int end_dialog(struct dlg_bye_ctx *ctx, struct dlg_cell *c,
		      const char *extra, struct ctl_error *err)
{
	enum dlg_state st = dlg_state(c);

	if (st != DLG_STATE_CONFIRMED && st != DLG_STATE_CONFIRMED_NA)
		return ctl_error_set(err, 500, "Dialog not confirmed (state %d)",
				     (int)st);
	dlgp_bye(ctx->px, c, DLGP_BYE_ALL, extra);
	dlg_end(c, NULL);
	return 0;
}

/*
 * Extra headers given over the control socket go into the BYEs as they
 * are, so they must be header lines and nothing else: "Name: value",
 * each ended by CRLF or LF (the last one may lack it), no empty line (it
 * would end the header section and smuggle a body or a request in), no
 * bare CR, no control characters.  NULL, or what is wrong.
 */
static const char *extra_hdrs_why(const char *s)
{
	while (*s) {
		size_t name = strcspn(s, ":\r\n");

		if (*s == '\r' || *s == '\n')
			return "an empty line";
		if (s[name] != ':' || name == 0)
			return "a line that is not 'Name: value'";
		for (size_t i = 0; i < name; i++)
			if (s[i] == ' ' || s[i] == '\t' || (unsigned char)s[i] < 0x20)
				return "a header name with a space or a control "
				       "character";
		for (s += name; *s && *s != '\r' && *s != '\n'; s++)
			if ((unsigned char)*s < 0x20 && *s != '\t')
				return "a control character";
		if (*s == '\r' && s[1] != '\n')
			return "a CR without LF";
		s += *s == '\r' ? 2 : *s == '\n' ? 1 : 0;
	}
	return NULL;
}

static int rpc_end_dlg(void *ud, json_t *params, json_t **result,
		       struct ctl_error *err)
{
	struct dlg_bye_ctx *ctx = ud;
	json_t *he = ctl_param(params, 0, "h_entry");
	json_t *hi = ctl_param(params, 1, "h_id");
	json_t *ex = ctl_param(params, 2, "extra_hdrs");
	struct dlg_cell *c;
	int r;

	const char *why;

	if (!json_is_integer(he) || !json_is_integer(hi) ||
	    (ex && !json_is_string(ex)))
		return ctl_error_set(err, 500, "Invalid parameters");
	if (ex && (why = extra_hdrs_why(json_string_value(ex))))
		return ctl_error_set(err, 500, "Invalid parameters: extra_hdrs "
				     "has %s", why);
	c = dlg_lookup_id(ctx->t, (uint32_t)json_integer_value(he),
			  (uint32_t)json_integer_value(hi));
	if (!c)
		return ctl_error_set(err, 404, "Dialog not found");
	r = end_dialog(ctx, c, ex ? json_string_value(ex) : NULL, err);
	dlg_unref(c);
	if (r)
		return r;
	*result = json_object();
	return 0;
}

/*
 * The dialog dlg.terminate_dlg CALLID [FROM_TAG [TO_TAG]] names, or NULL
 * with @err set.  With the To-tag: the tight match (either direction).
 * Without it: the dialogs of the Call-ID whose caller tag (the From-tag
 * of the initial INVITE) is FROM_TAG, or of any caller tag when FROM_TAG
 * is absent too; of those, the confirmed one (only confirmed dialogs can
 * be terminated).  Several confirmed ones (a forked call answered twice)
 * are ambiguous: the caller is asked for the tags instead of one being
 * picked for him.
 */
static struct dlg_cell *terminate_find(struct dlg_bye_ctx *ctx, json_t *ci,
				       json_t *ft, json_t *tt,
				       struct ctl_error *err)
{
	struct sip_str cid = sip_str_c(json_string_value(ci));
	struct dlg_cell *cells[16], *pick = NULL, *other = NULL;
	size_t n, confirmed = 0;

	if (tt)
		pick = dlg_lookup_sip(ctx->t, cid,
				      ft ? sip_str_c(json_string_value(ft)) :
					   SIP_STR_NULL,
				      sip_str_c(json_string_value(tt)), NULL);
	else {
		n = dlg_lookup_callid(ctx->t, cid,
				      ft ? sip_str_c(json_string_value(ft)) :
					   SIP_STR_NULL,
				      cells, 16);
		for (size_t i = 0; i < n; i++) {
			enum dlg_state st = dlg_state(cells[i]);

			if (st == DLG_STATE_CONFIRMED ||
			    st == DLG_STATE_CONFIRMED_NA) {
				if (!confirmed++)
					pick = cells[i];
			} else if (!other) {
				other = cells[i];
			}
		}
		/* None confirmed: end_dialog() says which state it is in. */
		if (!pick)
			pick = other;
		if (pick)
			dlg_ref(pick);
		for (size_t i = 0; i < n; i++)
			dlg_unref(cells[i]);
		if (confirmed > 1) {
			dlg_unref(pick);
			ctl_error_set(err, 500, "%zu confirmed dialogs have this "
				      "Call-ID%s; give the %s", confirmed,
				      ft ? " and From-tag" : "",
				      ft ? "To-tag" : "From-tag and To-tag");
			return NULL;
		}
	}
	if (!pick)
		ctl_error_set(err, 500, "Couldnt find callid in dialog");
	return pick;
}

static int rpc_terminate_dlg(void *ud, json_t *params, json_t **result,
			     struct ctl_error *err)
{
	struct dlg_bye_ctx *ctx = ud;
	json_t *ci = ctl_param(params, 0, "callid");
	json_t *ft = ctl_param(params, 1, "from_tag");
	json_t *tt = ctl_param(params, 2, "to_tag");
	struct dlg_cell *c;
	int r;

	if (!json_is_string(ci) || (ft && !json_is_string(ft)) ||
	    (tt && !json_is_string(tt)) || (tt && !ft))
		return ctl_error_set(err, 400, "Need a Callid ,from tag ,to tag");
	c = terminate_find(ctx, ci, ft, tt, err);
	if (!c)
		return -1;	/* @err is set */
	r = end_dialog(ctx, c, NULL, err);
	dlg_unref(c);
	if (r)
		return r;
	*result = json_object();
	return 0;
}

/* dlg.bye H_ENTRY H_ID [caller|callee|all]: dlg_bye from the socket. */
static int rpc_bye(void *ud, json_t *params, json_t **result,
		   struct ctl_error *err)
{
	struct dlg_bye_ctx *ctx = ud;
	json_t *he = ctl_param(params, 0, "h_entry");
	json_t *hi = ctl_param(params, 1, "h_id");
	json_t *sd = ctl_param(params, 2, "side");
	const char *side = sd && json_is_string(sd) ? json_string_value(sd) :
						      "all";
	int sides;
	struct dlg_cell *c;

	if (!json_is_integer(he) || !json_is_integer(hi))
		return ctl_error_set(err, 500, "Invalid parameters");
	if (strcasecmp(side, "caller") == 0)
		sides = DLGP_BYE_CALLER;
	else if (strcasecmp(side, "callee") == 0)
		sides = DLGP_BYE_CALLEE;
	else if (strcasecmp(side, "all") == 0 || strcasecmp(side, "both") == 0)
		sides = DLGP_BYE_ALL;
	else
		return ctl_error_set(err, -32602,
				     "side must be caller, callee or all");
	c = dlg_lookup_id(ctx->t, (uint32_t)json_integer_value(he),
			  (uint32_t)json_integer_value(hi));
	if (!c)
		return ctl_error_set(err, 404, "Dialog not found");
	if (dlg_state(c) != DLG_STATE_CONFIRMED &&
	    dlg_state(c) != DLG_STATE_CONFIRMED_NA) {
		dlg_unref(c);
		return ctl_error_set(err, 500, "Dialog not confirmed");
	}
	*result = json_pack("{s:i}", "sent", dlgp_bye(ctx->px, c, sides, NULL));
	if (sides == DLGP_BYE_ALL)
		dlg_end(c, NULL);
	dlg_unref(c);
	return 0;
}

/* dlg.refer H_ENTRY H_ID caller|callee URI */
static int rpc_refer(void *ud, json_t *params, json_t **result,
		     struct ctl_error *err)
{
	struct dlg_bye_ctx *ctx = ud;
	json_t *he = ctl_param(params, 0, "h_entry");
	json_t *hi = ctl_param(params, 1, "h_id");
	json_t *sd = ctl_param(params, 2, "side");
	json_t *to = ctl_param(params, 3, "uri");
	enum dlg_leg leg;
	struct dlg_cell *c;
	int r;

	if (!json_is_integer(he) || !json_is_integer(hi) ||
	    !json_is_string(sd) || !json_is_string(to))
		return ctl_error_set(err, 500, "Invalid parameters");
	if (strcasecmp(json_string_value(sd), "caller") == 0)
		leg = DLG_CALLER_LEG;
	else if (strcasecmp(json_string_value(sd), "callee") == 0)
		leg = DLG_CALLEE_LEG;
	else
		return ctl_error_set(err, -32602, "side must be caller or callee");
	c = dlg_lookup_id(ctx->t, (uint32_t)json_integer_value(he),
			  (uint32_t)json_integer_value(hi));
	if (!c)
		return ctl_error_set(err, 404, "Dialog not found");
	r = dlgp_refer(ctx->px, c, leg, json_string_value(to));
	dlg_unref(c);
	if (r == -EINVAL)
		return ctl_error_set(err, 500, "Dialog not confirmed");
	if (r)
		return ctl_error_set(err, 500, "REFER failed: %s", strerror(-r));
	*result = json_object();
	return 0;
}

int dlgp_bye_install(struct dlg_table *t, struct proxy *px,
		     struct ctl_server *srv)
{
	struct dlg_bye_ctx *ctx = calloc(1, sizeof(*ctx));
	int r;

	if (!ctx)
		return -ENOMEM;
	ctx->px = px;
	ctx->t = t;
	r = ctl_server_keep(srv, ctx);
	if (r) {
		free(ctx);
		return r;
	}
	r = dlg_register_global_cb(t, DLGCB_EXPIRED, on_expired, ctx, NULL);
	if (!r)
		r = ctl_register(srv, "dlg.end_dlg", rpc_end_dlg, ctx);
	if (!r)
		r = ctl_register(srv, "dlg.terminate_dlg", rpc_terminate_dlg,
				 ctx);
	if (!r)
		r = ctl_register(srv, "dlg.bye", rpc_bye, ctx);
	if (!r)
		r = ctl_register(srv, "dlg.refer", rpc_refer, ctx);
	return r;
}
