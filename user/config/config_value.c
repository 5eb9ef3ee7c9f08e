/*
 * config_value.c - the loader's problem list, "did you mean", and typed
 * reads of YAML nodes.
 *
 * Problems are collected, not printed at once: the mapping step checks some
 * things after the fact (db_mode needs db_url, profiles in routes), and the
 * user should read them in file order.  cfg_errors_flush() sorts and prints
 * them as "FILE:LINE:COL: message".
 *
 * The suggestion distance is Damerau-Levenshtein in its "optimal string
 * alignment" form (insert, delete, substitute, swap two neighbours),
 * case-insensitive, so "hash_sise", "Hash_Size" and "hahs_size" all find
 * hash_size.  Key names are short, so the plain O(len^2) table is fine;
 * longer words are not compared at all.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_int.h"

#define CFG_MAX_MSGS 200

static void cfg_verror(struct cfg_ctx *ctx, unsigned line, unsigned col,
		       const char *fmt, va_list ap)
{
	char *text;

	if (ctx->n_msgs >= CFG_MAX_MSGS) {
		ctx->seq++;	/* counted, shown as "N more" */
		return;
	}
	if (ctx->n_msgs == ctx->cap_msgs) {
		size_t cap = ctx->cap_msgs ? 2 * ctx->cap_msgs : 16;
		struct cfg_msg *m = realloc(ctx->msgs, cap * sizeof(*m));

		if (!m) {
			ctx->oom = true;
			return;
		}
		ctx->msgs = m;
		ctx->cap_msgs = cap;
	}
	if (vasprintf(&text, fmt, ap) < 0) {
		ctx->oom = true;
		return;
	}
	ctx->msgs[ctx->n_msgs++] = (struct cfg_msg){
		.line = line, .col = col, .seq = ctx->seq++, .text = text,
	};
}

void cfg_error(struct cfg_ctx *ctx, const struct cfg_node *at,
	       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_verror(ctx, at ? at->line : 1, at ? at->col : 1, fmt, ap);
	va_end(ap);
}

void cfg_error_at(struct cfg_ctx *ctx, unsigned line, unsigned col,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_verror(ctx, line, col, fmt, ap);
	va_end(ap);
}

static int msg_cmp(const void *pa, const void *pb)
{
	const struct cfg_msg *a = pa, *b = pb;

	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

size_t cfg_errors_flush(struct cfg_ctx *ctx, FILE *out)
{
	size_t n = ctx->n_msgs;
	size_t more = ctx->seq > n ? ctx->seq - n : 0;

	if (n > 1)
		qsort(ctx->msgs, n, sizeof(*ctx->msgs), msg_cmp);
	for (size_t i = 0; i < n; i++) {
		if (out)
			fprintf(out, "%s:%u:%u: %s\n", ctx->name,
				ctx->msgs[i].line, ctx->msgs[i].col,
				ctx->msgs[i].text);
		free(ctx->msgs[i].text);
	}
	if (out && more)
		fprintf(out, "%s: %zu more problems not shown\n", ctx->name,
			more);
	free(ctx->msgs);
	ctx->msgs = NULL;
	ctx->n_msgs = ctx->cap_msgs = 0;
	ctx->seq = 0;
	return n + more;
}

char *cfg_strdup(struct cfg_ctx *ctx, const char *s)
{
	char *d = strdup(s);

	if (!d)
		ctx->oom = true;
	return d;
}

void *cfg_calloc(struct cfg_ctx *ctx, size_t n, size_t size)
{
	void *p;

	if (n == 0)
		return NULL;
	p = calloc(n, size);
	if (!p)
		ctx->oom = true;
	return p;
}

/* --- "did you mean" ------------------------------------------------------ */

#define SUGGEST_MAX_LEN 64

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

size_t cfg_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[SUGGEST_MAX_LEN + 1][SUGGEST_MAX_LEN + 1];

	if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
		return (size_t)-1;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			size_t cost = ca != cb;

			d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1,
				       d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 &&
			    ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb &&
			    d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	}
	return d[la][lb];
}

/* How many edits a word of @len characters may be off: 1 for short words. */
static size_t max_edits(size_t len)
{
	if (len <= 3)
		return 1;
	return 2;
}

const char *cfg_suggest(const char *word, const char *const *cands)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	size_t limit = max_edits(strlen(word));

	for (size_t i = 0; cands[i]; i++) {
		size_t d = cfg_edit_distance(word, cands[i]);

		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	/* An exact match differs in case only: still worth saying. */
	return best_d <= limit ? best : NULL;
}

const char *cfg_did_you_mean(const char *word, const char *const *cands,
			     char *buf, size_t size)
{
	const char *s = cfg_suggest(word, cands);

	if (s)
		snprintf(buf, size, " (did you mean '%s'?)", s);
	else if (size)
		buf[0] = '\0';
	return buf;
}

/* --- typed reads ---------------------------------------------------------- */

bool cfg_is_null(const struct cfg_node *n)
{
	return !n || (n->type == CFG_NODE_SCALAR && n->null);
}

const char *cfg_node_kind(const struct cfg_node *n)
{
	if (cfg_is_null(n))
		return "nothing";
	switch (n->type) {
	case CFG_NODE_MAP:
		return "a map";
	case CFG_NODE_SEQ:
		return "a list";
	default:
		return n->quoted ? "a quoted string" : "a scalar";
	}
}

