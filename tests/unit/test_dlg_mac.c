/*
 * test_dlg_mac.c - the cookie MAC in the dialog core: with a key ring, a
 * new dialog's cookie parameter is ";did=<cookie>;dm=<MAC>" where MAC is
 * sipdlg_dlg_mac() of (h_entry, h_id) under the current key, and the
 * dialog remembers the key generation; a restored dialog and a dialog of
 * a table without the MAC carry no ";dm=" and generation 0.  And which of
 * them the fast-path glue flags SIPDLG_DLGF_NOMAC in the kernel's map.
 */
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/types.h>

#include "core/stats.h"
#include "core/timer.h"
#include "dialog/dlg.h"
#include "dialog/dlg_stats.h"
#include "fastpath/fp_internal.h"
#include "mac/mac_ring.h"
#include "sipdlg_hash.h"

#define KEY "000102030405060708090a0b0c0d0e0f\n"

struct env {
	struct tmr_service *ts;
	struct dlg_table *t;
	struct mac_ring *mac;
	char dir[40], file[64];
};

static void env_up(struct env *e, bool with_mac)
{
	struct dlg_config c;
	char err[256];
	int fd;

	memset(e, 0, sizeof(*e));
	memset(&c, 0, sizeof(c));
	c.hash_size = 16;
	c.rr_param = "did";
	c.default_timeout_ms = 3600 * 1000;
	c.detect_spirals = 1;
	c.h_id_step = 1;
	if (with_mac) {
		snprintf(e->dir, sizeof(e->dir), "/tmp/sipdlg-dlgmac.XXXXXX");
		assert_non_null(mkdtemp(e->dir));
		snprintf(e->file, sizeof(e->file), "%s/k", e->dir);
		fd = open(e->file, O_WRONLY | O_CREAT | O_EXCL, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, KEY, strlen(KEY)),
				 (ssize_t)strlen(KEY));
		close(fd);
		assert_int_equal(mac_ring_open(e->file, &e->mac, err,
					       sizeof(err)),
				 0);
		c.mac_sign = mac_ring_sign_ud;
		c.mac_ud = e->mac;
	}
	e->ts = tmr_service_alloc();
	assert_non_null(e->ts);
	assert_int_equal(tmr_service_start(e->ts), 0);
	assert_int_equal(dlg_table_alloc(&c, e->ts, NULL, &e->t), 0);
}

static void env_down(struct env *e)
{
	tmr_service_free(e->ts);
	dlg_table_free(e->t);
	mac_ring_free(e->mac);
	if (e->file[0]) {
		unlink(e->file);
		rmdir(e->dir);
	}
}

static struct dlg_cell *mk(struct env *e, const char *callid)
{
	struct dlg_invite inv;
	struct dlg_cell *c = NULL;

	memset(&inv, 0, sizeof(inv));
	inv.callid = sip_str_c(callid);
	inv.from_uri = sip_str_c("sip:alice@a.example");
	inv.from_tag = sip_str_c("ft");
	inv.to_uri = sip_str_c("sip:bob@b.example");
	inv.req_uri = sip_str_c("sip:bob@b.example");
	inv.contact = sip_str_c("sip:alice@10.0.0.1:5060");
	inv.socket = sip_str_c("udp:10.0.0.9:5060");
	inv.cseq = 1;
	assert_int_equal(dlg_manage(e->t, &inv, NULL, &c), DLG_RC_CREATED);
	return c;
}

/* ";did=<cookie>;dm=<sipdlg_dlg_mac under @k0,@k1>" */
static void expect_param(struct dlg_cell *c, uint64_t k0, uint64_t k1)
{
	char want[80], cookie[20], hex[SIPDLG_MAC_HEX_LEN + 1], b[128];
	uint64_t mac = sipdlg_dlg_mac(k0, k1, dlg_h_entry(c), dlg_h_id(c));

	dlg_cookie_value(dlg_h_entry(c), dlg_h_id(c), cookie, sizeof(cookie));
	sipdlg_mac_hex(mac, hex);
	hex[SIPDLG_MAC_HEX_LEN] = '\0';
	snprintf(want, sizeof(want), ";did=%s;dm=%s", cookie, hex);
	assert_int_equal(dlg_cookie_param(c, b, sizeof(b)), (int)strlen(want));
	assert_string_equal(b, want);
	/* too short by one byte: refused, not cut */
	assert_int_equal(dlg_cookie_param(c, b, strlen(want)), -ENOSPC);
}

