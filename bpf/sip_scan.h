/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sip_scan.h - the SIP scan of the fast path: one pass over the lines
 * (sip_lines.h), then the values it needs, read with straight-line code.
 *
 * sd_sip_scan() is the one global function a SIP packet calls on the
 * usual path: the verifier checks it once against its prototype.  It
 * reads the packet through ctx and the offsets in struct sd_sip
 * (sip_values.h), writes what it found back into that struct, and never
 * touches a map.  The slow paths are global functions of their own,
 * called only when a value is not of the usual shape: sd_sip_tag() (the
 * general walk of From/To, from here), and from sd_sip() (sip_match.h,
 * so that no call chain is deeper than two: the stack is 512 bytes)
 * sd_sip_routes() (the cookie is not in the usual shape, not in the
 * first Route line, or no Route line came before the scan had everything
 * else: SD_F_ROUTES; it calls sd_route_next() and sd_sip_route() per
 * Route line) and sd_sip_via() (replies).
 *
 * What it reads (the reference in tests/bpf/test_xdp_mutate.c follows
 * these rules; parameters are described in sip_values.h, lines in
 * sip_lines.h):
 * - The message is the UDP payload.
 * - Start line: "SIP/2.0 " + 3 digits (+ SP, HTAB or the line end) is a
 *   reply; a token character first (a method is a token in any case,
 *   RFC 3261 25.1, as user/sip takes it) and " SIP/2.0" at the end is a
 *   request ("SIP" without case).  Otherwise SDR_SIP_NOT_SIP.
 * - The first Call-ID, From, To and CSeq count, the first Route line
 *   with the rr_param, the first Via (replies only); Contact only needs
 *   to be present.
 * - Call-ID: the value without up to 7 leading and trailing SP/HTAB.
 * - CSeq: up to 7 SP/HTAB, 1-10 digits < 2^32, SP/HTAB.
 * - The line loop stops as soon as it has the lines it needs: for a
 *   request To, From, CSeq, Call-ID and a Contact for INVITE/UPDATE; for
 *   a reply the top Via and the Call-ID.  A request with a To-tag whose
 *   cookie was not in a Route line before that point (and not in
 *   dlg_match_mode 2) goes on looking for Route lines to the end of the
 *   headers: first those the main pass recorded (sip_lines.h), then on
 *   from where it stopped, without reading a line twice.
 * Scan limits (SIPDLG_SCAN_* in sipdlg_shared.h): SDR_SIP_SCAN_LIMIT.
 *
 * Cost of the in-dialog BYE (bpf_icount -r 5, #13): the line pass ~1,230
 * instructions (~1,110 since its window scan uses JSET, sip_lines.h), the values after it ~1,130 (tags ~150 each, the Route
 * and its cookie ~320, CSeq ~60, Call-ID ~95).  Tried and dropped
 * (measured): the values in a global function of their own called by
 * sd_sip() after this one (+58 on the BYE: the call, and the state read
 * back from memory; the verifier's count fell by ~24,000); the method
 * before the token test (+35: clang allocates the line pass's registers
 * differently, the whole function is that sensitive).
 * Kept (lp9, the values): sd_callid()'s whole words through a pointer
 * that moves on (no offset kept beside the count; the window 73 bytes for
 * the verifier): -15 (11 a word instead of 15; reply and relay rows -14,
 * -15); a request's first flags and a reply's SD_F_VIA stored, not or-ed
 * in, and From's two flags in one write: -4; a CSeq of 1-4 digits in two
 * SWAR steps (sd_dec4()): -4; sd_scan_request() leaving before the
 * Call-ID with SD_K(SD_FURTHER): -4.  Measured and dropped: the Call-ID
 * words with the pointer and "rem && k < 8" for the verifier instead of
 * the 73rd byte: +-0 (clang rotates the loop); an offset in steps of 8
 * as the only induction variable: +-0; the loop unrolled (#pragma): +1
 * and refused; its last byte's index as (rem - 1) & 7: +1; From, CSeq
 * and Contact's flags gathered in a local and or-ed in once: +1; CSeq's
 * two flags in one write: +2 (either way it is written); SD_NO_RR from
 * sd_read_route() instead of reading s->have back: +-0, 4th Route +3
 * (without SD_K: +12); SD_K(SDM_OTHER) in sd_method(): +25; vs, ve
 * without their "= 0": +2 and refused with the relay on (a stack slot
 * read unwritten on a path).
 */
#ifndef SIPDLG_BPF_SIP_SCAN_H
#define SIPDLG_BPF_SIP_SCAN_H

#include "sip_swar.h"
#include "sip_values.h"
#include "sip_lines.h"

/*
 * Is @c (0..255) a token character (RFC 3261 25.1: alphanumeric or one
 * of - . ! % * _ + ` ' ~), as the first byte of a method must be?
 */
#define SD_TCHAR_LO                                                         \
	(1ULL << '!' | 1ULL << '%' | 1ULL << '\'' | 1ULL << '*' |           \
	 1ULL << '+' | 1ULL << '-' | 1ULL << '.' | 0x03ff000000000000ULL)
#define SD_TCHAR_HI                                                         \
	(0x07fffffe07fffffeULL | 1ULL << ('_' - 64) | 1ULL << ('`' - 64) |   \
	 1ULL << ('~' - 64))
static __always_inline int sd_is_tchar(__u32 c)
{
	__u64 set = c < 64 ? SD_TCHAR_LO : SD_TCHAR_HI;

	return c < 128 && ((set >> (c & 63)) & 1);
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

/* "SIP/2.0" without case on the letters: fold S, I, P. */
#define SD_SIP20_FOLD SD_W8(0x20, 0x20, 0x20, 0, 0, 0, 0, 0)

/*
 * The start line [@off, @ve) once the loop closed it: well formed?  A
 * reply's status code into s->status.  SD_CONTINUE or SDR_SIP_NOT_SIP.
 */
static __always_inline int sd_start_line(void *data, void *end,
					 struct sd_sip *s, __u32 off, __u32 ve)
{
	__u64 t;
	__u32 c;

	if (s->status) {
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
		return SD_CONTINUE;
	}
	if (ve < off + 10)
		return SDR_SIP_NOT_SIP;
	t = sd_load8(data, end, ve - 8);
	if ((t | (SD_SIP20_FOLD << 8)) != SD_W8(' ', 's', 'i', 'p', '/', '2', '.', '0'))
		return SDR_SIP_NOT_SIP;
	return SD_CONTINUE;
}

/* Decimal value of the @n (0..8) digit bytes at the start of @w. */
static __always_inline __u64 sd_dec8(__u64 w, __u32 n)
{
	__u64 x = (w - SD_REP('0')) & sd_low_bytes(n);

	/* right-align as an 8-digit number with leading zeros (n = 0:
	 * x is 0 already) */
	x <<= (8 * (8 - n)) & 63;
	x = (x * 10 + (x >> 8)) & 0x00ff00ff00ff00ffULL;
	x = (x * 100 + (x >> 16)) & 0x0000ffff0000ffffULL;
	x = (x * 10000 + (x >> 32)) & 0x00000000ffffffffULL;
	return x;
}

/* The same for @n (1..4) digits: two steps, not three. */
static __always_inline __u32 sd_dec4(__u64 w, __u32 n)
{
	__u64 x = (w - SD_REP('0')) & sd_low_bytes(n);

	x <<= (8 * (4 - n)) & 31;
	x = (x * 10 + (x >> 8)) & 0x00ff00ffULL;
	return (__u32)((x * 100 + (x >> 16)) & 0xffffULL);
}

/*
 * CSeq value [@v, @ve): SP/HTAB, 1-10 digits < 2^32, SP/HTAB.  0 with
 * s->cseq set, or -1.
 */
static __always_inline int sd_cseq_slow(void *data, void *end,
					struct sd_sip *s, __u32 v, __u32 ve)
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
 * The CSeq value [@v, @ve) as sd_cseq_slow() reads it, from one 24-byte
 * window: the SWS, then the digits as a word shifted down to them (the
 * bytes past the value are its line end, neither SP/HTAB nor digits).
 * 0 with s->cseq set, or -1.
 */
static __always_inline int sd_cseq(void *data, void *end, struct sd_sip *s,
				   __u32 v, __u32 ve)
{
	__u64 w0, w1, w2, d, d2, val, nd;
	__u32 n, n2, sh, c;
	void *q;

	q = SD_WINDOW(data, end, v, 24);
	if (!q || v >= ve)
		return sd_cseq_slow(data, end, s, v, ve);
	w0 = *(__u64 *)q;
	/*
	 * Usually one SP, 1-6 digits and SP/HTAB, all in the first word:
	 * its bytes after the SP shifted down (byte 7 then 0, no digit).
	 * 1-6 digits followed by neither SP nor HTAB are -1 below as well.
	 */
	if ((w0 & 0xff) == ' ') {
		d = w0 >> 8;
		n = sd_first(sd_digit_bytes(d) ^ SD_HIGH);
		if (n - 1 < 6) {
			c = sd_byte(d, n);
			if (c != ' ' && c != '\t')
				return -1;
			s->cseq = n <= 4 ? sd_dec4(d, n) : (__u32)sd_dec8(d, n);
			return 0;
		}
	}
	w1 = *(__u64 *)(q + 8);
	w2 = *(__u64 *)(q + 16);
	c = (w0 >> 8) & 0xff;
	if ((w0 & 0xff) == ' ' && c - '0' < 10)
		n = 1;
	else
		n = sd_skip_ws(w0);
	if (n > SIPDLG_SWS_MAX)
		return -1;
	/* the 16 bytes from the first digit: (w1 << 1) << 63 is 0 for n 0 */
	sh = 8 * n;
	d = (w0 >> sh) | ((w1 << 1) << (63 - sh));
	d2 = (w1 >> sh) | ((w2 << 1) << (63 - sh));
	nd = sd_digit_bytes(d) ^ SD_HIGH;
	n = sd_first8(nd);
	if (!n)
		return -1;
	val = sd_dec8(d, n);
	if (n == 8) {
		/* 9 or 10 digits */
		nd = sd_digit_bytes(d2) ^ SD_HIGH;
		n2 = sd_first8(nd);
		if (n2 > 2)
			return -1;
		val = val * (n2 == 2 ? 100 : n2 == 1 ? 10 : 1) + sd_dec8(d2, n2);
		c = sd_byte(d2, n2);
	} else {
		c = sd_byte(d, n);
	}
	if (val > 0xffffffffULL || (c != ' ' && c != '\t'))
		return -1;
	s->cseq = (__u32)val;
	return 0;
}

/*
 * A Call-ID value [@vs, @ve): trim SP/HTAB, hash it into s->callid_hash
 * (SD_F_CALLID).  SD_CONTINUE (an empty value counts as absent) or
 * SDR_SIP_SCAN_LIMIT.
 */
static __always_inline int sd_callid_slow(void *data, void *end,
					  struct sd_sip *s, __u32 vs, __u32 ve)
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

/*
 * The same, the usual shape (one SWS run before, none after, at most 64
 * bytes) hashed straight from one window.
 */
static __always_inline int sd_callid(void *data, void *end, struct sd_sip *s,
				     __u32 vs, __u32 ve)
{
	__u32 len, full, rem, k, c;
	__u64 h, w;
	void *q;

	/*
	 * Up to 64 bytes after one SP (or none) from one window: whole
	 * words, then the rest masked, as sd_hash_value(); its last byte
	 * must not be SP/HTAB (trailing SWS: the general way below).  The
	 * pointer moves on a word at a time (no offset kept beside the
	 * count); the window's 73rd byte is for the verifier, which does
	 * not know that 8 whole words leave no rest: 1 + 64 + 8.
	 */
	q = SD_WINDOW(data, end, vs, 73);
	if (q && vs + 2 < ve) {
		w = *(__u64 *)q;
		c = (w >> 8) & 0xff;
		if ((w & 0xff) == ' ' && c != ' ' && c != '\t') {
			q += 1;
			vs += 1;
		} else if ((w & 0xff) == ' ' || (w & 0xff) == '\t') {
			q = NULL;
		}
	} else {
		q = NULL;
	}
	len = ve - vs;
	if (q && len <= 64) {
		full = len >> 3;
		rem = len & 7;
		h = sipdlg_hash_init(len);
		w = 0;
		for (k = 0; k < 8; k++) {
			if (k >= full)
				break;
			w = *(__u64 *)q;
			q += 8;
			h = sipdlg_hash_step(h, SIPDLG_LE64(w));
		}
		if (rem) {
			w = *(__u64 *)q & sd_low_bytes(rem);
			h = sipdlg_hash_step(h, SIPDLG_LE64(w));
		}
		c = sd_byte(w, (rem ? rem : 8) - 1);
		if (c != ' ' && c != '\t') {
			s->callid_hash = sipdlg_hash_final(h);
			s->have |= SD_F_CALLID;
			return SD_CONTINUE;
		}
	}
	return sd_callid_slow(data, end, s, vs, ve);
}

/*
 * The value [*vs, *ve) of the first line of kind @kind, which the loop
 * closed.  0, or SDR_SIP_SCAN_LIMIT: the name is not followed by ':' (a
 * message the controller's parser refuses), or the value is too long.
 */
static __always_inline int sd_value(void *data, void *end, struct sd_sip *s,
				    int kind, __u32 *vs, __u32 *ve)
{
	__u32 ls = s->ls[kind & 7], le = s->le[kind & 7], v;

	if (ls >= le || le > SD_PKT_LIMIT)
		return SD_K(SDR_SIP_SCAN_LIMIT);
	v = sd_value_start(data, end, kind, ls, le);
	if (!v || le - v > SIPDLG_SCAN_MAX_VALUE)
		return SD_K(SDR_SIP_SCAN_LIMIT);
	*vs = v;
	*ve = le;
	return 0;
}

/*
 * The tag of the From or To line (@kind) into *h (0: none): the usual
 * shape inline, else the general walk.  SD_CONTINUE or a reason.
 */
static __always_inline int sd_read_tag(struct xdp_md *ctx, void *data,
				       void *end, struct sd_sip *s, int kind,
				       __u64 *h)
{
	__u32 vs, ve;
	int r;

	r = sd_value(data, end, s, kind, &vs, &ve);
	if (r)
		return r;
	if (sd_fast_tag(data, end, vs, ve, h))
		return SD_CONTINUE;
	s->vs = vs;
	s->ve = ve;
	r = sd_sip_tag(ctx, s);
	*h = s->vhash;
	return r;
}

/*
 * The first Route line: the cookie (and its MAC) in the usual shape.
 * SD_CONTINUE, or SD_FURTHER if the general walk must decide (the
 * caller hands the line to sd_route_next()/sd_sip_route()), or a reason.
 */
static __always_inline int sd_read_route(void *data, void *end,
					 struct sd_sip *s)
{
	__u32 vs, ve, ce;
	int r, pa;

	r = sd_value(data, end, s, SD_H_ROUTE, &vs, &ve);
	if (r)
		return r;
	pa = sd_fast_route(data, end, vs, ve);
	if (pa < 0)
		return SD_FURTHER;
	if (!pa)
		return SD_CONTINUE;	/* not our Route: look on */
	ce = sd_fast_cookie(data, end, s, pa, ve);
	if (!ce) {
		s->have |= SD_F_COOKIE | SD_F_BADCOOKIE;
		return SD_CONTINUE;
	}
	if (mac_enabled) {
		/* the fast shape goes on with the MAC right after the cookie */
		r = sd_fast_mac(data, end, s, ce);
		if (r < 0)
			return SD_FURTHER;
		s->have |= r ? SD_F_MACOK : SD_F_MACFAIL;
	}
	s->have |= SD_F_COOKIE;
	return SD_CONTINUE;
}

/*
 * The next Route line after s->q (s->kind the kind of the line s->q is
 * in): SD_CONTINUE with its value in [s->vs, s->ve) and s->q at its end,
 * SD_L_END when the headers end first, or a reason.  Global, as its line
 * loop is verified once; called by sd_sip_routes().
 */
__noinline int sd_route_next(struct xdp_md *ctx, struct sd_sip *s)
{
	void *data, *end;
	int r;

	if (!ctx || !s)
		return SDR_SIP_SCAN_LIMIT;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	r = sd_lines(data, end, s, SD_LM_ROUTE);
	return r == SD_L_DONE ? SD_CONTINUE : r;
}

/* Route lines the slow path of the cookie looks for after the main
 * pass; beyond: scan limit. */
#define SD_MAX_ROUTE_LINES 8

/*
 * The general walk of the Route line [@ls, @le) (sd_sip_route()).
 * SD_CONTINUE or a reason.
 */
static __always_inline int sd_route_walk(struct xdp_md *ctx, void *data,
					 void *end, struct sd_sip *s)
{
	__u32 vs, ve;
	int r;

	r = sd_value(data, end, s, SD_H_ROUTE, &vs, &ve);
	if (r)
		return r;
	s->vs = vs;
	s->ve = ve;
	return sd_sip_route(ctx, s);
}

/*
 * The slow path of the cookie (SD_F_ROUTES): the first Route line
 * through the general walk if its straight-line reader could not decide
 * (s->rwalk1); then the later Route lines the main pass recorded
 * (s->rts[]/rte[]), through the general walk as well; then,
 * if the main pass stopped before the end of the headers (or had more
 * Route lines than slots), the Route lines from there on, one by one
 * (sd_route_next()) through the general walk, to the first with the
 * rr_param or the end of the headers.  SD_CONTINUE or a reason.  Called
 * by sd_sip() (sip_match.h), not by sd_sip_scan(), so that no call chain
 * is deeper than three: the stack is 512 bytes in all.
 */
__noinline int sd_sip_routes(struct xdp_md *ctx, struct sd_sip *s)
{
	void *data, *end;
	__u32 n, i;
	int r;

	if (!ctx || !s)
		return SDR_SIP_SCAN_LIMIT;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (s->rwalk1) {
		r = sd_route_walk(ctx, data, end, s);
		if (r != SD_CONTINUE)
			return r;
		if (s->have & SD_F_COOKIE)
			return SD_CONTINUE;
	}
	n = s->nrt;
	for (i = 0; i < SD_RSLOTS; i++) {
		if (i >= n)
			break;
		/* the slot's line as the Route line the readers read */
		s->ls[SD_H_ROUTE & 7] = s->rts[i];
		s->le[SD_H_ROUTE & 7] = s->rte[i];
		r = sd_route_walk(ctx, data, end, s);
		if (r != SD_CONTINUE)
			return r;
		if (s->have & SD_F_COOKIE)
			return SD_CONTINUE;
	}
	if (n > SD_RSLOTS) {
		/* more Route lines than slots: on after the last slot */
		s->q = s->rte[SD_RSLOTS - 1];
		s->kind = SD_H_OTHER;
		s->nlines = s->rtnl;
	} else if (s->lr != SD_L_DONE) {
		return SD_CONTINUE;	/* the main pass saw every line */
	}
	/* on from where the main pass stopped (s->q, s->kind) */
	for (i = 0; i < SD_MAX_ROUTE_LINES; i++) {
		r = sd_route_next(ctx, s);
		if (r == SD_L_END)
			return SD_CONTINUE;
		if (r != SD_CONTINUE)
			return r;
		r = sd_sip_route(ctx, s);
		if (r != SD_CONTINUE)
			return r;
		if (s->have & SD_F_COOKIE)
			return SD_CONTINUE;
	}
	return SDR_SIP_SCAN_LIMIT;
}

/* After the line loop of a request: its values.  SD_FURTHER or a reason. */
static __always_inline int sd_scan_request(struct xdp_md *ctx, void *data,
					   void *end, struct sd_sip *s,
					   int lr)
{
	__u32 closed = s->closed, vs = 0, ve = 0;
	__u64 h = 0;
	int r;

	/* no To-tag: not an in-dialog request, nothing else matters */
	if (!(closed & SD_C(SD_H_TO)))
		return SD_K(SD_NOT_DIALOG);
	r = sd_read_tag(ctx, data, end, s, SD_H_TO, &h);
	if (r != SD_CONTINUE)
		return r;
	if (!h)
		return SD_K(SD_NOT_DIALOG);
	s->have = SD_F_TO | SD_F_TTAG;	/* nothing before: a request */
	s->ttag_hash = h;

	if (dlg_match_mode != SIPDLG_MATCH_DID_NONE) {
		r = SD_FURTHER;
		if (closed & SD_C(SD_H_ROUTE)) {
			r = sd_read_route(data, end, s);
			if (r == SD_FURTHER) {
				/* the general walk, from this line on */
				s->have |= SD_F_ROUTES;
				s->rwalk1 = 1;
			} else if (r != SD_CONTINUE) {
				return r;
			} else if (!(s->have & SD_F_COOKIE) &&
				   (s->nrt || lr == SD_L_DONE)) {
				/* look on after the first Route line */
				s->have |= SD_F_ROUTES;
			}
		} else if (lr == SD_L_DONE) {
			/* no Route yet: look on where the loop stopped */
			s->have |= SD_F_ROUTES;
		}
	}

	if (closed & SD_C(SD_H_FROM)) {
		h = 0;
		r = sd_read_tag(ctx, data, end, s, SD_H_FROM, &h);
		if (r != SD_CONTINUE)
			return r;
		s->have |= h ? SD_F_FROM | SD_F_FTAG : SD_F_FROM;
		s->ftag_hash = h;	/* 0 without a tag, as zeroed */
	}
	if (closed & SD_C(SD_H_CSEQ)) {
		s->have |= SD_F_CSEQ;
		if (sd_value(data, end, s, SD_H_CSEQ, &vs, &ve) ||
		    sd_cseq(data, end, s, vs, ve) != 0)
			s->have |= SD_F_CSEQBAD;
	}
	if (closed & SD_C_CONTACT)
		s->have |= SD_F_CONTACT;
	/* with a verified MAC the Call-ID is not needed (if the cookie is
	 * still to be found, the MAC is not known yet) */
	if (!(closed & SD_C(SD_H_CALLID)) || (s->have & SD_F_MACOK))
		return SD_K(SD_FURTHER);
	r = sd_value(data, end, s, SD_H_CALLID, &vs, &ve);
	if (r)
		return r;
	return sd_callid(data, end, s, vs, ve) == SD_CONTINUE ?
		       SD_FURTHER : SDR_SIP_SCAN_LIMIT;
}

/*
 * After the line loop of a reply: the top Via's value in [s->vs, s->ve)
 * (SD_F_VIA), our branch in it if sd_fast_via() can tell (else
 * sd_sip_via(), called by sd_sip(), decides), and the Call-ID.
 */
static __always_inline int sd_scan_reply(void *data, void *end,
					 struct sd_sip *s)
{
	__u32 closed = s->closed, vs, ve;
	int r;

	if (!(closed & SD_C(SD_H_VIA)))
		return SD_K(SDR_SIP_REPLY_OTHER);
	r = sd_value(data, end, s, SD_H_VIA, &vs, &ve);
	if (r)
		return r;
	s->vs = vs;
	s->ve = ve;
	s->have = SD_F_VIA;	/* nothing before: a reply */
	/* the usual shape here (SD_F_BRANCH), else sd_sip_via() decides */
	r = sd_fast_via(data, end, s, vs, ve);
	if (r == SDR_SIP_REPLY_OTHER)
		return r;
	if (closed & SD_C(SD_H_CALLID)) {
		r = sd_value(data, end, s, SD_H_CALLID, &vs, &ve);
		if (r)
			return r;
		r = sd_callid(data, end, s, vs, ve);
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
	__u32 off, lim, c, need, want;
	__u64 w;
	int r;

	if (!ctx || !s)
		return SD_K(SDR_SIP_NOT_SIP);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	off = s->msg_off;
	lim = s->msg_end;
	if (lim > (__u32)(end - data) || off >= lim ||
	    off > SD_PKT_LIMIT - SIPDLG_SCAN_MAX_BYTES - SIPDLG_SCAN_MAX_LINE)
		return SD_K(SDR_SIP_NOT_SIP);

	w = sd_load8(data, end, off) & sd_low_bytes(lim - off);
	if ((w | SD_SIP20_FOLD) == SD_W8('s', 'i', 'p', '/', '2', '.', '0', ' ')) {
		s->status = 1;	/* a reply; the code comes with the line */
		need = SD_C(SD_H_START) | SD_C(SD_H_VIA) | SD_C(SD_H_CALLID);
		want = need;
		s->nrt = SD_RSLOTS + 1;	/* no Route slots */
	} else {
		/* a request: the method is a token, in any case */
		c = (__u32)(w & 0xff);
		if (!sd_is_tchar(c))
			return SD_K(SDR_SIP_NOT_SIP);
		s->method = sd_method(w);
		need = SD_C(SD_H_START) | SD_C(SD_H_TO) | SD_C(SD_H_FROM) |
		       SD_C(SD_H_CSEQ) | SD_C(SD_H_CALLID);
		if (s->method == SDM_INVITE || s->method == SDM_UPDATE)
			need |= SD_C_CONTACT;
		/* the lines needed and Route (SD_NEED_DONE) */
		want = need | SD_C(SD_H_ROUTE);
		s->nrt = 0;
	}
	s->q = off;
	s->cur = off;
	s->kind = SD_H_START;
	s->nlines = 0;
	/* the kinds wanted not begun yet (SD_NEED_DONE); the start line
	 * is begun */
	s->seen = want & ~SD_C(SD_H_START);
	/* want, read back after the loop (kept in a register through it:
	 * +28 on the bench BYE, clang spills in the loop) */
	s->closed = want;
	s->rwalk1 = 0;

/* bpf_icount of objects built with -DSD_MEASURE_BASE / -DSD_MEASURE_LINES:
 * the cost of the line pass alone (the difference) */
#ifdef SD_MEASURE_BASE
	return SDR_SIP_SCAN_LIMIT;
#endif
	r = sd_lines(data, end, s, SD_LM_MAIN);
	s->closed = sd_lines_closed(s, s->closed);
#ifdef SD_MEASURE_LINES
	return SDR_SIP_SCAN_LIMIT;	/* bpf_icount: the line pass alone */
#endif

	/* the start line first: not SIP beats any other outcome */
	if (!(s->closed & SD_C(SD_H_START)))
		return r == SDR_SIP_SCAN_LIMIT ? r : SDR_SIP_NOT_SIP;
	if (sd_start_line(data, end, s, off, s->le[SD_H_START & 7]) !=
	    SD_CONTINUE)
		return SD_K(SDR_SIP_NOT_SIP);
	if (r != SD_L_DONE && r != SD_L_END)
		return r;
	if (s->status)
		return sd_scan_reply(data, end, s);
	return sd_scan_request(ctx, data, end, s, r);
}

#endif /* SIPDLG_BPF_SIP_SCAN_H */
