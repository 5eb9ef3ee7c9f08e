/*
 * tp_tls_io.c - non-blocking SSL on the TCP connection machinery: the
 * handshake driven by the owner's loop, writes of the output buffer
 * through SSL_write, reads through SSL_read, each WANT_READ/WANT_WRITE
 * turned into the epoll mask (tp_conn_apply_mask reads hs_want_write and
 * rd_want_write).
 *
 * Every call into the SSL object is made under c->lock: senders on any
 * thread write, the owner reads and shakes hands, and OpenSSL does not
 * allow two threads on one SSL object at once.  The lock is never held
 * across the receive callback (tp_tcp_read.c calls tp_tls_read for the
 * bytes, then parses and delivers without it).
 *
 * Output always goes through c->out: SSL_write may stop half way, and
 * the retry must offer the same bytes again (SSL_MODE_ACCEPT_MOVING_
 * WRITE_BUFFER lets the buffer move when it grows or shifts).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/loop.h"
#include "core/stats.h"
#include "transport/tls_ctx.h"
#include "transport/tp_int.h"

/* Why SSL said no, for the log: the OpenSSL reason, or errno. */
static const char *ssl_why(int e, char *buf, size_t len)
{
	tls_err_str(buf, len);
	if (buf[0])
		return buf;
	if (e == SSL_ERROR_SYSCALL)
		snprintf(buf, len, "%s", errno ? strerror(errno) :
						 "the peer closed the connection");
	else if (e == SSL_ERROR_ZERO_RETURN)
		snprintf(buf, len, "the peer closed the connection");
	else
		snprintf(buf, len, "SSL error %d", e);
	return buf;
}

/* c->lock held: one step.  1 done, 0 waiting (mask set), -1 failed. */
static int handshake(struct transport *tp, struct tp_conn *c)
{
	int r, e;
	char why[200];

	ERR_clear_error();
	errno = 0;
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		c->hs_done = true;
		c->hs_want_write = false;
		tp_tls_established(tp, c);
		return 1;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		c->hs_want_write = false;
		return 0;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		c->hs_want_write = true;
		return 0;
	}
	tp_tls_failed(tp, c, ssl_why(e, why, sizeof(why)));
	return -1;
}

int tp_tls_flush(struct transport *tp, struct tp_conn *c)
{
	while (c->ooff < c->out.len) {
		size_t left = c->out.len - c->ooff;
		int n, e;

		ERR_clear_error();
		n = SSL_write(c->ssl, c->out.buf + c->ooff,
			      left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0) {
			c->ooff += (size_t)n;
			atomic_store_explicit(&c->last_active_ms, ev_now_ms(),
					      memory_order_relaxed);
			continue;
		}
		e = SSL_get_error(c->ssl, n);
		/* WANT_READ (a key update in flight): the read side, always
		 * watched while open, calls us again after its next read. */
		if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
			return 0;
		ERR_clear_error();
		atomic_store(&c->state, TP_CONN_DEAD);
		stat_inc(tp->st.snd_errors);
		return -EIO;
	}
	c->ooff = 0;
	ob_reset(&c->out);
	if (c->out.cap > 16384)
		ob_free(&c->out);
	return 0;
}

ssize_t tp_tls_read(struct tp_conn *c, char *buf, size_t len)
{
	int n, e;

	pthread_mutex_lock(&c->lock);
	ERR_clear_error();
	errno = 0;
	n = SSL_read(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (n > 0) {
		if (c->rd_want_write) {
			c->rd_want_write = false;
			tp_conn_apply_mask(c);
		}
		pthread_mutex_unlock(&c->lock);
		return n;
	}
	e = SSL_get_error(c->ssl, n);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		bool ww = e == SSL_ERROR_WANT_WRITE;

		if (ww != c->rd_want_write) {
			c->rd_want_write = ww;
			tp_conn_apply_mask(c);
		}
		/* A write that waited on this read may go on now (a failed
		 * one leaves the connection dead: the mask hands it over). */
		if (c->out.len > c->ooff) {
			(void)tp_tls_flush(c->owner->tp, c);
			tp_conn_apply_mask(c);
		}
		pthread_mutex_unlock(&c->lock);
		errno = EAGAIN;
		return -1;
	}
	ERR_clear_error();
	pthread_mutex_unlock(&c->lock);
	if (e == SSL_ERROR_ZERO_RETURN ||
	    (e == SSL_ERROR_SYSCALL && errno == 0))
		return 0;		/* close_notify, or a plain close */
	errno = EIO;
	return -1;
}

bool tp_tls_pending(struct tp_conn *c)
{
	bool p;

	pthread_mutex_lock(&c->lock);
	p = c->ssl && SSL_pending(c->ssl) > 0;
	pthread_mutex_unlock(&c->lock);
	return p;
}

/* c->lock held, outgoing: did connect() work?  Starts the handshake. */
static bool connected(struct transport *tp, struct tp_conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		stat_inc(tp->st.tcp_connect_failed);
		return false;
	}
	c->tcp_up = true;
	c->hs_start_ms = ev_now_ms();
	return true;
}

bool tp_tls_on_io(struct tp_worker *w, struct tp_conn *c, unsigned events)
{
	struct transport *tp = w->tp;
	bool opened = false, keep = true;
	int st;

	pthread_mutex_lock(&c->lock);
	st = atomic_load(&c->state);
	if (st == TP_CONN_CONNECTING) {
		int r;

		if (!c->tcp_up && !connected(tp, c))
			goto dead;
		r = handshake(tp, c);
		if (r < 0)
			goto dead;
		if (r == 0) {
			keep = tp_conn_apply_mask(c) == 0;
			pthread_mutex_unlock(&c->lock);
			return keep;
		}
		atomic_store(&c->state, TP_CONN_OPEN);
		st = TP_CONN_OPEN;
		opened = true;
	}
	if ((st == TP_CONN_OPEN || st == TP_CONN_DRAINING) &&
	    c->out.len > c->ooff && tp_tls_flush(tp, c) < 0) {
		pthread_mutex_unlock(&c->lock);
		return false;
	}
	st = atomic_load(&c->state);
	if (st == TP_CONN_DRAINING && c->out.len == c->ooff)
		keep = false;
	else if (st != TP_CONN_OPEN && st != TP_CONN_DRAINING)
		keep = false;
	else if (tp_conn_apply_mask(c) < 0)
		keep = false;
	pthread_mutex_unlock(&c->lock);
	if (!keep)
		return false;
	/* After the handshake, application data may already wait in SSL. */
	if (st == TP_CONN_OPEN &&
	    (opened || (events & EV_READ) || c->rd_want_write))
		return tp_conn_on_readable(w, c);
	return true;
dead:
	atomic_store(&c->state, TP_CONN_DEAD);
	if (c->out.len > c->ooff)
		stat_inc(tp->st.snd_errors);
	pthread_mutex_unlock(&c->lock);
	return false;
}
