/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sip_fast.h - straight-line readers for the common shapes of the Route
 * and From/To values, tried before the general parameter walk of
 * sip_values.h (sd_params(), a global function, the slow path).
 *
 * A fast reader either gives exactly the result the rules give (the
 * rules of sip_values.h, without the general walk's step and candidate
 * limits, which only ever turn a result into SDR_SIP_SCAN_LIMIT) or says
 * "not my shape" and the general walk decides.
 *
 * Cost (build/tools/bench/bpf_icount -r 5 -p, the in-dialog BYE; the
 * whole BYE went 2,750 -> 2,662 instructions with the changes of #13's
 * session 10 in this file, sip_scan.h and sip_match.h): the Route
 * reader's word loop is ~16 a word and ~22 more for a word with a ';'
 * (5 words, 3 with a ';', for the bench's Route), each tag ~150 with
 * its hash.  Masks whose lowest flag is all that is used
 * take one borrow test ((x - 1) & ~x, exact at its lowest flag) instead
 * of the exact per-byte test.  Tried and dropped (measured): checking
 * the long name and ':' in a window at the line start that also serves
 * the reader, instead of sd_value_start() and a window of the reader's
 * own (+4 to +7: clang shares the code of the inlined copies and
 * computes the masks at run time); a fixed 0x20 fold in the Route loop
 * for a knob that starts with a letter (+6: one more constant reloaded
 * in the loop).  Session 12 (lp8): the Route loop's "no ';' in this
 * word" marked likely (__builtin_expect): -1 (with sd_value_start()'s
 * hint -3); dropped: its "8 * k >= len" unlikely +2, sd_fast_tag()'s
 * last word with the '>' likely +10, sd_fast_cookie()'s one-word shape
 * likely +3, its terminator likely 0.
 * Session 12 (lp9): sd_fast_tag()'s offset 23 as SD_K() (not loaded
 * ahead of the last word's test): -2, INVITE +1; 15 as SD_K() too:
 * +-0.  Dropped: the Route loop's words through a pointer that moves
 * on: +24; its offset in steps of 8 as the only induction variable:
 * +-0 and refused by the verifier.
 *
 * Included by sip_values.h after its helpers; header-only.
 */
#ifndef SIPDLG_BPF_SIP_FAST_H
#define SIPDLG_BPF_SIP_FAST_H

/* Longest value a fast path takes (bytes); all of it is loaded. */
#define SD_FAST_MAX 128

/*
 * The packet pointer at frame offset @off if @n bytes from there lie in
 * the frame, else NULL: one bounds check, after which the caller loads
 * at constant offsets below @n without further checks.  The checked
 * pointer goes through SD_OPAQUE, so that clang uses that very register
 * and does not form the pointer again from the offset (the verifier
 * knows the range of the checked one only).
 */
#define SD_WINDOW(data, end, off, n)                                      \
	({                                                                \
		void *__p = sd_pkt_at((data), (off));                     \
		if (__p + (n) <= (end))                                   \
			SD_OPAQUE(__p);	/* the checked register itself */ \
		else                                                      \
			__p = (void *)0;                                  \
		__p;                                                      \
	})

/*
 * 0x80 in every byte of @w that is one of 0x00 0x01 0x08 0x09 0x20 0x21
 * 0x28 0x29 (those x with x | 0x29 == 0x29): all SP and HTAB bytes and a
 * few others, in one compare.  For "not my shape" tests only.
 */
static __always_inline __u64 sd_wsish(__u64 w)
{
	return sd_zero_bytes((w | SD_REP(0x29)) ^ SD_REP(0x29));
}

/*
 * 0x80 in every byte of @w that is ';', ',', SP or HTAB (the tag value
 * terminators after the URI's '>'): four exact compares sharing the
 * "non-zero byte" step, ~(a1 & a2 & a3 & a4).
 */
static __always_inline __u64 sd_tag_term4(__u64 w)
{
	__u64 x1 = w ^ SD_REP(';'), x2 = w ^ SD_REP(','),
	      x3 = w ^ SD_REP(' '), x4 = w ^ SD_REP('\t');

	x1 |= (x1 & SD_LOW7) + SD_LOW7;
	x2 |= (x2 & SD_LOW7) + SD_LOW7;
	x3 |= (x3 & SD_LOW7) + SD_LOW7;
	x4 |= (x4 & SD_LOW7) + SD_LOW7;
	return ~(x1 & x2 & x3 & x4) & SD_HIGH;
}

