#!/bin/bash
# Dialog awareness with real calls: sipp caller -> sipdlgd -> sipp callee,
# the rules doing what a Kamailio script does (dlg_manage, the caller and
# inbound profiles).  While a call is up the daemon must list it as
# Kamailio's dialog module would (dlg.list object, fields and order),
# count it (dlg.stats_active, dialog.* statistics, profile sizes) and find
# it by Call-ID and tags (dlg.get); after the BYE it must be gone.  Also:
# CANCEL and 486 make failed dialogs; forged in-dialog BYEs (a
# cookie naming no dialog, the real cookie with a wrong tag) do not end
# the dialog.  One daemon, one callee port, cases one after the other.
# No XDP here (xdp.enabled: false).
. "$(dirname "$0")/lib.sh"
e2e_init
need_sipp
command -v jq >/dev/null 2>&1 || { skip "dialog calls" "jq is not installed"; exit 0; }
SIPP_TIMEOUT=25

if ! e2e_port_block BASE 10000 500 20; then
	not_ok "a free block of 20 ports" "no free block found between 10000 and 20000"
	e2e_finish
fi
P=$BASE                 # the proxy (UDP and TCP)
U=$((BASE + 1))         # the callee (one at a time)
C=$((BASE + 2))         # callers use C .. C+7
SINK=$((BASE + 10))     # where forged BYEs are routed to (a socat black hole)

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

