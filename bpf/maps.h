/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maps.h - the BPF maps of the XDP fast path.
 *
 * Keys and values are the structs of include/sipdlg_shared.h and nothing
 * else, declared with BTF types so that `bpftool map dump` prints field
 * names.  "dialogs", "callids" and "counters" are pinned by name (the
 * controller sets the pin root, /sys/fs/bpf/sipdlg by default) so they
 * survive a controller restart; "events" and "ev_budget" are transient
 * and recreated with the program.
 *
 * Include once, from the program's entry file.
 */
#ifndef SIPDLG_BPF_MAPS_H
#define SIPDLG_BPF_MAPS_H

/* Dialogs the controller knows, by Kamailio's (h_entry, h_id). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SIPDLG_MAX_DIALOGS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, struct sipdlg_dlg_key);
	__type(value, struct sipdlg_dlg_value);
} dialogs SEC(".maps");

/* Call-ID hash -> dialog key, for dlg_match_mode 1 and 2. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SIPDLG_MAX_CALLIDS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, __u64);
	__type(value, struct sipdlg_dlg_key);
} callids SEC(".maps");

/*
 * Next hops of the dialogs the kernel may relay (xdp.relay), written by
 * the controller; see struct sipdlg_relay_hops.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SIPDLG_MAX_DIALOGS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, struct sipdlg_dlg_key);
	__type(value, struct sipdlg_relay_hops);
} relay_hops SEC(".maps");

/*
 * Per-source token buckets of xdp.invite_limit (struct
 * sipdlg_invite_bucket); transient, an LRU so a spoofed-source flood
 * only evicts old buckets.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u8[16]);
	__type(value, struct sipdlg_invite_bucket);
} invite_rl SEC(".maps");

/* One packets/bytes pair per enum sipdlg_reason, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SIPDLG_REASON_SLOTS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, __u32);
	__type(value, struct sipdlg_counter);
} counters SEC(".maps");

/*
 * Token bucket of SDE_MATCH_FAILED events, per CPU (fail_events_per_sec).
 * Private to the program: not pinned, not part of the contract.
 */
struct sd_budget {
	__u64 last_ns;
	__u64 tokens;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sd_budget);
} ev_budget SEC(".maps");

/* struct sipdlg_event records for the controller. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SIPDLG_RINGBUF_BYTES);
} events SEC(".maps");

#endif /* SIPDLG_BPF_MAPS_H */
