/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sip_lines.h - the single pass over the lines of a SIP message.
 *
 * One loop, one step per line end or per 128-byte window without LF:
 * - the window at the scan position is tested word by word, three
 *   instructions a word (sd_win_flag(): load, subtract, JSET):
 *   (w - 0x0b..) & 0x80.. flags a byte below 0x0b (LF among them) or
 *   >= 0x8b; the lowest flag is exact (a borrow starts only at a
 *   flagged byte), so the flagged word is an LF's if that byte is one;
 *   else (HTAB, UTF-8 before the LF) the window again word by word in
 *   C with the exact LF search (SD_WIN_SCAN), from its start; without LF
 *   the scan moves on 128 bytes (most header lines end within one such
 *   window, so a line costs one step); within the frame's last 128
 *   bytes 64, within its last 64 bytes 8 at a time;
 * - only LF ends a line; a CR right before it is dropped from the line.
 *   HTAB or a lone CR inside a line is no line end and costs nothing;
 * - at a line end the current line is closed (its end recorded if it is
 *   one we want), and the next line is classified by its first byte
 *   | 0x20 and one masked compare of its name (the usual "Name:" with
 *   the ':' in the same compare); its start is recorded if it is the
 *   first of a kind we want.
 * Only the first start line, Route, Call-ID, From, To, CSeq and (replies)
 * Via lines are recorded (struct sd_sip ls[], le[]), and the Route lines
 * after the first (rts[], rte[], up to SD_RSLOTS) so that the slow path
 * of the cookie does not scan again; Contact is only noted.  The loop
 * stops as soon as every line it needs is closed: one line is open at a
 * time, so the line that begins the last kind needed (s->seen, the kinds
 * wanted not begun yet) is the last to close; it is stored as SD_K_LAST |
 * its kind, and its end stops the loop without a test of the set at every
 * line end.  The set of closed lines is made once after the loop
 * (sd_lines_closed()).  The
 * message's end is tested where a step moves on without LF and where a
 * line ends, not at the top of every step.  The values are read after
 * the loop (sip_scan.h).
 *
 * Loop state lives in *s, behind a global function's pointer: the
 * verifier does not track that memory, so every step starts from the
 * same abstract state and the paths of one step prune against each
 * other.  Each way out of a step stores its result there at once, as
 * SD_K(): a constant clang would otherwise load into the result register
 * before the branch, on every step that goes on (issue #13: -50 insns on
 * the bench BYE).  The verifier does not prune one step against the
 * next, so its cost grows with SD_SCAN_STEPS and with every path a step
 * adds.  Measured and dropped (bench BYE, bpf_icount; host verifier):
 * - testing the lowest flag of (w - 0x0b..) & 0x80.. (exact) for LF
 *   before the exact search: -2 to -6 before SD_K, +24 after it, and
 *   up to +230,000 in the verifier;
 * - min(msg_end, byte limit) as one compare per step: -8, verifier
 *   +216,000 (in a register: over 1,000,000);
 * - one step per false hit (HTAB, UTF-8) needs more steps: over 1,000,000;
 * - skipping the classification of lines whose first byte & 31 no kind
 *   wanted has: BYE -8, INVITE +27;
 * - after the LF, testing "nl >= end" once for lines not wanted: +8, and
 *   the verifier over 1,000,000;
 * - the end of a Route slot's line in le[] (no separate close path): +17
 *   (clang spills more); msg_off + limit read from *s per step: +16.
 * Register pressure decides much here: each value the loop keeps in a
 * register (lim, the closed set) costs spills elsewhere.
 * Kept (session 10): one test of the message's end per line end (a
 * message that ends with a line has its next line taken for the empty
 * one): -11, verifier -47,000 (host 667,173; 6.1 641,898 with the
 * default knobs); ls[]/le[] indexed without "& 7": -5.  Measured and
 * dropped then (BYE, whole program):
 * - the next line's kind used from its register after it is stored (the
 *   kinds' paths do not join through *s): -16 (every SIP row -13 to
 *   -44), but each kind's path then runs on alone to the next step: the
 *   verifier +114,000 on the host, 720,654 on 6.1 with the default knobs
 *   (772,409 with the MAC), over the 700,000 tests/bpf/test_xdp_parse.c
 *   and test_xdp_sip.c allow; joined again after the line count instead:
 *   +4 and refused (a kind read back is no longer known below 9);
 * - the window read from the byte before it (b = q - 1, b + 137 checked)
 *   so that the byte before the LF and the next word come from the
 *   checked pointer: a variable offset clears the checked range, one
 *   more bounds check per LF: +16 (line pass -9, sd_sip_scan worse);
 * - the LF test of the lowest flag done as ((v >> 8 * first) & 0xff) ==
 *   LF or as ((v - lt) + bit) & (bit * 0xff) == 0 before the exact
 *   search: the LF word costs 18 instead of 29, but clang spills end and
 *   s around it: +26, +30 (+14 after the one test of the message's
 *   end);
 * - the main pass as a global function of its own (sd_lines_main()):
 *   loop -2, caller +31; with the lowest-flag test: +10;
 * - s->at holding the byte before the LF (x - 1 folded into 8 * k): +5;
 *   the LF's offset joined by masking (& SD_PKT_MASK) instead of through
 *   s->at: +-0; not joined at all: +11;
 * - SD_WIN 64: +77, 96: +22, 256: +11 (reply +238).
 * Kept (session 11, lp5): the window's flag test as a JSET in inline
 * assembly (SD_WIN_FLAG, its comment has the steps): BYE 2,646 ->
 * 2,563 (the line pass alone, SD_MEASURE_LINES - SD_MEASURE_BASE:
 * 1,184 -> 1,112), every SIP row -25 to -70, the verifier -165,000
 * (host 501,169).  Measured and dropped then: two words per flag test
 * in C ((w0 - lt) | (w1 - lt), then each word exactly): +49; with the
 * JSET scan, the next line's kind used from its register again: +22;
 * the LF test of the lowest flag as !((m + v) & flag) instead of
 * !(~m & v * 0xff): +43 (clang spills).
 * Kept (session 12, lp8; bench BYE 2,532 -> 2,458, every SIP row -56 to
 * -93, the relay rows -68 and -50; host verifier, test_xdp_parse:
 * 497,811 -> 529,910):
 * - the last line needed marked when it begins (SD_K_LAST: s->seen holds
 *   the kinds wanted not begun, SD_NEED_DONE), so that a line end tests
 *   no set: -6, but only with want read back from s->closed after the
 *   loop (kept in a register: +22 instead);
 * - the CR before the LF as a branch (le = x - 1, or x): -27;
 * - the window scan's k written into lt's register (a tied operand; the
 *   slow search makes lt again): -4;
 * - __builtin_expect on the step's usual path (window and next line in
 *   the frame, the flag an LF, no end of message, kind < SD_K_RSLOT):
 *   -15; each of them left out: +9 to +43 (clang places its spills and
 *   reloads by the branch weights it guesses);
 * - the flag test's LF offset on in a register (found_x; the slow ways
 *   still join through s->at): -19 (with hints in sd_value_start() and
 *   sd_fast_route(): -3), the verifier +28,000.
 * Measured and dropped then: q read back from s->q after the window scan
 * (q not live across it): +3; qmax in *s, read per step: +3; the line
 * limit from the loop counter (a threshold in *s that each step without
 * LF lowers) instead of s->nlines at every line: +38 (clang spills the
 * counter); hints in sd_hdr_kind(), sd_fast_tag(), sd_fast_cookie(),
 * sd_cseq(), sd_value(): 0 to +10.
 * Not built: two loops, the first recording only line ends, the second
 * classifying the lines recorded.  The first cannot know where the lines
 * needed end, so it scans to the empty line (the bench BYE: 16 lines and
 * ~800 bytes instead of 9 lines and ~500), and each of its steps still
 * pays the window check, the LF's position and its join (~50 insns a
 * line), the second the line's load and bounds check again: estimated
 * dearer than one loop for every bench row.
 *
 * Rules (the reference in tests/bpf/test_xdp_mutate.c follows them; the
 * limits are those tests/lib/sipexpect.c allows, sipexp_over_limits()):
 * - A line ends at LF; a CR right before the LF is not part of it.  Only
 *   complete lines count; a message that ends inside a line ends there.
 * - A header name is matched without case, compact forms too, and must
 *   be followed by ':' or SP/HTAB (the ':' itself is checked when the
 *   value is read).  A line that starts with SP/HTAB is folding:
 *   SDR_SIP_FOLDED, also right after the last line the scan needed.  An
 *   empty line (CR LF or LF) ends the headers.  Only the first line of
 *   each kind counts.
 * - Limits, SDR_SIP_SCAN_LIMIT beyond them (a message within all of them
 *   never gets it):
 *   - lines: the start line and SIPDLG_SCAN_MAX_LINES header lines (the
 *     empty line not counted) are read; the scan gives up when it would
 *     have to classify header line SIPDLG_SCAN_MAX_LINES + 1, i.e. when
 *     a line it needs (or the end of the headers) lies beyond the 40th;
 *   - bytes: no window starts SIPDLG_SCAN_MAX_BYTES or more bytes into
 *     the message (so a line that begins before may end a window later);
 *   - the search for Route lines after the main pass (sd_route_next()):
 *     SD_ROUTE_STEPS steps per Route line.
 *   A line may be as long as the byte limit lets it (the value readers
 *   take at most SIPDLG_SCAN_MAX_VALUE bytes of a value).
 */
