#!/bin/bash
# bench-forged.sh - forged in-dialog requests per second that a proxy
# absorbs while real calls keep going (`make bench-forged`).
#
# For each profile (default: kamailio-forged, then sipdlgd-forged): start it,
# check that 200 calls/s of the basic-call scenario pass (no flood), then
# for each rate of a ladder run the flooder (build/tools/bench/flood:
# BYEs with a Route carrying the proxy's cookie ";did=<hex>.<hex>" for
# dialogs that do not exist, random Call-ID and tags, 4096 distinct
# packets round-robin) at that rate while sipp makes 200 calls/s for
# BENCH_FORGED_STEP_SECS, with a fresh UAS.  A rate is absorbed when the
# real calls held (< 0.1 % failed, sipp at >= 95 % of 200/s) without
# losing messages on the way (sipp retransmitted for < 1 % of them: a
# proxy whose socket overflows loses real requests too).  The ramp
# stops at the first rate that does not hold (then up to 2 bisection
# steps) or when the flooder sends no faster than in the step before (a
# load-generator limit: the figure is then a lower bound, marked ">=").  The figure is the rate
# absorbed: what the flooders really sent less what was lost before the
# proxy (input backlog full, proxy socket full).  The proxy is restarted
# after a failed step.
#
# The flooders send whole frames on AF_PACKET sockets bound to lo with the
# qdisc bypassed (flood -i lo): the same datagrams, without the UDP/IP send
# path.  For that the script runs itself again in a network namespace of its
# own (unshare -n) whose lo takes frames from 127.0.0.1 (route_localnet,
# accept_local); proxy, sipp and flooders all run in it.
#
# sipdlgd-forged drops the forged requests in the XDP program (generic mode
# on lo; its kernel counter dlg_unknown_dropped is read at every step);
# kamailio-forged drops them in its script after loose_route() when
# !is_known_dlg().  Output: results/forged-<time>.md, LATEST-forged.md and
# LATEST-forged.tsv; raw data of the last 5 runs in results/forged-<time>/.
#
# Environment (all optional):
#   BENCH_FORGED_PROFILES   default "kamailio-forged sipdlgd-forged" (first: reference)
#   BENCH_FORGED_BUDGET     seconds for the whole run (default 170)
#   BENCH_DEADLINE          absolute end (epoch seconds), set by `make bench`
#   BENCH_FORGED_CALL_RATE  real calls/s (default 200)
#   BENCH_FORGED_STEP_SECS  length of a step (default 6)
#   BENCH_FORGED_LADDER     forged requests/s (default "10000 20000 40000 80000
#                           160000 320000 640000 1280000")
#   BENCH_FORGED_SEARCH_STEPS  bisection steps after the first failure (default 2)
#   BENCH_FORGED_METHOD     BYE (default) or INFO
#   BENCH_FORGED_FLOODERS   flooder processes sharing the rate (default 2: one
#                           sends ~240,000/s; each paces itself, so at a given
#                           rate two cost the machine what one does)
#   BENCH_FORGED_SEND       packet (default: AF_PACKET frames on lo, in a
#                           namespace of our own) or udp (UDP sockets)
#   BENCH_FORGED_NETNS      1 (default) or 0: with SEND=udp, run on the
#                           machine's own lo
#   BENCH_FORGED_BATCH      datagrams per sendmmsg (default 64)
#   BENCH_DISTURB_PCT       a failed step while other processes used this %
#                           of a CPU besides the flooders runs once more (30)
#   BENCH_FORGED_MAX_RETRANS_PCT  sipp retransmissions per 100 real calls above
#                           which a step is "lossy", not held (default 1)
#   BENCH_NO_BUILD=1        do not run make first
#   and the profile, port and sipp knobs of bench-cps.sh.
set -u

