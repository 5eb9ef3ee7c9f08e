/*
 * test_dlg_match.c - matching sequential requests (cookie + tight match
 * in both directions, early dialogs, the three dlg_match_modes, failure
 * counters), the SIP-element lookup that prefers tagged dialogs, lookups,
 * iteration for RPC, and the helpers that read parsed SIP messages.
 */
#include <errno.h>
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

struct env {
	struct tmr_service *ts;
	struct dlg_table *t;
};

static void env_up_mode(struct env *e, int mode, int spirals, uint32_t size)
{
	struct dlg_config c;

	memset(&c, 0, sizeof(c));
	c.hash_size = size;
	c.rr_param = "did";
	c.default_timeout_ms = 3600 * 1000;
	c.match_mode = mode;
	c.detect_spirals = spirals;
	c.early_timeout_ms = 300 * 1000;
	c.end_timeout_ms = 300 * 1000;
	e->ts = tmr_service_alloc();
	assert_int_equal(tmr_service_start(e->ts), 0);
	assert_int_equal(dlg_table_alloc(&c, e->ts, NULL, &e->t), 0);
}

static void env_down(struct env *e)
{
	tmr_service_free(e->ts);
	dlg_table_free(e->t);
}

static struct dlg_cell *mk(struct env *e, const char *callid,
			   const char *ftag)
{
	struct dlg_invite inv;
	struct dlg_cell *c = NULL;

	memset(&inv, 0, sizeof(inv));
	inv.callid = sip_str_c(callid);
	inv.from_tag = sip_str_c(ftag);
	inv.contact = sip_str_c("sip:a@10.0.0.1");
	inv.cseq = 1;
	assert_int_equal(dlg_manage(e->t, &inv, NULL, &c), DLG_RC_CREATED);
	return c;
}

static void answer(struct dlg_cell *c, const char *totag)
{
	struct dlg_reply r = { .code = 200 };

	r.to_tag = sip_str_c(totag);
	r.contact = sip_str_c("sip:b@10.0.0.2");
	assert_int_equal(dlg_on_reply(c, &r), DLG_RC_CHANGED);
}

static void ring(struct dlg_cell *c, const char *totag)
{
	struct dlg_reply r = { .code = 180 };

	r.to_tag = sip_str_c(totag);
	dlg_on_reply(c, &r);
}

/* A sequential request; @did NULL = no cookie, "" = the dialog's. */
static struct dlg_req rq_mk(const char *callid, const char *ftag,
			    const char *ttag, const char *did)
{
	struct dlg_req rq;

	memset(&rq, 0, sizeof(rq));
	rq.method = SIP_METHOD_INFO;
	rq.callid = sip_str_c(callid);
	if (ftag)
		rq.from_tag = sip_str_c(ftag);
	if (ttag)
		rq.to_tag = sip_str_c(ttag);
	if (did)
		rq.did = sip_str_c(did);
	rq.cseq = 2;
	return rq;
}

static int try(struct env *e, int mode, const char *callid, const char *f,
	       const char *t, const char *did, struct dlg_cell **out,
	       enum dlg_dir *dir)
{
	struct dlg_req rq = rq_mk(callid, f, t, did);
	struct dlg_cell *c = NULL;
	enum dlg_dir d = DLG_DIR_NONE;
	int r = dlg_match(e->t, &rq, mode, &c, &d);

	if (r == 0 && out) {
		*out = c;
	} else if (r == 0) {
		dlg_unref(c);
	}
	if (dir)
		*dir = d;
	return r;
}

