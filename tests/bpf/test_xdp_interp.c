// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_xdp_interp.c - the instruction-counting interpreter
 * (tools/bench/bpf_interp.c) against the kernel.
 *
 * bpf_icount's counts are only worth something if the interpreter runs
 * the program as the kernel does.  Every frame here goes through both
 * on the same maps (tests/bpf/xdp_diff.h): the verdict, the frame after
 * the run, every writable map's every key (dialogs, callids, counters,
 * fpstate, overflow, ev_budget, ...: whatever the object has) and the
 * ring buffer records must agree, and the interpreter must meet no
 * error (no out-of-region access, no unknown opcode or helper).  The
 * process is pinned to one CPU, whose per-CPU values the interpreter
 * reads; frames where the coarse clock ticked between the two runs have
 * only verdict and frame compared, and their count is printed.
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
#include <net/if.h>

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sipdlg_shared.h"
#include "sipdlg_hash.h"
#include "sipdlg.skel.h"
#include "lib/tap.h"
#include "lib/pcap.h"
#include "lib/pkt.h"
#include "bench_pkts.h"
#include "bpf_interp.h"
#include "xdp_obj.h"
#include "xdp_unverified.h"
#include "bpf_lines.h"
#include "xdp_diff.h"

#define MAX_REPORTS 8 /* mismatches printed per test */

static int g_ncpus;
static unsigned g_ticked; /* frames whose maps were not compared */
static unsigned g_frames; /* summed at the end over the programs */

/* --- the programs: one load per knob set, each with its interpreter ----- */

struct prog {
	const char *name;
	struct xdp_knobs k;
	struct sipdlg_bpf *skel;
	struct xdp_diff d; /* its interpreter, maps, records */
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
	return xdp_diff_attach(&p->d, p->skel->obj, p->skel->progs.sipdlg_xdp);
}

/*
 * Run @frame through the interpreter and the kernel with @d's maps
 * (xdp_diff.h); 0 if they agree, else -1 and a TAP diagnostic (the
 * first few).
 */
static int check_d(struct xdp_diff *d, const char *name, const void *frame,
		   size_t len, const char *what, unsigned *reports)
{
	char why[256] = "";

	if (!xdp_diff_frame(d, frame, len, why, sizeof(why)))
		return 0;
	if ((*reports)++ < MAX_REPORTS)
		tap_diag("%s (%s, %zu bytes): %s", what, name, len, why);
	return -1;
}

static int check(struct prog *p, const void *frame, size_t len,
		 const char *what, unsigned *reports)
{
	return check_d(&p->d, p->name, frame, len, what, reports);
}

/* --- the frames ---------------------------------------------------- */

