// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sipgen.c - valid in-dialog SIP messages with generated values; see
 * sipgen.h (the draws and the text helpers are in sipgen_text.c).
 *
 * A message is a start line, header lines collected one by one into a
 * table, shuffled (Via lines and Route lines keep their order among
 * themselves: their order carries meaning), then the empty line and the
 * body.  Every choice is a draw from the caller's generator, so a seed
 * reproduces the bytes.  The shapes follow what user agents and proxies
 * put on the wire (RFC 3261 section 25 grammar, the forms seen in the
 * Kamailio captures and in sipp scenarios), not the grammar's corners
 * that no agent writes (no folding of the headers the fast path reads,
 * no comments, no escapes in URIs).
 */
#include "lib/sipgen_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/types.h>

#include "sipdlg_shared.h"
#include "dialog/dlg.h"		/* dlg_cookie_value, dlg_rhex: the real writer */

/* A 32-bit value whose reverse hex has 1..8 digits, uniform over them. */
static uint32_t hex_digits_value(struct sipgen_rng *r)
{
	uint32_t digits = sg_range(r, 1, 8);

	if (digits == 1)
		return sipgen_below(r, 16);
	return sg_range(r, 1u << (4 * (digits - 1)),
			digits == 8 ? 0xffffffffu : (1u << (4 * digits)) - 1);
}

/* Length classes: short, medium, long, and now and then past a limit. */
static size_t len_class(struct sipgen_rng *r, const uint32_t *bounds,
			uint32_t over_lo, uint32_t over_hi)
{
	if (sipgen_pct(r, 1))
		return sg_range(r, over_lo, over_hi);
	if (sipgen_pct(r, 3))
		return bounds[4];	/* exactly the longest the kernel takes */
	switch (sipgen_below(r, 4)) {
	case 0: return sg_range(r, bounds[0], bounds[1]);
	case 1: return sg_range(r, bounds[1] + 1, bounds[2]);
	case 2: return sg_range(r, bounds[2] + 1, bounds[3]);
	default: return sg_range(r, bounds[3] + 1, bounds[4]);
	}
}

/* A tag: token characters, 1..128 bytes (SIPDLG_TAG_MAX). */
static void gen_tag(struct sipgen_rng *r, char *out)
{
	static const uint32_t b[5] = { 1, 8, 32, 64, 128 };
	size_t n = len_class(r, b, 129, 150);

	switch (sipgen_below(r, 4)) {
	case 0:		/* sipp, Kamailio: digits and letters */
		sg_rand_from(r, out, n, sg_alnum);
		break;
	case 1:		/* hex, as many phones write */
		sg_rand_from(r, out, n, sg_hex);
		break;
	default:
		sg_rand_from(r, out, n, sg_token);
	}
}

/* A Call-ID: word ["@" word], 5..256 bytes (SIPDLG_CALLID_MAX). */
static void gen_callid(struct sipgen_rng *r, char *out, const char *host)
{
	static const uint32_t b[5] = { 5, 16, 48, 128, 256 };
	char set[128];
	size_t n = len_class(r, b, 257, 290), at, hl;

	snprintf(set, sizeof(set), "%s%s", sg_token,
		 sipgen_pct(r, 10) ? sg_word_extra : "");
	switch (sipgen_below(r, 4)) {
	case 0:		/* uuid-like */
		sg_rand_from(r, out, n, sipgen_pct(r, 50) ? sg_hex : sg_alnum);
		for (size_t i = 8; i < n; i += 5)
			out[i] = '-';
		break;
	case 1:		/* word@host */
		hl = strlen(host);
		if (n < hl + 2)
			n = hl + 2;
		at = n - hl - 1;
		sg_rand_from(r, out, at, set);
		out[at] = '@';
		memcpy(out + at + 1, host, hl + 1);
		break;
	default:
		sg_rand_from(r, out, n, set);
		if (n > 3 && sipgen_pct(r, 30))
			out[sg_range(r, 1, (uint32_t)n - 2)] = '@';
	}
}

static void gen_host(struct sipgen_rng *r, char *out, int ipv6, int domain)
{
	if (domain && sipgen_pct(r, 40)) {
		static const char *const d[] = { "atlanta.example.com",
						 "biloxi.example.com",
						 "pbx-7.voip.example.net",
						 "sbc.EXAMPLE.org" };
		snprintf(out, SIPGEN_HOST_MAX, "%s", d[sipgen_below(r, 4)]);
	} else if (ipv6) {
		snprintf(out, SIPGEN_HOST_MAX, "[2001:db8:%x::%x]",
			 sipgen_below(r, 0x10000), sg_range(r, 1, 0xffff));
	} else {
		snprintf(out, SIPGEN_HOST_MAX, "%u.%u.%u.%u", sg_range(r, 1, 223),
			 sipgen_below(r, 256), sipgen_below(r, 256),
			 sg_range(r, 1, 254));
	}
}

