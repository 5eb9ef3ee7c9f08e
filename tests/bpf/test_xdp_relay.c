// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_xdp_relay.c - the kernel relay (bpf/sip_relay.h, issue #14) with
 * BPF_PROG_TEST_RUN: in-dialog requests and their replies rewritten and
 * sent on by the XDP program, and every case that goes to the controller
 * with its SDR_RELAY_PASS_* reason.
 *
 * bpf_fib_lookup needs real routes and neighbours, so the test runs in a
 * network namespace of its own (unshare; it dies with the process, so
 * nothing is left behind): two veth pairs, "in" (caller side, rkc0,
 * 10.9.1.1/24, 2001:db8:1::1/64) and "out" (callee side, rkd0, 10.9.2.1/24,
 * 2001:db8:2::1/64), permanent neighbours for the peers; the frame
 * "arrives" on one of them (xdp_md.ingress_ifindex of the test run).
 *
 * Each case checks the verdict, the one reason counted, and for a relayed
 * frame every byte: Ethernet addresses from the neighbour table, IP and
 * UDP headers, the message against the expected text built here (our Via
 * computed independently: RH of the key, D, 'k', the hash of the incoming
 * branch), the IPv4 header checksum and the UDP checksum recomputed here;
 * and the controller's parser (user/sip) reads the rewritten request
 * with one more Via, Max-Forwards one less, our Route entries gone and
 * the same body.  A passed frame must come out unchanged.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sipdlg_shared.h"
#include "sipdlg_hash.h"
#include "sipdlg.skel.h"
#include "sip/sip_msg.h"
#include "lib/tap.h"
#include "lib/pkt.h"

#define XDP_PASS_ 2
#define XDP_TX_ 3
#define XDP_REDIRECT_ 4

static int g_ncpus;
static struct sipdlg_bpf *g_skel;
static unsigned g_if_in, g_if_out;
static uint8_t g_mac_in[6], g_mac_out[6];
static const uint8_t g_peer_mac[6] = { 0x02, 0x99, 0, 0, 0, 0x02 };

/* --- the namespace ---------------------------------------------------------- */

/* The MAC of @dev (ioctl: /sys shows the namespace that mounted it). */
static int read_mac(const char *dev, uint8_t *mac)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rc;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	rc = ioctl(fd, SIOCGIFHWADDR, &ifr);
	close(fd);
	if (rc)
		return -1;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

static int netns_setup(void)
{
	static const char *const cmds[] = {
		"ip link set lo up",
		/* bpf_fib_lookup() answers only where forwarding is on */
		"sysctl -qw net.ipv4.conf.all.forwarding=1",
		"sysctl -qw net.ipv6.conf.all.forwarding=1",
		"ip link add rkc0 type veth peer name rkc1",
		"ip link add rkd0 type veth peer name rkd1",
		"ip link set rkc0 up", "ip link set rkc1 up",
		"ip link set rkd0 up", "ip link set rkd1 up",
		"ip addr add 10.9.1.1/24 dev rkc0",
		"ip addr add 10.9.2.1/24 dev rkd0",
		"ip -6 addr add 2001:db8:1::1/64 dev rkc0 nodad",
		"ip -6 addr add 2001:db8:2::1/64 dev rkd0 nodad",
		"ip neigh add 10.9.1.2 lladdr 02:99:00:00:00:02 dev rkc0 nud permanent",
		"ip neigh add 10.9.1.3 lladdr 02:99:00:00:00:02 dev rkc0 nud permanent",
		"ip neigh add 10.9.2.2 lladdr 02:99:00:00:00:02 dev rkd0 nud permanent",
		"ip -6 neigh add 2001:db8:1::2 lladdr 02:99:00:00:00:02 dev rkc0 nud permanent",
		"ip -6 neigh add 2001:db8:2::2 lladdr 02:99:00:00:00:02 dev rkd0 nud permanent",
	};

	if (unshare(CLONE_NEWNET) != 0) {
		tap_diag("unshare: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (tap_sh(cmds[i]))
			return -1;
	g_if_in = if_nametoindex("rkc0");
	g_if_out = if_nametoindex("rkd0");
	if (!g_if_in || !g_if_out || read_mac("rkc0", g_mac_in) ||
	    read_mac("rkd0", g_mac_out)) {
		tap_diag("setup: no interface index or MAC");
		return -1;
	}
	return 0;
}

/* --- program and maps --------------------------------------------------------- */

#define RELAY_METHODS                                                  \
	((1u << SDM_INFO) | (1u << SDM_OPTIONS) | (1u << SDM_NOTIFY) | \
	 (1u << SDM_MESSAGE) | (1u << SDM_UPDATE) | (1u << SDM_ACK))

/* The program with the relay on; @methods its relay_methods (the
 * SDM_ACK bit is xdp.relay.ack). */
static struct sipdlg_bpf *load_methods(__u32 methods)
{
	struct sipdlg_bpf *skel = sipdlg_bpf__open();
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	struct bpf_map *map;

	if (!skel)
		return NULL;
	skel->rodata->sip_ports[0] = 5060;
	skel->rodata->n_sip_ports = 1;
	skel->rodata->relay_enabled = 1;
	skel->rodata->relay_methods = methods;
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	if (sipdlg_bpf__load(skel)) {
		sipdlg_bpf__destroy(skel);
		return NULL;
	}
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.sipdlg_xdp),
				    &info, &len))
		tap_diag("relay on: verifier processed %u insns; %u xlated bytes",
			 info.verified_insns, info.xlated_prog_len);
	return skel;
}

static struct sipdlg_bpf *load(void)
{
	return load_methods(RELAY_METHODS);
}

/* D1 of test_xdp_sip.c: did=596.d052 */
#define HE 1685u
#define HI 9485u
#define CALLID_V "a84b4c76e66710@pc33.atlanta.example.com"
#define TAG_CALLER "1928301774"
#define TAG_CALLEE "a6c85cf"

static __u64 hs(const char *s)
{
	return sipdlg_hash_bytes(s, (__u32)strlen(s));
}

static void dlg_put(__u32 state)
{
	struct sipdlg_dlg_key k = { HE, HI };
	struct sipdlg_dlg_value v;

	memset(&v, 0, sizeof(v));
	v.callid_hash = hs(CALLID_V);
	v.caller_tag_hash = hs(TAG_CALLER);
	/* as the controller writes it with the relay on: the callee tag
	 * comes with state 4 (the kernel's own ACK relay writes both) */
	v.callee_tag_hash = state >= 4 ? hs(TAG_CALLEE) : 0;
	v.state = state;
	assert_int_equal(bpf_map__update_elem(g_skel->maps.dialogs, &k,
					      sizeof(k), &v, sizeof(v),
					      BPF_ANY),
			 0);
}

static void dlg_get(struct sipdlg_dlg_value *v)
{
	struct sipdlg_dlg_key k = { HE, HI };

	assert_int_equal(bpf_map__lookup_elem(g_skel->maps.dialogs, &k,
					      sizeof(k), v, sizeof(*v), 0),
			 0);
}

/* Hop flavours of the cases. */
enum hopk {
	H_STD = 0,	/* both directions, on their own interfaces */
	H_NONE,		/* no relay_hops entry */
	H_FAM0,		/* the direction of the request has family 0 */
	H_NONEIGH,	/* next hop without a neighbour entry */
	H_TX,		/* caller->callee via the ingress interface */
	H_NOTAG,	/* no 2xx To-tag in the entry (relay.ack off) */
};

static void hop_set(struct sipdlg_relay_hop *h, int v6, const char *d,
		    __u16 dport, const char *s, unsigned ifindex,
		    __u8 nroutes)
{
	char sb[80];

	memset(h, 0, sizeof(*h));
	h->family = v6 ? 6 : 4;
	inet_pton(v6 ? AF_INET6 : AF_INET, d, h->daddr);
	inet_pton(v6 ? AF_INET6 : AF_INET, s, h->saddr);
	h->dport = dport;
	h->sport = 5060;
	h->nroutes = nroutes;
	h->ifindex = ifindex;
	snprintf(sb, sizeof(sb), v6 ? "[%s]" : "%s", s);
	h->sentby_len = (__u8)strlen(sb);
	memcpy(h->sentby, sb, h->sentby_len);
}

