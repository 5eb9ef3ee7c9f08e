#!/bin/bash
# db_mode 2 (delayed) and 3 (shutdown) against a private MariaDB, checked
# by SQL:
#  - mode 2, db_update_period 2: a confirmed call's row is written by the
#    periodic timer (within ~3 s, not at once); a dialog's end deletes its
#    row at once;
#  - mode 3: no row during the call; a clean stop writes them; a start
#    restores every dialog and empties both tables (kamailio#3669), the
#    next stop writes them back; the restored call is ended by its BYE;
#  - a variable set by the routes (quote, backslashes, 4-byte UTF-8) is
#    stored in dialog_vars byte for byte and restored.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
e2e_init
e2e_db_begin "db modes"
P=$BASE U=$((BASE + 1)) C=$((BASE + 2)) C2=$((BASE + 3)) U3=$((BASE + 4)) C3=$((BASE + 5))
DLG_SOCK="$E2E_TMP/ctl.sock"
# The variable's value: v'q\\x 😀 (a quote, two backslashes, U+1F600).
VAL=$'v\'q\\\\x \xF0\x9F\x98\x80'
VAL_HEX=$(printf '%s' "$VAL" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)

# mode_config FILE MODE
mode_config() {
	{
		cat <<EOC
listen: ["udp:127.0.0.1:$P"]
xdp: {enabled: false}
dialog:
  db_mode: $2
  db_update_period: 2
  db_url: "$MARIADB_URL"
  default_timeout: 600
database:
  required: true
  retry_interval: 1
control:
  socket: $DLG_SOCK
log:
  level: info
routes:
  - match: { method: INVITE, in_dialog: false, ruri_user: callee }
    actions:
      - dlg_manage
EOC
		# quoted: the YAML line is exactly  set_dlg_var: [k, "v'q\\\\x 😀"]
		cat <<'EOC'
      - set_dlg_var: [k, "v'q\\\\x 😀"]
EOC
		cat <<EOC
      - { forward: "udp:127.0.0.1:$U" }
  - match: { method: INVITE, in_dialog: false, ruri_user: callee3 }
    actions:
      - dlg_manage
EOC
		cat <<'EOC'
      - set_dlg_var: [k, "v'q\\\\x 😀"]
EOC
		cat <<EOC
      - { forward: "udp:127.0.0.1:$U3" }
EOC
	} >"$1"
}

now_ms() { date +%s%3N; }
row_of() { mariadb_sql "SELECT hash_entry, hash_id, state FROM dialog WHERE callid='$1'" | tr '\t' ' '; }
has_row() { [ -n "$(row_of "$1")" ]; }
no_row() { [ -z "$(row_of "$1")" ]; }
db_count() { mariadb_sql "SELECT COUNT(*) FROM ${1:-dialog}"; }
var_hex() { mariadb_sql "SELECT HEX(dialog_value) FROM dialog_vars WHERE hash_entry=$1 AND hash_id=$2 AND dialog_key='k'"; }
ids_of() { dlg_by_callid "$1" | jq -r '"\(.h_entry) \(.h_id)"'; }

# ---- db_mode 2 ------------------------------------------------------------
CFG="$E2E_TMP/mode2.yaml"
mode_config "$CFG" 2
check "the db_mode 2 config passes --check" "$SIPDLGD" -c "$CFG" --check
PROXY_LOG="$E2E_TMP/proxy.log"
if ! start_daemon proxy "$CFG" || ! wait_for 10 port_bound udp "$P"; then
	not_ok "sipdlgd starts with db_mode 2" "$(proxy_diag)"
	e2e_finish
fi
ok "sipdlgd starts with db_mode 2, db_update_period 2"
SIPP_TIMEOUT=40 sipp_start uas db_uas_hold.xml -i 127.0.0.1 -t u1 -p "$U" -m 2
UAS_PID=$SIPP_PID
wait_for 5 port_bound udp "$U"
SIPP_TIMEOUT=40 sipp_start uac db_uac_hold.xml "127.0.0.1:$P" -i 127.0.0.1 -t u1 -p "$C" \
	-s callee -key from_user ann -m 1 -d 9000 -default_behaviors "all,-bye" \
	-cid_str "dbm2a-%u-%p@%s"
