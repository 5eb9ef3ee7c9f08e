/*
 * dlg_uac.h - the one builder of the requests the box writes itself:
 * dlg_bye's and the timeouts' BYEs, dlg_refer's REFER, the bridge's
 * INVITE, ACK, REFER and BYE, and the ACK and BYE that end a second
 * branch's 2xx.  The proxy adds the Via (proxy_uac_send,
 * proxy_send_stateless); everything else is written here, in one order:
 *
 *   METHOD R-URI SIP/2.0
 *   Route: <route set>            (when there is one)
 *   From: <uri>;tag=..
 *   To: <uri>[;tag=..]
 *   Call-ID, CSeq, Max-Forwards: 70
 *   the extra header blocks, in order
 *   Content-Type (with a body), Content-Length, the body
 */
#ifndef SIPDLG_DLG_UAC_H
#define SIPDLG_DLG_UAC_H

#include <stdint.h>

#include "sip/sip_str.h"

struct obuf;
struct proxy;
struct px_branch_dlg;
struct px_tx_ops;

#define DLG_UAC_MAX_HDRS 3

struct dlg_uac_req {
	const char *method;		/* "BYE", "ACK", "REFER", "INVITE" */
	struct sip_str ruri;
	const char *route_set;		/* "<a>,<b>", NULL or "" for none */
	/* URIs are written inside <> unless already a name-addr. */
	struct sip_str from_uri, from_tag;
	struct sip_str to_uri, to_tag;	/* to_tag absent: none written */
	struct sip_str callid;
	uint32_t cseq;
	/* Header blocks ("Name: value\r\n"...; a missing last CRLF is
	 * added), NULL or "" skipped. */
	const char *hdrs[DLG_UAC_MAX_HDRS];
	const char *body;		/* NULL: none, Content-Length: 0 */
	const char *content_type;	/* with a body */
	/* Where to send it; absent: dlg_uac_next_hop(route_set, ruri). */
	struct sip_str next_hop;
};

struct dlg_info;

/*
 * The in-dialog part of a request towards leg @to (0 caller, 1 callee)
 * of the dialog @in (reference 5.1): R-URI = that leg's contact, Route =
 * its route set, From = the other party with its tag (we speak as it),
 * To = this leg with its tag, Call-ID.  Method, CSeq and headers are the
 * caller's to set; the strings point into @in.  -ENOENT if that leg has
 * no contact yet.
 */
int dlg_uac_fill_leg(struct dlg_uac_req *r, const struct dlg_info *in,
		     int to);

/* Write @r into @o (reset first).  0 or -E2BIG. */
int dlg_uac_build(struct obuf *o, const struct dlg_uac_req *r);

/* Where a request with @route_set and @ruri goes: the first URI of the
 * route set (inside its brackets), else the R-URI. */
struct sip_str dlg_uac_next_hop(const char *route_set, struct sip_str ruri);

/*
 * Build @r and send it: an ACK without a transaction, anything else in a
 * client transaction of its own followed by @ops with @obj (proxy.h,
 * proxy_uac_send; @bd names the dialog for the branch, may be NULL).
 * The caller's reference to @obj passes to the transaction, and is
 * released here if nothing is sent.  0 or -errno.
 */
int dlg_uac_send(struct proxy *px, const struct dlg_uac_req *r,
		 const struct px_branch_dlg *bd, const struct px_tx_ops *ops,
		 void *obj);

#endif
