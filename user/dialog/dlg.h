/*
 * dlg.h - the dialog core: what Kamailio's `dialog` module keeps per call,
 * as a library (no network, no SIP parsing in the core).  It knows nothing
 * of the proxy, the control socket, the config or the database: the code
 * that lets those drive it (user/dlglink/) and the database layer (user/db/)
 * are its clients; tests/unit/test_dlg_core_alone links it without them.
 *
 * Objects
 *   struct dlg_table   one per daemon: the hash table of dialogs (hash_size
 *                      slots, each with a mutex, a list sorted by h_id and a
 *                      next_id counter), the profiles, the global callbacks,
 *                      the statistics pointers and the timer service used.
 *   struct dlg_cell    one dialog.  Opaque: immutable fields are read with
 *                      accessors, mutable ones through a snapshot
 *                      (dlg_info_get) taken under the dialog's lock.
 *   struct dlg_profile one profile (with or without value), from the config.
 *
 * References (one owner per reference, no arithmetic):
 *   - every function that returns a cell returns it with one reference that
 *     the caller owns and drops with dlg_unref(); dlg_ref() takes another
 *     one for a new holder (a transaction, a callback that keeps the cell);
 *   - every function that takes a cell requires the caller to hold a
 *     reference for the duration of the call;
 *   - internally the table holds one reference while the cell is linked and
 *     the dialog timer one while it is armed (or firing).
 *   A dialog in state 5 (DELETED) stays linked, so late requests and
 *   crossing BYEs still match, until the last holder outside the table
 *   drops its reference; then it is unlinked and freed.  end_timeout bounds
 *   this: at the latest end_timeout after entering state 5 it is unlinked
 *   whoever still holds it (they keep a valid, unlinked cell until their
 *   dlg_unref).  So a proxy that wants a state-5 dialog to absorb
 *   retransmitted or crossing BYEs keeps a reference in the BYE transaction
 *   and drops it when the transaction ends (Kamailio's behaviour).
 *
 * Threads and locks:
 *   - every function is thread-safe unless marked otherwise; many worker
 *     threads, the timer thread and the control thread use one table;
 *   - a dialog's mutable fields are guarded by the mutex of its slot; the
 *     profile counters by one mutex per profile (lock order: slot, then
 *     profile); no function holds a lock when it returns;
 *   - callbacks (DLGCB_*), the still_active hook and the per-cell iteration
 *     functions run with NO lock held, on the thread that caused the event:
 *     a worker for SIP events, the timer thread for expiry, early-dialog
 *     clean-up and end_timeout, the thread that drops the last reference
 *     for DESTROY.  They may call any dlg_* function, on any cell.  The cell
 *     is referenced while they run; dlg_ref() it to keep it afterwards.
 *     Because they run after the lock is dropped, another thread may already
 *     have moved the dialog on: read dlg_state() rather than assume.
 *   - dlg_table_free() is not thread-safe: call it after the timer service
 *     is stopped (tmr_service_free) and no worker uses the table.
 *
 * Memory: one allocation per dialog holds the dialog and the strings known
 * at creation (Call-ID, From/To/R-URI, caller tag, route set and contact,
 * all NUL-terminated, equal strings stored once, at most 64 KiB in all).
 * The callee leg (tag, contact, route set), known at the first 2xx, gets
 * a second block then.  Socket strings are interned in the table.  A
 * contact refreshed by a re-INVITE gets its own buffer.
 *
 * Timestamps: init_ts/start_ts/end_ts are UNIX seconds (Kamailio's);
 * timeouts are milliseconds on CLOCK_MONOTONIC (timer.h).
 */
#ifndef SIPDLG_DLG_H
#define SIPDLG_DLG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/sip_msg.h"
#include "sip/sip_str.h"

struct dlg_stats;
struct tmr_service;
struct dlg_table;
struct dlg_cell;
struct dlg_profile;

/* States, as shown in RPC output and the DB `state` column. */
enum dlg_state {
	DLG_STATE_UNCONFIRMED = 1,	/* INVITE seen, no reply relayed */
	DLG_STATE_EARLY = 2,		/* a 101-199 was relayed */
	DLG_STATE_CONFIRMED_NA = 3,	/* 2xx relayed, no ACK yet */
	DLG_STATE_CONFIRMED = 4,	/* ACK seen */
	DLG_STATE_DELETED = 5,		/* ended; lingers while held */
};

/* Direction of a sequential request. */
enum dlg_dir {
	DLG_DIR_NONE = 0,
	DLG_DIR_DOWNSTREAM = 1,		/* from the caller */
	DLG_DIR_UPSTREAM = 2,		/* from the callee */
};

enum dlg_leg {
	DLG_CALLER_LEG = 0,
	DLG_CALLEE_LEG = 1,
};

/* dlg_match_mode. */
enum dlg_match_mode {
	DLG_MATCH_DID_ONLY = 0,
	DLG_MATCH_DID_FALLBACK = 1,
	DLG_MATCH_DID_NONE = 2,
	DLG_MATCH_CFG = -1,		/* dlg_match(): use the table's mode */
};

