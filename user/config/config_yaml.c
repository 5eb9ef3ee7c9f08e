/*
 * config_yaml.c - YAML text to a tree of cfg_node, with line and column.
 *
 * libyaml's event parser is used rather than its document loader so that
 * every node keeps its own start mark, map keys stay in file order, and
 * duplicate keys can be caught (libyaml accepts them).  What the tree does
 * not support is reported and replaced by a CFG_NODE_BAD node, so the
 * mapping step can go on and find the other problems in the file:
 *   - aliases (*name): sipdlg's config has nothing worth sharing;
 *   - map keys that are not scalars;
 *   - a second document in the stream.
 * A syntax error ends the parse: libyaml cannot go on past one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config/config_int.h"

#define CFG_YAML_MAX_DEPTH 64

struct yp {
	yaml_parser_t parser;
	struct cfg_ctx *ctx;
	const char *buf;
	size_t len;
};

static void yp_syntax_error(struct yp *y)
{
	const yaml_parser_t *p = &y->parser;
	const char *problem = p->problem ? p->problem : "invalid YAML";
	size_t at = p->problem_mark.index;
	const char *hint = "";

	if (p->error == YAML_MEMORY_ERROR) {
		y->ctx->oom = true;
		return;
	}
	if (at < y->len && y->buf[at] == '\t')
		hint = "; YAML indents with spaces, not tabs";
	if (p->context)
		cfg_error_at(y->ctx, (unsigned)p->problem_mark.line + 1,
			     (unsigned)p->problem_mark.column + 1,
			     "YAML syntax error: %s (%s at line %u)%s",
			     problem, p->context,
			     (unsigned)p->context_mark.line + 1, hint);
	else
		cfg_error_at(y->ctx, (unsigned)p->problem_mark.line + 1,
			     (unsigned)p->problem_mark.column + 1,
			     "YAML syntax error: %s%s", problem, hint);
}

/* The next event, or -EINVAL after reporting a syntax error. */
static int yp_next(struct yp *y, yaml_event_t *ev)
{
	if (yaml_parser_parse(&y->parser, ev))
		return 0;
	yp_syntax_error(y);
	return y->ctx->oom ? -ENOMEM : -EINVAL;
}

static struct cfg_node *node_new(struct cfg_ctx *ctx, enum cfg_node_type type,
				 const yaml_mark_t *mark)
{
	struct cfg_node *n = cfg_calloc(ctx, 1, sizeof(*n));

	if (!n)
		return NULL;
	n->type = type;
	n->line = (unsigned)mark->line + 1;
	n->col = (unsigned)mark->column + 1;
	return n;
}

void cfg_node_free(struct cfg_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n_kids; i++)
		cfg_node_free(n->kids[i]);
	free(n->kids);
	free(n->str);
	free(n);
}

static int node_add(struct cfg_ctx *ctx, struct cfg_node *parent,
		    struct cfg_node *kid)
{
	struct cfg_node **k;

	k = realloc(parent->kids, (parent->n_kids + 1) * sizeof(*k));
	if (!k) {
		ctx->oom = true;
		return -ENOMEM;
	}
	parent->kids = k;
	parent->kids[parent->n_kids++] = kid;
	return 0;
}

