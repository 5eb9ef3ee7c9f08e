#!/bin/bash
# Dialogs the proxy ends by itself, with real calls: sipp caller ->
# sipdlgd -> sipp callee, where neither side ever hangs up; both wait for
# a BYE from the proxy and answer it 200 (dlg_uac_wait_bye.xml,
# dlg_uas_wait_bye.xml, 10 s each at most).
#   - sipdlgctl end H_ENTRY H_ID (dlg.end_dlg): BYE to both sides, the
#     dialog goes away, active_dialogs back to 0;
#   - sipdlgctl terminate CALLID FROMTAG TOTAG (dlg.terminate_dlg): same;
#   - a rule with timeout: 3 and timeout_bye: true: after 3 s both sides
#     get a BYE, expired_dialogs +1.
# A fresh daemon for each case, so that a dialog left up by a failing
# case does not spoil the counts of the next.  No XDP.
. "$(dirname "$0")/lib.sh"
e2e_init
need_sipp
command -v jq >/dev/null 2>&1 || { skip "dialog end" "jq is not installed"; exit 0; }
SIPP_TIMEOUT=25

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
log: {level: debug}
routes:
  - name: "short calls: 3 s, then BYE both sides"
    match: { method: INVITE, in_dialog: false, ruri_user: short }
    actions:
      - dlg_manage
      - set_dlg_profile: [inbound]
      - timeout: 3
      - timeout_bye: true
      - set_dlg_var: [who, "\$fU"]
      - timeout_route: "call timed out"
      - forward: "udp:127.0.0.1:$U"
  - name: "call timed out"
    actions:
      - log: "timeout-route-ran who=\$dlg_var(who) active=\$DLG_count"
  - name: "new calls"
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

PROXY_PID=""
proxy_port_free() { ! port_bound udp "$P"; }

# fresh_daemon CASE : stop the daemon of the previous case (if any) and
# start a new one; its log is $E2E_TMP/proxy-CASE.log.
fresh_daemon() {
	if [ -n "$PROXY_PID" ]; then
		stop_daemon "$PROXY_PID"
		forget_pid "$PROXY_PID"
		PROXY_PID=""
	fi
	wait_for 5 proxy_port_free
	PROXY_LOG="$E2E_TMP/proxy-$1.log"
	if ! start_daemon "proxy-$1" "$CFG" || ! wait_for 10 port_bound udp "$P"; then
		not_ok "$1: sipdlgd starts and listens on UDP $P" "$(proxy_diag)"
		return 1
	fi
	PROXY_PID=$DAEMON_PID
}

# -default_behaviors all,-bye: a side that gives up waiting must not send
# a BYE of its own, which could end the dialog and hide the failure.
UAS=(-i 127.0.0.1 -t u1 -p "$U" -default_behaviors "all,-bye")
UAC=("127.0.0.1:$P" -i 127.0.0.1 -t u1 -recv_timeout 12000 -default_behaviors "all,-bye")

# call_up NAME SERVICE FROM-USER : start a callee and a caller that wait
# for the proxy's BYE; wait until the dialog is confirmed.  Sets UAS_PID,
# UAC_PID, CID and DLG (the dialog object); 1 if it did not come up.
call_up() {
	local name=$1
	sipp_start "$name-uas" dlg_uas_wait_bye.xml "${UAS[@]}" -m 1
	UAS_PID=$SIPP_PID
	if ! wait_for 5 port_bound udp "$U"; then
		not_ok "$name: the callee (sipp) binds udp port $U" "$(sipp_diag "$name-uas")"
		sipp_wait "$UAS_PID" 1
		return 1
	fi
	sipp_start "$name-uac" dlg_uac_wait_bye.xml "${UAC[@]}" -p "$C" -m 1 -s "$2" \
		-key from_user "$3" -cid_str "dlg$name-%u-%p@%s"
	UAC_PID=$SIPP_PID
	CID="dlg$name-1-$UAC_PID@127.0.0.1"
	if ! wait_for 5 dlg_state_is "$CID" 4; then
		not_ok "$name: the call is up (dialog $CID in state 4)" \
			"state: '$(dlg_state_of "$CID")'" "$(dlg_diag)" \
			"$(sipp_diag "$name-uac" "$name-uas")"
		sipp_wait "$UAC_PID" 1; sipp_wait "$UAS_PID" 1
		return 1
	fi
	DLG=$(dlg_by_callid "$CID")
	ok "$name: the call is up (dialog $CID in state 4)"
}

