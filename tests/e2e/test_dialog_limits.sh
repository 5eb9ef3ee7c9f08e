#!/bin/bash
# Dialog profiles as a call limit, and many dialogs at once, with real
# calls: sipp caller -> sipdlgd -> sipp callee.
#   - the rules put every new call in the profiles caller=$fU and inbound
#     and refuse it with 486 when caller=$fU then holds more than 2: two
#     calls from bob are held up, a third from bob gets 486 from the proxy
#     (the callee never sees it), a call from another user still passes,
#     and the sizes go back to 0 when the calls end;
#   - 1,000 calls held up at once (sipp -l 1000) are all listed and counted,
#     and all gone after their BYEs.
# One daemon, one callee port, cases one after the other.  No XDP.
. "$(dirname "$0")/lib.sh"
e2e_init
need_sipp
command -v jq >/dev/null 2>&1 || { skip "dialog limits" "jq is not installed"; exit 0; }
SIPP_TIMEOUT=30

if ! e2e_port_block BASE 10000 500 20; then
	not_ok "a free block of 20 ports" "no free block found between 10000 and 20000"
	e2e_finish
fi
P=$BASE                 # the proxy (UDP and TCP)
U=$((BASE + 1))         # the callee (one at a time)
C=$((BASE + 2))         # callers use C .. C+7

DLG_SOCK="$E2E_TMP/dlg-ctl.sock"
CFG="$E2E_TMP/dlg.yaml"
cat >"$CFG" <<EOF
listen:
  - "udp:127.0.0.1:$P"
  - "tcp:127.0.0.1:$P"
xdp: {enabled: false}
dialog:
  profiles_with_value: [caller]
  profiles_no_value: [inbound]
  default_timeout: 43200
control:
  socket: $DLG_SOCK
log: {level: info}
routes:
  - name: "bulk calls: profiles, no limit"
    match: { method: INVITE, in_dialog: false, ruri_user: bulk }
    actions:
      - dlg_manage
      - set_dlg_profile: [caller, "\$fU"]
      - set_dlg_profile: [inbound]
      - forward: "udp:127.0.0.1:$U"
  - name: "new calls: at most 2 per caller"
    match: { method: INVITE, in_dialog: false }
    actions:
      - dlg_manage
      - set_dlg_profile: [caller, "\$fU"]
      - set_dlg_profile: [inbound]
      - if: { profile_size: [caller, "\$fU"], gt: 2 }
        then: [ { reply: "486 Busy Here" } ]
      - forward: "udp:127.0.0.1:$U"
EOF
check "the dialog test config passes sipdlgd --check" "$SIPDLGD" -c "$CFG" --check

PROXY_LOG="$E2E_TMP/proxy.log"
if ! start_daemon proxy "$CFG" || ! wait_for 10 port_bound udp "$P"; then
	not_ok "sipdlgd starts with the dialog rules and listens on UDP $P" "$(proxy_diag)"
	e2e_finish
fi
PROXY_PID=$DAEMON_PID
ok "sipdlgd starts with the dialog rules and listens on UDP $P"

UAS=(-i 127.0.0.1 -t u1 -p "$U")
UAC=("127.0.0.1:$P" -i 127.0.0.1 -t u1 -recv_timeout 8000)

# start_uas NAME SCENARIO [ARGS...] : the callee on port U, waited for.
start_uas() {
	local name=$1 sf=$2
	shift 2
	sipp_start "$name" "$sf" "${UAS[@]}" "$@"
	UAS_PID=$SIPP_PID
	wait_for 5 port_bound udp "$U" && return 0
	sipp_wait "$UAS_PID" 1
	not_ok "$name: the callee (sipp) binds udp port $U" "$(sipp_diag "$name")"
	return 1
}

# stat_delta NAME BEFORE : dialog.NAME now minus BEFORE.
stat_delta() {
	local now
	now=$(dlg_stat "$1")
	echo $(( ${now:-0} - ${2:-0} ))
}

# n_listed STATE : how many dialogs dlg.list shows in STATE.
n_listed() {
	dlg_ctl list 2>/dev/null | jq --argjson s "$1" '[.[] | select(.state == $s)] | length' 2>/dev/null
}

