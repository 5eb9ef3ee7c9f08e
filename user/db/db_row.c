/*
 * db_row.c - the `dialog` row to and from C: decoding a fetched row for
 * restore (db_row_decode) and Kamailio's xdata JSON of the profiles
 * (db_xdata_build).  Pure functions, no MySQL.
 */
#include "db/db_load.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "dialog/dlg.h"

enum {
	C_ID, C_HE, C_HID, C_CALLID, C_FURI, C_FTAG, C_TURI, C_TTAG,
	C_CSEQ1, C_CSEQ2, C_RS1, C_RS2, C_CT1, C_CT2, C_SOCK1, C_SOCK2,
	C_STATE, C_START, C_TIMEOUT, C_SFLAGS, C_IFLAGS, C_TOROUTE, C_RURI,
	C_XDATA,
};

static const char *const col_names[DB_DLG_NCOLS] = {
	"id", "hash_entry", "hash_id", "callid", "from_uri", "from_tag",
	"to_uri", "to_tag", "caller_cseq", "callee_cseq", "caller_route_set",
	"callee_route_set", "caller_contact", "callee_contact", "caller_sock",
	"callee_sock", "state", "start_time", "timeout", "sflags", "iflags",
	"toroute_name", "req_uri", "xdata",
};

static int errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Unsigned decimal of at most @max; an empty string reads as 0 only if
 * @empty_ok (Kamailio writes cseqs as strings). */
static int get_u(char *const *cols, const unsigned long *lens, int i,
		 uint64_t max, int empty_ok, uint64_t *v, char *err,
		 size_t errlen)
{
	uint64_t x = 0;
	unsigned long k;

	if (!cols[i])
		return errf(err, errlen, "column %s is NULL", col_names[i]);
	if (lens[i] == 0) {
		if (!empty_ok)
			return errf(err, errlen, "column %s is empty",
				    col_names[i]);
		*v = 0;
		return 0;
	}
	for (k = 0; k < lens[i]; k++) {
		char c = cols[i][k];

		if (c < '0' || c > '9' || x > (UINT64_MAX - 9) / 10)
			return errf(err, errlen, "column %s: '%.*s' is not a "
				    "number", col_names[i], (int)lens[i],
				    cols[i]);
		x = x * 10 + (uint64_t)(c - '0');
	}
	if (x > max)
		return errf(err, errlen, "column %s: %" PRIu64 " is out of "
			    "range", col_names[i], x);
	*v = x;
	return 0;
}

static int get_s(char *const *cols, const unsigned long *lens, int i,
		 int null_ok, const char **s, char *err, size_t errlen)
{
	if (!cols[i]) {
		if (!null_ok)
			return errf(err, errlen, "column %s is NULL",
				    col_names[i]);
		*s = "";
		return 0;
	}
	if (memchr(cols[i], '\0', lens[i]))
		return errf(err, errlen, "column %s contains a NUL byte",
			    col_names[i]);
	*s = cols[i];
	return 0;
}

void db_load_row_clear(struct db_load_row *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n_profiles; i++) {
		free((char *)r->profiles[i].name);
		free((char *)r->profiles[i].value);
	}
	free(r->profiles);
	r->profiles = NULL;
	r->n_profiles = 0;
}

/* {"profiles":[{"name":..,"value":..,"puid":..,...}]} -> profiles. */
static int decode_xdata(const char *s, size_t len, struct db_load_row *r,
			char *err, size_t errlen)
{
	json_error_t je;
	json_t *root, *arr, *el;
	size_t i, n;
	int rc = 0;

	root = json_loadb(s, len, 0, &je);
	if (!root)
		return errf(err, errlen, "column xdata is not JSON: %s",
			    je.text);
	arr = json_object_get(root, "profiles");
	if (!json_is_object(root) || (arr && !json_is_array(arr))) {
		json_decref(root);
		return errf(err, errlen, "column xdata: expected "
			    "{\"profiles\":[...]}");
	}
	n = arr ? json_array_size(arr) : 0;
	if (n) {
		r->profiles = calloc(n, sizeof(*r->profiles));
		if (!r->profiles) {
			json_decref(root);
			return -ENOMEM;
		}
	}
	json_array_foreach(arr, i, el) {
		json_t *name = json_object_get(el, "name");
		json_t *val = json_object_get(el, "value");
		struct db_load_profile *p = &r->profiles[r->n_profiles];

		if (!json_is_string(name) || !json_string_length(name) ||
		    (val && !json_is_string(val))) {
			rc = errf(err, errlen, "column xdata: profile %zu has "
				  "no string \"name\" (or a non-string "
				  "\"value\")", i);
			break;
		}
		p->name = strdup(json_string_value(name));
		p->value = val ? strdup(json_string_value(val)) : NULL;
		r->n_profiles++;
		if (!p->name || (val && !p->value)) {
			rc = -ENOMEM;
			break;
		}
	}
	json_decref(root);
	if (rc)
		db_load_row_clear(r);
	return rc;
}

