/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sip_values.h - the header values the fast path reads: parameters of
 * Route, Via, From and To (the cookie, its MAC, our branch, the tags),
 * and the state of one SIP scan (struct sd_sip).
 *
 * The general parameter walk (sd_params()) is the slow path: the usual
 * shapes are read by the straight-line code of sip_fast.h.  It runs in
 * the global functions sd_sip_route(), sd_sip_via() and sd_sip_tag(),
 * so that the verifier checks it once, and a packet calls them only when
 * a value is not of a usual shape (sd_sip_via(): every reply).  Limits of
 * the walk (more than SD_MAX_CAND candidate ';' in a value, too many
 * special bytes) are SDR_SIP_SCAN_LIMIT; the fast paths have none.
 *
 * Rules (the reference in tests/bpf/test_xdp_mutate.c follows them byte by
 * byte):
 * - A parameter is ';', up to SIPDLG_SWS_MAX SP/HTAB, its name without
 *   case, SP/HTAB, '=', SP/HTAB, the value.  A name followed (after
 *   SP/HTAB) by one of ; , > ? CR LF or the value's end has no value.
 * - Route: the first rr_param of the line is the cookie: reverse hex,
 *   '.', reverse hex (0-8 digits each, empty = 0), then ; , > ? SP HTAB
 *   or the line end; anything else (no value, no '.', a ninth digit, a
 *   non-hex character) is malformed.  With the MAC on, the first
 *   SIPDLG_MAC_PARAM of the same line must hold exactly 16 hex digits
 *   equal to sipdlg_dlg_mac() of the cookie.
 * - Via (replies, the first Via line only): the branch of its first
 *   value (up to a ','), SIPDLG_BRANCH_PREFIX RH '.' RH '.' D.
 * - From/To: only the parameters after the URI's '>' count: the last
 *   '>' of the value that is followed by an even number of '"' (so not
 *   one inside a quoted parameter value like `;p="a>b"`); none if a '<'
 *   is found first that way; all of the value's if it has neither (an
 *   addr-spec).  The first "tag" among them is the tag; its value ends at
 *   ; , > SP HTAB or the line end.  An empty value is no tag.
 */
#ifndef SIPDLG_BPF_SIP_VALUES_H
#define SIPDLG_BPF_SIP_VALUES_H

#include "sip_swar.h"

/* Internal outcomes besides SD_FURTHER and the reasons. */
#define SD_CONTINUE (-2)	/* value done, go on */
#define SD_NOT_DIALOG (-3)	/* a request without To-tag: not ours */

/* What the scan found (sd_sip.have). */
enum sd_flag {
	SD_F_COOKIE = 1 << 0,	/* a Route with the rr_param was read */
	SD_F_BADCOOKIE = 1 << 1, /* ... its value is malformed */
	SD_F_MACFAIL = 1 << 2,	/* ... its MAC is missing or wrong */
	SD_F_MACOK = 1 << 3,	/* ... its MAC is right */
	SD_F_CALLID = 1 << 4,	/* Call-ID line seen; after the scan:
				 * callid_hash is set */
	SD_F_FROM = 1 << 5,	/* a From header was read */
	SD_F_FTAG = 1 << 6,	/* ... with a tag: ftag_hash */
	SD_F_TO = 1 << 7,	/* a To header was read */
	SD_F_TTAG = 1 << 8,	/* ... with a tag: ttag_hash */
	SD_F_CSEQ = 1 << 9,	/* a CSeq header was read */
	SD_F_CSEQBAD = 1 << 10,	/* ... without a usable number */
	SD_F_CONTACT = 1 << 11,	/* a Contact header is present */
	SD_F_VIA = 1 << 12,	/* the top Via was read */
	SD_F_BRANCH = 1 << 13,	/* ... and carries our branch: key, dir */
	SD_F_ROUTES = 1 << 14,	/* the cookie is still to be looked for in
				 * the Route lines from s->q on (slow path) */
};

/*
 * Line kinds of the scan (sip_lines.h): the index of sd_sip.ls[]/le[] and
 * the bit (1 << kind) in sd_sip.seen/closed.  SD_H_CONTACT is only
 * a classification result: a Contact line is noted (SD_C_CONTACT) and
 * then treated as any other line.
 */
