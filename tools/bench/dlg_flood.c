/*
 * dlg_flood.c - the hash-flooding attack on the dialog table, without a
 * network: N initial INVITEs whose Call-IDs all fall into one slot of
 * Kamailio's core_hash (permutations of the 4-byte groups of one 36-byte
 * Call-ID: core_hash adds the groups, so their order does not count)
 * against N INVITEs with random Call-IDs.  Each INVITE is driven through
 * the dialog core as the proxy drives it for a flood answered only with
 * 180 (dlg_manage with spiral detection, the 180, the cookie looked up
 * once as an in-dialog request would) and then looked up by Call-ID.
 * A third set sends one Call-ID with a new From tag each time (distinct
 * dialogs by RFC 3261, all in one Call-ID's chain).
 * Prints the process CPU seconds of each set and their ratio: with
 * indexes an attacker cannot aim at, colliding ones cost about what random
 * ones do.  A benchmark that prints figures, not a timed test.
 *
 *   make build/tools/dlg_flood && build/tools/dlg_flood [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timer.h"
#include "dialog/dlg.h"

#define CID_LEN 36
#define GROUPS (CID_LEN / 4)

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The next permutation of @a[0..n) in lexicographic order; 0 after the
 * last one. */
static int next_perm(int *a, int n)
{
	int i = n - 2, j = n - 1, x;

	while (i >= 0 && a[i] >= a[i + 1])
		i--;
	if (i < 0)
		return 0;
	while (a[j] <= a[i])
		j--;
	x = a[i], a[i] = a[j], a[j] = x;
	for (j = n - 1, i++; i < j; i++, j--)
		x = a[i], a[i] = a[j], a[j] = x;
	return 1;
}

/* @n Call-IDs of CID_LEN bytes (each NUL-terminated in a CID_LEN+1 row):
 * colliding ones (@perm) or random ones. */
static char *make_callids(unsigned n, int perm)
{
	static const char groups[GROUPS][5] = { "a84b", "4c76", "e667", "1071",
						"9c3d", "@atk", ".exa", "mple",
						".org" };
	char *v = malloc((size_t)n * (CID_LEN + 1));
	int idx[GROUPS];

	if (!v)
		abort();
	for (int g = 0; g < GROUPS; g++)
		idx[g] = g;
	for (unsigned i = 0; i < n; i++) {
		char *p = v + (size_t)i * (CID_LEN + 1);

		if (perm > 0) {
			for (int g = 0; g < GROUPS; g++)
				memcpy(p + 4 * g, groups[idx[g]], 4);
			if (!next_perm(idx, GROUPS))
				abort();	/* 9! = 362880 is enough */
		} else if (perm < 0) {	/* one Call-ID for all */
			memcpy(p, "a84b4c76e66710719c3d@atk.example.org", CID_LEN);
		} else {
			for (int k = 0; k < CID_LEN; k++)
				p[k] = "0123456789abcdef"[rand() & 15];
		}
		p[CID_LEN] = '\0';
	}
	return v;
}

/* Distinct core_hash slots used by @n Call-IDs. */
static unsigned slots_used(const char *v, unsigned n, uint32_t size)
{
	unsigned char *seen = calloc(size, 1);
	unsigned k = 0;

	if (!seen)
		abort();
	for (unsigned i = 0; i < n; i++) {
		uint32_t e = dlg_hash_entry(
			sip_str_c(v + (size_t)i * (CID_LEN + 1)), size);

		k += !seen[e];
		seen[e] = 1;
	}
	free(seen);
	return k;
}

/* Create, answer with 180 and look up every Call-ID of @v in a fresh
 * table; the CPU seconds it took. */
static double run(struct tmr_service *ts, const char *v, unsigned n)
{
	struct dlg_config cfg;
	struct dlg_table *t;
	struct dlg_cell **cells = calloc(n, sizeof(*cells));
	double t0, t1;
	char tag[32];

	memset(&cfg, 0, sizeof(cfg));
	cfg.hash_size = 4096;
	cfg.rr_param = "did";
	cfg.detect_spirals = 1;
	if (!cells || dlg_table_alloc(&cfg, ts, NULL, &t))
		abort();
	t0 = cpu_s();
	for (unsigned i = 0; i < n; i++) {
		struct dlg_invite inv = { 0 };
		struct dlg_reply r = { 0 };
		struct dlg_cell *c;

		snprintf(tag, sizeof(tag), "ft%u", i);
		inv.callid = sip_str_c(v + (size_t)i * (CID_LEN + 1));
		inv.from_uri = sip_str_c("sip:a@atk.example.org");
		inv.from_tag = sip_str_c(tag);
		inv.to_uri = sip_str_c("sip:b@example.com");
		inv.req_uri = inv.to_uri;
		inv.contact = sip_str_c("sip:a@192.0.2.1");
		inv.socket = sip_str_c("udp:127.0.0.1:5060");
		inv.cseq = 1;
		if (dlg_manage(t, &inv, NULL, &c) != DLG_RC_CREATED)
			abort();
		r.code = 180;
		dlg_on_reply(c, &r);
		cells[i] = c;
		/* an in-dialog request's cookie */
		c = dlg_lookup_id(t, dlg_h_entry(c), dlg_h_id(c));
		if (c != cells[i])
			abort();
		dlg_unref(c);
	}
	for (unsigned i = 0; i < n; i++) {
		enum dlg_dir d;
		struct dlg_cell *c;

		snprintf(tag, sizeof(tag), "ft%u", i);
		c = dlg_lookup_sip(t, dlg_callid(cells[i]), sip_str_c(tag),
				   SIP_STR_NULL, &d);
		if (c != cells[i])
			abort();
		dlg_unref(c);
	}
	t1 = cpu_s();
	for (unsigned i = 0; i < n; i++)
		dlg_unref(cells[i]);
	free(cells);
	dlg_table_free(t);
	return t1 - t0;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 30000;
	struct tmr_service *ts = tmr_service_alloc();
	char *coll, *rnd, *same;
	double a, b, c;

	if (n == 0 || n > 362880 || !ts || tmr_service_start(ts)) {
		fprintf(stderr, "usage: dlg_flood [N], 1 <= N <= 362880\n");
		return 2;
	}
	srand(1);
	coll = make_callids(n, 1);
	rnd = make_callids(n, 0);
	same = make_callids(n, -1);
	printf("INVITEs per set: %u (hash_size 4096)\n", n);
	printf("core_hash slots used: colliding %u, random %u\n",
	       slots_used(coll, n, 4096), slots_used(rnd, n, 4096));
	(void)run(ts, rnd, n < 2000 ? n : 2000);	/* warm the allocator */
	b = run(ts, rnd, n);
	a = run(ts, coll, n);
	c = run(ts, same, n);
	printf("CPU random:    %.3f s\n", b);
	printf("CPU colliding: %.3f s\n", a);
	printf("CPU one Call-ID, distinct From tags: %.3f s\n", c);
	printf("colliding / random: %.2fx (target <= 1.5x)\n",
	       b > 0 ? a / b : 0.0);
	printf("one Call-ID / random: %.2fx\n", b > 0 ? c / b : 0.0);
	free(same);
	free(coll);
	free(rnd);
	tmr_service_free(ts);
	return 0;
}
