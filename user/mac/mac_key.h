/*
 * mac_key.h - the cookie MAC's key file (xdp.cookie_mac.key_file).
 *
 * The MAC (";dm=", include/sipdlg_hash.h) is SipHash-2-4 under a 128-bit
 * key.  The key lives in a small text file of its own, never in the YAML:
 *
 *   line 1   the current key: exactly 32 hex digits (upper or lower case)
 *   line 2   optional: the previous key, same form; present after a
 *            rotation, still accepted by the kernel for dialogs whose
 *            Record-Route was made under it
 *
 * Each line ends with LF (the last one may lack it); nothing else is
 * allowed: no blank lines, spaces, CR or comments.  A key of all zeros is
 * refused (a placeholder, not a secret).  The file must be a regular file
 * that neither group nor others may read or write (mode & 077 == 0, e.g.
 * 0600): anyone who can read the key can forge cookies.  A missing file is
 * created at start with mode 0600 and a random key from getrandom(); its
 * directory must exist.  A rotation rewrites the file atomically (a 0600
 * temp file in the same directory, fsync, rename).
 */
#ifndef SIPDLG_MAC_KEY_H
#define SIPDLG_MAC_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAC_KEY_BYTES 16
#define MAC_KEY_HEX (2 * MAC_KEY_BYTES)
/* The longest valid file: two keys, two LFs. */
#define MAC_KEY_FILE_MAX (2 * (MAC_KEY_HEX + 1))

struct mac_keys {
	uint8_t cur[MAC_KEY_BYTES];
	uint8_t prev[MAC_KEY_BYTES];
	bool has_prev;
};

/*
 * Parse the file format from @len bytes at @buf.  0, or -EINVAL with
 * "LINE:COL: why" in @err (positions 1-based).
 */
int mac_keys_parse(const char *buf, size_t len, struct mac_keys *out,
		   char *err, size_t err_len);

/*
 * Read and check the key file @path (mode, type, size, format).  0;
 * -ENOENT if it does not exist (nothing written to @err); otherwise
 * -errno / -EINVAL / -EPERM with "PATH: why" or "PATH:LINE:COL: why".
 */
int mac_keys_read(const char *path, struct mac_keys *out, char *err,
		  size_t err_len);

/*
 * mac_keys_read(), or when @path does not exist, create it (mode 0600,
 * O_EXCL) with one fresh random key; *created tells which happened.
 */
int mac_keys_load(const char *path, struct mac_keys *out, bool *created,
		  char *err, size_t err_len);

/* Replace @path atomically with @k (see the top of this file). */
int mac_keys_write(const char *path, const struct mac_keys *k, char *err,
		   size_t err_len);

/* 16 random bytes from getrandom(); never all zero.  0 or -errno. */
int mac_key_random(uint8_t key[MAC_KEY_BYTES]);

/* The SipHash key words: k0 = bytes 0..7, k1 = 8..15, little-endian. */
void mac_key_words(const uint8_t key[MAC_KEY_BYTES], uint64_t *k0,
		   uint64_t *k1);

#endif /* SIPDLG_MAC_KEY_H */
