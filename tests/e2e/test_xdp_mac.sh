#!/bin/bash
# The cookie MAC end to end: sipdlgd with XDP on the loopback of a network
# namespace this test makes (xdp.unknown_dialog: drop, xdp.cookie_mac on),
# sipp caller and callee in the same namespace.  Checks that
#   - the key file is created with mode 0600 and `--check` accepts it;
#   - the Record-Route of a new dialog carries ;dm= right after the cookie
#     and the in-dialog requests of the call are matched in the kernel;
#   - guessed cookies of the right form (the real cookie without a MAC or
#     with a wrong one, another dialog's id with a made-up MAC, one without
#     any Call-ID) are dropped in the kernel as dlg_mac_fail_dropped and
#     never reach the proxy;
#   - `sipdlgctl xdp rotate-key` swaps the program on the same link (a
#     burst of forged requests sent meanwhile is dropped to the last one),
#     rewrites the key file (new key, then the old one), the call made
#     before goes on and a new call works under the new key;
#   - after a second rotation the first call's dialog carries
#     SIPDLG_DLGF_NOMAC in the map and still ends normally.
# The first call's requests after a rotation need the kernel side of the
# previous key and of NOMAC (mac_key_prev, mac_prev_enabled; branch kparse).
. "$(dirname "$0")/lib.sh"
e2e_init
need_sipp
command -v jq >/dev/null 2>&1 || { skip "cookie MAC" "jq is not installed"; exit 0; }
command -v bpftool >/dev/null 2>&1 || { skip "cookie MAC" "bpftool is not installed"; exit 0; }
SIPP_TIMEOUT=60

NS="${E2E_ID}mac"
P=5060 U=5080 C1=5070 C2=5072
netns_add "$NS" || { not_ok "create a namespace"; e2e_finish; }

DLG_SOCK="$E2E_TMP/ctl.sock"
mkdir -p "$E2E_TMP/keys"
KEY="$E2E_TMP/keys/mac.key"
new_pin_path PIN mac
CFG="$E2E_TMP/mac.yaml"
cat >"$CFG" <<EOF
listen: ["udp:127.0.0.1:$P"]
xdp:
  interfaces: [lo]
  pin_path: $PIN
  unknown_dialog: drop
  cookie_mac: { key_file: $KEY }
control:
  socket: $DLG_SOCK
log:
  level: debug
routes:
  - match: { method: INVITE, in_dialog: false }
    actions: [ dlg_manage, { forward: "udp:127.0.0.1:$U" } ]
EOF
out=$("$SIPDLGD" -c "$CFG" --check 2>&1); rc=$?
check_eq "--check accepts a key file that does not exist yet" "0" "$rc"
PROXY_LOG="$E2E_TMP/proxy.log"
if ! start_daemon proxy "$CFG" "$NS"; then
	not_ok "sipdlgd starts with XDP on lo and the cookie MAC"
	e2e_finish
fi
ok "sipdlgd starts with XDP on lo and the cookie MAC"
check_eq "the key file is created with mode 600" "600" "$(stat -c %a "$KEY")"
check "it holds one line of 32 hex digits" grep -qxE '[0-9a-f]{32}' "$KEY"
out=$("$SIPDLGD" -c "$CFG" --check 2>&1); rc=$?
check_eq "--check accepts the created key file" "0" "$rc"
KEY1=$(head -n1 "$KEY")

ctl() { "$SIPDLGCTL" --socket "$DLG_SOCK" --json "$@"; }
reason() { json_get "$(ctl xdp)" ".counters.$1.packets // 0"; }
rcv() { json_get "$(ctl stats sip)" '.["sip.rcv_requests"]'; }
dlg_of() { json_get "$(ctl list)" "[.[] | select(.\"call-id\" == \"$1\")][0]"; }
# map_flags H_ID : the flags of the dialog's value in the pinned map.
map_flags() {
	bpftool -j map dump pinned "$PIN/dialogs" 2>/dev/null |
		jq -r --argjson h "$1" '[.[] | .formatted // . | select(.key.h_id == $h)][0].value.flags // empty'
}

