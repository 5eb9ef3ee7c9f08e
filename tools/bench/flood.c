// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flood.c - forged in-dialog requests at a fixed rate, for bench-forged.
 *
 * Sends BYE (or INFO) requests over UDP that look like in-dialog requests
 * of a proxy's dialogs: a To-tag, and a Route with the proxy's
 * Record-Route cookie (";did=<hex>.<hex>", Kamailio's reverse hex of hash
 * entry and hash id), but for dialogs that do not exist: the hash entry is
 * a random bucket below the hash size (so a lookup has to be made), the
 * hash id, Call-ID and tags are random.  A pool of distinct packets is
 * built once and sent round-robin with sendmmsg(2), paced to the rate.
 *
 * Two ways to send:
 *   - a UDP socket (default): each datagram goes down the UDP/IP stack;
 *   - -i IFACE: whole frames (Ethernet, IPv4 with its checksum, UDP with
 *     its checksum, from 127.0.0.1:15099 or -a's address) on an AF_PACKET
 *     socket bound to IFACE with PACKET_QDISC_BYPASS: the kernel hands each
 *     one to the driver as it is (on lo: straight back into the receive
 *     path), which skips the UDP/IP send path and the qdisc, so one CPU
 *     sends several times more.  The receiver sees the same datagrams.
 *     Needs CAP_NET_RAW; the destination MAC is IFACE's own (lo: zeros).
 *
 * With -D FILE the requests are valid instead (the kernel relay's
 * benchmark, bench-info-relay.sh): FILE lists established dialogs, one a line,
 * "COOKIE CALL-ID CALLER-TAG CALLEE-TAG", COOKIE the did value of the
 * proxy's Record-Route ("<RH(he)>.<RH(hi)>", as sipp saw it); packet i belongs to dialog i mod N, goes caller->callee with
 * that dialog's cookie, Call-ID and tags, R-URI sip:uas@RURI_HOSTPORT (the
 * callee's contact), no Contact, a branch of its own; its CSeq grows with
 * each pass over the dialogs.  The Via names -a's address (the socket is
 * bound to it, port 15099, so the replies come back to it).  Each
 * datagram sent gets a branch of its own (a counter written into the pool
 * packet before it goes), so that no proxy takes one for a retransmission
 * when the pool comes round again (with -i the frames then carry no UDP
 * checksum, which IPv4 allows).  -M MAC sets the frames' destination MAC
 * (a veth peer's; the default, IFACE's own, suits lo).  -m picks the
 * method (INFO, OPTIONS, NOTIFY with Event: dialog, UPDATE, MESSAGE).
 * The branch's place in each pool packet is found once, when the pool is
 * built, and the number written there with a table (no search, no
 * printf per datagram).  -R: no reply socket (the replies are counted
 * elsewhere, by tools/bench/relay_xdp -c on the caller's veth, which
 * drops them; bench-info-relay.sh), so the flooder only sends.
 * -B RUN (8 hex digits): with -D, the branch's second part is RUN, the
 * same in every datagram (random otherwise), so that relay_xdp -B counts
 * this run's requests only, not an earlier run's still retransmitted.
 * -T N: N processes (each its own socket, 1/N of the rate, numbers
 * k, k + N, k + 2N, ... so that they stay distinct); the first prints
 * the sum.  On one host the receive work of a veth runs on the sending
 * CPU: a second sender keeps the other CPU busy too.  With -D -a it
 * needs -R (one reply socket only).
 *
 * Usage: flood -d ADDR:PORT -r PER_SEC -t SECS [-m BYE|INFO] [-p rr_param]
 *              [-s HASH_SIZE] [-u RURI_HOSTPORT] [-n POOL] [-S SEED]
 *              [-i IFACE] [-a SRC_ADDR] [-b BATCH] [-D DIALOGS_FILE] [-M MAC] [-R] [-T PROCS] [-B RUN]
 * Prints one line at the end:
 *   flood: sent N in T s = R/s (target X/s), E send errors, cpu C s
 * and with -D and -a (and not -R) a second one, the replies that came back to the
 * Via's port (read while sending, then until 300 ms pass without one):
 *   flood: replies 2xx K, other J
 * (K: requests answered 2xx, each once, by the branch number it carried).
 * where C is its user + system time, which on lo includes the receive
 * side's softirq work (an XDP program's too) done in its context.
 * Exit status 0, 1 on bad arguments, 2 when no socket could be made.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/types.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sipdlg_rhex.h"

