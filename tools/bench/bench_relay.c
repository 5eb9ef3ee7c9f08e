// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_relay.c - the rows of the kernel relay (bpf/sip_relay.h) for
 * `make bench-xdp`: ns per packet of a relayed in-dialog INFO and of a
 * relayed reply, beside the same INFO matched with the relay off.
 *
 * Kept apart from bench_xdp.c: the relay needs a FIB with routes and
 * neighbours, so this runs in a network namespace of its own (two veth
 * pairs, forwarding on, permanent neighbours; gone when the process
 * ends).  Every run is a single BPF_PROG_TEST_RUN (repeat 1) timed by
 * the kernel: a relayed frame is rewritten in place, so a repeated run
 * would time the rewritten frame (live-frames mode does not restore the
 * contents either); the verdict is returned, nothing is sent.
 * Executed instructions are counted elsewhere: bpf_icount's and
 * bench_xdp's "relayed request" and "relayed reply" rows (the counting
 * interpreter, with a fixed FIB answer).
 *
 * Usage: bench_relay [-r SINGLE_RUNS] [-n RUNS]   (root)
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sipdlg_shared.h"
#include "sipdlg_hash.h"
#include "sipdlg.skel.h"
#include "lib/pkt.h"

#define MAX_RUNS 15

static unsigned g_if_in, g_if_out;