enum sd_hdr {
	SD_H_OTHER = 0,
	SD_H_ROUTE = 1,
	SD_H_CALLID = 2,
	SD_H_FROM = 3,
	SD_H_TO = 4,
	SD_H_CSEQ = 5,
	SD_H_START = 6,		/* the start line */
	SD_H_VIA = 7,
	SD_H_CONTACT = 8,
};
#define SD_C(kind) (1u << (kind))
#define SD_C_CONTACT SD_C(SD_H_CONTACT)

/* Route lines after the first that the line loop records (a power of 2). */
#define SD_RSLOTS 4

/* Internal outcomes of the line loop (sip_lines.h). */
#define SD_L_DONE (-4)		/* every line needed is closed */
#define SD_L_END (-5)		/* the headers (or the message) ended */

/* Most ';' a Route/Via/From/To value may have (Route: in all, From/To:
 * after the URI's '>'); more is SDR_SIP_SCAN_LIMIT.  A power of two. */
#define SD_MAX_CAND 16

/*
 * State and results of one scan, on the program's stack: the results
 * zeroed and msg_off/msg_end set by the caller, the rest set here.  The line loop keeps its state here and reads it
 * with SD_RD at the top of every step: memory behind a global function's
 * pointer argument is not tracked by the verifier, so each step starts
 * from "some offset" and all paths into it prune alike.  The loop also
 * writes a value and reads it back where paths that computed it
 * differently (a line kind, a position) should join again.
 */
struct sd_sip {
	/* results, zeroed by the caller (sd_sip) */
	__u32 have;		/* enum sd_flag */
	__u32 method;		/* enum sipdlg_method (requests) */
	__u32 status;		/* status code (replies), 0 for a request */
	__u32 cseq;		/* CSeq number */
	__u32 branch_dir;	/* D of our branch (replies) */
	struct sipdlg_dlg_key key; /* from the cookie or the branch */
	__u64 callid_hash;
	__u64 ftag_hash;
	__u64 ttag_hash;
	/* in, set by the caller */
	__u32 msg_off;		/* first byte of the SIP message */
	__u32 msg_end;		/* one past its last byte */
	/* line loop (sip_lines.h), set by sd_sip_scan() */
	__u32 q;		/* scan position */
	__u32 cur;		/* start of the current line (SD_LM_ROUTE) */
	__u32 at;		/* the LF found */
	int lr;			/* how the loop ended */
	__u8 kind;		/* the current line's stored kind */
	__u8 nrt;		/* Route lines after the first, begun: up to
				 * SD_RSLOTS recorded, SD_RSLOTS + 1: more */
	__u8 rwalk1;		/* the first Route line needs the general
				 * walk (sd_sip_routes) */
	__u16 nlines;		/* header lines begun */
	__u16 seen;		/* SD_C(kind): wanted, its first line not
				 * begun yet (the main pass, SD_NEED_DONE) */
	__u16 closed;		/* SD_C(kind): its first line began and
				 * ended; SD_C_CONTACT (before: wanted) */
	__u16 rtnl;		/* s->nlines at the last slot's line */
	__u16 rts[SD_RSLOTS], rte[SD_RSLOTS]; /* start, end of each slot's
				 * line (end valid once nrt counts it) */
	/* scratch: written before it is read, never zeroed */
	__u16 ls[8], le[8];	/* first line of each kind: start, end
				 * (before its CR LF), valid once closed;
				 * offsets are below SD_PKT_MASK */
	__u32 vs, ve;		/* sd_sip_tag() etc.: the value [vs, ve) */
	__u32 pa, pb, open;	/* sd_params() state and results */
	__u32 ncand;		/* sd_params(): candidate ';' found */
	__u16 cand[SD_MAX_CAND]; /* ... and their offsets */
	__u32 pq;		/* sd_params(), sd_tag_end(): position */
	__u32 hoff, hlen;	/* sd_hash_value() input */
	__u64 vhash;		/* sd_sip_tag(): the tag's hash, 0 none */
};

/* sd_param_at() result for "name present but without a value". */
#define SD_NOVAL 1

#define SD_F20(n) (sd_low_bytes(n) & SD_REP(0x20))

/* Byte at @off, or 256 at or past @lim. */
static __always_inline __u32 sd_byte_at(void *data, void *end, __u32 off,
					__u32 lim)
{
	if (off >= lim)
		return 256;
	return (__u32)sd_load8(data, end, off) & 0xff;
}