#ifndef SIPDLG_BPF_SIP_LINES_H
#define SIPDLG_BPF_SIP_LINES_H

#include "sip_swar.h"

/* Window of the LF search: bytes, words (128: fewest executed
 * instructions on the bench messages; 64 and 256 cost more). */
#define SD_WIN 128
#define SD_WIN_WORDS (SD_WIN / 8)


/*
 * &s->ls[kind] for a kind below SD_K_EMPTY that the verifier knows to be
 * so (no "& 7"): ls[] and le[] lie next to each other, [8] is le[kind].
 * SD_H_CONTACT (8) lands on le[0], then on vs: neither is read for it.
 */
#define SD_LS(s, kind) ((__u16 *)((void *)(s)->ls + 2 * (kind)))
_Static_assert(__builtin_offsetof(struct sd_sip, le) ==
		       __builtin_offsetof(struct sd_sip, ls) + 16,
	       "SD_LS: le[] right after ls[]");
/* the verifier lets a closed kind be up to 15: SD_LS(s, 15)[8] */
_Static_assert(__builtin_offsetof(struct sd_sip, ls) + 48 <=
		       sizeof(struct sd_sip),
	       "SD_LS: every index the verifier allows inside struct sd_sip");

/* Loop variants, a constant at each use. */
#define SD_LM_MAIN 0		/* record the lines wanted, stop when the
				 * lines needed are closed */
