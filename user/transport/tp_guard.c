/*
 * tp_guard.c - what keeps a flood of TCP connections from locking SIP
 * clients and the proxy itself out: admission of accepted connections
 * (the inbound share of max_conns, the per-source cap, eviction of the
 * oldest connection that never sent a message when the share is full,
 * else of an idle one of the source holding the most connections),
 * and one rate-limited log line per kind of refusal or timeout.
 *
 * Accepted connections may hold max_conns - reserved_out slots; the rest
 * stay for connections the proxy opens (to next hops, to UAs whose
 * connection is gone), so an inbound flood cannot stop it from
 * forwarding.  A source is one IPv4 address or one IPv6 /64 (a host gets
 * a whole /64, so counting single IPv6 addresses would cap nothing).
 * Sources are counted in a hash table under tp->conn_lock, with a seed
 * drawn at start so that an attacker cannot aim many sources at one
 * chain; an entry lives while its source has a connection.
 */
#define LOG_TAG "transport"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/stats.h"
#include "transport/tp_int.h"

#define TP_SRC_BUCKETS 4096u		/* power of two */
#define TP_GUARD_LOG_MS 10000u		/* one line per kind per 10 s */

struct tp_src {
	struct tp_src *next;
	uint8_t family;
	uint8_t addr[16];		/* IPv4: 4 bytes; IPv6: the /64 */
	uint32_t count;
};

/* The source key of @a: family and address, IPv6 cut to its /64. */
static void src_key(const struct tp_addr *a, uint8_t *family, uint8_t *addr)
{
	memset(addr, 0, 16);
	*family = (uint8_t)a->ss.ss_family;
	if (a->ss.ss_family == AF_INET)
		memcpy(addr, &((const struct sockaddr_in *)&a->ss)->sin_addr, 4);
	else if (a->ss.ss_family == AF_INET6)
		memcpy(addr, &((const struct sockaddr_in6 *)&a->ss)->sin6_addr,
		       8);
}