#define FLOOD_PKT_MAX 1024
#define FLOOD_BATCH_MAX 1024	/* sendmmsg takes at most UIO_MAXIOV */
#define FLOOD_SRC_PORT 15099	/* the Via's port */
#define FLOOD_PROCS_MAX 16	/* -T */
/* Room for the Ethernet, IPv4 and UDP headers in front of the SIP text. */
#define FLOOD_HDRS (sizeof(struct ether_header) + sizeof(struct iphdr) + sizeof(struct udphdr))

struct flood_opts {
	struct sockaddr_in dst;
	struct in_addr src;	/* -i: source address of the frames */
	const char *ifname;	/* -i: AF_PACKET on this interface */
	unsigned int batch;
	double rate;
	double secs;
	const char *method;
	const char *rr_param;
	const char *ruri;
	unsigned int hash_size;
	unsigned int pool;
	unsigned int seed;
	int have_src;		/* -a given */
	int have_dmac;		/* -M given */
	int no_replies;		/* -R: no reply socket */
	unsigned int procs;	/* -T: sending processes */
	const char *run;	/* -B: the branch's second part */
	uint8_t dmac[ETH_ALEN];	/* -M: destination MAC of the frames */
	/* -D: established dialogs */
	struct flood_dlg *dlgs;
	unsigned int n_dlgs;
};

struct flood_dlg {
	char cookie[40], callid[128], ftag[64], ttag[64];
};

/* -D FILE: "COOKIE CALL-ID CALLER-TAG CALLEE-TAG" lines. */
static int flood_read_dialogs(struct flood_opts *o, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	unsigned int cap = 0;

	if (!f) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct flood_dlg d;

		if (sscanf(line, "%39s %127s %63s %63s", d.cookie, d.callid,
			   d.ftag, d.ttag) != 4)
			continue;
		if (o->n_dlgs == cap) {
			struct flood_dlg *n;

			cap = cap ? cap * 2 : 256;
			n = realloc(o->dlgs, cap * sizeof(*n));
			if (!n) {
				fclose(f);
				return -1;
			}
			o->dlgs = n;
		}
		o->dlgs[o->n_dlgs++] = d;
	}
	fclose(f);
	if (!o->n_dlgs) {
		fprintf(stderr, "flood: no dialog in %s\n", path);
		return -1;
	}
	return 0;
}

static uint64_t flood_rng;

/* xorshift64*: enough randomness for tags and ids, no libc state. */
static uint64_t flood_rand(void)
{
	flood_rng ^= flood_rng >> 12;
	flood_rng ^= flood_rng << 25;
	flood_rng ^= flood_rng >> 27;
	return flood_rng * 0x2545F4914F6CDD1DULL;
}

/* Kamailio's int2reverse_hex (include/sipdlg_rhex.h), NUL-terminated. */
static int flood_rhex(char *out, uint32_t v)
{
	__u32 n = sipdlg_rhex(v, out);

	out[n] = '\0';
	return (int)n;
}

static double flood_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A valid in-dialog request of dialog i mod n_dlgs (-D). */
static int flood_build_dlg(char *buf, size_t size, const struct flood_opts *o,
			   unsigned int i)
{
	const struct flood_dlg *d = &o->dlgs[i % o->n_dlgs];
	char dst[INET_ADDRSTRLEN], src[INET_ADDRSTRLEN];
	int n;

	inet_ntop(AF_INET, &o->dst.sin_addr, dst, sizeof(dst));
	inet_ntop(AF_INET, &o->src, src, sizeof(src));
	n = snprintf(buf, size,
		     "%s sip:uas@%s SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP %s:%u;rport;branch=z9hG4bK-fd%08x-%08x\r\n"
		     "Route: <sip:%s:%u;lr;%s=%s>\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:caller@%s>;tag=%s\r\n"
		     "To: <sip:callee@%s>;tag=%s\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: %u %s\r\n"
		     "%s"
		     "Content-Type: application/dtmf-relay\r\n"
		     "Content-Length: 24\r\n\r\n"
		     "Signal=5\r\nDuration=160\r\n",
		     o->method, o->ruri, src, FLOOD_SRC_PORT, i,
		     o->run ? (unsigned int)strtoul(o->run, NULL, 16) : (unsigned int)flood_rand(), dst, ntohs(o->dst.sin_port),
		     o->rr_param, d->cookie, src, d->ftag, o->ruri, d->ttag,
		     d->callid, 1000 + i / o->n_dlgs, o->method,
		     /* RFC 6665: a NOTIFY names its event package */
		     strcmp(o->method, "NOTIFY") == 0 ?
		     "Event: dialog\r\nSubscription-State: active;expires=3600\r\n" : "");
	return (n > 0 && (size_t)n < size) ? n : -1;
}

