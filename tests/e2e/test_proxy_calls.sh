#!/bin/bash
# Calls through sipdlgd as a record-routing, transaction-stateful proxy,
# with sipp, the real client, on both ends over loopback:
#   caller (sipp UAC) -> sipdlgd -> callee (sipp UAS)
# The caller follows the Record-Route set, so ACK and BYE come back through
# the proxy with a Route header.  One callee per case, each on its own
# port; the proxy picks it by the Request-URI user (one routes: rule each).
# Cases: a basic call, CANCEL before the answer, a 486 answer, 100 calls
# in a row, a late answer while the caller retransmits (one INVITE reaches
# the callee), TCP on both legs, UDP in and TCP out, IPv6, and garbage
# between calls.  No XDP here (xdp.enabled: false).
. "$(dirname "$0")/lib.sh"
e2e_init
need_sipp
SIPP_TIMEOUT=20        # no sipp runs longer (a working case takes < 5 s)

BASE=$((21000 + ($$ % 500) * 20))   # 20 ports of our own, below the ephemeral range
P=$BASE                             # the proxy, UDP and TCP, 127.0.0.1 and ::1
U_BASIC=$((BASE + 1)) U_CANCEL=$((BASE + 2)) U_BUSY=$((BASE + 3))
U_BULK=$((BASE + 4)) U_LATE=$((BASE + 5)) U_TCP=$((BASE + 6))
U_UDPTCP=$((BASE + 7)) U_V6=$((BASE + 8)) U_GARBAGE=$((BASE + 9))
C=$((BASE + 10))                    # callers use C .. C+9

ROUTES=(
	"basic=udp:127.0.0.1:$U_BASIC"
	"cancel=udp:127.0.0.1:$U_CANCEL"
	"busy=udp:127.0.0.1:$U_BUSY"
	"bulk=udp:127.0.0.1:$U_BULK"
	"late=udp:127.0.0.1:$U_LATE"
	"tcp=tcp:127.0.0.1:$U_TCP"
	"udptcp=tcp:127.0.0.1:$U_UDPTCP"
	"v6=udp:[::1]:$U_V6"
	"garbage=udp:127.0.0.1:$U_GARBAGE"
)
CFG="$E2E_TMP/proxy.yaml"
proxy_config "$CFG" "$P" "${ROUTES[@]}"
check "the proxy test config passes sipdlgd --check" "$SIPDLGD" -c "$CFG" --check

if ! start_proxy proxy "$CFG" "$P" "${ROUTES[@]}"; then
	not_ok "the proxy starts and listens on UDP and TCP port $P" "$(proxy_diag)"
	e2e_finish
fi
ok "the proxy starts and listens on UDP and TCP port $P"

