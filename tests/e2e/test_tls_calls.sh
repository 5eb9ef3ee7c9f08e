#!/bin/bash
# SIP over TLS with real TLS peers.  sipp has no TLS here, so stunnel
# (Debian stunnel4) stands in front of it: sipp speaks TCP to stunnel,
# stunnel speaks TLS to sipdlgd, with certificates this test makes with
# openssl (tests/e2e/helpers/tls_certs.sh: a test CA, server, client and
# callee certificates, an expired one, one of another CA, one for the
# wrong name).
#
#   caller sipp (TCP) -> stunnel "caller" (TLS client, client cert)
#       -> sipdlgd tls:127.0.0.1:T (verify_peer: required)
#       -> UDP callee sipp, or tls:127.0.0.1:SE -> stunnel "callee"
#          (TLS server, callee.test, asks for our certificate) -> sipp TCP
#
# Cases: calls TLS->UDP (double Record-Route, one with transport=tls),
# TLS->TLS, UDP->TLS (the outbound connection is reused for ACK and BYE),
# a forward to a peer whose certificate names another host, clients with
# a certificate of another CA, an expired one, none at all, a client that
# stops mid-handshake (handshake_timeout_ms), SNI, IPv6, a broken message
# over TLS, the per-source cap of tcp: on TLS, and a certificate reload
# (sipdlgctl tls reload, a bad file refused, SIGHUP) during a call.
# Outbound names: a next hop named "localhost" (getaddrinfo, no system
# file touched) is checked against that name (SNI too), an IP literal
# against the certificate's IP SAN, and a connection verified for a name
# is not reused for the bare IP; a sips: next hop on a box without a
# tls: listen entry is answered 503 (a second sipdlgd).  tls.server_name
# (a third sipdlgd): a call to an IP-literal next hop whose certificate
# names only a DNS name works when server_name gives that name, and the
# name is the SNI (the stunnel in front picks the right certificate by it;
# without SNI it serves one for another name).
. "$(dirname "$0")/lib.sh"
e2e_init
need_sipp
command -v stunnel >/dev/null 2>&1 || { skip "TLS calls" "stunnel (package stunnel4) is not installed"; exit 0; }
SIPP_TIMEOUT=20

if ! e2e_port_block BASE 23000 330 24; then
	not_ok "a free block of 24 ports" "none between 23000 and 31000"
	e2e_finish
fi
P=$BASE T=$((BASE + 1))               # sipdlgd: UDP P, TLS T
SC=$((BASE + 2)) SE=$((BASE + 3)) SW=$((BASE + 4))   # stunnel caller/callee/wrong-name
SL=$((BASE + 8)) P2=$((BASE + 9))     # stunnel "localhost"; the sipdlgd without TLS
U1=$((BASE + 5)) U2=$((BASE + 6)) U3=$((BASE + 7))   # callees
C=$((BASE + 10))                      # callers C .. C+9
SN=$((BASE + 20))                     # stunnel "sni": the certificate by SNI
P3=$((BASE + 21)) T3=$((BASE + 22))   # the sipdlgd with tls.server_name
CERTS="$E2E_TMP/certs"
if ! bash "$E2E_ROOT/tests/e2e/helpers/tls_certs.sh" "$CERTS" >"$E2E_TMP/certs.log" 2>&1; then
	not_ok "the test certificates are made with openssl" "$(cat "$E2E_TMP/certs.log")"
	e2e_finish
fi
# The certificate sipdlgd serves, replaced during the reload case.
cp "$CERTS/sip.pem" "$E2E_TMP/live.pem"
cp "$CERTS/sip.key" "$E2E_TMP/live.key"

