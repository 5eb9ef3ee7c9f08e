/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sip_scan.h - the SIP scan of the fast path: start line, then header by
 * header until it has what the matcher needs.
 *
 * sd_sip_scan() is one global function: the verifier checks it once
 * against its prototype.  It reads the packet through ctx and the offsets
 * in struct sd_sip (sip_values.h), writes what it found back into that
 * struct, and never touches a map.  Route, Via, From and To values go to
 * sd_sip_route(), sd_sip_via() and sd_sip_tag() (sip_values.h); the line
 * loop only locates Call-ID and CSeq, sd_scan_finish() reads them.
 *
 * What it reads (the reference in tests/bpf/test_xdp_mutate.c follows these
 * rules byte by byte; parameters are described in sip_values.h):
 * - The message is the UDP payload.  A line ends at LF; a CR before the
 *   LF is not part of the line.  Only complete lines count.
 * - Start line: "SIP/2.0 " + 3 digits (+ SP, HTAB or the line end) is a
 *   reply; an upper-case letter first and " SIP/2.0" at the end is a
 *   request ("SIP" without case).  Otherwise SDR_SIP_NOT_SIP.
 * - Header lines: a name without case (compact forms too), up to 7
 *   SP/HTAB, ':'.  A line that starts with SP/HTAB is folding:
 *   SDR_SIP_FOLDED.  An empty line ends the headers.  The first Call-ID,
 *   From, To and CSeq count, the first Route line with the rr_param, the
 *   first Via (replies only); Contact only needs to be present.
 * - Call-ID: the value without up to 7 leading and trailing SP/HTAB.
 * - CSeq: up to 7 SP/HTAB, 1-10 digits < 2^32, SP/HTAB.
 * - It stops as soon as it has what it needs: for a request To, From,
 *   CSeq, Call-ID (not with a verified MAC), the cookie (not in
 *   dlg_match_mode 2), a Contact for INVITE/UPDATE; for a reply the top
 *   Via and the Call-ID.  A request's To without tag ends it at once.
 * Scan limits (SIPDLG_SCAN_* in sipdlg_shared.h): SDR_SIP_SCAN_LIMIT.
 */
#ifndef SIPDLG_BPF_SIP_SCAN_H
#define SIPDLG_BPF_SIP_SCAN_H

#include "sip_swar.h"
#include "sip_values.h"

/* --- line ends --------------------------------------------------------- */

/* The LF flags of the 32 bytes at @p. */
#define SD_LF4(p, m0, m1, m2, m3)                                    \
	do {                                                         \
		m0 = sd_eq_bytes(*(__u64 *)(p), SD_REP('\n'));       \
		m1 = sd_eq_bytes(*(__u64 *)((p) + 8), SD_REP('\n')); \
		m2 = sd_eq_bytes(*(__u64 *)((p) + 16), SD_REP('\n')); \
		m3 = sd_eq_bytes(*(__u64 *)((p) + 24), SD_REP('\n')); \
	} while (0)

/*
 * Offset of the first flagged byte of a 32-byte window at @base (some
 * mask non-zero), without branches.
 */
static __always_inline __u32 sd_first4(__u32 base, __u64 m0, __u64 m1,
				       __u64 m2, __u64 m3)
{
	__u32 f2 = sd_first8(m2) + (__u32)sd_is_zero(m2) * sd_first8(m3);
	__u32 f1 = sd_first8(m1) + (__u32)sd_is_zero(m1) * f2;

	return base + sd_first8(m0) + (__u32)sd_is_zero(m0) * f1;
}

/* Bytes of a window word at @base that lie at or after window index @si. */
static __always_inline __u64 sd_keep_from(__u32 si, __u32 base)
{
	if (si <= base)
		return ~0ULL;
	if (si >= base + 8)
		return 0;
	return ~0ULL << (8 * (si - base));
}

/*
 * The LF at or after frame offset s->q, when fewer than 32 frame bytes
 * are left: the last 32 bytes of the frame are scanned and the flags
 * before s->q dropped.  0 with s->lf set, or -1.  Global, as it runs at
 * most once per message: the line loop does not carry its checks.
 */
