/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sipdlg_shared.h - the one definition of every structure the XDP program
 * and the controller exchange through BPF maps and the ring buffer.
 *
 * Rules (see STYLE.md): this header includes nothing and uses only
 * fixed-width types, so it compiles unchanged with clang -target bpf (after
 * vmlinux.h) and with gcc in user space (after <linux/types.h>).  Each
 * struct carries a _Static_assert on its size so that both compilers agree
 * on the layout.  Map values are append-only: pinned maps survive a
 * controller restart, and an older pin must still read correctly.
 */
#ifndef SIPDLG_SHARED_H
#define SIPDLG_SHARED_H

/* Limits shared by both sides. */
#define SIPDLG_MAX_SIP_PORTS 8		/* UDP ports the fast path watches */
#define SIPDLG_REASON_SLOTS 64		/* size of the counters array */
#define SIPDLG_MAX_DIALOGS (1u << 20)	/* dialogs map capacity */
#define SIPDLG_RINGBUF_BYTES (256 * 1024)
#define SIPDLG_MAX_VLAN_TAGS 2
#define SIPDLG_MAX_CALLIDS SIPDLG_MAX_DIALOGS /* callids map capacity */

/*
 * What the SIP scan of the fast path reads.  A message that needs more
 * than this is passed and counted as SDR_SIP_SCAN_LIMIT.
 */
#define SIPDLG_RR_PARAM_MAX 32		/* rr_param knob, bytes (Kamailio's limit) */
#define SIPDLG_SCAN_MAX_LINES 40	/* header lines after the start line */
#define SIPDLG_SCAN_MAX_BYTES 2048	/* bytes of the UDP payload scanned */
#define SIPDLG_SCAN_MAX_LINE 1024	/* bytes of one line, line end included */
#define SIPDLG_SCAN_MAX_VALUE 512	/* bytes of a Route/Via/From/To value */
#define SIPDLG_CALLID_MAX 256		/* longest Call-ID the kernel hashes */
#define SIPDLG_TAG_MAX 128		/* longest tag the kernel hashes */
#define SIPDLG_SWS_MAX 7		/* SP/HTAB run skipped around ':', ';', '=' */
#define SIPDLG_CLOCK_PUBLISH_MS 5	/* controller -> kernel time, see "Clock" */

/*
 * Why the fast path let a packet go, or dropped it.  Exactly one reason
 * is counted per packet the program sees.  The values are indexes into
 * the per-CPU "counters" map and are part of the pinned-map contract:
 * append new reasons before SDR_MAX_, never renumber.  Only the reasons
 * marked DROP end in XDP_DROP (sipdlg_reason_drops()); all others pass.
 */
