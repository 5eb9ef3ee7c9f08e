#!/bin/bash
# The dialog RPCs with the parameters the reference calls optional left
# out, against real calls (sipp caller -> sipdlgd -> sipp callee; both
# sides wait for the proxy's BYE, as in test_dialog_end.sh):
#   - dlg.terminate_dlg CALLID FROM_TAG (no To-tag) and CALLID alone end
#     the confirmed dialog; a wrong From-tag or To-tag, or a To-tag
#     without a From-tag, is refused and changes nothing;
#   - dlg.end_dlg H_ENTRY H_ID EXTRA_HDRS puts the headers in both BYEs;
#     extra headers that are not header lines are refused;
#   - dlg.dlg_list without a Call-ID lists every dialog; a from_tag
#     without the Call-ID is refused;
#   - dlg.profile_get_size / dlg.profile_list with and without a value
#     (a value given for a profile without values is discarded);
#   - dlg.bridge_dlg FROM TO OP sends the INVITE by way of OP; a bad OP
#     is refused.
# No XDP.
. "$(dirname "$0")/lib.sh"
e2e_init
need_sipp
command -v jq >/dev/null 2>&1 || { skip "dialog RPCs" "jq is not installed"; exit 0; }
SIPP_TIMEOUT=25

if ! e2e_port_block BASE 10000 500 20; then
	not_ok "a free block of 20 ports" "no free block found between 10000 and 20000"
	e2e_finish
fi
P=$BASE U=$((BASE + 1)) C=$((BASE + 2)) B=$((BASE + 3)) DEAD=$((BASE + 4))

DLG_SOCK="$E2E_TMP/dlg-ctl.sock"
CFG="$E2E_TMP/dlg.yaml"
cat >"$CFG" <<EOF
listen:
  - "udp:127.0.0.1:$P"
xdp: {enabled: false}
dialog:
  profiles_with_value: [caller]
  profiles_no_value: [inbound]
  bridge_controller: "sip:ctl@example.org"
  bridge_contact: "sip:ctl@127.0.0.1:$P"
control:
  socket: $DLG_SOCK
log: {level: debug}
routes:
  - match: { method: INVITE, in_dialog: false }
    actions:
      - dlg_manage
      - set_dlg_profile: [caller, "\$fU"]
      - set_dlg_profile: [inbound]
      - forward: "udp:127.0.0.1:$U"
EOF
check "the config passes sipdlgd --check" "$SIPDLGD" -c "$CFG" --check
PROXY_LOG="$E2E_TMP/proxy.log"
if ! start_daemon proxy "$CFG" || ! wait_for 10 port_bound udp "$P"; then
	not_ok "sipdlgd starts" "$(proxy_diag)"
	e2e_finish
fi
PROXY_PID=$DAEMON_PID

UAS=(-i 127.0.0.1 -t u1 -p "$U" -default_behaviors "all,-bye")
UAC=("127.0.0.1:$P" -i 127.0.0.1 -t u1 -recv_timeout 12000 -default_behaviors "all,-bye")

# call_up NAME FROM-USER : a call that waits for the proxy's BYE, up and
# confirmed.  Sets UAS_PID, UAC_PID, CID, DLG, FT, TT, HE, HI.
call_up() {
	local name=$1
	sipp_start "$name-uas" dlg_uas_wait_bye.xml "${UAS[@]}" -m 1
	UAS_PID=$SIPP_PID
	wait_for 5 port_bound udp "$U"
	sipp_start "$name-uac" dlg_uac_wait_bye.xml "${UAC[@]}" -p "$C" -m 1 -s svc \
		-key from_user "$2" -cid_str "rpc$name-%u-%p@%s"
	UAC_PID=$SIPP_PID
	CID="rpc$name-1-$UAC_PID@127.0.0.1"
	if ! wait_for 5 dlg_state_is "$CID" 4; then
		not_ok "$name: the call is up" "$(dlg_diag)" "$(sipp_diag "$name-uac" "$name-uas")"
		sipp_wait "$UAC_PID" 1; sipp_wait "$UAS_PID" 1
		return 1
	fi
	DLG=$(dlg_by_callid "$CID")
	FT=$(json_get "$DLG" '.caller.tag') TT=$(json_get "$DLG" '.callee.tag')
	HE=$(json_get "$DLG" '.h_entry') HI=$(json_get "$DLG" '.h_id')
}

