// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdp_obj.c - load an XDP object for measuring; build its interpreter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "xdp_obj.h"

int xdp_obj_set_knob(struct bpf_object *obj, const char *name, const void *val,
		     size_t len)
{
	struct bpf_map *ro = bpf_object__find_map_by_name(obj, ".rodata");
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	const void *init;
	uint8_t *copy;
	size_t sz = 0;
	int id, r = -ENOENT;

	if (!ro || !btf || !(init = bpf_map__initial_value(ro, &sz)))
		return -ENOENT;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (unsigned i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, var->name_off), name))
			continue;
		if (vs->size < len || vs->offset + len > sz)
			return -E2BIG;
		copy = malloc(sz);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, init, sz);
		memcpy(copy + vs->offset, val, len);
		r = bpf_map__set_initial_value(ro, copy, sz);
		free(copy);
		return r;
	}
	return r;
}

int xdp_obj_prepare(struct bpf_object *obj, const struct xdp_knobs *k)
{
	uint32_t n = k->n_sip_ports ? k->n_sip_ports : 1;
	struct bpf_map *map;
	const char *bad = NULL;

	/* the first n entries only: the object's array may be longer */
	if (n > sizeof(k->sip_ports) / sizeof(k->sip_ports[0]) ||
	    xdp_obj_set_knob(obj, "sip_ports", k->sip_ports,
			     n * sizeof(k->sip_ports[0])))
		bad = "sip_ports";
	if (!bad && xdp_obj_set_knob(obj, "n_sip_ports", &n, sizeof(n)))
		bad = "n_sip_ports";
	if (!bad && xdp_obj_set_knob(obj, "unknown_dialog_drop", &k->drop,
				     sizeof(k->drop)))
		bad = "unknown_dialog_drop";
	if (!bad && xdp_obj_set_knob(obj, "dlg_match_mode", &k->match_mode,
				     sizeof(k->match_mode)))
		bad = "dlg_match_mode";
	if (!bad &&
	    xdp_obj_set_knob(obj, "max_dialog_pps", &k->pps, sizeof(k->pps)) &&
	    k->pps)
		bad = "max_dialog_pps";
	/* the MAC knobs are needed only when the MAC is asked for */
	if (!bad &&
	    xdp_obj_set_knob(obj, "mac_enabled", &k->mac, sizeof(k->mac)) &&
	    k->mac)
		bad = "mac_enabled";
	if (!bad &&
	    xdp_obj_set_knob(obj, "mac_key", k->mac_key, sizeof(k->mac_key)) &&
	    k->mac)
		bad = "mac_key";
	if (bad) {
		fprintf(stderr, "xdp_obj: the object has no usable knob %s\n",
			bad);
		return -ENOENT;
	}
	bpf_object__for_each_map(map, obj) bpf_map__set_pin_path(map, NULL);
	return 0;
}

int xdp_obj_load(struct bpf_object *obj, const struct xdp_knobs *k)
{
	int r = xdp_obj_prepare(obj, k);

	if (r)
		return r;
	r = bpf_object__load(obj);
	if (r)
		fprintf(stderr, "xdp_obj: load: %s\n", strerror(-r));
	return r;
}

struct bpf_object *xdp_obj_open_load(const char *path,
				     const struct xdp_knobs *k)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	int r;

	if (!obj) {
		r = -errno;
		fprintf(stderr, "xdp_obj: %s: %s\n", path, strerror(errno));
		errno = -r;
		return NULL;
	}
	r = xdp_obj_load(obj, k);
	if (r) {
		bpf_object__close(obj);
		errno = -r;
		return NULL;
	}
	return obj;
}

struct bpf_program *xdp_obj_prog(struct bpf_object *obj)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, obj) if (bpf_program__type(p) ==
						 BPF_PROG_TYPE_XDP) return p;
	return NULL;
}

/*
 * Name the interpreter's functions after the loaded program's func_info:
 * the kernel lists one record per function, in the order of their first
 * instructions, as the interpreter does.  The kernel's instruction
 * offsets are those after its own rewriting, so only the order is used.
 * Best effort: a mismatch leaves the "sub@N" names.
 */
static void name_funcs(struct bpf_interp *ip, int fd)
{
	struct bpf_prog_info info;
	struct bpf_func_info *fi = NULL;
	struct btf *btf = NULL;
	__u32 len = sizeof(info), n;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || !info.nr_func_info ||
	    info.nr_func_info != bpf_interp_nfuncs(ip))
		return;
	n = info.nr_func_info;
	fi = calloc(n, sizeof(*fi));
	if (!fi)
		return;
	memset(&info, 0, sizeof(info));
	info.nr_func_info = n;
	info.func_info_rec_size = sizeof(*fi);
	info.func_info = (__u64)(uintptr_t)fi;
	len = sizeof(info);
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
	    info.func_info_rec_size == sizeof(*fi))
		btf = btf__load_from_kernel_by_id(info.btf_id);
	for (__u32 i = 0; btf && i < n; i++) {
		const struct btf_type *t = btf__type_by_id(btf, fi[i].type_id);
		const char *name =
		    t ? btf__name_by_offset(btf, t->name_off) : NULL;

		if (name && *name)
			bpf_interp_name_func(ip, i, name);
	}
	btf__free(btf);
	free(fi);
}

struct bpf_interp *xdp_obj_interp(const struct bpf_program *prog)
{
	const struct bpf_insn *insns = bpf_program__insns(prog);
	size_t n = bpf_program__insn_cnt(prog);
	struct bpf_interp *ip;
	int fd = bpf_program__fd(prog);

	if (!insns || !n || fd < 0) {
		errno = EINVAL; /* not loaded */
		return NULL;
	}
	ip = bpf_interp_new(insns, n);
	if (ip) {
		name_funcs(ip, fd);
		xdp_obj_still_clock(ip);
	}
	return ip;
}

void xdp_obj_still_clock(struct bpf_interp *ip)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	bpf_interp_set_clock(ip, (uint64_t)ts.tv_sec * 1000000000ULL +
				     (uint64_t)ts.tv_nsec);
}
