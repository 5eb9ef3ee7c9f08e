// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * relay_xdp.bpf.c - the kernel relay benchmark's tools at the ends of the
 * veths (bench-info-relay.sh), so that the generator and the sink are
 * not what limits the rate measured:
 *
 *   relay_sink   on the callee's veth: each request to UDP port rx_port
 *                is answered in place, "SIP/2.0 200 OK" with the request's
 *                Via lines, From, To, Call-ID and CSeq (in their order),
 *                "Content-Length: 0" and no body; MACs, IPv4 addresses and
 *                ports swapped, lengths, IPv4 and UDP checksums computed;
 *                XDP_TX.  The box sees a callee answering from where the
 *                request went.  Requests of rx_method are counted once
 *                each by the flooder's branch number ("branch=z9hG4bK-fd"
 *                and 8 hex digits, tools/bench/flood.c -D): again = a
 *                retransmission (dup).  With rx_run set (relay_xdp -B), only
 *                branches "...-fd<number>-<rx_run>" count: one of an earlier
 *                run (that a proxy retransmits yet) is stale.
 *   relay_count  on the caller's veth: replies to UDP port rx_port (the
 *                flooder's Via port) are counted (2xx once each by the
 *                flooder's branch number) and dropped.
 *   relay_drop   counts every frame and drops it (the flooder alone).
 *   relay_pass   XDP_PASS, put back when the tool ends: a veth delivers
 *                XDP_TX / redirected frames only to a peer with XDP on.
 *
 * IPv4 only, no IP options, messages up to RX_MSG_MAX bytes; anything
 * else for the port is passed up and counted (passed).  The header walk
 * is a bpf_loop() over 8-byte words (a newline found by SWAR): about
 * len / 8 + lines callbacks per request.  Loaded by tools/bench/relay_xdp.c.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "relay_xdp.h"

#define ETH_P_IP 0x0800
#define RX_MSG_MAX 1400		/* longest UDP payload handled */
#define RX_MASK 2047		/* offsets into the scratch buffers */
#define RX_VIAS 4		/* Via lines searched for the branch */
#define RX_SEEN_BITS 27		/* 2^27 request numbers (134 M) */
#define RX_OFF 42		/* Ethernet + IPv4 (no options) + UDP */

/* Set by the loader before the load. */
const volatile __u16 rx_port = 5064;	/* host order */
const volatile char rx_method[16] = "INFO";
const volatile __u32 rx_method_len = 4;
const volatile __u64 rx_run;	/* the run's 8 hex digits, as bytes; 0: any */

/*
 * Per CPU: the message, the 200, and the state of the bpf_loop() walks.
 * The walks keep their state here, not on the stack: map values are
 * unknown to the verifier, so a callback is verified once, where a
 * counter on the stack would be followed value by value.
 */
struct rx_scratch {
	__u8 in[2048 + 64];	/* the message, zero-padded */
	__u8 out[2048 + 64];	/* the 200 being written */
	__u8 pseudo[20];	/* IPv4 pseudo header + UDP header */
	__u32 via_ls[RX_VIAS], via_le[RX_VIAS];
	/* the header walk (rx_step) */
	__u32 p;	/* next word to look at */
	__u32 ls;	/* start of the current line */
	__u32 len;	/* message length */
	__u32 o;	/* bytes of the 200 written (kept lines) */
	__u32 line;	/* lines ended so far */
	__u32 nvia;
	__u32 end;	/* 1: the empty line reached */
	/* the branch search (rx_find_step): line [fa, fe) */
	__u32 fa, fe;
	__s64 num;	/* the flooder's number, -1 none, -2 another run's */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rx_scratch);
} rx_scr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct relay_xdp_stats);
} rx_stats SEC(".maps");

/* One bit per request number seen (set atomically: both CPUs count). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1u << (RX_SEEN_BITS - 6));
	__type(key, __u32);
	__type(value, __u64);
} rx_seen SEC(".maps");

#define RX_LE8(a, b, c, d, e, f, g, h)                                         \
	((__u64)(__u8)(a) | (__u64)(__u8)(b) << 8 | (__u64)(__u8)(c) << 16 | \
	 (__u64)(__u8)(d) << 24 | (__u64)(__u8)(e) << 32 |                   \
	 (__u64)(__u8)(f) << 40 | (__u64)(__u8)(g) << 48 |                   \
	 (__u64)(__u8)(h) << 56)
#define RX_ONES 0x0101010101010101ULL
#define RX_HIGHS 0x8080808080808080ULL

static __always_inline struct rx_scratch *rx_get(void)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&rx_scr, &k);
}

static __always_inline __u64 rx_w(const __u8 *buf, __u32 off)
{
	return *(const __u64 *)(buf + (off & RX_MASK));
}

/* Is byte @c the end of a header name (':' or SP)? */
static __always_inline int rx_nend(__u64 c)
{
	return c == ':' || c == ' ';
}

