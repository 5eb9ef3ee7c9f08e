// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpf_interp.c - run a BPF program on a frame, count what it executes.
 *
 * The instruction set is that of the kernel's
 * Documentation/bpf/standardization/instruction-set.rst as far as clang
 * -mcpu=v3 emits it: ALU and ALU64 (32-bit results zero-extended), JMP
 * and JMP32 with every condition, LDX/ST/STX of 1, 2, 4 and 8 bytes,
 * ld_imm64 (constants, map fds, map values), the atomics (add, or, and,
 * xor with and without fetch, xchg, cmpxchg), BPF-to-BPF calls with a
 * 512-byte stack per frame, and the helpers the XDP program calls.  The
 * v4 additions (sign-extending loads and moves, signed division, 32-bit
 * ja, byte swaps in ALU64) and legacy packet loads are refused.
 *
 * Registers hold host addresses.  Each register and each 8-byte stack
 * slot carries a tag, the memory region its pointer came from, moved
 * along by mov, add and sub of 64 bits and by 8-byte spills; a load or
 * store through a tagged register must stay inside that region.  The
 * verifier's own rules make every pointer the program dereferences
 * tagged; an untagged one must at least fall inside some region.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_interp_int.h"

/* --- memory instructions ------------------------------------------------- */

static uint64_t load_n(const uint8_t *p, size_t size)
{
	uint8_t b1;
	uint16_t b2;
	uint32_t b4;
	uint64_t b8;

	switch (size) {
	case 1:
		memcpy(&b1, p, 1);
		return b1;
	case 2:
		memcpy(&b2, p, 2);
		return b2;
	case 4:
		memcpy(&b4, p, 4);
		return b4;
	default:
		memcpy(&b8, p, 8);
		return b8;
	}
}

static void store_n(uint8_t *p, size_t size, uint64_t v)
{
	uint8_t b1 = (uint8_t)v;
	uint16_t b2 = (uint16_t)v;
	uint32_t b4 = (uint32_t)v;

	switch (size) {
	case 1:
		memcpy(p, &b1, 1);
		break;
	case 2:
		memcpy(p, &b2, 2);
		break;
	case 4:
		memcpy(p, &b4, 4);
		break;
	default:
		memcpy(p, &v, 8);
		break;
	}
}

static size_t size_of(uint8_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_B:
		return 1;
	case BPF_H:
		return 2;
	case BPF_W:
		return 4;
	default:
		return 8;
	}
}

/* Slot tags of stack region @g after a store of @size bytes at @p. */
static void slots_store(struct bpf_interp *ip, int g, const uint8_t *p,
			size_t size, int tag)
{
	struct region *s = &ip->rg[g];
	size_t off = (size_t)(p - s->base);

	if (g < RG_STACK0 || g >= RG_DYN)
		return;
	if (size == 8 && off % 8 == 0) {
		s->slots[off / 8] = tag;
		return;
	}
	for (size_t k = off / 8; k <= (off + size - 1) / 8; k++)
		s->slots[k] = RG_NONE;
}

/*
 * ctx->field of struct xdp_md: the kernel rewrites these loads into
 * loads of the real pointers, so data, data_meta and data_end come back
 * as full host addresses tagged with the packet.
 */
static int xdp_ctx_load(struct bpf_interp *ip, size_t pc, int dst,
			const uint8_t *p, size_t size)
{
	size_t off = (size_t)(p - ip->ctx);
	uint64_t data = (uint64_t)(uintptr_t)ip->rg[RG_PKT].base;

	if (size != 4 || off % 4)
		return bpfi_fail(ip, pc, "ctx load of %zu bytes at %zu", size,
				 off);
	ip->tag[dst] = RG_NONE;
	switch (off) {
	case 0: /* data */
	case 8: /* data_meta: no metadata */
		ip->r[dst] = data;
		ip->tag[dst] = RG_PKT;
		break;
	case 4: /* data_end */
		ip->r[dst] = data + ip->rg[RG_PKT].size;
		ip->tag[dst] = RG_PKT;
		break;
	case 12: /* ingress_ifindex */
		ip->r[dst] = 1;
		break;
	default: /* rx_queue_index, egress_ifindex */
		ip->r[dst] = 0;
		break;
	}
	return 0;
}

