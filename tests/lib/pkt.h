/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pkt.h - a small packet builder for tests.
 *
 * Headers are pushed outermost first into one fixed buffer; each push
 * fills in the "next protocol" field the previous header left open
 * (EtherType, IPv4 protocol, IPv6 next header), and pkt_finish() fixes the
 * length fields and checksums.  Nothing is allocated.  A push that does
 * not fit sets pkt->error (-ENOSPC) and writes nothing; every later call
 * is then a no-op, so a test checks pkt->error once at the end.
 *
 *	struct pkt p;
 *	pkt_init(&p);
 *	pkt_eth(&p);
 *	pkt_vlan(&p, PKT_ETH_P_8021Q, 100);
 *	pkt_ipv4(&p, &(struct pkt_ipv4){ .saddr = PKT_IP4(10,0,0,1), ... });
 *	pkt_udp(&p, 5060, 5060);
 *	pkt_payload(&p, "OPTIONS sip:x SIP/2.0\r\n\r\n", 25);
 *	pkt_finish(&p);
 */
#ifndef SIPDLG_TESTS_PKT_H
#define SIPDLG_TESTS_PKT_H

#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 2048

#define PKT_ETH_P_IP 0x0800
#define PKT_ETH_P_ARP 0x0806
#define PKT_ETH_P_IPV6 0x86DD
#define PKT_ETH_P_8021Q 0x8100
#define PKT_ETH_P_8021AD 0x88A8

#define PKT_IP_MF 0x2000	/* IPv4 more-fragments flag */
#define PKT_IP_DF 0x4000

#define PKT_PROTO_HOPOPTS 0
#define PKT_PROTO_TCP 6
#define PKT_PROTO_UDP 17
#define PKT_PROTO_ROUTING 43
#define PKT_PROTO_FRAGMENT 44
#define PKT_PROTO_AH 51
#define PKT_PROTO_ICMPV6 58
#define PKT_PROTO_DSTOPTS 60

/* Host-order IPv4 address from four octets. */
#define PKT_IP4(a, b, c, d) \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | \
	 ((uint32_t)(c) << 8) | (uint32_t)(d))

struct pkt {
	uint8_t buf[PKT_MAX];
	size_t len;
	int error;		/* 0, or the first -errno of a push */
	/* where the next push writes its protocol number, -1 if nowhere */
	long type_off;		/* 2-byte EtherType field */
	long proto_off;		/* 1-byte IPv4 protocol / IPv6 next header */
	/* headers pkt_finish() fixes up, -1 if absent */
	long ip4_off;
	long ip6_off;
	long l4_off;
	uint8_t l4_proto;	/* protocol of the header at l4_off */
	uint8_t ip4_hlen;	/* IPv4 header bytes pushed (20 + options) */
};

/* IPv4 header parameters.  Zero fields get sensible defaults. */
struct pkt_ipv4 {
	uint32_t saddr;		/* host order */
	uint32_t daddr;		/* host order */
	uint8_t ttl;		/* 0: 64 */
	uint8_t ihl;		/* 0: 5 + opt_len / 4; else written as is */
	uint16_t frag;		/* flags | offset/8 as on the wire, host order */
	const void *opts;	/* options, opt_len bytes, multiple of 4 */
	size_t opt_len;
};

/* IPv6 header parameters. */
struct pkt_ipv6 {
	uint8_t saddr[16];
	uint8_t daddr[16];
	uint8_t hop_limit;	/* 0: 64 */
};

void pkt_init(struct pkt *p);
/* Ethernet with fixed test MACs; EtherType left open. */
void pkt_eth(struct pkt *p);
/* A VLAN tag: @tpid goes into the open EtherType, the tag's own stays open. */
void pkt_vlan(struct pkt *p, uint16_t tpid, uint16_t vid);
void pkt_ipv4(struct pkt *p, const struct pkt_ipv4 *ip);
void pkt_ipv6(struct pkt *p, const struct pkt_ipv6 *ip);
/*
 * IPv6 extension header of type @type (hop-by-hop, routing, destination
 * options: 8-byte units) padded with PadN to @len bytes (multiple of 8,
 * at least 8).  Its next-header field stays open.
 */
void pkt_ipv6_ext(struct pkt *p, uint8_t type, size_t len);
/*
 * IPv6 authentication header (4-byte length units), @len bytes in all
 * (multiple of 8, at least 16), ICV zero.  Next header stays open.
 */
void pkt_ipv6_ah(struct pkt *p, size_t len);
/* IPv6 fragment header; @frag is offset|M as on the wire, host order. */
void pkt_ipv6_frag(struct pkt *p, uint16_t frag, uint32_t id);
/* UDP header; length and checksum are set by pkt_finish(). */
void pkt_udp(struct pkt *p, uint16_t sport, uint16_t dport);
/* Any L3 payload (e.g. ARP) with EtherType @type, bytes copied as given. */
void pkt_l3_raw(struct pkt *p, uint16_t type, const void *data, size_t n);
/* Any L4 header/payload with protocol @proto, bytes copied as given. */
void pkt_l4_raw(struct pkt *p, uint8_t proto, const void *data, size_t n);
/* Bytes after the last header (the UDP payload). */
void pkt_payload(struct pkt *p, const void *data, size_t n);
/*
 * Fill in the IPv4 total length and checksum, the IPv6 payload length and
 * the UDP length and checksum.  Call once, after the last push.  Returns
 * p->error.
 */
int pkt_finish(struct pkt *p);

/* What pkt_sip() wraps a SIP message in. */
struct pkt_sip_opts {
	int ipv6;		/* 0: IPv4 192.0.2.1 -> .2; 1: IPv6 2001:db8::1 -> ::2 */
	int vlans;		/* 0..3 VLAN tags (802.1ad outer, then 802.1Q) */
	uint16_t sport;		/* 0: 5070 */
	uint16_t dport;		/* 0: 5060 */
};

/*
 * A whole frame around the UDP payload @sip (@n bytes): Ethernet, VLAN
 * tags, IPv4 or IPv6, UDP, finished.  @o NULL means the defaults.
 * Returns p->error.
 */
int pkt_sip(struct pkt *p, const struct pkt_sip_opts *o, const void *sip,
	    size_t n);

#endif /* SIPDLG_TESTS_PKT_H */