static void hops_put(enum hopk k, int v6, int dir, __u8 nroutes)
{
	struct sipdlg_dlg_key key = { HE, HI };
	struct sipdlg_relay_hops hv;

	memset(&hv, 0, sizeof(hv));
	if (k == H_NONE) {
		bpf_map__delete_elem(g_skel->maps.relay_hops, &key,
				     sizeof(key), 0);
		return;
	}
	hop_set(&hv.dir[0], v6, v6 ? "2001:db8:2::2" : "10.9.2.2", 5080,
		v6 ? "2001:db8:2::1" : "10.9.2.1", g_if_out, nroutes);
	hop_set(&hv.dir[1], v6, v6 ? "2001:db8:1::2" : "10.9.1.2", 5070,
		v6 ? "2001:db8:1::1" : "10.9.1.1", g_if_in, nroutes);
	if (k == H_FAM0)
		hv.dir[dir].family = 0;
	if (k == H_NONEIGH)
		inet_pton(v6 ? AF_INET6 : AF_INET,
			  v6 ? "2001:db8:2::7" : "10.9.2.7", hv.dir[dir].daddr);
	if (k == H_TX)
		hop_set(&hv.dir[0], v6, v6 ? "2001:db8:1::2" : "10.9.1.3",
			5080, v6 ? "2001:db8:1::1" : "10.9.1.1", g_if_in,
			nroutes);
	/* relay.ack: the 2xx's To-tag, low half in dir[0], high in dir[1] */
	hv.dir[0].ack_tag = (__u32)hs(TAG_CALLEE);
	hv.dir[1].ack_tag = (__u32)(hs(TAG_CALLEE) >> 32);
	if (k == H_NOTAG)
		hv.dir[0].ack_tag = hv.dir[1].ack_tag = 0;
	assert_int_equal(bpf_map__update_elem(g_skel->maps.relay_hops, &key,
					      sizeof(key), &hv, sizeof(hv),
					      BPF_ANY),
			 0);
}

static void counters_clear(void)
{
	size_t vsz = (size_t)g_ncpus * sizeof(struct sipdlg_counter);
	struct sipdlg_counter *zero = calloc((size_t)g_ncpus, sizeof(*zero));

	assert_non_null(zero);
	for (__u32 key = 0; key < SIPDLG_REASON_SLOTS; key++)
		bpf_map__update_elem(g_skel->maps.counters, &key, sizeof(key),
				     zero, vsz, BPF_ANY);
	free(zero);
}

/* The one reason counted since counters_clear(), or -1. */
static int counted_reason(void)
{
	size_t vsz = (size_t)g_ncpus * sizeof(struct sipdlg_counter);
	struct sipdlg_counter *v = calloc((size_t)g_ncpus, sizeof(*v));
	int found = -1, n = 0;

	assert_non_null(v);
	for (__u32 key = 0; key < SIPDLG_REASON_SLOTS; key++) {
		__u64 p = 0;

		if (bpf_map__lookup_elem(g_skel->maps.counters, &key,
					 sizeof(key), v, vsz, 0))
			continue;
		for (int c = 0; c < g_ncpus; c++)
			p += v[c].packets;
		if (p) {
			found = (int)key;
			n += (int)p;
		}
	}
	free(v);
	return n == 1 ? found : -1;
}

/* --- frames and checksums --------------------------------------------------- */

struct side {
	const char *src, *dst;	/* addresses */
	__u16 sport;
};

static const struct side CALLER4 = { "10.9.1.2", "10.9.1.1", 5070 };
static const struct side CALLEE4 = { "10.9.2.2", "10.9.2.1", 5080 };
static const struct side CALLER6 = { "2001:db8:1::2", "2001:db8:1::1", 5070 };
static const struct side CALLEE6 = { "2001:db8:2::2", "2001:db8:2::1", 5080 };

static void frame(struct pkt *p, int v6, const struct side *sd,
		  const char *msg)
{
	pkt_init(p);
	pkt_eth(p);
	if (v6) {
		struct pkt_ipv6 ip;

		memset(&ip, 0, sizeof(ip));
		inet_pton(AF_INET6, sd->src, ip.saddr);
		inet_pton(AF_INET6, sd->dst, ip.daddr);
		pkt_ipv6(p, &ip);
	} else {
		struct in_addr s, d;

		inet_pton(AF_INET, sd->src, &s);
		inet_pton(AF_INET, sd->dst, &d);
		pkt_ipv4(p, &(struct pkt_ipv4){ .saddr = ntohl(s.s_addr),
						 .daddr = ntohl(d.s_addr) });
	}
	pkt_udp(p, sd->sport, 5060);
	pkt_payload(p, msg, strlen(msg));
	assert_int_equal(pkt_finish(p), 0);
}

