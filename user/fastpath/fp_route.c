/*
 * fp_route.c - one route lookup through rtnetlink (RTM_GETROUTE, what
 * `ip route get` does): the egress interface and preferred source address
 * the kernel would use towards an address.  The relay's next hops need
 * both (sipdlg_relay_hop.ifindex, .saddr); connect() on a UDP socket would
 * give the source but not the interface.
 */
#define LOG_TAG "fastpath"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "fastpath/fp_route.h"

int fp_route_get(const struct sockaddr_storage *dst,
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
