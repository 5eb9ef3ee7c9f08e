/*
 * dlg_vars.c - per-dialog script flags (sflags), internal flags (iflags)
 * and variables ($dlg_var).
 *
 * Flags are atomic words: each set/reset is one atomic bit operation, so
 * they need no lock.  Variables are a short list under the slot lock; each
 * carries marks for the DB layer (NEW: no row yet; CHANGED: row out of
 * date; DELETED: row to delete).  A deleted variable keeps its node, marked
 * DELETED, until the DB layer collects the marks (dlg_info_get with
 * DLG_INFO_CLEAR_MARKS), so its dialog_vars row can be deleted: Kamailio
 * frees it at once and the row is never deleted (reference §7).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dialog/dlg_int.h"

#define DLG_VAR_MAX 65535u	/* a sanity cap on key and value sizes */

int dlg_setflag(struct dlg_cell *c, unsigned n)
{
	if (n > 31)
		return -EINVAL;
	atomic_fetch_or(&c->sflags, 1u << n);
	return 0;
}

int dlg_resetflag(struct dlg_cell *c, unsigned n)
{
	if (n > 31)
		return -EINVAL;
	atomic_fetch_and(&c->sflags, ~(1u << n));
	return 0;
}

int dlg_isflagset(const struct dlg_cell *c, unsigned n)
{
	if (n > 31)
		return -EINVAL;
	return (atomic_load(&c->sflags) >> n) & 1u;
}

uint32_t dlg_sflags(const struct dlg_cell *c)
{
	return atomic_load(&c->sflags);
}

void dlg_set_iflags(struct dlg_cell *c, uint32_t bits)
{
	atomic_fetch_or(&c->iflags, bits);
}

void dlg_reset_iflags(struct dlg_cell *c, uint32_t bits)
{
	atomic_fetch_and(&c->iflags, ~bits);
}

uint32_t dlg_iflags(const struct dlg_cell *c)
{
	return atomic_load(&c->iflags);
}

static struct dlg_var *var_find(struct dlg_cell *c, struct sip_str key)
{
	for (struct dlg_var *v = c->vars; v; v = v->next)
		if (v->klen == key.len && !memcmp(v->key, key.p, key.len))
			return v;
	return NULL;
}

static char *dup_str(struct sip_str s)
{
	char *p = malloc(s.len + 1);

	if (!p)
		return NULL;
	if (s.len)
		memcpy(p, s.p, s.len);
	p[s.len] = '\0';
	return p;
}

int dlg_var_set(struct dlg_cell *c, struct sip_str key, struct sip_str value)
{
	bool del = !value.p || !value.len;
	struct dlg_var *v, *nv = NULL;
	char *nval = NULL;
	int err = 0;

	if (!key.p || !key.len || key.len > DLG_VAR_MAX ||
	    value.len > DLG_VAR_MAX)
		return -EINVAL;
	/* Allocate before locking; most of it is used. */
	if (!del) {
		nval = dup_str(value);
		nv = malloc(sizeof(*nv) + key.len + 1);
		if (!nval || !nv) {
			free(nval);
			free(nv);
			return -ENOMEM;
		}
	}
	dlg_lock(c);
	v = var_find(c, key);
	if (del) {
		if (!v || (v->flags & DLG_VAR_DELETED)) {
			err = -ENOENT;
		} else if (v->flags & DLG_VAR_NEW) {
			/* Never written: nothing for the DB to delete. */
			struct dlg_var **pp = &c->vars;

			while (*pp != v)
				pp = &(*pp)->next;
			*pp = v->next;
			nv = v;		/* freed below */
			nval = v->val;
		} else {
			v->flags = DLG_VAR_DELETED;
			nval = v->val;
			v->val = NULL;
			v->vlen = 0;
		}
	} else if (v) {
		char *old = v->val;

		v->val = nval;
		v->vlen = value.len;
		if (v->flags & DLG_VAR_DELETED)
			v->flags = DLG_VAR_CHANGED;
		else if (!(v->flags & DLG_VAR_NEW))
			v->flags |= DLG_VAR_CHANGED;
		nval = old;	/* freed below; nv unused */
	} else {
		nv->flags = DLG_VAR_NEW;
		nv->val = nval;
		nv->vlen = value.len;
		nv->klen = key.len;
		memcpy(nv->key, key.p, key.len);
		nv->key[key.len] = '\0';
		nv->next = c->vars;
		c->vars = nv;
		nv = NULL;
		nval = NULL;
	}
	if (!err)
		atomic_fetch_or(&c->dflags, DLG_DFLAG_CHANGED_VARS);
	dlg_unlock(c);
	free(nval);
	free(nv);
	return err;
}

int dlg_var_get(struct dlg_cell *c, struct sip_str key, char *buf,
		size_t cap)
{
	struct dlg_var *v;
	int n = -ENOENT;

	if (!key.p || !key.len)
		return -ENOENT;
	dlg_lock(c);
	v = var_find(c, key);
	if (v && !(v->flags & DLG_VAR_DELETED)) {
		n = (int)v->vlen;
		if (cap) {
			size_t k = v->vlen < cap - 1 ? v->vlen : cap - 1;

			memcpy(buf, v->val, k);
			buf[k] = '\0';
		}
	}
	dlg_unlock(c);
	return n;
}

void dlg_vars_free(struct dlg_cell *c)
{
	struct dlg_var *v, *n;

	for (v = c->vars; v; v = n) {
		n = v->next;
		free(v->val);
		free(v);
	}
	c->vars = NULL;
}

static bool var_shown(const struct dlg_var *v, unsigned flags)
{
	return (flags & DLG_INFO_VARS_ALL) || !(v->flags & DLG_VAR_DELETED);
}

size_t dlg_vars_count_locked(const struct dlg_cell *c, unsigned flags,
			     size_t *bytes)
{
	size_t n = 0;

	for (const struct dlg_var *v = c->vars; v; v = v->next) {
		if (!var_shown(v, flags))
			continue;
		n++;
		*bytes += v->klen + 1 + v->vlen + 1;
	}
	return n;
}

/* Copy the shown vars, oldest first. */
size_t dlg_vars_copy_locked(struct dlg_cell *c, unsigned flags,
			    struct dlg_info_var *out, char **strp)
{
	size_t n = 0, i;
	char *s = *strp;
	struct dlg_var *v;

	for (v = c->vars; v; v = v->next)
		if (var_shown(v, flags))
			n++;
	i = n;
	for (v = c->vars; v; v = v->next) {
		struct dlg_info_var *o;

		if (!var_shown(v, flags))
			continue;
		o = &out[--i];
		memcpy(s, v->key, v->klen + 1);
		o->key = s;
		s += v->klen + 1;
		if (v->vlen)
			memcpy(s, v->val, v->vlen);
		s[v->vlen] = '\0';
		o->value = s;
		s += v->vlen + 1;
		o->flags = v->flags;
	}
	*strp = s;
	return n;
}

/* The DB layer has seen every mark: clear them, drop the deleted vars. */
void dlg_vars_clear_marks_locked(struct dlg_cell *c)
{
	struct dlg_var **pp, *v;

	for (pp = &c->vars; (v = *pp);) {
		if (v->flags & DLG_VAR_DELETED) {
			*pp = v->next;
			free(v->val);
			free(v);
			continue;
		}
		v->flags = 0;
		pp = &v->next;
	}
	atomic_fetch_and(&c->dflags, ~DLG_DFLAG_CHANGED_VARS);
}
