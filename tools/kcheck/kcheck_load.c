// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * kcheck_load.c - does the XDP program pass this kernel's verifier?
 *
 * Loads build/sipdlg.skel.h (maps unpinned) once per set of knobs: every
 * dlg_match_mode x mac_enabled x unknown_dialog_drop x max_dialog_pps
 * combination, plus fail_events_per_sec 0 and a long rr_param.  The .rodata
 * knobs are constants to the verifier, so each set is a different program
 * to verify.  For each it prints one line
 *
 *   kcheck: load mode=1 mac=0 drop=1 pps=50 fail_ev=10 rr=did: OK insns 412345
 *
 * then runs the loaded program once through BPF_PROG_TEST_RUN on a SIP
 * frame.  On a rejection it prints the last lines of the verifier log
 * (libbpf retries the load with log level 1 into our buffer).  The last
 * line is "KCHECK-LOAD: PASS <n> loads, max insns <m>" or
 * "KCHECK-LOAD: FAIL <k> of <n> loads rejected".  Exit 0 on PASS.
 *
 * Usage: kcheck_load [-q] [-t LINES]   (-q: the first set of knobs only;
 * -t: lines of verifier log to print on a rejection, default 60).
 * Made to run inside tools/kcheck/run.sh's VM, but runs on any host (root).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sipdlg_shared.h"
#include "sipdlg.skel.h"
#include "lib/pkt.h"

#define LOG_BYTES (16u << 20)

struct knobs {
	unsigned mode, mac, drop, pps, fail_ev;
	const char *rr;
	unsigned relay;		/* relay_enabled, all methods (sip_relay.h) */
};

static char *g_log;

/*
 * libbpf's own messages: warnings only, on stdout so they stay in order
 * with ours on the console (the verifier log is printed from g_log).
 */
static int print_fn(enum libbpf_print_level level, const char *fmt,
		    va_list ap)
{
	if (level != LIBBPF_WARN)
		return 0;
	if (strstr(fmt, "BEGIN PROG LOAD LOG"))
		return 0;
	fputs("kcheck: ", stdout);
	return vfprintf(stdout, fmt, ap);
}

static void print_tail(const char *log, int lines)
{
	size_t n = strlen(log);
	const char *p = log + n;
	int seen = 0, total = 0;

	for (const char *q = log; *q; q++)
		total += *q == '\n';
	while (n > 0 && (log[n - 1] == '\n'))
		n--;
	p = log + n;
	while (p > log && seen < lines) {
		p--;
		if (*p == '\n')
			seen++;
	}
	if (*p == '\n')
		p++;
	printf("kcheck: --- verifier log: %d lines, last %d ---\n", total,
	       lines);
	printf("%.*s\n", (int)(log + n - p), p);
	printf("kcheck: --- end of verifier log ---\n");
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

/* One run on an in-dialog-looking BYE: does test_run work at all? */
static int run_once(int fd, __u32 *retval)
{
	static const char sip[] =
		"BYE sip:bob@192.0.2.4:5060 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n"
		"Route: <sip:192.0.2.2;lr;did=596.d052>\r\n"
		"From: <sip:alice@example.com>;tag=1928301774\r\n"
		"To: <sip:bob@example.com>;tag=a6c85cf\r\n"
		"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
		"CSeq: 231 BYE\r\nContent-Length: 0\r\n\r\n";
	struct pkt p;
	int r;

	if (pkt_sip(&p, NULL, sip, sizeof(sip) - 1))
		return -1;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p.buf,
		    .data_size_in = (__u32)p.len, .repeat = 1);
	r = bpf_prog_test_run_opts(fd, &opts);
	*retval = opts.retval;
	return r;
}

