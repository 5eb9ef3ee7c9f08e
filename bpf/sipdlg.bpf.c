// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* placeholder: replaced by the parse program */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "sipdlg_shared.h"

SEC("xdp")
int sipdlg_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