static int do_ldx(struct bpf_interp *ip, size_t pc, const struct bpf_insn *in)
{
	size_t size = size_of(in->code);
	uint64_t a = ip->r[in->src_reg] + (uint64_t)(int64_t)in->off;
	uint8_t *p;
	int g;

	if (BPF_MODE(in->code) != BPF_MEM)
		return bpfi_fail(ip, pc, "load mode 0x%02x not supported",
				 in->code);
	p = bpfi_mem_at(ip, pc, a, ip->tag[in->src_reg], size, 0, &g);
	if (!p)
		return -1;
	if (g == RG_CTX)
		return xdp_ctx_load(ip, pc, in->dst_reg, p, size);
	ip->r[in->dst_reg] = load_n(p, size);
	ip->tag[in->dst_reg] = RG_NONE;
	if (g >= RG_STACK0 && g < RG_DYN && size == 8 &&
	    (size_t)(p - ip->rg[g].base) % 8 == 0)
		ip->tag[in->dst_reg] =
		    ip->rg[g].slots[(p - ip->rg[g].base) / 8];
	return 0;
}

static int do_atomic(struct bpf_interp *ip, size_t pc,
		     const struct bpf_insn *in, uint8_t *p, size_t size)
{
	uint64_t old = load_n(p, size), src = ip->r[in->src_reg], v;
	uint64_t mask = size == 8 ? ~0ULL : 0xffffffffULL;
	int32_t op = in->imm;

	switch (op & ~BPF_FETCH) {
	case BPF_ADD:
		v = old + src;
		break;
	case BPF_OR:
		v = old | src;
		break;
	case BPF_AND:
		v = old & src;
		break;
	case BPF_XOR:
		v = old ^ src;
		break;
	case BPF_XCHG & ~BPF_FETCH:
		if (op != BPF_XCHG)
			return bpfi_fail(ip, pc, "atomic op 0x%x", op);
		v = src;
		break;
	case BPF_CMPXCHG & ~BPF_FETCH:
		if (op != BPF_CMPXCHG)
			return bpfi_fail(ip, pc, "atomic op 0x%x", op);
		v = (old & mask) == (ip->r[0] & mask) ? src : old;
		store_n(p, size, v);
		ip->r[0] = old & mask;
		ip->tag[0] = RG_NONE;
		return 0;
	default:
		return bpfi_fail(ip, pc, "atomic op 0x%x", op);
	}
	store_n(p, size, v);
	if (op & BPF_FETCH) {
		ip->r[in->src_reg] = old & mask;
		ip->tag[in->src_reg] = RG_NONE;
	}
	return 0;
}

static int do_store(struct bpf_interp *ip, size_t pc, const struct bpf_insn *in)
{
	size_t size = size_of(in->code);
	uint64_t a = ip->r[in->dst_reg] + (uint64_t)(int64_t)in->off;
	int cls = BPF_CLASS(in->code), mode = BPF_MODE(in->code), g;
	uint8_t *p;

	if (mode != BPF_MEM && !(cls == BPF_STX && mode == BPF_ATOMIC))
		return bpfi_fail(ip, pc, "store mode 0x%02x not supported",
				 in->code);
	if (mode == BPF_ATOMIC && size != 4 && size != 8)
		return bpfi_fail(ip, pc, "atomic of %zu bytes", size);
	p = bpfi_mem_at(ip, pc, a, ip->tag[in->dst_reg], size, 1, &g);
	if (!p)
		return -1;
	if (g == RG_CTX)
		return bpfi_fail(ip, pc, "store into ctx");
	if (mode == BPF_ATOMIC) {
		slots_store(ip, g, p, size, RG_NONE);
		return do_atomic(ip, pc, in, p, size);
	}
	if (cls == BPF_ST) {
		store_n(p, size, (uint64_t)(int64_t)in->imm);
		slots_store(ip, g, p, size, RG_NONE);
	} else {
		store_n(p, size, ip->r[in->src_reg]);
		slots_store(ip, g, p, size, ip->tag[in->src_reg]);
	}
	return 0;
}