/*
 * Kind of the header line whose first 8 bytes are @w: 1 Via, 2 another
 * line the 200 keeps (From, To, Call-ID, CSeq, long or compact), 0 not.
 */
static __always_inline int rx_kind(__u64 w)
{
	__u64 l = w | 0x2020202020202020ULL;	/* letters in lower case */

	if (rx_nend((w >> 8) & 0xff)) {		/* compact form */
		__u64 c = l & 0xff;

		if (c == 'v')
			return 1;
		return c == 'f' || c == 't' || c == 'i' ? 2 : 0;
	}
	if ((l & 0xffffff) == RX_LE8('v', 'i', 'a', 0, 0, 0, 0, 0) && rx_nend((w >> 24) & 0xff))
		return 1;
	if ((l & 0xffff) == RX_LE8('t', 'o', 0, 0, 0, 0, 0, 0) && rx_nend((w >> 16) & 0xff))
		return 2;
	if (((l & 0xffffffff) == RX_LE8('f', 'r', 'o', 'm', 0, 0, 0, 0) ||
	     (l & 0xffffffff) == RX_LE8('c', 's', 'e', 'q', 0, 0, 0, 0)) &&
	    rx_nend((w >> 32) & 0xff))
		return 2;
	if ((l & 0xffffffffffffffULL) == RX_LE8('c', 'a', 'l', 'l', '-', 'i', 'd', 0) &&
	    rx_nend(w >> 56))
		return 2;
	return 0;
}

/*
 * One step of the header walk: the word at w->p copied to the 200 (at
 * the current line's place), and, when it holds a newline, the line
 * ends: kept (w->o moves past it) or not (the next line overwrites it).
 */
static long rx_step(__u32 idx, void *unused)
{
	struct rx_scratch *w = rx_get(), *s = w;
	__u32 p, ls, e, n, k;
	__u64 x, m;

	if (!s)
		return 1;
	p = w->p;
	ls = w->ls;
	if (p >= w->len || p > RX_MSG_MAX || ls > p)
		return 1;
	x = rx_w(s->in, p);
	*(__u64 *)(s->out + ((w->o + p - ls) & RX_MASK)) = x;
	x ^= RX_ONES * '\n';
	m = (x - RX_ONES) & ~x & RX_HIGHS;	/* exact for the lowest */
	if (!m) {
		w->p = p + 8;
		return 0;
	}
	m &= -m;
	e = p + (__u32)(((((m - 1) >> 7) & RX_ONES) * RX_ONES) >> 56);
	if (e >= w->len)
		return 1;
	n = e + 1 - ls;		/* the line and its newline */
	if (n <= 2) {		/* the empty line: the headers end */
		w->end = 1;
		return 1;
	}
	if (w->line++ > 0) {	/* not the request line */
		k = rx_kind(rx_w(s->in, ls));
		if (k == 1 && w->nvia < RX_VIAS) {
			s->via_ls[w->nvia & (RX_VIAS - 1)] = ls;
			s->via_le[w->nvia & (RX_VIAS - 1)] = e;
			w->nvia++;
		}
		if (k)
			w->o += n;
	}
	w->ls = e + 1;
	w->p = e + 1;
	return 0;
}

/*
 * The 8 hex digits at @off as a number, without a branch per digit (the
 * verifier would follow each one): (c & 15) + 9 for a letter (bit 6).
 * Only called after the flooder's branch prefix, whose digits are hex.
 */
static __always_inline __u32 rx_hex8(const __u8 *in, __u32 off)
{
	__u64 x = rx_w(in, off), d;
	__u32 v = 0, k;

	d = (x & 0x0f0f0f0f0f0f0f0fULL) + 9 * ((x >> 6) & RX_ONES);
#pragma unroll
	for (k = 0; k < 8; k++)
		v = v << 4 | (__u32)((d >> (8 * k)) & 15);
	return v;
}

