/*
 * fp_relay.c - the controller's half of the kernel relay (xdp.relay): the
 * next hops of each confirmed dialog in the pinned "relay_hops" map
 * (struct sipdlg_relay_hops), and the kernel's relay counters folded into
 * the controller's sip.* totals.
 *
 * An entry is written when the dialog is confirmed (the 2xx relayed), when
 * it is restored from the database in a confirmed state, and when a
 * re-INVITE refreshes a remote target: queued, and written with the
 * others queued within about SIPDLG_CLOCK_PUBLISH_MS in one
 * BPF_MAP_UPDATE_BATCH (a request before that is passed up, as one for a
 * dialog without an entry); it is deleted the moment the
 * dialog leaves the confirmed states (BYE, timeout, sipdlgctl end, a
 * failure) or is destroyed (after a UDP BYE, which the kernel saw and
 * relays nothing after, with the next batch instead), and entries of
 * dialogs the controller does not know are removed at start
 * (fp_relay_reconcile).  Only dialogs the
 * kernel holds in "dialogs" get one: the kernel relays nothing else.
 *
 * For each direction the next hop is what the proxy itself would do with
 * that direction's request (proxy_hop_resolve: first Route entry after
 * ours, else the remote target; the socket and Via sent-by it would
 * use), then a route lookup gives the egress interface and, for a socket
 * bound to a wildcard address, the source address.  What the proxy could
 * only reach through DNS, TCP, a strict router and the like leaves that
 * direction at family 0: the kernel passes those requests up.
 */
#define LOG_TAG "fastpath"

#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <bpf/bpf.h>

#include "core/log.h"
#include "core/stats.h"
#include "core/timer.h"
#include "dialog/dlg.h"
#include "fastpath/fp_internal.h"
#include "fastpath/fp_kmaps.h"
#include "fastpath/fp_relay.h"
#include "fastpath/fp_route.h"
#include "proxy/proxy.h"
#include "sip/sip_msg.h"

static bool confirmed(int state)
{
	return state == DLG_STATE_CONFIRMED_NA || state == DLG_STATE_CONFIRMED;
}

static const char *why(int rc)
{
	switch (rc) {
	case -EPROTONOSUPPORT: return "not sip: over UDP, maddr or a strict router";
	case -EHOSTUNREACH: return "a host name (the kernel resolves none)";
	case -ELOOP: return "addressed to us";
	case -ENOENT: return "no UDP socket of that address family";
	case -ENETUNREACH: return "no route";
	case -EADDRNOTAVAIL: return "no source address";
	default: return strerror(-rc);
	}
}

static const void *ip_of(const struct sockaddr_storage *ss, size_t *len)
{
	if (ss->ss_family == AF_INET6) {
		*len = 16;
		return &((const struct sockaddr_in6 *)ss)->sin6_addr;
	}
	*len = 4;
	return &((const struct sockaddr_in *)ss)->sin_addr;
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET6 ?
			     ((const struct sockaddr_in6 *)ss)->sin6_port :
			     ((const struct sockaddr_in *)ss)->sin_port);
}

/* One direction's next hop; 0, or -errno and @h left at family 0. */
static int fill_dir(struct fp_relay *rl, const char *route_set,
		    const char *target, const char *in_sock, unsigned nroutes,
		    struct sipdlg_relay_hop *h)
{
	static const unsigned char zero[16];
	struct proxy_hop ph;
	struct fp_route rt;
	const void *a;
	size_t alen;
	int rc;

	rc = proxy_hop_resolve(rl->px, route_set, target, in_sock, &ph);
	if (rc)
		return rc;
	rc = fp_route_get(&ph.dst, &ph.src, &rt);
	if (rc)
		return rc;
	if (ph.sentby_len == 0 || ph.sentby_len > sizeof(h->sentby))
		return -E2BIG;
	a = ip_of(&ph.dst, &alen);
	memcpy(h->daddr, a, alen);
	h->dport = port_of(&ph.dst);
	a = ip_of(&ph.src, &alen);
	if (ph.src.ss_family != ph.dst.ss_family || memcmp(a, zero, alen) == 0)
		a = rt.prefsrc;		/* a wildcard socket: the route's */
	if (memcmp(a, zero, alen) == 0)
		return -EADDRNOTAVAIL;
	memcpy(h->saddr, a, alen);
	h->sport = ph.sport;
	h->ifindex = (__u32)rt.ifindex;
	h->nroutes = (__u8)nroutes;
	h->sentby_len = (__u8)ph.sentby_len;
	memcpy(h->sentby, ph.sentby, ph.sentby_len);
	h->family = ph.dst.ss_family == AF_INET6 ? 6 : 4;
	return 0;
}

