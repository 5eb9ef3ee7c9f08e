/*
 * tp_core.c - the transport object: binding every listen: address for
 * every worker, the worker threads and their loops, tp_send() dispatch,
 * and the teardown.  tp_int.h tells who owns what and which lock guards it.
 */
#define LOG_TAG "transport"

#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/stats.h"
#include "transport/tp_int.h"

/* Set on each worker thread for the life of its loop. */
static _Thread_local struct tp_worker *tp_self;

struct tp_worker *tp_self_worker(const struct transport *tp)
{
	return tp_self && tp_self->tp == tp ? tp_self : NULL;
}

int tp_worker_self(const struct transport *tp)
{
	struct tp_worker *w = tp_self_worker(tp);

	return w ? (int)w->idx : -1;
}

static void tp_stats_register(struct transport *tp, struct stats *st)
{
	struct tp_stats *s = &tp->st;

	s->rcv_datagrams = stats_register(st, "core", "rcv_datagrams", 0);
	s->rcv_bytes = stats_register(st, "core", "rcv_bytes", 0);
	s->rcv_tcp_msgs = stats_register(st, "core", "rcv_tcp_msgs", 0);
	s->rcv_malformed = stats_register(st, "core", "rcv_malformed", 0);
	s->rcv_keepalives = stats_register(st, "core", "rcv_keepalives", 0);
	s->snd_datagrams = stats_register(st, "core", "snd_datagrams", 0);
	s->snd_bytes = stats_register(st, "core", "snd_bytes", 0);
	s->snd_tcp_msgs = stats_register(st, "core", "snd_tcp_msgs", 0);
	s->snd_errors = stats_register(st, "core", "snd_errors", 0);
	s->tcp_connections = stats_register(st, "core", "tcp_connections", 0);
	s->tcp_open = stats_register(st, "core", "tcp_open", STAT_NO_RESET);
	s->tcp_refused = stats_register(st, "core", "tcp_refused", 0);
	s->tcp_idle_closed = stats_register(st, "core", "tcp_idle_closed", 0);
	s->tcp_framing_errors =
		stats_register(st, "core", "tcp_framing_errors", 0);
	s->tcp_connect_failed =
		stats_register(st, "core", "tcp_connect_failed", 0);
	s->tcp_buffer_full = stats_register(st, "core", "tcp_buffer_full", 0);
	s->tcp_refused_per_source =
		stats_register(st, "core", "tcp_refused_per_source", 0);
	s->tcp_refused_inbound =
		stats_register(st, "core", "tcp_refused_inbound", 0);
	s->tcp_message_timeout =
		stats_register(st, "core", "tcp_message_timeout", 0);
	s->tcp_evicted = stats_register(st, "core", "tcp_evicted", 0);
	s->tcp_evicted_idle = stats_register(st, "core", "tcp_evicted_idle",
					     0);
}

static unsigned tp_cpu_count(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* Ask for big socket buffers: SO_*BUFFORCE works as root, else capped. */
static void tp_sock_bufs(int fd)
{
	int sz = TP_SOCK_BUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

/*
 * A socket bound to @l's address.  @shared: SO_REUSEPORT, one per worker;
 * otherwise a probe that fails when anybody else (another sipdlgd with
 * SO_REUSEPORT included) holds the port.  Returns the fd or -errno.
 */
static int tp_bind_one(const struct tp_listen *l, bool shared)
{
	bool udp = l->proto == TP_UDP;
	int fd, one = 1, r;

	fd = socket(l->addr.ss.ss_family,
		    (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK |
			    SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	if (!udp && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
			       sizeof(one)) < 0)
		goto fail;
	if (shared && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
				 sizeof(one)) < 0)
		goto fail;
	if (l->addr.ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&l->addr.ss, l->addr.len) < 0)
		goto fail;
	if (shared && !udp && listen(fd, TP_LISTEN_BACKLOG) < 0)
		goto fail;
	if (shared && udp)
		tp_sock_bufs(fd);
	return fd;
fail:
	r = -errno;
	close(fd);
	return r;
}

/*
 * Spread the datagrams of a UDP listen entry over the workers' sockets one
 * by one, at random (a classic BPF program on the SO_REUSEPORT group),
 * instead of the kernel's default of one worker per 4-tuple.  A SIP edge
 * box often has few peers, each one 4-tuple (a carrier trunk, a PBX, a
 * load generator): by flow, all of a peer's traffic lands on one worker,
 * and two peers on the same one half the time, while the others idle.
 * Measured with sipp (one UAC and one UAS flow, both hashed to one worker
 * of two) on 2 CPUs: 4,500 calls/s held, 5,000 failed; spread, 5,000
 * held.  The cost: two datagrams of one flow may be handled by two
 * workers at once.  UDP never promised their order, and the transaction
 * and dialog tables lock what they share.  Without the program (an old
 * kernel) the default spread by flow stays: not fatal.
 */
static void tp_udp_spread(int fd, unsigned n_workers)
{
	struct sock_filter code[] = {
		{ BPF_LD | BPF_W | BPF_ABS, 0, 0, (__u32)(SKF_AD_OFF + SKF_AD_RANDOM) },
		{ BPF_ALU | BPF_MOD | BPF_K, 0, 0, n_workers },
		{ BPF_RET | BPF_A, 0, 0, 0 },
	};
	struct sock_fprog prog;

	if (n_workers < 2)
		return;
	memset(&prog, 0, sizeof(prog));	/* the padding after len, too */
	prog.len = 3;
	prog.filter = code;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog,
		       sizeof(prog)) < 0)
		log_warn("cannot spread UDP datagrams over the workers (%s): "
			 "each peer address stays on one worker",
			 strerror(errno));
}

