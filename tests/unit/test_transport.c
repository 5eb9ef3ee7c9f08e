/*
 * test_transport.c - SIP over UDP and TCP through real loopback sockets:
 * delivery with the right source, bursts, malformed input, replies from
 * the callback and from other threads, TCP framing, connection reuse and
 * outgoing connections, the idle timeout, the message deadline, the
 * connection caps (total, per source, the outbound reserve), bind
 * conflicts and a clean teardown with connections open.
 *
 * Every transport binds port 0 (the kernel picks free ports) and runs two
 * workers.  IPv6 cases are skipped when ::1 cannot be bound.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/log.h"
#include "core/stats.h"
#include "transport/transport.h"
#include "transport/tp_int.h"	/* tp_guard_admit for the IPv6 /64 case */

#define WAIT_MS 10000
#define KEEP 64

/* --- what the callback saw ---------------------------------------------- */

struct seen {
	int rc;
	enum sip_error err;
	struct tp_peer src;
	unsigned worker;
	int self;			/* tp_worker_self() in the callback */
	char call_id[64];
	char body[256];
	size_t body_len;
	size_t len;
};

enum echo_mode {
	ECHO_NONE = 0,
	ECHO_OK,			/* answer 200 to every request */
	ECHO_400,			/* answer 400 to malformed ones */
};

struct rec {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned n;
	struct seen seen[KEEP];
	enum echo_mode echo;
	int echo_rc;
	struct transport *tp;
};

struct fx {
	struct sipdlg_config *cfg;
	struct stats *st;
	struct transport *tp;
	struct rec rec;
	bool v6;
	int udp4, tcp4, udp6, tcp6;	/* listen indexes, -1 if none */
};

static const char reply_200[] = "SIP/2.0 200 OK\r\n"
				"Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-r\r\n"
				"From: <sip:alice@example.com>;tag=a\r\n"
				"To: <sip:bob@example.com>;tag=b\r\n"
				"Call-ID: reply@test\r\n"
				"CSeq: 1 INVITE\r\n"
				"Content-Length: 0\r\n\r\n";

static void on_rcv(void *ud, struct tp_rcv *rcv)
{
	struct rec *r = ud;
	struct seen s = { 0 };
	int rc = 0;

	s.rc = rcv->parse_rc;
	s.err = rcv->msg->error;
	s.src = rcv->src;
	s.worker = rcv->worker;
	s.self = tp_worker_self(r->tp);
	s.len = rcv->len;
	if (rcv->parse_rc == 0) {
		struct sip_str c = rcv->msg->call_id, b = rcv->msg->body;

		snprintf(s.call_id, sizeof(s.call_id), "%.*s", (int)c.len, c.p);
		s.body_len = b.len;
		snprintf(s.body, sizeof(s.body), "%.*s", (int)b.len, b.p);
	}
	if ((r->echo == ECHO_OK && rcv->parse_rc == 0 &&
	     rcv->msg->is_request) ||
	    (r->echo == ECHO_400 && rcv->parse_rc != 0)) {
		const char *txt = r->echo == ECHO_OK ?
					  reply_200 :
					  "SIP/2.0 400 Bad Request\r\n"
					  "Content-Length: 0\r\n\r\n";

		rc = tp_send(r->tp, &rcv->src, txt, strlen(txt));
	}
	pthread_mutex_lock(&r->lock);
	if (r->n < KEEP)
		r->seen[r->n] = s;
	if (rc)
		r->echo_rc = rc;
	r->n++;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* Wait until the callback ran @n times in all; false on timeout. */
static bool rec_wait(struct rec *r, unsigned n)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&r->lock);
	while (r->n < n)
		if (pthread_cond_timedwait(&r->cond, &r->lock, &ts) != 0)
			break;
	ok = r->n >= n;
	pthread_mutex_unlock(&r->lock);
	return ok;
}

static unsigned rec_count(struct rec *r)
{
	unsigned n;

	pthread_mutex_lock(&r->lock);
	n = r->n;
	pthread_mutex_unlock(&r->lock);
	return n;
}

static int64_t stat_of(struct fx *f, const char *name)
{
	struct stat_var *v = stats_find(f->st, name);

	assert_non_null(v);
	return stat_get(v);
}

/* Poll a statistic until it reaches @want (workers update it). */
static bool stat_wait(struct fx *f, const char *name, int64_t want)
{
	for (int i = 0; i < WAIT_MS / 10; i++) {
		if (stat_of(f, name) == want)
			return true;
		usleep(10000);
	}
	return false;
}

/* --- messages ------------------------------------------------------------ */

static size_t mk_invite(char *buf, size_t len, const char *proto, int n,
			const char *body)
{
	int r = snprintf(buf, len,
			 "INVITE sip:bob@example.com SIP/2.0\r\n"
			 "Via: SIP/2.0/%s 127.0.0.1:5099;branch=z9hG4bK-%d\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <sip:alice@example.com>;tag=a%d\r\n"
			 "To: <sip:bob@example.com>\r\n"
			 "Call-ID: call-%d@test\r\n"
			 "CSeq: 1 INVITE\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 proto, n, n, n, strlen(body), body);

	assert_true(r > 0 && (size_t)r < len);
	return (size_t)r;
}

/* --- sockets of the test side --------------------------------------------- */

static void add_listen(struct sipdlg_config *cfg, enum cfg_proto proto,
		       const char *host, uint16_t port)
{
	struct cfg_listen *l = &cfg->listen[cfg->n_listen++];

	memset(l, 0, sizeof(*l));
	l->proto = proto;
	snprintf(l->host, sizeof(l->host), "%s", host);
	l->port = port;
	if (strchr(host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&l->addr;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, host, &a->sin6_addr), 1);
		l->addr_len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&l->addr;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, host, &a->sin_addr), 1);
		l->addr_len = sizeof(*a);
	}
}

static bool have_v6(void)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	bool ok;

	if (fd < 0)
		return false;
	ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

static void set_timeout(int fd)
{
	struct timeval tv = { .tv_sec = WAIT_MS / 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static struct tp_addr listen_addr(struct fx *f, int idx)
{
	struct tp_addr a;
	enum tp_proto p;

	assert_int_equal(tp_listen_addr(f->tp, idx, &p, &a), 0);
	return a;
}

/* A client socket of @type connected to listen entry @idx. */
static int client(struct fx *f, int idx, int type)
{
	struct tp_addr a = listen_addr(f, idx);
	int fd = socket(a.ss.ss_family, type, 0), one = 1;

	assert_true(fd >= 0);
	set_timeout(fd);
	if (type == SOCK_STREAM)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	assert_int_equal(connect(fd, (struct sockaddr *)&a.ss, a.len), 0);
	return fd;
}

static struct tp_addr local_of(int fd)
{
	struct tp_addr a = { .len = sizeof(a.ss) };

	assert_int_equal(getsockname(fd, (struct sockaddr *)&a.ss, &a.len), 0);
	return a;
}

static bool addr_eq(const struct tp_addr *a, const struct tp_addr *b)
{
	if (a->ss.ss_family != b->ss.ss_family)
		return false;
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)&a->ss,
					 *y = (const void *)&b->ss;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)&a->ss,
				  *y = (const void *)&b->ss;

	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		assert_true(n > 0);
		buf += n;
		len -= (size_t)n;
	}
}

