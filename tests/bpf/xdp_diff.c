// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdp_diff.c - a frame through the kernel and the interpreter
 * (xdp_diff.h).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdp_diff.h"
#include "xdp_obj.h"

#define FRAME_MAX 4096

/* --- map snapshots ------------------------------------------------------ */

struct snap_map {
	int fd;
	struct bpf_map_info info;
	size_t vsz; /* bytes per value as the syscall returns it */
	size_t n;
	uint8_t *keys, *vals;
};

struct xdp_diff_snap {
	size_t n;
	struct snap_map m[16];
};

static void snap_free(struct xdp_diff_snap *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->m[i].keys);
		free(s->m[i].vals);
	}
	s->n = 0;
}

static int percpu(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static int is_array(__u32 type)
{
	return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

/* Every key and value of one map, in batches. */
static int snap_all(struct snap_map *m)
{
	size_t ks = m->info.key_size, cap = 0;
	uint64_t in_b = 0, out_b = 0; /* batch tokens: a bucket or a key */
	__u32 chunk = 64;
	void *in = NULL;

	m->n = 0;
	for (;;) {
		LIBBPF_OPTS(bpf_map_batch_opts, o);
		__u32 count = chunk;
		int r;

		if (m->n + chunk > cap) {
			uint8_t *k, *v;

			cap = m->n + chunk;
			k = realloc(m->keys, cap * ks);
			if (k)
				m->keys = k;
			v = realloc(m->vals, cap * m->vsz);
			if (v)
				m->vals = v;
			if (!k || !v)
				return -ENOMEM;
		}
		r = bpf_map_lookup_batch(m->fd, in, &out_b, m->keys + m->n * ks,
					 m->vals + m->n * m->vsz, &count, &o);
		if (r && errno == ENOSPC && !count) {
			chunk *= 2; /* a hash bucket larger than the chunk */
			continue;
		}
		if (r && errno != ENOENT)
			return -errno;
		m->n += count;
		if (r)
			return 0; /* ENOENT: the whole map was read */
		in_b = out_b;
		in = &in_b;
	}
}

/* The values of the keys @k holds (the same map's). */
static int snap_keys(struct snap_map *m, const struct snap_map *k)
{
	size_t ks = m->info.key_size;

	m->n = k->n;
	m->keys = malloc(k->n * ks + 1);
	m->vals = malloc(k->n * m->vsz + 1);
	if (!m->keys || !m->vals)
		return -ENOMEM;
	memcpy(m->keys, k->keys, k->n * ks);
	for (size_t i = 0; i < k->n; i++)
		if (bpf_map_lookup_elem(m->fd, m->keys + i * ks,
					m->vals + i * m->vsz))
			return -errno; /* a key went away */
	return 0;
}

/* Every map of the object the program may write. */
static int snap_take(const struct xdp_diff *d, struct xdp_diff_snap *s)
{
	int ncpus = libbpf_num_possible_cpus();
	struct bpf_map *map;
	int err;

	s->n = 0;
	bpf_object__for_each_map(map, d->obj)
	{
		struct snap_map *m = &s->m[s->n];
		__u32 len = sizeof(m->info);

		if (s->n == sizeof(s->m) / sizeof(s->m[0]))
			return -E2BIG;
		memset(m, 0, sizeof(*m));
		m->fd = bpf_map__fd(map);
		if (bpf_obj_get_info_by_fd(m->fd, &m->info, &len))
			return -errno;
		if (m->info.type == BPF_MAP_TYPE_RINGBUF ||
		    (m->info.map_flags & BPF_F_RDONLY_PROG))
			continue;
		m->vsz = percpu(m->info.type)
			     ? ((m->info.value_size + 7) & ~7u) * (size_t)ncpus
			     : m->info.value_size;
		if (d->known && !is_array(m->info.type) && s->n < d->known->n)
			err = snap_keys(m, &d->known->m[s->n]);
		else
			err = snap_all(m);
		s->n++;
		if (err)
			return err;
	}
	return 0;
}

/*
 * Does every map after the kernel's run hold what the interpreter says?
 * The first difference into @why.
 */
static int maps_agree(const struct xdp_diff *d,
		      const struct xdp_diff_snap *before,
		      const struct xdp_diff_snap *after, char *why, size_t wlen)
{
	for (size_t i = 0; i < after->n; i++) {
		const struct snap_map *a = &after->m[i], *b = &before->m[i];
		size_t ks = a->info.key_size, vs = a->info.value_size;

		if (a->n != b->n) {
			snprintf(why, wlen, "map %s: %zu keys, was %zu",
				 a->info.name, a->n, b->n);
			return 0;
		}
		/* our CPU's slot of a per-CPU value */
		size_t slot = percpu(a->info.type)
				  ? ((vs + 7) & ~(size_t)7) * (size_t)d->cpu
				  : 0;

		for (size_t k = 0; k < a->n; k++) {
			const uint8_t *key = a->keys + k * ks, *want = NULL;
			const uint8_t *got = a->vals + k * a->vsz + slot;
			size_t off = 0;

			for (size_t j = 0; j < b->n && !want; j++)
				if (!memcmp(b->keys + j * ks, key, ks))
					want = b->vals + j * b->vsz + slot;
			if (!want) {
				snprintf(why, wlen, "map %s: a new key",
					 a->info.name);
				return 0;
			}
			if (bpf_interp_map_peek(d->ip, a->fd, key))
				want = bpf_interp_map_peek(d->ip, a->fd, key);
			if (!memcmp(got, want, vs))
				continue;
			while (got[off] == want[off])
				off++;
			snprintf(why, wlen,
				 "map %s key #%zu: value differs at "
				 "byte %zu (kernel 0x%02x, interpreter 0x%02x)",
				 a->info.name, k, off, got[off], want[off]);
			return 0;
		}
	}
	return 1;
}

/* --- records ----------------------------------------------------------- */

static int ev_cb(void *ctx, void *data, size_t size)
{
	struct xdp_diff *d = ctx;

	if (d->nev < XDP_DIFF_EVENTS && size <= sizeof(d->ev[0])) {
		memcpy(d->ev[d->nev], data, size);
		d->ev_len[d->nev] = size;
	}
	d->nev++;
	return 0;
}

static int events_agree(const struct xdp_diff *d, char *why, size_t wlen)
{
	size_t n = bpf_interp_nrecords(d->ip);

	if (n != d->nev) {
		snprintf(why, wlen, "%zu ring buffer records, kernel %zu", n,
			 d->nev);
		return 0;
	}
	for (size_t i = 0; i < n && i < XDP_DIFF_EVENTS; i++) {
		const struct bpf_interp_record *r = bpf_interp_record(d->ip, i);

		if (r->len != d->ev_len[i] ||
		    memcmp(r->data, d->ev[i], r->len)) {
			snprintf(why, wlen, "ring buffer record %zu differs",
				 i);
			return 0;
		}
	}
	return 1;
}

/* --- the frame ---------------------------------------------------------- */

static uint64_t coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int xdp_diff_frame(struct xdp_diff *d, const void *frame, size_t len, char *why,
		   size_t wlen)
{
	struct xdp_diff_snap before = {0}, after = {0};
	static uint8_t out[FRAME_MAX];
	struct bpf_interp_run r;
	const uint8_t *iout;
	uint64_t t0, t1;
	size_t ilen;
	int irc, ok = 0;

	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = (__u32)len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);

	if (snap_take(d, &before)) {
		snprintf(why, wlen, "cannot read the maps");
		goto done;
	}
	t0 = coarse_ns();
	bpf_interp_set_clock(d->ip, t0);
	bpf_interp_maps_reset(d->ip);
	irc = bpf_interp_run_xdp(d->ip, frame, len, &r);
	if (bpf_prog_test_run_opts(d->prog_fd, &opts)) {
		snprintf(why, wlen, "test run: %s", strerror(errno));
		goto done;
	}
	t1 = coarse_ns();
	d->nev = 0;
	ring_buffer__consume(d->rb);
	d->frames++;
	if (irc) {
		snprintf(why, wlen, "interpreter: %s", r.err);
		goto done;
	}
	if (r.ret != opts.retval) {
		if (t0 != t1) {
			/* the clock ticked: a rate limit (max_dialog_pps)
			 * may have let the kernel's later run through */
			d->ticked++;
			ok = 1;
			goto done;
		}
		snprintf(why, wlen, "verdict %u, kernel %u", r.ret,
			 opts.retval);
		goto done;
	}
	iout = bpf_interp_packet(d->ip, &ilen);
	if (ilen != opts.data_size_out || memcmp(iout, out, ilen)) {
		snprintf(why, wlen, "the frame after the run differs");
		goto done;
	}
	if (t0 != t1) {
		d->ticked++; /* the clocks may differ: no more */
		ok = 1;
		goto done;
	}
	if (snap_take(d, &after)) {
		snprintf(why, wlen, "cannot read the maps");
		goto done;
	}
	ok = maps_agree(d, &before, &after, why, wlen) &&
	     events_agree(d, why, wlen);
done:
	snap_free(&before);
	snap_free(&after);
	return ok ? 0 : -1;
}

int xdp_diff_attach(struct xdp_diff *d, struct bpf_object *obj,
		    const struct bpf_program *prog)
{
	struct bpf_map *map, *rb = NULL;
	struct xdp_diff_snap *known;
	int err;

	memset(d, 0, sizeof(*d));
	d->obj = obj;
	d->prog_fd = bpf_program__fd(prog);
	d->cpu = sched_getcpu();
	d->ip = xdp_obj_interp(prog);
	if (!d->ip)
		return -errno;
	if (d->cpu < 0 || bpf_interp_set_cpu(d->ip, d->cpu))
		return -EINVAL;
	bpf_object__for_each_map(map, obj)
	{
		if (bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF) {
			rb = map;
			break;
		}
	}
	if (!rb)
		return -ENOENT;
	d->rb = ring_buffer__new(bpf_map__fd(rb), ev_cb, d, NULL);
	if (!d->rb)
		return -errno;
	known = calloc(1, sizeof(*known));
	if (!known)
		return -ENOMEM;
	err = snap_take(d, known); /* d->known still NULL: every key */
	if (err) {
		snap_free(known);
		free(known);
		return err;
	}
	d->known = known;
	return 0;
}

void xdp_diff_detach(struct xdp_diff *d)
{
	if (d->known)
		snap_free(d->known);
	free(d->known);
	ring_buffer__free(d->rb);
	bpf_interp_free(d->ip);
	memset(d, 0, sizeof(*d));
}
