// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_xdp_parse.c - packet tests of the XDP L2-L4 parser.
 *
 * Each case builds a frame (tests/lib/pkt.h) or takes one from a capture
 * (tests/lib/pcap.h), zeroes the "counters" map, runs the program once with
 * BPF_PROG_TEST_RUN and checks the verdict (XDP_PASS) and that exactly the
 * expected reason counted one packet of the frame's length while every
 * other slot stayed at zero.
 *
 * The tests never pin: every map's pin path is cleared between open and
 * load, so nothing is created under /sys/fs/bpf (which need not even be
 * mounted) and nothing can be left behind, whatever way the test ends.
 * Needs root; without it the whole program is one TAP skip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sipdlg_shared.h"
#include "sipdlg.skel.h"
#include "lib/tap.h"
#include "lib/pcap.h"
#include "lib/pkt.h"

/* What the kernel checks the frame length against before running XDP. */
#define TEST_ETH_HLEN 14
/*
 * Budget of verifier-processed instructions for the whole program, the
 * SIP stages included (they dominate it; the L2-L4 parse alone was ~2k).
 * A guard against a change that makes verification explode.
 */
#define TEST_MAX_VERIFIED_INSNS 700000
/* Expected reason for a frame the kernel may refuse to run (< ETH_HLEN). */
#define WANT_REFUSED_OR_TRUNCATED (-1)

/* Reference captures (Ethernet/IPv4/UDP); $SIPDLG_PCAP_DIR overrides. */
#define DEFAULT_PCAP_DIR "tests/data/pcap"

/* The program under test, SIP ports 5060 and 5061. */
static struct sipdlg_bpf *g_skel;
static int g_load_err;
static int g_ncpus;

static const char sip_options[] =
	"OPTIONS sip:alice@192.0.2.2 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK-1\r\n"
	"Max-Forwards: 70\r\n"
	"From: <sip:bob@192.0.2.1>;tag=1\r\n"
	"To: <sip:alice@192.0.2.2>\r\n"
	"Call-ID: 1@192.0.2.1\r\n"
	"CSeq: 1 OPTIONS\r\n"
	"Content-Length: 0\r\n\r\n";

static const char *reason_name(int r)
{
	static const char *const names[SDR_MAX_] = {
		[SDR_NON_IP] = "NON_IP",
		[SDR_NON_UDP] = "NON_UDP",
		[SDR_OTHER_PORT] = "OTHER_PORT",
		[SDR_TRUNCATED] = "TRUNCATED",
		[SDR_IP_FRAGMENT] = "IP_FRAGMENT",
		[SDR_IPV6_EXT] = "IPV6_EXT",
		[SDR_VLAN_DEPTH] = "VLAN_DEPTH",
		[SDR_SIP_UDP4] = "SIP_UDP4",
		[SDR_SIP_UDP6] = "SIP_UDP6",
		[SDR_BAD_IP_HEADER] = "BAD_IP_HEADER",
		[SDR_SIP_NOT_SIP] = "SIP_NOT_SIP",
		[SDR_SIP_SCAN_LIMIT] = "SIP_SCAN_LIMIT",
		[SDR_SIP_FOLDED] = "SIP_FOLDED",
		[SDR_SIP_REPLY_OTHER] = "SIP_REPLY_OTHER",
		[SDR_DLG_MATCH] = "DLG_MATCH",
		[SDR_DLG_REPLY_MATCH] = "DLG_REPLY_MATCH",
		[SDR_DLG_UNKNOWN] = "DLG_UNKNOWN",
		[SDR_DLG_UNKNOWN_DROP] = "DLG_UNKNOWN_DROP",
		[SDR_DLG_MISMATCH] = "DLG_MISMATCH",
		[SDR_DLG_MISMATCH_DROP] = "DLG_MISMATCH_DROP",
		[SDR_DLG_BAD_COOKIE] = "DLG_BAD_COOKIE",
		[SDR_DLG_BAD_COOKIE_DROP] = "DLG_BAD_COOKIE_DROP",
		[SDR_DLG_MAC_FAIL] = "DLG_MAC_FAIL",
		[SDR_DLG_MAC_FAIL_DROP] = "DLG_MAC_FAIL_DROP",
		[SDR_DLG_RATE_LIMITED] = "DLG_RATE_LIMITED",
		[SDR_DLG_REPLY_UNKNOWN] = "DLG_REPLY_UNKNOWN",
		[SDR_SIP_MALFORMED] = "SIP_MALFORMED",
		[SDR_MULTI_BUFFER] = "MULTI_BUFFER",
		[SDR_DLG_NOT_IN_KERNEL] = "DLG_NOT_IN_KERNEL",
	};

	if (r == WANT_REFUSED_OR_TRUNCATED)
		return "refused-or-TRUNCATED";
	if (r >= 0 && r < SDR_MAX_ && names[r])
		return names[r];
	return "?";
}

