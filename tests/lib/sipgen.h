/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sipgen.h - a generator of valid in-dialog SIP requests and replies, in
 * the shapes real user agents write, for differential tests of the XDP
 * program against the user-space parser (tests/bpf/test_xdp_diff.c) and
 * for the e2e sender (tests/e2e/sipgen_send.c), which puts a real call's
 * Call-ID, tags and cookie into struct sipgen_dlg and real addresses into
 * struct sipgen_opts.
 *
 * Deterministic: the same seed gives the same dialog and the same bytes.
 * Values are generated, not only shapes: CSeq numbers are drawn uniformly
 * over their digit count (1..10 digits, below 2^31), dialog ids over
 * theirs (the cookie's reverse hex is 1..8 digits), Call-IDs and tags
 * over length classes up to the kernel's hash limits.
 *
 *	struct sipgen_rng r;
 *	struct sipgen_dlg d;
 *	struct sipgen_msg m;
 *	sipgen_seed(&r, seed);
 *	sipgen_dialog(&r, &d);
 *	sipgen_message(&r, &d, NULL, &m);	// m.buf, m.len; m.want_*
 *
 * Everything lives in the caller's structs; nothing is allocated.
 */
#ifndef SIPDLG_TESTS_SIPGEN_H
#define SIPDLG_TESTS_SIPGEN_H

#include <stddef.h>
#include <stdint.h>

#define SIPGEN_MSG_MAX 1900	/* fits a test frame (PKT_MAX) */
#define SIPGEN_CALLID_MAX 300
#define SIPGEN_TAG_MAX 160
#define SIPGEN_HOST_MAX 64
#define SIPGEN_SHAPE_MAX 200

/* splitmix64: small, fast, and good enough to pick shapes. */
struct sipgen_rng {
	uint64_t s;
};

void sipgen_seed(struct sipgen_rng *r, uint64_t seed);
uint64_t sipgen_next(struct sipgen_rng *r);
/* Uniform in [0, n), n > 0. */
uint32_t sipgen_below(struct sipgen_rng *r, uint32_t n);
/* 1 with probability pct/100. */
int sipgen_pct(struct sipgen_rng *r, unsigned pct);
/* Uniform over the digit count (1..10), then over the values below 2^31. */
uint32_t sipgen_cseq(struct sipgen_rng *r);

/* One dialog as the box set it up: ids, Call-ID, tags, who is where. */
struct sipgen_dlg {
	uint32_t h_entry, h_id;		/* the cookie, did=RH(h_entry).RH(h_id) */
	char callid[SIPGEN_CALLID_MAX];
	char caller_tag[SIPGEN_TAG_MAX];
	char callee_tag[SIPGEN_TAG_MAX]; /* the To-tag the callee sends */
	int early;			/* the box has not learnt callee_tag yet
					 * (map value 0): an early dialog */
	char caller_user[32], callee_user[32];
	char caller_host[SIPGEN_HOST_MAX]; /* "192.0.2.1", "[2001:db8::1]" */
	char callee_host[SIPGEN_HOST_MAX];
	char proxy_host[SIPGEN_HOST_MAX]; /* ours, in the Route set */
	char proxy_host2[SIPGEN_HOST_MAX]; /* our second entry (double RR) */
	char rr_param[33];		/* "did" */
	char mac_hex[17];		/* ";dm=" beside the cookie, "" = none */
	int ipv6;			/* hosts are IPv6: send over IPv6 */
};

/* Fill @d with random but valid dialog values (IPv4 or IPv6). */
void sipgen_dialog(struct sipgen_rng *r, struct sipgen_dlg *d);

/* What a message may be made of, beyond the defaults. */
struct sipgen_opts {
	int no_extra_routes;	/* only our Route entries (e2e: the next hop
				 * must be the callee itself) */
	int no_replies;		/* requests only */
	int no_route_pct;	/* requests without any Route (dlg_match_mode
				 * 1/2 find them by Call-ID): percent */
	int force_dir;		/* 0: random; 1: caller->callee; 2: callee->caller */
	const char *only_method; /* NULL, or one method name */
	int no_folding;		/* never fold an unrelated header */
	int within_limits;	/* nothing the kernel may pass as incomplete:
				 * no folding, no 25-40 filler headers */
	int max_len;		/* 0: SIPGEN_MSG_MAX */
	/* e2e: where things really are (NULL: random hosts and ports) */
	const char *skip_methods; /* " BYE CANCEL ": never these methods */
	const char *sent_by;	/* request Via host:port, as is */
	const char *target;	/* Request-URI host:port, both directions */
	int proxy_port_given;	/* proxy_host(2) carry the port: add none */
	const char *contact[2];	/* Contact host:port of the caller [0] and
				 * the callee [1] (a target refresh must
				 * keep the real parties' targets) */
};

/* A forged variant: the same shape with a value that is not the dialog's. */
enum sipgen_forge {
	SIPGEN_FORGE_NONE = 0,
	SIPGEN_FORGE_CALLID,	/* one character of the Call-ID changed */
	SIPGEN_FORGE_FTAG,	/* ... of the From-tag */
	SIPGEN_FORGE_TTAG,	/* ... of the To-tag */
};

struct sipgen_msg {
	char buf[SIPGEN_MSG_MAX + 1];	/* NUL-terminated for printing */
	size_t len;
	/* What the generator meant (the test trusts the parser, not this). */
	int is_request;
	int method;		/* enum sipdlg_method: the slot it must count in */
	char method_name[24];	/* request method, or the CSeq method */
	uint32_t cseq;
	int dir;		/* request: enum sipdlg_dir it travels;
				 * reply: the direction of the request (D) */
	int status;		/* replies */
	int has_route;		/* the cookie is in it */
	int folded;		/* an unrelated header is folded */
	enum sipgen_forge forge;
	char shape[SIPGEN_SHAPE_MAX]; /* a short list of the choices made */
};

/*
 * One in-dialog request or reply of dialog @d into @m.  @o may be NULL.
 * Returns 0, or -ENOSPC if it did not fit (the caller draws again).
 */
int sipgen_message(struct sipgen_rng *r, const struct sipgen_dlg *d,
		   const struct sipgen_opts *o, struct sipgen_msg *m);

/* The same, forged as @f (a request or a reply whose value is wrong). */
int sipgen_forged(struct sipgen_rng *r, const struct sipgen_dlg *d,
		  const struct sipgen_opts *o, enum sipgen_forge f,
		  struct sipgen_msg *m);

#endif /* SIPDLG_TESTS_SIPGEN_H */
