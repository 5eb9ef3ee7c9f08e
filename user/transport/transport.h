/*
 * transport.h - SIP over UDP and TCP, IPv4 and IPv6, for every address of
 * listen:, served by worker threads.
 *
 * Each worker thread runs its own event loop and owns one SO_REUSEPORT UDP
 * socket per UDP listen address (the kernel spreads datagrams over them),
 * reading many datagrams per system call (recvmmsg) and sending in batches
 * (sendmmsg) flushed before the loop sleeps.  TCP connections are framed by
 * Content-Length; replies go back on the connection the request came on.
 *
 * Every received message is parsed once (sip_msg_parse) and handed to the
 * receive callback on the worker thread that read it; several workers call
 * it at the same time, so whatever it touches must be thread-safe.
 * tp_send() may be called from any thread.
 */
#ifndef SIPDLG_TRANSPORT_H
#define SIPDLG_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sip/sip_msg.h"

struct sipdlg_config;
struct stats;
struct ev_loop;
struct transport;

enum tp_proto {
	TP_UDP = 1,
	TP_TCP = 2,
	TP_TLS = 3,			/* TCP with TLS (tp_tls*.c) */
};

struct tp_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/*
 * One end of a hop: where a message came from, or where one goes.
 * For sending, listen_idx picks the local socket (-1: the first listen
 * entry of the same protocol and address family), and conn_id picks a TCP
 * connection (0: reuse one to @remote if any, else connect).
 */
struct tp_peer {
	enum tp_proto proto;
	struct tp_addr remote;
	int listen_idx;			/* index into cfg->listen */
	uint64_t conn_id;		/* TCP connection id, 0 = none/any */
	/* TLS, outbound: the DNS name the next hop came from (SNI and the
	 * name its certificate must carry; a connection is reused only for
	 * the same name).  "" for an IP literal (tp_tls.c). */
	char tls_name[256];
};

/* A received message, valid only during the callback. */
struct tp_rcv {
	struct tp_peer src;		/* who sent it, on which socket */
	const char *buf;		/* the bytes of this one message */
	size_t len;
	int parse_rc;			/* 0, or -EBADMSG (msg->error set) */
	struct sip_msg *msg;		/* parsed (scratch of the worker) */
	unsigned worker;		/* index of the calling worker */
};

typedef void (*tp_recv_fn)(void *ud, struct tp_rcv *rcv);

/*
 * Create the transport and bind every socket of cfg->listen now, so that
 * a taken port is reported at start ("listen: cannot use udp:H:P: ...").
 * Threads start with tp_start().  0 or -errno with a message in @err.
 */
int tp_alloc(const struct sipdlg_config *cfg, struct stats *st,
	     tp_recv_fn fn, void *ud, struct transport **out, char *err,
	     size_t err_len);
int tp_start(struct transport *tp);
/* Stop and join the workers, close every socket.  NULL-safe. */
void tp_free(struct transport *tp);

/*
 * Send one message.  Thread-safe.  UDP: one datagram (batched with
 * sendmmsg when called on a worker thread).  TCP: on conn_id if it is
 * still open, else on an open connection to the remote address, else a
 * new non-blocking connection (the bytes are queued until it connects).
 * 0, or -errno (-ENOTCONN: conn_id closed and no way to reach the peer,
 * -ENOBUFS: the connection's output buffer is full, or a new connection
 * would pass the connection cap; -EAFNOSUPPORT: no UDP socket of the
 * remote's address family; -EMSGSIZE: a datagram over 65535 bytes;
 * -ECONNREFUSED and the like: connect() failed at once).  UDP datagrams
 * batched on a worker thread report send errors only in core:snd_errors.
 */
int tp_send(struct transport *tp, const struct tp_peer *dst, const char *buf,
	    size_t len);

/*
 * Number of worker threads, and the loop of worker @i (for its timers).
 * A loop is single-threaded: once tp_start() has run, touch it only from
 * its own worker (see tp_worker_self()).
 */
unsigned tp_worker_count(const struct transport *tp);
struct ev_loop *tp_worker_loop(struct transport *tp, unsigned i);

/* The address and port a listen entry is bound to (port resolved). */
int tp_listen_addr(const struct transport *tp, int listen_idx,
		   enum tp_proto *proto, struct tp_addr *addr);

/* "udp:1.2.3.4:5060", "tcp:[::1]:5060" into @buf; returns @buf. */
const char *tp_peer_str(const struct tp_peer *p, char *buf, size_t len);

/*
 * Index of the worker running the calling thread, or -1 when the caller
 * is not one of @tp's workers (for layers that arm timers on "their" loop).
 */
int tp_worker_self(const struct transport *tp);

/*
 * TCP limits.  tp_alloc() takes them from cfg->tcp (defaults shown); a
 * zero field here keeps the value in force.  Call between tp_alloc() and
 * tp_start(); -EBUSY afterwards, -EINVAL when the reserve would leave no
 * connection for clients or max_out_bytes is under 64 KiB.
 */
struct tp_tcp_limits {
	uint32_t idle_timeout_ms;	/* 120000: close a connection with no
					 * message or ping for so long */
	uint32_t connect_timeout_ms;	/* 10000: give up a connect() */
	uint32_t msg_timeout_ms;	/* 10000: close a connection whose
					 * message is not whole this long
					 * after its first byte */
	uint32_t max_conns;		/* 4096 open, accepted + connected */
	uint32_t max_conns_per_source;	/* 256 accepted from one IPv4
					 * address or IPv6 /64 */
	uint32_t reserved_out;		/* 256 of max_conns that accepted
					 * connections never take */
	uint32_t max_out_bytes;		/* 256 KiB queued per connection,
					 * at least 64 KiB */
};
int tp_set_tcp_limits(struct transport *tp, const struct tp_tcp_limits *lim);

/*
 * TLS: read the certificate, key and CA files of the tls: section again.
 * New handshakes use them; open connections keep theirs.  A file that
 * fails leaves the ones in use, with the reason in @err.  Any thread.
 * 0, -ENOENT (no tls: section) or -EINVAL.
 */
int tp_tls_reload(struct transport *tp, char *err, size_t err_len);

#endif /* SIPDLG_TRANSPORT_H */