void sipgen_dialog(struct sipgen_rng *r, struct sipgen_dlg *d)
{
	static const char *const users[] = { "alice", "bob", "+4930123456",
					     "1001", "carol.smith", "x_y-z" };

	memset(d, 0, sizeof(*d));
	d->ipv6 = sipgen_pct(r, 30);
	d->h_entry = hex_digits_value(r);
	d->h_id = hex_digits_value(r);
	gen_host(r, d->caller_host, d->ipv6, 0);
	gen_host(r, d->callee_host, d->ipv6, 0);
	gen_host(r, d->proxy_host, d->ipv6, 0);
	gen_host(r, d->proxy_host2, d->ipv6, 0);
	gen_callid(r, d->callid, d->caller_host);
	gen_tag(r, d->caller_tag);
	gen_tag(r, d->callee_tag);
	d->early = sipgen_pct(r, 10);
	snprintf(d->caller_user, sizeof(d->caller_user), "%s",
		 users[sipgen_below(r, 6)]);
	snprintf(d->callee_user, sizeof(d->callee_user), "%s",
		 users[sipgen_below(r, 6)]);
	snprintf(d->rr_param, sizeof(d->rr_param), "did");
}

/* --- addresses ---------------------------------------------------------------------- */

/* A display name: none, quoted (with ,;<> and escaped quotes), or tokens. */
static void display(struct sipgen_rng *r, struct sg_sb *b, const char *user)
{
	static const char *const quoted[] = {
		"Alice", "Smith, John", "a;b=c", "<boss>", "Bob \\\"the\\\" Builder",
		"x,y;z<w>", "", "\\\\back", "Caller \\\"1\\\", <ext;2>", "  spaced  ",
		"evil;tag=fake>", "Name <sip:x@y>;tag=1",
	};
	static const char *const tokens[] = { "Alice", "Bob Smith",
					      "Anonymous", "x-y.z ~ 1" };

	switch (sipgen_below(r, 5)) {
	case 0:
	case 1:
		return;
	case 2:
	case 3:
		sg_sb_fmt(b, "\"%s\" ", quoted[sipgen_below(r, 12)]);
		return;
	default:
		sg_sb_fmt(b, "%s ", sipgen_pct(r, 50) ? tokens[sipgen_below(r, 4)]
						  : user);
	}
}

static void uri(struct sipgen_rng *r, struct sg_sb *b, const char *user,
		const char *host, int params)
{
	sg_sb_fmt(b, "sip:%s@%s", user, host);
	if (!params)
		return;
	if (sipgen_pct(r, 20))
		sg_sb_fmt(b, ":%u", sg_range(r, 1024, 65535));
	if (sipgen_pct(r, 15))
		sg_sb_str(b, ";user=phone");
	if (sipgen_pct(r, 15))
		sg_sb_str(b, ";transport=udp");
}

/* A header parameter that is not the tag. */
static void other_param(struct sipgen_rng *r, struct sg_sb *b)
{
	static const char *const p[] = { ";x-p=1", ";epid=5d3e1c", ";ob",
					 ";x-info=\"a b\"", ";foo=bar.baz",
					 ";X-Orig=+4930", ";tagged=1", ";xtag=2",
					 ";tag-id=3" };

	sg_sb_str(b, p[sipgen_below(r, 9)]);
}

/*
 * From or To value for @user at @host with tag @tag (NULL: none): name-addr
 * or addr-spec, parameters before and after the tag.
 */
static void addr_value(struct sipgen_rng *r, struct sg_sb *b, const char *user,
		       const char *host, const char *tag)
{
	int bare = sipgen_pct(r, 15), i, before = 0, after;
	char tn[8];

	if (bare) {
		uri(r, b, user, host, 0);
	} else {
		display(r, b, user);
		sg_sb_chr(b, '<');
		uri(r, b, user, host, 1);
		sg_sb_chr(b, '>');
	}
	if (sipgen_pct(r, 25))
		before = (int)sg_range(r, 1, 2);
	after = sipgen_pct(r, 20) ? (int)sg_range(r, 1, 2) : 0;
	for (i = 0; i < before; i++)
		other_param(r, b);
	if (tag) {
		sg_recase(r, "tag", tn);
		if (sipgen_pct(r, 90))
			snprintf(tn, sizeof(tn), "tag");
		if (sipgen_pct(r, 3))	/* SEMI and EQUAL may carry SWS */
			sg_sb_fmt(b, " ; %s = %s", tn, tag);
		else
			sg_sb_fmt(b, ";%s=%s", tn, tag);
	}
	for (i = 0; i < after; i++)
		other_param(r, b);
}

