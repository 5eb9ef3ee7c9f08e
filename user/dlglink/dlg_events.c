/*
 * dlg_events.c - dialog events for control clients: `dlg.subscribe` makes
 * the calling client a subscriber, and every dialog callback (created,
 * early, confirmed, terminated, failed, expired, ...) then reaches it as a
 * notification, so operators can feed billing and monitoring from them:
 *
 *   {"jsonrpc":"2.0","method":"dlg.event","params":{"event":"confirmed",
 *    "h_entry":1685,"h_id":9485,"call-id":"...","from_uri":"...",
 *    "to_uri":"...","from_tag":"...","to_tag":"...","state":4,
 *    "old_state":3,"code":0,"ts":1700000000}}
 */
#define LOG_TAG "dialog"

#include <string.h>
#include <time.h>

#include <jansson.h>

#include "control/ctl_server.h"
#include "dialog/dlg.h"
#include "dlglink/dlg_events.h"

static const struct {
	int type;
	const char *name;
} names[] = {
	{ DLGCB_LOADED, "loaded" },
	{ DLGCB_CREATED, "created" },
	{ DLGCB_FAILED, "failed" },
	{ DLGCB_CONFIRMED_NA, "confirmed_na" },
	{ DLGCB_CONFIRMED, "confirmed" },
	{ DLGCB_REQ_WITHIN, "req_within" },
	{ DLGCB_TERMINATED, "terminated" },
	{ DLGCB_EXPIRED, "expired" },
	{ DLGCB_EARLY, "early" },
	{ DLGCB_RESPONSE_FWDED, "response_fwded" },
	{ DLGCB_RESPONSE_WITHIN, "response_within" },
	{ DLGCB_DESTROY, "destroy" },
	{ DLGCB_SPIRALED, "spiraled" },
	{ DLGCB_TERMINATED_CONFIRMED, "terminated_confirmed" },
};

static json_t *sl(struct sip_str s)
{
	return json_stringn(s.p ? s.p : "", s.p ? s.len : 0);
}

static void on_event(struct dlg_cell *c, int type,
		     const struct dlg_cb_params *p)
{
	struct ctl_server *srv = p->param;
	const char *name = NULL;
	json_t *o;

	if (!ctl_has_subscribers(srv))
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == type)
			name = names[i].name;
	if (!name)
		return;
	o = json_object();
	json_object_set_new(o, "event", json_string(name));
	json_object_set_new(o, "h_entry", json_integer(dlg_h_entry(c)));
	json_object_set_new(o, "h_id", json_integer(dlg_h_id(c)));
	json_object_set_new(o, "call-id", sl(dlg_callid(c)));
	json_object_set_new(o, "from_uri", sl(dlg_from_uri(c)));
	json_object_set_new(o, "to_uri", sl(dlg_to_uri(c)));
	json_object_set_new(o, "from_tag", sl(dlg_caller_tag(c)));
	json_object_set_new(o, "to_tag", sl(dlg_callee_tag(c)));
	json_object_set_new(o, "state", json_integer(dlg_state(c)));
	json_object_set_new(o, "old_state", json_integer(p->old_state));
	json_object_set_new(o, "code", json_integer(p->code));
	json_object_set_new(o, "ts", json_integer((json_int_t)time(NULL)));
	ctl_publish(srv, "dlg.event", o);
}

static int rpc_subscribe(void *ud, json_t *params, json_t **result,
			 struct ctl_error *err)
{
	if (ctl_subscribe_current(ud) != 0)
		return ctl_error_set(err, 500, "cannot subscribe");
	*result = json_pack("{s:s}", "subscribed", "dlg.event");
	return 0;
}

int dlg_events_install(struct dlg_table *t, struct ctl_server *srv)
{
	int r = dlg_register_global_cb(t, DLGCB_ALL & ~DLGCB_RPC_CONTEXT,
				       on_event, srv, NULL);

	if (!r)
		r = ctl_register(srv, "dlg.subscribe", rpc_subscribe, srv);
	return r;
}
