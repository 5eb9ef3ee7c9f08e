/* routes.h - placeholder; the config loader defines the rule tree here. */
#ifndef SIPDLG_ROUTES_H
#define SIPDLG_ROUTES_H
#include <stddef.h>
struct route_rule;
struct route_list {
	struct route_rule *rules;
	size_t n_rules;
};
#endif
