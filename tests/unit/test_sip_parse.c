// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_sip_parse.c - unit tests of the SIP message parser (user/sip/).
 *
 * Torture-style messages (written for this project in the spirit of
 * RFC 4475, not copied from it) live in tests/unit/sip_msgs/ as exact
 * bytes; short cases are inline.  The real Kamailio captures are read from
 * tests/data/pcap (relative to the repository root, the cwd of
 * the test runner); those cases are skipped when the directory is absent.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "lib/pcap.h"
#include "sip/sip_msg.h"

#define MSG_DIR "tests/unit/sip_msgs/"
#define PCAP_DIR "tests/data/pcap/"

/* --- helpers ---------------------------------------------------------------- */

static int parse_dg(struct sip_msg *m, const char *s)
{
	return sip_msg_parse(m, s, strlen(s), SIP_DATAGRAM, NULL);
}

/* Slice equals the C string. */
#define assert_str(slice, lit)                                               \
	do {                                                                 \
		struct sip_str s_ = (slice);                                 \
		if (!sip_str_eq_c(s_, (lit)))                                \
			fail_msg("%s: got '%.*s' (%s), want '%s'", #slice,   \
				 (int)s_.len, s_.p ? s_.p : "",              \
				 s_.p ? "present" : "absent", (lit));        \
	} while (0)

#define assert_absent(slice) assert_null((slice).p)

/* Read a whole file into a malloc'd buffer. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
	return buf;
}

/* Parse tests/unit/sip_msgs/@name; the buffer is returned for freeing. */
static char *parse_file(struct sip_msg *m, const char *name, int want)
{
	char path[256];
	size_t len = 0;
	char *buf;
	int r;

	snprintf(path, sizeof(path), MSG_DIR "%s", name);
	buf = slurp(path, &len);
	if (!buf)
		fail_msg("cannot read %s", path);
	r = sip_msg_parse(m, buf, len, SIP_DATAGRAM, NULL);
	if (r != want)
		fail_msg("%s: parse %d (%s), want %d", name, r,
			 r ? m->error_reason : "ok", want);
	return buf;
}

/* Parse a URI given as a C string. */
static int uri_c(struct sip_uri *u, const char *s)
{
	return sip_uri_parse(u, s, strlen(s));
}

/* A small request with the five mandatory headers, @extra spliced in. */
static char *build_msg(char *out, size_t cap, const char *start_line,
		       const char *extra)
{
	snprintf(out, cap,
		 "%s\r\n"
		 "Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n"
		 "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
		 "To: Bob <sip:bob@example.com>\r\n"
		 "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
		 "CSeq: 314159 INVITE\r\n"
		 "%s"
		 "Content-Length: 0\r\n\r\n",
		 start_line, extra);
	return out;
}

static const char invite_800[] =
	"INVITE sip:bob@biloxi.example.com;transport=udp SIP/2.0\r\n"
	"Via: SIP/2.0/UDP pc33.atlanta.example.com:5066;rport;branch=z9hG4bK776asdhds\r\n"
	"Max-Forwards: 70\r\n"
	"To: Bob <sip:bob@biloxi.example.com>\r\n"
	"From: \"Alice Liddell\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
	"CSeq: 314159 INVITE\r\n"
	"Contact: <sip:alice@pc33.atlanta.example.com;ob>\r\n"
	"Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, UPDATE\r\n"
	"Supported: replaces, timer\r\n"
	"User-Agent: Atlanta-Softphone/1.2.3\r\n"
	"Content-Type: application/sdp\r\n"
	"Content-Length: 127\r\n"
	"\r\n"
	"v=0\r\n"
	"o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.101\r\n"
	"t=0 0\r\n"
	"m=audio 49172 RTP/AVP 0\r\n";

/* --- well-formed messages ----------------------------------------------------- */

static void test_basic_invite(void **state)
{
	struct sip_msg m;
	struct sip_str v;
	size_t consumed = 0;

	assert_int_equal(sip_msg_parse(&m, invite_800, strlen(invite_800),
				       SIP_DATAGRAM, &consumed), 0);
	assert_int_equal(consumed, strlen(invite_800));
	assert_true(m.is_request);
	assert_int_equal(m.method, SIP_METHOD_INVITE);
	assert_str(m.method_str, "INVITE");
	assert_str(m.ruri_str, "sip:bob@biloxi.example.com;transport=udp");
	assert_int_equal(m.ruri.type, SIP_SCHEME_SIP);
	assert_str(m.ruri.user, "bob");
	assert_str(m.ruri.host, "biloxi.example.com");
	assert_int_equal(m.ruri.host_type, SIP_HOST_DOMAIN);
	assert_false(m.ruri.has_port);
	assert_str(m.ruri.transport, "udp");
	assert_str(m.version, "SIP/2.0");

	assert_int_equal(m.n_via, 1);
	assert_int_equal(m.via.transport, SIP_TP_UDP);
	assert_str(m.via.host, "pc33.atlanta.example.com");
	assert_true(m.via.has_port);
	assert_int_equal(m.via.port, 5066);
	assert_str(m.via.branch, "z9hG4bK776asdhds");
	assert_str(m.via.rport, "");		/* present, no value */
	assert_false(m.via.has_rport_value);
	assert_absent(m.via.received);

	assert_str(m.from.display, "Alice Liddell");
	assert_str(m.from.uri, "sip:alice@atlanta.example.com");
	assert_str(m.from.tag, "1928301774");
	assert_str(m.from_uri.user, "alice");
	assert_str(m.to.display, "Bob");
	assert_absent(m.to.tag);
	assert_str(m.to_uri.host, "biloxi.example.com");
	assert_str(m.call_id, "a84b4c76e66710@pc33.atlanta.example.com");
	assert_int_equal(m.cseq.num, 314159);
	assert_int_equal(m.cseq.method, SIP_METHOD_INVITE);
	assert_int_equal(m.max_forwards, 70);
	assert_int_equal(m.n_contact, 1);
	assert_str(m.contact.uri, "sip:alice@pc33.atlanta.example.com;ob");
	assert_int_equal(m.n_route, 0);
	assert_absent(m.route.raw);
	assert_true(m.has_content_length);
	assert_int_equal(m.content_length, 127);
	assert_int_equal(m.body.len, 127);
	assert_memory_equal(m.body.p, "v=0\r\n", 5);
	assert_int_equal(m.hdr_count, 12);
	assert_int_equal(m.error, SIP_ERR_NONE);

	assert_non_null(sip_msg_hdr(&m, SIP_HDR_USER_AGENT));
	assert_str(sip_msg_hdr(&m, SIP_HDR_SUPPORTED)->value, "replaces, timer");
	assert_int_equal(sip_param_find(m.via.params, "branch", &v), 0);
	assert_str(v, "z9hG4bK776asdhds");
	assert_int_equal(sip_param_find(m.via.params, "nope", &v), -ENOENT);
}

static void test_response(void **state)
{
	static const char resp[] =
		"SIP/2.0 180 Ringing, really\r\n"
		"Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa, SIP/2.0/TCP 10.0.0.2:5070;branch=z9hG4bKb\r\n"
		"From: <sip:a@10.0.0.1>;tag=1\r\n"
		"To: <sip:b@10.0.0.9>;tag=2\r\n"
		"Call-ID: r1\r\n"
		"CSeq: 7 INVITE\r\n"
		"Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char noreason[] =
		"SIP/2.0 100 \r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n"
		"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: nr\r\n"
		"CSeq: 1 OPTIONS\r\nl: 0\r\n\r\n";
	struct sip_msg m;

	assert_int_equal(parse_dg(&m, resp), 0);
	assert_false(m.is_request);
	assert_int_equal(m.status, 180);
	assert_str(m.reason, "Ringing, really");
	assert_int_equal(m.cseq.method, SIP_METHOD_INVITE);
	assert_int_equal(m.n_via, 2);
	assert_str(m.via.host, "10.0.0.1");
	assert_int_equal(m.via.host_type, SIP_HOST_IPV4);
	assert_int_equal(m.n_record_route, 2);
	assert_str(m.record_route.uri, "sip:p1.example.com;lr");
	assert_int_equal(m.max_forwards, -1);

	assert_int_equal(parse_dg(&m, noreason), 0);
	assert_int_equal(m.status, 100);
	assert_str(m.reason, "");
}

static void test_compact_forms(void **state)
{
	static const char msg[] =
		"SUBSCRIBE sip:pres@example.com SIP/2.0\r\n"
		"v: SIP/2.0/UDP h.example.com;branch=z9hG4bKc1\r\n"
		"f: <sip:w@example.com>;tag=ff\r\n"
		"t: <sip:pres@example.com>\r\n"
		"i: compact-1\r\n"
		"CSeq: 1 SUBSCRIBE\r\n"
		"m: <sip:w@h.example.com>\r\n"
		"c: text/plain\r\n"
		"k: timer\r\n"
		"s: hello\r\n"
		"e: gzip\r\n"
		"o: presence\r\n"
		"r: <sip:x@example.com>\r\n"
		"u: dialog\r\n"
		"x: 1800;refresher=uac\r\n"
		"l: 3\r\n\r\nabc";
	static const struct {
		const char *name;
		enum sip_hdr_id id;
	} forms[] = {
		{ "i", SIP_HDR_CALL_ID }, { "f", SIP_HDR_FROM },
		{ "t", SIP_HDR_TO }, { "v", SIP_HDR_VIA },
		{ "m", SIP_HDR_CONTACT }, { "l", SIP_HDR_CONTENT_LENGTH },
		{ "c", SIP_HDR_CONTENT_TYPE }, { "k", SIP_HDR_SUPPORTED },
		{ "s", SIP_HDR_SUBJECT }, { "e", SIP_HDR_CONTENT_ENCODING },
		{ "o", SIP_HDR_EVENT }, { "r", SIP_HDR_REFER_TO },
		{ "u", SIP_HDR_ALLOW_EVENTS }, { "x", SIP_HDR_SESSION_EXPIRES },
		{ "I", SIP_HDR_CALL_ID }, { "V", SIP_HDR_VIA },
		{ "z", SIP_HDR_OTHER },
	};
	struct sip_msg m;

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		assert_int_equal(sip_hdr_id_from_name(forms[i].name, 1),
				 forms[i].id);
	assert_int_equal(parse_dg(&m, msg), 0);
	assert_str(m.call_id, "compact-1");
	assert_str(m.from.tag, "ff");
	assert_str(m.via.branch, "z9hG4bKc1");
	assert_str(m.contact.uri, "sip:w@h.example.com");
	assert_str(m.body, "abc");
	assert_str(sip_msg_hdr(&m, SIP_HDR_SUBJECT)->value, "hello");
	assert_str(sip_msg_hdr(&m, SIP_HDR_EVENT)->value, "presence");
	assert_str(sip_msg_hdr(&m, SIP_HDR_SESSION_EXPIRES)->value,
		   "1800;refresher=uac");
	assert_str(sip_msg_hdr(&m, SIP_HDR_SESSION_EXPIRES)->name, "x");
	assert_str(sip_msg_hdr_by_name(&m, "Content-Type")->value, "text/plain");
	assert_str(sip_msg_hdr_by_name(&m, "ALLOW-EVENTS")->value, "dialog");
}

