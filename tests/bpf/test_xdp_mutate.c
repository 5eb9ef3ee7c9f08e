// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_xdp_mutate.c - random corruptions of real in-dialog packets must
 * never be counted against a dialog they do not belong to.
 *
 * Seeds are in-dialog requests and replies (the Kamailio capture's BYE
 * and ACK, built ones in both directions, and generated ones from
 * tests/lib/sipgen.h with CSeqs of every digit count).  Each round takes a seed,
 * applies 1-4 random mutations (byte changes, insertions of bytes and of
 * SIP fragments, deletions, truncation, swapped or duplicated lines) and
 * runs the program on it.  A plain byte-by-byte reference of the matching
 * rules (below; it follows the documentation in bpf/sip_scan.h,
 * bpf/sip_lines.h and bpf/sip_values.h, without the kernel's scan
 * limits) then says which
 * dialog, if any, the packet belongs to and in which direction.
 *
 * Asserted for every round: exactly one reason is counted; the verdict is
 * XDP_DROP only for a drop reason with the drop policy on; a dialog's
 * counters move only for DLG_MATCH/DLG_REPLY_MATCH, only that one
 * dialog's, by one packet in one direction, and only if the reference
 * agrees on dialog and direction.  Where the reference matches and the
 * kernel does not (the kernel's scan limits), the round is only counted.
 *
 * SIPDLG_MUTATE_ROUNDS overrides the number of rounds (default 120000),
 * SIPDLG_MUTATE_SEED the random seed.  SIPDLG_MUTATE_TRACE=FILE writes
 * "round reason verdict" per round: two builds run with one seed must
 * write the same file when a change to the program keeps its behaviour
 * (e.g. a fast path), which the reference cannot tell at the scan limits.
 * Needs root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sipdlg_shared.h"
#include "sipdlg_hash.h"
#include "sipdlg.skel.h"
#include "lib/pcap.h"
#include "lib/pkt.h"
#include "lib/sipgen.h"

#define DEFAULT_ROUNDS 120000
#define DEFAULT_PCAP_DIR "tests/data/pcap"
#define MAXMSG 1400

static int g_ncpus;

/* --- dialogs ------------------------------------------------------------------ */

struct dlg {
	__u32 h_entry, h_id;
	const char *callid, *caller, *callee;	/* callee NULL: early */
};

static const struct dlg g_dlgs[] = {
	{ 1685, 9485, "a84b4c76e66710@pc33.atlanta.example.com", "1928301774",
	  "a6c85cf" },
	{ 1685, 9486, "a84b4c76e66710@pc33.atlanta.example.co", "a6c85cf",
	  "1928301774" },
	{ 0x192a, 0xbb2e, "1-6718@127.0.0.1", "6718SIPpTag001",
	  "6662SIPpTag011" },
	{ 1686, 9485, "early-1@192.0.2.1", "1928301774", NULL },
};
#define NDLG ((int)(sizeof(g_dlgs) / sizeof(g_dlgs[0])))

/* --- the reference ------------------------------------------------------------ */

struct span {
	const char *p;
	size_t n;
	int set;
};

struct ref {
	int reply;		/* 1 reply, 0 request */
	int notsip, folded;
	int method_bye;
	int to_seen, from_seen;
	struct span ftag, ttag, callid;
	int callid_seen, cseq_seen, cseq_ok;
	int cookie_seen, cookie_ok;
	__u32 he, hi;
	int via_seen, branch_ok, bdir;
};

static int is_ws(int c)
{
	return c == ' ' || c == '\t';
}

/* A token character (RFC 3261 25.1), as the first byte of a method. */
static int is_tchar(int c)
{
	return c < 128 && (isalnum(c) || (c && strchr("-.!%*_+`'~", c)));
}

static int is_pterm(int c)
{
	return c == ';' || c == ',' || c == '>' || c == '?' || c == '\r' ||
	       c == '\n' || c == ' ' || c == '\t' || c < 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Byte @i of [p, p+n), -1 past the end. */
#define AT(p, n, i) ((size_t)(i) < (n) ? (unsigned char)(p)[i] : -1)

/* Up to 7 SP/HTAB from @i; -1 if 8 or more. */
static long skip_ws(const char *p, size_t n, size_t i)
{
	size_t k = 0;

	while (k < 8 && is_ws(AT(p, n, i + k)))
		k++;
	return k == 8 ? -1 : (long)(i + k);
}

/*
 * After a ';' at @i in value [p, n): parameter @name?  0 not it, 1 no
 * value, 2 value at *v.
 */
static int param_at(const char *p, size_t n, size_t i, const char *name,
		    size_t *v)
{
	size_t nl = strlen(name), k;
	long j = skip_ws(p, n, i);
	int c;

	if (j < 0 || (size_t)j + nl > n)
		return 0;
	for (k = 0; k < nl; k++)
		if (tolower((unsigned char)p[j + k]) != name[k])
			return 0;
	j += (long)nl;
	if ((size_t)j >= n)
		return 1;
	j = skip_ws(p, n, (size_t)j);
	if (j < 0)
		return 0;
	c = AT(p, n, j);
	if (c != '=')
		return is_pterm(c) ? 1 : 0;
	j++;
	if ((size_t)j < n) {
		j = skip_ws(p, n, (size_t)j);
		if (j < 0)
			return 0;
	}
	*v = (size_t)j;
	return 2;
}

/* Reverse hex at @i: digits count (0..8) and value, -1 if 9+ digits. */
static int rhex(const char *p, size_t n, size_t i, __u32 *val)
{
	__u64 acc = 0;
	int k, d;

	for (k = 0; k < 9; k++) {
		d = hexval(AT(p, n, i + (size_t)k));
		if (d < 0)
			break;
		if (k == 8)
			return -1;
		acc |= (__u64)d << (4 * k);
	}
	*val = (__u32)acc;
	return k;
}

static void ref_route(struct ref *r, const char *p, size_t n)
{
	size_t i, v = 0;
	__u32 he, hi;
	int st, a, b;

	for (i = 0; i < n; i++) {
		if (p[i] != ';')
			continue;
		st = param_at(p, n, i + 1, "did", &v);
		if (!st)
			continue;
		r->cookie_seen = 1;
		if (st == 1)
			return;
		a = rhex(p, n, v, &he);
		if (a < 0 || AT(p, n, v + (size_t)a) != '.')
			return;
		b = rhex(p, n, v + (size_t)a + 1, &hi);
		if (b < 0 || !is_pterm(AT(p, n, v + (size_t)a + 1 + (size_t)b)))
			return;
		r->cookie_ok = 1;
		r->he = he;
		r->hi = hi;
		return;
	}
}

static void ref_tag(const char *p, size_t n, struct span *t)
{
	size_t i, start = 0, v = 0, e;
	int par = 0, st;

	/* only what follows the last '>' followed by an even number of '"'
	 * counts (none if such a '<' comes first from the end; all if
	 * there is neither) */
	t->set = 0;
	for (i = n; i-- > 0;) {
		if (p[i] == '"') {
			par ^= 1;
		} else if (!par && p[i] == '<') {
			return;
		} else if (!par && p[i] == '>') {
			start = i + 1;
			break;
		}
	}
	for (i = start; i < n; i++) {
		if (p[i] != ';')
			continue;
		st = param_at(p, n, i + 1, "tag", &v);
		if (st != 2)
			continue;
		for (e = v; e < n; e++)
			if (p[e] == ';' || p[e] == ',' || p[e] == '>' ||
			    is_ws(p[e]))
				break;
		if (e > v) {
			t->p = p + v;
			t->n = e - v;
			t->set = 1;
		}
		return;
	}
}

static void ref_via(struct ref *r, const char *p, size_t n)
{
	static const char pfx[] = SIPDLG_BRANCH_PREFIX;
	size_t i, v = 0, e;
	__u32 he, hi;
	int a, b;

	for (e = 0; e < n && p[e] != ','; e++)
		;
	for (i = 0; i < e; i++) {
		if (p[i] != ';' || !param_at(p, e, i + 1, "branch", &v))
			continue;
		if (param_at(p, e, i + 1, "branch", &v) != 2 ||
		    v + SIPDLG_BRANCH_PREFIX_LEN > e ||
		    memcmp(p + v, pfx, SIPDLG_BRANCH_PREFIX_LEN))
			return;
		v += SIPDLG_BRANCH_PREFIX_LEN;
		a = rhex(p, e, v, &he);
		if (a <= 0 || AT(p, e, v + (size_t)a) != '.')
			return;
		v += (size_t)a + 1;
		b = rhex(p, e, v, &hi);
		if (b <= 0 || AT(p, e, v + (size_t)b) != '.')
			return;
		a = AT(p, e, v + (size_t)b + 1);
		if (a != '0' && a != '1')
			return;
		r->branch_ok = 1;
		r->he = he;
		r->hi = hi;
		r->bdir = a - '0';
		return;
	}
}

static int name_is(const char *p, size_t n, const char *name)
{
	size_t nl = strlen(name), k;
	long j;

	if (n < nl)
		return 0;
	for (k = 0; k < nl; k++)
		if (tolower((unsigned char)p[k]) != name[k])
			return 0;
	j = skip_ws(p, n, nl);
	return j >= 0 && AT(p, n, j) == ':';
}

/* Parse @msg the way the rules say.  Returns 0, or -1 if not SIP. */
static int ref_parse(const char *m, size_t n, struct ref *r)
{
	size_t ls = 0, le, ve, vs;
	const char *l;
	int first = 1, need_to, done = 0;

	memset(r, 0, sizeof(*r));
	while (!done) {
		const char *nl = memchr(m + ls, '\n', n - ls);

		if (!nl)
			break;		/* incomplete line: the end */
		le = (size_t)(nl - m);
		ve = le;
		l = m + ls;
		if (ve > ls && m[ve - 1] == '\r' && !first)
			ve--;
		if (first) {
			size_t e = le > ls && m[le - 1] == '\r' ? le - 1 : le;

			first = 0;
			if (e - ls >= 8 && !strncasecmp(l, "SIP/2.0 ", 8)) {
				if (e - ls < 11 || !isdigit((unsigned char)l[8]) ||
				    !isdigit((unsigned char)l[9]) ||
				    !isdigit((unsigned char)l[10]) ||
				    (e - ls > 11 && !is_ws(l[11])))
					return -1;
				r->reply = 1;
			} else {
				if (!is_tchar((unsigned char)l[0]) || e - ls < 10 ||
				    strncasecmp(m + e - 8, " SIP/2.0", 8))
					return -1;
				r->method_bye = !strncmp(l, "BYE ", 4);
			}
			ls = le + 1;
			continue;
		}
		if (ve == ls)
			break;		/* empty line: end of headers */
		if (is_ws(l[0])) {
			r->folded = 1;
			return 0;
		}
		{
			const char *colon = memchr(l, ':', ve - ls);
			size_t hn = ve - ls;

			vs = colon ? (size_t)(colon - m) + 1 : ve;
			if (!r->reply && !r->cookie_seen &&
			    name_is(l, hn, "route"))
				ref_route(r, m + vs, ve - vs);
			else if (!r->callid_seen &&
				 (name_is(l, hn, "call-id") || name_is(l, hn, "i"))) {
				long a = skip_ws(m, ve, vs);
				size_t b = ve, k = 0;

				r->callid_seen = 1;
				while (b > (size_t)(a < 0 ? 0 : a) && is_ws(m[b - 1]) && k < 8)
					b--, k++;
				if (a >= 0 && k < 8 && b > (size_t)a) {
					r->callid.p = m + a;
					r->callid.n = b - (size_t)a;
					r->callid.set = 1;
				}
			} else if (!r->reply && !r->from_seen &&
				   (name_is(l, hn, "from") || name_is(l, hn, "f"))) {
				r->from_seen = 1;
				ref_tag(m + vs, ve - vs, &r->ftag);
			} else if (!r->reply && !r->to_seen &&
				   (name_is(l, hn, "to") || name_is(l, hn, "t"))) {
				r->to_seen = 1;
				ref_tag(m + vs, ve - vs, &r->ttag);
				if (!r->ttag.set)
					return 0;	/* not in-dialog: stop */
			} else if (!r->reply && !r->cseq_seen &&
				   name_is(l, hn, "cseq")) {
				long a = skip_ws(m, ve, vs);
				__u64 acc = 0;
				int k = 0;

				r->cseq_seen = 1;
				while (a >= 0 && k < 11 && isdigit((unsigned char)AT(m, ve, a + k)))
					acc = acc * 10 + (__u64)(m[a + k] - '0'), k++;
				r->cseq_ok = a >= 0 && k >= 1 && k <= 10 &&
					     acc <= 0xffffffffULL &&
					     is_ws(AT(m, ve, a + k));
			} else if (r->reply && !r->via_seen &&
				   (name_is(l, hn, "via") || name_is(l, hn, "v"))) {
				r->via_seen = 1;
				ref_via(r, m + vs, ve - vs);
				if (!r->branch_ok)
					return 0;
			}
		}
		ls = le + 1;
		/* stop as the kernel does once everything is there */
		need_to = r->reply ? (r->via_seen && r->callid_seen) :
			  (r->to_seen && r->from_seen && r->cseq_seen &&
			   r->callid_seen && r->cookie_seen);
		if (need_to) {
			if (ls < n && is_ws(m[ls]))
				r->folded = 1;
			done = 1;
		}
	}
	return 0;
}

static int span_eq(const struct span *s, const char *str)
{
	return s->set && s->n == strlen(str) && !memcmp(s->p, str, s->n);
}

/* Tight match of a request against dialog @d: direction or -1. */
static int ref_tight(const struct ref *r, const struct dlg *d)
{
	if (!span_eq(&r->callid, d->callid))
		return -1;
	if (d->callee) {
		if (span_eq(&r->ftag, d->callee) && span_eq(&r->ttag, d->caller))
			return 1;
		if (span_eq(&r->ftag, d->caller) && span_eq(&r->ttag, d->callee))
			return 0;
		return -1;
	}
	if (span_eq(&r->ttag, d->caller))
		return 1;
	if (span_eq(&r->ftag, d->caller))
		return 0;
	return -1;
}

static const struct dlg *by_key(__u32 he, __u32 hi)
{
	for (int i = 0; i < NDLG; i++)
		if (g_dlgs[i].h_entry == he && g_dlgs[i].h_id == hi)
			return &g_dlgs[i];
	return NULL;
}

/*
 * The dialog index and direction the packet belongs to (mode 0 or 1),
 * -1 for none.  *dir gets the direction the counters move in.
 */
static int ref_owner(const char *m, size_t n, int mode, int *dir)
{
	const struct dlg *d;
	struct ref r;
	int i, t;

	if (ref_parse(m, n, &r) < 0 || r.folded)
		return -1;
	if (r.reply) {
		if (!r.branch_ok || !(d = by_key(r.he, r.hi)) ||
		    !span_eq(&r.callid, d->callid))
			return -1;
		*dir = r.bdir ^ 1;
		return (int)(d - g_dlgs);
	}
	if (!r.ttag.set || !r.cseq_ok || !r.callid.set)
		return -1;
	if (r.cookie_seen && !r.cookie_ok)
		return -1;
	if (r.cookie_ok && (d = by_key(r.he, r.hi))) {
		t = ref_tight(&r, d);
		if (t >= 0) {
			*dir = t;
			return (int)(d - g_dlgs);
		}
	}
	if (mode == 1) {
		if (r.cookie_ok || !r.cookie_seen) {
			for (i = 0; i < NDLG; i++) {
				if (!span_eq(&r.callid, g_dlgs[i].callid))
					continue;
				t = ref_tight(&r, &g_dlgs[i]);
				if (t >= 0) {
					*dir = t;
					return i;
				}
			}
		}
	}
	return -1;
}

/* --- mutations ------------------------------------------------------------------- */

static unsigned long long g_rng;

static unsigned rnd(unsigned n)
{
	g_rng ^= g_rng << 13;
	g_rng ^= g_rng >> 7;
	g_rng ^= g_rng << 17;
	return n ? (unsigned)(g_rng % n) : 0;
}

static const char *const g_frags[] = {
	";", ",", "<", ">", "=", ".", " ", "\t", "\r\n", "\n", ":", "\"",
	";tag=", ";tag=1928301774", ";tag=a6c85cf", ";did=", "did=596.d052",
	";did=596.e052", "Route: <sip:x;lr;did=596.d052>\r\n",
	"To: <sip:a@a>;tag=1928301774\r\n", "From: <sip:b@b>;tag=a6c85cf\r\n",
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n",
	"i: 1-6718@127.0.0.1\r\n", "CSeq: 9 BYE\r\n", "\r\n\r\n", " \r\n",
	"z9hG4bKsd596.d052.0", ";branch=z9hG4bKsd596.d052.1x",
	"SIP/2.0 200 OK\r\n", "6718SIPpTag001", "6662SIPpTag011",
};
#define NFRAG ((unsigned)(sizeof(g_frags) / sizeof(g_frags[0])))

/* Line starts of @m (at most 64); returns how many. */
static int lines(const char *m, size_t n, size_t *st)
{
	int k = 0;

	st[k++] = 0;
	for (size_t i = 0; i + 1 < n && k < 64; i++)
		if (m[i] == '\n')
			st[k++] = i + 1;
	return k;
}

static size_t mutate(char *m, size_t n)
{
	size_t st[65], a, b, la, lb, len, pos;
	char tmp[MAXMSG];
	int k, i, j;

	switch (rnd(8)) {
	case 0:		/* change a byte */
		if (n)
			m[rnd((unsigned)n)] = (char)rnd(256);
		break;
	case 1:		/* flip a bit */
		if (n)
			m[rnd((unsigned)n)] ^= (char)(1u << rnd(8));
		break;
	case 2: {	/* insert a fragment */
		const char *f = g_frags[rnd(NFRAG)];

		len = strlen(f);
		pos = rnd((unsigned)n + 1);
		if (n + len >= MAXMSG)
			break;
		memmove(m + pos + len, m + pos, n - pos);
		memcpy(m + pos, f, len);
		n += len;
		break;
	}
	case 3:		/* delete a run */
		if (n) {
			pos = rnd((unsigned)n);
			len = 1 + rnd(8);
			if (pos + len > n)
				len = n - pos;
			memmove(m + pos, m + pos + len, n - pos - len);
			n -= len;
		}
		break;
	case 4:		/* truncate */
		if (n)
			n = rnd((unsigned)n + 1);
		break;
	case 5:		/* swap two lines */
	case 6:		/* duplicate a line */
		k = lines(m, n, st);
		if (k < 3)
			break;
		i = 1 + (int)rnd((unsigned)k - 1);
		j = 1 + (int)rnd((unsigned)k - 1);
		st[k] = n;
		a = st[i];
		la = st[i + 1] - a;
		b = st[j];
		lb = st[j + 1] - b;
		if (rnd(8) == 6 || i == j) {
			if (n + la < MAXMSG) {
				memmove(m + b + la, m + b, n - b);
				memmove(m + b, m + a + (b <= a ? la : 0), la);
				n += la;
			}
		} else {
			if (a > b) {
				size_t t = a; a = b; b = t;
				t = la; la = lb; lb = t;
			}
			/* [a,la) ... [b,lb) -> [b,lb) ... [a,la) */
			memcpy(tmp, m + a, b + lb - a);
			memcpy(m + a, tmp + (b - a), lb);
			memcpy(m + a + lb, tmp + la, b - a - la);
			memcpy(m + a + lb + (b - a - la), tmp, la);
		}
		break;
	default:	/* a character that matters, somewhere */
		if (n)
			m[rnd((unsigned)n)] = ";<>=,.: \r\n\t"[rnd(11)];
		break;
	}
	return n;
}

/* --- the program ------------------------------------------------------------------ */

static struct sipdlg_bpf *load(unsigned mode, unsigned drop)
{
	struct sipdlg_bpf *skel = sipdlg_bpf__open();
	struct bpf_map *map;

	if (!skel)
		return NULL;
	skel->rodata->sip_ports[0] = 5060;
	skel->rodata->n_sip_ports = 1;
	skel->rodata->dlg_match_mode = mode;
	skel->rodata->unknown_dialog_drop = drop;
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	if (sipdlg_bpf__load(skel)) {
		sipdlg_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static int put_dialogs(struct sipdlg_bpf *skel)
{
	for (int i = 0; i < NDLG; i++) {
		const struct dlg *d = &g_dlgs[i];
		struct sipdlg_dlg_key k = { d->h_entry, d->h_id };
		struct sipdlg_dlg_value v;
		__u64 ch = sipdlg_hash_bytes(d->callid, (__u32)strlen(d->callid));
		int err;

		memset(&v, 0, sizeof(v));
		v.callid_hash = ch;
		v.caller_tag_hash = sipdlg_hash_bytes(d->caller,
						      (__u32)strlen(d->caller));
		v.callee_tag_hash = d->callee ?
			sipdlg_hash_bytes(d->callee, (__u32)strlen(d->callee)) : 0;
		err = bpf_map__update_elem(skel->maps.dialogs, &k, sizeof(k),
					   &v, sizeof(v), BPF_ANY);
		if (!err)
			err = bpf_map__update_elem(skel->maps.callids, &ch,
						   sizeof(ch), &k, sizeof(k),
						   BPF_ANY);
		if (err)
			return err;
	}
	return 0;
}

static int read_counters(struct sipdlg_bpf *skel, __u64 *pk)
{
	size_t vsz = (size_t)g_ncpus * sizeof(struct sipdlg_counter);
	struct sipdlg_counter *v = calloc((size_t)g_ncpus, sizeof(*v));
	int err = 0;

	if (!v)
		return -ENOMEM;
	for (__u32 key = 0; key < SDR_MAX_ && !err; key++) {
		err = bpf_map__lookup_elem(skel->maps.counters, &key,
					   sizeof(key), v, vsz, 0);
		pk[key] = 0;
		for (int c = 0; c < g_ncpus; c++)
			pk[key] += v[c].packets;
	}
	free(v);
	return err;
}

/* --- the test ---------------------------------------------------------------------- */

#define CRLF "\r\n"
#define VIA "Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK776asdhds" CRLF
#define ROUTE "Route: <sip:192.0.2.2;lr;did=596.d052>" CRLF
#define CALLID "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF

static const char *const g_seeds[] = {
	"BYE sip:bob@192.0.2.4 SIP/2.0" CRLF VIA ROUTE "Max-Forwards: 70" CRLF
	"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
	"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF CALLID
	"CSeq: 231 BYE" CRLF "Content-Length: 0" CRLF CRLF,
	"INFO sip:alice@192.0.2.1 SIP/2.0" CRLF VIA
	"Route: <sip:p1;lr>, <sip:192.0.2.2;lr;did=596.d052>" CRLF
	"f: \"Bob\" <sip:bob@b>;tag=a6c85cf" CRLF "t: <sip:alice@a>;tag=1928301774" CRLF
	"i: a84b4c76e66710@pc33.atlanta.example.com" CRLF "CSeq: 4096 INFO" CRLF CRLF,
	"BYE sip:x SIP/2.0" CRLF VIA "Route: <sip:192.0.2.2;lr;did=596.e052>" CRLF
	"From: <sip:b@b>;tag=a6c85cf" CRLF "To: <sip:a@a>;tag=1928301774" CRLF
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.co" CRLF "CSeq: 1234567 BYE" CRLF CRLF,
	"UPDATE sip:x SIP/2.0" CRLF VIA "Route: <sip:192.0.2.2;lr;did=696.d052>" CRLF
	"From: <sip:b@b>;tag=zz" CRLF "To: <sip:a@a>;tag=1928301774" CRLF
	"Call-ID: early-1@192.0.2.1" CRLF "CSeq: 3 UPDATE" CRLF CRLF,
	"SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKsd596.d052.0x1" CRLF
	VIA "From: <sip:a@a>;tag=1928301774" CRLF "To: <sip:b@b>;tag=a6c85cf" CRLF
	CALLID "CSeq: 231 BYE" CRLF CRLF,
};
#define NSEED ((int)(sizeof(g_seeds) / sizeof(g_seeds[0])))

static size_t seed_from_pcap(int frame, char *out)
{
	char path[4096];
	struct capfile *cf;
	struct capframe fr;
	const char *d = getenv("SIPDLG_PCAP_DIR");
	size_t n = 0, off;
	int i = 0;

	snprintf(path, sizeof(path), "%s/kamailio-call.pcap",
		 d && *d ? d : DEFAULT_PCAP_DIR);
	if (capfile_open(path, &cf))
		return 0;
	while (capfile_next(cf, &fr) == 1) {
		if (++i != frame)
			continue;
		off = 14 + (size_t)(fr.data[14] & 0xf) * 4 + 8;
		if (fr.len > off && fr.len - off < MAXMSG) {
			n = fr.len - off;
			memcpy(out, fr.data + off, n);
		}
		break;
	}
	capfile_free(cf);
	return n;
}

/*
 * Generated seeds (tests/lib/sipgen.h): in-dialog requests and replies of
 * dialog g_dlgs[d] in the generator's shapes, with CSeqs of every digit
 * count.  Seeds the reference gives to no dialog (a shape it does not
 * read) are passed over.  The number made.
 */
#define NGEN 16

static int gen_seeds(char (*out)[MAXMSG], size_t *len)
{
	struct sipgen_opts o = { .within_limits = 1, .no_extra_routes = 0,
				 .max_len = MAXMSG - 200 };
	static struct sipgen_msg msg;
	struct sipgen_rng r;
	struct sipgen_dlg d;
	int n = 0, dir, tries;

	for (tries = 0; n < NGEN && tries < 10 * NGEN; tries++) {
		const struct dlg *g = &g_dlgs[tries % 2];

		sipgen_seed(&r, 0x5eed0000u + (unsigned)tries);
		sipgen_dialog(&r, &d);
		d.h_entry = g->h_entry;
		d.h_id = g->h_id;
		snprintf(d.callid, sizeof(d.callid), "%s", g->callid);
		snprintf(d.caller_tag, sizeof(d.caller_tag), "%s", g->caller);
		snprintf(d.callee_tag, sizeof(d.callee_tag), "%s", g->callee);
		d.early = 0;
		if (sipgen_message(&r, &d, &o, &msg) ||
		    ref_owner(msg.buf, msg.len, 0, &dir) < 0)
			continue;
		memcpy(out[n], msg.buf, msg.len);
		len[n++] = msg.len;
	}
	return n;
}

static void test_mutations(void **state)
{
	static const unsigned modes[3][2] = { { 0, 0 }, { 0, 1 }, { 1, 1 } };
	struct sipdlg_bpf *skels[3];
	static char seeds[NSEED + 2 + NGEN][MAXMSG];
	char m[MAXMSG];
	size_t seedlen[NSEED + 2 + NGEN], n;
	const char *env = getenv("SIPDLG_MUTATE_ROUNDS");
	long rounds = env ? atol(env) : DEFAULT_ROUNDS, round;
	int custom = env != NULL;
	__u64 before[SDR_MAX_], after[SDR_MAX_];
	struct sipdlg_dlg_value dv[NDLG], dv2;
	long bad = 0, matched = 0, ref_only = 0, dropped = 0;
	FILE *trace = NULL;
	int nseed = 0, i;

	env = getenv("SIPDLG_MUTATE_TRACE");
	if (env && *env) {
		trace = fopen(env, "w");
		assert_non_null(trace);
	}
	env = getenv("SIPDLG_MUTATE_SEED");
	g_rng = env ? strtoull(env, NULL, 0) : 0x9e3779b97f4a7c15ULL;
	for (i = 0; i < NSEED; i++) {
		seedlen[nseed] = strlen(g_seeds[i]);
		memcpy(seeds[nseed], g_seeds[i], seedlen[nseed]);
		nseed++;
	}
	seedlen[nseed] = seed_from_pcap(10, seeds[nseed]);	/* BYE */
	nseed += seedlen[nseed] > 0;
	seedlen[nseed] = seed_from_pcap(8, seeds[nseed]);	/* ACK */
	nseed += seedlen[nseed] > 0;
	assert_int_equal(nseed, NSEED + 2);
	nseed += gen_seeds(seeds + nseed, seedlen + nseed);
	assert_true(nseed > NSEED + 2 + NGEN / 2);

	for (i = 0; i < 3; i++) {
		skels[i] = load(modes[i][0], modes[i][1]);
		assert_non_null(skels[i]);
		assert_int_equal(put_dialogs(skels[i]), 0);
	}
	/* the seeds themselves all belong to a dialog */
	for (i = 0; i < nseed; i++) {
		int dir = -1, who = ref_owner(seeds[i], seedlen[i], 0, &dir);

		if (who < 0)
			fprintf(stdout, "# seed %d: reference finds no dialog\n", i);
		assert_true(who >= 0);
	}

	for (round = 0; round < rounds; round++) {
		int s = (int)rnd((unsigned)nseed), k = (int)(round % 3), muts;
		struct sipdlg_bpf *skel = skels[k];
		int reason = -1, nreason = 0, moved = -1, mdir = -1, rdir = -1;
		int owner, d;
		struct pkt p;

		memcpy(m, seeds[s], seedlen[s]);
		n = seedlen[s];
		muts = 1 + (int)rnd(4);
		for (i = 0; i < muts; i++)
			n = mutate(m, n);

		for (i = 0; i < NDLG; i++) {
			struct sipdlg_dlg_key key = { g_dlgs[i].h_entry,
						      g_dlgs[i].h_id };
			assert_int_equal(bpf_map__lookup_elem(skel->maps.dialogs,
					 &key, sizeof(key), &dv[i], sizeof(dv[i]), 0), 0);
		}
		assert_int_equal(read_counters(skel, before), 0);
		assert_int_equal(pkt_sip(&p, NULL, m, n), 0);
		{
			LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p.buf,
				    .data_size_in = (__u32)p.len, .repeat = 1);
			assert_int_equal(bpf_prog_test_run_opts(
				bpf_program__fd(skel->progs.sipdlg_xdp), &opts), 0);
			assert_int_equal(read_counters(skel, after), 0);
			for (i = 0; i < SDR_MAX_; i++) {
				if (after[i] == before[i])
					continue;
				nreason++;
				reason = i;
				if (after[i] != before[i] + 1)
					nreason++;
			}
			if (trace)
				fprintf(trace, "%ld %d %u\n", round, reason,
					opts.retval);
			if (nreason != 1 ||
			    opts.retval != (sipdlg_reason_drops((__u32)reason) ?
					    XDP_DROP : XDP_PASS) ||
			    (opts.retval == XDP_DROP && !modes[k][1])) {
				fprintf(stdout, "# round %ld: %d reasons (%d), verdict %u\n",
					round, nreason, reason, opts.retval);
				bad++;
				continue;
			}
			dropped += opts.retval == XDP_DROP;
		}
		for (i = 0; i < NDLG; i++) {
			struct sipdlg_dlg_key key = { g_dlgs[i].h_entry,
						      g_dlgs[i].h_id };
			assert_int_equal(bpf_map__lookup_elem(skel->maps.dialogs,
					 &key, sizeof(key), &dv2, sizeof(dv2), 0), 0);
			for (d = 0; d < 2; d++) {
				__u64 dp = dv2.dir[d].packets - dv[i].dir[d].packets;

				if (!dp)
					continue;
				if (moved >= 0 || dp != 1) {
					moved = -2;
					continue;
				}
				moved = i;
				mdir = d;
			}
		}
		owner = ref_owner(m, n, (int)modes[k][0], &rdir);
		if ((moved >= 0) !=
		    (reason == SDR_DLG_MATCH || reason == SDR_DLG_REPLY_MATCH) ||
		    moved == -2 || (moved >= 0 && (moved != owner || mdir != rdir))) {
			fprintf(stdout, "# round %ld seed %d mode %u: kernel %s dialog %d dir %d, reference %d dir %d\n",
				round, s, modes[k][0],
				reason == SDR_DLG_MATCH ? "matched" : "counted",
				moved, mdir, owner, rdir);
			fprintf(stdout, "# message (%zu bytes): ", n);
			for (size_t q = 0; q < n; q++)
				fprintf(stdout, isprint((unsigned char)m[q]) ? "%c" : "\\x%02x",
					(unsigned char)m[q]);
			fprintf(stdout, "\n");
			bad++;
			if (bad > 20)
				break;
			continue;
		}
		matched += moved >= 0;
		ref_only += moved < 0 && owner >= 0 &&
			    reason != SDR_DLG_RATE_LIMITED;
	}
	fprintf(stdout, "# %ld rounds: %ld matched (reference agreed), %ld "
		"dropped, %ld the reference matched and the kernel passed, "
		"%ld wrong\n", round, matched, dropped, ref_only, bad);
	for (i = 0; i < 3; i++)
		sipdlg_bpf__destroy(skels[i]);
	if (trace)
		fclose(trace);
	assert_int_equal(bad, 0);
	assert_true(round >= 100000 || custom);
}

static int tap_skip_all(const char *why)
{
	printf("1..1\nok 1 - test_xdp_mutate # SKIP %s\n", why);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutations),
	};

	if (geteuid() != 0)
		return tap_skip_all("not root");
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) != 1)
		return tap_skip_all("this kernel does not load XDP programs");
	g_ncpus = libbpf_num_possible_cpus();
	if (g_ncpus <= 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
