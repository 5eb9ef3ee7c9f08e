/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sip_relay.h - the kernel relay (xdp.relay, issue #14): an in-dialog
 * request that matched tightly, and the reply to a request relayed here,
 * forwarded by the XDP program itself as a stateless proxy inside a
 * dialog the controller set up (RFC 3261 16.6, 16.11).
 *
 * Entry points (sip_match.h calls them after the matcher decided, and
 * only if relay_enabled): sd_relay_req() after sd_matched() counted a
 * request, sd_relay_reply() after sd_reply() counted a reply.  Each
 * returns the reason to count: the matcher's own (not eligible), one of
 * SDR_RELAY_PASS_* (eligible, but the controller gets it, unchanged), or
 * SDR_RELAY_REQ / SDR_RELAY_REPLY, for which the frame has been
 * rewritten and sd_relay_verdict() gives XDP_TX or XDP_REDIRECT.
 *
 * Independent of the scan's line records: the relay copies the SIP
 * message into a per-CPU scratch buffer (bpf_xdp_load_bytes) and walks
 * its header lines itself (sd_rl_walk), so that the parser can change
 * shape without touching this file.  From the scan it takes only the
 * frame layout (struct sd_pkt), the key, direction, method, the Contact
 * flag and the MAC flag.
 *
 * relay.ack (the SDM_ACK bit of relay_methods, set by the controller
 * alone): the ACK of the 2xx that confirms a dialog, caller to callee, is
 * relayed like any request while the kernel's state is below 4, if its
 * To-tag is the 2xx's (relay_hops ack_tag); a Contact in it stays.  The
 * dialog then gets the callee tag and state 4 and the controller one
 * SDE_ACK_CONFIRMED event (sd_relay_ack_done).
 *
 * Request rewrite (everything else -> the controller, unchanged):
 *  - our Route entries (hop nroutes: 1, or 2 with double Record-Route)
 *    removed: the first entry of the first Route line must hold the
 *    rr_param; entries are name-addrs "<...>" without display name or
 *    header parameters; a line left empty goes; the second entry may
 *    be in the same line (comma list) or the next Route line;
 *  - Max-Forwards (1-3 digits, > 0) decremented in place, same width;
 *  - "Via: SIP/2.0/UDP <sentby>;branch=z9hG4bKsd<RH(he)>.<RH(hi)>.<D>k
 *    <TXN:16 hex>" on top, TXN the hash of the top Via's branch value
 *    (a retransmission gets the same branch; 'k' marks a kernel branch:
 *    the controller's have 8 hex digits after D);
 *  - the sender's Via (first via-parm of the top Via line): a bare
 *    ;rport becomes ";received=<src>;rport=<sport>" at the end of the
 *    via-parm, as the controller does; otherwise ";received=<src>" is
 *    added when the sent-by host is not the source address written as
 *    the controller writes it (IPv4 dotted quad; IPv6 is always given a
 *    received, in the fixed form of eight 4-digit groups, which is also
 *    the only IPv6 form the reply path reads back); a Via that already
 *    has received or an rport value goes to the controller;
 *  - Content-Length and the body unchanged; IP/UDP addresses, ports,
 *    lengths, TTL/hop limit 64, IPv4 header checksum recomputed, the UDP
 *    checksum updated from the one the packet came with (sd_rl_csum_upd:
 *    only the message before its unchanged tail is summed; an IPv4
 *    packet without one, or one whose checksum was left to offload
 *    (veth: the pseudo header's sum alone), gets the whole sum); L2 from bpf_fib_lookup() as the
 *    sender (BPF_FIB_LOOKUP_OUTPUT on the hop's ifindex, source = hop
 *    saddr, tot_len checks the egress MTU).  The kernel answers a FIB
 *    lookup only on interfaces with forwarding on (sysctl
 *    net.ipv4.conf.<if>.forwarding / net.ipv6.conf.<if>.forwarding):
 *    without it every relay is SDR_RELAY_PASS_FIB.  XDP_TX when the
 *    egress is the ingress device, bpf_redirect() otherwise.
 * Reply rewrite: the top via-parm must be ours (kernel branch); alone
 * in its line, the line is removed; followed by ", <next via-parm>" in
 * the same line (sipp writes replies so), our via-parm, the comma and
 * the SP/HTAB after it are removed and the rest of the line kept (no
 * SP before the comma).  The reply goes to the next Via's received (IPv4, or the
 * fixed-form IPv6 this file writes) or IPv4 sent-by, port: rport value,
 * sent-by port or 5060; sent from the hop of the opposite direction
 * (its saddr, sport, ifindex).
 *
 * Run-time cost: the header walk is a bpf_loop() (one callback per
 * header line, lines over 256 bytes take more): a bounded loop cost the
 * verifier ~3,500 instructions per step.  The FIB lookup, the largest
 * single cost, is cached per CPU for 100 ms (struct sd_rl_fibc).  Helpers: bpf_loop (5.17), bpf_xdp_load_bytes /
 * bpf_xdp_store_bytes (5.18), bpf_xdp_adjust_tail, bpf_fib_lookup,
 * bpf_csum_diff, bpf_redirect: all in Linux 6.1.
 *
 * Frames: untagged Ethernet, IPv4 without options or IPv6 without
 * extension headers, in and out of the same family, SIP message at most
 * SD_RL_MSG_MAX bytes.
 */
#ifndef SIPDLG_BPF_SIP_RELAY_H
#define SIPDLG_BPF_SIP_RELAY_H

#include "sip_swar.h"

#define SD_RL_MSG_MAX 1480	/* largest SIP message relayed */
#define SD_RL_MASK 2047		/* message offsets, masked before use */
#ifndef SD_RL_STEPS
#define SD_RL_STEPS 128
#endif		/* line-walk steps: windows + lines */
#define SD_RL_ENTRY_MAX 192	/* longest Route entry of ours */

/* Line kinds of the relay's walk. */
enum sd_rl_kind {
	SD_RK_OTHER = 0,
	SD_RK_START = 1,
	SD_RK_VIA = 2,
	SD_RK_ROUTE = 3,
	SD_RK_MAXFWD = 4,
	SD_RK_CONTACT = 5,
};

/* Parsed Via value (first via-parm). */
struct sd_rl_via {
	__u32 parm_s;		/* the via-parm starts ("SIP/2.0/UDP") */
	__u32 host_s, host_e;	/* sent-by host (with [] for IPv6) */
	__u32 port;		/* sent-by port, 0 if none */
	__u32 parm_end;		/* end of the first via-parm */
	__u32 br_s, br_e;	/* branch value, br_s 0: none */
	__u32 rp_s, rp_e;	/* a bare ";rport" (with its ';') */
	__u32 rport;		/* rport value, 0 none */
	__u32 rc_s, rc_e;	/* received value, rc_s 0: none */
	__u32 more;		/* another via-parm follows (',') */
};

/* One edit of the message: at @pos skip @skip bytes, insert gen bytes. */
struct sd_rl_edit {
	__u32 pos, skip, ins_off, ins_len;
};
#define SD_RL_EDITS 5

/*
 * A successful bpf_fib_lookup() kept for SD_RL_FIB_TTL_NS (per CPU, in
 * the scratch): the lookup is the largest single cost of a relay (about
 * 300 ns on a virtual machine), and a busy dialog sends to the same
 * next hop again and again.  The key is everything the lookup is given
 * but the length; @tot_ok the largest tot_len that passed the egress
 * MTU check (a longer packet asks the kernel again).  A route, neighbour
 * or MTU change reaches the relay within the TTL.
 */
#define SD_RL_FIBC 4			/* entries, direct-mapped */
#define SD_RL_FIB_TTL_NS 100000000ULL	/* 100 ms */
struct sd_rl_fibc {
	__u64 t;		/* bpf_ktime_get_coarse_ns() of the lookup,
				 * 0: empty */
	__u64 k[5];		/* saddr, daddr, ports|family|ifindex */
	__u32 tot_ok;
	__u32 oif;		/* egress ifindex */
	__u8 smac[6], dmac[6];
};

/* Per-CPU scratch of one relay (the stack has no room). */
struct sd_rl {
	__u8 in[2 * (SD_RL_MASK + 1)];	/* the message (and slack) */
	__u8 gen[768];		/* generated: [0,256) Via, [256,448) received,
				 * [448,) the source address as text */
	struct bpf_fib_lookup fib;
	__u8 pseudo[48];	/* pseudo header + UDP header, for the sum */
	__u8 opseudo[48];	/* the same, as the packet came (check 0) */
	__u32 ocheck;		/* the UDP checksum it came with */
	__u32 otail, ntail;	/* the unchanged tail of the message: where
				 * it starts in the old and the new one */
	__u32 mf_old, mf_new;	/* 4 bytes around Max-Forwards' digits (at
				 * an even offset) before and after */
	struct sipdlg_relay_hop hop;	/* the hop used, copied */
	__u32 verdict;		/* XDP_TX or XDP_REDIRECT of a relay */
	__u32 len;		/* message length */
	__u32 msg_off;		/* message offset in the frame */
	__u32 l3_off;
	__u32 family;
	/* line walk: per kind the first two lines (start, end, next) */
	__u32 q, cur, kind, at, wmode, wres;
	__u32 w_cnt[8], w_ls[8][2], w_le[8][2], w_nx[8][2];
	__u32 sl_end;		/* after the start line's LF */
	__u32 nvia, via_ls[2], via_le[2], via_nx[2];
	__u32 via_ps1;		/* sd_rl_via(1): the via-parm starts here,
				 * not at its line's value (0) */
	__u32 nrt, rt_ls[2], rt_le[2], rt_nx[2];
	__u32 mf_ls, mf_le, contact, hdr_end;
	/* a Via value walk */
	__u32 vq, vstate;
	struct sd_rl_via via[2];
	/* edits, sorted by position */
	__u32 nedit;
	struct sd_rl_edit ed[SD_RL_EDITS];
	__u32 gen_via_len, gen_rc_len;
	__u32 nlen;		/* the new message length (sd_rl_emit) */
	__u32 cp_src, cp_o;	/* sd_rl_put(): copy and output positions */
	struct sipdlg_dlg_key key;	/* the dialog's key, for relay_hops */
	__u64 ack_tag;		/* relay.ack: the 2xx's To-tag hash checked */
	__u32 src_txt_len;	/* the source address as text, in gen[448,) */
	__u8 ip[16];		/* sd_rl_ip(): the address */
	__u32 txo;		/* sd_rl_addr_txt(): position */
	__u32 ip_acc, ip_nd, ip_part;
	__u8 hdr[80];		/* sd_rl_emit(): L2-L4 headers while the frame
				 * grows at its head */
	struct sd_rl_fibc fc[SD_RL_FIBC];	/* sd_rl_fib(): recent lookups */
	int fib_rc;		/* the last bpf_fib_lookup() result: last, the
				 * test reads it there */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sd_rl);
} relay_scratch SEC(".maps");

/* The key of the scratch, in .rodata: no stack slot for it. */
static const volatile __u32 sd_rl_zero = 0;

static __always_inline struct sd_rl *sd_rl_get(void)
{
	return bpf_map_lookup_elem(&relay_scratch, (const void *)&sd_rl_zero);
}

/* The verdict of the relay that just returned SDR_RELAY_REQ/REPLY. */
static __always_inline int sd_relay_verdict(void)
{
	struct sd_rl *r = sd_rl_get();

	return r ? (int)r->verdict : XDP_PASS;
}

/* 8 bytes of the message copy at @off (bytes past the message: stale). */
#define SD_RL_W(r, off) (*(__u64 *)((r)->in + ((off) & SD_RL_MASK)))
#define SD_RL_B(r, off) ((__u32)(r)->in[(off) & SD_RL_MASK])

/* Word at @off with the bytes at or past @lim cleared. */
static __always_inline __u64 sd_rl_word(struct sd_rl *r, __u32 off, __u32 lim)
{
	if (off >= lim)
		return 0;
	return SD_RL_W(r, off) & sd_low_bytes_nb(lim - off);
}

/* Decimal value of the first @n (0..5) bytes of @w, all digits. */
static __always_inline __u32 sd_rl_dec(__u64 w, __u32 n)
{
	__u32 x = 0, i;

#pragma unroll
	for (i = 0; i < 5; i++)
		if (i < n)
			x = x * 10 + (sd_byte(w, i) - '0');
	return x;
}

/* 1 if byte @c ends a header name (':' SP HTAB), else 0; no branch. */
static __always_inline __u64 sd_rl_nend(__u64 c)
{
	return sd_is_zero(c ^ ':') | sd_is_zero(c ^ ' ') | sd_is_zero(c ^ '\t');
}

/*
 * Kind of the header line whose first bytes are @w, @w2: one branch on
 * the first letter, the rest arithmetic (each branch in the walk's step
 * costs verifier time).
 */
static __always_inline __u32 sd_rl_kind(__u64 w, __u64 w2)
{
	__u64 lw = w | SD_REP(0x20), lw2 = w2 | SD_REP(0x20);
	__u64 c1 = sd_rl_nend(sd_byte(w, 1)), k;

	switch (lw & 0xff) {
	case 'v':
		k = c1 | (sd_is_zero((lw & sd_low_bytes(3)) ^
				     SD_W8('v', 'i', 'a', 0, 0, 0, 0, 0)) &
			  sd_rl_nend(sd_byte(w, 3)));
		return (__u32)k * SD_RK_VIA;
	case 'r':
		k = sd_is_zero((lw & sd_low_bytes(5)) ^
			       SD_W8('r', 'o', 'u', 't', 'e', 0, 0, 0)) &
		    sd_rl_nend(sd_byte(w, 5));
		return (__u32)k * SD_RK_ROUTE;
	case 'm':
		/* '-' is 0x2d, unchanged by | 0x20 */
		k = sd_is_zero(lw ^ SD_W8('m', 'a', 'x', '-', 'f', 'o', 'r', 'w')) &
		    sd_is_zero((lw2 & sd_low_bytes(4)) ^
			       SD_W8('a', 'r', 'd', 's', 0, 0, 0, 0)) &
		    sd_rl_nend(sd_byte(w2, 4));
		return (__u32)(c1 * SD_RK_CONTACT + k * SD_RK_MAXFWD);
	case 'c':
		k = sd_is_zero((lw & sd_low_bytes(7)) ^
			       SD_W8('c', 'o', 'n', 't', 'a', 'c', 't', 0)) &
		    sd_rl_nend(sd_byte(w, 7));
		return (__u32)k * SD_RK_CONTACT;
	}
	return SD_RK_OTHER;
}

/* Walk outcomes. */
#define SD_RLW_OK 0
#define SD_RLW_SHAPE 1		/* folding, no end of headers, limits */

/*
 * The first LF at or after @q within SD_RL_LF_WORDS words, into r->at;
 * if there is none, r->at is the end of that window (whose byte, if it
 * is a LF, the caller takes as found).  The bytes read past the message
 * are the zero padding sd_rl_load() wrote (no LF) and, further on, stale
 * bytes: an r->at at or past the message's length is its end, whatever
 * was found there.  Each word is tested with the line pass's prefilter
 * ((w - 0x0b..) & 0x80.. flags every LF, CR and HTAB among others), and
 * only then exactly.  A header line is shorter than the window: one walk
 * step per line.
 */
#define SD_RL_LF_WORDS 32
static __always_inline void sd_rl_lf(struct sd_rl *r, __u32 q)
{
	__u8 *b = r->in + (q & SD_RL_MASK);	/* + 264 stays in r->in */
	__u64 w, v, m, lt = SD_REP(0x0b), high = SD_HIGH;
	__u32 k;

	SD_OPAQUE(lt);
	SD_OPAQUE(high);
#pragma unroll
	for (k = 0; k < SD_RL_LF_WORDS; k++) {
		w = *(__u64 *)(b + 8 * k);
		if ((w - lt) & high) {
			v = w ^ SD_REP('\n');
			/* the lowest flag is exact (borrows start at a LF) */
			m = (v - SD_ONES) & ~v & high;
			if (m) {
				SD_WR(r->at, q + 8 * k + sd_first(m));
				return;
			}
		}
	}
	SD_WR(r->at, q + 8 * SD_RL_LF_WORDS);
}

/* After the walk: the lines in the names the rest of the file uses. */
static __always_inline void sd_rl_walk_done(struct sd_rl *r)
{
	__u32 k;

	r->sl_end = r->w_nx[SD_RK_START][0];
	r->nvia = r->w_cnt[SD_RK_VIA];
	r->nrt = r->w_cnt[SD_RK_ROUTE];
#pragma unroll
	for (k = 0; k < 2; k++) {
		r->via_ls[k] = r->w_ls[SD_RK_VIA][k];
		r->via_le[k] = r->w_le[SD_RK_VIA][k];
		r->via_nx[k] = r->w_nx[SD_RK_VIA][k];
		r->rt_ls[k] = r->w_ls[SD_RK_ROUTE][k];
		r->rt_le[k] = r->w_le[SD_RK_ROUTE][k];
		r->rt_nx[k] = r->w_nx[SD_RK_ROUTE][k];
	}
	r->mf_ls = r->w_cnt[SD_RK_MAXFWD] ? r->w_ls[SD_RK_MAXFWD][0] : 0;
	r->mf_le = r->w_le[SD_RK_MAXFWD][0];
	r->contact = r->w_cnt[SD_RK_CONTACT];
}

/*
 * One line of the walk (or, for a line longer than 256 bytes, a window
 * of it).  0: go on; 1: done, the outcome in r->wres.
 */
static __always_inline long sd_rl_line(struct sd_rl *r)
{
	__u32 q, at, nl, le, len, kind, cur, n, c;

	len = r->len;
	q = r->q;
	if (q >= len || len > SD_RL_MSG_MAX)
		return 1;
	sd_rl_lf(r, q);
	at = SD_RD(r->at);
	if (at >= len)
		return 1;
	if (SD_RL_B(r, at) != '\n') {
		r->q = at;	/* next window */
		return 0;
	}
	nl = at + 1;
	le = at;
	if (at && SD_RL_B(r, at - 1) == '\r')
		le = at - 1;
	/* close the line: the first two of each kind we use are kept */
	kind = r->kind & 7;
	if (kind != SD_RK_OTHER) {
		cur = r->cur;
		n = r->w_cnt[kind];
		if (n < 2) {
			r->w_ls[kind][n & 1] = cur;
			r->w_le[kind][n & 1] = le;
			r->w_nx[kind][n & 1] = nl;
		}
		r->w_cnt[kind] = n + 1;
		if (kind == SD_RK_VIA && n == 1 && r->wmode) {
			r->wres = SD_RLW_OK;
			return 1;
		}
	}
	/* the next line */
	if (nl >= len)
		return 1;
	c = SD_RL_B(r, nl);
	if (c == '\r' || c == '\n') {
		r->wres = SD_RLW_OK;
		return 1;
	}
	if (c == ' ' || c == '\t')
		return 1;	/* folding */
	/* past the message: zeros (sd_rl_load()), no name matches them */
	r->kind = sd_rl_kind(SD_RL_W(r, nl), SD_RL_W(r, nl + 8));
	r->cur = nl;
	r->q = nl;
	return 0;
}

/*
 * One step of the walk (a bpf_loop() callback): two lines, so that the
 * scratch lookup and the callback are paid once for both.  SD_RL_STEPS
 * / 2 steps: the same SD_RL_STEPS lines (and windows) as one by one.
 */
static long sd_rl_step(__u64 idx, void *unused)
{
	struct sd_rl *r = sd_rl_get();

	if (!r || sd_rl_line(r))
		return 1;
	return sd_rl_line(r);
}

/*
 * Walk the header lines of the message copy.  @mode 0 (request): to
 * the end of the headers; 1 (reply): until the second Via line closed.
 * Results (sd_rl_walk_done()) in r->sl_end, via_*, rt_*, mf_*, contact.
 * A bpf_loop() of sd_rl_step(): a bounded loop here would be verified
 * step by step (about 3,500 instructions each, 450k for the 128 steps
 * a message near the MTU needs); the callback is verified once, for
 * about 7 ns per step at run time.  Global: verified once.
 */
__noinline int sd_rl_walk(int mode)
{
	struct sd_rl *r = sd_rl_get();

	if (!r)
		return SD_RLW_SHAPE;
	__builtin_memset(r->w_cnt, 0, sizeof(r->w_cnt));
	r->q = 0;
	r->cur = 0;
	r->kind = SD_RK_START;
	r->wmode = mode;
	r->wres = SD_RLW_SHAPE;
	bpf_loop(SD_RL_STEPS / 2, sd_rl_step, NULL, 0);
	if (r->wres != SD_RLW_OK)
		return SD_RLW_SHAPE;
	sd_rl_walk_done(r);
	return SD_RLW_OK;
}

/*
 * Where the value of the header line starting at @ls (name of @nlen
 * bytes in its long form, compact if the second byte ends the name)
 * starts, or 0.
 */
static __always_inline __u32 sd_rl_vstart(struct sd_rl *r, __u32 ls,
					  __u32 le, __u32 nlen)
{
	__u32 c1 = SD_RL_B(r, ls + 1), p, n;
	__u64 w;

	p = ls + (c1 == ':' || c1 == ' ' || c1 == '\t' ? 1 : nlen);
	w = sd_rl_word(r, p, le);
	n = sd_skip_ws(w);
	if (n > 7 || sd_byte(w, n) != ':')
		return 0;
	p += n + 1;
	n = sd_skip_ws(sd_rl_word(r, p, le));
	if (n > 7)
		return 0;
	p += n;
	return p < le ? p : 0;
}

/* Byte sets of sd_rl_find(): four bytes, repeat one to use fewer. */
#define SD_RS(a, b, c, d) \
	((__u32)(__u8)(a) | (__u32)(__u8)(b) << 8 | (__u32)(__u8)(c) << 16 | \
	 (__u32)(__u8)(d) << 24)
#define SD_RS_SEP SD_RS(';', ',', ';', ',')
#define SD_RS_SBEND SD_RS(';', ',', ' ', '\t')
#define SD_RS_COLON SD_RS(':', ':', ':', ':')
#define SD_RS_RBRACK SD_RS(']', ']', ']', ']')
#define SD_RS_ENTRY SD_RS('>', ';', '>', ';')
#define SD_RS_GT SD_RS('>', '>', '>', '>')

/*
 * The first byte of the message copy in [@from, @lim) that is one of the
 * four of @set: its offset, @lim if there is none, -1 if it is not
 * within 192 bytes.  A set of two bytes repeated (SD_RS(a, b, a, b)) is
 * tested as two.  Per word, for each byte: the zero-byte test of w ^ c
 * without its final NOT and OR, joined by AND (the NOT of an AND is the
 * OR of the tests); the mask of the bytes past @lim only on the last
 * word.  Global: verified once.
 */
__noinline int sd_rl_find(__u32 from, __u32 lim, __u32 set)
{
	struct sd_rl *r = sd_rl_get();
	__u64 w, m, a, b, c, d, l7 = SD_LOW7, x;
	__u32 k, n;
	__u8 *base;

	if (!r || lim > SD_RL_MSG_MAX || from > lim)
		return -1;
	n = lim - from;
	base = r->in + (from & SD_RL_MASK);	/* + 192 stays in r->in */
	a = SD_REP(set & 0xff);
	b = SD_REP((set >> 8) & 0xff);
/* the zero-byte test of @x, before its final | LOW7 and NOT */
#define SD_RL_ZB(x) ((((x) & l7) + l7) | (x))
#define SD_RL_FIND(more)                                        \
	for (k = 0; k < 192; k += 8) {                          \
		if (k >= n)                                     \
			return lim;                             \
		w = *(__u64 *)(base + k);                       \
		x = w ^ a;                                      \
		m = SD_RL_ZB(x);                                \
		x = w ^ b;                                      \
		m &= SD_RL_ZB(x);                               \
		more                                            \
		m = ~(m | l7);                                  \
		if (n - k < 8)                                  \
			m &= sd_low_bytes(n - k);               \
		if (m)                                          \
			return from + k + sd_first(m);          \
	}
	if ((set >> 16) == (set & 0xffff)) {
		SD_RL_FIND()
	} else {
		c = SD_REP((set >> 16) & 0xff);
		d = SD_REP(set >> 24);
		SD_RL_FIND(x = w ^ c; m &= SD_RL_ZB(x); x = w ^ d;
			   m &= SD_RL_ZB(x);)
	}
#undef SD_RL_FIND
#undef SD_RL_ZB
	return -1;
}

/* Decimal number of 1-5 digits filling [@s, @e), 1..65535; else 0. */
static __always_inline __u32 sd_rl_port(struct sd_rl *r, __u32 s, __u32 e)
{
	__u64 w;
	__u32 n;

	if (e <= s || e - s > 5)
		return 0;
	w = sd_rl_word(r, s, e);
	n = e - s;
	if ((sd_digit_bytes(w) & sd_low_bytes(n)) != (SD_HIGH & sd_low_bytes(n)))
		return 0;
	n = sd_rl_dec(w, n);
	return n <= 65535 ? n : 0;
}

/*
 * The first via-parm of Via line @idx (0 top, 1 next) into r->via[idx];
 * for @idx 1 the one at r->via_ps1 instead when that is set.
 * 0, or -1 for a shape the relay does not handle (not SIP/2.0/UDP,
 * parameters it cannot place).  Global: verified once.
 */
__noinline int sd_rl_via(int idx)
{
	struct sd_rl *r = sd_rl_get();
	struct sd_rl_via *v;
	__u32 ls, le, p, q, e, n, sb_e, h;
	__u64 w, nw;
	int i, f;

	if (!r)
		return -1;
	idx &= 1;
	v = &r->via[idx];
	__builtin_memset(v, 0, sizeof(*v));
	ls = r->via_ls[idx];
	le = r->via_le[idx];
	if (le > SD_RL_MSG_MAX || ls >= le)
		return -1;
	p = idx ? r->via_ps1 : 0;
	if (!p)
		p = sd_rl_vstart(r, ls, le, 3);
	if (!p || p >= le)
		return -1;
	v->parm_s = p;
	/* "SIP/2.0/UDP" without case, then SP/HTAB */
	w = sd_rl_word(r, p, le) | SD_W8(0x20, 0x20, 0x20, 0, 0, 0, 0, 0);
	nw = sd_rl_word(r, p + 8, le) | SD_W8(0x20, 0x20, 0x20, 0, 0, 0, 0, 0);
	if (w != SD_W8('s', 'i', 'p', '/', '2', '.', '0', '/') ||
	    (nw & sd_low_bytes(3)) != SD_W8('u', 'd', 'p', 0, 0, 0, 0, 0))
		return -1;
	p += 11;
	n = sd_skip_ws(sd_rl_word(r, p, le));
	if (n == 0 || n > 7)
		return -1;
	p += n;
	v->host_s = p;
	/* sent-by ends at the first ';' ',' or SP/HTAB */
	f = sd_rl_find(p, le, SD_RS_SBEND);
	if (f < 0 || (__u32)f <= p)
		return -1;
	sb_e = f;
	/* host and port: an IPv6 reference ends at ']' */
	h = p;
	if (SD_RL_B(r, h) == '[') {
		f = sd_rl_find(h, sb_e, SD_RS_RBRACK);
		if (f < 0 || (__u32)f >= sb_e)
			return -1;
		e = f + 1;
	} else {
		f = sd_rl_find(h, sb_e, SD_RS_COLON);
		if (f < 0)
			return -1;
		e = f;
	}
	v->host_e = e;
	if (e < sb_e) {
		if (SD_RL_B(r, e) != ':')
			return -1;
		v->port = sd_rl_port(r, e + 1, sb_e);
		if (!v->port)
			return -1;
	}
	/* SP/HTAB before the parameters: fine, as the controller reads it */
	n = sd_skip_ws(sd_rl_word(r, sb_e, le));
	if (n > 7)
		return -1;
	/* the parameters, one ';' or ',' per step */
	SD_WR(r->vq, sb_e + n);
	for (i = 0; i < 16; i++) {
		q = SD_RD(r->vq);
		if (q >= le || q > SD_RL_MSG_MAX) {
			v->parm_end = le;
			return 0;
		}
		n = SD_RL_B(r, q);
		if (n == ',') {
			v->parm_end = q;
			v->more = 1;
			return 0;
		}
		if (n != ';')
			return -1;	/* junk after sent-by */
		f = sd_rl_find(q + 1, le, SD_RS_SEP);
		if (f < 0 || (__u32)f <= q + 1)
			return -1;
		e = f;
		n = SD_RL_B(r, e - 1);
		if (n == ' ' || n == '\t')
			return -1;	/* SP before ';' ',' or the end */
		w = sd_rl_word(r, q + 1, e);
		w |= sd_alpha_fold(w);
		if ((w & sd_low_bytes(7)) == SD_W8('b', 'r', 'a', 'n', 'c', 'h', '=', 0)) {
			v->br_s = q + 8;
			v->br_e = e;
		} else if (w == SD_W8('r', 'p', 'o', 'r', 't', 0, 0, 0)) {
			v->rp_s = q;
			v->rp_e = e;
		} else if ((w & sd_low_bytes(6)) == SD_W8('r', 'p', 'o', 'r', 't', '=', 0, 0)) {
			v->rport = sd_rl_port(r, q + 7, e);
			if (!v->rport)
				return -1;
		} else if (w == SD_W8('r', 'e', 'c', 'e', 'i', 'v', 'e', 'd') &&
			   SD_RL_B(r, q + 9) == '=') {
			v->rc_s = q + 10;
			v->rc_e = e;
		}
		SD_WR(r->vq, e);
	}
	return -1;
}

/* --- addresses as text ---------------------------------------------------- */

static __always_inline __u8 sd_rl_hexc(__u32 x)
{
	x &= 15;
	return x < 10 ? '0' + x : 'a' + x - 10;
}

/*
 * The eight hex digits of @x, most significant first, as a word to
 * store: the nibbles spread one a byte, the bytes reversed, then '0' +
 * n, plus 'a' - '0' - 10 where n > 9 (bit 4 of n + 6).
 */
static __always_inline __u64 sd_rl_hex8(__u32 x)
{
	__u64 v = x;

	v = (v | v << 16) & 0x0000ffff0000ffffULL;
	v = (v | v << 8) & 0x00ff00ff00ff00ffULL;
	v = (v | v << 4) & 0x0f0f0f0f0f0f0f0fULL;
	v = __builtin_bswap64(v);
	return v + SD_REP('0') +
	       (((v + SD_REP(6)) >> 4) & SD_ONES) * ('a' - '0' - 10);
}

/*
 * The frame's source address (family r->family) as text at gen[@o]
 * (@o < 448): IPv4 dotted quad; IPv6 eight groups of four hex digits,
 * uncompressed, leading zeros kept (fixed width, RFC 4291 2.2 form 1).
 * Returns its length, 0 on error.  Global: verified once.
 */
__noinline int sd_rl_addr_txt(struct xdp_md *ctx, __u32 o)
{
	struct sd_rl *r = sd_rl_get();
	void *data, *end;
	__u8 *a;
	__u32 i, k, x, g, start = o;

	if (!r || !ctx || o > 448)
		return 0;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + 14 + 40 > end)
		return 0;
	if (r->family == 4) {
		a = data + 14 + 12;
		SD_WR(r->txo, o);
		for (i = 0; i < 4; i++) {
			o = SD_RD(r->txo);
			x = a[i & 3];
			if (i)
				r->gen[o++ & 511] = '.';
			if (x >= 100)
				r->gen[o++ & 511] = '0' + x / 100;
			if (x >= 10)
				r->gen[o++ & 511] = '0' + (x / 10) % 10;
			r->gen[o++ & 511] = '0' + x % 10;
			SD_WR(r->txo, o);
		}
		return SD_RD(r->txo) - start;
	}
	a = data + 14 + 8;
#pragma unroll
	for (i = 0; i < 8; i++) {
		g = ((__u32)a[2 * i] << 8) | a[2 * i + 1];
#pragma unroll
		for (k = 0; k < 4; k++)
			r->gen[(o + 5 * i + k) & 511] = sd_rl_hexc(g >> (12 - 4 * k));
		if (i < 7)
			r->gen[(o + 5 * i + 4) & 511] = ':';
	}
	return 39;
}

/*
 * Parse an IPv4 dotted quad, or an IPv6 address in the fixed form
 * sd_rl_addr_txt() writes (eight groups of four hex digits), in the
 * message at [@s, @e) into r->ip (16 bytes).  The family, or 0.
 * Straight-line code (a character loop costs the verifier dearly).
 * Global: verified once.
 */
__noinline int sd_rl_ip(__u32 s, __u32 e)
{
	struct sd_rl *r = sd_rl_get();
	__u32 k, p, n, x, c;
	__u64 w, nib, hx;

	if (!r || e <= s || e - s > 39 || e > SD_RL_MSG_MAX)
		return 0;
	__builtin_memset(r->ip, 0, sizeof(r->ip));
	if (e - s == 39) {
#pragma unroll
		for (k = 0; k < 8; k++) {
			w = sd_rl_word(r, s + 5 * k, e);
			hx = sd_hex_bytes(w, &nib);
			if ((hx & sd_low_bytes(4)) != (SD_HIGH & sd_low_bytes(4)))
				return 0;
			if (k < 7 && sd_byte(w, 4) != ':')
				return 0;
			r->ip[2 * k] = (sd_byte(nib, 0) & 15) << 4 |
				       (sd_byte(nib, 1) & 15);
			r->ip[2 * k + 1] = (sd_byte(nib, 2) & 15) << 4 |
					   (sd_byte(nib, 3) & 15);
		}
		return 6;
	}
	SD_WR(r->txo, s);
	for (k = 0; k < 4; k++) {
		p = SD_RD(r->txo);
		if (p >= e)
			return 0;
		w = sd_rl_word(r, p, e);
		n = sd_first8(~sd_digit_bytes(w) & SD_HIGH);
		if (!n || n > 3)
			return 0;
		x = sd_rl_dec(w, n);
		if (x > 255)
			return 0;
		r->ip[k & 3] = x;
		c = p + n < e ? sd_byte(w, n) : 256;
		if (k < 3 ? c != '.' : c != 256)
			return 0;
		SD_WR(r->txo, p + n + 1);
	}
	return 4;
}

/* --- Route entries ---------------------------------------------------------- */

/*
 * The Route entry "<...>" at @p (< @le): the position after it and its
 * separator: the next entry's start (after ',' and SP/HTAB), or @le if
 * it is the last of the line; 0 for another shape.  With @cookie, the
 * entry must hold ";<rr_param>=" (the cookie the matcher read).
 */
static __always_inline __u32 sd_rl_entry(struct sd_rl *r, __u32 p, __u32 le,
					 int cookie)
{
	const volatile __u64 *rw = (const volatile __u64 *)rr_param;
	__u32 g, rl = rr_param_len, ok = !cookie, n, i, q = p;
	__u64 w, name;
	int f;

	if (SD_RL_B(r, p) != '<')
		return 0;
	if (!ok) {
		/* ";name=" with the rr_param name (1-7 bytes), no case */
		if (!rl || rl > 7)
			return 0;
		name = (rw[0] | sd_alpha_fold(rw[0])) & sd_low_bytes(rl);
		name |= (__u64)'=' << (8 * rl);
		q = p;
		for (i = 0; i < 8; i++) {
			f = sd_rl_find(q + 1, le, SD_RS_ENTRY);
			if (f < 0 || (__u32)f >= le)
				return 0;
			q = f;
			if (SD_RL_B(r, q) == '>')
				break;
			w = sd_rl_word(r, q + 1, le);
			w = (w | sd_alpha_fold(w)) & sd_low_bytes(rl + 1);
			if (w == name) {
				ok = 1;
				break;
			}
		}
		if (!ok)
			return 0;
	}
	/* the '>' lies past the cookie (the search above stops at '>') */
	f = sd_rl_find(q + 1, le, SD_RS_GT);
	if (f < 0 || (__u32)f >= le)
		return 0;
	g = f + 1;
	n = sd_skip_ws(sd_rl_word(r, g, le));
	if (n > 7)
		return 0;
	g += n;
	if (g >= le)
		return le;
	if (SD_RL_B(r, g) != ',')
		return 0;
	g++;
	n = sd_skip_ws(sd_rl_word(r, g, le));
	if (n > 7 || g + n >= le)
		return 0;
	return g + n;
}

/* Add an edit (kept in position order by the callers). */
static __always_inline int sd_rl_edit(struct sd_rl *r, __u32 pos, __u32 skip,
				      __u32 ins_off, __u32 ins_len)
{
	__u32 n = r->nedit;

	if (n >= SD_RL_EDITS)
		return -1;
	r->ed[n].pos = pos;
	r->ed[n].skip = skip;
	r->ed[n].ins_off = ins_off;
	r->ed[n].ins_len = ins_len;
	r->nedit = n + 1;
	return 0;
}

/* --- the frame -------------------------------------------------------------- */

/* Copy the hop's addresses into the fib request; AF_INET/AF_INET6. */
static __always_inline void sd_rl_fib_req(struct sd_rl *r, struct xdp_md *ctx,
					  __u32 tot_len)
{
	struct bpf_fib_lookup *f = &r->fib;
	struct sipdlg_relay_hop *h = &r->hop;

	__builtin_memset(f, 0, sizeof(*f));
	f->family = h->family == 4 ? 2 : 10;
	f->l4_protocol = IPPROTO_UDP;
	f->sport = bpf_htons(h->sport);
	f->dport = bpf_htons(h->dport);
	f->tot_len = tot_len;
	/* the lookup of a packet we send (we are its source, not a
	 * router: no forwarding sysctl), on the hop's interface */
	f->ifindex = h->ifindex ? h->ifindex : ctx->ingress_ifindex;
	if (h->family == 4) {
		__builtin_memcpy(&f->ipv4_src, h->saddr, 4);
		__builtin_memcpy(&f->ipv4_dst, h->daddr, 4);
	} else {
		__builtin_memcpy(f->ipv6_src, h->saddr, 16);
		__builtin_memcpy(f->ipv6_dst, h->daddr, 16);
	}
}

/*
 * bpf_fib_lookup() for r->hop and a packet of @tot_len (IP total
 * length), through the cache r->fc: the lookup's result code; on
 * success r->fib's ifindex, smac and dmac are set.  Global: verified
 * once (and sd_rl_out() keeps a loop layout Linux 6.1 accepts).
 */
__noinline int sd_rl_fib(struct xdp_md *ctx, __u32 tot_len)
{
	struct sd_rl *r = sd_rl_get();
	struct sipdlg_relay_hop *h;
	struct sd_rl_fibc *c;
	__u64 k0, k1, k2, k3, k4, now;
	__u32 oif;
	int rc;

	if (!r || !ctx)
		return -1;
	h = &r->hop;
	oif = h->ifindex ? h->ifindex : ctx->ingress_ifindex;

	__builtin_memcpy(&k0, h->saddr, 8);
	__builtin_memcpy(&k1, h->saddr + 8, 8);
	__builtin_memcpy(&k2, h->daddr, 8);
	__builtin_memcpy(&k3, h->daddr + 8, 8);
	k4 = (__u64)h->sport << 48 | (__u64)h->dport << 32 |
	     (__u64)h->family << 24 | (oif & 0xffffff);
	c = &r->fc[(h->daddr[3] ^ h->daddr[15]) & (SD_RL_FIBC - 1)];
	now = bpf_ktime_get_coarse_ns();
	if (c->t && now - c->t < SD_RL_FIB_TTL_NS && tot_len <= c->tot_ok &&
	    c->k[0] == k0 && c->k[1] == k1 && c->k[2] == k2 &&
	    c->k[3] == k3 && c->k[4] == k4) {
		r->fib.ifindex = c->oif;
		__builtin_memcpy(r->fib.smac, c->smac, 6);
		__builtin_memcpy(r->fib.dmac, c->dmac, 6);
		return BPF_FIB_LKUP_RET_SUCCESS;
	}
	sd_rl_fib_req(r, ctx, tot_len);
	rc = bpf_fib_lookup(ctx, &r->fib, sizeof(r->fib),
			    BPF_FIB_LOOKUP_OUTPUT);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return rc;
	c->t = now;
	c->k[0] = k0;
	c->k[1] = k1;
	c->k[2] = k2;
	c->k[3] = k3;
	c->k[4] = k4;
	c->tot_ok = tot_len;
	c->oif = r->fib.ifindex;
	__builtin_memcpy(c->smac, r->fib.smac, 6);
	__builtin_memcpy(c->dmac, r->fib.dmac, 6);
	return rc;
}

/* Fold a 32-bit one's-complement sum to 16 bits. */
static __always_inline __u16 sd_rl_fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/*
 * sd_rl_out(): the kept run of the copy before edit @i (a constant) and
 * the edit's generated bytes, at r->cp_o of the new message; r->cp_src
 * the next byte of the copy.  1 when done (the last run written, or a
 * bad edit), else 0.
 */
static __always_inline int sd_rl_put(struct xdp_md *ctx, struct sd_rl *r,
				     __u32 i, __u32 len, __u32 msg_off,
				     int head)
{
	__u32 pos, n, src = r->cp_src, o = r->cp_o, last;

	last = i >= r->nedit || i >= SD_RL_EDITS;
	pos = last ? len : r->ed[i % SD_RL_EDITS].pos;
	if (pos > len || pos < src)
		return 1;
	n = (pos - src) & SD_RL_MASK;
	/* the unchanged prefix (src == o == 0) stays where it is, unless
	 * the frame grew at its head */
	/* sizes written 1 + ((n - 1) & mask): Linux 6.1 must see them
	 * above 0 where the compiler merged the tests of n */
	if (n && (src || o || head))
		bpf_xdp_store_bytes(ctx, msg_off + o,
				    r->in + (src & SD_RL_MASK),
				    1 + ((n - 1) & SD_RL_MASK));
	o += n;
	if (last)
		return 1;
	n = r->ed[i % SD_RL_EDITS].ins_len & 255;
	if (n) {
		bpf_xdp_store_bytes(ctx, msg_off + o,
				    r->gen + (r->ed[i % SD_RL_EDITS].ins_off & 511),
				    1 + ((n - 1) & 255));
		o += n;
	}
	r->cp_src = pos + r->ed[i % SD_RL_EDITS].skip;
	r->cp_o = o;
	return 0;
}

/*
 * Apply r->ed to the frame for r->hop, first half: FIB lookup (nothing
 * is changed if it fails), the frame resized, the new message written
 * over the old one.  @ok, or a SDR_RELAY_PASS_* with the frame
 * unchanged.  Global: verified once.
 */
__noinline int sd_rl_out(struct xdp_md *ctx, int ok)
{
	struct sd_rl *r = sd_rl_get();
	__u32 len, nlen, i, src, pos, n, l3_off, msg_off, tot, ulen, fam;
	int rc, delta, head;

	if (!r || !ctx)
		return SDR_RELAY_PASS_SHAPE;
	len = r->len;
	msg_off = r->msg_off;
	l3_off = r->l3_off;
	fam = r->family;
	if (len > SD_RL_MSG_MAX || msg_off > 256 || l3_off > 64 ||
	    r->nedit > SD_RL_EDITS)
		return SDR_RELAY_PASS_SHAPE;
	/* the new length; edits in order, inside the message */
	nlen = len;
	src = 0;
	for (i = 0; i < SD_RL_EDITS; i++) {
		if (i >= r->nedit)
			break;
		pos = r->ed[i].pos;
		if (pos < src || pos + r->ed[i].skip > len ||
		    r->ed[i].ins_len > 256)
			return SDR_RELAY_PASS_SHAPE;
		src = pos + r->ed[i].skip;
		nlen = nlen + r->ed[i].ins_len - r->ed[i].skip;
	}
	if (nlen > SD_RL_MSG_MAX || nlen < 16)
		return SDR_RELAY_PASS_MTU;
	/* the bytes after the last edit only move (by nlen - len) */
	r->otail = src;
	r->ntail = nlen - (len - src);
	ulen = nlen + 8;
	tot = fam == 4 ? ulen + 20 : ulen;	/* IPv6: payload length */

	/* L2 first: nothing is changed if there is no way out */
	rc = sd_rl_fib(ctx, fam == 4 ? tot : tot + 40);
	r->fib_rc = rc;
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return SDR_RELAY_PASS_MTU;
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return SDR_RELAY_PASS_FIB;
	if (r->hop.ifindex && r->fib.ifindex != r->hop.ifindex)
		return SDR_RELAY_PASS_FIB;

	/*
	 * Grow (or shrink) at the tail; when the frame has no tailroom
	 * (veth hands XDP frames with headroom but hardly any tailroom)
	 * grow at the head instead: the L2-L4 headers move to the new
	 * front and the whole message is written below, prefix included.
	 */
	delta = (int)nlen - (int)len;
	head = 0;
	if (delta && bpf_xdp_adjust_tail(ctx, delta)) {
		n = msg_off & 63;
		if (delta < 0 || n != msg_off || n < 14 ||
		    bpf_xdp_load_bytes(ctx, 0, r->hdr, 14 + ((n - 14) & 63)))
			return SDR_RELAY_PASS_MTU;
		if (bpf_xdp_adjust_head(ctx, -delta))
			return SDR_RELAY_PASS_MTU;
		if (bpf_xdp_store_bytes(ctx, 0, r->hdr, 14 + ((n - 14) & 63)))
			return SDR_RELAY_PASS_SHAPE;
		head = 1;
	}

	/* the message: kept runs of the copy and the generated bytes, one
	 * edit per call (straight-line: clang lays a loop here out with a
	 * fall-through into its head, a "back-edge" to Linux 6.1) */
	r->cp_src = 0;
	r->cp_o = 0;
	if (!sd_rl_put(ctx, r, 0, len, msg_off, head) &&
	    !sd_rl_put(ctx, r, 1, len, msg_off, head) &&
	    !sd_rl_put(ctx, r, 2, len, msg_off, head) &&
	    !sd_rl_put(ctx, r, 3, len, msg_off, head) &&
	    !sd_rl_put(ctx, r, 4, len, msg_off, head))
		sd_rl_put(ctx, r, 5, len, msg_off, head);

	r->nlen = nlen;
	return ok;
}

/*
 * The UDP checksum updated from the one the packet came with (RFC 1624:
 * the sum less what went, plus what came), for sd_rl_hdrs() once
 * r->pseudo holds the new pseudo header and UDP header: only the message
 * up to the unchanged tail is summed, not the tail.  In one's complement
 * (16-bit lanes from the message's even offsets; the byte order of the
 * loads does not matter, it is the same everywhere):
 *   tail  = ~check - old pseudo/UDP header - copy[0, otail)
 *           + (Max-Forwards' bytes after - before, sd_rl_maxfwd())
 *   (the copy is the message with Max-Forwards already decremented: the
 *   last term makes the sum the old packet's)
 *   the tail moved by an odd number of bytes: its lanes are the other
 *   byte of each pair, its sum byte-swapped;
 *   sum   = tail + new pseudo/UDP header + frame message[0, ntail).
 * The 16-bit sum (not complemented), -2 for a checksum left to offload
 * (the whole sum is needed), or -1.  Global: verified once.
 */
__noinline int sd_rl_csum_upd(struct xdp_md *ctx)
{
	struct sd_rl *r = sd_rl_get();
	__u32 fam, nb, ot, nt, len, nlen, msg_off, n4, n, i, w, t;
	__s64 s;
	__u64 acc;

	if (!r || !ctx)
		return -1;
	fam = r->family;
	ot = r->otail;
	nt = r->ntail;
	len = r->len;
	nlen = r->nlen;
	msg_off = r->msg_off;
	if (len > SD_RL_MSG_MAX || nlen > SD_RL_MSG_MAX || ot > len ||
	    nt > nlen || nlen - nt != len - ot || msg_off > 256)
		return -1;
	/* a checksum the sender left to offload (CHECKSUM_PARTIAL: veth
	 * hands XDP such frames) holds the pseudo header's sum alone:
	 * the caller sums the whole message then (a real checksum equal to
	 * it by chance gets the same result that way) */
	s = bpf_csum_diff(0, 0, (void *)r->opseudo, fam == 4 ? 12 : 40, 0);
	if (s < 0)
		return -1;
	if (sd_rl_fold(s) == r->ocheck)
		return -2;
	/* the old message: the old total less the old headers */
	nb = fam == 4 ? 20 : 48;
	s = bpf_csum_diff((void *)r->opseudo, nb, 0, 0, (__u16)~r->ocheck);
	if (s < 0)
		return -1;
	/* less the copy before the tail: whole words, then 1-3 bytes */
	n4 = ot & ~3u;
	for (i = 0; i < 3; i++) {
		if (512 * i >= n4)
			break;
		n = n4 - 512 * i;
		n = n >= 512 ? 512 : n & 508;
		s = bpf_csum_diff((void *)(r->in + 512 * i), n, 0, 0,
				  (__u32)s);
		if (s < 0)
			return -1;
	}
	acc = (__u32)s;
	if (ot & 3) {
		w = *(__u32 *)(r->in + (n4 & (SD_RL_MASK & ~3u)));
		w &= (1u << (8 * (ot & 3))) - 1;
		acc += (__u32)~w;
	}
	acc += r->mf_new;
	acc += (__u32)~r->mf_old;
	t = sd_rl_fold(acc);
	if ((nlen - len) & 1)
		t = ((t >> 8) | (t << 8)) & 0xffff;
	/* plus the new headers and the new message before the tail */
	s = bpf_csum_diff(0, 0, (void *)r->pseudo, nb, t);
	if (s < 0)
		return -1;
	acc = (__u32)s;
	if (nt) {
		if (bpf_xdp_load_bytes(ctx, msg_off, r->in + 2048,
				       1 + ((nt - 1) & SD_RL_MASK)))
			return -1;
		n4 = nt & ~3u;
		for (i = 0; i < 3; i++) {
			if (512 * i >= n4)
				break;
			n = n4 - 512 * i;
			n = n >= 512 ? 512 : n & 508;
			s = bpf_csum_diff(0, 0, (void *)(r->in + 2048 + 512 * i),
					  n, (__u32)s);
			if (s < 0)
				return -1;
		}
		acc = (__u32)s;
		if (nt & 3) {
			w = *(__u32 *)(r->in + 2048 +
				       (n4 & (SD_RL_MASK & ~3u)));
			w &= (1u << (8 * (nt & 3))) - 1;
			acc += w;
		}
	}
	return sd_rl_fold(acc);
}

/*
 * The second half of sd_rl_emit(): Ethernet from the FIB, IP and UDP
 * headers, checksums, the verdict.  A function of its own for the
 * stack (512 bytes along a call chain).
 */
__noinline int sd_rl_hdrs(struct xdp_md *ctx, int ok)
{
	struct sd_rl *r = sd_rl_get();
	void *data, *end, *l3, *l4;
	__u32 nlen, i, n, l3_off, msg_off, tot, ulen, fam;
	__s64 sum;
	__u64 s;

	if (!r || !ctx)
		return SDR_RELAY_PASS_SHAPE;
	nlen = r->nlen;
	msg_off = r->msg_off;
	l3_off = r->l3_off;
	fam = r->family;
	if (nlen > SD_RL_MSG_MAX || msg_off > 256 || l3_off > 64)
		return SDR_RELAY_PASS_SHAPE;
	ulen = nlen + 8;
	tot = fam == 4 ? ulen + 20 : ulen;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + 14 > end)
		return SDR_RELAY_PASS_SHAPE;	/* cannot happen */
	__builtin_memcpy(data, r->fib.dmac, 6);
	__builtin_memcpy(data + 6, r->fib.smac, 6);
	l3 = data + (l3_off & 63);
	if (fam == 4) {
		struct iphdr *ip = l3;

		if (l3 + 28 > end)
			return SDR_RELAY_PASS_SHAPE;
		ip->tot_len = bpf_htons(tot);
		ip->ttl = 64;
		__builtin_memcpy(&ip->saddr, r->hop.saddr, 4);
		__builtin_memcpy(&ip->daddr, r->hop.daddr, 4);
		ip->check = 0;
		s = 0;
#pragma unroll
		for (i = 0; i < 10; i++)
			s += ((__u16 *)ip)[i];
		ip->check = ~sd_rl_fold(s);
		l4 = l3 + 20;
	} else {
		struct ipv6hdr *ip6 = l3;

		if (l3 + 48 > end)
			return SDR_RELAY_PASS_SHAPE;
		ip6->payload_len = bpf_htons(ulen);
		ip6->hop_limit = 64;
		__builtin_memcpy(&ip6->saddr, r->hop.saddr, 16);
		__builtin_memcpy(&ip6->daddr, r->hop.daddr, 16);
		l4 = l3 + 40;
	}
	{
		struct udphdr *u = l4;

		if (l4 + 8 > end)
			return SDR_RELAY_PASS_SHAPE;
		u->source = bpf_htons(r->hop.sport);
		u->dest = bpf_htons(r->hop.dport);
		u->len = bpf_htons(ulen);
		u->check = 0;
	}

	/* UDP checksum: pseudo header and UDP header, then the message */
	__builtin_memset(r->pseudo, 0, sizeof(r->pseudo));
	if (fam == 4) {
		__builtin_memcpy(r->pseudo, r->hop.saddr, 4);
		__builtin_memcpy(r->pseudo + 4, r->hop.daddr, 4);
		r->pseudo[9] = IPPROTO_UDP;
		r->pseudo[10] = ulen >> 8;
		r->pseudo[11] = ulen & 0xff;
		n = 12;
	} else {
		__builtin_memcpy(r->pseudo, r->hop.saddr, 16);
		__builtin_memcpy(r->pseudo + 16, r->hop.daddr, 16);
		r->pseudo[34] = ulen >> 8;
		r->pseudo[35] = ulen & 0xff;
		r->pseudo[39] = IPPROTO_UDP;
		n = 40;
	}
	/* the UDP header (checksum 0) */
	r->pseudo[n] = r->hop.sport >> 8;
	r->pseudo[n + 1] = r->hop.sport & 0xff;
	r->pseudo[n + 2] = r->hop.dport >> 8;
	r->pseudo[n + 3] = r->hop.dport & 0xff;
	r->pseudo[n + 4] = ulen >> 8;
	r->pseudo[n + 5] = ulen & 0xff;
	if (r->ocheck) {
		/* updated from the sum the packet came with */
		sum = sd_rl_csum_upd(ctx);
		if (sum >= 0)
			goto put;
		if (sum != -2)
			return SDR_RELAY_PASS_SHAPE;
	}
	/* a packet without UDP checksum (IPv4), or with the pseudo
	 * header's sum alone (left to offload): the whole sum */
	sum = bpf_csum_diff(0, 0, (void *)r->pseudo, fam == 4 ? 20 : 48, 0);
	if (sum < 0)
		return SDR_RELAY_PASS_SHAPE;
	/* the message as written, back into the scratch, zero-padded */
	n = nlen & SD_RL_MASK;
	if (!n || bpf_xdp_load_bytes(ctx, msg_off, r->in,
				     1 + ((n - 1) & SD_RL_MASK)))
		return SDR_RELAY_PASS_SHAPE;
	SD_OPAQUE(n);	/* masked again below: 6.1 lost the bound of a spill */
	*(__u32 *)(r->in + (n & SD_RL_MASK)) = 0;
	for (i = 0; i < 3; i++) {
		if (512 * i >= nlen)
			break;
		n = nlen - 512 * i;
		n = n >= 512 ? 512 : (n + 3) & 1020;
		sum = bpf_csum_diff(0, 0, (void *)(r->in + 512 * i), n,
				    (__u32)sum);
		if (sum < 0)
			return SDR_RELAY_PASS_SHAPE;
	}
put:
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	l4 = data + (l3_off & 63) + (fam == 4 ? 20 : 40);
	if (l4 + 8 > end)
		return SDR_RELAY_PASS_SHAPE;
	{
		__u16 c = ~sd_rl_fold((__u32)sum);

		((struct udphdr *)l4)->check = c ? c : 0xffff;
	}
	if (r->fib.ifindex == ctx->ingress_ifindex)
		r->verdict = XDP_TX;
	else
		r->verdict = bpf_redirect(r->fib.ifindex, 0);
	return ok;
}

