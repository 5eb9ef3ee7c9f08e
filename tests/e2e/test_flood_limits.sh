#!/bin/bash
# limits: under an INVITE flood (issue 16): sipp floods the proxy with
# FLOOD_N initial INVITEs, each with a Call-ID of its own, that the callee
# answers with 180 only, so each would stay an early dialog until
# early_timeout.  With max_early_dialogs FLOOD_MAX:
#   - the early dialogs never pass FLOOD_MAX (sampled during the flood),
#     the INVITEs beyond it get 503 with Retry-After (counted in
#     sip.rejected_503_early_dialogs, the warning is logged);
#   - a call set up before the flood keeps working during it: an INFO and
#     the BYE pass;
#   - once the flood's dialogs time out, a new call completes.
# Then each other limit on a daemon of its own (max_dialogs 1,
# max_transactions 1, max_memory_mb 1): of two INVITEs answered 180 only,
# the second gets 503 and counts in its sip.rejected_503_* statistic.
# No XDP, loopback only.
. "$(dirname "$0")/lib.sh"
e2e_init
need_sipp
command -v jq >/dev/null 2>&1 || { skip "flood limits" "jq is not installed"; exit 0; }
SIPP_TIMEOUT=60
FLOOD_N=${FLOOD_N:-5000}
FLOOD_MAX=${FLOOD_MAX:-2000}
FLOOD_RATE=${FLOOD_RATE:-500}

if ! e2e_port_block BASE 10000 500 20; then
	not_ok "a free block of 20 ports" "no free block found between 10000 and 20000"
	e2e_finish
fi
P=$BASE                 # the proxy
F=$((BASE + 1))         # the flood's callee (180 only)
U=$((BASE + 2))         # the held call's callee
R=$((BASE + 3))         # the callee of the call after the flood
C=$((BASE + 4))         # callers use C .. C+7

DLG_SOCK="$E2E_TMP/dlg-ctl.sock"
CFG="$E2E_TMP/flood.yaml"
cat >"$CFG" <<EOF
listen: ["udp:127.0.0.1:$P"]
xdp: {enabled: false}
dialog:
  early_timeout: 15
limits:
  max_early_dialogs: $FLOOD_MAX
  max_dialogs: $((FLOOD_MAX * 2))
  retry_after: 7
control:
  socket: $DLG_SOCK
log: {level: info}
routes:
  - name: "the flood"
    match: { method: INVITE, in_dialog: false, ruri_user: flood }
    actions: [ dlg_manage, { forward: "udp:127.0.0.1:$F" } ]
  - name: "held call"
    match: { method: INVITE, in_dialog: false, ruri_user: held }
    actions: [ dlg_manage, { forward: "udp:127.0.0.1:$U" } ]
  - name: "other calls"
    match: { method: INVITE, in_dialog: false }
    actions: [ dlg_manage, { forward: "udp:127.0.0.1:$R" } ]
EOF
check "the flood test config passes sipdlgd --check" "$SIPDLGD" -c "$CFG" --check

PROXY_LOG="$E2E_TMP/proxy.log"
if ! start_daemon proxy "$CFG" || ! wait_for 10 port_bound udp "$P"; then
	not_ok "sipdlgd starts with limits: and listens on UDP $P" "$(proxy_diag)"
	e2e_finish
fi
PROXY_PID=$DAEMON_PID
ok "sipdlgd starts with limits: and listens on UDP $P"

UAC=("127.0.0.1:$P" -i 127.0.0.1 -t u1 -recv_timeout 8000)

