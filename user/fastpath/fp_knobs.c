/*
 * fp_knobs.c - write the fast path's run-time knobs (the `const volatile`
 * globals of bpf/knobs.h) into a BPF object's .rodata before it loads.
 *
 * Every knob is looked up by name in the object's BTF.  A knob this
 * sipdlgd wants to set that the object lacks is an error naming it: an
 * object built from other sources would otherwise run with a default the
 * user never chose (the cookie MAC silently off, say).
 */
#define LOG_TAG "fastpath"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "fastpath/fp_internal.h"

/* Offset and size of global @name inside .rodata, from BTF. */
static int rodata_find(const struct btf *btf, const char *name, __u32 *off,
		       __u32 *size)
{
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	int id;

	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (unsigned i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, var->name_off), name) != 0)
			continue;
		*off = vs->offset;
		*size = vs->size;
		return 0;
	}
	return -ENOENT;
}

int fp_knobs_set(struct bpf_object *obj, const char *obj_name,
		 const struct fp_knobs *k, char *err, size_t err_len)
{
	const struct {
		const char *name;
		const void *val;
		size_t len;
	} knobs[] = {
#define KNOB(f) { #f, &k->f, sizeof(k->f) }
		KNOB(sip_ports), KNOB(n_sip_ports), KNOB(unknown_dialog_drop),
		KNOB(dlg_match_mode), KNOB(rr_param), KNOB(rr_param_len),
		KNOB(max_dialog_pps), KNOB(mac_enabled), KNOB(mac_key),
		KNOB(mac_prev_enabled), KNOB(mac_key_prev),
		KNOB(invite_limit_pps), KNOB(invite_limit_burst),
		KNOB(relay_enabled), KNOB(relay_methods),
#undef KNOB
	};
	struct bpf_map *rodata = bpf_object__find_map_by_name(obj, ".rodata");
	const struct btf *btf = bpf_object__btf(obj);
	const void *init = NULL;
	unsigned char *ro;
	size_t sz = 0;
	int r = 0;

	if (rodata)
		init = bpf_map__initial_value(rodata, &sz);
	if (!btf || !init) {
		snprintf(err, err_len,
			 "xdp: BPF object %s has no .rodata knobs (or no BTF); "
			 "it is not a sipdlg program",
			 obj_name);
		return -ENOENT;
	}
	ro = malloc(sz);
	if (!ro)
		return -ENOMEM;
	memcpy(ro, init, sz);
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		__u32 off, size;

		r = rodata_find(btf, knobs[i].name, &off, &size);
		if (r) {
			snprintf(err, err_len,
				 "xdp: BPF object %s has no knob '%s' (a "
				 ".rodata global this sipdlgd sets); it was "
				 "built from other sources: rebuild it with "
				 "make, or drop --bpf-object",
				 obj_name, knobs[i].name);
			goto out;
		}
		if (size != knobs[i].len || (size_t)off + size > sz) {
			snprintf(err, err_len,
				 "xdp: knob '%s' of BPF object %s is %u bytes, "
				 "this sipdlgd writes %zu; rebuild the object "
				 "with make",
				 knobs[i].name, obj_name, size, knobs[i].len);
			r = -E2BIG;
			goto out;
		}
		memcpy(ro + off, knobs[i].val, knobs[i].len);
	}
	r = bpf_map__set_initial_value(rodata, ro, sz);
	if (r)
		snprintf(err, err_len, "xdp: cannot set the knobs of %s: %s",
			 obj_name, strerror(-r));
out:
	explicit_bzero(ro, sz);		/* it held the MAC keys */
	free(ro);
	return r;
}

void fp_knobs_fill(struct fp_knobs *k, const struct fastpath *fp,
		   const struct sipdlg_config *cfg,
		   const struct mac_state *mac)
{
	size_t len = strlen(cfg->dialog.rr_param);

	memset(k, 0, sizeof(*k));
	for (size_t i = 0; i < fp->n_ports; i++)
		k->sip_ports[i] = fp->ports[i];
	k->n_sip_ports = (__u32)fp->n_ports;
	k->unknown_dialog_drop = cfg->xdp.unknown_dialog == CFG_POLICY_DROP;
	k->dlg_match_mode = (__u32)cfg->dialog.dlg_match_mode;
	/* The config allows at most SIPDLG_RR_PARAM_MAX characters. */
	if (len > sizeof(k->rr_param))
		len = sizeof(k->rr_param);
	memcpy(k->rr_param, cfg->dialog.rr_param, len);
	k->rr_param_len = (__u32)len;
	k->max_dialog_pps = cfg->xdp.max_dialog_pps;
	k->invite_limit_pps = cfg->xdp.invite_limit_pps;
	k->invite_limit_burst = cfg->xdp.invite_limit_burst;
	/* relay.ack is the SDM_ACK bit (relay.methods never has it) */
	k->relay_enabled = cfg_relay_on(cfg);
	k->relay_methods = !k->relay_enabled ? 0 :
			   cfg->xdp.relay_methods |
				   (cfg->xdp.relay_ack ? 1u << SDM_ACK : 0);
	if (mac) {
		k->mac_enabled = 1;
		k->mac_key[0] = mac->cur[0];
		k->mac_key[1] = mac->cur[1];
		k->mac_prev_enabled = mac->has_prev;
		if (mac->has_prev) {
			k->mac_key_prev[0] = mac->prev[0];
			k->mac_key_prev[1] = mac->prev[1];
		}
	}
}
