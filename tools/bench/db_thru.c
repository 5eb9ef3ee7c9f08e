/*
 * db_thru.c - raw throughput of the database thread (db_mode 1), without
 * SIP: N calls driven through the dialog core as fast as possible
 * (INVITE, 200, ACK, BYE, 200 to the BYE, last reference dropped), each
 * with two profiles and one variable.  Used by `make bench-db-thru` against the private MariaDB of
 * tests/lib/mariadb.sh.
 *
 *   db_thru DB_URL [CALLS/S [SECONDS [HOLD_S [QUEUE]]]]
 *
 * Calls are offered at CALLS/S for SECONDS, each ended HOLD_S after it
 * was answered.  The line printed: the deepest queue seen, how long the
 * queue took to empty after the last call ended, rows written per second
 * (db:rows_written), batches, writes dropped (queue full), errors.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "core/stats.h"
#include "core/timer.h"
#include "db/db.h"
#include "dialog/dlg.h"
#include "dialog/dlg_stats.h"
#include "dlglink/dlg_config.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct dlg_cell *call_up(struct dlg_table *t, unsigned i,
				struct dlg_profile *pc, struct dlg_profile *pi)
{
	char cid[64], ftag[32], ttag[32], user[32];
	struct dlg_invite inv;
	struct dlg_reply r;
	struct dlg_req rq;
	struct dlg_cell *c = NULL;

	snprintf(cid, sizeof(cid), "thru-%u-%ld@127.0.0.1", i, (long)time(NULL));
	snprintf(ftag, sizeof(ftag), "f%u", i);
	snprintf(ttag, sizeof(ttag), "t%u", i);
	snprintf(user, sizeof(user), "u%u", i % 100);
	memset(&inv, 0, sizeof(inv));
	inv.callid = sip_str_c(cid);
	inv.from_uri = sip_str_c("sip:alice@a.example");
	inv.from_tag = sip_str_c(ftag);
	inv.to_uri = sip_str_c("sip:bob@b.example");
	inv.req_uri = sip_str_c("sip:bob@b.example");
	inv.contact = sip_str_c("sip:alice@10.0.0.1:5060");
	inv.route_set = sip_str_c("<sip:p1.example;lr>");
	inv.socket = sip_str_c("udp:127.0.0.1:15060");
	inv.cseq = 1;
	inv.rr_count = 1;
	if (dlg_manage(t, &inv, NULL, &c) != DLG_RC_CREATED)
		return NULL;
	dlg_profile_set(c, pc, sip_str_c(user));
	dlg_profile_set(c, pi, SIP_STR_NULL);
	dlg_var_set(c, sip_str_c("acct"), sip_str_c(user));
	memset(&r, 0, sizeof(r));
	r.code = 200;
	r.to_tag = sip_str_c(ttag);
	r.contact = sip_str_c("sip:bob@10.0.0.2:5060");
	r.socket = sip_str_c("udp:127.0.0.1:15060");
	dlg_on_reply(c, &r);
	memset(&rq, 0, sizeof(rq));
	rq.method = SIP_METHOD_ACK;
	rq.cseq = 1;
	dlg_on_request(c, DLG_DIR_DOWNSTREAM, &rq);
	return c;
}

static void call_down(struct dlg_cell *c)
{
	struct dlg_req rq;

	memset(&rq, 0, sizeof(rq));
	rq.method = SIP_METHOD_BYE;
	rq.cseq = 2;
	dlg_on_request(c, DLG_DIR_DOWNSTREAM, &rq);
	dlg_on_response_within(c, DLG_DIR_DOWNSTREAM, 200, NULL);
	dlg_on_bye_reply(c, 200, NULL);
	dlg_unref(c);
}

static void sleep_until(double t)
{
	double d = t - now_s();
	struct timespec ts;

	if (d <= 0)
		return;
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	double rate = argc > 2 ? atof(argv[2]) : 3000;
	double secs = argc > 3 ? atof(argv[3]) : 10;
	double hold = argc > 4 ? atof(argv[4]) : 2;
	struct sipdlg_config *cfg = cfg_alloc_defaults();
	struct tmr_service *ts = tmr_service_alloc();
	struct stats *st = stats_alloc();
	struct dlg_stats ds;
	struct dlg_config dc;
	struct dlg_table *t = NULL;
	struct db_ctx *db = NULL;
	struct dlg_cell **live;
	double *born;
	size_t window, head = 0, tail = 0, depth, max_depth = 0;
	unsigned calls = (unsigned)(rate * secs), made = 0;
	char err[512];
	double t0, t1, t2;
	struct stat_var *rows;
	int rc;

	if (argc < 2 || !cfg || !ts || !st) {
		fprintf(stderr, "usage: db_thru DB_URL [CALLS/S [SECONDS "
			"[HOLD_S [QUEUE]]]]\n");
		return 2;
	}
	free(cfg->dialog.db_url);
	cfg->dialog.db_url = strdup(argv[1]);
	cfg->dialog.db_mode = 1;
	cfg->dialog.profiles_with_value[0] = strdup("caller");
	cfg->dialog.n_profiles_with_value = 1;
	cfg->dialog.profiles_no_value[0] = strdup("inbound");
	cfg->dialog.n_profiles_no_value = 1;
	cfg->database.queue_size = argc > 5 ? (uint32_t)atoi(argv[5]) : 65536;
	window = (size_t)(rate * hold) + 2;
	live = calloc(window, sizeof(*live));
	born = calloc(window, sizeof(*born));
	tmr_service_start(ts);
	dlg_stats_register(st, 1, &ds);
	dlg_config_from_cfg(&dc, &cfg->dialog);
	if (!live || !born || dlg_table_alloc(&dc, ts, &ds, &t) ||
	    db_alloc(&cfg->dialog, &cfg->database, st, &db, err, sizeof(err))) {
		fprintf(stderr, "setup failed: %s\n", err);
		return 1;
	}
	rc = db_check(db, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "db_check: %s\n", err);
		return 1;
	}
	db_start(db, t);
	{
		struct dlg_profile *pc = dlg_profile_lookup(t, sip_str_c("caller"));
		struct dlg_profile *pi = dlg_profile_lookup(t, sip_str_c("inbound"));
		double now;

		t0 = now_s();
		while (made < calls) {
			now = now_s();
			/* calls due by now, then ends due by now */
			while (made < calls && made < (now - t0) * rate &&
			       (tail + 1) % window != head) {
				live[tail] = call_up(t, made++, pc, pi);
				born[tail] = now;
				tail = (tail + 1) % window;
			}
			while (head != tail && born[head] + hold <= now) {
				if (live[head])
					call_down(live[head]);
				head = (head + 1) % window;
			}
			depth = db_queue_depth(db);
			if (depth > max_depth)
				max_depth = depth;
			sleep_until(now + 0.001);
		}
		t1 = now_s();
		while (head != tail) {
			sleep_until(born[head] + hold);
			if (live[head])
				call_down(live[head]);
			head = (head + 1) % window;
		}
	}
	rc = db_flush_wait(db, 600000);
	t2 = now_s();
	rows = stats_find(st, "db:rows_written");	/* absent before it */
	printf("offered %.0f calls/s for %.1f s (hold %.1f s): %u calls, "
	       "queue max %zu, flushed %.2f s after the last end; "
	       "rows written %" PRId64 " (%.0f/s), batches %" PRId64
	       ", dropped %" PRId64 ", errors %" PRId64 "%s\n",
	       rate, t1 - t0, hold, made, max_depth, t2 - t1 - hold,
	       rows ? stat_get(rows) : -1,
	       rows ? (double)stat_get(rows) / (t2 - t0) : -1.0,
	       stat_get(stats_find(st, "db:batches_written")),
	       stat_get(stats_find(st, "db:writes_dropped")),
	       stat_get(stats_find(st, "db:errors")),
	       rc ? " (flush timed out)" : "");
	db_stop(db, 5000);
	tmr_service_free(ts);
	dlg_table_free(t);
	db_free(db);
	stats_free(st);
	cfg_free(cfg);
	free(live);
	free(born);
	return 0;
}
