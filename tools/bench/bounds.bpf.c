// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bounds.bpf.c - two parts of the fast path's work, alone, for
 * bench-xdp's lower bounds: what any program that does the same job
 * pays on this machine, whatever its design.
 *
 * bound_scan:  find every LF between frame offsets scan_from and scan_to
 *              (the in-dialog BYE's start line up to the end of its CSeq
 *              line), 32 bytes per step, the same SWAR test the scan
 *              uses.  No header is classified, no value read.
 * bound_match: what follows a scan of a matched request: the dialog's
 *              hash-map lookup, the coarse clock, the per-direction and
 *              per-method counters (atomic, as the map is shared by the
 *              CPUs), the BYE flag, the per-CPU reason counter.
 *
 * Not part of sipdlg: the programs never look at what the packet says
 * beyond the LF bytes.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Frame offsets of the bytes bound_scan reads; set before load. */
const volatile __u32 scan_from = 0;
const volatile __u32 scan_to = 0;
/* The key of the one entry bench_xdp puts in bound_dialogs. */
const volatile __u64 match_key = 0;

/* The fields bound_match touches, laid out like a dialog's counters. */
struct bound_dir {
	__u64 packets;
	__u64 bytes;
	__u64 replies;
	__u32 cseq_max;
	__u32 pad;
};

struct bound_value {
	struct bound_dir dir[2];
	__u64 methods[16];
	__u64 last_seen_ns;
	__u32 bye_seen;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);	/* as "dialogs" (bpf/maps.h) */
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct bound_value);
} bound_dialogs SEC(".maps");

struct bound_counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, struct bound_counter);
} bound_counters SEC(".maps");

#define BOUND_ONES 0x0101010101010101ULL
#define BOUND_LOW7 0x7f7f7f7f7f7f7f7fULL
#define BOUND_LF (0x0aULL * BOUND_ONES)

/* 0x80 in every LF byte of @w (exact, as sd_eq_bytes). */
static __always_inline __u64 bound_lf(__u64 w)
{
	__u64 x = w ^ BOUND_LF;

	return ~(((x & BOUND_LOW7) + BOUND_LOW7) | x | BOUND_LOW7);
}

SEC("xdp")
int bound_scan(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 from = scan_from, to = scan_to;
	__u64 lfs = 0, m;
	void *p;
	int k;

	for (k = 0; k < 64; k++) {
		if (from + 32 * k + 32 > to)
			break;
		p = data + ((from + 32 * k) & 0x7ff);
		if (p + 32 > end)
			break;
		m = bound_lf(*(__u64 *)p) | bound_lf(*(__u64 *)(p + 8)) |
		    bound_lf(*(__u64 *)(p + 16)) | bound_lf(*(__u64 *)(p + 24));
		lfs += m >> 7;
	}
	/* use the result, or the compiler drops the loop */
	return (lfs * BOUND_ONES) >> 56 == 0xff ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int bound_match(struct xdp_md *ctx)
{
	__u64 key = match_key, now;
	__u32 len = ctx->data_end - ctx->data, reason = 14, d = 1, bit = 2;
	struct bound_counter *c;
	struct bound_value *v;

	v = bpf_map_lookup_elem(&bound_dialogs, &key);
	if (v) {
		now = bpf_ktime_get_coarse_ns();
		__sync_fetch_and_add(&v->dir[d].packets, 1);
		__sync_fetch_and_add(&v->dir[d].bytes, len);
		__sync_fetch_and_add(&v->methods[3], 1);
		v->last_seen_ns = now;
		if (231 > v->dir[d].cseq_max)
			v->dir[d].cseq_max = 231;
		__sync_fetch_and_or(&v->bye_seen, bit);
	}
	c = bpf_map_lookup_elem(&bound_counters, &reason);
	if (c) {
		c->packets++;
		c->bytes += len;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
