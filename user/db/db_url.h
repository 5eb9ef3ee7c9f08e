/*
 * db_url.h - the dialog module's db_url, parsed for libmysqlclient.
 *
 * Accepted forms (scheme "mysql", case-insensitive):
 *   mysql://[USER[:PASS]@]HOST[:PORT]/DB      Kamailio's form; HOST may be
 *                                             an IPv6 literal in brackets
 *   mysql://[USER[:PASS]@]unix(/PATH)/DB      a unix socket (PATH absolute)
 * PASS may contain ':' and '@' (the last '@' before the host splits);
 * a '/' in USER or PASS must be written %2F: percent-escapes are decoded
 * in both.  When HOST is "localhost" without port and the
 * configuration names database.socket, that socket is used (libmysqlclient
 * connects to "localhost" through a socket anyway; this says which one).
 */
#ifndef SIPDLG_DB_URL_H
#define SIPDLG_DB_URL_H

#include <stddef.h>

struct db_url {
	char *user;	/* "" if absent */
	char *pass;	/* NULL if absent */
	char *host;	/* NULL for the socket form */
	unsigned port;	/* 0 = default */
	char *socket;	/* NULL for TCP */
	char *db;
};

/*
 * Parse @url; @cfg_socket is database.socket ("" or NULL = none).
 * 0 with *out filled (free with db_url_clear), or -EINVAL with a message
 * a person can act on in @err, or -ENOMEM.  *out is untouched on error.
 */
int db_url_parse(const char *url, const char *cfg_socket, struct db_url *out,
		 char *err, size_t errlen);
/* Free the strings of @u and zero it.  NULL-safe. */
void db_url_clear(struct db_url *u);
/* "mysql://user@host:port/db" or "mysql://user@unix(path)/db" without the
 * password, for logs.  Returns snprintf's result. */
int db_url_describe(const struct db_url *u, char *buf, size_t cap);

#endif /* SIPDLG_DB_URL_H */