# call NAME DESC CALLS UAS-SCENARIO UAS-ARGS -- UAC-SCENARIO UAC-ARGS :
# start the callee, wait until it listens, run the caller, then check both.
call() {
	local name=$1 desc=$2 calls=$3 uas_sf=$4
	shift 4
	local uas_args=() uac_sf uas_pid uac_pid uas_rc uac_rc
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do uas_args+=("$1"); shift; done
	shift
	uac_sf=$1; shift
	sipp_start "$name-uas" "$uas_sf" -m "$calls" "${uas_args[@]}"
	uas_pid=$SIPP_PID
	local port proto=udp i
	for ((i = 0; i < ${#uas_args[@]}; i++)); do
		case "${uas_args[i]}" in
		-p) port=${uas_args[i + 1]} ;;
		-t) [ "${uas_args[i + 1]}" = t1 ] && proto=tcp ;;
		esac
	done
	if ! wait_for 5 port_bound "$proto" "$port"; then
		sipp_wait "$uas_pid" 1
		not_ok "$desc" "the callee (sipp) did not bind $proto port $port" "$(sipp_diag "$name-uas")"
		return 1
	fi
	sipp_start "$name-uac" "$uac_sf" -m "$calls" -recv_timeout 5000 "$@"
	uac_pid=$SIPP_PID
	sipp_wait "$uac_pid" 40; uac_rc=$?
	sipp_wait "$uas_pid" 3; uas_rc=$?
	sipp_call_check "$desc" "$name-uac" "$uac_rc" "$name-uas" "$uas_rc" "$calls"
}

# received NAME METHOD : how many METHOD requests sipp NAME received (the
# start lines after "message received" in its -trace_msg log).
received() {
	awk -v m="$2" '/message received/ { want = 1; next }
		want && NF { if ($1 == m) n++; want = 0 }
		END { print n + 0 }' "$E2E_TMP/$1.msg" 2>/dev/null || echo 0
}

UDP_UAS=(-i 127.0.0.1 -t u1)
UDP_UAC=("127.0.0.1:$P" -i 127.0.0.1 -t u1)

# --- a basic call ---------------------------------------------------------
call basic "a basic call: INVITE/180/200, ACK and BYE through the proxy by Route" 1 \
	uas_call.xml "${UDP_UAS[@]}" -p "$U_BASIC" -- \
	uac_call.xml "${UDP_UAC[@]}" -p "$C" -s basic -d 200
# The callee must get the ACK and the BYE once each, without the proxy's
# own Route entry (RFC 3261 16.4: a proxy removes the Route value that
# names it), and the caller must have sent them with a Route header.
n_ack=$(received basic-uas ACK) n_bye=$(received basic-uas BYE)
if [ "$n_ack" != 1 ] || [ "$n_bye" != 1 ]; then
	not_ok "the proxy removes its own Route entry from ACK and BYE" \
		"the callee received $n_ack ACK and $n_bye BYE (expected 1 each)"
elif grep -iq "^Route:.*:${P}[;>]" "$E2E_TMP/basic-uas.msg"; then
	not_ok "the proxy removes its own Route entry from ACK and BYE" \
		"$(grep -i '^Route:' "$E2E_TMP/basic-uas.msg")"
else
	ok "the proxy removes its own Route entry from ACK and BYE"
fi
check_eq "the caller sent ACK and BYE with a Route header" 2 \
	"$(grep -ic "^Route:.*:$P" "$E2E_TMP/basic-uac.msg" 2>/dev/null)"

# --- CANCEL before the answer --------------------------------------------
call cancel "CANCEL before the answer: 200 for the CANCEL, 487 for the INVITE, ACK" 1 \
	uas_cancel.xml "${UDP_UAS[@]}" -p "$U_CANCEL" -- \
	uac_cancel.xml "${UDP_UAC[@]}" -p $((C + 1)) -s cancel

# --- a busy callee ---------------------------------------------------------
call busy "a 486 Busy Here answer reaches the caller, who ACKs it" 1 \
	uas_busy.xml "${UDP_UAS[@]}" -p "$U_BUSY" -- \
	uac_busy.xml "${UDP_UAC[@]}" -p $((C + 2)) -s busy

# --- 100 calls in a row ------------------------------------------------------
call bulk "100 calls in a row (50 per second, at most 10 at once), 0 failed" 100 \
	uas_call.xml "${UDP_UAS[@]}" -p "$U_BULK" -- \
	uac_call.xml "${UDP_UAC[@]}" -p $((C + 3)) -s bulk -d 50 -r 50 -l 10

# --- a late answer while the caller retransmits ----------------------------
call late "a late answer (2.5 s) while the caller retransmits the INVITE" 1 \
	uas_late.xml "${UDP_UAS[@]}" -p "$U_LATE" -- \
	uac_late.xml "${UDP_UAC[@]}" -p $((C + 4)) -s late -d 200
n_inv_uac=$(grep -c '^INVITE ' "$E2E_TMP/late-uac.msg" 2>/dev/null)   # it only sends them
n_inv_uas=$(received late-uas INVITE)
if [ "${n_inv_uac:-0}" -ge 3 ] && [ "${n_inv_uas:-0}" -eq 1 ]; then
	ok "the proxy absorbs the INVITE retransmissions (the callee got 1 of $n_inv_uac)"
else
	not_ok "the proxy absorbs the INVITE retransmissions" \
		"the caller sent ${n_inv_uac:-0} copies (expected 3 or more)" \
		"the callee received ${n_inv_uas:-0} (expected exactly 1)"
fi

# --- TCP on both legs ---------------------------------------------------------
call tcp "TCP on both legs" 1 \
	uas_call.xml -i 127.0.0.1 -t t1 -p "$U_TCP" -- \
	uac_call.xml "127.0.0.1:$P" -i 127.0.0.1 -t t1 -p $((C + 5)) -s tcp -d 200

# --- UDP in, TCP out -------------------------------------------------------------
call udptcp "UDP from the caller, TCP to the callee" 1 \
	uas_call.xml -i 127.0.0.1 -t t1 -p "$U_UDPTCP" -- \
	uac_call.xml "${UDP_UAC[@]}" -p $((C + 6)) -s udptcp -d 200

# --- IPv6 -------------------------------------------------------------------------
if have_ipv6; then
	call v6 "a call over IPv6 (::1) on both legs" 1 \
		uas_call.xml -i ::1 -t u1 -p "$U_V6" -- \
		uac_call.xml "[::1]:$P" -i ::1 -t u1 -p $((C + 7)) -s v6 -d 200
else
	skip "a call over IPv6 (::1) on both legs" "no ::1 on this host"
fi

# --- garbage between calls -------------------------------------------------------
# garbage : datagrams that are not SIP, or broken SIP, to the proxy's UDP
# port, and a broken message on a TCP connection.
garbage() {
	local g="$E2E_TMP/garbage" i
	for i in 1 2 3 4 5; do
		head -c $((i * 97)) /dev/urandom >"$g"
		cat "$g" >"/dev/udp/127.0.0.1/$P"
	done
	printf '\r\n\r\n' >"/dev/udp/127.0.0.1/$P"                 # keep-alive
	printf 'INVITE sip:garbage@x SIP/2.0\r\n' >"/dev/udp/127.0.0.1/$P"   # cut short
	printf 'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKnone\r\n\r\n' \
		>"/dev/udp/127.0.0.1/$P"                               # a stray response
	printf 'INVITE sip:garbage@127.0.0.1 SIP/2.0\r\nContent-Length: 99999999999999999999\r\n\r\n' \
		>"/dev/udp/127.0.0.1/$P"
	printf '\0\0\0\0' >"/dev/udp/127.0.0.1/$P"
	head -c 3000 /dev/urandom >"/dev/tcp/127.0.0.1/$P"
} 2>/dev/null
sipp_start garbage-uas uas_call.xml -m 3 "${UDP_UAS[@]}" -p "$U_GARBAGE"
g_uas=$SIPP_PID
wait_for 5 port_bound udp "$U_GARBAGE"
g_ok=0
for i in 1 2 3; do
	garbage
	sipp_start "garbage-uac$i" uac_call.xml -m 1 -recv_timeout 5000 "${UDP_UAC[@]}" \
		-p $((C + 8)) -s garbage -d 100
	sipp_wait "$SIPP_PID" 40 && g_ok=$((g_ok + 1)) || g_fail="garbage-uac$i"
done
sipp_wait "$g_uas" 3; g_uas_rc=$?
if [ "$g_ok" -eq 3 ] && [ "$g_uas_rc" -eq 0 ]; then
	ok "garbage datagrams between calls: the 3 calls still succeed"
else
	not_ok "garbage datagrams between calls: the 3 calls still succeed" \
		"$g_ok of 3 calls succeeded; callee exit status $g_uas_rc" \
		"$(sipp_diag ${g_fail:+"$g_fail"} garbage-uas)" "$(proxy_diag)"
fi
if kill -0 "$PROXY_PID" 2>/dev/null; then
	ok "the proxy is still running after all calls"
else
	not_ok "the proxy is still running after all calls" "$(proxy_diag)"
fi

e2e_finish
