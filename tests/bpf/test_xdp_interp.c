// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_xdp_interp.c - the instruction-counting interpreter
 * (tools/bench/bpf_interp.c) against the kernel.
 *
 * bpf_icount's counts are only worth something if the interpreter runs
 * the program as the kernel does.  Every frame here goes through both:
 * first the interpreter (which copies map values from the kernel on
 * first lookup), then BPF_PROG_TEST_RUN on the same maps.  Then:
 *   - both return the same XDP verdict, and the interpreter meets no
 *     error (no out-of-region access, no unknown opcode or helper);
 *   - every writable map's every key (dialogs, callids, counters,
 *     fpstate, overflow, ev_budget, ...: whatever the object has) holds
 *     after the kernel's run what the interpreter's copy holds, or, for
 *     keys the interpreter never looked up, what it held before;
 *   - both submitted the same ring buffer records, byte for byte.
 * The process is pinned to CPU 0, so the kernel's run updates the
 * per-CPU slot the interpreter reads (CPU 0's).  The interpreter's clock
 * is CLOCK_MONOTONIC_COARSE read before its run, which is the kernel's
 * bpf_ktime_get_coarse_ns() unless a tick falls between the two runs; a
 * frame where it did (read again after the kernel's run) has only its
 * verdict compared, and the count of such frames is printed.
 *
 * Frames: every bench_xdp row (tools/bench/bench_pkts.c) over IPv4,
 * IPv6 and two VLAN tags under six knob sets; every frame of the
 * Kamailio captures; every truncation of the in-dialog BYE; a sequence
 * that builds up counters, CSeq and the rate limit; random frames through
 * tests/bpf/fixtures/interp_probe.bpf.c (what the interpreter must run
 * that sipdlg's program does not use today); and seeded random
 * mutations of the SIP payloads (SIPDLG_INTERP_ROUNDS, default 3000;
 * SIPDLG_INTERP_SEED).  And bpf_icount's path for objects the verifier
 * refuses (xdp_unverified.h) must yield the same instructions and the
 * same counts as the loaded program.  Needs root; without it one TAP
 * skip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <glob.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sipdlg_shared.h"
#include "sipdlg_hash.h"
#include "sipdlg.skel.h"
#include "lib/pcap.h"
#include "lib/pkt.h"
#include "bench_pkts.h"
#include "bpf_interp.h"
#include "xdp_obj.h"
#include "xdp_unverified.h"
#include "bpf_lines.h"

#define MAX_REPORTS 8  /* mismatches printed per test */
#define MAX_EVENTS  16 /* ring buffer records per frame */

static int g_ncpus;
static unsigned g_ticked; /* frames whose maps were not compared */
static unsigned g_frames;

static void tap_diag(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* --- the programs: one load per knob set, each with its interpreter ----- */

struct kevents {
	size_t n;
	size_t len[MAX_EVENTS];
	uint8_t rec[MAX_EVENTS][128];
};

struct prog {
	const char *name;
	struct xdp_knobs k;
	struct sipdlg_bpf *skel; /* sipdlg's programs */
	struct bpf_object *obj;	 /* skel->obj, or the probe fixture */
	int prog_fd;
	struct bpf_interp *ip;
	struct ring_buffer *rb;
	struct kevents ev;  /* the kernel's records of the last frame */
	struct snap *known; /* every map's keys once set up (see snap_take) */
};

enum { P_PLAIN, P_DROP, P_MODE1, P_MODE2, P_MAC, P_PPS, P_N };

#define PORTS .sip_ports = {5060, 5070, 5080}, .n_sip_ports = 3
#define KEY   .mac_key = {BENCH_MAC_K0, BENCH_MAC_K1}
static struct prog g_p[P_N] = {
    [P_PLAIN] = {"plain", {PORTS, KEY}},
    [P_DROP] = {"drop", {PORTS, KEY, .drop = 1}},
    [P_MODE1] = {"mode1", {PORTS, KEY, .drop = 1, .match_mode = 1}},
    [P_MODE2] = {"mode2", {PORTS, KEY, .match_mode = 2}},
    [P_MAC] = {"mac", {PORTS, KEY, .mac = 1, .drop = 1}},
    [P_PPS] = {"pps", {PORTS, KEY, .pps = 3}},
};

static int ev_cb(void *ctx, void *data, size_t size)
{
	struct kevents *ev = ctx;

	if (ev->n < MAX_EVENTS && size <= sizeof(ev->rec[0])) {
		memcpy(ev->rec[ev->n], data, size);
		ev->len[ev->n] = size;
	}
	ev->n++;
	return 0;
}

/* Dialogs: the bench one, another, the captures' two; Call-ID index. */
struct dlg {
	__u32 h_entry, h_id;
	const char *callid, *caller_tag, *callee_tag;
};

static const struct dlg g_dlgs[] = {
    {1685, 9486, "other-call@192.0.2.9", "t-one", "t-two"},
    {0x192a, 0xbb2e, "1-6718@127.0.0.1", "6718SIPpTag001", "6662SIPpTag011"},
    {0x1234, 0x42, "1-6750@127.0.0.1", "6750SIPpTag001", "6662SIPpTag012"},
};

static __u64 h(const char *s)
{
	return sipdlg_hash_bytes(s, (__u32)strlen(s));
}

static int put_dialogs_fd(int dfd, int cfd)
{
	static const char cid[] = "a84b4c76e66710@pc33.atlanta.example.com";
	struct sipdlg_dlg_key k = {1685, 9485};
	__u64 ch = h(cid);
	int err = bench_put_dialog(dfd);

	if (!err && bpf_map_update_elem(cfd, &ch, &k, BPF_ANY))
		err = -errno;
	for (size_t i = 0; !err && i < sizeof(g_dlgs) / sizeof(g_dlgs[0]);
	     i++) {
		const struct dlg *d = &g_dlgs[i];
		struct sipdlg_dlg_value v;

		memset(&v, 0, sizeof(v));
		k.h_entry = d->h_entry;
		k.h_id = d->h_id;
		v.callid_hash = h(d->callid);
		v.caller_tag_hash = h(d->caller_tag);
		v.callee_tag_hash = h(d->callee_tag);
		v.state = 4;
		ch = v.callid_hash;
		if (bpf_map_update_elem(dfd, &k, &v, BPF_ANY) ||
		    bpf_map_update_elem(cfd, &ch, &k, BPF_ANY))
			err = -errno;
	}
	return err;
}

static int know_keys(struct prog *p);

/* @p's program fd, interpreter and ring buffer reader, from @prog. */
static int prog_attach(struct prog *p, const struct bpf_program *prog)
{
	struct bpf_map *map;

	p->prog_fd = bpf_program__fd(prog);
	p->ip = xdp_obj_interp(prog);
	if (!p->ip)
		return -errno;
	bpf_object__for_each_map(map, p->obj) if (bpf_map__type(map) ==
						  BPF_MAP_TYPE_RINGBUF) break;
	if (!map)
		return -ENOENT;
	p->rb = ring_buffer__new(bpf_map__fd(map), ev_cb, &p->ev, NULL);
	return p->rb ? 0 : -errno;
}

static int prog_load(struct prog *p)
{
	int err;

	p->skel = sipdlg_bpf__open();
	if (!p->skel)
		return -errno;
	err = xdp_obj_load(p->skel->obj, &p->k);
	if (!err)
		err = put_dialogs_fd(bpf_map__fd(p->skel->maps.dialogs),
				     bpf_map__fd(p->skel->maps.callids));
	if (err)
		return err;
	p->obj = p->skel->obj;
	err = prog_attach(p, p->skel->progs.sipdlg_xdp);
	return err ? err : know_keys(p);
}

/* --- map snapshots -----------------------------------------------------------
 */

struct snap_map {
	int fd;
	struct bpf_map_info info;
	size_t vsz; /* bytes per value as the syscall returns it */
	size_t n;
	uint8_t *keys, *vals;
};

struct snap {
	size_t n;
	struct snap_map m[16];
};

static void snap_free(struct snap *s)
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

/* Every key and value of one map. */
static int snap_map(struct snap_map *m)
{
	size_t ks = m->info.key_size, cap = 0;
	uint64_t in_b = 0, out_b = 0; /* batch tokens: a bucket or a key */
	__u32 chunk = 64;
	void *in = NULL;

	m->vsz = percpu(m->info.type)
		     ? ((m->info.value_size + 7) & ~7u) * (size_t)g_ncpus
		     : m->info.value_size;
	m->n = 0;
	/* batched: the per-frame snapshots are most of this test's syscalls */
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

/* The values of the keys @k holds, the same map's. */
static int snap_known(struct snap_map *m, const struct snap_map *k)
{
	size_t ks = m->info.key_size;

	m->vsz = k->vsz;
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

static int is_array(__u32 type)
{
	return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

/*
 * Every map of @p's object the program may write.  Once p->known is
 * set, hash maps are read by its keys only: walking a hash map visits
 * every bucket, and "dialogs" has a million; the program adds no key
 * (the interpreter knows no helper that would).
 */
static int snap_take(struct prog *p, struct snap *s)
{
	struct bpf_map *map;
	int err = 0;

	s->n = 0;
	bpf_object__for_each_map(map, p->obj)
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
		if (p->known && !is_array(m->info.type) && s->n < p->known->n)
			err = snap_known(m, &p->known->m[s->n]);
		else
			err = snap_map(m);
		s->n++;
		if (err)
			return err;
	}
	return 0;
}

/* Remember every map's keys, once the maps are set up. */
static int know_keys(struct prog *p)
{
	struct snap *s = calloc(1, sizeof(*s));
	int err = s ? snap_take(p, s) : -ENOMEM;

	if (err) {
		if (s)
			snap_free(s);
		free(s);
		return err;
	}
	p->known = s;
	return 0;
}

static void forget_keys(struct prog *p)
{
	if (p->known)
		snap_free(p->known);
	free(p->known);
	p->known = NULL;
}

/*
 * Does every map after the kernel's run hold what the interpreter says?
 * The first difference into @why.
 */
static int snap_agree(struct prog *p, const struct snap *before,
		      const struct snap *after, char *why, size_t wlen)
{
	for (size_t i = 0; i < after->n; i++) {
		const struct snap_map *a = &after->m[i], *b = &before->m[i];
		size_t ks = a->info.key_size, vs = a->info.value_size;

		if (a->n != b->n) {
			snprintf(why, wlen, "map %s: %zu keys, was %zu",
				 a->info.name, a->n, b->n);
			return 0;
		}
		for (size_t k = 0; k < a->n; k++) {
			const uint8_t *key = a->keys + k * ks, *want = NULL;

			/* the same key's value before, by position or search */
			for (size_t j = 0; j < b->n && !want; j++)
				if (!memcmp(b->keys + j * ks, key, ks))
					want = b->vals + j * b->vsz;
			if (!want) {
				snprintf(why, wlen, "map %s: a new key",
					 a->info.name);
				return 0;
			}
			if (bpf_interp_map_peek(p->ip, a->fd, key))
				want = bpf_interp_map_peek(p->ip, a->fd, key);
			/* CPU 0's slot of a per-CPU value comes first */
			if (memcmp(a->vals + k * a->vsz, want, vs)) {
				size_t off = 0;

				while (a->vals[k * a->vsz + off] == want[off])
					off++;
				snprintf(why, wlen,
					 "map %s key #%zu: value "
					 "differs at byte %zu (kernel 0x%02x, "
					 "interpreter 0x%02x)",
					 a->info.name, k, off,
					 a->vals[k * a->vsz + off], want[off]);
				return 0;
			}
		}
	}
	return 1;
}

/* --- one frame through both --------------------------------------------------
 */

static uint64_t coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The records of both runs the same? */
static int events_agree(struct prog *p, char *why, size_t wlen)
{
	size_t n = bpf_interp_nrecords(p->ip);

	if (n != p->ev.n) {
		snprintf(why, wlen, "%zu ring buffer records, kernel %zu", n,
			 p->ev.n);
		return 0;
	}
	for (size_t i = 0; i < n && i < MAX_EVENTS; i++) {
		const struct bpf_interp_record *r = bpf_interp_record(p->ip, i);

		if (r->len != p->ev.len[i] ||
		    memcmp(r->data, p->ev.rec[i], r->len)) {
			snprintf(why, wlen, "ring buffer record %zu differs",
				 i);
			return 0;
		}
	}
	return 1;
}

/*
 * Run @frame through the interpreter and the kernel with @p's maps;
 * 0 if they agree, else -1 and a TAP diagnostic (the first few).
 */
static int check(struct prog *p, const void *frame, size_t len,
		 const char *what, unsigned *reports)
{
	struct snap before = {0}, after = {0};
	struct bpf_interp_run r;
	char why[256] = "";
	uint64_t t0, t1;
	int irc, ok = 0;

	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = (__u32)len, .repeat = 1);

	if (snap_take(p, &before)) {
		snprintf(why, sizeof(why), "cannot read the maps");
		goto out;
	}
	t0 = coarse_ns();
	bpf_interp_set_clock(p->ip, t0);
	bpf_interp_maps_reset(p->ip);
	irc = bpf_interp_run_xdp(p->ip, frame, len, &r);
	if (bpf_prog_test_run_opts(p->prog_fd, &opts)) {
		snprintf(why, sizeof(why), "test run: %s", strerror(errno));
		goto out;
	}
	t1 = coarse_ns();
	p->ev.n = 0;
	ring_buffer__consume(p->rb);
	g_frames++;
	if (irc) {
		snprintf(why, sizeof(why), "interpreter: %s", r.err);
		goto out;
	}
	if (r.ret != opts.retval) {
		snprintf(why, sizeof(why), "verdict %u, kernel %u", r.ret,
			 opts.retval);
		goto out;
	}
	if (t0 != t1) {
		g_ticked++; /* the clocks may differ: verdict only */
		ok = 1;
		goto out;
	}
	if (snap_take(p, &after)) {
		snprintf(why, sizeof(why), "cannot read the maps");
		goto out;
	}
	ok = snap_agree(p, &before, &after, why, sizeof(why)) &&
	     events_agree(p, why, sizeof(why));
out:
	snap_free(&before);
	snap_free(&after);
	if (!ok && (*reports)++ < MAX_REPORTS)
		tap_diag("%s (%s, %zu bytes): %s", what, p->name, len, why);
	return ok ? 0 : -1;
}

/* --- the frames -------------------------------------------------------------
 */

static void test_loads(void **state)
{
	for (int i = 0; i < P_N; i++) {
		assert_non_null(g_p[i].ip);
		/* subprograms found and named from the kernel's func_info */
		assert_true(bpf_interp_nfuncs(g_p[i].ip) >= 1);
	}
	tap_diag("%zu instructions, %zu functions",
		 bpf_program__insn_cnt(g_p[P_PLAIN].skel->progs.sipdlg_xdp),
		 bpf_interp_nfuncs(g_p[P_PLAIN].ip));
}

/* Every bench row, over IPv4, IPv6 and QinQ, under every knob set. */
static void test_bench_rows(void **state)
{
	unsigned bad = 0, reports = 0;

	for (int pi = 0; pi < P_N; pi++) {
		for (size_t i = 0; i < bench_nrows; i++) {
			for (int v = 0; v < 3; v++) {
				struct bench_row row = bench_rows[i];
				char what[96];
				struct pkt pk;

				row.ipv6 = v == 1;
				row.vlans = v == 2 ? 2 : row.vlans;
				snprintf(what, sizeof(what), "%s%s", row.name,
					 v == 1	  ? " (IPv6)"
					 : v == 2 ? " (QinQ)"
						  : "");
				assert_int_equal(bench_frame(&row, &pk), 0);
				if (check(&g_p[pi], pk.buf, pk.len, what,
					  &reports))
					bad++;
			}
		}
	}
	assert_int_equal(bad, 0);
}

/* The same frames again and again: counters, CSeq, the rate limit. */
static void test_sequence(void **state)
{
	static const int progs[] = {P_PPS, P_PLAIN, P_MAC};
	unsigned bad = 0, reports = 0;

	for (size_t pi = 0; pi < sizeof(progs) / sizeof(progs[0]); pi++)
		for (int round = 0; round < 6; round++)
			for (size_t i = 0; i < bench_nrows; i++) {
				struct pkt pk;

				assert_int_equal(
				    bench_frame(&bench_rows[i], &pk), 0);
				if (check(&g_p[progs[pi]], pk.buf, pk.len,
					  bench_rows[i].name, &reports))
					bad++;
			}
	assert_int_equal(bad, 0);
}

/* The in-dialog BYE cut at every length from the Ethernet header on. */
static void test_truncations(void **state)
{
	unsigned bad = 0, reports = 0;
	struct pkt pk;
	char what[64];

	assert_int_equal(bench_frame(&bench_rows[5], &pk), 0);
	for (size_t n = 14; n <= pk.len; n++) {
		snprintf(what, sizeof(what), "BYE cut at %zu", n);
		if (check(&g_p[n % 2 ? P_PLAIN : P_DROP], pk.buf, n, what,
			  &reports))
			bad++;
	}
	assert_int_equal(bad, 0);
}

/* Every frame of every capture in tests/data/pcap. */
static void test_pcaps(void **state)
{
	const char *dir = getenv("SIPDLG_PCAP_DIR");
	unsigned bad = 0, reports = 0, n = 0;
	char pat[4096], what[300];
	glob_t g;

	snprintf(pat, sizeof(pat), "%s/*.pcap",
		 dir && *dir ? dir : "tests/data/pcap");
	if (glob(pat, 0, NULL, &g)) {
		skip();
		return;
	}
	for (size_t f = 0; f < g.gl_pathc; f++) {
		struct capfile *cf;
		struct capframe fr;
		int i = 0;

		assert_int_equal(capfile_open(g.gl_pathv[f], &cf), 0);
		while (capfile_next(cf, &fr) == 1) {
			i++;
			if (fr.len < 14 || fr.len > PKT_MAX)
				continue;
			snprintf(what, sizeof(what), "%s frame %d",
				 g.gl_pathv[f], i);
			for (int pi = 0; pi < P_N; pi++)
				if (check(&g_p[pi], fr.data, fr.len, what,
					  &reports))
					bad++;
			n++;
		}
		capfile_free(cf);
	}
	globfree(&g);
	tap_diag("%u capture frames", n);
	assert_true(n > 0);
	assert_int_equal(bad, 0);
}

/*
 * The object prepared without the verifier (libbpf's gen_loader, our
 * own maps) gives the instructions the kernel loaded, but for the map
 * fds, and counts every bench row the same.
 */
static void test_unverified(void **state)
{
	struct prog fresh = {.name = "fresh", .k = g_p[P_PLAIN].k};
	const struct bpf_program *prog;
	const struct bpf_insn *in, *x;
	char path[] = "/tmp/test_xdp_interp.XXXXXX";
	size_t n, sz = 0;
	const void *elf = sipdlg_bpf__elf_bytes(&sz);
	struct xdp_unverified u;
	struct bpf_lines *lines;
	uint64_t all = 0, lined = 0;
	int fd = mkstemp(path), r;

	/* a program the kernel never ran: both start from the same maps */
	assert_int_equal(prog_load(&fresh), 0);
	prog = fresh.skel->progs.sipdlg_xdp;
	in = bpf_program__insns(prog);
	n = bpf_program__insn_cnt(prog);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, elf, sz), (ssize_t)sz);
	close(fd);
	r = xdp_unverified_open(&u, path, &fresh.k);
	lines = bpf_lines_new(path, fresh.ip);
	unlink(path);
	assert_int_equal(r, 0);
	assert_non_null(lines);
	assert_int_equal(bpf_interp_nfuncs(u.ip), bpf_interp_nfuncs(fresh.ip));
	for (size_t i = 0; i < bpf_interp_nfuncs(u.ip); i++)
		assert_string_equal(bpf_interp_func(u.ip, i)->name,
				    bpf_interp_func(fresh.ip, i)->name);
	assert_int_equal(put_dialogs_fd(xdp_unverified_map_fd(&u, "dialogs"),
					xdp_unverified_map_fd(&u, "callids")),
			 0);
	for (size_t i = 0; i < bench_nrows; i++) {
		struct bpf_interp_run a, b;
		struct pkt pk;

		if (bench_rows[i].mac)
			continue;
		assert_int_equal(bench_frame(&bench_rows[i], &pk), 0);
		bpf_interp_maps_reset(u.ip);
		bpf_interp_maps_reset(fresh.ip);
		for (int k = 0; k < 2; k++) {
			assert_int_equal(
			    bpf_interp_run_xdp(u.ip, pk.buf, pk.len, &a), 0);
			assert_int_equal(
			    bpf_interp_run_xdp(fresh.ip, pk.buf, pk.len, &b),
			    0);
			assert_int_equal(a.ret, b.ret);
			assert_int_equal(a.insns, b.insns);
		}
		/* bpf_icount -l: executed instructions have source lines */
		for (size_t pc = 0; pc < n; pc++) {
			uint64_t hits = bpf_interp_pc_hits(fresh.ip, pc);
			const char *file, *text;
			unsigned line;

			all += hits;
			if (hits &&
			    !bpf_lines_at(lines, pc, &file, &line, &text))
				lined += hits;
		}
	}
	tap_diag("%llu of %llu executed instructions have a source line",
		 (unsigned long long)lined, (unsigned long long)all);
	assert_true(lined * 100 >= all * 95);
	bpf_lines_free(lines);
	/* the same program: opcodes, registers, offsets, immediates but fds */
	x = bpf_program__insns(xdp_obj_prog(u.obj));
	assert_int_equal(bpf_program__insn_cnt(xdp_obj_prog(u.obj)), n);
	for (size_t i = 0; i < n; i++) {
		int ld = in[i].code == (BPF_LD | BPF_IMM | BPF_DW);

		assert_int_equal(x[i].code, in[i].code);
		assert_int_equal(x[i].dst_reg, in[i].dst_reg);
		assert_int_equal(x[i].off, in[i].off);
		if (!ld || !in[i].src_reg) {
			assert_int_equal(x[i].src_reg, in[i].src_reg);
			assert_int_equal(x[i].imm, in[i].imm);
		}
		if (ld) {
			i++; /* the offset into a map value */
			assert_int_equal(x[i].imm, in[i].imm);
		}
	}
	xdp_unverified_close(&u);
	ring_buffer__free(fresh.rb);
	bpf_interp_free(fresh.ip);
	sipdlg_bpf__destroy(fresh.skel);
}

/* --- random mutations of the SIP payloads -----------------------------------
 */

static uint64_t g_rng;

static unsigned rnd(unsigned n)
{
	g_rng ^= g_rng << 13;
	g_rng ^= g_rng >> 7;
	g_rng ^= g_rng << 17;
	return n ? (unsigned)(g_rng % n) : 0;
}

/* Pieces a mutation inserts: what the scanner looks for. */
static const char *const g_pieces[] = {
    "\r\n",
    "\n",
    "\r\n\r\n",
    " ",
    "\t",
    ";",
    ",",
    ":",
    "=",
    "<",
    ">",
    "\"",
    "did=",
    "did=596.d052",
    ";did=1.2",
    "dm=",
    ";tag=",
    "tag=",
    "Route: ",
    "route:",
    "Call-ID: ",
    "i: ",
    "CSeq: ",
    "CSeq: 4294967296 ",
    "From: ",
    "f:",
    "To: ",
    "t:",
    "Via: ",
    "v:",
    "z9hG4bKsd596.d052.1",
    "SIP/2.0",
    "SIP/2.0 200 OK\r\n",
    "BYE ",
    "INVITE ",
    "ACK ",
    "0",
    "9",
    "ffffffff",
    ".",
    "@",
    "Content-Length: 0",
};

static size_t mutate(char *m, size_t n, size_t cap)
{
	unsigned steps = 1 + rnd(4);

	while (steps--) {
		size_t at = n ? rnd((unsigned)n) : 0, len;
		const char *pc;

		switch (rnd(5)) {
		case 0: /* one byte replaced */
			if (n)
				m[at] = g_pieces[rnd(12)][0];
			break;
		case 1: /* a span deleted */
			len = 1 + rnd(40);
			if (at + len > n)
				len = n - at;
			memmove(m + at, m + at + len, n - at - len);
			n -= len;
			break;
		case 2: /* a piece inserted */
			pc = g_pieces[rnd(sizeof(g_pieces) /
					  sizeof(g_pieces[0]))];
			len = strlen(pc);
			if (n + len > cap)
				break;
			memmove(m + at + len, m + at, n - at);
			memcpy(m + at, pc, len);
			n += len;
			break;
		case 3: /* a span copied elsewhere */
			len = 1 + rnd(60);
			if (at + len > n || n + len > cap)
				break;
			{
				size_t to = rnd((unsigned)n);
				char tmp[64];

				memcpy(tmp, m + at, len);
				memmove(m + to + len, m + to, n - to);
				memcpy(m + to, tmp, len);
				n += len;
			}
			break;
		default: /* cut short */
			n = at;
			break;
		}
	}
	return n;
}

static void test_mutations(void **state)
{
	const char *e = getenv("SIPDLG_INTERP_ROUNDS");
	const char *s = getenv("SIPDLG_INTERP_SEED");
	unsigned rounds = e ? (unsigned)strtoul(e, NULL, 0) : 3000;
	unsigned bad = 0, reports = 0;

	g_rng = s ? strtoull(s, NULL, 0) : 0x9e3779b97f4a7c15ULL;
	if (!g_rng)
		g_rng = 1;
	tap_diag("%u rounds, SIPDLG_INTERP_SEED=0x%llx", rounds,
		 (unsigned long long)g_rng);
	for (unsigned i = 0; i < rounds; i++) {
		const struct bench_row *row;
		struct pkt_sip_opts o = {0};
		char sip[PKT_MAX - 128], what[64];
		struct pkt pk;
		size_t n;
		int pi;

		do
			row = &bench_rows[rnd((unsigned)bench_nrows)];
		while (!row->sip);
		n = bench_payload(row->sip, sip, sizeof(sip));
		n = mutate(sip, n, sizeof(sip));
		o.ipv6 = rnd(4) == 0;
		o.vlans = rnd(6) == 0 ? 1 + (int)rnd(2) : 0;
		o.dport = rnd(8) ? 5060 : 5080;
		pi = row->mac ? P_MAC : (int)rnd(P_N);
		assert_int_equal(pkt_sip(&pk, &o, sip, n), 0);
		snprintf(what, sizeof(what), "round %u", i);
		if (check(&g_p[pi], pk.buf, pk.len, what, &reports))
			bad++;
	}
	assert_int_equal(bad, 0);
}

/*
 * The probe fixture (tests/bpf/fixtures/interp_probe.bpf.c): .bss,
 * .data and .rodata values, pointer arguments to subprograms, writes and
 * atomics through hash and per-CPU array lookups, discarded records, on
 * random frames; its maps carry over from frame to frame.
 */
static void test_probe(void **state)
{
	const char *dir = getenv("SIPDLG_FIXTURE_DIR");
	struct prog p = {.name = "probe"};
	unsigned bad = 0, reports = 0;
	char path[4096];
	struct bpf_map *map;
	int err;

	snprintf(path, sizeof(path), "%s/interp_probe.bpf.o",
		 dir && *dir ? dir : "build/tests/fixtures");
	p.obj = bpf_object__open_file(path, NULL);
	if (!p.obj) {
		tap_diag("%s: %s (make test-build builds it)", path,
			 strerror(errno));
		fail();
	}
	bpf_object__for_each_map(map, p.obj) bpf_map__set_pin_path(map, NULL);
	assert_int_equal(bpf_object__load(p.obj), 0);
	map = bpf_object__find_map_by_name(p.obj, "probe_hash");
	assert_non_null(map);
	for (__u32 k = 0; k < 16; k++) {
		__u64 v = 0x9e3779b97f4a7c15ULL * (k + 1);

		assert_int_equal(
		    bpf_map_update_elem(bpf_map__fd(map), &k, &v, BPF_ANY), 0);
	}
	err = prog_attach(&p, bpf_object__next_program(p.obj, NULL));
	assert_int_equal(err, 0);
	assert_int_equal(know_keys(&p), 0);
	g_rng = 0x5851f42d4c957f2dULL;
	for (int i = 0; i < 1500; i++) {
		uint8_t frame[256];
		size_t len = 14 + rnd(200);
		char what[32];

		for (size_t b = 0; b < len; b++)
			frame[b] = (uint8_t)rnd(256);
		snprintf(what, sizeof(what), "probe frame %d", i);
		if (check(&p, frame, len, what, &reports))
			bad++;
	}
	forget_keys(&p);
	ring_buffer__free(p.rb);
	bpf_interp_free(p.ip);
	bpf_object__close(p.obj);
	assert_int_equal(bad, 0);
}

/* --- main
 * --------------------------------------------------------------------- */

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	fputs("# ", stderr);
	return vfprintf(stderr, fmt, ap);
}

static int group_setup(void **state)
{
	cpu_set_t one;

	g_ncpus = libbpf_num_possible_cpus();
	if (g_ncpus <= 0)
		return -1;
	/* the kernel's test runs then update CPU 0's per-CPU slots */
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (sched_setaffinity(0, sizeof(one), &one)) {
		tap_diag("cannot pin to CPU 0: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < P_N; i++) {
		int err = prog_load(&g_p[i]);

		if (err) {
			tap_diag("load %s: %s", g_p[i].name, strerror(-err));
			return -1;
		}
	}
	return 0;
}

/*
 * Which opcodes of the program no frame executed (the ISA test,
 * test_interp_isa, covers them one by one): a diagnostic, not a failure.
 */
static void opcode_coverage(void)
{
	const struct bpf_program *prog = g_p[P_PLAIN].skel->progs.sipdlg_xdp;
	const struct bpf_insn *in = bpf_program__insns(prog);
	size_t n = bpf_program__insn_cnt(prog), used = 0, missed = 0;
	char list[512] = "";
	int seen[256] = {0};

	for (size_t i = 0; in && i < n; i++) {
		seen[in[i].code] = 1;
		if (in[i].code == (BPF_LD | BPF_IMM | BPF_DW))
			i++; /* its second half is no instruction */
	}
	for (int c = 0; c < 256; c++) {
		uint64_t hits = 0;

		if (!seen[c])
			continue;
		used++;
		for (int i = 0; i < P_N; i++)
			if (g_p[i].ip)
				hits +=
				    bpf_interp_op_hits(g_p[i].ip, (uint8_t)c);
		if (!hits && strlen(list) < sizeof(list) - 8) {
			snprintf(list + strlen(list),
				 sizeof(list) - strlen(list), " 0x%02x", c);
			missed++;
		}
	}
	tap_diag("%zu of the program's %zu opcodes executed%s%s", used - missed,
		 used, missed ? "; never:" : "", list);
}

static int group_teardown(void **state)
{
	tap_diag("%u frames compared, %u of them on the verdict only (the "
		 "clock ticked between the runs)",
		 g_frames, g_ticked);
	if (g_p[P_PLAIN].skel)
		opcode_coverage();
	for (int i = 0; i < P_N; i++) {
		forget_keys(&g_p[i]);
		ring_buffer__free(g_p[i].rb);
		bpf_interp_free(g_p[i].ip);
		sipdlg_bpf__destroy(g_p[i].skel);
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_loads),
	    cmocka_unit_test(test_bench_rows),
	    cmocka_unit_test(test_sequence),
	    cmocka_unit_test(test_truncations),
	    cmocka_unit_test(test_pcaps),
	    cmocka_unit_test(test_mutations),
	    cmocka_unit_test(test_unverified),
	    cmocka_unit_test(test_probe),
	};

	if (geteuid() != 0) {
		printf("1..1\nok 1 - test_xdp_interp # SKIP needs root\n");
		return 0;
	}
	libbpf_set_print(libbpf_quiet);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