static void test_cookie_with_mac(void **state)
{
	struct mac_state st;
	struct mac_keys next;
	struct dlg_cell *c, *d;
	struct env e;
	uint64_t k0, k1;

	env_up(&e, true);
	c = mk(&e, "mac-1@x");
	assert_int_equal(dlg_mac_gen(c), 2);
	expect_param(c, 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL);

	/* after a rotation: new dialogs under the new key, old ones keep
	 * theirs (the Record-Route was sent once) */
	assert_int_equal(mac_ring_next(e.mac, &next, &st), 0);
	mac_ring_apply(e.mac, &next);
	d = mk(&e, "mac-2@x");
	assert_int_equal(dlg_mac_gen(d), 3);
	mac_key_words(next.cur, &k0, &k1);
	expect_param(d, k0, k1);
	expect_param(c, 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL);
	dlg_unref(c);
	dlg_unref(d);
	env_down(&e);
}

static void test_cookie_without_mac(void **state)
{
	struct dlg_load ld;
	struct dlg_cell *c;
	struct env e;
	char b[64];

	env_up(&e, false);
	c = mk(&e, "nomac@x");
	assert_int_equal(dlg_mac_gen(c), 0);
	dlg_cookie_param(c, b, sizeof(b));
	assert_null(strstr(b, ";dm="));
	dlg_unref(c);
	env_down(&e);

	/* restored from a database: no MAC, whatever the table has */
	env_up(&e, true);
	memset(&ld, 0, sizeof(ld));
	ld.callid = sip_str_c("restored@x");
	ld.h_entry = dlg_hash_entry(ld.callid, 16);
	ld.h_id = 77;
	ld.from_uri = sip_str_c("sip:alice@a.example");
	ld.from_tag = sip_str_c("ft");
	ld.to_uri = sip_str_c("sip:bob@b.example");
	ld.to_tag = sip_str_c("tt");
	ld.req_uri = sip_str_c("sip:bob@b.example");
	ld.caller_contact = sip_str_c("sip:alice@10.0.0.1");
	ld.callee_contact = sip_str_c("sip:bob@10.0.0.2");
	ld.state = 4;
	ld.start_time = (int64_t)time(NULL) - 10;
	ld.timeout = (int64_t)time(NULL) + 100;
	assert_int_equal(dlg_load(e.t, &ld, &c), 0);
	dlg_load_done(c);
	assert_int_equal(dlg_mac_gen(c), 0);
	dlg_cookie_param(c, b, sizeof(b));
	assert_null(strstr(b, ";dm="));
	dlg_unref(c);
	env_down(&e);
}

/*
 * fp_mac_flags(): NOMAC for a dialog without a MAC (restored, or the MAC
 * off) and for one whose key generation is below the floor (its key was
 * rotated out); other flag bits are kept.
 */
static void test_nomac_flags(void **state)
{
	struct fastpath fp;
	struct dlg_load ld;
	struct dlg_cell *made, *restored;
	struct env e;

	env_up(&e, true);
	made = mk(&e, "made@x");
	memset(&ld, 0, sizeof(ld));
	ld.callid = sip_str_c("restored2@x");
	ld.h_entry = dlg_hash_entry(ld.callid, 16);
	ld.h_id = 78;
	ld.from_uri = sip_str_c("sip:alice@a.example");
	ld.from_tag = sip_str_c("ft");
	ld.to_uri = sip_str_c("sip:bob@b.example");
	ld.to_tag = sip_str_c("tt");
	ld.req_uri = sip_str_c("sip:bob@b.example");
	ld.caller_contact = sip_str_c("sip:alice@10.0.0.1");
	ld.callee_contact = sip_str_c("sip:bob@10.0.0.2");
	ld.state = 4;
	ld.start_time = (int64_t)time(NULL) - 10;
	ld.timeout = (int64_t)time(NULL) + 100;
	assert_int_equal(dlg_load(e.t, &ld, &restored), 0);
	dlg_load_done(restored);

	memset(&fp, 0, sizeof(fp));
	fp_mac_init(&fp, e.mac);	/* floor: the current generation, 2 */
	assert_int_equal(fp_mac_flags(&fp, made, 0), 0);
	assert_int_equal(fp_mac_flags(&fp, made, SIPDLG_DLGF_NOMAC | 0x10),
			 0x10);
	assert_int_equal(fp_mac_flags(&fp, restored, 0x10),
			 SIPDLG_DLGF_NOMAC | 0x10);
	/* two rotations later the floor is 3: generation 2 is out */
	atomic_store(&fp.mac_floor, 3);
	assert_int_equal(fp_mac_flags(&fp, made, 0), SIPDLG_DLGF_NOMAC);
	/* the MAC off: every dialog is tight-matched */
	fp_mac_init(&fp, NULL);
	assert_int_equal(fp_mac_flags(&fp, made, 0), SIPDLG_DLGF_NOMAC);
	dlg_unref(made);
	dlg_unref(restored);
	env_down(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cookie_with_mac),
		cmocka_unit_test(test_cookie_without_mac),
		cmocka_unit_test(test_nomac_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
