/*
 * dlg_proxy.h - plug the dialog core into the proxy: the hooks that match
 * sequential requests, run the dialog rule actions and conditions, and feed
 * dialogs the replies of their transactions.
 */
#ifndef SIPDLG_DLG_PROXY_H
#define SIPDLG_DLG_PROXY_H

#include "proxy/proxy.h"

struct dlg_table;

/* Run timeout_route rules at expiry (before the timeout BYEs). */
int dlgp_install(struct dlg_table *t, struct proxy *px);

/* Fill @h with the dialog layer's hooks over @t. */
void dlgp_hooks(struct dlg_table *t, struct px_hooks *h);

#endif
