/*
 * test_control.c - the JSON-RPC control server, over a real unix socket.
 *
 * Each test gets a fresh server on a socket in a mkdtemp() directory under
 * /tmp, served by ev_loop_run() on a second thread; the test thread is the
 * client.  The two share only the stats counters (atomic) and the socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/loop.h"
#include "core/stats.h"
#include "control/ctl_server.h"
#include "control/ctl_methods_core.h"

#define IDLE_MS 300u
#define START_S 1700000000u

struct fx {
	char dir[64];
	char sock[128];
	struct ev_loop *loop;
	struct stats *st;
	struct stat_var *active, *processed, *xdp_events;
	struct ctl_server *srv;
	pthread_t th;
	bool running;
	atomic_int notified;
};

/* --- test methods ----------------------------------------------------------- */

static int m_echo(void *ud, json_t *params, json_t **result,
		  struct ctl_error *err)
{
	*result = params ? json_incref(params) : json_null();
	return 0;
}

static int m_add(void *ud, json_t *params, json_t **result,
		 struct ctl_error *err)
{
	json_t *a = ctl_param(params, 0, "a"), *b = ctl_param(params, 1, "b");

	if (!json_is_integer(a) || !json_is_integer(b))
		return ctl_error_set(err, CTL_ERR_INVALID_PARAMS,
				     "test.add takes two integers");
	*result = json_integer(json_integer_value(a) + json_integer_value(b));
	return 0;
}

static int m_fail(void *ud, json_t *params, json_t **result,
		  struct ctl_error *err)
{
	if (ctl_param_count(params) > 0)
		return -1;	/* no code, no message */
	return ctl_error_set(err, 500, "boom %d", 42);
}

static int m_count(void *ud, json_t *params, json_t **result,
		   struct ctl_error *err)
{
	struct fx *f = ud;

	atomic_fetch_add(&f->notified, 1);
	return 0;	/* no result: {} */
}

/* A string of params[0] bytes. */
static int m_big(void *ud, json_t *params, json_t **result,
		 struct ctl_error *err)
{
	size_t n = (size_t)json_integer_value(ctl_param(params, 0, NULL));
	char *s = malloc(n + 1);

	memset(s, 'b', n);
	s[n] = '\0';
	*result = json_string(s);
	free(s);
	return 0;
}

/* --- fixture ------------------------------------------------------------------ */

static void *serve(void *arg)
{
	struct fx *f = arg;

	ev_loop_run(f->loop);
	return NULL;
}