static void test_header_names(void **state)
{
	static const char msg[] =
		"OPTIONS sip:o@example.com SIP/2.0\r\n"
		"VIA: SIP/2.0/UDP h.example.com;branch=z9hG4bKn1\r\n"
		"fRoM: <sip:a@example.com>;tag=n\r\n"
		"tO: <sip:o@example.com>\r\n"
		"cALL-iD: names-1\r\n"
		"cseq: 4 OPTIONS\r\n"
		"X-Custom: one\r\n"
		"x-custom: two\r\n"
		"P-Asserted-Identity: <sip:a@example.com>\r\n"
		"CONTENT-LENGTH: 0\r\n\r\n";
	static const char *const names[] = {
		"Via", "From", "To", "Call-ID", "CSeq", "Contact", "Route",
		"Record-Route", "Max-Forwards", "Content-Length", "Supported",
		"Session-Expires", "WWW-Authenticate", "Proxy-Authorization",
		"Subscription-State", "Content-Disposition", "Min-SE", "RAck",
	};
	struct sip_msg m;
	const struct sip_hdr *h;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		enum sip_hdr_id id = sip_hdr_id_from_name(names[i],
							  strlen(names[i]));

		assert_int_not_equal(id, SIP_HDR_OTHER);
		assert_string_equal(sip_hdr_name(id), names[i]);
	}
	assert_int_equal(sip_hdr_id_from_name("Vias", 4), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_id_from_name("Vi", 2), SIP_HDR_OTHER);
	assert_int_equal(parse_dg(&m, msg), 0);
	assert_str(m.call_id, "names-1");
	assert_int_equal(m.cseq.num, 4);
	h = sip_msg_hdr_by_name(&m, "X-CUSTOM");
	assert_non_null(h);
	assert_str(h->value, "one");
	h = sip_msg_hdr(&m, SIP_HDR_OTHER);
	assert_str(h->name, "X-Custom");
	h = sip_msg_hdr_next(&m, h);
	assert_str(h->value, "two");
	assert_null(sip_msg_hdr_next(&m, h));
	assert_non_null(sip_msg_hdr(&m, SIP_HDR_P_ASSERTED_IDENTITY));
	assert_null(sip_msg_hdr_by_name(&m, "X-Missing"));
}

static void test_torture_ws(void **state)
{
	struct sip_msg m;
	struct sip_value_iter it;
	struct sip_via via;
	struct sip_nameaddr na;
	struct sip_str v;
	const struct sip_hdr *h;
	char *buf = parse_file(&m, "torture_ws.sip", 0);

	assert_str(m.ruri.params, "lonelyparam");
	assert_str(m.to.uri, "sip:carol.w@lab-7.example.net");
	assert_false(m.to.bracketed);
	assert_str(m.to.tag, "77aa21x");
	assert_str(m.from.display, "Dr. \\\"Q\\\" Quincy \\\\");
	assert_str(m.from.tag, "0042zz");
	assert_int_equal(m.max_forwards, 52);
	assert_int_equal(m.cseq.num, 17);
	assert_int_equal(m.cseq.method, SIP_METHOD_INVITE);

	assert_int_equal(m.n_via, 3);
	assert_str(m.via.proto_name, "SIP");
	assert_str(m.via.proto_version, "2.0");
	assert_int_equal(m.via.transport, SIP_TP_UDP);
	assert_str(m.via.host, "192.0.2.44");
	assert_str(m.via.rport, "");
	assert_str(m.via.branch, "z9hG4bKws11x");
	sip_value_iter_init(&it, &m, SIP_HDR_VIA);
	assert_int_equal(sip_value_next_via(&it, &via), 1);
	assert_int_equal(sip_value_next_via(&it, &via), 1);
	assert_int_equal(via.transport, SIP_TP_TCP);
	assert_str(via.host, "relay2.example.net");
	assert_str(via.branch, "z9hG4bK2bc4");
	assert_int_equal(sip_value_next_via(&it, &via), 1);
	assert_str(via.host, "192.0.2.88");
	assert_str(via.branch, "z9hG4bK8d0e");
	assert_int_equal(sip_value_next_via(&it, &via), 0);

	assert_str(m.route.uri, "sip:relay.example.net;lr;mystery=v;bare-flag");
	assert_str(m.contact.display, "Quoted \\\"\\\"");
	assert_int_equal(sip_param_find(m.contact.params, "xparam", &v), 0);
	assert_str(v, "xvalue");
	assert_int_equal(sip_param_find(m.contact.params, "yparam", &v), 0);
	assert_str(v, "");
	assert_int_equal(sip_param_find(m.contact.params, "Q", &v), 0);
	assert_str(v, "0.5");

	h = sip_msg_hdr_by_name(&m, "newgizmoheader");
	assert_non_null(h);
	assert_true(h->value.len > 30);
	assert_memory_equal(h->value.p, "a gizmo value\r\n", 15);
	h = sip_msg_hdr_by_name(&m, "OddHeaderWithStrangeValue");
	assert_str(h->value, ";;,,;;,;");
	assert_int_equal(m.body.len, m.content_length);
	assert_memory_equal(m.body.p, "v=0\r\n", 5);

	sip_value_iter_init(&it, &m, SIP_HDR_CONTACT);
	assert_int_equal(sip_value_next_addr(&it, &na), 1);
	assert_str(na.uri, "sip:quincy@q.example.org");
	assert_int_equal(sip_value_next_addr(&it, &na), 0);
	free(buf);
}

static void test_torture_method(void **state)
{
	struct sip_msg m;
	char *buf = parse_file(&m, "torture_method.sip", 0);

	assert_int_equal(m.method, SIP_METHOD_OTHER);
	assert_str(m.method_str, "!odd-Method_9*+`.%yes'~");
	assert_int_equal(m.cseq.method, SIP_METHOD_OTHER);
	assert_str(m.ruri.user, "2_odd.name~(ok!)&why+not$/mad?,/;;*");
	assert_str(m.ruri.password, "&pw+is=2,odd!*pa$s~_w.(yes)");
	assert_str(m.ruri.host, "example.com");
	assert_absent(m.ruri.params);
	assert_str(m.to_uri.user, "2_odd.name~(ok!)&why+not$/mad?,/;;*");
	assert_int_equal(m.via.transport, SIP_TP_TCP);
	free(buf);
}

static void test_torture_escaped(void **state)
{
	struct sip_msg m;
	struct sip_uri u;
	struct sip_str v;
	char *buf = parse_file(&m, "torture_escaped.sip", 0);

	assert_int_equal(m.method, SIP_METHOD_OTHER);	/* not REGISTER */
	assert_str(m.method_str, "RE%47IST%45R");
	assert_str(m.to.display, "%Z%45");
	assert_str(m.to_uri.user, "sips%3Auser%40example.com");
	assert_str(m.to_uri.host, "example.net");
	assert_str(m.from_uri.user, "%61lice");
	assert_str(m.from_uri.params, "%6C%72");
	assert_false(m.from_uri.lr);		/* escaped: not "lr" textually */
	assert_int_equal(sip_uri_parse(&u, m.contact.uri.p, m.contact.uri.len),
			 0);
	assert_str(u.user, "cal%6Cer");
	assert_str(u.params, "%6C%72;n%61me=v%61lue%25%34%31");
	assert_str(u.headers, "Subject=hi%20there&X-Y=z");
	assert_int_equal(sip_uri_header(&u, "subject", &v), 0);
	assert_str(v, "hi%20there");
	assert_int_equal(sip_uri_header(&u, "X-Y", &v), 0);
	assert_str(v, "z");
	assert_int_equal(sip_uri_header(&u, "Nope", &v), -ENOENT);
	free(buf);
}

static void test_torture_ipv6(void **state)
{
	struct sip_msg m;
	struct sip_value_iter it;
	struct sip_nameaddr na;
	struct sip_via via;
	struct sip_uri u;
	char *buf = parse_file(&m, "torture_ipv6.sip", 0);

	assert_int_equal(m.ruri.host_type, SIP_HOST_IPV6);
	assert_str(m.ruri.host, "2001:db8::10");
	assert_int_equal(m.ruri.port, 5070);
	assert_str(m.ruri.transport, "tcp");
	assert_int_equal(m.via.host_type, SIP_HOST_IPV6);
	assert_str(m.via.host, "2001:db8::9:1");
	assert_int_equal(m.via.port, 5061);
	assert_str(m.via.received, "[2001:db8::9:255]");
	assert_true(m.via.has_rport_value);
	assert_int_equal(m.via.rport_value, 40001);
	sip_value_iter_init(&it, &m, SIP_HDR_VIA);
	assert_int_equal(sip_value_next_via(&it, &via), 1);
	assert_int_equal(sip_value_next_via(&it, &via), 1);
	assert_str(via.host, "::ffff:192.0.2.7");
	assert_false(via.has_port);

	assert_int_equal(m.n_route, 2);
	sip_value_iter_init(&it, &m, SIP_HDR_ROUTE);
	assert_int_equal(sip_value_next_addr(&it, &na), 1);
	assert_int_equal(sip_uri_parse(&u, na.uri.p, na.uri.len), 0);
	assert_true(u.lr);
	assert_str(u.host, "2001:db8::1");
	assert_int_equal(sip_value_next_addr(&it, &na), 1);
	assert_int_equal(sip_uri_parse(&u, na.uri.p, na.uri.len), 0);
	assert_int_equal(u.type, SIP_SCHEME_SIPS);
	assert_str(u.user, "bob");
	assert_int_equal(u.port, 5061);
	assert_str(u.maddr, "[2001:db8::3]");
	assert_int_equal(sip_value_next_addr(&it, &na), 0);

	assert_str(m.to.uri, "sip:[2001:db8::10]:5070");
	assert_int_equal(m.to_uri.port, 5070);
	assert_str(m.from_uri.host, "2001:db8::9:1");
	assert_str(m.contact.display, "Fanny v6");
	free(buf);
}

static void test_torture_tel(void **state)
{
	struct sip_msg m;
	struct sip_str v;
	char *buf = parse_file(&m, "torture_tel.sip", 0);

	assert_int_equal(m.ruri.type, SIP_SCHEME_TEL);
	assert_str(m.ruri.user, "+1-201-555-0123");
	assert_int_equal(m.ruri.host_type, SIP_HOST_NONE);
	assert_int_equal(sip_uri_param(&m.ruri, "ext", &v), 0);
	assert_str(v, "4567");
	assert_int_equal(sip_uri_param(&m.ruri, "phone-context", &v), 0);
	assert_str(v, "+1");
	/* Bare addr-spec: the parameters belong to the header. */
	assert_str(m.to.uri, "tel:7042");
	assert_str(m.to.tag, "tt9");
	assert_int_equal(sip_param_find(m.to.params, "phone-context", &v), 0);
	assert_str(v, "example.com");
	assert_str(m.to_uri.user, "7042");
	assert_str(m.from_uri.user, "+44(20)7946-0000");
	assert_int_equal(m.via.transport, SIP_TP_SCTP);
	assert_int_equal(m.content_length, 0);
	free(buf);
}

