/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sipdlg_rhex.h - reverse hex, the one encoding of h_entry and h_id in
 * the dialog cookie (";did=RH(h_entry).RH(h_id)", Kamailio's
 * int2reverse_hex) and in our Via branches (SIPDLG_BRANCH_PREFIX RH '.'
 * RH '.' D, sipdlg_shared.h).
 *
 * RH(x): lower-case hex digits, the least-significant nibble first, no
 * padding, 1 to 8 digits ("0" for 0).  1685 (0x695) is "596".
 *
 * Like sipdlg_shared.h this header includes nothing and uses only
 * fixed-width types: include it after vmlinux.h in BPF code and after
 * <linux/types.h> in user space.  Readers accept upper case as well; only
 * the writer lives here (the kernel's reader is bpf/sip_values.h, the
 * controller's dlg_cookie_parse).
 */
#ifndef SIPDLG_RHEX_H
#define SIPDLG_RHEX_H

#define SIPDLG_RHEX_MAX 8		/* digits of RH(x) at most */

/* Write RH(@x) to @out (room for SIPDLG_RHEX_MAX chars; no NUL added).
 * Returns the number of digits, 1..8. */
static inline __u32 sipdlg_rhex(__u32 x, char *out)
{
	__u32 n = 0;

	do {
		out[n++] = "0123456789abcdef"[x & 0xf];
		x >>= 4;
	} while (x && n < SIPDLG_RHEX_MAX);
	return n;
}

#endif /* SIPDLG_RHEX_H */
