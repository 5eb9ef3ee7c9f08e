/* dlg_stats.c - register the dialog statistics. */
#include <string.h>

#include "core/stats.h"
#include "dialog/dlg_stats.h"

void dlg_stats_register(struct stats *st, int enable_stats,
			struct dlg_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!enable_stats)
		return;
	out->active_dialogs =
		stats_register(st, "dialog", "active_dialogs", STAT_NO_RESET);
	out->early_dialogs =
		stats_register(st, "dialog", "early_dialogs", STAT_NO_RESET);
	out->processed_dialogs =
		stats_register(st, "dialog", "processed_dialogs", 0);
	out->expired_dialogs = stats_register(st, "dialog", "expired_dialogs", 0);
	out->failed_dialogs = stats_register(st, "dialog", "failed_dialogs", 0);
}
