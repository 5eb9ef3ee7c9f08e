/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * knobs.h - run-time settings of the fast path.
 *
 * `const volatile` globals in .rodata: the controller writes them through
 * skel->rodata between open and load, the verifier then sees them as
 * constants.  They are read with volatile loads only; a memcpy through a
 * cast that drops `volatile` was seen folded to the zero initialiser.
 *
 * Include once, from the program's entry file.
 */
#ifndef SIPDLG_BPF_KNOBS_H
#define SIPDLG_BPF_KNOBS_H

/* UDP destination ports that carry SIP, host byte order. */
const volatile __u16 sip_ports[SIPDLG_MAX_SIP_PORTS] = {};
/* How many entries of sip_ports are in use (the rest are ignored). */
const volatile __u32 n_sip_ports = 0;
/*
 * 1: drop in-dialog requests whose cookie names no dialog, names one whose
 * Call-ID/tags differ, is malformed or fails its MAC (xdp.unknown_dialog:
 * drop); 0: count and pass them.
 */
const volatile __u32 unknown_dialog_drop = 0;
/* Kamailio's dlg_match_mode: 0 cookie only, 1 cookie then Call-ID index
 * ("callids" map), 2 Call-ID index only (enum sipdlg_match_mode). */
const volatile __u32 dlg_match_mode = SIPDLG_MATCH_DID_ONLY;
/*
 * Kamailio's rr_param: the Record-Route parameter that carries the cookie,
 * rr_param_len bytes (1..SIPDLG_RR_PARAM_MAX), NUL-padded, any case
 * (matched without case).  Read as 8-byte words, hence the alignment.
 */
const volatile char rr_param[SIPDLG_RR_PARAM_MAX]
	__attribute__((aligned(8))) = "did";
const volatile __u32 rr_param_len = 3;
/* Matched in-dialog requests allowed per dialog and second; 0: no limit. */
const volatile __u32 max_dialog_pps = 0;
/*
 * 1: the cookie must come with its MAC (SIPDLG_MAC_PARAM in the same Route
 * line, sipdlg_dlg_mac() under mac_key); the Call-ID is then not read.
 */
const volatile __u32 mac_enabled = 0;
/* SipHash key: k0, k1 = key bytes 0..7 and 8..15, little-endian. */
const volatile __u64 mac_key[2] = {};
/*
 * 1: during a key rotation a MAC under mac_key_prev (the key before
 * mac_key, same layout) is accepted as well.
 */
const volatile __u32 mac_prev_enabled = 0;
const volatile __u64 mac_key_prev[2] = {};
/* SDE_MATCH_FAILED events per second and CPU (token bucket); 0: none. */
const volatile __u32 fail_events_per_sec = 10;

/*
 * xdp.relay: 1 to relay in-dialog requests whose method bit (1 << enum
 * sipdlg_method) is in relay_methods, and their replies, in the kernel.
 */
const volatile __u32 relay_enabled = 0;
const volatile __u32 relay_methods = 0;
/*
 * xdp.invite_limit: initial INVITEs allowed per source address and
 * second, and the bucket depth; 0 pps: no limit.
 */
const volatile __u32 invite_limit_pps = 0;
const volatile __u32 invite_limit_burst = 0;

/* Is host-order UDP port @port one of the configured SIP ports? */
static __always_inline int sd_is_sip_port(__u16 port)
{
	__u32 n = n_sip_ports;
	__u32 i;

	/* the first port without the loop: most boxes configure one */
	if (n && sip_ports[0] == port)
		return 1;
	for (i = 1; i < SIPDLG_MAX_SIP_PORTS; i++) {
		if (i >= n)
			break;
		if (sip_ports[i] == port)
			return 1;
	}
	return 0;
}

#endif /* SIPDLG_BPF_KNOBS_H */