# both_got_bye NAME BLAME : wait for both sipp (bounded), then one TAP line:
# each received a BYE from the proxy and answered 200.  BLAME is what to
# blame when no BYE came.  Sets BYE_DONE_TS (when both were done).
both_got_bye() {
	local name=$1 blame=$2 uac_rc uas_rc n_uac n_uas
	sipp_wait "$UAC_PID" 16; uac_rc=$?
	sipp_wait "$UAS_PID" 4; uas_rc=$?
	BYE_DONE_TS=$(date +%s)
	n_uac=$(sipp_received "$name-uac" BYE) n_uas=$(sipp_received "$name-uas" BYE)
	if [ "$uac_rc" -eq 0 ] && [ "$uas_rc" -eq 0 ]; then
		ok "$name: caller and callee each got a BYE from the proxy and answered 200"
	else
		not_ok "$name: caller and callee each got a BYE from the proxy and answered 200" \
			"BYEs received: caller $n_uac, callee $n_uas (expected 1 each); sipp exit status: caller $uac_rc, callee $uas_rc" \
			"$([ "$n_uac$n_uas" = 00 ] && echo "no BYE reached either side: $blame")" \
			"$(sipp_diag "$name-uac" "$name-uas")" "$(dlg_diag)"
	fi
}

# bye_tags NAME : the BYEs the proxy sent belong to the dialog: Call-ID;
# to the caller From tag = the callee's, To tag = the caller's; to the
# callee the other way round.
bye_tags() {
	local name=$1 ft tt want got
	ft=$(json_get "$DLG" '.caller.tag') tt=$(json_get "$DLG" '.callee.tag')
	want="caller: $CID from=$tt to=$ft; callee: $CID from=$ft to=$tt"
	got="caller: $(sipp_received_hdr "$name-uac" BYE Call-ID) from=$(uri_tag "$(sipp_received_hdr "$name-uac" BYE From)") to=$(uri_tag "$(sipp_received_hdr "$name-uac" BYE To)")"
	got="$got; callee: $(sipp_received_hdr "$name-uas" BYE Call-ID) from=$(uri_tag "$(sipp_received_hdr "$name-uas" BYE From)") to=$(uri_tag "$(sipp_received_hdr "$name-uas" BYE To)")"
	check_eq "$name: the BYEs carry the dialog's Call-ID and tags (From/To as seen by each side)" \
		"$want" "$got"
}

# gone NAME : the dialog went away and nothing is active.
gone() {
	if wait_for 5 dlg_stat_is active_dialogs 0 && wait_for 2 dlg_ended "$CID" &&
		dlg_active_is all 0; then
		ok "$1: the dialog is gone (state 5 or not listed), active_dialogs 0"
	else
		not_ok "$1: the dialog is gone (state 5 or not listed), active_dialogs 0" \
			"state: '$(dlg_state_of "$CID")', active_dialogs: '$(dlg_stat active_dialogs)'" \
			"$(dlg_diag)"
	fi
}

LEAD="(generated BYEs: user/dlglink/dlg_bye.c, user/dlglink/dlg_uac.c, user/proxy/px_uac.c)"