/* --- Route ---------------------------------------------------------------------------- */

/* Can @s stand in a URI parameter as it is (RFC 3261 paramchar)? */
static int uri_safe(const char *s)
{
	for (; *s; s++)
		if (!strchr(sg_alnum, *s) && !strchr("-_.!~*'()[]/:&+$", *s))
			return 0;
	return 1;
}

/* One of our entries: <sip:HOST[:PORT];lr[;r2=on];did=X[;dm=M]>, shuffled. */
static void our_route(struct sipgen_rng *r, struct sg_sb *b,
		      const struct sipgen_dlg *d, const char *host, int r2,
		      int cookie, int port_given)
{
	char p[5][80], v[24];
	int n = 0, perm[5], i, j, t;

	dlg_cookie_value(d->h_entry, d->h_id, v, sizeof(v));
	snprintf(p[n++], 80, ";%s", sipgen_pct(r, 10) ? "lr=on" : "lr");
	if (r2)
		snprintf(p[n++], 80, ";r2=on");
	if (cookie)
		snprintf(p[n++], 80, ";%s=%s", d->rr_param, v);
	if (cookie && d->mac_hex[0])
		snprintf(p[n++], 80, ";dm=%s", d->mac_hex);
	/* Kamailio's ftag, when the tag needs no %-escape in a URI */
	if (sipgen_pct(r, 15) && uri_safe(d->caller_tag) &&
	    strlen(d->caller_tag) < 60)
		snprintf(p[n++], 80, ";ftag=%s", d->caller_tag);
	for (i = 0; i < n; i++)
		perm[i] = i;
	if (sipgen_pct(r, 50)) {
		for (i = n - 1; i > 0; i--) {
			j = (int)sipgen_below(r, (uint32_t)i + 1);
			t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
		}
	}
	sg_sb_str(b, "<sip:");
	if (sipgen_pct(r, 10))
		sg_sb_str(b, "sipdlg@");
	sg_sb_str(b, host);
	if (!port_given && sipgen_pct(r, 60))
		sg_sb_fmt(b, ":%u",
			  sipgen_pct(r, 70) ? 5060 : sg_range(r, 1024, 65535));
	if (sipgen_pct(r, 10))
		sg_sb_str(b, ";transport=udp");
	for (i = 0; i < n; i++)
		sg_sb_str(b, p[perm[i]]);
	sg_sb_chr(b, '>');
}

/* The Route set: ours first (one or two entries), 0-3 others after it. */
static void route_set(struct sipgen_rng *r, struct sg_lines *L,
		      const struct sipgen_dlg *d, const struct sipgen_opts *o,
		      char *shape)
{
	char ent[6][300];
	int n = 0, dbl = sipgen_pct(r, 30), extra, i, one_line;
	int pg = o && o->proxy_port_given;
	struct sg_sb b, *lb;

	sg_sb_init(&b, ent[n++], sizeof(ent[0]));
	our_route(r, &b, d, d->proxy_host, dbl, 1, pg);
	if (dbl) {
		sg_sb_init(&b, ent[n++], sizeof(ent[0]));
		our_route(r, &b, d, d->proxy_host2, 1, sipgen_pct(r, 80), pg);
	}
	extra = o && o->no_extra_routes ? 0 : (int)sipgen_below(r, 4);
	for (i = 0; i < extra; i++) {
		sg_sb_init(&b, ent[n++], sizeof(ent[0]));
		sg_sb_fmt(&b, "<sip:p%d.example.net%s;lr>", i,
		       sipgen_pct(r, 30) ? ":5080" : "");
	}
	one_line = sipgen_below(r, 3);	/* 0 lines, 1 one list, 2 mixed */
	lb = NULL;
	for (i = 0; i < n; i++) {
		if (!lb || one_line == 0 || (one_line == 2 && sipgen_pct(r, 50))) {
			lb = sg_line_new(L, &b, SG_ROUTE);
			sg_hname(r, lb, "Route", NULL);
		} else {
			sg_comma(r, lb);
		}
		sg_sb_str(lb, ent[i]);
	}
	strncat(shape, dbl ? " route2" : " route", SIPGEN_SHAPE_MAX - strlen(shape) - 1);
	if (extra)
		strncat(shape, one_line == 1 ? "+list" : "+lines",
			SIPGEN_SHAPE_MAX - strlen(shape) - 1);
}

