/* sip_listen.c - bind the SIP sockets of listen: and count what arrives. */
#define LOG_TAG "transport"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/stats.h"
#include "transport/sip_listen.h"

struct sip_listen {
	struct ev_loop *loop;
	int fds[CFG_MAX_LISTEN];
	size_t n_fds;
	struct stat_var *rcv_datagrams, *rcv_bytes, *tcp_connections;
};

static void on_udp(struct ev_loop *loop, int fd, unsigned events, void *ud)
{
	struct sip_listen *sl = ud;
	char buf[65536];

	/* Drain a bounded batch so one busy socket cannot starve the loop. */
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			break;
		stat_inc(sl->rcv_datagrams);
		stat_add(sl->rcv_bytes, n);
	}
}

static void on_tcp_accept(struct ev_loop *loop, int fd, unsigned events,
			  void *ud)
{
	struct sip_listen *sl = ud;
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (c < 0)
		return;
	stat_inc(sl->tcp_connections);
	close(c);
}

static int open_one(struct sip_listen *sl, const struct cfg_listen *l,
		    char *err, size_t err_len)
{
	int udp = l->proto == CFG_PROTO_UDP;
	int fd = socket(l->addr.ss_family,
			(udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK |
				SOCK_CLOEXEC,
			0);
	int one = 1, r;

	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addr_len) != 0)
		goto fail;
	if (!udp && listen(fd, 128) != 0)
		goto fail;
	r = ev_file_add(sl->loop, fd, EV_READ, udp ? on_udp : on_tcp_accept,
			sl);
	if (r) {
		errno = -r;
		goto fail;
	}
	sl->fds[sl->n_fds++] = fd;
	log_info("listening on %s:%s%s%s:%u", udp ? "udp" : "tcp",
		 l->addr.ss_family == AF_INET6 ? "[" : "", l->host,
		 l->addr.ss_family == AF_INET6 ? "]" : "", l->port);
	return 0;
fail:
	r = -errno;
	snprintf(err, err_len, "listen: cannot use %s:%s:%u: %s",
		 udp ? "udp" : "tcp", l->host, l->port, strerror(-r));
	if (fd >= 0)
		close(fd);
	return r;
}

int sip_listen_start(const struct sipdlg_config *cfg, struct ev_loop *loop,
		     struct stats *st, struct sip_listen **out, char *err,
		     size_t err_len)
{
	struct sip_listen *sl = calloc(1, sizeof(*sl));

	if (!sl)
		return -ENOMEM;
	sl->loop = loop;
	sl->rcv_datagrams = stats_register(st, "core", "rcv_datagrams", 0);
	sl->rcv_bytes = stats_register(st, "core", "rcv_bytes", 0);
	sl->tcp_connections = stats_register(st, "core", "tcp_connections", 0);
	for (size_t i = 0; i < cfg->n_listen; i++) {
		int r = open_one(sl, &cfg->listen[i], err, err_len);
		if (r) {
			sip_listen_free(sl);
			return r;
		}
	}
	*out = sl;
	return 0;
}

void sip_listen_free(struct sip_listen *sl)
{
	if (!sl)
		return;
	for (size_t i = 0; i < sl->n_fds; i++) {
		ev_file_del(sl->loop, sl->fds[i]);
		close(sl->fds[i]);
	}
	free(sl);
}
