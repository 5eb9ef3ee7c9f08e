#!/bin/bash
# The fast path with real calls: sipdlgd in one network namespace with
# XDP on its end of a veth pair (xdp.unknown_dialog: drop), sipp caller
# and callee in the other.  Checks that
#   - the kernel mirrors the dialog (dlg.list shows its counters under
#     "xdp") and counts the in-dialog messages sipp sent, per dialog;
#   - forged in-dialog requests (a cookie naming no dialog, the real
#     cookie with a wrong tag) are dropped in the kernel: the controller
#     never receives them and the dialog stays up;
#   - the real call still ends normally (sipdlgctl end: BYE both ways).
. "$(dirname "$0")/lib.sh"
e2e_init
need_sipp
command -v jq >/dev/null 2>&1 || { skip "xdp dialogs" "jq is not installed"; exit 0; }
SIPP_TIMEOUT=25

NSA="${E2E_ID}xa" NSB="${E2E_ID}xb"
VA="${E2E_ID}xva" VB="${E2E_ID}xvb"
# Addresses exist only inside the two namespaces this test creates.
NET=10.234.$(( $$ % 200 ))
A=$NET.1 B=$NET.2
P=5060 U=5080 C=5070

netns_pair "$NSA" "$NSB" "$VA" "$VB" "$A/24" "$B/24" ||
	{ not_ok "create namespaces" "$(cat "$E2E_TMP/netns_pair.log")"; e2e_finish; }

DLG_SOCK="$E2E_TMP/ctl.sock"
new_pin_path PIN xdlg
CFG="$E2E_TMP/xdp-dlg.yaml"
cat >"$CFG" <<EOF
listen: ["udp:$A:$P"]
xdp:
  interfaces: [$VA]
  pin_path: $PIN
  unknown_dialog: drop
control:
  socket: $DLG_SOCK
log:
  level: debug
routes:
  - match: { method: INVITE, in_dialog: false }
    actions: [ dlg_manage, { forward: "udp:$B:$U" } ]
EOF
PROXY_LOG="$E2E_TMP/proxy.log"
if ! start_daemon proxy "$CFG" "$NSA"; then
	not_ok "sipdlgd starts with XDP on $VA (drop policy)"
	e2e_finish
fi
ok "sipdlgd starts with XDP on $VA (drop policy)"

ctl() { "$SIPDLGCTL" --socket "$DLG_SOCK" --json "$@"; }
reason() { json_get "$(ctl xdp)" ".counters.$1.packets // 0"; }

# sipp in namespace B (sipp_start runs sipp in a subshell: wrap it).
sipp_ns() {
	local name=$1 sf=$2
	shift 2
	rm -f "$E2E_TMP/$name".*
	( cd "$E2E_TMP" && exec nsenter --net="/run/netns/$NSB" sipp \
		-sf "$SIPP_SCENARIOS/$sf" -nostdin -trace_err \
		-error_file "$E2E_TMP/$name.err" -trace_msg \
		-message_file "$E2E_TMP/$name.msg" -timeout "${SIPP_TIMEOUT}s" \
		-timeout_error "$@" ) >"$E2E_TMP/$name.out" 2>&1 </dev/null &
	SIPP_PID=$!
	E2E_PIDS+=("$SIPP_PID")
}
sipp_sent() {
	grep -c "message sent" "$E2E_TMP/$1.msg" 2>/dev/null || echo 0
}

sipp_ns uas dlg_uas_wait_bye.xml -i "$B" -t u1 -p "$U" -m 1 -default_behaviors "all,-bye"
UAS_PID=$SIPP_PID
sleep 0.5
sipp_ns uac dlg_uac_wait_bye.xml "$A:$P" -i "$B" -t u1 -p "$C" -m 1 -s xdp \
	-key from_user xena -recv_timeout 15000 -default_behaviors "all,-bye" \
	-cid_str "xdpdlg-%u-%p@%s"
UAC_PID=$SIPP_PID
CID="xdpdlg-1-$UAC_PID@$B"