/* Does byte @c end a parameter name or value in a URI or header? */
#define SD_PTERM_BITS                                                      \
	(1ULL << ';' | 1ULL << ',' | 1ULL << '>' | 1ULL << '?' |           \
	 1ULL << '\r' | 1ULL << '\n' | 1ULL << ' ' | 1ULL << '\t')
static __always_inline int sd_is_pterm(__u32 c)
{
	/* every terminator is below 64: one shift of a bit set */
	return c == 256 || (c < 64 && ((SD_PTERM_BITS >> (c & 63)) & 1));
}

/* --- hashing ------------------------------------------------------------ */

/*
 * sipdlg_hash of the s->hlen bytes at frame offset s->hoff (1..
 * SIPDLG_CALLID_MAX), read as words; the last group is the word that
 * ends at the value's end, shifted down, so nothing past the value is
 * mixed in.  Offset and length come from memory so that every way into
 * the loop is the same state.  0 if the frame is too short (cannot
 * happen for a value inside it).
 */
static __always_inline __u64 sd_hash_value(void *data, void *end,
					   struct sd_sip *s)
{
	__u32 off = SD_RD(s->hoff), len = SD_RD(s->hlen);
	__u32 k, rem = len & 7, full = len >> 3;
	__u64 h;
	void *p;

	if (!len || len > SIPDLG_CALLID_MAX || off > SD_PKT_LIMIT)
		return 0;
	h = sipdlg_hash_init(len);
	for (k = 0; k < SIPDLG_CALLID_MAX / 8; k++) {
		if (k >= full)
			break;
		p = sd_pkt_at(data, off + 8 * k);
		if (p + 8 > end)
			return 0;
		h = sipdlg_hash_step(h, SIPDLG_LE64(*(__u64 *)p));
	}
	if (rem) {
		if (off + len < 8)
			return 0;
		p = sd_pkt_at(data, off + len - 8);
		if (p + 8 > end)
			return 0;
		h = sipdlg_hash_step(h, SIPDLG_LE64(*(__u64 *)p) >>
						((64 - 8 * rem) & 63));
	}
	return sipdlg_hash_final(h);
}

/* --- numbers ------------------------------------------------------------ */

/*
 * Reverse hex at @off, before @lim: up to 8 hex digits.  Returns the
 * number of digits (0..8) with the value in *val, or -1 if a ninth
 * digit follows.
 */
static __always_inline int sd_rhex(void *data, void *end, __u32 off,
				   __u32 lim, __u32 *val)
{
	__u64 nib, bad, n2;
	__u32 n;

	*val = 0;
	if (off >= lim)
		return 0;
	bad = sd_hex_bytes(sd_load8(data, end, off), &nib) &
	      sd_low_bytes(lim - off);
	bad = ~bad & SD_HIGH;
	n = sd_first8(bad);
	if (n == 8) {
		/* eight digits: a ninth must not follow */
		if (off + 8 < lim &&
		    (sd_hex_bytes(sd_load8(data, end, off + 8), &n2) & 0x80))
			return -1;
	}
	*val = sd_pack_rhex(nib, n);
	return (int)n;
}

/*
 * The cookie value at @v (the Route value ends at @ve): RH '.' RH, then
 * a terminator.  Returns the terminator's offset with s->key set, or 0
 * if malformed.
 */
static __always_inline int sd_cookie(void *data, void *end, struct sd_sip *s,
				     __u32 v, __u32 ve)
{
	__u32 he, hi;
	int n;

	n = sd_rhex(data, end, v, ve, &he);
	if (n < 0 || sd_byte_at(data, end, v + n, ve) != '.')
		return 0;
	v += n + 1;
	n = sd_rhex(data, end, v, ve, &hi);
	if (n < 0 || !sd_is_pterm(sd_byte_at(data, end, v + n, ve)))
		return 0;
	s->key.h_entry = he;
	s->key.h_id = hi;
	return v + n;
}

/*
 * The MAC value at @v: exactly SIPDLG_MAC_HEX_LEN hex digits, most
 * significant first, then a terminator.  0 with *mac set, or -1.
 */
