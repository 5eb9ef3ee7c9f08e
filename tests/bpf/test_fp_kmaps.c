/*
 * test_fp_kmaps.c - the controller's side of a full kernel map
 * (user/fastpath/fp_kmaps.c) against real BPF maps made small on purpose:
 * "dialogs" of 2, "overflow" of 2, so every path is reached with a few
 * dialogs.  Checks what lands in which map, the fpstate the kernel
 * reads (overflow_n, degraded), the retry rule (a freed slot goes to the
 * longest-waiting dialog, with the identity it has by then), the
 * "callids" failures (degraded only in dlg_match_mode 1/2), degraded
 * while the stored dialogs wait for the database, and the
 * reconcile of stale "overflow" keys.  Needs root (map creation).
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

#include <bpf/bpf.h>

#include "fastpath/fp_internal.h"
#include "fastpath/fp_kmaps.h"

struct rig {
	struct fastpath fp;
};

/* @boot: "fpstate" as a predecessor left it (NULL: zero). */
static struct rig *rig_boot(int mode, unsigned callids_max,
			    const struct sipdlg_fp_state *boot)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct fastpath *fp = &r->fp;

	assert_non_null(r);
	fp->dialogs_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "t_dialogs",
					sizeof(struct sipdlg_dlg_key),
					sizeof(struct sipdlg_dlg_value), 2,
					NULL);
	fp->callids_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "t_callids",
					sizeof(__u64),
					sizeof(struct sipdlg_dlg_key),
					callids_max, NULL);
	fp->km.overflow_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "t_overflow",
					    sizeof(struct sipdlg_dlg_key),
					    sizeof(__u8), 2, NULL);
	fp->km.fpstate_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_fpstate",
					   sizeof(__u32),
					   sizeof(struct sipdlg_fp_state), 1,
					   NULL);
	assert_true(fp->dialogs_fd >= 0 && fp->callids_fd >= 0 &&
		    fp->km.overflow_fd >= 0 && fp->km.fpstate_fd >= 0);
	if (boot) {
		__u32 zero = 0;

		assert_int_equal(bpf_map_update_elem(fp->km.fpstate_fd, &zero,
						     boot, BPF_ANY),
				 0);
	}
	assert_int_equal(fp_kmaps_setup(fp, mode, NULL), 0);
	return r;
}

static struct rig *rig_new(int mode, unsigned callids_max)
{
	return rig_boot(mode, callids_max, NULL);
}

static void rig_free(struct rig *r)
{
	fp_kmaps_close(&r->fp);
	close(r->fp.dialogs_fd);
	close(r->fp.callids_fd);
	close(r->fp.km.overflow_fd);
	close(r->fp.km.fpstate_fd);
	free(r);
}

static struct sipdlg_dlg_key key(__u32 id)
{
	struct sipdlg_dlg_key k = { 7, id };

	return k;
}

static struct fp_ident ident(__u32 id, __u64 callee)
{
	struct fp_ident i = { .callid_hash = 1000 + id,
			      .caller_tag_hash = 2000 + id,
			      .callee_tag_hash = callee,
			      .created_ns = 1,
			      .state = callee ? 4 : 2 };
	return i;
}

static void sync_id(struct rig *r, __u32 id, __u64 callee)
{
	struct sipdlg_dlg_key k = key(id);
	struct fp_ident i = ident(id, callee);

	fp_kmaps_sync(&r->fp, &k, &i);
}

static void forget_id(struct rig *r, __u32 id)
{
	struct sipdlg_dlg_key k = key(id);

	fp_kmaps_forget(&r->fp, &k, 1000 + id);
}

static int in_dialogs(struct rig *r, __u32 id)
{
	struct sipdlg_dlg_key k = key(id);
	struct sipdlg_dlg_value v;

	return bpf_map_lookup_elem(r->fp.dialogs_fd, &k, &v) == 0;
}

