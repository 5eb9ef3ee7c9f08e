/*
 * config.c - the defaults, the entry points and cfg_free().
 *
 * cfg_alloc_defaults() is the one place that knows the default of every
 * setting; loading starts from it and overwrites what the file gives, so
 * an empty file is a valid config.  The dialog defaults are Kamailio 5.6's
 * (the column names follow its MySQL schema: caller_contact, callee_sock,
 * toroute_name, ...).  Every string is owned by the struct.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"
#include "core/log.h"
#include <linux/types.h>
#include "sipdlg_shared.h"

#define CFG_MAX_FILE (16u << 20)
#define DLG(f) offsetof(struct cfg_dialog, f)

/* Every char * of struct cfg_dialog, with its default (NULL = none). */
static const struct {
	size_t off;
	const char *def;
} dialog_strs[] = {
	{ DLG(rr_param), "did" },
	{ DLG(dlg_extra_hdrs), NULL },
	{ DLG(db_url), "mysql://openser:openserrw@localhost/openser" },
	{ DLG(table_name), "dialog" },
	{ DLG(callid_column), "callid" },
	{ DLG(from_uri_column), "from_uri" },
	{ DLG(from_tag_column), "from_tag" },
	{ DLG(to_uri_column), "to_uri" },
	{ DLG(to_tag_column), "to_tag" },
	{ DLG(caller_cseq_column), "caller_cseq" },
	{ DLG(callee_cseq_column), "callee_cseq" },
	{ DLG(caller_route_column), "caller_route_set" },
	{ DLG(callee_route_column), "callee_route_set" },
	{ DLG(caller_contact_column), "caller_contact" },
	{ DLG(callee_contact_column), "callee_contact" },
	{ DLG(caller_sock_column), "caller_sock" },
	{ DLG(callee_sock_column), "callee_sock" },
	{ DLG(h_id_column), "hash_id" },
	{ DLG(h_entry_column), "hash_entry" },
	{ DLG(state_column), "state" },
	{ DLG(start_time_column), "start_time" },
	{ DLG(timeout_column), "timeout" },
	{ DLG(sflags_column), "sflags" },
	{ DLG(toroute_column), "toroute_name" },
	{ DLG(vars_table_name), "dialog_vars" },
	{ DLG(vars_h_id_column), "hash_id" },
	{ DLG(vars_h_entry_column), "hash_entry" },
	{ DLG(vars_key_column), "dialog_key" },
	{ DLG(vars_value_column), "dialog_value" },
	{ DLG(bridge_controller), "sip:controller@kamailio.org" },
	{ DLG(bridge_contact), "sip:controller@kamailio.org:5060" },
	{ DLG(lreq_callee_headers), NULL },
};
#define N_DIALOG_STRS (sizeof(dialog_strs) / sizeof(dialog_strs[0]))

static char **dialog_str(struct cfg_dialog *d, size_t i)
{
	return (char **)((char *)d + dialog_strs[i].off);
}

static const char *const default_listen[] = {
	"udp:127.0.0.1:5060",
	"tcp:127.0.0.1:5060",
};

static void dialog_defaults(struct cfg_dialog *d)
{
	d->enable_stats = 1;
	d->hash_size = 4096;
	d->default_timeout = 43200;
	d->dlg_match_mode = 0;
	d->detect_spirals = 1;
	d->db_url_set = 0;
	d->db_mode = 0;
	d->db_update_period = 60;
	d->db_fetch_rows = 200;
	d->send_bye = 0;
	d->timeout_noreset = 0;
	d->early_timeout = 300;
	d->noack_timeout = 60;
	d->end_timeout = 300;
	d->h_id_start = 0;
	d->h_id_step = 1;
	d->ka_timer = 0;
	d->ka_interval = 0;
	d->ka_failed_limit = 1;
	d->db_skip_load = 0;
}

/* Set *dst to a copy of @s; false if out of memory. */
static bool dup_to(char **dst, const char *s)
{
	*dst = strdup(s);
	return *dst != NULL;
}

struct sipdlg_config *cfg_alloc_defaults(void)
{
	struct sipdlg_config *cfg = calloc(1, sizeof(*cfg));
	bool ok = true;

	if (!cfg)
		return NULL;
	for (size_t i = 0; i < sizeof(default_listen) / sizeof(*default_listen);
	     i++) {
		struct cfg_sipaddr a;
		char why[128];

		if (cfg_parse_sipaddr(default_listen[i], &a, why, sizeof(why)))
			continue;	/* cannot happen: constant input */
		cfg->listen[cfg->n_listen] = (struct cfg_listen){
			.proto = (enum cfg_proto)a.proto, .port = a.port,
			.addr = a.addr, .addr_len = a.addr_len,
		};
		memcpy(cfg->listen[cfg->n_listen].host, a.host, sizeof(a.host));
		cfg->n_listen++;
	}
	ok &= dup_to(&cfg->advertise, "");
	cfg->workers = 0;
	cfg->t1_ms = 500;
	cfg->t2_ms = 4000;
	cfg_tcp_defaults(&cfg->tcp);
	cfg->tls.verify_peer = CFG_TLS_VERIFY_OPTIONAL;
	cfg->tls.min_version = CFG_TLS_1_2;
	cfg->tls.handshake_timeout_ms = 5000;