# rpc METHOD PARAMS-JSON : the JSON-RPC answer (result or error), compact.
rpc() {
	local id=$RANDOM
	printf '{"jsonrpc":"2.0","method":"%s","params":%s,"id":%s}\n' "$1" "$2" "$id" |
		timeout 5 socat -t 3 - "UNIX-CONNECT:$DLG_SOCK" 2>/dev/null | head -n 1 |
		jq -c 'if .error then {error: .error} else .result end' 2>/dev/null
}

# ended NAME : both sides got a BYE and answered; the dialog is gone.
ended() {
	local uac_rc uas_rc
	sipp_wait "$UAC_PID" 16; uac_rc=$?
	sipp_wait "$UAS_PID" 4; uas_rc=$?
	if [ "$uac_rc" -eq 0 ] && [ "$uas_rc" -eq 0 ] && wait_for 5 dlg_stat_is active_dialogs 0; then
		ok "$1: both sides got a BYE from the proxy, the dialog is gone"
	else
		not_ok "$1: both sides got a BYE from the proxy, the dialog is gone" \
			"sipp exit status: caller $uac_rc, callee $uas_rc" \
			"$(sipp_diag "$1-uac" "$1-uas")" "$(dlg_diag)"
	fi
}

# exits0 DESC RC OUTPUT : sipdlgctl exited 0.
exits0() {
	if [ "$2" -eq 0 ]; then ok "$1"; else not_ok "$1" "exit status $2: $3"; fi
}

# still_up NAME WHAT : the dialog is still confirmed after WHAT.
still_up() {
	check_eq "$1: $2 changes nothing (dialog still in state 4)" 4 "$(dlg_state_of "$CID")"
}

# --- a call: listings, profiles, refusals, then terminate CALLID FROM_TAG --
if call_up tf frank; then
	n_all=$(rpc dlg.list '[]' | jq 'length')
	check_eq "dlg.dlg_list without a Call-ID lists every dialog, as dlg.list" \
		"$n_all $CID" "$(rpc dlg.dlg_list '[]' | jq -r 'length, .[0]."call-id"' | tr '\n' ' ' | sed 's/ $//')"
	check_contains "dlg.dlg_list with a from_tag and no callid is refused" \
		"from_tag needs the callid" "$(rpc dlg.dlg_list "{\"from_tag\":\"$FT\"}")"
	check_eq "dlg.dlg_list CALLID FROM_TAG lists it; another From-tag lists nothing" \
		"1 0" "$(rpc dlg.dlg_list "[\"$CID\",\"$FT\"]" | jq 'length') $(rpc dlg.dlg_list "[\"$CID\",\"x$FT\"]" | jq 'length')"
	check_eq "dlg.profile_get_size caller / caller frank / caller nobody" "1 1 0" \
		"$(rpc dlg.profile_get_size '["caller"]') $(rpc dlg.profile_get_size '["caller","frank"]') $(rpc dlg.profile_get_size '["caller","nobody"]')"
	check_eq "dlg.profile_get_size inbound VALUE: the value of a no-value profile is discarded" "1 1" \
		"$(rpc dlg.profile_get_size '["inbound"]') $(rpc dlg.profile_get_size '["inbound","anything"]')"
	check_eq "dlg.profile_list caller / caller frank / caller nobody / inbound anything" "1 1 0 1" \
		"$(rpc dlg.profile_list '["caller"]' | jq length) $(rpc dlg.profile_list '["caller","frank"]' | jq length) $(rpc dlg.profile_list '["caller","nobody"]' | jq length) $(rpc dlg.profile_list '["inbound","anything"]' | jq length)"

	check_contains "terminate CALLID WRONG-FROM-TAG: 500 Couldnt find callid in dialog" \
		"Couldnt find callid in dialog" "$(rpc dlg.terminate_dlg "[\"$CID\",\"x$FT\"]")"
	still_up tf "a wrong From-tag"
	check_contains "terminate CALLID FROM_TAG WRONG-TO-TAG: 500 Couldnt find callid in dialog" \
		"Couldnt find callid in dialog" "$(rpc dlg.terminate_dlg "[\"$CID\",\"$FT\",\"x$TT\"]")"
	check_contains "terminate with a to_tag but no from_tag: 400" \
		'"code":400' "$(rpc dlg.terminate_dlg "{\"callid\":\"$CID\",\"to_tag\":\"$TT\"}")"
	check_contains "end H_ENTRY H_ID with extra headers holding an empty line: refused" \
		"extra_hdrs has an empty line" \
		"$(rpc dlg.end_dlg "[$HE,$HI,\"X-A: 1\\r\\n\\r\\nINVITE sip:x SIP/2.0\\r\\n\"]")"
	check_contains "end H_ENTRY H_ID with extra headers that are no header: refused" \
		"not 'Name: value'" "$(rpc dlg.end_dlg "[$HE,$HI,\"just text\"]")"
	still_up tf "refusing them"

	out=$("$SIPDLGCTL" --socket "$DLG_SOCK" terminate "$CID" "$FT" 2>&1); rc=$?
	exits0 "sipdlgctl terminate CALLID FROM_TAG (no To-tag) exits 0 (was: 500 Couldnt find callid in dialog)" \
		"$rc" "$out"
	ended tf
