/* obuf.c - the non-inline parts of the output buffer. */
#include <stdio.h>

#include "proxy/obuf.h"

void ob_u32(struct obuf *o, uint32_t v)
{
	char tmp[10];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (o->overflow || n > sizeof(o->buf) - o->len) {
		o->overflow = true;
		return;
	}
	while (n)
		o->buf[o->len++] = tmp[--n];
}

void ob_printf(struct obuf *o, const char *fmt, ...)
{
	va_list ap;
	size_t room = sizeof(o->buf) - o->len;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		o->overflow = true;
		return;
	}
	o->len += (size_t)n;
}
