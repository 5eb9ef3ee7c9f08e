/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sip_overflow.h - dialogs the controller could not put into the kernel.
 *
 * The "dialogs" map has a fixed size (xdp.max_dialogs).  A dialog that
 * does not fit still works through the controller, so the kernel must not
 * drop its requests as "unknown dialog".  The controller lists such
 * dialogs in "overflow" and, when even that fails, sets `degraded` in
 * "fpstate" (include/sipdlg_shared.h, struct sipdlg_fp_state).  The kernel
 * asks sd_not_in_kernel() only on the path where it did not find the
 * dialog, so matched traffic pays nothing for it.
 *
 * Include once, from the program's entry file, after maps.h.
 */
#ifndef SIPDLG_BPF_SIP_OVERFLOW_H
#define SIPDLG_BPF_SIP_OVERFLOW_H

#define SIPDLG_OVERFLOW_MAX 65536	/* controller may resize at load */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, __u32);
	__type(value, struct sipdlg_fp_state);
} fpstate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SIPDLG_OVERFLOW_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, struct sipdlg_dlg_key);
	__type(value, __u8);
} overflow SEC(".maps");

/*
 * 1 if a request whose dialog (cookie @key, or none when @key is NULL)
 * was not found in "dialogs" must pass as SDR_DLG_NOT_IN_KERNEL: the
 * fast path is degraded, or @key is listed in "overflow".
 */
static __always_inline int sd_not_in_kernel(const struct sipdlg_dlg_key *key)
{
	struct sipdlg_fp_state *st;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&fpstate, &zero);
	if (!st)
		return 0;
	if (st->degraded)
		return 1;
	if (!key || !st->overflow_n)
		return 0;
	return bpf_map_lookup_elem(&overflow, key) != NULL;
}

#endif /* SIPDLG_BPF_SIP_OVERFLOW_H */
