/* obuf.c - the non-inline parts of the output buffer (obuf.h). */
#include <stdio.h>
#include <stdlib.h>

#include "core/obuf.h"

#define OBUF_FIRST 4096u

void ob_free(struct obuf *o)
{
	if (!o)
		return;
	free(o->buf);
	o->buf = NULL;
	o->len = o->cap = 0;
	o->overflow = false;
}

bool ob_grow(struct obuf *o, size_t n)
{
	size_t limit = o->limit ? o->limit : OBUF_MAX;
	size_t need, cap;
	char *p;

	if (o->overflow)
		return false;
	if (n <= o->cap - o->len)
		return true;
	if (n > limit || o->len > limit - n)
		goto full;
	need = o->len + n;
	cap = o->cap ? o->cap : OBUF_FIRST;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > limit)
		cap = limit;
	p = realloc(o->buf, cap);
	if (!p)
		goto full;
	o->buf = p;
	o->cap = cap;
	return true;
full:
	o->overflow = true;
	return false;
}

void ob_shift(struct obuf *o, size_t n)
{
	if (n >= o->len) {
		o->len = 0;
		return;
	}
	memmove(o->buf, o->buf + n, o->len - n);
	o->len -= n;
}

const char *ob_cstr(struct obuf *o)
{
	if (o->overflow || !ob_grow(o, 1))
		return NULL;
	o->buf[o->len] = '\0';
	return o->buf;
}

char *ob_take(struct obuf *o)
{
	char *s = ob_cstr(o) ? o->buf : NULL;

	if (!s)
		free(o->buf);
	o->buf = NULL;
	o->len = o->cap = 0;
	o->overflow = false;
	return s;
}

void ob_u32(struct obuf *o, uint32_t v)
{
	char d[10];
	size_t i = ob_fmt_u32(d, v);

	ob_mem(o, d + i, sizeof(d) - i);
}

void ob_vprintf(struct obuf *o, const char *fmt, va_list ap)
{
	size_t room = o->cap - o->len;
	va_list again;
	int n;

	if (o->overflow)
		return;
	va_copy(again, ap);
	n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	if (n >= 0 && (size_t)n >= room && ob_grow(o, (size_t)n + 1))
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, again);
	va_end(again);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->overflow = true;
		return;
	}
	o->len += (size_t)n;
}

void ob_printf(struct obuf *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ob_vprintf(o, fmt, ap);
	va_end(ap);
}