/* @k's entry is (or may be) in the map now: remember it for the
 * deletion; when memory runs out, every deletion is made from then on. */
static void key_written_locked(struct fp_relay *rl,
			       const struct sipdlg_dlg_key *k)
{
	if (rl->keys_ok && !fp_pending_add(&rl->keys, k)) {
		rl->keys_ok = false;
		fp_pending_fini(&rl->keys);
	}
}

static void key_written(struct fp_relay *rl, const struct sipdlg_dlg_key *k)
{
	pthread_mutex_lock(&rl->keys_lock);
	key_written_locked(rl, k);
	pthread_mutex_unlock(&rl->keys_lock);
}

static bool same_key(const struct sipdlg_dlg_key *a,
		     const struct sipdlg_dlg_key *b)
{
	return a->h_entry == b->h_entry && a->h_id == b->h_id;
}

/* @k's queued write, or -1.  Under keys_lock. */
static ssize_t q_find(const struct fp_relay *rl, const struct sipdlg_dlg_key *k)
{
	for (size_t i = 0; i < rl->n_q; i++)
		if (same_key(&rl->q_keys[i], k))
			return (ssize_t)i;
	return -1;
}

/* One entry written, or the batch's failure counted.  Under keys_lock. */
static void q_written(struct fp_relay *rl, size_t i, bool ok)
{
	if (!ok) {
		atomic_fetch_add(&rl->write_failed, 1);
		atomic_store(&rl->unwritten, true);
		return;
	}
	atomic_fetch_add(&rl->written, 1);
	key_written_locked(rl, &rl->q_keys[i]);
	log_debug("dialog %u:%u: next hops written to relay_hops (gen %llu)",
		  rl->q_keys[i].h_entry, rl->q_keys[i].h_id,
		  (unsigned long long)rl->q_hops[i].gen);
}

/* The deferred deletions in one BPF_MAP_DELETE_BATCH (single deletions
 * from an entry the batch stopped at: one already gone).  Under
 * keys_lock. */
static void dq_flush_locked(struct fp_relay *rl)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	__u32 count = (__u32)rl->n_dq;
	size_t i = 0, gone = 0;

	atomic_store(&rl->dq_first_ms, 0);
	if (!rl->n_dq)
		return;
	if (bpf_map_delete_batch(rl->fd, rl->dq_keys, &count, &o) == 0)
		count = (__u32)rl->n_dq;
	else if (count > rl->n_dq)
		count = 0;
	gone = count;
	for (i = count; i < rl->n_dq; i++)
		gone += bpf_map_delete_elem(rl->fd, &rl->dq_keys[i]) == 0;
	atomic_fetch_add(&rl->removed, gone);
	rl->n_dq = 0;
}

/* Every queued write in one BPF_MAP_UPDATE_BATCH (single updates after
 * an entry the batch stopped at, or when batches are refused); each
 * written key remembered before keys_lock is let go; with @dq the
 * deferred deletions first (not in the urgent flush before a worker's
 * datagrams go out: the lock is held through the system calls, and the
 * deletions can wait).  Under keys_lock. */
static void q_flush_locked_dq(struct fp_relay *rl, bool dq)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	__u32 count = (__u32)rl->n_q;
	size_t i = 0;

	if (dq)
		dq_flush_locked(rl);
	if (!rl->n_q) {
		atomic_store(&rl->q_first_ms, 0);
		atomic_store(&rl->q_urgent, false);
		return;
	}
	if (bpf_map_update_batch(rl->fd, rl->q_keys, rl->q_hops, &count,
				 &o) == 0)
		count = (__u32)rl->n_q;
	else if (count > rl->n_q)
		count = 0;
	for (; i < count; i++)
		q_written(rl, i, true);
	for (; i < rl->n_q; i++)
		q_written(rl, i, bpf_map_update_elem(rl->fd, &rl->q_keys[i],
						     &rl->q_hops[i],
						     BPF_ANY) == 0);
	rl->n_q = 0;
	atomic_store(&rl->q_first_ms, 0);
	atomic_store(&rl->q_urgent, false);
}