/* Record-Route with our two entries (double record-routing), both cookied. */
static void record_route(struct sipgen_rng *r, struct sg_lines *L,
			 const struct sipgen_dlg *d, int pg)
{
	struct sg_sb b;

	sg_line_new(L, &b, SG_FREE);
	sg_hname(r, &b, "Record-Route", NULL);
	our_route(r, &b, d, d->proxy_host, 1, 1, pg);
	if (sipgen_pct(r, 50)) {
		sg_comma(r, &b);
	} else {
		sg_line_new(L, &b, SG_FREE);
		sg_hname(r, &b, "Record-Route", NULL);
	}
	our_route(r, &b, d, d->proxy_host2, 1, 1, pg);
}

/* --- methods, statuses, bodies ---------------------------------------------------------- */

struct method {
	const char *name;
	int sdm;		/* enum sipdlg_method */
	unsigned weight;
};

static const struct method METHODS[] = {
	{ "INVITE", SDM_INVITE, 12 },	{ "ACK", SDM_ACK, 10 },
	{ "BYE", SDM_BYE, 10 },		{ "CANCEL", SDM_CANCEL, 4 },
	{ "OPTIONS", SDM_OPTIONS, 8 },	{ "INFO", SDM_INFO, 10 },
	{ "UPDATE", SDM_UPDATE, 8 },	{ "PRACK", SDM_PRACK, 6 },
	{ "REFER", SDM_REFER, 6 },	{ "NOTIFY", SDM_NOTIFY, 8 },
	{ "MESSAGE", SDM_MESSAGE, 8 },	{ "SUBSCRIBE", SDM_OTHER, 5 },
	{ NULL, SDM_OTHER, 5 },		/* an unknown token */
};
#define NMETHODS ((int)(sizeof(METHODS) / sizeof(METHODS[0])))

/* An extension method: a token no SIP stack knows. */
static void unknown_method(struct sipgen_rng *r, char *out, size_t cap)
{
	static const char *const names[] = { "FOO", "PUBLISH", "X-ACME",
					     "MY.METHOD", "A+B", "Z_1",
					     "NEWMETHOD-2", "Q!", "INFOX",
					     "BYEBYE", "OPTIONS2", "ACKNOWLEDGE" };
	size_t n, i;

	if (sipgen_pct(r, 60)) {
		snprintf(out, cap, "%s", names[sipgen_below(r, 12)]);
		return;
	}
	/* an upper-case letter, then token characters */
	n = sg_range(r, 1, 14);
	out[0] = (char)('A' + sipgen_below(r, 26));
	for (i = 1; i < n && i + 1 < cap; i++) {
		char c = sg_pick(r, sg_token);

		out[i] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
	}
	out[i] = '\0';
}

/* Is @name (NULL: the unknown token) one of o->skip_methods? */
static int skipped(const struct sipgen_opts *o, const char *name)
{
	char key[32];

	if (!o || !o->skip_methods)
		return 0;
	snprintf(key, sizeof(key), " %s ", name ? name : "?");
	return strstr(o->skip_methods, key) != NULL;
}

static const struct method *pick_method(struct sipgen_rng *r,
					const struct sipgen_opts *o)
{
	unsigned total = 0, x;
	int i;

	if (o && o->only_method) {
		for (i = 0; i < NMETHODS - 1; i++)
			if (!strcmp(METHODS[i].name, o->only_method))
				return &METHODS[i];
		return &METHODS[NMETHODS - 1];
	}
	for (i = 0; i < NMETHODS; i++)
		total += METHODS[i].weight;
	for (;;) {
		x = sipgen_below(r, total);
		for (i = 0; x >= METHODS[i].weight; i++)
			x -= METHODS[i].weight;
		if (!skipped(o, METHODS[i].name))
			return &METHODS[i];
	}
}

static int reply_status(struct sipgen_rng *r, const char *method)
{
	static const int inv[] = { 100, 180, 183, 200, 200, 200, 401, 407,
				   481, 487, 488, 491, 500 };
	static const int other[] = { 200, 200, 200, 202, 403, 404, 405, 415,
				     481, 489, 500, 501, 503, 603 };

	if (!strcmp(method, "INVITE"))
		return inv[sipgen_below(r, 13)];
	return other[sipgen_below(r, 14)];
}

