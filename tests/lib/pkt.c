// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pkt.c - the test packet builder (see pkt.h).
 */
#include "lib/pkt.h"

#include <errno.h>
#include <string.h>

static const uint8_t pkt_mac_dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t pkt_mac_src[6] = { 0x02, 0, 0, 0, 0, 0x01 };

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b + 2, (uint16_t)v);
}

/* Reserve @n zeroed bytes at the end; NULL (and p->error) if they do not fit. */
static uint8_t *pkt_push(struct pkt *p, size_t n)
{
	uint8_t *b;

	if (p->error)
		return NULL;
	if (n > PKT_MAX - p->len) {
		p->error = -ENOSPC;
		return NULL;
	}
	b = p->buf + p->len;
	memset(b, 0, n);
	p->len += n;
	return b;
}

/* Fill the open EtherType with @type; the caller opens the next one. */
static void pkt_close_type(struct pkt *p, uint16_t type)
{
	if (p->type_off >= 0)
		put16(p->buf + p->type_off, type);
	p->type_off = -1;
}

static void pkt_close_proto(struct pkt *p, uint8_t proto)
{
	if (p->proto_off >= 0)
		p->buf[p->proto_off] = proto;
	p->proto_off = -1;
}

void pkt_init(struct pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->type_off = -1;
	p->proto_off = -1;
	p->ip4_off = -1;
	p->ip6_off = -1;
	p->l4_off = -1;
}

void pkt_eth(struct pkt *p)
{
	uint8_t *b = pkt_push(p, 14);

	if (!b)
		return;
	memcpy(b, pkt_mac_dst, 6);
	memcpy(b + 6, pkt_mac_src, 6);
	p->type_off = (long)(b + 12 - p->buf);
}

void pkt_vlan(struct pkt *p, uint16_t tpid, uint16_t vid)
{
	uint8_t *b = pkt_push(p, 4);

	if (!b)
		return;
	pkt_close_type(p, tpid);
	put16(b, vid & 0x0fff);
	p->type_off = (long)(b + 2 - p->buf);
}

void pkt_ipv4(struct pkt *p, const struct pkt_ipv4 *ip)
{
	uint8_t *b;

	if (ip->opt_len % 4 || ip->opt_len > 40) {
		if (!p->error)
			p->error = -EINVAL;
		return;
	}
	b = pkt_push(p, 20 + ip->opt_len);
	if (!b)
		return;
	pkt_close_type(p, PKT_ETH_P_IP);
	p->ip4_hlen = (uint8_t)(20 + ip->opt_len);
	b[0] = (uint8_t)(0x40 | (ip->ihl ? ip->ihl & 0x0f : 5 + ip->opt_len / 4));
	put16(b + 4, 0x1234);			/* id */
	put16(b + 6, ip->frag);
	b[8] = ip->ttl ? ip->ttl : 64;
	put32(b + 12, ip->saddr);
	put32(b + 16, ip->daddr);
	if (ip->opt_len)
		memcpy(b + 20, ip->opts, ip->opt_len);
	p->ip4_off = (long)(b - p->buf);
	p->proto_off = p->ip4_off + 9;
}

void pkt_ipv6(struct pkt *p, const struct pkt_ipv6 *ip)
{
	uint8_t *b = pkt_push(p, 40);

	if (!b)
		return;
	pkt_close_type(p, PKT_ETH_P_IPV6);
	b[0] = 0x60;
	b[7] = ip->hop_limit ? ip->hop_limit : 64;
	memcpy(b + 8, ip->saddr, 16);
	memcpy(b + 24, ip->daddr, 16);
	p->ip6_off = (long)(b - p->buf);
	p->proto_off = p->ip6_off + 6;
}

void pkt_ipv6_ext(struct pkt *p, uint8_t type, size_t len)
{
	uint8_t *b;

	if (len < 8 || len % 8 || len > 2048) {
		if (!p->error)
			p->error = -EINVAL;
		return;
	}
	b = pkt_push(p, len);
	if (!b)
		return;
	pkt_close_proto(p, type);
	b[1] = (uint8_t)(len / 8 - 1);
	b[2] = 1;				/* PadN over the rest */
	b[3] = (uint8_t)(len - 4);
	p->proto_off = (long)(b - p->buf);
}

void pkt_ipv6_ah(struct pkt *p, size_t len)
{
	uint8_t *b;

	if (len < 16 || len % 8 || len > 1028) {
		if (!p->error)
			p->error = -EINVAL;
		return;
	}
	b = pkt_push(p, len);
	if (!b)
		return;
	pkt_close_proto(p, PKT_PROTO_AH);
	b[1] = (uint8_t)(len / 4 - 2);
	put32(b + 4, 0x100);			/* SPI */
	put32(b + 8, 1);			/* sequence number */
	p->proto_off = (long)(b - p->buf);
}

