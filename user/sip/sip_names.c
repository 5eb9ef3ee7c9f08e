// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sip_names.c - the constant tables of the SIP parser: character classes,
 * method and header names (full and compact), error reason phrases.
 */
#include "sip/sip_int.h"

#include <errno.h>

/* --- character classes (RFC 3261 section 25.1), built at compile time -- */

#define C_D(c) ((c) >= '0' && (c) <= '9')
#define C_A(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define C_X(c) (C_D(c) || ((c) >= 'a' && (c) <= 'f') || \
		((c) >= 'A' && (c) <= 'F'))
#define C_AN(c) (C_A(c) || C_D(c))
#define C_MARK(c) ((c) == '-' || (c) == '_' || (c) == '.' || (c) == '!' || \
		   (c) == '~' || (c) == '*' || (c) == '\'' || (c) == '(' || \
		   (c) == ')')
#define C_UNRES(c) (C_AN(c) || C_MARK(c))
#define C_TOKEN(c) (C_AN(c) || (c) == '-' || (c) == '.' || (c) == '!' || \
		    (c) == '%' || (c) == '*' || (c) == '_' || (c) == '+' || \
		    (c) == '`' || (c) == '\'' || (c) == '~')
#define C_PASSX(c) ((c) == '&' || (c) == '=' || (c) == '+' || (c) == '$' || \
		    (c) == ',')
#define C_USER(c) (C_UNRES(c) || C_PASSX(c) || (c) == ';' || (c) == '?' || \
		   (c) == '/')
#define C_PARAM(c) (C_UNRES(c) || (c) == '[' || (c) == ']' || (c) == '/' || \
		    (c) == ':' || (c) == '&' || (c) == '+' || (c) == '$')
#define C_HNV(c) (C_UNRES(c) || (c) == '[' || (c) == ']' || (c) == '/' || \
		  (c) == '?' || (c) == ':' || (c) == '+' || (c) == '$')
#define C_HOST(c) (C_AN(c) || (c) == '-' || (c) == '.' || (c) == '_')
#define C_LWS(c) ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')
#define C_PHONE(c) (C_X(c) || (c) == '*' || (c) == '#' || (c) == '-' || \
		    (c) == '.' || (c) == '(' || (c) == ')')
#define C_URIC(c) (C_UNRES(c) || (c) == ';' || (c) == '/' || (c) == '?' || \
		   (c) == ':' || (c) == '@' || (c) == '&' || (c) == '=' || \
		   (c) == '+' || (c) == '$' || (c) == ',' || (c) == '[' || \
		   (c) == ']')
#define C_PVAL(c) ((c) > 0x20 && (c) < 0x7f && (c) != ';' && (c) != ',' && \
		   (c) != '"' && (c) != '<' && (c) != '>')
#define C_WORD(c) (C_TOKEN(c) || (c) == '(' || (c) == ')' || (c) == '<' || \
		   (c) == '>' || (c) == ':' || (c) == '\\' || (c) == '"' || \
		   (c) == '/' || (c) == '[' || (c) == ']' || (c) == '?' || \
		   (c) == '{' || (c) == '}' || (c) == '@')

#define C_UCHR(c) ((c) > 0x20 && (c) < 0x7f && (c) != '"' && (c) != '<' && \
		   (c) != '>')
#define C_LSEP(c) ((c) == '"' || (c) == '<' || (c) == ',')

#define CT(c)                                                             \
	(uint32_t)((C_D(c) ? SIP_CT_DIGIT : 0) | (C_A(c) ? SIP_CT_ALPHA : 0) | \
		   (C_X(c) ? SIP_CT_HEX : 0) |                              \
		   (C_TOKEN(c) ? SIP_CT_TOKEN : 0) |                        \
		   (C_UNRES(c) ? SIP_CT_UNRES : 0) |                        \
		   (C_USER(c) ? SIP_CT_USER : 0) |                          \
		   ((C_UNRES(c) || C_PASSX(c)) ? SIP_CT_PASS : 0) |         \
		   (C_PARAM(c) ? SIP_CT_PARAM : 0) |                        \
		   (C_HNV(c) ? SIP_CT_HNV : 0) |                            \
		   (C_HOST(c) ? SIP_CT_HOST : 0) |                          \
		   (C_LWS(c) ? SIP_CT_LWS : 0) |                            \
		   (C_PHONE(c) ? SIP_CT_PHONE : 0) |                        \
		   (C_URIC(c) ? SIP_CT_URIC : 0) |                          \
		   (C_PVAL(c) ? SIP_CT_PVAL : 0) |                          \
		   (C_WORD(c) ? SIP_CT_WORD : 0) |                          \
		   (C_UCHR(c) ? SIP_CT_UCHR : 0) |                          \
		   (C_LSEP(c) ? SIP_CT_LSEP : 0))