# sip_stat NAME : the statistic sip.NAME; empty if the daemon does not answer.
sip_stat() {
	dlg_ctl stats sip 2>/dev/null | jq -r --arg k "sip.$1" '.[$k] // empty' 2>/dev/null
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$PROXY_PID/status" 2>/dev/null; }
rss0=$(rss_kb)

# --- a call set up before the flood ------------------------------------------
sipp_start held-uas flood_uas_held.xml -i 127.0.0.1 -t u1 -p "$U" -m 1
held_uas=$SIPP_PID
wait_for 5 port_bound udp "$U"
sipp_start held-uac flood_uac_held.xml "${UAC[@]}" -p "$C" -m 1 -s held -d 4000
held_uac=$SIPP_PID
if wait_for 5 dlg_active_is ongoing 1; then
	ok "a call is set up before the flood (1 ongoing)"
else
	not_ok "a call is set up before the flood (1 ongoing)" "$(dlg_diag)" "$(sipp_diag held-uac held-uas)"
fi

# --- the flood ---------------------------------------------------------------
sipp_start flood-uas flood_uas_ring.xml -i 127.0.0.1 -t u1 -p "$F" -m "$FLOOD_N" -nr
flood_uas=$SIPP_PID
wait_for 5 port_bound udp "$F"
t0=$(date +%s)
sipp_start flood-uac flood_uac_invite.xml "${UAC[@]}" -p $((C + 1)) -m "$FLOOD_N" \
	-r "$FLOOD_RATE" -l "$FLOOD_N" -s flood -nr -cid_str "flood-%u-%p@%s"
flood_uac=$SIPP_PID
max_early=0
probe_done=0
while kill -0 "$flood_uac" 2>/dev/null && [ $(( $(date +%s) - t0 )) -lt 50 ]; do
	e=$(dlg_stat early_dialogs)
	[ -n "$e" ] && [ "$e" -gt "$max_early" ] && max_early=$e
	# once the ceiling is reached, one INVITE of our own to read its 503
	if [ "$probe_done" = 0 ] && [ "${e:-0}" -ge "$FLOOD_MAX" ]; then
		sipp_start probe-uac flood_uac_invite.xml "${UAC[@]}" -p $((C + 2)) -m 1 \
			-s probe -cid_str "probe-%u-%p@%s"
		sipp_wait "$SIPP_PID" 10
		probe_done=1
	fi
	sleep 0.2
done
sipp_wait "$flood_uac" 60; flood_rc=$?
sipp_wait "$flood_uas" 10
rss1=$(rss_kb)
rej=$(sip_stat rejected_503_early_dialogs)
e=$(dlg_stat early_dialogs)
[ -n "$e" ] && [ "$e" -gt "$max_early" ] && max_early=$e

if [ "$max_early" -le "$FLOOD_MAX" ] && [ "$max_early" -ge $((FLOOD_MAX * 9 / 10)) ]; then
	ok "the flood's early dialogs stay at the ceiling: at most $max_early (max_early_dialogs $FLOOD_MAX)"
else
	not_ok "the flood's early dialogs stay at the ceiling: at most $max_early (max_early_dialogs $FLOOD_MAX)" \
		"flood sipp exit status $flood_rc" "$(sipp_diag flood-uac)" "$(proxy_diag)"
fi
want=$((FLOOD_N - FLOOD_MAX - FLOOD_N / 20))
if [ -n "$rej" ] && [ "$rej" -ge "$want" ]; then
	ok "INVITEs beyond it got 503: sip.rejected_503_early_dialogs = $rej of $FLOOD_N (>= $want)"
else
	not_ok "INVITEs beyond it got 503: sip.rejected_503_early_dialogs = ${rej:-none} of $FLOOD_N (>= $want)" \
		"$(sipp_diag flood-uac)" "$(proxy_diag)"
fi
r503=$(tr -d '\r' <"$E2E_TMP/probe-uac.msg" 2>/dev/null | grep -A12 '^SIP/2.0 503' | grep -i -m1 '^Retry-After:')
check_eq "the 503 carries Retry-After: 7 (limits.retry_after)" "Retry-After: 7" "$r503"
check_contains "the limit is logged once, named" "limits: max_early_dialogs $FLOOD_MAX reached" \
	"$(grep -m1 'limits:' "$PROXY_LOG")"
ok "RSS during the flood: ${rss0:-?} kB before, ${rss1:-?} kB after $FLOOD_N INVITEs"

# --- the held call kept working during the flood -------------------------------
sipp_wait "$held_uac" 30; uac_rc=$?
sipp_wait "$held_uas" 5; uas_rc=$?
sipp_call_check "the call set up before the flood: its INFO and BYE pass during it" \
	held-uac "$uac_rc" held-uas "$uas_rc" 1

# --- after the flood's dialogs time out, a new call completes -------------------
if wait_for 40 dlg_stat_is early_dialogs 0; then
	ok "the flood's dialogs time out (early_timeout): early_dialogs 0"
else
	not_ok "the flood's dialogs time out (early_timeout): early_dialogs 0" "$(dlg_diag)"
fi
sipp_start after-uas uas_call.xml -i 127.0.0.1 -t u1 -p "$R" -m 1
after_uas=$SIPP_PID
wait_for 5 port_bound udp "$R"
sipp_start after-uac dlg_uac_call.xml "${UAC[@]}" -p $((C + 3)) -m 1 -s after \
	-key from_user alice -d 200
sipp_wait "$SIPP_PID" 20; uac_rc=$?
sipp_wait "$after_uas" 5; uas_rc=$?
sipp_call_check "a call after the flood completes" after-uac "$uac_rc" after-uas "$uas_rc" 1

if kill -0 "$PROXY_PID" 2>/dev/null; then
	ok "sipdlgd is still running after the flood"
else
	not_ok "sipdlgd is still running after the flood" "$(proxy_diag)"
fi
if stop_daemon "$PROXY_PID"; then
	ok "sipdlgd stops cleanly on SIGTERM"
else
	not_ok "sipdlgd stops cleanly on SIGTERM" "$(proxy_diag)"
fi
forget_pid "$PROXY_PID"

# --- every other limit has its effect -------------------------------------------
# one_limit KEY STAT : a daemon with limits: { KEY: 1 } gets two INVITEs
# (the callee answers 180 only): the first is let in, unless the limit
# is memory (any RSS is above 1 MB), the second gets 503, counted in STAT.
one_limit() {
	local key=$1 stat=$2 want=$3 cfg="$E2E_TMP/one-$1.yaml" got rc
	sed -e '/^limits:/,/^  retry_after:/d' "$CFG" >"$cfg"
	printf 'limits: { %s: 1 }\n' "$key" >>"$cfg"
	PROXY_LOG="$E2E_TMP/proxy-$key.log"
	if ! start_daemon "proxy-$key" "$cfg" || ! wait_for 10 port_bound udp "$P"; then
		not_ok "limits.$key 1: sipdlgd starts" "$(proxy_diag)"
		return
	fi
	PROXY_PID=$DAEMON_PID
	sipp_start one-uas flood_uas_ring.xml -i 127.0.0.1 -t u1 -p "$F" -m 2 -nr
	local uas=$SIPP_PID
	wait_for 5 port_bound udp "$F"
	sipp_start one-uac flood_uac_invite.xml "${UAC[@]}" -p $((C + 4)) -m 2 -r 2 \
		-s flood -nr -cid_str "one-$key-%u-%p@%s"
	sipp_wait "$SIPP_PID" 15; rc=$?
	sipp_wait "$uas" 2
	got=$(sip_stat "$stat")
	if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then
		ok "limits.$key 1: sip.$stat = $want of 2 INVITEs"
	else
		not_ok "limits.$key 1: sip.$stat = $want of 2 INVITEs" "got '${got:-none}', sipp exit status $rc" \
			"$(sipp_diag one-uac)" "$(proxy_diag)"
	fi
	stop_daemon "$PROXY_PID" >/dev/null
	forget_pid "$PROXY_PID"
}
one_limit max_dialogs rejected_503_dialogs 1
one_limit max_transactions rejected_503_transactions 1
one_limit max_memory_mb rejected_503_memory 2

e2e_finish