static int fx_start(struct fx *f)
{
	if (pthread_create(&f->th, NULL, serve, f) != 0)
		return -1;
	f->running = true;
	return 0;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	unsigned idle = *state ? *(unsigned *)*state : IDLE_MS;

	snprintf(f->dir, sizeof(f->dir), "/tmp/sipdlg-ctl-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	/* A missing parent directory is created. */
	snprintf(f->sock, sizeof(f->sock), "%s/run/ctl.sock", f->dir);
	f->loop = ev_loop_alloc();
	f->st = stats_alloc();
	f->active = stats_register(f->st, "dialog", "active_dialogs",
				  STAT_NO_RESET);
	f->processed = stats_register(f->st, "dialog", "processed_dialogs", 0);
	f->xdp_events = stats_register(f->st, "xdp", "events", 0);
	stat_set(f->active, 5);
	stat_set(f->processed, 12);
	stat_set(f->xdp_events, 99);
	f->srv = ctl_server_alloc(f->loop);
	if (!f->loop || !f->st || !f->srv)
		return -1;
	ctl_server_set_idle_timeout(f->srv, idle);
	if (ctl_server_listen(f->srv, f->sock, 0660, NULL) != 0 ||
	    ctl_methods_core_register(f->srv, f->st, "9.9.9-test", START_S) ||
	    ctl_register(f->srv, "test.echo", m_echo, f) ||
	    ctl_register(f->srv, "test.add", m_add, f) ||
	    ctl_register(f->srv, "test.fail", m_fail, f) ||
	    ctl_register(f->srv, "test.count", m_count, f) ||
	    ctl_register(f->srv, "test.big", m_big, f))
		return -1;
	if (fx_start(f))
		return -1;
	*state = f;
	return 0;
}

static void fx_stop(struct fx *f)
{
	if (!f->running)
		return;
	ev_loop_stop(f->loop);
	pthread_join(f->th, NULL);
	f->running = false;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	char run[160];
	struct stat stb;

	fx_stop(f);
	ctl_server_free(f->srv);
	/* The socket file goes with the server. */
	assert_int_equal(stat(f->sock, &stb), -1);
	stats_free(f->st);
	ev_loop_free(f->loop);
	snprintf(run, sizeof(run), "%s/run", f->dir);
	rmdir(run);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* --- a small client ------------------------------------------------------------- */

struct cli {
	int fd;
	char *buf;
	size_t len, cap;
	size_t scanned;		/* buf[..scanned) holds no newline */
};

static int cli_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

static void cli_open(struct cli *c, const struct fx *f)
{
	memset(c, 0, sizeof(*c));
	c->fd = cli_connect(f->sock);
	assert_true(c->fd >= 0);
}

static void cli_close(struct cli *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = c->scanned = 0;
}

static void cli_sendn(struct cli *c, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return;	/* the server may have closed on us */
		s += w;
		n -= (size_t)w;
	}
}

static void cli_send(struct cli *c, const char *s)
{
	cli_sendn(c, s, strlen(s));
}

/*
 * Next "\n"-terminated line, malloc'd without the newline.  NULL when the
 * server closed (EOF or reset) or nothing came within @timeout_ms; *closed
 * tells which.
 */
static char *cli_line(struct cli *c, int timeout_ms, bool *closed)
{
	*closed = false;
	for (;;) {
		char *nl = c->len > c->scanned ?
			memchr(c->buf + c->scanned, '\n', c->len - c->scanned) :
			NULL;
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - c->buf);
			char *line = strndup(c->buf, l);

			memmove(c->buf, nl + 1, c->len - l - 1);
			c->len -= l + 1;
			c->scanned = 0;
			return line;
		}
		c->scanned = c->len;
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return NULL;
		if (c->cap - c->len < 65536) {
			c->cap = c->cap ? c->cap * 2 : 131072;
			c->buf = realloc(c->buf, c->cap);
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n <= 0) {
			*closed = true;
			return NULL;
		}
		c->len += (size_t)n;
	}
}

static json_t *cli_recv(struct cli *c)
{
	bool closed;
	/* generous: valgrind on a loaded 2-CPU machine builds test.big's
	 * 8 MB reply slowly; the wait stays bounded */
	char *line = cli_line(c, 30000, &closed);
	json_error_t jerr;
	json_t *v;

	if (!line)
		fail_msg("no reply (%s)", closed ? "closed" : "timeout");
	v = json_loads(line, 0, &jerr);
	if (!v)
		fail_msg("reply is not JSON: %s: %.200s", jerr.text, line);
	free(line);
	return v;
}

static json_t *cli_call(struct cli *c, const char *req)
{
	cli_send(c, req);
	cli_send(c, "\n");
	return cli_recv(c);
}

/* True if the server closes the connection within @timeout_ms. */
static bool cli_closed(struct cli *c, int timeout_ms)
{
	bool closed;
	char *line = cli_line(c, timeout_ms, &closed);

	if (line) {
		print_error("unexpected line: %.200s\n", line);
		free(line);
		return false;
	}
	return closed;
}

static void assert_result_envelope(json_t *r, json_int_t id)
{
	assert_string_equal(json_string_value(json_object_get(r, "jsonrpc")),
			    "2.0");
	assert_non_null(json_object_get(r, "result"));
	assert_null(json_object_get(r, "error"));
	assert_int_equal(json_integer_value(json_object_get(r, "id")), id);
}

/* An error envelope with @code; @id < 0 means "id": null. */
static void assert_error(json_t *r, int code, json_int_t id)
{
	json_t *e = json_object_get(r, "error");

	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "jsonrpc")),
			    "2.0");
	assert_null(json_object_get(r, "result"));
	assert_true(json_is_object(e));
	assert_int_equal(json_integer_value(json_object_get(e, "code")), code);
	assert_true(json_is_string(json_object_get(e, "message")));
	if (id < 0)
		assert_true(json_is_null(json_object_get(r, "id")));
	else
		assert_int_equal(json_integer_value(json_object_get(r, "id")),
				 id);
}

static const char *err_msg(json_t *r)
{
	return json_string_value(
		json_object_get(json_object_get(r, "error"), "message"));
}