/* Read until @needle shows up (true) or EOF/timeout (false). */
static bool read_until(int fd, const char *needle, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = '\0';
	while (len + 1 < cap) {
		ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);

		if (n <= 0)
			return false;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, needle))
			return true;
	}
	return false;
}

/* True when the peer closed @fd (EOF or reset) within the timeout. */
static bool wait_closed(int fd)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		if (n < 0)
			return false;	/* timeout */
	}
}

/* --- fixture -------------------------------------------------------------- */

static int fx_open(struct fx *f, const struct tp_tcp_limits *lim)
{
	char err[256];
	int r;

	r = tp_alloc(f->cfg, f->st, on_rcv, &f->rec, &f->tp, err, sizeof(err));
	if (r) {
		fprintf(stderr, "tp_alloc: %s\n", err);
		return r;
	}
	f->rec.tp = f->tp;
	if (lim) {
		r = tp_set_tcp_limits(f->tp, lim);
		if (r)
			return r;
	}
	return tp_start(f->tp);
}

/* Allocate everything but the transport (tests with their own limits). */
static int setup_bare(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	pthread_mutex_init(&f->rec.lock, NULL);
	pthread_cond_init(&f->rec.cond, NULL);
	f->st = stats_alloc();
	f->cfg = cfg_alloc_defaults();
	if (!f->st || !f->cfg)
		return -1;
	f->cfg->workers = 2;
	f->cfg->n_listen = 0;
	f->udp6 = f->tcp6 = -1;
	f->udp4 = 0;
	add_listen(f->cfg, CFG_PROTO_UDP, "127.0.0.1", 0);
	f->tcp4 = 1;
	add_listen(f->cfg, CFG_PROTO_TCP, "127.0.0.1", 0);
	f->v6 = have_v6();
	if (f->v6) {
		f->udp6 = 2;
		add_listen(f->cfg, CFG_PROTO_UDP, "::1", 0);
		f->tcp6 = 3;
		add_listen(f->cfg, CFG_PROTO_TCP, "::1", 0);
	}
	*state = f;
	return 0;
}

static int setup(void **state)
{
	if (setup_bare(state))
		return -1;
	return fx_open(*state, NULL) ? -1 : 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tp_free(f->tp);
	if (f->st)
		assert_int_equal(stat_get(stats_find(f->st, "core:tcp_open")), 0);
	stats_free(f->st);
	cfg_free(f->cfg);
	pthread_mutex_destroy(&f->rec.lock);
	pthread_cond_destroy(&f->rec.cond);
	free(f);
	return 0;
}

/* --- UDP ------------------------------------------------------------------ */

static void check_udp_deliver(struct fx *f, int idx)
{
	char buf[1024];
	size_t len = mk_invite(buf, sizeof(buf), "UDP", 1, "");
	int fd = client(f, idx, SOCK_DGRAM);
	struct tp_addr me = local_of(fd);

	assert_int_equal(send(fd, buf, len, 0), (ssize_t)len);
	assert_true(rec_wait(&f->rec, 1));
	assert_int_equal(f->rec.seen[0].rc, 0);
	assert_string_equal(f->rec.seen[0].call_id, "call-1@test");
	assert_int_equal(f->rec.seen[0].src.proto, TP_UDP);
	assert_int_equal(f->rec.seen[0].src.listen_idx, idx);
	assert_int_equal(f->rec.seen[0].src.conn_id, 0);
	assert_int_equal(f->rec.seen[0].len, len);
	assert_true(addr_eq(&f->rec.seen[0].src.remote, &me));
	assert_true(f->rec.seen[0].worker < 2);
	assert_int_equal(f->rec.seen[0].self, (int)f->rec.seen[0].worker);
	close(fd);
}

static void test_udp_v4_deliver(void **state)
{
	struct fx *f = *state;

	check_udp_deliver(f, f->udp4);
	assert_true(stat_of(f, "core:rcv_datagrams") >= 1);
	assert_true(stat_of(f, "core:rcv_bytes") > 0);
}

static void test_udp_v6_deliver(void **state)
{
	struct fx *f = *state;

	if (!f->v6)
		skip();
	check_udp_deliver(f, f->udp6);
}

static void test_udp_burst(void **state)
{
	struct fx *f = *state;
	int fds[4];
	unsigned sent = 0;
	char buf[1024];

	for (int i = 0; i < 4; i++)
		fds[i] = client(f, f->udp4, SOCK_DGRAM);
	/* Four source ports, so both workers' sockets get some. */
	for (int i = 0; i < 1000; i++) {
		size_t len = mk_invite(buf, sizeof(buf), "UDP", i, "");

		assert_int_equal(send(fds[i % 4], buf, len, 0), (ssize_t)len);
		sent++;
		/* Keep under a small default rmem_max, even under valgrind. */
		if (sent % 250 == 0)
			assert_true(rec_wait(&f->rec, sent - 100));
	}
	assert_true(rec_wait(&f->rec, 1000));
	usleep(50000);
	assert_int_equal(rec_count(&f->rec), 1000);
	assert_int_equal(stat_of(f, "core:rcv_datagrams"), 1000);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
}

static void test_udp_malformed_and_keepalive(void **state)
{
	struct fx *f = *state;
	static const char bad[] = "HELLO WORLD\r\nfoo\r\n\r\n";
	char buf[1024];
	size_t len = mk_invite(buf, sizeof(buf), "UDP", 7, "");
	int fd = client(f, f->udp4, SOCK_DGRAM);

	assert_int_equal(send(fd, bad, strlen(bad), 0), (ssize_t)strlen(bad));
	assert_true(rec_wait(&f->rec, 1));
	assert_int_equal(f->rec.seen[0].rc, -EBADMSG);
	assert_int_not_equal(f->rec.seen[0].err, SIP_ERR_NONE);
	assert_int_equal(f->rec.seen[0].len, strlen(bad));
	/* A CRLF keep-alive is not delivered; the next message is. */
	assert_int_equal(send(fd, "\r\n\r\n", 4, 0), 4);
	assert_int_equal(send(fd, buf, len, 0), (ssize_t)len);
	assert_true(rec_wait(&f->rec, 2));
	usleep(20000);
	assert_int_equal(rec_count(&f->rec), 2);
	assert_string_equal(f->rec.seen[1].call_id, "call-7@test");
	assert_int_equal(stat_of(f, "core:rcv_malformed"), 1);
	assert_int_equal(stat_of(f, "core:rcv_keepalives"), 1);
	assert_int_equal(stat_of(f, "core:rcv_datagrams"), 3);
	close(fd);
}