/* A TAP comment line on stdout, in order with cmocka's own lines. */
/*
 * Open the skeleton, write the @n ports into sip_ports, make the first
 * @active of them count (n_sip_ports), clear every pin path, load.
 * 0 and *out set, or -errno.
 */
static int xdp_load(const uint16_t *ports, unsigned int n,
		    unsigned int active, struct sipdlg_bpf **out)
{
	struct sipdlg_bpf *skel;
	struct bpf_map *map;
	unsigned int i;
	int err;

	if (n > SIPDLG_MAX_SIP_PORTS)
		return -EINVAL;
	skel = sipdlg_bpf__open();
	if (!skel)
		return -errno;
	for (i = 0; i < n; i++)
		skel->rodata->sip_ports[i] = ports[i];
	skel->rodata->n_sip_ports = active;

	bpf_object__for_each_map(map, skel->obj) {
		err = bpf_map__set_pin_path(map, NULL);
		if (err)
			goto fail;
	}
	err = sipdlg_bpf__load(skel);
	if (err)
		goto fail;
	*out = skel;
	return 0;
fail:
	sipdlg_bpf__destroy(skel);
	return err;
}

static int counters_zero(struct sipdlg_bpf *skel)
{
	size_t vsz = (size_t)g_ncpus * sizeof(struct sipdlg_counter);
	struct sipdlg_counter *zero = calloc((size_t)g_ncpus, sizeof(*zero));
	__u32 key;
	int err = 0;

	if (!zero)
		return -ENOMEM;
	for (key = 0; key < SIPDLG_REASON_SLOTS && !err; key++)
		err = bpf_map__update_elem(skel->maps.counters, &key,
					   sizeof(key), zero, vsz, BPF_ANY);
	free(zero);
	return err;
}

/* Sum every slot over the CPUs into sum[SIPDLG_REASON_SLOTS]. */
static int counters_read(struct sipdlg_bpf *skel, struct sipdlg_counter *sum)
{
	size_t vsz = (size_t)g_ncpus * sizeof(struct sipdlg_counter);
	struct sipdlg_counter *v = calloc((size_t)g_ncpus, sizeof(*v));
	__u32 key;
	int cpu, err = 0;

	if (!v)
		return -ENOMEM;
	for (key = 0; key < SIPDLG_REASON_SLOTS && !err; key++) {
		err = bpf_map__lookup_elem(skel->maps.counters, &key,
					   sizeof(key), v, vsz, 0);
		sum[key].packets = 0;
		sum[key].bytes = 0;
		for (cpu = 0; cpu < g_ncpus && !err; cpu++) {
			sum[key].packets += v[cpu].packets;
			sum[key].bytes += v[cpu].bytes;
		}
	}
	free(v);
	return err;
}

/* "SIP_UDP4 1/267, TRUNCATED 1/20": the slots that counted anything. */
static void counters_describe(const struct sipdlg_counter *sum, char *out,
			      size_t outlen)
{
	size_t used = 0;
	int slot, n;

	out[0] = 0;
	for (slot = 0; slot < SIPDLG_REASON_SLOTS && used < outlen; slot++) {
		if (!sum[slot].packets && !sum[slot].bytes)
			continue;
		n = snprintf(out + used, outlen - used, "%s%s %llu/%llu",
			     used ? ", " : "", reason_name(slot),
			     (unsigned long long)sum[slot].packets,
			     (unsigned long long)sum[slot].bytes);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	if (!used)
		snprintf(out, outlen, "nothing");
}

/*
 * Run @skel once on @len bytes of @data and check the outcome: XDP_PASS
 * and slot @want at exactly {1 packet, len bytes}, every other slot at
 * zero.  With @want == WANT_REFUSED_OR_TRUNCATED the kernel may also
 * refuse the run (-EINVAL), and then nothing may be counted.
 * 0 if all holds, 1 if the kernel refused as allowed, -1 with the story
 * in @why otherwise.
 */
static int check_frame(struct sipdlg_bpf *skel, const void *data, size_t len,
		       int want, char *why, size_t whylen)
{
	struct sipdlg_counter sum[SIPDLG_REASON_SLOTS];
	int expect = want == WANT_REFUSED_OR_TRUNCATED ? SDR_TRUNCATED : want;
	int err, slot, refused = 0;
	char got[160];

	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data,
		    .data_size_in = (__u32)len, .repeat = 1);

	err = counters_zero(skel);
	if (err) {
		snprintf(why, whylen, "zeroing counters: %s", strerror(-err));
		return -1;
	}
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.sipdlg_xdp),
				     &opts);
	if (err == -EINVAL && want == WANT_REFUSED_OR_TRUNCATED) {
		refused = 1;
		expect = -1;	/* refused: nothing may move */
	} else if (err) {
		snprintf(why, whylen, "len %zu: test run: %s", len,
			 strerror(-err));
		return -1;
	} else if (opts.retval != XDP_PASS) {
		snprintf(why, whylen, "len %zu: verdict %u, want XDP_PASS",
			 len, opts.retval);
		return -1;
	}

	err = counters_read(skel, sum);
	if (err) {
		snprintf(why, whylen, "reading counters: %s", strerror(-err));
		return -1;
	}
	for (slot = 0; slot < SIPDLG_REASON_SLOTS; slot++) {
		__u64 wp = slot == expect ? 1 : 0;
		__u64 wb = slot == expect ? len : 0;

		if (sum[slot].packets != wp || sum[slot].bytes != wb) {
			counters_describe(sum, got, sizeof(got));
			snprintf(why, whylen,
				 "len %zu%s: want %s 1/%zu, counted %s", len,
				 refused ? " (refused by the kernel)" : "",
				 reason_name(want), len, got);
			return -1;
		}
	}
	return refused;
}

