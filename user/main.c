/*
 * main.c - sipdlgd: wire configuration, event loop, control socket, SIP
 * sockets and the XDP fast path together, run, and unwind in reverse.
 * Decisions live in the modules; this file only orders them.
 */
#define LOG_TAG "main"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "config/config.h"
#include "control/ctl_server.h"
#include "control/ctl_methods_core.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/stats.h"
#include "db/db.h"
#include "db/db_load.h"
#include "dialog/dlg.h"
#include "dialog/dlg_stats.h"
#include "dlglink/dlg_bridge.h"
#include "dlglink/dlg_bye.h"
#include "dlglink/dlg_ka.h"
#include "dlglink/dlg_config.h"
#include "dlglink/dlg_events.h"
#include "dlglink/dlg_proxy.h"
#include "dlglink/dlg_rpc.h"
#include "fastpath/fastpath.h"
#include "fastpath/fp_dialogs.h"
#include "fastpath/fp_relay.h"
#include "fastpath/fp_rpc.h"
#include "mac/mac_ring.h"
#include "metrics/metrics.h"
#include "core/timer.h"
#include "proxy/proxy.h"
#include "transport/transport.h"
#include "transport/tp_tls_rpc.h"

#ifndef SIPDLG_VERSION
#define SIPDLG_VERSION "0.0.0"
#endif

struct daemon {
	struct sipdlg_config *cfg;
	struct ev_loop *loop;
	struct stats *stats;
	struct dlg_stats dlg_stats;
	struct ctl_server *ctl;
	struct tmr_service *tmr;
	struct proxy *px;
	struct dlg_table *dlg;
	struct db_ctx *db;
	struct cluster *cl;		/* NULL without cluster: */
	struct transport *tp;
	struct fastpath *fp;
	struct mac_ring *mac;		/* cookie MAC keys; NULL = off */
	struct metrics *metrics;	/* Prometheus endpoint; NULL = off */
	int sig_fd;
	time_t start_time;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sipdlgd -c FILE [--check] [--bpf-object PATH]\n"
		"  -c, --config FILE     configuration (YAML)\n"
		"      --check           validate FILE and exit (0 valid, 1 not)\n"
		"      --bpf-object PATH load this BPF object instead of the "
		"built-in one\n"
		"  -l, --log-level LVL   override log.level "
		"(error|warn|notice|info|debug)\n"
		"  -V, --version         print the version\n"
		"  -h, --help            this text\n");
}

static void on_signal(struct ev_loop *loop, int fd, unsigned events, void *ud)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			struct daemon *d = ud;
			char err[512];

			/* TLS certificates are re-read; nothing else is. */
			if (d->cfg->tls.present)
				(void)tp_tls_reload(d->tp, err, sizeof(err));
			log_notice("SIGHUP: %sother configuration is not "
				   "reloaded; restart sipdlgd to apply changes",
				   d->cfg->tls.present ?
					   "TLS certificates re-read; " : "");
			continue;
		}
		log_notice("%s: shutting down", strsignal((int)si.ssi_signo));
		ev_loop_stop(loop);
	}
}

static int setup_signals(struct daemon *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -errno;
	d->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sig_fd < 0)
		return -errno;
	return ev_file_add(d->loop, d->sig_fd, EV_READ, on_signal, d);
}

/* One database row into the dialog table (db_load's callback). */
static struct sip_str cs(const char *s)
{
	return s ? sip_str_c(s) : SIP_STR_NULL;
}

