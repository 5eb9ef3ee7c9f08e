/* dlg_rpc.h - the dlg.* control methods. */
#ifndef SIPDLG_DLG_RPC_H
#define SIPDLG_DLG_RPC_H

struct ctl_server;
struct dlg_table;

int dlg_rpc_register(struct ctl_server *s, struct dlg_table *t);

#endif
