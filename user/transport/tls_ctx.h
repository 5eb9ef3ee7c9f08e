/*
 * tls_ctx.h - OpenSSL contexts built from the tls: section: the default
 * server context (with the extra certificates chosen by SNI), and the
 * client context of outbound connections.
 *
 * The same loading calls serve `sipdlgd --check` (config_tls.c), the start
 * and `tls reload`, so a file that passes the check is a file the daemon
 * can use, and a reload refuses what a start would refuse.
 */
#ifndef SIPDLG_TLS_CTX_H
#define SIPDLG_TLS_CTX_H

#include <stddef.h>

#include <openssl/ssl.h>

struct cfg_tls;

/* Which key of the section a failure is about (for FILE:LINE:COL). */
enum tls_bad {
	TLS_BAD_CERT = 0,
	TLS_BAD_KEY,
	TLS_BAD_CA_FILE,
	TLS_BAD_CA_DIR,
	TLS_BAD_CIPHERS,
	TLS_BAD_SUITES,
	TLS_BAD_OTHER,
};

/*
 * Load the certificate chain @cert and the private key @key into @ctx and
 * check that they belong together.  0, or -EINVAL with a reason a person
 * can act on in @why and the culprit in *bad.
 */
int tls_ctx_use_pair(SSL_CTX *ctx, const char *cert, const char *key,
		     char *why, size_t why_len, enum tls_bad *bad);

/* The cipher list (TLS 1.2) and suites (TLS 1.3) of @t, if set, into @ctx. */
int tls_ctx_use_ciphers(SSL_CTX *ctx, const struct cfg_tls *t, char *why,
			size_t why_len, enum tls_bad *bad);

/*
 * Build both contexts from @t.  *srv is NULL when @t has no certificate
 * (outbound only); *cli always exists.  The SNI certificates hang off
 * *srv and go with it.  0, or -errno with @why and *bad set.
 */
int tls_ctx_build(const struct cfg_tls *t, SSL_CTX **srv, SSL_CTX **cli,
		  char *why, size_t why_len, enum tls_bad *bad);

/* The first queued OpenSSL error as text ("" if none); clears the queue. */
const char *tls_err_str(char *buf, size_t len);

#endif /* SIPDLG_TLS_CTX_H */
