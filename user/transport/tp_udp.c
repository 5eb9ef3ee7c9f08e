/*
 * tp_udp.c - SIP over UDP: many datagrams per system call.
 *
 * Receive: each worker reads its own SO_REUSEPORT socket with recvmmsg
 * into TP_UDP_BATCH buffers allocated once, parses every datagram into
 * the worker's scratch message and hands it to the receive callback.
 * Send: on a worker thread a datagram is copied into that worker's batch
 * for the socket (no lock: the batch is the worker's) and the batch goes
 * out with sendmmsg when it is full or before the loop sleeps; any other
 * thread uses a plain sendto on the listen entry's socket.
 * Nothing here allocates per datagram or takes a lock.
 */
#define LOG_TAG "transport"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "core/stats.h"
#include "transport/tp_int.h"

int tp_udp_worker_init(struct tp_worker *w)
{
	const struct transport *tp = w->tp;

	w->rbuf = malloc((size_t)TP_UDP_BATCH * TP_UDP_BUF);
	w->rmsgs = calloc(TP_UDP_BATCH, sizeof(*w->rmsgs));
	w->riov = calloc(TP_UDP_BATCH, sizeof(*w->riov));
	w->raddr = calloc(TP_UDP_BATCH, sizeof(*w->raddr));
	if (!w->rbuf || !w->rmsgs || !w->riov || !w->raddr)
		return -ENOMEM;
	for (unsigned i = 0; i < TP_UDP_BATCH; i++) {
		w->riov[i].iov_base = w->rbuf + (size_t)i * TP_UDP_BUF;
		w->riov[i].iov_len = TP_UDP_BUF;
		w->rmsgs[i].msg_hdr.msg_iov = &w->riov[i];
		w->rmsgs[i].msg_hdr.msg_iovlen = 1;
		w->rmsgs[i].msg_hdr.msg_name = &w->raddr[i];
	}
	for (size_t i = 0; i < tp->n_listen; i++) {
		if (tp->listen[i].proto != TP_UDP)
			continue;
		w->sb[i] = calloc(1, sizeof(*w->sb[i]));
		if (!w->sb[i])
			return -ENOMEM;
	}
	return 0;
}

void tp_udp_worker_free(struct tp_worker *w)
{
	for (size_t i = 0; i < CFG_MAX_LISTEN; i++) {
		free(w->sb[i]);
		w->sb[i] = NULL;
	}
	free(w->rbuf);
	free(w->rmsgs);
	free(w->riov);
	free(w->raddr);
	w->rbuf = NULL;
	w->rmsgs = NULL;
	w->riov = NULL;
	w->raddr = NULL;
}

/* Parse datagram @i of the last recvmmsg and deliver it. */
static void tp_udp_deliver(struct tp_worker *w, const struct tp_sock *s,
			   unsigned i)
{
	struct transport *tp = w->tp;
	const struct mmsghdr *m = &w->rmsgs[i];
	const char *buf = w->riov[i].iov_base;
	struct tp_rcv rcv;
	int r;

	if (m->msg_hdr.msg_flags & MSG_TRUNC) {
		/* Larger than any SIP message may be. */
		stat_inc(tp->st.rcv_malformed);
		return;
	}
	r = sip_msg_parse(w->msg, buf, m->msg_len, SIP_DATAGRAM, NULL);
	if (r) {
		if (w->msg->error == SIP_ERR_EMPTY) {
			stat_inc(tp->st.rcv_keepalives);
			return;
		}
		stat_inc(tp->st.rcv_malformed);
	}
	rcv.src.proto = TP_UDP;
	memcpy(&rcv.src.remote.ss, &w->raddr[i],
	       m->msg_hdr.msg_namelen <= sizeof(rcv.src.remote.ss) ?
		       m->msg_hdr.msg_namelen :
		       sizeof(rcv.src.remote.ss));
	rcv.src.remote.len = m->msg_hdr.msg_namelen;
	rcv.src.listen_idx = s->idx;
	rcv.src.conn_id = 0;
	rcv.src.tls_name[0] = '\0';
	rcv.buf = buf;
	rcv.len = m->msg_len;
	rcv.parse_rc = r;
	rcv.msg = w->msg;
	rcv.worker = w->idx;
	tp->fn(tp->ud, &rcv);
}

/*
 * The socket is readable: up to TP_UDP_ROUNDS batches, so that one busy
 * socket cannot starve the other sockets and the timers of the loop.
 */
