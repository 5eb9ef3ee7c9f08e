/*
 * config_dialog.c - the dialog: section: every Kamailio dialog-module
 * parameter, by its Kamailio name, with its checks.
 *
 * The defaults live in config.c (cfg_alloc_defaults); this file only says
 * which names exist, what type each has and what values are allowed.  The
 * Kamailio 5.x spellings of the column parameters (call_id_column, ...) are
 * accepted as aliases; giving an alias and its canonical name in one file
 * is reported by the table engine in config_load.c.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_int.h"

#define D(f) offsetof(struct cfg_dialog, f)
#define T_MAX INT32_MAX		/* seconds and counts: fit an int */

/* --- checks ----------------------------------------------------------- */

static int check_hash_size(struct cfg_ctx *ctx, const struct cfg_node *n,
			   const struct cfg_key *k, void *base)
{
	uint32_t v = ((struct cfg_dialog *)base)->hash_size;
	uint32_t lo = 1, hi;

	if ((v & (v - 1)) == 0)
		return 0;
	while (lo * 2 < v)
		lo *= 2;
	hi = lo * 2;
	if (hi > (1u << 20))
		hi = lo;
	cfg_error(ctx, n, "%s: %u is not a power of two (try %u)", k->name,
		  v, v - lo < hi - v ? lo : hi);
	return -EINVAL;
}

static bool is_word(const char *s, const char *extra)
{
	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' ||
		      (extra && strchr(extra, *s))))
			return false;
	}
	return true;
}

static int check_rr_param(struct cfg_ctx *ctx, const struct cfg_node *n,
			  const struct cfg_key *k, void *base)
{
	const char *s = ((struct cfg_dialog *)base)->rr_param;
	size_t len = strlen(s);

	if (len == 0)
		cfg_error(ctx, n, "%s: must not be empty (Kamailio's is 'did')",
			  k->name);
	else if (len > CFG_RR_PARAM_MAX)
		cfg_error(ctx, n, "%s: '%s' is %zu characters; at most %d are "
			  "allowed", k->name, s, len, CFG_RR_PARAM_MAX);
	else if (!is_word(s, "-.!%*+`'~"))
		cfg_error(ctx, n, "%s: '%s' is not a valid URI parameter name",
			  k->name, s);
	else
		return 0;
	return -EINVAL;
}

/* Table and column names: SQL identifiers, nothing to quote. */
static int check_column(struct cfg_ctx *ctx, const struct cfg_node *n,
			const struct cfg_key *k, void *base)
{
	const char *s = *(char **)((char *)base + k->off);

	if (is_word(s, NULL) && strlen(s) <= 64)
		return 0;
	cfg_error(ctx, n, "%s: '%s' is not a valid table or column name "
		  "(letters, digits, '_'; at most 64)", k->name, s);
	return -EINVAL;
}

static int check_sip_uri(struct cfg_ctx *ctx, const struct cfg_node *n,
			 const struct cfg_key *k, void *base)
{
	const char *s = *(char **)((char *)base + k->off);

	if ((strncasecmp(s, "sip:", 4) == 0 && s[4]) ||
	    (strncasecmp(s, "sips:", 5) == 0 && s[5]))
		return 0;
	cfg_error(ctx, n, "%s: '%s' is not a SIP URI (sip:user@host)",
		  k->name, s);
	return -EINVAL;
}

static int note_ka(struct cfg_ctx *ctx, const struct cfg_node *n,
		   const struct cfg_key *k, void *base)
{
	int i = k->off == D(ka_timer) ? 0 : k->off == D(ka_interval) ? 1 : 2;

	ctx->ka_node[i] = n;
	return 0;
}

static int note_db_mode(struct cfg_ctx *ctx, const struct cfg_node *n,
			const struct cfg_key *k, void *base)
{
	ctx->db_mode_node = n;
	return 0;
}

/* db_url: null or "" means none (Kamailio's default string stays). */
static int load_db_url(struct cfg_ctx *ctx, const struct cfg_node *n,
		       const struct cfg_key *k, void *base)
{
	struct cfg_dialog *d = base;
	char *s;

	if (cfg_get_str(ctx, n, k->name, true, &s))
		return -EINVAL;
	if (!s || !*s) {
		free(s);
		d->db_url_set = 0;
		return 0;
	}
	if (strncasecmp(s, "mysql://", 8) != 0) {
		cfg_error(ctx, n, "%s: '%s' is not a mysql:// URL "
			  "(mysql://user:pass@host[:port]/db)", k->name, s);
		free(s);
		return -EINVAL;
	}
	free(d->db_url);
	d->db_url = s;
	d->db_url_set = 1;
	return 0;
}

