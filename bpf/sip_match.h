/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sip_match.h - what the fast path does with a scanned SIP message:
 * dialog lookup, tight match, per-dialog counters, events, policy.
 *
 * Runs after sd_sip_scan() (sip_scan.h) on its struct sd_sip; reads the
 * packet only for the source address of an event.  Returns the reason to
 * count; sipdlg_reason_drops() of it decides the verdict.
 *
 * Request, in this order (reference section 1.2):
 *   no To-tag                    -> SDR_SIP_UDP4/6 (not an in-dialog request)
 *   malformed cookie             -> SDR_DLG_BAD_COOKIE[_DROP]
 *   MAC missing/wrong (MAC on)   -> SDR_DLG_MAC_FAIL[_DROP], unless the
 *                                   dialog is marked SIPDLG_DLGF_NOMAC:
 *                                   then the full tight match below (and
 *                                   a dialog not in the kernel ->
 *                                   SDR_DLG_NOT_IN_KERNEL)
 *   no CSeq number, no Call-ID   -> SDR_SIP_MALFORMED
 *   cookie: dialog absent        -> SDR_DLG_UNKNOWN[_DROP]  (mode 1: Call-ID
 *           tight match fails    -> SDR_DLG_MISMATCH[_DROP]  index first)
 *   no cookie: mode 0, or no index hit/match -> SDR_SIP_UDP4/6
 *   matched, over max_dialog_pps -> SDR_DLG_RATE_LIMITED
 *   matched                      -> SDR_DLG_MATCH
 * Reply: our branch, dialog present, same Call-ID -> SDR_DLG_REPLY_MATCH,
 * else SDR_DLG_REPLY_UNKNOWN; another branch -> SDR_SIP_REPLY_OTHER.
 *
 * Cost (#13, bpf_icount, the in-dialog BYE; lp6): the UDP length's two
 * tests in sd_sip() as one (a length below 8 wraps): -1; SD_K() for
 * the mismatch/unknown reasons (no constants loaded ahead of their
 * tests on the matched path): -2.  Measured and
 * dropped: sd_now() read before the dialog lookup and handed to
 * sd_matched()/sd_fail(), so that the helper call clobbers no register
 * holding the dialog: +3 (clang spills elsewhere instead); SD_K() for
 * the SDM_OTHER clamp in sd_matched(): -1, but sipdlg_xdp's stack 288
 * -> 296 bytes, and Linux 6.1 then refuses the relay's call chain
 * ("combined stack size of 4 calls is 544"): main's frame must stay at
 * 288 (make check-kernels).
 * Kept (lp9): in sd_matched() the clock read last, after the counters,
 * the CSeq and the BYE bit (an event reads its own; ev->ts_ns is read by
 * no one in user space), so that no value of the match but v waits
 * across the helper call, and a rate-limited request reads no clock:
 * -3 in two steps (first after the rate test: -1).  Measured and dropped
 * then (BYE, whole program): the clock right after the counters or
 * after the CSeq loop with one read kept for the events: +3, +-0; one
 * read at the end with the event sent after it (its type kept in a
 * variable): +6; the clock read after the dialog lookup, before
 * sd_tight(), or before the scan's call and handed down: +-0 (clang
 * spills v and d either way); s->method and s->cseq read after the
 * call (v and d then stay in r8/r9, but clang copies them): +-0;
 * &v->dir[d] as a pointer of its own: +-0; no_dialog made from
 * p->family where needed instead of kept across the scan: +3; the
 * routes' slow path called from sd_request() under the usual-shape test
 * (SD_F_ROUTES in SD_F_USUAL_MASK): +1, 4th-Route row +27; sd_sip_scan()
 * telling a reply by its return (SD_REPLY, no s.status load): reply -3,
 * BYE +-0.
 */
#ifndef SIPDLG_BPF_SIP_MATCH_H
#define SIPDLG_BPF_SIP_MATCH_H

#define SD_NSEC_PER_SEC 1000000000ULL

/*
 * CLOCK_MONOTONIC in ns as the controller last read it, written through
 * the mmap of this section's map by sipdlgd's SIP workers as they wake
 * up (include/sipdlg_shared.h, "Clock").  A value read before it is
 * written, so it never runs ahead of the clock; 0 while every worker
 * sleeps, before the first write (a program just loaded) and without a
 * controller (BPF_PROG_TEST_RUN): the kernel's coarse clock is read
 * instead.  Reading it costs
 * a load, the helper call a function return (~8 ns through the return
 * thunk on mitigated CPUs).
 */
__u64 sd_clock_ns SEC(".data.clock") = 0;

