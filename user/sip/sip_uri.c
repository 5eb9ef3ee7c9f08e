// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sip_uri.c - URI parsing: sip:, sips: (RFC 3261 section 19.1), tel:
 * (RFC 3966) and a syntax check of any other absoluteURI.  The result is
 * slices into the input; escapes are validated, not decoded.
 */
#include "sip/sip_int.h"

#include <arpa/inet.h>
#include <errno.h>

#define SIP_IPV6_TEXT_MAX 45	/* INET6_ADDRSTRLEN - 1 */

const char *sip_span_esc(const char *p, const char *end, uint32_t cls)
{
	while (p < end) {
		if (sip_is(*p, cls)) {
			p++;
		} else if (*p == '%') {
			if (end - p < 3 || !sip_is(p[1], SIP_CT_HEX) ||
			    !sip_is(p[2], SIP_CT_HEX))
				return NULL;
			p += 3;
		} else {
			break;
		}
	}
	return p;
}

/* Dotted quad, each part 1..3 digits and <= 255. */
static bool ipv4_ok(const char *p, size_t len)
{
	const char *end = p + len;
	int parts = 0;

	while (p < end) {
		unsigned int v = 0, n = 0;

		for (; p < end && sip_is(*p, SIP_CT_DIGIT) && n < 4; n++)
			v = v * 10 + (unsigned int)(*p++ - '0');
		if (n == 0 || n > 3 || v > 255)
			return false;
		parts++;
		if (p == end)
			break;
		if (*p != '.' || parts == 4)
			return false;
		p++;
		if (p == end)
			return false;
	}
	return parts == 4;
}

/* IPv6 text, checked by inet_pton on a stack copy (no allocation). */
static bool ipv6_ok(const char *p, size_t len)
{
	char tmp[SIP_IPV6_TEXT_MAX + 1];
	struct in6_addr a;

	if (len < 2 || len > SIP_IPV6_TEXT_MAX)
		return false;
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	return inet_pton(AF_INET6, tmp, &a) == 1;
}

const char *sip_host_scan(const char *p, const char *end,
			  struct sip_str *host, enum sip_host_type *type)
{
	const char *q;
	bool numeric = true;

	if (p < end && *p == '[') {
		const char *rb = memchr(p + 1, ']', (size_t)(end - p - 1));

		if (!rb || !ipv6_ok(p + 1, (size_t)(rb - p - 1)))
			return NULL;
		*host = sip_str_mk(p + 1, (size_t)(rb - p - 1));
		*type = SIP_HOST_IPV6;
		return rb + 1;
	}
	for (q = p; q < end && sip_is(*q, SIP_CT_HOST); q++)
		if (!sip_is(*q, SIP_CT_DIGIT) && *q != '.')
			numeric = false;
	if (q == p || *p == '.' || *p == '-')
		return NULL;
	if (numeric && !ipv4_ok(p, (size_t)(q - p)))
		return NULL;	/* "1.2.3" is no address and no name */
	*host = sip_str_mk(p, (size_t)(q - p));
	*type = numeric ? SIP_HOST_IPV4 : SIP_HOST_DOMAIN;
	return q;
}

/*
 * ";name[=value]" pairs at p (which is at ';'), up to '?' or end.
 * Notes the well-known ones in @u.  Returns where it stopped, or NULL.
 */
static const char *uri_params(struct sip_uri *u, const char *p,
			      const char *end)
{
	while (p < end && *p == ';') {
		const char *n = ++p;
		struct sip_str name, val;

		p = sip_span_esc(p, end, SIP_CT_PARAM);
		if (!p || p == n)
			return NULL;
		name = sip_str_mk(n, (size_t)(p - n));
		val = sip_str_mk(p, 0);
		if (p < end && *p == '=') {
			const char *v = ++p;

			p = sip_span_esc(p, end, SIP_CT_PARAM);
			if (!p)
				return NULL;
			val = sip_str_mk(v, (size_t)(p - v));
		}
		if (sip_str_eqi_c(name, "transport"))
			u->transport = val;
		else if (sip_str_eqi_c(name, "maddr"))
			u->maddr = val;
		else if (sip_str_eqi_c(name, "lr"))
			u->lr = true;
		else if (sip_str_eqi_c(name, "user"))
			u->user_param = val;
	}
	return p;
}

/* "?hname=hvalue&..." at p (at '?'): returns end or NULL. */
static const char *uri_headers(const char *p, const char *end)
{
	do {
		const char *n = ++p;

		p = sip_span_esc(p, end, SIP_CT_HNV);
		if (!p || p == n)
			return NULL;
		if (p < end && *p == '=') {
			p = sip_span_esc(p + 1, end, SIP_CT_HNV);
			if (!p)
				return NULL;
		}
	} while (p < end && *p == '&');
	return p;
}