static void q_flush_locked(struct fp_relay *rl)
{
	q_flush_locked_dq(rl, true);
}

void fp_relay_flush(struct fastpath *fp)
{
	struct fp_relay *rl = &fp->relay;

	if (rl->fd < 0 || (!atomic_load(&rl->q_first_ms) &&
			   !atomic_load(&rl->dq_first_ms)))
		return;
	pthread_mutex_lock(&rl->keys_lock);
	q_flush_locked(rl);
	pthread_mutex_unlock(&rl->keys_lock);
}

void fp_relay_flush_urgent(struct fastpath *fp)
{
	struct fp_relay *rl = &fp->relay;

	if (rl->fd < 0 || !atomic_load(&rl->q_urgent))
		return;
	pthread_mutex_lock(&rl->keys_lock);
	q_flush_locked_dq(rl, false);
	pthread_mutex_unlock(&rl->keys_lock);
}

/* A worker before it sleeps: the writes once the oldest waits @age_ms,
 * the deletions only once the oldest waits FP_RELAY_DQ_MS (the main
 * tick usually takes them first).  No lock, no clock read while nothing
 * waits. */
void fp_relay_flush_due(struct fastpath *fp, uint64_t age_ms)
{
	struct fp_relay *rl = &fp->relay;
	uint64_t q = atomic_load(&rl->q_first_ms);
	uint64_t dq = atomic_load(&rl->dq_first_ms);
	bool dels;
	uint64_t now;

	if (rl->fd < 0 || (!q && !dq))
		return;
	now = tmr_now_ms();
	dels = dq && now >= dq + FP_RELAY_DQ_MS;
	if (!dels && !(q && now >= q + age_ms))
		return;
	pthread_mutex_lock(&rl->keys_lock);
	q_flush_locked_dq(rl, dels);
	pthread_mutex_unlock(&rl->keys_lock);
}

/* @k's entry @h goes into the map at the next flush (a queued older one
 * of @k is replaced). */
static void q_put(struct fp_relay *rl, const struct sipdlg_dlg_key *k,
		  const struct sipdlg_relay_hops *h, bool urgent)
{
	ssize_t i;

	pthread_mutex_lock(&rl->keys_lock);
	/* A deletion of the same key still waiting (a key used again,
	 * h_id is random: next to never) must not remove this entry after
	 * a flush of the writes alone. */
	for (size_t j = 0; j < rl->n_dq; j++) {
		if (same_key(&rl->dq_keys[j], k)) {
			rl->dq_keys[j] = rl->dq_keys[--rl->n_dq];
			break;
		}
	}
	i = q_find(rl, k);
	if (i < 0) {
		if (rl->n_q == FP_RELAY_Q_MAX)
			q_flush_locked(rl);
		if (!atomic_load(&rl->q_first_ms))
			atomic_store(&rl->q_first_ms, tmr_now_ms());
		i = (ssize_t)rl->n_q++;
		rl->q_keys[i] = *k;
	}
	rl->q_hops[i] = *h;
	if (urgent)
		atomic_store(&rl->q_urgent, true);
	pthread_mutex_unlock(&rl->keys_lock);
}

/* Whether @k's entry may be in the map; it is forgotten (the caller
 * deletes it), and a queued write of it dropped.  False only for a
 * dialog never written, or deleted. */
static bool key_take_locked(struct fp_relay *rl,
			    const struct sipdlg_dlg_key *k)
{
	struct fp_pend *p;
	bool maybe = true;
	ssize_t i;

	i = q_find(rl, k);
	if (i >= 0) {
		rl->n_q--;
		rl->q_keys[i] = rl->q_keys[rl->n_q];
		rl->q_hops[i] = rl->q_hops[rl->n_q];
		if (!rl->n_q)
			atomic_store(&rl->q_first_ms, 0);
	}
	if (rl->keys_ok) {
		p = fp_pending_find(&rl->keys, k);
		maybe = p != NULL;
		if (p)
			fp_pending_del(&rl->keys, p);
	}
	return maybe;
}

