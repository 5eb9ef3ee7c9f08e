/*
 * routes.c - the routes: section: rules and their actions, into the tree of
 * routes.h; and route_list_free().
 *
 *   routes:
 *     - name: calls                  # optional, for logs
 *       match: { method: INVITE }    # route_cond.c
 *       actions:
 *         - dlg_manage               # a bare word
 *         - timeout: 3600            # or a one-key map
 *         - if: { is_in_profile: [vip] }
 *           then: [ { forward: "udp:10.0.0.2:5060" } ]
 *           else: [ { reply: "403 Forbidden" } ]
 *
 * forward, reply and drop end a rule, so an action after one of them in the
 * same list could never run: that is reported rather than ignored.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"

typedef void (*act_load_fn)(struct cfg_ctx *ctx, const struct cfg_node *n,
			    const char *key, const struct cfg_dialog *d,
			    struct route_action *a);

struct act_def {
	const char *name;
	enum route_action_type type;
	act_load_fn load;	/* NULL: a bare word */
	const char *example;	/* how to write it */
};

static const char *const sides[] = { "caller", "callee", "all", NULL };

/* --- one action's value ---------------------------------------------------- */

static void load_forward(struct cfg_ctx *ctx, const struct cfg_node *n,
			 const char *key, const struct cfg_dialog *d,
			 struct route_action *a)
{
	struct cfg_sipaddr sa;
	const char *s;
	char why[160];

	if (cfg_get_text(ctx, n, key, &s))
		return;
	if (cfg_parse_sipaddr(s, &sa, why, sizeof(why))) {
		cfg_error(ctx, n, "%s: %s", key, why);
		return;
	}
	a->u.forward.proto = sa.proto;
	if (sa.proto == CFG_PROTO_TLS && !ctx->tls_fwd_node)
		ctx->tls_fwd_node = n;
	memcpy(a->u.forward.host, sa.host, sizeof(sa.host));
	a->u.forward.port = sa.port;
	a->u.forward.addr = sa.addr;
	a->u.forward.addr_len = sa.addr_len;
}

/* "486 Busy Here": a code 100..699, one or more spaces, a reason. */
static void load_reply(struct cfg_ctx *ctx, const struct cfg_node *n,
		       const char *key, const struct cfg_dialog *d,
		       struct route_action *a)
{
	const char *s, *r;
	unsigned code = 0;
	int i;

	if (cfg_get_text(ctx, n, key, &s))
		return;
	for (i = 0; i < 3 && s[i] >= '0' && s[i] <= '9'; i++)
		code = code * 10 + (unsigned)(s[i] - '0');
	r = s + i;
	if (i != 3 || (*r != ' ' && *r != '\0')) {
		cfg_error(ctx, n, "%s: expected \"CODE Reason\", e.g. \"486 "
			  "Busy Here\", got '%s'", key, s);
		return;
	}
	if (code < 100 || code > 699) {
		cfg_error(ctx, n, "%s: code %u is out of range 100..699", key,
			  code);
		return;
	}
	while (*r == ' ')
		r++;
	if (*r == '\0') {
		cfg_error(ctx, n, "%s: %u needs a reason phrase, e.g. \"%u "
			  "Busy Here\"", key, code, code);
		return;
	}
	if (strpbrk(r, "\r\n")) {
		cfg_error(ctx, n, "%s: the reason must be one line", key);
		return;
	}
	a->u.reply.code = (uint16_t)code;
	a->u.reply.reason = cfg_strdup(ctx, r);
}

static void load_profile(struct cfg_ctx *ctx, const struct cfg_node *n,
			 const char *key, const struct cfg_dialog *d,
			 struct route_action *a)
{
	cfg_load_profile_ref(ctx, n, key, d, true, &a->u.profile);
}

static void load_flag(struct cfg_ctx *ctx, const struct cfg_node *n,
		      const char *key, const struct cfg_dialog *d,
		      struct route_action *a)
{
	long long v;

	if (!cfg_get_int(ctx, n, key, 0, 31, &v))
		a->u.flag = (unsigned)v;
}

static void load_timeout(struct cfg_ctx *ctx, const struct cfg_node *n,
			 const char *key, const struct cfg_dialog *d,
			 struct route_action *a)
{
	long long v;