/* -D: the replies that came back to the Via's port (rfd, non-blocking):
 * adds the 2xx to *ok and the others to *other. */
static void flood_count_replies(int rfd, unsigned long long *ok,
				unsigned long long *other)
{
	/* the datagram numbers answered (2^27 bits), to count each once */
	static unsigned char seen[1u << 24];
	static char rbuf[64][512];
	struct mmsghdr rm[64];
	struct iovec riov[64];
	int n;

	do {
		for (int k = 0; k < 64; k++) {
			riov[k] = (struct iovec){ rbuf[k], sizeof(rbuf[k]) };
			memset(&rm[k], 0, sizeof(rm[k]));
			rm[k].msg_hdr.msg_iov = &riov[k];
			rm[k].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(rfd, rm, 64, MSG_DONTWAIT, NULL);
		for (int k = 0; k < n; k++) {
			const char *b = memmem(rbuf[k], rm[k].msg_len, "branch=z9hG4bK-fd", 17);
			unsigned int v;

			if (rm[k].msg_len < 9 || memcmp(rbuf[k], "SIP/2.0 2", 9) != 0) {
				(*other)++;
				continue;
			}
			if (b && (size_t)(b - rbuf[k]) + 25 <= rm[k].msg_len &&
			    sscanf(b + 17, "%8x", &v) == 1) {
				v &= (1u << 27) - 1;
				if (seen[v >> 3] & (1u << (v & 7)))
					continue;	/* a retransmission's 200 */
				seen[v >> 3] |= (unsigned char)(1u << (v & 7));
			}
			(*ok)++;
		}
	} while (n == 64);
}

/* flood_build: packet number i of the pool into buf; returns its length. */
static int flood_build(char *buf, size_t size, const struct flood_opts *o,
		       unsigned int i)
{
	char he[16], hi[16], dst[INET_ADDRSTRLEN];
	uint64_t ft, tt, cid;
	int n;

	if (o->n_dlgs)
		return flood_build_dlg(buf, size, o, i);
	ft = flood_rand();
	tt = flood_rand();
	cid = flood_rand();

	flood_rhex(he, (uint32_t)(flood_rand() % o->hash_size));
	flood_rhex(hi, (uint32_t)flood_rand() | 1u);
	inet_ntop(AF_INET, &o->dst.sin_addr, dst, sizeof(dst));
	n = snprintf(buf, size,
		     "%s sip:uas@%s SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP %s:%u;rport;branch=z9hG4bK-fl%u-%08x\r\n"
		     "Route: <sip:%s:%u;lr;%s=%s.%s>\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:c%u@%s:15070>;tag=%016llx\r\n"
		     "To: <sip:service@%s:%u>;tag=%016llx\r\n"
		     "Call-ID: fl-%016llx@%s\r\n"
		     "CSeq: 2 %s\r\n"
		     "Content-Length: 0\r\n\r\n",
		     o->method, o->ruri, dst, FLOOD_SRC_PORT, i, (unsigned int)flood_rand(),
		     dst, ntohs(o->dst.sin_port), o->rr_param, he, hi,
		     i, dst, (unsigned long long)ft,
		     dst, ntohs(o->dst.sin_port), (unsigned long long)tt,
		     (unsigned long long)cid, dst, o->method);
	return (n > 0 && (size_t)n < size) ? n : -1;
}

/* Internet checksum (RFC 1071) of len bytes, folded, not inverted, added
 * to sum. */
static uint32_t flood_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* flood_frame: put Ethernet, IPv4 and UDP headers in the FLOOD_HDRS bytes
 * in front of the payload of len bytes at frame + FLOOD_HDRS; both
 * checksums valid.  Returns the frame's length. */
static int flood_frame(uint8_t *frame, int len, const struct flood_opts *o,
		       const uint8_t mac[ETH_ALEN], unsigned int i)
{
	struct ether_header eh;
	struct iphdr ip;
	struct udphdr uh;
	uint32_t sum;
	uint16_t w;

	memcpy(eh.ether_dhost, o->have_dmac ? o->dmac : mac, ETH_ALEN);
	memcpy(eh.ether_shost, mac, ETH_ALEN);
	eh.ether_type = htons(ETHERTYPE_IP);

	memset(&ip, 0, sizeof(ip));
	ip.version = 4;
	ip.ihl = sizeof(ip) / 4;
	ip.tot_len = htons((uint16_t)(sizeof(ip) + sizeof(uh) + (size_t)len));
	ip.id = htons((uint16_t)i);
	ip.frag_off = htons(IP_DF);
	ip.ttl = 64;
	ip.protocol = IPPROTO_UDP;
	ip.saddr = o->src.s_addr;
	ip.daddr = o->dst.sin_addr.s_addr;
	ip.check = htons((uint16_t)~flood_csum_add(0, &ip, sizeof(ip)));

	uh.source = htons(FLOOD_SRC_PORT);
	uh.dest = o->dst.sin_port;
	uh.len = htons((uint16_t)(sizeof(uh) + (size_t)len));
	uh.check = 0;
	/* Pseudo-header: addresses, protocol, UDP length; then header and data. */
	sum = flood_csum_add(0, &ip.saddr, 8);
	w = htons(IPPROTO_UDP);
	sum = flood_csum_add(sum, &w, 2);
	sum = flood_csum_add(sum, &uh.len, 2);
	sum = flood_csum_add(sum, &uh, sizeof(uh));
	sum = flood_csum_add(sum, frame + FLOOD_HDRS, (size_t)len);
	uh.check = htons((uint16_t)~sum);
	if (!uh.check)
		uh.check = 0xffff;	/* 0 means "no checksum" */
	if (o->n_dlgs)
		uh.check = 0;	/* -D rewrites the branch of every datagram:
				 * no checksum (legal over IPv4) */

	memcpy(frame, &eh, sizeof(eh));
	memcpy(frame + sizeof(eh), &ip, sizeof(ip));
	memcpy(frame + sizeof(eh) + sizeof(ip), &uh, sizeof(uh));
	return (int)FLOOD_HDRS + len;
}

/* flood_packet_socket: an AF_PACKET socket bound to ifname that bypasses
 * the qdisc; its MAC address into mac.  Returns the fd or -1. */
static int flood_packet_socket(const char *ifname, uint8_t mac[ETH_ALEN])
{
	struct sockaddr_ll sll;
	struct ifreq ifr;
	int fd, one = 1;

	fd = socket(AF_PACKET, SOCK_RAW, 0);	/* protocol 0: receives nothing */
	if (fd < 0) {
		perror("flood: socket(AF_PACKET)");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	if (strlen(ifname) >= sizeof(ifr.ifr_name)) {
		fprintf(stderr, "flood: interface name too long\n");
		goto fail;
	}
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		perror("flood: SIOCGIFHWADDR");
		goto fail;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex) {
		perror("flood: if_nametoindex");
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("flood: bind(AF_PACKET)");
		goto fail;
	}
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0)
		perror("flood: PACKET_QDISC_BYPASS (going through the qdisc)");
	return fd;
fail:
	close(fd);
	return -1;
}

