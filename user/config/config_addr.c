/*
 * config_addr.c - addresses in the config: listen: entries and forward:
 * destinations ("udp:ADDR:PORT", IPv6 in brackets), source: CIDRs and the
 * advertise: host[:port].
 *
 * Addresses are numeric on purpose (inet_pton, no DNS): the config must
 * load the same way with or without a resolver, and --check must not wait
 * on the network.  Each parser writes a reason a person can act on into
 * @why and returns -EINVAL, so the caller adds FILE:LINE:COL and the key.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_int.h"

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), -EINVAL)

/* A port: 1..65535, digits only. */
static int parse_port(const char *s, uint16_t *out, char *why,
		      size_t why_size)
{
	unsigned long v;
	char *end;

	if (*s == '\0')
		return WHY("the port is empty");
	if (*s < '0' || *s > '9')
		return WHY("port '%s' is not a number", s);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0')
		return WHY("port '%s' is not a number", s);
	if (errno == ERANGE || v == 0 || v > 65535)
		return WHY("port %s is out of range 1..65535", s);
	*out = (uint16_t)v;
	return 0;
}

/*
 * Split "HOST:PORT" or "[V6]:PORT" at the port.  @host gets the host
 * without brackets; *v6 tells whether brackets were used.  @port_req:
 * whether a missing port is an error (else *port stays 0).
 */
static int split_hostport(const char *s, char *host, size_t host_size,
			  uint16_t *port, bool *v6, bool port_req, char *why,
			  size_t why_size)
{
	const char *colon, *hend;
	size_t hlen;

	*v6 = false;
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close)
			return WHY("unterminated '[' in '%s'", s);
		*v6 = true;
		hlen = (size_t)(close - s - 1);
		s++;
		hend = close + 1;
		if (*hend != '\0' && *hend != ':')
			return WHY("unexpected '%s' after ']'", hend);
		colon = *hend == ':' ? hend : NULL;
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			return WHY("IPv6 addresses need brackets, e.g. "
				   "[::1]:5060");
		hlen = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (hlen == 0)
		return WHY("the address is empty");
	if (hlen >= host_size)
		return WHY("the address is longer than %zu characters",
			   host_size - 1);
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	*port = 0;
	if (!colon)
		return port_req ? WHY("missing port, e.g. udp:127.0.0.1:5060")
				: 0;
	return parse_port(colon + 1, port, why, why_size);
}

int cfg_parse_sipaddr(const char *s, struct cfg_sipaddr *out, char *why,
		      size_t why_size)
{
	struct cfg_sipaddr a = { 0 };
	const char *rest = strchr(s, ':');
	size_t plen = rest ? (size_t)(rest - s) : 0;
	bool v6;
	int err;

	if (plen == 3 && strncasecmp(s, "udp", 3) == 0)
		a.proto = CFG_PROTO_UDP;
	else if (plen == 3 && strncasecmp(s, "tcp", 3) == 0)
		a.proto = CFG_PROTO_TCP;
	else if (plen == 3 && strncasecmp(s, "tls", 3) == 0)
		a.proto = CFG_PROTO_TLS;
	else if (plen && strspn(s, "abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == plen)
		return WHY("unknown protocol '%.*s' (use udp, tcp or tls)",
			   (int)plen, s);
	else
		return WHY("'%s' needs a protocol: udp:ADDR:PORT or "
			   "tcp:ADDR:PORT", s);
	err = split_hostport(rest + 1, a.host, sizeof(a.host), &a.port, &v6,
			     true, why, why_size);
	if (err)
		return err;
	if (v6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a.addr;

		if (inet_pton(AF_INET6, a.host, &sin6->sin6_addr) != 1)
			return WHY("'%s' is not an IPv6 address", a.host);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(a.port);
		a.addr_len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&a.addr;

		if (inet_pton(AF_INET, a.host, &sin->sin_addr) != 1)
			return WHY("'%s' is not a numeric IPv4 address (names "
				   "are not resolved)", a.host);
		sin->sin_family = AF_INET;
		sin->sin_port = htons(a.port);
		a.addr_len = sizeof(*sin);
	}
	*out = a;
	return 0;
}

/* Zero the bits past @prefix; tell whether any was set. */
static bool clear_host_bits(uint8_t *addr, unsigned bytes, unsigned prefix)
{
	bool had = false;

	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = prefix >= 8 * (i + 1) ? 8
				: prefix > 8 * i ? prefix - 8 * i : 0;
		uint8_t mask = keep ? (uint8_t)(0xff << (8 - keep)) : 0;

		if (addr[i] & ~mask)
			had = true;
		addr[i] &= mask;
	}
	return had;
}

int cfg_parse_cidr(const char *s, struct route_cidr *out, char *why,
		   size_t why_size)
{
	struct route_cidr c = { 0 };
	char host[64];
	const char *slash = strrchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max;

	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
		s++;
		hlen -= 2;
	}
	if (hlen == 0)
		return WHY("the address is empty");
	if (hlen >= sizeof(host))
		return WHY("'%s' is too long for an address", s);
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, c.addr) == 1) {
		c.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, c.addr) == 1) {
		c.family = AF_INET6;
		max = 128;
	} else {
		return WHY("'%s' is not a numeric IP address", host);
	}
	c.prefix = (uint8_t)max;
	if (slash) {
		char *end;
		unsigned long p;

		if (slash[1] < '0' || slash[1] > '9')
			return WHY("prefix '/%s' is not a number", slash + 1);
		p = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || p > max)
			return WHY("prefix '/%s' is out of range 0..%u",
				   slash + 1, max);
		c.prefix = (uint8_t)p;
	}
	if (clear_host_bits(c.addr, max / 8, c.prefix)) {
		char net[INET6_ADDRSTRLEN];

		inet_ntop(c.family, c.addr, net, sizeof(net));
		return WHY("'%s/%u' has host bits set (did you mean %s/%u?)",
			   host, c.prefix, net, c.prefix);
	}
	*out = c;
	return 0;
}

