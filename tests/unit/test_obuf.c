/*
 * test_obuf.c - the growable output buffer (core/obuf.h): growth past its
 * first block, the limit (OBUF_MAX when zero-initialised), the overflow
 * flag that stays until a reset, printf growth, shift, cstr and take.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/obuf.h"

static void test_grows_and_keeps_bytes(void **state)
{
	struct obuf o;
	char chunk[1000];

	(void)state;
	ob_init(&o, OBUF_UNLIMITED);
	memset(chunk, 'a', sizeof(chunk));
	for (int i = 0; i < 100; i++)
		ob_mem(&o, chunk, sizeof(chunk));
	ob_u32(&o, 4294967295u);
	ob_sl(&o, sip_str_c("!"));
	assert_false(o.overflow);
	assert_int_equal(o.len, 100000 + 10 + 1);
	assert_true(o.cap >= o.len);
	assert_memory_equal(o.buf + 100000, "4294967295!", 11);
	assert_string_equal(ob_cstr(&o) + 100000, "4294967295!");
	ob_free(&o);
	assert_null(o.buf);
	ob_free(NULL);
}

static void test_zero_init_is_sip_sized(void **state)
{
	static struct obuf o;	/* as the thread-local scratch buffers */
	static char big[OBUF_MAX];

	(void)state;
	ob_reset(&o);
	ob_mem(&o, big, sizeof(big));	/* exactly the limit fits */
	assert_false(o.overflow);
	ob_mem(&o, "x", 1);		/* one more does not */
	assert_true(o.overflow);
	assert_int_equal(o.len, OBUF_MAX);
	ob_str(&o, "ignored");		/* and nothing after it */
	assert_int_equal(o.len, OBUF_MAX);
	ob_reset(&o);
	assert_false(o.overflow);
	ob_str(&o, "again");
	assert_int_equal(o.len, 5);
	ob_free(&o);
}

static void test_printf_grows(void **state)
{
	struct obuf o;
	char *s;

	(void)state;
	ob_init(&o, 16);
	ob_printf(&o, "%s-%d", "abc", 42);
	assert_false(o.overflow);
	assert_int_equal(o.len, 6);
	ob_printf(&o, "%s", "0123456789");	/* 16 + NUL: too long */
	assert_true(o.overflow);
	assert_int_equal(o.len, 6);
	ob_free(&o);

	ob_init(&o, OBUF_UNLIMITED);
	for (int i = 0; i < 2000; i++)
		ob_printf(&o, "line %04d\r\n", i);
	assert_false(o.overflow);
	assert_int_equal(o.len, 2000 * 11);
	assert_memory_equal(o.buf + 1999 * 11, "line 1999\r\n", 11);
	s = ob_take(&o);
	assert_non_null(s);
	assert_int_equal(strlen(s), 2000 * 11);
	assert_null(o.buf);
	assert_int_equal(o.limit, OBUF_UNLIMITED);	/* kept for reuse */
	free(s);
}

static void test_shift(void **state)
{
	struct obuf o;

	(void)state;
	ob_init(&o, OBUF_UNLIMITED);
	ob_str(&o, "sent|pending");
	ob_shift(&o, 5);
	assert_int_equal(o.len, 7);
	assert_memory_equal(o.buf, "pending", 7);
	ob_shift(&o, 100);
	assert_int_equal(o.len, 0);
	ob_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grows_and_keeps_bytes),
		cmocka_unit_test(test_zero_init_is_sip_sized),
		cmocka_unit_test(test_printf_grows),
		cmocka_unit_test(test_shift),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