#define CT4(c) CT(c), CT((c) + 1), CT((c) + 2), CT((c) + 3)
#define CT16(c) CT4(c), CT4((c) + 4), CT4((c) + 8), CT4((c) + 12)
#define CT64(c) CT16(c), CT16((c) + 16), CT16((c) + 32), CT16((c) + 48)

const uint32_t sip_ctype[256] = { CT64(0), CT64(64), CT64(128), CT64(192) };

/* --- methods ------------------------------------------------------------ */

static const char *const method_names[SIP_METHOD_MAX_] = {
	[SIP_METHOD_OTHER] = "OTHER",
	[SIP_METHOD_INVITE] = "INVITE",
	[SIP_METHOD_ACK] = "ACK",
	[SIP_METHOD_BYE] = "BYE",
	[SIP_METHOD_CANCEL] = "CANCEL",
	[SIP_METHOD_OPTIONS] = "OPTIONS",
	[SIP_METHOD_REGISTER] = "REGISTER",
	[SIP_METHOD_INFO] = "INFO",
	[SIP_METHOD_UPDATE] = "UPDATE",
	[SIP_METHOD_PRACK] = "PRACK",
	[SIP_METHOD_REFER] = "REFER",
	[SIP_METHOD_NOTIFY] = "NOTIFY",
	[SIP_METHOD_SUBSCRIBE] = "SUBSCRIBE",
	[SIP_METHOD_MESSAGE] = "MESSAGE",
	[SIP_METHOD_PUBLISH] = "PUBLISH",
};

/* Methods are case-sensitive (RFC 3261 section 7.1): "invite" is OTHER. */
enum sip_method sip_method_from_str(const char *s, size_t len)
{
#define M(id)                                                            \
	do {                                                             \
		if (memcmp(s, method_names[id], len) == 0)              \
			return id;                                       \
	} while (0)
	switch (len) {
	case 3:
		M(SIP_METHOD_ACK);
		M(SIP_METHOD_BYE);
		break;
	case 4:
		M(SIP_METHOD_INFO);
		break;
	case 5:
		M(SIP_METHOD_PRACK);
		M(SIP_METHOD_REFER);
		break;
	case 6:
		M(SIP_METHOD_INVITE);
		M(SIP_METHOD_CANCEL);
		M(SIP_METHOD_UPDATE);
		M(SIP_METHOD_NOTIFY);
		break;
	case 7:
		M(SIP_METHOD_OPTIONS);
		M(SIP_METHOD_MESSAGE);
		M(SIP_METHOD_PUBLISH);
		break;
	case 8:
		M(SIP_METHOD_REGISTER);
		break;
	case 9:
		M(SIP_METHOD_SUBSCRIBE);
		break;
	default:
		break;
	}
#undef M
	return SIP_METHOD_OTHER;
}

const char *sip_method_name(enum sip_method m)
{
	if ((unsigned int)m >= SIP_METHOD_MAX_)
		return "OTHER";
	return method_names[m];
}

/* --- header names ------------------------------------------------------- */