/* A fresh connection still gets a good answer. */
static void assert_server_alive(const struct fx *f)
{
	struct cli c;
	json_t *r;

	cli_open(&c, f);
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"test.add\","
			 "\"params\":[40,2],\"id\":99}");
	assert_result_envelope(r, 99);
	assert_int_equal(json_integer_value(json_object_get(r, "result")), 42);
	json_decref(r);
	cli_close(&c);
}

/* --- tests ----------------------------------------------------------------------- */

static void test_valid_call(void **state)
{
	struct fx *f = *state;
	struct cli c;
	json_t *r, *res;
	struct stat stb;

	/* The socket has the mode asked for. */
	assert_int_equal(stat(f->sock, &stb), 0);
	assert_true(S_ISSOCK(stb.st_mode));
	assert_int_equal(stb.st_mode & 07777, 0660);

	cli_open(&c, f);
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"test.echo\","
			 "\"params\":[1,\"a\",{\"k\":null}],\"id\":7}");
	assert_result_envelope(r, 7);
	res = json_object_get(r, "result");
	assert_int_equal(json_array_size(res), 3);
	assert_string_equal(json_string_value(json_array_get(res, 1)), "a");
	/* Member order is jsonrpc, result, id. */
	char *text = json_dumps(r, JSON_COMPACT);
	assert_string_equal(text, "{\"jsonrpc\":\"2.0\",\"result\":[1,\"a\","
				  "{\"k\":null}],\"id\":7}");
	free(text);
	json_decref(r);

	/* A string id and named params. */
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"test.add\","
			 "\"params\":{\"a\":1,\"b\":2},\"id\":\"x-1\"}");
	assert_string_equal(json_string_value(json_object_get(r, "id")), "x-1");
	assert_int_equal(json_integer_value(json_object_get(r, "result")), 3);
	json_decref(r);

	/* No params at all; no result set gives {}. */
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"test.count\","
			 "\"id\":null}");
	assert_true(json_is_null(json_object_get(r, "id")));
	assert_true(json_is_object(json_object_get(r, "result")));
	assert_int_equal(json_object_size(json_object_get(r, "result")), 0);
	json_decref(r);

	/* system.listMethods */
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"system.listMethods\","
			 "\"id\":1}");
	res = json_object_get(r, "result");
	assert_true(json_is_array(res));
	assert_string_equal(json_string_value(json_array_get(res, 0)),
			    "system.listMethods");
	bool seen_version = false, seen_fetch = false;
	size_t i;
	json_t *v;
	json_array_foreach(res, i, v) {
		seen_version |= strcmp(json_string_value(v), "core.version") == 0;
		seen_fetch |= strcmp(json_string_value(v), "stats.fetch") == 0;
	}
	assert_true(seen_version && seen_fetch);
	json_decref(r);
	cli_close(&c);
}

static void test_handler_errors(void **state)
{
	struct fx *f = *state;
	struct cli c;
	json_t *r;

	cli_open(&c, f);
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"test.fail\",\"id\":3}");
	assert_error(r, 500, 3);
	assert_string_equal(err_msg(r), "boom 42");
	json_decref(r);
	/* A handler that fills nothing: -32603. */
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"test.fail\","
			 "\"params\":[1],\"id\":4}");
	assert_error(r, CTL_ERR_INTERNAL, 4);
	json_decref(r);
	cli_close(&c);
}

static void test_core_methods(void **state)
{
	struct fx *f = *state;
	struct cli c;
	json_t *r, *res;

	cli_open(&c, f);
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"core.version\",\"id\":1}");
	assert_result_envelope(r, 1);
	res = json_object_get(r, "result");
	assert_string_equal(json_string_value(json_object_get(res, "name")),
			    "sipdlg");
	assert_string_equal(json_string_value(json_object_get(res, "version")),
			    "9.9.9-test");
	assert_true(strlen(json_string_value(json_object_get(res, "compiled")))
		    > 10);
	json_decref(r);

	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"core.uptime\",\"id\":2}");
	res = json_object_get(r, "result");
	assert_int_equal(json_integer_value(json_object_get(res, "up_since")),
			 START_S);
	assert_true(json_integer_value(json_object_get(res, "now")) > START_S);
	assert_int_equal(json_integer_value(json_object_get(res, "uptime")),
			 json_integer_value(json_object_get(res, "now")) -
				 START_S);
	json_decref(r);
	cli_close(&c);
}

