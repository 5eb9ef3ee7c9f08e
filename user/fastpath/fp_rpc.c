/*
 * fp_rpc.c - the xdp.status control method: where the program is attached,
 * how, and what its per-reason counters say.
 */
#define LOG_TAG "fastpath"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "control/ctl_server.h"
#include "core/log.h"
#include "fastpath/fastpath.h"
#include "fastpath/fp_dialogs.h"
#include "fastpath/fp_kmaps.h"
#include "fastpath/fp_relay.h"
#include "fastpath/fp_rpc.h"
#include <time.h>

struct fp_rpc {
	struct fastpath *fp;		/* NULL when xdp.enabled is false */
	const struct sipdlg_config *cfg;
};

static json_t *counters_json(const struct fastpath *fp)
{
	json_t *obj = json_object();

	for (unsigned r = 0; r < SDR_MAX_; r++) {
		struct sipdlg_counter c;

		if (fp_read_counter(fp, r, &c) != 0)
			continue;
		json_object_set_new(obj, fp_reason_name(r),
				    json_pack("{s:I,s:I}", "packets",
					      (json_int_t)c.packets, "bytes",
					      (json_int_t)c.bytes));
	}
	return obj;
}

/* The kernel maps: how full, which dialogs are not in them, why. */
static json_t *maps_json(struct fastpath *fp)
{
	struct fp_kmaps_info in;
	json_t *keys = json_array();
	char id[32];

	fp_kmaps_info(fp, &in);
	for (size_t i = 0; i < in.n_keys; i++) {
		snprintf(id, sizeof(id), "%u:%u", in.keys[i].h_entry,
			 in.keys[i].h_id);
		json_array_append_new(keys, json_string(id));
	}
	return json_pack(
		"{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:b,s:{s:I,s:I,s:I},s:I}",
		"dialogs", (json_int_t)in.in_kernel, "capacity",
		(json_int_t)in.capacity, "not_in_kernel",
		(json_int_t)in.not_in_kernel, "in_overflow",
		(json_int_t)in.in_overflow, "overflow_capacity",
		(json_int_t)in.overflow_capacity, "unlisted",
		(json_int_t)in.lost, "callids_missing",
		(json_int_t)in.no_callid, "not_in_kernel_ids", keys,
		"degraded", (int)in.degraded, "insert_failed", "dialogs",
		(json_int_t)in.dialogs_failed, "overflow",
		(json_int_t)in.overflow_failed, "callids",
		(json_int_t)in.callids_failed, "moved_in",
		(json_int_t)in.moved_in);
}

/* The MAC's state, never its keys. */
static json_t *cookie_mac_json(struct fastpath *fp)
{
	struct fp_mac_info mi;

	if (fp_mac_info(fp, &mi) != 0)
		return json_pack("{s:b}", "enabled", 0);
	return json_pack("{s:b,s:s,s:I,s:b,s:I}", "enabled", 1, "key_file",
			 mi.key_file, "generation", (json_int_t)mi.generation,
			 "previous_key", mi.previous_key, "rotations",
			 (json_int_t)mi.rotations);
}

/* xdp.relay: on or off, what it relays, the next-hop map. */
static json_t *relay_json(struct fastpath *fp)
{
	static const char *const names[SDM_MAX_] = {
		[SDM_OPTIONS] = "OPTIONS", [SDM_INFO] = "INFO",
		[SDM_UPDATE] = "UPDATE", [SDM_NOTIFY] = "NOTIFY",
		[SDM_MESSAGE] = "MESSAGE",
	};
	struct fp_relay_info ri;
	json_t *methods = json_array();

	fp_relay_info(fp, &ri);
	for (int m = 0; m < SDM_MAX_; m++)
		if (ri.enabled && (ri.methods & (1u << m)) && names[m])
			json_array_append_new(methods, json_string(names[m]));
	return json_pack("{s:b,s:o,s:b,s:I,s:I,s:I,s:I,s:I}", "enabled",
			 (int)ri.enabled, "methods", methods, "ack",
			 (int)ri.ack, "dialogs",
			 (json_int_t)ri.entries, "hops_written",
			 (json_int_t)ri.written, "hops_removed",
			 (json_int_t)ri.removed, "directions_not_relayed",
			 (json_int_t)ri.dirs_unrelayed, "write_failed",
			 (json_int_t)ri.write_failed);
}

static bool no_params(const json_t *params)
{
	return !params ||
	       (json_is_array(params) && json_array_size(params) == 0) ||
	       (json_is_object(params) && json_object_size(params) == 0);
}

/* xdp.rotate_key: a new cookie MAC key, the program reloaded with it. */
static int xdp_rotate_key(void *ud, json_t *params, json_t **result,
			  struct ctl_error *err)
{
	struct fp_rpc *ctx = ud;
	struct fp_rotation rot;
	int r;

	if (!no_params(params)) {
		err->code = -32602;
		snprintf(err->message, sizeof(err->message),
			 "xdp.rotate_key takes no parameters");
		return -EINVAL;
	}
	if (!ctx->fp) {
		err->code = -32000;
		snprintf(err->message, sizeof(err->message),
			 "the XDP fast path is off (xdp.enabled: false)");
		return -EOPNOTSUPP;
	}
	r = fp_rotate_key(ctx->fp, &rot, err->message, sizeof(err->message));
	if (r) {
		log_warn("xdp.rotate_key failed, nothing changed: %s",
			 err->message);
		err->code = -32000;
		return r;
	}
	*result = json_pack("{s:I,s:I,s:I}", "generation",
			    (json_int_t)rot.generation, "program_id",
			    (json_int_t)rot.prog_id, "dialogs_tight_matched",
			    (json_int_t)rot.nomac);
	return 0;
}

