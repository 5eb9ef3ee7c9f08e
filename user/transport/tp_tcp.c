/*
 * tp_tcp.c - SIP over TCP: accept and connect, framing by Content-Length,
 * output buffers, the idle timeout and the caps.
 *
 * A connection belongs to one worker (tp_int.h has the rules): accepted
 * ones to the worker whose SO_REUSEPORT listener took them, outgoing ones
 * to the calling worker or, from another thread, to the next worker in
 * turn.  Any thread may send: under the connection's lock it writes
 * straight to the non-blocking socket when nothing is queued, else it
 * appends to the output buffer and asks the owner to watch for
 * writability ("kick": directly on the owner's thread, through the owner's
 * inbox and eventfd from elsewhere).  Only the owner reads, frames and
 * closes; a connection that failed under another thread is marked dead
 * and closed by its owner.  Reading and framing live in tp_tcp_read.c.
 */
#define LOG_TAG "transport"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/stats.h"
#include "transport/tp_int.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static void conn_io(struct ev_loop *loop, int fd, unsigned events, void *ud);

/* --- the table of open connections (tp->conn_lock) ------------------------ */

int tp_tcp_init(struct transport *tp)
{
	tp->by_id = calloc(TP_CONN_BUCKETS, sizeof(*tp->by_id));
	tp->by_addr = calloc(TP_CONN_BUCKETS, sizeof(*tp->by_addr));
	if (!tp->by_id || !tp->by_addr)
		return -ENOMEM;
	if (pthread_mutex_init(&tp->conn_lock, NULL) != 0)
		return -ENOMEM;
	tp->conn_lock_init = true;
	tp->next_conn_id = 1;
	return tp_guard_init(tp);
}

static struct tp_conn **tbl_id_head(struct transport *tp, uint64_t id)
{
	return &tp->by_id[id & (TP_CONN_BUCKETS - 1)];
}

static struct tp_conn **tbl_addr_head(struct transport *tp,
				      const struct tp_addr *a)
{
	return &tp->by_addr[tp_addr_hash(a) & (TP_CONN_BUCKETS - 1)];
}

static bool conn_usable(const struct tp_conn *c)
{
	int st = atomic_load(&c->state);

	return st == TP_CONN_OPEN || st == TP_CONN_CONNECTING;
}

static struct tp_conn *tbl_find_id(struct transport *tp, uint64_t id)
{
	for (struct tp_conn *c = *tbl_id_head(tp, id); c; c = c->id_next)
		if (c->id == id)
			return c;
	return NULL;
}

/* @tls: a TLS connection is never reused for plain TCP, nor the reverse. */
static struct tp_conn *tbl_find_addr(struct transport *tp,
				     const struct tp_addr *a, bool tls,
				     const char *name)
{
	/* TLS: a connection verified for one name is not one to another
	 * name at the same address (nor to the bare address). */
	for (struct tp_conn *c = *tbl_addr_head(tp, a); c; c = c->addr_next)
		if (conn_usable(c) && (c->ssl != NULL) == tls &&
		    tp_addr_equal(&c->remote, a) &&
		    (!tls || strcmp(c->tls_name, name) == 0))
			return c;
	return NULL;
}

/* Caller holds conn_lock and has checked the cap. */
static void tbl_insert(struct transport *tp, struct tp_conn *c)
{
	struct tp_conn **h;

	c->id = tp->next_conn_id++;
	h = tbl_id_head(tp, c->id);
	c->id_next = *h;
	*h = c;
	h = tbl_addr_head(tp, &c->remote);
	c->addr_next = *h;
	*h = c;
	tp->n_conns++;
	stat_inc(tp->st.tcp_connections);
	stat_inc(tp->st.tcp_open);
}

static void tbl_remove(struct transport *tp, struct tp_conn *c)
{
	struct tp_conn **pp;

	for (pp = tbl_id_head(tp, c->id); *pp; pp = &(*pp)->id_next)
		if (*pp == c) {
			*pp = c->id_next;
			break;
		}
	for (pp = tbl_addr_head(tp, &c->remote); *pp; pp = &(*pp)->addr_next)
		if (*pp == c) {
			*pp = c->addr_next;
			break;
		}
	tp->n_conns--;
	if (!c->outgoing)
		tp_guard_release(tp, c);
}

