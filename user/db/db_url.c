/*
 * db_url.c - parse the dialog module's db_url (see db_url.h for the forms).
 */
#include "db/db_url.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Copy [p, p+n) with %XX decoded; NULL on ENOMEM, *bad set if malformed. */
static char *dup_decoded(const char *p, size_t n, int *bad)
{
	char *s = malloc(n + 1), *o = s;
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < n; i++) {
		if (p[i] == '%') {
			int h, l;

			if (i + 2 >= n) {
				*bad = 1;
				break;
			}
			h = hexval(p[i + 1]);
			l = hexval(p[i + 2]);
			if (h < 0 || l < 0) {
				*bad = 1;
				break;
			}
			*o++ = (char)(h << 4 | l);
			i += 2;
		} else {
			*o++ = p[i];
		}
	}
	*o = '\0';
	return s;
}

static char *dup_n(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

void db_url_clear(struct db_url *u)
{
	if (!u)
		return;
	free(u->user);
	free(u->pass);
	free(u->host);
	free(u->socket);
	free(u->db);
	memset(u, 0, sizeof(*u));
}

static int bad_db_name(const char *db)
{
	const char *p;

	for (p = db; *p; p++)
		if (*p == '/' || *p == '?' || *p == '#' || *p == ' ')
			return 1;
	return 0;
}

int db_url_parse(const char *url, const char *cfg_socket, struct db_url *out,
		 char *err, size_t errlen)
{
	struct db_url u = { 0 };
	const char *p, *auth_end, *at, *hp, *slash, *colon;
	int bad = 0;

	if (!url || !*url)
		return fail(err, errlen, "db_url is empty (expected "
			    "mysql://user:pass@host[:port]/db)");
	if (strncasecmp(url, "mysql://", 8) != 0) {
		const char *c = strstr(url, "://");

		if (c)
			return fail(err, errlen, "db_url scheme '%.*s' is not "
				    "supported: only mysql:// (MySQL/MariaDB)",
				    (int)(c - url), url);
		return fail(err, errlen, "db_url '%s' is not a URL (expected "
			    "mysql://user:pass@host[:port]/db or "
			    "mysql://user:pass@unix(/path.sock)/db)", url);
	}
	p = url + 8;
	/* The authority ends at the '/' before the database; a socket path in
	 * unix(...) contains '/', so skip over it first. */
	hp = p;
	at = NULL;
	{
		const char *q, *u_open = NULL;

		for (q = p; *q; q++) {
			if (!u_open && strncmp(q, "unix(", 5) == 0 &&
			    (q == p || q[-1] == '@')) {
				u_open = q;
				q = strchr(q, ')');
				if (!q)
					return fail(err, errlen, "db_url: "
						    "'unix(' without ')'");
				continue;
			}
			if (*q == '@' && !u_open)
				at = q;
			if (*q == '/' && (!u_open || q > u_open))
				break;
		}
		auth_end = q;
	}
	if (*auth_end != '/')
		return fail(err, errlen, "db_url '%s' names no database "
			    "(expected .../db at the end)", url);
	if (at) {
		colon = memchr(p, ':', (size_t)(at - p));
		if (colon) {
			u.user = dup_decoded(p, (size_t)(colon - p), &bad);
			u.pass = dup_decoded(colon + 1,
					     (size_t)(at - colon - 1), &bad);
			if (!u.user || !u.pass)
				goto nomem;
		} else {
			u.user = dup_decoded(p, (size_t)(at - p), &bad);
			if (!u.user)
				goto nomem;
		}
		if (bad) {
			db_url_clear(&u);
			return fail(err, errlen, "db_url: malformed %%-escape "
				    "in user or password");
		}
		hp = at + 1;
	} else {
		u.user = dup_n("", 0);
		if (!u.user)
			goto nomem;
	}

	if (strncmp(hp, "unix(", 5) == 0) {
		const char *close = strchr(hp, ')');

		if (close + 1 != auth_end) {
			db_url_clear(&u);
			return fail(err, errlen, "db_url: unexpected text after "
				    "'unix(...)' (a socket takes no port)");
		}
		if (hp[5] != '/') {
			db_url_clear(&u);
			return fail(err, errlen, "db_url: the socket path in "
				    "unix(...) must be absolute");
		}
		u.socket = dup_n(hp + 5, (size_t)(close - hp - 5));
		if (!u.socket)
			goto nomem;
	} else {
		const char *hend = auth_end;

		if (*hp == '[') {
			const char *rb = memchr(hp, ']', (size_t)(auth_end - hp));

			if (!rb) {
				db_url_clear(&u);
				return fail(err, errlen, "db_url: '[' without "
					    "']' in the host");
			}
			u.host = dup_n(hp + 1, (size_t)(rb - hp - 1));
			colon = rb + 1 < auth_end && rb[1] == ':' ? rb + 1 :
				NULL;
			if (rb + 1 != auth_end && !colon) {
				db_url_clear(&u);
				return fail(err, errlen, "db_url: unexpected "
					    "text after ']' in the host");
			}
		} else {
			colon = memchr(hp, ':', (size_t)(auth_end - hp));
			if (colon)
				hend = colon;
			u.host = dup_n(hp, (size_t)(hend - hp));
		}
		if (!u.host)
			goto nomem;
		if (!*u.host) {
			db_url_clear(&u);
			return fail(err, errlen, "db_url '%s' names no host",
				    url);
		}
		if (colon) {
			char *end;
			unsigned long port;

			errno = 0;
			port = strtoul(colon + 1, &end, 10);
			if (end == colon + 1 || end != auth_end || errno ||
			    port == 0 || port > 65535) {
				db_url_clear(&u);
				return fail(err, errlen, "db_url: port '%.*s' "
					    "is not a number in 1..65535",
					    (int)(auth_end - colon - 1),
					    colon + 1);
			}
			u.port = (unsigned)port;
		}
		if (strcmp(u.host, "localhost") == 0 && !u.port &&
		    cfg_socket && *cfg_socket) {
			u.socket = dup_n(cfg_socket, strlen(cfg_socket));
			if (!u.socket)
				goto nomem;
		}
	}

	slash = auth_end + 1;
	if (!*slash) {
		db_url_clear(&u);
		return fail(err, errlen, "db_url '%s' names no database "
			    "(expected .../db at the end)", url);
	}
	if (bad_db_name(slash)) {
		db_url_clear(&u);
		return fail(err, errlen, "db_url: database name '%s' contains "
			    "'/', '?', '#' or a space (query parameters are "
			    "not supported; use unix(/path) for a socket)",
			    slash);
	}
	u.db = dup_n(slash, strlen(slash));
	if (!u.db)
		goto nomem;
	*out = u;
	return 0;
nomem:
	db_url_clear(&u);
	return -ENOMEM;
}

int db_url_describe(const struct db_url *u, char *buf, size_t cap)
{
	const char *user = u->user && *u->user ? u->user : "";
	const char *at = *user ? "@" : "";

	if (u->socket && !u->host)
		return snprintf(buf, cap, "mysql://%s%sunix(%s)/%s", user, at,
				u->socket, u->db);
	if (u->port)
		return snprintf(buf, cap, "mysql://%s%s%s:%u/%s", user, at,
				u->host, u->port, u->db);
	if (u->socket)
		return snprintf(buf, cap, "mysql://%s%s%s/%s (socket %s)",
				user, at, u->host, u->db, u->socket);
	return snprintf(buf, cap, "mysql://%s%s%s/%s", user, at, u->host,
			u->db);
}