static bool key_take(struct fp_relay *rl, const struct sipdlg_dlg_key *k)
{
	bool maybe;

	pthread_mutex_lock(&rl->keys_lock);
	maybe = key_take_locked(rl, k);
	pthread_mutex_unlock(&rl->keys_lock);
	return maybe;
}

/* Out of the map at the next flush (with the writes queued then): the
 * kernel relays nothing in the dialog already (it saw the BYE). */
static void hops_delete_later(struct fp_relay *rl,
			      const struct sipdlg_dlg_key *k)
{
	if (rl->fd < 0)
		return;
	pthread_mutex_lock(&rl->keys_lock);
	if (key_take_locked(rl, k)) {
		if (rl->n_dq == FP_RELAY_Q_MAX)
			dq_flush_locked(rl);
		rl->dq_keys[rl->n_dq++] = *k;
		if (!atomic_load(&rl->dq_first_ms))
			atomic_store(&rl->dq_first_ms, tmr_now_ms());
	}
	pthread_mutex_unlock(&rl->keys_lock);
}

/* Whether @m, the request that ended a dialog, is a BYE the kernel
 * matched itself (so that bye_seen stops its relay): over UDP, by its
 * top Via.  A BYE that missed the kernel's match (a shape it passes up,
 * an interface without the program) leaves the relay on until the next
 * flush, within about SIPDLG_CLOCK_PUBLISH_MS. */
static bool kernel_saw_bye(const struct sip_msg *m)
{
	return m && m->is_request && m->method == SIP_METHOD_BYE &&
	       m->via.transport == SIP_TP_UDP;
}

/* Out of the map.  No system call for a dialog that has no entry (one
 * never confirmed, or already removed at its end: the DESTROY after a
 * BYE's TERMINATED). */
static void hops_delete(struct fp_relay *rl, const struct sipdlg_dlg_key *k)
{
	if (rl->fd < 0 || !key_take(rl, k))
		return;
	if (bpf_map_delete_elem(rl->fd, k) == 0) {
		atomic_fetch_add(&rl->removed, 1);
		log_debug("dialog %u:%u: next hops removed from relay_hops",
			  k->h_entry, k->h_id);
	}
}

/* Whether @k is in the kernel's "dialogs" map: the bookkeeping of
 * fp_kmaps.c when it knows (the dialog's own callback wrote it just
 * before this one, registered after it), else the map. */
static bool in_kernel(struct fastpath *fp, const struct sipdlg_dlg_key *k)
{
	struct sipdlg_dlg_value dv;
	int r = fp_kmaps_in_kernel(fp, k);

	if (r >= 0)
		return r == 1;
	return bpf_map_lookup_elem(fp->dialogs_fd, k, &dv) == 0;
}

