/*
 * dlg_id.c - the identifiers Kamailio users and databases depend on:
 * core_hash (the slot of a Call-ID, so DB rows restore into the same
 * h_entry) and the reverse-hex DID cookie ";did=<h_entry>.<h_id>".
 *
 * Both must stay bit-identical with Kamailio 5.6 (reference §1.1, §1.3):
 * the slot is checked on restore, and the cookie is what Kamailio or our
 * XDP program reads back from the Route header of sequential requests.
 */
#include <errno.h>
#include <string.h>

#include <linux/types.h>

#include "dialog/dlg_int.h"
#include "sipdlg_hash.h"
#include "sipdlg_rhex.h"

struct sip_str dlg_trim(struct sip_str s)
{
	if (!s.p)
		return s;
	while (s.len && (s.p[0] == ' ' || s.p[0] == '\t' || s.p[0] == '\r' ||
			 s.p[0] == '\n')) {
		s.p++;
		s.len--;
	}
	while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t' ||
			 s.p[s.len - 1] == '\r' || s.p[s.len - 1] == '\n'))
		s.len--;
	return s;
}

/*
 * One byte as Kamailio's C code sees it: a plain `char`, signed on x86, so
 * bytes >= 0x80 are negative and sign-extend before they are shifted and
 * added.  We do the same arithmetic in uint32_t (mod 2^32), which gives
 * the same bits without the undefined behaviour of shifting negatives.
 */
static inline uint32_t sbyte(const char *p)
{
	return (uint32_t)(int32_t)(signed char)*p;
}

/*
 * core_hash(s, NULL, 0): for each whole 4-byte group add v ^ (v >> 3),
 * where v is the group read big-endian with `+` (not `|`: a negative byte
 * borrows from the ones above it, as in Kamailio); then the 0-3 remaining
 * bytes the same way once (v = 0 if none); then the finishing mix.
 */
uint32_t dlg_core_hash(const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	uint32_t h = 0, v;

	for (; len >= 4 && p <= end - 4; p += 4) {
		v = (sbyte(p) << 24) + (sbyte(p + 1) << 16) +
		    (sbyte(p + 2) << 8) + sbyte(p + 3);
		h += v ^ (v >> 3);
	}
	switch (end - p) {
	case 3:
		v = (sbyte(p) << 16) + (sbyte(p + 1) << 8) + sbyte(p + 2);
		break;
	case 2:
		v = (sbyte(p) << 8) + sbyte(p + 1);
		break;
	case 1:
		v = sbyte(p);
		break;
	default:
		v = 0;
		break;
	}
	h += v ^ (v >> 3);
	return (h + (h >> 11)) + ((h >> 13) + (h >> 23));
}

uint32_t dlg_hash_entry(struct sip_str callid, uint32_t hash_size)
{
	struct sip_str c = dlg_trim(callid);

	return dlg_core_hash(c.p ? c.p : "", c.len) & (hash_size - 1);
}

size_t dlg_rhex(uint32_t x, char *buf)
{
	size_t n = sipdlg_rhex(x, buf);

	buf[n] = '\0';
	return n;
}

int dlg_cookie_value(uint32_t h_entry, uint32_t h_id, char *buf, size_t cap)
{
	char a[9], b[9];
	size_t la = dlg_rhex(h_entry, a), lb = dlg_rhex(h_id, b);

	if (la + 1 + lb + 1 > cap)
		return -ENOSPC;
	memcpy(buf, a, la);
	buf[la] = '.';
	memcpy(buf + la + 1, b, lb + 1);
	return (int)(la + 1 + lb);
}

/*
 * The MAC goes right after the cookie: the kernel's fast shape expects
 * ";did=...;dm=..." in that order (any other order still parses, slower).
 */
int dlg_cookie_param(const struct dlg_cell *c, char *buf, size_t cap)
{
	const struct dlg_table *t = c->tbl;
	char v[20];
	int n = dlg_cookie_value(c->h_entry, c->h_id, v, sizeof(v));
	size_t need = 1 + t->rr_param_len + 1 + (size_t)n;
	size_t mac_len = c->mac_gen ? 2 + SIPDLG_MAC_PARAM_LEN +
					      SIPDLG_MAC_HEX_LEN :
				      0;

	if (need + mac_len + 1 > cap)
		return -ENOSPC;
	buf[0] = ';';
	memcpy(buf + 1, t->rr_param, t->rr_param_len);
	buf[1 + t->rr_param_len] = '=';
	memcpy(buf + 2 + t->rr_param_len, v, (size_t)n + 1);
	if (mac_len) {
		char *p = buf + need;

		*p++ = ';';
		memcpy(p, SIPDLG_MAC_PARAM, SIPDLG_MAC_PARAM_LEN);
		p += SIPDLG_MAC_PARAM_LEN;
		*p++ = '=';
		sipdlg_mac_hex(c->mac, p);
		p[SIPDLG_MAC_HEX_LEN] = '\0';
		need += mac_len;
	}
	return (int)need;
}

uint32_t dlg_mac_gen(const struct dlg_cell *c)
{
	return c->mac_gen;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* One reverse-hex half: digit i is nibble i.  Empty reads as 0. */
static int rhex_parse(const char *p, size_t len, uint32_t *out)
{
	uint32_t v = 0;

	if (len > 8)
		return -EBADMSG;
	for (size_t i = 0; i < len; i++) {
		int d = hexval(p[i]);

		if (d < 0)
			return -EBADMSG;
		v |= (uint32_t)d << (4 * i);
	}
	*out = v;
	return 0;
}

int dlg_cookie_parse(struct sip_str v, uint32_t *h_entry, uint32_t *h_id)
{
	const char *dot;
	uint32_t a, b;

	if (!v.p)
		return -EBADMSG;
	dot = memchr(v.p, '.', v.len);
	if (!dot)
		return -EBADMSG;
	if (rhex_parse(v.p, (size_t)(dot - v.p), &a) ||
	    rhex_parse(dot + 1, v.len - (size_t)(dot - v.p) - 1, &b))
		return -EBADMSG;
	*h_entry = a;
	*h_id = b;
	return 0;
}
