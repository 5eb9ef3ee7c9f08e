/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sipdlg_hash.h - the one hash of Call-IDs and tags, and the MAC of a
 * dialog cookie, shared by the XDP program and the controller.
 *
 * Like sipdlg_shared.h this header includes nothing and uses only
 * fixed-width types (__u32, __u64): include it after vmlinux.h in BPF code
 * and after <linux/types.h> in user space.  Every function is static
 * inline and loop-free except the byte-buffer helpers meant for user space.
 *
 * ---------------------------------------------------------------------
 * sipdlg_hash: Call-ID and tag hash (64 bit, not keyed)
 * ---------------------------------------------------------------------
 * Input: the exact bytes of the value, len >= 1:
 *   - Call-ID: the header value with the leading and trailing SP/HTAB (and
 *     the CR of the line end) removed, e.g. "1-6718@127.0.0.1";
 *   - tags: the value of the tag parameter of From/To, e.g.
 *     "6718SIPpTag001" (no quotes or whitespace, case kept).
 * Algorithm, with all arithmetic modulo 2^64:
 *   h = SIPDLG_HASH_SEED ^ (len * SIPDLG_HASH_MUL_LEN)
 *   for each 8-byte group of the value, in order, the last one padded
 *   with zero bytes, read as a little-endian integer w (byte i of the
 *   group in bits 8i..8i+7):
 *       h = h ^ w;  h = h * SIPDLG_HASH_MUL;  h = h ^ (h >> 31)
 *   h = h ^ (h >> 33);  h = h * SIPDLG_HASH_MUL_FIN;  h = h ^ (h >> 29)
 *   if h == 0 then h = 1
 * so the result is never 0, and 0 can mean "none" (an unknown callee
 * tag, a header that was not read).  Strings of different lengths start
 * from different states; for equal lengths every step is a bijection of
 * the word, so two values that differ only in their last group never
 * collide.  The kernel reads the groups straight from the packet as
 * 64-bit loads (the last one as a load that ends at the value's end,
 * shifted down), which is why the groups are little-endian: on a
 * big-endian machine SIPDLG_LE64 swaps them.
 *
 * Check values (tests/bpf/test_xdp_sip.c asserts them):
 *   "a"                 -> 0x3489d2efc0a2e96b
 *   "1-6718@127.0.0.1"  -> 0xd425feea08f484f2
 *   "6718SIPpTag001"    -> 0xe0b36689e77b8896
 * User space computes it with sipdlg_hash_bytes().
 *
 * ---------------------------------------------------------------------
 * sipdlg_dlg_mac: MAC of a dialog cookie (optional, off by default)
 * ---------------------------------------------------------------------
 * SipHash-2-4 (Aumasson and Bernstein, 2012) with a 128-bit key over the
 * 8 bytes of struct sipdlg_dlg_key as it lies in memory on a
 * little-endian machine: h_entry as 4 little-endian bytes, then h_id as
 * 4 little-endian bytes, i.e. the message word m = h_entry | h_id << 32.
 * The key is k0 = the first 8 key bytes read little-endian, k1 = the
 * next 8.  The 64-bit result is written by the controller into its
 * Record-Route, next to the cookie, as the URI parameter
 *     ;dm=<16 hex digits, most significant first, lower case>
 * (SIPDLG_MAC_PARAM, SIPDLG_MAC_HEX_LEN), e.g.
 *     Record-Route: <sip:10.0.0.1;lr;did=596.d052;dm=93f5f5799a932462>
 * Kamailio ignores parameters it does not know, so the cookie stays
 * compatible.  The kernel accepts upper-case hex digits too.
 * SipHash check value: key bytes 00..0f, message bytes 00..07
 * (h_entry 0x03020100, h_id 0x07060504) give 0x93f5f5799a932462.
 */
#ifndef SIPDLG_HASH_H
#define SIPDLG_HASH_H

#define SIPDLG_HASH_SEED 0x2d358dccaa6c78a5ULL
#define SIPDLG_HASH_MUL_LEN 0x9e3779b97f4a7c15ULL
#define SIPDLG_HASH_MUL 0xff51afd7ed558ccdULL
#define SIPDLG_HASH_MUL_FIN 0xc4ceb9fe1a85ec53ULL

/* Name of the Record-Route URI parameter that carries the cookie MAC. */
#define SIPDLG_MAC_PARAM "dm"
#define SIPDLG_MAC_PARAM_LEN 2
/* The MAC value is always exactly this many hex digits. */
#define SIPDLG_MAC_HEX_LEN 16

/*
 * The MAC is inlined into the XDP program: a BPF-to-BPF call returns
 * through the return thunk on mitigated CPUs (~8 ns per packet).
 */
