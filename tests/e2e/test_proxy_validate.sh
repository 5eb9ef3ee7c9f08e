#!/bin/bash
# The proxy's request validation (RFC 3261 16.3 and 8.2), end to end over
# loopback: legal requests at their extremes (a 215-character branch, 34
# Vias, long header values and display name, a method of unusual token
# characters, RFC 4475's "intmeth" with an escaped NUL in a quoted display
# name) are forwarded with their start line and every header the
# proxy must not touch byte for byte; requests a proxy must refuse get the
# RFC's status code with a reason naming the problem (416, 420 with
# Unsupported, 400 for headers in the Request-URI, stray ';' and ',' in Via
# and Contact, non-token display names, NUL and bare CR, more than 32
# Route entries, a tab in the Request-Line), are never forwarded, and are
# counted in sip.*; a TCP
# header block over 64 KB gets 513 before the connection closes.
# Messages are written by hand and sent with socat; the callee is a socat
# that keeps each datagram in a file of its own.  No XDP here.
. "$(dirname "$0")/lib.sh"
e2e_init
if ! command -v socat >/dev/null 2>&1; then
	skip "request validation" "socat is not installed"
	e2e_finish
fi

BASE=$((12000 + ($$ % 400) * 10))   # 10 ports of our own
P=$BASE
SINK=$((BASE + 1))
C=$((BASE + 2))                     # callers use C .. C+7
CTL="$E2E_TMP/proxy-ctl.sock"

CFG="$E2E_TMP/proxy.yaml"
cat >"$CFG" <<EOF
listen:
  - "udp:127.0.0.1:$P"
  - "tcp:127.0.0.1:$P"
xdp: {enabled: false}
proxy:
  supported: [foo]
control:
  socket: $CTL
log: {level: debug}
routes:
  - name: "to sink"
    match: { in_dialog: false, ruri_user: "sink" }
    actions: [ { forward: "udp:127.0.0.1:$SINK" } ]
  # Never reached for a bad R-URI scheme: the scheme is checked first.
  - name: "by To"
    match: { in_dialog: false, to_user: "sink" }
    actions: [ { forward: "udp:127.0.0.1:$SINK" } ]
  # The generated requests (any R-URI) that carry an X-Gen header.
  - name: "generated"
    match: { in_dialog: false, header: X-Gen }
    actions: [ { forward: "udp:127.0.0.1:$SINK" } ]
  # \$hdr(To) holding an escaped NUL: ruri_user refuses it (the R-URI
  # stays), log writes it as \0, the request is still forwarded.
  - name: "nul in a rule value"
    match: { in_dialog: false, from_user: nulrule }
    actions:
      - ruri_user: "\$hdr(To)"
      - log: "nulrule to=\$hdr(To) end"
      - forward: "udp:127.0.0.1:$SINK"
  # RFC 4475 3.1.1.10 "intmeth", by its From user (R-URI, To and method
  # kept as the RFC writes them; method: takes letters only).
  - name: "intmeth"
    match: { in_dialog: false, from_user: mundane }
    actions: [ { forward: "udp:127.0.0.1:$SINK" } ]
EOF
check "the config with proxy.supported passes sipdlgd --check" "$SIPDLGD" -c "$CFG" --check
printf 'proxy:\n  supported: ["a b"]\n' >"$E2E_TMP/bad.yaml"
out=$("$SIPDLGD" -c "$E2E_TMP/bad.yaml" --check 2>&1)
check_contains "--check refuses an option tag that is no token" \
	"supported: 'a b' is not an option tag" "$out"

if ! start_daemon proxy "$CFG" || ! wait_for 10 port_bound udp "$P"; then
	not_ok "the proxy starts" "$(tail -n 20 "$E2E_TMP/proxy.log")"
	e2e_finish
fi
ok "the proxy starts and listens on port $P"
PROXY_LOG="$E2E_TMP/proxy.log"

# The callee: every datagram in a file of its own under $SINKDIR, named by
# its arrival time (and .genID for a generated request, by its X-Gen).
SINKDIR="$E2E_TMP/sink"
mkdir -p "$SINKDIR"
cat >"$E2E_TMP/sink.sh" <<EOF
f="$SINKDIR/.in.\$\$"
cat >"\$f"
g=\$(tr -d '\r' <"\$f" | sed -n 's/^X-Gen: \([0-9]*\)\$/\1/p' | head -n1)
mv "\$f" "$SINKDIR/\$(date +%s%N)\${g:+.gen\$g}"
EOF
( exec socat -u -b 65535 "UDP-RECVFROM:$SINK,bind=127.0.0.1,reuseaddr,fork" \
	SYSTEM:"sh $E2E_TMP/sink.sh" ) >/dev/null 2>&1 </dev/null &
