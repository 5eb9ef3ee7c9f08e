#!/bin/bash
# The database coming back, with the fast path (db_mode 1, required:
# false, XDP on a veth with unknown_dialog: drop).  sipdlgd in one
# network namespace, sipp in the other; the database is reached through
# a symlink to the private MariaDB's socket, so "away" and "back" are
# exact.  Two calls A and B stored; sipdlgd stopped; the link removed;
# sipdlgd started without the database.  Checks:
#   - while the stored dialogs are not loaded, fpstate says degraded (the
#     kernel passes what it does not know), and A's BYE reaches the
#     callee through the box although the kernel does not know A;
#   - once the link is back, B is restored and its key is in the pinned
#     "dialogs" map (the LOADED callbacks of a load after the workers
#     started), A is not restored, fpstate is no longer degraded;
#   - B ends with `sipdlgctl end` and leaves the map.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
e2e_init
e2e_db_begin "xdp late load"
command -v bpftool >/dev/null 2>&1 || { skip "xdp late load" "bpftool is not installed"; e2e_finish; }
SIPP_TIMEOUT=120

NSA="${E2E_ID}la" NSB="${E2E_ID}lb"
VA="${E2E_ID}lva" VB="${E2E_ID}lvb"
NET=10.237.$(( $$ % 200 ))
A=$NET.1 B=$NET.2
P=5060 UA=5080 CA=5070 UB=5081 CB=5071

netns_pair "$NSA" "$NSB" "$VA" "$VB" "$A/24" "$B/24" ||
	{ not_ok "create namespaces" "$(cat "$E2E_TMP/netns_pair.log")"; e2e_finish; }

DLG_SOCK="$E2E_TMP/ctl.sock"
LINK="$E2E_TMP/db-link.sock"
ln -s "$MARIADB_SOCKET" "$LINK"
new_pin_path PIN xlate
CFG="$E2E_TMP/late.yaml"
cat >"$CFG" <<EOF
listen: ["udp:$A:$P"]
dialog:
  db_mode: 1
  db_url: "mysql://root@unix($LINK)/sipdlg"
  default_timeout: 600
database:
  required: false
  retry_interval: 1
  retry_max: 2
xdp:
  interfaces: [$VA]
  pin_path: $PIN
  unknown_dialog: drop
control:
  socket: $DLG_SOCK
log:
  level: info
routes:
  - match: { method: INVITE, in_dialog: false, ruri_user: calleea }
    actions: [ dlg_manage, { forward: "udp:$B:$UA" } ]
  - match: { method: INVITE, in_dialog: false, ruri_user: calleeb }
    actions: [ dlg_manage, { forward: "udp:$B:$UB" } ]
EOF

ctl() { "$SIPDLGCTL" --socket "$DLG_SOCK" --json "$@" 2>/dev/null; }
db_stat() { ctl stats db | jq -r --arg k "db.$1" '.[$k] // empty'; }
degraded() { bpftool -j map dump pinned "$PIN/fpstate" 2>/dev/null | jq -r '.[0].formatted.value.degraded'; }
map_keys() {
	bpftool -j map dump pinned "$PIN/dialogs" 2>/dev/null |
		jq -r '.[].formatted.key | "\(.h_entry):\(.h_id)"' | sort
}
listed_keys() { ctl list | jq -r '.[] | "\(.h_entry):\(.h_id)"' | sort; }
row() { mariadb_sql "SELECT hash_entry, hash_id, state FROM dialog WHERE callid='$1'"; }
row_state_is() { [ "$(row "$1" | awk '{print $3}')" = "$2" ]; }
sipp_ns() {
	local name=$1 sf=$2
	shift 2
	rm -f "$E2E_TMP/$name".*
	( cd "$E2E_TMP" && exec nsenter --net="/run/netns/$NSB" sipp \
		-sf "$SIPP_SCENARIOS/$sf" -nostdin -trace_err \
		-error_file "$E2E_TMP/$name.err" \
		-timeout "${SIPP_TIMEOUT}s" -timeout_error "$@" ) \
		>"$E2E_TMP/$name.out" 2>&1 </dev/null &
	SIPP_PID=$!
	E2E_PIDS+=("$SIPP_PID")
}
up_call() {	# NAME CALLEE UAS-PORT UAC-PORT
	sipp_ns "uas$1" db_uas_hold.xml -i "$B" -t u1 -p "$3" -m 1
	eval "UAS_$1=\$SIPP_PID"
	wait_for 5 in_ns "$NSB" ss -Hlnu "sport = :$3"
	sipp_ns "uac$1" db_uac_wait_bye.xml "$A:$P" -i "$B" -t u1 -p "$4" -m 1 \
		-s "$2" -key from_user "xlate$1" -default_behaviors "all,-bye" \
		-cid_str "xlate$1-%u-%p@%s"
	eval "UAC_$1=\$SIPP_PID"
	eval "CID_$1=xlate$1-1-\$SIPP_PID@$B"
}