enum sipdlg_reason {
	SDR_NON_IP = 0,		/* not IPv4/IPv6 (ARP, LLDP, ...) */
	SDR_NON_UDP = 1,	/* IP, but not UDP */
	SDR_OTHER_PORT = 2,	/* UDP to a port that is not a SIP port */
	SDR_TRUNCATED = 3,	/* frame ends inside an L2-L4 header, or is
				 * shorter than its UDP length says */
	SDR_IP_FRAGMENT = 4,	/* IPv4/IPv6 fragment: not reassembled */
	SDR_IPV6_EXT = 5,	/* IPv6 extension chain too long or unknown */
	SDR_VLAN_DEPTH = 6,	/* more VLAN tags than we parse */
	/*
	 * A SIP request over IPv4 / IPv6 that is no business of the fast
	 * path: no To-tag (an initial request, CANCEL, an OPTIONS ping),
	 * or no cookie (dlg_match_mode 0), or no cookie and no Call-ID
	 * index hit (modes 1, 2).  Passed.  This is the "sip_no_cookie" of
	 * the fast-path issue, kept under its old names and numbers.
	 */
	SDR_SIP_UDP4 = 7,
	SDR_SIP_UDP6 = 8,
	SDR_BAD_IP_HEADER = 9,	/* IPv4 IHL < 5 or similar nonsense */
	SDR_SIP_NOT_SIP = 10,	/* UDP to a SIP port without a SIP start line */
	SDR_SIP_SCAN_LIMIT = 11, /* needs more than the SIPDLG_SCAN_* limits,
				  * or a Call-ID/tag too long to hash */
	SDR_SIP_FOLDED = 12,	/* header line folding seen before the scan
				 * had what it needed */
	SDR_SIP_REPLY_OTHER = 13, /* reply whose top Via is not our branch */
	SDR_DLG_MATCH = 14,	/* in-dialog request matched and counted */
	SDR_DLG_REPLY_MATCH = 15, /* reply to our in-dialog request, counted */
	SDR_DLG_UNKNOWN = 16,	/* cookie names no dialog: passed */
	SDR_DLG_UNKNOWN_DROP = 17, /* ... dropped (unknown_dialog_drop) DROP */
	SDR_DLG_MISMATCH = 18,	/* dialog found, Call-ID/tags differ: passed */
	SDR_DLG_MISMATCH_DROP = 19, /* ... dropped DROP */
	SDR_DLG_BAD_COOKIE = 20, /* cookie value malformed: passed */
	SDR_DLG_BAD_COOKIE_DROP = 21, /* ... dropped DROP */
	SDR_DLG_MAC_FAIL = 22,	/* cookie MAC missing or wrong: passed */
	SDR_DLG_MAC_FAIL_DROP = 23, /* ... dropped DROP */
	SDR_DLG_RATE_LIMITED = 24, /* over max_dialog_pps: dropped DROP */
	SDR_DLG_REPLY_UNKNOWN = 25, /* our branch, but no such dialog or the
				     * Call-ID differs: passed */
	SDR_SIP_MALFORMED = 26,	/* in-dialog request (To-tag) without a
				 * usable Call-ID or CSeq: passed, the
				 * controller answers it */
	SDR_MULTI_BUFFER = 27,	/* multi-buffer frame: only the first
				 * buffer is visible to XDP */
	SDR_DLG_NOT_IN_KERNEL = 28, /* cookie (or Call-ID) names a dialog the
				 * controller could not write into the
				 * "dialogs" map (full, or an error): its
				 * key is in "overflow", or the fast path
				 * is degraded (sipdlg_fp_state): passed */
	/*
	 * Kernel relay (xdp.relay, struct sipdlg_relay_hops): a request
	 * or a reply the program forwarded itself (XDP_TX / redirect), and
	 * why a request that was eligible (confirmed dialog, tight match,
	 * method in relay_methods) went to the controller after all.
	 */
	SDR_RELAY_REQ = 29,	/* in-dialog request relayed by the kernel */
	SDR_RELAY_REPLY = 30,	/* reply to a kernel-relayed request, relayed */
	SDR_RELAY_PASS_NOHOP = 31, /* no next hop for that direction */
	SDR_RELAY_PASS_MAXFWD = 32, /* Max-Forwards 0, absent or unusable */
	SDR_RELAY_PASS_MTU = 33, /* rewritten packet would not fit */
	SDR_RELAY_PASS_FIB = 34, /* bpf_fib_lookup gave no L2 next hop */
	SDR_RELAY_PASS_SHAPE = 35, /* a shape the rewriter does not handle */
	SDR_RELAY_PASS_CONTACT = 36, /* carries a Contact: target refresh */
	/* xdp.invite_limit: initial INVITE over its source's rate: DROP */
	SDR_INVITE_RATE_DROP = 37,
	/* relay: a verified MAC let the matcher skip the Call-ID, or the
	 * Call-ID differs from the dialog's: the controller decides */
	SDR_RELAY_PASS_CALLID = 38,
	/* relay.ack: the ACK of a 2xx (dialog not confirmed in the kernel)
	 * whose To-tag is not the 2xx's (struct sipdlg_relay_hop ack_tag):
	 * the controller decides */
	SDR_RELAY_PASS_ACK_TAG = 39,
	SDR_MAX_		/* first unused slot; keep last */
};

/* Does @reason end in XDP_DROP? */
static inline int sipdlg_reason_drops(__u32 reason)
{
	return reason == SDR_DLG_UNKNOWN_DROP ||
	       reason == SDR_DLG_MISMATCH_DROP ||
	       reason == SDR_DLG_BAD_COOKIE_DROP ||
	       reason == SDR_DLG_MAC_FAIL_DROP ||
	       reason == SDR_DLG_RATE_LIMITED ||
	       reason == SDR_INVITE_RATE_DROP;
}

_Static_assert(SDR_MAX_ <= SIPDLG_REASON_SLOTS, "reason slots exhausted");

/* One slot of the per-CPU "counters" array. */
struct sipdlg_counter {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct sipdlg_counter) == 16, "counter layout");

/* Key of the "dialogs" map: Kamailio's (h_entry, h_id) pair. */
struct sipdlg_dlg_key {
	__u32 h_entry;
	__u32 h_id;
};
_Static_assert(sizeof(struct sipdlg_dlg_key) == 8, "dialog key layout");