/*
 * A superset of sd_tag_term4() in fewer steps: every byte below '0' (SP,
 * HTAB and ',' among them) and ';'.  Zero for the usual tags (digits,
 * letters): then so is the exact mask.
 */
static __always_inline __u64 sd_tag_maybe(__u64 w)
{
	return (~((w & SD_LOW7) + SD_REP(0x80 - '0')) & ~w & SD_HIGH) |
	       sd_eq_bytes(w, SD_REP(';'));
}

/*
 * From/To value [@vs, @ve) of the shape `...>;tag=VALUE` (VALUE: 1-16
 * bytes up to a tag terminator, then maybe more parameters): the tag's
 * hash into *h.  1 if the shape holds (*h as the rules give it), 0 if
 * the general walk must decide.
 *
 * The shape: among the 24 bytes that end at @ve, the last '<', '>' or
 * '"' is a '>' inside the value, followed by ";tag=" (any case) and a
 * value byte not SP/HTAB.  Exact: no '"' follows that '>', so it is the
 * one the rules take (the last '>' followed by an even number of '"'),
 * no '<' follows it, and its first parameter is the tag.  A '"' after
 * it (`;p="a>b"` after the tag) is for the general walk, which counts
 * the quotes.
 */
static __always_inline int sd_fast_tag(void *data, void *end, __u32 vs,
				       __u32 ve, __u64 *h)
{
	__u64 w0, w1, w2, a, m0, m1, x;
	__u32 g, o, t, rem, n, r;
	void *q;

	if (ve < vs + 8)
		return 0;
	q = SD_WINDOW(data, end, ve - 24, 24);
	if (!q)
		return 0;
	w0 = *(__u64 *)q;
	w1 = *(__u64 *)(q + 8);
	w2 = *(__u64 *)(q + 16);
	/* byte-reversed, the first flag is the last '<', '>' or '"': the
	 * zero bytes of ^'>' (after | 2: '<' too) and of ^'"', each by one
	 * borrow test, whose lowest flag is exact (a borrow only flags
	 * bytes above a zero byte), and only the lowest is used */
#define SD_ANGLE_Q(w)                                                     \
	({                                                                \
		__u64 __r = __builtin_bswap64(w);                         \
		__u64 __x = (__r | SD_REP(0x02)) ^ SD_REP('>');           \
		__u64 __y = __r ^ SD_REP('"');                            \
		(((__x - SD_ONES) & ~__x) | ((__y - SD_ONES) & ~__y)) &   \
			SD_HIGH;                                          \
	})
	/* o: the offset of that byte in the window */
	a = SD_ANGLE_Q(w2);
	if (a) {
		o = SD_K(23) - sd_first(a);
	} else {
		a = SD_ANGLE_Q(w1);
		if (a) {
			o = 15 - sd_first(a);
		} else {
			a = SD_ANGLE_Q(w0);
			if (!a)
				return 0;
			o = 7 - sd_first(a);
		}
	}
#undef SD_ANGLE_Q
	g = ve - 24 + o;
	if (g < vs || o > 17)	/* o <= 17: g + 7 <= ve */
		return 0;
	/* '>', ';', "tag" (any case), '=', a value byte not SP/HTAB; and
	 * the value's 16 bytes in the frame: the window moved to the '>'
	 * (a pointer moved by a variable needs its own bounds check) */
	t = g + 6;
	q += o & 31;
	SD_OPAQUE(q);
	if (q + 24 > end)
		return 0;
	x = *(__u64 *)q | SD_W8(0, 0, 0x20, 0x20, 0x20, 0, 0, 0);
	if ((x & 0xffffffffffffULL) != SD_W8('>', ';', 't', 'a', 'g', '=', 0, 0))
		return 0;
	w0 = *(__u64 *)(q + 6);
	w1 = *(__u64 *)(q + 14);
	r = w0 & 0xff;
	if (r == ' ' || r == '\t')
		return 0;
	rem = ve - t;
	m0 = sd_tag_maybe(w0) & sd_low_bytes(rem);
	if (m0)
		m0 = sd_tag_term4(w0) & sd_low_bytes(rem);
	if (m0) {
		n = sd_first(m0);
	} else {
		m1 = 0;
		if (rem > 8) {
			m1 = sd_tag_maybe(w1) & sd_low_bytes(rem - 8);
			if (m1)
				m1 = sd_tag_term4(w1) & sd_low_bytes(rem - 8);
		}
		if (m1)
			n = 8 + sd_first(m1);
		else if (rem <= 16)
			n = rem;
		else
			return 0;	/* longer: the general walk */
	}
	*h = 0;
	if (!n)
		return 1;	/* ";tag=;": an empty value is no tag */
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
	return 1;
}

