/*
 * test_dlg_list.c - dlg.list and its kin are streamed: many dialogs
 * (SIPDLG_LIST_DIALOGS, default 20,000, 2,000 under valgrind; 100,000
 * and more by hand) listed
 * over a real control socket give one ordinary JSON-RPC response, the same
 * items as the collected (batch) form; while the listing runs a "SIP
 * worker" thread keeps creating and looking up dialogs and the longest of
 * its calls stays short; a client that stops reading its listing stalls
 * neither the worker nor the other control clients, and gets the rest
 * when it reads again.
 */
#include <errno.h>
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
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "control/ctl_server.h"
#include "core/loop.h"
#include "core/timer.h"
#include "dialog/dlg.h"
#include "dlglink/dlg_rpc.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

struct fx {
	char dir[64], sock[128];
	struct ev_loop *loop;
	struct ctl_server *srv;
	struct tmr_service *ts;
	struct dlg_table *t;
	pthread_t th;
	unsigned n;
};

static const char *const prof_wv[] = { "caller" };
static const char *const prof_nv[] = { "inbound" };

static void *serve(void *arg)
{
	struct fx *f = arg;

	ev_loop_run(f->loop);
	return NULL;
}

static struct dlg_cell *make_call(struct dlg_table *t, unsigned i,
				  const char *prefix)
{
	char cid[64], ftag[32], user[32];
	struct dlg_invite inv;
	struct dlg_reply r = { .code = 200 };
	struct dlg_cell *c;

	snprintf(cid, sizeof(cid), "%s-%u@10.0.0.1", prefix, i);
	snprintf(ftag, sizeof(ftag), "ft%u", i);
	snprintf(user, sizeof(user), "u%u", i % 100);
	memset(&inv, 0, sizeof(inv));
	inv.callid = sip_str_c(cid);
	inv.from_uri = sip_str_c("sip:alice@example.com");
	inv.from_tag = sip_str_c(ftag);
	inv.to_uri = sip_str_c("sip:bob@example.com");
	inv.req_uri = sip_str_c("sip:bob@10.0.0.2");
	inv.contact = sip_str_c("sip:alice@10.0.0.1:5060");
	inv.socket = sip_str_c("udp:10.0.0.9:5060");
	inv.cseq = 1;
	assert_int_equal(dlg_manage(t, &inv, NULL, &c), DLG_RC_CREATED);
	dlg_profile_set(c, dlg_profile_lookup(t, sip_str_c("caller")),
			sip_str_c(user));
	dlg_profile_set(c, dlg_profile_lookup(t, sip_str_c("inbound")),
			SIP_STR_NULL);
	r.to_tag = sip_str_c("tt");
	r.contact = sip_str_c("sip:bob@10.0.0.2:5060");
	r.socket = inv.socket;
	dlg_on_reply(c, &r);
	return c;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *env = getenv("SIPDLG_LIST_DIALOGS");
	struct dlg_config cfg;

	f->n = env ? (unsigned)atoi(env) : RUNNING_ON_VALGRIND ? 2000 : 20000;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sipdlg-list-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->sock, sizeof(f->sock), "%s/ctl.sock", f->dir);
	memset(&cfg, 0, sizeof(cfg));
	cfg.hash_size = 4096;
	cfg.rr_param = "did";
	cfg.default_timeout_ms = 3600 * 1000;
	cfg.profiles_with_value = prof_wv;
	cfg.n_profiles_with_value = 1;
	cfg.profiles_no_value = prof_nv;
	cfg.n_profiles_no_value = 1;
	f->ts = tmr_service_alloc();
	if (!f->ts || tmr_service_start(f->ts) ||
	    dlg_table_alloc(&cfg, f->ts, NULL, &f->t))
		return -1;
	for (unsigned i = 0; i < f->n; i++)
		dlg_unref(make_call(f->t, i, "list"));
	f->loop = ev_loop_alloc();
	f->srv = ctl_server_alloc(f->loop);
	if (!f->loop || !f->srv ||
	    ctl_server_listen(f->srv, f->sock, 0600, NULL) ||
	    dlg_rpc_register(f->srv, f->t))
		return -1;
	/* A stalled reader is closed after the idle timeout; the tests'
	 * stalls are shorter. */
	ctl_server_set_idle_timeout(f->srv, 60000);
	if (pthread_create(&f->th, NULL, serve, f))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ev_loop_stop(f->loop);
	pthread_join(f->th, NULL);
	ctl_server_free(f->srv);
	ev_loop_free(f->loop);
	tmr_service_free(f->ts);
	dlg_table_free(f->t);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* --- a client that reads whole lines ------------------------------------ */

