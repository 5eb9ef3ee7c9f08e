// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sip_parse.c - sip_msg_parse(): start line, header splitting, the checks
 * every message must pass, and body framing, in one pass over the buffer.
 *
 * Errors come in two kinds.  Hard ones (unparsable start line, NUL, a
 * bare CR between lines, a message too big to frame) stop at once.  Soft
 * ones (bad Request-URI or version, a bad header value, a missing header)
 * are recorded - the first one wins - and parsing goes on, so that the
 * headers needed to answer "400 Bad Request" are known: that is what
 * msg->answerable reports.
 */
#include "sip/sip_int.h"

#include <errno.h>
#include <stddef.h>

struct parse_st {
	struct sip_msg *msg;
	const char *start;	/* message start, leading CRLFs skipped */
	size_t avail;		/* bytes from start to the buffer's end */
	size_t limit;		/* min(avail, SIP_MSG_MAX): our horizon */
	enum sip_parse_mode mode;
	const char *nul;	/* first NUL found, or NULL */
	const char *nul_ok;	/* no NUL in [start, nul_ok) */
	bool request_line;	/* the start line is a Request-Line */
	bool framed;		/* the header section was scanned whole */
	bool partial;		/* too big: only the lines up to the limit */
	bool via_lost;		/* a Via line before any kept one was not
				 * stored (past SIP_MAX_HEADERS, NUL, CR) */
};

/* Record @err (if it is the first) and return -EBADMSG. */
static int fail(struct sip_msg *msg, enum sip_error err, enum sip_hdr_id hdr)
{
	if (msg->error == SIP_ERR_NONE) {
		msg->error = err;
		msg->error_hdr = hdr;
		msg->error_reason = err == SIP_ERR_DUP_HEADER
					    ? sip_dup_reason(hdr)
					    : sip_error_str(err);
	}
	return -EBADMSG;
}

static void msg_reset(struct sip_msg *msg)
{
	memset(msg, 0, offsetof(struct sip_msg, hdr_first));
	memset(msg->hdr_first, 0xff, sizeof(msg->hdr_first));
	memset(msg->hdr_last, 0xff, sizeof(msg->hdr_last));
	msg->max_forwards = -1;
}

/* --- start line ----------------------------------------------------------- */

/* [p, end) is exactly "SIP/<major>.<minor>" (case-insensitive "SIP"). */
static enum sip_error parse_version(const char *p, const char *end)
{
	const char *d;
	uint32_t major, minor;

	if (end - p < 7 || !sip_mem_eqi(p, "SIP/", 4))
		return SIP_ERR_VERSION;
	p += 4;
	d = sip_span(p, end, SIP_CT_DIGIT);
	if (d == end || *d != '.' || sip_parse_u32(p, (size_t)(d - p),
						   999, &major))
		return SIP_ERR_VERSION;
	p = d + 1;
	d = sip_span(p, end, SIP_CT_DIGIT);
	if (d != end || sip_parse_u32(p, (size_t)(d - p), 999, &minor))
		return SIP_ERR_VERSION;
	if (major != 2 || minor != 0)
		return SIP_ERR_VERSION_UNSUPPORTED;
	return SIP_ERR_NONE;
}

/*
 * Method SP Request-URI SP SIP-Version.  Runs of SP between the elements
 * and trailing white space are accepted (RFC 4475-style leniency; the
 * request leaves with single spaces).  A line that does not start with a
 * token and white space is no Request-Line at all: -EBADMSG at once.  One
 * that does is a request with a malformed start line (a tab between the
 * elements, a missing version...): a soft error, so that the headers are
 * still scanned and a usable top Via gets the 400 (RFC 3261 8.2).
 */
