/*
 * obuf.h - the one growable output buffer: SIP messages the proxy and the
 * dialog layer build, queued output of TCP connections and control
 * clients, SQL text.
 *
 * The bytes live on the heap and grow (doubling from 4 KiB) up to a limit.
 * Appends never fail one by one: once an append would pass the limit, or
 * memory runs out, the "overflow" flag is set and later appends are
 * ignored, so a builder checks one flag at the end instead of every call.
 * A zero-initialised struct obuf is an empty buffer with the default
 * limit, OBUF_MAX: what one SIP message may take (static and thread-local
 * scratch buffers rely on this).  ob_free() gives the memory back.
 */
#ifndef SIPDLG_OBUF_H
#define SIPDLG_OBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sip/sip_str.h"

#define OBUF_MAX 65536		/* the limit of a zero-initialised buffer */
#define OBUF_UNLIMITED SIZE_MAX

struct obuf {
	char *buf;		/* the bytes, not NUL-terminated (ob_cstr) */
	size_t len;
	size_t cap;		/* allocated */
	size_t limit;		/* most bytes it may hold; 0 = OBUF_MAX */
	bool overflow;		/* an append did not fit: limit or ENOMEM */
};

/* An empty buffer that may grow to @limit bytes (OBUF_UNLIMITED: no
 * bound but memory). */
static inline void ob_init(struct obuf *o, size_t limit)
{
	memset(o, 0, sizeof(*o));
	o->limit = limit;
}

/* Empty it (memory kept for the next message). */
static inline void ob_reset(struct obuf *o)
{
	o->len = 0;
	o->overflow = false;
}

/* NULL-safe; the buffer is empty (and reusable) afterwards. */
void ob_free(struct obuf *o);

/* Room for @n more bytes (grows the buffer); false, and overflow set, if
 * that would pass the limit or memory ran out. */
bool ob_grow(struct obuf *o, size_t n);

static inline void ob_mem(struct obuf *o, const void *p, size_t n)
{
	if (o->overflow || (n > o->cap - o->len && !ob_grow(o, n)))
		return;
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static inline void ob_str(struct obuf *o, const char *s)
{
	ob_mem(o, s, strlen(s));
}

static inline void ob_sl(struct obuf *o, struct sip_str s)
{
	if (s.len)
		ob_mem(o, s.p, s.len);
}

/* Drop the first @n bytes (output that was sent). */
void ob_shift(struct obuf *o, size_t n);
/* The text NUL-terminated (the NUL not counted in len); NULL on
 * overflow. */
const char *ob_cstr(struct obuf *o);
/* The text NUL-terminated, handed over (free() it); the buffer is left
 * empty and unallocated.  NULL on overflow (its memory freed). */
char *ob_take(struct obuf *o);

/* The decimal digits of @v at the end of @d[10]: returns where they
 * start.  (No printf on the forwarding path: px_fmt.h uses it too.) */
static inline size_t ob_fmt_u32(char d[10], uint32_t v)
{
	size_t i = 10;

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return i;
}

void ob_u32(struct obuf *o, uint32_t v);
void ob_printf(struct obuf *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ob_vprintf(struct obuf *o, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#endif /* SIPDLG_OBUF_H */
