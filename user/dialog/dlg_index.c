/*
 * dlg_index.c - the keyed indexes of a slot: how a dialog is found by its
 * Call-ID and by its h_id without walking its slot.
 *
 * Why: the slot (h_entry) is Kamailio's core_hash of the Call-ID, because
 * the cookie and the database's hash_entry column must be Kamailio's.
 * core_hash is public and unkeyed and adds the Call-ID's 4-byte groups, so
 * an attacker fills one slot at will (any reordering of the groups
 * collides); walking that slot for each new INVITE made a flood quadratic.
 * So every slot also has a small hash table of its own with three bucket
 * arrays, one by SipHash-2-4 of the Call-ID and the caller's tag (what a
 * spiral check and the tight match look for; one Call-ID with ever new
 * From tags is the other way to fill a chain), one by SipHash-2-4 of
 * (h_entry, h_id), one by SipHash-2-4 of the Call-ID alone (the control
 * socket's lookups by Call-ID without tags: dlg_list CALLID,
 * dlg.terminate_dlg CALLID; its chain holds the dialogs of that Call-ID
 * and, rarely, of another that shares the bucket, never the slot), under a 128-bit key drawn from getrandom() when the
 * table is made: nobody outside can aim at a bucket.  The arrays grow
 * (and shrink) with the slot's count, so chains stay at two or fewer on
 * average, whatever the attacker does to core_hash.
 *
 * Everything here runs under the slot's lock, like the slot list it
 * indexes: the locking of the table does not change.  The slot list (by
 * h_id) stays for the listing order dlg.list streams in.
 */
#include <errno.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>

#include "sipdlg_hash.h"
#include "dialog/dlg_int.h"

/* Fewest buckets a slot gets once it holds a dialog. */
#define IDX_MIN 4u
/* Grow past 2 dialogs per bucket, shrink below 1 per 8 buckets. */
#define IDX_LOAD 2u