static int cli_open(const struct fx *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0 && fd < 256);
	memcpy(sa.sun_path, f->sock, strlen(f->sock) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void cli_send(int fd, const char *s)
{
	size_t n = strlen(s);

	assert_int_equal(send(fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Bytes read past the last line, per socket (the tests use few fds). */
static struct {
	char *buf;
	size_t len;
} rest[256];

/* One reply line (malloc'd, newline dropped); NULL if the server closed
 * or was silent for @ms. */
static char *cli_line(int fd, int ms)
{
	size_t len = rest[fd].len, cap = len + (1 << 20), scanned = 0;
	char *buf = malloc(cap);

	if (len)
		memcpy(buf, rest[fd].buf, len);
	free(rest[fd].buf);
	rest[fd].buf = NULL;
	rest[fd].len = 0;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char *nl = memchr(buf + scanned, '\n', len - scanned);
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - buf) + 1;

			if (len > l) {
				rest[fd].len = len - l;
				rest[fd].buf = malloc(len - l);
				memcpy(rest[fd].buf, buf + l, len - l);
			}
			*nl = '\0';
			return buf;
		}
		scanned = len;
		if (poll(&pfd, 1, ms) <= 0)
			break;
		if (cap - len < 65536) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	free(buf);
	return NULL;
}

static void cli_close(int fd)
{
	free(rest[fd].buf);
	rest[fd].buf = NULL;
	rest[fd].len = 0;
	close(fd);
}

static json_t *call(int fd, const char *req, char **raw)
{
	char *line;
	json_t *v;
	json_error_t jerr;

	cli_send(fd, req);
	line = cli_line(fd, RUNNING_ON_VALGRIND ? 120000 : 20000);
	if (!line)
		fail_msg("no reply to %s", req);
	v = json_loads(line, 0, &jerr);
	if (!v)
		fail_msg("not JSON (%s): %.200s", jerr.text, line);
	if (raw)
		*raw = line;
	else
		free(line);
	return v;
}

/* --- a "SIP worker" measuring its longest call --------------------------- */

struct worker {
	struct fx *f;
	atomic_bool stop;
	uint64_t max_us, calls;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned i = 0;

	while (!atomic_load(&w->stop)) {
		uint64_t t0 = now_us(), d;
		struct dlg_cell *c = make_call(w->f->t, i++, "work");
		struct dlg_cell *x = dlg_lookup_id(w->f->t, dlg_h_entry(c),
						   dlg_h_id(c));

		dlg_unref(x);
		dlg_end(c, NULL);
		dlg_unref(c);
		d = now_us() - t0;
		if (d > w->max_us)
			w->max_us = d;
		w->calls++;
		usleep(200);
	}
	return NULL;
}

/* Longest call a worker may see while a listing runs.  Under valgrind
 * threads run one at a time in slices, so only a gross stall counts. */
static uint64_t worker_bound_us(void)
{
	return RUNNING_ON_VALGRIND ? 5000000u : 1000000u;
}

/* Most work a listing may do holding one slot lock (CPU time: on a busy
 * machine the lister may also be descheduled with it, as any thread may;
 * the worker's wall time above shows what that costs). */
static uint64_t hold_bound_ns(void)
{
	return RUNNING_ON_VALGRIND ? 20000000u : 2000000u;
}

/* --- tests ----------------------------------------------------------------- */

static void test_list_streamed(void **state)
{
	struct fx *f = *state;
	int fd = cli_open(f), fd2;
	struct worker w = { .f = f };
	pthread_t th;
	char *raw;
	json_t *r, *b, *items, *bitems;
	uint64_t t0;
	size_t n;

	assert_int_equal(pthread_create(&th, NULL, work, &w), 0);
	t0 = now_us();
	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"dlg.list\",\"id\":7}\n",
		 &raw);
	atomic_store(&w.stop, true);
	pthread_join(th, NULL);
	print_message("# listed %u dialogs in %llu ms; most CPU under one slot "
		      "lock %llu us; worker: %llu calls, longest %llu us\n",
		      f->n, (unsigned long long)(now_us() - t0) / 1000,
		      (unsigned long long)dlg_cursor_max_hold_ns(f->t) / 1000,
		      (unsigned long long)w.calls,
		      (unsigned long long)w.max_us);
	assert_true(dlg_cursor_max_hold_ns(f->t) < hold_bound_ns());
	/* Exactly the bytes of an ordinary response. */
	assert_memory_equal(raw, "{\"jsonrpc\":\"2.0\",\"result\":[", 27);
	n = strlen(raw);
	assert_string_equal(raw + n - 9, "],\"id\":7}");
	free(raw);
	items = json_object_get(r, "result");
	assert_true(json_is_array(items));
	/* The worker's dialogs are ended (state 5) but may still be
	 * listed; every one of ours is there. */
	assert_true(json_array_size(items) >= f->n);
	assert_true(w.max_us < worker_bound_us());

	/* Inside a batch the same items come collected. */
	fd2 = cli_open(f);
	b = call(fd2, "[{\"jsonrpc\":\"2.0\",\"method\":\"dlg.list\",\"id\":8}]\n",
		 NULL);
	assert_true(json_is_array(b));
	bitems = json_object_get(json_array_get(b, 0), "result");
	assert_true(json_is_array(bitems));
	{
		size_t k = 0, i;
		json_t *o;

		/* Compare our dialogs (the worker's come and go). */
		json_array_foreach(items, i, o) {
			const char *cid = json_string_value(
				json_object_get(o, "call-id"));
			json_t *q = NULL;
			size_t j;

			if (strncmp(cid, "list-", 5) != 0)
				continue;
			json_array_foreach(bitems, j, q) {
				if (json_equal(json_object_get(q, "h_entry"),
					       json_object_get(o, "h_entry")) &&
				    json_equal(json_object_get(q, "h_id"),
					       json_object_get(o, "h_id")))
					break;
			}
			assert_true(j < json_array_size(bitems));
			/* Time-dependent: computed at each listing. */
			json_object_del(o, "duration");
			json_object_del(q, "duration");
			json_object_del(o, "timeout");
			json_object_del(q, "timeout");
			assert_true(json_equal(o, q));
			if (++k == 200)
				break;	/* a sample: O(n^2) otherwise */
		}
	}
	json_decref(b);
	json_decref(r);
	cli_close(fd);
	cli_close(fd2);
}

static void test_list_match_and_callid(void **state)
{
	struct fx *f = *state;
	int fd = cli_open(f);
	json_t *r;

	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"dlg.list_match\","
		     "\"params\":[\"callid\",\"eq\",\"list-17@10.0.0.1\"],"
		     "\"id\":1}\n", NULL);
	assert_int_equal(json_array_size(json_object_get(r, "result")), 1);
	json_decref(r);
	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"dlg.list_match\","
		     "\"params\":[\"callid\",\"sw\",\"list-1\",5],\"id\":2}\n",
		 NULL);
	assert_int_equal(json_array_size(json_object_get(r, "result")), 5);
	json_decref(r);
	/* Nothing matches: Kamailio's error, not an empty array. */
	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"dlg.list_match\","
		     "\"params\":[\"callid\",\"eq\",\"nope\"],\"id\":3}\n",
		 NULL);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(r, "error"), "code")), 404);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 3);
	json_decref(r);
	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"dlg.dlg_list\","
		     "\"params\":[\"list-5@10.0.0.1\"],\"id\":4}\n", NULL);
	assert_int_equal(json_array_size(json_object_get(r, "result")), 1);
	json_decref(r);
	r = call(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"dlg.dlg_list\","
		     "\"params\":[\"none@x\"],\"id\":5}\n", NULL);
	assert_int_equal(json_array_size(json_object_get(r, "result")), 0);
	json_decref(r);
	/* Pipelined after a listing: answered in order. */
	cli_send(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"dlg.list\",\"id\":6}\n"
		     "{\"jsonrpc\":\"2.0\",\"method\":\"dlg.stats_active\","
		     "\"id\":9}\n");
	{
		char *l1 = cli_line(fd, RUNNING_ON_VALGRIND ? 120000 : 20000), *l2;
		json_t *a, *b;

		assert_non_null(l1);
		l2 = cli_line(fd, RUNNING_ON_VALGRIND ? 120000 : 20000);
		assert_non_null(l2);
		a = json_loads(l1, 0, NULL);
		b = json_loads(l2, 0, NULL);
		assert_int_equal(json_integer_value(json_object_get(a, "id")),
				 6);
		assert_int_equal(json_integer_value(json_object_get(b, "id")),
				 9);
		json_decref(a);
		json_decref(b);
		free(l1);
		free(l2);
	}
	cli_close(fd);
}

