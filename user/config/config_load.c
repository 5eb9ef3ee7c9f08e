/*
 * config_load.c - the node tree into struct sipdlg_config.
 *
 * Each section is a table of struct cfg_key (name, type, field offset,
 * range, optional check), applied by one engine, cfg_apply_map(): it finds
 * the key (or says which known key was probably meant), refuses an alias
 * given together with its canonical name, converts the value with the
 * typed readers of config_value.c, stores it and runs the check.  Sections
 * with a shape of their own (listen:, routes:, profile lists) plug in as
 * CFG_K_CUSTOM keys.
 *
 * routes: is applied last, whatever its place in the file, because rules
 * name profiles that dialog: declares.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"
#include "config/config_list.h"
#include "core/log.h"

#define CFG_MAX_KEYS 128

const struct cfg_node *cfg_map_get(const struct cfg_node *map, const char *key)
{
	if (!map || map->type != CFG_NODE_MAP)
		return NULL;
	for (size_t i = 0; i < cfg_map_len(map); i++)
		if (strcmp(cfg_map_key(map, i)->str, key) == 0)
			return cfg_map_val(map, i);
	return NULL;
}

/* --- the engine ---------------------------------------------------------- */

static const struct cfg_key *key_find(const struct cfg_key *keys,
				      const char *name)
{
	for (const struct cfg_key *k = keys; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

static void apply_value(struct cfg_ctx *ctx, const struct cfg_node *n,
			const char *name, const struct cfg_key *k, void *base)
{
	void *field = (char *)base + k->off;
	long long v;
	char *s;
	int b, e;

	switch (k->type) {
	case CFG_K_BOOL:
		if (cfg_get_bool(ctx, n, name, &b))
			return;
		*(int *)field = b;
		break;
	case CFG_K_INT:
		if (cfg_get_int(ctx, n, name, k->min, k->max, &v))
			return;
		*(int *)field = (int)v;
		break;
	case CFG_K_U32:
		if (cfg_get_int(ctx, n, name, k->min, k->max, &v))
			return;
		*(uint32_t *)field = (uint32_t)v;
		break;
	case CFG_K_I32:
		if (cfg_get_int(ctx, n, name, k->min, k->max, &v))
			return;
		*(int32_t *)field = (int32_t)v;
		break;
	case CFG_K_STR:
	case CFG_K_STRN:
		if (cfg_get_str(ctx, n, name, k->type == CFG_K_STRN, &s))
			return;
		free(*(char **)field);
		*(char **)field = s;
		break;
	case CFG_K_ENUM:
		if (cfg_get_enum(ctx, n, name, k->names, &e))
			return;
		*(int *)field = e;
		break;
	case CFG_K_CUSTOM:
		k->check(ctx, n, k, base);
		return;
	}
	if (k->check)
		k->check(ctx, n, k, base);
}

/* "unknown key" with the best hint we have. */
static void unknown_key(struct cfg_ctx *ctx, const struct cfg_node *key,
			const char *section, const struct cfg_key *keys)
{
	const char *names[CFG_MAX_KEYS + 1];
	char hint[96];
	size_t n = 0;

	if (keys == cfg_dialog_keys && cfg_dialog_refused(key->str)) {
		cfg_error(ctx, key, "%s: not supported: %s", key->str,
			  cfg_dialog_refused(key->str));
		return;
	}
	for (const struct cfg_key *k = keys; k->name && n < CFG_MAX_KEYS; k++)
		names[n++] = k->name;
	names[n] = NULL;
	cfg_did_you_mean(key->str, names, hint, sizeof(hint));
	if (!section && !hint[0] && key_find(cfg_dialog_keys, key->str))
		snprintf(hint, sizeof(hint), " (dialog parameters go under "
			 "dialog:)");
	if (section)
		cfg_error(ctx, key, "unknown key '%s' in %s%s", key->str,
			  section, hint);
	else
		cfg_error(ctx, key, "unknown top-level key '%s'%s", key->str,
			  hint);
}

void cfg_apply_map(struct cfg_ctx *ctx, const struct cfg_node *n,
		   const char *section, const struct cfg_key *keys, void *base)
{
	const struct cfg_node *seen[CFG_MAX_KEYS] = { 0 };

	if (cfg_is_null(n) || cfg_expect_map(ctx, n, section))
		return;
	for (size_t i = 0; i < cfg_map_len(n); i++) {
		const struct cfg_node *key = cfg_map_key(n, i);
		const struct cfg_key *k = key_find(keys, key->str);
		const struct cfg_key *canon = k;
		size_t idx;

		if (!k) {
			unknown_key(ctx, key, section, keys);
			continue;
		}
		if (k->alias_of)
			canon = key_find(keys, k->alias_of);
		idx = (size_t)(canon - keys);
		if (idx < CFG_MAX_KEYS && seen[idx]) {
			cfg_error(ctx, key, "'%s' and '%s' (line %u) set the "
				  "same parameter; keep one", key->str,
				  seen[idx]->str, seen[idx]->line);
			continue;
		}
		if (idx < CFG_MAX_KEYS)
			seen[idx] = key;
		apply_value(ctx, cfg_map_val(n, i), key->str, canon, base);
	}
}

/* --- small sections ------------------------------------------------------- */

static int check_abs_path(struct cfg_ctx *ctx, const struct cfg_node *n,
			  const struct cfg_key *k, void *base)
{
	const char *s = *(char **)((char *)base + k->off);
	size_t max = k->max ? (size_t)k->max : 4095;

	if (k->min == 0 && *s == '\0')
		return 0;	/* may be empty */
	if (*s != '/') {
		cfg_error(ctx, n, "%s: '%s' must be an absolute path", k->name,
			  s);
		return -EINVAL;
	}
	if (strlen(s) > max) {
		cfg_error(ctx, n, "%s: longer than %zu characters", k->name,
			  max);
		return -EINVAL;
	}
	return 0;
}

static int check_advertise(struct cfg_ctx *ctx, const struct cfg_node *n,
			   const struct cfg_key *k, void *base)
{
	const char *s = ((struct sipdlg_config *)base)->advertise;
	char why[160];

	if (*s == '\0' || cfg_check_hostport(s, why, sizeof(why)) == 0)
		return 0;
	cfg_error(ctx, n, "advertise: %s", why);
	return -EINVAL;
}

static int check_group(struct cfg_ctx *ctx, const struct cfg_node *n,
		       const struct cfg_key *k, void *base)
{
	const char *s = ((struct cfg_control *)base)->group;

	if (!s || *s)
		return 0;
	cfg_error(ctx, n, "group: empty; leave it out to keep the daemon's "
		  "group");
	return -EINVAL;
}

/* control.mode: "0660" or 0660 (octal digits either way), at most 07777. */
static int load_mode(struct cfg_ctx *ctx, const struct cfg_node *n,
		     const struct cfg_key *k, void *base)
{
	const char *s, *p;
	unsigned long v = 0;

	if (cfg_get_text(ctx, n, k->name, &s))
		return -EINVAL;
	p = strncmp(s, "0o", 2) == 0 ? s + 2 : s;
	if (*p == '\0' || strlen(p) > 5 || strspn(p, "01234567") != strlen(p)) {
		cfg_error(ctx, n, "%s: '%s' is not an octal file mode such as "
			  "\"0660\"", k->name, s);
		return -EINVAL;
	}
	v = strtoul(p, NULL, 8);
	if (v > 07777) {
		cfg_error(ctx, n, "%s: %s is more than 07777", k->name, s);
		return -EINVAL;
	}
	((struct cfg_control *)base)->mode = (uint32_t)v;
	return 0;
}

/* xdp.interfaces: a list of names, or one name. */
static int check_ifname(struct cfg_ctx *ctx, const struct cfg_node *item,
			const char *key, const char *s)
{
	if (strlen(s) <= 15 && !strpbrk(s, "/: \t"))
		return 0;
	cfg_error(ctx, item, "%s: '%s' is not an interface name (at most 15 "
		  "characters, no '/', ':' or spaces)", key, s);
	return -EINVAL;
}

static int load_ifaces(struct cfg_ctx *ctx, const struct cfg_node *n,
		       const struct cfg_key *k, void *base)
{
	struct cfg_xdp *x = base;
	const struct cfg_str_list l = {
		.v = x->interfaces, .count = &x->n_interfaces,
		.max = CFG_MAX_IFACES, .example = "[lo, eth0]",
		.many = "interfaces", .check = check_ifname,
	};

	return cfg_str_list_load(ctx, n, k->name, &l);
}

/* An option tag is a token (RFC 3261 sections 19.2 and 25.1). */
static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr("-.!%*_+`'~", c)))
			return false;
	}
	return true;
}

