/*
 * tp_int.h - what the files of the transport share; not for other layers.
 *
 * Ownership and locks (the whole threading story of the transport):
 *
 *  - struct transport is built by tp_alloc() on the caller's thread and is
 *    read-only in shape once tp_start() has run, except for the connection
 *    table below.
 *  - Each struct tp_worker belongs to its thread: its loop, its UDP sockets
 *    (one per UDP listen entry, SO_REUSEPORT), its TCP listening sockets
 *    (one per TCP listen entry, SO_REUSEPORT), its receive buffers, its
 *    UDP send batches and the list of connections it owns.  Only its
 *    "inbox" (connections that other threads want it to look at) is shared,
 *    under inbox_lock, with an eventfd to wake it.
 *  - A struct tp_conn is owned by exactly one worker, the only thread that
 *    reads from it, changes its epoll mask, and frees it.  Its output
 *    buffer and state are under conn->lock, so any thread may queue bytes
 *    or write them straight to the socket when nothing is queued.
 *  - tp->conn_lock guards the id and address hash tables and the count of
 *    open connections.  A sender looks a connection up and takes its lock
 *    before it lets go of conn_lock; the owner unlinks a connection under
 *    conn_lock before it takes the connection's lock to close it, so a
 *    connection found in the table stays alive while its lock is held.
 *
 * Lock order: tp->conn_lock, then conn->lock, then worker->inbox_lock.
 * No lock is held across the receive callback.
 */
#ifndef SIPDLG_TP_INT_H
#define SIPDLG_TP_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "config/config.h"
#include "core/obuf.h"
#include "transport/transport.h"

#define TP_MAX_WORKERS 256
#define TP_UDP_BATCH 32			/* datagrams per recvmmsg/sendmmsg */
#define TP_UDP_BUF 65536		/* receive buffer per datagram */
#define TP_UDP_ROUNDS 8			/* recvmmsg calls per wake-up */
#define TP_UDP_ARENA (128 * 1024)	/* send bytes batched per socket */
#define TP_SOCK_BUF (4 * 1024 * 1024)	/* SO_RCVBUF / SO_SNDBUF wanted */
#define TP_LISTEN_BACKLOG 1024
#define TP_ACCEPT_BATCH 32

/* TCP limits come from cfg->tcp (config_tcp.c has the defaults). */
#define TP_TCP_MIN_OUT (64u * 1024u)	/* any one message must fit */
#define TP_TCP_MAX_IN (64u * 1024u)	/* > SIP_MSG_MAX: the parser decides */
#define TP_TCP_IN_INIT 8192u
#define TP_TCP_READS 4			/* reads per wake-up, buffer full */
#define TP_TLS_READS 64			/* SSL_reads (records) per wake-up */
#define TP_CONN_BUCKETS 4096u		/* power of two */
#define TP_EVICT_MIN_AGE_MS 1000u	/* never evict a younger connection */
#define TP_EVICT_PENDING 16u		/* evicted, not closed yet: at most */
/* A connection that did send whole messages may be evicted once it has
 * been idle (no whole message, ping or send) this long, when its source
 * holds two or more inbound connections; a source's only connection
 * after TP_EVICT_IDLE_SOLE_MS (tp_guard.c, pick_idle_victim). */
#define TP_EVICT_IDLE_MS 1000u
#define TP_EVICT_IDLE_SOLE_MS 30000u

/* Counters of group "core" (see tp_stats_register()). */
struct tp_stats {
	struct stat_var *rcv_datagrams, *rcv_bytes, *rcv_tcp_msgs,
		*rcv_malformed, *rcv_keepalives, *snd_datagrams, *snd_bytes,
		*snd_tcp_msgs, *snd_errors, *tcp_connections, *tcp_open,
		*tcp_refused, *tcp_idle_closed, *tcp_framing_errors,
		*tcp_connect_failed, *tcp_buffer_full, *tcp_refused_per_source,
		*tcp_refused_inbound, *tcp_message_timeout, *tcp_evicted, *tcp_evicted_idle;
};