static void test_udp_reply_from_callback(void **state)
{
	struct fx *f = *state;
	char buf[2048];
	size_t len = mk_invite(buf, sizeof(buf), "UDP", 3, "");
	int fd = client(f, f->udp4, SOCK_DGRAM);
	struct tp_addr server = listen_addr(f, f->udp4), from;
	ssize_t n;

	f->rec.echo = ECHO_OK;
	for (int i = 0; i < 3; i++)
		assert_int_equal(send(fd, buf, len, 0), (ssize_t)len);
	for (int i = 0; i < 3; i++) {
		from.len = sizeof(from.ss);
		n = recvfrom(fd, buf, sizeof(buf) - 1, 0,
			     (struct sockaddr *)&from.ss, &from.len);
		assert_int_equal(n, (ssize_t)strlen(reply_200));
		buf[n] = '\0';
		assert_string_equal(buf, reply_200);
		/* It comes from the listen address. */
		assert_true(addr_eq(&from, &server));
	}
	assert_int_equal(f->rec.echo_rc, 0);
	assert_true(stat_wait(f, "core:snd_datagrams", 3));
	close(fd);
}

static void test_udp_send_from_other_thread(void **state)
{
	struct fx *f = *state;
	int fd = client(f, f->udp4, SOCK_DGRAM);
	struct tp_peer dst = { .proto = TP_UDP, .listen_idx = -1 };
	char buf[2048];
	ssize_t n;

	dst.remote = local_of(fd);
	assert_int_equal(tp_worker_self(f->tp), -1);
	assert_int_equal(tp_send(f->tp, &dst, reply_200, strlen(reply_200)),
			 0);
	n = recv(fd, buf, sizeof(buf), 0);
	assert_int_equal(n, (ssize_t)strlen(reply_200));
	assert_int_equal(stat_of(f, "core:snd_datagrams"), 1);
	assert_int_equal(stat_of(f, "core:snd_bytes"), (int64_t)n);

	/* A TCP listen entry cannot carry UDP. */
	dst.listen_idx = f->tcp4;
	assert_int_equal(tp_send(f->tp, &dst, "x", 1), -EINVAL);
	dst.listen_idx = -1;
	dst.remote.ss.ss_family = AF_UNSPEC;
	assert_int_equal(tp_send(f->tp, &dst, "x", 1), -EAFNOSUPPORT);
	close(fd);
}

/* --- TCP ------------------------------------------------------------------ */

static void test_tcp_two_in_one_write(void **state)
{
	struct fx *f = *state;
	char a[1024], b[1024], both[2048];
	size_t la = mk_invite(a, sizeof(a), "TCP", 1, "");
	size_t lb = mk_invite(b, sizeof(b), "TCP", 2, "v=0\r\n");
	int fd = client(f, f->tcp4, SOCK_STREAM);
	struct tp_addr me = local_of(fd);

	memcpy(both, a, la);
	memcpy(both + la, b, lb);
	write_all(fd, both, la + lb);
	assert_true(rec_wait(&f->rec, 2));
	assert_int_equal(f->rec.seen[0].rc, 0);
	assert_int_equal(f->rec.seen[1].rc, 0);
	assert_string_equal(f->rec.seen[0].call_id, "call-1@test");
	assert_string_equal(f->rec.seen[1].call_id, "call-2@test");
	assert_int_equal(f->rec.seen[0].len, la);
	assert_int_equal(f->rec.seen[1].len, lb);
	assert_string_equal(f->rec.seen[1].body, "v=0\r\n");
	assert_int_equal(f->rec.seen[0].src.proto, TP_TCP);
	assert_int_equal(f->rec.seen[0].src.listen_idx, f->tcp4);
	assert_true(f->rec.seen[0].src.conn_id != 0);
	assert_true(f->rec.seen[0].src.conn_id == f->rec.seen[1].src.conn_id);
	assert_true(addr_eq(&f->rec.seen[0].src.remote, &me));
	assert_int_equal(stat_of(f, "core:tcp_connections"), 1);
	assert_int_equal(stat_of(f, "core:tcp_open"), 1);
	assert_int_equal(stat_of(f, "core:rcv_tcp_msgs"), 2);
	close(fd);
	assert_true(stat_wait(f, "core:tcp_open", 0));
}

static void test_tcp_byte_by_byte_with_body(void **state)
{
	struct fx *f = *state;
	static const char body[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"
				   "s=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n";
	char buf[2048];
	size_t len = mk_invite(buf, sizeof(buf), "TCP", 5, body);
	int fd = client(f, f->tcp4, SOCK_STREAM);

	/* Leading CRLFs (a keep-alive) are skipped. */
	write_all(fd, "\r\n", 2);
	for (size_t i = 0; i < len; i++) {
		write_all(fd, buf + i, 1);
		if (i % 16 == 0)
			usleep(200);	/* really separate segments */
	}
	assert_true(rec_wait(&f->rec, 1));
	assert_int_equal(f->rec.seen[0].rc, 0);
	assert_string_equal(f->rec.seen[0].call_id, "call-5@test");
	assert_int_equal(f->rec.seen[0].body_len, strlen(body));
	assert_string_equal(f->rec.seen[0].body, body);
	assert_int_equal(f->rec.seen[0].len, len);
	/* A second message on the same connection still frames. */
	len = mk_invite(buf, sizeof(buf), "TCP", 6, "");
	write_all(fd, buf, len);
	assert_true(rec_wait(&f->rec, 2));
	assert_string_equal(f->rec.seen[1].call_id, "call-6@test");
	usleep(20000);
	assert_int_equal(rec_count(&f->rec), 2);
	close(fd);
}

static void check_tcp_reply(struct fx *f, int idx)
{
	char buf[4096];
	size_t len = mk_invite(buf, sizeof(buf), "TCP", 9, "");
	int fd = client(f, idx, SOCK_STREAM);
	struct tp_peer src;

	f->rec.echo = ECHO_OK;
	write_all(fd, buf, len);
	assert_true(rec_wait(&f->rec, 1));
	assert_true(read_until(fd, "Content-Length: 0\r\n\r\n", buf,
			       sizeof(buf)));
	assert_string_equal(buf, reply_200);
	assert_int_equal(f->rec.echo_rc, 0);

	/* From the test thread, by conn_id alone (no address). */
	src = f->rec.seen[0].src;
	memset(&src.remote, 0, sizeof(src.remote));
	assert_int_equal(tp_send(f->tp, &src, "SIP/2.0 180 Ringing\r\n"
				 "Content-Length: 0\r\n\r\n", 40), 0);
	assert_true(read_until(fd, "180 Ringing", buf, sizeof(buf)));
	assert_int_equal(stat_of(f, "core:tcp_connections"), 1);
	close(fd);
	assert_true(stat_wait(f, "core:tcp_open", 0));
	/* The connection is gone and there is no address to reach. */
	assert_int_equal(tp_send(f->tp, &src, "x", 1), -ENOTCONN);
}

static void test_tcp_reply_same_connection(void **state)
{
	struct fx *f = *state;

	check_tcp_reply(f, f->tcp4);
}

static void test_tcp_v6(void **state)
{
	struct fx *f = *state;

	if (!f->v6)
		skip();
	check_tcp_reply(f, f->tcp6);
	assert_int_equal(f->rec.seen[0].src.remote.ss.ss_family, AF_INET6);
	assert_int_equal(f->rec.seen[0].src.listen_idx, f->tcp6);
}

/* A plain listening socket of the test, on 127.0.0.1:0. */
static int test_listener(struct tp_addr *a)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(a, 0, sizeof(*a));
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->len = sizeof(*in);
	assert_int_equal(bind(fd, (struct sockaddr *)in, a->len), 0);
	assert_int_equal(listen(fd, 8), 0);
	*a = local_of(fd);
	return fd;
}

