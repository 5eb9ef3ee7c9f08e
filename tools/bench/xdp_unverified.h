/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_unverified.h - count an XDP object the kernel's verifier refuses.
 *
 * While a program is being rewritten it may not verify (too complex, a
 * bounds check missing), and that is when one wants to know where its
 * instructions go.  libbpf can prepare an object without loading it
 * (bpf_object__gen_loader(), the light-skeleton mode): subprograms are
 * appended and calls relocated as for a real load, but ld_imm64 names
 * maps by index (BPF_PSEUDO_MAP_IDX[_VALUE]) instead of fd.  Here the
 * maps are created with the object's definitions (and .rodata filled
 * with its knobs), the indexes become those fds, and the functions are
 * named from the ELF symbol table, there being no loaded program to ask.
 *
 * Without the verifier nothing proves the program stays in bounds; the
 * interpreter's own checks still stop it at the first bad access.
 */
#ifndef SIPDLG_XDP_UNVERIFIED_H
#define SIPDLG_XDP_UNVERIFIED_H

#include <stddef.h>

#include "bpf_interp.h"
#include "xdp_obj.h"

struct xdp_unverified {
	struct bpf_object *obj; /* opened and prepared, never loaded */
	int *fds;		/* our maps, in the object's map order */
	size_t nfds;
	struct bpf_interp *ip;
};

/*
 * Prepare the object file @path with @k and build its interpreter into
 * @u.  0 or -errno (a message on stderr); xdp_unverified_close() either
 * way.
 */
int xdp_unverified_open(struct xdp_unverified *u, const char *path,
			const struct xdp_knobs *k);

/* The fd of our map @name, or -1. */
int xdp_unverified_map_fd(const struct xdp_unverified *u, const char *name);

void xdp_unverified_close(struct xdp_unverified *u);

#endif /* SIPDLG_XDP_UNVERIFIED_H */
