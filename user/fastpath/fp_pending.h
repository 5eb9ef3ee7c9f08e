/*
 * fp_pending.h - the dialogs the kernel's maps do not hold as they
 * should: not in "dialogs" (the map was full, or the write failed), or in
 * "dialogs" without their "callids" entry.  A set keyed by dialog id that
 * also remembers arrival order, so the longest-waiting dialog is the
 * first to get a freed slot.  No locking: the owner (fp_kmaps.c) holds
 * its mutex around every call.
 */
#ifndef SIPDLG_FP_PENDING_H
#define SIPDLG_FP_PENDING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>
#include "sipdlg_shared.h"

/* fp_pend.flags */
enum {
	FPP_OUT = 0x1,		/* not in "dialogs" */
	FPP_OVERFLOW = 0x2,	/* its key is in "overflow" */
	FPP_NO_CALLID = 0x4,	/* in "dialogs", its "callids" entry missing */
};

/* What the controller writes into "dialogs" for the dialog. */
struct fp_ident {
	__u64 callid_hash, caller_tag_hash, callee_tag_hash, created_ns;
	__u32 state;
	__u32 mac_flags;	/* SIPDLG_DLGF_NOMAC or 0 (fp_mac_flags) */
};

struct fp_pend {
	struct sipdlg_dlg_key key;
	struct fp_ident id;
	unsigned flags;
	struct fp_pend *hnext;		/* bucket chain */
	struct fp_pend *prev, *next;	/* arrival order, oldest first */
};

struct fp_pending {
	struct fp_pend **buckets;
	size_t nbuckets;		/* a power of two */
	struct fp_pend *head, *tail;
	size_t n;
	/* n, readable without the owner's lock: 0 says "nothing waits" to
	 * a caller that can stand a race with its own dialog's other event
	 * (fp_pending_hint). */
	_Atomic size_t n_hint;
};

/* 0 or -ENOMEM; @nbuckets is rounded up to a power of two. */
int fp_pending_init(struct fp_pending *s, size_t nbuckets);
/* Free every entry and the buckets (a zeroed set is fine). */
void fp_pending_fini(struct fp_pending *s);
struct fp_pend *fp_pending_find(const struct fp_pending *s,
				const struct sipdlg_dlg_key *key);
/*
 * The entry of @key, appended (flags 0) if it is new; NULL only when
 * memory runs out.
 */
struct fp_pend *fp_pending_add(struct fp_pending *s,
			       const struct sipdlg_dlg_key *key);
/* Unlink and free @p. */
void fp_pending_del(struct fp_pending *s, struct fp_pend *p);
/* The entries' number without the lock (see n_hint). */
static inline size_t fp_pending_hint(const struct fp_pending *s)
{
	return atomic_load_explicit(&s->n_hint, memory_order_acquire);
}

#endif
