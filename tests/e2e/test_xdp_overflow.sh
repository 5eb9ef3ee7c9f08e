#!/bin/bash
# A full kernel "dialogs" map under xdp.unknown_dialog: drop (issue 13).
# sipdlgd in one network namespace with XDP on its end of a veth pair and
# xdp.max_dialogs: 64; sipp caller and callee in the other.
#   1. 100 calls up at once (dlg_match_mode 0): 64 fit into the map, 36 do
#      not and are listed in the "overflow" map, so the kernel passes
#      their ACK and BYE (dlg_not_in_kernel) instead of dropping them:
#      all 100 calls complete, nothing is dropped as an unknown dialog,
#      no dialog expires; sipdlgctl xdp shows the fill and the dialogs
#      outside the kernel; afterwards the overflow map is empty again.
#   2. kill -9 with 80 calls up (dlg_match_mode 1, so "callids" is used),
#      restart without a database: the pinned dialogs, callids and
#      overflow maps hold no stale entry and fpstate is clean.
. "$(dirname "$0")/lib.sh"
e2e_init
need_sipp
command -v jq >/dev/null 2>&1 || { skip "xdp overflow" "jq is not installed"; exit 0; }
command -v bpftool >/dev/null 2>&1 || { skip "xdp overflow" "bpftool is not installed"; exit 0; }
SIPP_TIMEOUT=40

NSA="${E2E_ID}oa" NSB="${E2E_ID}ob"
VA="${E2E_ID}ova" VB="${E2E_ID}ovb"
# Addresses exist only inside the two namespaces this test creates.
NET=10.235.$(( $$ % 200 ))
A=$NET.1 B=$NET.2
P=5060 U=5080 C=5070
N=100 MAXD=64

netns_pair "$NSA" "$NSB" "$VA" "$VB" "$A/24" "$B/24" ||
	{ not_ok "create namespaces" "$(cat "$E2E_TMP/netns_pair.log")"; e2e_finish; }

DLG_SOCK="$E2E_TMP/ctl.sock"
new_pin_path PIN xovf
# write_cfg FILE MATCH_MODE
write_cfg() {
	cat >"$1" <<EOF
listen: ["udp:$A:$P"]
dialog:
  dlg_match_mode: $2
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
}
CFG="$E2E_TMP/ovf.yaml"
write_cfg "$CFG" 0
PROXY_LOG="$E2E_TMP/proxy.log"

ctl() { "$SIPDLGCTL" --socket "$DLG_SOCK" --json "$@" 2>/dev/null; }
reason() { json_get "$(ctl xdp)" ".counters.$1.packets // 0"; }
maps() { json_get "$(ctl xdp)" ".maps.$1"; }
maps_is() { [ "$(maps "$1")" = "$2" ]; }
xstat() { json_get "$(ctl stats xdp)" ".[\"xdp.$1\"] // 0"; }
dstat() { json_get "$(ctl stats dialog)" ".[\"dialog.$1\"] // 0"; }
# pinned NAME : entries in the pinned map NAME (bpftool).
pinned() { bpftool -j map dump pinned "$PIN/$1" 2>/dev/null | jq 'length' 2>/dev/null; }
pinned_is() { [ "$(pinned "$1")" = "$2" ]; }
ongoing_is() { [ "$(json_get "$(ctl rpc dlg.stats_active)" '.ongoing // 0')" = "$1" ]; }

# sipp_ns NAME SCENARIO ARGS... : sipp in namespace B, files as sipp_start.
sipp_ns() {
	local name=$1 sf=$2
	shift 2
	rm -f "$E2E_TMP/$name".*
	( cd "$E2E_TMP" && exec nsenter --net="/run/netns/$NSB" sipp \
		-sf "$SIPP_SCENARIOS/$sf" -nostdin -trace_err \
		-error_file "$E2E_TMP/$name.err" \
		-trace_stat -stf "$E2E_TMP/$name.csv" \
		-timeout "${SIPP_TIMEOUT}s" -timeout_error "$@" ) \
		>"$E2E_TMP/$name.out" 2>&1 </dev/null &
	SIPP_PID=$!
	E2E_PIDS+=("$SIPP_PID")
}

