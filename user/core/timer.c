/*
 * timer.c - timers in a hierarchical timing wheel, served by one thread
 * (see timer.h).
 *
 * Three levels of TW_SLOTS slots each: level 0 has one slot per ms and
 * covers [cur, cur + 1024 ms); level 1 one slot per 1024 ms block (about
 * 17 minutes ahead); level 2 one slot per 2^20 ms (about 12 days).  A
 * timer due further away waits in the farthest level 2 slot and is
 * placed again when that slot comes round.  "cur" is the next ms the
 * thread will process; when it reaches the start of a block, the level 1
 * slot of that block is emptied into level 0 (and at the start of a
 * 2^20 ms span the level 2 slot into level 1 or 0): every timer moves
 * at most twice before it fires.  Each level keeps a bitmap of its
 * non-empty slots, so the thread finds the next deadline with a few word
 * scans and skips idle stretches in one step.
 *
 * Why not the binary heap this replaced: a busy proxy keeps hundreds of
 * thousands of timers (every transaction lingers for seconds), and each
 * arm or cancel walked ~17 heap levels of cache misses under the lock
 * the SIP workers share (5 % of a worker's time at 3,000 calls/s).
 */
#define LOG_TAG "timer"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>

#include "core/log.h"
#include "core/timer.h"

#define TW_BITS 10
#define TW_SLOTS (1u << TW_BITS)
#define TW_MASK (TW_SLOTS - 1)
#define TW_LEVELS 3
#define TW_WORDS (TW_SLOTS / 64)
#define TW_NONE UINT64_MAX

struct tmr_service {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct tmr *slot[TW_LEVELS][TW_SLOTS];
	uint64_t used[TW_LEVELS][TW_WORDS];	/* bit set: slot non-empty */
	struct tmr *expired;	/* the batch being fired */
	uint64_t cur;		/* next ms to process */
	uint64_t sleep_until;	/* thread asleep until then; 0 = awake */
	size_t n;
	int running, stop;
	bool manual;		/* tests: no thread, the clock is manual_now */
	uint64_t manual_now;
	pthread_t thread;
};

uint64_t tmr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t tmr_unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Shift of a level's slot width: 1 ms, 2^10 ms, 2^20 ms. */
static unsigned lvl_shift(int lvl)
{
	return (unsigned)lvl * TW_BITS;
}

static void link_at(struct tmr **head, struct tmr *t)
{
	t->next = *head;
	if (t->next)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
}

static void unlink_tmr(struct tmr *t)
{
	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
}

static void mark(struct tmr_service *ts, int lvl, unsigned idx)
{
	ts->used[lvl][idx / 64] |= 1ULL << (idx % 64);
}

/* A slot whose list may have become empty: keep its bit honest. */
static void unmark_if_empty(struct tmr_service *ts, int lvl, unsigned idx)
{
	if (!ts->slot[lvl][idx])
		ts->used[lvl][idx / 64] &= ~(1ULL << (idx % 64));
}

/* The slot a pprev points into, if it points into the wheel at all. */
static bool slot_of(struct tmr_service *ts, struct tmr **pp, int *lvl,
		    unsigned *idx)
{
	uintptr_t p = (uintptr_t)pp;

	for (int l = 0; l < TW_LEVELS; l++) {
		uintptr_t lo = (uintptr_t)&ts->slot[l][0];

		if (p >= lo && p < lo + sizeof(ts->slot[l])) {
			*lvl = l;
			*idx = (unsigned)((p - lo) / sizeof(ts->slot[l][0]));
			return true;
		}
	}
	return false;
}

/* Take a pending timer out, wherever it is. */
static void remove_tmr(struct tmr_service *ts, struct tmr *t)
{
	struct tmr **pp = t->pprev;
	bool head = pp != NULL;
	int lvl;
	unsigned idx;

	/* Only the first timer of a slot has pprev into the slot array. */
	head = head && slot_of(ts, pp, &lvl, &idx);
	unlink_tmr(t);
	if (head)
		unmark_if_empty(ts, lvl, idx);
	ts->n--;
}