static int load_row(struct dlg_table *t, const struct db_load_row *row,
		    void *ud)
{
	struct dlg_load ld = {
		.h_entry = row->h_entry, .h_id = row->h_id,
		.callid = cs(row->callid), .from_uri = cs(row->from_uri),
		.from_tag = cs(row->from_tag), .to_uri = cs(row->to_uri),
		.to_tag = cs(row->to_tag), .req_uri = cs(row->req_uri),
		.caller_contact = cs(row->caller_contact),
		.caller_route_set = cs(row->caller_route_set),
		.caller_sock = cs(row->caller_sock),
		.callee_contact = cs(row->callee_contact),
		.callee_route_set = cs(row->callee_route_set),
		.callee_sock = cs(row->callee_sock),
		.caller_cseq = row->caller_cseq, .callee_cseq = row->callee_cseq,
		.state = row->state, .start_time = row->start_time,
		.timeout = row->timeout, .sflags = row->sflags,
		.iflags = row->iflags, .toroute_name = cs(row->toroute_name),
	};
	struct dlg_cell *c;
	int r = dlg_load(t, &ld, &c);

	if (r)
		return r;
	for (size_t i = 0; i < row->n_profiles; i++) {
		struct dlg_profile *p =
			dlg_profile_lookup(t, cs(row->profiles[i].name));
		if (!p) {
			log_warn("restore: dialog %u:%u names an unknown "
				 "profile '%s': ignored",
				 row->h_entry, row->h_id, row->profiles[i].name);
			continue;
		}
		dlg_profile_set(c, p, cs(row->profiles[i].value));
	}
	for (size_t i = 0; i < row->n_vars; i++)
		dlg_var_set(c, cs(row->vars[i].key), cs(row->vars[i].value));
	dlg_load_done(c);
	dlg_unref(c);
	return 0;
}

/* dlglink's BYEs for unknown dialogs into the database's late load. */
static bool unknown_bye(void *ud, const struct dlgp_unknown_bye *b)
{
	struct db_end_key k = {
		.callid = b->callid.p, .callid_len = b->callid.len,
		.tag1 = b->from_tag.p, .tag1_len = b->from_tag.len,
		.tag2 = b->to_tag.p, .tag2_len = b->to_tag.len,
		.h_entry = b->h_entry, .h_id = b->h_id, .has_id = b->has_id,
	};

	return db_note_end(ud, &k);
}

/* The stored dialogs are loaded after all (database thread): the kernel
 * may drop requests of unknown dialogs again (their LOADED callbacks
 * wrote the restored ones into the maps). */
static void late_load_done(void *ud)
{
	struct daemon *d = ud;

	fp_dialogs_loading(d->fp, false);
}

