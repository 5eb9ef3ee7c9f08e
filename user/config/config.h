/*
 * config.h - the one configuration struct of sipdlgd.
 *
 * The YAML file is parsed once into a struct sipdlg_config, which is then
 * passed to whoever needs it; nothing reads configuration through globals.
 * Dialog-module parameters keep Kamailio's names and defaults so that a
 * modparam line can be moved over by hand.
 */
#ifndef SIPDLG_CONFIG_H
#define SIPDLG_CONFIG_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include "config/routes.h"

#define CFG_MAX_LISTEN 16
#define CFG_MAX_IFACES 16
#define CFG_MAX_OPTION_TAGS 32	/* proxy.supported */
#define CFG_MAX_PROFILES 64
#define CFG_RR_PARAM_MAX 32

enum cfg_proto {
	CFG_PROTO_UDP = 1,
	CFG_PROTO_TCP = 2,
	CFG_PROTO_TLS = 3,	/* TCP with TLS (config_tls.c) */
};

/* One "udp:ADDR:PORT" / "tcp:[V6]:PORT" entry of listen:. */
struct cfg_listen {
	enum cfg_proto proto;
	char host[64];		/* as written, without brackets */
	uint16_t port;
	struct sockaddr_storage addr;	/* resolved numeric address */
	socklen_t addr_len;
};

enum cfg_xdp_mode {
	CFG_XDP_AUTO = 0,
	CFG_XDP_NATIVE = 1,
	CFG_XDP_GENERIC = 2,
};

enum cfg_policy {
	CFG_POLICY_PASS = 0,
	CFG_POLICY_DROP = 1,
};

enum cfg_log_target {
	CFG_LOG_STDERR = 0,
	CFG_LOG_SYSLOG = 1,
};

/* Every parameter of Kamailio's dialog module, same names and defaults. */
struct cfg_dialog {
	int enable_stats;		/* 1 */
	uint32_t hash_size;		/* 4096, power of two, 1..2^20 */
	char *rr_param;			/* "did", 1..32 chars */
	uint32_t default_timeout;	/* 43200 s, > 0 */
	char *dlg_extra_hdrs;		/* NULL */
	int dlg_match_mode;		/* 0 DID_ONLY, 1 DID_FALLBACK, 2 DID_NONE */
	int detect_spirals;		/* 1 */
	char *db_url;			/* default Kamailio's; required if db_mode>0 */
	int db_url_set;			/* db_url given in the file */
	int db_mode;			/* 0..3 */
	uint32_t db_update_period;	/* 60 s */
	uint32_t db_fetch_rows;		/* 200 */
	char *table_name;		/* "dialog" */
	char *callid_column;		/* "callid" (5.x alias call_id_column) */
	char *from_uri_column;
	char *from_tag_column;
	char *to_uri_column;
	char *to_tag_column;
	char *caller_cseq_column;	/* alias from_cseq_column */
	char *callee_cseq_column;	/* alias to_cseq_column */
	char *caller_route_column;	/* alias from_route_column */
	char *callee_route_column;	/* alias to_route_column */
	char *caller_contact_column;	/* alias from_contact_column */
	char *callee_contact_column;	/* alias to_contact_column */
	char *caller_sock_column;	/* alias from_sock_column */
	char *callee_sock_column;	/* alias to_sock_column */
	char *h_id_column;
	char *h_entry_column;
	char *state_column;
	char *start_time_column;
	char *timeout_column;
	char *sflags_column;
	char *toroute_column;		/* alias toroute_name_column */
	char *vars_table_name;
	char *vars_h_id_column;
	char *vars_h_entry_column;
	char *vars_key_column;
	char *vars_value_column;
	char *profiles_with_value[CFG_MAX_PROFILES];
	size_t n_profiles_with_value;
	char *profiles_no_value[CFG_MAX_PROFILES];
	size_t n_profiles_no_value;
	char *bridge_controller;	/* "sip:controller@kamailio.org" */
	/* Kamailio 5.6 parameters beyond the classic list. */
	char *bridge_contact;		/* "sip:controller@kamailio.org:5060" */
	int send_bye;			/* 0 */
	int timeout_noreset;		/* 0 */
	uint32_t early_timeout;		/* 300 s */
	uint32_t noack_timeout;		/* 60 s */
	uint32_t end_timeout;		/* 300 s */
	int32_t h_id_start;		/* 0 */
	uint32_t h_id_step;		/* 1 */
	uint32_t ka_timer;		/* 0 */
	uint32_t ka_interval;		/* 0, else >= 30 */
	uint32_t ka_failed_limit;	/* 1 */
	char *lreq_callee_headers;	/* NULL */
	int db_skip_load;		/* 0 */
};

