#!/bin/bash
# Requests sipdlgd, as a SIP proxy, must answer itself instead of
# forwarding: Max-Forwards: 0 (483), an initial request no routes: rule
# handles (404), a request its own rule sends back to it (482 or 483), and
# malformed requests (400, with a reason phrase naming the problem, e.g.
# the missing Call-ID), over UDP and TCP.  sipp plays the caller where the
# request is well formed; the malformed ones are written by hand (sipp
# cannot place a call without a Call-ID).  No XDP here.
. "$(dirname "$0")/lib.sh"
e2e_init
need_sipp
SIPP_TIMEOUT=20        # no sipp runs longer (a working case takes < 2 s)

BASE=$((11000 + ($$ % 500) * 20))   # 20 ports of our own, apart from test_proxy_calls.sh
P=$BASE
SINK=$((BASE + 1))                  # a callee that must never see a request
C=$((BASE + 10))                    # callers use C .. C+9

ROUTES=(
	"sink=udp:127.0.0.1:$SINK"
	"loop=udp:127.0.0.1:$P"
)
CFG="$E2E_TMP/proxy.yaml"
proxy_config "$CFG" "$P" "${ROUTES[@]}"
check "the proxy test config passes sipdlgd --check" "$SIPDLGD" -c "$CFG" --check

if ! start_proxy proxy "$CFG" "$P" "${ROUTES[@]}"; then
	not_ok "the proxy starts and listens on UDP and TCP port $P" "$(proxy_diag)"
	e2e_finish
fi
ok "the proxy starts and listens on UDP and TCP port $P"

# the callee behind rule "sink": it counts what it receives and must get nothing
sipp_start sink uas_call.xml -m 1 -i 127.0.0.1 -t u1 -p "$SINK"
SINK_PID=$SIPP_PID
wait_for 5 port_bound udp "$SINK"

# uac NAME DESC SCENARIO SIPP-ARGS... : one sipp caller that must succeed.
uac() {
	local name=$1 desc=$2 sf=$3 rc
	shift 3
	sipp_start "$name" "$sf" -m 1 -recv_timeout 5000 "$@"
	sipp_wait "$SIPP_PID" 30; rc=$?
	local succ
	succ=$(sipp_stat "$name" 'SuccessfulCall(C)')
	if [ "$rc" -eq 0 ] && [ "$succ" = 1 ]; then
		ok "$desc"
	else
		not_ok "$desc" "caller (sipp $name) exit status $rc, successful calls: ${succ:-none}" \
			"$(sipp_diag "$name")" "$(proxy_diag)"
	fi
}

UDP_UAC=("127.0.0.1:$P" -i 127.0.0.1 -t u1)

uac maxfwd "an INVITE with Max-Forwards: 0 gets 483 (not forwarded)" \
	uac_maxfwd0.xml "${UDP_UAC[@]}" -p "$C" -s sink
uac maxfwd-tcp "the same over TCP gets 483" \
	uac_maxfwd0.xml "127.0.0.1:$P" -i 127.0.0.1 -t t1 -p $((C + 1)) -s sink
uac options404 "an OPTIONS that no rule handles gets 404" \
	uac_options_404.xml "${UDP_UAC[@]}" -p $((C + 2)) -s nobody
uac loop "an INVITE forwarded back to the proxy itself gets 482 or 483" \
	uac_loop.xml "${UDP_UAC[@]}" -p $((C + 3)) -s loop

sipp_wait "$SINK_PID" 0
n_sink=0
[ -f "$E2E_TMP/sink.msg" ] && n_sink=$(grep -Ec '^[A-Z]+ sip:' "$E2E_TMP/sink.msg")
check_eq "the callee behind the rule received no request" 0 "$n_sink"

# --- malformed requests -------------------------------------------------------
# request_without HEADER TRANSPORT PORT BRANCH [LINE] : an OPTIONS for
# "sink" with every mandatory header, but HEADER left out (or replaced by
# LINE); its Via names TRANSPORT and 127.0.0.1:PORT, where the answer can
# be sent.
request_without() {
	local skip=$1 tr=$2 port=$3 br=$4 line=${5:-}
	{
		printf 'OPTIONS sip:sink@127.0.0.1:%s SIP/2.0\r\n' "$P"
		printf 'Via: SIP/2.0/%s 127.0.0.1:%s;branch=%s\r\n' "$tr" "$port" "$br"
		printf 'From: <sip:e2e@127.0.0.1>;tag=e2e400\r\n'
		printf 'To: <sip:sink@127.0.0.1>\r\n'
		[ "$skip" = Call-ID ] || printf 'Call-ID: e2e-400-%s@127.0.0.1\r\n' "$br"
		[ "$skip" = CSeq ] || printf 'CSeq: 1 OPTIONS\r\n'
		[ "$skip" = Max-Forwards ] || printf 'Max-Forwards: 70\r\n'
		[ -z "$line" ] || printf '%s\r\n' "$line"
		printf 'Content-Length: 0\r\n\r\n'
	}
}

