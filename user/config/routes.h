/*
 * routes.h - the rule tree parsed from the routes: section of the config.
 *
 * The YAML routes: list plays the part of a Kamailio routing script.  The
 * loader (config/) turns it into the tree below and validates everything it
 * can without a message in hand: names of conditions and actions, numbers
 * and their ranges, addresses, profile names and pseudo-variable names.
 * The executor walks the tree per request and never re-parses text.
 *
 *   route_list          the routes: list, in file order
 *     route_rule        one item: optional match: map, actions: list
 *       route_cond_set  conditions, all of which must hold (empty = true)
 *       route_action_list
 *         route_action  tagged by enum route_action_type; an IF action
 *                       holds a route_cond_set and two action lists
 *
 * Every condition and action keeps the 1-based line and column where it was
 * written, so run-time messages can point at the YAML.  Everything in the
 * tree is owned by the tree and freed by route_list_free().
 */
#ifndef SIPDLG_ROUTES_H
#define SIPDLG_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <regex.h>
#include <sys/socket.h>

/* Where an item was written in the YAML file, 1-based. */
struct route_pos {
	unsigned line;
	unsigned col;
};

/* --- values with pseudo-variables --------------------------------------- */

enum route_pv {
	ROUTE_PV_NONE = 0,	/* literal text */
	ROUTE_PV_FROM_URI,	/* $fu */
	ROUTE_PV_FROM_USER,	/* $fU */
	ROUTE_PV_FROM_DOMAIN,	/* $fd */
	ROUTE_PV_TO_URI,	/* $tu */
	ROUTE_PV_TO_USER,	/* $tU */
	ROUTE_PV_TO_DOMAIN,	/* $td */
	ROUTE_PV_RURI,		/* $ru */
	ROUTE_PV_RURI_USER,	/* $rU */
	ROUTE_PV_RURI_DOMAIN,	/* $rd */
	ROUTE_PV_SRC_IP,	/* $si */
	ROUTE_PV_SRC_PORT,	/* $sp */
	ROUTE_PV_CALLID,	/* $ci */
	ROUTE_PV_HDR,		/* $hdr(Name) */
	ROUTE_PV_DLG_VAR,	/* $dlg_var(key) */
	ROUTE_PV_DLG_STATUS,	/* $DLG_status: state of the matched dialog */
	ROUTE_PV_DLG_LIFETIME,	/* $DLG_lifetime: seconds since its 2xx */
	ROUTE_PV_DLG_COUNT,	/* $DLG_count: active_dialogs */
};

/*
 * One piece of a value: literal text, or a pseudo-variable.  @text is the
 * literal (ROUTE_PV_NONE), the argument of $hdr(...) / $dlg_var(...), or
 * NULL for the others.
 */
struct route_tpl_part {
	enum route_pv pv;
	char *text;
};

/* A value as written ("$fU@example.com"), split into parts.  "$$" is '$'. */
struct route_tpl {
	char *raw;
	struct route_tpl_part *parts;
	size_t n_parts;		/* 0 for "" */
};

/* --- conditions ------------------------------------------------------------ */

enum route_cond_type {
	ROUTE_COND_METHOD = 1,	/* method: INVITE | [INVITE, BYE] */
	ROUTE_COND_RURI_USER,	/* string or list, any of; may hold PVs */
	ROUTE_COND_RURI_DOMAIN,
	ROUTE_COND_FROM_USER,
	ROUTE_COND_FROM_DOMAIN,
	ROUTE_COND_TO_USER,
	ROUTE_COND_TO_DOMAIN,
	ROUTE_COND_SOURCE,	/* address or CIDR, or a list of them */
	ROUTE_COND_IN_DIALOG,	/* bool: the request has a To-tag */
	ROUTE_COND_IS_KNOWN_DLG, /* bool: it matched a dialog */
	ROUTE_COND_IS_IN_PROFILE, /* [name] or [name, value] */
	ROUTE_COND_PROFILE_SIZE, /* [name] or [name, value] + gt/ge/lt/le/eq */
	ROUTE_COND_DLG_ISFLAGSET, /* 0..31 */
	ROUTE_COND_HEADER,	/* Name | [Name, value] | {name:, equals:|contains:} */
};
#define ROUTE_COND_MAX ROUTE_COND_HEADER

enum route_cmp {
	ROUTE_CMP_GT = 1,
	ROUTE_CMP_GE,
	ROUTE_CMP_LT,
	ROUTE_CMP_LE,
	ROUTE_CMP_EQ,
};

/* source: 10.0.0.0/8, 192.0.2.1 (= /32), [2001:db8::]/32 or 2001:db8::1. */
struct route_cidr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network order, host bits zero */
	uint8_t prefix;		/* 0..32 or 0..128 */
};

/* A profile named in set/unset_dlg_profile, is_in_profile, profile_size. */
struct route_profile_ref {
	char *name;		/* declared in dialog.profiles_* */
	int with_value;		/* declared in profiles_with_value */
	int has_value;		/* a value was given */
	struct route_tpl value;	/* valid if has_value */
};

enum route_hdr_op {
	ROUTE_HDR_EXISTS = 1,
	ROUTE_HDR_EQUALS,
	ROUTE_HDR_CONTAINS,
};

