/*
 * ctl_server.h - JSON-RPC 2.0 control server on a unix stream socket.
 *
 * Served from the ev_loop, single-threaded: handlers run on the loop thread.
 *
 * Framing: a request is one JSON value (an object, or a batch array of
 * objects).  Several requests may follow each other on one connection,
 * separated by whitespace/newlines or simply concatenated: the server scans
 * incoming bytes incrementally (string/escape state and {}/[] depth) to find
 * where each value ends, then hands exactly those bytes to jansson.  Each
 * response is one compact JSON document followed by "\n" (a batch gets one
 * array).  Envelopes are Kamailio's jsonrpcs ones:
 *   {"jsonrpc":"2.0","result":R,"id":ID}
 *   {"jsonrpc":"2.0","error":{"code":C,"message":"..."},"id":ID}
 * A request without "id" is a notification: it runs, nothing is sent back.
 *
 * Limits: a request larger than CTL_MAX_REQUEST bytes gets -32600 "request
 * too large" and the connection is closed after the reply; malformed JSON
 * gets -32700 and is closed likewise; a connection with no traffic for the
 * idle timeout is closed; at most CTL_MAX_CLIENTS connections are served
 * (the next one gets a -32000 "too many clients" line and is closed); replies
 * go through a per-connection output buffer, and a client that does not read
 * them stops being read from once CTL_OUT_HIGH bytes are queued.  A streamed
 * result (ctl_register_stream) is produced one batch at a time whenever
 * less than CTL_STREAM_LOW bytes wait; meanwhile that connection reads and
 * runs nothing else, and events for it (dlg.subscribe) are dropped.
 */
#ifndef SIPDLG_CTL_SERVER_H
#define SIPDLG_CTL_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"

#define CTL_MAX_REQUEST (64 * 1024)
#define CTL_MAX_CLIENTS 128
#define CTL_IDLE_TIMEOUT_MS 10000u
#define CTL_OUT_HIGH (1024 * 1024)
#define CTL_STREAM_LOW (64 * 1024)

/* JSON-RPC 2.0 error codes; handlers may also use Kamailio-style 400/404/500. */
#define CTL_ERR_PARSE (-32700)
#define CTL_ERR_INVALID_REQUEST (-32600)
#define CTL_ERR_METHOD_NOT_FOUND (-32601)
#define CTL_ERR_INVALID_PARAMS (-32602)
#define CTL_ERR_INTERNAL (-32603)
#define CTL_ERR_SERVER (-32000)

struct ctl_server;

struct ctl_error {
	int code;
	char message[256];
};

/*
 * A method handler.  @params is the request's "params" (an array, an
 * object, or NULL when absent), borrowed.  Return 0 and set *result to a new
 * reference (left NULL, the result is {} as in Kamailio), or return non-zero
 * and fill @err (a zero code becomes -32603 "Internal error").
 */
typedef int (*ctl_method_fn)(void *ud, json_t *params, json_t **result,
			     struct ctl_error *err);

/*
 * A streamed method: its result is a JSON array that the server writes in
 * batches as the client reads it, so that listing a million dialogs never
 * builds one huge document, never keeps the control thread busy for more
 * than one batch at a time, and a client that stops reading costs nothing
 * but its connection (closed after the idle timeout without progress).
 * The bytes on the wire are those of an ordinary response:
 *   {"jsonrpc":"2.0","result":[ITEM,ITEM,...],"id":ID}\n
 *
 * @open validates @params and returns the stream's state in *st (0), or
 * fills @err (non-zero) as a handler does.  Then, on the loop thread:
 *   next(st, items, err)  appends the next items (a bounded batch, with no
 *                         lock held across calls) to the array @items and
 *                         returns 1 if more may follow, 0 at the end, or
 *                         -1 with @err filled: the error is the response if
 *                         no item was sent yet, else the array ends there;
 *   free(st)              always, once (also when the client goes away).
 * In a batch request the items are collected into one response as usual.
 */
struct ctl_stream_ops {
	int (*next)(void *st, json_t *items, struct ctl_error *err);
	void (*free)(void *st);
};

typedef int (*ctl_stream_open_fn)(void *ud, json_t *params,
				  const struct ctl_stream_ops **ops,
				  void **st, struct ctl_error *err);

/* A server with no socket yet; registers system.listMethods.  NULL on ENOMEM. */
struct ctl_server *ctl_server_alloc(struct ev_loop *loop);

/*
 * Create the socket at @path: make missing parent directories (0755),
 * remove a stale socket left by a dead daemon (-EADDRINUSE if a live one
 * answers on it, -EEXIST if @path is not a socket), bind, chmod to @mode,
 * chown to @group (a name or a number; NULL or "" = keep; -ENOENT if there
 * is no such group), then listen.  One socket per server.  0 or -errno.
 */
int ctl_server_listen(struct ctl_server *s, const char *path, unsigned mode,
		      const char *group);

/* Add a method; the name is copied.  0, -EEXIST or -EINVAL/-ENOMEM. */
int ctl_register(struct ctl_server *s, const char *method, ctl_method_fn fn,
		 void *ud);

/* Own @p (malloc'd; the context the methods of a module share, given
 * to them as @ud): free()d by ctl_server_free.  0 or -ENOMEM (@p is then
 * still the caller's). */
int ctl_server_keep(struct ctl_server *s, void *p);

/* Add a streamed method (see struct ctl_stream_ops); same errors. */
int ctl_register_stream(struct ctl_server *s, const char *method,
			ctl_stream_open_fn open, void *ud);

/* Close idle connections after @ms without traffic (0 = never). */
void ctl_server_set_idle_timeout(struct ctl_server *s, unsigned ms);

/* Connections being served now. */
unsigned ctl_server_clients(const struct ctl_server *s);

/* Close every client and the socket, unlink the socket file.  NULL-safe. */
void ctl_server_free(struct ctl_server *s);

/* --- helpers for handlers ---------------------------------------------------- */

/* Fill @err; returns -1 so a handler can `return ctl_error_set(...)`. */
int ctl_error_set(struct ctl_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * The parameter at position @idx of an array, or the member @name of an
 * object (@name may be NULL to allow positional only); NULL if absent.
 * Borrowed reference.
 */
json_t *ctl_param(json_t *params, size_t idx, const char *name);

/* Number of positional parameters (0 for NULL, members for an object). */
size_t ctl_param_count(json_t *params);

/*
 * Events (dlg.subscribe).  From a method handler: make the calling client
 * a subscriber.  From any thread: publish a notification {"jsonrpc":"2.0",
 * "method":@method,"params":@params} to every subscriber (takes @params;
 * does nothing, cheaply, while nobody listens).
 */
int ctl_subscribe_current(struct ctl_server *s);
bool ctl_has_subscribers(const struct ctl_server *s);
int ctl_publish(struct ctl_server *s, const char *method, json_t *params);

#endif /* SIPDLG_CTL_SERVER_H */