static bool pending_accept(int lfd, int ms)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static void test_tcp_connect_out(void **state)
{
	struct fx *f = *state;
	struct tp_peer dst = { .proto = TP_TCP, .listen_idx = -1 };
	char buf[4096];
	int lfd = test_listener(&dst.remote), cfd;
	size_t len;
	uint64_t id;

	assert_int_equal(tp_send(f->tp, &dst, "OPTIONS one\r\n", 13), 0);
	assert_true(pending_accept(lfd, WAIT_MS));
	cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	set_timeout(cfd);
	assert_true(read_until(cfd, "OPTIONS one\r\n", buf, sizeof(buf)));
	/* A second send reuses the connection. */
	assert_int_equal(tp_send(f->tp, &dst, "OPTIONS two\r\n", 13), 0);
	assert_true(read_until(cfd, "OPTIONS two\r\n", buf, sizeof(buf)));
	assert_false(pending_accept(lfd, 50));
	assert_int_equal(stat_of(f, "core:tcp_connections"), 1);

	/* What the peer sends back is delivered with the connection's id. */
	len = mk_invite(buf, sizeof(buf), "TCP", 11, "");
	write_all(cfd, buf, len);
	assert_true(rec_wait(&f->rec, 1));
	assert_int_equal(f->rec.seen[0].rc, 0);
	assert_int_equal(f->rec.seen[0].src.proto, TP_TCP);
	assert_true(addr_eq(&f->rec.seen[0].src.remote, &dst.remote));
	id = f->rec.seen[0].src.conn_id;
	assert_true(id != 0);
	/* And that id reaches the same connection. */
	dst.conn_id = id;
	assert_int_equal(tp_send(f->tp, &dst, "OPTIONS three\r\n", 15), 0);
	assert_true(read_until(cfd, "OPTIONS three\r\n", buf, sizeof(buf)));
	close(cfd);
	close(lfd);
	assert_true(stat_wait(f, "core:tcp_open", 0));
}

static void test_tcp_connect_refused(void **state)
{
	struct fx *f = *state;
	struct tp_peer dst = { .proto = TP_TCP, .listen_idx = -1 };
	int lfd = test_listener(&dst.remote);
	int r;

	close(lfd);	/* nothing listens there now */
	r = tp_send(f->tp, &dst, "OPTIONS x\r\n", 11);
	/* Refused at once, or when the owner sees the handshake fail. */
	assert_true(r == 0 || r == -ECONNREFUSED);
	assert_true(stat_wait(f, "core:tcp_connect_failed", 1));
	assert_true(stat_wait(f, "core:tcp_open", 0));
}

static void test_tcp_malformed_closes(void **state)
{
	struct fx *f = *state;
	static const char bad[] = "INVITE sip:bob@example.com SIP/2.0\r\n"
				  "Via: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-x\r\n"
				  "From: <sip:alice@example.com>;tag=a\r\n"
				  "To: <sip:bob@example.com>\r\n"
				  "CSeq: 1 INVITE\r\n"
				  "Content-Length: 0\r\n\r\n";
	char buf[4096];
	int fd = client(f, f->tcp4, SOCK_STREAM);

	f->rec.echo = ECHO_400;
	write_all(fd, bad, strlen(bad));
	assert_true(rec_wait(&f->rec, 1));
	assert_int_equal(f->rec.seen[0].rc, -EBADMSG);
	assert_int_equal(f->rec.seen[0].err, SIP_ERR_NO_CALL_ID);
	assert_int_equal(f->rec.seen[0].src.proto, TP_TCP);
	/* The 400 the callback sent arrives, then the connection ends. */
	assert_true(read_until(fd, "400 Bad Request", buf, sizeof(buf)));
	assert_true(wait_closed(fd));
	assert_int_equal(stat_of(f, "core:tcp_framing_errors"), 1);
	assert_int_equal(stat_of(f, "core:rcv_malformed"), 1);
	assert_true(stat_wait(f, "core:tcp_open", 0));
	close(fd);
}

static void test_tcp_keepalive_pong(void **state)
{
	struct fx *f = *state;
	char buf[16];
	int fd = client(f, f->tcp4, SOCK_STREAM);

	write_all(fd, "\r\n\r\n", 4);
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 2);
	assert_memory_equal(buf, "\r\n", 2);
	assert_int_equal(rec_count(&f->rec), 0);
	close(fd);
}

static void test_tcp_keepalive_split(void **state)
{
	struct fx *f = *state;
	char buf[16];
	int fd = client(f, f->tcp4, SOCK_STREAM);

	write_all(fd, "\r\n", 2);
	usleep(50000);
	write_all(fd, "\r\n", 2);
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 2);
	assert_int_equal(stat_of(f, "core:rcv_keepalives"), 1);
	close(fd);
}

/* A 40 kB body, then 200 messages in one write (several reads' worth). */
static void test_tcp_large_and_pipelined(void **state)
{
	struct fx *f = *state;
	size_t big_len = 40000, cap = 300000, len = 0;
	char *body = malloc(big_len + 1), *buf = malloc(cap);
	int fd = client(f, f->tcp4, SOCK_STREAM);

	assert_non_null(body);
	assert_non_null(buf);
	memset(body, 'b', big_len);
	body[big_len] = '\0';
	len = mk_invite(buf, cap, "TCP", 0, body);
	write_all(fd, buf, len);
	assert_true(rec_wait(&f->rec, 1));
	assert_int_equal(f->rec.seen[0].rc, 0);
	assert_int_equal(f->rec.seen[0].body_len, big_len);
	len = 0;
	for (int i = 1; i <= 200; i++)
		len += mk_invite(buf + len, cap - len, "TCP", i, "v=0\r\n");
	write_all(fd, buf, len);
	assert_true(rec_wait(&f->rec, 201));
	for (int i = 1; i < KEEP; i++) {
		char want[32];

		snprintf(want, sizeof(want), "call-%d@test", i);
		assert_string_equal(f->rec.seen[i].call_id, want);
	}
	assert_int_equal(stat_of(f, "core:rcv_tcp_msgs"), 201);
	assert_int_equal(stat_of(f, "core:tcp_framing_errors"), 0);
	free(body);
	free(buf);
	close(fd);
}

