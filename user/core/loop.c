/*
 * loop.c - the one epoll event loop of sipdlgd (after redis' ae.c).
 *
 * File events live in an array indexed by fd.  Timers live in a slot pool
 * (stable indexes, reused through a free list) ordered by a binary min-heap
 * of slot indexes; a timer id packs the slot and a generation number, so
 * ev_timer_del() finds its timer in O(1) and a stale id never hits a reused
 * slot.  The heap orders by (when, seq): seq grows with every arming, so
 * timers due at the same millisecond fire in the order they were armed, and
 * a timer armed or re-armed while timers run waits for the next iteration
 * (a periodic timer returning 0 cannot starve file events).
 *
 * ev_loop_stop() is the only function safe from another thread or from a
 * signal handler: it sets an atomic flag and pokes an eventfd.
 */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define LOG_TAG "loop"
#include "core/log.h"
#include "core/loop.h"

#define EV_MAX_HOOKS 8
#define EV_NO_HEAP UINT32_MAX

struct ev_file {
	unsigned mask;		/* EV_READ|EV_WRITE; 0 = slot unused */
	ev_file_fn fn;
	void *ud;
};

struct ev_timer {
	uint64_t when;		/* CLOCK_MONOTONIC ms */
	uint64_t seq;		/* arming order */
	ev_timer_fn fn;
	void *ud;
	uint32_t gen;		/* part of the id; bumped when the slot is freed */
	uint32_t heap_idx;	/* EV_NO_HEAP when not queued */
	uint32_t next_free;	/* free-list link while unused */
	bool used;
	bool running;		/* its callback is on the stack */
	bool deleted;		/* ev_timer_del() while running */
};

struct ev_hook {
	ev_hook_fn fn;
	void *ud;
};

struct ev_loop {
	int epfd;
	int wakefd;
	atomic_int stop;

	struct ev_file *files;
	int nfiles;

	struct ev_timer *timers;	/* slot pool */
	uint32_t ntimers;		/* slots allocated */
	uint32_t free_head;		/* EV_NO_HEAP = none */
	uint32_t *heap;			/* slot indexes, min-heap by (when, seq) */
	uint32_t heap_len;
	uint64_t seq;

	struct ev_hook hooks[EV_MAX_HOOKS];
	unsigned nhooks;
	struct ev_hook wake_hooks[EV_MAX_HOOKS];
	unsigned nwake_hooks;

	struct epoll_event *events;
	int nevents;
};

uint64_t ev_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct ev_loop *ev_loop_alloc(void)
{
	struct ev_loop *loop = calloc(1, sizeof(*loop));
	struct epoll_event ev = { .events = EPOLLIN };

	if (!loop)
		return NULL;
	loop->epfd = -1;
	loop->wakefd = -1;
	loop->free_head = EV_NO_HEAP;
	loop->nevents = 64;
	loop->events = calloc((size_t)loop->nevents, sizeof(*loop->events));
	if (!loop->events)
		goto fail;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0)
		goto fail;
	loop->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->wakefd < 0)
		goto fail;
	ev.data.fd = loop->wakefd;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &ev) < 0)
		goto fail;
	atomic_init(&loop->stop, 0);
	return loop;
fail:
	log_err("cannot create event loop: %s", strerror(errno));
	ev_loop_free(loop);
	return NULL;
}

void ev_loop_free(struct ev_loop *loop)
{
	if (!loop)
		return;
	if (loop->wakefd >= 0)
		close(loop->wakefd);
	if (loop->epfd >= 0)
		close(loop->epfd);
	free(loop->files);
	free(loop->timers);
	free(loop->heap);
	free(loop->events);
	free(loop);
}

/* --- file events ---------------------------------------------------------- */

static int ev_files_grow(struct ev_loop *loop, int fd)
{
	int n = loop->nfiles ? loop->nfiles : 64;
	struct ev_file *f;

	while (n <= fd) {
		if (n > INT_MAX / 2)
			return -ENOMEM;
		n *= 2;
	}
	f = realloc(loop->files, (size_t)n * sizeof(*f));
	if (!f)
		return -ENOMEM;
	memset(f + loop->nfiles, 0, (size_t)(n - loop->nfiles) * sizeof(*f));
	loop->files = f;
	loop->nfiles = n;
	return 0;
}