static int parse_request_line(struct parse_st *st, const char *p,
			      const char *le)
{
	struct sip_msg *msg = st->msg;
	const char *m = sip_span(p, le, SIP_CT_TOKEN), *u, *v, *ve;
	enum sip_error err;

	if (m == p || m == le || (*m != ' ' && *m != '\t'))
		return fail(msg, SIP_ERR_START_LINE, SIP_HDR_OTHER);
	msg->is_request = true;
	st->request_line = true;
	msg->method_str = sip_str_mk(p, (size_t)(m - p));
	msg->method = sip_method_from_str(p, (size_t)(m - p));
	if (*m != ' ') {
		fail(msg, SIP_ERR_START_LINE, SIP_HDR_OTHER);
		return 0;
	}
	for (p = m; p < le && *p == ' '; p++)
		;
	u = p;
	while (p < le && (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f)
		p++;
	if (p == u || p == le || *p != ' ') {
		fail(msg, SIP_ERR_START_LINE, SIP_HDR_OTHER);
		return 0;
	}
	msg->ruri_str = sip_str_mk(u, (size_t)(p - u));
	while (p < le && *p == ' ')
		p++;
	v = p;
	ve = le;
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
		ve--;
	if (v == ve) {
		fail(msg, SIP_ERR_START_LINE, SIP_HDR_OTHER);
		return 0;
	}
	msg->version = sip_str_mk(v, (size_t)(ve - v));
	err = parse_version(v, ve);
	if (err)
		fail(msg, err, SIP_HDR_OTHER);
	if (sip_uri_parse(&msg->ruri, msg->ruri_str.p, msg->ruri_str.len))
		fail(msg, SIP_ERR_RURI, SIP_HDR_OTHER);
	return 0;
}

/* SIP-Version SP Status-Code SP Reason-Phrase; any error is hard. */
static int parse_status_line(struct parse_st *st, const char *p,
			     const char *le)
{
	struct sip_msg *msg = st->msg;
	const char *v = p, *d;
	enum sip_error err;
	uint32_t code;

	while (p < le && *p != ' ')
		p++;
	msg->version = sip_str_mk(v, (size_t)(p - v));
	err = parse_version(v, p);
	if (err)
		return fail(msg, err, SIP_HDR_OTHER);
	while (p < le && *p == ' ')
		p++;
	d = sip_span(p, le, SIP_CT_DIGIT);
	if (d - p != 3 || (d < le && *d != ' ') ||
	    sip_parse_u32(p, 3, 699, &code) || code < 100)
		return fail(msg, SIP_ERR_STATUS, SIP_HDR_OTHER);
	msg->status = (uint16_t)code;
	while (d < le && *d == ' ')
		d++;
	msg->reason = sip_str_mk(d, (size_t)(le - d));
	return 0;
}

#define NUL_SCAN_BLOCK 1024

/*
 * Is there a NUL in [st->start, x)?  Looks ahead in blocks, so a message
 * costs one or two memchr calls rather than one per line, and a large
 * body is not scanned.
 */
static bool nul_before(struct parse_st *st, const char *x)
{
	const char *end = st->start + st->limit;

	if (st->nul)
		return st->nul < x;
	while (st->nul_ok < x) {
		size_t want = (size_t)(x - st->nul_ok);
		size_t rem = (size_t)(end - st->nul_ok);
		const char *n;

		if (want < NUL_SCAN_BLOCK)
			want = NUL_SCAN_BLOCK;
		if (want > rem)
			want = rem;
		n = memchr(st->nul_ok, '\0', want);
		if (n) {
			st->nul = n;
			return n < x;
		}
		st->nul_ok += want;
	}
	return false;
}

/* When the header section runs past what we may look at. */
static int hdr_short(struct parse_st *st)
{
	if (st->avail > st->limit)
		return fail(st->msg, SIP_ERR_TOO_BIG, SIP_HDR_OTHER);
	if (st->mode == SIP_STREAM)
		return -EAGAIN;
	return fail(st->msg, SIP_ERR_UNTERMINATED, SIP_HDR_OTHER);
}

/* Start line at st->start; *next is set to the first header line. */
static int parse_start_line(struct parse_st *st, const char **next)
{
	const char *s = st->start;
	const char *lf = memchr(s, '\n', st->limit), *le;

	if (nul_before(st, lf ? lf : s + st->limit))
		return fail(st->msg, SIP_ERR_NUL, SIP_HDR_OTHER);
	if (!lf) {
		if (st->avail <= st->limit && st->mode == SIP_DATAGRAM)
			return fail(st->msg, SIP_ERR_START_LINE,
				    SIP_HDR_OTHER);
		return hdr_short(st);
	}
	le = lf;
	if (le > s && le[-1] == '\r')
		le--;
	if (memchr(s, '\r', (size_t)(le - s)))
		return fail(st->msg, SIP_ERR_START_LINE, SIP_HDR_OTHER);
	*next = lf + 1;
	if (le - s >= 4 && sip_mem_eqi(s, "SIP/", 4))
		return parse_status_line(st, s, le);
	return parse_request_line(st, s, le);
}

/* --- header lines --------------------------------------------------------- */

/* Store the logical header line [hs, he) (folds inside, no final EOL). */
static void add_header(struct parse_st *st, const char *hs, const char *he)
{
	struct sip_msg *msg = st->msg;
	const char *n = sip_span(hs, he, SIP_CT_TOKEN), *q, *v, *ve;
	enum sip_hdr_id id;
	struct sip_hdr *h;
	unsigned int idx;

	q = n;
	while (q < he && (*q == ' ' || *q == '\t'))
		q++;
	if (n == hs || q == he || *q != ':') {
		fail(msg, SIP_ERR_HEADER_LINE, SIP_HDR_OTHER);
		return;
	}
	id = sip_hdr_id_from_name(hs, (size_t)(n - hs));
	if (msg->hdr_count == SIP_MAX_HEADERS) {
		fail(msg, SIP_ERR_TOO_MANY_HEADERS, SIP_HDR_OTHER);
		if (id == SIP_HDR_VIA)
			st->via_lost = true;
		return;
	}
	v = sip_skip_lws(q + 1, he);
	ve = sip_rtrim_lws(v, he);
	idx = msg->hdr_count++;
	h = &msg->hdrs[idx];
	h->name = sip_str_mk(hs, (size_t)(n - hs));
	h->value = sip_str_mk(v, (size_t)(ve - v));
	h->id = (uint8_t)id;
	h->next = SIP_HDR_NONE;
	if (msg->hdr_last[id] == SIP_HDR_NONE)
		msg->hdr_first[id] = (uint8_t)idx;
	else
		msg->hdrs[msg->hdr_last[id]].next = (uint8_t)idx;
	msg->hdr_last[id] = (uint8_t)idx;
}

/*
 * A header line holding a NUL (other than an escaped one inside a
 * quoted-string, see nul_quoted_only) or a bare CR: the message is
 * malformed, but the line is only left out, not the rest, so that a top
 * Via above or below it still lets us answer 400 (RFC 3261 8.2: answer
 * whenever a response can be routed).  The line itself is never stored, so no slice
 * handed out holds such a byte.  If it is a Via line and no Via was
 * stored yet, the top Via is lost and the request is not answered.
 */
static void bad_line(struct parse_st *st, const char *hs, const char *he,
		     enum sip_error err)
{
	const char *n = sip_span(hs, he, SIP_CT_TOKEN);

	fail(st->msg, err, SIP_HDR_OTHER);
	if (st->msg->hdr_first[SIP_HDR_VIA] == SIP_HDR_NONE &&
	    sip_hdr_id_from_name(hs, (size_t)(n - hs)) == SIP_HDR_VIA)
		st->via_lost = true;
}

/* The first bare CR (not followed by LF) in [p, end), or NULL. */
static const char *bare_cr(const char *p, const char *end)
{
	for (; p < end; p++) {
		p = memchr(p, '\r', (size_t)(end - p));
		if (!p)
			return NULL;
		if (p + 1 == end || p[1] != '\n')
			return p;
	}
	return NULL;
}

/*
 * May the header line [hs, he), which holds a NUL, be kept?  Only if
 * every NUL in it is the second byte of a quoted-pair inside a
 * quoted-string of the value (RFC 3261 25.1: quoted-pair = "\\"
 * (%x00-09 / %x0B-0C / %x0E-7F)), as in RFC 4475's "intmeth" To header.
 * A NUL in the name, outside quotes, or inside quotes but not after a
 * backslash is refused.  A backslash before CR or LF does not escape it
 * (the RFC excludes them); the fold is left to the usual checks.
 */
static bool nul_quoted_only(const char *hs, const char *he)
{
	const char *p = memchr(hs, ':', (size_t)(he - hs));
	bool in_q = false;

	if (!p || memchr(hs, '\0', (size_t)(p - hs)))
		return false;
	for (p++; p < he; p++) {
		if (*p == '\0')
			return false;	/* not taken by a quoted-pair */
		if (!in_q) {
			if (*p == '"')
				in_q = true;
		} else if (*p == '"') {
			in_q = false;
		} else if (*p == '\\' && p + 1 < he && p[1] != '\r' &&
			   p[1] != '\n') {
			p++;	/* quoted-pair: the next byte is text */
		}
	}
	return true;
}

/*
 * Split header lines from p up to the empty line; *body is set to the
 * byte after it.  A line continues while the next one starts with SP or
 * HT (folding), so in stream mode a line is complete only once the byte
 * after its LF has arrived.
 */
static int scan_headers(struct parse_st *st, const char *p, const char **body)
{
	const char *end = st->start + st->limit;

	for (;;) {
		const char *hs = p, *q = p, *lf, *he;
		bool nul;

		if (p >= end)
			return hdr_short(st);
		if (*p == '\n') {
			*body = p + 1;
			return 0;
		}
		if (*p == '\r') {
			if (p + 1 == end)
				return hdr_short(st);
			if (p[1] == '\n') {
				*body = p + 2;
				return 0;
			}
			/* A line starting with a bare CR: bad_line below. */
		}
		for (;;) {
			lf = memchr(q, '\n', (size_t)(end - q));
			if (!lf)
				return hdr_short(st);
			if (lf + 1 == end) {
				if (st->mode == SIP_STREAM ||
				    st->avail > st->limit)
					return hdr_short(st);
				break;
			}
			if (lf[1] != ' ' && lf[1] != '\t')
				break;
			q = lf + 1;	/* folded: the line goes on */
		}
		he = lf;
		if (he > hs && he[-1] == '\r')
			he--;
		nul = nul_before(st, lf);
		if (nul) {
			/* Look for the next NUL after this line only. */
			st->nul = NULL;
			st->nul_ok = lf + 1;
		}
		if (nul && !nul_quoted_only(hs, he)) {
			bad_line(st, hs, he, SIP_ERR_NUL);
		} else if (bare_cr(hs, he)) {
			/* A CR inside a line must start a fold's CRLF. */
			bad_line(st, hs, he, SIP_ERR_BARE_CR);
		} else {
			add_header(st, hs, he);
		}
		p = lf + 1;
	}
}

/* --- per-header checks ---------------------------------------------------- */

/*
 * Does the list value @v hold an empty element (",," or a comma at its
 * start or end)?  RFC 3261 writes its lists as "x *(COMMA x)": there is
 * no empty element, and a stray comma is a malformed header.  An open
 * quote or bracket is left to the splitter to report.
 */
static bool list_has_empty(struct sip_str v)
{
	const char *p = v.p, *end = v.p + v.len;

	for (;;) {
		p = sip_skip_lws(p, end);
		if (p == end || *p == ',')
			return true;	/* nothing before this comma or end */
		while (p < end && *p != ',') {
			if (*p == '"') {
				p = sip_quoted_end(p, end);
			} else if (*p == '<') {
				p = memchr(p, '>', (size_t)(end - p));
				if (p)
					p++;
			} else {
				p++;
			}
			if (!p)
				return false;
		}
		if (p == end)
			return false;
		p++;	/* past the comma: an element must follow */
	}
}

/*
 * The top Via could not be parsed whole (a stray ';', a bad parameter):
 * its sent-protocol and sent-by may still be good enough to send the 400
 * back.  Only the head is parsed; raw is the whole first value.
 */
static void via_head_fallback(struct sip_msg *msg, struct sip_str val)
{
	struct sip_via head;

	if (msg->via.host.p || sip_via_parse_head(&head, val.p, val.len))
		return;
	msg->via = head;
}

/* Every value of every Via header, each parsed; the first kept in msg->via. */
static void check_vias(struct parse_st *st)
{
	struct sip_msg *msg = st->msg;
	const struct sip_hdr *h;

	for (h = sip_msg_hdr(msg, SIP_HDR_VIA); h;
	     h = sip_msg_hdr_next(msg, h)) {
		struct sip_str rest = h->value, val;
		enum sip_error why;
		unsigned int got = 0;
		int r;

		if (list_has_empty(h->value)) {
			if (msg->n_via == 0 && sip_list_split(&rest, &val,
							      &why) == 1)
				via_head_fallback(msg, val);
			fail(msg, SIP_ERR_VIA, SIP_HDR_VIA);
			return;
		}
		while ((r = sip_list_split(&rest, &val, &why)) == 1) {
			struct sip_via tmp;

			if (sip_via_parse(msg->n_via ? &tmp : &msg->via, val.p,
					  val.len)) {
				if (msg->n_via == 0)
					via_head_fallback(msg, val);
				fail(msg, SIP_ERR_VIA, SIP_HDR_VIA);
				return;
			}
			got++;
			if (msg->n_via < UINT16_MAX)
				msg->n_via++;
		}
		if (r < 0 || got == 0) {
			if (msg->n_via == 0)
				via_head_fallback(msg, h->value);
			fail(msg, r < 0 ? why : SIP_ERR_VIA, SIP_HDR_VIA);
			return;
		}
	}
}

static void check_addr_list(struct parse_st *st, enum sip_hdr_id id,
			    struct sip_nameaddr *first, uint16_t *count,
			    unsigned int flags, enum sip_error bad)
{
	struct sip_msg *msg = st->msg;
	const struct sip_hdr *h;

	for (h = sip_msg_hdr(msg, id); h; h = sip_msg_hdr_next(msg, h)) {
		struct sip_str rest = h->value, val;
		enum sip_error why;
		unsigned int got = 0;
		int r;

		if (list_has_empty(h->value)) {
			fail(msg, bad, id);
			return;
		}
		while ((r = sip_list_split(&rest, &val, &why)) == 1) {
			struct sip_nameaddr tmp;

			why = sip_na_parse(*count ? &tmp : first, val.p,
					   val.len, flags, bad);
			if (why) {
				fail(msg, why, id);
				return;
			}
			got++;
			if (*count < UINT16_MAX)
				(*count)++;
		}
		if (r < 0 || got == 0) {
			fail(msg, r < 0 ? why : bad, id);
			return;
		}
	}
}

static void check_from_to(struct parse_st *st, enum sip_hdr_id id,
			  struct sip_nameaddr *na, struct sip_uri *uri,
			  enum sip_error bad)
{
	const struct sip_hdr *h = sip_msg_hdr(st->msg, id);
	enum sip_error err;

	if (!h)
		return;
	err = sip_na_parse(na, h->value.p, h->value.len, 0, bad);
	if (!err && sip_uri_parse(uri, na->uri.p, na->uri.len))
		err = bad;
	if (err)
		fail(st->msg, err, id);
}

static void check_call_id(struct parse_st *st)
{
	const struct sip_hdr *h = sip_msg_hdr(st->msg, SIP_HDR_CALL_ID);
	const char *p, *end;

	if (!h)
		return;
	p = h->value.p;
	end = p + h->value.len;
	if (p == end || sip_span(p, end, SIP_CT_WORD) != end) {
		fail(st->msg, SIP_ERR_CALL_ID, SIP_HDR_CALL_ID);
		return;
	}
	st->msg->call_id = h->value;
}

/* CSeq: 1*DIGIT LWS Method, the number below 2^31. */
static void check_cseq(struct parse_st *st)
{
	struct sip_msg *msg = st->msg;
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_CSEQ);
	const char *p, *d, *m, *me, *end;
	uint32_t num;

	if (!h)
		return;
	p = h->value.p;
	end = p + h->value.len;
	d = sip_span(p, end, SIP_CT_DIGIT);
	m = sip_skip_lws(d, end);
	me = sip_span(m, end, SIP_CT_TOKEN);
	if (sip_parse_u32(p, (size_t)(d - p), 0x7fffffffu, &num) || m == d ||
	    me == m || me != end) {
		fail(msg, SIP_ERR_CSEQ, SIP_HDR_CSEQ);
		return;
	}
	msg->cseq.num = num;
	msg->cseq.method_str = sip_str_mk(m, (size_t)(me - m));
	msg->cseq.method = sip_method_from_str(m, (size_t)(me - m));
	/* The CSeq method must be the request's, for every method. */
	if (msg->is_request && !sip_str_eq(msg->cseq.method_str,
					   msg->method_str))
		fail(msg, SIP_ERR_CSEQ_METHOD, SIP_HDR_CSEQ);
}

