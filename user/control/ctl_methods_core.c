/*
 * ctl_methods_core.c - core.* and stats.* RPC methods.
 *
 *   core.version             {"name":"sipdlg","version":V,"compiled":"DATE TIME"}
 *   core.uptime              {"now":S,"up_since":S,"uptime":S}  (unix seconds)
 *   stats.get_statistics [SEL...]  Kamailio's shape: ["group:name = value", ...]
 *   stats.fetch [SEL...]           {"group.name": value, ...}
 *   stats.reset_statistics [SEL...]  {"reset": N}  (STAT_NO_RESET ones kept)
 *
 * SEL is "all", a group ("dialog" or "dialog:"), "group:name" or a bare
 * statistic name (see stats.c); no parameter means "all".  An unknown one is
 * error 404 "unknown statistics group 'x'", as Kamailio answers a missing
 * profile; a parameter that is not a string is -32602.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOG_TAG "ctl"
#include "core/log.h"
#include "core/stats.h"
#include "control/ctl_internal.h"
#include "control/ctl_methods_core.h"

struct ctl_core_ctx {
	struct stats *stats;
	uint64_t start_s;
	char version[64];
};

static int core_version(void *ud, json_t *params, json_t **result,
			struct ctl_error *err)
{
	struct ctl_core_ctx *ctx = ud;

	*result = json_pack("{s:s, s:s, s:s}", "name", "sipdlg", "version",
			    ctx->version, "compiled", __DATE__ " " __TIME__);
	return *result ? 0 : ctl_error_set(err, CTL_ERR_INTERNAL,
					   "out of memory");
}

static int core_uptime(void *ud, json_t *params, json_t **result,
		       struct ctl_error *err)
{
	struct ctl_core_ctx *ctx = ud;
	json_int_t now = (json_int_t)time(NULL);
	json_int_t since = (json_int_t)ctx->start_s;

	*result = json_pack("{s:I, s:I, s:I}", "now", now, "up_since", since,
			    "uptime", now > since ? now - since : 0);
	return *result ? 0 : ctl_error_set(err, CTL_ERR_INTERNAL,
					   "out of memory");
}

/*
 * Check the selectors of a stats.* call: 0 when @params is acceptable,
 * else fills @err and returns -1.  An absent or empty list means "all".
 */
static int stats_check_params(json_t *params, struct ctl_error *err)
{
	size_t i;
	json_t *v;

	if (!params)
		return 0;
	if (!json_is_array(params))
		return ctl_error_set(err, CTL_ERR_INVALID_PARAMS,
			"expected a list of statistics groups or names");
	json_array_foreach(params, i, v) {
		if (!json_is_string(v))
			return ctl_error_set(err, CTL_ERR_INVALID_PARAMS,
				"parameter %zu: statistics groups and names are strings",
				i + 1);
	}
	return 0;
}

static int stats_unknown(struct ctl_error *err, const char *sel)
{
	const char *colon = strchr(sel, ':');

	if (colon && colon[1])
		return ctl_error_set(err, 404, "unknown statistic '%.200s'",
				     sel);
	return ctl_error_set(err, 404, "unknown statistics group '%.*s'",
			     (int)(colon ? colon - sel : 200), sel);
}

static size_t stats_nsel(json_t *params)
{
	size_t n = json_array_size(params);	/* 0 for NULL */

	return n ? n : 1;
}

static const char *stats_sel(json_t *params, size_t i)
{
	json_t *v = json_array_get(params, i);

	return v ? json_string_value(v) : "all";
}

static void stats_add_line(const char *group, const char *name, int64_t value,
			   void *ud)
{
	char line[200];

	snprintf(line, sizeof(line), "%s:%s = %" PRId64, group, name, value);
	json_array_append_new(ud, json_string(line));
}

static void stats_add_member(const char *group, const char *name,
			     int64_t value, void *ud)
{
	char key[160];

	snprintf(key, sizeof(key), "%s.%s", group, name);
	json_object_set_new(ud, key, json_integer((json_int_t)value));
}

/* Run @fn for every selector into a fresh @container. */
static int stats_collect(struct ctl_core_ctx *ctx, json_t *params,
			 json_t *container, stats_iter_fn fn, json_t **result,
			 struct ctl_error *err)
{
	if (!container)
		return ctl_error_set(err, CTL_ERR_INTERNAL, "out of memory");
	if (stats_check_params(params, err)) {
		json_decref(container);
		return -1;
	}
	for (size_t i = 0; i < stats_nsel(params); i++) {
		const char *sel = stats_sel(params, i);

		if (stats_foreach(ctx->stats, sel, fn, container) < 0) {
			json_decref(container);
			return stats_unknown(err, sel);
		}
	}
	*result = container;
	return 0;
}

static int stats_get_statistics(void *ud, json_t *params, json_t **result,
				struct ctl_error *err)
{
	return stats_collect(ud, params, json_array(), stats_add_line, result,
			     err);
}

static int stats_fetch(void *ud, json_t *params, json_t **result,
		       struct ctl_error *err)
{
	return stats_collect(ud, params, json_object(), stats_add_member,
			     result, err);
}

static void stats_nop(const char *group, const char *name, int64_t value,
		      void *ud)
{
}

static int stats_reset_statistics(void *ud, json_t *params, json_t **result,
				  struct ctl_error *err)
{
	struct ctl_core_ctx *ctx = ud;
	json_int_t total = 0;

	if (stats_check_params(params, err))
		return -1;
	/* Check every selector first: an error resets nothing. */
	for (size_t i = 0; i < stats_nsel(params); i++) {
		const char *sel = stats_sel(params, i);

		if (stats_foreach(ctx->stats, sel, stats_nop, NULL) < 0)
			return stats_unknown(err, sel);
	}
	for (size_t i = 0; i < stats_nsel(params); i++) {
		int n = stats_reset(ctx->stats, stats_sel(params, i));

		if (n < 0)
			return stats_unknown(err, stats_sel(params, i));
		total += n;
	}
	*result = json_pack("{s:I}", "reset", total);
	return *result ? 0 : ctl_error_set(err, CTL_ERR_INTERNAL,
					   "out of memory");
}

int ctl_methods_core_register(struct ctl_server *s, struct stats *st,
			      const char *version, uint64_t start_realtime_s)
{
	static const struct {
		const char *name;
		ctl_method_fn fn;
	} methods[] = {
		{ "core.version", core_version },
		{ "core.uptime", core_uptime },
		{ "stats.get_statistics", stats_get_statistics },
		{ "stats.fetch", stats_fetch },
		{ "stats.reset_statistics", stats_reset_statistics },
	};
	struct ctl_core_ctx *ctx;

	if (!s || !st)
		return -EINVAL;
	for (size_t i = 0; i < s->nmethods; i++)
		if (strcmp(s->methods[i].name, methods[0].name) == 0)
			return -EEXIST;		/* registered already */
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->stats = st;
	ctx->start_s = start_realtime_s;
	snprintf(ctx->version, sizeof(ctx->version), "%s",
		 version ? version : "unknown");
	if (ctl_server_keep(s, ctx) != 0) {
		free(ctx);
		return -ENOMEM;
	}
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		int err = ctl_register(s, methods[i].name, methods[i].fn, ctx);

		if (err) {
			log_err("cannot register %s: %s", methods[i].name,
				strerror(-err));
			return err;
		}
	}
	return 0;
}
