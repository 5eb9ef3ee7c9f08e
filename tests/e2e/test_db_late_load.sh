#!/bin/bash
# The database coming back (db_mode 1, database.required: false, private
# MariaDB): two calls A and B confirmed and stored; sipdlgd stopped (the
# rows stay); MariaDB stopped; sipdlgd started without it; A's BYE (the
# caller's, with the old did cookie) sent through it while the stored
# dialogs are not loaded; a new call C made; MariaDB started again.
# Then, within a bounded wait: the stored dialogs are loaded ("restored 1
# dialogs from the database after it came back"), A is not listed and
# its row is gone, B is restored and ended with `sipdlgctl end` (both
# sides get the BYE), C's row is written with dlg.list's ids (not
# clobbered, not doubled); a last restart restores only C.  Then a row
# whose ids a call made while the database was away was given is deleted
# at the late load, not restored and not doubled; and a daemon stopped
# before the database returns deletes at its stop the rows of the calls
# whose BYE it passed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
e2e_init
e2e_db_begin "db late load"
P=$BASE
UA=$((BASE + 1)) CA=$((BASE + 2))
UB=$((BASE + 3)) CB=$((BASE + 4))
UC=$((BASE + 5)) CC=$((BASE + 6))
DLG_SOCK="$E2E_TMP/ctl.sock"
CFG="$E2E_TMP/db.yaml"
cat >"$CFG" <<EOC
listen: ["udp:127.0.0.1:$P"]
xdp: {enabled: false}
dialog:
  db_mode: 1
  db_url: "$MARIADB_URL"
  default_timeout: 600
database:
  required: false
  retry_interval: 1
  retry_max: 2
control:
  socket: $DLG_SOCK
log:
  level: info
routes:
  - match: { method: INVITE, in_dialog: false, ruri_user: calleea }
    actions: [ dlg_manage, { forward: "udp:127.0.0.1:$UA" } ]
  - match: { method: INVITE, in_dialog: false, ruri_user: calleeb }
    actions: [ dlg_manage, { forward: "udp:127.0.0.1:$UB" } ]
  - match: { method: INVITE, in_dialog: false, ruri_user: calleec }
    actions: [ dlg_manage, { forward: "udp:127.0.0.1:$UC" } ]
EOC
check "the config passes --check" "$SIPDLGD" -c "$CFG" --check

db_stat() {
	dlg_ctl stats db 2>/dev/null | jq -r --arg k "db.$1" '.[$k] // empty'
}
row() {
	mariadb_sql "SELECT hash_entry, hash_id, state FROM dialog WHERE callid='$1'"
}
row_state_is() { [ "$(row "$1" | awk '{print $3}')" = "$2" ]; }
rows() { mariadb_sql "SELECT COUNT(*) FROM dialog"; }
listed() { dlg_by_callid "$1" | jq -r '"\(.h_entry) \(.h_id) \(.state)"' 2>/dev/null; }
up_call() {	# NAME CALLEE UAS-PORT UAC-PORT : a call that waits for a BYE
	SIPP_TIMEOUT=120 sipp_start "uas$1" db_uas_hold.xml -i 127.0.0.1 -t u1 -p "$3" -m 1
	eval "UAS_$1=\$SIPP_PID"
	wait_for 5 port_bound udp "$3"
	SIPP_TIMEOUT=120 sipp_start "uac$1" db_uac_wait_bye.xml "127.0.0.1:$P" -i 127.0.0.1 \
		-t u1 -p "$4" -m 1 -s "$2" -key from_user "late$1" \
		-default_behaviors "all,-bye" -cid_str "late$1-%u-%p@%s"
	eval "UAC_$1=\$SIPP_PID"
	eval "CID_$1=late$1-1-\$SIPP_PID@127.0.0.1"
}

# send_bye DIALOG-JSON CALLID CALLER-PORT NAME : the caller's BYE of a
# dialog as dlg.list showed it, with the did cookie of its Record-Route.
send_bye() {
	local he hid
	he=$(json_get "$1" .h_entry) hid=$(json_get "$1" .h_id)
	cat >"$E2E_TMP/bye_$4.sip" <<EOM
BYE $(json_get "$1" .callee.contact) SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:$3;branch=z9hG4bKlate$4;rport
From: <sip:late$4@127.0.0.1:$3>;tag=$(json_get "$1" .caller.tag)
To: <sip:callee@127.0.0.1:$P>;tag=$(json_get "$1" .callee.tag)
Call-ID: $2
CSeq: 2 BYE
Route: <sip:127.0.0.1:$P;lr;did=$(rev_hex "$he").$(rev_hex "$hid")>
Max-Forwards: 70
Content-Length: 0

EOM
	udp_send_sip "$E2E_TMP/bye_$4.sip" 127.0.0.1 "$P"
}