static void test_lf_only(void **state)
{
	struct sip_msg m;
	char *buf = parse_file(&m, "torture_lf_only.sip", 0);

	assert_int_equal(m.method, SIP_METHOD_BYE);
	assert_str(m.via.received, "192.0.2.1");
	assert_int_equal(m.via.rport_value, 5062);
	assert_str(m.to.tag, "b1");
	assert_str(m.call_id, "lf-only@a.example.com");
	assert_str(m.body, "bye!");
	free(buf);
}

static void test_multi_values(void **state)
{
	struct sip_msg m;
	struct sip_value_iter it;
	struct sip_nameaddr na;
	struct sip_str v;
	char *buf = parse_file(&m, "torture_multi.sip", 0);

	assert_int_equal(m.method, SIP_METHOD_REGISTER);
	assert_int_equal(m.n_via, 2);
	assert_int_equal(m.via.transport, SIP_TP_TLS);
	assert_str(m.from.display, "Smith, John");
	assert_int_equal(m.n_contact, 4);

	sip_value_iter_init(&it, &m, SIP_HDR_CONTACT);
	assert_int_equal(sip_value_next_addr(&it, &na), 1);
	assert_str(na.display, "Smith, John (desk)");
	assert_str(na.uri, "sip:john@192.0.2.5;transport=udp");
	assert_int_equal(sip_param_find(na.params, "expires", &v), 0);
	assert_str(v, "600");
	assert_int_equal(sip_value_next_addr(&it, &na), 1);
	assert_str(na.uri, "sip:john,backup@192.0.2.6");
	assert_int_equal(sip_value_next_addr(&it, &na), 1);
	assert_false(na.bracketed);
	assert_str(na.uri, "sip:john@192.0.2.7");
	assert_str(na.params, ";expires=30");
	assert_int_equal(sip_value_next_addr(&it, &na), 1);
	assert_int_equal(sip_param_find(na.params, "+sip.instance", &v), 0);
	assert_str(v, "\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\"");
	assert_int_equal(sip_value_next_addr(&it, &na), 0);

	/* Raw values, split only at top-level commas. */
	sip_value_iter_init(&it, &m, SIP_HDR_CONTACT);
	assert_int_equal(sip_value_next(&it, &v), 1);
	assert_str(v, "\"Smith, John (desk)\" <sip:john@192.0.2.5;transport=udp>;q=0.9;expires=600");
	free(buf);
}

static void test_list_split(void **state)
{
	struct sip_str rest = sip_str_c(
		" <sip:a,b@x;lr>, \"q,\\\"uo,te\" <sip:c@y> ,,sip:d@z ;p=\"1,2\",  ");
	struct sip_str v;

	assert_int_equal(sip_list_next(&rest, &v), 1);
	assert_str(v, "<sip:a,b@x;lr>");
	assert_int_equal(sip_list_next(&rest, &v), 1);
	assert_str(v, "\"q,\\\"uo,te\" <sip:c@y>");
	assert_int_equal(sip_list_next(&rest, &v), 1);
	assert_str(v, "sip:d@z ;p=\"1,2\"");
	assert_int_equal(sip_list_next(&rest, &v), 0);

	rest = sip_str_c("<sip:a@b>, <sip:c@d");
	assert_int_equal(sip_list_next(&rest, &v), 1);
	assert_int_equal(sip_list_next(&rest, &v), -EBADMSG);
	rest = sip_str_c("\"open <sip:c@d>");
	assert_int_equal(sip_list_next(&rest, &v), -EBADMSG);
}

static void test_nameaddr(void **state)
{
	static const struct {
		const char *in;
		unsigned int flags;
		int ret;
		const char *display, *uri, *tag;
	} cases[] = {
		{ "\"A, B\" <sip:a@b>;tag=x", 0, 0, "A, B", "sip:a@b", "x" },
		{ "Bob Smith <sip:b@c;lr>;tag=7", 0, 0, "Bob Smith", "sip:b@c;lr", "7" },
		{ "<sip:b@c;transport=tcp>;tag=t1", 0, 0, NULL, "sip:b@c;transport=tcp", "t1" },
		{ "sip:b@c;transport=tcp;tag=t2", 0, 0, NULL, "sip:b@c", "t2" },
		{ "sip:b@c ; tag = t3 ", 0, 0, NULL, "sip:b@c", "t3" },
		{ "\"\" <sip:b@c>", 0, 0, "", "sip:b@c", NULL },
		{ "*", SIP_NA_ALLOW_STAR, 0, NULL, NULL, NULL },
		{ "*", 0, -EINVAL, NULL, NULL, NULL },
		{ "sip:r@c;lr", SIP_NA_NEED_BRACKETS, -EINVAL, NULL, NULL, NULL },
		{ "<sip:r@c;lr>", SIP_NA_NEED_BRACKETS, 0, NULL, "sip:r@c;lr", NULL },
		{ "Bell, Alexander <sip:a@b>", 0, -EINVAL, NULL, NULL, NULL },
		{ "<sip:a@b", 0, -EINVAL, NULL, NULL, NULL },
		{ "\"open <sip:a@b>", 0, -EINVAL, NULL, NULL, NULL },
		{ "<sip:a@b> junk", 0, -EINVAL, NULL, NULL, NULL },
		{ "<sip:a@b>;tag", 0, -EINVAL, NULL, NULL, NULL },
		{ "<sip:a@b>;=x", 0, -EINVAL, NULL, NULL, NULL },
		{ "<sip:a @b>", 0, -EINVAL, NULL, NULL, NULL },
		{ "sip:a@b?subject=x", 0, -EINVAL, NULL, NULL, NULL },
		{ "nocolon", 0, -EINVAL, NULL, NULL, NULL },
		{ "", 0, -EINVAL, NULL, NULL, NULL },
		{ "<>", 0, -EINVAL, NULL, NULL, NULL },
	};
	struct sip_nameaddr na;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = sip_nameaddr_parse(&na, cases[i].in,
					   strlen(cases[i].in), cases[i].flags);

		if (r != cases[i].ret)
			fail_msg("'%s': %d, want %d", cases[i].in, r,
				 cases[i].ret);
		if (r)
			continue;
		if (cases[i].display)
			assert_str(na.display, cases[i].display);
		else
			assert_absent(na.display);
		if (cases[i].uri)
			assert_str(na.uri, cases[i].uri);
		if (cases[i].tag)
			assert_str(na.tag, cases[i].tag);
		else
			assert_absent(na.tag);
	}
	assert_int_equal(sip_nameaddr_parse(&na, "*", 1, SIP_NA_ALLOW_STAR), 0);
	assert_true(na.star);
}

static void test_via(void **state)
{
	static const struct {
		const char *in;
		int ret;
		enum sip_transport tp;
		const char *host;
		int port;
	} cases[] = {
		{ "SIP/2.0/UDP h.example.com", 0, SIP_TP_UDP, "h.example.com", -1 },
		{ "SIP/2.0/tcp 10.1.2.3:5070;branch=z9hG4bK1", 0, SIP_TP_TCP, "10.1.2.3", 5070 },
		{ "SIP / 2.0 / TLS h : 5061 ; branch = z9hG4bK2", 0, SIP_TP_TLS, "h", 5061 },
		{ "SIP/2.0/WSS df7jal23ls0d.invalid;rport;branch=z9hG4bK3", 0, SIP_TP_WSS, "df7jal23ls0d.invalid", -1 },
		{ "SIP/2.0/WS [2001:db8::1]:80", 0, SIP_TP_WS, "2001:db8::1", 80 },
		{ "SIP/2.0/FOO h", 0, SIP_TP_OTHER, "h", -1 },
		{ "SIP/2.0/UDP", -EINVAL, 0, NULL, 0 },
		{ "SIP/2.0 h", -EINVAL, 0, NULL, 0 },
		{ "SIP/2.0/UDPh", -EINVAL, 0, NULL, 0 },
		{ "SIP/2.0/UDP h:99999", -EINVAL, 0, NULL, 0 },
		{ "SIP/2.0/UDP h:", -EINVAL, 0, NULL, 0 },
		{ "SIP/2.0/UDP [2001:db8::1", -EINVAL, 0, NULL, 0 },
		{ "SIP/2.0/UDP [zz::1]", -EINVAL, 0, NULL, 0 },
		{ "SIP/2.0/UDP 1.2.3.256", -EINVAL, 0, NULL, 0 },
		{ "SIP/2.0/UDP h;rport=x", -EINVAL, 0, NULL, 0 },
		{ "SIP/2.0/UDP h;branch=", -EINVAL, 0, NULL, 0 },
		{ "SIP/2.0/UDP h junk", -EINVAL, 0, NULL, 0 },
		{ "", -EINVAL, 0, NULL, 0 },
	};
	static const char full[] =
		"SIP/2.0/UDP h;received=192.0.2.9;rport=6000;"
		"maddr=239.1.1.1;ttl=1;branch=z9hG4bKx";
	struct sip_via v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = sip_via_parse(&v, cases[i].in, strlen(cases[i].in));

		if (r != cases[i].ret)
			fail_msg("'%s': %d, want %d", cases[i].in, r,
				 cases[i].ret);
		if (r)
			continue;
		assert_int_equal(v.transport, cases[i].tp);
		assert_str(v.host, cases[i].host);
		assert_int_equal(v.has_port, cases[i].port >= 0);
		if (cases[i].port >= 0)
			assert_int_equal(v.port, cases[i].port);
	}
	assert_int_equal(sip_via_parse(&v, full, strlen(full)), 0);
	assert_str(v.received, "192.0.2.9");
	assert_true(v.has_rport_value);
	assert_int_equal(v.rport_value, 6000);
	assert_str(v.maddr, "239.1.1.1");
	assert_str(v.branch, "z9hG4bKx");
	assert_str(v.params, ";received=192.0.2.9;rport=6000;maddr=239.1.1.1;ttl=1;branch=z9hG4bKx");
}