static void test_stats_methods(void **state)
{
	struct fx *f = *state;
	struct cli c;
	json_t *r, *res;

	cli_open(&c, f);
	/* Kamailio's shape: "group:name = value", all by default. */
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"stats.get_statistics\","
			 "\"id\":1}");
	res = json_object_get(r, "result");
	assert_int_equal(json_array_size(res), 3);
	assert_string_equal(json_string_value(json_array_get(res, 0)),
			    "dialog:active_dialogs = 5");
	assert_string_equal(json_string_value(json_array_get(res, 2)),
			    "xdp:events = 99");
	json_decref(r);

	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"stats.get_statistics\","
			 "\"params\":[\"dialog:\"],\"id\":2}");
	assert_int_equal(json_array_size(json_object_get(r, "result")), 2);
	json_decref(r);
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"stats.get_statistics\","
			 "\"params\":[\"dialog:processed_dialogs\",\"events\"],"
			 "\"id\":3}");
	res = json_object_get(r, "result");
	assert_int_equal(json_array_size(res), 2);
	assert_string_equal(json_string_value(json_array_get(res, 0)),
			    "dialog:processed_dialogs = 12");
	assert_string_equal(json_string_value(json_array_get(res, 1)),
			    "xdp:events = 99");
	json_decref(r);

	/* Unknown group: 404 with a clear message; non-string: -32602. */
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"stats.get_statistics\","
			 "\"params\":[\"nope\"],\"id\":4}");
	assert_error(r, 404, 4);
	assert_string_equal(err_msg(r), "unknown statistics group 'nope'");
	json_decref(r);
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"stats.get_statistics\","
			 "\"params\":[1],\"id\":5}");
	assert_error(r, CTL_ERR_INVALID_PARAMS, 5);
	json_decref(r);

	/* stats.fetch: {"group.name": number} */
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"stats.fetch\",\"id\":6}");
	res = json_object_get(r, "result");
	assert_true(json_is_object(res));
	assert_int_equal(json_object_size(res), 3);
	assert_true(json_is_integer(json_object_get(res,
						    "dialog.active_dialogs")));
	assert_int_equal(json_integer_value(json_object_get(res,
						    "dialog.active_dialogs")), 5);
	assert_int_equal(json_integer_value(json_object_get(res, "xdp.events")),
			 99);
	json_decref(r);
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"stats.fetch\","
			 "\"params\":[\"xdp\"],\"id\":7}");
	res = json_object_get(r, "result");
	assert_int_equal(json_object_size(res), 1);
	json_decref(r);
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"stats.fetch\","
			 "\"params\":[\"all\"],\"id\":8}");
	assert_int_equal(json_object_size(json_object_get(r, "result")), 3);
	json_decref(r);
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"stats.fetch\","
			 "\"params\":{\"group\":\"xdp\"},\"id\":9}");
	assert_error(r, CTL_ERR_INVALID_PARAMS, 9);
	json_decref(r);

	/* stats.reset_statistics: gauges survive. */
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"stats.reset_statistics\","
			 "\"params\":[\"dialog\"],\"id\":10}");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(r, "result"), "reset")), 1);
	json_decref(r);
	assert_int_equal(stat_get(f->processed), 0);
	assert_int_equal(stat_get(f->active), 5);
	assert_int_equal(stat_get(f->xdp_events), 99);
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"stats.reset_statistics\","
			 "\"params\":[\"all\",\"nope\"],\"id\":11}");
	assert_error(r, 404, 11);
	json_decref(r);
	assert_int_equal(stat_get(f->xdp_events), 99);	/* nothing reset */
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"stats.reset_statistics\","
			 "\"id\":12}");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(r, "result"), "reset")), 2);
	json_decref(r);
	assert_int_equal(stat_get(f->xdp_events), 0);
	cli_close(&c);
}

static void test_malformed_json(void **state)
{
	struct fx *f = *state;
	struct cli c;
	json_t *r;

	/* Brackets balance but the JSON is bad. */
	cli_open(&c, f);
	cli_send(&c, "{\"jsonrpc\":\"2.0\",\"method\":}\n");
	r = cli_recv(&c);
	assert_error(r, CTL_ERR_PARSE, -1);
	json_decref(r);
	assert_true(cli_closed(&c, 2000));
	cli_close(&c);

	/* Not JSON at all. */
	cli_open(&c, f);
	cli_send(&c, "hello world\n");
	r = cli_recv(&c);
	assert_error(r, CTL_ERR_PARSE, -1);
	json_decref(r);
	assert_true(cli_closed(&c, 2000));
	cli_close(&c);

	/* Mismatched brackets after a good request: the good one is answered. */
	cli_open(&c, f);
	cli_send(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"test.add\","
		     "\"params\":[1,1],\"id\":1}{\"a\":[1}]");
	r = cli_recv(&c);
	assert_result_envelope(r, 1);
	json_decref(r);
	r = cli_recv(&c);
	assert_error(r, CTL_ERR_PARSE, -1);
	json_decref(r);
	assert_true(cli_closed(&c, 2000));
	cli_close(&c);

	assert_server_alive(f);
}

