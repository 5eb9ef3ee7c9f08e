/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * parse_l2l4.h - Ethernet, VLAN, IPv4, IPv6 and UDP parsing for XDP.
 *
 * A stage takes a parse cursor, checks the bounds before every read, and
 * returns either SD_FURTHER ("not decided here: go on to the next stage")
 * or the enum sipdlg_reason under which the packet is counted and left to
 * the kernel stack and the controller ("let the slow path decide").
 * What a stage learnt goes into struct sd_pkt as offsets from the start of
 * the frame, so that later stages, which are global functions and cannot
 * take packet pointers, re-derive their pointers from ctx and an offset.
 *
 * Include once, from the program's entry file (it defines a global
 * function, sd_ipv6_ext_walk).
 */
#ifndef SIPDLG_BPF_PARSE_L2L4_H
#define SIPDLG_BPF_PARSE_L2L4_H

/* The stage did not decide; the next stage looks at the packet. */
#define SD_FURTHER (-1)

/* Extension headers skipped before the IPv6 payload is SDR_IPV6_EXT. */
#define SD_MAX_IPV6_EXT 6
/* Furthest the first IPv6 extension header can start: Eth + 2 tags + IPv6. */
#define SD_MAX_IP6_EXT_START (14 + 4 * SIPDLG_MAX_VLAN_TAGS + 40)
/*
 * Mask applied to an offset that comes back through memory before it
 * becomes a pointer again.  Above any real L4 offset: the walk ends by
 * SD_MAX_IP6_EXT_START + SD_MAX_IPV6_EXT * 2048 = 12350.
 */
#define SD_OFF_MASK 0x3fff

/* Constants that vmlinux.h does not carry (they are #defines in Linux). */
#define SD_ETH_P_IP 0x0800
#define SD_ETH_P_IPV6 0x86DD
#define SD_ETH_P_8021Q 0x8100
#define SD_ETH_P_8021AD 0x88A8
#define SD_IP_MF 0x2000
#define SD_IP_OFFMASK 0x1FFF
#define SD_NEXTHDR_HOP 0
#define SD_NEXTHDR_UDP 17
#define SD_NEXTHDR_ROUTING 43
#define SD_NEXTHDR_FRAGMENT 44
#define SD_NEXTHDR_ESP 50
#define SD_NEXTHDR_AUTH 51
#define SD_NEXTHDR_DEST 60
#define SD_NEXTHDR_MOBILITY 135
#define SD_NEXTHDR_HIP 139
#define SD_NEXTHDR_SHIM6 140
#define SD_NEXTHDR_EXP1 253
#define SD_NEXTHDR_EXP2 254

/*
 * Parse position: @data is the start of the frame, @pos the next byte to
 * read, @off the same place as an offset (kept as a sum of header lengths,
 * so no pointer subtraction is needed), @end is ctx->data_end.
 */
struct sd_cursor {
	void *data;
	void *pos;
	void *end;
	__u32 off;
};

/* What L2-L4 parsing found.  Offsets are from the start of the frame. */
struct sd_pkt {
	__u32 len;		/* frame length (linear part) */
	__u16 l3_off;		/* IPv4/IPv6 header */
	__u16 l4_off;		/* UDP header */
	__u16 payload_off;	/* first byte after the UDP header */
	__u16 udp_len;		/* UDP length field, host order, unchecked */
	__u16 sport;		/* host order */
	__u16 dport;		/* host order */
	__u8 family;		/* 4 or 6 */
	__u8 vlans;		/* VLAN tags skipped, 0..SIPDLG_MAX_VLAN_TAGS */
	__u8 l4_proto;		/* IPPROTO_* of the IP payload */
	__u8 pad;
};

static __always_inline void sd_advance(struct sd_cursor *c, __u32 len)
{
	c->pos += len;
	c->off += len;
}

static __always_inline int sd_is_vlan(__be16 type)
{
	return type == bpf_htons(SD_ETH_P_8021Q) ||
	       type == bpf_htons(SD_ETH_P_8021AD);
}

/*
 * Ethernet header and up to SIPDLG_MAX_VLAN_TAGS tags (802.1Q or 802.1ad,
 * in any order).  On SD_FURTHER, *proto is the host-order EtherType of the
 * L3 header at c->pos.
 */
