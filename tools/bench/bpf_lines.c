// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpf_lines.c - source lines of an interpreted program (bpf_lines.h).
 *
 * .BTF.ext layout (kernel Documentation/bpf/btf.rst): a header (magic
 * 0xeB9F, version, flags, hdr_len, then offset/length pairs, relative
 * to the header's end, of func_info and line_info), then line_info: a
 * record size, and per ELF section {name offset in .BTF's strings,
 * record count, records}; a record is struct bpf_line_info with the
 * instruction's byte offset in its section.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf_elf.h"
#include "bpf_lines.h"

struct ext_header {
	uint16_t magic;
	uint8_t version;
	uint8_t flags;
	uint32_t hdr_len;
	uint32_t func_info_off;
	uint32_t func_info_len;
	uint32_t line_info_off;
	uint32_t line_info_len;
};

struct bpf_lines {
	struct btf *btf; /* its strings: names, files, source lines */
	void *ext;	 /* the .BTF.ext section */
	size_t n;
	const struct bpf_line_info **at; /* per instruction, or NULL */
};

/*
 * The line record covering byte offset @off of section @sec: the last
 * record at or before it (records are in instruction order).
 */
static const struct bpf_line_info *find(const struct bpf_lines *l,
					const uint8_t *li, size_t len,
					const char *sec, uint32_t off)
{
	uint32_t rec;
	size_t p = 4;

	if (len < 4)
		return NULL;
	memcpy(&rec, li, 4);
	if (rec < sizeof(struct bpf_line_info))
		return NULL;
	while (p + 8 <= len) {
		uint32_t name, num;
		const struct bpf_line_info *best = NULL;
		const char *s;

		memcpy(&name, li + p, 4);
		memcpy(&num, li + p + 4, 4);
		p += 8;
		if ((size_t)num * rec > len - p)
			return NULL;
		s = btf__name_by_offset(l->btf, name);
		for (uint32_t i = 0; s && !strcmp(s, sec) && i < num; i++) {
			const struct bpf_line_info *r =
			    (const void *)(li + p + (size_t)i * rec);

			if (r->insn_off > off)
				break;
			best = r;
		}
		if (best)
			return best;
		p += (size_t)num * rec;
	}
	return NULL;
}

struct bpf_lines *bpf_lines_new(const char *path, const struct bpf_interp *ip)
{
	const struct bpf_insn *insns = bpf_interp_insns(ip);
	struct bpf_lines *l = calloc(1, sizeof(*l));
	struct bpf_elf_func *f = NULL;
	struct ext_header h;
	const uint8_t *raw, *li;
	size_t nf = 0, nfun = bpf_interp_nfuncs(ip), sz = 0;
	int err = -ENOMEM;

	if (!l)
		goto fail;
	l->n = bpf_interp_ninsns(ip);
	l->at = calloc(l->n, sizeof(*l->at));
	if (!l->at)
		goto fail;
	l->btf = btf__parse_elf(path, NULL);
	err =
	    l->btf ? bpf_elf_section(path, ".BTF.ext", &l->ext, &sz) : -ENOENT;
	if (err)
		goto fail;
	err = -ENOENT;
	raw = l->ext;
	if (sz < sizeof(h))
		goto fail;
	memcpy(&h, raw, sizeof(h));
	if (h.magic != 0xeB9F || h.hdr_len > sz ||
	    h.line_info_off > sz - h.hdr_len ||
	    h.line_info_len > sz - h.hdr_len - h.line_info_off)
		goto fail;
	li = raw + h.hdr_len + h.line_info_off;
	err = bpf_elf_funcs(path, &f, &nf);
	if (err)
		goto fail;
	for (size_t i = 0; i < nfun; i++) {
		size_t st = bpf_interp_func(ip, i)->start;
		size_t end =
		    i + 1 < nfun ? bpf_interp_func(ip, i + 1)->start : l->n;
		const struct bpf_elf_func *e =
		    bpf_elf_match(f, nf, insns + st, end - st);

		for (size_t pc = st; e && pc < end; pc++)
			l->at[pc] = find(l, li, h.line_info_len, e->sec,
					 (uint32_t)((e->off + pc - st) *
						    sizeof(struct bpf_insn)));
	}
	bpf_elf_funcs_free(f, nf);
	return l;
fail:
	bpf_elf_funcs_free(f, nf);
	bpf_lines_free(l);
	errno = -err;
	return NULL;
}

void bpf_lines_free(struct bpf_lines *l)
{
	if (!l)
		return;
	free(l->ext);
	btf__free(l->btf);
	free(l->at);
	free(l);
}

int bpf_lines_at(const struct bpf_lines *l, size_t pc, const char **file,
		 unsigned *line, const char **text)
{
	const struct bpf_line_info *r = pc < l->n ? l->at[pc] : NULL;
	const char *fn, *sl;

	if (!r)
		return -ENOENT;
	fn = btf__name_by_offset(l->btf, r->file_name_off);
	sl = fn ? strrchr(fn, '/') : NULL;
	*file = sl ? sl + 1 : fn ? fn : "?";
	*line = BPF_LINE_INFO_LINE_NUM(r->line_col);
	*text = btf__name_by_offset(l->btf, r->line_off);
	if (!*text)
		*text = "";
	return 0;
}