#define HN(s) { s, sizeof(s) - 1 }
static const struct {
	const char *s;
	uint8_t len;
} hdr_names[SIP_HDR_ID_MAX_] = {
	[SIP_HDR_OTHER] = HN(""),
	[SIP_HDR_VIA] = HN("Via"),
	[SIP_HDR_FROM] = HN("From"),
	[SIP_HDR_TO] = HN("To"),
	[SIP_HDR_CALL_ID] = HN("Call-ID"),
	[SIP_HDR_CSEQ] = HN("CSeq"),
	[SIP_HDR_CONTACT] = HN("Contact"),
	[SIP_HDR_ROUTE] = HN("Route"),
	[SIP_HDR_RECORD_ROUTE] = HN("Record-Route"),
	[SIP_HDR_MAX_FORWARDS] = HN("Max-Forwards"),
	[SIP_HDR_CONTENT_LENGTH] = HN("Content-Length"),
	[SIP_HDR_CONTENT_TYPE] = HN("Content-Type"),
	[SIP_HDR_CONTENT_ENCODING] = HN("Content-Encoding"),
	[SIP_HDR_CONTENT_DISPOSITION] = HN("Content-Disposition"),
	[SIP_HDR_SUPPORTED] = HN("Supported"),
	[SIP_HDR_REQUIRE] = HN("Require"),
	[SIP_HDR_PROXY_REQUIRE] = HN("Proxy-Require"),
	[SIP_HDR_UNSUPPORTED] = HN("Unsupported"),
	[SIP_HDR_ALLOW] = HN("Allow"),
	[SIP_HDR_SUBJECT] = HN("Subject"),
	[SIP_HDR_EVENT] = HN("Event"),
	[SIP_HDR_ALLOW_EVENTS] = HN("Allow-Events"),
	[SIP_HDR_SUBSCRIPTION_STATE] = HN("Subscription-State"),
	[SIP_HDR_REFER_TO] = HN("Refer-To"),
	[SIP_HDR_REFERRED_BY] = HN("Referred-By"),
	[SIP_HDR_REPLACES] = HN("Replaces"),
	[SIP_HDR_SESSION_EXPIRES] = HN("Session-Expires"),
	[SIP_HDR_MIN_SE] = HN("Min-SE"),
	[SIP_HDR_EXPIRES] = HN("Expires"),
	[SIP_HDR_MIN_EXPIRES] = HN("Min-Expires"),
	[SIP_HDR_RSEQ] = HN("RSeq"),
	[SIP_HDR_RACK] = HN("RAck"),
	[SIP_HDR_REASON] = HN("Reason"),
	[SIP_HDR_USER_AGENT] = HN("User-Agent"),
	[SIP_HDR_SERVER] = HN("Server"),
	[SIP_HDR_AUTHORIZATION] = HN("Authorization"),
	[SIP_HDR_PROXY_AUTHORIZATION] = HN("Proxy-Authorization"),
	[SIP_HDR_WWW_AUTHENTICATE] = HN("WWW-Authenticate"),
	[SIP_HDR_PROXY_AUTHENTICATE] = HN("Proxy-Authenticate"),
	[SIP_HDR_PATH] = HN("Path"),
	[SIP_HDR_P_ASSERTED_IDENTITY] = HN("P-Asserted-Identity"),
	[SIP_HDR_PRIVACY] = HN("Privacy"),
	[SIP_HDR_ACCEPT] = HN("Accept"),
	[SIP_HDR_DATE] = HN("Date"),
	[SIP_HDR_TIMESTAMP] = HN("Timestamp"),
	[SIP_HDR_WARNING] = HN("Warning"),
};
#undef HN

/* Compact forms (RFC 3261 section 7.3.3 and the RFCs that added some). */
static enum sip_hdr_id hdr_compact(char c)
{
	switch (sip_lc((unsigned char)c)) {
	case 'i': return SIP_HDR_CALL_ID;
	case 'f': return SIP_HDR_FROM;
	case 't': return SIP_HDR_TO;
	case 'v': return SIP_HDR_VIA;
	case 'm': return SIP_HDR_CONTACT;
	case 'l': return SIP_HDR_CONTENT_LENGTH;
	case 'c': return SIP_HDR_CONTENT_TYPE;
	case 'k': return SIP_HDR_SUPPORTED;
	case 's': return SIP_HDR_SUBJECT;
	case 'e': return SIP_HDR_CONTENT_ENCODING;
	case 'o': return SIP_HDR_EVENT;
	case 'r': return SIP_HDR_REFER_TO;
	case 'u': return SIP_HDR_ALLOW_EVENTS;
	case 'x': return SIP_HDR_SESSION_EXPIRES;
	case 'b': return SIP_HDR_REFERRED_BY;
	default: return SIP_HDR_OTHER;
	}
}

