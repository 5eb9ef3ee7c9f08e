// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_xdp_sip.c - packet tests of the SIP stages of the XDP fast path:
 * parsing, dialog matching, per-dialog counters, events and policy.
 *
 * Table-driven: each case builds a SIP message (or takes a frame from the
 * Kamailio captures), puts the dialogs it needs into the maps, runs the
 * program once with BPF_PROG_TEST_RUN and checks the verdict, the one
 * reason counted, and which dialog's counters moved in which direction.
 * Sequences (counters, CSeq, last-seen, events, rate limit) and the
 * truncation series have their own tests.
 *
 * Like test_xdp_parse.c, nothing is pinned: every map's pin path is
 * cleared between open and load.  Needs root; without it one TAP skip.
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
#include "lib/tap.h"
#include "lib/pcap.h"
#include "lib/pkt.h"

#define DEFAULT_PCAP_DIR "tests/data/pcap"
/* Verifier budget: the whole program, SIP stages included. */
#define TEST_MAX_VERIFIED_INSNS 700000

static int g_ncpus;

/* --- the program under test, one load per set of knobs -------------------- */

struct knobs {
	unsigned mode;		/* dlg_match_mode */
	unsigned drop;		/* unknown_dialog_drop */
	unsigned pps;		/* max_dialog_pps */
	unsigned mac;		/* mac_enabled */
	unsigned rot;		/* key rotation: the test key is mac_key_prev
				 * (mac_prev_enabled 1), mac_key another */
	unsigned fail_ev;	/* fail_events_per_sec, 0 = default (10) */
	const char *rr;		/* rr_param, NULL = default ("did") */
};

#define MAC_K0 0x0706050403020100ULL
#define MAC_K1 0x0f0e0d0c0b0a0908ULL

struct loaded {
	struct knobs k;
	struct sipdlg_bpf *skel;
};

static struct loaded g_cache[12];
static int g_ncache;

static int knobs_eq(const struct knobs *a, const struct knobs *b)
{
	const char *ra = a->rr ? a->rr : "did", *rb = b->rr ? b->rr : "did";

	return a->mode == b->mode && a->drop == b->drop && a->pps == b->pps &&
	       a->mac == b->mac && a->rot == b->rot &&
	       a->fail_ev == b->fail_ev && !strcmp(ra, rb);
}

/* The program loaded with @k (cached), or NULL. */
static struct sipdlg_bpf *prog(const struct knobs *k)
{
	struct sipdlg_bpf *skel;
	struct bpf_map *map;
	const char *rr = k->rr ? k->rr : "did";
	int i, err;

	for (i = 0; i < g_ncache; i++)
		if (knobs_eq(&g_cache[i].k, k))
			return g_cache[i].skel;
	if (g_ncache == (int)(sizeof(g_cache) / sizeof(g_cache[0])))
		return NULL;
	skel = sipdlg_bpf__open();
	if (!skel)
		return NULL;
	/* the proxy's port, and the captures' caller and callee ports */
	skel->rodata->sip_ports[0] = 5060;
	skel->rodata->sip_ports[1] = 5070;
	skel->rodata->sip_ports[2] = 5080;
	skel->rodata->n_sip_ports = 3;
	skel->rodata->unknown_dialog_drop = k->drop;
	skel->rodata->dlg_match_mode = k->mode;
	skel->rodata->max_dialog_pps = k->pps;
	skel->rodata->mac_enabled = k->mac;
	skel->rodata->mac_key[0] = MAC_K0;
	skel->rodata->mac_key[1] = MAC_K1;
	if (k->rot) {
		skel->rodata->mac_key_prev[0] = MAC_K0;
		skel->rodata->mac_key_prev[1] = MAC_K1;
		skel->rodata->mac_key[0] = ~MAC_K0;
		skel->rodata->mac_key[1] = MAC_K1 ^ 0x5a5a;
		skel->rodata->mac_prev_enabled = k->rot == 1;
	}
	if (k->fail_ev)
		skel->rodata->fail_events_per_sec = k->fail_ev;
	memset((void *)skel->rodata->rr_param, 0, SIPDLG_RR_PARAM_MAX);
	memcpy((void *)skel->rodata->rr_param, rr, strlen(rr));
	skel->rodata->rr_param_len = (__u32)strlen(rr);
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	err = sipdlg_bpf__load(skel);
	if (err) {
		tap_diag("load: %s", strerror(-err));
		sipdlg_bpf__destroy(skel);
		return NULL;
	}
	g_cache[g_ncache].k = *k;
	g_cache[g_ncache].skel = skel;
	g_ncache++;
	return skel;
}

/* --- maps --------------------------------------------------------------------- */

struct dlg {
	__u32 h_entry, h_id;
	const char *callid, *caller_tag, *callee_tag; /* callee NULL: early */
	__u32 flags;		/* SIPDLG_DLGF_* */
};

/* Long Call-ID (200 bytes) and tags (64 and 100 bytes). */
#define LONGCID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123@host.example"
#define LONGTAG_A "t0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"
#define LONGTAG_B "u0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" \
	"0123456789abcdef0123456789abcdef012"
static const struct dlg D_LONG = { 1685, 9486, LONGCID, LONGTAG_A, LONGTAG_B, 0 };

/* The dialog of most cases: cookie did=596.d052 (RFC 3261 example names). */
static const struct dlg D1 = { 1685, 9485,
			       "a84b4c76e66710@pc33.atlanta.example.com",
			       "1928301774", "a6c85cf", 0 };
/* D1's call under cookies whose halves end at or past the first word
 * (sd_fast_cookie() reads both from one word when it can):
 * 5.1234567, 1.234567, 1.23456789, 1234567.8. */
static const struct dlg D1_RH7 = { 0x5, 0x7654321,
				   "a84b4c76e66710@pc33.atlanta.example.com",
				   "1928301774", "a6c85cf", 0 };
static const struct dlg D1_RH6 = { 0x1, 0x765432,
				   "a84b4c76e66710@pc33.atlanta.example.com",
				   "1928301774", "a6c85cf", 0 };
static const struct dlg D1_RH8 = { 0x1, 0x98765432,
				   "a84b4c76e66710@pc33.atlanta.example.com",
				   "1928301774", "a6c85cf", 0 };
static const struct dlg D1_RHL = { 0x7654321, 0x8,
				   "a84b4c76e66710@pc33.atlanta.example.com",
				   "1928301774", "a6c85cf", 0 };
/* A second dialog, to see that nothing leaks between dialogs. */
static const struct dlg D2 = { 1685, 9486, "other-call@192.0.2.9", "t-one",
			       "t-two", 0 };
/* D1 restored from a database: its Record-Route may carry no MAC. */
static const struct dlg D1_NOMAC = { 1685, 9485,
				     "a84b4c76e66710@pc33.atlanta.example.com",
				     "1928301774", "a6c85cf", SIPDLG_DLGF_NOMAC };
/* Early: no callee tag yet. */
static const struct dlg D1_EARLY = { 1685, 9485,
				     "a84b4c76e66710@pc33.atlanta.example.com",
				     "1928301774", NULL, 0 };
/* The dialogs of the Kamailio captures (cookie did=a291.e2bb). */
static const struct dlg DCAP = { 0x192a, 0xbb2e, "1-6718@127.0.0.1",
				 "6718SIPpTag001", "6662SIPpTag011", 0 };
static const struct dlg DEND = { 0x1234, 0x42, "1-6750@127.0.0.1",
				 "6750SIPpTag001", "6662SIPpTag012", 0 };

static __u64 h(const char *s)
{
	return s ? sipdlg_hash_bytes(s, (__u32)strlen(s)) : 0;
}

static int maps_clear(struct sipdlg_bpf *skel)
{
	size_t vsz = (size_t)g_ncpus * sizeof(struct sipdlg_counter);
	struct sipdlg_counter *zero = calloc((size_t)g_ncpus, sizeof(*zero));
	struct sipdlg_dlg_key k, next;
	__u64 ck, cnext;
	__u32 key;
	int err = 0;

	if (!zero)
		return -ENOMEM;
	for (key = 0; key < SIPDLG_REASON_SLOTS && !err; key++)
		err = bpf_map__update_elem(skel->maps.counters, &key,
					   sizeof(key), zero, vsz, BPF_ANY);
	free(zero);
	while (!err && bpf_map__get_next_key(skel->maps.dialogs, NULL, &next,
					     sizeof(next)) == 0) {
		k = next;
		err = bpf_map__delete_elem(skel->maps.dialogs, &k, sizeof(k), 0);
	}
	while (!err && bpf_map__get_next_key(skel->maps.callids, NULL, &cnext,
					     sizeof(cnext)) == 0) {
		ck = cnext;
		err = bpf_map__delete_elem(skel->maps.callids, &ck, sizeof(ck),
					   0);
	}
	return err;
}

static int dlg_put(struct sipdlg_bpf *skel, const struct dlg *d, int index)
{
	struct sipdlg_dlg_key k = { d->h_entry, d->h_id };
	struct sipdlg_dlg_value v;
	__u64 ch = h(d->callid);
	int err;

	memset(&v, 0, sizeof(v));
	v.callid_hash = ch;
	v.caller_tag_hash = h(d->caller_tag);
	v.callee_tag_hash = h(d->callee_tag);
	v.state = d->callee_tag ? 4 : 2;
	v.flags = d->flags;
	err = bpf_map__update_elem(skel->maps.dialogs, &k, sizeof(k), &v,
				   sizeof(v), BPF_ANY);
	if (!err && index)
		err = bpf_map__update_elem(skel->maps.callids, &ch, sizeof(ch),
					   &k, sizeof(k), BPF_ANY);
	return err;
}

static int dlg_get(struct sipdlg_bpf *skel, const struct dlg *d,
		   struct sipdlg_dlg_value *v)
{
	struct sipdlg_dlg_key k = { d->h_entry, d->h_id };

	return bpf_map__lookup_elem(skel->maps.dialogs, &k, sizeof(k), v,
				    sizeof(*v), 0);
}

