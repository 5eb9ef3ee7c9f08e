/*
 * test_px_validate.c - the proxy's request checks (RFC 3261 16.3, 8.2)
 * and what it forwards.
 *
 * 1. A table of requests, each refused by exactly one check (or passed),
 *    with the status code and reason it must get; the order of the checks
 *    (a request failing two gets the earlier one's answer).
 * 2. A generator of legal requests whose start line and header values sit
 *    at their extremes: methods made of every token character, long
 *    branches, tags, Call-IDs and header values, escaped characters in
 *    URIs, quoted display names with escapes, unusual header names, many
 *    Vias.  Each one must parse, pass every check and, built by the
 *    forwarding code (pxb_request), leave the proxy with its method,
 *    Request-URI, every header it must not touch (all but Via,
 *    Max-Forwards and Route) and its body byte for byte as received, the
 *    received Vias below ours intact, and its Route values as written.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/stats.h"
#include "proxy/px_internal.h"

static const char CFG[] =
	"listen: [\"udp:127.0.0.1:5060\"]\n"
	"xdp: { enabled: false }\n"
	"proxy: { supported: [timer, X-Odd.Tag] }\n";

struct fixture {
	struct sipdlg_config *cfg;
	struct stats *st;
	struct proxy *px;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	assert_int_equal(cfg_load_string("t.yaml", CFG, sizeof(CFG) - 1,
					 stderr, &f->cfg), 0);
	f->st = stats_alloc();
	assert_non_null(f->st);
	assert_int_equal(proxy_alloc(f->cfg, f->st, &f->px, err, sizeof(err)),
			 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	proxy_free(f->px);
	stats_free(f->st);
	cfg_free(f->cfg);
	free(f);
	return 0;
}

/* A request: start line @method @ruri, then @extra header lines. */
static size_t request(char *buf, size_t cap, const char *method,
		      const char *ruri, const char *extra)
{
	int n = snprintf(buf, cap,
			 "%s %s SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 10.0.0.7:5070;branch=z9hG4bK-v1\r\n"
			 "From: <sip:alice@example.com>;tag=f1\r\n"
			 "To: <sip:bob@example.com>\r\n"
			 "Call-ID: c1@example.com\r\n"
			 "CSeq: 5 %s\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n",
			 method, ruri, method, extra);

	assert_true(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

struct vcase {
	const char *name, *method, *ruri, *extra;
	int code;
	const char *reason;	/* NULL: the code's standard phrase */
	const char *extra_out;	/* the Unsupported line, if any */
};

static const struct vcase vcases[] = {
	{ "plain INVITE", "INVITE", "sip:bob@example.com", "Max-Forwards: 70\r\n",
	  0, NULL, NULL },
	{ "sips and tel pass", "INVITE", "sips:bob@example.com", "", 0, NULL,
	  NULL },
	{ "tel", "INVITE", "tel:+15551234567;phone-context=x", "", 0, NULL,
	  NULL },
	{ "http scheme", "INVITE", "http://example.com/bob", "", 416, NULL,
	  NULL },
	{ "urn scheme", "MESSAGE", "urn:service:sos", "", 416, NULL, NULL },
	{ "escaped headers in the R-URI", "INVITE",
	  "sip:bob@example.com?Route=%3Csip:evil.example.com%3E", "", 400,
	  "Bad Request - Headers in Request-URI", NULL },
	{ "sips R-URI with headers", "OPTIONS", "sips:bob@example.com?subject=x",
	  "", 400, "Bad Request - Headers in Request-URI", NULL },
	{ "Max-Forwards 0", "OPTIONS", "sip:bob@example.com",
	  "Max-Forwards: 0\r\n", 483, NULL, NULL },
	{ "CANCEL with Max-Forwards 0 (hop by hop)", "CANCEL",
	  "sip:bob@example.com", "Max-Forwards: 0\r\n", 0, NULL, NULL },
	{ "supported Proxy-Require", "INVITE", "sip:bob@example.com",
	  "Proxy-Require: timer, x-odd.tag\r\n", 0, NULL, NULL },
	{ "unsupported Proxy-Require", "INVITE", "sip:bob@example.com",
	  "Proxy-Require: timer, foo\r\nProxy-Require: Bar\r\n", 420, NULL,
	  "Unsupported: foo, Bar\r\n" },
	{ "Proxy-Require that is no token", "INVITE", "sip:bob@example.com",
	  "Proxy-Require: foo/bar\r\n", 400,
	  "Bad Request - Malformed Proxy-Require", NULL },
	{ "ACK ignores Proxy-Require", "ACK", "sip:bob@example.com",
	  "Proxy-Require: foo\r\n", 0, NULL, NULL },
	{ "CANCEL ignores Proxy-Require", "CANCEL", "sip:bob@example.com",
	  "Proxy-Require: foo\r\n", 0, NULL, NULL },
	/* Order: scheme before Max-Forwards before Proxy-Require. */
	{ "scheme first", "INVITE", "mailto:bob@example.com",
	  "Max-Forwards: 0\r\nProxy-Require: foo\r\n", 416, NULL, NULL },
	{ "Max-Forwards before Proxy-Require", "INVITE", "sip:bob@example.com",
	  "Max-Forwards: 0\r\nProxy-Require: foo\r\n", 483, NULL, NULL },
};

static void test_checks(void **state)
{
	struct fixture *f = *state;
	char buf[4096];

	for (size_t i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		const struct vcase *c = &vcases[i];
		struct sip_msg m;
		struct px_check_result v;
		size_t n = request(buf, sizeof(buf), c->method, c->ruri,
				   c->extra);
		int code;

		if (sip_msg_parse(&m, buf, n, SIP_DATAGRAM, NULL) != 0)
			fail_msg("%s: does not parse: %s", c->name,
				 m.error_reason);
		code = px_validate(f->px, &m, &v);
		if (code != c->code)
			fail_msg("%s: got %d, want %d", c->name, code, c->code);
		assert_int_equal(v.code, code);
		if (c->reason)
			assert_string_equal(v.reason, c->reason);
		else
			assert_null(v.reason);
		if (c->extra_out)
			assert_string_equal(v.extra, c->extra_out);
		else
			assert_null(v.extra);
	}
}

/* The 420 as built: the Unsupported line among the copied headers. */
static void test_bad_extension_reply(void **state)
{
	struct fixture *f = *state;
	static struct obuf o;
	char buf[4096];
	struct sip_msg m, r;
	struct px_check_result v;
	struct tp_peer src = { .proto = TP_UDP, .listen_idx = 0 };
	size_t n = request(buf, sizeof(buf), "INVITE", "sip:bob@example.com",
			   "Proxy-Require: foo\r\n");
	const struct sip_hdr *h;

	assert_int_equal(sip_msg_parse(&m, buf, n, SIP_DATAGRAM, NULL), 0);
	assert_int_equal(px_validate(f->px, &m, &v), 420);
	assert_int_equal(pxb_reply_hdrs(&o, &m, &src, v.code, v.reason, "t1",
					v.extra), 0);
	assert_int_equal(sip_msg_parse(&r, o.buf, o.len, SIP_DATAGRAM, NULL),
			 0);
	assert_int_equal(r.status, 420);
	assert_true(sip_str_eq_c(r.reason, "Bad Extension"));
	h = sip_msg_hdr(&r, SIP_HDR_UNSUPPORTED);
	assert_non_null(h);
	assert_true(sip_str_eq_c(h->value, "foo"));
	assert_true(sip_str_eq_c(r.via.branch, "z9hG4bK-v1"));
}

/* 32 Route entries pass; 33 get a reason naming the limit. */
static void test_route_limit(void **state)
{
	struct fixture *f = *state;
	char routes[4096], buf[8192];
	struct sip_msg m;
	struct px_check_result v;

	for (int want = 32; want <= 33; want++) {
		size_t n = 0;

		n += (size_t)snprintf(routes, sizeof(routes), "Route: ");
		for (int i = 0; i < want; i++)
			n += (size_t)snprintf(routes + n, sizeof(routes) - n,
					      "%s<sip:r%d.example.com;lr>",
					      i ? ", " : "", i);
		snprintf(routes + n, sizeof(routes) - n, "\r\n");
		n = request(buf, sizeof(buf), "INVITE", "sip:b@example.com",
			    routes);
		assert_int_equal(sip_msg_parse(&m, buf, n, SIP_DATAGRAM, NULL),
				 0);
		if (want == 32) {
			assert_int_equal(px_validate(f->px, &m, &v), 0);
		} else {
			assert_int_equal(px_validate(f->px, &m, &v), 400);
			assert_string_equal(v.reason, "Bad Request - Too Many "
						      "Route Entries (max 32)");
		}
	}
}

/* Our own Via with the hash of the request as received: a loop (482);
 * the same with another R-URI (a rule rewrote it): a spiral. */
static void test_loop(void **state)
{
	struct fixture *f = *state;
	char buf[4096], via[256], br[TM_BRANCH_MAX];
	struct sip_msg m;
	struct px_check_result v;
	uint32_t lh;
	size_t n;

	n = request(buf, sizeof(buf), "INVITE", "sip:bob@example.com", "");
	assert_int_equal(sip_msg_parse(&m, buf, n, SIP_DATAGRAM, NULL), 0);
	lh = px_loop_hash(&m);		/* Vias are not part of the hash */
	px_branch(br, sizeof(br), NULL, lh, 42);
	snprintf(via, sizeof(via), "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=%s\r\n",
		 br);
	n = request(buf, sizeof(buf), "INVITE", "sip:bob@example.com", via);
	assert_int_equal(sip_msg_parse(&m, buf, n, SIP_DATAGRAM, NULL), 0);
	assert_int_equal(px_validate(f->px, &m, &v), 482);
	assert_int_equal(v.why, PXC_LOOP);
	n = request(buf, sizeof(buf), "INVITE", "sip:carol@example.com", via);
	assert_int_equal(sip_msg_parse(&m, buf, n, SIP_DATAGRAM, NULL), 0);
	assert_int_equal(px_validate(f->px, &m, &v), 0);
}

/* --- the generator --------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static const char TOKEN_CH[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	"-.!%*_+`'~";
/* user part of a SIP URI: unreserved, user-unreserved, escapes */
static const char USER_CH[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	"-_.!~*'()&=+$,;?/";
/* Call-ID word characters */
static const char WORD_CH[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	"-.!%*_+`'~()<>:\\\"/[]?{}";
/* quoted-string text (qdtext without '"' and '\') */
static const char QD_CH[] =
	"abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	"!#$%&'()*+,-./:;<=>?@[]^_`{|}~";

/* One of a few lengths: mostly short, sometimes at the extremes. */
static size_t len_of(size_t lo, size_t hi)
{
	switch (rnd(4)) {
	case 0: return lo;
	case 1: return hi;
	default: return lo + rnd((uint32_t)(hi - lo + 1));
	}
}

static size_t put_run(char *p, const char *set, size_t n)
{
	size_t k = strlen(set);

	for (size_t i = 0; i < n; i++)
		p[i] = set[rnd((uint32_t)k)];
	return n;
}

/* User part with %HH escapes now and then. */
static size_t put_user(char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (rnd(8) == 0 && n - i >= 3) {
			i += (size_t)sprintf(p + i, "%%%02X", rnd(256));
			continue;
		}
		p[i++] = USER_CH[rnd(sizeof(USER_CH) - 1)];
	}
	return n;
}

/* A quoted display name with quoted-pairs. */
static size_t put_display(char *p, size_t n)
{
	size_t i = 0;

	p[i++] = '"';
	while (i < n) {
		if (rnd(10) == 0) {
			p[i++] = '\\';
			p[i++] = rnd(2) ? '"' : '\\';
		} else {
			p[i++] = QD_CH[rnd(sizeof(QD_CH) - 1)];
		}
	}
	p[i++] = '"';
	return i;
}

struct gen {
	char *buf;
	size_t n, cap;
	char method[128];
};

static void g_raw(struct gen *g, const char *s, size_t n)
{
	assert_true(g->n + n < g->cap);
	memcpy(g->buf + g->n, s, n);
	g->n += n;
}

static void g_str(struct gen *g, const char *s)
{
	g_raw(g, s, strlen(s));
}

/* Run @fn (which writes at most @max bytes) into the buffer. */
#define G_PUT(g, max, call)                                        \
	do {                                                       \
		assert_true((g)->n + (max) + 8 < (g)->cap);        \
		char *p_ = (g)->buf + (g)->n;                      \
		(g)->n += call;                                    \
	} while (0)

/* A legal request at its extremes into g->buf; its size. */
static size_t generate(struct gen *g)
{
	size_t ml = len_of(1, 100), nv = len_of(1, 34);
	static const char *const hnames[] = { "Subject", "X-Extension-!.%*+_`'~",
					      "User-Agent", "Organization",
					      "P-Whatever", "s" };

	g->n = 0;
	put_run(g->method, TOKEN_CH, ml);
	g->method[ml] = '\0';
	if (rnd(3) == 0)
		strcpy(g->method, rnd(2) ? "INVITE" : "OPTIONS");
	g_str(g, g->method);
	g_str(g, rnd(2) ? " sip:" : " sips:");
	G_PUT(g, 300, put_user(p_, len_of(1, 300)));
	g_str(g, "@example.com");
	if (rnd(2))
		g_str(g, ":5070");
	if (rnd(2)) {
		g_str(g, ";x-");
		G_PUT(g, 200, put_run(p_, "abcdef0123-_.!~*'()", len_of(1, 200)));
	}
	g_str(g, " SIP/2.0\r\n");
	for (size_t i = 0; i < nv; i++) {
		g_str(g, "Via: SIP/2.0/UDP h");
		G_PUT(g, 4, put_run(p_, "0123456789", 4));
		g_str(g, ".example.com;branch=z9hG4bK");
		/* long branches with few Vias: the whole stays < 64 KB */
		G_PUT(g, 2000, put_run(p_, TOKEN_CH,
				       len_of(1, nv > 4 ? 300 : 2000)));
		g_str(g, i % 3 ? ";rport\r\n" : "\r\n");
	}
	g_str(g, "Max-Forwards: 70\r\nFrom: ");
	if (rnd(2)) {
		G_PUT(g, 400, put_display(p_, len_of(1, 400)));
		g_str(g, " ");
	}
	g_str(g, "<sip:a@example.com>;tag=");
	G_PUT(g, 500, put_run(p_, TOKEN_CH, len_of(1, 500)));
	g_str(g, "\r\nTo: ");
	if (rnd(2)) {
		G_PUT(g, 100, put_run(p_, TOKEN_CH, len_of(1, 100)));
		g_str(g, " ");
	}
	g_str(g, "<sip:b@example.com>\r\nCall-ID: ");
	G_PUT(g, 1000, put_run(p_, WORD_CH, len_of(1, 1000)));
	if (rnd(2)) {
		g_str(g, "@");
		G_PUT(g, 200, put_run(p_, WORD_CH, len_of(1, 200)));
	}
	g_str(g, "\r\nCSeq: ");
	G_PUT(g, 10, (size_t)sprintf(p_, "%u", rnd(0x7fffffffu)));
	g_str(g, " ");
	g_str(g, g->method);
	g_str(g, "\r\n");
	if (rnd(2)) {
		g_str(g, "Route: <sip:r1.example.com;lr>, \"R 2\" "
			 "<sip:r2.example.com;lr;x=");
		G_PUT(g, 300, put_run(p_, TOKEN_CH, len_of(1, 300)));
		g_str(g, ">\r\n");
	}
	for (unsigned i = rnd(5); i > 0; i--) {
		g_str(g, hnames[rnd(sizeof(hnames) / sizeof(hnames[0]))]);
		g_str(g, rnd(2) ? ": " : " :\t");
		G_PUT(g, 8000, put_run(p_, QD_CH, len_of(1, 8000)));
		g_str(g, "\r\n");
	}
	g_str(g, "Content-Length: 4\r\n\r\nv=0\n");
	return g->n;
}

/* A header line as received: to the end of its value and the spaces
 * and tabs after it (not its CRLF). */
static struct sip_str line_of(const struct sip_hdr *h)
{
	const char *end = h->value.p + h->value.len;

	while (*end == ' ' || *end == '\t')
		end++;
	return sip_str_mk(h->name.p, (size_t)(end - h->name.p));
}

/* The header lines of @m other than Via, Max-Forwards and Route, in
 * order, are those of @out (also without ours), byte for byte. */
static void same_untouched_headers(const struct sip_msg *m,
				   const struct sip_msg *out)
{
	uint16_t j = 0;

	for (uint16_t i = 0; i < m->hdr_count; i++) {
		const struct sip_hdr *h = &m->hdrs[i];

		if (h->id == SIP_HDR_VIA || h->id == SIP_HDR_MAX_FORWARDS ||
		    h->id == SIP_HDR_ROUTE)
			continue;
		while (j < out->hdr_count &&
		       (out->hdrs[j].id == SIP_HDR_VIA ||
			out->hdrs[j].id == SIP_HDR_MAX_FORWARDS ||
			out->hdrs[j].id == SIP_HDR_ROUTE))
			j++;
		assert_true(j < out->hdr_count);
		/* the whole line, from the name to the end of the value */
		assert_true(sip_str_eq(line_of(h), line_of(&out->hdrs[j])));
		j++;
	}
}

/*
 * With SIPDLG_GEN_DIR set, the first generated requests that fit in a UDP
 * datagram are also written there, one file each (NNN.sip), for
 * tests/e2e/test_proxy_validate.sh to send through a running proxy.
 */
static void dump(int round, const char *buf, size_t n)
{
	const char *dir = getenv("SIPDLG_GEN_DIR");
	char path[4096];
	FILE *f;

	if (!dir || round >= 30 || n > 60000)
		return;
	snprintf(path, sizeof(path), "%s/%03d.sip", dir, round);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void test_generated_forwarded_byte_for_byte(void **state)
{
	struct fixture *f = *state;
	static struct obuf o;
	static char buf[SIP_MSG_MAX], key[TM_KEY_MAX];
	struct sip_msg *m = malloc(sizeof(*m)), *out = malloc(sizeof(*out));
	struct gen g = { .buf = buf, .cap = sizeof(buf) };
	struct tp_peer src = { .proto = TP_UDP, .listen_idx = 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&src.remote.ss;

	/* The generator must reach the extremes it claims. */
	size_t max_len = 0, vias34 = 0, long_branch = 0, odd_method = 0;

	assert_non_null(m);
	assert_non_null(out);
	s4->sin_family = AF_INET;
	s4->sin_port = htons(5070);
	inet_pton(AF_INET, "192.0.2.1", &s4->sin_addr);
	src.remote.len = sizeof(*s4);

	for (int round = 0; round < 400; round++) {
		size_t n = generate(&g);
		struct px_check_result v;
		struct px_fwd fw = { 0 };
		struct sip_value_iter it, it2;
		struct sip_str a, b;

		if (sip_msg_parse(m, buf, n, SIP_DATAGRAM, NULL) != 0)
			fail_msg("round %d: a legal request does not parse: %s\n"
				 "%.*s", round, m->error_reason, (int)n, buf);
		dump(round, buf, n);
		max_len = n > max_len ? n : max_len;
		vias34 += m->n_via == 34;
		long_branch += m->via.branch.len >= 1000;
		odd_method += m->method == SIP_METHOD_OTHER &&
			      strpbrk(g.method, "!%*_+`'~") != NULL;
		/* Its transaction key fits, however long its parts. */
		assert_true(tm_server_key(m, m->method, key) > 0);
		if (px_validate(f->px, m, &v) != 0)
			fail_msg("round %d: refused with %d %s", round, v.code,
				 v.reason ? v.reason : "");
		/* What forward_tx gives the builder for a loose-routed
		 * request: the R-URI and the Route values unchanged. */
		fw.ruri = m->ruri_str;
		sip_value_iter_init(&it, m, SIP_HDR_ROUTE);
		while (sip_value_next(&it, &a) == 1)
			fw.routes[fw.n_routes++] = a;
		fw.via = "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsx1.2\r\n";
		fw.rr = "";
		fw.max_forwards = m->max_forwards - 1;
		assert_int_equal(pxb_request(&o, m, &src, &fw), 0);
		if (sip_msg_parse(out, o.buf, o.len, SIP_DATAGRAM, NULL) != 0)
			fail_msg("round %d: the forwarded request does not "
				 "parse: %s", round, out->error_reason);
		/* Start line: method and R-URI as received. */
		assert_true(sip_str_eq(m->method_str, out->method_str));
		assert_true(sip_str_eq(m->ruri_str, out->ruri_str));
		assert_true(o.len > m->method_str.len + 1 + m->ruri_str.len);
		assert_memory_equal(o.buf, m->raw.p,
				    m->method_str.len + 1 + m->ruri_str.len);
		same_untouched_headers(m, out);
		assert_true(sip_str_eq(m->body, out->body));
		assert_int_equal(out->max_forwards, 69);
		/* Vias: ours on top, then the received ones; the first of
		 * those with received= added, the others as written. */
		assert_int_equal(out->n_via, m->n_via + 1);
		sip_value_iter_init(&it, m, SIP_HDR_VIA);
		sip_value_iter_init(&it2, out, SIP_HDR_VIA);
		assert_int_equal(sip_value_next(&it2, &b), 1);	/* ours */
		for (int k = 0; sip_value_next(&it, &a) == 1; k++) {
			assert_int_equal(sip_value_next(&it2, &b), 1);
			if (k == 0) {
				assert_true(b.len > a.len);
				assert_memory_equal(a.p, b.p,
						    a.len - (sip_str_present(
							m->via.rport) ? 6 : 0));
			} else {
				assert_true(sip_str_eq(a, b));
			}
		}
		/* Route values, in order, as written. */
		sip_value_iter_init(&it, m, SIP_HDR_ROUTE);
		sip_value_iter_init(&it2, out, SIP_HDR_ROUTE);
		while (sip_value_next(&it, &a) == 1) {
			assert_int_equal(sip_value_next(&it2, &b), 1);
			assert_true(sip_str_eq(a, b));
		}
		assert_int_equal(sip_value_next(&it2, &b), 0);
	}
	assert_true(max_len > 20000);
	assert_true(vias34 > 0 && long_branch > 0 && odd_method > 0);
	free(out);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_bad_extension_reply),
		cmocka_unit_test(test_route_limit),
		cmocka_unit_test(test_loop),
		cmocka_unit_test(test_generated_forwarded_byte_for_byte),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