UAC_PID=$SIPP_PID
CID1="dbm2a-1-$UAC_PID@127.0.0.1"
wait_for 10 dlg_state_is "$CID1" 4
t0=$(now_ms)
wait_for 6 has_row "$CID1"
t1=$(now_ms)
dt=$((t1 - t0))
check_eq "mode 2: the confirmed call's row appears within 3 s (after ${dt} ms)" true \
	"$([ "$dt" -le 3200 ] && has_row "$CID1" && echo true || echo false)"
# Just after a periodic write, a second call: not written at once.
SIPP_TIMEOUT=40 sipp_start uac2 db_uac_hold.xml "127.0.0.1:$P" -i 127.0.0.1 -t u1 -p "$C2" \
	-s callee -key from_user ben -m 1 -d 6000 -default_behaviors "all,-bye" \
	-cid_str "dbm2b-%u-%p@%s"
UAC2_PID=$SIPP_PID
CID2="dbm2b-1-$UAC2_PID@127.0.0.1"
wait_for 5 dlg_state_is "$CID2" 4
t2=$(now_ms)
early=$(row_of "$CID2")
if [ $((t2 - t1)) -lt 1500 ]; then
	check_eq "mode 2: a call confirmed between two periods has no row at once" "" "$early"
else
	skip "mode 2: a call confirmed between two periods has no row at once" \
		"the second call took $((t2 - t1)) ms to set up"
fi
wait_for 4 has_row "$CID2"
t3=$(now_ms)
check_eq "mode 2: and has it at the next period ($((t3 - t2)) ms later)" true \
	"$([ $((t3 - t2)) -le 3200 ] && has_row "$CID2" && echo true || echo false)"
r1=$(row_of "$CID1")
check_eq "mode 2: the row has dlg.list's ids and state 4" "$(ids_of "$CID1") 4" "$r1"
set -- $r1
check_eq "mode 2: dialog_vars holds the variable byte for byte" "$VAL_HEX" "$(var_hex "$1" "$2")"
sipp_wait "$UAC_PID" 15; uac_rc=$?
# The BYE ended the dialog: its row goes at once (not at the next period).
if wait_for 1 no_row "$CID1"; then ok "mode 2: the ended call's row is deleted at once"
else not_ok "mode 2: the ended call's row is deleted at once" "row: $(row_of "$CID1")"; fi
sipp_wait "$UAC2_PID" 15; uac2_rc=$?
sipp_wait "$UAS_PID" 10; uas_rc=$?
check_eq "mode 2: both calls end with the callers' BYEs" "0 0 0" "$uac_rc $uac2_rc $uas_rc"
wait_for 3 no_row "$CID2"
check_eq "mode 2: no row and no variable left" "0 0" "$(db_count) $(db_count dialog_vars)"
if stop_daemon "$DAEMON_PID"; then ok "mode 2: a clean stop"; else not_ok "mode 2: a clean stop" "exit status not 0"; fi

# ---- db_mode 3 ------------------------------------------------------------
CFG="$E2E_TMP/mode3.yaml"
mode_config "$CFG" 3
if ! start_daemon proxy3 "$CFG" || ! wait_for 10 port_bound udp "$P"; then
	not_ok "sipdlgd starts with db_mode 3" "$(tail -n 20 "$E2E_TMP/proxy3.log")"
	e2e_finish
fi
PROXY_LOG="$E2E_TMP/proxy3.log"
ok "sipdlgd starts with db_mode 3"
SIPP_TIMEOUT=50 sipp_start uas3 db_uas_hold.xml -i 127.0.0.1 -t u1 -p "$U3" -m 1
UAS_PID=$SIPP_PID
wait_for 5 port_bound udp "$U3"
SIPP_TIMEOUT=50 sipp_start uac3 db_uac_hold.xml "127.0.0.1:$P" -i 127.0.0.1 -t u1 -p "$C3" \
	-s callee3 -key from_user cy -m 1 -d 16000 -default_behaviors "all,-bye" \
	-cid_str "dbm3-%u-%p@%s"