static int in_overflow(struct rig *r, __u32 id)
{
	struct sipdlg_dlg_key k = key(id);
	__u8 b;

	return bpf_map_lookup_elem(r->fp.km.overflow_fd, &k, &b) == 0;
}

static int in_callids(struct rig *r, __u32 id)
{
	struct sipdlg_dlg_key k;
	__u64 h = 1000 + id;

	return bpf_map_lookup_elem(r->fp.callids_fd, &h, &k) == 0 &&
	       k.h_id == id;
}

static struct sipdlg_fp_state fpstate(struct rig *r)
{
	struct sipdlg_fp_state st;
	__u32 zero = 0;

	assert_int_equal(bpf_map_lookup_elem(r->fp.km.fpstate_fd, &zero, &st),
			 0);
	return st;
}

/* Full map, overflow, the overflow full too (degraded), the retry. */
static void test_overflow_and_retry(void **state)
{
	/* mode 1: the move-in writes the "callids" entry too */
	struct rig *r = rig_new(1, 4);
	struct fp_kmaps_info in;
	struct sipdlg_dlg_value v;
	struct sipdlg_dlg_key k3 = key(3);

	sync_id(r, 1, 0);
	sync_id(r, 2, 0);
	assert_true(in_dialogs(r, 1) && in_dialogs(r, 2));
	assert_int_equal(fpstate(r).overflow_n, 0);

	sync_id(r, 3, 0);	/* no room: listed in overflow */
	assert_false(in_dialogs(r, 3));
	assert_true(in_overflow(r, 3));
	assert_false(in_callids(r, 3));
	assert_int_equal(fpstate(r).overflow_n, 1);
	assert_int_equal(fpstate(r).degraded, 0);
	sync_id(r, 3, 3333);	/* its 2xx: remembered for the move */
	sync_id(r, 4, 0);
	assert_int_equal(fpstate(r).overflow_n, 2);

	sync_id(r, 5, 0);	/* the overflow is full as well */
	assert_false(in_overflow(r, 5));
	assert_int_equal(fpstate(r).degraded, 1);
	fp_kmaps_info(&r->fp, &in);
	assert_int_equal(in.in_kernel, 2);
	assert_int_equal(in.capacity, 2);
	assert_int_equal(in.not_in_kernel, 3);
	assert_int_equal(in.in_overflow, 2);
	assert_int_equal(in.lost, 1);
	assert_true(in.degraded);
	assert_int_equal(in.dialogs_failed, 3);
	assert_int_equal(in.overflow_failed, 1);
	assert_int_equal(in.n_keys, 3);
	assert_int_equal(in.keys[0].h_id, 3);	/* arrival order */

	forget_id(r, 5);	/* the unlisted one ends: not degraded */
	assert_int_equal(fpstate(r).degraded, 0);

	forget_id(r, 1);	/* a slot: the longest-waiting moves in */
	assert_true(in_dialogs(r, 3));
	assert_false(in_overflow(r, 3));
	assert_true(in_callids(r, 3));
	assert_int_equal(bpf_map_lookup_elem(r->fp.dialogs_fd, &k3, &v), 0);
	assert_int_equal(v.callee_tag_hash, 3333);
	assert_int_equal(v.state, 4);
	assert_true(in_overflow(r, 4));	/* still no room for it */
	assert_int_equal(fpstate(r).overflow_n, 1);

	forget_id(r, 4);
	assert_false(in_overflow(r, 4));
	assert_int_equal(fpstate(r).overflow_n, 0);
	fp_kmaps_info(&r->fp, &in);
	assert_int_equal(in.not_in_kernel, 0);
	assert_int_equal(in.moved_in, 1);
	assert_int_equal(in.in_kernel, 2);
	rig_free(r);
}

