#!/bin/bash
# db_mode 1 against a private MariaDB, checked by SQL:
#  (a) a call whose Call-ID holds a quote, a double quote and a backslash,
#      whose From/Contact user holds a quote and an escaped backslash
#      (%5C: a bare one is not a URI character), and with a variable
#      holding a quote, a double quote, a backslash and 4-byte UTF-8, is
#      stored byte for byte (HEX() of the columns) and restored byte for
#      byte (4-byte UTF-8 cannot be in a Call-ID or a URI: the parser takes
#      only RFC 3261's ASCII word and URI characters there);
#  (b) restarted with another hash_size, the start is refused (the message
#      names database.rehash_on_load); with rehash_on_load: true the call
#      is restored under its new h_entry, the row and its variable now
#      carry it, and the end of the call deletes both;
#  (c) a database that cannot be reached (required: false): the reconnect
#      attempts are logged with waits that double up to retry_max.
# (A NUL byte cannot reach the database: the SIP parser refuses any
# message with a NUL in its headers, and a row with one is refused at
# restore; tests/unit/test_sip_parse.c and test_db_row.c check both.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
e2e_init
e2e_db_begin "db rehash"
P=$BASE U=$((BASE + 1)) C=$((BASE + 2))
DLG_SOCK="$E2E_TMP/ctl.sock"
VAL="v'q\"\\x 😀"
# db_config FILE HASH_SIZE REHASH
db_config() {
	cat >"$1" <<EOC
listen: ["udp:127.0.0.1:$P"]
xdp: {enabled: false}
dialog:
  db_mode: 1
  db_url: "$MARIADB_URL"
  hash_size: $2
  default_timeout: 600
database:
  required: true
  rehash_on_load: $3
control:
  socket: $DLG_SOCK
log:
  level: info
routes:
  - match: { method: INVITE, in_dialog: false }
    actions:
      - dlg_manage
      - set_dlg_var: [k, '$(printf '%s' "$VAL" | sed "s/'/''/g")']
      - forward: "udp:127.0.0.1:$U"
EOC
}
db_config "$E2E_TMP/h4096.yaml" 4096 false
db_config "$E2E_TMP/h16.yaml" 16 false
db_config "$E2E_TMP/h16r.yaml" 16 true
check "the configs pass --check" "$SIPDLGD" -c "$E2E_TMP/h16r.yaml" --check
if ! start_daemon proxy "$E2E_TMP/h4096.yaml" || ! wait_for 10 port_bound udp "$P"; then
	not_ok "sipdlgd starts with db_mode 1" "$(tail -n 20 "$E2E_TMP/proxy.log")"
	e2e_finish
fi
ok "sipdlgd starts with db_mode 1, hash_size 4096"

FROM_USER="d'o%5Cra"
SIPP_TIMEOUT=60 sipp_start uas dlg_uas_wait_bye.xml -i 127.0.0.1 -t u1 -p "$U" -m 1 -default_behaviors "all,-bye"
UAS_PID=$SIPP_PID
wait_for 5 port_bound udp "$U"
SIPP_TIMEOUT=60 sipp_start uac dlg_uac_wait_bye.xml "127.0.0.1:$P" -i 127.0.0.1 -t u1 -p "$C" -m 1 \
	-s db -key from_user "$FROM_USER" -recv_timeout 50000 -default_behaviors "all,-bye" \
	-cid_str "q'\"\\-%u-%p@%s"
UAC_PID=$SIPP_PID
CID="q'\"\\-1-$UAC_PID@127.0.0.1"
CID_HEX=$(printf '%s' "$CID" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
VAL_HEX=$(printf '%s' "$VAL" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
row() { mariadb_sql "SELECT hash_entry, hash_id, state FROM dialog WHERE HEX(callid)='$CID_HEX'"; }
state4() { [ "$(row | awk '{print $3}')" = 4 ]; }
if wait_for 10 state4; then ok "the call is stored (found by HEX(callid): the Call-ID byte for byte)"
else not_ok "the call is stored (found by HEX(callid))" "rows: $(mariadb_sql 'SELECT callid, state FROM dialog')" \
	"$(tail -n 20 "$E2E_TMP/proxy.log")" "$(tail -n 20 "$E2E_TMP/uac.err" "$E2E_TMP/uac.out" 2>&1)"; e2e_finish; fi
read -r HE HID _ <<<"$(row)"
contains_hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n' | tr a-f A-F; }
check_contains "from_uri holds the user with its quote and %5C byte for byte" \
	"$(contains_hex "$FROM_USER")" "$(mariadb_sql "SELECT HEX(from_uri) FROM dialog WHERE hash_entry=$HE AND hash_id=$HID")"
check_contains "caller_contact too" \
	"$(contains_hex "$FROM_USER")" "$(mariadb_sql "SELECT HEX(caller_contact) FROM dialog WHERE hash_entry=$HE AND hash_id=$HID")"
check_eq "the variable byte for byte" "$VAL_HEX" \
	"$(mariadb_sql "SELECT HEX(dialog_value) FROM dialog_vars WHERE hash_entry=$HE AND hash_id=$HID AND dialog_key='k'")"
FROM_URI_HEX=$(mariadb_sql "SELECT HEX(from_uri) FROM dialog WHERE hash_entry=$HE AND hash_id=$HID")
stop_daemon "$DAEMON_PID"

# (b) another hash_size: refused without rehash_on_load.
out=$(timeout 20 "$SIPDLGD" -c "$E2E_TMP/h16.yaml" 2>&1); rc=$?
NEW_HE=$((HE & 15))
if [ "$NEW_HE" -eq "$HE" ]; then
	skip "hash_size 16 without rehash_on_load is refused" "the row's hash_entry $HE is the same with 16"
else
	check_eq "hash_size 16 without rehash_on_load: the start is refused" 1 "$([ "$rc" -ne 0 ] && echo 1 || echo 0)"
	check_contains "and the message names database.rehash_on_load" "rehash_on_load" "$out"
fi
if ! start_daemon proxy2 "$E2E_TMP/h16r.yaml" || ! wait_for 10 port_bound udp "$P"; then
	not_ok "with rehash_on_load: true it starts" "$(tail -n 20 "$E2E_TMP/proxy2.log")"
	e2e_finish
fi
ok "with rehash_on_load: true it starts"
d=$(dlg_by_callid "$CID")
check_eq "the call is restored under the new h_entry, same h_id, state 4" "$NEW_HE $HID 4" \
	"$(printf '%s' "$d" | jq -r '"\(.h_entry) \(.h_id) \(.state)"')"
check_eq "its Call-ID restored byte for byte" "$CID_HEX" \
	"$(printf '%s' "$d" | jq -j '."call-id"' | od -An -tx1 | tr -d ' \n' | tr a-f A-F)"
check_eq "its from_uri restored byte for byte" "$FROM_URI_HEX" \
	"$(printf '%s' "$d" | jq -j '.from_uri' | od -An -tx1 | tr -d ' \n' | tr a-f A-F)"
check_eq "its variable restored byte for byte" "$VAL_HEX" \
	"$(printf '%s' "$d" | jq -j '[.variables[] | .k // empty][0] // empty' | od -An -tx1 | tr -d ' \n' | tr a-f A-F)"
check_eq "the row now carries the new h_entry" "$NEW_HE $HID 4" "$(row | tr '\t' ' ')"
check_eq "and so does its variable" "1" \
	"$(mariadb_sql "SELECT COUNT(*) FROM dialog_vars WHERE hash_entry=$NEW_HE AND hash_id=$HID AND HEX(dialog_value)='$VAL_HEX'")"
"$SIPDLGCTL" --socket "$DLG_SOCK" end "$NEW_HE" "$HID" >/dev/null 2>&1
sipp_wait "$UAC_PID" 20; uac_rc=$?
sipp_wait "$UAS_PID" 5; uas_rc=$?
check_eq "the restored call is ended by the box: both sides get the BYE" "0 0" "$uac_rc $uas_rc"
gone() { [ "$(mariadb_sql 'SELECT COUNT(*) FROM dialog') $(mariadb_sql 'SELECT COUNT(*) FROM dialog_vars')" = "0 0" ]; }
if wait_for 10 gone; then ok "its end deletes the row and the variable"
else not_ok "its end deletes the row and the variable" "$(mariadb_sql 'SELECT hash_entry, hash_id, state FROM dialog')"; fi
stop_daemon "$DAEMON_PID"

# (c) reconnect backoff: retry_interval 1, retry_max 2 -> waits 1, 2, 2.
sed -e "s|unix($MARIADB_SOCKET)|unix($E2E_TMP/nothing.sock)|" \
	-e 's/required: true/required: false\n  retry_interval: 1\n  retry_max: 2/' \
	"$E2E_TMP/h4096.yaml" >"$E2E_TMP/away.yaml"
if start_daemon away "$E2E_TMP/away.yaml"; then
	sleep 6
	stop_daemon "$DAEMON_PID"
	log=$(cat "$E2E_TMP/away.log")
	check_contains "an unreachable database: attempt 1 waits 1 s" "(attempt 1); next attempt in 1 s" "$log"
	check_contains "attempt 2 waits 2 s" "(attempt 2); next attempt in 2 s" "$log"
	check_contains "attempt 3 waits 2 s (retry_max)" "(attempt 3); next attempt in 2 s" "$log"
else
	not_ok "sipdlgd starts without the database (required: false)" "$(tail -n 20 "$E2E_TMP/away.log")"
fi
e2e_finish