static uint32_t sum16(const uint8_t *b, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Checksums of the frame @f: 0 if the IPv4 header and UDP sums are right. */
static int check_sums(const uint8_t *f, size_t n, int v6)
{
	size_t l4 = 14 + (v6 ? 40 : 20), ulen;
	uint32_t s;

	if (n < l4 + 8)
		return -1;
	ulen = (size_t)(f[l4 + 4] << 8 | f[l4 + 5]);
	if (l4 + ulen != n)
		return -2;
	if (!v6 && fold(sum16(f + 14, 20, 0)) != 0xffff)
		return -3;
	if (!v6 && (size_t)(f[16] << 8 | f[17]) != n - 14)
		return -4;
	if (v6 && (size_t)(f[18] << 8 | f[19]) != ulen)
		return -4;
	if (f[l4 + 6] == 0 && f[l4 + 7] == 0)
		return -5;	/* we always compute it */
	s = v6 ? sum16(f + 22, 32, 0) : sum16(f + 26, 8, 0);
	s += 17 + (uint32_t)ulen;
	s = sum16(f + l4, ulen, s);
	return fold(s) == 0xffff ? 0 : -6;
}

/* --- expected messages ---------------------------------------------------- */

/*
 * Our Via line for a request in direction @dir whose top branch is @br,
 * sent from the callee side (@side 0) or the caller side (1).
 */
static void our_via_from(char *out, size_t cap, int v6, int dir, int side,
			 const char *br)
{
	uint64_t h = hs(br);

	snprintf(out, cap,
		 "Via: SIP/2.0/UDP %s;branch=z9hG4bKsd596.d052.%dk%016llx\r\n",
		 side ? (v6 ? "[2001:db8:1::1]" : "10.9.1.1") :
			(v6 ? "[2001:db8:2::1]" : "10.9.2.1"),
		 dir, (unsigned long long)h);
}

static void our_via(char *out, size_t cap, int v6, int dir, const char *br)
{
	our_via_from(out, cap, v6, dir, dir, br);
}

/* @tmpl with "@V@" replaced by @via. */
static void expand(char *out, size_t cap, const char *tmpl, const char *via)
{
	const char *at = strstr(tmpl, "@V@");

	if (!at) {
		snprintf(out, cap, "%s", tmpl);
		return;
	}
	snprintf(out, cap, "%.*s%s%s", (int)(at - tmpl), tmpl, via, at + 3);
}

/* --- the request table ------------------------------------------------------ */

#define CRLF "\r\n"
#define FROM_A "From: <sip:alice@atlanta.example.com>;tag=" TAG_CALLER CRLF
#define TO_B "To: <sip:bob@biloxi.example.com>;tag=" TAG_CALLEE CRLF
#define FROM_B "From: <sip:bob@biloxi.example.com>;tag=" TAG_CALLEE CRLF
#define TO_A "To: <sip:alice@atlanta.example.com>;tag=" TAG_CALLER CRLF
#define CID "Call-ID: " CALLID_V CRLF
#define BODY "Content-Type: application/dtmf-relay" CRLF "Content-Length: 24" CRLF CRLF \
	"Signal=1\r\nDuration=160\r\n"
#define NOBODY "Content-Length: 0" CRLF CRLF
#define RT_US "<sip:10.9.1.1;lr;did=596.d052>"
#define RT_US2 "<sip:10.9.2.1;lr;did=596.d052>"
#define RQ(m) m " sip:bob@10.9.2.2:5080 SIP/2.0" CRLF
#define VIA_C(b) "Via: SIP/2.0/UDP 10.9.1.2:5070;branch=" b CRLF
#define MF(n) "Max-Forwards: " n CRLF

struct rcase {
	const char *name;
	int v6, dir;
	__u8 nroutes;
	enum hopk hop;
	__u32 state;		/* dialog state, 0: 4 */
	const char *in;
	const char *exp;	/* NULL: passed unchanged */
	const char *branch;	/* top Via branch of @in */
	int reason;
	int verdict;
};

#define REQ(n, v6_, dir_, nr, hop_, in_, exp_, br, reason_, verdict_) \
	{ n, v6_, dir_, nr, hop_, 0, in_, exp_, br, reason_, verdict_ }
#define RELAYED(n, v6_, dir_, nr, in_, exp_, br) \
	REQ(n, v6_, dir_, nr, H_STD, in_, exp_, br, SDR_RELAY_REQ, XDP_REDIRECT_)
#define PASSED(n, v6_, dir_, nr, hop_, in_, reason_) \
	REQ(n, v6_, dir_, nr, hop_, in_, NULL, "", reason_, XDP_PASS_)

static const struct rcase RCASES[] = {
	RELAYED("info_v4_route_line", 0, 0, 1,
		RQ("INFO") VIA_C("z9hG4bK-c1") MF("70") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 10 INFO" CRLF BODY,
		RQ("INFO") "@V@" VIA_C("z9hG4bK-c1") MF("69") FROM_A TO_B CID "CSeq: 10 INFO" CRLF BODY,
		"z9hG4bK-c1"),
	RELAYED("options_mf10", 0, 0, 1,
		RQ("OPTIONS") VIA_C("z9hG4bK-c2") "Route: " RT_US CRLF MF("10") FROM_A TO_B CID "CSeq: 11 OPTIONS" CRLF NOBODY,
		RQ("OPTIONS") "@V@" VIA_C("z9hG4bK-c2") MF("09") FROM_A TO_B CID "CSeq: 11 OPTIONS" CRLF NOBODY,
		"z9hG4bK-c2"),
	RELAYED("notify_mf1", 0, 0, 1,
		RQ("NOTIFY") VIA_C("z9hG4bK-c3") MF("1") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 12 NOTIFY" CRLF
		"Event: dialog" CRLF NOBODY,
		RQ("NOTIFY") "@V@" VIA_C("z9hG4bK-c3") MF("0") FROM_A TO_B CID "CSeq: 12 NOTIFY" CRLF
		"Event: dialog" CRLF NOBODY,
		"z9hG4bK-c3"),
	RELAYED("message_list_1_after", 0, 0, 1,
		RQ("MESSAGE") VIA_C("z9hG4bK-c4") MF("70") "Route: " RT_US ", <sip:p1.example.com;lr>" CRLF
		FROM_A TO_B CID "CSeq: 13 MESSAGE" CRLF BODY,
		RQ("MESSAGE") "@V@" VIA_C("z9hG4bK-c4") MF("69") "Route: <sip:p1.example.com;lr>" CRLF
		FROM_A TO_B CID "CSeq: 13 MESSAGE" CRLF BODY,
		"z9hG4bK-c4"),
	RELAYED("update_list_3_after", 0, 0, 1,
		RQ("UPDATE") VIA_C("z9hG4bK-c5") MF("70") "Route: " RT_US ",<sip:p1;lr>,  <sip:p2;lr> , <sip:p3;lr>" CRLF
		FROM_A TO_B CID "CSeq: 14 UPDATE" CRLF NOBODY,
		RQ("UPDATE") "@V@" VIA_C("z9hG4bK-c5") MF("69") "Route: <sip:p1;lr>,  <sip:p2;lr> , <sip:p3;lr>" CRLF
		FROM_A TO_B CID "CSeq: 14 UPDATE" CRLF NOBODY,
		"z9hG4bK-c5"),
	RELAYED("info_lines_2_after", 0, 0, 1,
		RQ("INFO") VIA_C("z9hG4bK-c6") "Route: " RT_US CRLF "Route: <sip:p1;lr>" CRLF "Route: <sip:p2;lr>" CRLF
		MF("70") FROM_A TO_B CID "CSeq: 15 INFO" CRLF BODY,
		RQ("INFO") "@V@" VIA_C("z9hG4bK-c6") "Route: <sip:p1;lr>" CRLF "Route: <sip:p2;lr>" CRLF
		MF("69") FROM_A TO_B CID "CSeq: 15 INFO" CRLF BODY,
		"z9hG4bK-c6"),
	RELAYED("info_double_rr_lines", 0, 0, 2,
		RQ("INFO") VIA_C("z9hG4bK-c7") MF("70") "Route: " RT_US CRLF "Route: " RT_US2 CRLF "Route: <sip:p1;lr>" CRLF
		FROM_A TO_B CID "CSeq: 16 INFO" CRLF BODY,
		RQ("INFO") "@V@" VIA_C("z9hG4bK-c7") MF("69") "Route: <sip:p1;lr>" CRLF
		FROM_A TO_B CID "CSeq: 16 INFO" CRLF BODY,
		"z9hG4bK-c7"),
	RELAYED("info_double_rr_list", 0, 0, 2,
		RQ("INFO") VIA_C("z9hG4bK-c8") MF("70") "Route: " RT_US ", " RT_US2 ", <sip:p1;lr>, <sip:p2;lr>" CRLF
		FROM_A TO_B CID "CSeq: 17 INFO" CRLF BODY,
		RQ("INFO") "@V@" VIA_C("z9hG4bK-c8") MF("69") "Route: <sip:p1;lr>, <sip:p2;lr>" CRLF
		FROM_A TO_B CID "CSeq: 17 INFO" CRLF BODY,
		"z9hG4bK-c8"),
	RELAYED("info_double_rr_list_only", 0, 0, 2,
		RQ("INFO") VIA_C("z9hG4bK-c9") MF("70") "Route: " RT_US "," RT_US2 CRLF
		FROM_A TO_B CID "CSeq: 18 INFO" CRLF BODY,
		RQ("INFO") "@V@" VIA_C("z9hG4bK-c9") MF("69")
		FROM_A TO_B CID "CSeq: 18 INFO" CRLF BODY,
		"z9hG4bK-c9"),
	RELAYED("info_double_rr_split_list", 0, 0, 2,
		RQ("INFO") VIA_C("z9hG4bK-ca") MF("70") "Route: " RT_US CRLF "Route: " RT_US2 ", <sip:p1;lr>" CRLF
		FROM_A TO_B CID "CSeq: 19 INFO" CRLF BODY,
		RQ("INFO") "@V@" VIA_C("z9hG4bK-ca") MF("69") "Route: <sip:p1;lr>" CRLF
		FROM_A TO_B CID "CSeq: 19 INFO" CRLF BODY,
		"z9hG4bK-ca"),
	RELAYED("info_nat_received", 0, 0, 1,
		RQ("INFO") "Via: SIP/2.0/UDP 192.168.1.20:5070;branch=z9hG4bK-nat" CRLF MF("70") "Route: " RT_US CRLF
		FROM_A TO_B CID "CSeq: 20 INFO" CRLF BODY,
		RQ("INFO") "@V@" "Via: SIP/2.0/UDP 192.168.1.20:5070;branch=z9hG4bK-nat;received=10.9.1.2" CRLF MF("69")
		FROM_A TO_B CID "CSeq: 20 INFO" CRLF BODY,
		"z9hG4bK-nat"),
	RELAYED("info_rport", 0, 0, 1,
		RQ("INFO") "Via: SIP/2.0/UDP 10.9.1.2:5070;rport;branch=z9hG4bK-rp" CRLF MF("70") "Route: " RT_US CRLF
		FROM_A TO_B CID "CSeq: 21 INFO" CRLF BODY,
		RQ("INFO") "@V@" "Via: SIP/2.0/UDP 10.9.1.2:5070;branch=z9hG4bK-rp;received=10.9.1.2;rport=5070" CRLF
		MF("69") FROM_A TO_B CID "CSeq: 21 INFO" CRLF BODY,
		"z9hG4bK-rp"),
	RELAYED("info_name_received_two_vias", 0, 0, 1,
		RQ("INFO") "v: SIP/2.0/UDP ua.example.com;branch=z9hG4bK-nm;rport, SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKx" CRLF
		"Via: SIP/2.0/UDP 10.0.0.8;branch=z9hG4bKy" CRLF MF("70") "Route: " RT_US CRLF
		FROM_A TO_B CID "CSeq: 22 INFO" CRLF BODY,
		RQ("INFO") "@V@" "v: SIP/2.0/UDP ua.example.com;branch=z9hG4bK-nm;received=10.9.1.2;rport=5070, SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKx" CRLF
		"Via: SIP/2.0/UDP 10.0.0.8;branch=z9hG4bKy" CRLF MF("69")
		FROM_A TO_B CID "CSeq: 22 INFO" CRLF BODY,
		"z9hG4bK-nm"),
	RELAYED("info_callee_to_caller", 0, 1, 1,
		RQ("INFO") "Via: SIP/2.0/UDP 10.9.2.2:5080;branch=z9hG4bK-d1" CRLF MF("70") "Route: " RT_US2 CRLF
		FROM_B TO_A CID "CSeq: 5 INFO" CRLF BODY,
		RQ("INFO") "@V@" "Via: SIP/2.0/UDP 10.9.2.2:5080;branch=z9hG4bK-d1" CRLF MF("69")
		FROM_B TO_A CID "CSeq: 5 INFO" CRLF BODY,
		"z9hG4bK-d1"),
	RELAYED("info_v6", 1, 0, 1,
		RQ("INFO") "Via: SIP/2.0/UDP [2001:db8:1::2]:5070;branch=z9hG4bK-v6" CRLF MF("70")
		"Route: <sip:[2001:db8:1::1];lr;did=596.d052>" CRLF FROM_A TO_B CID "CSeq: 30 INFO" CRLF BODY,
		RQ("INFO") "@V@" "Via: SIP/2.0/UDP [2001:db8:1::2]:5070;branch=z9hG4bK-v6;received=2001:0db8:0001:0000:0000:0000:0000:0002" CRLF
		MF("69") FROM_A TO_B CID "CSeq: 30 INFO" CRLF BODY,
		"z9hG4bK-v6"),
	RELAYED("options_v6_callee_list", 1, 1, 2,
		RQ("OPTIONS") "Via: SIP/2.0/UDP [2001:db8:2::2]:5080;branch=z9hG4bK-v6b;rport" CRLF MF("70")
		"Route: <sip:[2001:db8:2::1];lr;did=596.d052>, <sip:[2001:db8:1::1];lr;did=596.d052>, <sip:p9;lr>" CRLF
		FROM_B TO_A CID "CSeq: 31 OPTIONS" CRLF NOBODY,
		RQ("OPTIONS") "@V@" "Via: SIP/2.0/UDP [2001:db8:2::2]:5080;branch=z9hG4bK-v6b;received=2001:0db8:0002:0000:0000:0000:0000:0002;rport=5080" CRLF
		MF("69") "Route: <sip:p9;lr>" CRLF FROM_B TO_A CID "CSeq: 31 OPTIONS" CRLF NOBODY,
		"z9hG4bK-v6b"),
	REQ("info_xdp_tx", 0, 0, 1, H_TX,
	    RQ("INFO") VIA_C("z9hG4bK-tx") MF("70") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 40 INFO" CRLF BODY,
	    RQ("INFO") "@V@" VIA_C("z9hG4bK-tx") MF("69") FROM_A TO_B CID "CSeq: 40 INFO" CRLF BODY,
	    "z9hG4bK-tx", SDR_RELAY_REQ, XDP_TX_),

	/* to the controller */
	PASSED("mf0", 0, 0, 1, H_STD,
	       RQ("INFO") VIA_C("z9hG4bK-p1") MF("0") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 50 INFO" CRLF BODY,
	       SDR_RELAY_PASS_MAXFWD),
	PASSED("mf_absent", 0, 0, 1, H_STD,
	       RQ("INFO") VIA_C("z9hG4bK-p2") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 51 INFO" CRLF BODY,
	       SDR_RELAY_PASS_MAXFWD),
	PASSED("mf_garbage", 0, 0, 1, H_STD,
	       RQ("INFO") VIA_C("z9hG4bK-p3") MF("7x") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 52 INFO" CRLF BODY,
	       SDR_RELAY_PASS_MAXFWD),
	PASSED("contact", 0, 0, 1, H_STD,
	       RQ("NOTIFY") VIA_C("z9hG4bK-p4") MF("70") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 53 NOTIFY" CRLF
	       "Event: dialog" CRLF "Contact: <sip:alice@10.9.1.2:5070>" CRLF NOBODY,
	       SDR_RELAY_PASS_CONTACT),
	PASSED("contact_compact_after_body_headers", 0, 0, 1, H_STD,
	       RQ("INFO") VIA_C("z9hG4bK-p5") MF("70") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 54 INFO" CRLF
	       "Content-Type: application/dtmf-relay" CRLF "m: <sip:alice@10.9.1.2>" CRLF "Content-Length: 24" CRLF CRLF
	       "Signal=1\r\nDuration=160\r\n",
	       SDR_RELAY_PASS_CONTACT),
	PASSED("no_hops_entry", 0, 0, 1, H_NONE,
	       RQ("INFO") VIA_C("z9hG4bK-p6") MF("70") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 55 INFO" CRLF BODY,
	       SDR_RELAY_PASS_NOHOP),
	PASSED("direction_family0", 0, 0, 1, H_FAM0,
	       RQ("INFO") VIA_C("z9hG4bK-p7") MF("70") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 56 INFO" CRLF BODY,
	       SDR_RELAY_PASS_NOHOP),
	PASSED("no_neighbour", 0, 0, 1, H_NONEIGH,
	       RQ("INFO") VIA_C("z9hG4bK-p8") MF("70") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 57 INFO" CRLF BODY,
	       SDR_RELAY_PASS_FIB),
	PASSED("cookie_in_second_entry", 0, 0, 1, H_STD,
	       RQ("INFO") VIA_C("z9hG4bK-p9") MF("70") "Route: <sip:p0;lr>, " RT_US CRLF FROM_A TO_B CID "CSeq: 58 INFO" CRLF BODY,
	       SDR_RELAY_PASS_SHAPE),
	PASSED("route_display_name", 0, 0, 1, H_STD,
	       RQ("INFO") VIA_C("z9hG4bK-pa") MF("70") "Route: \"us\" " RT_US CRLF FROM_A TO_B CID "CSeq: 59 INFO" CRLF BODY,
	       SDR_RELAY_PASS_SHAPE),
	PASSED("double_rr_second_missing", 0, 0, 2, H_STD,
	       RQ("INFO") VIA_C("z9hG4bK-pb") MF("70") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 60 INFO" CRLF BODY,
	       SDR_RELAY_PASS_SHAPE),
	PASSED("via_tcp", 0, 0, 1, H_STD,
	       RQ("INFO") "Via: SIP/2.0/TCP 10.9.1.2:5070;branch=z9hG4bK-pc" CRLF MF("70") "Route: " RT_US CRLF
	       FROM_A TO_B CID "CSeq: 61 INFO" CRLF BODY,
	       SDR_RELAY_PASS_SHAPE),
	PASSED("via_rport_value", 0, 0, 1, H_STD,
	       RQ("INFO") "Via: SIP/2.0/UDP 10.9.1.2:5070;rport=5070;branch=z9hG4bK-pd" CRLF MF("70") "Route: " RT_US CRLF
	       FROM_A TO_B CID "CSeq: 62 INFO" CRLF BODY,
	       SDR_RELAY_PASS_SHAPE),
	PASSED("via_no_branch", 0, 0, 1, H_STD,
	       RQ("INFO") "Via: SIP/2.0/UDP 10.9.1.2:5070" CRLF MF("70") "Route: " RT_US CRLF
	       FROM_A TO_B CID "CSeq: 63 INFO" CRLF BODY,
	       SDR_RELAY_PASS_SHAPE),
	PASSED("folded_header", 0, 0, 1, H_STD,
	       RQ("INFO") VIA_C("z9hG4bK-pe") MF("70") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 64 INFO" CRLF
	       "Subject: a" CRLF " b" CRLF BODY,
	       SDR_RELAY_PASS_SHAPE),
	/* not eligible: the matcher's reason, as without the relay */
	PASSED("bye_not_relayed", 0, 0, 1, H_STD,
	       RQ("BYE") VIA_C("z9hG4bK-pf") MF("70") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 65 BYE" CRLF NOBODY,
	       SDR_DLG_MATCH),
	PASSED("refer_not_relayed", 0, 0, 1, H_STD,
	       RQ("REFER") VIA_C("z9hG4bK-pg") MF("70") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 66 REFER" CRLF NOBODY,
	       SDR_DLG_MATCH),
	/* relay.ack: the ACK of the 2xx (the kernel's state 1, or 3 for a
	 * dialog restored from the database), a Contact kept as it is */
	{ "ack_confirms", 0, 0, 1, H_STD, 1,
	  RQ("ACK") VIA_C("z9hG4bK-a1") MF("70") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 1 ACK" CRLF
	  "Contact: <sip:alice@10.9.1.2:5070>" CRLF NOBODY,
	  RQ("ACK") "@V@" VIA_C("z9hG4bK-a1") MF("69") FROM_A TO_B CID "CSeq: 1 ACK" CRLF
	  "Contact: <sip:alice@10.9.1.2:5070>" CRLF NOBODY,
	  "z9hG4bK-a1", SDR_RELAY_REQ, XDP_REDIRECT_ },
	{ "ack_confirms_state3_v6", 1, 0, 1, H_STD, 3,
	  RQ("ACK") "Via: SIP/2.0/UDP [2001:db8:1::2]:5070;branch=z9hG4bK-a2" CRLF MF("70")
	  "Route: <sip:[2001:db8:1::1];lr;did=596.d052>" CRLF FROM_A TO_B CID "CSeq: 2 ACK" CRLF NOBODY,
	  RQ("ACK") "@V@" "Via: SIP/2.0/UDP [2001:db8:1::2]:5070;branch=z9hG4bK-a2;received=2001:0db8:0001:0000:0000:0000:0000:0002" CRLF
	  MF("69") FROM_A TO_B CID "CSeq: 2 ACK" CRLF NOBODY,
	  "z9hG4bK-a2", SDR_RELAY_REQ, XDP_REDIRECT_ },
	{ "ack_wrong_to_tag", 0, 0, 1, H_STD, 1,
	  RQ("ACK") VIA_C("z9hG4bK-a3") MF("70") "Route: " RT_US CRLF FROM_A
	  "To: <sip:bob@biloxi.example.com>;tag=other2xx" CRLF CID "CSeq: 1 ACK" CRLF NOBODY,
	  NULL, "", SDR_RELAY_PASS_ACK_TAG, XDP_PASS_ },
	{ "ack_no_tag_in_hops", 0, 0, 1, H_NOTAG, 1,
	  RQ("ACK") VIA_C("z9hG4bK-a4") MF("70") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 1 ACK" CRLF NOBODY,
	  NULL, "", SDR_RELAY_PASS_ACK_TAG, XDP_PASS_ },
	{ "ack_state4_reinvite", 0, 0, 1, H_STD, 4,
	  RQ("ACK") VIA_C("z9hG4bK-a5") MF("70") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 3 ACK" CRLF NOBODY,
	  NULL, "", SDR_DLG_MATCH, XDP_PASS_ },
	{ "ack_no_hop", 0, 0, 1, H_NONE, 1,
	  RQ("ACK") VIA_C("z9hG4bK-a6") MF("70") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 1 ACK" CRLF NOBODY,
	  NULL, "", SDR_RELAY_PASS_NOHOP, XDP_PASS_ },
	{ "ack_mf0", 0, 0, 1, H_STD, 1,
	  RQ("ACK") VIA_C("z9hG4bK-a7") MF("0") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 1 ACK" CRLF NOBODY,
	  NULL, "", SDR_RELAY_PASS_MAXFWD, XDP_PASS_ },
	{ "early_dialog_not_relayed", 0, 0, 1, H_STD, 2,
	  RQ("INFO") VIA_C("z9hG4bK-ph") MF("70") "Route: " RT_US CRLF FROM_A TO_B CID "CSeq: 67 INFO" CRLF BODY,
	  NULL, "", SDR_DLG_MATCH, XDP_PASS_ },
};

/* --- relay.ack events ------------------------------------------------------- */

static struct ring_buffer *g_rb;
static int g_ev_ack;		/* SDE_ACK_CONFIRMED events since ev_drain() */
static struct sipdlg_event g_ev_last;

static int on_ev(void *ctx, void *data, size_t size)
{
	const struct sipdlg_event *e = data;

	(void)ctx;
	if (size >= sizeof(*e) && e->type == SDE_ACK_CONFIRMED) {
		g_ev_ack++;
		g_ev_last = *e;
	}
	return 0;
}

static void ev_drain(void)
{
	if (!g_rb)
		g_rb = ring_buffer__new(bpf_map__fd(g_skel->maps.events), on_ev,
					NULL, NULL);
	assert_non_null(g_rb);
	ring_buffer__consume(g_rb);
	g_ev_ack = 0;
}

static int is_ack(const char *msg)
{
	return strncmp(msg, "ACK ", 4) == 0;
}

/* An ACK relayed: the dialog confirmed in the kernel, one event; any
 * other outcome: the value as it was, no event. */
static void check_ack(const struct sipdlg_dlg_value *before,
		      const struct sipdlg_dlg_value *after, int relayed)
{
	ring_buffer__consume(g_rb);
	if (relayed) {
		assert_int_equal(after->state, 4);
		assert_true(after->callee_tag_hash == hs(TAG_CALLEE));
		assert_int_equal(g_ev_ack, 1);
		assert_int_equal(g_ev_last.reason, SDR_RELAY_REQ);
		assert_int_equal(g_ev_last.key.h_entry, HE);
		assert_int_equal(g_ev_last.key.h_id, HI);
		assert_int_equal(g_ev_last.method, SDM_ACK);
		assert_int_equal(g_ev_last.direction, SDD_CALLER_TO_CALLEE);
	} else {
		assert_int_equal(after->state, before->state);
		assert_true(after->callee_tag_hash == before->callee_tag_hash);
		assert_int_equal(g_ev_ack, 0);
	}
}

/* The last bpf_fib_lookup() result of the relay (any CPU that ran). */
static int fib_rc(void)
{
	size_t vsz = (size_t)g_ncpus * sizeof(struct sipdlg_counter);
	struct sipdlg_counter *v = calloc((size_t)g_ncpus, sizeof(*v));
	__u32 zero = 0;
	int rc = -999;

	(void)vsz;
	if (!v)
		return rc;
	free(v);
	{
		size_t sz = bpf_map__value_size(g_skel->maps.relay_scratch);
		char *buf = calloc((size_t)g_ncpus, (sz + 7) & ~7ul);
		if (buf && !bpf_map__lookup_elem(g_skel->maps.relay_scratch, &zero,
						 sizeof(zero), buf,
						 (size_t)g_ncpus * ((sz + 7) & ~7ul), 0))
			for (int c = 0; c < g_ncpus; c++) {
				int x;
				memcpy(&x, buf + (size_t)c * ((sz + 7) & ~7ul) + sz - 4 - 0, 4);
				if (x)
					rc = x;
			}
		free(buf);
	}
	return rc;
}

/* Run frame @in (@n bytes) arriving on @ifindex; output into @out. */
static int run(const uint8_t *in, size_t n, unsigned ifindex, uint8_t *out,
	       __u32 *out_len, __u32 *retval)
{
	struct xdp_md ctx = { .data = 0, .data_end = (__u32)n,
			      .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in,
		    .data_size_in = (__u32)n, .data_out = out,
		    .data_size_out = PKT_MAX, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	int err;

	err = bpf_prog_test_run_opts(bpf_program__fd(g_skel->progs.sipdlg_xdp),
				     &opts);
	*out_len = opts.data_size_out;
	*retval = opts.retval;
	return err;
}

/* The controller's parser on the relayed request against the original. */
static void differential(const char *in, size_t n_in, const char *out,
			 size_t n_out, __u8 nroutes, int relayed)
{
	static struct sip_msg a, b;

	assert_int_equal(sip_msg_parse(&a, in, n_in, SIP_DATAGRAM, NULL), 0);
	assert_int_equal(sip_msg_parse(&b, out, n_out, SIP_DATAGRAM, NULL), 0);
	assert_int_equal(b.n_via, a.n_via + relayed);
	assert_int_equal(b.max_forwards, a.max_forwards - relayed);
	assert_int_equal(b.n_route, a.n_route - nroutes * relayed);
	if (b.route.raw.p)
		assert_null(memmem(b.route.raw.p, b.route.raw.len, "did=", 4));
	assert_int_equal(b.body.len, a.body.len);
	assert_memory_equal(b.body.p, a.body.p, a.body.len);
	assert_int_equal(b.method, a.method);
}

static void check_relayed_frame(const uint8_t *f, size_t n, int v6,
				const char *exp, const char *saddr,
				const char *daddr, __u16 sport, __u16 dport,
				const uint8_t *smac)
{
	size_t l4 = 14 + (v6 ? 40 : 20);
	uint8_t a[16];

	assert_memory_equal(f, g_peer_mac, 6);
	assert_memory_equal(f + 6, smac, 6);
	assert_int_equal(check_sums(f, n, v6), 0);
	inet_pton(v6 ? AF_INET6 : AF_INET, saddr, a);
	assert_memory_equal(f + (v6 ? 22 : 26), a, v6 ? 16 : 4);
	inet_pton(v6 ? AF_INET6 : AF_INET, daddr, a);
	assert_memory_equal(f + (v6 ? 38 : 30), a, v6 ? 16 : 4);
	assert_int_equal(f[v6 ? 21 : 22], 64);	/* TTL / hop limit */
	assert_int_equal(f[l4] << 8 | f[l4 + 1], sport);
	assert_int_equal(f[l4 + 2] << 8 | f[l4 + 3], dport);
	if (n - l4 - 8 != strlen(exp) || memcmp(f + l4 + 8, exp, n - l4 - 8)) {
		tap_diag("got:\n%.*s", (int)(n - l4 - 8), (const char *)f + l4 + 8);
		tap_diag("expected:\n%s", exp);
		fail();
	}
}

/*
 * @nosum 1: the IPv4 frame comes without UDP checksum (0); 2: with the
 * pseudo header's sum alone, as a sender leaves it to offload
 * (CHECKSUM_PARTIAL, what XDP on veth sees).  Both are summed whole.
 */
static void one_request_sum(const struct rcase *c, int nosum)
{
	static struct pkt p;
	static uint8_t out[PKT_MAX];
	static char via[256], exp[PKT_MAX];
	struct sipdlg_dlg_value before, after;
	__u32 olen, ret;
	int v6 = c->v6, dir = c->dir;
	size_t l4 = 14 + (v6 ? 40 : 20);

	tap_diag("case %s", c->name);
	dlg_put(c->state ? c->state : 4);
	hops_put(c->hop, v6, dir, c->nroutes);
	counters_clear();
	ev_drain();
	dlg_get(&before);
	frame(&p, v6, dir ? (v6 ? &CALLEE6 : &CALLEE4) : (v6 ? &CALLER6 : &CALLER4),
	      c->in);
	if (nosum) {
		uint32_t ps = 0;

		if (nosum == 2) {
			ps = v6 ? sum16(p.buf + 22, 32, 0) : sum16(p.buf + 26, 8, 0);
			ps = fold(ps + 17 + (uint32_t)(p.len - l4));
		}
		p.buf[l4 + 6] = (uint8_t)(ps >> 8);
		p.buf[l4 + 7] = (uint8_t)ps;
	}
	assert_int_equal(run(p.buf, p.len, dir ? g_if_out : g_if_in, out, &olen,
			     &ret), 0);
	if ((int)ret != c->verdict || counted_reason() != c->reason)
		tap_diag("%s: verdict %u (want %d), reason %d (want %d), fib %d",
			 c->name, ret, c->verdict, counted_reason(), c->reason,
			 fib_rc());
	assert_int_equal(ret, c->verdict);
	assert_int_equal(counted_reason(), c->reason);
	dlg_get(&after);
	/* the dialog's counters move either way */
	assert_int_equal(after.dir[dir].packets, before.dir[dir].packets + 1);
	if (is_ack(c->in))
		check_ack(&before, &after, c->reason == SDR_RELAY_REQ);
	if (!c->exp) {
		assert_int_equal(olen, p.len);
		assert_memory_equal(out, p.buf, p.len);
		return;
	}
	our_via_from(via, sizeof(via), v6, dir, c->hop == H_TX ? 1 : dir,
		     c->branch);
	expand(exp, sizeof(exp), c->exp, via);
	if (c->hop == H_TX)
		check_relayed_frame(out, olen, v6, exp, v6 ? "2001:db8:1::1" : "10.9.1.1",
				    v6 ? "2001:db8:1::2" : "10.9.1.3", 5060, 5080,
				    g_mac_in);
	else if (dir == 0)
		check_relayed_frame(out, olen, v6, exp, v6 ? "2001:db8:2::1" : "10.9.2.1",
				    v6 ? "2001:db8:2::2" : "10.9.2.2", 5060, 5080,
				    g_mac_out);
	else
		check_relayed_frame(out, olen, v6, exp, v6 ? "2001:db8:1::1" : "10.9.1.1",
				    v6 ? "2001:db8:1::2" : "10.9.1.2", 5060, 5070,
				    g_mac_in);
	differential(c->in, strlen(c->in), (const char *)out + l4 + 8,
		     olen - l4 - 8, c->nroutes, 1);
}

static void one_request(const struct rcase *c)
{
	one_request_sum(c, 0);
}

static void test_requests(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(RCASES) / sizeof(RCASES[0]); i++)
		one_request(&RCASES[i]);
}

/*
 * The relay updates the UDP checksum the packet came with; an IPv4
 * packet without one (0), and one whose checksum was left to offload,
 * get the whole sum computed instead: every relayed case again, with
 * checksum 0 (IPv4) and with the pseudo header's sum on the way in.
 */
static void test_requests_no_udp_sum(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(RCASES) / sizeof(RCASES[0]); i++) {
		if (!RCASES[i].exp)
			continue;
		if (!RCASES[i].v6)
			one_request_sum(&RCASES[i], 1);
		one_request_sum(&RCASES[i], 2);
	}
}

