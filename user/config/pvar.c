/*
 * pvar.c - values with pseudo-variables: "$fU", "sip:$rU@$rd", "$hdr(X-Id)".
 *
 * A value is split once, at load time, into literal parts and
 * pseudo-variable parts (struct route_tpl), so the executor only copies
 * pieces and never looks for '$' again.  The names are Kamailio's; only the
 * ones sipdlg can fill are accepted, and an unknown one is a load error
 * rather than an empty string at run time.  "$$" stands for one '$'.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"

struct pv_def {
	const char *name;
	enum route_pv pv;
	bool arg;	/* written $name(arg) */
};

static const struct pv_def pv_defs[] = {
	{ "fu", ROUTE_PV_FROM_URI, false },
	{ "fU", ROUTE_PV_FROM_USER, false },
	{ "fd", ROUTE_PV_FROM_DOMAIN, false },
	{ "tu", ROUTE_PV_TO_URI, false },
	{ "tU", ROUTE_PV_TO_USER, false },
	{ "td", ROUTE_PV_TO_DOMAIN, false },
	{ "ru", ROUTE_PV_RURI, false },
	{ "rU", ROUTE_PV_RURI_USER, false },
	{ "rd", ROUTE_PV_RURI_DOMAIN, false },
	{ "si", ROUTE_PV_SRC_IP, false },
	{ "sp", ROUTE_PV_SRC_PORT, false },
	{ "ci", ROUTE_PV_CALLID, false },
	{ "hdr", ROUTE_PV_HDR, true },
	{ "dlg_var", ROUTE_PV_DLG_VAR, true },
	{ "DLG_status", ROUTE_PV_DLG_STATUS, false },
	{ "DLG_lifetime", ROUTE_PV_DLG_LIFETIME, false },
	{ "DLG_count", ROUTE_PV_DLG_COUNT, false },
};
#define N_PV_DEFS (sizeof(pv_defs) / sizeof(pv_defs[0]))

/* "$fu" etc. for messages and suggestions. */
static const char *const pv_dollar_names[] = {
	"$fu", "$fU", "$fd", "$tu", "$tU", "$td", "$ru", "$rU", "$rd",
	"$si", "$sp", "$ci", "$hdr", "$dlg_var", "$DLG_status",
	"$DLG_lifetime", "$DLG_count", NULL,
};

const char *route_pv_name(enum route_pv pv)
{
	for (size_t i = 0; i < N_PV_DEFS; i++)
		if (pv_defs[i].pv == pv)
			return pv_dollar_names[i];
	return "";
}

void cfg_tpl_free(struct route_tpl *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_parts; i++)
		free(t->parts[i].text);
	free(t->parts);
	free(t->raw);
	*t = (struct route_tpl){ 0 };
}

static bool is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* Header names and dlg_var keys: an RFC 3261 token, as far as it matters. */
static bool is_arg_char(char c)
{
	return is_ident(c) || c == '-' || c == '.' || c == '!' || c == '%' ||
	       c == '*' || c == '+' || c == '`' || c == '\'' || c == '~';
}

static int add_part(struct route_tpl *t, enum route_pv pv, const char *text,
		    size_t len)
{
	struct route_tpl_part *p;
	char *copy = NULL;

	if (text) {
		copy = strndup(text, len);
		if (!copy)
			return -ENOMEM;
	}
	p = realloc(t->parts, (t->n_parts + 1) * sizeof(*p));
	if (!p) {
		free(copy);
		return -ENOMEM;
	}
	t->parts = p;
	t->parts[t->n_parts++] = (struct route_tpl_part){ pv, copy };
	return 0;
}

/* Append literal text, merging with a literal part before it. */
static int add_text(struct route_tpl *t, const char *s, size_t len)
{
	struct route_tpl_part *last;
	char *grown;
	size_t old;

	if (len == 0)
		return 0;
	last = t->n_parts ? &t->parts[t->n_parts - 1] : NULL;
	if (!last || last->pv != ROUTE_PV_NONE)
		return add_part(t, ROUTE_PV_NONE, s, len);
	old = strlen(last->text);
	grown = realloc(last->text, old + len + 1);
	if (!grown)
		return -ENOMEM;
	memcpy(grown + old, s, len);
	grown[old + len] = '\0';
	last->text = grown;
	return 0;
}

