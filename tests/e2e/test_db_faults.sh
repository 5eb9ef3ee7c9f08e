#!/bin/bash
# Faults of the database persistence (db_mode 1, private MariaDB):
#  (a) kill -9 of sipdlgd during 200 confirmed sipp calls: restarted, it
#      restores all 200 with the same h_entry/h_id, and the callers' own
#      BYEs (Route with the old did cookie) end them with 200 OK;
#  (b) MariaDB stopped for 10 s during traffic and started again: the
#      calls go on, the writes wait in the queue, and after the return
#      the `dialog` table holds exactly the live dialogs (none lost).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
e2e_init
e2e_db_begin "db faults"
P=$BASE U=$((BASE + 1)) C=$((BASE + 2)) U2=$((BASE + 3)) C2=$((BASE + 4))
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
  retry_interval: 1
control:
  socket: $DLG_SOCK
log:
  level: info
routes:
  - match: { method: INVITE, in_dialog: false, ruri_user: callee }
    actions: [ dlg_manage, { forward: "udp:127.0.0.1:$U" } ]
  - match: { method: INVITE, in_dialog: false, ruri_user: callee2 }
    actions: [ dlg_manage, { forward: "udp:127.0.0.1:$U2" } ]
EOC
PROXY_LOG="$E2E_TMP/proxy.log"
if ! start_daemon proxy "$CFG" || ! wait_for 10 port_bound udp "$P"; then
	not_ok "sipdlgd starts with db_mode 1" "$(proxy_diag)"
	e2e_finish
fi
ok "sipdlgd starts with db_mode 1 on the private MariaDB"

# "call-id h_entry h_id" of every dialog in state STATE (default 4), sorted.
live_ids() {
	dlg_ctl list 2>/dev/null | jq -r --argjson s "${1:-4}" \
		'.[] | select(.state == $s) | "\(."call-id") \(.h_entry) \(.h_id)"' | sort
}
db_ids() {
	mariadb_sql "SELECT callid, hash_entry, hash_id FROM dialog WHERE state=4" |
		tr '\t' ' ' | sort
}
db_count() { mariadb_sql "SELECT COUNT(*) FROM dialog ${1:-}"; }
db_count_is() { [ "$(db_count "${2:-}")" = "$1" ]; }
db_stat() {
	dlg_ctl stats db 2>/dev/null | jq -r --arg k "db.$1" '.[$k] // empty'
}

# ---- (a) kill -9 during 200 confirmed calls -------------------------------
SIPP_TIMEOUT=60 sipp_start uas db_uas_hold.xml -i 127.0.0.1 -t u1 -p "$U" -m 200
UAS_PID=$SIPP_PID
wait_for 5 port_bound udp "$U"
SIPP_TIMEOUT=60 sipp_start uac db_uac_hold.xml "127.0.0.1:$P" -i 127.0.0.1 -t u1 -p "$C" \
	-s callee -key from_user kim -m 200 -l 200 -r 50 -d 15000 \
	-default_behaviors "all,-bye" -cid_str "dbk-%u-%p@%s"
UAC_PID=$SIPP_PID
all_up() { dlg_active_is ongoing 200 && db_count_is 200 "WHERE state=4"; }
if wait_for 14 all_up; then
	ok "200 calls confirmed, 200 rows in state 4"
else
	not_ok "200 calls confirmed, 200 rows in state 4" \
		"ongoing: $(dlg_active ongoing); rows: $(db_count "WHERE state=4")" "$(dlg_diag)"
fi
BEFORE=$(live_ids)
check_eq "dlg.list lists the 200 (saved before the kill)" 200 "$(printf '%s\n' "$BEFORE" | grep -c .)"
check_eq "the rows hold dlg.list's call-ids and ids" "$BEFORE" "$(db_ids)"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
forget_pid "$DAEMON_PID"
ok "sipdlgd killed with SIGKILL"
if start_daemon proxy2 "$CFG" && wait_for 10 port_bound udp "$P"; then
	ok "sipdlgd restarts after the kill"