	if (!cfg_get_int(ctx, n, key, 1, INT32_MAX, &v))
		a->u.timeout = (uint32_t)v;
}

static void load_on(struct cfg_ctx *ctx, const struct cfg_node *n,
		    const char *key, const struct cfg_dialog *d,
		    struct route_action *a)
{
	cfg_get_bool(ctx, n, key, &a->u.on);
}

static void load_log(struct cfg_ctx *ctx, const struct cfg_node *n,
		     const char *key, const struct cfg_dialog *d,
		     struct route_action *a)
{
	cfg_tpl_parse(ctx, n, key, &a->u.log);
}

static void load_ruri_user(struct cfg_ctx *ctx, const struct cfg_node *n,
			   const char *key, const struct cfg_dialog *d,
			   struct route_action *a)
{
	cfg_tpl_parse(ctx, n, key, &a->u.ruri_user);
}

/* The two items of "[x, y]", or NULL after reporting. */
static bool pair(struct cfg_ctx *ctx, const struct cfg_node *n,
		 const char *key, const char *example)
{
	if (n->type == CFG_NODE_SEQ && n->n_kids == 2)
		return true;
	if (n->type == CFG_NODE_SEQ)
		cfg_error(ctx, n, "%s: expected two items, e.g. %s, got %zu",
			  key, example, n->n_kids);
	else if (n->type != CFG_NODE_BAD)
		cfg_error(ctx, n, "%s: expected a list of two items, e.g. %s, "
			  "got %s", key, example, cfg_node_kind(n));
	return false;
}

static void load_var(struct cfg_ctx *ctx, const struct cfg_node *n,
		     const char *key, const struct cfg_dialog *d,
		     struct route_action *a)
{
	const char *k;

	if (!pair(ctx, n, key, "[key, \"$fU\"]") ||
	    cfg_get_text(ctx, n->kids[0], key, &k))
		return;
	if (!*k || strspn(k, "abcdefghijklmnopqrstuvwxyz"
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
			   strlen(k)) {
		cfg_error(ctx, n->kids[0], "%s: '%s' is not a variable name "
			  "(letters, digits, '_', '.', '-')", key, k);
		return;
	}
	a->u.var.key = cfg_strdup(ctx, k);
	cfg_tpl_parse(ctx, n->kids[1], key, &a->u.var.value);
}

static void load_bye(struct cfg_ctx *ctx, const struct cfg_node *n,
		     const char *key, const struct cfg_dialog *d,
		     struct route_action *a)
{
	int side;

	if (!cfg_get_enum(ctx, n, key, sides, &side))
		a->u.side = (enum route_side)(side + ROUTE_SIDE_CALLER);
}

static void load_refer(struct cfg_ctx *ctx, const struct cfg_node *n,
		       const char *key, const struct cfg_dialog *d,
		       struct route_action *a)
{
	static const char *const two_sides[] = { "caller", "callee", NULL };
	int side;

	if (!pair(ctx, n, key, "[callee, \"sip:voicemail@10.0.0.9\"]"))
		return;
	if (!cfg_get_enum(ctx, n->kids[0], key, two_sides, &side))
		a->u.refer.side = (enum route_side)(side + ROUTE_SIDE_CALLER);
	if (cfg_tpl_parse(ctx, n->kids[1], key, &a->u.refer.uri))
		return;
	if (a->u.refer.uri.raw[0] == '\0')
		cfg_error(ctx, n->kids[1], "%s: the URI must not be empty",
			  key);
}

static void load_bridge(struct cfg_ctx *ctx, const struct cfg_node *n,
			const char *key, const struct cfg_dialog *d,
			struct route_action *a)
{
	if (n->type != CFG_NODE_SEQ || n->n_kids < 2 || n->n_kids > 3) {
		cfg_error(ctx, n, "%s: expected [from, to] or [from, to, "
			  "outbound proxy], e.g. [\"sip:alice@pbx\", "
			  "\"sip:bob@pbx\"]", key);
		return;
	}
	if (cfg_tpl_parse(ctx, n->kids[0], key, &a->u.bridge.from) ||
	    cfg_tpl_parse(ctx, n->kids[1], key, &a->u.bridge.to))
		return;
	if (n->n_kids == 3)
		cfg_tpl_parse(ctx, n->kids[2], key, &a->u.bridge.op);
}

static void load_timeout_route(struct cfg_ctx *ctx, const struct cfg_node *n,
			       const char *key, const struct cfg_dialog *d,
			       struct route_action *a)
{
	const char *name;

