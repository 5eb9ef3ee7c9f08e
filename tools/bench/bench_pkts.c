// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_pkts.c - the XDP measurements' frames and dialog (bench_pkts.h).
 *
 * The in-dialog BYE is ~800 bytes of SIP: two Vias, the Route, Max-Forwards,
 * From, To, Call-ID, CSeq in the usual order, then the usual tail of a
 * real UA's BYE (User-Agent, Allow, Supported, Reason,
 * P-Asserted-Identity, ...).  A scan that stops at CSeq reads about half.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/types.h>
#include <bpf/bpf.h>

#include "sipdlg_shared.h"
#include "sipdlg_hash.h"
#include "bench_pkts.h"

#define CRLF "\r\n"
#define VIAS                                                                  \
	"Via: SIP/2.0/UDP 198.51.100.7:5060;rport;branch=z9hG4bK-524287-1---77b0e1fa16c1a4c4" CRLF \
	"Via: SIP/2.0/UDP 192.0.2.1:5070;received=192.0.2.1;rport=5070;branch=z9hG4bK-d8754z-a4c1b2f3e4d5" CRLF
#define DIALOG_HDRS                                                           \
	"Max-Forwards: 69" CRLF                                               \
	"From: \"Alice Liddell\" <sip:alice@atlanta.example.com>;tag=1928301774" CRLF \
	"To: \"Bob Builder\" <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF  \
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
#define TAIL                                                                  \
	"User-Agent: ExamplePhone/4.2.1 (build 20231005; linux-x86_64)" CRLF \
	"Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE, UPDATE, PRACK" CRLF \
	"Supported: replaces, timer, path, outbound, gruu" CRLF             \
	"Reason: Q.850;cause=16;text=\"Normal call clearing\"" CRLF          \
	"P-Asserted-Identity: \"Alice Liddell\" <sip:alice@atlanta.example.com>" CRLF \
	"X-Billing-Ref: 7f3c2a91-0b44-4e7e-9d0f-5c1e2b3a4d5e" CRLF          \
	"Content-Length: 0" CRLF CRLF

const char bench_bye[] =
	"BYE sip:bob@192.0.2.4:5060;transport=udp SIP/2.0" CRLF VIAS
	"Route: <sip:192.0.2.2;lr;ftag=1928301774;did=596.d052>" CRLF
	DIALOG_HDRS "CSeq: 231 BYE" CRLF TAIL;

static const char bye_last[] =
	"BYE sip:bob@192.0.2.4:5060;transport=udp SIP/2.0" CRLF VIAS
	"Route: <sip:edge1.example.net;lr;r2=on>" CRLF
	"Route: <sip:edge1.example.net:5061;transport=tls;lr;r2=on>" CRLF
	"Route: <sip:core.example.net;lr>" CRLF
	"Route: <sip:192.0.2.2;lr;ftag=1928301774;did=596.d052>" CRLF
	DIALOG_HDRS "CSeq: 231 BYE" CRLF TAIL;

static const char bye_unknown[] =
	"BYE sip:bob@192.0.2.4:5060;transport=udp SIP/2.0" CRLF VIAS
	"Route: <sip:192.0.2.2;lr;ftag=1928301774;did=e1f.77a3>" CRLF
	DIALOG_HDRS "CSeq: 231 BYE" CRLF TAIL;

/* {DM} is replaced by the MAC; the scan skips the Call-ID line */
static const char bye_mac[] =
	"BYE sip:bob@192.0.2.4:5060;transport=udp SIP/2.0" CRLF VIAS
	"Route: <sip:192.0.2.2;lr;ftag=1928301774;did=596.d052;dm={DM}>" CRLF
	DIALOG_HDRS "CSeq: 231 BYE" CRLF TAIL;

static const char reply_200[] =
	"SIP/2.0 200 OK" CRLF
	"Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKsd596.d052.0a3f17" CRLF VIAS
	"From: \"Alice Liddell\" <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
	"To: \"Bob Builder\" <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
	"CSeq: 231 BYE" CRLF
	"Server: ExamplePhone/4.2.1" CRLF "Content-Length: 0" CRLF CRLF;

