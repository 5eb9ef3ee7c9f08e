/* dlg_config.h - the dialog core's settings from the daemon's config. */
#ifndef SIPDLG_DLG_CONFIG_H
#define SIPDLG_DLG_CONFIG_H

struct dlg_config;
struct cfg_dialog;

/* Kamailio's parameters (seconds) to a dlg_config (ms).  The profile
 * name arrays point into @cd, which must outlive the table alloc call. */
void dlg_config_from_cfg(struct dlg_config *out, const struct cfg_dialog *cd);

#endif
