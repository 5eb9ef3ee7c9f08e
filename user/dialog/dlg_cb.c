/*
 * dlg_cb.c - DLGCB_* callbacks: global ones (every dialog) and per-dialog
 * ones, Kamailio's bit values.
 *
 * Lists are append-only: a node is fully written before it is published
 * with a release store, and never changes or goes away until the list is
 * freed (table free / cell destroy), so readers walk them with acquire
 * loads and no lock.  That is what lets every callback run with no lock
 * held (see dlg.h for the thread each event runs on).
 */
#include <errno.h>
#include <stdlib.h>

#include "dialog/dlg_int.h"

void dlg_cb_list_append(struct dlg_cb_list *l, struct dlg_cb_node *n)
{
	struct dlg_cb_node *last = atomic_load(&l->first), *x;

	atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
	while (last && (x = atomic_load(&last->next)))
		last = x;
	if (last)
		atomic_store_explicit(&last->next, n, memory_order_release);
	else
		atomic_store_explicit(&l->first, n, memory_order_release);
	atomic_fetch_or(&l->types, n->types);
}

void dlg_cb_list_free(struct dlg_cb_list *l)
{
	struct dlg_cb_node *n = atomic_load(&l->first), *next;

	for (; n; n = next) {
		next = atomic_load(&n->next);
		if (n->param_free)
			n->param_free(n->param);
		free(n);
	}
	atomic_store(&l->first, NULL);
	atomic_store(&l->types, 0);
}

static struct dlg_cb_node *node_new(int types, dlg_cb_fn fn, void *param,
				    void (*param_free)(void *))
{
	struct dlg_cb_node *n;

	if (!fn || !(types & DLGCB_ALL))
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->types = types & DLGCB_ALL;
	n->fn = fn;
	n->param = param;
	n->param_free = param_free;
	return n;
}

int dlg_register_global_cb(struct dlg_table *t, int types, dlg_cb_fn fn,
			   void *param, void (*param_free)(void *))
{
	struct dlg_cb_node *n;

	if (!fn || !(types & DLGCB_ALL))
		return -EINVAL;
	n = node_new(types, fn, param, param_free);
	if (!n)
		return -ENOMEM;
	pthread_mutex_lock(&t->cb_lock);
	dlg_cb_list_append(&t->gcbs, n);
	pthread_mutex_unlock(&t->cb_lock);
	return 0;
}

int dlg_register_cb(struct dlg_cell *c, int types, dlg_cb_fn fn, void *param,
		    void (*param_free)(void *))
{
	struct dlg_cb_node *n;

	if (!fn || !(types & DLGCB_ALL))
		return -EINVAL;
	n = node_new(types, fn, param, param_free);
	if (!n)
		return -ENOMEM;
	dlg_lock(c);
	dlg_cb_list_append(&c->cbs, n);
	dlg_unlock(c);
	return 0;
}

static void run_list(struct dlg_cell *c, const struct dlg_cb_list *l,
		     int type, const struct dlg_cb_params *p)
{
	struct dlg_cb_node *n;
	struct dlg_cb_params mine;

	if (!(atomic_load(&l->types) & type))
		return;
	n = atomic_load_explicit(&l->first, memory_order_acquire);
	for (; n; n = atomic_load_explicit(&n->next, memory_order_acquire)) {
		if (!(n->types & type))
			continue;
		mine = *p;
		mine.param = n->param;
		n->fn(c, type, &mine);
	}
}

/* Global callbacks first, then the dialog's own, in registration order. */
void dlg_run_cbs(struct dlg_cell *c, int type, const struct dlg_cb_params *p)
{
	run_list(c, &c->tbl->gcbs, type, p);
	run_list(c, &c->cbs, type, p);
}

void dlg_run_cb_set(struct dlg_cell *c, const struct dlg_cb_run *run)
{
	for (size_t i = 0; i < sizeof(run->types) / sizeof(run->types[0]);
	     i++)
		if (run->types[i])
			dlg_run_cbs(c, run->types[i], &run->p);
}