static __always_inline int sd_parse_eth(struct sd_cursor *c,
					struct sd_pkt *p, __u16 *proto)
{
	struct ethhdr *eth = c->pos;
	struct vlan_hdr *vh;
	__be16 type;
	int i;

	if ((void *)(eth + 1) > c->end)
		return SDR_TRUNCATED;
	type = eth->h_proto;
	sd_advance(c, sizeof(*eth));

	for (i = 0; i < SIPDLG_MAX_VLAN_TAGS; i++) {
		if (!sd_is_vlan(type))
			break;
		vh = c->pos;
		if ((void *)(vh + 1) > c->end)
			return SDR_TRUNCATED;
		type = vh->h_vlan_encapsulated_proto;
		sd_advance(c, sizeof(*vh));
		p->vlans++;
	}
	if (sd_is_vlan(type))
		return SDR_VLAN_DEPTH;

	*proto = bpf_ntohs(type);
	return SD_FURTHER;
}

/* IPv4 header with options; fragments go to the slow path. */
static __always_inline int sd_parse_ipv4(struct sd_cursor *c,
					 struct sd_pkt *p)
{
	struct iphdr *iph = c->pos;
	__u32 hlen;
	__u8 vihl;

	if ((void *)(iph + 1) > c->end)
		return SDR_TRUNCATED;
	vihl = *(__u8 *)iph;	/* version:4 | ihl:4, whatever the bitfields */
	if ((vihl >> 4) != 4 || (vihl & 0x0f) < 5)
		return SDR_BAD_IP_HEADER;
	hlen = (__u32)(vihl & 0x0f) * 4;
	if (c->pos + hlen > c->end)
		return SDR_TRUNCATED;
	if (iph->frag_off & bpf_htons(SD_IP_MF | SD_IP_OFFMASK))
		return SDR_IP_FRAGMENT;

	p->family = 4;
	p->l3_off = c->off;
	p->l4_proto = iph->protocol;
	sd_advance(c, hlen);
	return SD_FURTHER;
}

/* How the IPv6 extension-header walk treats a next-header value. */
enum sd_ip6_next {
	SD_IP6_UPPER = 0,	/* an upper-layer protocol: stop walking */
	SD_IP6_SKIP8 = 1,	/* hop-by-hop, routing, dest opts: 8-byte units */
	SD_IP6_SKIP4 = 2,	/* AH: 4-byte units */
	SD_IP6_FRAG = 3,	/* fragment header */
	SD_IP6_OPAQUE = 4,	/* ESP, mobility, HIP, shim6, experiments */
};

static __always_inline enum sd_ip6_next sd_ip6_classify(__u8 nh)
{
	switch (nh) {
	case SD_NEXTHDR_HOP:
	case SD_NEXTHDR_ROUTING:
	case SD_NEXTHDR_DEST:
		return SD_IP6_SKIP8;
	case SD_NEXTHDR_AUTH:
		return SD_IP6_SKIP4;
	case SD_NEXTHDR_FRAGMENT:
		return SD_IP6_FRAG;
	case SD_NEXTHDR_ESP:
	case SD_NEXTHDR_MOBILITY:
	case SD_NEXTHDR_HIP:
	case SD_NEXTHDR_SHIM6:
	case SD_NEXTHDR_EXP1:
	case SD_NEXTHDR_EXP2:
		return SD_IP6_OPAQUE;
	default:
		return SD_IP6_UPPER;
	}
}

/*
 * Walk at most SD_MAX_IPV6_EXT IPv6 extension headers.  On entry
 * p->l4_off is the offset just past the IPv6 header and p->l4_proto its
 * next-header value; on SD_FURTHER both describe the upper-layer header.
 * A fragment header is SDR_IP_FRAGMENT; a longer chain, or a header that
 * cannot be skipped, SDR_IPV6_EXT; a frame that ends inside one,
 * SDR_TRUNCATED.
 *
 * A global function: the verifier checks it once against its prototype
 * instead of once per VLAN depth (4.6k -> 1.3k processed instructions),
 * and plain IPv6/UDP, which has no extension header, never calls it.
 */