# udp_exchange SRC-PORT FILE : send FILE as one datagram from
# 127.0.0.1:SRC-PORT to the proxy; print what comes back within 3 s.
udp_exchange() {
	timeout 10 socat -T 3 -t 3 - "UDP:127.0.0.1:$P,bind=127.0.0.1:$1" <"$2" 2>&1
}

# tcp_exchange FILE : send FILE on a new TCP connection to the proxy; print
# the header of the answer (up to its empty line) that comes within 3 s.
tcp_exchange() {
	local fd line
	exec {fd}<>"/dev/tcp/127.0.0.1/$P" || return 1
	cat "$1" >&"$fd"
	while IFS= read -r -t 3 line <&"$fd"; do
		printf '%s\n' "$line"
		[ "$line" = $'\r' ] && break
	done
	exec {fd}>&-
}

# check_400 DESC HEADER BRANCH REQUEST-FILE ANSWER : the answer is a 400
# whose reason phrase names HEADER and that carries our Via (RFC 3261
# 8.2.6.2).
check_400() {
	local desc=$1 hdr=$2 br=$3 req=$4 ans
	ans=$(printf '%s' "$5" | tr -d '\r')
	local status=${ans%%$'\n'*}
	if [[ "$status" != "SIP/2.0 400 "* ]]; then
		not_ok "$desc" "expected a 400 answer, got: ${status:-nothing within 3 s}" \
			"$ans" "--- the request:" "$(tr -d '\r' <"$req")" "$(proxy_diag)"
	elif ! grep -qi -- "$hdr" <<<"${status#SIP/2.0 400 }"; then
		not_ok "$desc" "the reason phrase does not name $hdr: $status"
	elif ! grep -qi "^Via:.*branch=$br" <<<"$ans"; then
		not_ok "$desc" "the 400 does not carry the request's Via" "$ans"
	else
		ok "$desc ($status)"
	fi
}

if command -v socat >/dev/null 2>&1; then
	request_without Call-ID UDP $((C + 4)) z9hG4bK-e2e-nocid-udp >"$E2E_TMP/nocid-udp.txt"
	check_400 "a request without Call-ID (UDP) gets 400 naming Call-ID" Call-ID z9hG4bK-e2e-nocid-udp \
		"$E2E_TMP/nocid-udp.txt" "$(udp_exchange $((C + 4)) "$E2E_TMP/nocid-udp.txt")"
	request_without CSeq UDP $((C + 5)) z9hG4bK-e2e-nocseq-udp >"$E2E_TMP/nocseq-udp.txt"
	check_400 "a request without CSeq (UDP) gets 400 naming CSeq" CSeq z9hG4bK-e2e-nocseq-udp \
		"$E2E_TMP/nocseq-udp.txt" "$(udp_exchange $((C + 5)) "$E2E_TMP/nocseq-udp.txt")"
	request_without Max-Forwards UDP $((C + 7)) z9hG4bK-e2e-badmf-udp 'Max-Forwards: many' \
		>"$E2E_TMP/badmf-udp.txt"
	check_400 "a request with Max-Forwards: many (UDP) gets 400 naming Max-Forwards" \
		Max-Forwards z9hG4bK-e2e-badmf-udp "$E2E_TMP/badmf-udp.txt" "$(udp_exchange $((C + 7)) "$E2E_TMP/badmf-udp.txt")"
else
	skip "a request without Call-ID (UDP) gets 400 naming Call-ID" "socat is not installed"
	skip "a request without CSeq (UDP) gets 400 naming CSeq" "socat is not installed"
	skip "a request with Max-Forwards: many (UDP) gets 400 naming Max-Forwards" "socat is not installed"
fi
request_without Call-ID TCP $((C + 6)) z9hG4bK-e2e-nocid-tcp >"$E2E_TMP/nocid-tcp.txt"
check_400 "a request without Call-ID (TCP) gets 400 naming Call-ID" Call-ID z9hG4bK-e2e-nocid-tcp \
	"$E2E_TMP/nocid-tcp.txt" "$(tcp_exchange "$E2E_TMP/nocid-tcp.txt")"

if kill -0 "$PROXY_PID" 2>/dev/null; then
	ok "the proxy is still running"
else
	not_ok "the proxy is still running" "$(proxy_diag)"
fi

e2e_finish
