/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sip_msg.h - SIP message parser (RFC 3261): types and API.
 *
 * Ownership: the parser never allocates.  A struct sip_msg is owned by the
 * caller (it is ~6 KB; a stack variable or a per-worker scratch struct is
 * fine) and needs no cleanup.  Every struct sip_str in it points into the
 * buffer given to sip_msg_parse(), which the caller keeps alive and
 * unchanged for as long as it uses the message.
 *
 * Single pass: the start line and the header lines are split once; the
 * headers a proxy always needs (top Via, From, To, Call-ID, CSeq,
 * Max-Forwards, Content-Length) are parsed during that pass and every
 * Via/Contact/Route/Record-Route value is checked for structure.  Other
 * headers stay raw slices, iterable by id; list values are walked lazily
 * with struct sip_value_iter, and URIs parsed on demand with
 * sip_uri_parse().
 *
 * Typical use (UDP):
 *
 *	struct sip_msg m;
 *	if (sip_msg_parse(&m, buf, n, SIP_DATAGRAM, NULL) == 0) {
 *		... m.call_id, m.from.tag, m.cseq.num ...
 *	} else if (m.answerable) {
 *		reply 400 with m.error_reason
 *	}
 */
#ifndef SIPDLG_SIP_MSG_H
#define SIPDLG_SIP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/sip_str.h"

#define SIP_MSG_MAX 65535u	/* largest message (headers + body) */
#define SIP_MAX_HEADERS 128	/* header lines kept per message (named in
				 * the reason phrase of SIP_ERR_TOO_MANY_HEADERS) */
#define SIP_HDR_NONE 0xffu	/* "no header" index in the id chains */

enum sip_parse_mode {
	SIP_DATAGRAM = 0,	/* UDP: the buffer is exactly one message */
	SIP_STREAM = 1,		/* TCP/TLS: framing by Content-Length */
};

/* Request methods; the enum is case-sensitive, as methods are. */
enum sip_method {
	SIP_METHOD_OTHER = 0,	/* unknown: use the slice */
	SIP_METHOD_INVITE,
	SIP_METHOD_ACK,
	SIP_METHOD_BYE,
	SIP_METHOD_CANCEL,
	SIP_METHOD_OPTIONS,
	SIP_METHOD_REGISTER,
	SIP_METHOD_INFO,
	SIP_METHOD_UPDATE,
	SIP_METHOD_PRACK,
	SIP_METHOD_REFER,
	SIP_METHOD_NOTIFY,
	SIP_METHOD_SUBSCRIBE,
	SIP_METHOD_MESSAGE,
	SIP_METHOD_PUBLISH,
	SIP_METHOD_MAX_
};

/*
 * Header ids.  Full and compact names map to the same id (v -> VIA, ...);
 * names are case-insensitive.  Unknown headers get SIP_HDR_OTHER.
 */
enum sip_hdr_id {
	SIP_HDR_OTHER = 0,
	SIP_HDR_VIA,			/* v */
	SIP_HDR_FROM,			/* f */
	SIP_HDR_TO,			/* t */
	SIP_HDR_CALL_ID,		/* i */
	SIP_HDR_CSEQ,
	SIP_HDR_CONTACT,		/* m */
	SIP_HDR_ROUTE,
	SIP_HDR_RECORD_ROUTE,
	SIP_HDR_MAX_FORWARDS,
	SIP_HDR_CONTENT_LENGTH,		/* l */
	SIP_HDR_CONTENT_TYPE,		/* c */
	SIP_HDR_CONTENT_ENCODING,	/* e */
	SIP_HDR_CONTENT_DISPOSITION,
	SIP_HDR_SUPPORTED,		/* k */
	SIP_HDR_REQUIRE,
	SIP_HDR_PROXY_REQUIRE,
	SIP_HDR_UNSUPPORTED,
	SIP_HDR_ALLOW,
	SIP_HDR_SUBJECT,		/* s */
	SIP_HDR_EVENT,			/* o */
	SIP_HDR_ALLOW_EVENTS,		/* u */
	SIP_HDR_SUBSCRIPTION_STATE,
	SIP_HDR_REFER_TO,		/* r */
	SIP_HDR_REFERRED_BY,		/* b */
	SIP_HDR_REPLACES,
	SIP_HDR_SESSION_EXPIRES,	/* x */
	SIP_HDR_MIN_SE,
	SIP_HDR_EXPIRES,
	SIP_HDR_MIN_EXPIRES,
	SIP_HDR_RSEQ,
	SIP_HDR_RACK,
	SIP_HDR_REASON,
	SIP_HDR_USER_AGENT,
	SIP_HDR_SERVER,
	SIP_HDR_AUTHORIZATION,
	SIP_HDR_PROXY_AUTHORIZATION,
	SIP_HDR_WWW_AUTHENTICATE,
	SIP_HDR_PROXY_AUTHENTICATE,
	SIP_HDR_PATH,
	SIP_HDR_P_ASSERTED_IDENTITY,
	SIP_HDR_PRIVACY,
	SIP_HDR_ACCEPT,
	SIP_HDR_DATE,
	SIP_HDR_TIMESTAMP,
	SIP_HDR_WARNING,
	SIP_HDR_ID_MAX_
};

