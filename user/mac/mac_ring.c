/*
 * mac_ring.c - the MAC keys in use, their generations, signing.
 */
#define LOG_TAG "mac"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "core/log.h"
#include "mac/mac_ring.h"
#include "sipdlg_hash.h"

struct mac_ring {
	pthread_mutex_t lock;
	char *path;
	struct mac_keys keys;
	struct mac_state st;
};

/* @st from @k, the current key being generation @cur_gen. */
static void state_of(const struct mac_keys *k, uint32_t cur_gen,
		     struct mac_state *st)
{
	memset(st, 0, sizeof(*st));
	mac_key_words(k->cur, &st->cur[0], &st->cur[1]);
	st->cur_gen = cur_gen;
	st->has_prev = k->has_prev;
	if (k->has_prev) {
		mac_key_words(k->prev, &st->prev[0], &st->prev[1]);
		st->prev_gen = cur_gen - 1;
	}
}

int mac_ring_open(const char *path, struct mac_ring **out, char *err,
		  size_t err_len)
{
	struct mac_ring *r = calloc(1, sizeof(*r));
	bool created;
	int rc;

	if (!r || !(r->path = strdup(path))) {
		free(r);
		snprintf(err, err_len, "cookie_mac: out of memory");
		return -ENOMEM;
	}
	rc = mac_keys_load(path, &r->keys, &created, err, err_len);
	if (rc) {
		free(r->path);
		free(r);
		return rc;
	}
	if (created)
		log_notice("cookie MAC: created the key file %s (mode 0600, "
			   "a new random key)", path);
	/* A previous key read from the file gets a generation of its own
	 * that no dialog of this run has: restored dialogs are gen 0. */
	state_of(&r->keys, 2, &r->st);
	pthread_mutex_init(&r->lock, NULL);
	*out = r;
	return 0;
}

void mac_ring_free(struct mac_ring *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	explicit_bzero(&r->keys, sizeof(r->keys));
	explicit_bzero(&r->st, sizeof(r->st));
	free(r->path);
	free(r);
}

const char *mac_ring_path(const struct mac_ring *r)
{
	return r->path;
}

void mac_ring_state(struct mac_ring *r, struct mac_state *out)
{
	pthread_mutex_lock(&r->lock);
	*out = r->st;
	pthread_mutex_unlock(&r->lock);
}

void mac_ring_keys(struct mac_ring *r, struct mac_keys *out)
{
	pthread_mutex_lock(&r->lock);
	*out = r->keys;
	pthread_mutex_unlock(&r->lock);
}

uint32_t mac_ring_sign(struct mac_ring *r, uint32_t h_entry, uint32_t h_id,
		       uint64_t *mac)
{
	uint32_t gen;

	pthread_mutex_lock(&r->lock);
	*mac = sipdlg_dlg_mac(r->st.cur[0], r->st.cur[1], h_entry, h_id);
	gen = r->st.cur_gen;
	pthread_mutex_unlock(&r->lock);
	return gen;
}

uint32_t mac_ring_sign_ud(void *ring, uint32_t h_entry, uint32_t h_id,
			  uint64_t *mac)
{
	return mac_ring_sign(ring, h_entry, h_id, mac);
}

bool mac_state_accepts(const struct mac_state *s, uint32_t gen)
{
	return gen != 0 &&
	       (gen == s->cur_gen || (s->has_prev && gen == s->prev_gen));
}

int mac_ring_next(struct mac_ring *r, struct mac_keys *next,
		  struct mac_state *next_state)
{
	struct mac_keys k;
	uint32_t gen;
	int rc;

	memset(&k, 0, sizeof(k));
	rc = mac_key_random(k.cur);
	if (rc)
		return rc;
	pthread_mutex_lock(&r->lock);
	memcpy(k.prev, r->keys.cur, MAC_KEY_BYTES);
	gen = r->st.cur_gen + 1;
	pthread_mutex_unlock(&r->lock);
	k.has_prev = true;
	state_of(&k, gen, next_state);
	*next = k;
	return 0;
}

void mac_ring_apply(struct mac_ring *r, const struct mac_keys *next)
{
	pthread_mutex_lock(&r->lock);
	r->keys = *next;
	state_of(next, r->st.cur_gen + 1, &r->st);
	pthread_mutex_unlock(&r->lock);
}
