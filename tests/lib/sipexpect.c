// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sipexpect.c - the fast path's decision, from the user-space parse; see
 * sipexpect.h.
 */
#include "lib/sipexpect.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/types.h>

#include "sipdlg_shared.h"
#include "sipdlg_hash.h"
#include "dialog/dlg.h"		/* dlg_cookie_parse */
#include "sip/sip_msg.h"

static int sdm_of(enum sip_method m)
{
	switch (m) {
	case SIP_METHOD_INVITE: return SDM_INVITE;
	case SIP_METHOD_ACK: return SDM_ACK;
	case SIP_METHOD_BYE: return SDM_BYE;
	case SIP_METHOD_CANCEL: return SDM_CANCEL;
	case SIP_METHOD_OPTIONS: return SDM_OPTIONS;
	case SIP_METHOD_INFO: return SDM_INFO;
	case SIP_METHOD_UPDATE: return SDM_UPDATE;
	case SIP_METHOD_PRACK: return SDM_PRACK;
	case SIP_METHOD_REFER: return SDM_REFER;
	case SIP_METHOD_NOTIFY: return SDM_NOTIFY;
	case SIP_METHOD_MESSAGE: return SDM_MESSAGE;
	default: return SDM_OTHER;
	}
}

static uint64_t hs(struct sip_str s)
{
	return s.p && s.len ? sipdlg_hash_bytes(s.p, (__u32)s.len) : 0;
}

static int find_key(const struct sipexp_dlg *dl, int n, uint32_t he,
		    uint32_t hi)
{
	for (int i = 0; i < n; i++)
		if (dl[i].h_entry == he && dl[i].h_id == hi)
			return i;
	return -1;
}

/* The "callids" map: the dialog indexed under @callid, or -1. */
static int find_callid(const struct sipexp_dlg *dl, int n, uint64_t callid)
{
	for (int i = 0; i < n; i++)
		if (dl[i].indexed && dl[i].callid_hash == callid)
			return i;
	return -1;
}

/* The tight match (reference section 1.2): a direction or -1. */
static int tight(const struct sipexp_dlg *v, uint64_t callid, uint64_t ftag,
		 uint64_t ttag, int check_callid)
{
	if (!v->caller_hash || (check_callid && v->callid_hash != callid))
		return -1;
	if (v->callee_hash) {
		if (ftag == v->callee_hash && ttag == v->caller_hash)
			return SDD_CALLEE_TO_CALLER;
		if (ftag == v->caller_hash && ttag == v->callee_hash)
			return SDD_CALLER_TO_CALLEE;
		return -1;
	}
	if (ttag == v->caller_hash)
		return SDD_CALLEE_TO_CALLER;
	if (ftag == v->caller_hash)
		return SDD_CALLER_TO_CALLEE;
	return -1;
}

/*
 * The cookie: the rr_param of the first Route value that has one, and
 * the MAC parameter beside it.  1 found, 0 none, -1 malformed.
 */
static int cookie(const struct sip_msg *m, const char *rr, uint32_t *he,
		  uint32_t *hi, struct sip_str *dm)
{
	struct sip_value_iter it;
	struct sip_nameaddr na;
	struct sip_uri u;
	struct sip_str v;

	sip_value_iter_init(&it, m, SIP_HDR_ROUTE);
	while (sip_value_next_addr(&it, &na) == 1) {
		if (sip_uri_parse(&u, na.uri.p, na.uri.len) ||
		    sip_uri_param(&u, rr, &v))
			continue;
		if (sip_uri_param(&u, SIPDLG_MAC_PARAM, dm))
			*dm = SIP_STR_NULL;
		return dlg_cookie_parse(v, he, hi) ? -1 : 1;
	}
	return 0;
}

static int mac_ok(const struct sipexp_knobs *k, uint32_t he, uint32_t hi,
		  struct sip_str dm)
{
	char want[SIPDLG_MAC_HEX_LEN];

	if (!dm.p || dm.len != SIPDLG_MAC_HEX_LEN)
		return 0;
	sipdlg_mac_hex(sipdlg_dlg_mac(k->mac_k0, k->mac_k1, he, hi), want);
	return sip_mem_eqi(dm.p, want, SIPDLG_MAC_HEX_LEN);
}

static int fail(const struct sipexp_knobs *k, int reason)
{
	return k->drop ? reason + 1 : reason;
}

static void matched(struct sipexp *e, const struct sip_msg *m, int dlg,
		    int dir)
{
	e->reason = SDR_DLG_MATCH;
	e->dlg = dlg;
	e->dir = dir;
	e->method = sdm_of(m->method);
	e->cseq = m->cseq.num;
}