/* What tp_guard_admit() says of an accepted connection. */
enum tp_refusal {
	TP_ADMIT = 0,
	TP_ADMIT_EVICT,			/* in, in place of *victim */
	TP_REFUSE_FULL,			/* max_conns open (or no memory) */
	TP_REFUSE_INBOUND,		/* only the outbound reserve is left */
	TP_REFUSE_SOURCE,		/* its source is at its cap */
};

/* Kinds of rate-limited guard log lines. */
enum tp_guard_kind {
	TP_GUARD_FULL = 0,		/* total cap, either direction */
	TP_GUARD_INBOUND,
	TP_GUARD_SOURCE,
	TP_GUARD_MSG_TIMEOUT,
	TP_GUARD_EVICT,
	TP_GUARD_TLS_FAILED,
	TP_GUARD_TLS_TIMEOUT,
	TP_GUARD_KINDS,
};

struct tp_guard_rl {
	_Atomic uint64_t next_ms;	/* no line before this time */
	atomic_uint held;		/* lines held back since the last */
};

struct tp_src;

struct tp_listen {
	enum tp_proto proto;
	struct tp_addr addr;		/* bound address, port resolved */
	char name[80];			/* "udp:[::1]:5060" */
	int tx_fd;			/* UDP: worker 0's socket, for sendto */
};

/* One socket of a worker: a UDP socket or a TCP listening socket. */
struct tp_sock {
	struct tp_worker *w;
	int idx;			/* listen index */
	int fd;				/* -1: none */
};

/* Datagrams waiting for sendmmsg on one UDP socket of one worker. */
struct tp_sbatch {
	unsigned n;
	size_t used;			/* bytes of arena in use */
	struct mmsghdr msgs[TP_UDP_BATCH];
	struct iovec iov[TP_UDP_BATCH];
	struct sockaddr_storage to[TP_UDP_BATCH];
	char arena[TP_UDP_ARENA];
};

enum tp_conn_state {
	TP_CONN_CONNECTING = 1,		/* outgoing, handshake not done */
	TP_CONN_OPEN,
	TP_CONN_DRAINING,		/* framing lost: flush, then close */
	TP_CONN_DEAD,			/* write error: the owner closes it */
	TP_CONN_CLOSED,			/* unlinked, about to be freed */
};

struct tp_conn {
	uint64_t id;
	int fd;
	int listen_idx;			/* TCP listen entry, or -1 */
	struct tp_worker *owner;
	struct tp_addr remote;
	bool outgoing;
	char tls_name[256];		/* TLS: the name verified ("": none) */
	uint64_t created_ms;
	_Atomic uint64_t last_active_ms;

	/* Under tp->conn_lock. */
	struct tp_conn *id_next, *addr_next;
	/* Accepted and no whole message yet: tp->unproven, oldest first. */
	struct tp_conn *unp_prev, *unp_next;
	bool unproven;
	bool evicted;			/* closed to make room (tp_guard.c) */
	bool evicted_idle;		/* ... an idle one that had sent
					 * whole messages */

	/* Under lock. */
	pthread_mutex_t lock;
	_Atomic int state;		/* enum tp_conn_state; written locked */
	bool registered;		/* the owner's loop watches fd */
	struct obuf out;		/* queued output: [ooff, out.len) */
	size_t ooff;

	/* Under owner->inbox_lock. */
	struct tp_conn *inbox_prev, *inbox_next;
	bool in_inbox;

	/* Owner thread only. */
	struct tp_conn *prev, *next;	/* owner's list (registered ones) */
	unsigned ev_mask;
	char *ibuf;			/* unparsed input: [0, ilen) */
	size_t ilen, icap;
	size_t scan;			/* where to look for the header end */
	bool hdr_seen;			/* headers complete, body pending */
	uint64_t msg_start_ms;		/* first byte of the pending message;
					 * 0 = none (between messages) */
	bool proven;			/* a whole message came (or outgoing) */
	unsigned crlf;			/* CR/LF bytes between messages */