static void test_uri(void **state)
{
	struct sip_uri u;
	struct sip_str v;

	assert_int_equal(uri_c(&u, "sip:alice:secretword@atlanta.com;transport=tcp"), 0);
	assert_int_equal(u.type, SIP_SCHEME_SIP);
	assert_str(u.user, "alice");
	assert_str(u.password, "secretword");
	assert_str(u.host, "atlanta.com");
	assert_str(u.transport, "tcp");

	assert_int_equal(uri_c(&u, "SIPS:alice@atlanta.com?subject=project%20x&priority=urgent"), 0);
	assert_int_equal(u.type, SIP_SCHEME_SIPS);
	assert_str(u.scheme, "SIPS");
	assert_str(u.headers, "subject=project%20x&priority=urgent");
	assert_int_equal(sip_uri_header(&u, "priority", &v), 0);
	assert_str(v, "urgent");

	assert_int_equal(uri_c(&u, "sip:+1-212-555-1212:1234@gateway.com;user=phone"), 0);
	assert_str(u.user, "+1-212-555-1212");
	assert_str(u.password, "1234");
	assert_str(u.user_param, "phone");

	assert_int_equal(uri_c(&u, "sip:alice;day=tuesday@atlanta.com"), 0);
	assert_str(u.user, "alice;day=tuesday");
	assert_str(u.host, "atlanta.com");
	assert_absent(u.params);

	assert_int_equal(uri_c(&u, "sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com"), 0);
	assert_absent(u.user);
	assert_int_equal(sip_uri_param(&u, "METHOD", &v), 0);
	assert_str(v, "REGISTER");

	assert_int_equal(uri_c(&u, "sip:192.0.2.4:5060;lr;maddr=239.255.255.1;ttl=15"), 0);
	assert_int_equal(u.host_type, SIP_HOST_IPV4);
	assert_int_equal(u.port, 5060);
	assert_true(u.lr);
	assert_str(u.maddr, "239.255.255.1");
	assert_int_equal(sip_uri_param(&u, "lr", &v), 0);
	assert_str(v, "");
	assert_int_equal(sip_uri_param(&u, "l", &v), -ENOENT);
	assert_int_equal(sip_uri_param(&u, "ttl", NULL), 0);

	assert_int_equal(uri_c(&u, "sip:user:@host"), 0);	/* empty password */
	assert_str(u.password, "");
	assert_int_equal(uri_c(&u, "sip:[::1]"), 0);
	assert_int_equal(u.host_type, SIP_HOST_IPV6);
	assert_int_equal(uri_c(&u, "sip:host.example.com.:5"), 0);

	assert_int_equal(uri_c(&u, "tel:+358-555-1234567;postd=pp22"), 0);
	assert_int_equal(u.type, SIP_SCHEME_TEL);
	assert_int_equal(uri_c(&u, "tel:863-1234;phone-context=+1-914-555"), 0);
	assert_int_equal(uri_c(&u, "tel:*21#"), 0);

	assert_int_equal(uri_c(&u, "soap.beep://192.0.2.103:3002"), 0);
	assert_int_equal(u.type, SIP_SCHEME_OTHER);
	assert_str(u.rest, "//192.0.2.103:3002");
	assert_int_equal(uri_c(&u, "mailto:someone%40example.com"), 0);
	assert_int_equal(uri_c(&u, "urn:service:sos"), 0);
}

static void test_uri_bad(void **state)
{
	static const char *const bad[] = {
		"", "sip:", "sip:@host", "sip:user@", "sip:host:", "sip:host:65536",
		"sip:host:5x", "sip:[2001:db8::1", "sip:2001:db8::1",
		"sip:[2001:db8::1]x", "sip:ho st", "sip:host;", "sip:host;=x",
		"sip:host?", "sip:us%g4r@host", "sip:user@host;a=%G1",
		"sip:user@-host", "sip:user@.host", "sip:1.2.3", "sip:1.2.3.4.5",
		"sip:300.1.1.1", "sip:host>", "<sip:host>", "sip:us\"er@host",
		"tel:", "tel:+", "tel:abc@x", "tel:+1;", "tel:123?x=y",
		"1sip:host", "sip host", ":foo", "x:", "http://a b",
		"sip:a@[::1]:", "sip:a:b:c@host>",
	};
	struct sip_uri u;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (uri_c(&u, bad[i]) != -EINVAL)
			fail_msg("'%s' should not parse", bad[i]);
}

/* --- malformed input ------------------------------------------------------- */

struct bad_case {
	const char *name;
	const char *msg;		/* NULL: built from start + extra */
	const char *start, *extra;
	enum sip_error err;
	bool answerable;
};

#define HDRS                                                           \
	"Via: SIP/2.0/UDP h.example.com;branch=z9hG4bKq\r\n"            \
	"From: <sip:a@example.com>;tag=1\r\n"                           \
	"To: <sip:b@example.com>\r\n"                                   \
	"Call-ID: c1\r\n"