	if (cfg_get_text(ctx, n, key, &name))
		return;
	if (!*name || strlen(name) >= 32) {
		cfg_error(ctx, n, "%s: a rule name of 1 to 31 characters "
			  "(Kamailio keeps 32 bytes for it)", key);
		return;
	}
	a->u.route_name = cfg_strdup(ctx, name);
}

/* dlg_keepalive: caller|callee|both|none; keep-alives must be on. */
static void load_keepalive(struct cfg_ctx *ctx, const struct cfg_node *n,
			   const char *key, const struct cfg_dialog *d,
			   struct route_action *a)
{
	static const char *const which[] = { "none", "caller", "callee",
					     "both", NULL };
	int v;

	if (cfg_get_enum(ctx, n, key, which, &v))
		return;
	a->u.ka_sides = (unsigned)v;	/* the order gives the bits */
	if (v && (d->ka_timer == 0 || d->ka_interval == 0))
		cfg_error(ctx, n, "%s: keep-alives are off; set dialog: "
			  "ka_timer and ka_interval (seconds) to use them",
			  key);
}

static const struct act_def act_defs[] = {
	{ "dlg_manage", ROUTE_ACT_DLG_MANAGE, NULL, "dlg_manage" },
	{ "drop", ROUTE_ACT_DROP, NULL, "drop" },
	{ "dlg_flag", ROUTE_ACT_DLG_FLAG, NULL, "dlg_flag" },
	{ "forward", ROUTE_ACT_FORWARD, load_forward,
	  "forward: \"udp:127.0.0.1:5080\"" },
	{ "reply", ROUTE_ACT_REPLY, load_reply, "reply: \"486 Busy Here\"" },
	{ "set_dlg_profile", ROUTE_ACT_SET_DLG_PROFILE, load_profile,
	  "set_dlg_profile: [caller, \"$fU\"]" },
	{ "unset_dlg_profile", ROUTE_ACT_UNSET_DLG_PROFILE, load_profile,
	  "unset_dlg_profile: [caller, \"$fU\"]" },
	{ "dlg_setflag", ROUTE_ACT_DLG_SETFLAG, load_flag, "dlg_setflag: 3" },
	{ "dlg_resetflag", ROUTE_ACT_DLG_RESETFLAG, load_flag,
	  "dlg_resetflag: 3" },
	{ "timeout", ROUTE_ACT_TIMEOUT, load_timeout, "timeout: 3600" },
	{ "set_dlg_var", ROUTE_ACT_SET_DLG_VAR, load_var,
	  "set_dlg_var: [caller, \"$fU\"]" },
	{ "dlg_bye", ROUTE_ACT_DLG_BYE, load_bye, "dlg_bye: all" },
	{ "dlg_refer", ROUTE_ACT_DLG_REFER, load_refer,
	  "dlg_refer: [callee, \"sip:vm@10.0.0.9\"]" },
	{ "timeout_bye", ROUTE_ACT_TIMEOUT_BYE, load_on, "timeout_bye: true" },
	{ "timeout_noreset", ROUTE_ACT_TIMEOUT_NORESET, load_on,
	  "timeout_noreset: true" },
	{ "log", ROUTE_ACT_LOG, load_log, "log: \"call from $fU\"" },
	{ "if", ROUTE_ACT_IF, NULL, "if: {...}, then: [...]" },
	{ "ruri_user", ROUTE_ACT_RURI_USER, load_ruri_user,
	  "ruri_user: \"$rU-2\"" },
	{ "timeout_route", ROUTE_ACT_TIMEOUT_ROUTE, load_timeout_route,
	  "timeout_route: \"on timeout\"" },
	{ "dlg_bridge", ROUTE_ACT_DLG_BRIDGE, load_bridge,
	  "dlg_bridge: [\"sip:alice@pbx\", \"sip:bob@pbx\"]" },
	{ "dlg_keepalive", ROUTE_ACT_DLG_KEEPALIVE, load_keepalive,
	  "dlg_keepalive: both" },
};
#define N_ACT_DEFS (sizeof(act_defs) / sizeof(act_defs[0]))

static const char *const act_names[] = {
	"dlg_manage", "drop", "dlg_flag", "forward", "reply",
	"set_dlg_profile", "unset_dlg_profile", "dlg_setflag",
	"dlg_resetflag", "timeout", "set_dlg_var", "dlg_bye", "dlg_refer",
	"timeout_bye", "timeout_noreset", "log", "if", "ruri_user",
	"dlg_bridge", "timeout_route", "dlg_keepalive", NULL,
};

const char *route_action_name(enum route_action_type type)
{
	for (size_t i = 0; i < N_ACT_DEFS; i++)
		if (act_defs[i].type == type)
			return act_defs[i].name;
	return "?";
}

static const struct act_def *act_find(const char *name)
{
	for (size_t i = 0; i < N_ACT_DEFS; i++)
		if (strcmp(act_defs[i].name, name) == 0)
			return &act_defs[i];
	return NULL;
}

/* --- freeing ------------------------------------------------------------- */

static void actions_free(struct route_action_list *l);

static void action_free(struct route_action *a)
{
	switch (a->type) {
	case ROUTE_ACT_REPLY:
		free(a->u.reply.reason);
		break;
	case ROUTE_ACT_SET_DLG_PROFILE:
	case ROUTE_ACT_UNSET_DLG_PROFILE:
		cfg_profile_ref_free(&a->u.profile);
		break;
	case ROUTE_ACT_SET_DLG_VAR:
		free(a->u.var.key);
		cfg_tpl_free(&a->u.var.value);
		break;
	case ROUTE_ACT_DLG_REFER:
		cfg_tpl_free(&a->u.refer.uri);
		break;
	case ROUTE_ACT_LOG:
		cfg_tpl_free(&a->u.log);
		break;
	case ROUTE_ACT_RURI_USER:
		cfg_tpl_free(&a->u.ruri_user);
		break;
	case ROUTE_ACT_TIMEOUT_ROUTE:
		free(a->u.route_name);
		break;
	case ROUTE_ACT_DLG_BRIDGE:
		cfg_tpl_free(&a->u.bridge.from);
		cfg_tpl_free(&a->u.bridge.to);
		cfg_tpl_free(&a->u.bridge.op);
		break;
	case ROUTE_ACT_IF:
		cfg_cond_set_free(&a->u.branch.cond);
		actions_free(&a->u.branch.then_acts);
		actions_free(&a->u.branch.else_acts);
		break;
	default:
		break;
	}
}

static void actions_free(struct route_action_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		action_free(&l->v[i]);
	free(l->v);
	*l = (struct route_action_list){ 0 };
}

void route_list_free(struct route_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->n_rules; i++) {
		struct route_rule *r = &list->rules[i];

		free(r->name);
		cfg_cond_set_free(&r->match);
		actions_free(&r->actions);
	}
	free(list->rules);
	*list = (struct route_list){ 0 };
}

