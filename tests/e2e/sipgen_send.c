// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sipgen_send.c - the generator's in-dialog requests through a real proxy
 * (tests/e2e/test_xdp_sipgen.sh).
 *
 * Takes a live dialog's identity (Call-ID, caller and callee tags, the
 * cookie's h_entry/h_id, as `sipdlgctl --json list` shows them) and sends
 * COUNT generated in-dialog requests (tests/lib/sipgen.h), both
 * directions, to the proxy, with the proxy's own Route entry (the did
 * cookie) on top.  Each names this program's socket as its Request-URI
 * and its Via, so this program is also the far end: it waits for the
 * proxy to forward each request and answers 200 OK (not to ACK) through
 * the proxy, as the callee or caller would.  Every wait is bounded.
 *
 * stdout, one "key=value" per line, for the script to compare with the
 * kernel's per-dialog counters: sent, received, down/up (requests per
 * direction), replies_down/replies_up (our 200s, by the direction they
 * travel), cseq_max_down/up, and method_<NAME> per fp_rpc method name.
 * A request that did not come back is printed on stderr with its seed.
 *
 * usage: sipgen_send PROXY_IP:PORT LOCAL_IP:PORT CALL-ID CALLER-TAG
 *                    CALLEE-TAG H_ENTRY H_ID SEED COUNT CALLER_CONTACT
 *                    CALLEE_CONTACT
 * The contacts (host:port) go into the Contact of target refreshes, so
 * the call's targets stay those of its real parties.  IPv4 only (the e2e
 * network is).  Three requests in a row not forwarded end the run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>

#include "sipdlg_shared.h"
#include "sip/sip_msg.h"
#include "lib/sipgen.h"

#define WAIT_MS 1000		/* for the forwarded copy of one request */
#define MAX_MISSES 3		/* in a row: the proxy is not forwarding */

static const char *const method_names[SDM_MAX_] = {
	"other", "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO",
	"UPDATE", "PRACK", "REFER", "NOTIFY", "MESSAGE",
};

struct tally {
	unsigned sent, received, replied, dir[2], replies[2];
	unsigned methods[SDM_MAX_];
	uint32_t cseq_max[2];
};

static int parse_addr(const char *s, struct sockaddr_in *sa, char *host,
		      size_t hl)
{
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= hl)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Append "Name: value\r\n" for every header with @id. */
static size_t copy_hdrs(const struct sip_msg *m, enum sip_hdr_id id,
			char *out, size_t at, size_t cap)
{
	const struct sip_hdr *h;
	int n;

	for (h = sip_msg_hdr(m, id); h; h = sip_msg_hdr_next(m, h)) {
		n = snprintf(out + at, cap - at, "%.*s: %.*s\r\n",
			     (int)h->name.len, h->name.p, (int)h->value.len,
			     h->value.p);
		if (n < 0 || (size_t)n >= cap - at)
			return cap;
		at += (size_t)n;
	}
	return at;
}

/* Answer request @m (from @src) with 200 OK, as its UAS would. */
static int answer(int fd, const struct sip_msg *m,
		  const struct sockaddr_in *src)
{
	static const enum sip_hdr_id ids[] = { SIP_HDR_VIA, SIP_HDR_FROM,
					       SIP_HDR_TO, SIP_HDR_CALL_ID,
					       SIP_HDR_CSEQ };
	char out[4096];
	size_t at;
	int n;

	n = snprintf(out, sizeof(out), "SIP/2.0 200 OK\r\n");
	at = (size_t)n;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		at = copy_hdrs(m, ids[i], out, at, sizeof(out));
	if (at >= sizeof(out) - 64)
		return -1;
	at += (size_t)snprintf(out + at, sizeof(out) - at,
			       "Server: sipgen_send\r\nContent-Length: 0\r\n\r\n");
	return sendto(fd, out, at, 0, (const struct sockaddr *)src,
		      sizeof(*src)) == (ssize_t)at ? 0 : -1;
}

/*
 * Read datagrams until the forwarded copy of the request with CSeq
 * @cseq/@method arrives (1) or @ms pass (0).  Every request read is
 * answered (ACK excepted); replies to our own requests are ignored.
 */
static int await(int fd, uint32_t cseq, const char *method, int ms,
		 struct tally *t, const char *caller_tag)
{
	static struct sip_msg m;
	static char buf[65536];
	struct sockaddr_in src;
	socklen_t sl;
	long end = ms_now() + ms;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int found = 0;
	ssize_t n;