__noinline int sd_sip_lf_tail(struct xdp_md *ctx, struct sd_sip *s)
{
	__u64 m0, m1, m2, m3;
	__u32 len, off, lim, wb, si, at;
	void *data, *end, *q;

	if (!ctx || !s)
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	len = (__u32)(end - data);
	SD_OPAQUE(len);
	off = s->q;
	lim = s->msg_end;
	if (len < 32 || off >= len || off < len - 32)
		return -1;
	wb = len - 32;
	q = sd_pkt_at(data, wb);
	if (q + 32 > end)
		return -1;
	si = off - wb;		/* 0..31 */
	SD_LF4(q, m0, m1, m2, m3);
	m0 &= sd_keep_from(si, 0);
	m1 &= sd_keep_from(si, 8);
	m2 &= sd_keep_from(si, 16);
	m3 &= sd_keep_from(si, 24);
	if (!(m0 | m1 | m2 | m3))
		return -1;
	at = sd_first4(wb, m0, m1, m2, m3);
	if (at >= lim)
		return -1;
	s->lf = at;
	return 0;
}

/*
 * The first LF at or after frame offset @from and before the message end,
 * 32 bytes per step: 0 with its offset in s->lf, -1 if the message ends
 * first, -2 if the line is longer than SIPDLG_SCAN_MAX_LINE.  Position and
 * result go through memory (s->q, s->lf) so that every step, and every
 * exit, leaves the verifier the same state whatever the caller's path.
 */
static __always_inline int sd_find_lf(struct xdp_md *ctx, void *data,
				      void *end, struct sd_sip *s, __u32 from)
{
	__u64 m0, m1, m2, m3;
	__u32 at, off, lim;
	void *p;
	int k;

	SD_WR(s->q, from);
	off = SD_RD(s->q);
	lim = SD_RD(s->msg_end);
	for (k = 0; k < SIPDLG_SCAN_MAX_LINE / 32; k++) {
		if (off >= lim || off >= SD_PKT_LIMIT)
			return -1;
		p = sd_pkt_at(data, off);
		if (p + 32 > end) {
			SD_WR(s->q, off);
			return sd_sip_lf_tail(ctx, s);
		}
		SD_LF4(p, m0, m1, m2, m3);
		if (m0 | m1 | m2 | m3) {
			at = sd_first4(off, m0, m1, m2, m3);
			if (at >= lim)
				return -1;
			SD_WR(s->lf, at);
			return 0;
		}
		off += 32;
	}
	return -2;
}

/* --- header names ------------------------------------------------------ */

/* Name word compare: the low @n bytes of @w, letters in @fold without case. */
#define SD_NAME_IS(w, n, fold, name) \
	((((w) | (fold)) & sd_low_bytes(n)) == (name))

/*
 * Which known header starts the line whose first 8 bytes are @w, and how
 * long its name is (*nlen).  The byte after the name must be ':' or
 * SP/HTAB (checked by the caller).
 */
static __always_inline int sd_hdr_kind(__u64 w, __u32 *nlen)
{
	__u32 c0 = (__u32)(w & 0xff) | 0x20;
	__u32 c1 = sd_byte(w, 1);
	int one = c1 == ':' || c1 == ' ' || c1 == '\t';

	switch (c0) {
	case 'r':
		*nlen = 5;
		if (SD_NAME_IS(w, 5, SD_F20(5), SD_W8('r', 'o', 'u', 't', 'e', 0, 0, 0)))
			return SD_H_ROUTE;
		break;
	case 'i':
		*nlen = 1;
		if (one)
			return SD_H_CALLID;
		break;
	case 'c':
		*nlen = 7;
		if (SD_NAME_IS(w, 7, SD_F20(7) & ~SD_B(0x20, 4),
			       SD_W8('c', 'a', 'l', 'l', '-', 'i', 'd', 0)))
			return SD_H_CALLID;
		if (SD_NAME_IS(w, 7, SD_F20(7),
			       SD_W8('c', 'o', 'n', 't', 'a', 'c', 't', 0)))
			return SD_H_CONTACT;
		*nlen = 4;
		if (SD_NAME_IS(w, 4, SD_F20(4), SD_W8('c', 's', 'e', 'q', 0, 0, 0, 0)))
			return SD_H_CSEQ;
		break;
	case 'f':
		*nlen = 1;
		if (one)
			return SD_H_FROM;
		*nlen = 4;
		if (SD_NAME_IS(w, 4, SD_F20(4), SD_W8('f', 'r', 'o', 'm', 0, 0, 0, 0)))
			return SD_H_FROM;
		break;
	case 't':
		*nlen = 1;
		if (one)
			return SD_H_TO;
		*nlen = 2;
		if (SD_NAME_IS(w, 2, SD_F20(2), SD_W8('t', 'o', 0, 0, 0, 0, 0, 0)))
			return SD_H_TO;
		break;
	case 'm':
		*nlen = 1;
		if (one)
			return SD_H_CONTACT;
		break;
	case 'v':
		*nlen = 1;
		if (one)
			return SD_H_VIA;
		*nlen = 3;
		if (SD_NAME_IS(w, 3, SD_F20(3), SD_W8('v', 'i', 'a', 0, 0, 0, 0, 0)))
			return SD_H_VIA;
		break;
	}
	return SD_H_OTHER;
}

