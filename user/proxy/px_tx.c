/*
 * px_tx.c - the transaction state machines of RFC 3261 section 17 as a
 * stateful proxy runs them, with RFC 6026's Accepted states.
 *
 * Every function here is called with tx->lock held.  Timers: each armed
 * timer holds a reference to its tx; a callback that finds its timer armed
 * again (re-armed after it was popped) ignores the stale firing.
 *
 *   client INVITE:      A (retransmit, UDP) B (timeout) C (proxy, 3 min)
 *                       D (absorb final retransmissions)
 *   client non-INVITE:  E (retransmit) F (timeout) K (absorb)
 *   server INVITE:      G (retransmit final, UDP) H (wait ACK) I (absorb
 *                       ACKs) L (Accepted, RFC 6026)
 *   server non-INVITE:  J (absorb request retransmissions)
 *
 * J, L, M and D, which only absorb retransmissions, last PX_LINGER_MS (5 s,
 * Kamailio's wait timer) rather than RFC 3261's 64*T1 (32 s): a request
 * retransmitted after 5 s has long been given up by its sender, and a
 * 32 s linger multiplies the live transactions of a busy box by six.
 */
#define LOG_TAG "tm"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/stats.h"
#include "proxy/px_internal.h"

static _Thread_local struct obuf tx_scratch;

static void on_retx(struct tmr *t);
static void on_cli(struct tmr *t);
static void on_c(struct tmr *t);
static void on_srv(struct tmr *t);
static void on_srv_end(struct tmr *t);
static void on_cancel_retx(struct tmr *t);

static void arm(struct proxy *px, struct tm_tx *tx, struct tmr *t,
		void (*fn)(struct tmr *), uint64_t ms)
{
	int was;

	t->fn = fn;
	t->data = tx;
	was = tmr_arm(px->tmr, t, ms);
	if (was == 0)
		tm_tx_ref(tx);
}

static void disarm(struct proxy *px, struct tm_tx *tx, struct tmr *t)
{
	if (tmr_cancel(px->tmr, t) == 1)
		tm_tx_unref(tx);
}

static char *dup_mem(const char *p, size_t n)
{
	char *d = malloc(n ? n : 1);

	if (d && n)
		memcpy(d, p, n);
	return d;
}

static bool reliable(const struct tp_peer *p)
{
	return p->proto == TP_TCP || p->proto == TP_TLS;
}

void px_tx_finish(struct proxy *px, struct tm_tx *tx)
{
	if (!tx->sdone || !tx->cdone)
		return;
	disarm(px, tx, &tx->t_retx);
	disarm(px, tx, &tx->t_cli);
	disarm(px, tx, &tx->t_c);
	disarm(px, tx, &tx->t_srv);
	disarm(px, tx, &tx->t_srv_end);
	disarm(px, tx, &tx->t_cancel);
	tm_remove(px->tm, tx);
	if (tx->counted) {
		tx->counted = false;
		stat_dec(px->s.tx_active);
	}
}

static void srv_done(struct proxy *px, struct tm_tx *tx)
{
	tx->sdone = true;
	tx->sstate = TM_S_TERMINATED;
	disarm(px, tx, &tx->t_srv);
	px_tx_finish(px, tx);
}

static void cli_done(struct proxy *px, struct tm_tx *tx)
{
	tx->cdone = true;
	if (tx->cstate != TM_C_NONE)
		tx->cstate = TM_C_TERMINATED;
	disarm(px, tx, &tx->t_retx);
	disarm(px, tx, &tx->t_c);
	disarm(px, tx, &tx->t_cancel);
	px_tx_finish(px, tx);
}

/* Send a response upstream and move the server side along. */
void px_tx_send_upstream(struct proxy *px, struct tm_tx *tx, int code,
			 const char *buf, size_t len)
{
	char *copy;

	if (tx->sstate != TM_S_PROCEEDING &&
	    !(tx->sstate == TM_S_ACCEPTED && code >= 200 && code < 300))
		return;
	copy = dup_mem(buf, len);
	if (copy) {
		free(tx->last_rsp);
		tx->last_rsp = copy;
		tx->last_rsp_len = len;
		tx->last_code = code;
	}
	px_send(px, &tx->src, buf, len);
	if (code < 200 || tx->sstate == TM_S_ACCEPTED)
		return;
	if (!tx->invite) {
		tx->sstate = TM_S_COMPLETED;
		arm(px, tx, &tx->t_srv_end, on_srv_end,
		    reliable(&tx->src) ? 0 : PX_LINGER_MS);	/* J */
	} else if (code < 300) {
		tx->sstate = TM_S_ACCEPTED;
		arm(px, tx, &tx->t_srv_end, on_srv_end, PX_LINGER_MS); /* L */
	} else {
		tx->sstate = TM_S_COMPLETED;
		if (!reliable(&tx->src)) {
			tx->g_interval = px->t1;
			arm(px, tx, &tx->t_srv, on_srv, tx->g_interval); /* G */
		}
		arm(px, tx, &tx->t_srv_end, on_srv_end, 64u * px->t1); /* H */
	}
}

