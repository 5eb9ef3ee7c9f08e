/*
 * px_fmt.h - a bounded string builder with the few formats the forwarding
 * path needs (decimal, fixed-width hex), instead of snprintf: building a
 * Via and a branch per forwarded message with printf cost ~3 % of a SIP
 * worker's time at 3,000 calls/s.
 *
 * It writes into a fixed (stack) array, for the short strings of one
 * header (a Via, a branch, a Record-Route line); whole messages go into
 * struct obuf (core/obuf.h).  Like it, appends never fail one by one: past
 * the capacity the builder is marked "over" and ignores the rest.  The
 * text is always NUL-terminated (cap >= 1).
 */
#ifndef SIPDLG_PX_FMT_H
#define SIPDLG_PX_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/obuf.h"

struct px_sb {
	char *p;
	size_t n, cap;		/* cap counts the NUL */
	bool over;
};

static inline struct px_sb px_sb_at(char *buf, size_t cap, size_t used)
{
	struct px_sb b = { .p = buf, .n = used, .cap = cap, .over = false };

	if (cap)
		buf[used < cap ? used : cap - 1] = '\0';
	b.over = used >= cap;
	return b;
}

static inline void px_sb_mem(struct px_sb *b, const char *s, size_t n)
{
	if (b->over || n >= b->cap - b->n) {
		b->over = true;
		return;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static inline void px_sb_str(struct px_sb *b, const char *s)
{
	px_sb_mem(b, s, strlen(s));
}

static inline void px_sb_chr(struct px_sb *b, char c)
{
	px_sb_mem(b, &c, 1);
}

static inline void px_sb_u32(struct px_sb *b, uint32_t v)
{
	char d[10];
	size_t i = ob_fmt_u32(d, v);

	px_sb_mem(b, d + i, sizeof(d) - i);
}

/* @digits (1..16) lower-case hex digits of @v, zero-padded, as %0*llx. */
static inline void px_sb_hex(struct px_sb *b, uint64_t v, int digits)
{
	static const char hx[] = "0123456789abcdef";
	char d[16];

	for (int i = digits - 1; i >= 0; i--) {
		d[i] = hx[v & 0xf];
		v >>= 4;
	}
	px_sb_mem(b, d, (size_t)digits);
}

#endif /* SIPDLG_PX_FMT_H */
