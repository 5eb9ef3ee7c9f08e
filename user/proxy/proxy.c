/*
 * proxy.c - create the proxy, register its statistics, and dispatch each
 * received message: bad input is answered (400 with a reason naming the
 * problem) or dropped and counted; requests and responses go their ways.
 */
#define LOG_TAG "proxy"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/stats.h"
#include "core/timer.h"
#include "proxy/px_internal.h"

static void register_stats(struct proxy *px)
{
	struct stats *st = px->st;
	struct proxy_stats *s = &px->s;

	s->rcv_requests = stats_register(st, "sip", "rcv_requests", 0);
	s->rcv_replies = stats_register(st, "sip", "rcv_replies", 0);
	s->fwd_requests = stats_register(st, "sip", "fwd_requests", 0);
	s->fwd_replies = stats_register(st, "sip", "fwd_replies", 0);
	s->local_replies = stats_register(st, "sip", "local_replies", 0);
	s->drop_requests = stats_register(st, "sip", "drop_requests", 0);
	s->drop_replies = stats_register(st, "sip", "drop_replies", 0);
	s->retransmissions = stats_register(st, "sip", "retransmissions", 0);
	s->tx_created = stats_register(st, "sip", "transactions", 0);
	s->tx_active = stats_register(st, "sip", "active_transactions",
				      STAT_NO_RESET);
	s->timeouts = stats_register(st, "sip", "timeouts", 0);
	s->too_many_hops = stats_register(st, "sip", "too_many_hops", 0);
	s->loops = stats_register(st, "sip", "loops", 0);
	s->not_found = stats_register(st, "sip", "not_found", 0);
	s->bad_scheme = stats_register(st, "sip", "unsupported_uri_scheme", 0);
	s->bad_extension = stats_register(st, "sip", "bad_extension", 0);
	s->ruri_headers = stats_register(st, "sip", "err_headers_in_request_uri",
					 0);
	s->too_many_routes = stats_register(st, "sip",
					    "err_too_many_route_entries", 0);
	s->bad_proxy_require = stats_register(st, "sip",
					      "err_malformed_proxy_require", 0);
	s->bad_message = stats_register(st, "sip", "bad_requests", 0);
	s->bad_reply = stats_register(st, "sip", "bad_replies", 0);
	s->send_errors = stats_register(st, "sip", "send_errors", 0);
	s->rej_no_tls = stats_register(st, "sip", "rejected_503_no_tls", 0);
	for (int e = 1; e < SIP_ERR_MAX_; e++) {
		char name[64];
		const char *why = sip_error_str((enum sip_error)e);
		size_t n = 0;

		/* "Bad Request - Missing Call-ID" -> "err_missing_call_id";
		 * a limit in parentheses is left out of the name. */
		const char *p = strstr(why, " - ");
		p = p ? p + 3 : why;
		n = (size_t)snprintf(name, sizeof(name), "err_");
		for (; *p && *p != '(' && n + 1 < sizeof(name); p++) {
			char c = *p;
			if (c >= 'A' && c <= 'Z')
				c = (char)(c + 32);
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
				c = '_';
			if (c == '_' && name[n - 1] == '_')
				continue;
			name[n++] = c;
		}
		while (n > 4 && name[n - 1] == '_')
			n--;
		name[n] = '\0';
		s->parse_err[e] = stats_register(st, "sip", name, 0);
	}
}

int proxy_alloc(const struct sipdlg_config *cfg, struct stats *st,
		struct proxy **out, char *err, size_t err_len)
{
	struct proxy *px = calloc(1, sizeof(*px));
	struct timespec ts;
	int r;