static const char *reason_phrase(struct sipgen_rng *r, int status)
{
	if (sipgen_pct(r, 10))
		return "";
	if (sipgen_pct(r, 10))
		return "Whatever The Agent Says";
	switch (status) {
	case 100: return "Trying";
	case 180: return "Ringing";
	case 183: return "Session Progress";
	case 200: return "OK";
	case 202: return "Accepted";
	case 481: return "Call/Transaction Does Not Exist";
	case 487: return "Request Terminated";
	case 491: return "Request Pending";
	default: return "Some Reason";
	}
}

/* A body for @method (or the reply to it); "" if it carries none. */
static void body_for(struct sipgen_rng *r, const char *method, int status,
		     const struct sipgen_dlg *d, char *body, size_t cap,
		     const char **ctype)
{
	int sdp = 0;

	body[0] = '\0';
	*ctype = NULL;
	if (!strcmp(method, "INVITE") || !strcmp(method, "UPDATE") ||
	    !strcmp(method, "PRACK"))
		sdp = status ? (status >= 180 && status < 300 && sipgen_pct(r, 70))
			     : sipgen_pct(r, 60);
	if (sdp) {
		snprintf(body, cap,
			 "v=0\r\no=- %u %u IN IP%c %s\r\ns=-\r\nc=IN IP%c %s\r\n"
			 "t=0 0\r\nm=audio %u RTP/AVP 0 8 101\r\n"
			 "a=rtpmap:101 telephone-event/8000\r\na=%s\r\n",
			 sipgen_cseq(r), sipgen_cseq(r), d->ipv6 ? '6' : '4',
			 d->ipv6 ? "2001:db8::10" : "192.0.2.10",
			 d->ipv6 ? '6' : '4', d->ipv6 ? "2001:db8::10" : "192.0.2.10",
			 sg_range(r, 1024, 65534) & ~1u,
			 sipgen_pct(r, 50) ? "sendrecv" : "sendonly");
		*ctype = "application/sdp";
	} else if (status) {
		return;
	} else if (!strcmp(method, "INFO") && sipgen_pct(r, 80)) {
		snprintf(body, cap, "Signal=%c\r\nDuration=%u\r\n",
			 "0123456789*#"[sipgen_below(r, 12)], sg_range(r, 40, 400));
		*ctype = "application/dtmf-relay";
	} else if (!strcmp(method, "MESSAGE")) {
		sg_rand_from(r, body, sg_range(r, 1, 200), sg_alnum);
		*ctype = "text/plain;charset=UTF-8";
	} else if (!strcmp(method, "NOTIFY") && sipgen_pct(r, 70)) {
		snprintf(body, cap, "SIP/2.0 %d %s\r\n",
			 sipgen_pct(r, 50) ? 200 : 180,
			 sipgen_pct(r, 50) ? "OK" : "Ringing");
		*ctype = "message/sipfrag;version=2.0";
	}
}

/* --- headers every message has --------------------------------------------------------- */

static void via_line(struct sipgen_rng *r, struct sg_lines *L, const char *host,
		     const char *branch, int extra_vias, int port_given)
{
	struct sg_sb b;
	int i;

	sg_line_new(L, &b, SG_VIA);
	sg_hname(r, &b, "Via", "v");
	sg_sb_fmt(&b, "SIP/2.0/UDP %s", host);
	if (!port_given && sipgen_pct(r, 60))
		sg_sb_fmt(&b, ":%u", sipgen_pct(r, 50) ? 5060 : sg_range(r, 1024, 65535));
	if (sipgen_pct(r, 30))
		sg_sb_str(&b, ";rport");
	sg_sb_fmt(&b, ";branch=%s", branch);
	if (sipgen_pct(r, 10))
		sg_sb_str(&b, ";received=192.0.2.77");
	for (i = 0; i < extra_vias; i++) {
		if (sipgen_pct(r, 50)) {
			sg_comma(r, &b);
		} else {
			sg_line_new(L, &b, SG_VIA);
			sg_hname(r, &b, "Via", "v");
		}
		sg_sb_fmt(&b, "SIP/2.0/UDP 198.51.100.%d:5060;branch=z9hG4bK%08x",
		       i + 1, (unsigned)sipgen_next(r));
	}
}

static void ua_branch(struct sipgen_rng *r, char *out, size_t cap)
{
	char rnd[40];

	sg_rand_from(r, rnd, sg_range(r, 6, 32), sg_alnum);
	snprintf(out, cap, "z9hG4bK%s", rnd);
}