/* sd_rl_out() then sd_rl_hdrs(): the reason (see sd_rl_out()). */
static __always_inline int sd_rl_emit(struct xdp_md *ctx, int ok)
{
	int rc = sd_rl_out(ctx, ok);

	if (rc != ok)
		return rc;
	return sd_rl_hdrs(ctx, ok);
}

/*
 * Frame layout and the message copy: 0, or the reason to pass.  Shared
 * by both directions.
 */
static __always_inline int sd_rl_load(struct xdp_md *ctx, struct sd_rl *r,
				      const struct sd_pkt *p)
{
	__u32 len;

	if (p->vlans || p->l4_proto != IPPROTO_UDP ||
	    p->l4_off != p->l3_off + (p->family == 4 ? 20 : 40) ||
	    p->l3_off != 14)
		return SDR_RELAY_PASS_SHAPE;
	len = p->udp_len - 8u;
	if (p->udp_len < 8 + 16 || len > SD_RL_MSG_MAX ||
	    p->payload_off + len > p->len)
		return SDR_RELAY_PASS_MTU;
	len = 16 + ((len - 16) & SD_RL_MASK);	/* the same; > 0 for 6.1 */
	if (len > SD_RL_MSG_MAX)
		return SDR_RELAY_PASS_MTU;
	r->len = len;
	r->msg_off = p->payload_off;
	r->l3_off = p->l3_off;
	r->family = p->family;
	r->nedit = 0;
	r->mf_old = 0;
	r->mf_new = 0;
	if (bpf_xdp_load_bytes(ctx, p->payload_off, r->in, len))
		return SDR_RELAY_PASS_SHAPE;
	/* the pseudo header and UDP header as they came, laid out as
	 * sd_rl_hdrs() lays out the new ones: the checksum is updated */
	if (p->family == 4) {
		if (bpf_xdp_load_bytes(ctx, p->l3_off + 12, r->opseudo, 8) ||
		    bpf_xdp_load_bytes(ctx, p->l4_off, r->opseudo + 12, 8))
			return SDR_RELAY_PASS_SHAPE;
		*(__u32 *)(r->opseudo + 8) =
			IPPROTO_UDP << 8 | (__u32)*(__u16 *)(r->opseudo + 16) << 16;
		r->ocheck = *(__u16 *)(r->opseudo + 18);
		*(__u16 *)(r->opseudo + 18) = 0;
	} else {
		if (bpf_xdp_load_bytes(ctx, p->l3_off + 8, r->opseudo, 32) ||
		    bpf_xdp_load_bytes(ctx, p->l4_off, r->opseudo + 40, 8))
			return SDR_RELAY_PASS_SHAPE;
		*(__u64 *)(r->opseudo + 32) =
			(__u64)IPPROTO_UDP << 56 |
			(__u64)*(__u16 *)(r->opseudo + 44) << 16;
		r->ocheck = *(__u16 *)(r->opseudo + 46);
		*(__u16 *)(r->opseudo + 46) = 0;
	}
	/* 16 zero bytes after the message: the walk reads whole words */
	*(__u64 *)(r->in + (len & SD_RL_MASK)) = 0;
	*(__u64 *)(r->in + (len & SD_RL_MASK) + 8) = 0;
	return 0;
}