static int start(struct daemon *d, const char *bpf_object)
{
	char err[2048];
	int r;

	d->start_time = time(NULL);
	d->loop = ev_loop_alloc();
	d->stats = stats_alloc();
	if (!d->loop || !d->stats)
		return -ENOMEM;
	r = setup_signals(d);
	if (r) {
		log_err("signals: %s", strerror(-r));
		return r;
	}
	dlg_stats_register(d->stats, d->cfg->dialog.enable_stats,
			   &d->dlg_stats);

	d->ctl = ctl_server_alloc(d->loop);
	if (!d->ctl)
		return -ENOMEM;
	r = ctl_server_listen(d->ctl, d->cfg->control.socket,
			      d->cfg->control.mode, d->cfg->control.group);
	if (r) {
		log_err("control socket %s: %s", d->cfg->control.socket,
			r == -EADDRINUSE ?
				"another sipdlgd is answering on it" :
				strerror(-r));
		return r;
	}
	r = ctl_methods_core_register(d->ctl, d->stats, SIPDLG_VERSION,
				      (uint64_t)d->start_time);
	if (r)
		return r;

	/* SIP: the proxy, its timers, the transport that feeds it (bound
	 * now, served last), the fast path, then the dialog table that
	 * mirrors itself into the fast path's maps. */
	d->tmr = tmr_service_alloc();
	if (!d->tmr || tmr_service_start(d->tmr) != 0)
		return -ENOMEM;
	r = proxy_alloc(d->cfg, d->stats, &d->px, err, sizeof(err));
	if (r) {
		log_err("%s", err);
		return r;
	}
	r = tp_alloc(d->cfg, d->stats, proxy_on_message, d->px, &d->tp, err,
		     sizeof(err));
	if (r) {
		log_err("%s", err);
		return r;
	}
	proxy_attach(d->px, d->tp, d->tmr);

	if (d->cfg->xdp.mac_key_file[0]) {
		r = mac_ring_open(d->cfg->xdp.mac_key_file, &d->mac, err,
				  sizeof(err));
		if (r) {
			log_err("xdp.cookie_mac.key_file: %s", err);
			return r;
		}
	}
	if (d->cfg->xdp.enabled) {
		r = fp_start(d->cfg, bpf_object, d->mac, d->loop, d->stats,
			     &d->fp, err, sizeof(err));
		if (r) {
			log_err("%s", err);
			return r;
		}
		/* The workers publish the kernel's clock as they wake up
		 * (no timer wake-ups for it). */
		for (unsigned i = 0; i < tp_worker_count(d->tp); i++) {
			r = fp_clock_hook_loop(d->fp, tp_worker_loop(d->tp, i));
			if (r) {
				log_err("xdp: cannot hook the clock to worker "
					"%u: %s", i, strerror(-r));
				return r;
			}
		}
	} else {
		log_notice("xdp.enabled is false: no fast path");
	}
	r = tp_tls_rpc_register(d->ctl, d->tp);
	if (r)
		return r;
	r = fp_rpc_register(d->ctl, d->fp, d->cfg);
	if (r)
		return r;

	{
		struct dlg_config dc;

		dlg_config_from_cfg(&dc, &d->cfg->dialog);
		if (d->mac) {
			dc.mac_sign = mac_ring_sign_ud;
			dc.mac_ud = d->mac;
		}
		if (d->fp) {
			dc.still_active = fp_dialog_still_active;
			dc.acked_elsewhere = fp_dialog_acked;
			dc.ack_pending = fp_dialog_ack_pending;
			dc.ud = d->fp;
		}
		r = dlg_table_alloc(&dc, d->tmr, &d->dlg_stats, &d->dlg);
		if (r) {
			log_err("dialog table: %s", strerror(-r));
			return r;
		}
		/* The proxy's dialog layer; its timeout routes run before
		 * the timeout BYEs (callbacks run in registration order). */
		r = dlgp_install(d->dlg, d->px);
		if (!r)	/* with the fast path: its counters under "xdp" */
			r = dlg_rpc_register_extra(
				d->ctl, d->dlg, "xdp",
				d->fp ? fp_rpc_dialog_json : NULL, d->fp);
		if (!r)
			r = dlgp_bye_install(d->dlg, d->px, d->ctl);
		if (!r)
			r = dlgb_install(d->px, d->ctl);
		if (!r)
			r = dlgk_install(d->dlg, d->px, d->tmr, d->stats);
		if (!r)
			r = dlg_events_install(d->dlg, d->ctl);
		if (!r)
			r = fp_dialogs_install(d->fp, d->dlg);
		if (!r)	/* after fp_dialogs: a dialog is in "dialogs" first */
			r = fp_relay_install(d->fp, d->dlg, d->px, d->stats);
		fp_mac_set_table(d->fp, d->dlg);
		if (r)
			return r;
	}
	if (d->cfg->dialog.db_mode > 0) {
		r = db_alloc(&d->cfg->dialog, &d->cfg->database, d->stats,
			     &d->db, err, sizeof(err));
		if (r) {
			log_err("database: %s", err);
			return r;
		}
		r = db_check(d->db, err, sizeof(err));
		if (r && d->cfg->cluster.enabled) {
			/* Which rows are ours is in the database. */
			log_err("database: %s (a cluster: node needs the "
				"database at start)", err);
			return r;
		}
		if (!r && d->cfg->cluster.enabled) {
			r = cluster_alloc(d->cfg, d->db, d->dlg, load_row, d,
					  &d->cl);
			if (!r)
				r = cluster_prepare(d->cl, err, sizeof(err));
			if (r) {
				log_err("cluster: %s", err);
				return r;
			}
		}
		if (r && db_required(d->db)) {
			log_err("database: %s (database.required is true)", err);
			return r;
		}
		if (r) {
			log_warn("starting without the database: %s", err);
			db_defer_load(d->db, load_row, d,
				      d->cfg->database.rehash_on_load != 0,
				      late_load_done);
			fp_dialogs_loading(d->fp, db_load_pending(d->db));
			dlgp_on_unknown_bye(unknown_bye, d->db);
		} else if (!d->cfg->dialog.db_skip_load) {
			struct db_load_result res;

			r = db_load(d->db, d->dlg, load_row, NULL,
				    d->cfg->database.rehash_on_load != 0, &res,
				    err, sizeof(err));
			if (r) {
				log_err("database: restore failed: %s", err);
				return r;
			}
			log_notice("restored %llu dialogs from the database "
				   "(%llu rows in %llu reads of at most %u, "
				   "%llu skipped, %llu variables)",
				   (unsigned long long)res.loaded,
				   (unsigned long long)res.rows,
				   (unsigned long long)res.pages,
				   d->cfg->dialog.db_fetch_rows,
				   (unsigned long long)res.skipped,
				   (unsigned long long)res.vars);
		}
		r = db_start(d->db, d->dlg);
		if (r) {
			log_err("database: cannot start: %s", strerror(-r));
			return r;
		}
		if (d->cl) {
			r = cluster_start(d->cl, d->ctl);
			if (r) {
				log_err("cluster: cannot start: %s",
					strerror(-r));
				return r;
			}
		}
	}
	/* The kernel's pinned maps follow the (restored) dialog table. */
	fp_dialogs_reconcile(d->fp, d->dlg);
	/* The Prometheus endpoint reads all of the above, on its thread. */
	{
		struct metrics_sources ms = {
			.stats = d->stats, .dlg = d->dlg, .fp = d->fp,
			.start_time = d->start_time, .version = SIPDLG_VERSION,
			.max_values_per_profile =
				d->cfg->metrics.max_values_per_profile,
		};

		r = metrics_start(&d->cfg->metrics, &ms, &d->metrics, err,
				  sizeof(err));
		if (r) {
			log_err("%s", err);
			return r;
		}
	}
	fp_relay_reconcile(d->fp, d->dlg);
	/* Last: from here on SIP traffic is served. */
	r = tp_start(d->tp);
	if (r)
		log_err("cannot start the SIP workers: %s", strerror(-r));
	return r;
}

