/*
 * test_mac_key.c - the cookie MAC key file (user/mac/mac_key.c) and the
 * key ring of a running daemon (user/mac/mac_ring.c): the format, every
 * refusal with its position, creation with mode 0600, the rotation's
 * rewrite, signing and generations.
 *
 * Files go to a private temp directory, removed at the end of each test.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/types.h>

#include "mac/mac_key.h"
#include "mac/mac_ring.h"
#include "sipdlg_hash.h"

#define K1 "000102030405060708090a0b0c0d0e0f"
#define K2 "F0E1D2C3B4A5968778695A4B3C2D1E0F"

struct dir {
	char path[64];
	char file[96];
};

static void dir_up(struct dir *d)
{
	snprintf(d->path, sizeof(d->path), "/tmp/sipdlg-mackey.XXXXXX");
	assert_non_null(mkdtemp(d->path));
	snprintf(d->file, sizeof(d->file), "%s/mac.key", d->path);
}

/* Remove every file in the directory, then the directory. */
static void dir_down(struct dir *d)
{
	DIR *dd = opendir(d->path);
	struct dirent *e;
	char p[384];

	assert_non_null(dd);
	while ((e = readdir(dd))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", d->path, e->d_name);
		unlink(p);
	}
	closedir(dd);
	assert_int_equal(rmdir(d->path), 0);
}

static void put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static size_t files_in(const char *path)
{
	DIR *dd = opendir(path);
	struct dirent *e;
	size_t n = 0;

	while ((e = readdir(dd)))
		n += e->d_name[0] != '.';
	closedir(dd);
	return n;
}

/* --- the format ------------------------------------------------------------ */

static void test_parse_good(void **state)
{
	struct mac_keys k;
	char err[256];

	assert_int_equal(mac_keys_parse(K1 "\n", 33, &k, err, sizeof(err)), 0);
	assert_false(k.has_prev);
	for (int i = 0; i < 16; i++)
		assert_int_equal(k.cur[i], i);
	/* no final LF; upper case; a second line is the previous key */
	assert_int_equal(mac_keys_parse(K1 "\n" K2, 65, &k, err, sizeof(err)),
			 0);
	assert_true(k.has_prev);
	assert_int_equal(k.prev[0], 0xf0);
	assert_int_equal(k.prev[15], 0x0f);
	assert_int_equal(mac_keys_parse(K2, 32, &k, err, sizeof(err)), 0);
	assert_int_equal(k.cur[1], 0xe1);
}

/* @text must be refused with a message that starts with @want. */
static void refused(const char *text, const char *want)
{
	struct mac_keys k;
	char err[256] = "";

	memset(&k, 0x55, sizeof(k));
	assert_int_equal(mac_keys_parse(text, strlen(text), &k, err,
					sizeof(err)),
			 -EINVAL);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("'%s': got '%s', want '%s...'", text, err, want);
}

static void test_parse_bad(void **state)
{
	refused("", "1:1: empty");
	refused("0123\n", "1:1: the key has 4 hex digits, expected 32");
	refused(K1 "0\n", "1:1: the key has 33 hex digits");
	refused("00010203040506070809g a0b0c0d0e0f\n",
		"1:21: 'g' is not a hex digit");
	refused(K1 "\r\n", "1:33: byte 0x0d is not a hex digit");
	refused(" " K1 "\n", "1:1: byte 0x20 is not a hex digit");
	refused("# key\n" K1 "\n", "1:1: '#' is not a hex digit");
	refused(K1 "\n\n", "2:1: an empty line");
	refused(K1 "\n" K2 "\n" K1 "\n", "3:1: more than two lines");
	refused("00000000000000000000000000000000\n", "1:1: an all-zero key");
	refused(K1 "\n00000000000000000000000000000000\n",
		"2:1: an all-zero key");
}

static void test_key_words_check_value(void **state)
{
	struct mac_keys k;
	uint64_t k0, k1;
	char err[256];

	assert_int_equal(mac_keys_parse(K1, 32, &k, err, sizeof(err)), 0);
	mac_key_words(k.cur, &k0, &k1);
	assert_true(k0 == 0x0706050403020100ULL);
	assert_true(k1 == 0x0f0e0d0c0b0a0908ULL);
	/* the check value of include/sipdlg_hash.h */
	assert_true(sipdlg_dlg_mac(k0, k1, 0x03020100, 0x07060504) ==
		    0x93f5f5799a932462ULL);
}

/* --- the file ---------------------------------------------------------------- */