/*
 * Why a message is malformed.  Each has a reason phrase from
 * sip_error_str() ("Bad Request - Missing Call-ID") and a status code to
 * answer with from sip_error_status() (400, 505 or 513).
 */
enum sip_error {
	SIP_ERR_NONE = 0,
	SIP_ERR_EMPTY,			/* only CR/LF: a keep-alive */
	SIP_ERR_START_LINE,		/* no Request-Line or Status-Line */
	SIP_ERR_RURI,			/* Request-URI does not parse */
	SIP_ERR_VERSION,		/* "SIP/x.y" malformed */
	SIP_ERR_VERSION_UNSUPPORTED,	/* well-formed, but not SIP/2.0 */
	SIP_ERR_STATUS,			/* status code not 100..699 */
	SIP_ERR_HEADER_LINE,		/* header line without "name:" */
	SIP_ERR_NUL,			/* NUL in start line or headers */
	SIP_ERR_BARE_CR,		/* CR without LF in the headers */
	SIP_ERR_TOO_MANY_HEADERS,	/* more than SIP_MAX_HEADERS */
	SIP_ERR_UNTERMINATED,		/* datagram ends in the headers */
	SIP_ERR_TOO_BIG,		/* message over SIP_MSG_MAX bytes */
	SIP_ERR_NO_VIA,
	SIP_ERR_NO_FROM,
	SIP_ERR_NO_TO,
	SIP_ERR_NO_CALL_ID,
	SIP_ERR_NO_CSEQ,
	SIP_ERR_DUP_HEADER,		/* single-instance header repeated */
	SIP_ERR_VIA,
	SIP_ERR_FROM,
	SIP_ERR_TO,
	SIP_ERR_CALL_ID,
	SIP_ERR_CSEQ,			/* number >= 2^31, or syntax */
	SIP_ERR_CSEQ_METHOD,		/* CSeq method != request method */
	SIP_ERR_CONTACT,
	SIP_ERR_ROUTE,
	SIP_ERR_RECORD_ROUTE,
	SIP_ERR_UNTERMINATED_URI,	/* '<' without '>' */
	SIP_ERR_UNTERMINATED_QUOTE,	/* '"' without closing '"' */
	SIP_ERR_MAX_FORWARDS,
	SIP_ERR_CONTENT_LENGTH,		/* not a number */
	SIP_ERR_CONTENT_LENGTH_TOO_LARGE, /* larger than the datagram */
	SIP_ERR_NO_CONTENT_LENGTH,	/* stream mode requires one */
	SIP_ERR_MAX_
};

enum sip_uri_scheme {
	SIP_SCHEME_OTHER = 0,	/* absoluteURI: only scheme, rest set */
	SIP_SCHEME_SIP,
	SIP_SCHEME_SIPS,
	SIP_SCHEME_TEL,
};

enum sip_host_type {
	SIP_HOST_NONE = 0,
	SIP_HOST_DOMAIN,
	SIP_HOST_IPV4,
	SIP_HOST_IPV6,		/* host slice is without the brackets */
};

enum sip_transport {
	SIP_TP_OTHER = 0,
	SIP_TP_UDP,
	SIP_TP_TCP,
	SIP_TP_TLS,
	SIP_TP_SCTP,
	SIP_TP_WS,
	SIP_TP_WSS,
};

/*
 * A parsed URI.  Slices are raw (escapes such as %40 are not decoded).
 * sip:/sips:  user, password, host, port, params, headers.
 * tel:        user holds the telephone-subscriber number, params its
 *             parameters; host is absent.
 * other:      only scheme and rest.
 */
struct sip_uri {
	struct sip_str raw;		/* the whole URI */
	struct sip_str scheme;		/* "sip", "SIPS", "tel", ... */
	struct sip_str rest;		/* everything after "scheme:" */
	struct sip_str user;		/* absent when there is no '@' */
	struct sip_str password;	/* absent without "user:" */
	struct sip_str host;
	struct sip_str params;		/* after the first ';', to '?' */
	struct sip_str headers;		/* after '?' */
	/* Frequently used parameters, found while parsing. */
	struct sip_str transport;	/* ;transport= */
	struct sip_str maddr;		/* ;maddr= */
	struct sip_str user_param;	/* ;user= (e.g. "phone") */
	enum sip_uri_scheme type;
	enum sip_host_type host_type;
	uint16_t port;			/* valid when has_port */
	bool has_port;
	bool lr;			/* ;lr present */
};