/*
 * Max-Forwards of the walked request: 1-3 digits, > 0, decremented in
 * the copy keeping its width ("10" -> "09").  0, or -1: to the
 * controller (0, absent, not a number).  Global: verified once.
 */
__noinline int sd_rl_maxfwd(void)
{
	struct sd_rl *r = sd_rl_get();
	__u32 mfs, mfe, n, val, i;
	__u64 w, dg;

	if (!r || !r->mf_ls)
		return -1;
	mfe = r->mf_le;
	if (mfe > SD_RL_MSG_MAX)
		return -1;
	mfs = sd_rl_vstart(r, r->mf_ls, mfe, 12);
	if (!mfs)
		return -1;
	w = sd_rl_word(r, mfs, mfe);
	dg = sd_digit_bytes(w);
	n = sd_first8(~dg & SD_HIGH);	/* digits */
	if (!n || n > 3 || mfs + n > mfe)
		return -1;
	/* only SP/HTAB after the digits */
	if (mfs + n < mfe &&
	    sd_skip_ws(sd_rl_word(r, mfs + n, mfe)) < mfe - mfs - n)
		return -1;
	val = sd_rl_dec(w, n);
	if (!val)
		return -1;
	val--;
	/* the 4 bytes from the even offset before the digits, before and
	 * after: the UDP checksum is updated by their difference */
	r->mf_old = *(__u32 *)(r->in + ((mfs & ~1u) & SD_RL_MASK));
	for (i = 0; i < 3; i++) {
		if (i >= n)
			break;
		r->in[(mfs + n - 1 - i) & SD_RL_MASK] = '0' + val % 10;
		val /= 10;
	}
	r->mf_new = *(__u32 *)(r->in + ((mfs & ~1u) & SD_RL_MASK));
	return 0;
}