/* Compute and write @c's entry (or remove it: not relayable now). */
static void hops_write(struct fastpath *fp, struct dlg_cell *c)
{
	struct fp_relay *rl = &fp->relay;
	struct sipdlg_dlg_key k = { dlg_h_entry(c), dlg_h_id(c) };
	struct sipdlg_relay_hops hops;
	struct dlg_info *in;
	unsigned nroutes;
	bool urgent;
	int rc[2];

	if (!confirmed(dlg_state(c)))
		goto gone;
	if (!in_kernel(fp, &k)) {
		atomic_store(&rl->unwritten, true);
		goto gone;	/* not in the kernel: not relayed */
	}
	in = dlg_info_get(c, 0);
	if (!in) {
		atomic_store(&rl->unwritten, true);
		return;
	}
	memset(&hops, 0, sizeof(hops));
	/* Double Record-Route (the call came in on one socket and left by
	 * another): the requests carry two Route entries of ours. */
	nroutes = in->caller.socket[0] && in->callee.socket[0] &&
				  strcmp(in->caller.socket, in->callee.socket) ?
			  2 :
			  1;
	/* Caller to callee: the callee leg's route set and contact, the
	 * request arriving on the caller's socket; and the other way. */
	rc[SDD_CALLER_TO_CALLEE] =
		fill_dir(rl, in->callee.route_set, in->callee.contact,
			 in->caller.socket, nroutes,
			 &hops.dir[SDD_CALLER_TO_CALLEE]);
	rc[SDD_CALLEE_TO_CALLER] =
		fill_dir(rl, in->caller.route_set, in->caller.contact,
			 in->callee.socket, nroutes,
			 &hops.dir[SDD_CALLEE_TO_CALLER]);
	for (int d = 0; d < 2; d++) {
		if (rc[d] == 0)
			continue;
		memset(&hops.dir[d], 0, sizeof(hops.dir[d]));
		atomic_fetch_add(&rl->dirs_unrelayed, 1);
		log_debug("dialog %u:%u: %s not relayed in the kernel: %s",
			  in->h_entry, in->h_id,
			  d == 0 ? "caller to callee" : "callee to caller",
			  why(rc[d]));
	}
	dlg_info_free(in);
	if (rc[0] && rc[1]) {
		atomic_store(&rl->unwritten, true);
		goto gone;
	}
	hops.gen = atomic_fetch_add(&rl->gen, 1) + 1;
	/* xdp.relay.ack: the 2xx's To-tag, which the ACK the kernel relays
	 * must carry (low half in dir[0], high half in dir[1]). */
	urgent = fp_ack_on(fp);
	if (urgent) {
		__u64 tag = fp_str_hash(dlg_callee_tag(c));

		hops.dir[0].ack_tag = (__u32)tag;
		hops.dir[1].ack_tag = (__u32)(tag >> 32);
		urgent = dlg_state(c) == DLG_STATE_CONFIRMED_NA;
	}
	/* Queued, written with others within about SIPDLG_CLOCK_PUBLISH_MS
	 * (the kernel needs it only from the ACK's state 4 on; a request
	 * before it is passed up, relay_pass_nohop), or, for the ACK the
	 * kernel relays, before this worker's batch with the 2xx goes out
	 * (fp_relay_flush_urgent).  Queued before the
	 * state is read again: a BYE on another worker either finds the
	 * key (queued or written) or has ended the dialog already. */
	q_put(rl, &k, &hops, urgent);
	/* A BYE on another worker may have ended it meanwhile. */
	if (!confirmed(dlg_state(c)))
		hops_delete(rl, &k);
	return;
gone:
	hops_delete(rl, &k);
}

static void on_dlg_event(struct dlg_cell *c, int type,
			 const struct dlg_cb_params *p)
{
	struct fastpath *fp = p->param;
	struct sipdlg_dlg_key k = { dlg_h_entry(c), dlg_h_id(c) };
	struct sipdlg_relay_hops old;
	const struct sip_msg *m = p->msg;

	switch (type) {
	case DLGCB_CONFIRMED_NA:
	case DLGCB_LOADED:
		hops_write(fp, c);
		break;
	case DLGCB_CONFIRMED:
		/* Written at the 2xx already, unless that failed (then,
		 * and only then, look). */
		if (atomic_load(&fp->relay.unwritten) &&
		    bpf_map_lookup_elem(fp->relay.fd, &k, &old) != 0)
			hops_write(fp, c);
		break;
	case DLGCB_REQ_WITHIN:
		/* A re-INVITE with a Contact refreshed a remote target. */
		if (m && m->method == SIP_METHOD_INVITE && m->n_contact > 0)
			hops_write(fp, c);
		break;
	case DLGCB_TERMINATED:
		/* A BYE the kernel saw: it relays nothing more, the
		 * deletion joins the next batch. */
		if (fp->relay_knob && kernel_saw_bye(m)) {
			hops_delete_later(&fp->relay, &k);
			break;
		}
		hops_delete(&fp->relay, &k);
		break;
	default:		/* EXPIRED, FAILED, DESTROY */
		hops_delete(&fp->relay, &k);
		break;
	}
}