struct cfg_xdp {
	char *interfaces[CFG_MAX_IFACES];	/* default ["lo"] */
	size_t n_interfaces;
	enum cfg_xdp_mode mode;			/* auto */
	char *pin_path;				/* "/sys/fs/bpf/sipdlg" */
	enum cfg_policy unknown_dialog;		/* pass */
	uint32_t max_dialog_pps;		/* 0 = off */
	uint32_t max_dialogs;			/* dialogs map size, 1 << 20 */
	int enabled;				/* 1; "enabled: false" skips XDP */
	char *mac_key_file;	/* cookie_mac.key_file; "" = no cookie MAC */
	/* invite_limit: initial INVITEs per source and second (0 = off) and
	 * the bucket depth (>= 1 when on); the kernel limits UDP, the proxy
	 * TCP/TLS (px_invite_rate.c) */
	uint32_t invite_limit_pps;
	uint32_t invite_limit_burst;
	/* xdp.relay: in-dialog requests of these methods (bit 1 << enum
	 * sipdlg_method) and their replies forwarded by the kernel. */
	int relay_enabled;			/* CFG_RELAY_DEFAULT_ENABLED */
	uint32_t relay_methods;			/* CFG_RELAY_DEFAULT_METHODS */
	/* xdp.relay.ack: the ACK of the 2xx that confirms a dialog relayed
	 * in the kernel, which confirms the dialog itself (1 default) */
	int relay_ack;
};

/*
 * xdp.relay defaults.  CFG_RELAY_AVAILABLE 0 makes --check refuse the
 * whole xdp.relay key (and the relay stays off): the one switch for a
 * build whose kernel part is not ready.
 */
#define CFG_RELAY_AVAILABLE 1
#define CFG_RELAY_DEFAULT_ENABLED CFG_RELAY_AVAILABLE
/* INFO, OPTIONS, NOTIFY, MESSAGE, UPDATE (enum sipdlg_method of
 * sipdlg_shared.h, which the user of the macro includes). */
/* xdp.relay relays anything at all: enabled, and a method or the ACK. */
#define cfg_relay_on(cfg)                                                  \
	((cfg)->xdp.relay_enabled &&                                       \
	 ((cfg)->xdp.relay_methods || (cfg)->xdp.relay_ack))
#define CFG_RELAY_DEFAULT_METHODS                                          \
	((1u << SDM_INFO) | (1u << SDM_OPTIONS) | (1u << SDM_NOTIFY) |     \
	 (1u << SDM_MESSAGE) | (1u << SDM_UPDATE))

struct cfg_database {
	int required;			/* false: start without the DB */
	uint32_t queue_size;		/* 65536 writes */
	uint32_t retry_interval;	/* 5 s: first wait between reconnects */
	uint32_t retry_max;		/* 60 s: cap of the doubling waits */
	int rehash_on_load;		/* false: refuse rows of another
					 * hash_size; true: rehash them */
	char *socket;			/* unix socket for db_url without host */
};

/*
 * SIP over TCP: timeouts and the caps that keep a flood of connections
 * (a slowloris: many sockets each trickling bytes) from locking other
 * clients, and the proxy's own outbound connections, out.
 */
struct cfg_tcp {
	uint32_t idle_timeout_ms;	/* 120000: no message or ping */
	uint32_t connect_timeout_ms;	/* 10000: outbound handshake */
	uint32_t message_timeout_ms;	/* 10000: first byte to last */
	uint32_t max_connections;	/* 4096: accepted + connected */
	uint32_t max_connections_per_source; /* 256 accepted from one IPv4
					 * address or one IPv6 /64 */
	uint32_t reserved_outbound;	/* 256 of max_connections that
					 * accepted ones never take */
	uint32_t max_out_bytes;		/* 262144 queued per connection */
};

/* --- tls: SIP over TLS (config_tls.c, transport/tls_ctx.c) --- */
#define CFG_MAX_TLS_CERTS 16

enum cfg_tls_verify {
	CFG_TLS_VERIFY_NONE = 0,	/* no peer certificate asked/checked */
	CFG_TLS_VERIFY_OPTIONAL,	/* clients: checked if sent */
	CFG_TLS_VERIFY_REQUIRED,	/* clients must send a valid one */
};

enum cfg_tls_version {
	CFG_TLS_1_2 = 0,
	CFG_TLS_1_3,
};

/* One certificates: entry, chosen when the client's SNI names it. */
struct cfg_tls_cert {
	char *server_name;
	char *certificate;
	char *private_key;
};