/* dflags (in memory; Kamailio's bits, CHANGED_PROF as in 6.1). */
#define DLG_DFLAG_NEW		0x0001u	/* not yet written to the DB */
#define DLG_DFLAG_CHANGED	0x0002u
#define DLG_DFLAG_HASBYE	0x0004u	/* a BYE ended it */
#define DLG_DFLAG_CALLERBYE	0x0010u	/* BYE generated towards the caller */
#define DLG_DFLAG_CALLEEBYE	0x0020u	/* BYE generated towards the callee */
#define DLG_DFLAG_LOCALDLG	0x0040u
#define DLG_DFLAG_CHANGED_VARS	0x0080u
#define DLG_DFLAG_TM		0x0200u
#define DLG_DFLAG_EXPIRED	0x0400u	/* ended by its lifetime timer */
#define DLG_DFLAG_CHANGED_PROF	0x0800u	/* 5.6 used 0x400 (bug, §0) */
#define DLG_DFLAG_DB_LOAD_EXTRA	0x1000u
#define DLG_DFLAG_DB_ROW	0x2000u	/* sipdlg: the DB holds its row (set by
					 * the DB thread and at restore) */

/* iflags (persisted). */
#define DLG_IFLAG_TIMEOUTBYE	0x01u	/* send BYE on timeout */
#define DLG_IFLAG_KA_SRC	0x02u	/* keep-alive towards the caller */
#define DLG_IFLAG_KA_DST	0x04u	/* keep-alive towards the callee */
#define DLG_IFLAG_TIMER_NORESET	0x08u	/* requests do not reset the timer */
#define DLG_IFLAG_CSEQ_DIFF	0x10u
#define DLG_IFLAG_PRACK		0x20u	/* a PRACK was routed in setup */
#define DLG_IFLAG_DMQ_SYNC	0x40u

/* Callback types (Kamailio's DLGCB_* bit values). */
#define DLGCB_LOADED			0x0001
#define DLGCB_CREATED			0x0002
#define DLGCB_FAILED			0x0004
#define DLGCB_CONFIRMED_NA		0x0008
#define DLGCB_CONFIRMED			0x0010
#define DLGCB_REQ_WITHIN		0x0020
#define DLGCB_TERMINATED		0x0040
#define DLGCB_EXPIRED			0x0080
#define DLGCB_EARLY			0x0100
#define DLGCB_RESPONSE_FWDED		0x0200
#define DLGCB_RESPONSE_WITHIN		0x0400
#define DLGCB_RPC_CONTEXT		0x1000
#define DLGCB_DESTROY			0x2000
#define DLGCB_SPIRALED			0x4000
#define DLGCB_TERMINATED_CONFIRMED	0x8000
#define DLGCB_ALL			0xf7ff

/* Results of the event functions (>= 0; errors are -errno). */
enum dlg_rc {
	DLG_RC_NONE = 0,	/* accepted, no state change */
	DLG_RC_CHANGED = 1,	/* the state changed: see dlg_state() */
	DLG_RC_BOGUS = 2,	/* not valid in this state: ignored, counted */
	DLG_RC_CREATED = 3,	/* dlg_manage(): a new dialog */
	DLG_RC_SPIRAL = 4,	/* dlg_manage(): the INVITE came back (spiral):
				 * the existing dialog; this transaction must
				 * not feed replies to it, no cookie again */
	DLG_RC_FORK_2XX = 5,	/* dlg_on_reply(): a 2xx with another To-tag
				 * after the dialog was confirmed by the first
				 * one: relay it, then ACK and BYE that leg */
};

/* ---- configuration -------------------------------------------------- */

