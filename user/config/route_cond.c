/*
 * route_cond.c - condition maps of routes: (match: and if:).
 *
 * A condition map is read as "all of these hold":
 *
 *   match: { method: [INVITE, MESSAGE], from_domain: example.com,
 *            source: 10.0.0.0/8, in_dialog: false }
 *   if: { profile_size: [caller, "$fU"], gt: 2 }
 *
 * gt/ge/lt/le/eq are not conditions of their own: they complete the
 * profile_size in the same map, so exactly one goes with it.  Profile names
 * are checked against dialog.profiles_with_value / profiles_no_value here,
 * at load time, so a typo cannot silently count nothing at run time.
 */
#include <errno.h>
#include <stdlib.h>
#include <regex.h>
#include <string.h>

#include "config/config_int.h"

static const char *const cond_names[] = {
	[ROUTE_COND_METHOD] = "method",
	[ROUTE_COND_RURI_USER] = "ruri_user",
	[ROUTE_COND_RURI_DOMAIN] = "ruri_domain",
	[ROUTE_COND_FROM_USER] = "from_user",
	[ROUTE_COND_FROM_DOMAIN] = "from_domain",
	[ROUTE_COND_TO_USER] = "to_user",
	[ROUTE_COND_TO_DOMAIN] = "to_domain",
	[ROUTE_COND_SOURCE] = "source",
	[ROUTE_COND_IN_DIALOG] = "in_dialog",
	[ROUTE_COND_IS_KNOWN_DLG] = "is_known_dlg",
	[ROUTE_COND_IS_IN_PROFILE] = "is_in_profile",
	[ROUTE_COND_PROFILE_SIZE] = "profile_size",
	[ROUTE_COND_DLG_ISFLAGSET] = "dlg_isflagset",
	[ROUTE_COND_HEADER] = "header",
};

/* Index = enum route_cmp. */
static const char *const cmp_names[] = { "", "gt", "ge", "lt", "le", "eq" };

/* Every key a condition map may hold, for "did you mean". */
static const char *const cond_keys[] = {
	"method", "ruri_user", "ruri_domain", "from_user", "from_domain",
	"to_user", "to_domain", "source", "in_dialog", "is_known_dlg",
	"is_in_profile", "profile_size", "dlg_isflagset", "header",
	"gt", "ge", "lt", "le", "eq", NULL,
};

const char *route_cond_name(enum route_cond_type type)
{
	if (type < ROUTE_COND_METHOD || type > ROUTE_COND_MAX)
		return "?";
	return cond_names[type];
}

static enum route_cond_type cond_lookup(const char *name)
{
	for (int t = ROUTE_COND_METHOD; t <= ROUTE_COND_MAX; t++)
		if (strcmp(cond_names[t], name) == 0)
			return (enum route_cond_type)t;
	return 0;
}

static enum route_cmp cmp_lookup(const char *name)
{
	for (int c = ROUTE_CMP_GT; c <= ROUTE_CMP_EQ; c++)
		if (strcmp(cmp_names[c], name) == 0)
			return (enum route_cmp)c;
	return 0;
}

/* --- freeing ------------------------------------------------------------- */

void cfg_profile_ref_free(struct route_profile_ref *p)
{
	free(p->name);
	cfg_tpl_free(&p->value);
	*p = (struct route_profile_ref){ 0 };
}

static void cond_free(struct route_cond *c)
{
	switch (c->type) {
	case ROUTE_COND_METHOD:
		for (size_t i = 0; i < c->u.methods.n; i++)
			free(c->u.methods.v[i]);
		free(c->u.methods.v);
		break;
	case ROUTE_COND_RURI_USER:
	case ROUTE_COND_RURI_DOMAIN:
	case ROUTE_COND_FROM_USER:
	case ROUTE_COND_FROM_DOMAIN:
	case ROUTE_COND_TO_USER:
	case ROUTE_COND_TO_DOMAIN:
		for (size_t i = 0; i < c->u.strs.n; i++) {
			cfg_tpl_free(&c->u.strs.v[i]);
			if (c->u.strs.re && c->u.strs.re[i]) {
				regfree(c->u.strs.re[i]);
				free(c->u.strs.re[i]);
			}
		}
		free(c->u.strs.v);
		free(c->u.strs.re);
		break;
	case ROUTE_COND_SOURCE:
		free(c->u.sources.v);
		break;
	case ROUTE_COND_IS_IN_PROFILE:
		cfg_profile_ref_free(&c->u.profile);
		break;
	case ROUTE_COND_PROFILE_SIZE:
		cfg_profile_ref_free(&c->u.size.profile);
		break;
	case ROUTE_COND_HEADER:
		free(c->u.header.name);
		cfg_tpl_free(&c->u.header.value);
		break;
	default:
		break;
	}
}