/*
 * Directions, the index of sipdlg_dlg_value.dir[].  A request's direction
 * comes from the tight match (reference section 1.2): caller->callee
 * ("downstream") when its From-tag is the caller's tag and its To-tag the
 * callee's, callee->caller ("upstream") the other way round.  A reply
 * travels opposite to the request it answers.
 */
enum sipdlg_dir {
	SDD_CALLER_TO_CALLEE = 0,
	SDD_CALLEE_TO_CALLER = 1,
};

/* Traffic counters of one direction of one dialog (kernel-written). */
struct sipdlg_dir_stats {
	__u64 packets;		/* requests and replies travelling this way */
	__u64 bytes;		/* their frame bytes */
	__u32 cseq_max;		/* highest CSeq number of a request sent
				 * this way (0: none yet) */
	__u32 replies;		/* how many of `packets` were replies */
};
_Static_assert(sizeof(struct sipdlg_dir_stats) == 24, "dir stats layout");

/* Per-method request counters (index = enum sipdlg_method). */
enum sipdlg_method {
	SDM_OTHER = 0,
	SDM_INVITE = 1,
	SDM_ACK = 2,
	SDM_BYE = 3,
	SDM_CANCEL = 4,
	SDM_OPTIONS = 5,
	SDM_INFO = 6,
	SDM_UPDATE = 7,
	SDM_PRACK = 8,
	SDM_REFER = 9,
	SDM_NOTIFY = 10,
	SDM_MESSAGE = 11,
	SDM_MAX_ = 12
};

/*
 * Value of the "dialogs" map.
 *
 * Identity part, written by the controller when it inserts the dialog
 * and whenever it changes (callee tag learnt on the 2xx): the hashes are
 * sipdlg_hash_bytes() of include/sipdlg_hash.h, never 0 for a value that
 * exists.  Traffic part, written by the kernel with atomic operations; the
 * controller zeroes it on insert and afterwards changes the value only by
 * read-modify-write of the whole element (a hash-map update replaces the
 * element, so increments made between the read and the write are lost:
 * keep such updates rare).
 *
 * Clock: last_seen_ns is CLOCK_MONOTONIC in ns as the controller last
 * published it: a reading of clock_gettime(CLOCK_MONOTONIC) it writes
 * into the program's global sd_clock_ns (section ".data.clock",
 * mmap-ed), read by the kernel with one load instead of a helper call
 * per packet.  sipdlgd's SIP workers write a reading each time they wake
 * up and 0 when the last of them goes to sleep (user/fastpath/fp_clock.c;
 * without workers, a timer every SIPDLG_CLOCK_PUBLISH_MS).  While it is
 * 0 (a program just loaded, no controller, all workers asleep) the
 * kernel reads bpf_ktime_get_coarse_ns() instead, the same clock at
 * jiffy resolution.  Either way it never runs ahead of CLOCK_MONOTONIC
 * and lags it by about one pass of a worker's loop or one tick (1-10 ms,
 * by CONFIG_HZ), more only while the controller itself stalls (when
 * nothing times out anyway).
 * The controller compares it with clock_gettime(CLOCK_MONOTONIC) (or
 * CLOCK_MONOTONIC_COARSE), never with CLOCK_REALTIME or CLOCK_BOOTTIME,
 * and allows that lag.  rl_window is bpf_ktime_get_coarse_ns() in whole
 * seconds (the rate limit never uses the published time, which a
 * stalled controller would stop).
 */
struct sipdlg_dlg_value {
	/* identity, controller-written */
	__u64 callid_hash;	/* Call-ID */
	__u64 caller_tag_hash;	/* From-tag of the initial INVITE */
	__u64 callee_tag_hash;	/* To-tag of the 2xx; 0 while early */
	__u64 created_ns;	/* CLOCK_MONOTONIC, set by the controller */
	/* traffic, kernel-written */
	__u64 last_seen_ns;	/* last matched request or reply, see above */
	__u32 state;		/* controller: 1..5 as in Kamailio */
	__u32 flags;		/* controller: SIPDLG_DLGF_* bits */
	struct sipdlg_dir_stats dir[2]; /* index enum sipdlg_dir */
	__u32 methods[SDM_MAX_]; /* matched requests by method, both ways */
	__u32 bye_seen;		/* bit (1 << dir): a BYE went that way */
	__u32 mismatches;	/* requests whose cookie named this dialog
				 * but whose Call-ID/tags did not match */
	__u32 rl_window;	/* max_dialog_pps: second of the window */
	__u32 rl_count;		/* requests seen in that window */
	__u32 rate_limited;	/* requests dropped by max_dialog_pps */
	__u32 pad;
};
_Static_assert(sizeof(struct sipdlg_dlg_value) == 168, "dialog value layout");

