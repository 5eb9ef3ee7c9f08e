// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fp_clock.c - the controller's clock for the kernel: CLOCK_MONOTONIC in
 * the program's sd_clock_ns (bpf/sip_match.h; the contract is "Clock" in
 * include/sipdlg_shared.h), so that a matched packet is stamped with one
 * load instead of a helper call.  A value written is a reading taken
 * before it is written: the kernel's time never runs ahead of
 * CLOCK_MONOTONIC.  0 makes the kernel read its coarse clock instead.
 *
 * Who writes it.  With the SIP workers' loops hooked (fp_clock_hook_loop,
 * the daemon): a worker writes a fresh reading each time it wakes up and,
 * when the last awake worker goes to sleep, 0.  So the value lags the
 * clock by at most one pass of a worker's loop while one runs, and the
 * kernel reads its own coarse clock while all sleep: no thread wakes up
 * only to publish the time (a wake-up every SIPDLG_CLOCK_PUBLISH_MS was
 * a fifth of sipdlgd's extra CPU per call with XDP on, issue #14).  The
 * main loop's timer then only makes the deferred "dialogs" deletions
 * that no worker made and counts the kernel's events (FP_GONE_TICK_MS,
 * sooner while many come).  Without hooked loops (tests,
 * tools): the timer publishes every SIPDLG_CLOCK_PUBLISH_MS as before.
 */
#define LOG_TAG "fastpath"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "core/loop.h"
#include "fastpath/fp_internal.h"
#include "fastpath/fp_kmaps.h"

/* The main loop's period for the deferred deletions once the workers
 * publish the clock (they flush too while they run). */
#define FP_GONE_TICK_MS 50
/* Events drained in one tick above which the next comes after
 * SIPDLG_CLOCK_PUBLISH_MS (the ring holds about 3,600). */
#define FP_EVENTS_SOON 512

/* One hooked loop: its own thread reads and writes @awake. */
struct fp_clock_writer {
	struct fastpath *fp;
	bool awake;
};

