#!/bin/bash
# bench-relay.sh - the kernel relay's benchmark (`make bench-relay`, issue
# #14): in-dialog requests per second through the box, and CPU per 1,000
# of them, in the three-namespace topology of the tests
# (tests/e2e/lib_netns3.sh: caller | box | callee, veth pairs, XDP native
# on the box's veths), for each profile:
#   kamailio-dialog     Kamailio with the dialog module (kamailio-dialog.cfg)
#   sipdlgd-relay-off   sipdlgd, XDP attached, xdp.relay off
#   sipdlgd-relay-on    sipdlgd, xdp.relay on (INFO relayed in the kernel)
# The proxy runs in the box namespace.  sipp sets up BENCH_RELAY_DIALOGS
# calls (relay_hold_uac/uas.xml) and holds them; the callee's Contact is a
# counting sink (tools/bench/relay_sink.c) that answers every request 200;
# the flooder (tools/bench/flood.c -D) sends valid INFO of those dialogs
# from the caller namespace at each rate of the ladder for
# BENCH_RELAY_SECS seconds.  A rate holds when the sink received at least
# 99.9 % of what was sent.  CPU: the proxy's (every process of the box
# namespace, user + system) and the whole machine's busy time (all CPUs,
# the flooder and the sink included: one host plays the three boxes).
#
# Environment: BENCH_RELAY_PROFILES, BENCH_RELAY_DIALOGS (200),
# BENCH_RELAY_SECS (30), BENCH_RELAY_LADDER ("20000 50000 100000 200000").
# Report: tools/bench/results/LATEST-relay.md.  Needs root.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/lib_netns3.sh"
e2e_init
[ -n "${BENCH_RELAY_KEEP:-}" ] && trap "cp -r \"\$E2E_TMP\" \"$BENCH_RELAY_KEEP\"; e2e_cleanup" EXIT

PROFILES=${BENCH_RELAY_PROFILES:-kamailio-dialog sipdlgd-relay-off sipdlgd-relay-on}
DIALOGS=${BENCH_RELAY_DIALOGS:-200}
SECS=${BENCH_RELAY_SECS:-30}
LADDER=${BENCH_RELAY_LADDER:-20000 50000 100000 200000}
FLOOD=$ROOT/build/tools/bench/flood
SINK=$ROOT/build/tools/bench/relay_sink
OUT=$ROOT/tools/bench/results/LATEST-relay.md
SIPP_DIR=$ROOT/tools/bench/sipp
TCK=$(getconf CLK_TCK)
CPORT=5062 SINKPORT=5064 UPORT=5061
N3_LOG_LEVEL=warn

for b in "$FLOOD" "$SINK" "$SIPDLGD"; do
	[ -x "$b" ] || { echo "bench-relay: $b missing (make all bench-relay builds it)"; exit 1; }
done
netns3_setup >/dev/null || { echo "bench-relay: the namespaces could not be made"; exit 1; }
BOXMAC=$(ip -n "$N3_BOX" -j link show dev "$N3_VBC" | jq -r '.[0].address')

# Ticks of CPU used by every process in the box namespace.
proxy_ticks() {
	local t=0 p f
	for p in $(ip netns pids "$N3_BOX" 2>/dev/null); do
		f=$(cut -d' ' -f14-17 "/proc/$p/stat" 2>/dev/null) || continue
		set -- $f
		t=$((t + $1 + $2 + $3 + $4))
	done
	echo "$t"
}
# Busy ticks of the whole machine (all CPUs): total - idle - iowait.
all_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