static void test_read_refusals(void **state)
{
	struct mac_keys k;
	struct dir d;
	char err[512];

	dir_up(&d);
	assert_int_equal(mac_keys_read(d.file, &k, err, sizeof(err)), -ENOENT);

	put(d.file, K1 "\n", 0644);
	assert_int_equal(mac_keys_read(d.file, &k, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "mode 0644"));
	assert_non_null(strstr(err, "chmod 600"));
	put(d.file, K1 "\n", 0640);
	assert_int_equal(mac_keys_read(d.file, &k, err, sizeof(err)), -EPERM);
	put(d.file, K1 "\n", 0602);	/* world-writable: also refused */
	assert_int_equal(mac_keys_read(d.file, &k, err, sizeof(err)), -EPERM);

	put(d.file, K1 "x\n", 0600);
	assert_int_equal(mac_keys_read(d.file, &k, err, sizeof(err)), -EINVAL);
	/* "PATH:LINE:COL: why" */
	assert_true(strncmp(err, d.file, strlen(d.file)) == 0);
	assert_string_equal(err + strlen(d.file),
			    ":1:33: 'x' is not a hex digit");

	put(d.file, K1 "\n" K1 "\n" K1 "\n" K1, 0600);	/* too long */
	assert_int_equal(mac_keys_read(d.file, &k, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer than a key file"));

	assert_int_equal(mac_keys_read(d.path, &k, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));

	put(d.file, K1 "\n" K2 "\n", 0400);
	assert_int_equal(mac_keys_read(d.file, &k, err, sizeof(err)), 0);
	assert_true(k.has_prev);
	dir_down(&d);
}

static void test_create_0600(void **state)
{
	struct mac_keys k, again;
	mode_t old = umask(0);	/* a lax umask must not leak into the mode */
	struct stat st;
	struct dir d;
	char err[512];
	bool created;

	dir_up(&d);
	assert_int_equal(mac_keys_load(d.file, &k, &created, err, sizeof(err)),
			 0);
	umask(old);
	assert_true(created);
	assert_false(k.has_prev);
	assert_int_equal(stat(d.file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 33);
	/* read back the same key, not created again */
	assert_int_equal(mac_keys_load(d.file, &again, &created, err,
				       sizeof(err)),
			 0);
	assert_false(created);
	assert_memory_equal(k.cur, again.cur, MAC_KEY_BYTES);
	dir_down(&d);

	/* no directory: a clear error, nothing created */
	assert_int_equal(mac_keys_load("/nonexistent-sipdlg/mac.key", &k,
				       &created, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "directory does not exist"));
}

static void test_rewrite_for_rotation(void **state)
{
	struct mac_keys k, back;
	struct stat st;
	struct dir d;
	char err[512];

	dir_up(&d);
	put(d.file, K1 "\n", 0600);
	assert_int_equal(mac_keys_read(d.file, &k, err, sizeof(err)), 0);
	memcpy(k.prev, k.cur, MAC_KEY_BYTES);
	assert_int_equal(mac_key_random(k.cur), 0);
	k.has_prev = true;
	assert_int_equal(mac_keys_write(d.file, &k, err, sizeof(err)), 0);
	assert_int_equal(mac_keys_read(d.file, &back, err, sizeof(err)), 0);
	assert_true(back.has_prev);
	assert_memory_equal(back.cur, k.cur, MAC_KEY_BYTES);
	assert_memory_equal(back.prev, k.prev, MAC_KEY_BYTES);
	assert_int_equal(stat(d.file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 66);
	assert_int_equal(files_in(d.path), 1);	/* no temp file left */
	dir_down(&d);
}

/* --- the ring ------------------------------------------------------------------ */

static void test_ring_sign_and_rotate(void **state)
{
	struct mac_state st, next_st;
	struct mac_keys next, now;
	struct mac_ring *r;
	struct dir d;
	char err[512];
	uint64_t mac, k0, k1;

	dir_up(&d);
	put(d.file, K1 "\n", 0600);
	assert_int_equal(mac_ring_open(d.file, &r, err, sizeof(err)), 0);
	assert_string_equal(mac_ring_path(r), d.file);
	mac_ring_state(r, &st);
	assert_false(st.has_prev);
	assert_int_equal(st.cur_gen, 2);
	assert_int_equal(mac_ring_sign(r, 0x03020100, 0x07060504, &mac), 2);
	assert_true(mac == 0x93f5f5799a932462ULL);
	assert_true(mac_state_accepts(&st, 2));
	assert_false(mac_state_accepts(&st, 0));
	assert_false(mac_state_accepts(&st, 1));

	/* next: nothing changes until apply */
	mac_ring_keys(r, &now);
	assert_int_equal(mac_ring_next(r, &next, &next_st), 0);
	assert_true(next.has_prev);
	assert_memory_equal(next.prev, now.cur, MAC_KEY_BYTES);
	assert_int_equal(next_st.cur_gen, 3);
	assert_int_equal(next_st.prev_gen, 2);
	assert_true(next_st.prev[0] == 0x0706050403020100ULL);
	assert_int_equal(mac_ring_sign(r, 1, 2, &mac), 2);
	mac_ring_apply(r, &next);
	mac_ring_keys(r, &now);
	assert_memory_equal(now.cur, next.cur, MAC_KEY_BYTES);
	mac_ring_state(r, &st);
	assert_int_equal(st.cur_gen, 3);
	assert_true(st.has_prev && st.prev_gen == 2);
	assert_true(mac_state_accepts(&st, 2) && mac_state_accepts(&st, 3));
	mac_key_words(next.cur, &k0, &k1);
	assert_int_equal(mac_ring_sign(r, 1, 2, &mac), 3);
	assert_true(mac == sipdlg_dlg_mac(k0, k1, 1, 2));

	/* a second rotation: generation 2 is no longer accepted */
	assert_int_equal(mac_ring_next(r, &next, &next_st), 0);
	mac_ring_apply(r, &next);
	mac_ring_state(r, &st);
	assert_false(mac_state_accepts(&st, 2));
	assert_true(mac_state_accepts(&st, 3) && mac_state_accepts(&st, 4));
	mac_ring_free(r);
	mac_ring_free(NULL);

	/* a file with a previous key: it gets generation 1 */
	put(d.file, K1 "\n" K2 "\n", 0600);
	assert_int_equal(mac_ring_open(d.file, &r, err, sizeof(err)), 0);
	mac_ring_state(r, &st);
	assert_true(st.has_prev);
	assert_int_equal(st.prev_gen, 1);
	mac_ring_free(r);

	/* a bad file: the message of mac_keys_read, nothing allocated */
	put(d.file, K1 "\n", 0666);
	assert_int_equal(mac_ring_open(d.file, &r, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "chmod 600"));
	dir_down(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_key_words_check_value),
		cmocka_unit_test(test_read_refusals),
		cmocka_unit_test(test_create_0600),
		cmocka_unit_test(test_rewrite_for_rotation),
		cmocka_unit_test(test_ring_sign_and_rotate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