# One brace group: bash parses the whole script before running it.
{
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/bench/lib.sh
. "$BENCH_DIR/lib.sh"

START=$(now)
BUDGET=${BENCH_FORGED_BUDGET:-170}
bench_deadline
PROFILES=${BENCH_FORGED_PROFILES:-kamailio-forged sipdlgd-forged}
CALL_RATE=${BENCH_FORGED_CALL_RATE:-200}
STEP_SECS=${BENCH_FORGED_STEP_SECS:-6}
LADDER=${BENCH_FORGED_LADDER:-10000 20000 40000 80000 160000 320000 640000 1280000}
SEARCH_STEPS=${BENCH_FORGED_SEARCH_STEPS:-2}
METHOD=${BENCH_FORGED_METHOD:-BYE}
FLOOD=${BENCH_FLOOD:-$REPO_DIR/build/tools/bench/flood}
SIPDLGCTL=${BENCH_SIPDLGCTL:-$REPO_DIR/build/sipdlgctl}
SEND=${BENCH_FORGED_SEND:-packet}	# packet: AF_PACKET frames on lo; udp: a UDP socket
NETNS=${BENCH_FORGED_NETNS:-1}		# run in a network namespace of our own
case "$SEND" in
packet) NETNS=1 ;;	# frames from 127.0.0.1 need lo's sysctls: only in our own namespace
udp) ;;
*) echo "BENCH_FORGED_SEND must be packet or udp" >&2; exit 2 ;;
esac
FLOOD_OPTS="-b ${BENCH_FORGED_BATCH:-64}"	# datagrams per sendmmsg
[ "$SEND" = packet ] && FLOOD_OPTS="$FLOOD_OPTS -i lo"
STEP_OVERHEAD=6		# UAS start, flooder tail, settling
DISTURB_PCT=${BENCH_DISTURB_PCT:-30}	# see fstep_once_more
FLOOD_MIN_RATIO=0.95	# the flooder sent >= 95 % of the target, or it is the limit
MAX_RETRANS_PCT=${BENCH_FORGED_MAX_RETRANS_PCT:-1}	# sipp retransmissions per 100 calls, at most
FLOODERS=${BENCH_FORGED_FLOODERS:-2}	# flooder processes sharing the rate

