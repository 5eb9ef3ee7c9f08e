/*
 * test_fp_route.c - the route lookup of the kernel relay's next hops
 * (user/fastpath/fp_route.c): loopback answers (interface lo, local),
 * an answer served again from the cache is the same, a source address
 * is part of the question, an address family other than IPv4/IPv6 is
 * refused with -EAFNOSUPPORT and nothing is cached for it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "fastpath/fp_route.h"

static struct sockaddr_storage v4(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	s->sin_family = AF_INET;
	s->sin_port = htons(5060);
	inet_pton(AF_INET, ip, &s->sin_addr);
	return ss;
}

static void test_loopback_and_cache(void **state)
{
	struct sockaddr_storage dst = v4("127.0.0.1"), src = v4("127.0.0.1");
	struct fp_route a, b, c;
	unsigned lo = if_nametoindex("lo");

	(void)state;
	assert_int_equal(fp_route_get(&dst, NULL, &a), 0);
	assert_int_equal(a.ifindex, (int)lo);
	assert_true(a.local);
	/* The second time from the cache: the same answer. */
	assert_int_equal(fp_route_get(&dst, NULL, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	/* With a source address: another question, still lo. */
	assert_int_equal(fp_route_get(&dst, &src, &c), 0);
	assert_int_equal(c.ifindex, (int)lo);
	/* Many questions: the cache replaces entries, answers stay right. */
	for (int i = 1; i < 100; i++) {
		char ip[32];
		struct sockaddr_storage d;
		struct fp_route r;

		snprintf(ip, sizeof(ip), "127.0.%d.%d", i / 50, i % 50 + 1);
		d = v4(ip);
		assert_int_equal(fp_route_get(&d, NULL, &r), 0);
		assert_int_equal(r.ifindex, (int)lo);
		assert_true(r.local);
	}
	assert_int_equal(fp_route_get(&dst, NULL, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void test_bad_family(void **state)
{
	struct sockaddr_storage ss;
	struct fp_route r;

	(void)state;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	memset(&r, 0x5a, sizeof(r));
	assert_int_equal(fp_route_get(&ss, NULL, &r), -EAFNOSUPPORT);
	assert_int_equal(fp_route_get(&ss, NULL, &r), -EAFNOSUPPORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback_and_cache),
		cmocka_unit_test(test_bad_family),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
