/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pcap.h - read the frames of a capture file, for tests.
 *
 * Both formats tcpdump and dumpcap write are understood: classic pcap
 * (24-byte global header, 16-byte record headers, either byte order,
 * micro- or nanosecond stamps) and pcapng (section header, interface
 * description, enhanced and simple packet blocks; other blocks skipped).
 * The whole file is read into memory at open; frames point into it.
 *
 *	struct capfile *f;
 *	struct capframe fr;
 *	if (capfile_open(path, &f) == 0) {
 *		while (capfile_next(f, &fr) == 1)
 *			use(fr.data, fr.len);
 *		capfile_free(f);
 *	}
 */
#ifndef SIPDLG_TESTS_PCAP_H
#define SIPDLG_TESTS_PCAP_H

#include <stddef.h>
#include <stdint.h>

#define CAP_LINKTYPE_ETHERNET 1

struct capfile;

struct capframe {
	const uint8_t *data;	/* points into the capfile; valid until free */
	size_t len;		/* bytes captured */
	size_t orig_len;	/* bytes on the wire */
	uint32_t linktype;	/* CAP_LINKTYPE_* of the frame's interface */
};

/* Open and read @path.  0 and *out set, or -errno (-EBADMSG: not a capture). */
int capfile_open(const char *path, struct capfile **out);
/* The next frame into *fr: 1, or 0 at the end, or -EBADMSG if malformed. */
int capfile_next(struct capfile *f, struct capframe *fr);
/* NULL-safe. */
void capfile_free(struct capfile *f);

#endif /* SIPDLG_TESTS_PCAP_H */