static void test_loads(void **state)
{
	for (int i = 0; i < P_N; i++) {
		assert_non_null(g_p[i].d.ip);
		/* subprograms found and named from the kernel's func_info */
		assert_true(bpf_interp_nfuncs(g_p[i].d.ip) >= 1);
	}
	tap_diag("%zu instructions, %zu functions",
		 bpf_program__insn_cnt(g_p[P_PLAIN].skel->progs.sipdlg_xdp),
		 bpf_interp_nfuncs(g_p[P_PLAIN].d.ip));
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
	lines = bpf_lines_new(path, fresh.d.ip);
	unlink(path);
	assert_int_equal(r, 0);
	assert_non_null(lines);
	assert_int_equal(bpf_interp_nfuncs(u.ip),
			 bpf_interp_nfuncs(fresh.d.ip));
	/*
	 * Names come from the kernel's func_info on one side and from the
	 * ELF on the other; when either could not name a function it keeps
	 * the interpreter's own "main"/"sub@N", which is no disagreement.
	 */
	for (size_t i = 0; i < bpf_interp_nfuncs(u.ip); i++) {
		const char *a = bpf_interp_func(u.ip, i)->name;
		const char *b = bpf_interp_func(fresh.d.ip, i)->name;

		if (!strcmp(a, "main") || !strcmp(b, "main") ||
		    !strncmp(a, "sub@", 4) || !strncmp(b, "sub@", 4))
			continue;
		assert_string_equal(a, b);
	}
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
		bpf_interp_maps_reset(fresh.d.ip);
		for (int k = 0; k < 2; k++) {
			assert_int_equal(
			    bpf_interp_run_xdp(u.ip, pk.buf, pk.len, &a), 0);
			assert_int_equal(
			    bpf_interp_run_xdp(fresh.d.ip, pk.buf, pk.len, &b),
			    0);
			assert_int_equal(a.ret, b.ret);
			assert_int_equal(a.insns, b.insns);
		}
		/* bpf_icount -l: executed instructions have source lines */
		for (size_t pc = 0; pc < n; pc++) {
			uint64_t hits = bpf_interp_pc_hits(fresh.d.ip, pc);
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
	xdp_diff_detach(&fresh.d);
	sipdlg_bpf__destroy(fresh.skel);
}

/* --- random mutations of the SIP payloads -------------------------- */

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
	struct bpf_object *obj;
	struct xdp_diff d;
	unsigned bad = 0, reports = 0;
	char path[4096];
	struct bpf_map *map;

	snprintf(path, sizeof(path), "%s/interp_probe.bpf.o",
		 dir && *dir ? dir : "build/tests/fixtures");
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		tap_diag("%s: %s (make test-build builds it)", path,
			 strerror(errno));
		fail();
	}
	bpf_object__for_each_map(map, obj)
	{
		bpf_map__set_pin_path(map, NULL);
	}
	assert_int_equal(bpf_object__load(obj), 0);
	map = bpf_object__find_map_by_name(obj, "probe_hash");
	assert_non_null(map);
	for (__u32 k = 0; k < 16; k++) {
		__u64 v = 0x9e3779b97f4a7c15ULL * (k + 1);

		assert_int_equal(
		    bpf_map_update_elem(bpf_map__fd(map), &k, &v, BPF_ANY), 0);
	}
	assert_int_equal(
	    xdp_diff_attach(&d, obj, bpf_object__next_program(obj, NULL)), 0);
	g_rng = 0x5851f42d4c957f2dULL;
	for (int i = 0; i < 1500; i++) {
		uint8_t frame[256];
		size_t len = 14 + rnd(200);
		char what[32];

		for (size_t b = 0; b < len; b++)
			frame[b] = (uint8_t)rnd(256);
		snprintf(what, sizeof(what), "probe frame %d", i);
		if (check_d(&d, "probe", frame, len, what, &reports))
			bad++;
	}
	g_frames += d.frames;
	g_ticked += d.ticked;
	xdp_diff_detach(&d);
	bpf_object__close(obj);
	assert_int_equal(bad, 0);
}

/* --- main ---------------------------------------------------------- */

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	fputs("# ", stderr);
	return vfprintf(stderr, fmt, ap);
}

/* --- the kernel relay ---------------------------------------------- */

/*
 * The relay needs bpf_fib_lookup() to succeed in the kernel: a network
 * namespace of the process's own (unshare: it goes with the process;
 * this test runs last) with a veth whose MAC, addresses and permanent
 * neighbours give the answer of the interpreter's stub (bpf_interp_env.c
 * fib_lookup(): 02:00:00:00:00:01 to 02:00:00:00:00:02, MTU 1500).
 */