/* --- action lists ---------------------------------------------------------- */

static void load_actions(struct cfg_ctx *ctx, const struct cfg_node *n,
			 const char *key, const struct cfg_dialog *d,
			 struct route_action_list *out);

/* - if: {conds}   then: [...]   else: [...] */
static void load_if(struct cfg_ctx *ctx, const struct cfg_node *n,
		    const struct cfg_dialog *d, struct route_action *a)
{
	static const char *const if_keys[] = { "if", "then", "else", NULL };
	const struct cfg_node *cond = cfg_map_get(n, "if");
	const struct cfg_node *then = cfg_map_get(n, "then");
	const struct cfg_node *els = cfg_map_get(n, "else");

	for (size_t i = 0; i < cfg_map_len(n); i++) {
		const struct cfg_node *k = cfg_map_key(n, i);
		char hint[96];

		if (strcmp(k->str, "if") && strcmp(k->str, "then") &&
		    strcmp(k->str, "else"))
			cfg_error(ctx, k, "unknown key '%s' in an if: item "
				  "(it takes if, then, else)%s", k->str,
				  cfg_did_you_mean(k->str, if_keys, hint,
						   sizeof(hint)));
	}
	if (cfg_is_null(cond) ||
	    (cond->type == CFG_NODE_MAP && cond->n_kids == 0))
		cfg_error(ctx, cond ? cond : n, "if: needs at least one "
			  "condition, e.g. if: { is_known_dlg: true }");
	else
		cfg_load_conds(ctx, cond, "if", d, &a->u.branch.cond);
	if (!then)
		cfg_error(ctx, n, "if: needs then: [actions] in the same item");
	else
		load_actions(ctx, then, "then", d, &a->u.branch.then_acts);
	if (els)
		load_actions(ctx, els, "else", d, &a->u.branch.else_acts);
}

