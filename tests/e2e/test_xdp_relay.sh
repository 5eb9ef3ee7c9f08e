#!/bin/bash
# Kernel relay (xdp.relay), end to end in three namespaces (lib_netns3.sh):
# a sipp caller and a sipp callee with sipdlgd in the box between them,
# XDP native on the box's veths.  Each call carries INFO, OPTIONS and
# UPDATE from the caller, INFO and NOTIFY from the callee, a re-INVITE and
# a BYE (relay_uac.xml / relay_uas.xml); sipp checks every request and
# reply.  With the relay on:
#  - the controller's sip.rcv_requests moves only for INVITE, the
#    re-INVITE, its ACK and the BYE; relay_req / relay_reply count the
#    rest, and sip.fwd_requests / relayed_requests include them;
#  - xdp.relay.ack: the ACK of the 2xx is relayed by the kernel (captured
#    at the callee: our Via, no Route, Max-Forwards 69), the dialog is
#    confirmed from the kernel's event (xdp.acks_confirmed, state 4 in
#    sipdlgctl list within a bounded wait), basic calls whose BYE follows
#    the ACK at once all end cleanly, and ack: false leaves the ACK to
#    the controller;
#  - the relayed INFO captured in the callee namespace: our Via on top
#    (z9hG4bKsd branch) over the caller's, no Route left, Max-Forwards 69,
#    Content-Length unchanged, checksums correct (tcpdump -vv);
#  - relay_hops holds the dialog while it is confirmed, not after the BYE;
#  - IPv6, and a caller whose Via sent-by is not its address (NAT).
# With the relay off the same calls go through the controller (today's
# behaviour) and relay_hops stays empty.  The relay-on checks that need
# the kernel rewrite are skipped while bpf/ does not relay yet.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_netns3.sh"
e2e_init
[ -n "${RELAY_KEEP:-}" ] && trap "cp -r \"\$E2E_TMP\" \"$RELAY_KEEP\"; e2e_cleanup" EXIT
need_sipp