if ! start_daemon proxy "$CFG" "$NSA"; then
	not_ok "sipdlgd starts with XDP on $VA, max_dialogs $MAXD, drop policy"
	e2e_finish
fi
PROXY_PID=$DAEMON_PID
ok "sipdlgd starts with XDP on $VA, max_dialogs $MAXD, drop policy"
check_eq "xdp.status: the dialogs map holds $MAXD" "$MAXD" "$(maps capacity)"

# =============================================================================
# 1. 100 calls up at once with room for 64
# =============================================================================
unk0=$(reason dlg_unknown_dropped)
exp0=$(dstat expired_dialogs)
sipp_ns uas uas_call.xml -i "$B" -t u1 -p "$U" -m "$N"
UAS_PID=$SIPP_PID
wait_for 5 in_ns "$NSB" ss -Hlnu "sport = :$U"
# Each call is held 6 s after its ACK, so all 100 are up together.
sipp_ns uac dlg_uac_call.xml "$A:$P" -i "$B" -t u1 -p "$C" -m "$N" -l "$N" \
	-r 100 -d 6000 -s ovf -key from_user ovf -recv_timeout 15000 \
	-cid_str "xdpovf-%u-%p@%s"
UAC_PID=$SIPP_PID

if wait_for 12 ongoing_is "$N"; then
	ok "$N calls up at once through the proxy"
else
	not_ok "$N calls up at once through the proxy" \
		"ongoing: $(json_get "$(ctl rpc dlg.stats_active)" .ongoing)" \
		"$(tail -n 20 "$PROXY_LOG")"
fi
check_eq "xdp.status: $MAXD dialogs in the kernel map" "$MAXD" "$(maps dialogs)"
check_eq "xdp.status: $((N - MAXD)) not in the kernel, all listed in overflow, not degraded" \
	"$((N - MAXD)) $((N - MAXD)) 0 false" \
	"$(maps not_in_kernel) $(maps in_overflow) $(maps unlisted) $(maps degraded)"
check_eq "bpftool: the overflow map holds $((N - MAXD)) keys" "$((N - MAXD))" "$(pinned overflow)"
check_eq "xdp.status lists 16 of them as h_entry:h_id" 16 \
	"$(json_get "$(ctl xdp)" '[.maps.not_in_kernel_ids[] | select(test("^[0-9]+:[0-9]+$"))] | length')"
check "xdp.dialogs_insert_failed counts the failed inserts (>= $((N - MAXD)))" \
	test "$(xstat dialogs_insert_failed)" -ge $((N - MAXD))
human=$("$SIPDLGCTL" --socket "$DLG_SOCK" xdp 2>&1)
check_contains "sipdlgctl xdp shows the fill" "$MAXD of $MAXD" "$human"
check_contains "sipdlgctl xdp shows the dialogs outside the kernel" \
	"$((N - MAXD)) (in overflow $((N - MAXD))" "$human"

sipp_wait "$UAC_PID" 40; uac_rc=$?
sipp_wait "$UAS_PID" 10; uas_rc=$?
succ=$(sipp_stat uac 'SuccessfulCall(C)') fail=$(sipp_stat uac 'FailedCall(C)')
if [ "$uac_rc" -eq 0 ] && [ "$uas_rc" -eq 0 ] && [ "$succ" = "$N" ]; then
	ok "all $N calls complete (ACK and BYE reached the callee)"
else
	not_ok "all $N calls complete (ACK and BYE reached the callee)" \
		"caller rc $uac_rc, callee rc $uas_rc, successful ${succ:-?}, failed ${fail:-?}" \
		"$(sipp_diag uac uas)" "$(tail -n 20 "$PROXY_LOG")"
