/*
 * prom_text.h - the Prometheus text exposition format, version 0.0.4,
 * written into an obuf.
 *
 * A family is announced once ("# HELP name text" and "# TYPE name type")
 * and followed by its samples ("name{label="value",...} number").  Label
 * values are escaped as the format says (backslash, double quote and
 * newline) and made valid UTF-8, since Prometheus refuses a whole scrape
 * with one bad label: a byte that is not part of a valid UTF-8 sequence
 * is written as the four characters \xHH (its backslash escaped on the
 * wire like any other).  Profile values come from SIP messages, that is
 * from anyone who can send one, so this is not a corner case.
 */
#ifndef SIPDLG_PROM_TEXT_H
#define SIPDLG_PROM_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "core/obuf.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A metric name is at most this long (with its NUL); longer is cut. */
#define PROM_NAME_MAX 128

struct prom_label {
	const char *name;	/* [a-zA-Z_][a-zA-Z0-9_]*, trusted */
	const char *value;	/* any bytes */
	size_t len;		/* of value */
};

/* "# HELP" (text escaped: backslash, newline) and "# TYPE" lines.
 * @type: "counter", "gauge", "untyped". */
void prom_family(struct obuf *o, const char *name, const char *type,
		 const char *help);

/* One sample line; @labels may be NULL when @n is 0. */
void prom_sample_i64(struct obuf *o, const char *name,
		     const struct prom_label *labels, size_t n, int64_t v);
void prom_sample_f64(struct obuf *o, const char *name,
		     const struct prom_label *labels, size_t n, double v);

/* The escaped form of a label value, without the quotes (exposed for
 * the tests and for telling two rendered values apart). */
void prom_label_value(struct obuf *o, const char *s, size_t len);

/*
 * A metric name from parts joined by '_' ("sipdlg", "core", "rcv_bytes")
 * into @out: every character outside [a-zA-Z0-9_:] becomes '_', a
 * leading digit gets a '_' before it.  Returns @out.
 */
char *prom_name(char out[PROM_NAME_MAX], const char *const *parts,
		size_t n);

#endif /* SIPDLG_PROM_TEXT_H */
