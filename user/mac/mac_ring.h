/*
 * mac_ring.h - the cookie MAC keys of a running sipdlgd.
 *
 * Holds the current key (new dialogs' ";dm=" is made under it) and, after
 * a rotation, the previous one (still accepted by the kernel).  Each key
 * gets a generation number when it becomes current; a dialog remembers
 * the generation its MAC was made under, so the fast-path glue can tell
 * which dialogs the kernel still accepts by MAC and which must fall back
 * to the tight match (SIPDLG_DLGF_NOMAC).  Generation 0 means "no MAC"
 * (a restored dialog, or one made while the MAC was off).
 *
 * Thread-safe: workers sign new dialogs while the control thread rotates.
 */
#ifndef SIPDLG_MAC_RING_H
#define SIPDLG_MAC_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mac/mac_key.h"

struct mac_ring;

/* What the kernel is told (knobs) and what the glue compares against. */
struct mac_state {
	uint64_t cur[2];	/* k0, k1 of the current key */
	uint64_t prev[2];	/* of the previous key, if has_prev */
	bool has_prev;
	uint32_t cur_gen;	/* >= 1 */
	uint32_t prev_gen;	/* if has_prev; < cur_gen */
};

/*
 * Load the key file @path (created with a random key if missing, see
 * mac_key.h).  0, or -errno with a message in @err.
 */
int mac_ring_open(const char *path, struct mac_ring **out, char *err,
		  size_t err_len);
void mac_ring_free(struct mac_ring *r);	/* NULL-safe */
const char *mac_ring_path(const struct mac_ring *r);

void mac_ring_state(struct mac_ring *r, struct mac_state *out);
void mac_ring_keys(struct mac_ring *r, struct mac_keys *out);

/* The MAC of cookie (@h_entry, @h_id) under the current key, and its
 * generation (never 0). */
uint32_t mac_ring_sign(struct mac_ring *r, uint32_t h_entry, uint32_t h_id,
		       uint64_t *mac);
/* The same with the ring as @ring: the dialog core's dlg_config.mac_sign. */
uint32_t mac_ring_sign_ud(void *ring, uint32_t h_entry, uint32_t h_id,
			  uint64_t *mac);

/* Is a MAC of generation @gen accepted under @s? (0: never.) */
bool mac_state_accepts(const struct mac_state *s, uint32_t gen);

/*
 * A rotation in two steps.  mac_ring_next() draws a new random key and
 * says what the keys and the state will be once it is current (the
 * current key becomes the previous one); nothing changes yet.
 * mac_ring_apply() makes @next current (call it only once the kernel
 * accepts it).  @next must come from mac_ring_next() of this ring, with
 * no other rotation in between.
 */
int mac_ring_next(struct mac_ring *r, struct mac_keys *next,
		  struct mac_state *next_state);
void mac_ring_apply(struct mac_ring *r, const struct mac_keys *next);

#endif /* SIPDLG_MAC_RING_H */
