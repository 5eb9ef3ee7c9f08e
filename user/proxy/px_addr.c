/*
 * px_addr.c - the proxy's own addresses (listen: and advertise:), "is this
 * URI us?", and turning a URI or a forward: destination into a next hop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/px_fmt.h"
#include "proxy/px_internal.h"

uint16_t px_addr_port(const struct tp_addr *a)
{
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
}

void px_ip_str(const struct tp_addr *a, char *buf, size_t len)
{
	if (a->ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&a->ss)->sin6_addr,
			  buf, (socklen_t)len);
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&a->ss)->sin_addr,
			  buf, (socklen_t)len);
}

int px_local_init(struct proxy *px, char *err, size_t err_len)
{
	const struct sipdlg_config *cfg = px->cfg;
	char adv[sizeof(((struct px_local *)0)->adv_host)] = "";
	uint16_t adv_port = 0;
	char buf[sizeof(((struct px_local *)0)->sock_name)];
	int rc;

	if (cfg->advertise && cfg->advertise[0]) {
		/* host, host:port, [v6]:port */
		const char *s = cfg->advertise, *colon;

		if (s[0] == '[') {
			const char *rb = strchr(s, ']');
			if (!rb) {
				snprintf(err, err_len,
					 "advertise: unterminated '[' in '%s'", s);
				return -EINVAL;
			}
			snprintf(adv, sizeof(adv), "%.*s", (int)(rb - s + 1), s);
			if (rb[1] == ':')
				adv_port = (uint16_t)atoi(rb + 2);
		} else if ((colon = strrchr(s, ':')) && !strchr(colon + 1, ':') &&
			   colon == strchr(s, ':')) {
			snprintf(adv, sizeof(adv), "%.*s", (int)(colon - s), s);
			adv_port = (uint16_t)atoi(colon + 1);
		} else {
			snprintf(adv, sizeof(adv), "%s", s);
		}
	}
	px->n_local = 0;
	for (size_t i = 0; i < cfg->n_listen; i++) {
		const struct cfg_listen *l = &cfg->listen[i];
		struct px_local *lo = &px->local[px->n_local++];

		lo->proto = l->proto == CFG_PROTO_TCP ? TP_TCP :
			    l->proto == CFG_PROTO_TLS ? TP_TLS : TP_UDP;
		lo->family = l->addr.ss_family;
		if (lo->family == AF_INET6)
			snprintf(lo->host, sizeof(lo->host), "[%s]", l->host);
		else
			snprintf(lo->host, sizeof(lo->host), "%s", l->host);
		lo->port = l->port;
		if (adv[0]) {
			snprintf(lo->adv_host, sizeof(lo->adv_host), "%s", adv);
			lo->adv_port = adv_port ? adv_port : l->port;
		} else {
			memcpy(lo->adv_host, lo->host, sizeof(lo->adv_host));
			lo->adv_port = l->port;
		}
		/* (through buf: gcc sees lo's own fields as a possible
		 * overlap of snprintf's source and destination) */
		snprintf(buf, sizeof(buf), "%s:%s:%u",
			 lo->proto == TP_TCP ? "tcp" :
			 lo->proto == TP_TLS ? "tls" : "udp",
			 lo->host, lo->port);
		snprintf(lo->sock_name, sizeof(lo->sock_name), "%s", buf);
		rc = snprintf(buf, sizeof(buf), "%s:%u", lo->adv_host,
			      lo->adv_port);
		lo->sentby_len = rc < 0 || (size_t)rc >= sizeof(lo->sentby) ?
					 -1 : rc;
		if (lo->sentby_len >= 0)
			memcpy(lo->sentby, buf, (size_t)rc + 1);
	}
	return 0;
}

/* Compare a URI host (IPv6 without brackets) with "[v6]" or "v4/name". */
static bool host_eq(struct sip_str host, const char *ours)
{
	size_t n = strlen(ours);

	if (n >= 2 && ours[0] == '[')
		return host.len == n - 2 && sip_mem_eqi(host.p, ours + 1, n - 2);
	return host.len == n && sip_mem_eqi(host.p, ours, n);
}