/* A callids failure degrades only where the kernel would drop for it. */
static void test_callids_failure(void **state)
{
	for (int mode = 0; mode <= 1; mode++) {
		struct rig *r = rig_new(mode, 1);
		struct fp_kmaps_info in;

		sync_id(r, 1, 0);
		sync_id(r, 2, 0);	/* callids (1 entry) is full */
		assert_true(in_dialogs(r, 2));
		assert_false(in_callids(r, 2));
		fp_kmaps_info(&r->fp, &in);
		/* mode 0: "callids" is not written at all */
		assert_int_equal(in.callids_failed, mode ? 1 : 0);
		assert_int_equal(fpstate(r).degraded, mode ? 1 : 0);
		assert_int_equal(in.no_callid, mode ? 1 : 0);
		assert_int_equal(in.not_in_kernel, 0);

		forget_id(r, 1);	/* room in callids: retried (mode 1) */
		assert_int_equal(in_callids(r, 2), mode ? 1 : 0);
		assert_int_equal(fpstate(r).degraded, 0);
		forget_id(r, 2);
		assert_false(in_callids(r, 2));
		rig_free(r);
	}
}

/*
 * dlg_match_mode 0: the kernel never reads "callids", so no dialog writes
 * or removes an entry there (an entry left by another run stays for the
 * start's reconcile); modes 1 and 2 keep it per dialog.
 */
static void test_callids_by_mode(void **state)
{
	for (int mode = 0; mode <= 2; mode++) {
		struct rig *r = rig_new(mode, 4);
		struct sipdlg_dlg_key other = key(9);
		__u64 h = 1000 + 2;

		assert_int_equal(fp_kmaps_callids_used(&r->fp), mode != 0);
		sync_id(r, 1, 0);
		assert_true(in_dialogs(r, 1));
		assert_int_equal(in_callids(r, 1), mode != 0);
		forget_id(r, 1);
		assert_false(in_dialogs(r, 1));
		assert_false(in_callids(r, 1));
		/* Dialog 2's Call-ID hash names another dialog (9) in the
		 * index: its end never removes that entry. */
		assert_int_equal(bpf_map_update_elem(r->fp.callids_fd, &h,
						     &other, BPF_ANY),
				 0);
		if (mode == 0) {
			sync_id(r, 2, 0);
			forget_id(r, 2);
			assert_int_equal(bpf_map_lookup_elem(r->fp.callids_fd,
							     &h, &other),
					 0);
			assert_int_equal(other.h_id, 9);
		}
		rig_free(r);
	}
}

/*
 * Deferred deletions (a tick runs: defer_ok): an ended dialog's entry
 * stays until fp_kmaps_flush(), which deletes them all in one batch,
 * also when one of them is gone already; a dialog waiting for a slot
 * makes the deletions immediate again (it gets the slot at once); a new
 * dialog reusing a waiting key flushes first.
 */
static void test_deferred_deletes(void **state)
{
	struct rig *r = rig_new(0, 4);
	struct sipdlg_dlg_key k1 = key(1);
	struct fp_kmaps_info in;

	fp_kmaps_reconcile(&r->fp);	/* deferral starts after it */
	r->fp.km.defer_ok = true;
	sync_id(r, 1, 0);
	sync_id(r, 2, 0);
	forget_id(r, 1);
	forget_id(r, 2);
	assert_true(in_dialogs(r, 1) && in_dialogs(r, 2));
	assert_int_equal(r->fp.km.n_gone, 2);
	/* behind its back: 1 is gone already, the batch stops there */
	assert_int_equal(bpf_map_delete_elem(r->fp.dialogs_fd, &k1), 0);
	fp_kmaps_flush(&r->fp);
	assert_false(in_dialogs(r, 1) || in_dialogs(r, 2));
	assert_int_equal(r->fp.km.n_gone, 0);
	fp_kmaps_info(&r->fp, &in);
	/* only the deletion it made counts (as fp_kmaps_forget's) */
	assert_int_equal(in.in_kernel, 1);

	/* a reused key: its old deletion goes before the insert */
	sync_id(r, 3, 0);
	forget_id(r, 3);
	assert_int_equal(r->fp.km.n_gone, 1);
	fp_kmaps_sync_new(&r->fp, &(struct sipdlg_dlg_key){ 7, 3 },
			  &(struct fp_ident){ .callid_hash = 1, .caller_tag_hash = 2,
					      .state = 1 });
	assert_int_equal(r->fp.km.n_gone, 0);
	assert_true(in_dialogs(r, 3));
	forget_id(r, 3);
	fp_kmaps_flush(&r->fp);

	/* the map full and a dialog waiting: the end frees its slot now */
	sync_id(r, 4, 0);
	sync_id(r, 5, 0);
	sync_id(r, 6, 0);	/* waits in the overflow */
	forget_id(r, 4);
	assert_int_equal(r->fp.km.n_gone, 0);
	assert_true(in_dialogs(r, 6));
	assert_false(in_overflow(r, 6));
	rig_free(r);
}

