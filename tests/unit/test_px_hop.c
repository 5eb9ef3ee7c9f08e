/*
 * test_px_hop.c - proxy_hop_resolve(), the kernel relay's next hop of one
 * direction: the first Route entry, else the target; our socket and Via
 * sent-by (advertise:); everything a packet rewrite cannot reach (names,
 * TCP, sips:, maddr, strict routers, us) refused with its own error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/stats.h"
#include "proxy/proxy.h"

struct fix {
	struct sipdlg_config *cfg;
	struct stats *st;
	struct proxy *px;
};

static struct fix make(const char *yaml)
{
	struct fix f = { 0 };
	char err[256];

	assert_int_equal(cfg_load_string("t.yaml", yaml, strlen(yaml), stderr,
					 &f.cfg), 0);
	f.st = stats_alloc();
	assert_int_equal(proxy_alloc(f.cfg, f.st, &f.px, err, sizeof(err)), 0);
	return f;
}

static void unmake(struct fix *f)
{
	proxy_free(f->px);
	stats_free(f->st);
	cfg_free(f->cfg);
}

static const char *dst_str(const struct proxy_hop *h, char *buf, size_t cap)
{
	char ip[64];
	const struct sockaddr_in6 *s6 = (const void *)&h->dst;
	const struct sockaddr_in *s4 = (const void *)&h->dst;

	if (h->dst.ss_family == AF_INET6)
		snprintf(buf, cap, "[%s]:%u",
			 inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip)),
			 ntohs(s6->sin6_port));
	else
		snprintf(buf, cap, "%s:%u",
			 inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip)),
			 ntohs(s4->sin_port));
	return buf;
}

static const char *YAML =
	"listen: [\"udp:10.0.0.1:5060\", \"udp:[fd00::1]:5070\", "
	"\"tcp:10.0.0.1:5060\"]\n"
	"xdp: { enabled: false }\n";

static void test_target_and_route(void **state)
{
	struct fix f = make(YAML);
	struct proxy_hop h;
	char b[80];

	(void)state;
	/* no route set: the remote target, port 5060 by default */
	assert_int_equal(proxy_hop_resolve(f.px, "", "sip:bob@192.0.2.7",
					   "udp:10.0.0.1:5060", &h), 0);
	assert_string_equal(dst_str(&h, b, sizeof(b)), "192.0.2.7:5060");
	assert_string_equal(h.sentby, "10.0.0.1:5060");
	assert_int_equal(h.sentby_len, 13);
	assert_int_equal(h.sport, 5060);
	assert_int_equal(h.local_idx, 0);
	/* a route set: its first entry, not the target */
	assert_int_equal(proxy_hop_resolve(f.px,
					   "<sip:192.0.2.9:5080;lr>,<sip:p2;lr>",
					   "sip:bob@192.0.2.7", NULL, &h), 0);
	assert_string_equal(dst_str(&h, b, sizeof(b)), "192.0.2.9:5080");
	/* IPv6: the IPv6 socket */
	assert_int_equal(proxy_hop_resolve(f.px, NULL,
					   "sip:bob@[fd00::7]:5062;transport=udp",
					   "udp:10.0.0.1:5060", &h), 0);
	assert_string_equal(dst_str(&h, b, sizeof(b)), "[fd00::7]:5062");
	assert_string_equal(h.sentby, "[fd00::1]:5070");
	assert_int_equal(h.sport, 5070);
	unmake(&f);
}

static void test_refused(void **state)
{
	struct fix f = make(YAML);
	struct proxy_hop h;

	(void)state;
	assert_int_equal(proxy_hop_resolve(f.px, NULL, "sip:bob@example.com",
					   NULL, &h), -EHOSTUNREACH);
	assert_int_equal(proxy_hop_resolve(f.px, NULL,
					   "sip:bob@192.0.2.7;transport=tcp",
					   NULL, &h), -EPROTONOSUPPORT);
	assert_int_equal(proxy_hop_resolve(f.px, NULL, "sips:bob@192.0.2.7",
					   NULL, &h), -EPROTONOSUPPORT);
	assert_int_equal(proxy_hop_resolve(f.px, NULL,
					   "sip:bob@192.0.2.7;maddr=192.0.2.8",
					   NULL, &h), -EPROTONOSUPPORT);
	/* a strict router as the next hop */
	assert_int_equal(proxy_hop_resolve(f.px, "<sip:192.0.2.9>",
					   "sip:bob@192.0.2.7", NULL, &h),
			 -EPROTONOSUPPORT);
	/* our own entry in the set (a spiral), or a target that is us */
	assert_int_equal(proxy_hop_resolve(f.px, "<sip:10.0.0.1:5060;lr>",
					   "sip:bob@192.0.2.7", NULL, &h),
			 -ELOOP);
	assert_int_equal(proxy_hop_resolve(f.px, NULL, "sip:10.0.0.1:5060",
					   NULL, &h), -ELOOP);
	assert_int_equal(proxy_hop_resolve(f.px, NULL, "", NULL, &h), -EINVAL);
	assert_int_equal(proxy_hop_resolve(f.px, NULL, "not a uri", NULL, &h),
			 -EINVAL);
	unmake(&f);
	/* no UDP socket of the target's family */
	f = make("listen: [\"udp:10.0.0.1:5060\"]\nxdp: { enabled: false }\n");
	assert_int_equal(proxy_hop_resolve(f.px, NULL, "sip:bob@[fd00::7]",
					   NULL, &h), -ENOENT);
	unmake(&f);
}

static void test_advertise(void **state)
{
	struct fix f = make("listen: [\"udp:10.0.0.1:5060\"]\n"
			    "advertise: \"sbc.example.com:5080\"\n"
			    "xdp: { enabled: false }\n");
	struct proxy_hop h;

	(void)state;
	assert_int_equal(proxy_hop_resolve(f.px, NULL, "sip:bob@192.0.2.7",
					   NULL, &h), 0);
	assert_string_equal(h.sentby, "sbc.example.com:5080");
	assert_int_equal(h.sport, 5060);
	unmake(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_and_route),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_advertise),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