static int check_option_tag(struct cfg_ctx *ctx, const struct cfg_node *item,
			    const char *key, const char *s)
{
	if (is_token(s))
		return 0;
	cfg_error(ctx, item, "%s: '%s' is not an option tag (a token: "
		  "letters, digits and -.!%%*_+`'~)", key, s);
	return -EINVAL;
}

/* proxy.supported: a list of option tags, each a token, none twice
 * (compared without regard to case, as option tags are). */
static int load_supported(struct cfg_ctx *ctx, const struct cfg_node *n,
			  const struct cfg_key *k, void *base)
{
	struct cfg_proxy *x = base;
	const struct cfg_str_list l = {
		.v = x->supported, .count = &x->n_supported,
		.max = CFG_MAX_OPTION_TAGS, .example = "[100rel, timer]",
		.many = "option tags", .nocase = true,
		.check = check_option_tag,
	};

	return cfg_str_list_load(ctx, n, k->name, &l);
}

/* log.level: the names log_level_parse() knows ("warning" too). */
static int load_log_level(struct cfg_ctx *ctx, const struct cfg_node *n,
			  const struct cfg_key *k, void *base)
{
	static const char *const names[] = { "error", "warn", "notice",
					     "info", "debug", NULL };
	int level;

	if (n->type == CFG_NODE_SCALAR && !n->null &&
	    log_level_parse(n->str) >= 0) {
		((struct cfg_log *)base)->level = log_level_parse(n->str);
		return 0;
	}
	return cfg_get_enum(ctx, n, k->name, names, &level);
}

