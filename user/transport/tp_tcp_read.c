/*
 * tp_tcp_read.c - the receive side of a SIP-over-TCP connection: read,
 * frame by Content-Length (sip_msg_parse in SIP_STREAM mode), deliver,
 * keep the unparsed rest; answer CRLFCRLF keep-alive pings (RFC 5626).
 * Runs on the connection's owner only, without holding its lock while
 * the callback runs.  A framing error is delivered (so the proxy can
 * answer 400), then the connection drains its output and closes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/stats.h"
#include "transport/tp_int.h"

/*
 * Whether the header section of the message at @p is complete (an empty
 * line, CRLF or bare LF).  *scan remembers how far a previous call looked,
 * so bytes trickling in are not searched again and again.
 */
static bool hdr_end_found(const char *p, size_t n, size_t *scan)
{
	size_t i = *scan;

	while (i < n) {
		const char *lf = memchr(p + i, '\n', n - i);

		if (!lf)
			break;
		i = (size_t)(lf - p) + 1;
		if (i < n && p[i] == '\n')
			return true;
		if (i + 1 < n && p[i] == '\r' && p[i + 1] == '\n')
			return true;
		if (i + 1 >= n)
			break;	/* "\n" or "\n\r" at the end: look again */
	}
	*scan = n >= 2 ? n - 2 : 0;
	return false;
}

static void conn_deliver(struct tp_worker *w, struct tp_conn *c,
			 const char *buf, size_t len, int rc)
{
	struct transport *tp = w->tp;
	struct tp_rcv rcv = {
		.src = { .proto = c->ssl ? TP_TLS : TP_TCP, .remote = c->remote,
			 .listen_idx = c->listen_idx, .conn_id = c->id },
		.buf = buf,
		.len = len,
		.parse_rc = rc,
		.msg = w->msg,
		.worker = w->idx,
	};

	tp->fn(tp->ud, &rcv);
}

/* RFC 5626 keep-alive: a CRLFCRLF ping gets a CRLF pong. */
static void conn_pong(struct transport *tp, struct tp_conn *c)
{
	pthread_mutex_lock(&c->lock);
	(void)tp_conn_queue(tp, c, "\r\n", 2);
	pthread_mutex_unlock(&c->lock);
}

/* A message or a ping went through: the connection is not idle. */
static void conn_active(struct tp_conn *c)
{
	atomic_store_explicit(&c->last_active_ms, ev_now_ms(),
			      memory_order_relaxed);
}

/*
 * Frame and deliver every whole message in the input buffer; keep the
 * rest.  Returns false when the connection must be closed now.
 *
 * Only whole messages and pings count as activity for the idle timeout;
 * the bytes of a message in progress run against the message deadline
 * instead (msg_start_ms, checked by the owner's timer), which later bytes
 * do not move: a peer trickling a byte now and then keeps neither alive.
 */