static void test_unknown_method(void **state)
{
	struct fx *f = *state;
	struct cli c;
	json_t *r;

	cli_open(&c, f);
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"no.such\",\"id\":5}");
	assert_error(r, CTL_ERR_METHOD_NOT_FOUND, 5);
	assert_non_null(strstr(err_msg(r), "no.such"));
	json_decref(r);
	/* The connection goes on. */
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"test.add\","
			 "\"params\":[2,3],\"id\":6}");
	assert_result_envelope(r, 6);
	json_decref(r);
	cli_close(&c);
	assert_server_alive(f);
}

static void test_wrong_params(void **state)
{
	struct fx *f = *state;
	struct cli c;
	json_t *r;

	cli_open(&c, f);
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"test.add\","
			 "\"params\":[\"x\"],\"id\":8}");
	assert_error(r, CTL_ERR_INVALID_PARAMS, 8);
	assert_string_equal(err_msg(r), "test.add takes two integers");
	json_decref(r);
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"test.add\","
			 "\"params\":[1,2],\"id\":9}");
	assert_result_envelope(r, 9);
	json_decref(r);
	cli_close(&c);
	assert_server_alive(f);
}

static void test_invalid_request(void **state)
{
	static const struct {
		const char *req;
		json_int_t id;	/* -1: null */
	} cases[] = {
		{ "{\"method\":\"test.add\",\"params\":[1,2],\"id\":1}", 1 },
		{ "{\"jsonrpc\":\"1.0\",\"method\":\"test.add\",\"id\":2}", 2 },
		{ "{\"jsonrpc\":2.0,\"method\":\"test.add\",\"id\":3}", 3 },
		{ "{\"jsonrpc\":\"2.0\",\"params\":[],\"id\":4}", 4 },
		{ "{\"jsonrpc\":\"2.0\",\"method\":5,\"id\":5}", 5 },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"test.add\",\"params\":\"s\","
		  "\"id\":6}", 6 },
		{ "{\"jsonrpc\":\"2.0\",\"method\":\"test.add\",\"id\":[7]}", -1 },
	};
	struct fx *f = *state;
	struct cli c;
	json_t *r;

	cli_open(&c, f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = cli_call(&c, cases[i].req);
		assert_error(r, CTL_ERR_INVALID_REQUEST, cases[i].id);
		json_decref(r);
	}
	/* Valid JSON that is not a request object, and an empty batch. */
	r = cli_call(&c, "42");
	assert_error(r, CTL_ERR_INVALID_REQUEST, -1);
	json_decref(r);
	r = cli_call(&c, "\"str\"");
	assert_error(r, CTL_ERR_INVALID_REQUEST, -1);
	json_decref(r);
	r = cli_call(&c, "[]");
	assert_error(r, CTL_ERR_INVALID_REQUEST, -1);
	json_decref(r);
	/* A missing jsonrpc on a notification is still answered. */
	r = cli_call(&c, "{\"method\":\"test.count\"}");
	assert_error(r, CTL_ERR_INVALID_REQUEST, -1);
	json_decref(r);
	/* Still the same connection. */
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"test.add\","
			 "\"params\":[1,2],\"id\":10}");
	assert_result_envelope(r, 10);
	json_decref(r);
	cli_close(&c);
	assert_server_alive(f);
}

static char *make_request(size_t total)
{
	static const char head[] =
		"{\"jsonrpc\":\"2.0\",\"method\":\"test.echo\",\"params\":[\"";
	static const char tail[] = "\"],\"id\":1}";
	size_t pad = total - (sizeof(head) - 1) - (sizeof(tail) - 1);
	char *s = malloc(total + 1);

	memcpy(s, head, sizeof(head) - 1);
	memset(s + sizeof(head) - 1, 'p', pad);
	memcpy(s + sizeof(head) - 1 + pad, tail, sizeof(tail));
	assert_int_equal(strlen(s), total);
	return s;
}