# The kernel half (bpf/) relays once it counts SDR_RELAY_REQ.
KERNEL_RELAY=0
grep -qs 'SDR_RELAY_REQ' "$E2E_ROOT"/bpf/*.c "$E2E_ROOT"/bpf/*.h && KERNEL_RELAY=1

netns3_setup || e2e_finish

CPORT=5062 UPORT=5061
SOCK="$E2E_TMP/ctl.sock"
DLG_SOCK=$SOCK
new_pin_path PIN relay
CFG="$E2E_TMP/relay-on.yaml"
netns3_config "$CFG" "$SOCK" "$PIN" true "$CPORT"
if ! start_daemon box "$CFG" "$N3_BOX"; then
	not_ok "sipdlgd starts in the box with the relay on"
	e2e_finish
fi
PROXY_LOG="$E2E_TMP/box.log"
status=$(dlg_ctl xdp)
check_eq "both box veths attached natively" "native native" \
	"$(json_get "$status" '[.interfaces[].mode] | join(" ")')"
check_eq "xdp.status: relay on for the default methods" \
	"true OPTIONS,INFO,UPDATE,NOTIFY,MESSAGE" \
	"$(json_get "$status" '"\(.relay.enabled) \(.relay.methods | join(","))"')"
check_eq "xdp.status: the ACK of the 2xx relayed too (relay.ack default)" true \
	"$(json_get "$status" '.relay.ack')"

# n3_sipp NAME NS SCENARIO ARGS... : sipp_start inside namespace NS.
n3_sipp() {
	local name=$1 ns=$2 sf=$3
	shift 3
	rm -f "$E2E_TMP/$name".*
	( cd "$E2E_TMP" && exec nsenter --net="/run/netns/$ns" sipp -sf "$SIPP_SCENARIOS/$sf" -nostdin \
		-trace_err -error_file "$E2E_TMP/$name.err" \
		-trace_msg -message_file "$E2E_TMP/$name.msg" \
		-trace_stat -stf "$E2E_TMP/$name.csv" \
		-timeout 20s -timeout_error "$@" ) >"$E2E_TMP/$name.out" 2>&1 </dev/null &
	SIPP_PID=$!
	E2E_PIDS+=("$SIPP_PID")
}

stat_of() { dlg_ctl stats sip 2>/dev/null | jq -r --arg k "sip.$1" '.[$k] // 0'; }
xstat() { dlg_ctl stats xdp 2>/dev/null | jq -r --arg k "xdp.$1" '.[$k] // 0'; }
counter() { json_get "$(dlg_ctl xdp)" ".counters.$1.packets // 0"; }
hops_count() { bpftool map dump pinned "$PIN/relay_hops" 2>/dev/null | jq 'length' 2>/dev/null || echo 0; }

# one_call NAME FAMILY(4|6) VIAHOST [HOLD_MS] : one call, caller -> box ->
# callee, with tcpdump on the callee's veth.  Sets UAC_RC UAS_RC and CAP
# (pcap).  With HOLD_MS the call pauses that long once confirmed and
# one_call returns at once (UAC_PID UAS_PID TCPDUMP_PID set).
one_call() {
	local name=$1 fam=$2 via=$3 hold=${4:-} cip bip eip user tpid
	if [ "$fam" = 6 ]; then
		cip=$N3_C6 bip="[$N3_BOX6]" eip=$N3_E6 user=callee6
	else
		cip=$N3_C4 bip=$N3_BOX4 eip=$N3_E4 user=callee
	fi
	CAP="$E2E_TMP/$name.pcap"
	( exec nsenter --net="/run/netns/$N3_CALLEE" tcpdump -i "$N3_VE" -U -s 0 -w "$CAP" udp ) \
		>"$E2E_TMP/$name.tcpdump" 2>&1 &
	tpid=$!
	E2E_PIDS+=("$tpid")
	wait_for 10 grep -q "listening on" "$E2E_TMP/$name.tcpdump"
	n3_sipp "$name-uas" "$N3_CALLEE" relay_uas.xml -i "$eip" -p "$CPORT" -m 1
	local uas=$SIPP_PID
	wait_for 5 in_ns "$N3_CALLEE" ss -Hlnu "sport = :$CPORT"
	n3_sipp "$name-uac" "$N3_CALLER" relay_uac.xml "$bip:5060" -s "$user" \
		-i "$cip" -p "$UPORT" -m 1 -key viahost "$via" -d "${hold:-0}"
	local uac=$SIPP_PID
	if [ -n "$hold" ]; then
		UAC_PID=$uac UAS_PID=$uas TCPDUMP_PID=$tpid
		return 0
	fi
	sipp_wait "$uac" 25; UAC_RC=$?
	sipp_wait "$uas" 5; UAS_RC=$?
	sleep 1
	kill -INT "$tpid" 2>/dev/null; wait "$tpid" 2>/dev/null; forget_pid "$tpid"
}

# The first request of METHOD (default INFO: the one with the DTMF body)
# that reached the callee, as tcpdump -vv prints it (IP/UDP lines and the
# SIP text).
captured_info() {
	tcpdump -r "$CAP" -vv -A -n 2>/dev/null | tr -d '\r' | awk -v m="${1:-INFO} sip:" '
		/^[0-9][0-9]:[0-9][0-9]:/ { if (keep) exit; blk = $0 "\n"; next }
		{ blk = blk $0 "\n" }
		index($0, m) { keep = 1 }
		END { if (keep) printf "%s", blk }'
}

# The ACK of the 2xx as the kernel relayed it to the callee.
check_relayed_ack() {
	local tag=$1 ack
	ack=$(captured_info ACK)
	if [ -z "$ack" ]; then
		not_ok "$tag: the ACK was captured in the callee namespace"
		return
	fi
	check_eq "$tag: the ACK has two Vias (ours on top, the caller's)" 2 \
		"$(printf '%s\n' "$ack" | grep -c '^Via:')"
	check_contains "$tag: our Via on the ACK, a kernel branch (k after the direction)" \
		"Via: SIP/2.0/UDP $2;branch=z9hG4bKsd" "$(printf '%s\n' "$ack" | grep -m1 '^Via:')"
	check_contains "$tag: ... z9hG4bKsd<he>.<hi>.0k" ".0k" "$(printf '%s\n' "$ack" | grep -m1 '^Via:')"
	check_eq "$tag: no Route left on the ACK" 0 "$(printf '%s\n' "$ack" | grep -c '^Route:')"
	check_eq "$tag: the ACK's Max-Forwards decremented" "Max-Forwards: 69" \
		"$(printf '%s\n' "$ack" | grep -m1 '^Max-Forwards:')"
	check_eq "$tag: no bad checksum on the ACK (tcpdump -vv)" 0 \
		"$(printf '%s\n' "$ack" | grep -ci 'bad .*cksum\|incorrect')"
}

check_relayed_info() {
	local tag=$1 info vias
	info=$(captured_info)
	if [ -z "$info" ]; then
		not_ok "$tag: the INFO was captured in the callee namespace"
		return
	fi
	vias=$(printf '%s\n' "$info" | grep -c '^Via:')
	check_eq "$tag: INFO has two Vias (ours on top, the caller's)" 2 "$vias"
	check_contains "$tag: our Via is on top with a z9hG4bKsd branch" \
		"Via: SIP/2.0/UDP $4;branch=z9hG4bKsd" "$(printf '%s\n' "$info" | grep -m1 '^Via:')"
	check_eq "$tag: our Route entry was removed (none left)" 0 \
		"$(printf '%s\n' "$info" | grep -c '^Route:')"
	check_eq "$tag: Max-Forwards decremented" "Max-Forwards: 69" \
		"$(printf '%s\n' "$info" | grep -m1 '^Max-Forwards:')"
	# sipp pads [len]: "Content-Length:    24", kept byte for byte
	check_eq "$tag: Content-Length unchanged (the 24-byte body)" "Content-Length:    24" \
		"$(printf '%s\n' "$info" | grep -m1 '^Content-Length:')"
	if [ "$2" = kernel ]; then
		check_eq "$tag: no bad checksum (tcpdump -vv)" 0 \
			"$(printf '%s\n' "$info" | grep -ci 'bad .*cksum\|incorrect')"
	fi
	if [ -n "$3" ]; then
		check_contains "$tag: the caller's Via got received= (sent-by is not its address)" \
			"received=$3" "$(printf '%s\n' "$info" | grep '^Via:' | sed -n 2p)"
	fi
}

# --- relay on, IPv4 -----------------------------------------------------------
rcv0=$(stat_of rcv_requests) req0=$(counter relay_req) rep0=$(counter relay_reply)
shp0=$(counter relay_pass_shape) frep0=$(stat_of fwd_replies) ack0=$(xstat acks_confirmed)
one_call v4 4 "$N3_C4"
sipp_call_check "relay on, IPv4: the call with INFO/OPTIONS/UPDATE/INFO/NOTIFY, re-INVITE and BYE passes" \
	v4-uac "$UAC_RC" v4-uas "$UAS_RC" 1
rcv1=$(stat_of rcv_requests) req1=$(counter relay_req) rep1=$(counter relay_reply)
shp1=$(counter relay_pass_shape)
echo "# kernel relay counters after the IPv4 call: $(json_get "$(dlg_ctl xdp)" \
	'[.counters | to_entries[] | select(.key | startswith("relay")) | "\(.key)=\(.value.packets)"] | join(" ")')"
if [ "$KERNEL_RELAY" = 1 ]; then
	check_eq "relay on: the controller received only INVITE, re-INVITE, its ACK, BYE" 4 $((rcv1 - rcv0))
	check_eq "relay on: the kernel relayed the ACK of the 2xx and the 6 in-dialog requests" 7 $((req1 - req0))
	# sipp's [last_Via:] writes both Vias of a reply on one line
	# ("Via: ours, the caller's"): the kernel removes our via-parm and
	# relays it too, none is passed up for its shape.  (An ACK has none.)
	check_eq "relay on: each reply to a relayed request relayed by the kernel (sipp's one-line Vias)" \
		$((req1 - req0 - 1)) $((rep1 - rep0))
	check_eq "relay.ack: the dialog was confirmed from the kernel's event" 1 \
		$(( $(xstat acks_confirmed) - ack0 ))
	check_relayed_ack "relay.ack, IPv4" "$N3_BOX4:5060"
	check_eq "relay on: no reply passed up for its shape" 0 $((shp1 - shp0))
	echo "# the callee's first 200 to an INFO, its Via as sipp writes it:"
	tcpdump -r "$CAP" -A -n 2>/dev/null | tr -d '\r' | grep -A1 'SIP/2.0 200' | grep 'Via:' | sed -n 2p | sed 's/^/#   /'
	check_eq "sip.relayed_requests counts them" "$((req1 - req0))" "$(stat_of relayed_requests)"
	check_relayed_info "relay on, IPv4" kernel "" "$N3_BOX4:5060"
else
	skip "relay on: the controller received only the lifecycle requests" "the kernel rewrite (bpf/) is not in this tree yet"
	check_eq "without the kernel rewrite every request reaches the controller" 11 $((rcv1 - rcv0))
	check_relayed_info "relay on (controller path), IPv4" controller "" "$N3_BOX4:5060"
fi
# (a deletion after a BYE the kernel saw waits for the next batch of
# deletions, at most FP_RELAY_DQ_MS)
wait_until 2 '[ "$(hops_count)" = 0 ]'
check_eq "relay_hops is empty after the BYE" 0 "$(hops_count)"

# The dialog's next hops while it is confirmed: a call held at its
# middle would be needed; read the log line of the write instead.
check "relay_hops was written for the confirmed dialog" \
	test "$(json_get "$(dlg_ctl xdp)" '.relay.hops_written')" -ge 1
check "and removed when the BYE ended it" \
	test "$(json_get "$(dlg_ctl xdp)" '.relay.hops_removed')" -ge 1

# --- a held call: its next hops, then sipdlgctl end ----------------------------
one_call held 4 "$N3_C4" 30000
wait_until 5 '[ "$(hops_count)" = 1 ]'
check_eq "a confirmed call has its relay_hops entry" 1 "$(hops_count)"
# The held call's dialog: the previous call's may still be listed for a
# moment after its BYE (state 5), so pick the confirmed one, once its
# listing has the relay.
wait_until 10 '[ "$(dlg_ctl list 2>/dev/null | jq "[.[] | select(.state >= 3 and .state <= 4 and .xdp.relay != null)] | length")" = 1 ]'
dlg=$(dlg_ctl list 2>/dev/null | jq -c '[.[] | select(.state >= 3 and .state <= 4)][0]')
# The ACK went through the kernel: its event confirms the dialog (the
# ring buffer is drained every 50 ms at most, and by a statistics read).
if [ "$KERNEL_RELAY" = 1 ]; then
	wait_until 2 '[ "$(dlg_ctl list 2>/dev/null | jq "[.[] | select(.state == 4)] | length")" = 1 ]'
	check_eq "relay.ack: sipdlgctl list shows the held dialog confirmed (state 4)" 1 \
		"$(dlg_ctl list 2>/dev/null | jq '[.[] | select(.state == 4)] | length')"
fi
check_eq "the dialog listing shows where the kernel relays each way" \
	"$N3_E4:$CPORT $N3_C4:$UPORT" \
	"$(json_get "$dlg" '"\(.xdp.relay.caller_to_callee) \(.xdp.relay.callee_to_caller)"')"
hop=$(bpftool map dump pinned "$PIN/relay_hops" 2>/dev/null | jq -c '.[0].value.dir[0]')
echo "# relay_hops dir[0]: $hop"
check_eq "relay_hops: family, one Route entry of ours, our ports" "4 1 5060 $CPORT" \
	"$(json_get "$hop" '"\(.family) \(.nroutes) \(.sport) \(.dport)"')"
check_eq "relay_hops: the egress is the callee-side veth" \
	"$(ip -n "$N3_BOX" -j link show dev "$N3_VBE" | jq '.[0].ifindex')" "$(json_get "$hop" '.ifindex')"
check_eq "relay_hops: our Via sent-by" "$N3_BOX4:5060" \
	"$(json_get "$hop" '.sentby[:.sentby_len]')"
out=$("$SIPDLGCTL" --socket "$SOCK" xdp)
check_contains "sipdlgctl xdp shows the relay" "1 dialogs with next hops" "$out"
he=$(json_get "$dlg" '.h_entry') hi=$(json_get "$dlg" '.h_id')
# A retransmission: the same INFO twice (one datagram each, from one
# socket, so that the relayed copies are byte for byte the same and the
# held UAS answers the second as a retransmission instead of aborting the
# call: an aborted call leaves the end's BYE unanswered, retransmitted
# into the next call's UAS on the same port).  The kernel relays both
# with the same branch (computed from the incoming one); the controller
# forwards the first and absorbs the second in its transaction.
printf '%s\r\n' "INFO sip:callee@$N3_E4:$CPORT;transport=UDP SIP/2.0" \
	"Via: SIP/2.0/UDP $N3_C4:5097;rport;branch=z9hG4bK-retx-$$" \
	"Route: <sip:$N3_BOX4:5060;lr;did=$(rev_hex "$he").$(rev_hex "$hi")>" \
	"Max-Forwards: 70" "From: <sip:caller@$N3_C4>;tag=$(json_get "$dlg" '.caller.tag')" \
	"To: <sip:callee@$N3_BOX4>;tag=$(json_get "$dlg" '.callee.tag')" \
	"Call-ID: $(json_get "$dlg" '."call-id"')" "CSeq: 77 INFO" "Content-Length: 0" "" \
	>"$E2E_TMP/retx.sip"
in_ns "$N3_CALLER" bash -c 'exec 3>"/dev/udp/$2/5060" && cat "$1" >&3 && sleep 0.3 &&
	cat "$1" >&3' _ "$E2E_TMP/retx.sip" "$N3_BOX4"
sleep 0.3
sleep 0.7
kill -INT "$TCPDUMP_PID" 2>/dev/null; wait "$TCPDUMP_PID" 2>/dev/null; forget_pid "$TCPDUMP_PID"
# The copies of the INFO (requests, not the 200s) and their top branches.
tcpdump -r "$CAP" -A -n 2>/dev/null | tr -d '\r' | awk '
	/INFO sip:/ { req = 1; b = "" }
	/^SIP\/2.0 / { req = 0 }
	req && b == "" && match($0, /branch=z9hG4bKsd[^;, ]*/) { b = substr($0, RSTART, RLENGTH) }
	req && /CSeq: 77 INFO/ { print b; req = 0 }' >"$E2E_TMP/retx.branches"
