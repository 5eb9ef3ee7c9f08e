/*
 * config_tcp.c - the tcp: section: timeouts, the connection caps and the
 * output buffer of SIP over TCP (the transport's struct tp_tcp_limits).
 *
 * The caps must fit inside each other: the outbound reserve leaves at
 * least one connection for accepted ones, and a per-source cap above what
 * accepted connections may use would never apply, so it is refused
 * rather than accepted and ignored.
 */
#include <stddef.h>
#include <stdint.h>

#include "config/config_int.h"

void cfg_tcp_defaults(struct cfg_tcp *t)
{
	t->idle_timeout_ms = 120000;
	t->connect_timeout_ms = 10000;
	t->message_timeout_ms = 10000;
	t->max_connections = 4096;
	t->max_connections_per_source = 256;
	t->reserved_outbound = 256;
	t->max_out_bytes = 256 * 1024;
}

#define F(f) offsetof(struct cfg_tcp, f)

static const struct cfg_key tcp_keys[] = {
	{ "idle_timeout_ms", CFG_K_U32, F(idle_timeout_ms), 100, 86400000,
	  NULL, NULL, NULL },
	{ "connect_timeout_ms", CFG_K_U32, F(connect_timeout_ms), 100, 600000,
	  NULL, NULL, NULL },
	{ "message_timeout_ms", CFG_K_U32, F(message_timeout_ms), 100,
	  3600000, NULL, NULL, NULL },
	{ "max_connections", CFG_K_U32, F(max_connections), 1, 1 << 20, NULL,
	  NULL, NULL },
	{ "max_connections_per_source", CFG_K_U32,
	  F(max_connections_per_source), 1, 1 << 20, NULL, NULL, NULL },
	{ "reserved_outbound", CFG_K_U32, F(reserved_outbound), 0, 1 << 20,
	  NULL, NULL, NULL },
	{ "max_out_bytes", CFG_K_U32, F(max_out_bytes), 65536, 1 << 30, NULL,
	  NULL, NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

void cfg_load_tcp(struct cfg_ctx *ctx, const struct cfg_node *n,
		  struct cfg_tcp *t)
{
	const struct cfg_node *at;
	uint32_t inbound;

	cfg_apply_map(ctx, n, "tcp", tcp_keys, t);
	if (t->reserved_outbound >= t->max_connections) {
		at = cfg_map_get(n, "reserved_outbound");
		cfg_error(ctx, at ? at : n, "reserved_outbound: %u leaves no "
			  "connection of max_connections (%u) for clients; "
			  "it must be less", t->reserved_outbound,
			  t->max_connections);
		return;
	}
	inbound = t->max_connections - t->reserved_outbound;
	if (t->max_connections_per_source > inbound) {
		at = cfg_map_get(n, "max_connections_per_source");
		cfg_error(ctx, at ? at : n, "max_connections_per_source: %u is "
			  "more than the %u connections clients may open "
			  "(max_connections - reserved_outbound), so it would "
			  "never apply", t->max_connections_per_source,
			  inbound);
	}
}
