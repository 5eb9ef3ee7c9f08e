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
#include "mac/mac_ring.h"

struct bpf_object;
struct bpf_program;
struct ring_buffer;
struct stat_var;
struct dlg_table;
struct dlg_cell;

struct fp_iface {
	char ifname[32];
	int ifindex;
	int link_fd;		/* bpf_link; closing it detaches */
	uint32_t link_id;
	int native;		/* 1 driver mode, 0 generic (skb) mode */
};

#define FP_KMAPS_GONE_MAX 64	/* deferred deletions per batch */
#define FP_RELAY_Q_MAX 64	/* relay_hops writes per batch */
#define FP_RELAY_DQ_MS 100	/* the longest a deletion waits for a worker */

struct fp_clock_writer;

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
	bool loading;			/* stored dialogs not loaded yet
					 * (fp_kmaps_set_loading) */
	struct sipdlg_fp_state boot;	/* "fpstate" as found at start */
	struct sipdlg_fp_state written;	/* as last written (state_write) */
	bool have_written;		/* "written" is valid */
	struct stat_var *st_dialogs_failed, *st_overflow_failed,
		*st_callids_failed, *st_moved_in, *st_not_in_kernel;
	/* Ended dialogs whose "dialogs" entry goes at the next flush
	 * (fp_kmaps_flush: the clock tick, or a full list), one batch
	 * deletion for all; only while no dialog waits for a slot.
	 * defer_ok: a tick runs (fp_clock_start). */
	bool defer_ok;
	size_t n_gone;
	_Atomic uint64_t gone_first_ms;	/* CLOCK_MONOTONIC ms of gone[0];
					 * 0: the list is empty */
	struct sipdlg_dlg_key gone[FP_KMAPS_GONE_MAX];
};

/* fp_relay.c: the "relay_hops" map and what was written into it. */
struct fp_relay {
	int fd;				/* "relay_hops"; -1: relay off */
	struct proxy *px;		/* resolves next hops */
	struct stats *st;
	_Atomic uint64_t gen;
	_Atomic uint64_t written, removed, dirs_unrelayed, write_failed;
	/* A confirmed dialog's entry could not be written at its 2xx: the
	 * ACK (DLGCB_CONFIRMED) then looks and tries again; while this is
	 * false every confirmed dialog got its entry at the 2xx. */
	_Atomic bool unwritten;
	/* sip.* totals: the kernel's relay_req / relay_reply folded in. */
	pthread_mutex_t fold_lock;
	uint64_t folded_req, folded_reply;
	struct stat_var *st_fwd_req, *st_fwd_rep, *st_relayed_req,
		*st_relayed_rep;
	/* The dialogs whose entry may be in "relay_hops": written (or kept
	 * at the start) and not deleted since.  A deletion of any other is
	 * no system call.  keys_ok false (before the install, or after an
	 * entry could not be remembered): every deletion is made. */
	pthread_mutex_t keys_lock;
	bool keys_ok;
	struct fp_pending keys;
	/* Entries written at the next flush (fp_relay_flush: a worker
	 * before it sleeps once the oldest waits SIPDLG_CLOCK_PUBLISH_MS,
	 * the main tick, or a full queue), one BPF_MAP_UPDATE_BATCH for
	 * all; under keys_lock, which the flush holds through its system
	 * call so that a deletion finds a key queued or remembered. */
	size_t n_q;
	_Atomic uint64_t q_first_ms;	/* CLOCK_MONOTONIC ms; 0: empty */
	_Atomic bool q_urgent;		/* one is for a dialog in state 3 with
					 * xdp.relay.ack on */
	/* Deletions made in one BPF_MAP_DELETE_BATCH: entries of dialogs a
	 * UDP BYE ended, which the kernel saw itself and relays nothing
	 * more in (bye_seen, sd_relay_req_gate), so they can wait longer
	 * than the writes: for the main tick (FP_GONE_TICK_MS), a worker's
	 * flush once the oldest waits FP_RELAY_DQ_MS, or a full queue.
	 * At 800 calls/s that is one system call per ~40 calls instead of
	 * one per ~4 (a worker's 5 ms flush). */
	size_t n_dq;
	_Atomic uint64_t dq_first_ms;	/* CLOCK_MONOTONIC ms; 0: empty */
	struct sipdlg_dlg_key dq_keys[FP_RELAY_Q_MAX];
	struct sipdlg_dlg_key q_keys[FP_RELAY_Q_MAX];
	struct sipdlg_relay_hops q_hops[FP_RELAY_Q_MAX];
};

