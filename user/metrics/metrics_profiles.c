/*
 * metrics_profiles.c - profile sizes: per profile (every value), how
 * many values a with-value profile holds, and the members of its
 * max_values_per_profile biggest values.
 *
 * The values are whatever the rules put there ($fU, a header...), so
 * they come from the network: escaped by prom_text.c, and a value
 * longer than DLG_PROFILE_TOP_VALUE_MAX bytes is exported as its prefix
 * plus "...#HASH".  Two values that still render alike (an invalid byte
 * shown as \xHH beside a value holding those four characters) would be
 * two samples of one series, which Prometheus refuses: only the bigger
 * one is written.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialog/dlg.h"
#include "metrics/metrics_int.h"
#include "metrics/prom_text.h"

struct rendered {
	size_t off, len;	/* in the scratch buffer */
	size_t idx;		/* in the snapshot (biggest first) */
};

/* qsort_r comparator; @base: the scratch buffer. */
static int rendered_cmp(const void *a, const void *b, void *base)
{
	const struct rendered *x = a, *y = b;
	const char *scratch_base = base;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(scratch_base + x->off, scratch_base + y->off, n);

	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The label value of one kept value, as written between the quotes. */
static void render(struct obuf *o, const struct dlg_profile_top *t)
{
	char tail[32];

	prom_label_value(o, t->value, t->len);
	if (t->len < t->full_len) {
		snprintf(tail, sizeof(tail), "...#%08x", (unsigned)t->hash);
		ob_str(o, tail);
	}
}

/* The per-value samples of one profile, duplicates dropped. */
static void value_samples(struct obuf *o, const char *profile,
			  const struct dlg_profile_snap *s)
{
	struct obuf sc;
	struct rendered *r;
	bool *skip;

	if (!s->n_top)
		return;
	ob_init(&sc, OBUF_UNLIMITED);
	r = calloc(s->n_top, sizeof(*r));
	skip = calloc(s->n_top, sizeof(*skip));
	if (!r || !skip)
		goto out;
	for (size_t i = 0; i < s->n_top; i++) {
		r[i].off = sc.len;
		render(&sc, &s->top[i]);
		r[i].len = sc.len - r[i].off;
		r[i].idx = i;
	}
	if (sc.overflow)
		goto out;
	qsort_r(r, s->n_top, sizeof(*r), rendered_cmp, sc.buf);
	for (size_t i = 1; i < s->n_top; i++)
		if (r[i].len == r[i - 1].len &&
		    !memcmp(sc.buf + r[i].off, sc.buf + r[i - 1].off, r[i].len))
			skip[r[i].idx] = true;	/* the smaller of the two */
	for (size_t i = 0; i < s->n_top; i++) {
		char tail[32];
		struct obuf lv;
		struct prom_label l[2] = {
			{ "profile", profile, strlen(profile) },
			{ "value", NULL, 0 },
		};

		if (skip[i])
			continue;
		/* The raw value is what prom_sample escapes; a cut one gets
		 * its hash appended (plain ASCII, nothing to escape). */
		ob_init(&lv, OBUF_UNLIMITED);
		ob_mem(&lv, s->top[i].value, s->top[i].len);
		if (s->top[i].len < s->top[i].full_len) {
			snprintf(tail, sizeof(tail), "...#%08x",
				 (unsigned)s->top[i].hash);
			ob_str(&lv, tail);
		}
		l[1].value = lv.buf ? lv.buf : "";
		l[1].len = lv.len;
		prom_sample_i64(o, "sipdlg_profile_value_size", l, 2,
				(int64_t)s->top[i].count);
		ob_free(&lv);
	}
out:
	ob_free(&sc);
	free(r);
	free(skip);
}

void metrics_profiles(const struct metrics_sources *src, struct obuf *o)
{
	size_t n = dlg_profile_count(src->dlg);
	struct dlg_profile_snap *snaps;

	if (!n)
		return;
	snaps = calloc(n, sizeof(*snaps));
	if (!snaps)
		return;
	for (size_t i = 0; i < n; i++)
		if (dlg_profile_snapshot(dlg_profile_at(src->dlg, i),
					 src->max_values_per_profile,
					 &snaps[i]) != 0)
			snaps[i] = (struct dlg_profile_snap){ 0 };

	prom_family(o, "sipdlg_profile_size", "gauge",
		    "Dialogs in the profile, every value together "
		    "(get_profile_size).");
	for (size_t i = 0; i < n; i++) {
		const char *p = dlg_profile_name(dlg_profile_at(src->dlg, i));
		struct prom_label l = { "profile", p, strlen(p) };

		prom_sample_i64(o, "sipdlg_profile_size", &l, 1,
				(int64_t)snaps[i].total);
	}
	prom_family(o, "sipdlg_profile_values", "gauge",
		    "Distinct values a profile with value holds.");
	for (size_t i = 0; i < n; i++) {
		struct dlg_profile *pr = dlg_profile_at(src->dlg, i);
		const char *p = dlg_profile_name(pr);
		struct prom_label l = { "profile", p, strlen(p) };

		if (dlg_profile_has_value(pr))
			prom_sample_i64(o, "sipdlg_profile_values", &l, 1,
					(int64_t)snaps[i].nvals);
	}
	prom_family(o, "sipdlg_profile_value_size", "gauge",
		    "Dialogs in the profile with this value, for its "
		    "metrics.max_values_per_profile biggest values.");
	for (size_t i = 0; i < n; i++)
		value_samples(o, dlg_profile_name(dlg_profile_at(src->dlg, i)),
			      &snaps[i]);
	for (size_t i = 0; i < n; i++)
		dlg_profile_snap_free(&snaps[i]);
	free(snaps);
}
