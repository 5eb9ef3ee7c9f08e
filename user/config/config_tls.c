/*
 * config_tls.c - the tls: section: certificate and key, the CA, peer
 * verification, versions and ciphers, outbound server_name, the
 * certificates chosen by SNI, the handshake deadline.
 *
 * Files are opened and checked here with the very calls the transport
 * uses (transport/tls_ctx.c), so `sipdlgd --check` reports a missing or
 * unreadable file, a key that is not the certificate's, or a cipher list
 * OpenSSL does not know at FILE:LINE:COL of the key that names it.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_int.h"
#include "transport/tls_ctx.h"

static const char *const verify_names[] = { "none", "optional", "required",
					    NULL };
static const char *const version_names[] = { "TLS1.2", "TLS1.3", NULL };

static int load_certs(struct cfg_ctx *ctx, const struct cfg_node *n,
		      const struct cfg_key *k, void *base);

#define F(f) offsetof(struct cfg_tls, f)

static const struct cfg_key tls_keys[] = {
	{ "certificate", CFG_K_STRN, F(certificate), 0, 0, NULL, NULL, NULL },
	{ "private_key", CFG_K_STRN, F(private_key), 0, 0, NULL, NULL, NULL },
	{ "ca_file", CFG_K_STRN, F(ca_file), 0, 0, NULL, NULL, NULL },
	{ "ca_dir", CFG_K_STRN, F(ca_dir), 0, 0, NULL, NULL, NULL },
	{ "verify_peer", CFG_K_ENUM, F(verify_peer), 0, 0, verify_names, NULL,
	  NULL },
	{ "min_version", CFG_K_ENUM, F(min_version), 0, 0, version_names,
	  NULL, NULL },
	{ "ciphers", CFG_K_STRN, F(ciphers), 0, 0, NULL, NULL, NULL },
	{ "ciphersuites", CFG_K_STRN, F(ciphersuites), 0, 0, NULL, NULL,
	  NULL },
	{ "server_name", CFG_K_STRN, F(server_name), 0, 0, NULL, NULL, NULL },
	{ "handshake_timeout_ms", CFG_K_U32, F(handshake_timeout_ms), 100,
	  600000, NULL, NULL, NULL },
	{ "certificates", CFG_K_CUSTOM, 0, 0, 0, NULL, load_certs, NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

#define C(f) offsetof(struct cfg_tls_cert, f)

static const struct cfg_key tls_certificates_keys[] = {
	{ "server_name", CFG_K_STRN, C(server_name), 0, 0, NULL, NULL, NULL },
	{ "certificate", CFG_K_STRN, C(certificate), 0, 0, NULL, NULL, NULL },
	{ "private_key", CFG_K_STRN, C(private_key), 0, 0, NULL, NULL, NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

static bool set(const char *s)
{
	return s && s[0];
}

/* Load the pair as the transport will; report at the culprit's node. */
static void check_pair(struct cfg_ctx *ctx, const struct cfg_node *map,
		       const char *cert, const char *key, const char *where)
{
	SSL_CTX *sc = SSL_CTX_new(TLS_server_method());
	enum tls_bad bad = TLS_BAD_OTHER;
	const struct cfg_node *at;
	char why[400];

	if (!sc) {
		cfg_error(ctx, map, "%s: cannot create a TLS context", where);
		return;
	}
	if (tls_ctx_use_pair(sc, cert, key, why, sizeof(why), &bad)) {
		at = cfg_map_get(map, bad == TLS_BAD_KEY ? "private_key" :
							   "certificate");
		cfg_error(ctx, at ? at : map, "%s%s: %s", where,
			  bad == TLS_BAD_KEY ? "private_key" : "certificate",
			  why);
	}
	SSL_CTX_free(sc);
}

/* Both or neither of certificate and private_key. */
static bool pair_given(struct cfg_ctx *ctx, const struct cfg_node *map,
		       const char *cert, const char *key, const char *where)
{
	if (set(cert) && !set(key)) {
		cfg_error(ctx, cfg_map_get(map, "certificate"), "%scertificate: "
			  "needs private_key beside it", where);
		return false;
	}
	if (set(key) && !set(cert)) {
		cfg_error(ctx, cfg_map_get(map, "private_key"), "%sprivate_key: "
			  "needs certificate beside it", where);
		return false;
	}
	return set(cert);
}