/* Method of a request line starting with @w (exact case), SDM_OTHER else. */
static __always_inline __u32 sd_method(__u64 w)
{
	switch (w & 0xff) {
	case 'I':
		if ((w & sd_low_bytes(7)) == SD_W8('I', 'N', 'V', 'I', 'T', 'E', ' ', 0))
			return SDM_INVITE;
		if ((w & sd_low_bytes(5)) == SD_W8('I', 'N', 'F', 'O', ' ', 0, 0, 0))
			return SDM_INFO;
		break;
	case 'A':
		if ((w & sd_low_bytes(4)) == SD_W8('A', 'C', 'K', ' ', 0, 0, 0, 0))
			return SDM_ACK;
		break;
	case 'B':
		if ((w & sd_low_bytes(4)) == SD_W8('B', 'Y', 'E', ' ', 0, 0, 0, 0))
			return SDM_BYE;
		break;
	case 'C':
		if ((w & sd_low_bytes(7)) == SD_W8('C', 'A', 'N', 'C', 'E', 'L', ' ', 0))
			return SDM_CANCEL;
		break;
	case 'O':
		if (w == SD_W8('O', 'P', 'T', 'I', 'O', 'N', 'S', ' '))
			return SDM_OPTIONS;
		break;
	case 'U':
		if ((w & sd_low_bytes(7)) == SD_W8('U', 'P', 'D', 'A', 'T', 'E', ' ', 0))
			return SDM_UPDATE;
		break;
	case 'P':
		if ((w & sd_low_bytes(6)) == SD_W8('P', 'R', 'A', 'C', 'K', ' ', 0, 0))
			return SDM_PRACK;
		break;
	case 'R':
		if ((w & sd_low_bytes(6)) == SD_W8('R', 'E', 'F', 'E', 'R', ' ', 0, 0))
			return SDM_REFER;
		break;
	case 'N':
		if ((w & sd_low_bytes(7)) == SD_W8('N', 'O', 'T', 'I', 'F', 'Y', ' ', 0))
			return SDM_NOTIFY;
		break;
	case 'M':
		if (w == SD_W8('M', 'E', 'S', 'S', 'A', 'G', 'E', ' '))
			return SDM_MESSAGE;
		break;
	}
	return SDM_OTHER;
}

/* --- start line -------------------------------------------------------- */

/* "SIP/2.0" without case on the letters: fold S, I, P. */
#define SD_SIP20_FOLD SD_W8(0x20, 0x20, 0x20, 0, 0, 0, 0, 0)

