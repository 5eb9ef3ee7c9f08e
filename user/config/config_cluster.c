/*
 * config_cluster.c - the cluster: section (several boxes on one Galera
 * cluster) and its checks against the dialog: keys.
 *
 * The section fixes the h_id series of the node (Kamailio's h_id_start /
 * h_id_step scheme, reference section 1.3): h_id_start = node_id - 1 and
 * h_id_step = nodes, so node N only ever makes ids with
 * h_id % nodes == N - 1 and no two nodes can give the same (h_entry, h_id)
 * to different calls.  Explicit h_id_start/h_id_step that say otherwise
 * are refused rather than silently overridden.
 */
#include <errno.h>
#include <stddef.h>

#include "config/config_int.h"
#include "config/config_list.h"

#define C(f) offsetof(struct cfg_cluster, f)

/* backup_of: a list of node ids (or one), none twice. */
static int backup_of_item(struct cfg_ctx *ctx, const struct cfg_node *item,
			  const char *key, void *arg)
{
	struct cfg_cluster *c = arg;
	long long v;
	bool dup = false;

	if (cfg_get_int(ctx, item, key, 1, CFG_MAX_NODES, &v))
		return -EINVAL;
	for (size_t j = 0; j < c->n_backup_of; j++)
		dup |= c->backup_of[j] == (uint32_t)v;
	if (dup) {
		cfg_error(ctx, item, "%s: node %lld is listed twice", key, v);
		return -EINVAL;
	}
	c->backup_of[c->n_backup_of++] = (uint32_t)v;
	return 0;
}

static int load_backup_of(struct cfg_ctx *ctx, const struct cfg_node *n,
			  const struct cfg_key *k, void *base)
{
	struct cfg_cluster *c = base;

	c->n_backup_of = 0;
	return cfg_list_each(ctx, n, k->name, "[2]", backup_of_item, c);
}

/* profiles: names of declared profiles, counted across the cluster. */
static int load_profiles(struct cfg_ctx *ctx, const struct cfg_node *n,
			 const struct cfg_key *k, void *base)
{
	struct cfg_cluster *c = base;
	const struct cfg_str_list l = {
		.v = c->profiles, .count = &c->n_profiles,
		.max = CFG_MAX_PROFILES, .example = "[caller]",
		.many = "profiles", .what = "profile",
	};

	return cfg_str_list_load(ctx, n, k->name, &l);
}

static int check_address(struct cfg_ctx *ctx, const struct cfg_node *n,
			 const struct cfg_key *k, void *base)
{
	const char *s = ((struct cfg_cluster *)base)->address;
	char why[160];

	if (*s == '\0' || cfg_check_hostport(s, why, sizeof(why)) == 0)
		return 0;
	cfg_error(ctx, n, "address: %s", why);
	return -EINVAL;
}

