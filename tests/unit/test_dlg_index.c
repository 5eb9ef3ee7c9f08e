/*
 * test_dlg_index.c - the keyed indexes of the dialog table (dlg_index.c):
 * SipHash-2-4 against its published vectors, Call-IDs that collide in
 * Kamailio's core_hash spread over the slot's index buckets, and every
 * lookup (by Call-ID, by (h_entry, h_id), spiral detection, the listing
 * by slot in h_id order) still right on such a slot while dialogs come
 * and go and the index grows and shrinks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <linux/types.h>

#include "sipdlg_hash.h"
#include "core/timer.h"
#include "dialog/dlg.h"
#include "dialog/dlg_int.h"

#define N 200

static void test_siphash_vectors(void **state)
{
	/* Aumasson and Bernstein's reference vectors: key 00..0f, message
	 * 00..(len-1). */
	static const uint64_t want[] = {
		0x726fdb47dd0e0e31ULL,	/* len 0 */
		0x74f839c593dc67fdULL,	/* len 1 */
		0x93f5f5799a932462ULL,	/* len 8 */
		0xa129ca6149be45e5ULL,	/* len 15 */
	};
	static const size_t lens[] = { 0, 1, 8, 15 };
	uint64_t key[2] = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
	unsigned char msg[16];

	(void)state;
	for (int i = 0; i < 16; i++)
		msg[i] = (unsigned char)i;
	for (size_t i = 0; i < 4; i++)
		assert_true(dlg_siphash(key, msg, lens[i]) == want[i]);
	/* the same function as the cookie MAC's one-word SipHash */
	assert_true(dlg_siphash(key, msg, 8) ==
		    sipdlg_siphash24_u64(key[0], key[1], 0x0706050403020100ULL));
}

/* The @i-th of N Call-IDs that all collide in core_hash: the 4-byte
 * groups of one 36-byte Call-ID, rotated and with two groups swapped. */
static void colliding(unsigned i, char out[37])
{
	static const char g[9][5] = { "a84b", "4c76", "e667", "1071", "9c3d",
				      "@atk", ".exa", "mple", ".org" };
	int idx[9];

	for (int k = 0; k < 9; k++)
		idx[k] = (k + (int)(i % 9)) % 9;
	/* i / 9 picks one of the 36 unordered pairs to swap (0: none) */
	if (i / 9) {
		int p = (int)(i / 9) - 1, a = 0, b;

		while (p >= 8 - a) {
			p -= 8 - a;
			a++;
		}
		b = a + 1 + p;
		int x = idx[a];

		idx[a] = idx[b];
		idx[b] = x;
	}
	for (int k = 0; k < 9; k++)
		memcpy(out + 4 * k, g[idx[k]], 4);
	out[36] = '\0';
}

struct env {
	struct tmr_service *ts;
	struct dlg_table *t;
	char cid[N][37];
	char tag[N][16];
	struct dlg_cell *c[N];
};

static void up(struct env *e)
{
	struct dlg_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.hash_size = 1024;
	cfg.rr_param = "did";
	cfg.detect_spirals = 1;
	e->ts = tmr_service_alloc();
	assert_int_equal(tmr_service_start(e->ts), 0);
	assert_int_equal(dlg_table_alloc(&cfg, e->ts, NULL, &e->t), 0);
}

static void down(struct env *e)
{
	tmr_service_free(e->ts);
	dlg_table_free(e->t);
}

static int manage(struct env *e, unsigned i, struct dlg_cell **out)
{
	struct dlg_invite inv;

	memset(&inv, 0, sizeof(inv));
	inv.callid = sip_str_c(e->cid[i]);
	inv.from_tag = sip_str_c(e->tag[i]);
	inv.contact = sip_str_c("sip:a@10.0.0.1");
	inv.cseq = 1;
	return dlg_manage(e->t, &inv, NULL, out);
}

/* Every live dialog is found by each index, and not by the other's key. */
static void check_lookups(struct env *e, const bool *live)
{
	for (unsigned i = 0; i < N; i++) {
		struct dlg_cell *x, *cells[4];
		enum dlg_dir d;
		uint32_t he = dlg_h_entry(e->c[i]), hi = dlg_h_id(e->c[i]);

		x = dlg_lookup_id(e->t, he, hi);
		assert_ptr_equal(x, live[i] ? e->c[i] : NULL);
		dlg_unref(x);
		x = dlg_lookup_sip(e->t, sip_str_c(e->cid[i]),
				   sip_str_c(e->tag[i]), SIP_STR_NULL, &d);
		assert_ptr_equal(x, live[i] ? e->c[i] : NULL);
		dlg_unref(x);
		assert_int_equal(dlg_lookup_callid(e->t, sip_str_c(e->cid[i]),
						   SIP_STR_NULL, cells, 4),
				 live[i] ? 1 : 0);
		if (live[i]) {
			assert_ptr_equal(cells[0], e->c[i]);
			dlg_unref(cells[0]);
		}
	}
}