static void check_numbers(struct parse_st *st)
{
	struct sip_msg *msg = st->msg;
	const struct sip_hdr *h;
	uint32_t v;

	h = sip_msg_hdr(msg, SIP_HDR_MAX_FORWARDS);
	if (h) {
		if (sip_parse_u32(h->value.p, h->value.len, 255, &v))
			fail(msg, SIP_ERR_MAX_FORWARDS, SIP_HDR_MAX_FORWARDS);
		else
			msg->max_forwards = (int)v;
	}
	h = sip_msg_hdr(msg, SIP_HDR_CONTENT_LENGTH);
	if (h) {
		const char *p = h->value.p, *end = p + h->value.len;
		uint64_t n = 0;

		if (p == end || sip_span(p, end, SIP_CT_DIGIT) != end) {
			fail(msg, SIP_ERR_CONTENT_LENGTH,
			     SIP_HDR_CONTENT_LENGTH);
			return;
		}
		for (; p < end; p++) {	/* saturates: "too large" later */
			n = n * 10 + (uint64_t)(*p - '0');
			if (n > UINT32_MAX)
				n = UINT32_MAX;
		}
		msg->content_length = (uint32_t)n;
		msg->has_content_length = true;
	}
}

/* The checks every message must pass, on a fully scanned header section. */
static void check_headers(struct parse_st *st)
{
	static const struct {
		enum sip_hdr_id id;
		enum sip_error missing;
		bool single;
	} req[] = {
		{ SIP_HDR_VIA, SIP_ERR_NO_VIA, false },
		{ SIP_HDR_FROM, SIP_ERR_NO_FROM, true },
		{ SIP_HDR_TO, SIP_ERR_NO_TO, true },
		{ SIP_HDR_CALL_ID, SIP_ERR_NO_CALL_ID, true },
		{ SIP_HDR_CSEQ, SIP_ERR_NO_CSEQ, true },
		{ SIP_HDR_MAX_FORWARDS, SIP_ERR_NONE, true },
		{ SIP_HDR_CONTENT_LENGTH, SIP_ERR_NONE, true },
	};
	struct sip_msg *msg = st->msg;

	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		unsigned int f = msg->hdr_first[req[i].id];

		if (f == SIP_HDR_NONE) {
			if (req[i].missing)
				fail(msg, req[i].missing, req[i].id);
		} else if (req[i].single && msg->hdrs[f].next != SIP_HDR_NONE) {
			fail(msg, SIP_ERR_DUP_HEADER, req[i].id);
		}
	}
	check_vias(st);
	check_from_to(st, SIP_HDR_FROM, &msg->from, &msg->from_uri,
		      SIP_ERR_FROM);
	check_from_to(st, SIP_HDR_TO, &msg->to, &msg->to_uri, SIP_ERR_TO);
	check_call_id(st);
	check_cseq(st);
	check_numbers(st);
	check_addr_list(st, SIP_HDR_CONTACT, &msg->contact, &msg->n_contact,
			SIP_NA_ALLOW_STAR, SIP_ERR_CONTACT);
	check_addr_list(st, SIP_HDR_ROUTE, &msg->route, &msg->n_route,
			SIP_NA_NEED_BRACKETS, SIP_ERR_ROUTE);
	check_addr_list(st, SIP_HDR_RECORD_ROUTE, &msg->record_route,
			&msg->n_record_route, SIP_NA_NEED_BRACKETS,
			SIP_ERR_RECORD_ROUTE);
}