E2E_PIDS+=("$!")
wait_for 5 port_bound udp "$SINK" || { not_ok "the callee listens"; e2e_finish; }

# sink_first STRING : the first datagram the callee got containing STRING
# (a fixed string: Call-IDs may hold regex characters).
sink_first() {
	local f
	for f in $(ls "$SINKDIR" 2>/dev/null | grep -v '\.gen' | sort); do
		if grep -qaF -- "$1" "$SINKDIR/$f"; then
			cat "$SINKDIR/$f"
			return 0
		fi
	done
	return 1
}

# udp_exchange SRC-PORT FILE : send FILE (as is) to the proxy from
# 127.0.0.1:SRC-PORT; print what comes back within 2 s.
udp_exchange() {
	timeout 10 socat -b 65535 -T 2 -t 2 - "UDP:127.0.0.1:$P,bind=127.0.0.1:$1" <"$2" 2>&1
}

# req FILE METHOD RURI BRANCH [LINE...] : a request to FILE (CRLF lines);
# its Via names 127.0.0.1:$C (where answers go); LINEs are added.
req() {
	local f=$1 m=$2 u=$3 br=$4 l
	shift 4
	{
		printf '%s %s SIP/2.0\r\n' "$m" "$u"
		printf 'Via: SIP/2.0/UDP 127.0.0.1:%s;branch=z9hG4bK-%s\r\n' "$C" "$br"
		printf 'Max-Forwards: 70\r\n'
		printf 'From: <sip:e2e@127.0.0.1>;tag=e2e-%s\r\n' "$br"
		printf 'To: <sip:sink@127.0.0.1>\r\n'
		printf 'Call-ID: e2e-%s@127.0.0.1\r\n' "$br"
		printf 'CSeq: 7 %s\r\n' "$m"
		for l in "$@"; do printf '%s\r\n' "$l"; done
		printf 'Content-Length: 0\r\n\r\n'
	} >"$f"
}

# expect_answer DESC FILE CODE REASON-PART [HEADER-LINE] : sending FILE gets
# CODE whose reason phrase contains REASON-PART (and HEADER-LINE), and the
# callee never sees it (its Call-ID).
expect_answer() {
	local desc=$1 f=$2 code=$3 why=$4 hdr=${5:-} ans status cid
	ans=$(udp_exchange "$C" "$f" | tr -d '\r')
	status=$(printf '%s\n' "$ans" | grep -m1 '^SIP/2.0 [2-6]')
	cid=$(sed -n 's/^Call-ID: \(.*\)\r$/\1/p' "$f")
	if [[ "$status" != "SIP/2.0 $code "*"$why"* ]]; then
		not_ok "$desc" "expected $code ... $why, got: ${status:-nothing within 2 s}" \
			"$ans" "$(proxy_diag)"
	elif [ -n "$hdr" ] && ! grep -qxF -- "$hdr" <<<"$ans"; then
		not_ok "$desc" "the answer lacks '$hdr'" "$ans"
	elif sleep 0.3 && sink_first "$cid" >/dev/null; then
		not_ok "$desc" "the callee received it"
	else
		ok "$desc ($status)"
	fi
}

# untouched FILE : the lines of a request a proxy must not change (all but
# Via, Max-Forwards, Route, Record-Route), CR removed.
untouched() {
	tr -d '\r' <"$1" | grep -aviE '^(via|v|max-forwards|route|record-route):'
}

# expect_forwarded DESC FILE : FILE is forwarded to the callee with its
# start line and untouched headers byte for byte, and one Via more.
expect_forwarded() {
	local desc=$1 f=$2 cid got="$E2E_TMP/got.$RANDOM" sent_via got_via
	cid=$(tr -d '\r' <"$f" | sed -n 's/^Call-ID: //p')
	udp_exchange "$C" "$f" >"$E2E_TMP/ans.txt"
	if ! wait_for 3 sink_first "$cid" || ! sink_first "$cid" >"$got"; then
		not_ok "$desc" "the callee received nothing" \
			"answer: $(head -n1 "$E2E_TMP/ans.txt")" "$(proxy_diag)"
		return
	fi
	sent_via=$(tr -d '\r' <"$f" | grep -ciE '^(via|v):')
	got_via=$(tr -d '\r' <"$got" | grep -ciE '^(via|v):')
	if ! diff -a <(untouched "$f") <(untouched "$got") >"$E2E_TMP/diff.txt"; then
		not_ok "$desc" "changed on the way:" "$(head -c 2000 "$E2E_TMP/diff.txt")"
	elif [ "$got_via" -ne $((sent_via + 1)) ]; then
		not_ok "$desc" "$sent_via Vias sent, $got_via received (want one more)"
	else
		ok "$desc"
	fi
}