/*
 * sipdlg_dlg_value.flags.
 * SIPDLG_DLGF_NOMAC: the dialog's Record-Route may carry no MAC (it was
 * restored from a database, created before the MAC was switched on, or
 * its MAC key has been rotated out).  With the MAC on, a request whose
 * cookie names such a dialog and whose MAC is missing or wrong gets the
 * full tight match (Call-ID and tags) instead of SDR_DLG_MAC_FAIL.
 */
#define SIPDLG_DLGF_NOMAC 0x1u

/*
 * The "fpstate" array map (one element, pinned beside "dialogs"): what
 * the controller tells the kernel about dialogs it could not write into
 * "dialogs".  Their keys go into the "overflow" hash map (key struct
 * sipdlg_dlg_key, value __u8 1), overflow_n counts them; when even that
 * fails (or a "callids" insert fails) `degraded` is set and the kernel
 * passes every request whose dialog it cannot find instead of dropping
 * it, until the controller clears it.  Either way such requests are
 * counted as SDR_DLG_NOT_IN_KERNEL.
 */
struct sipdlg_fp_state {
	__u32 degraded;		/* 1: never drop for "dialog not found" */
	__u32 overflow_n;	/* entries in "overflow" (0: skip the lookup) */
	__u64 reserved;
};
_Static_assert(sizeof(struct sipdlg_fp_state) == 16, "fp state layout");

/*
 * The "callids" map (pinned beside "dialogs"): Call-ID hash -> dialog
 * key, for dlg_match_mode 1 (DID_FALLBACK) and 2 (DID_NONE).  The
 * controller inserts one entry per dialog whose Call-ID it knows and
 * deletes it with the dialog; when two dialogs share a Call-ID hash it
 * keeps the one it prefers (Kamailio prefers a dialog whose callee tag is
 * known), the kernel then tight-matches against that one only.
 * Key: __u64, the sipdlg_hash_bytes() of the Call-ID; value: struct
 * sipdlg_dlg_key.
 */

/* dlg_match_mode values, as in Kamailio. */
enum sipdlg_match_mode {
	SIPDLG_MATCH_DID_ONLY = 0,
	SIPDLG_MATCH_DID_FALLBACK = 1,
	SIPDLG_MATCH_DID_NONE = 2,
};

/*
 * Via branch contract.  For every request the controller forwards
 * statefully within a dialog that is in the "dialogs" map, its own
 * (top) Via carries
 *
 *     branch=z9hG4bKsd<RH(h_entry)>.<RH(h_id)>.<D><TXN>
 *
 * SIPDLG_BRANCH_PREFIX  "z9hG4bK" (RFC 3261) then "sd", case-sensitive;
 * RH(x)       reverse hex exactly as in the did cookie: lower-case hex
 *             digits, least-significant nibble first, no padding, 1 to 8
 *             digits ("0" for 0); the kernel also accepts upper case;
 * D           one character, '0' if the request goes caller->callee,
 *             '1' if callee->caller (enum sipdlg_dir);
 * TXN         one or more token characters (RFC 3261 "token") that make
 *             the branch unique per transaction, e.g. a counter in hex;
 *             the kernel ignores them.
 * Example: h_entry 1685, h_id 9485, callee->caller, transaction 0x2f3c:
 *     Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKsd596.d052.12f3c
 * A reply arriving with that Via on top is matched on the key and on its
 * Call-ID hash alone (no tags), counted in the direction opposite to D.
 */
#define SIPDLG_BRANCH_PREFIX "z9hG4bKsd"
#define SIPDLG_BRANCH_PREFIX_LEN 9

/* Ring-buffer event from the kernel to the controller. */
enum sipdlg_event_type {
	SDE_BYE = 1,		/* the first BYE of a dialog in one direction */
	SDE_TARGET_REFRESH = 2,	/* re-INVITE/UPDATE with a Contact and a
				 * CSeq higher than any seen that way */
	SDE_MATCH_FAILED = 3,	/* cookie present, dialog absent, mismatch,
				 * malformed or MAC wrong (rate-limited) */
	/*
	 * xdp.relay.ack: the kernel relayed the ACK of the 2xx that
	 * confirms the dialog (caller->callee, To-tag the 2xx's, the dialog
	 * not yet in state 4 in "dialogs") and wrote state 4 and the callee
	 * tag hash into the dialog's value itself.  reason SDR_RELAY_REQ,
	 * direction SDD_CALLER_TO_CALLEE, method SDM_ACK; saddr is the
	 * relayed packet's (ours), sport the caller's.  The controller
	 * confirms the dialog as an ACK it forwarded would (no map write);
	 * one event per dialog (the state moves with a compare-and-swap).
	 */
	SDE_ACK_CONFIRMED = 4,
};

