/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sip_int.h - private to user/sip/: character classes (RFC 3261 section
 * 25.1) and the scanners shared by the message, header and URI parsers.
 * Every scanner takes [p, end) and never reads at or past end.
 */
#ifndef SIPDLG_SIP_INT_H
#define SIPDLG_SIP_INT_H

#include "sip/sip_msg.h"

/* Character class bits of sip_ctype[]. */
#define SIP_CT_DIGIT 0x0001u
#define SIP_CT_ALPHA 0x0002u
#define SIP_CT_HEX 0x0004u
#define SIP_CT_TOKEN 0x0008u	/* token */
#define SIP_CT_UNRES 0x0010u	/* unreserved = alphanum / mark */
#define SIP_CT_USER 0x0020u	/* user, except escapes */
#define SIP_CT_PASS 0x0040u	/* password, except escapes */
#define SIP_CT_PARAM 0x0080u	/* paramchar, except escapes */
#define SIP_CT_HNV 0x0100u	/* hname/hvalue, except escapes */
#define SIP_CT_HOST 0x0200u	/* hostname / IPv4 characters */
#define SIP_CT_LWS 0x0400u	/* SP HT CR LF (folds are LWS) */
#define SIP_CT_PHONE 0x0800u	/* tel: phonedigit-hex, separators */
#define SIP_CT_URIC 0x1000u	/* uric of absoluteURI, except escapes */
#define SIP_CT_PVAL 0x2000u	/* header param value (liberal) */
#define SIP_CT_WORD 0x4000u	/* Call-ID word and '@' */
#define SIP_CT_UCHR 0x8000u	/* may appear in a URI inside <> */
#define SIP_CT_LSEP 0x10000u	/* list specials: '"' '<' ',' */

extern const uint32_t sip_ctype[256];

static inline bool sip_is(char c, uint32_t cls)
{
	return (sip_ctype[(unsigned char)c] & cls) != 0;
}

/* Skip LWS (SP, HT, and the CRLF of folds) forwards. */
static inline const char *sip_skip_lws(const char *p, const char *end)
{
	while (p < end && sip_is(*p, SIP_CT_LWS))
		p++;
	return p;
}

/* Drop LWS from the back of [p, end). */
static inline const char *sip_rtrim_lws(const char *p, const char *end)
{
	while (end > p && sip_is(end[-1], SIP_CT_LWS))
		end--;
	return end;
}

/* Advance over a run of class @cls. */
static inline const char *sip_span(const char *p, const char *end,
				   uint32_t cls)
{
	while (p < end && sip_is(*p, cls))
		p++;
	return p;
}

/* Advance over bytes not of class @cls. */
static inline const char *sip_span_not(const char *p, const char *end,
				       uint32_t cls)
{
	while (p < end && !sip_is(*p, cls))
		p++;
	return p;
}

/* A run of @cls and %HH escapes; NULL on a bad escape. */
const char *sip_span_esc(const char *p, const char *end, uint32_t cls);

/* p at '"': the byte after the closing quote, or NULL if unterminated. */
const char *sip_quoted_end(const char *p, const char *end);

/* Decimal digits only, 1..10 of them, value <= max.  0 or -EINVAL. */
int sip_parse_u32(const char *p, size_t len, uint32_t max, uint32_t *out);

/*
 * Host at p: "[IPv6]" or a hostname/IPv4 run.  Returns the byte after it
 * and fills *host (IPv6 without brackets) and *type, or NULL if invalid.
 */
const char *sip_host_scan(const char *p, const char *end,
			  struct sip_str *host, enum sip_host_type *type);

/*
 * Next header parameter at *pp: LWS ';' LWS name [LWS '=' LWS value].
 * 1 and name/value set (value present-empty without '='), 0 if *pp is
 * not at a ';' (after LWS), -EINVAL if malformed.  *pp advances.
 */
int sip_hparam_next(const char **pp, const char *end, struct sip_str *name,
		    struct sip_str *value);

/* List split reporting which bracket/quote was left open in *why. */
int sip_list_split(struct sip_str *rest, struct sip_str *val,
		   enum sip_error *why);

/*
 * Address value parser: 0, or the sip_error to report (@bad for plain
 * syntax errors, UNTERMINATED_URI/QUOTE for an open '<' or '"').
 */
enum sip_error sip_na_parse(struct sip_nameaddr *na, const char *s,
			    size_t len, unsigned int flags,
			    enum sip_error bad);

/* Reason phrase for a duplicated single-instance header. */
const char *sip_dup_reason(enum sip_hdr_id id);

#endif /* SIPDLG_SIP_INT_H */