/* A retransmission gets the same branch; another transaction another. */
static void test_branch_stateless(void **state)
{
	static struct pkt p;
	static uint8_t o1[PKT_MAX], o2[PKT_MAX], o3[PKT_MAX];
	__u32 n1, n2, n3, ret;
	const char *m1 = RQ("INFO") VIA_C("z9hG4bK-same") MF("70") "Route: " RT_US CRLF
		FROM_A TO_B CID "CSeq: 70 INFO" CRLF BODY;
	const char *m2 = RQ("INFO") VIA_C("z9hG4bK-other") MF("70") "Route: " RT_US CRLF
		FROM_A TO_B CID "CSeq: 71 INFO" CRLF BODY;

	(void)state;
	dlg_put(4);
	hops_put(H_STD, 0, 0, 1);
	frame(&p, 0, &CALLER4, m1);
	assert_int_equal(run(p.buf, p.len, g_if_in, o1, &n1, &ret), 0);
	assert_int_equal(ret, XDP_REDIRECT_);
	assert_int_equal(run(p.buf, p.len, g_if_in, o2, &n2, &ret), 0);
	assert_int_equal(n1, n2);
	assert_memory_equal(o1, o2, n1);
	frame(&p, 0, &CALLER4, m2);
	assert_int_equal(run(p.buf, p.len, g_if_in, o3, &n3, &ret), 0);
	assert_int_equal(ret, XDP_REDIRECT_);
	assert_memory_not_equal(o1 + 42, o3 + 42, 120);
}