static void test_request_too_large(void **state)
{
	struct fx *f = *state;
	struct cli c;
	json_t *r;
	char *req;

	/* Exactly the limit is fine. */
	req = make_request(CTL_MAX_REQUEST);
	cli_open(&c, f);
	r = cli_call(&c, req);
	assert_result_envelope(r, 1);
	json_decref(r);
	free(req);

	/* One byte more is not, and the connection goes. */
	req = make_request(CTL_MAX_REQUEST + 1);
	r = cli_call(&c, req);
	assert_error(r, CTL_ERR_INVALID_REQUEST, -1);
	assert_string_equal(err_msg(r), "request too large");
	json_decref(r);
	assert_true(cli_closed(&c, 2000));
	cli_close(&c);
	free(req);

	/* Also when it never ends. */
	req = make_request(3 * CTL_MAX_REQUEST);
	req[3 * CTL_MAX_REQUEST - 3] = '\0';	/* cut before the closing } */
	cli_open(&c, f);
	cli_send(&c, req);
	r = cli_recv(&c);
	assert_error(r, CTL_ERR_INVALID_REQUEST, -1);
	json_decref(r);
	assert_true(cli_closed(&c, 2000));
	cli_close(&c);
	free(req);
	assert_server_alive(f);
}

static void test_idle_clients_closed(void **state)
{
	struct fx *f = *state;
	struct cli quiet, partial, served;
	uint64_t t0 = ev_now_ms();
	json_t *r;

	cli_open(&quiet, f);
	cli_open(&partial, f);
	cli_open(&served, f);
	cli_send(&partial, "{\"jsonrpc\":\"2.0\",\"method\":");
	r = cli_call(&served, "{\"jsonrpc\":\"2.0\",\"method\":\"test.add\","
			      "\"params\":[1,2],\"id\":1}");
	json_decref(r);

	assert_true(cli_closed(&quiet, 5000));
	assert_true(ev_now_ms() - t0 >= IDLE_MS - 20);
	assert_true(cli_closed(&partial, 5000));
	/* A client that got its answer and then idles goes too. */
	assert_true(cli_closed(&served, 5000));
	cli_close(&quiet);
	cli_close(&partial);
	cli_close(&served);
	assert_server_alive(f);
}

static void test_many_clients(void **state)
{
	struct fx *f = *state;
	struct cli c[100];
	char req[128];

	for (int i = 0; i < 100; i++)
		cli_open(&c[i], f);
	for (int i = 0; i < 100; i++) {
		snprintf(req, sizeof(req),
			 "{\"jsonrpc\":\"2.0\",\"method\":\"test.add\","
			 "\"params\":[%d,1000],\"id\":%d}\n", i, i);
		cli_send(&c[i], req);
	}
	for (int i = 99; i >= 0; i--) {
		json_t *r = cli_recv(&c[i]);

		assert_result_envelope(r, i);
		assert_int_equal(json_integer_value(json_object_get(r, "result")),
				 i + 1000);
		json_decref(r);
	}
	for (int i = 0; i < 100; i++)
		cli_close(&c[i]);
}

static void test_client_limit(void **state)
{
	struct fx *f = *state;
	struct cli c[CTL_MAX_CLIENTS], extra;
	json_t *r;

	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		cli_open(&c[i], f);
	/* Once the last of them is served, all are accepted. */
	r = cli_call(&c[CTL_MAX_CLIENTS - 1],
		     "{\"jsonrpc\":\"2.0\",\"method\":\"test.count\",\"id\":1}");
	assert_result_envelope(r, 1);
	json_decref(r);

	cli_open(&extra, f);
	r = cli_recv(&extra);
	assert_error(r, CTL_ERR_SERVER, -1);
	assert_string_equal(err_msg(r), "too many clients");
	json_decref(r);
	assert_true(cli_closed(&extra, 2000));
	cli_close(&extra);

	/* The others are still served. */
	r = cli_call(&c[0], "{\"jsonrpc\":\"2.0\",\"method\":\"test.count\","
			    "\"id\":2}");
	assert_result_envelope(r, 2);
	json_decref(r);
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		cli_close(&c[i]);
	/* Room again (the server notices the closes first). */
	for (int tries = 0; tries < 50; tries++) {
		bool closed;
		char *line;

		cli_open(&extra, f);
		cli_send(&extra, "{\"jsonrpc\":\"2.0\",\"method\":\"test.add\","
				 "\"params\":[1,2],\"id\":3}\n");
		line = cli_line(&extra, 2000, &closed);
		assert_non_null(line);
		cli_close(&extra);
		if (strstr(line, "\"result\":3")) {
			free(line);
			return;
		}
		free(line);
		usleep(10000);
	}
	fail_msg("no room after the clients left");
}

