/* fp_rpc.h - control methods of the fast path (xdp.status). */
#ifndef SIPDLG_FP_RPC_H
#define SIPDLG_FP_RPC_H

struct ctl_server;
struct fastpath;
struct sipdlg_config;

/* @fp may be NULL (xdp disabled): xdp.status then says so. */
int fp_rpc_register(struct ctl_server *srv, struct fastpath *fp,
		    const struct sipdlg_config *cfg);

#endif