/* Near the MTU (1500 on the veth): the largest that fits, one byte more. */
static void test_mtu(void **state)
{
	static struct pkt p;
	static uint8_t out[PKT_MAX];
	static char in[PKT_MAX], via[256];
	const char *head = RQ("INFO") VIA_C("z9hG4bK-mtu") MF("70") "Route: " RT_US CRLF
		FROM_A TO_B CID "CSeq: 80 INFO" CRLF "X-Pad: ";
	const char *tail = CRLF BODY;
	size_t fixed, growth, pad;
	__u32 olen, ret;
	int delta;

	(void)state;
	dlg_put(4);
	hops_put(H_STD, 0, 0, 1);
	our_via(via, sizeof(via), 0, 0, "z9hG4bK-mtu");
	/* the message grows by our Via, shrinks by our Route line */
	delta = (int)strlen(via) - (int)strlen("Route: " RT_US CRLF);
	fixed = strlen(head) + strlen(tail);
	for (int extra = 0; extra <= 1; extra++) {
		growth = (size_t)(1500 - 28 - delta) + (size_t)extra;
		pad = growth - fixed;
		snprintf(in, sizeof(in), "%s%.*s%s", head, (int)pad,
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			 tail);
		frame(&p, 0, &CALLER4, in);
		counters_clear();
		assert_int_equal(run(p.buf, p.len, g_if_in, out, &olen, &ret), 0);
		tap_diag("mtu: in %zu bytes, out %u, verdict %u, reason %d",
			 p.len, olen, ret, counted_reason());
		if (!extra) {
			assert_int_equal(ret, XDP_REDIRECT_);
			assert_int_equal(olen, 14 + 1500);
			assert_int_equal(check_sums(out, olen, 0), 0);
		} else {
			assert_int_equal(ret, XDP_PASS_);
			assert_int_equal(counted_reason(), SDR_RELAY_PASS_MTU);
			assert_memory_equal(out, p.buf, p.len);
		}
	}
}