static void stop(struct daemon *d)
{
	/* Workers first (no new messages), then the database (drained),
	 * then timers, then state.  Before all: the metrics thread, which
	 * reads every one of them. */
	metrics_free(d->metrics);
	tp_free(d->tp);
	cluster_free(d->cl);		/* its thread loads into the table */
	if (d->db)
		db_stop(d->db, 5000);
	tmr_service_free(d->tmr);
	proxy_free(d->px);		/* drops the transactions' dialog refs */
	dlg_table_free(d->dlg);		/* DESTROY callbacks use the maps */
	db_free(d->db);
	fp_free(d->fp);
	mac_ring_free(d->mac);
	ctl_server_free(d->ctl);
	if (d->loop && d->sig_fd >= 0)
		ev_file_del(d->loop, d->sig_fd);
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	stats_free(d->stats);
	ev_loop_free(d->loop);
	cfg_free(d->cfg);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "bpf-object", required_argument, NULL, 'b' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d = { .sig_fd = -1 };
	const char *path = NULL, *bpf_object = NULL, *level = NULL;
	int check = 0, c, r;

	while ((c = getopt_long(argc, argv, "c:l:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'k': check = 1; break;
		case 'b': bpf_object = optarg; break;
		case 'l': level = optarg; break;
		case 'V': printf("sipdlgd %s\n", SIPDLG_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 64;
		}
	}
	if (!path || optind != argc) {
		usage(stderr);
		return 64;
	}

	r = cfg_load(path, stderr, &d.cfg);
	if (r)
		return 1;
	if (check) {
		printf("%s: configuration is valid\n", path);
		cfg_free(d.cfg);
		return 0;
	}
	if (level) {
		int l = log_level_parse(level);
		if (l < 0) {
			fprintf(stderr, "sipdlgd: unknown log level '%s'\n",
				level);
			cfg_free(d.cfg);
			return 64;
		}
		d.cfg->log.level = l;
	}
	log_setup((enum log_level)d.cfg->log.level,
		  d.cfg->log.target == CFG_LOG_SYSLOG);

	r = start(&d, bpf_object);
	if (r == 0) {
		log_notice("sipdlgd %s running (config %s)", SIPDLG_VERSION,
			   path);
		r = ev_loop_run(d.loop);
		if (r)
			log_err("event loop: %s", strerror(-r));
	}
	stop(&d);
	if (r == 0)
		log_notice("stopped");
	return r == 0 ? 0 : 1;
}