void cfg_cond_set_free(struct route_cond_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		cond_free(&s->v[i]);
	free(s->v);
	*s = (struct route_cond_set){ 0 };
}

/* --- profiles ------------------------------------------------------------ */

int cfg_load_profile_ref(struct cfg_ctx *ctx, const struct cfg_node *n,
			 const char *key, const struct cfg_dialog *d,
			 bool setting, struct route_profile_ref *out)
{
	const struct cfg_node *name_n = n, *val_n = NULL;
	const char *names[2 * CFG_MAX_PROFILES + 1];
	const char *name;
	char hint[96];
	size_t k = 0;
	int kind;

	if (n->type == CFG_NODE_SEQ && (n->n_kids == 1 || n->n_kids == 2)) {
		name_n = n->kids[0];
		val_n = n->n_kids == 2 ? n->kids[1] : NULL;
	} else if (n->type != CFG_NODE_SCALAR || n->null) {
		if (n->type == CFG_NODE_SEQ)
			cfg_error(ctx, n, "%s: expected [profile] or [profile, "
				  "value], got a list of %zu items", key,
				  n->n_kids);
		else if (n->type != CFG_NODE_BAD)
			cfg_error(ctx, n, "%s: expected [profile] or [profile, "
				  "value], got %s", key, cfg_node_kind(n));
		return -EINVAL;
	}
	if (cfg_get_text(ctx, name_n, key, &name))
		return -EINVAL;
	kind = cfg_profile_kind(d, name);
	if (kind < 0) {
		for (size_t i = 0; i < d->n_profiles_with_value; i++)
			names[k++] = d->profiles_with_value[i];
		for (size_t i = 0; i < d->n_profiles_no_value; i++)
			names[k++] = d->profiles_no_value[i];
		names[k] = NULL;
		cfg_error(ctx, name_n, "%s: profile '%s' is not declared in "
			  "dialog: profiles_with_value or profiles_no_value%s",
			  key, name,
			  cfg_did_you_mean(name, names, hint, sizeof(hint)));
		return -EINVAL;
	}
	out->name = cfg_strdup(ctx, name);
	out->with_value = kind == 1;
	if (!val_n) {
		if (kind == 1 && setting) {
			cfg_error(ctx, name_n, "%s: profile '%s' is in "
				  "profiles_with_value and needs a value: "
				  "[%s, \"$fU\"]", key, name, name);
			return -EINVAL;
		}
		return 0;
	}
	if (kind == 0) {
		cfg_error(ctx, val_n, "%s: profile '%s' is in profiles_no_value "
			  "and takes no value: write [%s]", key, name, name);
		return -EINVAL;
	}
	if (cfg_tpl_parse(ctx, val_n, key, &out->value))
		return -EINVAL;
	out->has_value = 1;
	if (out->value.raw[0] == '\0') {
		cfg_error(ctx, val_n, "%s: the profile value must not be empty",
			  key);
		return -EINVAL;
	}
	return 0;
}

/* --- one condition ------------------------------------------------------- */

/*
 * A value or a list of them: *items gets @n's items, or @self (a variable
 * of the caller holding @n) for a single value.
 */
static int one_or_list(struct cfg_ctx *ctx, const struct cfg_node *n,
		       const char *key, const struct cfg_node *const *self,
		       const struct cfg_node *const **items, size_t *count)
{
	if (n->type == CFG_NODE_SCALAR && !n->null) {
		*items = self;
		*count = 1;
		return 0;
	}
	if (n->type == CFG_NODE_SEQ && n->n_kids > 0) {
		*items = (const struct cfg_node *const *)n->kids;
		*count = n->n_kids;
		return 0;
	}
	if (n->type != CFG_NODE_BAD)
		cfg_error(ctx, n, "%s: expected a value or a list of values, "
			  "got %s", key, n->type == CFG_NODE_SEQ ?
			  "an empty list" : cfg_node_kind(n));
	return -EINVAL;
}

