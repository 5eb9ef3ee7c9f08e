/* dlg_rpc.h - the dlg.* control methods. */
#ifndef SIPDLG_DLG_RPC_H
#define SIPDLG_DLG_RPC_H

struct ctl_server;
struct dlg_table;

#include <jansson.h>
#include <stdint.h>

/* Another layer's object for one listed dialog (NULL: none). */
typedef json_t *(*dlg_rpc_extra_fn)(uint32_t h_entry, uint32_t h_id,
				    void *ud);

/* The dlg.* methods over @t. */
int dlg_rpc_register(struct ctl_server *s, struct dlg_table *t);
/* The same, adding @fn's object to every listed dialog under @key. */
int dlg_rpc_register_extra(struct ctl_server *s, struct dlg_table *t,
			   const char *key, dlg_rpc_extra_fn fn, void *ud);

#endif
