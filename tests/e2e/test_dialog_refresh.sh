#!/bin/bash
# Timeout refresh by in-dialog traffic (the XDP issue's item 4): a dialog
# with a 5 s timeout and timeout_bye stays up for 20 s while the caller
# sends an in-dialog OPTIONS every 2 s, and ends with a BYE to both sides
# about 5 s after they stop.  XDP on lo in generic mode with a private pin
# path, so the kernel's last-seen time is there too.
. "$(dirname "$0")/lib.sh"
e2e_init
need_sipp
command -v jq >/dev/null 2>&1 || { skip "dialog refresh" "jq is not installed"; exit 0; }
SIPP_TIMEOUT=45
if ip link show lo | grep -q xdp; then
	skip "dialog refresh" "lo already has an XDP program"
	e2e_finish
fi
if ! e2e_port_block BASE 10000 500 20; then
	not_ok "a free block of 20 ports"
	e2e_finish
fi
P=$BASE U=$((BASE + 1)) C=$((BASE + 2))
DLG_SOCK="$E2E_TMP/ctl.sock"
new_pin_path PIN refresh
CFG="$E2E_TMP/refresh.yaml"
cat >"$CFG" <<EOC
listen: ["udp:127.0.0.1:$P"]
xdp:
  interfaces: [lo]
  pin_path: $PIN
control:
  socket: $DLG_SOCK
log:
  level: debug
routes:
  - match: { method: INVITE, in_dialog: false }
    actions: [ dlg_manage, { timeout: 5 }, { timeout_bye: true }, { forward: "udp:127.0.0.1:$U" } ]
EOC
PROXY_LOG="$E2E_TMP/proxy.log"
if ! start_daemon proxy "$CFG" || ! wait_for 10 port_bound udp "$P"; then
	not_ok "sipdlgd starts" "$(proxy_diag)"
	e2e_finish
fi

# Caller: the call, 10 OPTIONS 2 s apart through the route set, then wait
# for the proxy's BYE.  Callee: answers the OPTIONS, waits for the BYE.
SC="$E2E_TMP/sc"
mkdir -p "$SC"
sed -n '1,/<recv request="BYE"/p' "$SIPP_SCENARIOS/dlg_uac_wait_bye.xml" |
	sed '$d' >"$SC/uac.xml"
sed -n '1,/<recv request="BYE"/p' "$SIPP_SCENARIOS/dlg_uas_wait_bye.xml" |
	sed '$d' >"$SC/uas.xml"
for i in $(seq 1 10); do
	cat >>"$SC/uac.xml" <<EOX
  <pause milliseconds="2000"/>
  <send retrans="500">
    <![CDATA[

      OPTIONS [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "e2e [from_user]" <sip:[from_user]@[local_ip]:[local_port]>;tag=[pid]uac[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: $((i + 1)) OPTIONS
      [routes]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
EOX
	cat >>"$SC/uas.xml" <<EOX
  <recv request="OPTIONS"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
EOX
done
tail_part() {
	sed -n '/<recv request="BYE"/,$p' "$SIPP_SCENARIOS/$1" | sed 's/timeout="10000"/timeout="15000"/'
}
tail_part dlg_uac_wait_bye.xml >>"$SC/uac.xml"
tail_part dlg_uas_wait_bye.xml >>"$SC/uas.xml"

SIPP_SCENARIOS_SAVED=$SIPP_SCENARIOS
SIPP_SCENARIOS=$SC
sipp_start uas uas.xml -i 127.0.0.1 -t u1 -p "$U" -m 1 -default_behaviors "all,-bye"
UAS_PID=$SIPP_PID
wait_for 5 port_bound udp "$U"
sipp_start uac uac.xml "127.0.0.1:$P" -i 127.0.0.1 -t u1 -p "$C" -m 1 -s keep \
	-key from_user kim -recv_timeout 20000 -default_behaviors "all,-bye" \
	-cid_str "refresh-%u-%p@%s"
UAC_PID=$SIPP_PID
SIPP_SCENARIOS=$SIPP_SCENARIOS_SAVED
CID="refresh-1-$UAC_PID@127.0.0.1"
t0=$(date +%s)
state() { json_get "$("$SIPDLGCTL" --socket "$DLG_SOCK" --json list)" \
	"[.[] | select(.\"call-id\" == \"$CID\")][0].state"; }
wait_for 5 sh -c "[ \"\$(\"$SIPDLGCTL\" --socket \"$DLG_SOCK\" --json list | jq -r '[.[] | select(.\"call-id\" == \"$CID\")][0].state')\" = 4 ]"
sleep 17
check_eq "after ~20 s of OPTIONS every 2 s the 5 s dialog is still up" 4 "$(state)"
sipp_wait "$UAC_PID" 20; uac_rc=$?
t1=$(date +%s)
sipp_wait "$UAS_PID" 5; uas_rc=$?
check_eq "then both sides get a BYE and answer it" "0 0" "$uac_rc $uas_rc"
# 10 OPTIONS end ~21 s after the ACK; the BYE ~5 s later.
el=$((t1 - t0))
check_eq "the dialog ended about 5 s after the last OPTIONS (${el}s after the call began)" \
	true "$([ "$el" -ge 24 ] && [ "$el" -le 32 ] && echo true || echo false)"
check_eq "expired_dialogs counts it" 1 \
	"$(json_get "$("$SIPDLGCTL" --socket "$DLG_SOCK" --json stats dialog)" '.["dialog.expired_dialogs"]')"
stop_daemon "$DAEMON_PID"
e2e_finish
