/*
 * fp_relay.h - the kernel relay's next hops (the "relay_hops" map), kept
 * by the controller for every confirmed dialog the kernel holds, and the
 * kernel's relay counts folded into sip.* (see fp_relay.c).
 */
#ifndef SIPDLG_FP_RELAY_H
#define SIPDLG_FP_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>
#include "sipdlg_shared.h"

struct fastpath;
struct dlg_table;
struct proxy;
struct stats;

/*
 * Keep "relay_hops" in step with @t's dialogs (when xdp.relay is on),
 * resolving next hops as @px would, and fold the kernel's relay_req /
 * relay_reply into sip.fwd_requests / fwd_replies and the new
 * sip.relayed_requests / relayed_replies.  Call after fp_dialogs_install
 * (its callbacks must run first).  NULL fp: no-op.  0 or -errno.
 */
int fp_relay_install(struct fastpath *fp, struct dlg_table *t,
		     struct proxy *px, struct stats *st);
/* At start, after the restore: stale entries out (all of them when the
 * relay is off), confirmed dialogs without one written. */
int fp_relay_reconcile(struct fastpath *fp, struct dlg_table *t);
bool fp_relay_on(const struct fastpath *fp);

struct fp_relay_info {
	bool enabled;
	uint32_t methods;		/* bits of enum sipdlg_method */
	bool ack;			/* xdp.relay.ack in effect */
	uint64_t entries;		/* dialogs with next hops in the map */
	uint64_t written, removed;	/* map writes and deletions */
	uint64_t dirs_unrelayed;	/* directions left to the controller */
	uint64_t write_failed;
};
void fp_relay_info(const struct fastpath *fp, struct fp_relay_info *out);
/* One dialog's entry: 0, -ENOENT, -ENODEV (no map). */
int fp_relay_read(const struct fastpath *fp, uint32_t h_entry, uint32_t h_id,
		  struct sipdlg_relay_hops *out);
/* "10.0.0.2:5060" / "[2001:db8::2]:5060" of a hop; 0 for family 0. */
size_t fp_relay_hop_str(const struct sipdlg_relay_hop *h, char *buf,
			size_t cap);

#endif