/* --- the transaction's follower (the dialog layer) ------------------- */

void proxy_tx_follow(struct tm_tx *tx, const struct px_tx_ops *ops,
		     void *obj)
{
	tx->follower = obj;
	tx->follower_ops = ops;
	tx->follower_release = ops ? ops->release : NULL;
}

bool proxy_tx_followed(const struct tm_tx *tx)
{
	return tx->follower != NULL;
}

static void follower_reply(struct proxy *px, const struct tm_tx *tx,
			   const struct sip_msg *rsp, int code,
			   struct px_reply *r)
{
	r->px = px;
	r->rsp = rsp;
	r->code = code;
	r->listen_idx = tx->dst.listen_idx;
	r->own_rr = tx->own_rr;
}

void px_tx_tell(struct proxy *px, struct tm_tx *tx,
		const struct sip_msg *rsp, int code)
{
	struct px_reply r;

	if (!tx->follower || !tx->follower_ops || !tx->follower_ops->on_reply)
		return;
	follower_reply(px, tx, rsp, code, &r);
	tx->follower_ops->on_reply(tx->follower, &r);
}

bool px_tx_absorb_2xx(struct proxy *px, struct tm_tx *tx,
		      const struct sip_msg *rsp)
{
	struct px_reply r;

	if (!tx->follower || !tx->follower_ops ||
	    !tx->follower_ops->absorb_2xx)
		return false;
	follower_reply(px, tx, rsp, rsp->status, &r);
	return tx->follower_ops->absorb_2xx(tx->follower, &r);
}

/* A local reply built from the stored request (timer and CANCEL paths). */
void px_tx_local_reply(struct proxy *px, struct tm_tx *tx, int code,
		       const char *reason)
{
	struct sip_msg *m = malloc(sizeof(*m));
	struct obuf *o = &tx_scratch;

	if (!m)
		return;
	if (sip_msg_parse(m, tx->req, tx->req_len, SIP_DATAGRAM, NULL) == 0 &&
	    pxb_reply(o, m, &tx->src, code, reason, tx->to_tag) == 0) {
		stat_inc(px->s.local_replies);
		px_tx_send_upstream(px, tx, code, o->buf, o->len);
		if (code > 100)
			px_tx_tell(px, tx, NULL, code);
	}
	free(m);
}

int px_tx_forward(struct proxy *px, struct tm_tx *tx,
		  const struct px_target *t, int local_idx, const char *buf,
		  size_t len)
{
	int r;

	tx->out = dup_mem(buf, len);
	if (!tx->out)
		return -ENOMEM;
	tx->out_len = len;
	px_target_peer(t, local_idx, &tx->dst);
	tx->cstate = TM_C_CALLING;
	tx->cdone = false;
	r = tm_insert_client(px->tm, tx);
	if (r)
		return r;
	r = px_send(px, &tx->dst, buf, len);
	if (r) {
		cli_done(px, tx);
		return r;
	}
	stat_inc(px->s.fwd_requests);
	if (!reliable(&tx->dst)) {
		tx->retx_interval = px->t1;
		arm(px, tx, &tx->t_retx, on_retx, px->t1);	/* A / E */
	}
	arm(px, tx, &tx->t_cli, on_cli, 64u * px->t1);		/* B / F */
	if (tx->invite)
		arm(px, tx, &tx->t_c, on_c, PX_TIMER_C_MS);	/* C */
	return 0;
}

static void send_cancel(struct proxy *px, struct tm_tx *tx)
{
	struct sip_msg *m;
	struct obuf *o = &tx_scratch;

	if (tx->cancelled || !tx->out)
		return;
	m = malloc(sizeof(*m));
	if (!m)
		return;
	if (sip_msg_parse(m, tx->out, tx->out_len, SIP_DATAGRAM, NULL) == 0 &&
	    pxb_cancel(o, m) == 0) {
		free(tx->cancel);
		tx->cancel = dup_mem(o->buf, o->len);
		tx->cancel_len = tx->cancel ? o->len : 0;
		tx->cancelled = true;
		px_send(px, &tx->dst, o->buf, o->len);
		if (!reliable(&tx->dst) && tx->cancel) {
			tx->cancel_retx = px->t1;
			arm(px, tx, &tx->t_cancel, on_cancel_retx, px->t1);
		}
	}
	free(m);
}