static __always_inline int sd_start_line(struct xdp_md *ctx, void *data,
					 void *end, struct sd_sip *s)
{
	__u32 off = s->msg_off, lim = s->msg_end, ve, c, lf;
	__u64 w, t;
	int r;

	if (off >= lim)
		return SDR_SIP_NOT_SIP;
	w = sd_load8(data, end, off) & sd_low_bytes(lim - off);
	r = sd_find_lf(ctx, data, end, s, off);
	if (r == -2)
		return SDR_SIP_SCAN_LIMIT;
	if (r < 0)
		return SDR_SIP_NOT_SIP;
	lf = SD_RD(s->lf);
	ve = lf;
	if (ve > off && sd_byte_at(data, end, ve - 1, lim) == '\r')
		ve--;

	if ((w | SD_SIP20_FOLD) == SD_W8('s', 'i', 'p', '/', '2', '.', '0', ' ')) {
		/* status line: three digits, then SP/HTAB/line end */
		if (off + 11 > ve)
			return SDR_SIP_NOT_SIP;
		t = sd_load8(data, end, off + 8) & sd_low_bytes(ve - off - 8);
		c = sd_byte(t, 3);
		if (off + 11 < ve && c != ' ' && c != '\t')
			return SDR_SIP_NOT_SIP;
		if ((sd_digit_bytes(t) & sd_low_bytes(3)) !=
		    (sd_low_bytes(3) & SD_HIGH))
			return SDR_SIP_NOT_SIP;
		s->status = (sd_byte(t, 0) - '0') * 100 +
			    (sd_byte(t, 1) - '0') * 10 + (sd_byte(t, 2) - '0');
		s->need = SD_F_VIA | SD_F_CALLID;
	} else {
		c = (__u32)(w & 0xff);
		if (c < 'A' || c > 'Z' || ve < off + 10)
			return SDR_SIP_NOT_SIP;
		t = sd_load8(data, end, ve - 8);
		if ((t | (SD_SIP20_FOLD << 8)) !=
		    SD_W8(' ', 's', 'i', 'p', '/', '2', '.', '0'))
			return SDR_SIP_NOT_SIP;
		s->method = sd_method(w);
		s->need = SD_F_TO | SD_F_FROM | SD_F_CSEQ | SD_F_CALLID;
		if (dlg_match_mode != SIPDLG_MATCH_DID_NONE)
			s->need |= SD_F_COOKIE;
		if (s->method == SDM_INVITE || s->method == SDM_UPDATE)
			s->need |= SD_F_CONTACT;
	}
	SD_WR(s->pos, lf + 1);
	return SD_CONTINUE;
}

/* --- header lines ------------------------------------------------------ */

/*
 * The rr_param knob as lower-case name words and fold masks in s->rr_*,
 * once per request (the knob is constant, but clang cannot know).
 */
static __always_inline void sd_rr_pname(struct sd_sip *s)
{
	const volatile __u64 *rw = (const volatile __u64 *)rr_param;
	__u32 len = rr_param_len, i;
	__u64 w, f;

	if (len > SIPDLG_RR_PARAM_MAX)
		len = 0;	/* a broken knob: never a cookie */
	s->rr_len = len;
	for (i = 0; i < SIPDLG_RR_PARAM_MAX / 8; i++) {
		if (8 * i >= len)
			break;
		w = rw[i];
		f = sd_alpha_fold(w);
		s->rr_f[i] = f;
		s->rr_w[i] = (w | f) & sd_low_bytes(len - 8 * i);
	}
}

/* Decimal value of the @n (0..8) digit bytes at the start of @w. */
static __always_inline __u64 sd_dec8(__u64 w, __u32 n)
{
	__u64 x = (w - SD_REP('0')) & sd_low_bytes(n);

	/* right-align as an 8-digit number with leading zeros */
	x = n ? x << ((8 * (8 - n)) & 63) : 0;
	x = (x * 10 + (x >> 8)) & 0x00ff00ff00ff00ffULL;
	x = (x * 100 + (x >> 16)) & 0x0000ffff0000ffffULL;
	x = (x * 10000 + (x >> 32)) & 0x00000000ffffffffULL;
	return x;
}

/*
 * CSeq value [@v, @ve): SP/HTAB, 1-10 digits < 2^32, SP/HTAB.  0 with
 * s->cseq set, or -1.
 */
static __always_inline int sd_cseq(void *data, void *end, struct sd_sip *s,
				   __u32 v, __u32 ve)
{
	__u64 w, val, nd;	/* nd: the non-digit bytes, a full word mask */
	__u32 n, n2, c;

	if (v >= ve)
		return -1;
	w = sd_load8(data, end, v) & sd_low_bytes(ve - v);
	n = sd_skip_ws(w);
	if (n > SIPDLG_SWS_MAX)
		return -1;
	v += n;
	if (v >= ve)
		return -1;
	w = sd_load8(data, end, v) & sd_low_bytes(ve - v);
	nd = sd_digit_bytes(w) ^ SD_HIGH;
	n = sd_first8(nd);
	if (!n)
		return -1;
	val = sd_dec8(w, n);
	if (n == 8) {
		/* 9 or 10 digits */
		w = v + 8 < ve ? sd_load8(data, end, v + 8) & sd_low_bytes(ve - v - 8) : 0;
		nd = sd_digit_bytes(w) ^ SD_HIGH;
		n2 = sd_first8(nd);
		if (n2 > 2)
			return -1;
		val = val * (n2 == 2 ? 100 : n2 == 1 ? 10 : 1) + sd_dec8(w, n2);
		n += n2;
	}
	c = sd_byte_at(data, end, v + n, ve);
	if (val > 0xffffffffULL || (c != ' ' && c != '\t'))
		return -1;
	s->cseq = (__u32)val;
	return 0;
}