/*
 * @s (a token, so never CR or other controls) equals the known name @k,
 * ignoring case: for letters and '-', OR-ing 0x20 folds case, and no
 * token character other than the letter's two cases folds onto it.
 */
static bool hdr_name_eq(const char *s, const char *k, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((s[i] | 0x20) != (k[i] | 0x20))
			return false;
	return true;
}

/*
 * Case-insensitive name -> id.  A switch on the first letter leaves a
 * handful of length-filtered candidates, so a lookup costs a few compares.
 */
enum sip_hdr_id sip_hdr_id_from_name(const char *s, size_t len)
{
#define H(id)                                                             \
	do {                                                              \
		if (len == hdr_names[id].len &&                           \
		    hdr_name_eq(s, hdr_names[id].s, len))                 \
			return id;                                        \
	} while (0)
	if (len == 0)
		return SIP_HDR_OTHER;
	if (len == 1)
		return hdr_compact(s[0]);
	switch (sip_lc((unsigned char)s[0])) {
	case 'a':
		H(SIP_HDR_ACCEPT);
		H(SIP_HDR_ALLOW);
		H(SIP_HDR_ALLOW_EVENTS);
		H(SIP_HDR_AUTHORIZATION);
		break;
	case 'c':
		H(SIP_HDR_CALL_ID);
		H(SIP_HDR_CSEQ);
		H(SIP_HDR_CONTACT);
		H(SIP_HDR_CONTENT_LENGTH);
		H(SIP_HDR_CONTENT_TYPE);
		H(SIP_HDR_CONTENT_ENCODING);
		H(SIP_HDR_CONTENT_DISPOSITION);
		break;
	case 'd':
		H(SIP_HDR_DATE);
		break;
	case 'e':
		H(SIP_HDR_EVENT);
		H(SIP_HDR_EXPIRES);
		break;
	case 'f':
		H(SIP_HDR_FROM);
		break;
	case 'm':
		H(SIP_HDR_MAX_FORWARDS);
		H(SIP_HDR_MIN_SE);
		H(SIP_HDR_MIN_EXPIRES);
		break;
	case 'p':
		H(SIP_HDR_PROXY_REQUIRE);
		H(SIP_HDR_PROXY_AUTHORIZATION);
		H(SIP_HDR_PROXY_AUTHENTICATE);
		H(SIP_HDR_PATH);
		H(SIP_HDR_P_ASSERTED_IDENTITY);
		H(SIP_HDR_PRIVACY);
		break;
	case 'r':
		H(SIP_HDR_ROUTE);
		H(SIP_HDR_RECORD_ROUTE);
		H(SIP_HDR_REQUIRE);
		H(SIP_HDR_REFER_TO);
		H(SIP_HDR_REFERRED_BY);
		H(SIP_HDR_REPLACES);
		H(SIP_HDR_RSEQ);
		H(SIP_HDR_RACK);
		H(SIP_HDR_REASON);
		break;
	case 's':
		H(SIP_HDR_SUPPORTED);
		H(SIP_HDR_SUBJECT);
		H(SIP_HDR_SUBSCRIPTION_STATE);
		H(SIP_HDR_SESSION_EXPIRES);
		H(SIP_HDR_SERVER);
		break;
	case 't':
		H(SIP_HDR_TO);
		H(SIP_HDR_TIMESTAMP);
		break;
	case 'u':
		H(SIP_HDR_UNSUPPORTED);
		H(SIP_HDR_USER_AGENT);
		break;
	case 'v':
		H(SIP_HDR_VIA);
		break;
	case 'w':
		H(SIP_HDR_WWW_AUTHENTICATE);
		H(SIP_HDR_WARNING);
		break;
	default:
		break;
	}
#undef H
	return SIP_HDR_OTHER;
}

const char *sip_hdr_name(enum sip_hdr_id id)
{
	if ((unsigned int)id >= SIP_HDR_ID_MAX_)
		return "";
	return hdr_names[id].s;
}

/* --- errors ------------------------------------------------------------- */

