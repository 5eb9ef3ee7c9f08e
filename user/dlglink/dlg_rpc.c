/*
 * dlg_rpc.c - the dialog module's JSON-RPC methods, with Kamailio's names,
 * field names and field order (reference section 10): dlg.list,
 * dlg.list_ctx, dlg.dlg_list, dlg.dlg_list_ctx, dlg.profile_get_size,
 * dlg.profile_list, dlg.stats_active, dlg.briefing, and dlg.get.
 */
#define LOG_TAG "dialog"

#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "control/ctl_server.h"
#include "dialog/dlg.h"
#include "dlglink/dlg_rpc.h"

#define LIST_BATCH 256

/* The methods' context (@ud of each; owned by the control server). */
struct dlg_rpc {
	struct dlg_table *t;
	/* Fields another layer adds to each dialog object under a key of
	 * its own (the fast path's kernel counters under "xdp"). */
	const char *extra_key;
	dlg_rpc_extra_fn extra_fn;
	void *extra_ud;
};

static json_t *leg_json(const struct dlg_info_leg *l)
{
	char cseq[12];

	snprintf(cseq, sizeof(cseq), "%u", l->cseq);
	return json_pack("{s:s,s:s,s:s,s:s,s:s}", "tag", l->tag, "contact",
			 l->contact, "cseq", cseq, "route_set", l->route_set,
			 "socket", l->socket);
}

/* Kamailio's dialog object, fields in its order (reference 10.2). */
static json_t *dlg_json(const struct dlg_rpc *x, struct dlg_cell *c)
{
	struct dlg_info *i = dlg_info_get(c, 0);
	json_t *o, *profiles, *vars;

	if (!i)
		return NULL;
	o = json_object();
	json_object_set_new(o, "h_entry", json_integer(i->h_entry));
	json_object_set_new(o, "h_id", json_integer(i->h_id));
	json_object_set_new(o, "ref", json_integer(i->ref));
	json_object_set_new(o, "call-id", json_string(i->callid));
	json_object_set_new(o, "from_uri", json_string(i->from_uri));
	json_object_set_new(o, "to_uri", json_string(i->to_uri));
	json_object_set_new(o, "state", json_integer(i->state));
	json_object_set_new(o, "start_ts", json_integer(i->start_ts));
	json_object_set_new(o, "init_ts", json_integer(i->init_ts));
	json_object_set_new(o, "end_ts", json_integer(i->end_ts));
	json_object_set_new(o, "duration", json_integer(i->duration));
	json_object_set_new(o, "timeout", json_integer(i->timeout));
	json_object_set_new(o, "lifetime", json_integer(i->lifetime));
	json_object_set_new(o, "dflags", json_integer(i->dflags));
	json_object_set_new(o, "sflags", json_integer(i->sflags));
	json_object_set_new(o, "iflags", json_integer(i->iflags));
	json_object_set_new(o, "caller", leg_json(&i->caller));
	json_object_set_new(o, "callee", leg_json(&i->callee));
	profiles = json_array();
	for (size_t k = 0; k < i->n_profiles; k++) {
		const struct dlg_info_profile *p = &i->profiles[k];
		if (p->value)
			json_array_append_new(profiles,
					      json_pack("{s:s}", p->name, p->value));
		else
			json_array_append_new(profiles, json_string(p->name));
	}
	json_object_set_new(o, "profiles", profiles);
	vars = json_array();
	for (size_t k = 0; k < i->n_vars; k++)
		json_array_append_new(vars, json_pack("{s:s}", i->vars[k].key,
						      i->vars[k].value));
	json_object_set_new(o, "variables", vars);
	if (x->extra_fn) {
		json_t *e = x->extra_fn(i->h_entry, i->h_id, x->extra_ud);
		if (e)
			json_object_set_new(o, x->extra_key, e);
	}
	dlg_info_free(i);
	return o;
}

static int param_str(json_t *params, size_t idx, const char *name,
		     const char **out)
{
	json_t *v = ctl_param(params, idx, name);

	if (!v) {
		*out = NULL;
		return 0;
	}
	if (!json_is_string(v))
		return -EINVAL;
	*out = json_string_value(v);
	return 0;
}

/*
 * dlg.list, dlg.list_match and dlg.dlg_list stream their answer (see
 * ctl_register_stream): each call of list_next takes up to LIST_BATCH
 * references through the cursor (a slot lock is held only while its
 * references are taken), builds those dialogs' objects (each snapshot
 * under its slot lock, briefly) and returns; the control server writes
 * them out before it asks for more.  Dialogs created or ended meanwhile
 * may or may not be listed, as with any cursor walk.
 */
