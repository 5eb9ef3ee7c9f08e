/*
 * dlg_config.c - translate the YAML dialog: section (config/) into the
 * dialog core's own settings, so the core never sees the config module.
 */
#include <string.h>

#include "config/config.h"
#include "dialog/dlg.h"
#include "dlglink/dlg_config.h"

void dlg_config_from_cfg(struct dlg_config *out, const struct cfg_dialog *cd)
{
	memset(out, 0, sizeof(*out));
	out->hash_size = cd->hash_size;
	out->rr_param = cd->rr_param;
	out->default_timeout_ms = (uint64_t)cd->default_timeout * 1000u;
	out->match_mode = cd->dlg_match_mode;
	out->detect_spirals = cd->detect_spirals;
	out->h_id_start = cd->h_id_start;
	out->h_id_step = cd->h_id_step;
	out->early_timeout_ms = (uint64_t)cd->early_timeout * 1000u;
	out->noack_timeout_ms = (uint64_t)cd->noack_timeout * 1000u;
	out->end_timeout_ms = (uint64_t)cd->end_timeout * 1000u;
	out->send_bye = cd->send_bye;
	out->timeout_noreset = cd->timeout_noreset;
	out->profiles_with_value = (const char *const *)cd->profiles_with_value;
	out->n_profiles_with_value = cd->n_profiles_with_value;
	out->profiles_no_value = (const char *const *)cd->profiles_no_value;
	out->n_profiles_no_value = cd->n_profiles_no_value;
}
