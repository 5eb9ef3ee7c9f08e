/*
 * ctl_methods_core.h - the core.* and stats.* RPC methods.
 *
 * core.version, core.uptime, stats.get_statistics (Kamailio's
 * ["group:name = value", ...]), stats.fetch ({"group.name": value}) and
 * stats.reset_statistics ({"reset": N}).  See ctl_methods_core.c.
 */
#ifndef SIPDLG_CTL_METHODS_CORE_H
#define SIPDLG_CTL_METHODS_CORE_H

#include <stdint.h>

struct ctl_server;
struct stats;

/*
 * Register the methods on @s.  @st is borrowed and must outlive @s;
 * @version is copied; @start_realtime_s is the daemon's start, unix seconds.
 * 0 or -errno (-EEXIST if called twice).
 */
int ctl_methods_core_register(struct ctl_server *s, struct stats *st,
			      const char *version, uint64_t start_realtime_s);

#endif /* SIPDLG_CTL_METHODS_CORE_H */
