// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_xdp_diff.c - the XDP program against the user-space parser, on
 * generated in-dialog messages (tests/lib/sipgen.h).
 *
 * For each message: a fresh pair of dialogs (the message's own and a
 * different one) goes into the maps, the user-space parser reads the
 * message, tests/lib/sipexpect.c says from that reading what the fast
 * path must do, and the program runs once on the frame.  Then the
 * reason counted, the verdict and both dialogs' traffic counters (which
 * direction moved, replies, which methods[] slot, cseq_max, mismatches)
 * must be what the model says, or the kernel must have passed the
 * message untouched under an "incomplete" reason that the message
 * explains: a folded line (sip_folded), a documented scan limit exceeded
 * (sip_scan_limit: lines, bytes, tag or Call-ID length, ...).  The frames
 * are whole, so fragment and multi-buffer never apply.  Never sip_malformed, never a drop of a
 * legitimate message, never another dialog.  About one message in six
 * is forged (one character of its Call-ID or a tag changed): the model
 * then says mismatch, and with unknown_dialog_drop the kernel must drop
 * it.  Every message runs under each knob set (dlg_match_mode 0/1/2 x
 * unknown_dialog_drop 0/1, and the cookie MAC on), one cmocka test each.
 *
 * Environment: SIPDLG_DIFF_N messages (default 20000), SIPDLG_DIFF_SEED
 * the first message's seed (message i has seed SEED + i, so a reported
 * seed reruns alone with SIPDLG_DIFF_N=1), SIPDLG_DIFF_VERBOSE=1 prints
 * every message, SIPDLG_DIFF_REPORTS how many failures are printed in
 * full (default 5), SIPDLG_DIFF_SPREAD=1 runs each message under one knob
 * set only (message i under set i mod 7; `make fuzz` does, so that its
 * million messages take minutes, not a quarter of an hour).  Needs root;
 * without it one TAP skip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sipdlg_shared.h"
#include "sipdlg_hash.h"
#include "sipdlg.skel.h"
#include "fastpath/fastpath.h"
#include "sip/sip_msg.h"
#include "lib/tap.h"
#include "lib/pkt.h"
#include "lib/sipexpect.h"
#include "lib/sipgen.h"

#define DEFAULT_N 20000
#define DEFAULT_SEED 0x5d1f0013ULL
#define FORGE_PCT 16

#define MAC_K0 0x0706050403020100ULL
#define MAC_K1 0x0f0e0d0c0b0a0908ULL

static int g_ncpus;
static unsigned long g_n;
static uint64_t g_seed;
static int g_verbose, g_reports, g_spread;

struct knobs {
	const char *name;
	unsigned mode, drop, mac;
};

static struct sipdlg_bpf *load(const struct knobs *k)
{
	struct sipdlg_bpf *skel = sipdlg_bpf__open();
	struct bpf_map *map;
	int err;