# --- the network namespace -----------------------------------------------------
#
# With NETNS=1 the script runs itself again inside a network namespace of
# its own (unshare -n: anonymous, it goes away with its last process), so
# that lo there can take frames sent from 127.0.0.1 on an AF_PACKET socket
# (route_localnet and accept_local on that lo only: the machine's own lo is
# left alone) and no other traffic of the machine shares its lo.  Out here:
# build, install Kamailio when missing (it needs the network), run the
# inner script, then stop whatever is left in the namespace and remove the
# XDP pins.  The mount namespace is shared, so /sys/fs/bpf and the result
# files are the same inside.
if [ "$NETNS" = 1 ] && [ "${BENCH_FORGED_IN_NETNS:-0}" != 1 ]; then
	[ "$(id -u)" = 0 ] || die "bench-forged needs root (network namespace, XDP, AF_PACKET)"
	command -v unshare >/dev/null 2>&1 || die "unshare is missing (util-linux)"
	command -v ip >/dev/null 2>&1 || die "ip is missing (iproute2)"
	if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
		log "building sipdlgd and the flooder"
		make -C "$REPO_DIR" --no-print-directory all build/tools/bench/flood >/dev/null 2>&1 ||
			log "  make failed (run make all build/tools/bench/flood to see why)"
	fi
	for prof in $PROFILES; do
		# Installs Kamailio when missing; the inner run checks again and reports.
		load_profile "$prof" && { p_prepare || log "  $prof: ${P_UNAVAILABLE:-not available}"; }
	done
	export BENCH_FORGED_IN_NETNS=1 BENCH_NO_BUILD=1 BENCH_DEADLINE=$((DEADLINE + 10))
	export BENCH_XDP_PIN=/sys/fs/bpf/sipdlg-bench-$$
	own_ns=$(readlink /proc/self/ns/net)
	# A session of its own (setsid): a signal to our process group (timeout,
	# make, Ctrl-C) reaches the inner run once, through the trap below, and
	# not a second time in the middle of its cleanup.
	command -v setsid >/dev/null 2>&1 || die "setsid is missing (util-linux)"
	unshare --net -- setsid bash "$0" "$@" &
	child=$!
	trap 'kill -TERM "$child" 2>/dev/null' INT TERM HUP
	child_ns=""
	for ((i = 0; i < 50; i++)); do
		child_ns=$(readlink "/proc/$child/ns/net" 2>/dev/null)
		[ -n "$child_ns" ] && [ "$child_ns" != "$own_ns" ] && break
		child_ns=""
		sleep 0.1
	done
	# Bounded: the inner run keeps its own deadline; past it + 60 s, SIGKILL.
	lim=$((DEADLINE - $(now) + 60))
	for ((i = 0; i < lim; i++)); do
		kill -0 "$child" 2>/dev/null || break
		sleep 1
	done
	kill -0 "$child" 2>/dev/null && { log "inner run still going past its deadline: SIGKILL"; kill -KILL "$child"; }
	wait "$child"
	rc=$?
	if [ -n "$child_ns" ]; then
		# Whatever the inner run left (it was killed?) dies with the namespace.
		left=$(for f in /proc/[0-9]*/ns/net; do
			[ "$(readlink "$f" 2>/dev/null)" = "$child_ns" ] && { f=${f#/proc/}; echo "${f%%/*}"; }
		done)
		# shellcheck disable=SC2086
		[ -z "$left" ] || { log "stopping what the inner run left in its namespace:" $left; kill -KILL $left 2>/dev/null; }
	fi
	rm -rf "$BENCH_XDP_PIN"
	exit "$rc"
fi
if [ "${BENCH_FORGED_IN_NETNS:-0}" = 1 ]; then
	# Never touch the machine's own lo: we must be in a namespace of our own.
	[ "$(readlink /proc/self/ns/net)" != "$(readlink /proc/1/ns/net)" ] ||
		die "BENCH_FORGED_IN_NETNS=1 but this is the machine's network namespace"
	ip link set lo up || die "cannot bring lo up in the namespace"
	if [ "$SEND" = packet ]; then
		# Frames from 127.0.0.1 that come in on lo without a route: accept
		# loopback addresses (route_localnet) and a local source (accept_local).
		if ! { echo 1 >/proc/sys/net/ipv4/conf/lo/route_localnet &&
			echo 1 >/proc/sys/net/ipv4/conf/lo/accept_local; }; then
			die "cannot set route_localnet/accept_local on the namespace's lo"
		fi
	fi
fi

STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$BENCH_DIR/results
TAG=${BENCH_TAG:-forged}
RUN_DIR=$RESULTS/$TAG-$STAMP
REPORT=$RESULTS/$TAG-$STAMP.md
LATEST=$RESULTS/LATEST-$TAG.md
mkdir -p "$RUN_DIR" || exit 2
RUN_LOG=$RUN_DIR/run.log
: >"$RUN_LOG"
: >"$RUN_DIR/steps.tsv"

bench_install_traps
REPORTED=0
on_interrupt() {
	trap - INT TERM HUP
	log "interrupted: stopping everything, writing a partial report"
	bench_cleanup
	[ "$REPORTED" = 1 ] || write_report "interrupted (signal or time limit)"
	exit 130
}
trap on_interrupt INT TERM HUP

declare -A R_MAX R_STATUS R_NOTE R_STEPS R_VERSION R_DESC R_SECS
KAM_FATAL=0

# --- preconditions ------------------------------------------------------------

command -v sipp >/dev/null 2>&1 || die "sipp is missing (apt-get install sip-tester)"
for port in "$PROXY_PORT" "$UAS_PORT" "$UAC_PORT"; do
	if [ -n "$(ss -Huln "sport = :$port" 2>/dev/null)" ]; then
		die "UDP port $port is in use already; set BENCH_PROXY_PORT/BENCH_UAS_PORT/BENCH_UAC_PORT"
	fi
done
load_scenario basic-call
ulimit -n 65536 2>/dev/null || true

log "bench-forged: profiles: $PROFILES; $CALL_RATE calls/s of real calls, forged $METHOD ladder $LADDER; $FLOODERS flooders ($SEND$([ "$NETNS" = 1 ] && echo ", own network namespace")); budget $((DEADLINE - START)) s; raw data in ${RUN_DIR#"$REPO_DIR"/}"

if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
	log "building sipdlgd and the flooder"
	make -C "$REPO_DIR" --no-print-directory all build/tools/bench/flood >"$RUN_DIR/build.log" 2>&1 ||
		log "  make failed (see ${RUN_DIR#"$REPO_DIR"/}/build.log)"
fi
[ -x "$FLOOD" ] || die "$FLOOD is not built (make build/tools/bench/flood)"

BG_LOAD=$(busy_pct 2)
log "other load on the machine: ${BG_LOAD}% of ${NCPU} CPUs busy before the run"

# --- one step -----------------------------------------------------------------

# kernel_dropped: packets the XDP program dropped so far (every counter
# named *_dropped: unknown dialog, wrong tags, bad cookie, MAC), "-" for
# other proxies.
kernel_dropped() {
	case "$P_NAME" in sipdlgd*) ;; *) echo "-"; return ;; esac
	"$SIPDLGCTL" -s "$P_DIR/sipdlgd.sock" -t 2 -j xdp 2>/dev/null |
		jq -r '[.counters | to_entries[] | select(.key | endswith("_dropped")) | .value.packets] | add // 0' 2>/dev/null ||
		echo "-"
}

