/*
 * print.c - results as aligned text for people (--json skips all this).
 *
 * A small table type computes each column's width over every cell (in
 * UTF-8 characters) before printing; numbers are right-aligned.  The
 * generic printer handles whatever a method returns: a table for an array
 * of flat objects, "key: value" lines for an object (nested ones indented).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sipdlgctl.h"

/* --- cells ------------------------------------------------------------------ */

/* A JSON value as one cell of text; malloc'd. */
static char *cell_text(const json_t *v)
{
	char *s = NULL;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return strdup(json_string_value(v));
	case JSON_INTEGER:
		if (asprintf(&s, "%" JSON_INTEGER_FORMAT,
			     json_integer_value(v)) < 0)
			s = NULL;
		return s;
	case JSON_REAL:
		if (asprintf(&s, "%g", json_real_value(v)) < 0)
			s = NULL;
		return s;
	case JSON_TRUE:
		return strdup("true");
	case JSON_FALSE:
		return strdup("false");
	case JSON_NULL:
		return strdup("-");
	default:
		return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	}
}

/* Display width: UTF-8 characters, not bytes. */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void pad(FILE *out, size_t n)
{
	while (n--)
		fputc(' ', out);
}

/* --- tables ------------------------------------------------------------------ */

struct table {
	size_t ncols, nrows, cap;	/* rows of ncols cells; row 0 = header */
	char **cells;
	bool *right;			/* per column: right-align */
};

static struct table *table_alloc(size_t ncols)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ncols = ncols;
	t->right = calloc(ncols ? ncols : 1, sizeof(*t->right));
	if (!t->right) {
		free(t);
		return NULL;
	}
	return t;
}

static void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->right);
	free(t);
}

/* Append a row and return its cells (NULL-filled), or NULL. */
static char **table_row(struct table *t)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cells, cap * t->ncols * sizeof(*c));

		if (!c)
			return NULL;
		t->cells = c;
		t->cap = cap;
	}
	memset(&t->cells[t->nrows * t->ncols], 0,
	       t->ncols * sizeof(*t->cells));
	return &t->cells[t->nrows++ * t->ncols];
}

/* Print with columns two spaces apart; a row of all NULL is a blank line. */
static void table_print(FILE *out, const struct table *t)
{
	size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof(*w));

	if (!w)
		return;
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t l = s ? text_width(s) : 0;

			if (l > w[c])
				w[c] = l;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		char **row = &t->cells[r * t->ncols];
		size_t last = 0;
		bool blank = true;

		for (size_t c = 0; c < t->ncols; c++)
			if (row[c]) {
				blank = false;
				if (*row[c])
					last = c;
			}
		if (blank) {
			fputc('\n', out);
			continue;
		}
		for (size_t c = 0; c <= last; c++) {
			const char *s = row[c] ? row[c] : "";
			size_t l = text_width(s);
			/* Headers follow their column's alignment. */
			if (c > 0)
				fputs("  ", out);
			if (t->right[c])
				pad(out, w[c] - l);
			fputs(s, out);
			if (!t->right[c] && c < last)
				pad(out, w[c] - l);
		}
		fputc('\n', out);
	}
	free(w);
}

/* --- generic ------------------------------------------------------------------ */

static bool is_scalar(const json_t *v)
{
	return !json_is_object(v) && !json_is_array(v);
}

static bool is_flat_object(const json_t *v)
{
	const char *k;
	json_t *m;

	if (!json_is_object(v))
		return false;
	json_object_foreach((json_t *)v, k, m)
		if (!is_scalar(m))
			return false;
	return true;
}