retx=$(wc -l <"$E2E_TMP/retx.branches")
branches=$(sort -u "$E2E_TMP/retx.branches" | wc -l)
# (The controller may retransmit on its own timer while the held callee
# does not answer: copies are counted, not compared with 2.)
if [ "$KERNEL_RELAY" = 1 ]; then
	check_eq "a retransmitted INFO is relayed again, with the same branch" "true 1" \
		"$([ "$retx" -ge 2 ] && echo true || echo "false($retx)") $branches"
else
	check_eq "a retransmitted INFO: forwarded, every copy with one branch" "true 1" \
		"$([ "$retx" -ge 1 ] && echo true || echo false) $branches"
fi
dlg_ctl end "$he" "$hi" >/dev/null 2>&1
check_eq "sipdlgctl end removes the entry at once" 0 "$(hops_count)"
# Both ends answer the BYE of the end before they go: an unanswered BYE is
# retransmitted and would reach the next call's UAS (same port), which
# then gives up that call.
wait_for 5 grep -q "^BYE " "$E2E_TMP/held-uas.msg"
wait_for 5 grep -q "^BYE " "$E2E_TMP/held-uac.msg"
sleep 0.3
for p in "$UAC_PID" "$UAS_PID"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; forget_pid "$p"; done

# --- a held call and kill -9: the stale entry goes at the next start -----------
one_call killed 4 "$N3_C4" 30000
wait_until 15 '[ "$(hops_count)" = 1 ]'
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; forget_pid "$DAEMON_PID"
for p in "$UAC_PID" "$UAS_PID"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; forget_pid "$p"; done
kill -INT "$TCPDUMP_PID" 2>/dev/null; wait "$TCPDUMP_PID" 2>/dev/null; forget_pid "$TCPDUMP_PID"
check_eq "after kill -9 the entry is still pinned" 1 "$(hops_count)"
if ! start_daemon box1 "$CFG" "$N3_BOX"; then
	not_ok "sipdlgd restarts after kill -9"
	e2e_finish
