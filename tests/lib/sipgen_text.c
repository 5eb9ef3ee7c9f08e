// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sipgen_text.c - the generator's draws and text: the seeded random
 * numbers, a string builder, header names in any case with SP/HTAB
 * around the colon, and the table of header lines that is shuffled
 * before it is written.  See sipgen.h; sipgen.c builds the messages.
 */
#include "lib/sipgen_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* --- random numbers --------------------------------------------------------- */

void sipgen_seed(struct sipgen_rng *r, uint64_t seed)
{
	r->s = seed;
}

uint64_t sipgen_next(struct sipgen_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint32_t sipgen_below(struct sipgen_rng *r, uint32_t n)
{
	return (uint32_t)(sipgen_next(r) % n);
}

int sipgen_pct(struct sipgen_rng *r, unsigned pct)
{
	return sipgen_below(r, 100) < pct;
}

/* Uniform in [lo, hi]. */
uint32_t sg_range(struct sipgen_rng *r, uint32_t lo, uint32_t hi)
{
	return lo + sipgen_below(r, hi - lo + 1);
}

uint32_t sipgen_cseq(struct sipgen_rng *r)
{
	static const uint32_t lo[11] = { 0, 1, 10, 100, 1000, 10000, 100000,
					 1000000, 10000000, 100000000,
					 1000000000 };
	uint32_t digits = sg_range(r, 1, 10);
	uint32_t hi = digits == 10 ? 0x7fffffffu : lo[digits] * 10 - 1;

	if (sipgen_pct(r, 5))	/* the edges of the digit count */
		return sipgen_pct(r, 50) ? lo[digits] : hi;
	return sg_range(r, lo[digits], hi);
}

/* --- a string builder ------------------------------------------------------- */

void sg_sb_init(struct sg_sb *b, char *p, size_t cap)
{
	b->p = p;
	b->n = 0;
	b->cap = cap;
	b->over = 0;
	p[0] = '\0';
}

void sg_sb_mem(struct sg_sb *b, const char *s, size_t n)
{
	if (b->over || b->n + n + 1 > b->cap) {
		b->over = 1;
		return;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void sg_sb_str(struct sg_sb *b, const char *s)
{
	sg_sb_mem(b, s, strlen(s));
}

void sg_sb_chr(struct sg_sb *b, char c)
{
	sg_sb_mem(b, &c, 1);
}

void sg_sb_fmt(struct sg_sb *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->over = 1;
		return;
	}
	sg_sb_mem(b, tmp, (size_t)n);
}

/* --- values --------------------------------------------------------------------- */

const char sg_alnum[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/* RFC 3261 token: alphanum and -.!%*_+`'~ */
const char sg_token[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	"-.!%*_+`'~";
/* RFC 3261 word (Call-ID): token chars and ()<>:\"/[]?{} */
const char sg_word_extra[] = "()<>:\\\"/[]?{}";
const char sg_hex[] = "0123456789abcdef";

char sg_pick(struct sipgen_rng *r, const char *set)
{
	return set[sipgen_below(r, (uint32_t)strlen(set))];
}

void sg_rand_from(struct sipgen_rng *r, char *out, size_t n,
		      const char *set)
{
	for (size_t i = 0; i < n; i++)
		out[i] = sg_pick(r, set);
	out[n] = '\0';
}

/* --- header names and separators ------------------------------------------------ */

/* Some case of @s into @out: as written, upper, lower, or mixed. */
void sg_recase(struct sipgen_rng *r, const char *s, char *out)
{
	unsigned how = sipgen_below(r, 20);
	size_t i;

	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (how == 0 || (how == 2 && sipgen_pct(r, 50)))
			c = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
		else if (how == 1 || how == 2)
			c = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
		out[i] = c;
	}
	out[i] = '\0';
}

/* SP/HTAB run: mostly none before a colon, mostly one space after it. */
void sg_sws(struct sipgen_rng *r, struct sg_sb *b, int after)
{
	unsigned n;

	if (!after) {
		n = sipgen_pct(r, 85) ? 0 : sg_range(r, 1, 3);
	} else {
		unsigned x = sipgen_below(r, 100);
		if (x < 75) {
			sg_sb_chr(b, ' ');
			return;
		}
		n = x < 85 ? 0 : sg_range(r, 1, 4);
	}
	while (n--)
		sg_sb_chr(b, sipgen_pct(r, 70) ? ' ' : '\t');
}

/* "Name:" with the long or compact (@compact, may be NULL) name. */
void sg_hname(struct sipgen_rng *r, struct sg_sb *b, const char *name,
		  const char *compact)
{
	char buf[64];

	if (compact && sipgen_pct(r, 30))
		sg_recase(r, compact, buf);
	else
		sg_recase(r, name, buf);
	sg_sb_str(b, buf);
	sg_sws(r, b, 0);
	sg_sb_chr(b, ':');
	sg_sws(r, b, 1);
}

/* --- the message under construction ------------------------------------------------ */


struct sg_sb *sg_line_new(struct sg_lines *L, struct sg_sb *b, int group)
{
	if (L->n == SG_MAX_LINES) {
		L->over = 1;
		sg_sb_init(b, L->text[SG_MAX_LINES - 1], SG_LINE_MAX);
		return b;
	}
	L->group[L->n] = group;
	sg_sb_init(b, L->text[L->n], SG_LINE_MAX);
	L->n++;
	return b;
}

/* Shuffle free lines; Via and Route lines stay in their relative order. */
void sg_shuffle(struct sipgen_rng *r, struct sg_lines *L, int *perm)
{
	int slots[2][SG_MAX_LINES], ns[2] = { 0, 0 }, i, j, t, k[2] = { 0, 0 };

	for (i = 0; i < L->n; i++)
		perm[i] = i;
	for (i = L->n - 1; i > 0; i--) {
		j = (int)sipgen_below(r, (uint32_t)i + 1);
		t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	/* positions now held by Via/Route lines get them back in order */
	for (i = 0; i < L->n; i++)
		if (L->group[perm[i]])
			slots[L->group[perm[i]] - 1][ns[L->group[perm[i]] - 1]++] = i;
	for (i = 0; i < L->n; i++) {
		int g = L->group[i];

		if (g)
			perm[slots[g - 1][k[g - 1]++]] = i;
	}
}

/* Now and then SP/HTAB at the end of a header line (before its CRLF). */
void sg_trailing_ws(struct sipgen_rng *r, struct sg_sb *b)
{
	if (sipgen_pct(r, 3))
		sg_sb_str(b, sipgen_pct(r, 50) ? " " : " \t");
}

void sg_comma(struct sipgen_rng *r, struct sg_sb *b)
{
	static const char *const c[] = { ",", ", ", " , ", ",\t" };

	sg_sb_str(b, c[sipgen_below(r, 4)]);
}
