#!/bin/bash
# Dialog events on the control socket: `sipdlgctl events` (dlg.subscribe)
# prints, for a real call through the proxy, created -> early ->
# confirmed_na -> confirmed -> terminated, in that order, with the call's
# Call-ID; a client that does not subscribe gets nothing pushed.
. "$(dirname "$0")/lib.sh"
e2e_init
need_sipp
command -v jq >/dev/null 2>&1 || { skip "dialog events" "jq is not installed"; exit 0; }
if ! e2e_port_block BASE 10000 500 20; then
	not_ok "a free block of 20 ports"
	e2e_finish
fi
P=$BASE U=$((BASE + 1)) C=$((BASE + 2))
DLG_SOCK="$E2E_TMP/ctl.sock"
CFG="$E2E_TMP/events.yaml"
cat >"$CFG" <<EOC
listen: ["udp:127.0.0.1:$P"]
xdp: {enabled: false}
control:
  socket: $DLG_SOCK
routes:
  - match: { method: INVITE, in_dialog: false }
    actions: [ dlg_manage, { forward: "udp:127.0.0.1:$U" } ]
  - match: { method: BYE }
    actions: [ { log: "bye-seen status=\$DLG_status count=\$DLG_count" } ]
EOC
PROXY_LOG="$E2E_TMP/proxy.log"
if ! start_daemon proxy "$CFG" || ! wait_for 10 port_bound udp "$P"; then
	not_ok "sipdlgd starts" "$(proxy_diag)"
	e2e_finish
fi
EV="$E2E_TMP/events.jsonl"
timeout 30 "$SIPDLGCTL" --socket "$DLG_SOCK" --json events 40 >"$EV" 2>&1 &
EV_PID=$!
E2E_PIDS+=("$EV_PID")
sleep 0.3
sipp_start uas uas_call.xml -i 127.0.0.1 -t u1 -p "$U" -m 1
UAS_PID=$SIPP_PID
wait_for 5 port_bound udp "$U"
sipp_start uac uac_call.xml "127.0.0.1:$P" -i 127.0.0.1 -t u1 -p "$C" -m 1 \
	-s evt -d 200 -cid_str "events-%u-%p@%s"
UAC_PID=$SIPP_PID
CID="events-1-$UAC_PID@127.0.0.1"
sipp_wait "$UAC_PID" 20; uac_rc=$?
sipp_wait "$UAS_PID" 5
check_eq "the call went through" 0 "$uac_rc"
seq_of() { jq -r "select(.\"call-id\" == \"$CID\") | .event" "$EV" 2>/dev/null |
	grep -E '^(created|early|confirmed_na|confirmed|terminated)$' | tr '\n' ' '; }
wait_for 5 sh -c "grep -q terminated '$EV'"
check_eq "events arrive in order for the call" \
	"created early confirmed_na confirmed terminated " "$(seq_of)"
check_eq "the confirmed event names both tags" true \
	"$(jq -r "select(.\"call-id\" == \"$CID\" and .event == \"confirmed\") | (.from_tag != \"\" and .to_tag != \"\")" "$EV")"
out=$(timeout 5 "$SIPDLGCTL" --socket "$DLG_SOCK" --json rpc core.version)
check_eq "a client that did not subscribe still gets a plain answer" "sipdlg" \
	"$(json_get "$out" .name)"
check_contains "rules see \$DLG_status (5 after the BYE) and \$DLG_count" \
	"bye-seen status=5 count=0" "$(cat "$E2E_TMP/proxy.log")"
stop_daemon "$DAEMON_PID"
e2e_finish
