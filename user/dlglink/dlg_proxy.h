/*
 * dlg_proxy.h - plug the dialog core into the proxy: the interface that
 * matches sequential requests, runs the dialog rule actions and conditions,
 * and feeds dialogs the replies of their transactions.
 */
#ifndef SIPDLG_DLG_PROXY_H
#define SIPDLG_DLG_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "sip/sip_str.h"

struct dlg_table;
struct proxy;

/* A BYE that matched no dialog (before the rules run; it is routed as
 * any unknown sequential request).  Its cookie's ids if it had one. */
struct dlgp_unknown_bye {
	struct sip_str callid, from_tag, to_tag;
	uint32_t h_entry, h_id;
	bool has_id;
};
/* Returns true if it took note of @b (the request is then matched once
 * more: see dlg_proxy.c on_request). */
typedef bool (*dlgp_unknown_bye_fn)(void *ud,
				    const struct dlgp_unknown_bye *b);

/* Call @fn (any worker thread) for each such BYE from now on: one
 * listener per process, set before the transport starts (the database's
 * late load remembers them, db.h db_note_end). */
void dlgp_on_unknown_bye(dlgp_unknown_bye_fn fn, void *ud);

/* Give @px the dialog layer over @t (before the transport starts), and
 * run timeout_route rules at expiry (install before the timeout BYEs). */
int dlgp_install(struct dlg_table *t, struct proxy *px);

#endif