/* Our branch: z9hG4bKsd<RH(h_entry)>.<RH(h_id)>.<D><LOOP:8><TXN:16>. */
static void our_branch(struct sipgen_rng *r, const struct sipgen_dlg *d,
		       int dir, char *out, size_t cap)
{
	char he[12], hi[12];

	dlg_rhex(d->h_entry, he);
	dlg_rhex(d->h_id, hi);
	snprintf(out, cap, "%s%s.%s.%c%08x%016llx", SIPDLG_BRANCH_PREFIX, he,
		 hi, dir ? '1' : '0', (unsigned)sipgen_next(r),
		 (unsigned long long)sipgen_next(r));
}

/* Headers that do not matter to the fast path, 0-8 of them. */
static void other_headers(struct sipgen_rng *r, struct sg_lines *L,
			  const char *method, int is_request, int *folded,
			  const struct sipgen_opts *o)
{
	static const char *const names[][2] = {
		{ "User-Agent", NULL }, { "Allow", NULL }, { "Supported", "k" },
		{ "Date", NULL }, { "Session-Expires", "x" }, { "Accept", NULL },
		{ "Subject", "s" }, { "Require", NULL }, { "Privacy", NULL },
		{ "P-Asserted-Identity", NULL }, { "X-Custom-Header", NULL },
		{ "Timestamp", NULL }, { "Allow-Events", "u" }, { "Reason", NULL },
		{ "Server", NULL }, { "Min-SE", NULL },
	};
	static const char *const values[] = {
		"sipp/3.7", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE",
		"timer, 100rel, replaces", "Mon, 07 Dec 2026 08:00:00 GMT",
		"1800;refresher=uac", "application/sdp, application/dtmf-relay",
		"a subject: with colon, and \"quotes\"", "100rel", "none",
		"<sip:+4930123@example.com;user=phone>", "x=1;y=2",
		"54.5 0.1", "talk, hold, refer", "Q.850;cause=16;text=\"x\"",
		"Kamailio (5.6)", "90",
	};
	int lim = o && o->within_limits;
	unsigned n = !lim && sipgen_pct(r, 1) ? sg_range(r, 25, 40)
					      : sipgen_below(r, 9);
	unsigned used = 0, i, k;
	struct sg_sb b;

	for (i = 0; i < n; i++) {
		k = sipgen_below(r, 16);
		if (n <= 8 && (used & (1u << k)))
			continue;	/* most of them may appear once only */
		used |= 1u << k;
		sg_line_new(L, &b, SG_FREE);
		if (n > 8) {
			sg_hname(r, &b, "X-Filler", NULL);
			sg_sb_fmt(&b, "%u", i);
			continue;
		}
		sg_hname(r, &b, names[k][0], names[k][1]);
		sg_sb_str(&b, values[k]);
		if (!(o && o->no_folding) && !lim && !*folded &&
		    sipgen_pct(r, 1)) {
			sg_sb_str(&b, "\r\n continued");	/* folding, RFC 3261 7.3.1 */
			*folded = 1;
		}
	}
	if (!strcmp(method, "SUBSCRIBE") || !strcmp(method, "NOTIFY")) {
		sg_line_new(L, &b, SG_FREE);
		sg_hname(r, &b, "Event", "o");
		sg_sb_str(&b, sipgen_pct(r, 50) ? "refer" : "dialog;id=1");
		if (is_request && !strcmp(method, "NOTIFY")) {
			sg_line_new(L, &b, SG_FREE);
			sg_hname(r, &b, "Subscription-State", NULL);
			sg_sb_str(&b, sipgen_pct(r, 50) ? "active;expires=60"
						     : "terminated;reason=noresource");
		}
	}
	if (is_request && !strcmp(method, "REFER")) {
		sg_line_new(L, &b, SG_FREE);
		sg_hname(r, &b, "Refer-To", "r");
		sg_sb_str(&b, "<sip:carol@192.0.2.50?Replaces=abc%40host%3Bto-tag%3D1>");
		if (sipgen_pct(r, 50)) {
			sg_line_new(L, &b, SG_FREE);
			sg_hname(r, &b, "Referred-By", "b");
			sg_sb_str(&b, "<sip:alice@atlanta.example.com>");
		}
	}
	if (is_request && !strcmp(method, "PRACK")) {
		sg_line_new(L, &b, SG_FREE);
		sg_hname(r, &b, "RAck", NULL);
		sg_sb_fmt(&b, "%u %u INVITE", sg_range(r, 1, 100000), sipgen_cseq(r));
	}
}

/* --- one message ------------------------------------------------------------------------- */

/* Change one character of @s so that it differs (a forged value). */
static void forge_str(struct sipgen_rng *r, char *s)
{
	size_t n = strlen(s), i;
	char c;

	if (!n)
		return;
	i = sipgen_below(r, (uint32_t)n);
	do
		c = sg_pick(r, sg_alnum);
	while (c == s[i]);
	s[i] = c;
}

