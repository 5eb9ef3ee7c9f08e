/*
 * dlg_ka.c - in-dialog OPTIONS keep-alives, as Kamailio 5.6 sends them
 * (reference 4.6), with the sides chosen per dialog by the iflags KA_SRC
 * (towards the caller) and KA_DST (towards the callee) that the
 * dlg_keepalive: action sets.
 *
 * A dialog joins a FIFO when its ACK confirms it (or when it is restored
 * confirmed from the database).  Every ka_timer seconds the timer thread
 * takes the entries that are due off the head, sends an OPTIONS towards
 * each selected side of those still confirmed, and puts them back at the
 * tail, due ka_interval later; an entry whose dialog has ended or gone is
 * dropped then.  Since every entry waits the same interval, the FIFO
 * stays sorted by due time and a round touches only the due entries.
 *
 * Entries name their dialog by (h_entry, h_id), not by a reference: a
 * dialog ends on its own schedule, and shutdown frees the table after
 * the timers stop, so a reference held here would only outlive it.  Each
 * OPTIONS transaction holds a dialog reference and one on its entry (the
 * failure counts live there) until the transaction ends.
 *
 * A 408 or 481, or no answer at all (the transaction's own 408), counts
 * as a failure on that side; any other final reply resets that side's
 * count.  At ka_failed_limit failures in a row the dialog is ended with
 * BYE both ways, as dlg.end_dlg does.  (Kamailio instead lets the
 * lifetime run out 10 s later and sends BYE only with send_bye; here the
 * end is the point of the failure limit, so it is immediate and
 * explicit.)
 */
#define LOG_TAG "dialog"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/log.h"
#include "core/stats.h"
#include "core/timer.h"
#include "dialog/dlg.h"
#include "dlglink/dlg_bye.h"
#include "dlglink/dlg_ka.h"
#include "dlglink/dlg_uac.h"
#include "proxy/proxy.h"

struct ka_entry {
	struct ka_entry *next;		/* FIFO link; NULL at the tail */
	uint64_t due_ms;		/* CLOCK_MONOTONIC */
	uint32_t h_entry, h_id;
	uint32_t failed[2];		/* in a row, per leg */
	int refs;			/* FIFO (or a round) + transactions */
};

struct dlgk {
	struct dlg_table *t;
	struct proxy *px;
	struct tmr_service *tmr;
	struct tmr tick;
	uint64_t timer_ms, interval_ms;
	uint32_t failed_limit;
	pthread_mutex_t lock;		/* the FIFO and every entry */
	struct ka_entry *head, *tail;
	struct stat_var *sent, *answered, *failed, *ended;
};

/* One OPTIONS transaction. */
struct ka_tx {
	struct dlgk *k;
	struct ka_entry *e;		/* referenced */
	struct dlg_cell *c;		/* referenced */
	enum dlg_leg to;
};

bool dlgk_reply_failed(int code)
{
	return code == 408 || code == 481;
}

/* Drop one reference to @e; k->lock held. */
static void entry_put(struct ka_entry *e)
{
	if (--e->refs == 0)
		free(e);
}

static void fifo_push(struct dlgk *k, struct ka_entry *e)
{
	e->next = NULL;
	if (k->tail)
		k->tail->next = e;
	else
		k->head = e;
	k->tail = e;
}

static void tx_release(void *obj)
{
	struct ka_tx *x = obj;

	pthread_mutex_lock(&x->k->lock);
	entry_put(x->e);
	pthread_mutex_unlock(&x->k->lock);
	dlg_unref(x->c);
	free(x);
}

