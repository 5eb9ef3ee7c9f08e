/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bpf_lines.h - the source line of each instruction an interpreter runs,
 * from the line info (.BTF.ext) of the object file it came from.
 *
 * Functions are found back in the file by name-free shape matching
 * (bpf_elf.h), so the instructions libbpf prepared (subprograms moved
 * behind the entry function) map onto the sections clang wrote.
 */
#ifndef SIPDLG_BPF_LINES_H
#define SIPDLG_BPF_LINES_H

#include <stddef.h>

#include "bpf_interp.h"

struct bpf_lines;

/*
 * Line info for interpreter @ip, built from the object file @path.
 * NULL with errno set (ENOENT: the file has no line info).
 */
struct bpf_lines *bpf_lines_new(const char *path, const struct bpf_interp *ip);
void bpf_lines_free(struct bpf_lines *l);

/*
 * The source of instruction @pc: file (base name), line number and the
 * line's text (may be ""), valid while @l lives.  0 or -ENOENT.
 */
int bpf_lines_at(const struct bpf_lines *l, size_t pc, const char **file,
		 unsigned *line, const char **text);

#endif /* SIPDLG_BPF_LINES_H */
