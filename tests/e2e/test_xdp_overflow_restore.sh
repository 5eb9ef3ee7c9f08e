#!/bin/bash
# kill -9 with more calls up than the kernel's dialogs map holds, then a
# restart that restores them from MariaDB (db_mode 1, dlg_match_mode 1):
# the pinned maps are reconciled with the restored table.  sipdlgd in one
# network namespace with XDP on a veth (xdp.max_dialogs: 64,
# unknown_dialog: drop), sipp in the other.  Checks that after the
# restart
#   - the 80 restored dialogs are all known to the kernel: 64 in
#     "dialogs" (with their "callids" entries), 16 in "overflow";
#   - stale entries planted in "callids" and "overflow" while the daemon
#     was down are gone, a "callids" entry removed meanwhile is back, and
#     "fpstate" says 16 in overflow, not degraded;
#   - every key in the pinned maps is a dialog the controller lists.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
e2e_init
e2e_db_begin "xdp overflow restore"
command -v bpftool >/dev/null 2>&1 || { skip "xdp overflow restore" "bpftool is not installed"; e2e_finish; }
SIPP_TIMEOUT=60

NSA="${E2E_ID}ra" NSB="${E2E_ID}rb"
VA="${E2E_ID}rva" VB="${E2E_ID}rvb"
NET=10.236.$(( $$ % 200 ))
A=$NET.1 B=$NET.2
P=5060 U=5080 C=5070
M=80 MAXD=64

netns_pair "$NSA" "$NSB" "$VA" "$VB" "$A/24" "$B/24" ||
	{ not_ok "create namespaces" "$(cat "$E2E_TMP/netns_pair.log")"; e2e_finish; }

DLG_SOCK="$E2E_TMP/ctl.sock"
new_pin_path PIN xrst
CFG="$E2E_TMP/rst.yaml"
cat >"$CFG" <<EOF
listen: ["udp:$A:$P"]
dialog:
  dlg_match_mode: 1
  db_mode: 1
  db_url: "$MARIADB_URL"
  default_timeout: 600
database:
  required: true
xdp:
  interfaces: [$VA]
  pin_path: $PIN
  unknown_dialog: drop
  max_dialogs: $MAXD
control:
  socket: $DLG_SOCK
log:
  level: info
routes:
  - match: { method: INVITE, in_dialog: false }
    actions: [ dlg_manage, { forward: "udp:$B:$U" } ]
EOF

ctl() { "$SIPDLGCTL" --socket "$DLG_SOCK" --json "$@" 2>/dev/null; }
maps() { json_get "$(ctl xdp)" ".maps.$1"; }
pinned() { bpftool -j map dump pinned "$PIN/$1" 2>/dev/null | jq 'length' 2>/dev/null; }
ongoing_is() { [ "$(json_get "$(ctl rpc dlg.stats_active)" '.ongoing // 0')" = "$1" ]; }
rows_are() { [ "$(mariadb_sql "SELECT COUNT(*) FROM dialog WHERE state = 4")" = "$1" ]; }
# keys NAME : the h_entry:h_id of every key (dialogs, overflow) or value
# (callids) of a pinned map, sorted.
keys() {
	local sel='.key'
	[ "$1" = callids ] && sel='.value'
	bpftool -j map dump pinned "$PIN/$1" 2>/dev/null |
		jq -r ".[].formatted | $sel | \"\(.h_entry):\(.h_id)\"" | sort
}

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

if ! start_daemon proxy "$CFG" "$NSA"; then
	not_ok "sipdlgd starts (db_mode 1, XDP, max_dialogs $MAXD)"
	e2e_finish
fi
PROXY_PID=$DAEMON_PID
ok "sipdlgd starts (db_mode 1, XDP, max_dialogs $MAXD)"