/*
 * Two events of one dialog on two workers: one listed it as out, the
 * other wrote it into "dialogs".  The queue must not stall on it.
 */
static void test_written_meanwhile(void **state)
{
	struct rig *r = rig_new(0, 4);
	struct sipdlg_dlg_key k1 = key(1), k3 = key(3);
	struct sipdlg_dlg_value v;
	struct fp_kmaps_info in;

	sync_id(r, 1, 0);
	sync_id(r, 2, 0);
	sync_id(r, 3, 0);	/* waits in the overflow */
	/* Behind fp_kmaps' back, as the other worker would: a slot frees
	 * and 3 is written into it. */
	memset(&v, 0, sizeof(v));
	assert_int_equal(bpf_map_delete_elem(r->fp.dialogs_fd, &k1), 0);
	assert_int_equal(bpf_map_update_elem(r->fp.dialogs_fd, &k3, &v,
					     BPF_NOEXIST),
			 0);
	forget_id(r, 2);	/* the retry meets 3 already there */
	fp_kmaps_info(&r->fp, &in);
	assert_int_equal(in.not_in_kernel, 0);
	assert_false(in_overflow(r, 3));
	assert_int_equal(fpstate(r).overflow_n, 0);
	rig_free(r);
}

/*
 * xdp.relay.ack: the kernel relayed the ACK and wrote state 4 and the
 * callee tag itself; an update of the controller's made from its own
 * earlier view (state 3, or 1, the callee tag not written yet) keeps
 * them; a later state (5 with the relay off) is written as before.
 */
static void test_kernel_state4_kept(void **state)
{
	struct rig *r = rig_new(0, 4);
	struct sipdlg_dlg_key k = key(1);
	struct fp_ident i = ident(1, 0);
	struct sipdlg_dlg_value v;

	i.state = 1;
	fp_kmaps_sync(&r->fp, &k, &i);
	assert_int_equal(bpf_map_lookup_elem(r->fp.dialogs_fd, &k, &v), 0);
	v.state = 4;		/* as sd_relay_ack_done() writes them */
	v.callee_tag_hash = 777;
	v.dir[0].packets = 3;
	assert_int_equal(bpf_map_update_elem(r->fp.dialogs_fd, &k, &v,
					     BPF_EXIST), 0);
	i.state = 3;
	i.mac_flags = SIPDLG_DLGF_NOMAC;	/* something else to write */
	fp_kmaps_sync(&r->fp, &k, &i);
	assert_int_equal(bpf_map_lookup_elem(r->fp.dialogs_fd, &k, &v), 0);
	assert_int_equal(v.state, 4);
	assert_true(v.callee_tag_hash == 777);
	assert_int_equal(v.flags & SIPDLG_DLGF_NOMAC, SIPDLG_DLGF_NOMAC);
	assert_true(v.dir[0].packets == 3);
	i.state = 5;
	i.callee_tag_hash = 777;
	fp_kmaps_sync(&r->fp, &k, &i);
	assert_int_equal(bpf_map_lookup_elem(r->fp.dialogs_fd, &k, &v), 0);
	assert_int_equal(v.state, 5);
	rig_free(r);
}