static int build(struct sipgen_rng *r, const struct sipgen_dlg *dlg,
		 const struct sipgen_opts *o, enum sipgen_forge forge,
		 struct sipgen_msg *m)
{
	static struct sg_lines L;	/* ~45 KB: not on the stack; one caller at a time */
	static char ftag[SIPGEN_TAG_MAX], ttag[SIPGEN_TAG_MAX];
	struct sipgen_dlg d = *dlg;
	const struct method *me;
	char mname[24], branch[120], body[700];
	const char *ctype, *fu, *fh, *ft, *tu, *th, *tt, *eol;
	static const char *const sep[] = { "  ", "\t", " \t" };
	int perm[SG_MAX_LINES], i, reply, dir, status = 0, want_contact;
	size_t max = o && o->max_len ? (size_t)o->max_len : SIPGEN_MSG_MAX;
	struct sg_sb b, mb;

	memset(m, 0, sizeof(*m));
	L.n = 0;
	L.over = 0;
	if (forge == SIPGEN_FORGE_CALLID)
		forge_str(r, d.callid);
	me = pick_method(r, o);
	if (me->name)
		snprintf(mname, sizeof(mname), "%s", me->name);
	else
		unknown_method(r, mname, sizeof(mname));
	reply = !(o && o->no_replies) && strcmp(mname, "ACK") &&
		sipgen_pct(r, 30);
	if (o && o->force_dir)
		dir = o->force_dir - 1;
	else
		dir = (int)sipgen_below(r, 2);
	m->is_request = !reply;
	m->method = me->sdm;
	m->dir = dir;
	m->cseq = sipgen_cseq(r);
	m->forge = forge;
	snprintf(m->method_name, sizeof(m->method_name), "%s", mname);
	snprintf(m->shape, sizeof(m->shape), "%s %s%s cseq %u",
		 reply ? "reply" : "req", mname, dir ? " up" : " down", m->cseq);

	/* From/To of the request, whoever answers it */
	if (dir == SDD_CALLER_TO_CALLEE) {
		fu = d.caller_user, fh = d.caller_host, ft = d.caller_tag;
		tu = d.callee_user, th = d.callee_host, tt = d.callee_tag;
	} else {
		fu = d.callee_user, fh = d.callee_host, ft = d.callee_tag;
		tu = d.caller_user, th = d.caller_host, tt = d.caller_tag;
	}
	snprintf(ftag, sizeof(ftag), "%s", ft);
	snprintf(ttag, sizeof(ttag), "%s", tt);
	if (forge == SIPGEN_FORGE_FTAG)
		forge_str(r, ftag);
	if (forge == SIPGEN_FORGE_TTAG)
		forge_str(r, ttag);
	ft = ftag;
	tt = ttag;

	/* start line */
	sg_sb_init(&mb, m->buf, max + 1);
	eol = sipgen_pct(r, 3) ? "\n" : "\r\n";
	if (reply) {
		status = reply_status(r, mname);
		m->status = status;
		sg_sb_fmt(&mb, "SIP/2.0 %d %s%s", status, reason_phrase(r, status), eol);
	} else {
		sg_sb_fmt(&mb, "%s sip:%s@%s", mname, tu,
		       o && o->target ? o->target : th);
		if (!(o && o->target) && sipgen_pct(r, 50))
			sg_sb_fmt(&mb, ":%u", sg_range(r, 1024, 65535));
		if (sipgen_pct(r, 20))
			sg_sb_str(&mb, ";transport=udp");
		sg_sb_fmt(&mb, " SIP/2.0%s", eol);
	}

	/* Via: a request carries its sender's; a reply ours on top */
	if (reply) {
		our_branch(r, &d, dir, branch, sizeof(branch));
		via_line(r, &L, d.proxy_host, branch, (int)sg_range(r, 1, 2),
			 o && o->proxy_port_given);
		strncat(m->shape, " ourvia", SIPGEN_SHAPE_MAX - strlen(m->shape) - 1);
	} else {
		ua_branch(r, branch, sizeof(branch));
		via_line(r, &L, o && o->sent_by ? o->sent_by : fh, branch,
			 sipgen_pct(r, 20) ? 1 : 0, o && o->sent_by);
		if (!(o && sipgen_pct(r, (unsigned)o->no_route_pct))) {
			route_set(r, &L, &d, o, m->shape);
			m->has_route = 1;
		} else {
			strncat(m->shape, " noroute",
				SIPGEN_SHAPE_MAX - strlen(m->shape) - 1);
		}
		sg_line_new(&L, &b, SG_FREE);
		sg_hname(r, &b, "Max-Forwards", NULL);
		sg_sb_fmt(&b, "%u", sipgen_pct(r, 80) ? 70 : sg_range(r, 1, 69));
	}
	if (sipgen_pct(r, 10) && (reply ? status / 100 == 2 : 1))
		record_route(r, &L, &d, o && o->proxy_port_given);

