/*
 * dlg_int.h - structures and helpers shared by the user/dialog/ files only.
 *
 * Locking summary (see dlg.h for the public rules):
 *   slot->lock   the slot's list, its keyed indexes and next_id, and every
 *                mutable field of the dialogs in it (state, legs, timer
 *                bookkeeping, vars, profile membership list, callback
 *                list tail);
 *   prof->lock   one profile's value map and member lists;
 *   t->cb_lock   appending to the global callback list.
 * Order: slot -> profile -> timer wheel (inside tmr_arm/tmr_cancel).
 * state, ref and the flag words are atomics so they can be read without
 * the lock; they are still written under it (except sflags/iflags, which
 * are independent bits).
 */
#ifndef SIPDLG_DLG_INT_H
#define SIPDLG_DLG_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/timer.h"
#include "dialog/dlg.h"
#include "dialog/dlg_stats.h"

/* What the armed dialog timer is for. */
enum dlg_tkind {
	DLG_T_NONE = 0,
	DLG_T_EARLY,		/* early_timeout: states 1/2 */
	DLG_T_LIFETIME,		/* lifetime (or noack) in states 3/4 */
	DLG_T_END,		/* end_timeout: state 5 */
};

/* Events (Kamailio's numbers). */
enum dlg_event {
	DLG_EV_RPL1XX = 2,
	DLG_EV_RPL2XX = 3,
	DLG_EV_RPL3XX = 4,
	DLG_EV_REQPRACK = 5,
	DLG_EV_REQACK = 6,
	DLG_EV_REQBYE = 7,
	DLG_EV_REQ = 8,
};

struct dlg_cb_node {
	struct dlg_cb_node *_Atomic next;
	int types;
	dlg_cb_fn fn;
	void *param;
	void (*param_free)(void *);
};

/* An append-only callback list: nodes are immutable once linked, so
 * readers walk it without a lock; writers append (walking to its end:
 * registrations are rare) under a lock. */
struct dlg_cb_list {
	struct dlg_cb_node *_Atomic first;
	atomic_int types;	/* union of the registered types */
};

/*
 * A string of a dialog: @len bytes at @off in a string block of the cell
 * (data[] for the caller side, callee_blk for the callee leg), always
 * followed by a NUL.  A block is at most DLG_BLK_MAX bytes, so 16 bits
 * each are enough; strings equal to one already in the block share it
 * (R-URI = To URI, Contact = From URI are the common cases).
 */
struct dlg_sref {
	uint16_t off, len;
};

#define DLG_BLK_MAX 65535u

/* Rare parts of a dialog, allocated on first use (under the slot lock). */
struct dlg_ext {
	char *contact[2];	/* refreshed by a re-INVITE: own copy, NUL-t. */
	uint16_t contact_len[2];
	char toroute[32];	/* timeout_route: rule name, "" = none */
};

struct dlg_var {
	struct dlg_var *next;
	unsigned flags;		/* DLG_VAR_* */
	char *val;		/* NUL-terminated, own allocation */
	size_t vlen;
	size_t klen;
	char key[];		/* NUL-terminated */
};

struct dlg_pmember;

/*
 * One dialog: ~220 bytes of fixed fields, then its caller-side strings
 * (Call-ID, From/To/R-URI, caller tag, route set, contact), all in one
 * allocation.  The sockets are interned in the table (a box has a few).
 */
struct dlg_cell {
	struct dlg_table *tbl;
	struct dlg_cell *prev, *next;	/* slot list, sorted by h_id */
	struct dlg_cell *cid_next;	/* slot's (Call-ID, caller tag) chain */
	struct dlg_cell *id_next;	/* slot's h_id index chain */
	struct dlg_cell *cido_next;	/* slot's Call-ID-only chain */
	struct dlg_pmember *members;	/* profile memberships */
	struct dlg_var *vars;
	struct dlg_ext *ext;		/* NULL until needed */
	char *callee_blk;		/* second block: callee strings */
	const char *sock[2];		/* interned; NULL = unknown */
	struct dlg_cb_list cbs;

	/* The one dialog timer. */
	struct tmr tmr;			/* tmr.expires_ms: its deadline */
	uint64_t lifetime_ms;

	atomic_int ref;
	atomic_int state;
	atomic_uint dflags, iflags, sflags;
	uint32_t h_entry, h_id;
	uint32_t init_ts, start_ts, end_ts;	/* UNIX s (to 2106) */
	uint32_t cseq[2];		/* highest seen, per leg */
	/* Cookie MAC (";dm="): its value and the key generation it was
	 * made under (dlg_config.mac_sign); gen 0 = none.  Set at creation. */
	uint64_t mac;
	uint32_t mac_gen;

	struct dlg_sref callid, from_uri, to_uri, req_uri;
	struct dlg_sref tag[2], route_set[2], contact[2];
	uint16_t data_len, callee_len;	/* sizes of the two blocks */
	uint8_t tkind;			/* enum dlg_tkind */
	uint8_t tmr_refs;		/* references owned by the timer */
	uint8_t from_rr_nb;		/* <= DLG_MAX_RR */
	bool linked : 1;
	bool term_confirmed : 1;	/* TERMINATED_CONFIRMED ran */
	bool confirmed_once : 1;	/* reached state 3 at some point */
	bool due : 1;			/* armed for tkind, tmr.expires_ms */
	char data[];			/* strings of the first block */
};