static int relay_netns(void)
{
	static const char *const cmds[] = {
	    "ip link set lo up",
	    "sysctl -qw net.ipv4.conf.all.forwarding=1",
	    "ip link add rkc0 type veth peer name rkc1",
	    "ip link set rkc0 address 02:00:00:00:00:01",
	    "ip link set rkc0 up",
	    "ip link set rkc1 up",
	    "ip addr add 192.0.2.2/24 dev rkc0",
	    "ip neigh add 192.0.2.1 lladdr 02:00:00:00:00:02 dev rkc0 nud "
	    "permanent",
	    "ip neigh add 192.0.2.4 lladdr 02:00:00:00:00:02 dev rkc0 nud "
	    "permanent",
	};

	if (unshare(CLONE_NEWNET) != 0) {
		tap_diag("unshare: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (tap_sh(cmds[i]))
			return -1;
	return 0;
}

/*
 * The bench table's relayed rows (a request, a reply) through the
 * relay-on program: the kernel and the interpreter agree (verdict,
 * frame, maps) and both relay (XDP_REDIRECT).
 */
static void test_relay(void **state)
{
	struct prog p = {.name = "relay", .k = {PORTS, KEY}};
	unsigned reports = 0, rows = 0;
	struct bpf_interp_run r;
	struct pkt pk;

	(void)state;
	if (relay_netns())
		skip();
	p.skel = sipdlg_bpf__open();
	assert_non_null(p.skel);
	p.skel->rodata->relay_enabled = 1;
	p.skel->rodata->relay_methods = BENCH_RELAY_METHODS;
	assert_int_equal(xdp_obj_load(p.skel->obj, &p.k), 0);
	assert_int_equal(put_dialogs_fd(bpf_map__fd(p.skel->maps.dialogs),
					bpf_map__fd(p.skel->maps.callids)),
			 0);
	assert_int_equal(
	    bench_put_relay_hops(bpf_map__fd(p.skel->maps.relay_hops),
				 if_nametoindex("rkc0")),
	    0);
	assert_int_equal(
	    xdp_diff_attach(&p.d, p.skel->obj, p.skel->progs.sipdlg_xdp), 0);
	for (size_t i = 0; i < bench_nrows; i++) {
		if (!bench_rows[i].relay)
			continue;
		rows++;
		assert_int_equal(bench_frame(&bench_rows[i], &pk), 0);
		if (check(&p, pk.buf, pk.len, bench_rows[i].name, &reports))
			continue;
		bpf_interp_maps_reset(p.d.ip);
		assert_int_equal(bpf_interp_run_xdp(p.d.ip, pk.buf, pk.len, &r),
				 0);
		tap_diag("%s: %u, %llu insns", bench_rows[i].name, r.ret,
			 (unsigned long long)r.insns);
		assert_int_equal(r.ret, XDP_REDIRECT);
	}
	g_frames += p.d.frames;
	g_ticked += p.d.ticked;
	xdp_diff_detach(&p.d);
	sipdlg_bpf__destroy(p.skel);
	assert_int_equal(rows, 2);
	assert_int_equal(reports, 0);
}

static int group_setup(void **state)
{
	cpu_set_t allowed, one;
	int cpu = -1;

	g_ncpus = libbpf_num_possible_cpus();
	if (g_ncpus <= 0 || sched_getaffinity(0, sizeof(allowed), &allowed))
		return -1;
	/* one CPU: the kernel's test runs update its per-CPU slots */
	for (int c = 0; c < CPU_SETSIZE && cpu < 0; c++)
		if (CPU_ISSET(c, &allowed))
			cpu = c;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (cpu < 0 || sched_setaffinity(0, sizeof(one), &one)) {
		tap_diag("cannot pin to CPU %d: %s", cpu, strerror(errno));
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
			if (g_p[i].d.ip)
				hits +=
				    bpf_interp_op_hits(g_p[i].d.ip, (uint8_t)c);
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
	for (int i = 0; i < P_N; i++) {
		g_frames += g_p[i].d.frames;
		g_ticked += g_p[i].d.ticked;
	}
	tap_diag("%u frames compared, %u of them on verdict and frame only "
		 "(the clock ticked between the runs)",
		 g_frames, g_ticked);
	if (g_p[P_PLAIN].skel)
		opcode_coverage();
	for (int i = 0; i < P_N; i++) {
		xdp_diff_detach(&g_p[i].d);
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
	    cmocka_unit_test(test_relay), /* last: moves to a netns */
	};

	if (geteuid() != 0) {
		printf("1..1\nok 1 - test_xdp_interp # SKIP needs root\n");
		return 0;
	}
	libbpf_set_print(libbpf_quiet);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
