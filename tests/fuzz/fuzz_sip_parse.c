// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_sip_parse.c - libFuzzer target for the SIP parser (user/sip/).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Iuser \
 *         tests/fuzz/fuzz_sip_parse.c user/sip/sip_*.c -o build/fuzz_sip
 *   build/fuzz_sip -max_total_time=180 /tmp/new-corpus tests/fuzz/corpus
 *
 * Each input is parsed as a datagram and as a stream of messages; every
 * parsed message has its R-URI, From/To, Via, Contact, Route and
 * Record-Route values walked and their URIs parsed.  Besides crashes,
 * memory errors and UB, it traps when an invariant breaks: a slice outside
 * the input, consumed beyond the input, an error without a reason, or a
 * stream message whose strict prefix is not "incomplete".
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sip/sip_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *in_lo, *in_hi;

static void check_slice(struct sip_str s)
{
	if (!s.p)
		return;
	if (s.p < in_lo || s.p > in_hi || s.len > (size_t)(in_hi - s.p))
		__builtin_trap();
}

static void use_uri(const char *p, size_t len)
{
	static const char *const names[] = { "lr", "transport", "did",
					     "maddr", "user", "ftag" };
	struct sip_uri u;
	struct sip_str v;

	if (sip_uri_parse(&u, p, len))
		return;
	check_slice(u.user);
	check_slice(u.password);
	check_slice(u.host);
	check_slice(u.params);
	check_slice(u.headers);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (sip_uri_param(&u, names[i], &v) == 0)
			check_slice(v);
	if (sip_uri_header(&u, "subject", &v) == 0)
		check_slice(v);
	if (u.lr != (sip_uri_param(&u, "lr", NULL) == 0))
		__builtin_trap();
}

static void use_addr(const struct sip_nameaddr *na)
{
	struct sip_str v;

	check_slice(na->raw);
	check_slice(na->display);
	check_slice(na->uri);
	check_slice(na->params);
	check_slice(na->tag);
	if (na->uri.p)
		use_uri(na->uri.p, na->uri.len);
	if (sip_param_find(na->params, "expires", &v) == 0)
		check_slice(v);
}

static void use_msg(const struct sip_msg *m)
{
	static const enum sip_hdr_id lists[] = {
		SIP_HDR_CONTACT, SIP_HDR_ROUTE, SIP_HDR_RECORD_ROUTE,
		SIP_HDR_OTHER, SIP_HDR_SUPPORTED,
	};
	struct sip_value_iter it;
	struct sip_nameaddr na;
	struct sip_via via;
	struct sip_str v;
	int r;

	check_slice(m->raw);
	check_slice(m->body);
	check_slice(m->call_id);
	check_slice(m->ruri_str);
	if (m->is_request)
		use_uri(m->ruri_str.p, m->ruri_str.len);
	use_addr(&m->from);
	use_addr(&m->to);
	use_addr(&m->contact);
	use_addr(&m->route);
	use_addr(&m->record_route);
	if (m->body.p && m->body.p + m->body.len > m->raw.p + m->raw.len)
		__builtin_trap();

	sip_value_iter_init(&it, m, SIP_HDR_VIA);
	while ((r = sip_value_next_via(&it, &via)) == 1) {
		check_slice(via.host);
		check_slice(via.branch);
		if (sip_param_find(via.params, "received", &v) == 0)
			check_slice(v);
	}
	if (r != 0)	/* every Via was checked by the parser */
		__builtin_trap();
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		sip_value_iter_init(&it, m, lists[i]);
		while ((r = sip_value_next_addr(&it, &na)) != 0) {
			if (r == 1)
				use_addr(&na);
			else if (lists[i] != SIP_HDR_OTHER &&
				 lists[i] != SIP_HDR_SUPPORTED)
				__builtin_trap();	/* checked already */
			else
				break;
		}
	}
	for (unsigned int i = 0; i < m->hdr_count; i++) {
		const struct sip_hdr *h = &m->hdrs[i];

		check_slice(h->name);
		check_slice(h->value);
		if (sip_msg_hdr_by_name(m, "X-Fuzz"))
			break;
	}
}

static void check_error(const struct sip_msg *m)
{
	if (m->error == SIP_ERR_NONE || m->error >= SIP_ERR_MAX_ ||
	    !m->error_reason)
		__builtin_trap();
	if (m->answerable && !m->is_request)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct sip_msg m;
	size_t off = 0, consumed = 0;
	int r;

	in_lo = buf;
	in_hi = buf + size;

	r = sip_msg_parse(&m, buf, size, SIP_DATAGRAM, &consumed);
	if (r == 0) {
		if (consumed != size)
			__builtin_trap();
		use_msg(&m);
	} else if (r == -EBADMSG) {
		check_error(&m);
	} else {
		__builtin_trap();	/* datagrams are never incomplete */
	}

	while (off < size) {
		r = sip_msg_parse(&m, buf + off, size - off, SIP_STREAM,
				  &consumed);
		if (r == -EBADMSG)
			check_error(&m);
		if (r)
			break;
		if (consumed == 0 || consumed > size - off)
			__builtin_trap();
		use_msg(&m);
		/* A strict prefix of a complete message is incomplete. */
		if (sip_msg_parse(&m, buf + off, consumed - 1, SIP_STREAM,
				  NULL) != -EAGAIN)
			__builtin_trap();
		off += consumed;
	}

	/* The element parsers on their own, on the raw input. */
	use_uri(buf, size);
	{
		struct sip_nameaddr na;
		struct sip_via via;
		struct sip_str rest = sip_str_mk(buf, size), v;

		if (sip_nameaddr_parse(&na, buf, size, SIP_NA_ALLOW_STAR) == 0)
			use_addr(&na);
		if (sip_via_parse(&via, buf, size) == 0)
			check_slice(via.params);
		while (sip_list_next(&rest, &v) == 1)
			check_slice(v);
	}
	return 0;
}
