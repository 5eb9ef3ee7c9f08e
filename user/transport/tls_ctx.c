/*
 * tls_ctx.c - OpenSSL contexts from the tls: section (tls_ctx.h).
 *
 * Server: one default context (certificate, private_key) and one context
 * per certificates: entry; the servername callback of the default one
 * switches a handshake to the entry whose server_name the client asked
 * for (SNI), and keeps the default for any other name or none.  The
 * entries hang off the default context as ex_data, freed with it: a
 * handshake that started before a reload keeps the set it started with.
 *
 * Client: certificate and key when given (mutual TLS), the CA for the
 * server's certificate.  The host name check is per connection
 * (tp_tls_io.c), from server_name.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "config/config.h"
#include "transport/tls_ctx.h"

#define WHY(b, ...) (snprintf(why, why_len, __VA_ARGS__), *bad = (b), -EINVAL)

/* The certificates chosen by SNI, owned by the default server context. */
struct tls_sni_set {
	size_t n;
	char *name[CFG_MAX_TLS_CERTS];
	SSL_CTX *ctx[CFG_MAX_TLS_CERTS];
};

static int sni_idx = -1;
static pthread_once_t sni_once = PTHREAD_ONCE_INIT;

const char *tls_err_str(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	buf[0] = '\0';
	if (e)
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

/* Never ask for a pass phrase on a terminal: an encrypted key is refused. */
static int no_passwd(char *buf, int size, int rwflag, void *ud)
{
	return 0;
}

/* Whether @path can be opened for reading; a reason in @why if not. */
static bool readable(const char *path, char *why, size_t why_len)
{
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(why, why_len, "cannot read %s: %s", path,
			 strerror(errno));
		return false;
	}
	fclose(f);
	return true;
}

int tls_ctx_use_pair(SSL_CTX *ctx, const char *cert, const char *key,
		     char *why, size_t why_len, enum tls_bad *bad)
{
	char e[200];

	if (!readable(cert, why, why_len)) {
		*bad = TLS_BAD_CERT;
		return -EINVAL;
	}
	if (!readable(key, why, why_len)) {
		*bad = TLS_BAD_KEY;
		return -EINVAL;
	}
	ERR_clear_error();
	SSL_CTX_set_default_passwd_cb(ctx, no_passwd);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		return WHY(TLS_BAD_CERT, "%s holds no usable PEM certificate "
			   "(%s)", cert, tls_err_str(e, sizeof(e)));
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		unsigned long err = ERR_peek_last_error();

		if (ERR_GET_LIB(err) == ERR_LIB_X509 &&
		    ERR_GET_REASON(err) == X509_R_KEY_VALUES_MISMATCH) {
			ERR_clear_error();
			return WHY(TLS_BAD_KEY, "%s is not the private key of "
				   "the certificate in %s", key, cert);
		}
		return WHY(TLS_BAD_KEY, "%s holds no usable PEM private key, "
			   "or one encrypted with a pass phrase (%s)", key,
			   tls_err_str(e, sizeof(e)));
	}
	if (SSL_CTX_check_private_key(ctx) != 1)
		return WHY(TLS_BAD_KEY, "%s is not the private key of the "
			   "certificate in %s", key, cert);
	return 0;
}

int tls_ctx_use_ciphers(SSL_CTX *ctx, const struct cfg_tls *t, char *why,
			size_t why_len, enum tls_bad *bad)
{
	char e[200];

	ERR_clear_error();
	if (t->ciphers && t->ciphers[0] &&
	    SSL_CTX_set_cipher_list(ctx, t->ciphers) != 1)
		return WHY(TLS_BAD_CIPHERS, "'%s' names no cipher OpenSSL "
			   "knows (%s)", t->ciphers, tls_err_str(e, sizeof(e)));
	if (t->ciphersuites && t->ciphersuites[0] &&
	    SSL_CTX_set_ciphersuites(ctx, t->ciphersuites) != 1)
		return WHY(TLS_BAD_SUITES, "'%s' is not a list of TLS 1.3 "
			   "suites, e.g. TLS_AES_256_GCM_SHA384:"
			   "TLS_CHACHA20_POLY1305_SHA256 (%s)",
			   t->ciphersuites, tls_err_str(e, sizeof(e)));
	return 0;
}