void tp_udp_on_readable(struct ev_loop *loop, int fd, unsigned events,
			void *ud)
{
	struct tp_sock *s = ud;
	struct tp_worker *w = s->w;
	struct transport *tp = w->tp;

	for (unsigned round = 0; round < TP_UDP_ROUNDS; round++) {
		uint64_t bytes = 0;
		int n;

		for (unsigned i = 0; i < TP_UDP_BATCH; i++) {
			w->rmsgs[i].msg_hdr.msg_namelen = sizeof(w->raddr[i]);
			w->rmsgs[i].msg_hdr.msg_flags = 0;
		}
		n = recvmmsg(fd, w->rmsgs, TP_UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;	/* EAGAIN: drained; anything else: next wake */
		for (int i = 0; i < n; i++)
			bytes += w->rmsgs[i].msg_len;
		stat_add(tp->st.rcv_datagrams, n);
		stat_add(tp->st.rcv_bytes, (int64_t)bytes);
		for (int i = 0; i < n; i++)
			tp_udp_deliver(w, s, (unsigned)i);
		if (n < TP_UDP_BATCH)
			break;
	}
}

/* Send what worker @w batched for listen entry @idx. */
static void tp_udp_flush_one(struct tp_worker *w, size_t idx)
{
	struct tp_sbatch *sb = w->sb[idx];
	struct transport *tp = w->tp;
	unsigned off = 0, sent = 0, errs = 0;
	uint64_t bytes = 0;

	while (off < sb->n) {
		int r = sendmmsg(w->udp[idx].fd, sb->msgs + off, sb->n - off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* The datagram at @off failed: drop it, go on. */
			errs++;
			off++;
			continue;
		}
		for (unsigned i = off; i < off + (unsigned)r; i++)
			bytes += sb->msgs[i].msg_len;
		sent += (unsigned)r;
		off += (unsigned)r;
	}
	sb->n = 0;
	sb->used = 0;
	stat_add(tp->st.snd_datagrams, sent);
	stat_add(tp->st.snd_bytes, (int64_t)bytes);
	if (errs)
		stat_add(tp->st.snd_errors, errs);
}

void tp_udp_flush(struct tp_worker *w)
{
	for (size_t i = 0; i < w->tp->n_listen; i++)
		if (w->sb[i] && w->sb[i]->n)
			tp_udp_flush_one(w, i);
}

static socklen_t tp_sa_len(int family)
{
	return family == AF_INET6 ? sizeof(struct sockaddr_in6) :
				    sizeof(struct sockaddr_in);
}

int tp_udp_send(struct transport *tp, const struct tp_peer *dst,
		const char *buf, size_t len)
{
	int family = dst->remote.ss.ss_family;
	int idx = dst->listen_idx;
	const struct tp_listen *l;
	struct tp_worker *w;
	ssize_t n;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	if (idx < 0)
		idx = tp_listen_find(tp, TP_UDP, family);
	if (idx < 0)
		return -EAFNOSUPPORT;	/* no UDP socket of that family */
	if ((size_t)idx >= tp->n_listen || tp->listen[idx].proto != TP_UDP)
		return -EINVAL;
	l = &tp->listen[idx];
	if (l->addr.ss.ss_family != family)
		return -EAFNOSUPPORT;
	if (len > SIP_MSG_MAX)
		return -EMSGSIZE;

	w = tp_self_worker(tp);
	if (w) {
		struct tp_sbatch *sb = w->sb[idx];
		struct mmsghdr *m;

		if (sb->n == TP_UDP_BATCH || sb->used + len > TP_UDP_ARENA)
			tp_udp_flush_one(w, (size_t)idx);
		memcpy(sb->arena + sb->used, buf, len);
		memcpy(&sb->to[sb->n], &dst->remote.ss, tp_sa_len(family));
		sb->iov[sb->n] = (struct iovec){ sb->arena + sb->used, len };
		m = &sb->msgs[sb->n];
		m->msg_hdr = (struct msghdr){
			.msg_name = &sb->to[sb->n],
			.msg_namelen = tp_sa_len(family),
			.msg_iov = &sb->iov[sb->n],
			.msg_iovlen = 1,
		};
		m->msg_len = 0;
		sb->used += len;
		sb->n++;
		return 0;
	}
	n = sendto(l->tx_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL,
		   (const struct sockaddr *)&dst->remote.ss, tp_sa_len(family));
	if (n < 0) {
		int r = -errno;

		stat_inc(tp->st.snd_errors);
		return r;
	}
	stat_inc(tp->st.snd_datagrams);
	stat_add(tp->st.snd_bytes, n);
	return 0;
}