# n_listed_live : how many dialogs dlg.list shows in a state below 5.
n_listed_live() {
	dlg_ctl list 2>/dev/null | jq '[.[] | select(.state < 5)] | length' 2>/dev/null
}
n_listed_live_is() { [ "$(n_listed_live)" = "$1" ]; }

# ===========================================================================
# 4. the profile limit: 2 calls per caller, the third gets 486 from us
# ===========================================================================
if start_uas limit-uas uas_call.xml -m 3; then
	sipp_start limit-uac dlg_uac_call.xml "${UAC[@]}" -p "$C" -m 2 -l 2 -r 20 \
		-s limit -key from_user bob -cid_str "dlglimit-%u-%p@%s" -d 7000
	held_pid=$SIPP_PID
	if wait_for 6 dlg_profile_size_is 2 caller bob && wait_for 3 dlg_active_is ongoing 2; then
		ok "two calls from bob held up: profile-size caller bob = 2, 2 ongoing"
	else
		not_ok "two calls from bob held up: profile-size caller bob = 2, 2 ongoing" \
			"profile-size caller bob: '$(dlg_profile_size caller bob)'" \
			"$(dlg_diag)" "$(sipp_diag limit-uac limit-uas)"
	fi

	sipp_start limit3-uac dlg_uac_busy.xml "${UAC[@]}" -p $((C + 1)) -m 1 \
		-s limit -key from_user bob -cid_str "dlglimit3-%u-%p@%s"
	third_pid=$SIPP_PID
	sipp_wait "$third_pid" 15; rc=$?
	succ=$(sipp_stat limit3-uac 'SuccessfulCall(C)')
	if [ "$rc" -eq 0 ] && [ "$succ" = 1 ]; then
		ok "a third call from bob gets 486 Busy Here (and ACKs it)"
	else
		not_ok "a third call from bob gets 486 Busy Here (and ACKs it)" \
			"caller exit status $rc, successful calls: ${succ:-none}" \
			"$(sipp_diag limit3-uac)" "$(dlg_diag)"
	fi
	check_eq "the callee never saw the third INVITE (it got 2)" "2" \
		"$(sipp_received limit-uas INVITE)"
	# The 486 was ours: it carries no To tag of the callee's ([pid]uas...).
	r486=$(tr -d '\r' <"$E2E_TMP/limit3-uac.msg" 2>/dev/null | grep -A12 '^SIP/2.0 486' | grep -i -m1 '^To:')
	case "$r486" in
	*uas[0-9]*) not_ok "the 486 comes from the proxy, not the callee" "its To: $r486" ;;
	"") not_ok "the 486 comes from the proxy, not the callee" "no 486 in the caller's log" ;;
	*) ok "the 486 comes from the proxy, not the callee" ;;
	esac
	CID3="dlglimit3-1-$third_pid@127.0.0.1"
	check_eq "after the 486: profile-size caller bob = 2, inbound = 2" "2 2" \
		"$(dlg_profile_size caller bob) $(dlg_profile_size inbound)"
	if dlg_active_is all 2 && dlg_stat_is active_dialogs 2 && dlg_ended "$CID3"; then
		ok "the refused call left no dialog behind (2 active, it is in state 5 or gone)"
	else
		not_ok "the refused call left no dialog behind (2 active, it is in state 5 or gone)" \
			"its state: '$(dlg_state_of "$CID3")'" "$(dlg_diag)"
	fi

	# The limit is per value of the profile: another caller still passes.
	sipp_start limitd-uac dlg_uac_call.xml "${UAC[@]}" -p $((C + 2)) -m 1 \
		-s limit -key from_user dave -cid_str "dlglimitd-%u-%p@%s" -d 200
	sipp_wait "$SIPP_PID" 15; rc=$?
	succ=$(sipp_stat limitd-uac 'SuccessfulCall(C)')
	if [ "$rc" -eq 0 ] && [ "$succ" = 1 ]; then
		ok "meanwhile a call from dave (another caller value) goes through"
	else
		not_ok "meanwhile a call from dave (another caller value) goes through" \
			"caller exit status $rc, successful calls: ${succ:-none}" \
			"$(sipp_diag limitd-uac limit-uas)" "$(dlg_diag)"
	fi
	wait_for 3 dlg_profile_size_is 2 inbound
	check_eq "after dave's call: caller bob = 2, caller dave = 0, inbound = 2" "2 0 2" \
		"$(dlg_profile_size caller bob) $(dlg_profile_size caller dave) $(dlg_profile_size inbound)"

	sipp_wait "$held_pid" 20; uac_rc=$?
	sipp_wait "$UAS_PID" 5; uas_rc=$?
	sipp_call_check "bob's two held calls end normally (BYE, 200)" \
		limit-uac "$uac_rc" limit-uas "$uas_rc" 2
	if wait_for 5 dlg_profile_size_is 0 caller bob && wait_for 2 dlg_profile_size_is 0 inbound &&
		wait_for 2 dlg_stat_is active_dialogs 0; then
		ok "after the calls end: caller bob = 0, inbound = 0, active_dialogs 0"
	else
		not_ok "after the calls end: caller bob = 0, inbound = 0, active_dialogs 0" \
			"caller bob: '$(dlg_profile_size caller bob)', inbound: '$(dlg_profile_size inbound)'" \
			"$(dlg_diag)"
	fi