struct dlg_config {
	uint32_t hash_size;		/* power of two >= 1 */
	const char *rr_param;		/* "did" */
	uint64_t default_timeout_ms;	/* lifetime of a confirmed dialog */
	int match_mode;			/* enum dlg_match_mode, 0..2 */
	int detect_spirals;
	int32_t h_id_start;		/* -1 = server_id */
	uint32_t h_id_step;		/* 0 or 1 = Kamailio's step-1 rule */
	uint32_t server_id;
	/* Clean-up; 0 = off. */
	uint64_t early_timeout_ms;	/* states 1/2, counted from creation */
	uint64_t noack_timeout_ms;	/* state 3, counted from the 2xx */
	uint64_t end_timeout_ms;	/* state 5, counted from its start */
	int send_bye;			/* TIMEOUTBYE on every new dialog */
	int timeout_noreset;		/* requests never reset the timer */
	const char *const *profiles_with_value;
	size_t n_profiles_with_value;
	const char *const *profiles_no_value;
	size_t n_profiles_no_value;
	/*
	 * Called on the timer thread, no lock held, when a confirmed (state 4)
	 * dialog's lifetime ends: return 1 to keep it, re-armed after
	 * *extend_ms (0 = its lifetime), e.g. because the fast path saw its
	 * traffic; any other value lets it expire.  NULL = always expire.
	 */
	int (*still_active)(struct dlg_cell *c, uint64_t *extend_ms);
	/*
	 * Called on the timer thread, no lock held, when a dialog in state 3
	 * (2xx relayed, no ACK seen) reaches its noack timeout: the ACK may
	 * have gone another way (the fast path relays it in the kernel and
	 * tells the controller by an event that may be late or lost).  The
	 * hook confirms the dialog itself (dlg_on_ack_elsewhere) if so; the
	 * dialog expires only if it is still in state 3 afterwards.  NULL =
	 * always expire.
	 */
	int (*acked_elsewhere)(struct dlg_cell *c);
	/*
	 * Called by dlg_on_request(), no lock held, before a request other
	 * than ACK is applied to a dialog in state 3: the owner delivers a
	 * confirmation it may hold already (the kernel relayed the ACK and
	 * its event waits to be read: a BYE right behind the ACK then ends a
	 * confirmed dialog, as it would had the controller seen the ACK).
	 * NULL = nothing to deliver.
	 */
	void (*ack_pending)(struct dlg_cell *c);
	/* Source of the random start of each slot's h_id series; NULL =
	 * internal generator (tests set a fixed one). */
	uint32_t (*h_id_rand)(void *ud);
	void *ud;			/* for the owner: dlg_table_ud() */
	/*
	 * Cookie MAC (";dm=" after the cookie, xdp.cookie_mac): called once
	 * per new dialog, when its h_id is known, under its slot lock; writes
	 * the MAC of (h_entry, h_id) and returns the key generation it was
	 * made under (never 0).  NULL = no MAC.  The core knows no keys.
	 */
	uint32_t (*mac_sign)(void *mac_ud, uint32_t h_entry, uint32_t h_id,
			     uint64_t *mac);
	void *mac_ud;
};

/*
 * A new table.  @tmr must be started by the caller and stay alive until
 * after dlg_table_free(); @stats may be NULL (no statistics) and is copied.
 * 0, -EINVAL (hash_size not a power of two, empty rr_param, duplicate or
 * invalid profile name) or -ENOMEM.
 */
int dlg_table_alloc(const struct dlg_config *cfg, struct tmr_service *tmr,
		    const struct dlg_stats *stats, struct dlg_table **out);
/*
 * Free every dialog (DESTROY callbacks run on this thread, whatever the
 * references; gauges are brought back for dialogs still live) and the
 * table.  Not thread-safe: stop the timer service first; DESTROY
 * callbacks must not arm timers then.  NULL-safe.
 */
void dlg_table_free(struct dlg_table *t);
void *dlg_table_ud(const struct dlg_table *t);
const struct dlg_config *dlg_table_config(const struct dlg_table *t);

/* ---- identifiers: core_hash, h_id, cookie ----------------------------- */

/* Kamailio's core_hash of @s (chars signed as on x86), no mask. */
uint32_t dlg_core_hash(const char *s, size_t len);
/* h_entry of a Call-ID (trimmed of SP/HTAB/CR/LF first) for a table of
 * @hash_size slots. */
uint32_t dlg_hash_entry(struct sip_str callid, uint32_t hash_size);

/* Reverse hex of @x (least-significant nibble first, lower case, 0 ->
 * "0") into @buf (>= 9 bytes), NUL-terminated; returns the length. */
size_t dlg_rhex(uint32_t x, char *buf);
/* "<RH(h_entry)>.<RH(h_id)>".  Returns the length, or -ENOSPC (buffer of
 * 18 bytes always suffices). */
int dlg_cookie_value(uint32_t h_entry, uint32_t h_id, char *buf, size_t cap);
/* ";<rr_param>=<value>" for @c, for our Record-Route, followed by
 * ";dm=<MAC>" when @c was made with the cookie MAC on.  -ENOSPC if short
 * (64 bytes always suffice). */
int dlg_cookie_param(const struct dlg_cell *c, char *buf, size_t cap);
/* The key generation of @c's cookie MAC (dlg_config.mac_sign), 0 = none. */
uint32_t dlg_mac_gen(const struct dlg_cell *c);
/*
 * Parse a cookie value.  Upper-case hex is accepted.  As in Kamailio an
 * empty half reads as 0 (h_id 0 is never a dialog, so that finds none).
 * Malformed, -EBADMSG: no '.', a non-hex character, a half longer than 8
 * digits (Kamailio wraps it around 32 bits; we refuse it, so no two
 * spellings of one id beyond that exist and nothing can overflow).
 */
int dlg_cookie_parse(struct sip_str v, uint32_t *h_entry, uint32_t *h_id);

/* ---- creating dialogs and driving their state ------------------------- */