/*
 * Route value [@vs, @ve) with an rr_param of 1-6 bytes (with the MAC on:
 * one that starts with the MAC parameter's 'd', see sd_fast_mac()):
 * where does its first rr_param value start?  One pass over the words,
 * up to the first ';' that is followed either by the name's first
 * letter or by a byte that may be SP/HTAB (sd_wsish: SWS before a
 * parameter name, the general walk's case; SP/HTAB elsewhere does not
 * change which parameter is the first rr_param).  The shape holds if
 * there is no such ';' in the value (0: no rr_param), or it starts
 * "name=" and a value byte not SP/HTAB (the value's offset); -1 if the
 * general walk must decide (SWS after the ';', another name with the
 * same first letter, a name without value, ...).
 */
static __always_inline int sd_fast_route(void *data, void *end, __u32 vs,
					 __u32 ve)
{
	__u32 len = ve - vs, nl = sd_rr_len(), k, c;
	__u64 nw, w, s1, m = 0, x, a, b, t;
	void *p;

	if (!nl || nl > 6 || len > SD_FAST_MAX)
		return SD_K(-1);
	/* the name's first letter, lower case (x below), and 0x20 if a
	 * letter (nw below): of the knob's first byte only */
	c = ((const volatile __u8 *)rr_param)[0];
	nw = (c | 0x20) - 'a' < 26 ? SD_REP(0x20) : 0;
	c |= nw & 0x20;
	if (mac_enabled && c != 'd')
		return SD_K(-1);
	x = SD_REP(c);
	/*
	 * One window for all: the SWS after the ':' (up to 7 bytes,
	 * usually one SP), the 128 bytes after it and the 9 bytes after
	 * the last ';' found there; (maybe) SP/HTAB is a stop below.
	 */
	p = SD_WINDOW(data, end, vs, SD_FAST_MAX + 16);
	if (!p)
		return SD_K(-1);
	w = *(__u64 *)p;
	c = (w >> 8) & 0xff;
	if ((w & 0xff) == ' ' && c != ' ' && c != '\t')
		k = 1;
	else
		k = sd_skip_ws(w);
	if (k > SIPDLG_SWS_MAX || vs + k >= ve)
		return SD_K(-1);
	vs += k;
	len -= k;
	/* a pointer moved by a variable needs its own bounds check (which
	 * clang must not drop as implied by the window's) */
	p += k & 7;
	SD_OPAQUE(p);
	if (p + SD_FAST_MAX + 8 > end)
		return SD_K(-1);
	for (k = 0; k < SD_FAST_MAX / 8; k++) {
		if (8 * k >= len)
			break;
		/*
		 * A word without ';' costs one test.  In one with a ';',
		 * with the word one byte on: a zero byte of a is a ';'
		 * followed by the name's first letter, one of b a ';'
		 * followed by a byte that may be SP/HTAB (sd_wsish: no bit
		 * outside 0x29; the walk's case: SWS before a name).  The
		 * lowest flag of (x - 1) & ~x is exact (a borrow only
		 * flags bytes above a zero byte), so one "haszero" each.
		 */
		w = *(__u64 *)(p + 8 * k);
		t = w ^ SD_REP(';');
		if (__builtin_expect(!((t - SD_ONES) & ~t & SD_HIGH), 1))
			continue;
		s1 = *(__u64 *)(p + 8 * k + 1);
		a = t | ((s1 | nw) ^ x);
		b = t | (s1 & SD_REP(0xff & ~0x29));
		m = (((a - SD_ONES) & ~a) | ((b - SD_ONES) & ~b)) & SD_HIGH;
		if (m)
			break;
	}
	if (!m)
		return SD_K(0);	/* no ';' + letter, no ';' + SP/HTAB */
	k = (8 * k + sd_first(m)) & (SD_FAST_MAX - 1);	/* from vs */
	if (vs + k >= ve)
		return SD_K(0);	/* the first flag lies past the value */
	/* the 8 bytes after the ';': the name, usually as the knob spells
	 * it (no fold needed), else as sd_rr_word() gives it, with its
	 * fold mask; then '=' and a value byte not SP/HTAB */
	p += k;
	SD_OPAQUE(p);
	if (p + 9 > end)
		return SD_K(-1);
	x = *(__u64 *)(p + 1);
	nl &= 7;
	nw = ((const volatile __u64 *)rr_param)[0];
	b = (1ULL << (8 * nl)) - 1;
	if ((x ^ nw) & b) {
		a = sd_alpha_fold(nw) & b;
		if (((x | a) & b) != ((nw | a) & b))
			return SD_K(-1);
	}
	if (sd_byte(x, nl) != '=')
		return SD_K(-1);
	/* nl + 1 may be 8 (a 7-byte rr_param): shift by (64 & 63), byte 0,
	 * as before sd_byte() dropped its "& 63" */
	c = (__u32)(x >> ((8 * (nl + 1)) & 63)) & 0xff;
	k = vs + k + nl + 2;
	if (k >= ve || c == ' ' || c == '\t')
		return SD_K(-1);
	return k;
}

