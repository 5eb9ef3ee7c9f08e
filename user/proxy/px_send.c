/*
 * px_send.c - sending, where responses go (RFC 3261 18.2.2, RFC 3581), and
 * stateless local replies.
 */
#include <errno.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "core/stats.h"
#include "proxy/px_internal.h"

static _Thread_local struct obuf px_scratch;

int px_send(struct proxy *px, const struct tp_peer *dst, const char *buf,
	    size_t len)
{
	int r = tp_send(px->tp, dst, buf, len);

	if (r)
		stat_inc(px->s.send_errors);
	return r;
}

/*
 * UDP: with rport, back to the source address and port; otherwise to the
 * source address and the sent-by port (the received address is always
 * the source here).  TCP: back on the connection.
 */
void px_reply_peer(const struct sip_via *via, const struct tp_peer *src,
		   struct tp_peer *out)
{
	*out = *src;
	if (src->proto != TP_UDP || sip_str_present(via->rport))
		return;
	uint16_t port = via->has_port ? via->port : 5060;
	if (out->remote.ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&out->remote.ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&out->remote.ss)->sin_port = htons(port);
}

void px_reply_stateless(struct proxy *px, const struct sip_msg *m,
			const struct tp_peer *src, int code,
			const char *reason)
{
	px_reply_stateless_hdrs(px, m, src, code, reason, NULL);
}

void px_reply_stateless_hdrs(struct proxy *px, const struct sip_msg *m,
			     const struct tp_peer *src, int code,
			     const char *reason, const char *extra)
{
	struct obuf *o = &px_scratch;
	struct tp_peer dst;
	char tag[24];

	/* A stable tag for a stateless answer: retransmissions get the same. */
	snprintf(tag, sizeof(tag), "sl%08x",
		 (unsigned)(m->call_id.len * 2654435761u ^ m->cseq.num ^
			    (unsigned)px->salt));
	if (pxb_reply_hdrs(o, m, src, code, reason, tag, extra) != 0)
		return;
	px_reply_peer(&m->via, src, &dst);
	if (px_send(px, &dst, o->buf, o->len) == 0)
		stat_inc(px->s.local_replies);
}