struct sipdlg_event {
	__u32 type;		/* enum sipdlg_event_type */
	__u32 reason;		/* enum sipdlg_reason the packet was counted as */
	struct sipdlg_dlg_key key; /* the cookie's (zero if unparsable) */
	__u64 ts_ns;		/* the kernel's time, see the value's "Clock" */
	__u32 cseq;		/* CSeq number, 0 if not read */
	__u32 direction;	/* enum sipdlg_dir (BYE, target refresh) */
	__u32 method;		/* enum sipdlg_method of the request */
	__u16 sport;		/* UDP source port, host order */
	__u8 family;		/* 4 or 6 */
	__u8 pad;
	__u64 callid_hash;	/* of the packet, 0 if not read */
	__u8 saddr[16];		/* IP source; IPv4 in the first 4 bytes */
};
_Static_assert(sizeof(struct sipdlg_event) == 64, "event layout");

/*
 * Kernel relay (xdp.relay).  The "relay_hops" hash map (pinned beside
 * "dialogs", key struct sipdlg_dlg_key) holds, for each confirmed dialog
 * the controller lets the kernel relay, where a request travelling each
 * way goes next: the first Route entry after ours if the route set has
 * one, else the remote target of that direction, resolved to an address
 * by the controller (the kernel never resolves names), and the Via
 * sent-by of the socket the controller would send it from.  No entry, or
 * family 0 for a direction: not relayed that way.  The controller deletes
 * the entry the moment the dialog stops being confirmed (BYE, timeout,
 * sipdlgctl end) and rewrites it when a target refresh changes a hop;
 * after a BYE over UDP, which the kernel matched itself, with its next
 * batch of writes: the kernel relays nothing in a dialog whose value has
 * bye_seen set.
 */
struct sipdlg_relay_hop {
	__u8 daddr[16];		/* next hop; IPv4 in the first 4 bytes */
	__u8 saddr[16];		/* our source address for it */
	__u16 dport;		/* host order */
	__u16 sport;		/* host order: our UDP source port */
	__u8 family;		/* 4 or 6; 0: this direction is not relayed */
	__u8 nroutes;		/* our Route entries on top of the set: 1 or 2
				 * (double Record-Route) */
	__u8 sentby_len;	/* bytes of sentby in use, 1..64 */
	__u8 pad;
	__u32 ifindex;		/* interface the controller would send on */
	/*
	 * xdp.relay.ack: the To-tag hash (sipdlg_hash_bytes) of the 2xx
	 * that made the dialog confirmed, split over the two directions:
	 * dir[0].ack_tag its low 32 bits, dir[1].ack_tag its high 32 bits;
	 * 0 in both: no ACK is relayed in the kernel.  (The former pad2:
	 * the value keeps its size, so a pinned "relay_hops" of an older
	 * build stays usable across an upgrade or a downgrade.)
	 */
	__u32 ack_tag;
	char sentby[64];	/* our Via sent-by: host[:port], not NUL-ended */
};
_Static_assert(sizeof(struct sipdlg_relay_hop) == 112, "relay hop layout");

struct sipdlg_relay_hops {
	struct sipdlg_relay_hop dir[2];	/* index enum sipdlg_dir of the
					 * request's direction */
	__u64 gen;		/* controller's write generation, for tests */
};
_Static_assert(sizeof(struct sipdlg_relay_hops) == 232, "relay hops layout");

/*
 * Kernel per-source INVITE limit (xdp.invite_limit).  The "invite_rl" LRU
 * hash map (not pinned) keyed by the source address (16 bytes, IPv4 in the
 * first 4, the rest zero) holds a token bucket per source; an initial
 * INVITE (no To-tag) that finds it empty is dropped (SDR_INVITE_RATE_DROP).
 */
struct sipdlg_invite_bucket {
	__u64 last_ns;		/* bpf_ktime_get_coarse_ns() of the last refill */
	__u64 tokens;		/* in 1/1000 of an INVITE */
};
_Static_assert(sizeof(struct sipdlg_invite_bucket) == 16, "invite bucket layout");

#endif /* SIPDLG_SHARED_H */