static void test_tight_match_did(void **state)
{
	struct env e;
	struct dlg_cell *c, *m;
	struct dlg_match_counters k;
	enum dlg_dir d;
	char did[20], other[20];

	env_up_mode(&e, DLG_MATCH_DID_ONLY, 1, 64);
	c = mk(&e, "m1@x", "ft");
	answer(c, "tt");
	dlg_cookie_value(dlg_h_entry(c), dlg_h_id(c), did, sizeof(did));

	assert_int_equal(try(&e, DLG_MATCH_CFG, "m1@x", "ft", "tt", did, &m,
			     &d), 0);
	assert_ptr_equal(m, c);
	assert_int_equal(d, DLG_DIR_DOWNSTREAM);
	dlg_unref(m);
	assert_int_equal(try(&e, DLG_MATCH_CFG, "m1@x", "tt", "ft", did, &m,
			     &d), 0);
	assert_int_equal(d, DLG_DIR_UPSTREAM);
	dlg_unref(m);
	/* Forged: right cookie, wrong tags or Call-ID. */
	assert_int_equal(try(&e, -1, "m1@x", "ft", "xx", did, NULL, NULL),
			 -ESRCH);
	assert_int_equal(try(&e, -1, "m1@x", "xx", "tt", did, NULL, NULL),
			 -ESRCH);
	assert_int_equal(try(&e, -1, "m1@x", "tt", "tt", did, NULL, NULL),
			 -ESRCH);
	assert_int_equal(try(&e, -1, "m1@y", "ft", "tt", did, NULL, NULL),
			 -ESRCH);
	assert_int_equal(try(&e, -1, "M1@x", "ft", "tt", did, NULL, NULL),
			 -ESRCH);
	/* No cookie, or one naming nothing. */
	assert_int_equal(try(&e, -1, "m1@x", "ft", "tt", NULL, NULL, NULL),
			 -ENOENT);
	dlg_cookie_value(dlg_h_entry(c), dlg_h_id(c) + 1, other,
			 sizeof(other));
	assert_int_equal(try(&e, -1, "m1@x", "ft", "tt", other, NULL, NULL),
			 -ENOENT);
	assert_int_equal(try(&e, -1, "m1@x", "ft", "tt", "fff.1", NULL, NULL),
			 -ENOENT);	/* h_entry beyond the table */
	assert_int_equal(try(&e, -1, "m1@x", "ft", "tt", "1.", NULL, NULL),
			 -ENOENT);	/* h_id 0 */
	/* Malformed. */
	assert_int_equal(try(&e, -1, "m1@x", "ft", "tt", "1-2", NULL, NULL),
			 -EBADMSG);
	assert_int_equal(try(&e, -1, "m1@x", "ft", "tt", "zz.1", NULL, NULL),
			 -EBADMSG);
	/* Not sequential: not counted. */
	assert_int_equal(try(&e, -1, "m1@x", "ft", NULL, did, NULL, NULL),
			 -EINVAL);
	dlg_match_counters_get(e.t, &k);
	assert_int_equal(k.matched, 2);
	assert_int_equal(k.mismatch, 5);
	assert_int_equal(k.no_cookie, 1);
	assert_int_equal(k.not_found, 3);
	assert_int_equal(k.bad_cookie, 2);

	/* A state-5 dialog still held matches by its cookie. */
	assert_int_equal(dlg_end(c, NULL), DLG_RC_CHANGED);
	assert_int_equal(try(&e, -1, "m1@x", "tt", "ft", did, &m, &d), 0);
	assert_ptr_equal(m, c);
	assert_int_equal(dlg_state(m), DLG_STATE_DELETED);
	dlg_unref(m);
	dlg_unref(c);
	/* Released: gone. */
	assert_int_equal(try(&e, -1, "m1@x", "tt", "ft", did, NULL, NULL),
			 -ENOENT);
	env_down(&e);
}