/* --- life of a connection ------------------------------------------------- */

static struct tp_conn *conn_new(int fd, struct tp_worker *owner,
				const struct tp_addr *remote, int listen_idx,
				int state)
{
	struct tp_conn *c = calloc(1, sizeof(*c));
	uint64_t now = ev_now_ms();

	if (!c)
		return NULL;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return NULL;
	}
	c->fd = fd;
	ob_init(&c->out, OBUF_UNLIMITED);	/* lim.max_out_bytes applies */
	c->owner = owner;
	c->remote = *remote;
	c->listen_idx = listen_idx;
	c->created_ms = now;
	atomic_init(&c->last_active_ms, now);
	atomic_init(&c->state, state);
	return c;
}

static void conn_destroy(struct tp_conn *c)
{
	SSL_free(c->ssl);	/* NULL-safe; sends nothing */
	close(c->fd);
	ob_free(&c->out);
	free(c->ibuf);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Owner thread, no lock held: unlink everywhere, close, free. */
static void conn_close(struct tp_worker *w, struct tp_conn *c)
{
	struct transport *tp = w->tp;

	pthread_mutex_lock(&tp->conn_lock);
	tbl_remove(tp, c);
	pthread_mutex_unlock(&tp->conn_lock);
	/* A sender that found it before holds its lock: wait for it. */
	pthread_mutex_lock(&c->lock);
	atomic_store(&c->state, TP_CONN_CLOSED);
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_lock(&w->inbox_lock);
	if (c->in_inbox) {
		if (c->inbox_prev)
			c->inbox_prev->inbox_next = c->inbox_next;
		else
			w->inbox = c->inbox_next;
		if (c->inbox_next)
			c->inbox_next->inbox_prev = c->inbox_prev;
		c->in_inbox = false;
	}
	pthread_mutex_unlock(&w->inbox_lock);
	if (c->registered) {
		ev_file_del(w->loop, c->fd);
		if (c->prev)
			c->prev->next = c->next;
		else
			w->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
	}
	stat_dec(tp->st.tcp_open);
	conn_destroy(c);
}

/* Any thread, c->lock held: ask the owner to look at @c. */
static void inbox_push(struct tp_conn *c, bool wake)
{
	struct tp_worker *w = c->owner;
	bool was_empty = false;

	pthread_mutex_lock(&w->inbox_lock);
	if (!c->in_inbox) {
		was_empty = !w->inbox;
		c->inbox_prev = NULL;
		c->inbox_next = w->inbox;
		if (w->inbox)
			w->inbox->inbox_prev = c;
		w->inbox = c;
		c->in_inbox = true;
	}
	pthread_mutex_unlock(&w->inbox_lock);
	if (wake && was_empty) {
		uint64_t one = 1;
		ssize_t r = write(w->wake_fd, &one, sizeof(one));

		(void)r;	/* EAGAIN: the counter is already non-zero */
	}
}

/*
 * Owner thread, c->lock held: watch what the state asks for.  A
 * connection to be closed goes to the inbox, so the close happens outside
 * whatever callback is on the stack.  0, or -errno from epoll.
 */
int tp_conn_apply_mask(struct tp_conn *c)
{
	int st = atomic_load(&c->state);
	bool pending = c->out.len > c->ooff;
	unsigned mask = 0;
	int r;

	if (st == TP_CONN_CONNECTING && c->ssl && c->tcp_up)
		mask = c->hs_want_write ? EV_WRITE : EV_READ;	/* handshake */
	else if (st == TP_CONN_CONNECTING)
		mask = EV_WRITE;
	else if (st == TP_CONN_OPEN)
		mask = EV_READ | (pending || c->rd_want_write ? EV_WRITE : 0);
	else if (st == TP_CONN_DRAINING && pending)
		mask = EV_WRITE;
	if (!mask) {
		inbox_push(c, false);
		return 0;
	}
	if (mask == c->ev_mask)
		return 0;
	r = ev_file_add(c->owner->loop, c->fd, mask, conn_io, c);
	if (r)
		return r;
	c->ev_mask = mask;
	return 0;
}

/* Any thread, c->lock held: the owner must look at @c (mask or close). */
void tp_conn_kick(struct tp_conn *c)
{
	struct tp_worker *self = tp_self_worker(c->owner->tp);

	if (self == c->owner && c->registered) {
		if (tp_conn_apply_mask(c) < 0) {
			atomic_store(&c->state, TP_CONN_DEAD);
			inbox_push(c, false);
		}
		return;
	}
	inbox_push(c, self != c->owner);
}

void tp_conn_revisit(struct tp_conn *c)
{
	inbox_push(c, tp_self_worker(c->owner->tp) != c->owner);
}

/* Owner thread, no lock held: adopt, re-arm or close what the inbox holds. */
static void conn_service(struct tp_worker *w, struct tp_conn *c)
{
	int st;

	pthread_mutex_lock(&c->lock);
	if (!c->registered) {
		c->registered = true;
		c->prev = NULL;
		c->next = w->conns;
		if (w->conns)
			w->conns->prev = c;
		w->conns = c;
	}
	st = atomic_load(&c->state);
	if (st == TP_CONN_DEAD ||
	    (st == TP_CONN_DRAINING && c->out.len == c->ooff) ||
	    tp_conn_apply_mask(c) < 0) {
		pthread_mutex_unlock(&c->lock);
		conn_close(w, c);
		return;
	}
	pthread_mutex_unlock(&c->lock);
	/* TLS: records left decrypted in SSL by a read that stopped. */
	if (c->ssl && st == TP_CONN_OPEN && tp_tls_pending(c) &&
	    !tp_conn_on_readable(w, c))
		conn_close(w, c);
}

void tp_tcp_inbox_run(struct tp_worker *w)
{
	for (;;) {
		struct tp_conn *c;

		pthread_mutex_lock(&w->inbox_lock);
		c = w->inbox;
		if (c) {
			w->inbox = c->inbox_next;
			if (w->inbox)
				w->inbox->inbox_prev = NULL;
			c->in_inbox = false;
		}
		pthread_mutex_unlock(&w->inbox_lock);
		if (!c)
			return;
		conn_service(w, c);
	}
}

void tp_tcp_on_wake(struct ev_loop *loop, int fd, unsigned events, void *ud)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
	tp_tcp_inbox_run(ud);
}