# backlog_drops: packets the kernel dropped so far because a CPU's input
# backlog was full (/proc/net/softnet_stat, 2nd column, all CPUs): frames
# that lo took but that never reached XDP or a socket.  For the whole
# machine (the file is not per namespace).
backlog_drops() {
	local n=0 _a d _r
	while read -r _a d _r; do n=$((n + 16#$d)); done </proc/net/softnet_stat
	echo "$n"
}

afford() { [ $(($(now) + $1)) -le "$PDEADLINE" ]; }

# restart_proxy: a step that failed leaves the proxy with open transactions
# and a full socket; start it afresh.
NRESTART=0
restart_proxy() {
	p_stop
	wait_port_free "$PROXY_PORT" 10
	NRESTART=$((NRESTART + 1))
	mkdir -p "$RUN_DIR/$P_NAME/proxy-$NRESTART"
	p_start "$RUN_DIR/$P_NAME/proxy-$NRESTART"
}

# fstep TAG FORGED_RATE: the flooder at FORGED_RATE (0: none) while sipp
# makes CALL_RATE calls/s for STEP_SECS.  Sets F_SENT, F_ACH (the rate the
# flooder reached), F_KDROP (dropped by XDP), F_LOST (lost before the
# proxy: input backlog full, proxy socket full), F_ABS (absorbed/s: sent
# minus lost, at the flooder's rate), F_FCPU (the flooders' CPU, % of one
# core, with the kernel's receive work done in their context), F_PCPU
# (proxy CPU % of one core) and run_step's S_*; returns 0 when the real
# calls held.
DIRTY=0
fstep() {
	local tag=$1 rate=$2 d fpid fpids j k0 k1 b0 b1 rc el
	if [ "$DIRTY" = 1 ]; then
		if ! restart_proxy; then
			S_HOLDS=0 S_VERDICT=ERROR S_WHY="proxy did not restart" S_CREATED=0 S_OK=0 S_FAIL=0
			S_PROXYDROPS=0 S_OTHERPCT=0 S_RETR=0 F_PCPU=0 F_ACH=0 F_KDROP="-" S_RATE=$CALL_RATE S_SECS=0 S_ACH=0 S_PTICKS=0
			return 2
		fi
	fi
	settle "$P_PID" 5
	d="$RUN_DIR/$P_NAME/$tag-$rate"
	mkdir -p "$d"
	F_SENT=0 F_ACH=0 F_KDROP="-" F_LOST=0 F_ABS=0 F_FCPU=0
	k0=$(kernel_dropped)
	b0=$(backlog_drops)
	fpids=()
	if [ "$rate" -gt 0 ]; then
		# The flood starts before the UAS and the UAC and ends after them;
		# FLOODERS processes share the rate.
		for ((j = 0; j < FLOODERS; j++)); do
			# shellcheck disable=SC2086
			timeout -k 2 $((STEP_SECS + 20)) "$FLOOD" -d "$BENCH_ADDR:$PROXY_PORT" -r $((rate / FLOODERS)) \
				-t $((STEP_SECS + 3)) -m "$METHOD" -u "$BENCH_ADDR:$UAS_PORT" -S $((j + 1)) \
				$FLOOD_OPTS >"$d/flood-$j.out" 2>&1 &
			fpids+=($!)
			bench_track "$!"
		done
		sleep 0.3
	fi
	run_step "$tag" "$CALL_RATE" "$STEP_SECS"
	rc=$?
	for fpid in "${fpids[@]}"; do
		wait "$fpid"
		bench_untrack "$fpid"
	done
	if [ "${#fpids[@]}" -gt 0 ]; then
		# "flood: sent N in T s = R/s (target X/s), E send errors, cpu C s"
		# shellcheck disable=SC2046
		set -- $(cat "$d"/flood-*.out | awk '/^flood: sent/ { n += $3; r += substr($8, 1, length($8) - 2)
				if ($5 > t) t = $5; c += $(NF - 1) }
			END { printf "%d %d %d\n", n, r, (t > 0 ? 100 * c / t : 0) }')
		F_SENT=${1:-0} F_ACH=${2:-0} F_FCPU=${3:-0}
	fi
	b1=$(backlog_drops)
	# Calls that held only because sipp retransmitted what the proxy
	# lost (its socket full of forged requests) do not count as held.
	if [ "$rc" = 0 ] && [ "$S_RETR" -gt $((S_CREATED * MAX_RETRANS_PCT / 100)) ]; then
		S_HOLDS=0 S_VERDICT=lossy
		S_WHY="$S_RETR sipp retransmissions for $S_CREATED calls (> ${MAX_RETRANS_PCT}%): real messages were lost; proxy socket dropped $S_PROXYDROPS datagrams"
		rc=1
	fi
	k1=$(kernel_dropped)
	if [ "$k0" != "-" ] && [ "$k1" != "-" ]; then F_KDROP=$((k1 - k0)); fi
	if [ "$F_SENT" -gt 0 ]; then
		F_LOST=$((b1 - b0 + S_PROXYDROPS))
		[ "$F_LOST" -le "$F_SENT" ] || F_LOST=$F_SENT
		F_ABS=$((F_ACH * (F_SENT - F_LOST) / F_SENT))
	fi
	el=$((S_SECS > 0 ? S_SECS : 1))
	F_PCPU=$((S_PTICKS * 100 / HZ / el))
	if [ "$rc" = 0 ]; then DIRTY=0; else DIRTY=1; fi
	return "$rc"
}

# frecord TAG TARGET: keep the last step in the tables and the log.
frecord() {
	local line
	line=$(printf '%-6s forged %8s/s (sent %8s/s = %s, absorbed %8s/s, %s lost before the proxy, %s dropped by XDP, flooders %s%% CPU): %s' \
		"$1" "$2" "$F_ACH" "$F_SENT" "$F_ABS" "$F_LOST" "$F_KDROP" "$F_FCPU" "$(step_line)")
	log "  $P_LABEL $line"
	R_STEPS[$P_NAME]+="| $1 | $2 | $F_ACH | $F_SENT | $F_LOST | $F_ABS | $F_KDROP | $S_CREATED | $S_FAIL | $(calc "sprintf(\"%.2f\", 100 * $S_FAIL / ($S_CREATED > 0 ? $S_CREATED : 1))")% | ${F_PCPU}% | ${F_FCPU}% | $S_PROXYDROPS | $S_RETR | $S_OTHERPCT% | $S_VERDICT ${S_WHY:+($S_WHY)} |"$'\n'
	printf 'step\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$P_NAME" "$1" "$2" "$F_ACH" "$F_KDROP" \
		"$S_CREATED" "$S_OK" "$S_FAIL" "$F_PCPU" "$S_PROXYDROPS" "${S_VERDICT%%,*}" "$S_RETR" \
		"$F_SENT" "$F_LOST" "$F_ABS" "$F_FCPU" >>"$RUN_DIR/steps.tsv"
}

# flood_short: the flooder sent clearly less than asked (its own limit).
flood_short() { awk "BEGIN { exit !($F_ACH < $FLOOD_MIN_RATIO * $1) }"; }

# fstep_once_more TAG RATE: fstep; a step that failed while processes
# other than the proxy, sipp and the flooders used >= DISTURB_PCT % of a
# CPU (the machine is shared) is recorded as "disturbed" and run once
# more, time permitting, as bench-cps does.
fstep_once_more() {
	local ext
	fstep "$1" "$2" && return 0
	ext=$((S_OTHERPCT - F_FCPU))
	if [ "$S_VERDICT" = ERROR ] || [ "$ext" -lt "$DISTURB_PCT" ] || ! afford $((STEP_SECS + STEP_OVERHEAD + 5)); then
		return 1
	fi
	S_WHY="${S_WHY:+$S_WHY; }disturbed: other processes used ~${ext}% of a CPU besides the flooders; once more"
	S_VERDICT=disturbed
	frecord "$1" "$2"
	fstep "$1" "$2"
}

# best_step: the step just run is the profile's best so far.
declare -A R_BEST
best_step() {
	local x=""
	[ "$F_KDROP" != "-" ] && x=", $F_KDROP dropped by XDP ($(calc "sprintf(\"%.0f\", $F_KDROP * $F_ACH / ($F_SENT > 0 ? $F_SENT : 1))")/s)"
	R_BEST[$P_NAME]="target $1/s: sent $F_SENT ($F_ACH/s), lost before the proxy $F_LOST$x; CPU: flooders ${F_FCPU}% of a core (with the kernel's receive work), proxy ${F_PCPU}%, sipp $((S_UACPCT + S_UASPCT))%: $(calc "sprintf(\"%.1f\", ($F_FCPU + $F_PCPU) * 10000 / ($F_ABS > 0 ? $F_ABS : 1))") µs of CPU per absorbed request (flooders + proxy, the sending included)"
}

# ramp: the current profile runs; find the highest forged rate it absorbs.
ramp() {
	local r lo=0 lo_ach=0 hi=0 mid i limited="" prev sent_best=0
	DIRTY=0
	fstep base 0
	frecord base 0
	if [ "$S_HOLDS" != 1 ]; then
		R_STATUS[$P_NAME]=nonfunctional
		R_NOTE[$P_NAME]="$CALL_RATE calls/s failed without any flood ($S_VERDICT: $S_WHY; $(first_error "$S_DIR"))"
		return
	fi
	for r in $LADDER; do
		if ! afford $((STEP_SECS + STEP_OVERHEAD + 5)); then
			R_NOTE[$P_NAME]+="ramp stopped at $lo_ach/s: time budget. "
			break
		fi
		if fstep_once_more ramp "$r"; then
			frecord ramp "$r"
			lo=$r
			prev=$sent_best
			[ "$F_ACH" -le "$sent_best" ] || sent_best=$F_ACH
			[ "$F_ABS" -le "$lo_ach" ] || { lo_ach=$F_ABS; best_step "$r"; }
			# Short of the target: go on while the flooder still gets
			# faster (it shares the CPUs with the proxy), stop when it
			# does not (its limit on this machine).
			if flood_short "$r" && awk "BEGIN { exit !($F_ACH < 1.1 * $prev) }"; then
				limited=1
				R_NOTE[$P_NAME]+="the flooders reached only $F_ACH of $r/s, no faster than the step before (load-generator limit; the proxy absorbed what it got). "
				break
			fi
		else
			frecord ramp "$r"
			[ "$S_VERDICT" = ERROR ] && break
			hi=$r
			break
		fi
	done
	i=0
	while [ "$hi" -gt 0 ] && [ "$i" -lt "$SEARCH_STEPS" ] && [ -z "$limited" ]; do
		mid=$(((lo + hi) / 2 / 1000 * 1000))
		[ "$mid" -gt "$lo" ] && [ "$mid" -lt "$hi" ] || break
		[ $((hi - mid)) -ge $((hi / 10)) ] || break
		afford $((STEP_SECS + STEP_OVERHEAD + 5)) || break
		if fstep_once_more search "$mid"; then
			frecord search "$mid"
			lo=$mid
			[ "$F_ABS" -le "$lo_ach" ] || { lo_ach=$F_ABS; best_step "$mid"; }
		else
			frecord search "$mid"
			[ "$S_VERDICT" = ERROR ] && break
			hi=$mid
		fi
		i=$((i + 1))
	done
	R_MAX[$P_NAME]=$lo_ach
	if [ "$lo" = 0 ]; then
		R_STATUS[$P_NAME]=none
		R_NOTE[$P_NAME]+="the real calls failed at the lowest forged rate. "
	elif [ -n "$limited" ] || [ "$hi" = 0 ]; then
		R_STATUS[$P_NAME]=lower-bound
		[ "$hi" = 0 ] && [ -z "$limited" ] && R_NOTE[$P_NAME]+="held at every forged rate tried. "
	else
		R_STATUS[$P_NAME]=ok
	fi
}

# --- report -------------------------------------------------------------------

max_cell() {
	case "${R_STATUS[$1]:-}" in
	ok) echo "${R_MAX[$1]}" ;;
	lower-bound) echo "≥ ${R_MAX[$1]}" ;;
	none | nonfunctional) echo "0" ;;
	*) echo "-" ;;
	esac
}