PROXY_LOG="$E2E_TMP/proxy1.log"
if ! start_daemon proxy1 "$CFG" || ! wait_for 10 port_bound udp "$P"; then
	not_ok "sipdlgd starts with db_mode 1" "$(proxy_diag)"
	e2e_finish
fi
ok "sipdlgd starts with db_mode 1 and the database up"
up_call A calleea "$UA" "$CA"
up_call B calleeb "$UB" "$CB"
both_stored() { row_state_is "$CID_A" 4 && row_state_is "$CID_B" 4; }
if wait_for 10 both_stored; then ok "calls A and B confirmed, their rows in state 4"
else not_ok "calls A and B confirmed, their rows in state 4" \
	"A: '$(row "$CID_A")' B: '$(row "$CID_B")'" "$(dlg_diag)"; e2e_finish; fi
A_JSON=$(dlg_by_callid "$CID_A")
B_IDS=$(listed "$CID_B")
stop_daemon "$DAEMON_PID"
check_eq "a clean stop leaves both rows" 2 "$(rows)"
mariadb_pause
ok "MariaDB stopped"

PROXY_LOG="$E2E_TMP/proxy2.log"
if start_daemon proxy2 "$CFG" && wait_for 10 port_bound udp "$P"; then
	ok "sipdlgd starts without the database (required: false)"
else
	not_ok "sipdlgd starts without the database (required: false)" "$(proxy_diag)"
	e2e_finish
fi
check_contains "it says it starts without the database" "starting without the database" \
	"$(cat "$PROXY_LOG")"
check_eq "db.load_pending is 1, nothing is listed" "1 0" \
	"$(db_stat load_pending) $(dlg_ctl list | jq length)"

# A's BYE from the caller, with the cookie of the old Record-Route.
send_bye "$A_JSON" "$CID_A" "$CA" A
sipp_wait "$UAS_A" 10; uas_rc=$?
check_eq "A's BYE passes through to the callee while the dialogs are not loaded" 0 "$uas_rc"
sipp_wait "$UAC_A" 1 >/dev/null	# A's caller waits for nothing more

up_call C calleec "$UC" "$CC"
c_up() { [ "$(listed "$CID_C" | awk '{print $3}')" = 4 ]; }
if wait_for 10 c_up; then ok "a new call C is confirmed while the database is away"
else not_ok "a new call C is confirmed while the database is away" "$(dlg_diag)"; fi
C_IDS=$(listed "$CID_C")

if mariadb_resume; then ok "MariaDB started again"
else not_ok "MariaDB started again"; e2e_finish; fi
loaded() { [ "$(db_stat load_pending)" = 0 ]; }
if wait_for 15 loaded; then ok "the stored dialogs are loaded once it is back"
else not_ok "the stored dialogs are loaded once it is back" "$(proxy_diag)"; fi
check_contains "the log says so" \
	"restored 1 dialogs from the database after it came back (2 rows, 0 skipped, 0 variables, 1 ended by a BYE meanwhile, 0 ids taken" \
	"$(cat "$PROXY_LOG")"
check_eq "db.late_restored 1, db.late_ended 1" "1 1" \
	"$(db_stat late_restored) $(db_stat late_ended)"
check_eq "the ended call A is not listed" "" "$(listed "$CID_A")"
check_eq "B is restored, active, with its ids" "$B_IDS" "$(listed "$CID_B")"
a_gone() { [ -z "$(row "$CID_A")" ]; }
if wait_for 5 a_gone; then ok "A's row is gone"
else not_ok "A's row is gone" "row: '$(row "$CID_A")'"; fi
c_row() { [ "$(row "$CID_C" | tr '\t' ' ')" = "$C_IDS" ]; }
if wait_for 10 c_row; then ok "the new call C's row is written with dlg.list's ids"
else not_ok "the new call C's row is written with dlg.list's ids" \
	"row: '$(row "$CID_C")' list: '$C_IDS'"; fi
check_eq "one row per dialog: B and C" 2 "$(rows)"

# H_ENTRY H_ID only: the third field of listed() is the state
"$SIPDLGCTL" --socket "$DLG_SOCK" end ${B_IDS% *} >/dev/null 2>&1
sipp_wait "$UAC_B" 10; uac_rc=$?
sipp_wait "$UAS_B" 10; uas_rc=$?
check_eq "the restored call B is ended with sipdlgctl end: both sides get the BYE" \
	"0 0" "$uac_rc $uas_rc"
