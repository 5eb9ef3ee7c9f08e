/* dlg_events.h - dialog events streamed to control clients (dlg.subscribe). */
#ifndef SIPDLG_DLG_EVENTS_H
#define SIPDLG_DLG_EVENTS_H

struct dlg_table;
struct ctl_server;

int dlg_events_install(struct dlg_table *t, struct ctl_server *srv);

#endif