	while (!found) {
		long left = end - ms_now();

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return 0;
		sl = sizeof(src);
		n = recvfrom(fd, buf, sizeof(buf) - 1, 0,
			     (struct sockaddr *)&src, &sl);
		if (n <= 0)
			continue;
		if (sip_msg_parse(&m, buf, (size_t)n, SIP_DATAGRAM, NULL) ||
		    !m.is_request)
			continue;
		found = m.cseq.num == cseq &&
			m.method_str.len == strlen(method) &&
			!memcmp(m.method_str.p, method, m.method_str.len);
		if (m.method != SIP_METHOD_ACK && answer(fd, &m, &src) == 0) {
			/* it travels opposite to the request it answers */
			int up = m.from.tag.len == strlen(caller_tag) &&
				 !memcmp(m.from.tag.p, caller_tag,
					 m.from.tag.len);

			t->replied++;
			t->replies[up ? SDD_CALLEE_TO_CALLER
				      : SDD_CALLER_TO_CALLEE]++;
		}
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct sipgen_opts o = { .no_extra_routes = 1, .no_replies = 1,
				 .within_limits = 1, .proxy_port_given = 1,
				 .skip_methods = " BYE CANCEL " };
	static struct sipgen_msg msg;
	struct sockaddr_in proxy, local;
	char phost[64], lhost[64];
	struct sipgen_dlg d;
	struct tally t;
	unsigned long count, i;
	uint64_t seed;
	int fd, m, misses = 0;

	if (argc != 12) {
		fprintf(stderr, "usage: %s PROXY_IP:PORT LOCAL_IP:PORT CALL-ID "
			"CALLER-TAG CALLEE-TAG H_ENTRY H_ID SEED COUNT "
			"CALLER_CONTACT CALLEE_CONTACT\n", argv[0]);
		return 2;
	}
	if (parse_addr(argv[1], &proxy, phost, sizeof(phost)) ||
	    parse_addr(argv[2], &local, lhost, sizeof(lhost))) {
		fprintf(stderr, "bad address\n");
		return 2;
	}
	memset(&d, 0, sizeof(d));
	snprintf(d.callid, sizeof(d.callid), "%s", argv[3]);
	snprintf(d.caller_tag, sizeof(d.caller_tag), "%s", argv[4]);
	snprintf(d.callee_tag, sizeof(d.callee_tag), "%s", argv[5]);
	d.h_entry = (uint32_t)strtoul(argv[6], NULL, 0);
	d.h_id = (uint32_t)strtoul(argv[7], NULL, 0);
	seed = strtoull(argv[8], NULL, 0);
	count = strtoul(argv[9], NULL, 0);
	snprintf(d.caller_user, sizeof(d.caller_user), "caller");
	snprintf(d.callee_user, sizeof(d.callee_user), "callee");
	snprintf(d.caller_host, sizeof(d.caller_host), "%s", lhost);
	snprintf(d.callee_host, sizeof(d.callee_host), "%s", lhost);
	/* our Route entry, once or twice (double record-routing) */
	snprintf(d.proxy_host, sizeof(d.proxy_host), "%s", argv[1]);
	snprintf(d.proxy_host2, sizeof(d.proxy_host2), "%s", argv[1]);
	snprintf(d.rr_param, sizeof(d.rr_param), "did");
	o.sent_by = argv[2];
	o.target = argv[2];
	o.contact[0] = argv[10];
	o.contact[1] = argv[11];

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&local, sizeof(local))) {
		perror("socket/bind");
		return 1;
	}
	memset(&t, 0, sizeof(t));
	for (i = 0; i < count; i++) {
		struct sipgen_rng r;

		sipgen_seed(&r, seed + i);
		if (sipgen_message(&r, &d, &o, &msg))
			continue;
		if (sendto(fd, msg.buf, msg.len, 0, (struct sockaddr *)&proxy,
			   sizeof(proxy)) != (ssize_t)msg.len) {
			perror("sendto");
			return 1;
		}
		t.sent++;
		t.dir[msg.dir]++;
		t.methods[msg.method]++;
		if (msg.cseq > t.cseq_max[msg.dir])
			t.cseq_max[msg.dir] = msg.cseq;
		if (await(fd, msg.cseq, msg.method_name, WAIT_MS, &t,
			  d.caller_tag)) {
			t.received++;
			misses = 0;
			continue;
		}
		fprintf(stderr, "not forwarded: seed %llu [%s]\n%s\n",
			(unsigned long long)(seed + i), msg.shape, msg.buf);
		if (++misses == MAX_MISSES)
			break;
	}
	/* answer late retransmissions for a moment */
	await(fd, 0, "-", 300, &t, d.caller_tag);
	printf("sent=%u\nreceived=%u\nreplied=%u\n", t.sent, t.received,
	       t.replied);
	printf("down=%u\nup=%u\nreplies_down=%u\nreplies_up=%u\n", t.dir[0],
	       t.dir[1], t.replies[0], t.replies[1]);
	printf("cseq_max_down=%u\ncseq_max_up=%u\n", t.cseq_max[0],
	       t.cseq_max[1]);
	for (m = 0; m < SDM_MAX_; m++)
		printf("method_%s=%u\n", method_names[m], t.methods[m]);
	close(fd);
	return t.received == t.sent ? 0 : 1;
}
