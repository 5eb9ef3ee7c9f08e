/*
 * tp_addr.c - socket address helpers of the transport: compare, hash,
 * port access, and the "udp:1.2.3.4:5060" / "tcp:[::1]:5060" form used in
 * messages and by tp_peer_str().
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "transport/tp_int.h"

bool tp_addr_equal(const struct tp_addr *a, const struct tp_addr *b)
{
	const struct sockaddr_in *a4, *b4;
	const struct sockaddr_in6 *a6, *b6;

	if (a->ss.ss_family != b->ss.ss_family)
		return false;
	switch (a->ss.ss_family) {
	case AF_INET:
		a4 = (const struct sockaddr_in *)&a->ss;
		b4 = (const struct sockaddr_in *)&b->ss;
		return a4->sin_port == b4->sin_port &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	case AF_INET6:
		a6 = (const struct sockaddr_in6 *)&a->ss;
		b6 = (const struct sockaddr_in6 *)&b->ss;
		return a6->sin6_port == b6->sin6_port &&
		       a6->sin6_scope_id == b6->sin6_scope_id &&
		       memcmp(&a6->sin6_addr, &b6->sin6_addr,
			      sizeof(a6->sin6_addr)) == 0;
	default:
		return false;
	}
}

/* FNV-1a over the address bytes and the port. */
static uint32_t fnv1a(uint32_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h;
}

uint32_t tp_addr_hash(const struct tp_addr *a)
{
	uint32_t h = 2166136261u;

	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)&a->ss;

		h = fnv1a(h, &s->sin_addr, sizeof(s->sin_addr));
		h = fnv1a(h, &s->sin_port, sizeof(s->sin_port));
	} else if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s =
			(const struct sockaddr_in6 *)&a->ss;

		h = fnv1a(h, &s->sin6_addr, sizeof(s->sin6_addr));
		h = fnv1a(h, &s->sin6_port, sizeof(s->sin6_port));
	}
	return h;
}

uint16_t tp_addr_port(const struct tp_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return 0;
}

void tp_addr_set_port(struct tp_addr *a, uint16_t port)
{
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
	else if (a->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
}

bool tp_addr_is_any(const struct tp_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ((const struct sockaddr_in *)&a->ss)->sin_addr.s_addr ==
		       htonl(INADDR_ANY);
	if (a->ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(
			&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
	return true;
}

const char *tp_addr_str(enum tp_proto proto, const struct tp_addr *a,
			char *buf, size_t len)
{
	const char *p = proto == TP_TCP ? "tcp" : proto == TP_UDP ? "udp" :
			proto == TP_TLS ? "tls" : "?";
	char host[INET6_ADDRSTRLEN];

	if (!len)
		return buf;
	if (a->ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&a->ss)->sin_addr,
			  host, sizeof(host));
		snprintf(buf, len, "%s:%s:%u", p, host, tp_addr_port(a));
	} else if (a->ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)&a->ss)->sin6_addr,
			  host, sizeof(host));
		snprintf(buf, len, "%s:[%s]:%u", p, host, tp_addr_port(a));
	} else {
		snprintf(buf, len, "%s:?", p);
	}
	return buf;
}

const char *tp_peer_str(const struct tp_peer *p, char *buf, size_t len)
{
	return tp_addr_str(p->proto, &p->remote, buf, len);
}

int tp_listen_find(const struct transport *tp, enum tp_proto proto,
		   int family)
{
	for (size_t i = 0; i < tp->n_listen; i++)
		if (tp->listen[i].proto == proto &&
		    tp->listen[i].addr.ss.ss_family == family)
			return (int)i;
	return -1;
}
