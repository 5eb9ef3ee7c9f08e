/*
 * config_mac.c - xdp.cookie_mac: { key_file: PATH }, the key of the
 * cookie MAC (";dm=" beside the cookie, see user/mac/mac_key.h).
 *
 * The key file is checked here, so `sipdlgd --check` and a start refuse
 * the same files with the same words, at the key_file line of the YAML.
 * A missing file is fine (it is created at start) if its directory exists.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config_int.h"
#include "mac/mac_key.h"

/* key_file: absolute, and a file mac_keys_read() accepts (or none yet). */
static int check_key_file(struct cfg_ctx *ctx, const struct cfg_node *n,
			  const struct cfg_key *k, void *base)
{
	const char *path = ((struct cfg_xdp *)base)->mac_key_file;
	char err[512], dir[4096];
	struct mac_keys keys;
	struct stat st;
	int r;

	ctx->mac_node = n;
	if (*path == '\0')
		return 0;	/* the MAC is off */
	if (*path != '/' || strlen(path) >= sizeof(dir)) {
		cfg_error(ctx, n, "cookie_mac.key_file: '%s' must be an "
			  "absolute path", path);
		return -EINVAL;
	}
	r = mac_keys_read(path, &keys, err, sizeof(err));
	explicit_bzero(&keys, sizeof(keys));
	if (r == 0)
		return 0;
	if (r != -ENOENT) {
		cfg_error(ctx, n, "cookie_mac.key_file: %s", err);
		return r;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if (stat(dirname(dir), &st) != 0 || !S_ISDIR(st.st_mode)) {
		cfg_error(ctx, n, "cookie_mac.key_file: %s does not exist and "
			  "cannot be created: no directory %s", path, dir);
		return -ENOENT;
	}
	return 0;		/* created with a random key at start */
}

static const struct cfg_key cookie_mac_keys[] = {
	{ "key_file", CFG_K_STR, offsetof(struct cfg_xdp, mac_key_file), 0,
	  0, NULL, check_key_file, NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

int cfg_load_cookie_mac(struct cfg_ctx *ctx, const struct cfg_node *n,
			const struct cfg_key *k, void *base)
{
	cfg_apply_map(ctx, n, "xdp.cookie_mac", cookie_mac_keys, base);
	return 0;
}

/* Settings the MAC cannot work with are refused, not ignored. */
void cfg_cookie_mac_check(struct cfg_ctx *ctx, const struct sipdlg_config *cfg)
{
	if (!ctx->mac_node || cfg->xdp.mac_key_file[0] == '\0')
		return;
	if (!cfg->xdp.enabled)
		cfg_error(ctx, ctx->mac_node, "cookie_mac: the MAC is checked "
			  "by the XDP program, but xdp.enabled is false; "
			  "remove cookie_mac or enable XDP");
	else if (cfg->dialog.dlg_match_mode == 2)
		cfg_error(ctx, ctx->mac_node, "cookie_mac: dlg_match_mode 2 "
			  "puts no cookie in the Record-Route, so there is "
			  "nothing to sign; remove cookie_mac or use "
			  "dlg_match_mode 0 or 1");
}