/* --- ALU and jumps ------------------------------------------------- */

static uint64_t bswap_n(uint64_t v, int bits)
{
	switch (bits) {
	case 16:
		return __builtin_bswap16((uint16_t)v);
	case 32:
		return __builtin_bswap32((uint32_t)v);
	default:
		return __builtin_bswap64(v);
	}
}

static int do_alu(struct bpf_interp *ip, size_t pc, const struct bpf_insn *in)
{
	int is64 = BPF_CLASS(in->code) == BPF_ALU64, op = BPF_OP(in->code);
	int x = BPF_SRC(in->code) == BPF_X, d = in->dst_reg;
	uint64_t a = ip->r[d], b, v;
	int tag = RG_NONE;

	if (x)
		b = ip->r[in->src_reg];
	else
		b = is64 ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm;
	if (!is64) {
		a = (uint32_t)a;
		b = (uint32_t)b;
	}
	if (in->off != 0) /* v4: sdiv, smod, movsx */
		return bpfi_fail(ip, pc, "ALU op 0x%02x with off %d (cpu v4)",
				 in->code, in->off);
	switch (op) {
	case BPF_ADD:
		v = a + b;
		if (is64)
			tag = x && !ip->tag[d] ? ip->tag[in->src_reg]
					       : ip->tag[d];
		break;
	case BPF_SUB:
		v = a - b;
		/* pointer - scalar stays a pointer; pointer - pointer not */
		if (is64 && !(x && ip->tag[in->src_reg]))
			tag = ip->tag[d];
		break;
	case BPF_MUL:
		v = a * b;
		break;
	case BPF_DIV:
		v = b ? a / b : 0;
		break;
	case BPF_MOD:
		v = b ? a % b : a;
		break;
	case BPF_OR:
		v = a | b;
		break;
	case BPF_AND:
		v = a & b;
		break;
	case BPF_XOR:
		v = a ^ b;
		break;
	case BPF_LSH:
		v = a << (b & (is64 ? 63 : 31));
		break;
	case BPF_RSH:
		v = a >> (b & (is64 ? 63 : 31));
		break;
	case BPF_ARSH:
		if (is64)
			v = (uint64_t)((int64_t)a >> (b & 63));
		else
			v = (uint32_t)((int32_t)(uint32_t)a >> (b & 31));
		break;
	case BPF_NEG:
		v = (uint64_t)0 - a;
		break;
	case BPF_MOV:
		v = b;
		if (is64 && x)
			tag = ip->tag[in->src_reg];
		break;
	case BPF_END:
		if (is64)
			return bpfi_fail(ip, pc, "ALU64 byte swap (cpu v4)");
		if (in->imm != 16 && in->imm != 32 && in->imm != 64)
			return bpfi_fail(ip, pc, "byte swap of %d bits",
					 in->imm);
		a = ip->r[d];
		v = x ? bswap_n(a, in->imm) : /* BPF_TO_BE on LE */
			in->imm == 64 ? a
				      : a & ((1ULL << in->imm) - 1);
		ip->r[d] = v;
		ip->tag[d] = RG_NONE;
		return 0;
	default:
		return bpfi_fail(ip, pc, "ALU op 0x%02x", in->code);
	}
	ip->r[d] = is64 ? v : (uint32_t)v;
	ip->tag[d] = tag;
	return 0;
}