struct fastpath {
	struct bpf_object *obj;
	struct bpf_program *prog;
	int prog_fd;
	uint32_t prog_id;
	int dialogs_fd, counters_fd, events_fd, callids_fd;
	/* Drained by the main loop's tick and every stats read, not
	 * watched (a wake-up per BYE event cost more than its counting);
	 * rb_lock: one consumer at a time. */
	struct ring_buffer *rb;
	pthread_mutex_t rb_lock;
	struct stats *st_refresh;	/* whose refresh is ours */
	struct ev_loop *loop;
	int ncpus;
	char pin_path[256];
	uint16_t ports[SIPDLG_MAX_SIP_PORTS];
	size_t n_ports;
	struct fp_iface ifaces[CFG_MAX_IFACES];
	size_t n_ifaces;
	struct stat_var *st_events, *st_ev_bye, *st_ev_refresh,
		*st_ev_mismatch;
	/* xdp.relay.ack (fp_ack.c): dialogs confirmed by the kernel's event,
	 * events for a dialog no longer in state 3 (ignored), dialogs whose
	 * lost event was found in the map at the noack timeout */
	struct stat_var *st_ack_confirmed, *st_ack_late, *st_ack_at_noack;
	struct fp_kmaps km;
	/* For reloading the program (a MAC key rotation). */
	const struct sipdlg_config *cfg;
	char *obj_path;			/* NULL = built in */
	/* Cookie MAC (fp_mac.c); mac NULL = off.  A dialog whose MAC
	 * generation is below mac_floor (or 0) is not accepted by MAC in
	 * the kernel and gets SIPDLG_DLGF_NOMAC. */
	struct mac_ring *mac;
	_Atomic uint32_t mac_floor;
	struct dlg_table *dlg;		/* for the rotation's walk */
	/* After a rotation: the object of the attached program.  fp->obj
	 * stays for the daemon's life and owns the maps (their fds, the
	 * ring buffer's); its own program is unloaded.  NULL before. */
	struct bpf_object *prog_obj;
	uint32_t rotations;
	uint64_t clock_timer;		/* fp_clock.c, 0: none */
	/* fp_clock.c: sd_clock_ns of fp->obj and of fp->prog_obj (NULL:
	 * none); the hooked loops awake and the writers between loading a
	 * slot and storing into it. */
	__u64 *_Atomic clock_slots[2];
	_Atomic unsigned clock_awake, clock_busy;
	bool clock_hooked;		/* workers write the clock */
	struct fp_clock_writer **clock_writers;	/* one per hooked loop */
	size_t n_clock_writers;
	struct fp_relay relay;
	/* The loaded program relays (knob relay_enabled): only then does the
	 * kernel read a dialog's state (== 4, sd_relay_req_gate). */
	bool relay_knob;
};

/* Every knob of bpf/knobs.h this sipdlgd sets (fp_knobs.c). */
struct fp_knobs {
	__u16 sip_ports[SIPDLG_MAX_SIP_PORTS];
	__u32 n_sip_ports;
	__u32 unknown_dialog_drop;
	__u32 dlg_match_mode;
	char rr_param[SIPDLG_RR_PARAM_MAX];
	__u32 rr_param_len;
	__u32 max_dialog_pps;
	__u32 mac_enabled;
	__u64 mac_key[2];
	__u32 mac_prev_enabled;
	__u64 mac_key_prev[2];
	__u32 invite_limit_pps;		/* xdp.invite_limit; 0 = off */
	__u32 invite_limit_burst;
	__u32 relay_enabled;
	__u32 relay_methods;
};

/* The knobs for @fp's ports and @cfg; @mac NULL = MAC off. */
void fp_knobs_fill(struct fp_knobs *k, const struct fastpath *fp,
		   const struct sipdlg_config *cfg,
		   const struct mac_state *mac);