static int request(const struct sip_msg *m, int ipv6,
		   const struct sipexp_knobs *k, const struct sipexp_dlg *dl,
		   int n, struct sipexp *e)
{
	uint64_t callid = hs(m->call_id), ftag = hs(m->from.tag),
		 ttag = hs(m->to.tag);
	int no_dialog = ipv6 ? SDR_SIP_UDP6 : SDR_SIP_UDP4;
	int c = 0, i = -1, d = -1, check_callid = 1, reason;
	struct sip_str dm = SIP_STR_NULL;
	uint32_t he = 0, hi = 0;

	e->reason = no_dialog;
	if (!ttag) {
		snprintf(e->why, sizeof(e->why), "no To-tag");
		return 0;
	}
	if (k->mode != SIPDLG_MATCH_DID_NONE)
		c = cookie(m, k->rr_param, &he, &hi, &dm);
	if (c < 0) {
		e->reason = fail(k, SDR_DLG_BAD_COOKIE);
		snprintf(e->why, sizeof(e->why), "cookie malformed");
		return 0;
	}
	if (c > 0 && k->mac) {
		if (!mac_ok(k, he, hi, dm)) {
			e->reason = fail(k, SDR_DLG_MAC_FAIL);
			snprintf(e->why, sizeof(e->why), "MAC missing or wrong");
			return 0;
		}
		check_callid = 0;
	}
	if (!c) {
		if (k->mode == SIPDLG_MATCH_DID_ONLY) {
			snprintf(e->why, sizeof(e->why), "no cookie, mode 0");
			return 0;
		}
		i = find_callid(dl, n, callid);
		d = i < 0 ? -1 : tight(&dl[i], callid, ftag, ttag, 1);
		if (d < 0) {
			snprintf(e->why, sizeof(e->why),
				 "no cookie, Call-ID index %s", i < 0 ? "miss" :
				 "hit, tight match fails");
			return 0;
		}
		matched(e, m, i, d);
		snprintf(e->why, sizeof(e->why), "Call-ID index, dir %d", d);
		return 0;
	}
	i = find_key(dl, n, he, hi);
	if (i >= 0) {
		d = tight(&dl[i], callid, ftag, ttag, check_callid);
		if (d >= 0) {
			matched(e, m, i, d);
			snprintf(e->why, sizeof(e->why), "cookie %x.%x, dir %d",
				 he, hi, d);
			return 0;
		}
		e->mismatch_dlg = i;
		reason = SDR_DLG_MISMATCH;
	} else {
		reason = SDR_DLG_UNKNOWN;
	}
	if (k->mode == SIPDLG_MATCH_DID_FALLBACK) {
		int j = find_callid(dl, n, callid);

		d = j < 0 ? -1 : tight(&dl[j], callid, ftag, ttag, 1);
		if (d >= 0) {
			matched(e, m, j, d);
			snprintf(e->why, sizeof(e->why),
				 "cookie %x.%x fails, Call-ID index, dir %d", he,
				 hi, d);
			return 0;
		}
	}
	e->reason = fail(k, reason);
	snprintf(e->why, sizeof(e->why), "cookie %x.%x: %s", he, hi,
		 i < 0 ? "no such dialog" : "Call-ID/tags differ");
	return 0;
}

/* RH '.' RH '.' D after the prefix: 1 and the parts, or 0. */
static int our_branch(struct sip_str b, uint32_t *he, uint32_t *hi, int *d)
{
	const char *p = b.p, *end = b.p + b.len;
	uint32_t v[2];
	int part;

	if (!p || b.len < SIPDLG_BRANCH_PREFIX_LEN ||
	    memcmp(p, SIPDLG_BRANCH_PREFIX, SIPDLG_BRANCH_PREFIX_LEN))
		return 0;
	p += SIPDLG_BRANCH_PREFIX_LEN;
	for (part = 0; part < 2; part++) {
		const char *dot = memchr(p, '.', (size_t)(end - p));

		if (!dot || dot == p || dot - p > 8)
			return 0;
		/* reverse hex: digit i is nibble i */
		v[part] = 0;
		for (const char *q = p; q < dot; q++) {
			int x = *q >= '0' && *q <= '9' ? *q - '0' :
				*q >= 'a' && *q <= 'f' ? *q - 'a' + 10 :
				*q >= 'A' && *q <= 'F' ? *q - 'A' + 10 : -1;

			if (x < 0)
				return 0;
			v[part] |= (uint32_t)x << (4 * (q - p));
		}
		p = dot + 1;
	}
	if (p >= end || (*p != '0' && *p != '1'))
		return 0;
	*he = v[0];
	*hi = v[1];
	*d = *p - '0';
	return 1;
}

