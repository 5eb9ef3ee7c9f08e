/*
 * config_invite_limit.c - xdp.invite_limit: { per_source_pps, burst },
 * the per-source limit on initial INVITEs (issue 16).  The XDP program
 * applies it to UDP (bpf/sip_invite_limit.h), the proxy to TCP and TLS
 * (proxy/px_invite_rate.c): both need the values checked the same way.
 *
 *   per_source_pps  0..1000000, 0 (the default) = off
 *   burst           1..1000000, required when per_source_pps is above 0
 */
#include <errno.h>
#include <stddef.h>

#include "config/config_int.h"

#define IRL_MAX 1000000

static const struct cfg_key invite_limit_keys[] = {
	{ "per_source_pps", CFG_K_U32,
	  offsetof(struct cfg_xdp, invite_limit_pps), 0, IRL_MAX, NULL, NULL,
	  NULL },
	{ "burst", CFG_K_U32, offsetof(struct cfg_xdp, invite_limit_burst), 0,
	  IRL_MAX, NULL, NULL, NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

int cfg_load_invite_limit(struct cfg_ctx *ctx, const struct cfg_node *n,
			  const struct cfg_key *k, void *base)
{
	struct cfg_xdp *x = base;
	const struct cfg_node *b;
	size_t before = ctx->n_msgs;

	ctx->invite_limit_node = n;
	cfg_apply_map(ctx, n, "xdp.invite_limit", invite_limit_keys, base);
	if (ctx->n_msgs != before || !x->invite_limit_pps)
		return 0;
	if (x->invite_limit_burst == 0) {
		b = cfg_map_get(n, "burst");
		if (b)
			cfg_error(ctx, b, "burst: must be at least 1 when "
				  "per_source_pps is above 0");
		else
			cfg_error(ctx, n, "invite_limit: burst is missing: "
				  "with per_source_pps above 0 give the "
				  "bucket depth (1..%d INVITEs)", IRL_MAX);
		return -EINVAL;
	}
	return 0;
}

/* The limit is applied by the XDP program: refused without it. */
void cfg_invite_limit_check(struct cfg_ctx *ctx,
			    const struct sipdlg_config *cfg)
{
	if (!ctx->invite_limit_node || !cfg->xdp.invite_limit_pps)
		return;
	if (!cfg->xdp.enabled)
		cfg_error(ctx, ctx->invite_limit_node, "invite_limit: the "
			  "limit on UDP runs in the XDP program, but "
			  "xdp.enabled is false; remove invite_limit or "
			  "enable XDP");
}