static const struct bad_case bad_cases[] = {
	{ "start line garbage", "GARBAGE\r\n" HDRS "CSeq: 1 X\r\n\r\n", NULL,
	  NULL, SIP_ERR_START_LINE, false },
	{ "no request-uri", "INVITE\r\n" HDRS "\r\n", NULL, NULL,
	  SIP_ERR_START_LINE, false },
	/* Request-shaped lines with a defect: answered by the top Via. */
	{ "no version", "INVITE sip:a@b\r\n" HDRS "\r\n", NULL, NULL,
	  SIP_ERR_START_LINE, true },
	{ "tab in request line", "INVITE\tsip:a@b SIP/2.0\r\n" HDRS "\r\n",
	  NULL, NULL, SIP_ERR_START_LINE, true },
	{ "tab before the version", "INVITE sip:a@b\tSIP/2.0\r\n" HDRS "\r\n",
	  NULL, NULL, SIP_ERR_START_LINE, true },
	{ "bare CR in start line", "INVITE sip:a@b\rX SIP/2.0\r\n" HDRS "\r\n",
	  NULL, NULL, SIP_ERR_START_LINE, false },
	{ "ruri in brackets", NULL, "INVITE <sip:bob@example.com> SIP/2.0", "",
	  SIP_ERR_RURI, true },
	{ "ruri embedded LWS", NULL, "INVITE sip:bob@example.com; lr SIP/2.0",
	  "", SIP_ERR_VERSION, true },
	{ "ruri bad host", NULL, "INVITE sip:bob@exa<mple.com SIP/2.0", "",
	  SIP_ERR_RURI, true },
	{ "version 7.0", NULL, "INVITE sip:bob@example.com SIP/7.0", "",
	  SIP_ERR_VERSION_UNSUPPORTED, true },
	{ "version garbage", NULL, "INVITE sip:bob@example.com SIP/2.x", "",
	  SIP_ERR_VERSION, true },
	{ "version http", NULL, "INVITE sip:bob@example.com HTTP/1.1", "",
	  SIP_ERR_VERSION, true },
	{ "response version", "SIP/3.0 200 OK\r\n" HDRS "\r\n", NULL, NULL,
	  SIP_ERR_VERSION_UNSUPPORTED, false },
	{ "response bad version", "SIP/2 200 OK\r\n" HDRS "\r\n", NULL, NULL,
	  SIP_ERR_VERSION, false },
	{ "status 99", "SIP/2.0 99 Low\r\n" HDRS "\r\n", NULL, NULL,
	  SIP_ERR_STATUS, false },
	{ "status 700", "SIP/2.0 700 High\r\n" HDRS "\r\n", NULL, NULL,
	  SIP_ERR_STATUS, false },
	{ "status overlarge", "SIP/2.0 4294967301 Huge\r\n" HDRS "\r\n", NULL,
	  NULL, SIP_ERR_STATUS, false },
	{ "status glued", "SIP/2.0 200OK\r\n" HDRS "\r\n", NULL, NULL,
	  SIP_ERR_STATUS, false },
	{ "status missing", "SIP/2.0\r\n" HDRS "\r\n", NULL, NULL,
	  SIP_ERR_STATUS, false },
	{ "missing Via",
	  "INVITE sip:b@example.com SIP/2.0\r\nFrom: <sip:a@x>;tag=1\r\n"
	  "To: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
	  NULL, NULL, SIP_ERR_NO_VIA, false },
	{ "missing From",
	  "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKm\r\n"
	  "To: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
	  NULL, NULL, SIP_ERR_NO_FROM, true },
	{ "missing To",
	  "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKm\r\n"
	  "From: <sip:a@x>;tag=1\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
	  NULL, NULL, SIP_ERR_NO_TO, true },
	{ "missing Call-ID",
	  "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKm\r\n"
	  "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCSeq: 1 INVITE\r\n\r\n",
	  NULL, NULL, SIP_ERR_NO_CALL_ID, true },
	{ "missing CSeq",
	  "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKm\r\n"
	  "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\n\r\n",
	  NULL, NULL, SIP_ERR_NO_CSEQ, true },
	{ "cseq method mismatch", "OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS
	  "CSeq: 1 INVITE\r\n\r\n", NULL, NULL, SIP_ERR_CSEQ_METHOD, true },
	{ "cseq method case", "INVITE sip:b@example.com SIP/2.0\r\n" HDRS
	  "CSeq: 1 invite\r\n\r\n", NULL, NULL, SIP_ERR_CSEQ_METHOD, true },
	{ "ack cseq mismatch", "ACK sip:b@example.com SIP/2.0\r\n" HDRS
	  "CSeq: 1 INVITE\r\n\r\n", NULL, NULL, SIP_ERR_CSEQ_METHOD, true },
	{ "unknown method mismatch", "NEWMETHOD sip:b@example.com SIP/2.0\r\n"
	  HDRS "CSeq: 1 NEWMETHOD2\r\n\r\n", NULL, NULL, SIP_ERR_CSEQ_METHOD,
	  true },
	{ "cseq 2^31", "INVITE sip:b@example.com SIP/2.0\r\n" HDRS
	  "CSeq: 2147483648 INVITE\r\n\r\n", NULL, NULL, SIP_ERR_CSEQ, true },
	{ "cseq huge", "INVITE sip:b@example.com SIP/2.0\r\n" HDRS
	  "CSeq: 36893488147419103232 INVITE\r\n\r\n", NULL, NULL, SIP_ERR_CSEQ,
	  true },
	{ "cseq negative", "INVITE sip:b@example.com SIP/2.0\r\n" HDRS
	  "CSeq: -1 INVITE\r\n\r\n", NULL, NULL, SIP_ERR_CSEQ, true },
	{ "cseq glued", "INVITE sip:b@example.com SIP/2.0\r\n" HDRS
	  "CSeq: 1INVITE\r\n\r\n", NULL, NULL, SIP_ERR_CSEQ, true },
	{ "cseq no method", "INVITE sip:b@example.com SIP/2.0\r\n" HDRS
	  "CSeq: 1\r\n\r\n", NULL, NULL, SIP_ERR_CSEQ, true },
	{ "cseq trailing", "INVITE sip:b@example.com SIP/2.0\r\n" HDRS
	  "CSeq: 1 INVITE x\r\n\r\n", NULL, NULL, SIP_ERR_CSEQ, true },
	{ "duplicate Content-Length", NULL, "INVITE sip:b@example.com SIP/2.0",
	  "Content-Length: 9999\r\n", SIP_ERR_DUP_HEADER, true },
	{ "content-length too large",
	  "INVITE sip:b@example.com SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n"
	  "Content-Length: 9999\r\n\r\nshort body", NULL, NULL,
	  SIP_ERR_CONTENT_LENGTH_TOO_LARGE, true },
	{ "content-length overflow",
	  "INVITE sip:b@example.com SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n"
	  "l: 99999999999999999999999\r\n\r\n", NULL, NULL,
	  SIP_ERR_CONTENT_LENGTH_TOO_LARGE, true },
	{ "content-length negative",
	  "INVITE sip:b@example.com SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n"
	  "Content-Length: -999\r\n\r\n", NULL, NULL, SIP_ERR_CONTENT_LENGTH,
	  true },
	{ "content-length text",
	  "INVITE sip:b@example.com SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n"
	  "Content-Length: ten\r\n\r\n", NULL, NULL, SIP_ERR_CONTENT_LENGTH,
	  true },
	{ "bare CR in header",
	  "INVITE sip:b@example.com SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n"
	  "Subject: a\rInjected: b\r\n\r\n", NULL, NULL, SIP_ERR_BARE_CR,
	  true },
	{ "bare CR as blank line",
	  "INVITE sip:b@example.com SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n"
	  "\rX\r\n\r\n", NULL, NULL, SIP_ERR_BARE_CR, true },
	/* The line with the bad byte is the top Via: nothing to answer to. */
	{ "bare CR in the top Via",
	  "INVITE sip:b@example.com SIP/2.0\r\n"
	  "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKx\rY\r\n" HDRS
	  "CSeq: 1 INVITE\r\n\r\n", NULL, NULL, SIP_ERR_BARE_CR, false },
	/* RFC 3261 lists have no empty elements; the top Via still answers. */
	{ "via stray semicolon", NULL, "INVITE sip:b@example.com SIP/2.0",
	  "Via: SIP/2.0/UDP h.example.com;;branch=z9hG4bKq\r\n",
	  SIP_ERR_VIA, true },
	{ "top via stray semicolon",
	  "INVITE sip:b@example.com SIP/2.0\r\n"
	  "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKx;;rport\r\n"
	  "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
	  "Call-ID: c1\r\nCSeq: 1 INVITE\r\n\r\n", NULL, NULL, SIP_ERR_VIA,
	  true },
	{ "top via trailing comma",
	  "INVITE sip:b@example.com SIP/2.0\r\n"
	  "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKx,\r\n"
	  "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
	  "Call-ID: c1\r\nCSeq: 1 INVITE\r\n\r\n", NULL, NULL, SIP_ERR_VIA,
	  true },
	{ "top via double comma",
	  "INVITE sip:b@example.com SIP/2.0\r\n"
	  "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bKx,,SIP/2.0/UDP b\r\n"
	  "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
	  "Call-ID: c1\r\nCSeq: 1 INVITE\r\n\r\n", NULL, NULL, SIP_ERR_VIA,
	  true },
	{ "top via no sent-by",
	  "INVITE sip:b@example.com SIP/2.0\r\n"
	  "Via: SIP/2.0/UDP ;branch=z9hG4bKx\r\n"
	  "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
	  "Call-ID: c1\r\nCSeq: 1 INVITE\r\n\r\n", NULL, NULL, SIP_ERR_VIA,
	  false },
	{ "contact stray semicolon", NULL, "INVITE sip:b@example.com SIP/2.0",
	  "Contact: <sip:a@h.example.com>;;expires=1\r\n", SIP_ERR_CONTACT,
	  true },
	{ "contact leading comma", NULL, "INVITE sip:b@example.com SIP/2.0",
	  "Contact: , <sip:a@h.example.com>\r\n", SIP_ERR_CONTACT, true },
	{ "route trailing comma", NULL, "INVITE sip:b@example.com SIP/2.0",
	  "Route: <sip:p.example.com;lr>,\r\n", SIP_ERR_ROUTE, true },
	{ "display name not a token", NULL, "INVITE sip:b@example.com SIP/2.0",
	  "Contact: a@b <sip:a@h.example.com>\r\n", SIP_ERR_CONTACT, true },
	{ "display name with parens",
	  "INVITE sip:b@example.com SIP/2.0\r\n"
	  "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bKq\r\n"
	  "From: Bob (the boss) <sip:a@example.com>;tag=1\r\n"
	  "To: <sip:b@example.com>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\r\n",
	  NULL, NULL, SIP_ERR_FROM, true },
	{ "space inside a bare addr-spec",
	  "INVITE sip:b@example.com SIP/2.0\r\n"
	  "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bKq\r\n"
	  "From: <sip:a@example.com>;tag=1\r\nTo: sip:b @example.com\r\n"
	  "Call-ID: c1\r\nCSeq: 1 INVITE\r\n\r\n", NULL, NULL, SIP_ERR_TO,
	  true },
	{ "header without colon", NULL, "INVITE sip:b@example.com SIP/2.0",
	  "NoColonHere\r\n", SIP_ERR_HEADER_LINE, true },
	{ "header empty name", NULL, "INVITE sip:b@example.com SIP/2.0",
	  ": value\r\n", SIP_ERR_HEADER_LINE, true },
	{ "header bad name", NULL, "INVITE sip:b@example.com SIP/2.0",
	  "Bad Name: value\r\n", SIP_ERR_HEADER_LINE, true },
	{ "unterminated <", NULL, "INVITE sip:b@example.com SIP/2.0",
	  "Contact: <sip:alice@example.com;lr\r\n", SIP_ERR_UNTERMINATED_URI,
	  true },
	{ "unterminated < in From",
	  "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKu\r\n"
	  "From: <sip:a@example.com;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\n"
	  "CSeq: 1 INVITE\r\n\r\n", NULL, NULL, SIP_ERR_UNTERMINATED_URI, true },
	{ "unterminated < in Route", NULL, "INVITE sip:b@example.com SIP/2.0",
	  "Route: <sip:p1;lr>, <sip:p2;lr\r\n", SIP_ERR_UNTERMINATED_URI, true },
	{ "unterminated quote",
	  "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKu\r\n"
	  "From: \"Mr. J. User <sip:a@example.com>;tag=1\r\nTo: <sip:b@x>\r\n"
	  "Call-ID: c\r\nCSeq: 1 INVITE\r\n\r\n", NULL, NULL,
	  SIP_ERR_UNTERMINATED_QUOTE, true },
	{ "display with comma",
	  "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKu\r\n"
	  "From: Bell, Alexander <sip:a.g.bell@example.com>;tag=43\r\n"
	  "To: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n", NULL, NULL,
	  SIP_ERR_FROM, true },
	{ "bad To uri",
	  "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKu\r\n"
	  "From: <sip:a@x>;tag=1\r\nTo: <sip:b@>\r\nCall-ID: c\r\n"
	  "CSeq: 1 INVITE\r\n\r\n", NULL, NULL, SIP_ERR_TO, true },
	{ "bad Via",
	  "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP\r\n"
	  "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\n"
	  "CSeq: 1 INVITE\r\n\r\n", NULL, NULL, SIP_ERR_VIA, false },
	{ "bad second Via", NULL, "INVITE sip:b@example.com SIP/2.0",
	  "Via: SIP/2.0/UDP ok.example.com, garbage\r\n", SIP_ERR_VIA, true },
	{ "empty Via header", NULL, "INVITE sip:b@example.com SIP/2.0",
	  "Via:\r\n", SIP_ERR_VIA, true },
	{ "route without brackets", NULL, "INVITE sip:b@example.com SIP/2.0",
	  "Route: sip:p1.example.com;lr\r\n", SIP_ERR_ROUTE, true },
	{ "record-route garbage", NULL, "INVITE sip:b@example.com SIP/2.0",
	  "Record-Route: <sip:p1;lr> x\r\n", SIP_ERR_RECORD_ROUTE, true },
	{ "contact with ?", NULL, "INVITE sip:example.com SIP/2.0",
	  "Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E\r\n",
	  SIP_ERR_CONTACT, true },
	{ "empty Call-ID",
	  "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKu\r\n"
	  "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID:\r\n"
	  "CSeq: 1 INVITE\r\n\r\n", NULL, NULL, SIP_ERR_CALL_ID, true },
	{ "Call-ID with space",
	  "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKu\r\n"
	  "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: a b\r\n"
	  "CSeq: 1 INVITE\r\n\r\n", NULL, NULL, SIP_ERR_CALL_ID, true },
	{ "duplicate Call-ID", NULL, "INVITE sip:b@example.com SIP/2.0",
	  "i: another\r\n", SIP_ERR_DUP_HEADER, true },
	{ "duplicate To", NULL, "INVITE sip:b@example.com SIP/2.0",
	  "To: <sip:c@example.com>\r\n", SIP_ERR_DUP_HEADER, true },
	{ "duplicate CSeq", NULL, "INVITE sip:b@example.com SIP/2.0",
	  "CSeq: 2 INVITE\r\n", SIP_ERR_DUP_HEADER, true },
	{ "max-forwards 300", NULL, "INVITE sip:b@example.com SIP/2.0",
	  "Max-Forwards: 300\r\n", SIP_ERR_MAX_FORWARDS, true },
	{ "max-forwards text", NULL, "INVITE sip:b@example.com SIP/2.0",
	  "Max-Forwards: seventy\r\n", SIP_ERR_MAX_FORWARDS, true },
	{ "only CRLF", "\r\n\r\n", NULL, NULL, SIP_ERR_EMPTY, false },
	{ "unterminated headers",
	  "INVITE sip:b@example.com SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n",
	  NULL, NULL, SIP_ERR_UNTERMINATED, false },
	{ "no newline at all", "INVITE sip:b@example.com SIP/2.0", NULL, NULL,
	  SIP_ERR_START_LINE, false },
};

static void test_bad_input(void **state)
{
	char buf[2048];

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct sip_msg m;
		const char *s;
		size_t len;
		int r;

		if (c->msg) {
			s = c->msg;
			len = strlen(s);
		} else {
			s = build_msg(buf, sizeof(buf), c->start, c->extra);
			len = strlen(s);
		}
		r = sip_msg_parse(&m, s, len, SIP_DATAGRAM, NULL);
		if (r != -EBADMSG || m.error != c->err)
			fail_msg("%s: ret %d error %d (%s), want %d (%s)",
				 c->name, r, m.error,
				 r ? m.error_reason : "ok", c->err,
				 sip_error_str(c->err));
		if (m.answerable != c->answerable)
			fail_msg("%s: answerable %d, want %d", c->name,
				 m.answerable, c->answerable);
		assert_non_null(m.error_reason);
		if (c->err != SIP_ERR_DUP_HEADER)
			assert_string_equal(m.error_reason,
					    sip_error_str(c->err));
	}
}