/* --- profile lists ------------------------------------------------------- */

/* Add one profile name; @at is where it was written. */
static void profile_add(struct cfg_ctx *ctx, const struct cfg_node *at,
			const char *key, const char *name, size_t len,
			char **list, size_t *count, struct route_pos *pos)
{
	char *copy;

	if (len > 64) {
		cfg_error(ctx, at, "%s: profile name '%.*s' is longer than 64 "
			  "characters", key, (int)len, name);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_')) {
			cfg_error(ctx, at, "%s: profile name '%.*s' may only "
				  "have letters, digits and '_'", key,
				  (int)len, name);
			return;
		}
	}
	for (size_t i = 0; i < *count; i++) {
		if (strlen(list[i]) == len && memcmp(list[i], name, len) == 0) {
			cfg_error(ctx, at, "%s: profile '%.*s' is listed twice",
				  key, (int)len, name);
			return;
		}
	}
	if (*count == CFG_MAX_PROFILES) {
		cfg_error(ctx, at, "%s: at most %d profiles", key,
			  CFG_MAX_PROFILES);
		return;
	}
	copy = strndup(name, len);
	if (!copy) {
		ctx->oom = true;
		return;
	}
	pos[*count] = (struct route_pos){ at->line, at->col };
	list[(*count)++] = copy;
}

/* Kamailio's form: "caller ; c2" - split on ';', trim, skip empty parts. */
static void profiles_from_string(struct cfg_ctx *ctx, const struct cfg_node *n,
				 const char *key, char **list, size_t *count,
				 struct route_pos *pos)
{
	const char *s = n->str;

	while (*s) {
		const char *end = strchr(s, ';');
		const char *b = s, *e = end ? end : s + strlen(s);

		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > b)
			profile_add(ctx, n, key, b, (size_t)(e - b), list,
				    count, pos);
		if (!end)
			break;
		s = end + 1;
	}
}

static int load_profiles(struct cfg_ctx *ctx, const struct cfg_node *n,
			 const struct cfg_key *k, void *base)
{
	struct cfg_dialog *d = base;
	int which = k->off == D(profiles_with_value) ? 0 : 1;
	char **list = which == 0 ? d->profiles_with_value
				 : d->profiles_no_value;
	size_t *count = which == 0 ? &d->n_profiles_with_value
				   : &d->n_profiles_no_value;

	for (size_t i = 0; i < *count; i++) {
		free(list[i]);
		list[i] = NULL;
	}
	*count = 0;
	if (cfg_is_null(n) || n->type == CFG_NODE_BAD)
		return 0;
	if (n->type == CFG_NODE_SCALAR) {
		profiles_from_string(ctx, n, k->name, list, count,
				     ctx->prof_pos[which]);
		return 0;
	}
	if (n->type != CFG_NODE_SEQ) {
		cfg_error(ctx, n, "%s: expected a list such as [caller, callee] "
			  "or a string \"caller ; callee\", got %s", k->name,
			  cfg_node_kind(n));
		return -EINVAL;
	}
	for (size_t i = 0; i < n->n_kids; i++) {
		const char *name;

		if (cfg_get_text(ctx, n->kids[i], k->name, &name))
			continue;
		profile_add(ctx, n->kids[i], k->name, name, strlen(name), list,
			    count, ctx->prof_pos[which]);
	}
	return 0;
}

int cfg_profile_kind(const struct cfg_dialog *d, const char *name)
{
	for (size_t i = 0; i < d->n_profiles_with_value; i++)
		if (strcmp(d->profiles_with_value[i], name) == 0)
			return 1;
	for (size_t i = 0; i < d->n_profiles_no_value; i++)
		if (strcmp(d->profiles_no_value[i], name) == 0)
			return 0;
	return -1;
}

/* Keep-alives need both periods; a keep-alive key without them would be
 * accepted and ignored. */