/* --- output --------------------------------------------------------------- */

/* c->lock held: append to the output buffer (the cap is checked). */
static int conn_append(struct tp_conn *c, const char *buf, size_t len)
{
	/* Sent bytes at the front make room before the buffer grows. */
	if (c->ooff && c->out.len + len > c->out.cap) {
		ob_shift(&c->out, c->ooff);
		c->ooff = 0;
	}
	ob_mem(&c->out, buf, len);
	if (c->out.overflow) {
		c->out.overflow = false;	/* the bytes before are intact */
		return -ENOMEM;
	}
	return 0;
}

/* c->lock held: write what is queued.  0 or -errno (then DEAD). */
static int conn_flush(struct transport *tp, struct tp_conn *c)
{
	if (c->ssl)
		return tp_tls_flush(tp, c);
	while (c->ooff < c->out.len) {
		ssize_t n = send(c->fd, c->out.buf + c->ooff, c->out.len - c->ooff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			n = -errno;
			atomic_store(&c->state, TP_CONN_DEAD);
			stat_inc(tp->st.snd_errors);
			return (int)n;
		}
		c->ooff += (size_t)n;
		atomic_store_explicit(&c->last_active_ms, ev_now_ms(),
				      memory_order_relaxed);
	}
	c->ooff = 0;
	ob_reset(&c->out);
	if (c->out.cap > 16384)
		ob_free(&c->out);
	return 0;
}

/*
 * Any thread, c->lock held: send @buf on @c, straight to the socket when
 * nothing waits before it, else behind what is queued.
 */
