/*
 * sip_listen.h - own the SIP sockets of listen: (UDP and TCP, IPv4/IPv6).
 *
 * For now the daemon binds every address, counts what arrives
 * (core:rcv_datagrams, core:tcp_connections) and processes nothing: the
 * SIP proxy core replaces the receive side.  Binding at start means a
 * port clash is reported before anything else runs.
 */
#ifndef SIPDLG_SIP_LISTEN_H
#define SIPDLG_SIP_LISTEN_H

#include <stddef.h>

struct ev_loop;
struct stats;
struct sipdlg_config;
struct sip_listen;

int sip_listen_start(const struct sipdlg_config *cfg, struct ev_loop *loop,
		     struct stats *st, struct sip_listen **out, char *err,
		     size_t err_len);
void sip_listen_free(struct sip_listen *sl);	/* NULL-safe */

#endif