/*
 * Our Via line into gen[0, 256): r->hop's sent-by, the branch of key
 * (@he, @hi), direction @d, 'k' and the hash of the top Via's branch
 * (r->via[0]).  Its length in r->gen_via_len.  Global: verified once.
 */
__noinline int sd_rl_gen_via(__u32 he, __u32 hi, __u32 d)
{
	struct sd_rl *r = sd_rl_get();
	struct sd_rl_via *v;
	__u32 o, i, blen;
	__u64 h, w;

	if (!r)
		return -1;
	v = &r->via[0];
	if (!r->hop.sentby_len || r->hop.sentby_len > 64 || !v->br_s ||
	    v->br_e <= v->br_s || v->br_e - v->br_s > 64 ||
	    v->br_e > SD_RL_MSG_MAX)
		return -1;
	*(__u64 *)(r->gen + 0) = SD_W8('V', 'i', 'a', ':', ' ', 'S', 'I', 'P');
	*(__u64 *)(r->gen + 8) = SD_W8('/', '2', '.', '0', '/', 'U', 'D', 'P');
	r->gen[16] = ' ';
#pragma unroll
	for (i = 0; i < 8; i++)
		*(__u64 *)(r->gen + 17 + 8 * i) = *(__u64 *)(r->hop.sentby + 8 * i);
	o = 17 + r->hop.sentby_len;
	*(__u64 *)(r->gen + (o & 127)) = SD_W8(';', 'b', 'r', 'a', 'n', 'c', 'h', '=');
	*(__u64 *)(r->gen + ((o + 8) & 127)) = SD_W8('z', '9', 'h', 'G', '4', 'b', 'K', 's');
	r->gen[(o + 16) & 127] = 'd';
	o += 17;
	/* RH(he) . RH(hi) . D k: each loop leaves o through memory */
	for (i = 0; i < 8; i++) {
		r->gen[o++ & 255] = sd_rl_hexc(he);
		he >>= 4;
		if (!he)
			break;
	}
	r->gen[o++ & 255] = '.';
	SD_WR(r->txo, o);
	o = SD_RD(r->txo);
	for (i = 0; i < 8; i++) {
		r->gen[o++ & 255] = sd_rl_hexc(hi);
		hi >>= 4;
		if (!hi)
			break;
	}
	SD_WR(r->txo, o);
	o = SD_RD(r->txo) & 127;
	r->gen[o] = '.';
	r->gen[o + 1] = '0' + (d & 1);
	r->gen[o + 2] = 'k';
	o += 3;
	/* TXN: the hash of the incoming branch */
	blen = v->br_e - v->br_s;
	h = sipdlg_hash_init(blen);
	for (i = 0; i < 8; i++) {
		if (8 * i >= blen)
			break;
		w = sd_rl_word(r, v->br_s + 8 * i, v->br_e);
		h = sipdlg_hash_step(h, w);
	}
	h = sipdlg_hash_final(h);
	*(__u64 *)(r->gen + o) = sd_rl_hex8(h >> 32);
	*(__u64 *)(r->gen + o + 8) = sd_rl_hex8((__u32)h);
	r->gen[o + 16] = '\r';
	r->gen[o + 17] = '\n';
	r->gen_via_len = o + 18;
	return 0;
}

