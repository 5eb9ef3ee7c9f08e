/*
 * db_load.h - one restored dialog: what a `dialog` row and its
 * `dialog_vars` rows hold, decoded, and the contract of the dialog core's
 * load function (db_dlg_load_fn in db.h) that turns it into a dialog.
 *
 * Contract of the load function (to be provided by the dialog core as
 * dlg_load(t, row, &cell) and wrapped into a db_dlg_load_fn by main.c):
 *   - create a dialog with exactly row->h_entry and row->h_id, linked in
 *     its slot (sorted by h_id); raise the slot's next_id past h_id when
 *     h_id belongs to this node's series (h_id_start/h_id_step) so new
 *     dialogs never reuse it; -EEXIST if that (h_entry, h_id) is in use;
 *     -EINVAL if h_entry >= hash_size or the state is not 2..5;
 *   - strings copied (the row's memory is freed after the call): callid,
 *     from_uri, caller tag (from_tag), to_uri, req_uri, caller contact /
 *     route_set / socket, callee tag (to_tag) / contact / route_set /
 *     socket; callee leg present when to_tag is non-empty;
 *   - caller_cseq, callee_cseq as the highest CSeq seen per direction;
 *   - state as given; start_ts = start_time; init_ts = 0; state 5:
 *     end_ts = now; statistics: state 3/4 -> active_dialogs+1, 2 ->
 *     early_dialogs+1 (not processed_dialogs);
 *   - timer (states 3/4): if timeout <= now, fire at once (expire, BYE
 *     if iflags has TIMEOUTBYE); else lifetime = timeout - start_time
 *     (or timeout - now if start_time is 0 or after timeout) and armed
 *     for timeout - now seconds.  State 2: early_timeout from now;
 *   - sflags, iflags as given (DLG_IFLAG_DMQ_SYNC cleared if a socket is
 *     not local: WARN once per socket); toroute_name kept as a string;
 *   - profiles: each (name, value) linked as by dlg_profile_set (counts
 *     once); unknown profile names WARN and are ignored; value ignored
 *     for a profile without value;
 *   - vars: each set with no DB mark (they are in the DB already), except
 *     in db_mode 3 where the DB layer rewrites everything at stop anyway;
 *   - dflags: none (not NEW: the row exists);
 *   - the fast path's map entry written (the lead's glue, as for a
 *     confirmed dialog);
 *   - LOADED callbacks run, then the caller's reference is dropped.
 */
#ifndef SIPDLG_DB_LOAD_H
#define SIPDLG_DB_LOAD_H

#include <stddef.h>
#include <stdint.h>

struct db_load_profile {
	const char *name;
	const char *value;	/* NULL for a profile without value */
};

struct db_load_var {
	const char *key, *value;
};

struct db_load_row {
	uint64_t id;		/* the row's `id`, for messages */
	uint32_t h_entry, h_id;
	const char *callid, *from_uri, *from_tag, *to_uri, *to_tag;
	uint32_t caller_cseq, callee_cseq;
	const char *caller_route_set, *callee_route_set;	/* "" if NULL */
	const char *caller_contact, *callee_contact;
	const char *caller_sock, *callee_sock;
	int state;
	int64_t start_time;	/* UNIX s */
	int64_t timeout;	/* absolute UNIX expiry; 0 = none */
	uint32_t sflags, iflags;
	const char *toroute_name;	/* "" if NULL */
	const char *req_uri;
	size_t n_profiles;
	struct db_load_profile *profiles;
	size_t n_vars;
	struct db_load_var *vars;
};

/* Number of columns of a dialog row in db_row_decode order. */
#define DB_DLG_NCOLS 24

/*
 * Decode one result row (@cols[i] NULL for SQL NULL, @lens[i] its
 * length), in this column order: id, hash_entry, hash_id, callid,
 * from_uri, from_tag, to_uri, to_tag, caller_cseq, callee_cseq,
 * caller_route_set, callee_route_set, caller_contact, callee_contact,
 * caller_sock, callee_sock, state, start_time, timeout, sflags, iflags,
 * toroute_name, req_uri, xdata.  The strings point into @cols; profiles
 * are allocated (free with db_load_row_clear).  0; -EINVAL with the
 * reason in @err (a NULL in a required column, a number out of range, a
 * state not 1..5, xdata that is not Kamailio's JSON); -ENOMEM.
 */
int db_row_decode(char *const *cols, const unsigned long *lens,
		  struct db_load_row *out, char *err, size_t errlen);
void db_load_row_clear(struct db_load_row *r);

/* Kamailio's xdata JSON for @n profiles (NULL when n is 0; malloc'd). */
struct dlg_info_profile;
char *db_xdata_build(const struct dlg_info_profile *p, size_t n);

#endif /* SIPDLG_DB_LOAD_H */
