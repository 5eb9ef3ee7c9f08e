/*
 * metrics_collect.c - the exposition: the statistics registry, the XDP
 * program's per-reason counters, then profiles and process figures
 * (their own files), and the build and scrape figures.
 *
 * A statistic "group:name" becomes sipdlg_GROUP_NAME, with _total for a
 * counter (a statistic a reset may zero) and nothing for a gauge
 * (STAT_NO_RESET: active_dialogs, tcp_open, ...).  The five dialog
 * statistics Kamailio defines get the names an operator expects
 * (sipdlg_dialogs_active, ...).  A statistic registered later (a new
 * module) shows up without a change here.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/stats.h"
#include "fastpath/fastpath.h"
#include "metrics/metrics_int.h"
#include "metrics/prom_text.h"

struct renamed {
	const char *stat;	/* group:name */
	const char *name;	/* the metric */
	const char *help;
};

static const struct renamed renamed[] = {
	{ "dialog:active_dialogs", "sipdlg_dialogs_active",
	  "Dialogs answered and not ended (states 3 and 4), "
	  "dialog:active_dialogs." },
	{ "dialog:early_dialogs", "sipdlg_dialogs_early",
	  "Dialogs with a provisional reply, not answered yet (state 2), "
	  "dialog:early_dialogs." },
	{ "dialog:processed_dialogs", "sipdlg_dialogs_processed_total",
	  "Dialogs created, dialog:processed_dialogs." },
	{ "dialog:expired_dialogs", "sipdlg_dialogs_expired_total",
	  "Dialogs ended by their timeout, dialog:expired_dialogs." },
	{ "dialog:failed_dialogs", "sipdlg_dialogs_failed_total",
	  "Dialogs that never got answered (negative reply, CANCEL, "
	  "timeout), "
	  "dialog:failed_dialogs." },
};

static const struct renamed *find_renamed(const char *group,
					  const char *name)
{
	size_t gl = strlen(group);

	for (size_t i = 0; i < sizeof(renamed) / sizeof(*renamed); i++)
		if (!strncmp(renamed[i].stat, group, gl) &&
		    renamed[i].stat[gl] == ':' &&
		    !strcmp(renamed[i].stat + gl + 1, name))
			return &renamed[i];
	return NULL;
}

static void one_stat(const char *group, const char *name, int64_t value,
		     unsigned flags, void *ud)
{
	struct obuf *o = ud;
	bool gauge = flags & STAT_NO_RESET;
	const struct renamed *r = find_renamed(group, name);
	char mname[PROM_NAME_MAX], help[256];

	if (r) {
		prom_family(o, r->name, gauge ? "gauge" : "counter", r->help);
		prom_sample_i64(o, r->name, NULL, 0, value);
		return;
	}
	{
		const char *parts[] = { "sipdlg", group, name, "total" };

		prom_name(mname, parts, gauge ? 3 : 4);
	}
	snprintf(help, sizeof(help), "Statistic %s:%s of sipdlgctl stats "
		 "(%s).", group, name, gauge ? "a level" : "a count since "
		 "start or the last stats reset");
	prom_family(o, mname, gauge ? "gauge" : "counter", help);
	prom_sample_i64(o, mname, NULL, 0, value);
}

/* The kernel's per-reason counters (per-CPU slots summed). */
static void xdp_counters(const struct metrics_sources *src, struct obuf *o)
{
	struct sipdlg_counter c[SDR_MAX_];
	bool have[SDR_MAX_];

	if (!src->fp)
		return;
	for (unsigned r = 0; r < SDR_MAX_; r++)
		have[r] = fp_reason_name(r) &&
			  fp_read_counter(src->fp, r, &c[r]) == 0;
	prom_family(o, "sipdlg_xdp_packets_total", "counter",
		    "Packets the XDP program handled, by outcome (reason), "
		    "per-CPU counters summed.");
	for (unsigned r = 0; r < SDR_MAX_; r++) {
		const char *n = fp_reason_name(r);
		struct prom_label l = { "reason", n, n ? strlen(n) : 0 };

		if (have[r])
			prom_sample_i64(o, "sipdlg_xdp_packets_total", &l, 1,
					(int64_t)c[r].packets);
	}
	prom_family(o, "sipdlg_xdp_bytes_total", "counter",
		    "Bytes of the packets the XDP program handled, by outcome "
		    "(reason), per-CPU counters summed.");
	for (unsigned r = 0; r < SDR_MAX_; r++) {
		const char *n = fp_reason_name(r);
		struct prom_label l = { "reason", n, n ? strlen(n) : 0 };

		if (have[r])
			prom_sample_i64(o, "sipdlg_xdp_bytes_total", &l, 1,
					(int64_t)c[r].bytes);
	}
}

static double mono_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void metrics_collect(const struct metrics_sources *src, struct obuf *o)
{
	double t0 = mono_seconds();
	const char *v = src->version ? src->version : "";
	struct prom_label l = { "version", v, strlen(v) };

	prom_family(o, "sipdlg_build_info", "gauge",
		    "Always 1; the version of sipdlgd in a label.");
	prom_sample_i64(o, "sipdlg_build_info", &l, 1, 1);
	if (src->stats)
		stats_foreach_flags(src->stats, one_stat, o);
	xdp_counters(src, o);
	metrics_profiles(src, o);
	metrics_process(src, o);
	prom_family(o, "sipdlg_metrics_scrape_duration_seconds", "gauge",
		    "Time this exposition took to collect.");
	prom_sample_f64(o, "sipdlg_metrics_scrape_duration_seconds", NULL, 0,
			mono_seconds() - t0);
}