/* The time a matched packet is stamped with (see sd_clock_ns). */
static __always_inline __u64 sd_now(void)
{
	__u64 t = *(volatile __u64 *)&sd_clock_ns;

	return t ? t : bpf_ktime_get_coarse_ns();
}

/* sd_fail() turns a reason into its _DROP twin by adding one. */
_Static_assert(SDR_DLG_UNKNOWN_DROP == SDR_DLG_UNKNOWN + 1 &&
		       SDR_DLG_MISMATCH_DROP == SDR_DLG_MISMATCH + 1 &&
		       SDR_DLG_BAD_COOKIE_DROP == SDR_DLG_BAD_COOKIE + 1 &&
		       SDR_DLG_MAC_FAIL_DROP == SDR_DLG_MAC_FAIL + 1,
	       "drop twins");

/*
 * Tight match of the scanned request against dialog @v: the direction
 * (enum sipdlg_dir) or -1.  Upstream is tried first, as Kamailio does;
 * while the callee tag is unknown (0) only the caller tag is compared.
 * @callid: also compare the Call-ID hash (not with a verified MAC).
 */
static __always_inline int sd_tight(const struct sipdlg_dlg_value *v,
				    const struct sd_sip *s, int callid)
{
	__u64 caller = v->caller_tag_hash, callee = v->callee_tag_hash;

	if (!caller || (callid && v->callid_hash != s->callid_hash))
		return -1;
	if (callee) {
		if (s->ftag_hash == callee && s->ttag_hash == caller)
			return SDD_CALLEE_TO_CALLER;
		if (s->ftag_hash == caller && s->ttag_hash == callee)
			return SDD_CALLER_TO_CALLEE;
		return -1;
	}
	if (s->ttag_hash == caller)
		return SDD_CALLEE_TO_CALLER;
	if (s->ftag_hash == caller)
		return SDD_CALLER_TO_CALLEE;
	return -1;
}

/* One SDE_MATCH_FAILED event allowed now?  Per-CPU token bucket. */
static __always_inline int sd_fail_budget(__u64 now)
{
	__u64 rate = fail_events_per_sec, add, t;
	struct sd_budget *b;
	__u32 zero = 0;

	if (!rate)
		return 0;
	b = bpf_map_lookup_elem(&ev_budget, &zero);
	if (!b)
		return 0;
	if (now > b->last_ns) {
		t = now - b->last_ns;
		add = t >= SD_NSEC_PER_SEC ? rate : t * rate / SD_NSEC_PER_SEC;
		if (add) {
			t = b->tokens + add;
			b->tokens = t < rate ? t : rate;
			b->last_ns = now;
		}
	}
	if (!b->tokens)
		return 0;
	b->tokens--;
	return 1;
}

/*
 * Queue one event for the controller (never blocks; lost if the ring is
 * full).  Reserved in place: no copy on the stack, which the SIP scan
 * needs.
 */
static __always_inline void sd_event(struct xdp_md *ctx,
				     const struct sd_pkt *p,
				     const struct sd_sip *s, __u32 type,
				     __u32 reason, __u32 dir, __u64 now)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct sipdlg_event *ev;
	__u32 l3 = p->l3_off & 0xff;
	void *a;

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev)
		return;
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->reason = reason;
	ev->key = s->key;
	ev->ts_ns = now;
	ev->cseq = s->cseq;
	ev->direction = dir;
	ev->method = s->method;
	ev->sport = p->sport;
	ev->family = p->family;
	ev->callid_hash = s->callid_hash;
	if (p->family == 4) {
		a = data + l3 + 12;
		if (a + 4 <= end)
			__builtin_memcpy(ev->saddr, a, 4);
	} else {
		a = data + l3 + 8;
		if (a + 16 <= end)
			__builtin_memcpy(ev->saddr, a, 16);
	}
	bpf_ringbuf_submit(ev, 0);
}

/* A failed match: count it on the dialog, maybe tell the controller. */
static __always_inline int sd_fail(struct xdp_md *ctx, const struct sd_pkt *p,
				   const struct sd_sip *s, __u32 reason)
{
	__u64 now = sd_now();

	if (unknown_dialog_drop)
		reason += 1;	/* the _DROP twin follows each reason */
	if (sd_fail_budget(now))
		sd_event(ctx, p, s, SDE_MATCH_FAILED, reason, 0, now);
	return reason;
}

/*
 * max_dialog_pps: may one more request of dialog @v pass now?  On the
 * kernel's own clock: a published time that stood still (a stalled
 * controller) must not keep a window open and drop a dialog's traffic.
 */
