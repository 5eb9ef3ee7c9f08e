/*
 * rpc.c - one JSON-RPC 2.0 call over the daemon's unix socket.
 *
 * The request goes out as one line; the reply is read up to its newline
 * (the server writes each response as one compact line).  Every step
 * (connect, send, receive) shares one deadline, so --timeout bounds the
 * whole call, except that a reply still arriving (a long listing, which the
 * daemon streams) extends it: --timeout then bounds each silence.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sipdlgctl.h"

#define RPC_MAX_REPLY (2048u << 20)	/* a sanity bound, not a protocol one */

static long long rpc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int rpc_left(long long deadline)
{
	long long d = deadline - rpc_now_ms();

	return d > 0 ? (int)d : 0;
}

static const char *rpc_hint(int err)
{
	switch (err) {
	case ENOENT:
	case ECONNREFUSED:
		return " (is sipdlgd running? see --socket)";
	case EACCES:
	case EPERM:
		return " (needs root or the socket's group)";
	default:
		return "";
	}
}

static int rpc_connect(const struct rpc_opts *o, long long deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(o->socket);
	int fd;

	if (len == 0 || len >= sizeof(sa.sun_path)) {
		fprintf(stderr, "sipdlgctl: cannot connect to %s: %s\n",
			o->socket, strerror(ENAMETOOLONG));
		return -1;
	}
	memcpy(sa.sun_path, o->socket, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "sipdlgctl: socket: %s\n", strerror(errno));
		return -1;
	}
	/* A unix connect either completes or fails at once; EAGAIN means the
	 * daemon's backlog is full: retry until the deadline. */
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;

		if (err == EINTR)
			continue;
		if (err == EAGAIN && rpc_left(deadline) > 0) {
			usleep(10000);
			continue;
		}
		fprintf(stderr, "sipdlgctl: cannot connect to %s: %s%s\n",
			o->socket,
			err == EAGAIN ? "timed out (daemon busy)" : strerror(err),
			rpc_hint(err));
		close(fd);
		return -1;
	}
	return fd;
}

static int rpc_send(const struct rpc_opts *o, int fd, const char *buf,
		    size_t len, long long deadline)
{
	while (len > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "sipdlgctl: %s: send: %s\n", o->socket,
				strerror(errno));
			return -1;
		}
		if (poll(&pfd, 1, rpc_left(deadline)) == 0) {
			fprintf(stderr, "sipdlgctl: %s: timed out sending the "
				"request\n", o->socket);
			return -1;
		}
	}
	return 0;
}

/* The reply line, malloc'd and NUL-terminated (newline dropped), or NULL. */
static char *rpc_recv(const struct rpc_opts *o, int fd, long long deadline)
{
	size_t len = 0, cap = 0, scanned = 0;
	char *buf = NULL;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char *nl;
		ssize_t n;
		int pr;

		if (cap - len < 65536) {
			char *p;

			if (cap >= RPC_MAX_REPLY) {
				fprintf(stderr, "sipdlgctl: %s: reply too "
					"large\n", o->socket);
				break;
			}
			cap = cap ? cap * 2 : 65536;
			p = realloc(buf, cap + 1);
			if (!p) {
				fprintf(stderr, "sipdlgctl: out of memory\n");
				break;
			}
			buf = p;
		}
		pr = poll(&pfd, 1, rpc_left(deadline));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0) {
			fprintf(stderr, "sipdlgctl: %s: no reply within %d.%03d s"
				" (see --timeout)\n", o->socket,
				o->timeout_ms / 1000, o->timeout_ms % 1000);
			break;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			fprintf(stderr, "sipdlgctl: %s: receive: %s\n",
				o->socket, strerror(errno));
			break;
		}
		if (n == 0) {
			fprintf(stderr, "sipdlgctl: %s: connection closed "
				"before a complete reply\n", o->socket);
			break;
		}
		len += (size_t)n;
		deadline = rpc_now_ms() + o->timeout_ms;
		nl = memchr(buf + scanned, '\n', len - scanned);
		if (nl) {
			*nl = '\0';
			return buf;
		}
		scanned = len;
	}
	free(buf);
	return NULL;
}