static void test_error_details(void **state)
{
	char buf[1024];
	struct sip_msg m;
	static const char folded_first[] =
		"INVITE sip:b@example.com SIP/2.0\r\n"
		" continuation of nothing\r\n" HDRS "CSeq: 1 INVITE\r\n\r\n";

	/* Distinct codes and phrases. */
	for (int i = 0; i < SIP_ERR_MAX_; i++) {
		assert_non_null(sip_error_str(i));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(sip_error_str(i),
						sip_error_str(j));
	}
	assert_string_equal(sip_error_str(SIP_ERR_NO_CALL_ID),
			    "Bad Request - Missing Call-ID");
	assert_int_equal(sip_error_status(SIP_ERR_NO_VIA), 400);
	assert_int_equal(sip_error_status(SIP_ERR_VERSION_UNSUPPORTED), 505);
	assert_int_equal(sip_error_status(SIP_ERR_TOO_BIG), 513);

	build_msg(buf, sizeof(buf), "INVITE sip:b@example.com SIP/2.0",
		  "Content-Length: 5\r\n");
	assert_int_equal(parse_dg(&m, buf), -EBADMSG);
	assert_int_equal(m.error, SIP_ERR_DUP_HEADER);
	assert_int_equal(m.error_hdr, SIP_HDR_CONTENT_LENGTH);
	assert_string_equal(m.error_reason,
			    "Bad Request - Duplicate Content-Length");

	build_msg(buf, sizeof(buf), "INVITE sip:b@example.com SIP/2.0",
		  "i: dup\r\n");
	assert_int_equal(parse_dg(&m, buf), -EBADMSG);
	assert_string_equal(m.error_reason, "Bad Request - Duplicate Call-ID");

	/* The first error wins: Via missing and CSeq bad. */
	assert_int_equal(parse_dg(&m, "INVITE sip:b@x SIP/2.0\r\n"
				  "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\n"
				  "Call-ID: c\r\nCSeq: x INVITE\r\n\r\n"),
			 -EBADMSG);
	assert_int_equal(m.error, SIP_ERR_NO_VIA);

	/* A line starting with white space right after the start line. */
	assert_int_equal(parse_dg(&m, folded_first), -EBADMSG);
	assert_int_equal(m.error, SIP_ERR_HEADER_LINE);
	assert_true(m.answerable);

	/* Responses are never answerable. */
	assert_int_equal(parse_dg(&m, "SIP/2.0 200 OK\r\n" HDRS "\r\n"),
			 -EBADMSG);
	assert_int_equal(m.error, SIP_ERR_NO_CSEQ);
	assert_false(m.answerable);
}

/* --- datagram framing --------------------------------------------------------- */

static void test_datagram_body(void **state)
{
	static const char nocl[] =
		"MESSAGE sip:b@example.com SIP/2.0\r\n" HDRS
		"CSeq: 1 MESSAGE\r\n\r\nhello world";
	static const char shortcl[] =
		"MESSAGE sip:b@example.com SIP/2.0\r\n" HDRS
		"CSeq: 1 MESSAGE\r\nContent-Length: 5\r\n\r\nhello world";
	struct sip_msg m;
	size_t consumed = 0;
	char *buf;

	assert_int_equal(parse_dg(&m, nocl), 0);
	assert_false(m.has_content_length);
	assert_str(m.body, "hello world");
	assert_int_equal(m.method, SIP_METHOD_MESSAGE);

	assert_int_equal(sip_msg_parse(&m, shortcl, strlen(shortcl),
				       SIP_DATAGRAM, &consumed), 0);
	assert_str(m.body, "hello");
	assert_int_equal(consumed, strlen(shortcl));
	assert_int_equal(m.raw.len, strlen(shortcl) - 6);

	/* Two requests in one datagram: the second is ignored. */
	buf = parse_file(&m, "dgram_two.sip", 0);
	assert_str(m.via.branch, "z9hG4bKd1");
	assert_int_equal(m.body.len, 0);
	free(buf);

	/* Leading CRLFs (keep-alives) before the start line are skipped. */
	assert_int_equal(parse_dg(&m, "\r\n\r\n" "OPTIONS sip:b@x SIP/2.0\r\n"
				  HDRS "CSeq: 9 OPTIONS\r\n\r\n"), 0);
	assert_int_equal(m.cseq.num, 9);
	assert_int_equal(m.method, SIP_METHOD_OPTIONS);
}

/* --- stream framing ------------------------------------------------------------ */

static void test_stream_byte_by_byte(void **state)
{
	static const char *const msgs[] = {
		invite_800,
		"SIP/2.0 200 OK\r\nv: SIP/2.0/TCP h;branch=z9hG4bKs\r\n"
		"f: <sip:a@h>;tag=1\r\nt: <sip:b@h>;tag=2\r\ni: s1\r\n"
		"CSeq: 1 BYE\r\nX-Folded: a\r\n b\r\nl: 0\r\n\r\n",
		"BYE sip:b@h SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bKl\n"
		"From: <sip:a@h>;tag=1\nTo: <sip:b@h>;tag=2\nCall-ID: lf\n"
		"CSeq: 2 BYE\nContent-Length: 3\n\nxyz",
	};

	for (size_t k = 0; k < sizeof(msgs) / sizeof(msgs[0]); k++) {
		size_t n = strlen(msgs[k]);
		char *buf = malloc(n);	/* exact size: valgrind sees overreads */
		struct sip_msg m;

		assert_non_null(buf);
		memcpy(buf, msgs[k], n);
		for (size_t i = 0; i < n; i++) {
			size_t consumed = 12345;
			int r = sip_msg_parse(&m, buf, i, SIP_STREAM, &consumed);

			if (r != -EAGAIN)
				fail_msg("msg %zu prefix %zu: %d (%s)", k, i, r,
					 r == -EBADMSG ? m.error_reason : "");
			assert_int_equal(consumed, 12345);
		}
		{
			size_t consumed = 0;

			assert_int_equal(sip_msg_parse(&m, buf, n, SIP_STREAM,
						       &consumed), 0);
			assert_int_equal(consumed, n);
		}
		free(buf);
	}
}

static void test_stream_back_to_back(void **state)
{
	static const char two[] =
		"\r\n\r\n"	/* keep-alive before the first message */
		"INFO sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
		"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: bb\r\n"
		"CSeq: 5 INFO\r\nContent-Length: 4\r\n\r\nab\r\n"
		"INFO sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK2\r\n"
		"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: bb\r\n"
		"CSeq: 6 INFO\r\nContent-Length: 0\r\n\r\n";
	struct sip_msg m;
	size_t c1 = 0, c2 = 0, len = strlen(two);

	assert_int_equal(sip_msg_parse(&m, two, len, SIP_STREAM, &c1), 0);
	assert_int_equal(m.cseq.num, 5);
	assert_str(m.body, "ab\r\n");
	assert_memory_equal(two + c1, "INFO", 4);
	assert_int_equal(sip_msg_parse(&m, two + c1, len - c1, SIP_STREAM, &c2),
			 0);
	assert_int_equal(m.cseq.num, 6);
	assert_int_equal(c1 + c2, len);
	/* Only keep-alive CRLFs: wait. */
	assert_int_equal(sip_msg_parse(&m, "\r\n\r\n", 4, SIP_STREAM, &c1),
			 -EAGAIN);
	assert_int_equal(sip_msg_parse(&m, "", 0, SIP_STREAM, &c1), -EAGAIN);
}

static void test_stream_malformed(void **state)
{
	static const char nocl[] =
		"INFO sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
		"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: s\r\n"
		"CSeq: 5 INFO\r\n\r\n";
	static const char partial_bad[] =
		"INFO sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
		"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: s\r\n"
		"CSeq: 5 INFO\r\nContent-Length: 100\r\nSub";
	static const char bigcl[] =
		"INFO sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
		"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: s\r\n"
		"CSeq: 5 INFO\r\nContent-Length: 69000\r\n\r\npartial";
	static const char bodyshort[] =
		"INFO sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
		"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: s\r\n"
		"CSeq: 5 INFO\r\nContent-Length: 10\r\n\r\n12345";
	struct sip_msg m;
	size_t c = 0;

	assert_int_equal(sip_msg_parse(&m, nocl, strlen(nocl), SIP_STREAM, &c),
			 -EBADMSG);
	assert_int_equal(m.error, SIP_ERR_NO_CONTENT_LENGTH);
	assert_true(m.answerable);
	/* The same message is fine as a datagram. */
	assert_int_equal(parse_dg(&m, nocl), 0);

	/* Malformed start line: known at once, no need to wait. */
	assert_int_equal(sip_msg_parse(&m, "HELLO\r\nVia", 10, SIP_STREAM, &c),
			 -EBADMSG);
	assert_int_equal(m.error, SIP_ERR_START_LINE);
	assert_int_equal(sip_msg_parse(&m, "INV", 3, SIP_STREAM, &c), -EAGAIN);
	assert_int_equal(sip_msg_parse(&m, "SIP/2.0 99 x\r\n", 14, SIP_STREAM,
				       &c), -EBADMSG);
	assert_int_equal(m.error, SIP_ERR_STATUS);
	/* NUL in an incomplete header section: wait for the whole section
	 * (whatever the segments), then answer 400 by the top Via. */
	assert_int_equal(sip_msg_parse(&m, "INFO sip:b@h SIP/2.0\r\nX: \0\r\n",
				       28, SIP_STREAM, &c), -EAGAIN);
	{
		static const char nul[] =
			"INFO sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9"
			"hG4bKn\r\nX: a\0b\r\nFrom: <sip:a@h>;tag=1\r\nTo: <s"
			"ip:b@h>\r\nCall-ID: n1\r\nCSeq: 1 INFO\r\nl: 0\r\n\r\n";

		assert_int_equal(sip_msg_parse(&m, nul, sizeof(nul) - 1,
					       SIP_STREAM, &c), -EBADMSG);
		assert_int_equal(m.error, SIP_ERR_NUL);
		assert_true(m.answerable);
		assert_true(sip_str_eq_c(m.via.branch, "z9hG4bKn"));
		/* The bad line is not kept: no slice holds the NUL. */
		assert_null(sip_msg_hdr_by_name(&m, "X"));
	}

	assert_int_equal(sip_msg_parse(&m, partial_bad, strlen(partial_bad),
				       SIP_STREAM, &c), -EAGAIN);
	assert_int_equal(sip_msg_parse(&m, bodyshort, strlen(bodyshort),
				       SIP_STREAM, &c), -EAGAIN);
	/* Datagram: the same shortfall is malformed. */
	assert_int_equal(parse_dg(&m, bodyshort), -EBADMSG);
	assert_int_equal(m.error, SIP_ERR_CONTENT_LENGTH_TOO_LARGE);
	assert_string_equal(m.error_reason,
			    "Bad Request - Content-Length Larger Than the Datagram");

	/* Headers + Content-Length over 64 KiB: too big before the body. */
	assert_int_equal(sip_msg_parse(&m, bigcl, strlen(bigcl), SIP_STREAM, &c),
			 -EBADMSG);
	assert_int_equal(m.error, SIP_ERR_TOO_BIG);
	assert_true(m.answerable);
}

/* --- limits -------------------------------------------------------------------- */

/* A request with @n extra "a:b" headers (or longer ones). */
static char *many_headers(size_t n, const char *line, size_t *len)
{
	static const char head[] =
		"OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS
		"CSeq: 1 OPTIONS\r\n";
	size_t ll = strlen(line), cap = sizeof(head) + n * ll + 64;
	char *buf = malloc(cap), *p;

	assert_non_null(buf);
	p = buf + sprintf(buf, "%s", head);
	for (size_t i = 0; i < n; i++) {
		memcpy(p, line, ll);
		p += ll;
	}
	p += sprintf(p, "Content-Length: 0\r\n\r\n");
	*len = (size_t)(p - buf);
	return buf;
}