static void tx_reply(void *obj, const struct px_reply *r)
{
	struct ka_tx *x = obj;
	struct dlgk *k = x->k;
	bool end = false;
	uint32_t n;

	if (r->code < 200)
		return;
	if (!dlgk_reply_failed(r->code)) {
		stat_inc(k->answered);
		pthread_mutex_lock(&k->lock);
		x->e->failed[x->to] = 0;
		pthread_mutex_unlock(&k->lock);
		return;
	}
	stat_inc(k->failed);
	/* Kamailio counts failures of confirmed dialogs only. */
	if (dlg_state(x->c) != DLG_STATE_CONFIRMED)
		return;
	pthread_mutex_lock(&k->lock);
	n = ++x->e->failed[x->to];
	if (n >= k->failed_limit) {
		end = true;
		x->e->failed[x->to] = 0;
	}
	pthread_mutex_unlock(&k->lock);
	log_info("dialog %u:%u: keep-alive to the %s failed (%d%s), %u of %u",
		 dlg_h_entry(x->c), dlg_h_id(x->c),
		 x->to == DLG_CALLER_LEG ? "caller" : "callee", r->code,
		 r->rsp ? "" : ", no answer", n, k->failed_limit);
	if (!end || dlg_state(x->c) != DLG_STATE_CONFIRMED)
		return;
	log_notice("dialog %u:%u: ended after %u failed keep-alives",
		   dlg_h_entry(x->c), dlg_h_id(x->c), n);
	stat_inc(k->ended);
	dlgp_bye(r->px, x->c, DLGP_BYE_ALL, NULL);
	dlg_end(x->c, NULL);
}

static const struct px_tx_ops ka_tx_ops = {
	.on_reply = tx_reply,
	.release = tx_release,
};

/* OPTIONS towards leg @to of @c.  A send that fails counts as no answer. */
static void send_options(struct dlgk *k, struct ka_entry *e,
			 struct dlg_cell *c, const struct dlg_info *in,
			 enum dlg_leg to)
{
	const struct dlg_info_leg *oth = to == DLG_CALLER_LEG ? &in->callee :
								 &in->caller;
	const char *lreq = proxy_config(k->px)->dialog.lreq_callee_headers;
	struct dlg_uac_req r = {
		.method = "OPTIONS",
		/* Kamailio's: the other side's last CSeq, never above it, so
		 * the next real request is not "too low" (reference 4.6). */
		.cseq = oth->cseq,
		.hdrs = { to == DLG_CALLEE_LEG ? lreq : NULL },
	};
	struct px_branch_dlg bd = { .h_entry = in->h_entry, .h_id = in->h_id,
				    .dir = to == DLG_CALLER_LEG };
	struct ka_tx *x;
	int rc;

	if (dlg_uac_fill_leg(&r, in, to) != 0)
		return;
	x = calloc(1, sizeof(*x));
	if (!x)
		return;
	x->k = k;
	x->e = e;
	x->c = c;
	x->to = to;
	pthread_mutex_lock(&k->lock);
	e->refs++;
	pthread_mutex_unlock(&k->lock);
	dlg_ref(c);
	stat_inc(k->sent);
	/* On failure dlg_uac_send has already released @x. */
	rc = dlg_uac_send(k->px, &r, &bd, &ka_tx_ops, x);
	if (rc)
		log_warn("dialog %u:%u: keep-alive to the %s not sent: %s",
			 in->h_entry, in->h_id,
			 to == DLG_CALLER_LEG ? "caller" : "callee",
			 strerror(-rc));
}

/* One entry of a round; false if it is to be dropped. */
static bool probe(struct dlgk *k, struct ka_entry *e)
{
	struct dlg_cell *c = dlg_lookup_id(k->t, e->h_entry, e->h_id);
	struct dlg_info *in;
	uint32_t fl;

	if (!c)
		return false;
	if (dlg_state(c) == DLG_STATE_DELETED) {
		dlg_unref(c);
		return false;
	}
	fl = dlg_iflags(c);
	in = dlg_state(c) == DLG_STATE_CONFIRMED &&
			     (fl & (DLG_IFLAG_KA_SRC | DLG_IFLAG_KA_DST)) ?
		     dlg_info_get(c, 0) :
		     NULL;
	if (in && (fl & DLG_IFLAG_KA_SRC))
		send_options(k, e, c, in, DLG_CALLER_LEG);
	if (in && (fl & DLG_IFLAG_KA_DST))
		send_options(k, e, c, in, DLG_CALLEE_LEG);
	dlg_info_free(in);
	dlg_unref(c);
	return true;
}