static __always_inline int sd_mac_value(void *data, void *end, __u32 v,
					__u32 ve, __u64 *mac)
{
	__u64 n0, n1;
	__u32 hi, lo;

	if (v + SIPDLG_MAC_HEX_LEN > ve)
		return -1;
	if ((sd_hex_bytes(sd_load8(data, end, v), &n0) & SD_HIGH) != SD_HIGH ||
	    (sd_hex_bytes(sd_load8(data, end, v + 8), &n1) & SD_HIGH) !=
		    SD_HIGH)
		return -1;
	if (!sd_is_pterm(sd_byte_at(data, end, v + SIPDLG_MAC_HEX_LEN, ve)))
		return -1;
	/* most significant first: reverse the bytes, then pack as rhex */
	hi = sd_pack_rhex(__builtin_bswap64(n0), 8);
	lo = sd_pack_rhex(__builtin_bswap64(n1), 8);
	*mac = (__u64)hi << 32 | lo;
	return 0;
}

/*
 * Our branch at @v (the top Via's value ends at @ve):
 * SIPDLG_BRANCH_PREFIX RH '.' RH '.' D.  0 with s->key and branch_dir
 * set, or -1.
 */
static __always_inline int sd_branch(void *data, void *end, struct sd_sip *s,
				     __u32 v, __u32 ve)
{
	const __u64 pfx = SD_W8('z', '9', 'h', 'G', '4', 'b', 'K', 's');
	__u32 he, hi, d;
	int n;

	if (v + SIPDLG_BRANCH_PREFIX_LEN > ve ||
	    sd_load8(data, end, v) != pfx ||
	    sd_byte_at(data, end, v + 8, ve) != 'd')
		return -1;
	v += SIPDLG_BRANCH_PREFIX_LEN;
	n = sd_rhex(data, end, v, ve, &he);
	if (n <= 0 || sd_byte_at(data, end, v + n, ve) != '.')
		return -1;
	v += n + 1;
	n = sd_rhex(data, end, v, ve, &hi);
	if (n <= 0 || sd_byte_at(data, end, v + n, ve) != '.')
		return -1;
	d = sd_byte_at(data, end, v + n + 1, ve);
	if (d != '0' && d != '1')
		return -1;
	s->key.h_entry = he;
	s->key.h_id = hi;
	s->branch_dir = d - '0';
	return 0;
}

/* --- parameters --------------------------------------------------------- */

/* Length of the rr_param knob, 0 if broken (then never a cookie). */
static __always_inline __u32 sd_rr_len(void)
{
	__u32 len = rr_param_len;

	return len <= SIPDLG_RR_PARAM_MAX ? len : 0;
}

/*
 * Word @i of the rr_param knob, lower case and cut at its length @len:
 * sd_alpha_fold() of it is its fold mask.  Read from .rodata each time
 * (the knob is a constant the verifier knows, clang does not): no copy
 * in struct sd_sip, whose stack the call chains share.
 */
static __always_inline __u64 sd_rr_word(__u32 i, __u32 len)
{
	const volatile __u64 *rw = (const volatile __u64 *)rr_param;
	__u64 w = rw[i & (SIPDLG_RR_PARAM_MAX / 8 - 1)];

	return (w | sd_alpha_fold(w)) & sd_low_bytes(len - 8 * i);
}

/* Parameter names sd_param_at() knows. */
enum sd_pname {
	SD_PN_RR = 0,		/* the rr_param knob, from sd_sip.rr_* */
	SD_PN_MAC = 1,		/* SIPDLG_MAC_PARAM */
	SD_PN_TAG = 2,
	SD_PN_BRANCH = 3,
};

/*
 * Just after a ';' at @off, inside a value that ends at @ve: is the
 * parameter named @name (enum sd_pname) there?  Returns the offset of its
 * value (after '=' and SP/HTAB), SD_NOVAL if the name is there without a
 * value, 0 if another parameter is there.
 */