uint64_t dlg_siphash(const uint64_t key[2], const void *buf, size_t len)
{
	const unsigned char *p = buf;
	__u64 v0 = key[0] ^ 0x736f6d6570736575ULL;
	__u64 v1 = key[1] ^ 0x646f72616e646f6dULL;
	__u64 v2 = key[0] ^ 0x6c7967656e657261ULL;
	__u64 v3 = key[1] ^ 0x7465646279746573ULL;
	__u64 m, b = (__u64)len << 56;
	size_t i, full = len & ~(size_t)7;

	for (i = 0; i < full; i += 8) {
		m = 0;
		for (int j = 0; j < 8; j++)
			m |= (__u64)p[i + j] << (8 * j);
		v3 ^= m;
		SIPDLG_SIPROUND(v0, v1, v2, v3);
		SIPDLG_SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	for (int j = 0; i + (size_t)j < len; j++)
		b |= (__u64)p[i + j] << (8 * j);
	v3 ^= b;
	SIPDLG_SIPROUND(v0, v1, v2, v3);
	SIPDLG_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	SIPDLG_SIPROUND(v0, v1, v2, v3);
	SIPDLG_SIPROUND(v0, v1, v2, v3);
	SIPDLG_SIPROUND(v0, v1, v2, v3);
	SIPDLG_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* The Call-ID chain's key: the Call-ID and the caller's tag, both under
 * the key (the tag's hash is keyed by the Call-ID's), so that neither
 * colliding Call-IDs nor one Call-ID with many From tags share a chain. */
static uint64_t cid_hash(const struct dlg_table *t, struct sip_str cid,
			 struct sip_str tag)
{
	uint64_t k[2] = { t->key[0] ^ dlg_siphash(t->key, cid.p, cid.len),
			  t->key[1] };

	return dlg_siphash(k, tag.p, tag.len);
}

/* The Call-ID-only chain's key. */
static uint64_t cido_hash(const struct dlg_table *t, struct sip_str cid)
{
	return dlg_siphash(t->key, cid.p, cid.len);
}

static uint64_t cell_cid_hash(const struct dlg_table *t,
			      const struct dlg_cell *c)
{
	return cid_hash(t, DLG_S(c, callid), dlg_leg_tag(c, DLG_CALLER_LEG));
}

static uint64_t id_hash(const struct dlg_table *t, uint32_t h_entry,
			uint32_t h_id)
{
	return sipdlg_siphash24_u64(t->key[0], t->key[1],
				    (__u64)h_entry | ((__u64)h_id << 32));
}

uint32_t dlg_idx_cid_bucket(const struct dlg_table *t,
			    const struct dlg_slot *s, struct sip_str cid,
			    struct sip_str tag)
{
	return s->nb ? (uint32_t)cid_hash(t, cid, tag) & (s->nb - 1) : 0;
}

/* Move every dialog of @s into new arrays of @nb buckets; on ENOMEM the
 * old ones stay (longer chains, nothing lost). */
static int rehash(const struct dlg_table *t, struct dlg_slot *s, uint32_t nb)
{
	struct dlg_cell **a = calloc(3 * (size_t)nb, sizeof(*a));

	if (!a)
		return -ENOMEM;
	for (struct dlg_cell *c = s->first; c; c = c->next) {
		uint32_t i = (uint32_t)cell_cid_hash(t, c) & (nb - 1);
		uint32_t k = (uint32_t)id_hash(t, c->h_entry, c->h_id) &
			     (nb - 1);
		uint32_t o = (uint32_t)cido_hash(t, DLG_S(c, callid)) &
			     (nb - 1);

		c->cid_next = a[i];
		a[i] = c;
		c->id_next = a[nb + k];
		a[nb + k] = c;
		c->cido_next = a[2 * nb + o];
		a[2 * nb + o] = c;
	}
	free(s->idx);
	s->idx = a;
	s->nb = nb;
	return 0;
}

/*
 * Index @c, whose h_id is set, before it goes into the slot list (so
 * s->count does not count it yet).  -ENOMEM only when the slot had no
 * arrays at all; a failed growth just leaves longer chains.
 */
int dlg_idx_add_locked(const struct dlg_table *t, struct dlg_slot *s,
		       struct dlg_cell *c)
{
	uint32_t i, k, o;

	if (!s->nb) {
		if (rehash(t, s, IDX_MIN))
			return -ENOMEM;
	} else if (s->count + 1 > IDX_LOAD * s->nb && s->nb < (1u << 30)) {
		(void)rehash(t, s, 2 * s->nb);
	}
	i = (uint32_t)cell_cid_hash(t, c) & (s->nb - 1);
	k = (uint32_t)id_hash(t, c->h_entry, c->h_id) & (s->nb - 1);
	o = (uint32_t)cido_hash(t, DLG_S(c, callid)) & (s->nb - 1);
	c->cid_next = s->idx[i];
	s->idx[i] = c;
	c->id_next = s->idx[s->nb + k];
	s->idx[s->nb + k] = c;
	c->cido_next = s->idx[2 * s->nb + o];
	s->idx[2 * s->nb + o] = c;
	return 0;
}

enum chain { CH_CID, CH_ID, CH_CIDO };

static struct dlg_cell **next_of(struct dlg_cell *c, enum chain ch)
{
	return ch == CH_ID ? &c->id_next :
	       ch == CH_CIDO ? &c->cido_next : &c->cid_next;
}

static void unchain(struct dlg_cell **pp, struct dlg_cell *c, enum chain ch)
{
	for (; *pp; pp = next_of(*pp, ch))
		if (*pp == c) {
			*pp = *next_of(c, ch);
			return;
		}
}

/* Take @c out of the indexes, after it left the slot list (s->count no
 * longer counts it); the arrays shrink as the slot empties out. */
void dlg_idx_del_locked(const struct dlg_table *t, struct dlg_slot *s,
			struct dlg_cell *c)
{
	uint32_t i, k, o;

	if (!s->nb)
		return;
	i = (uint32_t)cell_cid_hash(t, c) & (s->nb - 1);
	k = (uint32_t)id_hash(t, c->h_entry, c->h_id) & (s->nb - 1);
	o = (uint32_t)cido_hash(t, DLG_S(c, callid)) & (s->nb - 1);
	unchain(&s->idx[i], c, CH_CID);
	unchain(&s->idx[s->nb + k], c, CH_ID);
	unchain(&s->idx[2 * s->nb + o], c, CH_CIDO);
	c->cid_next = c->id_next = c->cido_next = NULL;
	/* An empty slot keeps its IDX_MIN buckets: no malloc/free per call
	 * where slots hold a dialog or none (the table frees them). */
	if (s->nb > IDX_MIN && s->count < s->nb / 8)
		(void)rehash(t, s, s->nb / 2);
}

struct dlg_cell *dlg_idx_id_locked(const struct dlg_table *t,
				   const struct dlg_slot *s, uint32_t h_entry,
				   uint32_t h_id)
{
	struct dlg_cell *c;

	if (!s->nb)
		return NULL;
	c = s->idx[s->nb + ((uint32_t)id_hash(t, h_entry, h_id) &
			    (s->nb - 1))];
	for (; c; c = c->id_next)
		if (c->h_id == h_id)
			return c;
	return NULL;
}

struct dlg_cell *dlg_idx_cid_locked(const struct dlg_table *t,
				    const struct dlg_slot *s,
				    struct sip_str cid, struct sip_str tag)
{
	if (!s->nb)
		return NULL;
	return s->idx[(uint32_t)cid_hash(t, cid, tag) & (s->nb - 1)];
}

struct dlg_cell *dlg_idx_callid_locked(const struct dlg_table *t,
				       const struct dlg_slot *s,
				       struct sip_str cid)
{
	if (!s->nb)
		return NULL;
	return s->idx[2 * s->nb + ((uint32_t)cido_hash(t, cid) & (s->nb - 1))];
}

void dlg_idx_free(struct dlg_slot *s)
{
	free(s->idx);
	s->idx = NULL;
	s->nb = 0;
}