static void on_tick(struct tmr *tm)
{
	struct dlgk *k = tm->data;
	struct ka_entry *due = NULL, **tailp = &due, *e;
	uint64_t now = tmr_now_ms();

	/* Take the due entries off the head; they keep the FIFO's ref. */
	pthread_mutex_lock(&k->lock);
	while (k->head && k->head->due_ms <= now) {
		e = k->head;
		k->head = e->next;
		if (!k->head)
			k->tail = NULL;
		e->next = NULL;
		*tailp = e;
		tailp = &e->next;
	}
	pthread_mutex_unlock(&k->lock);
	while ((e = due)) {
		bool keep;

		due = e->next;
		keep = probe(k, e);
		pthread_mutex_lock(&k->lock);
		if (keep) {
			e->due_ms = now + k->interval_ms;
			fifo_push(k, e);
		} else {
			entry_put(e);
		}
		pthread_mutex_unlock(&k->lock);
	}
	tmr_arm(k->tmr, &k->tick, k->timer_ms);
}

/* Confirmed by its ACK, or restored confirmed: join if a side is set. */
static void on_confirmed(struct dlg_cell *c, int type,
			 const struct dlg_cb_params *p)
{
	struct dlgk *k = p->param;
	struct ka_entry *e;

	if (dlg_state(c) != DLG_STATE_CONFIRMED ||
	    !(dlg_iflags(c) & (DLG_IFLAG_KA_SRC | DLG_IFLAG_KA_DST)))
		return;
	e = calloc(1, sizeof(*e));
	if (!e) {
		log_warn("dialog %u:%u: no memory for its keep-alives",
			 dlg_h_entry(c), dlg_h_id(c));
		return;
	}
	e->h_entry = dlg_h_entry(c);
	e->h_id = dlg_h_id(c);
	e->refs = 1;
	e->due_ms = tmr_now_ms() + k->interval_ms;
	pthread_mutex_lock(&k->lock);
	fifo_push(k, e);
	pthread_mutex_unlock(&k->lock);
}

/* At dlg_table_free: the timers are stopped and the transactions gone. */
static void dlgk_free(void *p)
{
	struct dlgk *k = p;
	struct ka_entry *e;

	while ((e = k->head)) {
		k->head = e->next;
		entry_put(e);
	}
	pthread_mutex_destroy(&k->lock);
	free(k);
}

int dlgk_install(struct dlg_table *t, struct proxy *px,
		 struct tmr_service *tmr, struct stats *st)
{
	const struct cfg_dialog *cd = &proxy_config(px)->dialog;
	struct dlgk *k;
	int r;

	if (cd->ka_timer == 0 || cd->ka_interval == 0)
		return 0;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->t = t;
	k->px = px;
	k->tmr = tmr;
	k->timer_ms = (uint64_t)cd->ka_timer * 1000u;
	k->interval_ms = (uint64_t)cd->ka_interval * 1000u;
	k->failed_limit = cd->ka_failed_limit;
	pthread_mutex_init(&k->lock, NULL);
	k->sent = stats_register(st, "dialog", "keepalives_sent", 0);
	k->answered = stats_register(st, "dialog", "keepalives_answered", 0);
	k->failed = stats_register(st, "dialog", "keepalives_failed", 0);
	k->ended = stats_register(st, "dialog", "keepalive_ended_dialogs", 0);
	r = dlg_register_global_cb(t, DLGCB_CONFIRMED | DLGCB_LOADED,
				   on_confirmed, k, dlgk_free);
	if (r) {
		dlgk_free(k);
		return r;
	}
	tmr_init(&k->tick, on_tick, k);
	tmr_arm(tmr, &k->tick, k->timer_ms);
	log_info("keep-alives: a round every %u s, each dialog every %u s, "
		 "ended after %u failures", cd->ka_timer, cd->ka_interval,
		 cd->ka_failed_limit);
	return 0;
}