/* A scalar with text, or report "KEY: expected WHAT, got ...". */
static bool want_scalar(struct cfg_ctx *ctx, const struct cfg_node *n,
			const char *key, const char *what)
{
	if (n->type == CFG_NODE_BAD)
		return false;
	if (n->type == CFG_NODE_SCALAR && !n->null)
		return true;
	cfg_error(ctx, n, "%s: expected %s, got %s", key, what,
		  cfg_node_kind(n));
	return false;
}

int cfg_get_bool(struct cfg_ctx *ctx, const struct cfg_node *n,
		 const char *key, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1", NULL };
	static const char *const no[] = { "false", "no", "off", "0", NULL };

	if (!want_scalar(ctx, n, key, "true or false"))
		return -EINVAL;
	if (!n->quoted) {
		for (size_t i = 0; yes[i]; i++) {
			if (strcasecmp(n->str, yes[i]) == 0) {
				*out = 1;
				return 0;
			}
			if (strcasecmp(n->str, no[i]) == 0) {
				*out = 0;
				return 0;
			}
		}
	}
	cfg_error(ctx, n, "%s: expected true or false, got '%s'%s", key,
		  n->str, n->quoted ? " (remove the quotes)" : "");
	return -EINVAL;
}

int cfg_get_int(struct cfg_ctx *ctx, const struct cfg_node *n,
		const char *key, long long min, long long max, long long *out)
{
	const char *s;
	char *end;
	long long v;

	if (!want_scalar(ctx, n, key, "an integer"))
		return -EINVAL;
	s = n->str;
	if (n->quoted) {
		cfg_error(ctx, n, "%s: expected an integer, got the string "
			  "\"%s\" (remove the quotes)", key, s);
		return -EINVAL;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || (*s != '-' && *s != '+' &&
					 (*s < '0' || *s > '9'))) {
		cfg_error(ctx, n, "%s: expected an integer, got '%s'", key, s);
		return -EINVAL;
	}
	if (errno == ERANGE || v < min || v > max) {
		if (min == 1 && (errno != ERANGE ? v < 1 : *s == '-'))
			cfg_error(ctx, n, "%s: must be greater than 0 (got %s)",
				  key, s);
		else
			cfg_error(ctx, n, "%s: %s is out of range %lld..%lld",
				  key, s, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int cfg_get_str(struct cfg_ctx *ctx, const struct cfg_node *n,
		const char *key, bool nullable, char **out)
{
	char *s;

	if (n->type == CFG_NODE_BAD)
		return -EINVAL;
	if (nullable && cfg_is_null(n)) {
		*out = NULL;
		return 0;
	}
	if (n->type == CFG_NODE_SCALAR && n->null && !nullable) {
		/* "key:" with nothing after it: the user meant "". */
		s = cfg_strdup(ctx, "");
	} else {
		if (!want_scalar(ctx, n, key, "a string"))
			return -EINVAL;
		if (strlen(n->str) != n->len) {
			cfg_error(ctx, n, "%s: contains a NUL character", key);
			return -EINVAL;
		}
		s = cfg_strdup(ctx, n->str);
	}
	if (!s)
		return -ENOMEM;
	*out = s;
	return 0;
}

int cfg_get_text(struct cfg_ctx *ctx, const struct cfg_node *n,
		 const char *key, const char **out)
{
	if (!want_scalar(ctx, n, key, "a string"))
		return -EINVAL;
	if (strlen(n->str) != n->len) {
		cfg_error(ctx, n, "%s: contains a NUL character", key);
		return -EINVAL;
	}
	*out = n->str;
	return 0;
}

int cfg_get_enum(struct cfg_ctx *ctx, const struct cfg_node *n,
		 const char *key, const char *const *names, int *out)
{
	char list[256] = "", hint[96];
	size_t used = 0;

	if (!want_scalar(ctx, n, key, "a word"))
		return -EINVAL;
	for (int i = 0; names[i]; i++) {
		if (strcmp(n->str, names[i]) == 0) {
			*out = i;
			return 0;
		}
		used += (size_t)snprintf(list + used, sizeof(list) - used,
					 "%s%s", i ? ", " : "", names[i]);
		if (used >= sizeof(list))
			used = sizeof(list) - 1;
	}
	cfg_error(ctx, n, "%s: '%s' is not one of %s%s", key, n->str, list,
		  cfg_did_you_mean(n->str, names, hint, sizeof(hint)));
	return -EINVAL;
}

int cfg_expect_seq(struct cfg_ctx *ctx, const struct cfg_node *n,
		   const char *key, const char *example)
{
	if (n->type == CFG_NODE_SEQ)
		return 0;
	if (n->type != CFG_NODE_BAD)
		cfg_error(ctx, n, "%s: expected a list%s%s, got %s", key,
			  example ? ", e.g. " : "", example ? example : "",
			  cfg_node_kind(n));
	return -EINVAL;
}

int cfg_expect_map(struct cfg_ctx *ctx, const struct cfg_node *n,
		   const char *key)
{
	if (n->type == CFG_NODE_MAP)
		return 0;
	if (n->type != CFG_NODE_BAD)
		cfg_error(ctx, n, "%s: expected a map of key: value, got %s",
			  key, cfg_node_kind(n));
	return -EINVAL;
}
