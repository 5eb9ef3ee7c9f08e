/*
 * proxy.h - the record-routing, transaction-stateful SIP proxy (RFC 3261
 * section 16) that sipdlgd is.
 *
 * The transport hands every received message to proxy_on_message() on a
 * worker thread.  Requests are checked (parse errors answered with 400,
 * then RFC 3261 16.3 in order: Request-URI scheme and headers, Route
 * count, Max-Forwards, loops, Proxy-Require; px_validate.c), matched to
 * transactions (retransmissions absorbed,
 * CANCEL and hop-by-hop ACK handled), run through the routes: rules, and
 * forwarded, answered or dropped.  Responses are matched to the client
 * transaction by our Via branch and sent back upstream.
 *
 * The dialog layer (user/dlglink/) takes part through one interface,
 * struct px_dlg_iface, and follows single transactions through
 * struct px_tx_ops; the proxy knows no dialog vocabulary of its own.
 */
#ifndef SIPDLG_PROXY_H
#define SIPDLG_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/routes.h"
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
	/* Made once at start, not per dialog (proxy_hop_resolve runs for
	 * both directions of every dialog the kernel relays in): */
	char sock_name[96];	/* "udp|tcp|tls:HOST:PORT", the dialog's name */
	char sentby[80];	/* "ADV_HOST:ADV_PORT" for our Via */
	int sentby_len;		/* -1: does not fit proxy_hop's sentby */
};

struct proxy_stats {
	struct stat_var *rcv_requests, *rcv_replies;
	struct stat_var *fwd_requests, *fwd_replies;
	struct stat_var *local_replies, *drop_requests, *drop_replies;
	struct stat_var *retransmissions, *tx_created, *tx_active;
	struct stat_var *timeouts, *too_many_hops, *loops, *not_found;
	/* RFC 3261 16.3 checks (px_validate.c), one counter per reason */
	struct stat_var *bad_scheme, *bad_extension, *ruri_headers;
	struct stat_var *too_many_routes, *bad_proxy_require;
	struct stat_var *bad_message, *bad_reply, *send_errors;
	struct stat_var *parse_err[SIP_ERR_MAX_];
	/* 503s of limits: (px_limits.c), by the limit that was hit. */
	struct stat_var *rej_dialogs, *rej_early, *rej_tx, *rej_memory;
	struct stat_var *rej_no_tls;	/* px_no_tls.c */
};

struct px_req;
struct tm_tx;

/* The dialog a request belongs to, for our Via branch (the fast path's
 * contract, include/sipdlg_shared.h: SIPDLG_BRANCH_PREFIX). */
struct px_branch_dlg {
	uint32_t h_entry, h_id;
	int dir;			/* 0 caller->callee, 1 callee->caller */
};

/*
 * The dialog layer's part in the request path (every member optional).
 * The proxy calls, in this order, on the thread handling the request and
 * with its server transaction (an ACK has none) locked: on_request, then
 * the rule members (cond, action, var_get, pv_get) as the rules ask, then
 * branch_dlg when it builds the forwarded request, then on_forward or
 * on_local, then on_done.  @ud is the one given to proxy_set_dialog.
 */
struct px_dlg_iface {
	/* A request arrived, before the rules: match it to a dialog. */
	void (*on_request)(void *ud, struct px_req *rq);
	/* Rule conditions and actions on dialogs (dlg_manage, profiles...). */
	bool (*cond)(void *ud, struct px_req *rq, const struct route_cond *c);
	void (*action)(void *ud, struct px_req *rq,
		       const struct route_action *a);
	/* $dlg_var(key), and $DLG_status / $DLG_lifetime / $DLG_count:
	 * append to @out (length *n, capacity @cap). */
	void (*var_get)(void *ud, const struct px_req *rq, const char *key,
			char *out, size_t *n, size_t cap);
	void (*pv_get)(void *ud, const struct px_req *rq, enum route_pv pv,
		       char *out, size_t *n, size_t cap);
	/* The request is being built for forwarding: true with @bd set when
	 * it belongs to a dialog (its branch then names it); *rr_params
	 * (starts "") is appended to our Record-Route URI (the cookie). */
	bool (*branch_dlg)(void *ud, const struct px_req *rq,
			   struct px_branch_dlg *bd, const char **rr_params);
	/* It is forwarded in @tx: proxy_tx_follow() it if need be. */
	void (*on_forward)(void *ud, struct px_req *rq, struct tm_tx *tx);
	/* The rules answered it (@code) or dropped it (@code 0). */
	void (*on_local)(void *ud, struct px_req *rq, int code);
	/* Done with the request (release per-request state). */
	void (*on_done)(void *ud, struct px_req *rq);
	/* How many calls are held now, for limits: (states 1-4, states
	 * 1-2).  Called before a new INVITE gets a transaction, no lock. */
	void (*load)(void *ud, uint64_t *dialogs, uint64_t *early);
};

/* One request on its way through the proxy. */
struct px_req {
	struct proxy *px;
	const struct sip_msg *msg;
	const struct tp_peer *src;
	void *dlg_ctx;			/* the dialog layer's per-request state */
	unsigned own_rr;		/* Record-Route entries we added */
	/* The proxy's own: */
	const char *ruri;		/* ruri_user: the rewritten R-URI (per-
					 * thread storage of px_rules.c) */
	size_t ruri_len;		/* 0 = unchanged */
};