struct cfg_tls {
	int present;			/* a tls: section was given */
	char *certificate;		/* PEM chain; NULL: outbound only */
	char *private_key;		/* PEM, unencrypted */
	char *ca_file, *ca_dir;		/* NULL both: the system's CAs */
	int verify_peer;		/* enum cfg_tls_verify, optional */
	int min_version;		/* enum cfg_tls_version, TLS1.2 */
	char *ciphers;			/* TLS 1.2 list; NULL: OpenSSL's */
	char *ciphersuites;		/* TLS 1.3 suites; NULL: OpenSSL's */
	char *server_name;		/* outbound SNI and name check */
	uint32_t handshake_timeout_ms;	/* 5000 */
	struct cfg_tls_cert certs[CFG_MAX_TLS_CERTS];
	size_t n_certs;
};

/*
 * limits: ceilings on the state a flood of new calls can create.  Beyond
 * any of them an initial request (no To-tag) gets 503 with Retry-After
 * before a transaction is made; in-dialog requests always pass.  0 = none.
 */
struct cfg_limits {
	uint32_t max_dialogs;		/* live dialogs, states 1-4 (INVITE) */
	uint32_t max_early_dialogs;	/* states 1-2, unanswered (INVITE) */
	uint32_t max_transactions;	/* server + client transactions */
	uint32_t max_memory_mb;		/* RSS, sampled every second */
	uint32_t retry_after;		/* s in Retry-After, default 5 */
};

struct cfg_control {
	char *socket;			/* "/run/sipdlg/sipdlg.sock" */
	uint32_t mode;			/* 0660 */
	char *group;			/* NULL = keep the daemon's group */
};

/*
 * cluster: several boxes sharing dialogs through a MariaDB Galera cluster
 * (db_mode 1).  Absent (enabled 0) for a one-box install.  The loader
 * sets dialog.h_id_start = node_id - 1 and dialog.h_id_step = nodes, so a
 * dialog's owner is node (h_id % nodes) + 1 unless sipdlg_nodes says
 * another node took that node's dialogs over.
 */
#define CFG_MAX_NODES 64
struct cfg_cluster {
	int enabled;			/* the section is present */
	uint32_t node_id;		/* 1..nodes, required */
	uint32_t nodes;			/* 1..64, required */
	char *address;			/* shown in sipdlg_nodes; "" = advertise
					 * or the first listen address */
	uint32_t heartbeat_interval;	/* 1 s */
	uint32_t takeover_after;	/* 3 s, > heartbeat_interval */
	uint32_t backup_of[CFG_MAX_NODES];	/* taken over automatically */
	size_t n_backup_of;
	char *profiles[CFG_MAX_PROFILES];	/* counted across the cluster */
	size_t n_profiles;
};

struct cfg_proxy {
	/* Option tags the proxy handles (RFC 3261 16.3 step 5): a request
	 * whose Proxy-Require names any other gets 420.  Default: none. */
	char *supported[CFG_MAX_OPTION_TAGS];
	size_t n_supported;
};

/* metrics: the Prometheus endpoint (user/metrics/). */
struct cfg_metrics {
	char *listen;			/* NULL or "" = off; "ADDR:PORT" */
	struct sockaddr_storage addr;	/* listen, resolved (numeric) */
	socklen_t addr_len;
	uint32_t max_values_per_profile;	/* 100; 0 = totals only */
};

struct cfg_log {
	int level;			/* enum log_level from core/log.h */
	enum cfg_log_target target;	/* stderr */
};

struct sipdlg_config {
	char *path;			/* file it was loaded from */
	struct cfg_listen listen[CFG_MAX_LISTEN];
	size_t n_listen;
	char *advertise;		/* "" = listen address */
	uint32_t workers;		/* 0 = one per CPU */
	uint32_t t1_ms, t2_ms;		/* RFC 3261 timers, 500 / 4000 */
	struct cfg_tcp tcp;
	struct cfg_tls tls;
	struct cfg_dialog dialog;
	struct cfg_proxy proxy;
	struct cfg_xdp xdp;
	struct cfg_database database;
	struct cfg_cluster cluster;
	struct cfg_limits limits;
	struct cfg_control control;
	struct cfg_log log;
	struct cfg_metrics metrics;
	struct route_list routes;
};

/*
 * Load and validate @path.  On success returns 0 and stores a new config
 * in *out (free with cfg_free).  On failure returns -EINVAL (or -errno for
 * I/O), writes one "FILE:LINE:COL: message" line per problem to @errs (if
 * not NULL) and leaves *out untouched.
 */
int cfg_load(const char *path, FILE *errs, struct sipdlg_config **out);

/* Same, from a string; @name is used in messages in place of a path. */
int cfg_load_string(const char *name, const char *yaml, size_t len,
		    FILE *errs, struct sipdlg_config **out);

/* A config holding every default, as if loaded from an empty file. */
struct sipdlg_config *cfg_alloc_defaults(void);

/* NULL-safe. */
void cfg_free(struct sipdlg_config *cfg);

#endif /* SIPDLG_CONFIG_H */
