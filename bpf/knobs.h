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
/* 1: drop packets whose cookie names no dialog.  Not used yet. */
const volatile __u32 unknown_dialog_drop = 0;

/* Is host-order UDP port @port one of the configured SIP ports? */
static __always_inline int sd_is_sip_port(__u16 port)
{
	__u32 n = n_sip_ports;
	__u32 i;

	for (i = 0; i < SIPDLG_MAX_SIP_PORTS; i++) {
		if (i >= n)
			break;
		if (sip_ports[i] == port)
			return 1;
	}
	return 0;
}

#endif /* SIPDLG_BPF_KNOBS_H */