static __always_inline __u32 sd_param_at(void *data, void *end, __u32 off,
					 __u32 ve, const struct sd_sip *s,
					 int name)
{
	__u64 w, x, nw, nf;
	__u32 n, c, i, nl;

	if (name == SD_PN_RR) {
		nl = sd_rr_len();
		nw = sd_rr_word(0, nl);
		nf = sd_alpha_fold(nw);
	} else if (name == SD_PN_MAC) {
		nl = SIPDLG_MAC_PARAM_LEN;
		nw = SD_W8('d', 'm', 0, 0, 0, 0, 0, 0);
		nf = SD_F20(SIPDLG_MAC_PARAM_LEN);
	} else if (name == SD_PN_TAG) {
		nl = 3;
		nw = SD_W8('t', 'a', 'g', 0, 0, 0, 0, 0);
		nf = SD_F20(3);
	} else {
		nl = 6;
		nw = SD_W8('b', 'r', 'a', 'n', 'c', 'h', 0, 0);
		nf = SD_F20(6);
	}
	if (off >= ve || !nl || nl > SIPDLG_RR_PARAM_MAX)
		return 0;
	w = sd_load8(data, end, off);
	n = sd_skip_ws(w & sd_low_bytes(ve - off));
	if (n > SIPDLG_SWS_MAX)
		return 0;
	off += n;
	if (n)
		w = sd_load8(data, end, off);
	if (off + nl > ve || ((w | nf) & sd_low_bytes(nl)) != nw)
		return 0;
	if (name == SD_PN_RR) {
		for (i = 1; i < SIPDLG_RR_PARAM_MAX / 8; i++) {
			if (8 * i >= nl)
				break;
			w = sd_load8(data, end, off + 8 * i);
			nw = sd_rr_word(i, nl);
			if (((w | sd_alpha_fold(nw)) & sd_low_bytes(nl - 8 * i)) !=
			    nw)
				return 0;
		}
	}
	off += nl;
	if (off >= ve)
		return SD_NOVAL;
	x = sd_load8(data, end, off) & sd_low_bytes(ve - off);
	n = sd_skip_ws(x);
	if (n > SIPDLG_SWS_MAX)
		return 0;
	c = off + n >= ve ? 256 : sd_byte(x, n);
	if (c != '=')
		return sd_is_pterm(c) ? SD_NOVAL : 0;	/* or "didx=" */
	off += n + 1;
	if (off >= ve)
		return off;
	x = sd_load8(data, end, off) & sd_low_bytes(ve - off);
	n = sd_skip_ws(x);
	if (n > SIPDLG_SWS_MAX)
		return 0;
	return off + n;
}

/* What sd_params() looks for. */
enum sd_pmode {
	SD_PM_ROUTE = 0,	/* rr_param, and the MAC parameter if on */
	SD_PM_VIA = 1,		/* branch, in the first via-parm only */
	SD_PM_TAG = 2,		/* tag, after the URI (sd_tag_start) */
};

/*
 * Walk the parameters of the value [@vs, @ve) in mode @mode (a constant
 * at each call site; tag mode: @vs is past the URI, see sd_tag_start()).
 * Returns SD_CONTINUE with s->pa the value offset of
 * its parameter (rr_param, branch or tag; 0 none, SD_NOVAL without value)
 * and s->pb that of the MAC parameter (route mode, MAC on); or
 * SDR_SIP_SCAN_LIMIT if the value has more than SD_MAX_CAND candidate
 * ';' or too many special bytes.
 *
 * Two passes, so that the verifier walks the name checks once per
 * candidate instead of once per byte step: a flat loop records where the
 * candidate ';' are (each step loads the next word or handles one ';' ','
 * '<' '>' of the current one), then each candidate is checked in order.
 * Loop state lives in s (see struct sd_sip).
 */