static bool hostport_is_ours(const struct proxy *px, struct sip_str host,
			     uint16_t port)
{
	for (size_t i = 0; i < px->n_local; i++) {
		const struct px_local *lo = &px->local[i];

		if (port == lo->port && host_eq(host, lo->host))
			return true;
		if (port == lo->adv_port && host_eq(host, lo->adv_host))
			return true;
	}
	return false;
}

bool px_parsed_uri_is_ours(const struct proxy *px, const struct sip_uri *u)
{
	uint16_t port;

	if (u->type != SIP_SCHEME_SIP && u->type != SIP_SCHEME_SIPS)
		return false;
	port = u->has_port ? u->port :
			     (u->type == SIP_SCHEME_SIPS ? 5061 : 5060);
	return hostport_is_ours(px, u->host, port);
}

bool px_uri_is_ours(const struct proxy *px, struct sip_str uri)
{
	struct sip_uri u;

	return sip_uri_parse(&u, uri.p, uri.len) == 0 &&
	       px_parsed_uri_is_ours(px, &u);
}

bool px_via_is_ours(const struct proxy *px, const struct sip_via *via)
{
	return hostport_is_ours(px, via->host, via->has_port ? via->port :
			   via->transport == SIP_TP_TLS ? 5061 : 5060);
}