/* Bind listen entry @i on every worker; a taken port fails here. */
static int tp_bind_listen(struct transport *tp, size_t i, char *err,
			  size_t err_len)
{
	struct tp_listen *l = &tp->listen[i];
	char name[96];
	int fd;

	tp_addr_str(l->proto, &l->addr, name, sizeof(name));
	if (tp_addr_port(&l->addr) != 0) {
		fd = tp_bind_one(l, false);
		if (fd < 0)
			goto fail;
		close(fd);
	}
	for (unsigned k = 0; k < tp->n_workers; k++) {
		struct tp_worker *w = &tp->workers[k];
		struct tp_sock *s = l->proto == TP_UDP ? &w->udp[i] : &w->tcp[i];

		fd = tp_bind_one(l, true);
		if (fd < 0)
			goto fail;
		s->fd = fd;
		if (tp_addr_port(&l->addr) == 0) {
			/* Port 0: the first worker's socket picks it. */
			struct tp_addr a = { .len = sizeof(a.ss) };

			if (getsockname(fd, (struct sockaddr *)&a.ss, &a.len) < 0) {
				fd = -errno;
				goto fail;
			}
			tp_addr_set_port(&l->addr, tp_addr_port(&a));
		}
	}
	if (l->proto == TP_UDP) {
		l->tx_fd = tp->workers[0].udp[i].fd;
		tp_udp_spread(l->tx_fd, tp->n_workers);
	}
	tp_addr_str(l->proto, &l->addr, l->name, sizeof(l->name));
	return 0;
fail:
	snprintf(err, err_len, "listen: cannot use %s: %s", name,
		 strerror(-fd));
	return fd;
}

static void tp_before_sleep(struct ev_loop *loop, void *ud)
{
	struct tp_worker *w = ud;

	tp_tcp_inbox_run(w);
	tp_udp_flush(w);
}

/* Everything of worker @w but its sockets, and the watches on them. */
static int tp_worker_init(struct transport *tp, struct tp_worker *w)
{
	int r;

	w->loop = ev_loop_alloc();
	w->msg = malloc(sizeof(*w->msg));
	if (!w->loop || !w->msg)
		return -ENOMEM;
	if (pthread_mutex_init(&w->inbox_lock, NULL) != 0)
		return -ENOMEM;
	w->inbox_lock_init = true;
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->wake_fd < 0)
		return -errno;
	r = tp_udp_worker_init(w);
	if (r)
		return r;
	for (size_t i = 0; i < tp->n_listen; i++) {
		if (w->udp[i].fd >= 0)
			r = ev_file_add(w->loop, w->udp[i].fd, EV_READ,
					tp_udp_on_readable, &w->udp[i]);
		else
			r = ev_file_add(w->loop, w->tcp[i].fd, EV_READ,
					tp_tcp_on_accept, &w->tcp[i]);
		if (r)
			return r;
	}
	r = ev_file_add(w->loop, w->wake_fd, EV_READ, tp_tcp_on_wake, w);
	if (r)
		return r;
	return ev_before_sleep_add(w->loop, tp_before_sleep, w);
}