/* --- frames --------------------------------------------------------------- */

static const struct pkt_ipv4 ip4_plain = {
	.saddr = PKT_IP4(192, 0, 2, 1),
	.daddr = PKT_IP4(192, 0, 2, 2),
};

static const struct pkt_ipv6 ip6_plain = {
	.saddr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
	.daddr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 },
};

static void sip_udp(struct pkt *p, uint16_t dport)
{
	pkt_udp(p, 5070, dport);
	pkt_payload(p, sip_options, sizeof(sip_options) - 1);
}

static void f_ip4(struct pkt *p, uint16_t dport)
{
	pkt_eth(p);
	pkt_ipv4(p, &ip4_plain);
	sip_udp(p, dport);
}

static void f_ip6(struct pkt *p, uint16_t dport)
{
	pkt_eth(p);
	pkt_ipv6(p, &ip6_plain);
	sip_udp(p, dport);
}

static void f_ip4_5060(struct pkt *p)
{
	f_ip4(p, 5060);
}

static void f_ip4_5061(struct pkt *p)
{
	f_ip4(p, 5061);
}

static void f_ip4_53(struct pkt *p)
{
	f_ip4(p, 53);
}

static void f_ip4_from_5060(struct pkt *p)
{
	pkt_eth(p);
	pkt_ipv4(p, &ip4_plain);
	pkt_udp(p, 5060, 40000);
	pkt_payload(p, sip_options, sizeof(sip_options) - 1);
}

static void f_ip4_udp_empty(struct pkt *p)
{
	pkt_eth(p);
	pkt_ipv4(p, &ip4_plain);
	pkt_udp(p, 5070, 5060);
}

static void f_ip6_5060(struct pkt *p)
{
	f_ip6(p, 5060);
}

static void f_ip6_53(struct pkt *p)
{
	f_ip6(p, 53);
}

static void f_ip4_with_opts(struct pkt *p, const uint8_t *opts,
			    size_t len, uint16_t dport)
{
	struct pkt_ipv4 ip = ip4_plain;

	ip.opts = opts;
	ip.opt_len = len;
	pkt_eth(p);
	pkt_ipv4(p, &ip);
	sip_udp(p, dport);
}

/* Router Alert, then NOP NOP NOP EOL */
static const uint8_t ip4_ra_opts[8] = { 0x94, 0x04, 0, 0, 1, 1, 1, 0 };

static void f_ip4_opts(struct pkt *p)
{
	f_ip4_with_opts(p, ip4_ra_opts, sizeof(ip4_ra_opts), 5060);
}

static void f_ip4_opts_max(struct pkt *p)
{
	static const uint8_t opts[40] = { 1, 1, 1, 1 };	/* NOPs then EOLs */

	f_ip4_with_opts(p, opts, sizeof(opts), 5060);
}

static void f_ip4_frag(struct pkt *p, uint16_t frag, uint16_t dport)
{
	struct pkt_ipv4 ip = ip4_plain;

	ip.frag = frag;
	pkt_eth(p);
	pkt_ipv4(p, &ip);
	sip_udp(p, dport);
}

static void f_ip4_mf(struct pkt *p)
{
	f_ip4_frag(p, PKT_IP_MF, 5060);
}

static void f_ip4_offset(struct pkt *p)
{
	f_ip4_frag(p, 185, 5060);	/* byte offset 1480, last fragment */
}

/*
 * The same shapes to a port that is not a SIP port: the program decides
 * plain IPv4 to other ports before its full parse (sd_quick_other), and
 * must leave fragments and headers with options to the full parse.
 */
static void f_ip4_mf_53(struct pkt *p)
{
	f_ip4_frag(p, PKT_IP_MF, 53);
}

static void f_ip4_offset_53(struct pkt *p)
{
	f_ip4_frag(p, 185, 53);
}

static void f_ip4_opts_53(struct pkt *p)
{
	f_ip4_with_opts(p, ip4_ra_opts, sizeof(ip4_ra_opts), 53);
}

static void f_ip4_df(struct pkt *p)
{
	f_ip4_frag(p, PKT_IP_DF, 5060);	/* DF alone is not a fragment */
}