/* certificates: [{server_name, certificate, private_key}, ...] */
static int load_certs(struct cfg_ctx *ctx, const struct cfg_node *n,
		      const struct cfg_key *k, void *base)
{
	struct cfg_tls *t = base;

	if (cfg_is_null(n))
		return 0;
	if (cfg_expect_seq(ctx, n, "certificates",
			   "[{server_name: sip.example.com, certificate: "
			   "/etc/sipdlg/sip.pem, private_key: /etc/sipdlg/"
			   "sip.key}]"))
		return 0;
	for (size_t i = 0; i < n->n_kids; i++) {
		const struct cfg_node *e = n->kids[i];
		struct cfg_tls_cert c = { 0 };
		char where[48];

		if (t->n_certs == CFG_MAX_TLS_CERTS) {
			cfg_error(ctx, e, "certificates: at most %d entries",
				  CFG_MAX_TLS_CERTS);
			break;
		}
		snprintf(where, sizeof(where), "certificates[%zu].", i);
		cfg_apply_map(ctx, e, "certificates", tls_certificates_keys, &c);
		if (e->type == CFG_NODE_MAP) {
			if (!set(c.server_name))
				cfg_error(ctx, e, "%sserver_name: missing (the "
					  "name a client asks for by SNI)",
					  where);
			if (!set(c.certificate) && !set(c.private_key))
				cfg_error(ctx, e, "%scertificate and "
					  "private_key: missing", where);
			else if (pair_given(ctx, e, c.certificate,
					    c.private_key, where))
				check_pair(ctx, e, c.certificate,
					   c.private_key, where);
			for (size_t j = 0; set(c.server_name) && j < t->n_certs;
			     j++)
				if (strcasecmp(t->certs[j].server_name,
					       c.server_name) == 0)
					cfg_error(ctx, cfg_map_get(e,
								   "server_name"),
						  "%sserver_name: '%s' is listed "
						  "twice", where,
						  c.server_name);
		}
		t->certs[t->n_certs++] = c;
	}
	return 0;
}

void cfg_load_tls(struct cfg_ctx *ctx, const struct cfg_node *n,
		  struct cfg_tls *t)
{
	SSL_CTX *sc;
	enum tls_bad bad;
	char why[400];

	ctx->tls_node = n;
	t->present = 1;
	cfg_apply_map(ctx, n, "tls", tls_keys, t);
	if (cfg_is_null(n) || n->type != CFG_NODE_MAP)
		return;
	if (pair_given(ctx, n, t->certificate, t->private_key, ""))
		check_pair(ctx, n, t->certificate, t->private_key, "");
	sc = SSL_CTX_new(TLS_server_method());
	if (!sc)
		return;
	if (tls_ctx_use_ciphers(sc, t, why, sizeof(why), &bad)) {
		const char *key = bad == TLS_BAD_CIPHERS ? "ciphers" :
							   "ciphersuites";

		cfg_error(ctx, cfg_map_get(n, key), "%s: %s", key, why);
	}
	SSL_CTX_free(sc);
	if (set(t->ca_file) || set(t->ca_dir)) {
		/* Loaded as the transport does: a client context. */
		SSL_CTX *cc = NULL, *ss = NULL;
		struct cfg_tls only_ca = {
			.ca_file = t->ca_file, .ca_dir = t->ca_dir,
			.verify_peer = t->verify_peer,
			.min_version = t->min_version,
		};

		if (tls_ctx_build(&only_ca, &ss, &cc, why, sizeof(why),
				  &bad) == 0) {
			SSL_CTX_free(ss);
			SSL_CTX_free(cc);
		} else {
			const char *key = bad == TLS_BAD_CA_DIR ? "ca_dir" :
								  "ca_file";

			cfg_error(ctx, cfg_map_get(n, key), "%s: %s", key, why);
		}
	}
}

/* After the whole tree: what listen: and forward: ask of tls:. */
void cfg_tls_check(struct cfg_ctx *ctx, const struct sipdlg_config *cfg)
{
	const struct cfg_tls *t = &cfg->tls;

	if (ctx->tls_listen_node && !t->present)
		cfg_error(ctx, ctx->tls_listen_node, "listen: a tls: entry needs "
			  "a tls: section with certificate and private_key");
	else if (ctx->tls_listen_node && !set(t->certificate))
		cfg_error(ctx, ctx->tls_node, "tls: certificate and private_key "
			  "are needed to accept TLS on listen: (the server "
			  "certificate)");
	if (ctx->tls_fwd_node && !t->present)
		cfg_error(ctx, ctx->tls_fwd_node, "forward: tls needs a tls: "
			  "section (CA, server_name)");
	else if (ctx->tls_fwd_node && !ctx->tls_listen_node)
		cfg_error(ctx, ctx->tls_fwd_node, "forward: tls needs a tls: "
			  "entry in listen: (the address written in Via and "
			  "Record-Route)");
	if (t->n_certs && !set(t->certificate))
		cfg_error(ctx, ctx->tls_node, "tls: certificates: needs a "
			  "default certificate and private_key too (for "
			  "clients that send no SNI or another name)");
}

void cfg_tls_free(struct cfg_tls *t)
{
	free(t->certificate);
	free(t->private_key);
	free(t->ca_file);
	free(t->ca_dir);
	free(t->ciphers);
	free(t->ciphersuites);
	free(t->server_name);
	for (size_t i = 0; i < t->n_certs; i++) {
		free(t->certs[i].server_name);
		free(t->certs[i].certificate);
		free(t->certs[i].private_key);
	}
	memset(t, 0, sizeof(*t));
}
