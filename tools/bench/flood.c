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
 * Usage: flood -d ADDR:PORT -r PER_SEC -t SECS [-m BYE|INFO] [-p rr_param]
 *              [-s HASH_SIZE] [-u RURI_HOSTPORT] [-n POOL] [-S SEED]
 * Prints one line at the end:
 *   flood: sent N in T s = R/s (target X/s), E send errors
 * Exit status 0, 1 on bad arguments, 2 when no socket could be made.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FLOOD_PKT_MAX 1024
#define FLOOD_BATCH 64

struct flood_opts {
	struct sockaddr_in dst;
	double rate;
	double secs;
	const char *method;
	const char *rr_param;
	const char *ruri;
	unsigned int hash_size;
	unsigned int pool;
	unsigned int seed;
};

static uint64_t flood_rng;

/* xorshift64*: enough randomness for tags and ids, no libc state. */
static uint64_t flood_rand(void)
{
	flood_rng ^= flood_rng >> 12;
	flood_rng ^= flood_rng << 25;
	flood_rng ^= flood_rng >> 27;
	return flood_rng * 0x2545F4914F6CDD1DULL;
}

/* Kamailio's int2reverse_hex: the lowest nibble first, no leading zeros. */
static int flood_rhex(char *out, uint32_t v)
{
	static const char hex[] = "0123456789abcdef";
	int n = 0;

	do {
		out[n++] = hex[v & 0xf];
		v >>= 4;
	} while (v);
	out[n] = '\0';
	return n;
}

static double flood_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* flood_build: packet number i of the pool into buf; returns its length. */
static int flood_build(char *buf, size_t size, const struct flood_opts *o,
		       unsigned int i)
{
	char he[16], hi[16], dst[INET_ADDRSTRLEN];
	uint64_t ft = flood_rand(), tt = flood_rand(), cid = flood_rand();
	int n;

	flood_rhex(he, (uint32_t)(flood_rand() % o->hash_size));
	flood_rhex(hi, (uint32_t)flood_rand() | 1u);
	inet_ntop(AF_INET, &o->dst.sin_addr, dst, sizeof(dst));
	n = snprintf(buf, size,
		     "%s sip:uas@%s SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP %s:15099;rport;branch=z9hG4bK-fl%u-%08x\r\n"
		     "Route: <sip:%s:%u;lr;%s=%s.%s>\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:c%u@%s:15070>;tag=%016llx\r\n"
		     "To: <sip:service@%s:%u>;tag=%016llx\r\n"
		     "Call-ID: fl-%016llx@%s\r\n"
		     "CSeq: 2 %s\r\n"
		     "Content-Length: 0\r\n\r\n",
		     o->method, o->ruri, dst, i, (unsigned int)flood_rand(),
		     dst, ntohs(o->dst.sin_port), o->rr_param, he, hi,
		     i, dst, (unsigned long long)ft,
		     dst, ntohs(o->dst.sin_port), (unsigned long long)tt,
		     (unsigned long long)cid, dst, o->method);
	return (n > 0 && (size_t)n < size) ? n : -1;
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
		"[-p rr_param] [-s HASH_SIZE] [-u RURI_HOSTPORT] [-n POOL] [-S SEED]\n");
}

int main(int argc, char **argv)
{
	struct flood_opts o = {
		.rate = 1000, .secs = 5, .method = "BYE", .rr_param = "did",
		.ruri = "127.0.0.1:15080", .hash_size = 4096, .pool = 4096,
	};
	struct mmsghdr msgs[FLOOD_BATCH];
	struct iovec iovs[FLOOD_BATCH];
	unsigned long long sent = 0, errs = 0;
	double t0, t, end;
	char *pool = NULL;
	int *lens = NULL;
	int have_dst = 0, c, fd, ret = 0;
	unsigned int i, next = 0;

	while ((c = getopt(argc, argv, "d:r:t:m:p:s:u:n:S:")) != -1) {
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
		default: flood_usage(); return 1;
		}
	}
	if (!have_dst || o.rate <= 0 || o.secs <= 0 || !o.hash_size || !o.pool) {
		flood_usage();
		return 1;
	}
	flood_rng = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)(o.seed ? o.seed : (unsigned int)getpid()) << 17);

	pool = malloc((size_t)o.pool * FLOOD_PKT_MAX);
	lens = calloc(o.pool, sizeof(*lens));
	if (!pool || !lens) {
		fprintf(stderr, "flood: out of memory\n");
		ret = 2;
		goto cleanup;
	}
	for (i = 0; i < o.pool; i++) {
		lens[i] = flood_build(pool + (size_t)i * FLOOD_PKT_MAX, FLOOD_PKT_MAX, &o, i);
		if (lens[i] < 0) {
			fprintf(stderr, "flood: packet too long\n");
			ret = 1;
			goto cleanup;
		}
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("flood: socket");
		ret = 2;
		goto cleanup;
	}
	{
		int sz = 4 << 20;

		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < FLOOD_BATCH; i++) {
		msgs[i].msg_hdr.msg_name = &o.dst;
		msgs[i].msg_hdr.msg_namelen = sizeof(o.dst);
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
		n = (due - sent > FLOOD_BATCH) ? FLOOD_BATCH : (unsigned int)(due - sent);
		for (i = 0; i < n; i++) {
			iovs[i].iov_base = pool + (size_t)next * FLOOD_PKT_MAX;
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
	}
	t = flood_now() - t0;
	printf("flood: sent %llu in %.2f s = %.0f/s (target %.0f/s), %llu send errors\n",
	       sent, t, t > 0 ? (double)sent / t : 0.0, o.rate, errs);
	close(fd);
cleanup:
	free(lens);
	free(pool);
	return ret;
}