	if (!skel)
		return NULL;
	skel->rodata->sip_ports[0] = 5060;
	skel->rodata->n_sip_ports = 1;
	skel->rodata->unknown_dialog_drop = k->drop;
	skel->rodata->dlg_match_mode = k->mode;
	skel->rodata->mac_enabled = k->mac;
	skel->rodata->mac_key[0] = MAC_K0;
	skel->rodata->mac_key[1] = MAC_K1;
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	err = sipdlg_bpf__load(skel);
	if (err) {
		tap_diag("load: %s", strerror(-err));
		sipdlg_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

/* --- reasons ------------------------------------------------------------------------ */

/* The controller's own name of a reason (fastpath.c), for messages. */
static const char *rname(int r)
{
	const char *s = r >= 0 ? fp_reason_name((unsigned)r) : NULL;

	if (s)
		return s;
	return r == -1 ? "(none)" : r == -2 ? "(several)" : "?";
}

/* Reasons under which the kernel may pass what it could not finish. */
static int incomplete(int r)
{
	return r == SDR_SIP_FOLDED || r == SDR_SIP_SCAN_LIMIT ||
	       r == SDR_IP_FRAGMENT || r == SDR_MULTI_BUFFER;
}

/* --- the per-CPU reason counters, read in one batch ------------------------------------- */

static int reasons_read(struct sipdlg_bpf *skel, __u64 *sum)
{
	static struct sipdlg_counter vals[SIPDLG_REASON_SLOTS * 256];
	static __u32 keys[SIPDLG_REASON_SLOTS];
	__u32 count = SIPDLG_REASON_SLOTS, out = 0, i;
	int cpu, err;

	if (g_ncpus > 256)
		return -E2BIG;
	err = bpf_map_lookup_batch(bpf_map__fd(skel->maps.counters), NULL,
				   &out, keys, vals, &count, NULL);
	if (err && err != -ENOENT)
		return err;
	if (count != SIPDLG_REASON_SLOTS)
		return -EIO;
	for (i = 0; i < count; i++) {
		sum[keys[i]] = 0;
		for (cpu = 0; cpu < g_ncpus; cpu++)
			sum[keys[i]] += vals[i * (__u32)g_ncpus + (__u32)cpu].packets;
	}
	return 0;
}

/* The one reason a run counted (-1 none, -2 several); updates @last. */
static int reason_of_run(struct sipdlg_bpf *skel, __u64 *last)
{
	__u64 now[SIPDLG_REASON_SLOTS];
	int slot, r = -1;

	if (reasons_read(skel, now))
		return -3;
	for (slot = 0; slot < SIPDLG_REASON_SLOTS; slot++) {
		__u64 d = now[slot] - last[slot];

		if (d)
			r = (r == -1 && d == 1) ? slot : -2;
		last[slot] = now[slot];
	}
	return r;
}

/* --- dialogs in the maps ------------------------------------------------------------ */

static void exp_dlg(const struct sipgen_dlg *g, struct sipexp_dlg *e)
{
	memset(e, 0, sizeof(*e));
	e->h_entry = g->h_entry;
	e->h_id = g->h_id;
	e->callid_hash = sipdlg_hash_bytes(g->callid, (__u32)strlen(g->callid));
	e->caller_hash = sipdlg_hash_bytes(g->caller_tag,
					   (__u32)strlen(g->caller_tag));
	e->callee_hash = g->early ? 0 :
		sipdlg_hash_bytes(g->callee_tag, (__u32)strlen(g->callee_tag));
	e->indexed = 1;
}

static int dlg_put(struct sipdlg_bpf *skel, const struct sipexp_dlg *d)
{
	struct sipdlg_dlg_key k = { d->h_entry, d->h_id };
	struct sipdlg_dlg_value v;
	int err;

	memset(&v, 0, sizeof(v));
	v.callid_hash = d->callid_hash;
	v.caller_tag_hash = d->caller_hash;
	v.callee_tag_hash = d->callee_hash;
	v.state = d->callee_hash ? 4 : 2;
	err = bpf_map__update_elem(skel->maps.dialogs, &k, sizeof(k), &v,
				   sizeof(v), BPF_ANY);
	if (!err && d->indexed)
		err = bpf_map__update_elem(skel->maps.callids, &d->callid_hash,
					   sizeof(__u64), &k, sizeof(k),
					   BPF_ANY);
	return err;
}

static void dlg_del(struct sipdlg_bpf *skel, const struct sipexp_dlg *d)
{
	struct sipdlg_dlg_key k = { d->h_entry, d->h_id };

	bpf_map__delete_elem(skel->maps.dialogs, &k, sizeof(k), 0);
	bpf_map__delete_elem(skel->maps.callids, &d->callid_hash,
			     sizeof(__u64), 0);
}

static int dlg_get(struct sipdlg_bpf *skel, const struct sipexp_dlg *d,
		   struct sipdlg_dlg_value *v)
{
	struct sipdlg_dlg_key k = { d->h_entry, d->h_id };

	return bpf_map__lookup_elem(skel->maps.dialogs, &k, sizeof(k), v,
				    sizeof(*v), 0);
}

/* --- one message ----------------------------------------------------------------------- */

/* Everything one seed makes. */
struct sample {
	struct sipgen_dlg g[2];		/* [0] the message's dialog */
	struct sipexp_dlg d[2];
	struct sipgen_msg m;
	struct sip_msg parsed;
	struct pkt frame;
	int ipv6;
};

/* Build the sample of @seed; 0, or -1 if the generator did not fit. */
static int sample_make(uint64_t seed, struct sample *s)
{
	static const enum sipgen_forge forges[] = { SIPGEN_FORGE_CALLID,
						    SIPGEN_FORGE_FTAG,
						    SIPGEN_FORGE_TTAG };
	struct sipgen_opts o = { .no_route_pct = 5 };
	struct pkt_sip_opts po = { 0 };
	struct sipgen_rng r;
	int err;

	sipgen_seed(&r, seed);
	sipgen_dialog(&r, &s->g[0]);
	sipgen_dialog(&r, &s->g[1]);
	if (sipgen_pct(&r, 30))		/* same hash bucket, another id */
		s->g[1].h_entry = s->g[0].h_entry;
	if (s->g[1].h_entry == s->g[0].h_entry && s->g[1].h_id == s->g[0].h_id)
		s->g[1].h_id ^= 1;
	sipdlg_mac_hex(sipdlg_dlg_mac(MAC_K0, MAC_K1, s->g[0].h_entry,
				      s->g[0].h_id), s->g[0].mac_hex);
	s->g[0].mac_hex[SIPDLG_MAC_HEX_LEN] = '\0';
	if (sipgen_pct(&r, FORGE_PCT))
		err = sipgen_forged(&r, &s->g[0], &o,
				    forges[sipgen_below(&r, 3)], &s->m);
	else
		err = sipgen_message(&r, &s->g[0], &o, &s->m);
	if (err)
		return -1;
	exp_dlg(&s->g[0], &s->d[0]);
	exp_dlg(&s->g[1], &s->d[1]);
	s->ipv6 = s->g[0].ipv6;
	po.ipv6 = s->ipv6;
	po.vlans = sipgen_pct(&r, 10) ? (int)sipgen_below(&r, 3) : 0;
	po.sport = (uint16_t)(1024 + sipgen_below(&r, 64000));
	po.dport = 5060;
	if (pkt_sip(&s->frame, &po, s->m.buf, s->m.len))
		return -1;
	return 0;
}

/* Did dialog @v move as the model says (@e, dialog index @i)? */
static int check_value(const struct sipdlg_dlg_value *v, int i,
		       const struct sipexp *e, size_t len, char *why,
		       size_t wl)
{
	int d, mv, m;

	for (d = 0; d < 2; d++) {
		mv = e->dlg == i && e->dir == d;
		if (v->dir[d].packets != (__u64)mv ||
		    v->dir[d].bytes != (mv ? (__u64)len : 0) ||
		    v->dir[d].replies != (__u32)(mv && e->reply) ||
		    v->dir[d].cseq_max != (mv && !e->reply ? e->cseq : 0)) {
			snprintf(why, wl,
				 "dialog %d dir %d: %llu packets, %u replies, "
				 "cseq_max %u; want %d, %d, %u",
				 i, d, (unsigned long long)v->dir[d].packets,
				 v->dir[d].replies, v->dir[d].cseq_max, mv,
				 mv && e->reply, mv && !e->reply ? e->cseq : 0);
			return -1;
		}
	}
	for (m = 0; m < SDM_MAX_; m++) {
		__u32 want = e->dlg == i && !e->reply && e->method == m;

		if (v->methods[m] != want) {
			snprintf(why, wl, "dialog %d methods[%d] = %u, want %u",
				 i, m, v->methods[m], want);
			return -1;
		}
	}
	if (v->mismatches != (__u32)(e->mismatch_dlg == i)) {
		snprintf(why, wl, "dialog %d mismatches %u, want %d", i,
			 v->mismatches, e->mismatch_dlg == i);
		return -1;
	}
	return 0;
}

/* What the kernel did, in one line. */
static void kernel_line(char *out, size_t n, int reason, unsigned verdict,
			const struct sipdlg_dlg_value *v)
{
	int i, d, m, at = 0;

	at = snprintf(out, n, "%s, %s", rname(reason),
		      verdict == XDP_DROP ? "XDP_DROP" :
		      verdict == XDP_PASS ? "XDP_PASS" : "XDP_?");
	for (i = 0; i < 2 && at < (int)n; i++)
		for (d = 0; d < 2 && at < (int)n; d++)
			if (v[i].dir[d].packets) {
				at += snprintf(out + at, n - (size_t)at,
					       "; dialog %d dir %d%s cseq_max %u",
					       i, d, v[i].dir[d].replies ?
					       " reply" : "",
					       v[i].dir[d].cseq_max);
				for (m = 0; m < SDM_MAX_ && at < (int)n; m++)
					if (v[i].methods[m])
						at += snprintf(out + at,
							       n - (size_t)at,
							       " methods[%d]", m);
			}
}

#define NCLASS 32

struct run_stats {
	unsigned long msgs, forged, skipped, failures;
	unsigned long by_reason[SIPDLG_REASON_SLOTS];
	/* failures by (model's reason, kernel's reason), first seed of each */
	struct {
		int want, got;
		unsigned long n;
		uint64_t seed;
	} cls[NCLASS];
	int ncls;
};

static void classify(struct run_stats *st, int want, int got, uint64_t seed)
{
	int i;

	for (i = 0; i < st->ncls; i++)
		if (st->cls[i].want == want && st->cls[i].got == got)
			break;
	if (i == st->ncls) {
		if (i == NCLASS)
			return;
		st->cls[i].want = want;
		st->cls[i].got = got;
		st->cls[i].seed = seed;
		st->ncls++;
	}
	st->cls[i].n++;
}

static void report(const struct knobs *k, uint64_t seed,
		   const struct sample *s, const struct sipexp *e,
		   const char *kline, const char *why, int full)
{
	printf("# FAIL %s: SIPDLG_DIFF_SEED=%llu SIPDLG_DIFF_N=1 [%s%s]\n"
	       "#   %s\n", k->name, (unsigned long long)seed, s->m.shape,
	       s->m.forge ? " forged" : "", why);
	if (!full)
		return;
	printf("#   user space: %s (%s)%s\n", rname(e->reason), e->why,
	       e->dlg >= 0 ? "" : ", no dialog counted");
	printf("#   kernel:     %s\n", kline);
	printf("#   dialog 0: %x.%x Call-ID %s caller %s callee %s%s\n",
	       s->g[0].h_entry, s->g[0].h_id, s->g[0].callid,
	       s->g[0].caller_tag, s->g[0].callee_tag,
	       s->g[0].early ? " (early)" : "");
	printf("#   --- message (%zu bytes, IPv%d) ---\n", s->m.len,
	       s->ipv6 ? 6 : 4);
	for (const char *p = s->m.buf; *p;) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);

		if (len && p[len - 1] == '\r')
			printf("#   | %.*s\\r\n", len - 1, p);
		else
			printf("#   | %.*s\n", len, p);
		p += len + (nl ? 1 : 0);
	}
	fflush(stdout);
}