static int setup(void)
{
	static const char *const cmds[] = {
		"ip link set lo up",
		"sysctl -qw net.ipv4.conf.all.forwarding=1",
		"ip link add rkc0 type veth peer name rkc1",
		"ip link add rkd0 type veth peer name rkd1",
		"ip link set rkc0 up", "ip link set rkc1 up",
		"ip link set rkd0 up", "ip link set rkd1 up",
		"ip addr add 10.9.1.1/24 dev rkc0",
		"ip addr add 10.9.2.1/24 dev rkd0",
		"ip neigh add 10.9.1.2 lladdr 02:99:00:00:00:02 dev rkc0 nud permanent",
		"ip neigh add 10.9.2.2 lladdr 02:99:00:00:00:02 dev rkd0 nud permanent",
	};

	if (unshare(CLONE_NEWNET) != 0) {
		perror("bench_relay: unshare");
		return -1;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (system(cmds[i]) != 0) {
			fprintf(stderr, "bench_relay: failed: %s\n", cmds[i]);
			return -1;
		}
	g_if_in = if_nametoindex("rkc0");
	g_if_out = if_nametoindex("rkd0");
	return g_if_in && g_if_out ? 0 : -1;
}

static struct sipdlg_bpf *load(int relay)
{
	struct sipdlg_bpf *skel = sipdlg_bpf__open();
	struct bpf_map *map;

	if (!skel)
		return NULL;
	skel->rodata->sip_ports[0] = 5060;
	skel->rodata->n_sip_ports = 1;
	skel->rodata->relay_enabled = relay;
	skel->rodata->relay_methods = relay ? 1u << SDM_INFO : 0;
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	if (sipdlg_bpf__load(skel)) {
		sipdlg_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static __u64 hs(const char *s)
{
	return sipdlg_hash_bytes(s, (__u32)strlen(s));
}

static void hop(struct sipdlg_relay_hop *h, const char *d, __u16 dport,
		const char *s, unsigned ifindex)
{
	memset(h, 0, sizeof(*h));
	h->family = 4;
	inet_pton(AF_INET, d, h->daddr);
	inet_pton(AF_INET, s, h->saddr);
	h->dport = dport;
	h->sport = 5060;
	h->nroutes = 1;
	h->ifindex = ifindex;
	h->sentby_len = (__u8)strlen(s);
	memcpy(h->sentby, s, h->sentby_len);
}

static int maps(struct sipdlg_bpf *skel)
{
	struct sipdlg_dlg_key k = { 1685, 9485 };
	struct sipdlg_dlg_value v;
	struct sipdlg_relay_hops hv;

	memset(&v, 0, sizeof(v));
	v.callid_hash = hs("a84b4c76e66710@pc33.atlanta.example.com");
	v.caller_tag_hash = hs("1928301774");
	v.callee_tag_hash = hs("a6c85cf");
	v.state = 4;
	memset(&hv, 0, sizeof(hv));
	hop(&hv.dir[0], "10.9.2.2", 5080, "10.9.2.1", g_if_out);
	hop(&hv.dir[1], "10.9.1.2", 5070, "10.9.1.1", g_if_in);
	if (bpf_map__update_elem(skel->maps.dialogs, &k, sizeof(k), &v,
				 sizeof(v), BPF_ANY))
		return -1;
	return bpf_map__update_elem(skel->maps.relay_hops, &k, sizeof(k), &hv,
				    sizeof(hv), BPF_ANY);
}

#define CRLF "\r\n"
static const char INFO[] =
	"INFO sip:bob@10.9.2.2:5080 SIP/2.0" CRLF
	"Via: SIP/2.0/UDP 10.9.1.2:5070;branch=z9hG4bK-bench-1;rport" CRLF
	"Max-Forwards: 70" CRLF
	"Route: <sip:10.9.1.1;lr;did=596.d052>" CRLF
	"From: <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
	"To: <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
	"CSeq: 10 INFO" CRLF
	"Contact-Less: the INFO carries no Contact" CRLF
	"User-Agent: bench" CRLF
	"Content-Type: application/dtmf-relay" CRLF
	"Content-Length: 24" CRLF CRLF
	"Signal=1\r\nDuration=160\r\n";
static const char REPLY[] =
	"SIP/2.0 200 OK" CRLF
	"Via: SIP/2.0/UDP 10.9.2.1;branch=z9hG4bKsd596.d052.0k0123456789abcdef" CRLF
	"Via: SIP/2.0/UDP 10.9.1.2:5070;branch=z9hG4bK-bench-1;received=10.9.1.2;rport=5070" CRLF
	"From: <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
	"To: <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
	"CSeq: 10 INFO" CRLF
	"Content-Length: 0" CRLF CRLF;

static void frame(struct pkt *p, const char *src, const char *dst,
		  __u16 sport, const char *msg)
{
	struct in_addr s, d;

	inet_pton(AF_INET, src, &s);
	inet_pton(AF_INET, dst, &d);
	pkt_init(p);
	pkt_eth(p);
	pkt_ipv4(p, &(struct pkt_ipv4){ .saddr = ntohl(s.s_addr),
					 .daddr = ntohl(d.s_addr) });
	pkt_udp(p, sport, 5060);
	pkt_payload(p, msg, strlen(msg));
	pkt_finish(p);
}

/* Packets counted under @reason so far, over the CPUs. */
static __u64 counted(struct sipdlg_bpf *skel, __u32 reason)
{
	int n = libbpf_num_possible_cpus();
	struct sipdlg_counter *v = calloc((size_t)n, sizeof(*v));
	__u64 s = 0;

	if (v && !bpf_map__lookup_elem(skel->maps.counters, &reason,
				       sizeof(reason), v,
				       (size_t)n * sizeof(*v), 0))
		for (int i = 0; i < n; i++)
			s += v[i].packets;
	free(v);
	return s;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Median ns per packet: @repeat single runs (repeat 1, so that every run
 * starts from the original frame: a relayed frame is rewritten in
 * place, and live-frames mode does not restore the contents), each
 * timed by the kernel (opts.duration), the median of @runs such medians.
 */
static __u32 g_d[200000];

static int timed(struct sipdlg_bpf *skel, const struct pkt *p, unsigned ifx,
		 __u32 repeat, __u32 runs, __u32 *med, __u32 *retval)
{
	struct xdp_md ctx = { .data = 0, .data_end = (__u32)p->len,
			      .ingress_ifindex = ifx };
	__u32 t[MAX_RUNS];
	static __u8 out[PKT_MAX];

	if (repeat > sizeof(g_d) / sizeof(g_d[0]))
		repeat = sizeof(g_d) / sizeof(g_d[0]);
	for (__u32 i = 0; i < runs; i++) {
		for (__u32 k = 0; k < repeat; k++) {
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->buf,
				    .data_size_in = (__u32)p->len,
				    .data_out = out, .data_size_out = sizeof(out),
				    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
				    .repeat = 1);
			if (bpf_prog_test_run_opts(
				    bpf_program__fd(skel->progs.sipdlg_xdp), &o))
				return -1;
			g_d[k] = o.duration;
			*retval = o.retval;
		}
		qsort(g_d, repeat, sizeof(g_d[0]), cmp_u32);
		t[i] = g_d[repeat / 2];
	}
	qsort(t, runs, sizeof(t[0]), cmp_u32);
	*med = t[runs / 2];
	return 0;
}

int main(int argc, char **argv)
{
	__u32 repeat = 20000, runs = 3, med, ret;
	struct sipdlg_bpf *on = NULL, *off = NULL;
	struct pkt p;
	int opt, rc = 1;

	while ((opt = getopt(argc, argv, "r:n:")) != -1) {
		if (opt == 'r')
			repeat = (__u32)strtoul(optarg, NULL, 0);
		else if (opt == 'n')
			runs = (__u32)strtoul(optarg, NULL, 0);
		else {
			fprintf(stderr, "usage: %s [-r REPEAT] [-n RUNS]\n",
				argv[0]);
			return 2;
		}
	}
	if (!repeat || runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "bench_relay: runs 1..%d, repeat > 0\n",
			MAX_RUNS);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "bench_relay: needs root\n");
		return 1;
	}
	libbpf_set_print(NULL);
	if (setup())
		return 1;
	on = load(1);
	off = load(0);
	if (!on || !off || maps(on) || maps(off)) {
		fprintf(stderr, "bench_relay: cannot load: %s\n",
			strerror(errno));
		goto out;
	}
	printf("\nkernel relay (bpf/sip_relay.h), BPF_PROG_TEST_RUN, %u "
	       "single runs x %u, median ns/packet (kernel-timed, includes "
	       "~the clock reads of one run)\n"
	       "(executed instructions: the relayed rows of bpf-icount "
	       "above)\n", repeat, runs);
	printf("%-38s %6s %8s %8s\n", "packet", "bytes", "verdict", "median");
	frame(&p, "10.9.1.2", "10.9.1.1", 5070, INFO);
	if (timed(off, &p, g_if_in, repeat, runs, &med, &ret))
		goto out;
	printf("%-38s %6zu %8u %8u\n", "in-dialog INFO matched, relay off",
	       p.len, ret, med);
	if (timed(on, &p, g_if_in, repeat, runs, &med, &ret))
		goto out;
	printf("%-38s %6zu %8u %8u  (relay_req counted %llu)\n",
	       "relayed in-dialog INFO", p.len, ret, med,
	       (unsigned long long)counted(on, SDR_RELAY_REQ));
	frame(&p, "10.9.2.2", "10.9.2.1", 5080, REPLY);
	if (timed(off, &p, g_if_out, repeat, runs, &med, &ret))
		goto out;
	printf("%-38s %6zu %8u %8u\n", "reply matched, relay off", p.len, ret,
	       med);
	if (timed(on, &p, g_if_out, repeat, runs, &med, &ret))
		goto out;
	printf("%-38s %6zu %8u %8u  (relay_reply counted %llu)\n",
	       "relayed reply", p.len, ret, med,
	       (unsigned long long)counted(on, SDR_RELAY_REPLY));
	rc = 0;
out:
	sipdlg_bpf__destroy(on);
	sipdlg_bpf__destroy(off);
	return rc;
}
