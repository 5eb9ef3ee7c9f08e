/*
 * tp_tls_rpc.c - tls.reload over the control socket (tp_tls_rpc.h).
 * The handler runs on the control loop; building the new contexts reads
 * files there, never on a SIP worker.
 */
#include <errno.h>

#include "control/ctl_server.h"
#include "transport/tp_tls_rpc.h"
#include "transport/transport.h"

static int rpc_reload(void *ud, json_t *params, json_t **result,
		      struct ctl_error *err)
{
	char why[512];
	int r;

	if (ctl_param_count(params))
		return ctl_error_set(err, CTL_ERR_INVALID_PARAMS,
				     "tls.reload takes no parameters");
	r = tp_tls_reload(ud, why, sizeof(why));
	if (r == -ENOENT)
		return ctl_error_set(err, 404, "%s", why);
	if (r)
		return ctl_error_set(err, 500, "reload refused, the "
				     "certificates in use stay: %s", why);
	*result = json_pack("{s:b}", "reloaded", 1);
	return 0;
}

int tp_tls_rpc_register(struct ctl_server *s, struct transport *tp)
{
	return ctl_register(s, "tls.reload", rpc_reload, tp);
}