static uint32_t src_hash(const struct transport *tp, uint8_t family,
			 const uint8_t *addr)
{
	uint64_t h = tp->src_seed ^ family;

	/* A multiply-xorshift mix per 8 bytes, keyed by the seed. */
	for (int i = 0; i < 16; i += 8) {
		uint64_t v;

		memcpy(&v, addr + i, 8);
		h ^= v;
		h *= 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	return (uint32_t)(h >> 32);
}

static struct tp_src **src_slot(struct transport *tp, uint8_t family,
				const uint8_t *addr)
{
	struct tp_src **pp = &tp->by_src[src_hash(tp, family, addr) &
					 (TP_SRC_BUCKETS - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->family == family &&
		    memcmp((*pp)->addr, addr, 16) == 0)
			break;
	return pp;
}

int tp_guard_init(struct transport *tp)
{
	uint64_t seed = 0;

	tp->by_src = calloc(TP_SRC_BUCKETS, sizeof(*tp->by_src));
	if (!tp->by_src)
		return -ENOMEM;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^
		       (uint64_t)(uintptr_t)tp;
	}
	tp->src_seed = seed;
	return 0;
}

void tp_guard_free(struct transport *tp)
{
	if (!tp->by_src)
		return;
	for (unsigned b = 0; b < TP_SRC_BUCKETS; b++) {
		struct tp_src *s = tp->by_src[b], *next;

		for (; s; s = next) {
			next = s->next;
			free(s);
		}
	}
	free(tp->by_src);
	tp->by_src = NULL;
}

static void unp_unlink(struct transport *tp, struct tp_conn *c)
{
	if (!c->unproven)
		return;
	if (c->unp_prev)
		c->unp_prev->unp_next = c->unp_next;
	else
		tp->unp_head = c->unp_next;
	if (c->unp_next)
		c->unp_next->unp_prev = c->unp_prev;
	else
		tp->unp_tail = c->unp_prev;
	c->unp_prev = c->unp_next = NULL;
	c->unproven = false;
}

void tp_guard_track(struct transport *tp, struct tp_conn *c)
{
	c->unp_next = NULL;
	c->unp_prev = tp->unp_tail;
	if (tp->unp_tail)
		tp->unp_tail->unp_next = c;
	else
		tp->unp_head = c;
	tp->unp_tail = c;
	c->unproven = true;
}

void tp_guard_proven(struct transport *tp, struct tp_conn *c)
{
	c->proven = true;
	pthread_mutex_lock(&tp->conn_lock);
	unp_unlink(tp, c);
	pthread_mutex_unlock(&tp->conn_lock);
}

/* The inbound connections @c's source holds (conn_lock held). */
static uint32_t src_count_of(struct transport *tp, const struct tp_conn *c)
{
	uint8_t family, addr[16];
	struct tp_src *s;

	src_key(&c->remote, &family, addr);
	s = *src_slot(tp, family, addr);
	return s ? s->count : 0;
}

/*
 * The clients' share is full and no connection is waiting for its first
 * message: an idle connection that did send whole messages.  Without
 * this, a client that opens connections, sends one valid request on
 * each and then says nothing holds its slots until idle_timeout_ms
 * (two minutes by default) and reopens them: the unproven list never
 * sees those connections.  Chosen: among the inbound connections idle
 * (last whole message, ping or send) at least TP_EVICT_IDLE_MS, those of
 * the source holding the most connections, and of those the one idle
 * longest.  A source's only connection (a UA keeping its flow, RFC 5626)
 * is taken only after TP_EVICT_IDLE_SOLE_MS idle, so a flood of sources
 * with many connections each never pushes out a lone client that uses
 * its connection.  A walk over every connection, done only when a
 * newcomer would otherwise be refused (at most once per accept).
 */
static struct tp_conn *pick_idle_victim(struct transport *tp)
{
	uint64_t now = ev_now_ms(), best_idle = 0;
	uint32_t best_count = 0;
	struct tp_conn *best = NULL;

	if (tp->n_evicting >= TP_EVICT_PENDING)
		return NULL;
	for (unsigned b = 0; b < TP_CONN_BUCKETS; b++) {
		for (struct tp_conn *c = tp->by_id[b]; c; c = c->id_next) {
			uint64_t last, idle;
			uint32_t n;

			if (c->outgoing || c->evicted || c->unproven ||
			    atomic_load(&c->state) != TP_CONN_OPEN)
				continue;
			last = atomic_load_explicit(&c->last_active_ms,
						    memory_order_relaxed);
			idle = now > last ? now - last : 0;
			n = src_count_of(tp, c);
			if (idle < (n >= 2 ? TP_EVICT_IDLE_MS :
					     TP_EVICT_IDLE_SOLE_MS))
				continue;
			if (n > best_count ||
			    (n == best_count && idle > best_idle)) {
				best = c;
				best_count = n;
				best_idle = idle;
			}
		}
	}
	if (best) {
		best->evicted = true;
		best->evicted_idle = true;
		tp->n_evicting++;
	}
	return best;
}

/*
 * The clients' share is full: the oldest connection that never sent a
 * whole message, if it is old enough to have had its chance.  A client
 * that means business sends its request at once and is proven within a
 * round trip; what is left on the list is what trickles or says nothing,
 * so a flood of them cannot keep a real client out: each newcomer pushes
 * out the oldest of them.
 */
static struct tp_conn *pick_victim(struct transport *tp)
{
	struct tp_conn *c = tp->unp_head;

	/* The evicted are closed by their owners a moment later; until
	 * then they still hold descriptors, so only a few at a time. */
	if (!c || tp->n_evicting >= TP_EVICT_PENDING ||
	    ev_now_ms() - c->created_ms < TP_EVICT_MIN_AGE_MS)
		return NULL;
	unp_unlink(tp, c);
	c->evicted = true;
	tp->n_evicting++;
	return c;
}

enum tp_refusal tp_guard_admit(struct transport *tp,
			       const struct tp_addr *remote,
			       uint32_t *src_count, struct tp_conn **victim)
{
	struct tp_src **pp, *s;
	uint8_t family, addr[16];
	bool full;

	*victim = NULL;
	if (tp->n_conns - tp->n_evicting >= tp->lim.max_conns)
		return TP_REFUSE_FULL;
	src_key(remote, &family, addr);
	pp = src_slot(tp, family, addr);
	s = *pp;
	if (s && s->count >= tp->lim.max_conns_per_source) {
		*src_count = s->count;
		return TP_REFUSE_SOURCE;
	}
	full = tp->n_in - tp->n_evicting >=
	       tp->lim.max_conns - tp->lim.reserved_out;
	if (full && !(*victim = pick_victim(tp)) &&
	    !(*victim = pick_idle_victim(tp)))
		return TP_REFUSE_INBOUND;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s) {
			if (*victim) {		/* give it back */
				(*victim)->evicted = false;
				tp->n_evicting--;
				if (!(*victim)->evicted_idle)
					tp_guard_track(tp, *victim);
				(*victim)->evicted_idle = false;
				*victim = NULL;
			}
			return TP_REFUSE_FULL;
		}
		s->family = family;
		memcpy(s->addr, addr, 16);
		*pp = s;
	}
	s->count++;
	tp->n_in++;
	*src_count = s->count;
	return *victim ? TP_ADMIT_EVICT : TP_ADMIT;
}

void tp_guard_release(struct transport *tp, struct tp_conn *c)
{
	struct tp_src **pp, *s;
	uint8_t family, addr[16];

	unp_unlink(tp, c);
	if (c->evicted)
		tp->n_evicting--;
	src_key(&c->remote, &family, addr);
	pp = src_slot(tp, family, addr);
	s = *pp;
	if (s && --s->count == 0) {
		*pp = s->next;
		free(s);
	}
	tp->n_in--;
}

const char *tp_guard_source_str(const struct tp_addr *remote, char *buf,
				size_t len)
{
	uint8_t family, addr[16];
	char ip[INET6_ADDRSTRLEN];

	src_key(remote, &family, addr);
	if (!inet_ntop(family, addr, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, len, "%s%s", ip, family == AF_INET6 ? "/64" : "");
	return buf;
}

/*
 * Log one line for @kind unless one went out less than TP_GUARD_LOG_MS
 * ago; the lines held back are counted and named in the next one.  Any
 * thread; never blocks.
 */
void tp_guard_log(struct transport *tp, enum tp_guard_kind kind,
		  const char *fmt, ...)
{
	struct tp_guard_rl *rl = &tp->guard_rl[kind];
	uint64_t now = ev_now_ms(), next = atomic_load(&rl->next_ms);
	unsigned held;
	char line[256];
	va_list ap;

	if (now < next ||
	    !atomic_compare_exchange_strong(&rl->next_ms, &next,
					    now + TP_GUARD_LOG_MS)) {
		atomic_fetch_add(&rl->held, 1);
		return;
	}
	held = atomic_exchange(&rl->held, 0);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (held)
		log_warn("%s (%u more like it in the last %u s)", line, held,
			 TP_GUARD_LOG_MS / 1000u);
	else
		log_warn("%s", line);
}
