/*
 * px_validate.c - the checks a proxy makes on a request before it routes
 * it (RFC 3261 16.3), in the RFC's order, each answered with the RFC's
 * status code and a reason phrase naming the problem:
 *
 *   1. syntax              the parser (sip_msg_parse): 400/505/513, answered
 *                          by proxy_on_message before any of this runs;
 *                          here only what the parser leaves to the proxy:
 *                          headers in a SIP Request-URI (19.1.5) and more
 *                          Route entries than we can hold
 *   2. URI scheme          neither sip, sips nor tel: 416 (8.2.2.1)
 *   3. Max-Forwards        0: 483
 *   4. loop detection      our own Via with the same loop hash: 482
 *                          (16.3 item 4, with the hash of 16.6 item 8)
 *   5. Proxy-Require       an option tag not in proxy.supported: 420 with
 *                          an Unsupported header listing them
 *   6. Proxy-Authorization left to the rules (no credentials here)
 *
 * ACK and CANCEL are never answered with a 420 nor counted as loops: an
 * ACK is never answered at all (its caller drops it) and a CANCEL is
 * hop-by-hop (the proxy answers it itself and forwards nothing of it).
 */
#include <string.h>
#include <strings.h>

#include "proxy/px_fmt.h"
#include "proxy/px_internal.h"

/* "Unsupported: a, b\r\n": as long as a Proxy-Require can be. */
static _Thread_local char unsup_buf[SIP_MSG_MAX + 32];

static uint64_t fnv(uint64_t h, struct sip_str s)
{
	for (size_t i = 0; i < s.len; i++) {
		h ^= (unsigned char)s.p[i];
		h *= 1099511628211ull;
	}
	return h;
}

uint32_t px_loop_hash(const struct sip_msg *m)
{
	uint64_t h = 1469598103934665603ull;
	char num[12];
	struct px_sb b = px_sb_at(num, sizeof(num), 0);

	h = fnv(h, m->ruri_str);
	h = fnv(h, m->route.raw);
	h = fnv(h, m->call_id);
	px_sb_u32(&b, m->cseq.num);
	h = fnv(h, sip_str_c(num));
	h = fnv(h, m->from.tag);
	h = fnv(h, m->to.tag);
	return (uint32_t)(h ^ (h >> 32));
}

bool px_is_loop(const struct proxy *px, const struct sip_msg *m, uint32_t lh)
{
	struct sip_value_iter it;
	struct sip_via v;
	uint32_t got;

	sip_value_iter_init(&it, m, SIP_HDR_VIA);
	while (sip_value_next_via(&it, &v) == 1) {
		if (px_branch_loop(v.branch, &got) && got == lh &&
		    px_via_is_ours(px, &v))
			return true;
	}
	return false;
}

static bool is_token(struct sip_str s)
{
	static const char marks[] = "-.!%*_+`'~";

	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || (c && strchr(marks, c))))
			return false;
	}
	return true;
}

static bool tag_supported(const struct sipdlg_config *cfg, struct sip_str t)
{
	for (size_t i = 0; i < cfg->proxy.n_supported; i++) {
		const char *s = cfg->proxy.supported[i];

		if (strlen(s) == t.len && strncasecmp(s, t.p, t.len) == 0)
			return true;
	}
	return false;
}

static int verdict(struct px_check_result *v, enum px_check why, int code,
		   const char *reason)
{
	v->why = why;
	v->code = code;
	v->reason = reason;
	return code;
}

/*
 * Proxy-Require: every option tag must be one we support.  0, 420 with
 * v->extra holding the Unsupported line, or 400 if a value is no token.
 */
static int check_proxy_require(const struct sipdlg_config *cfg,
			       const struct sip_msg *m, struct px_check_result *v)
{
	struct sip_value_iter it;
	struct sip_str tag;
	struct px_sb b = px_sb_at(unsup_buf, sizeof(unsup_buf), 0);
	size_t n = 0;
	int r;

	sip_value_iter_init(&it, m, SIP_HDR_PROXY_REQUIRE);
	while ((r = sip_value_next(&it, &tag)) == 1) {
		if (!is_token(tag))
			return verdict(v, PXC_BAD_PROXY_REQUIRE, 400,
				       "Bad Request - Malformed Proxy-Require");
		if (tag_supported(cfg, tag))
			continue;
		px_sb_str(&b, n++ ? ", " : "Unsupported: ");
		px_sb_mem(&b, tag.p, tag.len);
	}
	if (r < 0)
		return verdict(v, PXC_BAD_PROXY_REQUIRE, 400,
			       "Bad Request - Malformed Proxy-Require");
	if (n == 0)
		return 0;
	px_sb_str(&b, "\r\n");
	if (b.over)	/* cannot happen: the tags come from the message */
		return verdict(v, PXC_BAD_PROXY_REQUIRE, 400,
			       "Bad Request - Malformed Proxy-Require");
	v->extra = unsup_buf;
	return verdict(v, PXC_BAD_EXTENSION, 420, NULL);
}

int px_validate(const struct proxy *px, const struct sip_msg *m,
		struct px_check_result *v)
{
	bool hop = m->method == SIP_METHOD_ACK ||
		   m->method == SIP_METHOD_CANCEL;

	memset(v, 0, sizeof(*v));
	/* 1. What the parser leaves to us. */
	if ((m->ruri.type == SIP_SCHEME_SIP ||
	     m->ruri.type == SIP_SCHEME_SIPS) &&
	    sip_str_present(m->ruri.headers))
		return verdict(v, PXC_RURI_HEADERS, 400,
			       "Bad Request - Headers in Request-URI");
	if (m->n_route > PX_MAX_ROUTES)
		return verdict(v, PXC_TOO_MANY_ROUTES, 400,
			       PX_TOO_MANY_ROUTES_REASON);
	/* 2. */
	if (m->ruri.type == SIP_SCHEME_OTHER)
		return verdict(v, PXC_URI_SCHEME, 416, NULL);
	/* 3. (a CANCEL is answered here, not forwarded: no hop to count) */
	if (m->max_forwards == 0 && m->method != SIP_METHOD_CANCEL)
		return verdict(v, PXC_MAX_FORWARDS, 483, NULL);
	if (hop)
		return 0;
	/* 4. */
	if (px_is_loop(px, m, px_loop_hash(m)))
		return verdict(v, PXC_LOOP, 482, NULL);
	/* 5. */
	return check_proxy_require(px->cfg, m, v);
}
