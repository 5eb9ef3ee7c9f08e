/* fp_internal.h - state shared by the fastpath/ files, not by callers. */
#ifndef SIPDLG_FP_INTERNAL_H
#define SIPDLG_FP_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "config/config.h"
#include "fastpath/fastpath.h"
#include "fastpath/fp_pending.h"

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

/* fp_kmaps.c: dialogs the kernel maps do not hold; all under @lock. */
struct fp_kmaps {
	pthread_mutex_t lock;
	bool lock_ok;
	struct fp_pending pend;
	int fpstate_fd, overflow_fd;	/* -1 with an older BPF object */
	int match_mode;			/* dialog.dlg_match_mode */
	uint32_t capacity, overflow_capacity;
	uint64_t n_kernel;		/* entries we hold in "dialogs" */
	uint64_t n_out, n_overflow, n_lost, n_no_callid, n_untracked;
	uint64_t dialogs_failed, overflow_failed, callids_failed, moved_in;
	uint64_t log_next_ms;		/* rate limit of the warnings */
	uint64_t log_suppressed;
	bool degraded;			/* as last written to "fpstate" */
	bool starting;			/* before fp_kmaps_reconcile() */
	struct sipdlg_fp_state boot;	/* "fpstate" as found at start */
	struct stat_var *st_dialogs_failed, *st_overflow_failed,
		*st_callids_failed, *st_moved_in, *st_not_in_kernel;
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
		*st_ev_mismatch;
	struct fp_kmaps km;
};

/* fp_load.c: open, set knobs, load, pin. */
int fp_load_object(struct fastpath *fp, const struct sipdlg_config *cfg,
		   const char *obj_path, char *err, size_t err_len);
/* fp_attach.c */
int fp_attach_all(struct fastpath *fp, const struct sipdlg_config *cfg,
		  char *err, size_t err_len);
void fp_detach_all(struct fastpath *fp);

#endif /* SIPDLG_FP_INTERNAL_H */