/* Parsed Via value (one hop). */
struct sip_via {
	struct sip_str raw;		/* the whole value, trimmed */
	struct sip_str proto_name;	/* "SIP" */
	struct sip_str proto_version;	/* "2.0" */
	struct sip_str transport_str;	/* "UDP", as written */
	struct sip_str host;		/* sent-by host, IPv6 without [] */
	struct sip_str params;		/* ";a=1;b", or absent */
	struct sip_str branch;
	struct sip_str received;
	struct sip_str maddr;
	struct sip_str rport;		/* present-empty for ";rport" */
	enum sip_transport transport;
	enum sip_host_type host_type;
	uint16_t port;			/* valid when has_port */
	uint16_t rport_value;		/* valid when has_rport_value */
	bool has_port;
	bool has_rport_value;
};

/*
 * name-addr or addr-spec with header parameters, as in From, To, Contact,
 * Route, Record-Route.  For a bare addr-spec ("sip:a@b;tag=x") the
 * parameters belong to the header (RFC 3261 section 20), so "tag" is a
 * header parameter and the URI is "sip:a@b".
 */
struct sip_nameaddr {
	struct sip_str raw;		/* the whole value, trimmed */
	struct sip_str display;		/* no quotes, escapes kept */
	struct sip_str uri;		/* inside <>, or bare addr-spec */
	struct sip_str params;		/* ";a=1;b", or absent */
	struct sip_str tag;		/* ;tag= value, or absent */
	bool star;			/* Contact: * */
	bool bracketed;			/* the URI was inside <> */
};

struct sip_cseq {
	uint32_t num;			/* < 2^31 */
	enum sip_method method;
	struct sip_str method_str;
};

/* One header line. */
struct sip_hdr {
	struct sip_str name;		/* as written: "v", "VIA", ... */
	struct sip_str value;		/* LWS-trimmed; folds kept */
	uint8_t id;			/* enum sip_hdr_id */
	uint8_t next;			/* next index, same id, or NONE */
};

struct sip_msg {
	/* Start line. */
	bool is_request;
	enum sip_method method;		/* requests */
	struct sip_str method_str;
	struct sip_str ruri_str;
	struct sip_uri ruri;		/* parsed Request-URI */
	struct sip_str version;		/* "SIP/2.0" as written */
	uint16_t status;		/* responses: 100..699 */
	struct sip_str reason;		/* responses: may be empty */

	/* Quick access to what every layer needs. */
	struct sip_via via;		/* first value of the first Via */
	struct sip_nameaddr from, to;
	struct sip_uri from_uri, to_uri;
	struct sip_str call_id;
	struct sip_cseq cseq;
	int max_forwards;		/* -1 when absent */
	uint32_t content_length;	/* valid when has_content_length */
	bool has_content_length;
	/* First values of the address lists; .raw absent if none. */
	struct sip_nameaddr contact, route, record_route;
	uint16_t n_via, n_contact, n_route, n_record_route; /* values */

	struct sip_str raw;		/* message after leading CRLFs */
	struct sip_str body;		/* set (maybe empty) on success */

	/* Error report (valid after -EBADMSG). */
	enum sip_error error;
	const char *error_reason;	/* static string, never freed */
	enum sip_hdr_id error_hdr;	/* header at fault, if any */
	bool answerable;		/* a request we can send a 4xx/5xx to */

	/* Headers in order of appearance, chained by id. */
	uint16_t hdr_count;
	uint8_t hdr_first[SIP_HDR_ID_MAX_];
	uint8_t hdr_last[SIP_HDR_ID_MAX_];
	struct sip_hdr hdrs[SIP_MAX_HEADERS];
};

/*
 * Parse the message at @buf (@len bytes) into @msg.
 *
 * Leading CR/LF bytes (keep-alives) are skipped in both modes and count
 * in *consumed.  In SIP_DATAGRAM mode the buffer is one whole message: a
 * missing Content-Length means the body is the rest of the datagram, and
 * bytes after Content-Length are ignored.  In SIP_STREAM mode the message
 * ends after Content-Length body bytes, which is required.
 *
 * Returns 0 (and *consumed = bytes of this message, if @consumed is not
 * NULL), -EAGAIN when more bytes are needed (stream mode only; @msg is then
 * undefined; call again with the longer buffer), or -EBADMSG with
 * msg->error, msg->error_reason and msg->answerable set.  After -EBADMSG
 * on a stream the framing is lost: answer if possible, then close.
 *
 * Each call is linear in the bytes it looks at (at most SIP_MSG_MAX) and
 * keeps no state, so a stream caller re-parses from the message start:
 * call again when a read brings new bytes, not per byte.  NUL bytes are
 * refused anywhere before the body (400 "NUL Byte in Header"), except as
 * the escaped byte of a quoted-pair inside a quoted-string of a header
 * value ("\<NUL>", RFC 3261 25.1; RFC 4475 3.1.1.10 "intmeth"): such a
 * header value, and a display name taken from it, may hold a NUL, so a
 * slice must never be handed to a C-string function as if it ended
 * there.  The start line and header names never hold one.
 */