/* Content-Length past the 65535-byte limit: malformed, then closed. */
static void test_tcp_too_big(void **state)
{
	struct fx *f = *state;
	static const char hdr[] = "MESSAGE sip:bob@example.com SIP/2.0\r\n"
				  "Via: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-y\r\n"
				  "From: <sip:alice@example.com>;tag=a\r\n"
				  "To: <sip:bob@example.com>\r\n"
				  "Call-ID: big@test\r\n"
				  "CSeq: 1 MESSAGE\r\n"
				  "Content-Length: 70000\r\n\r\n";
	int fd = client(f, f->tcp4, SOCK_STREAM);

	write_all(fd, hdr, strlen(hdr));
	assert_true(rec_wait(&f->rec, 1));
	assert_int_equal(f->rec.seen[0].rc, -EBADMSG);
	assert_int_equal(f->rec.seen[0].err, SIP_ERR_TOO_BIG);
	assert_true(wait_closed(fd));
	assert_int_equal(stat_of(f, "core:tcp_framing_errors"), 1);
	close(fd);
}

static void test_tcp_idle_timeout(void **state)
{
	struct fx *f = *state;
	struct tp_tcp_limits lim = { .idle_timeout_ms = 300 };
	char buf[1024];
	size_t len;
	int quiet, busy;

	assert_int_equal(fx_open(f, &lim), 0);
	assert_int_equal(tp_set_tcp_limits(f->tp, &lim), -EBUSY);
	quiet = client(f, f->tcp4, SOCK_STREAM);
	busy = client(f, f->tcp4, SOCK_STREAM);
	assert_true(stat_wait(f, "core:tcp_open", 2));
	/* The busy one talks every 100 ms and stays; the quiet one goes. */
	for (int i = 0; i < 8; i++) {
		len = mk_invite(buf, sizeof(buf), "TCP", i, "");
		write_all(busy, buf, len);
		usleep(100000);
	}
	assert_true(wait_closed(quiet));
	assert_true(stat_wait(f, "core:tcp_idle_closed", 1));
	assert_true(rec_wait(&f->rec, 8));
	assert_int_equal(stat_of(f, "core:tcp_open"), 1);
	assert_true(wait_closed(busy));
	assert_true(stat_wait(f, "core:tcp_idle_closed", 2));
	close(quiet);
	close(busy);
}

static void test_tcp_connection_cap(void **state)
{
	struct fx *f = *state;
	struct tp_tcp_limits lim = { .max_conns = 2 };
	char buf[1024];
	size_t len = mk_invite(buf, sizeof(buf), "TCP", 1, "");
	int a, b, c;

	/* No reserve: the default one (256) would leave clients nothing. */
	f->cfg->tcp.reserved_outbound = 0;
	assert_int_equal(fx_open(f, &lim), 0);
	a = client(f, f->tcp4, SOCK_STREAM);
	b = client(f, f->tcp4, SOCK_STREAM);
	assert_true(stat_wait(f, "core:tcp_open", 2));
	c = client(f, f->tcp4, SOCK_STREAM);
	assert_true(wait_closed(c));
	assert_true(stat_wait(f, "core:tcp_refused", 1));
	write_all(a, buf, len);
	write_all(b, buf, len);
	assert_true(rec_wait(&f->rec, 2));
	assert_int_equal(stat_of(f, "core:tcp_open"), 2);
	/* Outgoing connections count too. */
	{
		struct tp_peer dst = { .proto = TP_TCP, .listen_idx = -1 };
		int lfd = test_listener(&dst.remote);

		assert_int_equal(tp_send(f->tp, &dst, "x", 1), -ENOBUFS);
		close(lfd);
	}
	assert_int_equal(stat_of(f, "core:tcp_refused"), 2);
	close(a);
	close(b);
	close(c);
}

/* A TCP client to listen entry @idx that leaves from @src (127.0.0.x). */
static int client_from(struct fx *f, int idx, const char *src)
{
	struct tp_addr a = listen_addr(f, idx);
	struct sockaddr_in me = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, src, &me.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
	set_timeout(fd);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	assert_int_equal(connect(fd, (struct sockaddr *)&a.ss, a.len), 0);
	return fd;
}

