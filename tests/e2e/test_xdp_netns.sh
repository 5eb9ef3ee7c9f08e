#!/bin/bash
# sipdlgd in one network namespace with XDP on its end of a veth pair; a
# peer in a second namespace sends UDP datagrams; the kernel counters, read
# through `sipdlgctl --json xdp`, must show them by reason.  Then the
# daemon is restarted and the pinned maps must keep their contents.
. "$(dirname "$0")/lib.sh"
e2e_init

NSA="${E2E_ID}a" NSB="${E2E_ID}b"
VA="${E2E_ID}va" VB="${E2E_ID}vb"
# Addresses exist only inside the two namespaces this test creates.
A4=10.233.$(( $$ % 200 )).1 B4=10.233.$(( $$ % 200 )).2
A6=fd00:5d:$(( $$ % 9000 ))::1 B6=fd00:5d:$(( $$ % 9000 ))::2

if netns_pair "$NSA" "$NSB" "$VA" "$VB" "$A4/24" "$B4/24" &&
	netns_addr "$NSA" "$VA" "$A6/64" && netns_addr "$NSB" "$VB" "$B6/64"; then
	ok "namespaces and veth pair created"
else
	not_ok "namespaces and veth pair created" "$(cat "$E2E_TMP/netns_pair.log")"
	e2e_finish
fi

SOCK="$E2E_TMP/ctl.sock"
new_pin_path PIN netns
CFG="$E2E_TMP/sipdlg.yaml"
write_config "$CFG" "$SOCK" "$PIN" "$VA" "udp:$A4:5060" "udp:[$A6]:5060" "tcp:$A4:5060"

if ! start_daemon a "$CFG" "$NSA"; then
	not_ok "sipdlgd starts with XDP on $VA"
	e2e_finish
fi
ok "sipdlgd starts with XDP on $VA"

ctl() { "$SIPDLGCTL" --socket "$SOCK" "$@"; }

status=$(ctl --json xdp)
check_eq "xdp.status lists the veth" "$VA" "$(json_get "$status" '.interfaces[0].ifname')"
check_eq "veth is attached in native mode (auto)" "native" "$(json_get "$status" '.interfaces[0].mode')"
check_eq "program id is reported" "true" "$(json_get "$status" '.program.id > 0')"
check_eq "UDP SIP port is configured" "5060" "$(json_get "$status" '.sip_ports[0]')"

counter() { json_get "$(ctl --json xdp)" ".counters.$1.packets"; }
base4=$(counter sip_udp4) base6=$(counter sip_udp6) baseo=$(counter other_port)

send_udp "$NSB" "$A4" 5060 25
send_udp "$NSB" "$A6" 5060 7
send_udp "$NSB" "$A4" 5099 3

if wait_until 5 '[ "$(counter sip_udp4)" -ge $((base4 + 25)) ]'; then :; fi
check_eq "25 IPv4 datagrams to 5060 counted as sip_udp4" $((base4 + 25)) "$(counter sip_udp4)"
wait_until 5 '[ "$(counter sip_udp6)" -ge $((base6 + 7)) ]'
check_eq "7 IPv6 datagrams to 5060 counted as sip_udp6" $((base6 + 7)) "$(counter sip_udp6)"
wait_until 5 '[ "$(counter other_port)" -ge $((baseo + 3)) ]'
check_eq "3 datagrams to another port counted as other_port" $((baseo + 3)) "$(counter other_port)"
bytes=$(json_get "$(ctl --json xdp)" '.counters.sip_udp4.bytes')
check_eq "bytes are counted too" "true" "$([ "$bytes" -gt $((25 * 60)) ] && echo true || echo false)"
check_eq "the datagrams still reached the socket (XDP_PASS)" "true" \
	"$(json_get "$(ctl --json stats core)" '.["core.rcv_datagrams"] >= 32')"

# Human output of the CLI.
out=$(ctl xdp)
check_contains "sipdlgctl xdp prints a table with the reason" "sip_udp4" "$out"
out=$(ctl stats)
check_contains "sipdlgctl stats prints the dialog statistics" "active_dialogs" "$out"

# bpftool reads every pinned map with field names.
dump=$(bpftool map dump pinned "$PIN/counters" 2>&1)
check_contains "bpftool dump of counters shows field names" '"packets"' "$dump"
KEYHEX="01 00 00 00 02 00 00 00"
VAL=$(printf '00 %.0s' $(seq 168))
bpftool map update pinned "$PIN/dialogs" key hex $KEYHEX value hex $VAL
dump=$(bpftool map dump pinned "$PIN/dialogs" 2>&1)
check_contains "bpftool dump of dialogs shows field names" '"h_entry": 1' "$dump"
check_contains "bpftool dump of dialogs shows value fields" '"last_seen_ns"' "$dump"

# Restart: the maps are reused, not recreated.
before=$(counter sip_udp4)
if stop_daemon "$DAEMON_PID"; then ok "SIGTERM stops sipdlgd with status 0"; else not_ok "SIGTERM stops sipdlgd with status 0" "$(cat "$E2E_TMP/a.log")"; fi
check_eq "XDP is detached when sipdlgd stops" "" "$(ip -n "$NSA" link show "$VA" | grep -o 'xdp[a-z]*')"
check "pins stay after the daemon stops" test -e "$PIN/counters" -a -e "$PIN/dialogs"
if ! start_daemon a2 "$CFG" "$NSA"; then
	not_ok "sipdlgd restarts on the same pins"
	e2e_finish
fi
ok "sipdlgd restarts on the same pins"
check_eq "counters survive the restart" "$before" "$(counter sip_udp4)"
send_udp "$NSB" "$A4" 5060 5
wait_until 5 '[ "$(counter sip_udp4)" -ge $((before + 5)) ]'
check_eq "counting goes on from the old value" $((before + 5)) "$(counter sip_udp4)"
dump=$(bpftool map dump pinned "$PIN/dialogs" 2>&1)
# The entry names no dialog the controller knows (nothing to restore
# without a database): the restart reconciles the map and removes it.
check_eq "a stale dialogs entry is removed at start (reconciled)" "[]" "$(echo "$dump" | tr -d ' \n')"
stop_daemon "$DAEMON_PID"

e2e_finish
