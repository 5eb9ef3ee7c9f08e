/*
 * fastpath.h - the controller's side of the XDP fast path.
 *
 * Loads the BPF object (embedded skeleton bytes, or a file given on the
 * command line), sets its run-time knobs, pins its maps under
 * xdp.pin_path (reusing pins that exist, so map contents survive a
 * restart), attaches the program to every configured interface through
 * bpf_link, and serves the ring buffer from the event loop.  Detaching
 * happens in fp_free(); the pins stay.
 */
#ifndef SIPDLG_FASTPATH_H
#define SIPDLG_FASTPATH_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include <linux/types.h>
#include "sipdlg_shared.h"

struct ev_loop;
struct stats;
struct sipdlg_config;
struct fastpath;
struct mac_ring;
struct dlg_table;

/*
 * Load, pin and attach.  @obj_path NULL means the object built into the
 * binary.  @mac: the cookie MAC keys (NULL = MAC off), kept, not owned;
 * @cfg too must outlive the fast path (a key rotation reloads from it).
 * On failure returns -errno and writes a message a person can act on into
 * @err (always NUL-terminated).
 */
int fp_start(const struct sipdlg_config *cfg, const char *obj_path,
	     struct mac_ring *mac, struct ev_loop *loop, struct stats *st,
	     struct fastpath **out, char *err, size_t err_len);

/* The dialog table whose dialogs a key rotation re-flags. NULL-safe. */
void fp_mac_set_table(struct fastpath *fp, struct dlg_table *t);

/*
 * Rotate the cookie MAC key (xdp.rotate_key): a new random key becomes
 * current, the current one stays accepted as the previous one, the key
 * file is rewritten and the XDP program is replaced by one with the new
 * knobs (pinned maps kept).  -EOPNOTSUPP if the MAC is off; on any
 * failure nothing changes and @err says why.
 */
struct fp_rotation {
	uint32_t generation;	/* of the new current key */
	uint32_t prog_id;	/* the new program */
	size_t nomac;		/* dialogs tight-matched (no accepted MAC) */
};
int fp_rotate_key(struct fastpath *fp, struct fp_rotation *res, char *err,
		  size_t err_len);

/* For xdp.status; -ENOENT when the MAC is off. */
struct fp_mac_info {
	const char *key_file;
	uint32_t generation;
	bool previous_key;
	uint32_t rotations;
};
int fp_mac_info(struct fastpath *fp, struct fp_mac_info *out);

/*
 * The SIP workers' loop @loop writes the kernel's clock from now on (each
 * time it wakes up; 0 when the last hooked loop sleeps) and makes the
 * deferred map deletions that are due before it sleeps (fp_clock.c).
 * Before the loop runs; its thread must stop before fp_free().  NULL-safe
 * (0).  0 or -errno.
 */
int fp_clock_hook_loop(struct fastpath *fp, struct ev_loop *loop);

/* Detach from every interface, close everything; pins stay. NULL-safe. */
void fp_free(struct fastpath *fp);

/* Sum of one reason's per-CPU counters; 0 on success or -errno. */
int fp_read_counter(const struct fastpath *fp, unsigned reason,
		    struct sipdlg_counter *out);

/* Stable lower-case name of a reason ("sip_udp4"), or NULL if unknown. */
const char *fp_reason_name(unsigned reason);

/* Attached interfaces, for status output. */
struct fp_iface_info {
	const char *ifname;
	int ifindex;
	const char *mode;	/* "native" | "generic" */
	uint32_t link_id;
};
size_t fp_iface_count(const struct fastpath *fp);
int fp_iface_get(const struct fastpath *fp, size_t i,
		 struct fp_iface_info *out);

uint32_t fp_prog_id(const struct fastpath *fp);
const char *fp_pin_path(const struct fastpath *fp);
int fp_map_fd(const struct fastpath *fp, const char *name);

/* SIP ports the program watches (from the UDP listen addresses). */
size_t fp_sip_ports(const struct fastpath *fp, uint16_t *ports, size_t max);

#endif /* SIPDLG_FASTPATH_H */