int tp_conn_queue(struct transport *tp, struct tp_conn *c, const char *buf,
		  size_t len)
{
	int st = atomic_load(&c->state);
	size_t done = 0;
	int r;

	if (st != TP_CONN_OPEN && st != TP_CONN_CONNECTING)
		return -ENOTCONN;
	if (c->out.len - c->ooff + len > tp->lim.max_out_bytes) {
		stat_inc(tp->st.tcp_buffer_full);
		stat_inc(tp->st.snd_errors);
		return -ENOBUFS;
	}
	if (c->ssl) {
		/* TLS: through the buffer, which SSL_write may retry from. */
		r = conn_append(c, buf, len);
		if (!r && st == TP_CONN_OPEN)
			r = tp_tls_flush(tp, c);
		if (r) {
			if (r == -ENOMEM)
				stat_inc(tp->st.snd_errors);
			tp_conn_kick(c);
			return r;
		}
		if (c->out.len > c->ooff || !c->registered)
			tp_conn_kick(c);
		stat_inc(tp->st.snd_tcp_msgs);
		stat_add(tp->st.snd_bytes, (int64_t)len);
		return 0;
	}
	if (st == TP_CONN_OPEN && c->out.len == c->ooff) {
		while (done < len) {
			ssize_t n = send(c->fd, buf + done, len - done,
					 MSG_NOSIGNAL | MSG_DONTWAIT);

			if (n >= 0) {
				done += (size_t)n;
				continue;
			}
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			r = -errno;
			atomic_store(&c->state, TP_CONN_DEAD);
			stat_inc(tp->st.snd_errors);
			tp_conn_kick(c);
			return r;
		}
		atomic_store_explicit(&c->last_active_ms, ev_now_ms(),
				      memory_order_relaxed);
	}
	if (done < len) {
		r = conn_append(c, buf + done, len - done);
		if (r) {
			/* Part of it went out: the stream is torn. */
			if (done)
				atomic_store(&c->state, TP_CONN_DEAD);
			stat_inc(tp->st.snd_errors);
			tp_conn_kick(c);
			return r;
		}
	}
	if (done < len || !c->registered)
		tp_conn_kick(c);
	stat_inc(tp->st.snd_tcp_msgs);
	stat_add(tp->st.snd_bytes, (int64_t)len);
	return 0;
}

/*
 * conn_lock held: open a connection to dst->remote, in the table and in
 * its owner's inbox.  0 with *out set, or -errno.
 */
static int conn_connect(struct transport *tp, const struct tp_peer *dst,
			struct tp_conn **out)
{
	int family = dst->remote.ss.ss_family;
	int idx = dst->listen_idx, fd, one = 1, state, r;
	socklen_t salen = family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					       sizeof(struct sockaddr_in);
	struct tp_worker *owner;
	struct tp_conn *c;

	if (tp->n_conns >= tp->lim.max_conns) {
		char name[96];

		stat_inc(tp->st.tcp_refused);
		tp_guard_log(tp, TP_GUARD_FULL, "tcp: no connection to %s: "
			     "max_connections (%u) are open",
			     tp_addr_str(TP_TCP, &dst->remote, name,
					 sizeof(name)),
			     tp->lim.max_conns);
		return -ENOBUFS;
	}
	if (idx < 0 || (size_t)idx >= tp->n_listen ||
	    tp->listen[idx].proto != dst->proto ||
	    tp->listen[idx].addr.ss.ss_family != family)
		idx = tp_listen_find(tp, dst->proto, family);
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (idx >= 0 && !tp_addr_is_any(&tp->listen[idx].addr)) {
		/* Leave from the listen address; the port is picked later. */
		struct tp_addr local = tp->listen[idx].addr;

		tp_addr_set_port(&local, 0);
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
			   sizeof(one));
		if (bind(fd, (struct sockaddr *)&local.ss, local.len) < 0)
			goto fail;
	}
	if (connect(fd, (const struct sockaddr *)&dst->remote.ss, salen) == 0)
		state = TP_CONN_OPEN;
	else if (errno == EINPROGRESS)
		state = TP_CONN_CONNECTING;
	else
		goto fail;
	owner = tp_self_worker(tp);
	if (!owner)
		owner = &tp->workers[atomic_fetch_add(&tp->rr, 1) %
				     tp->n_workers];
	c = conn_new(fd, owner, &dst->remote, idx, state);
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->remote.len = salen;
	c->outgoing = true;
	c->proven = true;	/* ours: never on the unproven list */
	if (dst->proto == TP_TLS) {
		/* Queued bytes wait for the handshake, not only connect(). */
		c->tcp_up = state == TP_CONN_OPEN;
		c->hs_want_write = true;	/* the ClientHello is ours */
		atomic_store(&c->state, TP_CONN_CONNECTING);
		snprintf(c->tls_name, sizeof(c->tls_name), "%s",
			 dst->tls_name);
		r = tp_tls_conn_init(tp, c, false);
		if (r) {
			conn_destroy(c);
			stat_inc(tp->st.tcp_connect_failed);
			return r;
		}
	}
	tbl_insert(tp, c);
	*out = c;
	return 0;
