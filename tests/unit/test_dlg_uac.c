/*
 * test_dlg_uac.c - the one builder of the requests the box writes itself
 * (dlglink/dlg_uac.h): what it writes parses back, with the dialog's
 * identity, the route set, the extra header blocks and the body; and the
 * next hop is the first route, else the R-URI.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/obuf.h"
#include "dialog/dlg.h"
#include "dlglink/dlg_ka.h"
#include "dlglink/dlg_uac.h"
#include "sip/sip_msg.h"

/* Parse @o as it leaves: with the Via the proxy inserts after the
 * request line (proxy_uac_send).  The text lives in @wire. */
static struct sip_msg *parse(const struct obuf *o, struct obuf *wire)
{
	static const char via[] =
		"Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx\r\n";
	const char *eol = memmem(o->buf, o->len, "\r\n", 2);
	struct sip_msg *m = malloc(sizeof(*m));

	assert_non_null(m);
	assert_non_null(eol);
	ob_reset(wire);
	ob_mem(wire, o->buf, (size_t)(eol + 2 - o->buf));
	ob_str(wire, via);
	ob_mem(wire, eol + 2, o->len - (size_t)(eol + 2 - o->buf));
	assert_int_equal(sip_msg_parse(m, wire->buf, wire->len, SIP_DATAGRAM,
				       NULL),
			 0);
	return m;
}

static bool has(const struct obuf *o, const char *needle)
{
	return memmem(o->buf, o->len, needle, strlen(needle)) != NULL;
}

static void test_bye_in_dialog(void **state)
{
	static struct obuf o, w;
	struct dlg_uac_req r = {
		.method = "BYE",
		.ruri = sip_str_c("sip:bob@10.0.0.2:5060"),
		.route_set = "<sip:p2.example;lr>,<sip:p3.example;lr>",
		.from_uri = sip_str_c("sip:alice@a.example"),
		.from_tag = sip_str_c("af1"),
		.to_uri = sip_str_c("<sip:bob@b.example>"),	/* name-addr */
		.to_tag = sip_str_c("bt1"),
		.callid = sip_str_c("c-1@a.example"),
		.cseq = 11,
		.hdrs = { "X-One: 1\r\n", "X-Two: 2" },	/* CRLF added */
	};
	struct sip_msg *m;

	(void)state;
	assert_int_equal(dlg_uac_build(&o, &r), 0);
	m = parse(&o, &w);
	assert_true(m->is_request);
	assert_int_equal(m->method, SIP_METHOD_BYE);
	assert_true(sip_str_eq_c(m->ruri_str, "sip:bob@10.0.0.2:5060"));
	assert_true(sip_str_eq_c(m->from.tag, "af1"));
	assert_true(sip_str_eq_c(m->to.tag, "bt1"));
	assert_true(sip_str_eq_c(m->call_id, "c-1@a.example"));
	assert_int_equal(m->cseq.num, 11);
	assert_int_equal(m->cseq.method, SIP_METHOD_BYE);
	assert_int_equal(m->max_forwards, 70);
	assert_int_equal(m->content_length, 0);
	assert_true(has(&o, "To: <sip:bob@b.example>;tag=bt1\r\n"));
	assert_true(has(&o, "\r\nX-One: 1\r\nX-Two: 2\r\nContent-Length: 0"));
	assert_true(sip_str_eq_c(
		dlg_uac_next_hop(r.route_set, r.ruri), "sip:p2.example;lr"));
	free(m);
	ob_free(&o);
	ob_free(&w);
}

static void test_invite_with_body(void **state)
{
	static struct obuf o, w;
	struct dlg_uac_req r = {
		.method = "INVITE",
		.ruri = sip_str_c("sip:alice@pbx"),
		.from_uri = sip_str_c("sip:ctl@box"),
		.from_tag = sip_str_c("f00"),
		.to_uri = sip_str_c("sip:alice@pbx"),
		.callid = sip_str_c("br-1@sipdlg"),
		.cseq = 10,
		.hdrs = { "Contact: <sip:ctl@box>\r\n" },
		.body = "v=0\r\n",
		.content_type = "application/sdp",
	};
	struct sip_msg *m;

	(void)state;
	assert_int_equal(dlg_uac_build(&o, &r), 0);
	m = parse(&o, &w);
	assert_int_equal(m->method, SIP_METHOD_INVITE);
	assert_false(sip_str_present(m->to.tag));
	assert_int_equal(m->n_route, 0);
	assert_int_equal(m->content_length, 5);
	assert_true(sip_str_eq_c(m->body, "v=0\r\n"));
	assert_true(has(&o, "Content-Type: application/sdp\r\n"));
	/* No route set: the R-URI is the next hop. */
	assert_true(sip_str_eq_c(dlg_uac_next_hop(NULL, r.ruri),
				 "sip:alice@pbx"));
	assert_true(sip_str_eq_c(dlg_uac_next_hop("", r.ruri),
				 "sip:alice@pbx"));
	free(m);
	ob_free(&o);
	ob_free(&w);
}