static bool plain_null(const char *s, size_t len)
{
	return len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static struct cfg_node *scalar_new(struct cfg_ctx *ctx, const yaml_event_t *ev)
{
	const char *tag = (const char *)ev->data.scalar.tag;
	struct cfg_node *n = node_new(ctx, CFG_NODE_SCALAR, &ev->start_mark);

	if (!n)
		return NULL;
	n->len = ev->data.scalar.length;
	n->str = malloc(n->len + 1);
	if (!n->str) {
		ctx->oom = true;
		free(n);
		return NULL;
	}
	memcpy(n->str, ev->data.scalar.value, n->len);
	n->str[n->len] = '\0';
	n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
		    (tag && strcmp(tag, YAML_STR_TAG) == 0);
	n->null = !n->quoted && !tag && plain_null(n->str, n->len);
	return n;
}

static int yp_node(struct yp *y, yaml_event_t *ev, unsigned depth,
		   struct cfg_node **out);

static int yp_seq(struct yp *y, struct cfg_node *seq, unsigned depth)
{
	for (;;) {
		yaml_event_t ev;
		struct cfg_node *kid;
		int err = yp_next(y, &ev);

		if (err)
			return err;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		err = yp_node(y, &ev, depth + 1, &kid);
		if (err)
			return err;
		if (node_add(y->ctx, seq, kid)) {
			cfg_node_free(kid);
			return -ENOMEM;
		}
	}
}

/* The first pair of @map whose key is @key, or NULL. */
static const struct cfg_node *map_find(const struct cfg_node *map,
				       const char *key)
{
	for (size_t i = 0; i < cfg_map_len(map); i++)
		if (strcmp(cfg_map_key(map, i)->str, key) == 0)
			return cfg_map_key(map, i);
	return NULL;
}

static int yp_map(struct yp *y, struct cfg_node *map, unsigned depth)
{
	for (;;) {
		yaml_event_t ev;
		struct cfg_node *key, *val;
		const struct cfg_node *first;
		int err = yp_next(y, &ev);

		if (err)
			return err;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		err = yp_node(y, &ev, depth + 1, &key);
		if (err)
			return err;
		err = yp_next(y, &ev);
		if (!err)
			err = yp_node(y, &ev, depth + 1, &val);
		if (err) {
			cfg_node_free(key);
			return err;
		}
		if (key->type != CFG_NODE_SCALAR) {
			if (key->type != CFG_NODE_BAD)
				cfg_error(y->ctx, key, "a map key must be a "
					  "plain word, not %s",
					  cfg_node_kind(key));
			cfg_node_free(key);
			cfg_node_free(val);
			continue;
		}
		first = map_find(map, key->str);
		if (first) {
			cfg_error(y->ctx, key, "duplicate key '%s' (first "
				  "given at line %u)", key->str, first->line);
			cfg_node_free(key);
			cfg_node_free(val);
			continue;
		}
		if (node_add(y->ctx, map, key) || node_add(y->ctx, map, val)) {
			/* node_add left the map even: key went in or not. */
			if (map->n_kids % 2)
				map->n_kids--;
			cfg_node_free(key);
			cfg_node_free(val);
			return -ENOMEM;
		}
	}
}

/*
 * Build the node that starts with @ev (consumed) and everything under it.
 * On -EINVAL (syntax error) or -ENOMEM nothing is left to free.
 */
static int yp_node(struct yp *y, yaml_event_t *ev, unsigned depth,
		   struct cfg_node **out)
{
	struct cfg_node *n = NULL;
	int err = 0;

	if (depth > CFG_YAML_MAX_DEPTH) {
		cfg_error_at(y->ctx, (unsigned)ev->start_mark.line + 1,
			     (unsigned)ev->start_mark.column + 1,
			     "nested more than %d levels deep",
			     CFG_YAML_MAX_DEPTH);
		yaml_event_delete(ev);
		return -EINVAL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = scalar_new(y->ctx, ev);
		break;
	case YAML_ALIAS_EVENT:
		n = node_new(y->ctx, CFG_NODE_BAD, &ev->start_mark);
		cfg_error_at(y->ctx, (unsigned)ev->start_mark.line + 1,
			     (unsigned)ev->start_mark.column + 1,
			     "aliases (*%s) are not supported; write the value "
			     "out", (const char *)ev->data.alias.anchor);
		break;
	case YAML_SEQUENCE_START_EVENT:
		n = node_new(y->ctx, CFG_NODE_SEQ, &ev->start_mark);
		break;
	case YAML_MAPPING_START_EVENT:
		n = node_new(y->ctx, CFG_NODE_MAP, &ev->start_mark);
		break;
	default:	/* cannot happen in a well-formed event stream */
		n = node_new(y->ctx, CFG_NODE_BAD, &ev->start_mark);
		break;
	}
	yaml_event_delete(ev);
	if (!n)
		return -ENOMEM;
	if (n->type == CFG_NODE_SEQ)
		err = yp_seq(y, n, depth);
	else if (n->type == CFG_NODE_MAP)
		err = yp_map(y, n, depth);
	if (err) {
		cfg_node_free(n);
		return err;
	}
	*out = n;
	return 0;
}

/* Expect an event of @type (consumed). */
static int yp_expect(struct yp *y, yaml_event_type_t type)
{
	yaml_event_t ev;
	int err = yp_next(y, &ev);

	if (err)
		return err;
	if (ev.type != type) {
		/* libyaml guarantees the order; keep going defensively. */
		cfg_error_at(y->ctx, (unsigned)ev.start_mark.line + 1,
			     (unsigned)ev.start_mark.column + 1,
			     "unexpected YAML structure");
		err = -EINVAL;
	}
	yaml_event_delete(&ev);
	return err;
}

int cfg_yaml_parse(struct cfg_ctx *ctx, const char *buf, size_t len,
		   struct cfg_node **root)
{
	struct yp y = { .ctx = ctx, .buf = buf, .len = len };
	struct cfg_node *doc = NULL;
	yaml_event_t ev;
	int err;

	if (!yaml_parser_initialize(&y.parser)) {
		ctx->oom = true;
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&y.parser, (const unsigned char *)buf,
				     len);
	err = yp_expect(&y, YAML_STREAM_START_EVENT);
	while (!err) {
		err = yp_next(&y, &ev);
		if (err)
			break;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type != YAML_DOCUMENT_START_EVENT) {
			yaml_event_delete(&ev);
			err = -EINVAL;
			break;
		}
		if (doc) {
			cfg_error_at(ctx, (unsigned)ev.start_mark.line + 1,
				     (unsigned)ev.start_mark.column + 1,
				     "a second YAML document ('---'); the "
				     "config is one document");
			yaml_event_delete(&ev);
			err = -EINVAL;
			break;
		}
		yaml_event_delete(&ev);
		err = yp_next(&y, &ev);
		if (!err)
			err = yp_node(&y, &ev, 0, &doc);
		if (!err)
			err = yp_expect(&y, YAML_DOCUMENT_END_EVENT);
	}
	yaml_parser_delete(&y.parser);
	if (err) {
		cfg_node_free(doc);
		return err;
	}
	*root = doc;
	return 0;
}
