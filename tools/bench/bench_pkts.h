/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bench_pkts.h - the frames and the dialog the XDP measurements use.
 *
 * One table shared by bench_xdp (time), bpf_icount (executed
 * instructions) and tests/bpf/test_xdp_interp.c (the interpreter against
 * the kernel), so that a row means the same frame everywhere.
 */
#ifndef SIPDLG_BENCH_PKTS_H
#define SIPDLG_BENCH_PKTS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/pkt.h"

/* The MAC key of the MAC-on program (mac_key[0], mac_key[1]). */
#define BENCH_MAC_K0 0x0123456789abcdefULL
#define BENCH_MAC_K1 0xfedcba9876543210ULL
/* The UDP port the programs treat as SIP. */
#define BENCH_SIP_PORT 5060

struct bench_row {
	const char *name;
	const char *sip; /* UDP payload; NULL: 64 bytes of DNS query */
	int mac;	 /* for the MAC-on program; {DM} is its MAC */
	int floor;	 /* timed on the trivial program */
	int ipv6;	 /* IPv6 instead of IPv4 */
	int vlans;	 /* VLAN tags (pkt_sip_opts.vlans) */
	uint16_t dport;
	int relay; /* for the relay-on program (bench_put_relay_hops()) */
};

extern const struct bench_row bench_rows[];
extern const size_t bench_nrows;

/* The in-dialog BYE (cookie in the first Route), MAC off. */
extern const char bench_bye[];

/*
 * @sip with "{DM}" replaced by the MAC of the benchmark dialog under the
 * bench key, into @out (@outlen bytes, NUL-terminated): its length.
 */
size_t bench_payload(const char *sip, char *out, size_t outlen);

/* The whole frame of row @r.  0 or -errno. */
int bench_frame(const struct bench_row *r, struct pkt *p);

/* The benchmark dialog, confirmed, into the "dialogs" map @fd. */
int bench_put_dialog(int fd);

/* relay_methods of the relay-on program: INFO only. */
#define BENCH_RELAY_METHODS (1u << 6) /* SDM_INFO */

/*
 * The benchmark dialog's relay next hops (both directions over IPv4,
 * ifindex @ifindex) into the "relay_hops" map @fd.  0 or -errno.
 */
int bench_put_relay_hops(int fd, unsigned ifindex);

#endif /* SIPDLG_BENCH_PKTS_H */