void fp_relay_fold(struct fastpath *fp)
{
	struct fp_relay *rl = &fp->relay;
	struct sipdlg_counter req, rep;

	if (!rl->st)
		return;		/* not installed */
	if (fp_read_counter(fp, SDR_RELAY_REQ, &req) != 0 ||
	    fp_read_counter(fp, SDR_RELAY_REPLY, &rep) != 0)
		return;
	pthread_mutex_lock(&rl->fold_lock);
	/* A counter below what was folded: the map was made anew. */
	if (req.packets >= rl->folded_req) {
		int64_t d = (int64_t)(req.packets - rl->folded_req);

		stat_add(rl->st_fwd_req, d);
		stat_add(rl->st_relayed_req, d);
	}
	if (rep.packets >= rl->folded_reply) {
		int64_t d = (int64_t)(rep.packets - rl->folded_reply);

		stat_add(rl->st_fwd_rep, d);
		stat_add(rl->st_relayed_rep, d);
	}
	rl->folded_req = req.packets;
	rl->folded_reply = rep.packets;
	pthread_mutex_unlock(&rl->fold_lock);
}

/* The SDM_ bit of a method name, 0 if the kernel relays no such method. */
static uint32_t method_bit(const char *m)
{
	static const struct { const char *n; unsigned b; } k[] = {
		{ "OPTIONS", SDM_OPTIONS }, { "INFO", SDM_INFO },
		{ "UPDATE", SDM_UPDATE }, { "NOTIFY", SDM_NOTIFY },
		{ "MESSAGE", SDM_MESSAGE },
	};

	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (strcmp(k[i].n, m) == 0)
			return 1u << k[i].b;
	return 0;
}

/*
 * Relayed requests never reach the rules: warn about each rule that could
 * match one (an in-dialog request of a relayed method), so that whoever
 * wrote it for in-dialog INFO, say, learns why it does not run.
 */
static void warn_rules(const struct sipdlg_config *cfg)
{
	const struct route_list *rl = &cfg->routes;

	for (size_t i = 0; i < rl->n_rules; i++) {
		const struct route_rule *r = &rl->rules[i];
		uint32_t bits = cfg->xdp.relay_methods;

		if (r->timeout_only)
			continue;
		for (size_t j = 0; j < r->match.n && bits; j++) {
			const struct route_cond *c = &r->match.v[j];
			uint32_t m = 0;

			if ((c->type == ROUTE_COND_IN_DIALOG ||
			     c->type == ROUTE_COND_IS_KNOWN_DLG) && !c->u.want)
				bits = 0;
			if (c->type != ROUTE_COND_METHOD)
				continue;
			for (size_t k = 0; k < c->u.methods.n; k++)
				m |= method_bit(c->u.methods.v[k]);
			bits &= m;
		}
		if (bits)
			log_warn("routes: the rule at line %u may match in-dialog "
				 "requests that the kernel relays (xdp.relay), "
				 "which never reach the rules; give it "
				 "in_dialog: false, or leave those methods out "
				 "of xdp.relay.methods",
				 r->pos.line);
	}
}

int fp_relay_install(struct fastpath *fp, struct dlg_table *t,
		     struct proxy *px, struct stats *st)
{
	struct fp_relay *rl;
	struct sipdlg_counter c;

	if (!fp)
		return 0;
	rl = &fp->relay;
	rl->px = px;
	/* The totals count what the kernel relayed from now on (the
	 * counters are per program load, the sip.* ones per run). */
	if (fp_read_counter(fp, SDR_RELAY_REQ, &c) == 0)
		rl->folded_req = c.packets;
	if (fp_read_counter(fp, SDR_RELAY_REPLY, &c) == 0)
		rl->folded_reply = c.packets;
	rl->st_fwd_req = stats_find(st, "sip:fwd_requests");
	rl->st_fwd_rep = stats_find(st, "sip:fwd_replies");
	rl->st_relayed_req = stats_register(st, "sip", "relayed_requests", 0);
	rl->st_relayed_rep = stats_register(st, "sip", "relayed_replies", 0);
	rl->st = st;	/* fp_relay_fold from here on */
	rl->fd = fp_map_fd(fp, "relay_hops");
	if (!cfg_relay_on(fp->cfg)) {
		/* Off: whatever an earlier run left goes at the reconcile. */
		return 0;
	}
	if (rl->fd < 0) {
		log_err("xdp.relay: the BPF object has no relay_hops map");
		return -ENOENT;
	}
	/* Without the set every deletion is made (keys_ok false). */
	rl->keys_ok = fp_pending_init(&rl->keys, 1024) == 0;
	warn_rules(fp->cfg);
	return dlg_register_global_cb(
		t,
		DLGCB_LOADED | DLGCB_CONFIRMED_NA | DLGCB_CONFIRMED |
			DLGCB_REQ_WITHIN | DLGCB_FAILED | DLGCB_TERMINATED |
			DLGCB_EXPIRED | DLGCB_DESTROY,
		on_dlg_event, fp, NULL);
}