int cfg_check_hostport(const char *s, char *why, size_t why_size)
{
	char host[256];
	uint16_t port;
	bool v6;
	int err;

	err = split_hostport(s, host, sizeof(host), &port, &v6, false, why,
			     why_size);
	if (err)
		return err;
	if (v6) {
		struct in6_addr a6;

		if (inet_pton(AF_INET6, host, &a6) != 1)
			return WHY("'%s' is not an IPv6 address", host);
		return 0;
	}
	for (const char *p = host; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			return WHY("'%s' is not a host name or address", host);
	}
	return 0;
}

/* One listen: item. */
static void load_listen_item(struct cfg_ctx *ctx, const struct cfg_node *n,
			     struct sipdlg_config *cfg, size_t *count)
{
	struct cfg_sipaddr a;
	const char *s;
	char why[160];

	if (cfg_get_text(ctx, n, "listen", &s))
		return;
	if (cfg_parse_sipaddr(s, &a, why, sizeof(why))) {
		cfg_error(ctx, n, "listen: %s", why);
		return;
	}
	for (size_t i = 0; i < *count; i++) {
		const struct cfg_listen *l = &cfg->listen[i];

		if ((int)l->proto == a.proto && l->port == a.port &&
		    l->addr_len == a.addr_len &&
		    memcmp(&l->addr, &a.addr, a.addr_len) == 0) {
			cfg_error(ctx, n, "listen: '%s' is listed twice", s);
			return;
		}
		/* TCP and TLS are both TCP sockets: one port each. */
		if ((int)l->proto != a.proto && l->proto != CFG_PROTO_UDP &&
		    a.proto != CFG_PROTO_UDP && l->port == a.port &&
		    l->addr_len == a.addr_len &&
		    memcmp(&l->addr, &a.addr, a.addr_len) == 0) {
			cfg_error(ctx, n, "listen: '%s' takes the TCP port of "
				  "another entry (tcp: and tls: need ports of "
				  "their own)", s);
			return;
		}
	}
	if (*count == CFG_MAX_LISTEN) {
		cfg_error(ctx, n, "listen: at most %d addresses",
			  CFG_MAX_LISTEN);
		return;
	}
	cfg->listen[*count] = (struct cfg_listen){
		.proto = (enum cfg_proto)a.proto, .port = a.port,
		.addr = a.addr, .addr_len = a.addr_len,
	};
	memcpy(cfg->listen[*count].host, a.host, sizeof(a.host));
	(*count)++;
	if (a.proto == CFG_PROTO_TLS && !ctx->tls_listen_node)
		ctx->tls_listen_node = n;
}

/* listen: a list of "udp:ADDR:PORT", or one such string. */
void cfg_load_listen(struct cfg_ctx *ctx, const struct cfg_node *n,
		     struct sipdlg_config *cfg)
{
	size_t count = 0;

	if (cfg_is_null(n))
		return;	/* keep the defaults */
	if (n->type == CFG_NODE_SCALAR) {
		load_listen_item(ctx, n, cfg, &count);
	} else if (!cfg_expect_seq(ctx, n, "listen",
				   "[\"udp:127.0.0.1:5060\"]")) {
		if (n->n_kids == 0)
			cfg_error(ctx, n, "listen: needs at least one address");
		for (size_t i = 0; i < n->n_kids; i++)
			load_listen_item(ctx, n->kids[i], cfg, &count);
	}
	/* Entries went in from 0 up; the defaults past them are dropped. */
	if (count)
		cfg->n_listen = count;
}