/* sd_clock_ns of loaded @obj (the only variable of its section), or NULL. */
static __u64 *clock_slot(struct bpf_object *obj)
{
	struct bpf_map *m;
	size_t sz = 0;
	void *p;

	if (!obj)
		return NULL;
	m = bpf_object__find_map_by_name(obj, ".data.clock");
	if (!m)
		return NULL;
	/* libbpf maps it writable (not .rodata); the API says const */
	p = (void *)bpf_map__initial_value(m, &sz);
	return p && sz >= sizeof(__u64) ? p : NULL;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;	/* 0: the kernel's clock */
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* @v into every loaded program's slot; clock_busy keeps the object of a
 * slot open while it is written (fp_clock_set_prog_obj waits). */
static void store(struct fastpath *fp, __u64 v)
{
	atomic_fetch_add(&fp->clock_busy, 1);
	for (int i = 0; i < 2; i++) {
		__u64 *p = atomic_load(&fp->clock_slots[i]);

		if (p)
			__atomic_store_n(p, v, __ATOMIC_RELAXED);
	}
	atomic_fetch_sub(&fp->clock_busy, 1);
}

void fp_clock_publish(struct fastpath *fp)
{
	/* Hooked: only an awake worker may write a reading (one written
	 * now could outlast the last worker's 0); the next wake-up does. */
	if (fp && !fp->clock_hooked)
		store(fp, now_ns());
}

void fp_clock_set_prog_obj(struct fastpath *fp, struct bpf_object *obj)
{
	struct bpf_object *old = fp->prog_obj;

	atomic_store(&fp->clock_slots[1], NULL);
	while (atomic_load(&fp->clock_busy))
		sched_yield();	/* a worker between load and store */
	fp->prog_obj = obj;
	if (old)
		bpf_object__close(old);
	/* A new object's slot is 0 (its kernel clock) until written. */
	atomic_store(&fp->clock_slots[1], clock_slot(obj));
	fp_clock_publish(fp);
}

static void on_wake(struct ev_loop *loop, void *ud)
{
	struct fp_clock_writer *w = ud;

	if (!w->awake) {
		w->awake = true;
		atomic_fetch_add(&w->fp->clock_awake, 1);
	}
	store(w->fp, now_ns());
}

static void on_sleep(struct ev_loop *loop, void *ud)
{
	struct fp_clock_writer *w = ud;

	fp_kmaps_flush_due(w->fp, SIPDLG_CLOCK_PUBLISH_MS);
	fp_relay_flush_due(w->fp, SIPDLG_CLOCK_PUBLISH_MS);
	if (!w->awake)
		return;
	w->awake = false;
	/* The last one to sleep: its 0 comes after every reading stored
	 * by a worker that went to sleep before it (seq_cst counter). */
	if (atomic_fetch_sub(&w->fp->clock_awake, 1) == 1)
		store(w->fp, 0);
}

/*
 * Before the worker's batched datagrams go out (the transport's own
 * before-sleep hook, which runs after this one): relay_hops writes that
 * the 2xx about to be sent needs (xdp.relay.ack: the caller's ACK may
 * come back within a millisecond, and relaying it needs the entry).
 */
static void on_sleep_first(struct ev_loop *loop, void *ud)
{
	struct fp_clock_writer *w = ud;

	fp_relay_flush_urgent(w->fp);
}

int fp_clock_hook_loop(struct fastpath *fp, struct ev_loop *loop)
{
	struct fp_clock_writer *w, **all;
	int r;

	if (!fp)
		return 0;
	all = realloc(fp->clock_writers,
		      (fp->n_clock_writers + 1) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	fp->clock_writers = all;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fp = fp;
	fp->clock_writers[fp->n_clock_writers++] = w;
	r = ev_before_sleep_add(loop, on_sleep, w);
	if (!r)
		r = ev_before_sleep_first(loop, on_sleep_first, w);
	if (!r)
		r = ev_after_wake_add(loop, on_wake, w);
	if (r)
		return r;
	/* From now on only the workers write readings; 0 until one wakes
	 * (the loops have not started yet). */
	fp->clock_hooked = true;
	store(fp, 0);
	return 0;
}

static int64_t on_tick(struct ev_loop *loop, uint64_t id, void *ud)
{
	struct fastpath *fp = ud;

	/* The same tick makes the deferred "dialogs" deletions (one batch;
	 * no wake-up of its own). */
	fp_kmaps_flush(fp);
	fp_relay_flush(fp);
	/* The kernel's events too (the ring buffer is not watched); many
	 * of them: sooner again, so that the buffer does not fill. */
	if (fp_events_drain(fp) > FP_EVENTS_SOON)
		return SIPDLG_CLOCK_PUBLISH_MS;
	if (fp->clock_hooked)
		return FP_GONE_TICK_MS;
	fp_clock_publish(fp);
	return SIPDLG_CLOCK_PUBLISH_MS;
}

int fp_clock_start(struct fastpath *fp)
{
	int64_t id;

	atomic_store(&fp->clock_slots[0], clock_slot(fp->obj));
	atomic_store(&fp->clock_slots[1], clock_slot(fp->prog_obj));
	fp_clock_publish(fp);
	if (!fp->loop)
		return 0;	/* tests without a loop: the kernel's clock */
	id = ev_timer_add(fp->loop, SIPDLG_CLOCK_PUBLISH_MS, on_tick, fp);
	if (id < 0)
		return (int)id;
	fp->clock_timer = (uint64_t)id;
	fp->km.defer_ok = true;		/* fp_kmaps_forget may defer now */
	return 0;
}

void fp_clock_stop(struct fastpath *fp)
{
	if (fp->loop && fp->clock_timer)
		ev_timer_del(fp->loop, fp->clock_timer);
	fp->clock_timer = 0;
	if (fp->km.lock_ok) {
		pthread_mutex_lock(&fp->km.lock);
		fp->km.defer_ok = false;
		pthread_mutex_unlock(&fp->km.lock);
	}
	fp_kmaps_flush(fp);	/* while the maps are open */
	fp_relay_flush(fp);
	/* The workers have stopped (their last wake-up wrote a reading):
	 * the kernel's own clock from here on. */
	if (fp->clock_hooked)
		store(fp, 0);
	for (size_t i = 0; i < fp->n_clock_writers; i++)
		free(fp->clock_writers[i]);
	free(fp->clock_writers);
	fp->clock_writers = NULL;
	fp->n_clock_writers = 0;
}
