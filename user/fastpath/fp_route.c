/*
 * fp_route.c - one route lookup through rtnetlink (RTM_GETROUTE, what
 * `ip route get` does): the egress interface and preferred source address
 * the kernel would use towards an address.  The relay's next hops need
 * both (sipdlg_relay_hop.ifindex, .saddr); connect() on a UDP socket would
 * give the source but not the interface.
 *
 * Answers are kept for FP_ROUTE_TTL_MS: every confirmed dialog asks for
 * both directions, nearly always towards the same few next hops, and a
 * netlink round trip (socket, request, answer, close) per direction per
 * call cost more CPU than the rest of the fast path's bookkeeping
 * (bench-cps-ns.sh).  A route change is seen by the dialogs confirmed
 * after the TTL; the kernel's own FIB lookup for the L2 header is per
 * packet anyway.
 */
#define LOG_TAG "fastpath"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "fastpath/fp_route.h"

#define FP_ROUTE_TTL_MS 1000
#define FP_ROUTE_CACHE 32

/* A lookup's question: family, destination, source (zero: any). */
struct route_q {
	int family;
	unsigned char dst[16], src[16];
};

static struct {
	pthread_mutex_t lock;
	struct {
		struct route_q q;
		struct fp_route r;
		uint64_t until_ms;	/* 0: empty */
	} e[FP_ROUTE_CACHE];
	unsigned next;			/* the slot replaced next */
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void question(const struct sockaddr_storage *dst,
		     const struct sockaddr_storage *src, struct route_q *q)
{
	int v6 = dst->ss_family == AF_INET6;
	size_t alen = v6 ? 16 : 4;

	memset(q, 0, sizeof(*q));
	q->family = dst->ss_family;
	memcpy(q->dst, v6 ? (const void *)&((const struct sockaddr_in6 *)dst)->sin6_addr
			  : (const void *)&((const struct sockaddr_in *)dst)->sin_addr,
	       alen);
	if (src && src->ss_family == dst->ss_family)
		memcpy(q->src,
		       v6 ? (const void *)&((const struct sockaddr_in6 *)src)->sin6_addr
			  : (const void *)&((const struct sockaddr_in *)src)->sin_addr,
		       alen);
}

static bool cache_get(const struct route_q *q, uint64_t now,
		      struct fp_route *out)
{
	bool hit = false;