static const char *const error_str[SIP_ERR_MAX_] = {
	[SIP_ERR_NONE] = "OK",
	[SIP_ERR_EMPTY] = "Bad Request - Empty Message",
	[SIP_ERR_START_LINE] = "Bad Request - Malformed Start Line",
	[SIP_ERR_RURI] = "Bad Request - Malformed Request-URI",
	[SIP_ERR_VERSION] = "Bad Request - Malformed SIP Version",
	[SIP_ERR_VERSION_UNSUPPORTED] = "SIP Version Not Supported",
	[SIP_ERR_STATUS] = "Bad Request - Bad Status Code",
	[SIP_ERR_HEADER_LINE] = "Bad Request - Malformed Header Line",
	[SIP_ERR_NUL] = "Bad Request - NUL Byte in Header",
	[SIP_ERR_BARE_CR] = "Bad Request - Bare CR in Header",
	/* A genuine fixed limit: the reason names it. */
	[SIP_ERR_TOO_MANY_HEADERS] = "Bad Request - Too Many Headers (max 128)",
	[SIP_ERR_UNTERMINATED] = "Bad Request - Unterminated Header Section",
	[SIP_ERR_TOO_BIG] = "Message Too Large",
	[SIP_ERR_NO_VIA] = "Bad Request - Missing Via",
	[SIP_ERR_NO_FROM] = "Bad Request - Missing From",
	[SIP_ERR_NO_TO] = "Bad Request - Missing To",
	[SIP_ERR_NO_CALL_ID] = "Bad Request - Missing Call-ID",
	[SIP_ERR_NO_CSEQ] = "Bad Request - Missing CSeq",
	[SIP_ERR_DUP_HEADER] = "Bad Request - Duplicate Header",
	[SIP_ERR_VIA] = "Bad Request - Malformed Via",
	[SIP_ERR_FROM] = "Bad Request - Malformed From",
	[SIP_ERR_TO] = "Bad Request - Malformed To",
	[SIP_ERR_CALL_ID] = "Bad Request - Malformed Call-ID",
	[SIP_ERR_CSEQ] = "Bad Request - Bad CSeq Number",
	[SIP_ERR_CSEQ_METHOD] = "Bad Request - CSeq Method Mismatch",
	[SIP_ERR_CONTACT] = "Bad Request - Malformed Contact",
	[SIP_ERR_ROUTE] = "Bad Request - Malformed Route",
	[SIP_ERR_RECORD_ROUTE] = "Bad Request - Malformed Record-Route",
	[SIP_ERR_UNTERMINATED_URI] = "Bad Request - Unterminated URI Bracket",
	[SIP_ERR_UNTERMINATED_QUOTE] = "Bad Request - Unterminated Quote",
	[SIP_ERR_MAX_FORWARDS] = "Bad Request - Bad Max-Forwards",
	[SIP_ERR_CONTENT_LENGTH] = "Bad Request - Bad Content-Length",
	[SIP_ERR_CONTENT_LENGTH_TOO_LARGE] =
		"Bad Request - Content-Length Larger Than the Datagram",
	[SIP_ERR_NO_CONTENT_LENGTH] = "Bad Request - Missing Content-Length",
};

const char *sip_error_str(enum sip_error err)
{
	if ((unsigned int)err >= SIP_ERR_MAX_)
		return "Bad Request";
	return error_str[err];
}

int sip_error_status(enum sip_error err)
{
	switch (err) {
	case SIP_ERR_NONE:
		return 200;
	case SIP_ERR_VERSION_UNSUPPORTED:
		return 505;
	case SIP_ERR_TOO_BIG:
		return 513;
	default:
		return 400;
	}
}

const char *sip_dup_reason(enum sip_hdr_id id)
{
	switch (id) {
	case SIP_HDR_FROM: return "Bad Request - Duplicate From";
	case SIP_HDR_TO: return "Bad Request - Duplicate To";
	case SIP_HDR_CALL_ID: return "Bad Request - Duplicate Call-ID";
	case SIP_HDR_CSEQ: return "Bad Request - Duplicate CSeq";
	case SIP_HDR_MAX_FORWARDS:
		return "Bad Request - Duplicate Max-Forwards";
	case SIP_HDR_CONTENT_LENGTH:
		return "Bad Request - Duplicate Content-Length";
	default: return error_str[SIP_ERR_DUP_HEADER];
	}
}