static const char invite[] =
	"INVITE sip:bob@biloxi.example.com SIP/2.0" CRLF
	"Via: SIP/2.0/UDP 192.0.2.1:5070;rport;branch=z9hG4bK-d8754z-77a1c2" CRLF
	"Max-Forwards: 70" CRLF
	"From: \"Alice Liddell\" <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
	"To: <sip:bob@biloxi.example.com>" CRLF
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
	"CSeq: 1 INVITE" CRLF
	"Contact: <sip:alice@192.0.2.1:5070;transport=udp>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>\"" CRLF
	"Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE, UPDATE, PRACK" CRLF
	"Supported: replaces, timer, 100rel" CRLF
	"User-Agent: ExamplePhone/4.2.1 (build 20231005; linux-x86_64)" CRLF
	"Content-Type: application/sdp" CRLF
	"Content-Length: 245" CRLF CRLF
	"v=0" CRLF "o=alice 2890844526 2890844526 IN IP4 192.0.2.1" CRLF "s=-" CRLF
	"c=IN IP4 192.0.2.1" CRLF "t=0 0" CRLF "m=audio 49170 RTP/AVP 0 8 101" CRLF
	"a=rtpmap:0 PCMU/8000" CRLF "a=rtpmap:8 PCMA/8000" CRLF
	"a=rtpmap:101 telephone-event/8000" CRLF "a=fmtp:101 0-16" CRLF "a=sendrecv" CRLF;

/*
 * Relayed by the kernel (relay on, INFO in relay_methods): an INFO from
 * the caller with our Route on top, and a reply carrying our relay Via
 * (bpf/sip_relay.h) on top.
 */
static const char relay_info[] =
	"INFO sip:bob@192.0.2.4:5060;transport=udp SIP/2.0" CRLF
	"Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK-d8754z-a4c1b2f3e4d5" CRLF
	"Max-Forwards: 70" CRLF
	"Route: <sip:192.0.2.2;lr;did=596.d052>" CRLF
	"From: \"Alice Liddell\" <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
	"To: \"Bob Builder\" <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
	"CSeq: 232 INFO" CRLF
	"User-Agent: ExamplePhone/4.2.1 (build 20231005; linux-x86_64)" CRLF
	"Content-Type: application/dtmf-relay" CRLF "Content-Length: 24" CRLF CRLF
	"Signal=1\r\nDuration=160\r\n";

static const char relay_reply[] =
	"SIP/2.0 200 OK" CRLF
	"Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKsd596.d052.0k0123456789abcdef" CRLF
	"Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK-d8754z-a4c1b2f3e4d5" CRLF
	"From: \"Alice Liddell\" <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
	"To: \"Bob Builder\" <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF
	"Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
	"CSeq: 232 INFO" CRLF
	"Server: ExamplePhone/4.2.1" CRLF "Content-Length: 0" CRLF CRLF;

const struct bench_row bench_rows[] = {
	{ "floor (trivial XDP_PASS)", NULL, 0, 1, 0, 0, 53, 0 },
	{ "non-SIP UDP (port 53)", NULL, 0, 0, 0, 0, 53, 0 },
	{ "non-SIP UDP, VLAN-tagged", NULL, 0, 0, 0, 1, 53, 0 },
	{ "non-SIP UDP, IPv6", NULL, 0, 0, 1, 0, 53, 0 },
	{ "initial INVITE, no cookie", invite, 0, 0, 0, 0, BENCH_SIP_PORT, 0 },
	{ "in-dialog BYE, cookie in 1st Route", bench_bye, 0, 0, 0, 0,
	  BENCH_SIP_PORT, 0 },
	{ "in-dialog BYE, cookie in 4th Route", bye_last, 0, 0, 0, 0,
	  BENCH_SIP_PORT, 0 },
	{ "unknown cookie", bye_unknown, 0, 0, 0, 0, BENCH_SIP_PORT, 0 },
	{ "reply within a dialog (200 OK)", reply_200, 0, 0, 0, 0,
	  BENCH_SIP_PORT, 0 },
	{ "MAC on, Call-ID not read", bye_mac, 1, 0, 0, 0, BENCH_SIP_PORT, 0 },
	{ "relayed request (INFO)", relay_info, 0, 0, 0, 0, BENCH_SIP_PORT,
	  1 },
	{ "relayed reply (200 OK)", relay_reply, 0, 0, 0, 0, BENCH_SIP_PORT,
	  1 },
};
const size_t bench_nrows = sizeof(bench_rows) / sizeof(bench_rows[0]);