/*
 * A Call-ID value [@vs, @ve): trim SP/HTAB, hash it into s->callid_hash.
 * SD_CONTINUE (an empty value counts as absent) or SDR_SIP_SCAN_LIMIT.
 */
static __always_inline int sd_callid(void *data, void *end, struct sd_sip *s,
				     __u32 vs, __u32 ve)
{
	__u32 n;
	__u64 h;

	if (vs < ve) {
		n = sd_skip_ws(sd_load8(data, end, vs) & sd_low_bytes(ve - vs));
		if (n > SIPDLG_SWS_MAX)
			return SDR_SIP_SCAN_LIMIT;
		vs += n;
	}
	if (vs >= ve)
		return SD_CONTINUE;	/* empty: as if absent */
	/* trailing SP/HTAB: the leading ones of the byte-reversed last word */
	n = sd_skip_ws(__builtin_bswap64(sd_load8(data, end, ve - 8)));
	if (n > SIPDLG_SWS_MAX)
		return SDR_SIP_SCAN_LIMIT;
	ve -= n;
	if (ve - vs > SIPDLG_CALLID_MAX)
		return SDR_SIP_SCAN_LIMIT;
	SD_WR(s->hoff, vs);
	SD_WR(s->hlen, ve - vs);
	h = sd_hash_value(data, end, s);
	if (!h)
		return SDR_SIP_SCAN_LIMIT;
	s->callid_hash = h;
	s->have |= SD_F_CALLID;
	return SD_CONTINUE;
}

/* Is header @kind still wanted?  (Contact is only noted.) */
static __always_inline int sd_wanted(struct sd_sip *s, int kind)
{
	__u32 bit;

	switch (kind) {
	case SD_H_ROUTE:
		bit = SD_F_COOKIE;
		break;
	case SD_H_CALLID:
		bit = SD_F_CALLID;
		break;
	case SD_H_FROM:
		bit = SD_F_FROM;
		break;
	case SD_H_TO:
		bit = SD_F_TO;
		break;
	case SD_H_CSEQ:
		bit = SD_F_CSEQ;
		break;
	case SD_H_VIA:
		bit = SD_F_VIA;
		break;
	case SD_H_CONTACT:
		s->have |= SD_F_CONTACT;
		return 0;
	default:
		return 0;
	}
	return (s->need & bit) && !(s->have & bit);
}

/*
 * One header line at s->pos.  SD_CONTINUE for the next line, SD_FURTHER
 * when the scan has what it needs (or the headers ended), SD_NOT_DIALOG,
 * or a reason.
 */