struct walk {
	uint32_t last;
	int n;
};

static int in_order(struct dlg_cell *c, void *ud)
{
	struct walk *w = ud;

	assert_true(dlg_h_id(c) > w->last);
	w->last = dlg_h_id(c);
	w->n++;
	return 0;
}

static void test_colliding_callids(void **state)
{
	static struct env e;
	static bool live[N];
	struct dlg_slot *s;
	uint32_t he, used = 0;
	uint32_t *seen;
	struct walk w = { 0, 0 };
	int n_live = N;

	(void)state;
	up(&e);
	for (unsigned i = 0; i < N; i++) {
		colliding(i, e.cid[i]);
		snprintf(e.tag[i], sizeof(e.tag[i]), "ft%u", i);
		for (unsigned k = 0; k < i; k++)
			assert_string_not_equal(e.cid[i], e.cid[k]);
		assert_int_equal(manage(&e, i, &e.c[i]), DLG_RC_CREATED);
		live[i] = true;
	}
	/* one core_hash slot for all ... */
	he = dlg_h_entry(e.c[0]);
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(dlg_h_entry(e.c[i]), he);
	/* ... but spread over its Call-ID index (N balls in >= N/2 bins:
	 * fewer than N/8 bins used does not happen with a random key) */
	s = &e.t->slots[he];
	assert_true(s->nb >= N / 2);
	seen = calloc(s->nb, sizeof(*seen));
	assert_non_null(seen);
	for (unsigned i = 0; i < N; i++) {
		uint32_t b = dlg_idx_cid_bucket(e.t, s, sip_str_c(e.cid[i]),
						sip_str_c(e.tag[i]));

		used += !seen[b]++;
	}
	free(seen);
	assert_true(used >= N / 8);
	check_lookups(&e, live);

	/* spiral detection through the index: same Call-ID and tag */
	for (unsigned i = 0; i < N; i += 17) {
		struct dlg_cell *x;

		assert_int_equal(manage(&e, i, &x), DLG_RC_SPIRAL);
		assert_ptr_equal(x, e.c[i]);
		dlg_unref(x);
	}

	/* dialogs leave: the others are still found, the gone ones not,
	 * and the index shrinks with the slot */
	for (unsigned i = 0; i < N; i++)
		if (i % 20) {
			dlg_discard(e.c[i]);
			live[i] = false;
			n_live--;
		}
	check_lookups(&e, live);
	assert_true(s->nb < N / 2 && s->nb >= 4);	/* 128 -> 64 */
	assert_int_equal(dlg_foreach_slot(e.t, he, in_order, &w), n_live);
	assert_int_equal(w.n, n_live);

	/* a new INVITE with a gone dialog's Call-ID and tag is a new dialog
	 * (the discarded one is state 5) */
	{
		struct dlg_cell *x;

		assert_int_equal(manage(&e, 1, &x), DLG_RC_CREATED);
		assert_ptr_not_equal(x, e.c[1]);
		dlg_discard(x);
		dlg_unref(x);
	}
	for (unsigned i = 0; i < N; i++)
		dlg_unref(e.c[i]);
	down(&e);
	/* the last one out freed the arrays: checked by valgrind's leak
	 * check in tests/run.sh */
}

/*
 * A lookup by Call-ID alone (dlg_list CALLID, dlg.terminate_dlg CALLID)
 * among N dialogs in one core_hash slot looks only at its Call-ID's index
 * chain: a few dialogs, never the N of the slot (dlg_callid_lookup_steps
 * counts what it looked at).  Three more dialogs of one Call-ID (other
 * From tags) are all found by it, in h_id order.
 */
