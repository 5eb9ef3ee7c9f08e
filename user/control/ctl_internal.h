/*
 * ctl_internal.h - what ctl_server.c (socket, methods, dispatch) and
 * ctl_conn.c (one client: framing, buffers) share.  Not for other layers.
 */
#ifndef SIPDLG_CTL_INTERNAL_H
#define SIPDLG_CTL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "control/ctl_server.h"

struct ctl_conn;

struct ctl_method {
	char *name;
	ctl_method_fn fn;		/* NULL for a streamed method */
	ctl_stream_open_fn open;
	void *ud;
};

struct ctl_server {
	struct ev_loop *loop;
	int lfd;			/* listening socket, -1 before listen */
	char *path;
	dev_t dev;			/* the socket file we created, so that */
	ino_t ino;			/* free() unlinks only our own */

	struct ctl_method *methods;	/* registration order */
	size_t nmethods, cap;

	struct ctl_conn *conns;		/* doubly linked, newest first */
	unsigned nconns;
	unsigned idle_ms;
	int64_t sweep_timer;		/* 0 = none */
	int64_t accept_timer;		/* accept paused on EMFILE */
	void **kept;			/* ctl_server_keep: free()d here */
	size_t nkept;
	uint64_t busy_logged_ms;	/* last "too many clients" warning */
	unsigned busy_refused;		/* refused since that warning */

	struct ctl_conn *cur;		/* the client whose request runs now */
	struct ctl_events *ev;		/* ctl_events.c: published events */
};

/* Serve a freshly accepted, non-blocking @fd (owned from now on). */
void ctl_conn_open(struct ctl_server *s, int fd);
void ctl_conn_close(struct ctl_conn *c);
/* Close connections idle for the server's idle timeout. */
void ctl_conn_sweep(struct ctl_server *s, uint64_t now_ms);
/* Close every connection. */
void ctl_conn_close_all(struct ctl_server *s);

/* ctl_conn.c, for ctl_events.c: mark @c a subscriber (exempt from the
 * idle timeout), and queue one text line to it. */
void ctl_conn_subscribe(struct ctl_conn *c);
bool ctl_conn_is_subscriber(const struct ctl_conn *c);
void ctl_conn_push(struct ctl_conn *c, const char *line, size_t len);
/* Push @n lines to every subscriber; returns how many subscribers. */
int ctl_conn_broadcast(struct ctl_server *s, char **lines, size_t n);
void ctl_events_free(struct ctl_server *s);

/* Run a parsed request (object or batch); the response, or NULL for none.
 * A streamed method called alone, with an id, by a client (s->cur) is
 * handed to that client with ctl_conn_stream() and NULL is returned. */
json_t *ctl_dispatch(struct ctl_server *s, json_t *req);
/* ctl_conn.c: serve a stream's result on @c (takes @st; @id borrowed). */
void ctl_conn_stream(struct ctl_conn *c, const struct ctl_stream_ops *ops,
		     void *st, json_t *id);
/* {"jsonrpc":"2.0","error":{...},"id":@id}; @id borrowed, NULL = null. */
json_t *ctl_error_response(int code, const char *message, json_t *id);

#endif /* SIPDLG_CTL_INTERNAL_H */
