/*
 * obuf.h - a bounded output buffer for building SIP messages.
 *
 * Appends never fail individually: once the buffer would overflow, the
 * "overflow" flag is set and later appends are ignored, so a builder
 * checks one flag at the end instead of every call.
 */
#ifndef SIPDLG_OBUF_H
#define SIPDLG_OBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sip/sip_str.h"

#define OBUF_MAX 65536

struct obuf {
	size_t len;
	bool overflow;
	char buf[OBUF_MAX];
};

static inline void ob_reset(struct obuf *o)
{
	o->len = 0;
	o->overflow = false;
}

static inline void ob_mem(struct obuf *o, const void *p, size_t n)
{
	if (o->overflow || n > sizeof(o->buf) - o->len) {
		o->overflow = true;
		return;
	}
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

void ob_u32(struct obuf *o, uint32_t v);
void ob_printf(struct obuf *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* SIPDLG_OBUF_H */
