// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_xdp_overflow.c - the kernel's side of a full "dialogs" map
 * (bpf/sip_overflow.h): with unknown_dialog: drop, an in-dialog request
 * whose cookie names no dialog in "dialogs" passes as
 * SDR_DLG_NOT_IN_KERNEL when its key is listed in "overflow" (and
 * fpstate.overflow_n says the list is not empty) or the fast path is
 * degraded; otherwise it is dropped.  A dialog that is found but does not
 * match is dropped even when degraded: the flag covers "not found" only.
 *
 * BPF_PROG_TEST_RUN on the real program, nothing pinned.  Needs root.
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
#include <unistd.h>

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sipdlg_shared.h"
#include "sipdlg_hash.h"
#include "sipdlg.skel.h"
#include "lib/pkt.h"

static int g_ncpus;
static struct sipdlg_bpf *g_prog[2][2];	/* [dlg_match_mode 0/1][drop] */

#define CRLF "\r\n"
/* Cookie did=596.d052: h_entry 1685, h_id 9485 (RFC 3261 example names). */
#define BYE                                                          \
	"BYE sip:bob@192.0.2.4 SIP/2.0" CRLF                             \
	"Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK776asdhds" CRLF   \
	"Route: <sip:192.0.2.2;lr;did=596.d052>" CRLF                    \
	"Max-Forwards: 70" CRLF                                          \
	"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774" CRLF \
	"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF          \
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF          \
	"CSeq: 231 BYE" CRLF "Content-Length: 0" CRLF CRLF

static const struct sipdlg_dlg_key KEY = { 1685, 9485 };
static const struct sipdlg_dlg_key OTHER = { 1685, 9486 };

static struct sipdlg_bpf *load(unsigned mode, unsigned drop)
{
	struct sipdlg_bpf *skel;
	struct bpf_map *map;

	if (g_prog[mode][drop])
		return g_prog[mode][drop];
	skel = sipdlg_bpf__open();
	if (!skel)
		return NULL;
	skel->rodata->sip_ports[0] = 5060;
	skel->rodata->n_sip_ports = 1;
	skel->rodata->unknown_dialog_drop = drop;
	skel->rodata->dlg_match_mode = mode;
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	if (sipdlg_bpf__load(skel)) {
		sipdlg_bpf__destroy(skel);
		return NULL;
	}
	g_prog[mode][drop] = skel;
	return skel;
}

/* Empty "dialogs" and "overflow", fpstate as given. */
static void maps_set(struct sipdlg_bpf *s, __u32 degraded, __u32 overflow_n)
{
	struct sipdlg_fp_state st = { .degraded = degraded,
				      .overflow_n = overflow_n };
	struct sipdlg_dlg_key k, next;
	__u32 zero = 0;

	while (bpf_map__get_next_key(s->maps.dialogs, NULL, &next,
				     sizeof(next)) == 0) {
		k = next;
		assert_int_equal(bpf_map__delete_elem(s->maps.dialogs, &k,
						      sizeof(k), 0),
				 0);
	}
	while (bpf_map__get_next_key(s->maps.overflow, NULL, &next,
				     sizeof(next)) == 0) {
		k = next;
		assert_int_equal(bpf_map__delete_elem(s->maps.overflow, &k,
						      sizeof(k), 0),
				 0);
	}
	assert_int_equal(bpf_map__update_elem(s->maps.fpstate, &zero,
					      sizeof(zero), &st, sizeof(st),
					      BPF_ANY),
			 0);
}

static void overflow_put(struct sipdlg_bpf *s, const struct sipdlg_dlg_key *k)
{
	__u8 one = 1;

	assert_int_equal(bpf_map__update_elem(s->maps.overflow, k, sizeof(*k),
					      &one, sizeof(one), BPF_ANY),
			 0);
}

/* The dialog of the cookie, with another caller tag: a tight mismatch. */
static void dialog_put_mismatching(struct sipdlg_bpf *s)
{
	const char *cid = "a84b4c76e66710@pc33.atlanta.example.com";
	struct sipdlg_dlg_value v;

	memset(&v, 0, sizeof(v));
	v.callid_hash = sipdlg_hash_bytes(cid, (__u32)strlen(cid));
	v.caller_tag_hash = sipdlg_hash_bytes("not-this", 8);
	v.state = 4;
	assert_int_equal(bpf_map__update_elem(s->maps.dialogs, &KEY,
					      sizeof(KEY), &v, sizeof(v),
					      BPF_ANY),
			 0);
}

