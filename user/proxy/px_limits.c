/*
 * px_limits.c - limits: (issue 16): ceilings on the state a flood of new
 * calls can make the proxy hold.  An initial request (no To-tag) that
 * finds a ceiling reached gets a stateless 503 with Retry-After before
 * any transaction or dialog is made for it; requests inside dialogs are
 * never refused, so calls already set up keep working.
 *
 *   max_dialogs        live dialogs (states 1-4), new INVITEs only
 *   max_early_dialogs  dialogs not answered yet (states 1-2), new INVITEs
 *   max_transactions   active transactions, any new request
 *   max_memory_mb      resident memory, any new request
 *
 * Memory is the process's RSS, read from /proc/self/statm by a timer
 * every PX_LIM_SAMPLE_MS and kept in an atomic: what the kernel's OOM
 * killer and an operator's top see, whatever allocated it (transactions,
 * dialog slabs, TCP buffers, libmariadb), for one small read a second
 * instead of a counter in every allocator.  The price: pages the
 * allocator keeps after a flood still count until it gives them back
 * (proxy.c trims after a burst), so set the ceiling with headroom above
 * the other limits' worth.
 *
 * Each refusal counts in sip.rejected_503_<limit>; the first refusal of
 * a limit, and then one every PX_LIM_LOG_MS while it lasts, logs a warning
 * with the count since the last line.
 */
#define LOG_TAG "limits"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/log.h"
#include "core/stats.h"
#include "core/timer.h"
#include "proxy/px_internal.h"

#define PX_LIM_SAMPLE_MS 1000u
#define PX_LIM_LOG_MS 10000u

static const char *const lim_names[PXL_N_] = {
	[PXL_DIALOGS] = "max_dialogs",
	[PXL_EARLY] = "max_early_dialogs",
	[PXL_TRANSACTIONS] = "max_transactions",
	[PXL_MEMORY] = "max_memory_mb",
};

void px_limits_register(struct proxy *px)
{
	struct proxy_stats *s = &px->s;

	s->rej_dialogs = stats_register(px->st, "sip", "rejected_503_dialogs",
					0);
	s->rej_early = stats_register(px->st, "sip",
				      "rejected_503_early_dialogs", 0);
	s->rej_tx = stats_register(px->st, "sip",
				   "rejected_503_transactions", 0);
	s->rej_memory = stats_register(px->st, "sip", "rejected_503_memory",
				       0);
}

/* The resident set in KiB, 0 if /proc cannot tell. */
static uint64_t rss_kib(void)
{
	char buf[128];
	unsigned long long size, res;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &size, &res) != 2)
		return 0;
	return res * (uint64_t)sysconf(_SC_PAGESIZE) / 1024u;
}

static void sample_fn(struct tmr *t)
{
	struct proxy *px = t->data;

	atomic_store(&px->lim.rss_kib, rss_kib());
	tmr_arm(px->tmr, &px->lim.sample_tmr, PX_LIM_SAMPLE_MS);
}

void px_limits_start(struct proxy *px)
{
	if (!px->cfg->limits.max_memory_mb || !px->tmr)
		return;
	atomic_store(&px->lim.rss_kib, rss_kib());
	tmr_init(&px->lim.sample_tmr, sample_fn, px);
	tmr_arm(px->tmr, &px->lim.sample_tmr, PX_LIM_SAMPLE_MS);
}

/* Which limit, if any, a new request with @method is beyond now. */
static enum px_limit over_limit(struct proxy *px, enum sip_method method)
{
	const struct cfg_limits *l = &px->cfg->limits;

	if (method == SIP_METHOD_INVITE && px->dlg.load &&
	    (l->max_dialogs || l->max_early_dialogs)) {
		uint64_t live, early;

		px->dlg.load(px->dlg_ud, &live, &early);
		if (l->max_early_dialogs && early >= l->max_early_dialogs)
			return PXL_EARLY;
		if (l->max_dialogs && live >= l->max_dialogs)
			return PXL_DIALOGS;
	}
	if (l->max_transactions) {
		int64_t n = px->s.tx_active ? stat_get(px->s.tx_active) :
					      (int64_t)tm_count(px->tm);

		if (n >= (int64_t)l->max_transactions)
			return PXL_TRANSACTIONS;
	}
	if (l->max_memory_mb &&
	    atomic_load(&px->lim.rss_kib) >= (uint64_t)l->max_memory_mb * 1024u)
		return PXL_MEMORY;
	return PXL_NONE;
}

/* A warning per limit at most every PX_LIM_LOG_MS, with what it held
 * back since the last one. */
static void note(struct proxy *px, enum px_limit why)
{
	uint64_t now = tmr_now_ms();
	uint64_t last = atomic_load(&px->lim.logged_ms[why]);
	uint64_t n = atomic_fetch_add(&px->lim.since_log[why], 1) + 1;
	const struct cfg_limits *l = &px->cfg->limits;
	uint32_t v = why == PXL_DIALOGS	    ? l->max_dialogs :
		     why == PXL_EARLY	    ? l->max_early_dialogs :
		     why == PXL_TRANSACTIONS ? l->max_transactions :
					       l->max_memory_mb;

	if (last && now - last < PX_LIM_LOG_MS)
		return;
	if (!atomic_compare_exchange_strong(&px->lim.logged_ms[why], &last,
					    now))
		return;		/* another thread logs it */
	atomic_fetch_sub(&px->lim.since_log[why], n);
	log_warn("limits: %s %u reached: %llu new request(s) answered 503 "
		 "since the last line (Retry-After %u)", lim_names[why], v,
		 (unsigned long long)n, l->retry_after);
}

bool px_limits_refuse(struct proxy *px, const struct px_req *rq)
{
	const struct sip_msg *m = rq->msg;
	enum px_limit why;
	char hdr[40];
	struct stat_var *ctr;

	if (sip_str_present(m->to.tag))
		return false;	/* in a dialog: never refused */
	if (px_irl_refuse(px, rq))
		return true;	/* xdp.invite_limit over TCP */
	why = over_limit(px, m->method);
	if (why == PXL_NONE)
		return false;
	ctr = why == PXL_DIALOGS      ? px->s.rej_dialogs :
	      why == PXL_EARLY	      ? px->s.rej_early :
	      why == PXL_TRANSACTIONS ? px->s.rej_tx :
					px->s.rej_memory;
	stat_inc(ctr);
	note(px, why);
	snprintf(hdr, sizeof(hdr), "Retry-After: %u\r\n",
		 px->cfg->limits.retry_after);
	px_reply_stateless_hdrs(px, m, rq->src, 503, NULL, hdr);
	return true;
}