enum list_kind {
	LIST_ALL = 1,		/* dlg.list, dlg.list_ctx */
	LIST_MATCH = 2,		/* dlg.list_match, dlg.list_match_ctx */
	LIST_CALLID = 3,	/* dlg.dlg_list, dlg.dlg_list_ctx */
};

/* dlg.list_match KEY OP VALUE [LIMIT]: Kamailio's filter (reference 10.3). */
struct match_spec {
	const char *key, *op, *val;
	regex_t re;
	bool use_re;
	long long num;
};

struct list_stream {
	const struct dlg_rpc *x;
	enum list_kind kind;
	struct dlg_cursor cur;
	/* LIST_MATCH */
	struct match_spec m;
	char *key, *op, *val;		/* copies: params die with the request */
	long long limit, sent;
	/* LIST_CALLID: found at open, sent by the first next */
	struct dlg_cell *cells[64];
	size_t n_cells;
};

static bool match_one(const struct match_spec *m, const struct dlg_info *i);

static void list_free(void *p)
{
	struct list_stream *ls = p;

	for (size_t i = 0; i < ls->n_cells; i++)
		dlg_unref(ls->cells[i]);
	if (ls->m.use_re)
		regfree(&ls->m.re);
	free(ls->key);
	free(ls->op);
	free(ls->val);
	free(ls);
}

static int list_next(void *p, json_t *items, struct ctl_error *err)
{
	struct list_stream *ls = p;
	struct dlg_cell *cells[LIST_BATCH];
	size_t n;

	if (ls->kind == LIST_CALLID) {
		for (size_t i = 0; i < ls->n_cells; i++) {
			json_t *o = dlg_json(ls->x, ls->cells[i]);

			if (o)
				json_array_append_new(items, o);
			dlg_unref(ls->cells[i]);
		}
		ls->n_cells = 0;
		return 0;
	}
	n = dlg_cursor_next(ls->x->t, &ls->cur, cells, LIST_BATCH);
	for (size_t k = 0; k < n; k++) {
		json_t *o = NULL;

		if (ls->kind == LIST_ALL) {
			o = dlg_json(ls->x, cells[k]);
		} else if (ls->limit <= 0 || ls->sent < ls->limit) {
			struct dlg_info *in = dlg_info_get(cells[k], 0);

			if (in && match_one(&ls->m, in))
				o = dlg_json(ls->x, cells[k]);
			dlg_info_free(in);
		}
		if (o) {
			json_array_append_new(items, o);
			ls->sent++;
		}
		dlg_unref(cells[k]);
	}
	if (ls->kind == LIST_MATCH && ls->limit > 0 && ls->sent >= ls->limit)
		ls->cur.done = true;
	if (!ls->cur.done)
		return 1;
	if (ls->kind == LIST_MATCH && ls->sent == 0)
		return ctl_error_set(err, 404, "Not found");
	return 0;
}

static const struct ctl_stream_ops list_ops = {
	.next = list_next,
	.free = list_free,
};

static struct list_stream *list_new(const struct dlg_rpc *x,
				    enum list_kind k)
{
	struct list_stream *ls = calloc(1, sizeof(*ls));

	if (ls) {
		ls->x = x;
		ls->kind = k;
	}
	return ls;
}

static int rpc_list(void *ud, json_t *params, const struct ctl_stream_ops **ops,
		    void **st, struct ctl_error *err)
{
	struct list_stream *ls = list_new(ud, LIST_ALL);

	if (!ls)
		return ctl_error_set(err, 500, "Out of memory");
	*ops = &list_ops;
	*st = ls;
	return 0;
}

static int rpc_dlg_list(void *ud, json_t *params,
			const struct ctl_stream_ops **ops, void **st,
			struct ctl_error *err)
{
	const char *callid, *ftag;
	struct list_stream *ls;

	if (param_str(params, 0, "callid", &callid) ||
	    param_str(params, 1, "from_tag", &ftag))
		return ctl_error_set(err, 500, "Invalid parameters");
	if (!callid && ftag)
		return ctl_error_set(err, 500, "Invalid parameters: from_tag "
				     "needs the callid");
	/* The Call-ID is optional (reference, dlg_list): every dialog. */
	if (!callid)
		return rpc_list(ud, params, ops, st, err);
	ls = list_new(ud, LIST_CALLID);
	if (!ls)
		return ctl_error_set(err, 500, "Out of memory");
	ls->n_cells = dlg_lookup_callid(ls->x->t, sip_str_c(callid),
					ftag ? sip_str_c(ftag) : SIP_STR_NULL,
					ls->cells, 64);
	*ops = &list_ops;
	*st = ls;
	return 0;
}

