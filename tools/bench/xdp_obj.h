/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_obj.h - an XDP object loaded for measuring, and its interpreter.
 *
 * Loads a BPF object file the way the daemon does (the .rodata knobs set
 * by name between open and load), but with every map unpinned so that
 * nothing a running sipdlgd uses is touched, and hands the loaded
 * program to bpf_interp.h.
 *
 * The instructions come from libbpf: libbpf 1.1 keeps a program's
 * instructions after bpf_object__load() as it sent them to the kernel
 * (subprograms appended, calls relocated, ld_imm64 carrying map fds and
 * .rodata/.bss value offsets), so bpf_program__insns() is exactly what
 * the verifier saw and no ELF relocation is redone here.
 */
#ifndef SIPDLG_XDP_OBJ_H
#define SIPDLG_XDP_OBJ_H

#include <stddef.h>
#include <stdint.h>

#include <bpf/libbpf.h>

#include "bpf_interp.h"

/* The knobs a measurement sets; the object's defaults for the rest. */
struct xdp_knobs {
	uint16_t sip_ports[4]; /* host order */
	uint32_t n_sip_ports;  /* 0: sip_ports[0] only */
	uint32_t drop;	       /* unknown_dialog_drop */
	uint32_t match_mode;   /* dlg_match_mode */
	uint32_t pps;	       /* max_dialog_pps */
	uint32_t mac;	       /* mac_enabled */
	uint64_t mac_key[2];
};

/*
 * Write @len bytes at global @name of @obj's .rodata (between open and
 * load).  0, -ENOENT (no such knob) or -E2BIG.
 */
int xdp_obj_set_knob(struct bpf_object *obj, const char *name, const void *val,
		     size_t len);

/*
 * Set @k on the opened @obj and unpin its maps.  0 or -ENOENT with a
 * message on stderr naming the knob the object lacks.
 */
int xdp_obj_prepare(struct bpf_object *obj, const struct xdp_knobs *k);

/*
 * xdp_obj_prepare() and load.  0 or -errno; a message on stderr says
 * which knob or what failed.
 */
int xdp_obj_load(struct bpf_object *obj, const struct xdp_knobs *k);

/* Open the object file @path and xdp_obj_load() it: the object or NULL. */
struct bpf_object *xdp_obj_open_load(const char *path,
				     const struct xdp_knobs *k);

/* The first XDP program of @obj, or NULL. */
struct bpf_program *xdp_obj_prog(struct bpf_object *obj);

/*
 * An interpreter for the loaded @prog, its functions named after the
 * kernel's BTF func_info (same order as the call targets), its clock
 * still (xdp_obj_still_clock()).  NULL with errno set.
 */
struct bpf_interp *xdp_obj_interp(const struct bpf_program *prog);

/*
 * Stop @ip's clock at now (CLOCK_MONOTONIC_COARSE): a count must not
 * depend on when it is taken.  With a running clock, a tick between two
 * runs of a packet changes the path (the token bucket of the failure
 * events refills, say) and so the count.
 */
void xdp_obj_still_clock(struct bpf_interp *ip);

#endif /* SIPDLG_XDP_OBJ_H */