/* "branch=z9hG4bK-fd" at f->a + idx in the message copy, 8 hex digits after. */
static long rx_find_step(__u32 idx, void *unused)
{
	struct rx_scratch *s = rx_get(), *f = s;
	__u32 j;

	if (!s)
		return 1;
	j = f->fa + idx;
	if (j + 25 > f->fe || j > RX_MSG_MAX)
		return 1;
	if (rx_w(s->in, j) != RX_LE8('b', 'r', 'a', 'n', 'c', 'h', '=', 'z') ||
	    rx_w(s->in, j + 8) != RX_LE8('9', 'h', 'G', '4', 'b', 'K', '-', 'f') ||
	    s->in[(j + 16) & RX_MASK] != 'd')
		return 0;
	if (rx_run && (s->in[(j + 25) & RX_MASK] != '-' || rx_w(s->in, j + 26) != rx_run))
		f->num = -2;	/* not this run's */
	else
		f->num = rx_hex8(s->in, j + 17);
	return 1;
}

/* Count number @num once: 1 the first time, 0 again. */
static __always_inline int rx_first(__u32 num)
{
	__u32 key = (num & ((1u << RX_SEEN_BITS) - 1)) >> 6;
	__u64 bit = 1ULL << (num & 63), *word;

	word = bpf_map_lookup_elem(&rx_seen, &key);
	if (!word)
		return 1;
	return !(__sync_fetch_and_or(word, bit) & bit);
}

static __always_inline __u32 rx_fold(__u64 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u32)((s & 0xffff) + (s >> 16)) & 0xffff;
}

/* The UDP datagram of port rx_port in @ctx: its payload length, or 0. */
static __always_inline __u32 rx_udp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + 14;
	struct udphdr *udp = data + 34;
	__u32 len;

	if (data + RX_OFF > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->ihl != 5 || ip->protocol != IPPROTO_UDP ||
	    (ip->frag_off & bpf_htons(0x3fff)) || udp->dest != bpf_htons(rx_port))
		return 0;
	len = bpf_ntohs(udp->len);
	return len > 8 ? len - 8 : 0;
}

/* The message (@len bytes) into s->in, zero-padded; 0 or -1. */
static __always_inline int rx_load(struct xdp_md *ctx, struct rx_scratch *s,
				   __u32 len)
{
	if (len < 16 || len > RX_MSG_MAX)
		return -1;
	if (bpf_xdp_load_bytes(ctx, RX_OFF, s->in, len))
		return -1;
	*(__u64 *)(s->in + len) = 0;
	*(__u64 *)(s->in + len + 8) = 0;
	return 0;
}

/* The flooder's number in the Via lines the walk found, or -1. */
static __always_inline __s64 rx_branch(struct rx_scratch *s)
{
	__u32 i, a, e;

	s->num = -1;
	for (i = 0; i < RX_VIAS; i++) {
		if (i >= s->nvia)
			break;
		a = s->via_ls[i];
		e = s->via_le[i];
		if (a >= e || e > RX_MSG_MAX)
			continue;
		s->fa = a;
		s->fe = e;
		bpf_loop(e - a, rx_find_step, NULL, 0);
		if (s->num != -1)
			break;
	}
	return s->num;
}

SEC("xdp")
int relay_sink(struct xdp_md *ctx)
{
	struct relay_xdp_stats *st;
	struct rx_scratch *s;
	void *data, *end;
	struct iphdr *ip;
	struct udphdr *udp;
	__u32 k0 = 0, len, o, i, ulen, flen, is_m = 1, a;
	__s64 num, sum;
	__u64 sm;
	__u8 mac[6];

	len = rx_udp(ctx);
	if (!len)
		return XDP_PASS;
	st = bpf_map_lookup_elem(&rx_stats, &k0);
	s = rx_get();
	if (!st || !s)
		return XDP_PASS;
	if (rx_load(ctx, s, len)) {
		st->passed++;
		return XDP_PASS;
	}
	if (rx_w(s->in, 0) == RX_LE8('S', 'I', 'P', '/', '2', '.', '0', ' '))
		return XDP_PASS;	/* a reply: not ours to answer */
	for (i = 0; i < 15; i++) {
		if (i >= rx_method_len)
			break;
		if (s->in[i] != rx_method[i])
			is_m = 0;
	}
	if (s->in[rx_method_len & 15] != ' ')
		is_m = 0;

	/* the 200: status line, then the kept lines (the walk), then the end */
	__builtin_memcpy(s->out, "SIP/2.0 200 OK\r\n", 16);
	s->p = 0;
	s->ls = 0;
	s->o = 16;
	s->len = len;
	s->line = 0;
	s->nvia = 0;
	s->end = 0;
	bpf_loop(RX_MSG_MAX / 8 + 64, rx_step, NULL, 0);
	o = s->o;
	if (!s->end || o > RX_MSG_MAX || o + 21 > len) {
		st->passed++;
		return XDP_PASS;
	}
	__builtin_memcpy(s->out + (o & RX_MASK), "Content-Length: 0\r\n\r\n", 21);
	o += 21;
	num = is_m ? rx_branch(s) : -1;

	/* the frame: payload, then its end, then the headers */
	if (bpf_xdp_store_bytes(ctx, RX_OFF, s->out, o))
		goto fail;
	flen = bpf_xdp_get_buff_len(ctx);
	if (flen > RX_OFF + o &&
	    bpf_xdp_adjust_tail(ctx, -(int)(flen - RX_OFF - o)))
		goto fail;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + RX_OFF > end)
		goto fail;
	__builtin_memcpy(mac, data, 6);
	__builtin_memcpy(data, data + 6, 6);
	__builtin_memcpy(data + 6, mac, 6);
	ip = data + 14;
	udp = data + 34;
	a = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = a;
	ulen = o + 8;
	ip->tot_len = bpf_htons(ulen + 20);
	ip->ttl = 64;
	ip->check = 0;
	sm = 0;