DLG_SOCK="$E2E_TMP/proxy-ctl.sock"
CFG="$E2E_TMP/proxy.yaml"
{
	echo "listen:"
	echo "  - \"udp:127.0.0.1:$P\""
	echo "  - \"tls:127.0.0.1:$T\""
	have_ipv6 && echo "  - \"tls:[::1]:$T\""
	echo "xdp: {enabled: false}"
	echo "control:"
	echo "  socket: $DLG_SOCK"
	echo "log: {level: info}"
	echo "tcp: {max_connections: 64, reserved_outbound: 8, max_connections_per_source: 12}"
	echo "tls:"
	echo "  certificate: $E2E_TMP/live.pem"
	echo "  private_key: $E2E_TMP/live.key"
	echo "  ca_file: $CERTS/ca.pem"
	echo "  verify_peer: required"
	echo "  handshake_timeout_ms: 700"
	echo "  certificates:"
	echo "    - {server_name: other.test, certificate: $CERTS/other.pem, private_key: $CERTS/other.key}"
	echo "routes:"
	for r in "tlsudp=udp:127.0.0.1:$U1" "tlstls=tls:127.0.0.1:$SE" \
		 "udptls=tls:127.0.0.1:$SE" "wrongname=tls:127.0.0.1:$SW"; do
		echo "  - name: \"to ${r%%=*}\""
		echo "    match: { in_dialog: false, ruri_user: \"${r%%=*}\" }"
		echo "    actions: [ { forward: \"${r#*=}\" } ]"
	done
} >"$CFG"
check "the TLS test config passes sipdlgd --check" "$SIPDLGD" -c "$CFG" --check
if ! start_daemon proxy "$CFG"; then
	not_ok "sipdlgd starts with TLS on $T" "$(tail -n 20 "$E2E_TMP/proxy.log")"
	e2e_finish
fi
PROXY_PID=$DAEMON_PID PROXY_LOG="$E2E_TMP/proxy.log"
check "sipdlgd listens on TLS port $T" wait_for 5 port_bound tcp "$T"

# stunnel: the caller's TLS client, and two TLS servers in front of callees.
cat >"$E2E_TMP/stunnel.conf" <<EOF
foreground = yes
pid =
output = $E2E_TMP/stunnel.log
debug = 5
[caller]
client = yes
accept = 127.0.0.1:$SC
connect = 127.0.0.1:$T
cert = $CERTS/client.pem
key = $CERTS/client.key
CAfile = $CERTS/ca.pem
verifyChain = yes
checkHost = sip.test
sni = sip.test
[callee]
accept = 127.0.0.1:$SE
connect = 127.0.0.1:$U2
cert = $CERTS/callee.pem
key = $CERTS/callee.key
CAfile = $CERTS/ca.pem
verifyChain = yes
[localhost]
accept = 127.0.0.1:$SL
connect = 127.0.0.1:$U3
cert = $CERTS/localhost.pem
key = $CERTS/localhost.key
[wrong]
accept = 127.0.0.1:$SW
connect = 127.0.0.1:$U3
cert = $CERTS/wrongname.pem
key = $CERTS/wrongname.key
[sni]
accept = 127.0.0.1:$SN
connect = 127.0.0.1:$U2
cert = $CERTS/wrongname.pem
key = $CERTS/wrongname.key
[sni-localhost]
sni = sni:localhost
connect = 127.0.0.1:$U2
cert = $CERTS/localhost.pem
key = $CERTS/localhost.key
EOF
( exec stunnel "$E2E_TMP/stunnel.conf" ) >"$E2E_TMP/stunnel.out" 2>&1 </dev/null &
E2E_PIDS+=("$!")
if ! wait_for 5 port_bound tcp "$SW"; then
	not_ok "stunnel starts" "$(cat "$E2E_TMP/stunnel.out" "$E2E_TMP/stunnel.log" 2>/dev/null | tail -n 20)"
	e2e_finish
fi

# tls_stat NAME / core_stat NAME : a statistic of group tls / core.
tls_stat() { dlg_ctl stats tls 2>/dev/null | jq -r --arg k "tls.$1" '.[$k] // 0'; }
core_stat() { dlg_ctl stats core 2>/dev/null | jq -r --arg k "core.$1" '.[$k] // 0'; }
stat_above() { [ "$($1 "$2")" -gt "$3" ]; }