static void load_methods(struct cfg_ctx *ctx, const struct cfg_node *n,
			 const char *key, struct route_cond *c)
{
	const struct cfg_node *self = n, *const *items;
	size_t count;

	if (one_or_list(ctx, n, key, &self, &items, &count))
		return;
	c->u.methods.v = cfg_calloc(ctx, count, sizeof(char *));
	if (!c->u.methods.v)
		return;
	for (size_t i = 0; i < count; i++) {
		const struct cfg_node *it = items[i];
		const char *m;
		bool lower = false, bad = false;

		if (cfg_get_text(ctx, it, key, &m))
			continue;
		for (const char *p = m; *p; p++) {
			lower |= *p >= 'a' && *p <= 'z';
			bad |= !((*p >= 'A' && *p <= 'Z') ||
				 (*p >= 'a' && *p <= 'z') || *p == '-' ||
				 *p == '_');
		}
		if (bad || !*m) {
			cfg_error(ctx, it, "%s: '%s' is not a SIP method name",
				  key, m);
		} else if (lower) {
			char up[32];
			size_t j;

			for (j = 0; m[j] && j < sizeof(up) - 1; j++)
				up[j] = (char)(m[j] >= 'a' && m[j] <= 'z' ?
					       m[j] - 'a' + 'A' : m[j]);
			up[j] = '\0';
			cfg_error(ctx, it, "%s: SIP methods are case-sensitive; "
				  "write %s, not %s", key, up, m);
		} else {
			c->u.methods.v[c->u.methods.n] = cfg_strdup(ctx, m);
			if (c->u.methods.v[c->u.methods.n])
				c->u.methods.n++;
		}
	}
}

static void load_strs(struct cfg_ctx *ctx, const struct cfg_node *n,
		      const char *key, struct route_cond *c)
{
	const struct cfg_node *self = n, *const *items;
	size_t count;

	if (one_or_list(ctx, n, key, &self, &items, &count))
		return;
	c->u.strs.v = cfg_calloc(ctx, count, sizeof(struct route_tpl));
	c->u.strs.re = cfg_calloc(ctx, count, sizeof(regex_t *));
	if (!c->u.strs.v || !c->u.strs.re)
		return;
	for (size_t i = 0; i < count; i++) {
		struct route_tpl *t = &c->u.strs.v[c->u.strs.n];
		const struct cfg_node *it = items[i];

		if (it->type == CFG_NODE_SCALAR && it->str && it->str[0] == '~') {
			/* A regex is taken as written: '$' is an anchor
			 * there, not a pseudo-variable.  regexec() sees the
			 * subject as a C string, up to a NUL; the subjects
			 * (URI user and host parts) never hold one: the
			 * parser lets a NUL in only as a quoted-pair inside
			 * a quoted-string (px_rules.c str_any). */
			t->raw = cfg_strdup(ctx, it->str);
			if (!t->raw)
				continue;
			t->parts = cfg_calloc(ctx, 1, sizeof(*t->parts));
			if (!t->parts) {
				free(t->raw);
				t->raw = NULL;
				continue;
			}
			t->parts[0].pv = ROUTE_PV_NONE;
			t->parts[0].text = cfg_strdup(ctx, it->str);
			t->n_parts = 1;
		} else if (cfg_tpl_parse(ctx, it, key, t)) {
			continue;
		}
		c->u.strs.n++;
		if (!t->raw || t->raw[0] != '~')
			continue;
		/* "~REGEX": compiled now, so a bad one is a config error. */
		regex_t *re = calloc(1, sizeof(*re));
		int fl = REG_EXTENDED | REG_NOSUB;
		int r;

		if (!re)
			continue;
		if (strstr(key, "domain"))
			fl |= REG_ICASE;
		for (size_t k = 0; k < t->n_parts; k++)
			if (t->parts[k].pv != ROUTE_PV_NONE) {
				cfg_error(ctx, items[i], "%s: a regular "
					  "expression (~...) cannot hold "
					  "pseudo-variables", key);
				free(re);
				re = NULL;
				break;
			}
		if (!re)
			continue;
		r = regcomp(re, t->raw + 1, fl);
		if (r) {
			char why[128];
			regerror(r, re, why, sizeof(why));
			cfg_error(ctx, items[i], "%s: bad regular expression "
				  "'%s': %s", key, t->raw + 1, why);
			free(re);
			continue;
		}
		c->u.strs.re[c->u.strs.n - 1] = re;
	}
}