static void f_ip4_ihl4(struct pkt *p)
{
	struct pkt_ipv4 ip = ip4_plain;

	ip.ihl = 4;
	pkt_eth(p);
	pkt_ipv4(p, &ip);
	sip_udp(p, 5060);
}

static void f_ip4_version6(struct pkt *p)
{
	f_ip4_5060(p);
	p->buf[p->ip4_off] = 0x65;	/* EtherType IPv4, version 6 */
}

static void f_ip6_version4(struct pkt *p)
{
	f_ip6_5060(p);
	p->buf[p->ip6_off] = 0x40;
}

static void f_ip4_tcp(struct pkt *p)
{
	/* sport 5070, dport 5060, seq, ack, doff 5, SYN */
	static const uint8_t tcp[20] = { 0x13, 0xce, 0x13, 0xc4, 0, 0, 0, 1,
					 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff };

	pkt_eth(p);
	pkt_ipv4(p, &ip4_plain);
	pkt_l4_raw(p, PKT_PROTO_TCP, tcp, sizeof(tcp));
}

static void f_icmp6(struct pkt *p)
{
	/* echo request, id 1, seq 1 (checksum left zero) */
	static const uint8_t icmp[8] = { 128, 0, 0, 0, 0, 1, 0, 1 };

	pkt_eth(p);
	pkt_ipv6(p, &ip6_plain);
	pkt_l4_raw(p, PKT_PROTO_ICMPV6, icmp, sizeof(icmp));
}

static void f_ip6_esp(struct pkt *p)
{
	static const uint8_t esp[16] = { 0, 0, 0, 1, 0, 0, 0, 1 };

	pkt_eth(p);
	pkt_ipv6(p, &ip6_plain);
	pkt_l4_raw(p, 50, esp, sizeof(esp));
}

static void f_ip6_hbh_dst(struct pkt *p)
{
	pkt_eth(p);
	pkt_ipv6(p, &ip6_plain);
	pkt_ipv6_ext(p, PKT_PROTO_HOPOPTS, 8);
	pkt_ipv6_ext(p, PKT_PROTO_DSTOPTS, 16);
	sip_udp(p, 5060);
}

static void f_ip6_routing(struct pkt *p)
{
	pkt_eth(p);
	pkt_ipv6(p, &ip6_plain);
	pkt_ipv6_ext(p, PKT_PROTO_ROUTING, 24);
	sip_udp(p, 5060);
}

static void f_ip6_ah(struct pkt *p)
{
	pkt_eth(p);
	pkt_ipv6(p, &ip6_plain);
	pkt_ipv6_ext(p, PKT_PROTO_HOPOPTS, 8);
	pkt_ipv6_ah(p, 24);
	sip_udp(p, 5060);
}

static void f_ip6_ext_chain(struct pkt *p, int n)
{
	int i;

	pkt_eth(p);
	pkt_ipv6(p, &ip6_plain);
	for (i = 0; i < n; i++)
		pkt_ipv6_ext(p, PKT_PROTO_DSTOPTS, 8);
	sip_udp(p, 5060);
}

static void f_ip6_ext6(struct pkt *p)
{
	f_ip6_ext_chain(p, 6);
}

static void f_ip6_ext7(struct pkt *p)
{
	f_ip6_ext_chain(p, 7);
}

static void f_ip6_frag(struct pkt *p)
{
	pkt_eth(p);
	pkt_ipv6(p, &ip6_plain);
	pkt_ipv6_frag(p, 0x0001, 42);	/* offset 0, more fragments */
	sip_udp(p, 5060);
}

static void f_ip6_hbh_frag(struct pkt *p)
{
	pkt_eth(p);
	pkt_ipv6(p, &ip6_plain);
	pkt_ipv6_ext(p, PKT_PROTO_HOPOPTS, 8);
	pkt_ipv6_frag(p, 0x0001, 42);
	sip_udp(p, 5060);
}

static void f_vlan_ip4(struct pkt *p)
{
	pkt_eth(p);
	pkt_vlan(p, PKT_ETH_P_8021Q, 100);
	pkt_ipv4(p, &ip4_plain);
	sip_udp(p, 5060);
}

static void f_qinq_ip4(struct pkt *p)
{
	pkt_eth(p);
	pkt_vlan(p, PKT_ETH_P_8021AD, 10);
	pkt_vlan(p, PKT_ETH_P_8021Q, 100);
	pkt_ipv4(p, &ip4_plain);
	sip_udp(p, 5060);
}

static void f_qinq_ip6(struct pkt *p)
{
	pkt_eth(p);
	pkt_vlan(p, PKT_ETH_P_8021AD, 10);
	pkt_vlan(p, PKT_ETH_P_8021Q, 100);
	pkt_ipv6(p, &ip6_plain);
	sip_udp(p, 5061);
}

