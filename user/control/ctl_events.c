/*
 * ctl_events.c - events pushed to control clients that asked for them
 * (dlg.subscribe): JSON-RPC notifications, one per line.
 *
 * Events are produced on any thread (SIP workers, timers); the clients
 * belong to the control loop.  ctl_publish() therefore only appends the
 * encoded line to a queue under a mutex and wakes the loop through an
 * eventfd; the loop writes the lines to every subscriber.  Nothing is
 * encoded while nobody listens.
 */
#define LOG_TAG "ctl"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "control/ctl_internal.h"

#define EVENTS_QUEUE_MAX 65536	/* lines waiting for the loop */

struct ctl_events {
	pthread_mutex_t lock;
	char **lines;
	size_t n, cap;
	int efd;
	atomic_int listeners;	/* subscribers after the last delivery */
	atomic_ulong dropped;
};

static void drain(struct ev_loop *loop, int fd, unsigned events, void *ud)
{
	struct ctl_server *s = ud;
	struct ctl_events *ev = s->ev;
	uint64_t v;
	char **lines;
	size_t n;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&ev->lock);
	lines = ev->lines;
	n = ev->n;
	ev->lines = NULL;
	ev->n = ev->cap = 0;
	pthread_mutex_unlock(&ev->lock);
	atomic_store(&ev->listeners, ctl_conn_broadcast(s, lines, n));
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

static int events_init(struct ctl_server *s)
{
	struct ctl_events *ev;
	int r;

	if (s->ev)
		return 0;
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	pthread_mutex_init(&ev->lock, NULL);
	ev->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ev->efd < 0) {
		r = -errno;
		pthread_mutex_destroy(&ev->lock);
		free(ev);
		return r;
	}
	r = ev_file_add(s->loop, ev->efd, EV_READ, drain, s);
	if (r) {
		close(ev->efd);
		pthread_mutex_destroy(&ev->lock);
		free(ev);
		return r;
	}
	s->ev = ev;
	return 0;
}

int ctl_subscribe_current(struct ctl_server *s)
{
	int r;

	if (!s->cur)
		return -EINVAL;
	r = events_init(s);
	if (r)
		return r;
	ctl_conn_subscribe(s->cur);
	atomic_fetch_add(&s->ev->listeners, 1);
	return 0;
}

bool ctl_has_subscribers(const struct ctl_server *s)
{
	return s->ev && atomic_load(&s->ev->listeners) > 0;
}

int ctl_publish(struct ctl_server *s, const char *method, json_t *params)
{
	struct ctl_events *ev = s->ev;
	json_t *note;
	char *text;
	int r = 0;

	if (!ctl_has_subscribers(s)) {
		json_decref(params);
		return 0;
	}
	note = json_pack("{s:s,s:s,s:o}", "jsonrpc", "2.0", "method", method,
			 "params", params);
	if (!note)
		return -ENOMEM;
	text = json_dumps(note, JSON_COMPACT);
	json_decref(note);
	if (!text)
		return -ENOMEM;
	{
		size_t l = strlen(text);
		char *line = realloc(text, l + 2);
		if (!line) {
			free(text);
			return -ENOMEM;
		}
		line[l] = '\n';
		line[l + 1] = '\0';
		text = line;
	}
	pthread_mutex_lock(&ev->lock);
	if (ev->n == EVENTS_QUEUE_MAX) {
		r = -ENOBUFS;
	} else {
		if (ev->n == ev->cap) {
			size_t cap = ev->cap ? ev->cap * 2 : 64;
			char **l = realloc(ev->lines, cap * sizeof(*l));
			if (!l)
				r = -ENOMEM;
			else {
				ev->lines = l;
				ev->cap = cap;
			}
		}
		if (!r)
			ev->lines[ev->n++] = text;
	}
	pthread_mutex_unlock(&ev->lock);
	if (r) {
		atomic_fetch_add(&ev->dropped, 1);
		free(text);
		return r;
	}
	{
		uint64_t one = 1;
		if (write(ev->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			return -errno;
	}
	return 0;
}

void ctl_events_free(struct ctl_server *s)
{
	struct ctl_events *ev = s->ev;

	if (!ev)
		return;
	ev_file_del(s->loop, ev->efd);
	close(ev->efd);
	for (size_t i = 0; i < ev->n; i++)
		free(ev->lines[i]);
	free(ev->lines);
	pthread_mutex_destroy(&ev->lock);
	free(ev);
	s->ev = NULL;
}