fi
PROXY_LOG="$E2E_TMP/box1.log"
check_eq "the restart removed the stale relay_hops entry (no such dialog)" 0 "$(hops_count)"

# --- relay on, caller behind a NAT (Via sent-by is another address) -------------
one_call nat 4 192.0.2.77
sipp_call_check "relay on, caller's Via sent-by 192.0.2.77 (NAT): the call passes" \
	nat-uac "$UAC_RC" nat-uas "$UAS_RC" 1
check_relayed_info "NAT" "$([ "$KERNEL_RELAY" = 1 ] && echo kernel || echo controller)" \
	"$N3_C4" "$N3_BOX4:5060"

# --- relay on, IPv6 ------------------------------------------------------------
req0=$(counter relay_req)
one_call v6 6 "[$N3_C6]"
sipp_call_check "relay on, IPv6: the call passes" v6-uac "$UAC_RC" v6-uas "$UAS_RC" 1
if [ "$KERNEL_RELAY" = 1 ]; then
	check_eq "relay on, IPv6: the kernel relayed the ACK and the 6 in-dialog requests" 7 $(( $(counter relay_req) - req0 ))
	check_relayed_info "relay on, IPv6" kernel "" "[$N3_BOX6]:5060"
else
	skip "relay on, IPv6: relayed by the kernel" "the kernel rewrite (bpf/) is not in this tree yet"
