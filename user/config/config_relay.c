/*
 * config_relay.c - xdp.relay: { enabled, methods, ack }, the in-dialog
 * requests the XDP program forwards by itself (and their replies).
 * `ack` is not a method of the list: only the ACK of the 2xx that
 * confirms a dialog is relayed (and confirms it in the kernel), never a
 * re-INVITE's, so it is a switch of its own.
 *
 * Only methods that never change a dialog can be relayed: the kernel
 * tells them apart by enum sipdlg_method, so a name is one of those
 * (upper case, as SIP method names are case-sensitive).  The lifecycle
 * methods are refused with the reason: the controller must see them.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/config_int.h"
#include "config/config_list.h"
#include <linux/types.h>
#include "sipdlg_shared.h"

static const struct {
	const char *name;
	unsigned bit;		/* enum sipdlg_method */
	const char *why;	/* NULL: may be relayed */
} methods[] = {
	{ "INFO", SDM_INFO, NULL },
	{ "OPTIONS", SDM_OPTIONS, NULL },
	{ "NOTIFY", SDM_NOTIFY, NULL },
	{ "MESSAGE", SDM_MESSAGE, NULL },
	{ "UPDATE", SDM_UPDATE, NULL },
	{ "INVITE", SDM_INVITE, "a re-INVITE refreshes the target and "
	  "session of the dialog" },
	{ "ACK", SDM_ACK, "an ACK confirms the dialog or ends an INVITE "
	  "transaction the controller holds" },
	{ "BYE", SDM_BYE, "a BYE ends the dialog" },
	{ "CANCEL", SDM_CANCEL, "a CANCEL belongs to an INVITE transaction "
	  "the controller holds" },
	{ "PRACK", SDM_PRACK, "a PRACK belongs to the call set-up, before "
	  "the dialog is confirmed" },
	{ "REFER", SDM_REFER, "a REFER transfers the call (the dialog's "
	  "REFER and BYE handling)" },
};
#define N_METHODS (sizeof(methods) / sizeof(methods[0]))

size_t cfg_relay_methods_str(uint32_t bits, char *buf, size_t cap)
{
	size_t n = 0;

	if (cap)
		buf[0] = '\0';
	for (size_t i = 0; i < N_METHODS; i++) {
		int w;

		if (!(bits & (1u << methods[i].bit)) || n >= cap)
			continue;
		w = snprintf(buf + n, cap - n, "%s%s", n ? ", " : "",
			     methods[i].name);
		if (w > 0)
			n += (size_t)w < cap - n ? (size_t)w : cap - n - 1;
	}
	return n;
}

/* One name of relay.methods into the bits at @arg. */
static int method_item(struct cfg_ctx *ctx, const struct cfg_node *item,
		       const char *key, void *arg)
{
	uint32_t *bits = arg;
	const char *s;
	size_t j;

	if (cfg_get_text(ctx, item, key, &s))
		return -EINVAL;
	for (j = 0; j < N_METHODS; j++)
		if (strcmp(methods[j].name, s) == 0)
			break;
	if (j == N_METHODS) {
		for (j = 0; j < N_METHODS; j++)
			if (strcasecmp(methods[j].name, s) == 0)
				break;
		if (j < N_METHODS)
			cfg_error(ctx, item, "%s: '%s': SIP method names are "
				  "case-sensitive; write %s", key, s,
				  methods[j].name);
		else
			cfg_error(ctx, item, "%s: '%s' cannot be relayed in "
				  "the kernel (it knows INFO, OPTIONS, NOTIFY, "
				  "MESSAGE and UPDATE)", key, s);
		return -EINVAL;
	}
	if (methods[j].why) {
		cfg_error(ctx, item, "%s: %s is never relayed in the kernel: "
			  "%s; only the controller may handle it%s", key, s,
			  methods[j].why, methods[j].bit == SDM_ACK ?
			  " (the ACK of the 2xx that confirms a dialog: "
			  "xdp.relay.ack)" : "");
		return -EINVAL;
	}
	if (*bits & (1u << methods[j].bit)) {
		cfg_error(ctx, item, "%s: '%s' is listed twice", key, s);
		return -EINVAL;
	}
	*bits |= 1u << methods[j].bit;
	return 0;
}

/* Stored only when every name is good. */
static int load_methods(struct cfg_ctx *ctx, const struct cfg_node *n,
			const struct cfg_key *k, void *base)
{
	struct cfg_xdp *x = base;
	uint32_t bits = 0;

	(void)k;
	if (cfg_list_each(ctx, n, "relay.methods",
			  "[INFO, OPTIONS, NOTIFY, MESSAGE, UPDATE]",
			  method_item, &bits))
		return -EINVAL;
	x->relay_methods = bits;
	return 0;
}

static const struct cfg_key relay_keys[] = {
	{ "enabled", CFG_K_BOOL, offsetof(struct cfg_xdp, relay_enabled), 0, 1,
	  NULL, NULL, NULL },
	{ "methods", CFG_K_CUSTOM, offsetof(struct cfg_xdp, relay_methods), 0,
	  0, NULL, load_methods, NULL },
	{ "ack", CFG_K_BOOL, offsetof(struct cfg_xdp, relay_ack), 0, 1, NULL,
	  NULL, NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

int cfg_load_relay(struct cfg_ctx *ctx, const struct cfg_node *n,
		   const struct cfg_key *k, void *base)
{
	(void)k;
	if (!CFG_RELAY_AVAILABLE) {
		cfg_error(ctx, n, "relay: relaying in the kernel is not "
			  "available in this build; remove the key");
		return -ENOTSUP;
	}
	cfg_apply_map(ctx, n, "xdp.relay", relay_keys, base);
	return 0;
}
