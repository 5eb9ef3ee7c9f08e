/*
 * tp_tls_rpc.h - the tls.* control methods.
 */
#ifndef SIPDLG_TP_TLS_RPC_H
#define SIPDLG_TP_TLS_RPC_H

struct ctl_server;
struct transport;

/*
 * tls.reload: re-read the tls: section's certificate, key and CA files
 * (tp_tls_reload).  Result {"reloaded": true}; error 500 with the reason
 * when a file is refused (the certificates in use stay), 404 without a
 * tls: section.  0 or -errno.
 */
int tp_tls_rpc_register(struct ctl_server *s, struct transport *tp);

#endif /* SIPDLG_TP_TLS_RPC_H */
