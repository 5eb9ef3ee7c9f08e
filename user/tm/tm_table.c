/*
 * tm_table.c - the transaction table: two keys per tx, per-bucket locks,
 * reference counts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tm/tm.h"

#define RFC3261_COOKIE "z9hG4bK"

struct tm_entry {
	struct tm_entry *next;
	struct tm_tx *tx;
	uint32_t hash;		/* of the key: a lookup skips other keys
				 * without touching their tx */
	int client;		/* 1: keyed by tx->branch, 0: by tx->skey */
};

struct tm_bucket {
	pthread_mutex_t lock;
	struct tm_entry *head;
};

struct tm_table {
	struct tm_bucket *b;
	size_t mask;
	atomic_ullong next_id;
	atomic_long count;
};

/* FNV-1a: short keys, good enough spread for a bucket index. */
static size_t key_hash(const char *k, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)k[i];
		h *= 1099511628211ull;
	}
	return (size_t)(h ^ (h >> 29));
}

struct tm_table *tm_table_alloc(unsigned bits)
{
	struct tm_table *t = calloc(1, sizeof(*t));
	size_t n = (size_t)1 << bits;

	if (!t)
		return NULL;
	t->b = calloc(n, sizeof(*t->b));
	if (!t->b) {
		free(t);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		pthread_mutex_init(&t->b[i].lock, NULL);
	t->mask = n - 1;
	atomic_init(&t->next_id, 1);
	return t;
}

static void tx_destroy(struct tm_tx *tx)
{
	if (tx->follower && tx->follower_release)
		tx->follower_release(tx->follower);
	pthread_mutex_destroy(&tx->lock);
	free(tx->skey);
	free(tx->req);
	free(tx->last_rsp);
	free(tx->out);
	free(tx->cancel);
	free(tx);
}

void tm_table_free(struct tm_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i <= t->mask; i++) {
		struct tm_entry *e = t->b[i].head;
		while (e) {
			struct tm_entry *n = e->next;
			tm_tx_unref(e->tx);
			free(e);
			e = n;
		}
		pthread_mutex_destroy(&t->b[i].lock);
	}
	free(t->b);
	free(t);
}

struct tm_tx *tm_tx_alloc(struct tm_table *t, void *owner)
{
	struct tm_tx *tx = calloc(1, sizeof(*tx));

	if (!tx)
		return NULL;
	pthread_mutex_init(&tx->lock, NULL);
	atomic_init(&tx->ref, 1);
	tx->id = atomic_fetch_add(&t->next_id, 1);
	tx->owner = owner;
	return tx;
}

void tm_tx_ref(struct tm_tx *tx)
{
	atomic_fetch_add(&tx->ref, 1);
}

void tm_tx_unref(struct tm_tx *tx)
{
	if (tx && atomic_fetch_sub(&tx->ref, 1) == 1)
		tx_destroy(tx);
}

static const char *entry_key(const struct tm_entry *e, size_t *len)
{
	if (e->client) {
		*len = e->tx->branch_len;
		return e->tx->branch;
	}
	*len = e->tx->skey_len;
	return e->tx->skey;
}

static struct tm_tx *bucket_find(struct tm_bucket *b, int client,
				 const char *key, size_t len, uint32_t hash)
{
	for (struct tm_entry *e = b->head; e; e = e->next) {
		size_t kl;
		const char *k;

		if (e->hash != hash || e->client != client)
			continue;
		k = entry_key(e, &kl);
		if (kl == len && memcmp(k, key, len) == 0)
			return e->tx;
	}
	return NULL;
}

static int insert(struct tm_table *t, struct tm_tx *tx, int client,
		  struct tm_tx **existing)
{
	size_t len;
	struct tm_entry *e = malloc(sizeof(*e));
	struct tm_bucket *b;
	struct tm_tx *old;
	const char *key;
	size_t h;

	if (!e)
		return -ENOMEM;
	e->tx = tx;
	e->client = client;
	key = entry_key(e, &len);
	h = key_hash(key, len);
	e->hash = (uint32_t)h;
	b = &t->b[h & t->mask];
	pthread_mutex_lock(&b->lock);
	old = bucket_find(b, client, key, len, e->hash);
	if (old) {
		if (existing) {
			tm_tx_ref(old);
			*existing = old;
		}
		pthread_mutex_unlock(&b->lock);
		free(e);
		return -EEXIST;
	}
	tm_tx_ref(tx);
	e->next = b->head;
	b->head = e;
	if (client)
		tx->in_table_c = true;
	else
		tx->in_table_s = true;
	pthread_mutex_unlock(&b->lock);
	if (!client)
		atomic_fetch_add(&t->count, 1);
	return 0;
}