static void f_vlan_ip6(struct pkt *p)
{
	pkt_eth(p);
	pkt_vlan(p, PKT_ETH_P_8021Q, 100);
	pkt_ipv6(p, &ip6_plain);
	sip_udp(p, 5060);
}

static void f_vlan3(struct pkt *p)
{
	pkt_eth(p);
	pkt_vlan(p, PKT_ETH_P_8021AD, 10);
	pkt_vlan(p, PKT_ETH_P_8021Q, 100);
	pkt_vlan(p, PKT_ETH_P_8021Q, 200);
	pkt_ipv4(p, &ip4_plain);
	sip_udp(p, 5060);
}

static void f_arp(struct pkt *p)
{
	/* Ethernet/IPv4 request: who has 192.0.2.2, tell 192.0.2.1 */
	static const uint8_t arp[28] = { 0, 1, 8, 0, 6, 4, 0, 1,
					 2, 0, 0, 0, 0, 1, 192, 0, 2, 1,
					 0, 0, 0, 0, 0, 0, 192, 0, 2, 2 };

	pkt_eth(p);
	pkt_l3_raw(p, PKT_ETH_P_ARP, arp, sizeof(arp));
}

static void f_llc(struct pkt *p)
{
	/* 802.3 length field instead of an EtherType, then LLC (STP) */
	static const uint8_t llc[38] = { 0x42, 0x42, 0x03 };

	pkt_eth(p);
	pkt_l3_raw(p, sizeof(llc), llc, sizeof(llc));
}

/* --- table-driven cases ----------------------------------------------------- */

struct parse_case {
	const char *name;
	void (*build)(struct pkt *p);
	int want;			/* enum sipdlg_reason */
};

/*
 * One TAP line per case; the table itself is in main().  The compound
 * literal lives as long as main's block, that is, for the whole run.
 */