static int resolve(struct sip_str host, enum sip_host_type type,
		   uint16_t port, struct tp_addr *out)
{
	char h[256];
	struct addrinfo hints = { 0 }, *res = NULL;
	char ps[8];
	int r;

	if (host.len == 0 || host.len >= sizeof(h))
		return -EINVAL;
	memcpy(h, host.p, host.len);
	h[host.len] = '\0';
	memset(out, 0, sizeof(*out));
	if (type == SIP_HOST_IPV4 || type == SIP_HOST_IPV6) {
		if (type == SIP_HOST_IPV6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;
			if (inet_pton(AF_INET6, h, &s6->sin6_addr) != 1)
				return -EINVAL;
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(port);
			out->len = sizeof(*s6);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;
			if (inet_pton(AF_INET, h, &s4->sin_addr) != 1)
				return -EINVAL;
			s4->sin_family = AF_INET;
			s4->sin_port = htons(port);
			out->len = sizeof(*s4);
		}
		return 0;
	}
	/* A name: /etc/hosts or DNS (RFC 3263 SRV/NAPTR are not done). */
	snprintf(ps, sizeof(ps), "%u", port);
	hints.ai_socktype = SOCK_DGRAM;
	r = getaddrinfo(h, ps, &hints, &res);
	if (r != 0 || !res)
		return -EHOSTUNREACH;
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int px_uri_target(struct sip_str uri, struct px_target *t)
{
	struct sip_uri u;

	if (sip_uri_parse(&u, uri.p, uri.len) != 0)
		return -EINVAL;
	return px_parsed_uri_target(&u, t);
}

int px_parsed_uri_target(const struct sip_uri *u, struct px_target *t)
{
	struct sip_str host;
	enum sip_host_type ht;
	uint16_t port;

	if (u->type != SIP_SCHEME_SIP && u->type != SIP_SCHEME_SIPS)
		return -EPROTONOSUPPORT;	/* tel:, other */
	/* sips: is TLS whatever ;transport says (RFC 3261 26.2.2; the
	 * deprecated sips:...;transport=tcp of RFC 5630 means TLS too). */
	t->proto = u->type == SIP_SCHEME_SIPS ? TP_TLS : TP_UDP;
	if (sip_str_present(u->transport) && t->proto != TP_TLS) {
		if (sip_str_eqi_c(u->transport, "tcp"))
			t->proto = TP_TCP;
		else if (sip_str_eqi_c(u->transport, "tls"))
			t->proto = TP_TLS;
		else if (!sip_str_eqi_c(u->transport, "udp"))
			return -EPROTONOSUPPORT;
	}
	port = u->has_port ? u->port : t->proto == TP_TLS ? 5061 : 5060;
	host = u->host;
	ht = u->host_type;
	if (sip_str_present(u->maddr) && u->maddr.len) {
		struct sip_uri mu;
		char tmp[300];
		int n = snprintf(tmp, sizeof(tmp), "sip:%.*s", (int)u->maddr.len,
				 u->maddr.p);
		/* Only to learn the host type of maddr; resolve copies it. */
		if (n > 0 && (size_t)n < sizeof(tmp) &&
		    sip_uri_parse(&mu, tmp, (size_t)n) == 0)
			ht = mu.host_type;
		host = u->maddr;
	}
	t->name[0] = '\0';
	if (ht != SIP_HOST_IPV4 && ht != SIP_HOST_IPV6 &&
	    host.len < sizeof(t->name)) {
		memcpy(t->name, host.p, host.len);
		t->name[host.len] = '\0';
	}
	return resolve(host, ht, port, &t->addr);
}

void px_target_peer(const struct px_target *t, int local_idx,
		    struct tp_peer *dst)
{
	memset(dst, 0, sizeof(*dst));
	dst->proto = t->proto;
	dst->remote = t->addr;
	dst->listen_idx = local_idx;
	if (t->proto == TP_TLS)
		memcpy(dst->tls_name, t->name, sizeof(dst->tls_name));
}

int px_dest_target(const struct route_dest *d, struct px_target *t)
{
	t->proto = d->proto == CFG_PROTO_TCP ? TP_TCP :
		   d->proto == CFG_PROTO_TLS ? TP_TLS : TP_UDP;
	memcpy(&t->addr.ss, &d->addr, sizeof(t->addr.ss));
	t->addr.len = d->addr_len;
	t->name[0] = '\0';	/* forward: is numeric (config_addr.c) */
	return 0;
}

int px_pick_local(const struct proxy *px, const struct px_target *t,
		  int in_idx)
{
	int family = t->addr.ss.ss_family;

	if (in_idx >= 0 && (size_t)in_idx < px->n_local &&
	    px->local[in_idx].proto == t->proto &&
	    px->local[in_idx].family == family)
		return in_idx;
	for (size_t i = 0; i < px->n_local; i++)
		if (px->local[i].proto == t->proto &&
		    px->local[i].family == family)
			return (int)i;
	return -1;
}

size_t px_branch(char *buf, size_t cap, const struct px_branch_dlg *bd,
		 uint32_t loop_hash, uint64_t tail)
{
	struct px_sb b = px_sb_at(buf, cap, 0);
	char he[SIPDLG_RHEX_MAX], hi[SIPDLG_RHEX_MAX];

	if (!bd) {
		px_sb_str(&b, PX_BRANCH_PLAIN);
		px_sb_hex(&b, loop_hash, 8);
		px_sb_chr(&b, '.');
	} else {
		px_sb_str(&b, SIPDLG_BRANCH_PREFIX);
		px_sb_mem(&b, he, sipdlg_rhex(bd->h_entry, he));
		px_sb_chr(&b, '.');
		px_sb_mem(&b, hi, sipdlg_rhex(bd->h_id, hi));
		px_sb_chr(&b, '.');
		px_sb_chr(&b, bd->dir ? '1' : '0');
		px_sb_hex(&b, loop_hash, 8);
	}
	px_sb_hex(&b, tail, 16);
	return b.over ? 0 : b.n;
}

static bool hex8(const char *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return false;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return true;
}

bool px_branch_loop(struct sip_str b, uint32_t *loop_hash)
{
	size_t pl = strlen(PX_BRANCH_PLAIN), i;
	int dots = 0;

	if (b.len < pl + 8 || memcmp(b.p, PX_BRANCH_OURS, pl - 1) != 0)
		return false;
	if (b.p[pl - 1] == 'x')
		return hex8(b.p + pl, loop_hash);
	if (b.p[pl - 1] != SIPDLG_BRANCH_PREFIX[pl - 1])
		return false;
	for (i = pl; i < b.len && dots < 2; i++)
		if (b.p[i] == '.')
			dots++;
	/* i is at D; LOOP follows it. */
	if (dots < 2 || i + 1 + 8 > b.len)
		return false;
	return hex8(b.p + i + 1, loop_hash);
}
