// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_interp_isa.c - the interpreter (tools/bench/bpf_interp.c) against
 * the kernel, one instruction at a time.
 *
 * test_xdp_interp runs the real program, which uses the instructions
 * clang happened to emit for it; a kernel-parser change may bring ones
 * it never ran.  Here every ALU and ALU64 operation (register and
 * several immediates), every byte swap, every JMP and JMP32 condition
 * (register and immediates), every atomic operation of 4 and 8 bytes,
 * and loads and stores of 1, 2, 4 and 8 bytes get a tiny XDP program of
 * their own, assembled here: it reads its operands from the frame,
 * runs the one instruction, writes the results back into the frame.
 * Each program runs on edge-case and random operands through
 * BPF_PROG_TEST_RUN (the JIT, as in production) and the interpreter;
 * verdict and the frame afterwards must be identical.
 * And what the verifier would refuse (out-of-region accesses, a made-up
 * pointer, an unknown helper, v4 instructions, an endless loop) the
 * interpreter must refuse with a message.  Needs root; without it one
 * TAP skip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_interp.h"

#include "lib/tap.h"

#define FRAME	 64 /* operands at 0, 8, 24; results at 16..47 */
#define OPERANDS 48 /* operand sets per program */

static struct bpf_insn I(uint8_t code, uint8_t dst, uint8_t src, int16_t off,
			 int32_t imm) {
	struct bpf_insn in = {.code = code,
			      .dst_reg = dst,
			      .src_reg = src,
			      .off = off,
			      .imm = imm};
	return in;
}

/* --- program assembly ----------------------------------------------------- */

struct prog {
	struct bpf_insn in[40];
	size_t n;
};

static void emit(struct prog *p, struct bpf_insn in)
{
	p->in[p->n++] = in;
}

/*
 * r6 = data, bounds check of FRAME bytes (else XDP_DROP), r1 = u64 at 0,
 * r2 = u64 at 8, r0 = u64 at 24: the operands.
 */
static void prologue(struct prog *p)
{
	p->n = 0;
	emit(p, I(BPF_LDX | BPF_MEM | BPF_W, 6, 1, 0, 0));
	emit(p, I(BPF_LDX | BPF_MEM | BPF_W, 7, 1, 4, 0));
	emit(p, I(BPF_ALU64 | BPF_MOV | BPF_X, 2, 6, 0, 0));
	emit(p, I(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, FRAME));
	/* patched by epilogue(): to the XDP_DROP exit */
	emit(p, I(BPF_JMP | BPF_JGT | BPF_X, 2, 7, 0, 0));
	emit(p, I(BPF_LDX | BPF_MEM | BPF_DW, 1, 6, 0, 0));
	emit(p, I(BPF_LDX | BPF_MEM | BPF_DW, 2, 6, 8, 0));
	emit(p, I(BPF_LDX | BPF_MEM | BPF_DW, 0, 6, 24, 0));
}

/* r1 to 16, r2 to 24, r0 to 32; return XDP_PASS; the DROP exit. */
static void epilogue(struct prog *p)
{
	emit(p, I(BPF_STX | BPF_MEM | BPF_DW, 6, 1, 16, 0));
	emit(p, I(BPF_STX | BPF_MEM | BPF_DW, 6, 2, 24, 0));
	emit(p, I(BPF_STX | BPF_MEM | BPF_DW, 6, 0, 32, 0));
	emit(p, I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, XDP_PASS));
	emit(p, I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	p->in[4].off = (int16_t)(p->n - 5);
	emit(p, I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, XDP_DROP));
	emit(p, I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
}

/* --- operands ------------------------------------------------------ */

static uint64_t g_rng = 0x2545f4914f6cdd1dULL;

static uint64_t rnd64(void)
{
	g_rng ^= g_rng << 13;
	g_rng ^= g_rng >> 7;
	g_rng ^= g_rng << 17;
	return g_rng;
}

static const uint64_t g_edges[] = {
    0,
    1,
    2,
    7,
    31,
    32,
    33,
    63,
    64,
    65,
    0x7f,
    0x80,
    0xff,
    0x7fff,
    0x8000,
    0xffff,
    0x7fffffff,
    0x80000000,
    0xffffffff,
    0x100000000ULL,
    0x7fffffffffffffffULL,
    0x8000000000000000ULL,
    ~0ULL,
    ~0ULL - 1,
    (uint64_t)-7,
    (uint64_t)-31,
    0xffffffff00000000ULL,
    0x00000001ffffffffULL,
};