/* Is the condition of jump @in true? -1 on an unknown one. */
static int jump_taken(const struct bpf_interp *ip, const struct bpf_insn *in)
{
	int is32 = BPF_CLASS(in->code) == BPF_JMP32;
	uint64_t a = ip->r[in->dst_reg], b;
	int64_t sa, sb;

	b = BPF_SRC(in->code) == BPF_X ? ip->r[in->src_reg]
				       : (uint64_t)(int64_t)in->imm;
	if (is32) {
		a = (uint32_t)a;
		b = (uint32_t)b;
		sa = (int32_t)(uint32_t)a;
		sb = (int32_t)(uint32_t)b;
	} else {
		sa = (int64_t)a;
		sb = (int64_t)b;
	}
	switch (BPF_OP(in->code)) {
	case BPF_JEQ:
		return a == b;
	case BPF_JNE:
		return a != b;
	case BPF_JGT:
		return a > b;
	case BPF_JGE:
		return a >= b;
	case BPF_JLT:
		return a < b;
	case BPF_JLE:
		return a <= b;
	case BPF_JSET:
		return (a & b) != 0;
	case BPF_JSGT:
		return sa > sb;
	case BPF_JSGE:
		return sa >= sb;
	case BPF_JSLT:
		return sa < sb;
	case BPF_JSLE:
		return sa <= sb;
	default:
		return -1;
	}
}

/* ld_imm64 at @pc: a constant, a map handle or a map value pointer. */
static int do_ld_imm64(struct bpf_interp *ip, size_t pc,
		       const struct bpf_insn *in)
{
	int d = in->dst_reg, g;
	struct imap *m;
	__u32 zero = 0;

	ip->tag[d] = RG_NONE;
	switch (in->src_reg) {
	case 0:
		ip->r[d] = (uint64_t)(uint32_t)in[0].imm |
			   (uint64_t)(uint32_t)in[1].imm << 32;
		return 0;
	case BPF_PSEUDO_MAP_FD:
		m = bpfi_map_by_fd(ip, in->imm);
		if (!m)
			return bpfi_fail(
			    ip, pc, "ld_imm64 of unknown map fd %d", in->imm);
		ip->r[d] = (uint64_t)(uintptr_t)m;
		return 0;
	case BPF_PSEUDO_MAP_VALUE:
		m = bpfi_map_by_fd(ip, in->imm);
		if (!m || m->info.type != BPF_MAP_TYPE_ARRAY)
			return bpfi_fail(ip, pc, "ld_imm64 value of map fd %d",
					 in->imm);
		g = bpfi_map_value(ip, m, &zero);
		if (g < 0)
			return bpfi_fail(ip, pc, "map %s has no value",
					 m->info.name);
		ip->r[d] = (uint64_t)(uintptr_t)ip->rg[g].base +
			   (uint64_t)(uint32_t)in[1].imm;
		ip->tag[d] = g;
		return 0;
	case BPF_PSEUDO_FUNC: /* a callback: the subprogram at pc + imm + 1 */
		ip->r[d] = IP_FUNC_BASE + (uint64_t)((int64_t)pc + in->imm + 1);
		return 0;
	default:
		return bpfi_fail(ip, pc, "ld_imm64 with src %d not supported",
				 in->src_reg);
	}
}

/* --- the run ------------------------------------------------------- */

struct ret_frame {
	size_t pc;     /* the call instruction */
	uint64_t r[4]; /* r6-r9 */
	int tag[4];
	/* a bpf_loop() callback frame: call cb again until i == n */
	int loop;
	size_t cb;
	uint64_t i, n, ctx;
	int ctx_tag;
};

/*
 * bpf_loop(nr_loops, callback, ctx, flags) at @pc: check it, then (if
 * there is a first iteration) set frame fr up as the callback's caller.
 * 1: the callback runs next (pc in *next); 0: r0 set, go on; -1 error.
 */