# ===========================================================================
# 1. a call held up a few seconds: listed, counted, found; gone after BYE
# ===========================================================================
proc0=$(dlg_stat processed_dialogs)
t0=$(date +%s)
if start_uas basic-uas uas_call.xml -m 1; then
	sipp_start basic-uac dlg_uac_call.xml "${UAC[@]}" -p "$C" -m 1 -s basic \
		-key from_user alice -cid_str "dlgbasic-%u-%p@%s" -d 6000
	uac_pid=$SIPP_PID
	CID="dlgbasic-1-$uac_pid@127.0.0.1"
	if wait_for 5 dlg_state_is "$CID" 4; then
		ok "call up: the dialog of Call-ID $CID is listed in state 4 (confirmed)"
	else
		not_ok "call up: the dialog of Call-ID $CID is listed in state 4 (confirmed)" \
			"its state: '$(dlg_state_of "$CID")' (empty: not listed)" \
			"$(dlg_diag)" "$(sipp_diag basic-uac basic-uas)"
	fi
	d=$(dlg_by_callid "$CID")
	t1=$(date +%s)

	# Kamailio's dlg.list object (reference 10.2): these fields, this order.
	want_keys='["h_entry","h_id","ref","call-id","from_uri","to_uri","state","start_ts","init_ts","end_ts","duration","timeout","lifetime","dflags","sflags","iflags","caller","callee","profiles","variables"]'
	want_leg='["tag","contact","cseq","route_set","socket"]'
	check_eq "sipdlgctl --json list: the dialog object has Kamailio's fields in Kamailio's order" \
		"$want_keys" "$(json_get "$d" 'keys_unsorted | tojson')"
	check_eq "the caller and callee legs have Kamailio's fields in order (tag contact cseq route_set socket)" \
		"$want_leg $want_leg" \
		"$(json_get "$d" '.caller | keys_unsorted | tojson') $(json_get "$d" '.callee | keys_unsorted | tojson')"

	# Identity of the call, as the caller sent it.
	check_eq "call-id, from_uri, to_uri are those of the INVITE" \
		"$CID sip:alice@127.0.0.1:$C sip:basic@127.0.0.1:$P" \
		"$(json_get "$d" '"\(."call-id") \(.from_uri) \(.to_uri)"')"
	uas_tag="${UAS_PID}uas1"      # uas_call.xml: tag=[pid]uas[call_number]
	check_eq "caller leg: tag, contact, cseq \"1\", route_set \"\", socket of the INVITE" \
		"${uac_pid}uac1|sip:alice@127.0.0.1:$C;transport=UDP|1|string||udp:127.0.0.1:$P" \
		"$(json_get "$d" '.caller | "\(.tag)|\(.contact)|\(.cseq)|\(.cseq | type)|\(.route_set)|\(.socket)"')"
	check_eq "callee leg: tag of the 200, its contact, cseq \"0\", route_set \"\", socket" \
		"$uas_tag|sip:callee@127.0.0.1:$U;transport=UDP|0|string||udp:127.0.0.1:$P" \
		"$(json_get "$d" '.callee | "\(.tag)|\(.contact)|\(.cseq)|\(.cseq | type)|\(.route_set)|\(.socket)"')"
	# Times: start_ts in [t0, t1], not ended, lifetime = default_timeout,
	# timeout = absolute expiry = start + lifetime (1 s of rounding).
	st=$(json_get "$d" '.start_ts // 0')
	to=$(json_get "$d" '.timeout // 0')
	if [ "$st" -ge "$t0" ] && [ "$st" -le "$t1" ] &&
		[ "$(json_get "$d" '.end_ts')" = 0 ] &&
		[ "$(json_get "$d" '.lifetime')" = 43200 ] &&
		[ $((to - st)) -ge 43199 ] && [ $((to - st)) -le 43201 ]; then
		ok "times: start_ts now, end_ts 0, lifetime 43200, timeout = start_ts + 43200"
	else
		not_ok "times: start_ts now, end_ts 0, lifetime 43200, timeout = start_ts + 43200" \
			"test clock: $t0..$t1" \
			"$(json_get "$d" '{start_ts, init_ts, end_ts, duration, timeout, lifetime} | tojson')"
	fi
	# Kamailio prepends each profile link, so the last one set comes first.
	check_eq "profiles: [\"inbound\", {\"caller\": \"alice\"}] (Kamailio's order: last set first); variables: []" \
		'[["inbound",{"caller":"alice"}],[]]' \
		"$(json_get "$d" '[.profiles, .variables] | tojson')"

	check_eq "dlg.stats_active: ongoing 1, all 1" "1 1" \
		"$(dlg_active ongoing) $(dlg_active all)"
	check_eq "statistics: dialog.active_dialogs 1, dialog.early_dialogs 0" "1 0" \
		"$(dlg_stat active_dialogs) $(dlg_stat early_dialogs)"
	check_eq "sipdlgctl profile-size caller alice = 1, profile-size inbound = 1" "1 1" \
		"$(dlg_profile_size caller alice) $(dlg_profile_size inbound)"
	check_eq "sipdlgctl profile-size caller bob = 0 (another value)" "0" \
		"$(dlg_profile_size caller bob)"
	pl=$(dlg_ctl profile-list caller alice 2>&1)
	check_eq "sipdlgctl profile-list caller alice lists this dialog" "$CID" \
		"$(json_get "$pl" '[.[]."call-id"] | join(",")' 2>/dev/null || echo "$pl")"

	# dlg.get by Call-ID, From tag, To tag (JSON strings: a tag of digits
	# would otherwise go out as a number).
	ftag=$(json_get "$d" '.caller.tag') ttag=$(json_get "$d" '.callee.tag')
	he=$(json_get "$d" '.h_entry') hi=$(json_get "$d" '.h_id')
	g=$(dlg_ctl rpc dlg.get "\"$CID\"" "\"$ftag\"" "\"$ttag\"" 2>&1)
	check_eq "rpc dlg.get CALLID FROMTAG TOTAG finds the dialog (same h_entry, h_id)" \
		"$he $hi 4" "$(json_get "$g" '"\(.h_entry) \(.h_id) \(.state)"' 2>/dev/null || echo "$g")"
	g=$(dlg_ctl rpc dlg.get "\"$CID\"" "\"$ttag\"" "\"$ftag\"" 2>&1)
	check_eq "rpc dlg.get with the tags swapped (callee's view) finds it too" \
		"$he $hi" "$(json_get "$g" '"\(.h_entry) \(.h_id)"' 2>/dev/null || echo "$g")"
	g=$(dlg_ctl rpc dlg.get "\"$CID\"" '"no-such-tag"' "\"$ttag\"" 2>&1); rc=$?
	if [ "$rc" -ne 0 ]; then
		ok "rpc dlg.get with a wrong From tag finds nothing (exit $rc)"
	else
		not_ok "rpc dlg.get with a wrong From tag finds nothing" "result: $g"
	fi
	# The cookie the caller got in the Record-Route: ;did=<h_entry>.<h_id>,
	# both halves in Kamailio's reverse hex.
	rr=$(grep -m1 -i '^Record-Route:' "$E2E_TMP/basic-uac.msg" 2>/dev/null | tr -d '\r')
	check_contains "the caller's Record-Route carries the cookie ;did=$(rev_hex "$he").$(rev_hex "$hi") (h_entry $he, h_id $hi)" \
		";did=$(rev_hex "$he").$(rev_hex "$hi")" "$rr"
	table=$("$SIPDLGCTL" --socket "$DLG_SOCK" list 2>&1)
	check_contains "sipdlgctl list (table) shows the call" "$CID" "$table"

	sipp_wait "$uac_pid" 20; uac_rc=$?
	sipp_wait "$UAS_PID" 5; uas_rc=$?
	sipp_call_check "the caller hangs up (BYE by the Route set), 200 from the callee" \
		basic-uac "$uac_rc" basic-uas "$uas_rc" 1
	if wait_for 5 dlg_stat_is active_dialogs 0 && wait_for 2 dlg_ended "$CID"; then
		ok "after the BYE: active_dialogs 0, the dialog in state 5 or gone"
	else
		not_ok "after the BYE: active_dialogs 0, the dialog in state 5 or gone" \
			"state: '$(dlg_state_of "$CID")'" "$(dlg_diag)"
	fi
	d=$(dlg_by_callid "$CID")
	if [ -z "$d" ] || [ "$(json_get "$d" '[.profiles, .variables, .timeout] | tojson')" = '[[],[],0]' ]; then
		ok "an ended dialog still listed has no profiles, no variables, no timer"
	else
		not_ok "an ended dialog still listed has no profiles, no variables, no timer" "$d"
	fi
	check_eq "after the BYE: dlg.stats_active all 0" "0" "$(dlg_active all)"
	check_eq "processed_dialogs counts the call (+1)" "1" "$(stat_delta processed_dialogs "$proc0")"
	check_eq "after the BYE: profile sizes caller alice and inbound back to 0" "0 0" \
		"$(dlg_profile_size caller alice) $(dlg_profile_size inbound)"