/* Enough is known to send a response to this bad request. */
static bool answerable(const struct parse_st *st)
{
	const struct sip_msg *msg = st->msg;

	/* A usable top Via is all a 400 needs to find its way back; the
	 * answer then copies whichever of From/To/Call-ID/CSeq exist, and
	 * its reason phrase names the one that is missing. */
	return st->request_line && (st->framed || st->partial) &&
	       !st->via_lost && msg->via.host.p;
}

static int parse_fail(struct parse_st *st)
{
	st->msg->answerable = answerable(st);
	return -EBADMSG;
}

int sip_msg_parse(struct sip_msg *msg, const char *buf, size_t len,
		  enum sip_parse_mode mode, size_t *consumed)
{
	struct parse_st st = { .msg = msg, .mode = mode };
	const char *p = NULL, *body = NULL;
	size_t off = 0, hdr_len, body_len, avail_body;
	int r;

	msg_reset(msg);
	while (off < len && (buf[off] == '\r' || buf[off] == '\n'))
		off++;
	if (off == len) {
		if (mode == SIP_DATAGRAM)
			fail(msg, SIP_ERR_EMPTY, SIP_HDR_OTHER);
		else if (len > SIP_MSG_MAX)	/* a flood of CRLFs */
			fail(msg, SIP_ERR_TOO_BIG, SIP_HDR_OTHER);
		else
			return -EAGAIN;
		return parse_fail(&st);
	}
	st.start = buf + off;
	st.avail = len - off;
	st.limit = st.avail < SIP_MSG_MAX ? st.avail : SIP_MSG_MAX;
	st.nul_ok = st.start;

