/*
 * dlg_stats.h - the dialog statistics under Kamailio's names (group
 * "dialog"), so dashboards built on Kamailio keep working.
 */
#ifndef SIPDLG_DLG_STATS_H
#define SIPDLG_DLG_STATS_H

struct stats;
struct stat_var;

struct dlg_stats {
	struct stat_var *active_dialogs;	/* gauge: states 3 and 4 */
	struct stat_var *early_dialogs;		/* gauge: state 2 */
	struct stat_var *processed_dialogs;
	struct stat_var *expired_dialogs;
	struct stat_var *failed_dialogs;
};

/* With enable_stats 0 nothing is registered and every pointer is NULL
 * (stat_add is NULL-safe). */
void dlg_stats_register(struct stats *st, int enable_stats,
			struct dlg_stats *out);

#endif