static int rpc_get(void *ud, json_t *params, json_t **result,
		   struct ctl_error *err)
{
	const struct dlg_rpc *x = ud;
	struct dlg_table *t = x->t;
	const char *callid, *ftag, *ttag;
	struct dlg_cell *c;

	if (param_str(params, 0, "callid", &callid) || !callid ||
	    param_str(params, 1, "from_tag", &ftag) || !ftag ||
	    param_str(params, 2, "to_tag", &ttag))
		return ctl_error_set(err, 400, "Need a Callid, from tag "
					       "[and to tag]");
	c = dlg_lookup_sip(t, sip_str_c(callid), sip_str_c(ftag),
			   ttag ? sip_str_c(ttag) : SIP_STR_NULL, NULL);
	if (!c)
		return ctl_error_set(err, 404, "Dialog not found");
	*result = dlg_json(x, c);
	dlg_unref(c);
	return *result ? 0 : ctl_error_set(err, 500, "Out of memory");
}

static int rpc_profile_size(void *ud, json_t *params, json_t **result,
			    struct ctl_error *err)
{
	struct dlg_table *t = ((const struct dlg_rpc *)ud)->t;
	const char *name, *value;
	struct dlg_profile *p;

	if (param_str(params, 0, "profile", &name) || !name ||
	    param_str(params, 1, "value", &value))
		return ctl_error_set(err, 500, "Invalid parameters");
	p = dlg_profile_lookup(t, sip_str_c(name));
	if (!p)
		return ctl_error_set(err, 404, "Profile not found: %s", name);
	*result = json_integer((json_int_t)dlg_profile_size(
		p, value && dlg_profile_has_value(p) ? sip_str_c(value) :
						       SIP_STR_NULL));
	return 0;
}

struct to_array {
	const struct dlg_rpc *x;
	json_t *arr;
};

static int add_to_array(struct dlg_cell *c, void *ud)
{
	struct to_array *ta = ud;
	json_t *o = dlg_json(ta->x, c);

	if (o)
		json_array_append_new(ta->arr, o);
	return 0;
}

static int rpc_profile_list(void *ud, json_t *params, json_t **result,
			    struct ctl_error *err)
{
	const struct dlg_rpc *x = ud;
	struct dlg_table *t = x->t;
	struct to_array ta = { .x = x };
	const char *name, *value;
	struct dlg_profile *p;
	json_t *arr;

	if (param_str(params, 0, "profile", &name) || !name ||
	    param_str(params, 1, "value", &value))
		return ctl_error_set(err, 500, "Invalid parameters");
	p = dlg_profile_lookup(t, sip_str_c(name));
	if (!p)
		return ctl_error_set(err, 404, "Profile not found: %s", name);
	arr = json_array();
	ta.arr = arr;
	dlg_profile_list(p, value ? sip_str_c(value) : SIP_STR_NULL,
			 add_to_array, &ta);
	*result = arr;
	return 0;
}

static int rpc_stats_active(void *ud, json_t *params, json_t **result,
			    struct ctl_error *err)
{
	uint64_t n[6];

	dlg_count_states(((const struct dlg_rpc *)ud)->t, n);
	*result = json_pack("{s:I,s:I,s:I,s:I,s:I}", "starting",
			    (json_int_t)n[1], "connecting", (json_int_t)n[2],
			    "answering", (json_int_t)n[3], "ongoing",
			    (json_int_t)n[4], "all",
			    (json_int_t)(n[1] + n[2] + n[3] + n[4]));
	return 0;
}

static int rpc_briefing(void *ud, json_t *params, json_t **result,
			struct ctl_error *err)
{
	struct dlg_table *t = ((const struct dlg_rpc *)ud)->t;
	struct dlg_cursor cur = { 0, 0, false };
	struct dlg_cell *cells[LIST_BATCH];
	const char *attrs;
	json_t *arr = json_array();

