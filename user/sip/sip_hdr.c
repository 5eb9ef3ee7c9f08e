// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sip_hdr.c - parsers for header values: list splitting, header
 * parameters, name-addr/addr-spec (From, To, Contact, Route,
 * Record-Route), Via; header and value iteration over a parsed message.
 *
 * Values may contain folds (CRLF SP); every parser treats CR and LF inside
 * a value as linear white space.  Outputs are slices of the input and are
 * written only on success.
 */
#include "sip/sip_int.h"

#include <errno.h>

int sip_parse_u32(const char *p, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return -EINVAL;
	while (len > 1 && *p == '0') {	/* "0068" is 68 */
		p++;
		len--;
	}
	if (len > 10)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!sip_is(p[i], SIP_CT_DIGIT))
			return -EINVAL;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/*
 * Does @v hold a NUL?  Only a quoted-pair in a quoted-string can bring
 * one past the parser; the tag, branch, received and maddr values are
 * tokens or hosts (RFC 3261 20.20, 20.42), matched and stored as
 * identifiers, so a quoted one holding a NUL makes the header malformed.
 */
static bool has_nul(struct sip_str v)
{
	return v.len && memchr(v.p, '\0', v.len);
}

const char *sip_quoted_end(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '"')
			return p + 1;
		if (*p == '\\' && ++p == end)	/* quoted-pair */
			return NULL;
	}
	return NULL;
}

int sip_hparam_next(const char **pp, const char *end, struct sip_str *name,
		    struct sip_str *value)
{
	const char *p = sip_skip_lws(*pp, end), *n, *q;

	if (p == end || *p != ';') {
		*pp = p;
		return 0;
	}
	n = sip_skip_lws(p + 1, end);
	p = sip_span(n, end, SIP_CT_TOKEN);
	if (p == n)
		return -EINVAL;
	*name = sip_str_mk(n, (size_t)(p - n));
	*value = sip_str_mk(p, 0);
	q = sip_skip_lws(p, end);
	if (q < end && *q == '=') {
		const char *v = sip_skip_lws(q + 1, end);

		if (v < end && *v == '"') {
			p = sip_quoted_end(v, end);
			if (!p)
				return -EINVAL;
		} else {
			p = sip_span(v, end, SIP_CT_PVAL);
			if (p == v)
				return -EINVAL;
		}
		*value = sip_str_mk(v, (size_t)(p - v));
	}
	*pp = p;
	return 1;
}

int sip_param_find(struct sip_str params, const char *name,
		   struct sip_str *val)
{
	const char *p = params.p, *end;
	struct sip_str n, v;

	if (!p)
		return -ENOENT;
	end = p + params.len;
	while (sip_hparam_next(&p, end, &n, &v) == 1) {
		if (sip_str_eqi_c(n, name)) {
			if (val)
				*val = v;
			return 0;
		}
	}
	return -ENOENT;
}

int sip_list_split(struct sip_str *rest, struct sip_str *val,
		   enum sip_error *why)
{
	const char *p = rest->p, *end, *s;

	if (!p)
		return 0;
	end = p + rest->len;
	while (p < end && (sip_is(*p, SIP_CT_LWS) || *p == ','))
		p++;	/* leading LWS and empty elements */
	if (p == end) {
		*rest = sip_str_mk(end, 0);
		return 0;
	}
	s = p;
	for (;;) {
		const char *q;

		p = sip_span_not(p, end, SIP_CT_LSEP);
		if (p == end || *p == ',')
			break;
		if (*p == '"') {
			q = sip_quoted_end(p, end);
			if (!q) {
				*why = SIP_ERR_UNTERMINATED_QUOTE;
				return -EBADMSG;
			}
			p = q;
		} else if (*p == '<') {
			q = memchr(p + 1, '>', (size_t)(end - p - 1));
			if (!q) {
				*why = SIP_ERR_UNTERMINATED_URI;
				return -EBADMSG;
			}
			p = q + 1;
		}
	}
	*val = sip_str_mk(s, (size_t)(sip_rtrim_lws(s, p) - s));
	*rest = sip_str_mk(p, (size_t)(end - p));
	return 1;
}

int sip_list_next(struct sip_str *rest, struct sip_str *val)
{
	enum sip_error why;

	return sip_list_split(rest, val, &why);
}

/* A URI inside <> holds no LWS, controls, quotes or brackets. */
static bool uri_chars_ok(const char *p, const char *end)
{
	return sip_span(p, end, SIP_CT_UCHR) == end;
}

enum sip_error sip_na_parse(struct sip_nameaddr *out, const char *s,
			    size_t len, unsigned int flags,
			    enum sip_error bad)
{
	const char *p = sip_skip_lws(s, s + len);
	const char *end = sip_rtrim_lws(p, s + len);
	struct sip_nameaddr na;
	const char *q;

	memset(&na, 0, sizeof(na));
	if (p == end)
		return bad;
	na.raw = sip_str_mk(p, (size_t)(end - p));
	if ((flags & SIP_NA_ALLOW_STAR) && end - p == 1 && *p == '*') {
		na.star = true;
		*out = na;
		return SIP_ERR_NONE;
	}