b_gone() { [ -z "$(row "$CID_B")" ] && [ -z "$(listed "$CID_B")" ]; }
if wait_for 10 b_gone; then ok "B's dialog and row are gone"
else not_ok "B's dialog and row are gone" "row: '$(row "$CID_B")'"; fi
check_eq "no write was dropped" 0 "$(db_stat writes_dropped)"
stop_daemon "$DAEMON_PID"

PROXY_LOG="$E2E_TMP/proxy3.log"
if start_daemon proxy3 "$CFG" && wait_for 10 port_bound udp "$P"; then
	ok "sipdlgd restarts with the database up"
else
	not_ok "sipdlgd restarts with the database up" "$(proxy_diag)"
	e2e_finish
fi
check_contains "it restores one dialog" "restored 1 dialogs from the database (1 rows" \
	"$(cat "$PROXY_LOG")"
check_eq "only C is listed: nothing ended comes back" "$C_IDS" \
	"$(dlg_ctl list | jq -r '.[] | "\(.h_entry) \(.h_id) \(.state)"')"
"$SIPDLGCTL" --socket "$DLG_SOCK" end ${C_IDS% *} >/dev/null 2>&1
sipp_wait "$UAC_C" 10; uac_rc=$?
sipp_wait "$UAS_C" 10; uas_rc=$?
check_eq "C ends with sipdlgctl end" "0 0" "$uac_rc $uas_rc"
no_rows() { [ "$(rows)" = 0 ]; }
if wait_for 10 no_rows; then ok "no row left"
else not_ok "no row left" "rows: $(rows)"; fi
stop_daemon "$DAEMON_PID"

# ---- ids given to a new call while the database was away -----------------
# hash_size 1 (every Call-ID in entry 0) and a db_url through a symlink
# to the socket, so that "away" and "back" are exact: a call D is made
# while the link is missing, a stored row of another call is put under
# D's ids, then the link appears.  The late load must delete that row
# (its cookie now names D) and D's own row must be the only one.
LINK="$E2E_TMP/db-link.sock"
CFG2="$E2E_TMP/db2.yaml"
sed -e "s|unix($MARIADB_SOCKET)|unix($LINK)|" -e 's|default_timeout: 600|&\n  hash_size: 1|' \
	-e 's|ruri_user: calleec|ruri_user: calleed|' "$CFG" >"$CFG2"
PROXY_LOG="$E2E_TMP/proxy4.log"
if start_daemon proxy4 "$CFG2" && wait_for 10 port_bound udp "$P"; then
	ok "sipdlgd starts with hash_size 1 and the database unreachable"
else
	not_ok "sipdlgd starts with hash_size 1 and the database unreachable" "$(proxy_diag)"
	e2e_finish
fi
up_call D calleed "$UC" "$CC"
d_up() { [ "$(listed "$CID_D" | awk '{print $3}')" = 4 ]; }
if wait_for 10 d_up; then ok "call D is confirmed while the database is away"
else not_ok "call D is confirmed while the database is away" "$(dlg_diag)"; fi
D_IDS=$(listed "$CID_D")
read -r D_HE D_HID _ <<<"$D_IDS"
NOW=$(date +%s)
mariadb_sql "INSERT INTO dialog (hash_entry, hash_id, callid, from_uri, from_tag,
	to_uri, to_tag, caller_cseq, callee_cseq, caller_contact, callee_contact,
	caller_sock, callee_sock, state, start_time, timeout, sflags, iflags, req_uri)
	VALUES ($D_HE, $D_HID, 'ghost-1@127.0.0.1', 'sip:g@127.0.0.1', 'gf', 'sip:h@127.0.0.1',
	'gt', '1', '0', 'sip:g@127.0.0.1:$CA', 'sip:h@127.0.0.1:$UA', 'udp:127.0.0.1:$P',
	'udp:127.0.0.1:$P', 4, $((NOW - 60)), $((NOW + 600)), 0, 0, 'sip:h@127.0.0.1:$P');
	INSERT INTO dialog_vars (hash_entry, hash_id, dialog_key, dialog_value)
	VALUES ($D_HE, $D_HID, 'ghost', 'x')"
check_eq "a stored row of another call holds D's ids" 1 \
	"$(mariadb_sql "SELECT COUNT(*) FROM dialog WHERE callid='ghost-1@127.0.0.1'")"