void pkt_ipv6_frag(struct pkt *p, uint16_t frag, uint32_t id)
{
	uint8_t *b = pkt_push(p, 8);

	if (!b)
		return;
	pkt_close_proto(p, PKT_PROTO_FRAGMENT);
	put16(b + 2, frag);
	put32(b + 4, id);
	p->proto_off = (long)(b - p->buf);
}

void pkt_udp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	uint8_t *b = pkt_push(p, 8);

	if (!b)
		return;
	pkt_close_proto(p, PKT_PROTO_UDP);
	put16(b, sport);
	put16(b + 2, dport);
	p->l4_off = (long)(b - p->buf);
	p->l4_proto = PKT_PROTO_UDP;
}

void pkt_l3_raw(struct pkt *p, uint16_t type, const void *data, size_t n)
{
	uint8_t *b = pkt_push(p, n);

	if (!b)
		return;
	pkt_close_type(p, type);
	memcpy(b, data, n);
}

void pkt_l4_raw(struct pkt *p, uint8_t proto, const void *data, size_t n)
{
	uint8_t *b = pkt_push(p, n);

	if (!b)
		return;
	pkt_close_proto(p, proto);
	memcpy(b, data, n);
	p->l4_off = (long)(b - p->buf);
	p->l4_proto = proto;
}

void pkt_payload(struct pkt *p, const void *data, size_t n)
{
	uint8_t *b = pkt_push(p, n);

	if (b)
		memcpy(b, data, n);
}

/* One's-complement sum of @n bytes, big-endian 16-bit words, unfolded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* UDP checksum over the IPv4 or IPv6 pseudo-header and the datagram. */
static void pkt_udp_csum(struct pkt *p)
{
	uint8_t *u = p->buf + p->l4_off;
	size_t ulen = p->len - (size_t)p->l4_off;
	uint32_t sum = 0;
	uint16_t c;

	if (p->ip4_off >= 0) {
		sum = csum_add(sum, p->buf + p->ip4_off + 12, 8);
	} else if (p->ip6_off >= 0) {
		sum = csum_add(sum, p->buf + p->ip6_off + 8, 32);
		sum += (uint32_t)(ulen >> 16);
	} else {
		return;
	}
	sum += PKT_PROTO_UDP + (uint32_t)(ulen & 0xffff);
	sum = csum_add(sum, u, ulen);
	c = csum_fold(sum);
	put16(u + 6, c ? c : 0xffff);
}

int pkt_finish(struct pkt *p)
{
	uint8_t *ip;

	if (p->error)
		return p->error;
	if (p->l4_off >= 0 && p->l4_proto == PKT_PROTO_UDP)
		put16(p->buf + p->l4_off + 4,
		      (uint16_t)(p->len - (size_t)p->l4_off));
	if (p->ip6_off >= 0)
		put16(p->buf + p->ip6_off + 4,
		      (uint16_t)(p->len - (size_t)p->ip6_off - 40));
	if (p->ip4_off >= 0) {
		ip = p->buf + p->ip4_off;
		put16(ip + 2, (uint16_t)(p->len - (size_t)p->ip4_off));
		put16(ip + 10, 0);
		put16(ip + 10, csum_fold(csum_add(0, ip, p->ip4_hlen)));
	}
	if (p->l4_off >= 0 && p->l4_proto == PKT_PROTO_UDP)
		pkt_udp_csum(p);
	return 0;
}

int pkt_sip(struct pkt *p, const struct pkt_sip_opts *o, const void *sip,
	    size_t n)
{
	static const struct pkt_sip_opts defaults;
	struct pkt_ipv4 ip4 = {
		.saddr = PKT_IP4(192, 0, 2, 1),
		.daddr = PKT_IP4(192, 0, 2, 2),
	};
	struct pkt_ipv6 ip6 = {
		.saddr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
		.daddr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 },
	};
	int i;

	if (!o)
		o = &defaults;
	pkt_init(p);
	pkt_eth(p);
	for (i = 0; i < o->vlans; i++)
		pkt_vlan(p, i == 0 && o->vlans > 1 ? PKT_ETH_P_8021AD :
						      PKT_ETH_P_8021Q,
			 (uint16_t)(100 + i));
	if (o->ipv6)
		pkt_ipv6(p, &ip6);
	else
		pkt_ipv4(p, &ip4);
	pkt_udp(p, o->sport ? o->sport : 5070, o->dport ? o->dport : 5060);
	pkt_payload(p, sip, n);
	return pkt_finish(p);
}
