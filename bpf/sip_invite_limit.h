/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sip_invite_limit.h - xdp.invite_limit: a token bucket per source
 * address for initial INVITEs (a request, method INVITE, no To-tag),
 * in the "invite_rl" LRU map (struct sipdlg_invite_bucket).  An INVITE
 * that finds its source's bucket empty is dropped before any socket
 * (SDR_INVITE_RATE_DROP).  In-dialog requests, replies and other methods
 * never come here: sd_sip() (sip_match.h) calls sd_invite_gate() only
 * for a request sd_sip_scan() found without a To-tag.
 *
 * Bucket: `tokens` in 1/1000 of an INVITE, at most burst * 1000; it
 * fills at invite_limit_pps * 1000 per second (1 per millisecond per pps,
 * so integer rates are exact); each INVITE that passes takes 1000.  A new
 * source starts full (its first INVITE takes one token).  The refill
 * advances last_ns only by the time the added tokens stand for, so no
 * fraction of a token is lost whatever the clock's granularity
 * (bpf_ktime_get_coarse_ns: a jiffy).  An idle bucket whose refill would
 * reach the top is simply set full with last_ns = now.
 *
 * Concurrency.  The LRU hash value is one copy shared by every CPU; one
 * source's INVITEs reach several CPUs when the NIC spreads its flows
 * (other source ports) over queues.  Plain read-modify-write would let
 * two CPUs spend the same token (a lost update: an extra INVITE through
 * per race) and could also refill twice.  Both updates are atomic here,
 * cheap as they only run for initial INVITEs with the limit on:
 *  - refill: compare-and-swap of last_ns from the value read to the new
 *    one; only the CPU that wins adds the tokens (atomic add), so a
 *    period is credited once.  The cap is then applied by a
 *    compare-and-swap too (a plain store could undo another CPU's take);
 *    if that loses, the bucket may sit above the cap by one refill until
 *    the next INVITE, never more.
 *  - take: compare-and-swap of tokens from the value read to that value
 *    minus 1000, at most SD_IRL_TRIES tries; a source whose INVITEs make
 *    every try fail is sending from several CPUs at once, it is a flood:
 *    the INVITE is dropped.
 * A new source is inserted with BPF_NOEXIST; the CPU that loses that race
 * takes from the bucket the winner made.  A source the map cannot hold
 * (update error other than EEXIST) passes: no state, no verdict.
 *
 * The LRU evicts the least recently used buckets when 65536 sources are
 * tracked: a flood from spoofed addresses can evict a real flooder's
 * bucket, which then starts full again (one burst more).  IPv6 sources
 * are keyed by the whole address, as the contract says.
 *
 * Kept out of line (a global function with scalar arguments): verified
 * once, and its few stack bytes do not add to the deepest call chain of
 * the SIP scan.
 */
#ifndef SIPDLG_BPF_SIP_INVITE_LIMIT_H
#define SIPDLG_BPF_SIP_INVITE_LIMIT_H

#define SD_IRL_TRIES 4
#define SD_IRL_MILLI 1000ULL
/* elapsed time used for a refill is capped so elapsed * pps (<= 10^6)
 * stays far inside 64 bits; a bucket idle that long is full anyway
 * unless burst / pps exceeds 2^43 ns (about 2.4 hours) */
#define SD_IRL_MAX_NS (1ULL << 43)

/* Refill @b for time @now; see the file comment. */
static __always_inline void sd_irl_refill(struct sipdlg_invite_bucket *b,
					  __u64 now, __u64 pps, __u64 cap)
{
	__u64 last = b->last_ns, dt, add, next, cur;

	if (now <= last)
		return;
	dt = now - last;
	if (dt > SD_IRL_MAX_NS)
		dt = SD_IRL_MAX_NS;
	/* tokens/1000 per ns: pps * 1000 / 10^9 */
	add = dt * pps / 1000000ULL;
	if (!add)
		return;
	if (add >= cap) {
		/* idle long enough to be full: no fraction worth keeping */
		if (__sync_val_compare_and_swap(&b->last_ns, last, now) != last)
			return;	/* another CPU refilled this period */
		cur = b->tokens;
		if (cur < cap)
			__sync_val_compare_and_swap(&b->tokens, cur, cap);
		return;
	}
	/* the time the added tokens stand for, at most dt */
	next = last + add * 1000000ULL / pps;
	if (__sync_val_compare_and_swap(&b->last_ns, last, next) != last)
		return;
	cur = __sync_fetch_and_add(&b->tokens, add) + add;
	if (cur > cap)
		__sync_val_compare_and_swap(&b->tokens, cur, cap);
}

/* Take one INVITE from @b: 1 if it may pass. */
static __always_inline int sd_irl_take(struct sipdlg_invite_bucket *b)
{
	__u64 cur = b->tokens, prev;
	int i;

	for (i = 0; i < SD_IRL_TRIES; i++) {
		if (cur < SD_IRL_MILLI)
			return 0;
		prev = __sync_val_compare_and_swap(&b->tokens, cur,
						   cur - SD_IRL_MILLI);
		if (prev == cur)
			return 1;
		cur = prev;
	}
	return 0;
}

/*
 * The verdict for an initial INVITE of family @family (4 or 6) whose IP
 * header is at @l3: SDR_INVITE_RATE_DROP, or @pass.
 */
__noinline int sd_invite_limit(struct xdp_md *ctx, __u32 l3, __u32 family,
			       __u32 pass)
{
	void *data, *end, *a;
	struct sipdlg_invite_bucket *b, nb;
	__u8 key[16] = {};
	__u64 pps = invite_limit_pps, cap, now;

	if (!ctx || !pps)
		return pass;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	l3 &= 0xff;	/* below 256: at most two VLAN tags before it */
	if (family == 4) {
		a = data + l3 + 12;
		if (a + 4 > end)
			return pass;
		__builtin_memcpy(key, a, 4);
	} else {
		a = data + l3 + 8;
		if (a + 16 > end)
			return pass;
		__builtin_memcpy(key, a, 16);
	}
	cap = (__u64)invite_limit_burst * SD_IRL_MILLI;
	if (!cap)
		cap = SD_IRL_MILLI;	/* the controller never sets 0 */
	now = bpf_ktime_get_coarse_ns();

	b = bpf_map_lookup_elem(&invite_rl, key);
	if (!b) {
		nb.last_ns = now;
		nb.tokens = cap - SD_IRL_MILLI;	/* full, less this INVITE */
		if (!bpf_map_update_elem(&invite_rl, key, &nb, BPF_NOEXIST))
			return pass;
		b = bpf_map_lookup_elem(&invite_rl, key);
		if (!b)
			return pass;	/* the map cannot hold it: no state */
	}
	sd_irl_refill(b, now, pps, cap);
	return sd_irl_take(b) ? pass : SDR_INVITE_RATE_DROP;
}

/*
 * The one call from sd_sip(): a request sd_sip_scan() found without a
 * To-tag, method @method.  @pass when the limit is off or it is not an
 * INVITE.
 */
static __always_inline int sd_invite_gate(struct xdp_md *ctx,
					  const struct sd_pkt *p,
					  __u32 method, int pass)
{
	if (!invite_limit_pps || method != SDM_INVITE)
		return pass;
	return sd_invite_limit(ctx, p->l3_off, p->family, (__u32)pass);
}

#endif /* SIPDLG_BPF_SIP_INVITE_LIMIT_H */