#ifdef __bpf__
#define SIPDLG_MAC_INLINE static inline __attribute__((always_inline))
#else
#define SIPDLG_MAC_INLINE static inline
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define SIPDLG_LE64(x) __builtin_bswap64(x)
#else
#define SIPDLG_LE64(x) (x)
#endif

/* State before the first group of a value of @len bytes. */
static inline __u64 sipdlg_hash_init(__u32 len)
{
	return SIPDLG_HASH_SEED ^ ((__u64)len * SIPDLG_HASH_MUL_LEN);
}

/* Mix one little-endian 8-byte group @w into @h. */
static inline __u64 sipdlg_hash_step(__u64 h, __u64 w)
{
	h ^= w;
	h *= SIPDLG_HASH_MUL;
	h ^= h >> 31;
	return h;
}

/* Final avalanche; never returns 0. */
static inline __u64 sipdlg_hash_final(__u64 h)
{
	h ^= h >> 33;
	h *= SIPDLG_HASH_MUL_FIN;
	h ^= h >> 29;
	return h ? h : 1;
}

/*
 * The hash of @len bytes at @buf (user space, or BPF on a stack/map
 * buffer).  @len 0 gives 0, "no value".
 */
static inline __u64 sipdlg_hash_bytes(const void *buf, __u32 len)
{
	const unsigned char *b = (const unsigned char *)buf;
	__u64 h, w;
	__u32 i, j;

	if (!len)
		return 0;
	h = sipdlg_hash_init(len);
	for (i = 0; i < len; i += 8) {
		w = 0;
		for (j = 0; j < 8 && i + j < len; j++)
			w |= (__u64)b[i + j] << (8 * j);
		h = sipdlg_hash_step(h, w);
	}
	return sipdlg_hash_final(h);
}

/* --- SipHash-2-4 of one 64-bit word ------------------------------------ */

#define SIPDLG_ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

#define SIPDLG_SIPROUND(v0, v1, v2, v3)            \
	do {                                       \
		v0 += v1;                          \
		v1 = SIPDLG_ROTL64(v1, 13);        \
		v1 ^= v0;                          \
		v0 = SIPDLG_ROTL64(v0, 32);        \
		v2 += v3;                          \
		v3 = SIPDLG_ROTL64(v3, 16);        \
		v3 ^= v2;                          \
		v0 += v3;                          \
		v3 = SIPDLG_ROTL64(v3, 21);        \
		v3 ^= v0;                          \
		v2 += v1;                          \
		v1 = SIPDLG_ROTL64(v1, 17);        \
		v1 ^= v2;                          \
		v2 = SIPDLG_ROTL64(v2, 32);        \
	} while (0)

/* SipHash-2-4 with key (@k0, @k1) of the 8-byte message whose LE value is @m. */
SIPDLG_MAC_INLINE __u64 sipdlg_siphash24_u64(__u64 k0, __u64 k1, __u64 m)
{
	__u64 v0 = k0 ^ 0x736f6d6570736575ULL;
	__u64 v1 = k1 ^ 0x646f72616e646f6dULL;
	__u64 v2 = k0 ^ 0x6c7967656e657261ULL;
	__u64 v3 = k1 ^ 0x7465646279746573ULL;
	const __u64 b = 8ULL << 56;	/* message length 8, no tail bytes */

	v3 ^= m;
	SIPDLG_SIPROUND(v0, v1, v2, v3);
	SIPDLG_SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	v3 ^= b;
	SIPDLG_SIPROUND(v0, v1, v2, v3);
	SIPDLG_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	SIPDLG_SIPROUND(v0, v1, v2, v3);
	SIPDLG_SIPROUND(v0, v1, v2, v3);
	SIPDLG_SIPROUND(v0, v1, v2, v3);
	SIPDLG_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* The cookie MAC of dialog (@h_entry, @h_id) under key (@k0, @k1). */
SIPDLG_MAC_INLINE __u64 sipdlg_dlg_mac(__u64 k0, __u64 k1, __u32 h_entry,
				   __u32 h_id)
{
	return sipdlg_siphash24_u64(k0, k1,
				    (__u64)h_entry | ((__u64)h_id << 32));
}

/*
 * Write the MAC as SIPDLG_MAC_HEX_LEN lower-case hex digits (no NUL) into
 * @out, for the controller's Record-Route.
 */
static inline void sipdlg_mac_hex(__u64 mac, char *out)
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 0; i < SIPDLG_MAC_HEX_LEN; i++)
		out[i] = digits[(mac >> (60 - 4 * i)) & 0xf];
}

#endif /* SIPDLG_HASH_H */
