/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sip_lines.h - the single pass over the lines of a SIP message.
 *
 * One loop, one step per 64-byte window or per line end:
 * - the window at the scan position is tested for any byte below 0x0e
 *   with one OR of eight subtractions (a byte below 0x0e always sets the
 *   high bit of its lane; bytes >= 0x8e and borrows may too, which only
 *   costs a closer look); without a hit the scan moves on 64 bytes;
 * - on a hit the exact first byte below 0x0e is found; CRLF is one 16-bit
 *   compare, a bare LF one byte compare; anything else (HTAB, a lone CR)
 *   moves the scan just past it;
 * - at a line end the current line is closed (its end recorded if it is
 *   one we want), and the next line is classified by its first byte
 *   | 0x20 and one masked compare of its name; its start is recorded if
 *   it is the first of a kind we want.
 * Only the start and end of the first start line, Route, Call-ID, From,
 * To, CSeq and (replies) Via lines are recorded (struct sd_sip ls[], le[]);
 * Contact is only noted.  The loop stops as soon as every line in
 * s->need is closed; the values are read after it (sip_scan.h).
 *
 * Loop state lives in *s, behind a global function's pointer: the
 * verifier does not track that memory, so every step starts from the
 * same abstract state and the paths of one step prune against each
 * other (one load and one store of each field per step).
 *
 * Rules (the reference in tests/bpf/test_xdp_mutate.c follows them):
 * - A line ends at LF; a CR right before the LF is not part of it.  Only
 *   complete lines count; a message that ends inside a line ends there.
 * - A header name is matched without case, compact forms too, and must
 *   be followed by ':' or SP/HTAB (the ':' itself is checked when the
 *   value is read).  A line that starts with SP/HTAB is folding:
 *   SDR_SIP_FOLDED, also right after the last line the scan needed.  An
 *   empty line ends the headers.  Only the first line of each kind counts.
 * - Limits: SIPDLG_SCAN_MAX_LINE bytes per line, lines starting within
 *   SIPDLG_SCAN_MAX_BYTES of the message, SIPDLG_SCAN_MAX_LINES lines,
 *   SD_SCAN_STEPS steps (each HTAB in a line costs one): beyond them
 *   SDR_SIP_SCAN_LIMIT.
 */
#ifndef SIPDLG_BPF_SIP_LINES_H
#define SIPDLG_BPF_SIP_LINES_H

#include "sip_swar.h"

/*
 * Steps of the line loop (lines, 64-byte windows and HTABs together),
 * per call: the main pass, and each search for the next Route line.
 * The verifier walks every step, so they cost load time.
 */
#define SD_SCAN_STEPS 96
#define SD_ROUTE_STEPS 40

/* Loop variants, a constant at each use. */
#define SD_LM_MAIN 0		/* record the lines of s->need */
#define SD_LM_ROUTE 1		/* stop at the end of each Route line */