/* Sum of every reason slot over the CPUs. */
static int counters_read(struct sipdlg_bpf *skel, struct sipdlg_counter *sum)
{
	size_t vsz = (size_t)g_ncpus * sizeof(struct sipdlg_counter);
	struct sipdlg_counter *v = calloc((size_t)g_ncpus, sizeof(*v));
	__u32 key;
	int cpu, err = 0;

	if (!v)
		return -ENOMEM;
	for (key = 0; key < SIPDLG_REASON_SLOTS && !err; key++) {
		err = bpf_map__lookup_elem(skel->maps.counters, &key,
					   sizeof(key), v, vsz, 0);
		sum[key].packets = sum[key].bytes = 0;
		for (cpu = 0; cpu < g_ncpus && !err; cpu++) {
			sum[key].packets += v[cpu].packets;
			sum[key].bytes += v[cpu].bytes;
		}
	}
	free(v);
	return err;
}

static const char *rname(int r)
{
	static const char *const n[SDR_MAX_] = {
		[SDR_NON_IP] = "NON_IP", [SDR_NON_UDP] = "NON_UDP",
		[SDR_OTHER_PORT] = "OTHER_PORT", [SDR_TRUNCATED] = "TRUNCATED",
		[SDR_IP_FRAGMENT] = "IP_FRAGMENT", [SDR_IPV6_EXT] = "IPV6_EXT",
		[SDR_VLAN_DEPTH] = "VLAN_DEPTH", [SDR_SIP_UDP4] = "SIP_UDP4",
		[SDR_SIP_UDP6] = "SIP_UDP6", [SDR_BAD_IP_HEADER] = "BAD_IP_HEADER",
		[SDR_SIP_NOT_SIP] = "SIP_NOT_SIP",
		[SDR_SIP_SCAN_LIMIT] = "SIP_SCAN_LIMIT",
		[SDR_SIP_FOLDED] = "SIP_FOLDED",
		[SDR_SIP_REPLY_OTHER] = "SIP_REPLY_OTHER",
		[SDR_DLG_MATCH] = "DLG_MATCH",
		[SDR_DLG_REPLY_MATCH] = "DLG_REPLY_MATCH",
		[SDR_DLG_UNKNOWN] = "DLG_UNKNOWN",
		[SDR_DLG_UNKNOWN_DROP] = "DLG_UNKNOWN_DROP",
		[SDR_DLG_MISMATCH] = "DLG_MISMATCH",
		[SDR_DLG_MISMATCH_DROP] = "DLG_MISMATCH_DROP",
		[SDR_DLG_BAD_COOKIE] = "DLG_BAD_COOKIE",
		[SDR_DLG_BAD_COOKIE_DROP] = "DLG_BAD_COOKIE_DROP",
		[SDR_DLG_MAC_FAIL] = "DLG_MAC_FAIL",
		[SDR_DLG_MAC_FAIL_DROP] = "DLG_MAC_FAIL_DROP",
		[SDR_DLG_RATE_LIMITED] = "DLG_RATE_LIMITED",
		[SDR_DLG_REPLY_UNKNOWN] = "DLG_REPLY_UNKNOWN",
		[SDR_SIP_MALFORMED] = "SIP_MALFORMED",
		[SDR_MULTI_BUFFER] = "MULTI_BUFFER",
		[SDR_DLG_NOT_IN_KERNEL] = "DLG_NOT_IN_KERNEL",
	};

	if (r >= 0 && r < SDR_MAX_ && n[r])
		return n[r];
	return "?";
}

/*
 * Run @skel once on a frame; *reason is the one slot that counted
 * (-1 none, -2 several), *verdict the XDP return.  Counters are zeroed
 * first; maps are left as they are.
 */
static int run_frame(struct sipdlg_bpf *skel, const void *frame, size_t len,
		     int *reason, unsigned *verdict)
{
	size_t vsz = (size_t)g_ncpus * sizeof(struct sipdlg_counter);
	struct sipdlg_counter sum[SIPDLG_REASON_SLOTS], *zero;
	__u32 key;
	int err = 0, slot;

	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = (__u32)len, .repeat = 1);

	zero = calloc((size_t)g_ncpus, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	for (key = 0; key < SIPDLG_REASON_SLOTS && !err; key++)
		err = bpf_map__update_elem(skel->maps.counters, &key,
					   sizeof(key), zero, vsz, BPF_ANY);
	free(zero);
	if (err)
		return err;
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.sipdlg_xdp),
				     &opts);
	if (err)
		return err;
	*verdict = opts.retval;
	err = counters_read(skel, sum);
	if (err)
		return err;
	*reason = -1;
	for (slot = 0; slot < SIPDLG_REASON_SLOTS; slot++) {
		if (!sum[slot].packets)
			continue;
		if (*reason != -1 || sum[slot].packets != 1 ||
		    sum[slot].bytes != len)
			*reason = -2;
		else
			*reason = slot;
	}
	return 0;
}

/* --- SIP messages --------------------------------------------------------------- */

#define CRLF "\r\n"
#define VIA "Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK776asdhds" CRLF
#define ROUTE "Route: <sip:192.0.2.2;lr;did=596.d052>" CRLF
#define FROM_A "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
#define TO_B "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF
#define FROM_B "From: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF
#define TO_A "To: Alice <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
#define CALLID "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
#define MAXF "Max-Forwards: 70" CRLF
#define CLEN "Content-Length: 0" CRLF CRLF
#define BYE_LINE "BYE sip:bob@192.0.2.4 SIP/2.0" CRLF
/* 34 header lines that the scan does not want */
#define X2 "X-A: 1" CRLF "X-B: 2" CRLF
#define X10 X2 X2 X2 X2 X2
#define X34 X10 X10 X10 X2 X2
#define BYE_DOWN BYE_LINE VIA ROUTE MAXF FROM_A TO_B CALLID "CSeq: 231 BYE" CRLF CLEN
#define BYE_UP BYE_LINE VIA ROUTE MAXF FROM_B TO_A CALLID "CSeq: 7 BYE" CRLF CLEN
/* The MAC of (1685, 9485) under MAC_K0/K1, filled in at start-up. */
static char g_dm[SIPDLG_MAC_HEX_LEN + 1];

/* Replace every "{DM}" in @tmpl by the right MAC into @out. */
static size_t with_mac(const char *tmpl, char *out, size_t outlen)
{
	const char *p = tmpl, *q;
	size_t n = 0;

	while ((q = strstr(p, "{DM}")) && n + (size_t)(q - p) + 16 < outlen) {
		memcpy(out + n, p, (size_t)(q - p));
		n += (size_t)(q - p);
		memcpy(out + n, g_dm, 16);
		n += 16;
		p = q + 4;
	}
	snprintf(out + n, outlen - n, "%s", p);
	return strlen(out);
}

/* --- table-driven cases ----------------------------------------------------------- */

enum { NONE = -1 };

struct sip_case {
	const char *name;
	struct knobs k;
	const char *sip;		/* "{DM}" is replaced by the MAC */
	struct pkt_sip_opts o;
	const struct dlg *dlgs[2];	/* put before the run */
	int index;			/* also into callids */
	int want;			/* reason */
	const struct dlg *moved;	/* whose counters must move (else none) */
	int dir;			/* ... in which direction */
	int reply;			/* ... as a reply */
};

/* Check dialog counters: only @moved changed, by one packet in @dir. */
static int check_dialogs(struct sipdlg_bpf *skel, const struct sip_case *c,
			 size_t len, char *why, size_t whylen)
{
	struct sipdlg_dlg_value v;
	int i, d;

	for (i = 0; i < 2; i++) {
		const struct dlg *dl = c->dlgs[i];

		if (!dl)
			continue;
		if (dlg_get(skel, dl, &v)) {
			snprintf(why, whylen, "dialog %u.%u vanished",
				 dl->h_entry, dl->h_id);
			return -1;
		}
		for (d = 0; d < 2; d++) {
			__u64 wp = dl == c->moved && d == c->dir ? 1 : 0;

			if (v.dir[d].packets != wp ||
			    v.dir[d].bytes != wp * len ||
			    v.dir[d].replies != (c->reply ? wp : 0)) {
				snprintf(why, whylen,
					 "dialog %u.%u dir %d: %llu packets "
					 "%llu bytes %u replies, want %llu",
					 dl->h_entry, dl->h_id, d,
					 (unsigned long long)v.dir[d].packets,
					 (unsigned long long)v.dir[d].bytes,
					 v.dir[d].replies,
					 (unsigned long long)wp);
				return -1;
			}
		}
		if ((dl == c->moved) != (v.last_seen_ns != 0)) {
			snprintf(why, whylen, "dialog %u.%u last_seen %llu",
				 dl->h_entry, dl->h_id,
				 (unsigned long long)v.last_seen_ns);
			return -1;
		}
	}
	return 0;
}

static void test_case(void **state)
{
	const struct sip_case *c = *state;
	struct sipdlg_bpf *skel = prog(&c->k);
	char sip[PKT_MAX], why[256];
	unsigned verdict;
	struct pkt p;
	int i, reason, want_drop;
	size_t n;

	assert_non_null(skel);
	assert_int_equal(maps_clear(skel), 0);
	for (i = 0; i < 2; i++)
		if (c->dlgs[i])
			assert_int_equal(dlg_put(skel, c->dlgs[i], c->index), 0);
	n = with_mac(c->sip, sip, sizeof(sip));
	assert_int_equal(pkt_sip(&p, &c->o, sip, n), 0);
	assert_int_equal(run_frame(skel, p.buf, p.len, &reason, &verdict), 0);
	want_drop = sipdlg_reason_drops((__u32)c->want);
	if (reason != c->want ||
	    verdict != (unsigned)(want_drop ? XDP_DROP : XDP_PASS)) {
		tap_diag("%s: counted %s (%d), verdict %u; want %s", c->name,
			 rname(reason), reason, verdict, rname(c->want));
		fail();
	}
	if (check_dialogs(skel, c, p.len, why, sizeof(why)) < 0) {
		tap_diag("%s: %s", c->name, why);
		fail();
	}
}

#define K0 { 0 }
#define KDROP { .drop = 1 }
#define KM1 { .mode = 1 }
#define KM2 { .mode = 2 }
#define KMAC { .mac = 1 }
#define KMACDROP { .mac = 1, .drop = 1 }
#define KROT { .mac = 1, .rot = 1 }		/* MAC under mac_key_prev, on */
#define KROTOFF { .mac = 1, .rot = 2, .drop = 1 } /* ... prev not enabled */
#define V4 { 0 }
#define V6 { .ipv6 = 1 }

