/*
 * test_proxy_build.c - the messages the proxy builds: local replies,
 * forwarded requests and responses, CANCEL, the ACK of a non-2xx, and the
 * transaction keys.  Every built message must parse again and carry what
 * RFC 3261 asks for.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/px_internal.h"

static const char INVITE[] =
	"INVITE sip:bob@127.0.0.1:5080 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bK-abc;rport\r\n"
	"v: SIP/2.0/UDP 10.0.0.1:5999;branch=z9hG4bK-older\r\n"
	"Max-Forwards: 70\r\n"
	"Route: <sip:127.0.0.1:5060;lr>, <sip:10.9.9.9;lr>\r\n"
	"From: \"Alice\" <sip:alice@example.com>;tag=ft1\r\n"
	"To: <sip:bob@example.com>\r\n"
	"Call-ID: call-1@host\r\n"
	"CSeq: 10 INVITE\r\n"
	"Contact: <sip:alice@10.0.0.7:5070>\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 4\r\n"
	"\r\n"
	"v=0\n";

static struct sip_msg *parse(const char *buf, size_t len)
{
	struct sip_msg *m = malloc(sizeof(*m));

	assert_non_null(m);
	assert_int_equal(sip_msg_parse(m, buf, len, SIP_DATAGRAM, NULL), 0);
	return m;
}

static struct tp_peer peer4(const char *ip, uint16_t port)
{
	struct tp_peer p = { .proto = TP_UDP, .listen_idx = 0 };
	struct sockaddr_in *s = (struct sockaddr_in *)&p.remote.ss;

	s->sin_family = AF_INET;
	s->sin_port = htons(port);
	inet_pton(AF_INET, ip, &s->sin_addr);
	p.remote.len = sizeof(*s);
	return p;
}

static bool contains(const struct obuf *o, const char *needle)
{
	return memmem(o->buf, o->len, needle, strlen(needle)) != NULL;
}

static void test_reply_has_rfc3261_fields(void **state)
{
	static struct obuf o;
	struct sip_msg *req = parse(INVITE, sizeof(INVITE) - 1), *rsp;
	struct tp_peer src = peer4("192.0.2.33", 40000);

	(void)state;
	assert_int_equal(pxb_reply(&o, req, &src, 486, NULL, "tt9"), 0);
	rsp = parse(o.buf, o.len);
	assert_false(rsp->is_request);
	assert_int_equal(rsp->status, 486);
	assert_true(sip_str_eq_c(rsp->reason, "Busy Here"));
	/* Both Vias, the top one with received and rport filled in. */
	assert_int_equal(rsp->n_via, 2);
	assert_true(sip_str_eq_c(rsp->via.received, "192.0.2.33"));
	assert_int_equal(rsp->via.rport_value, 40000);
	assert_true(sip_str_eq_c(rsp->via.branch, "z9hG4bK-abc"));
	assert_true(sip_str_eq_c(rsp->to.tag, "tt9"));
	assert_true(sip_str_eq_c(rsp->from.tag, "ft1"));
	assert_true(sip_str_eq_c(rsp->call_id, "call-1@host"));
	assert_int_equal(rsp->cseq.num, 10);
	assert_int_equal(rsp->cseq.method, SIP_METHOD_INVITE);
	assert_int_equal(rsp->content_length, 0);
	free(rsp);

	/* 100 Trying carries no To-tag. */
	assert_int_equal(pxb_reply(&o, req, &src, 100, NULL, "tt9"), 0);
	rsp = parse(o.buf, o.len);
	assert_false(sip_str_present(rsp->to.tag));
	free(rsp);
	free(req);
}

static void test_forwarded_request(void **state)
{
	static struct obuf o;
	struct sip_msg *req = parse(INVITE, sizeof(INVITE) - 1), *out;
	struct tp_peer src = peer4("10.0.0.7", 5070);
	struct px_fwd f = { 0 };

	(void)state;
	f.ruri = req->ruri_str;
	f.routes[0] = sip_str_c("<sip:10.9.9.9;lr>");
	f.n_routes = 1;
	f.via = "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsd1.2\r\n";
	f.rr = "Record-Route: <sip:127.0.0.1:5060;lr;did=596.d052>\r\n";
	f.max_forwards = req->max_forwards - 1;
	assert_int_equal(pxb_request(&o, req, &src, &f), 0);
	out = parse(o.buf, o.len);
	assert_true(out->is_request);
	assert_int_equal(out->n_via, 3);
	assert_true(sip_str_eq_c(out->via.branch, "z9hG4bKsd1.2"));
	assert_int_equal(out->max_forwards, 69);
	assert_int_equal(out->n_route, 1);
	assert_true(sip_str_eq_c(out->route.uri, "sip:10.9.9.9;lr"));
	assert_int_equal(out->n_record_route, 1);
	assert_true(contains(&o, "did=596.d052"));
	/* The previous hop's Via got received (sent-by == source: only
	 * because of rport) and rport. */
	assert_true(contains(&o, "branch=z9hG4bK-abc;received=10.0.0.7;rport=5070"));
	assert_true(sip_str_eq_c(out->body, "v=0\n"));
	free(out);
	free(req);
}

