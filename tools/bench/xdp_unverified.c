// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdp_unverified.c - an XDP object's interpreter without the verifier
 * (xdp_unverified.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_elf.h"
#include "xdp_unverified.h"

/* Our copy of each of the object's maps; .rodata etc. get their data. */
static int create_maps(struct xdp_unverified *u)
{
	struct bpf_map *m;
	size_t n = 0;

	bpf_object__for_each_map(m, u->obj) n++;
	u->fds = calloc(n ? n : 1, sizeof(*u->fds));
	if (!u->fds)
		return -ENOMEM;
	bpf_object__for_each_map(m, u->obj)
	{
		LIBBPF_OPTS(bpf_map_create_opts, o,
			    .map_flags = bpf_map__map_flags(m),
			    .map_extra = bpf_map__map_extra(m));
		const void *init;
		size_t sz = 0;
		__u32 zero = 0;
		int fd;

		fd = bpf_map_create(
		    bpf_map__type(m), NULL, bpf_map__key_size(m),
		    bpf_map__value_size(m), bpf_map__max_entries(m), &o);
		if (fd < 0) {
			fprintf(stderr, "xdp_unverified: map %s: %s\n",
				bpf_map__name(m), strerror(errno));
			return -errno;
		}
		u->fds[u->nfds++] = fd;
		init = bpf_map__is_internal(m) ? bpf_map__initial_value(m, &sz)
					       : NULL;
		if (init && sz == bpf_map__value_size(m) &&
		    bpf_map_update_elem(fd, &zero, init, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* Map indexes in ld_imm64 become our fds (IDX -> FD, IDX_VALUE -> VALUE). */
static int map_fds(const struct xdp_unverified *u, struct bpf_insn *in,
		   size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (in[i].code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		if (in[i].src_reg == BPF_PSEUDO_MAP_IDX ||
		    in[i].src_reg == BPF_PSEUDO_MAP_IDX_VALUE) {
			if (in[i].imm < 0 || (size_t)in[i].imm >= u->nfds)
				return -EINVAL;
			in[i].src_reg = in[i].src_reg == BPF_PSEUDO_MAP_IDX
					    ? BPF_PSEUDO_MAP_FD
					    : BPF_PSEUDO_MAP_VALUE;
			in[i].imm = u->fds[in[i].imm];
		}
		i++;
	}
	return 0;
}

/* Each function named after the ELF function of its length and shape. */
static void elf_names(struct bpf_interp *ip, const char *path,
		      const struct bpf_insn *insns, size_t n)
{
	struct bpf_elf_func *f;
	size_t nf;

	if (bpf_elf_funcs(path, &f, &nf))
		return;
	for (size_t i = 0; i < bpf_interp_nfuncs(ip); i++) {
		size_t st = bpf_interp_func(ip, i)->start;
		size_t end = i + 1 < bpf_interp_nfuncs(ip)
				 ? bpf_interp_func(ip, i + 1)->start
				 : n;
		const struct bpf_elf_func *e =
		    bpf_elf_match(f, nf, insns + st, end - st);

		if (e)
			bpf_interp_name_func(ip, i, e->name);
	}
	bpf_elf_funcs_free(f, nf);
}

int xdp_unverified_open(struct xdp_unverified *u, const char *path,
			const struct xdp_knobs *k)
{
	LIBBPF_OPTS(gen_loader_opts, gl);
	const struct bpf_insn *in;
	struct bpf_program *prog;
	struct bpf_insn *copy = NULL;
	size_t n;
	int r;

	memset(u, 0, sizeof(*u));
	u->obj = bpf_object__open_file(path, NULL);
	if (!u->obj) {
		r = -errno;
		fprintf(stderr, "xdp_unverified: %s: %s\n", path, strerror(-r));
		return r;
	}
	r = xdp_obj_prepare(u->obj, k);
	if (!r)
		r = bpf_object__gen_loader(u->obj, &gl);
	/* with a gen_loader, "load" relocates and records, nothing more */
	if (!r)
		r = bpf_object__load(u->obj);
	prog = r ? NULL : xdp_obj_prog(u->obj);
	in = prog ? bpf_program__insns(prog) : NULL;
	n = prog ? bpf_program__insn_cnt(prog) : 0;
	if (!r && (!in || !n))
		r = -ENOENT;
	if (!r)
		r = create_maps(u);
	if (!r) {
		copy = malloc(n * sizeof(*copy));
		r = copy ? 0 : -ENOMEM;
	}
	if (!r) {
		memcpy(copy, in, n * sizeof(*copy));
		r = map_fds(u, copy, n);
	}
	if (!r) {
		u->ip = bpf_interp_new(copy, n);
		r = u->ip ? 0 : -errno;
	}
	if (!r) {
		elf_names(u->ip, path, copy, n);
		/* the entry is the program itself, whatever its shape */
		bpf_interp_name_func(u->ip, 0, bpf_program__name(prog));
		xdp_obj_still_clock(u->ip);
	} else
		fprintf(stderr, "xdp_unverified: %s: %s\n", path, strerror(-r));
	free(copy);
	return r;
}

int xdp_unverified_map_fd(const struct xdp_unverified *u, const char *name)
{
	struct bpf_map *m;
	size_t i = 0;

	if (!u->obj)
		return -1;
	bpf_object__for_each_map(m, u->obj)
	{
		if (i >= u->nfds)
			break;
		if (!strcmp(bpf_map__name(m), name))
			return u->fds[i];
		i++;
	}
	return -1;
}

void xdp_unverified_close(struct xdp_unverified *u)
{
	bpf_interp_free(u->ip);
	for (size_t i = 0; i < u->nfds; i++)
		close(u->fds[i]);
	free(u->fds);
	bpf_object__close(u->obj);
	memset(u, 0, sizeof(*u));
}
