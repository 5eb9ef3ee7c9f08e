/* dlg_bridge.h - dlg_bridge / dlg.bridge_dlg (click-to-dial). */
#ifndef SIPDLG_DLG_BRIDGE_H
#define SIPDLG_DLG_BRIDGE_H

struct proxy;
struct ctl_server;

/* Call @from (through @op if given), then REFER it to @to.  @body: NULL
 * for the hold SDP, "" for none.  0 or -errno. */
int dlgb_bridge(struct proxy *px, const char *from, const char *to,
		const char *op, const char *body);
int dlgb_install(struct proxy *px, struct ctl_server *srv);

#endif