PID=""
start_profile() {
	local prof=$1 d="$E2E_TMP/$prof"
	mkdir -p "$d"
	case "$prof" in
	sipdlgd-relay-*)
		new_pin_path PIN "$prof"
		netns3_config "$d/sipdlg.yaml" "$d/ctl.sock" "$PIN" \
			"$([ "$prof" = sipdlgd-relay-on ] && echo true || echo false)" "$CPORT"
		start_daemon "$prof" "$d/sipdlg.yaml" "$N3_BOX" >/dev/null || return 1
		PID=$DAEMON_PID
		;;
	kamailio-dialog)
		command -v kamailio >/dev/null || return 2
		( cd "$d" && exec nsenter --net="/run/netns/$N3_BOX" kamailio \
			-f "$ROOT/tools/bench/kamailio/kamailio-dialog.cfg" -DD -E -Y "$d" -w "$d" \
			-m 1024 -M 16 -A "LISTEN_ADDR=$N3_BOX4" -A PROXY_PORT=5060 \
			-A "UAS_URI=\"sip:$N3_E4:$CPORT\"" ) >"$d/kamailio.log" 2>&1 &
		PID=$!
		E2E_PIDS+=("$PID")
		wait_for 10 in_ns "$N3_BOX" ss -Hlnu "sport = :5060" || return 1
		sleep 1
		;;
	*) return 2 ;;
	esac
}

# The dialogs sipp's caller set up: "COOKIE CALL-ID FROM-TAG TO-TAG" from
# the 200s in its message log.
dialogs_of() {
	tr -d '\r' <"$1" | awk '
		function flush() { if (ok && inv && ck != "" && tt != "") print ck, cid, ft, tt
			ok = 0; inv = 0; cid = ""; ft = ""; tt = ""; ck = "" }
		/^-----------/ { flush(); inmsg = 0; next }
		/message received/ { inmsg = 1; next }
		inmsg && /^SIP\/2.0 200/ { ok = 1 }
		inmsg && /^[Cc]all-ID:/ { cid = $2 }
		inmsg && /^[Ff]rom:/ && match($0, /tag=[^;> ]+/) { ft = substr($0, RSTART + 4, RLENGTH - 4) }
		inmsg && /^[Tt]o:/ && match($0, /tag=[^;> ]+/) { tt = substr($0, RSTART + 4, RLENGTH - 4) }
		inmsg && /^[Rr]ecord-[Rr]oute:/ && match($0, /did=[0-9a-fA-F]+\.[0-9a-fA-F]+/) { ck = substr($0, RSTART + 4, RLENGTH - 4) }
		inmsg && /^CSeq: *1 INVITE/ { inv = 1 }
		END { flush() }' | sort -u
}

{
	echo "# Kernel relay: in-dialog INFO through the box (bench-relay.sh)"
	echo
	echo "$(date -u '+%F %T') UTC, $(nproc) CPUs, kernel $(uname -r); $DIALOGS held dialogs, ${SECS} s per rate;"
	echo "three namespaces (caller | box | callee), XDP native on the box's veths."
	echo "\"CPU/1k\": CPU seconds per 1,000 requests (+ their replies): the proxy's; all CPUs (flooder and sink included)."
	echo
	echo "| profile | rate (/s) | sent/s | received | lost | proxy CPU/1k | all CPU/1k | held |"
	echo "|---|---|---|---|---|---|---|---|"
} >"$OUT"