static void test_tight_match_early(void **state)
{
	struct env e;
	struct dlg_cell *c;
	enum dlg_dir d;
	char did[20];

	env_up_mode(&e, DLG_MATCH_DID_ONLY, 1, 64);
	c = mk(&e, "early@x", "ft");
	ring(c, "t1");
	dlg_cookie_value(dlg_h_entry(c), dlg_h_id(c), did, sizeof(did));
	/* Only the caller tag is checked before a callee tag exists. */
	assert_int_equal(try(&e, -1, "early@x", "t1", "ft", did, NULL, &d), 0);
	assert_int_equal(d, DLG_DIR_UPSTREAM);
	assert_int_equal(try(&e, -1, "early@x", "any", "ft", did, NULL, &d),
			 0);
	assert_int_equal(d, DLG_DIR_UPSTREAM);
	assert_int_equal(try(&e, -1, "early@x", "ft", "t9", did, NULL, &d), 0);
	assert_int_equal(d, DLG_DIR_DOWNSTREAM);
	/* Upstream is tried first. */
	assert_int_equal(try(&e, -1, "early@x", "ft", "ft", did, NULL, &d), 0);
	assert_int_equal(d, DLG_DIR_UPSTREAM);
	assert_int_equal(try(&e, -1, "early@x", "a", "b", did, NULL, NULL),
			 -ESRCH);
	/* Once answered, both tags count. */
	answer(c, "t2");
	assert_int_equal(try(&e, -1, "early@x", "t1", "ft", did, NULL, NULL),
			 -ESRCH);
	assert_int_equal(try(&e, -1, "early@x", "t2", "ft", did, NULL, &d), 0);
	assert_int_equal(d, DLG_DIR_UPSTREAM);
	dlg_end(c, NULL);
	dlg_unref(c);
	env_down(&e);
}

static void test_match_modes(void **state)
{
	struct env e;
	struct dlg_cell *c, *m;
	struct dlg_match_counters k;
	enum dlg_dir d;
	char did[20], other[20];

	env_up_mode(&e, DLG_MATCH_DID_FALLBACK, 1, 64);
	c = mk(&e, "mm@x", "ft");
	answer(c, "tt");
	dlg_cookie_value(dlg_h_entry(c), dlg_h_id(c), did, sizeof(did));
	dlg_cookie_value(dlg_h_entry(c), dlg_h_id(c) + 7, other,
			 sizeof(other));
	/* Fallback: missing or unknown cookie -> SIP elements. */
	assert_int_equal(try(&e, -1, "mm@x", "ft", "tt", NULL, &m, &d), 0);
	assert_ptr_equal(m, c);
	assert_int_equal(d, DLG_DIR_DOWNSTREAM);
	dlg_unref(m);
	assert_int_equal(try(&e, -1, "mm@x", "tt", "ft", other, NULL, &d), 0);
	assert_int_equal(d, DLG_DIR_UPSTREAM);
	/* ... but a malformed cookie is never matched. */
	assert_int_equal(try(&e, -1, "mm@x", "ft", "tt", "x.y", NULL, NULL),
			 -EBADMSG);
	/* Tags that match nothing fail in every mode. */
	assert_int_equal(try(&e, -1, "mm@x", "ft", "zz", did, NULL, NULL),
			 -ESRCH);
	assert_int_equal(try(&e, -1, "mm@x", "ft", "zz", NULL, NULL, NULL),
			 -ENOENT);
	/* DID_NONE ignores the cookie altogether. */
	assert_int_equal(try(&e, DLG_MATCH_DID_NONE, "mm@x", "ft", "tt",
			     "x.y", NULL, NULL), 0);
	assert_int_equal(try(&e, DLG_MATCH_DID_NONE, "mm@x", "ft", "tt",
			     other, NULL, NULL), 0);
	/* DID_ONLY forced by the caller. */
	assert_int_equal(try(&e, DLG_MATCH_DID_ONLY, "mm@x", "ft", "tt", NULL,
			     NULL, NULL), -ENOENT);
	dlg_match_counters_get(e.t, &k);
	assert_int_equal(k.matched, 4);
	assert_int_equal(k.bad_cookie, 1);
	assert_int_equal(k.mismatch, 1);
	assert_int_equal(k.not_found, 1);
	assert_int_equal(k.no_cookie, 1);
	/* Driving the dialog with what matched. */
	{
		struct dlg_req rq = rq_mk("mm@x", "ft", "tt", did);

		rq.method = SIP_METHOD_ACK;
		assert_int_equal(dlg_match(e.t, &rq, -1, &m, &d), 0);
		assert_int_equal(dlg_on_request(m, d, &rq), DLG_RC_CHANGED);
		assert_int_equal(dlg_state(c), DLG_STATE_CONFIRMED);
		rq = rq_mk("mm@x", "tt", "ft", did);
		rq.method = SIP_METHOD_BYE;
		dlg_unref(m);
		assert_int_equal(dlg_match(e.t, &rq, -1, &m, &d), 0);
		assert_int_equal(dlg_on_request(m, d, &rq), DLG_RC_CHANGED);
		dlg_unref(m);
	}
	dlg_unref(c);
	env_down(&e);
}