static void check_ka(struct cfg_ctx *ctx, const struct cfg_dialog *d)
{
	static const char *const names[3] = { "ka_timer", "ka_interval",
					      "ka_failed_limit" };
	bool on = d->ka_timer > 0 && d->ka_interval > 0;

	if (on)
		return;
	for (int i = 0; i < 3; i++) {
		uint32_t v = i == 0 ? d->ka_timer : i == 1 ? d->ka_interval : 1;

		if (ctx->ka_node[i] && v > 0)
			cfg_error(ctx, ctx->ka_node[i], "%s: keep-alives are "
				  "off unless ka_timer and ka_interval are "
				  "both > 0; set both (or remove %s)",
				  names[i], names[i]);
	}
}

void cfg_dialog_check(struct cfg_ctx *ctx, struct cfg_dialog *d)
{
	check_ka(ctx, d);
	if (d->db_mode > 0 && !d->db_url_set)
		cfg_error(ctx, ctx->db_mode_node, "db_mode: %d needs db_url "
			  "(e.g. db_url: mysql://user:pass@localhost/sipdlg)",
			  d->db_mode);
	for (size_t i = 0; i < d->n_profiles_no_value; i++) {
		for (size_t j = 0; j < d->n_profiles_with_value; j++) {
			const struct route_pos *a = &ctx->prof_pos[0][j];
			const struct route_pos *b = &ctx->prof_pos[1][i];
			bool b_later = b->line > a->line ||
				       (b->line == a->line && b->col > a->col);
			const struct route_pos *at = b_later ? b : a;

			if (strcmp(d->profiles_no_value[i],
				   d->profiles_with_value[j]) != 0)
				continue;
			cfg_error_at(ctx, at->line, at->col, "profile '%s' is in "
				     "both profiles_with_value and "
				     "profiles_no_value; keep it in one",
				     d->profiles_no_value[i]);
		}
	}
}

/* --- the table ------------------------------------------------------------ */

#define BOOL_KEY(f) { #f, CFG_K_BOOL, D(f), 0, 1, NULL, NULL, NULL }
#define NUM_KEY(f, t, lo, hi, chk) { #f, t, D(f), lo, hi, NULL, chk, NULL }
#define COL_KEY(f) { #f, CFG_K_STR, D(f), 0, 0, NULL, check_column, NULL }
#define ALIAS_KEY(a, f) { a, 0, 0, 0, 0, NULL, NULL, #f }