fi

# --- a reply with our Via on top and no transaction (what the kernel passes
# up when it cannot relay the reply to a request it relayed): forwarded
# statelessly to the next Via, ours removed (RFC 3261 16.7 item 3, 16.11).
( exec nsenter --net="/run/netns/$N3_CALLER" socat -u "UDP-RECV:5098,bind=$N3_C4" \
	"OPEN:$E2E_TMP/stray.out,creat,append" ) >/dev/null 2>&1 </dev/null &
E2E_PIDS+=("$!")
wait_for 5 in_ns "$N3_CALLER" ss -Hlnu "sport = :5098"
printf '%s\r\n' "SIP/2.0 200 OK" \
	"Via: SIP/2.0/UDP $N3_BOX4:5060;branch=z9hG4bKsd1.1.0k0123456789abcdef" \
	"Via: SIP/2.0/UDP $N3_C4:5098;branch=z9hG4bK-stray" \
	"From: <sip:a@x>;tag=1" "To: <sip:b@y>;tag=2" "Call-ID: stray-$$" \
	"CSeq: 9 INFO" "Content-Length: 0" "" >"$E2E_TMP/stray.sip"
fwd0=$(stat_of fwd_replies)
in_ns "$N3_CALLEE" bash -c 'cat "$1" >"/dev/udp/$2/5060"' _ "$E2E_TMP/stray.sip" "$N3_BOX4"
wait_for 5 grep -q "SIP/2.0 200 OK" "$E2E_TMP/stray.out"
check_contains "a reply to a kernel-relayed request reaches the next Via" \
	"branch=z9hG4bK-stray" "$(tr -d '\r' <"$E2E_TMP/stray.out" 2>/dev/null)"
