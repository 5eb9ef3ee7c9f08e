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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_interp.h"

#define IP_STACK 512		/* bytes per frame, as in the kernel */
#define IP_FRAMES 8		/* MAX_CALL_FRAMES */
#define IP_SLOTS (IP_STACK / 8)
#define IP_REDZONE 64		/* bytes around the packet copy */
#define IP_MAX_RUN 10000000ULL	/* executed instructions before giving up */
#define IP_POISON 0x5a5a5a5a5a5a5a5aULL	/* r1-r5 after a helper call */

/* Fixed region slots; map values and ring buffer records follow. */
enum {
	RG_NONE = 0,		/* tag 0: not a pointer we know */
	RG_PKT = 1,
	RG_CTX = 2,
	RG_STACK0 = 3,		/* RG_STACK0 + frame */
	RG_DYN = RG_STACK0 + IP_FRAMES,
};

struct region {
	uint8_t *base;
	size_t size;
	int live;
	int writable;
	int owned;		/* base is ours to free */
	int slots[IP_SLOTS];	/* stack only: tag of each 8-byte slot */
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
	uint16_t *func_of;	/* function index of every instruction */
	struct bpf_interp_func *funcs;
	size_t nfuncs;
	struct imap *maps;
	size_t nmaps;
	struct region *rg;
	size_t nrg, caprg;
	uint8_t *pkt;		/* packet copy with red zones */
	size_t pkt_cap;
	uint8_t ctx[24];	/* struct xdp_md, read through xdp_ctx_load() */
	uint8_t *stacks;	/* IP_FRAMES * IP_STACK */
	uint64_t clock_ns;
	uint64_t op_hits[256];	/* executions per opcode, every run */
	int ncpus;
	struct bpf_interp_record *recs;
	size_t nrecs, caprecs;
	/* one run's state */
	uint64_t r[11];
	int tag[11];
	char *err;
};

/* --- regions ---------------------------------------------------------- */

/* A new region slot (reusing a dead one): its index, or -1. */
static int region_add(struct bpf_interp *ip, uint8_t *base, size_t size,
		      int writable, int owned)
{
	size_t i;

	for (i = RG_DYN; i < ip->nrg; i++)
		if (!ip->rg[i].live)
			break;
	if (i == ip->nrg) {
		if (ip->nrg == ip->caprg) {
			size_t cap = ip->caprg ? ip->caprg * 2 : 32;
			struct region *n = realloc(ip->rg, cap * sizeof(*n));

			if (!n)
				return -1;
			ip->rg = n;
			ip->caprg = cap;
		}
		ip->nrg++;
	}
	memset(&ip->rg[i], 0, sizeof(ip->rg[i]));
	ip->rg[i].base = base;
	ip->rg[i].size = size;
	ip->rg[i].live = 1;
	ip->rg[i].writable = writable;
	ip->rg[i].owned = owned;
	return (int)i;
}

static void region_kill(struct bpf_interp *ip, int i)
{
	if (ip->rg[i].owned)
		free(ip->rg[i].base);
	ip->rg[i].base = NULL;
	ip->rg[i].live = 0;
}

/* The live region holding [a, a + size), or -1. */
static int region_find(const struct bpf_interp *ip, uint64_t a, size_t size)
{
	for (size_t i = 1; i < ip->nrg; i++) {
		const struct region *g = &ip->rg[i];
		uint64_t b = (uint64_t)(uintptr_t)g->base;

		if (g->live && a >= b && a - b <= g->size &&
		    size <= g->size - (a - b))
			return (int)i;
	}
	return -1;
}

