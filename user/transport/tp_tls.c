/*
 * tp_tls.c - the TLS side of the transport that is not I/O: the OpenSSL
 * contexts in force and their reload, a new SSL object per connection
 * (SNI and the name or IP check for outbound ones), and the "tls"
 * statistics with their rate-limited log lines.
 *
 * Reload: the contexts are swapped under t->lock; each SSL object holds
 * a reference to the context it was made from, so a connection opened
 * (or a handshake begun) before a reload keeps its certificate, and the
 * old context is freed with its last connection.
 */
#define LOG_TAG "tls"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/stats.h"
#include "transport/tls_ctx.h"
#include "transport/tp_int.h"

struct tp_tls {
	const struct cfg_tls *cfg;	/* the daemon's config: outlives us */
	pthread_mutex_t lock;		/* guards srv, cli */
	SSL_CTX *srv, *cli;
	struct stat_var *connections, *hs_failed, *hs_timeout, *reloads;
};

static const char *const bad_key[] = {
	[TLS_BAD_CERT] = "certificate", [TLS_BAD_KEY] = "private_key",
	[TLS_BAD_CA_FILE] = "ca_file", [TLS_BAD_CA_DIR] = "ca_dir",
	[TLS_BAD_CIPHERS] = "ciphers", [TLS_BAD_SUITES] = "ciphersuites",
	[TLS_BAD_OTHER] = "tls",
};

static int build(const struct cfg_tls *cfg, SSL_CTX **srv, SSL_CTX **cli,
		 char *err, size_t err_len)
{
	enum tls_bad bad = TLS_BAD_OTHER;
	char why[400];

	if (tls_ctx_build(cfg, srv, cli, why, sizeof(why), &bad) == 0)
		return 0;
	snprintf(err, err_len, "tls.%s: %s", bad_key[bad], why);
	return -EINVAL;
}

int tp_tls_init(struct transport *tp, const struct cfg_tls *cfg,
		struct stats *st, char *err, size_t err_len)
{
	struct tp_tls *t;
	int r;

	if (!cfg->present)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	if (pthread_mutex_init(&t->lock, NULL) != 0) {
		free(t);
		return -ENOMEM;
	}
	t->cfg = cfg;
	r = build(cfg, &t->srv, &t->cli, err, err_len);
	if (r) {
		tp_tls_free(t);
		return r;
	}
	t->connections = stats_register(st, "tls", "connections", 0);
	t->hs_failed = stats_register(st, "tls", "handshake_failed", 0);
	t->hs_timeout = stats_register(st, "tls", "handshake_timeout", 0);
	t->reloads = stats_register(st, "tls", "reloads", 0);
	tp->tls = t;
	log_info("TLS: %s%zu SNI certificate%s, verify_peer %s, min %s",
		 t->srv ? "server certificate, " : "outbound only, ",
		 cfg->n_certs, cfg->n_certs == 1 ? "" : "s",
		 cfg->verify_peer == CFG_TLS_VERIFY_NONE ? "none" :
		 cfg->verify_peer == CFG_TLS_VERIFY_OPTIONAL ? "optional" :
							      "required",
		 cfg->min_version == CFG_TLS_1_3 ? "TLS1.3" : "TLS1.2");
	return 0;
}

void tp_tls_free(struct tp_tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->srv);
	SSL_CTX_free(t->cli);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

int tp_tls_reload(struct transport *tp, char *err, size_t err_len)
{
	struct tp_tls *t = tp ? tp->tls : NULL;
	SSL_CTX *srv = NULL, *cli = NULL, *old_srv, *old_cli;
	int r;

	if (!t) {
		snprintf(err, err_len, "no tls: section in the configuration");
		return -ENOENT;
	}
	r = build(t->cfg, &srv, &cli, err, err_len);
	if (r) {
		log_err("TLS reload refused, the certificates in use stay: %s",
			err);
		return r;
	}
	pthread_mutex_lock(&t->lock);
	old_srv = t->srv;
	old_cli = t->cli;
	t->srv = srv;
	t->cli = cli;
	pthread_mutex_unlock(&t->lock);
	/* Connections made from the old ones hold their own references. */
	SSL_CTX_free(old_srv);
	SSL_CTX_free(old_cli);
	stat_inc(t->reloads);
	log_notice("TLS certificates reloaded; new handshakes use them");
	return 0;
}