static __always_inline int sd_header_line(struct xdp_md *ctx, void *data,
					  void *end, struct sd_sip *s)
{
	__u32 off = SD_RD(s->pos), lim = SD_RD(s->msg_end), nlen = 0, vs, ve, c;
	__u32 n, lf;
	__u64 w, x;
	int kind, r;

	if (off >= lim) {
		s->have |= SD_F_END;
		return SD_FURTHER;
	}
	if (off >= SD_RD(s->msg_off) + SIPDLG_SCAN_MAX_BYTES)
		return SDR_SIP_SCAN_LIMIT;
	w = sd_load8(data, end, off) & sd_low_bytes(lim - off);
	c = (__u32)(w & 0xff);
	if (c == '\n' || (c == '\r' && sd_byte(w, 1) == '\n')) {
		s->have |= SD_F_END;
		return SD_FURTHER;
	}
	if (c == ' ' || c == '\t')
		return SDR_SIP_FOLDED;

	/* a known name, then ':' or SP/HTAB and ':' */
	kind = sd_hdr_kind(w, &nlen);
	vs = off + nlen;
	if (kind != SD_H_OTHER) {
		c = sd_byte(w, nlen);
		if (c == ' ' || c == '\t') {
			x = sd_load8(data, end, vs) & sd_low_bytes(lim - vs);
			n = sd_skip_ws(x);
			c = n <= SIPDLG_SWS_MAX ? sd_byte(x, n) : 0;
			vs += n;
		}
		if (c != ':' || !sd_wanted(s, kind))
			kind = SD_H_OTHER;
		vs++;
	}

	/* find the line end; what we know so far waits in memory */
	SD_WR(s->vkind, kind);
	SD_WR(s->vs, vs);
	r = sd_find_lf(ctx, data, end, s, kind == SD_H_OTHER ? off + 1 : vs);
	if (r == -2)
		return SDR_SIP_SCAN_LIMIT;
	if (r < 0) {
		/* the message ends inside this line */
		s->have |= SD_F_END;
		return SD_FURTHER;
	}
	kind = SD_RD(s->vkind);
	vs = SD_RD(s->vs);
	lim = SD_RD(s->msg_end);
	lf = SD_RD(s->lf);
	SD_WR(s->pos, lf + 1);
	ve = lf;
	if (kind != SD_H_OTHER) {
		if (sd_byte_at(data, end, ve - 1, lim) == '\r')
			ve--;
		if (vs > ve)
			vs = ve;
	}

	r = SD_CONTINUE;
	switch (kind) {
	case SD_H_ROUTE:
	case SD_H_VIA:
	case SD_H_FROM:
	case SD_H_TO:
		if (ve - vs > SIPDLG_SCAN_MAX_VALUE)
			return SDR_SIP_SCAN_LIMIT;
		s->vkind = kind;
		s->vs = vs;
		s->ve = ve;
		if (kind == SD_H_ROUTE)
			r = sd_sip_route(ctx, s);
		else if (kind == SD_H_VIA)
			r = sd_sip_via(ctx, s);
		else
			r = sd_sip_tag(ctx, s);
		break;
	case SD_H_CALLID:
		/* read after the loop, once: see sd_scan_finish() */
		s->have |= SD_F_CALLID;
		s->cid_vs = vs;
		s->cid_ve = ve;
		break;
	case SD_H_CSEQ:
		s->have |= SD_F_CSEQ;
		s->cseq_vs = vs;
		s->cseq_ve = ve;
		break;
	}
	if (r != SD_CONTINUE)
		return r;

	if ((s->have & s->need) == s->need) {
		/* done; but a folded continuation would change the value */
		c = sd_byte_at(data, end, SD_RD(s->pos), SD_RD(s->msg_end));
		if (c == ' ' || c == '\t')
			return SDR_SIP_FOLDED;
		return SD_FURTHER;
	}
	return SD_CONTINUE;
}

/*
 * The Call-ID and CSeq values the line loop only located: hashed and
 * parsed here, once, so that the loop (verified once per line) stays
 * small.  An empty Call-ID counts as none.
 */
static __always_inline int sd_scan_finish(void *data, void *end,
					  struct sd_sip *s)
{
	int r;

	if (s->have & SD_F_CSEQ) {
		if (sd_cseq(data, end, s, s->cseq_vs, s->cseq_ve) != 0)
			s->have |= SD_F_CSEQBAD;
	}
	if (s->have & SD_F_CALLID) {
		s->have &= ~SD_F_CALLID;
		r = sd_callid(data, end, s, s->cid_vs, s->cid_ve);
		if (r != SD_CONTINUE)
			return r;
	}
	return SD_FURTHER;
}

/*
 * Scan the SIP message described by @s (msg_off, msg_end set, the rest
 * zero).  SD_FURTHER: s holds what the matcher needs (or what there was);
 * SD_NOT_DIALOG: a request without To-tag; otherwise the reason to count.
 */
__noinline int sd_sip_scan(struct xdp_md *ctx, struct sd_sip *s)
{
	void *data, *end;
	int i, r;

	if (!ctx || !s)
		return SDR_SIP_NOT_SIP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (s->msg_end > (__u32)(end - data) ||
	    s->msg_off > SD_PKT_LIMIT - SIPDLG_SCAN_MAX_BYTES -
				 SIPDLG_SCAN_MAX_LINE)
		return SDR_SIP_NOT_SIP;

	r = sd_start_line(ctx, data, end, s);
	if (r != SD_CONTINUE)
		return r;
	if (!s->status && (s->need & SD_F_COOKIE))
		sd_rr_pname(s);
	for (i = 0; i < SIPDLG_SCAN_MAX_LINES; i++) {
		r = sd_header_line(ctx, data, end, s);
		if (r == SD_FURTHER)
			return sd_scan_finish(data, end, s);
		if (r != SD_CONTINUE)
			return r;
	}
	return SDR_SIP_SCAN_LIMIT;
}

#endif /* SIPDLG_BPF_SIP_SCAN_H */