	sg_line_new(&L, &b, SG_FREE);
	sg_hname(r, &b, "From", "f");
	addr_value(r, &b, fu, fh, ft);
	sg_trailing_ws(r, &b);
	sg_line_new(&L, &b, SG_FREE);
	sg_hname(r, &b, "To", "t");
	addr_value(r, &b, tu, th, tt);
	sg_trailing_ws(r, &b);
	sg_line_new(&L, &b, SG_FREE);
	sg_hname(r, &b, "Call-ID", "i");
	sg_sb_str(&b, d.callid);
	if (sipgen_pct(r, 5))
		sg_sb_str(&b, sipgen_pct(r, 50) ? " " : "\t");
	sg_line_new(&L, &b, SG_FREE);
	sg_hname(r, &b, "CSeq", NULL);
	sg_sb_fmt(&b, "%u%s%s", m->cseq,
		  sipgen_pct(r, 85) ? " " : sep[sipgen_below(r, 3)], mname);
	sg_trailing_ws(r, &b);

	want_contact = !strcmp(mname, "INVITE") || !strcmp(mname, "UPDATE") ||
		       !strcmp(mname, "SUBSCRIBE") || !strcmp(mname, "NOTIFY") ||
		       !strcmp(mname, "REFER");
	if (reply)
		want_contact = want_contact && status / 100 == 2;
	if (want_contact || sipgen_pct(r, 10)) {
		/* the sender's; a reply's comes from the request's target */
		const char *ch = o ? o->contact[dir ^ reply] : NULL;

		sg_line_new(&L, &b, SG_FREE);
		sg_hname(r, &b, "Contact", "m");
		sg_sb_fmt(&b, "<sip:%s@%s", fu, ch ? ch : fh);
		if (!ch && sipgen_pct(r, 40))
			sg_sb_fmt(&b, ":%u", sg_range(r, 1024, 65535));
		sg_sb_str(&b, sipgen_pct(r, 30) ? ";transport=udp>" : ">");
		if (sipgen_pct(r, 20))
			sg_sb_str(&b, ";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-0123456789ab>\"");
		if (sipgen_pct(r, 10))
			sg_sb_str(&b, ";expires=3600");
	}
	other_headers(r, &L, mname, !reply, &m->folded, o);

	body_for(r, mname, status, &d, body, sizeof(body), &ctype);
	if (ctype) {
		sg_line_new(&L, &b, SG_FREE);
		sg_hname(r, &b, "Content-Type", "c");
		sg_sb_str(&b, ctype);
	}
	if (body[0] || sipgen_pct(r, 95)) {
		sg_line_new(&L, &b, SG_FREE);
		sg_hname(r, &b, "Content-Length", "l");
		sg_sb_fmt(&b, "%zu", strlen(body));
	}
	if (L.over)
		return -ENOSPC;

	sg_shuffle(r, &L, perm);
	for (i = 0; i < L.n; i++) {
		const char *t = L.text[perm[i]];

		if (eol[0] == '\n') {	/* LF-only message: no CR anywhere */
			for (; *t; t++)
				if (*t != '\r')
					sg_sb_chr(&mb, *t);
		} else {
			sg_sb_str(&mb, t);
		}
		sg_sb_str(&mb, eol);
	}
	sg_sb_str(&mb, eol);
	sg_sb_str(&mb, body);
	if (mb.over)
		return -ENOSPC;
	m->len = mb.n;
	if (m->folded)
		strncat(m->shape, " folded", SIPGEN_SHAPE_MAX - strlen(m->shape) - 1);
	if (eol[0] == '\n')
		strncat(m->shape, " lf", SIPGEN_SHAPE_MAX - strlen(m->shape) - 1);
	return 0;
}

int sipgen_message(struct sipgen_rng *r, const struct sipgen_dlg *d,
		   const struct sipgen_opts *o, struct sipgen_msg *m)
{
	return build(r, d, o, SIPGEN_FORGE_NONE, m);
}

int sipgen_forged(struct sipgen_rng *r, const struct sipgen_dlg *d,
		  const struct sipgen_opts *o, enum sipgen_forge f,
		  struct sipgen_msg *m)
{
	return build(r, d, o, f, m);
}
