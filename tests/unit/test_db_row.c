/*
 * test_db_row.c - a `dialog` row as Kamailio 5.6 writes it, decoded for
 * restore, and the xdata JSON of profiles (no server needed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_load.h"
#include "dialog/dlg.h"

static char *kam_row[DB_DLG_NCOLS] = {
	"17", "9739", "4242", "1-20650@127.0.0.1", "sip:alice@a.example",
	"ftag1", "sip:bob@b.example", "ttag2", "3", "0", NULL,
	"<sip:10.0.0.9;lr>", "sip:alice@10.0.0.1:5060",
	"sip:bob@10.0.0.2:5060", "udp:127.0.0.1:5060", "", "4",
	"1700000000", "1700043200", "5", "1", NULL, "sip:bob@b.example",
	"{\"profiles\":[{\"name\":\"caller\",\"value\":\"alice\","
	"\"puid\":\"dlgp-65a-1f-1\"},{\"name\":\"inbound\","
	"\"puid\":\"dlgp-65a-1f-2\"}]}",
};

static void lens_of(char *const *cols, unsigned long *lens)
{
	int i;

	for (i = 0; i < DB_DLG_NCOLS; i++)
		lens[i] = cols[i] ? strlen(cols[i]) : 0;
}

static void test_decode_kamailio_row(void **state)
{
	struct db_load_row r;
	unsigned long lens[DB_DLG_NCOLS];
	char err[256];

	lens_of(kam_row, lens);
	assert_int_equal(db_row_decode(kam_row, lens, &r, err, sizeof(err)), 0);
	assert_int_equal(r.id, 17);
	assert_int_equal(r.h_entry, 9739);
	assert_int_equal(r.h_id, 4242);
	assert_string_equal(r.callid, "1-20650@127.0.0.1");
	assert_string_equal(r.from_tag, "ftag1");
	assert_string_equal(r.to_tag, "ttag2");
	assert_int_equal(r.caller_cseq, 3);
	assert_int_equal(r.callee_cseq, 0);
	assert_string_equal(r.caller_route_set, "");
	assert_string_equal(r.callee_route_set, "<sip:10.0.0.9;lr>");
	assert_string_equal(r.callee_sock, "");
	assert_int_equal(r.state, 4);
	assert_int_equal(r.start_time, 1700000000);
	assert_int_equal(r.timeout, 1700043200);
	assert_int_equal(r.sflags, 5);
	assert_int_equal(r.iflags, DLG_IFLAG_TIMEOUTBYE);
	assert_string_equal(r.toroute_name, "");
	assert_int_equal(r.n_profiles, 2);
	assert_string_equal(r.profiles[0].name, "caller");
	assert_string_equal(r.profiles[0].value, "alice");
	assert_string_equal(r.profiles[1].name, "inbound");
	assert_null(r.profiles[1].value);
	/* The stored h_entry is the Call-ID's hash at hash_size 16384. */
	assert_int_equal(dlg_hash_entry((struct sip_str){ r.callid,
				strlen(r.callid) }, 16384), r.h_entry);
	db_load_row_clear(&r);
}

static void expect_bad(int col, char *val, const char *needle)
{
	char *cols[DB_DLG_NCOLS];
	unsigned long lens[DB_DLG_NCOLS];
	struct db_load_row r;
	char err[256] = "";

	memcpy(cols, kam_row, sizeof(cols));
	cols[col] = val;
	lens_of(cols, lens);
	assert_int_equal(db_row_decode(cols, lens, &r, err, sizeof(err)),
			 -EINVAL);
	if (!strstr(err, needle))
		fail_msg("col %d: '%s' lacks '%s'", col, err, needle);
}

static void test_decode_errors(void **state)
{
	expect_bad(1, NULL, "hash_entry is NULL");
	expect_bad(2, "0", "hash_id");
	expect_bad(3, NULL, "callid is NULL");
	expect_bad(8, "x1", "not a number");
	expect_bad(16, "6", "out of range");
	expect_bad(16, "0", "state");
	expect_bad(17, NULL, "start_time is NULL");
	expect_bad(22, NULL, "req_uri is NULL");
	expect_bad(23, "{not json", "not JSON");
	expect_bad(23, "{\"profiles\":[{\"value\":\"x\"}]}", "name");
	expect_bad(1, "4294967296", "out of range");
}

static void test_decode_nul_byte(void **state)
{
	char *cols[DB_DLG_NCOLS];
	unsigned long lens[DB_DLG_NCOLS];
	struct db_load_row r;
	char err[256] = "", cid[] = "a\0b";

	memcpy(cols, kam_row, sizeof(cols));
	lens_of(cols, lens);
	cols[3] = cid;
	lens[3] = 3;
	assert_int_equal(db_row_decode(cols, lens, &r, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "NUL"));
}

static void test_xdata_build(void **state)
{
	struct dlg_info_profile p[2] = { { "caller", "al\"ice\\" },
					 { "inbound", NULL } };
	char *s;

	assert_null(db_xdata_build(p, 0));
	s = db_xdata_build(p, 2);
	assert_non_null(s);
	assert_non_null(strstr(s, "{\"profiles\":[{\"name\":\"caller\","
			       "\"value\":\"al\\\"ice\\\\\",\"puid\":\"dlgp-"));
	assert_non_null(strstr(s, "{\"name\":\"inbound\",\"puid\":\"dlgp-"));
	/* and it reads back */
	{
		char *cols[DB_DLG_NCOLS];
		unsigned long lens[DB_DLG_NCOLS];
		struct db_load_row r;
		char err[256];

		memcpy(cols, kam_row, sizeof(cols));
		cols[23] = s;
		lens_of(cols, lens);
		assert_int_equal(db_row_decode(cols, lens, &r, err,
					       sizeof(err)), 0);
		assert_int_equal(r.n_profiles, 2);
		assert_string_equal(r.profiles[0].value, "al\"ice\\");
		db_load_row_clear(&r);
	}
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_kamailio_row),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_decode_nul_byte),
		cmocka_unit_test(test_xdata_build),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
