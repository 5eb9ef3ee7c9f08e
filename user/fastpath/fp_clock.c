// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fp_clock.c - the controller's clock for the kernel: CLOCK_MONOTONIC,
 * written every SIPDLG_CLOCK_PUBLISH_MS into the program's sd_clock_ns
 * (bpf/sip_match.h; the contract is "Clock" in include/sipdlg_shared.h),
 * so that a matched packet is stamped with one load instead of a helper
 * call.  The value is a reading taken before it is written: the kernel's
 * time never runs ahead of CLOCK_MONOTONIC.
 */
#define LOG_TAG "fastpath"

#include <time.h>

#include <bpf/libbpf.h>

#include "core/loop.h"
#include "fastpath/fp_internal.h"
#include "fastpath/fp_kmaps.h"

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

void fp_clock_publish(struct fastpath *fp)
{
	struct timespec ts;
	__u64 now, *a, *b;

	if (!fp || clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return;
	now = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
	/* the attached program's object, and fp->obj (the one attached
	 * before any key rotation) */
	a = clock_slot(fp->obj);
	b = clock_slot(fp->prog_obj);
	if (a)
		__atomic_store_n(a, now, __ATOMIC_RELAXED);
	if (b)
		__atomic_store_n(b, now, __ATOMIC_RELAXED);
}

static int64_t on_tick(struct ev_loop *loop, uint64_t id, void *ud)
{
	fp_clock_publish(ud);
	/* The same tick makes the deferred "dialogs" deletions (one batch;
	 * no wake-up of its own). */
	fp_kmaps_flush(ud);
	return SIPDLG_CLOCK_PUBLISH_MS;
}

int fp_clock_start(struct fastpath *fp)
{
	int64_t id;

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
}