int tp_alloc(const struct sipdlg_config *cfg, struct stats *st,
	     tp_recv_fn fn, void *ud, struct transport **out, char *err,
	     size_t err_len)
{
	struct transport *tp;
	unsigned n;
	int r;

	if (err_len)
		err[0] = '\0';
	if (!cfg || !fn || !out || cfg->n_listen > CFG_MAX_LISTEN)
		return -EINVAL;
	tp = calloc(1, sizeof(*tp));
	if (!tp)
		return -ENOMEM;
	tp->fn = fn;
	tp->ud = ud;
	tp->lim = (struct tp_tcp_limits){
		.idle_timeout_ms = cfg->tcp.idle_timeout_ms,
		.connect_timeout_ms = cfg->tcp.connect_timeout_ms,
		.msg_timeout_ms = cfg->tcp.message_timeout_ms,
		.max_conns = cfg->tcp.max_connections,
		.max_conns_per_source = cfg->tcp.max_connections_per_source,
		.reserved_out = cfg->tcp.reserved_outbound,
		.max_out_bytes = cfg->tcp.max_out_bytes,
	};
	tp_stats_register(tp, st);
	n = cfg->workers ? cfg->workers : tp_cpu_count();
	tp->n_workers = n > TP_MAX_WORKERS ? TP_MAX_WORKERS : n;
	tp->workers = calloc(tp->n_workers, sizeof(*tp->workers));
	if (!tp->workers) {
		free(tp);
		return -ENOMEM;
	}
	for (unsigned k = 0; k < tp->n_workers; k++) {
		struct tp_worker *w = &tp->workers[k];

		w->tp = tp;
		w->idx = k;
		w->wake_fd = -1;
		for (size_t i = 0; i < CFG_MAX_LISTEN; i++) {
			w->udp[i] = (struct tp_sock){ w, (int)i, -1 };
			w->tcp[i] = (struct tp_sock){ w, (int)i, -1 };
		}
	}
	r = tp_tcp_init(tp);
	if (r)
		goto fail;
	r = tp_tls_init(tp, &cfg->tls, st, err, err_len);
	if (r)
		goto fail;

	tp->n_listen = cfg->n_listen;
	for (size_t i = 0; i < cfg->n_listen; i++) {
		const struct cfg_listen *cl = &cfg->listen[i];
		struct tp_listen *l = &tp->listen[i];

		l->proto = cl->proto == CFG_PROTO_TCP ? TP_TCP :
			   cl->proto == CFG_PROTO_TLS ? TP_TLS : TP_UDP;
		l->tx_fd = -1;
		memcpy(&l->addr.ss, &cl->addr, sizeof(l->addr.ss));
		l->addr.len = cl->addr.ss_family == AF_INET6 ?
				      sizeof(struct sockaddr_in6) :
				      sizeof(struct sockaddr_in);
		tp_addr_set_port(&l->addr, cl->port);
		r = tp_bind_listen(tp, i, err, err_len);
		if (r)
			goto fail;
	}
	for (unsigned k = 0; k < tp->n_workers; k++) {
		r = tp_worker_init(tp, &tp->workers[k]);
		if (r) {
			snprintf(err, err_len, "transport: worker %u: %s", k,
				 strerror(-r));
			goto fail;
		}
	}
	for (size_t i = 0; i < tp->n_listen; i++)
		log_info("listening on %s", tp->listen[i].name);
	*out = tp;
	return 0;
fail:
	tp_free(tp);
	return r;
}

/* Zero in @lim keeps the value of @cur. */
#define TP_LIM_MERGE(cur, lim, f) ((lim)->f ? (lim)->f : (cur)->f)

int tp_set_tcp_limits(struct transport *tp, const struct tp_tcp_limits *lim)
{
	struct tp_tcp_limits n;

	if (!tp || !lim)
		return -EINVAL;
	if (tp->started)
		return -EBUSY;
	n = (struct tp_tcp_limits){
		.idle_timeout_ms = TP_LIM_MERGE(&tp->lim, lim, idle_timeout_ms),
		.connect_timeout_ms =
			TP_LIM_MERGE(&tp->lim, lim, connect_timeout_ms),
		.msg_timeout_ms = TP_LIM_MERGE(&tp->lim, lim, msg_timeout_ms),
		.max_conns = TP_LIM_MERGE(&tp->lim, lim, max_conns),
		.max_conns_per_source =
			TP_LIM_MERGE(&tp->lim, lim, max_conns_per_source),
		.reserved_out = TP_LIM_MERGE(&tp->lim, lim, reserved_out),
		.max_out_bytes = TP_LIM_MERGE(&tp->lim, lim, max_out_bytes),
	};
	if (n.max_out_bytes < TP_TCP_MIN_OUT || n.reserved_out >= n.max_conns)
		return -EINVAL;
	tp->lim = n;
	return 0;
}

