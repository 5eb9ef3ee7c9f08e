#!/bin/bash
# db_mode 1 (realtime) against a private MariaDB: a call through sipdlgd
# is written to the Kamailio 5.6 `dialog` table when it is answered, with
# the same h_entry/h_id as dlg.list, the right Call-ID, tags and state,
# and an absolute UNIX timeout from the first write (Kamailio's first
# insert holds a time in the past); the call survives a restart (restored
# from the table) and the box can still end it; ending it updates or
# removes the row.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
e2e_init
e2e_db_begin "db realtime"
P=$BASE U=$((BASE + 1)) C=$((BASE + 2))
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
  required: true
control:
  socket: $DLG_SOCK
log:
  level: debug
routes:
  - match: { method: INVITE, in_dialog: false }
    actions: [ dlg_manage, { forward: "udp:127.0.0.1:$U" } ]
EOC
check "the config passes --check" "$SIPDLGD" -c "$CFG" --check
PROXY_LOG="$E2E_TMP/proxy.log"
if ! start_daemon proxy "$CFG" || ! wait_for 10 port_bound udp "$P"; then
	not_ok "sipdlgd starts with db_mode 1" "$(proxy_diag)"
	e2e_finish
fi
ok "sipdlgd starts with db_mode 1 on the private MariaDB"

sipp_start uas dlg_uas_wait_bye.xml -i 127.0.0.1 -t u1 -p "$U" -m 1 -default_behaviors "all,-bye"
UAS_PID=$SIPP_PID
wait_for 5 port_bound udp "$U"
sipp_start uac dlg_uac_wait_bye.xml "127.0.0.1:$P" -i 127.0.0.1 -t u1 -p "$C" -m 1 \
	-s db -key from_user dora -recv_timeout 15000 -default_behaviors "all,-bye" \
	-cid_str "dbrt-%u-%p@%s"
UAC_PID=$SIPP_PID
CID="dbrt-1-$UAC_PID@127.0.0.1"
row() { mariadb_sql "SELECT hash_entry, hash_id, state, from_tag, to_tag, timeout FROM dialog WHERE callid='$CID'"; }
state4() { [ "$(row | awk '{print $3}')" = 4 ]; }
if wait_for 10 state4; then ok "the answered call is in the dialog table with state 4"
else not_ok "the answered call is in the dialog table with state 4" "row: '$(row)'" "$(tail -n 30 "$PROXY_LOG")"; e2e_finish; fi
DLG=$(json_get "$("$SIPDLGCTL" --socket "$DLG_SOCK" --json list)" "[.[] | select(.\"call-id\" == \"$CID\")][0]")
r=$(row)
check_eq "hash_entry and hash_id are dlg.list's h_entry and h_id" \
	"$(json_get "$DLG" .h_entry) $(json_get "$DLG" .h_id)" "$(echo "$r" | awk '{print $1, $2}')"
check_eq "from_tag and to_tag are the dialog's" \
	"$(json_get "$DLG" .caller.tag) $(json_get "$DLG" .callee.tag)" "$(echo "$r" | awk '{print $4, $5}')"
to=$(echo "$r" | awk '{print $6}') now=$(date +%s)
check_eq "timeout is the absolute UNIX expiry (about now + 600)" true \
	"$([ "$to" -ge $((now + 590)) ] && [ "$to" -le $((now + 610)) ] && echo true || echo false)"
# Restart: the call survives in the database and comes back.
stop_daemon "$DAEMON_PID"
check_eq "a clean stop leaves the row in the table" 4 "$(row | awk '{print $3}')"
if start_daemon proxy2 "$CFG" && wait_for 10 port_bound udp "$P"; then
	ok "sipdlgd restarts"
else
	not_ok "sipdlgd restarts" "$(tail -n 20 "$E2E_TMP/proxy2.log")"
	e2e_finish
fi
DLG2=$(json_get "$("$SIPDLGCTL" --socket "$DLG_SOCK" --json list)" "[.[] | select(.\"call-id\" == \"$CID\")][0]")
check_eq "the restored dialog has the same ids, tags and state" \
	"$(json_get "$DLG" '[.h_entry, .h_id, .caller.tag, .callee.tag] | @tsv') 4" \
	"$(json_get "$DLG2" '[.h_entry, .h_id, .caller.tag, .callee.tag] | @tsv') $(json_get "$DLG2" .state)"
check_eq "and counts as active" 1 \
	"$(json_get "$("$SIPDLGCTL" --socket "$DLG_SOCK" --json stats dialog)" '.["dialog.active_dialogs"]')"
"$SIPDLGCTL" --socket "$DLG_SOCK" end "$(json_get "$DLG" .h_entry)" "$(json_get "$DLG" .h_id)" >/dev/null 2>&1
sipp_wait "$UAC_PID" 16; uac_rc=$?
sipp_wait "$UAS_PID" 5; uas_rc=$?
check_eq "the restored call is ended by the box: both sides get the BYE" "0 0" "$uac_rc $uas_rc"
gone_or_5() { s=$(row | awk '{print $3}'); [ -z "$s" ] || [ "$s" = 5 ]; }
if wait_for 10 gone_or_5; then ok "after the end the row is gone or in state 5"
else not_ok "after the end the row is gone or in state 5" "row: '$(row)'"; fi
check_eq "no write was dropped" 0 \
	"$(json_get "$("$SIPDLGCTL" --socket "$DLG_SOCK" --json stats db)" '.["db.writes_dropped"] // 0')"
stop_daemon "$DAEMON_PID"

# A database that cannot be reached: refused with database.required,
# started without it otherwise.
sed -e "s|unix($MARIADB_SOCKET)|unix($E2E_TMP/nothing.sock)|" "$CFG" >"$E2E_TMP/bad.yaml"
out=$(timeout 20 "$SIPDLGD" -c "$E2E_TMP/bad.yaml" 2>&1); rc=$?
check_eq "an unreachable database with required: true stops the start" 1 "$rc"
check_contains "and the message names the database" "database" "$out"
e2e_finish