static __always_inline int sd_rate_ok(struct sipdlg_dlg_value *v)
{
	__u32 sec = (__u32)(bpf_ktime_get_coarse_ns() / SD_NSEC_PER_SEC);

	if (v->rl_window != sec) {
		/* racy reset, at worst a few more pass at the boundary */
		v->rl_window = sec;
		v->rl_count = 0;
	}
	if (__sync_fetch_and_add(&v->rl_count, 1) < max_dialog_pps)
		return 1;
	__sync_fetch_and_add(&v->rate_limited, 1);
	return 0;
}

/*
 * Count a matched request in direction @d of dialog @v.
 *
 * packets, bytes and methods[] are plain adds, not locked atomics: two
 * CPUs adding to the same dialog's counter at the same instant (the two
 * directions of a call hashed to different CPUs, both sending the same
 * method) can lose one increment.  They are statistics; nothing decides
 * on them.  The highest CSeq (compare-and-swap), bye_seen (fetch-or,
 * after a plain test: once set it never clears) and the rate-limit count
 * stay atomic, as they decide events and drops.
 */
static __always_inline int sd_matched(struct xdp_md *ctx,
				      const struct sd_pkt *p,
				      const struct sd_sip *s,
				      struct sipdlg_dlg_value *v, int d)
{
	__u32 m = s->method, cseq = s->cseq, old, prev, bit;
	int newer = 0, i;

	d &= 1;
	if (max_dialog_pps && !sd_rate_ok(v))
		return SDR_DLG_RATE_LIMITED;
	v->dir[d].packets += 1;
	v->dir[d].bytes += p->len;
	if (m >= SDM_MAX_)
		m = SDM_OTHER;
	v->methods[m] += 1;

	/* highest CSeq this way: compare-and-swap, a few tries */
	old = v->dir[d].cseq_max;
	for (i = 0; i < 4 && cseq > old; i++) {
		prev = __sync_val_compare_and_swap(&v->dir[d].cseq_max, old,
						   cseq);
		if (prev == old) {
			newer = 1;
			break;
		}
		old = prev;
	}

	if (m == SDM_BYE) {
		bit = 1u << d;
		if (!(v->bye_seen & bit) &&
		    !(__sync_fetch_and_or(&v->bye_seen, bit) & bit))
			sd_event(ctx, p, s, SDE_BYE, SDR_DLG_MATCH, d, sd_now());
	} else if ((m == SDM_INVITE || m == SDM_UPDATE) && newer &&
		   (s->have & SD_F_CONTACT)) {
		sd_event(ctx, p, s, SDE_TARGET_REFRESH, SDR_DLG_MATCH, d,
			 sd_now());
	}
	/* the clock last (an event reads its own): no value of the match
	 * waits in a register across the helper call but v */
	v->last_seen_ns = sd_now();
	return SDR_DLG_MATCH;
}

/* Modes 1 and 2: the dialog named by the Call-ID index, if it matches. */
static __always_inline struct sipdlg_dlg_value *
sd_by_callid(const struct sd_sip *s, int *dir)
{
	struct sipdlg_dlg_value *v;
	struct sipdlg_dlg_key *k;

	if (!(s->have & SD_F_CALLID))
		return NULL;
	k = bpf_map_lookup_elem(&callids, &s->callid_hash);
	if (!k)
		return NULL;
	v = bpf_map_lookup_elem(&dialogs, k);
	if (!v)
		return NULL;
	*dir = sd_tight(v, s, 1);
	return *dir < 0 ? NULL : v;
}

/* sd_request(): the flags of the usual in-dialog request, and those
 * the test of it looks at */
#define SD_F_USUAL (SD_F_TTAG | SD_F_CSEQ | SD_F_COOKIE)
#define SD_F_USUAL_MASK \
	(SD_F_USUAL | SD_F_BADCOOKIE | SD_F_MACFAIL | SD_F_CSEQBAD)

static __always_inline int sd_request(struct xdp_md *ctx,
				      const struct sd_pkt *p,
				      struct sd_sip *s, int no_dialog)
{
	__u32 have = s->have, reason;
	struct sipdlg_dlg_value *v = NULL;
	int d = -1, callid = !(have & SD_F_MACOK);