int ev_file_add(struct ev_loop *loop, int fd, unsigned events,
		ev_file_fn fn, void *ud)
{
	struct epoll_event ev = { 0 };
	int op, err;

	if (fd < 0)
		return -EBADF;
	if (!fn || !events || (events & ~(EV_READ | EV_WRITE)))
		return -EINVAL;
	if (fd == loop->wakefd || fd == loop->epfd)
		return -EINVAL;
	if (fd >= loop->nfiles) {
		err = ev_files_grow(loop, fd);
		if (err)
			return err;
	}
	ev.events = ((events & EV_READ) ? EPOLLIN : 0u) |
		    ((events & EV_WRITE) ? EPOLLOUT : 0u);
	ev.data.fd = fd;
	op = loop->files[fd].mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(loop->epfd, op, fd, &ev) < 0) {
		/* The fd may have been closed and reused behind our back. */
		if (op == EPOLL_CTL_MOD && errno == ENOENT)
			op = EPOLL_CTL_ADD;
		else if (op == EPOLL_CTL_ADD && errno == EEXIST)
			op = EPOLL_CTL_MOD;
		else
			return -errno;
		if (epoll_ctl(loop->epfd, op, fd, &ev) < 0)
			return -errno;
	}
	loop->files[fd] = (struct ev_file){ .mask = events, .fn = fn, .ud = ud };
	return 0;
}

void ev_file_del(struct ev_loop *loop, int fd)
{
	if (!loop || fd < 0 || fd >= loop->nfiles || !loop->files[fd].mask)
		return;
	/* EBADF/ENOENT when the caller closed the fd first: nothing to undo. */
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	loop->files[fd] = (struct ev_file){ 0 };
}

/* --- timers ---------------------------------------------------------------- */

static bool ev_timer_before(const struct ev_loop *loop, uint32_t a, uint32_t b)
{
	const struct ev_timer *ta = &loop->timers[a], *tb = &loop->timers[b];

	if (ta->when != tb->when)
		return ta->when < tb->when;
	return ta->seq < tb->seq;
}

static void ev_heap_set(struct ev_loop *loop, uint32_t pos, uint32_t slot)
{
	loop->heap[pos] = slot;
	loop->timers[slot].heap_idx = pos;
}

static void ev_heap_up(struct ev_loop *loop, uint32_t pos)
{
	uint32_t slot = loop->heap[pos];

	while (pos > 0) {
		uint32_t parent = (pos - 1) / 2;

		if (!ev_timer_before(loop, slot, loop->heap[parent]))
			break;
		ev_heap_set(loop, pos, loop->heap[parent]);
		pos = parent;
	}
	ev_heap_set(loop, pos, slot);
}

static void ev_heap_down(struct ev_loop *loop, uint32_t pos)
{
	uint32_t slot = loop->heap[pos];

	for (;;) {
		uint32_t child = 2 * pos + 1;

		if (child >= loop->heap_len)
			break;
		if (child + 1 < loop->heap_len &&
		    ev_timer_before(loop, loop->heap[child + 1], loop->heap[child]))
			child++;
		if (!ev_timer_before(loop, loop->heap[child], slot))
			break;
		ev_heap_set(loop, pos, loop->heap[child]);
		pos = child;
	}
	ev_heap_set(loop, pos, slot);
}

/* The heap array is sized with the slot pool, so a push never allocates. */
static void ev_heap_push(struct ev_loop *loop, uint32_t slot)
{
	loop->timers[slot].seq = loop->seq++;
	loop->heap[loop->heap_len] = slot;
	ev_heap_up(loop, loop->heap_len++);
}

static void ev_heap_remove(struct ev_loop *loop, uint32_t slot)
{
	uint32_t pos = loop->timers[slot].heap_idx;
	uint32_t last;

	if (pos == EV_NO_HEAP)
		return;
	loop->timers[slot].heap_idx = EV_NO_HEAP;
	last = loop->heap[--loop->heap_len];
	if (pos == loop->heap_len)
		return;
	ev_heap_set(loop, pos, last);
	ev_heap_up(loop, pos);
	ev_heap_down(loop, loop->timers[last].heap_idx);
}