#define SD_LM_ROUTE 1		/* stop at the end of each Route line */

/*
 * Classification results besides enum sd_hdr (never stored as a line's
 * kind), and the stored kind of a Route line after the first: SD_K_RSLOT
 * | its slot in s->rts[]/rte[].
 */
#define SD_K_EMPTY 9		/* the empty line: the headers end */
#define SD_K_FOLD 10		/* a line starting with SP/HTAB */
#define SD_K_RSLOT 16
/* ... | the stored kind of the last line needed: its end stops the loop */
#define SD_K_LAST 32

/*
 * s->seen during the main pass: the kinds wanted whose first line has
 * not begun yet.  Every kind wanted is needed but Route (requests), so
 * every kind needed has begun once no bit above Route's is left.
 */
#define SD_NEED_DONE (2 * SD_C(SD_H_ROUTE))
_Static_assert(SD_H_OTHER == 0 && SD_H_ROUTE == 1,
	       "SD_NEED_DONE: Route's bit the highest of those not needed");

/* --- header names ------------------------------------------------------ */

/* Does the (| 0x20 folded) byte @c end a header name: ':' SP HTAB? */
#define SD_NAME_END(c) ((c) == ':' || (c) == ' ' || (c) == ('\t' | 0x20))

/* The low @n bytes of the folded word @lw equal the name word @name. */
#define SD_NAME_IS(lw, n, name) (((lw) & sd_low_bytes(n)) == (name))

/* ... and a ':' follows right away: the usual shape, one compare. */
#define SD_NAME_COLON(lw, n, name) \
	(((lw) & sd_low_bytes((n) + 1)) == ((name) | (__u64)':' << (8 * (n))))

/*
 * Which header the line whose first 8 bytes are @w starts (enum sd_hdr),
 * SD_H_OTHER if none we know; SD_K_EMPTY for the empty line (CR LF or
 * LF), SD_K_FOLD for a line starting with SP or HTAB.  Letters compare without case: every byte
 * is OR-ed with 0x20, which lowers exactly the upper-case letters and
 * maps no other byte onto a lower-case letter (but CR onto '-', so the
 * '-' of Call-ID is compared as it is).  A name must be followed
 * by ':' or SP/HTAB (0x1a would pass as ':': the ':' is checked again
 * when the value is read).
 */
