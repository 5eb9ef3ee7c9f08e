#!/bin/bash
# The generator's shapes (tests/lib/sipgen.h) through a real call: sipdlgd
# in one network namespace with XDP on its end of a veth pair
# (xdp.unknown_dialog: drop), sipp caller and callee in the other set up a
# call through it; then tests/e2e/sipgen_send sends generated in-dialog
# requests of that call (its Call-ID, tags and did cookie, read from
# `sipdlgctl --json list`), both directions, every method but BYE and
# CANCEL, in any header shape, and answers each forwarded copy 200 OK as
# the far end.  Checks that
#   - the proxy forwarded every one (the far end received it);
#   - the kernel counted every one for the dialog: packets per direction,
#     replies, per-method counts and the highest CSeq each way (dlg.list
#     "xdp"), and dropped nothing, counted nothing as malformed;
#   - the call still ends normally afterwards (sipdlgctl end: BYE both ways).
# SIPDLG_E2E_SIPGEN_SEED and _N choose the messages (default 1 and 120).
. "$(dirname "$0")/lib.sh"
e2e_init
need_sipp
command -v jq >/dev/null 2>&1 || { skip "xdp sipgen" "jq is not installed"; exit 0; }
SENDER="$E2E_ROOT/build/tests/e2e/sipgen_send"
[ -x "$SENDER" ] || { not_ok "build/tests/e2e/sipgen_send is built (make test-build)"; e2e_finish; }
SIPP_TIMEOUT=90
SEED=${SIPDLG_E2E_SIPGEN_SEED:-1}
N=${SIPDLG_E2E_SIPGEN_N:-120}

NSA="${E2E_ID}ga" NSB="${E2E_ID}gb"
VA="${E2E_ID}gva" VB="${E2E_ID}gvb"
# Addresses exist only inside the two namespaces this test creates.
NET=10.235.$(( $$ % 200 ))
A=$NET.1 B=$NET.2
P=5060 U=5080 C=5070 R=5090

netns_pair "$NSA" "$NSB" "$VA" "$VB" "$A/24" "$B/24" ||
	{ not_ok "create namespaces" "$(cat "$E2E_TMP/netns_pair.log")"; e2e_finish; }

DLG_SOCK="$E2E_TMP/ctl.sock"
new_pin_path PIN xgen
CFG="$E2E_TMP/xdp-sipgen.yaml"
cat >"$CFG" <<EOF
listen: ["udp:$A:$P"]
xdp:
  interfaces: [$VA]
  pin_path: $PIN
  unknown_dialog: drop
control:
  socket: $DLG_SOCK
log:
  level: info
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

# The callers' scenarios wait 10 s for the BYE; on a loaded machine the
# generated requests can take longer: the same scenarios, waiting 60 s.
for sf in dlg_uas_wait_bye.xml dlg_uac_wait_bye.xml; do
	sed 's/<recv request="BYE" timeout="10000"\/>/<recv request="BYE" timeout="60000"\/>/' \
		"$SIPP_SCENARIOS/$sf" >"$E2E_TMP/$sf"
done

# sipp in namespace B (as test_xdp_dialogs.sh does), scenarios from $E2E_TMP.
sipp_ns() {
	local name=$1 sf=$2
	shift 2
	rm -f "$E2E_TMP/$name".*
	( cd "$E2E_TMP" && exec nsenter --net="/run/netns/$NSB" sipp \
		-sf "$E2E_TMP/$sf" -nostdin -trace_err \
		-error_file "$E2E_TMP/$name.err" -trace_msg \
		-message_file "$E2E_TMP/$name.msg" -timeout "${SIPP_TIMEOUT}s" \
		-timeout_error "$@" ) >"$E2E_TMP/$name.out" 2>&1 </dev/null &
	SIPP_PID=$!
	E2E_PIDS+=("$SIPP_PID")
}

sipp_ns uas dlg_uas_wait_bye.xml -i "$B" -t u1 -p "$U" -m 1 -default_behaviors "all,-bye"
UAS_PID=$SIPP_PID
sleep 0.5
sipp_ns uac dlg_uac_wait_bye.xml "$A:$P" -i "$B" -t u1 -p "$C" -m 1 -s gen \
	-key from_user gena -recv_timeout 65000 -default_behaviors "all,-bye" \
	-cid_str "sipgen-%u-%p@%s"
UAC_PID=$SIPP_PID
CID="sipgen-1-$UAC_PID@$B"