/* What the initial INVITE gives (dlg_invite_from_msg() fills it). */
struct dlg_invite {
	struct sip_str callid;		/* trimmed inside */
	struct sip_str from_uri, from_tag;
	struct sip_str to_uri;
	struct sip_str req_uri;
	struct sip_str contact;		/* the single Contact URI */
	struct sip_str route_set;	/* its Record-Routes joined by ',' */
	struct sip_str socket;		/* "udp:10.0.0.1:5060" that got it */
	uint32_t cseq;
	unsigned rr_count;		/* its Record-Route entries */
	const void *msg;		/* for callbacks */
};

/* What dlg_manage sets on a new dialog (Kamailio's $dlg_ctx/flags). */
struct dlg_create_opts {
	uint32_t sflags;		/* initial script flags */
	uint32_t iflags;		/* e.g. DLG_IFLAG_TIMEOUTBYE */
	uint64_t lifetime_ms;		/* 0 = default_timeout */
};

/*
 * dlg_manage() for an INVITE without To-tag.  With detect_spirals, a live
 * dialog (state 1-3) with the same Call-ID and caller tag is returned
 * (DLG_RC_SPIRAL, SPIRALED callbacks); otherwise a new dialog in state 1
 * (DLG_RC_CREATED, processed_dialogs+1, CREATED callbacks).  *out gets a
 * reference.  -EINVAL without Call-ID, From-tag or Contact (Kamailio
 * creates none), -E2BIG (its strings pass 64 KiB), -ENOMEM.  @opts may
 * be NULL.
 */
int dlg_manage(struct dlg_table *t, const struct dlg_invite *inv,
	       const struct dlg_create_opts *opts, struct dlg_cell **out);

/* A dialog as the database holds it (Kamailio's `dialog` row, decoded). */
struct dlg_load {
	uint32_t h_entry, h_id;
	struct sip_str callid, from_uri, from_tag, to_uri, to_tag, req_uri;
	struct sip_str caller_contact, caller_route_set, caller_sock;
	struct sip_str callee_contact, callee_route_set, callee_sock;
	uint32_t caller_cseq, callee_cseq;
	int state;			/* 2..5 */
	int64_t start_time;		/* UNIX s */
	int64_t timeout;		/* absolute UNIX expiry, 0 = none */
	uint32_t sflags, iflags;
	struct sip_str toroute_name;	/* timeout_route; may be absent */
};

/*
 * Restore a dialog with exactly (h_entry, h_id) (database rows, Kamailio's
 * or ours): linked, the slot's id series moved past it, statistics as for
 * a dialog in that state (not processed_dialogs), timer to the stored
 * absolute expiry (at once if it is past: expiry, BYE if TIMEOUTBYE),
 * LOADED callbacks.  Profiles and variables are added by the caller with
 * dlg_profile_set / dlg_var_set afterwards, then dlg_load_done() clears
 * their database marks.  *out referenced.  0, -EINVAL (bad state, h_entry
 * not the Call-ID's in this table), -EEXIST (id in use), -ENOMEM.
 */
int dlg_load(struct dlg_table *t, const struct dlg_load *ld,
	     struct dlg_cell **out);
void dlg_load_done(struct dlg_cell *c);
/* Keep new dialogs of slot @h_entry off @h_id (an id of this node's
 * series held by another node's memory: cluster fencing). */
void dlg_reserve_id(struct dlg_table *t, uint32_t h_entry, uint32_t h_id);

/* A reply of the INVITE transaction, as relayed upstream (or local). */
struct dlg_reply {
	int code;			/* 101..699; 100 is ignored */
	struct sip_str to_tag;
	/* 2xx only, the callee leg (dlg_reply_from_msg() fills them): */
	struct sip_str contact;
	struct sip_str route_set;	/* already stripped and reversed */
	struct sip_str socket;		/* the socket that received it */
	bool local;			/* made by us (408, 487, rule reply) */
	const void *msg;
};

/*
 * Feed each reply the INVITE transaction sends upstream: relayed 1xx
 * (101-199), every relayed 2xx, and the winning final reply (relayed or
 * local).  Runs RESPONSE_FWDED, then EARLY / CONFIRMED_NA / FAILED.
 * Returns enum dlg_rc: FORK_2XX for a second branch's 2xx.
 */
int dlg_on_reply(struct dlg_cell *c, const struct dlg_reply *r);

/* A sequential request (dlg_req_from_msg() fills it). */
struct dlg_req {
	enum sip_method method;
	struct sip_str method_str;
	struct sip_str callid, from_tag, to_tag;
	struct sip_str did;		/* cookie value; .p NULL = none */
	uint32_t cseq;
	struct sip_str contact;		/* re-INVITE: the new target */
	const void *msg;
};

/*
 * Match a sequential request (To-tag present) per @mode (or the table's
 * with DLG_MATCH_CFG).  0 with *out referenced and *dir set; -EINVAL no
 * To-tag (not sequential; not counted); -ENOENT no dialog; -EBADMSG
 * malformed cookie (never matched, any mode); -ESRCH the cookie names a
 * dialog whose Call-ID/tags differ (DID_ONLY; forged or stale).  Each
 * failure is counted (dlg_match_counters).  CANCEL should not be passed.
 */
