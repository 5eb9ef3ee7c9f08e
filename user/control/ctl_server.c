/*
 * ctl_server.c - the control socket, the method table and request dispatch.
 *
 * The socket is created so that nobody can connect before its mode and
 * group are right (bind, chmod, chown, and only then listen), and a second
 * daemon started on the same path refuses to steal it from a live one.
 * Connections are served by ctl_conn.c; one periodic timer closes idle ones.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LOG_TAG "ctl"
#include "core/log.h"
#include "control/ctl_internal.h"

#define CTL_ACCEPTS_PER_EVENT 64
#define CTL_ACCEPT_RETRY_MS 100

/* --- helpers for handlers --------------------------------------------------- */

int ctl_error_set(struct ctl_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

json_t *ctl_param(json_t *params, size_t idx, const char *name)
{
	if (json_is_array(params))
		return json_array_get(params, idx);
	if (json_is_object(params) && name)
		return json_object_get(params, name);
	return NULL;
}

size_t ctl_param_count(json_t *params)
{
	if (json_is_array(params))
		return json_array_size(params);
	if (json_is_object(params))
		return json_object_size(params);
	return 0;
}

/* --- methods and dispatch ---------------------------------------------------- */

static const struct ctl_method *ctl_find(const struct ctl_server *s,
					 const char *name)
{
	for (size_t i = 0; i < s->nmethods; i++)
		if (strcmp(s->methods[i].name, name) == 0)
			return &s->methods[i];
	return NULL;
}

static int ctl_add(struct ctl_server *s, const char *method, ctl_method_fn fn,
		   ctl_stream_open_fn open, void *ud)
{
	char *name;

	if (!s || !method || !*method || (!fn && !open))
		return -EINVAL;
	if (ctl_find(s, method))
		return -EEXIST;
	if (s->nmethods == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		struct ctl_method *m = realloc(s->methods, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		s->methods = m;
		s->cap = cap;
	}
	name = strdup(method);
	if (!name)
		return -ENOMEM;
	s->methods[s->nmethods++] = (struct ctl_method){
		.name = name, .fn = fn, .open = open, .ud = ud };
	return 0;
}

int ctl_server_keep(struct ctl_server *s, void *p)
{
	void **k = realloc(s->kept, (s->nkept + 1) * sizeof(*k));

	if (!k)
		return -ENOMEM;
	k[s->nkept++] = p;
	s->kept = k;
	return 0;
}

int ctl_register(struct ctl_server *s, const char *method, ctl_method_fn fn,
		 void *ud)
{
	return fn ? ctl_add(s, method, fn, NULL, ud) : -EINVAL;
}

int ctl_register_stream(struct ctl_server *s, const char *method,
			ctl_stream_open_fn open, void *ud)
{
	return open ? ctl_add(s, method, NULL, open, ud) : -EINVAL;
}

/* A streamed method inside a batch (or without a client): every item
 * into one array. */
static int ctl_stream_collect(const struct ctl_stream_ops *ops, void *st,
			      json_t **result, struct ctl_error *err)
{
	json_t *arr = json_array();
	int r;

	if (!arr) {
		ops->free(st);
		return ctl_error_set(err, CTL_ERR_INTERNAL, "out of memory");
	}
	while ((r = ops->next(st, arr, err)) > 0)
		;
	ops->free(st);
	if (r < 0 && json_array_size(arr) == 0) {
		json_decref(arr);
		return -1;
	}
	*result = arr;
	return 0;
}

static int ctl_list_methods(void *ud, json_t *params, json_t **result,
			    struct ctl_error *err)
{
	struct ctl_server *s = ud;
	json_t *arr = json_array();

	if (!arr)
		return ctl_error_set(err, CTL_ERR_INTERNAL, "out of memory");
	for (size_t i = 0; i < s->nmethods; i++)
		json_array_append_new(arr, json_string(s->methods[i].name));
	*result = arr;
	return 0;
}

json_t *ctl_error_response(int code, const char *message, json_t *id)
{
	json_t *resp = json_pack("{s:s, s:{s:i, s:s}, s:O}", "jsonrpc", "2.0",
				 "error", "code", code, "message", message,
				 "id", id ? id : json_null());

	/* A handler's message cut inside a UTF-8 sequence is not a string. */
	if (!resp)
		resp = json_pack("{s:s, s:{s:i, s:s}, s:O}", "jsonrpc", "2.0",
				 "error", "code", code, "message",
				 "(message is not valid UTF-8)", "id",
				 id ? id : json_null());
	return resp;
}

static json_t *ctl_result_response(json_t *result, json_t *id)
{
	return json_pack("{s:s, s:o, s:O}", "jsonrpc", "2.0", "result", result,
			 "id", id);
}

static bool ctl_id_ok(const json_t *id)
{
	return json_is_string(id) || json_is_number(id) || json_is_null(id);
}

/* One request object; the response, or NULL for a notification (or a
 * result now streamed to s->cur, when @alone). */
static json_t *ctl_call(struct ctl_server *s, json_t *req, bool alone)
{
	const struct ctl_method *m;
	struct ctl_error err = { 0 };
	json_t *id, *ver, *method, *params, *result = NULL;
	const char *name;
	int r;

	if (!json_is_object(req))
		return ctl_error_response(CTL_ERR_INVALID_REQUEST,
			"Invalid Request: not a JSON object", NULL);
	id = json_object_get(req, "id");
	if (id && !ctl_id_ok(id))
		return ctl_error_response(CTL_ERR_INVALID_REQUEST,
			"Invalid Request: \"id\" must be a string, a number or null",
			NULL);
	ver = json_object_get(req, "jsonrpc");
	if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0)
		return ctl_error_response(CTL_ERR_INVALID_REQUEST,
			"Invalid Request: \"jsonrpc\" must be \"2.0\"", id);
	method = json_object_get(req, "method");
	if (!json_is_string(method))
		return ctl_error_response(CTL_ERR_INVALID_REQUEST,
			"Invalid Request: \"method\" must be a string", id);
	params = json_object_get(req, "params");
	if (params && !json_is_array(params) && !json_is_object(params))
		return ctl_error_response(CTL_ERR_INVALID_REQUEST,
			"Invalid Request: \"params\" must be an array or an object",
			id);

	name = json_string_value(method);
	m = ctl_find(s, name);
	if (!m) {
		char msg[200];

		if (!id)
			return NULL;
		snprintf(msg, sizeof(msg), "Method not found: %.160s", name);
		return ctl_error_response(CTL_ERR_METHOD_NOT_FOUND, msg, id);
	}
	if (m->open) {
		const struct ctl_stream_ops *ops = NULL;
		void *st = NULL;

		r = m->open(m->ud, params, &ops, &st, &err);
		if (r == 0 && !id) {
			ops->free(st);
			return NULL;
		}
		if (r == 0 && alone && s->cur) {
			ctl_conn_stream(s->cur, ops, st, id);
			return NULL;
		}
		if (r == 0)
			r = ctl_stream_collect(ops, st, &result, &err);
	} else {
		r = m->fn(m->ud, params, &result, &err);
	}
	if (r != 0) {
		json_decref(result);
		if (!id)
			return NULL;
		if (!err.code)
			err.code = CTL_ERR_INTERNAL;
		if (!err.message[0])
			snprintf(err.message, sizeof(err.message), "%s",
				 "Internal error");
		return ctl_error_response(err.code, err.message, id);
	}
	if (!id) {
		json_decref(result);
		return NULL;
	}
	if (!result)
		result = json_object();
	return ctl_result_response(result, id);
}

json_t *ctl_dispatch(struct ctl_server *s, json_t *req)
{
	json_t *out, *item;
	size_t i;

	if (!json_is_array(req))
		return ctl_call(s, req, true);
	if (json_array_size(req) == 0)
		return ctl_error_response(CTL_ERR_INVALID_REQUEST,
			"Invalid Request: empty batch", NULL);
	out = json_array();
	json_array_foreach(req, i, item) {
		json_t *resp = ctl_call(s, item, false);

		if (resp)
			json_array_append_new(out, resp);
	}
	if (json_array_size(out) == 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* --- the socket -------------------------------------------------------------- */

struct ctl_server *ctl_server_alloc(struct ev_loop *loop)
{
	struct ctl_server *s;

	if (!loop)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->loop = loop;
	s->lfd = -1;
	s->idle_ms = CTL_IDLE_TIMEOUT_MS;
	if (ctl_register(s, "system.listMethods", ctl_list_methods, s) < 0) {
		ctl_server_free(s);
		return NULL;
	}
	return s;
}

static uint64_t ctl_sweep_period(const struct ctl_server *s)
{
	uint64_t p = s->idle_ms / 4;

	if (p < 5)
		p = 5;
	if (p > 1000)
		p = 1000;
	return p;
}

static int64_t ctl_sweep(struct ev_loop *loop, uint64_t id, void *ud)
{
	struct ctl_server *s = ud;

	ctl_conn_sweep(s, ev_now_ms());
	return (int64_t)ctl_sweep_period(s);
}

void ctl_server_set_idle_timeout(struct ctl_server *s, unsigned ms)
{
	int64_t id;

	if (!s)
		return;
	s->idle_ms = ms;
	if (!s->sweep_timer)
		return;
	ev_timer_del(s->loop, (uint64_t)s->sweep_timer);
	id = ev_timer_add(s->loop, ctl_sweep_period(s), ctl_sweep, s);
	s->sweep_timer = id > 0 ? id : 0;
}

unsigned ctl_server_clients(const struct ctl_server *s)
{
	return s ? s->nconns : 0;
}

static void ctl_on_accept(struct ev_loop *loop, int fd, unsigned events,
			  void *ud);

static int64_t ctl_accept_resume(struct ev_loop *loop, uint64_t id, void *ud)
{
	struct ctl_server *s = ud;

	s->accept_timer = 0;
	if (s->lfd >= 0 &&
	    ev_file_add(loop, s->lfd, EV_READ, ctl_on_accept, s) < 0)
		log_err("control socket: cannot resume accepting");
	return -1;
}

static void ctl_on_accept(struct ev_loop *loop, int fd, unsigned events,
			  void *ud)
{
	struct ctl_server *s = ud;

	for (int i = 0; i < CTL_ACCEPTS_PER_EVENT; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd >= 0) {
			ctl_conn_open(s, cfd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			int64_t id;

			/* Level-triggered: pause, or we would spin. */
			log_warn("control socket: accept: %s; pausing",
				 strerror(errno));
			ev_file_del(loop, fd);
			id = ev_timer_add(loop, CTL_ACCEPT_RETRY_MS,
					  ctl_accept_resume, s);
			s->accept_timer = id > 0 ? id : 0;
			return;
		}
		log_warn("control socket: accept: %s", strerror(errno));
		return;
	}
}

/* mkdir -p of @path's directory, new directories 0755. */
static int ctl_mkdir_parents(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

/* 0 if nothing (or a dead daemon's socket) is at @path, else -errno. */
static int ctl_clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat stb;
	int fd, rc;

	if (lstat(path, &stb) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(stb.st_mode)) {
		log_err("control socket %s: exists and is not a socket", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	if (rc == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		close(fd);
		log_err("control socket %s: another daemon is serving it",
			path);
		return -EADDRINUSE;
	}
	rc = errno;
	close(fd);
	if (rc != ECONNREFUSED && rc != ENOENT)
		return -rc;
	log_info("control socket %s: removing a stale socket", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* A group name or number to a gid; 0 or -ENOENT. */
static int ctl_group_gid(const char *group, gid_t *gid)
{
	struct group grp, *res = NULL;
	size_t len = 1024;
	char *buf = NULL, *end;
	unsigned long n;
	int rc;

	for (;;) {
		char *p = realloc(buf, len);

		if (!p) {
			free(buf);
			return -ENOMEM;
		}
		buf = p;
		rc = getgrnam_r(group, &grp, buf, len, &res);
		if (rc != ERANGE || len >= (1u << 20))
			break;
		len *= 2;
	}
	if (rc == 0 && res) {
		*gid = grp.gr_gid;
		free(buf);
		return 0;
	}
	free(buf);
	errno = 0;
	n = strtoul(group, &end, 10);
	if (*group >= '0' && *group <= '9' && !*end && !errno && n < UINT_MAX) {
		*gid = (gid_t)n;
		return 0;
	}
	return -ENOENT;
}

int ctl_server_listen(struct ctl_server *s, const char *path, unsigned mode,
		      const char *group)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat stb;
	gid_t gid = (gid_t)-1;
	int fd = -1, err;

	if (!s || !path || !*path || (mode & ~07777u))
		return -EINVAL;
	if (s->lfd >= 0)
		return -EBUSY;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (group && *group) {
		err = ctl_group_gid(group, &gid);
		if (err) {
			log_err("control socket group '%s' does not exist",
				group);
			return err;
		}
	}
	err = ctl_mkdir_parents(path);
	if (err) {
		log_err("control socket %s: cannot create its directory: %s",
			path, strerror(-err));
		return err;
	}
	err = ctl_clear_stale(path, &sa);
	if (err)
		return err;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		log_err("control socket %s: bind: %s", path, strerror(errno));
		close(fd);
		return err;
	}
	/* Nobody can connect before listen(): fix mode and owner first. */
	if (chmod(path, mode) < 0 ||
	    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) ||
	    stat(path, &stb) < 0 || listen(fd, SOMAXCONN) < 0) {
		err = -errno;
		log_err("control socket %s: %s", path, strerror(errno));
		goto fail;
	}
	s->path = strdup(path);
	if (!s->path) {
		err = -ENOMEM;
		goto fail;
	}
	s->dev = stb.st_dev;
	s->ino = stb.st_ino;
	err = ev_file_add(s->loop, fd, EV_READ, ctl_on_accept, s);
	if (err)
		goto fail;
	s->lfd = fd;
	if (!s->sweep_timer) {
		int64_t id = ev_timer_add(s->loop, ctl_sweep_period(s),
					  ctl_sweep, s);

		if (id < 0) {
			err = (int)id;
			s->lfd = -1;
			ev_file_del(s->loop, fd);
			goto fail;
		}
		s->sweep_timer = id;
	}
	log_info("control socket %s (mode %04o)", path, mode);
	return 0;
fail:
	free(s->path);
	s->path = NULL;
	close(fd);
	unlink(path);
	return err;
}

void ctl_server_free(struct ctl_server *s)
{
	struct stat stb;

	if (!s)
		return;
	ctl_conn_close_all(s);
	ctl_events_free(s);
	if (s->sweep_timer)
		ev_timer_del(s->loop, (uint64_t)s->sweep_timer);
	if (s->accept_timer)
		ev_timer_del(s->loop, (uint64_t)s->accept_timer);
	if (s->lfd >= 0) {
		ev_file_del(s->loop, s->lfd);
		close(s->lfd);
		/* Only our own file: a successor may have replaced it. */
		if (s->path && stat(s->path, &stb) == 0 &&
		    stb.st_dev == s->dev && stb.st_ino == s->ino)
			unlink(s->path);
	}
	for (size_t i = 0; i < s->nmethods; i++)
		free(s->methods[i].name);
	free(s->methods);
	for (size_t i = 0; i < s->nkept; i++)
		free(s->kept[i]);
	free(s->kept);
	free(s->path);
	free(s);
}
