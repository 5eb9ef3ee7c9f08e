/*
 * fp_pending.c - the set of dialogs waiting for room in the kernel's
 * maps (fp_pending.h): a chained hash on the dialog id plus a list in
 * arrival order.
 */
#include <errno.h>
#include <stdlib.h>

#include "fastpath/fp_pending.h"

static size_t bucket_of(const struct fp_pending *s,
			const struct sipdlg_dlg_key *k)
{
	/* Ids are handed out by the controller, not by a peer: a cheap
	 * mix is enough, no attacker chooses them. */
	uint64_t h = ((uint64_t)k->h_entry << 32 | k->h_id) *
		     0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) & (s->nbuckets - 1);
}

int fp_pending_init(struct fp_pending *s, size_t nbuckets)
{
	size_t n = 1;

	while (n < nbuckets)
		n <<= 1;
	s->buckets = calloc(n, sizeof(*s->buckets));
	if (!s->buckets)
		return -ENOMEM;
	s->nbuckets = n;
	s->head = s->tail = NULL;
	s->n = 0;
	atomic_store(&s->n_hint, 0);
	return 0;
}

void fp_pending_fini(struct fp_pending *s)
{
	struct fp_pend *p = s->head, *next;

	for (; p; p = next) {
		next = p->next;
		free(p);
	}
	free(s->buckets);
	s->buckets = NULL;
	s->head = s->tail = NULL;
	s->n = 0;
	atomic_store(&s->n_hint, 0);
}

struct fp_pend *fp_pending_find(const struct fp_pending *s,
				const struct sipdlg_dlg_key *key)
{
	struct fp_pend *p;

	if (!s->buckets)
		return NULL;
	for (p = s->buckets[bucket_of(s, key)]; p; p = p->hnext)
		if (p->key.h_entry == key->h_entry && p->key.h_id == key->h_id)
			return p;
	return NULL;
}

struct fp_pend *fp_pending_add(struct fp_pending *s,
			       const struct sipdlg_dlg_key *key)
{
	struct fp_pend *p = fp_pending_find(s, key);
	size_t b;

	if (p || !s->buckets)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->key = *key;
	b = bucket_of(s, key);
	p->hnext = s->buckets[b];
	s->buckets[b] = p;
	p->prev = s->tail;
	if (s->tail)
		s->tail->next = p;
	else
		s->head = p;
	s->tail = p;
	s->n++;
	atomic_store_explicit(&s->n_hint, s->n, memory_order_release);
	return p;
}

void fp_pending_del(struct fp_pending *s, struct fp_pend *p)
{
	struct fp_pend **pp = &s->buckets[bucket_of(s, &p->key)];

	while (*pp && *pp != p)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = p->hnext;
	if (p->prev)
		p->prev->next = p->next;
	else
		s->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		s->tail = p->prev;
	s->n--;
	atomic_store_explicit(&s->n_hint, s->n, memory_order_release);
	free(p);
}
