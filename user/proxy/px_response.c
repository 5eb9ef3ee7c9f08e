/*
 * px_response.c - the response path (RFC 3261 16.7): match the client
 * transaction by our Via branch and let its state machine pass the
 * response upstream.  A response with our Via on top whose transaction
 * is gone (or never was: the kernel relayed its request) is forwarded
 * statelessly by the next Via (16.7 item 3, 16.11; RFC 6026).
 */
#define LOG_TAG "proxy"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/stats.h"
#include "proxy/px_internal.h"

static _Thread_local struct obuf rs_scratch;

/* The address the second Via names (received, rport, sent-by). */
static int via2_peer(const struct sip_msg *m, struct tp_peer *out)
{
	struct sip_value_iter it;
	struct sip_via v;
	char host[64];
	struct sip_str h;
	uint16_t port;

	sip_value_iter_init(&it, m, SIP_HDR_VIA);
	if (sip_value_next_via(&it, &v) != 1 ||
	    sip_value_next_via(&it, &v) != 1)
		return -1;
	h = sip_str_present(v.received) && v.received.len ? v.received : v.host;
	if (h.len >= sizeof(host))
		return -1;
	memcpy(host, h.p, h.len);
	host[h.len] = '\0';
	port = v.has_rport_value ? v.rport_value :
				   (v.has_port ? v.port :
				    v.transport == SIP_TP_TLS ? 5061 : 5060);
	memset(out, 0, sizeof(*out));
	out->listen_idx = -1;
	out->proto = v.transport == SIP_TP_TCP ? TP_TCP :
		     v.transport == SIP_TP_TLS ? TP_TLS : TP_UDP;
	if (strchr(host, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->remote.ss;
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return -1;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		out->remote.len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&out->remote.ss;
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -1;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		out->remote.len = sizeof(*s4);
	}
	return 0;
}

void px_on_response(struct proxy *px, struct tp_rcv *rcv)
{
	const struct sip_msg *m = rcv->msg;
	struct sip_str br = m->via.branch;
	struct tm_tx *tx = NULL;

	stat_inc(px->s.rcv_replies);
	if (br.len > strlen(PX_BRANCH_OURS) &&
	    memcmp(br.p, PX_BRANCH_OURS, strlen(PX_BRANCH_OURS)) == 0 &&
	    px_via_is_ours(px, &m->via))
		tx = tm_lookup_client(px->tm, br.p, br.len);
	if (!tx) {
		struct tp_peer dst;

		/* No transaction (RFC 3261 16.7 item 3): forwarded as a
		 * stateless proxy does (16.11) when the top Via is ours: a
		 * 2xx retransmitted after the INVITE transaction ended (RFC
		 * 6026), a late reply, and every reply to a request the
		 * kernel relayed (its Via carries our sent-by and a
		 * z9hG4bKsd branch, and the controller never saw it).  A
		 * reply to a request we made ourselves has no second Via:
		 * it ends here. */
		if (br.len > strlen(PX_BRANCH_OURS) &&
		    memcmp(br.p, PX_BRANCH_OURS, strlen(PX_BRANCH_OURS)) == 0 &&
		    px_via_is_ours(px, &m->via) &&
		    via2_peer(m, &dst) == 0 &&
		    pxb_response_fwd(&rs_scratch, m) == 0 &&
		    px_send(px, &dst, rs_scratch.buf, rs_scratch.len) == 0) {
			stat_inc(px->s.fwd_replies);
			return;
		}
		stat_inc(px->s.drop_replies);
		return;
	}
	pthread_mutex_lock(&tx->lock);
	px_tx_on_response(px, tx, m, rcv->buf, rcv->len);
	pthread_mutex_unlock(&tx->lock);
	tm_tx_unref(tx);
}