static int loop_start(struct bpf_interp *ip, size_t pc, struct ret_frame *fr,
		      size_t *next)
{
	uint64_t cb = ip->r[2] - IP_FUNC_BASE;

	if (ip->tag[2] != RG_NONE || cb >= ip->n || !bpfi_is_func(ip, cb))
		return bpfi_fail(ip, pc, "bpf_loop: r2 is no callback");
	if (ip->r[4] != 0 || ip->r[1] > (1u << 23) || ip->r[1] == 0) {
		/* -EINVAL for flags, -E2BIG for too many loops, 0 for none */
		ip->r[0] = ip->r[4] ? (uint64_t)-EINVAL
				    : ip->r[1] ? (uint64_t)-E2BIG : 0;
		ip->tag[0] = RG_NONE;
		for (int k = 1; k <= 5; k++) {
			ip->r[k] = IP_POISON;
			ip->tag[k] = RG_NONE;
		}
		return 0;
	}
	fr->pc = pc;
	memcpy(fr->r, &ip->r[6], sizeof(fr->r));
	memcpy(fr->tag, &ip->tag[6], sizeof(fr->tag));
	fr->loop = 1;
	fr->cb = (size_t)cb;
	fr->i = 0;
	fr->n = (uint32_t)ip->r[1];
	fr->ctx = ip->r[3];
	fr->ctx_tag = ip->tag[3];
	*next = (size_t)cb;
	return 1;
}

/* Registers of a callback call: r1 = index, r2 = ctx, r3-r5 poison. */
static void loop_args(struct bpf_interp *ip, const struct ret_frame *fr)
{
	ip->r[1] = fr->i;
	ip->tag[1] = RG_NONE;
	ip->r[2] = fr->ctx;
	ip->tag[2] = fr->ctx_tag;
	for (int k = 3; k <= 5; k++) {
		ip->r[k] = IP_POISON;
		ip->tag[k] = RG_NONE;
	}
}

/* A fresh, zeroed stack for frame @depth; r10 points at its top. */
static void frame_enter(struct bpf_interp *ip, int depth)
{
	struct region *s = &ip->rg[RG_STACK0 + depth];

	s->live = 1;
	memset(s->slots, 0, sizeof(s->slots));
	memset(s->base, 0, IP_STACK);
	ip->r[10] = (uint64_t)(uintptr_t)(s->base + IP_STACK);
	ip->tag[10] = RG_STACK0 + depth;
}