/*
 * The in-dialog part every generated request shares (BYE, REFER,
 * keep-alive OPTIONS): towards each leg, its contact and route set, the
 * other party as From; a keep-alive OPTIONS towards the callee with
 * lreq_callee_headers, parsing back.
 */
static void test_fill_leg_and_options(void **state)
{
	static struct obuf o, w;
	struct dlg_info in = {
		.h_entry = 5, .h_id = 9,
		.callid = "ka-1@a", .from_uri = "sip:alice@a.example",
		.to_uri = "sip:bob@b.example",
		.caller = { .tag = "ft", .contact = "sip:alice@10.0.0.1",
			    .route_set = "", .socket = "", .cseq = 7 },
		.callee = { .tag = "tt", .contact = "sip:bob@10.0.0.2",
			    .route_set = "<sip:p2;lr>", .socket = "",
			    .cseq = 0 },
	};
	struct dlg_uac_req r = { .method = "OPTIONS", .cseq = 7,
				 .hdrs = { "X-Ka: callee" } };
	struct sip_msg *m;

	assert_int_equal(dlg_uac_fill_leg(&r, &in, DLG_CALLEE_LEG), 0);
	assert_int_equal(dlg_uac_build(&o, &r), 0);
	m = parse(&o, &w);
	assert_int_equal(m->method, SIP_METHOD_OPTIONS);
	assert_true(sip_str_eq_c(m->ruri_str, "sip:bob@10.0.0.2"));
	assert_true(sip_str_eq_c(m->from.tag, "ft"));
	assert_true(sip_str_eq_c(m->to.tag, "tt"));
	assert_true(sip_str_eq_c(m->call_id, "ka-1@a"));
	assert_int_equal(m->cseq.num, 7);
	assert_int_equal(m->n_route, 1);
	assert_true(has(&o, "From: <sip:alice@a.example>;tag=ft\r\n"));
	assert_true(has(&o, "\r\nX-Ka: callee\r\nContent-Length: 0"));
	assert_true(sip_str_eq_c(dlg_uac_next_hop(r.route_set, r.ruri),
				 "sip:p2;lr"));
	free(m);

	/* Towards the caller: we speak as the callee. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(dlg_uac_fill_leg(&r, &in, DLG_CALLER_LEG), 0);
	assert_true(sip_str_eq_c(r.ruri, "sip:alice@10.0.0.1"));
	assert_true(sip_str_eq_c(r.from_uri, "sip:bob@b.example"));
	assert_true(sip_str_eq_c(r.from_tag, "tt"));
	assert_true(sip_str_eq_c(r.to_tag, "ft"));

	/* No contact yet on that leg: nothing to send to. */
	in.callee.contact = "";
	assert_int_equal(dlg_uac_fill_leg(&r, &in, DLG_CALLEE_LEG), -ENOENT);
	ob_free(&o);
	ob_free(&w);
}

/* Kamailio's failures: 408 (also made up for no answer) and 481. */
static void test_keepalive_verdict(void **state)
{
	assert_true(dlgk_reply_failed(408));
	assert_true(dlgk_reply_failed(481));
	assert_false(dlgk_reply_failed(200));
	assert_false(dlgk_reply_failed(404));
	assert_false(dlgk_reply_failed(486));
	assert_false(dlgk_reply_failed(500));
	assert_false(dlgk_reply_failed(503));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bye_in_dialog),
		cmocka_unit_test(test_invite_with_body),
		cmocka_unit_test(test_fill_leg_and_options),
		cmocka_unit_test(test_keepalive_verdict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
