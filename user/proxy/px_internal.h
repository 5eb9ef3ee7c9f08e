/* px_internal.h - state and helpers shared by the proxy/ files only. */
#ifndef SIPDLG_PX_INTERNAL_H
#define SIPDLG_PX_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/types.h>

#include "config/config.h"
#include "core/obuf.h"
#include "core/timer.h"
#include "proxy/proxy.h"
#include "sip/sip_msg.h"
#include "tm/tm.h"
#include "sipdlg_rhex.h"
#include "sipdlg_shared.h"

/* Route entries one request may carry (a genuine limit: the Route set
 * is held as slices in a fixed array while forwarding). */
#define PX_MAX_ROUTES 32
#define PX_TOO_MANY_ROUTES_REASON \
	"Bad Request - Too Many Route Entries (max 32)"
/*
 * Our Via branches.  Every one starts with PX_BRANCH_OURS.  Within a
 * dialog the fast path's contract applies (include/sipdlg_shared.h,
 * SIPDLG_BRANCH_PREFIX; RH from include/sipdlg_rhex.h):
 *   z9hG4bKsd<RH(h_entry)>.<RH(h_id)>.<D><LOOP:8 hex><TXN:16 hex>
 * otherwise:
 *   z9hG4bKsx<LOOP:8 hex>.<TXN:16 hex>
 * LOOP is the loop-detection hash of RFC 3261 16.6 item 8.
 */
#define PX_BRANCH_OURS "z9hG4bKs"
#define PX_BRANCH_PLAIN "z9hG4bKsx"
/* The two differ in their last character only (px_branch_loop). */
_Static_assert(sizeof(PX_BRANCH_PLAIN) == sizeof(SIPDLG_BRANCH_PREFIX) &&
		       sizeof(PX_BRANCH_OURS) + 1 == sizeof(PX_BRANCH_PLAIN),
	       "our branch prefixes must stay one character apart");

/* Write our branch; returns its length. */
size_t px_branch(char *buf, size_t cap, const struct px_branch_dlg *bd,
		 uint32_t loop_hash, uint64_t tail);
/* The LOOP part of one of our branches, or false if it is not ours. */
bool px_branch_loop(struct sip_str branch, uint32_t *loop_hash);
#define PX_SERVER_HDR "Server: sipdlg\r\n"
#define PX_TIMER_C_MS (181u * 1000u)	/* RFC 3261: > 3 minutes */
#define PX_LINGER_MS 5000u		/* J, L, M, D: see px_tx.c */

/* The limits: ceilings (px_limits.c). */
enum px_limit {
	PXL_NONE = 0,
	PXL_DIALOGS,
	PXL_EARLY,
	PXL_TRANSACTIONS,
	PXL_MEMORY,
	PXL_N_
};

/* xdp.invite_limit over TCP (px_invite_rate.c): a per-source token
 * bucket of initial INVITEs; over it, a stateless 503 + Retry-After. */
struct px_irl;
int px_irl_alloc(struct proxy *px);
void px_irl_free(struct proxy *px);
/* true: @rq (an initial request) was refused and answered. */
bool px_irl_refuse(struct proxy *px, const struct px_req *rq);

struct px_limits_state {
	struct tmr sample_tmr;
	atomic_ullong rss_kib;			/* last sample */
	atomic_ullong logged_ms[PXL_N_];	/* last warning, tmr_now_ms */
	atomic_ullong since_log[PXL_N_];	/* 503s since that warning */
};

struct proxy {
	const struct sipdlg_config *cfg;
	struct stats *st;
	struct proxy_stats s;
	struct transport *tp;
	struct tmr_service *tmr;
	struct tm_table *tm;
	struct px_local local[CFG_MAX_LISTEN];
	size_t n_local;
	uint32_t t1, t2, t4;
	uint64_t salt;
	struct px_dlg_iface dlg;	/* the dialog layer (zeroed: none) */
	void *dlg_ud;
	/* Giving freed transaction memory back (proxy.c, timer thread). */
	struct tmr trim_tmr;
	size_t trim_peak;		/* most transactions since last trim */
	struct px_limits_state lim;
	struct px_irl *irl;		/* px_invite_rate.c; NULL: limit off */
	atomic_ullong no_tls_logged_ms, no_tls_since;	/* px_no_tls.c */
};

/* A TLS next hop without a tls: listen entry of its family: count, and
 * log at most every 10 s (px_no_tls.c). */
void px_no_tls_note(struct proxy *px, int family);

/* A resolved next hop. */
struct px_target {
	enum tp_proto proto;
	struct tp_addr addr;
	/* The host when it is a DNS name, "" for an IP literal: a TLS
	 * connection's SNI and certificate name (tp_peer.tls_name). */
	char name[256];
};

/* Fill dst from t (TLS: the name too). */
void px_target_peer(const struct px_target *t, int local_idx,
		    struct tp_peer *dst);

/* What the forwarding of one request changes in it. */
struct px_fwd {
	struct sip_str ruri;			/* the outgoing R-URI */
	struct sip_str routes[PX_MAX_ROUTES];	/* Route values to emit */
	size_t n_routes;
	const char *via;			/* our Via line, with CRLF */
	const char *rr;				/* our Record-Route lines or "" */
	int max_forwards;			/* value to write */
};

/* px_validate.c: the checks of RFC 3261 16.3 (see there). */
enum px_check {
	PXC_OK = 0,
	PXC_RURI_HEADERS,	/* 400: sip:...?hdr=... as Request-URI */
	PXC_TOO_MANY_ROUTES,	/* 400: more than PX_MAX_ROUTES */
	PXC_URI_SCHEME,		/* 416 */
	PXC_MAX_FORWARDS,	/* 483 */
	PXC_LOOP,		/* 482 */
	PXC_BAD_PROXY_REQUIRE,	/* 400: a value that is no option tag */
	PXC_BAD_EXTENSION,	/* 420 */
};