#pragma unroll
	for (i = 0; i < 10; i++)
		sm += ((__u16 *)ip)[i];
	ip->check = ~rx_fold(sm);
	i = udp->source;
	udp->source = udp->dest;
	udp->dest = i;
	udp->len = bpf_htons(ulen);
	udp->check = 0;
	/* UDP checksum: pseudo header, UDP header, the 200 (zero-padded) */
	__builtin_memcpy(s->pseudo, &ip->saddr, 8);
	s->pseudo[8] = 0;
	s->pseudo[9] = IPPROTO_UDP;
	__builtin_memcpy(s->pseudo + 10, &udp->len, 2);
	__builtin_memcpy(s->pseudo + 12, udp, 8);
	*(__u32 *)(s->out + (o & RX_MASK)) = 0;
	sum = bpf_csum_diff(0, 0, (void *)s->pseudo, 20, 0);
	for (i = 0; i < 3; i++) {
		__u32 n;

		if (512 * i >= o || sum < 0)
			break;
		n = o - 512 * i;
		n = n >= 512 ? 512 : (n + 3) & 508;
		sum = bpf_csum_diff(0, 0, (void *)(s->out + 512 * i), n, (__u32)sum);
	}
	if (sum < 0)
		goto fail;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + RX_OFF > end)
		goto fail;
	udp = data + 34;
	{
		__u16 c = ~rx_fold((__u32)sum);

		udp->check = c ? c : 0xffff;
	}

	if (!is_m)
		st->other++;
	else if (num == -2)
		st->stale++;
	else if (num < 0) {
		st->req++;
		st->nobranch++;
	} else if (rx_first((__u32)num))
		st->req++;
	else
		st->dup++;
	st->answered++;
	return XDP_TX;
fail:
	st->failed++;
	return XDP_DROP;
}

SEC("xdp")
int relay_count(struct xdp_md *ctx)
{
	struct relay_xdp_stats *st;
	struct rx_scratch *s;
	__u32 k0 = 0, len;

	len = rx_udp(ctx);
	if (!len)
		return XDP_PASS;
	st = bpf_map_lookup_elem(&rx_stats, &k0);
	s = rx_get();
	if (!st || !s)
		return XDP_PASS;
	if (len > 512)
		len = 512;	/* the Via comes first */
	if (rx_load(ctx, s, len)) {
		st->passed++;
		return XDP_PASS;
	}
	if (rx_w(s->in, 0) != RX_LE8('S', 'I', 'P', '/', '2', '.', '0', ' '))
		return XDP_PASS;	/* a request: not for us */
	if (s->in[8] != '2') {
		st->other++;
		return XDP_DROP;
	}
	s->fa = 16;
	s->fe = len;
	s->num = -1;
	bpf_loop(len - 16, rx_find_step, NULL, 0);
	if (s->num == -2)
		st->stale++;
	else if (s->num < 0) {
		st->req++;
		st->nobranch++;
	} else if (rx_first((__u32)s->num))
		st->req++;
	else
		st->dup++;
	return XDP_DROP;
}

/* Counts every frame and drops it: the flooder alone (relay_xdp -d). */
SEC("xdp")
int relay_drop(struct xdp_md *ctx)
{
	struct relay_xdp_stats *st;
	__u32 k0 = 0;

	st = bpf_map_lookup_elem(&rx_stats, &k0);
	if (st)
		st->req++;
	return XDP_DROP;
}

SEC("xdp")
int relay_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