static void test_pipelined_requests(void **state)
{
	struct fx *f = *state;
	struct cli c;
	json_t *r;

	cli_open(&c, f);
	/* Concatenated, no separator, in one write. */
	cli_send(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"test.add\","
		     "\"params\":[1,2],\"id\":1}{\"jsonrpc\":\"2.0\","
		     "\"method\":\"test.add\",\"params\":[3,4],\"id\":2}");
	r = cli_recv(&c);
	assert_result_envelope(r, 1);
	json_decref(r);
	r = cli_recv(&c);
	assert_result_envelope(r, 2);
	assert_int_equal(json_integer_value(json_object_get(r, "result")), 7);
	json_decref(r);

	/* Newline-separated, with braces and quotes inside strings. */
	cli_send(&c, "\r\n{\"jsonrpc\":\"2.0\",\"method\":\"test.echo\","
		     "\"params\":[\"}{\\\"]\"],\"id\":3}\n\n"
		     "  {\"jsonrpc\":\"2.0\",\"method\":\"test.add\","
		     "\"params\":[5,6],\"id\":4}\n");
	r = cli_recv(&c);
	assert_result_envelope(r, 3);
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(r, "result"), 0)), "}{\"]");
	json_decref(r);
	r = cli_recv(&c);
	assert_result_envelope(r, 4);
	json_decref(r);

	/* One request split over several writes. */
	cli_send(&c, "{\"jsonrpc\":\"2.0\",\"met");
	usleep(20000);
	cli_send(&c, "hod\":\"test.add\",\"params\":[1");
	usleep(20000);
	cli_send(&c, "0,1],\"id\":5}");
	r = cli_recv(&c);
	assert_result_envelope(r, 5);
	assert_int_equal(json_integer_value(json_object_get(r, "result")), 11);
	json_decref(r);

	/* A client that sends, then shuts its side, still gets the answer. */
	cli_send(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"test.add\","
		     "\"params\":[0,0],\"id\":6}");
	shutdown(c.fd, SHUT_WR);
	r = cli_recv(&c);
	assert_result_envelope(r, 6);
	json_decref(r);
	assert_true(cli_closed(&c, 2000));
	cli_close(&c);
}

static void test_notification_and_batch(void **state)
{
	struct fx *f = *state;
	struct cli c;
	json_t *r;

	cli_open(&c, f);
	/* Notifications (known, unknown, failing) get no reply. */
	cli_send(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"test.count\"}\n"
		     "{\"jsonrpc\":\"2.0\",\"method\":\"no.such\"}\n"
		     "{\"jsonrpc\":\"2.0\",\"method\":\"test.fail\"}\n");
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"test.add\","
			 "\"params\":[1,1],\"id\":2}");
	assert_result_envelope(r, 2);
	json_decref(r);
	assert_int_equal(atomic_load(&f->notified), 1);

	/* A batch: one array of the non-notification answers. */
	r = cli_call(&c, "[{\"jsonrpc\":\"2.0\",\"method\":\"test.add\","
			 "\"params\":[1,2],\"id\":1},"
			 "{\"jsonrpc\":\"2.0\",\"method\":\"test.count\"},"
			 "{\"jsonrpc\":\"2.0\",\"method\":\"no.such\",\"id\":3},"
			 "17]");
	assert_true(json_is_array(r));
	assert_int_equal(json_array_size(r), 3);
	assert_result_envelope(json_array_get(r, 0), 1);
	assert_error(json_array_get(r, 1), CTL_ERR_METHOD_NOT_FOUND, 3);
	assert_error(json_array_get(r, 2), CTL_ERR_INVALID_REQUEST, -1);
	json_decref(r);
	assert_int_equal(atomic_load(&f->notified), 2);

	/* A batch of notifications only: no reply at all. */
	cli_send(&c, "[{\"jsonrpc\":\"2.0\",\"method\":\"test.count\"}]\n");
	r = cli_call(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"test.add\","
			 "\"params\":[2,2],\"id\":4}");
	assert_result_envelope(r, 4);
	json_decref(r);
	assert_int_equal(atomic_load(&f->notified), 3);
	cli_close(&c);
}