static bool conn_parse(struct tp_worker *w, struct tp_conn *c)
{
	struct transport *tp = w->tp;
	size_t off = 0;
	bool bad = false, moved = false;

	while (off < c->ilen && atomic_load(&c->state) == TP_CONN_OPEN) {
		const char *p = c->ibuf + off;
		size_t avail = c->ilen - off, k = 0, used = 0;
		int r;

		while (k < avail && (p[k] == '\r' || p[k] == '\n'))
			k++;
		if (k) {
			/* Counted across reads: the ping may come in parts. */
			c->crlf += (unsigned)k;
			if (c->crlf >= 4) {
				stat_inc(tp->st.rcv_keepalives);
				conn_pong(tp, c);
				conn_active(c);
				c->crlf = 0;
			}
			off += k;
			c->scan = 0;
			c->hdr_seen = false;
			continue;
		}
		c->crlf = 0;
		if (!c->hdr_seen && avail <= SIP_MSG_MAX &&
		    !hdr_end_found(p, avail, &c->scan))
			break;
		r = sip_msg_parse(w->msg, p, avail, SIP_STREAM, &used);
		if (r == -EAGAIN) {
			c->hdr_seen = true;
			break;
		}
		if (r) {
			stat_inc(tp->st.rcv_malformed);
			stat_inc(tp->st.tcp_framing_errors);
			conn_deliver(w, c, p, avail, r);
			bad = true;
			off = c->ilen;
			break;
		}
		stat_inc(tp->st.rcv_tcp_msgs);
		conn_active(c);
		if (!c->proven)
			tp_guard_proven(tp, c);
		moved = true;
		conn_deliver(w, c, p, used, 0);
		off += used;
		c->scan = 0;
		c->hdr_seen = false;
	}
	if (off) {
		memmove(c->ibuf, c->ibuf + off, c->ilen - off);
		c->ilen -= off;
	}
	/* What is left starts a message (CR/LF were eaten above); its first
	 * byte came in this read if a message ended in it. */
	if (c->ilen == 0)
		c->msg_start_ms = 0;
	else if (!c->msg_start_ms || moved)
		c->msg_start_ms = ev_now_ms();
	if (!bad && c->ilen >= TP_TCP_MAX_IN) {
		/* Cannot happen with a parser that says TOO_BIG; be sure. */
		stat_inc(tp->st.tcp_framing_errors);
		return false;
	}
	if (bad) {
		/* Framing is lost: flush what the callback answered, close. */
		bool keep;

		pthread_mutex_lock(&c->lock);
		if (atomic_load(&c->state) == TP_CONN_OPEN)
			atomic_store(&c->state, TP_CONN_DRAINING);
		keep = atomic_load(&c->state) == TP_CONN_DRAINING &&
		       c->out.len > c->ooff && tp_conn_apply_mask(c) == 0;
		pthread_mutex_unlock(&c->lock);
		return keep;
	}
	return true;
}

/*
 * Owner: the socket is readable.  Reads again while reads fill the
 * buffer, up to TP_TCP_READS times.  False: close it.
 */
bool tp_conn_on_readable(struct tp_worker *w, struct tp_conn *c)
{
	/* TLS reads until SSL wants more from the socket: a record only
	 * partly read stays inside SSL, where epoll cannot see it. */
	int rounds = c->ssl ? TP_TLS_READS : TP_TCP_READS, round;

	for (round = 0; round < rounds; round++) {
		size_t room;
		ssize_t n;

		if (atomic_load(&c->state) != TP_CONN_OPEN)
			return true;	/* draining or dead: not read again */
		if (c->ilen == c->icap) {
			size_t cap = c->icap ? c->icap * 2 : TP_TCP_IN_INIT;
			char *p;

			if (cap > TP_TCP_MAX_IN)
				cap = TP_TCP_MAX_IN;
			if (cap == c->icap)
				return false;
			p = realloc(c->ibuf, cap);
			if (!p)
				return false;
			c->ibuf = p;
			c->icap = cap;
		}
		room = c->icap - c->ilen;
		n = c->ssl ? tp_tls_read(c, c->ibuf + c->ilen, room) :
			     read(c->fd, c->ibuf + c->ilen, room);
		if (n == 0)
			return false;	/* the peer closed */
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				return false;
			break;	/* all read (TLS: SSL wants more bytes) */
		}
		c->ilen += (size_t)n;
		stat_add(w->tp->st.rcv_bytes, n);
		if (!conn_parse(w, c))
			return false;
		if ((size_t)n < room && !c->ssl)
			break;
	}
	if (c->ssl && round == rounds && atomic_load(&c->state) == TP_CONN_OPEN) {
		/* Our share of this wake-up is used: come back later. */
		pthread_mutex_lock(&c->lock);
		tp_conn_revisit(c);
		pthread_mutex_unlock(&c->lock);
	}
	if (c->ilen == 0 && c->icap > TP_TCP_IN_INIT) {
		/* A big message went through: give the memory back. */
		free(c->ibuf);
		c->ibuf = NULL;
		c->icap = 0;
	}
	return true;
}