	/* display-name: quoted-string, or tokens and LWS up to '<' */
	if (*p == '"') {
		q = sip_quoted_end(p, end);
		if (!q)
			return SIP_ERR_UNTERMINATED_QUOTE;
		na.display = sip_str_mk(p + 1, (size_t)(q - p - 2));
		p = sip_skip_lws(q, end);
		if (p == end || *p != '<')
			return bad;
	} else {
		q = p;
		while (q < end && sip_is(*q, SIP_CT_TOKEN | SIP_CT_LWS))
			q++;
		if (q < end && *q == '<') {
			const char *de = sip_rtrim_lws(p, q);

			if (de > p)
				na.display = sip_str_mk(p, (size_t)(de - p));
			p = q;
		}
	}

	if (*p == '<') {
		const char *gt = memchr(p + 1, '>', (size_t)(end - p - 1));
		const char *u, *ue;

		if (!gt)
			return SIP_ERR_UNTERMINATED_URI;
		u = sip_skip_lws(p + 1, gt);
		ue = sip_rtrim_lws(u, gt);
		if (u == ue || !uri_chars_ok(u, ue))
			return bad;
		na.uri = sip_str_mk(u, (size_t)(ue - u));
		na.bracketed = true;
		p = gt + 1;
	} else {
		/*
		 * Bare addr-spec: it cannot hold ';', ',' or '?' (RFC 3261
		 * section 20), so what follows a ';' is a header parameter.
		 */
		const char *u = p;

		if (flags & SIP_NA_NEED_BRACKETS)
			return bad;
		while (p < end && !sip_is(*p, SIP_CT_LWS) && *p != ';' &&
		       *p != ',' && *p != '?' && *p != '<' && *p != '>' &&
		       *p != '"')
			p++;
		if (p == u || !memchr(u, ':', (size_t)(p - u)) ||
		    !uri_chars_ok(u, p))
			return bad;
		na.uri = sip_str_mk(u, (size_t)(p - u));
	}

	q = sip_skip_lws(p, end);
	if (q < end) {
		struct sip_str n, v;
		int r;

		if (*q != ';')
			return bad;
		na.params = sip_str_mk(q, (size_t)(end - q));
		while ((r = sip_hparam_next(&q, end, &n, &v)) == 1) {
			if (sip_str_eqi_c(n, "tag")) {
				if (v.len == 0 || has_nul(v))
					return bad;
				na.tag = v;
			}
		}
		if (r < 0 || q != end)
			return bad;
	}
	*out = na;
	return SIP_ERR_NONE;
}

int sip_nameaddr_parse(struct sip_nameaddr *na, const char *s, size_t len,
		       unsigned int flags)
{
	if (!s)
		return -EINVAL;
	return sip_na_parse(na, s, len, flags, SIP_ERR_FROM) ? -EINVAL : 0;
}

static enum sip_transport transport_of(struct sip_str t)
{
	switch (t.len) {
	case 2:
		if (sip_str_eqi_c(t, "WS"))
			return SIP_TP_WS;
		break;
	case 3:
		if (sip_str_eqi_c(t, "UDP"))
			return SIP_TP_UDP;
		if (sip_str_eqi_c(t, "TCP"))
			return SIP_TP_TCP;
		if (sip_str_eqi_c(t, "TLS"))
			return SIP_TP_TLS;
		if (sip_str_eqi_c(t, "WSS"))
			return SIP_TP_WSS;
		break;
	case 4:
		if (sip_str_eqi_c(t, "SCTP"))
			return SIP_TP_SCTP;
		break;
	default:
		break;
	}
	return SIP_TP_OTHER;
}

/* token LWS "/" LWS: the slice of the token, p after the slash. */
static const char *via_proto_part(const char *p, const char *end,
				  struct sip_str *tok, bool slash)
{
	const char *t = p;

	p = sip_span(p, end, SIP_CT_TOKEN);
	if (p == t)
		return NULL;
	*tok = sip_str_mk(t, (size_t)(p - t));
	if (!slash)
		return p;
	p = sip_skip_lws(p, end);
	if (p == end || *p != '/')
		return NULL;
	return sip_skip_lws(p + 1, end);
}

/*
 * sent-protocol LWS sent-by of the Via value [s, s + len) into @v (raw,
 * protocol, transport, host, port).  Returns the byte after sent-by and
 * the LWS after it, or NULL.
 */
static const char *via_head(struct sip_via *v, const char *s, size_t len,
			    const char **endp)
{
	const char *p, *end, *q;

	p = sip_skip_lws(s, s + len);
	end = sip_rtrim_lws(p, s + len);
	*endp = end;
	memset(v, 0, sizeof(*v));
	v->raw = sip_str_mk(p, (size_t)(end - p));
	p = via_proto_part(p, end, &v->proto_name, true);
	if (p)
		p = via_proto_part(p, end, &v->proto_version, true);
	if (p)
		p = via_proto_part(p, end, &v->transport_str, false);
	if (!p)
		return NULL;
	v->transport = transport_of(v->transport_str);

	q = sip_skip_lws(p, end);
	if (q == p)
		return NULL;	/* LWS before sent-by */
	p = sip_host_scan(q, end, &v->host, &v->host_type);
	if (!p)
		return NULL;
	q = sip_skip_lws(p, end);
	if (q < end && *q == ':') {
		const char *d = sip_skip_lws(q + 1, end);
		const char *de = sip_span(d, end, SIP_CT_DIGIT);
		uint32_t port;

		if (sip_parse_u32(d, (size_t)(de - d), 65535, &port))
			return NULL;
		v->port = (uint16_t)port;
		v->has_port = true;
		q = sip_skip_lws(de, end);
	}
	return q;
}