static void test_callid_only_lookup_no_slot_walk(void **state)
{
	static struct env e;
	struct dlg_cell *extra[3], *cells[8];
	uint64_t total = 0, worst = 0;
	size_t n;

	(void)state;
	up(&e);
	for (unsigned i = 0; i < N; i++) {
		colliding(i, e.cid[i]);
		snprintf(e.tag[i], sizeof(e.tag[i]), "ft%u", i);
		assert_int_equal(manage(&e, i, &e.c[i]), DLG_RC_CREATED);
	}
	for (unsigned k = 0; k < 3; k++) {
		struct dlg_invite inv;

		memset(&inv, 0, sizeof(inv));
		inv.callid = sip_str_c(e.cid[5]);
		inv.from_tag = sip_str_c(k == 0 ? "x0" : k == 1 ? "x1" : "x2");
		inv.contact = sip_str_c("sip:a@10.0.0.1");
		inv.cseq = 1;
		assert_int_equal(dlg_manage(e.t, &inv, NULL, &extra[k]),
				 DLG_RC_CREATED);
		assert_int_equal(dlg_h_entry(extra[k]), dlg_h_entry(e.c[0]));
	}
	for (unsigned i = 0; i < N; i++) {
		uint64_t before = dlg_callid_lookup_steps(e.t), steps;

		n = dlg_lookup_callid(e.t, sip_str_c(e.cid[i]), SIP_STR_NULL,
				      cells, 8);
		steps = dlg_callid_lookup_steps(e.t) - before;
		total += steps;
		worst = steps > worst ? steps : worst;
		assert_int_equal(n, i == 5 ? 4 : 1);
		assert_ptr_equal(cells[0], e.c[i]);
		for (size_t k = 1; k < n; k++) {
			assert_ptr_equal(cells[k], extra[k - 1]);
			assert_true(dlg_h_id(cells[k]) > dlg_h_id(cells[k - 1]));
		}
		for (size_t k = 0; k < n; k++)
			dlg_unref(cells[k]);
	}
	printf("# Call-ID-only lookups in a slot of %u dialogs: %.2f dialogs "
	       "looked at on average, %llu at most\n", N + 3,
	       (double)total / N, (unsigned long long)worst);
	/* a walk of the slot would look at N + 3 each time */
	assert_true(total <= 3 * N);
	assert_true(worst <= 16);
	for (unsigned k = 0; k < 3; k++)
		dlg_unref(extra[k]);
	for (unsigned i = 0; i < N; i++)
		dlg_unref(e.c[i]);
	down(&e);
}

/* One Call-ID, a new From tag each time: distinct dialogs (RFC 3261),
 * the other way to fill one chain; the chains are keyed by the caller's
 * tag too, so they spread, and each is found, in both directions. */
static void test_one_callid_many_tags(void **state)
{
	static struct env e;
	struct dlg_slot *s;
	uint32_t *seen, used = 0;

	(void)state;
	up(&e);
	for (unsigned i = 0; i < N; i++) {
		colliding(0, e.cid[i]);
		snprintf(e.tag[i], sizeof(e.tag[i]), "ft%u", i);
		assert_int_equal(manage(&e, i, &e.c[i]), DLG_RC_CREATED);
	}
	s = &e.t->slots[dlg_h_entry(e.c[0])];
	seen = calloc(s->nb, sizeof(*seen));
	assert_non_null(seen);
	for (unsigned i = 0; i < N; i++)
		used += !seen[dlg_idx_cid_bucket(e.t, s, sip_str_c(e.cid[i]),
						 sip_str_c(e.tag[i]))]++;
	free(seen);
	assert_true(used >= N / 8);
	for (unsigned i = 0; i < N; i++) {
		struct dlg_cell *x, *cells[2];
		enum dlg_dir d;

		/* from the caller: From tag = caller tag */
		x = dlg_lookup_sip(e.t, sip_str_c(e.cid[i]),
				   sip_str_c(e.tag[i]), sip_str_c("x"), &d);
		assert_ptr_equal(x, e.c[i]);
		assert_int_equal(d, DLG_DIR_DOWNSTREAM);
		dlg_unref(x);
		/* from the callee before its tag is known: To tag = caller's */
		x = dlg_lookup_sip(e.t, sip_str_c(e.cid[i]), sip_str_c("y"),
				   sip_str_c(e.tag[i]), &d);
		assert_ptr_equal(x, e.c[i]);
		assert_int_equal(d, DLG_DIR_UPSTREAM);
		dlg_unref(x);
		assert_int_equal(dlg_lookup_callid(e.t, sip_str_c(e.cid[i]),
						   sip_str_c(e.tag[i]), cells,
						   2), 1);
		assert_ptr_equal(cells[0], e.c[i]);
		dlg_unref(cells[0]);
	}
	/* by Call-ID alone (the RPCs): all of them, lowest h_id first */
	{
		struct dlg_cell *cells[4];

		assert_int_equal(dlg_lookup_callid(e.t, sip_str_c(e.cid[0]),
						   SIP_STR_NULL, cells, 4), 4);
		for (int k = 0; k < 4; k++) {
			assert_ptr_equal(cells[k], e.c[k]);
			dlg_unref(cells[k]);
		}
	}
	for (unsigned i = 0; i < N; i++) {
		dlg_discard(e.c[i]);
		dlg_unref(e.c[i]);
	}
	down(&e);
}