/* Place @t by its deadline relative to cur (overdue: the slot of cur). */
static void place(struct tmr_service *ts, struct tmr *t)
{
	uint64_t e = t->expires_ms < ts->cur ? ts->cur : t->expires_ms;
	uint64_t d = e - ts->cur;
	int lvl;
	unsigned idx;

	if (d < (1ULL << TW_BITS))
		lvl = 0;
	else if (d < (1ULL << (2 * TW_BITS)))
		lvl = 1;
	else
		lvl = 2;
	if (d < (1ULL << (3 * TW_BITS)))
		idx = (unsigned)(e >> lvl_shift(lvl)) & TW_MASK;
	else	/* beyond the wheel: park in the farthest slot, placed again
		 * when it comes round */
		idx = (unsigned)((ts->cur >> lvl_shift(2)) + TW_MASK) & TW_MASK;
	link_at(&ts->slot[lvl][idx], t);
	mark(ts, lvl, idx);
}

/*
 * Distance (0..TW_SLOTS-1) from slot @from to the first non-empty slot of
 * level @lvl, going forward round the ring; -1 if the level is empty.
 */
static int ring_find(const struct tmr_service *ts, int lvl, unsigned from)
{
	const uint64_t *u = ts->used[lvl];

	for (unsigned k = 0; k <= TW_WORDS; k++) {
		unsigned w = (from / 64 + k) % TW_WORDS;
		uint64_t bits = u[w];

		if (k == 0)
			bits &= ~0ULL << (from % 64);
		else if (k == TW_WORDS)	/* back in the first word: the part
					 * before @from */
			bits &= (from % 64) ? ~(~0ULL << (from % 64)) : 0;
		if (bits) {
			unsigned idx = w * 64 + (unsigned)__builtin_ctzll(bits);

			return (int)((idx - from) & TW_MASK);
		}
	}
	return -1;
}

/*
 * The next ms at which something happens: a level 0 slot fires, or a
 * level 1 or 2 slot is moved down.  TW_NONE when no timer is pending.
 */
static uint64_t next_due(const struct tmr_service *ts)
{
	uint64_t best = TW_NONE, blk, at;
	int k;

	if (!ts->n)
		return TW_NONE;
	k = ring_find(ts, 0, (unsigned)ts->cur & TW_MASK);
	if (k >= 0)
		best = ts->cur + (uint64_t)k;
	for (int lvl = 1; lvl < TW_LEVELS; lvl++) {
		blk = ts->cur >> lvl_shift(lvl);
		k = ring_find(ts, lvl, (unsigned)(blk + 1) & TW_MASK);
		if (k < 0)
			continue;
		at = (blk + 1 + (uint64_t)k) << lvl_shift(lvl);
		if (at < best)
			best = at;
	}
	return best;
}

/* Move every timer of a level 1/2 slot down to where it belongs now. */
static void cascade(struct tmr_service *ts, int lvl, unsigned idx)
{
	struct tmr *t = ts->slot[lvl][idx];

	ts->slot[lvl][idx] = NULL;
	ts->used[lvl][idx / 64] &= ~(1ULL << (idx % 64));
	while (t) {
		struct tmr *next = t->next;

		place(ts, t);
		t = next;
	}
}

/* Advance cur to @to; at the start of a block, bring its slots down. */
static void jump_to(struct tmr_service *ts, uint64_t to)
{
	ts->cur = to;
	if (to & TW_MASK)
		return;
	if (!(to & ((1ULL << (2 * TW_BITS)) - 1)))
		cascade(ts, 2, (unsigned)(to >> lvl_shift(2)) & TW_MASK);
	cascade(ts, 1, (unsigned)(to >> lvl_shift(1)) & TW_MASK);
}