int tm_insert_server(struct tm_table *t, struct tm_tx *tx,
		     struct tm_tx **existing)
{
	return insert(t, tx, 0, existing);
}

int tm_insert_client(struct tm_table *t, struct tm_tx *tx)
{
	return insert(t, tx, 1, NULL);
}

static void remove_key(struct tm_table *t, struct tm_tx *tx, int client)
{
	size_t len;
	struct tm_entry probe = { .tx = tx, .client = client };
	const char *key = entry_key(&probe, &len);
	struct tm_bucket *b = &t->b[key_hash(key, len) & t->mask];
	struct tm_entry **pp, *found = NULL;

	pthread_mutex_lock(&b->lock);
	for (pp = &b->head; *pp; pp = &(*pp)->next) {
		if ((*pp)->tx == tx && (*pp)->client == client) {
			found = *pp;
			*pp = found->next;
			break;
		}
	}
	pthread_mutex_unlock(&b->lock);
	if (found) {
		free(found);
		if (!client)
			atomic_fetch_sub(&t->count, 1);
		tm_tx_unref(tx);
	}
}

/* Called with tx->lock held: the flags are guarded by it. */
void tm_remove(struct tm_table *t, struct tm_tx *tx)
{
	if (tx->in_table_s) {
		tx->in_table_s = false;
		remove_key(t, tx, 0);
	}
	if (tx->in_table_c) {
		tx->in_table_c = false;
		remove_key(t, tx, 1);
	}
}

static struct tm_tx *lookup(struct tm_table *t, int client, const char *key,
			    size_t len)
{
	size_t h = key_hash(key, len);
	struct tm_bucket *b = &t->b[h & t->mask];
	struct tm_tx *tx;

	pthread_mutex_lock(&b->lock);
	tx = bucket_find(b, client, key, len, (uint32_t)h);
	if (tx)
		tm_tx_ref(tx);
	pthread_mutex_unlock(&b->lock);
	return tx;
}

struct tm_tx *tm_lookup_server(struct tm_table *t, const char *key,
			       size_t len)
{
	return lookup(t, 0, key, len);
}

struct tm_tx *tm_lookup_client(struct tm_table *t, const char *branch,
			       size_t len)
{
	return lookup(t, 1, branch, len);
}

size_t tm_count(struct tm_table *t)
{
	long n = atomic_load(&t->count);

	return n > 0 ? (size_t)n : 0;
}

static size_t put(char *key, size_t at, struct sip_str s)
{
	if (at + s.len + 1 > TM_KEY_MAX)
		return TM_KEY_MAX + 1;
	if (s.len)
		memcpy(key + at, s.p, s.len);
	key[at + s.len] = '|';
	return at + s.len + 1;
}

size_t tm_server_key(const struct sip_msg *m, enum sip_method as_method,
		     char *key)
{
	const char *cls;
	char num[12];
	size_t at = 0;
	struct sip_str br = m->via.branch;

	switch (as_method) {
	case SIP_METHOD_INVITE:
	case SIP_METHOD_ACK:
		cls = "I";
		break;
	case SIP_METHOD_CANCEL:
		cls = "C";
		break;
	default:
		cls = sip_method_name(as_method);
		if (as_method == SIP_METHOD_OTHER)
			cls = NULL;
		break;
	}
	if (br.len > 7 && memcmp(br.p, RFC3261_COOKIE, 7) == 0) {
		/* RFC 3261 17.2.3: branch, sent-by, method. */
		at = put(key, at, br);
		at = put(key, at, m->via.host);
		snprintf(num, sizeof(num), "%u",
			 m->via.has_port ? m->via.port : 0);
		at = put(key, at, sip_str_c(num));
	} else {
		/* RFC 2543: Call-ID, CSeq number, From tag, R-URI, top Via.
		 * (The To-tag is left out so that the ACK of a non-2xx, which
		 * carries the tag of our answer, finds its INVITE.) */
		key[at++] = '~';
		at = put(key, at, m->call_id);
		snprintf(num, sizeof(num), "%u", m->cseq.num);
		at = put(key, at, sip_str_c(num));
		at = put(key, at, m->from.tag);
		at = put(key, at, m->ruri_str);
		at = put(key, at, m->via.raw);
	}
	at = put(key, at, cls ? sip_str_c(cls) : m->cseq.method_str);
	return at > TM_KEY_MAX ? 0 : at;
}
