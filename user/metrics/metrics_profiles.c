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

/* One kept value: its label value in the raw buffer, and (for telling
 * duplicates apart) its escaped form in the escaped buffer. */
struct rendered {
	size_t raw, raw_len;
	size_t off, len;
	size_t idx;		/* in the snapshot (biggest first) */
};

/* qsort_r comparator on the escaped form; @base: the escaped buffer. */
static int rendered_cmp(const void *a, const void *b, void *base)
{
	const struct rendered *x = a, *y = b;
	const char *esc = base;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(esc + x->off, esc + y->off, n);

	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The label value of one kept value: its bytes, and "...#HASH" after a
 * cut one (plain ASCII: nothing to escape there). */
static void raw_value(struct obuf *o, const struct dlg_profile_top *t)
{
	char tail[32];

	ob_mem(o, t->value, t->len);
	if (t->len < t->full_len) {
		snprintf(tail, sizeof(tail), "...#%08x", (unsigned)t->hash);
		ob_str(o, tail);
	}
}

/* The per-value samples of one profile, duplicates dropped. */
static void value_samples(struct obuf *o, const char *profile,
			  const struct dlg_profile_snap *s)
{
	struct obuf raw, esc;
	struct rendered *r, *by_idx;
	bool *skip;

	if (!s->n_top)
		return;
	ob_init(&raw, OBUF_UNLIMITED);
	ob_init(&esc, OBUF_UNLIMITED);
	r = calloc(s->n_top, sizeof(*r));
	by_idx = calloc(s->n_top, sizeof(*by_idx));
	skip = calloc(s->n_top, sizeof(*skip));
	if (!r || !by_idx || !skip)
		goto out;
	for (size_t i = 0; i < s->n_top; i++) {
		r[i].idx = i;
		r[i].raw = raw.len;
		raw_value(&raw, &s->top[i]);
		r[i].raw_len = raw.len - r[i].raw;
		r[i].off = esc.len;
		prom_label_value(&esc, raw.buf ? raw.buf + r[i].raw : "",
				 r[i].raw_len);
		r[i].len = esc.len - r[i].off;
	}
	if (raw.overflow || esc.overflow)
		goto out;
	memcpy(by_idx, r, s->n_top * sizeof(*r));
	qsort_r(r, s->n_top, sizeof(*r), rendered_cmp, esc.buf);
	for (size_t i = 1; i < s->n_top; i++)
		if (r[i].len == r[i - 1].len &&
		    !memcmp(esc.buf + r[i].off, esc.buf + r[i - 1].off,
			    r[i].len))
			skip[r[i].idx] = true;	/* the smaller of the two */
	/* Back to the snapshot's order (biggest first) for the output. */
	for (size_t i = 0; i < s->n_top; i++) {
		struct prom_label l[2] = {
			{ "profile", profile, strlen(profile) },
			{ "value", NULL, 0 },
		};

		if (skip[i])
			continue;
		l[1].value = raw.buf + by_idx[i].raw;
		l[1].len = by_idx[i].raw_len;
		prom_sample_i64(o, "sipdlg_profile_value_size", l, 2,
				(int64_t)s->top[i].count);
	}
out:
	ob_free(&raw);
	ob_free(&esc);
	free(r);
	free(by_idx);
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