int sip_via_parse_head(struct sip_via *out, const char *s, size_t len)
{
	struct sip_via v;
	const char *end;

	if (!s || !via_head(&v, s, len, &end))
		return -EINVAL;
	*out = v;
	return 0;
}

int sip_via_parse(struct sip_via *out, const char *s, size_t len)
{
	const char *end, *q;
	struct sip_via v;

	if (!s)
		return -EINVAL;
	q = via_head(&v, s, len, &end);
	if (!q)
		return -EINVAL;
	if (q < end) {
		struct sip_str n, val;
		int r;

		if (*q != ';')
			return -EINVAL;
		v.params = sip_str_mk(q, (size_t)(end - q));
		while ((r = sip_hparam_next(&q, end, &n, &val)) == 1) {
			if ((sip_str_eqi_c(n, "branch") ||
			     sip_str_eqi_c(n, "received") ||
			     sip_str_eqi_c(n, "maddr")) && has_nul(val))
				return -EINVAL;
			if (sip_str_eqi_c(n, "branch")) {
				v.branch = val;
			} else if (sip_str_eqi_c(n, "received")) {
				v.received = val;
			} else if (sip_str_eqi_c(n, "maddr")) {
				v.maddr = val;
			} else if (sip_str_eqi_c(n, "rport")) {
				uint32_t rp;

				v.rport = val;
				if (val.len == 0)
					continue;
				if (sip_parse_u32(val.p, val.len, 65535, &rp))
					return -EINVAL;
				v.rport_value = (uint16_t)rp;
				v.has_rport_value = true;
			}
		}
		if (r < 0 || q != end)
			return -EINVAL;
	}
	*out = v;
	return 0;
}

/* --- access to a parsed message ------------------------------------------ */

const struct sip_hdr *sip_msg_hdr(const struct sip_msg *msg,
				  enum sip_hdr_id id)
{
	unsigned int i;

	if ((unsigned int)id >= SIP_HDR_ID_MAX_)
		return NULL;
	i = msg->hdr_first[id];
	return i == SIP_HDR_NONE ? NULL : &msg->hdrs[i];
}

const struct sip_hdr *sip_msg_hdr_next(const struct sip_msg *msg,
				       const struct sip_hdr *hdr)
{
	return hdr->next == SIP_HDR_NONE ? NULL : &msg->hdrs[hdr->next];
}

const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *msg,
					  const char *name)
{
	size_t len = strlen(name);
	enum sip_hdr_id id = sip_hdr_id_from_name(name, len);
	const struct sip_hdr *h;

	if (id != SIP_HDR_OTHER)
		return sip_msg_hdr(msg, id);
	for (h = sip_msg_hdr(msg, SIP_HDR_OTHER); h;
	     h = sip_msg_hdr_next(msg, h))
		if (h->name.len == len && sip_mem_eqi(h->name.p, name, len))
			return h;
	return NULL;
}

void sip_value_iter_init(struct sip_value_iter *it, const struct sip_msg *msg,
			 enum sip_hdr_id id)
{
	it->msg = msg;
	it->hdr = sip_msg_hdr(msg, id);
	it->rest = it->hdr ? it->hdr->value : SIP_STR_NULL;
}

int sip_value_next(struct sip_value_iter *it, struct sip_str *val)
{
	while (it->hdr) {
		int r = sip_list_next(&it->rest, val);

		if (r != 0)
			return r;
		it->hdr = sip_msg_hdr_next(it->msg, it->hdr);
		if (it->hdr)
			it->rest = it->hdr->value;
	}
	return 0;
}

int sip_value_next_addr(struct sip_value_iter *it, struct sip_nameaddr *na)
{
	struct sip_str v;
	unsigned int flags = 0;
	int r = sip_value_next(it, &v);

	if (r <= 0)
		return r;
	if (it->hdr->id == SIP_HDR_ROUTE || it->hdr->id == SIP_HDR_RECORD_ROUTE)
		flags = SIP_NA_NEED_BRACKETS;
	else if (it->hdr->id == SIP_HDR_CONTACT)
		flags = SIP_NA_ALLOW_STAR;
	if (sip_na_parse(na, v.p, v.len, flags, SIP_ERR_FROM))
		return -EBADMSG;
	return 1;
}

int sip_value_next_via(struct sip_value_iter *it, struct sip_via *via)
{
	struct sip_str v;
	int r = sip_value_next(it, &v);

	if (r <= 0)
		return r;
	return sip_via_parse(via, v.p, v.len) ? -EBADMSG : 1;
}
