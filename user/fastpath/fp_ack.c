/*
 * fp_ack.c - xdp.relay.ack, the controller's half: the kernel relays the
 * ACK of the 2xx that confirms a dialog (bpf/sip_relay.h
 * sd_relay_req_gate), writes state 4 and the callee tag into the
 * dialog's "dialogs" value itself and queues one SDE_ACK_CONFIRMED
 * event.  Here the dialog is confirmed from that event exactly as the
 * ACK would have confirmed it had the controller forwarded it (state 4,
 * the lifetime timer instead of the noack one, the CONFIRMED and
 * REQ_WITHIN callbacks: database, dialog events, keep-alives), with no
 * map write (fp_dialogs.c asks fp_ack_from_kernel()).
 *
 * The event comes late (the ring buffer is drained by the main loop's
 * tick, every 50 ms at most, and on every statistics read), but a
 * request that reaches the controller meanwhile (a BYE right behind the
 * ACK) drains it first (fp_dialog_ack_pending): the dialog is confirmed,
 * then the request applied.  An event that comes later still (the BYE
 * overtook the ACK, or the event was read after the BYE was applied)
 * finds the dialog in another state and is ignored (xdp.acks_late).  An event lost (ring full) is made up for at the
 * noack timeout: the kernel's value is read and a state 4 with the
 * 2xx's callee tag confirms the dialog instead of ending it
 * (xdp.acks_found_at_noack).
 */
#define LOG_TAG "fastpath"

#include <stdbool.h>

#include "core/log.h"
#include "core/stats.h"
#include "dialog/dlg.h"
#include "fastpath/fp_dialogs.h"
#include "fastpath/fp_internal.h"
#include "fastpath/fp_relay.h"

/* The dialog callbacks of this thread run for a kernel-relayed ACK. */
static _Thread_local bool tl_from_kernel;

bool fp_ack_from_kernel(void)
{
	return tl_from_kernel;
}

bool fp_ack_on(const struct fastpath *fp)
{
	return fp && fp->relay_knob && fp->cfg->xdp.relay_ack &&
	       fp_relay_on(fp);
}

/* Confirm @c as its ACK would; DLG_RC_CHANGED if it was in state 3. */
static int confirm(struct dlg_cell *c)
{
	int rc;

	tl_from_kernel = true;
	rc = dlg_on_ack_elsewhere(c);
	tl_from_kernel = false;
	return rc;
}

void fp_ack_event(struct fastpath *fp, const struct sipdlg_event *ev)
{
	struct dlg_cell *c;

	if (!fp->dlg)
		return;
	c = dlg_lookup_id(fp->dlg, ev->key.h_entry, ev->key.h_id);
	if (!c) {
		stat_inc(fp->st_ack_late);	/* ended and gone */
		return;
	}
	if (confirm(c) == DLG_RC_CHANGED) {
		stat_inc(fp->st_ack_confirmed);
		log_debug("dialog %u:%u: confirmed by the ACK the kernel "
			  "relayed", ev->key.h_entry, ev->key.h_id);
	} else {
		stat_inc(fp->st_ack_late);
	}
	dlg_unref(c);
}

void fp_dialog_ack_pending(struct dlg_cell *c)
{
	struct fastpath *fp = dlg_table_ud(dlg_table_of(c));

	/* No system call: the ring buffer's pages are mapped.  Another
	 * thread draining has the event, or will have it: not waited for
	 * (the request then meets state 3, as one that overtook the ACK). */
	if (fp_ack_on(fp))
		fp_events_drain_try(fp);
}

int fp_dialog_acked(struct dlg_cell *c)
{
	struct fastpath *fp = dlg_table_ud(dlg_table_of(c));
	struct sipdlg_dlg_value v;

	if (!fp_ack_on(fp))
		return 0;
	/* The event may only be waiting in the ring: that is the usual
	 * way, and it counts the confirmation as such. */
	fp_events_drain(fp);
	if (dlg_state(c) != DLG_STATE_CONFIRMED_NA)
		return 1;
	if (fp_dialog_read(fp, dlg_h_entry(c), dlg_h_id(c), &v) != 0 ||
	    v.state != DLG_STATE_CONFIRMED || !v.callee_tag_hash ||
	    v.callee_tag_hash != fp_str_hash(dlg_callee_tag(c)))
		return 0;
	if (confirm(c) != DLG_RC_CHANGED)
		return 1;
	stat_inc(fp->st_ack_at_noack);
	log_notice("dialog %u:%u: the kernel relayed its ACK but its event "
		   "was lost; confirmed at the noack timeout",
		   dlg_h_entry(c), dlg_h_id(c));
	return 1;
}