write_report() {
	local why=${1:-} prof REF TOTAL r
	TOTAL=$(($(now) - START))
	set -- $PROFILES
	REF=$1
	{
		echo "# bench-forged ($PROFILES) $(date '+%Y-%m-%d %H:%M:%S')"
		echo
		[ -n "$why" ] && { echo "**Partial results: the run was $why.**"; echo; }
		echo "Forged in-dialog requests ($METHOD with a Route carrying the Record-Route cookie \`;did=<hex>.<hex>\` of a dialog"
		echo "that does not exist: random bucket below hash_size 4096, random hash id, Call-ID and tags; \`build/tools/bench/flood\`)"
		echo "sent to the proxy at rising rates while sipp makes $CALL_RATE calls/s (basic-call) through it for ${STEP_SECS} s per step."
		echo "A forged rate is absorbed when the real calls held (< $(calc "$MAX_FAIL_RATIO * 100")% failed, sipp at ≥ $(calc "$MIN_RATE_RATIO * 100")% of $CALL_RATE/s)"
		echo "and sipp retransmitted for fewer than ${MAX_RETRANS_PCT}% of the calls (\"lossy\": the calls held only through retransmissions of real messages the proxy lost);"
		echo "The figure is the highest rate *absorbed* in such a step: what the flooders really sent, less what was lost before reaching"
		echo "the proxy (the kernel's input backlog full, \`/proc/net/softnet_stat\`; the proxy's socket full, ss \`skmem\` d), at the flooders' rate"
		echo "(≥: the flooders could not send faster, so the proxy's ceiling was not reached)."
		case "$SEND" in
		packet) echo "Sending: $FLOODERS flooder processes, each whole Ethernet/IPv4/UDP frames (valid checksums, from 127.0.0.1:15099) on an AF_PACKET socket bound to lo with \`PACKET_QDISC_BYPASS\`, \`sendmmsg\` batches of ${BENCH_FORGED_BATCH:-64}: the frames enter lo's receive path as UDP datagrams sent to 127.0.0.1 do, without the UDP/IP send path." ;;
		udp) echo "Sending: $FLOODERS flooder processes, each a UDP socket to $BENCH_ADDR:$PROXY_PORT, \`sendmmsg\` batches of ${BENCH_FORGED_BATCH:-64}." ;;
		esac
		[ "$NETNS" = 1 ] && echo "Everything (proxy, sipp, flooders) ran in a network namespace of the run's own (\`unshare -n\`; its lo with route_localnet and accept_local, so that it takes frames from 127.0.0.1)."
		echo "The kernel's receive work for each frame (and sipdlgd's XDP program) runs in the sending flooder's softirq on lo, so it counts in the flooders' CPU, not the proxy's."
		echo "sipdlgd-forged: XDP generic on lo, \`xdp.unknown_dialog: drop\` (\"dropped by XDP\" = the program's \`*_dropped\` counters, \`sipdlgctl xdp\`);"
		echo "kamailio-forged: kamailio-dialog.cfg with \`-A DROP_UNKNOWN\` (loose_route, then \`if (!is_known_dlg()) drop;\`, debug=-1)."
		echo
		echo "Machine: $NCPU CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(uname -sr); other load before the run: ${BG_LOAD}% of all CPUs."
		echo "Flooders, sipp and proxy share the machine."
		echo
		echo "| proxy | forged requests/s absorbed | best step | notes |"
		echo "|---|---|---|---|"
		for prof in $PROFILES; do
			echo "| $prof | $(max_cell "$prof") | ${R_BEST[$prof]:-} | ${R_NOTE[$prof]:-} |"
		done
		echo
		for prof in $PROFILES; do
			[ "$prof" = "$REF" ] && continue
			r="n/a"
			if [ -n "${R_MAX[$prof]:-}" ] && [ -n "${R_MAX[$REF]:-}" ] && [ "${R_MAX[$REF]}" -gt 0 ] 2>/dev/null; then
				r=$(calc "sprintf(\"%.1f\", ${R_MAX[$prof]} / ${R_MAX[$REF]})")
				[ "${R_STATUS[$prof]:-}" = lower-bound ] && r="≥ $r"
			fi
			echo "Ratio $prof/$REF: $r (target of the issue: ≥ 10)."
		done
		echo
		echo "Total run time: $((TOTAL / 60)) min $((TOTAL % 60)) s. Raw data: \`${RUN_DIR#"$REPO_DIR"/}/\`."
		echo
		echo "## Versions"
		echo
		for prof in $PROFILES; do
			echo "- $prof: ${R_VERSION[$prof]:-n/a} — ${R_DESC[$prof]:-}"
		done
		echo
		echo "## Steps"
		for prof in $PROFILES; do
			[ -n "${R_STEPS[$prof]:-}" ] || continue
			echo
			echo "### $prof (${R_SECS[$prof]:-?} s)"
			echo
			echo "| step | forged/s target | forged/s sent | forged sent | lost before proxy | absorbed/s | dropped by XDP | calls | failed | failed % | proxy CPU (1 core) | flooders CPU | proxy socket drops | sipp retrans | other CPU | verdict |"
			echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
			printf '%s' "${R_STEPS[$prof]}"
		done
	} >"$REPORT"
	{
		printf '# bench-forged %s\tcall_rate %s\tmethod %s\tsend %s\tflooders %s\tnetns %s\n' "$STAMP" "$CALL_RATE" "$METHOD" "$SEND" "$FLOODERS" "$NETNS"
		printf '# summary\tprofile\tmax_forged_per_s (absorbed)\tstatus\n'
		printf '# step\tprofile\tstep\ttarget\tsent_per_s\tkernel_dropped\tcreated\tok\tfailed\tproxy_cpu_pct\tproxy_socket_drops\tverdict\tsipp_retrans\tsent\tlost_before_proxy\tabsorbed_per_s\tflooders_cpu_pct\n'
		for prof in $PROFILES; do
			printf 'summary\t%s\t%s\t%s\n' "$prof" "${R_MAX[$prof]:--}" "${R_STATUS[$prof]:--}"
		done
		cat "$RUN_DIR/steps.tsv"
	} >"$RESULTS/$TAG-$STAMP.tsv"
	if [ -z "$why" ]; then
		cp "$REPORT" "$LATEST"
		cp "$RESULTS/$TAG-$STAMP.tsv" "${LATEST%.md}.tsv"
	fi
	ls -1dt "$RESULTS"/"$TAG"-[0-9]*/ 2>/dev/null | tail -n +6 | while read -r old; do rm -rf "$old"; done
	echo
	echo "bench-forged: forged $METHOD/s absorbed with $CALL_RATE calls/s of real calls holding"
	for prof in $PROFILES; do
		printf '  %-16s %12s  %s\n' "$prof" "$(max_cell "$prof")" "${R_NOTE[$prof]:-}"
	done
	echo "report ${REPORT#"$REPO_DIR"/}${why:+ (partial: $why)}"
}