	dialog_defaults(&cfg->dialog);
	for (size_t i = 0; i < N_DIALOG_STRS; i++)
		if (dialog_strs[i].def)
			ok &= dup_to(dialog_str(&cfg->dialog, i),
				     dialog_strs[i].def);

	cfg->xdp.n_interfaces = 1;
	ok &= dup_to(&cfg->xdp.interfaces[0], "lo");
	cfg->xdp.mode = CFG_XDP_AUTO;
	ok &= dup_to(&cfg->xdp.pin_path, "/sys/fs/bpf/sipdlg");
	ok &= dup_to(&cfg->xdp.mac_key_file, "");
	cfg->xdp.unknown_dialog = CFG_POLICY_PASS;
	cfg->xdp.max_dialog_pps = 0;
	cfg->xdp.max_dialogs = 1u << 20;
	cfg->xdp.enabled = 1;
	cfg->xdp.relay_enabled = CFG_RELAY_DEFAULT_ENABLED;
	cfg->xdp.relay_methods = CFG_RELAY_DEFAULT_METHODS;
	cfg->xdp.relay_ack = CFG_RELAY_AVAILABLE;

	cfg->limits.retry_after = 5;
	cfg->database.required = 0;
	cfg->database.queue_size = 65536;
	cfg->database.retry_interval = 5;
	cfg->database.retry_max = 60;
	ok &= dup_to(&cfg->database.socket, "");
	cfg->cluster.heartbeat_interval = 1;
	cfg->cluster.takeover_after = 3;
	ok &= dup_to(&cfg->cluster.address, "");

	ok &= dup_to(&cfg->control.socket, "/run/sipdlg/sipdlg.sock");
	cfg->control.mode = 0660;
	cfg->control.group = NULL;

	cfg->log.level = LOG_LVL_INFO;
	cfg->log.target = CFG_LOG_STDERR;
	cfg_metrics_defaults(&cfg->metrics);
	if (!ok) {
		cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

void cfg_free(struct sipdlg_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->advertise);
	for (size_t i = 0; i < N_DIALOG_STRS; i++)
		free(*dialog_str(&cfg->dialog, i));
	for (size_t i = 0; i < cfg->dialog.n_profiles_with_value; i++)
		free(cfg->dialog.profiles_with_value[i]);
	for (size_t i = 0; i < cfg->dialog.n_profiles_no_value; i++)
		free(cfg->dialog.profiles_no_value[i]);
	for (size_t i = 0; i < cfg->xdp.n_interfaces; i++)
		free(cfg->xdp.interfaces[i]);
	for (size_t i = 0; i < cfg->proxy.n_supported; i++)
		free(cfg->proxy.supported[i]);
	free(cfg->xdp.pin_path);
	free(cfg->xdp.mac_key_file);
	free(cfg->database.socket);
	free(cfg->cluster.address);
	for (size_t i = 0; i < cfg->cluster.n_profiles; i++)
		free(cfg->cluster.profiles[i]);
	free(cfg->control.socket);
	free(cfg->control.group);
	free(cfg->metrics.listen);
	route_list_free(&cfg->routes);
	cfg_tls_free(&cfg->tls);
	free(cfg);
}

int cfg_load_string(const char *name, const char *yaml, size_t len,
		    FILE *errs, struct sipdlg_config **out)
{
	struct cfg_ctx ctx = { .name = name ? name : "<string>" };
	struct cfg_node *root = NULL;
	struct sipdlg_config *cfg;
	size_t problems;
	int err;

	cfg = cfg_alloc_defaults();
	if (!cfg)
		return -ENOMEM;
	cfg->path = strdup(ctx.name);
	if (!cfg->path)
		ctx.oom = true;
	err = cfg_yaml_parse(&ctx, yaml, len, &root);
	if (!err && !ctx.oom)
		cfg_load_tree(&ctx, root, cfg);
	cfg_node_free(root);
	problems = cfg_errors_flush(&ctx, errs);
	if (ctx.oom)
		err = -ENOMEM;
	else if (!err && problems)
		err = -EINVAL;
	if (err) {
		if (err == -ENOMEM && errs)
			fprintf(errs, "%s: out of memory\n", ctx.name);
		cfg_free(cfg);
		return err;
	}
	*out = cfg;
	return 0;
}

/* The whole file into a malloc'ed buffer; -errno on failure. */
static int read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0;
	char *b = NULL;

	if (!f)
		return -errno;
	for (;;) {
		char *nb;

		if (n + 1 >= cap || !b) {
			if (b)
				cap *= 2;
			nb = cap > CFG_MAX_FILE ? NULL : realloc(b, cap);
			if (!nb) {
				free(b);
				fclose(f);
				return cap > CFG_MAX_FILE ? -EFBIG : -ENOMEM;
			}
			b = nb;
		}
		n += fread(b + n, 1, cap - n - 1, f);
		if (ferror(f)) {
			int err = -EIO;

			free(b);
			fclose(f);
			return err;
		}
		if (feof(f))
			break;
	}
	fclose(f);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

int cfg_load(const char *path, FILE *errs, struct sipdlg_config **out)
{
	char *buf = NULL;
	size_t len = 0;
	int err;

	err = read_file(path, &buf, &len);
	if (err) {
		if (errs)
			fprintf(errs, "%s: cannot read: %s\n", path,
				strerror(-err));
		return err;
	}
	err = cfg_load_string(path, buf, len, errs, out);
	free(buf);
	return err;
}