/* Serial forking (kamailio#2484): the answered dialog wins over a
 * to-tag-less one with the same Call-ID and caller tag. */
static void test_sip_lookup_prefers_tagged(void **state)
{
	struct env e;
	struct dlg_cell *d1, *d2, *m;
	enum dlg_dir dir;

	env_up_mode(&e, DLG_MATCH_DID_NONE, 0, 16);
	d1 = mk(&e, "serial@x", "ft");	/* first branch: rang, then gave up */
	ring(d1, "b1");
	d2 = mk(&e, "serial@x", "ft");	/* second branch: answered */
	answer(d2, "b2");
	assert_true(dlg_h_id(d1) < dlg_h_id(d2));	/* d1 is seen first */
	m = dlg_lookup_sip(e.t, sip_str_c("serial@x"), sip_str_c("ft"),
			   sip_str_c("b2"), &dir);
	assert_ptr_equal(m, d2);
	assert_int_equal(dir, DLG_DIR_DOWNSTREAM);
	dlg_unref(m);
	assert_int_equal(try(&e, -1, "serial@x", "b2", "ft", NULL, &m, &dir),
			 0);
	assert_ptr_equal(m, d2);
	assert_int_equal(dir, DLG_DIR_UPSTREAM);
	dlg_unref(m);
	/* Only the untagged one matches other tags. */
	m = dlg_lookup_sip(e.t, sip_str_c("serial@x"), sip_str_c("ft"),
			   sip_str_c("b9"), NULL);
	assert_ptr_equal(m, d1);
	dlg_unref(m);
	assert_null(dlg_lookup_sip(e.t, sip_str_c("serial@x"),
				   sip_str_c("zz"), sip_str_c("b9"), NULL));
	assert_null(dlg_lookup_sip(e.t, sip_str_c("nope@x"), sip_str_c("ft"),
				   sip_str_c("b2"), NULL));
	/* Other order: tagged first. */
	{
		struct dlg_cell *a = mk(&e, "serial2@x", "ft");
		struct dlg_cell *b = mk(&e, "serial2@x", "ft");

		answer(a, "aa");
		m = dlg_lookup_sip(e.t, sip_str_c("serial2@x"),
				   sip_str_c("ft"), sip_str_c("aa"), NULL);
		assert_ptr_equal(m, a);
		dlg_unref(m);
		dlg_end(a, NULL);
		dlg_discard(b);
		dlg_unref(a);
		dlg_unref(b);
	}
	dlg_discard(d1);
	dlg_end(d2, NULL);
	dlg_unref(d1);
	dlg_unref(d2);
	env_down(&e);
}

