/*
 * timer.h - a thread-safe timer service for transaction and dialog timers.
 *
 * One thread sleeps until the next deadline and runs the due timers.
 * Timers live in a hierarchical timing wheel (timer.c) under one mutex:
 * arming and cancelling cost O(1) whatever the number of armed timers (a
 * busy proxy has hundreds of thousands: every transaction lingers some
 * seconds), and a timer is moved between the wheel's levels at most a
 * few times before it fires.  Resolution is 1 ms; timers due in the same
 * millisecond fire in no particular order.  Callbacks run on the timer
 * thread without the lock held.
 *
 * Why the event loop has timers of its own (ev_timer_add, loop.h): they
 * are for state that belongs to one loop thread (the control socket's
 * idle sweep and accept retry, a TCP worker's idle sweep) and run on that
 * thread, so that state needs no lock; these timers are for transactions
 * and dialogs, which every SIP worker and the control thread touch, and
 * run on a thread of their own.  One system would make either side pay:
 * locks on loop-owned state, or a cross-thread hop per timer.
 *
 * A struct tmr is embedded in its owner.  tmr_cancel() returns 1 if the
 * timer was pending and is now removed (its callback will not run), 0 if
 * it was not pending (never armed, already fired, or firing right now):
 * an owner that holds a reference for an armed timer drops it on 1 and
 * lets the callback drop it otherwise.
 */
#ifndef SIPDLG_TIMER_H
#define SIPDLG_TIMER_H

#include <stddef.h>
#include <stdint.h>

struct tmr;
struct tmr_service;

typedef void (*tmr_fn)(struct tmr *t);

struct tmr {
	uint64_t expires_ms;	/* CLOCK_MONOTONIC ms */
	struct tmr *next;	/* wheel slot list */
	struct tmr **pprev;	/* NULL = not pending */
	tmr_fn fn;
	void *data;		/* for the owner */
};

struct tmr_service *tmr_service_alloc(void);
int tmr_service_start(struct tmr_service *ts);	/* starts the thread */
/* For tests: a service without a thread, whose clock stands at @now_ms
 * until tmr_service_run_until() moves it and fires what is then due. */
struct tmr_service *tmr_service_alloc_manual(uint64_t now_ms);
void tmr_service_run_until(struct tmr_service *ts, uint64_t now_ms);
/* Stop the thread; pending timers are left unfired.  NULL-safe. */
void tmr_service_free(struct tmr_service *ts);

static inline void tmr_init(struct tmr *t, tmr_fn fn, void *data)
{
	t->expires_ms = 0;
	t->next = NULL;
	t->pprev = NULL;
	t->fn = fn;
	t->data = data;
}

/* Arm (or re-arm) @t to fire @delay_ms from now.  Returns 1 if it was
 * already pending (and is now moved), 0 if newly armed.  Never fails
 * (the wheel allocates nothing per timer); the int return stays for
 * callers written against the earlier heap, which could run out. */
int tmr_arm(struct tmr_service *ts, struct tmr *t, uint64_t delay_ms);
/* See the header comment. */
int tmr_cancel(struct tmr_service *ts, struct tmr *t);
size_t tmr_pending(struct tmr_service *ts);
/* 1 if @t is armed and has not fired yet.  A callback uses it to see that
 * its timer was re-armed meanwhile (a stale firing: ignore it). */
int tmr_is_pending(struct tmr_service *ts, struct tmr *t);
uint64_t tmr_now_ms(void);
/* CLOCK_REALTIME in ms (UNIX time), to relate deadlines to UNIX times. */
uint64_t tmr_unix_ms(void);

#endif /* SIPDLG_TIMER_H */
