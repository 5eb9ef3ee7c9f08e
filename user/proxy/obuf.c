/* obuf.c - the non-inline parts of the output buffer. */
#include <stdio.h>

#include "proxy/obuf.h"
#include "proxy/px_fmt.h"

void ob_u32(struct obuf *o, uint32_t v)
{
	char d[10];
	size_t i = px_fmt_u32(d, v);

	ob_mem(o, d + i, sizeof(d) - i);
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
