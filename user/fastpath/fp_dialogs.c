/*
 * fp_dialogs.c - keep the kernel's "dialogs" and "callids" maps in step
 * with the dialog table, read a dialog's kernel counters back, and let
 * the dialog timer see traffic the kernel saw (timeout refresh).
 *
 * A dialog enters the map when it is created (its cookie is assigned),
 * its identity is updated when the callee tag is learnt and when its state
 * changes, and it leaves the map when the dialog is destroyed (a dialog
 * in state 5 stays matchable while it lingers, so crossing BYEs are not
 * taken for forgeries).  Updates are read-modify-write of the whole value
 * so the kernel's traffic counters are kept.  The map writes themselves,
 * and what happens when "dialogs" has no room, are fp_kmaps.c's.
 *
 * An update costs two system calls (lookup, update) per event, so only
 * the events that change what the kernel reads write: the hashes change
 * only when a dialog is created or loaded and at its 2xx (the callee
 * tag), and the kernel reads the state only as "== 4" for the relay
 * (bpf/sip_relay.h sd_relay_req_gate, with the relay knob on).  With the
 * relay knob on, the callee tag waits for the ACK's write of state 4
 * (one update for both); a 2xx never ACKed leaves the entry matching on
 * the caller tag only, as an early dialog's.  The
 * other events (a 1xx, the ACK with the relay off, the end of a dialog
 * that was never in state 4, ...) leave the entry as it is: its state
 * field is then the last state the kernel needed, not the table's.
 * Leaving state 4 (BYE, timeout, sipdlgctl end) writes nothing either
 * while fp_relay.c keeps "relay_hops": in the same event it deletes the
 * dialog's next hops, and without them the kernel relays nothing (it
 * passes such a request up as relay_pass_nohop where state 5 would have
 * passed it as a plain match).
 */
#define LOG_TAG "fastpath"