static void test_stalled_client(void **state)
{
	struct fx *f = *state;
	int slow = cli_open(f), other = cli_open(f);
	struct worker w = { .f = f };
	int rcv = 4096;
	pthread_t th;
	json_t *r;
	uint64_t t0, worst = 0;

	/* A small receive buffer so that the server meets a full socket. */
	setsockopt(slow, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	cli_send(slow, "{\"jsonrpc\":\"2.0\",\"method\":\"dlg.list\",\"id\":1}\n");
	assert_int_equal(pthread_create(&th, NULL, work, &w), 0);
	usleep(300 * 1000);	/* the slow client reads nothing */
	for (int i = 0; i < 5; i++) {
		uint64_t d;

		t0 = now_us();
		r = call(other, "{\"jsonrpc\":\"2.0\",\"method\":"
				"\"dlg.stats_active\",\"id\":2}\n", NULL);
		d = now_us() - t0;
		if (d > worst)
			worst = d;
		assert_non_null(json_object_get(r, "result"));
		json_decref(r);
		usleep(100 * 1000);
	}
	atomic_store(&w.stop, true);
	pthread_join(th, NULL);
	print_message("# stalled listing: other client's longest answer %llu "
		      "us, worker's longest call %llu us\n",
		      (unsigned long long)worst,
		      (unsigned long long)w.max_us);
	assert_true(worst < (RUNNING_ON_VALGRIND ? 2000000u : 100000u));
	assert_true(w.max_us < worker_bound_us());
	/* Reading again, the slow client gets the whole listing. */
	{
		char *line = cli_line(slow, RUNNING_ON_VALGRIND ? 120000 : 20000);
		json_t *v;

		assert_non_null(line);
		v = json_loads(line, 0, NULL);
		assert_non_null(v);
		assert_true(json_array_size(json_object_get(v, "result")) >=
			    f->n);
		json_decref(v);
		free(line);
	}
	cli_close(slow);
	/* A client that goes away in the middle costs nothing either. */
	slow = cli_open(f);
	cli_send(slow, "{\"jsonrpc\":\"2.0\",\"method\":\"dlg.list\",\"id\":3}\n");
	usleep(100 * 1000);
	cli_close(slow);
	cli_close(other);
	other = cli_open(f);
	r = call(other, "{\"jsonrpc\":\"2.0\",\"method\":\"dlg.stats_active\","
			"\"id\":4}\n", NULL);
	assert_non_null(json_object_get(r, "result"));
	json_decref(r);
	cli_close(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_streamed),
		cmocka_unit_test(test_list_match_and_callid),
		cmocka_unit_test(test_stalled_client),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
