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

/*
 * Why the fast path let a packet go (or, later, dropped it).  Exactly one
 * reason is counted per packet the program sees.  The values are indexes
 * into the per-CPU "counters" map and are part of the pinned-map contract:
 * append new reasons before SDR_MAX_, never renumber.
 */
enum sipdlg_reason {
	SDR_NON_IP = 0,		/* not IPv4/IPv6 (ARP, LLDP, ...) */
	SDR_NON_UDP = 1,	/* IP, but not UDP */
	SDR_OTHER_PORT = 2,	/* UDP to a port that is not a SIP port */
	SDR_TRUNCATED = 3,	/* frame ends inside an L2-L4 header */
	SDR_IP_FRAGMENT = 4,	/* IPv4/IPv6 fragment: not reassembled */
	SDR_IPV6_EXT = 5,	/* IPv6 extension chain too long or unknown */
	SDR_VLAN_DEPTH = 6,	/* more VLAN tags than we parse */
	SDR_SIP_UDP4 = 7,	/* UDP/IPv4 to a SIP port: passed */
	SDR_SIP_UDP6 = 8,	/* UDP/IPv6 to a SIP port: passed */
	SDR_BAD_IP_HEADER = 9,	/* IPv4 IHL < 5 or similar nonsense */
	SDR_MAX_		/* first unused slot; keep last */
};

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

/* Traffic counters of one direction of one dialog. */
struct sipdlg_dir_stats {
	__u64 packets;
	__u64 bytes;
	__u32 cseq_max;		/* highest CSeq number seen this way */
	__u32 pad;
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
 * Value of the "dialogs" map.  The controller writes the identity part
 * (hashes, state, flags) and the kernel the traffic part.  The hash
 * function of Call-ID and tags is defined once, by the issue that adds
 * matching, in this header.
 */
struct sipdlg_dlg_value {
	__u64 callid_hash;
	__u64 caller_tag_hash;
	__u64 callee_tag_hash;	/* 0 while the dialog is early */
	__u64 created_ns;	/* CLOCK_MONOTONIC, set by the controller */
	__u64 last_seen_ns;	/* CLOCK_MONOTONIC, set by the kernel */
	__u32 state;		/* 1..5 as in Kamailio */
	__u32 flags;		/* SDF_* bits */
	struct sipdlg_dir_stats dir[2]; /* 0 caller->callee, 1 callee->caller */
	__u32 methods[SDM_MAX_];
	__u32 bye_seen;
	__u32 pad;
};
_Static_assert(sizeof(struct sipdlg_dlg_value) == 152, "dialog value layout");

/* Ring-buffer event from the kernel to the controller. */
enum sipdlg_event_type {
	SDE_BYE = 1,		/* a BYE matched a dialog */
	SDE_TARGET_REFRESH = 2,	/* re-INVITE/UPDATE carrying a Contact */
	SDE_MATCH_FAILED = 3,	/* cookie present, dialog absent or mismatch */
};

struct sipdlg_event {
	__u32 type;		/* enum sipdlg_event_type */
	__u32 reason;		/* enum sipdlg_reason, for SDE_MATCH_FAILED */
	struct sipdlg_dlg_key key;
	__u64 ts_ns;		/* CLOCK_MONOTONIC */
	__u32 cseq;
	__u32 direction;	/* 0 caller->callee, 1 callee->caller */
};
_Static_assert(sizeof(struct sipdlg_event) == 32, "event layout");

#endif /* SIPDLG_SHARED_H */
