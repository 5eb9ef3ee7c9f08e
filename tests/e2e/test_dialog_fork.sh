#!/bin/bash
# Forking: a second branch answers 200 after the first.  The proxy relays
# the first, ACKs and BYEs the second itself and keeps it from the caller;
# the dialog stays the first branch's and ends normally.  No XDP.
. "$(dirname "$0")/lib.sh"
e2e_init
need_sipp
command -v jq >/dev/null 2>&1 || { skip "dialog fork" "jq is not installed"; exit 0; }
if ! e2e_port_block BASE 10000 500 20; then
	not_ok "a free block of 20 ports"
	e2e_finish
fi
P=$BASE U=$((BASE + 1)) C=$((BASE + 2))
DLG_SOCK="$E2E_TMP/ctl.sock"
CFG="$E2E_TMP/fork.yaml"
cat >"$CFG" <<EOC
listen: ["udp:127.0.0.1:$P"]
xdp: {enabled: false}
control:
  socket: $DLG_SOCK
log:
  level: info
routes:
  - match: { method: INVITE, in_dialog: false }
    actions: [ dlg_manage, { forward: "udp:127.0.0.1:$U" } ]
EOC
PROXY_LOG="$E2E_TMP/proxy.log"
if ! start_daemon proxy "$CFG" || ! wait_for 10 port_bound udp "$P"; then
	not_ok "sipdlgd starts" "$(proxy_diag)"
	e2e_finish
fi
sipp_start uas dlg_uas_fork.xml -i 127.0.0.1 -t u1 -p "$U" -m 1
UAS_PID=$SIPP_PID
wait_for 5 port_bound udp "$U"
sipp_start uac uac_call.xml "127.0.0.1:$P" -i 127.0.0.1 -t u1 -p "$C" -m 1 \
	-s fork -d 1000 -cid_str "fork-%u-%p@%s"
UAC_PID=$SIPP_PID
CID="fork-1-$UAC_PID@127.0.0.1"
sipp_wait "$UAC_PID" 20; uac_rc=$?
sipp_wait "$UAS_PID" 5; uas_rc=$?
check_eq "the caller's call succeeds (it never saw the second 200)" 0 "$uac_rc"
check_eq "the forked callee got two ACKs and two BYEs and answered them" 0 "$uas_rc"
n200=$(awk '/message received/ { want = 1; next } want && NF { if ($0 ~ /^SIP\/2.0 200/) n++; want = 0 } END { print n + 0 }' "$E2E_TMP/uac.msg")
check_eq "the caller received one 200 for its INVITE and one for its BYE" 2 "$n200"
check_contains "the proxy's BYE went to the second branch's contact" "BYE sip:branch2@" \
	"$(cat "$E2E_TMP/uas.msg")"
check_eq "the dialog is the first branch's and ended" 5 \
	"$(json_get "$("$SIPDLGCTL" --socket "$DLG_SOCK" --json list)" "[.[] | select(.\"call-id\" == \"$CID\")][0].state")"
check_eq "no active dialog is left" 0 \
	"$(json_get "$("$SIPDLGCTL" --socket "$DLG_SOCK" --json stats dialog)" '.["dialog.active_dialogs"]')"
stop_daemon "$DAEMON_PID"
e2e_finish