check_eq "with our Via removed" 0 "$(grep -c 'z9hG4bKsd1.1.0k' "$E2E_TMP/stray.out" 2>/dev/null)"
check_eq "counted in sip.fwd_replies" $((fwd0 + 1)) "$(stat_of fwd_replies)"

# --- relay.ack: basic calls whose BYE follows the ACK at once -----------------
# (tools/bench/sipp/uac.xml): the BYE may reach the controller before the
# kernel's event for the ACK is drained; the dialog then ends from state
# 3 and the late event is ignored.  Every call passes and ends; each ACK
# went one way only (kernel or controller).
if [ "$KERNEL_RELAY" = 1 ]; then
	N=40
	rcv0=$(stat_of rcv_requests) req0=$(counter relay_req)
	ack0=$(xstat acks_confirmed) late0=$(xstat acks_late)
	( cd "$E2E_TMP" && exec nsenter --net="/run/netns/$N3_CALLEE" sipp -sf "$E2E_ROOT/tools/bench/sipp/uas.xml" \
		-nostdin -i "$N3_E4" -p "$CPORT" -trace_err -error_file "$E2E_TMP/burst-uas.err" ) \
		>"$E2E_TMP/burst-uas.out" 2>&1 </dev/null &
	uas=$!; E2E_PIDS+=("$uas")
	wait_for 5 in_ns "$N3_CALLEE" ss -Hlnu "sport = :$CPORT"
	( cd "$E2E_TMP" && exec nsenter --net="/run/netns/$N3_CALLER" sipp -sf "$E2E_ROOT/tools/bench/sipp/uac.xml" \
		-nostdin "$N3_BOX4:5060" -s callee -i "$N3_C4" -p "$UPORT" -r 40 -m "$N" -timeout 15s \
		-timeout_error -trace_stat -stf "$E2E_TMP/burst-uac.csv" -trace_err \
		-error_file "$E2E_TMP/burst-uac.err" ) >"$E2E_TMP/burst-uac.out" 2>&1 </dev/null &
	uac=$!; E2E_PIDS+=("$uac")
	sipp_wait "$uac" 20; rc=$?
	kill "$uas" 2>/dev/null; wait "$uas" 2>/dev/null; forget_pid "$uas"
	ok_calls=$(tail -1 "$E2E_TMP/burst-uac.csv" 2>/dev/null | awk -F';' '{ print $(NF > 16 ? 16 : NF) }')
	check_eq "relay.ack: $N basic calls, BYE right after the ACK, all pass (sipp rc)" 0 "$rc"
	wait_until 3 '[ "$(dlg_ctl list 2>/dev/null | jq "[.[] | select(.state < 5)] | length")" = 0 ]'
	check_eq "relay.ack: every dialog of them ended (none left in states 1-4)" 0 \
		"$(dlg_ctl list 2>/dev/null | jq '[.[] | select(.state < 5)] | length')"
	wait_until 2 '[ "$(hops_count)" = 0 ]'
	check_eq "relay.ack: relay_hops empty after them" 0 "$(hops_count)"
	kack=$(( $(counter relay_req) - req0 )) cack=$(( $(stat_of rcv_requests) - rcv0 - 2 * N ))
	conf=$(( $(xstat acks_confirmed) - ack0 )) late=$(( $(xstat acks_late) - late0 ))
	echo "# $N calls: ACKs relayed by the kernel $kack, by the controller $cack; events: confirmed $conf, late (BYE first) $late"
	check_eq "relay.ack: each ACK went one way (kernel + controller = $N)" "$N" $((kack + cack))
	check "relay.ack: most ACKs relayed by the kernel (the next hops are written before the 2xx leaves)" \
		test "$kack" -ge $((N / 2))
	check_eq "relay.ack: one event per kernel-relayed ACK, confirmed or late" "$kack" $((conf + late))
