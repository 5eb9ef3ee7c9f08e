// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_xdp.c - what the XDP fast path costs per packet.
 *
 * Runs the program (build/sipdlg.skel.h, maps unpinned) and a trivial
 * XDP_PASS program (tools/bench/floor.bpf.c) through BPF_PROG_TEST_RUN,
 * `repeat` times per run (default 1,000,000), five runs per packet, and
 * prints the median, min and max of the kernel's ns-per-repeat figure,
 * the reason each packet is counted under, and the verifier's processed
 * instruction counts.  It prints figures and asserts nothing.
 *
 * The in-dialog BYE is ~800 bytes: two Vias, the Route, Max-Forwards,
 * From, To, Call-ID, CSeq in the usual order, then the usual tail of a
 * real UA's BYE (User-Agent, Allow, Supported, Reason, P-Asserted-Identity,
 * ...).  The scan stops at CSeq, about halfway.
 *
 * After the table, two lower bounds for that BYE (tools/bench/bounds.bpf.c):
 * the bare LF scan of its bytes up to the end of the CSeq line, and the
 * lookup, clock and counters after a scan, each alone.  A target below
 * floor + both cannot be met by any design that reads the CSeq.
 *
 * Usage: bench_xdp [-r REPEAT] [-n RUNS] [-f FILE [-m]]: with -f, time
 * the UDP payload in FILE (to port 5060, the benchmark's dialog in the
 * map, -m: on the MAC-on program) instead of the table; -d DIR writes the
 * table's SIP payloads to DIR/rowN.sip for such runs; -p LINES (with -f)
 * writes the program's JIT line table for tools/bench/xdp_lines.py;
 * -o ROWS runs only the table rows whose digits are in ROWS (-o 01: the
 * floor and non-SIP UDP), without the lower bounds and the breakdown.
 * Every run of a row is paired with a floor run just before it; "over
 * floor" is the median of the differences, steadier than the difference
 * of medians while the machine's speed drifts.  Needs root.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>

#include "sipdlg_shared.h"
#include "sipdlg_hash.h"
#include "sipdlg.skel.h"
#include "floor.skel.h"
#include "bounds.skel.h"
#include "lib/pkt.h"

#define MAC_K0 0x0123456789abcdefULL
#define MAC_K1 0xfedcba9876543210ULL
#define MAX_RUNS 15

#define CRLF "\r\n"
#define VIAS                                                                  \
	"Via: SIP/2.0/UDP 198.51.100.7:5060;rport;branch=z9hG4bK-524287-1---77b0e1fa16c1a4c4" CRLF \
	"Via: SIP/2.0/UDP 192.0.2.1:5070;received=192.0.2.1;rport=5070;branch=z9hG4bK-d8754z-a4c1b2f3e4d5" CRLF
#define DIALOG_HDRS                                                           \
	"Max-Forwards: 69" CRLF                                               \
	"From: \"Alice Liddell\" <sip:alice@atlanta.example.com>;tag=1928301774" CRLF \
	"To: \"Bob Builder\" <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF  \
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
#define TAIL                                                                  \
	"User-Agent: ExamplePhone/4.2.1 (build 20231005; linux-x86_64)" CRLF \
	"Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE, UPDATE, PRACK" CRLF \
	"Supported: replaces, timer, path, outbound, gruu" CRLF             \
	"Reason: Q.850;cause=16;text=\"Normal call clearing\"" CRLF          \
	"P-Asserted-Identity: \"Alice Liddell\" <sip:alice@atlanta.example.com>" CRLF \
	"X-Billing-Ref: 7f3c2a91-0b44-4e7e-9d0f-5c1e2b3a4d5e" CRLF          \
	"Content-Length: 0" CRLF CRLF

static const char bye_first[] =
	"BYE sip:bob@192.0.2.4:5060;transport=udp SIP/2.0" CRLF VIAS
	"Route: <sip:192.0.2.2;lr;ftag=1928301774;did=596.d052>" CRLF
	DIALOG_HDRS "CSeq: 231 BYE" CRLF TAIL;

static const char bye_last[] =
	"BYE sip:bob@192.0.2.4:5060;transport=udp SIP/2.0" CRLF VIAS
	"Route: <sip:edge1.example.net;lr;r2=on>" CRLF
	"Route: <sip:edge1.example.net:5061;transport=tls;lr;r2=on>" CRLF
	"Route: <sip:core.example.net;lr>" CRLF
	"Route: <sip:192.0.2.2;lr;ftag=1928301774;did=596.d052>" CRLF
	DIALOG_HDRS "CSeq: 231 BYE" CRLF TAIL;