/*
 * A retransmitted ACK finds state 4 (the controller forwards it), and
 * with relay.ack off (no SDM_ACK bit) the ACK of the 2xx is the plain
 * match it was before: the controller confirms the dialog.
 */
static void test_ack_again_and_off(void **state)
{
	static struct pkt p;
	static uint8_t out[PKT_MAX];
	struct sipdlg_dlg_value before, after;
	struct sipdlg_bpf *on = g_skel;
	__u32 olen, ret;
	const char *ack = RQ("ACK") VIA_C("z9hG4bK-ar") MF("70") "Route: " RT_US CRLF
		FROM_A TO_B CID "CSeq: 1 ACK" CRLF NOBODY;

	(void)state;
	dlg_put(1);
	hops_put(H_STD, 0, 0, 1);
	ev_drain();
	frame(&p, 0, &CALLER4, ack);
	assert_int_equal(run(p.buf, p.len, g_if_in, out, &olen, &ret), 0);
	assert_int_equal(ret, XDP_REDIRECT_);
	counters_clear();
	dlg_get(&before);
	assert_int_equal(run(p.buf, p.len, g_if_in, out, &olen, &ret), 0);
	assert_int_equal(ret, XDP_PASS_);
	assert_int_equal(counted_reason(), SDR_DLG_MATCH);
	dlg_get(&after);
	ring_buffer__consume(g_rb);
	assert_int_equal(g_ev_ack, 1);	/* the first one's only */
	assert_int_equal(after.state, 4);

	/* relay.ack off: the same program without the SDM_ACK bit */
	g_skel = load_methods(RELAY_METHODS & ~(1u << SDM_ACK));
	assert_non_null(g_skel);
	dlg_put(1);
	hops_put(H_STD, 0, 0, 1);
	counters_clear();
	dlg_get(&before);
	assert_int_equal(run(p.buf, p.len, g_if_in, out, &olen, &ret), 0);
	assert_int_equal(ret, XDP_PASS_);
	assert_int_equal(counted_reason(), SDR_DLG_MATCH);
	assert_memory_equal(out, p.buf, p.len);
	dlg_get(&after);
	assert_int_equal(after.state, 1);
	assert_true(after.callee_tag_hash == 0);
	sipdlg_bpf__destroy(g_skel);
	g_skel = on;
}