static void test_lookups(void **state)
{
	struct env e;
	struct dlg_cell *c[3], *out[4];
	char tag[32];

	env_up_mode(&e, DLG_MATCH_DID_ONLY, 1, 16);
	for (int i = 0; i < 3; i++) {
		snprintf(tag, sizeof(tag), "f%d", i);
		c[i] = mk(&e, "same@x", tag);
	}
	assert_int_equal(dlg_lookup_callid(e.t, sip_str_c("same@x"),
					   SIP_STR_NULL, out, 4), 3);
	for (int i = 0; i < 3; i++) {
		assert_ptr_equal(out[i], c[i]);	/* h_id order */
		dlg_unref(out[i]);
	}
	assert_int_equal(dlg_lookup_callid(e.t, sip_str_c(" same@x\r\n"),
					   sip_str_c("f1"), out, 4), 1);
	assert_ptr_equal(out[0], c[1]);
	dlg_unref(out[0]);
	assert_int_equal(dlg_lookup_callid(e.t, sip_str_c("same@x"),
					   SIP_STR_NULL, out, 2), 2);
	dlg_unref(out[0]);
	dlg_unref(out[1]);
	assert_int_equal(dlg_lookup_callid(e.t, sip_str_c("other@x"),
					   SIP_STR_NULL, out, 4), 0);
	out[0] = dlg_lookup_id(e.t, dlg_h_entry(c[2]), dlg_h_id(c[2]));
	assert_ptr_equal(out[0], c[2]);
	dlg_unref(out[0]);
	assert_null(dlg_lookup_id(e.t, 16, 1));
	assert_null(dlg_lookup_id(e.t, dlg_h_entry(c[2]), 0));
	for (int i = 0; i < 3; i++) {
		dlg_discard(c[i]);
		dlg_unref(c[i]);
	}
	env_down(&e);
}

struct seen {
	int n;
	uint32_t he[200], hi[200];
	int stop_after;
};

static int see(struct dlg_cell *c, void *ud)
{
	struct seen *s = ud;

	s->he[s->n] = dlg_h_entry(c);
	s->hi[s->n] = dlg_h_id(c);
	s->n++;
	return s->stop_after && s->n >= s->stop_after;
}

static void test_iteration(void **state)
{
	struct env e;
	struct dlg_cell *c[150], *batch[7];
	struct dlg_cursor cur = { 0, 0, false };
	struct seen s;
	uint64_t counts[6];
	char cid[32];
	int total = 0, turns = 0;

	env_up_mode(&e, DLG_MATCH_DID_ONLY, 1, 4);
	for (int i = 0; i < 150; i++) {
		snprintf(cid, sizeof(cid), "it-%d@x", i);
		c[i] = mk(&e, cid, "ft");
		if (i % 3 == 0)
			ring(c[i], "tt");
	}
	/* Cursor: 7 at a time, like an RPC reply per loop turn. */
	memset(&s, 0, sizeof(s));
	while (!cur.done) {
		size_t n = dlg_cursor_next(e.t, &cur, batch, 7);

		assert_true(n <= 7);
		for (size_t i = 0; i < n; i++) {
			see(batch[i], &s);
			dlg_unref(batch[i]);
		}
		turns++;
		assert_true(turns < 100);
	}
	assert_int_equal(s.n, 150);
	for (int i = 1; i < s.n; i++)
		assert_true(s.he[i] > s.he[i - 1] ||
			    (s.he[i] == s.he[i - 1] && s.hi[i] > s.hi[i - 1]));
	assert_int_equal(dlg_cursor_next(e.t, &cur, batch, 7), 0);
	/* Per slot. */
	for (uint32_t sl = 0; sl < 4; sl++) {
		memset(&s, 0, sizeof(s));
		int r = dlg_foreach_slot(e.t, sl, see, &s);

		assert_int_equal(r, s.n);
		for (int i = 0; i < s.n; i++)
			assert_int_equal(s.he[i], sl);
		total += r;
	}
	assert_int_equal(total, 150);
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	assert_int_equal(dlg_foreach_slot(e.t, 0, see, &s), 2);
	assert_int_equal(dlg_foreach_slot(e.t, 4, see, &s), -ERANGE);
	dlg_count_states(e.t, counts);
	assert_int_equal(counts[1], 100);
	assert_int_equal(counts[2], 50);
	assert_int_equal(counts[3] + counts[4] + counts[5], 0);
	for (int i = 0; i < 150; i++) {
		dlg_discard(c[i]);
		dlg_unref(c[i]);
	}
	dlg_count_states(e.t, counts);
	assert_int_equal(counts[1] + counts[2] + counts[5], 0);
	env_down(&e);
}

/* ---- from parsed messages ------------------------------------------------ */