/*
 * Run one sample under @skel: 0 agreed, 1 disagreed (reported), -1 the
 * harness failed.
 */
static int run_sample(struct sipdlg_bpf *skel, const struct knobs *k,
		      uint64_t seed, struct sample *s, __u64 *last,
		      struct run_stats *st)
{
	struct sipexp_knobs ek = { k->mode, k->drop, k->mac, MAC_K0, MAC_K1,
				   "did" };
	struct sipdlg_dlg_value v[2];
	char why[200] = "", kline[300];
	struct sipexp e;
	unsigned verdict;
	int reason, i, bad = 0, want_drop;

	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = s->frame.buf,
		    .data_size_in = (__u32)s->frame.len, .repeat = 1);

	if (sipexp_decide(&s->parsed, s->ipv6, &ek, s->d, 2, &e))
		return -1;
	for (i = 0; i < 2; i++)
		if (dlg_put(skel, &s->d[i]))
			return -1;
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.sipdlg_xdp),
				   &opts))
		return -1;
	verdict = opts.retval;
	reason = reason_of_run(skel, last);
	for (i = 0; i < 2; i++)
		if (dlg_get(skel, &s->d[i], &v[i]))
			return -1;
	for (i = 0; i < 2; i++)
		dlg_del(skel, &s->d[i]);
	if (reason == -3)
		return -1;
	if (reason >= 0)
		st->by_reason[reason]++;

	if (reason >= 0 && incomplete(reason)) {
		/*
		 * Passed untouched: allowed whatever the model says, when
		 * the message gives the reason (a documented scan limit
		 * exceeded, a folded line); the frames are never fragments
		 * or multi-buffer here.
		 */
		struct sipexp none = e;
		char lim[120] = "";

		none.dlg = -1;
		none.mismatch_dlg = -1;
		if (verdict != XDP_PASS)
			snprintf(why, sizeof(why), "incomplete %s but not passed",
				 rname(reason)), bad = 1;
		else if (reason == SDR_SIP_FOLDED &&
			 !sipexp_folded(s->m.buf, s->m.len))
			snprintf(why, sizeof(why), "sip_folded, but no line "
				 "is folded"), bad = 1;
		else if (reason == SDR_SIP_SCAN_LIMIT &&
			 !sipexp_over_limits(&s->parsed, s->m.buf, s->m.len,
					     lim, sizeof(lim)))
			snprintf(why, sizeof(why), "sip_scan_limit, but no "
				 "documented limit is exceeded"), bad = 1;
		else if (reason == SDR_IP_FRAGMENT ||
			 reason == SDR_MULTI_BUFFER)
			snprintf(why, sizeof(why), "%s on a whole frame",
				 rname(reason)), bad = 1;
		for (i = 0; i < 2 && !bad; i++)
			bad = check_value(&v[i], i, &none, s->frame.len, why,
					  sizeof(why)) != 0;
	} else {
		want_drop = sipdlg_reason_drops((__u32)e.reason);
		if (reason != e.reason)
			snprintf(why, sizeof(why), "reason %s, want %s",
				 rname(reason), rname(e.reason)), bad = 1;
		else if (verdict != (unsigned)(want_drop ? XDP_DROP : XDP_PASS))
			snprintf(why, sizeof(why), "verdict %u, want %s",
				 verdict, want_drop ? "drop" : "pass"), bad = 1;
		for (i = 0; i < 2 && !bad; i++)
			bad = check_value(&v[i], i, &e, s->frame.len, why,
					  sizeof(why)) != 0;
	}
	if (bad)
		classify(st, e.reason, reason, seed);
	if (g_verbose || bad) {
		kernel_line(kline, sizeof(kline), reason, verdict, v);
		if (bad)
			report(k, seed, s, &e, kline, why,
			       st->failures < (unsigned long)g_reports);
		else
			printf("# %llu %s: %s | %s\n", (unsigned long long)seed,
			       s->m.shape, rname(e.reason), kline);
	}
	return bad;
}

