#!/bin/bash
# In-dialog OPTIONS keep-alives (Kamailio 5.6's ka_timer, ka_interval,
# ka_failed_limit; sides chosen by the dlg_keepalive: action), with real
# calls: sipp caller -> sipdlgd -> sipp callee, both answering OPTIONS
# (ka_uac.xml, ka_uas.xml).
#   - --check: dlg_keepalive with keep-alives off is refused, and so is a
#     script-only dialog parameter (with the YAML way in the message);
#   - (ruri_pvar's refusal says so:) the dialog stores the R-URI as a
#     ruri_user: before dlg_manage rewrote it;
#   - the keep-alives reach both sides, inside the dialog (Call-ID, tags,
#     a Via branch of the z9hG4bKsd form), lreq_callee_headers only
#     towards the callee, and both answer (keepalives_answered);
#   - the callee disappears (its sipp is killed): after ka_failed_limit
#     (2) keep-alives without an answer the dialog is ended with BYE both
#     ways; the caller gets its BYE; keepalives_failed and
#     keepalive_ended_dialogs count it.
# Short timers: a round each second, each dialog every 2 s, T1 50 ms (so
# an unanswered OPTIONS times out after 64*T1 = 3.2 s).  No XDP.
. "$(dirname "$0")/lib.sh"
e2e_init
need_sipp
command -v jq >/dev/null 2>&1 || { skip "keep-alives" "jq is not installed"; exit 0; }
SIPP_TIMEOUT=40

if ! e2e_port_block BASE 10000 500 20; then
	not_ok "a free block of 20 ports" "no free block found between 10000 and 20000"
	e2e_finish
fi
P=$BASE U=$((BASE + 1)) C=$((BASE + 2))

DLG_SOCK="$E2E_TMP/ka-ctl.sock"
CFG="$E2E_TMP/ka.yaml"
cat >"$CFG" <<EOC
listen:
  - "udp:127.0.0.1:$P"
  - "tcp:127.0.0.1:$P"
sip: { t1_ms: 50, t2_ms: 400 }
xdp: {enabled: false}
dialog:
  ka_timer: 1
  ka_interval: 2
  ka_failed_limit: 2
  lreq_callee_headers: "X-E2E-Ka: to-callee-$E2E_ID"
control:
  socket: $DLG_SOCK
log: {level: debug}
routes:
  - name: "calls with keep-alives both ways"
    match: { method: INVITE, in_dialog: false }
    actions:
      - ruri_user: "ka-\$rU"
      - dlg_manage
      - dlg_keepalive: both
      - forward: "udp:127.0.0.1:$U"
EOC
check "the keep-alive config passes sipdlgd --check" "$SIPDLGD" -c "$CFG" --check

# --- refusals ------------------------------------------------------------------
BAD="$E2E_TMP/ka-off.yaml"
sed -e '/ka_timer:/d' -e '/ka_interval:/d' "$CFG" >"$BAD"
out=$("$SIPDLGD" -c "$BAD" --check 2>&1); rc=$?
if [ "$rc" -ne 0 ] && [[ "$out" == *"dlg_keepalive: keep-alives are off; set dialog: ka_timer and ka_interval"* ]]; then
	ok "--check refuses dlg_keepalive while ka_timer/ka_interval are 0"
else
	not_ok "--check refuses dlg_keepalive while ka_timer/ka_interval are 0" "exit $rc: $out"
fi
BAD="$E2E_TMP/ka-refused.yaml"
sed 's/^  ka_timer: 1$/  ka_timer: 1\n  timeout_avp: "$avp(i:10)"/' "$CFG" >"$BAD"
out=$("$SIPDLGD" -c "$BAD" --check 2>&1); rc=$?
if [ "$rc" -ne 0 ] && [[ "$out" == *"timeout_avp: not supported:"*"timeout: action"* ]]; then
	ok "--check refuses timeout_avp and names the timeout: action"
else
	not_ok "--check refuses timeout_avp and names the timeout: action" "exit $rc: $out"
fi

# --- a call with keep-alives -------------------------------------------------------
PROXY_LOG="$E2E_TMP/proxy.log"
if ! start_daemon proxy "$CFG" || ! wait_for 10 port_bound udp "$P"; then
	not_ok "sipdlgd starts and listens on UDP $P" "$(proxy_diag)"
	e2e_finish
fi
PROXY_PID=$DAEMON_PID

sipp_start ka-uas ka_uas.xml -i 127.0.0.1 -t u1 -p "$U" -m 1 -default_behaviors "all,-bye"
UAS_PID=$SIPP_PID
wait_for 5 port_bound udp "$U" || not_ok "the callee (sipp) binds udp port $U" "$(sipp_diag ka-uas)"
sipp_start ka-uac ka_uac.xml "127.0.0.1:$P" -i 127.0.0.1 -t u1 -p "$C" -m 1 -s kauser \
	-key from_user karl -cid_str "ka-%u-%p@%s" -default_behaviors "all,-bye"
UAC_PID=$SIPP_PID
CID="ka-1-$UAC_PID@127.0.0.1"
if wait_for 5 dlg_state_is "$CID" 4; then
	ok "the call is up (dialog $CID in state 4)"
else
	not_ok "the call is up (dialog $CID in state 4)" "$(dlg_diag)" "$(sipp_diag ka-uac ka-uas)"
	e2e_finish