for prof in $PROFILES; do
	start_profile "$prof"; rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "| $prof | - | - | - | - | - | - | not run ($([ $rc = 2 ] && echo unavailable || echo failed to start)) |" >>"$OUT"
		continue
	fi
	hold=$(( (SECS + 8) * $(echo $LADDER | wc -w) * 1000 + 20000 ))
	rm -f "$E2E_TMP/$prof-uac.msg"
	( exec nsenter --net="/run/netns/$N3_CALLEE" sipp -sf "$SIPP_DIR/relay_hold_uas.xml" -nostdin \
		-i "$N3_E4" -p "$CPORT" -m "$DIALOGS" -key sinkport "$SINKPORT" ) >"$E2E_TMP/$prof-uas.out" 2>&1 </dev/null &
	uas=$!; E2E_PIDS+=("$uas")
	wait_for 5 in_ns "$N3_CALLEE" ss -Hlnu "sport = :$CPORT"
	( cd "$E2E_TMP" && exec nsenter --net="/run/netns/$N3_CALLER" sipp -sf "$SIPP_DIR/relay_hold_uac.xml" -nostdin \
		"$N3_BOX4:5060" -s callee -i "$N3_C4" -p "$UPORT" -r 100 -m "$DIALOGS" -d "$hold" \
		-trace_msg -message_file "$E2E_TMP/$prof-uac.msg" ) >"$E2E_TMP/$prof-uac.out" 2>&1 </dev/null &
	uac=$!; E2E_PIDS+=("$uac")
	for _ in $(seq 300); do
		[ "$(dialogs_of "$E2E_TMP/$prof-uac.msg" | wc -l)" -ge "$DIALOGS" ] && break
		sleep 0.1
	done
	dialogs_of "$E2E_TMP/$prof-uac.msg" >"$E2E_TMP/$prof.dialogs"
	n=$(wc -l <"$E2E_TMP/$prof.dialogs")
	if [ "$n" -lt 1 ]; then
		echo "| $prof | - | - | - | - | - | - | no dialog set up |" >>"$OUT"
	fi
	for rate in $LADDER; do
		[ "$n" -ge 1 ] || break
		( exec nsenter --net="/run/netns/$N3_CALLEE" "$SINK" -l "$N3_E4:$SINKPORT" -t $((SECS + 3)) ) \
			>"$E2E_TMP/$prof-$rate.sink" 2>&1 &
		spid=$!; E2E_PIDS+=("$spid")
		sleep 0.5
		p0=$(proxy_ticks) a0=$(all_ticks)
		# Whole frames on the caller's veth (AF_PACKET): one CPU sends
		# several times what a UDP socket can.
		in_ns "$N3_CALLER" "$FLOOD" -d "$N3_BOX4:5060" -a "$N3_C4" -u "$N3_E4:$SINKPORT" \
			-D "$E2E_TMP/$prof.dialogs" -m INFO -r "$rate" -t "$SECS" -b 64 \
			-i "$N3_VC" -M "$BOXMAC" -n 8192 \
			>"$E2E_TMP/$prof-$rate.flood" 2>&1
		p1=$(proxy_ticks) a1=$(all_ticks)
		wait "$spid" 2>/dev/null; forget_pid "$spid"
		sent=$(sed -n 's/^flood: sent \([0-9]*\) in \([0-9.]*\) s.*/\1/p' "$E2E_TMP/$prof-$rate.flood")
		fsecs=$(sed -n 's/^flood: sent [0-9]* in \([0-9.]*\) s.*/\1/p' "$E2E_TMP/$prof-$rate.flood")
		got=$(sed -n 's/^sink: received \([0-9]*\) requests.*/\1/p' "$E2E_TMP/$prof-$rate.sink")
		[ -n "$sent" ] && [ -n "$got" ] && [ "$sent" -gt 0 ] || { echo "| $prof | $rate | ? | ? | ? | | | flood or sink failed |" >>"$OUT"; break; }
		read -r lost pcpu acpu sps held < <(awk -v s="$sent" -v g="$got" -v p=$((p1 - p0)) -v a=$((a1 - a0)) -v tck="$TCK" -v fs="$fsecs" 'BEGIN {
			l = (s - g) / s * 100; if (l < 0) l = 0
			printf "%.3f%% %.4f %.4f %.0f %s\n", l, p / tck / (s / 1000), a / tck / (s / 1000), s / fs, (l < 0.1 ? "yes" : "no") }')
		echo "| $prof | $rate | $sps | $got | $lost | $pcpu | $acpu | $held |" >>"$OUT"
		[ "$held" = yes ] || break
	done
	kill "$uac" "$uas" 2>/dev/null
	wait "$uac" "$uas" 2>/dev/null; forget_pid "$uac"; forget_pid "$uas"
	kill "$PID" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; forget_pid "$PID"
	# Kamailio's children are not ours to wait for: end what the box holds.
	for p in $(ip netns pids "$N3_BOX" 2>/dev/null); do kill "$p" 2>/dev/null; done
	sleep 1
done
cat "$OUT"