fi
nik=$(reason dlg_not_in_kernel)
echo "# dlg_not_in_kernel $nik, dlg_match $(reason dlg_match)," \
	"dlg_unknown_dropped $(( $(reason dlg_unknown_dropped) - unk0 ))," \
	"dialogs_insert_failed $(xstat dialogs_insert_failed)," \
	"dialogs_moved_in $(xstat dialogs_moved_in)"
check_eq "no request was dropped as an unknown dialog" "$unk0" "$(reason dlg_unknown_dropped)"
check "requests of dialogs outside the kernel passed as dlg_not_in_kernel (>= $((N - MAXD)) ACKs)" \
	test "$nik" -ge $((N - MAXD))
check_eq "no dialog expired (none lost its ACK)" "$exp0" "$(dstat expired_dialogs)"
if wait_for 15 maps_is not_in_kernel 0 && wait_for 2 pinned_is overflow 0; then
	ok "after the calls: no dialog outside the kernel, the overflow map is empty"
else
	not_ok "after the calls: no dialog outside the kernel, the overflow map is empty" \
		"not_in_kernel $(maps not_in_kernel), overflow entries $(pinned overflow)"
fi

# =============================================================================
# 1b. room appears: the waiting dialogs move into the kernel map
# =============================================================================
# 64 short calls fill the map, 36 long ones wait in the overflow; when the
# short ones end, the long ones move in and their BYEs are matched in the
# kernel.
NA=$MAXD NB=$((N - MAXD))
nik0=$(reason dlg_not_in_kernel) mov0=$(xstat dialogs_moved_in)
sipp_ns uas1b uas_call.xml -i "$B" -t u1 -p "$U" -m "$N"
UAS_PID=$SIPP_PID
wait_for 5 in_ns "$NSB" ss -Hlnu "sport = :$U"
sipp_ns uacA dlg_uac_call.xml "$A:$P" -i "$B" -t u1 -p "$C" -m "$NA" -l "$NA" \
	-r 100 -d 3000 -s ovf -key from_user ovfa -cid_str "xdpovfa-%u-%p@%s"
UACA_PID=$SIPP_PID
wait_for 10 ongoing_is "$NA"
sipp_ns uacB dlg_uac_call.xml "$A:$P" -i "$B" -t u1 -p $((C + 1)) -m "$NB" -l "$NB" \
	-r 100 -d 9000 -s ovf -key from_user ovfb -cid_str "xdpovfb-%u-%p@%s"
UACB_PID=$SIPP_PID
if wait_for 10 ongoing_is "$N" && [ "$(maps in_overflow)" = "$NB" ]; then
	ok "$NA short calls in the kernel map, $NB long ones in the overflow"
else
	not_ok "$NA short calls in the kernel map, $NB long ones in the overflow" \
		"ongoing $(json_get "$(ctl rpc dlg.stats_active)" .ongoing), in_overflow $(maps in_overflow)"
fi
if wait_for 15 maps_is not_in_kernel 0; then
	ok "when the short calls end, the $NB waiting dialogs move into the kernel map"
else
	not_ok "when the short calls end, the $NB waiting dialogs move into the kernel map" \
		"not_in_kernel $(maps not_in_kernel), dialogs $(maps dialogs)"
fi
check_eq "xdp.dialogs_moved_in +$NB" "$NB" $(( $(xstat dialogs_moved_in) - mov0 ))
sipp_wait "$UACA_PID" 30; a_rc=$?
sipp_wait "$UACB_PID" 30; b_rc=$?
sipp_wait "$UAS_PID" 10; s_rc=$?
check_eq "all $N calls of both batches complete" "0 0 0 $NA $NB" \
	"$a_rc $b_rc $s_rc $(sipp_stat uacA 'SuccessfulCall(C)') $(sipp_stat uacB 'SuccessfulCall(C)')"