static __always_inline int sd_hdr_kind(__u64 w)
{
	__u64 lw = w | SD_REP(0x20);
/* the second byte: made in the cases that need it, after the fast ones */
#define SD_C1 sd_byte(lw, 1)

	switch (lw & 0xff) {
	case 'r':
		if (SD_NAME_COLON(lw, 5, SD_W8('r', 'o', 'u', 't', 'e', 0, 0, 0)))
			return SD_H_ROUTE;
		if (SD_NAME_IS(lw, 5, SD_W8('r', 'o', 'u', 't', 'e', 0, 0, 0)) &&
		    SD_NAME_END(sd_byte(lw, 5)))
			return SD_H_ROUTE;
		break;
	case 'i':
		if (SD_NAME_END(SD_C1))
			return SD_H_CALLID;
		break;
	case 'c':
		/* "Call-ID:", its '-' unfolded (below) */
		if (lw == SD_W8('c', 'a', 'l', 'l', '-', 'i', 'd', ':') &&
		    (w & SD_B(0x20, 4)))
			return SD_H_CALLID;
		if (SD_NAME_COLON(lw, 4, SD_W8('c', 's', 'e', 'q', 0, 0, 0, 0)))
			return SD_H_CSEQ;
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
		if (SD_NAME_COLON(lw, 4, SD_W8('f', 'r', 'o', 'm', 0, 0, 0, 0)))
			return SD_H_FROM;
		if (SD_NAME_END(SD_C1) ||
		    (SD_NAME_IS(lw, 4, SD_W8('f', 'r', 'o', 'm', 0, 0, 0, 0)) &&
		     SD_NAME_END(sd_byte(lw, 4))))
			return SD_H_FROM;
		break;
	case 't':
		if (SD_NAME_COLON(lw, 2, SD_W8('t', 'o', 0, 0, 0, 0, 0, 0)))
			return SD_H_TO;
		if (SD_NAME_END(SD_C1) ||
		    (SD_C1 == 'o' && SD_NAME_END(sd_byte(lw, 2))))
			return SD_H_TO;
		break;
	case 'm':
		if (SD_NAME_END(SD_C1))
			return SD_H_CONTACT;
		break;
	case 'v':
		if (SD_NAME_COLON(lw, 3, SD_W8('v', 'i', 'a', 0, 0, 0, 0, 0)))
			return SD_H_VIA;
		if (SD_NAME_END(SD_C1) ||
		    (SD_NAME_IS(lw, 3, SD_W8('v', 'i', 'a', 0, 0, 0, 0, 0)) &&
		     SD_NAME_END(sd_byte(lw, 3))))
			return SD_H_VIA;
		break;
	case ' ':		/* SP, or NUL */
	case '\t' | 0x20:	/* HTAB, or ')' */
		if ((w & 0xff) == ' ' || (w & 0xff) == '\t')
			return SD_K_FOLD;
		break;
	case '\r' | 0x20:	/* CR, or '-' */
		if ((w & 0xffff) == SD_W8('\r', '\n', 0, 0, 0, 0, 0, 0))
			return SD_K_EMPTY;
		break;
	case '\n' | 0x20:	/* LF, or '*' */
		if ((w & 0xff) == '\n')
			return SD_K_EMPTY;
		break;
	}
#undef SD_C1
	return SD_H_OTHER;
}

/*
 * The header name's length and its second byte (lower case) for a line
 * of kind @kind whose second byte is @c1: 1 for a compact form (or
 * "To"'s 'T'), else the long name's.
 */
static __always_inline __u32 sd_name_len(int kind, __u32 c1, __u32 *l2)
{
	if (c1 == ':' || c1 == ' ' || c1 == '\t') {
		*l2 = c1;
		return 1;
	}
	if (kind == SD_H_ROUTE) {
		*l2 = 'o';
		return 5;
	}
	if (kind == SD_H_FROM) {
		*l2 = 'r';
		return 4;
	}
	if (kind == SD_H_TO) {
		*l2 = 'o';
		return 2;
	}
	if (kind == SD_H_CSEQ) {
		*l2 = 's';
		return 4;
	}
	if (kind == SD_H_VIA) {
		*l2 = 'i';
		return 3;
	}
	*l2 = 'a';
	return 7;		/* Call-ID */
}

/* The long name's length of a line of kind @kind, its second byte
 * (lower case) into *l2. */
static __always_inline __u32 sd_long_name(int kind, __u32 *l2)
{
	return sd_name_len(kind, 'a', l2);
}

/*
 * Where the value of header line [@ls, @le) of kind @kind starts: after
 * the name (compact or long), up to SIPDLG_SWS_MAX SP/HTAB and ':'.
 * 0 if the ':' is not there (a name followed by something else).
 *
 * The byte at @le is the line's CR or LF (a line ends at LF, a CR right
 * before it is left out), neither SP/HTAB nor ':' nor a letter: so the
 * bytes past the line need no masking, the SWS run and the ':' found
 * lie inside it.  Usually from one 16-byte window, straight-line.
 */