#define CASE(nm, ...)                                                      \
	{ .name = #nm, .test_func = test_case,                           \
	  .initial_state = &(struct sip_case){ #nm, __VA_ARGS__, 0 } }
#define RCASE(nm, ...)                                                     \
	{ .name = #nm, .test_func = test_case,                           \
	  .initial_state = &(struct sip_case){ #nm, __VA_ARGS__, 1 } }

/* --- sequences ------------------------------------------------------------------- */

static int send_sip(struct sipdlg_bpf *skel, const char *sip,
		    const struct pkt_sip_opts *o, int *reason)
{
	struct pkt p;
	unsigned verdict;

	if (pkt_sip(&p, o, sip, strlen(sip)))
		return -1;
	return run_frame(skel, p.buf, p.len, reason, &verdict);
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* Counters, CSeq and last-seen of one dialog after a sequence. */
static void test_dialog_counters(void **state)
{
	static const struct knobs k = K0;
	struct sipdlg_bpf *skel = prog(&k);
	struct sipdlg_dlg_value v;
	__u64 before, after;
	int r;

	assert_non_null(skel);
	assert_int_equal(maps_clear(skel), 0);
	assert_int_equal(dlg_put(skel, &D1, 0), 0);
	before = mono_ns();
	/* caller -> callee: re-INVITE 10, INFO 11, ACK 10; callee: INFO 3, BYE 4 */
	assert_int_equal(send_sip(skel, "INVITE sip:bob@192.0.2.4 SIP/2.0" CRLF VIA ROUTE MAXF FROM_A TO_B CALLID
				  "CSeq: 10 INVITE" CRLF "Contact: <sip:alice@192.0.2.1>" CRLF CLEN, NULL, &r), 0);
	assert_int_equal(r, SDR_DLG_MATCH);
	assert_int_equal(send_sip(skel, "INFO sip:bob@192.0.2.4 SIP/2.0" CRLF VIA ROUTE MAXF FROM_A TO_B CALLID
				  "CSeq: 11 INFO" CRLF CLEN, NULL, &r), 0);
	assert_int_equal(r, SDR_DLG_MATCH);
	assert_int_equal(send_sip(skel, "ACK sip:bob@192.0.2.4 SIP/2.0" CRLF VIA ROUTE MAXF FROM_A TO_B CALLID
				  "CSeq: 10 ACK" CRLF CLEN, NULL, &r), 0);
	assert_int_equal(r, SDR_DLG_MATCH);
	assert_int_equal(send_sip(skel, "INFO sip:alice@192.0.2.1 SIP/2.0" CRLF VIA ROUTE MAXF FROM_B TO_A CALLID
				  "CSeq: 3 INFO" CRLF CLEN, NULL, &r), 0);
	assert_int_equal(r, SDR_DLG_MATCH);
	assert_int_equal(send_sip(skel, "BYE sip:alice@192.0.2.1 SIP/2.0" CRLF VIA ROUTE MAXF FROM_B TO_A CALLID
				  "CSeq: 4 BYE" CRLF CLEN, NULL, &r), 0);
	assert_int_equal(r, SDR_DLG_MATCH);
	after = mono_ns();
	assert_int_equal(dlg_get(skel, &D1, &v), 0);
	assert_int_equal(v.dir[0].packets, 3);
	assert_int_equal(v.dir[1].packets, 2);
	assert_true(v.dir[0].bytes > 3 * 200 && v.dir[1].bytes > 2 * 200);
	assert_int_equal(v.dir[0].cseq_max, 11);
	assert_int_equal(v.dir[1].cseq_max, 4);
	assert_int_equal(v.methods[SDM_INVITE], 1);
	assert_int_equal(v.methods[SDM_INFO], 2);
	assert_int_equal(v.methods[SDM_ACK], 1);
	assert_int_equal(v.methods[SDM_BYE], 1);
	assert_int_equal(v.bye_seen, 1u << SDD_CALLEE_TO_CALLER);
	assert_int_equal(v.mismatches, 0);
	/* coarse clock: at most a tick (<= 10 ms) behind CLOCK_MONOTONIC */
	assert_true(v.last_seen_ns + 10000000ULL >= before);
	assert_true(v.last_seen_ns <= after);
	/* identity fields untouched */
	assert_true(v.callid_hash == h(D1.callid) && v.state == 4);
	/* a reply to the BYE, through our branch: counted the other way */
	assert_int_equal(send_sip(skel, "SIP/2.0 200 OK" CRLF
				  "Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKsd596.d052.1a3f" CRLF
				  VIA FROM_B TO_A CALLID "CSeq: 4 BYE" CRLF CLEN, NULL, &r), 0);
	assert_int_equal(r, SDR_DLG_REPLY_MATCH);
	assert_int_equal(dlg_get(skel, &D1, &v), 0);
	assert_int_equal(v.dir[0].packets, 4);
	assert_int_equal(v.dir[0].replies, 1);
	assert_int_equal(v.dir[1].replies, 0);
	assert_int_equal(v.methods[SDM_BYE], 1);
}

/*
 * The controller's published time (sd_clock_ns, include/sipdlg_shared.h
 * "Clock"): a matched request and a matched reply are stamped with it
 * exactly; at 0 (no controller) the kernel's coarse clock is used.
 */
static void test_published_clock(void **state)
{
	static const struct knobs k = K0;
	struct sipdlg_bpf *skel = prog(&k);
	const __u64 t = 123456789012ULL;
	struct sipdlg_dlg_value v;
	__u64 before, after;
	int r;

	assert_non_null(skel);
	assert_non_null(skel->data_clock);
	assert_int_equal(maps_clear(skel), 0);
	assert_int_equal(dlg_put(skel, &D1, 0), 0);
	skel->data_clock->sd_clock_ns = t;
	assert_int_equal(send_sip(skel, "INFO sip:bob@192.0.2.4 SIP/2.0" CRLF VIA ROUTE MAXF FROM_A TO_B CALLID
				  "CSeq: 11 INFO" CRLF CLEN, NULL, &r), 0);
	assert_int_equal(r, SDR_DLG_MATCH);
	assert_int_equal(dlg_get(skel, &D1, &v), 0);
	assert_true(v.last_seen_ns == t);
	skel->data_clock->sd_clock_ns = t + 5;
	assert_int_equal(send_sip(skel, "SIP/2.0 200 OK" CRLF
				  "Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKsd596.d052.0a3f" CRLF
				  VIA FROM_A TO_B CALLID "CSeq: 11 INFO" CRLF CLEN, NULL, &r), 0);
	assert_int_equal(r, SDR_DLG_REPLY_MATCH);
	assert_int_equal(dlg_get(skel, &D1, &v), 0);
	assert_true(v.last_seen_ns == t + 5);
	/* unpublished: the kernel's coarse clock again */
	skel->data_clock->sd_clock_ns = 0;
	before = mono_ns();
	assert_int_equal(send_sip(skel, "INFO sip:bob@192.0.2.4 SIP/2.0" CRLF VIA ROUTE MAXF FROM_A TO_B CALLID
				  "CSeq: 12 INFO" CRLF CLEN, NULL, &r), 0);
	assert_int_equal(r, SDR_DLG_MATCH);
	after = mono_ns();
	assert_int_equal(dlg_get(skel, &D1, &v), 0);
	assert_true(v.last_seen_ns + 10000000ULL >= before);
	assert_true(v.last_seen_ns <= after);
}

/*
 * CSeq numbers of every length: an in-dialog INFO with CSeq 1..10 digits
 * (and 2^31-1, 2^32-1) matches and sets cseq_max; 2^32 (and an 11-digit
 * number) is malformed.  Every case both in a fresh dialog and under
 * unknown_dialog: drop with a forged (unknown) cookie, which must drop.
 */
static void test_cseq_lengths(void **state)
{
	static const struct knobs k = K0, kd = KDROP;
	static const char *const ok[] = {
		"5", "15", "150", "1000", "1001", "99999", "123456",
		"1234567", "12345678", "123456789", "2147483647",
		"4294967295", "0000000042", "9",
	};
	static const __u32 okv[] = {
		5, 15, 150, 1000, 1001, 99999, 123456, 1234567, 12345678,
		123456789, 2147483647u, 4294967295u, 42, 9,
	};
	static const char *const bad[] = { "4294967296", "99999999999",
					   "12345678901" };
	struct sipdlg_bpf *skel = prog(&k), *skd = prog(&kd);
	struct sipdlg_dlg_value v;
	char sip[1024];
	unsigned i;
	int r;

	assert_non_null(skel);
	assert_non_null(skd);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(sip, sizeof(sip), "INFO sip:bob@192.0.2.4 SIP/2.0" CRLF VIA ROUTE MAXF
			 FROM_A TO_B CALLID "CSeq: %s INFO" CRLF CLEN, ok[i]);
		assert_int_equal(maps_clear(skel), 0);
		assert_int_equal(dlg_put(skel, &D1, 0), 0);
		assert_int_equal(send_sip(skel, sip, NULL, &r), 0);
		if (r != SDR_DLG_MATCH)
			tap_diag("CSeq %s: %s", ok[i], rname(r));
		assert_int_equal(r, SDR_DLG_MATCH);
		assert_int_equal(dlg_get(skel, &D1, &v), 0);
		assert_int_equal(v.dir[0].cseq_max, okv[i]);
		assert_int_equal(v.methods[SDM_INFO], 1);
		/* forged: the cookie names no dialog, and the policy drops */
		assert_int_equal(maps_clear(skd), 0);
		assert_int_equal(dlg_put(skd, &D2, 0), 0);
		assert_int_equal(send_sip(skd, sip, NULL, &r), 0);
		if (r != SDR_DLG_UNKNOWN_DROP)
			tap_diag("forged CSeq %s: %s", ok[i], rname(r));
		assert_int_equal(r, SDR_DLG_UNKNOWN_DROP);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(sip, sizeof(sip), "INFO sip:bob@192.0.2.4 SIP/2.0" CRLF VIA ROUTE MAXF
			 FROM_A TO_B CALLID "CSeq: %s INFO" CRLF CLEN, bad[i]);
		assert_int_equal(maps_clear(skel), 0);
		assert_int_equal(dlg_put(skel, &D1, 0), 0);
		assert_int_equal(send_sip(skel, sip, NULL, &r), 0);
		if (r != SDR_SIP_MALFORMED)
			tap_diag("CSeq %s: %s", bad[i], rname(r));
		assert_int_equal(r, SDR_SIP_MALFORMED);
	}
}

/* Every method, in-dialog: matched and counted under its own slot. */
static void test_every_method(void **state)
{
	static const struct knobs k = K0;
	static const struct {
		const char *name;
		int m;
	} ms[] = {
		{ "INVITE", SDM_INVITE }, { "ACK", SDM_ACK }, { "BYE", SDM_BYE },
		{ "CANCEL", SDM_CANCEL }, { "OPTIONS", SDM_OPTIONS },
		{ "INFO", SDM_INFO }, { "UPDATE", SDM_UPDATE },
		{ "PRACK", SDM_PRACK }, { "REFER", SDM_REFER },
		{ "NOTIFY", SDM_NOTIFY }, { "MESSAGE", SDM_MESSAGE },
		{ "SUBSCRIBE", SDM_OTHER }, { "PUBLISH", SDM_OTHER },
		{ "X-CUSTOM", SDM_OTHER },
	};
	struct sipdlg_bpf *skel = prog(&k);
	struct sipdlg_dlg_value v;
	char sip[1024];
	unsigned i;
	int r;

	assert_non_null(skel);
	for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		snprintf(sip, sizeof(sip), "%s sip:bob@192.0.2.4 SIP/2.0" CRLF VIA ROUTE MAXF
			 FROM_A TO_B CALLID "CSeq: 77 %s" CRLF "Contact: <sip:a@192.0.2.1>" CRLF CLEN,
			 ms[i].name, ms[i].name);
		assert_int_equal(maps_clear(skel), 0);
		assert_int_equal(dlg_put(skel, &D1, 0), 0);
		assert_int_equal(send_sip(skel, sip, NULL, &r), 0);
		if (r != SDR_DLG_MATCH)
			tap_diag("%s: %s", ms[i].name, rname(r));
		assert_int_equal(r, SDR_DLG_MATCH);
		assert_int_equal(dlg_get(skel, &D1, &v), 0);
		assert_int_equal(v.methods[ms[i].m], 1);
		assert_int_equal(v.dir[0].cseq_max, 77);
	}
}

/*
 * MAC on, the MAC missing, the dialog not in the kernel: a dialog the
 * controller could not write (fpstate degraded, or its key in
 * "overflow") passes as NOT_IN_KERNEL instead of being dropped.
 */
static void test_mac_not_in_kernel(void **state)
{
	static const struct knobs k = KMACDROP;
	struct sipdlg_bpf *skel = prog(&k);
	struct sipdlg_fp_state st = { 0 };
	struct sipdlg_dlg_key key = { D1.h_entry, D1.h_id };
	__u32 zero = 0;
	__u8 one = 1;
	int r;

	assert_non_null(skel);
	assert_int_equal(maps_clear(skel), 0);
	st.degraded = 1;
	assert_int_equal(bpf_map__update_elem(skel->maps.fpstate, &zero, sizeof(zero), &st,
					      sizeof(st), BPF_ANY), 0);
	assert_int_equal(send_sip(skel, BYE_DOWN, NULL, &r), 0);
	assert_int_equal(r, SDR_DLG_NOT_IN_KERNEL);
	st.degraded = 0;
	st.overflow_n = 1;
	assert_int_equal(bpf_map__update_elem(skel->maps.fpstate, &zero, sizeof(zero), &st,
					      sizeof(st), BPF_ANY), 0);
	assert_int_equal(bpf_map__update_elem(skel->maps.overflow, &key, sizeof(key), &one,
					      sizeof(one), BPF_ANY), 0);
	assert_int_equal(send_sip(skel, BYE_DOWN, NULL, &r), 0);
	assert_int_equal(r, SDR_DLG_NOT_IN_KERNEL);
	/* and without: the MAC failure, dropped */
	memset(&st, 0, sizeof(st));
	assert_int_equal(bpf_map__update_elem(skel->maps.fpstate, &zero, sizeof(zero), &st,
					      sizeof(st), BPF_ANY), 0);
	assert_int_equal(bpf_map__delete_elem(skel->maps.overflow, &key, sizeof(key), 0), 0);
	assert_int_equal(send_sip(skel, BYE_DOWN, NULL, &r), 0);
	assert_int_equal(r, SDR_DLG_MAC_FAIL_DROP);
}

struct evlog {
	struct sipdlg_event ev[64];
	int n;
};

static int ev_cb(void *ctx, void *data, size_t size)
{
	struct evlog *l = ctx;

	if (size >= sizeof(struct sipdlg_event) && l->n < 64)
		memcpy(&l->ev[l->n++], data, sizeof(struct sipdlg_event));
	return 0;
}

/* Ring-buffer events: BYE once per direction, target refresh, failures. */
static void test_events(void **state)
{
	static const struct knobs k = { .fail_ev = 2 };
	struct sipdlg_bpf *skel = prog(&k);
	struct ring_buffer *rb;
	struct evlog log;
	int r, i;

	assert_non_null(skel);
	assert_int_equal(maps_clear(skel), 0);
	assert_int_equal(dlg_put(skel, &D1, 0), 0);
	memset(&log, 0, sizeof(log));
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), ev_cb, &log,
			      NULL);
	assert_non_null(rb);
	ring_buffer__consume(rb);	/* whatever earlier tests left */
	log.n = 0;

	/* re-INVITE with Contact: one refresh; its retransmission: none */
	for (i = 0; i < 2; i++) {
		assert_int_equal(send_sip(skel, "INVITE sip:bob@192.0.2.4 SIP/2.0" CRLF VIA ROUTE MAXF FROM_A TO_B
					  CALLID "CSeq: 20 INVITE" CRLF "m: <sip:alice@192.0.2.7>" CRLF CLEN,
					  NULL, &r), 0);
		assert_int_equal(r, SDR_DLG_MATCH);
	}
	/* UPDATE without Contact: none */
	assert_int_equal(send_sip(skel, "UPDATE sip:bob@192.0.2.4 SIP/2.0" CRLF VIA ROUTE MAXF FROM_A TO_B
				  CALLID "CSeq: 21 UPDATE" CRLF CLEN, NULL, &r), 0);
	assert_int_equal(r, SDR_DLG_MATCH);
	/* BYE twice from the callee: one event */
	for (i = 0; i < 2; i++) {
		assert_int_equal(send_sip(skel, BYE_UP, NULL, &r), 0);
		assert_int_equal(r, SDR_DLG_MATCH);
	}
	/* five unknown cookies: the bucket (2/s) lets two through */
	for (i = 0; i < 5; i++) {
		assert_int_equal(send_sip(skel, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=1.1>" CRLF MAXF
					  FROM_A TO_B CALLID "CSeq: 9 BYE" CRLF CLEN, NULL, &r), 0);
		assert_int_equal(r, SDR_DLG_UNKNOWN);
	}
	assert_true(ring_buffer__consume(rb) >= 0);
	ring_buffer__free(rb);

	if (log.n != 4)
		tap_diag("%d events", log.n);
	assert_int_equal(log.n, 4);
	assert_int_equal(log.ev[0].type, SDE_TARGET_REFRESH);
	assert_int_equal(log.ev[0].cseq, 20);
	assert_int_equal(log.ev[0].direction, SDD_CALLER_TO_CALLEE);
	assert_int_equal(log.ev[0].method, SDM_INVITE);
	assert_int_equal(log.ev[0].key.h_entry, 1685);
	assert_int_equal(log.ev[0].key.h_id, 9485);
	assert_int_equal(log.ev[0].family, 4);
	assert_int_equal(log.ev[0].sport, 5070);
	assert_int_equal(log.ev[0].saddr[0], 192);
	assert_int_equal(log.ev[0].saddr[3], 1);
	assert_true(log.ev[0].ts_ns > 0);
	assert_int_equal(log.ev[1].type, SDE_BYE);
	assert_int_equal(log.ev[1].direction, SDD_CALLEE_TO_CALLER);
	assert_int_equal(log.ev[1].cseq, 7);
	assert_int_equal(log.ev[2].type, SDE_MATCH_FAILED);
	assert_int_equal(log.ev[2].reason, SDR_DLG_UNKNOWN);
	assert_int_equal(log.ev[2].key.h_entry, 1);
	assert_true(log.ev[2].callid_hash == h(D1.callid));
	assert_int_equal(log.ev[3].type, SDE_MATCH_FAILED);
}

/* max_dialog_pps: the first N of a burst pass, the rest are dropped. */
static void test_rate_limit(void **state)
{
	static const struct knobs k = { .pps = 3 };
	struct sipdlg_bpf *skel = prog(&k);
	struct sipdlg_dlg_value v;
	int i, r, ok = 0, limited = 0, other = 0;

	assert_non_null(skel);
	assert_int_equal(maps_clear(skel), 0);
	assert_int_equal(dlg_put(skel, &D1, 0), 0);
	for (i = 0; i < 8; i++) {
		assert_int_equal(send_sip(skel, BYE_DOWN, NULL, &r), 0);
		ok += r == SDR_DLG_MATCH;
		limited += r == SDR_DLG_RATE_LIMITED;
		other += r != SDR_DLG_MATCH && r != SDR_DLG_RATE_LIMITED;
	}
	/* a second boundary may fall inside the burst: 3..6 pass */
	tap_diag("rate limit 3/s: %d passed, %d dropped", ok, limited);
	assert_int_equal(other, 0);
	assert_true(ok >= 3 && ok <= 6 && ok + limited == 8);
	assert_int_equal(dlg_get(skel, &D1, &v), 0);
	assert_int_equal(v.dir[0].packets, (unsigned)ok);
	assert_int_equal(v.rate_limited, (unsigned)limited);
	/* other dialogs are not limited by this one */
	assert_int_equal(dlg_put(skel, &D2, 0), 0);
	assert_int_equal(send_sip(skel, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=596.e052>" CRLF
				  "From: <sip:x@y>;tag=t-one" CRLF "To: <sip:z@y>;tag=t-two" CRLF
				  "Call-ID: other-call@192.0.2.9" CRLF "CSeq: 2 BYE" CRLF CLEN, NULL, &r), 0);
	assert_int_equal(r, SDR_DLG_MATCH);
}

/* --- captures ------------------------------------------------------------------- */

static const char *pcap_dir(void)
{
	const char *d = getenv("SIPDLG_PCAP_DIR");

	return d && *d ? d : DEFAULT_PCAP_DIR;
}

/* Frame @idx (1-based) of capture @file into @buf; its length or 0. */
static size_t pcap_frame(const char *file, int idx, uint8_t *buf, size_t max)
{
	char path[4096];
	struct capfile *cf;
	struct capframe fr;
	size_t n = 0;
	int i = 0;

	snprintf(path, sizeof(path), "%s/%s", pcap_dir(), file);
	if (capfile_open(path, &cf))
		return 0;
	while (capfile_next(cf, &fr) == 1) {
		if (++i == idx && fr.len <= max) {
			memcpy(buf, fr.data, fr.len);
			n = fr.len;
			break;
		}
	}
	capfile_free(cf);
	return n;
}

struct pcap_case {
	const char *file;
	int frame;
	struct knobs k;
	const struct dlg *d;
	int index;
	int want;
	int dir;
};

/* The real in-dialog requests of the captures, against their dialogs. */
static void test_pcap_in_dialog(void **state)
{
	static const struct pcap_case cases[] = {
		/* ACK and BYE caller -> proxy, with Kamailio's cookie */
		{ "kamailio-call.pcap", 8, K0, &DCAP, 0, SDR_DLG_MATCH, 0 },
		{ "kamailio-call.pcap", 10, K0, &DCAP, 0, SDR_DLG_MATCH, 0 },
		{ "kamailio-call.pcap", 10, KDROP, &DCAP, 0, SDR_DLG_MATCH, 0 },
		/* the same, with no dialog: unknown, dropped under drop */
		{ "kamailio-call.pcap", 10, K0, NULL, 0, SDR_DLG_UNKNOWN, -1 },
		{ "kamailio-call.pcap", 10, KDROP, NULL, 0, SDR_DLG_UNKNOWN_DROP, -1 },
		/* proxy -> callee copies carry no cookie */
		{ "kamailio-call.pcap", 11, K0, &DCAP, 0, SDR_SIP_UDP4, -1 },
		{ "kamailio-call.pcap", 11, KM1, &DCAP, 1, SDR_DLG_MATCH, 0 },
		/* INVITE: no To-tag */
		{ "kamailio-call.pcap", 1, K0, &DCAP, 0, SDR_SIP_UDP4, -1 },
		/* Kamailio's replies: not our branch */
		{ "kamailio-call.pcap", 6, K0, &DCAP, 0, SDR_SIP_REPLY_OTHER, -1 },
		/* dlg.end_dlg BYEs, no cookie: by Call-ID in modes 1/2 */
		{ "kamailio-end_dlg.pcap", 1, K0, &DEND, 1, SDR_SIP_UDP4, -1 },
		{ "kamailio-end_dlg.pcap", 1, KM1, &DEND, 1, SDR_DLG_MATCH, 1 },
		{ "kamailio-end_dlg.pcap", 2, KM2, &DEND, 1, SDR_DLG_MATCH, 0 },
		{ "kamailio-end_dlg.pcap", 2, KM2, &DEND, 0, SDR_SIP_UDP4, -1 },
	};
	uint8_t buf[PKT_MAX];
	int bad = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcap_case *c = &cases[i];
		struct sipdlg_bpf *skel = prog(&c->k);
		struct sipdlg_dlg_value v;
		size_t n = pcap_frame(c->file, c->frame, buf, sizeof(buf));
		unsigned verdict;
		int r;

		assert_non_null(skel);
		assert_true(n > 0);
		assert_int_equal(maps_clear(skel), 0);
		if (c->d)
			assert_int_equal(dlg_put(skel, c->d, c->index), 0);
		assert_int_equal(run_frame(skel, buf, n, &r, &verdict), 0);
		if (r != c->want ||
		    verdict != (sipdlg_reason_drops((__u32)r) ? XDP_DROP : XDP_PASS)) {
			tap_diag("%s frame %d: %s, verdict %u; want %s", c->file,
				 c->frame, rname(r), verdict, rname(c->want));
			bad++;
			continue;
		}
		if (c->d && dlg_get(skel, c->d, &v) == 0) {
			int d0 = c->dir == 0, d1 = c->dir == 1;

			if (v.dir[0].packets != (unsigned)d0 ||
			    v.dir[1].packets != (unsigned)d1) {
				tap_diag("%s frame %d: dialog %llu/%llu, want dir %d",
					 c->file, c->frame,
					 (unsigned long long)v.dir[0].packets,
					 (unsigned long long)v.dir[1].packets,
					 c->dir);
				bad++;
			}
		}
	}
	assert_int_equal(bad, 0);
}

