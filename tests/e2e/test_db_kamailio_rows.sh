#!/bin/bash
# Rows written by Kamailio 5.6 (reference §8.1), inserted by SQL, are
# restored by sipdlgd: h_entry as Kamailio's core_hash gives it (hash_size
# 16384, the values observed on a real Kamailio), the profiles of `xdata`,
# the dialog_vars, and the caller's BYE with the Route of Kamailio's
# Record-Route (did=RH(h_entry).RH(h_id)) and the stored tags ends the
# dialog with 200 OK from the callee and deletes its rows.  A row whose
# hash_entry is not its Call-ID's hash stops the start with a message
# naming the row.  db_fetch_rows 1: each row is read by a SELECT of its
# own, the variable still finds its dialog.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
e2e_init
e2e_db_begin "kamailio rows"
P=$BASE U=$((BASE + 1)) C=$((BASE + 2))
DLG_SOCK="$E2E_TMP/ctl.sock"
CFG="$E2E_TMP/kam.yaml"
cat >"$CFG" <<EOC
listen: ["udp:127.0.0.1:$P"]
xdp: {enabled: false}
dialog:
  hash_size: 16384
  profiles_with_value: [caller]
  profiles_no_value: [inbound]
  db_mode: 1
  db_url: "$MARIADB_URL"
  db_fetch_rows: 1
database:
  required: true
control:
  socket: $DLG_SOCK
log:
  level: info
routes:
  - match: { method: INVITE, in_dialog: false }
    actions: [ dlg_manage, { forward: "udp:127.0.0.1:$U" } ]
EOC

# Kamailio 5.6, hash_size 16384: 1-20650@127.0.0.1 -> 9739,
# 1-7242@127.0.0.1 -> 10562, 1-6750@127.0.0.1 -> 3003 (reference §1.3).
CID1=1-20650@127.0.0.1 HE1=9739 HID1=4660
CID2=1-7242@127.0.0.1 HE2=10562 HID2=77
NOW=$(date +%s)
SOCK="udp:127.0.0.1:$P"
# The variable: a quote, a backslash, U+1F600 (inserted as bytes).
VAL=$'it\'s \\ \xF0\x9F\x98\x80'
VAL_HEX=$(printf '%s' "$VAL" | od -An -tx1 | tr -d ' \n')
# kam_row CALLID HE HID FTAG TTAG XDATA : one row as Kamailio writes it
# (route sets NULL, toroute_name NULL, callee cseq 0, sockets as strings).
kam_row() {
	mariadb_sql "INSERT INTO dialog (hash_entry, hash_id, callid, from_uri, from_tag,
		to_uri, to_tag, caller_cseq, callee_cseq, caller_route_set, callee_route_set,
		caller_contact, callee_contact, caller_sock, callee_sock, state, start_time,
		timeout, sflags, iflags, toroute_name, req_uri, xdata) VALUES ($2, $3, '$1',
		'sip:alice@127.0.0.1', '$4', 'sip:bob@127.0.0.1', '$5', '10', '0', NULL, NULL,
		'sip:alice@127.0.0.1:$C', 'sip:bob@127.0.0.1:$U', '$SOCK', '$SOCK', 4,
		$((NOW - 30)), $((NOW + 600)), 0, 0, NULL, 'sip:bob@127.0.0.1:$P', '$6')"
}
kam_row "$CID1" $HE1 $HID1 kf1 kt1 \
	'{"profiles":[{"name":"caller","value":"alice","puid":"dlgp-6565d9a1-1f2c-1"},{"name":"inbound","puid":"dlgp-6565d9a1-1f2c-2"}]}' &&
kam_row "$CID2" $HE2 $HID2 kf2 kt2 \
	'{"profiles":[{"name":"inbound","puid":"dlgp-6565d9a1-1f2d-1"}]}' &&
mariadb_sql "INSERT INTO dialog_vars (hash_entry, hash_id, dialog_key, dialog_value)
	VALUES ($HE1, $HID1, 'k', UNHEX('$VAL_HEX'))"
check_eq "two Kamailio rows and a variable inserted" "2 1" \
	"$(mariadb_sql "SELECT COUNT(*) FROM dialog") $(mariadb_sql "SELECT COUNT(*) FROM dialog_vars")"

PROXY_LOG="$E2E_TMP/proxy.log"
if ! start_daemon proxy "$CFG" || ! wait_for 10 port_bound udp "$P"; then
	not_ok "sipdlgd starts on Kamailio's rows" "$(proxy_diag)"
	e2e_finish
fi
ok "sipdlgd starts on Kamailio's rows"
check_contains "it restored both" "restored 2 dialogs" "$(cat "$PROXY_LOG")"
# db_fetch_rows 1: a read per row, and an empty one that ends the restore.
check_contains "db_fetch_rows: 1 reads the rows one SELECT at a time" \
	"(2 rows in 3 reads of at most 1," "$(cat "$PROXY_LOG")"