static int run(struct bpf_interp *ip, struct bpf_interp_run *out)
{
	struct ret_frame fr[IP_FRAMES];
	int depth = 0, t;
	size_t pc = 0;

	for (size_t i = 0; i < ip->nfuncs; i++)
		ip->funcs[i].insns = 0;
	memset(ip->pc_hits, 0, ip->n * sizeof(*ip->pc_hits));
	out->insns = 0;
	frame_enter(ip, 0);
	for (;;) {
		const struct bpf_insn *in;

		if (pc >= ip->n)
			return bpfi_fail(ip, pc, "fell off the program");
		if (out->insns >= IP_MAX_RUN)
			return bpfi_fail(ip, pc, "more than %llu instructions",
					 IP_MAX_RUN);
		in = &ip->insns[pc];
		out->insns++;
		ip->funcs[ip->func_of[pc]].insns++;
		ip->op_hits[in->code]++;
		ip->pc_hits[pc]++;
		if (in->dst_reg > 10 || in->src_reg > 10)
			return bpfi_fail(ip, pc, "bad register");
		switch (BPF_CLASS(in->code)) {
		case BPF_ALU:
		case BPF_ALU64:
			if (in->dst_reg == 10)
				return bpfi_fail(ip, pc, "write to r10");
			if (do_alu(ip, pc, in))
				return -1;
			pc++;
			continue;
		case BPF_LDX:
			if (in->dst_reg == 10)
				return bpfi_fail(ip, pc, "write to r10");
			if (do_ldx(ip, pc, in))
				return -1;
			pc++;
			continue;
		case BPF_ST:
		case BPF_STX:
			if (do_store(ip, pc, in))
				return -1;
			pc++;
			continue;
		case BPF_LD:
			if (in->code != (BPF_LD | BPF_IMM | BPF_DW) ||
			    pc + 1 >= ip->n)
				return bpfi_fail(ip, pc,
						 "load 0x%02x not supported",
						 in->code);
			if (do_ld_imm64(ip, pc, in))
				return -1;
			pc += 2;
			continue;
		default:
			break;
		}
		/* BPF_JMP, BPF_JMP32 */
		switch (BPF_OP(in->code)) {
		case BPF_JA:
			if (BPF_CLASS(in->code) != BPF_JMP)
				return bpfi_fail(ip, pc, "ja32 (cpu v4)");
			pc += (size_t)(int64_t)in->off + 1;
			continue;
		case BPF_CALL:
			if (BPF_CLASS(in->code) != BPF_JMP)
				break;
			if (in->src_reg == 0 && in->imm == BPF_FUNC_loop) {
				size_t next = 0;

				if (depth + 1 >= IP_FRAMES)
					return bpfi_fail(ip, pc,
							 "calls nested too deep");
				t = loop_start(ip, pc, &fr[depth], &next);
				if (t < 0)
					return -1;
				if (t == 0) {
					pc++;
					continue;
				}
				loop_args(ip, &fr[depth]);
				frame_enter(ip, ++depth);
				pc = next;
				continue;
			}
			if (in->src_reg == 0) {
				if (bpfi_helper(ip, pc, in->imm))
					return -1;
				pc++;
				continue;
			}
			if (in->src_reg != BPF_PSEUDO_CALL)
				return bpfi_fail(ip, pc,
						 "call kind %d not supported",
						 in->src_reg);
			if (depth + 1 >= IP_FRAMES)
				return bpfi_fail(ip, pc,
						 "calls nested too deep");
			fr[depth].pc = pc;
			fr[depth].loop = 0;
			memcpy(fr[depth].r, &ip->r[6], sizeof(fr[depth].r));
			memcpy(fr[depth].tag, &ip->tag[6],
			       sizeof(fr[depth].tag));
			frame_enter(ip, ++depth);
			pc += (size_t)(int64_t)in->imm + 1;
			continue;
		case BPF_EXIT:
			if (BPF_CLASS(in->code) != BPF_JMP)
				break;
			ip->rg[RG_STACK0 + depth].live = 0;
			if (depth == 0) {
				out->ret = (uint32_t)ip->r[0];
				return 0;
			}
			depth--;
			if (fr[depth].loop) {
				/* the callback returned: 1 stops the loop */
				struct ret_frame *l = &fr[depth];

				l->i++;
				if ((uint32_t)ip->r[0] == 0 && l->i < l->n) {
					loop_args(ip, l);
					frame_enter(ip, ++depth);
					pc = l->cb;
					continue;
				}
				if ((uint32_t)ip->r[0] > 1)
					return bpfi_fail(
					    ip, pc,
					    "bpf_loop callback returned %u",
					    (uint32_t)ip->r[0]);
				ip->r[0] = l->i; /* loops performed */
				ip->tag[0] = RG_NONE;
			}
			memcpy(&ip->r[6], fr[depth].r, sizeof(fr[depth].r));
			memcpy(&ip->tag[6], fr[depth].tag,
			       sizeof(fr[depth].tag));
			ip->r[10] =
			    (uint64_t)(uintptr_t)(ip->rg[RG_STACK0 + depth]
						      .base +
						  IP_STACK);
			ip->tag[10] = RG_STACK0 + depth;
			for (int k = 1; k <= 5; k++) {
				ip->r[k] = IP_POISON;
				ip->tag[k] = RG_NONE;
			}
			pc = fr[depth].pc + 1;
			continue;
		default:
			t = jump_taken(ip, in);
			if (t < 0)
				break;
			pc += t ? (size_t)(int64_t)in->off + 1 : 1;
			continue;
		}
		return bpfi_fail(ip, pc, "opcode 0x%02x not supported",
				 in->code);
	}
}