static __always_inline __u32 sd_value_start(void *data, void *end, int kind,
					    __u32 ls, __u32 le)
{
	__u64 w, x, w1;
	__u32 c1, n, nl, l2;
	void *q;

	q = sd_pkt_at(data, ls);
	if (__builtin_expect(q + 16 <= end, 1)) {
		SD_OPAQUE(q);	/* the checked register itself */
		w = *(__u64 *)q;
		/*
		 * The usual shapes first: a compact name or the long one
		 * right before the ':' (the name's second byte must then be
		 * the long name's, as below).  The ':' lies before the line
		 * end, whose byte is CR or LF.
		 */
		c1 = sd_byte(w, 1);
		nl = sd_long_name(kind, &l2);
		/* the long name first: the usual one (c1 ':' fails it) */
		if (sd_byte(w, nl) == ':' && (c1 | 0x20) == l2)
			return ls + nl + 1;
		if (c1 == ':')
			return ls + 2;
		w1 = *(__u64 *)(q + 8);
	} else {
		w = sd_load8(data, end, ls);
		w1 = 0;
	}
	c1 = sd_byte(w, 1);
	nl = sd_name_len(kind, c1, &l2);
	/*
	 * sd_hdr_kind() folds with | 0x20, so a compact name followed by
	 * NUL or 0x1a (folded to SP and ':') was taken for a name end: the
	 * second byte must then be the long name's, unfolded but a letter.
	 */
	if (nl > 1 && (c1 | 0x20) != l2)
		return 0;
	if (ls + nl >= le)
		return 0;
	if (w1) {
		/* nl is 1..7: the 8 bytes after the name */
		x = (w >> ((8 * nl) & 63)) | (w1 << ((64 - 8 * nl) & 63));
	} else {
		x = sd_load8(data, end, ls + nl);
	}
	if ((x & 0xff) == ':')
		return ls + nl + 1;	/* the usual shape: no SWS */
	n = sd_skip_ws(x);
	if (n > SIPDLG_SWS_MAX || sd_byte(x, n) != ':')
		return 0;
	return ls + nl + n + 1;
}


/*
 * SD_WIN_FLAG(p, lt, high, k, m, none): the first word of the SD_WIN
 * bytes at @p (p + SD_WIN checked) that (w - @lt) & @high flags: its
 * offset 8 * k into @k and w - lt of it into @m (r0); to the C label
 * @none if no word is flagged (asm goto: the outputs are valid on the
 * fall-through only, which is the flagged path).  Three instructions a
 * word (load, subtract, one JSET) where clang emits four (AND, then a
 * compare with 0): LLVM 14 neither selects nor assembles JSET, so it is
 * written as its encoding (opcode 0x4d, dst r0, src r5 = 0x50, the
 * offset to the word's stub).  Fixed layout, so that the offsets are
 * constants: 16 x 3 instructions (word k's JSET jumps 46 - k ahead, to
 * its stub), the jump to @none (1), 16 stubs of 2 (8 * k, a jump to the
 * end).  The verifier sees a constant offset on every path.
 * Issue #13, bench BYE (2,646 before): the index only, the word loaded
 * again in C and tested exactly: 2,678; the word loaded by the stub:
 * 2,637; w - lt handed out and its lowest flag tested for LF (below)
 * as (m & B) == B (B: 0xff in that byte): 2,620, as !(~m & B): 2,605;
 * no word flagged as a jump to a C label (asm goto), not k = SD_WIN and
 * a compare: 2,563.  The verifier's count fell by ~165,000 (host
 * 667,173 -> 501,169; a flag is one JSET, not an AND and a branch).
 */