/* A string of the cell as a slice (valid while the cell is referenced;
 * callee strings once callee_blk is set). */
static inline struct sip_str dlg_sref_str(const char *blk, struct dlg_sref r)
{
	return blk ? sip_str_mk(blk + r.off, r.len) : SIP_STR_NULL;
}

#define DLG_S(c, field) dlg_sref_str((c)->data, (c)->field)

/* The leg's block: the cell's for the caller, callee_blk (NULL before the
 * first 2xx) for the callee. */
static inline const char *dlg_leg_blk(const struct dlg_cell *c, int leg)
{
	return leg == DLG_CALLER_LEG ? c->data : c->callee_blk;
}

static inline struct sip_str dlg_leg_tag(const struct dlg_cell *c, int leg)
{
	return dlg_sref_str(dlg_leg_blk(c, leg), c->tag[leg]);
}

static inline struct sip_str dlg_leg_route_set(const struct dlg_cell *c,
					       int leg)
{
	return dlg_sref_str(dlg_leg_blk(c, leg), c->route_set[leg]);
}

/* The current remote target: the refreshed one if any. */
static inline struct sip_str dlg_leg_contact(const struct dlg_cell *c,
					     int leg)
{
	if (c->ext && c->ext->contact[leg])
		return sip_str_mk(c->ext->contact[leg],
				  c->ext->contact_len[leg]);
	return dlg_sref_str(dlg_leg_blk(c, leg), c->contact[leg]);
}

static inline struct sip_str dlg_leg_socket(const struct dlg_cell *c,
					    int leg)
{
	return c->sock[leg] ? sip_str_c(c->sock[leg]) : SIP_STR_NULL;
}

struct dlg_slot {
	pthread_mutex_t lock;
	struct dlg_cell *first, *last;
	/* The keyed indexes (dlg_index.c): nb (Call-ID, caller tag)
	 * buckets, nb h_id buckets, then nb Call-ID-only buckets, in one
	 * array; NULL and 0 until the slot's first dialog. */
	struct dlg_cell **idx;
	uint32_t nb;
	uint32_t next_id;
	uint32_t count;
};

struct dlg_profile;

struct dlg_sock {
	struct dlg_sock *next;
	char s[];		/* NUL-terminated */
};

struct dlg_table {
	struct dlg_config cfg;
	char *rr_param;
	size_t rr_param_len;
	struct tmr_service *tmr;
	struct dlg_stats st;
	uint32_t size;			/* slots, power of two */
	struct dlg_slot *slots;

	struct dlg_profile *profiles;
	size_t n_profiles;

	pthread_mutex_t cb_lock;
	struct dlg_cb_list gcbs;

	/* Interned socket strings ("udp:10.0.0.1:5060"), kept until the
	 * table is freed: a box has a handful, every dialog names two. */
	pthread_mutex_t sock_lock;
	struct dlg_sock *socks;

	uint64_t rand_state;
	uint64_t key[2];		/* SipHash key of the indexes */
	struct {
		atomic_ullong matched, no_cookie, bad_cookie, not_found;
		atomic_ullong mismatch, bogus;
	} ctr;
	atomic_ullong cursor_max_hold_ns;
	/* Cells dlg_lookup_callid() looked at, ever (tests: a Call-ID-only
	 * lookup walks its index chain, never the slot). */
	atomic_ullong callid_steps;
	/* Live dialogs (linked, states 1-4) and the early ones among them
	 * (states 1-2), for limits: whatever enable_stats says. */
	atomic_long n_live, n_early;
};

static inline struct dlg_slot *dlg_slot_of(const struct dlg_cell *c)
{
	return &c->tbl->slots[c->h_entry];
}

static inline void dlg_lock(const struct dlg_cell *c)
{
	pthread_mutex_lock(&dlg_slot_of(c)->lock);
}

static inline void dlg_unlock(const struct dlg_cell *c)
{
	pthread_mutex_unlock(&dlg_slot_of(c)->lock);
}

/* Set a state and keep the statistics in step with it (under the lock). */
void dlg_set_state_locked(struct dlg_cell *c, int new_state);

/*
 * Drop a reference known not to be the last one (the caller or the table
 * still holds one), under the slot lock where dlg_unref() cannot be used.
 */
void dlg_ref_put_locked(struct dlg_cell *c);

/* dlg_mem.c: the allocator of what lives as long as a dialog (cells,
 * callee blocks, profile memberships and values).  Zeroed memory; free
 * with the size it was allocated with.  NULL-safe free. */
void *dlg_mem_alloc(size_t n);
void dlg_mem_free(void *p, size_t n);

static inline void dlg_cell_free_mem(struct dlg_cell *c)
{
	dlg_mem_free(c->callee_blk, c->callee_len);
	dlg_mem_free(c, sizeof(*c) + c->data_len);
}