static void load_action(struct cfg_ctx *ctx, const struct cfg_node *n,
			const struct cfg_dialog *d, struct route_action *a)
{
	const struct cfg_node *key = n, *val = NULL;
	const struct act_def *def;
	char hint[96];

	a->pos = (struct route_pos){ n->line, n->col };
	if (n->type == CFG_NODE_MAP && cfg_map_get(n, "if")) {
		a->type = ROUTE_ACT_IF;
		load_if(ctx, n, d, a);
		return;
	}
	if (n->type == CFG_NODE_MAP && cfg_map_len(n) == 1) {
		key = cfg_map_key(n, 0);
		val = cfg_map_val(n, 0);
	} else if (n->type == CFG_NODE_MAP) {
		if (cfg_map_get(n, "then") || cfg_map_get(n, "else"))
			cfg_error(ctx, n, "then:/else: without if: in the same "
				  "item");
		else
			cfg_error(ctx, n, "an action is one 'name: value' "
				  "pair, this item has %zu (first '%s'); put "
				  "each in its own '- ' item", cfg_map_len(n),
				  n->n_kids ? cfg_map_key(n, 0)->str : "");
		return;
	} else if (n->type != CFG_NODE_SCALAR || n->null) {
		if (n->type != CFG_NODE_BAD)
			cfg_error(ctx, n, "an action is a word (dlg_manage) or "
				  "a 'name: value' map (forward: ...), got %s",
				  cfg_node_kind(n));
		return;
	}
	def = act_find(key->str);
	if (!def || def->type == ROUTE_ACT_IF) {
		cfg_error(ctx, key, "unknown action '%s'%s", key->str,
			  def ? " (write if: {conditions} with then: [...])" :
			  cfg_did_you_mean(key->str, act_names, hint,
					   sizeof(hint)));
		return;
	}
	a->pos = (struct route_pos){ key->line, key->col };
	if (!val && def->load) {
		cfg_error(ctx, key, "%s needs a value: %s", key->str,
			  def->example);
		return;
	}
	if (val && !def->load) {
		cfg_error(ctx, key, "%s takes no value; write it as a bare "
			  "word: - %s", key->str, key->str);
		return;
	}
	a->type = def->type;
	if (def->load)
		def->load(ctx, val, key->str, d, a);
}

static bool ends_rule(enum route_action_type t)
{
	return t == ROUTE_ACT_FORWARD || t == ROUTE_ACT_REPLY ||
	       t == ROUTE_ACT_DROP;
}

static void load_actions(struct cfg_ctx *ctx, const struct cfg_node *n,
			 const char *key, const struct cfg_dialog *d,
			 struct route_action_list *out)
{
	const struct route_action *end = NULL;
	bool told = false;

	if (cfg_expect_seq(ctx, n, key,
			   "[dlg_manage, {forward: \"udp:127.0.0.1:5080\"}]"))
		return;
	out->v = cfg_calloc(ctx, n->n_kids, sizeof(*out->v));
	if (!out->v)
		return;
	for (size_t i = 0; i < n->n_kids; i++) {
		struct route_action *a = &out->v[out->n++];

		load_action(ctx, n->kids[i], d, a);
		if (end && !told) {
			cfg_error(ctx, n->kids[i], "this action never runs: "
				  "'%s' at line %u ends the rule",
				  route_action_name(end->type), end->pos.line);
			told = true;	/* once per list */
		} else if (!end && ends_rule(a->type)) {
			end = a;
		}
	}
}

/* --- rules ------------------------------------------------------------- */

static const char *const rule_keys[] = { "name", "match", "actions", NULL };