/*
 * Once a BYE matched the dialog (bye_seen, either way) nothing more is
 * relayed in it: the controller deletes its next hops in a batch after
 * such a BYE, not at once.
 */
static void test_no_relay_after_bye(void **state)
{
	static struct pkt p;
	static uint8_t out[PKT_MAX];
	struct sipdlg_dlg_key k = { HE, HI };
	struct sipdlg_dlg_value v;
	__u32 olen, ret;
	const char *info = RQ("INFO") VIA_C("z9hG4bK-by") MF("70") "Route: " RT_US CRLF
		FROM_A TO_B CID "CSeq: 90 INFO" CRLF BODY;
	const char *ack = RQ("ACK") VIA_C("z9hG4bK-bya") MF("70") "Route: " RT_US CRLF
		FROM_A TO_B CID "CSeq: 1 ACK" CRLF NOBODY;

	(void)state;
	for (int i = 0; i < 2; i++) {
		dlg_put(i ? 1 : 4);
		hops_put(H_STD, 0, 0, 1);
		dlg_get(&v);
		v.bye_seen = i ? 1u << SDD_CALLER_TO_CALLEE : 1u << SDD_CALLEE_TO_CALLER;
		assert_int_equal(bpf_map__update_elem(g_skel->maps.dialogs, &k,
						      sizeof(k), &v, sizeof(v),
						      BPF_EXIST), 0);
		counters_clear();
		ev_drain();
		frame(&p, 0, &CALLER4, i ? ack : info);
		assert_int_equal(run(p.buf, p.len, g_if_in, out, &olen, &ret), 0);
		assert_int_equal(ret, XDP_PASS_);
		assert_int_equal(counted_reason(), SDR_DLG_MATCH);
		assert_memory_equal(out, p.buf, p.len);
		dlg_get(&v);
		assert_int_equal(v.state, i ? 1 : 4);
		ring_buffer__consume(g_rb);
		assert_int_equal(g_ev_ack, 0);
	}
}

/* --- replies ------------------------------------------------------------------ */

#define KVIA(d) "Via: SIP/2.0/UDP 10.9.2.1;branch=z9hG4bKsd596.d052." d "k0123456789abcdef" CRLF
#define REPLY_TAIL FROM_A TO_B CID "CSeq: 10 INFO" CRLF NOBODY

struct pcase {
	const char *name;
	int v6;
	const char *in, *exp;	/* exp NULL: unchanged */
	const char *daddr;	/* where it goes */
	__u16 dport;
	int reason, verdict;
};