static int fail(struct bpf_interp *ip, size_t pc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct bpf_interp *ip, size_t pc, const char *fmt, ...)
{
	va_list ap;
	int k;

	k = snprintf(ip->err, 200, "insn %zu: ", pc);
	va_start(ap, fmt);
	vsnprintf(ip->err + k, (size_t)(200 - k), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * The host address of @size bytes at @a, reached through a register
 * tagged @tag: checked against that region (or any, if untagged).  The
 * region index in *rgi.  NULL after fail().
 */
static uint8_t *mem_at(struct bpf_interp *ip, size_t pc, uint64_t a,
		       int tag, size_t size, int write, int *rgi)
{
	int i = tag;

	if (tag) {
		const struct region *g = &ip->rg[tag];
		uint64_t b = (uint64_t)(uintptr_t)g->base;

		if (!g->live || a < b || a - b > g->size ||
		    size > g->size - (a - b)) {
			fail(ip, pc, "%s of %zu bytes at %+lld outside its "
			     "region (%zu bytes%s)", write ? "store" : "load",
			     size, (long long)(a - b), g->size,
			     g->live ? "" : ", gone");
			return NULL;
		}
	} else {
		i = region_find(ip, a, size);
		if (i < 0) {
			fail(ip, pc, "%s of %zu bytes at 0x%llx: no region",
			     write ? "store" : "load", size,
			     (unsigned long long)a);
			return NULL;
		}
	}
	if (write && !ip->rg[i].writable) {
		fail(ip, pc, "store into a read-only region");
		return NULL;
	}
	*rgi = i;
	return (uint8_t *)(uintptr_t)a;
}

/* --- maps --------------------------------------------------------------- */

static struct imap *map_by_fd(struct bpf_interp *ip, int fd)
{
	for (size_t i = 0; i < ip->nmaps; i++)
		if (ip->maps[i].fd == fd)
			return &ip->maps[i];
	return NULL;
}

/* The map whose handle (what ld_imm64 put in a register) is @v. */
static struct imap *map_by_handle(struct bpf_interp *ip, uint64_t v)
{
	for (size_t i = 0; i < ip->nmaps; i++)
		if ((uint64_t)(uintptr_t)&ip->maps[i] == v)
			return &ip->maps[i];
	return NULL;
}

static int map_add(struct bpf_interp *ip, int fd)
{
	struct imap *m;
	__u32 len = sizeof(m->info);

	if (map_by_fd(ip, fd))
		return 0;
	m = realloc(ip->maps, (ip->nmaps + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	ip->maps = m;
	m = &ip->maps[ip->nmaps];
	memset(m, 0, sizeof(*m));
	m->fd = fd;
	if (bpf_obj_get_info_by_fd(fd, &m->info, &len))
		return -errno;
	ip->nmaps++;
	return 0;
}

static int is_percpu(const struct imap *m)
{
	return m->info.type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       m->info.type == BPF_MAP_TYPE_PERCPU_HASH ||
	       m->info.type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/*
 * The region of our copy of @m's value under @key: read from the kernel
 * on first use (CPU 0's for a per-CPU map).  -1: no such key; -2: out of
 * memory or an error reading the map.
 */
static int map_value(struct bpf_interp *ip, struct imap *m, const void *key)
{
	size_t ks = m->info.key_size, vs = m->info.value_size, all = vs;
	struct centry *e;
	uint8_t *buf;
	int r;

	for (size_t i = 0; i < m->nent; i++)
		if (!memcmp(m->ent[i].key, key, ks))
			return m->ent[i].region;
	if (m->nent == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;

		e = realloc(m->ent, cap * sizeof(*e));
		if (!e)
			return -2;
		m->ent = e;
		m->cap = cap;
	}
	if (is_percpu(m))
		all = ((vs + 7) & ~(size_t)7) * (size_t)ip->ncpus;
	buf = calloc(1, all);
	e = &m->ent[m->nent];
	e->key = malloc(ks ? ks : 1);
	if (!buf || !e->key) {
		free(buf);
		free(e->key);
		return -2;
	}
	memcpy(e->key, key, ks);
	if (bpf_map_lookup_elem(m->fd, key, buf)) {
		free(buf);
		if (errno != ENOENT) {
			free(e->key);
			return -2;
		}
		e->region = -1;
	} else {
		r = region_add(ip, buf, vs, !(m->info.map_flags &
					      BPF_F_RDONLY_PROG), 1);
		if (r < 0) {
			free(buf);
			free(e->key);
			return -2;
		}
		e->region = r;
	}
	m->nent++;
	return e->region;
}

const void *bpf_interp_map_peek(const struct bpf_interp *ip, int map_fd,
				const void *key)
{
	for (size_t i = 0; i < ip->nmaps; i++) {
		const struct imap *m = &ip->maps[i];

		if (m->fd != map_fd)
			continue;
		for (size_t k = 0; k < m->nent; k++)
			if (!memcmp(m->ent[k].key, key, m->info.key_size))
				return m->ent[k].region < 0 ? NULL :
				       ip->rg[m->ent[k].region].base;
	}
	return NULL;
}

void bpf_interp_maps_reset(struct bpf_interp *ip)
{
	for (size_t i = 0; i < ip->nmaps; i++) {
		struct imap *m = &ip->maps[i];

		for (size_t k = 0; k < m->nent; k++) {
			if (m->ent[k].region >= 0)
				region_kill(ip, m->ent[k].region);
			free(m->ent[k].key);
		}
		m->nent = 0;
	}
}

/* --- helpers -------------------------------------------------------------- */

static uint64_t now_ns(const struct bpf_interp *ip, clockid_t clk)
{
	struct timespec ts;

	if (ip->clock_ns)
		return ip->clock_ns;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int records_free(struct bpf_interp *ip)
{
	for (size_t i = 0; i < ip->nrecs; i++)
		free((void *)ip->recs[i].data);
	ip->nrecs = 0;
	return 0;
}

/* bpf_ringbuf_submit/discard: the record at r1 is done. */
static int ringbuf_done(struct bpf_interp *ip, size_t pc, int keep)
{
	int g = ip->tag[1];
	struct bpf_interp_record *rec;

	if (g < RG_DYN || !ip->rg[g].live ||
	    ip->r[1] != (uint64_t)(uintptr_t)ip->rg[g].base ||
	    ip->rg[g].owned != 2)
		return fail(ip, pc, "ringbuf submit/discard of no record");
	if (keep) {
		if (ip->nrecs == ip->caprecs) {
			size_t cap = ip->caprecs ? ip->caprecs * 2 : 8;

			rec = realloc(ip->recs, cap * sizeof(*rec));
			if (!rec)
				return fail(ip, pc, "out of memory");
			ip->recs = rec;
			ip->caprecs = cap;
		}
		rec = &ip->recs[ip->nrecs++];
		rec->map_fd = (int)ip->rg[g].slots[0];
		rec->len = ip->rg[g].size;
		rec->data = ip->rg[g].base;
		ip->rg[g].owned = 0;	/* the record list owns it now */
	}
	region_kill(ip, g);
	return 0;
}

/* Helper @id with r1-r5; result in r0 and its tag. */
static int helper(struct bpf_interp *ip, size_t pc, int32_t id)
{
	struct imap *m;
	uint8_t *p;
	int g;

	ip->tag[0] = RG_NONE;
	switch (id) {
	case BPF_FUNC_map_lookup_elem:
		m = map_by_handle(ip, ip->r[1]);
		if (!m)
			return fail(ip, pc, "map_lookup_elem: r1 is no map");
		p = mem_at(ip, pc, ip->r[2], ip->tag[2], m->info.key_size, 0,
			   &g);
		if (!p)
			return -1;
		if (m->info.type == BPF_MAP_TYPE_RINGBUF)
			return fail(ip, pc, "map_lookup_elem on a ring buffer");
		g = map_value(ip, m, p);
		if (g == -2)
			return fail(ip, pc, "map %s: cannot read it: %s",
				    m->info.name, strerror(errno));
		ip->r[0] = g < 0 ? 0 : (uint64_t)(uintptr_t)ip->rg[g].base;
		ip->tag[0] = g < 0 ? RG_NONE : g;
		break;
	case BPF_FUNC_ktime_get_ns:
		ip->r[0] = now_ns(ip, CLOCK_MONOTONIC);
		break;
	case BPF_FUNC_ktime_get_coarse_ns:
		ip->r[0] = now_ns(ip, CLOCK_MONOTONIC_COARSE);
		break;
	case BPF_FUNC_get_smp_processor_id:
		ip->r[0] = 0;
		break;
	case BPF_FUNC_xdp_get_buff_len:
		if (ip->tag[1] != RG_CTX)
			return fail(ip, pc, "xdp_get_buff_len: r1 is no ctx");
		ip->r[0] = ip->rg[RG_PKT].size;
		break;
	case BPF_FUNC_ringbuf_reserve:
		m = map_by_handle(ip, ip->r[1]);
		if (!m || m->info.type != BPF_MAP_TYPE_RINGBUF)
			return fail(ip, pc, "ringbuf_reserve: r1 is no ring buffer");
		if (ip->r[3] != 0)
			return fail(ip, pc, "ringbuf_reserve: flags %llu",
				    (unsigned long long)ip->r[3]);
		if (ip->r[2] == 0 || ip->r[2] > m->info.max_entries) {
			ip->r[0] = 0;	/* the kernel would refuse it too */
			break;
		}
		p = calloc(1, (size_t)ip->r[2]);
		g = p ? region_add(ip, p, (size_t)ip->r[2], 1, 2) : -1;
		if (g < 0) {
			free(p);
			return fail(ip, pc, "out of memory");
		}
		ip->rg[g].slots[0] = m->fd;
		ip->r[0] = (uint64_t)(uintptr_t)p;
		ip->tag[0] = g;
		break;
	case BPF_FUNC_ringbuf_submit:
	case BPF_FUNC_ringbuf_discard:
		if (ringbuf_done(ip, pc, id == BPF_FUNC_ringbuf_submit))
			return -1;
		ip->r[0] = 0;
		break;
	default:
		return fail(ip, pc, "unknown helper %d", id);
	}
	for (int k = 1; k <= 5; k++) {
		ip->r[k] = IP_POISON;
		ip->tag[k] = RG_NONE;
	}
	return 0;
}

/* --- memory instructions ------------------------------------------------- */

static uint64_t load_n(const uint8_t *p, size_t size)
{
	uint8_t b1;
	uint16_t b2;
	uint32_t b4;
	uint64_t b8;

	switch (size) {
	case 1: memcpy(&b1, p, 1); return b1;
	case 2: memcpy(&b2, p, 2); return b2;
	case 4: memcpy(&b4, p, 4); return b4;
	default: memcpy(&b8, p, 8); return b8;
	}
}

static void store_n(uint8_t *p, size_t size, uint64_t v)
{
	uint8_t b1 = (uint8_t)v;
	uint16_t b2 = (uint16_t)v;
	uint32_t b4 = (uint32_t)v;

	switch (size) {
	case 1: memcpy(p, &b1, 1); break;
	case 2: memcpy(p, &b2, 2); break;
	case 4: memcpy(p, &b4, 4); break;
	default: memcpy(p, &v, 8); break;
	}
}

static size_t size_of(uint8_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_B: return 1;
	case BPF_H: return 2;
	case BPF_W: return 4;
	default: return 8;
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
		return fail(ip, pc, "ctx load of %zu bytes at %zu", size, off);
	ip->tag[dst] = RG_NONE;
	switch (off) {
	case 0:	/* data */
	case 8:	/* data_meta: no metadata */
		ip->r[dst] = data;
		ip->tag[dst] = RG_PKT;
		break;
	case 4:	/* data_end */
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
		return fail(ip, pc, "load mode 0x%02x not supported", in->code);
	p = mem_at(ip, pc, a, ip->tag[in->src_reg], size, 0, &g);
	if (!p)
		return -1;
	if (g == RG_CTX)
		return xdp_ctx_load(ip, pc, in->dst_reg, p, size);
	ip->r[in->dst_reg] = load_n(p, size);
	ip->tag[in->dst_reg] = RG_NONE;
	if (g >= RG_STACK0 && g < RG_DYN && size == 8 &&
	    (size_t)(p - ip->rg[g].base) % 8 == 0)
		ip->tag[in->dst_reg] = ip->rg[g].slots[(p - ip->rg[g].base) / 8];
	return 0;
}

static int do_atomic(struct bpf_interp *ip, size_t pc,
		     const struct bpf_insn *in, uint8_t *p, size_t size)
{
	uint64_t old = load_n(p, size), src = ip->r[in->src_reg], v;
	uint64_t mask = size == 8 ? ~0ULL : 0xffffffffULL;
	int32_t op = in->imm;

	switch (op & ~BPF_FETCH) {
	case BPF_ADD: v = old + src; break;
	case BPF_OR: v = old | src; break;
	case BPF_AND: v = old & src; break;
	case BPF_XOR: v = old ^ src; break;
	case BPF_XCHG & ~BPF_FETCH:
		if (op != BPF_XCHG)
			return fail(ip, pc, "atomic op 0x%x", op);
		v = src;
		break;
	case BPF_CMPXCHG & ~BPF_FETCH:
		if (op != BPF_CMPXCHG)
			return fail(ip, pc, "atomic op 0x%x", op);
		v = (old & mask) == (ip->r[0] & mask) ? src : old;
		store_n(p, size, v);
		ip->r[0] = old & mask;
		ip->tag[0] = RG_NONE;
		return 0;
	default:
		return fail(ip, pc, "atomic op 0x%x", op);
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
		return fail(ip, pc, "store mode 0x%02x not supported", in->code);
	if (mode == BPF_ATOMIC && size != 4 && size != 8)
		return fail(ip, pc, "atomic of %zu bytes", size);
	p = mem_at(ip, pc, a, ip->tag[in->dst_reg], size, 1, &g);
	if (!p)
		return -1;
	if (g == RG_CTX)
		return fail(ip, pc, "store into ctx");
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

/* --- ALU and jumps ------------------------------------------------------------ */

static uint64_t bswap_n(uint64_t v, int bits)
{
	switch (bits) {
	case 16: return __builtin_bswap16((uint16_t)v);
	case 32: return __builtin_bswap32((uint32_t)v);
	default: return __builtin_bswap64(v);
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
	if (in->off != 0)	/* v4: sdiv, smod, movsx */
		return fail(ip, pc, "ALU op 0x%02x with off %d (cpu v4)",
			    in->code, in->off);
	switch (op) {
	case BPF_ADD:
		v = a + b;
		if (is64)
			tag = x && !ip->tag[d] ? ip->tag[in->src_reg] : ip->tag[d];
		break;
	case BPF_SUB:
		v = a - b;
		/* pointer - scalar stays a pointer; pointer - pointer not */
		if (is64 && !(x && ip->tag[in->src_reg]))
			tag = ip->tag[d];
		break;
	case BPF_MUL: v = a * b; break;
	case BPF_DIV: v = b ? a / b : 0; break;
	case BPF_MOD: v = b ? a % b : a; break;
	case BPF_OR: v = a | b; break;
	case BPF_AND: v = a & b; break;
	case BPF_XOR: v = a ^ b; break;
	case BPF_LSH: v = a << (b & (is64 ? 63 : 31)); break;
	case BPF_RSH: v = a >> (b & (is64 ? 63 : 31)); break;
	case BPF_ARSH:
		if (is64)
			v = (uint64_t)((int64_t)a >> (b & 63));
		else
			v = (uint32_t)((int32_t)(uint32_t)a >> (b & 31));
		break;
	case BPF_NEG: v = (uint64_t)0 - a; break;
	case BPF_MOV:
		v = b;
		if (is64 && x)
			tag = ip->tag[in->src_reg];
		break;
	case BPF_END:
		if (is64)
			return fail(ip, pc, "ALU64 byte swap (cpu v4)");
		if (in->imm != 16 && in->imm != 32 && in->imm != 64)
			return fail(ip, pc, "byte swap of %d bits", in->imm);
		a = ip->r[d];
		v = x ? bswap_n(a, in->imm) :	/* BPF_TO_BE on LE */
			in->imm == 64 ? a : a & ((1ULL << in->imm) - 1);
		ip->r[d] = v;
		ip->tag[d] = RG_NONE;
		return 0;
	default:
		return fail(ip, pc, "ALU op 0x%02x", in->code);
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

	b = BPF_SRC(in->code) == BPF_X ? ip->r[in->src_reg] :
					 (uint64_t)(int64_t)in->imm;
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
	case BPF_JEQ: return a == b;
	case BPF_JNE: return a != b;
	case BPF_JGT: return a > b;
	case BPF_JGE: return a >= b;
	case BPF_JLT: return a < b;
	case BPF_JLE: return a <= b;
	case BPF_JSET: return (a & b) != 0;
	case BPF_JSGT: return sa > sb;
	case BPF_JSGE: return sa >= sb;
	case BPF_JSLT: return sa < sb;
	case BPF_JSLE: return sa <= sb;
	default: return -1;
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
		m = map_by_fd(ip, in->imm);
		if (!m)
			return fail(ip, pc, "ld_imm64 of unknown map fd %d",
				    in->imm);
		ip->r[d] = (uint64_t)(uintptr_t)m;
		return 0;
	case BPF_PSEUDO_MAP_VALUE:
		m = map_by_fd(ip, in->imm);
		if (!m || m->info.type != BPF_MAP_TYPE_ARRAY)
			return fail(ip, pc, "ld_imm64 value of map fd %d",
				    in->imm);
		g = map_value(ip, m, &zero);
		if (g < 0)
			return fail(ip, pc, "map %s has no value",
				    m->info.name);
		ip->r[d] = (uint64_t)(uintptr_t)ip->rg[g].base +
			   (uint64_t)(uint32_t)in[1].imm;
		ip->tag[d] = g;
		return 0;
	default:
		return fail(ip, pc, "ld_imm64 with src %d not supported",
			    in->src_reg);
	}
}

/* --- the run ------------------------------------------------------------------ */

struct ret_frame {
	size_t pc;		/* the call instruction */
	uint64_t r[4];		/* r6-r9 */
	int tag[4];
};

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
	out->insns = 0;
	frame_enter(ip, 0);
	for (;;) {
		const struct bpf_insn *in;

		if (pc >= ip->n)
			return fail(ip, pc, "fell off the program");
		if (out->insns >= IP_MAX_RUN)
			return fail(ip, pc, "more than %llu instructions",
				    IP_MAX_RUN);
		in = &ip->insns[pc];
		out->insns++;
		ip->funcs[ip->func_of[pc]].insns++;
		ip->op_hits[in->code]++;
		if (in->dst_reg > 10 || in->src_reg > 10)
			return fail(ip, pc, "bad register");
		switch (BPF_CLASS(in->code)) {
		case BPF_ALU:
		case BPF_ALU64:
			if (in->dst_reg == 10)
				return fail(ip, pc, "write to r10");
			if (do_alu(ip, pc, in))
				return -1;
			pc++;
			continue;
		case BPF_LDX:
			if (in->dst_reg == 10)
				return fail(ip, pc, "write to r10");
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
				return fail(ip, pc, "load 0x%02x not supported",
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
				return fail(ip, pc, "ja32 (cpu v4)");
			pc += (size_t)(int64_t)in->off + 1;
			continue;
		case BPF_CALL:
			if (BPF_CLASS(in->code) != BPF_JMP)
				break;
			if (in->src_reg == 0) {
				if (helper(ip, pc, in->imm))
					return -1;
				pc++;
				continue;
			}
			if (in->src_reg != BPF_PSEUDO_CALL)
				return fail(ip, pc, "call kind %d not supported",
					    in->src_reg);
			if (depth + 1 >= IP_FRAMES)
				return fail(ip, pc, "calls nested too deep");
			fr[depth].pc = pc;
			memcpy(fr[depth].r, &ip->r[6], sizeof(fr[depth].r));
			memcpy(fr[depth].tag, &ip->tag[6], sizeof(fr[depth].tag));
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
			memcpy(&ip->r[6], fr[depth].r, sizeof(fr[depth].r));
			memcpy(&ip->tag[6], fr[depth].tag, sizeof(fr[depth].tag));
			ip->r[10] = (uint64_t)(uintptr_t)
				    (ip->rg[RG_STACK0 + depth].base + IP_STACK);
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
		return fail(ip, pc, "opcode 0x%02x not supported", in->code);
	}
}

int bpf_interp_run_xdp(struct bpf_interp *ip, const void *frame, size_t len,
		       struct bpf_interp_run *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	ip->err = out->err;
	records_free(ip);
	for (int g = RG_DYN; g < (int)ip->nrg; g++)
		if (ip->rg[g].live && ip->rg[g].owned == 2)
			region_kill(ip, g);	/* reserved, never submitted */
	if (len + 2 * IP_REDZONE > ip->pkt_cap) {
		uint8_t *p = realloc(ip->pkt, len + 2 * IP_REDZONE);

		if (!p) {
			snprintf(out->err, sizeof(out->err), "out of memory");
			return -1;
		}
		ip->pkt = p;
		ip->pkt_cap = len + 2 * IP_REDZONE;
	}
	memset(ip->pkt, 0xee, ip->pkt_cap);
	memcpy(ip->pkt + IP_REDZONE, frame, len);
	ip->rg[RG_PKT].base = ip->pkt + IP_REDZONE;
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

/* --- set-up -------------------------------------------------------------------- */

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
	ip->stacks = calloc(IP_FRAMES, IP_STACK);
	ip->rg = calloc(RG_DYN, sizeof(*ip->rg));
	if (!ip->insns || !ip->func_of || !ip->stacks || !ip->rg)
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
			err = map_add(ip, in->imm);
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
	records_free(ip);
	for (size_t g = RG_DYN; g < ip->nrg; g++)
		if (ip->rg[g].live)
			region_kill(ip, (int)g);
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
	free(ip->insns);
	free(ip);
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

void bpf_interp_set_clock(struct bpf_interp *ip, uint64_t ns)
{
	ip->clock_ns = ns;
}

const uint8_t *bpf_interp_packet(const struct bpf_interp *ip, size_t *len)
{
	*len = ip->rg[RG_PKT].size;
	return ip->rg[RG_PKT].base;
}

uint64_t bpf_interp_op_hits(const struct bpf_interp *ip, uint8_t code)
{
	return ip->op_hits[code];
}

size_t bpf_interp_nrecords(const struct bpf_interp *ip)
{
	return ip->nrecs;
}

const struct bpf_interp_record *bpf_interp_record(const struct bpf_interp *ip,
						  size_t i)
{
	return i < ip->nrecs ? &ip->recs[i] : NULL;
}