fail:
	r = -errno;
	close(fd);
	stat_inc(tp->st.tcp_connect_failed);
	return r;
}

int tp_tcp_send(struct transport *tp, const struct tp_peer *dst,
		const char *buf, size_t len)
{
	int family = dst->remote.ss.ss_family;
	struct tp_conn *c = NULL;
	int r;

	pthread_mutex_lock(&tp->conn_lock);
	if (dst->conn_id) {
		c = tbl_find_id(tp, dst->conn_id);
		if (c && !conn_usable(c))
			c = NULL;
	}
	if (c && (c->ssl != NULL) != (dst->proto == TP_TLS))
		c = NULL;
	if (!c && (family == AF_INET || family == AF_INET6))
		c = tbl_find_addr(tp, &dst->remote, dst->proto == TP_TLS,
				  dst->tls_name);
	if (!c) {
		if (family != AF_INET && family != AF_INET6) {
			pthread_mutex_unlock(&tp->conn_lock);
			return dst->conn_id ? -ENOTCONN : -EAFNOSUPPORT;
		}
		r = conn_connect(tp, dst, &c);
		if (r) {
			pthread_mutex_unlock(&tp->conn_lock);
			stat_inc(tp->st.snd_errors);
			return r;
		}
	}
	pthread_mutex_lock(&c->lock);
	pthread_mutex_unlock(&tp->conn_lock);
	r = tp_conn_queue(tp, c, buf, len);
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* Owner: the socket is writable (or failed).  False: close it. */
static bool conn_on_writable(struct tp_worker *w, struct tp_conn *c)
{
	struct transport *tp = w->tp;
	bool keep = true;

	pthread_mutex_lock(&c->lock);
	if (atomic_load(&c->state) == TP_CONN_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			atomic_store(&c->state, TP_CONN_DEAD);
			stat_inc(tp->st.tcp_connect_failed);
			if (c->out.len > c->ooff)
				stat_inc(tp->st.snd_errors);
			pthread_mutex_unlock(&c->lock);
			return false;
		}
		atomic_store(&c->state, TP_CONN_OPEN);
	}
	if (conn_flush(tp, c) < 0)
		keep = false;
	else if (atomic_load(&c->state) == TP_CONN_DRAINING &&
		 c->out.len == c->ooff)
		keep = false;
	else if (tp_conn_apply_mask(c) < 0)
		keep = false;
	pthread_mutex_unlock(&c->lock);
	return keep;
}

static void conn_io(struct ev_loop *loop, int fd, unsigned events, void *ud)
{
	struct tp_conn *c = ud;
	struct tp_worker *w = c->owner;

	if (c->ssl) {
		if (!tp_tls_on_io(w, c, events))
			conn_close(w, c);
		return;
	}
	if ((events & EV_WRITE) && !conn_on_writable(w, c)) {
		conn_close(w, c);
		return;
	}
	if ((events & EV_READ) && !tp_conn_on_readable(w, c))
		conn_close(w, c);
}

/* --- accept --------------------------------------------------------------- */

static int64_t accept_rearm(struct ev_loop *loop, uint64_t id, void *ud)
{
	struct tp_sock *s = ud;

	if (ev_file_add(loop, s->fd, EV_READ, tp_tcp_on_accept, s) < 0)
		return 100;
	return -1;
}

/* Count and (rate-limited) log a connection tp_guard_admit() refused. */
static void accept_refused(struct transport *tp, const struct tp_addr *ra,
			   enum tp_refusal why, uint32_t n_src)
{
	char name[96], src[64];