static uint64_t operand(void)
{
	uint64_t r = rnd64();

	switch (r % 4) {
	case 0:
		return g_edges[(r >> 8) %
			       (sizeof(g_edges) / sizeof(g_edges[0]))];
	case 1:
		return (r >> 8) & 0xff; /* small, also a shift */
	case 2:
		return (uint32_t)rnd64();
	default:
		return rnd64();
	}
}

/* --- one program through both -------------------------------------- */

static unsigned g_progs, g_runs, g_refused;

/*
 * Load @p; run it on OPERANDS operand sets in the kernel and the
 * interpreter.  0 if they agree on all (or the verifier refused the
 * program: counted), else -1 with a diagnostic.
 */
static int both(const struct prog *p, const char *what)
{
	static char log[65536];
	LIBBPF_OPTS(bpf_prog_load_opts, lo, .log_buf = log,
		    .log_size = sizeof(log), .log_level = 1);
	struct bpf_interp *ip = NULL;
	int fd, rc = -1;

	log[0] = 0;
	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "isa", "GPL", p->in, p->n, &lo);
	if (fd < 0) {
		g_refused++;
		if (getenv("ISA_LOG"))
			tap_diag("%s refused: %s", what, log);
		return 0; /* not a program the verifier passes */
	}
	ip = bpf_interp_new(p->in, p->n);
	if (!ip) {
		tap_diag("%s: no interpreter", what);
		goto out;
	}
	g_progs++;
	for (int k = 0; k < OPERANDS; k++) {
		uint8_t in[FRAME], kout[FRAME];
		struct bpf_interp_run r;
		const uint8_t *iout;
		uint64_t a = operand(), b = operand(), c = operand();
		size_t ilen;
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = in,
			    .data_size_in = FRAME, .data_out = kout,
			    .data_size_out = FRAME, .repeat = 1);

		if (k % 3 == 0)
			c = a; /* cmpxchg: the expected value, sometimes */
		memset(in, 0xa5, sizeof(in));
		memcpy(in, &a, 8);
		memcpy(in + 8, &b, 8);
		memcpy(in + 24, &c, 8);
		if (bpf_prog_test_run_opts(fd, &t)) {
			tap_diag("%s: test run: %s", what, strerror(errno));
			goto out;
		}
		if (bpf_interp_run_xdp(ip, in, FRAME, &r)) {
			tap_diag("%s: interpreter: %s", what, r.err);
			goto out;
		}
		g_runs++;
		iout = bpf_interp_packet(ip, &ilen);
		if (r.ret != t.retval || ilen != FRAME ||
		    memcmp(iout, kout, FRAME)) {
			uint64_t kr[3], ir[3];

			memcpy(kr, kout + 16, sizeof(kr));
			memcpy(ir, iout + 16, sizeof(ir));
			tap_diag("%s: a=0x%llx b=0x%llx c=0x%llx: kernel %u "
				 "r1=0x%llx r2=0x%llx r0=0x%llx, interpreter "
				 "%u r1=0x%llx r2=0x%llx r0=0x%llx",
				 what, (unsigned long long)a,
				 (unsigned long long)b, (unsigned long long)c,
				 t.retval, (unsigned long long)kr[0],
				 (unsigned long long)kr[1],
				 (unsigned long long)kr[2], r.ret,
				 (unsigned long long)ir[0],
				 (unsigned long long)ir[1],
				 (unsigned long long)ir[2]);
			goto out;
		}
	}
	rc = 0;
out:
	bpf_interp_free(ip);
	close(fd);
	return rc;
}

/* Immediates for the K forms; the verifier refuses some per op. */
static const int32_t g_imms[] = {
    0, 1, -1, 5, 31, 32, 63, 0x7fffffff, (int32_t)0x80000000, -12345};
#define NIMM (sizeof(g_imms) / sizeof(g_imms[0]))