/* Still open: nothing to read and no EOF within @ms. */
static bool still_open(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 0;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*
 * The message deadline: a message trickled a byte at a time is cut when
 * its first byte is message_timeout old, although bytes keep coming (the
 * slowloris); a connection idle between messages outlives the deadline;
 * a message sent in parts that ends in time goes through.
 */
static void test_tcp_message_deadline(void **state)
{
	struct fx *f = *state;
	struct tp_tcp_limits lim = { .msg_timeout_ms = 400,
				     .idle_timeout_ms = 60000 };
	char buf[1024];
	size_t len = mk_invite(buf, sizeof(buf), "TCP", 1, "");
	int slow, calm, parts;
	uint64_t t0;
	size_t i;

	assert_int_equal(fx_open(f, &lim), 0);
	slow = client(f, f->tcp4, SOCK_STREAM);
	calm = client(f, f->tcp4, SOCK_STREAM);
	parts = client(f, f->tcp4, SOCK_STREAM);
	assert_true(stat_wait(f, "core:tcp_open", 3));

	/* calm: one whole message, then quiet. */
	write_all(calm, buf, len);
	assert_true(rec_wait(&f->rec, 1));

	/* slow: a byte every 50 ms; cut after about 400 ms. */
	t0 = mono_ms();
	for (i = 0; i < len && mono_ms() - t0 < 3000; i++) {
		if (send(slow, buf + i, 1, MSG_NOSIGNAL) != 1)
			break;
		if (!still_open(slow, 50))
			break;
	}
	assert_true(wait_closed(slow));
	assert_true(mono_ms() - t0 < 2000);
	assert_true(i < len);
	assert_true(stat_wait(f, "core:tcp_message_timeout", 1));
	assert_int_equal(stat_of(f, "core:tcp_idle_closed"), 0);

	/* parts: two halves 200 ms apart, within the deadline. */
	mk_invite(buf, sizeof(buf), "TCP", 2, "");
	write_all(parts, buf, len / 2);
	usleep(200000);
	write_all(parts, buf + len / 2, len - len / 2);
	assert_true(rec_wait(&f->rec, 2));

	/* calm outlived two deadlines of quiet and still delivers. */
	assert_true(still_open(calm, 100));
	mk_invite(buf, sizeof(buf), "TCP", 3, "");
	write_all(calm, buf, len);
	assert_true(rec_wait(&f->rec, 3));
	assert_int_equal(rec_count(&f->rec), 3);
	assert_int_equal(stat_of(f, "core:tcp_message_timeout"), 1);
	assert_int_equal(stat_of(f, "core:tcp_open"), 2);
	close(slow);
	close(calm);
	close(parts);
}

/* Trickled bytes of a message do not hold off the idle timeout either. */
static void test_tcp_trickle_not_activity(void **state)
{
	struct fx *f = *state;
	struct tp_tcp_limits lim = { .msg_timeout_ms = 60000,
				     .idle_timeout_ms = 300 };
	char buf[1024];
	size_t len = mk_invite(buf, sizeof(buf), "TCP", 1, "");
	uint64_t t0;
	int fd;

	assert_int_equal(fx_open(f, &lim), 0);
	fd = client(f, f->tcp4, SOCK_STREAM);
	t0 = mono_ms();
	for (size_t i = 0; i < len && mono_ms() - t0 < 3000; i++) {
		if (send(fd, buf + i, 1, MSG_NOSIGNAL) != 1 ||
		    !still_open(fd, 50))
			break;
	}
	assert_true(wait_closed(fd));
	assert_true(mono_ms() - t0 < 2000);
	assert_true(stat_wait(f, "core:tcp_idle_closed", 1));
	assert_int_equal(stat_of(f, "core:tcp_message_timeout"), 0);
	assert_int_equal(rec_count(&f->rec), 0);
	close(fd);
}

/*
 * The per-source cap: a third connection from 127.0.0.1 is refused while
 * 127.0.0.2 still gets in; a closed connection gives its source's slot
 * back.
 */
static void test_tcp_per_source_cap(void **state)
{
	struct fx *f = *state;
	struct tp_tcp_limits lim = { .max_conns_per_source = 2 };
	char buf[1024];
	size_t len = mk_invite(buf, sizeof(buf), "TCP", 1, "");
	int a, b, c, d, e;

	assert_int_equal(fx_open(f, &lim), 0);
	a = client_from(f, f->tcp4, "127.0.0.1");
	b = client_from(f, f->tcp4, "127.0.0.1");
	assert_true(stat_wait(f, "core:tcp_open", 2));
	c = client_from(f, f->tcp4, "127.0.0.1");
	assert_true(wait_closed(c));
	assert_true(stat_wait(f, "core:tcp_refused_per_source", 1));
	assert_int_equal(stat_of(f, "core:tcp_refused"), 1);
	assert_int_equal(stat_of(f, "core:tcp_refused_inbound"), 0);
	d = client_from(f, f->tcp4, "127.0.0.2");
	write_all(d, buf, len);
	assert_true(rec_wait(&f->rec, 1));
	assert_int_equal(stat_of(f, "core:tcp_open"), 3);
	close(a);
	assert_true(stat_wait(f, "core:tcp_open", 2));
	e = client_from(f, f->tcp4, "127.0.0.1");
	mk_invite(buf, sizeof(buf), "TCP", 2, "");
	write_all(e, buf, len);
	assert_true(rec_wait(&f->rec, 2));
	assert_int_equal(stat_of(f, "core:tcp_refused_per_source"), 1);
	close(b);
	close(c);
	close(d);
	close(e);
}

/*
 * The outbound reserve: with 4 connections of which 2 are reserved, the
 * third client is refused, yet the proxy still opens two connections of
 * its own; a fifth connection, of either kind, is refused.
 */
static void test_tcp_outbound_reserve(void **state)
{
	struct fx *f = *state;
	struct tp_tcp_limits lim = { .max_conns = 4, .reserved_out = 2,
				     .max_conns_per_source = 4 };
	struct tp_peer dst[3];
	char buf[1024];
	size_t len;
	int lfd[3], a, b, c, got;

	assert_int_equal(fx_open(f, &lim), 0);
	a = client_from(f, f->tcp4, "127.0.0.1");
	b = client_from(f, f->tcp4, "127.0.0.2");
	/* Both send a request: nothing to evict for the third. */
	len = mk_invite(buf, sizeof(buf), "TCP", 1, "");
	write_all(a, buf, len);
	len = mk_invite(buf, sizeof(buf), "TCP", 2, "");
	write_all(b, buf, len);
	assert_true(rec_wait(&f->rec, 2));
	c = client_from(f, f->tcp4, "127.0.0.3");
	assert_true(wait_closed(c));
	assert_true(stat_wait(f, "core:tcp_refused_inbound", 1));
	assert_int_equal(stat_of(f, "core:tcp_refused_per_source"), 0);
	for (int i = 0; i < 3; i++) {
		dst[i] = (struct tp_peer){ .proto = TP_TCP, .listen_idx = -1 };
		lfd[i] = test_listener(&dst[i].remote);
	}
	assert_int_equal(tp_send(f->tp, &dst[0], "OPTIONS\r\n", 9), 0);
	assert_int_equal(tp_send(f->tp, &dst[1], "OPTIONS\r\n", 9), 0);
	assert_int_equal(tp_send(f->tp, &dst[2], "OPTIONS\r\n", 9), -ENOBUFS);
	/* The outbound connections did connect. */
	for (int i = 0; i < 2; i++) {
		int s = accept(lfd[i], NULL, NULL);
		char in[9];	/* "OPTIONS\r\n" */

		assert_true(s >= 0);
		set_timeout(s);
		got = (int)recv(s, in, sizeof(in), MSG_WAITALL);
		assert_int_equal(got, 9);
		close(s);
	}
	assert_int_equal(stat_of(f, "core:tcp_refused"), 2);
	for (int i = 0; i < 3; i++)
		close(lfd[i]);
	close(a);
	close(b);
	close(c);
}

/*
 * The clients' share full: a newcomer pushes out the oldest connection
 * that never sent a whole message (once it is a second old), never one
 * that did; with none such left it is refused.
 */
static void test_tcp_evict_unproven(void **state)
{
	struct fx *f = *state;
	struct tp_tcp_limits lim = { .max_conns = 4, .reserved_out = 2,
				     .max_conns_per_source = 4 };
	char buf[1024];
	size_t len = mk_invite(buf, sizeof(buf), "TCP", 1, "");
	int talker, mute, young, late;

	assert_int_equal(fx_open(f, &lim), 0);
	talker = client_from(f, f->tcp4, "127.0.0.1");
	write_all(talker, buf, len);
	assert_true(rec_wait(&f->rec, 1));
	mute = client_from(f, f->tcp4, "127.0.0.2");
	assert_true(stat_wait(f, "core:tcp_open", 2));
	/* mute is too young to be pushed out yet. */
	young = client_from(f, f->tcp4, "127.0.0.3");
	assert_true(wait_closed(young));
	assert_true(stat_wait(f, "core:tcp_refused_inbound", 1));
	usleep(1100 * 1000);
	late = client_from(f, f->tcp4, "127.0.0.3");
	assert_true(wait_closed(mute));
	assert_true(stat_wait(f, "core:tcp_evicted", 1));
	len = mk_invite(buf, sizeof(buf), "TCP", 2, "");
	write_all(late, buf, len);
	assert_true(rec_wait(&f->rec, 2));
	assert_true(still_open(talker, 50));
	assert_int_equal(stat_of(f, "core:tcp_open"), 2);
	/* Both in are proven: the next one is refused, nobody evicted. */
	close(young);
	young = client_from(f, f->tcp4, "127.0.0.4");
	assert_true(wait_closed(young));
	assert_true(stat_wait(f, "core:tcp_refused_inbound", 2));
	assert_int_equal(stat_of(f, "core:tcp_evicted"), 1);
	close(talker);
	close(mute);
	close(young);
	close(late);
}

/*
 * One valid message per connection, then silence (issue 16): such
 * connections are proven, so the unproven list never sees them.  With
 * the clients' share full of them, a newcomer is refused while they are
 * fresh, then pushes out the longest idle connection of the source
 * holding the most (never the lone client of another source); the
 * outbound reserve stays untouched.
 */
static void test_tcp_evict_idle_proven(void **state)
{
	struct fx *f = *state;
	struct tp_tcp_limits lim = { .max_conns = 6, .reserved_out = 2,
				     .max_conns_per_source = 4 };
	char buf[1024];
	size_t len;
	int atk[3], lone, early, late, lfd, s;
	struct tp_peer dst = { .proto = TP_TCP, .listen_idx = -1 };

	assert_int_equal(fx_open(f, &lim), 0);
	for (int i = 0; i < 3; i++) {
		atk[i] = client_from(f, f->tcp4, "127.0.0.1");
		len = mk_invite(buf, sizeof(buf), "TCP", 10 + i, "");
		write_all(atk[i], buf, len);
		assert_true(rec_wait(&f->rec, (unsigned)i + 1));
		usleep(20 * 1000);	/* atk[0] is the longest idle */
	}
	lone = client_from(f, f->tcp4, "127.0.0.2");
	len = mk_invite(buf, sizeof(buf), "TCP", 20, "");
	write_all(lone, buf, len);
	assert_true(rec_wait(&f->rec, 4));
	/* all four fresh: refused, nobody evicted */
	early = client_from(f, f->tcp4, "127.0.0.3");
	assert_true(wait_closed(early));
	assert_true(stat_wait(f, "core:tcp_refused_inbound", 1));
	assert_int_equal(stat_of(f, "core:tcp_evicted"), 0);
	usleep(1100 * 1000);
	late = client_from(f, f->tcp4, "127.0.0.3");
	assert_true(wait_closed(atk[0]));
	assert_true(stat_wait(f, "core:tcp_evicted_idle", 1));
	assert_int_equal(stat_of(f, "core:tcp_evicted"), 1);
	len = mk_invite(buf, sizeof(buf), "TCP", 30, "");
	write_all(late, buf, len);
	assert_true(rec_wait(&f->rec, 5));
	assert_true(still_open(lone, 50));
	assert_true(still_open(atk[1], 10));
	assert_true(still_open(atk[2], 10));
	/* the outbound reserve is still there */
	lfd = test_listener(&dst.remote);
	assert_int_equal(tp_send(f->tp, &dst, "OPTIONS\r\n", 9), 0);
	s = accept(lfd, NULL, NULL);
	assert_true(s >= 0);
	close(s);
	close(lfd);
	for (int i = 0; i < 3; i++)
		close(atk[i]);
	close(lone);
	close(early);
	close(late);
}

static struct tp_addr v6(const char *ip)
{
	struct tp_addr a = { .len = sizeof(struct sockaddr_in6) };
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a.ss;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(40000);
	assert_int_equal(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
	return a;
}

/*
 * An IPv6 source is its /64 (a host has a whole /64 to pick addresses
 * from): admission straight through tp_guard_admit, as the accept path
 * calls it, with addresses no test host has.
 */
static void test_tcp_source_is_v6_64(void **state)
{
	struct fx *f = *state;
	struct tp_tcp_limits lim = { .max_conns_per_source = 2 };
	static const char *const ip[] = { "2001:db8::1", "2001:db8::ffff:2",
					  "2001:db8::3", "2001:db8:0:1::1" };
	static const enum tp_refusal want[] = { TP_ADMIT, TP_ADMIT,
						TP_REFUSE_SOURCE, TP_ADMIT };
	struct tp_conn c[4];
	struct tp_conn *victim;
	struct transport *tp;
	uint32_t n = 0;
	char buf[64];

	assert_int_equal(fx_open(f, &lim), 0);
	tp = f->tp;
	memset(c, 0, sizeof(c));
	pthread_mutex_lock(&tp->conn_lock);
	for (int i = 0; i < 4; i++) {
		c[i].remote = v6(ip[i]);
		assert_int_equal(tp_guard_admit(tp, &c[i].remote, &n, &victim),
				 want[i]);
		assert_null(victim);
	}
	assert_int_equal(tp->n_in, 3);
	for (int i = 0; i < 4; i++)
		if (want[i] == TP_ADMIT)
			tp_guard_release(tp, &c[i]);
	assert_int_equal(tp->n_in, 0);
	pthread_mutex_unlock(&tp->conn_lock);
	assert_string_equal(tp_guard_source_str(&c[1].remote, buf,
						sizeof(buf)),
			    "2001:db8::/64");
}

/* Limits that leave clients nothing, or an output cap under 64 KiB. */
static void test_tcp_limits_refused(void **state)
{
	struct fx *f = *state;
	struct tp_tcp_limits bad1 = { .max_conns = 8, .reserved_out = 8 };
	struct tp_tcp_limits bad2 = { .max_out_bytes = 1000 };
	struct tp_tcp_limits ok = { .max_conns = 8, .reserved_out = 7 };
	char err[256];

	assert_int_equal(tp_alloc(f->cfg, f->st, on_rcv, &f->rec, &f->tp, err,
				  sizeof(err)),
			 0);
	f->rec.tp = f->tp;
	assert_int_equal(tp_set_tcp_limits(f->tp, &bad1), -EINVAL);
	assert_int_equal(tp_set_tcp_limits(f->tp, &bad2), -EINVAL);
	assert_int_equal(tp_set_tcp_limits(f->tp, &ok), 0);
	assert_int_equal(tp_start(f->tp), 0);
	assert_int_equal(tp_set_tcp_limits(f->tp, &ok), -EBUSY);
}

static void test_tcp_output_cap(void **state)
{
	struct fx *f = *state;
	struct tp_peer dst = { .proto = TP_TCP, .listen_idx = -1 };
	int lfd = test_listener(&dst.remote), r = 0, i;
	char *big = malloc(60000);

	assert_non_null(big);
	memset(big, 'x', 60000);
	/* The peer never reads: kernel buffers fill, then ours. */
	for (i = 0; i < 2000; i++) {
		r = tp_send(f->tp, &dst, big, 60000);
		if (r)
			break;
	}
	assert_int_equal(r, -ENOBUFS);
	assert_true(stat_of(f, "core:tcp_buffer_full") >= 1);
	free(big);
	close(lfd);
	/* Teardown frees the connection with its full buffer. */
}

static void test_free_with_open_connections(void **state)
{
	struct fx *f = *state;
	struct tp_peer dst = { .proto = TP_TCP, .listen_idx = -1 };
	int lfd = test_listener(&dst.remote);
	int fds[3];
	char buf[1024];
	size_t len = mk_invite(buf, sizeof(buf), "TCP", 1, "");

	for (int i = 0; i < 3; i++)
		fds[i] = client(f, f->tcp4, SOCK_STREAM);
	/* Half a message waits in one input buffer. */
	write_all(fds[0], buf, len / 2);
	assert_int_equal(tp_send(f->tp, &dst, "OPTIONS\r\n", 9), 0);
	assert_true(stat_wait(f, "core:tcp_open", 4));
	tp_free(f->tp);
	f->tp = NULL;
	assert_int_equal(stat_of(f, "core:tcp_open"), 0);
	for (int i = 0; i < 3; i++) {
		assert_true(wait_closed(fds[i]));
		close(fds[i]);
	}
	close(lfd);
}

/* --- setup errors and helpers --------------------------------------------- */

static void check_conflict(struct fx *f, enum cfg_proto proto, int type)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	char err[256], want[128];
	struct transport *tp = NULL;
	int fd = socket(AF_INET, type, 0);

	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	f->cfg->n_listen = 0;
	add_listen(f->cfg, proto, "127.0.0.1", ntohs(a.sin_port));
	assert_int_equal(tp_alloc(f->cfg, f->st, on_rcv, &f->rec, &tp, err,
				  sizeof(err)),
			 -EADDRINUSE);
	assert_null(tp);
	snprintf(want, sizeof(want),
		 "listen: cannot use %s:127.0.0.1:%u: Address already in use",
		 proto == CFG_PROTO_UDP ? "udp" : "tcp", ntohs(a.sin_port));
	assert_string_equal(err, want);
	close(fd);
}

static void test_bind_conflict(void **state)
{
	struct fx *f = *state;

	check_conflict(f, CFG_PROTO_UDP, SOCK_DGRAM);
	check_conflict(f, CFG_PROTO_TCP, SOCK_STREAM);
}

/* A second transport (another sipdlgd) cannot join the first one's ports. */
static void test_second_transport_refused(void **state)
{
	struct fx *f = *state;
	struct sipdlg_config *cfg2 = cfg_alloc_defaults();
	struct transport *tp2 = NULL;
	struct tp_addr a = listen_addr(f, f->udp4);
	char err[256];

	assert_non_null(cfg2);
	cfg2->workers = 1;
	cfg2->n_listen = 0;
	add_listen(cfg2, CFG_PROTO_UDP, "127.0.0.1",
		   ntohs(((struct sockaddr_in *)&a.ss)->sin_port));
	assert_int_equal(tp_alloc(cfg2, f->st, on_rcv, &f->rec, &tp2, err,
				  sizeof(err)),
			 -EADDRINUSE);
	assert_non_null(strstr(err, "listen: cannot use udp:127.0.0.1:"));
	a = listen_addr(f, f->tcp4);
	cfg2->n_listen = 0;
	add_listen(cfg2, CFG_PROTO_TCP, "127.0.0.1",
		   ntohs(((struct sockaddr_in *)&a.ss)->sin_port));
	assert_int_equal(tp_alloc(cfg2, f->st, on_rcv, &f->rec, &tp2, err,
				  sizeof(err)),
			 -EADDRINUSE);
	cfg_free(cfg2);
}

static void test_accessors(void **state)
{
	struct fx *f = *state;
	struct tp_peer p = { .proto = TP_UDP };
	struct sockaddr_in *in = (struct sockaddr_in *)&p.remote.ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&p.remote.ss;
	struct tp_addr a;
	enum tp_proto proto;
	char buf[64];

	assert_int_equal(tp_worker_count(f->tp), 2);
	assert_non_null(tp_worker_loop(f->tp, 0));
	assert_non_null(tp_worker_loop(f->tp, 1));
	assert_null(tp_worker_loop(f->tp, 2));
	assert_int_equal(tp_listen_addr(f->tp, f->tcp4, &proto, &a), 0);
	assert_int_equal(proto, TP_TCP);
	assert_true(ntohs(((struct sockaddr_in *)&a.ss)->sin_port) != 0);
	assert_int_equal(tp_listen_addr(f->tp, 99, &proto, &a), -ENOENT);

	in->sin_family = AF_INET;
	in->sin_port = htons(5060);
	inet_pton(AF_INET, "1.2.3.4", &in->sin_addr);
	assert_string_equal(tp_peer_str(&p, buf, sizeof(buf)),
			    "udp:1.2.3.4:5060");
	memset(&p.remote, 0, sizeof(p.remote));
	p.proto = TP_TCP;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(5061);
	inet_pton(AF_INET6, "::1", &in6->sin6_addr);
	assert_string_equal(tp_peer_str(&p, buf, sizeof(buf)),
			    "tcp:[::1]:5061");
	tp_free(NULL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TB(fn) cmocka_unit_test_setup_teardown(fn, setup_bare, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_udp_v4_deliver),
		T(test_udp_v6_deliver),
		T(test_udp_burst),
		T(test_udp_malformed_and_keepalive),
		T(test_udp_reply_from_callback),
		T(test_udp_send_from_other_thread),
		T(test_tcp_two_in_one_write),
		T(test_tcp_byte_by_byte_with_body),
		T(test_tcp_reply_same_connection),
		T(test_tcp_v6),
		T(test_tcp_connect_out),
		T(test_tcp_connect_refused),
		T(test_tcp_malformed_closes),
		T(test_tcp_keepalive_pong),
		T(test_tcp_keepalive_split),
		T(test_tcp_large_and_pipelined),
		T(test_tcp_too_big),
		TB(test_tcp_idle_timeout),
		TB(test_tcp_connection_cap),
		TB(test_tcp_message_deadline),
		TB(test_tcp_trickle_not_activity),
		TB(test_tcp_per_source_cap),
		TB(test_tcp_outbound_reserve),
		TB(test_tcp_evict_unproven),
		TB(test_tcp_evict_idle_proven),
		TB(test_tcp_source_is_v6_64),
		TB(test_tcp_limits_refused),
		T(test_tcp_output_cap),
		T(test_free_with_open_connections),
		TB(test_bind_conflict),
		T(test_second_transport_refused),
		T(test_accessors),
	};

	log_setup(LOG_LVL_WARN, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
