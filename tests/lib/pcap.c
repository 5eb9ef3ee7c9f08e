// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pcap.c - classic pcap and pcapng frame reader for tests (see pcap.h).
 */
#include "lib/pcap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAP_MAX_FILE (64u << 20)
#define CAP_MAX_IFACES 16

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAPNG_SHB 0x0a0d0d0au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_OPB 0x00000002u	/* obsolete packet block */
#define PCAPNG_SPB 0x00000003u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_BOM 0x1a2b3c4du

enum cap_format {
	CAP_CLASSIC = 1,
	CAP_PCAPNG = 2,
};

struct capfile {
	uint8_t *buf;
	size_t len;
	size_t pos;		/* next record or block */
	enum cap_format format;
	int swap;		/* file byte order differs from ours */
	uint32_t linktype;	/* classic: the one link type */
	uint32_t n_ifaces;	/* pcapng: interfaces of this section */
	uint32_t iface_link[CAP_MAX_IFACES];
	uint32_t iface_snap[CAP_MAX_IFACES];
};

static uint32_t rd32_raw(const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return v;
}

static uint32_t bswap32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) |
	       (v << 24);
}

static uint32_t rd32(const struct capfile *f, const uint8_t *b)
{
	uint32_t v = rd32_raw(b);

	return f->swap ? bswap32(v) : v;
}

static uint16_t rd16(const struct capfile *f, const uint8_t *b)
{
	uint16_t v;

	memcpy(&v, b, 2);
	return f->swap ? (uint16_t)((v >> 8) | (v << 8)) : v;
}

/* Read all of @path into a malloc'd buffer. */
static int cap_slurp(const char *path, uint8_t **out, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, got;
	int err = 0;

	if (!fp)
		return -errno;
	for (;;) {
		if (n == cap) {
			uint8_t *nb;

			if (cap >= CAP_MAX_FILE) {
				err = -EFBIG;
				break;
			}
			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (!nb) {
				err = -ENOMEM;
				break;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, fp);
		n += got;
		if (got == 0) {
			if (ferror(fp))
				err = -EIO;
			break;
		}
	}
	fclose(fp);
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Parse a pcapng section header block at f->pos (byte order, reset ifaces). */
static int cap_ng_section(struct capfile *f)
{
	const uint8_t *b = f->buf + f->pos;
	uint32_t bom;

	if (f->len - f->pos < 28)
		return -EBADMSG;
	bom = rd32_raw(b + 8);
	if (bom == PCAPNG_BOM)
		f->swap = 0;
	else if (bom == bswap32(PCAPNG_BOM))
		f->swap = 1;
	else
		return -EBADMSG;
	f->n_ifaces = 0;
	return 0;
}

int capfile_open(const char *path, struct capfile **out)
{
	struct capfile *f;
	uint32_t magic;
	int err;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	err = cap_slurp(path, &f->buf, &f->len);
	if (err) {
		free(f);
		return err;
	}
	err = -EBADMSG;
	if (f->len < 24)
		goto fail;
	magic = rd32_raw(f->buf);
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS ||
	    magic == bswap32(PCAP_MAGIC_US) || magic == bswap32(PCAP_MAGIC_NS)) {
		f->format = CAP_CLASSIC;
		f->swap = magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS;
		f->linktype = rd32(f, f->buf + 20) & 0x0fffffff;
		f->pos = 24;
	} else if (magic == PCAPNG_SHB) {
		f->format = CAP_PCAPNG;
		f->pos = 0;
		if (cap_ng_section(f))
			goto fail;
	} else {
		goto fail;
	}
	*out = f;
	return 0;
fail:
	capfile_free(f);
	return err;
}

static int cap_next_classic(struct capfile *f, struct capframe *fr)
{
	const uint8_t *b;
	uint32_t incl, orig;

	if (f->pos == f->len)
		return 0;
	if (f->len - f->pos < 16)
		return -EBADMSG;
	b = f->buf + f->pos;
	incl = rd32(f, b + 8);
	orig = rd32(f, b + 12);
	if (incl > f->len - f->pos - 16)
		return -EBADMSG;
	fr->data = b + 16;
	fr->len = incl;
	fr->orig_len = orig;
	fr->linktype = f->linktype;
	f->pos += 16 + (size_t)incl;
	return 1;
}

static int cap_next_ng(struct capfile *f, struct capframe *fr)
{
	const uint8_t *b;
	uint32_t type, blen, ifc, caplen;

	while (f->pos < f->len) {
		if (f->len - f->pos < 12)
			return -EBADMSG;
		b = f->buf + f->pos;
		type = rd32_raw(b);
		if (type == PCAPNG_SHB) {
			if (cap_ng_section(f))
				return -EBADMSG;
		} else {
			type = rd32(f, b);
		}
		blen = rd32(f, b + 4);
		if (blen < 12 || blen % 4 || blen > f->len - f->pos)
			return -EBADMSG;
		f->pos += blen;

		switch (type) {
		case PCAPNG_IDB:
			if (blen < 20)
				return -EBADMSG;
			if (f->n_ifaces < CAP_MAX_IFACES) {
				f->iface_link[f->n_ifaces] = rd16(f, b + 8);
				f->iface_snap[f->n_ifaces] = rd32(f, b + 12);
			}
			f->n_ifaces++;
			break;
		case PCAPNG_EPB:
		case PCAPNG_OPB:
			if (blen < 32)
				return -EBADMSG;
			ifc = type == PCAPNG_EPB ? rd32(f, b + 8) : rd16(f, b + 8);
			caplen = rd32(f, b + 20);
			if (ifc >= f->n_ifaces || ifc >= CAP_MAX_IFACES ||
			    caplen > blen - 32)
				return -EBADMSG;
			fr->data = b + 28;
			fr->len = caplen;
			fr->orig_len = rd32(f, b + 24);
			fr->linktype = f->iface_link[ifc];
			return 1;
		case PCAPNG_SPB:
			if (blen < 16 || f->n_ifaces == 0)
				return -EBADMSG;
			fr->orig_len = rd32(f, b + 8);
			fr->len = fr->orig_len;
			if (f->iface_snap[0] && fr->len > f->iface_snap[0])
				fr->len = f->iface_snap[0];
			if (fr->len > blen - 16)
				return -EBADMSG;
			fr->data = b + 12;
			fr->linktype = f->iface_link[0];
			return 1;
		default:
			break;		/* statistics, name resolution, ... */
		}
	}
	return 0;
}

int capfile_next(struct capfile *f, struct capframe *fr)
{
	if (f->format == CAP_CLASSIC)
		return cap_next_classic(f, fr);
	return cap_next_ng(f, fr);
}

void capfile_free(struct capfile *f)
{
	if (!f)
		return;
	free(f->buf);
	free(f);
}