fi
DLG=$(dlg_by_callid "$CID")
# ruri_pvar is refused: the stored R-URI is $ru as dlg_manage sees it,
# after the ruri_user: rewrite before it.
n=$(dlg_ctl rpc dlg.list_match ruri eq "sip:ka-kauser@127.0.0.1:$P" 2>/dev/null | jq 'length' 2>/dev/null)
check_eq "the dialog keeps the R-URI as rewritten by ruri_user: before dlg_manage" 1 "$n"
check_eq "dlg_keepalive: both sets the ka-src and ka-dst iflags (2|4)" 6 \
	"$(( $(json_get "$DLG" '.iflags') & 6 ))"

# Two rounds: each side answers two OPTIONS (4 answers in all).
both_probed() {
	[ "$(sipp_received ka-uac OPTIONS)" -ge 2 ] && [ "$(sipp_received ka-uas OPTIONS)" -ge 2 ] &&
		[ "$(dlg_stat keepalives_answered)" -ge 4 ]
}
if wait_for 10 both_probed; then
	ok "keep-alive OPTIONS reach both sides and are answered ($(dlg_stat keepalives_answered) answered)"
else
	not_ok "keep-alive OPTIONS reach both sides and are answered" \
		"OPTIONS received: caller $(sipp_received ka-uac OPTIONS), callee $(sipp_received ka-uas OPTIONS); keepalives_sent $(dlg_stat keepalives_sent), keepalives_answered $(dlg_stat keepalives_answered)" \
		"$(dlg_diag)" "$(sipp_diag ka-uac ka-uas)"
fi
ft=$(json_get "$DLG" '.caller.tag') tt=$(json_get "$DLG" '.callee.tag')
check_eq "the OPTIONS belong to the dialog (Call-ID; From/To tags as each side sees them)" \
	"caller: $CID from=$tt to=$ft; callee: $CID from=$ft to=$tt" \
	"caller: $(sipp_received_hdr ka-uac OPTIONS Call-ID) from=$(uri_tag "$(sipp_received_hdr ka-uac OPTIONS From)") to=$(uri_tag "$(sipp_received_hdr ka-uac OPTIONS To)"); callee: $(sipp_received_hdr ka-uas OPTIONS Call-ID) from=$(uri_tag "$(sipp_received_hdr ka-uas OPTIONS From)") to=$(uri_tag "$(sipp_received_hdr ka-uas OPTIONS To)")"
via=$(sipp_received_hdr ka-uas OPTIONS Via)
check_contains "the callee's OPTIONS has a Via branch of the z9hG4bKsd form" "branch=z9hG4bKsd" "$via"
check_eq "lreq_callee_headers is on the OPTIONS to the callee, not to the caller" \
	"callee: to-callee-$E2E_ID; caller: " \
	"callee: $(sipp_received_hdr ka-uas OPTIONS X-E2E-Ka); caller: $(sipp_received_hdr ka-uac OPTIONS X-E2E-Ka)"
check_eq "no keep-alive failed while both sides answer" 0 "$(dlg_stat keepalives_failed)"

# --- the callee disappears ----------------------------------------------------------------
kill -KILL "$UAS_PID" 2>/dev/null
wait "$UAS_PID" 2>/dev/null
forget_pid "$UAS_PID"
t_kill=$(date +%s)
if wait_for 20 dlg_stat_is keepalive_ended_dialogs 1; then
	ok "the dialog is ended after ka_failed_limit keep-alives without answer ($(( $(date +%s) - t_kill )) s after the callee died)"
else
	not_ok "the dialog is ended after ka_failed_limit keep-alives without answer" \
		"keepalives_sent $(dlg_stat keepalives_sent), failed $(dlg_stat keepalives_failed), ended $(dlg_stat keepalive_ended_dialogs)" \
		"$(dlg_diag)"
fi
nf=$(dlg_stat keepalives_failed)
if [ "${nf:-0}" -ge 2 ]; then
	ok "keepalives_failed counts the unanswered keep-alives ($nf >= ka_failed_limit 2)"
else
	not_ok "keepalives_failed counts the unanswered keep-alives (>= 2)" "keepalives_failed: '$nf'"
fi
sipp_wait "$UAC_PID" 15; uac_rc=$?
if [ "$uac_rc" -eq 0 ] && [ "$(sipp_received ka-uac BYE)" = 1 ]; then
	ok "the caller gets the BYE and answers it 200"
else
	not_ok "the caller gets the BYE and answers it 200" \
		"sipp exit status $uac_rc, BYEs received $(sipp_received ka-uac BYE)" "$(sipp_diag ka-uac)" "$(dlg_diag)"
fi
if wait_for 5 dlg_stat_is active_dialogs 0 && dlg_ended "$CID"; then
	ok "the dialog is gone (state 5 or not listed), active_dialogs 0"
else
	not_ok "the dialog is gone, active_dialogs 0" "state '$(dlg_state_of "$CID")'" "$(dlg_diag)"
fi

if stop_daemon "$PROXY_PID"; then
	ok "sipdlgd stops cleanly on SIGTERM"
else
	not_ok "sipdlgd stops cleanly on SIGTERM" "$(proxy_diag)"
fi
forget_pid "$PROXY_PID"
e2e_finish