bool fp_relay_on(const struct fastpath *fp)
{
	return fp && fp->relay.fd >= 0 && cfg_relay_on(fp->cfg);
}

int fp_relay_reconcile(struct fastpath *fp, struct dlg_table *t)
{
	struct fp_relay *rl = fp ? &fp->relay : NULL;
	struct sipdlg_dlg_key key, next, *prev = NULL;
	struct dlg_cursor cur = { 0, 0, false };
	struct dlg_cell *cells[256];
	int removed = 0, added = 0;

	if (!rl || rl->fd < 0)
		return 0;
	while (bpf_map_get_next_key(rl->fd, prev, &next) == 0) {
		struct dlg_cell *c = NULL;
		bool keep = false;

		key = next;
		if (fp_relay_on(fp))
			c = dlg_lookup_id(t, key.h_entry, key.h_id);
		if (c) {
			keep = confirmed(dlg_state(c));
			dlg_unref(c);
		}
		if (keep) {
			key_written(rl, &key);	/* an earlier run's entry */
			prev = &key;
			continue;
		}
		bpf_map_delete_elem(rl->fd, &key);
		removed++;
	}
	while (fp_relay_on(fp) && !cur.done) {
		size_t got = dlg_cursor_next(t, &cur, cells, 256);

		for (size_t i = 0; i < got; i++) {
			struct sipdlg_dlg_key k = { dlg_h_entry(cells[i]),
						    dlg_h_id(cells[i]) };
			struct sipdlg_relay_hops h;

			if (confirmed(dlg_state(cells[i])) &&
			    bpf_map_lookup_elem(rl->fd, &k, &h) != 0) {
				hops_write(fp, cells[i]);
				added++;
			}
			dlg_unref(cells[i]);
		}
	}
	fp_relay_flush(fp);
	if (removed || added)
		log_notice("kernel relay: relay_hops reconciled: %d stale "
			   "entries removed, %d dialogs written", removed,
			   added);
	return 0;
}

void fp_relay_info(const struct fastpath *fp, struct fp_relay_info *out)
{
	const struct fp_relay *rl = &fp->relay;

	memset(out, 0, sizeof(*out));
	out->enabled = fp_relay_on(fp);
	out->methods = fp->cfg->xdp.relay_methods;
	out->ack = fp_ack_on(fp);
	/* Counted in the map itself (the status is rare; a count kept
	 * beside the map would drift with every lost race). */
	if (rl->fd >= 0) {
		struct sipdlg_dlg_key k, *prev = NULL;

		while (bpf_map_get_next_key(rl->fd, prev, &k) == 0) {
			out->entries++;
			prev = &k;
		}
	}
	out->written = atomic_load(&rl->written);
	out->removed = atomic_load(&rl->removed);
	out->dirs_unrelayed = atomic_load(&rl->dirs_unrelayed);
	out->write_failed = atomic_load(&rl->write_failed);
}

int fp_relay_read(const struct fastpath *fp, uint32_t h_entry, uint32_t h_id,
		  struct sipdlg_relay_hops *out)
{
	struct sipdlg_dlg_key k = { h_entry, h_id };

	if (!fp || fp->relay.fd < 0)
		return -ENODEV;
	return bpf_map_lookup_elem(fp->relay.fd, &k, out) == 0 ? 0 : -errno;
}

size_t fp_relay_hop_str(const struct sipdlg_relay_hop *h, char *buf,
			size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	int n;

	if (h->family != 4 && h->family != 6)
		return 0;
	inet_ntop(h->family == 6 ? AF_INET6 : AF_INET, h->daddr, ip,
		  sizeof(ip));
	n = snprintf(buf, cap, h->family == 6 ? "[%s]:%u" : "%s:%u", ip,
		     h->dport);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
