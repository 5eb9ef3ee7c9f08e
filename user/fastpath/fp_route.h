/* fp_route.h - the kernel's route towards an address (rtnetlink). */
#ifndef SIPDLG_FP_ROUTE_H
#define SIPDLG_FP_ROUTE_H

#include <stdbool.h>
#include <sys/socket.h>

struct fp_route {
	int ifindex;			/* egress interface */
	unsigned char prefsrc[16];	/* preferred source; IPv4 in 4 bytes;
					 * zero if the route names none */
	bool local;			/* the address is this host's */
};

/*
 * The route to @dst (port ignored), from @src when it is a specific
 * address of the same family (NULL or a wildcard: any).  0, or -errno
 * (-ENETUNREACH: unreachable/blackhole/prohibited).  One netlink
 * round trip, its answer reused for the same question for up to 1 s;
 * any thread.
 */
int fp_route_get(const struct sockaddr_storage *dst,
		 const struct sockaddr_storage *src, struct fp_route *out);

#endif
