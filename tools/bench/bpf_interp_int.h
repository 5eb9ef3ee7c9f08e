/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bpf_interp_int.h - what the two halves of the interpreter share:
 * bpf_interp.c (instructions, the run) and bpf_interp_env.c (memory
 * regions, maps, helpers).  Private to them.
 */
#ifndef SIPDLG_BPF_INTERP_INT_H
#define SIPDLG_BPF_INTERP_INT_H

#include <stddef.h>
#include <stdint.h>

#include <bpf/bpf.h>

#include "bpf_interp.h"

#define IP_STACK   512 /* bytes per frame, as in the kernel */
#define IP_FRAMES  8   /* MAX_CALL_FRAMES */
#define IP_SLOTS   (IP_STACK / 8)
/*
 * The packet buffer as the kernel's BPF_PROG_TEST_RUN lays it out: a
 * 4096-byte frame, 256 bytes of headroom (XDP_PACKET_HEADROOM) before
 * the data, the last 320 bytes (skb_shared_info) out of reach of
 * bpf_xdp_adjust_tail(); bpf_xdp_adjust_head() keeps 40 bytes (struct
 * xdp_frame) at the start.
 */
#define IP_HEADROOM   256
#define IP_FRAME      4096
#define IP_TAILRESV   320
#define IP_XDP_FRAME  40
#define IP_FUNC_BASE  0xbf0f000000000000ULL /* + pc: a callback (ld_imm64) */
#define IP_MAX_RUN 10000000ULL /* executed instructions before giving up */
#define IP_POISON  0x5a5a5a5a5a5a5a5aULL /* r1-r5 after a helper call */

/* Fixed region slots; map values and ring buffer records follow. */
enum {
	RG_NONE = 0, /* tag 0: not a pointer we know */
	RG_PKT = 1,
	RG_CTX = 2,
	RG_STACK0 = 3, /* RG_STACK0 + frame */
	RG_DYN = RG_STACK0 + IP_FRAMES,
};

/* Who frees a region's memory. */
enum {
	OWN_NONE = 0,	/* someone else (packet, ctx, stacks) */
	OWN_HEAP = 1,	/* region_kill() frees it (map values) */
	OWN_RECORD = 2, /* a reserved ring buffer record */
};

struct region {
	uint8_t *base;
	size_t size;
	int live;
	int writable;
	int owned;	     /* OWN_* */
	int ringbuf_fd;	     /* OWN_RECORD: the ring buffer's map fd */
	int slots[IP_SLOTS]; /* stack only: tag of each 8-byte slot */
};

/* A cached map value; region -1: the kernel had no value for the key. */
struct centry {
	uint8_t *key;
	int region;
};

struct imap {
	int fd;
	struct bpf_map_info info;
	struct centry *ent;
	size_t nent, cap;
};

struct bpf_interp {
	struct bpf_insn *insns;
	size_t n;
	uint16_t *func_of; /* function index of every instruction */
	struct bpf_interp_func *funcs;
	size_t nfuncs;
	struct imap *maps;
	size_t nmaps;
	struct region *rg;
	size_t nrg, caprg;
	uint8_t *pkt; /* the frame: headroom, packet copy, tailroom */
	size_t pkt_cap; /* its size (IP_FRAME, more for a larger packet) */
	uint8_t ctx[24]; /* struct xdp_md, read through xdp_ctx_load() */
	uint8_t *stacks; /* IP_FRAMES * IP_STACK */
	uint64_t clock_ns;
	uint64_t op_hits[256]; /* executions per opcode, every run */
	uint64_t *pc_hits;     /* executions per instruction, last run */
	int ncpus;
	int cpu; /* the CPU the program runs on */
	struct bpf_interp_record *recs;
	size_t nrecs, caprecs;
	/* one run's state */
	uint64_t r[11];
	int tag[11];
	char *err;
};

/* --- bpf_interp_env.c ------------------------------------------------- */

/* A new region (reusing a dead slot): its index, or -1. */
int bpfi_region_add(struct bpf_interp *ip, uint8_t *base, size_t size,
		    int writable, int owned);
void bpfi_region_kill(struct bpf_interp *ip, int i);
/* Say why the run fails, at instruction @pc, into ip->err: -1. */
int bpfi_fail(struct bpf_interp *ip, size_t pc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * The host address of @size bytes at @a, reached through a register
 * tagged @tag, checked against that region (or any, if untagged); the
 * region in *rgi.  NULL after bpfi_fail().
 */
uint8_t *bpfi_mem_at(struct bpf_interp *ip, size_t pc, uint64_t a, int tag,
		     size_t size, int write, int *rgi);
struct imap *bpfi_map_by_fd(struct bpf_interp *ip, int fd);
/* Learn the map @fd (its type and sizes).  0 or -errno. */
int bpfi_map_add(struct bpf_interp *ip, int fd);
/* The region of our copy of @m's value under @key; -1 none, -2 error. */
int bpfi_map_value(struct bpf_interp *ip, struct imap *m, const void *key);
/* Helper @id on r1-r5: r0 and its tag.  0 or -1 after bpfi_fail(). */
int bpfi_helper(struct bpf_interp *ip, size_t pc, int32_t id);
/* Is @pc the first instruction of a function? */
int bpfi_is_func(const struct bpf_interp *ip, size_t pc);
/* Drop the ring buffer records of the last run. */
void bpfi_records_free(struct bpf_interp *ip);

#endif /* SIPDLG_BPF_INTERP_INT_H */
