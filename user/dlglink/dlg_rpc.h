/* dlg_rpc.h - the dlg.* control methods. */
#ifndef SIPDLG_DLG_RPC_H
#define SIPDLG_DLG_RPC_H

struct ctl_server;
struct dlg_table;

#include <jansson.h>
#include <stdint.h>

int dlg_rpc_register(struct ctl_server *s, struct dlg_table *t);

/* Add @fn's object to every listed dialog under @key (NULL result: none). */
typedef json_t *(*dlg_rpc_extra_fn)(uint32_t h_entry, uint32_t h_id,
				    void *ud);
void dlg_rpc_set_extra(const char *key, dlg_rpc_extra_fn fn, void *ud);

#endif