d1=$(dlg_by_callid "$CID1")
check_eq "the first is listed with Kamailio's ids, tags and state 4" "$HE1 $HID1 kf1 kt1 4" \
	"$(printf '%s' "$d1" | jq -r '"\(.h_entry) \(.h_id) \(.caller.tag) \(.callee.tag) \(.state)"')"
check_eq "with the row's start_time and absolute timeout" "$((NOW - 30)) $((NOW + 600))" \
	"$(printf '%s' "$d1" | jq -r '"\(.start_ts) \(.timeout)"')"
check_eq "with the profiles of xdata" '[{"caller":"alice"},"inbound"]' \
	"$(printf '%s' "$d1" | jq -c '.profiles | sort_by(type)')"
check_eq "and its variable" "$VAL" "$(printf '%s' "$d1" | jq -r '[.variables[] | .k // empty][0] // empty')"
check_eq "the second too" "$HE2 $HID2 4" \
	"$(dlg_by_callid "$CID2" | jq -r '"\(.h_entry) \(.h_id) \(.state)"')"
check_eq "profile-size caller alice = 1" 1 "$(dlg_profile_size caller alice)"
check_eq "profile-size inbound = 2" 2 "$(dlg_profile_size inbound)"
check_eq "dialog.active_dialogs = 2" 2 "$(dlg_stat active_dialogs)"

# The caller's BYE, as its UA would send it after Kamailio's 200 OK.
ROUTE="<sip:127.0.0.1:$P;lr;ftag=kf1;did=$(rev_hex $HE1).$(rev_hex $HID1)>"
SIPP_TIMEOUT=15 sipp_start uas db_uas_bye.xml -i 127.0.0.1 -t u1 -p "$U" -m 1
UAS_PID=$SIPP_PID
wait_for 5 port_bound udp "$U"
SIPP_TIMEOUT=15 sipp_start uac db_uac_bye.xml "127.0.0.1:$P" -i 127.0.0.1 -t u1 -p "$C" -m 1 \
	-key ruri "sip:bob@127.0.0.1:$U" -key route "$ROUTE" \
	-key from_uri sip:alice@127.0.0.1 -key ftag kf1 \
	-key to_uri sip:bob@127.0.0.1 -key ttag kt1 -cid_str "$CID1" -key bye_cseq 11
UAC_PID=$SIPP_PID
sipp_wait "$UAC_PID" 15; uac_rc=$?
sipp_wait "$UAS_PID" 5; uas_rc=$?
sipp_call_check "the BYE with Route $ROUTE reaches the callee and gets its 200 OK" \
	uac "$uac_rc" uas "$uas_rc" 1
check_contains "the callee got the stored tags" "tag=kt1" "$(sipp_received_hdr uas BYE To)"
if wait_for 5 dlg_ended "$CID1"; then ok "the restored dialog is ended"
else not_ok "the restored dialog is ended" "$(dlg_diag)"; fi
row1() { mariadb_sql "SELECT state FROM dialog WHERE callid='$CID1'"; }
row_gone_or_5() { local s; s=$(row1); [ -z "$s" ] || [ "$s" = 5 ]; }
if wait_for 5 row_gone_or_5; then ok "its row is deleted (or in state 5)"
else not_ok "its row is deleted (or in state 5)" "state: $(row1)"; fi
check_eq "and its dialog_vars row is deleted" 0 \
	"$(mariadb_sql "SELECT COUNT(*) FROM dialog_vars WHERE hash_entry=$HE1 AND hash_id=$HID1")"
check_eq "profile-size caller alice = 0, inbound = 1" "0 1" \
	"$(dlg_profile_size caller alice) $(dlg_profile_size inbound)"
if stop_daemon "$DAEMON_PID"; then ok "a clean stop"; else not_ok "a clean stop" "exit status not 0"; fi
check_eq "the other Kamailio row is left as it was" "4 $((NOW + 600))" \
	"$(mariadb_sql "SELECT state, timeout FROM dialog WHERE callid='$CID2'" | tr '\t' ' ')"

# A row whose hash_entry is not its Call-ID's (3003 for this one).
kam_row 1-6750@127.0.0.1 3004 9 kf3 kt3 '{"profiles":[{"name":"inbound","puid":"dlgp-1-2-3"}]}'
BAD_ID=$(mariadb_sql "SELECT id FROM dialog WHERE callid='1-6750@127.0.0.1'")
out=$(timeout 20 "$SIPDLGD" -c "$CFG" 2>&1); rc=$?
check_eq "a row with a hash_entry of another hash_size stops the start" 1 "$rc"
check_contains "the message names the row" "row id $BAD_ID" "$out"
check_contains "and its Call-ID" "1-6750@127.0.0.1" "$out"
check_contains "and the hash the Call-ID has" "hashes to 3003" "$out"
check_eq "no row was changed" 2 "$(mariadb_sql "SELECT COUNT(*) FROM dialog")"
e2e_finish