/* dlg_hash.c */
/* The cell's ext, allocated on first use (under the slot lock, or before
 * the cell is linked); NULL on ENOMEM. */
struct dlg_ext *dlg_ext_locked(struct dlg_cell *c);
/* The interned copy of @s (NULL for an empty one or on ENOMEM). */
const char *dlg_sock_intern(struct dlg_table *t, struct sip_str s);
int dlg_slot_link_locked(struct dlg_table *t, struct dlg_slot *s,
			 struct dlg_cell *c);
void dlg_slot_unlink_locked(struct dlg_slot *s, struct dlg_cell *c);
int dlg_slot_link_id_locked(struct dlg_table *t, struct dlg_slot *s,
			    struct dlg_cell *c);
void dlg_cell_destroy(struct dlg_cell *c);

/* dlg_index.c: the keyed Call-ID and h_id indexes of a slot, all under
 * its lock.  SipHash-2-4 of @len bytes under @key (k0, k1). */
uint64_t dlg_siphash(const uint64_t key[2], const void *buf, size_t len);
int dlg_idx_add_locked(const struct dlg_table *t, struct dlg_slot *s,
		       struct dlg_cell *c);
void dlg_idx_del_locked(const struct dlg_table *t, struct dlg_slot *s,
			struct dlg_cell *c);
struct dlg_cell *dlg_idx_id_locked(const struct dlg_table *t,
				   const struct dlg_slot *s, uint32_t h_entry,
				   uint32_t h_id);
/* The head of the chain of the dialogs with Call-ID @cid (trimmed) and
 * caller tag @tag: walk it by cid_next and compare both, other ones share
 * it. */
struct dlg_cell *dlg_idx_cid_locked(const struct dlg_table *t,
				    const struct dlg_slot *s,
				    struct sip_str cid, struct sip_str tag);
/* The head of the chain of the dialogs with Call-ID @cid (trimmed),
 * whatever their tags: walk it by cido_next and compare the Call-ID. */
struct dlg_cell *dlg_idx_callid_locked(const struct dlg_table *t,
				       const struct dlg_slot *s,
				       struct sip_str cid);
/* The bucket number of (@cid, @tag) in @s (tests). */
uint32_t dlg_idx_cid_bucket(const struct dlg_table *t,
			    const struct dlg_slot *s, struct sip_str cid,
			    struct sip_str tag);
void dlg_idx_free(struct dlg_slot *s);

/* dlg_match.c: the tight match; DLG_DIR_NONE when it fails. */
enum dlg_dir dlg_tight_match_locked(const struct dlg_cell *c,
				    struct sip_str callid,
				    struct sip_str ftag, struct sip_str ttag);

/* dlg_timer.c, all under the slot lock. */
void dlg_timer_arm_locked(struct dlg_cell *c, enum dlg_tkind kind,
			  uint64_t ms);
void dlg_timer_stop_locked(struct dlg_cell *c);
/* Arm what the current state needs after a transition into it. */
void dlg_timer_for_state_locked(struct dlg_cell *c);
void dlg_timer_fn(struct tmr *tm);

/* dlg_cb.c */
struct dlg_cb_run {
	int types[4];		/* run in order; 0 = unused */
	struct dlg_cb_params p;
};
void dlg_cb_list_append(struct dlg_cb_list *l, struct dlg_cb_node *n);
void dlg_cb_list_free(struct dlg_cb_list *l);
void dlg_run_cbs(struct dlg_cell *c, int type, const struct dlg_cb_params *p);
void dlg_run_cb_set(struct dlg_cell *c, const struct dlg_cb_run *run);

/* dlg_profile.c */
int dlg_profiles_init(struct dlg_table *t);
void dlg_profiles_free(struct dlg_table *t);
/* Leave every profile (on entering state 5 and on destroy). */
void dlg_profiles_leave_locked(struct dlg_cell *c);
/* Count / copy the memberships of @c (under its slot lock). */
size_t dlg_profiles_count_locked(const struct dlg_cell *c, size_t *bytes);
size_t dlg_profiles_copy_locked(const struct dlg_cell *c,
				struct dlg_info_profile *out, char **strp);

/* dlg_vars.c */
void dlg_vars_free(struct dlg_cell *c);
size_t dlg_vars_count_locked(const struct dlg_cell *c, unsigned flags,
			     size_t *bytes);
size_t dlg_vars_copy_locked(struct dlg_cell *c, unsigned flags,
			    struct dlg_info_var *out, char **strp);
void dlg_vars_clear_marks_locked(struct dlg_cell *c);

/* dlg_state.c: the timer's entries into the state machine. */
void dlg_fail_early_locked(struct dlg_cell *c, struct dlg_cb_run *run);
void dlg_expire_locked(struct dlg_cell *c, struct dlg_cb_run *run);

/* Trim SP/HTAB/CR/LF around @s. */
struct sip_str dlg_trim(struct sip_str s);

#endif /* SIPDLG_DLG_INT_H */