/*
 * received/rport for the sender's Via (r->via[0]) into gen[256, 448),
 * length in r->gen_rc_len (0: nothing to add): a bare rport gets
 * ";received=<src>;rport=<@sport>" (the ";rport" itself is removed by
 * an edit), otherwise ";received=<src>" when the sent-by host is not
 * the source address as text (IPv6: always).  Global: verified once.
 */
__noinline int sd_rl_gen_rcv(struct xdp_md *ctx, __u32 sport)
{
	struct sd_rl *r = sd_rl_get();
	struct sd_rl_via *v;
	__u32 n, o, k = 0, hl, i, c, nd;
	__u64 a, b;

	if (!r || !ctx)
		return -1;
	v = &r->via[0];
	n = sd_rl_addr_txt(ctx, 448);
	if (!n || n > 39)
		return -1;
	hl = v->host_e - v->host_s;
	if (r->family != 4 || v->rp_s || hl != n || v->host_e > SD_RL_MSG_MAX) {
		k = 1;
	} else {
		/* at most 15 bytes: two words each */
		a = sd_rl_word(r, v->host_s, v->host_e);
		b = *(__u64 *)(r->gen + 448) & sd_low_bytes(n);
		k = a != b;
		if (n > 8) {
			a = sd_rl_word(r, v->host_s + 8, v->host_e);
			b = *(__u64 *)(r->gen + 456) & sd_low_bytes(n - 8);
			k |= a != b;
		}
	}
	o = 256;
	if (k) {
		*(__u64 *)(r->gen + 256) = SD_W8(';', 'r', 'e', 'c', 'e', 'i', 'v', 'e');
		*(__u16 *)(r->gen + 264) = SD_W8('d', '=', 0, 0, 0, 0, 0, 0);
		if (sd_rl_addr_txt(ctx, 266) != (int)n)
			return -1;
		o = 266 + n;
	}
	if (v->rp_s) {
		o &= 511;
		if (o > 320)
			return -1;
		*(__u64 *)(r->gen + o) = SD_W8(';', 'r', 'p', 'o', 'r', 't', '=', 0);
		o += 7;
		c = sport;
		nd = c >= 10000 ? 5 : c >= 1000 ? 4 : c >= 100 ? 3 : c >= 10 ? 2 : 1;
		for (i = 0; i < 5; i++) {
			if (i >= nd)
				break;
			r->gen[(o + nd - 1 - i) & 511] = '0' + c % 10;
			c /= 10;
		}
		o += nd;
	}
	r->gen_rc_len = o - 256;
	return 0;
}

