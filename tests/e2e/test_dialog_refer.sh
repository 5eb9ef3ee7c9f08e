#!/bin/bash
# dlg.refer (dlg_refer): the proxy sends REFER to the side named, with
# Kamailio's Referred-By / Refer-To / Contact headers and a CSeq above the
# caller's, and once the REFER is answered a BYE to the same party with
# the next CSeq.  The caller's leg is then ended with sipdlgctl end, which
# BYEs only the side not yet ended.  No XDP.
. "$(dirname "$0")/lib.sh"
e2e_init
need_sipp
command -v jq >/dev/null 2>&1 || { skip "dialog refer" "jq is not installed"; exit 0; }
SIPP_TIMEOUT=25

if ! e2e_port_block BASE 10000 500 20; then
	not_ok "a free block of 20 ports" "no free block found between 10000 and 20000"
	e2e_finish
fi
P=$BASE U=$((BASE + 1)) C=$((BASE + 2))
DLG_SOCK="$E2E_TMP/dlg-ctl.sock"
CFG="$E2E_TMP/dlg.yaml"
cat >"$CFG" <<EOC
listen: ["udp:127.0.0.1:$P"]
xdp: {enabled: false}
dialog: { bridge_controller: "sip:ctl@example.org", bridge_contact: "sip:ctl@127.0.0.1:$P" }
control:
  socket: $DLG_SOCK
log: {level: debug}
routes:
  - match: { method: INVITE, in_dialog: false }
    actions: [ dlg_manage, { forward: "udp:127.0.0.1:$U" } ]
  - match: { method: OPTIONS, ruri_user: bridgeme }
    actions: [ { dlg_bridge: ["sip:alice@127.0.0.1:$((BASE + 4))", "sip:carol@example.org"] },
               { reply: "200 OK" } ]
EOC
check "the config passes sipdlgd --check" "$SIPDLGD" -c "$CFG" --check
PROXY_LOG="$E2E_TMP/proxy.log"
if ! start_daemon proxy "$CFG" || ! wait_for 10 port_bound udp "$P"; then
	not_ok "sipdlgd starts" "$(proxy_diag)"
	e2e_finish
fi

sipp_start refer-uas dlg_uas_refer.xml -i 127.0.0.1 -t u1 -p "$U" -m 1 \
	-default_behaviors "all,-bye"
UAS_PID=$SIPP_PID
wait_for 5 port_bound udp "$U"
sipp_start refer-uac dlg_uac_wait_bye.xml "127.0.0.1:$P" -i 127.0.0.1 -t u1 \
	-p "$C" -m 1 -s referme -key from_user rita -recv_timeout 12000 \
	-default_behaviors "all,-bye" -cid_str "dlgrefer-%u-%p@%s"
UAC_PID=$SIPP_PID
CID="dlgrefer-1-$UAC_PID@127.0.0.1"
if ! wait_for 5 dlg_state_is "$CID" 4; then
	not_ok "the call is up" "$(dlg_diag)" "$(sipp_diag refer-uac refer-uas)"
	e2e_finish
fi
ok "the call is up (state 4)"
DLG=$(dlg_by_callid "$CID")
he=$(json_get "$DLG" '.h_entry') hi=$(json_get "$DLG" '.h_id')
ccseq=$(json_get "$DLG" '.caller.cseq')

out=$("$SIPDLGCTL" --socket "$DLG_SOCK" --json rpc dlg.refer "$he" "$hi" callee \
	"sip:announce@127.0.0.1" 2>&1)
check_eq "rpc dlg.refer H_ENTRY H_ID callee URI answers {}" "{}" "$(echo "$out" | tr -d ' \n')"
sipp_wait "$UAS_PID" 16; uas_rc=$?
check_eq "the callee got the REFER, answered 202, then got a BYE and answered 200" 0 "$uas_rc"
check_eq "the REFER carries Refer-To as given" "sip:announce@127.0.0.1" \
	"$(sipp_received_hdr refer-uas REFER Refer-To)"
check_eq "the REFER carries Referred-By: bridge_controller" "sip:ctl@example.org" \
	"$(sipp_received_hdr refer-uas REFER Referred-By)"
