/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bpf_interp.h - a BPF interpreter that counts executed instructions.
 *
 * Runs an XDP program, as libbpf hands it to the kernel (subprograms
 * appended, ld_imm64 carrying map fds), on one frame and counts every
 * instruction it executes, per function too.  Time on a shared machine
 * is noisy; this count is not.
 *
 * Maps are the kernel's: the program's map fds are read with the
 * bpf(2) lookup command the first time the program looks a key up, and
 * the interpreter keeps its own copy of that value from then on, so the
 * program's writes land in memory the interpreter owns and the kernel
 * maps are never written.  That way whoever sets up the kernel maps for
 * BPF_PROG_TEST_RUN (a test, bench_xdp) sets them up for the interpreter
 * too.  Per-CPU maps show the interpreter one CPU's value (CPU 0's
 * unless bpf_interp_set_cpu() says otherwise).
 *
 * Every load and store is checked against the memory region the pointer
 * came from (packet, context, a stack frame, a map value, a ring buffer
 * record); anything else is an error, as is an unknown opcode or helper.
 * An error is a bug in the program or in the interpreter: the kernel's
 * verifier accepted the program.
 *
 *	struct bpf_interp *ip = bpf_interp_new(insns, n);
 *	struct bpf_interp_run r;
 *	if (bpf_interp_run_xdp(ip, frame, len, &r) == 0)
 *		printf("%u after %llu insns\n", r.ret, r.insns);
 *	bpf_interp_free(ip);
 */
#ifndef SIPDLG_BPF_INTERP_H
#define SIPDLG_BPF_INTERP_H

#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

struct bpf_interp;

/* One function of the program: the entry (index 0) or a subprogram. */
struct bpf_interp_func {
	const char *name; /* "main", "sub@N" until named */
	size_t start;	  /* first instruction */
	uint64_t insns;	  /* executed in it during the last run */
};

struct bpf_interp_run {
	uint32_t ret;	/* the program's return value (XDP_*) */
	uint64_t insns; /* instructions executed (ld_imm64 counts 1) */
	char err[200];	/* why the run failed, "" if it did not */
};

/* A ring buffer record the program submitted during the last run. */
struct bpf_interp_record {
	int map_fd;
	size_t len;
	const void *data;
};

/*
 * An interpreter of the @n instructions at @insns (copied).  Functions
 * are found from the BPF-to-BPF calls.  NULL on a bad program (a jump
 * or call out of range, ld_imm64 cut in half) or out of memory.
 */
struct bpf_interp *bpf_interp_new(const struct bpf_insn *insns, size_t n);
void bpf_interp_free(struct bpf_interp *ip);

/* The functions, ordered by their first instruction. */
size_t bpf_interp_nfuncs(const struct bpf_interp *ip);
const struct bpf_interp_func *bpf_interp_func(const struct bpf_interp *ip,
					      size_t i);
/* Name function @i (copied).  0 or -EINVAL / -ENOMEM. */
int bpf_interp_name_func(struct bpf_interp *ip, size_t i, const char *name);

/*
 * The CPU the program runs on (default 0): the value of a per-CPU map it
 * sees, bpf_get_smp_processor_id().  Takes effect for values not copied
 * yet (bpf_interp_maps_reset()).  0 or -EINVAL.
 */
int bpf_interp_set_cpu(struct bpf_interp *ip, int cpu);

/* bpf_ktime_get_[coarse_]ns() returns @ns; 0: CLOCK_MONOTONIC[_COARSE]. */
void bpf_interp_set_clock(struct bpf_interp *ip, uint64_t ns);

/*
 * Run the program once on the @len bytes at @frame (copied; the program
 * may write its copy) as an XDP program on ifindex 1, queue 0.  Returns
 * 0 with @out filled, or -1 with out->err saying why (out->insns then
 * counts up to the failing instruction).
 */
int bpf_interp_run_xdp(struct bpf_interp *ip, const void *frame, size_t len,
		       struct bpf_interp_run *out);

/*
 * The interpreter's copy of the value under @key in the map @map_fd (the
 * fd the program's ld_imm64 carries), or NULL if the program has not
 * looked the key up since the last reset or the kernel had no value.
 */
const void *bpf_interp_map_peek(const struct bpf_interp *ip, int map_fd,
				const void *key);
/* Forget every copy: the next lookup reads the kernel map again. */
void bpf_interp_maps_reset(struct bpf_interp *ip);

/* The frame as the last run left it (the program may write it). */
const uint8_t *bpf_interp_packet(const struct bpf_interp *ip, size_t *len);

/* The program (as given to bpf_interp_new()) and its length. */
const struct bpf_insn *bpf_interp_insns(const struct bpf_interp *ip);
size_t bpf_interp_ninsns(const struct bpf_interp *ip);

/* How often instruction @pc was executed during the last run. */
uint64_t bpf_interp_pc_hits(const struct bpf_interp *ip, size_t pc);

/* How often opcode @code was executed, summed over every run. */
uint64_t bpf_interp_op_hits(const struct bpf_interp *ip, uint8_t code);

/* Ring buffer records submitted during the last run, in order. */
size_t bpf_interp_nrecords(const struct bpf_interp *ip);
const struct bpf_interp_record *bpf_interp_record(const struct bpf_interp *ip,
						  size_t i);

#endif /* SIPDLG_BPF_INTERP_H */