/*
 * Our Route entries as edits (r->hop.nroutes of them), after the Via
 * edits.  0, or -1 (shape).  Global: verified once.
 */
__noinline int sd_rl_routes(void)
{
	struct sd_rl *r = sd_rl_get();
	__u32 ls, le, v, a, b, k;

	if (!r || !r->nrt)
		return -1;
	k = r->hop.nroutes;
	ls = r->rt_ls[0];
	le = r->rt_le[0];
	if (le > SD_RL_MSG_MAX)
		return -1;
	v = sd_rl_vstart(r, ls, le, 5);
	if (!v)
		return -1;
	a = sd_rl_entry(r, v, le, 1);
	if (!a)
		return -1;
	if (k == 2 && a < le) {
		/* the second of ours in the same line */
		b = sd_rl_entry(r, a, le, 0);
		if (!b)
			return -1;
		a = b;
		k = 1;
	}
	/* line 0: all of it, or up to the first entry we keep */
	if (a >= le) {
		if (sd_rl_edit(r, ls, r->rt_nx[0] - ls, 0, 0))
			return -1;
	} else if (sd_rl_edit(r, v, a - v, 0, 0)) {
		return -1;
	}
	if (k != 2)
		return 0;
	/* the second of ours opens the second Route line */
	if (r->nrt < 2)
		return -1;
	ls = r->rt_ls[1];
	le = r->rt_le[1];
	if (le > SD_RL_MSG_MAX)
		return -1;
	v = sd_rl_vstart(r, ls, le, 5);
	if (!v)
		return -1;
	a = sd_rl_entry(r, v, le, 0);
	if (!a)
		return -1;
	if (a >= le)
		return sd_rl_edit(r, ls, r->rt_nx[1] - ls, 0, 0);
	return sd_rl_edit(r, v, a - v, 0, 0);
}