int bpf_interp_run_xdp(struct bpf_interp *ip, const void *frame, size_t len,
		       struct bpf_interp_run *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	ip->err = out->err;
	bpfi_records_free(ip);
	for (int g = RG_DYN; g < (int)ip->nrg; g++)
		if (ip->rg[g].live && ip->rg[g].owned == OWN_RECORD)
			bpfi_region_kill(ip, g); /* reserved, never submitted */
	size_t need = IP_HEADROOM + len + IP_TAILRESV;

	if (need < IP_FRAME)
		need = IP_FRAME;
	if (need > ip->pkt_cap) {
		uint8_t *p = realloc(ip->pkt, need);

		if (!p) {
			snprintf(out->err, sizeof(out->err), "out of memory");
			return -1;
		}
		ip->pkt = p;
		ip->pkt_cap = need;
	}
	memset(ip->pkt, 0, ip->pkt_cap); /* the kernel's buffer is zeroed */
	memcpy(ip->pkt + IP_HEADROOM, frame, len);
	ip->rg[RG_PKT].base = ip->pkt + IP_HEADROOM;
	ip->rg[RG_PKT].size = len;
	memset(ip->r, 0, sizeof(ip->r));
	memset(ip->tag, 0, sizeof(ip->tag));
	ip->r[1] = (uint64_t)(uintptr_t)ip->ctx;
	ip->tag[1] = RG_CTX;
	rc = run(ip, out);
	for (int f = 0; f < IP_FRAMES; f++)
		ip->rg[RG_STACK0 + f].live = 0;
	return rc;
}

/* --- set-up -------------------------------------------------------- */

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* Function starts: 0 and every BPF-to-BPF call target. */
static int find_funcs(struct bpf_interp *ip)
{
	size_t *st = calloc(ip->n + 1, sizeof(*st)), ns = 0, f = 0;

	if (!st)
		return -ENOMEM;
	st[ns++] = 0;
	for (size_t pc = 0; pc < ip->n; pc++) {
		const struct bpf_insn *in = &ip->insns[pc];
		int64_t t = (int64_t)pc + in->imm + 1;

		if (in->code == (BPF_LD | BPF_IMM | BPF_DW)) {
			if (in->src_reg == BPF_PSEUDO_FUNC) {
				if (t < 0 || t >= (int64_t)ip->n) {
					free(st);
					return -EINVAL;
				}
				st[ns++] = (size_t)t;
			}
			pc++;
			continue;
		}
		if (in->code != (BPF_JMP | BPF_CALL) ||
		    in->src_reg != BPF_PSEUDO_CALL)
			continue;
		if (t < 0 || t >= (int64_t)ip->n) {
			free(st);
			return -EINVAL;
		}
		st[ns++] = (size_t)t;
	}
	qsort(st, ns, sizeof(*st), cmp_size);
	ip->funcs = calloc(ns, sizeof(*ip->funcs));
	if (!ip->funcs) {
		free(st);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ns; i++) {
		char name[32];

		if (i && st[i] == st[i - 1])
			continue;
		snprintf(name, sizeof(name), f ? "sub@%zu" : "main", st[i]);
		ip->funcs[f].start = st[i];
		ip->funcs[f].name = strdup(name);
		if (!ip->funcs[f].name) {
			free(st);
			return -ENOMEM;
		}
		f++;
	}
	ip->nfuncs = f;
	for (size_t pc = 0, k = 0; pc < ip->n; pc++) {
		while (k + 1 < f && ip->funcs[k + 1].start <= pc)
			k++;
		ip->func_of[pc] = (uint16_t)k;
	}
	free(st);
	return 0;
}

struct bpf_interp *bpf_interp_new(const struct bpf_insn *insns, size_t n)
{
	struct bpf_interp *ip = calloc(1, sizeof(*ip));
	int err = -ENOMEM;