# --- legal requests at their extremes: forwarded as they are ----------------
long() { head -c "$2" /dev/zero | tr '\0' "$1"; }
# 215 characters without the magic cookie: its transaction key (RFC 2543
# rules) holds the Call-ID, the R-URI and the whole top Via, over 900 bytes.
BR215="$(long b 215)"
VIAS=()
for i in $(seq 33); do VIAS+=("Via: SIP/2.0/UDP 10.0.$i.1:5060;branch=z9hG4bK-hop$i-$(long h 40)"); done
{
	printf 'INVITE sip:sink@127.0.0.1:%s;x-long=%s SIP/2.0\r\n' "$P" "$(long x 300)"
	printf 'Via: SIP/2.0/UDP 127.0.0.1:%s;branch=%s\r\n' "$C" "$BR215"
	printf '%s\r\n' "${VIAS[@]}"
	printf 'Max-Forwards: 70\r\n'
	printf 'From: "%s \\"quoted\\" \\\\ name" <sip:e2e@127.0.0.1>;tag=%s\r\n' "$(long D 300)" "$(long t 200)"
	printf 'To: <sip:sink@127.0.0.1>\r\n'
	printf 'Call-ID: e2e-long-%s@127.0.0.1\r\n' "$(long c 300)"
	printf 'CSeq: 2147483647 INVITE\r\n'
	printf 'Contact: <sip:e2e@127.0.0.1:%s>\r\n' "$C"
	printf 'Subject: %s\r\n' "$(long s 8000)"
	printf 'X-Ext-!.%%*+_`'"'"'~: %s\r\n' "$(long v 4000)"
	printf 'Content-Length: 0\r\n\r\n'
} >"$E2E_TMP/long.txt"
expect_forwarded "an INVITE with a 215-character branch, 34 Vias, long values and display name is forwarded unchanged" \
	"$E2E_TMP/long.txt"

M='!interesting-Method0123456789_*+`.%indeed'"'"'~'
req "$E2E_TMP/odd.txt" "$M" "sip:sink@127.0.0.1:$P" odd \
	"Proxy-Require: foo" 'extensionHeader-!.%*+_`'"'"'~: value'
expect_forwarded "a request with an unusual token as method (and a supported Proxy-Require) is forwarded unchanged" \
	"$E2E_TMP/odd.txt"

# RFC 4475 3.1.1.10 "intmeth" as the RFC writes it (only the Via names
# our caller): a To display name holding the quoted-pairs \<BEL>, \<NUL>
# and \<DEL> (RFC 3261 25.1).  Forwarded with the To line byte for byte.
# The callee never answers: the 408 the proxy sends 32 s later (its To
# line echoed, NUL included) goes to C+6, not to the port the checks
# below read their answers on.
{
	printf '%s sip:1_unusual.URI~(to-be!sure)&isn'"'"'t+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn'"'"'t-it)@example.com SIP/2.0\r\n' "$M"
	printf 'Via: SIP/2.0/UDP 127.0.0.1:%s;branch=z9hG4bK-.!%%66*_+`'"'"'~\r\n' "$((C + 6))"
	printf 'To: "BEL:\\\007 NUL:\\\000 DEL:\\\177" <sip:1_unusual.URI~(to-be!sure)&isn'"'"'t+it$/crazy?,/;;*@example.com>\r\n'
	printf 'From: token1~` token2'"'"'+_ token3*%%!.- <sip:mundane@example.com> ;fromParam'"''"'~+*_!.-%%=\r\n'
	printf ' "\321\200\320\260\320\261\320\276\321\202\320\260\321\216\321\211\320\270\320\271";tag=_token~1'"'"'+`*%%!-.\r\n'
	printf 'Call-ID: intmeth.word%%ZK-!.*_+'"'"'@word`~)(><:\\/"][?}{\r\n'
	printf 'CSeq: 139122385 %s\r\n' "$M"
	printf 'Max-Forwards: 255\r\n'
	printf 'extensionHeader-!.%%*+_`'"'"'~:\357\273\277\345\244\247\345\201\234\351\233\273\r\n'
	printf 'Content-Length: 0\r\n\r\n'
} >"$E2E_TMP/intmeth.txt"
expect_forwarded "RFC 4475 intmeth (escaped NUL in the To display name) is forwarded unchanged" \
	"$E2E_TMP/intmeth.txt"