int dlg_match(struct dlg_table *t, const struct dlg_req *rq, int mode,
	      struct dlg_cell **out, enum dlg_dir *dir);

/*
 * Drive @c with a matched sequential request (ACK, BYE, PRACK, any
 * other; CANCEL is ignored).  Tracks the highest CSeq per direction
 * (every non-ACK request, PRACK and UPDATE included), refreshes the
 * contact from a re-INVITE, resets the timer (always on the confirming
 * ACK; later unless timeout_noreset / TIMER_NORESET), runs CONFIRMED,
 * REQ_WITHIN, TERMINATED.  Returns enum dlg_rc.
 */
int dlg_on_request(struct dlg_cell *c, enum dlg_dir dir,
		   const struct dlg_req *rq);

/*
 * The ACK of the 2xx was forwarded by someone else (the kernel relay,
 * xdp.relay.ack): a dialog in state 3 is confirmed exactly as by an ACK
 * from the caller (state 4, lifetime timer, CONFIRMED then REQ_WITHIN
 * with msg NULL and direction downstream); in any other state nothing
 * happens (a late notice: a BYE ended it, or an ACK the controller saw
 * confirmed it).  DLG_RC_CHANGED or DLG_RC_NONE.
 */
int dlg_on_ack_elsewhere(struct dlg_cell *c);

/* A final reply to an in-dialog request was relayed: RESPONSE_WITHIN. */
void dlg_on_response_within(struct dlg_cell *c, enum dlg_dir dir, int code,
			    const void *msg);
/* The final reply to the BYE went out (any code), or the first final
 * reply to a BYE we generated came in: TERMINATED_CONFIRMED, once. */
void dlg_on_bye_reply(struct dlg_cell *c, int code, const void *msg);

/*
 * End a confirmed dialog locally (dlg.end_dlg, dlg_bye: call it once the
 * BYEs are sent): 3/4 -> 5 as a BYE would, TERMINATED callbacks.
 * DLG_RC_CHANGED, DLG_RC_NONE if already ended, -EINVAL in states 1/2
 * (CANCEL it instead: the 487 ends it).
 */
int dlg_end(struct dlg_cell *c, const void *msg);
/*
 * The INVITE that created @c was neither relayed nor answered (the rules
 * dropped it): end it silently, as Kamailio does at the end of the
 * script: no callback but DESTROY, no statistic but processed_dialogs.
 * Only for a dialog dlg_manage() returned with DLG_RC_CREATED (never for
 * a spiral: that is the original call).  It leaves the table at once.
 * The cluster's handback uses it too, on any dialog, to unload one
 * without ending it (after clearing its row mark, so DESTROY deletes no
 * row): the node that owns it loads it from its row.
 */
void dlg_discard(struct dlg_cell *c);
/*
 * dlg.set_state: force the state with no callback, event or BYE; statistics
 * and profiles follow (entering 5 leaves the profiles and starts the
 * end_timeout clean-up).  Returns the old state, or -EINVAL.
 */
int dlg_force_state(struct dlg_cell *c, int new_state);
/* Test-and-set CALLERBYE / CALLEEBYE: 0 the first time for @leg,
 * -EALREADY if a BYE was already generated towards that side. */
int dlg_mark_bye(struct dlg_cell *c, enum dlg_leg leg);

/* ---- references, lookups, iteration ----------------------------------- */

void dlg_ref(struct dlg_cell *c);
void dlg_unref(struct dlg_cell *c);	/* NULL-safe; never under a lock */

/* By cookie ids, any state.  Referenced, or NULL. */
struct dlg_cell *dlg_lookup_id(struct dlg_table *t, uint32_t h_entry,
			       uint32_t h_id);
/* Every dialog with @callid (and caller tag @from_tag if .p != NULL), up
 * to @max, each referenced, in (h_id) order; returns how many. */
size_t dlg_lookup_callid(struct dlg_table *t, struct sip_str callid,
			 struct sip_str from_tag, struct dlg_cell **cells,
			 size_t max);
/* Dialogs dlg_lookup_callid() has looked at since the table was made
 * (tests: a lookup walks an index chain, not the slot). */
uint64_t dlg_callid_lookup_steps(const struct dlg_table *t);
/* SIP-element lookup (dlg_get, dlg.terminate_dlg): Call-ID and tags in
 * either direction; a dialog with a callee tag is preferred over one
 * without (kamailio#2484).  Referenced, or NULL; *dir may be NULL. */
struct dlg_cell *dlg_lookup_sip(struct dlg_table *t, struct sip_str callid,
				struct sip_str from_tag, struct sip_str to_tag,
				enum dlg_dir *dir);

/* Return non-zero to stop.  Called with no lock held, cell referenced. */
typedef int (*dlg_iter_fn)(struct dlg_cell *c, void *ud);

/* Every dialog of one slot (the slot lock is held only to take the
 * references).  Returns the number visited, -ERANGE for a bad slot. */
int dlg_foreach_slot(struct dlg_table *t, uint32_t slot, dlg_iter_fn fn,
		     void *ud);

