/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sip_fast.h - straight-line fast paths for the common shapes of the
 * values sip_values.h parses, tried before its general parameter walk.
 *
 * A fast path either gives exactly the result the general walk
 * (sd_params() and what follows it) would give, or says "not my shape"
 * and the general walk runs.  "Exactly" includes the walk's limits: a
 * fast path takes a value only when its counts prove that sd_params()
 * would neither run out of steps nor of candidate slots.
 *
 * Why: the general walk costs one volatile round trip per word and per
 * ';' '<' '>' of the value, then a name check per candidate; a From/To
 * value cost 65-170 ns that way, the common shape costs a few loads.
 *
 * Included by sip_values.h after its helpers; header-only.
 */
#ifndef SIPDLG_BPF_SIP_FAST_H
#define SIPDLG_BPF_SIP_FAST_H

/* Longest value a fast path takes (bytes); all of it is loaded. */
#define SD_FAST_MAX 128

/* 0x01 in each byte lane of @w that is ';', then '<' or '>'. */
#define SD_FAST_SEMI(w) (sd_eq_bytes(w, SD_REP(';')) >> 7)
/* '<' (0x3c) and '>' (0x3e) in one compare */
#define SD_FAST_ANGLE(w) (sd_eq_bytes((w) | SD_REP(0x02), SD_REP('>')) >> 7)

/*
 * Counts of ';' and of ';' '<' '>' in the value [@vs, @vs + @len)
 * (8 <= @len <= SD_FAST_MAX), into *semis and *flags; -1 if the frame
 * holds fewer than SD_FAST_MAX bytes from @vs on (then nothing is read).
 * Whole words first, then the word that ends at the value's end without
 * the bytes already counted.  Counts accumulate per byte lane (at most
 * 17 per lane) and are summed once at the end.
 */
static __always_inline int sd_fast_count(void *data, void *end, __u32 vs,
					 __u32 len, __u32 *semis,
					 __u32 *flags)
{
	__u64 as = 0, aa = 0, w, keep;
	void *p = sd_pkt_at(data, vs);
	__u32 k, full = len / 8;

	if (p + SD_FAST_MAX > end)
		return -1;
	for (k = 0; k < SD_FAST_MAX / 8; k++) {
		if (k >= full)
			break;
		w = *(__u64 *)(p + 8 * k);
		as += SD_FAST_SEMI(w);
		aa += SD_FAST_ANGLE(w);
	}
	if (len & 7) {
		p += (len - 8) & (SD_FAST_MAX - 1);
		if (p + 8 > end)
			return -1;
		w = *(__u64 *)p;
		keep = ~sd_low_bytes(8 - (len & 7));
		as += SD_FAST_SEMI(w) & keep;
		aa += SD_FAST_ANGLE(w) & keep;
	}
	*semis = (__u32)((as * SD_ONES) >> 56);
	*flags = *semis + (__u32)((aa * SD_ONES) >> 56);
	return 0;
}

/*
 * Would sd_params() walk a value of @len bytes with these counts to its
 * end?  It takes one step per word plus one per flagged byte (88 in
 * all) and keeps at most SD_MAX_CAND candidate ';' at a time: below
 * both bounds with a margin, the general result is the plain one.
 */
static __always_inline int sd_fast_in_limits(__u32 len, __u32 semis,
					     __u32 flags)
{
	return semis <= SD_MAX_CAND &&
	       (len + 7) / 8 + flags + 8 <=
		       SIPDLG_SCAN_MAX_VALUE / 8 + SD_MAX_CAND;
}

/*
 * Offset of the last '<' or '>' among the 24 bytes that end at @ve, the
 * value starting at @vs (@ve - @vs >= 24); 0 if there is none.
 */
static __always_inline __u32 sd_last_angle24(void *data, void *end,
					     __u32 ve)
{
	__u64 w0, w1, w2, a;
	void *q = sd_pkt_at(data, ve - 24);

	if (q + 24 > end)
		return 0;
	w0 = *(__u64 *)q;
	w1 = *(__u64 *)(q + 8);
	w2 = *(__u64 *)(q + 16);
	/* byte-reversed, the first flag is the last angle of the word */
	a = sd_eq_bytes(__builtin_bswap64(w2) | SD_REP(0x02), SD_REP('>'));
	if (a)
		return ve - 1 - sd_first(a);
	a = sd_eq_bytes(__builtin_bswap64(w1) | SD_REP(0x02), SD_REP('>'));
	if (a)
		return ve - 9 - sd_first(a);
	a = sd_eq_bytes(__builtin_bswap64(w0) | SD_REP(0x02), SD_REP('>'));
	if (a)
		return ve - 17 - sd_first(a);
	return 0;
}

/*
 * From/To value [@vs, @ve) of the shape `...>;tag=VALUE` (VALUE: 1-16
 * bytes up to a tag terminator, then maybe more parameters; the last
 * '>' within the last 24 bytes): the tag's hash into *h.  1 if the shape
 * holds (*h as sd_sip_tag() would compute it), 0 if the general walk
 * must decide.
 */