to_sent=$(grep -a '^To: ' "$E2E_TMP/intmeth.txt" | od -An -tx1 | tr -d ' \n')
to_got=$(sink_first 'intmeth.word' | grep -a '^To: ' | od -An -tx1 | tr -d ' \n')
check_eq "the forwarded intmeth To line is the one sent, byte for byte" "$to_sent" "$to_got"
case "$to_got" in
*5c07*5c00*5c7f*) ok "the forwarded To line holds the escaped BEL, NUL and DEL" ;;
*) not_ok "the forwarded To line holds the escaped BEL, NUL and DEL" "$to_got" ;;
esac

req "$E2E_TMP/nulrule.txt" OPTIONS "sip:keep@127.0.0.1:$P" nulrule
# (Its Via names C+6: the 408 that echoes the To line goes there.)
sed -i -e 's/^From: <sip:e2e@/From: <sip:nulrule@/' \
	-e "2s/:$C;/:$((C + 6));/" \
	-e 's/^To: <sip:sink@/To: "x\\\x00y" <sip:other@/' "$E2E_TMP/nulrule.txt"
udp_exchange "$C" "$E2E_TMP/nulrule.txt" >/dev/null
if wait_for 3 sink_first e2e-nulrule@; then
	line=$(sink_first e2e-nulrule@ | head -n1 | tr -d '\r')
	check_eq "ruri_user from a \$hdr(To) holding an escaped NUL leaves the R-URI as it was" \
		"OPTIONS sip:keep@127.0.0.1:$P SIP/2.0" "$line"
else
	not_ok "a rule value holding an escaped NUL: the request is forwarded" "$(proxy_diag)"
fi
check_contains "ruri_user warns that the value holds a NUL" \
	"the value holds a NUL byte; Request-URI not changed" "$(cat "$PROXY_LOG")"
check_contains "log: writes the escaped NUL as \\0 and keeps the rest" \
	'nulrule to="x\\0y" <sip:other@127.0.0.1> end' "$(cat -v "$PROXY_LOG")"

# RFC 4475-style leniency: runs of SP in the Request-Line are accepted; the
# request leaves with one SP between the elements.
printf 'OPTIONS  sip:sink@127.0.0.1:%s   SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%s;branch=z9hG4bK-sp\r\nMax-Forwards: 70\r\nFrom: <sip:e2e@127.0.0.1>;tag=sp\r\nTo: <sip:sink@127.0.0.1>\r\nCall-ID: e2e-sp@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n' \
	"$P" "$C" >"$E2E_TMP/sp.txt"
udp_exchange "$C" "$E2E_TMP/sp.txt" >/dev/null
if wait_for 3 sink_first e2e-sp@; then
	line=$(sink_first e2e-sp@ | head -n1 | tr -d '\r')
	check_eq "extra spaces in the Request-Line are accepted and normalised" \
		"OPTIONS sip:sink@127.0.0.1:$P SIP/2.0" "$line"
else
	not_ok "extra spaces in the Request-Line are accepted and normalised" "not forwarded"
fi

# --- requests a proxy must refuse ----------------------------------------------
req "$E2E_TMP/tab.txt" OPTIONS "sip:sink@127.0.0.1:$P" tab
sed -i '1s/^OPTIONS /OPTIONS\t/' "$E2E_TMP/tab.txt"
expect_answer "a tab between the elements of the Request-Line gets 400 naming the start line" \
	"$E2E_TMP/tab.txt" 400 "Malformed Start Line"
req "$E2E_TMP/ext.txt" OPTIONS "sip:sink@127.0.0.1:$P" ext "Proxy-Require: foo, bar"
expect_answer "Proxy-Require with a tag not in proxy.supported gets 420 with Unsupported" \
	"$E2E_TMP/ext.txt" 420 "Bad Extension" "Unsupported: bar"
req "$E2E_TMP/scheme.txt" OPTIONS "http://127.0.0.1:$P/sink" scheme
expect_answer "an http: Request-URI gets 416 (and is not routed by its To)" \
	"$E2E_TMP/scheme.txt" 416 "Unsupported URI Scheme"
