// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_xdp.c - what the XDP fast path costs per packet, in time and in
 * executed instructions.
 *
 * Runs the program (build/sipdlg.skel.h, maps unpinned) and a trivial
 * XDP_PASS program (tools/bench/floor.bpf.c) through BPF_PROG_TEST_RUN,
 * `repeat` times per run (default 1,000,000), five runs per packet, and
 * prints the median, min and max of the kernel's ns-per-repeat figure,
 * the reason each packet is counted under, the BPF instructions the
 * program executes for it (counted by tools/bench/bpf_interp.c on the
 * same maps: the same on every run, unlike the time), and the
 * verifier's processed instruction counts.  It prints figures and
 * asserts nothing.  The frames are those of tools/bench/bench_pkts.c:
 * non-SIP UDP untagged, VLAN-tagged and over IPv6, then SIP.
 *
 * Usage: bench_xdp [-r REPEAT] [-n RUNS] [-f FILE [-m]]: with -f, time
 * the UDP payload in FILE (to port 5060, the benchmark's dialog in the
 * map, -m: on the MAC-on program) instead of the table; -d DIR writes the
 * table's SIP payloads to DIR/rowN.sip for such runs; -p LINES (with -f)
 * writes the program's JIT line table for tools/bench/xdp_lines.py;
 * -o ROWS runs only the table rows whose digits are in ROWS (-o 0123:
 * the floor and the non-SIP rows), without the breakdown.
 * Every run of a row is paired with a floor run just before it; "over
 * floor" is the median of the differences, steadier than the difference
 * of medians while the machine's speed drifts.  Needs root.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>

#include "sipdlg_shared.h"
#include "sipdlg_hash.h"
#include "sipdlg.skel.h"
#include "floor.skel.h"
#include "lib/pkt.h"
#include "bench_pkts.h"
#include "bpf_interp.h"
#include "xdp_obj.h"

#define MAX_RUNS 15