static void test_response_forward_strips_our_via(void **state)
{
	static const char rsp_txt[] =
		"SIP/2.0 180 Ringing\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsd1.2, "
		"SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bK-abc\r\n"
		"From: <sip:alice@example.com>;tag=ft1\r\n"
		"To: <sip:bob@example.com>;tag=b\r\n"
		"Call-ID: call-1@host\r\n"
		"CSeq: 10 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";
	static struct obuf o;
	struct sip_msg *rsp = parse(rsp_txt, sizeof(rsp_txt) - 1), *out;

	(void)state;
	assert_int_equal(pxb_response_fwd(&o, rsp), 0);
	out = parse(o.buf, o.len);
	assert_int_equal(out->status, 180);
	assert_int_equal(out->n_via, 1);
	assert_true(sip_str_eq_c(out->via.branch, "z9hG4bK-abc"));
	free(out);
	free(rsp);
}

static void test_cancel_and_ack_mirror_the_invite(void **state)
{
	static const char fwd[] =
		"INVITE sip:bob@127.0.0.1:5080 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsd1.2\r\n"
		"Via: SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bK-abc\r\n"
		"Route: <sip:10.9.9.9;lr>\r\n"
		"From: <sip:alice@example.com>;tag=ft1\r\n"
		"To: <sip:bob@example.com>\r\n"
		"Call-ID: call-1@host\r\n"
		"CSeq: 10 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char busy[] =
		"SIP/2.0 486 Busy Here\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsd1.2\r\n"
		"From: <sip:alice@example.com>;tag=ft1\r\n"
		"To: <sip:bob@example.com>;tag=callee\r\n"
		"Call-ID: call-1@host\r\n"
		"CSeq: 10 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";
	static struct obuf o;
	struct sip_msg *inv = parse(fwd, sizeof(fwd) - 1);
	struct sip_msg *rsp = parse(busy, sizeof(busy) - 1), *out;

	(void)state;
	assert_int_equal(pxb_cancel(&o, inv), 0);
	out = parse(o.buf, o.len);
	assert_int_equal(out->method, SIP_METHOD_CANCEL);
	assert_true(sip_str_eq(out->ruri_str, inv->ruri_str));
	assert_int_equal(out->n_via, 1);
	assert_true(sip_str_eq_c(out->via.branch, "z9hG4bKsd1.2"));
	assert_int_equal(out->cseq.num, 10);
	assert_int_equal(out->cseq.method, SIP_METHOD_CANCEL);
	assert_int_equal(out->n_route, 1);
	assert_false(sip_str_present(out->to.tag));
	free(out);

	assert_int_equal(pxb_ack(&o, inv, rsp), 0);
	out = parse(o.buf, o.len);
	assert_int_equal(out->method, SIP_METHOD_ACK);
	assert_true(sip_str_eq_c(out->via.branch, "z9hG4bKsd1.2"));
	assert_true(sip_str_eq_c(out->to.tag, "callee"));
	assert_int_equal(out->cseq.method, SIP_METHOD_ACK);
	free(out);
	free(rsp);
	free(inv);
}

static void test_server_keys(void **state)
{
	static const char ack[] =
		"ACK sip:bob@127.0.0.1:5080 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bK-abc;rport\r\n"
		"From: <sip:alice@example.com>;tag=ft1\r\n"
		"To: <sip:bob@example.com>;tag=x\r\n"
		"Call-ID: call-1@host\r\n"
		"CSeq: 10 ACK\r\n"
		"Content-Length: 0\r\n\r\n";
	struct sip_msg *inv = parse(INVITE, sizeof(INVITE) - 1);
	struct sip_msg *a = parse(ack, sizeof(ack) - 1);
	char k1[TM_KEY_MAX], k2[TM_KEY_MAX], k3[TM_KEY_MAX];
	size_t n1, n2, n3;

	(void)state;
	n1 = tm_server_key(inv, SIP_METHOD_INVITE, k1);
	n2 = tm_server_key(a, SIP_METHOD_ACK, k2);
	n3 = tm_server_key(inv, SIP_METHOD_CANCEL, k3);
	assert_true(n1 > 0 && n2 > 0 && n3 > 0);
	/* The ACK of a non-2xx finds its INVITE; a CANCEL key differs. */
	assert_int_equal(n1, n2);
	assert_memory_equal(k1, k2, n1);
	assert_false(n1 == n3 && memcmp(k1, k3, n1) == 0);
	free(a);
	free(inv);
}

