/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sip_swar.h - byte-parallel ("SIMD within a register") helpers for the
 * SIP scan, and bounds-checked 8-byte packet loads.
 *
 * A word is 8 packet bytes loaded as one little-endian __u64: byte i of
 * the packet is bits 8i..8i+7.  A byte mask has 0x80 in every byte that
 * has a property and 0 elsewhere; every mask here is exact (no false
 * positives above a hit, unlike the classic "haszero" trick), so the
 * bits of one mask can be walked in order.
 *
 * Header-only, no maps, no globals.
 */
#ifndef SIPDLG_BPF_SIP_SWAR_H
#define SIPDLG_BPF_SIP_SWAR_H

#define SD_ONES 0x0101010101010101ULL
#define SD_LOW7 0x7f7f7f7f7f7f7f7fULL
#define SD_HIGH 0x8080808080808080ULL

/* Every byte equal to @c. */
#define SD_REP(c) ((__u64)(__u8)(c) * SD_ONES)

/* Little-endian word of eight characters (a is the first byte). */
#define SD_B(c, i) ((__u64)(__u8)(c) << (8 * (i)))
#define SD_W8(a, b, c, d, e, f, g, h)                                     \
	(SD_B(a, 0) | SD_B(b, 1) | SD_B(c, 2) | SD_B(d, 3) | SD_B(e, 4) | \
	 SD_B(f, 5) | SD_B(g, 6) | SD_B(h, 7))

/*
 * The low @n bytes of a word (all eight for n >= 8).  Branch-free, like
 * most helpers here: every branch in a loop body multiplies the paths
 * the verifier walks.
 */
static __always_inline __u64 sd_low_bytes(__u32 n)
{
	return n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1;
}

/* The same without a branch, for loop bodies where @n is unknown. */
static __always_inline __u64 sd_low_bytes_nb(__u32 n)
{
	__u64 ge8 = (((__u64)n + 0xfffffff8ULL) >> 32) & 1;
	__u32 sh = 4 * (n & 7);

	return ~((~0ULL << sh) << sh) | -ge8;
}

/* 1 if @x is 0, else 0, without a branch. */
static __always_inline __u64 sd_is_zero(__u64 x)
{
	return ((x | -x) >> 63) ^ 1;
}

/* 0x80 in every zero byte of @x. */
static __always_inline __u64 sd_zero_bytes(__u64 x)
{
	return ~(((x & SD_LOW7) + SD_LOW7) | x | SD_LOW7);
}

/* 0x80 in every byte of @w equal to the byte repeated in @rep. */
static __always_inline __u64 sd_eq_bytes(__u64 w, __u64 rep)
{
	return sd_zero_bytes(w ^ rep);
}

/* 0x80 in every SP or HTAB byte. */
static __always_inline __u64 sd_ws_bytes(__u64 w)
{
	return sd_eq_bytes(w, SD_REP(' ')) | sd_eq_bytes(w, SD_REP('\t'));
}

/* Index (0..7) of the lowest flagged byte of a non-zero mask. */
static __always_inline __u32 sd_first(__u64 m)
{
	return (__u32)((((m & -m) >> 7) * 0x0001020304050607ULL) >> 56);
}

/* Index of the first flagged byte, 8 if none is. */
static __always_inline __u32 sd_first8(__u64 m)
{
	return sd_first(m) + 8 * (__u32)sd_is_zero(m);
}

/* Index of the first byte that is not SP/HTAB, 8 if all eight are. */
static __always_inline __u32 sd_skip_ws(__u64 w)
{
	return sd_first8(~sd_ws_bytes(w) & SD_HIGH);
}

/*
 * Byte @i of @w; @i must be 0..7 (a shift by 64 or more is undefined):
 * without an "& 63" on the shift, one instruction less per variable @i
 * (#13: BYE -4).  A caller whose index may reach 8 shifts by itself.
 */
static __always_inline __u32 sd_byte(__u64 w, __u32 i)
{
	return (__u32)(w >> (8 * i)) & 0xff;
}

/*
 * 0x20 in every byte of @w that is an ASCII letter: OR-ing it in lowers
 * exactly the letters, so (w | sd_alpha_fold(w)) compares without case.
 */
static __always_inline __u64 sd_alpha_fold(__u64 w)
{
	__u64 y = (w | SD_REP(0x20)) & SD_LOW7;
	__u64 ge_a = y + SD_REP(0x80 - 'a');
	__u64 gt_z = y + SD_REP(0x80 - 'z' - 1);

	return (ge_a & ~gt_z & ~w & SD_HIGH) >> 2;
}