int db_row_decode(char *const *cols, const unsigned long *lens,
		  struct db_load_row *out, char *err, size_t errlen)
{
	struct db_load_row r;
	uint64_t v;
	int rc;

	memset(&r, 0, sizeof(r));
#define U(i, max, eok, dst)                                                   \
	do {                                                                  \
		rc = get_u(cols, lens, i, max, eok, &v, err, errlen);         \
		if (rc)                                                       \
			return rc;                                            \
		dst = v;                                                      \
	} while (0)
#define S(i, nok, dst)                                                        \
	do {                                                                  \
		rc = get_s(cols, lens, i, nok, &dst, err, errlen);            \
		if (rc)                                                       \
			return rc;                                            \
	} while (0)
	U(C_ID, UINT64_MAX, 0, r.id);
	U(C_HE, UINT32_MAX, 0, r.h_entry);
	U(C_HID, UINT32_MAX, 0, r.h_id);
	S(C_CALLID, 0, r.callid);
	S(C_FURI, 0, r.from_uri);
	S(C_FTAG, 0, r.from_tag);
	S(C_TURI, 0, r.to_uri);
	S(C_TTAG, 0, r.to_tag);
	U(C_CSEQ1, UINT32_MAX, 1, r.caller_cseq);
	U(C_CSEQ2, UINT32_MAX, 1, r.callee_cseq);
	S(C_RS1, 1, r.caller_route_set);
	S(C_RS2, 1, r.callee_route_set);
	S(C_CT1, 0, r.caller_contact);
	S(C_CT2, 0, r.callee_contact);
	S(C_SOCK1, 1, r.caller_sock);
	S(C_SOCK2, 1, r.callee_sock);
	U(C_STATE, 5, 0, r.state);
	U(C_START, UINT32_MAX, 0, r.start_time);
	U(C_TIMEOUT, UINT32_MAX, 1, r.timeout);
	U(C_SFLAGS, UINT32_MAX, 1, r.sflags);
	U(C_IFLAGS, UINT32_MAX, 1, r.iflags);
	S(C_TOROUTE, 1, r.toroute_name);
	S(C_RURI, 0, r.req_uri);
#undef U
#undef S
	if (r.state < 1)
		return errf(err, errlen, "column state: 0 is not a state");
	if (r.h_id == 0)
		return errf(err, errlen, "column hash_id: 0 is not a dialog");
	if (!*r.callid || !*r.from_tag)
		return errf(err, errlen, "empty %s",
			    *r.callid ? "from_tag" : "callid");
	if (cols[C_XDATA] && lens[C_XDATA]) {
		rc = decode_xdata(cols[C_XDATA], lens[C_XDATA], &r, err,
				  errlen);
		if (rc)
			return rc;
	}
	*out = r;
	return 0;
}

/* "dlgp-<hex ts>-<hex pid>-<n>", as Kamailio's profile uids. */
static void make_puid(char *buf, size_t cap)
{
	static atomic_uint seq;

	snprintf(buf, cap, "dlgp-%lx-%x-%u", (unsigned long)time(NULL),
		 (unsigned)getpid(), atomic_fetch_add(&seq, 1) + 1);
}

char *db_xdata_build(const struct dlg_info_profile *p, size_t n)
{
	json_t *root, *arr;
	char puid[64], *s;
	size_t i;

	if (!n)
		return NULL;
	root = json_object();
	arr = json_array();
	if (!root || !arr || json_object_set_new(root, "profiles", arr)) {
		json_decref(root);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		json_t *el = json_object();

		if (!el || json_array_append_new(arr, el))
			goto fail;
		make_puid(puid, sizeof(puid));
		if (json_object_set_new(el, "name", json_string(p[i].name)))
			goto fail;
		if (p[i].value &&
		    json_object_set_new(el, "value", json_string(p[i].value)))
			goto fail;
		if (json_object_set_new(el, "puid", json_string(puid)))
			goto fail;
	}
	s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	return s;
fail:
	json_decref(root);
	return NULL;
}
