/*
 * config_metrics.c - the metrics: section: where the Prometheus endpoint
 * listens (user/metrics/) and how many values of each profile it exports.
 *
 * The address is numeric, like every address of the config (no DNS at
 * load time), "ADDR:PORT" or "[V6]:PORT".  Absent, null or "" = no
 * endpoint.  Whether the port is free is only known when sipdlgd binds
 * it; --check cannot tell.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config/config_int.h"

void cfg_metrics_defaults(struct cfg_metrics *m)
{
	m->listen = NULL;
	m->max_values_per_profile = 100;
}

/* "ADDR:PORT" / "[V6]:PORT" into m->addr; the port is required. */
static int check_metrics_listen(struct cfg_ctx *ctx, const struct cfg_node *n,
				const struct cfg_key *k, void *base)
{
	struct cfg_metrics *m = base;
	const char *s = m->listen, *port;
	struct cfg_sipaddr a;
	char text[160], why[160];

	if (!s || !*s)
		return 0;	/* off */
	port = s[0] == '[' ? strstr(s, "]:") : strrchr(s, ':');
	if (!port || (s[0] == '[' ? port[2] : port[1]) == '\0') {
		cfg_error(ctx, n, "metrics.listen: '%s' needs a port, e.g. "
			  "\"127.0.0.1:9091\" or \"[::1]:9091\"", s);
		return -1;
	}
	if (strlen(s) + 5 > sizeof(text)) {
		cfg_error(ctx, n, "metrics.listen: '%.40s...' is too long", s);
		return -1;
	}
	/* The SIP address parser does the host and port checks; it wants a
	 * protocol, which is HTTP over TCP here. */
	snprintf(text, sizeof(text), "tcp:%s", s);
	if (cfg_parse_sipaddr(text, &a, why, sizeof(why))) {
		cfg_error(ctx, n, "metrics.listen: '%s': %s (expected "
			  "ADDR:PORT, e.g. \"127.0.0.1:9091\" or "
			  "\"[::1]:9091\")", s, why);
		return -1;
	}
	m->addr = a.addr;
	m->addr_len = a.addr_len;
	return 0;
}

#define F(f) offsetof(struct cfg_metrics, f)

static const struct cfg_key metrics_keys[] = {
	{ "listen", CFG_K_STRN, F(listen), 0, 0, NULL, check_metrics_listen,
	  NULL },
	{ "max_values_per_profile", CFG_K_U32, F(max_values_per_profile), 0,
	  10000, NULL, NULL, NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

void cfg_load_metrics(struct cfg_ctx *ctx, const struct cfg_node *n,
		      struct cfg_metrics *m)
{
	cfg_apply_map(ctx, n, "metrics", metrics_keys, m);
}
