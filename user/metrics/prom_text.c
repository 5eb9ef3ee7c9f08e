/*
 * prom_text.c - the Prometheus text exposition format 0.0.4 (see
 * prom_text.h for the escaping rules).
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "metrics/prom_text.h"

/* HELP text: backslash and newline escaped, nothing else. */
static void help_text(struct obuf *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			ob_str(o, "\\\\");
		else if (*s == '\n')
			ob_str(o, "\\n");
		else
			ob_mem(o, s, 1);
	}
}

void prom_family(struct obuf *o, const char *name, const char *type,
		 const char *help)
{
	ob_str(o, "# HELP ");
	ob_str(o, name);
	ob_mem(o, " ", 1);
	help_text(o, help);
	ob_str(o, "\n# TYPE ");
	ob_str(o, name);
	ob_mem(o, " ", 1);
	ob_str(o, type);
	ob_mem(o, "\n", 1);
}

/* Length of the valid UTF-8 sequence at @s (at most @n bytes), 0 if
 * there is none: no overlong forms, no surrogates, nothing past
 * U+10FFFF (RFC 3629). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

void prom_label_value(struct obuf *o, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t k = utf8_seq(p + i, len - i);

		if (k == 0) {
			static const char hex[] = "0123456789ABCDEF";
			char e[6] = { '\\', '\\', 'x', hex[p[i] >> 4],
				      hex[p[i] & 15], 0 };

			ob_mem(o, e, 5);
			i++;
			continue;
		}
		if (k == 1 && p[i] == '\\')
			ob_str(o, "\\\\");
		else if (k == 1 && p[i] == '"')
			ob_str(o, "\\\"");
		else if (k == 1 && p[i] == '\n')
			ob_str(o, "\\n");
		else
			ob_mem(o, p + i, k);
		i += k;
	}
}

static void sample_head(struct obuf *o, const char *name,
			const struct prom_label *labels, size_t n)
{
	ob_str(o, name);
	if (n) {
		ob_mem(o, "{", 1);
		for (size_t i = 0; i < n; i++) {
			if (i)
				ob_mem(o, ",", 1);
			ob_str(o, labels[i].name);
			ob_str(o, "=\"");
			prom_label_value(o, labels[i].value, labels[i].len);
			ob_mem(o, "\"", 1);
		}
		ob_mem(o, "}", 1);
	}
	ob_mem(o, " ", 1);
}

void prom_sample_i64(struct obuf *o, const char *name,
		     const struct prom_label *labels, size_t n, int64_t v)
{
	sample_head(o, name, labels, n);
	ob_printf(o, "%" PRId64 "\n", v);
}

void prom_sample_f64(struct obuf *o, const char *name,
		     const struct prom_label *labels, size_t n, double v)
{
	sample_head(o, name, labels, n);
	if (isnan(v))
		ob_str(o, "NaN\n");
	else if (isinf(v))
		ob_str(o, v > 0 ? "+Inf\n" : "-Inf\n");
	else
		ob_printf(o, "%.15g\n", v);
}

char *prom_name(char out[PROM_NAME_MAX], const char *const *parts,
		size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		const char *s = parts[i];

		if (i && len + 1 < PROM_NAME_MAX)
			out[len++] = '_';
		for (; *s && len + 1 < PROM_NAME_MAX; s++) {
			char c = *s;
			bool ok = (c >= 'a' && c <= 'z') ||
				  (c >= 'A' && c <= 'Z') || c == '_' ||
				  c == ':' || (c >= '0' && c <= '9');

			if (len == 0 && c >= '0' && c <= '9' &&
			    len + 2 < PROM_NAME_MAX)
				out[len++] = '_';
			out[len++] = ok ? c : '_';
		}
	}
	out[len] = '\0';
	return out;
}