static void load_sources(struct cfg_ctx *ctx, const struct cfg_node *n,
			 const char *key, struct route_cond *c)
{
	const struct cfg_node *self = n, *const *items;
	size_t count;

	if (one_or_list(ctx, n, key, &self, &items, &count))
		return;
	c->u.sources.v = cfg_calloc(ctx, count, sizeof(struct route_cidr));
	if (!c->u.sources.v)
		return;
	for (size_t i = 0; i < count; i++) {
		const struct cfg_node *it = items[i];
		const char *s;
		char why[160];

		if (cfg_get_text(ctx, it, key, &s))
			continue;
		if (cfg_parse_cidr(s, &c->u.sources.v[c->u.sources.n], why,
				   sizeof(why)))
			cfg_error(ctx, it, "%s: %s", key, why);
		else
			c->u.sources.n++;
	}
}

static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("-.!%*_+`'~", *s)))
			return false;
	return true;
}

static int header_name(struct cfg_ctx *ctx, const struct cfg_node *n,
		       const char *key, struct route_cond *c)
{
	const char *s;

	if (cfg_get_text(ctx, n, key, &s))
		return -EINVAL;
	if (!is_token(s)) {
		cfg_error(ctx, n, "%s: '%s' is not a header name", key, s);
		return -EINVAL;
	}
	c->u.header.name = cfg_strdup(ctx, s);
	c->u.header.op = ROUTE_HDR_EXISTS;
	return c->u.header.name ? 0 : -ENOMEM;
}

/* header: Name | [Name] | [Name, value] | {name:, equals:|contains:} */
static void load_header(struct cfg_ctx *ctx, const struct cfg_node *n,
			const char *key, struct route_cond *c)
{
	static const char *const hkeys[] = { "name", "equals", "contains",
					     NULL };
	const struct cfg_node *name = NULL, *val = NULL;
	enum route_hdr_op op = ROUTE_HDR_EXISTS;

	if (n->type == CFG_NODE_SCALAR && !n->null) {
		name = n;
	} else if (n->type == CFG_NODE_SEQ &&
		   (n->n_kids == 1 || n->n_kids == 2)) {
		name = n->kids[0];
		val = n->n_kids == 2 ? n->kids[1] : NULL;
		op = val ? ROUTE_HDR_EQUALS : ROUTE_HDR_EXISTS;
	} else if (n->type == CFG_NODE_MAP) {
		for (size_t i = 0; i < cfg_map_len(n); i++) {
			const char *k = cfg_map_key(n, i)->str;
			char hint[96];

			if (strcmp(k, "name") == 0)
				continue;
			if (strcmp(k, "equals") && strcmp(k, "contains")) {
				cfg_error(ctx, cfg_map_key(n, i), "%s: unknown "
					  "key '%s' (use name, equals or "
					  "contains)%s", key, k,
					  cfg_did_you_mean(k, hkeys, hint,
							   sizeof(hint)));
			} else if (val) {
				cfg_error(ctx, cfg_map_key(n, i), "%s: give "
					  "either equals or contains, not "
					  "both", key);
			} else {
				val = cfg_map_val(n, i);
				op = k[0] == 'e' ? ROUTE_HDR_EQUALS
						 : ROUTE_HDR_CONTAINS;
			}
		}
		name = cfg_map_get(n, "name");
		if (!name) {
			cfg_error(ctx, n, "%s: the map needs name: HEADER", key);
			return;
		}
	} else {
		if (n->type != CFG_NODE_BAD)
			cfg_error(ctx, n, "%s: expected Name, [Name, value] or "
				  "{name: Name, contains: text}, got %s", key,
				  n->type == CFG_NODE_SEQ ? "a list of that "
				  "length" : cfg_node_kind(n));
		return;
	}
	if (header_name(ctx, name, key, c))
		return;
	if (val && !cfg_tpl_parse(ctx, val, key, &c->u.header.value))
		c->u.header.op = op;
}

