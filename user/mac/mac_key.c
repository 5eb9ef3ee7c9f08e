/*
 * mac_key.c - read, check, create and rewrite the cookie MAC key file.
 * The format and the rules are described in mac_key.h; every refusal says
 * where and why, and what to do about it.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mac/mac_key.h"

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* One key line [p, p + n) (no LF) of line @line into @key. */
static int parse_line(const char *p, size_t n, unsigned line,
		      uint8_t key[MAC_KEY_BYTES], char *err, size_t err_len)
{
	uint8_t any = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (hexval((char)ch) >= 0)
			continue;
		if (ch > 0x20 && ch < 0x7f)
			snprintf(err, err_len, "%u:%zu: '%c' is not a hex digit",
				 line, i + 1, ch);
		else
			snprintf(err, err_len,
				 "%u:%zu: byte 0x%02x is not a hex digit (no "
				 "spaces, CR or comments in a key file)",
				 line, i + 1, ch);
		return -EINVAL;
	}
	if (n != MAC_KEY_HEX) {
		snprintf(err, err_len,
			 "%u:1: %s%zu hex digits, expected %d (a 128-bit key)",
			 line, n ? "the key has " : "an empty line: ", n,
			 MAC_KEY_HEX);
		return -EINVAL;
	}
	for (size_t i = 0; i < MAC_KEY_BYTES; i++) {
		key[i] = (uint8_t)(hexval(p[2 * i]) << 4 | hexval(p[2 * i + 1]));
		any |= key[i];
	}
	if (!any) {
		snprintf(err, err_len,
			 "%u:1: an all-zero key is a placeholder, not a "
			 "secret; delete the file to have a random key made",
			 line);
		return -EINVAL;
	}
	return 0;
}

int mac_keys_parse(const char *buf, size_t len, struct mac_keys *out,
		   char *err, size_t err_len)
{
	struct mac_keys k;
	const char *p = buf, *end = buf + len;
	unsigned line = 0;
	int r;

	memset(&k, 0, sizeof(k));
	if (len == 0) {
		snprintf(err, err_len, "1:1: empty; expected a line of %d hex "
			 "digits", MAC_KEY_HEX);
		return -EINVAL;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (++line > 2) {
			snprintf(err, err_len,
				 "%u:1: more than two lines (line 1: the "
				 "current key, line 2: the previous one)",
				 line);
			return -EINVAL;
		}
		r = parse_line(p, n, line, line == 1 ? k.cur : k.prev, err,
			       err_len);
		if (r)
			return r;
		p += n + (nl != NULL);
	}
	k.has_prev = line == 2;
	*out = k;
	return 0;
}

int mac_keys_read(const char *path, struct mac_keys *out, char *err,
		  size_t err_len)
{
	char buf[MAC_KEY_FILE_MAX + 1], why[160];
	struct stat st;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		if (r != -ENOENT)
			snprintf(err, err_len, "%s: cannot open: %s", path,
				 strerror(-r));
		return r;
	}
	if (fstat(fd, &st) != 0) {
		r = -errno;
		snprintf(err, err_len, "%s: %s", path, strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "%s: not a regular file", path);
		r = -EINVAL;
		goto out;
	}
	if (st.st_mode & 077) {
		snprintf(err, err_len,
			 "%s: readable or writable by group or others (mode "
			 "%04o); whoever reads the key can forge cookies: run "
			 "'chmod 600 %s'",
			 path, (unsigned)(st.st_mode & 07777), path);
		r = -EPERM;
		goto out;
	}
	n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		r = -errno;
		snprintf(err, err_len, "%s: cannot read: %s", path,
			 strerror(-r));
		goto out;
	}
	if ((size_t)n > MAC_KEY_FILE_MAX) {
		snprintf(err, err_len,
			 "%s: longer than a key file (at most two lines of %d "
			 "hex digits)",
			 path, MAC_KEY_HEX);
		r = -EINVAL;
		goto out;
	}
	r = mac_keys_parse(buf, (size_t)n, out, why, sizeof(why));
	if (r)
		snprintf(err, err_len, "%s:%s", path, why);