/*
 * The real BYE (call capture, frame 10) with its SIP payload cut at every
 * length, lengths fixed up: matched exactly when every header it needs is
 * complete, never another dialog, always passed.  And the frame itself
 * cut at every length: TRUNCATED (or refused below 14 bytes).
 */
static void test_truncated_bye(void **state)
{
	static const struct knobs k = K0;
	struct sipdlg_bpf *skel = prog(&k);
	uint8_t frame[PKT_MAX];
	size_t n = pcap_frame("kamailio-call.pcap", 10, frame, sizeof(frame));
	const char *sip, *cseq;
	size_t off, need_end, sip_len, cut;
	struct sipdlg_dlg_value v, v2;
	struct pkt p;
	unsigned verdict;
	int r, bad = 0, matched = 0;

	assert_non_null(skel);
	assert_true(n > 42);
	off = 14 + (size_t)(frame[14] & 0xf) * 4 + 8;
	sip = (const char *)frame + off;
	sip_len = n - off;
	/* the last header the match needs is CSeq: complete with its LF */
	cseq = strstr(sip, "CSeq:");
	assert_non_null(cseq);
	need_end = (size_t)(strchr(cseq, '\n') - sip) + 1;

	for (cut = 0; cut <= sip_len; cut++) {
		assert_int_equal(maps_clear(skel), 0);
		assert_int_equal(dlg_put(skel, &DCAP, 0), 0);
		assert_int_equal(dlg_put(skel, &D2, 0), 0);
		assert_int_equal(pkt_sip(&p, NULL, sip, cut), 0);
		assert_int_equal(run_frame(skel, p.buf, p.len, &r, &verdict), 0);
		assert_int_equal(dlg_get(skel, &DCAP, &v), 0);
		assert_int_equal(dlg_get(skel, &D2, &v2), 0);
		if (verdict != XDP_PASS || r < 0 ||
		    (r == SDR_DLG_MATCH) != (cut >= need_end) ||
		    v.dir[0].packets != (r == SDR_DLG_MATCH) ||
		    v.dir[1].packets || v2.dir[0].packets || v2.dir[1].packets) {
			tap_diag("payload cut at %zu: %s verdict %u", cut,
				 rname(r), verdict);
			bad++;
		}
		matched += r == SDR_DLG_MATCH;
	}
	tap_diag("payload cuts 0..%zu: matched from %zu on (%d)", sip_len,
		 need_end, matched);

	for (cut = 0; cut < n; cut++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
			    .data_size_in = (__u32)cut, .repeat = 1);
		int err;

		assert_int_equal(maps_clear(skel), 0);
		assert_int_equal(dlg_put(skel, &DCAP, 0), 0);
		err = bpf_prog_test_run_opts(
			bpf_program__fd(skel->progs.sipdlg_xdp), &opts);
		if (err == -EINVAL && cut < 14)
			continue;
		assert_int_equal(dlg_get(skel, &DCAP, &v), 0);
		if (err || opts.retval != XDP_PASS || v.dir[0].packets) {
			tap_diag("frame cut at %zu: err %d verdict %u", cut, err,
				 opts.retval);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* --- contract ------------------------------------------------------------------- */

static void test_loads(void **state)
{
	static const struct knobs k = K0;
	struct sipdlg_bpf *skel = prog(&k);
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	assert_non_null(skel);
	memset(&info, 0, sizeof(info));
	assert_int_equal(bpf_obj_get_info_by_fd(
				 bpf_program__fd(skel->progs.sipdlg_xdp), &info,
				 &len),
			 0);
	tap_diag("verifier processed %u insns; %u xlated bytes",
		 info.verified_insns, info.xlated_prog_len);
	assert_true(info.verified_insns <= TEST_MAX_VERIFIED_INSNS);
}

static void test_contract(void **state)
{
	static const struct knobs k = K0;
	struct sipdlg_bpf *skel = prog(&k);
	struct bpf_map *m;
	char hex[17] = { 0 };

	assert_non_null(skel);
	m = skel->maps.callids;
	assert_int_equal(bpf_map__type(m), BPF_MAP_TYPE_HASH);
	assert_int_equal(bpf_map__key_size(m), 8);
	assert_int_equal(bpf_map__value_size(m), sizeof(struct sipdlg_dlg_key));
	assert_int_equal(bpf_map__value_size(skel->maps.dialogs),
			 sizeof(struct sipdlg_dlg_value));
	/* the documented check values of include/sipdlg_hash.h */
	assert_true(h("a") == 0x3489d2efc0a2e96bULL);
	assert_true(h("1-6718@127.0.0.1") == 0xd425feea08f484f2ULL);
	assert_true(h("6718SIPpTag001") == 0xe0b36689e77b8896ULL);
	assert_true(sipdlg_dlg_mac(MAC_K0, MAC_K1, 0x03020100, 0x07060504) ==
		    0x93f5f5799a932462ULL);
	sipdlg_mac_hex(0x93f5f5799a932462ULL, hex);
	assert_string_equal(hex, "93f5f5799a932462");
	assert_string_equal(SIPDLG_BRANCH_PREFIX, "z9hG4bKsd");
	/* the default rr_param knob */
	assert_int_equal(skel->rodata->rr_param_len, 3);
	assert_memory_equal((const void *)skel->rodata->rr_param, "did", 3);
}

/* --- main ------------------------------------------------------------------------- */

static int group_setup(void **state)
{
	g_ncpus = libbpf_num_possible_cpus();
	if (g_ncpus <= 0)
		return -1;
	sipdlg_mac_hex(sipdlg_dlg_mac(MAC_K0, MAC_K1, D1.h_entry, D1.h_id),
		       g_dm);
	return 0;
}

static int group_teardown(void **state)
{
	for (int i = 0; i < g_ncache; i++)
		sipdlg_bpf__destroy(g_cache[i].skel);
	g_ncache = 0;
	return 0;
}

static int tap_skip_all(const char *why)
{
	printf("1..1\nok 1 - test_xdp_sip # SKIP %s\n", why);
	return 0;
}

#define LONG_HDRS                                                          \
	"X-A: 1" CRLF "X-B: 2" CRLF "X-C: 3" CRLF "X-D: 4" CRLF "X-E: 5" CRLF \
	"X-F: 6" CRLF "X-G: 7" CRLF "X-H: 8" CRLF "X-I: 9" CRLF "X-J: 10" CRLF

/* 160 bytes of headers after CSeq (see the fast-path cases) */
#define PAD                                                               \
	"X-Pad: 0123456789012345678901234567890123456789012345678901234567890123456789" CRLF \
	"X-Pad: 0123456789012345678901234567890123456789012345678901234567890123456789" CRLF

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loads),
		cmocka_unit_test(test_contract),

		/* matched, every header variant */
		CASE(bye_down, K0, BYE_DOWN, V4, { &D1, &D2 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(bye_up, K0, BYE_UP, V4, { &D1, &D2 }, 0, SDR_DLG_MATCH, &D1, 1),
		CASE(ipv6, K0, BYE_DOWN, V6, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(vlan, K0, BYE_DOWN, { .vlans = 1 }, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(qinq_ipv6, K0, BYE_UP, { .vlans = 2, .ipv6 = 1 }, { &D1 }, 0, SDR_DLG_MATCH, &D1, 1),
		CASE(compact_forms, K0, BYE_LINE "v: SIP/2.0/UDP 192.0.2.1" CRLF ROUTE
		     "f: <sip:alice@a>;tag=1928301774" CRLF "t: <sip:bob@b>;tag=a6c85cf" CRLF
		     "i: a84b4c76e66710@pc33.atlanta.example.com" CRLF "CSeq: 5 BYE" CRLF CLEN,
		     V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(name_case_and_space, K0, BYE_LINE VIA "ROUTE : <sip:192.0.2.2;lr;did=596.d052>" CRLF
		     "FROM:<sip:alice@a>;TAG=1928301774" CRLF "to\t:  <sip:bob@b>;tag=a6c85cf" CRLF
		     "CALL-ID:   a84b4c76e66710@pc33.atlanta.example.com  " CRLF "cseq:\t5 BYE" CRLF CLEN,
		     V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(cookie_upper_hex, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;LR;DID=596.D052>" CRLF
		     FROM_A TO_B CALLID "CSeq: 5 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(cookie_spaces, K0, BYE_LINE VIA "Route:   <sip:192.0.2.2;lr ;  did =  596.d052 >" CRLF
		     FROM_A TO_B CALLID "CSeq: 5 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(cookie_second_route, K0, BYE_LINE VIA "Route: <sip:p1.example.com;lr;ftag=x>" CRLF
		     "Route: <sip:192.0.2.2;lr;did=596.d052>" CRLF FROM_A TO_B CALLID "CSeq: 5 BYE" CRLF CLEN,
		     V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(cookie_fourth_route, K0, BYE_LINE VIA "Route: <sip:p1;lr>" CRLF "Route: <sip:p2;lr>" CRLF
		     "Route: <sip:p3;lr;did2=1.1;xdid=2.2>" CRLF ROUTE FROM_A TO_B CALLID "CSeq: 5 BYE" CRLF CLEN,
		     V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(route_several_values, K0, BYE_LINE VIA
		     "Route: <sip:p1.example.com;lr>, <sip:192.0.2.2;lr;did=596.d052>,<sip:p3;lr>" CRLF
		     FROM_A TO_B CALLID "CSeq: 5 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(other_order, K0, BYE_LINE CALLID "CSeq: 5 BYE" CRLF TO_B VIA MAXF FROM_A ROUTE CLEN,
		     V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(lf_only, K0, "BYE sip:bob@192.0.2.4 SIP/2.0\nRoute: <sip:192.0.2.2;lr;did=596.d052>\n"
		     "From: <sip:a@a>;tag=1928301774\nTo: <sip:b@b>;tag=a6c85cf\n"
		     "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\nCSeq: 5 BYE\n\n",
		     V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(quoted_display_names, K0, BYE_LINE VIA ROUTE
		     "From: \"A;tag=x <sip:evil>\" <sip:alice@a;tag=y>;tag=1928301774;foo=bar" CRLF
		     "To: \"Bob, Jr.\" <sip:bob@b>;x=1;tag=a6c85cf" CRLF CALLID "CSeq: 5 BYE" CRLF CLEN,
		     V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		/* a quoted parameter value holding '>' or '<' after the tag */
		CASE(quoted_gt_after_tag, K0, BYE_LINE VIA ROUTE
		     "From: <sip:a@b>;tag=1928301774;p=\"a>b\"" CRLF
		     "To: \"B>\" <sip:bob@b>;tag=a6c85cf;q=\"<x\";r=1" CRLF CALLID "CSeq: 5 BYE" CRLF CLEN,
		     V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(addr_spec_form, K0, BYE_LINE VIA ROUTE "From: sip:alice@a;tag=1928301774" CRLF
		     "To: sip:bob@b ; tag = a6c85cf" CRLF CALLID "CSeq: 5 BYE" CRLF CLEN,
		     V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(rr_param_knob, { .rr = "Dlg-Id" }, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=9.9;dlg-id=596.d052>" CRLF
		     FROM_A TO_B CALLID "CSeq: 5 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		/* the same through sd_fast_route() (PAD: frame enough after the
		 * value): the knob's first letter folded, the name compared
		 * without case; a knob starting with a digit */
		CASE(rr_param_knob_fast, { .rr = "Dlg-Id" }, BYE_LINE VIA
		     "Route: <sip:192.0.2.2;lr;did=9.9;DLG-ID=596.d052>" CRLF
		     FROM_A TO_B CALLID "CSeq: 5 BYE" CRLF PAD CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(rr_param_knob_digit_fast, { .rr = "9id" }, BYE_LINE VIA
		     "Route: <sip:192.0.2.2;lr;did=9.9;9ID=596.d052>" CRLF
		     FROM_A TO_B CALLID "CSeq: 5 BYE" CRLF PAD CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		/* sd_fast_route(): SP/HTAB matters only right after a ';'
		 * (SWS before a name, the general walk's case), in the same
		 * word as the ';' or the next one; elsewhere it is read on */
		CASE(route_sp_not_after_semicolon_fast, K0, BYE_LINE VIA
		     "Route: \"Edge 1\" <sip:192.0.2.2;lr;x=\"a b\";did=596.d052>" CRLF
		     FROM_A TO_B CALLID "CSeq: 5 BYE" CRLF PAD CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(route_sws_after_semicolon_fast, K0, BYE_LINE VIA
		     "Route: <sip:192.0.2.2;lr; did=596.d052;did=1.1>" CRLF
		     FROM_A TO_B CALLID "CSeq: 5 BYE" CRLF PAD CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(route_sws_after_semicolon_next_word_fast, K0, BYE_LINE VIA
		     "Route: <sip:ab;\tdid=596.d052;did=1.1>" CRLF
		     FROM_A TO_B CALLID "CSeq: 5 BYE" CRLF PAD CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(early_from_caller, K0, BYE_LINE VIA ROUTE FROM_A "To: <sip:bob@b>;tag=any-tag" CRLF CALLID
		     "CSeq: 5 BYE" CRLF CLEN, V4, { &D1_EARLY }, 0, SDR_DLG_MATCH, &D1_EARLY, 0),
		CASE(early_from_callee, K0, BYE_LINE VIA ROUTE "From: <sip:bob@b>;tag=zz" CRLF TO_A CALLID
		     "CSeq: 5 UPDATE" CRLF CLEN, V4, { &D1_EARLY }, 0, SDR_DLG_MATCH, &D1_EARLY, 1),
		CASE(early_other_tags, K0, BYE_LINE VIA ROUTE "From: <sip:bob@b>;tag=zz" CRLF "To: <sip:a@a>;tag=yy" CRLF
		     CALLID "CSeq: 5 BYE" CRLF CLEN, V4, { &D1_EARLY }, 0, SDR_DLG_MISMATCH, NULL, 0),

		/* failed matches, passed or dropped */
		CASE(unknown_cookie, K0, BYE_DOWN, V4, { &D2 }, 0, SDR_DLG_UNKNOWN, NULL, 0),
		CASE(unknown_cookie_drop, KDROP, BYE_DOWN, V4, { &D2 }, 0, SDR_DLG_UNKNOWN_DROP, NULL, 0),
		CASE(wrong_callid, K0, BYE_LINE VIA ROUTE MAXF FROM_A TO_B "Call-ID: a84b4c76e66710@pc33.atlanta.example.co" CRLF
		     "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MISMATCH, NULL, 0),
		CASE(wrong_callid_drop, KDROP, BYE_LINE VIA ROUTE MAXF FROM_A TO_B "Call-ID: x" CRLF
		     "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MISMATCH_DROP, NULL, 0),
		CASE(wrong_from_tag_down, KDROP, BYE_LINE VIA ROUTE "From: <sip:a@a>;tag=1928301775" CRLF TO_B CALLID
		     "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MISMATCH_DROP, NULL, 0),
		CASE(wrong_to_tag_down, K0, BYE_LINE VIA ROUTE FROM_A "To: <sip:b@b>;tag=a6c85c" CRLF CALLID
		     "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MISMATCH, NULL, 0),
		CASE(wrong_tags_up, K0, BYE_LINE VIA ROUTE FROM_B "To: <sip:a@a>;tag=1928301774x" CRLF CALLID
		     "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MISMATCH, NULL, 0),
		CASE(both_tags_caller, K0, BYE_LINE VIA ROUTE FROM_A TO_A CALLID "CSeq: 1 BYE" CRLF CLEN,
		     V4, { &D1 }, 0, SDR_DLG_MISMATCH, NULL, 0),
		CASE(no_from_tag, K0, BYE_LINE VIA ROUTE "From: <sip:a@a>" CRLF TO_B CALLID "CSeq: 1 BYE" CRLF CLEN,
		     V4, { &D1 }, 0, SDR_DLG_MISMATCH, NULL, 0),
		CASE(tag_inside_uri_only, K0, BYE_LINE VIA ROUTE "From: <sip:a@a;tag=1928301774>" CRLF TO_B CALLID
		     "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MISMATCH, NULL, 0),
		CASE(cookie_other_dialog, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=596.e052>" CRLF FROM_A TO_B CALLID
		     "CSeq: 1 BYE" CRLF CLEN, V4, { &D1, &D2 }, 0, SDR_DLG_MISMATCH, NULL, 0),
		CASE(bad_cookie_no_dot, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=596d052>" CRLF FROM_A TO_B CALLID
		     "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_BAD_COOKIE, NULL, 0),
		CASE(bad_cookie_hex, KDROP, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=59g.d052>" CRLF FROM_A TO_B CALLID
		     "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_BAD_COOKIE_DROP, NULL, 0),
		CASE(bad_cookie_tail, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=596.d052x>" CRLF FROM_A TO_B CALLID
		     "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_BAD_COOKIE, NULL, 0),
		CASE(bad_cookie_novalue, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did>" CRLF FROM_A TO_B CALLID
		     "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_BAD_COOKIE, NULL, 0),
		CASE(bad_cookie_nine_digits, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=123456789.1>" CRLF FROM_A TO_B
		     CALLID "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_BAD_COOKIE, NULL, 0),
		CASE(empty_halves_are_zero, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=.>" CRLF FROM_A TO_B CALLID
		     "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_UNKNOWN, NULL, 0),

		/*
		 * Near the edges of the fast paths (bpf/sip_fast.h): each must
		 * give what the rules give.  PAD keeps 128 bytes of frame after
		 * every value, so that the fast paths are tried.  The fast paths
		 * do not share the general walk's candidate limit (17 ';' match);
		 * the general walk keeps it (addr-spec form, 17 parameters).
		 */
		CASE(fast_from_17_semis, K0, BYE_LINE VIA ROUTE
		     "From: \";;;;;;;;;;;;;;;;;\" <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
		     TO_B CALLID "CSeq: 1 BYE" CRLF PAD CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(general_from_17_params, K0, BYE_LINE VIA ROUTE
		     "From: sip:alice@a;a;b;c;d;e;f;g;h;i;j;k;l;m;n;o;p;q;tag=1928301774" CRLF
		     TO_B CALLID "CSeq: 1 BYE" CRLF PAD CLEN, V4, { &D1 }, 0, SDR_SIP_SCAN_LIMIT, NULL, 0),
		CASE(fast_from_16_semis, K0, BYE_LINE VIA ROUTE
		     "From: \";;;;;;;;;;;;;;;\" <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
		     TO_B CALLID "CSeq: 1 BYE" CRLF PAD CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(fast_to_tag_sws, K0, BYE_LINE VIA ROUTE FROM_A "To: Bob <sip:bob@biloxi.example.com>; tag=a6c85cf" CRLF
		     CALLID "CSeq: 1 BYE" CRLF PAD CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(fast_to_tag_upper_more, K0, BYE_LINE VIA ROUTE FROM_A
		     "To: Bob <sip:bob@biloxi.example.com>;TAG=a6c85cf;x=y" CRLF
		     CALLID "CSeq: 1 BYE" CRLF PAD CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(fast_from_open_angle, K0, BYE_LINE VIA ROUTE
		     "From: Alice <sip:alice@atlanta.example.com>;x=<y;tag=1928301774" CRLF
		     TO_B CALLID "CSeq: 1 BYE" CRLF PAD CLEN, V4, { &D1 }, 0, SDR_DLG_MISMATCH, NULL, 0),
		CASE(fast_cookie_second_past_word, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=5.1234567>" CRLF
		     FROM_A TO_B CALLID "CSeq: 1 BYE" CRLF PAD CLEN, V4, { &D1_RH7 }, 0, SDR_DLG_MATCH, &D1_RH7, 0),
		CASE(fast_cookie_second_at_word_end, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=1.234567;x>" CRLF
		     FROM_A TO_B CALLID "CSeq: 1 BYE" CRLF PAD CLEN, V4, { &D1_RH6 }, 0, SDR_DLG_MATCH, &D1_RH6, 0),
		CASE(fast_cookie_second_eight, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=1.23456789>" CRLF
		     FROM_A TO_B CALLID "CSeq: 1 BYE" CRLF PAD CLEN, V4, { &D1_RH8 }, 0, SDR_DLG_MATCH, &D1_RH8, 0),
		CASE(fast_cookie_first_seven, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=1234567.8>" CRLF
		     FROM_A TO_B CALLID "CSeq: 1 BYE" CRLF PAD CLEN, V4, { &D1_RHL }, 0, SDR_DLG_MATCH, &D1_RHL, 0),
		CASE(fast_cookie_bad_in_word, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=1.23x>" CRLF
		     FROM_A TO_B CALLID "CSeq: 1 BYE" CRLF PAD CLEN, V4, { &D1_RH6 }, 0, SDR_DLG_BAD_COOKIE, NULL, 0),
		CASE(fast_cookie_ninth_digit, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=1.234567890>" CRLF
		     FROM_A TO_B CALLID "CSeq: 1 BYE" CRLF PAD CLEN, V4, { &D1_RH8 }, 0, SDR_DLG_BAD_COOKIE, NULL, 0),
		CASE(fast_route_did_sws, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;lr; did=596.d052>" CRLF FROM_A TO_B
		     CALLID "CSeq: 1 BYE" CRLF PAD CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(fast_route_didx_first, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;didx=1;DID=596.d052>" CRLF FROM_A
		     TO_B CALLID "CSeq: 1 BYE" CRLF PAD CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(fast_route_17_semis, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;;;;;;;;;;;;;;;;;did=596.d052>" CRLF
		     FROM_A TO_B CALLID "CSeq: 1 BYE" CRLF PAD CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(fast_route_did_novalue, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did;x=596.d052>" CRLF FROM_A
		     TO_B CALLID "CSeq: 1 BYE" CRLF PAD CLEN, V4, { &D1 }, 0, SDR_DLG_BAD_COOKIE, NULL, 0),
		CASE(fast_route_lr_only, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;lr>" CRLF FROM_A
		     TO_B CALLID "CSeq: 1 BYE" CRLF PAD CLEN, V4, { &D1 }, 0, SDR_SIP_UDP4, NULL, 0),

		/* not in-dialog, or not for the matcher */
		CASE(no_to_tag_with_cookie, KDROP, "INVITE sip:bob@b SIP/2.0" CRLF VIA ROUTE FROM_A "To: <sip:bob@b>" CRLF
		     CALLID "CSeq: 1 INVITE" CRLF CLEN, V4, { &D2 }, 0, SDR_SIP_UDP4, NULL, 0),
		CASE(no_cookie_mode0, KDROP, BYE_LINE VIA FROM_A TO_B CALLID "CSeq: 1 BYE" CRLF CLEN,
		     V4, { &D1 }, 1, SDR_SIP_UDP4, NULL, 0),
		CASE(no_cookie_ipv6, K0, BYE_LINE VIA FROM_A TO_B CALLID "CSeq: 1 BYE" CRLF CLEN,
		     V6, { &D1 }, 0, SDR_SIP_UDP6, NULL, 0),
		CASE(no_cookie_mode1, KM1, BYE_LINE VIA FROM_B TO_A CALLID "CSeq: 1 BYE" CRLF CLEN,
		     V4, { &D1 }, 1, SDR_DLG_MATCH, &D1, 1),
		CASE(no_cookie_mode1_no_index, KM1, BYE_LINE VIA FROM_B TO_A CALLID "CSeq: 1 BYE" CRLF CLEN,
		     V4, { &D1 }, 0, SDR_SIP_UDP4, NULL, 0),
		CASE(unknown_cookie_mode1_index, KM1, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=1.1>" CRLF FROM_A TO_B
		     CALLID "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 1, SDR_DLG_MATCH, &D1, 0),
		CASE(mode2_ignores_cookie, KM2, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=1.1>" CRLF FROM_A TO_B
		     CALLID "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 1, SDR_DLG_MATCH, &D1, 0),
		/* a method is a token in any case (RFC 3261 25.1), not only A-Z */
		CASE(lower_method, K0, "foo sip:bob@192.0.2.4 SIP/2.0" CRLF VIA ROUTE FROM_A TO_B CALLID
		     "CSeq: 1 foo" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(token_method, K0, "x.y-z!%*_+`'~ sip:bob@192.0.2.4 SIP/2.0" CRLF VIA ROUTE FROM_A TO_B CALLID
		     "CSeq: 1 x.y-z!%*_+`'~" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(not_token_method, K0, "<foo> sip:bob@192.0.2.4 SIP/2.0" CRLF VIA ROUTE FROM_A TO_B CALLID
		     "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_SIP_NOT_SIP, NULL, 0),
		/* SIPDLG_SCAN_MAX_LINES header lines are read, the 41st is not */
		CASE(lines_40th_needed, K0, BYE_LINE VIA ROUTE FROM_A TO_B CALLID X34 "CSeq: 1 BYE" CRLF CLEN,
		     V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(lines_41st_needed, K0, BYE_LINE VIA ROUTE FROM_A TO_B CALLID X34 "X: 1" CRLF "CSeq: 1 BYE" CRLF
		     CLEN, V4, { &D1 }, 0, SDR_SIP_SCAN_LIMIT, NULL, 0),
		CASE(not_sip, K0, "HELLO WORLD, THIS IS NOT SIP AT ALL" CRLF CRLF, V4, { &D1 }, 0, SDR_SIP_NOT_SIP, NULL, 0),
		CASE(empty_payload, K0, "", V4, { &D1 }, 0, SDR_SIP_NOT_SIP, NULL, 0),
		CASE(bad_version, K0, "BYE sip:x SIP/3.0" CRLF CLEN, V4, { &D1 }, 0, SDR_SIP_NOT_SIP, NULL, 0),
		CASE(folded_before, KDROP, BYE_LINE VIA "Subject: a" CRLF " b" CRLF ROUTE FROM_A TO_B CALLID
		     "CSeq: 1 BYE" CRLF CLEN, V4, { &D2 }, 0, SDR_SIP_FOLDED, NULL, 0),
		CASE(folded_callid, K0, BYE_LINE VIA ROUTE FROM_A TO_B CALLID " more" CRLF "CSeq: 1 BYE" CRLF CLEN,
		     V4, { &D1 }, 0, SDR_SIP_FOLDED, NULL, 0),
		CASE(folded_after_last, K0, BYE_LINE VIA ROUTE FROM_A TO_B CALLID "CSeq: 1 BYE" CRLF "\tx" CRLF CLEN,
		     V4, { &D1 }, 0, SDR_SIP_FOLDED, NULL, 0),
		CASE(scan_limit_lines, KDROP, BYE_LINE VIA LONG_HDRS LONG_HDRS LONG_HDRS LONG_HDRS ROUTE FROM_A TO_B CALLID
		     "CSeq: 1 BYE" CRLF CLEN, V4, { &D2 }, 0, SDR_SIP_SCAN_LIMIT, NULL, 0),
		CASE(no_cseq, K0, BYE_LINE VIA ROUTE FROM_A TO_B CALLID CLEN, V4, { &D1 }, 0, SDR_SIP_MALFORMED, NULL, 0),
		CASE(bad_cseq, K0, BYE_LINE VIA ROUTE FROM_A TO_B CALLID "CSeq: x BYE" CRLF CLEN, V4, { &D1 }, 0,
		     SDR_SIP_MALFORMED, NULL, 0),
		CASE(no_callid, KDROP, BYE_LINE VIA ROUTE FROM_A TO_B "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0,
		     SDR_SIP_MALFORMED, NULL, 0),

		/* replies */
		RCASE(reply_match, K0, "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKsd596.d052.0x1" CRLF
		     VIA FROM_A TO_B CALLID "CSeq: 231 BYE" CRLF CLEN, V4, { &D1, &D2 }, 0, SDR_DLG_REPLY_MATCH, &D1, 1),
		RCASE(reply_compact_up, K0, "SIP/2.0 180 Ringing" CRLF "v: SIP/2.0/UDP 192.0.2.2;rport;Branch=z9hG4bKsd596.d052.17" CRLF
		     "i: a84b4c76e66710@pc33.atlanta.example.com" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_REPLY_MATCH, &D1, 0),
		CASE(reply_wrong_callid, K0, "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKsd596.d052.0x1" CRLF
		     "Call-ID: nope" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_REPLY_UNKNOWN, NULL, 0),
		CASE(reply_no_dialog, K0, "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKsd596.d052.0x1" CRLF
		     CALLID CLEN, V4, { &D2 }, 0, SDR_DLG_REPLY_UNKNOWN, NULL, 0),
		CASE(reply_other_branch, K0, "SIP/2.0 200 OK" CRLF VIA CALLID CLEN, V4, { &D1 }, 0, SDR_SIP_REPLY_OTHER, NULL, 0),
		CASE(reply_branch_second_value, K0, "SIP/2.0 200 OK" CRLF
		     "Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx, SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKsd596.d052.0x1" CRLF
		     CALLID CLEN, V4, { &D1 }, 0, SDR_SIP_REPLY_OTHER, NULL, 0),
		CASE(reply_bad_dir, K0, "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKsd596.d052.2x" CRLF
		     CALLID CLEN, V4, { &D1 }, 0, SDR_SIP_REPLY_OTHER, NULL, 0),

		/* the cookie MAC */
		CASE(mac_ok_no_callid, KMAC, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=596.d052;dm={DM}>" CRLF FROM_A TO_B
		     "Call-ID: not-even-the-right-one" CRLF "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(mac_sws_fast_edge, KMAC, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=596.d052; dm={DM}>" CRLF FROM_A
		     TO_B "CSeq: 1 BYE" CRLF PAD CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(mac_later_fast_edge, KMAC, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=596.d052;x=1;Dm={DM}>" CRLF
		     FROM_A TO_B "CSeq: 1 BYE" CRLF PAD CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(mac_novalue_fast_edge, KMAC, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=596.d052;dm;x={DM}>" CRLF
		     FROM_A TO_B "CSeq: 1 BYE" CRLF PAD CLEN, V4, { &D1 }, 0, SDR_DLG_MAC_FAIL, NULL, 0),
		CASE(mac_before_cookie, KMAC, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;DM={DM};did=596.d052>" CRLF FROM_B TO_A
		     "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 1),
		CASE(mac_wrong, KMACDROP, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=596.d053;dm={DM}>" CRLF FROM_A TO_B
		     CALLID "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MAC_FAIL_DROP, NULL, 0),
		CASE(mac_missing, KMAC, BYE_DOWN, V4, { &D1 }, 0, SDR_DLG_MAC_FAIL, NULL, 0),
		CASE(mac_short, KMACDROP, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=596.d052;dm=93f5f5799a93246>" CRLF
		     FROM_A TO_B CALLID "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MAC_FAIL_DROP, NULL, 0),
		CASE(mac_ok_wrong_tags, KMAC, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=596.d052;dm={DM}>" CRLF FROM_A TO_A
		     "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MISMATCH, NULL, 0),
		CASE(mac_prev_key, KROT, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=596.d052;dm={DM}>" CRLF FROM_A TO_B
		     "Call-ID: not-read" CRLF "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(mac_prev_key_off, KROTOFF, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=596.d052;dm={DM}>" CRLF FROM_A
		     TO_B CALLID "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MAC_FAIL_DROP, NULL, 0),
		CASE(nomac_missing_full_match, KMACDROP, BYE_DOWN, V4, { &D1_NOMAC }, 0, SDR_DLG_MATCH, &D1_NOMAC, 0),
		CASE(nomac_wrong_mac_full_match, KMACDROP, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=596.d052;dm=0123456789abcdef>"
		     CRLF FROM_B TO_A CALLID "CSeq: 7 BYE" CRLF CLEN, V4, { &D1_NOMAC }, 0, SDR_DLG_MATCH, &D1_NOMAC, 1),
		CASE(nomac_missing_wrong_callid, KMACDROP, BYE_LINE VIA ROUTE FROM_A TO_B "Call-ID: forged@x" CRLF
		     "CSeq: 1 BYE" CRLF CLEN, V4, { &D1_NOMAC }, 0, SDR_DLG_MISMATCH_DROP, NULL, 0),
		CASE(nomac_missing_wrong_tag, KMACDROP, BYE_LINE VIA ROUTE FROM_A "To: <sip:b@b>;tag=forged" CRLF CALLID
		     "CSeq: 1 BYE" CRLF CLEN, V4, { &D1_NOMAC }, 0, SDR_DLG_MISMATCH_DROP, NULL, 0),
		CASE(mac_missing_other_dialog_nomac, KMACDROP, BYE_DOWN, V4, { &D2 }, 0, SDR_DLG_MAC_FAIL_DROP, NULL, 0),

		/* legal shapes the controller's parser accepts */
		CASE(shape_route_list_ours_first, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=596.d052>, <sip:p1.example.net;lr>,"
		     " <sip:p2.example.net:5061;transport=tls;lr;r2=on>, <sip:[2001:db8::7];lr;ftag=x>" CRLF
		     MAXF FROM_A TO_B CALLID "CSeq: 2 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(shape_double_rr, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=596.d052>" CRLF
		     "Route: <sip:[2001:db8::2];lr;did=596.d052>" CRLF FROM_B TO_A CALLID "CSeq: 2 BYE" CRLF CLEN,
		     V6, { &D1 }, 0, SDR_DLG_MATCH, &D1, 1),
		CASE(shape_ipv6_route, K0, BYE_LINE VIA "Route: <sip:[2001:db8::2]:5060;lr;did=596.d052>" CRLF
		     FROM_A TO_B CALLID "CSeq: 2 BYE" CRLF CLEN, V6, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(shape_display_names_specials, K0, BYE_LINE VIA ROUTE
		     "From: \"Alice <a>; x, y\" <sip:alice@a>;tag=1928301774" CRLF
		     "To: \"Bob; <jr>, \\\"the\\\" 2nd\" <sip:bob@b;transport=udp>;tag=a6c85cf" CRLF CALLID
		     "CSeq: 2 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(shape_params_around_tag, K0, BYE_LINE VIA ROUTE
		     "From: <sip:alice@a;user=phone>;x-a=1;tag=1928301774;x-b=\"q\"" CRLF
		     "To: <sip:bob@b>;epid=abc;tag=a6c85cf;x=y" CRLF CALLID "CSeq: 2 BYE" CRLF CLEN,
		     V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(shape_addr_spec, K0, BYE_LINE VIA ROUTE "f: sip:alice@a;tag=1928301774" CRLF
		     "t: sip:bob@b;x=1;tag=a6c85cf" CRLF CALLID "CSeq: 2 BYE" CRLF CLEN, V4, { &D1 }, 0,
		     SDR_DLG_MATCH, &D1, 0),
		CASE(shape_htab_around_colon, K0, BYE_LINE VIA "Route\t:\t<sip:192.0.2.2;lr;did=596.d052>" CRLF
		     "From\t: <sip:alice@a>;tag=1928301774" CRLF "To:\t<sip:bob@b>;tag=a6c85cf" CRLF
		     "Call-ID\t:\ta84b4c76e66710@pc33.atlanta.example.com" CRLF "CSeq\t:\t1234 BYE" CRLF CLEN,
		     V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(shape_names_any_case, K0, BYE_LINE VIA "rOUTE: <sip:192.0.2.2;lr;did=596.d052>" CRLF
		     "fROM: <sip:alice@a>;TAG=1928301774" CRLF "tO: <sip:bob@b>;Tag=a6c85cf" CRLF
		     "CALL-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF "cseq: 99999 BYE" CRLF CLEN,
		     V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(shape_long_callid_tags, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=596.e052>" CRLF
		     "From: <sip:x@y>;tag=" LONGTAG_A CRLF "To: <sip:z@y>;tag=" LONGTAG_B CRLF
		     "Call-ID: " LONGCID CRLF "CSeq: 1000000 BYE" CRLF CLEN, V4, { &D_LONG }, 0, SDR_DLG_MATCH, &D_LONG, 0),
		CASE(shape_body, K0, "INFO sip:bob@192.0.2.4 SIP/2.0" CRLF VIA ROUTE FROM_A TO_B CALLID "CSeq: 5000 INFO" CRLF
		     "Content-Type: application/dtmf-relay" CRLF "Content-Length: 24" CRLF CRLF "Signal=1\r\nDuration=160\r\n",
		     V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),
		CASE(shape_cookie_after_cseq, K0, BYE_LINE VIA FROM_A TO_B CALLID "CSeq: 2 BYE" CRLF MAXF
		     "Route: <sip:p1;lr>" CRLF ROUTE CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),

		CASE(mac_off_ignores_dm, K0, BYE_LINE VIA "Route: <sip:192.0.2.2;lr;did=596.d052;dm=0000000000000000>" CRLF
		     FROM_A TO_B CALLID "CSeq: 1 BYE" CRLF CLEN, V4, { &D1 }, 0, SDR_DLG_MATCH, &D1, 0),

		cmocka_unit_test(test_dialog_counters),
		cmocka_unit_test(test_published_clock),
		cmocka_unit_test(test_cseq_lengths),
		cmocka_unit_test(test_every_method),
		cmocka_unit_test(test_mac_not_in_kernel),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_pcap_in_dialog),
		cmocka_unit_test(test_truncated_bye),
	};

	if (geteuid() != 0)
		return tap_skip_all("not root");
	libbpf_set_print(libbpf_to_tap);
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) != 1)
		return tap_skip_all("this kernel does not load XDP programs");
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