static void load_cond(struct cfg_ctx *ctx, const struct cfg_node *n,
		      const char *key, const struct cfg_dialog *d,
		      struct route_cond *c)
{
	long long v;

	switch (c->type) {
	case ROUTE_COND_METHOD:
		load_methods(ctx, n, key, c);
		break;
	case ROUTE_COND_RURI_USER:
	case ROUTE_COND_RURI_DOMAIN:
	case ROUTE_COND_FROM_USER:
	case ROUTE_COND_FROM_DOMAIN:
	case ROUTE_COND_TO_USER:
	case ROUTE_COND_TO_DOMAIN:
		load_strs(ctx, n, key, c);
		break;
	case ROUTE_COND_SOURCE:
		load_sources(ctx, n, key, c);
		break;
	case ROUTE_COND_IN_DIALOG:
	case ROUTE_COND_IS_KNOWN_DLG:
		cfg_get_bool(ctx, n, key, &c->u.want);
		break;
	case ROUTE_COND_IS_IN_PROFILE:
		cfg_load_profile_ref(ctx, n, key, d, false, &c->u.profile);
		break;
	case ROUTE_COND_PROFILE_SIZE:
		cfg_load_profile_ref(ctx, n, key, d, false,
				     &c->u.size.profile);
		break;
	case ROUTE_COND_DLG_ISFLAGSET:
		if (!cfg_get_int(ctx, n, key, 0, 31, &v))
			c->u.flag = (unsigned)v;
		break;
	case ROUTE_COND_HEADER:
		load_header(ctx, n, key, c);
		break;
	}
}

/* --- the map ------------------------------------------------------------- */

int cfg_load_conds(struct cfg_ctx *ctx, const struct cfg_node *n,
		   const char *key, const struct cfg_dialog *d,
		   struct route_cond_set *out)
{
	const struct cfg_node *cmp_key = NULL, *cmp_val = NULL;
	struct route_cond *size = NULL;
	enum route_cmp cmp = 0;
	long long v;

	if (cfg_is_null(n))
		return 0;
	if (cfg_expect_map(ctx, n, key))
		return -EINVAL;
	out->v = cfg_calloc(ctx, cfg_map_len(n), sizeof(*out->v));
	if (!out->v)
		return cfg_map_len(n) ? -ENOMEM : 0;
	for (size_t i = 0; i < cfg_map_len(n); i++) {
		const struct cfg_node *k = cfg_map_key(n, i);
		enum route_cond_type type = cond_lookup(k->str);
		enum route_cmp c = cmp_lookup(k->str);
		struct route_cond *rc;
		char hint[96];

		if (c && cmp_key) {
			cfg_error(ctx, k, "%s: '%s' and '%s' both compare "
				  "profile_size; keep one", key, cmp_key->str,
				  k->str);
			continue;
		}
		if (c) {
			cmp_key = k;
			cmp_val = cfg_map_val(n, i);
			cmp = c;
			continue;
		}
		if (!type) {
			cfg_error(ctx, k, "unknown condition '%s'%s", k->str,
				  cfg_did_you_mean(k->str, cond_keys, hint,
						   sizeof(hint)));
			continue;
		}
		rc = &out->v[out->n++];
		rc->type = type;
		rc->pos = (struct route_pos){ k->line, k->col };
		load_cond(ctx, cfg_map_val(n, i), k->str, d, rc);
		if (type == ROUTE_COND_PROFILE_SIZE)
			size = rc;
	}
	if (cmp_key && !size)
		cfg_error(ctx, cmp_key, "%s: '%s' compares a profile_size; add "
			  "profile_size: [name] to the same map", key,
			  cmp_key->str);
	if (size && !cmp_key)
		cfg_error_at(ctx, size->pos.line, size->pos.col, "profile_size: "
			     "needs one of gt, ge, lt, le, eq: N in the same "
			     "map");
	if (size && cmp_key &&
	    !cfg_get_int(ctx, cmp_val, cmp_key->str, 0, UINT32_MAX, &v)) {
		size->u.size.cmp = cmp;
		size->u.size.n = (uint32_t)v;
	}
	return 0;
}