ln -s "$MARIADB_SOCKET" "$LINK"
if wait_for 15 loaded; then ok "the database is found through the link, the dialogs are loaded"
else not_ok "the database is found through the link, the dialogs are loaded" "$(proxy_diag)"; fi
check_contains "the log counts the row whose ids D holds" \
	"restored 0 dialogs from the database after it came back (1 rows, 0 skipped, 0 variables, 0 ended by a BYE meanwhile, 1 ids taken by new dialogs)" \
	"$(cat "$PROXY_LOG")"
check_eq "D is listed with its ids, the other call is not" "$D_IDS" \
	"$(dlg_ctl list | jq -r '.[] | "\(.h_entry) \(.h_id) \(.state)"')"
d_row() { [ "$(row "$CID_D" | tr '\t' ' ')" = "$D_IDS" ] &&
	[ "$(rows)" = 1 ]; }
if wait_for 10 d_row; then ok "the only row is D's: the other one is deleted, not doubled"
else not_ok "the only row is D's: the other one is deleted, not doubled" \
	"$(mariadb_sql "SELECT hash_entry, hash_id, callid FROM dialog")"; fi
check_eq "and so are its variables" 0 "$(mariadb_sql "SELECT COUNT(*) FROM dialog_vars")"
"$SIPDLGCTL" --socket "$DLG_SOCK" end ${D_IDS% *} >/dev/null 2>&1
sipp_wait "$UAC_D" 10; uac_rc=$?
sipp_wait "$UAS_D" 10; uas_rc=$?
check_eq "D ends with sipdlgctl end" "0 0" "$uac_rc $uas_rc"
if wait_for 10 no_rows; then ok "no row left"
else not_ok "no row left" "rows: $(rows)"; fi
stop_daemon "$DAEMON_PID"

# ---- a stop before the database returns ----------------------------------
# The reconnect backoff long (60 s), so the database thread does not come
# back by itself: call E stored, sipdlgd restarted without the database,
# E's BYE passes, the database is reachable again only at the stop.  The
# stop deletes E's row (nothing is restored then), so the next start
# does not bring E back.
CFG3="$E2E_TMP/db3.yaml"
sed -e "s|unix($MARIADB_SOCKET)|unix($LINK)|" -e 's|retry_interval: 1|retry_interval: 60|' \
	-e 's|retry_max: 2|retry_max: 60|' "$CFG" >"$CFG3"
PROXY_LOG="$E2E_TMP/proxy5.log"
if ! start_daemon proxy5 "$CFG3" || ! wait_for 10 port_bound udp "$P"; then
	not_ok "sipdlgd starts with the database" "$(proxy_diag)"
	e2e_finish
fi
up_call E calleec "$UC" "$CC"
if wait_for 10 row_state_is "$CID_E" 4; then ok "call E confirmed and stored"
else not_ok "call E confirmed and stored" "$(dlg_diag)"; e2e_finish; fi
E_JSON=$(dlg_by_callid "$CID_E")
stop_daemon "$DAEMON_PID"
rm -f "$LINK"
PROXY_LOG="$E2E_TMP/proxy6.log"
if start_daemon proxy6 "$CFG3" && wait_for 10 port_bound udp "$P"; then
	ok "sipdlgd starts without the database (next attempt in 60 s)"
else
	not_ok "sipdlgd starts without the database (next attempt in 60 s)" "$(proxy_diag)"
	e2e_finish
fi
send_bye "$E_JSON" "$CID_E" "$CC" E
sipp_wait "$UAS_E" 10; uas_rc=$?
check_eq "E's BYE passes through to the callee" 0 "$uas_rc"
sipp_wait "$UAC_E" 1 >/dev/null
ln -s "$MARIADB_SOCKET" "$LINK"
check_eq "E's row is still there, the dialogs not loaded" "1 1" \
	"$(rows) $(db_stat load_pending)"
stop_daemon "$DAEMON_PID"
check_contains "the stop deletes the row of the call whose BYE passed" \
	"stopping with the stored dialogs never loaded: 1 rows of calls whose BYE passed meanwhile deleted" \
	"$(cat "$PROXY_LOG")"
check_eq "no row left" 0 "$(rows)"
PROXY_LOG="$E2E_TMP/proxy7.log"
if start_daemon proxy7 "$CFG3" && wait_for 10 port_bound udp "$P"; then
	check_eq "the next start restores nothing" 0 "$(dlg_ctl list | jq length)"
else
	not_ok "sipdlgd starts again" "$(proxy_diag)"
fi
stop_daemon "$DAEMON_PID"
e2e_finish