static __always_inline int sd_params(void *data, void *end, struct sd_sip *s,
				     int mode, __u32 vs, __u32 ve)
{
	int name = mode == SD_PM_TAG ? SD_PN_TAG :
		   mode == SD_PM_VIA ? SD_PN_BRANCH : SD_PN_RR;
	int mac = mode == SD_PM_ROUTE && mac_enabled;
	__u64 w = 0, m = 0, other;
	__u32 q, i, c, n, v;
	int step, k;

	other = mode == SD_PM_VIA ? SD_REP(',') : SD_REP(';');
	SD_WR(s->pq, vs - 8);
	SD_WR(s->ncand, 0);
	SD_WR(s->open, 0);
	SD_WR(s->pa, 0);
	SD_WR(s->pb, 0);
	for (step = 0; step < SIPDLG_SCAN_MAX_VALUE / 8 + SD_MAX_CAND + 8;
	     step++) {
		q = SD_RD(s->pq);
		if (!m) {
			q += 8;
			if (q >= ve)
				goto check;
			SD_WR(s->pq, q);
			w = sd_load8(data, end, q);
			m = sd_eq_bytes(w, SD_REP(';')) | sd_eq_bytes(w, other);
			continue;
		}
		i = sd_first(m);
		m &= m - 1;
		if (q + i >= ve)
			goto check;	/* past the value: the word's tail */
		c = sd_byte(w, i);
		if (mode == SD_PM_VIA && c == ',')
			goto check;		/* the first via-parm only */
		n = SD_RD(s->ncand);
		if (n >= SD_MAX_CAND)
			return SDR_SIP_SCAN_LIMIT;
		SD_WR(s->cand[n & (SD_MAX_CAND - 1)], q + i);
		SD_WR(s->ncand, n + 1);
	}
	return SDR_SIP_SCAN_LIMIT;

check:
	for (k = 0; k < SD_MAX_CAND; k++) {
		if (k >= SD_RD(s->ncand))
			break;
		q = SD_RD(s->cand[k]);
		if (!SD_RD(s->pa)) {
			v = sd_param_at(data, end, q + 1, ve, s, name);
			if (v && (mode != SD_PM_TAG || v > SD_NOVAL)) {
				SD_WR(s->pa, v);
				if (!mac || SD_RD(s->pb))
					break;
				continue;
			}
		}
		if (mac && !SD_RD(s->pb)) {
			v = sd_param_at(data, end, q + 1, ve, s, SD_PN_MAC);
			if (v) {
				SD_WR(s->pb, v);
				if (SD_RD(s->pa))
					break;
			}
		}
	}
	return SD_CONTINUE;
}

/* Steps of sd_tag_start(): a word or one '"', '<', '>' each. */
#define SD_TAG_START_STEPS (SIPDLG_SCAN_MAX_VALUE / 8 + 2 * SD_MAX_CAND)

/*
 * Where the parameters of the From/To value [@vs, @ve) start: after the
 * last '>' followed by an even number of '"' (found from the end,
 * counting quotes), or @vs if the value has no such '<' or '>'.  0 if a
 * '<' comes first that way (no parameters: no tag), or
 * SDR_SIP_SCAN_LIMIT as a negative number when the value has too many
 * '"', '<' and '>'.  State in s (s->pq: the bytes at and after it are
 * done; s->open: the quote parity), so that all paths into a step join.
 */
static __always_inline int sd_tag_start(void *data, void *end,
					struct sd_sip *s, __u32 vs, __u32 ve)
{
	__u32 pos, lo, i, c, par;
	__u64 w, m;
	int step;

	SD_WR(s->pq, ve);
	SD_WR(s->open, 0);
	for (step = 0; step < SD_TAG_START_STEPS; step++) {
		pos = SD_RD(s->pq);
		if (pos <= vs || pos > SD_PKT_LIMIT)
			return vs;	/* neither: an addr-spec */
		lo = pos - 8;	/* vs >= 24: no wrap */
		w = sd_load8(data, end, lo);
		m = (sd_eq_bytes(w | SD_REP(0x02), SD_REP('>')) |
		     sd_eq_bytes(w, SD_REP('"'))) &
		    ~sd_low_bytes(vs > lo ? vs - lo : 0);
		if (!m) {
			SD_WR(s->pq, lo);
			continue;
		}
		/* the last flagged byte: the first of the reversed mask */
		i = 7 - sd_first(__builtin_bswap64(m));
		c = sd_byte(w, i);
		SD_WR(s->pq, lo + i);
		par = SD_RD(s->open);
		if (c == '"') {
			SD_WR(s->open, par ^ 1);
			continue;
		}
		if (par)
			continue;	/* inside a quoted string */
		return c == '>' ? lo + i + 1 : 0;
	}
	return -SDR_SIP_SCAN_LIMIT;
}

/*
 * End of the tag value that starts at @v: the first ; , > SP HTAB, or
 * @ve.  Returns it, or 0 if the tag is longer than SIPDLG_TAG_MAX.
 */
static __always_inline __u32 sd_tag_end(void *data, void *end,
					struct sd_sip *s, __u32 v, __u32 ve)
{
	__u64 w, m;
	__u32 q;
	int k;