/* Fire everything due at or before @now.  Called and returns locked. */
static void run_due(struct tmr_service *ts, uint64_t now)
{
	while (ts->cur <= now && !ts->stop) {
		uint64_t due = next_due(ts);
		unsigned idx;

		if (due > now) {
			jump_to(ts, now + 1);
			return;
		}
		if (due > ts->cur)
			jump_to(ts, due);
		/* the slot of cur becomes the batch; cur moves on first, so a
		 * callback that arms a timer due now gets the next ms */
		idx = (unsigned)ts->cur & TW_MASK;
		ts->expired = ts->slot[0][idx];
		if (ts->expired)
			ts->expired->pprev = &ts->expired;
		ts->slot[0][idx] = NULL;
		ts->used[0][idx / 64] &= ~(1ULL << (idx % 64));
		jump_to(ts, ts->cur + 1);
		while (ts->expired) {
			struct tmr *t = ts->expired;

			unlink_tmr(t);
			ts->n--;
			pthread_mutex_unlock(&ts->lock);
			t->fn(t);
			pthread_mutex_lock(&ts->lock);
		}
	}
}

int tmr_arm(struct tmr_service *ts, struct tmr *t, uint64_t delay_ms)
{
	int was = 0, wake;

	pthread_mutex_lock(&ts->lock);
	if (t->pprev) {
		remove_tmr(ts, t);
		was = 1;
	}
	t->expires_ms = (ts->manual ? ts->manual_now : tmr_now_ms()) +
			delay_ms;
	place(ts, t);
	ts->n++;
	/* Wake the thread only when it sleeps past the new deadline. */
	wake = ts->sleep_until && t->expires_ms < ts->sleep_until;
	if (wake)
		ts->sleep_until = t->expires_ms;
	pthread_mutex_unlock(&ts->lock);
	if (wake)
		pthread_cond_signal(&ts->cond);
	return was;
}

int tmr_cancel(struct tmr_service *ts, struct tmr *t)
{
	int was = 0;

	pthread_mutex_lock(&ts->lock);
	if (t->pprev) {
		remove_tmr(ts, t);
		was = 1;
	}
	pthread_mutex_unlock(&ts->lock);
	return was;
}

int tmr_is_pending(struct tmr_service *ts, struct tmr *t)
{
	int r;

	pthread_mutex_lock(&ts->lock);
	r = t->pprev != NULL;
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
		uint64_t due;

		run_due(ts, tmr_now_ms());
		if (ts->stop)
			break;
		due = next_due(ts);
		ts->sleep_until = due;
		if (due == TW_NONE) {
			pthread_cond_wait(&ts->cond, &ts->lock);
		} else if (due > tmr_now_ms()) {
			struct timespec abs;

			/* The condvar uses CLOCK_MONOTONIC (see alloc). */
			abs.tv_sec = (time_t)(due / 1000);
			abs.tv_nsec = (long)(due % 1000) * 1000000L;
			pthread_cond_timedwait(&ts->cond, &ts->lock, &abs);
		}
		ts->sleep_until = 0;
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
	ts->cur = tmr_now_ms();
	pthread_mutex_init(&ts->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ts->cond, &ca);
	pthread_condattr_destroy(&ca);
	return ts;
}

struct tmr_service *tmr_service_alloc_manual(uint64_t now_ms)
{
	struct tmr_service *ts = tmr_service_alloc();

	if (ts) {
		ts->manual = true;
		ts->manual_now = now_ms;
		ts->cur = now_ms;
	}
	return ts;
}

void tmr_service_run_until(struct tmr_service *ts, uint64_t now_ms)
{
	pthread_mutex_lock(&ts->lock);
	if (now_ms > ts->manual_now)
		ts->manual_now = now_ms;
	run_due(ts, ts->manual_now);
	pthread_mutex_unlock(&ts->lock);
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
	free(ts);
}