size_t bench_payload(const char *sip, char *out, size_t outlen)
{
	char dm[SIPDLG_MAC_HEX_LEN + 1] = { 0 }, *at;
	size_t n;

	snprintf(out, outlen, "%s", sip);
	at = strstr(out, "{DM}");
	n = strlen(out);
	if (at && n + SIPDLG_MAC_HEX_LEN - 4 < outlen) {
		sipdlg_mac_hex(sipdlg_dlg_mac(BENCH_MAC_K0, BENCH_MAC_K1, 1685,
					      9485), dm);
		memmove(at + SIPDLG_MAC_HEX_LEN, at + 4, strlen(at + 4) + 1);
		memcpy(at, dm, SIPDLG_MAC_HEX_LEN);
		n += SIPDLG_MAC_HEX_LEN - 4;
	}
	return n;
}

int bench_frame(const struct bench_row *r, struct pkt *p)
{
	static const char dns[64] = { 0x12, 0x34, 1, 0, 0, 1 };
	struct pkt_sip_opts o = { .ipv6 = r->ipv6, .vlans = r->vlans,
				  .dport = r->dport };
	char sip[PKT_MAX];

	if (!r->sip)
		return pkt_sip(p, &o, dns, sizeof(dns));
	return pkt_sip(p, &o, sip, bench_payload(r->sip, sip, sizeof(sip)));
}

int bench_put_dialog(int fd)
{
	static const char cid[] = "a84b4c76e66710@pc33.atlanta.example.com";
	struct sipdlg_dlg_key k = { 1685, 9485 };
	struct sipdlg_dlg_value v;

	memset(&v, 0, sizeof(v));
	v.callid_hash = sipdlg_hash_bytes(cid, sizeof(cid) - 1);
	v.caller_tag_hash = sipdlg_hash_bytes("1928301774", 10);
	v.callee_tag_hash = sipdlg_hash_bytes("a6c85cf", 7);
	v.state = 4;
	return bpf_map_update_elem(fd, &k, &v, BPF_ANY) ? -errno : 0;
}

static void relay_hop(struct sipdlg_relay_hop *h, uint8_t peer,
		      uint16_t dport, unsigned ifindex)
{
	memset(h, 0, sizeof(*h));
	h->family = 4;
	memcpy(h->daddr, (uint8_t[4]){ 192, 0, 2, peer }, 4);
	memcpy(h->saddr, (uint8_t[4]){ 192, 0, 2, 2 }, 4);
	h->dport = dport;
	h->sport = 5060;
	h->nroutes = 1;
	h->ifindex = ifindex;
	h->sentby_len = 9;
	memcpy(h->sentby, "192.0.2.2", 9);
}

int bench_put_relay_hops(int fd, unsigned ifindex)
{
	struct sipdlg_dlg_key k = { 1685, 9485 };
	struct sipdlg_relay_hops h;

	memset(&h, 0, sizeof(h));
	relay_hop(&h.dir[0], 4, 5060, ifindex); /* caller -> callee */
	relay_hop(&h.dir[1], 1, 5070, ifindex); /* callee -> caller */
	return bpf_map_update_elem(fd, &k, &h, BPF_ANY) ? -errno : 0;
}
