/*
 * ctl_conn.c - one control client: read, frame, dispatch, write.
 *
 * Framing.  Incoming bytes are scanned once, incrementally (the scan state
 * survives between reads), to find where each JSON value ends: for an
 * object or array by {}/[] depth outside strings (with backslash escapes
 * honoured inside strings); for a top-level string at its closing quote;
 * for a bare number/true/false/null at the next whitespace or structural
 * character.  Whitespace (newlines included) between values is skipped, so
 * requests may be newline-separated or simply concatenated.  Only a complete
 * value's bytes go to json_loadb(), which also catches what the scanner lets
 * through (mismatched brackets, bad literals): that is -32700 and the
 * connection is closed once the reply is written.  Scanning is O(bytes), so
 * a client trickling a request byte by byte costs no re-parsing.
 *
 * Output is queued and written without blocking; when more than
 * CTL_OUT_HIGH bytes wait, the connection is no longer read (and buffered
 * requests no longer run) until the client catches up.
 *
 * Streamed results.  While a stream runs the connection asks the loop for
 * EV_WRITE only: each time the socket is writable and less than
 * CTL_STREAM_LOW bytes wait, one batch is produced, serialised item by
 * item after the envelope's head, and queued; the tail closes it.  So one
 * loop turn does one batch's work for this client, whatever the size of
 * the whole result, and a client that stops reading stops the production
 * (it is closed by the idle sweep if it makes no progress).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOG_TAG "ctl"
#include "core/log.h"
#include "core/obuf.h"
#include "control/ctl_internal.h"

#define CTL_READ_CHUNK (16 * 1024)
#define CTL_READS_PER_EVENT 4
#define CTL_OUT_KEEP (256 * 1024)	/* free a drained buffer above this */

enum ctl_scan_kind {
	SCAN_IDLE = 0,		/* between values */
	SCAN_NESTED = 1,	/* object or array */
	SCAN_STRING = 2,	/* top-level string */
	SCAN_BARE = 3,		/* top-level number or literal */
};

enum ctl_scan_result {
	SCAN_MORE = 0,
	SCAN_VALUE = 1,
	SCAN_GARBAGE = 2,
	SCAN_TOO_BIG = 3,
};

struct ctl_conn {
	struct ctl_server *srv;
	struct ctl_conn *prev, *next;
	int fd;
	unsigned mask;		/* events registered with the loop */
	uint64_t last_active;	/* ms; last byte read or written */

	char *in;
	size_t in_len, in_off, in_cap;	/* in[in_off..in_len) unconsumed */
	size_t scan;			/* in[..scan) already scanned */
	size_t vstart;			/* start of the value being scanned */
	int depth;
	enum ctl_scan_kind kind;
	bool in_str, esc;

	struct obuf out;		/* out.buf[out_off..out.len) to send */
	size_t out_off;

	struct ctl_stream_run *stream;	/* a streamed result being sent */

	bool eof;		/* the client shut its sending side */
	bool closing;		/* read nothing more; close once flushed */
	bool subscriber;	/* dlg.subscribe: gets events, never idles */
};

struct ctl_stream_run {
	const struct ctl_stream_ops *ops;
	void *st;
	json_t *id;
	bool started;		/* the head and an item were queued */
};

static bool ctl_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static bool ctl_bare_start(char ch)
{
	return ch == '-' || (ch >= '0' && ch <= '9') || ch == 't' ||
	       ch == 'f' || ch == 'n';
}

/*
 * Advance the scanner over the buffered bytes.  On SCAN_VALUE,
 * in[*start..*end) is one complete value and is consumed.
 */