#define SD_WSCAN_ASM \
	"r0 = *(u64 *)(%[p] + 0)\n\t"		\
	"r0 -= %[lt]\n\t"			\
	".quad 0x002e504d\n\t"		\
	"r0 = *(u64 *)(%[p] + 8)\n\t"		\
	"r0 -= %[lt]\n\t"			\
	".quad 0x002d504d\n\t"		\
	"r0 = *(u64 *)(%[p] + 16)\n\t"		\
	"r0 -= %[lt]\n\t"			\
	".quad 0x002c504d\n\t"		\
	"r0 = *(u64 *)(%[p] + 24)\n\t"		\
	"r0 -= %[lt]\n\t"			\
	".quad 0x002b504d\n\t"		\
	"r0 = *(u64 *)(%[p] + 32)\n\t"		\
	"r0 -= %[lt]\n\t"			\
	".quad 0x002a504d\n\t"		\
	"r0 = *(u64 *)(%[p] + 40)\n\t"		\
	"r0 -= %[lt]\n\t"			\
	".quad 0x0029504d\n\t"		\
	"r0 = *(u64 *)(%[p] + 48)\n\t"		\
	"r0 -= %[lt]\n\t"			\
	".quad 0x0028504d\n\t"		\
	"r0 = *(u64 *)(%[p] + 56)\n\t"		\
	"r0 -= %[lt]\n\t"			\
	".quad 0x0027504d\n\t"		\
	"r0 = *(u64 *)(%[p] + 64)\n\t"		\
	"r0 -= %[lt]\n\t"			\
	".quad 0x0026504d\n\t"		\
	"r0 = *(u64 *)(%[p] + 72)\n\t"		\
	"r0 -= %[lt]\n\t"			\
	".quad 0x0025504d\n\t"		\
	"r0 = *(u64 *)(%[p] + 80)\n\t"		\
	"r0 -= %[lt]\n\t"			\
	".quad 0x0024504d\n\t"		\
	"r0 = *(u64 *)(%[p] + 88)\n\t"		\
	"r0 -= %[lt]\n\t"			\
	".quad 0x0023504d\n\t"		\
	"r0 = *(u64 *)(%[p] + 96)\n\t"		\
	"r0 -= %[lt]\n\t"			\
	".quad 0x0022504d\n\t"		\
	"r0 = *(u64 *)(%[p] + 104)\n\t"		\
	"r0 -= %[lt]\n\t"			\
	".quad 0x0021504d\n\t"		\
	"r0 = *(u64 *)(%[p] + 112)\n\t"		\
	"r0 -= %[lt]\n\t"			\
	".quad 0x0020504d\n\t"		\
	"r0 = *(u64 *)(%[p] + 120)\n\t"		\
	"r0 -= %[lt]\n\t"			\
	".quad 0x001f504d\n\t"		\
	"goto %l5\n\t"			\
	"%[k] = 0\n\t"			\
	"goto +30\n\t"			\
	"%[k] = 8\n\t"			\
	"goto +28\n\t"			\
	"%[k] = 16\n\t"			\
	"goto +26\n\t"			\
	"%[k] = 24\n\t"			\
	"goto +24\n\t"			\
	"%[k] = 32\n\t"			\
	"goto +22\n\t"			\
	"%[k] = 40\n\t"			\
	"goto +20\n\t"			\
	"%[k] = 48\n\t"			\
	"goto +18\n\t"			\
	"%[k] = 56\n\t"			\
	"goto +16\n\t"			\
	"%[k] = 64\n\t"			\
	"goto +14\n\t"			\
	"%[k] = 72\n\t"			\
	"goto +12\n\t"			\
	"%[k] = 80\n\t"			\
	"goto +10\n\t"			\
	"%[k] = 88\n\t"			\
	"goto +8\n\t"			\
	"%[k] = 96\n\t"			\
	"goto +6\n\t"			\
	"%[k] = 104\n\t"			\
	"goto +4\n\t"			\
	"%[k] = 112\n\t"			\
	"goto +2\n\t"			\
	"%[k] = 120\n\t"			\
	"goto +0\n\t"			\
	""

#define SD_WIN_FLAG(p, lt, high, k, m, none)                            \
	do {                                                            \
		register __u64 __h asm("r5") = (high);                  \
		register __u64 __m asm("r0");                           \
		__u64 __k;                                              \
		asm goto(SD_WSCAN_ASM                                   \
			 : [k] "=r"(__k), "=&r"(__m)                    \
			 : [p] "r"(p), [lt] "0"(lt), "r"(__h)           \
			 :                                              \
			 : none);                                       \
		(k) = __k;                                              \
		(m) = __m;                                              \
	} while (0)


/*
 * Steps of the line loop, per call (the main pass, and each search for
 * the next Route line): a step ends one line or moves over one window
 * without LF.  Enough for every message within the limits: the start
 * line and SIPDLG_SCAN_MAX_LINES header lines end in one step each (the
 * empty line ends the loop when it is classified), and the windows
 * without LF are disjoint and start within SIPDLG_SCAN_MAX_BYTES, plus
 * the frame's last bytes.  The verifier walks every step.
 */
#define SD_SCAN_STEPS \
	(SIPDLG_SCAN_MAX_LINES + 1 + SIPDLG_SCAN_MAX_BYTES / SD_WIN + SD_WIN / 8)
/* Steps of each search for the next Route line (sd_route_next()). */
#define SD_ROUTE_STEPS 40

/*
 * The line loop, from s->q inside the current line (stored kind s->kind;
 * in SD_LM_ROUTE mode starting at s->cur).  SD_L_DONE (s->q at the LF of
 * the last line closed, s->kind SD_H_OTHER, so that a loop in
 * SD_LM_ROUTE mode can go on from there), SD_L_END, or a reason.
 * @mode: SD_LM_MAIN records the first line of each kind in s->seen (ls[]
 * at its start, le[] at its end; Route lines after the first in
 * rts[]/rte[]) and stops at the end of the SD_K_LAST line, when every
 * line needed is closed; SD_LM_ROUTE stops at
 * the end of the next Route line, its value in [s->vs, s->ve).
 *
 * A step: the window at s->q, word by word, for the first LF
 * ((w ^ LF) - 0x01.. & ~(w ^ LF) flags every LF that no borrow reaches,
 * and borrows start only at an LF, so a word's lowest flag is exact); no
 * LF: the next window.  Else the line ends there: the byte before the LF
 * and the next line's first 8 bytes come with one more bounds check.
 * What differs between the ways through a step (the LF's word, the kind
 * of the next line) goes through *s, so that they join again.
 */
