/*
 * test_dlg_core_alone.c - the dialog core on its own: one call's life
 * (INVITE, 180, 200, ACK, BYE) driven from parsed SIP messages straight
 * into user/dialog/, with no proxy, control socket, config or database.
 *
 * What this test proves is mostly in how it is built: the Makefile links
 * it from the objects of user/dialog/, user/core/ and user/sip/ only (not
 * from libsipdlg.a), so a dialog core file that starts calling into
 * another layer breaks this link.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/stats.h"
#include "core/timer.h"
#include "dialog/dlg.h"
#include "dialog/dlg_stats.h"
#include "sip/sip_msg.h"

static const char invite_txt[] =
	"INVITE sip:bob@b.example SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1\r\n"
	"Max-Forwards: 70\r\n"
	"From: <sip:alice@a.example>;tag=af1\r\n"
	"To: <sip:bob@b.example>\r\n"
	"Call-ID: alone-1@10.0.0.1\r\n"
	"CSeq: 1 INVITE\r\n"
	"Contact: <sip:alice@10.0.0.1:5060>\r\n"
	"Content-Length: 0\r\n\r\n";

/* The 200 as it comes back: our Record-Route above the caller's none. */
static const char ok_fmt[] =
	"SIP/2.0 %d %s\r\n"
	"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1\r\n"
	"Record-Route: <sip:10.0.0.9:5060;lr%s>\r\n"
	"From: <sip:alice@a.example>;tag=af1\r\n"
	"To: <sip:bob@b.example>;tag=bt1\r\n"
	"Call-ID: alone-1@10.0.0.1\r\n"
	"CSeq: 1 INVITE\r\n"
	"Contact: <sip:bob@10.0.0.2:5060>\r\n"
	"Content-Length: 0\r\n\r\n";

static const char seq_fmt[] =
	"%s sip:bob@10.0.0.2:5060 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-%s\r\n"
	"Route: <sip:10.0.0.9:5060;lr%s>\r\n"
	"Max-Forwards: 70\r\n"
	"From: <sip:alice@a.example>;tag=af1\r\n"
	"To: <sip:bob@b.example>;tag=bt1\r\n"
	"Call-ID: alone-1@10.0.0.1\r\n"
	"CSeq: %s\r\n"
	"Content-Length: 0\r\n\r\n";

static void parse(struct sip_msg *m, const char *txt)
{
	assert_int_equal(sip_msg_parse(m, txt, strlen(txt), SIP_DATAGRAM,
				       NULL),
			 0);
}

/* A reply of the INVITE transaction, the way the proxy glue feeds it. */
static int reply(struct dlg_cell *c, int code, const char *reason,
		 const char *cookie, char *txt, size_t cap)
{
	struct sip_msg m;
	struct dlg_reply r;
	char rs[512];

	snprintf(txt, cap, ok_fmt, code, reason, cookie);
	parse(&m, txt);
	assert_int_equal(dlg_reply_from_msg(&r, &m, c, 1, rs, sizeof(rs)), 0);
	r.socket = sip_str_c("udp:10.0.0.9:5060");
	return dlg_on_reply(c, &r);
}

/* A sequential request carrying the cookie: matched, then fed. */
static void sequential(struct dlg_table *t, struct dlg_cell *want,
		       const char *method, const char *cseq,
		       const char *cookie, char *txt, size_t cap)
{
	struct sip_msg m;
	struct sip_str did;
	struct dlg_req rq;
	struct dlg_cell *c = NULL;
	enum dlg_dir dir;

	snprintf(txt, cap, seq_fmt, method, method, cookie, cseq);
	parse(&m, txt);
	did = sip_str_c(strchr(cookie, '=') + 1);
	dlg_req_from_msg(&rq, &m, did);
	assert_int_equal(dlg_match(t, &rq, DLG_MATCH_CFG, &c, &dir), 0);
	assert_ptr_equal(c, want);
	assert_int_equal(dir, DLG_DIR_DOWNSTREAM);
	dlg_on_request(c, dir, &rq);
	dlg_unref(c);
}

static void test_call_life(void **state)
{
	struct tmr_service *ts = tmr_service_alloc();
	struct stats *st = stats_alloc();
	struct dlg_stats ds;
	struct dlg_config cfg;
	struct dlg_table *t = NULL;
	struct dlg_invite inv;
	struct dlg_cell *c = NULL;
	struct sip_msg m;
	char rs[512], cookie[64], txt[1024];

	assert_non_null(ts);
	assert_non_null(st);
	assert_int_equal(tmr_service_start(ts), 0);
	dlg_stats_register(st, 1, &ds);
	memset(&cfg, 0, sizeof(cfg));
	cfg.hash_size = 64;
	cfg.rr_param = "did";
	cfg.default_timeout_ms = 3600 * 1000;
	cfg.match_mode = DLG_MATCH_DID_ONLY;
	cfg.h_id_step = 1;
	assert_int_equal(dlg_table_alloc(&cfg, ts, &ds, &t), 0);

	parse(&m, invite_txt);
	assert_int_equal(dlg_invite_from_msg(&inv, &m, rs, sizeof(rs)), 0);
	inv.socket = sip_str_c("udp:10.0.0.9:5060");
	assert_int_equal(dlg_manage(t, &inv, NULL, &c), DLG_RC_CREATED);
	assert_int_equal(dlg_state(c), DLG_STATE_UNCONFIRMED);
	assert_true(dlg_cookie_param(c, cookie, sizeof(cookie)) > 0);
	assert_int_equal(strncmp(cookie, ";did=", 5), 0);

	reply(c, 180, "Ringing", cookie, txt, sizeof(txt));
	assert_int_equal(dlg_state(c), DLG_STATE_EARLY);
	assert_int_equal(stat_get(ds.early_dialogs), 1);
	reply(c, 200, "OK", cookie, txt, sizeof(txt));
	assert_int_equal(dlg_state(c), DLG_STATE_CONFIRMED_NA);

	sequential(t, c, "ACK", "1 ACK", cookie, txt, sizeof(txt));
	assert_int_equal(dlg_state(c), DLG_STATE_CONFIRMED);
	assert_int_equal(stat_get(ds.active_dialogs), 1);
	assert_int_equal(dlg_active_count(t), 1);

	sequential(t, c, "BYE", "2 BYE", cookie, txt, sizeof(txt));
	assert_int_equal(dlg_state(c), DLG_STATE_DELETED);
	assert_int_equal(stat_get(ds.active_dialogs), 0);
	assert_int_equal(stat_get(ds.processed_dialogs), 1);

	dlg_unref(c);
	tmr_service_free(ts);
	dlg_table_free(t);
	stats_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call_life),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