#define PARSE_CASE(nm, fn, reason)                                        \
	{                                                                 \
		.name = #nm, .test_func = test_case,                      \
		.initial_state = &(struct parse_case){ #nm, fn, reason }, \
	}

static void build_frame(struct pkt *p, void (*build)(struct pkt *p))
{
	pkt_init(p);
	build(p);
	assert_int_equal(pkt_finish(p), 0);
}

static void test_case(void **state)
{
	const struct parse_case *c = *state;
	struct pkt p;
	char why[256];

	assert_non_null(g_skel);
	build_frame(&p, c->build);
	if (check_frame(g_skel, p.buf, p.len, c->want, why, sizeof(why)) < 0) {
		tap_diag("%s: %s", c->name, why);
		fail();
	}
}

/*
 * Truncation series: the whole frame, cut at every length from 0 to @max.
 * Up to the end of the UDP header the reason is TRUNCATED (below
 * ETH_HLEN the kernel may refuse the run instead); from there on, a frame
 * to a SIP port that is shorter than its UDP length says is TRUNCATED
 * too (the SIP stages read the UDP length); the whole frame counts as
 * the case's reason.
 */
struct trunc_case {
	const char *name;
	void (*build)(struct pkt *p);
	int want;
	size_t max;
};

#define TRUNC_CASE(nm, fn, reason, max)                                  \
	{                                                                 \
		.name = #nm, .test_func = test_truncated,                 \
		.initial_state =                                          \
			&(struct trunc_case){ #nm, fn, reason, max },     \
	}

static void test_truncated(void **state)
{
	const struct trunc_case *c = *state;
	size_t hdr_end, n;
	struct pkt p;
	char why[256];
	int want, rc, bad = 0, refused = 0;

	assert_non_null(g_skel);
	build_frame(&p, c->build);
	hdr_end = (size_t)p.l4_off + 8;
	assert_true(c->max <= p.len);
	for (n = 0; n <= c->max; n++) {
		if (n < TEST_ETH_HLEN)
			want = WANT_REFUSED_OR_TRUNCATED;
		else if (n < hdr_end)
			want = SDR_TRUNCATED;
		else if (n < p.len && (c->want == SDR_SIP_UDP4 ||
				       c->want == SDR_SIP_UDP6))
			want = SDR_TRUNCATED;
		else
			want = c->want;
		rc = check_frame(g_skel, p.buf, n, want, why, sizeof(why));
		if (rc < 0) {
			tap_diag("%s: %s", c->name, why);
			bad++;
		}
		refused += rc == 1;
	}
	tap_diag("%s: headers end at %zu; kernel refused %d short frames",
		 c->name, hdr_end, refused);
	assert_int_equal(bad, 0);
}

/* --- whole-program checks ------------------------------------------------- */

static void test_loads(void **state)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int err;

	if (g_load_err)
		tap_diag("loading sipdlg.bpf.o: %s", strerror(-g_load_err));
	assert_int_equal(g_load_err, 0);
	assert_non_null(g_skel);

	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(bpf_program__fd(g_skel->progs.sipdlg_xdp),
				     &info, &len);
	assert_int_equal(err, 0);
	tap_diag("verifier processed %u insns; %u xlated bytes",
		 info.verified_insns, info.xlated_prog_len);
	assert_true(info.verified_insns > 0);
	assert_true(info.verified_insns <= TEST_MAX_VERIFIED_INSNS);
}

/* The maps are what include/sipdlg_shared.h and the design say. */
static void test_maps_match_contract(void **state)
{
	struct bpf_map *m;

	assert_non_null(g_skel);
	m = g_skel->maps.dialogs;
	assert_int_equal(bpf_map__type(m), BPF_MAP_TYPE_HASH);
	assert_int_equal(bpf_map__key_size(m), sizeof(struct sipdlg_dlg_key));
	assert_int_equal(bpf_map__value_size(m),
			 sizeof(struct sipdlg_dlg_value));
	assert_int_equal(bpf_map__max_entries(m), SIPDLG_MAX_DIALOGS);
	assert_true(bpf_map__map_flags(m) & BPF_F_NO_PREALLOC);

	m = g_skel->maps.counters;
	assert_int_equal(bpf_map__type(m), BPF_MAP_TYPE_PERCPU_ARRAY);
	assert_int_equal(bpf_map__key_size(m), sizeof(__u32));
	assert_int_equal(bpf_map__value_size(m), sizeof(struct sipdlg_counter));
	assert_int_equal(bpf_map__max_entries(m), SIPDLG_REASON_SLOTS);

	m = g_skel->maps.events;
	assert_int_equal(bpf_map__type(m), BPF_MAP_TYPE_RINGBUF);
	assert_int_equal(bpf_map__max_entries(m), SIPDLG_RINGBUF_BYTES);

	/* the test cleared every pin path, so nothing was pinned */
	bpf_object__for_each_map(m, g_skel->obj)
		assert_null(bpf_map__pin_path(m));
}

/* Load with @ports (first @active in use), run one frame; 0 if as wanted. */
static int knob_check(const uint16_t *ports, unsigned int n,
		      unsigned int active, uint16_t dport, int want)
{
	struct sipdlg_bpf *skel = NULL;
	struct pkt p;
	char why[256];
	int err;

	err = xdp_load(ports, n, active, &skel);
	if (err) {
		tap_diag("load: %s", strerror(-err));
		return -1;
	}
	pkt_init(&p);
	f_ip4(&p, dport);
	err = pkt_finish(&p);
	if (!err && check_frame(skel, p.buf, p.len, want, why,
				sizeof(why)) < 0) {
		tap_diag("%u of %u ports in use, dport %u: %s", active, n,
			 dport, why);
		err = -1;
	}
	sipdlg_bpf__destroy(skel);
	return err;
}

/* The port knobs: n_sip_ports bounds the list, the last slot is read. */
static void test_port_knobs(void **state)
{
	static const uint16_t eight[SIPDLG_MAX_SIP_PORTS] = {
		1, 2, 3, 4, 5, 6, 7, 5090 };
	static const uint16_t two[2] = { 5060, 5061 };
	int bad = 0;

	/* both written, only the first in use */
	bad += knob_check(two, 2, 1, 5060, SDR_SIP_UDP4) != 0;
	bad += knob_check(two, 2, 1, 5061, SDR_OTHER_PORT) != 0;
	/* none in use: nothing is SIP */
	bad += knob_check(two, 2, 0, 5060, SDR_OTHER_PORT) != 0;
	/* all eight in use: the last slot counts, a port 0 never matches */
	bad += knob_check(eight, 8, 8, 5090, SDR_SIP_UDP4) != 0;
	bad += knob_check(eight, 8, 8, 8, SDR_OTHER_PORT) != 0;
	assert_int_equal(bad, 0);
}

/* --- captured frames ---------------------------------------------------------- */

/* Where the reference captures are: $SIPDLG_PCAP_DIR, else the default. */
static const char *pcap_dir(void)
{
	const char *d = getenv("SIPDLG_PCAP_DIR");

	return d && *d ? d : DEFAULT_PCAP_DIR;
}

/* UDP destination port of an Ethernet/IPv4/UDP frame, 0 if not one. */
static unsigned int frame_ip4_dport(const uint8_t *f, size_t len)
{
	size_t ihl;

	if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 17)
		return 0;
	ihl = (size_t)(f[14] & 0x0f) * 4;
	if (len < 14 + ihl + 8)
		return 0;
	return (unsigned int)f[14 + ihl + 2] << 8 | f[14 + ihl + 3];
}

/*
 * What the SIP stages make of a captured frame with empty dialog maps:
 * Kamailio's replies do not carry our branch, in-dialog requests with a
 * Route (and Kamailio's cookie in it) name no dialog, the others (the
 * INVITEs, which have no To-tag, the proxy's copies, the end_dlg BYEs)
 * carry no cookie.
 */
