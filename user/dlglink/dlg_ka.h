/*
 * dlg_ka.h - in-dialog OPTIONS keep-alives (Kamailio 5.6, reference 4.6):
 * ka_timer, ka_interval, ka_failed_limit, and the dlg_keepalive: action
 * that chooses the sides per dialog (iflags KA_SRC / KA_DST).
 */
#ifndef SIPDLG_DLG_KA_H
#define SIPDLG_DLG_KA_H

#include <stdbool.h>
#include <stdint.h>

struct dlg_table;
struct proxy;
struct stats;
struct tmr_service;

/* What one final reply to a keep-alive means: true = a failure (408,
 * 481, or 408 made up for no answer at all), false = the leg is alive. */
bool dlgk_reply_failed(int code);

/*
 * Start keep-alives when the config asks for them (ka_timer and
 * ka_interval both > 0; otherwise nothing is installed and 0 returned):
 * a dialog whose iflags select a side joins when it is confirmed by its
 * ACK (or restored confirmed from the database); every ka_timer seconds
 * the dialogs due get an OPTIONS towards each selected side, and are due
 * again ka_interval later.  ka_failed_limit failures in a row on one
 * side end the dialog with BYE both ways.  Statistics (group dialog):
 * keepalives_sent, keepalives_answered, keepalives_failed,
 * keepalive_ended_dialogs.  The state lives until dlg_table_free (after
 * the timer service is stopped).  0 or -errno.
 */
int dlgk_install(struct dlg_table *t, struct proxy *px,
		 struct tmr_service *tmr, struct stats *st);

#endif