static __always_inline int sd_lines(void *data, void *end, struct sd_sip *s,
				    int mode)
{
	__u32 len = (__u32)(end - data), lim, qmax, q, x, le, nl, kind, n;
	__u32 k;
	__u64 v, m, w, lf = SD_REP('\n'), ones = SD_ONES, high, lt;
	void *p;
	int i;

/* the first LF in the @nw words at p (q): to found, s->at set */
#define SD_WIN_SCAN(nw)                                                 \
	do {                                                            \
		_Pragma("unroll")                                       \
		for (k = 0; k < (nw); k++) {                            \
			m = *(__u64 *)(p + 8 * k) - lt;                 \
			if (m & high) {                                 \
				v = *(volatile __u64 *)(p + 8 * k) ^ lf; \
				m = (v - ones) & ~v & high;             \
				if (m) {                                \
					SD_WR(s->at, q + 8 * k +        \
						     sd_first(m));      \
					goto found;                     \
				}                                       \
			}                                               \
		}                                                       \
	} while (0)
#define SD_LOUT(x)                   \
	do {                         \
		SD_WR(s->lr, SD_K(x)); \
		goto out;            \
	} while (0)

	SD_OPAQUE(len);
	lim = s->msg_end;	/* the same unknown value on every path */
	qmax = s->msg_off + SIPDLG_SCAN_MAX_BYTES;
	/* the message ends in this line: tested here and where the scan
	 * moves on without LF; a line end checked its next line's start */
	if (SD_RD(s->q) >= lim)
		SD_LOUT(SD_L_END);
	for (i = 0; i < (mode == SD_LM_MAIN ? SD_SCAN_STEPS : SD_ROUTE_STEPS);
	     i++) {
		q = SD_RD(s->q);
		if (__builtin_expect(q >= qmax, 0))
			SD_LOUT(SDR_SIP_SCAN_LIMIT);
		p = sd_pkt_at(data, q);
		/* made here, per step: kept in registers through the words
		 * (made once before the loop they live in its stack) */
		lt = SD_REP(0x0b);
		high = SD_HIGH;
		SD_OPAQUE(lt);
		SD_OPAQUE(high);
		if (__builtin_expect(p + SD_WIN <= end, 1)) {
			SD_WIN_FLAG(p, lt, high, k, m, win_none);
			/* the lowest flag is exact (no borrow reaches it):
			 * its byte of m is 0xff for an LF */
			v = m & high;
			v = (v & -v) >> 7;	/* 0x01 in its byte */
			if (__builtin_expect(!(~m & (v * 0xff)), 1)) {
				/* the usual way: x in a register; the others
				 * join through s->at (found) */
				x = q + k + (__u32)((v *
					0x0001020304050607ULL) >> 56);
				goto found_x;
			}
			/* not an LF: the window word by word (lt's
			 * register holds k now) */
			lt = SD_REP(0x0b);
			SD_OPAQUE(lt);
			SD_WIN_SCAN(SD_WIN_WORDS);
win_none:
			if (q + SD_WIN >= SD_RD(s->msg_end))
				SD_LOUT(SD_L_END);
			SD_WR(s->q, q + SD_WIN);
			continue;
		}
		if (p + SD_WIN / 2 <= end) {
			/* near the frame's end: half a window */
			SD_WIN_SCAN(SD_WIN_WORDS / 2);
			if (q + SD_WIN / 2 >= SD_RD(s->msg_end))
				SD_LOUT(SD_L_END);
			SD_WR(s->q, q + SD_WIN / 2);
			continue;
		}
		/* the frame's last SD_WIN / 2 bytes: 8 at a time (past it: 0) */
		m = sd_eq_bytes(sd_load8(data, end, q), SD_REP('\n'));
		if (!m) {
			if (q + 8 >= SD_RD(s->msg_end))
				SD_LOUT(SD_L_END);
			SD_WR(s->q, q + 8);
			continue;
		}
		SD_WR(s->at, q + sd_first(m));
found:
		/* the LF at @x: the line ends before it (and a CR before it) */
		x = SD_RD(s->at);
found_x:
		nl = x + 1;
		p = sd_pkt_at(data, x - 1);
		if (__builtin_expect(p + 10 <= end, 1)) {
			le = x - 1;
			if (*(__u8 *)p != '\r')
				le = x;
			w = *(__u64 *)(p + 2);
		} else {
			le = x - ((sd_load8(data, end, x - 1) & 0xff) == '\r');
			w = nl < len ? sd_load8(data, end, nl) : 0;
		}
		if (__builtin_expect(nl >= SD_RD(s->msg_end), 0)) {
			if (nl > SD_RD(s->msg_end))
				SD_LOUT(SD_L_END); /* the LF is past the message */
			/* the message ends with this line: the next "line" is
			 * taken for the empty one (no folding, headers end) */
			w = '\n';
		}
		SD_WR(s->q, nl);

		/* close the current line */
		kind = SD_RD(s->kind);
		if (kind) {
			if (mode == SD_LM_MAIN) {
				if (__builtin_expect(kind < SD_K_RSLOT, 1)) {
					SD_LS(s, kind)[8] = le;
					goto next;
				}
				if (kind < SD_K_LAST) {
					n = kind & (SD_RSLOTS - 1);
					s->rte[n] = le;
					SD_WR(s->nrt, n + 1);
					goto next;
				}
				/* the last line needed: every line begun is
				 * closed now (sd_lines_closed) */
				SD_LS(s, kind & 15)[8] = le;
			} else {
				/* a Route line: hand its value to the caller */
				n = sd_value_start(data, end, SD_H_ROUTE,
						   SD_RD(s->cur), le);
				if (!n)
					SD_LOUT(SDR_SIP_SCAN_LIMIT);
				SD_WR(s->vs, n);
				SD_WR(s->ve, le);
			}
			/* done; but a folded continuation would change it */
			SD_WR(s->kind, SD_H_OTHER);
			if ((w & 0xff) == ' ' || (w & 0xff) == '\t')
				SD_LOUT(SDR_SIP_FOLDED);
			SD_WR(s->q, x);
			SD_LOUT(SD_L_DONE);
		}
next:
		/* the next line (at the message's end: "empty") */
		/* through memory: the kinds' paths join here */
		SD_WR(s->kind, sd_hdr_kind(w));
		kind = SD_RD(s->kind);
		if (__builtin_expect(kind >= SD_K_EMPTY, 0))
			SD_LOUT(kind == SD_K_EMPTY ? SD_L_END : SDR_SIP_FOLDED);
		n = SD_RD(s->nlines) + 1;
		if (__builtin_expect(n > SIPDLG_SCAN_MAX_LINES, 0))
			SD_LOUT(SDR_SIP_SCAN_LIMIT);
		SD_WR(s->nlines, n);
		if (mode == SD_LM_ROUTE) {
			if (kind != SD_H_ROUTE)
				SD_WR(s->kind, SD_H_OTHER);
			SD_WR(s->cur, nl);
			continue;
		}
		if (!kind)
			continue;
		k = SD_RD(s->seen);
		x = SD_C(kind);	/* kind < SD_K_EMPTY here */
		if (k & x) {
			/* the first of its kind */
			k ^= x;
			SD_WR(s->seen, k);
			SD_LS(s, kind)[0] = nl;
			/* every kind needed begun (SD_NEED_DONE): this is
			 * the last line to close */
			if (k < SD_NEED_DONE)
				SD_WR(s->kind, kind | SD_K_LAST);
			continue;
		}
		SD_WR(s->kind, SD_H_OTHER);
		if (kind == SD_H_ROUTE) {
			/* a later Route line: into a slot while there is one */
			k = SD_RD(s->nrt);
			if (k < SD_RSLOTS) {
				s->rts[k] = nl;
				s->rtnl = n;
				SD_WR(s->kind, SD_K_RSLOT | k);
			} else {
				SD_WR(s->nrt, SD_RSLOTS + 1);
			}
		}
	}
	SD_LOUT(SDR_SIP_SCAN_LIMIT);
out:
	/* one way out, through memory: the exits' paths join here */
	return SD_RD(s->lr);
#undef SD_LOUT
#undef SD_WIN_SCAN
}

/*
 * The kinds whose first line the main pass closed, of those in @want
 * (SD_C bits), once sd_lines(SD_LM_MAIN) returned: the loop closes one
 * line before it begins the next, so every kind seen is closed but that
 * of the line still open at the exit (s->kind, a first of its kind when
 * below SD_K_RSLOT).  The loop itself keeps no set of closed lines.
 */
static __always_inline __u32 sd_lines_closed(struct sd_sip *s, __u32 want)
{
	__u32 kind = s->kind & ~SD_K_LAST;
	__u32 open = kind < SD_K_RSLOT ? SD_C(kind) : 0;

	return want & ~s->seen & ~open;
}

#endif /* SIPDLG_BPF_SIP_LINES_H */