req "$E2E_TMP/hdrs.txt" OPTIONS "sip:sink@127.0.0.1:$P?Route=%3Csip:evil.example.com%3E" hdrs
expect_answer "escaped headers in a sip: Request-URI get 400" \
	"$E2E_TMP/hdrs.txt" 400 "Headers in Request-URI"
ROUTES=$(for i in $(seq 33); do printf '<sip:r%d.example.com;lr>,' "$i"; done)
req "$E2E_TMP/routes.txt" OPTIONS "sip:sink@127.0.0.1:$P" routes "Route: ${ROUTES%,}"
expect_answer "33 Route entries get 400 naming the limit" \
	"$E2E_TMP/routes.txt" 400 "Too Many Route Entries (max 32)"
req "$E2E_TMP/viasemi.txt" OPTIONS "sip:sink@127.0.0.1:$P" viasemi
sed -i '2s/\r$/;;rport\r/' "$E2E_TMP/viasemi.txt"
expect_answer "a top Via with a stray ';' gets 400 naming Via" \
	"$E2E_TMP/viasemi.txt" 400 "Malformed Via"
req "$E2E_TMP/viacomma.txt" OPTIONS "sip:sink@127.0.0.1:$P" viacomma
sed -i '2s/\r$/,\r/' "$E2E_TMP/viacomma.txt"
expect_answer "a top Via with a stray ',' gets 400 naming Via" \
	"$E2E_TMP/viacomma.txt" 400 "Malformed Via"
req "$E2E_TMP/contact.txt" OPTIONS "sip:sink@127.0.0.1:$P" contact \
	"Contact: <sip:e2e@127.0.0.1>;;expires=10, ,<sip:b@127.0.0.1>"
expect_answer "a Contact with stray ';' and ',' gets 400 naming Contact" \
	"$E2E_TMP/contact.txt" 400 "Malformed Contact"
req "$E2E_TMP/display.txt" OPTIONS "sip:sink@127.0.0.1:$P" display
sed -i 's/^From: </From: e2e@home (me) </' "$E2E_TMP/display.txt"
expect_answer "an unquoted display name of non-token characters gets 400 naming From" \
	"$E2E_TMP/display.txt" 400 "Malformed From"
req "$E2E_TMP/addrspace.txt" OPTIONS "sip:sink@127.0.0.1:$P" addrspace
sed -i 's/^To: <sip:sink@127.0.0.1>/To: <sip:sink @127.0.0.1>/' "$E2E_TMP/addrspace.txt"
expect_answer "a space inside an addr-spec gets 400 naming To" \
	"$E2E_TMP/addrspace.txt" 400 "Malformed To"
req "$E2E_TMP/nul.txt" OPTIONS "sip:sink@127.0.0.1:$P" nul "Subject: a"
sed -i 's/^Subject: a/Subject: a\x00b/' "$E2E_TMP/nul.txt"
expect_answer "a NUL byte in a header gets 400" "$E2E_TMP/nul.txt" 400 "NUL Byte"
# Next to a quoted display name, but not escaped inside it: still 400.
req "$E2E_TMP/nulq.txt" OPTIONS "sip:sink@127.0.0.1:$P" nulq
sed -i 's/^To: </To: "a\\\x00" \x00</' "$E2E_TMP/nulq.txt"
expect_answer "a bare NUL after a quoted display name (one escaped NUL inside) gets 400" \
	"$E2E_TMP/nulq.txt" 400 "NUL Byte"
req "$E2E_TMP/cr.txt" OPTIONS "sip:sink@127.0.0.1:$P" cr "Subject: a"
sed -i 's/^Subject: a/Subject: a\rInjected: b/' "$E2E_TMP/cr.txt"
expect_answer "a bare CR in a header gets 400" "$E2E_TMP/cr.txt" 400 "Bare CR"

# A datagram that fits, but not once our Via is added: 513, not a send error.
req "$E2E_TMP/near.txt" OPTIONS "sip:sink@127.0.0.1:$P" near "Subject: x"
size=$(stat -c %s "$E2E_TMP/near.txt")
sed -i "s/^Subject: x/Subject: $(long n $((65480 - size)))x/" "$E2E_TMP/near.txt"
expect_answer "a 65,480-byte datagram that would not fit one once forwarded gets 513" \
	"$E2E_TMP/near.txt" 513 "Message Too Large"

