/*
 * dlg_mem.c - where the bytes of a confirmed dialog go, without a network:
 * N calls as bench-mem's sipp scenario makes them (the same INVITE, 200
 * with our Record-Route echoed, ACK), parsed by the real parser and driven
 * through the dialog core as the proxy drives it (dlg_manage, profiles
 * caller=$fU and inbound, the 2xx, the ACK).  Prints the heap in use
 * (mallinfo2 uordblks) and RSS per dialog, and a breakdown of one cell's
 * allocations by malloc_usable_size.
 *
 *   make build/tools/dlg_mem && build/tools/dlg_mem [N]
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/timer.h"
#include "dialog/dlg.h"
#include "dialog/dlg_int.h"
#include "sip/sip_msg.h"
#include "tm/tm.h"

/*
 * With "tx" as second argument each call also allocates what its set-up
 * transactions hold (the tx, copies of the request, the forwarded request
 * and the last reply, two table entries), kept in a FIFO of @TX_LIVE calls
 * as a proxy holds them for a few seconds, then freed: the heap layout a
 * daemon gets, to see the fragmentation they leave.
 */
#define TX_LIVE 8000
static const size_t tx_sizes[] = { sizeof(struct tm_tx), 620, 700, 560,
				   24, 24, sizeof(struct tm_tx), 380, 420,
				   400, 24, 24 };
#define TX_N (sizeof(tx_sizes) / sizeof(tx_sizes[0]))
static void *tx_fifo[TX_LIVE][TX_N];

static long rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

static int parse(struct sip_msg *m, const char *buf, size_t len)
{
	size_t used;

	return sip_msg_parse(m, buf, len, SIP_DATAGRAM, &used);
}

/* One call of mem_uac.xml / mem_uas.xml; returns the dialog, referenced
 * by the table only (as after the transactions ended). */
static struct dlg_cell *one_call(struct dlg_table *t, unsigned i)
{
	static const char *const sock = "udp:127.0.0.1:15060";
	char inv_buf[1024], rsp_buf[1024], ack_buf[1024], rs[512], cookie[64];
	char user[32];
	struct sip_msg m;
	struct dlg_invite inv;
	struct dlg_reply r;
	struct dlg_req rq;
	struct dlg_cell *c, *mc;
	enum dlg_dir dir;
	unsigned pid = 41234;
	int n;

	n = snprintf(inv_buf, sizeof(inv_buf),
		     "INVITE sip:service@127.0.0.1:15060 SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 127.0.0.1:15070;rport;branch=z9hG4bK-%u-%u-0\r\n"
		     "From: <sip:c%u@127.0.0.1:15070>;tag=%uT%u\r\n"
		     "To: <sip:service@127.0.0.1:15060>\r\n"
		     "Call-ID: %u-%u@127.0.0.1\r\n"
		     "CSeq: 1 INVITE\r\n"
		     "Contact: <sip:c%u@127.0.0.1:15070>\r\n"
		     "Max-Forwards: 70\r\n"
		     "Content-Length: 0\r\n\r\n",
		     pid, i, i, pid, i, i, pid, i);
	if (parse(&m, inv_buf, (size_t)n) != 0 ||
	    dlg_invite_from_msg(&inv, &m, rs, sizeof(rs)) != 0)
		abort();
	inv.socket = sip_str_c(sock);
	if (dlg_manage(t, &inv, NULL, &c) != DLG_RC_CREATED)
		abort();
	dlg_cookie_param(c, cookie, sizeof(cookie));
	snprintf(user, sizeof(user), "c%u", i);
	dlg_profile_set(c, dlg_profile_lookup(t, sip_str_c("caller")),
			sip_str_c(user));
	dlg_profile_set(c, dlg_profile_lookup(t, sip_str_c("inbound")),
			SIP_STR_NULL);

	n = snprintf(rsp_buf, sizeof(rsp_buf),
		     "SIP/2.0 200 OK\r\n"
		     "Via: SIP/2.0/UDP 127.0.0.1:15060;branch=z9hG4bKsd%u\r\n"
		     "Via: SIP/2.0/UDP 127.0.0.1:15070;rport=15070;branch=z9hG4bK-%u-%u-0\r\n"
		     "Record-Route: <sip:127.0.0.1:15060;lr%s>\r\n"
		     "From: <sip:c%u@127.0.0.1:15070>;tag=%uT%u\r\n"
		     "To: <sip:service@127.0.0.1:15060>;tag=%uU%u\r\n"
		     "Call-ID: %u-%u@127.0.0.1\r\n"
		     "CSeq: 1 INVITE\r\n"
		     "Contact: <sip:uas@127.0.0.1:15080>\r\n"
		     "Content-Length: 0\r\n\r\n",
		     i, pid, i, cookie, i, pid, i, pid, i, i, pid);
	if (parse(&m, rsp_buf, (size_t)n) != 0 ||
	    dlg_reply_from_msg(&r, &m, c, 1, rs, sizeof(rs)) != 0)
		abort();
	r.socket = sip_str_c(sock);
	dlg_on_reply(c, &r);

