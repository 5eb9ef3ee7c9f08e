// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sipdlg.bpf.c - the XDP fast path, attach point "xdp".
 *
 * Every frame first meets sd_quick_other() (below): Ethernet with at
 * most one VLAN tag, IPv4 without options or IPv6 without extension
 * headers, not UDP or UDP to a port that is not a SIP port, is counted
 * and passed there.  Everything else gets the full L2-L4 parse: up to two
 * VLAN tags, IPv4 with options, IPv6 with the usual extension headers,
 * UDP (parse_l2l4.h).  A datagram to a configured SIP port then goes
 * through the SIP stages (sip_match.h, sd_sip()):
 *  1. sd_sip_scan() (sip_scan.h), the one BPF-to-BPF call of a usual
 *     in-dialog request: one pass over the lines (sip_lines.h: 128-byte
 *     windows tested for control bytes with one OR of subtractions, each
 *     line classified by its first byte and one masked compare, only the
 *     first start line, Route, Call-ID, From, To, CSeq and Via recorded,
 *     stopping once the needed lines are closed), then the values with
 *     straight-line code for the usual shapes (sip_fast.h); the general
 *     parameter walks of sip_values.h are global functions called only
 *     when a value is not of a usual shape;
 *  2. slow paths called from sd_sip(): sd_sip_routes() when the cookie
 *     is not in the first Route line (or no Route came before the scan
 *     had the rest), sd_sip_via() for a reply's top Via;
 *  3. the dialog lookup, tight match, counters, events and policy
 *     (sip_match.h), inline.
 * Each frame is counted under exactly one enum sipdlg_reason in the
 * "counters" map; the reasons sipdlg_reason_drops() names are dropped,
 * everything else passes to the stack and the controller.
 *
 * Kernel features used, all in Linux 6.1 (Debian 12): global functions
 * with pointer arguments (5.12), bounded loops (5.3), ring buffer (5.8),
 * bpf_ktime_get_coarse_ns (5.11), bpf_xdp_get_buff_len (5.18), atomic
 * fetch-or / compare-and-swap on map values (5.12, -mcpu=v3), frozen
 * .rodata read as constants by the verifier (5.2).  No kfuncs, no
 * iterators; bpf_loop only in the kernel relay (sip_relay.h, xdp.relay),
 * which also uses bpf_xdp_load_bytes/store_bytes (5.18) and
 * bpf_fib_lookup.  A frame the relay rewrote is counted as
 * SDR_RELAY_REQ/REPLY and leaves with XDP_TX or XDP_REDIRECT.
 *
 * Loading needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (root has them):
 * the frame length is data_end - data, a pointer subtraction the verifier
 * allows only with CAP_PERFMON, which also spares the program the Spectre
 * v1 sanitising the verifier adds without it, and lets the scratch part
 * of struct sd_sip (sip_values.h) go to sd_sip_scan() unzeroed.
 *
 * Cost (#13, bpf_icount, the in-dialog BYE; session 11, lp6): an early
 * XDP_PASS for SDR_DLG_MATCH after counting (-10, other SIP rows +2);
 * the frame length from the pointers already loaded, not ctx again (-4);
 * sd_quick_other() filling struct sd_pkt from the header pointers'
 * offsets instead of selects on the IP version (-10, non-SIP rows -8
 * to -11).  lp9: SDR_NON_UDP as SD_K() in sd_quick_other() (non-SIP
 * rows -2, SIP rows -1); SDR_OTHER_PORT as SD_K() as well: the IPv6
 * non-SIP row +1 instead, dropped.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sipdlg_shared.h"
#include "sipdlg_hash.h"

#include "maps.h"
#include "knobs.h"
#include "counters.h"
#include "sip_overflow.h"
#include "parse_l2l4.h"
#include "sip_scan.h"
#include "sip_invite_limit.h"
#include "sip_relay.h"
#include "sip_match.h"

/* UDP with a complete header: is it SIP, and over which IP version? */
static __always_inline int sd_classify_udp(const struct sd_pkt *p)
{
	if (!sd_is_sip_port(p->dport))
		return SDR_OTHER_PORT;
	return p->family == 4 ? SDR_SIP_UDP4 : SDR_SIP_UDP6;
}

/* sd_quick_other(): UDP to a SIP port, *p filled in as the full parse
 * would have (the reason is SDR_SIP_UDP4/6 by p->family). */
#define SD_QUICK_SIP (-6)

/*
 * The commonest frames, decided before any state is set up: Ethernet
 * with no or one VLAN tag, then IPv4 without options and not a fragment,
 * or IPv6 whose next header is UDP, TCP or ICMPv6 (no extension header);
 * not UDP, or UDP to a port that is not a SIP port.  The reason
 * (SDR_NON_UDP, SDR_OTHER_PORT); SD_QUICK_SIP for UDP to a SIP port with
 * @p filled in as sd_parse_l2l4() fills it; or SD_FURTHER for the full
 * parse, which counts every other frame the same way it would count
 * these.  Most traffic on a NIC pays only this, and most SIP traffic
 * skips the full parse.
 */
static __always_inline int sd_quick_other(void *data, void *end,
					  struct sd_pkt *p)
{
	void *l3 = data + 14, *uh;
	__u16 et, dport;
	__u32 l3o, l4o;
	__u64 w;
	__u8 nh;

	if (data + 14 > end)
		return SD_FURTHER;
	et = *(__u16 *)(data + 12);
	if (et != bpf_htons(SD_ETH_P_IP) && et != bpf_htons(SD_ETH_P_IPV6)) {
		/* one VLAN tag (untagged IPv4 pays no compare for this) */
		if (et != bpf_htons(SD_ETH_P_8021Q) &&
		    et != bpf_htons(SD_ETH_P_8021AD))
			return SD_FURTHER;
		if (data + 18 > end)
			return SD_FURTHER;
		et = *(__u16 *)(data + 16);
		l3 = data + 18;
	}
	if (et == bpf_htons(SD_ETH_P_IP)) {
		if (l3 + 20 + 8 > end)
			return SD_FURTHER;
		/* bytes 0-7: version 4 and IHL 5, ..., MF and fragment
		 * offset (0x3fff of bytes 6-7) */
		w = *(__u64 *)l3;
		if ((w & 0xff) != 0x45 || ((w >> 48) & 0xff3f))
			return SD_FURTHER;
		if (*(__u8 *)(l3 + 9) != IPPROTO_UDP)
			return SD_K(SDR_NON_UDP);
		uh = l3 + 20;
	} else if (et == bpf_htons(SD_ETH_P_IPV6)) {
		if (l3 + 40 + 8 > end || (*(__u8 *)l3 >> 4) != 6)
			return SD_FURTHER;
		nh = *(__u8 *)(l3 + 6);
		if (nh == IPPROTO_TCP || nh == 58 /* ICMPv6 */)
			return SD_K(SDR_NON_UDP);
		if (nh != IPPROTO_UDP)
			return SD_FURTHER;
		uh = l3 + 40;
	} else {
		return SD_FURTHER;
	}
	dport = *(__u16 *)(uh + 2);
	if (!sd_is_sip_port(bpf_ntohs(dport)))
		return SDR_OTHER_PORT;
	/* as sd_parse_eth/ipv4/ipv6/udp would have it; the offsets from
	 * the pointers (14 or 18, then 20 or 40 more), the family and the
	 * tags from the offsets: 20 >> 4 & 2 is 0, 40 >> 4 & 2 is 2 */
	l3o = (__u32)(l3 - data);
	l4o = (__u32)(uh - data);
	p->family = 4 + (((l4o - l3o) >> 4) & 2);
	p->pad = 0;
	p->vlans = (l3o - 14) >> 2;
	p->l3_off = l3o;
	p->l4_proto = IPPROTO_UDP;
	p->l4_off = l4o;
	p->payload_off = l4o + 8;
	p->dport = bpf_ntohs(dport);
	p->sport = bpf_ntohs(*(__u16 *)uh);
	p->udp_len = bpf_ntohs(*(__u16 *)(uh + 4));
	return SD_QUICK_SIP;
}

SEC("xdp")
int sipdlg_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct sd_cursor cur = { .data = data, .pos = data, .end = data_end };
	struct sd_pkt pkt;	/* set by sd_quick_other() or below */
	int reason;

	/* most frames on a NIC end here: count them and let them pass */
	reason = sd_quick_other(data, data_end, &pkt);
	if (reason != SD_FURTHER && reason != SD_QUICK_SIP) {
		sd_count(reason, (__u32)(data_end - data));
		return XDP_PASS;
	}
	pkt.len = (__u32)(data_end - data);

	if (reason == SD_QUICK_SIP) {
		reason = pkt.family == 4 ? SDR_SIP_UDP4 : SDR_SIP_UDP6;
	} else {
		__builtin_memset(&pkt, 0, sizeof(pkt));
		pkt.len = (__u32)(data_end - data);
		reason = sd_parse_l2l4(ctx, &cur, &pkt);
		if (reason == SD_FURTHER)
			reason = sd_classify_udp(&pkt);
	}
	if (reason == SDR_SIP_UDP4 || reason == SDR_SIP_UDP6)
		reason = sd_sip(ctx, &pkt, reason);

	sd_count(reason, pkt.len);
	/* the commonest SIP outcome passes: neither dropped nor relayed */
	if (reason == SDR_DLG_MATCH)
		return XDP_PASS;
	if (reason == SDR_RELAY_REQ || reason == SDR_RELAY_REPLY)
		return sd_relay_verdict();	/* rewritten: TX/redirect */
	return sipdlg_reason_drops(reason) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