check_contains "the REFER carries Contact: <bridge_contact>" "sip:ctl@127.0.0.1:$P" \
	"$(sipp_received_hdr refer-uas REFER Contact)"
rcseq=$(sipp_received_hdr refer-uas REFER CSeq) bcseq=$(sipp_received_hdr refer-uas BYE CSeq)
check_eq "REFER CSeq = caller's + 1, the BYE's the next one" \
	"$((ccseq + 1)) REFER / $((ccseq + 2)) BYE" "$rcseq / $bcseq"
check_eq "the dialog is still up on the caller's side" 4 "$(dlg_state_of "$CID")"
"$SIPDLGCTL" --socket "$DLG_SOCK" end "$he" "$hi" >/dev/null 2>&1
sipp_wait "$UAC_PID" 16; uac_rc=$?
check_eq "sipdlgctl end then BYEs the caller only, who answers 200" 0 "$uac_rc"
wait_for 5 dlg_stat_is active_dialogs 0
check_eq "no active dialog remains" 0 "$(dlg_stat active_dialogs)"

# --- dlg.bridge_dlg: INVITE (hold SDP) to FROM, then REFER to TO, then BYE ---
B=$((BASE + 3))
sipp_start bridge-uas dlg_uas_refer.xml -i 127.0.0.1 -t u1 -p "$B" -m 1 \
	-default_behaviors "all,-bye"
BR_PID=$SIPP_PID
wait_for 5 port_bound udp "$B"
out=$("$SIPDLGCTL" --socket "$DLG_SOCK" --json rpc dlg.bridge_dlg \
	"sip:alice@127.0.0.1:$B" "sip:bob@example.org" 2>&1)
check_eq "rpc dlg.bridge_dlg FROM TO answers {}" "{}" "$(echo "$out" | tr -d ' \n')"
sipp_wait "$BR_PID" 16; br_rc=$?
check_eq "the called party got INVITE, ACK, REFER (202) and BYE (200)" 0 "$br_rc"
check_eq "the INVITE comes From the bridge_controller" "<sip:ctl@example.org>" \
	"$(sipp_received_hdr bridge-uas INVITE From | sed 's/;tag=.*//')"
check_eq "with the hold SDP" "application/sdp" \
	"$(sipp_received_hdr bridge-uas INVITE Content-Type)"
check_eq "CSeq 10 INVITE / 11 REFER / 12 BYE" "10 INVITE / 11 REFER / 12 BYE" \
	"$(sipp_received_hdr bridge-uas INVITE CSeq) / $(sipp_received_hdr bridge-uas REFER CSeq) / $(sipp_received_hdr bridge-uas BYE CSeq)"
check_eq "the REFER sends the party to TO" "sip:bob@example.org" \
	"$(sipp_received_hdr bridge-uas REFER Refer-To)"
check_eq "a bridge is not a dialog of the table (as in Kamailio)" 0 \
	"$(dlg_stat processed_dialogs | awk '{print $1 - 1}')"

# --- the dlg_bridge rule action ------------------------------------------
B2=$((BASE + 4))
sipp_start bridge2-uas dlg_uas_refer.xml -i 127.0.0.1 -t u1 -p "$B2" -m 1 \
	-default_behaviors "all,-bye"
BR2_PID=$SIPP_PID
wait_for 5 port_bound udp "$B2"
cat >"$E2E_TMP/opt.sip" <<EOM
OPTIONS sip:bridgeme@127.0.0.1:$P SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:$((BASE + 5));branch=z9hG4bK-br2
From: <sip:ops@127.0.0.1>;tag=o1
To: <sip:bridgeme@127.0.0.1>
Call-ID: bridge-rule@127.0.0.1
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

EOM
udp_send_sip "$E2E_TMP/opt.sip" 127.0.0.1 "$P"
sipp_wait "$BR2_PID" 16; br2_rc=$?
check_eq "a rule's dlg_bridge calls FROM and REFERs it to TO" "0 sip:carol@example.org" \
	"$br2_rc $(sipp_received_hdr bridge2-uas REFER Refer-To)"
e2e_finish