static void test_alu(void **state)
{
	static const uint8_t ops[] = {
	    BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR,	 BPF_AND, BPF_LSH,
	    BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH};
	unsigned bad = 0;

	for (int cls = 0; cls < 2; cls++)
		for (size_t o = 0; o < sizeof(ops); o++)
			for (size_t v = 0; v <= NIMM; v++) {
				uint8_t c =
				    (cls ? BPF_ALU64 : BPF_ALU) | ops[o];
				struct prog p;
				char what[64];

				if (ops[o] == BPF_NEG && v)
					continue;
				prologue(&p);
				if (v == 0)
					emit(&p,
					     I(c | (ops[o] == BPF_NEG ? BPF_K
								      : BPF_X),
					       1, 2, 0, 0));
				else
					emit(&p, I(c | BPF_K, 1, 0, 0,
						   g_imms[v - 1]));
				epilogue(&p);
				snprintf(what, sizeof(what),
					 "alu 0x%02x imm %d", c,
					 v ? g_imms[v - 1] : 0);
				if (both(&p, what))
					bad++;
			}
	assert_int_equal(bad, 0);
}

static void test_byte_swaps(void **state)
{
	unsigned bad = 0;

	for (int be = 0; be < 2; be++)
		for (int bits = 16; bits <= 64; bits *= 2) {
			struct prog p;
			char what[64];

			prologue(&p);
			emit(&p, I(BPF_ALU | BPF_END | (be ? BPF_X : BPF_K), 1,
				   0, 0, bits));
			epilogue(&p);
			snprintf(what, sizeof(what), "%s%d", be ? "be" : "le",
				 bits);
			if (both(&p, what))
				bad++;
		}
	assert_int_equal(bad, 0);
}

static void test_jumps(void **state)
{
	static const uint8_t ops[] = {BPF_JEQ, BPF_JGT,	 BPF_JGE,  BPF_JSET,
				      BPF_JNE, BPF_JSGT, BPF_JSGE, BPF_JLT,
				      BPF_JLE, BPF_JSLT, BPF_JSLE};
	unsigned bad = 0;

	for (int cls = 0; cls < 2; cls++)
		for (size_t o = 0; o < sizeof(ops); o++)
			for (size_t v = 0; v <= NIMM; v++) {
				uint8_t c =
				    (cls ? BPF_JMP32 : BPF_JMP) | ops[o];
				struct prog p;
				char what[64];

				prologue(&p);
				/* r3 = 1; if cond skip; r3 = 0; r1 = r3 */
				emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0,
					   1));
				if (v == 0)
					emit(&p, I(c | BPF_X, 1, 2, 1, 0));
				else
					emit(&p, I(c | BPF_K, 1, 0, 1,
						   g_imms[v - 1]));
				emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0,
					   0));
				emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_X, 1, 3, 0,
					   0));
				epilogue(&p);
				snprintf(what, sizeof(what),
					 "jmp 0x%02x imm %d", c,
					 v ? g_imms[v - 1] : 0);
				if (both(&p, what))
					bad++;
			}
	assert_int_equal(bad, 0);
}

static void test_atomics(void **state)
{
	static const int32_t ops[] = {
	    BPF_ADD,
	    BPF_OR,
	    BPF_AND,
	    BPF_XOR,
	    BPF_ADD | BPF_FETCH,
	    BPF_OR | BPF_FETCH,
	    BPF_AND | BPF_FETCH,
	    BPF_XOR | BPF_FETCH,
	    BPF_XCHG,
	    BPF_CMPXCHG,
	};
	unsigned bad = 0;

	for (int dw = 0; dw < 2; dw++)
		for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
			uint8_t sz = dw ? BPF_DW : BPF_W;
			struct prog p;
			char what[64];

			prologue(&p);
			/* the value at fp-8, the operation, read it back */
			emit(&p, I(BPF_STX | BPF_MEM | BPF_DW, 10, 1, -8, 0));
			emit(&p,
			     I(BPF_STX | BPF_ATOMIC | sz, 10, 2, -8, ops[o]));
			emit(&p, I(BPF_LDX | BPF_MEM | BPF_DW, 1, 10, -8, 0));
			epilogue(&p);
			snprintf(what, sizeof(what), "atomic %s 0x%x",
				 dw ? "dw" : "w", ops[o]);
			if (both(&p, what))
				bad++;
		}
	assert_int_equal(bad, 0);
}