/* Run the BYE once; *reason is the one counter slot that moved. */
static void run(struct sipdlg_bpf *s, int *reason, unsigned *verdict)
{
	size_t vsz = (size_t)g_ncpus * sizeof(struct sipdlg_counter);
	struct sipdlg_counter *v = calloc((size_t)g_ncpus, sizeof(*v));
	struct pkt p;
	__u32 key;

	assert_non_null(v);
	assert_int_equal(pkt_sip(&p, NULL, BYE, strlen(BYE)), 0);
	for (key = 0; key < SIPDLG_REASON_SLOTS; key++)
		assert_int_equal(bpf_map__update_elem(s->maps.counters, &key,
						      sizeof(key), v, vsz,
						      BPF_ANY),
				 0);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p.buf,
		    .data_size_in = (__u32)p.len, .repeat = 1);
	assert_int_equal(bpf_prog_test_run_opts(
				 bpf_program__fd(s->progs.sipdlg_xdp), &opts),
			 0);
	*verdict = opts.retval;
	*reason = -1;
	for (key = 0; key < SIPDLG_REASON_SLOTS; key++) {
		__u64 n = 0;

		assert_int_equal(bpf_map__lookup_elem(s->maps.counters, &key,
						      sizeof(key), v, vsz, 0),
				 0);
		for (int c = 0; c < g_ncpus; c++)
			n += v[c].packets;
		if (n)
			*reason = *reason == -1 ? (int)key : -2;
	}
	free(v);
}

struct ovf_case {
	const char *name;
	unsigned mode, drop;
	__u32 degraded, overflow_n;
	int listed;		/* 1: KEY in "overflow", 2: OTHER only */
	int mismatch;		/* the dialog exists, tags differ */
	int want;
	unsigned verdict;
};

static const struct ovf_case cases[] = {
	{ "not listed, not degraded: dropped", 0, 1, 0, 0, 0, 0,
	  SDR_DLG_UNKNOWN_DROP, XDP_DROP },
	{ "listed in overflow: passed", 0, 1, 0, 1, 1, 0,
	  SDR_DLG_NOT_IN_KERNEL, XDP_PASS },
	{ "another key listed: dropped", 0, 1, 0, 1, 2, 0,
	  SDR_DLG_UNKNOWN_DROP, XDP_DROP },
	{ "listed but overflow_n 0 (lookup skipped): dropped", 0, 1, 0, 0, 1,
	  0, SDR_DLG_UNKNOWN_DROP, XDP_DROP },
	{ "degraded, not listed: passed", 0, 1, 1, 0, 0, 0,
	  SDR_DLG_NOT_IN_KERNEL, XDP_PASS },
	{ "degraded, dialog found but tags differ: dropped", 0, 1, 1, 0, 0, 1,
	  SDR_DLG_MISMATCH_DROP, XDP_DROP },
	{ "mode 1 (Call-ID fallback), listed: passed", 1, 1, 0, 1, 1, 0,
	  SDR_DLG_NOT_IN_KERNEL, XDP_PASS },
	{ "mode 1, not listed: dropped", 1, 1, 0, 0, 0, 0,
	  SDR_DLG_UNKNOWN_DROP, XDP_DROP },
	{ "pass policy, listed: counted as not in kernel", 0, 0, 0, 1, 1, 0,
	  SDR_DLG_NOT_IN_KERNEL, XDP_PASS },
	{ "pass policy, not listed: unknown, passed", 0, 0, 0, 0, 0, 0,
	  SDR_DLG_UNKNOWN, XDP_PASS },
};

static void test_overflow_cases(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ovf_case *c = &cases[i];
		struct sipdlg_bpf *s = load(c->mode, c->drop);
		unsigned verdict;
		int reason;

		assert_non_null(s);
		maps_set(s, c->degraded, c->overflow_n);
		if (c->listed)
			overflow_put(s, c->listed == 1 ? &KEY : &OTHER);
		if (c->mismatch)
			dialog_put_mismatching(s);
		run(s, &reason, &verdict);
		printf("# %s: reason %d, verdict %u\n", c->name, reason,
		       verdict);
		assert_int_equal(reason, c->want);
		assert_int_equal(verdict, c->verdict);
	}
}

static int setup(void **state)
{
	g_ncpus = libbpf_num_possible_cpus();
	return g_ncpus > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	for (int m = 0; m < 2; m++)
		for (int d = 0; d < 2; d++)
			sipdlg_bpf__destroy(g_prog[m][d]);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overflow_cases),
	};

	if (geteuid() != 0) {
		printf("1..1\nok 1 - test_xdp_overflow # SKIP not root\n");
		return 0;
	}
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) != 1) {
		printf("1..1\nok 1 - test_xdp_overflow # SKIP no XDP\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
