/*
 * dlg_proxy.h - plug the dialog core into the proxy: the interface that
 * matches sequential requests, runs the dialog rule actions and conditions,
 * and feeds dialogs the replies of their transactions.
 */
#ifndef SIPDLG_DLG_PROXY_H
#define SIPDLG_DLG_PROXY_H

struct dlg_table;
struct proxy;

/* Give @px the dialog layer over @t (before the transport starts), and
 * run timeout_route rules at expiry (install before the timeout BYEs). */
int dlgp_install(struct dlg_table *t, struct proxy *px);

#endif