sipp_ns() {
	local name=$1 sf=$2
	shift 2
	rm -f "$E2E_TMP/$name".*
	( cd "$E2E_TMP" && exec nsenter --net="/run/netns/$NS" sipp \
		-sf "$SIPP_SCENARIOS/$sf" -nostdin -trace_err \
		-error_file "$E2E_TMP/$name.err" -trace_msg \
		-message_file "$E2E_TMP/$name.msg" -timeout "${SIPP_TIMEOUT}s" \
		-timeout_error "$@" ) >"$E2E_TMP/$name.out" 2>&1 </dev/null &
	SIPP_PID=$!
	E2E_PIDS+=("$SIPP_PID")
}

sipp_ns uas mac_uas_info.xml -i 127.0.0.1 -t u1 -p "$U" -m 2
UAS_PID=$SIPP_PID
sleep 0.5
# Call 1 pauses 20 s between its requests: the first rotation (and its
# burst of forged requests, which must be the only traffic then) happens
# in the first pause, the second rotation in the second one.
sipp_ns uac1 mac_uac_info.xml "127.0.0.1:$P" -i 127.0.0.1 -t u1 -p "$C1" \
	-m 1 -s mac -d 20000 -cid_str "mac1-%u-%p@%s"
UAC1_PID=$SIPP_PID
CID1="mac1-1-$UAC1_PID@127.0.0.1"

info_count() { json_get "$(dlg_of "$1")" '.xdp.methods.INFO // 0'; }
info_is() { [ "$(info_count "$1")" = "$2" ]; }
if ! wait_for 8 info_is "$CID1" 1; then
	not_ok "call 1 is up and its first INFO matched in the kernel" \
		"$(dlg_of "$CID1")" "$(tail -n 20 "$PROXY_LOG")" \
		"$(tail -n 20 "$E2E_TMP/uac1.err" 2>/dev/null)"
	e2e_finish
fi
ok "call 1 is up and its first INFO matched in the kernel"
DLG=$(dlg_of "$CID1")
he=$(json_get "$DLG" .h_entry) hi=$(json_get "$DLG" .h_id)
rr=$(sipp_received_hdr uas INVITE Record-Route)
rh() { printf '%x' "$1" | rev; }
COOKIE="$(rh "$he").$(rh "$hi")"
check_contains "the callee got ;dm= right after the cookie" ";did=$COOKIE;dm=" "$rr"
MAC1=$(printf '%s\n' "$rr" | sed -n 's/.*;dm=\([0-9a-f]*\).*/\1/p')
check_eq "the ACK was matched against the dialog" 1 "$(json_get "$DLG" '.xdp.methods.ACK // 0')"
check_eq "its map value has no NOMAC flag" 0 "$(map_flags "$hi")"

# --- guessed cookies: dropped in the kernel ---------------------------------
ft=$(json_get "$DLG" .caller.tag) tt=$(json_get "$DLG" .callee.tag)
# forge FILE ROUTE-PARAMS [CALLID] : a BYE with the caller's tags.
forge() {
	{
		printf 'BYE sip:callee@127.0.0.1:%s SIP/2.0\r\n' "$U"
		printf 'Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKforged%s\r\n' "$RANDOM"
		printf 'Route: <sip:127.0.0.1:%s;lr;%s>\r\n' "$P" "$2"
		printf 'From: <sip:caller@127.0.0.1>;tag=%s\r\n' "$ft"
		printf 'To: <sip:mac@127.0.0.1>;tag=%s\r\n' "$tt"
		[ -n "${3:-}" ] && printf 'Call-ID: %s\r\n' "$3"
		printf 'CSeq: 99 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n'
	} >"$1"
}
send_ns() { in_ns "$NS" bash -c "cat '$1' >/dev/udp/127.0.0.1/$P" 2>/dev/null; }
wrong=$(printf '%s' "$MAC1" | tr '0123456789abcdef' '123456789abcdef0')
forge "$E2E_TMP/f1.sip" "did=$COOKIE" "$CID1"                       # no MAC
forge "$E2E_TMP/f2.sip" "did=$COOKIE;dm=$wrong" "$CID1"             # wrong MAC
forge "$E2E_TMP/f3.sip" "did=$(rh "$he").$(rh $((hi + 1)));dm=$MAC1" "$CID1" # guessed id
forge "$E2E_TMP/f4.sip" "did=$COOKIE;dm=$wrong"                      # no Call-ID at all
rcv0=$(rcv) mf0=$(reason dlg_mac_fail_dropped) mal0=$(reason sip_malformed)
for f in f1 f2 f3 f4; do send_ns "$E2E_TMP/$f.sip"; done
mf_is() { [ "$(reason dlg_mac_fail_dropped)" = "$1" ]; }
wait_for 3 mf_is $((mf0 + 4))
check_eq "4 guessed cookies (no MAC, wrong MAC, another id, no Call-ID) dropped as dlg_mac_fail_dropped" \
	$((mf0 + 4)) "$(reason dlg_mac_fail_dropped)"
