// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sipdlg.bpf.c - the XDP fast path, attach point "xdp".
 *
 * For now it classifies every frame: Ethernet, up to two VLAN tags, IPv4
 * (with options) or IPv6 (with the usual extension headers), UDP, and
 * whether the UDP destination port is a configured SIP port.  Each frame
 * is counted under exactly one enum sipdlg_reason in the "counters" map
 * and passed.  The SIP stages (Route cookie, dialog lookup, tight match)
 * come after sd_parse_l2l4() as global functions taking ctx and the
 * offsets in struct sd_pkt.
 *
 * Loading needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (root has them):
 * the frame length is data_end - data, a pointer subtraction the verifier
 * allows only with CAP_PERFMON, which also spares the program the Spectre
 * v1 sanitising the verifier adds without it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sipdlg_shared.h"

#include "maps.h"
#include "knobs.h"
#include "counters.h"
#include "parse_l2l4.h"

/* UDP with a complete header: is it SIP, and over which IP version? */
static __always_inline int sd_classify_udp(const struct sd_pkt *p)
{
	if (!sd_is_sip_port(p->dport))
		return SDR_OTHER_PORT;
	return p->family == 4 ? SDR_SIP_UDP4 : SDR_SIP_UDP6;
}

SEC("xdp")
int sipdlg_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct sd_cursor cur = { .data = data, .pos = data, .end = data_end };
	struct sd_pkt pkt = {};
	int reason;

	pkt.len = ctx->data_end - ctx->data;

	reason = sd_parse_l2l4(ctx, &cur, &pkt);
	if (reason == SD_FURTHER)
		reason = sd_classify_udp(&pkt);
	/*
	 * SIP stages go here: they run only for SDR_SIP_UDP4/6, return
	 * SD_FURTHER to hand over to the next stage, or a reason.
	 */

	sd_count(reason, pkt.len);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
