/*
 * fastpath.c - lifetime of the fast path in the controller: start (load,
 * pin, attach, ring buffer on the event loop), counters, status, free.
 */
#define LOG_TAG "fastpath"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/stats.h"
#include "fastpath/fp_internal.h"
#include "fastpath/fp_kmaps.h"

/* Names are part of the RPC/CLI contract: keep them stable. */
static const char *const reason_names[SDR_MAX_] = {
	[SDR_NON_IP] = "non_ip",
	[SDR_NON_UDP] = "non_udp",
	[SDR_OTHER_PORT] = "other_port",
	[SDR_TRUNCATED] = "truncated",
	[SDR_IP_FRAGMENT] = "ip_fragment",
	[SDR_IPV6_EXT] = "ipv6_ext",
	[SDR_VLAN_DEPTH] = "vlan_depth",
	[SDR_SIP_UDP4] = "sip_udp4",
	[SDR_SIP_UDP6] = "sip_udp6",
	[SDR_BAD_IP_HEADER] = "bad_ip_header",
	[SDR_SIP_NOT_SIP] = "sip_not_sip",
	[SDR_SIP_SCAN_LIMIT] = "sip_scan_limit",
	[SDR_SIP_FOLDED] = "sip_folded",
	[SDR_SIP_REPLY_OTHER] = "sip_reply_other",
	[SDR_DLG_MATCH] = "dlg_match",
	[SDR_DLG_REPLY_MATCH] = "dlg_reply_match",
	[SDR_DLG_UNKNOWN] = "dlg_unknown",
	[SDR_DLG_UNKNOWN_DROP] = "dlg_unknown_dropped",
	[SDR_DLG_MISMATCH] = "dlg_mismatch",
	[SDR_DLG_MISMATCH_DROP] = "dlg_mismatch_dropped",
	[SDR_DLG_BAD_COOKIE] = "dlg_bad_cookie",
	[SDR_DLG_BAD_COOKIE_DROP] = "dlg_bad_cookie_dropped",
	[SDR_DLG_MAC_FAIL] = "dlg_mac_fail",
	[SDR_DLG_MAC_FAIL_DROP] = "dlg_mac_fail_dropped",
	[SDR_DLG_RATE_LIMITED] = "dlg_rate_limited",
	[SDR_DLG_REPLY_UNKNOWN] = "dlg_reply_unknown",
	[SDR_SIP_MALFORMED] = "sip_malformed",
	[SDR_MULTI_BUFFER] = "multi_buffer",
	[SDR_DLG_NOT_IN_KERNEL] = "dlg_not_in_kernel",
	[SDR_RELAY_REQ] = "relay_req",
	[SDR_RELAY_REPLY] = "relay_reply",
	[SDR_RELAY_PASS_NOHOP] = "relay_pass_nohop",
	[SDR_RELAY_PASS_MAXFWD] = "relay_pass_maxfwd",
	[SDR_RELAY_PASS_MTU] = "relay_pass_mtu",
	[SDR_RELAY_PASS_FIB] = "relay_pass_fib",
	[SDR_RELAY_PASS_SHAPE] = "relay_pass_shape",
	[SDR_RELAY_PASS_CONTACT] = "relay_pass_contact",
	[SDR_INVITE_RATE_DROP] = "invite_rate_dropped",
	[SDR_RELAY_PASS_CALLID] = "relay_pass_callid",
	[SDR_RELAY_PASS_ACK_TAG] = "relay_pass_ack_tag",
};
_Static_assert(SDR_MAX_ == 40, "name every reason in reason_names[]");

const char *fp_reason_name(unsigned reason)
{
	if (reason >= SDR_MAX_)
		return NULL;
	return reason_names[reason];
}

