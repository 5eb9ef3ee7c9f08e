/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * relay_xdp.h - the counters of tools/bench/relay_xdp.bpf.c (per CPU,
 * summed by tools/bench/relay_xdp.c).  __u64 only: included by the BPF
 * program (vmlinux.h) and by user space (linux/types.h).
 */
#ifndef RELAY_XDP_H
#define RELAY_XDP_H

struct relay_xdp_stats {
	__u64 req;	/* sink: requests of the method, each once (by the
			 * flooder's branch number); count: 2xx, each once */
	__u64 dup;	/* the same number again (retransmissions) */
	__u64 nobranch;	/* in req, without a flooder branch */
	__u64 other;	/* sink: other requests (answered, not counted);
			 * count: replies that are not 2xx (dropped) */
	__u64 answered;	/* sink: 200s sent back (XDP_TX) */
	__u64 passed;	/* for our port but not handled (too long, no end
			 * of headers, too many lines): passed up */
	__u64 failed;	/* sink: a helper failed half-way: dropped */
	__u64 stale;	/* a flooder branch of another run (-B): an
			 * earlier run's request a proxy still retransmits
			 * (sink: answered), or its reply; not counted */
};

#endif
