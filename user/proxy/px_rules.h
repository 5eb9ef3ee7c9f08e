/*
 * px_rules.h - evaluate the routes: rule tree against one request, and the
 * hooks through which the dialog layer takes part.
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

struct px_req;

/* What the dialog layer plugs in (all optional). */
struct px_dlg_ops {
	bool (*cond)(struct px_req *rq, const struct route_cond *c);
	/* Returns true if the action decided the request (e.g. a reply). */
	bool (*action)(struct px_req *rq, const struct route_action *a,
		       struct px_decision *d);
	void (*var_get)(const struct px_req *rq, const char *key, char *out,
			size_t *n, size_t cap);
	/* $DLG_status, $DLG_lifetime, $DLG_count. */
	void (*pv_get)(const struct px_req *rq, enum route_pv pv, char *out,
		       size_t *n, size_t cap);
};

/* One request on its way through the proxy. */
struct px_req {
	struct proxy *px;
	const struct sip_msg *msg;
	const struct tp_peer *src;
	const struct px_dlg_ops *dlg;
	void *dlg_ctx;			/* the dialog layer's per-request state */
	char rr_params[128];		/* appended to our Record-Route URI */
	unsigned own_rr;		/* Record-Route entries we added */
	char ruri[512];			/* ruri_user: the rewritten R-URI */
	size_t ruri_len;		/* 0 = unchanged */
	bool has_dlg;			/* set by the dialog layer: */
	struct px_branch_dlg bdlg;	/* the dialog, for our branch */
};

void px_rules_run(struct px_req *rq, const struct route_list *rules,
		  struct px_decision *d);
bool px_conds_hold(struct px_req *rq, const struct route_cond_set *set);
/* Run one rule's actions, its match: not consulted (timeout routes). */
void px_rules_run_rule(struct px_req *rq, const struct route_rule *r,
		       struct px_decision *d);
/* Expand a value with pseudo-variables into @out; returns its length. */
size_t px_tpl_expand(const struct px_req *rq, const struct route_tpl *t,
		     char *out, size_t cap);

#endif /* SIPDLG_PX_RULES_H */