out:
	close(fd);
	return r;
}

int mac_key_random(uint8_t key[MAC_KEY_BYTES])
{
	uint8_t any = 0;

	do {
		size_t got = 0;

		while (got < MAC_KEY_BYTES) {
			ssize_t n = getrandom(key + got, MAC_KEY_BYTES - got, 0);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			got += (size_t)n;
		}
		any = 0;
		for (size_t i = 0; i < MAC_KEY_BYTES; i++)
			any |= key[i];
	} while (!any);
	return 0;
}

static void key_hex(const uint8_t key[MAC_KEY_BYTES], char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < MAC_KEY_BYTES; i++) {
		out[2 * i] = digits[key[i] >> 4];
		out[2 * i + 1] = digits[key[i] & 0xf];
	}
}

/* The file's text for @k into @buf (MAC_KEY_FILE_MAX bytes); its length. */
static size_t format_keys(const struct mac_keys *k, char *buf)
{
	size_t n = 0;

	key_hex(k->cur, buf);
	n += MAC_KEY_HEX;
	buf[n++] = '\n';
	if (k->has_prev) {
		key_hex(k->prev, buf + n);
		n += MAC_KEY_HEX;
		buf[n++] = '\n';
	}
	return n;
}

/* Write all of @buf to @fd, fsync; 0 or -errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return fsync(fd) == 0 ? 0 : -errno;
}

int mac_keys_load(const char *path, struct mac_keys *out, bool *created,
		  char *err, size_t err_len)
{
	char buf[MAC_KEY_FILE_MAX];
	struct mac_keys k;
	size_t len;
	int fd, r;

	*created = false;
	r = mac_keys_read(path, out, err, err_len);
	if (r != -ENOENT)
		return r;
	memset(&k, 0, sizeof(k));
	r = mac_key_random(k.cur);
	if (r) {
		snprintf(err, err_len, "%s: no random key: getrandom: %s",
			 path, strerror(-r));
		return r;
	}
	/* O_EXCL: never overwrite a file that appeared meanwhile. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		r = -errno;
		snprintf(err, err_len, "%s: cannot create the key file: %s%s",
			 path, strerror(-r),
			 r == -ENOENT ? " (its directory does not exist)" : "");
		return r;
	}
	/* 0600 whatever the umask said. */
	len = format_keys(&k, buf);
	r = fchmod(fd, 0600) == 0 ? write_all(fd, buf, len) : -errno;
	close(fd);
	if (r) {
		unlink(path);
		snprintf(err, err_len, "%s: cannot write the key file: %s",
			 path, strerror(-r));
		return r;
	}
	*out = k;
	*created = true;
	return 0;
}

int mac_keys_write(const char *path, const struct mac_keys *k, char *err,
		   size_t err_len)
{
	char tmp[4096 + 16], buf[MAC_KEY_FILE_MAX], dir[4096];
	size_t len = format_keys(k, buf);
	int fd, r;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		snprintf(err, err_len, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	/* mkstemp makes the file 0600 and unique. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, err_len, "%s: cannot create a temporary file "
			 "beside it: %s", path, strerror(-r));
		return r;
	}
	r = fchmod(fd, 0600) == 0 ? write_all(fd, buf, len) : -errno;
	close(fd);
	if (!r && rename(tmp, path) != 0)
		r = -errno;
	if (r) {
		unlink(tmp);
		snprintf(err, err_len, "%s: cannot replace the key file: %s",
			 path, strerror(-r));
		return r;
	}
	/* The rename itself must survive a crash: sync the directory. */
	snprintf(dir, sizeof(dir), "%s", path);
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

void mac_key_words(const uint8_t key[MAC_KEY_BYTES], uint64_t *k0,
		   uint64_t *k1)
{
	uint64_t a = 0, b = 0;

	for (int i = 7; i >= 0; i--) {
		a = a << 8 | key[i];
		b = b << 8 | key[8 + i];
	}
	*k0 = a;
	*k1 = b;
}