	r = parse_start_line(&st, &p);
	if (r == 0)
		r = scan_headers(&st, p, &body);
	if (r == -EAGAIN)
		return r;
	if (r && msg->error == SIP_ERR_TOO_BIG && st.request_line) {
		/* Too big to frame (a TCP header block over SIP_MSG_MAX):
		 * the Vias among the lines scanned may still carry a 513. */
		st.partial = true;
		check_vias(&st);
	}
	if (r)
		return parse_fail(&st);
	st.framed = true;
	if (mode == SIP_DATAGRAM && st.avail > SIP_MSG_MAX)
		fail(msg, SIP_ERR_TOO_BIG, SIP_HDR_OTHER);
	check_headers(&st);

	hdr_len = (size_t)(body - st.start);
	avail_body = st.avail - hdr_len;
	if (msg->has_content_length) {
		body_len = msg->content_length;
		if (mode == SIP_DATAGRAM && body_len > avail_body)
			fail(msg, SIP_ERR_CONTENT_LENGTH_TOO_LARGE,
			     SIP_HDR_CONTENT_LENGTH);
		else if (mode == SIP_STREAM && body_len > SIP_MSG_MAX - hdr_len)
			fail(msg, SIP_ERR_TOO_BIG, SIP_HDR_CONTENT_LENGTH);
	} else {
		body_len = avail_body;
		if (mode == SIP_STREAM)
			fail(msg, SIP_ERR_NO_CONTENT_LENGTH,
			     SIP_HDR_CONTENT_LENGTH);
	}
	if (msg->error)
		return parse_fail(&st);
	if (body_len > avail_body)
		return -EAGAIN;	/* stream: the body is still arriving */

	msg->body = sip_str_mk(body, body_len);
	msg->raw = sip_str_mk(st.start, hdr_len + body_len);
	if (consumed)
		*consumed = mode == SIP_DATAGRAM ? len
						 : off + hdr_len + body_len;
	return 0;
}