__noinline int sd_ipv6_ext_walk(struct xdp_md *ctx, struct sd_pkt *p)
{
	void *data, *end;
	struct ipv6_opt_hdr *ext;
	enum sd_ip6_next kind;
	__u32 off, len;
	__u8 nh;
	int i;

	if (!ctx || !p)
		return SDR_IPV6_EXT;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	off = p->l4_off;
	nh = p->l4_proto;
	if (off > SD_MAX_IP6_EXT_START)
		return SDR_IPV6_EXT;	/* not from sd_parse_ipv6() */

	for (i = 0; i <= SD_MAX_IPV6_EXT; i++) {
		kind = sd_ip6_classify(nh);
		if (kind == SD_IP6_UPPER) {
			p->l4_off = off;
			p->l4_proto = nh;
			return SD_FURTHER;
		}
		if (kind == SD_IP6_FRAG)
			return SDR_IP_FRAGMENT;
		if (kind == SD_IP6_OPAQUE || i == SD_MAX_IPV6_EXT)
			return SDR_IPV6_EXT;

		ext = data + off;
		if ((void *)(ext + 1) > end)
			return SDR_TRUNCATED;
		if (kind == SD_IP6_SKIP8)
			len = ((__u32)ext->hdrlen + 1) * 8;
		else
			len = ((__u32)ext->hdrlen + 2) * 4;
		if ((void *)ext + len > end)
			return SDR_TRUNCATED;
		nh = ext->nexthdr;
		off += len;
	}
	return SDR_IPV6_EXT;	/* not reached: the loop returns */
}

/* IPv6 header; extension headers, if any, by sd_ipv6_ext_walk(). */
static __always_inline int sd_parse_ipv6(struct xdp_md *ctx,
					 struct sd_cursor *c,
					 struct sd_pkt *p)
{
	struct ipv6hdr *ip6 = c->pos;
	__u32 off;
	int ret;

	if ((void *)(ip6 + 1) > c->end)
		return SDR_TRUNCATED;
	if ((*(__u8 *)ip6 >> 4) != 6)
		return SDR_BAD_IP_HEADER;
	p->family = 6;
	p->l3_off = c->off;
	p->l4_proto = ip6->nexthdr;
	sd_advance(c, sizeof(*ip6));
	if (sd_ip6_classify(p->l4_proto) == SD_IP6_UPPER)
		return SD_FURTHER;

	p->l4_off = c->off;
	ret = sd_ipv6_ext_walk(ctx, p);
	if (ret != SD_FURTHER)
		return ret;
	off = p->l4_off & SD_OFF_MASK;	/* bounded again for the verifier */
	c->pos = c->data + off;
	c->off = off;
	return SD_FURTHER;
}

static __always_inline int sd_parse_udp(struct sd_cursor *c,
					struct sd_pkt *p)
{
	struct udphdr *uh = c->pos;

	if ((void *)(uh + 1) > c->end)
		return SDR_TRUNCATED;
	p->l4_off = c->off;
	p->sport = bpf_ntohs(uh->source);
	p->dport = bpf_ntohs(uh->dest);
	p->udp_len = bpf_ntohs(uh->len);
	sd_advance(c, sizeof(*uh));
	p->payload_off = c->off;
	return SD_FURTHER;
}

/*
 * The whole L2-L4 walk: SD_FURTHER with @p filled in when the frame is
 * UDP over IPv4 or IPv6 with a complete UDP header, a reason otherwise.
 */
static __always_inline int sd_parse_l2l4(struct xdp_md *ctx,
					 struct sd_cursor *c, struct sd_pkt *p)
{
	__u16 proto = 0;
	int ret;

	ret = sd_parse_eth(c, p, &proto);
	if (ret != SD_FURTHER)
		return ret;

	if (proto == SD_ETH_P_IP)
		ret = sd_parse_ipv4(c, p);
	else if (proto == SD_ETH_P_IPV6)
		ret = sd_parse_ipv6(ctx, c, p);
	else
		return SDR_NON_IP;
	if (ret != SD_FURTHER)
		return ret;

	if (p->l4_proto != IPPROTO_UDP)
		return SDR_NON_UDP;
	return sd_parse_udp(c, p);
}

#endif /* SIPDLG_BPF_PARSE_L2L4_H */