# ===========================================================================
# 8a. sipdlgctl end H_ENTRY H_ID
# ===========================================================================
if fresh_daemon end && call_up end endme erin; then
	he=$(json_get "$DLG" '.h_entry') hi=$(json_get "$DLG" '.h_id')
	out=$("$SIPDLGCTL" --socket "$DLG_SOCK" end "$he" "$hi" 2>&1); rc=$?
	end_rc=$rc
	if [ "$rc" -eq 0 ]; then
		ok "end: sipdlgctl end $he $hi exits 0"
	else
		not_ok "end: sipdlgctl end $he $hi exits 0" \
			"exit status $rc: $out" \
			"dlg.end_dlg is missing or failing in the daemon $LEAD"
	fi
	both_got_bye end "dlg.end_dlg did not send them $LEAD"
	bye_tags end
	gone end
	out=$("$SIPDLGCTL" --socket "$DLG_SOCK" end "$he" "$hi" 2>&1); rc=$?
	if [ "$end_rc" -ne 0 ]; then
		skip "end: ending it again" "the first sipdlgctl end failed"
	elif [ "$rc" -ne 0 ]; then
		ok "end: ending it again fails (exit $rc: $out)"
	else
		# Kamailio answers 404 "Dialog not found" once the dialog is
		# deleted; a state-5 dialog still in the table may answer {}.
		if dlg_ended "$CID" && [ -n "$(dlg_state_of "$CID")" ]; then
			ok "end: ending it again changes nothing (the dialog is still listed in state 5)"
		else
			not_ok "end: ending it again fails" "exit 0, output: $out"
		fi
	fi
fi

# ===========================================================================
# 8b. sipdlgctl terminate CALLID FROMTAG TOTAG
# ===========================================================================
if fresh_daemon terminate && call_up terminate termme frank; then
	ft=$(json_get "$DLG" '.caller.tag') tt=$(json_get "$DLG" '.callee.tag')
	out=$("$SIPDLGCTL" --socket "$DLG_SOCK" terminate "$CID" "$ft" "$tt" 2>&1); rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "terminate: sipdlgctl terminate CALLID FROMTAG TOTAG exits 0"
	else
		not_ok "terminate: sipdlgctl terminate CALLID FROMTAG TOTAG exits 0" \
			"exit status $rc: $out" \
			"dlg.terminate_dlg is missing or failing in the daemon $LEAD"
	fi
	both_got_bye terminate "dlg.terminate_dlg did not send them $LEAD"
	bye_tags terminate
	gone terminate
fi

# ===========================================================================
# 8c. timeout: 3 with timeout_bye: true
# ===========================================================================
if fresh_daemon timeout && call_up timeout short gina; then
	t_up=$(date +%s)
	st=$(json_get "$DLG" '.start_ts') to=$(json_get "$DLG" '.timeout')
	if [ "$(json_get "$DLG" '.lifetime')" = 3 ] && [ $((to - st)) -ge 2 ] && [ $((to - st)) -le 4 ] &&
		[ $(( $(json_get "$DLG" '.iflags') & 1 )) -eq 1 ]; then
		ok "timeout: the dialog has lifetime 3, timeout = start_ts + 3, iflags with the timeout-BYE bit (1)"
	else
		not_ok "timeout: the dialog has lifetime 3, timeout = start_ts + 3, iflags with the timeout-BYE bit (1)" \
			"$(json_get "$DLG" '{start_ts, timeout, lifetime, iflags} | tojson')"
	fi
	both_got_bye timeout "the dialog timer expired without timeout_bye's BYE $LEAD"
	el=$((BYE_DONE_TS - t_up))
	if [ "$(sipp_received timeout-uac BYE)" = 1 ] && [ "$el" -ge 2 ] && [ "$el" -le 8 ]; then
		ok "timeout: the BYEs came about 3 s after the answer (${el} s)"
	else
		not_ok "timeout: the BYEs came about 3 s after the answer" \
			"caller got $(sipp_received timeout-uac BYE) BYE; both sides done ${el} s after the call was up"
	fi
	bye_tags timeout
	wait_for 3 dlg_stat_is expired_dialogs 1
	check_eq "timeout: expired_dialogs +1" "1" "$(dlg_stat expired_dialogs)"
	check_contains "timeout: its timeout_route rule ran, with the dialog's variables" \
		"timeout-route-ran who=gina" "$(cat "$E2E_TMP/proxy-timeout.log")"
	gone timeout
	check_eq "timeout: profile-size inbound back to 0" "0" "$(dlg_profile_size inbound)"
fi

if [ -n "$PROXY_PID" ]; then
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
fi

e2e_finish
