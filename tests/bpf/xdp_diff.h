/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_diff.h - one frame through the kernel and the interpreter
 * (tools/bench/bpf_interp.h), and do they agree?
 *
 * For the tests of the instruction-counting interpreter: the frame runs
 * first in the interpreter (which copies map values from the kernel on
 * first lookup), then through BPF_PROG_TEST_RUN on the same maps.  They
 * agree when the verdict and the frame afterwards are the same, every
 * writable map's every key holds after the kernel's run what the
 * interpreter's copy holds (or, for keys it never looked up, what it
 * held before), and the ring buffer records are the same, byte for byte.
 *
 * The caller pins itself to one CPU before xdp_diff_attach(): the
 * kernel's runs then update that CPU's per-CPU values, which the
 * interpreter is told to show the program.  The interpreter's clock is
 * CLOCK_MONOTONIC_COARSE read before its run: the kernel's
 * bpf_ktime_get_coarse_ns() unless a tick falls between the runs; then only the
 * verdict and the frame are compared (counted in ->ticked), and a verdict
 * that differs is no failure either (a rate limit, max_dialog_pps, may
 * pass the kernel's later run: seen under qemu's TCG, where ticks are
 * many).
 */
#ifndef SIPDLG_TESTS_XDP_DIFF_H
#define SIPDLG_TESTS_XDP_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include <bpf/libbpf.h>

#include "bpf_interp.h"

#define XDP_DIFF_EVENTS 16 /* ring buffer records kept per frame */

struct xdp_diff_snap;

struct xdp_diff {
	struct bpf_object *obj; /* loaded, maps set up */
	int prog_fd;
	int cpu; /* the one the caller is pinned to */
	struct bpf_interp *ip;
	struct ring_buffer *rb;	     /* the object's first ring buffer */
	struct xdp_diff_snap *known; /* every map's keys at attach */
	/* the kernel's records of the last frame */
	size_t nev;
	size_t ev_len[XDP_DIFF_EVENTS];
	uint8_t ev[XDP_DIFF_EVENTS][128];
	unsigned frames; /* compared */
	unsigned ticked; /* of them on verdict and frame only */
};

/*
 * Attach to the loaded @prog of @obj whose maps are set up: its
 * interpreter, ring buffer reader, and the keys of its hash maps (the
 * program adds none; walking a large hash map per frame would be slow).
 * 0 or -errno.
 */
int xdp_diff_attach(struct xdp_diff *d, struct bpf_object *obj,
		    const struct bpf_program *prog);
void xdp_diff_detach(struct xdp_diff *d);

/*
 * Run @frame (@len bytes) through both.  0 if they agree, else -1 and
 * the first difference in @why (@wlen bytes).
 */
int xdp_diff_frame(struct xdp_diff *d, const void *frame, size_t len, char *why,
		   size_t wlen);

#endif /* SIPDLG_TESTS_XDP_DIFF_H */