/* Our branches: the fast path's dialog format and the loop hash inside. */
static void test_branches(void **state)
{
	char b[TM_BRANCH_MAX];
	struct px_branch_dlg bd = { .h_entry = 1685, .h_id = 9485, .dir = 1 };
	uint32_t lh;
	size_t n;

	(void)state;
	n = px_branch(b, sizeof(b), &bd, 0xdeadbeef, 0x2f3c);
	assert_true(n > 0);
	/* The kernel reads z9hG4bKsd<RH(he)>.<RH(hi)>.<D>... */
	assert_memory_equal(b, "z9hG4bKsd596.d052.1deadbeef", 27);
	assert_true(px_branch_loop(sip_str_mk(b, n), &lh));
	assert_int_equal(lh, 0xdeadbeef);
	n = px_branch(b, sizeof(b), NULL, 0x1234abcd, 7);
	assert_memory_equal(b, "z9hG4bKsx1234abcd.", 18);
	assert_true(px_branch_loop(sip_str_mk(b, n), &lh));
	assert_int_equal(lh, 0x1234abcd);
	assert_false(px_branch_loop(sip_str_c("z9hG4bK-other"), &lh));
	assert_false(px_branch_loop(sip_str_c("z9hG4bKsd1.2"), &lh));
}

/* Next hops by URI: the transport and default port of each form. */
static void test_uri_targets(void **state)
{
	static const struct {
		const char *uri;
		int rc;
		enum tp_proto proto;
		uint16_t port;
	} cases[] = {
		{ "sip:a@192.0.2.1", 0, TP_UDP, 5060 },
		{ "sip:a@192.0.2.1;transport=tcp", 0, TP_TCP, 5060 },
		{ "sip:a@192.0.2.1;transport=tls", 0, TP_TLS, 5061 },
		{ "sip:a@192.0.2.1:5070;transport=TLS", 0, TP_TLS, 5070 },
		{ "sips:a@192.0.2.1", 0, TP_TLS, 5061 },
		{ "sips:a@[2001:db8::1]:5062", 0, TP_TLS, 5062 },
		/* RFC 5630: sips: with transport=tcp still means TLS. */
		{ "sips:a@192.0.2.1;transport=tcp", 0, TP_TLS, 5061 },
		{ "sip:a@192.0.2.1;transport=sctp", -EPROTONOSUPPORT, 0, 0 },
		{ "tel:+123", -EPROTONOSUPPORT, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct px_target t;
		int rc = px_uri_target(sip_str_c(cases[i].uri), &t);

		if (rc != cases[i].rc)
			fail_msg("%s: rc %d, expected %d", cases[i].uri, rc,
				 cases[i].rc);
		if (rc)
			continue;
		if (t.proto != cases[i].proto ||
		    px_addr_port(&t.addr) != cases[i].port)
			fail_msg("%s: proto %d port %u, expected %d %u",
				 cases[i].uri, t.proto, px_addr_port(&t.addr),
				 cases[i].proto, cases[i].port);
	}
}

/* The TLS name of a next hop: a DNS name is kept (SNI, certificate
 * check, connection key), an IP literal gives none; the peer carries it
 * for TLS only. */
static void test_uri_target_names(void **state)
{
	static const struct {
		const char *uri, *name;
	} cases[] = {
		{ "sips:a@localhost:5061", "localhost" },
		{ "sip:LocalHost;transport=tls", "LocalHost" },	/* no DNS here */
		{ "sips:a@127.0.0.1", "" },
		{ "sips:a@[::1]:5062", "" },
		{ "sip:a@127.0.0.1;maddr=localhost;transport=tls", "localhost" },
	};
	struct px_target t;
	struct tp_peer p;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (px_uri_target(sip_str_c(cases[i].uri), &t) != 0)
			fail_msg("%s: not resolved", cases[i].uri);
		if (strcmp(t.name, cases[i].name) != 0)
			fail_msg("%s: name '%s', expected '%s'", cases[i].uri,
				 t.name, cases[i].name);
		px_target_peer(&t, 0, &p);
		assert_int_equal(p.proto, TP_TLS);
		assert_string_equal(p.tls_name, cases[i].name);
	}
	assert_int_equal(px_uri_target(sip_str_c("sip:a@localhost"), &t), 0);
	px_target_peer(&t, 0, &p);
	assert_string_equal(p.tls_name, "");	/* UDP: no TLS name */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_has_rfc3261_fields),
		cmocka_unit_test(test_forwarded_request),
		cmocka_unit_test(test_response_forward_strips_our_via),
		cmocka_unit_test(test_cancel_and_ack_mirror_the_invite),
		cmocka_unit_test(test_server_keys),
		cmocka_unit_test(test_branches),
		cmocka_unit_test(test_uri_targets),
		cmocka_unit_test(test_uri_target_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