static int frame_sip_reason(const uint8_t *f, size_t len)
{
	size_t off = 14 + (size_t)(f[14] & 0x0f) * 4 + 8;
	const char *sip = (const char *)f + off;
	size_t n = len - off;

	if (n >= 7 && !memcmp(sip, "SIP/2.0", 7))
		return SDR_SIP_REPLY_OTHER;
	if (memmem(sip, n, "\nRoute:", 7))	/* with the cookie, To-tag */
		return SDR_DLG_UNKNOWN;
	return SDR_SIP_UDP4;
}

/*
 * Every frame of every capture: its SIP reason with the ports of the
 * capture configured; with the default {5060, 5061}, the frames to
 * 5070/5080 are OTHER_PORT.
 */
static void test_pcap_frames(void **state)
{
	static const uint16_t ports[3] = { 5060, 5070, 5080 };
	struct sipdlg_bpf *skel = NULL;
	struct capfile *cf;
	struct capframe fr;
	char pattern[4096], why[256];
	glob_t g;
	size_t i;
	int err, rc, bad = 0, frames = 0, want;

	assert_non_null(g_skel);
	snprintf(pattern, sizeof(pattern), "%s/*.pcap", pcap_dir());
	if (glob(pattern, 0, NULL, &g) != 0) {
		tap_diag("no capture matches %s", pattern);
		fail();
	}
	err = xdp_load(ports, 3, 3, &skel);
	if (err) {
		globfree(&g);
		assert_int_equal(err, 0);
	}
	for (i = 0; i < g.gl_pathc; i++) {
		err = capfile_open(g.gl_pathv[i], &cf);
		if (err) {
			tap_diag("%s: %s", g.gl_pathv[i], strerror(-err));
			bad++;
			continue;
		}
		while ((rc = capfile_next(cf, &fr)) == 1) {
			frames++;
			if (fr.linktype != CAP_LINKTYPE_ETHERNET) {
				tap_diag("%s: link type %u", g.gl_pathv[i],
					 fr.linktype);
				bad++;
				continue;
			}
			want = frame_sip_reason(fr.data, fr.len);
			if (check_frame(skel, fr.data, fr.len, want,
					why, sizeof(why)) < 0) {
				tap_diag("%s frame %d: %s", g.gl_pathv[i],
					 frames, why);
				bad++;
			}
			if (frame_ip4_dport(fr.data, fr.len) != 5060)
				want = SDR_OTHER_PORT;
			if (check_frame(g_skel, fr.data, fr.len, want, why,
					sizeof(why)) < 0) {
				tap_diag("%s frame %d, ports 5060/5061: %s",
					 g.gl_pathv[i], frames, why);
				bad++;
			}
		}
		if (rc < 0) {
			tap_diag("%s: malformed capture", g.gl_pathv[i]);
			bad++;
		}
		capfile_free(cf);
	}
	tap_diag("%d captured frames from %zu files", frames, g.gl_pathc);
	globfree(&g);
	sipdlg_bpf__destroy(skel);
	assert_int_equal(bad, 0);
	assert_true(frames > 0);
}

/* --- main --------------------------------------------------------------------- */

static int group_setup(void **state)
{
	static const uint16_t ports[2] = { 5060, 5061 };

	g_ncpus = libbpf_num_possible_cpus();
	if (g_ncpus <= 0)
		return -1;
	/* a load failure is reported by test_loads; the others then fail */
	g_load_err = xdp_load(ports, 2, 2, &g_skel);
	return 0;
}

static int group_teardown(void **state)
{
	sipdlg_bpf__destroy(g_skel);
	g_skel = NULL;
	return 0;
}