void px_tx_cancel(struct proxy *px, struct tm_tx *tx)
{
	if (tx->sstate != TM_S_PROCEEDING)
		return;
	switch (tx->cstate) {
	case TM_C_NONE:
		px_tx_local_reply(px, tx, 487, NULL);
		break;
	case TM_C_CALLING:
		/* RFC 3261 9.1: no CANCEL before a provisional response. */
		tx->cancel_pending = true;
		break;
	case TM_C_PROCEEDING:
		send_cancel(px, tx);
		break;
	default:
		break;
	}
}

/* Returns true when the ACK belonged to this transaction (absorbed). */
void px_tx_on_ack(struct proxy *px, struct tm_tx *tx)
{
	if (tx->sstate != TM_S_COMPLETED)
		return;
	tx->sstate = TM_S_CONFIRMED;
	disarm(px, tx, &tx->t_srv);				/* G */
	arm(px, tx, &tx->t_srv_end, on_srv_end,
	    reliable(&tx->src) ? 0 : px->t4);			/* I */
}

static void send_ack(struct proxy *px, struct tm_tx *tx,
		     const struct sip_msg *rsp)
{
	struct sip_msg *inv = malloc(sizeof(*inv));
	struct obuf *o = &tx_scratch;

	if (!inv)
		return;
	if (sip_msg_parse(inv, tx->out, tx->out_len, SIP_DATAGRAM, NULL) == 0 &&
	    pxb_ack(o, inv, rsp) == 0)
		px_send(px, &tx->dst, o->buf, o->len);
	free(inv);
}

static void forward_up(struct proxy *px, struct tm_tx *tx,
		       const struct sip_msg *rsp)
{
	struct obuf *o = &tx_scratch;

	if (tx->uac) {
		/* Ours: the response ends here. */
		if (rsp->status >= 200)
			px_tx_tell(px, tx, rsp, rsp->status);
		return;
	}
	if (pxb_response_fwd(o, rsp) != 0) {
		stat_inc(px->s.drop_replies);
		return;
	}
	stat_inc(px->s.fwd_replies);
	px_tx_send_upstream(px, tx, rsp->status, o->buf, o->len);
	px_tx_tell(px, tx, rsp, rsp->status);
}

void px_tx_on_response(struct proxy *px, struct tm_tx *tx,
		       const struct sip_msg *rsp, const char *buf, size_t len)
{
	int code = rsp->status;

	if (rsp->cseq.method == SIP_METHOD_CANCEL) {
		if (code >= 200)
			disarm(px, tx, &tx->t_cancel);
		return;		/* the answer to our CANCEL stops here */
	}
	if (code > tx->cli_code || code >= 200)
		tx->cli_code = code;
	if (!tx->invite) {
		if (code < 200) {
			if (tx->cstate == TM_C_CALLING)
				tx->cstate = TM_C_PROCEEDING;
			if (code > 100)
				forward_up(px, tx, rsp);
			return;
		}
		if (tx->cstate != TM_C_CALLING && tx->cstate != TM_C_PROCEEDING)
			return;		/* retransmitted final: absorbed */
		disarm(px, tx, &tx->t_retx);
		disarm(px, tx, &tx->t_cli);
		tx->cstate = TM_C_COMPLETED;
		forward_up(px, tx, rsp);
		arm(px, tx, &tx->t_cli, on_cli,
		    reliable(&tx->dst) ? 0 : px->t4);		/* K */
		return;
	}
	if (code < 200) {
		if (tx->cstate == TM_C_CALLING) {
			tx->cstate = TM_C_PROCEEDING;
			disarm(px, tx, &tx->t_retx);		/* A */
			disarm(px, tx, &tx->t_cli);		/* B */
		}
		if (tx->cstate == TM_C_PROCEEDING)
			arm(px, tx, &tx->t_c, on_c, PX_TIMER_C_MS);
		if (tx->cancel_pending)
			send_cancel(px, tx);
		if (code > 100)
			forward_up(px, tx, rsp);
		return;
	}
	if (code < 300) {
		if (px_tx_absorb_2xx(px, tx, rsp))
			return;
		/* Every 2xx goes up, retransmissions too (RFC 6026). */
		if (tx->cstate != TM_C_ACCEPTED) {
			disarm(px, tx, &tx->t_retx);
			disarm(px, tx, &tx->t_cli);
			disarm(px, tx, &tx->t_c);
			tx->cstate = TM_C_ACCEPTED;
			arm(px, tx, &tx->t_cli, on_cli, PX_LINGER_MS); /* M */
		}
		forward_up(px, tx, rsp);
		return;
	}
	if (tx->cstate == TM_C_COMPLETED) {
		send_ack(px, tx, rsp);	/* retransmitted final */
		return;
	}
	if (tx->cstate != TM_C_CALLING && tx->cstate != TM_C_PROCEEDING)
		return;
	disarm(px, tx, &tx->t_retx);
	disarm(px, tx, &tx->t_cli);
	disarm(px, tx, &tx->t_c);
	disarm(px, tx, &tx->t_cancel);
	tx->cstate = TM_C_COMPLETED;
	send_ack(px, tx, rsp);
	forward_up(px, tx, rsp);
	arm(px, tx, &tx->t_cli, on_cli,
	    reliable(&tx->dst) ? 0 : PX_LINGER_MS);		/* D */
	(void)buf;
	(void)len;
}

