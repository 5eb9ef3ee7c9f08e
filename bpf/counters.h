/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * counters.h - count one outcome (enum sipdlg_reason) per packet.
 *
 * Every packet the program sees ends in exactly one sd_count() call; the
 * per-CPU slot needs no atomics.  Needs the "counters" map (maps.h).
 */
#ifndef SIPDLG_BPF_COUNTERS_H
#define SIPDLG_BPF_COUNTERS_H

static __always_inline void sd_count(__u32 reason, __u64 bytes)
{
	struct sipdlg_counter *c;

	c = bpf_map_lookup_elem(&counters, &reason);
	if (!c)
		return;	/* reason out of range: a bug, but never fatal */
	c->packets++;
	c->bytes += bytes;
}

#endif /* SIPDLG_BPF_COUNTERS_H */