static const struct pcase PCASES[] = {
	{ "reply_received", 0,
	  "SIP/2.0 200 OK" CRLF KVIA("0") "Via: SIP/2.0/UDP 192.168.1.20:5070;branch=z9hG4bK-nat;received=10.9.1.2" CRLF REPLY_TAIL,
	  "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP 192.168.1.20:5070;branch=z9hG4bK-nat;received=10.9.1.2" CRLF REPLY_TAIL,
	  "10.9.1.2", 5070, SDR_RELAY_REPLY, XDP_REDIRECT_ },
	{ "reply_rport", 0,
	  "SIP/2.0 200 OK" CRLF KVIA("0") "Via: SIP/2.0/UDP 10.9.1.2:5070;branch=z9hG4bK-rp;received=10.9.1.2;rport=5071" CRLF REPLY_TAIL,
	  "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP 10.9.1.2:5070;branch=z9hG4bK-rp;received=10.9.1.2;rport=5071" CRLF REPLY_TAIL,
	  "10.9.1.2", 5071, SDR_RELAY_REPLY, XDP_REDIRECT_ },
	{ "reply_sentby", 0,
	  "SIP/2.0 486 Busy Here" CRLF KVIA("0") VIA_C("z9hG4bK-c1") REPLY_TAIL,
	  "SIP/2.0 486 Busy Here" CRLF VIA_C("z9hG4bK-c1") REPLY_TAIL,
	  "10.9.1.2", 5070, SDR_RELAY_REPLY, XDP_REDIRECT_ },
	{ "reply_v6", 1,
	  "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP [2001:db8:2::1];branch=z9hG4bKsd596.d052.0k0123456789abcdef" CRLF
	  "Via: SIP/2.0/UDP [2001:db8:1::2]:5070;branch=z9hG4bK-v6;received=2001:0db8:0001:0000:0000:0000:0000:0002" CRLF REPLY_TAIL,
	  "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP [2001:db8:1::2]:5070;branch=z9hG4bK-v6;received=2001:0db8:0001:0000:0000:0000:0000:0002" CRLF REPLY_TAIL,
	  "2001:db8:1::2", 5070, SDR_RELAY_REPLY, XDP_REDIRECT_ },
	{ "reply_controller_branch", 0,
	  "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP 10.9.2.1;branch=z9hG4bKsd596.d052.0a1b2c3d40123456789abcdef" CRLF
	  VIA_C("z9hG4bK-c1") REPLY_TAIL, NULL, NULL, 0, SDR_DLG_REPLY_MATCH, XDP_PASS_ },
	/* both Vias in one line (sipp's [last_Via:]): our via-parm, the
	 * comma and the SP after it removed, the rest of the line kept */
	{ "reply_one_line_vias", 0,
	  "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP 10.9.2.1;branch=z9hG4bKsd596.d052.0k0123456789abcdef, "
	  "SIP/2.0/UDP 10.9.1.2:5070;branch=z9hG4bK-c1" CRLF REPLY_TAIL,
	  "SIP/2.0 200 OK" CRLF VIA_C("z9hG4bK-c1") REPLY_TAIL,
	  "10.9.1.2", 5070, SDR_RELAY_REPLY, XDP_REDIRECT_ },
	{ "reply_one_line_no_space", 0,
	  "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP 10.9.2.1;branch=z9hG4bKsd596.d052.0k0123456789abcdef,"
	  "SIP/2.0/UDP 10.9.1.2:5070;rport=5071;branch=z9hG4bK-c1" CRLF REPLY_TAIL,
	  "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP 10.9.1.2:5070;rport=5071;branch=z9hG4bK-c1" CRLF REPLY_TAIL,
	  "10.9.1.2", 5071, SDR_RELAY_REPLY, XDP_REDIRECT_ },
	{ "reply_one_line_three", 0,
	  "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP 10.9.2.1;branch=z9hG4bKsd596.d052.0k0123456789abcdef,\t"
	  "SIP/2.0/UDP 192.168.1.20:5070;branch=z9hG4bK-nat;received=10.9.1.2, SIP/2.0/UDP 10.9.1.3;branch=z9hG4bK-up" CRLF
	  REPLY_TAIL,
	  "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP 192.168.1.20:5070;branch=z9hG4bK-nat;received=10.9.1.2, "
	  "SIP/2.0/UDP 10.9.1.3;branch=z9hG4bK-up" CRLF REPLY_TAIL,
	  "10.9.1.2", 5070, SDR_RELAY_REPLY, XDP_REDIRECT_ },
	{ "reply_one_line_v6", 1,
	  "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP [2001:db8:2::1];branch=z9hG4bKsd596.d052.0k0123456789abcdef, "
	  "SIP/2.0/UDP [2001:db8:1::2]:5070;branch=z9hG4bK-v6;received=2001:0db8:0001:0000:0000:0000:0000:0002" CRLF REPLY_TAIL,
	  "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP [2001:db8:1::2]:5070;branch=z9hG4bK-v6;received=2001:0db8:0001:0000:0000:0000:0000:0002" CRLF REPLY_TAIL,
	  "2001:db8:1::2", 5070, SDR_RELAY_REPLY, XDP_REDIRECT_ },
	/* the next via-parm missing or one the kernel cannot send to */
	{ "reply_one_line_comma_only", 0,
	  "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP 10.9.2.1;branch=z9hG4bKsd596.d052.0k0123456789abcdef, " CRLF
	  VIA_C("z9hG4bK-c1") REPLY_TAIL,
	  NULL, NULL, 0, SDR_RELAY_PASS_SHAPE, XDP_PASS_ },
	{ "reply_one_line_next_name", 0,
	  "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP 10.9.2.1;branch=z9hG4bKsd596.d052.0k0123456789abcdef, "
	  "SIP/2.0/UDP ua.example.com:5070;branch=z9hG4bK-c1" CRLF REPLY_TAIL,
	  NULL, NULL, 0, SDR_RELAY_PASS_SHAPE, XDP_PASS_ },
	{ "reply_one_line_tcp", 0,
	  "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP 10.9.2.1;branch=z9hG4bKsd596.d052.0k0123456789abcdef, "
	  "SIP/2.0/TCP 10.9.1.2:5070;branch=z9hG4bK-c1" CRLF REPLY_TAIL,
	  NULL, NULL, 0, SDR_RELAY_PASS_SHAPE, XDP_PASS_ },
	{ "reply_next_via_name", 0,
	  "SIP/2.0 200 OK" CRLF KVIA("0") "Via: SIP/2.0/UDP ua.example.com:5070;branch=z9hG4bK-c1" CRLF REPLY_TAIL,
	  NULL, NULL, 0, SDR_RELAY_PASS_SHAPE, XDP_PASS_ },
};

static void one_reply(const struct pcase *c, enum hopk hk, int want_reason)
{
	static struct pkt p;
	static uint8_t out[PKT_MAX];
	struct sipdlg_dlg_value before, after;
	__u32 olen, ret;
	int v6 = c->v6;

	tap_diag("case %s", c->name);
	dlg_put(4);
	hops_put(hk, v6, 1, 1);
	counters_clear();
	dlg_get(&before);
	frame(&p, v6, v6 ? &CALLEE6 : &CALLEE4, c->in);
	assert_int_equal(run(p.buf, p.len, g_if_out, out, &olen, &ret), 0);
	if (counted_reason() != want_reason)
		tap_diag("%s: verdict %u, reason %d (want %d)", c->name, ret,
			 counted_reason(), want_reason);
	assert_int_equal(counted_reason(), want_reason);
	dlg_get(&after);
	assert_int_equal(after.dir[1].replies, before.dir[1].replies + 1);
	if (want_reason != SDR_RELAY_REPLY) {
		assert_int_equal(ret, XDP_PASS_);
		assert_int_equal(olen, p.len);
		assert_memory_equal(out, p.buf, p.len);
		return;
	}
	assert_int_equal(ret, c->verdict);
	check_relayed_frame(out, olen, v6, c->exp, v6 ? "2001:db8:1::1" : "10.9.1.1",
			    c->daddr, 5060, c->dport, g_mac_in);
}

static void test_replies(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(PCASES) / sizeof(PCASES[0]); i++)
		one_reply(&PCASES[i], H_STD, PCASES[i].reason);
	/* the dialog's hops gone (it ended): to the controller */
	one_reply(&PCASES[0], H_NONE, SDR_RELAY_PASS_NOHOP);
	one_reply(&PCASES[0], H_FAM0, SDR_RELAY_PASS_NOHOP);
}

/* --- main ------------------------------------------------------------------------ */

static int tap_skip_all(const char *why)
{
	printf("1..1\nok 1 - test_xdp_relay # SKIP %s\n", why);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_requests_no_udp_sum),
		cmocka_unit_test(test_branch_stateless),
		cmocka_unit_test(test_mtu),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_ack_again_and_off),
		cmocka_unit_test(test_no_relay_after_bye),
	};
	int rc;

	if (geteuid() != 0)
		return tap_skip_all("not root");
	libbpf_set_print(libbpf_to_tap);
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) != 1)
		return tap_skip_all("this kernel does not load XDP programs");
	g_ncpus = libbpf_num_possible_cpus();
	if (g_ncpus <= 0 || netns_setup())
		return tap_skip_all("no network namespace with veth");
	g_skel = load();
	if (!g_skel) {
		printf("1..1\nnot ok 1 - the program loads with the relay on\n");
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	ring_buffer__free(g_rb);
	sipdlg_bpf__destroy(g_skel);
	return rc;
}