/* Collect the distinct UDP ports of listen: (the fast path is UDP only). */
static void collect_ports(struct fastpath *fp, const struct sipdlg_config *cfg)
{
	for (size_t i = 0; i < cfg->n_listen; i++) {
		uint16_t port = cfg->listen[i].port;
		size_t j;

		if (cfg->listen[i].proto != CFG_PROTO_UDP)
			continue;
		for (j = 0; j < fp->n_ports; j++)
			if (fp->ports[j] == port)
				break;
		if (j < fp->n_ports)
			continue;
		if (fp->n_ports == SIPDLG_MAX_SIP_PORTS) {
			log_warn("more than %d UDP SIP ports: port %u is not "
				 "watched by the fast path",
				 SIPDLG_MAX_SIP_PORTS, port);
			continue;
		}
		fp->ports[fp->n_ports++] = port;
	}
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct fastpath *fp = ctx;
	const struct sipdlg_event *ev = data;

	if (size < sizeof(*ev))
		return 0;
	stat_inc(fp->st_events);
	switch (ev->type) {
	case SDE_BYE:
		stat_inc(fp->st_ev_bye);
		break;
	case SDE_TARGET_REFRESH:
		stat_inc(fp->st_ev_refresh);
		break;
	case SDE_MATCH_FAILED:
		stat_inc(fp->st_ev_mismatch);
		break;
	case SDE_ACK_CONFIRMED:
		fp_ack_event(fp, ev);
		break;
	default:
		break;
	}
	return 0;
}

/* Count whatever the kernel queued (reads the shared pages: no system
 * call); never blocks. */
int fp_events_drain(struct fastpath *fp)
{
	int n;

	if (!fp || !fp->rb)
		return 0;
	pthread_mutex_lock(&fp->rb_lock);
	n = ring_buffer__consume(fp->rb);
	pthread_mutex_unlock(&fp->rb_lock);
	if (n < 0)
		log_warn("ring buffer consume failed: %s", strerror(-n));
	return n;
}

int fp_events_drain_try(struct fastpath *fp)
{
	int n;

	if (!fp || !fp->rb || pthread_mutex_trylock(&fp->rb_lock) != 0)
		return 0;
	n = ring_buffer__consume(fp->rb);
	pthread_mutex_unlock(&fp->rb_lock);
	return n;
}

/* stats_foreach's refresh: the events and the relay's counts first. */
static void refresh(void *ud)
{
	fp_events_drain(ud);
	fp_relay_fold(ud);
}

int fp_start(const struct sipdlg_config *cfg, const char *obj_path,
	     struct mac_ring *mac, struct ev_loop *loop, struct stats *st,
	     struct fastpath **out, char *err, size_t err_len)
{
	struct fastpath *fp = calloc(1, sizeof(*fp));
	int r;

	err[0] = '\0';
	if (!fp)
		return -ENOMEM;
	fp->dialogs_fd = fp->counters_fd = fp->events_fd = fp->callids_fd = -1;
	fp->prog_fd = -1;
	fp->km.fpstate_fd = fp->km.overflow_fd = -1;
	fp->relay.fd = -1;
	pthread_mutex_init(&fp->relay.fold_lock, NULL);
	pthread_mutex_init(&fp->relay.keys_lock, NULL);
	pthread_mutex_init(&fp->rb_lock, NULL);
	fp->loop = loop;
	fp->cfg = cfg;
	if (obj_path && !(fp->obj_path = strdup(obj_path))) {
		free(fp);
		return -ENOMEM;
	}
	fp_mac_init(fp, mac);
	snprintf(fp->pin_path, sizeof(fp->pin_path), "%s", cfg->xdp.pin_path);
	fp->ncpus = libbpf_num_possible_cpus();
	if (fp->ncpus <= 0) {
		snprintf(err, err_len, "xdp: cannot count possible CPUs");
		r = -EINVAL;
		goto fail;
	}
	collect_ports(fp, cfg);
	if (st) {
		fp->st_events = stats_register(st, "xdp", "events", 0);
		fp->st_ev_bye = stats_register(st, "xdp", "events_bye", 0);
		fp->st_ev_refresh =
			stats_register(st, "xdp", "events_target_refresh", 0);
		fp->st_ev_mismatch =
			stats_register(st, "xdp", "events_match_failed", 0);
		fp->st_ack_confirmed =
			stats_register(st, "xdp", "acks_confirmed", 0);
		fp->st_ack_late = stats_register(st, "xdp", "acks_late", 0);
		fp->st_ack_at_noack =
			stats_register(st, "xdp", "acks_found_at_noack", 0);
	}