static int uri_sip(struct sip_uri *u, const char *p, const char *end)
{
	const char *at = memchr(p, '@', (size_t)(end - p));

	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		const char *uend = colon ? colon : at;

		if (uend == p || sip_span_esc(p, uend, SIP_CT_USER) != uend)
			return -EINVAL;
		u->user = sip_str_mk(p, (size_t)(uend - p));
		if (colon) {
			if (sip_span_esc(colon + 1, at, SIP_CT_PASS) != at)
				return -EINVAL;
			u->password = sip_str_mk(colon + 1,
						 (size_t)(at - colon - 1));
		}
		p = at + 1;
	}
	p = sip_host_scan(p, end, &u->host, &u->host_type);
	if (!p)
		return -EINVAL;
	if (p < end && *p == ':') {
		const char *d = sip_span(p + 1, end, SIP_CT_DIGIT);
		uint32_t port;

		if (sip_parse_u32(p + 1, (size_t)(d - p - 1), 65535, &port))
			return -EINVAL;
		u->port = (uint16_t)port;
		u->has_port = true;
		p = d;
	}
	if (p < end && *p == ';') {
		const char *s = p + 1;

		p = uri_params(u, p, end);
		if (!p)
			return -EINVAL;
		u->params = sip_str_mk(s, (size_t)(p - s));
	}
	if (p < end && *p == '?') {
		const char *s = p + 1;

		p = uri_headers(p, end);
		if (!p)
			return -EINVAL;
		u->headers = sip_str_mk(s, (size_t)(p - s));
	}
	return p == end ? 0 : -EINVAL;
}

/* tel: global "+digits" or local hex digits, "*", "#", separators. */
static int uri_tel(struct sip_uri *u, const char *p, const char *end)
{
	const char *n = p, *q;
	bool digit = false;

	if (p < end && *p == '+')
		p++;
	q = sip_span(p, end, SIP_CT_PHONE);
	for (const char *c = p; c < q; c++)
		if (sip_is(*c, SIP_CT_HEX) || *c == '*' || *c == '#')
			digit = true;
	if (!digit)
		return -EINVAL;
	u->user = sip_str_mk(n, (size_t)(q - n));
	p = q;
	if (p < end && *p == ';') {
		const char *s = p + 1;

		p = uri_params(u, p, end);
		if (!p)
			return -EINVAL;
		u->params = sip_str_mk(s, (size_t)(p - s));
	}
	return p == end ? 0 : -EINVAL;
}

int sip_uri_parse(struct sip_uri *uri, const char *s, size_t len)
{
	const char *end, *p;
	struct sip_uri u;
	int err;

	if (!s || len == 0 || !sip_is(s[0], SIP_CT_ALPHA))
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	end = s + len;
	p = s + 1;
	while (p < end && (sip_is(*p, SIP_CT_ALPHA | SIP_CT_DIGIT) ||
			   *p == '+' || *p == '-' || *p == '.'))
		p++;
	if (p == end || *p != ':')
		return -EINVAL;
	u.raw = sip_str_mk(s, len);
	u.scheme = sip_str_mk(s, (size_t)(p - s));
	p++;
	u.rest = sip_str_mk(p, (size_t)(end - p));

	if (sip_str_eqi_c(u.scheme, "sip")) {
		u.type = SIP_SCHEME_SIP;
		err = uri_sip(&u, p, end);
	} else if (sip_str_eqi_c(u.scheme, "sips")) {
		u.type = SIP_SCHEME_SIPS;
		err = uri_sip(&u, p, end);
	} else if (sip_str_eqi_c(u.scheme, "tel")) {
		u.type = SIP_SCHEME_TEL;
		err = uri_tel(&u, p, end);
	} else {
		u.type = SIP_SCHEME_OTHER;
		err = (p < end && sip_span_esc(p, end, SIP_CT_URIC) == end)
			      ? 0 : -EINVAL;
	}
	if (err)
		return err;
	*uri = u;
	return 0;
}

/*
 * Find @name in a validated list "a=1;b;c=2" separated by @sep.  The
 * list is one the URI parser accepted, so '=' and @sep are delimiters.
 */
static int uri_list_find(struct sip_str list, char sep, const char *name,
			 struct sip_str *val)
{
	const char *p = list.p, *end;
	size_t nlen = strlen(name);

	if (!p)
		return -ENOENT;
	end = p + list.len;
	while (p < end) {
		const char *e = memchr(p, sep, (size_t)(end - p));
		const char *eq;

		if (!e)
			e = end;
		eq = memchr(p, '=', (size_t)(e - p));
		if ((size_t)((eq ? eq : e) - p) == nlen &&
		    sip_mem_eqi(p, name, nlen)) {
			if (val)
				*val = eq ? sip_str_mk(eq + 1,
						       (size_t)(e - eq - 1))
					  : sip_str_mk(e, 0);
			return 0;
		}
		p = e + 1;
	}
	return -ENOENT;
}

int sip_uri_param(const struct sip_uri *uri, const char *name,
		  struct sip_str *val)
{
	return uri_list_find(uri->params, ';', name, val);
}

int sip_uri_header(const struct sip_uri *uri, const char *name,
		   struct sip_str *val)
{
	return uri_list_find(uri->headers, '&', name, val);
}
