/*
 * config_int.h - what the files of the config loader share.  Not for the
 * rest of sipdlgd: they see config.h and routes.h only.
 *
 * The loader runs in two steps.  config_yaml.c turns the text into a small
 * tree of cfg_node (scalars, lists, maps) that keeps the line and column of
 * every node; a YAML syntax error stops there.  The mapping step
 * (config_load.c, config_dialog.c, config_addr.c, routes*.c) then walks the
 * tree, fills struct sipdlg_config and reports every problem it finds
 * through cfg_error() rather than stopping at the first.
 */
#ifndef SIPDLG_CONFIG_INT_H
#define SIPDLG_CONFIG_INT_H

#include <stdbool.h>

#include "config/config.h"

/* --- the node tree (config_yaml.c) ---------------------------------------- */

enum cfg_node_type {
	CFG_NODE_SCALAR = 1,
	CFG_NODE_SEQ,
	CFG_NODE_MAP,
	CFG_NODE_BAD,		/* already reported (alias, ...); skip quietly */
};

struct cfg_node {
	enum cfg_node_type type;
	unsigned line, col;	/* 1-based */
	char *str;		/* SCALAR: text, NUL-terminated */
	size_t len;		/* SCALAR: bytes in str */
	bool quoted;		/* SCALAR: quoted, block or !!str: a string */
	bool null;		/* SCALAR: plain "", "~" or "null" */
	struct cfg_node **kids;	/* SEQ: items; MAP: key, value, key, value... */
	size_t n_kids;
};

static inline size_t cfg_map_len(const struct cfg_node *n)
{
	return n->n_kids / 2;
}

static inline const struct cfg_node *cfg_map_key(const struct cfg_node *n,
						 size_t i)
{
	return n->kids[2 * i];
}

static inline const struct cfg_node *cfg_map_val(const struct cfg_node *n,
						 size_t i)
{
	return n->kids[2 * i + 1];
}

/* --- problems, collected (config_value.c) --------------------------------- */

struct cfg_msg {
	unsigned line, col;
	size_t seq;
	char *text;
};

struct cfg_ctx {
	const char *name;		/* file name used in messages */
	struct cfg_msg *msgs;
	size_t n_msgs, cap_msgs;
	size_t seq;
	bool oom;
	/* Scratch of the mapping step, for checks across keys. */
	const struct cfg_node *db_mode_node;
	/* Where ka_timer, ka_interval, ka_failed_limit were given (or NULL). */
	const struct cfg_node *ka_node[3];
	const struct cfg_node *routes_node;
	const struct cfg_node *mac_node;	/* xdp.cookie_mac.key_file */
	const struct cfg_node *invite_limit_node; /* xdp.invite_limit */
	const struct cfg_node *cluster_node;	/* the cluster: map */
	/* First tls: listen entry and tls forward:, for config_tls.c. */
	const struct cfg_node *tls_listen_node, *tls_fwd_node;
	const struct cfg_node *tls_node;	/* the tls: section */
	struct route_pos prof_pos[2][CFG_MAX_PROFILES]; /* with, no value */
};