const struct cfg_key cfg_dialog_keys[] = {
	BOOL_KEY(enable_stats),
	NUM_KEY(hash_size, CFG_K_U32, 1, 1 << 20, check_hash_size),
	{ "rr_param", CFG_K_STR, D(rr_param), 0, 0, NULL, check_rr_param,
	  NULL },
	NUM_KEY(default_timeout, CFG_K_U32, 1, T_MAX, NULL),
	{ "dlg_extra_hdrs", CFG_K_STRN, D(dlg_extra_hdrs), 0, 0, NULL, NULL,
	  NULL },
	NUM_KEY(dlg_match_mode, CFG_K_INT, 0, 2, NULL),
	BOOL_KEY(detect_spirals),
	{ "db_url", CFG_K_CUSTOM, D(db_url), 0, 0, NULL, load_db_url, NULL },
	NUM_KEY(db_mode, CFG_K_INT, 0, 3, note_db_mode),
	NUM_KEY(db_update_period, CFG_K_U32, 1, T_MAX, NULL),
	NUM_KEY(db_fetch_rows, CFG_K_U32, 1, T_MAX, NULL),
	COL_KEY(table_name),
	COL_KEY(callid_column),
	COL_KEY(from_uri_column),
	COL_KEY(from_tag_column),
	COL_KEY(to_uri_column),
	COL_KEY(to_tag_column),
	COL_KEY(caller_cseq_column),
	COL_KEY(callee_cseq_column),
	COL_KEY(caller_route_column),
	COL_KEY(callee_route_column),
	COL_KEY(caller_contact_column),
	COL_KEY(callee_contact_column),
	COL_KEY(caller_sock_column),
	COL_KEY(callee_sock_column),
	COL_KEY(h_id_column),
	COL_KEY(h_entry_column),
	COL_KEY(state_column),
	COL_KEY(start_time_column),
	COL_KEY(timeout_column),
	COL_KEY(sflags_column),
	COL_KEY(toroute_column),
	COL_KEY(vars_table_name),
	COL_KEY(vars_h_id_column),
	COL_KEY(vars_h_entry_column),
	COL_KEY(vars_key_column),
	COL_KEY(vars_value_column),
	ALIAS_KEY("call_id_column", callid_column),
	ALIAS_KEY("from_cseq_column", caller_cseq_column),
	ALIAS_KEY("to_cseq_column", callee_cseq_column),
	ALIAS_KEY("from_route_column", caller_route_column),
	ALIAS_KEY("to_route_column", callee_route_column),
	ALIAS_KEY("from_contact_column", caller_contact_column),
	ALIAS_KEY("to_contact_column", callee_contact_column),
	ALIAS_KEY("from_sock_column", caller_sock_column),
	ALIAS_KEY("to_sock_column", callee_sock_column),
	ALIAS_KEY("toroute_name_column", toroute_column),
	{ "profiles_with_value", CFG_K_CUSTOM, D(profiles_with_value), 0, 0,
	  NULL, load_profiles, NULL },
	{ "profiles_no_value", CFG_K_CUSTOM, D(profiles_no_value), 0, 0,
	  NULL, load_profiles, NULL },
	{ "bridge_controller", CFG_K_STR, D(bridge_controller), 0, 0, NULL,
	  check_sip_uri, NULL },
	{ "bridge_contact", CFG_K_STR, D(bridge_contact), 0, 0, NULL,
	  check_sip_uri, NULL },
	BOOL_KEY(send_bye),
	BOOL_KEY(timeout_noreset),
	NUM_KEY(early_timeout, CFG_K_U32, 1, T_MAX, NULL),
	NUM_KEY(noack_timeout, CFG_K_U32, 1, T_MAX, NULL),
	NUM_KEY(end_timeout, CFG_K_U32, 1, T_MAX, NULL),
	NUM_KEY(h_id_start, CFG_K_I32, 0, T_MAX, NULL),
	NUM_KEY(h_id_step, CFG_K_U32, 1, T_MAX, NULL),
	NUM_KEY(ka_timer, CFG_K_U32, 0, T_MAX, note_ka),
	NUM_KEY(ka_interval, CFG_K_U32, 0, T_MAX, note_ka),
	NUM_KEY(ka_failed_limit, CFG_K_U32, 1, T_MAX, note_ka),
	{ "lreq_callee_headers", CFG_K_STRN, D(lreq_callee_headers), 0, 0,
	  NULL, NULL, NULL },
	BOOL_KEY(db_skip_load),
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

/*
 * Kamailio parameters that only make sense inside a Kamailio script (or
 * name machinery sipdlgd does not have).  They are not keys: giving one
 * is an error that names the YAML way to the same effect, so that no
 * modparam line moved over by hand is accepted and then ignored.
 */
static const struct {
	const char *name;
	const char *why;
} refused[] = {
	{ "dlg_flag", "a script flag that makes t_relay create the dialog; "
	  "use the dlg_manage action (or dlg_flag) in a routes: rule" },
	{ "timeout_avp", "an AVP the script sets; use the timeout: action in "
	  "a routes: rule, e.g. timeout: 3600 (values may use "
	  "pseudo-variables)" },
	{ "initial_cbs_inscript", "there is no script: the routes: rule "
	  "that runs dlg_manage sees the new dialog at once (Kamailio's 1); "
	  "dialog events reach other programs through sipdlgctl events" },
	{ "ruri_pvar", "the dialog keeps the R-URI the request carries when "
	  "dlg_manage runs ($ru); change it before with the ruri_user: "
	  "action in the same routes: rule" },
	{ "wait_ack", "the ACK of a failed call is absorbed by its INVITE "
	  "transaction, which needs no dialog (the behaviour of wait_ack 1); "
	  "remove the key" },
	{ "keep_proxy_rr", "requests sipdlgd generates go straight to the "
	  "next hop of the stored route set, never back through sipdlgd "
	  "(keep_proxy_rr 0); remove the key" },
	{ "track_cseq_updates", "sipdlgd never re-sends an INVITE with "
	  "credentials (no uac_auth), so no CSeq changes to track "
	  "(track_cseq_updates 0); remove the key" },
	{ "dlg_filter_mode", "sipdlgd restores every row of its dialog "
	  "table and runs timeouts and keep-alives for all of them, so "
	  "nodes that must not act on each other's dialogs need tables of "
	  "their own: give each node its own table_name and vars_table_name" },
};

const char *cfg_dialog_refused(const char *name)
{
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (strcmp(refused[i].name, name) == 0)
			return refused[i].why;
	return NULL;
}

const char *cfg_dialog_refused_name(size_t i)
{
	return i < sizeof(refused) / sizeof(refused[0]) ? refused[i].name :
							   NULL;
}