static const struct cfg_key cluster_keys[] = {
	{ "node_id", CFG_K_U32, C(node_id), 1, CFG_MAX_NODES, NULL, NULL,
	  NULL },
	{ "nodes", CFG_K_U32, C(nodes), 1, CFG_MAX_NODES, NULL, NULL, NULL },
	{ "address", CFG_K_STR, C(address), 0, 0, NULL, check_address, NULL },
	{ "heartbeat_interval", CFG_K_U32, C(heartbeat_interval), 1, 60, NULL,
	  NULL, NULL },
	{ "takeover_after", CFG_K_U32, C(takeover_after), 2, 3600, NULL, NULL,
	  NULL },
	{ "backup_of", CFG_K_CUSTOM, 0, 0, 0, NULL, load_backup_of, NULL },
	{ "profiles", CFG_K_CUSTOM, 0, 0, 0, NULL, load_profiles, NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

int cfg_load_cluster(struct cfg_ctx *ctx, const struct cfg_node *n,
		     const struct cfg_key *k, void *base)
{
	struct cfg_cluster *c = &((struct sipdlg_config *)base)->cluster;

	if (cfg_is_null(n))
		return 0;
	if (cfg_expect_map(ctx, n, k->name))
		return -EINVAL;
	ctx->cluster_node = n;
	c->enabled = 1;
	cfg_apply_map(ctx, n, k->name, cluster_keys, c);
	return 0;
}

/* The node of @key in map @n, else @n itself (for messages). */
static const struct cfg_node *at(const struct cfg_node *n, const char *key)
{
	const struct cfg_node *v = cfg_map_get(n, key);

	return v ? v : n;
}

void cfg_cluster_check(struct cfg_ctx *ctx, const struct cfg_node *root,
		       struct sipdlg_config *cfg)
{
	struct cfg_cluster *c = &cfg->cluster;
	struct cfg_dialog *d = &cfg->dialog;
	const struct cfg_node *n = ctx->cluster_node;
	const struct cfg_node *dn = cfg_map_get(root, "dialog");
	const struct cfg_node *hs = cfg_map_get(dn, "h_id_start");
	const struct cfg_node *hp = cfg_map_get(dn, "h_id_step");
	uint32_t start, step;

	if (!c->enabled || !n)
		return;
	if (!cfg_map_get(n, "node_id"))
		cfg_error(ctx, n, "cluster: node_id is missing (this box's "
			  "number, 1..nodes)");
	if (!cfg_map_get(n, "nodes"))
		cfg_error(ctx, n, "cluster: nodes is missing (how many boxes "
			  "share the database)");
	if (!c->node_id || !c->nodes)
		return;
	if (c->node_id > c->nodes) {
		cfg_error(ctx, at(n, "node_id"), "node_id: %u is more than "
			  "nodes (%u); nodes are numbered 1..%u", c->node_id,
			  c->nodes, c->nodes);
		return;
	}
	if (d->db_mode != 1)
		cfg_error(ctx, ctx->db_mode_node ? ctx->db_mode_node : n,
			  "cluster: needs dialog.db_mode: 1 (every change "
			  "written at once, so another box can take the "
			  "dialogs over), not %d", d->db_mode);
	else if (!d->db_url_set)
		cfg_error(ctx, n, "cluster: needs dialog.db_url (the Galera "
			  "node of this box)");
	if (c->takeover_after <= c->heartbeat_interval)
		cfg_error(ctx, at(n, "takeover_after"), "takeover_after: %u s "
			  "is not more than heartbeat_interval (%u s): a live "
			  "node would be taken over", c->takeover_after,
			  c->heartbeat_interval);
	for (size_t i = 0; i < c->n_backup_of; i++) {
		const struct cfg_node *b = at(n, "backup_of");

		if (c->backup_of[i] == c->node_id)
			cfg_error(ctx, b, "backup_of: node %u is this node",
				  c->backup_of[i]);
		else if (c->backup_of[i] > c->nodes)
			cfg_error(ctx, b, "backup_of: node %u is more than "
				  "nodes (%u)", c->backup_of[i], c->nodes);
	}
	for (size_t i = 0; i < c->n_profiles; i++)
		if (cfg_profile_kind(d, c->profiles[i]) < 0)
			cfg_error(ctx, at(n, "profiles"), "profiles: '%s' is "
				  "not declared in dialog.profiles_with_value "
				  "or dialog.profiles_no_value",
				  c->profiles[i]);
	start = c->node_id - 1;
	step = c->nodes;
	if (hs && d->h_id_start != (int32_t)start)
		cfg_error(ctx, hs, "h_id_start: %d disagrees with cluster "
			  "node_id %u (which sets h_id_start %u); remove it",
			  d->h_id_start, c->node_id, start);
	if (hp && d->h_id_step != step)
		cfg_error(ctx, hp, "h_id_step: %u disagrees with cluster nodes "
			  "%u (which sets h_id_step %u); remove it",
			  d->h_id_step, c->nodes, step);
	d->h_id_start = (int32_t)start;
	d->h_id_step = step;
}
