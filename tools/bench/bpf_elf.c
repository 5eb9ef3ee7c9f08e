// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpf_elf.c - a BPF object file's function symbols (bpf_elf.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf_elf.h"

/* Append the function of symbol @s (its section @t) to the list. */
static int add(struct bpf_elf_func **f, size_t *n, size_t *cap, Elf *elf,
	       const GElf_Shdr *sh, const GElf_Sym *s, Elf_Scn *t)
{
	Elf_Data *td = elf_getdata(t, NULL);
	const char *name = elf_strptr(elf, sh->sh_link, s->st_name);
	const char *sec;
	GElf_Shdr ts;
	size_t shstr;
	struct bpf_elf_func *e;

	if (!td || !gelf_getshdr(t, &ts) || !(ts.sh_flags & SHF_EXECINSTR) ||
	    s->st_value + s->st_size > td->d_size || !name ||
	    elf_getshdrstrndx(elf, &shstr))
		return 0;
	sec = elf_strptr(elf, shstr, ts.sh_name);
	if (!sec)
		return 0;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;

		e = realloc(*f, c * sizeof(*e));
		if (!e)
			return -ENOMEM;
		*f = e;
		*cap = c;
	}
	e = &(*f)[*n];
	memset(e, 0, sizeof(*e));
	e->name = strdup(name);
	e->sec = strdup(sec);
	e->off = s->st_value / sizeof(struct bpf_insn);
	e->n = s->st_size / sizeof(struct bpf_insn);
	e->code = malloc(s->st_size);
	(*n)++;
	if (!e->name || !e->sec || !e->code)
		return -ENOMEM;
	memcpy(e->code, (const char *)td->d_buf + s->st_value, s->st_size);
	return 0;
}

int bpf_elf_funcs(const char *path, struct bpf_elf_func **out, size_t *nout)
{
	struct bpf_elf_func *f = NULL;
	size_t n = 0, cap = 0;
	Elf_Scn *scn = NULL;
	Elf *elf;
	int fd, r = 0;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		r = -EINVAL;
	while (!r && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *d = elf_getdata(scn, NULL);
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !d ||
		    !sh.sh_entsize)
			continue;
		for (size_t i = 0; !r && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			Elf_Scn *t;

			if (!gelf_getsym(d, (int)i, &s) ||
			    GELF_ST_TYPE(s.st_info) != STT_FUNC || !s.st_size)
				continue;
			t = elf_getscn(elf, s.st_shndx);
			if (t)
				r = add(&f, &n, &cap, elf, &sh, &s, t);
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	if (r) {
		bpf_elf_funcs_free(f, n);
		return r;
	}
	*out = f;
	*nout = n;
	return 0;
}

int bpf_elf_section(const char *path, const char *name, void **data,
		    size_t *len)
{
	Elf_Scn *scn = NULL;
	size_t shstr;
	Elf *elf;
	int fd, r = -ENOENT;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_getshdrstrndx(elf, &shstr))
		r = -EINVAL;
	while (r == -ENOENT && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *d = elf_getdata(scn, NULL);
		const char *sn;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || !d)
			continue;
		sn = elf_strptr(elf, shstr, sh.sh_name);
		if (!sn || strcmp(sn, name))
			continue;
		*data = malloc(d->d_size ? d->d_size : 1);
		if (!*data) {
			r = -ENOMEM;
			break;
		}
		memcpy(*data, d->d_buf, d->d_size);
		*len = d->d_size;
		r = 0;
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return r;
}

void bpf_elf_funcs_free(struct bpf_elf_func *f, size_t n)
{
	for (size_t i = 0; f && i < n; i++) {
		free(f[i].name);
		free(f[i].sec);
		free(f[i].code);
	}
	free(f);
}

const struct bpf_elf_func *bpf_elf_match(const struct bpf_elf_func *f,
					 size_t nf,
					 const struct bpf_insn *insns,
					 size_t len)
{
	for (size_t k = 0; k < nf; k++) {
		size_t i;

		if (f[k].n != len)
			continue;
		for (i = 0; i < len; i++)
			if (f[k].code[i].code != insns[i].code ||
			    f[k].code[i].dst_reg != insns[i].dst_reg)
				break;
		if (i == len)
			return &f[k];
	}
	return NULL;
}
