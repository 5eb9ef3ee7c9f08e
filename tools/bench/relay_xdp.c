// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * relay_xdp.c - loads tools/bench/relay_xdp.bpf.c on an interface (XDP
 * native, replacing the program there) for bench-info-relay.sh, waits,
 * and prints its counters:
 *
 *   relay_xdp -i IFACE -s [-p PORT] [-m METHOD] -t SECS   the sink: answers
 *       each request to PORT (5064) 200 in the kernel; prints
 *       sink: received N requests, answered A, in T s, D duplicates
 *       sink: other requests O, passed up P, failed F, without branch B, stale S
 *   relay_xdp -i IFACE -c [-p PORT] -t SECS   the caller's counter: counts
 *       and drops the replies to PORT (15099, the flooder's Via port);
 *       prints
 *       count: replies 2xx K, other J, duplicates D, passed up P, stale S
 *   -B RUN (8 hex digits, flood -B's): only the flooder's branches of this
 *       run count; those of another (an earlier run's requests a proxy
 *       still retransmits, and their replies) are "stale".
 *   relay_xdp -i IFACE -d -t SECS   drops every frame (what the flooder
 *       alone sends, bench-info-relay.sh's BENCH_RELAY_TOOLS_ONLY); prints
 *       drop: frames N in T s
 *
 * It ends after SECS, or at SIGINT / SIGTERM (then at once), and leaves
 * relay_pass (XDP_PASS) on the interface: a veth delivers XDP_TX /
 * redirected frames only to a peer with an XDP program.  Needs root.
 * Exit 0; 1 on bad arguments; 2 when the program cannot be loaded or
 * attached.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/types.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "relay_xdp.h"
#include "relay_xdp.skel.h"

static volatile sig_atomic_t rx_stop;

static void rx_on_signal(int sig)
{
	rx_stop = 1;
}

static double rx_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The per-CPU counters summed into @t; 0 or -1. */
static int rx_sum(int map_fd, struct relay_xdp_stats *t)
{
	int ncpu = libbpf_num_possible_cpus();
	struct relay_xdp_stats *v;
	__u32 k = 0;

	memset(t, 0, sizeof(*t));
	if (ncpu <= 0)
		return -1;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -1;
	if (bpf_map_lookup_elem(map_fd, &k, v)) {
		free(v);
		return -1;
	}
	for (int c = 0; c < ncpu; c++) {
		t->req += v[c].req;
		t->dup += v[c].dup;
		t->nobranch += v[c].nobranch;
		t->other += v[c].other;
		t->answered += v[c].answered;
		t->passed += v[c].passed;
		t->failed += v[c].failed;
		t->stale += v[c].stale;
	}
	free(v);
	return 0;
}

static void rx_usage(void)
{
	fprintf(stderr, "usage: relay_xdp -i IFACE (-s | -c | -d) [-p PORT] [-m METHOD] [-B RUN] -t SECS\n"
		"  -s  the sink (callee side): answers each request 200 (XDP_TX)\n"
		"  -c  the counter (caller side): counts and drops the replies\n"
		"  -d  drops every frame, counted\n");
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *method = "INFO", *run = NULL;
	struct relay_xdp_bpf *skel = NULL;
	struct relay_xdp_stats t;
	struct bpf_program *prog;
	int mode = 0, port = 0, c, ifindex, err, ret = 0;
	double secs = 10, t0, el;

	while ((c = getopt(argc, argv, "i:scdp:m:t:B:")) != -1) {
		switch (c) {
		case 'i': ifname = optarg; break;
		case 's': mode = 's'; break;
		case 'c': mode = 'c'; break;
		case 'd': mode = 'd'; break;
		case 'p': port = atoi(optarg); break;
		case 'm': method = optarg; break;
		case 't': secs = atof(optarg); break;
		case 'B': run = optarg; break;
		default: rx_usage(); return 1;
		}
	}
	if (!ifname || !mode || secs <= 0 || port < 0 || port > 65535 ||
	    !*method || strlen(method) > 15 ||
	    (run && (strlen(run) != 8 || strspn(run, "0123456789abcdef") != 8))) {
		rx_usage();
		return 1;
	}
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "relay_xdp: no interface %s\n", ifname);
		return 1;
	}
	skel = relay_xdp_bpf__open();
	if (!skel) {
		fprintf(stderr, "relay_xdp: open: %s\n", strerror(errno));
		return 2;
	}
	skel->rodata->rx_port = (__u16)(port ? port : mode == 's' ? 5064 : 15099);
	memset((void *)skel->rodata->rx_method, 0, sizeof(skel->rodata->rx_method));
	memcpy((void *)skel->rodata->rx_method, method, strlen(method));
	skel->rodata->rx_method_len = (__u32)strlen(method);
	if (run)
		memcpy((void *)&skel->rodata->rx_run, run, 8);
	/* only the program this run attaches is loaded (and relay_pass) */
	bpf_program__set_autoload(skel->progs.relay_sink, mode == 's');
	bpf_program__set_autoload(skel->progs.relay_count, mode == 'c');
	bpf_program__set_autoload(skel->progs.relay_drop, mode == 'd');
	err = relay_xdp_bpf__load(skel);
	if (err) {
		fprintf(stderr, "relay_xdp: load: %s\n", strerror(-err));
		relay_xdp_bpf__destroy(skel);
		return 2;
	}
	prog = mode == 's' ? skel->progs.relay_sink :
	       mode == 'c' ? skel->progs.relay_count : skel->progs.relay_drop;
	err = bpf_xdp_attach(ifindex, bpf_program__fd(prog), XDP_FLAGS_DRV_MODE, NULL);
	if (err) {
		fprintf(stderr, "relay_xdp: attach to %s: %s\n", ifname, strerror(-err));
		relay_xdp_bpf__destroy(skel);
		return 2;
	}
	signal(SIGINT, rx_on_signal);
	signal(SIGTERM, rx_on_signal);
	t0 = rx_now();
	while (!rx_stop && rx_now() - t0 < secs) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	el = rx_now() - t0;
	/* XDP_PASS back before the counters are read: what is in flight
	 * meanwhile is counted or passed, never lost by a detached peer */
	err = bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.relay_pass),
			     XDP_FLAGS_DRV_MODE, NULL);
	if (err) {
		fprintf(stderr, "relay_xdp: putting XDP_PASS back on %s: %s\n", ifname,
			strerror(-err));
		ret = 2;
	}
	if (rx_sum(bpf_map__fd(skel->maps.rx_stats), &t)) {
		fprintf(stderr, "relay_xdp: reading the counters: %s\n", strerror(errno));
		ret = 2;
	} else if (mode == 's') {
		printf("sink: received %llu requests, answered %llu, in %.2f s, %llu duplicates\n",
		       (unsigned long long)t.req, (unsigned long long)t.answered, el,
		       (unsigned long long)t.dup);
		printf("sink: other requests %llu, passed up %llu, failed %llu, without branch %llu, stale %llu\n",
		       (unsigned long long)t.other, (unsigned long long)t.passed,
		       (unsigned long long)t.failed, (unsigned long long)t.nobranch,
		       (unsigned long long)t.stale);
	} else if (mode == 'd') {
		printf("drop: frames %llu in %.2f s\n", (unsigned long long)t.req, el);
	} else {
		printf("count: replies 2xx %llu, other %llu, duplicates %llu, passed up %llu, stale %llu\n",
		       (unsigned long long)t.req, (unsigned long long)t.other,
		       (unsigned long long)t.dup, (unsigned long long)t.passed,
		       (unsigned long long)t.stale);
	}
	relay_xdp_bpf__destroy(skel);
	return ret;
}