/* Loads and stores of every size, at odd offsets, register and imm. */
static void test_memory(void **state)
{
	static const uint8_t sizes[] = {BPF_B, BPF_H, BPF_W, BPF_DW};
	static const int16_t bytes[] = {1, 2, 4, 8};
	unsigned bad = 0;

	for (size_t s = 0; s < sizeof(sizes); s++)
		for (int16_t off = 0; off < 8; off += 3) {
			/* stack accesses must be aligned; packet ones need not
			 */
			int16_t soff =
			    (int16_t)(-16 + (bytes[s] < 8 ? bytes[s] : 0));
			struct prog p;
			char what[64];

			prologue(&p);
			emit(&p, I(BPF_LDX | BPF_MEM | sizes[s], 3, 6, off, 0));
			emit(&p, I(BPF_STX | BPF_MEM | sizes[s], 6, 3,
				   (int16_t)(40 + off), 0));
			emit(&p, I(BPF_ST | BPF_MEM | sizes[s], 6, 0,
				   (int16_t)(48 + off), -2));
			/* through the stack: spill, fill, narrower */
			emit(&p, I(BPF_STX | BPF_MEM | BPF_DW, 10, 2, -16, 0));
			emit(&p,
			     I(BPF_LDX | BPF_MEM | sizes[s], 2, 10, soff, 0));
			emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_X, 1, 3, 0, 0));
			epilogue(&p);
			snprintf(what, sizeof(what), "mem size 0x%02x off %d",
				 sizes[s], off);
			if (both(&p, what))
				bad++;
		}
	assert_int_equal(bad, 0);
}

/*
 * The kernel relay's helpers, each in a program of its own, against the
 * kernel: bpf_csum_diff on frame words and a seed, bpf_xdp_load_bytes /
 * bpf_xdp_store_bytes at offsets in and past the frame (their return
 * codes too), bpf_loop with a callback that stops early or not.
 */
static void helper_call(struct prog *p, int32_t id)
{
	emit(p, I(BPF_JMP | BPF_CALL, 0, 0, 0, id));
	/* r1-r5 are undefined after a call: the epilogue stores r1, r2 */
	emit(p, I(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 0));
	emit(p, I(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, 0));
}

static void test_helpers(void **state)
{
	unsigned bad = 0, progs = g_progs;
	struct prog p;

	/* csum_diff(from = frame[0..from), to = frame[8..8+to), seed) */
	for (int from = 0; from <= 8; from += 4)
		for (int to = 0; to <= 16; to += 4) {
			char what[64];

			prologue(&p);
			emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_X, 5, 0, 0, 0));
			emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0));
			emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, from));
			emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_X, 3, 6, 0, 0));
			emit(&p, I(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, 8));
			emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, to));
			helper_call(&p, BPF_FUNC_csum_diff);
			epilogue(&p);
			snprintf(what, sizeof(what), "csum_diff %d -> %d", from,
				 to);
			if (both(&p, what))
				bad++;
		}
	/* xdp_load_bytes / xdp_store_bytes at offset a & 0x7f, 8 bytes */
	for (int store = 0; store <= 1; store++) {
		prologue(&p);
		emit(&p, I(BPF_STX | BPF_MEM | BPF_DW, 10, 2, -8, 0));
		emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_X, 2, 1, 0, 0));
		emit(&p, I(BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 0x7f));
		emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_X, 1, 8, 0, 0));
		emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_X, 3, 10, 0, 0));
		emit(&p, I(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, -8));
		emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 8));
		helper_call(&p, store ? BPF_FUNC_xdp_store_bytes
				      : BPF_FUNC_xdp_load_bytes);
		emit(&p, I(BPF_LDX | BPF_MEM | BPF_DW, 1, 10, -8, 0));
		epilogue(&p);
		/* the ctx, kept in r8 from the start */
		memmove(&p.in[1], &p.in[0], (p.n) * sizeof(p.in[0]));
		p.in[0] = I(BPF_ALU64 | BPF_MOV | BPF_X, 8, 1, 0, 0);
		p.n++;
		p.in[5].off = (int16_t)(p.n - 2 - 6);
		if (both(&p, store ? "xdp_store_bytes" : "xdp_load_bytes"))
			bad++;
	}
	/*
	 * bpf_loop(a & 15, cb, fp-16, 0); cb adds its index to fp-8 and
	 * stops (returns 1) at index b & 15.  r0: loops done, r1: the sum.
	 */
	prologue(&p);
	emit(&p, I(BPF_ST | BPF_MEM | BPF_DW, 10, 0, -8, 0));
	emit(&p, I(BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 15));
	emit(&p, I(BPF_STX | BPF_MEM | BPF_DW, 10, 2, -16, 0));
	emit(&p, I(BPF_ALU64 | BPF_AND | BPF_K, 1, 0, 0, 15));
	emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_X, 3, 10, 0, 0));
	emit(&p, I(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, -16));
	{
		size_t ld = p.n;

		emit(&p, I(BPF_LD | BPF_IMM | BPF_DW, 2, BPF_PSEUDO_FUNC, 0,
			   0));
		emit(&p, I(0, 0, 0, 0, 0));
		emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 0));
		helper_call(&p, BPF_FUNC_loop);
		emit(&p, I(BPF_LDX | BPF_MEM | BPF_DW, 1, 10, -8, 0));
		epilogue(&p);
		p.in[ld].imm = (int32_t)(p.n - ld - 1);
	}
	emit(&p, I(BPF_LDX | BPF_MEM | BPF_DW, 3, 2, 0, 0));
	emit(&p, I(BPF_LDX | BPF_MEM | BPF_DW, 4, 2, 8, 0));
	emit(&p, I(BPF_ALU64 | BPF_ADD | BPF_X, 4, 1, 0, 0));
	emit(&p, I(BPF_STX | BPF_MEM | BPF_DW, 2, 4, 8, 0));
	emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0));
	emit(&p, I(BPF_JMP | BPF_JNE | BPF_X, 1, 3, 1, 0));
	emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1));
	emit(&p, I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	/*
	 * The kernel wants BTF func_info for a callback, which this test
	 * does not assemble: bpf_loop against the kernel is in
	 * test_xdp_interp (the relay's header walk); here its arithmetic.
	 */
	{
		struct bpf_interp *ip = bpf_interp_new(p.in, p.n);

		assert_non_null(ip);
		for (uint64_t n = 0; n < 16; n++)
			for (uint64_t stop = 0; stop < 16; stop += 5) {
				uint8_t fr[FRAME] = {0};
				uint64_t loops = stop < n ? stop + 1 : n;
				uint64_t sum = loops * (loops - 1) / 2, o[3];
				struct bpf_interp_run r;
				size_t len;
				const uint8_t *out;

				memcpy(fr, &n, 8);
				memcpy(fr + 8, &stop, 8);
				assert_int_equal(
				    bpf_interp_run_xdp(ip, fr, FRAME, &r), 0);
				out = bpf_interp_packet(ip, &len);
				memcpy(o, out + 16, sizeof(o));
				assert_int_equal(r.ret, XDP_PASS);
				assert_int_equal(o[2], loops);
				assert_int_equal(o[0], loops ? sum : 0);
			}
		bpf_interp_free(ip);
	}
	assert_int_equal(bad, 0);
	/* the verifier took every one of them */
	assert_int_equal(g_progs - progs, 3 * 5 + 2);
}