/*
 * Resumable listing for RPC across event-loop turns.  Start with
 * {0, 0, false}; each call returns up to @max referenced cells after the
 * cursor in (slot, h_id) order and advances it; done is set at the end.
 * Each slot lock is held only while its references are taken.  Dialogs
 * created or ended meanwhile may or may not be seen.
 */
struct dlg_cursor {
	uint32_t slot;
	uint32_t h_id;		/* last h_id returned in @slot, 0 = none */
	bool done;
};
size_t dlg_cursor_next(struct dlg_table *t, struct dlg_cursor *cur,
		       struct dlg_cell **cells, size_t max);
/* The most work (thread CPU time, ns) dlg_cursor_next did holding one
 * slot lock, since the table was made: what a listing can make a SIP
 * worker wait, short of the lister being descheduled meanwhile. */
uint64_t dlg_cursor_max_hold_ns(const struct dlg_table *t);

/* active_dialogs as counted (0 with enable_stats off). */
/* Live dialogs (states 1-4) and early ones (states 1-2) now, for the
 * limits of new calls; counted whatever enable_stats says. */
void dlg_table_load(const struct dlg_table *t, uint64_t *live,
		    uint64_t *early);
int64_t dlg_active_count(const struct dlg_table *t);
/* dlg.stats_active: counts[s] = dialogs in state s (1..5), by scanning
 * (counts has 6 entries, [0] unused). */
void dlg_count_states(struct dlg_table *t, uint64_t counts[6]);

/* Failed and other notable matches (monotonic counters). */
struct dlg_match_counters {
	uint64_t matched;	/* dlg_match found a dialog */
	uint64_t no_cookie;	/* DID_ONLY: sequential request without it */
	uint64_t bad_cookie;	/* malformed cookie */
	uint64_t not_found;	/* cookie names no dialog / nothing by SIP */
	uint64_t mismatch;	/* cookie hit, Call-ID/tags differ */
	uint64_t bogus;		/* events invalid in the dialog's state */
};
void dlg_match_counters_get(struct dlg_table *t,
			    struct dlg_match_counters *out);

/* ---- reading a dialog --------------------------------------------------- */

/* Immutable, valid while referenced. */
uint32_t dlg_h_entry(const struct dlg_cell *c);
uint32_t dlg_h_id(const struct dlg_cell *c);
struct sip_str dlg_callid(const struct dlg_cell *c);
struct sip_str dlg_from_uri(const struct dlg_cell *c);
struct sip_str dlg_to_uri(const struct dlg_cell *c);
struct sip_str dlg_req_uri(const struct dlg_cell *c);
struct sip_str dlg_caller_tag(const struct dlg_cell *c);
/* Set once by the first 2xx; absent (.p NULL) before. */
struct sip_str dlg_callee_tag(struct dlg_cell *c);
unsigned dlg_caller_rr_count(const struct dlg_cell *c);
struct dlg_table *dlg_table_of(const struct dlg_cell *c);
/* Mutable, read atomically. */
enum dlg_state dlg_state(const struct dlg_cell *c);
int dlg_ref_count(const struct dlg_cell *c);
uint32_t dlg_dflags(const struct dlg_cell *c);
/* Set or clear DLG_DFLAG_DB_ROW; returns whether it was set before.  The
 * database thread's own mark: which dialogs have a row to update or
 * delete (user/db/db_batch.c).  Any thread. */
bool dlg_db_row_mark(struct dlg_cell *c, bool has_row);

/* A consistent copy of everything RPC and generated requests need. */
struct dlg_info_leg {
	const char *tag, *contact, *route_set, *socket;	/* "" if unknown */
	uint32_t cseq;		/* highest seen; callee 0 until it sends */
};
struct dlg_info_profile {
	const char *name;
	const char *value;	/* NULL for a profile without value */
};
struct dlg_info_var {
	const char *key, *value;
	unsigned flags;		/* DLG_VAR_* */
};
struct dlg_info {
	uint32_t h_entry, h_id;
	int ref;
	int state;
	const char *callid, *from_uri, *to_uri, *req_uri;
	int64_t start_ts, init_ts, end_ts;
	int64_t duration;	/* end-start if ended, now-start if started */
	int64_t timeout;	/* absolute UNIX expiry; 0 = not armed */
	uint32_t lifetime;	/* seconds */
	const char *toroute_name; /* timeout_route, "" if none */
	uint64_t lifetime_ms;
	uint32_t dflags, sflags, iflags;
	struct dlg_info_leg caller, callee;
	size_t n_profiles;
	struct dlg_info_profile *profiles;	/* none once state 5 */
	size_t n_vars;
	struct dlg_info_var *vars;		/* none once state 5 */
};
/* dlg_info_get flags. */
#define DLG_INFO_VARS_ALL	0x1u	/* also vars marked DELETED, and in
					 * state 5 (for the DB layer) */
#define DLG_INFO_CLEAR_MARKS	0x2u	/* then clear NEW/CHANGED marks, drop
					 * DELETED vars and CHANGED_VARS */
