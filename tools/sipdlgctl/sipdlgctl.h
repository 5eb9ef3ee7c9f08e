/*
 * sipdlgctl.h - what the files of the sipdlgctl CLI share.
 *
 * main.c parses options and verbs, rpc.c makes one JSON-RPC call over the
 * control socket, print.c turns a result into tables for people.  The CLI
 * links jansson only, never libsipdlg.
 */
#ifndef SIPDLGCTL_H
#define SIPDLGCTL_H

#include <jansson.h>
#include <stdio.h>

/* Exit codes (64 is sysexits' EX_USAGE). */
#define CTL_EXIT_OK 0
#define CTL_EXIT_RPC 1		/* the daemon answered with an error */
#define CTL_EXIT_CONN 2		/* no connection, timeout, broken reply */
#define CTL_EXIT_USAGE 64

#define CTL_DEFAULT_SOCKET "/run/sipdlg/sipdlg.sock"
#define CTL_DEFAULT_TIMEOUT_MS 5000

struct rpc_opts {
	const char *socket;
	int timeout_ms;
};

/*
 * Call @method with @params (borrowed; an array, or NULL for none).  On
 * success returns CTL_EXIT_OK and sets *result (a new reference); otherwise
 * prints the reason to stderr and returns CTL_EXIT_RPC or CTL_EXIT_CONN.
 */
int rpc_call(const struct rpc_opts *o, const char *method, json_t *params,
	     json_t **result);

/* Subscribe with @method and print the notifications (see rpc.c). */
int rpc_events(const struct rpc_opts *o, const char *method, long max,
	       int json_out);

/* Human output of a result (print.c). */
void print_stats(FILE *out, json_t *result);
void print_xdp(FILE *out, json_t *result);
void print_version(FILE *out, json_t *result);
void print_uptime(FILE *out, json_t *result);
/* Any result: tables for arrays of flat objects, "key: value" for objects. */
void print_generic(FILE *out, json_t *result);
void print_dialogs(FILE *out, json_t *result);

#endif /* SIPDLGCTL_H */
