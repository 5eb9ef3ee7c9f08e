/*
 * loop.h - the one epoll event loop of sipdlgd (after redis' ae.c).
 *
 * File events (read/write readiness on an fd), one-shot or periodic timers
 * in milliseconds of CLOCK_MONOTONIC, and a before-sleep hook run once per
 * iteration before epoll_wait: the place where later layers batch work
 * (database writes, ring-buffer draining).  Single-threaded: every callback
 * runs on the thread that called ev_loop_run().  Its timers are for state
 * owned by that thread; transaction and dialog timers, shared by every
 * thread, are in core/timer.h (which says why there are two).
 */
#ifndef SIPDLG_LOOP_H
#define SIPDLG_LOOP_H

#include <stdint.h>

#define EV_READ 1u
#define EV_WRITE 2u

struct ev_loop;

typedef void (*ev_file_fn)(struct ev_loop *loop, int fd, unsigned events,
			   void *ud);
/* Return the delay in ms before the next run, or a negative value to stop. */
typedef int64_t (*ev_timer_fn)(struct ev_loop *loop, uint64_t id, void *ud);
typedef void (*ev_hook_fn)(struct ev_loop *loop, void *ud);

struct ev_loop *ev_loop_alloc(void);
void ev_loop_free(struct ev_loop *loop);	/* NULL-safe; closes nothing */

/* Watch @fd for @events (EV_READ|EV_WRITE); replaces an earlier watch. */
int ev_file_add(struct ev_loop *loop, int fd, unsigned events,
		ev_file_fn fn, void *ud);
void ev_file_del(struct ev_loop *loop, int fd);

/* Returns a timer id (> 0) or -errno. */
int64_t ev_timer_add(struct ev_loop *loop, uint64_t delay_ms,
		     ev_timer_fn fn, void *ud);
int ev_timer_del(struct ev_loop *loop, uint64_t id);

/* Called before every sleep; one hook per slot, up to 8. */
int ev_before_sleep_add(struct ev_loop *loop, ev_hook_fn fn, void *ud);
/* The same, run before every hook added so far (e.g. before the UDP
 * transport sends its batched datagrams). */
int ev_before_sleep_first(struct ev_loop *loop, ev_hook_fn fn, void *ud);
/* Called after every epoll_wait, before its callbacks; up to 8. */
int ev_after_wake_add(struct ev_loop *loop, ev_hook_fn fn, void *ud);

/* Run until ev_loop_stop(); returns 0 or -errno. */
int ev_loop_run(struct ev_loop *loop);
/*
 * Make the running (or the next) ev_loop_run() return after the current
 * iteration.  Safe from any thread and from a signal handler: it sets an
 * atomic flag and writes an eventfd that wakes epoll_wait.
 */
void ev_loop_stop(struct ev_loop *loop);

/*
 * One iteration: before-sleep hooks, wait up to @max_wait_ms (-1 = until the
 * next timer or file event), file events, due timers.  For tests and for
 * callers that drive the loop themselves.  Returns the number of file events
 * handled, or -errno.
 */
int ev_loop_once(struct ev_loop *loop, int max_wait_ms);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t ev_now_ms(void);

#endif /* SIPDLG_LOOP_H */