static enum ctl_scan_result ctl_scan(struct ctl_conn *c, size_t *start,
				     size_t *end)
{
	for (size_t i = c->scan; i < c->in_len; i++) {
		char ch = c->in[i];

		if (c->kind == SCAN_IDLE) {
			if (ctl_ws(ch)) {
				c->in_off = i + 1;
				continue;
			}
			c->vstart = i;
			c->in_str = c->esc = false;
			if (ch == '{' || ch == '[') {
				c->kind = SCAN_NESTED;
				c->depth = 1;
			} else if (ch == '"') {
				c->kind = SCAN_STRING;
				c->in_str = true;
			} else if (ctl_bare_start(ch)) {
				c->kind = SCAN_BARE;
			} else {
				c->scan = i;
				return SCAN_GARBAGE;
			}
			continue;
		}
		if (i + 1 - c->vstart > CTL_MAX_REQUEST) {
			c->scan = i;
			return SCAN_TOO_BIG;
		}
		if (c->kind == SCAN_BARE) {
			if (ctl_ws(ch) || strchr("{}[],\":", ch)) {
				*end = i;
				goto done;
			}
			continue;
		}
		if (c->in_str) {
			if (c->esc)
				c->esc = false;
			else if (ch == '\\')
				c->esc = true;
			else if (ch == '"') {
				c->in_str = false;
				if (c->kind == SCAN_STRING) {
					*end = i + 1;
					goto done;
				}
			}
			continue;
		}
		if (ch == '"') {
			c->in_str = true;
		} else if (ch == '{' || ch == '[') {
			c->depth++;
		} else if (ch == '}' || ch == ']') {
			if (--c->depth == 0) {
				*end = i + 1;
				goto done;
			}
		}
	}
	c->scan = c->in_len;
	return SCAN_MORE;
done:
	*start = c->vstart;
	c->scan = c->in_off = *end;
	c->kind = SCAN_IDLE;
	return SCAN_VALUE;
}

static size_t ctl_out_pending(const struct ctl_conn *c)
{
	return c->out.len - c->out_off;
}

static int ctl_out_append(struct ctl_conn *c, const char *data, size_t len)
{
	if (c->out_off > 0 && c->out_off == c->out.len) {
		c->out_off = 0;
		ob_reset(&c->out);
	}
	ob_mem(&c->out, data, len);
	return c->out.overflow ? -ENOMEM : 0;
}

/* Queue @resp (consumed) as one line. */
static void ctl_queue(struct ctl_conn *c, json_t *resp)
{
	char *text = json_dumps(resp, JSON_COMPACT | JSON_ENCODE_ANY);

	json_decref(resp);
	if (!text) {
		/* Only out of memory or a result jansson cannot encode. */
		static const char fallback[] =
			"{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32603,"
			"\"message\":\"cannot encode the response\"},"
			"\"id\":null}";
		if (ctl_out_append(c, fallback, sizeof(fallback) - 1) < 0)
			c->closing = true;
	} else {
		if (ctl_out_append(c, text, strlen(text)) < 0)
			c->closing = true;
		free(text);
	}
	if (!c->closing && ctl_out_append(c, "\n", 1) < 0)
		c->closing = true;
}

/* Reply with an error and close once it is written. */
static void ctl_fail(struct ctl_conn *c, int code, const char *message)
{
	ctl_queue(c, ctl_error_response(code, message, NULL));
	c->closing = true;
	c->in_len = c->in_off = c->scan = 0;
	c->kind = SCAN_IDLE;
}

void ctl_conn_stream(struct ctl_conn *c, const struct ctl_stream_ops *ops,
		     void *st, json_t *id)
{
	struct ctl_stream_run *r = calloc(1, sizeof(*r));

	if (!r) {
		ops->free(st);
		ctl_queue(c, ctl_error_response(CTL_ERR_INTERNAL,
						"out of memory", id));
		return;
	}
	r->ops = ops;
	r->st = st;
	r->id = json_incref(id);
	c->stream = r;
}

static void ctl_stream_end(struct ctl_conn *c)
{
	struct ctl_stream_run *r = c->stream;

	r->ops->free(r->st);
	json_decref(r->id);
	free(r);
	c->stream = NULL;
}

static void ctl_append_or_close(struct ctl_conn *c, const char *s, size_t n)
{
	if (!c->closing && ctl_out_append(c, s, n) < 0)
		c->closing = true;
}

