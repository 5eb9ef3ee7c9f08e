// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpf_interp_env.c - the world a program runs in, for bpf_interp.c:
 * memory regions and the checks of every access, the kernel's maps
 * (copied on first lookup), the helpers, ring buffer records.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/utsname.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_interp_int.h"

/* --- regions ---------------------------------------------------------- */

/* A new region slot (reusing a dead one): its index, or -1. */
int bpfi_region_add(struct bpf_interp *ip, uint8_t *base, size_t size,
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

void bpfi_region_kill(struct bpf_interp *ip, int i)
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

int bpfi_fail(struct bpf_interp *ip, size_t pc, const char *fmt, ...)
{
	size_t len = sizeof(((struct bpf_interp_run *)0)->err);
	va_list ap;
	int k;

	k = snprintf(ip->err, len, "insn %zu: ", pc);
	va_start(ap, fmt);
	vsnprintf(ip->err + k, len - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * The host address of @size bytes at @a, reached through a register
 * tagged @tag: checked against that region (or any, if untagged).  The
 * region index in *rgi.  NULL after bpfi_fail().
 */
uint8_t *bpfi_mem_at(struct bpf_interp *ip, size_t pc, uint64_t a, int tag,
		     size_t size, int write, int *rgi)
{
	int i = tag;

	if (tag) {
		const struct region *g = &ip->rg[tag];
		uint64_t b = (uint64_t)(uintptr_t)g->base;

		if (!g->live || a < b || a - b > g->size ||
		    size > g->size - (a - b)) {
			bpfi_fail(ip, pc,
				  "%s of %zu bytes at %+lld outside its "
				  "region (%zu bytes%s)",
				  write ? "store" : "load", size,
				  (long long)(a - b), g->size,
				  g->live ? "" : ", gone");
			return NULL;
		}
	} else {
		i = region_find(ip, a, size);
		if (i < 0) {
			bpfi_fail(ip, pc,
				  "%s of %zu bytes at 0x%llx: no region",
				  write ? "store" : "load", size,
				  (unsigned long long)a);
			return NULL;
		}
	}
	if (write && !ip->rg[i].writable) {
		bpfi_fail(ip, pc, "store into a read-only region");
		return NULL;
	}
	*rgi = i;
	return (uint8_t *)(uintptr_t)a;
}

/* --- maps --------------------------------------------------------------- */

struct imap *bpfi_map_by_fd(struct bpf_interp *ip, int fd)
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

int bpfi_map_add(struct bpf_interp *ip, int fd)
{
	struct imap *m;
	__u32 len = sizeof(m->info);

	if (bpfi_map_by_fd(ip, fd))
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
int bpfi_map_value(struct bpf_interp *ip, struct imap *m, const void *key)
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
		/* per-CPU: our CPU's value (slots of 8-byte multiples) first */
		if (all != vs)
			memmove(buf,
				buf + ((vs + 7) & ~(size_t)7) * (size_t)ip->cpu,
				vs);
		r = bpfi_region_add(ip, buf, vs,
				    !(m->info.map_flags & BPF_F_RDONLY_PROG),
				    OWN_HEAP);
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
				return m->ent[k].region < 0
					   ? NULL
					   : ip->rg[m->ent[k].region].base;
	}
	return NULL;
}

void bpf_interp_maps_reset(struct bpf_interp *ip)
{
	for (size_t i = 0; i < ip->nmaps; i++) {
		struct imap *m = &ip->maps[i];

		for (size_t k = 0; k < m->nent; k++) {
			if (m->ent[k].region >= 0)
				bpfi_region_kill(ip, m->ent[k].region);
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

void bpfi_records_free(struct bpf_interp *ip)
{
	for (size_t i = 0; i < ip->nrecs; i++)
		free((void *)ip->recs[i].data);
	ip->nrecs = 0;
}

/* bpf_ringbuf_submit/discard: the record at r1 is done. */
static int ringbuf_done(struct bpf_interp *ip, size_t pc, int keep)
{
	int g = ip->tag[1];
	struct bpf_interp_record *rec;

	if (g < RG_DYN || !ip->rg[g].live ||
	    ip->r[1] != (uint64_t)(uintptr_t)ip->rg[g].base ||
	    ip->rg[g].owned != OWN_RECORD)
		return bpfi_fail(ip, pc, "ringbuf submit/discard of no record");
	if (keep) {
		if (ip->nrecs == ip->caprecs) {
			size_t cap = ip->caprecs ? ip->caprecs * 2 : 8;

			rec = realloc(ip->recs, cap * sizeof(*rec));
			if (!rec)
				return bpfi_fail(ip, pc, "out of memory");
			ip->recs = rec;
			ip->caprecs = cap;
		}
		rec = &ip->recs[ip->nrecs++];
		rec->map_fd = ip->rg[g].ringbuf_fd;
		rec->len = ip->rg[g].size;
		rec->data = ip->rg[g].base;
		ip->rg[g].owned = OWN_NONE; /* the record list owns it now */
	}
	bpfi_region_kill(ip, g);
	return 0;
}

/* --- XDP packet helpers ------------------------------------------------ */

/*
 * bpf_xdp_load_bytes / bpf_xdp_store_bytes(ctx, off, buf, len): the
 * kernel's bounds (-EFAULT for an offset or length past 0xffff, -EINVAL
 * past the packet).
 */
static int xdp_bytes(struct bpf_interp *ip, size_t pc, int store)
{
	struct region *pk = &ip->rg[RG_PKT];
	uint64_t off = (uint32_t)ip->r[2], len = (uint32_t)ip->r[4];
	uint8_t *b;
	int g;

	if (ip->tag[1] != RG_CTX)
		return bpfi_fail(ip, pc, "xdp_%s_bytes: r1 is no ctx",
				 store ? "store" : "load");
	b = bpfi_mem_at(ip, pc, ip->r[3], ip->tag[3], (size_t)len, !store,
			&g);
	if (!b)
		return -1;
	if (off > 0xffff || len > 0xffff)
		ip->r[0] = (uint64_t)-EFAULT;
	else if (off + len > pk->size)
		ip->r[0] = (uint64_t)-EINVAL;
	else {
		if (store)
			memcpy(pk->base + off, b, (size_t)len);
		else
			memcpy(b, pk->base + off, (size_t)len);
		ip->r[0] = 0;
	}
	return 0;
}

/* bpf_xdp_adjust_head(ctx, delta): move the start within the frame. */
static int xdp_adjust_head(struct bpf_interp *ip, size_t pc)
{
	struct region *pk = &ip->rg[RG_PKT];
	int64_t delta = (int32_t)ip->r[2];
	int64_t start = pk->base - ip->pkt + delta;
	int64_t end = (pk->base - ip->pkt) + (int64_t)pk->size;

	if (ip->tag[1] != RG_CTX)
		return bpfi_fail(ip, pc, "xdp_adjust_head: r1 is no ctx");
	if (start < IP_XDP_FRAME || start > end - 14) {
		ip->r[0] = (uint64_t)-EINVAL;
		return 0;
	}
	pk->base = ip->pkt + start;
	pk->size = (size_t)(end - start);
	ip->r[0] = 0;
	return 0;
}

/* bpf_xdp_adjust_tail(ctx, delta): move the end; grown bytes zeroed. */
static int xdp_adjust_tail(struct bpf_interp *ip, size_t pc)
{
	struct region *pk = &ip->rg[RG_PKT];
	int64_t delta = (int32_t)ip->r[2];
	int64_t start = pk->base - ip->pkt;
	int64_t end = start + (int64_t)pk->size + delta;

	if (ip->tag[1] != RG_CTX)
		return bpfi_fail(ip, pc, "xdp_adjust_tail: r1 is no ctx");
	if (end > (int64_t)(ip->pkt_cap - IP_TAILRESV) || end < start + 14) {
		ip->r[0] = (uint64_t)-EINVAL;
		return 0;
	}
	if (delta > 0)
		memset(pk->base + pk->size, 0, (size_t)delta);
	pk->size = (size_t)(end - start);
	ip->r[0] = 0;
	return 0;
}

/*
 * bpf_fib_lookup(ctx, params, plen, flags), a deterministic stand-in
 * for the kernel's routing table: every destination is reachable
 * through the requested ifindex (2 if none) with an MTU of 1500, from
 * 02:00:00:00:00:01 to 02:00:00:00:00:02, metric 0, no VLAN: what the
 * kernel answers for a connected route on such a device and neighbour
 * (tests/bpf/test_xdp_interp.c sets one up to compare).
 */
static int fib_lookup(struct bpf_interp *ip, size_t pc)
{
	static const uint8_t smac[6] = {2, 0, 0, 0, 0, 1};
	static const uint8_t dmac[6] = {2, 0, 0, 0, 0, 2};
	struct bpf_fib_lookup f;
	uint8_t *p;
	int g;

	if (ip->tag[1] != RG_CTX || ip->r[3] < sizeof(f))
		return bpfi_fail(ip, pc, "fib_lookup: bad ctx or size");
	p = bpfi_mem_at(ip, pc, ip->r[2], ip->tag[2], sizeof(f), 1, &g);
	if (!p)
		return -1;
	memcpy(&f, p, sizeof(f));
	if (f.tot_len > 1500) {
		f.mtu_result = 1500;
		ip->r[0] = BPF_FIB_LKUP_RET_FRAG_NEEDED;
	} else {
		if (!f.ifindex)
			f.ifindex = 2;
		/* as bpf_fib_set_fwd_params() leaves them */
		f.mtu_result = 1500;
		f.h_vlan_proto = 0;
		f.h_vlan_TCI = 0;
		f.rt_metric = 0;
		memcpy(f.smac, smac, 6);
		memcpy(f.dmac, dmac, 6);
		ip->r[0] = BPF_FIB_LKUP_RET_SUCCESS;
	}
	memcpy(p, &f, sizeof(f));
	return 0;
}

/*
 * Does the running kernel fold bpf_csum_diff()'s result to 16 bits?
 * Linux 6.13 ("bpf: bpf_csum_diff: optimize and homogenize for all
 * archs") made it so; before, x86 returned the 32-bit sum.
 */
static int csum_diff_folds(void)
{
	static int folds = -1;
	struct utsname u;
	int maj = 0, min = 0;

	if (folds < 0) {
		if (uname(&u) == 0)
			sscanf(u.release, "%d.%d", &maj, &min);
		folds = maj > 6 || (maj == 6 && min >= 13);
	}
	return folds;
}

/*
 * bpf_csum_diff(from, from_size, to, to_size, seed): the 32-bit one's
 * complement sum of seed, the words of to and the complemented words of
 * from, as x86's csum_partial() folds it; folded again to 16 bits
 * (csum_from32to16()) where the kernel does that.  -EINVAL for sizes
 * not a multiple of 4 or over 512 bytes together.
 */
/* x86's csum_partial() of @n bytes (a multiple of 4) at @p, @seed. */
static uint32_t csum32(const uint8_t *p, uint64_t n, uint32_t seed, int inv)
{
	uint64_t sum = seed;
	uint32_t w;

	for (uint64_t k = 0; k < n; k += 4) {
		memcpy(&w, p + k, 4);
		sum += inv ? (uint32_t)~w : w;
	}
	sum = (sum & 0xffffffffULL) + (sum >> 32);
	sum = (sum & 0xffffffffULL) + (sum >> 32);
	return (uint32_t)sum;
}

/* csum_add(): 32-bit addition with the carry folded back in. */
static uint32_t csum_add32(uint32_t a, uint32_t b)
{
	uint32_t r = a + b;

	return r + (r < b);
}

static int csum_diff(struct bpf_interp *ip, size_t pc)
{
	uint64_t fs = (uint32_t)ip->r[2], ts = (uint32_t)ip->r[4];
	uint32_t seed = (uint32_t)ip->r[5], s32;
	uint8_t *from = NULL, *to = NULL;
	int g;

	if (((fs | ts) & 3) || fs + ts > 512) {
		ip->r[0] = (uint64_t)-EINVAL;
		return 0;
	}
	if (fs && !(from = bpfi_mem_at(ip, pc, ip->r[1], ip->tag[1],
				       (size_t)fs, 0, &g)))
		return -1;
	if (ts && !(to = bpfi_mem_at(ip, pc, ip->r[3], ip->tag[3], (size_t)ts,
				     0, &g)))
		return -1;
	if (!csum_diff_folds()) {
		/* one csum_partial() over ~from then to, seeded */
		s32 = csum_add32(csum32(from, fs, seed, 1),
				 csum32(to, ts, 0, 0));
		ip->r[0] = s32;
		return 0;
	}
	/* the 6.13 helper's cases, each as the kernel orders it */
	if (fs && ts)
		s32 = csum_add32(csum32(to, ts, seed, 0),
				 ~csum32(from, fs, 0, 0));
	else if (ts)
		s32 = csum32(to, ts, seed, 0);
	else if (fs)
		s32 = ~csum32(from, fs, ~seed, 0);
	else
		s32 = seed;
	s32 += (s32 >> 16) | (s32 << 16); /* csum_from32to16() */
	ip->r[0] = s32 >> 16;
	return 0;
}

/* Helper @id with r1-r5; result in r0 and its tag. */
int bpfi_helper(struct bpf_interp *ip, size_t pc, int32_t id)
{
	struct imap *m;
	uint8_t *p;
	int g;

	ip->tag[0] = RG_NONE;
	switch (id) {
	case BPF_FUNC_map_lookup_elem:
		m = map_by_handle(ip, ip->r[1]);
		if (!m)
			return bpfi_fail(ip, pc,
					 "map_lookup_elem: r1 is no map");
		p = bpfi_mem_at(ip, pc, ip->r[2], ip->tag[2], m->info.key_size,
				0, &g);
		if (!p)
			return -1;
		if (m->info.type == BPF_MAP_TYPE_RINGBUF)
			return bpfi_fail(ip, pc,
					 "map_lookup_elem on a ring buffer");
		g = bpfi_map_value(ip, m, p);
		if (g == -2)
			return bpfi_fail(ip, pc, "map %s: cannot read it: %s",
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
		ip->r[0] = (uint64_t)ip->cpu;
		break;
	case BPF_FUNC_xdp_get_buff_len:
		if (ip->tag[1] != RG_CTX)
			return bpfi_fail(ip, pc,
					 "xdp_get_buff_len: r1 is no ctx");
		ip->r[0] = ip->rg[RG_PKT].size;
		break;
	case BPF_FUNC_ringbuf_reserve:
		m = map_by_handle(ip, ip->r[1]);
		if (!m || m->info.type != BPF_MAP_TYPE_RINGBUF)
			return bpfi_fail(
			    ip, pc, "ringbuf_reserve: r1 is no ring buffer");
		if (ip->r[3] != 0)
			return bpfi_fail(ip, pc, "ringbuf_reserve: flags %llu",
					 (unsigned long long)ip->r[3]);
		if (ip->r[2] == 0 || ip->r[2] > m->info.max_entries) {
			ip->r[0] = 0; /* the kernel would refuse it too */
			break;
		}
		p = calloc(1, (size_t)ip->r[2]);
		g = p ? bpfi_region_add(ip, p, (size_t)ip->r[2], 1, OWN_RECORD)
		      : -1;
		if (g < 0) {
			free(p);
			return bpfi_fail(ip, pc, "out of memory");
		}
		ip->rg[g].ringbuf_fd = m->fd;
		ip->r[0] = (uint64_t)(uintptr_t)p;
		ip->tag[0] = g;
		break;
	case BPF_FUNC_xdp_load_bytes:
	case BPF_FUNC_xdp_store_bytes:
		if (xdp_bytes(ip, pc, id == BPF_FUNC_xdp_store_bytes))
			return -1;
		break;
	case BPF_FUNC_xdp_adjust_head:
		if (xdp_adjust_head(ip, pc))
			return -1;
		break;
	case BPF_FUNC_xdp_adjust_tail:
		if (xdp_adjust_tail(ip, pc))
			return -1;
		break;
	case BPF_FUNC_fib_lookup:
		if (fib_lookup(ip, pc))
			return -1;
		break;
	case BPF_FUNC_csum_diff:
		if (csum_diff(ip, pc))
			return -1;
		break;
	case BPF_FUNC_redirect:
		/* XDP's bpf_redirect(): any flag aborts */
		ip->r[0] = ip->r[2] ? XDP_ABORTED : XDP_REDIRECT;
		break;
	case BPF_FUNC_ringbuf_submit:
	case BPF_FUNC_ringbuf_discard:
		if (ringbuf_done(ip, pc, id == BPF_FUNC_ringbuf_submit))
			return -1;
		ip->r[0] = 0;
		break;
	default:
		return bpfi_fail(ip, pc, "unknown helper %d", id);
	}
	for (int k = 1; k <= 5; k++) {
		ip->r[k] = IP_POISON;
		ip->tag[k] = RG_NONE;
	}
	return 0;
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