static int xdp_status(void *ud, json_t *params, json_t **result,
		      struct ctl_error *err)
{
	struct fp_rpc *ctx = ud;
	const struct sipdlg_config *cfg = ctx->cfg;
	json_t *res, *ifs, *ports;

	if (params && !(json_is_array(params) && json_array_size(params) == 0) &&
	    !(json_is_object(params) && json_object_size(params) == 0)) {
		err->code = -32602;
		snprintf(err->message, sizeof(err->message),
			 "xdp.status takes no parameters");
		return -EINVAL;
	}
	res = json_object();
	json_object_set_new(res, "enabled", json_boolean(ctx->fp != NULL));
	json_object_set_new(res, "pin_path", json_string(cfg->xdp.pin_path));
	json_object_set_new(res, "unknown_dialog",
			    json_string(cfg->xdp.unknown_dialog ==
						CFG_POLICY_DROP ?
					"drop" :
					"pass"));
	if (!ctx->fp) {
		*result = res;
		return 0;
	}
	ports = json_array();
	{
		uint16_t p[SIPDLG_MAX_SIP_PORTS];
		size_t n = fp_sip_ports(ctx->fp, p, SIPDLG_MAX_SIP_PORTS);

		for (size_t i = 0; i < n && i < SIPDLG_MAX_SIP_PORTS; i++)
			json_array_append_new(ports, json_integer(p[i]));
	}
	json_object_set_new(res, "sip_ports", ports);
	json_object_set_new(res, "program",
			    json_pack("{s:I,s:s}", "id",
				      (json_int_t)fp_prog_id(ctx->fp), "name",
				      "sipdlg_xdp"));
	ifs = json_array();
	for (size_t i = 0; i < fp_iface_count(ctx->fp); i++) {
		struct fp_iface_info info;

		if (fp_iface_get(ctx->fp, i, &info) != 0)
			continue;
		json_array_append_new(ifs,
				      json_pack("{s:s,s:i,s:s,s:I}", "ifname",
						info.ifname, "ifindex",
						info.ifindex, "mode", info.mode,
						"link_id",
						(json_int_t)info.link_id));
	}
	json_object_set_new(res, "interfaces", ifs);
	json_object_set_new(res, "maps", maps_json(ctx->fp));
	json_object_set_new(res, "cookie_mac", cookie_mac_json(ctx->fp));
	json_object_set_new(res, "relay", relay_json(ctx->fp));
	json_object_set_new(res, "counters", counters_json(ctx->fp));
	*result = res;
	return 0;
}

static const char *const method_names[SDM_MAX_] = {
	"other", "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO",
	"UPDATE", "PRACK", "REFER", "NOTIFY", "MESSAGE",
};

json_t *fp_rpc_dialog_json(uint32_t h_entry, uint32_t h_id, void *ud)
{
	struct sipdlg_dlg_value v;
	json_t *o, *dirs, *methods;
	struct timespec ts;
	uint64_t now;

	if (!ud || fp_dialog_read(ud, h_entry, h_id, &v) != 0)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	dirs = json_array();
	for (int d = 0; d < 2; d++)
		json_array_append_new(
			dirs, json_pack("{s:s,s:I,s:I,s:I,s:I}", "direction",
					d == 0 ? "caller_to_callee" :
						 "callee_to_caller",
					"packets", (json_int_t)v.dir[d].packets,
					"bytes", (json_int_t)v.dir[d].bytes,
					"cseq_max", (json_int_t)v.dir[d].cseq_max,
					"replies", (json_int_t)v.dir[d].replies));
	methods = json_object();
	for (int m = 0; m < SDM_MAX_; m++)
		if (v.methods[m])
			json_object_set_new(methods, method_names[m],
					    json_integer(v.methods[m]));
	o = json_pack("{s:o,s:o,s:I,s:i,s:i,s:i}", "traffic", dirs, "methods",
		      methods, "idle_ms",
		      v.last_seen_ns && now > v.last_seen_ns ?
			      (json_int_t)((now - v.last_seen_ns) / 1000000u) :
			      (json_int_t)-1,
		      "bye_seen", (int)v.bye_seen, "mismatches",
		      (int)v.mismatches, "rate_limited", (int)v.rate_limited);
	/* Where the kernel relays this dialog's requests (null: it does
	 * not relay that way). */
	{
		struct sipdlg_relay_hops h;
		json_t *r = json_null();

		if (fp_relay_read(ud, h_entry, h_id, &h) == 0) {
			char a[64], b[64];

			r = json_object();
			json_object_set_new(r, "caller_to_callee",
				fp_relay_hop_str(&h.dir[0], a, sizeof(a)) ?
					json_string(a) : json_null());
			json_object_set_new(r, "callee_to_caller",
				fp_relay_hop_str(&h.dir[1], b, sizeof(b)) ?
					json_string(b) : json_null());
		}
		json_object_set_new(o, "relay", r);
	}
	return o;
}

int fp_rpc_register(struct ctl_server *srv, struct fastpath *fp,
		    const struct sipdlg_config *cfg)
{
	struct fp_rpc *x = calloc(1, sizeof(*x));	/* the server's */
	int r;

	if (!x)
		return -ENOMEM;
	x->fp = fp;
	x->cfg = cfg;
	r = ctl_server_keep(srv, x);
	if (r) {
		free(x);
		return r;
	}
	r = ctl_register(srv, "xdp.status", xdp_status, x);
	if (!r)
		r = ctl_register(srv, "xdp.rotate_key", xdp_rotate_key, x);
	return r;
}