/* One allocation; free with dlg_info_free (NULL-safe).  NULL on ENOMEM. */
struct dlg_info *dlg_info_get(struct dlg_cell *c, unsigned flags);
void dlg_info_free(struct dlg_info *info);

/* ---- timers --------------------------------------------------------- */

/* dlg_set_timeout: lifetime @ms; in states 3/4 the timer is re-armed
 * now+@ms; in 1/2 it applies at confirmation.  -EINVAL for 0 or a dialog
 * in state 5. */
int dlg_set_timeout(struct dlg_cell *c, uint64_t ms);
/* The timeout_avp read again on a sequential request: only the lifetime
 * changes; it applies at the next reset (so timeout_noreset holds).
 * Call it before dlg_on_request().  Same errors. */
int dlg_set_lifetime(struct dlg_cell *c, uint64_t ms);

/* timeout_route: the rule run when the lifetime ends (Kamailio's
 * $dlg_ctx(timeout_route), kept in the DB's toroute_name).  A name of at
 * most 31 characters; "" clears it.  0 or -EINVAL. */
int dlg_set_toroute(struct dlg_cell *c, const char *name);
/* Copy it into @buf (32 bytes); returns its length (0 = none). */
size_t dlg_toroute(struct dlg_cell *c, char *buf);

/* ---- flags ---------------------------------------------------------- */

/* Script flags 0..31: 0 or -EINVAL; isflagset 1/0 or -EINVAL. */
int dlg_setflag(struct dlg_cell *c, unsigned n);
int dlg_resetflag(struct dlg_cell *c, unsigned n);
int dlg_isflagset(const struct dlg_cell *c, unsigned n);
uint32_t dlg_sflags(const struct dlg_cell *c);
/* dlg_set_property / dlg_reset_property and timeout_bye. */
void dlg_set_iflags(struct dlg_cell *c, uint32_t bits);
void dlg_reset_iflags(struct dlg_cell *c, uint32_t bits);
uint32_t dlg_iflags(const struct dlg_cell *c);

/* ---- variables ($dlg_var) ------------------------------------------- */

/* Per-variable marks for the DB layer. */
#define DLG_VAR_NEW	0x1u	/* never written to the DB */
#define DLG_VAR_CHANGED	0x2u	/* value changed since written */
#define DLG_VAR_DELETED	0x4u	/* deleted: its row must go */

/* Set @key to @value; an empty or absent value deletes it.  0, -EINVAL
 * (empty key), -ENOENT (deleting what is not there), -ENOMEM. */
int dlg_var_set(struct dlg_cell *c, struct sip_str key, struct sip_str value);
/* Copy the value (NUL-terminated, truncated to @cap) into @buf; returns
 * its full length like snprintf, or -ENOENT. */
int dlg_var_get(struct dlg_cell *c, struct sip_str key, char *buf,
		size_t cap);

/* ---- profiles ------------------------------------------------------- */

struct dlg_profile *dlg_profile_lookup(struct dlg_table *t,
				       struct sip_str name);
const char *dlg_profile_name(const struct dlg_profile *p);
bool dlg_profile_has_value(const struct dlg_profile *p);

/*
 * set_dlg_profile.  A with-value profile needs a non-empty value; for a
 * profile without value the value is ignored.  Setting the same
 * (dialog, profile, value) again is a no-op returning 1 (Kamailio counts
 * it twice); a dialog may be in one profile with several values.  0 added,
 * 1 already there, -EINVAL, -ESTALE (dialog in state 5), -ENOMEM.
 */
int dlg_profile_set(struct dlg_cell *c, struct dlg_profile *p,
		    struct sip_str value);
/* unset_dlg_profile: the membership with @value, or every membership in
 * @p when value.p is NULL.  0 removed, -ENOENT none. */
int dlg_profile_unset(struct dlg_cell *c, struct dlg_profile *p,
		      struct sip_str value);
/* is_in_profile: 1/0; value.p NULL = any value. */
int dlg_profile_is_in(struct dlg_cell *c, struct dlg_profile *p,
		      struct sip_str value);
/* get_profile_size, O(1): memberships with @value, or all (value.p NULL
 * or a profile without value). */
uint64_t dlg_profile_size(struct dlg_profile *p, struct sip_str value);
/* This node's memberships only (dlg_profile_size adds the other nodes'
 * counts of a cluster-wide profile). */
uint64_t dlg_profile_size_local(struct dlg_profile *p, struct sip_str value);
/*
 * Cluster-wide profiles (user/cluster): @fn gives the other nodes' count
 * of (@p, value; value.p NULL = every value), added by dlg_profile_size.
 * Set before any thread uses the table.  It must not block (it reads a
 * cache).
 */
typedef uint64_t (*dlg_profile_remote_fn)(void *ud,
					  const struct dlg_profile *p,
					  struct sip_str value);
void dlg_profile_set_remote(struct dlg_profile *p, dlg_profile_remote_fn fn,
			    void *ud);
