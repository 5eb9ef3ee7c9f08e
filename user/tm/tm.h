/*
 * tm.h - transactions of a stateful proxy (RFC 3261 section 17).
 *
 * One struct tm_tx is one proxied transaction: its server side (the
 * request we received and the responses we send back) and its client side
 * (the request we forwarded and the responses we receive).  A tx is found
 * by two keys in one table with per-bucket locks:
 *   - the server key: the top Via branch of the received request, its
 *     sent-by and the method class (INVITE and ACK share one), or for a
 *     branch without the RFC 3261 magic cookie the RFC 2543 elements;
 *   - the client key: the branch of the Via we put in the forwarded
 *     request, which we generate unique per transaction.
 * Every field after creation is guarded by tx->lock.  References are
 * counted: the table holds one per key, each armed timer holds one, and
 * tm_lookup() returns one that the caller drops with tm_tx_unref().
 */
#ifndef SIPDLG_TM_H
#define SIPDLG_TM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/timer.h"
#include "sip/sip_msg.h"
#include "transport/transport.h"

struct tm_table;
struct px_tx_ops;

enum tm_srv_state {
	TM_S_PROCEEDING = 1,	/* INVITE: Proceeding; non-INVITE: Trying/Proceeding */
	TM_S_COMPLETED,		/* final (non-2xx for INVITE) sent */
	TM_S_CONFIRMED,		/* INVITE: ACK received */
	TM_S_ACCEPTED,		/* INVITE: 2xx forwarded (RFC 6026) */
	TM_S_TERMINATED,
};

enum tm_cli_state {
	TM_C_NONE = 0,		/* nothing forwarded (local answer) */
	TM_C_CALLING,		/* INVITE Calling / non-INVITE Trying */
	TM_C_PROCEEDING,
	TM_C_COMPLETED,
	TM_C_ACCEPTED,		/* INVITE: 2xx received (RFC 6026) */
	TM_C_TERMINATED,
};

/*
 * A server key is made of disjoint parts of one message (branch, sent-by,
 * method; or Call-ID, From-tag, R-URI, top Via, method) plus a CSeq
 * number, a port and separators, so it is never longer than the message
 * and a few bytes: any request the parser accepts has a key.  Callers
 * build it in a buffer of TM_KEY_MAX bytes (not on a small stack); a tx
 * keeps an allocated copy of exactly its length.
 */
#define TM_KEY_MAX (SIP_MSG_MAX + 64u)
#define TM_BRANCH_MAX 64
#define TM_TAG_MAX 24

struct tm_tx {
	pthread_mutex_t lock;
	atomic_int ref;
	uint64_t id;
	void *owner;			/* the proxy */
	enum sip_method method;
	bool invite;

	/* Server side. */
	char *skey;			/* allocated, skey_len bytes */
	size_t skey_len;
	bool in_table_s, in_table_c;
	bool sdone, cdone;		/* each side finished; both: remove */
	bool counted;			/* counted in tx_active */
	struct tp_peer src;		/* where responses go back to */
	char *req;			/* copy of the received request */
	size_t req_len;
	char to_tag[TM_TAG_MAX];	/* for our local replies */
	enum tm_srv_state sstate;
	char *last_rsp;			/* last response sent upstream */
	size_t last_rsp_len;
	int last_code;
	uint32_t g_interval;		/* timer G, ms */
	struct tmr t_srv;		/* G (retransmit) */
	struct tmr t_srv_end;		/* H, I, J */

	/* Client side. */
	char branch[TM_BRANCH_MAX];	/* our Via branch (the client key) */
	size_t branch_len;
	struct tp_peer dst;
	enum tm_cli_state cstate;
	char *out;			/* the forwarded request */
	size_t out_len;
	uint32_t retx_interval;		/* A/E, ms */
	int cli_code;			/* highest response code received */
	bool cancel_pending;		/* CANCEL asked before any 1xx */
	bool cancelled;			/* CANCEL sent downstream */
	char *cancel;			/* our CANCEL, for retransmission */
	size_t cancel_len;
	uint32_t cancel_retx;
	struct tmr t_retx;		/* A, E */
	struct tmr t_cli;		/* B, F, D, K */
	struct tmr t_c;			/* C (INVITE proxy timer) */
	struct tmr t_cancel;		/* retransmission of our CANCEL */

	/* Who follows this transaction for a layer above (the dialog
	 * layer, through the proxy's struct px_tx_ops, opaque here): told
	 * of its responses, released with follower_release at destroy. */
	void *follower;
	const struct px_tx_ops *follower_ops;
	void (*follower_release)(void *follower);
	bool uac;			/* generated here: no server side */
	uint8_t own_rr;			/* our Record-Route entries: 0, 1, 2 */
};

struct tm_table *tm_table_alloc(unsigned bits);
/* Frees every tx still in the table (timers must be stopped first). */
void tm_table_free(struct tm_table *t);

/* A new tx with one reference for the caller; NULL on ENOMEM. */
struct tm_tx *tm_tx_alloc(struct tm_table *t, void *owner);
void tm_tx_ref(struct tm_tx *tx);
void tm_tx_unref(struct tm_tx *tx);

/*
 * Insert @tx under its server key (tx->skey) or client key (tx->branch).
 * Returns 0, or -EEXIST with *existing set to the tx already there (with a
 * reference), e.g. for a retransmission that raced its original.
 */
int tm_insert_server(struct tm_table *t, struct tm_tx *tx,
		     struct tm_tx **existing);
int tm_insert_client(struct tm_table *t, struct tm_tx *tx);
/* Remove both keys (idempotent). */
void tm_remove(struct tm_table *t, struct tm_tx *tx);

/* Lookups return a referenced tx or NULL. */
struct tm_tx *tm_lookup_server(struct tm_table *t, const char *key,
			       size_t len);
struct tm_tx *tm_lookup_client(struct tm_table *t, const char *branch,
			       size_t len);
size_t tm_count(struct tm_table *t);

/*
 * Build the server key of a request into @key (TM_KEY_MAX bytes).
 * @as_method: the method whose class to use (INVITE for an ACK or a
 * CANCEL looking for its INVITE).  Returns the length (0 only if the
 * message broke the bound above, which the parser does not allow).
 */
size_t tm_server_key(const struct sip_msg *m, enum sip_method as_method,
		     char *key);

#endif /* SIPDLG_TM_H */
