/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sip_str.h - {pointer, length} slices into a receive buffer.
 *
 * Every string the SIP parser hands out is a struct sip_str that points
 * into the caller's buffer: nothing is copied, nothing is NUL-terminated,
 * nothing is freed.  A slice is valid exactly as long as the buffer it
 * points into.
 *
 * Presence convention, used by every parsed field:
 *   p == NULL            the item is absent (e.g. no tag parameter);
 *   p != NULL, len == 0  the item is present but empty (e.g. ";rport" or
 *                        ";lr" without a value).
 */
#ifndef SIPDLG_SIP_STR_H
#define SIPDLG_SIP_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct sip_str {
	const char *p;
	size_t len;
};

#define SIP_STR_NULL ((struct sip_str){ NULL, 0 })

/* A slice of the NUL-terminated literal @s (for tests and comparisons). */
static inline struct sip_str sip_str_c(const char *s)
{
	return (struct sip_str){ s, strlen(s) };
}

static inline struct sip_str sip_str_mk(const char *p, size_t len)
{
	return (struct sip_str){ p, len };
}

static inline bool sip_str_present(struct sip_str s)
{
	return s.p != NULL;
}

/* ASCII-only lower-casing, independent of the locale. */
static inline unsigned char sip_lc(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Case-insensitive (ASCII) comparison of @n bytes: true when equal. */
static inline bool sip_mem_eqi(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sip_lc((unsigned char)a[i]) != sip_lc((unsigned char)b[i]))
			return false;
	return true;
}

/* Exact, case-sensitive equality of two slices. */
static inline bool sip_str_eq(struct sip_str a, struct sip_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* Case-insensitive equality of two slices. */
static inline bool sip_str_eqi(struct sip_str a, struct sip_str b)
{
	return a.len == b.len && sip_mem_eqi(a.p, b.p, a.len);
}

/* Case-sensitive equality with a NUL-terminated string. */
static inline bool sip_str_eq_c(struct sip_str a, const char *s)
{
	return sip_str_eq(a, sip_str_c(s));
}

/* Case-insensitive equality with a NUL-terminated string. */
static inline bool sip_str_eqi_c(struct sip_str a, const char *s)
{
	return sip_str_eqi(a, sip_str_c(s));
}

#endif /* SIPDLG_SIP_STR_H */