/* sip_match.h, included after this file */
static __always_inline __u64 sd_now(void);
static __always_inline void sd_event(struct xdp_md *ctx,
				     const struct sd_pkt *p,
				     const struct sd_sip *s, __u32 type,
				     __u32 reason, __u32 dir, __u64 now);

/*
 * relay.ack: the ACK of the 2xx of the dialog in r->key went out
 * (SDR_RELAY_REQ): the dialog is confirmed in the kernel (the callee tag
 * the ACK was checked against, then state 4, so a tight match never
 * sees state 4 without it), and the controller is told once
 * (compare-and-swap of the state: a retransmitted ACK relayed on
 * another CPU meanwhile sends nothing).  The controller confirms its
 * dialog from the event without writing the value again
 * (user/fastpath/fp_ack.c).  Global, with its own lookup of the value:
 * inline, its event's stack pushed the program's combined stack over
 * Linux 6.1's 512 bytes.  Returns 1 if the event was queued.
 */
__noinline int sd_relay_ack_done(struct xdp_md *ctx, const struct sd_pkt *p,
				 const struct sd_sip *s)
{
	struct sd_rl *r = sd_rl_get();
	struct sipdlg_dlg_value *v;
	__u32 old;

	if (!r || !ctx || !p || !s)
		return 0;
	v = bpf_map_lookup_elem(&dialogs, &r->key);
	if (!v)
		return 0;
	old = v->state;
	if (old >= 4)
		return 0;
	v->callee_tag_hash = r->ack_tag;
	if (__sync_val_compare_and_swap(&v->state, old, 4) != old)
		return 0;
	sd_event(ctx, p, s, SDE_ACK_CONFIRMED, SDR_RELAY_REQ,
		 SDD_CALLER_TO_CALLEE, sd_now());
	return 1;
}

/*
 * The request relay, after the tight match: @d the request's direction,
 * @chash the dialog's Call-ID hash (compared here when the matcher did
 * not: with a verified MAC it reads no Call-ID).  SDR_RELAY_REQ or a
 * SDR_RELAY_PASS_* reason.  Global: verified once.
 */
__noinline int sd_relay_req(struct xdp_md *ctx, const struct sd_pkt *p,
			    struct sd_sip *s, int d, __u64 chash)
{
	struct sipdlg_relay_hops *hops;
	struct sd_rl *r = sd_rl_get();
	struct sd_rl_via *v;
	int rc;

