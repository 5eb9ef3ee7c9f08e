/* fp_rpc.h - control methods of the fast path (xdp.status). */
#ifndef SIPDLG_FP_RPC_H
#define SIPDLG_FP_RPC_H

struct ctl_server;
struct fastpath;
struct sipdlg_config;

/* @fp may be NULL (xdp disabled): xdp.status then says so. */
int fp_rpc_register(struct ctl_server *srv, struct fastpath *fp,
		    const struct sipdlg_config *cfg);

#include <jansson.h>
#include <stdint.h>

/* A dialog's kernel counters as JSON (@ud: the fastpath), or NULL. */
json_t *fp_rpc_dialog_json(uint32_t h_entry, uint32_t h_id, void *ud);

#endif
