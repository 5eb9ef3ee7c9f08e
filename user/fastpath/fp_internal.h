/* fp_internal.h - state shared by the fastpath/ files, not by callers. */
#ifndef SIPDLG_FP_INTERNAL_H
#define SIPDLG_FP_INTERNAL_H

#include <stdint.h>
#include <stddef.h>

#include "config/config.h"
#include "fastpath/fastpath.h"

struct bpf_object;
struct bpf_program;
struct ring_buffer;
struct stat_var;

struct fp_iface {
	char ifname[32];
	int ifindex;
	int link_fd;		/* bpf_link; closing it detaches */
	uint32_t link_id;
	int native;		/* 1 driver mode, 0 generic (skb) mode */
};

struct fastpath {
	struct bpf_object *obj;
	struct bpf_program *prog;
	int prog_fd;
	uint32_t prog_id;
	int dialogs_fd, counters_fd, events_fd, callids_fd;
	struct ring_buffer *rb;
	struct ev_loop *loop;
	int ncpus;
	char pin_path[256];
	uint16_t ports[SIPDLG_MAX_SIP_PORTS];
	size_t n_ports;
	struct fp_iface ifaces[CFG_MAX_IFACES];
	size_t n_ifaces;
	struct stat_var *st_events, *st_ev_bye, *st_ev_refresh,
		*st_ev_mismatch, *st_map_full;
};

/* fp_load.c: open, set knobs, load, pin. */
int fp_load_object(struct fastpath *fp, const struct sipdlg_config *cfg,
		   const char *obj_path, char *err, size_t err_len);
/* fp_attach.c */
int fp_attach_all(struct fastpath *fp, const struct sipdlg_config *cfg,
		  char *err, size_t err_len);
void fp_detach_all(struct fastpath *fp);

#endif /* SIPDLG_FP_INTERNAL_H */