	if (param_str(params, 0, "attrs", &attrs)) {
		json_decref(arr);
		return ctl_error_set(err, 500, "Invalid parameters");
	}
	if (!attrs)
		attrs = "ftcFT";
	while (!cur.done) {
		size_t n = dlg_cursor_next(t, &cur, cells, LIST_BATCH);

		for (size_t i = 0; i < n; i++) {
			struct dlg_info *in = dlg_info_get(cells[i], 0);
			json_t *o;

			dlg_unref(cells[i]);
			if (!in)
				continue;
			o = json_pack("{s:i,s:i}", "h_entry", (int)in->h_entry,
				      "h_id", (int)in->h_id);
			for (const char *a = attrs; *a; a++) {
				switch (*a) {
				case 'f': json_object_set_new(o, "from_uri", json_string(in->from_uri)); break;
				case 't': json_object_set_new(o, "to_uri", json_string(in->to_uri)); break;
				case 'c': json_object_set_new(o, "call-id", json_string(in->callid)); break;
				case 'F': json_object_set_new(o, "from_tag", json_string(in->caller.tag)); break;
				/* Kamailio prints the caller tag here (a bug);
				 * we print the callee's. */
				case 'T': json_object_set_new(o, "to_tag", json_string(in->callee.tag)); break;
				case 'I': json_object_set_new(o, "init_ts", json_integer(in->init_ts)); break;
				case 'S': json_object_set_new(o, "start_ts", json_integer(in->start_ts)); break;
				case 'E': json_object_set_new(o, "end_ts", json_integer(in->end_ts)); break;
				case 's': json_object_set_new(o, "state", json_integer(in->state)); break;
				default: break;
				}
			}
			json_array_append_new(arr, o);
			dlg_info_free(in);
		}
	}
	*result = arr;
	return 0;
}

static int rpc_is_alive(void *ud, json_t *params, json_t **result,
			struct ctl_error *err)
{
	const char *callid, *ftag, *ttag;
	struct dlg_cell *c;
	enum dlg_state st;

	if (param_str(params, 0, "callid", &callid) || !callid ||
	    param_str(params, 1, "from_tag", &ftag) || !ftag ||
	    param_str(params, 2, "to_tag", &ttag) || !ttag)
		return ctl_error_set(err, 400, "Need a Callid ,from tag ,to tag");
	c = dlg_lookup_sip(((const struct dlg_rpc *)ud)->t, sip_str_c(callid),
			   sip_str_c(ftag),
			   sip_str_c(ttag), NULL);
	if (!c)
		return ctl_error_set(err, 404, "Dialog not found");
	st = dlg_state(c);
	dlg_unref(c);
	if (st != DLG_STATE_CONFIRMED)
		return ctl_error_set(err, 500, "Dialog not in confirmed state");
	*result = json_string("Alive");
	return 0;
}

static bool match_one(const struct match_spec *m, const struct dlg_info *i)
{
	const char *s = NULL;

	if (strcmp(m->key, "start_ts") == 0) {
		if (strcmp(m->op, "gt") == 0)
			return i->start_ts > m->num;
		if (strcmp(m->op, "lt") == 0)
			return i->start_ts < m->num;
		return i->start_ts == m->num;
	}
	if (strcmp(m->key, "ruri") == 0)
		s = i->req_uri;
	else if (strcmp(m->key, "furi") == 0)
		s = i->from_uri;
	else if (strcmp(m->key, "turi") == 0)
		s = i->to_uri;
	else if (strcmp(m->key, "callid") == 0)
		s = i->callid;
	if (!s)
		return false;
	if (m->use_re)
		return regexec(&m->re, s, 0, NULL, 0) == 0;
	if (strcmp(m->op, "sw") == 0)
		return strncmp(s, m->val, strlen(m->val)) == 0;
	return strcmp(s, m->val) == 0;
}

static char *dup_or_null(const char *v, bool *oom)
{
	char *d = v ? strdup(v) : NULL;

	if (v && !d)
		*oom = true;
	return d;
}

static int rpc_list_match(void *ud, json_t *params,
			  const struct ctl_stream_ops **ops, void **st,
			  struct ctl_error *err)
{
	struct match_spec m;
	json_t *lim = ctl_param(params, 3, "limit");
	long long limit = lim && json_is_integer(lim) ? json_integer_value(lim) : 0;
	struct list_stream *ls;
	bool str_key, ok, oom = false;

