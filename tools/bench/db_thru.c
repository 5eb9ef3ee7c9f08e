/*
 * db_thru.c - raw throughput of the database thread (db_mode 1), without
 * SIP: N calls driven through the dialog core as fast as possible
 * (INVITE, 200, ACK, BYE, 200 to the BYE, last reference dropped), each
 * with two profiles and one variable, while at most WINDOW calls are up
 * at a time (the rest of a call's life is its hold time).  Prints the
 * calls/s the thread wrote, its batches and row operations, and what it
 * dropped.  Used by `make bench-db-thru` against the private MariaDB of
 * tests/lib/mariadb.sh.
 *
 *   db_thru DB_URL [CALLS [WINDOW [QUEUE]]]
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

int main(int argc, char **argv)
{
	unsigned calls = argc > 2 ? (unsigned)atoi(argv[2]) : 20000;
	unsigned window = argc > 3 ? (unsigned)atoi(argv[3]) : 2000;
	struct sipdlg_config *cfg = cfg_alloc_defaults();
	struct tmr_service *ts = tmr_service_alloc();
	struct stats *st = stats_alloc();
	struct dlg_stats ds;
	struct dlg_config dc;
	struct dlg_table *t = NULL;
	struct db_ctx *db = NULL;
	struct dlg_cell **live;
	char err[512];
	double t0, t1, t2;
	unsigned i;
	int rc;

	if (argc < 2 || !cfg || !ts || !st) {
		fprintf(stderr, "usage: db_thru DB_URL [CALLS [WINDOW [QUEUE]]]\n");
		return 2;
	}
	free(cfg->dialog.db_url);
	cfg->dialog.db_url = strdup(argv[1]);
	cfg->dialog.db_mode = 1;
	cfg->dialog.profiles_with_value[0] = strdup("caller");
	cfg->dialog.n_profiles_with_value = 1;
	cfg->dialog.profiles_no_value[0] = strdup("inbound");
	cfg->dialog.n_profiles_no_value = 1;
	cfg->database.queue_size = argc > 4 ? (uint32_t)atoi(argv[4]) : 1u << 24;
	live = calloc(window ? window : 1, sizeof(*live));
	tmr_service_start(ts);
	dlg_stats_register(st, 1, &ds);
	dlg_config_from_cfg(&dc, &cfg->dialog);
	if (dlg_table_alloc(&dc, ts, &ds, &t) ||
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

		t0 = now_s();
		for (i = 0; i < calls; i++) {
			unsigned k = window ? i % window : 0;

			if (window && live[k])
				call_down(live[k]);
			live[k] = call_up(t, i, pc, pi);
			if (!window) {
				call_down(live[k]);
				live[k] = NULL;
			}
		}
		for (i = 0; window && i < window; i++)
			if (live[i])
				call_down(live[i]);
	}
	t1 = now_s();
	rc = db_flush_wait(db, 600000);
	t2 = now_s();
	printf("calls=%u window=%u queued_in=%.2fs written_in=%.2fs "
	       "calls/s=%.0f batches=%" PRId64 " dropped=%" PRId64
	       " errors=%" PRId64 "%s\n",
	       calls, window, t1 - t0, t2 - t0, calls / (t2 - t0),
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
	return 0;
}
