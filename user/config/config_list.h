/*
 * config_list.h - a YAML list of scalars ("[lo, eth0]", or one scalar that
 * stands for a list of one), the shape of several config keys.
 *
 * cfg_list_each() walks the items and leaves each to a callback;
 * cfg_str_list_load() is the common case on top of it: distinct strings
 * copied into a fixed array of the config struct.  Every problem is
 * reported at the node it concerns (FILE:LINE:COL of the item), and the
 * walk goes on to report the next one.
 */
#ifndef SIPDLG_CONFIG_LIST_H
#define SIPDLG_CONFIG_LIST_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config_int.h"

/* What the callback returns to refuse an item and stop the walk (after
 * reporting why: a full list, where each further item would say so too). */
#define CFG_LIST_STOP 1

/* One item: 0 taken, < 0 refused (reported), or CFG_LIST_STOP. */
typedef int (*cfg_list_fn)(struct cfg_ctx *ctx, const struct cfg_node *item,
			   const char *key, void *arg);

/*
 * Call @fn for each item of @n: a list, or a scalar taken as a list of
 * one; a null node has no items.  Another shape is reported as "KEY:
 * expected a list, e.g. @example, got ...".  Returns 0, or -EINVAL when
 * the shape was wrong or @fn refused an item.
 */
int cfg_list_each(struct cfg_ctx *ctx, const struct cfg_node *n,
		  const char *key, const char *example, cfg_list_fn fn,
		  void *arg);

/* A list of distinct strings into v[0..*count), at most @max. */
struct cfg_str_list {
	char **v;
	size_t *count;
	size_t max;
	const char *example;	/* for "expected a list, e.g. ..." */
	/* "KEY: at most MAX MANY" when the list is longer. */
	const char *many;
	/* "KEY: WHAT 'x' is listed twice"; NULL: "KEY: 'x' is listed twice" */
	const char *what;
	bool nocase;		/* duplicates compared without regard to case */
	/* Checks one string; reports and returns < 0 to refuse it. */
	int (*check)(struct cfg_ctx *ctx, const struct cfg_node *item,
		     const char *key, const char *s);
};

/*
 * Free what the list held, then fill it from @n (see cfg_list_each) with
 * copies of the items that are text, pass ->check and are not there yet.
 * Returns as cfg_list_each.
 */
int cfg_str_list_load(struct cfg_ctx *ctx, const struct cfg_node *n,
		      const char *key, const struct cfg_str_list *l);

#endif /* SIPDLG_CONFIG_LIST_H */