check_eq "the one without a Call-ID was decided without reading it (not sip_malformed)" \
	"$mal0" "$(reason sip_malformed)"
check_eq "none reached the proxy (sip.rcv_requests unchanged)" "$rcv0" "$(rcv)"
check_eq "the dialog is still up" 4 "$(json_get "$(dlg_of "$CID1")" .state)"

# --- rotation 1, with forged traffic during the swap -------------------------
st0=$(ctl xdp)
prog0=$(json_get "$st0" .program.id) link0=$(json_get "$st0" '.interfaces[0].link_id')
rcv0=$(rcv) mf0=$(reason dlg_mac_fail_dropped)
# A sender of forged requests (wrong MAC) that runs from before the swap
# until after it, one process (a shell loop would fork per datagram),
# and writes how many it sent.
BURST_STOP="$E2E_TMP/burst.stop"
in_ns "$NS" perl -MIO::Socket::INET -e '
	my ($file, $port, $stop, $out) = @ARGV;
	open(my $f, "<", $file) or die; local $/; my $m = <$f>;
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
				      Proto => "udp") or die;
	my $n = 0;
	for (1 .. 20000) {
		last if -e $stop;
		$s->send($m); $n++;
		select(undef, undef, undef, 0.002);
	}
	open(my $o, ">", $out) or die; print $o "$n\n";' \
	"$E2E_TMP/f2.sip" "$P" "$BURST_STOP" "$E2E_TMP/burst.count" 2>/dev/null &
BURST_PID=$!
E2E_PIDS+=("$BURST_PID")
sleep 0.3
out=$("$SIPDLGCTL" --socket "$DLG_SOCK" xdp rotate-key 2>&1); rc=$?
check_eq "sipdlgctl xdp rotate-key succeeds" 0 "$rc"
check_contains "and says so" "cookie MAC key rotated: generation 3" "$out"
sleep 0.3
touch "$BURST_STOP"
for _ in $(seq 100); do kill -0 "$BURST_PID" 2>/dev/null || break; sleep 0.1; done
kill "$BURST_PID" 2>/dev/null; wait "$BURST_PID" 2>/dev/null; forget_pid "$BURST_PID"
BURST=$(cat "$E2E_TMP/burst.count" 2>/dev/null || echo 0)
wait_for 3 mf_is $((mf0 + BURST))
check_eq "all $BURST forged requests sent across the swap were dropped" \
	$((mf0 + BURST)) "$(reason dlg_mac_fail_dropped)"
check_eq "none reached the proxy" "$rcv0" "$(rcv)"
echo "# call 1 is $(json_get "$(dlg_of "$CID1")" .duration) s old (its second INFO comes at 20 s)"
# The new program shares the old one's maps, the events ring buffer too:
# its match-failed events still reach the controller.
evs() { json_get "$(ctl stats xdp)" '.["xdp.events_match_failed"] // 0'; }
ev0=$(evs)
sleep 1.1	# a fresh token in the kernel's event budget
send_ns "$E2E_TMP/f2.sip"
ev_more() { [ "$(evs)" -gt "$ev0" ]; }
if wait_for 3 ev_more; then ok "the new program's events reach the controller"
else not_ok "the new program's events reach the controller" "events_match_failed: $ev0 -> $(evs)"; fi
st1=$(ctl xdp)
check_eq "the program was replaced on the same link" \
	"true $link0" "$(json_get "$st1" ".program.id != $prog0") $(json_get "$st1" '.interfaces[0].link_id')"
check_eq "xdp.status: generation 3, the previous key accepted" "3 true" \
	"$(json_get "$st1" '.cookie_mac.generation') $(json_get "$st1" '.cookie_mac.previous_key')"