fi

stop_daemon "$DAEMON_PID"

# --- relay on, relay.ack false: the ACK goes to the controller as before ------
CFG3="$E2E_TMP/relay-noack.yaml"
netns3_config "$CFG3" "$SOCK" "$PIN" true "$CPORT" false
if ! start_daemon box3 "$CFG3" "$N3_BOX"; then
	not_ok "sipdlgd starts with relay.ack false"
	e2e_finish
fi
PROXY_LOG="$E2E_TMP/box3.log"
check_eq "xdp.status: relay.ack false" "true false" \
	"$(json_get "$(dlg_ctl xdp)" '"\(.relay.enabled) \(.relay.ack)"')"
rcv0=$(stat_of rcv_requests) req0=$(counter relay_req)
one_call noack 4 "$N3_C4"
sipp_call_check "relay.ack false: the call passes" noack-uac "$UAC_RC" noack-uas "$UAS_RC" 1
if [ "$KERNEL_RELAY" = 1 ]; then
	check_eq "relay.ack false: the controller received INVITE, ACK, re-INVITE, ACK, BYE" 5 \
		$(( $(stat_of rcv_requests) - rcv0 ))
	check_eq "relay.ack false: the kernel relayed the 6 in-dialog requests only" 6 \
		$(( $(counter relay_req) - req0 ))
	check_eq "relay.ack false: no dialog confirmed by a kernel event" 0 "$(xstat acks_confirmed)"
fi
stop_daemon "$DAEMON_PID"


# --- relay off: today's behaviour ---------------------------------------------
CFG2="$E2E_TMP/relay-off.yaml"
netns3_config "$CFG2" "$SOCK" "$PIN" false "$CPORT"
if ! start_daemon box2 "$CFG2" "$N3_BOX"; then
	not_ok "sipdlgd starts with the relay off"
	e2e_finish
fi
PROXY_LOG="$E2E_TMP/box2.log"
check_eq "xdp.status: relay off" false "$(json_get "$(dlg_ctl xdp)" '.relay.enabled')"
rcv0=$(stat_of rcv_requests) req0=$(counter relay_req)
one_call off 4 "$N3_C4"
sipp_call_check "relay off: the call passes" off-uac "$UAC_RC" off-uas "$UAS_RC" 1
check_eq "relay off: every request reaches the controller" 11 $(( $(stat_of rcv_requests) - rcv0 ))
check_eq "relay off: the kernel relayed nothing" "$req0" "$(counter relay_req)"
check_eq "relay off: relay_hops stays empty" 0 "$(hops_count)"
check_eq "relay off: nothing written" 0 "$(json_get "$(dlg_ctl xdp)" '.relay.hops_written')"
stop_daemon "$DAEMON_PID"

e2e_finish