static __always_inline int sd_fast_tag(void *data, void *end, __u32 vs,
				       __u32 ve, __u64 *h)
{
	__u32 len = ve - vs, semis, flags, g, c;
	__u64 x;

	if (len < 24 || len > SD_FAST_MAX ||
	    sd_fast_count(data, end, vs, len, &semis, &flags) ||
	    !sd_fast_in_limits(len, semis, flags))
		return 0;
	g = sd_last_angle24(data, end, ve);
	if (!g || g + 7 > ve)
		return 0;
	/* '>', ';', "tag" (any case), '=', a first value byte not SP/HTAB */
	x = sd_load8(data, end, g) | SD_W8(0, 0, 0x20, 0x20, 0x20, 0, 0, 0);
	if ((x & sd_low_bytes(6)) != SD_W8('>', ';', 't', 'a', 'g', '=', 0, 0))
		return 0;
	c = sd_byte(x, 6);
	if (c == ' ' || c == '\t')
		return 0;
	return sd_short_tag(data, end, g + 6, ve, h) == 0;
}

/*
 * Word @k of the value at @p: the mask of its ';' (bytes below @len)
 * into @w, and in @s1 the byte that follows each byte.
 */
#define SD_FAST_SEMI_AT(p, k, len, w, s1)                                    \
	do {                                                                 \
		w = *(__u64 *)((p) + 8 * (k));                               \
		s1 = (w >> 8) | (*(__u64 *)((p) + 8 * (k) + 8) << 56);       \
		w = sd_eq_bytes(w, SD_REP(';')) &                            \
		    sd_low_bytes_nb((len) - 8 * (k));                        \
	} while (0)

/*
 * Route value [@vs, @ve) with an rr_param of 1-6 bytes (with the MAC on:
 * one that starts with the MAC parameter's 'd', see sd_fast_mac()):
 * where does its first rr_param value start?  One pass over the words
 * counts the ';' (sd_params() keeps at most SD_MAX_CAND), flags any ';'
 * followed by SP/HTAB (a name after SWS: general walk), and notes the
 * first ';' followed by the name's first letter.  1 with *pa (0: no
 * rr_param, as sd_params() would say) if the shape holds: no such ';',
 * or the first one starts "name=" and a value byte not SP/HTAB; 0 if the
 * general walk must decide.
 */
static __always_inline int sd_fast_route(void *data, void *end,
					 const struct sd_sip *s, __u32 vs,
					 __u32 ve, __u32 *pa)
{
	__u32 len = ve - vs, nl = s->rr_len, k, fk = 0, j;
	__u64 as = 0, ws = 0, ms, s1, m;
	void *p = sd_pkt_at(data, vs);

	if (!nl || nl > 6 || len < 8 || len > SD_FAST_MAX ||
	    p + SD_FAST_MAX + 8 > end ||
	    (mac_enabled && (s->rr_w[0] & 0xff) != 'd'))
		return 0;
	for (k = 0; k < SD_FAST_MAX / 8; k++) {
		if (8 * k >= len)
			break;
		SD_FAST_SEMI_AT(p, k, len, ms, s1);
		ws |= ms & sd_ws_bytes(s1);
		m = ms & sd_eq_bytes(s1 | SD_REP(s->rr_f[0]), SD_REP(s->rr_w[0]));
		/* the first word with a hit, + 1 */
		fk |= -(__u32)(sd_is_zero(fk) & (sd_is_zero(m) ^ 1)) & (k + 1);
		as += ms >> 7;
	}
	if (((as * SD_ONES) >> 56) > SD_MAX_CAND || ws)
		return 0;
	*pa = 0;
	if (!fk)
		return 1;
	k = (fk - 1) & (SD_FAST_MAX / 8 - 1);
	SD_FAST_SEMI_AT(p, k, len, ms, s1);
	m = ms & sd_eq_bytes(s1 | SD_REP(s->rr_f[0]), SD_REP(s->rr_w[0]));
	if (!m)
		return 0;	/* cannot happen: the loop saw it */
	j = vs + 8 * k + sd_first(m) + 1;	/* the name */
	if (j + nl + 1 >= ve)
		return 0;
	ms = sd_load8(data, end, j);
	if (((ms | s->rr_f[0]) & sd_low_bytes(nl)) != s->rr_w[0] ||
	    sd_byte(ms, nl) != '=')
		return 0;
	k = sd_byte(ms, nl + 1);
	if (k == ' ' || k == '\t')
		return 0;
	*pa = j + nl + 1;
	return 1;
}

_Static_assert(SIPDLG_MAC_PARAM_LEN == 2, "sd_fast_mac() reads \"dm\"");

/*
 * With the MAC on, after sd_fast_route() found the cookie: ";dm=" (any
 * case) and a value byte not SP/HTAB right at the cookie's end @at (<
 * @ve) give the MAC value's offset; 0: the general walk decides.  Exact
 * because no ';' before the cookie is followed by a 'd' (the cookie's
 * was the first, and the rr_param starts with 'd'), none by SP/HTAB,
 * and the cookie value holds no ';': this is the first MAC candidate.
 */
static __always_inline __u32 sd_fast_mac(void *data, void *end, __u32 at,
					 __u32 ve)
{
	__u64 w;
	__u32 c;

	if (at + 4 >= ve)
		return 0;
	w = sd_load8(data, end, at) | SD_W8(0, 0x20, 0x20, 0, 0, 0, 0, 0);
	if ((w & sd_low_bytes(4)) != SD_W8(';', 'd', 'm', '=', 0, 0, 0, 0))
		return 0;
	c = sd_byte(w, 4);
	if (c == ' ' || c == '\t')
		return 0;
	return at + 4;
}

#endif /* SIPDLG_BPF_SIP_FAST_H */
