/*
 * metrics.h - the Prometheus endpoint: GET /metrics on metrics.listen.
 *
 * The exposition (metrics_collect.c) holds every statistic of `sipdlgctl
 * stats`, the XDP program's per-reason counters, the profile sizes and
 * the process's figures.  It is served by libmicrohttpd on its own
 * thread (metrics_http.c), so a scrape never runs on a SIP worker or on
 * the event loop; what it reads is atomics, the kernel's maps, and the
 * profiles under their lock one small chunk at a time.
 */
#ifndef SIPDLG_METRICS_H
#define SIPDLG_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct obuf;
struct stats;
struct dlg_table;
struct fastpath;
struct cfg_metrics;

/* What a scrape reads; every pointer must outlive the endpoint. */
struct metrics_sources {
	struct stats *stats;
	struct dlg_table *dlg;		/* NULL: no profile metrics */
	struct fastpath *fp;		/* NULL: the fast path is off */
	time_t start_time;		/* of the process, Unix seconds */
	uint32_t max_values_per_profile;
	const char *version;
};

/* The whole exposition appended to @o (text format 0.0.4). */
void metrics_collect(const struct metrics_sources *src, struct obuf *o);

struct metrics;

/*
 * Bind metrics.listen and start serving.  Returns 0 and *out, or -errno
 * with a message a person can act on in @err (the port is taken, the
 * address is not one of this host, ...).  With the endpoint off (no
 * listen address) returns 0 and *out = NULL.
 */
int metrics_start(const struct cfg_metrics *cfg,
		  const struct metrics_sources *src, struct metrics **out,
		  char *err, size_t err_len);

/* Stop serving (waits for a scrape in progress), close. NULL-safe. */
void metrics_free(struct metrics *m);

#endif /* SIPDLG_METRICS_H */