	SD_WR(s->pq, v);
	for (k = 0; k <= SIPDLG_TAG_MAX / 8; k++) {
		q = SD_RD(s->pq);
		if (q >= ve)
			return ve - v <= SIPDLG_TAG_MAX ? ve : 0;
		w = sd_load8(data, end, q);
		m = sd_eq_bytes(w, SD_REP(';')) | sd_eq_bytes(w, SD_REP(',')) |
		    sd_eq_bytes(w, SD_REP('>')) | sd_ws_bytes(w);
		m &= sd_low_bytes(ve - q);
		if (m) {
			q += sd_first(m);
			return q - v <= SIPDLG_TAG_MAX ? q : 0;
		}
		SD_WR(s->pq, q + 8);
	}
	return 0;
}

/* The bytes that end a tag value: ; , > SP HTAB. */
static __always_inline __u64 sd_tag_term(__u64 w)
{
	return sd_eq_bytes(w, SD_REP(';')) | sd_eq_bytes(w, SD_REP(',')) |
	       sd_eq_bytes(w, SD_REP('>')) | sd_ws_bytes(w);
}

/*
 * The hash of a tag value at @v (< @ve) that ends within 16 bytes into
 * *h, as sd_tag_end() and sd_hash_value() would give it but without
 * their loops (0 for an empty value).  0, or -1 if the value goes on.
 */
static __always_inline int sd_short_tag(void *data, void *end, __u32 v,
					__u32 ve, __u64 *h)
{
	__u32 rem = ve - v, n, r;
	__u64 w0, w1, m0, m1, x;

	w0 = sd_load8(data, end, v);
	w1 = sd_load8(data, end, v + 8);
	m0 = sd_tag_term(w0) & sd_low_bytes(rem);
	m1 = rem > 8 ? sd_tag_term(w1) & sd_low_bytes(rem - 8) : 0;
	if (m0)
		n = sd_first(m0);
	else if (m1)
		n = 8 + sd_first(m1);
	else if (rem <= 16)
		n = rem;
	else
		return -1;
	*h = 0;
	if (!n)
		return 0;
	/* as sd_hash_value(): whole words, then the rest shifted down */
	x = sipdlg_hash_init(n);
	r = n;
	if (n >= 8) {
		x = sipdlg_hash_step(x, SIPDLG_LE64(w0));
		w0 = w1;
		r = n - 8;
	}
	if (r)
		x = sipdlg_hash_step(x, SIPDLG_LE64(w0) & sd_low_bytes(r));
	*h = sipdlg_hash_final(x);
	return 0;
}

/* The cookie's MAC at @v right under mac_key, or mac_key_prev when on? */
static __always_inline int sd_mac_ok(void *data, void *end,
				     const struct sd_sip *s, __u32 v, __u32 ve)
{
	__u32 he = s->key.h_entry, hi = s->key.h_id;
	__u64 got;

	if (v <= SD_NOVAL || sd_mac_value(data, end, v, ve, &got) != 0)
		return 0;
	if (got == sipdlg_dlg_mac(mac_key[0], mac_key[1], he, hi))
		return 1;
	return mac_prev_enabled &&
	       got == sipdlg_dlg_mac(mac_key_prev[0], mac_key_prev[1], he, hi);
}

/*
 * The cookie of a Route value that ends at @ve: its value at @pa (0: the
 * line has no rr_param, SD_NOVAL: without value), its MAC value at @pb
 * (MAC on; 0 none), @ce the cookie's end if already parsed (else 0).
 * Sets s->have (SD_F_COOKIE, _BADCOOKIE, _MACOK, _MACFAIL) and s->key.
 */
static __always_inline void sd_cookie_flags(void *data, void *end,
					    struct sd_sip *s, __u32 pa,
					    __u32 pb, __u32 ce, __u32 ve)
{
	if (!pa)
		return;		/* not our Route: look on */
	s->have |= SD_F_COOKIE;
	if (pa != SD_NOVAL && !ce)
		ce = sd_cookie(data, end, s, pa, ve);
	if (!ce)
		s->have |= SD_F_BADCOOKIE;
	else if (mac_enabled)
		s->have |= sd_mac_ok(data, end, s, pb, ve) ? SD_F_MACOK :
							     SD_F_MACFAIL;
}