/* dlg_load() puts dialogs in under their stored ids through the same
 * index: a duplicate id is refused, the others are found. */
static void test_load_ids(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct dlg_cell *c[3];
	uint32_t he;

	(void)state;
	assert_non_null(e);
	up(e);
	colliding(3, e->cid[0]);
	he = dlg_hash_entry(sip_str_c(e->cid[0]), 1024);
	for (int i = 0; i < 3; i++) {
		struct dlg_load ld;

		memset(&ld, 0, sizeof(ld));
		colliding((unsigned)i, e->cid[i]);
		ld.callid = sip_str_c(e->cid[i]);
		ld.from_tag = sip_str_c("lt");
		ld.caller_contact = sip_str_c("sip:a@10.0.0.1");
		ld.h_entry = he;
		ld.h_id = 1000u + (unsigned)i;
		ld.state = DLG_STATE_CONFIRMED;
		ld.timeout = (int64_t)time(NULL) + 3600;
		assert_int_equal(dlg_load(e->t, &ld, &c[i]), 0);
		dlg_load_done(c[i]);
	}
	{
		struct dlg_load ld;
		struct dlg_cell *x = NULL;

		memset(&ld, 0, sizeof(ld));
		ld.callid = sip_str_c(e->cid[1]);
		ld.from_tag = sip_str_c("other");
		ld.caller_contact = sip_str_c("sip:a@10.0.0.1");
		ld.h_entry = he;
		ld.h_id = 1001;
		ld.state = DLG_STATE_CONFIRMED;
		assert_int_equal(dlg_load(e->t, &ld, &x), -EEXIST);
	}
	for (int i = 0; i < 3; i++) {
		struct dlg_cell *x = dlg_lookup_id(e->t, he, 1000u + (unsigned)i);

		assert_ptr_equal(x, c[i]);
		dlg_unref(x);
		dlg_unref(c[i]);
	}
	down(e);
	free(e);
}

/* dlg_table_load(): what limits: counts, states 1-4 and 1-2. */
static void test_load_counts(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct dlg_reply r = { .code = 180 };
	uint64_t live, early;

	(void)state;
	assert_non_null(e);
	up(e);
	for (unsigned i = 0; i < 3; i++) {
		colliding(i, e->cid[i]);
		snprintf(e->tag[i], sizeof(e->tag[i]), "t%u", i);
		assert_int_equal(manage(e, i, &e->c[i]), DLG_RC_CREATED);
	}
	dlg_table_load(e->t, &live, &early);
	assert_int_equal(live, 3);
	assert_int_equal(early, 3);
	r.to_tag = sip_str_c("b1");
	dlg_on_reply(e->c[0], &r);		/* state 2: still early */
	r.code = 200;
	r.contact = sip_str_c("sip:b@10.0.0.2");
	dlg_on_reply(e->c[1], &r);		/* state 3 */
	dlg_table_load(e->t, &live, &early);
	assert_int_equal(live, 3);
	assert_int_equal(early, 2);
	r.code = 486;
	dlg_on_reply(e->c[2], &r);		/* failed: state 5 */
	dlg_discard(e->c[0]);
	dlg_table_load(e->t, &live, &early);
	assert_int_equal(live, 1);
	assert_int_equal(early, 0);
	dlg_discard(e->c[1]);
	dlg_table_load(e->t, &live, &early);
	assert_int_equal(live, 0);
	assert_int_equal(early, 0);
	for (unsigned i = 0; i < 3; i++)
		dlg_unref(e->c[i]);
	down(e);
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_colliding_callids),
		cmocka_unit_test(test_callid_only_lookup_no_slot_walk),
		cmocka_unit_test(test_one_callid_many_tags),
		cmocka_unit_test(test_load_ids),
		cmocka_unit_test(test_load_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