fi

# ===========================================================================
# 7. 1,000 calls up at once
# ===========================================================================
N=1000
proc0=$(dlg_stat processed_dialogs)
if start_uas bulk-uas uas_call.xml -m "$N"; then
	t0=$(date +%s)
	sipp_start bulk-uac dlg_uac_call.xml "${UAC[@]}" -p $((C + 3)) -m "$N" -l "$N" \
		-r 400 -s bulk -key from_user bulk -cid_str "dlgbulk-%u-%p@%s" -d 8000
	bulk_pid=$SIPP_PID
	if wait_for 20 dlg_active_is ongoing "$N"; then
		ok "$N calls up at once: dlg.stats_active ongoing = $N (after $(( $(date +%s) - t0 )) s)"
	else
		not_ok "$N calls up at once: dlg.stats_active ongoing = $N" \
			"ongoing: '$(dlg_active ongoing)', all: '$(dlg_active all)'" \
			"$(sipp_diag bulk-uac bulk-uas)" "$(proxy_diag)"
	fi
	check_eq "dlg.list shows $N dialogs in state 4" "$N" "$(n_listed 4)"
	check_eq "active_dialogs $N, profile-size caller bulk $N, inbound $N" "$N $N $N" \
		"$(dlg_stat active_dialogs) $(dlg_profile_size caller bulk) $(dlg_profile_size inbound)"
	nb=$(dlg_ctl rpc dlg.briefing 2>/dev/null | jq '[.[] | select(."call-id" | startswith("dlgbulk-"))] | length' 2>/dev/null)
	check_eq "dlg.briefing lists the $N calls" "$N" "$nb"

	sipp_wait "$bulk_pid" 40; uac_rc=$?
	sipp_wait "$UAS_PID" 5; uas_rc=$?
	sipp_call_check "the $N calls end normally (BYE, 200)" bulk-uac "$uac_rc" bulk-uas "$uas_rc" "$N"
	if wait_for 10 dlg_active_is all 0 && wait_for 2 dlg_stat_is active_dialogs 0 &&
		wait_for 2 n_listed_live_is 0; then
		ok "all $N gone after: dlg.stats_active all 0, active_dialogs 0, none listed below state 5"
	else
		not_ok "all $N gone after: dlg.stats_active all 0, active_dialogs 0, none listed below state 5" \
			"listed below state 5: '$(n_listed_live)'" "$(dlg_diag)"
	fi
	check_eq "processed_dialogs +$N" "$N" "$(stat_delta processed_dialogs "$proc0")"
	check_eq "profile sizes back to 0 (caller bulk, inbound)" "0 0" \
		"$(dlg_profile_size caller bulk) $(dlg_profile_size inbound)"
fi

if kill -0 "$PROXY_PID" 2>/dev/null; then
	ok "sipdlgd is still running after all calls"
else
	not_ok "sipdlgd is still running after all calls" "$(proxy_diag)"
fi
if stop_daemon "$PROXY_PID"; then
	ok "sipdlgd stops cleanly on SIGTERM"
else
	not_ok "sipdlgd stops cleanly on SIGTERM" "$(proxy_diag)"
fi
forget_pid "$PROXY_PID"

e2e_finish