static void rule_unknown_key(struct cfg_ctx *ctx, const struct cfg_node *k)
{
	char hint[96];

	cfg_did_you_mean(k->str, rule_keys, hint, sizeof(hint));
	if (!hint[0] && act_find(k->str))
		snprintf(hint, sizeof(hint), " (actions go in the actions: "
			 "list)");
	else if (!hint[0] && cfg_suggest(k->str, (const char *const[]){
			"method", "ruri_user", "from_user", "source",
			"in_dialog", "is_known_dlg", "header", NULL }))
		snprintf(hint, sizeof(hint), " (conditions go in the match: "
			 "map)");
	cfg_error(ctx, k, "unknown key '%s' in a rule (it takes name, match, "
		  "actions)%s", k->str, hint);
}

static void load_rule(struct cfg_ctx *ctx, const struct cfg_node *n,
		      const struct cfg_dialog *d, struct route_rule *r)
{
	const struct cfg_node *actions = NULL;

	r->pos = (struct route_pos){ n->line, n->col };
	if (n->type != CFG_NODE_MAP) {
		if (n->type != CFG_NODE_BAD)
			cfg_error(ctx, n, "routes: each rule is a map with "
				  "match: and actions:, got %s",
				  cfg_node_kind(n));
		return;
	}
	for (size_t i = 0; i < cfg_map_len(n); i++) {
		const struct cfg_node *k = cfg_map_key(n, i);
		const struct cfg_node *v = cfg_map_val(n, i);

		if (strcmp(k->str, "name") == 0)
			cfg_get_str(ctx, v, "name", true, &r->name);
		else if (strcmp(k->str, "match") == 0)
			cfg_load_conds(ctx, v, "match", d, &r->match);
		else if (strcmp(k->str, "actions") == 0)
			actions = v;
		else
			rule_unknown_key(ctx, k);
	}
	if (actions)
		load_actions(ctx, actions, "actions", d, &r->actions);
	else
		cfg_error(ctx, n, "a rule needs actions: [...]");
}

/* Every timeout_route: must name a rule of the list. */
static void check_names_in(struct cfg_ctx *ctx, const struct cfg_node *n,
			   const struct route_list *list,
			   const struct route_action_list *acts)
{
	for (size_t i = 0; i < acts->n; i++) {
		const struct route_action *a = &acts->v[i];

		if (a->type == ROUTE_ACT_IF) {
			check_names_in(ctx, n, list, &a->u.branch.then_acts);
			check_names_in(ctx, n, list, &a->u.branch.else_acts);
		} else if (a->type == ROUTE_ACT_TIMEOUT_ROUTE &&
			   a->u.route_name) {
			struct route_rule *r =
				(struct route_rule *)route_find(list,
								a->u.route_name);
			if (r)
				r->timeout_only = true;
			else
				cfg_error_at(ctx, a->pos.line, a->pos.col,
					     "timeout_route: no rule is named "
					     "'%s' (give one `name: %s`)",
					     a->u.route_name, a->u.route_name);
		}
	}
}

static void check_route_names(struct cfg_ctx *ctx, const struct cfg_node *n,
			      const struct route_list *list)
{
	for (size_t i = 0; i < list->n_rules; i++)
		check_names_in(ctx, n, list, &list->rules[i].actions);
}

void cfg_load_routes(struct cfg_ctx *ctx, const struct cfg_node *n,
		     const struct cfg_dialog *d, struct route_list *out)
{
	if (cfg_is_null(n))
		return;
	if (cfg_expect_seq(ctx, n, "routes", "[ {match: ..., actions: ...} ]"))
		return;
	out->rules = cfg_calloc(ctx, n->n_kids, sizeof(*out->rules));
	if (!out->rules)
		return;
	for (size_t i = 0; i < n->n_kids; i++)
		load_rule(ctx, n->kids[i], d, &out->rules[out->n_rules++]);
	check_route_names(ctx, n, out);
}

const struct route_rule *route_find(const struct route_list *list,
				    const char *name)
{
	for (size_t i = 0; i < list->n_rules; i++)
		if (list->rules[i].name && strcmp(list->rules[i].name, name) == 0)
			return &list->rules[i];
	return NULL;
}
