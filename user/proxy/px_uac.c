/*
 * px_uac.c - requests the box generates itself (the BYEs of dlg_bye,
 * dlg.end_dlg and timeouts, REFERs, the bridge's calls): one client
 * transaction each, no server side.
 */
#define LOG_TAG "proxy"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/stats.h"
#include "proxy/px_internal.h"

static _Thread_local struct obuf uac_scratch;

int proxy_uac_send(struct proxy *px, const char *msg, size_t len,
		   struct sip_str next_hop, const struct px_branch_dlg *bd,
		   const struct px_tx_ops *ops, void *obj)
{
	struct obuf *o = &uac_scratch;
	const char *eol = memmem(msg, len, "\r\n", 2);
	struct px_target t;
	struct tm_tx *tx;
	const struct px_local *lo;
	int idx, r;

	if (!eol || px_uri_target(next_hop, &t) != 0 ||
	    (idx = px_pick_local(px, &t, -1)) < 0) {
		if (obj && ops && ops->release)
			ops->release(obj);
		return -EHOSTUNREACH;
	}
	tx = tm_tx_alloc(px->tm, px);
	if (!tx) {
		if (obj && ops && ops->release)
			ops->release(obj);
		return -ENOMEM;
	}
	tx->uac = true;
	proxy_tx_follow(tx, ops, obj);
	tx->sdone = true;
	tx->sstate = TM_S_TERMINATED;
	tx->method = sip_method_from_str(msg, (size_t)(memchr(msg, ' ', len) ?
			(const char *)memchr(msg, ' ', len) - msg : 0));
	tx->invite = tx->method == SIP_METHOD_INVITE;
	lo = &px->local[idx];
	tx->branch_len = px_branch(tx->branch, sizeof(tx->branch), bd, 0,
				   tx->id ^ px->salt);
	ob_reset(o);
	ob_mem(o, msg, (size_t)(eol - msg) + 2);
	ob_printf(o, "Via: SIP/2.0/%s %s:%u;branch=%s\r\n",
		  lo->proto == TP_TCP ? "TCP" :
		  lo->proto == TP_TLS ? "TLS" : "UDP", lo->adv_host,
		  lo->adv_port, tx->branch);
	ob_mem(o, eol + 2, len - (size_t)(eol + 2 - msg));
	if (o->overflow) {
		tm_tx_unref(tx);
		return -E2BIG;
	}
	pthread_mutex_lock(&tx->lock);
	r = px_tx_forward(px, tx, &t, idx, o->buf, o->len);
	pthread_mutex_unlock(&tx->lock);
	tm_tx_unref(tx);
	return r;
}

int proxy_send_stateless(struct proxy *px, const char *msg, size_t len,
			 struct sip_str next_hop)
{
	struct obuf *o = &uac_scratch;
	const char *eol = memmem(msg, len, "\r\n", 2);
	struct px_target t;
	struct tp_peer dst;
	const struct px_local *lo;
	char branch[TM_BRANCH_MAX];
	int idx;

	if (!eol || px_uri_target(next_hop, &t) != 0 ||
	    (idx = px_pick_local(px, &t, -1)) < 0)
		return -EHOSTUNREACH;
	lo = &px->local[idx];
	px_branch(branch, sizeof(branch), NULL, 0,
		  (uint64_t)(uintptr_t)msg ^ px->salt ^ tmr_now_ms());
	ob_reset(o);
	ob_mem(o, msg, (size_t)(eol - msg) + 2);
	ob_printf(o, "Via: SIP/2.0/%s %s:%u;branch=%s\r\n",
		  lo->proto == TP_TCP ? "TCP" :
		  lo->proto == TP_TLS ? "TLS" : "UDP", lo->adv_host,
		  lo->adv_port, branch);
	ob_mem(o, eol + 2, len - (size_t)(eol + 2 - msg));
	if (o->overflow)
		return -E2BIG;
	px_target_peer(&t, idx, &dst);
	return px_send(px, &dst, o->buf, o->len);
}