/* A table of an array of flat objects; columns = keys in first-seen order. */
static void print_object_table(FILE *out, json_t *arr)
{
	json_t *cols = json_array(), *item, *m;
	struct table *t;
	const char *k;
	size_t i, c;

	json_array_foreach(arr, i, item) {
		json_object_foreach(item, k, m) {
			bool seen = false;

			for (c = 0; c < json_array_size(cols) && !seen; c++)
				seen = !strcmp(json_string_value(
						json_array_get(cols, c)), k);
			if (!seen)
				json_array_append_new(cols, json_string(k));
		}
	}
	t = table_alloc(json_array_size(cols));
	if (!t || !table_row(t))
		goto out;
	for (c = 0; c < t->ncols; c++) {
		const char *name = json_string_value(json_array_get(cols, c));
		char *h = strdup(name);

		for (char *p = h; p && *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		t->cells[c] = h;
		t->right[c] = true;
	}
	json_array_foreach(arr, i, item) {
		char **row = table_row(t);

		if (!row)
			break;
		for (c = 0; c < t->ncols; c++) {
			json_t *v = json_object_get(item, json_string_value(
						json_array_get(cols, c)));

			row[c] = v ? cell_text(v) : strdup("");
			/* A column is numeric only if every value is. */
			if (v && !json_is_number(v))
				t->right[c] = false;
		}
	}
	table_print(out, t);
out:
	table_free(t);
	json_decref(cols);
}

static void print_value(FILE *out, int indent, json_t *v);

/* An inline item: a scalar, or a flat object as "k=v,k2=v2". */
static bool is_inline(const json_t *v)
{
	return is_scalar(v) || is_flat_object(v);
}

static void print_inline(FILE *out, json_t *v)
{
	const char *k;
	json_t *m;
	bool first = true;
	char *s;

	if (!json_is_object(v)) {
		s = cell_text(v);
		fputs(s ? s : "?", out);
		free(s);
		return;
	}
	json_object_foreach(v, k, m) {
		s = cell_text(m);
		fprintf(out, "%s%s=%s", first ? "" : ",", k, s ? s : "?");
		free(s);
		first = false;
	}
}

/* "key: value" lines, keys padded to one width; nested values indented. */
static void print_object(FILE *out, int indent, json_t *obj)
{
	size_t kw = 0;
	const char *k;
	json_t *m;

	json_object_foreach(obj, k, m)
		if (text_width(k) > kw)
			kw = text_width(k);
	json_object_foreach(obj, k, m) {
		bool inline_arr = json_is_array(m);
		size_t i;
		json_t *e;

		json_array_foreach(m, i, e)
			inline_arr &= is_inline(e);
		pad(out, (size_t)indent);
		fprintf(out, "%s:", k);
		if (inline_arr) {
			/* [] prints as "-"; ["a",{"b":"c"}] as "a, b=c". */
			pad(out, kw - text_width(k) + 1);
			if (json_array_size(m) == 0)
				fputc('-', out);
			json_array_foreach(m, i, e) {
				if (i)
					fputs(", ", out);
				print_inline(out, e);
			}
			fputc('\n', out);
		} else if (is_scalar(m) ||
			   (json_is_object(m) && json_object_size(m) == 0)) {
			char *s = cell_text(m);

			pad(out, kw - text_width(k) + 1);
			fprintf(out, "%s\n", s ? s : "?");
			free(s);
		} else {
			fputc('\n', out);
			print_value(out, indent + 2, m);
		}
	}
}

static void print_value(FILE *out, int indent, json_t *v)
{
	size_t i;
	json_t *e;
	char *s;

	if (json_is_object(v)) {
		print_object(out, indent, v);
		return;
	}
	if (json_is_array(v)) {
		bool flat = json_array_size(v) > 0;
		bool prev_block = false;

		json_array_foreach(v, i, e)
			flat &= is_flat_object(e);
		if (flat && indent == 0) {
			print_object_table(out, v);
			return;
		}
		/* Scalars one per line; objects as blocks, blank-separated. */
		json_array_foreach(v, i, e) {
			bool block = json_is_object(e) && json_object_size(e);

			if (i > 0 && (block || prev_block))
				fputc('\n', out);
			prev_block = block;
			if (block) {
				print_object(out, indent, e);
				continue;
			}
			pad(out, (size_t)indent);
			if (json_is_array(e))
				s = json_dumps(e, JSON_COMPACT);
			else
				s = cell_text(e);
			fprintf(out, "%s\n", s ? s : "?");
			free(s);
		}
		return;
	}
	s = cell_text(v);
	pad(out, (size_t)indent);
	fprintf(out, "%s\n", s ? s : "?");
	free(s);
}

void print_generic(FILE *out, json_t *result)
{
	if (json_is_object(result) && json_object_size(result) == 0) {
		fputs("OK\n", out);
		return;
	}
	if (json_is_array(result) && json_array_size(result) == 0) {
		fputs("(none)\n", out);
		return;
	}
	print_value(out, 0, result);
}

/* --- stats --------------------------------------------------------------------- */

/* stats.fetch: {"group.name": N}; grouped, groups in first-seen order. */
void print_stats(FILE *out, json_t *result)
{
	json_t *groups = json_array(), *m, *g;
	struct table *t = table_alloc(2);
	const char *k;
	size_t i;

	if (!json_is_object(result)) {
		print_generic(out, result);
		goto out;
	}
	if (!groups || !t)
		goto out;
	json_object_foreach(result, k, m) {
		size_t glen = strcspn(k, ".");
		bool seen = false;

		json_array_foreach(groups, i, g)
			seen |= strlen(json_string_value(g)) == glen &&
				!strncmp(json_string_value(g), k, glen);
		if (!seen)
			json_array_append_new(groups, json_stringn(k, glen));
	}
	char **hdr = table_row(t);
	if (!hdr)
		goto out;
	hdr[0] = strdup("NAME");
	hdr[1] = strdup("VALUE");
	t->right[1] = true;
	json_array_foreach(groups, i, g) {
		const char *gname = json_string_value(g);
		size_t glen = strlen(gname);

		if (i > 0)
			table_row(t);	/* blank line between groups */
		json_object_foreach(result, k, m) {
			char **row;

			if (strcspn(k, ".") != glen || strncmp(k, gname, glen))
				continue;
			row = table_row(t);
			if (!row)
				break;
			row[0] = strdup(k);
			row[1] = cell_text(m);
		}
	}
	if (t->nrows == 1)
		fputs("(no statistics)\n", out);
	else
		table_print(out, t);
out:
	table_free(t);
	json_decref(groups);
}

/* --- xdp ------------------------------------------------------------------------- */

static char *member_text(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return v ? cell_text(v) : strdup("-");
}

static json_int_t member_int(json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

/* "maps" of xdp.status as key/value text: fill, dialogs outside the
 * kernel, failures.  Returns a malloc'ed string or NULL per line. */
static char *maps_line(json_t *m, int line)
{
	json_t *f = json_object_get(m, "insert_failed");
	json_t *ids = json_object_get(m, "not_in_kernel_ids");
	char *s = NULL;
	size_t len = 0, i;
	FILE *o;
	json_t *v;

	o = open_memstream(&s, &len);
	if (!o)
		return NULL;
	switch (line) {
	case 0:
		fprintf(o, "%" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT,
			member_int(m, "dialogs"), member_int(m, "capacity"));
		break;
	case 1:
		fprintf(o,
			"%" JSON_INTEGER_FORMAT " (in overflow %" JSON_INTEGER_FORMAT
			" of %" JSON_INTEGER_FORMAT ", unlisted %" JSON_INTEGER_FORMAT
			")",
			member_int(m, "not_in_kernel"),
			member_int(m, "in_overflow"),
			member_int(m, "overflow_capacity"),
			member_int(m, "unlisted"));
		json_array_foreach(ids, i, v)
			fprintf(o, "%s%s", i ? ", " : ": ", json_string_value(v));
		if ((json_int_t)json_array_size(ids) <
		    member_int(m, "not_in_kernel"))
			fputs(", ...", o);
		break;
	case 2:
		fprintf(o, "%s", json_is_true(json_object_get(m, "degraded")) ?
					 "yes (no request is dropped for an "
					 "unknown dialog)" :
					 "no");
		if (member_int(m, "callids_missing"))
			fprintf(o, "; %" JSON_INTEGER_FORMAT
				   " dialogs without a callids entry",
				member_int(m, "callids_missing"));
		break;
	default:
		fprintf(o,
			"dialogs %" JSON_INTEGER_FORMAT ", overflow %" JSON_INTEGER_FORMAT
			", callids %" JSON_INTEGER_FORMAT "; moved in later %" JSON_INTEGER_FORMAT,
			member_int(f, "dialogs"), member_int(f, "overflow"),
			member_int(f, "callids"), member_int(m, "moved_in"));
		break;
	}
	fclose(o);
	return s;
}

void print_xdp(FILE *out, json_t *r)
{
	json_t *prog = json_object_get(r, "program");
	json_t *ifs = json_object_get(r, "interfaces");
	json_t *ctrs = json_object_get(r, "counters");
	json_t *ports = json_object_get(r, "sip_ports");
	json_t *enabled = json_object_get(r, "enabled");
	struct table *t;
	const char *k;
	json_t *v;
	size_t i;

	if (!json_is_object(r)) {
		print_generic(out, r);
		return;
	}
	if (!prog && json_object_get(r, "generation")) {
		/* xdp rotate-key */
		fprintf(out, "cookie MAC key rotated: generation %" JSON_INTEGER_FORMAT
			", program id %" JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT
			" dialogs tight-matched (no accepted MAC)\n",
			json_integer_value(json_object_get(r, "generation")),
			json_integer_value(json_object_get(r, "program_id")),
			json_integer_value(json_object_get(
				r, "dialogs_tight_matched")));
		return;
	}
	t = table_alloc(2);
	if (!t)
		return;
	char **row;
#define KV(key, val)                                 \
	do {                                         \
		row = table_row(t);                  \
		if (row) {                           \
			row[0] = strdup(key);        \
			row[1] = (val);              \
		}                                    \
	} while (0)
	if (json_is_boolean(enabled))
		KV("fast path:", strdup(json_is_true(enabled) ? "enabled" :
								"disabled"));
	if (json_is_object(prog)) {
		char *s = NULL;
		json_t *id = json_object_get(prog, "id");
		json_t *name = json_object_get(prog, "name");

		if (asprintf(&s, "%s (id %" JSON_INTEGER_FORMAT ")",
			     json_is_string(name) ? json_string_value(name) : "?",
			     json_integer_value(id)) < 0)
			s = NULL;
		KV("program:", s);
	}
	KV("pin path:", member_text(r, "pin_path"));
	KV("unknown dialog:", member_text(r, "unknown_dialog"));
	if (json_is_array(ports)) {
		char *s = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&s, &len);

		if (m) {
			json_array_foreach(ports, i, v)
				fprintf(m, "%s%" JSON_INTEGER_FORMAT,
					i ? ", " : "", json_integer_value(v));
			fclose(m);
		}
		KV("sip ports:", s);
	}
	if (json_is_object(json_object_get(r, "maps"))) {
		json_t *m = json_object_get(r, "maps");

		KV("kernel dialogs:", maps_line(m, 0));
		KV("not in kernel:", maps_line(m, 1));
		KV("degraded:", maps_line(m, 2));
		KV("failed inserts:", maps_line(m, 3));
	}
	{
		json_t *mac = json_object_get(r, "cookie_mac");
		char *s = NULL;

		if (json_is_object(mac) &&
		    json_is_true(json_object_get(mac, "enabled"))) {
			json_t *kf = json_object_get(mac, "key_file");

			if (asprintf(&s, "on (key generation %" JSON_INTEGER_FORMAT
				     "%s, key file %s)",
				     json_integer_value(json_object_get(
					     mac, "generation")),
				     json_is_true(json_object_get(
					     mac, "previous_key")) ?
					     ", previous key accepted" :
					     "",
				     json_is_string(kf) ?
					     json_string_value(kf) :
					     "?") < 0)
				s = NULL;
			KV("cookie mac:", s);
		} else if (json_is_object(mac)) {
			KV("cookie mac:", strdup("off"));
		}
	}
	{
		json_t *rl = json_object_get(r, "relay");
		char *s = NULL, *ms = NULL;
		size_t len = 0;
		FILE *m;

		if (json_is_object(rl) &&
		    json_is_true(json_object_get(rl, "enabled"))) {
			m = open_memstream(&ms, &len);
			if (m) {
				json_array_foreach(json_object_get(rl, "methods"),
						   i, v)
					fprintf(m, "%s%s", i ? ", " : "",
						json_string_value(v));
				if (json_is_true(json_object_get(rl, "ack")))
					fprintf(m, "%sthe ACK of the 2xx",
						json_array_size(json_object_get(
							rl, "methods")) ?
							", " :
							"");
				fclose(m);
			}
			if (asprintf(&s, "on for %s; %" JSON_INTEGER_FORMAT
				     " dialogs with next hops (written %"
				     JSON_INTEGER_FORMAT ", removed %"
				     JSON_INTEGER_FORMAT ", directions left to "
				     "the controller %" JSON_INTEGER_FORMAT ")",
				     ms ? ms : "?",
				     member_int(rl, "dialogs"),
				     member_int(rl, "hops_written"),
				     member_int(rl, "hops_removed"),
				     member_int(rl, "directions_not_relayed")) < 0)
				s = NULL;
			free(ms);
			KV("kernel relay:", s);
		} else if (json_is_object(rl)) {
			KV("kernel relay:", strdup("off"));
		}
	}
#undef KV
	table_print(out, t);
	table_free(t);

	if (json_is_array(ifs)) {
		fputc('\n', out);
		if (json_array_size(ifs) == 0) {
			fputs("no interfaces attached\n", out);
		} else {
			static const char *const hdr[] = {
				"IFNAME", "IFINDEX", "MODE", "PROG_ID",
				"LINK_ID" };

			t = table_alloc(5);
			row = t ? table_row(t) : NULL;
			for (size_t c = 0; row && c < 5; c++)
				row[c] = strdup(hdr[c]);
			if (t)
				t->right[1] = t->right[3] = t->right[4] = true;
			json_array_foreach(ifs, i, v) {
				json_t *pid = json_object_get(v, "prog_id");

				row = t ? table_row(t) : NULL;
				if (!row)
					break;
				row[0] = member_text(v, "ifname");
				row[1] = member_text(v, "ifindex");
				row[2] = member_text(v, "mode");
				row[3] = pid ? cell_text(pid) :
					       member_text(prog, "id");
				row[4] = member_text(v, "link_id");
			}
			if (t)
				table_print(out, t);
			table_free(t);
		}
	}
	if (json_is_object(ctrs) && json_object_size(ctrs) > 0) {
		fputc('\n', out);
		t = table_alloc(3);
		row = t ? table_row(t) : NULL;
		if (row) {
			row[0] = strdup("REASON");
			row[1] = strdup("PACKETS");
			row[2] = strdup("BYTES");
			t->right[1] = t->right[2] = true;
		}
		json_object_foreach(ctrs, k, v) {
			row = t ? table_row(t) : NULL;
			if (!row)
				break;
			row[0] = strdup(k);
			row[1] = member_text(v, "packets");
			row[2] = member_text(v, "bytes");
		}
		if (t)
			table_print(out, t);
		table_free(t);
	}
}

/* --- version, uptime ------------------------------------------------------------- */

void print_version(FILE *out, json_t *r)
{
	json_t *name = json_object_get(r, "name");
	json_t *ver = json_object_get(r, "version");
	json_t *comp = json_object_get(r, "compiled");

	if (!json_is_string(ver)) {
		print_generic(out, r);
		return;
	}
	fprintf(out, "%s %s", json_is_string(name) ? json_string_value(name) :
						      "sipdlg",
		json_string_value(ver));
	if (json_is_string(comp))
		fprintf(out, " (compiled %s)", json_string_value(comp));
	fputc('\n', out);
}

void print_uptime(FILE *out, json_t *r)
{
	json_t *up = json_object_get(r, "uptime");
	json_t *since = json_object_get(r, "up_since");
	long long s;
	char when[64] = "";

	if (!json_is_integer(up)) {
		print_generic(out, r);
		return;
	}
	s = (long long)json_integer_value(up);
	fputs("up ", out);
	if (s >= 86400)
		fprintf(out, "%lldd ", s / 86400);
	fprintf(out, "%02lld:%02lld:%02lld", s % 86400 / 3600, s % 3600 / 60,
		s % 60);
	if (json_is_integer(since)) {
		time_t t = (time_t)json_integer_value(since);
		struct tm tm;

		if (localtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
		fprintf(out, " (%lld s), since %s", s, when);
	}
	fputc('\n', out);
}

/* --- dialogs ----------------------------------------------------------------- */

static const char *const state_names[] = { "?", "unconfirmed", "early",
					   "answered", "confirmed", "deleted" };

/*
 * dlg.list / dlg.dlg_list / dlg.profile_list: one line per dialog with
 * what an operator looks for first; --json has every field.
 */
void print_dialogs(FILE *out, json_t *arr)
{
	static const char *const hdr[] = { "H_ENTRY:H_ID", "STATE", "DURATION",
					   "CALL-ID", "FROM", "TO", "PROFILES" };
	struct table *t;
	size_t i;
	json_t *d;

	if (!json_is_array(arr)) {
		print_generic(out, arr);
		return;
	}
	if (json_array_size(arr) == 0) {
		fprintf(out, "no dialogs\n");
		return;
	}
	t = table_alloc(7);
	if (!t)
		return;
	t->right[2] = true;
	char **row = table_row(t);
	for (size_t c = 0; c < 7; c++)
		row[c] = strdup(hdr[c]);
	json_array_foreach(arr, i, d) {
		json_int_t st = json_integer_value(json_object_get(d, "state"));
		json_t *profs = json_object_get(d, "profiles"), *p;
		char buf[64], *pl = NULL;
		size_t k, len = 0;
		FILE *ps = open_memstream(&pl, &len);

		json_array_foreach(profs, k, p) {
			if (k)
				fputc(',', ps);
			if (json_is_string(p)) {
				fputs(json_string_value(p), ps);
			} else {
				const char *name;
				json_t *val;
				json_object_foreach(p, name, val)
					fprintf(ps, "%s=%s", name,
						json_string_value(val));
			}
		}
		fclose(ps);
		row = table_row(t);
		if (!row) {
			free(pl);
			break;
		}
		snprintf(buf, sizeof(buf), "%lld:%lld",
			 (long long)json_integer_value(json_object_get(d, "h_entry")),
			 (long long)json_integer_value(json_object_get(d, "h_id")));
		row[0] = strdup(buf);
		row[1] = strdup(st >= 1 && st <= 5 ? state_names[st] : "?");
		snprintf(buf, sizeof(buf), "%llds",
			 (long long)json_integer_value(json_object_get(d, "duration")));
		row[2] = strdup(buf);
		row[3] = member_text(d, "call-id");
		row[4] = member_text(d, "from_uri");
		row[5] = member_text(d, "to_uri");
		row[6] = pl && *pl ? pl : (free(pl), strdup("-"));
	}
	table_print(out, t);
	table_free(t);
}