static const char *const xdp_modes[] = { "auto", "native", "generic", NULL };
static const char *const policies[] = { "pass", "drop", NULL };
static const char *const log_targets[] = { "stderr", "syslog", NULL };

#define F(s, f) offsetof(struct s, f)

static const struct cfg_key sip_keys[] = {
	{ "t1_ms", CFG_K_U32, F(sipdlg_config, t1_ms), 1, 60000, NULL, NULL,
	  NULL },
	{ "t2_ms", CFG_K_U32, F(sipdlg_config, t2_ms), 1, 600000, NULL, NULL,
	  NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

static const struct cfg_key xdp_keys[] = {
	{ "invite_limit", CFG_K_CUSTOM, 0, 0, 0, NULL, cfg_load_invite_limit,
	  NULL },
	{ "enabled", CFG_K_BOOL, F(cfg_xdp, enabled), 0, 1, NULL, NULL, NULL },
	{ "interfaces", CFG_K_CUSTOM, F(cfg_xdp, interfaces), 0, 0, NULL,
	  load_ifaces, NULL },
	{ "mode", CFG_K_ENUM, F(cfg_xdp, mode), 0, 0, xdp_modes, NULL, NULL },
	{ "pin_path", CFG_K_STR, F(cfg_xdp, pin_path), 1, 4095, NULL,
	  check_abs_path, NULL },
	{ "unknown_dialog", CFG_K_ENUM, F(cfg_xdp, unknown_dialog), 0, 0,
	  policies, NULL, NULL },
	{ "max_dialog_pps", CFG_K_U32, F(cfg_xdp, max_dialog_pps), 0,
	  UINT32_MAX, NULL, NULL, NULL },
	{ "max_dialogs", CFG_K_U32, F(cfg_xdp, max_dialogs), 1, 1u << 24,
	  NULL, NULL, NULL },
	{ "cookie_mac", CFG_K_CUSTOM, 0, 0, 0, NULL, cfg_load_cookie_mac,
	  NULL },
	{ "relay", CFG_K_CUSTOM, 0, 0, 0, NULL, cfg_load_relay, NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

static const struct cfg_key proxy_keys[] = {
	{ "supported", CFG_K_CUSTOM, F(cfg_proxy, supported), 0, 0, NULL,
	  load_supported, NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

static const struct cfg_key database_keys[] = {
	{ "required", CFG_K_BOOL, F(cfg_database, required), 0, 1, NULL, NULL,
	  NULL },
	{ "queue_size", CFG_K_U32, F(cfg_database, queue_size), 1, 1 << 24,
	  NULL, NULL, NULL },
	{ "retry_interval", CFG_K_U32, F(cfg_database, retry_interval), 1,
	  3600, NULL, NULL, NULL },
	{ "retry_max", CFG_K_U32, F(cfg_database, retry_max), 1, 3600, NULL,
	  NULL, NULL },
	{ "rehash_on_load", CFG_K_BOOL, F(cfg_database, rehash_on_load), 0, 1,
	  NULL, NULL, NULL },
	{ "socket", CFG_K_STR, F(cfg_database, socket), 0, 107, NULL,
	  check_abs_path, NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

static const struct cfg_key limits_keys[] = {
	{ "max_dialogs", CFG_K_U32, F(cfg_limits, max_dialogs), 0, UINT32_MAX,
	  NULL, NULL, NULL },
	{ "max_early_dialogs", CFG_K_U32, F(cfg_limits, max_early_dialogs), 0,
	  UINT32_MAX, NULL, NULL, NULL },
	{ "max_transactions", CFG_K_U32, F(cfg_limits, max_transactions), 0,
	  UINT32_MAX, NULL, NULL, NULL },
	{ "max_memory_mb", CFG_K_U32, F(cfg_limits, max_memory_mb), 0,
	  1u << 24, NULL, NULL, NULL },
	{ "retry_after", CFG_K_U32, F(cfg_limits, retry_after), 1, 86400,
	  NULL, NULL, NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

static const struct cfg_key control_keys[] = {
	{ "socket", CFG_K_STR, F(cfg_control, socket), 1, 107, NULL,
	  check_abs_path, NULL },
	{ "mode", CFG_K_CUSTOM, F(cfg_control, mode), 0, 0, NULL, load_mode,
	  NULL },
	{ "group", CFG_K_STRN, F(cfg_control, group), 0, 0, NULL, check_group,
	  NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

static const struct cfg_key log_keys[] = {
	{ "level", CFG_K_CUSTOM, F(cfg_log, level), 0, 0, NULL,
	  load_log_level, NULL },
	{ "target", CFG_K_ENUM, F(cfg_log, target), 0, 0, log_targets, NULL,
	  NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

/* --- top level ------------------------------------------------------------ */

/* The section callbacks get the whole config as @base. */
static int load_listen(struct cfg_ctx *ctx, const struct cfg_node *n,
		       const struct cfg_key *k, void *base)
{
	cfg_load_listen(ctx, n, base);
	return 0;
}

static int load_sip(struct cfg_ctx *ctx, const struct cfg_node *n,
		    const struct cfg_key *k, void *base)
{
	struct sipdlg_config *cfg = base;

	cfg_apply_map(ctx, n, k->name, sip_keys, cfg);
	if (cfg->t2_ms < cfg->t1_ms) {
		const struct cfg_node *t2 = cfg_map_get(n, "t2_ms");

		cfg_error(ctx, t2 ? t2 : n, "t2_ms: %u is less than t1_ms %u",
			  cfg->t2_ms, cfg->t1_ms);
	}
	return 0;
}

static int load_tcp(struct cfg_ctx *ctx, const struct cfg_node *n,
		    const struct cfg_key *k, void *base)
{
	cfg_load_tcp(ctx, n, &((struct sipdlg_config *)base)->tcp);
	return 0;
}

static int load_tls(struct cfg_ctx *ctx, const struct cfg_node *n,
		    const struct cfg_key *k, void *base)
{
	cfg_load_tls(ctx, n, &((struct sipdlg_config *)base)->tls);
	return 0;
}

static int load_dialog(struct cfg_ctx *ctx, const struct cfg_node *n,
		       const struct cfg_key *k, void *base)
{
	cfg_apply_map(ctx, n, k->name, cfg_dialog_keys,
		      &((struct sipdlg_config *)base)->dialog);
	return 0;
}

static int load_xdp(struct cfg_ctx *ctx, const struct cfg_node *n,
		    const struct cfg_key *k, void *base)
{
	struct cfg_xdp *x = &((struct sipdlg_config *)base)->xdp;
	const struct cfg_node *ifs = cfg_map_get(n, "interfaces");

	cfg_apply_map(ctx, n, k->name, xdp_keys, x);
	if (x->enabled && x->n_interfaces == 0 && ifs &&
	    (cfg_is_null(ifs) ||
	     (ifs->type == CFG_NODE_SEQ && ifs->n_kids == 0)))
		cfg_error(ctx, ifs, "interfaces: empty; name at least one, or "
			  "set enabled: false to run without XDP");
	return 0;
}

static int load_proxy(struct cfg_ctx *ctx, const struct cfg_node *n,
		      const struct cfg_key *k, void *base)
{
	cfg_apply_map(ctx, n, k->name, proxy_keys,
		      &((struct sipdlg_config *)base)->proxy);
	return 0;
}

static int load_database(struct cfg_ctx *ctx, const struct cfg_node *n,
			 const struct cfg_key *k, void *base)
{
	cfg_apply_map(ctx, n, k->name, database_keys,
		      &((struct sipdlg_config *)base)->database);
	return 0;
}

static int load_limits(struct cfg_ctx *ctx, const struct cfg_node *n,
		       const struct cfg_key *k, void *base)
{
	struct cfg_limits *l = &((struct sipdlg_config *)base)->limits;

	cfg_apply_map(ctx, n, k->name, limits_keys, l);
	if (l->max_dialogs && l->max_early_dialogs > l->max_dialogs) {
		const struct cfg_node *e = cfg_map_get(n, "max_early_dialogs");

		cfg_error(ctx, e ? e : n, "max_early_dialogs: %u is more than "
			  "max_dialogs %u (early dialogs count toward "
			  "max_dialogs)", l->max_early_dialogs,
			  l->max_dialogs);
	}
	return 0;
}

static int load_control(struct cfg_ctx *ctx, const struct cfg_node *n,
			const struct cfg_key *k, void *base)
{
	cfg_apply_map(ctx, n, k->name, control_keys,
		      &((struct sipdlg_config *)base)->control);
	return 0;
}

static int load_log(struct cfg_ctx *ctx, const struct cfg_node *n,
		    const struct cfg_key *k, void *base)
{
	cfg_apply_map(ctx, n, k->name, log_keys,
		      &((struct sipdlg_config *)base)->log);
	return 0;
}

static int load_metrics(struct cfg_ctx *ctx, const struct cfg_node *n,
			const struct cfg_key *k, void *base)
{
	cfg_load_metrics(ctx, n, &((struct sipdlg_config *)base)->metrics);
	return 0;
}

/* Deferred: see the top of the file. */
static int note_routes(struct cfg_ctx *ctx, const struct cfg_node *n,
		       const struct cfg_key *k, void *base)
{
	ctx->routes_node = n;
	return 0;
}

#define SECTION(name, fn) { name, CFG_K_CUSTOM, 0, 0, 0, NULL, fn, NULL }

static const struct cfg_key top_keys[] = {
	SECTION("listen", load_listen),
	{ "advertise", CFG_K_STR, F(sipdlg_config, advertise), 0, 0, NULL,
	  check_advertise, NULL },
	{ "workers", CFG_K_U32, F(sipdlg_config, workers), 0, 1024, NULL, NULL,
	  NULL },
	SECTION("sip", load_sip),
	SECTION("tcp", load_tcp),
	SECTION("tls", load_tls),
	SECTION("proxy", load_proxy),
	SECTION("dialog", load_dialog),
	SECTION("xdp", load_xdp),
	SECTION("database", load_database),
	SECTION("cluster", cfg_load_cluster),
	SECTION("limits", load_limits),
	SECTION("control", load_control),
	SECTION("log", load_log),
	SECTION("metrics", load_metrics),
	SECTION("routes", note_routes),
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

void cfg_load_tree(struct cfg_ctx *ctx, const struct cfg_node *root,
		   struct sipdlg_config *cfg)
{
	if (cfg_is_null(root))
		return;		/* an empty file: every default */
	if (root->type != CFG_NODE_MAP) {
		if (root->type != CFG_NODE_BAD)
			cfg_error(ctx, root, "the config must be a map of "
				  "sections (listen:, dialog:, routes:, ...), "
				  "got %s", cfg_node_kind(root));
		return;
	}
	ctx->routes_node = NULL;
	ctx->mac_node = NULL;
	ctx->cluster_node = NULL;
	ctx->invite_limit_node = NULL;
	ctx->tls_listen_node = ctx->tls_fwd_node = ctx->tls_node = NULL;
	cfg_apply_map(ctx, root, NULL, top_keys, cfg);
	cfg_dialog_check(ctx, &cfg->dialog);
	cfg_cookie_mac_check(ctx, cfg);
	cfg_cluster_check(ctx, root, cfg);
	cfg_invite_limit_check(ctx, cfg);
	if (ctx->routes_node)
		cfg_load_routes(ctx, ctx->routes_node, &cfg->dialog,
				&cfg->routes);
	cfg_tls_check(ctx, cfg);
}