uint32_t tp_tls_hs_timeout(const struct transport *tp)
{
	return tp->tls ? tp->tls->cfg->handshake_timeout_ms : 5000;
}

/*
 * Outbound: what the server's certificate is checked against, and the
 * SNI.  The next hop's DNS name (c->tls_name, from the URI or forward
 * target it came from): SNI and host name check.  An IP literal:
 * tls.server_name if set (SNI and host name check), else no SNI and the
 * certificate must carry the IP address (subjectAltName iPAddress).
 * verify_peer none checks nothing (the SNI is still sent).
 */
static int outbound_name(struct tp_tls *t, struct tp_conn *c, SSL *ssl)
{
	const char *name = c->tls_name[0] ? c->tls_name : t->cfg->server_name;
	bool verify = t->cfg->verify_peer != CFG_TLS_VERIFY_NONE;
	char ip[INET6_ADDRSTRLEN];
	const void *a;

	SSL_set_connect_state(ssl);
	if (name && name[0]) {
		if (SSL_set_tlsext_host_name(ssl, name) != 1)
			return -1;
		if (verify && X509_VERIFY_PARAM_set1_host(SSL_get0_param(ssl),
							  name, 0) != 1)
			return -1;
		return 0;
	}
	if (!verify)
		return 0;
	a = c->remote.ss.ss_family == AF_INET6 ?
		(const void *)&((const struct sockaddr_in6 *)&c->remote.ss)->sin6_addr :
		(const void *)&((const struct sockaddr_in *)&c->remote.ss)->sin_addr;
	if (!inet_ntop(c->remote.ss.ss_family, a, ip, sizeof(ip)) ||
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip) != 1)
		return -1;
	return 0;
}

int tp_tls_conn_init(struct transport *tp, struct tp_conn *c, bool server)
{
	struct tp_tls *t = tp->tls;
	SSL *ssl = NULL;

	if (!t)
		return -EPROTONOSUPPORT;
	pthread_mutex_lock(&t->lock);
	if (server ? t->srv != NULL : true)
		ssl = SSL_new(server ? t->srv : t->cli);
	pthread_mutex_unlock(&t->lock);
	if (!ssl)
		return server && !t->srv ? -EPROTONOSUPPORT : -ENOMEM;
	if (SSL_set_fd(ssl, c->fd) != 1) {
		SSL_free(ssl);
		return -ENOMEM;
	}
	if (server) {
		SSL_set_accept_state(ssl);
	} else if (outbound_name(t, c, ssl) != 0) {
		SSL_free(ssl);
		return -ENOMEM;
	}
	c->ssl = ssl;
	c->hs_start_ms = ev_now_ms();
	return 0;
}

void tp_tls_failed(struct transport *tp, struct tp_conn *c, const char *why)
{
	char name[96];
	long vr = c->ssl ? SSL_get_verify_result(c->ssl) : X509_V_OK;

	stat_inc(tp->tls->hs_failed);
	tp_guard_log(tp, TP_GUARD_TLS_FAILED, "tls: handshake %s %s failed: "
		     "%s%s%s", c->outgoing ? "to" : "from",
		     tp_addr_str(TP_TLS, &c->remote, name, sizeof(name)), why,
		     vr != X509_V_OK ? "; certificate: " : "",
		     vr != X509_V_OK ? X509_verify_cert_error_string(vr) : "");
}

void tp_tls_timed_out(struct transport *tp, struct tp_conn *c, uint64_t now)
{
	char name[96];

	stat_inc(tp->tls->hs_timeout);
	tp_guard_log(tp, TP_GUARD_TLS_TIMEOUT, "tls: closed %s: handshake not "
		     "done %llu ms after it began (handshake_timeout_ms %u)",
		     tp_addr_str(TP_TLS, &c->remote, name, sizeof(name)),
		     (unsigned long long)(now - c->hs_start_ms),
		     tp->tls->cfg->handshake_timeout_ms);
}

void tp_tls_established(struct transport *tp, struct tp_conn *c)
{
	stat_inc(tp->tls->connections);
}