/* A client that does not read its big answer must not block others. */
static void test_slow_reader(void **state)
{
	struct fx *f = *state;
	struct cli slow, other;
	json_t *r;
	size_t big = 8u << 20;
	char req[128];

	cli_open(&slow, f);
	cli_open(&other, f);
	snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"method\":\"test.big\","
		 "\"params\":[%zu],\"id\":1}\n", big);
	cli_send(&slow, req);
	usleep(50000);
	r = cli_call(&other, "{\"jsonrpc\":\"2.0\",\"method\":\"test.add\","
			     "\"params\":[1,2],\"id\":2}");
	assert_result_envelope(r, 2);
	json_decref(r);

	r = cli_recv(&slow);
	assert_result_envelope(r, 1);
	assert_int_equal(json_string_length(json_object_get(r, "result")), big);
	json_decref(r);
	cli_close(&slow);
	cli_close(&other);
}

/* Socket creation: stale sockets, live daemons, wrong files, groups. */
static void test_listen(void **state)
{
	struct fx *f = *state;
	struct ctl_server *s2 = ctl_server_alloc(f->loop);
	char path[160], longpath[200];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat stb;
	char gid[32];
	int fd;

	/* The loop is not thread-safe: stop serving while we use it here.
	 * The kernel still queues connections on the listening socket. */
	fx_stop(f);
	assert_non_null(s2);
	/* A live daemon answers on the path: refused, and left alone. */
	assert_int_equal(ctl_server_listen(s2, f->sock, 0600, NULL),
			 -EADDRINUSE);
	assert_int_equal(stat(f->sock, &stb), 0);

	/* A regular file is not removed. */
	snprintf(path, sizeof(path), "%s/file", f->dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ctl_server_listen(s2, path, 0600, NULL), -EEXIST);
	unlink(path);

	/* An unknown group. */
	snprintf(path, sizeof(path), "%s/g.sock", f->dir);
	assert_int_equal(ctl_server_listen(s2, path, 0600,
					   "no-such-group-sipdlg"), -ENOENT);
	assert_int_equal(stat(path, &stb), -1);

	/* A stale socket (bound, nobody listening) is replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(stat(path, &stb), 0);
	/* Our own group, by number, is allowed to a non-root owner. */
	snprintf(gid, sizeof(gid), "%u", (unsigned)getgid());
	assert_int_equal(ctl_server_listen(s2, path, 0640, gid), 0);
	assert_int_equal(stat(path, &stb), 0);
	assert_int_equal(stb.st_mode & 07777, 0640);
	assert_int_equal(stb.st_gid, getgid());
	/* One socket per server. */
	assert_int_equal(ctl_server_listen(s2, path, 0640, NULL), -EBUSY);
	ctl_server_free(s2);
	assert_int_equal(stat(path, &stb), -1);

	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	s2 = ctl_server_alloc(f->loop);
	assert_int_equal(ctl_server_listen(s2, longpath, 0600, NULL),
			 -ENAMETOOLONG);
	assert_int_equal(ctl_register(s2, "system.listMethods", m_echo, NULL),
			 -EEXIST);
	assert_int_equal(ctl_register(s2, "", m_echo, NULL), -EINVAL);
	assert_int_equal(ctl_methods_core_register(s2, f->st, "1", 0), 0);
	assert_int_equal(ctl_methods_core_register(s2, f->st, "1", 0), -EEXIST);
	ctl_server_free(s2);
	ctl_server_free(NULL);
	assert_int_equal(fx_start(f), 0);
	assert_server_alive(f);
}

int main(void)
{
	static unsigned long_idle = 60000;
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_valid_call),
		T(test_handler_errors),
		T(test_core_methods),
		T(test_stats_methods),
		T(test_malformed_json),
		T(test_unknown_method),
		T(test_wrong_params),
		T(test_invalid_request),
		T(test_request_too_large),
		T(test_idle_clients_closed),
		cmocka_unit_test_prestate_setup_teardown(test_many_clients,
			fx_setup, fx_teardown, &long_idle),
		cmocka_unit_test_prestate_setup_teardown(test_client_limit,
			fx_setup, fx_teardown, &long_idle),
		T(test_pipelined_requests),
		T(test_notification_and_batch),
		cmocka_unit_test_prestate_setup_teardown(test_slow_reader,
			fx_setup, fx_teardown, &long_idle),
		T(test_listen),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