	tp_addr_str(TP_TCP, ra, name, sizeof(name));
	stat_inc(tp->st.tcp_refused);
	switch (why) {
	case TP_REFUSE_SOURCE:
		stat_inc(tp->st.tcp_refused_per_source);
		tp_guard_log(tp, TP_GUARD_SOURCE, "tcp: refused a connection "
			     "from %s: source %s has %u open "
			     "(max_connections_per_source)", name,
			     tp_guard_source_str(ra, src, sizeof(src)), n_src);
		break;
	case TP_REFUSE_INBOUND:
		stat_inc(tp->st.tcp_refused_inbound);
		tp_guard_log(tp, TP_GUARD_INBOUND, "tcp: refused a connection "
			     "from %s: clients hold %u connections, the rest "
			     "of max_connections is reserved_outbound (%u)",
			     name, tp->lim.max_conns - tp->lim.reserved_out,
			     tp->lim.reserved_out);
		break;
	default:
		tp_guard_log(tp, TP_GUARD_FULL, "tcp: refused a connection "
			     "from %s: max_connections (%u) are open", name,
			     tp->lim.max_conns);
		break;
	}
}

/*
 * conn_lock held: close @c, chosen by tp_guard_admit() to make room; its
 * owner does it (a victim found in the table stays alive while
 * conn_lock is held, and its lock comes after conn_lock).
 */
static void conn_evict(struct tp_conn *c)
{
	pthread_mutex_lock(&c->lock);
	if (conn_usable(c))
		atomic_store(&c->state, TP_CONN_DEAD);
	tp_conn_kick(c);
	pthread_mutex_unlock(&c->lock);
}

static void evicted(struct transport *tp, const struct tp_addr *ra,
		    bool idle, const struct tp_addr *va)
{
	char name[96], src[64];

	stat_inc(tp->st.tcp_evicted);
	if (idle) {
		stat_inc(tp->st.tcp_evicted_idle);
		tp_guard_log(tp, TP_GUARD_EVICT, "tcp: clients hold their "
			     "share of max_connections (%u): closed the "
			     "longest idle connection of %s, the source "
			     "holding the most, to let %s in",
			     tp->lim.max_conns - tp->lim.reserved_out,
			     tp_guard_source_str(va, src, sizeof(src)),
			     tp_addr_str(TP_TCP, ra, name, sizeof(name)));
		return;
	}
	tp_guard_log(tp, TP_GUARD_EVICT, "tcp: clients hold their share of "
		     "max_connections (%u): closed the oldest connection that "
		     "never sent a whole message to let %s in",
		     tp->lim.max_conns - tp->lim.reserved_out,
		     tp_addr_str(TP_TCP, ra, name, sizeof(name)));
}

void tp_tcp_on_accept(struct ev_loop *loop, int fd, unsigned events,
		      void *ud)
{
	struct tp_sock *s = ud;
	struct tp_worker *w = s->w;
	struct transport *tp = w->tp;

	for (int i = 0; i < TP_ACCEPT_BATCH; i++) {
		struct tp_addr ra = { .len = sizeof(ra.ss) };
		struct tp_conn *c;
		int cfd, one = 1;
		enum tp_refusal why;
		uint32_t n_src = 0;
		struct tp_conn *victim;
		struct tp_addr va;
		bool v_idle = false;

		cfd = accept4(fd, (struct sockaddr *)&ra.ss, &ra.len,
			      SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Out of descriptors: pause instead of spin. */
				stat_inc(tp->st.tcp_refused);
				ev_file_del(loop, fd);
				ev_timer_add(loop, 100, accept_rearm, s);
			}
			return;
		}
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = conn_new(cfd, w, &ra, s->idx, TP_CONN_OPEN);
		if (!c) {
			close(cfd);
			continue;
		}
		if (tp->listen[s->idx].proto == TP_TLS) {
			/* Open for the guard; senders queue until the
			 * handshake is done (tp_tls_io.c). */
			c->tcp_up = true;
			atomic_store(&c->state, TP_CONN_CONNECTING);
			if (tp_tls_conn_init(tp, c, true)) {
				conn_destroy(c);
				continue;
			}
		}
		pthread_mutex_lock(&tp->conn_lock);
		why = tp_guard_admit(tp, &ra, &n_src, &victim);
		if (why == TP_ADMIT || why == TP_ADMIT_EVICT) {
			tbl_insert(tp, c);
			tp_guard_track(tp, c);
		}
		if (victim) {
			v_idle = victim->evicted_idle;
			va = victim->remote;
			conn_evict(victim);
		}
		pthread_mutex_unlock(&tp->conn_lock);
		if (victim)
			evicted(tp, &ra, v_idle, &va);
		if (why != TP_ADMIT && why != TP_ADMIT_EVICT) {
			accept_refused(tp, &ra, why, n_src);
			conn_destroy(c);
			continue;
		}
		conn_service(w, c);
	}
}

