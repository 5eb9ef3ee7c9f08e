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
 * Included by sip_values.h after its helpers; header-only.
 */
#ifndef SIPDLG_BPF_SIP_FAST_H
#define SIPDLG_BPF_SIP_FAST_H

/* Longest value a fast path takes (bytes); all of it is loaded. */
#define SD_FAST_MAX 128

/*
 * Offset of the last '<' or '>' among the 24 bytes that end at @ve
 * (>= 24: the frame holds the headers of Ethernet, IP and UDP before);
 * 0 if there is none.  It may lie before the value's start.
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
 * '<' or '>' of the value is that '>' and lies within its last 24
 * bytes): the tag's hash into *h.  1 if the shape holds (*h as the rules
 * give it), 0 if the general walk must decide.  Exact: after the last
 * '>' (no '<' follows it) the first parameter is the tag.
 */
static __always_inline int sd_fast_tag(void *data, void *end, __u32 vs,
				       __u32 ve, __u64 *h)
{
	__u32 g, c;
	__u64 x;

	g = sd_last_angle24(data, end, ve);
	if (g < vs || g + 7 > ve)
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
 * flags any ';' followed by SP/HTAB (a name after SWS: general walk) and
 * notes the first ';' followed by the name's first letter.  1 with *pa
 * (0: no rr_param) if the shape holds: no such ';', or the first one
 * starts "name=" and a value byte not SP/HTAB; 0 if the general walk
 * must decide.
 */
static __always_inline int sd_fast_route(void *data, void *end,
					 const struct sd_sip *s, __u32 vs,
					 __u32 ve, __u32 *pa)
{
	__u32 len = ve - vs, nl = s->rr_len, k, fk = 0, j;
	__u64 ws = 0, ms, s1, m;
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
		m = ms & sd_eq_bytes(s1 | SD_REP(sd_alpha_fold(s->rr_w[0])), SD_REP(s->rr_w[0]));
		/* the first word with a hit, + 1 */
		fk |= -(__u32)(sd_is_zero(fk) & (sd_is_zero(m) ^ 1)) & (k + 1);
	}
	if (ws)
		return 0;
	*pa = 0;
	if (!fk)
		return 1;
	k = (fk - 1) & (SD_FAST_MAX / 8 - 1);
	SD_FAST_SEMI_AT(p, k, len, ms, s1);
	m = ms & sd_eq_bytes(s1 | SD_REP(sd_alpha_fold(s->rr_w[0])), SD_REP(s->rr_w[0]));
	if (!m)
		return 0;	/* cannot happen: the loop saw it */
	j = vs + 8 * k + sd_first(m) + 1;	/* the name */
	if (j + nl + 1 >= ve)
		return 0;
	ms = sd_load8(data, end, j);
	if (((ms | sd_alpha_fold(s->rr_w[0])) & sd_low_bytes(nl)) != s->rr_w[0] ||
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