static uint64_t ev_timer_id(const struct ev_loop *loop, uint32_t slot)
{
	return ((uint64_t)loop->timers[slot].gen << 32) | slot;
}

static void ev_timer_release(struct ev_loop *loop, uint32_t slot)
{
	struct ev_timer *t = &loop->timers[slot];

	t->used = false;
	t->running = false;
	t->deleted = false;
	t->fn = NULL;
	t->ud = NULL;
	/* Generations stay in 1..2^31-1 so ids are positive int64_t. */
	t->gen = t->gen >= 0x7fffffffu ? 1 : t->gen + 1;
	t->next_free = loop->free_head;
	loop->free_head = slot;
}

static int ev_timers_grow(struct ev_loop *loop)
{
	uint32_t n = loop->ntimers ? loop->ntimers * 2 : 64;
	struct ev_timer *t;
	uint32_t *h;

	if (n > (1u << 30))
		return -ENOMEM;
	t = realloc(loop->timers, (size_t)n * sizeof(*t));
	if (!t)
		return -ENOMEM;
	loop->timers = t;
	h = realloc(loop->heap, (size_t)n * sizeof(*h));
	if (!h)
		return -ENOMEM;	/* the larger slot array is kept; harmless */
	loop->heap = h;
	for (uint32_t i = n; i-- > loop->ntimers;) {
		t[i] = (struct ev_timer){ .gen = 1, .heap_idx = EV_NO_HEAP,
					  .next_free = loop->free_head };
		loop->free_head = i;
	}
	loop->ntimers = n;
	return 0;
}

int64_t ev_timer_add(struct ev_loop *loop, uint64_t delay_ms,
		     ev_timer_fn fn, void *ud)
{
	struct ev_timer *t;
	uint32_t slot;

	if (!fn)
		return -EINVAL;
	if (loop->free_head == EV_NO_HEAP) {
		int err = ev_timers_grow(loop);

		if (err)
			return err;
	}
	slot = loop->free_head;
	t = &loop->timers[slot];
	loop->free_head = t->next_free;
	t->used = true;
	t->fn = fn;
	t->ud = ud;
	t->when = ev_now_ms() + delay_ms;
	ev_heap_push(loop, slot);
	return (int64_t)ev_timer_id(loop, slot);
}

int ev_timer_del(struct ev_loop *loop, uint64_t id)
{
	uint32_t slot = (uint32_t)id;
	struct ev_timer *t;

	if (!loop || slot >= loop->ntimers)
		return -ENOENT;
	t = &loop->timers[slot];
	if (!t->used || t->deleted || t->gen != (uint32_t)(id >> 32))
		return -ENOENT;
	if (t->running) {
		/* Freed once its callback returns. */
		t->deleted = true;
		return 0;
	}
	ev_heap_remove(loop, slot);
	ev_timer_release(loop, slot);
	return 0;
}

/*
 * Run every timer due at @now that was armed before this pass started.
 * Callbacks may add or delete timers (the pool may move: no pointer is held
 * across a callback).
 */
static void ev_timers_run(struct ev_loop *loop)
{
	uint64_t now = ev_now_ms();
	uint64_t pass_seq = loop->seq;

	while (loop->heap_len > 0) {
		uint32_t slot = loop->heap[0];
		struct ev_timer *t = &loop->timers[slot];
		int64_t next;

		if (t->when > now || t->seq >= pass_seq)
			break;
		ev_heap_remove(loop, slot);
		t->running = true;
		next = t->fn(loop, ev_timer_id(loop, slot), t->ud);
		t = &loop->timers[slot];
		t->running = false;
		if (t->deleted || next < 0) {
			ev_timer_release(loop, slot);
			continue;
		}
		/* Periodic: keep the cadence unless we fell a period behind. */
		t->when += (uint64_t)next;
		if (t->when < now)
			t->when = now + (uint64_t)next;
		ev_heap_push(loop, slot);
	}
}

/* Milliseconds until the earliest timer, capped by @max_wait (-1 = none). */
static int ev_wait_ms(const struct ev_loop *loop, int max_wait)
{
	uint64_t now, when, d;

	if (loop->heap_len == 0)
		return max_wait;
	when = loop->timers[loop->heap[0]].when;
	now = ev_now_ms();
	d = when > now ? when - now : 0;
	if (d > INT_MAX)
		d = INT_MAX;
	if (max_wait >= 0 && (uint64_t)max_wait < d)
		return max_wait;
	return (int)d;
}