/* --- the tests: one per knob set --------------------------------------------------------- */

/* The knob sets, one cmocka test each. */
static const struct knobs K[] = {
	{ "mode0", 0, 0, 0 },	     { "mode0_drop", 0, 1, 0 },
	{ "mode1", 1, 0, 0 },	     { "mode1_drop", 1, 1, 0 },
	{ "mode2", 2, 0, 0 },	     { "mode2_drop", 2, 1, 0 },
	{ "mode0_drop_mac", 0, 1, 1 },
};
#define NKNOBS ((unsigned long)(sizeof(K) / sizeof(K[0])))

static void test_knobs(void **state)
{
	const struct knobs *k = *state;
	static struct sample s;
	struct sipdlg_bpf *skel = load(k);
	struct run_stats st;
	__u64 last[SIPDLG_REASON_SLOTS];
	struct timespec t0, t1;
	char line[600];
	unsigned long i;
	int at, r, rc;

	assert_non_null(skel);
	memset(&st, 0, sizeof(st));
	assert_int_equal(reasons_read(skel, last), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < g_n; i++) {
		uint64_t seed = g_seed + i;

		if (g_spread && i % NKNOBS != (unsigned long)(k - K))
			continue;	/* another knob set's message */

		if (sample_make(seed, &s)) {
			st.skipped++;
			continue;
		}
		if (sip_msg_parse(&s.parsed, s.m.buf, s.m.len, SIP_DATAGRAM,
				  NULL)) {
			/* the generator writes only valid messages */
			printf("# FAIL %s: SIPDLG_DIFF_SEED=%llu SIPDLG_DIFF_N=1 "
			       "user-space parser refuses it: %s\n#   %s\n",
			       k->name, (unsigned long long)seed,
			       s.parsed.error_reason, s.m.buf);
			st.failures++;
			continue;
		}
		st.msgs++;
		st.forged += s.m.forge != SIPGEN_FORGE_NONE;
		rc = run_sample(skel, k, seed, &s, last, &st);
		if (rc < 0) {
			tap_diag("%s: harness error at seed %llu", k->name,
				 (unsigned long long)seed);
			fail();
		}
		st.failures += (unsigned long)rc;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	at = snprintf(line, sizeof(line), "%s: %lu messages (%lu forged), "
		      "%.1f s;", k->name, st.msgs, st.forged,
		      (double)(t1.tv_sec - t0.tv_sec) +
			      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	for (r = 0; r < SIPDLG_REASON_SLOTS && at < (int)sizeof(line); r++)
		if (st.by_reason[r])
			at += snprintf(line + at, sizeof(line) - (size_t)at,
				       " %s %lu", rname(r), st.by_reason[r]);
	tap_diag("%s", line);
	sipdlg_bpf__destroy(skel);
	if (st.failures) {
		tap_diag("%s: %lu of %lu disagree", k->name, st.failures,
			 st.msgs);
		for (r = 0; r < st.ncls; r++)
			tap_diag("  user space %s, kernel %s: %lu (first "
				 "SIPDLG_DIFF_SEED=%llu)", rname(st.cls[r].want),
				 rname(st.cls[r].got), st.cls[r].n,
				 (unsigned long long)st.cls[r].seed);
		fail();
	}
}



static int tap_skip_all(const char *why)
{
	printf("1..1\nok 1 - test_xdp_diff # SKIP %s\n", why);
	return 0;
}

static unsigned long long env_ull(const char *name, unsigned long long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

int main(void)
{
	struct CMUnitTest tests[NKNOBS];
	size_t i;

	for (i = 0; i < NKNOBS; i++) {
		memset(&tests[i], 0, sizeof(tests[i]));
		tests[i].name = K[i].name;
		tests[i].test_func = test_knobs;
		tests[i].initial_state = (void *)&K[i];
	}
	g_n = (unsigned long)env_ull("SIPDLG_DIFF_N", DEFAULT_N);
	g_seed = env_ull("SIPDLG_DIFF_SEED", DEFAULT_SEED);
	g_verbose = (int)env_ull("SIPDLG_DIFF_VERBOSE", 0);
	g_reports = (int)env_ull("SIPDLG_DIFF_REPORTS", 5);
	g_spread = (int)env_ull("SIPDLG_DIFF_SPREAD", 0);
	if (geteuid() != 0)
		return tap_skip_all("not root");
	libbpf_set_print(libbpf_to_tap);
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) != 1)
		return tap_skip_all("this kernel does not load XDP programs");
	g_ncpus = libbpf_num_possible_cpus();
	if (g_ncpus <= 0)
		return 1;
	tap_diag("SIPDLG_DIFF_SEED=%llu SIPDLG_DIFF_N=%lu",
		 (unsigned long long)g_seed, g_n);
	return _cmocka_run_group_tests("test_xdp_diff", tests,
				       sizeof(tests) / sizeof(tests[0]), NULL,
				       NULL);
}