up() { [ "$(json_get "$(ctl list)" "[.[] | select(.\"call-id\" == \"$CID\")][0].state")" = 4 ]; }
if ! wait_for 8 up; then
	not_ok "the call is up through the proxy" "$(tail -n 20 "$PROXY_LOG")" \
		"$(tail -n 20 "$E2E_TMP/uac.err" 2>/dev/null)"
	e2e_finish
fi
ok "the call is up through the proxy (state 4)"
DLG=$(json_get "$(ctl list)" "[.[] | select(.\"call-id\" == \"$CID\")][0]")
he=$(json_get "$DLG" .h_entry) hi=$(json_get "$DLG" .h_id)
check_eq "dlg.list shows the dialog's kernel counters under \"xdp\"" true \
	"$(json_get "$DLG" '.xdp != null')"
check_eq "the kernel counted the ACK against the dialog" 1 \
	"$(json_get "$DLG" '.xdp.methods.ACK // 0')"
check "bpftool shows the dialog in the pinned map" sh -c \
	"bpftool map dump pinned $PIN/dialogs | grep -q '\"h_id\": $hi'"

# --- forged requests: dropped in the kernel ---------------------------------
rcv0=$(json_get "$(ctl stats sip)" '.["sip.rcv_requests"]')
unk0=$(reason dlg_unknown_dropped) mis0=$(reason dlg_mismatch_dropped)
rh() { printf '%x' "$1" | rev; }
ft=$(json_get "$DLG" .caller.tag) tt=$(json_get "$DLG" .callee.tag)
forge() { # COOKIE FROMTAG
	printf 'BYE sip:callee@%s:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%s;branch=z9hG4bKforged%s\r\nRoute: <sip:%s:%s;lr;did=%s>\r\nFrom: <sip:xena@%s>;tag=%s\r\nTo: <sip:xdp@%s>;tag=%s\r\nCall-ID: %s\r\nCSeq: 99 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' \
		"$B" "$U" "$B" 5999 "$RANDOM" "$A" "$P" "$1" "$B" "$2" "$A" "$tt" "$CID" \
		>"$E2E_TMP/forged.sip"
	in_ns "$NSB" bash -c "cat '$E2E_TMP/forged.sip' >/dev/udp/$A/$P" 2>/dev/null
}
forge "$(rh $((he ^ 1))).$(rh "$hi")" "$ft"     # no such dialog
forge "$(rh "$he").$(rh "$hi")" "forged-tag"     # the real cookie, wrong tag
sleep 0.5
check_eq "a forged cookie is dropped in the kernel (dlg_unknown_dropped +1)" \
	$((unk0 + 1)) "$(reason dlg_unknown_dropped)"
check_eq "the real cookie with a wrong tag is dropped (dlg_mismatch_dropped +1)" \
	$((mis0 + 1)) "$(reason dlg_mismatch_dropped)"
check_eq "the controller never received them (sip.rcv_requests unchanged)" \
	"$rcv0" "$(json_get "$(ctl stats sip)" '.["sip.rcv_requests"]')"
check_eq "the dialog is still up" 4 \
	"$(json_get "$(ctl list)" "[.[] | select(.\"call-id\" == \"$CID\")][0].state")"

# --- the real end -------------------------------------------------------------
"$SIPDLGCTL" --socket "$DLG_SOCK" end "$he" "$hi" >/dev/null 2>&1
sipp_wait "$UAC_PID" 16; uac_rc=$?
sipp_wait "$UAS_PID" 6; uas_rc=$?
check_eq "the call still ends normally: both sides got the BYE and answered" "0 0" "$uac_rc $uas_rc"
sleep 0.3
DLG=$(json_get "$(ctl list)" "[.[] | select(.\"call-id\" == \"$CID\")][0]")
# Everything sipp sent to the proxy after the INVITE belongs to the
# dialog: the caller's ACK and 200 to our BYE, the callee's 180/200 (and
# any retransmission) and 200 to our BYE.
want=$(( $(sipp_sent uac) - 1 + $(sipp_sent uas) ))
got=$(json_get "$DLG" '[.xdp.traffic[].packets] | add')
check_eq "the dialog's kernel counters equal the messages sipp sent in it" "$want" "$got"
check_eq "replies were matched by our Via branch" true \
	"$(json_get "$DLG" '([.xdp.traffic[].replies] | add) >= 3')"
# Without xdp.cookie_mac there is no key to rotate: refused, nothing changes.
prog0=$(json_get "$(ctl xdp)" .program.id)
out=$("$SIPDLGCTL" --socket "$DLG_SOCK" xdp rotate-key 2>&1); rc=$?
check_eq "xdp rotate-key with the MAC off is refused (exit 1)" 1 "$rc"
check_contains "saying how to switch it on" "set xdp.cookie_mac.key_file" "$out"
check_eq "and the program stays" "$prog0" "$(json_get "$(ctl xdp)" .program.id)"
stop_daemon "$DAEMON_PID"
e2e_finish