# --- TCP: a header block over 64 KB gets 513, then the connection closes ------
big="$E2E_TMP/big.txt"
{
	printf 'OPTIONS sip:sink@127.0.0.1:%s SIP/2.0\r\n' "$P"
	printf 'Via: SIP/2.0/TCP 127.0.0.1:%s;branch=z9hG4bK-big\r\n' "$C"
	printf 'Max-Forwards: 70\r\nFrom: <sip:e2e@127.0.0.1>;tag=big\r\nTo: <sip:sink@127.0.0.1>\r\n'
	printf 'Call-ID: e2e-big@127.0.0.1\r\nCSeq: 1 OPTIONS\r\n'
	for i in $(seq 70); do printf 'X-Filler-%d: %s\r\n' "$i" "$(long f 1000)"; done
	printf 'Content-Length: 0\r\n\r\n'
} >"$big"
ans=$(timeout 10 socat -T 3 - "TCP:127.0.0.1:$P" <"$big" 2>/dev/null | tr -d '\r' | head -n1)
check_eq "a TCP header block over 64 KB gets 513 before the close" \
	"SIP/2.0 513 Message Too Large" "$ans"

# Generated requests (tests/unit/test_px_validate.c's generator: unusual
# methods, up to 34 Vias, long branches, tags, Call-IDs and values,
# escaped URIs, quoted display names) through the running proxy: each is
# forwarded with its start line and untouched header lines byte for byte.
# Only its top Via is ours to change (its sent-by, so that answers come
# back here) and an X-Gen line is added to find it at the callee.
GEN="$E2E_ROOT/build/tests/unit/test_px_validate"
# gen_got ID : the first datagram the callee got for generated request ID.
gen_got() {
	local f
	f=$(ls "$SINKDIR" | grep -m1 "\.gen$1\$") || return 1
	echo "$SINKDIR/$f"
}
GENDIR="$E2E_TMP/gen"
mkdir -p "$GENDIR"
if [ -x "$GEN" ] && SIPDLG_GEN_DIR="$GENDIR" "$GEN" >/dev/null 2>&1 &&
	ls "$GENDIR"/*.sip >/dev/null 2>&1; then
	n_gen=0 bad_gen=()
	for g in "$GENDIR"/*.sip; do
		id=$(basename "$g" .sip)
		awk -v c="$((C + 1))" -v id="$id" 'BEGIN { RS = "\r\n"; ORS = "\r\n" }
			!done && /^Via: / { sub(/UDP [^;]*;/, "UDP 127.0.0.1:" c ";"); done = 1 }
			/^$/ && !hdr_end { print "X-Gen: " id; hdr_end = 1 }
			{ print }' "$g" | head -c -2 >"$g.send"
		# one way: what comes back (100 Trying) goes to a closed port
		timeout 5 socat -u -b 65535 - "UDP:127.0.0.1:$P,bind=127.0.0.1:$((C + 1))" \
			<"$g.send" 2>/dev/null
		if ! wait_for 3 gen_got "$id"; then
			bad_gen+=("$id: not forwarded")
		elif ! diff <(untouched "$g.send") <(untouched "$(gen_got "$id")") \
			>"$g.diff"; then
			bad_gen+=("$id: changed: $(head -c 600 "$g.diff")")
		fi
		n_gen=$((n_gen + 1))
	done
	if [ ${#bad_gen[@]} -eq 0 ]; then
		ok "$n_gen generated requests at their extremes are forwarded byte for byte"
	else
		not_ok "$n_gen generated requests at their extremes are forwarded byte for byte" \
			"${bad_gen[@]:0:5}"
	fi
else
	not_ok "the generator (build/tests/unit/test_px_validate) wrote requests"
fi

# --- the counters ---------------------------------------------------------------
stats=$("$SIPDLGCTL" --socket "$CTL" --json stats sip 2>/dev/null)
for s in bad_extension:1 unsupported_uri_scheme:1 err_headers_in_request_uri:1 \
	err_too_many_route_entries:1 err_nul_byte_in_header:2 err_bare_cr_in_header:1 \
	err_malformed_via:2 err_malformed_contact:1 err_message_too_large:1 \
	err_malformed_start_line:1; do
	name=${s%%:*} want=${s#*:}
	got=$(printf '%s' "$stats" | jq -r --arg k "sip.$name" '.[$k] // empty' 2>/dev/null)
	check_eq "sip.$name counts its refusals" "$want" "$got"
done

if kill -0 "$DAEMON_PID" 2>/dev/null; then
	ok "the proxy is still running"
else
	not_ok "the proxy is still running" "$(proxy_diag)"
fi
e2e_finish