struct route_cond {
	enum route_cond_type type;
	struct route_pos pos;
	union {
		struct {		/* METHOD: any of */
			char **v;
			size_t n;
		} methods;
		struct {		/* *_USER, *_DOMAIN: any of */
			struct route_tpl *v;
			/* re[i] != NULL: v[i] was "~REGEX", a POSIX
			 * extended expression (case-insensitive for
			 * domains) matched instead of the text. */
			regex_t **re;
			size_t n;
		} strs;
		struct {		/* SOURCE: any of */
			struct route_cidr *v;
			size_t n;
		} sources;
		int want;		/* IN_DIALOG, IS_KNOWN_DLG */
		struct route_profile_ref profile;	/* IS_IN_PROFILE */
		struct {		/* PROFILE_SIZE */
			struct route_profile_ref profile;
			enum route_cmp cmp;
			uint32_t n;
		} size;
		unsigned flag;		/* DLG_ISFLAGSET */
		struct {		/* HEADER */
			char *name;
			enum route_hdr_op op;
			struct route_tpl value;	/* EQUALS, CONTAINS */
		} header;
	} u;
};

/* All must hold; an empty set always holds. */
struct route_cond_set {
	struct route_cond *v;
	size_t n;
};

/* --- actions ----------------------------------------------------------- */

enum route_action_type {
	ROUTE_ACT_DLG_MANAGE = 1,	/* bare word */
	ROUTE_ACT_DROP,			/* bare word; ends the rule */
	ROUTE_ACT_DLG_FLAG,		/* bare word: mark like Kamailio's dlg_flag */
	ROUTE_ACT_FORWARD,		/* forward: "udp:H:P"; ends the rule */
	ROUTE_ACT_REPLY,		/* reply: "486 Busy Here"; ends the rule */
	ROUTE_ACT_SET_DLG_PROFILE,	/* [name] or [name, value] */
	ROUTE_ACT_UNSET_DLG_PROFILE,
	ROUTE_ACT_DLG_SETFLAG,		/* 0..31 */
	ROUTE_ACT_DLG_RESETFLAG,
	ROUTE_ACT_TIMEOUT,		/* seconds, > 0 */
	ROUTE_ACT_SET_DLG_VAR,		/* [key, value] */
	ROUTE_ACT_DLG_BYE,		/* caller | callee | all */
	ROUTE_ACT_DLG_REFER,		/* [caller|callee, uri] */
	ROUTE_ACT_TIMEOUT_BYE,		/* bool */
	ROUTE_ACT_TIMEOUT_NORESET,	/* bool */
	ROUTE_ACT_LOG,			/* text with PVs */
	ROUTE_ACT_IF,			/* if: {conds} then: [...] else: [...] */
	ROUTE_ACT_RURI_USER,		/* ruri_user: "new user" (spirals, ...) */
	ROUTE_ACT_DLG_BRIDGE,		/* dlg_bridge: [from, to] or [from, to, op] */
	ROUTE_ACT_TIMEOUT_ROUTE,	/* timeout_route: NAME of a rule */
	ROUTE_ACT_DLG_KEEPALIVE,	/* caller | callee | both | none */
};
#define ROUTE_ACT_MAX ROUTE_ACT_DLG_KEEPALIVE

enum route_side {
	ROUTE_SIDE_CALLER = 1,
	ROUTE_SIDE_CALLEE,
	ROUTE_SIDE_ALL,		/* dlg_bye only */
};

/* dlg_keepalive: the sides probed (Kamailio's ka-src / ka-dst). */
#define ROUTE_KA_CALLER 1u
#define ROUTE_KA_CALLEE 2u

/* forward: destination, parsed like a listen: entry. */
struct route_dest {
	int proto;		/* CFG_PROTO_UDP or CFG_PROTO_TCP */
	char host[64];		/* as written, without brackets */
	uint16_t port;
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

struct route_action;

struct route_action_list {
	struct route_action *v;
	size_t n;
};

struct route_action {
	enum route_action_type type;
	struct route_pos pos;
	union {
		struct route_dest forward;
		struct {
			uint16_t code;	/* 100..699 */
			char *reason;
		} reply;
		struct route_profile_ref profile;	/* [UN]SET_DLG_PROFILE */
		unsigned flag;				/* DLG_[RE]SETFLAG */
		uint32_t timeout;
		int on;					/* TIMEOUT_BYE/_NORESET */
		struct {
			char *key;
			struct route_tpl value;
		} var;
		enum route_side side;			/* DLG_BYE */
		unsigned ka_sides;	/* DLG_KEEPALIVE: ROUTE_KA_* bits */
		struct {
			enum route_side side;
			struct route_tpl uri;
		} refer;
		struct route_tpl log;
		struct route_tpl ruri_user;		/* RURI_USER */
		struct {
			struct route_tpl from, to, op;	/* op may be empty */
		} bridge;				/* DLG_BRIDGE */
		char *route_name;			/* TIMEOUT_ROUTE */
		struct {
			struct route_cond_set cond;
			struct route_action_list then_acts;
			struct route_action_list else_acts;	/* may be empty */
		} branch;				/* IF */
	} u;
};

struct route_rule {
	char *name;			/* optional name:, NULL if none */
	bool timeout_only;		/* named by a timeout_route: action: run
					 * at a dialog's expiry, never for a
					 * request */
	struct route_pos pos;
	struct route_cond_set match;	/* empty = always holds */
	struct route_action_list actions;
};

struct route_list {
	struct route_rule *rules;
	size_t n_rules;
};

/* The rule named @name, or NULL. */
const struct route_rule *route_find(const struct route_list *list,
				    const char *name);

/* Free everything the list holds and zero it.  NULL-safe. */
void route_list_free(struct route_list *list);

/* The YAML key of a condition / action type, e.g. "profile_size". */
const char *route_cond_name(enum route_cond_type type);
const char *route_action_name(enum route_action_type type);

/* "$fU", "$hdr", ... for a pseudo-variable; "" for ROUTE_PV_NONE. */
const char *route_pv_name(enum route_pv pv);

#endif /* SIPDLG_ROUTES_H */