PROXY_LOG="$E2E_TMP/proxy1.log"
if ! start_daemon proxy1 "$CFG" "$NSA"; then
	not_ok "sipdlgd starts (db_mode 1, XDP, unknown_dialog: drop)" "$(proxy_diag)"
	e2e_finish
fi
ok "sipdlgd starts (db_mode 1, XDP, unknown_dialog: drop)"
up_call A calleea "$UA" "$CA"
up_call B calleeb "$UB" "$CB"
both_stored() { row_state_is "$CID_A" 4 && row_state_is "$CID_B" 4; }
if wait_for 15 both_stored; then ok "calls A and B confirmed and stored"
else not_ok "calls A and B confirmed and stored" "$(proxy_diag)"; e2e_finish; fi
A_JSON=$(ctl list "$CID_A" | jq -c 'if type == "array" then .[0] else . end')
B_KEY=$(ctl list "$CID_B" | jq -r 'if type == "array" then .[0] else . end | "\(.h_entry):\(.h_id)"')
stop_daemon "$DAEMON_PID"
rm -f "$LINK"
ok "sipdlgd stopped, the database unreachable"

PROXY_LOG="$E2E_TMP/proxy2.log"
if ! start_daemon proxy2 "$CFG" "$NSA"; then
	not_ok "sipdlgd starts without the database" "$(proxy_diag)"
	e2e_finish
fi
ok "sipdlgd starts without the database"
check_eq "load pending, fpstate degraded, no dialog in the kernel map" "1 1 " \
	"$(db_stat load_pending) $(degraded) $(map_keys | tr '\n' ' ')"

# A's BYE from the caller's side, with the old cookie: the kernel does
# not know A, and must pass it to the controller, not drop it.
A_HE=$(json_get "$A_JSON" .h_entry) A_HID=$(json_get "$A_JSON" .h_id)
cat >"$E2E_TMP/bye_a.sip" <<EOM
BYE $(json_get "$A_JSON" .callee.contact) SIP/2.0
Via: SIP/2.0/UDP $B:$CA;branch=z9hG4bKxlateA1;rport
From: "e2e xlateA" <sip:xlateA@$B:$CA>;tag=$(json_get "$A_JSON" .caller.tag)
To: <sip:calleea@$A:$P>;tag=$(json_get "$A_JSON" .callee.tag)
Call-ID: $CID_A
CSeq: 2 BYE
Route: <sip:$A:$P;lr;did=$(rev_hex "$A_HE").$(rev_hex "$A_HID")>
Max-Forwards: 70
Content-Length: 0

EOM
sed 's/$/\r/' "$E2E_TMP/bye_a.sip" >"$E2E_TMP/bye_a.crlf"
in_ns "$NSB" bash -c 'cat "$1" >"/dev/udp/$2/$3"' _ "$E2E_TMP/bye_a.crlf" "$A" "$P"
sipp_wait "$UAS_A" 10; uas_rc=$?
check_eq "A's BYE passes the kernel and the box to the callee" 0 "$uas_rc"
sipp_wait "$UAC_A" 1 >/dev/null

ln -s "$MARIADB_SOCKET" "$LINK"
loaded() { [ "$(db_stat load_pending)" = 0 ]; }
if wait_for 15 loaded; then ok "the stored dialogs are loaded once the database is back"
else not_ok "the stored dialogs are loaded once the database is back" "$(proxy_diag)"; fi
check_contains "the log says so" \
	"restored 1 dialogs from the database after it came back (2 rows, 0 skipped, 0 variables, 1 ended by a BYE meanwhile" \
	"$(cat "$PROXY_LOG")"
check_eq "only B is listed" "$B_KEY" "$(listed_keys)"
check_eq "B's key is in the pinned dialogs map, and nothing else" "$B_KEY" "$(map_keys)"
check_eq "fpstate is no longer degraded" 0 "$(degraded)"
check_eq "A's row is gone" "" "$(row "$CID_A")"

"$SIPDLGCTL" --socket "$DLG_SOCK" end ${B_KEY%:*} ${B_KEY#*:} >/dev/null 2>&1
sipp_wait "$UAC_B" 10; uac_rc=$?
sipp_wait "$UAS_B" 10; uas_rc=$?
check_eq "B ends with sipdlgctl end: both sides get the BYE" "0 0" "$uac_rc $uas_rc"
b_out() { [ -z "$(map_keys)" ] && [ -z "$(row "$CID_B")" ]; }
if wait_for 10 b_out; then ok "B leaves the kernel map and the table"
else not_ok "B leaves the kernel map and the table" "map: $(map_keys) row: $(row "$CID_B")"; fi
if stop_daemon "$DAEMON_PID"; then ok "sipdlgd stops cleanly"
else not_ok "sipdlgd stops cleanly" "$(proxy_diag)"; fi
e2e_finish