struct px_check_result {
	enum px_check why;
	int code;		/* 0: go on */
	const char *reason;	/* NULL: the code's standard phrase */
	const char *extra;	/* header lines to add ("Unsupported: ..."),
				 * per-thread storage, or NULL */
};

/* Check @m (a request that parsed): 0, or the status code to answer
 * with, @v saying why.  Counts nothing (the caller does). */
int px_validate(const struct proxy *px, const struct sip_msg *m,
		struct px_check_result *v);
/* The loop-detection part of our branch (16.6 item 8) of @m as received,
 * and whether one of @m's Vias is ours with that hash (a loop). */
uint32_t px_loop_hash(const struct sip_msg *m);
bool px_is_loop(const struct proxy *px, const struct sip_msg *m,
		uint32_t lh);

/* px_build.c: message builders.  Each returns 0, or -E2BIG on overflow. */
void pxb_vias(struct obuf *o, const struct sip_msg *m,
	      const struct tp_peer *src);
int pxb_reply(struct obuf *o, const struct sip_msg *req,
	      const struct tp_peer *src, int code, const char *reason,
	      const char *to_tag);
/* The same with @hdrs (whole lines with CRLF, e.g. "Retry-After: 5\r\n";
 * NULL = none) before Content-Length. */
int pxb_reply_hdrs(struct obuf *o, const struct sip_msg *req,
		   const struct tp_peer *src, int code, const char *reason,
		   const char *to_tag, const char *hdrs);
int pxb_request(struct obuf *o, const struct sip_msg *m,
		const struct tp_peer *src, const struct px_fwd *f);
int pxb_response_fwd(struct obuf *o, const struct sip_msg *rsp);
int pxb_cancel(struct obuf *o, const struct sip_msg *fwd_invite);
int pxb_ack(struct obuf *o, const struct sip_msg *fwd_invite,
	    const struct sip_msg *rsp);
const char *pxb_reason(int code);

/* px_addr.c: addresses, our own identity, next hops. */
int px_local_init(struct proxy *px, char *err, size_t err_len);
bool px_via_is_ours(const struct proxy *px, const struct sip_via *via);
int px_uri_target(struct sip_str uri, struct px_target *t);
/* The same for a URI parsed already (proxy_hop_resolve parses once). */
int px_parsed_uri_target(const struct sip_uri *u, struct px_target *t);
int px_dest_target(const struct route_dest *d, struct px_target *t);
/* The local socket to send to @t from (prefer @in_idx). */
int px_pick_local(const struct proxy *px, const struct px_target *t,
		  int in_idx);
void px_ip_str(const struct tp_addr *a, char *buf, size_t len);
uint16_t px_addr_port(const struct tp_addr *a);

/* px_tx.c: transaction state machines. */
void px_tx_send_upstream(struct proxy *px, struct tm_tx *tx, int code,
			 const char *buf, size_t len);
void px_tx_local_reply(struct proxy *px, struct tm_tx *tx, int code,
		       const char *reason);
int px_tx_forward(struct proxy *px, struct tm_tx *tx,
		  const struct px_target *t, int local_idx, const char *buf,
		  size_t len);
void px_tx_cancel(struct proxy *px, struct tm_tx *tx);
void px_tx_on_response(struct proxy *px, struct tm_tx *tx,
		       const struct sip_msg *rsp, const char *buf,
		       size_t len);
void px_tx_on_ack(struct proxy *px, struct tm_tx *tx);
void px_tx_finish(struct proxy *px, struct tm_tx *tx);
/* Tell @tx's follower (if any) of a response: @rsp parsed or NULL (ours). */
void px_tx_tell(struct proxy *px, struct tm_tx *tx,
		const struct sip_msg *rsp, int code);
/* Let @tx's follower absorb a 2xx (true: it did). */
bool px_tx_absorb_2xx(struct proxy *px, struct tm_tx *tx,
		      const struct sip_msg *rsp);

/* px_send.c */
int px_send(struct proxy *px, const struct tp_peer *dst, const char *buf,
	    size_t len);
/* Where a response to a request from @src with top Via @via goes. */
void px_reply_peer(const struct sip_via *via, const struct tp_peer *src,
		   struct tp_peer *out);
/* Answer @m statelessly (400s, 481, 483, 482, 200 to CANCEL...). */
/* px_limits.c */
void px_limits_register(struct proxy *px);
/* Arms the RSS sampling timer if max_memory_mb is set (proxy_attach). */
void px_limits_start(struct proxy *px);
/* An initial request beyond a limit: 503 + Retry-After sent, counted;
 * true.  false: go on (always for requests with a To-tag). */
bool px_limits_refuse(struct proxy *px, const struct px_req *rq);
/* px_reply_stateless with extra header lines @hdrs (NULL = none). */
void px_reply_stateless_hdrs(struct proxy *px, const struct sip_msg *m,
			     const struct tp_peer *src, int code,
			     const char *reason, const char *hdrs);
void px_reply_stateless(struct proxy *px, const struct sip_msg *m,
			const struct tp_peer *src, int code,
			const char *reason);
void px_reply_stateless_hdrs(struct proxy *px, const struct sip_msg *m,
			     const struct tp_peer *src, int code,
			     const char *reason, const char *extra);

/* px_request.c / px_response.c */
void px_on_request(struct proxy *px, struct tp_rcv *rcv);
void px_on_response(struct proxy *px, struct tp_rcv *rcv);

#endif /* SIPDLG_PX_INTERNAL_H */