	if (!ip || !n || n > 65535)
		goto fail;
	ip->n = n;
	ip->insns = malloc(n * sizeof(*insns));
	ip->func_of = calloc(n, sizeof(*ip->func_of));
	ip->pc_hits = calloc(n, sizeof(*ip->pc_hits));
	ip->stacks = calloc(IP_FRAMES, IP_STACK);
	ip->rg = calloc(RG_DYN, sizeof(*ip->rg));
	if (!ip->insns || !ip->func_of || !ip->pc_hits || !ip->stacks ||
	    !ip->rg)
		goto fail;
	memcpy(ip->insns, insns, n * sizeof(*insns));
	ip->nrg = ip->caprg = RG_DYN;
	ip->rg[RG_PKT].live = 1;
	ip->rg[RG_PKT].writable = 1;
	ip->rg[RG_CTX].base = ip->ctx;
	ip->rg[RG_CTX].size = sizeof(ip->ctx);
	ip->rg[RG_CTX].live = 1;
	for (int f = 0; f < IP_FRAMES; f++) {
		ip->rg[RG_STACK0 + f].base = ip->stacks + f * IP_STACK;
		ip->rg[RG_STACK0 + f].size = IP_STACK;
		ip->rg[RG_STACK0 + f].writable = 1;
	}
	ip->ncpus = libbpf_num_possible_cpus();
	if (ip->ncpus < 1) {
		err = ip->ncpus;
		goto fail;
	}
	err = find_funcs(ip);
	for (size_t pc = 0; !err && pc + 1 < n; pc++) {
		const struct bpf_insn *in = &insns[pc];

		if (in->code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		if (in->src_reg == BPF_PSEUDO_MAP_FD ||
		    in->src_reg == BPF_PSEUDO_MAP_VALUE)
			err = bpfi_map_add(ip, in->imm);
		pc++;
	}
	if (err)
		goto fail;
	return ip;
fail:
	bpf_interp_free(ip);
	errno = -err;
	return NULL;
}

void bpf_interp_free(struct bpf_interp *ip)
{
	if (!ip)
		return;
	bpf_interp_maps_reset(ip);
	bpfi_records_free(ip);
	for (size_t g = RG_DYN; g < ip->nrg; g++)
		if (ip->rg[g].live)
			bpfi_region_kill(ip, (int)g);
	for (size_t i = 0; i < ip->nmaps; i++)
		free(ip->maps[i].ent);
	for (size_t i = 0; ip->funcs && i < ip->nfuncs; i++)
		free((void *)ip->funcs[i].name);
	free(ip->funcs);
	free(ip->maps);
	free(ip->recs);
	free(ip->rg);
	free(ip->pkt);
	free(ip->stacks);
	free(ip->func_of);
	free(ip->pc_hits);
	free(ip->insns);
	free(ip);
}

int bpfi_is_func(const struct bpf_interp *ip, size_t pc)
{
	for (size_t i = 0; i < ip->nfuncs; i++)
		if (ip->funcs[i].start == pc)
			return 1;
	return 0;
}

size_t bpf_interp_nfuncs(const struct bpf_interp *ip)
{
	return ip->nfuncs;
}

const struct bpf_interp_func *bpf_interp_func(const struct bpf_interp *ip,
					      size_t i)
{
	return i < ip->nfuncs ? &ip->funcs[i] : NULL;
}

int bpf_interp_name_func(struct bpf_interp *ip, size_t i, const char *name)
{
	char *s;

	if (i >= ip->nfuncs)
		return -EINVAL;
	s = strdup(name);
	if (!s)
		return -ENOMEM;
	free((void *)ip->funcs[i].name);
	ip->funcs[i].name = s;
	return 0;
}

int bpf_interp_set_cpu(struct bpf_interp *ip, int cpu)
{
	if (cpu < 0 || cpu >= ip->ncpus)
		return -EINVAL;
	ip->cpu = cpu;
	return 0;
}

void bpf_interp_set_clock(struct bpf_interp *ip, uint64_t ns)
{
	ip->clock_ns = ns;
}

const uint8_t *bpf_interp_packet(const struct bpf_interp *ip, size_t *len)
{
	*len = ip->rg[RG_PKT].size;
	return ip->rg[RG_PKT].base;
}

uint64_t bpf_interp_pc_hits(const struct bpf_interp *ip, size_t pc)
{
	return pc < ip->n ? ip->pc_hits[pc] : 0;
}

size_t bpf_interp_ninsns(const struct bpf_interp *ip)
{
	return ip->n;
}

const struct bpf_insn *bpf_interp_insns(const struct bpf_interp *ip)
{
	return ip->insns;
}

uint64_t bpf_interp_op_hits(const struct bpf_interp *ip, uint8_t code)
{
	return ip->op_hits[code];
}
