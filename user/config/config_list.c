/*
 * config_list.c - a YAML list of scalars, walked item by item (see
 * config_list.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_list.h"

int cfg_list_each(struct cfg_ctx *ctx, const struct cfg_node *n,
		  const char *key, const char *example, cfg_list_fn fn,
		  void *arg)
{
	const struct cfg_node *const *items = &n;
	size_t count = 1;
	int rc = 0;

	if (cfg_is_null(n))
		return 0;
	if (n->type == CFG_NODE_SEQ) {
		items = (const struct cfg_node *const *)n->kids;
		count = n->n_kids;
	} else if (n->type != CFG_NODE_SCALAR) {
		return cfg_expect_seq(ctx, n, key, example);
	}
	for (size_t i = 0; i < count; i++) {
		int r = fn(ctx, items[i], key, arg);

		if (r != 0)
			rc = -EINVAL;
		if (r == CFG_LIST_STOP)
			break;
	}
	return rc;
}

static int str_item(struct cfg_ctx *ctx, const struct cfg_node *item,
		    const char *key, void *arg)
{
	const struct cfg_str_list *l = arg;
	const char *s;
	bool dup = false;

	if (cfg_get_text(ctx, item, key, &s))
		return -EINVAL;
	if (l->check && l->check(ctx, item, key, s))
		return -EINVAL;
	for (size_t j = 0; j < *l->count; j++)
		dup |= (l->nocase ? strcasecmp(l->v[j], s)
				  : strcmp(l->v[j], s)) == 0;
	if (dup) {
		cfg_error(ctx, item, "%s: %s%s'%s' is listed twice", key,
			  l->what ? l->what : "", l->what ? " " : "", s);
		return -EINVAL;
	}
	if (*l->count == l->max) {
		cfg_error(ctx, item, "%s: at most %zu %s", key, l->max,
			  l->many);
		return CFG_LIST_STOP;
	}
	l->v[*l->count] = cfg_strdup(ctx, s);
	if (l->v[*l->count])
		(*l->count)++;
	return 0;
}

int cfg_str_list_load(struct cfg_ctx *ctx, const struct cfg_node *n,
		      const char *key, const struct cfg_str_list *l)
{
	for (size_t i = 0; i < *l->count; i++) {
		free(l->v[i]);
		l->v[i] = NULL;
	}
	*l->count = 0;
	return cfg_list_each(ctx, n, key, l->example, str_item, (void *)l);
}