/* The reconcile's late callids write completes a dialog that failed. */
static void test_callid_written_later(void **state)
{
	struct rig *r = rig_new(1, 1);
	struct sipdlg_dlg_key stale = key(99), k1 = key(1);
	struct fp_ident i1 = ident(1, 0);
	__u64 h = 4242;

	assert_int_equal(bpf_map_update_elem(r->fp.callids_fd, &h, &stale,
					     BPF_ANY),
			 0);
	sync_id(r, 1, 0);	/* callids full of the stale entry */
	assert_int_equal(fpstate(r).degraded, 1);
	assert_int_equal(bpf_map_delete_elem(r->fp.callids_fd, &h), 0);
	assert_int_equal(fp_kmaps_callid_put(&r->fp, &k1, &i1), 0);
	assert_true(in_callids(r, 1));
	assert_int_equal(fpstate(r).degraded, 0);
	rig_free(r);
}

/*
 * Start: until the reconcile, a killed predecessor's fpstate stays in
 * force (its dialogs are being restored); then stale overflow keys go
 * and fpstate says what is true.
 */
static void test_reconcile(void **state)
{
	struct sipdlg_fp_state dirty = { .degraded = 1, .overflow_n = 5 };
	struct rig *r = rig_boot(0, 4, &dirty);
	struct sipdlg_dlg_key stale = key(99);
	struct fp_kmaps_info in;
	__u8 one = 1;

	assert_int_equal(bpf_map_update_elem(r->fp.km.overflow_fd, &stale,
					     &one, BPF_ANY),
			 0);
	sync_id(r, 1, 0);	/* a restored dialog */
	assert_int_equal(fpstate(r).degraded, 1);
	assert_int_equal(fpstate(r).overflow_n, 5);
	fp_kmaps_reconcile(&r->fp);
	assert_false(in_overflow(r, 99));
	assert_int_equal(fpstate(r).degraded, 0);
	assert_int_equal(fpstate(r).overflow_n, 0);
	fp_kmaps_info(&r->fp, &in);
	assert_int_equal(in.in_kernel, 1);
	assert_false(in.degraded);
	rig_free(r);
}

/*
 * A start without the database: while the stored dialogs wait for it,
 * fpstate says degraded (the kernel passes requests of dialogs it does
 * not know), across the start's reconcile; a dialog loaded meanwhile
 * lands in "dialogs"; the end of the wait makes fpstate true again.
 */
static void test_loading(void **state)
{
	struct rig *r = rig_new(0, 4);

	fp_kmaps_set_loading(&r->fp, true);
	assert_int_equal(fpstate(r).degraded, 1);
	fp_kmaps_reconcile(&r->fp);
	assert_int_equal(fpstate(r).degraded, 1);
	sync_id(r, 7, 0);	/* loaded late, by its LOADED callback */
	assert_true(in_dialogs(r, 7));
	assert_int_equal(fpstate(r).degraded, 1);
	fp_kmaps_set_loading(&r->fp, false);
	assert_int_equal(fpstate(r).degraded, 0);
	assert_true(in_dialogs(r, 7));
	fp_kmaps_set_loading(NULL, true);	/* no fast path: no-op */
	rig_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overflow_and_retry),
		cmocka_unit_test(test_callids_failure),
		cmocka_unit_test(test_callids_by_mode),
		cmocka_unit_test(test_deferred_deletes),
		cmocka_unit_test(test_written_meanwhile),
		cmocka_unit_test(test_callid_written_later),
		cmocka_unit_test(test_reconcile),
		cmocka_unit_test(test_loading),
		cmocka_unit_test(test_kernel_state4_kept),
	};

	if (geteuid() != 0) {
		printf("1..1\nok 1 - test_fp_kmaps # SKIP not root\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