dlg() { json_get "$(ctl list)" "[.[] | select(.\"call-id\" == \"$CID\")][0]"; }
up() { [ "$(json_get "$(dlg)" .state)" = 4 ]; }
if ! wait_for 8 up; then
	not_ok "the call is up through the proxy" "$(tail -n 20 "$PROXY_LOG")" \
		"$(tail -n 20 "$E2E_TMP/uac.err" 2>/dev/null)"
	e2e_finish
fi
ok "the call is up through the proxy (state 4)"
DLG=$(dlg)
he=$(json_get "$DLG" .h_entry) hi=$(json_get "$DLG" .h_id)
ft=$(json_get "$DLG" .caller.tag) tt=$(json_get "$DLG" .callee.tag)

# The kernel's view of the dialog, one number per line: packets and
# replies per direction, cseq_max per direction, then the methods.
METHODS="other INVITE ACK BYE CANCEL OPTIONS INFO UPDATE PRACK REFER NOTIFY MESSAGE"
kview() {
	local d=$1 m
	json_get "$d" '.xdp.traffic[0].packets, .xdp.traffic[1].packets,
		.xdp.traffic[0].replies, .xdp.traffic[1].replies,
		.xdp.traffic[0].cseq_max, .xdp.traffic[1].cseq_max'
	for m in $METHODS; do json_get "$d" ".xdp.methods.$m // 0"; done
}
mapfile -t K0 < <(kview "$DLG")
drops0=$(( $(reason dlg_unknown_dropped) + $(reason dlg_mismatch_dropped) + \
	$(reason dlg_bad_cookie_dropped) ))
malformed0=$(reason sip_malformed)

# --- the generated requests ------------------------------------------------------
t0=$(date +%s)
timeout 50 nsenter --net="/run/netns/$NSB" "$SENDER" "$A:$P" "$B:$R" "$CID" \
	"$ft" "$tt" "$he" "$hi" "$SEED" "$N" "$B:$C" "$B:$U" \
	>"$E2E_TMP/sender.out" 2>"$E2E_TMP/sender.err"
send_rc=$?
val() { sed -n "s/^$1=//p" "$E2E_TMP/sender.out"; }
sent=$(val sent)
if [ "$send_rc" -eq 0 ] && [ "${sent:-0}" -gt 0 ]; then
	ok "the proxy forwarded all $sent generated requests to the far end (seed $SEED, $(( $(date +%s) - t0 )) s)"
else
	not_ok "the proxy forwarded every generated request (seed $SEED)" \
		"sender exit $send_rc, sent ${sent:-?}, received $(val received)" \
		"$(head -c 3000 "$E2E_TMP/sender.err")" "$(tail -n 15 "$PROXY_LOG")"
fi
sleep 0.3
DLG=$(dlg)
mapfile -t K1 < <(kview "$DLG")
d() { echo $(( ${K1[$1]:-0} - ${K0[$1]:-0} )); }
check_eq "kernel: caller->callee packets = requests that way + our replies" \
	$(( $(val down) + $(val replies_down) )) "$(d 0)"
check_eq "kernel: callee->caller packets = requests that way + our replies" \
	$(( $(val up) + $(val replies_up) )) "$(d 1)"
check_eq "kernel: replies counted per direction (by our Via branch)" \
	"$(val replies_down) $(val replies_up)" "$(d 2) $(d 3)"
max() { [ "$1" -gt "$2" ] && echo "$1" || echo "$2"; }
check_eq "kernel: highest CSeq per direction" \
	"$(max "$(val cseq_max_down)" "${K0[4]}") $(max "$(val cseq_max_up)" "${K0[5]}")" \
	"${K1[4]} ${K1[5]}"
want="" got="" i=6
for m in $METHODS; do
	want+="$m=$(val "method_$m") "
	got+="$m=$(d $i) "
	i=$((i + 1))
done
check_eq "kernel: requests per method" "$want" "$got"
check_eq "kernel: nothing dropped" "$drops0" \
	$(( $(reason dlg_unknown_dropped) + $(reason dlg_mismatch_dropped) + \
	    $(reason dlg_bad_cookie_dropped) ))
check_eq "kernel: nothing counted as sip_malformed" "$malformed0" "$(reason sip_malformed)"
check_eq "the dialog is still up" 4 "$(json_get "$(dlg)" .state)"

# --- the real end -------------------------------------------------------------
"$SIPDLGCTL" --socket "$DLG_SOCK" end "$he" "$hi" >/dev/null 2>&1
sipp_wait "$UAC_PID" 16; uac_rc=$?
sipp_wait "$UAS_PID" 6; uas_rc=$?
check_eq "the call still ends normally: both sides got the BYE and answered" "0 0" "$uac_rc $uas_rc"
stop_daemon "$DAEMON_PID"
e2e_finish