# --- the profiles in turn -------------------------------------------------------

set -- $PROFILES
NPROF=$#
idx=0
for prof in $PROFILES; do
	pstart=$(now)
	PDEADLINE=$((pstart + (DEADLINE - pstart - 5) / (NPROF - idx)))
	idx=$((idx + 1))
	if ! load_profile "$prof"; then
		R_STATUS[$prof]=unavailable R_NOTE[$prof]="no such profile"
		continue
	fi
	R_DESC[$P_NAME]=$P_DESC
	log "== $P_LABEL: $P_DESC (time: $((PDEADLINE - pstart)) s)"
	if ! p_prepare; then
		R_STATUS[$P_NAME]=unavailable R_NOTE[$P_NAME]=$P_UNAVAILABLE
		log "  $P_LABEL unavailable: $P_UNAVAILABLE"
		[ "$P_REQUIRED" = 1 ] && KAM_FATAL=1
		continue
	fi
	R_VERSION[$P_NAME]=$(p_version)
	mkdir -p "$RUN_DIR/$P_NAME/proxy"
	if ! p_start "$RUN_DIR/$P_NAME/proxy"; then
		p_stop
		R_STATUS[$P_NAME]=unavailable R_NOTE[$P_NAME]="did not start (see ${RUN_DIR#"$REPO_DIR"/}/$P_NAME/proxy/)"
		continue
	fi
	case "$P_NAME" in
	sipdlgd*)
		xmode=$("$SIPDLGCTL" -s "$P_DIR/sipdlgd.sock" -t 2 -j xdp 2>/dev/null | jq -r '.interfaces[0].mode // "none"' 2>/dev/null)
		log "  XDP on lo: ${xmode:-?}"
		case "$xmode" in generic | native | skb | drv) ;; *) R_NOTE[$P_NAME]+="XDP not attached (${xmode:-?}): the controller drops the forged requests. " ;; esac
		;;
	esac
	ramp
	p_stop
	wait_port_free "$PROXY_PORT" 10
	R_SECS[$P_NAME]=$(($(now) - pstart))
done

write_report
REPORTED=1
[ "$KAM_FATAL" = 1 ] && exit 1
exit 0
}