	pthread_mutex_lock(&cache.lock);
	for (unsigned i = 0; i < FP_ROUTE_CACHE && !hit; i++)
		if (cache.e[i].until_ms > now &&
		    memcmp(&cache.e[i].q, q, sizeof(*q)) == 0) {
			*out = cache.e[i].r;
			hit = true;
		}
	pthread_mutex_unlock(&cache.lock);
	return hit;
}

static void cache_put(const struct route_q *q, uint64_t now,
		      const struct fp_route *r)
{
	unsigned slot = FP_ROUTE_CACHE;

	pthread_mutex_lock(&cache.lock);
	for (unsigned i = 0; i < FP_ROUTE_CACHE; i++)
		if (memcmp(&cache.e[i].q, q, sizeof(*q)) == 0 ||
		    cache.e[i].until_ms <= now) {
			slot = i;
			break;
		}
	if (slot == FP_ROUTE_CACHE)
		slot = cache.next++ % FP_ROUTE_CACHE;
	cache.e[slot].q = *q;
	cache.e[slot].r = *r;
	cache.e[slot].until_ms = now + FP_ROUTE_TTL_MS;
	pthread_mutex_unlock(&cache.lock);
}

static int route_ask(const struct sockaddr_storage *dst,
		     const struct sockaddr_storage *src, struct fp_route *out);

int fp_route_get(const struct sockaddr_storage *dst,
		 const struct sockaddr_storage *src, struct fp_route *out)
{
	struct route_q q;
	uint64_t now;
	int r;

	if (dst->ss_family != AF_INET && dst->ss_family != AF_INET6)
		return -EAFNOSUPPORT;
	question(dst, src, &q);
	now = now_ms();
	if (cache_get(&q, now, out))
		return 0;
	r = route_ask(dst, src, out);
	if (r == 0)		/* failures are asked again: they are rare */
		cache_put(&q, now, out);
	return r;
}

/* The netlink round trip. */
static int route_ask(const struct sockaddr_storage *dst,
		     const struct sockaddr_storage *src, struct fp_route *out)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
		char attrs[64];
	} req;
	union {
		struct nlmsghdr nh;
		char buf[4096];
	} rsp;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 1 };
	int v6 = dst->ss_family == AF_INET6;
	size_t alen = v6 ? 16 : 4;
	const void *daddr = v6 ?
		(const void *)&((const struct sockaddr_in6 *)dst)->sin6_addr :
		(const void *)&((const struct sockaddr_in *)dst)->sin_addr;
	struct rtattr *ra;
	ssize_t n;
	int fd, r = -ENOENT;

	if (dst->ss_family != AF_INET && dst->ss_family != AF_INET6)
		return -EAFNOSUPPORT;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	req.rt.rtm_family = (unsigned char)dst->ss_family;
	req.rt.rtm_dst_len = (unsigned char)(alen * 8);
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	ra = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
	ra->rta_type = RTA_DST;
	ra->rta_len = (unsigned short)RTA_LENGTH(alen);
	memcpy(RTA_DATA(ra), daddr, alen);
	req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(ra->rta_len);
	if (src && src->ss_family == dst->ss_family) {
		const void *saddr = v6 ?
			(const void *)&((const struct sockaddr_in6 *)src)->sin6_addr :
			(const void *)&((const struct sockaddr_in *)src)->sin_addr;
		static const unsigned char zero[16];

		if (memcmp(saddr, zero, alen) != 0) {	/* not a wildcard */
			ra = (struct rtattr *)((char *)&req + req.nh.nlmsg_len);
			ra->rta_type = RTA_SRC;
			ra->rta_len = (unsigned short)RTA_LENGTH(alen);
			memcpy(RTA_DATA(ra), saddr, alen);
			req.rt.rtm_src_len = (unsigned char)(alen * 8);
			req.nh.nlmsg_len += RTA_ALIGN(ra->rta_len);
		}
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0) {
		r = -errno;
		goto out;
	}
	n = recv(fd, &rsp, sizeof(rsp), 0);
	if (n < 0) {
		r = -errno;
		goto out;
	}
	memset(out, 0, sizeof(*out));
	for (struct nlmsghdr *nh = &rsp.nh; NLMSG_OK(nh, (size_t)n);
	     nh = NLMSG_NEXT(nh, n)) {
		struct rtmsg *rt;
		int len;

		if (nh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(nh);

			r = e->error ? e->error : -ENOENT;
			break;
		}
		if (nh->nlmsg_type != RTM_NEWROUTE)
			continue;
		rt = NLMSG_DATA(nh);
		if (rt->rtm_type != RTN_UNICAST && rt->rtm_type != RTN_LOCAL) {
			r = -ENETUNREACH;
			break;
		}
		out->local = rt->rtm_type == RTN_LOCAL;
		len = (int)RTM_PAYLOAD(nh);
		for (ra = RTM_RTA(rt); RTA_OK(ra, len); ra = RTA_NEXT(ra, len)) {
			if (ra->rta_type == RTA_OIF &&
			    RTA_PAYLOAD(ra) >= sizeof(int))
				memcpy(&out->ifindex, RTA_DATA(ra), sizeof(int));
			else if (ra->rta_type == RTA_PREFSRC &&
				 RTA_PAYLOAD(ra) == alen)
				memcpy(out->prefsrc, RTA_DATA(ra), alen);
		}
		r = out->ifindex > 0 ? 0 : -ENOENT;
		break;
	}
out:
	close(fd);
	return r;
}