# call NAME DESC UAS-SCENARIO UAS-ARGS -- UAC-ARGS : one call, both checked.
call() {
	local name=$1 desc=$2 uas_sf=$3 uas_args=() port proto=udp i
	shift 3
	while [ "$1" != "--" ]; do uas_args+=("$1"); shift; done
	shift
	for ((i = 0; i < ${#uas_args[@]}; i++)); do
		case "${uas_args[i]}" in
		-p) port=${uas_args[i + 1]} ;;
		-t) [ "${uas_args[i + 1]}" = t1 ] && proto=tcp ;;
		esac
	done
	sipp_start "$name-uas" "$uas_sf" -m 1 "${uas_args[@]}"
	local uas_pid=$SIPP_PID uac_pid uas_rc uac_rc
	wait_for 5 port_bound "$proto" "$port"
	sipp_start "$name-uac" uac_call.xml -m 1 -recv_timeout 5000 "$@"
	uac_pid=$SIPP_PID
	sipp_wait "$uac_pid" 30; uac_rc=$?
	sipp_wait "$uas_pid" 3; uas_rc=$?
	sipp_call_check "$desc" "$name-uac" "$uac_rc" "$name-uas" "$uas_rc" 1
}
TLS_UAC=("127.0.0.1:$SC" -i 127.0.0.1 -t t1)   # through stunnel "caller"
TLS_UAS=(-i 127.0.0.1 -t t1 -p "$U2")
TLS_CONTACT=(-key contact_uri "sip:callee@127.0.0.1:$SE;transport=tls")
SIPS_CONTACT=(-key contact_uri "sips:callee@127.0.0.1:$SE")

# --- calls ------------------------------------------------------------------
conn0=$(tls_stat connections)
call tlsudp "a call TLS (mutual certificates) -> UDP" uas_call.xml -i 127.0.0.1 -t u1 -p "$U1" -- \
	"${TLS_UAC[@]}" -p "$C" -s tlsudp -d 100
rr=$(grep -i '^Record-Route:' "$E2E_TMP/tlsudp-uac.msg" 2>/dev/null | head -n 1)
check_contains "the caller got a Record-Route toward it with transport=tls" \
	"sip:127.0.0.1:$T;transport=tls;lr;r2=on" "$rr"
check_contains "and the callee's side of it over UDP (double Record-Route)" \
	"sip:127.0.0.1:$P;lr;r2=on" "$rr"

call tlstls "a call TLS -> TLS (the proxy's certificate checked by the callee's stunnel)" \
	tls_uas_call.xml "${TLS_UAS[@]}" "${TLS_CONTACT[@]}" -- "${TLS_UAC[@]}" -p $((C + 1)) -s tlstls -d 100
conn1=$(tls_stat connections)
call udptls "a call UDP -> TLS (IP literal: the certificate's IP SAN checked; the callee's Contact a sips: URI)" \
	tls_uas_call.xml "${TLS_UAS[@]}" "${SIPS_CONTACT[@]}" -- "127.0.0.1:$P" -i 127.0.0.1 -t u1 -p $((C + 2)) -s udptls -d 100
conn2=$(tls_stat connections)
check_eq "UDP -> TLS: ACK and BYE reuse the INVITE's TLS connection (1 handshake)" 1 $((conn2 - conn1))
rr=$(awk '/message received/ { n++ } n == 1 && tolower($0) ~ /^record-route:/' "$E2E_TMP/udptls-uas.msg" 2>/dev/null | tr '\n' ' ')
check_contains "UDP -> TLS: the callee got the Record-Route toward it with transport=tls" \
	"sip:127.0.0.1:$T;transport=tls;lr;r2=on" "$rr"
check_contains "and the caller's side over UDP (double Record-Route)" "sip:127.0.0.1:$P;lr;r2=on" "$rr"
check_contains "ACK and BYE to the sips: Contact went over TLS" "BYE sips:callee@127.0.0.1:$SE" \
	"$(grep '^BYE ' "$E2E_TMP/udptls-uas.msg" 2>/dev/null)"
# 1 (caller in) + 2 (caller in, callee out) + 1 (callee out)
check "tls.connections counts the handshakes of the calls" [ "$conn2" -ge $((conn0 + 4)) ]
check_contains "the callee got INVITE, ACK and BYE over TLS (Via SIP/2.0/TLS)" \
	"SIP/2.0/TLS 127.0.0.1:$T" "$(grep -i '^Via:' "$E2E_TMP/udptls-uas.msg" 2>/dev/null)"

# --- certificates refused --------------------------------------------------------
# s_client NAME ARGS... : one TLS handshake to sipdlgd (output in NAME.txt).
s_client() {
	local name=$1; shift
	timeout 5 openssl s_client -connect "127.0.0.1:$T" -CAfile "$CERTS/ca.pem" "$@" \
		</dev/null >"$E2E_TMP/$name.txt" 2>&1
}
f0=$(tls_stat handshake_failed)
printf 'OPTIONS sip:wrongname@127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:%s;branch=z9hG4bKwn1\nFrom: <sip:a@127.0.0.1>;tag=1\nTo: <sip:wrongname@127.0.0.1>\nCall-ID: wn1@e2e\nCSeq: 1 OPTIONS\nMax-Forwards: 70\nContent-Length: 0\n\n' \
	$((C + 3)) >"$E2E_TMP/wn.sip"
udp_send_sip "$E2E_TMP/wn.sip" 127.0.0.1 "$P"
check "a callee whose certificate names another host: the handshake fails, counted" \
	wait_for 5 stat_above tls_stat handshake_failed "$f0"
grep -q "certificate verify failed\|IP address mismatch" "$PROXY_LOG" &&
	ok "and the log says why (certificate verify failed)" ||
	not_ok "and the log says why (certificate verify failed)" "$(grep tls: "$PROXY_LOG" | tail -n 5)"

# --- outbound names: DNS name vs IP literal, connection reuse by name -----------
# opt NAME RURI [PORT] : an OPTIONS with a To-tag (routed by its Request-URI)
# over UDP to sipdlgd (port P, or PORT).
opt() {
	printf 'OPTIONS %s SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:%s;branch=z9hG4bK%s\nFrom: <sip:a@127.0.0.1>;tag=1\nTo: <sip:b@127.0.0.1>;tag=2\nCall-ID: %s@e2e\nCSeq: 1 OPTIONS\nMax-Forwards: 70\nContent-Length: 0\n\n' \
		"$2" $((C + 5)) "$1" "$1" >"$E2E_TMP/$1.sip"
	udp_send_sip "$E2E_TMP/$1.sip" 127.0.0.1 "${3:-$P}"
}
# behind stunnel "localhost": a TCP sink, so the connection stays open
( exec socat -u "TCP-LISTEN:$U3,bind=127.0.0.1,reuseaddr,fork" OPEN:/dev/null ) >/dev/null 2>&1 </dev/null &
E2E_PIDS+=("$!")
wait_for 5 port_bound tcp "$U3"
c0=$(tls_stat connections) f0=$(tls_stat handshake_failed)
opt lhok "sip:b@localhost:$SL;transport=tls"
check "a next hop named localhost: SNI and name check pass (certificate for localhost)" \
	wait_for 5 stat_above tls_stat connections "$c0"
check_eq "and no handshake failed" "$f0" "$(tls_stat handshake_failed)"
opt lhbad "sip:b@localhost:$SW;transport=tls"
check "a next hop named localhost whose certificate names wrong.test fails, counted" \
	wait_for 5 stat_above tls_stat handshake_failed "$f0"
f0=$(tls_stat handshake_failed)
opt lhip "sip:b@127.0.0.1:$SL;transport=tls"
check "the connection verified for localhost is not reused for 127.0.0.1 (new handshake, no IP SAN: fails)" \
	wait_for 5 stat_above tls_stat handshake_failed "$f0"
grep -q "IP address mismatch" "$PROXY_LOG" &&
	ok "and the log says why (IP address mismatch)" ||
	not_ok "and the log says why (IP address mismatch)" "$(grep tls: "$PROXY_LOG" | tail -n 5)"

# --- tls.server_name for an IP-literal next hop ------------------------------------
# A third sipdlgd with tls.server_name: localhost forwards to the IP literal
# 127.0.0.1:SN, where stunnel serves the localhost certificate (DNS name
# only, no IP SAN) to an SNI of localhost and the wrongname one otherwise.
# Without server_name the same hop fails: see "not reused for 127.0.0.1".
{
	echo "listen: [\"udp:127.0.0.1:$P3\", \"tls:127.0.0.1:$T3\"]"
	echo "xdp: {enabled: false}"
	echo "control:"
	echo "  socket: $E2E_TMP/sni-ctl.sock"
	echo "log: {level: info}"
	echo "tls:"
	echo "  certificate: $CERTS/sip.pem"
	echo "  private_key: $CERTS/sip.key"
	echo "  ca_file: $CERTS/ca.pem"
	echo "  server_name: localhost"
	echo "routes:"
	echo "  - name: \"to snicall\""
	echo "    match: { in_dialog: false, ruri_user: \"snicall\" }"
	echo "    actions: [ { forward: \"tls:127.0.0.1:$SN\" } ]"
} >"$E2E_TMP/sni.yaml"
sni_stat() { "$SIPDLGCTL" --socket "$E2E_TMP/sni-ctl.sock" --json stats tls 2>/dev/null | jq -r --arg k "tls.$1" '.[$k] // 0'; }
if start_daemon sni "$E2E_TMP/sni.yaml"; then
	call snicall "tls.server_name: a call UDP -> TLS to an IP literal whose certificate names only localhost" \
		tls_uas_call.xml "${TLS_UAS[@]}" -key contact_uri "sip:callee@127.0.0.1:$SN;transport=tls" -- \
		"127.0.0.1:$P3" -i 127.0.0.1 -t u1 -p $((C + 6)) -s snicall -d 100
	check_eq "and no handshake failed (verified against server_name, not the IP)" 0 "$(sni_stat handshake_failed)"
	check "the SNI was server_name: stunnel switched to its localhost service" \
		grep -qF "SNI: switched to service [sni-localhost]" "$E2E_TMP/stunnel.log"
else
	not_ok "a sipdlgd with tls.server_name starts" "$(tail -n 20 "$E2E_TMP/sni.log")"
fi

# --- sips: on a box without a tls: listen entry ------------------------------------
printf 'listen: ["udp:127.0.0.1:%s"]\nxdp: {enabled: false}\ncontrol:\n  socket: %s\nlog: {level: info}\n' \
	"$P2" "$E2E_TMP/notls-ctl.sock" >"$E2E_TMP/notls.yaml"
if start_daemon notls "$E2E_TMP/notls.yaml"; then
	udp_sink notls_reply $((C + 5))
	E2E_PIDS+=("$SINK_PID")
	opt nots "sips:b@127.0.0.1:$SE" "$P2"
	check "a sips: next hop without a tls: listen entry is answered 503 with the reason" \
		wait_for 5 grep -q "SIP/2.0 503 Service Unavailable - No TLS Listen Entry" "$E2E_TMP/notls_reply.log"
	check "and logged" wait_for 3 grep -q "no tls: listen entry of that family" "$E2E_TMP/notls.log"
	n=$("$SIPDLGCTL" --socket "$E2E_TMP/notls-ctl.sock" --json stats sip 2>/dev/null | jq -r '."sip.rejected_503_no_tls" // 0')
	check_eq "and counted in sip.rejected_503_no_tls" 1 "$n"
else
	not_ok "a sipdlgd without TLS starts" "$(tail -n 20 "$E2E_TMP/notls.log")"
fi

f0=$(tls_stat handshake_failed)
s_client rogue -cert "$CERTS/rogue.pem" -key "$CERTS/rogue.key"
check "a client certificate of another CA is refused, counted" wait_for 3 stat_above tls_stat handshake_failed "$f0"
f0=$(tls_stat handshake_failed)
s_client expired -cert "$CERTS/expired.pem" -key "$CERTS/expired.key"
check "an expired client certificate is refused, counted" wait_for 3 stat_above tls_stat handshake_failed "$f0"
f0=$(tls_stat handshake_failed)
s_client nocert
check "a client without a certificate is refused (verify_peer: required)" wait_for 3 stat_above tls_stat handshake_failed "$f0"

# --- a client that stops mid-handshake -------------------------------------------
t0=$(tls_stat handshake_timeout)
exec 5<>"/dev/tcp/127.0.0.1/$T"
printf '\026\003\001\002\000\001\000' >&5        # a ClientHello header, cut short
check "a client that stops mid-handshake is cut off after handshake_timeout_ms, counted" \
	wait_for 3 stat_above tls_stat handshake_timeout "$t0"
if timeout 2 cat <&5 >/dev/null 2>&1; then ok "and its connection is closed"; else not_ok "and its connection is closed" "still open 2 s later"; fi
exec 5<&-

# --- SNI, IPv6 --------------------------------------------------------------------
CL=(-cert "$CERTS/client.pem" -key "$CERTS/client.key")
s_client sni "${CL[@]}" -servername other.test
check_contains "SNI other.test gets the certificates: entry for other.test" "CN = other.test" "$(grep '^subject=' "$E2E_TMP/sni.txt")"
s_client nosni "${CL[@]}" -noservername
check_contains "no SNI gets the default certificate" "CN = sip.test" "$(grep '^subject=' "$E2E_TMP/nosni.txt")"
if have_ipv6; then
	timeout 5 openssl s_client -connect "[::1]:$T" -CAfile "$CERTS/ca.pem" "${CL[@]}" \
		-verify_hostname sip.test </dev/null >"$E2E_TMP/v6.txt" 2>&1
	check_contains "a TLS handshake over IPv6 ([::1]) with a verified sip.test" \
		"Verify return code: 0 (ok)" "$(cat "$E2E_TMP/v6.txt")"
else
	skip "a TLS handshake over IPv6" "no ::1 on this host"
fi

# --- bad input over TLS: the rules of TCP ----------------------------------------
fe0=$(core_stat tcp_framing_errors)
printf 'INVITE sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:9;branch=z9hG4bKbad\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: bad@e2e\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: abc\r\n\r\n' |
	timeout 5 openssl s_client -connect "127.0.0.1:$T" -CAfile "$CERTS/ca.pem" "${CL[@]}" -quiet \
		>"$E2E_TMP/bad.txt" 2>&1
check "a broken message over TLS is a framing error (the rules of TCP)" \
	wait_for 3 stat_above core_stat tcp_framing_errors "$fe0"
check_contains "and is answered 400 before the close" "SIP/2.0 400" "$(cat "$E2E_TMP/bad.txt")"
rs0=$(core_stat tcp_refused_per_source)
for fd in $(seq 20 35); do eval "exec $fd<>/dev/tcp/127.0.0.1/$T" 2>/dev/null; done
check "tcp.max_connections_per_source applies to TLS connections" \
	wait_for 3 stat_above core_stat tcp_refused_per_source "$rs0"
for fd in $(seq 20 35); do eval "exec $fd<&-" 2>/dev/null; done

# --- certificate reload during a call -----------------------------------------------
serial() { openssl x509 -noout -serial -in "$1"; }
served_serial() {
	s_client served "${CL[@]}" -noservername
	openssl x509 -noout -serial -in "$E2E_TMP/served.txt" 2>/dev/null
}
sipp_start reload-uas uas_call.xml -m 1 -i 127.0.0.1 -t u1 -p "$U1"
r_uas=$SIPP_PID
wait_for 5 port_bound udp "$U1"
sipp_start reload-uac uac_call.xml -m 1 -recv_timeout 5000 "${TLS_UAC[@]}" -p $((C + 4)) -s tlsudp -d 2500
r_uac=$SIPP_PID
sleep 1
cp "$CERTS/sip2.pem" "$E2E_TMP/live.pem"
cp "$CERTS/sip2.key" "$E2E_TMP/live.key"
out=$("$SIPDLGCTL" --socket "$DLG_SOCK" tls reload 2>&1); rc=$?
check_eq "sipdlgctl tls reload during a call succeeds" "0" "$rc"
check_eq "new handshakes get the new certificate" "$(serial "$CERTS/sip2.pem")" "$(served_serial)"
echo "garbage" >"$E2E_TMP/live.pem"
out=$("$SIPDLGCTL" --socket "$DLG_SOCK" tls reload 2>&1); rc=$?
check "a bad new certificate is refused (sipdlgctl exits non-zero)" [ "$rc" -ne 0 ]
check_contains "with the reason" "holds no usable PEM certificate" "$out"
check_eq "and the one in force stays" "$(serial "$CERTS/sip2.pem")" "$(served_serial)"
cp "$CERTS/sip.pem" "$E2E_TMP/live.pem"
cp "$CERTS/sip.key" "$E2E_TMP/live.key"
rl0=$(tls_stat reloads)
kill -HUP "$PROXY_PID"
check "SIGHUP reloads the certificates too" wait_for 3 stat_above tls_stat reloads "$rl0"
check_eq "and new handshakes see them" "$(serial "$CERTS/sip.pem")" "$(served_serial)"
sipp_wait "$r_uac" 20; r_uac_rc=$?
sipp_wait "$r_uas" 3; r_uas_rc=$?
sipp_call_check "the call across the reloads ends normally (its connection kept)" \
	reload-uac "$r_uac_rc" reload-uas "$r_uas_rc" 1

if kill -0 "$PROXY_PID" 2>/dev/null; then
	ok "sipdlgd is still running after all cases"
else
	not_ok "sipdlgd is still running after all cases" "$(tail -n 20 "$PROXY_LOG")"
fi
e2e_finish