check_eq "the key file: the new key, then the old one" "2 $KEY1 600" \
	"$(wc -l <"$KEY") $(sed -n 2p "$KEY") $(stat -c %a "$KEY")"
check "the new key differs from the old" test "$(head -n1 "$KEY")" != "$KEY1"

# A new call under the new key.
sipp_ns uac2 mac_uac_info.xml "127.0.0.1:$P" -i 127.0.0.1 -t u1 -p "$C2" \
	-m 1 -s mac -d 300 -cid_str "mac2-%u-%p@%s"
UAC2_PID=$SIPP_PID
CID2="mac2-1-$UAC2_PID@127.0.0.1"
sipp_wait "$UAC2_PID" 15; rc2=$?
check_eq "a new call after the rotation: INVITE, 2 INFO, BYE all answered" 0 "$rc2"
[ "$rc2" -eq 0 ] || not_ok "(call 2 diagnostics)" "$(sipp_diag uac2)" "$(proxy_diag)"
rr2=$(tr -d '\r' <"$E2E_TMP/uac2.msg" | sed -n 's/^Record-Route: *//p' | head -n1)
mac2=$(printf '%s\n' "$rr2" | sed -n 's/.*;dm=\([0-9a-f]*\).*/\1/p')
check "its Record-Route carries a MAC" test -n "$mac2"

# Call 1, made under the old key, goes on (the kernel accepts the previous key).
if wait_for 25 info_is "$CID1" 2; then
	ok "call 1's second INFO (old key, after the rotation) matched in the kernel"
else
	not_ok "call 1's second INFO (old key, after the rotation) matched in the kernel" \
		"needs the kernel to accept mac_key_prev (branch kparse)" \
		"dlg_mac_fail_dropped: $(reason dlg_mac_fail_dropped), dialog: $(dlg_of "$CID1")"
fi

# --- rotation 2: call 1's key is no longer accepted: NOMAC -------------------
out=$("$SIPDLGCTL" --socket "$DLG_SOCK" --json xdp rotate-key 2>&1); rc=$?
check_eq "a second rotation succeeds" "0 4" "$rc $(json_get "$out" .generation 2>/dev/null)"
check_eq "call 1's dialog now carries SIPDLG_DLGF_NOMAC (1) in the map" 1 "$(map_flags "$hi")"
check_eq "the key file holds the last two keys" 2 "$(wc -l <"$KEY")"

# A rotation that cannot rewrite the key file changes nothing.
st2=$(ctl xdp)
mv "$E2E_TMP/keys" "$E2E_TMP/keys.away"
out=$("$SIPDLGCTL" --socket "$DLG_SOCK" xdp rotate-key 2>&1); rc=$?
mv "$E2E_TMP/keys.away" "$E2E_TMP/keys"
check_eq "a rotation whose key file cannot be rewritten fails (exit 1)" 1 "$rc"
check_contains "saying why" "cannot create a temporary file beside it" "$out"
st3=$(ctl xdp)
check_eq "and changes nothing: same program, same key generation" \
	"$(json_get "$st2" '[.program.id, .cookie_mac.generation] | @tsv')" \
	"$(json_get "$st3" '[.program.id, .cookie_mac.generation] | @tsv')"
check_eq "call 1's dialog keeps its NOMAC flag" 1 "$(map_flags "$hi")"

sipp_wait "$UAC1_PID" 30; rc1=$?
sipp_wait "$UAS_PID" 5; rcs=$?
if [ "$rc1" -eq 0 ]; then
	ok "call 1 ends normally after two rotations (BYE tight-matched: NOMAC)"
else
	not_ok "call 1 ends normally after two rotations (BYE tight-matched: NOMAC)" \
		"needs the kernel's mac_key_prev and NOMAC fallback (branch kparse)" \
		"$(sipp_diag uac1)" "$(proxy_diag)"
fi
if [ "$rcs" -eq 0 ]; then
	ok "the callee answered both calls to the end"
else
	not_ok "the callee answered both calls to the end" \
		"exit status $rcs; call 1 needs branch kparse (see above)"
fi
stop_daemon "$DAEMON_PID"
check_eq "the key file stays (mode 600)" "600" "$(stat -c %a "$KEY")"
e2e_finish