static void test_header_limit(void **state)
{
	struct sip_msg m;
	size_t len, c;
	char *buf;
	clock_t t0;

	/* 5 required + 122 + Content-Length = 128: exactly the cap. */
	buf = many_headers(SIP_MAX_HEADERS - 6, "a:b\r\n", &len);
	assert_int_equal(sip_msg_parse(&m, buf, len, SIP_DATAGRAM, NULL), 0);
	assert_int_equal(m.hdr_count, SIP_MAX_HEADERS);
	assert_true(m.has_content_length);
	free(buf);

	buf = many_headers(SIP_MAX_HEADERS - 5, "a:b\r\n", &len);
	assert_int_equal(sip_msg_parse(&m, buf, len, SIP_DATAGRAM, NULL),
			 -EBADMSG);
	assert_int_equal(m.error, SIP_ERR_TOO_MANY_HEADERS);
	assert_true(m.answerable);
	free(buf);

	/* 10,000 headers: rejected, linearly. */
	t0 = clock();
	buf = many_headers(10000, "a:b\r\n", &len);
	assert_true(len < SIP_MSG_MAX);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(sip_msg_parse(&m, buf, len, SIP_DATAGRAM, NULL),
				 -EBADMSG);
		assert_int_equal(m.error, SIP_ERR_TOO_MANY_HEADERS);
		assert_string_equal(m.error_reason,
				    "Bad Request - Too Many Headers (max 128)");
		assert_int_equal(m.hdr_count, SIP_MAX_HEADERS);
		assert_int_equal(sip_msg_parse(&m, buf, len, SIP_STREAM, &c),
				 -EBADMSG);
		assert_int_equal(m.error, SIP_ERR_TOO_MANY_HEADERS);
	}
	free(buf);
	/* Generous even under valgrind; quadratic would take minutes. */
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 20.0);

	/* A Via past the cap makes the request unanswerable. */
	buf = many_headers(200, "Via: SIP/2.0/UDP x;branch=z9hG4bKz\r\n", &len);
	assert_int_equal(sip_msg_parse(&m, buf, len, SIP_DATAGRAM, NULL),
			 -EBADMSG);
	assert_int_equal(m.error, SIP_ERR_TOO_MANY_HEADERS);
	assert_false(m.answerable);
	free(buf);
}

static void test_size_limit(void **state)
{
	struct sip_msg m;
	size_t len, c;
	char *buf;

	/* 70,000 bytes, headers fine: too big, still answerable (513). */
	buf = malloc(70001);
	assert_non_null(buf);
	len = (size_t)sprintf(buf, "MESSAGE sip:b@example.com SIP/2.0\r\n" HDRS
			      "CSeq: 1 MESSAGE\r\n\r\n");
	memset(buf + len, 'x', 70000 - len);
	len = 70000;
	assert_int_equal(sip_msg_parse(&m, buf, len, SIP_DATAGRAM, NULL),
			 -EBADMSG);
	assert_int_equal(m.error, SIP_ERR_TOO_BIG);
	assert_true(m.answerable);
	assert_int_equal(sip_error_status(m.error), 513);
	free(buf);

	/* One 70,000-byte header line: cannot even be framed. */
	buf = malloc(70400);
	assert_non_null(buf);
	len = (size_t)sprintf(buf, "MESSAGE sip:b@example.com SIP/2.0\r\n" HDRS
			      "CSeq: 1 MESSAGE\r\nSubject: ");
	memset(buf + len, 'y', 70000);
	len += 70000;
	len += (size_t)sprintf(buf + len, "\r\nl: 0\r\n\r\n");
	assert_int_equal(sip_msg_parse(&m, buf, len, SIP_DATAGRAM, NULL),
			 -EBADMSG);
	assert_int_equal(m.error, SIP_ERR_TOO_BIG);
	/* The Via came before the long line: 513 can be answered. */
	assert_true(m.answerable);
	assert_int_equal(sip_msg_parse(&m, buf, len, SIP_STREAM, &c), -EBADMSG);
	assert_int_equal(m.error, SIP_ERR_TOO_BIG);
	assert_true(m.answerable);
	assert_int_equal(sip_error_status(m.error), 513);
	/* The same, cut before the limit: a stream waits for more. */
	assert_int_equal(sip_msg_parse(&m, buf, 60000, SIP_STREAM, &c), -EAGAIN);
	free(buf);

	/* Exactly 65,535 bytes is allowed. */
	buf = malloc(SIP_MSG_MAX);
	assert_non_null(buf);
	len = (size_t)sprintf(buf, "MESSAGE sip:b@example.com SIP/2.0\r\n" HDRS
			      "CSeq: 1 MESSAGE\r\n\r\n");
	memset(buf + len, 'z', SIP_MSG_MAX - len);
	assert_int_equal(sip_msg_parse(&m, buf, SIP_MSG_MAX, SIP_DATAGRAM,
				       NULL), 0);
	assert_int_equal(m.raw.len, SIP_MSG_MAX);
	free(buf);
}

/*
 * RFC 4475 3.1.1.10 "intmeth": an unusual method token, and a To display
 * name holding the quoted-pairs \<0x07>, \<0x00> and \<0x7F> (RFC 3261
 * 25.1 allows them).  A valid request: every header is parsed, and the
 * escaped NUL stays inside the slices, which keep their full length.
 */
#define INTMETH_METHOD "!interesting-Method0123456789_*+`.%indeed'~"
#define INTMETH_TO_URI \
	"sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com"
static const char intmeth[] =
	INTMETH_METHOD " sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
	":&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0\r\n"
	"Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~\r\n"
	"To: \"BEL:\\\x07 NUL:\\\0 DEL:\\\x7f\" <" INTMETH_TO_URI ">\r\n"
	"From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com> "
	";fromParam''~+*_!.-%=\r\n"
	" \"\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xb0\xd1\x8e\xd1\x89"
	"\xd0\xb8\xd0\xb9\";tag=_token~1'+`*%!-.\r\n"
	"Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{\r\n"
	"CSeq: 139122385 " INTMETH_METHOD "\r\n"
	"Max-Forwards: 255\r\n"
	"extensionHeader-!.%*+_`'~:\xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static void test_intmeth(void **state)
{
	static const char disp[] = "BEL:\\\x07 NUL:\\\0 DEL:\\\x7f";
	static const char to_val[] =
		"\"BEL:\\\x07 NUL:\\\0 DEL:\\\x7f\" <" INTMETH_TO_URI ">";
	const struct sip_hdr *h;
	struct sip_msg m;
	size_t used = 0;

	(void)state;
	assert_int_equal(sip_msg_parse(&m, intmeth, sizeof(intmeth) - 1,
				       SIP_DATAGRAM, &used), 0);
	assert_int_equal(used, sizeof(intmeth) - 1);
	assert_int_equal(m.method, SIP_METHOD_OTHER);
	assert_true(sip_str_eq_c(m.method_str, INTMETH_METHOD));
	assert_true(sip_str_eq_c(m.cseq.method_str, INTMETH_METHOD));
	assert_int_equal(m.cseq.num, 139122385);
	assert_true(sip_str_eq_c(m.ruri.host, "example.com"));
	assert_true(sip_str_eq_c(m.ruri.user,
				 "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"));
	assert_true(sip_str_eq_c(m.ruri.password,
				 "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"));
	assert_true(sip_str_eq_c(m.via.host, "host1.example.com"));
	assert_true(sip_str_eq_c(m.via.branch, "z9hG4bK-.!%66*_+`'~"));

	/* To: the display name keeps the escaped NUL, all 21 bytes. */
	assert_int_equal(m.to.display.len, sizeof(disp) - 1);
	assert_memory_equal(m.to.display.p, disp, sizeof(disp) - 1);
	assert_true(sip_str_eq_c(m.to.uri, INTMETH_TO_URI));
	assert_false(sip_str_present(m.to.tag));
	assert_true(sip_str_eq_c(m.to_uri.host, "example.com"));
	h = sip_msg_hdr(&m, SIP_HDR_TO);
	assert_non_null(h);
	assert_int_equal(h->value.len, sizeof(to_val) - 1);
	assert_memory_equal(h->value.p, to_val, sizeof(to_val) - 1);

	/* From: a display name of tokens, a folded parameter in UTF-8. */
	assert_true(sip_str_eq_c(m.from.display,
				 "token1~` token2'+_ token3*%!.-"));
	assert_true(sip_str_eq_c(m.from.uri, "sip:mundane@example.com"));
	assert_true(sip_str_eq_c(m.from.tag, "_token~1'+`*%!-."));
	assert_true(sip_str_eq_c(m.from_uri.user, "mundane"));

	assert_true(sip_str_eq_c(m.call_id,
				 "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"));
	h = sip_msg_hdr(&m, SIP_HDR_MAX_FORWARDS);
	assert_non_null(h);
	assert_true(sip_str_eq_c(h->value, "255"));
	h = sip_msg_hdr_by_name(&m, "extensionHeader-!.%*+_`'~");
	assert_non_null(h);
	assert_true(sip_str_eq_c(h->value,
				 "\xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb"));
	assert_int_equal(m.body.len, 0);

	/* Cut before the NUL in stream mode: wait for more, no error. */
	assert_int_equal(sip_msg_parse(&m, intmeth,
				       (size_t)(strchr(intmeth, '\0') - intmeth + 1),
				       SIP_STREAM, NULL), -EAGAIN);
}

/*
 * NUL bytes that no quoted-pair takes stay refused: outside quotes, inside
 * quotes unescaped, in a header name, after a backslash outside quotes.
 */