static int reply(const struct sip_msg *m, const struct sipexp_dlg *dl, int n,
		 struct sipexp *e)
{
	uint32_t he, hi;
	int d, i;

	if (!our_branch(m->via.branch, &he, &hi, &d)) {
		e->reason = SDR_SIP_REPLY_OTHER;
		snprintf(e->why, sizeof(e->why), "top Via not our branch");
		return 0;
	}
	i = find_key(dl, n, he, hi);
	if (i < 0 || dl[i].callid_hash != hs(m->call_id)) {
		e->reason = SDR_DLG_REPLY_UNKNOWN;
		snprintf(e->why, sizeof(e->why), "branch %x.%x: %s", he, hi,
			 i < 0 ? "no such dialog" : "Call-ID differs");
		return 0;
	}
	e->reason = SDR_DLG_REPLY_MATCH;
	e->dlg = i;
	e->dir = d ^ 1;
	e->reply = 1;
	snprintf(e->why, sizeof(e->why), "branch %x.%x.%d", he, hi, d);
	return 0;
}

int sipexp_decide(const struct sip_msg *m, int ipv6,
		  const struct sipexp_knobs *k, const struct sipexp_dlg *dl,
		  int n, struct sipexp *out)
{
	memset(out, 0, sizeof(*out));
	out->dlg = -1;
	out->mismatch_dlg = -1;
	if (m->is_request)
		return request(m, ipv6, k, dl, n, out);
	return reply(m, dl, n, out);
}

/* The header block: the lines after the start line, up to the empty one. */
struct hdr_walk {
	size_t lines, longest, end;	/* end: offset after the empty line */
	int folded;
};

static void walk_headers(const char *buf, size_t len, struct hdr_walk *w)
{
	size_t at = 0, n = 0;
	int first = 1;

	memset(w, 0, sizeof(*w));
	while (at < len) {
		const char *lf = memchr(buf + at, '\n', len - at);
		size_t ll = lf ? (size_t)(lf - (buf + at)) + 1 : len - at;
		size_t body = ll - (lf ? 1 : 0);

		if (body && buf[at + body - 1] == '\r')
			body--;
		if (ll > w->longest)
			w->longest = ll;
		if (!first && !body) {
			w->end = at + ll;
			break;
		}
		if (!first) {
			n++;
			if (buf[at] == ' ' || buf[at] == '\t')
				w->folded = 1;
		}
		first = 0;
		at += ll;
	}
	w->lines = n;
	if (!w->end)
		w->end = len;
}

int sipexp_folded(const char *buf, size_t len)
{
	struct hdr_walk w;

	walk_headers(buf, len, &w);
	return w.folded;
}

int sipexp_over_limits(const struct sip_msg *m, const char *buf, size_t len,
		       char *why, size_t wl)
{
	static const enum sip_hdr_id valued[] = { SIP_HDR_ROUTE, SIP_HDR_VIA,
						  SIP_HDR_FROM, SIP_HDR_TO };
	const struct sip_hdr *h;
	struct hdr_walk w;
	size_t semis, i, k;

	walk_headers(buf, len, &w);
	if (w.lines > SIPDLG_SCAN_MAX_LINES)
		return snprintf(why, wl, "%zu header lines", w.lines), 1;
	if (w.end > SIPDLG_SCAN_MAX_BYTES)
		return snprintf(why, wl, "headers end at byte %zu", w.end), 1;
	if (w.longest > SIPDLG_SCAN_MAX_LINE)
		return snprintf(why, wl, "a line of %zu bytes", w.longest), 1;
	if (m->call_id.len > SIPDLG_CALLID_MAX)
		return snprintf(why, wl, "Call-ID of %zu", m->call_id.len), 1;
	if (m->from.tag.len > SIPDLG_TAG_MAX || m->to.tag.len > SIPDLG_TAG_MAX)
		return snprintf(why, wl, "tag of %zu/%zu", m->from.tag.len,
				m->to.tag.len), 1;
	for (k = 0; k < sizeof(valued) / sizeof(valued[0]); k++) {
		for (h = sip_msg_hdr(m, valued[k]); h; h = sip_msg_hdr_next(m, h)) {
			for (semis = 0, i = 0; i < h->value.len; i++)
				semis += h->value.p[i] == ';';
			if (h->value.len > SIPDLG_SCAN_MAX_VALUE ||
			    semis > 16)
				return snprintf(why, wl, "a %.*s value of %zu "
						"bytes, %zu ';'",
						(int)h->name.len, h->name.p,
						h->value.len, semis), 1;
		}
	}
	return 0;
}