	n = snprintf(ack_buf, sizeof(ack_buf),
		     "ACK sip:uas@127.0.0.1:15080 SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 127.0.0.1:15070;rport;branch=z9hG4bK-%u-%u-1\r\n"
		     "Route: <sip:127.0.0.1:15060;lr%s>\r\n"
		     "From: <sip:c%u@127.0.0.1:15070>;tag=%uT%u\r\n"
		     "To: <sip:service@127.0.0.1:15060>;tag=%uU%u\r\n"
		     "Call-ID: %u-%u@127.0.0.1\r\n"
		     "CSeq: 1 ACK\r\n"
		     "Content-Length: 0\r\n\r\n",
		     pid, i, cookie, i, pid, i, pid, i, i, pid);
	if (parse(&m, ack_buf, (size_t)n) != 0)
		abort();
	{
		const char *d = strstr(cookie, "=");

		dlg_req_from_msg(&rq, &m, sip_str_c(d + 1));
	}
	if (dlg_match(t, &rq, DLG_MATCH_CFG, &mc, &dir) != 0)
		abort();
	dlg_on_request(mc, dir, &rq);
	dlg_unref(mc);
	if (dlg_state(c) != DLG_STATE_CONFIRMED)
		abort();
	dlg_unref(c);
	return c;
}

int main(int argc, char **argv)
{
	static const char *const wv[] = { "caller" };
	static const char *const nv[] = { "inbound" };
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 100000;
	struct tmr_service *ts = tmr_service_alloc();
	struct dlg_config cfg;
	struct dlg_table *t;
	struct dlg_cell *c = NULL;
	struct mallinfo2 a, b;
	long r0, r1;

	memset(&cfg, 0, sizeof(cfg));
	cfg.hash_size = 4096;
	cfg.rr_param = "did";
	cfg.default_timeout_ms = 43200ull * 1000;
	cfg.profiles_with_value = wv;
	cfg.n_profiles_with_value = 1;
	cfg.profiles_no_value = nv;
	cfg.n_profiles_no_value = 1;
	if (tmr_service_start(ts) || dlg_table_alloc(&cfg, ts, NULL, &t))
		return 1;

	a = mallinfo2();
	r0 = rss_kb();
	for (unsigned i = 1; i <= n; i++) {
		if (argc > 2) {
			void **slot = tx_fifo[i % TX_LIVE];

			for (size_t k = 0; k < TX_N; k++) {
				free(slot[k]);
				slot[k] = malloc(tx_sizes[k]);
				memset(slot[k], 1, tx_sizes[k]);
			}
		}
		c = one_call(t, i);
	}
	for (unsigned i = 0; argc > 2 && i < TX_LIVE; i++)
		for (size_t k = 0; k < TX_N; k++) {
			free(tx_fifo[i][k]);
			tx_fifo[i][k] = NULL;
		}
	b = mallinfo2();
	r1 = rss_kb();
	if (argc > 2) {
		printf("RSS per dialog before malloc_trim: %.1f B\n",
		       (double)(r1 - r0) * 1024 / n);
		malloc_trim(0);
		r1 = rss_kb();
	}

	printf("dialogs: %u\n", n);
	printf("heap in use per dialog (uordblks): %.1f B\n",
	       (double)(b.uordblks - a.uordblks) / n);
	printf("heap arena+mmap per dialog:        %.1f B\n",
	       (double)((b.arena + b.hblkhd) - (a.arena + a.hblkhd)) / n);
	printf("RSS per dialog:                    %.1f B\n",
	       (double)(r1 - r0) * 1024 / n);
	printf("\none cell (bytes taken from dlg_mem.c's 8-byte classes):\n");
	printf("  sizeof(struct dlg_cell)      %zu\n", sizeof(struct dlg_cell));
	printf("  cell + caller strings        %zu\n",
	       (sizeof(struct dlg_cell) + c->data_len + 7) / 8 * 8);
	printf("  callee block                 %zu\n",
	       (size_t)(c->callee_len + 7) / 8 * 8);
	{
		size_t k = 0;

		for (struct dlg_pmember *m = c->members; m;
		     m = *(struct dlg_pmember **)m)
			k++;
		printf("  profile memberships          %zu x 40\n", k);
	}
	printf("  ext (rare parts)             %s\n", c->ext ? "yes" : "none");
	printf("  timer heap slot              %zu\n", sizeof(void *));
	fflush(stdout);
	tmr_service_free(ts);
	dlg_table_free(t);
	return 0;
}