	r = fp_load_object(fp, cfg, obj_path, err, err_len);
	if (r)
		goto fail;
	r = fp_kmaps_open(fp, cfg, st);
	if (r) {
		snprintf(err, err_len, "xdp: cannot set up the map state: %s",
			 strerror(-r));
		goto fail;
	}

	fp->rb = ring_buffer__new(fp->events_fd, on_event, fp, NULL);
	if (!fp->rb) {
		r = -errno;
		snprintf(err, err_len, "xdp: ring buffer setup failed: %s",
			 strerror(-r));
		goto fail;
	}
	/* Not watched: the main loop's tick drains it (fp_clock.c) */
	if (st) {
		stats_set_refresh(st, refresh, fp);
		fp->st_refresh = st;
	}

	/* the time before the program sees traffic: the kernel's clock
	 * until then, the published one from there on */
	r = fp_clock_start(fp);
	if (r) {
		snprintf(err, err_len, "xdp: cannot start the clock timer: %s",
			 strerror(-r));
		goto fail;
	}
	r = fp_attach_all(fp, cfg, err, err_len);
	if (r)
		goto fail;
	*out = fp;
	return 0;
fail:
	fp_free(fp);
	return r;
}

void fp_free(struct fastpath *fp)
{
	if (!fp)
		return;
	fp_clock_stop(fp);
	fp_detach_all(fp);
	if (fp->st_refresh)
		stats_set_refresh(fp->st_refresh, NULL, NULL);
	if (fp->rb)
		ring_buffer__free(fp->rb);
	pthread_mutex_destroy(&fp->rb_lock);
	/* Closing the object unloads the program; pinned maps stay. */
	bpf_object__close(fp->prog_obj);
	bpf_object__close(fp->obj);
	fp_kmaps_close(fp);
	fp_pending_fini(&fp->relay.keys);
	free(fp->obj_path);
	free(fp);
}

int fp_read_counter(const struct fastpath *fp, unsigned reason,
		    struct sipdlg_counter *out)
{
	struct sipdlg_counter *vals;
	__u32 key = reason;

	if (reason >= SIPDLG_REASON_SLOTS)
		return -EINVAL;
	vals = calloc((size_t)fp->ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fp->counters_fd, &key, vals) != 0) {
		int r = -errno;
		free(vals);
		return r;
	}
	out->packets = out->bytes = 0;
	for (int i = 0; i < fp->ncpus; i++) {
		out->packets += vals[i].packets;
		out->bytes += vals[i].bytes;
	}
	free(vals);
	return 0;
}

size_t fp_iface_count(const struct fastpath *fp)
{
	return fp->n_ifaces;
}

int fp_iface_get(const struct fastpath *fp, size_t i,
		 struct fp_iface_info *out)
{
	if (i >= fp->n_ifaces)
		return -ENOENT;
	out->ifname = fp->ifaces[i].ifname;
	out->ifindex = fp->ifaces[i].ifindex;
	out->mode = fp->ifaces[i].native ? "native" : "generic";
	out->link_id = fp->ifaces[i].link_id;
	return 0;
}

uint32_t fp_prog_id(const struct fastpath *fp)
{
	return fp->prog_id;
}

const char *fp_pin_path(const struct fastpath *fp)
{
	return fp->pin_path;
}

int fp_map_fd(const struct fastpath *fp, const char *name)
{
	return bpf_object__find_map_fd_by_name(fp->obj, name);
}

size_t fp_sip_ports(const struct fastpath *fp, uint16_t *ports, size_t max)
{
	size_t n = fp->n_ports < max ? fp->n_ports : max;

	memcpy(ports, fp->ports, n * sizeof(*ports));
	return fp->n_ports;
}
