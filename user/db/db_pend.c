/*
 * db_pend.c - the BYEs seen for unknown dialogs while the stored dialogs
 * are not loaded yet (a start without the database, database.required
 * false), so that the late load (db_late.c) deletes the rows of the
 * calls that ended meanwhile instead of restoring them as active.
 *
 * Why remember and not refuse: the BYEs pass (loose routing, as for any
 * unknown dialog) because a 503 to a BYE ends nothing for the UA that
 * sent it (RFC 3261 15.1.1: it considers the session over as soon as it
 * sends the BYE, and few UAs retry a BYE on Retry-After), so the other
 * side would keep a call up that its peer hung up; and the database may
 * stay away for hours.
 *
 * A BYE is kept as hashes of its Call-ID and of both tags (the pair in
 * either order: a BYE may come from either side) and the cookie's
 * (h_entry, h_id) when it had one; a row is ended when all of those
 * match it.  The list is bounded (DB_PEND_MAX): beyond, a BYE is counted
 * in db:late_ends_lost and logged once.
 */
#define LOG_TAG "db"
#include "db/db_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/stats.h"

/* 64-bit FNV-1a: a hash of the strings, never compared to a wire value. */
static uint64_t h64(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	while (n--) {
		h ^= (unsigned char)*p++;
		h *= 1099511628211ull;
	}
	return h;
}

bool db_load_pending(const struct db_ctx *db)
{
	return db && atomic_load(&db->late.pending);
}

bool db_note_end(struct db_ctx *db, const struct db_end_key *k)
{
	struct db_pend_end e;
	bool lost = false, first = false;

	if (!db_load_pending(db) || !k->callid_len)
		return false;
	e.has_id = k->has_id;
	e.he = k->has_id ? k->h_entry : 0;
	e.hid = k->has_id ? k->h_id : 0;
	e.callid = h64(k->callid, k->callid_len);
	e.tag_a = h64(k->tag1, k->tag1_len);
	e.tag_b = h64(k->tag2, k->tag2_len);
	pthread_mutex_lock(&db->late.mu);
	/* Under the lock, again: the load may have ended meanwhile. */
	if (!atomic_load(&db->late.pending)) {
		pthread_mutex_unlock(&db->late.mu);
		return true;
	}
	if (db->late.n == db->late.cap && db->late.cap < DB_PEND_MAX) {
		size_t nc = db->late.cap ? db->late.cap * 2 : 64;
		struct db_pend_end *nv;

		if (nc > DB_PEND_MAX)
			nc = DB_PEND_MAX;
		nv = realloc(db->late.v, nc * sizeof(*nv));
		if (nv) {
			db->late.v = nv;
			db->late.cap = nc;
		}
	}
	if (db->late.n < db->late.cap) {
		db->late.v[db->late.n++] = e;
	} else {
		lost = true;
		first = !db->late.lost_logged;
		db->late.lost_logged = true;
	}
	pthread_mutex_unlock(&db->late.mu);
	if (lost) {
		stat_inc(db->st_late_lost);
		if (first)
			log_warn("more than %u BYEs for dialogs not loaded yet "
				 "(database away since the start): the calls "
				 "of the next ones may be restored as active "
				 "(db.late_ends_lost counts them)",
				 (unsigned)DB_PEND_MAX);
	} else {
		log_debug("BYE for a dialog not loaded yet (Call-ID %.*s): "
			  "its row will be deleted when the database returns",
			  (int)k->callid_len, k->callid);
	}
	return true;
}

static int pend_cmp(const void *a, const void *b)
{
	const struct db_pend_end *x = a, *y = b;

	return x->callid < y->callid ? -1 : x->callid > y->callid;
}

void db_pend_sort(struct db_ctx *db)
{
	pthread_mutex_lock(&db->late.mu);
	if (db->late.n)
		qsort(db->late.v, db->late.n, sizeof(*db->late.v), pend_cmp);
	db->late.sorted = db->late.n;
	pthread_mutex_unlock(&db->late.mu);
}

static bool pend_hit(const struct db_pend_end *e, uint64_t c, uint32_t he,
		     uint32_t hid, uint64_t f, uint64_t t)
{
	if (e->callid != c || (e->has_id && (e->he != he || e->hid != hid)))
		return false;
	return (e->tag_a == f && e->tag_b == t) ||
	       (e->tag_a == t && e->tag_b == f);
}

/*
 * Does a remembered BYE end this row?  Binary search over the part
 * sorted by db_pend_sort() at the start of the load, then a scan of what
 * the workers added since (they still may: the load is not done).
 */
bool db_pend_match_locked(struct db_ctx *db, uint32_t he, uint32_t hid,
			  const char *callid, const char *ftag,
			  const char *ttag)
{
	uint64_t c = h64(callid, strlen(callid));
	uint64_t f = h64(ftag, strlen(ftag)), t = h64(ttag, strlen(ttag));
	size_t lo = 0, hi, i;
	bool hit = false;

	hi = db->late.sorted;
	while (lo < hi) {	/* first entry with this Call-ID hash */
		size_t mid = lo + (hi - lo) / 2;

		if (db->late.v[mid].callid < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < db->late.sorted && db->late.v[i].callid == c && !hit;
	     i++)
		hit = pend_hit(&db->late.v[i], c, he, hid, f, t);
	for (i = db->late.sorted; i < db->late.n && !hit; i++)
		hit = pend_hit(&db->late.v[i], c, he, hid, f, t);
	return hit;
}

bool db_pend_match(struct db_ctx *db, uint32_t he, uint32_t hid,
		   const char *callid, const char *ftag, const char *ttag)
{
	bool hit;

	db_pend_lock(db);
	hit = db_pend_match_locked(db, he, hid, callid, ftag, ttag);
	db_pend_unlock(db);
	return hit;
}

void db_pend_lock(struct db_ctx *db)
{
	pthread_mutex_lock(&db->late.mu);
}

void db_pend_unlock(struct db_ctx *db)
{
	pthread_mutex_unlock(&db->late.mu);
}

void db_pend_clear(struct db_ctx *db)
{
	pthread_mutex_lock(&db->late.mu);
	free(db->late.v);
	db->late.v = NULL;
	db->late.n = db->late.cap = db->late.sorted = 0;
	pthread_mutex_unlock(&db->late.mu);
}
