#!/bin/bash
# A spiral: the INVITE comes back to the proxy with a new R-URI (a rule
# rewrites the user and forwards to the proxy itself).  The second pass
# finds the dialog the first created (detect_spirals): one dialog, counted
# once in processed_dialogs and in its profile, and the call works.
. "$(dirname "$0")/lib.sh"
e2e_init
need_sipp
command -v jq >/dev/null 2>&1 || { skip "dialog spiral" "jq is not installed"; exit 0; }
if ! e2e_port_block BASE 10000 500 20; then
	not_ok "a free block of 20 ports"
	e2e_finish
fi
P=$BASE U=$((BASE + 1)) C=$((BASE + 2))
DLG_SOCK="$E2E_TMP/ctl.sock"
CFG="$E2E_TMP/spiral.yaml"
cat >"$CFG" <<EOC
listen: ["udp:127.0.0.1:$P"]
xdp: {enabled: false}
dialog:
  profiles_no_value: [inbound]
control:
  socket: $DLG_SOCK
log:
  level: debug
routes:
  - name: "first pass: send it round again as spiral2"
    match: { method: INVITE, in_dialog: false, ruri_user: spiral1 }
    actions: [ dlg_manage, { set_dlg_profile: [inbound] }, { ruri_user: spiral2 },
               { forward: "udp:127.0.0.1:$P" } ]
  - name: "second pass and other calls"
    match: { method: INVITE, in_dialog: false }
    actions: [ dlg_manage, { set_dlg_profile: [inbound] }, { forward: "udp:127.0.0.1:$U" } ]
EOC
check "the spiral config passes --check" "$SIPDLGD" -c "$CFG" --check
PROXY_LOG="$E2E_TMP/proxy.log"
if ! start_daemon proxy "$CFG" || ! wait_for 10 port_bound udp "$P"; then
	not_ok "sipdlgd starts" "$(proxy_diag)"
	e2e_finish
fi
ctl() { "$SIPDLGCTL" --socket "$DLG_SOCK" --json "$@"; }
sipp_start uas uas_call.xml -i 127.0.0.1 -t u1 -p "$U" -m 1
UAS_PID=$SIPP_PID
wait_for 5 port_bound udp "$U"
sipp_start uac uac_call.xml "127.0.0.1:$P" -i 127.0.0.1 -t u1 -p "$C" -m 1 \
	-s spiral1 -d 2000 -cid_str "spiral-%u-%p@%s"
UAC_PID=$SIPP_PID
CID="spiral-1-$UAC_PID@127.0.0.1"
up() { [ "$(json_get "$(ctl list)" "[.[] | select(.\"call-id\" == \"$CID\")] | length")" -ge 1 ] &&
	[ "$(json_get "$(ctl list)" "[.[] | select(.\"call-id\" == \"$CID\")][0].state")" = 4 ]; }
if wait_for 8 up; then ok "the spiraled call is up"
else not_ok "the spiraled call is up" "$(tail -n 30 "$PROXY_LOG")"; fi
check_eq "one dialog for the Call-ID, not two" 1 \
	"$(json_get "$(ctl list)" "[.[] | select(.\"call-id\" == \"$CID\")] | length")"
check_eq "the profile counts the call once" 1 "$(ctl profile-size inbound)"
check_eq "processed_dialogs counts it once" 1 \
	"$(json_get "$(ctl stats dialog)" '.["dialog.processed_dialogs"]')"
check_contains "the callee saw the rewritten R-URI" "INVITE sip:spiral2@" "$(cat "$E2E_TMP/uas.msg")"
sipp_wait "$UAC_PID" 20; uac_rc=$?
sipp_wait "$UAS_PID" 5; uas_rc=$?
check_eq "the call completes (ACK and BYE through both passes' routes)" "0 0" "$uac_rc $uas_rc"
wait_for 5 sh -c "[ \"\$(\"$SIPDLGCTL\" --socket \"$DLG_SOCK\" --json stats dialog | jq '.[\"dialog.active_dialogs\"]')\" = 0 ]"
check_eq "no active dialog is left" 0 \
	"$(json_get "$(ctl stats dialog)" '.["dialog.active_dialogs"]')"
stop_daemon "$DAEMON_PID"
e2e_finish