UAC_PID=$SIPP_PID
CID3="dbm3-1-$UAC_PID@127.0.0.1"
if wait_for 10 dlg_state_is "$CID3" 4; then ok "mode 3: the call is confirmed"
else not_ok "mode 3: the call is confirmed" "$(dlg_diag)"; fi
IDS=$(ids_of "$CID3")
sleep 2.5
check_eq "mode 3: no row and no variable during the call" "0 0" "$(db_count) $(db_count dialog_vars)"
if stop_daemon "$DAEMON_PID"; then ok "mode 3: a clean stop"; else not_ok "mode 3: a clean stop" "exit status not 0"; fi
check_eq "mode 3: the stop wrote the dialog's row (ids, state 4)" "$IDS 4" "$(row_of "$CID3")"
check_eq "mode 3: and its variable byte for byte" "$VAL_HEX" "$(var_hex $IDS)"
if ! start_daemon proxy4 "$CFG"; then
	not_ok "mode 3: sipdlgd starts again" "$(tail -n 20 "$E2E_TMP/proxy4.log")"
	e2e_finish
fi
PROXY_LOG="$E2E_TMP/proxy4.log"
d=$(dlg_by_callid "$CID3")
check_eq "mode 3: the start restored the dialog (ids, state)" "$IDS 4" \
	"$(printf '%s' "$d" | jq -r '"\(.h_entry) \(.h_id) \(.state)"')"
check_eq "mode 3: with its variable" "$VAL" \
	"$(printf '%s' "$d" | jq -r '[.variables[] | .k // empty][0] // empty')"
check_eq "mode 3: and emptied both tables" "0 0" "$(db_count) $(db_count dialog_vars)"
if stop_daemon "$DAEMON_PID"; then ok "mode 3: a second clean stop"; else not_ok "mode 3: a second clean stop" "exit status not 0"; fi
check_eq "mode 3: which writes the row back" "$IDS 4" "$(row_of "$CID3")"
check_eq "mode 3: and the variable" "$VAL_HEX" "$(var_hex $IDS)"
if ! start_daemon proxy5 "$CFG"; then
	not_ok "mode 3: sipdlgd starts a third time" "$(tail -n 20 "$E2E_TMP/proxy5.log")"
	e2e_finish
fi
PROXY_LOG="$E2E_TMP/proxy5.log"
check_eq "mode 3: restored again" "$IDS 4" "$(dlg_by_callid "$CID3" | jq -r '"\(.h_entry) \(.h_id) \(.state)"')"
sipp_wait "$UAC_PID" 20; uac_rc=$?
sipp_wait "$UAS_PID" 10; uas_rc=$?
sipp_call_check "mode 3: the restored call is ended by the caller's BYE" uac3 "$uac_rc" uas3 "$uas_rc" 1
wait_for 3 dlg_ended "$CID3"
if stop_daemon "$DAEMON_PID"; then ok "mode 3: a last clean stop"; else not_ok "mode 3: a last clean stop" "exit status not 0"; fi
check_eq "mode 3: nothing left to write: both tables empty" "0 0" "$(db_count) $(db_count dialog_vars)"

# db_mode 3 with the database gone at stop: the stop gives up (bounded
# wait), says what it lost, and exits.
if ! start_daemon proxy6 "$CFG"; then
	not_ok "mode 3: sipdlgd starts a fourth time" "$(tail -n 20 "$E2E_TMP/proxy6.log")"
	e2e_finish
fi
SIPP_TIMEOUT=40 sipp_start uas4 db_uas_hold.xml -i 127.0.0.1 -t u1 -p "$U3" -m 1
wait_for 5 port_bound udp "$U3"
SIPP_TIMEOUT=40 sipp_start uac4 db_uac_hold.xml "127.0.0.1:$P" -i 127.0.0.1 -t u1 -p "$C3" \
	-s callee3 -key from_user di -m 1 -d 30000 -default_behaviors "all,-bye" \
	-cid_str "dbm3x-%u-%p@%s"
CID4="dbm3x-1-$SIPP_PID@127.0.0.1"
wait_for 10 dlg_state_is "$CID4" 4
mariadb_pause
t0=$(now_ms)
if stop_daemon "$DAEMON_PID"; then stopped=yes; else stopped=no; fi
check_eq "mode 3: with the database gone, the stop still ends (in $(($(now_ms) - t0)) ms)" yes "$stopped"
check_contains "mode 3: and logs the dialog it could not write" "database unreachable at stop" \
	"$(cat "$E2E_TMP/proxy6.log")"
e2e_finish
