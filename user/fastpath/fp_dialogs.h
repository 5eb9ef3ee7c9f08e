/* fp_dialogs.h - the dialog table mirrored into the kernel's maps. */
#ifndef SIPDLG_FP_DIALOGS_H
#define SIPDLG_FP_DIALOGS_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/types.h>
#include "sipdlg_shared.h"

struct fastpath;
struct dlg_table;
struct dlg_cell;

/* Mirror every dialog of @t into the maps from now on (NULL fp: no-op). */
int fp_dialogs_install(struct fastpath *fp, struct dlg_table *t);
/* Make the pinned maps match the dialog table (after the restore). */
int fp_dialogs_reconcile(struct fastpath *fp, struct dlg_table *t);
/* The stored dialogs wait for the database (true) or are loaded (false):
 * meanwhile the kernel passes requests of dialogs it does not know
 * (fp_kmaps_set_loading).  NULL fp: no-op.  Any thread. */
void fp_dialogs_loading(struct fastpath *fp, bool on);
/* A dialog's kernel-side value: 0, -ENOENT, -ENODEV without fast path. */
int fp_dialog_read(const struct fastpath *fp, uint32_t h_entry, uint32_t h_id,
		   struct sipdlg_dlg_value *out);
/* dlg_config.still_active: the table's ud must be the fastpath. */
int fp_dialog_still_active(struct dlg_cell *c, uint64_t *extend_ms);
/* dlg_config.acked_elsewhere (xdp.relay.ack, fp_ack.c): at the noack
 * timeout, a dialog the kernel confirmed (its event lost or not drained
 * yet) is confirmed now.  1 if so. */
int fp_dialog_acked(struct dlg_cell *c);
/* dlg_config.ack_pending (fp_ack.c): a request for a dialog in state 3
 * reads the kernel's queued events first. */
void fp_dialog_ack_pending(struct dlg_cell *c);

#endif