/* 0x80 in every byte of @w below 0x0e (exact). */
static __always_inline __u64 sd_ctl_bytes(__u64 w)
{
	return ~(((w & SD_LOW7) + SD_REP(0x80 - 0x0e)) | w) & SD_HIGH;
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

/* Window size of the line-end search, and its words. */
#define SD_WIN 32
#define SD_WIN_WORDS (SD_WIN / 8)

/*
 * The first byte below 0x0e at or after frame offset @q (< frame length
 * @len), looking at most SD_WIN bytes ahead, into s->at: its offset, or
 * @q + SD_WIN if there is none in the window (or the frame ends first:
 * then >= @len).  The usual window is tested with one OR of
 * subtractions, and only on a hit word by word: (w - 0x0e..) & ~w flags
 * every byte below 0x0e that no borrow reaches, and borrows start only
 * at such bytes, so a word's lowest flag is exact.  Each way out stores
 * its result at once, so that the verifier's paths join right after.
 */
static __always_inline void sd_find_ctl(void *data, void *end, __u32 q,
					__u32 len, struct sd_sip *s)
{
	__u64 w, m, keep;
	__u32 base, si, k;
	void *p = sd_pkt_at(data, q);

	if (p + SD_WIN <= end) {
		m = 0;
#pragma unroll
		for (k = 0; k < SD_WIN_WORDS; k++)
			m |= *(__u64 *)(p + 8 * k) - SD_REP(0x0e);
		if (!(m & SD_HIGH)) {
			SD_WR(s->at, q + SD_WIN);
			return;
		}
		/* a hit: the words again (loads are cheaper than spills) */
#pragma unroll
		for (k = 0; k < SD_WIN_WORDS; k++) {
			w = *(__u64 *)(p + 8 * k);
			m = (w - SD_REP(0x0e)) & ~w & SD_HIGH;
			if (m) {
				SD_WR(s->at, q + 8 * k + sd_first(m));
				return;
			}
		}
		SD_WR(s->at, q + SD_WIN);	/* bytes >= 0x8e only */
		return;
	}
	/* the last SD_WIN bytes of the frame, without those before @q */
	SD_WR(s->at, len);
	if (len < SD_WIN || q < len - SD_WIN)
		return;
	base = len - SD_WIN;
	SD_OPAQUE(base);
	p = sd_pkt_at(data, base);
	if (p + SD_WIN > end)
		return;
	si = q - base;
#pragma unroll
	for (k = 0; k < SD_WIN_WORDS; k++) {
		keep = sd_keep_from(si, 8 * k);
		m = sd_ctl_bytes(*(__u64 *)(p + 8 * k)) & keep;
		if (m) {
			SD_WR(s->at, base + 8 * k + sd_first(m));
			return;
		}
	}
}

/* --- header names ------------------------------------------------------ */

/* Does the (| 0x20 folded) byte @c end a header name: ':' SP HTAB? */
#define SD_NAME_END(c) ((c) == ':' || (c) == ' ' || (c) == ('\t' | 0x20))

/* The low @n bytes of the folded word @lw equal the name word @name. */
#define SD_NAME_IS(lw, n, name) (((lw) & sd_low_bytes(n)) == (name))

/*
 * Which header the line whose first 8 bytes are @w starts (enum sd_hdr),
 * SD_H_OTHER if none we know.  Letters compare without case: every byte
 * is OR-ed with 0x20, which lowers exactly the upper-case letters and
 * maps no other byte onto a lower-case letter (but CR onto '-', so the
 * '-' of Call-ID is compared as it is).  A name must be followed
 * by ':' or SP/HTAB (0x1a would pass as ':': the ':' is checked again
 * when the value is read).
 */
static __always_inline int sd_hdr_kind(__u64 w)
{
	__u64 lw = w | SD_REP(0x20);
	__u32 c1 = sd_byte(lw, 1);

	switch (lw & 0xff) {
	case 'r':
		if (SD_NAME_IS(lw, 5, SD_W8('r', 'o', 'u', 't', 'e', 0, 0, 0)) &&
		    SD_NAME_END(sd_byte(lw, 5)))
			return SD_H_ROUTE;
		break;
	case 'i':
		if (SD_NAME_END(c1))
			return SD_H_CALLID;
		break;
	case 'c':
		/* '-' (0x2d) compares unfolded: CR (0x0d) | 0x20 is '-' too */
		if (SD_NAME_IS(lw & ~SD_B(0x20, 4) | (w & SD_B(0x20, 4)), 7,
			       SD_W8('c', 'a', 'l', 'l', '-', 'i', 'd', 0)) &&
		    SD_NAME_END(sd_byte(lw, 7)))
			return SD_H_CALLID;
		if (SD_NAME_IS(lw, 4, SD_W8('c', 's', 'e', 'q', 0, 0, 0, 0)) &&
		    SD_NAME_END(sd_byte(lw, 4)))
			return SD_H_CSEQ;
		if (SD_NAME_IS(lw, 7, SD_W8('c', 'o', 'n', 't', 'a', 'c', 't', 0)) &&
		    SD_NAME_END(sd_byte(lw, 7)))
			return SD_H_CONTACT;
		break;
	case 'f':
		if (SD_NAME_END(c1) ||
		    (SD_NAME_IS(lw, 4, SD_W8('f', 'r', 'o', 'm', 0, 0, 0, 0)) &&
		     SD_NAME_END(sd_byte(lw, 4))))
			return SD_H_FROM;
		break;
	case 't':
		if (SD_NAME_END(c1) ||
		    (c1 == 'o' && SD_NAME_END(sd_byte(lw, 2))))
			return SD_H_TO;
		break;
	case 'm':
		if (SD_NAME_END(c1))
			return SD_H_CONTACT;
		break;
	case 'v':
		if (SD_NAME_END(c1) ||
		    (SD_NAME_IS(lw, 3, SD_W8('v', 'i', 'a', 0, 0, 0, 0, 0)) &&
		     SD_NAME_END(sd_byte(lw, 3))))
			return SD_H_VIA;
		break;
	}
	return SD_H_OTHER;
}

/*
 * Where the value of header line [@ls, @le) of kind @kind starts: after
 * the name (compact or long), up to SIPDLG_SWS_MAX SP/HTAB and ':'.
 * 0 if the ':' is not there (a name followed by something else).
 */
static __always_inline __u32 sd_value_start(void *data, void *end, int kind,
					    __u32 ls, __u32 le)
{
	__u64 w = sd_load8(data, end, ls) & sd_low_bytes(le - ls), x;
	__u32 c1 = sd_byte(w, 1), n, nl, l2;

	if (c1 == ':' || c1 == ' ' || c1 == '\t') {
		nl = 1;			/* compact form (or "To"'s 'T') */
		l2 = c1;
	} else if (kind == SD_H_ROUTE) {
		nl = 5;
		l2 = 'o';
	} else if (kind == SD_H_FROM) {
		nl = 4;
		l2 = 'r';
	} else if (kind == SD_H_TO) {
		nl = 2;
		l2 = 'o';
	} else if (kind == SD_H_CSEQ) {
		nl = 4;
		l2 = 's';
	} else if (kind == SD_H_VIA) {
		nl = 3;
		l2 = 'i';
	} else {
		nl = 7;			/* Call-ID */
		l2 = 'a';
	}
	/*
	 * sd_hdr_kind() folds with | 0x20, so a compact name followed by
	 * NUL or 0x1a (folded to SP and ':') was taken for a name end: the
	 * second byte must then be the long name's, unfolded but a letter.
	 */
	if (nl > 1 && (c1 | 0x20) != l2)
		return 0;
	if (ls + nl >= le)
		return 0;
	x = sd_load8(data, end, ls + nl) & sd_low_bytes(le - ls - nl);
	n = sd_skip_ws(x);
	if (n > SIPDLG_SWS_MAX || sd_byte(x, n) != ':')
		return 0;
	return ls + nl + n + 1;
}


/*
 * The line loop, from s->q inside the current line (s->kind, starting at
 * s->cur).  SD_L_DONE (s->q at the end of the last line closed, so that
 * the loop can go on from there), SD_L_END, or a reason.  @mode:
 * SD_LM_MAIN records the lines of s->need and stops when all are closed;
 * SD_LM_ROUTE stops at the end of the next Route line, its value in
 * [s->vs, s->ve).
 */
static __always_inline int sd_lines(void *data, void *end, struct sd_sip *s,
				    int mode)
{
	__u32 len = (__u32)(end - data), q, lim, at, nl, kind, bit, closed;
	__u32 seen, n, c;
	__u64 w;
	void *p;
	int i, r;

#define SD_LOUT(x)                   \
	do {                         \
		SD_WR(s->lr, (x));   \
		goto out;            \
	} while (0)

	SD_OPAQUE(len);
	lim = s->msg_end;	/* the same unknown value on every path */
	for (i = 0; i < (mode == SD_LM_MAIN ? SD_SCAN_STEPS : SD_ROUTE_STEPS);
	     i++) {
		q = SD_RD(s->q);
		if (q >= lim || q > SD_PKT_LIMIT)
			SD_LOUT(SD_L_END);	/* the message ends in this line */
		/* through memory: the window's paths join here */
		sd_find_ctl(data, end, q, len, s);
		at = SD_RD(s->at);
		if (at >= lim)
			SD_LOUT(SD_L_END);
		if (at == q + SD_WIN) {
			SD_WR(s->q, at);	/* no control byte: next window */
			continue;
		}
		/* CR LF (the LF inside the message), or LF */
		p = sd_pkt_at(data, at);
		if (p + 2 <= end)
			c = *(__u16 *)p;
		else if (p + 1 <= end)
			c = *(__u8 *)p;
		else
			SD_LOUT(SD_L_END);
		if (at + 1 >= lim)
			c &= 0xff;
		if (c == SD_W8('\r', '\n', 0, 0, 0, 0, 0, 0)) {
			SD_WR(s->q, at + 2);
		} else if ((c & 0xff) == '\n') {
			SD_WR(s->q, at + 1);
		} else {
			SD_WR(s->q, at + 1);	/* HTAB, a lone CR, ... */
			continue;
		}
		nl = SD_RD(s->q);	/* the next line, paths joined */
		if (at - SD_RD(s->cur) >= SIPDLG_SCAN_MAX_LINE)
			SD_LOUT(SDR_SIP_SCAN_LIMIT);

		/* close the current line, which ends at @at */
		kind = SD_RD(s->kind) & 7;
		if (mode == SD_LM_MAIN) {
			SD_WR(s->le[kind], at);
			closed = SD_RD(s->closed) | (1u << kind);
			SD_WR(s->closed, closed);
			n = SD_RD(s->need);
			r = (closed & n) == n;
		} else {
			/* a Route line: hand its value to the caller */
			r = kind == SD_H_ROUTE;
			if (r) {
				n = sd_value_start(data, end, SD_H_ROUTE,
						   SD_RD(s->cur), at);
				if (!n)
					SD_LOUT(SDR_SIP_SCAN_LIMIT);
				SD_WR(s->vs, n);
				SD_WR(s->ve, at);
			}
		}
		w = nl < lim ? sd_load8(data, end, nl) & sd_low_bytes(lim - nl) : 0;
		if (r) {
			/* done; but a folded continuation would change it */
			if ((w & 0xff) == ' ' || (w & 0xff) == '\t')
				SD_LOUT(SDR_SIP_FOLDED);
			SD_WR(s->q, at);
			SD_WR(s->cur, at);
			SD_WR(s->kind, SD_H_OTHER);
			SD_LOUT(SD_L_DONE);
		}

		/* the next line */
		if (nl >= lim || (w & 0xff) == '\n' ||
		    (w & 0xffff) == SD_W8('\r', '\n', 0, 0, 0, 0, 0, 0))
			SD_LOUT(SD_L_END);
		if ((w & 0xff) == ' ' || (w & 0xff) == '\t')
			SD_LOUT(SDR_SIP_FOLDED);
		n = SD_RD(s->nlines) + 1;
		if (n > SIPDLG_SCAN_MAX_LINES ||
		    nl >= SD_RD(s->msg_off) + SIPDLG_SCAN_MAX_BYTES)
			SD_LOUT(SDR_SIP_SCAN_LIMIT);
		SD_WR(s->nlines, n);
		SD_WR(s->cur, nl);
		/* through memory: the kinds' paths join here */
		SD_WR(s->kind, sd_hdr_kind(w));
		if (mode == SD_LM_MAIN) {
			kind = SD_RD(s->kind);
			if (kind == SD_H_CONTACT) {
				/* only its presence counts */
				SD_WR(s->closed, SD_RD(s->closed) | SD_C_CONTACT);
				SD_WR(s->kind, SD_H_OTHER);
				continue;
			}
			kind &= 7;
			bit = 1u << kind;
			seen = SD_RD(s->seen);
			if (seen & bit) {
				/* only the first counts */
				SD_WR(s->kind, SD_H_OTHER);
				continue;
			}
			SD_WR(s->seen, seen | bit);
			SD_WR(s->ls[kind], nl);
		}
	}
	SD_WR(s->lr, SDR_SIP_SCAN_LIMIT);
out:
	/* one way out, through memory: the exits' paths join here */
	return SD_RD(s->lr);
#undef SD_LOUT
}

#endif /* SIPDLG_BPF_SIP_LINES_H */
