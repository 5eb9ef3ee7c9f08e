// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_fp_knobs.c - the controller writes every knob of bpf/knobs.h by
 * name (user/fastpath/fp_knobs.c): into the real object, all of them with
 * the values asked for (the cookie MAC's keys included); an object that
 * lacks one (tests/bpf/fixtures/old_knobs.bpf.c, an "older build") is
 * refused with a message naming it, instead of running with a default.
 *
 * Objects are only opened, never loaded: no root needed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/types.h>
#include <bpf/libbpf.h>

#include "fastpath/fp_internal.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "sipdlg.skel.h"
#pragma GCC diagnostic pop

#define FIXTURES "build/tests/fixtures/"

static struct sipdlg_config *config(void)
{
	struct sipdlg_config *cfg = cfg_alloc_defaults();

	assert_non_null(cfg);
	cfg->xdp.unknown_dialog = CFG_POLICY_DROP;
	cfg->xdp.max_dialog_pps = 77;
	cfg->dialog.dlg_match_mode = 1;
	cfg->xdp.invite_limit_pps = 25;
	cfg->xdp.invite_limit_burst = 60;
	return cfg;
}

static void test_all_knobs_written(void **state)
{
	struct sipdlg_config *cfg = config();
	struct fastpath fp = { .n_ports = 2, .ports = { 5060, 5070 } };
	struct mac_state mac = { .cur = { 0x1111, 0x2222 },
				 .prev = { 0x3333, 0x4444 },
				 .has_prev = true, .cur_gen = 3,
				 .prev_gen = 2 };
	struct sipdlg_bpf *skel = sipdlg_bpf__open();
	struct fp_knobs k;
	char err[512] = "";

	assert_non_null(skel);
	fp_knobs_fill(&k, &fp, cfg, &mac);
	assert_int_equal(fp_knobs_set(skel->obj, "(built in)", &k, err,
				      sizeof(err)),
			 0);
	assert_int_equal(skel->rodata->n_sip_ports, 2);
	assert_int_equal(skel->rodata->sip_ports[1], 5070);
	assert_int_equal(skel->rodata->unknown_dialog_drop, 1);
	assert_int_equal(skel->rodata->dlg_match_mode, 1);
	assert_int_equal(skel->rodata->max_dialog_pps, 77);
	assert_int_equal(skel->rodata->invite_limit_pps, 25);
	assert_int_equal(skel->rodata->invite_limit_burst, 60);
	assert_int_equal(skel->rodata->rr_param_len, 3);
	assert_memory_equal((const char *)skel->rodata->rr_param, "did", 4);
	assert_int_equal(skel->rodata->mac_enabled, 1);
	assert_true(skel->rodata->mac_key[0] == 0x1111 &&
		    skel->rodata->mac_key[1] == 0x2222);
	assert_int_equal(skel->rodata->mac_prev_enabled, 1);
	assert_true(skel->rodata->mac_key_prev[0] == 0x3333 &&
		    skel->rodata->mac_key_prev[1] == 0x4444);
	/* xdp.relay: the config's methods, with the SDM_ACK bit for
	 * relay.ack (on by default), or nothing when it is off */
	assert_int_equal(skel->rodata->relay_enabled,
			 CFG_RELAY_DEFAULT_ENABLED);
	assert_int_equal(skel->rodata->relay_methods,
			 CFG_RELAY_DEFAULT_ENABLED ?
				 CFG_RELAY_DEFAULT_METHODS | (1u << SDM_ACK) :
				 0);
	cfg->xdp.relay_methods = 1u << SDM_INFO;
	cfg->xdp.relay_enabled = 1;
	cfg->xdp.relay_ack = 0;
	fp_knobs_fill(&k, &fp, cfg, &mac);
	assert_int_equal(fp_knobs_set(skel->obj, "(built in)", &k, err,
				      sizeof(err)),
			 0);
	assert_int_equal(skel->rodata->relay_enabled, 1);
	assert_int_equal(skel->rodata->relay_methods, 1u << SDM_INFO);
	/* relay.ack alone (no method) still relays: the ACK */
	cfg->xdp.relay_methods = 0;
	cfg->xdp.relay_ack = 1;
	fp_knobs_fill(&k, &fp, cfg, &mac);
	assert_int_equal(fp_knobs_set(skel->obj, "(built in)", &k, err,
				      sizeof(err)),
			 0);
	assert_int_equal(skel->rodata->relay_enabled, 1);
	assert_int_equal(skel->rodata->relay_methods, 1u << SDM_ACK);
	cfg->xdp.relay_enabled = 0;
	fp_knobs_fill(&k, &fp, cfg, &mac);
	assert_int_equal(fp_knobs_set(skel->obj, "(built in)", &k, err,
				      sizeof(err)),
			 0);
	assert_int_equal(skel->rodata->relay_enabled, 0);
	assert_int_equal(skel->rodata->relay_methods, 0);

	/* MAC off: every MAC knob back to 0 */
	fp_knobs_fill(&k, &fp, cfg, NULL);
	assert_int_equal(fp_knobs_set(skel->obj, "(built in)", &k, err,
				      sizeof(err)),
			 0);
	assert_int_equal(skel->rodata->mac_enabled, 0);
	assert_int_equal(skel->rodata->mac_prev_enabled, 0);
	assert_true(skel->rodata->mac_key[0] == 0 &&
		    skel->rodata->mac_key_prev[1] == 0);
	sipdlg_bpf__destroy(skel);
	cfg_free(cfg);
}

static void test_missing_knob_refused(void **state)
{
	struct sipdlg_config *cfg = config();
	struct fastpath fp = { .n_ports = 1, .ports = { 5060 } };
	struct bpf_object *obj;
	struct fp_knobs k;
	char err[512] = "";

	obj = bpf_object__open_file(FIXTURES "old_knobs.bpf.o", NULL);
	if (!obj)
		fail_msg("cannot open " FIXTURES "old_knobs.bpf.o (make "
			 "test-build)");
	fp_knobs_fill(&k, &fp, cfg, NULL);
	/* refused even with the MAC off: the object is not this build's */
	assert_int_equal(fp_knobs_set(obj, "old_knobs.bpf.o", &k, err,
				      sizeof(err)),
			 -ENOENT);
	assert_string_equal(err,
			    "xdp: BPF object old_knobs.bpf.o has no knob "
			    "'mac_prev_enabled' (a .rodata global this "
			    "sipdlgd sets); it was built from other sources: "
			    "rebuild it with make, or drop --bpf-object");
	bpf_object__close(obj);

	/* the verifier fixture declares every knob: loading gets as far as
	 * the verifier (test_startup_errors.sh) */
	obj = bpf_object__open_file(FIXTURES "reject.bpf.o", NULL);
	assert_non_null(obj);
	assert_int_equal(fp_knobs_set(obj, "reject.bpf.o", &k, err,
				      sizeof(err)),
			 0);
	bpf_object__close(obj);
	cfg_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_knobs_written),
		cmocka_unit_test(test_missing_knob_refused),
	};

	libbpf_set_print(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