/* One batch of the stream, if the client has read what came before. */
static void ctl_stream_pump(struct ctl_conn *c)
{
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"result\":[";
	struct ctl_stream_run *r = c->stream;
	struct ctl_error err = { 0 };
	json_t *items, *item;
	size_t i;
	char *text;
	int rc;

	if (!r || c->closing || ctl_out_pending(c) >= CTL_STREAM_LOW)
		return;
	items = json_array();
	rc = items ? r->ops->next(r->st, items, &err) : -1;
	json_array_foreach(items, i, item) {
		text = json_dumps(item, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!text)
			continue;	/* out of memory: the item is lost */
		if (!r->started)
			ctl_append_or_close(c, head, sizeof(head) - 1);
		else
			ctl_append_or_close(c, ",", 1);
		r->started = true;
		ctl_append_or_close(c, text, strlen(text));
		free(text);
	}
	json_decref(items);
	if (rc > 0)
		return;
	if (rc < 0 && !r->started) {
		if (!err.code)
			err.code = CTL_ERR_INTERNAL;
		if (!err.message[0])
			snprintf(err.message, sizeof(err.message), "%s",
				 "Internal error");
		ctl_queue(c, ctl_error_response(err.code, err.message, r->id));
	} else {
		if (rc < 0)
			log_warn("streamed result cut short: %s", err.message);
		if (!r->started)
			ctl_append_or_close(c, head, sizeof(head) - 1);
		ctl_append_or_close(c, "],\"id\":", 7);
		text = json_dumps(r->id, JSON_COMPACT | JSON_ENCODE_ANY);
		if (text) {
			ctl_append_or_close(c, text, strlen(text));
			free(text);
		} else {
			ctl_append_or_close(c, "null", 4);
		}
		ctl_append_or_close(c, "}\n", 2);
	}
	ctl_stream_end(c);
}

/* Run the complete requests in the input buffer (none while a streamed
 * result is being sent: responses keep the order of the requests). */
static void ctl_process(struct ctl_conn *c)
{
	while (!c->closing && !c->stream &&
	       ctl_out_pending(c) < CTL_OUT_HIGH) {
		enum ctl_scan_result r;
		size_t start = 0, end = 0;
		json_error_t jerr;
		json_t *req, *resp;

		r = ctl_scan(c, &start, &end);
		if (r == SCAN_MORE)
			break;
		if (r == SCAN_TOO_BIG) {
			log_warn("control client sent a request over %d bytes",
				 CTL_MAX_REQUEST);
			ctl_fail(c, CTL_ERR_INVALID_REQUEST,
				 "request too large");
			break;
		}
		if (r == SCAN_GARBAGE) {
			ctl_fail(c, CTL_ERR_PARSE, "Parse error");
			break;
		}
		req = json_loadb(c->in + start, end - start, JSON_DECODE_ANY,
				 &jerr);
		if (!req) {
			char msg[256];

			snprintf(msg, sizeof(msg), "Parse error: %s", jerr.text);
			ctl_fail(c, CTL_ERR_PARSE, msg);
			break;
		}
		c->srv->cur = c;
		resp = ctl_dispatch(c->srv, req);
		c->srv->cur = NULL;
		json_decref(req);
		if (resp)
			ctl_queue(c, resp);
	}
	/* Keep only the unconsumed tail, at the front. */
	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->scan -= c->in_off;
		if (c->kind != SCAN_IDLE)
			c->vstart -= c->in_off;
		c->in_off = 0;
	}
}