/*
 * Write @k into @obj's .rodata (opened, not loaded).  Each knob must
 * exist in the object's BTF with the same size: otherwise -ENOENT /
 * -E2BIG and a message naming the knob and @obj_name.
 */
int fp_knobs_set(struct bpf_object *obj, const char *obj_name,
		 const struct fp_knobs *k, char *err, size_t err_len);

/* fp_load.c: open, set knobs, load, pin. */
int fp_load_object(struct fastpath *fp, const struct sipdlg_config *cfg,
		   const char *obj_path, char *err, size_t err_len);
/* A second program from the same object and config, knobs with @mac,
 * loaded (every map shared with fp->obj's) but not attached; *out owned
 * by the caller. */
int fp_load_replacement(struct fastpath *fp, const struct mac_state *mac,
			struct bpf_object **out, char *err, size_t err_len);

/* fp_attach.c */
int fp_attach_all(struct fastpath *fp, const struct sipdlg_config *cfg,
		  char *err, size_t err_len);
void fp_detach_all(struct fastpath *fp);
/*
 * Swap the program on every attached interface to @new_prog_fd in one
 * step each (bpf_link_update, expecting fp->prog_fd there): no packet
 * sees no program.  On a failure the interfaces already swapped are put
 * back; -errno and a message.
 */
int fp_attach_replace(struct fastpath *fp, int new_prog_fd, char *err,
		      size_t err_len);

/*
 * fp_clock.c: write CLOCK_MONOTONIC into the loaded programs' sd_clock_ns
 * now (not once workers' loops are hooked: they write it); start (publish,
 * then every SIPDLG_CLOCK_PUBLISH_MS on fp->loop, or only the deferred
 * deletions once loops are hooked) and stop doing so.
 */
void fp_clock_publish(struct fastpath *fp);
/* @obj (loaded) becomes fp->prog_obj; the old one is closed once no
 * worker writes its clock. */
void fp_clock_set_prog_obj(struct fastpath *fp, struct bpf_object *obj);
int fp_clock_start(struct fastpath *fp);
void fp_clock_stop(struct fastpath *fp);

/* fp_relay.c, the stats refresh: the kernel's relay counts into sip.*
 * (nothing before fp_relay_install). */
void fp_relay_fold(struct fastpath *fp);
/* The queued relay_hops writes made now (one batch); _due: only if the
 * oldest waits @age_ms or more (no lock otherwise).  Any thread. */
void fp_relay_flush(struct fastpath *fp);
void fp_relay_flush_due(struct fastpath *fp, uint64_t age_ms);
/* fp_relay_flush() if a queued write is urgent (a dialog whose ACK the
 * kernel may relay: the 2xx goes out with this worker's batch). */
void fp_relay_flush_urgent(struct fastpath *fp);
/* fastpath.c: the kernel's queued events counted now; how many (or
 * -errno).  Any thread. */
int fp_events_drain(struct fastpath *fp);
/* The same unless another thread is draining right now (then 0 at once:
 * no waiting on its lock). */
int fp_events_drain_try(struct fastpath *fp);

/* fp_dialogs.c: the hash the kernel compares for a Call-ID or a tag
 * (SP/HTAB trimmed; 0 for an empty one). */
struct sip_str;
__u64 fp_str_hash(struct sip_str s);

/*
 * fp_ack.c, xdp.relay.ack: whether the loaded program relays the ACK of
 * a 2xx (and relay_hops entries carry the 2xx's To-tag); the kernel's
 * SDE_ACK_CONFIRMED event (drained with the others: the dialog confirmed
 * as by an ACK, no map write); whether the dialog callbacks running now
 * on this thread come from such a confirmation (fp_dialogs.c writes
 * nothing then).
 */
bool fp_ack_on(const struct fastpath *fp);
void fp_ack_event(struct fastpath *fp, const struct sipdlg_event *ev);
bool fp_ack_from_kernel(void);

/* fp_mac.c: the flags word of @c's map value (old value @flags). */
__u32 fp_mac_flags(struct fastpath *fp, struct dlg_cell *c, __u32 flags);
/* The MAC keys (NULL = off) and the floor they start with. */
void fp_mac_init(struct fastpath *fp, struct mac_ring *mac);


#endif /* SIPDLG_FP_INTERNAL_H */