/* A response as the follower of a transaction hears of it. */
struct px_reply {
	struct proxy *px;
	const struct sip_msg *rsp;	/* NULL: our own (408, 487, a rule's) */
	int code;
	int listen_idx;			/* our socket the request left from */
	unsigned own_rr;		/* our Record-Route entries in it */
};

/*
 * Who follows one transaction (the dialog layer, for the INVITE that
 * creates a dialog, a BYE that ends one, a request it sent itself).
 * Each transaction has at most one follower: an object and its ops.
 */
struct px_tx_ops {
	/* A response goes upstream (for our own requests: ends here; those
	 * hear of final responses only, and of 408 on timeout). */
	void (*on_reply)(void *obj, const struct px_reply *r);
	/* Optional: a 2xx is about to go upstream; true absorbs it (the
	 * dialog layer ends a second branch's answer itself). */
	bool (*absorb_2xx)(void *obj, const struct px_reply *r);
	/* The transaction is destroyed: drop its reference to @obj. */
	void (*release)(void *obj);
};

/*
 * Where an in-dialog request towards a leg would go (the kernel relay's
 * next hop): the first entry of @route_set ("<uri>,<uri>", the dialog's
 * form) after our own, else @target (the leg's Contact URI); the socket
 * the proxy would send from, preferring @in_socket ("udp:HOST:PORT", the
 * socket the request arrives on), and our Via sent-by as build_forward
 * writes it (advertise:).  Only what the proxy resolves without DNS and
 * sends over UDP: 0, or -EPROTONOSUPPORT (not sip:, not UDP, maddr, a
 * strict router), -EHOSTUNREACH (a name), -ELOOP (addressed to us),
 * -ENOENT (no UDP socket of that address family), -EINVAL, -E2BIG.
 */
struct proxy_hop {
	struct sockaddr_storage dst;	/* next hop, port set */
	struct sockaddr_storage src;	/* our socket's bound address */
	uint16_t sport;			/* its port */
	int local_idx;
	char sentby[80];		/* "host:port", NUL-terminated */
	size_t sentby_len;
};
int proxy_hop_resolve(const struct proxy *px, const char *route_set,
		      const char *target, const char *in_socket,
		      struct proxy_hop *out);

int proxy_alloc(const struct sipdlg_config *cfg, struct stats *st,
		struct proxy **out, char *err, size_t err_len);
/* Transport and timers are created by the caller and given here; from
 * then on the proxy keeps a periodic timer (memory trim) armed. */
void proxy_attach(struct proxy *px, struct transport *tp,
		  struct tmr_service *tmr);
/* NULL-safe.  The timer service given to proxy_attach must be freed
 * (stopped) first: its pending timers point into the proxy. */
void proxy_free(struct proxy *px);
/* Before the transport starts: the dialog layer's interface (copied). */
void proxy_set_dialog(struct proxy *px, const struct px_dlg_iface *dlg,
		      void *ud);

/* The transport callback (tp_recv_fn). */
void proxy_on_message(void *ud, struct tp_rcv *rcv);

size_t proxy_tx_count(struct proxy *px);

/*
 * Send a request we generate (a BYE of dlg_bye, ...) in a client
 * transaction of its own: retransmissions, timeout, the final response
 * (408 on timeout) reported to @ops->on_reply with @obj, which the
 * transaction holds and releases with @ops->release (@ops may be NULL:
 * nobody follows it).
 * @msg is the request line and headers without any Via (and the body);
 * the Via with a fresh branch is inserted after the request line; @bd
 * (may be NULL) names the dialog for the fast path's branch contract.
 * @next_hop: the URI to send to (first Route, else the R-URI).
 * 0 or -errno (the @obj reference is released on failure too).
 */
int proxy_uac_send(struct proxy *px, const char *msg, size_t len,
		   struct sip_str next_hop, const struct px_branch_dlg *bd,
		   const struct px_tx_ops *ops, void *obj);
/* Send a request of our own without a transaction (the ACK of a 2xx):
 * a Via is inserted as above.  0 or -errno. */
int proxy_send_stateless(struct proxy *px, const char *msg, size_t len,
			 struct sip_str next_hop);

/* --- for the dialog layer ------------------------------------------------ */

/* Follow @tx (see struct px_tx_ops); @tx must have no follower yet. */
void proxy_tx_follow(struct tm_tx *tx, const struct px_tx_ops *ops,
		     void *obj);
/* Whether @tx has a follower already. */
bool proxy_tx_followed(const struct tm_tx *tx);
const struct sipdlg_config *proxy_config(const struct proxy *px);
/* Our local socket @idx, NULL if there is none. */
const struct px_local *proxy_local(const struct proxy *px, int idx);
/* Is @uri one of our own addresses (our Route entries, our R-URI)? */
bool px_uri_is_ours(const struct proxy *px, struct sip_str uri);
/* The same for a URI parsed already. */
bool px_parsed_uri_is_ours(const struct proxy *px, const struct sip_uri *u);
/* Expand a rule value with pseudo-variables into @out; its length. */
size_t px_tpl_expand(const struct px_req *rq, const struct route_tpl *t,
		     char *out, size_t cap);
/* Run the rule named @name (a timeout_route) without a message, with
 * @dlg_ctx as the dialog layer's state.  -ENOENT: no such rule. */
int proxy_run_rule(struct proxy *px, const char *name, void *dlg_ctx);

#endif /* SIPDLG_PROXY_H */
