/*
 * test_fp_pending.c - the set of dialogs waiting for room in the kernel
 * maps (user/fastpath/fp_pending.c): lookup by id, arrival order kept
 * across deletions anywhere in the list, many entries per bucket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fastpath/fp_pending.h"

static struct sipdlg_dlg_key k(__u32 e, __u32 i)
{
	struct sipdlg_dlg_key key = { e, i };

	return key;
}

static void test_order_and_lookup(void **state)
{
	struct fp_pending s;
	struct sipdlg_dlg_key a = k(1, 1), b = k(1, 2), c = k(2, 1);
	struct fp_pend *pa, *pb, *pc;

	assert_int_equal(fp_pending_init(&s, 3), 0);
	assert_int_equal(s.nbuckets, 4);
	assert_null(fp_pending_find(&s, &a));
	pa = fp_pending_add(&s, &a);
	pb = fp_pending_add(&s, &b);
	pc = fp_pending_add(&s, &c);
	assert_non_null(pa);
	assert_ptr_equal(fp_pending_add(&s, &b), pb);	/* no duplicate */
	assert_int_equal(s.n, 3);
	assert_ptr_equal(fp_pending_find(&s, &c), pc);
	assert_ptr_equal(s.head, pa);
	assert_ptr_equal(s.tail, pc);

	fp_pending_del(&s, pb);		/* the middle */
	assert_null(fp_pending_find(&s, &b));
	assert_ptr_equal(s.head->next, pc);
	assert_ptr_equal(pc->prev, pa);
	fp_pending_del(&s, pa);		/* the head */
	assert_ptr_equal(s.head, pc);
	assert_null(pc->prev);
	pb = fp_pending_add(&s, &b);	/* back in: now the newest */
	assert_ptr_equal(s.tail, pb);
	fp_pending_del(&s, pb);		/* the tail */
	assert_ptr_equal(s.tail, pc);
	assert_int_equal(s.n, 1);
	fp_pending_fini(&s);
	fp_pending_fini(&s);		/* twice is fine */
}

static void test_many(void **state)
{
	struct fp_pending s;
	__u32 i, n = 5000;

	assert_int_equal(fp_pending_init(&s, 16), 0);
	for (i = 0; i < n; i++) {
		struct sipdlg_dlg_key key = k(i % 7, i);

		assert_non_null(fp_pending_add(&s, &key));
	}
	assert_int_equal(s.n, n);
	/* Delete the even ones; the odd ones stay found and in order. */
	for (i = 0; i < n; i += 2) {
		struct sipdlg_dlg_key key = k(i % 7, i);

		fp_pending_del(&s, fp_pending_find(&s, &key));
	}
	assert_int_equal(s.n, n / 2);
	i = 1;
	for (struct fp_pend *p = s.head; p; p = p->next, i += 2) {
		struct sipdlg_dlg_key key = k(i % 7, i);

		assert_int_equal(p->key.h_id, i);
		assert_ptr_equal(fp_pending_find(&s, &key), p);
	}
	fp_pending_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_lookup),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
