/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sipgen_int.h - what sipgen.c (the messages) and sipgen_text.c (the
 * random draws, the string builder, header names and the line table)
 * share.  Test helpers only: nothing outside tests/lib/sipgen*.c uses it.
 */
#ifndef SIPDLG_TESTS_SIPGEN_INT_H
#define SIPDLG_TESTS_SIPGEN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/sipgen.h"

/* Uniform in [lo, hi]. */
uint32_t sg_range(struct sipgen_rng *r, uint32_t lo, uint32_t hi);

/* Character sets: alphanum, RFC 3261 token, word extras, lower hex. */
extern const char sg_alnum[], sg_token[], sg_word_extra[], sg_hex[];
char sg_pick(struct sipgen_rng *r, const char *set);
/* @n characters of @set into @out, NUL-terminated. */
void sg_rand_from(struct sipgen_rng *r, char *out, size_t n, const char *set);

/* A string builder over a caller's buffer; `over` once anything did not fit. */
struct sg_sb {
	char *p;
	size_t n, cap;
	int over;
};

void sg_sb_init(struct sg_sb *b, char *p, size_t cap);
void sg_sb_mem(struct sg_sb *b, const char *s, size_t n);
void sg_sb_str(struct sg_sb *b, const char *s);
void sg_sb_chr(struct sg_sb *b, char c);
void sg_sb_fmt(struct sg_sb *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Header names and separators, in the cases and spacings agents use. */
void sg_recase(struct sipgen_rng *r, const char *s, char *out);
void sg_sws(struct sipgen_rng *r, struct sg_sb *b, int after);
/* "Name:" with the long or the compact (@compact, may be NULL) name. */
void sg_hname(struct sipgen_rng *r, struct sg_sb *b, const char *name,
	      const char *compact);
void sg_comma(struct sipgen_rng *r, struct sg_sb *b);
void sg_trailing_ws(struct sipgen_rng *r, struct sg_sb *b);

#define SG_MAX_LINES 64
#define SG_LINE_MAX 700

/* Header lines before shuffling; `order` groups keep their order. */
struct sg_lines {
	char text[SG_MAX_LINES][SG_LINE_MAX];
	int group[SG_MAX_LINES];	/* 0: free; 1: Via; 2: Route */
	int n;
	int over;
};

enum { SG_FREE = 0, SG_VIA = 1, SG_ROUTE = 2 };

/* A new line of @group in @L, written through @b. */
struct sg_sb *sg_line_new(struct sg_lines *L, struct sg_sb *b, int group);
/* @perm: the order to write the lines in (Via/Route groups kept in order). */
void sg_shuffle(struct sipgen_rng *r, struct sg_lines *L, int *perm);

#endif /* SIPDLG_TESTS_SIPGEN_INT_H */