fi

# --- terminate CALLID alone --------------------------------------------------
if call_up tc gina; then
	out=$("$SIPDLGCTL" --socket "$DLG_SOCK" terminate "$CID" 2>&1); rc=$?
	exits0 "sipdlgctl terminate CALLID (no tags) exits 0" "$rc" "$out"
	ended tc
fi

# --- end with extra headers --------------------------------------------------
if call_up ex hal; then
	out=$("$SIPDLGCTL" --socket "$DLG_SOCK" end "$HE" "$HI" $'X-Reason: e2e admin\r\nX-Ticket: 42' 2>&1); rc=$?
	exits0 "sipdlgctl end H_ENTRY H_ID EXTRA_HDRS exits 0" "$rc" "$out"
	ended ex
	check_eq "both BYEs carry the extra headers" "e2e admin/42 e2e admin/42" \
		"$(sipp_received_hdr ex-uac BYE X-Reason)/$(sipp_received_hdr ex-uac BYE X-Ticket) $(sipp_received_hdr ex-uas BYE X-Reason)/$(sipp_received_hdr ex-uas BYE X-Ticket)"
fi

# --- bridge FROM TO OP ---------------------------------------------------------
check_contains "bridge FROM TO with a bad OP is refused" "Bridge failed" \
	"$(rpc dlg.bridge_dlg "[\"sip:alice@127.0.0.1:$DEAD\",\"sip:bob@example.org\",\"not a uri\"]")"
sipp_start bridge-uas dlg_uas_refer.xml -i 127.0.0.1 -t u1 -p "$B" -m 1 -default_behaviors "all,-bye"
BR_PID=$SIPP_PID
wait_for 5 port_bound udp "$B"
out=$("$SIPDLGCTL" --socket "$DLG_SOCK" bridge "sip:alice@127.0.0.1:$DEAD" "sip:bob@example.org" "sip:127.0.0.1:$B" 2>&1); rc=$?
exits0 "sipdlgctl bridge FROM TO OP exits 0" "$rc" "$out"
sipp_wait "$BR_PID" 16; br_rc=$?
check_eq "the INVITE for FROM (a dead address) went by way of OP; REFER and BYE followed" \
	"0 sip:alice@127.0.0.1:$DEAD sip:bob@example.org" \
	"$br_rc $(tr -d '\r' <"$E2E_TMP/bridge-uas.msg" | awk '/message received/ {w = 1; next} w && NF {print $2; exit}') $(sipp_received_hdr bridge-uas REFER Refer-To)"

if stop_daemon "$PROXY_PID"; then ok "sipdlgd stops cleanly"; else not_ok "sipdlgd stops cleanly" "$(proxy_diag)"; fi
forget_pid "$PROXY_PID"
e2e_finish