/* Write what we can; 0 or -errno (the connection is then dead). */
static int ctl_flush(struct ctl_conn *c)
{
	while (ctl_out_pending(c) > 0) {
		ssize_t n = send(c->fd, c->out.buf + c->out_off, ctl_out_pending(c),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		c->out_off += (size_t)n;
		c->last_active = ev_now_ms();
	}
	c->out_off = 0;
	ob_reset(&c->out);
	if (c->out.cap > CTL_OUT_KEEP)
		ob_free(&c->out);
	return 0;
}

/* Read what is there; 0, or -errno when the connection is dead. */
static int ctl_read(struct ctl_conn *c)
{
	for (int k = 0; k < CTL_READS_PER_EVENT; k++) {
		ssize_t n;

		if (c->in_cap - c->in_len < CTL_READ_CHUNK) {
			size_t cap = c->in_len + CTL_READ_CHUNK;
			char *p = realloc(c->in, cap);

			if (!p)
				return -ENOMEM;
			c->in = p;
			c->in_cap = cap;
		}
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		if (n == 0) {
			c->eof = true;
			return 0;
		}
		c->in_len += (size_t)n;
		c->last_active = ev_now_ms();
		ctl_process(c);
		if (c->closing || c->stream ||
		    ctl_out_pending(c) >= CTL_OUT_HIGH)
			return 0;
	}
	return 0;
}

static void ctl_conn_event(struct ev_loop *loop, int fd, unsigned events,
			   void *ud);

/* Re-register the events we want, or close when nothing is left to do. */
static void ctl_update(struct ctl_conn *c)
{
	size_t pending = ctl_out_pending(c);
	unsigned want = 0;
	int err;

	if ((c->closing || (c->eof && !c->stream)) && pending == 0) {
		ctl_conn_close(c);
		return;
	}
	if (!c->closing && !c->eof && !c->stream && pending < CTL_OUT_HIGH)
		want |= EV_READ;
	if (pending > 0 || (c->stream && !c->closing))
		want |= EV_WRITE;
	if (want == c->mask)
		return;
	err = ev_file_add(c->srv->loop, c->fd, want, ctl_conn_event, c);
	if (err) {
		log_warn("control client: %s", strerror(-err));
		ctl_conn_close(c);
		return;
	}
	c->mask = want;
}

static void ctl_conn_event(struct ev_loop *loop, int fd, unsigned events,
			   void *ud)
{
	struct ctl_conn *c = ud;
	int err = 0;

	if (events & EV_WRITE)
		err = ctl_flush(c);
	if (!err && (events & EV_READ) && !c->closing && !c->eof)
		err = ctl_read(c);
	if (!err) {
		/* The next batch of a streamed result, then requests held
		 * back by it or by a full output buffer, or left after EOF. */
		ctl_stream_pump(c);
		ctl_process(c);
		err = ctl_flush(c);
	}
	if (err) {
		if (err != -EPIPE && err != -ECONNRESET)
			log_debug("control client: %s", strerror(-err));
		ctl_conn_close(c);
		return;
	}
	ctl_update(c);
}

void ctl_conn_open(struct ctl_server *s, int fd)
{
	struct ctl_conn *c;
	int err;

	if (s->nconns >= CTL_MAX_CLIENTS) {
		static const char busy[] =
			"{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32000,"
			"\"message\":\"too many clients\"},\"id\":null}\n";
		ssize_t r = send(fd, busy, sizeof(busy) - 1,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		uint64_t now = ev_now_ms();

		(void)r;	/* best effort */
		close(fd);
		/* At most one warning a minute, however hard we are hit. */
		s->busy_refused++;
		if (!s->busy_logged_ms || now - s->busy_logged_ms >= 60000) {
			log_warn("control socket: %u clients already, refused "
				 "%u connection(s)", s->nconns,
				 s->busy_refused);
			s->busy_logged_ms = now;
			s->busy_refused = 0;
		}
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->srv = s;
	c->fd = fd;
	ob_init(&c->out, OBUF_UNLIMITED);	/* reads pause at CTL_OUT_HIGH */
	c->last_active = ev_now_ms();
	err = ev_file_add(s->loop, fd, EV_READ, ctl_conn_event, c);
	if (err) {
		log_warn("control client: %s", strerror(-err));
		close(fd);
		free(c);
		return;
	}
	c->mask = EV_READ;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
}

void ctl_conn_close(struct ctl_conn *c)
{
	struct ctl_server *s = c->srv;

	ev_file_del(s->loop, c->fd);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	if (c->stream)
		ctl_stream_end(c);
	free(c->in);
	ob_free(&c->out);
	free(c);
}

void ctl_conn_sweep(struct ctl_server *s, uint64_t now_ms)
{
	struct ctl_conn *c, *next;

	if (!s->idle_ms)
		return;
	for (c = s->conns; c; c = next) {
		next = c->next;
		if (!c->subscriber && now_ms - c->last_active >= s->idle_ms) {
			log_debug("control client idle for %u ms, closing",
				  s->idle_ms);
			ctl_conn_close(c);
		}
	}
}

void ctl_conn_close_all(struct ctl_server *s)
{
	while (s->conns)
		ctl_conn_close(s->conns);
}

void ctl_conn_subscribe(struct ctl_conn *c)
{
	c->subscriber = true;
}

bool ctl_conn_is_subscriber(const struct ctl_conn *c)
{
	return c->subscriber && !c->closing;
}

/* A slow subscriber loses events rather than holding memory: past the
 * output high-water mark the line is dropped. */
void ctl_conn_push(struct ctl_conn *c, const char *line, size_t len)
{
	/* Nothing may come between the pieces of a streamed result. */
	if (c->closing || c->stream || ctl_out_pending(c) >= CTL_OUT_HIGH)
		return;
	if (ctl_out_append(c, line, len) < 0)
		return;
	ctl_update(c);
}

int ctl_conn_broadcast(struct ctl_server *s, char **lines, size_t n)
{
	int subs = 0;

	for (struct ctl_conn *c = s->conns; c; c = c->next) {
		if (!ctl_conn_is_subscriber(c))
			continue;
		subs++;
		for (size_t i = 0; i < n; i++)
			ctl_conn_push(c, lines[i], strlen(lines[i]));
	}
	return subs;
}