/* Parse the pseudo-variable at s ('$' at s[0]); *used gets its length. */
static int parse_pv(struct route_tpl *t, const char *s, size_t *used,
		    char *why, size_t why_size)
{
	const char *name = s + 1, *p = name;
	const struct pv_def *def = NULL;
	const char *arg = NULL;
	size_t nlen, alen = 0;
	char hint[64];

	if (*name == '(' || *name == '{')
		return snprintf(why, why_size, "'$%c' transformations are not "
				"supported", *name), -EINVAL;
	while (is_ident(*p))
		p++;
	nlen = (size_t)(p - name);
	if (nlen == 0)
		return snprintf(why, why_size, "a lone '$' (write $$ for a "
				"literal '$')"), -EINVAL;
	for (size_t i = 0; i < N_PV_DEFS; i++)
		if (strlen(pv_defs[i].name) == nlen &&
		    memcmp(pv_defs[i].name, name, nlen) == 0)
			def = &pv_defs[i];
	if (!def) {
		char word[72];

		snprintf(word, sizeof(word), "$%.*s", (int)nlen, name);
		return snprintf(why, why_size, "unknown pseudo-variable '%s'%s",
				word, cfg_did_you_mean(word, pv_dollar_names,
						       hint, sizeof(hint))),
		       -EINVAL;
	}
	if (def->arg) {
		const char *close;

		if (*p != '(')
			return snprintf(why, why_size, "$%s needs a name: "
					"$%s(Name)", def->name, def->name),
			       -EINVAL;
		close = strchr(p, ')');
		if (!close)
			return snprintf(why, why_size, "unterminated '$%s('",
					def->name), -EINVAL;
		arg = p + 1;
		alen = (size_t)(close - arg);
		if (alen == 0)
			return snprintf(why, why_size, "$%s() needs a name",
					def->name), -EINVAL;
		for (size_t i = 0; i < alen; i++)
			if (!is_arg_char(arg[i]))
				return snprintf(why, why_size, "'%.*s' is not "
						"a valid name in $%s()",
						(int)alen, arg, def->name),
				       -EINVAL;
		p = close + 1;
	} else if (*p == '(') {
		return snprintf(why, why_size, "$%s takes no argument",
				def->name), -EINVAL;
	}
	*used = (size_t)(p - s);
	return add_part(t, def->pv, arg, alen);
}

int cfg_tpl_parse_text(const char *s, struct route_tpl *out, char *why,
		       size_t why_size)
{
	struct route_tpl t = { 0 };
	const char *lit = s;
	int err = 0;

	t.raw = strdup(s);
	if (!t.raw)
		return -ENOMEM;
	for (const char *p = s; *p && !err;) {
		size_t used;

		if (*p != '$') {
			p++;
			continue;
		}
		err = add_text(&t, lit, (size_t)(p - lit));
		if (err)
			break;
		if (p[1] == '$') {
			err = add_text(&t, "$", 1);
			p += 2;
		} else {
			err = parse_pv(&t, p, &used, why, why_size);
			p += err ? 0 : used;
		}
		lit = p;
	}
	if (!err)
		err = add_text(&t, lit, strlen(lit));
	if (err) {
		if (err == -ENOMEM)
			snprintf(why, why_size, "out of memory");
		cfg_tpl_free(&t);
		return err;
	}
	*out = t;
	return 0;
}

int cfg_tpl_parse(struct cfg_ctx *ctx, const struct cfg_node *n,
		  const char *key, struct route_tpl *out)
{
	const char *s;
	char why[160];
	int err;

	if (cfg_get_text(ctx, n, key, &s))
		return -EINVAL;
	err = cfg_tpl_parse_text(s, out, why, sizeof(why));
	if (err == -ENOMEM)
		ctx->oom = true;
	else if (err)
		cfg_error(ctx, n, "%s: %s", key, why);
	return err;
}