static const char INVITE[] =
	"INVITE sip:bob@b.example SIP/2.0\r\n"
	"Record-Route: <sip:c1.example;lr>\r\n"
	"Record-Route: <sip:c2.example;lr;ftag=x>\r\n"
	"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1\r\n"
	"From: \"Alice\" <sip:alice@a.example>;tag=ft1\r\n"
	"To: <sip:bob@b.example>\r\n"
	"Call-ID: msg-1@a.example\r\n"
	"CSeq: 101 INVITE\r\n"
	"Contact: <sip:alice@10.0.0.1:5060>\r\n"
	"Max-Forwards: 70\r\n"
	"Content-Length: 0\r\n\r\n";

static const char OK200[] =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1\r\n"
	"Record-Route: <sip:d1.example;lr>, <sip:d2.example;lr>\r\n"
	"Record-Route: <sip:us.example;lr;did=1.2>\r\n"
	"Record-Route: <sip:c1.example;lr>\r\n"
	"Record-Route: <sip:c2.example;lr;ftag=x>\r\n"
	"From: \"Alice\" <sip:alice@a.example>;tag=ft1\r\n"
	"To: <sip:bob@b.example>;tag=tt1\r\n"
	"Call-ID: msg-1@a.example\r\n"
	"CSeq: 101 INVITE\r\n"
	"Contact: <sip:bob@10.0.0.2:5062>\r\n"
	"Content-Length: 0\r\n\r\n";

static const char BYE_FMT[] =
	"BYE sip:alice@10.0.0.1:5060 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bK-9\r\n"
	"Route: <sip:us.example;lr;did=%s>\r\n"
	"From: <sip:bob@b.example>;tag=tt1\r\n"
	"To: \"Alice\" <sip:alice@a.example>;tag=ft1\r\n"
	"Call-ID: msg-1@a.example\r\n"
	"CSeq: 5 BYE\r\n"
	"Content-Length: 0\r\n\r\n";

static void parse(struct sip_msg *m, const char *s)
{
	assert_int_equal(sip_msg_parse(m, s, strlen(s), SIP_DATAGRAM, NULL),
			 0);
}