	/* the usual request, a To-tag, a good cookie, no MAC failure, a
	 * CSeq number and the Call-ID (or a verified MAC), in one test;
	 * the others through the checks below, in their order */
	if ((have & SD_F_USUAL_MASK) != SD_F_USUAL ||
	    !(have & (SD_F_CALLID | SD_F_MACOK))) {
		if (!(have & SD_F_TTAG))
			return no_dialog;
		if (have & SD_F_BADCOOKIE)
			return sd_fail(ctx, p, s, SDR_DLG_BAD_COOKIE);
		if (have & SD_F_MACFAIL) {
			/* only a dialog marked NOMAC may go without its MAC */
			v = bpf_map_lookup_elem(&dialogs, &s->key);
			if (!v && sd_not_in_kernel(&s->key))
				return SDR_DLG_NOT_IN_KERNEL;
			if (!v || !(v->flags & SIPDLG_DLGF_NOMAC))
				return sd_fail(ctx, p, s, SDR_DLG_MAC_FAIL);
		}
		if (!(have & SD_F_CSEQ) || (have & SD_F_CSEQBAD) ||
		    (callid && !(have & SD_F_CALLID)))
			return SDR_SIP_MALFORMED;

		if (!(have & SD_F_COOKIE)) {
			if (dlg_match_mode == SIPDLG_MATCH_DID_ONLY)
				return no_dialog;
			v = sd_by_callid(s, &d);
			if (!v)
				return no_dialog;
			return sd_matched(ctx, p, s, v, d);
		}
	}

	if (!v)
		v = bpf_map_lookup_elem(&dialogs, &s->key);
	if (v) {
		d = sd_tight(v, s, callid);
		if (d >= 0)	/* counted; then maybe relayed (sip_relay.h) */
			return sd_relay_req_gate(ctx, p, s, v, d,
						 sd_matched(ctx, p, s, v, d));
		v->mismatches += 1;	/* statistics: a plain add */
		reason = SD_K(SDR_DLG_MISMATCH);
	} else {
		reason = SD_K(SDR_DLG_UNKNOWN);
	}
	if (dlg_match_mode == SIPDLG_MATCH_DID_FALLBACK) {
		v = sd_by_callid(s, &d);
		if (v)
			return sd_matched(ctx, p, s, v, d);
	}
	if (reason == SDR_DLG_UNKNOWN && sd_not_in_kernel(&s->key))
		return SDR_DLG_NOT_IN_KERNEL;
	return sd_fail(ctx, p, s, reason);
}

static __always_inline int sd_reply(struct xdp_md *ctx,
				    const struct sd_pkt *p,
				    const struct sd_sip *s)
{
	struct sipdlg_dlg_value *v;
	__u32 d;

	if (!(s->have & SD_F_BRANCH))
		return SDR_SIP_REPLY_OTHER;
	if (!(s->have & SD_F_CALLID))
		return SDR_DLG_REPLY_UNKNOWN;
	v = bpf_map_lookup_elem(&dialogs, &s->key);
	if (!v || v->callid_hash != s->callid_hash)
		return SDR_DLG_REPLY_UNKNOWN;
	d = (s->branch_dir & 1) ^ 1;	/* a reply goes the other way */
	/* plain adds, as in sd_matched() */
	v->dir[d].packets += 1;
	v->dir[d].bytes += p->len;
	v->dir[d].replies += 1;
	v->last_seen_ns = sd_now();
	return sd_relay_reply_gate(ctx, p, s);	/* sip_relay.h */
}

/*
 * The SIP stages for a UDP datagram to a SIP port; @no_dialog is
 * SDR_SIP_UDP4 or SDR_SIP_UDP6.  Returns the reason to count.
 */
static __always_inline int sd_sip(struct xdp_md *ctx, const struct sd_pkt *p,
				  int no_dialog)
{
	struct sd_sip s;
	__u32 avail = p->len - p->payload_off;
	int r;

	/* one compare on the usual path: a UDP length below 8 wraps */
	if (p->udp_len - 8u > avail) {
		if (p->udp_len < 8)
			return SDR_SIP_NOT_SIP;
		if (bpf_xdp_get_buff_len(ctx) > p->len)
			return SDR_MULTI_BUFFER;
		return SDR_TRUNCATED;
	}
	/* the results only: sd_sip_scan() sets its own state */
	__builtin_memset(&s, 0, __builtin_offsetof(struct sd_sip, msg_off));
	s.msg_off = p->payload_off;
	s.msg_end = p->payload_off + p->udp_len - 8u;

	r = sd_sip_scan(ctx, &s);
	if (r == SD_NOT_DIALOG)	/* xdp.invite_limit, sip_invite_limit.h */
		return sd_invite_gate(ctx, p, s.method, no_dialog);
	if (r != SD_FURTHER)
		return r;
	if (s.status) {
		/* the top Via: our branch?  (sd_fast_via() may know) */
		if (!(s.have & SD_F_BRANCH)) {
			r = sd_sip_via(ctx, &s);
			if (r != SD_CONTINUE)
				return r;
		}
		return sd_reply(ctx, p, &s);
	}
	if (s.have & SD_F_ROUTES) {
		r = sd_sip_routes(ctx, &s);
		if (r != SD_CONTINUE)
			return r;
	}
	return sd_request(ctx, p, &s, no_dialog);
}

#endif /* SIPDLG_BPF_SIP_MATCH_H */