static int flood_parse_hostport(struct sockaddr_in *sa, const char *s)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t len;

	if (!colon || colon == s)
		return -EINVAL;
	len = (size_t)(colon - s);
	if (len >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, len);
	host[len] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1 || !sa->sin_port)
		return -EINVAL;
	return 0;
}

static void flood_usage(void)
{
	fprintf(stderr, "usage: flood -d ADDR:PORT -r PER_SEC -t SECS [-m BYE|INFO] "
		"[-p rr_param] [-s HASH_SIZE] [-u RURI_HOSTPORT] [-n POOL] [-S SEED]\n"
		"             [-i IFACE] [-a SRC_ADDR] [-b BATCH] [-D DIALOGS_FILE] [-M MAC]\n"
		"  -i IFACE   whole frames on an AF_PACKET socket, qdisc bypassed\n"
		"  -a ADDR    their source address (default 127.0.0.1)\n"
		"  -b BATCH   datagrams per sendmmsg (default 64, at most %d)\n"
		"  -D FILE    valid requests of these established dialogs\n"
		"  -M MAC     destination MAC of -i's frames\n"
		"  -R         -D: do not read the replies (counted elsewhere)\n"
		"  -T PROCS   that many sending processes (at most %d), the rate shared\n"
		"  -B RUN     -D: 8 hex digits, the branch's second part (the run)\n",
		FLOOD_BATCH_MAX, FLOOD_PROCS_MAX);
}