static const char bye_unknown[] =
	"BYE sip:bob@192.0.2.4:5060;transport=udp SIP/2.0" CRLF VIAS
	"Route: <sip:192.0.2.2;lr;ftag=1928301774;did=e1f.77a3>" CRLF
	DIALOG_HDRS "CSeq: 231 BYE" CRLF TAIL;

/* {DM} is replaced by the MAC; the scan skips the Call-ID line */
static const char bye_mac[] =
	"BYE sip:bob@192.0.2.4:5060;transport=udp SIP/2.0" CRLF VIAS
	"Route: <sip:192.0.2.2;lr;ftag=1928301774;did=596.d052;dm={DM}>" CRLF
	DIALOG_HDRS "CSeq: 231 BYE" CRLF TAIL;

static const char reply_200[] =
	"SIP/2.0 200 OK" CRLF
	"Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKsd596.d052.0a3f17" CRLF VIAS
	"From: \"Alice Liddell\" <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
	"To: \"Bob Builder\" <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
	"CSeq: 231 BYE" CRLF
	"Server: ExamplePhone/4.2.1" CRLF "Content-Length: 0" CRLF CRLF;

static const char invite[] =
	"INVITE sip:bob@biloxi.example.com SIP/2.0" CRLF
	"Via: SIP/2.0/UDP 192.0.2.1:5070;rport;branch=z9hG4bK-d8754z-77a1c2" CRLF
	"Max-Forwards: 70" CRLF
	"From: \"Alice Liddell\" <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
	"To: <sip:bob@biloxi.example.com>" CRLF
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
	"CSeq: 1 INVITE" CRLF
	"Contact: <sip:alice@192.0.2.1:5070;transport=udp>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>\"" CRLF
	"Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE, UPDATE, PRACK" CRLF
	"Supported: replaces, timer, 100rel" CRLF
	"User-Agent: ExamplePhone/4.2.1 (build 20231005; linux-x86_64)" CRLF
	"Content-Type: application/sdp" CRLF
	"Content-Length: 245" CRLF CRLF
	"v=0" CRLF "o=alice 2890844526 2890844526 IN IP4 192.0.2.1" CRLF "s=-" CRLF
	"c=IN IP4 192.0.2.1" CRLF "t=0 0" CRLF "m=audio 49170 RTP/AVP 0 8 101" CRLF
	"a=rtpmap:0 PCMU/8000" CRLF "a=rtpmap:8 PCMA/8000" CRLF
	"a=rtpmap:101 telephone-event/8000" CRLF "a=fmtp:101 0-16" CRLF "a=sendrecv" CRLF;

struct row {
	const char *name;
	const char *sip;	/* NULL: non-SIP UDP */
	int mac;		/* run on the MAC-on program */
	int floor;		/* run on the floor program */
	uint16_t dport;
};

static const struct row rows[] = {
	{ "floor (trivial XDP_PASS)", NULL, 0, 1, 53 },
	{ "non-SIP UDP (port 53)", NULL, 0, 0, 53 },
	{ "initial INVITE, no cookie", invite, 0, 0, 5060 },
	{ "in-dialog BYE, cookie in 1st Route", bye_first, 0, 0, 5060 },
	{ "in-dialog BYE, cookie in 4th Route", bye_last, 0, 0, 5060 },
	{ "unknown cookie", bye_unknown, 0, 0, 5060 },
	{ "reply within a dialog (200 OK)", reply_200, 0, 0, 5060 },
	{ "MAC on, Call-ID not read", bye_mac, 1, 0, 5060 },
};