static const char *reason_name(int r)
{
	switch (r) {
	case SDR_OTHER_PORT: return "other_port";
	case SDR_SIP_UDP4: return "sip_udp4";
	case SDR_DLG_MATCH: return "dlg_match";
	case SDR_DLG_REPLY_MATCH: return "dlg_reply_match";
	case SDR_DLG_UNKNOWN: return "dlg_unknown";
	case SDR_RELAY_REQ: return "relay_req";
	case SDR_RELAY_REPLY: return "relay_reply";
	case -1: return "-";
	default: return "other";
	}
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* The program with the bench knobs (MAC on if @mac), maps unpinned. */
static struct sipdlg_bpf *load_prog_relay(int mac, int relay)
{
	struct xdp_knobs k = { .sip_ports = { BENCH_SIP_PORT }, .mac = mac,
			       .mac_key = { BENCH_MAC_K0, BENCH_MAC_K1 } };
	struct sipdlg_bpf *skel = sipdlg_bpf__open();

	if (!skel)
		return NULL;
	if (relay) {
		skel->rodata->relay_enabled = 1;
		skel->rodata->relay_methods = BENCH_RELAY_METHODS;
	}
	if (xdp_obj_load(skel->obj, &k) ||
	    bench_put_dialog(bpf_map__fd(skel->maps.dialogs)) ||
	    (relay &&
	     bench_put_relay_hops(bpf_map__fd(skel->maps.relay_hops), 2))) {
		sipdlg_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static struct sipdlg_bpf *load_prog(int mac)
{
	return load_prog_relay(mac, 0);
}

/*
 * The reason the interpreter's last run of @ip on @skel's program
 * counted: the one "counters" key it looked up, or -1.
 */
static int interp_reason(struct bpf_interp *ip, struct sipdlg_bpf *skel)
{
	int fd = bpf_map__fd(skel->maps.counters);

	for (__u32 k = 0; k < SDR_MAX_; k++)
		if (bpf_interp_map_peek(ip, fd, &k))
			return (int)k;
	return -1;
}

/*
 * Publish CLOCK_MONOTONIC into @skel's sd_clock_ns once, as the
 * controller does every SIPDLG_CLOCK_PUBLISH_MS (user/fastpath/fp_clock.c):
 * the timed programs then run as they do under sipdlgd, stamping matched
 * dialogs with a load instead of a clock helper call.  The counted copies
 * keep 0 (the helper), like bpf_icount.
 */
static void publish_clock(struct sipdlg_bpf *skel)
{
	struct bpf_map *m = bpf_object__find_map_by_name(skel->obj,
							 ".data.clock");
	struct timespec ts;
	size_t sz = 0;
	__u64 *slot = m ? (void *)bpf_map__initial_value(m, &sz) : NULL;

	if (slot && sz >= sizeof(*slot) &&
	    clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
		*slot = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/*
 * BPF instructions @ip executes for @p, as bpf_icount counts them: on
 * fresh copies of the maps of a program the kernel never ran (so the
 * timed runs, whose effects depend on time, cannot change the count),
 * the second of two runs (the repeated packet the timed runs measure).
 * 0 if the interpreter failed (said on stderr).
 */
static unsigned long long icount(struct bpf_interp *ip, const struct pkt *p)
{
	struct bpf_interp_run r;

	bpf_interp_maps_reset(ip);
	if (bpf_interp_run_xdp(ip, p->buf, p->len, &r) ||
	    bpf_interp_run_xdp(ip, p->buf, p->len, &r)) {
		fprintf(stderr, "bench_xdp: interpreter: %s\n", r.err);
		return 0;
	}
	return (unsigned long long)r.insns;
}

/* The reason one run of @fd on the frame counts (sipdlg only). */
static int reason_of(struct sipdlg_bpf *skel, const struct pkt *p)
{
	int ncpus = libbpf_num_possible_cpus();
	struct sipdlg_counter *v = calloc((size_t)ncpus, sizeof(*v));
	__u64 before[SDR_MAX_];
	int r = -1;

	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->buf,
		    .data_size_in = (__u32)p->len, .repeat = 1);
	if (!v)
		return -1;
	for (__u32 k = 0; k < SDR_MAX_; k++) {
		before[k] = 0;
		if (!bpf_map__lookup_elem(skel->maps.counters, &k, sizeof(k), v,
					  (size_t)ncpus * sizeof(*v), 0))
			for (int c = 0; c < ncpus; c++)
				before[k] += v[c].packets;
	}
	bpf_prog_test_run_opts(bpf_program__fd(skel->progs.sipdlg_xdp), &opts);
	for (__u32 k = 0; k < SDR_MAX_; k++) {
		__u64 now = 0;

		if (!bpf_map__lookup_elem(skel->maps.counters, &k, sizeof(k), v,
					  (size_t)ncpus * sizeof(*v), 0))
			for (int c = 0; c < ncpus; c++)
				now += v[c].packets;
		if (now != before[k])
			r = (int)k;
	}
	free(v);
	return r;
}

static __u32 verified(int fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.verified_insns;
}

/* One BPF_PROG_TEST_RUN of @p on @fd: its ns per repeat in *ns. */
static int run_once(int fd, const struct pkt *p, __u32 repeat, __u32 *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->buf,
		    .data_size_in = (__u32)p->len, .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &opts)) {
		fprintf(stderr, "test run: %s\n", strerror(errno));
		return -1;
	}
	*ns = opts.duration;
	return 0;
}

/* Median and min of @runs timed runs of @fd on @p (ns/packet). */
static int time_frame(int fd, const struct pkt *p, __u32 repeat, __u32 runs,
		      __u32 *median, __u32 *min)
{
	__u32 t[MAX_RUNS];

	for (__u32 k = 0; k < runs; k++)
		if (run_once(fd, p, repeat, &t[k]))
			return -1;
	qsort(t, runs, sizeof(t[0]), cmp_u32);
	*median = t[runs / 2];
	*min = t[0];
	return 0;
}

/*
 * @runs runs of @fd on @p, each right after a run of the floor program
 * @floor_fd (the machine's speed drifts between runs, less within a
 * pair): the times sorted into @t, the differences to the floor sorted
 * into @d (0 where the floor run was slower).
 */
static int time_paired(int floor_fd, int fd, const struct pkt *p,
		       __u32 repeat, __u32 runs, __u32 *t, __u32 *d)
{
	__u32 fl_t;

	for (__u32 k = 0; k < runs; k++) {
		if (run_once(floor_fd, p, repeat, &fl_t) ||
		    run_once(fd, p, repeat, &t[k]))
			return -1;
		d[k] = t[k] > fl_t ? t[k] - fl_t : 0;
	}
	qsort(t, runs, sizeof(t[0]), cmp_u32);
	qsort(d, runs, sizeof(d[0]), cmp_u32);
	return 0;
}

/*
 * Where the time of the in-dialog BYE goes: the message cut after its
 * first 1, 2, ... lines (an empty line, then 300 bytes of body, so that
 * no line is near the frame's end), each timed; the difference between
 * two rows is what the added line costs, the last row includes the
 * dialog lookup, tight match and counters.  BPF JIT code cannot be
 * annotated by Debian's perf (no libopcodes), so this is the profile.
 * Minimum of the runs: the figure least disturbed by other load.
 */
static int breakdown(struct sipdlg_bpf *skel, struct bpf_interp *ip,
		     __u32 repeat, __u32 runs)
{
	static const char *lines[] = {
		"BYE sip:bob@192.0.2.4:5060;transport=udp SIP/2.0",
		"Via: SIP/2.0/UDP 198.51.100.7:5060;rport;branch=z9hG4bK-524287-1---77b0e1fa16c1a4c4",
		"Via: SIP/2.0/UDP 192.0.2.1:5070;received=192.0.2.1;rport=5070;branch=z9hG4bK-d8754z-a4c1b2f3e4d5",
		"Route: <sip:192.0.2.2;lr;ftag=1928301774;did=596.d052>",
		"Max-Forwards: 69",
		"From: \"Alice Liddell\" <sip:alice@atlanta.example.com>;tag=1928301774",
		"To: \"Bob Builder\" <sip:bob@biloxi.example.com>;tag=a6c85cf",
		"Call-ID: a84b4c76e66710@pc33.atlanta.example.com",
		"CSeq: 231 BYE",
	};
	int fd = bpf_program__fd(skel->progs.sipdlg_xdp);
	char sip[PKT_MAX];
	unsigned long long prev_i = 0;
	__u32 prev = 0;

	printf("\nwhere the in-dialog BYE's time goes (message cut after "
	       "line N, min of %u runs; executed instructions)\n\n", runs);
	printf("%-2s %-24s %6s %-16s %6s %6s %7s %7s\n", "N", "line added",
	       "bytes", "reason", "min", "+ns", "insns", "+insns");
	for (size_t n = 1; n <= sizeof(lines) / sizeof(lines[0]); n++) {
		struct pkt p;
		size_t len = 0;
		unsigned long long ic;
		__u32 med, min;

		for (size_t i = 0; i < n; i++)
			len += (size_t)snprintf(sip + len, sizeof(sip) - len,
						"%s\r\n", lines[i]);
		len += (size_t)snprintf(sip + len, sizeof(sip) - len, "\r\n");
		memset(sip + len, 'b', 300);
		len += 300;
		pkt_sip(&p, NULL, sip, len);
		if (time_frame(fd, &p, repeat, runs, &med, &min))
			return -1;
		ic = icount(ip, &p);
		printf("%-2zu %-24.24s %6zu %-16s %6u %+6d %7llu %+7lld\n", n,
		       lines[n - 1], p.len, reason_name(reason_of(skel, &p)),
		       min, (int)min - (int)prev, ic,
		       (long long)ic - (long long)prev_i);
		prev = min;
		prev_i = ic;
	}
	return 0;
}

/*
 * -p FILE: the JIT line table of @skel's program: "K addr" per function,
 * "L addr file:line source" per line-info record.  With `perf record` of
 * the same run, tools/bench/xdp_lines.py turns samples into source lines
 * (bpftool here has no libbfd, so no JIT disassembly).
 */
static int dump_lines(struct sipdlg_bpf *skel, const char *path)
{
	int fd = bpf_program__fd(skel->progs.sipdlg_xdp), rc = -1;
	struct bpf_prog_info info = {};
	__u32 il = sizeof(info), nl, nk, nli;
	struct bpf_line_info *li = NULL;
	__u64 *jl = NULL, *ks = NULL;
	struct btf *btf = NULL;
	FILE *o = NULL;

	if (bpf_obj_get_info_by_fd(fd, &info, &il))
		return -1;
	nl = info.nr_jited_line_info;
	nk = info.nr_jited_ksyms;
	nli = info.nr_line_info;
	jl = calloc(nl + 1, sizeof(*jl));
	ks = calloc(nk + 1, sizeof(*ks));
	li = calloc(nli + 1, sizeof(*li));
	if (!jl || !ks || !li)
		goto out;
	memset(&info, 0, sizeof(info));
	info.nr_jited_line_info = nl;
	info.jited_line_info = (__u64)(unsigned long)jl;
	info.jited_line_info_rec_size = sizeof(*jl);
	info.nr_jited_ksyms = nk;
	info.jited_ksyms = (__u64)(unsigned long)ks;
	info.nr_line_info = nli;
	info.line_info = (__u64)(unsigned long)li;
	info.line_info_rec_size = sizeof(*li);
	il = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &il))
		goto out;
	btf = btf__load_from_kernel_by_id(info.btf_id);
	o = fopen(path, "w");
	if (!btf || !o)
		goto out;
	for (__u32 k = 0; k < nk; k++)
		fprintf(o, "K %llx\n", (unsigned long long)ks[k]);
	for (__u32 k = 0; k < nl && k < nli; k++) {
		const char *fn = btf__name_by_offset(btf, li[k].file_name_off);
		const char *ln = btf__name_by_offset(btf, li[k].line_off);
		const char *sl = fn ? strrchr(fn, '/') : NULL;

		fprintf(o, "L %llx %s:%u %s\n", (unsigned long long)jl[k],
			sl ? sl + 1 : fn ? fn : "?",
			BPF_LINE_INFO_LINE_NUM(li[k].line_col), ln ? ln : "");
	}
	rc = 0;
out:
	if (o)
		fclose(o);
	btf__free(btf);
	free(jl);
	free(ks);
	free(li);
	return rc;
}

