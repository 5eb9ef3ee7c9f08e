/*
 * test_db_url.c - db_url parsing (no server needed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "db/db_url.h"

static void test_kamailio_form(void **state)
{
	struct db_url u;
	char err[256];

	assert_int_equal(db_url_parse("mysql://kamailio:kamailiorw@db1:3307/kam",
				      NULL, &u, err, sizeof(err)), 0);
	assert_string_equal(u.user, "kamailio");
	assert_string_equal(u.pass, "kamailiorw");
	assert_string_equal(u.host, "db1");
	assert_int_equal(u.port, 3307);
	assert_null(u.socket);
	assert_string_equal(u.db, "kam");
	db_url_clear(&u);

	/* Kamailio's default, no port. */
	assert_int_equal(db_url_parse("mysql://openser:openserrw@localhost/openser",
				      "", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "localhost");
	assert_int_equal(u.port, 0);
	assert_null(u.socket);
	db_url_clear(&u);
}

static void test_no_password_no_user(void **state)
{
	struct db_url u;
	char err[256];

	assert_int_equal(db_url_parse("mysql://root@10.0.0.1/sipdlg", NULL, &u,
				      err, sizeof(err)), 0);
	assert_string_equal(u.user, "root");
	assert_null(u.pass);
	db_url_clear(&u);

	assert_int_equal(db_url_parse("MySQL://h/d", NULL, &u, err,
				      sizeof(err)), 0);
	assert_string_equal(u.user, "");
	assert_string_equal(u.host, "h");
	assert_string_equal(u.db, "d");
	db_url_clear(&u);
}

static void test_password_specials(void **state)
{
	struct db_url u;
	char err[256];

	/* ':' and '@' in the password, %2F for '/'. */
	assert_int_equal(db_url_parse("mysql://u:p:a@ss%2Fw@h:1/d", NULL, &u,
				      err, sizeof(err)), 0);
	assert_string_equal(u.user, "u");
	assert_string_equal(u.pass, "p:a@ss/w");
	assert_string_equal(u.host, "h");
	assert_int_equal(u.port, 1);
	db_url_clear(&u);
}

static void test_ipv6(void **state)
{
	struct db_url u;
	char err[256];

	assert_int_equal(db_url_parse("mysql://u:p@[::1]:3306/d", NULL, &u, err,
				      sizeof(err)), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 3306);
	db_url_clear(&u);
	assert_int_equal(db_url_parse("mysql://u:p@[fe80::1]/d", NULL, &u, err,
				      sizeof(err)), 0);
	assert_string_equal(u.host, "fe80::1");
	assert_int_equal(u.port, 0);
	db_url_clear(&u);
}

static void test_unix_socket(void **state)
{
	struct db_url u;
	char err[256], d[256];

	assert_int_equal(db_url_parse("mysql://root@unix(/tmp/x y/m.sock)/sipdlg",
				      NULL, &u, err, sizeof(err)), 0);
	assert_null(u.host);
	assert_string_equal(u.socket, "/tmp/x y/m.sock");
	assert_string_equal(u.db, "sipdlg");
	db_url_describe(&u, d, sizeof(d));
	assert_string_equal(d, "mysql://root@unix(/tmp/x y/m.sock)/sipdlg");
	db_url_clear(&u);

	assert_int_equal(db_url_parse("mysql://unix(/s)/db", NULL, &u, err,
				      sizeof(err)), 0);
	assert_string_equal(u.socket, "/s");
	db_url_clear(&u);
}

static void test_cfg_socket(void **state)
{
	struct db_url u;
	char err[256], d[256];

	assert_int_equal(db_url_parse("mysql://u:secret@localhost/db",
				      "/run/mysqld/mysqld.sock", &u, err,
				      sizeof(err)), 0);
	assert_string_equal(u.socket, "/run/mysqld/mysqld.sock");
	assert_string_equal(u.host, "localhost");
	db_url_describe(&u, d, sizeof(d));
	assert_null(strstr(d, "secret"));
	db_url_clear(&u);
	/* Not for another host, nor with a port. */
	assert_int_equal(db_url_parse("mysql://u@db1/db", "/s", &u, err,
				      sizeof(err)), 0);
	assert_null(u.socket);
	db_url_clear(&u);
	assert_int_equal(db_url_parse("mysql://u@localhost:3306/db", "/s", &u,
				      err, sizeof(err)), 0);
	assert_null(u.socket);
	db_url_clear(&u);
}

static void expect_error(const char *url, const char *needle)
{
	struct db_url u;
	char err[256] = "";

	memset(&u, 0x5a, sizeof(u));
	assert_int_equal(db_url_parse(url, NULL, &u, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("'%s': error '%s' lacks '%s'", url ? url : "(null)",
			 err, needle);
	/* untouched on error */
	assert_int_equal(u.port, 0x5a5a5a5a);
}

static void test_errors(void **state)
{
	expect_error(NULL, "empty");
	expect_error("", "empty");
	expect_error("postgres://u@h/d", "'postgres' is not supported");
	expect_error("localhost/db", "not a URL");
	expect_error("mysql://u@h", "names no database");
	expect_error("mysql://u@h/", "names no database");
	expect_error("mysql://u@/d", "names no host");
	expect_error("mysql://u@h:/d", "port");
	expect_error("mysql://u@h:0/d", "port");
	expect_error("mysql://u@h:70000/d", "port");
	expect_error("mysql://u@h:33a/d", "port");
	expect_error("mysql://u@h/d?socket=/x", "query parameters");
	expect_error("mysql://u@h/d/e", "contains");
	expect_error("mysql://u@unix(/s/d", "without ')'");
	expect_error("mysql://u@unix(rel.sock)/d", "absolute");
	expect_error("mysql://u@unix(/s):3306/d", "takes no port");
	expect_error("mysql://u@[::1/d", "']'");
	expect_error("mysql://u%4@h/d", "escape");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kamailio_form),
		cmocka_unit_test(test_no_password_no_user),
		cmocka_unit_test(test_password_specials),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_unix_socket),
		cmocka_unit_test(test_cfg_socket),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