static const char *reason_name(int r)
{
	switch (r) {
	case SDR_OTHER_PORT: return "other_port";
	case SDR_SIP_UDP4: return "sip_udp4";
	case SDR_DLG_MATCH: return "dlg_match";
	case SDR_DLG_REPLY_MATCH: return "dlg_reply_match";
	case SDR_DLG_UNKNOWN: return "dlg_unknown";
	case -1: return "-";
	default: return "other";
	}
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static struct sipdlg_bpf *load_prog(int mac)
{
	struct sipdlg_bpf *skel = sipdlg_bpf__open();
	struct bpf_map *map;

	if (!skel)
		return NULL;
	skel->rodata->sip_ports[0] = 5060;
	skel->rodata->n_sip_ports = 1;
	skel->rodata->mac_enabled = mac;
	skel->rodata->mac_key[0] = MAC_K0;
	skel->rodata->mac_key[1] = MAC_K1;
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	if (sipdlg_bpf__load(skel)) {
		sipdlg_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static int put_dialog(struct sipdlg_bpf *skel)
{
	static const char cid[] = "a84b4c76e66710@pc33.atlanta.example.com";
	struct sipdlg_dlg_key k = { 1685, 9485 };
	struct sipdlg_dlg_value v;

	memset(&v, 0, sizeof(v));
	v.callid_hash = sipdlg_hash_bytes(cid, sizeof(cid) - 1);
	v.caller_tag_hash = sipdlg_hash_bytes("1928301774", 10);
	v.callee_tag_hash = sipdlg_hash_bytes("a6c85cf", 7);
	v.state = 4;
	return bpf_map__update_elem(skel->maps.dialogs, &k, sizeof(k), &v,
				    sizeof(v), BPF_ANY);
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
 * Lower bounds on the in-dialog BYE (tools/bench/bounds.bpf.c): the bare
 * LF scan of its bytes up to the end of its CSeq line, which any design
 * that reads the CSeq must at least scan, and the work after a scan
 * (lookup, clock, counters).  Each run paired with a floor run, as in
 * the table; medians of the differences.
 */
static int lower_bounds(struct floor_bpf *fl, __u32 repeat, __u32 runs)
{
	struct bounds_bpf *b = bounds_bpf__open();
	const char *cseq = strstr(bye_first, "\r\nCSeq:"), *eol = NULL;
	__u64 key = 0x9485000006a5ULL, v[64] = { 0 };
	__u32 t[MAX_RUNS], scan[MAX_RUNS], match[MAX_RUNS], from, to;
	int fl_fd = bpf_program__fd(fl->progs.floor_xdp), rc = -1;
	struct pkt p;

	if (cseq)
		eol = strstr(cseq + 2, "\r\n");
	if (!b || !eol) {
		fprintf(stderr, "bench_xdp: lower bounds: cannot set up\n");
		goto out;
	}
	pkt_sip(&p, NULL, bye_first, strlen(bye_first));
	from = (__u32)p.l4_off + 8;
	to = from + (__u32)(eol + 2 - bye_first);
	b->rodata->scan_from = from;
	b->rodata->scan_to = to;
	b->rodata->match_key = key;
	if (bounds_bpf__load(b) ||
	    bpf_map__value_size(b->maps.bound_dialogs) > sizeof(v) ||
	    bpf_map__update_elem(b->maps.bound_dialogs, &key, sizeof(key), v,
				 bpf_map__value_size(b->maps.bound_dialogs),
				 BPF_ANY)) {
		fprintf(stderr, "bench_xdp: lower bounds: cannot load: %s\n",
			strerror(errno));
		goto out;
	}
	if (time_paired(fl_fd, bpf_program__fd(b->progs.bound_scan), &p,
			repeat, runs, t, scan) ||
	    time_paired(fl_fd, bpf_program__fd(b->progs.bound_match), &p,
			repeat, runs, t, match))
		goto out;
	printf("\nlower bounds for the in-dialog BYE, ns over the floor "
	       "(median of %u paired runs)\n\n", runs);
	printf("LF scan alone, start line to the end of CSeq (%u bytes)  %6u\n",
	       to - from, scan[runs / 2]);
	printf("lookup, clock and counters alone (no scan)             %6u\n",
	       match[runs / 2]);
	printf("sum: no design that reads the CSeq costs less           %6u\n",
	       scan[runs / 2] + match[runs / 2]);
	rc = 0;
out:
	bounds_bpf__destroy(b);
	return rc;
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
static int breakdown(struct sipdlg_bpf *skel, __u32 repeat, __u32 runs)
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
	__u32 prev = 0;

	printf("\nwhere the in-dialog BYE's time goes (message cut after "
	       "line N, min of %u runs)\n\n", runs);
	printf("%-2s %-24s %6s %-16s %6s %6s\n", "N", "line added", "bytes",
	       "reason", "min", "+ns");
	for (size_t n = 1; n <= sizeof(lines) / sizeof(lines[0]); n++) {
		struct pkt p;
		size_t len = 0;
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
		printf("%-2zu %-24.24s %6zu %-16s %6u %+6d\n", n, lines[n - 1],
		       p.len, reason_name(reason_of(skel, &p)), min,
		       (int)min - (int)prev);
		prev = min;
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
static int dump_rows(const char *dir, const char *dm)
{
	char path[512], sip[PKT_MAX], *at;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		FILE *f;

		if (!rows[i].sip)
			continue;
		snprintf(sip, sizeof(sip), "%s", rows[i].sip);
		at = strstr(sip, "{DM}");
		if (at) {
			memmove(at + 16, at + 4, strlen(at + 4) + 1);
			memcpy(at, dm, 16);
		}
		snprintf(path, sizeof(path), "%s/row%zu%s.sip", dir, i,
			 rows[i].mac ? "-mac" : "");
		f = fopen(path, "wb");
		if (!f || fwrite(sip, 1, strlen(sip), f) != strlen(sip)) {
			perror(path);
			if (f)
				fclose(f);
			return 1;
		}
		fclose(f);
		printf("%s: %s\n", path, rows[i].name);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sipdlg_bpf *plain = NULL, *withmac = NULL;
	struct floor_bpf *fl = NULL;
	__u32 repeat = 1000000, runs = 5, t[MAX_RUNS], med, min;
	char dm[SIPDLG_MAC_HEX_LEN + 1] = { 0 }, sip[PKT_MAX], *at;
	const char *file = NULL, *dump = NULL, *lines = NULL, *only = NULL;
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
	if (geteuid() != 0) {
		fprintf(stderr, "bench_xdp: needs root (BPF_PROG_TEST_RUN)\n");
		return 1;
	}
	plain = load_prog(0);
	withmac = load_prog(1);
	fl = floor_bpf__open_and_load();
	if (!plain || !withmac || !fl || put_dialog(plain) ||
	    put_dialog(withmac)) {
		fprintf(stderr, "bench_xdp: cannot load the programs: %s\n",
			strerror(errno));
		goto out;
	}
	sipdlg_mac_hex(sipdlg_dlg_mac(MAC_K0, MAC_K1, 1685, 9485), dm);
	if (dump) {
		rc = dump_rows(dump, dm);
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
		printf("%s: %zu bytes, %s,", file, p.len,
		       reason_name(reason_of(skel, &p)));
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
	       "over floor: median over the runs of (run - the floor run "
	       "just before it)\n\n", repeat, runs);
	printf("%-38s %6s %-16s %8s %8s %8s %10s\n", "packet", "bytes",
	       "reason", "median", "min", "max", "over floor");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct sipdlg_bpf *skel = r->mac ? withmac : plain;
		struct pkt_sip_opts o = { .dport = r->dport };
		const char *payload = r->sip;
		__u32 d[MAX_RUNS];
		struct pkt p;
		int fd, reason = -1;

		if (only && !strchr(only, (int)('0' + i)))
			continue;
		if (!payload) {
			static const char dns[64] = { 0x12, 0x34, 1, 0, 0, 1 };

			payload = dns;
			pkt_sip(&p, &o, dns, sizeof(dns));
		} else {
			snprintf(sip, sizeof(sip), "%s", payload);
			at = strstr(sip, "{DM}");
			if (at) {
				memmove(at + 16, at + 4, strlen(at + 4) + 1);
				memcpy(at, dm, 16);
			}
			pkt_sip(&p, &o, sip, strlen(sip));
		}
		fd = r->floor ? bpf_program__fd(fl->progs.floor_xdp) :
				bpf_program__fd(skel->progs.sipdlg_xdp);
		if (!r->floor)
			reason = reason_of(skel, &p);
		if (time_paired(bpf_program__fd(fl->progs.floor_xdp), fd, &p,
				repeat, runs, t, d))
			goto out;
		printf("%-38s %6zu %-16s %8u %8u %8u %10u\n", r->name, p.len,
		       reason_name(reason), t[runs / 2], t[0], t[runs - 1],
		       d[runs / 2]);
	}
	if (only)
		goto done;
	if (lower_bounds(fl, repeat, runs) || breakdown(plain, repeat, runs))
		goto out;
	printf("\nverifier processed insns: sipdlg_xdp %u (MAC on: %u), "
	       "floor %u\n",
	       verified(bpf_program__fd(plain->progs.sipdlg_xdp)),
	       verified(bpf_program__fd(withmac->progs.sipdlg_xdp)),
	       verified(bpf_program__fd(fl->progs.floor_xdp)));
done:
	rc = 0;
out:
	sipdlg_bpf__destroy(plain);
	sipdlg_bpf__destroy(withmac);
	floor_bpf__destroy(fl);
	return rc;
}