# Only the ACKs of the long calls passed outside the kernel; their BYEs
# came after the move and were matched.
check_eq "dlg_not_in_kernel +$NB (the long calls' ACKs only)" "$NB" \
	$(( $(reason dlg_not_in_kernel) - nik0 ))
check_eq "still no request dropped as an unknown dialog" "$unk0" "$(reason dlg_unknown_dropped)"
echo "# 1b: dialogs_moved_in $(xstat dialogs_moved_in), dlg_not_in_kernel $(reason dlg_not_in_kernel)"

# =============================================================================
# 2. kill -9 with calls up; the restart leaves no stale entry
# =============================================================================
stop_daemon "$PROXY_PID"
forget_pid "$PROXY_PID"
write_cfg "$CFG" 1
if ! start_daemon proxy2 "$CFG" "$NSA"; then
	not_ok "sipdlgd restarts with dlg_match_mode 1"
	e2e_finish
fi
PROXY_PID=$DAEMON_PID PROXY_LOG="$E2E_TMP/proxy2.log"
M=80
sipp_ns uas2 uas_call.xml -i "$B" -t u1 -p "$U" -m "$M"
UAS_PID=$SIPP_PID
wait_for 5 in_ns "$NSB" ss -Hlnu "sport = :$U"
sipp_ns uac2 dlg_uac_call.xml "$A:$P" -i "$B" -t u1 -p "$C" -m "$M" -l "$M" \
	-r 100 -d 30000 -s ovf -key from_user ovf2 -cid_str "xdpovf2-%u-%p@%s"
UAC_PID=$SIPP_PID
if wait_for 12 ongoing_is "$M"; then
	ok "$M calls up (dlg_match_mode 1)"
else
	not_ok "$M calls up (dlg_match_mode 1)" "$(tail -n 20 "$PROXY_LOG")"
fi
check_eq "before the kill: dialogs $MAXD, callids $MAXD, overflow $((M - MAXD)) (bpftool)" \
	"$MAXD $MAXD $((M - MAXD))" "$(pinned dialogs) $(pinned callids) $(pinned overflow)"
kill -KILL "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null
forget_pid "$PROXY_PID"
for pid in "$UAC_PID" "$UAS_PID"; do
	kill -TERM "$pid" 2>/dev/null
	sipp_wait "$pid" 5 >/dev/null
done
check_eq "after kill -9 the pinned maps still hold the old entries" \
	"$MAXD $MAXD $((M - MAXD))" "$(pinned dialogs) $(pinned callids) $(pinned overflow)"

if ! start_daemon proxy3 "$CFG" "$NSA"; then
	not_ok "sipdlgd restarts after kill -9"
	e2e_finish
fi
PROXY_PID=$DAEMON_PID PROXY_LOG="$E2E_TMP/proxy3.log"
ok "sipdlgd restarts after kill -9 (no database: no dialog restored)"
check_eq "after the restart: dialogs, callids and overflow hold no stale entry" \
	"0 0 0" "$(pinned dialogs) $(pinned callids) $(pinned overflow)"
check_eq "after the restart: fpstate is clean (degraded 0, overflow_n 0)" "0 0" \
	"$(bpftool -j map dump pinned "$PIN/fpstate" | jq -r '.[0].formatted.value | "\(.degraded) \(.overflow_n)"')"
check_eq "xdp.status agrees: 0 in the kernel, 0 outside, not degraded" "0 0 false" \
	"$(maps dialogs) $(maps not_in_kernel) $(maps degraded)"
check_contains "the restart logged the reconcile" "stale" "$(cat "$PROXY_LOG")"
if stop_daemon "$PROXY_PID"; then
	ok "sipdlgd stops cleanly"
else
	not_ok "sipdlgd stops cleanly" "$(tail -n 20 "$PROXY_LOG")"
fi
forget_pid "$PROXY_PID"
e2e_finish
