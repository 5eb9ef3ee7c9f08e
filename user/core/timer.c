/* timer.c - min-heap timers served by one thread (see timer.h). */
#define LOG_TAG "timer"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "core/timer.h"

struct tmr_service {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct tmr **heap;
	size_t n, cap;
	int running, stop;
	pthread_t thread;
};

uint64_t tmr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void heap_set(struct tmr_service *ts, size_t i, struct tmr *t)
{
	ts->heap[i] = t;
	t->heap_idx = i + 1;
}

static void sift_up(struct tmr_service *ts, size_t i)
{
	struct tmr *t = ts->heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (ts->heap[p]->expires_ms <= t->expires_ms)
			break;
		heap_set(ts, i, ts->heap[p]);
		i = p;
	}
	heap_set(ts, i, t);
}

static void sift_down(struct tmr_service *ts, size_t i)
{
	struct tmr *t = ts->heap[i];

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		uint64_t best = t->expires_ms;

		if (l < ts->n && ts->heap[l]->expires_ms < best) {
			m = l;
			best = ts->heap[l]->expires_ms;
		}
		if (r < ts->n && ts->heap[r]->expires_ms < best)
			m = r;
		if (m == i)
			break;
		heap_set(ts, i, ts->heap[m]);
		i = m;
	}
	heap_set(ts, i, t);
}

static void heap_remove(struct tmr_service *ts, struct tmr *t)
{
	size_t i = t->heap_idx - 1;
	struct tmr *last = ts->heap[--ts->n];

	t->heap_idx = 0;
	if (i == ts->n)
		return;
	heap_set(ts, i, last);
	if (i > 0 && ts->heap[(i - 1) / 2]->expires_ms > last->expires_ms)
		sift_up(ts, i);
	else
		sift_down(ts, i);
}

int tmr_arm(struct tmr_service *ts, struct tmr *t, uint64_t delay_ms)
{
	int was = 0, wake;

	pthread_mutex_lock(&ts->lock);
	if (t->heap_idx) {
		heap_remove(ts, t);
		was = 1;
	} else if (ts->n == ts->cap) {
		size_t cap = ts->cap ? ts->cap * 2 : 1024;
		struct tmr **h = realloc(ts->heap, cap * sizeof(*h));
		if (!h) {
			pthread_mutex_unlock(&ts->lock);
			return -ENOMEM;
		}
		ts->heap = h;
		ts->cap = cap;
	}
	t->expires_ms = tmr_now_ms() + delay_ms;
	heap_set(ts, ts->n++, t);
	sift_up(ts, ts->n - 1);
	/* Wake the thread only when the earliest deadline moved earlier. */
	wake = ts->heap[0] == t;
	pthread_mutex_unlock(&ts->lock);
	if (wake)
		pthread_cond_signal(&ts->cond);
	return was;
}

int tmr_cancel(struct tmr_service *ts, struct tmr *t)
{
	int was = 0;

	pthread_mutex_lock(&ts->lock);
	if (t->heap_idx) {
		heap_remove(ts, t);
		was = 1;
	}
	pthread_mutex_unlock(&ts->lock);
	return was;
}

int tmr_is_pending(struct tmr_service *ts, struct tmr *t)
{
	int r;

	pthread_mutex_lock(&ts->lock);
	r = t->heap_idx != 0;
	pthread_mutex_unlock(&ts->lock);
	return r;
}

size_t tmr_pending(struct tmr_service *ts)
{
	size_t n;

	pthread_mutex_lock(&ts->lock);
	n = ts->n;
	pthread_mutex_unlock(&ts->lock);
	return n;
}

static void *tmr_thread(void *arg)
{
	struct tmr_service *ts = arg;

	pthread_mutex_lock(&ts->lock);
	while (!ts->stop) {
		uint64_t now = tmr_now_ms();

		if (ts->n == 0) {
			pthread_cond_wait(&ts->cond, &ts->lock);
			continue;
		}
		if (ts->heap[0]->expires_ms > now) {
			uint64_t at = ts->heap[0]->expires_ms;
			struct timespec abs;

			/* The condvar uses CLOCK_MONOTONIC (see alloc). */
			abs.tv_sec = (time_t)(at / 1000);
			abs.tv_nsec = (long)(at % 1000) * 1000000L;
			pthread_cond_timedwait(&ts->cond, &ts->lock, &abs);
			continue;
		}
		struct tmr *t = ts->heap[0];
		heap_remove(ts, t);
		pthread_mutex_unlock(&ts->lock);
		t->fn(t);
		pthread_mutex_lock(&ts->lock);
	}
	pthread_mutex_unlock(&ts->lock);
	return NULL;
}

struct tmr_service *tmr_service_alloc(void)
{
	struct tmr_service *ts = calloc(1, sizeof(*ts));
	pthread_condattr_t ca;

	if (!ts)
		return NULL;
	pthread_mutex_init(&ts->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ts->cond, &ca);
	pthread_condattr_destroy(&ca);
	return ts;
}

int tmr_service_start(struct tmr_service *ts)
{
	int r = pthread_create(&ts->thread, NULL, tmr_thread, ts);

	if (r)
		return -r;
	ts->running = 1;
	return 0;
}

void tmr_service_free(struct tmr_service *ts)
{
	if (!ts)
		return;
	if (ts->running) {
		pthread_mutex_lock(&ts->lock);
		ts->stop = 1;
		pthread_mutex_unlock(&ts->lock);
		pthread_cond_signal(&ts->cond);
		pthread_join(ts->thread, NULL);
	}
	pthread_cond_destroy(&ts->cond);
	pthread_mutex_destroy(&ts->lock);
	free(ts->heap);
	free(ts);
}