/* Print a one-test TAP plan that says why nothing ran, and succeed. */
static int tap_skip_all(const char *why)
{
	printf("1..1\nok 1 - test_xdp_parse # SKIP %s\n", why);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loads),
		cmocka_unit_test(test_maps_match_contract),

		PARSE_CASE(ipv4_udp_5060_is_sip4, f_ip4_5060, SDR_SIP_UDP4),
		PARSE_CASE(ipv4_udp_5061_is_sip4, f_ip4_5061, SDR_SIP_UDP4),
		PARSE_CASE(ipv4_udp_header_only_is_not_sip, f_ip4_udp_empty,
			   SDR_SIP_NOT_SIP),
		PARSE_CASE(ipv6_udp_5060_is_sip6, f_ip6_5060, SDR_SIP_UDP6),
		PARSE_CASE(ipv4_options_is_sip4, f_ip4_opts, SDR_SIP_UDP4),
		PARSE_CASE(ipv4_40_bytes_options_is_sip4, f_ip4_opts_max,
			   SDR_SIP_UDP4),
		PARSE_CASE(ipv6_hbh_dstopts_is_sip6, f_ip6_hbh_dst,
			   SDR_SIP_UDP6),
		PARSE_CASE(ipv6_routing_is_sip6, f_ip6_routing, SDR_SIP_UDP6),
		PARSE_CASE(ipv6_hbh_ah_is_sip6, f_ip6_ah, SDR_SIP_UDP6),
		PARSE_CASE(ipv6_6_ext_headers_is_sip6, f_ip6_ext6,
			   SDR_SIP_UDP6),
		PARSE_CASE(ipv6_7_ext_headers_is_ipv6_ext, f_ip6_ext7,
			   SDR_IPV6_EXT),
		PARSE_CASE(ipv6_esp_is_ipv6_ext, f_ip6_esp, SDR_IPV6_EXT),
		PARSE_CASE(ipv6_fragment_is_fragment, f_ip6_frag,
			   SDR_IP_FRAGMENT),
		PARSE_CASE(ipv6_hbh_fragment_is_fragment, f_ip6_hbh_frag,
			   SDR_IP_FRAGMENT),
		PARSE_CASE(ipv4_mf_is_fragment, f_ip4_mf, SDR_IP_FRAGMENT),
		PARSE_CASE(ipv4_offset_is_fragment, f_ip4_offset,
			   SDR_IP_FRAGMENT),
		PARSE_CASE(ipv4_df_is_sip4, f_ip4_df, SDR_SIP_UDP4),
		PARSE_CASE(ipv4_mf_port_53_is_fragment, f_ip4_mf_53,
			   SDR_IP_FRAGMENT),
		PARSE_CASE(ipv4_offset_port_53_is_fragment, f_ip4_offset_53,
			   SDR_IP_FRAGMENT),
		PARSE_CASE(ipv4_options_port_53_is_other_port, f_ip4_opts_53,
			   SDR_OTHER_PORT),
		PARSE_CASE(vlan_ipv4_is_sip4, f_vlan_ip4, SDR_SIP_UDP4),
		PARSE_CASE(vlan_ipv6_is_sip6, f_vlan_ip6, SDR_SIP_UDP6),
		PARSE_CASE(qinq_ipv4_is_sip4, f_qinq_ip4, SDR_SIP_UDP4),
		PARSE_CASE(qinq_ipv6_5061_is_sip6, f_qinq_ip6, SDR_SIP_UDP6),
		PARSE_CASE(three_vlan_tags_is_vlan_depth, f_vlan3,
			   SDR_VLAN_DEPTH),
		PARSE_CASE(arp_is_non_ip, f_arp, SDR_NON_IP),
		PARSE_CASE(llc_is_non_ip, f_llc, SDR_NON_IP),
		PARSE_CASE(ipv4_tcp_5060_is_non_udp, f_ip4_tcp, SDR_NON_UDP),
		PARSE_CASE(icmpv6_is_non_udp, f_icmp6, SDR_NON_UDP),
		PARSE_CASE(ipv4_udp_53_is_other_port, f_ip4_53,
			   SDR_OTHER_PORT),
		PARSE_CASE(ipv6_udp_53_is_other_port, f_ip6_53,
			   SDR_OTHER_PORT),
		PARSE_CASE(ipv4_udp_from_5060_is_other_port, f_ip4_from_5060,
			   SDR_OTHER_PORT),
		PARSE_CASE(ipv4_ihl4_is_bad_ip_header, f_ip4_ihl4,
			   SDR_BAD_IP_HEADER),
		PARSE_CASE(ipv4_version6_is_bad_ip_header, f_ip4_version6,
			   SDR_BAD_IP_HEADER),
		PARSE_CASE(ipv6_version4_is_bad_ip_header, f_ip6_version4,
			   SDR_BAD_IP_HEADER),

		TRUNC_CASE(truncated_ipv4_udp_sip_0_to_64, f_ip4_5060,
			   SDR_SIP_UDP4, 64),
		TRUNC_CASE(truncated_vlan_ipv6_udp_sip_0_to_80, f_vlan_ip6,
			   SDR_SIP_UDP6, 80),
		TRUNC_CASE(truncated_ipv4_udp_53_0_to_64, f_ip4_53,
			   SDR_OTHER_PORT, 64),
		TRUNC_CASE(truncated_ipv4_options_0_to_64, f_ip4_opts,
			   SDR_SIP_UDP4, 64),
		TRUNC_CASE(truncated_qinq_ipv4_0_to_64, f_qinq_ip4,
			   SDR_SIP_UDP4, 64),
		TRUNC_CASE(truncated_ipv6_hbh_dstopts_0_to_100, f_ip6_hbh_dst,
			   SDR_SIP_UDP6, 100),
		TRUNC_CASE(truncated_ipv6_hbh_ah_0_to_100, f_ip6_ah,
			   SDR_SIP_UDP6, 100),

		cmocka_unit_test(test_port_knobs),
		cmocka_unit_test(test_pcap_frames),
	};

	if (geteuid() != 0)
		return tap_skip_all("not root");
	libbpf_set_print(libbpf_to_tap);
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) != 1)
		return tap_skip_all("this kernel does not load XDP programs");

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
