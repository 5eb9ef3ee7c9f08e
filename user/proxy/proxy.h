/*
 * proxy.h - the record-routing, transaction-stateful SIP proxy (RFC 3261
 * section 16) that sipdlgd is.
 *
 * The transport hands every received message to proxy_on_message() on a
 * worker thread.  Requests are checked (parse errors answered with 400,
 * Max-Forwards, loops), matched to transactions (retransmissions absorbed,
 * CANCEL and hop-by-hop ACK handled), run through the routes: rules, and
 * forwarded, answered or dropped.  Responses are matched to the client
 * transaction by our Via branch and sent back upstream.
 *
 * Hooks let the dialog layer (next issue) act on each request before the
 * rules run and add its cookie to our Record-Route.
 */
#ifndef SIPDLG_PROXY_H
#define SIPDLG_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport/transport.h"

struct sipdlg_config;
struct stats;
struct stat_var;
struct tmr_service;
struct tm_table;
struct proxy;

/* Our own addresses, to recognise our Route/R-URI and build Via/RR. */
struct px_local {
	enum tp_proto proto;
	int family;
	char host[72];		/* as written in Via/RR: IPv6 in brackets */
	uint16_t port;
	char adv_host[72];	/* advertise: host, or host above */
	uint16_t adv_port;
};

struct proxy_stats {
	struct stat_var *rcv_requests, *rcv_replies;
	struct stat_var *fwd_requests, *fwd_replies;
	struct stat_var *local_replies, *drop_requests, *drop_replies;
	struct stat_var *retransmissions, *tx_created, *tx_active;
	struct stat_var *timeouts, *too_many_hops, *loops, *not_found;
	struct stat_var *bad_message, *bad_reply, *send_errors;
	struct stat_var *parse_err[SIP_ERR_MAX_];
};

/* What a transaction's dialog attachment is for. */
#define PX_DLG_NONE 0
#define PX_DLG_INVITE 1		/* the INVITE that created the dialog */
#define PX_DLG_BYE 2		/* a BYE that ends it */
#define PX_DLG_WITHIN 3		/* another in-dialog request */
#define PX_DLG_UAC_BYE 4	/* a BYE we generated for the dialog */
#define PX_DLG_UAC_REFER_CALLER 5 /* dlg_refer towards the caller */
#define PX_DLG_UAC_REFER_CALLEE 6 /* dlg_refer towards the callee */
#define PX_DLG_UAC_BRIDGE 7	/* dlg_bridge: INVITE, REFER, BYE */

struct px_req;
struct px_dlg_ops;
struct tm_tx;

/*
 * The dialog layer's hooks into the proxy (all optional).  They run on
 * the thread handling the message, with the transaction locked where a tx
 * is given.
 */
struct px_hooks {
	const struct px_dlg_ops *ops;	/* rule conditions and actions */
	/* A request arrived, before the rules: match it to a dialog. */
	void (*on_request)(struct px_req *rq);
	/* The request is being forwarded in @tx: attach what it needs. */
	void (*on_forward)(struct px_req *rq, struct tm_tx *tx);
	/* The rules answered it (@code) or dropped it (@code 0). */
	void (*on_local)(struct px_req *rq, int code);
	/* A response for @tx goes upstream: @rsp parsed (relayed) or NULL
	 * (our own, e.g. 408/487), @code its status. */
	void (*on_reply)(struct tm_tx *tx, const struct sip_msg *rsp,
			 int code);
	/* A 2xx for @tx is about to go upstream: return true to absorb it
	 * (the dialog layer ends a second branch's answer itself). */
	bool (*absorb_2xx)(struct tm_tx *tx, const struct sip_msg *rsp);
	/* Done with the request (release per-request state). */
	void (*on_done)(struct px_req *rq);
	void *ud;
};

int proxy_alloc(const struct sipdlg_config *cfg, struct stats *st,
		struct proxy **out, char *err, size_t err_len);
/* Transport and timers are created by the caller and given here; from
 * then on the proxy keeps a periodic timer (memory trim) armed. */
void proxy_attach(struct proxy *px, struct transport *tp,
		  struct tmr_service *tmr);
/* NULL-safe.  The timer service given to proxy_attach must be freed
 * (stopped) first: its pending timers point into the proxy. */
void proxy_free(struct proxy *px);
/* Before the transport starts. */
void proxy_set_hooks(struct proxy *px, const struct px_hooks *h);

/* The transport callback (tp_recv_fn). */
void proxy_on_message(void *ud, struct tp_rcv *rcv);

size_t proxy_tx_count(struct proxy *px);

/*
 * Send a request we generate (a BYE of dlg_bye, ...) in a client
 * transaction of its own: retransmissions, timeout, the final response
 * reported through hooks.on_reply (code 408 on timeout) with tx->dlg =
 * @dlg, which the transaction holds and releases with @release.
 * @msg is the request line and headers without any Via (and the body);
 * the Via with a fresh branch is inserted after the request line; @bd
 * (may be NULL) names the dialog for the fast path's branch contract.
 * @next_hop: the URI to send to (first Route, else the R-URI).
 * 0 or -errno (the @dlg reference is released on failure too).
 */
struct px_branch_dlg;
int proxy_uac_send(struct proxy *px, const char *msg, size_t len,
		   struct sip_str next_hop, const struct px_branch_dlg *bd,
		   uint8_t kind, void *dlg, void (*release)(void *));
/* Send a request of our own without a transaction (the ACK of a 2xx):
 * a Via is inserted as above.  0 or -errno. */
int proxy_send_stateless(struct proxy *px, const char *msg, size_t len,
			 struct sip_str next_hop);

#endif /* SIPDLG_PROXY_H */