	memset(&m, 0, sizeof(m));
	if (param_str(params, 0, "mkey", &m.key) || !m.key ||
	    param_str(params, 1, "mop", &m.op) || !m.op)
		return ctl_error_set(err, 500, "Invalid parameters");
	{
		json_t *v = ctl_param(params, 2, "mval");
		if (json_is_string(v))
			m.val = json_string_value(v);
		else if (json_is_integer(v))
			m.num = json_integer_value(v);
		else
			return ctl_error_set(err, 500, "Invalid parameters");
	}
	str_key = strcmp(m.key, "ruri") == 0 || strcmp(m.key, "furi") == 0 ||
		  strcmp(m.key, "turi") == 0 || strcmp(m.key, "callid") == 0;
	ok = str_key ? (strcmp(m.op, "eq") == 0 || strcmp(m.op, "re") == 0 ||
			strcmp(m.op, "sw") == 0) && m.val :
		       strcmp(m.key, "start_ts") == 0 &&
			       (strcmp(m.op, "gt") == 0 || strcmp(m.op, "lt") == 0 ||
				strcmp(m.op, "eq") == 0);
	if (!ok)
		return ctl_error_set(err, 500, "Invalid matching key or operator");
	if (!str_key && m.val)
		m.num = atoll(m.val);
	ls = list_new(ud, LIST_MATCH);
	if (!ls)
		return ctl_error_set(err, 500, "Out of memory");
	ls->limit = limit;
	ls->m.num = m.num;
	ls->m.key = ls->key = dup_or_null(m.key, &oom);
	ls->m.op = ls->op = dup_or_null(m.op, &oom);
	ls->m.val = ls->val = dup_or_null(m.val, &oom);
	if (oom) {
		list_free(ls);
		return ctl_error_set(err, 500, "Out of memory");
	}
	if (str_key && strcmp(m.op, "re") == 0) {
		if (regcomp(&ls->m.re, m.val,
			    REG_EXTENDED | REG_ICASE | REG_NOSUB)) {
			list_free(ls);
			return ctl_error_set(err, 500,
					     "Invalid regular expression");
		}
		ls->m.use_re = true;
	}
	*ops = &list_ops;
	*st = ls;
	return 0;
}

/* dlg.set_state CALLID FROM_TAG TO_TAG [STATE=5] */
static int rpc_set_state(void *ud, json_t *params, json_t **result,
			 struct ctl_error *err)
{
	const char *callid, *ftag, *ttag;
	json_t *sv = ctl_param(params, 3, "state");
	long long state = 5;
	struct dlg_cell *c;
	int r;

	if (param_str(params, 0, "callid", &callid) || !callid ||
	    param_str(params, 1, "from_tag", &ftag) || !ftag ||
	    param_str(params, 2, "to_tag", &ttag) || !ttag)
		return ctl_error_set(err, 500, "Invalid parameters");
	if (sv) {
		if (json_is_integer(sv))
			state = json_integer_value(sv);
		else if (json_is_string(sv))
			state = atoll(json_string_value(sv));
		else
			state = 0;
	}
	if (state < 1 || state > 5)
		return ctl_error_set(err, 500, "Invalid state value");
	c = dlg_lookup_sip(((const struct dlg_rpc *)ud)->t, sip_str_c(callid),
			   sip_str_c(ftag),
			   sip_str_c(ttag), NULL);
	if (!c)
		return ctl_error_set(err, 500, "Dialog not found");
	r = dlg_force_state(c, (int)state);
	dlg_unref(c);
	if (r < 0)
		return ctl_error_set(err, 500, "Invalid state value");
	*result = json_string("Done");
	return 0;
}

int dlg_rpc_register(struct ctl_server *s, struct dlg_table *t)
{
	return dlg_rpc_register_extra(s, t, NULL, NULL, NULL);
}

int dlg_rpc_register_extra(struct ctl_server *s, struct dlg_table *t,
			   const char *key, dlg_rpc_extra_fn fn, void *ud)
{
	/* Kamailio's order; the listings are streamed. */
	static const struct {
		const char *name;
		ctl_method_fn fn;
		ctl_stream_open_fn open;
	} m[] = {
		{ "dlg.list", NULL, rpc_list },
		{ "dlg.list_ctx", NULL, rpc_list },
		{ "dlg.dlg_list", NULL, rpc_dlg_list },
		{ "dlg.dlg_list_ctx", NULL, rpc_dlg_list },
		{ "dlg.get", rpc_get, NULL },
		{ "dlg.profile_get_size", rpc_profile_size, NULL },
		{ "dlg.profile_list", rpc_profile_list, NULL },
		{ "dlg.stats_active", rpc_stats_active, NULL },
		{ "dlg.briefing", rpc_briefing, NULL },
		{ "dlg.is_alive", rpc_is_alive, NULL },
		{ "dlg.set_state", rpc_set_state, NULL },
		{ "dlg.list_match", NULL, rpc_list_match },
		{ "dlg.list_match_ctx", NULL, rpc_list_match },
	};

	struct dlg_rpc *x = calloc(1, sizeof(*x));
	int r;

	if (!x)
		return -ENOMEM;
	x->t = t;
	x->extra_key = fn ? key : NULL;
	x->extra_fn = fn;
	x->extra_ud = ud;
	r = ctl_server_keep(s, x);
	if (r) {
		free(x);
		return r;
	}
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		r = m[i].fn ? ctl_register(s, m[i].name, m[i].fn, x) :
			      ctl_register_stream(s, m[i].name, m[i].open, x);
		if (r)
			return r;
	}
	return 0;
}