fi

# ===========================================================================
# 2. 180 then CANCEL: a failed dialog, nothing active
# ===========================================================================
fail0=$(dlg_stat failed_dialogs)
if start_uas cancel-uas uas_cancel.xml -m 1; then
	sipp_start cancel-uac uac_cancel.xml "${UAC[@]}" -p $((C + 1)) -m 1 -s cancel \
		-cid_str "dlgcancel-%u-%p@%s"
	uac_pid=$SIPP_PID
	sipp_wait "$uac_pid" 20; uac_rc=$?
	sipp_wait "$UAS_PID" 5; uas_rc=$?
	sipp_call_check "CANCEL after 180: 200 for the CANCEL, 487 for the INVITE" \
		cancel-uac "$uac_rc" cancel-uas "$uas_rc" 1
	CID="dlgcancel-1-$uac_pid@127.0.0.1"
	wait_for 3 dlg_stat_is failed_dialogs $(( ${fail0:-0} + 1 ))
	check_eq "CANCEL: failed_dialogs +1" "1" "$(stat_delta failed_dialogs "$fail0")"
	if dlg_stat_is active_dialogs 0 && dlg_stat_is early_dialogs 0 &&
		dlg_active_is all 0 && dlg_ended "$CID"; then
		ok "CANCEL: no active or early dialog left, the dialog in state 5 or gone"
	else
		not_ok "CANCEL: no active or early dialog left, the dialog in state 5 or gone" \
			"state: '$(dlg_state_of "$CID")'" "$(dlg_diag)"
	fi
	check_eq "CANCEL: profile sizes back to 0 (caller caller, inbound)" "0 0" \
		"$(dlg_profile_size caller caller) $(dlg_profile_size inbound)"
