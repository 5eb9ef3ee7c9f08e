/*
 * px_hop.c - where the proxy would send an in-dialog request towards one
 * leg, for the kernel relay (user/fastpath/fp_relay.c): the same choice
 * route_prepare()/route_next_hop()/px_pick_local() of px_request.c make
 * for a request carrying that leg's route set, restricted to what a
 * packet rewrite can do: a loose-routing next hop given by an IP address
 * over UDP.  A name (DNS), sips:, TCP, maddr or a strict router are
 * refused, so the kernel leaves that direction to the controller.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proxy/px_internal.h"

/* The URI of the next entry "<...>" of @rs at *pos, or absent. */
static struct sip_str next_entry(const char *rs, size_t *pos)
{
	const char *lt = strchr(rs + *pos, '<'), *gt;

	if (!lt || !(gt = strchr(lt, '>')))
		return SIP_STR_NULL;
	*pos = (size_t)(gt + 1 - rs);
	return sip_str_mk(lt + 1, (size_t)(gt - lt - 1));
}

/* The index of our socket named "udp:HOST:PORT" as the dialog keeps it
 * (dlg_proxy.c sock_str), or -1. */
static int local_index(const struct proxy *px, const char *sock)
{
	for (size_t i = 0; sock && i < px->n_local; i++) {
		if (strcmp(px->local[i].sock_name, sock) == 0)
			return (int)i;
	}
	return -1;
}

int proxy_hop_resolve(const struct proxy *px, const char *route_set,
		      const char *target, const char *in_socket,
		      struct proxy_hop *out)
{
	struct sip_str uri = SIP_STR_NULL;
	struct px_target t;
	struct sip_uri u;
	size_t pos = 0;
	int idx, rc;

	memset(out, 0, sizeof(*out));
	/* An entry of ours in the set (a spiral through us) would stay in
	 * the Route the kernel forwards: leave such dialogs alone. */
	/* Each URI parsed once here, the parse shared by the "ours" test
	 * and the target (this runs for both directions of every dialog
	 * the kernel relays in). */
	if (route_set && route_set[0])
		uri = next_entry(route_set, &pos);
	if (uri.p) {
		if (sip_uri_parse(&u, uri.p, uri.len) != 0)
			return -EINVAL;
		if (px_parsed_uri_is_ours(px, &u))
			return -ELOOP;
		if (!u.lr)
			return -EPROTONOSUPPORT;	/* strict router */
	} else {
		if (!target || !target[0])
			return -EINVAL;
		uri = sip_str_c(target);
		if (sip_uri_parse(&u, uri.p, uri.len) != 0)
			return -EINVAL;
		if (px_parsed_uri_is_ours(px, &u))
			return -ELOOP;			/* addressed to us */
	}
	if (u.type != SIP_SCHEME_SIP || sip_str_present(u.maddr) ||
	    (sip_str_present(u.transport) &&
	     !sip_str_eqi_c(u.transport, "udp")))
		return -EPROTONOSUPPORT;
	if (u.host_type != SIP_HOST_IPV4 && u.host_type != SIP_HOST_IPV6)
		return -EHOSTUNREACH;		/* a name: DNS is not done */
	rc = px_parsed_uri_target(&u, &t);
	if (rc)
		return rc;
	if (t.proto != TP_UDP)
		return -EPROTONOSUPPORT;
	idx = px_pick_local(px, &t, local_index(px, in_socket));
	if (idx < 0)
		return -ENOENT;
	out->dst = t.addr.ss;
	out->local_idx = idx;
	memcpy(&out->src, &px->cfg->listen[idx].addr,
	       px->cfg->listen[idx].addr_len);
	rc = px->local[idx].sentby_len;
	if (rc < 0 || (size_t)rc >= sizeof(out->sentby))
		return -E2BIG;
	memcpy(out->sentby, px->local[idx].sentby, (size_t)rc + 1);
	out->sentby_len = (size_t)rc;
	out->sport = px->local[idx].port;
	return 0;
}