/* The value [s->vs, s->ve) of the current line, checked. */
#define SD_VALUE_ARGS(ctx, s, data, end, vs, ve)                          \
	do {                                                              \
		if (!(ctx) || !(s))                                       \
			return SDR_SIP_SCAN_LIMIT;                        \
		data = (void *)(long)(ctx)->data;                         \
		end = (void *)(long)(ctx)->data_end;                      \
		vs = (s)->vs;                                             \
		ve = (s)->ve;                                             \
		if (vs > ve || ve - vs > SIPDLG_SCAN_MAX_VALUE ||         \
		    ve > SD_PKT_LIMIT)                                    \
			return SDR_SIP_SCAN_LIMIT;                        \
	} while (0)

/*
 * The general walk of a Route line, value [s->vs, s->ve): is the cookie
 * there, well formed, with a right MAC?  Sets s->have and s->key
 * (sd_cookie_flags).  SD_CONTINUE or SDR_SIP_SCAN_LIMIT.  Global, so that
 * it is verified once; called only when the straight-line shape
 * (sd_fast_route) does not hold, or for Route lines after the first.
 */
__noinline int sd_sip_route(struct xdp_md *ctx, struct sd_sip *s)
{
	void *data, *end;
	__u32 vs, ve;
	int r;

	SD_VALUE_ARGS(ctx, s, data, end, vs, ve);
	r = sd_params(data, end, s, SD_PM_ROUTE, vs, ve);
	if (r != SD_CONTINUE)
		return r;
	sd_cookie_flags(data, end, s, SD_RD(s->pa), SD_RD(s->pb), 0, ve);
	return SD_CONTINUE;
}

/*
 * The top Via of a reply, value [s->vs, s->ve): our branch?  SD_CONTINUE
 * with s->key/branch_dir, SDR_SIP_REPLY_OTHER, or SDR_SIP_SCAN_LIMIT.
 */
__noinline int sd_sip_via(struct xdp_md *ctx, struct sd_sip *s)
{
	void *data, *end;
	__u32 vs, ve, pa;
	int r;

	SD_VALUE_ARGS(ctx, s, data, end, vs, ve);
	s->have |= SD_F_VIA;
	r = sd_params(data, end, s, SD_PM_VIA, vs, ve);
	if (r != SD_CONTINUE)
		return r;
	pa = SD_RD(s->pa);
	if (pa <= SD_NOVAL || sd_branch(data, end, s, pa, ve) != 0)
		return SDR_SIP_REPLY_OTHER;
	s->have |= SD_F_BRANCH;
	return SD_CONTINUE;
}

/*
 * The general walk of a From/To value [s->vs, s->ve): the hash of its
 * tag into s->vhash (0: no tag).  SD_CONTINUE or SDR_SIP_SCAN_LIMIT.
 * Called only when the straight-line shape (sd_fast_tag) does not hold.
 */
__noinline int sd_sip_tag(struct xdp_md *ctx, struct sd_sip *s)
{
	void *data, *end;
	__u32 vs, ve, pa, te;
	__u64 h = 0;
	int r;

	SD_VALUE_ARGS(ctx, s, data, end, vs, ve);
	s->vhash = 0;
	r = sd_tag_start(data, end, s, vs, ve);
	if (r < 0)
		return -r;
	if (!r)
		return SD_CONTINUE;	/* a '<' never closed: no tag */
	r = sd_params(data, end, s, SD_PM_TAG, (__u32)r, ve);
	if (r != SD_CONTINUE)
		return r;
	pa = SD_RD(s->pa);
	if (pa > SD_NOVAL && pa < ve) {
		if (sd_short_tag(data, end, pa, ve, &h) != 0) {
			te = sd_tag_end(data, end, s, pa, ve);
			if (!te)
				return SDR_SIP_SCAN_LIMIT;
			if (te > pa) {
				SD_WR(s->hoff, pa);
				SD_WR(s->hlen, te - pa);
				h = sd_hash_value(data, end, s);
				if (!h)
					return SDR_SIP_SCAN_LIMIT;
			}
		}
	}
	s->vhash = h;
	return SD_CONTINUE;
}

/* Straight-line shortcuts for the common shapes (they use the above). */
#include "sip_fast.h"

#endif /* SIPDLG_BPF_SIP_VALUES_H */