int sip_msg_parse(struct sip_msg *msg, const char *buf, size_t len,
		  enum sip_parse_mode mode, size_t *consumed);

/* Header access: first header with @id, or NULL; then the next one. */
const struct sip_hdr *sip_msg_hdr(const struct sip_msg *msg,
				  enum sip_hdr_id id);
const struct sip_hdr *sip_msg_hdr_next(const struct sip_msg *msg,
				       const struct sip_hdr *hdr);
/* First header named @name (case-insensitive, any id), or NULL. */
const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *msg,
					  const char *name);

/*
 * Walk the comma-separated values of every header with one id, in order
 * ("Via: a, b" then "Via: c" gives a, b, c).  Commas inside "..." and
 * <...> do not split.  Nothing is allocated; the iterator is a cursor.
 */
struct sip_value_iter {
	const struct sip_msg *msg;
	const struct sip_hdr *hdr;	/* NULL at the end */
	struct sip_str rest;		/* unread part of hdr->value */
};

void sip_value_iter_init(struct sip_value_iter *it, const struct sip_msg *msg,
			 enum sip_hdr_id id);
/*
 * 1 and *val set, 0 at the end, -EBADMSG on an unbalanced '<' or '"' (stop
 * there: the iterator does not move past it).  Via, Contact, Route and
 * Record-Route values were all checked by sip_msg_parse(), so on those
 * the walk cannot fail.
 */
int sip_value_next(struct sip_value_iter *it, struct sip_str *val);
/* Same, then parsed as an address (Contact, Route, Record-Route, ...). */
int sip_value_next_addr(struct sip_value_iter *it, struct sip_nameaddr *na);
/* Same, then parsed as a Via. */
int sip_value_next_via(struct sip_value_iter *it, struct sip_via *via);

/*
 * Split one value off the front of the list @rest (which advances).
 * 1 and *val set, 0 when only LWS and commas remain, -EBADMSG if a '<' or
 * '"' is not closed.
 */
int sip_list_next(struct sip_str *rest, struct sip_str *val);

/* Flags for sip_nameaddr_parse(). */
#define SIP_NA_NEED_BRACKETS 0x1u	/* Route, Record-Route */
#define SIP_NA_ALLOW_STAR 0x2u		/* Contact */

/* Parse one address value.  0, or -EINVAL if malformed. */
int sip_nameaddr_parse(struct sip_nameaddr *na, const char *s, size_t len,
		       unsigned int flags);
/* Parse one Via value.  0, or -EINVAL if malformed. */
int sip_via_parse(struct sip_via *via, const char *s, size_t len);
/*
 * Only the sent-protocol and sent-by of a Via value (what a response
 * needs to find its way), whatever follows them; params stay absent.
 * For answering a request whose top Via is otherwise malformed.
 */
int sip_via_parse_head(struct sip_via *via, const char *s, size_t len);

/*
 * Parse a URI.  sip:, sips: and tel: are taken apart; any other
 * syntactically valid absoluteURI parses with type SIP_SCHEME_OTHER.
 * 0, or -EINVAL if malformed.
 */
int sip_uri_parse(struct sip_uri *uri, const char *s, size_t len);

/*
 * Find the URI parameter @name (case-insensitive) of @uri.  0 with *val
 * set (present-empty for ";lr"), or -ENOENT.  @val may be NULL.
 */
int sip_uri_param(const struct sip_uri *uri, const char *name,
		  struct sip_str *val);
/* Same for a URI header ("?name=value&..."). */
int sip_uri_header(const struct sip_uri *uri, const char *name,
		   struct sip_str *val);
/*
 * Find the header parameter @name in @params, the params slice of a
 * struct sip_nameaddr or struct sip_via (LWS around ';' and '=' allowed;
 * a quoted value keeps its quotes).  0 with *val set, or -ENOENT.
 */
int sip_param_find(struct sip_str params, const char *name,
		   struct sip_str *val);

/* Names and codes. */
enum sip_method sip_method_from_str(const char *s, size_t len);
const char *sip_method_name(enum sip_method m);	/* "OTHER" for unknown */
enum sip_hdr_id sip_hdr_id_from_name(const char *s, size_t len);
const char *sip_hdr_name(enum sip_hdr_id id);	/* canonical full name */
const char *sip_error_str(enum sip_error err);	/* reason phrase */
int sip_error_status(enum sip_error err);	/* 400, 505 or 513 */

#endif /* SIPDLG_SIP_MSG_H */