/* -d DIR: write each SIP row's payload to DIR/rowN.sip (for -f A/B runs). */
static int dump_rows(const char *dir)
{
	char path[512], sip[PKT_MAX];

	for (size_t i = 0; i < bench_nrows; i++) {
		const struct bench_row *r = &bench_rows[i];
		size_t n;
		FILE *f;

		if (!r->sip)
			continue;
		n = bench_payload(r->sip, sip, sizeof(sip));
		snprintf(path, sizeof(path), "%s/row%zu%s.sip", dir, i,
			 r->mac ? "-mac" : "");
		f = fopen(path, "wb");
		if (!f || fwrite(sip, 1, n, f) != n) {
			perror(path);
			if (f)
				fclose(f);
			return 1;
		}
		fclose(f);
		printf("%s: %s\n", path, r->name);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sipdlg_bpf *plain = NULL, *withmac = NULL;
	struct sipdlg_bpf *cnt_plain = NULL, *cnt_mac = NULL, *cnt_relay = NULL;
	struct bpf_interp *ip_plain = NULL, *ip_mac = NULL, *ip_floor = NULL;
	struct bpf_interp *ip_relay = NULL;
	struct floor_bpf *fl = NULL;
	__u32 repeat = 1000000, runs = 5, t[MAX_RUNS], med, min;
	const char *file = NULL, *dump = NULL, *lines = NULL, *only = NULL;
	char sip[PKT_MAX];
	int opt, rc = 1, fmac = 0;

	while ((opt = getopt(argc, argv, "r:n:f:md:p:o:")) != -1) {
		if (opt == 'r')
			repeat = (__u32)strtoul(optarg, NULL, 0);
		else if (opt == 'n')
			runs = (__u32)strtoul(optarg, NULL, 0);
		else if (opt == 'f')
			file = optarg;
		else if (opt == 'm')
			fmac = 1;
		else if (opt == 'd')
			dump = optarg;
		else if (opt == 'p')
			lines = optarg;
		else if (opt == 'o')
			only = optarg;
		else {
			fprintf(stderr, "usage: %s [-r REPEAT] [-n RUNS] "
				"[-f FILE [-m] [-p LINES]] [-d DIR] [-o ROWS]\n", argv[0]);
			return 2;
		}
	}
	if (runs < 1 || runs > MAX_RUNS || !repeat) {
		fprintf(stderr, "runs 1..%d, repeat > 0\n", MAX_RUNS);
		return 2;
	}
	if (dump)
		return dump_rows(dump);
	if (geteuid() != 0) {
		fprintf(stderr, "bench_xdp: needs root (BPF_PROG_TEST_RUN)\n");
		return 1;
	}
	plain = load_prog(0);
	withmac = load_prog(1);
	if (plain && withmac) {
		publish_clock(plain);
		publish_clock(withmac);
	}
	fl = floor_bpf__open_and_load();
	/* the interpreter's copies, never run by the kernel */
	cnt_plain = load_prog(0);
	cnt_mac = load_prog(1);
	cnt_relay = load_prog_relay(0, 1);
	if (!plain || !withmac || !fl || !cnt_plain || !cnt_mac ||
	    !cnt_relay) {
		fprintf(stderr, "bench_xdp: cannot load the programs: %s\n",
			strerror(errno));
		goto out;
	}
	ip_plain = xdp_obj_interp(cnt_plain->progs.sipdlg_xdp);
	ip_mac = xdp_obj_interp(cnt_mac->progs.sipdlg_xdp);
	ip_floor = xdp_obj_interp(fl->progs.floor_xdp);
	ip_relay = xdp_obj_interp(cnt_relay->progs.sipdlg_xdp);
	if (!ip_plain || !ip_mac || !ip_floor || !ip_relay) {
		fprintf(stderr, "bench_xdp: no interpreter: %s\n",
			strerror(errno));
		goto out;
	}
	if (file) {
		struct sipdlg_bpf *skel = fmac ? withmac : plain;
		FILE *f = fopen(file, "rb");
		struct pkt p;
		size_t n;

		if (!f) {
			perror(file);
			goto out;
		}
		n = fread(sip, 1, sizeof(sip) - 64, f);
		fclose(f);
		pkt_sip(&p, NULL, sip, n);
		printf("%s: %zu bytes, %s, %llu insns,", file, p.len,
		       reason_name(reason_of(skel, &p)),
		       icount(fmac ? ip_mac : ip_plain, &p));
		if (time_frame(bpf_program__fd(skel->progs.sipdlg_xdp), &p,
			       repeat, runs, &med, &min))
			goto out;
		printf(" median %u ns, min %u\n", med, min);
		if (lines && dump_lines(skel, lines)) {
			fprintf(stderr, "bench_xdp: cannot write %s\n", lines);
			goto out;
		}
		rc = 0;
		goto out;
	}

	printf("XDP fast path, BPF_PROG_TEST_RUN, repeat %u, %u runs per "
	       "packet (ns/packet)\n"
	       "insns: BPF instructions executed (tools/bench/bpf_interp.c)\n"
	       "over floor: median over the runs of (run - the floor run "
	       "just before it)\n"
	       "relayed rows: insns only (relay on, the interpreter's "
	       "bpf_fib_lookup stub);\n  their ns need routes and neighbours "
	       "for the next hop: bench_relay's rows\n  (make bench-relay, "
	       "in a netns) above\n\n",
	       repeat, runs);
	printf("%-38s %6s %-16s %6s %8s %8s %8s %10s\n", "packet", "bytes",
	       "reason", "insns", "median", "min", "max", "over floor");
	for (size_t i = 0; i < bench_nrows; i++) {
		const struct bench_row *r = &bench_rows[i];
		struct sipdlg_bpf *skel = r->mac ? withmac : plain;
		__u32 d[MAX_RUNS];
		struct pkt p;
		int fd, reason = -1;

		if (only && !strchr(only, (int)('0' + i)))
			continue;
		if (bench_frame(r, &p)) {
			fprintf(stderr, "bench_xdp: %s: cannot build\n", r->name);
			goto out;
		}
		if (r->relay) {
			unsigned long long n = icount(ip_relay, &p);

			printf("%-38s %6zu %-16s %6llu %8s %8s %8s %10s\n",
			       r->name, p.len,
			       reason_name(interp_reason(ip_relay, cnt_relay)),
			       n, "-", "-", "-", "-");
			continue;
		}
		fd = r->floor ? bpf_program__fd(fl->progs.floor_xdp) :
				bpf_program__fd(skel->progs.sipdlg_xdp);
		if (!r->floor)
			reason = reason_of(skel, &p);
		if (time_paired(bpf_program__fd(fl->progs.floor_xdp), fd, &p,
				repeat, runs, t, d))
			goto out;
		printf("%-38s %6zu %-16s %6llu %8u %8u %8u %10u\n", r->name,
		       p.len, reason_name(reason),
		       icount(r->floor ? ip_floor : r->mac ? ip_mac : ip_plain,
			      &p),
		       t[runs / 2], t[0], t[runs - 1], d[runs / 2]);
	}
	if (only)
		goto done;
	if (breakdown(plain, ip_plain, repeat, runs))
		goto out;
	printf("\nverifier processed insns: sipdlg_xdp %u (MAC on: %u), "
	       "floor %u\n",
	       verified(bpf_program__fd(plain->progs.sipdlg_xdp)),
	       verified(bpf_program__fd(withmac->progs.sipdlg_xdp)),
	       verified(bpf_program__fd(fl->progs.floor_xdp)));
done:
	rc = 0;
out:
	bpf_interp_free(ip_plain);
	bpf_interp_free(ip_mac);
	bpf_interp_free(ip_floor);
	bpf_interp_free(ip_relay);
	sipdlg_bpf__destroy(plain);
	sipdlg_bpf__destroy(withmac);
	sipdlg_bpf__destroy(cnt_plain);
	sipdlg_bpf__destroy(cnt_mac);
	sipdlg_bpf__destroy(cnt_relay);
	floor_bpf__destroy(fl);
	return rc;
}
