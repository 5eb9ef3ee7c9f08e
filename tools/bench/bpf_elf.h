/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bpf_elf.h - the functions of a BPF object file, from its symbol table.
 *
 * What the interpreter's tools need to find their way back from the
 * instructions libbpf prepared to the object file: each function's name,
 * section and code (to recognise it by its shape after relocation, which
 * changes only immediates and ld_imm64 source registers).
 */
#ifndef SIPDLG_BPF_ELF_H
#define SIPDLG_BPF_ELF_H

#include <stddef.h>

#include <linux/bpf.h>

#include "bpf_interp.h"

struct bpf_elf_func {
	char *name;
	char *sec;	       /* its section ("xdp", ".text") */
	size_t off;	       /* first instruction within the section */
	size_t n;	       /* instructions */
	struct bpf_insn *code; /* a copy */
};

/* Every sized function symbol of @path.  0 or -errno; free with below. */
int bpf_elf_funcs(const char *path, struct bpf_elf_func **out, size_t *n);
void bpf_elf_funcs_free(struct bpf_elf_func *f, size_t n);

/* A copy of section @name of @path into *data (free()).  0 or -errno. */
int bpf_elf_section(const char *path, const char *name, void **data,
		    size_t *len);

/*
 * The function of @f (@nf of them) whose code has the length and shape
 * of the @len instructions at @insns, or NULL.
 */
const struct bpf_elf_func *bpf_elf_match(const struct bpf_elf_func *f,
					 size_t nf,
					 const struct bpf_insn *insns,
					 size_t len);

#endif /* SIPDLG_BPF_ELF_H */