/* Enough descriptors for the connection cap, if the hard limit allows. */
static void tp_raise_nofile(const struct transport *tp)
{
	rlim_t want = (rlim_t)tp->lim.max_conns + 256u +
		      (rlim_t)tp->n_workers * (tp->n_listen + 4u);
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		log_info("open files limit raised to %llu",
			 (unsigned long long)rl.rlim_cur);
}

static void *tp_worker_main(void *arg)
{
	struct tp_worker *w = arg;
	int r;

	tp_self = w;
	r = ev_loop_run(w->loop);
	if (r)
		log_err("worker %u stopped: %s", w->idx, strerror(-r));
	tp_udp_flush(w);
	tp_self = NULL;
	return NULL;
}

static void tp_stop_workers(struct transport *tp)
{
	for (unsigned k = 0; k < tp->n_workers; k++)
		if (tp->workers[k].running)
			ev_loop_stop(tp->workers[k].loop);
	for (unsigned k = 0; k < tp->n_workers; k++) {
		if (!tp->workers[k].running)
			continue;
		pthread_join(tp->workers[k].thread, NULL);
		tp->workers[k].running = false;
	}
}

int tp_start(struct transport *tp)
{
	sigset_t all, old;
	int r = 0;

	if (!tp)
		return -EINVAL;
	if (tp->started)
		return -EALREADY;
	tp_raise_nofile(tp);
	for (unsigned k = 0; k < tp->n_workers; k++) {
		r = tp_tcp_worker_start(&tp->workers[k]);
		if (r)
			return r;
	}
	/* Workers take no signals: the main thread's signalfd gets them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned k = 0; k < tp->n_workers; k++) {
		struct tp_worker *w = &tp->workers[k];
		char name[16];

		r = -pthread_create(&w->thread, NULL, tp_worker_main, w);
		if (r)
			break;
		w->running = true;
		snprintf(name, sizeof(name), "sipdlg-w%u", k % 1000u);
		pthread_setname_np(w->thread, name);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		log_err("cannot start worker threads: %s", strerror(-r));
		tp_stop_workers(tp);
		return r;
	}
	tp->started = true;
	log_info("%u SIP worker thread%s started", tp->n_workers,
		 tp->n_workers == 1 ? "" : "s");
	return 0;
}

void tp_free(struct transport *tp)
{
	if (!tp)
		return;
	tp_stop_workers(tp);
	for (unsigned k = 0; k < tp->n_workers; k++)
		tp_udp_flush(&tp->workers[k]);
	tp_tcp_free(tp);
	tp_tls_free(tp->tls);
	for (unsigned k = 0; k < tp->n_workers; k++) {
		struct tp_worker *w = &tp->workers[k];

		for (size_t i = 0; i < CFG_MAX_LISTEN; i++) {
			if (w->udp[i].fd >= 0)
				close(w->udp[i].fd);
			if (w->tcp[i].fd >= 0)
				close(w->tcp[i].fd);
		}
		if (w->wake_fd >= 0)
			close(w->wake_fd);
		if (w->inbox_lock_init)
			pthread_mutex_destroy(&w->inbox_lock);
		tp_udp_worker_free(w);
		free(w->msg);
		ev_loop_free(w->loop);
	}
	free(tp->workers);
	free(tp);
}

int tp_send(struct transport *tp, const struct tp_peer *dst, const char *buf,
	    size_t len)
{
	if (!tp || !dst || (!buf && len))
		return -EINVAL;
	switch (dst->proto) {
	case TP_UDP:
		return tp_udp_send(tp, dst, buf, len);
	case TP_TCP:
		return tp_tcp_send(tp, dst, buf, len);
	case TP_TLS:
		if (!tp->tls)
			return -EPROTONOSUPPORT;
		return tp_tcp_send(tp, dst, buf, len);
	default:
		return -EPROTONOSUPPORT;
	}
}

unsigned tp_worker_count(const struct transport *tp)
{
	return tp ? tp->n_workers : 0;
}

struct ev_loop *tp_worker_loop(struct transport *tp, unsigned i)
{
	return tp && i < tp->n_workers ? tp->workers[i].loop : NULL;
}

int tp_listen_addr(const struct transport *tp, int listen_idx,
		   enum tp_proto *proto, struct tp_addr *addr)
{
	if (!tp || listen_idx < 0 || (size_t)listen_idx >= tp->n_listen)
		return -ENOENT;
	if (proto)
		*proto = tp->listen[listen_idx].proto;
	if (addr)
		*addr = tp->listen[listen_idx].addr;
	return 0;
}