/* --- timer callbacks: lock, check, act, unlock, drop the timer's ref --- */

#define TIMER_ENTER(t, tx, px)                                              \
	struct tm_tx *tx = (t)->data;                                       \
	struct proxy *px = tx->owner;                                       \
	pthread_mutex_lock(&tx->lock);                                      \
	if (tmr_is_pending(px->tmr, (t)))                                   \
		goto out;

#define TIMER_LEAVE(tx)                                                     \
	out:                                                                \
	pthread_mutex_unlock(&tx->lock);                                    \
	tm_tx_unref(tx);

static void on_retx(struct tmr *t)
{
	TIMER_ENTER(t, tx, px)
	if (tx->cstate == TM_C_CALLING ||
	    (!tx->invite && tx->cstate == TM_C_PROCEEDING)) {
		stat_inc(px->s.retransmissions);
		px_send(px, &tx->dst, tx->out, tx->out_len);
		if (tx->invite)
			tx->retx_interval *= 2;			/* A */
		else if (tx->cstate == TM_C_PROCEEDING)
			tx->retx_interval = px->t2;		/* E */
		else
			tx->retx_interval = tx->retx_interval * 2 > px->t2 ?
						    px->t2 :
						    tx->retx_interval * 2;
		arm(px, tx, &tx->t_retx, on_retx, tx->retx_interval);
	}
	TIMER_LEAVE(tx)
}

static void on_cli(struct tmr *t)
{
	TIMER_ENTER(t, tx, px)
	if (tx->cstate == TM_C_CALLING ||
	    (!tx->invite && tx->cstate == TM_C_PROCEEDING)) {
		/* B or F: no final answer downstream. */
		stat_inc(px->s.timeouts);
		tx->cstate = TM_C_TERMINATED;
		if (tx->uac)
			px_tx_tell(px, tx, NULL, 408);
		if (tx->sstate == TM_S_PROCEEDING)
			px_tx_local_reply(px, tx, tx->cancelled ? 487 : 408,
					  NULL);
	}
	/* D, K, M: the client side has lingered long enough. */
	cli_done(px, tx);
	TIMER_LEAVE(tx)
}

static void on_c(struct tmr *t)
{
	TIMER_ENTER(t, tx, px)
	if (tx->cstate == TM_C_PROCEEDING) {
		stat_inc(px->s.timeouts);
		send_cancel(px, tx);
		if (tx->sstate == TM_S_PROCEEDING)
			px_tx_local_reply(px, tx, 408, NULL);
		/* Let the CANCEL's answer and a late 487 be absorbed. */
		tx->cstate = TM_C_COMPLETED;
		disarm(px, tx, &tx->t_cli);
		arm(px, tx, &tx->t_cli, on_cli, 32000u);
	}
	TIMER_LEAVE(tx)
}

static void on_srv(struct tmr *t)
{
	TIMER_ENTER(t, tx, px)
	if (tx->sstate == TM_S_COMPLETED && tx->last_rsp) {
		px_send(px, &tx->src, tx->last_rsp, tx->last_rsp_len);	/* G */
		tx->g_interval = tx->g_interval * 2 > px->t2 ?
					 px->t2 :
					 tx->g_interval * 2;
		arm(px, tx, &tx->t_srv, on_srv, tx->g_interval);
	}
	TIMER_LEAVE(tx)
}

static void on_srv_end(struct tmr *t)
{
	TIMER_ENTER(t, tx, px)
	srv_done(px, tx);				/* H, I, J, L */
	TIMER_LEAVE(tx)
}

static void on_cancel_retx(struct tmr *t)
{
	TIMER_ENTER(t, tx, px)
	if (tx->cancel && tx->cancel_retx < 16u * px->t1) {
		px_send(px, &tx->dst, tx->cancel, tx->cancel_len);
		tx->cancel_retx *= 2;
		arm(px, tx, &tx->t_cancel, on_cancel_retx,
		    tx->cancel_retx > px->t2 ? px->t2 : tx->cancel_retx);
	}
	TIMER_LEAVE(tx)
}