fi

# ===========================================================================
# 3. 486 from the callee: a failed dialog
# ===========================================================================
fail0=$(dlg_stat failed_dialogs)
if start_uas busy-uas uas_busy.xml -m 1; then
	sipp_start busy-uac uac_busy.xml "${UAC[@]}" -p $((C + 2)) -m 1 -s busy \
		-cid_str "dlgbusy-%u-%p@%s"
	uac_pid=$SIPP_PID
	sipp_wait "$uac_pid" 20; uac_rc=$?
	sipp_wait "$UAS_PID" 5; uas_rc=$?
	sipp_call_check "486 Busy Here from the callee reaches the caller" \
		busy-uac "$uac_rc" busy-uas "$uas_rc" 1
	CID="dlgbusy-1-$uac_pid@127.0.0.1"
	wait_for 3 dlg_stat_is failed_dialogs $(( ${fail0:-0} + 1 ))
	check_eq "486: failed_dialogs +1" "1" "$(stat_delta failed_dialogs "$fail0")"
	if dlg_stat_is active_dialogs 0 && dlg_active_is all 0 && dlg_ended "$CID"; then
		ok "486: no active dialog left, the dialog in state 5 or gone"
	else
		not_ok "486: no active dialog left, the dialog in state 5 or gone" \
			"state: '$(dlg_state_of "$CID")'" "$(dlg_diag)"
	fi
fi

# ===========================================================================
# 5. a spiral (the INVITE comes back to the proxy with a new R-URI)
# ===========================================================================
# In its own script, tests/e2e/test_dialog_spiral.sh (a rule rewrites the
# R-URI user with ruri_user: and forwards the INVITE to the proxy itself).