/*
 * bpf_xdp_adjust_head / bpf_xdp_adjust_tail(ctx, delta) on a 64-byte
 * frame, delta in and past the kernel's limits (test_run's 256 bytes of
 * headroom, a 4096-byte frame less skb_shared_info): the verdict says
 * whether it worked; the frame afterwards (its length and bytes, grown
 * ones zeroed) must be the kernel's.
 */
static void test_adjust(void **state)
{
	static const int32_t tail[] = {-64, -51, -50, -1, 0, 1, 100,
				       3000, 3455, 3456, 3457, 4000};
	static const int32_t head[] = {-300, -217, -216, -215, -1, 0,
				       1, 49, 50, 51};
	unsigned bad = 0, worked = 0;

	for (int h = 0; h <= 1; h++) {
		const int32_t *d = h ? head : tail;
		size_t nd = h ? sizeof(head) / sizeof(head[0])
			      : sizeof(tail) / sizeof(tail[0]);

		for (size_t i = 0; i < nd; i++) {
			static uint8_t kout[4096];
			uint8_t in[FRAME];
			struct bpf_interp_run r;
			struct bpf_interp *ip;
			const uint8_t *iout;
			struct prog p = {.n = 0};
			size_t ilen;
			int fd;
			LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = in,
				    .data_size_in = FRAME, .data_out = kout,
				    .data_size_out = sizeof(kout),
				    .repeat = 1);

			emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, d[i]));
			emit(&p, I(BPF_JMP | BPF_CALL, 0, 0, 0,
				   h ? BPF_FUNC_xdp_adjust_head
				     : BPF_FUNC_xdp_adjust_tail));
			emit(&p, I(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2, 0));
			emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0,
				   XDP_DROP));
			emit(&p, I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
			emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0,
				   XDP_PASS));
			emit(&p, I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
			for (size_t k = 0; k < FRAME; k++)
				in[k] = (uint8_t)(k * 7 + 1);
			fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "adj", "GPL",
					   p.in, p.n, NULL);
			assert_true(fd >= 0);
			ip = bpf_interp_new(p.in, p.n);
			assert_non_null(ip);
			assert_int_equal(bpf_prog_test_run_opts(fd, &t), 0);
			assert_int_equal(bpf_interp_run_xdp(ip, in, FRAME, &r),
					 0);
			iout = bpf_interp_packet(ip, &ilen);
			if (r.ret != t.retval || ilen != t.data_size_out ||
			    memcmp(iout, kout, ilen)) {
				tap_diag("adjust_%s(%d): kernel %u, %u bytes; "
					 "interpreter %u, %zu bytes",
					 h ? "head" : "tail", d[i], t.retval,
					 t.data_size_out, r.ret, ilen);
				bad++;
			}
			worked += t.retval == XDP_PASS;
			bpf_interp_free(ip);
			close(fd);
		}
	}
	tap_diag("adjust: %u of 22 deltas taken by the kernel", worked);
	/* both sides of each limit were tried */
	assert_true(worked > 2 && worked < 20);
	assert_int_equal(bad, 0);
}