int main(int argc, char **argv)
{
	struct flood_opts o = {
		.rate = 1000, .secs = 5, .method = "BYE", .rr_param = "did",
		.ruri = "127.0.0.1:15080", .hash_size = 4096, .pool = 4096,
		.batch = 64, .procs = 1,
	};
	/* -T: each process's totals, for the first to add up */
	struct flood_share {
		unsigned long long sent, errs;
		double t;
	} *share = NULL;
	pid_t kids[FLOOD_PROCS_MAX];
	unsigned int tid = 0;
	struct mmsghdr *msgs = NULL;
	struct iovec *iovs = NULL;
	unsigned long long sent = 0, errs = 0, rep_ok = 0, rep_other = 0;
	int rxfd = -1;		/* -D: where the replies arrive */
	double t0, t, end;
	uint8_t *pool = NULL, mac[ETH_ALEN];
	int *lens = NULL, *boff = NULL;	/* -D: where each packet's number goes */
	size_t off;
	int have_dst = 0, c, fd = -1, rfd = -1, ret = 0;
	unsigned int i, next = 0;

	o.src.s_addr = htonl(INADDR_LOOPBACK);
	const char *dlg_file = NULL;

	while ((c = getopt(argc, argv, "d:r:t:m:p:s:u:n:S:i:a:b:D:M:RT:B:")) != -1) {
		switch (c) {
		case 'd':
			if (flood_parse_hostport(&o.dst, optarg)) {
				fprintf(stderr, "flood: bad -d %s (want IPv4:PORT)\n", optarg);
				return 1;
			}
			have_dst = 1;
			break;
		case 'r': o.rate = atof(optarg); break;
		case 't': o.secs = atof(optarg); break;
		case 'm': o.method = optarg; break;
		case 'p': o.rr_param = optarg; break;
		case 's': o.hash_size = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'u': o.ruri = optarg; break;
		case 'n': o.pool = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'S': o.seed = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'i': o.ifname = optarg; break;
		case 'a':
			if (inet_pton(AF_INET, optarg, &o.src) != 1) {
				fprintf(stderr, "flood: bad -a %s (want an IPv4 address)\n", optarg);
				return 1;
			}
			o.have_src = 1;
			break;
		case 'D': dlg_file = optarg; break;
		case 'M':
			if (sscanf(optarg, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &o.dmac[0],
				   &o.dmac[1], &o.dmac[2], &o.dmac[3], &o.dmac[4],
				   &o.dmac[5]) != 6) {
				fprintf(stderr, "flood: bad -M %s\n", optarg);
				return 1;
			}
			o.have_dmac = 1;
			break;
		case 'b': o.batch = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'R': o.no_replies = 1; break;
		case 'T': o.procs = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'B':
			if (strlen(optarg) != 8 || strspn(optarg, "0123456789abcdef") != 8) {
				fprintf(stderr, "flood: bad -B %s (want 8 lower-case hex digits)\n", optarg);
				return 1;
			}
			o.run = optarg;
			break;
		default: flood_usage(); return 1;
		}
	}
	if (!have_dst || o.rate <= 0 || o.secs <= 0 || !o.hash_size || !o.pool ||
	    !o.batch || o.batch > FLOOD_BATCH_MAX || !o.procs || o.procs > FLOOD_PROCS_MAX) {
		flood_usage();
		return 1;
	}
	if (dlg_file && flood_read_dialogs(&o, dlg_file) != 0)
		return 1;
	if (o.procs > 1) {
		if (o.n_dlgs && o.have_src && !o.no_replies) {
			fprintf(stderr, "flood: -T with -D and -a needs -R (one reply socket only)\n");
			return 1;
		}
		share = mmap(NULL, o.procs * sizeof(*share), PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (share == MAP_FAILED) {
			perror("flood: mmap");
			return 2;
		}
		memset(share, 0, o.procs * sizeof(*share));
		fflush(stdout);
		for (unsigned int k = 1; k < o.procs; k++) {
			pid_t pid = fork();

			if (pid < 0) {
				perror("flood: fork");
				o.procs = k;	/* the others share the rate */
				break;
			}
			if (pid == 0) {
				tid = k;
				break;
			}
			kids[k] = pid;
		}
		o.rate /= o.procs;
	}
	flood_rng = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)(o.seed ? o.seed : (unsigned int)getpid()) << 17) ^ tid;

	if (o.ifname) {
		fd = flood_packet_socket(o.ifname, mac);
		if (fd >= 0 && o.have_src && o.n_dlgs && !o.no_replies) {
			/* the replies' port: bound (no ICMP), read to count them */
			struct sockaddr_in sa = { .sin_family = AF_INET,
						  .sin_port = htons(FLOOD_SRC_PORT),
						  .sin_addr = o.src };

			rfd = socket(AF_INET, SOCK_DGRAM, 0);
			if (rfd >= 0 && bind(rfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
				perror("flood: bind (-a)");
		}
	} else {
		int sz = 4 << 20;

		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0)
			perror("flood: socket");
		else
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		if (fd >= 0 && o.have_src) {
			/* the Via's address and port: replies come back here */
			struct sockaddr_in sa = { .sin_family = AF_INET,
						  .sin_port = htons(FLOOD_SRC_PORT),
						  .sin_addr = o.src };

			if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
				perror("flood: bind (-a)");
		}
	}
	if (fd < 0)
		return 2;
	if (o.n_dlgs && o.have_src && !o.no_replies) {
		int rb = 16 << 20;

		rxfd = o.ifname ? rfd : fd;
		/* Past net.core.rmem_max when root: the 2xx counted must
		 * not be lost while the flooder is busy sending. */
		if (rxfd >= 0 &&
		    setsockopt(rxfd, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof(rb)) != 0)
			setsockopt(rxfd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
	}

	/* The SIP text of packet i starts FLOOD_HDRS bytes into its slot, so
	 * that -i can put the frame headers in front of it. */
	pool = malloc((size_t)o.pool * (FLOOD_HDRS + FLOOD_PKT_MAX));
	lens = calloc(o.pool, sizeof(*lens));
	boff = calloc(o.pool, sizeof(*boff));
	msgs = calloc(o.batch, sizeof(*msgs));
	iovs = calloc(o.batch, sizeof(*iovs));
	if (!pool || !lens || !boff || !msgs || !iovs) {
		fprintf(stderr, "flood: out of memory\n");
		ret = 2;
		goto cleanup;
	}
	for (i = 0; i < o.pool; i++) {
		uint8_t *slot = pool + (size_t)i * (FLOOD_HDRS + FLOOD_PKT_MAX);

		lens[i] = flood_build((char *)slot + FLOOD_HDRS, FLOOD_PKT_MAX, &o, i);
		if (lens[i] < 0) {
			fprintf(stderr, "flood: packet too long\n");
			ret = 1;
			goto cleanup;
		}
		boff[i] = -1;
		if (o.n_dlgs) {
			char *b = memmem(slot + FLOOD_HDRS, (size_t)lens[i], "branch=z9hG4bK-fd", 17);

			if (b)
				boff[i] = (int)(b + 17 - (char *)slot);
		}
		if (o.ifname)
			lens[i] = flood_frame(slot, lens[i], &o, mac, i);
	}
	off = o.ifname ? 0 : FLOOD_HDRS;
	for (i = 0; i < o.batch; i++) {
		if (!o.ifname) {
			msgs[i].msg_hdr.msg_name = &o.dst;
			msgs[i].msg_hdr.msg_namelen = sizeof(o.dst);
		}
		msgs[i].msg_hdr.msg_iov = &iovs[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	t0 = flood_now();
	end = t0 + o.secs;
	for (t = t0; t < end; t = flood_now()) {
		unsigned long long due = (unsigned long long)((t - t0) * o.rate) + 1;
		unsigned int n;
		int r;

		if (due <= sent) {
			/* Ahead of the rate: sleep until the next packet is due
			 * (at least 50 us, so low rates do not spin). */
			double wait = (double)(sent + 1 - due + 1) / o.rate;
			struct timespec ts;

			if (wait < 50e-6)
				wait = 50e-6;
			if (wait > 0.01)
				wait = 0.01;
			ts.tv_sec = 0;
			ts.tv_nsec = (long)(wait * 1e9);
			nanosleep(&ts, NULL);
			continue;
		}
		n = (due - sent > o.batch) ? o.batch : (unsigned int)(due - sent);
		for (i = 0; i < n; i++) {
			if (boff[next] >= 0) {
				/* -D: a branch of its own for every datagram */
				static const char hx[] = "0123456789abcdef";
				char *b = (char *)pool + (size_t)next * (FLOOD_HDRS + FLOOD_PKT_MAX) + boff[next];
				unsigned int v = (unsigned int)((sent + i) * o.procs + tid);

				for (int k = 7; k >= 0; k--, v >>= 4)
					b[k] = hx[v & 15];
			}
			iovs[i].iov_base = pool + (size_t)next * (FLOOD_HDRS + FLOOD_PKT_MAX) + off;
			iovs[i].iov_len = (size_t)lens[next];
			next = (next + 1) % o.pool;
		}
		r = sendmmsg(fd, msgs, n, 0);
		if (r < 0) {
			errs++;
			if (errno == ENOBUFS || errno == EAGAIN)
				continue;
			perror("flood: sendmmsg");
			break;
		}
		sent += (unsigned int)r;
		if (rxfd >= 0)
			flood_count_replies(rxfd, &rep_ok, &rep_other);
		/* A short count: the pool position went n - r too far. */
		next = (next + o.pool - (n - (unsigned int)r)) % o.pool;
	}
	t = flood_now() - t0;
	if (rxfd >= 0) {
		/* the last replies: until 300 ms pass without one (2 s at most) */
		double quiet = flood_now() + 0.3, stop = flood_now() + 2;
		unsigned long long before;

		while (flood_now() < quiet && flood_now() < stop) {
			struct timespec ts = { 0, 20 * 1000 * 1000 };

			before = rep_ok + rep_other;
			nanosleep(&ts, NULL);
			flood_count_replies(rxfd, &rep_ok, &rep_other);
			if (rep_ok + rep_other != before)
				quiet = flood_now() + 0.3;
		}
	}
	if (share && tid) {
		/* -T: another process's part, added up by the first */
		share[tid] = (struct flood_share){ sent, errs, t };
		goto cleanup;
	}
	if (share) {
		for (unsigned int k = 1; k < o.procs; k++) {
			waitpid(kids[k], NULL, 0);
			sent += share[k].sent;
			errs += share[k].errs;
			if (share[k].t > t)
				t = share[k].t;
		}
		o.rate *= o.procs;
	}
	{
		struct rusage ru;
		double cpu = 0;

		if (!getrusage(RUSAGE_SELF, &ru))
			cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			      (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
		if (share && !getrusage(RUSAGE_CHILDREN, &ru))
			cpu += (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
		printf("flood: sent %llu in %.2f s = %.0f/s (target %.0f/s), %llu send errors, cpu %.2f s\n",
		       sent, t, t > 0 ? (double)sent / t : 0.0, o.rate, errs, cpu);
		if (rxfd >= 0)
			printf("flood: replies 2xx %llu, other %llu\n", rep_ok, rep_other);
	}
cleanup:
	close(fd);
	if (rfd >= 0)
		close(rfd);
	free(iovs);
	free(msgs);
	free(lens);
	free(boff);
	free(pool);
	free(o.dlgs);
	return ret;
}