	/*
	 * TLS (tp_tls_io.c); ssl is NULL on plain TCP.  A TLS connection
	 * stays TP_CONN_CONNECTING (senders queue) until its handshake is
	 * done.  The SSL object is used under lock only: senders write
	 * through it, the owner reads and shakes hands through it.
	 */
	struct ssl_st *ssl;
	bool tcp_up;			/* connect() done (accepted: always) */
	bool hs_done;			/* handshake complete */
	bool hs_want_write;		/* the handshake waits for EV_WRITE */
	bool rd_want_write;		/* SSL_read waits for EV_WRITE */
	uint64_t hs_start_ms;		/* when the handshake began */
};

struct tp_worker {
	struct transport *tp;
	unsigned idx;
	struct ev_loop *loop;
	pthread_t thread;
	bool running;

	struct tp_sock udp[CFG_MAX_LISTEN];
	struct tp_sock tcp[CFG_MAX_LISTEN];
	struct tp_sbatch *sb[CFG_MAX_LISTEN];	/* UDP entries only */

	/* recvmmsg: TP_UDP_BATCH slots of TP_UDP_BUF bytes, allocated once. */
	struct mmsghdr *rmsgs;
	struct iovec *riov;
	struct sockaddr_storage *raddr;
	char *rbuf;
	struct sip_msg *msg;		/* parse scratch */

	/* TCP. */
	struct tp_conn *conns;		/* registered connections it owns */
	int64_t idle_timer;
	int wake_fd;			/* eventfd: look at the inbox */
	pthread_mutex_t inbox_lock;
	struct tp_conn *inbox;
	bool inbox_lock_init;
};

struct transport {
	tp_recv_fn fn;
	void *ud;
	struct tp_listen listen[CFG_MAX_LISTEN];
	size_t n_listen;
	unsigned n_workers;
	struct tp_worker *workers;
	bool started;
	struct tp_tcp_limits lim;
	struct tp_stats st;

	pthread_mutex_t conn_lock;
	bool conn_lock_init;
	struct tp_conn **by_id;		/* TP_CONN_BUCKETS chains */
	struct tp_conn **by_addr;
	unsigned n_conns;
	unsigned n_in;			/* accepted ones among n_conns */
	unsigned n_evicting;		/* of n_in: evicted, not yet closed */
	struct tp_conn *unp_head, *unp_tail;	/* unproven, oldest first */
	struct tp_src **by_src;		/* TP_SRC_BUCKETS chains (tp_guard.c) */
	uint64_t src_seed;
	uint64_t next_conn_id;		/* under conn_lock; never reused */
	atomic_uint rr;			/* round robin for new connections */
	struct tp_guard_rl guard_rl[TP_GUARD_KINDS];
	struct tp_tls *tls;		/* NULL without a tls: section */
};

/* The worker running on this thread, or NULL (tp_core.c). */
struct tp_worker *tp_self_worker(const struct transport *tp);

/* tp_addr.c */
bool tp_addr_equal(const struct tp_addr *a, const struct tp_addr *b);
uint32_t tp_addr_hash(const struct tp_addr *a);
uint16_t tp_addr_port(const struct tp_addr *a);
void tp_addr_set_port(struct tp_addr *a, uint16_t port);
bool tp_addr_is_any(const struct tp_addr *a);
/* "udp:1.2.3.4:5060" / "tcp:[::1]:5060" into @buf; returns @buf. */
const char *tp_addr_str(enum tp_proto proto, const struct tp_addr *a,
			char *buf, size_t len);
/* First listen entry of @proto whose family is @family, or -1. */
int tp_listen_find(const struct transport *tp, enum tp_proto proto,
		   int family);

/* tp_udp.c */
int tp_udp_worker_init(struct tp_worker *w);
void tp_udp_worker_free(struct tp_worker *w);
void tp_udp_on_readable(struct ev_loop *loop, int fd, unsigned events,
			void *ud);
int tp_udp_send(struct transport *tp, const struct tp_peer *dst,
		const char *buf, size_t len);
void tp_udp_flush(struct tp_worker *w);

/* tp_tcp.c */
int tp_tcp_init(struct transport *tp);
void tp_tcp_free(struct transport *tp);	/* after the workers stopped */
int tp_tcp_worker_start(struct tp_worker *w);	/* on the worker's loop */
void tp_tcp_on_accept(struct ev_loop *loop, int fd, unsigned events,
		      void *ud);