# ===========================================================================
# 6. forged BYEs do not end the dialog; the real one does
# ===========================================================================
# Each forged BYE is sent to the proxy from bash (one datagram), with the
# Request-URI and Via pointing at a socat sink, so that whatever the proxy
# forwards or answers ends there and never disturbs the callee:
#   a) the real cookie, the real Call-ID and To tag, a wrong From tag;
#   b) the real cookie, the real Call-ID and From tag, a wrong To tag;
#   c) a cookie naming no dialog (same h_entry, another h_id), with the
#      real Call-ID and tags (dlg_match_mode 0: the cookie alone decides).
udp_sink sink "$SINK" || not_ok "socat sink on udp $SINK" "socat did not bind"
if start_uas forged-uas uas_call.xml -m 1; then
	sipp_start forged-uac dlg_uac_call.xml "${UAC[@]}" -p $((C + 3)) -m 1 -s forged \
		-key from_user carol -cid_str "dlgforged-%u-%p@%s" -d 5000
	uac_pid=$SIPP_PID
	CID="dlgforged-1-$uac_pid@127.0.0.1"
	wait_for 5 dlg_state_is "$CID" 4
	d=$(dlg_by_callid "$CID")
	if [ -z "$d" ]; then
		not_ok "forged BYEs: the call is up (state 4) before they are sent" \
			"$(dlg_diag)" "$(sipp_diag forged-uac forged-uas)"
	else
		ftag=$(json_get "$d" '.caller.tag') ttag=$(json_get "$d" '.callee.tag')
		he=$(json_get "$d" '.h_entry') hi=$(json_get "$d" '.h_id')
		cookie=$(grep -m1 -i '^Record-Route:' "$E2E_TMP/forged-uac.msg" | tr -d '\r' |
			sed -n 's/.*;did=\([0-9a-f]*\.[0-9a-f]*\).*/\1/p')
		[ -n "$cookie" ] || cookie="$(rev_hex "$he").$(rev_hex "$hi")"
		bad_cookie="$(rev_hex "$he").$(rev_hex $((hi + 4099)))"
		# forged_bye N FROMTAG TOTAG DID : write and send one.
		forged_bye() {
			cat >"$E2E_TMP/forged$1.txt" <<-EOF
			BYE sip:callee@127.0.0.1:$SINK;transport=UDP SIP/2.0
			Via: SIP/2.0/UDP 127.0.0.1:$SINK;branch=z9hG4bK-forged-$1-$$
			Route: <sip:127.0.0.1:$P;lr;did=$4>
			From: "e2e carol" <sip:carol@127.0.0.1:$((C + 3))>;tag=$2
			To: <sip:forged@127.0.0.1:$P>;tag=$3
			Call-ID: $CID
			CSeq: $((10 + $1)) BYE
			Max-Forwards: 70
			Content-Length: 0

			EOF
			udp_send_sip "$E2E_TMP/forged$1.txt" 127.0.0.1 "$P"
		}
		forged_bye 1 "forged-$ftag" "$ttag" "$cookie"
		forged_bye 2 "$ftag" "forged-$ttag" "$cookie"
		forged_bye 3 "$ftag" "$ttag" "$bad_cookie"
		sleep 1
		s=$(dlg_state_of "$CID")
		g=$(dlg_ctl rpc dlg.get "\"$CID\"" "\"$ftag\"" "\"$ttag\"" 2>&1)
		if [ "$s" = 4 ] && [ "$(json_get "$g" '.state' 2>/dev/null)" = 4 ] &&
			dlg_stat_is active_dialogs 1; then
			ok "BYEs with a wrong From tag, a wrong To tag, a cookie naming no dialog: the dialog stays in state 4"
		else
			not_ok "BYEs with a wrong From tag, a wrong To tag, a cookie naming no dialog: the dialog stays in state 4" \
				"state after the forged BYEs: '$s' (dlg.get: $(json_get "$g" '.state' 2>/dev/null || echo "$g"))" \
				"real cookie $cookie, forged cookie $bad_cookie, tags $ftag / $ttag" \
				"$(dlg_diag)" "--- what reached the sink:" \
				"$(tr -d '\r' <"$E2E_TMP/sink.log" 2>/dev/null | grep -E '^(SIP/2.0|BYE) ')"
		fi
		# Not vacuous: the proxy did handle each one, forwarding it by its
		# Route set to the sink or answering it there (Via), as it chose.
		seen=""
		for n in 11 12 13; do
			grep -q "^CSeq: $n BYE" <(tr -d '\r' <"$E2E_TMP/sink.log" 2>/dev/null) && seen="$seen $n"
		done
		check_eq "the proxy handled each forged BYE (forwarded to or answered at the sink: CSeq 11 12 13)" \
			" 11 12 13" "$seen"
		check_eq "the callee got no BYE from the forged ones" "0" "$(sipp_received forged-uas BYE)"
	fi
	sipp_wait "$uac_pid" 20; uac_rc=$?
	sipp_wait "$UAS_PID" 5; uas_rc=$?
	sipp_call_check "forged BYEs: the call itself goes on and ends with the real BYE" \
		forged-uac "$uac_rc" forged-uas "$uas_rc" 1
	if wait_for 5 dlg_stat_is active_dialogs 0 && wait_for 2 dlg_ended "$CID"; then
		ok "the real BYE ends the dialog (active_dialogs 0, state 5 or gone)"
	else
		not_ok "the real BYE ends the dialog (active_dialogs 0, state 5 or gone)" \
			"state: '$(dlg_state_of "$CID")'" "$(dlg_diag)"
	fi
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