/* Record "NAME:LINE:COL: message" at @at (NULL: 1:1). */
void cfg_error(struct cfg_ctx *ctx, const struct cfg_node *at,
	       const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void cfg_error_at(struct cfg_ctx *ctx, unsigned line, unsigned col,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Print the problems sorted by position to @out (may be NULL), free them. */
size_t cfg_errors_flush(struct cfg_ctx *ctx, FILE *out);

/* strdup that notes an allocation failure in @ctx. */
char *cfg_strdup(struct cfg_ctx *ctx, const char *s);
/* calloc that notes an allocation failure in @ctx; NULL for n == 0. */
void *cfg_calloc(struct cfg_ctx *ctx, size_t n, size_t size);

/* "a map", "a list", "a string", "nothing": for "expected X, got Y". */
const char *cfg_node_kind(const struct cfg_node *n);
bool cfg_is_null(const struct cfg_node *n);

/*
 * Typed reads of a scalar.  Each returns 0 and writes *out, or reports the
 * problem against @key and returns -EINVAL (quietly for CFG_NODE_BAD).
 */
int cfg_get_bool(struct cfg_ctx *ctx, const struct cfg_node *n,
		 const char *key, int *out);
int cfg_get_int(struct cfg_ctx *ctx, const struct cfg_node *n,
		const char *key, long long min, long long max, long long *out);
/* A string; a null scalar is refused unless @nullable (then *out = NULL). */
int cfg_get_str(struct cfg_ctx *ctx, const struct cfg_node *n,
		const char *key, bool nullable, char **out);
/* Borrowed text of a non-null scalar (numbers and words too). */
int cfg_get_text(struct cfg_ctx *ctx, const struct cfg_node *n,
		 const char *key, const char **out);
/* One of @names (NULL-terminated); *out is its index. */
int cfg_get_enum(struct cfg_ctx *ctx, const struct cfg_node *n,
		 const char *key, const char *const *names, int *out);
/* The node must be a list / a map, else "KEY: expected ..., got ...". */
int cfg_expect_seq(struct cfg_ctx *ctx, const struct cfg_node *n,
		   const char *key, const char *example);
int cfg_expect_map(struct cfg_ctx *ctx, const struct cfg_node *n,
		   const char *key);

/* --- "did you mean" (config_value.c) -------------------------------------- */

/* Case-insensitive edit distance (with transpositions). */
size_t cfg_edit_distance(const char *a, const char *b);
/* The closest of @cands (NULL-terminated) if close enough, else NULL. */
const char *cfg_suggest(const char *word, const char *const *cands);
/* " (did you mean 'X'?)" or "" into @buf; returns @buf. */
const char *cfg_did_you_mean(const char *word, const char *const *cands,
			     char *buf, size_t size);

/* --- the tree (config_yaml.c) ---------------------------------------------- */

/*
 * Parse @len bytes of YAML into *root (NULL for an empty stream).  A syntax
 * error is reported and gives -EINVAL; problems that leave the tree usable
 * (duplicate keys, aliases) are reported and the parse goes on.
 */
int cfg_yaml_parse(struct cfg_ctx *ctx, const char *buf, size_t len,
		   struct cfg_node **root);
void cfg_node_free(struct cfg_node *n);

/* --- generic section tables (config_load.c) ------------------------------- */

enum cfg_ktype {
	CFG_K_BOOL = 1,		/* int: true/false/yes/no/on/off/1/0 */
	CFG_K_INT,		/* int */
	CFG_K_U32,		/* uint32_t */
	CFG_K_I32,		/* int32_t */
	CFG_K_STR,		/* char *, never NULL */
	CFG_K_STRN,		/* char *, null allowed */
	CFG_K_ENUM,		/* int-sized enum, one of .names */
	CFG_K_CUSTOM,		/* .check does the whole conversion */
};

struct cfg_key;
typedef int (*cfg_check_fn)(struct cfg_ctx *ctx, const struct cfg_node *n,
			    const struct cfg_key *k, void *base);

struct cfg_key {
	const char *name;
	enum cfg_ktype type;
	size_t off;			/* of the field in the section struct */
	long long min, max;		/* numbers */
	const char *const *names;	/* CFG_K_ENUM */
	cfg_check_fn check;		/* after the store, or CFG_K_CUSTOM */
	const char *alias_of;		/* another name of that key */
};

/*
 * Apply map @n to @base through @keys (NULL name ends the table).  Unknown
 * keys, alias clashes, wrong types and ranges are reported.  @section names
 * the map in messages ("dialog"); a null node leaves the defaults.
 */
void cfg_apply_map(struct cfg_ctx *ctx, const struct cfg_node *n,
		   const char *section, const struct cfg_key *keys, void *base);
/* The value of @key in @map, or NULL (also when @map is not a map). */
const struct cfg_node *cfg_map_get(const struct cfg_node *map,
				   const char *key);
/* The whole document (NULL or null: all defaults stay) into @cfg. */
void cfg_load_tree(struct cfg_ctx *ctx, const struct cfg_node *root,
		   struct sipdlg_config *cfg);

/* --- sections ---------------------------------------------------------- */

extern const struct cfg_key cfg_dialog_keys[];	/* config_dialog.c */
/* A Kamailio dialog parameter sipdlgd refuses: why, and the YAML way to
 * the same effect; NULL if @name is not one.  _name(i): the i-th, NULL
 * past the end (for tests). */
const char *cfg_dialog_refused(const char *name);
const char *cfg_dialog_refused_name(size_t i);
/* Checks across dialog keys: db_mode/db_url, profiles in both lists. */
void cfg_dialog_check(struct cfg_ctx *ctx, struct cfg_dialog *d);
/* 1 with value, 0 without, -1 not declared. */
int cfg_profile_kind(const struct cfg_dialog *d, const char *name);

/* config_cluster.c: the cluster: section (a section callback), and its
 * checks against dialog: once the whole file is read (@root: the
 * document, to tell h_id_start/h_id_step given from defaults). */
int cfg_load_cluster(struct cfg_ctx *ctx, const struct cfg_node *n,
		     const struct cfg_key *k, void *base);
void cfg_cluster_check(struct cfg_ctx *ctx, const struct cfg_node *root,
		       struct sipdlg_config *cfg);

/* config_mac.c: xdp.cookie_mac (a CFG_K_CUSTOM key of the xdp table), and
 * its checks against other sections, after the whole tree. */
int cfg_load_cookie_mac(struct cfg_ctx *ctx, const struct cfg_node *n,
			const struct cfg_key *k, void *base);
void cfg_cookie_mac_check(struct cfg_ctx *ctx,
			  const struct sipdlg_config *cfg);
/* config_invite_limit.c: xdp.invite_limit (a CFG_K_CUSTOM key of the xdp
 * table), and its check against xdp.enabled after the whole tree. */
int cfg_load_invite_limit(struct cfg_ctx *ctx, const struct cfg_node *n,
			  const struct cfg_key *k, void *base);
void cfg_invite_limit_check(struct cfg_ctx *ctx,
			    const struct sipdlg_config *cfg);
/* config_tls.c: the tls: section, and its checks against listen: and
 * forward: after the whole tree. */
void cfg_tls_free(struct cfg_tls *t);
void cfg_load_tls(struct cfg_ctx *ctx, const struct cfg_node *n,
		  struct cfg_tls *t);
void cfg_tls_check(struct cfg_ctx *ctx, const struct sipdlg_config *cfg);

/* config_relay.c: xdp.relay (a CFG_K_CUSTOM key of the xdp table). */
int cfg_load_relay(struct cfg_ctx *ctx, const struct cfg_node *n,
		   const struct cfg_key *k, void *base);
/* "INFO, OPTIONS" for the bits of @methods (enum sipdlg_method). */
size_t cfg_relay_methods_str(uint32_t methods, char *buf, size_t cap);
/* config_tcp.c: the tcp: section. */
void cfg_tcp_defaults(struct cfg_tcp *t);
void cfg_load_tcp(struct cfg_ctx *ctx, const struct cfg_node *n,
		  struct cfg_tcp *t);

/* config_metrics.c: the metrics: section. */
void cfg_metrics_defaults(struct cfg_metrics *m);
void cfg_load_metrics(struct cfg_ctx *ctx, const struct cfg_node *n,
		      struct cfg_metrics *m);

/* config_addr.c */
struct cfg_sipaddr {
	int proto;
	char host[64];
	uint16_t port;
	struct sockaddr_storage addr;
	socklen_t addr_len;
};
/* "udp:ADDR:PORT" / "tcp:[V6]:PORT" / "tls:..."; on error, a reason into @why. */
int cfg_parse_sipaddr(const char *s, struct cfg_sipaddr *out, char *why,
		      size_t why_size);
int cfg_parse_cidr(const char *s, struct route_cidr *out, char *why,
		   size_t why_size);
int cfg_check_hostport(const char *s, char *why, size_t why_size);
void cfg_load_listen(struct cfg_ctx *ctx, const struct cfg_node *n,
		     struct sipdlg_config *cfg);

/* pvar.c: a value with pseudo-variables. */
int cfg_tpl_parse(struct cfg_ctx *ctx, const struct cfg_node *n,
		  const char *key, struct route_tpl *out);
/* Same from text (no node), reasons written to @why; for defaults. */
int cfg_tpl_parse_text(const char *s, struct route_tpl *out, char *why,
		       size_t why_size);
void cfg_tpl_free(struct route_tpl *t);

/* routes.c / route_cond.c */
void cfg_load_routes(struct cfg_ctx *ctx, const struct cfg_node *n,
		     const struct cfg_dialog *d, struct route_list *out);
int cfg_load_conds(struct cfg_ctx *ctx, const struct cfg_node *n,
		   const char *key, const struct cfg_dialog *d,
		   struct route_cond_set *out);
/* [name] / [name, value] / name; @setting: set_ or unset_dlg_profile. */
int cfg_load_profile_ref(struct cfg_ctx *ctx, const struct cfg_node *n,
			 const char *key, const struct cfg_dialog *d,
			 bool setting, struct route_profile_ref *out);
void cfg_profile_ref_free(struct route_profile_ref *p);
void cfg_cond_set_free(struct route_cond_set *s);

#endif /* SIPDLG_CONFIG_INT_H */