else
	not_ok "sipdlgd restarts after the kill" "$(tail -n 20 "$E2E_TMP/proxy2.log")"
	e2e_finish
fi
PROXY_LOG="$E2E_TMP/proxy2.log"
check_eq "dlg.stats_active: 200 ongoing after the restore" 200 "$(dlg_active ongoing)"
AFTER=$(live_ids)
if [ "$BEFORE" = "$AFTER" ]; then
	ok "all 200 restored with the same call-ids, h_entry and h_id"
else
	not_ok "all 200 restored with the same call-ids, h_entry and h_id" \
		"$(diff <(echo "$BEFORE") <(echo "$AFTER") | head -n 10)"
fi
check_contains "the log says how many were restored" "restored 200 dialogs" \
	"$(cat "$E2E_TMP/proxy2.log")"
sipp_wait "$UAC_PID" 40; uac_rc=$?
sipp_wait "$UAS_PID" 10; uas_rc=$?
sipp_call_check "the callers' BYEs (old did cookie) end all 200 with 200 OK" \
	uac "$uac_rc" uas "$uas_rc" 200
if wait_for 10 dlg_active_is all 0; then ok "no dialog left after the BYEs"
else not_ok "no dialog left after the BYEs" "$(dlg_diag)"; fi
if wait_for 10 db_count_is 0; then ok "and no row left in the dialog table"
else not_ok "and no row left in the dialog table" "rows: $(db_count)"; fi

# ---- (b) MariaDB away for 10 s during traffic -----------------------------
SIPP_TIMEOUT=60 sipp_start uas2 db_uas_hold.xml -i 127.0.0.1 -t u1 -p "$U2" -m 100
UAS_PID=$SIPP_PID
wait_for 5 port_bound udp "$U2"
SIPP_TIMEOUT=60 sipp_start uac2 db_uac_hold.xml "127.0.0.1:$P" -i 127.0.0.1 -t u1 -p "$C2" \
	-s callee2 -key from_user mo -m 100 -l 100 -r 10 -d 32000 \
	-default_behaviors "all,-bye" -cid_str "dbp-%u-%p@%s"
UAC_PID=$SIPP_PID
RECON0=$(db_stat reconnects)
sleep 2
mariadb_pause
ok "MariaDB stopped during traffic ($(dlg_active ongoing) calls up)"
sleep 10
up_during=$(dlg_active ongoing)
if mariadb_resume; then ok "MariaDB started again"
else not_ok "MariaDB started again"; e2e_finish; fi
check_eq "the calls went on while it was away (100 up)" 100 "$up_during"
synced() { [ "$(live_ids)" = "$(db_ids)" ] && [ "$(db_count)" = 100 ]; }
if wait_for 10 synced; then
	ok "after the return the dialog table holds exactly the 100 live dialogs"
else
	not_ok "after the return the dialog table holds exactly the 100 live dialogs" \
		"rows: $(db_count); state 4: $(db_count "WHERE state=4")" \
		"$(diff <(live_ids) <(db_ids) | head -n 10)"
fi
rc_now=$(db_stat reconnects)
check_eq "db.reconnects counted the reconnection" true \
	"$([ "${rc_now:-0}" -ge $((${RECON0:-0} + 1)) ] && echo true || echo "false ($RECON0 -> $rc_now)")"
check_eq "no write was dropped" 0 "$(db_stat writes_dropped)"
sipp_wait "$UAC_PID" 45; uac_rc=$?
sipp_wait "$UAS_PID" 10; uas_rc=$?
sipp_call_check "the 100 calls end normally with the callers' BYEs" \
	uac2 "$uac_rc" uas2 "$uas_rc" 100
if wait_for 10 db_count_is 0; then ok "their rows are deleted"
else not_ok "their rows are deleted" "rows: $(db_count)"; fi
stop_daemon "$DAEMON_PID"
e2e_finish
