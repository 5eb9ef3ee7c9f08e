/*
 * px_no_tls.c - a request whose next hop is TLS (sips: or
 * ;transport=tls) while the box has no tls: listen entry of the next
 * hop's address family: counted in sip.rejected_503_no_tls and logged
 * at most once every 10 s with the number since the last line.
 */
#define LOG_TAG "proxy"

#include <sys/socket.h>

#include "core/log.h"
#include "core/stats.h"
#include "core/timer.h"
#include "proxy/px_internal.h"

#define NO_TLS_LOG_MS 10000u

void px_no_tls_note(struct proxy *px, int family)
{
	unsigned long long now = tmr_now_ms(), last, n;

	stat_inc(px->s.rej_no_tls);
	n = atomic_fetch_add(&px->no_tls_since, 1) + 1;
	last = atomic_load(&px->no_tls_logged_ms);
	if (last && now - last < NO_TLS_LOG_MS)
		return;
	if (!atomic_compare_exchange_strong(&px->no_tls_logged_ms, &last, now))
		return;		/* another thread logs this period */
	atomic_fetch_sub(&px->no_tls_since, n);
	log_warn("a TLS next hop (sips: or transport=tls) over %s, but no "
		 "tls: listen entry of that family: %llu request(s) answered "
		 "503 since the last line",
		 family == AF_INET6 ? "IPv6" : "IPv4", n);
}
