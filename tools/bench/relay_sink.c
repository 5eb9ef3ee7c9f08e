// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * relay_sink.c - the callee side of bench-info-relay.sh: receives in-dialog
 * requests on one UDP address, counts them, and answers each with a 200
 * (its Via lines, From, To, Call-ID and CSeq copied, no body) sent back
 * to the datagram's source, which is the box: the reply then travels the
 * way a real callee's would (through the kernel relay, or the proxy).
 *
 * Usage: relay_sink -l ADDR:PORT -t SECS [-q] [-v] [-m METHOD]
 *   -q  count only, answer nothing
 *   -m  count only requests of METHOD (default INFO); all are answered
 * Prints at the end:
 *   sink: received N requests, answered A, in T s, D duplicates
 * (N: those of METHOD, each counted once: a request that carries the
 * flooder's branch "z9hG4bK-fd<8 hex digits>" in any Via is a duplicate
 * when that number came before (a stateful proxy's retransmission); D:
 * those duplicates, not in N).
 * and, every second with -v, "sink: N" (cumulative).  Exit 0; 1 on bad
 * arguments, 2 when the socket cannot be made.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SINK_BATCH 64
#define SINK_MAX 2048

/* The flooder's datagram numbers seen (2^27 bits: a 30 s run at
 * 1,000,000/s stays below). */
static unsigned char seen[1u << 24];

/* 1 if @req carries a flooder branch whose number came before. */
static int is_dup(const char *req, size_t len)
{
	const char *b = memmem(req, len, "branch=z9hG4bK-fd", 17);
	unsigned int v = 0;

	if (!b || (size_t)(b - req) + 17 + 8 > len)
		return 0;
	for (int k = 0; k < 8; k++) {
		char c = b[17 + k];
		unsigned int d = c >= '0' && c <= '9' ? (unsigned int)(c - '0') :
				 c >= 'a' && c <= 'f' ? (unsigned int)(c - 'a' + 10) : 16u;

		if (d > 15)
			return 0;
		v = v << 4 | d;
	}
	v &= (1u << 27) - 1;
	if (seen[v >> 3] & (1u << (v & 7)))
		return 1;
	seen[v >> 3] |= (unsigned char)(1u << (v & 7));
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Does line @l (length @n) start with header @h (case-insensitive)? */
static int is_hdr(const char *l, size_t n, const char *h)
{
	size_t hl = strlen(h);

	return n > hl && strncasecmp(l, h, hl) == 0 &&
	       (l[hl] == ':' || l[hl] == ' ');
}

/* The 200 for request @req of @len bytes into @out; its length, or 0. */
static size_t answer(const char *req, size_t len, char *out, size_t cap)
{
	static const char *const keep[] = { "Via", "v", "From", "f", "To",
					    "t", "Call-ID", "i", "CSeq" };
	size_t o = 0, i = 0;
	int w;

	if (len < 8 || memcmp(req, "SIP/2.0 ", 8) == 0)
		return 0;		/* a reply: nothing to answer */
	w = snprintf(out, cap, "SIP/2.0 200 OK\r\n");
	o = (size_t)w;
	/* skip the request line */
	while (i < len && req[i] != '\n')
		i++;
	i++;
	while (i < len) {
		size_t s = i, n;

		while (i < len && req[i] != '\n')
			i++;
		n = i - s;
		if (n && req[s + n - 1] == '\r')
			n--;
		i++;
		if (n == 0)
			break;		/* end of the headers */
		for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++) {
			if (!is_hdr(req + s, n, keep[k]))
				continue;
			if (o + n + 2 >= cap)
				return 0;
			memcpy(out + o, req + s, n);
			o += n;
			out[o++] = '\r';
			out[o++] = '\n';
			break;
		}
	}
	w = snprintf(out + o, cap - o, "Content-Length: 0\r\n\r\n");
	if (w < 0 || (size_t)w >= cap - o)
		return 0;
	return o + (size_t)w;
}

int main(int argc, char **argv)
{
	static char rbuf[SINK_BATCH][SINK_MAX], sbuf[SINK_BATCH][SINK_MAX];
	struct mmsghdr rm[SINK_BATCH], sm[SINK_BATCH];
	struct iovec riov[SINK_BATCH], siov[SINK_BATCH];
	struct sockaddr_storage from[SINK_BATCH];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	unsigned long long got = 0, answered = 0, dups = 0;
	double secs = 10, t0, end, tick;
	int quiet = 0, verbose = 0, c, fd, sz = 16 << 20;
	const char *method = "INFO";
	size_t mlen;
	char host[64];

	while ((c = getopt(argc, argv, "l:t:qvm:")) != -1) {
		switch (c) {
		case 'l': {
			const char *colon = strrchr(optarg, ':');

			if (!colon || (size_t)(colon - optarg) >= sizeof(host))
				return 1;
			memcpy(host, optarg, (size_t)(colon - optarg));
			host[colon - optarg] = '\0';
			if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
				return 1;
			sa.sin_port = htons((uint16_t)atoi(colon + 1));
			break;
		}
		case 't': secs = atof(optarg); break;
		case 'q': quiet = 1; break;
		case 'v': verbose = 1; break;
		case 'm': method = optarg; break;
		default:
			fprintf(stderr, "usage: relay_sink -l ADDR:PORT -t SECS [-q] [-v] [-m METHOD]\n");
			return 1;
		}
	}
	if (!sa.sin_port) {
		fprintf(stderr, "relay_sink: -l ADDR:PORT is required\n");
		return 1;
	}
	mlen = strlen(method);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("relay_sink");
		return 2;
	}
	/* Past net.core.rmem_max when root (SO_RCVBUFFORCE): on a shared
	 * machine the sink is off the CPU now and then, and its socket
	 * must hold what arrives meanwhile, or the benchmark measures the
	 * sink's scheduling and not the box. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	for (int i = 0; i < SINK_BATCH; i++) {
		riov[i] = (struct iovec){ rbuf[i], SINK_MAX };
		memset(&rm[i], 0, sizeof(rm[i]));
		rm[i].msg_hdr.msg_iov = &riov[i];
		rm[i].msg_hdr.msg_iovlen = 1;
		rm[i].msg_hdr.msg_name = &from[i];
	}
	t0 = now_s();
	end = t0 + secs;
	tick = t0 + 1;
	while (now_s() < end) {
		struct pollfd p = { fd, POLLIN, 0 };
		int n, ns = 0;

		if (poll(&p, 1, 100) <= 0)
			goto next;
		for (int i = 0; i < SINK_BATCH; i++)
			rm[i].msg_hdr.msg_namelen = sizeof(from[i]);
		n = recvmmsg(fd, rm, SINK_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			goto next;
		for (int i = 0; i < n; i++) {
			size_t l;

			if (rm[i].msg_len >= 8 && memcmp(rbuf[i], "SIP/2.0 ", 8) == 0)
				continue;
			if (rm[i].msg_len > mlen &&
			    memcmp(rbuf[i], method, mlen) == 0 &&
			    rbuf[i][mlen] == ' ') {
				if (is_dup(rbuf[i], rm[i].msg_len))
					dups++;
				else
					got++;
			}
			if (quiet)
				continue;
			l = answer(rbuf[i], rm[i].msg_len, sbuf[ns], SINK_MAX);
			if (!l)
				continue;
			siov[ns] = (struct iovec){ sbuf[ns], l };
			memset(&sm[ns], 0, sizeof(sm[ns]));
			sm[ns].msg_hdr.msg_iov = &siov[ns];
			sm[ns].msg_hdr.msg_iovlen = 1;
			sm[ns].msg_hdr.msg_name = &from[i];
			sm[ns].msg_hdr.msg_namelen = rm[i].msg_hdr.msg_namelen;
			ns++;
		}
		if (ns) {
			int r = sendmmsg(fd, sm, (unsigned)ns, 0);

			if (r > 0)
				answered += (unsigned)r;
		}
next:
		if (verbose && now_s() >= tick) {
			printf("sink: %llu\n", got);
			fflush(stdout);
			tick += 1;
		}
	}
	printf("sink: received %llu requests, answered %llu, in %.2f s, %llu duplicates\n",
	       got, answered, now_s() - t0, dups);
	close(fd);
	return 0;
}