/* --- hooks and the loop ---------------------------------------------------- */

int ev_before_sleep_add(struct ev_loop *loop, ev_hook_fn fn, void *ud)
{
	if (!fn)
		return -EINVAL;
	if (loop->nhooks >= EV_MAX_HOOKS)
		return -ENOSPC;
	loop->hooks[loop->nhooks++] = (struct ev_hook){ .fn = fn, .ud = ud };
	return 0;
}

int ev_before_sleep_first(struct ev_loop *loop, ev_hook_fn fn, void *ud)
{
	if (!fn)
		return -EINVAL;
	if (loop->nhooks >= EV_MAX_HOOKS)
		return -ENOSPC;
	memmove(&loop->hooks[1], &loop->hooks[0],
		loop->nhooks * sizeof(loop->hooks[0]));
	loop->hooks[0] = (struct ev_hook){ .fn = fn, .ud = ud };
	loop->nhooks++;
	return 0;
}

int ev_after_wake_add(struct ev_loop *loop, ev_hook_fn fn, void *ud)
{
	if (!fn)
		return -EINVAL;
	if (loop->nwake_hooks >= EV_MAX_HOOKS)
		return -ENOSPC;
	loop->wake_hooks[loop->nwake_hooks++] =
		(struct ev_hook){ .fn = fn, .ud = ud };
	return 0;
}

static void ev_wake_drain(struct ev_loop *loop)
{
	uint64_t v;

	while (read(loop->wakefd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
}

int ev_loop_once(struct ev_loop *loop, int max_wait_ms)
{
	int n, handled = 0;

	for (unsigned i = 0; i < loop->nhooks; i++)
		loop->hooks[i].fn(loop, loop->hooks[i].ud);
	if (atomic_load(&loop->stop))
		max_wait_ms = 0;

	n = epoll_wait(loop->epfd, loop->events, loop->nevents,
		       ev_wait_ms(loop, max_wait_ms));
	if (n < 0) {
		if (errno != EINTR)
			return -errno;
		n = 0;
	}
	for (unsigned i = 0; i < loop->nwake_hooks; i++)
		loop->wake_hooks[i].fn(loop, loop->wake_hooks[i].ud);
	for (int i = 0; i < n; i++) {
		uint32_t e = loop->events[i].events;
		int fd = loop->events[i].data.fd;
		unsigned fired = 0, mask;
		ev_file_fn fn;
		void *ud;

		if (fd == loop->wakefd) {
			ev_wake_drain(loop);
			continue;
		}
		/* An earlier callback of this batch may have removed it. */
		if (fd >= loop->nfiles || !loop->files[fd].mask)
			continue;
		mask = loop->files[fd].mask;
		if (e & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
			fired |= mask & EV_READ;
		if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			fired |= mask & EV_WRITE;
		if (!fired)
			continue;
		fn = loop->files[fd].fn;
		ud = loop->files[fd].ud;
		fn(loop, fd, fired, ud);
		handled++;
	}
	/* A full batch: next time ask for more. */
	if (n == loop->nevents && loop->nevents < 4096) {
		struct epoll_event *ev = realloc(loop->events,
			(size_t)loop->nevents * 2 * sizeof(*ev));

		if (ev) {
			loop->events = ev;
			loop->nevents *= 2;
		}
	}
	ev_timers_run(loop);
	return handled;
}

int ev_loop_run(struct ev_loop *loop)
{
	/* A stop requested before we got here counts: return at once. */
	while (!atomic_exchange(&loop->stop, 0)) {
		int err = ev_loop_once(loop, -1);

		if (err < 0) {
			log_err("epoll_wait: %s", strerror(-err));
			return err;
		}
	}
	return 0;
}

void ev_loop_stop(struct ev_loop *loop)
{
	uint64_t one = 1;
	ssize_t r;

	atomic_store(&loop->stop, 1);
	r = write(loop->wakefd, &one, sizeof(one));
	(void)r;	/* EAGAIN: the counter is already non-zero */
}
