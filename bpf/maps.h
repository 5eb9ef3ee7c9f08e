/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maps.h - the BPF maps of the XDP fast path.
 *
 * Keys and values are the structs of include/sipdlg_shared.h and nothing
 * else, declared with BTF types so that `bpftool map dump` prints field
 * names.  "dialogs" and "counters" are pinned by name (the controller sets
 * the pin root, /sys/fs/bpf/sipdlg by default) so they survive a controller
 * restart; "events" is transient and recreated with the program.
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

/* One packets/bytes pair per enum sipdlg_reason, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SIPDLG_REASON_SLOTS);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, __u32);
	__type(value, struct sipdlg_counter);
} counters SEC(".maps");

/* struct sipdlg_event records for the controller. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SIPDLG_RINGBUF_BYTES);
} events SEC(".maps");

#endif /* SIPDLG_BPF_MAPS_H */
