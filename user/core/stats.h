/*
 * stats.h - named statistics in groups, Kamailio style ("dialog:active_dialogs").
 *
 * A statistic is a 64-bit counter updated atomically, so worker threads can
 * touch it without a lock.  Groups and names are registered at start; the
 * registry is then read-only in shape.  Reading is by group or "all".
 */
#ifndef SIPDLG_STATS_H
#define SIPDLG_STATS_H

#include <stdint.h>
#include <stddef.h>

struct stat_var;	/* opaque; one counter */
struct stats;		/* opaque; the registry */

struct stats *stats_alloc(void);
void stats_free(struct stats *st);	/* NULL-safe */

/* @flags: STAT_NO_RESET for gauges such as active_dialogs. */
#define STAT_NO_RESET 1u
struct stat_var *stats_register(struct stats *st, const char *group,
				const char *name, unsigned flags);

void stat_add(struct stat_var *v, int64_t delta);	/* NULL-safe */
static inline void stat_inc(struct stat_var *v) { stat_add(v, 1); }
static inline void stat_dec(struct stat_var *v) { stat_add(v, -1); }
void stat_set(struct stat_var *v, int64_t value);	/* NULL-safe */
int64_t stat_get(const struct stat_var *v);

/* Iterate: calls @fn for each statistic in registration order. */
typedef void (*stats_iter_fn)(const char *group, const char *name,
			      int64_t value, void *ud);
/* @group NULL or "all" = every group; a "group:" suffix colon is accepted.
 * Returns the number of statistics visited, or -ENOENT for an unknown group. */
int stats_foreach(const struct stats *st, const char *group, stats_iter_fn fn,
		  void *ud);
/* Every statistic with its flags (STAT_NO_RESET marks a gauge), for the
 * Prometheus endpoint, which must tell counters from gauges.  Returns
 * the number visited. */
typedef void (*stats_iter_flags_fn)(const char *group, const char *name,
				    int64_t value, unsigned flags, void *ud);
int stats_foreach_flags(const struct stats *st, stats_iter_flags_fn fn,
			void *ud);
/* Find by "group:name" or by name alone; NULL if absent. */
struct stat_var *stats_find(const struct stats *st, const char *name);
/*
 * @fn(@ud) runs at the start of every stats_foreach(), no lock held, to
 * bring counters kept elsewhere up to date (the kernel relay's counts
 * folded into sip.*).  Set it before other threads read; NULL: none.
 */
void stats_set_refresh(struct stats *st, void (*fn)(void *ud), void *ud);
/* Reset every resettable statistic of @group (or all); returns count. */
int stats_reset(struct stats *st, const char *group);

#endif /* SIPDLG_STATS_H */