#define NUL_CASE(x) { x, sizeof(x) - 1 }
static void test_nul_unquoted(void **state)
{
	static const struct { const char *s; size_t n; } bad[] = {
		NUL_CASE("To: <sip:b@h>\0\r\n"),
		NUL_CASE("To: \"a\0\" <sip:b@h>\r\n"),
		NUL_CASE("To: \"a\\\\\" \\\0 <sip:b@h>\r\n"),
		NUL_CASE("To\0: \"a\\\0\" <sip:b@h>\r\n"),
		NUL_CASE("To: \"a\\\0\" <sip:b@h>;x=\0\r\n"),
		NUL_CASE("X: \\\0\r\n"),
	}, good[] = {
		NUL_CASE("X: \"\\\0\"\r\n"),
		NUL_CASE("X: a \"b\\\"\\\0\" c, \"\\\0\\\0\"\r\n"),
		NUL_CASE("To: <sip:b@h>;x=\"\\\0\"\r\n"),
	}, malformed[] = {
		/* Escaped, but where an identifier is due: malformed. */
		NUL_CASE("To: <sip:b@h>;tag=\"\\\0\"\r\n"),
		NUL_CASE("Call-ID: z\"\\\0\"\r\n"),
		NUL_CASE("Via: SIP/2.0/UDP h2;branch=\"\\\0\"\r\n"),
		NUL_CASE("Max-Forwards: 70 \"\\\0\"\r\n"),
	};
	static const char head[] =
		"OPTIONS sip:b@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP h;branch=z9hG4bKq\r\n"
		"From: <sip:a@h>;tag=1\r\nCall-ID: q\r\nCSeq: 1 OPTIONS\r\n";
	char buf[512];
	struct sip_msg m;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = sizeof(head) - 1;

		memcpy(buf, head, n);
		memcpy(buf + n, bad[i].s, bad[i].n);
		n += bad[i].n;
		if (strncmp(bad[i].s, "To", 2) != 0) {
			memcpy(buf + n, "To: <sip:b@h>\r\n", 15);
			n += 15;
		}
		memcpy(buf + n, "l: 0\r\n\r\n", 8);
		n += 8;
		assert_int_equal(sip_msg_parse(&m, buf, n, SIP_DATAGRAM, NULL),
				 -EBADMSG);
		assert_int_equal(m.error, SIP_ERR_NUL);
		assert_true(m.answerable);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		size_t n = sizeof(head) - 1;

		memcpy(buf, head, n);
		memcpy(buf + n, good[i].s, good[i].n);
		n += good[i].n;
		if (strncmp(good[i].s, "To", 2) != 0) {
			memcpy(buf + n, "To: <sip:b@h>\r\n", 15);
			n += 15;
		}
		memcpy(buf + n, "l: 0\r\n\r\n", 8);
		n += 8;
		assert_int_equal(sip_msg_parse(&m, buf, n, SIP_DATAGRAM, NULL),
				 0);
	}
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		size_t n = sizeof(head) - 1;

		memcpy(buf, head, n);
		memcpy(buf + n, malformed[i].s, malformed[i].n);
		n += malformed[i].n;
		if (strncmp(malformed[i].s, "To", 2) != 0) {
			memcpy(buf + n, "To: <sip:b@h>\r\n", 15);
			n += 15;
		}
		memcpy(buf + n, "l: 0\r\n\r\n", 8);
		n += 8;
		assert_int_equal(sip_msg_parse(&m, buf, n, SIP_DATAGRAM, NULL),
				 -EBADMSG);
		assert_int_not_equal(m.error, SIP_ERR_NONE);
	}
}

static void test_nul_bytes(void **state)
{
	static const char nul_val[] =
		"INVITE sip:b@example.com SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n"
		"X-Evil: abc\0def\r\nContent-Length: 0\r\n\r\n";
	static const char nul_name[] =
		"INVITE sip:b@example.com SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n"
		"X-E\0vil: abc\r\nContent-Length: 0\r\n\r\n";
	static const char nul_start[] =
		"INVITE sip:b@exa\0mple.com SIP/2.0\r\n" HDRS "CSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char nul_body[] =
		"MESSAGE sip:b@example.com SIP/2.0\r\n" HDRS
		"CSeq: 1 MESSAGE\r\nContent-Length: 3\r\n\r\na\0b";
	struct sip_msg m;

	assert_int_equal(sip_msg_parse(&m, nul_val, sizeof(nul_val) - 1,
				       SIP_DATAGRAM, NULL), -EBADMSG);
	assert_int_equal(m.error, SIP_ERR_NUL);
	assert_string_equal(m.error_reason, "Bad Request - NUL Byte in Header");
	assert_int_equal(sip_msg_parse(&m, nul_name, sizeof(nul_name) - 1,
				       SIP_DATAGRAM, NULL), -EBADMSG);
	assert_int_equal(m.error, SIP_ERR_NUL);
	assert_int_equal(sip_msg_parse(&m, nul_start, sizeof(nul_start) - 1,
				       SIP_DATAGRAM, NULL), -EBADMSG);
	assert_int_equal(m.error, SIP_ERR_NUL);
	assert_int_equal(sip_msg_parse(&m, nul_body, sizeof(nul_body) - 1,
				       SIP_DATAGRAM, NULL), 0);
	assert_int_equal(m.body.len, 3);
}

static void test_methods(void **state)
{
	for (int i = 1; i < SIP_METHOD_MAX_; i++) {
		const char *n = sip_method_name(i);

		assert_int_equal(sip_method_from_str(n, strlen(n)), i);
	}
	assert_int_equal(sip_method_from_str("invite", 6), SIP_METHOD_OTHER);
	assert_int_equal(sip_method_from_str("INVITES", 7), SIP_METHOD_OTHER);
	assert_string_equal(sip_method_name(SIP_METHOD_OTHER), "OTHER");
	assert_string_equal(sip_method_name(99), "OTHER");
}

/* --- real captures -------------------------------------------------------------- */

/* UDP payload of an Ethernet/IPv4/UDP frame, or NULL. */
static const char *udp_payload(const struct capframe *fr, size_t *len)
{
	const uint8_t *d = fr->data;
	size_t ihl, ulen;

	if (fr->linktype != CAP_LINKTYPE_ETHERNET || fr->len < 14 + 20 + 8 ||
	    d[12] != 0x08 || d[13] != 0x00 || (d[14] >> 4) != 4)
		return NULL;
	ihl = (size_t)(d[14] & 0x0f) * 4;
	if (ihl < 20 || fr->len < 14 + ihl + 8 || d[14 + 9] != 17)
		return NULL;
	ulen = ((size_t)d[14 + ihl + 4] << 8) | d[14 + ihl + 5];
	if (ulen < 8 || 14 + ihl + ulen > fr->len)
		return NULL;
	*len = ulen - 8;
	return (const char *)d + 14 + ihl + 8;
}

struct pcap_stats {
	int msgs, requests, with_did;
};

/*
 * Parse every SIP payload of @file, as a datagram and as a stream; every
 * Contact/Route/Record-Route URI must parse, and every Route/Record-Route
 * must carry ;lr and the cookie did=@did.
 */
static int check_pcap(const char *file, const char *want_did,
		      struct pcap_stats *st)
{
	struct capfile *f;
	struct capframe fr;
	int r;

	if (capfile_open(file, &f))
		return -1;
	memset(st, 0, sizeof(*st));
	while ((r = capfile_next(f, &fr)) == 1) {
		struct sip_msg m;
		struct sip_value_iter it;
		struct sip_nameaddr na;
		struct sip_uri u;
		struct sip_str did;
		size_t len = 0, c = 0;
		const char *p = udp_payload(&fr, &len);
		bool has_did = false;

		if (!p)
			continue;
		if (sip_msg_parse(&m, p, len, SIP_DATAGRAM, NULL))
			fail_msg("%s frame %d: %s", file, st->msgs + 1,
				 m.error_reason);
		/* The same bytes as a stream message. */
		assert_int_equal(sip_msg_parse(&m, p, len, SIP_STREAM, &c), 0);
		assert_int_equal(c, len);
		st->msgs++;
		if (m.is_request) {
			st->requests++;
			assert_int_equal(m.ruri.type, SIP_SCHEME_SIP);
			assert_int_equal(m.cseq.method, m.method);
		}
		assert_true(m.from.tag.len > 0);
		assert_true(m.call_id.len > 0);
		assert_true(m.via.branch.len > 7);
		for (enum sip_hdr_id id = SIP_HDR_CONTACT;
		     id <= SIP_HDR_RECORD_ROUTE; id++) {
			sip_value_iter_init(&it, &m, id);
			while ((r = sip_value_next_addr(&it, &na)) == 1) {
				assert_int_equal(sip_uri_parse(&u, na.uri.p,
							       na.uri.len), 0);
				if (id == SIP_HDR_CONTACT)
					continue;
				assert_true(u.lr);
				assert_int_equal(sip_uri_param(&u, "did", &did),
						 0);
				assert_str(did, want_did);
				has_did = true;
			}
			assert_int_equal(r, 0);
		}
		st->with_did += has_did;
	}
	capfile_free(f);
	assert_int_equal(r, 0);
	return 0;
}

static void test_pcap_call(void **state)
{
	struct pcap_stats st;

	if (check_pcap(PCAP_DIR "kamailio-call.pcap", "a291.e2bb", &st)) {
		skip();
		return;
	}
	assert_int_equal(st.msgs, 13);
	assert_int_equal(st.requests, 6);
	/* RR on the forwarded INVITE and the 4 responses, Route on ACK+BYE. */
	assert_int_equal(st.with_did, 7);
}

static void test_pcap_end_dlg(void **state)
{
	struct pcap_stats st;

	if (check_pcap(PCAP_DIR "kamailio-end_dlg.pcap", "", &st)) {
		skip();
		return;
	}
	assert_int_equal(st.msgs, 4);
	assert_int_equal(st.requests, 2);
}

/* The pcap INVITE with the Record-Route cookie, field by field. */
static void test_pcap_invite_fields(void **state)
{
	struct capfile *f;
	struct capframe fr;
	struct sip_msg m;
	struct sip_uri u;
	struct sip_str v;
	const char *p = NULL;
	size_t len = 0;
	int n = 0;

	if (capfile_open(PCAP_DIR "kamailio-call.pcap", &f)) {
		skip();
		return;
	}
	while (capfile_next(f, &fr) == 1)
		if (++n == 3) {
			p = udp_payload(&fr, &len);
			break;
		}
	assert_non_null(p);
	assert_int_equal(sip_msg_parse(&m, p, len, SIP_DATAGRAM, NULL), 0);
	assert_int_equal(m.method, SIP_METHOD_INVITE);
	assert_int_equal(m.n_via, 2);
	assert_str(m.via.branch, "z9hG4bK1691.a7790209ca8b43d49b8eee58bdec4400.0");
	assert_false(m.via.has_port);
	assert_int_equal(m.n_record_route, 1);
	assert_str(m.record_route.uri,
		   "sip:127.0.0.1;lr;ftag=6718SIPpTag001;did=a291.e2bb");
	assert_int_equal(sip_uri_parse(&u, m.record_route.uri.p,
				       m.record_route.uri.len), 0);
	assert_int_equal(sip_uri_param(&u, "ftag", &v), 0);
	assert_str(v, "6718SIPpTag001");
	assert_int_equal(m.max_forwards, 69);
	assert_int_equal(m.content_length, 129);
	assert_int_equal(m.body.len, 129);
	assert_str(sip_msg_hdr(&m, SIP_HDR_SUBJECT)->value, "holdout baseline");
	capfile_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_invite),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_compact_forms),
		cmocka_unit_test(test_header_names),
		cmocka_unit_test(test_torture_ws),
		cmocka_unit_test(test_torture_method),
		cmocka_unit_test(test_torture_escaped),
		cmocka_unit_test(test_torture_ipv6),
		cmocka_unit_test(test_torture_tel),
		cmocka_unit_test(test_lf_only),
		cmocka_unit_test(test_multi_values),
		cmocka_unit_test(test_list_split),
		cmocka_unit_test(test_nameaddr),
		cmocka_unit_test(test_via),
		cmocka_unit_test(test_uri),
		cmocka_unit_test(test_uri_bad),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_error_details),
		cmocka_unit_test(test_datagram_body),
		cmocka_unit_test(test_stream_byte_by_byte),
		cmocka_unit_test(test_stream_back_to_back),
		cmocka_unit_test(test_stream_malformed),
		cmocka_unit_test(test_header_limit),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_intmeth),
		cmocka_unit_test(test_nul_unquoted),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_pcap_call),
		cmocka_unit_test(test_pcap_end_dlg),
		cmocka_unit_test(test_pcap_invite_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