#include <errno.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "core/log.h"
#include "core/stats.h"
#include "dialog/dlg.h"
#include "fastpath/fp_dialogs.h"
#include "fastpath/fp_internal.h"
#include "fastpath/fp_kmaps.h"
#include "fastpath/fp_relay.h"
#include "sipdlg_hash.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__u64 fp_str_hash(struct sip_str s)
{
	/* Call-IDs are compared trimmed, as the kernel reads them. */
	while (s.len && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return s.p && s.len ? sipdlg_hash_bytes(s.p, (__u32)s.len) : 0;
}

/* The identity of @c as fp_kmaps writes it. */
static void ident_of(struct fastpath *fp, struct dlg_cell *c,
		     struct fp_ident *id)
{
	id->callid_hash = fp_str_hash(dlg_callid(c));
	id->caller_tag_hash = fp_str_hash(dlg_caller_tag(c));
	id->callee_tag_hash = fp_str_hash(dlg_callee_tag(c));
	id->created_ns = mono_ns();
	id->state = (__u32)dlg_state(c);
	id->mac_flags = fp_mac_flags(fp, c, 0);
}

/* Whether event @type of a dialog (state @old_state before, @state now)
 * changes what the kernel reads of its entry (see the top). */
static bool kernel_sees(const struct fastpath *fp, int type, int old_state,
			int state)
{
	if (type == DLGCB_CREATED || type == DLGCB_LOADED)
		return true;
	/* The 2xx's callee tag: with the relay on, the ACK's write of
	 * state 4 (one round trip later) carries it too, one read-modify-
	 * write for both; until then the kernel compares the caller tag
	 * only, as for an early dialog. */
	if (type == DLGCB_CONFIRMED_NA)
		return !fp->relay_knob;
	if (!fp->relay_knob)
		return false;
	if (state == DLG_STATE_CONFIRMED)
		return old_state != DLG_STATE_CONFIRMED;
	/* Out of state 4: the relay's own callbacks (TERMINATED, EXPIRED,
	 * FAILED) remove the next hops, which stops the relay as state 5
	 * would. */
	return old_state == DLG_STATE_CONFIRMED && !fp_relay_on(fp);
}

static void sync_cell(struct fastpath *fp, struct dlg_cell *c, int type,
		      int old_state)
{
	struct sipdlg_dlg_key key = { .h_entry = dlg_h_entry(c),
				      .h_id = dlg_h_id(c) };
	struct fp_ident id;

	ident_of(fp, c, &id);
	/* A dialog not in the map (it was full) is written or listed in
	 * "overflow" by fp_kmaps_sync(), whichever event this is.  The
	 * confirmation of an ACK the kernel relayed writes nothing: the
	 * kernel wrote state 4 and the callee tag itself (fp_ack.c). */
	if (type == DLGCB_CREATED)
		fp_kmaps_sync_new(fp, &key, &id);
	else if (type == DLGCB_CONFIRMED && fp_ack_from_kernel())
		fp_kmaps_note(fp, &key, &id);
	else if (kernel_sees(fp, type, old_state, (int)id.state))
		fp_kmaps_sync(fp, &key, &id);
	else
		fp_kmaps_note(fp, &key, &id);
}

static void forget_cell(struct fastpath *fp, struct dlg_cell *c)
{
	struct sipdlg_dlg_key key = { .h_entry = dlg_h_entry(c),
				      .h_id = dlg_h_id(c) };

	fp_kmaps_forget(fp, &key, fp_str_hash(dlg_callid(c)));
}

static void on_dlg_event(struct dlg_cell *c, int type,
			 const struct dlg_cb_params *p)
{
	struct fastpath *fp = p->param;

	if (type == DLGCB_DESTROY)
		forget_cell(fp, c);
	else
		sync_cell(fp, c, type, p->old_state);
}

int fp_dialogs_install(struct fastpath *fp, struct dlg_table *t)
{
	if (!fp)
		return 0;
	return dlg_register_global_cb(
		t,
		DLGCB_CREATED | DLGCB_LOADED | DLGCB_EARLY |
			DLGCB_CONFIRMED_NA | DLGCB_CONFIRMED | DLGCB_FAILED |
			DLGCB_TERMINATED | DLGCB_EXPIRED | DLGCB_DESTROY,
		on_dlg_event, fp, NULL);
}

void fp_dialogs_loading(struct fastpath *fp, bool on)
{
	fp_kmaps_set_loading(fp, on);
}

int fp_dialog_read(const struct fastpath *fp, uint32_t h_entry, uint32_t h_id,
		   struct sipdlg_dlg_value *out)
{
	struct sipdlg_dlg_key key = { .h_entry = h_entry, .h_id = h_id };

	if (!fp)
		return -ENODEV;
	return bpf_map_lookup_elem(fp->dialogs_fd, &key, out) == 0 ? 0 : -errno;
}

/*
 * The dialog timer is about to expire @c: if the kernel saw its traffic
 * within the lifetime, keep it for the rest of a lifetime counted from
 * that traffic.  (The controller resets the timer for every request it
 * sees; this covers traffic only the kernel saw.)
 */
int fp_dialog_still_active(struct dlg_cell *c, uint64_t *extend_ms)
{
	struct fastpath *fp = dlg_table_ud(dlg_table_of(c));
	struct dlg_info *in;
	struct sipdlg_dlg_value v;
	uint64_t now, life_ns, idle_ns;

	if (!fp || fp_dialog_read(fp, dlg_h_entry(c), dlg_h_id(c), &v) != 0 ||
	    v.last_seen_ns == 0)
		return 0;
	in = dlg_info_get(c, 0);
	if (!in)
		return 0;
	life_ns = in->lifetime_ms * 1000000ull;
	dlg_info_free(in);
	now = mono_ns();
	idle_ns = now > v.last_seen_ns ? now - v.last_seen_ns : 0;
	/* 10 ms slack: the kernel's clock is the coarse one. */
	if (idle_ns + 10000000ull >= life_ns)
		return 0;
	*extend_ms = (life_ns - idle_ns) / 1000000ull;
	if (*extend_ms == 0)
		*extend_ms = 1;
	return 1;
}

/* "dialogs": entries of dialogs the table does not know go. */
static int reconcile_dialogs(struct fastpath *fp, struct dlg_table *t)
{
	struct sipdlg_dlg_key key, next, *prev = NULL;
	int removed = 0;

	while (bpf_map_get_next_key(fp->dialogs_fd, prev, &next) == 0) {
		struct dlg_cell *c = dlg_lookup_id(t, next.h_entry, next.h_id);

		key = next;
		if (c) {
			dlg_unref(c);
			prev = &key;
			continue;
		}
		/* Deleting the current key restarts the walk from the top;
		 * keep the previous key, which is still valid. */
		bpf_map_delete_elem(fp->dialogs_fd, &key);
		removed++;
	}
	return removed;
}

/*
 * "callids": in dlg_match_mode 0 every entry goes (the kernel does not
 * read the map, and nothing removes an entry per dialog then).  Otherwise
 * an entry goes when its dialog is unknown, is not in
 * "dialogs" (the kernel could not use it; it is written again when the
 * dialog moves in) or has another Call-ID (a hash reused by a later run).
 * Run before the table pass adds the missing entries.
 */
static int reconcile_callids(struct fastpath *fp, struct dlg_table *t)
{
	__u64 hash, next, *prev = NULL;
	int removed = 0;

	while (fp->callids_fd >= 0 &&
	       bpf_map_get_next_key(fp->callids_fd, prev, &next) == 0) {
		struct sipdlg_dlg_key k;
		struct sipdlg_dlg_value v;
		struct dlg_cell *c = NULL;
		bool keep = false;

		hash = next;
		if (fp_kmaps_callids_used(fp) &&
		    bpf_map_lookup_elem(fp->callids_fd, &hash, &k) == 0 &&
		    bpf_map_lookup_elem(fp->dialogs_fd, &k, &v) == 0)
			c = dlg_lookup_id(t, k.h_entry, k.h_id);
		if (c) {
			keep = fp_str_hash(dlg_callid(c)) == hash;
			dlg_unref(c);
		}
		if (keep) {
			prev = &hash;
			continue;
		}
		bpf_map_delete_elem(fp->callids_fd, &hash);
		removed++;
	}
	return removed;
}

/*
 * After the restore: an entry of the pinned maps whose dialog the
 * controller does not know (a call lost with a restart without database,
 * or a kill -9) is removed, and every dialog that has no entry gets one
 * (LOADED wrote them already; this catches a map that was full or
 * recreated); then fp_kmaps_reconcile() does the same for "overflow" and
 * "fpstate".
 */
int fp_dialogs_reconcile(struct fastpath *fp, struct dlg_table *t)
{
	struct dlg_cursor cur = { 0, 0, false };
	struct dlg_cell *cells[256];
	int removed, cremoved, added = 0, cadded = 0;

	if (!fp)
		return 0;
	/* Stale entries out first, so the additions below find room. */
	removed = reconcile_dialogs(fp, t);
	cremoved = reconcile_callids(fp, t);
	while (!cur.done) {
		size_t n = dlg_cursor_next(t, &cur, cells, 256);

		for (size_t i = 0; i < n; i++) {
			struct sipdlg_dlg_key k = { dlg_h_entry(cells[i]),
						    dlg_h_id(cells[i]) };
			struct sipdlg_dlg_value v;
			struct sipdlg_dlg_key other;
			struct fp_ident id;

			ident_of(fp, cells[i], &id);
			if (bpf_map_lookup_elem(fp->dialogs_fd, &k, &v) != 0) {
				fp_kmaps_sync(fp, &k, &id);
				added++;
			} else if (fp_kmaps_callids_used(fp) && id.callid_hash &&
				   bpf_map_lookup_elem(fp->callids_fd,
						       &id.callid_hash,
						       &other) != 0) {
				fp_kmaps_callid_put(fp, &k, &id);
				cadded++;
			}
			dlg_unref(cells[i]);
		}
	}
	if (removed || added || cremoved || cadded)
		log_notice("kernel maps reconciled: dialogs %d stale entries "
			   "removed, %d dialogs added; callids %d stale "
			   "removed, %d added",
			   removed, added, cremoved, cadded);
	fp_kmaps_reconcile(fp);
	return 0;
}
