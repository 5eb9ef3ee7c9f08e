/*
 * fp_rpc.c - the xdp.status control method: where the program is attached,
 * how, and what its per-reason counters say.
 */
#define LOG_TAG "fastpath"

#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "control/ctl_server.h"
#include "fastpath/fastpath.h"
#include "fastpath/fp_rpc.h"

struct fp_rpc {
	struct fastpath *fp;		/* NULL when xdp.enabled is false */
	const struct sipdlg_config *cfg;
};

static struct fp_rpc rpc_ctx;	/* one daemon, one fast path */

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
	json_object_set_new(res, "counters", counters_json(ctx->fp));
	*result = res;
	return 0;
}

int fp_rpc_register(struct ctl_server *srv, struct fastpath *fp,
		    const struct sipdlg_config *cfg)
{
	rpc_ctx.fp = fp;
	rpc_ctx.cfg = cfg;
	return ctl_register(srv, "xdp.status", xdp_status, &rpc_ctx);
}