static int use_ca(SSL_CTX *ctx, const struct cfg_tls *t, char *why,
		  size_t why_len, enum tls_bad *bad)
{
	const char *file = t->ca_file && t->ca_file[0] ? t->ca_file : NULL;
	const char *dir = t->ca_dir && t->ca_dir[0] ? t->ca_dir : NULL;
	struct stat st;
	char e[200];

	if (file && !readable(file, why, why_len)) {
		*bad = TLS_BAD_CA_FILE;
		return -EINVAL;
	}
	if (dir && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
		return WHY(TLS_BAD_CA_DIR, "%s is not a directory", dir);
	ERR_clear_error();
	if (!file && !dir) {
		/* Nothing named: the system's CAs, for public carriers. */
		SSL_CTX_set_default_verify_paths(ctx);
		return 0;
	}
	if (SSL_CTX_load_verify_locations(ctx, file, dir) != 1)
		return WHY(file ? TLS_BAD_CA_FILE : TLS_BAD_CA_DIR,
			   "no CA certificate could be loaded from %s (%s)",
			   file ? file : dir, tls_err_str(e, sizeof(e)));
	if (file) {
		/* Tell clients which CAs we accept their certificates from. */
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(file);

		if (names)
			SSL_CTX_set_client_CA_list(ctx, names);
	}
	return 0;
}

/* What every context of ours shares: versions, modes, ciphers, CA. */
static SSL_CTX *ctx_new(const struct cfg_tls *t, bool server, char *why,
			size_t why_len, enum tls_bad *bad)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() :
					    TLS_client_method());
	static const unsigned char sid[] = "sipdlgd";
	int mode;

	if (!ctx) {
		snprintf(why, why_len, "out of memory");
		*bad = TLS_BAD_OTHER;
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, t->min_version == CFG_TLS_1_3 ?
						   TLS1_3_VERSION :
						   TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* Writes may stop half way (non-blocking) and are retried from an
	 * output buffer that can move when it grows. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_default_passwd_cb(ctx, no_passwd);
	if (server)
		SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
	if (tls_ctx_use_ciphers(ctx, t, why, why_len, bad) ||
	    use_ca(ctx, t, why, why_len, bad)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (t->verify_peer == CFG_TLS_VERIFY_NONE)
		mode = SSL_VERIFY_NONE;
	else if (server && t->verify_peer == CFG_TLS_VERIFY_REQUIRED)
		mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	else
		mode = SSL_VERIFY_PEER;	/* a server's certificate: always */
	SSL_CTX_set_verify(ctx, mode, NULL);
	return ctx;
}

static void sni_set_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad,
			 int idx, long argl, void *argp)
{
	struct tls_sni_set *s = ptr;

	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->name[i]);
		SSL_CTX_free(s->ctx[i]);
	}
	free(s);
}

static void sni_init(void)
{
	sni_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, sni_set_free);
}

/* ClientHello with a server name: the certificate made for that name. */
static int on_servername(SSL *ssl, int *alert, void *arg)
{
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	struct tls_sni_set *s =
		SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), sni_idx);

	if (!name || !s)
		return SSL_TLSEXT_ERR_OK;
	for (size_t i = 0; i < s->n; i++)
		if (strcasecmp(name, s->name[i]) == 0) {
			SSL_set_SSL_CTX(ssl, s->ctx[i]);
			break;
		}
	return SSL_TLSEXT_ERR_OK;	/* unknown names get the default */
}

static int build_sni(const struct cfg_tls *t, SSL_CTX *srv, char *why,
		     size_t why_len, enum tls_bad *bad)
{
	struct tls_sni_set *s;
	char sub[300];

	pthread_once(&sni_once, sni_init);
	if (sni_idx < 0)
		return WHY(TLS_BAD_OTHER, "no ex_data index for SNI");
	if (!t->n_certs)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s || SSL_CTX_set_ex_data(srv, sni_idx, s) != 1) {
		free(s);
		return WHY(TLS_BAD_OTHER, "out of memory");
	}
	for (size_t i = 0; i < t->n_certs; i++) {
		const struct cfg_tls_cert *c = &t->certs[i];
		SSL_CTX *ctx = ctx_new(t, true, why, why_len, bad);

		if (!ctx)
			return -EINVAL;
		s->ctx[s->n] = ctx;
		s->name[s->n] = strdup(c->server_name);
		s->n++;
		if (!s->name[s->n - 1])
			return WHY(TLS_BAD_OTHER, "out of memory");
		if (tls_ctx_use_pair(ctx, c->certificate, c->private_key, sub,
				     sizeof(sub), bad))
			return WHY(*bad, "certificates[%zu] (%s): %s", i,
				   c->server_name, sub);
	}
	SSL_CTX_set_tlsext_servername_callback(srv, on_servername);
	return 0;
}

int tls_ctx_build(const struct cfg_tls *t, SSL_CTX **srv, SSL_CTX **cli,
		  char *why, size_t why_len, enum tls_bad *bad)
{
	SSL_CTX *s = NULL, *c = NULL;
	bool have_pair = t->certificate && t->certificate[0] &&
			 t->private_key && t->private_key[0];

	if (have_pair) {
		s = ctx_new(t, true, why, why_len, bad);
		if (!s || tls_ctx_use_pair(s, t->certificate, t->private_key,
					   why, why_len, bad) ||
		    build_sni(t, s, why, why_len, bad))
			goto fail;
	}
	c = ctx_new(t, false, why, why_len, bad);
	if (!c)
		goto fail;
	if (have_pair && tls_ctx_use_pair(c, t->certificate, t->private_key,
					  why, why_len, bad))
		goto fail;
	*srv = s;
	*cli = c;
	return 0;
fail:
	SSL_CTX_free(s);
	SSL_CTX_free(c);
	return -EINVAL;
}