sipp_ns uas uas_call.xml -i "$B" -t u1 -p "$U" -m "$M"
UAS_PID=$SIPP_PID
wait_for 5 in_ns "$NSB" ss -Hlnu "sport = :$U"
sipp_ns uac dlg_uac_call.xml "$A:$P" -i "$B" -t u1 -p "$C" -m "$M" -l "$M" \
	-r 100 -d 50000 -s rst -key from_user rst -cid_str "xdprst-%u-%p@%s"
UAC_PID=$SIPP_PID
if wait_for 12 ongoing_is "$M" && wait_for 10 rows_are "$M"; then
	ok "$M calls up, $M rows in the database"
else
	not_ok "$M calls up, $M rows in the database" \
		"ongoing $(json_get "$(ctl rpc dlg.stats_active)" .ongoing), rows $(mariadb_sql 'SELECT COUNT(*) FROM dialog')"
fi
before=$(keys dialogs; keys overflow)
kill -KILL "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null
forget_pid "$PROXY_PID"
for pid in "$UAC_PID" "$UAS_PID"; do
	kill -TERM "$pid" 2>/dev/null
	sipp_wait "$pid" 5 >/dev/null
done

# Stale entries, as a crash between a dialog's end and its map cleanup
# would leave them: a Call-ID hash and an overflow key of no dialog; and
# one real dialog's callids entry missing (callids is full: it makes room).
gone=$(bpftool -j map dump pinned "$PIN/callids" | jq -r '.[0].key | map(ltrimstr("0x")) | join(" ")')
# shellcheck disable=SC2086 # the key's bytes, one word each
bpftool map delete pinned "$PIN/callids" key hex $gone
bpftool map update pinned "$PIN/callids" key hex ef be ad de 00 00 00 01 \
	value hex ad de 00 00 ef be 00 00
bpftool map update pinned "$PIN/overflow" key hex ad de 00 00 ef be 00 00 \
	value hex 01
check_eq "while down: dialogs $MAXD, callids $MAXD (one stale, one missing), overflow $((M - MAXD + 1))" \
	"$MAXD $MAXD $((M - MAXD + 1))" \
	"$(pinned dialogs) $(pinned callids) $(pinned overflow)"

if ! start_daemon proxy2 "$CFG" "$NSA"; then
	not_ok "sipdlgd restarts and restores from the database"
	e2e_finish
fi
PROXY_PID=$DAEMON_PID PROXY_LOG="$E2E_TMP/proxy2.log"
check_eq "the $M dialogs are restored" "$M" "$(json_get "$(ctl rpc dlg.stats_active)" .ongoing)"
check_eq "after the restart: dialogs $MAXD, callids $MAXD, overflow $((M - MAXD)) (bpftool)" \
	"$MAXD $MAXD $((M - MAXD))" "$(pinned dialogs) $(pinned callids) $(pinned overflow)"
check_eq "fpstate: overflow_n $((M - MAXD)), not degraded" "0 $((M - MAXD))" \
	"$(bpftool -j map dump pinned "$PIN/fpstate" | jq -r '.[0].formatted.value | "\(.degraded) \(.overflow_n)"')"
check_eq "xdp.status: $MAXD in the kernel, $((M - MAXD)) in overflow" "$MAXD $((M - MAXD)) false" \
	"$(maps dialogs) $(maps in_overflow) $(maps degraded)"
listed=$(ctl list | jq -r '.[] | "\(.h_entry):\(.h_id)"' | sort)
inmaps=$( (keys dialogs; keys overflow) | sort)
check_eq "the pinned dialogs and overflow keys are exactly the restored dialogs" \
	"$listed" "$inmaps"
check_eq "... the same split as before the kill" "$(printf '%s\n' "$before" | sort)" "$inmaps"
check_eq "every callids entry names a dialog in the dialogs map" \
	"$(keys dialogs)" "$(keys callids)"
if stop_daemon "$PROXY_PID"; then
	ok "sipdlgd stops cleanly"
else
	not_ok "sipdlgd stops cleanly" "$(tail -n 20 "$PROXY_LOG")"
fi
forget_pid "$PROXY_PID"
e2e_finish