void tp_tcp_on_wake(struct ev_loop *loop, int fd, unsigned events, void *ud);
void tp_tcp_inbox_run(struct tp_worker *w);
int tp_tcp_send(struct transport *tp, const struct tp_peer *dst,
		const char *buf, size_t len);
/* Owner thread, c->lock held: watch what the state asks for. */
int tp_conn_apply_mask(struct tp_conn *c);
/* Any thread, c->lock held: write or queue @buf (cap checked). */
int tp_conn_queue(struct transport *tp, struct tp_conn *c, const char *buf,
		  size_t len);

/* tp_guard.c */
int tp_guard_init(struct transport *tp);
void tp_guard_free(struct transport *tp);
/*
 * conn_lock held: may a connection accepted from @remote join?  On
 * TP_ADMIT it is counted (tp_guard_release() undoes that when it
 * closes); *src_count is its source's count then, or the cap refused.
 * TP_ADMIT_EVICT: admitted too, over the clients' share, because
 * *victim (the oldest accepted connection that never sent a whole
 * message, at least TP_EVICT_MIN_AGE_MS old) is to be closed for it; the
 * caller marks it dead and hands it to its owner.
 */
enum tp_refusal tp_guard_admit(struct transport *tp,
			       const struct tp_addr *remote,
			       uint32_t *src_count, struct tp_conn **victim);
/* conn_lock held: @c (accepted, just inserted) joins the unproven list. */
void tp_guard_track(struct transport *tp, struct tp_conn *c);
/* conn_lock held: @c is closing; undo tp_guard_admit/track. */
void tp_guard_release(struct transport *tp, struct tp_conn *c);
/* Owner, no lock: @c delivered its first whole message. */
void tp_guard_proven(struct transport *tp, struct tp_conn *c);
/* "192.0.2.1", "2001:db8::/64": @remote's source, for messages. */
const char *tp_guard_source_str(const struct tp_addr *remote, char *buf,
				size_t len);
void tp_guard_log(struct transport *tp, enum tp_guard_kind kind,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* tp_tcp_read.c: owner, the socket is readable.  False: close it. */
bool tp_conn_on_readable(struct tp_worker *w, struct tp_conn *c);

/* tp_tcp.c: any thread, c->lock held: have the owner look at @c. */
void tp_conn_kick(struct tp_conn *c);
/* Same, through the inbox even on the owner's thread (a later look). */
void tp_conn_revisit(struct tp_conn *c);

/* tp_tls.c: the contexts, reload, statistics. */
struct tp_tls;
int tp_tls_init(struct transport *tp, const struct cfg_tls *cfg,
		struct stats *st, char *err, size_t err_len);
void tp_tls_free(struct tp_tls *t);
uint32_t tp_tls_hs_timeout(const struct transport *tp);
/* A new SSL object for @c (server: accepted), or -errno. */
int tp_tls_conn_init(struct transport *tp, struct tp_conn *c, bool server);
/* Counted, logged (rate-limited): a handshake failed / timed out / done. */
void tp_tls_failed(struct transport *tp, struct tp_conn *c, const char *why);
void tp_tls_timed_out(struct transport *tp, struct tp_conn *c, uint64_t now);
void tp_tls_established(struct transport *tp, struct tp_conn *c);

/* tp_tls_io.c: non-blocking SSL on the connection machinery. */
/* Owner, no lock: a TLS connection's socket event.  False: close it. */
bool tp_tls_on_io(struct tp_worker *w, struct tp_conn *c, unsigned events);
/* c->lock held: write the queued output through SSL.  0 or -errno. */
int tp_tls_flush(struct transport *tp, struct tp_conn *c);
/* Owner, no lock: like read(2) (-1 with errno, EAGAIN: try later). */
ssize_t tp_tls_read(struct tp_conn *c, char *buf, size_t len);
/* Owner: decrypted bytes wait inside SSL. */
bool tp_tls_pending(struct tp_conn *c);

#endif /* SIPDLG_TP_INT_H */