/*
 * The cookie value at @v, as sd_cookie() reads it (RH '.' RH, then a
 * terminator), with two direct 16-byte windows instead of byte loads:
 * the bytes past the value are its line end, neither hex nor '.', and a
 * terminator.  Its end with s->key set, or 0 if malformed.
 */
static __always_inline __u32 sd_fast_cookie(void *data, void *end,
					    struct sd_sip *s, __u32 v,
					    __u32 ve)
{
	__u64 w, nib, m, x;
	__u32 n, he, c, e;
	void *q;

	q = SD_WINDOW(data, end, v, 16);
	if (!q)
		return sd_cookie(data, end, s, v, ve);
	w = *(__u64 *)q;
	m = ~sd_hex_bytes(w, &nib) & SD_HIGH;	/* the non-hex bytes */
	n = sd_first8(m);
	if (n < 7 && sd_byte(w, n) == '.') {
		/* usually both parts in this word, or the second ends at
		 * its end: no second window */
		m &= ~((1ULL << (8 * (n + 1))) - 1);
		if (m) {
			e = sd_first(m);
			c = sd_byte(w, e);
		} else {
			e = 8;
			c = *(__u8 *)(q + 8);
		}
		if (sd_is_pterm(c)) {
			/* the word's eight nibbles packed once, then each
			 * part cut out of them (n <= 6, e - n - 1 <= 7) */
			x = sd_pack_rhex(nib, 8);
			s->key.h_entry = x & ((1ULL << (4 * n)) - 1);
			s->key.h_id = (x >> (4 * (n + 1))) &
				      ((1ULL << (4 * (e - n - 1))) - 1);
			return v + e;
		}
		if (m)
			return SD_K(0);	/* not a digit, not a terminator */
		/* more digits after this word: the two windows below */
	}
	c = n == 8 ? *(__u8 *)(q + 8) : sd_byte(w, n);
	if (c != '.')
		return SD_K(0);
	he = sd_pack_rhex(nib, n);
	v += n + 1;
	q = SD_WINDOW(data, end, v, 16);
	if (!q)
		return sd_cookie(data, end, s, v - n - 1, ve);
	w = *(__u64 *)q;
	n = sd_first8(~sd_hex_bytes(w, &nib) & SD_HIGH);
	c = n == 8 ? *(__u8 *)(q + 8) : sd_byte(w, n);
	if (!sd_is_pterm(c))
		return SD_K(0);	/* a ninth digit too */
	s->key.h_entry = he;
	s->key.h_id = sd_pack_rhex(nib, n);
	return v + n;
}

/*
 * The top Via value [@vs, @ve) of a reply (up to SD_FAST_MAX bytes):
 * our branch?  One pass over the words up to the first ',' (the end of
 * the first via-parm, where the rules stop), ';' followed by 'b' (any
 * case), or ';' followed by (maybe) SP/HTAB.  SD_CONTINUE with s->key and
 * s->branch_dir set (SD_F_BRANCH) as sd_sip_via() gives them,
 * SDR_SIP_REPLY_OTHER, or SD_FURTHER: the general walk decides (SWS after
 * a ';', another parameter that starts with 'b', "branch" without '=').
 */
static __always_inline int sd_fast_via(void *data, void *end,
				       struct sd_sip *s, __u32 vs, __u32 ve)
{
	__u32 len, k, j, c;
	__u64 w, s1, x, m = 0;
	void *p, *q;

