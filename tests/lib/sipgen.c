// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sipgen.c - valid in-dialog SIP messages with generated values; see
 * sipgen.h.
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
#include "lib/sipgen.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <linux/types.h>

#include "sipdlg_shared.h"
#include "dialog/dlg.h"		/* dlg_cookie_value, dlg_rhex: the real writer */

/* --- random numbers --------------------------------------------------------- */

void sipgen_seed(struct sipgen_rng *r, uint64_t seed)
{
	r->s = seed;
}

uint64_t sipgen_next(struct sipgen_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint32_t sipgen_below(struct sipgen_rng *r, uint32_t n)
{
	return (uint32_t)(sipgen_next(r) % n);
}

int sipgen_pct(struct sipgen_rng *r, unsigned pct)
{
	return sipgen_below(r, 100) < pct;
}

/* Uniform in [lo, hi]. */
static uint32_t range(struct sipgen_rng *r, uint32_t lo, uint32_t hi)
{
	return lo + sipgen_below(r, hi - lo + 1);
}

uint32_t sipgen_cseq(struct sipgen_rng *r)
{
	static const uint32_t lo[11] = { 0, 1, 10, 100, 1000, 10000, 100000,
					 1000000, 10000000, 100000000,
					 1000000000 };
	uint32_t digits = range(r, 1, 10);
	uint32_t hi = digits == 10 ? 0x7fffffffu : lo[digits] * 10 - 1;

	if (sipgen_pct(r, 5))	/* the edges of the digit count */
		return sipgen_pct(r, 50) ? lo[digits] : hi;
	return range(r, lo[digits], hi);
}

/* A 32-bit value whose reverse hex has 1..8 digits, uniform over them. */
static uint32_t hex_digits_value(struct sipgen_rng *r)
{
	uint32_t digits = range(r, 1, 8);

	if (digits == 1)
		return sipgen_below(r, 16);
	return range(r, 1u << (4 * (digits - 1)),
		     digits == 8 ? 0xffffffffu : (1u << (4 * digits)) - 1);
}

/* --- a string builder ------------------------------------------------------- */

struct sb {
	char *p;
	size_t n, cap;
	int over;
};

static void sb_init(struct sb *b, char *p, size_t cap)
{
	b->p = p;
	b->n = 0;
	b->cap = cap;
	b->over = 0;
	p[0] = '\0';
}

static void sb_mem(struct sb *b, const char *s, size_t n)
{
	if (b->over || b->n + n + 1 > b->cap) {
		b->over = 1;
		return;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
	sb_mem(b, s, strlen(s));
}

static void sb_chr(struct sb *b, char c)
{
	sb_mem(b, &c, 1);
}

static void sb_fmt(struct sb *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_fmt(struct sb *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->over = 1;
		return;
	}
	sb_mem(b, tmp, (size_t)n);
}

/* --- values --------------------------------------------------------------------- */

static const char ALNUM[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/* RFC 3261 token: alphanum and -.!%*_+`'~ */
static const char TOKEN[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	"-.!%*_+`'~";
/* RFC 3261 word (Call-ID): token chars and ()<>:\"/[]?{} */
static const char WORD_EXTRA[] = "()<>:\\\"/[]?{}";
static const char HEX[] = "0123456789abcdef";

static char pick(struct sipgen_rng *r, const char *set)
{
	return set[sipgen_below(r, (uint32_t)strlen(set))];
}

static void rand_from(struct sipgen_rng *r, char *out, size_t n,
		      const char *set)
{
	for (size_t i = 0; i < n; i++)
		out[i] = pick(r, set);
	out[n] = '\0';
}

/* Length classes: short, medium, long, and now and then past a limit. */
static size_t len_class(struct sipgen_rng *r, const uint32_t *bounds,
			uint32_t over_lo, uint32_t over_hi)
{
	if (sipgen_pct(r, 1))
		return range(r, over_lo, over_hi);
	if (sipgen_pct(r, 3))
		return bounds[4];	/* exactly the longest the kernel takes */
	switch (sipgen_below(r, 4)) {
	case 0: return range(r, bounds[0], bounds[1]);
	case 1: return range(r, bounds[1] + 1, bounds[2]);
	case 2: return range(r, bounds[2] + 1, bounds[3]);
	default: return range(r, bounds[3] + 1, bounds[4]);
	}
}

/* A tag: token characters, 1..128 bytes (SIPDLG_TAG_MAX). */
static void gen_tag(struct sipgen_rng *r, char *out)
{
	static const uint32_t b[5] = { 1, 8, 32, 64, 128 };
	size_t n = len_class(r, b, 129, 150);

	switch (sipgen_below(r, 4)) {
	case 0:		/* sipp, Kamailio: digits and letters */
		rand_from(r, out, n, ALNUM);
		break;
	case 1:		/* hex, as many phones write */
		rand_from(r, out, n, HEX);
		break;
	default:
		rand_from(r, out, n, TOKEN);
	}
}

/* A Call-ID: word ["@" word], 5..256 bytes (SIPDLG_CALLID_MAX). */
static void gen_callid(struct sipgen_rng *r, char *out, const char *host)
{
	static const uint32_t b[5] = { 5, 16, 48, 128, 256 };
	char set[128];
	size_t n = len_class(r, b, 257, 290), at, hl;

	snprintf(set, sizeof(set), "%s%s", TOKEN,
		 sipgen_pct(r, 10) ? WORD_EXTRA : "");
	switch (sipgen_below(r, 4)) {
	case 0:		/* uuid-like */
		rand_from(r, out, n, sipgen_pct(r, 50) ? HEX : ALNUM);
		for (size_t i = 8; i < n; i += 5)
			out[i] = '-';
		break;
	case 1:		/* word@host */
		hl = strlen(host);
		if (n < hl + 2)
			n = hl + 2;
		at = n - hl - 1;
		rand_from(r, out, at, set);
		out[at] = '@';
		memcpy(out + at + 1, host, hl + 1);
		break;
	default:
		rand_from(r, out, n, set);
		if (n > 3 && sipgen_pct(r, 30))
			out[range(r, 1, (uint32_t)n - 2)] = '@';
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
			 sipgen_below(r, 0x10000), range(r, 1, 0xffff));
	} else {
		snprintf(out, SIPGEN_HOST_MAX, "%u.%u.%u.%u", range(r, 1, 223),
			 sipgen_below(r, 256), sipgen_below(r, 256),
			 range(r, 1, 254));
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

/* --- header names and separators ------------------------------------------------ */

/* Some case of @s into @out: as written, upper, lower, or mixed. */
static void recase(struct sipgen_rng *r, const char *s, char *out)
{
	unsigned how = sipgen_below(r, 20);
	size_t i;

	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (how == 0 || (how == 2 && sipgen_pct(r, 50)))
			c = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
		else if (how == 1 || how == 2)
			c = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
		out[i] = c;
	}
	out[i] = '\0';
}

/* SP/HTAB run: mostly none before a colon, mostly one space after it. */
static void sws(struct sipgen_rng *r, struct sb *b, int after)
{
	unsigned n;

	if (!after) {
		n = sipgen_pct(r, 85) ? 0 : range(r, 1, 3);
	} else {
		unsigned x = sipgen_below(r, 100);
		if (x < 75) {
			sb_chr(b, ' ');
			return;
		}
		n = x < 85 ? 0 : range(r, 1, 4);
	}
	while (n--)
		sb_chr(b, sipgen_pct(r, 70) ? ' ' : '\t');
}

/* "Name:" with the long or compact (@compact, may be NULL) name. */
static void hname(struct sipgen_rng *r, struct sb *b, const char *name,
		  const char *compact)
{
	char buf[64];

	if (compact && sipgen_pct(r, 30))
		recase(r, compact, buf);
	else
		recase(r, name, buf);
	sb_str(b, buf);
	sws(r, b, 0);
	sb_chr(b, ':');
	sws(r, b, 1);
}

/* --- the message under construction ------------------------------------------------ */

#define MAX_LINES 64
#define LINE_MAX 700

/* Header lines before shuffling; `order` groups keep their order. */
struct lines {
	char text[MAX_LINES][LINE_MAX];
	int group[MAX_LINES];	/* 0: free; 1: Via; 2: Route */
	int n;
	int over;
};

enum { G_FREE = 0, G_VIA = 1, G_ROUTE = 2 };

static struct sb *line_new(struct lines *L, struct sb *b, int group)
{
	if (L->n == MAX_LINES) {
		L->over = 1;
		sb_init(b, L->text[MAX_LINES - 1], LINE_MAX);
		return b;
	}
	L->group[L->n] = group;
	sb_init(b, L->text[L->n], LINE_MAX);
	L->n++;
	return b;
}

/* Shuffle free lines; Via and Route lines stay in their relative order. */
static void shuffle(struct sipgen_rng *r, struct lines *L, int *perm)
{
	int slots[2][MAX_LINES], ns[2] = { 0, 0 }, i, j, t, k[2] = { 0, 0 };

	for (i = 0; i < L->n; i++)
		perm[i] = i;
	for (i = L->n - 1; i > 0; i--) {
		j = (int)sipgen_below(r, (uint32_t)i + 1);
		t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	/* positions now held by Via/Route lines get them back in order */
	for (i = 0; i < L->n; i++)
		if (L->group[perm[i]])
			slots[L->group[perm[i]] - 1][ns[L->group[perm[i]] - 1]++] = i;
	for (i = 0; i < L->n; i++) {
		int g = L->group[i];

		if (g)
			perm[slots[g - 1][k[g - 1]++]] = i;
	}
}

/* --- addresses ---------------------------------------------------------------------- */

/* A display name: none, quoted (with ,;<> and escaped quotes), or tokens. */
static void display(struct sipgen_rng *r, struct sb *b, const char *user)
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
		sb_fmt(b, "\"%s\" ", quoted[sipgen_below(r, 12)]);
		return;
	default:
		sb_fmt(b, "%s ", sipgen_pct(r, 50) ? tokens[sipgen_below(r, 4)]
						  : user);
	}
}

static void uri(struct sipgen_rng *r, struct sb *b, const char *user,
		const char *host, int params)
{
	sb_fmt(b, "sip:%s@%s", user, host);
	if (!params)
		return;
	if (sipgen_pct(r, 20))
		sb_fmt(b, ":%u", range(r, 1024, 65535));
	if (sipgen_pct(r, 15))
		sb_str(b, ";user=phone");
	if (sipgen_pct(r, 15))
		sb_str(b, ";transport=udp");
}

/* A header parameter that is not the tag. */
static void other_param(struct sipgen_rng *r, struct sb *b)
{
	static const char *const p[] = { ";x-p=1", ";epid=5d3e1c", ";ob",
					 ";x-info=\"a b\"", ";foo=bar.baz",
					 ";X-Orig=+4930", ";tagged=1", ";xtag=2",
					 ";tag-id=3" };

	sb_str(b, p[sipgen_below(r, 9)]);
}

/*
 * From or To value for @user at @host with tag @tag (NULL: none): name-addr
 * or addr-spec, parameters before and after the tag.
 */
static void addr_value(struct sipgen_rng *r, struct sb *b, const char *user,
		       const char *host, const char *tag)
{
	int bare = sipgen_pct(r, 15), i, before = 0, after;
	char tn[8];

	if (bare) {
		uri(r, b, user, host, 0);
	} else {
		display(r, b, user);
		sb_chr(b, '<');
		uri(r, b, user, host, 1);
		sb_chr(b, '>');
	}
	if (sipgen_pct(r, 25))
		before = (int)range(r, 1, 2);
	after = sipgen_pct(r, 20) ? (int)range(r, 1, 2) : 0;
	for (i = 0; i < before; i++)
		other_param(r, b);
	if (tag) {
		recase(r, "tag", tn);
		if (sipgen_pct(r, 90))
			snprintf(tn, sizeof(tn), "tag");
		if (sipgen_pct(r, 3))	/* SEMI and EQUAL may carry SWS */
			sb_fmt(b, " ; %s = %s", tn, tag);
		else
			sb_fmt(b, ";%s=%s", tn, tag);
	}
	for (i = 0; i < after; i++)
		other_param(r, b);
}

/* --- Route ---------------------------------------------------------------------------- */

/* Can @s stand in a URI parameter as it is (RFC 3261 paramchar)? */
static int uri_safe(const char *s)
{
	for (; *s; s++)
		if (!strchr(ALNUM, *s) && !strchr("-_.!~*'()[]/:&+$", *s))
			return 0;
	return 1;
}

/* One of our entries: <sip:HOST[:PORT];lr[;r2=on];did=X[;dm=M]>, shuffled. */
static void our_route(struct sipgen_rng *r, struct sb *b,
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
	sb_str(b, "<sip:");
	if (sipgen_pct(r, 10))
		sb_str(b, "sipdlg@");
	sb_str(b, host);
	if (!port_given && sipgen_pct(r, 60))
		sb_fmt(b, ":%u", sipgen_pct(r, 70) ? 5060 : range(r, 1024, 65535));
	if (sipgen_pct(r, 10))
		sb_str(b, ";transport=udp");
	for (i = 0; i < n; i++)
		sb_str(b, p[perm[i]]);
	sb_chr(b, '>');
}

/* Now and then SP/HTAB at the end of a header line (before its CRLF). */
static void trailing_ws(struct sipgen_rng *r, struct sb *b)
{
	if (sipgen_pct(r, 3))
		sb_str(b, sipgen_pct(r, 50) ? " " : " \t");
}

static void comma(struct sipgen_rng *r, struct sb *b)
{
	static const char *const c[] = { ",", ", ", " , ", ",\t" };

	sb_str(b, c[sipgen_below(r, 4)]);
}

/* The Route set: ours first (one or two entries), 0-3 others after it. */
static void route_set(struct sipgen_rng *r, struct lines *L,
		      const struct sipgen_dlg *d, const struct sipgen_opts *o,
		      char *shape)
{
	char ent[6][300];
	int n = 0, dbl = sipgen_pct(r, 30), extra, i, one_line;
	int pg = o && o->proxy_port_given;
	struct sb b, *lb;

	sb_init(&b, ent[n++], sizeof(ent[0]));
	our_route(r, &b, d, d->proxy_host, dbl, 1, pg);
	if (dbl) {
		sb_init(&b, ent[n++], sizeof(ent[0]));
		our_route(r, &b, d, d->proxy_host2, 1, sipgen_pct(r, 80), pg);
	}
	extra = o && o->no_extra_routes ? 0 : (int)sipgen_below(r, 4);
	for (i = 0; i < extra; i++) {
		sb_init(&b, ent[n++], sizeof(ent[0]));
		sb_fmt(&b, "<sip:p%d.example.net%s;lr>", i,
		       sipgen_pct(r, 30) ? ":5080" : "");
	}
	one_line = sipgen_below(r, 3);	/* 0 lines, 1 one list, 2 mixed */
	lb = NULL;
	for (i = 0; i < n; i++) {
		if (!lb || one_line == 0 || (one_line == 2 && sipgen_pct(r, 50))) {
			lb = line_new(L, &b, G_ROUTE);
			hname(r, lb, "Route", NULL);
		} else {
			comma(r, lb);
		}
		sb_str(lb, ent[i]);
	}
	strncat(shape, dbl ? " route2" : " route", SIPGEN_SHAPE_MAX - strlen(shape) - 1);
	if (extra)
		strncat(shape, one_line == 1 ? "+list" : "+lines",
			SIPGEN_SHAPE_MAX - strlen(shape) - 1);
}

/* Record-Route with our two entries (double record-routing), both cookied. */
static void record_route(struct sipgen_rng *r, struct lines *L,
			 const struct sipgen_dlg *d, int pg)
{
	struct sb b;

	line_new(L, &b, G_FREE);
	hname(r, &b, "Record-Route", NULL);
	our_route(r, &b, d, d->proxy_host, 1, 1, pg);
	if (sipgen_pct(r, 50)) {
		comma(r, &b);
	} else {
		line_new(L, &b, G_FREE);
		hname(r, &b, "Record-Route", NULL);
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
	n = range(r, 1, 14);
	out[0] = (char)('A' + sipgen_below(r, 26));
	for (i = 1; i < n && i + 1 < cap; i++) {
		char c = pick(r, TOKEN);

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
			 range(r, 1024, 65534) & ~1u,
			 sipgen_pct(r, 50) ? "sendrecv" : "sendonly");
		*ctype = "application/sdp";
	} else if (status) {
		return;
	} else if (!strcmp(method, "INFO") && sipgen_pct(r, 80)) {
		snprintf(body, cap, "Signal=%c\r\nDuration=%u\r\n",
			 "0123456789*#"[sipgen_below(r, 12)], range(r, 40, 400));
		*ctype = "application/dtmf-relay";
	} else if (!strcmp(method, "MESSAGE")) {
		rand_from(r, body, range(r, 1, 200), ALNUM);
		*ctype = "text/plain;charset=UTF-8";
	} else if (!strcmp(method, "NOTIFY") && sipgen_pct(r, 70)) {
		snprintf(body, cap, "SIP/2.0 %d %s\r\n",
			 sipgen_pct(r, 50) ? 200 : 180,
			 sipgen_pct(r, 50) ? "OK" : "Ringing");
		*ctype = "message/sipfrag;version=2.0";
	}
}

/* --- headers every message has --------------------------------------------------------- */

static void via_line(struct sipgen_rng *r, struct lines *L, const char *host,
		     const char *branch, int extra_vias, int port_given)
{
	struct sb b;
	int i;

	line_new(L, &b, G_VIA);
	hname(r, &b, "Via", "v");
	sb_fmt(&b, "SIP/2.0/UDP %s", host);
	if (!port_given && sipgen_pct(r, 60))
		sb_fmt(&b, ":%u", sipgen_pct(r, 50) ? 5060 : range(r, 1024, 65535));
	if (sipgen_pct(r, 30))
		sb_str(&b, ";rport");
	sb_fmt(&b, ";branch=%s", branch);
	if (sipgen_pct(r, 10))
		sb_str(&b, ";received=192.0.2.77");
	for (i = 0; i < extra_vias; i++) {
		if (sipgen_pct(r, 50)) {
			comma(r, &b);
		} else {
			line_new(L, &b, G_VIA);
			hname(r, &b, "Via", "v");
		}
		sb_fmt(&b, "SIP/2.0/UDP 198.51.100.%d:5060;branch=z9hG4bK%08x",
		       i + 1, (unsigned)sipgen_next(r));
	}
}

static void ua_branch(struct sipgen_rng *r, char *out, size_t cap)
{
	char rnd[40];

	rand_from(r, rnd, range(r, 6, 32), ALNUM);
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
static void other_headers(struct sipgen_rng *r, struct lines *L,
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
	unsigned n = !lim && sipgen_pct(r, 1) ? range(r, 25, 40)
					      : sipgen_below(r, 9);
	unsigned used = 0, i, k;
	struct sb b;

	for (i = 0; i < n; i++) {
		k = sipgen_below(r, 16);
		if (n <= 8 && (used & (1u << k)))
			continue;	/* most of them may appear once only */
		used |= 1u << k;
		line_new(L, &b, G_FREE);
		if (n > 8) {
			hname(r, &b, "X-Filler", NULL);
			sb_fmt(&b, "%u", i);
			continue;
		}
		hname(r, &b, names[k][0], names[k][1]);
		sb_str(&b, values[k]);
		if (!(o && o->no_folding) && !lim && !*folded &&
		    sipgen_pct(r, 1)) {
			sb_str(&b, "\r\n continued");	/* folding, RFC 3261 7.3.1 */
			*folded = 1;
		}
	}
	if (!strcmp(method, "SUBSCRIBE") || !strcmp(method, "NOTIFY")) {
		line_new(L, &b, G_FREE);
		hname(r, &b, "Event", "o");
		sb_str(&b, sipgen_pct(r, 50) ? "refer" : "dialog;id=1");
		if (is_request && !strcmp(method, "NOTIFY")) {
			line_new(L, &b, G_FREE);
			hname(r, &b, "Subscription-State", NULL);
			sb_str(&b, sipgen_pct(r, 50) ? "active;expires=60"
						     : "terminated;reason=noresource");
		}
	}
	if (is_request && !strcmp(method, "REFER")) {
		line_new(L, &b, G_FREE);
		hname(r, &b, "Refer-To", "r");
		sb_str(&b, "<sip:carol@192.0.2.50?Replaces=abc%40host%3Bto-tag%3D1>");
		if (sipgen_pct(r, 50)) {
			line_new(L, &b, G_FREE);
			hname(r, &b, "Referred-By", "b");
			sb_str(&b, "<sip:alice@atlanta.example.com>");
		}
	}
	if (is_request && !strcmp(method, "PRACK")) {
		line_new(L, &b, G_FREE);
		hname(r, &b, "RAck", NULL);
		sb_fmt(&b, "%u %u INVITE", range(r, 1, 100000), sipgen_cseq(r));
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
		c = pick(r, ALNUM);
	while (c == s[i]);
	s[i] = c;
}

static int build(struct sipgen_rng *r, const struct sipgen_dlg *dlg,
		 const struct sipgen_opts *o, enum sipgen_forge forge,
		 struct sipgen_msg *m)
{
	static struct lines L;	/* ~45 KB: not on the stack; one caller at a time */
	static char ftag[SIPGEN_TAG_MAX], ttag[SIPGEN_TAG_MAX];
	struct sipgen_dlg d = *dlg;
	const struct method *me;
	char mname[24], branch[120], body[700];
	const char *ctype, *fu, *fh, *ft, *tu, *th, *tt, *eol;
	static const char *const sep[] = { "  ", "\t", " \t" };
	int perm[MAX_LINES], i, reply, dir, status = 0, want_contact;
	size_t max = o && o->max_len ? (size_t)o->max_len : SIPGEN_MSG_MAX;
	struct sb b, mb;

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
	sb_init(&mb, m->buf, max + 1);
	eol = sipgen_pct(r, 3) ? "\n" : "\r\n";
	if (reply) {
		status = reply_status(r, mname);
		m->status = status;
		sb_fmt(&mb, "SIP/2.0 %d %s%s", status, reason_phrase(r, status), eol);
	} else {
		sb_fmt(&mb, "%s sip:%s@%s", mname, tu,
		       o && o->target ? o->target : th);
		if (!(o && o->target) && sipgen_pct(r, 50))
			sb_fmt(&mb, ":%u", range(r, 1024, 65535));
		if (sipgen_pct(r, 20))
			sb_str(&mb, ";transport=udp");
		sb_fmt(&mb, " SIP/2.0%s", eol);
	}

	/* Via: a request carries its sender's; a reply ours on top */
	if (reply) {
		our_branch(r, &d, dir, branch, sizeof(branch));
		via_line(r, &L, d.proxy_host, branch, (int)range(r, 1, 2),
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
		line_new(&L, &b, G_FREE);
		hname(r, &b, "Max-Forwards", NULL);
		sb_fmt(&b, "%u", sipgen_pct(r, 80) ? 70 : range(r, 1, 69));
	}
	if (sipgen_pct(r, 10) && (reply ? status / 100 == 2 : 1))
		record_route(r, &L, &d, o && o->proxy_port_given);

	line_new(&L, &b, G_FREE);
	hname(r, &b, "From", "f");
	addr_value(r, &b, fu, fh, ft);
	trailing_ws(r, &b);
	line_new(&L, &b, G_FREE);
	hname(r, &b, "To", "t");
	addr_value(r, &b, tu, th, tt);
	trailing_ws(r, &b);
	line_new(&L, &b, G_FREE);
	hname(r, &b, "Call-ID", "i");
	sb_str(&b, d.callid);
	if (sipgen_pct(r, 5))
		sb_str(&b, sipgen_pct(r, 50) ? " " : "\t");
	line_new(&L, &b, G_FREE);
	hname(r, &b, "CSeq", NULL);
	sb_fmt(&b, "%u%s%s", m->cseq,
	       sipgen_pct(r, 85) ? " " : sep[sipgen_below(r, 3)], mname);
	trailing_ws(r, &b);

	want_contact = !strcmp(mname, "INVITE") || !strcmp(mname, "UPDATE") ||
		       !strcmp(mname, "SUBSCRIBE") || !strcmp(mname, "NOTIFY") ||
		       !strcmp(mname, "REFER");
	if (reply)
		want_contact = want_contact && status / 100 == 2;
	if (want_contact || sipgen_pct(r, 10)) {
		/* the sender's; a reply's comes from the request's target */
		const char *ch = o ? o->contact[dir ^ reply] : NULL;

		line_new(&L, &b, G_FREE);
		hname(r, &b, "Contact", "m");
		sb_fmt(&b, "<sip:%s@%s", fu, ch ? ch : fh);
		if (!ch && sipgen_pct(r, 40))
			sb_fmt(&b, ":%u", range(r, 1024, 65535));
		sb_str(&b, sipgen_pct(r, 30) ? ";transport=udp>" : ">");
		if (sipgen_pct(r, 20))
			sb_str(&b, ";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-0123456789ab>\"");
		if (sipgen_pct(r, 10))
			sb_str(&b, ";expires=3600");
	}
	other_headers(r, &L, mname, !reply, &m->folded, o);

	body_for(r, mname, status, &d, body, sizeof(body), &ctype);
	if (ctype) {
		line_new(&L, &b, G_FREE);
		hname(r, &b, "Content-Type", "c");
		sb_str(&b, ctype);
	}
	if (body[0] || sipgen_pct(r, 95)) {
		line_new(&L, &b, G_FREE);
		hname(r, &b, "Content-Length", "l");
		sb_fmt(&b, "%zu", strlen(body));
	}
	if (L.over)
		return -ENOSPC;

	shuffle(r, &L, perm);
	for (i = 0; i < L.n; i++) {
		const char *t = L.text[perm[i]];

		if (eol[0] == '\n') {	/* LF-only message: no CR anywhere */
			for (; *t; t++)
				if (*t != '\r')
					sb_chr(&mb, *t);
		} else {
			sb_str(&mb, t);
		}
		sb_str(&mb, eol);
	}
	sb_str(&mb, eol);
	sb_str(&mb, body);
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
