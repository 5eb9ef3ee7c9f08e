/*
 * px_rules.h - evaluate the routes: rule tree against one request (the
 * dialog layer takes part through struct px_dlg_iface, proxy.h).
 */
#ifndef SIPDLG_PX_RULES_H
#define SIPDLG_PX_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "config/routes.h"
#include "proxy/px_internal.h"

enum px_verdict {
	PXV_NONE = 0,		/* no terminal action ran */
	PXV_FORWARD,
	PXV_REPLY,
	PXV_DROP,
};

struct px_decision {
	enum px_verdict verdict;
	const struct route_rule *rule;	/* the rule that ran, or NULL */
	const struct route_dest *fwd;	/* PXV_FORWARD */
	uint16_t code;			/* PXV_REPLY */
	const char *reason;
};

void px_rules_run(struct px_req *rq, const struct route_list *rules,
		  struct px_decision *d);
bool px_conds_hold(struct px_req *rq, const struct route_cond_set *set);
/* Run one rule's actions, its match: not consulted (timeout routes). */
void px_rules_run_rule(struct px_req *rq, const struct route_rule *r,
		       struct px_decision *d);

#endif /* SIPDLG_PX_RULES_H */
