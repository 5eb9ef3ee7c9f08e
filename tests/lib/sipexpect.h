/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sipexpect.h - what the XDP program must do with a SIP message, decided
 * from the user-space parser's reading of it (user/sip) and the dialogs
 * in the maps: the second implementation of tests/bpf/test_xdp_diff.c.
 *
 * The parser gives Call-ID, tags, CSeq, method, the Route set and the
 * top Via branch; the rules applied to them are the fast path's
 * documented ones (bpf/sip_match.h head comment, include/sipdlg_shared.h):
 * cookie lookup, tight match (upstream first; caller tag only while the
 * callee tag is unknown), the Call-ID index in dlg_match_mode 1 and 2,
 * the cookie MAC, replies by our branch.  Nothing here reads bytes: a
 * disagreement with the kernel is a disagreement about the message.
 */
#ifndef SIPDLG_TESTS_SIPEXPECT_H
#define SIPDLG_TESTS_SIPEXPECT_H

#include <stddef.h>
#include <stdint.h>

struct sip_msg;

/* One dialog as it sits in the "dialogs" (and "callids") map. */
struct sipexp_dlg {
	uint32_t h_entry, h_id;
	uint64_t callid_hash, caller_hash, callee_hash; /* callee 0: early */
	int indexed;		/* its Call-ID is in "callids" */
};

/* The knobs the program was loaded with. */
struct sipexp_knobs {
	unsigned mode;		/* dlg_match_mode */
	unsigned drop;		/* unknown_dialog_drop */
	unsigned mac;		/* mac_enabled */
	uint64_t mac_k0, mac_k1;
	const char *rr_param;	/* "did" */
};

struct sipexp {
	int reason;		/* enum sipdlg_reason, drop twin included */
	int dlg;		/* index of the dialog counted, -1: none */
	int dir;		/* enum sipdlg_dir it is counted in */
	int reply;		/* counted as a reply */
	int method;		/* enum sipdlg_method (requests) */
	uint32_t cseq;		/* requests */
	int mismatch_dlg;	/* dialog whose `mismatches` moves, -1: none */
	char why[160];		/* how it was decided, for reports */
};

/*
 * Decide for the message @m (parsed, sip_msg_parse() returned 0) that
 * arrived over IPv6 if @ipv6, with @n dialogs @dl in the maps.  0, or
 * -EINVAL when the model has no answer (then @out->why says why).
 */
int sipexp_decide(const struct sip_msg *m, int ipv6,
		  const struct sipexp_knobs *k, const struct sipexp_dlg *dl,
		  int n, struct sipexp *out);

/*
 * May the kernel pass @m (the @len bytes at @buf) as SDR_SIP_SCAN_LIMIT?
 * Only if it exceeds a documented limit (SIPDLG_SCAN_* and the tag and
 * Call-ID lengths in sipdlg_shared.h, 16 ';' in a Route/Via/From/To
 * value): 1 and @why says which, or 0.  As SDR_SIP_FOLDED?  Only if a
 * header line is folded: sipexp_folded() 1.
 */
int sipexp_over_limits(const struct sip_msg *m, const char *buf, size_t len,
		       char *why, size_t wl);
int sipexp_folded(const char *buf, size_t len);

#endif /* SIPDLG_TESTS_SIPEXPECT_H */
