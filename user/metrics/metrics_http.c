/*
 * metrics_http.c - GET /metrics over HTTP, served by libmicrohttpd.
 *
 * libmicrohttpd (Debian libmicrohttpd-dev) does the HTTP: request
 * parsing, keep-alive, timeouts and connection caps, on one thread of
 * its own (MHD_USE_INTERNAL_POLLING_THREAD, poll/epoll chosen by
 * MHD_USE_AUTO), so scrapes are served one at a time and never on a SIP
 * worker.  sipdlgd binds the listening socket itself so that a taken
 * port or a foreign address fails the start with errno and a clear
 * message (MHD only says "failed").
 *
 * Answers: GET or HEAD /metrics -> 200 text format 0.0.4; another path
 * -> 404; another method -> 405 with Allow.  A request body is read and
 * dropped.
 */
#define LOG_TAG "metrics"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <microhttpd.h>

#include "config/config.h"
#include "core/log.h"
#include "metrics/metrics.h"
#include "metrics/prom_text.h"

/* Scrapers are a few Prometheus servers and people with curl. */
#define METRICS_MAX_CONNECTIONS 16
#define METRICS_TIMEOUT_S 10		/* an idle or slow connection */
#define METRICS_CONN_MEMORY (32 * 1024)	/* request line and headers */
#define METRICS_BACKLOG 16

struct metrics {
	struct MHD_Daemon *mhd;
	struct metrics_sources src;
	char where[80];			/* "127.0.0.1:9091", for logs */
};

/* libmicrohttpd's messages are about single connections (a scraper that
 * hung up, a malformed request): info, so a client cannot fill the log
 * at warn.  Start failures are reported by metrics_start() itself. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_info("libmicrohttpd: %s", buf);
}

static enum MHD_Result reply_text(struct MHD_Connection *conn,
				  unsigned status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	static int seen;	/* marks a request whose headers were seen */
	struct metrics *m = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	struct obuf o;
	char *body;
	size_t len;

	if (!*req_cls) {	/* headers only so far: answer on the next call */
		*req_cls = &seen;
		return MHD_YES;
	}
	if (*upload_size) {	/* a body: nothing here takes one */
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "405 Method Not Allowed: only GET and HEAD\n");
	if (strcmp(url, "/metrics") != 0)
		return reply_text(conn, MHD_HTTP_NOT_FOUND,
				  "404 Not Found: the metrics are at /metrics\n");

	ob_init(&o, OBUF_UNLIMITED);
	metrics_collect(&m->src, &o);
	len = o.len;
	body = ob_take(&o);
	if (!body)
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "500 out of memory\n");
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				PROM_CONTENT_TYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static void addr_text(const struct sockaddr_storage *a, char *out,
		      size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)a;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(out, size, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const void *)a;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(out, size, "%s:%u", host, ntohs(s4->sin_port));
	}
}

/* A bound, listening TCP socket on cfg->addr, or -errno with @err. */
static int listen_socket(const struct cfg_metrics *cfg, const char *where,
			 char *err, size_t err_len)
{
	int one = 1, fd, e;

	fd = socket(cfg->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = -errno;
		snprintf(err, err_len, "metrics.listen %s: socket: %s", where,
			 strerror(-e));
		return e;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (cfg->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&cfg->addr, cfg->addr_len) != 0) {
		e = -errno;
		close(fd);
		snprintf(err, err_len, "metrics.listen %s: cannot bind: %s%s",
			 where, strerror(-e),
			 e == -EADDRINUSE ? " (another program, or another "
			 "sipdlgd, listens on that port: stop it or choose "
			 "another metrics.listen)" :
			 e == -EADDRNOTAVAIL ? " (not an address of this "
			 "host)" :
			 e == -EACCES ? " (a port below 1024 needs "
			 "CAP_NET_BIND_SERVICE)" : "");
		return e;
	}
	if (listen(fd, METRICS_BACKLOG) != 0) {
		e = -errno;
		close(fd);
		snprintf(err, err_len, "metrics.listen %s: listen: %s", where,
			 strerror(-e));
		return e;
	}
	return fd;
}

int metrics_start(const struct cfg_metrics *cfg,
		  const struct metrics_sources *src, struct metrics **out,
		  char *err, size_t err_len)
{
	struct metrics *m;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
			 MHD_USE_ERROR_LOG;
	int fd;

	*out = NULL;
	err[0] = '\0';
	if (!cfg->listen || !cfg->listen[0])
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, err_len, "metrics: out of memory");
		return -ENOMEM;
	}
	m->src = *src;
	addr_text(&cfg->addr, m->where, sizeof(m->where));
	fd = listen_socket(cfg, m->where, err, err_len);
	if (fd < 0) {
		free(m);
		return fd;
	}
	if (cfg->addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, m,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
		MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)METRICS_MAX_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)METRICS_CONN_MEMORY,
		MHD_OPTION_END);
	if (!m->mhd) {
		/* Whether MHD closed the socket it was given is not said. */
		if (fcntl(fd, F_GETFD) >= 0)
			close(fd);
		snprintf(err, err_len, "metrics.listen %s: libmicrohttpd "
			 "could not start its server thread", m->where);
		free(m);
		return -EIO;
	}
	log_notice("metrics: Prometheus endpoint at http://%s/metrics",
		   m->where);
	*out = m;
	return 0;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->mhd);	/* joins its thread, closes the socket */
	free(m);
}