static int load_one(const struct knobs *k, int tail_lines, __u32 *insns)
{
	const char *rr = k->rr ? k->rr : "did";
	struct sipdlg_bpf *skel;
	struct bpf_map *map;
	struct timespec t0, t1;
	__u32 retval = 0;
	char what[160];
	int r;

	snprintf(what, sizeof(what),
		 "kcheck: load mode=%u mac=%u drop=%u pps=%u fail_ev=%u rr=%s "
		 "relay=%u",
		 k->mode, k->mac, k->drop, k->pps, k->fail_ev, rr, k->relay);
	skel = sipdlg_bpf__open();
	if (!skel) {
		printf("%s: FAIL open: %s\n", what, strerror(errno));
		return -1;
	}
	skel->rodata->sip_ports[0] = 5060;
	skel->rodata->sip_ports[1] = 5070;
	skel->rodata->n_sip_ports = 2;
	skel->rodata->dlg_match_mode = k->mode;
	skel->rodata->mac_enabled = k->mac;
	skel->rodata->mac_key[0] = 0x0706050403020100ULL;
	skel->rodata->mac_key[1] = 0x0f0e0d0c0b0a0908ULL;
	skel->rodata->unknown_dialog_drop = k->drop;
	skel->rodata->max_dialog_pps = k->pps;
	skel->rodata->fail_events_per_sec = k->fail_ev;
	skel->rodata->relay_enabled = k->relay;
	skel->rodata->relay_methods = k->relay ? 0xffffu : 0;
	memset((void *)skel->rodata->rr_param, 0, SIPDLG_RR_PARAM_MAX);
	memcpy((void *)skel->rodata->rr_param, rr, strlen(rr));
	skel->rodata->rr_param_len = (__u32)strlen(rr);
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	g_log[0] = '\0';
	bpf_program__set_log_buf(skel->progs.sipdlg_xdp, g_log, LOG_BYTES);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = sipdlg_bpf__load(skel);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r) {
		printf("%s: FAIL (%s)\n", what, strerror(-r));
		if (g_log[0])
			print_tail(g_log, tail_lines);
		else
			printf("kcheck: (no verifier log: not a verifier "
			       "rejection?)\n");
		sipdlg_bpf__destroy(skel);
		return -1;
	}
	*insns = verified(bpf_program__fd(skel->progs.sipdlg_xdp));
	printf("%s: OK insns %u, %.2f s", what, *insns,
	       (double)(t1.tv_sec - t0.tv_sec) +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	r = run_once(bpf_program__fd(skel->progs.sipdlg_xdp), &retval);
	if (r)
		printf(", test_run FAILED: %s\n", strerror(errno));
	else
		printf(", test_run retval %u (%s)\n", retval,
		       retval == XDP_PASS ? "XDP_PASS" :
		       retval == XDP_DROP ? "XDP_DROP" : "other");
	sipdlg_bpf__destroy(skel);
	return r ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct knobs sets[32];
	int n = 0, fails = 0, quick = 0, tail_lines = 60, opt;
	__u32 max_insns = 0;
	struct utsname u;

	while ((opt = getopt(argc, argv, "qt:")) != -1) {
		if (opt == 'q')
			quick = 1;
		else if (opt == 't')
			tail_lines = atoi(optarg);
		else {
			fprintf(stderr, "usage: %s [-q] [-t LINES]\n", argv[0]);
			return 2;
		}
	}
	for (unsigned mode = 0; mode <= 2; mode++)
		for (unsigned mac = 0; mac <= 1; mac++)
			for (unsigned drop = 0; drop <= 1; drop++)
				for (unsigned pps = 0; pps <= 50; pps += 50)
					sets[n++] = (struct knobs){
						mode, mac, drop, pps, 10, NULL, 0
					};
	sets[n++] = (struct knobs){ 1, 0, 1, 50, 0, NULL, 0 };
	sets[n++] = (struct knobs){ 1, 1, 1, 50, 10, "dialog_cookie", 0 };
	/* the kernel relay on, with the costliest matcher knobs */
	sets[n++] = (struct knobs){ 0, 0, 0, 0, 10, NULL, 1 };
	sets[n++] = (struct knobs){ 1, 1, 1, 50, 10, NULL, 1 };
	sets[n++] = (struct knobs){ 2, 1, 1, 50, 10, NULL, 1 };
	if (quick)
		n = 1;

	uname(&u);
	printf("kcheck: kernel %s, libbpf %s, %d sets of knobs\n", u.release,
	       libbpf_version_string(), n);
	libbpf_set_print(print_fn);
	g_log = malloc(LOG_BYTES);
	if (!g_log) {
		printf("KCHECK-LOAD: FAIL out of memory\n");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		__u32 insns = 0;

		if (load_one(&sets[i], tail_lines, &insns))
			fails++;
		else if (insns > max_insns)
			max_insns = insns;
	}
	free(g_log);
	if (fails)
		printf("KCHECK-LOAD: FAIL %d of %d loads rejected\n", fails, n);
	else
		printf("KCHECK-LOAD: PASS %d loads, max insns %u\n", n,
		       max_insns);
	return fails ? 1 : 0;
}