/*
 * What the verifier would refuse, the interpreter must refuse at run
 * time with a message, not run on: each program here is wrong in one way.
 */
static void expect_error(const struct prog *p, const char *needle)
{
	struct bpf_interp *ip = bpf_interp_new(p->in, p->n);
	uint8_t frame[FRAME] = {0};
	struct bpf_interp_run r;

	assert_non_null(ip);
	assert_int_equal(bpf_interp_run_xdp(ip, frame, sizeof(frame), &r), -1);
	if (!strstr(r.err, needle))
		tap_diag("error \"%s\" does not say \"%s\"", r.err, needle);
	assert_non_null(strstr(r.err, needle));
	bpf_interp_free(ip);
}

static void test_errors(void **state)
{
	struct prog p;

	/* a load one byte past the frame (the bounds check passed 64) */
	prologue(&p);
	emit(&p, I(BPF_LDX | BPF_MEM | BPF_B, 3, 6, FRAME, 0));
	epilogue(&p);
	expect_error(&p, "outside its region");
	/* a store below the stack frame */
	prologue(&p);
	emit(&p, I(BPF_ST | BPF_MEM | BPF_DW, 10, 0, -520, 1));
	epilogue(&p);
	expect_error(&p, "outside its region");
	/* a pointer made up from a number */
	prologue(&p);
	emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 0x1000));
	emit(&p, I(BPF_LDX | BPF_MEM | BPF_DW, 3, 3, 0, 0));
	epilogue(&p);
	expect_error(&p, "no region");
	/* a store into the context */
	p.n = 0;
	emit(&p, I(BPF_ST | BPF_MEM | BPF_W, 1, 0, 0, 0));
	emit(&p, I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, XDP_PASS));
	emit(&p, I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	expect_error(&p, "read-only");
	/* a helper the interpreter does not know (bpf_get_prandom_u32) */
	p.n = 0;
	emit(&p, I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_prandom_u32));
	emit(&p, I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	expect_error(&p, "unknown helper 7");
	/* v4 instructions: signed division, sign-extending move */
	prologue(&p);
	emit(&p, I(BPF_ALU64 | BPF_DIV | BPF_X, 1, 2, 1, 0));
	epilogue(&p);
	expect_error(&p, "cpu v4");
	/* a loop without end */
	p.n = 0;
	emit(&p, I(BPF_JMP | BPF_JA, 0, 0, -1, 0));
	expect_error(&p, "more than");
}

static void test_summary(void **state)
{
	tap_diag("%u programs, %u runs through both; %u programs the "
		 "verifier refused (immediate out of range for the op)",
		 g_progs, g_runs, g_refused);
	assert_true(g_progs > 250);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alu),	    cmocka_unit_test(test_byte_swaps),
	    cmocka_unit_test(test_jumps),   cmocka_unit_test(test_atomics),
	    cmocka_unit_test(test_memory),  cmocka_unit_test(test_helpers),
	    cmocka_unit_test(test_adjust),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_summary),
	};

	if (geteuid() != 0) {
		printf("1..1\nok 1 - test_interp_isa # SKIP needs root\n");
		return 0;
	}
	libbpf_set_print(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