	if (!r || !ctx || !p || !s)
		return SDR_RELAY_PASS_SHAPE;
	/* only the caller's ACK of the 2xx (otherwise the gate's reason, as
	 * for any request it does not relay) */
	if (s->method == SDM_ACK && d != SDD_CALLER_TO_CALLEE)
		return SDR_DLG_MATCH;
	/* an ACK's Contact refreshes nothing (RFC 3261 12.2): kept as is */
	if ((s->have & SD_F_CONTACT) && s->method != SDM_ACK)
		return SDR_RELAY_PASS_CONTACT;
	if ((s->have & SD_F_MACOK) && !(s->have & SD_F_CALLID))
		return SDR_RELAY_PASS_CALLID;
	if ((s->have & SD_F_CALLID) && s->callid_hash != chash)
		return SDR_RELAY_PASS_CALLID;
	/* the key from the scratch: Linux 6.1 takes no key pointer
	 * that came in as a global function's argument */
	__builtin_memcpy(&r->key, &s->key, sizeof(r->key));
	hops = bpf_map_lookup_elem(&relay_hops, &r->key);
	if (!hops)
		return SDR_RELAY_PASS_NOHOP;
	if (s->method == SDM_ACK) {
		/* the ACK of the 2xx the controller relayed: its To-tag */
		r->ack_tag = (__u64)hops->dir[1].ack_tag << 32 |
			     hops->dir[0].ack_tag;
		if (!r->ack_tag || r->ack_tag != s->ttag_hash)
			return SDR_RELAY_PASS_ACK_TAG;
	}
	d &= 1;
	__builtin_memcpy(&r->hop, &hops->dir[d], sizeof(r->hop));
	if (!r->hop.family)
		return SDR_RELAY_PASS_NOHOP;
	if (r->hop.family != p->family ||
	    (r->hop.nroutes != 1 && r->hop.nroutes != 2))
		return SDR_RELAY_PASS_SHAPE;
	rc = sd_rl_load(ctx, r, p);
	if (rc)
		return rc;
	if (sd_rl_walk(0) != SD_RLW_OK)
		return SDR_RELAY_PASS_SHAPE;
	if (r->contact && s->method != SDM_ACK)
		return SDR_RELAY_PASS_CONTACT;
	/* the top Via (received/rport are for us to add), before Route */
	if (!r->nvia || !r->sl_end || sd_rl_via(0))
		return SDR_RELAY_PASS_SHAPE;
	v = &r->via[0];
	if (v->rport || v->rc_s || !r->nrt || r->rt_ls[0] < v->parm_end)
		return SDR_RELAY_PASS_SHAPE;
	if (sd_rl_maxfwd())
		return SDR_RELAY_PASS_MAXFWD;
	if (sd_rl_gen_via(s->key.h_entry, s->key.h_id, d) ||
	    sd_rl_gen_rcv(ctx, p->sport))
		return SDR_RELAY_PASS_SHAPE;
	/* the edits, in order: our Via, the sender's Via, our Routes */
	if (sd_rl_edit(r, r->sl_end, 0, 0, r->gen_via_len))
		return SDR_RELAY_PASS_SHAPE;
	if (v->rp_s && sd_rl_edit(r, v->rp_s, v->rp_e - v->rp_s, 0, 0))
		return SDR_RELAY_PASS_SHAPE;
	if (r->gen_rc_len &&
	    sd_rl_edit(r, v->parm_end, 0, 256, r->gen_rc_len))
		return SDR_RELAY_PASS_SHAPE;
	if (sd_rl_routes())
		return SDR_RELAY_PASS_SHAPE;
	rc = sd_rl_emit(ctx, SDR_RELAY_REQ);
	/* here, not in the gate: nothing of the caller's is live after its
	 * call, which keeps the program's own stack frame as it was */
	if (rc == SDR_RELAY_REQ && s->method == SDM_ACK)
		sd_relay_ack_done(ctx, p, s);
	return rc;
}

/*
 * The reply relay, after sd_reply() matched our branch (s->key,
 * s->branch_dir): only a kernel branch ('k' after D), the top Via line
 * ours alone.  SDR_RELAY_REPLY or a SDR_RELAY_PASS_* reason; @no the
 * reason for a reply that is not the kernel's (the matcher's own).
 */
__noinline int sd_relay_reply(struct xdp_md *ctx, const struct sd_pkt *p,
			      struct sd_sip *s, int no)
{
	struct sipdlg_relay_hops *hops;
	struct sd_rl *r = sd_rl_get();
	struct sd_rl_via *v;
	__u32 i, dots, b, port, fam, cut, cut_len, q, n, le;
	int rc;

	if (!r || !ctx || !p || !s)
		return no;
	rc = sd_rl_load(ctx, r, p);
	if (rc)
		return rc == SDR_RELAY_PASS_SHAPE ? no : rc;
	if (sd_rl_walk(1) != SD_RLW_OK || !r->nvia || sd_rl_via(0))
		return no;
	v = &r->via[0];
	/* the kernel's branch: prefix RH . RH . D 'k' */
	b = v->br_s;
	if (!b || v->br_e < b + 16 || v->br_e > SD_RL_MSG_MAX)
		return no;
	dots = 0;
	for (i = SIPDLG_BRANCH_PREFIX_LEN; i < 28; i++) {
		if (b + i >= v->br_e)
			return no;
		if (SD_RL_B(r, b + i) == '.' && ++dots == 2)
			break;
	}
	if (dots != 2 || SD_RL_B(r, b + i + 2) != 'k')
		return no;
	/* ours: from here on it is relayed or passed with a reason */
	le = r->via_le[0];
	if (v->more) {
		/* "Via: ours, theirs" in one line (sipp writes that): our
		 * via-parm, the comma and the SP/HTAB after it go, the next
		 * via-parm is the next hop */
		q = v->parm_end + 1;
		if (q >= le || le > SD_RL_MSG_MAX)
			return SDR_RELAY_PASS_SHAPE;
		n = sd_skip_ws(sd_rl_word(r, q, le));
		if (n > 7 || q + n >= le)
			return SDR_RELAY_PASS_SHAPE;
		r->via_ps1 = q + n;
		r->via_ls[1] = r->via_ls[0];
		r->via_le[1] = le;
		cut = v->parm_s;
		cut_len = q + n - cut;
	} else {
		if (v->parm_end != le || r->nvia < 2)
			return SDR_RELAY_PASS_SHAPE;
		r->via_ps1 = 0;
		cut = r->via_ls[0];
		cut_len = r->via_nx[0] - cut;
	}
	if (sd_rl_via(1))
		return SDR_RELAY_PASS_SHAPE;
	v = &r->via[1];
	if (v->rc_s)
		fam = sd_rl_ip(v->rc_s, v->rc_e);
	else
		fam = sd_rl_ip(v->host_s, v->host_e);
	if (fam != 4 && fam != 6)
		return SDR_RELAY_PASS_SHAPE;
	port = v->rport ? v->rport : v->port ? v->port : 5060;
	/* the key from the scratch: Linux 6.1 takes no key pointer
	 * that came in as a global function's argument */
	__builtin_memcpy(&r->key, &s->key, sizeof(r->key));
	hops = bpf_map_lookup_elem(&relay_hops, &r->key);
	if (!hops)
		return SDR_RELAY_PASS_NOHOP;
	/* from the socket that sends the other way */
	__builtin_memcpy(&r->hop, &hops->dir[(s->branch_dir & 1) ^ 1],
			 sizeof(r->hop));
	if (!r->hop.family)
		return SDR_RELAY_PASS_NOHOP;
	if (r->hop.family != fam || fam != p->family)
		return SDR_RELAY_PASS_SHAPE;
	__builtin_memcpy(r->hop.daddr, r->ip, 16);
	r->hop.dport = port;
	if (sd_rl_edit(r, cut, cut_len, 0, 0))
		return SDR_RELAY_PASS_SHAPE;
	return sd_rl_emit(ctx, SDR_RELAY_REPLY);
}

/*
 * Called by sd_request() (sip_match.h) with the reason sd_matched() gave
 * a tight match of dialog @v in direction @d: the request is relayed
 * only with the relay on, the match counted (not rate-limited) and its
 * method in relay_methods; then either the dialog is confirmed (state 4)
 * and the method is not ACK, or (relay.ack: the SDM_ACK bit, set by the
 * controller, never by relay.methods) it is the ACK of the 2xx: caller
 * to callee while the kernel's state is below 4 (the controller writes
 * no state 3: 1 or 3 here, by how the dialog got into the map); the
 * To-tag is checked in sd_relay_req() against the one the controller
 * put in relay_hops when it relayed the 2xx.  The ACK of a re-INVITE
 * (state 4) and a retransmitted ACK go to the controller.  Once a BYE
 * matched the dialog (bye_seen), nothing more is relayed in it.
 */
static __always_inline int sd_relay_req_gate(struct xdp_md *ctx,
					     const struct sd_pkt *p,
					     struct sd_sip *s,
					     const struct sipdlg_dlg_value *v,
					     int d, int reason)
{

	if (!relay_enabled || reason != SDR_DLG_MATCH ||
	    s->method >= 32 || !((relay_methods >> s->method) & 1))
		return reason;
	/* a BYE seen either way ended the dialog: nothing is relayed in it
	 * from then on (the controller deletes its relay_hops entry in the
	 * next batch, not at once, after a BYE the kernel saw) */
	if (v->bye_seen)
		return reason;
	if (s->method == SDM_ACK ? v->state >= 4 : v->state != 4)
		return reason;
	/* an ACK (direction checked there: here it cost the program's
	 * frame a stack slot) relayed confirms the dialog there
	 * (sd_relay_ack_done) */
	return sd_relay_req(ctx, p, s, d, v->callid_hash);
}

/* Called by sd_reply() (sip_match.h) once a reply matched our branch. */
static __always_inline int sd_relay_reply_gate(struct xdp_md *ctx,
					       const struct sd_pkt *p,
					       const struct sd_sip *s)
{
	if (!relay_enabled)
		return SDR_DLG_REPLY_MATCH;
	return sd_relay_reply(ctx, p, (struct sd_sip *)s, SDR_DLG_REPLY_MATCH);
}

#endif /* SIPDLG_BPF_SIP_RELAY_H */
