/*
 * gen_rows.c - SQL for `make bench-restore`: N confirmed dialogs (state 4)
 * in Kamailio 5.6's `dialog` table, as Kamailio writes them, with
 * hash_entry = core_hash(Call-ID) & (hash_size - 1) computed by sipdlg's
 * own dlg_core_hash (user/dialog/dlg_id.c, linked from build/libsipdlg.a).
 *
 *   gen_rows N HASH_SIZE PROXY_PORT UAC_PORT UAS_PORT [BATCH] | mariadb ...
 *
 * Distinct Call-IDs bench-restore-<i>@127.0.0.1, hash_id i (1..N), start
 * one minute ago, timeout one hour ahead, the profiles caller (value
 * u<i % 1000>) and inbound in xdata.  Multi-row INSERTs of BATCH rows
 * (default 2000) inside one transaction.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dialog/dlg.h"

int main(int argc, char **argv)
{
	unsigned long n, hs, batch = 2000, i;
	unsigned pp, cp, up;
	long now = (long)time(NULL);
	char cid[64];

	if (argc < 6) {
		fprintf(stderr, "usage: %s N HASH_SIZE PROXY_PORT UAC_PORT "
				"UAS_PORT [BATCH]\n", argv[0]);
		return 64;
	}
	n = strtoul(argv[1], NULL, 10);
	hs = strtoul(argv[2], NULL, 10);
	pp = (unsigned)strtoul(argv[3], NULL, 10);
	cp = (unsigned)strtoul(argv[4], NULL, 10);
	up = (unsigned)strtoul(argv[5], NULL, 10);
	if (argc > 6)
		batch = strtoul(argv[6], NULL, 10);
	if (!hs || (hs & (hs - 1)) || !batch) {
		fprintf(stderr, "gen_rows: HASH_SIZE must be a power of two, "
				"BATCH > 0\n");
		return 64;
	}
	printf("SET autocommit=0;\n");
	for (i = 1; i <= n; i++) {
		int len = snprintf(cid, sizeof(cid),
				   "bench-restore-%lu@127.0.0.1", i);
		uint32_t he = dlg_core_hash(cid, (size_t)len) &
			      (uint32_t)(hs - 1);

		if ((i - 1) % batch == 0)
			printf("INSERT INTO dialog (hash_entry,hash_id,callid,"
			       "from_uri,from_tag,to_uri,to_tag,caller_cseq,"
			       "callee_cseq,caller_route_set,callee_route_set,"
			       "caller_contact,callee_contact,caller_sock,"
			       "callee_sock,state,start_time,timeout,sflags,"
			       "iflags,toroute_name,req_uri,xdata) VALUES\n");
		printf("(%u,%lu,'%s','sip:u%lu@127.0.0.1','f%lu',"
		       "'sip:bob@127.0.0.1','t%lu','1','0',NULL,NULL,"
		       "'sip:u%lu@127.0.0.1:%u','sip:uas@127.0.0.1:%u',"
		       "'udp:127.0.0.1:%u','udp:127.0.0.1:%u',4,%ld,%ld,0,0,"
		       "NULL,'sip:bob@127.0.0.1:%u',"
		       "'{\"profiles\":[{\"name\":\"caller\",\"value\":\"u%lu\","
		       "\"puid\":\"dlgp-bench-%lu-1\"},{\"name\":\"inbound\","
		       "\"puid\":\"dlgp-bench-%lu-2\"}]}')%s\n",
		       he, i, cid, i % 1000, i, i, i % 1000, cp, up, pp, pp,
		       now - 60, now + 3600, pp, i % 1000, i, i,
		       (i % batch == 0 || i == n) ? ";" : ",");
	}
	printf("COMMIT;\n");
	return 0;
}