	len = ve - vs;
	if (vs >= ve || len > SD_FAST_MAX || ve > SD_PKT_LIMIT)
		return SD_K(SD_FURTHER);
	p = SD_WINDOW(data, end, vs, SD_FAST_MAX + 8);
	if (!p)
		return SD_K(SD_FURTHER);
	for (k = 0; k < SD_FAST_MAX / 8; k++) {
		if (8 * k >= len)
			break;
		w = *(__u64 *)(p + 8 * k);
		s1 = (w >> 8) | (*(__u64 *)(p + 8 * k + 8) << 56);
		x = w ^ SD_REP(';');
		m = sd_zero_bytes(x | ((s1 | SD_REP(0x20)) ^ SD_REP('b'))) |
		    sd_zero_bytes(x | ((s1 | SD_REP(0x29)) ^ SD_REP(0x29))) |
		    sd_eq_bytes(w, SD_REP(','));
		if (m)
			break;
	}
	if (!m)
		return SD_K(SDR_SIP_REPLY_OTHER);	/* no branch parameter */
	k &= SD_FAST_MAX / 8 - 1;
	c = sd_first(m);
	j = vs + 8 * k + c;
	if (j >= ve || sd_byte(*(__u64 *)(p + 8 * k), c) == ',')
		return SD_K(SDR_SIP_REPLY_OTHER);	/* none in the first via-parm */
	q = SD_WINDOW(data, end, j + 1, 8);
	if (!q)
		return SD_K(SD_FURTHER);
	/* "branch=" (letters any case) and a value byte not SP/HTAB */
	x = *(__u64 *)q | SD_W8(0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0, 0);
	if ((x & 0xffffffffffffffULL) !=
	    SD_W8('b', 'r', 'a', 'n', 'c', 'h', '=', 0))
		return SD_K(SD_FURTHER);
	c = sd_byte(x, 7);
	if (j + 8 >= ve || c == ' ' || c == '\t')
		return SD_K(SD_FURTHER);
	if (sd_branch(data, end, s, j + 8, ve) != 0)
		return SD_K(SDR_SIP_REPLY_OTHER);
	s->have |= SD_F_BRANCH;
	return SD_K(SD_CONTINUE);
}

_Static_assert(SIPDLG_MAC_PARAM_LEN == 2, "sd_fast_mac() reads \"dm\"");
_Static_assert(SIPDLG_MAC_HEX_LEN == 16, "sd_fast_mac() reads 16 digits");

/*
 * With the MAC on, after the fast path found the cookie: ";dm=" (any
 * case), then a value byte not SP/HTAB, right at the cookie's end @at.
 * Exact because no ';' before the cookie is followed by a 'd' (the
 * cookie's was the first, and the rr_param starts with 'd'), none by
 * SP/HTAB, and the cookie value holds no ';': this is the first MAC
 * candidate.  1 if its value is the right MAC (as sd_mac_ok()), 0 if
 * not, -1 if the general walk must decide.
 */
static __always_inline int sd_fast_mac(void *data, void *end,
				       const struct sd_sip *s, __u32 at)
{
	__u64 w, n0, n1, got;
	__u32 c, he = s->key.h_entry, hi = s->key.h_id;
	void *q;

	q = SD_WINDOW(data, end, at, 24);
	if (!q)
		return -1;
	w = *(__u64 *)q | SD_W8(0, 0x20, 0x20, 0, 0, 0, 0, 0);
	if ((w & 0xffffffff) != SD_W8(';', 'd', 'm', '=', 0, 0, 0, 0))
		return -1;
	c = sd_byte(w, 4);
	if (c == ' ' || c == '\t')
		return -1;
	/* 16 hex digits, then a terminator (the line end is one) */
	if ((sd_hex_bytes(*(__u64 *)(q + 4), &n0) & SD_HIGH) != SD_HIGH ||
	    (sd_hex_bytes(*(__u64 *)(q + 12), &n1) & SD_HIGH) != SD_HIGH ||
	    !sd_is_pterm(*(__u8 *)(q + 20)))
		return 0;
	got = (__u64)sd_pack_rhex(__builtin_bswap64(n0), 8) << 32 |
	      sd_pack_rhex(__builtin_bswap64(n1), 8);
	if (got == sipdlg_dlg_mac(mac_key[0], mac_key[1], he, hi))
		return 1;
	return mac_prev_enabled &&
	       got == sipdlg_dlg_mac(mac_key_prev[0], mac_key_prev[1], he, hi);
}

#endif /* SIPDLG_BPF_SIP_FAST_H */