	if (!px)
		return -ENOMEM;
	px->cfg = cfg;
	px->st = st;
	px->t1 = cfg->t1_ms ? cfg->t1_ms : 500;
	px->t2 = cfg->t2_ms ? cfg->t2_ms : 4000;
	px->t4 = 5000;
	clock_gettime(CLOCK_REALTIME, &ts);
	px->salt = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
		   ((uint64_t)getpid() << 40);
	px->tm = tm_table_alloc(16);
	if (!px->tm) {
		free(px);
		return -ENOMEM;
	}
	r = px_local_init(px, err, err_len);
	if (r) {
		proxy_free(px);
		return r;
	}
	register_stats(px);
	px_limits_register(px);
	r = px_irl_alloc(px);
	if (r) {
		proxy_free(px);
		return r;
	}
	*out = px;
	return 0;
}

/*
 * A burst of calls leaves the allocator with the pages of its set-up
 * transactions (requests, replies, the tx itself: some KB each, tens of
 * thousands at the peak), freed but kept by glibc among the dialogs that
 * were allocated meanwhile: at 100,000 held calls ~250 bytes of RSS per
 * dialog.  Every PX_TRIM_PERIOD_MS the timer thread looks at the number of
 * transactions; once it has fallen to half of its peak (and the peak was
 * worth it) malloc_trim(0) hands the free pages back (madvise), so RSS
 * follows what is live.  It costs a walk of the free lists, under each
 * arena's lock, a few ms at most, and runs at most once per period.
 */
#define PX_TRIM_PERIOD_MS 2000u
#define PX_TRIM_MIN_PEAK 1024u

static void trim_fn(struct tmr *t)
{
	struct proxy *px = t->data;
	size_t n = tm_count(px->tm);

	if (n > px->trim_peak) {
		px->trim_peak = n;
	} else if (px->trim_peak >= PX_TRIM_MIN_PEAK &&
		   n <= px->trim_peak / 2) {
		uint64_t t0 = tmr_now_ms();

		malloc_trim(0);
		log_debug("freed memory of %zu transactions returned in "
			  "%llu ms", px->trim_peak - n,
			  (unsigned long long)(tmr_now_ms() - t0));
		px->trim_peak = n;
	}
	tmr_arm(px->tmr, &px->trim_tmr, PX_TRIM_PERIOD_MS);
}

void proxy_attach(struct proxy *px, struct transport *tp,
		  struct tmr_service *tmr)
{
	px->tp = tp;
	px->tmr = tmr;
	if (tmr) {
		tmr_init(&px->trim_tmr, trim_fn, px);
		tmr_arm(tmr, &px->trim_tmr, PX_TRIM_PERIOD_MS);
	}
	px_limits_start(px);
}

void proxy_set_dialog(struct proxy *px, const struct px_dlg_iface *dlg,
		      void *ud)
{
	px->dlg = *dlg;
	px->dlg_ud = ud;
}

const struct sipdlg_config *proxy_config(const struct proxy *px)
{
	return px->cfg;
}

const struct px_local *proxy_local(const struct proxy *px, int idx)
{
	if (idx < 0 || (size_t)idx >= px->n_local)
		return NULL;
	return &px->local[idx];
}

void proxy_free(struct proxy *px)
{
	if (!px)
		return;
	tm_table_free(px->tm);
	px_irl_free(px);
	free(px);
}

size_t proxy_tx_count(struct proxy *px)
{
	return tm_count(px->tm);
}

void proxy_on_message(void *ud, struct tp_rcv *rcv)
{
	struct proxy *px = ud;
	const struct sip_msg *m = rcv->msg;

	if (rcv->parse_rc != 0) {
		if (m->error == SIP_ERR_EMPTY)
			return;		/* CRLF keep-alive */
		stat_inc(px->s.parse_err[m->error < SIP_ERR_MAX_ ? m->error : 0]);
		if (m->is_request && m->answerable) {
			stat_inc(px->s.bad_message);
			px_reply_stateless(px, m, &rcv->src,
					   sip_error_status(m->error),
					   m->error_reason);
		} else if (m->is_request) {
			stat_inc(px->s.bad_message);
		} else {
			stat_inc(px->s.bad_reply);
		}
		return;
	}
	if (m->is_request)
		px_on_request(px, rcv);
	else
		px_on_response(px, rcv);
}