/* Check the envelope; CTL_EXIT_* */
static int rpc_reply(const struct rpc_opts *o, const char *line,
		     json_t **result)
{
	json_error_t jerr;
	json_t *reply = json_loads(line, JSON_DECODE_ANY, &jerr);
	json_t *err, *res;
	int rc = CTL_EXIT_CONN;

	if (!reply) {
		fprintf(stderr, "sipdlgctl: %s: broken reply: %s\n", o->socket,
			jerr.text);
		return rc;
	}
	err = json_object_get(reply, "error");
	res = json_object_get(reply, "result");
	if (json_is_object(err)) {
		json_t *code = json_object_get(err, "code");
		json_t *msg = json_object_get(err, "message");

		fprintf(stderr, "error %lld: %s\n",
			(long long)json_integer_value(code),
			json_is_string(msg) ? json_string_value(msg) :
					      "(no message)");
		rc = CTL_EXIT_RPC;
	} else if (res && json_integer_value(json_object_get(reply, "id")) == 1) {
		*result = json_incref(res);
		rc = CTL_EXIT_OK;
	} else {
		fprintf(stderr, "sipdlgctl: %s: broken reply: not a JSON-RPC "
			"response to this request\n", o->socket);
	}
	json_decref(reply);
	return rc;
}

int rpc_call(const struct rpc_opts *o, const char *method, json_t *params,
	     json_t **result)
{
	long long deadline = rpc_now_ms() + o->timeout_ms;
	json_t *req;
	char *text = NULL, *line = NULL;
	int fd, rc = CTL_EXIT_CONN;

	req = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", method);
	if (req && params)
		json_object_set(req, "params", params);
	if (req)
		json_object_set_new(req, "id", json_integer(1));
	text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!text) {
		fprintf(stderr, "sipdlgctl: cannot encode the request\n");
		return CTL_EXIT_CONN;
	}
	fd = rpc_connect(o, deadline);
	if (fd < 0)
		goto out;
	if (rpc_send(o, fd, text, strlen(text), deadline) == 0 &&
	    rpc_send(o, fd, "\n", 1, deadline) == 0)
		line = rpc_recv(o, fd, deadline);
	close(fd);
	if (line)
		rc = rpc_reply(o, line, result);
out:
	free(line);
	free(text);
	return rc;
}

/*
 * `sipdlgctl events [MAX]`: subscribe with @method, then print each
 * notification's params as one JSON line (--json) or a short human line,
 * until @max events (0: no limit), the daemon closes, or a signal.
 */
int rpc_events(const struct rpc_opts *o, const char *method, long max,
	       int json_out)
{
	long long deadline = rpc_now_ms() + o->timeout_ms;
	char req[160];
	int fd = rpc_connect(o, deadline), n;
	char *line, *buf = NULL;
	size_t len = 0, cap = 0;
	long seen = 0;
	json_t *result = NULL;

	if (fd < 0)
		return CTL_EXIT_CONN;
	n = snprintf(req, sizeof(req),
		     "{\"jsonrpc\":\"2.0\",\"method\":\"%s\",\"id\":1}\n", method);
	if (rpc_send(o, fd, req, (size_t)n, deadline) != 0) {
		close(fd);
		return CTL_EXIT_CONN;
	}
	line = rpc_recv(o, fd, deadline);
	if (!line) {
		close(fd);
		return CTL_EXIT_CONN;
	}
	n = rpc_reply(o, line, &result);
	free(line);
	json_decref(result);
	if (n != CTL_EXIT_OK) {
		close(fd);
		return n;
	}
	fflush(stdout);
	/* From here on we wait as long as it takes: block. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	while (max <= 0 || seen < max) {
		char chunk[65536], *nl;
		ssize_t r = recv(fd, chunk, sizeof(chunk), 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (len + (size_t)r + 1 > cap) {
			char *p = realloc(buf, cap = (len + (size_t)r) * 2 + 1);
			if (!p)
				break;
			buf = p;
		}
		memcpy(buf + len, chunk, (size_t)r);
		len += (size_t)r;
		while ((max <= 0 || seen < max) &&
		       (nl = memchr(buf, '\n', len))) {
			json_t *note, *p;

			*nl = '\0';
			note = json_loads(buf, 0, NULL);
			p = note ? json_object_get(note, "params") : NULL;
			if (p && json_out) {
				char *t = json_dumps(p, JSON_COMPACT);
				if (t)
					puts(t);
				free(t);
			} else if (p) {
				printf("%-20s %u:%u state %lld  %s  %s -> %s\n",
				       json_string_value(json_object_get(p, "event")),
				       (unsigned)json_integer_value(json_object_get(p, "h_entry")),
				       (unsigned)json_integer_value(json_object_get(p, "h_id")),
				       (long long)json_integer_value(json_object_get(p, "state")),
				       json_string_value(json_object_get(p, "call-id")),
				       json_string_value(json_object_get(p, "from_uri")),
				       json_string_value(json_object_get(p, "to_uri")));
			}
			fflush(stdout);
			json_decref(note);
			seen++;
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
		}
	}
	free(buf);
	close(fd);
	return CTL_EXIT_OK;
}