/*
 * Hex digits: returns the mask of the bytes of @w that are 0-9, a-f or
 * A-F, and in *nib every byte's value as a digit (garbage elsewhere).
 */
static __always_inline __u64 sd_hex_bytes(__u64 w, __u64 *nib)
{
	__u64 x = w & SD_LOW7;
	__u64 y = (w | SD_REP(0x20)) & SD_LOW7;
	__u64 digit = (x + SD_REP(0x80 - '0')) & ~(x + SD_REP(0x80 - '9' - 1));
	__u64 alpha = (y + SD_REP(0x80 - 'a')) & ~(y + SD_REP(0x80 - 'f' - 1));

	digit &= ~w & SD_HIGH;
	alpha &= ~w & SD_HIGH;
	*nib = (w & SD_REP(0x0f)) + (alpha >> 7) * 9;
	return digit | alpha;
}

/* 0x80 in every byte of @w that is a decimal digit. */
static __always_inline __u64 sd_digit_bytes(__u64 w)
{
	__u64 x = w & SD_LOW7;

	return (x + SD_REP(0x80 - '0')) & ~(x + SD_REP(0x80 - '9' - 1)) &
	       ~w & SD_HIGH;
}

/*
 * Pack the digit values of the low @n bytes of @nib (n = 0..8) as reverse
 * hex: byte i is nibble i (least significant first), as in the cookie.
 */
static __always_inline __u32 sd_pack_rhex(__u64 nib, __u32 n)
{
	__u64 x = nib & sd_low_bytes(n) & SD_REP(0x0f);

	x = (x | (x >> 4)) & 0x00ff00ff00ff00ffULL;
	x = (x | (x >> 8)) & 0x0000ffff0000ffffULL;
	x = (x | (x >> 16)) & 0x00000000ffffffffULL;
	return (__u32)x;
}

/*
 * Make @x opaque to the compiler, so that it cannot re-derive a length
 * from packet pointers later (the verifier refuses shifts and 32-bit
 * arithmetic on pointers).
 */
#define SD_OPAQUE(x) asm volatile("" : "+r"(x))

/*
 * The constant @x as the compiler cannot see it: for the value a way out
 * returns, so that clang does not load it into the result register
 * before the branch on every path that goes on instead.
 */
#define SD_K(x)                        \
	({                             \
		__s32 __k = (x);       \
		SD_OPAQUE(__k);        \
		__k;                   \
	})

/*
 * Mask packet offsets with this before they become pointers: above any
 * offset the scan reaches (payload start <= 12350, see parse_l2l4.h, plus
 * SIPDLG_SCAN_MAX_BYTES and a line), so it never changes a real offset.
 */
#define SD_PKT_MASK 0x3fff
/* Offsets at or above this are never read. */
#define SD_PKT_LIMIT (SD_PKT_MASK - 64)

/*
 * The packet pointer at frame offset @off.  The offset goes through
 * SD_OPAQUE first so that clang can neither drop the mask nor form the
 * pointer before the bounds checks that precede the call: the verifier
 * needs the masked value in the very register added to the pointer.
 */
static __always_inline void *sd_pkt_at(void *data, __u32 off)
{
	__u64 o = off;

	SD_OPAQUE(o);
	return data + (o & SD_PKT_MASK);
}

/*
 * The 8 bytes at frame offset @off as a word.  Never reads outside the
 * frame: near its end the last 8 bytes of the frame are loaded and
 * shifted, so bytes past the frame read as 0.  Bytes past the end of the
 * SIP message are the caller's to mask.  @off must lie inside the frame
 * (else the word is garbage, though never read from outside it); the
 * frame is longer than 8 bytes (an Ethernet header and more).
 */
static __always_inline __u64 sd_load8(void *data, void *end, __u32 off)
{
	void *p = sd_pkt_at(data, off);
	__u32 base;

	if (p + 8 <= end)
		return *(__u64 *)p;
	/* @off is inside the frame, which is longer than 8 bytes */
	base = (__u32)(end - data) - 8;
	SD_OPAQUE(base);
	p = sd_pkt_at(data, base);
	if (p + 8 > end)
		return 0;
	return *(__u64 *)p >> ((8 * (off - base)) & 63);
}

/* Volatile access to loop state kept in memory (see struct sd_sip). */
#define SD_RD(x) (*(volatile __typeof__(x) *)&(x))
#define SD_WR(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

#endif /* SIPDLG_BPF_SIP_SWAR_H */
