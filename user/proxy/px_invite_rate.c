/*
 * px_invite_rate.c - xdp.invite_limit for SIP over TCP (issue 16).  The
 * XDP program limits initial INVITEs per source on UDP before any socket
 * (bpf/sip_invite_limit.h); a TCP segment is beyond its reach, so the
 * proxy applies the same per-source token bucket, same rate and burst, to
 * initial INVITEs (no To-tag) that arrive over TCP.
 *
 * Excess INVITEs are answered, not dropped: a stateless 503 with
 * Retry-After: 1 (the bucket refills at least one INVITE a second), before
 * any transaction or dialog is made, counted in
 * sip.rejected_503_invite_rate, with a warning at most every 10 s.  On
 * TCP the source address is real (a handshake was made), the answer goes
 * back on its own connection and costs it as much as it cost us; a
 * client that honours Retry-After slows down, one that does not keeps
 * being refused.
 *
 * Table: IRL_SETS sets of IRL_WAYS buckets, the set chosen by SipHash of
 * the address under a key drawn at start (an attacker cannot aim many
 * sources at one set); a new source replaces the least recently used
 * bucket of its set.  A busy honest source evicted that way starts full
 * again: one burst more, never a refusal it did not earn.  One mutex:
 * only initial INVITEs over TCP with the limit on come here.
 */
#define LOG_TAG "limits"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <netinet/in.h>

#include "core/log.h"
#include "core/stats.h"
#include "core/timer.h"
#include "proxy/px_internal.h"
#include "sipdlg_hash.h"

#define IRL_SETS 1024u
#define IRL_WAYS 4u
#define IRL_LOG_MS 10000u

struct irl_bucket {
	unsigned char addr[16];		/* IPv4 in the first 4, rest zero */
	uint8_t used;
	uint64_t last_ms;		/* time the tokens stand for */
	uint64_t tokens;		/* in 1/1000 of an INVITE */
	uint64_t seen_ms;		/* last INVITE, for the LRU */
};

struct px_irl {
	pthread_mutex_t mu;
	uint64_t k0, k1;
	uint64_t logged_ms, since_log;
	struct stat_var *rejected;
	struct irl_bucket b[IRL_SETS * IRL_WAYS];
};

int px_irl_alloc(struct proxy *px)
{
	struct px_irl *r;

	if (!px->cfg->xdp.invite_limit_pps)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (getrandom(&r->k0, sizeof(r->k0), 0) != sizeof(r->k0) ||
	    getrandom(&r->k1, sizeof(r->k1), 0) != sizeof(r->k1)) {
		r->k0 = px->salt;
		r->k1 = ~px->salt;
	}
	pthread_mutex_init(&r->mu, NULL);
	r->rejected = stats_register(px->st, "sip", "rejected_503_invite_rate",
				     0);
	px->irl = r;
	return 0;
}

void px_irl_free(struct proxy *px)
{
	if (!px->irl)
		return;
	pthread_mutex_destroy(&px->irl->mu);
	free(px->irl);
	px->irl = NULL;
}

/* The 16-byte key of @a (v4-mapped IPv6 counts as the IPv4 address). */
static bool addr_key(const struct tp_addr *a, unsigned char key[16])
{
	memset(key, 0, 16);
	if (a->ss.ss_family == AF_INET) {
		memcpy(key, &((const struct sockaddr_in *)&a->ss)->sin_addr, 4);
		return true;
	}
	if (a->ss.ss_family == AF_INET6) {
		const struct in6_addr *i6 =
			&((const struct sockaddr_in6 *)&a->ss)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(i6))
			memcpy(key, &i6->s6_addr[12], 4);
		else
			memcpy(key, i6->s6_addr, 16);
		return true;
	}
	return false;
}

/* The bucket of @key, made (full) if it was not there; the lock held. */
static struct irl_bucket *bucket(struct px_irl *r, const unsigned char *key,
				 uint64_t now, uint64_t cap)
{
	uint64_t w0, w1, h;
	struct irl_bucket *set, *lru;

	memcpy(&w0, key, 8);
	memcpy(&w1, key + 8, 8);
	h = sipdlg_siphash24_u64(r->k0, r->k1, w0 ^ sipdlg_siphash24_u64(
					 r->k1, r->k0, w1));
	set = &r->b[(h % IRL_SETS) * IRL_WAYS];
	lru = set;
	for (unsigned i = 0; i < IRL_WAYS; i++) {
		if (set[i].used && memcmp(set[i].addr, key, 16) == 0)
			return &set[i];
		if (!set[i].used || (lru->used && set[i].seen_ms < lru->seen_ms))
			lru = &set[i];
	}
	memcpy(lru->addr, key, 16);
	lru->used = 1;
	lru->last_ms = now;
	lru->tokens = cap;
	return lru;
}

/* Take one INVITE from @src's bucket: true if it may go on. */
static bool take(struct px_irl *r, const struct cfg_xdp *x,
		 const unsigned char *key, uint64_t now)
{
	uint64_t pps = x->invite_limit_pps, cap, add;
	struct irl_bucket *b;
	bool ok;

	cap = (uint64_t)(x->invite_limit_burst ? x->invite_limit_burst : 1) *
	      1000u;
	pthread_mutex_lock(&r->mu);
	b = bucket(r, key, now, cap);
	b->seen_ms = now;
	if (now > b->last_ms) {
		/* pps INVITEs a second = pps thousandths a millisecond */
		add = (now - b->last_ms) * pps;
		if (b->tokens + add >= cap) {
			b->tokens = cap;
			b->last_ms = now;
		} else {
			b->tokens += add;
			b->last_ms = now;
		}
	}
	ok = b->tokens >= 1000u;
	if (ok)
		b->tokens -= 1000u;
	pthread_mutex_unlock(&r->mu);
	return ok;
}

static void note(struct px_irl *r, const struct cfg_xdp *x, uint64_t now)
{
	uint64_t n;

	pthread_mutex_lock(&r->mu);
	n = ++r->since_log;
	if (r->logged_ms && now - r->logged_ms < IRL_LOG_MS) {
		pthread_mutex_unlock(&r->mu);
		return;
	}
	r->logged_ms = now;
	r->since_log = 0;
	pthread_mutex_unlock(&r->mu);
	log_warn("limits: invite_limit %u/s (burst %u) per source reached on "
		 "TCP: %llu INVITE(s) answered 503 since the last line",
		 x->invite_limit_pps, x->invite_limit_burst,
		 (unsigned long long)n);
}

bool px_irl_refuse(struct proxy *px, const struct px_req *rq)
{
	const struct cfg_xdp *x = &px->cfg->xdp;
	unsigned char key[16];
	uint64_t now;

	if (!px->irl || rq->msg->method != SIP_METHOD_INVITE ||
	    rq->src->proto != TP_TCP ||
	    !addr_key(&rq->src->remote, key))
		return false;
	now = tmr_now_ms();
	if (take(px->irl, x, key, now))
		return false;
	stat_inc(px->irl->rejected);
	note(px->irl, x, now);
	px_reply_stateless_hdrs(px, rq->msg, rq->src, 503, NULL,
				"Retry-After: 1\r\n");
	return true;
}
