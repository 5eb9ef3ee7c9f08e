#!/bin/bash
# The cookie MAC and dialogs restored from the database: sipdlgd with XDP
# on the loopback of a namespace this test makes (drop policy, MAC on,
# db_mode 1 on a private MariaDB).  A call's dialog carries no NOMAC flag
# while the box that signed its Record-Route runs; after a restart the
# restored dialog is flagged SIPDLG_DLGF_NOMAC in the pinned map (a
# restored Record-Route may have no ;dm=, e.g. one written by Kamailio),
# so an in-dialog request of that call without a MAC is matched on
# Call-ID and tags instead of being dropped, while one with a wrong tag is
# still dropped.  The kernel's NOMAC fallback comes with branch kparse.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
e2e_init
e2e_db_begin "cookie MAC and restored dialogs"
command -v bpftool >/dev/null 2>&1 || { skip "cookie MAC restore" "bpftool is not installed"; e2e_finish; }
SIPP_TIMEOUT=60

NS="${E2E_ID}macdb"
P=5060 U=5080 C=5070 SINK=5099
netns_add "$NS" || { not_ok "create a namespace"; e2e_finish; }
DLG_SOCK="$E2E_TMP/ctl.sock"
new_pin_path PIN macdb
CFG="$E2E_TMP/macdb.yaml"
cat >"$CFG" <<EOF
listen: ["udp:127.0.0.1:$P"]
dialog:
  db_mode: 1
  db_url: "$MARIADB_URL"
database:
  required: true
xdp:
  interfaces: [lo]
  pin_path: $PIN
  unknown_dialog: drop
  cookie_mac: { key_file: $E2E_TMP/mac.key }
control:
  socket: $DLG_SOCK
log:
  level: debug
routes:
  - match: { method: INVITE, in_dialog: false }
    actions: [ dlg_manage, { forward: "udp:127.0.0.1:$U" } ]
EOF
PROXY_LOG="$E2E_TMP/proxy.log"
if ! start_daemon proxy "$CFG" "$NS"; then
	not_ok "sipdlgd starts with XDP, the cookie MAC and db_mode 1"
	e2e_finish
fi
ok "sipdlgd starts with XDP, the cookie MAC and db_mode 1"

ctl() { "$SIPDLGCTL" --socket "$DLG_SOCK" --json "$@"; }
reason() { json_get "$(ctl xdp)" ".counters.$1.packets // 0"; }
rcv() { json_get "$(ctl stats sip)" '.["sip.rcv_requests"]'; }
dlg_of() { json_get "$(ctl list)" "[.[] | select(.\"call-id\" == \"$1\")][0]"; }
map_flags() {
	bpftool -j map dump pinned "$PIN/dialogs" 2>/dev/null |
		jq -r --argjson h "$1" '[.[] | .formatted // . | select(.key.h_id == $h)][0].value.flags // empty'
}
sipp_ns() {
	local name=$1 sf=$2
	shift 2
	rm -f "$E2E_TMP/$name".*
	( cd "$E2E_TMP" && exec nsenter --net="/run/netns/$NS" sipp \
		-sf "$SIPP_SCENARIOS/$sf" -nostdin -trace_err \
		-error_file "$E2E_TMP/$name.err" -trace_msg \
		-message_file "$E2E_TMP/$name.msg" -timeout "${SIPP_TIMEOUT}s" \
		-timeout_error "$@" ) >"$E2E_TMP/$name.out" 2>&1 </dev/null &
	SIPP_PID=$!
	E2E_PIDS+=("$SIPP_PID")
}

sipp_ns uas dlg_uas_wait_bye.xml -i 127.0.0.1 -t u1 -p "$U" -m 1 -default_behaviors "all,-bye"
sleep 0.5
sipp_ns uac dlg_uac_wait_bye.xml "127.0.0.1:$P" -i 127.0.0.1 -t u1 -p "$C" -m 1 \
	-s macdb -key from_user mona -recv_timeout 50000 -default_behaviors "all,-bye" -cid_str "macdb-%u-%p@%s"
CID="macdb-1-$SIPP_PID@127.0.0.1"
up() { [ "$(json_get "$(dlg_of "$CID")" .state)" = 4 ]; }
if ! wait_for 10 up; then
	not_ok "the call is up" "$(dlg_of "$CID")" "$(tail -n 20 "$PROXY_LOG")" \
		"$(tail -n 5 "$E2E_TMP/uac.out" "$E2E_TMP/uas.out" 2>/dev/null)"
	e2e_finish
fi
ok "the call is up"
DLG=$(dlg_of "$CID")
he=$(json_get "$DLG" .h_entry) hi=$(json_get "$DLG" .h_id)
ft=$(json_get "$DLG" .caller.tag) tt=$(json_get "$DLG" .callee.tag)
check_eq "signed by this box: no NOMAC flag" 0 "$(map_flags "$hi")"

stop_daemon "$DAEMON_PID"
if ! start_daemon proxy2 "$CFG" "$NS"; then
	not_ok "sipdlgd restarts" "$(tail -n 20 "$E2E_TMP/proxy2.log")"
	e2e_finish
fi
PROXY_LOG="$E2E_TMP/proxy2.log"
check_eq "the call is restored from the database" 4 "$(json_get "$(dlg_of "$CID")" .state)"
check_eq "the restored dialog carries SIPDLG_DLGF_NOMAC (1) in the map" 1 "$(map_flags "$hi")"

# In-dialog INFO from the caller without ;dm=, sent to a sink after our
# Route (the controller forwards it there).
rh() { printf '%x' "$1" | rev; }
info() { # FILE FROM-TAG
	{
		printf 'INFO sip:sink@127.0.0.1:%s SIP/2.0\r\n' "$SINK"
		printf 'Via: SIP/2.0/UDP 127.0.0.1:5998;branch=z9hG4bKmacdb%s\r\n' "$RANDOM"
		printf 'Route: <sip:127.0.0.1:%s;lr;did=%s.%s>\r\n' "$P" "$(rh "$he")" "$(rh "$hi")"
		printf 'From: <sip:caller@127.0.0.1>;tag=%s\r\n' "$2"
		printf 'To: <sip:service@127.0.0.1>;tag=%s\r\n' "$tt"
		printf 'Call-ID: %s\r\nCSeq: 50 INFO\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' "$CID"
	} >"$1"
}
info "$E2E_TMP/good.sip" "$ft"
info "$E2E_TMP/bad.sip" "forged-tag"
rcv0=$(rcv)
in_ns "$NS" bash -c "cat '$E2E_TMP/bad.sip' >/dev/udp/127.0.0.1/$P" 2>/dev/null
sleep 0.5
check_eq "a request without a MAC and with a wrong tag is dropped in the kernel" \
	"$rcv0" "$(rcv)"
in_ns "$NS" bash -c "cat '$E2E_TMP/good.sip' >/dev/udp/127.0.0.1/$P" 2>/dev/null
infos() { [ "$(json_get "$(dlg_of "$CID")" '.xdp.methods.INFO // 0')" = 1 ]; }
if wait_for 3 infos; then
	ok "a request without a MAC and with the call's Call-ID and tags is matched (NOMAC)"
else
	not_ok "a request without a MAC and with the call's Call-ID and tags is matched (NOMAC)" \
		"needs the kernel's NOMAC fallback (branch kparse)" \
		"dlg_mac_fail_dropped: $(reason dlg_mac_fail_dropped)"
fi
"$SIPDLGCTL" --socket "$DLG_SOCK" end "$he" "$hi" >/dev/null 2>&1
stop_daemon "$DAEMON_PID"
e2e_finish