bool dlg_profile_is_cluster(const struct dlg_profile *p);
/* A counter bumped by every change of @p's counts. */
uint64_t dlg_profile_gen(struct dlg_profile *p);
/* @fn once per value in use ("" for a profile without value) with its
 * count, under the profile's lock (@fn must only copy).  Returns the
 * counter of dlg_profile_gen at that moment. */
typedef void (*dlg_profile_count_fn)(void *ud, const char *value,
				     uint32_t count);
uint64_t dlg_profile_counts(struct dlg_profile *p, dlg_profile_count_fn fn,
			    void *ud);
/* dlg.profile_list: @fn once per membership (value.p NULL = all values),
 * without the profile lock held.  Returns the number visited. */
int dlg_profile_list(struct dlg_profile *p, struct sip_str value,
		     dlg_iter_fn fn, void *ud);

/* The profiles of the table in config order (metrics endpoint). */
size_t dlg_profile_count(const struct dlg_table *t);
struct dlg_profile *dlg_profile_at(struct dlg_table *t, size_t i);

/*
 * A snapshot of one profile for the metrics endpoint: its total, how many
 * values it holds and the @max values with the most members, most first.
 * A value longer than DLG_PROFILE_TOP_VALUE_MAX keeps a prefix (len <
 * full_len; hash tells two such apart).  The profile lock, which SIP
 * workers take, is held only a few microseconds at a time (see the .c).
 * 0 or -ENOMEM; free with dlg_profile_snap_free.
 */
#define DLG_PROFILE_TOP_VALUE_MAX 128
struct dlg_profile_top {
	uint64_t count;
	uint32_t hash;
	size_t len, full_len;
	char value[DLG_PROFILE_TOP_VALUE_MAX + 1];
};
struct dlg_profile_snap {
	uint64_t total;			/* members, every value */
	size_t nvals;			/* values (0 without value) */
	struct dlg_profile_top *top;
	size_t n_top;
	bool incomplete;		/* the map kept growing: top empty */
};
int dlg_profile_snapshot(struct dlg_profile *p, size_t max,
			 struct dlg_profile_snap *out);
void dlg_profile_snap_free(struct dlg_profile_snap *s);	/* NULL-safe */

/* ---- callbacks ------------------------------------------------------ */

struct dlg_cb_params {
	const void *msg;	/* the request/reply, NULL for timer events */
	int code;		/* reply code, 0 otherwise */
	enum dlg_dir dir;	/* direction of the request, if any */
	int old_state, new_state;
	void *param;		/* as registered */
};
typedef void (*dlg_cb_fn)(struct dlg_cell *c, int type,
			  const struct dlg_cb_params *p);

/*
 * Global callbacks run for every dialog, before the per-dialog ones, in
 * registration order.  Registration is thread-safe; a callback registered
 * while an event runs may miss it.  @param_free (may be NULL) is called
 * with @param at dlg_table_free (global) or when the cell is freed.
 * 0, -EINVAL (no type / no fn), -ENOMEM.
 */
int dlg_register_global_cb(struct dlg_table *t, int types, dlg_cb_fn fn,
			   void *param, void (*param_free)(void *));
int dlg_register_cb(struct dlg_cell *c, int types, dlg_cb_fn fn, void *param,
		    void (*param_free)(void *));

/* ---- helpers from parsed SIP messages (dlg_msg.c) ------------------- */

/*
 * Fill @inv from an initial INVITE: Call-ID, From URI/tag, To URI, R-URI,
 * CSeq, the single Contact URI, the Record-Route entries as received
 * joined by ',' into @rs_buf (message order).  @inv->socket is left for
 * the caller.  0, -EINVAL (no From-tag, not exactly one Contact),
 * -ENOSPC (@rs_buf too small), -EBADMSG.
 */
int dlg_invite_from_msg(struct dlg_invite *inv, const struct sip_msg *m,
			char *rs_buf, size_t rs_cap);
/*
 * The callee route set of a 2xx: its Record-Route entries minus the last
 * @caller_rr (the caller's) and the @own_rr before them (ours, 1 or 2),
 * reversed, joined by ','.  *len = 0 when none.  0, -ENOSPC, -EBADMSG.
 */
int dlg_callee_route_set(const struct sip_msg *rsp, unsigned caller_rr,
			 unsigned own_rr, char *buf, size_t cap, size_t *len);
/* Fill @r from a reply for @c (@own_rr: our RR entries, 1 or 2);
 * @r->socket and @r->local are left for the caller.  0 or -errno. */
int dlg_reply_from_msg(struct dlg_reply *r, const struct sip_msg *rsp,
		       const struct dlg_cell *c, unsigned own_rr,
		       char *rs_buf, size_t rs_cap);
/* Fill @rq from a request; @did is the cookie value found in our Route
 * (.p NULL if none). */
void dlg_req_from_msg(struct dlg_req *rq, const struct sip_msg *m,
		      struct sip_str did);

#endif /* SIPDLG_DLG_H */