static void test_from_messages(void **state)
{
	static struct sip_msg m, r, b;
	struct env e;
	struct dlg_invite inv;
	struct dlg_reply rep;
	struct dlg_req rq;
	struct dlg_cell *c, *x;
	struct dlg_info *in;
	struct sip_uri u;
	struct sip_str did;
	enum dlg_dir d;
	char rs[256], rs2[256], bye[1024], cookie[20];
	size_t len;

	env_up_mode(&e, DLG_MATCH_DID_ONLY, 1, 64);
	parse(&m, INVITE);
	assert_int_equal(dlg_invite_from_msg(&inv, &m, rs, sizeof(rs)), 0);
	assert_string_equal(rs, "<sip:c1.example;lr>,<sip:c2.example;lr;ftag=x>");
	assert_int_equal(inv.rr_count, 2);
	assert_int_equal(inv.cseq, 101);
	assert_true(sip_str_eq_c(inv.from_tag, "ft1"));
	assert_true(sip_str_eq_c(inv.from_uri, "sip:alice@a.example"));
	assert_true(sip_str_eq_c(inv.to_uri, "sip:bob@b.example"));
	assert_true(sip_str_eq_c(inv.req_uri, "sip:bob@b.example"));
	assert_true(sip_str_eq_c(inv.contact, "sip:alice@10.0.0.1:5060"));
	assert_int_equal(dlg_invite_from_msg(&inv, &m, rs, 10), -ENOSPC);
	assert_int_equal(dlg_invite_from_msg(&inv, &m, rs, sizeof(rs)), 0);
	inv.socket = sip_str_c("udp:10.0.0.9:5060");
	assert_int_equal(dlg_manage(e.t, &inv, NULL, &c), DLG_RC_CREATED);

	parse(&r, OK200);
	assert_int_equal(dlg_callee_route_set(&r, 2, 1, rs2, sizeof(rs2),
					      &len), 0);
	assert_string_equal(rs2, "<sip:d2.example;lr>,<sip:d1.example;lr>");
	/* Double RR: one more of ours; nothing left beyond ours. */
	assert_int_equal(dlg_callee_route_set(&r, 2, 2, rs2, sizeof(rs2),
					      &len), 0);
	assert_string_equal(rs2, "<sip:d1.example;lr>");
	assert_int_equal(dlg_callee_route_set(&r, 2, 3, rs2, sizeof(rs2),
					      &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(dlg_callee_route_set(&r, 9, 1, rs2, sizeof(rs2),
					      &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(dlg_reply_from_msg(&rep, &r, c, 1, rs2, sizeof(rs2)),
			 0);
	rep.socket = sip_str_c("udp:10.0.0.9:5060");
	assert_int_equal(dlg_on_reply(c, &rep), DLG_RC_CHANGED);
	in = dlg_info_get(c, 0);
	assert_string_equal(in->callee.tag, "tt1");
	assert_string_equal(in->callee.contact, "sip:bob@10.0.0.2:5062");
	assert_string_equal(in->callee.route_set,
			    "<sip:d2.example;lr>,<sip:d1.example;lr>");
	assert_string_equal(in->caller.route_set,
			    "<sip:c1.example;lr>,<sip:c2.example;lr;ftag=x>");
	assert_int_equal(in->caller.cseq, 101);
	dlg_info_free(in);

	/* The callee hangs up; the cookie comes from our Route. */
	dlg_cookie_value(dlg_h_entry(c), dlg_h_id(c), cookie, sizeof(cookie));
	snprintf(bye, sizeof(bye), BYE_FMT, cookie);
	parse(&b, bye);
	assert_int_equal(sip_uri_parse(&u, b.route.uri.p, b.route.uri.len), 0);
	assert_int_equal(sip_uri_param(&u, "did", &did), 0);
	dlg_req_from_msg(&rq, &b, did);
	assert_int_equal(rq.method, SIP_METHOD_BYE);
	assert_int_equal(dlg_match(e.t, &rq, -1, &x, &d), 0);
	assert_ptr_equal(x, c);
	assert_int_equal(d, DLG_DIR_UPSTREAM);
	assert_int_equal(dlg_on_request(x, d, &rq), DLG_RC_CHANGED);
	in = dlg_info_get(c, 0);
	assert_int_equal(in->callee.cseq, 5);
	assert_int_equal(in->state, DLG_STATE_DELETED);
	dlg_info_free(in);
	dlg_unref(x);
	dlg_unref(c);

	/* No dialog without exactly one Contact, or without From-tag. */
	{
		static struct sip_msg m2;
		char buf[1024];
		const char *p = strstr(INVITE, "Contact:");

		snprintf(buf, sizeof(buf), "%.*sContact: <sip:a@1.1.1.1>\r\n%s",
			 (int)(p - INVITE), INVITE, p);
		parse(&m2, buf);
		assert_int_equal(dlg_invite_from_msg(&inv, &m2, rs, sizeof(rs)),
				 -EINVAL);
		snprintf(buf, sizeof(buf), "%.*s%s", (int)(p - INVITE), INVITE,
			 strstr(p, "Max-Forwards"));
		parse(&m2, buf);
		assert_int_equal(dlg_invite_from_msg(&inv, &m2, rs, sizeof(rs)),
				 -EINVAL);
		p = strstr(INVITE, ";tag=ft1");
		snprintf(buf, sizeof(buf), "%.*s%s", (int)(p - INVITE), INVITE,
			 p + 8);
		parse(&m2, buf);
		assert_int_equal(dlg_invite_from_msg(&inv, &m2, rs, sizeof(rs)),
				 -EINVAL);
	}
	env_down(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tight_match_did),
		cmocka_unit_test(test_tight_match_early),
		cmocka_unit_test(test_match_modes),
		cmocka_unit_test(test_sip_lookup_prefers_tagged),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_iteration),
		cmocka_unit_test(test_from_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