/* --- timeouts ------------------------------------------------------------- */

static uint64_t idle_period(const struct transport *tp)
{
	uint64_t t = tp->lim.idle_timeout_ms;

	if (tp->lim.connect_timeout_ms < t)
		t = tp->lim.connect_timeout_ms;
	if (tp->lim.msg_timeout_ms < t)
		t = tp->lim.msg_timeout_ms;
	if (tp->tls && tp_tls_hs_timeout(tp) < t)
		t = tp_tls_hs_timeout(tp);
	t /= 4;
	return t < 10 ? 10 : t > 1000 ? 1000 : t;
}

static void msg_timed_out(struct transport *tp, const struct tp_conn *c,
			  uint64_t now)
{
	char name[96];

	stat_inc(tp->st.tcp_message_timeout);
	tp_guard_log(tp, TP_GUARD_MSG_TIMEOUT, "tcp: closed %s: %zu bytes of "
		     "a message, not complete %llu ms after its first byte "
		     "(message_timeout_ms %u)",
		     tp_addr_str(TP_TCP, &c->remote, name, sizeof(name)),
		     c->ilen, (unsigned long long)(now - c->msg_start_ms),
		     tp->lim.msg_timeout_ms);
}

/*
 * Owner's timer: connections that did not connect in time, whose message
 * stays incomplete past the message deadline (bytes trickling in do not
 * move it), or with no message or ping for the idle timeout.
 */
static int64_t idle_tick(struct ev_loop *loop, uint64_t id, void *ud)
{
	struct tp_worker *w = ud;
	struct transport *tp = w->tp;
	uint64_t now = ev_now_ms();
	struct tp_conn *c, *next;

	for (c = w->conns; c; c = next) {
		uint64_t last = atomic_load_explicit(&c->last_active_ms,
						     memory_order_relaxed);

		next = c->next;
		if (c->ssl && c->tcp_up && !c->hs_done &&
		    atomic_load(&c->state) == TP_CONN_CONNECTING) {
			if (now - c->hs_start_ms >= tp_tls_hs_timeout(tp)) {
				tp_tls_timed_out(tp, c, now);
				conn_close(w, c);
			}
		} else if (atomic_load(&c->state) == TP_CONN_CONNECTING) {
			if (now - c->created_ms >= tp->lim.connect_timeout_ms) {
				stat_inc(tp->st.tcp_connect_failed);
				conn_close(w, c);
			}
		} else if (c->msg_start_ms &&
			   now - c->msg_start_ms >= tp->lim.msg_timeout_ms) {
			msg_timed_out(tp, c, now);
			conn_close(w, c);
		} else if (now >= last &&
			   now - last >= tp->lim.idle_timeout_ms) {
			stat_inc(tp->st.tcp_idle_closed);
			conn_close(w, c);
		}
	}
	return (int64_t)idle_period(tp);
}

int tp_tcp_worker_start(struct tp_worker *w)
{
	int64_t id = ev_timer_add(w->loop, idle_period(w->tp), idle_tick, w);

	if (id < 0)
		return (int)id;
	w->idle_timer = id;
	return 0;
}

/* After the workers stopped: close and free every connection. */
void tp_tcp_free(struct transport *tp)
{
	if (tp->by_id) {
		for (unsigned b = 0; b < TP_CONN_BUCKETS; b++) {
			struct tp_conn *c = tp->by_id[b], *next;

			for (; c; c = next) {
				next = c->id_next;
				stat_dec(tp->st.tcp_open);
				conn_destroy(c);
			}
		}
	}
	free(tp->by_id);
	free(tp->by_addr);
	tp->by_id = tp->by_addr = NULL;
	tp_guard_free(tp);
	if (tp->conn_lock_init)
		pthread_mutex_destroy(&tp->conn_lock);
}
