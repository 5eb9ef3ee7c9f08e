#!/bin/bash
# bench-cps.sh - calls per second, side by side: Kamailio and sipdlgd as
# record-routing, transaction-stateful proxies, the same sipp scenario
# through each in turn, on 127.0.0.1 (`make bench-cps`).
#
# For each profile (proxy): start it, make a few calls at a low rate (a
# proxy that cannot pass them is reported as not functional), then ramp the
# call rate up a ladder of short steps until one fails, narrow the limit
# down by bisection, and confirm the highest rate that held for 30 s.  A
# rate holds when sipp reached >= 95 % of it and < 0.1 % of the calls
# failed.  Then every functional profile runs once more at one rate all of
# them held, and its CPU time (utime+stime of all its processes, from
# /proc/PID/stat) per 1,000 calls is measured.  Prints a table and the
# ratios, writes tools/bench/results/cps-<time>.md and LATEST-cps.md
# (cps-dialog-* for the dialog profiles).
#
# Exit status: 0 when the required profile (Kamailio) ran, whatever the
# figures of the others; 1 when Kamailio could not be installed or run; 2
# on a harness error.  A benchmark, not a test.
#
# Environment (all optional):
#   BENCH_PROFILES      profiles in tools/bench/profiles/ (default "kamailio sipdlgd";
#                       the dialog runs: "kamailio-dialog sipdlgd-dialog";
#                       over TLS through a stunnel front: "kamailio-tls sipdlgd-tls")
#   BENCH_SCENARIO      scenario in tools/bench/scenarios/ (default basic-call)
#   BENCH_TAG           name of the results (default cps, cps-dialog, cps-custom)
#   BENCH_CPS_BUDGET    seconds for the whole run (default 870; `make` adds a hard 900)
#   BENCH_DEADLINE      absolute end (epoch seconds), set by `make bench`
#   BENCH_STEP_SECS     length of a ramp step (default 10)
#   BENCH_HOLD_SECS     length of the sustained confirmation (default 30)
#   BENCH_CPU_SECS      length of the CPU run (default 20)
#   BENCH_CPU_RATE      rate of the CPU run (default: 80 % of the lowest
#                       sustained rate, rounded down to 50)
#   BENCH_LADDER        ramp rates (default "500 1000 2000 3000 4000 6000 8000 12000 ...")
#   BENCH_SMOKE_RATE    rate of the first, functional check (default 100, 3 s)
#   BENCH_SEARCH_STEPS / _GAP / _ROUND  bisection: at most 3 steps, not below a
#                       gap of 100 calls/s (or 10 %), rates rounded to 50
#   BENCH_NO_BUILD=1    do not run `make all` first
#   BENCH_RETRY_DISTURBED  1 (default): a step that failed while other processes
#                       used >= BENCH_DISTURB_PCT (30) % of a CPU runs once more
#   BENCH_SIPP_NICE     nice value of the sipp UAC and UAS (default -10: the
#                       load generator is served before the proxy's workers)
#   BENCH_PROXY_PORT / BENCH_UAS_PORT / BENCH_UAC_PORT  (15060 / 15080 / 15070)
set -u

# The whole script is one brace group: bash parses it completely before
# running it, so editing this file during a run cannot derail that run.
{
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/bench/lib.sh
. "$BENCH_DIR/lib.sh"

START=$(now)
BUDGET=${BENCH_CPS_BUDGET:-870}
bench_deadline
PROFILES=${BENCH_PROFILES:-kamailio sipdlgd}
SCENARIO=${BENCH_SCENARIO:-basic-call}
STEP_SECS=${BENCH_STEP_SECS:-10}
HOLD_SECS=${BENCH_HOLD_SECS:-30}
CPU_SECS=${BENCH_CPU_SECS:-20}
CPU_FRACTION=${BENCH_CPU_FRACTION:-0.8}
LADDER=${BENCH_LADDER:-500 1000 2000 3000 4000 6000 8000 12000 16000 24000 32000 48000 64000}
SMOKE_RATE=${BENCH_SMOKE_RATE:-100}
SMOKE_SECS=${BENCH_SMOKE_SECS:-3}
SEARCH_STEPS=${BENCH_SEARCH_STEPS:-3}
SEARCH_GAP=${BENCH_SEARCH_GAP:-100}	# no bisection between rates closer than this (or 10 %)
SEARCH_ROUND=${BENCH_SEARCH_ROUND:-50}	# bisection rates are multiples of this
STEP_OVERHEAD=8		# start/stop of the UAS, settling, the tail of the last calls
DISTURB_PCT=${BENCH_DISTURB_PCT:-30}	# other processes above this % of a CPU: a failed step is retried

STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$BENCH_DIR/results
# The name of the results: cps for the plain run, cps-dialog for the
# dialog-tracking profiles, cps-custom for any other set (BENCH_TAG overrides).
case "$PROFILES" in
"kamailio sipdlgd") TAG=cps ;;
"kamailio-dialog sipdlgd-dialog") TAG=cps-dialog ;;
"kamailio-tls sipdlgd-tls") TAG=cps-tls
	BENCH_TRANSPORT_NOTE="TLS on both sides of the proxy (sipp over TCP through a stunnel front, lib.sh tls_front_start, the UAS with sipp/uas-tls.xml; the front's CPU is not the proxy's)" ;;
*) TAG=cps-custom ;;
esac
TAG=${BENCH_TAG:-$TAG}
RUN_DIR=$RESULTS/$TAG-$STAMP
REPORT=$RESULTS/$TAG-$STAMP.md
LATEST=$RESULTS/LATEST-$TAG.md
mkdir -p "$RUN_DIR" || exit 2
RUN_LOG=$RUN_DIR/run.log
: >"$RUN_LOG"

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

declare -A R_MAX R_NOTE R_STATUS R_CPU1K R_CPUNOTE R_STEPS R_DESC R_VERSION R_SECS R_NSTEPS R_NOISY
BG_LOAD="?"
CPU_RATE=""
KAM_FATAL=0

# --- preconditions ------------------------------------------------------------

if [ "$(id -u)" -ne 0 ]; then
	log "note: not root; kamailio must be installed already"
fi
if ! command -v sipp >/dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ]; then
		log "installing sipp (Debian package sip-tester)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends sip-tester >>"$RUN_LOG" 2>&1
	fi
	command -v sipp >/dev/null 2>&1 || die "sipp is missing (apt-get install sip-tester)"
fi
command -v ss >/dev/null 2>&1 || die "ss is missing (apt-get install iproute2)"
for port in "$PROXY_PORT" "$UAS_PORT" "$UAC_PORT"; do
	if [ -n "$(ss -Huln "sport = :$port" 2>/dev/null)" ]; then
		die "UDP port $port is in use already ($(ss -Hulnp "sport = :$port" | grep -o 'users:.*' | head -1)); set BENCH_PROXY_PORT/BENCH_UAS_PORT/BENCH_UAC_PORT"
	fi
done

load_scenario "$SCENARIO"

# sipp keeps one descriptor per open call in its accounting.
ulimit -n 65536 2>/dev/null || true

log "bench-cps: profiles: $PROFILES; scenario $SCENARIO; budget $((DEADLINE - START)) s; raw data in ${RUN_DIR#"$REPO_DIR"/}"

if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
	log "building sipdlgd (make all)"
	if ! make -C "$REPO_DIR" --no-print-directory all >"$RUN_DIR/build.log" 2>&1; then
		BUILD_FAILED=1
		log "  make all failed (see ${RUN_DIR#"$REPO_DIR"/}/build.log); profiles that need build/ may be skipped"
	fi
fi

BG_LOAD=$(busy_pct 2)
log "other load on the machine: ${BG_LOAD}% of ${NCPU} CPUs busy before the run"
if [ "${BG_LOAD:-0}" -ge 15 ] 2>/dev/null; then
	log "  WARNING: the machine is not idle; the figures will be low and noisy"
fi

# --- one profile: ramp -----------------------------------------------------

# afford SECONDS [RESERVE]: is there time for a run of SECONDS and still
# RESERVE seconds before the profile's deadline?
afford() { [ $(($(now) + $1 + ${2:-0})) -le "$PDEADLINE" ]; }

# record TAG: keep the last step in the profile's table, say it.
record() {
	R_STEPS[$P_NAME]+="$(step_row "$1")"$'\n'
	printf 'step\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$P_NAME" "$1" "$S_RATE" "$S_SECS" \
		"$S_CREATED" "$S_OK" "$S_FAIL" "$S_ACH" "$(calc "$S_PTICKS / $HZ")" "${S_CPU1K:--}" "${S_VERDICT%%,*}" >>"$RUN_DIR/steps.tsv"
	R_NSTEPS[$P_NAME]=$((${R_NSTEPS[$P_NAME]:-0} + 1))
	if [ "${S_OTHERPCT:-0}" -ge "$DISTURB_PCT" ]; then
		R_NOISY[$P_NAME]=$((${R_NOISY[$P_NAME]:-0} + 1))
	fi
	log "  $P_LABEL $1: $(step_line)"
}

# before_step: a step that failed leaves the proxy with thousands of open
# transactions still retransmitting into the next step; restart it then
# (BENCH_RESTART_AFTER_FAIL=0 keeps it running).  Otherwise let it go idle.
NRESTART=0
before_step() {
	if [ "$DIRTY" = 1 ] && [ "${BENCH_RESTART_AFTER_FAIL:-1}" = 1 ]; then
		p_stop
		wait_port_free "$PROXY_PORT" 10
		NRESTART=$((NRESTART + 1))
		mkdir -p "$RUN_DIR/$P_NAME/proxy-$NRESTART"
		if ! p_start "$RUN_DIR/$P_NAME/proxy-$NRESTART"; then
			log "  $P_LABEL did not restart"
			return 1
		fi
	fi
	settle "$P_PID" 10
	return 0
}

# step TAG RATE SECS: before_step + run_step + record; returns run_step's
# status.  A step that failed while other processes took a good share of
# the machine (the host may be shared) is run once more, time permitting
# (BENCH_RETRY_DISTURBED=0: never).
step() {
	local rc
	before_step || { S_HOLDS=0; S_VERDICT=ERROR; S_WHY="proxy did not restart"; S_SAT=""; return 2; }
	run_step "$@"
	rc=$?
	if [ "$rc" != 0 ] && [ "$S_VERDICT" != ERROR ] && [ "${BENCH_RETRY_DISTURBED:-1}" = 1 ] &&
		[ "$S_OTHERPCT" -ge "$DISTURB_PCT" ] && afford $(($3 + STEP_OVERHEAD + 5)); then
		S_VERDICT="$S_VERDICT,disturbed"
		record "$1"
		log "  (other processes used ${S_OTHERPCT}% of a CPU during that step: running it once more)"
		DIRTY=1
		before_step || { S_HOLDS=0; S_VERDICT=ERROR; S_WHY="proxy did not restart"; S_SAT=""; return 2; }
		run_step "$@"
		rc=$?
	fi
	record "$1"
	if [ "$rc" = 0 ]; then DIRTY=0; else DIRTY=1; fi
	return "$rc"
}

# ramp: the current profile is running; find its highest sustained rate.
ramp() {
	local lo=0 hi=0 r mid tries confirmed=0 sat_note="" hold_reserve=$((HOLD_SECS + STEP_OVERHEAD))
	local err held="" tried="" best=0 h lo_fail=""

	DIRTY=0
	step smoke "$SMOKE_RATE" "$SMOKE_SECS"
	if [ "$S_HOLDS" != 1 ]; then
		err=$(first_error "$S_DIR")
		R_NOTE[$P_NAME]="calls failed at the lowest rate ($SMOKE_RATE calls/s: $S_WHY) — proxy not functional?${err:+ First sipp error: $err}"
		[ "${S_RRM:-0}" -gt 0 ] && R_NOTE[$P_NAME]+=" (the 200 OK must carry the proxy's Record-Route)"
		R_STATUS[$P_NAME]=nonfunctional
		log "  $P_LABEL: ${R_NOTE[$P_NAME]}"
		return
	fi
	lo=$SMOKE_RATE
	held="$SMOKE_RATE"

	for r in $LADDER; do
		[ "$r" -gt "$lo" ] || continue
		if ! afford $((STEP_SECS + STEP_OVERHEAD)) "$hold_reserve"; then
			R_NOTE[$P_NAME]+="ramp stopped at $lo calls/s: time budget. "
			break
		fi
		if step ramp "$r" "$STEP_SECS"; then
			lo=$r
			held="$held $r"
		else
			[ "$S_VERDICT" = ERROR ] && return
			hi=$r
			[ -n "$S_SAT" ] && sat_note="at $r calls/s $S_SAT"
			break
		fi
	done
	if [ "$hi" = 0 ] && [ -z "${R_NOTE[$P_NAME]:-}" ]; then
		R_NOTE[$P_NAME]+="every ladder rate held (top $lo calls/s). "
	fi

	# Bisection between the highest rate that held and the lowest that did not.
	local i=0 gap
	while [ "$hi" -gt 0 ] && [ "$i" -lt "$SEARCH_STEPS" ]; do
		gap=$((lo / 10))
		[ "$gap" -ge "$SEARCH_GAP" ] || gap=$SEARCH_GAP
		[ $((hi - lo)) -gt "$gap" ] || break
		mid=$(((lo + hi) / 2 / SEARCH_ROUND * SEARCH_ROUND))
		[ "$mid" -gt "$lo" ] && [ "$mid" -lt "$hi" ] || break
		afford $((STEP_SECS + STEP_OVERHEAD)) "$hold_reserve" || break
		if step search "$mid" "$STEP_SECS"; then
			lo=$mid
			held="$held $mid"
		else
			[ "$S_VERDICT" = ERROR ] && return
			hi=$mid
			[ -n "$S_SAT" ] && sat_note="at $mid calls/s $S_SAT"
		fi
		i=$((i + 1))
	done

	# The sustained run; step down by 15 % when it fails.
	tries=0
	while [ "$tries" -lt 3 ] && [ "$lo" -ge "$SMOKE_RATE" ]; do
		afford $((HOLD_SECS + STEP_OVERHEAD)) || break
		if step hold "$lo" "$HOLD_SECS"; then
			confirmed=1
			break
		fi
		[ "$S_VERDICT" = ERROR ] && break
		[ -n "$S_SAT" ] && sat_note="at $lo calls/s $S_SAT"
		tried="${tried:+$tried, }$lo"
		lo_fail=$lo
		lo=$((lo * 85 / 100 / 50 * 50))
		[ "$lo" -ge "$SMOKE_RATE" ] || lo=$SMOKE_RATE
		tries=$((tries + 1))
	done
	if [ "$confirmed" = 1 ]; then
		R_MAX[$P_NAME]=$lo
		R_STATUS[$P_NAME]=ok
	else
		# Not confirmed for HOLD_SECS: report the best short-step figure
		# below every failed hold, marked.
		for h in $held; do
			[ "$h" -lt "${lo_fail:-$((lo + 1))}" ] && [ "$h" -gt "$best" ] && best=$h
		done
		R_MAX[$P_NAME]=$best
		R_STATUS[$P_NAME]=unconfirmed
		if [ -n "$tried" ]; then
			R_NOTE[$P_NAME]+="no rate held for ${HOLD_SECS} s (tried $tried); $best calls/s is the best that held in a ${STEP_SECS} s step below those. "
		else
			R_NOTE[$P_NAME]+="$best calls/s held in a ${STEP_SECS} s step; no time left to confirm it for ${HOLD_SECS} s. "
		fi
	fi
	if [ -n "$sat_note" ]; then
		R_NOTE[$P_NAME]+="load generator busy ($sat_note): the limit may be sipp's, not the proxy's. "
	fi
}

# --- report -------------------------------------------------------------------

max_cell() {
	case "${R_STATUS[$1]:-}" in
	ok) echo "${R_MAX[$1]}" ;;
	unconfirmed) echo "${R_MAX[$1]}*" ;;
	nonfunctional) echo "0" ;;
	*) echo "-" ;;
	esac
}
ratio() {	# ratio A B: A/B with 2 decimals, or n/a
	if [ -n "$1" ] && [ -n "$2" ] && awk "BEGIN { exit !($1 > 0 && $2 > 0) }"; then
		awk "BEGIN { printf \"%.2f\", $1 / $2 }"
	else
		echo "n/a"
	fi
}

# write_report [WHY]: the markdown report, LATEST-$TAG.md and the summary on
# stdout.  WHY (e.g. "interrupted") marks a partial report.
write_report() {
	local why=${1:-} prof n REF TOTAL
	TOTAL=$(($(now) - START))
	# The first profile is the reference (Kamailio); every other is compared to it.
	set -- $PROFILES
	REF=$1

	{
		echo "# bench-cps ($TAG: $PROFILES) $(date '+%Y-%m-%d %H:%M:%S')"
		echo
		if [ -n "$why" ]; then
			echo "**Partial results: the run was $why.**"
			echo
		fi
		echo "Scenario \`$SCENARIO\`: $SCEN_DESC (sipp ${SCEN_UAC#"$REPO_DIR"/}, ${SCEN_UAS#"$REPO_DIR"/}), ${BENCH_TRANSPORT_NOTE:-UDP} on $BENCH_ADDR."
		echo "A rate holds when sipp reached ≥ $(calc "$MIN_RATE_RATIO * 100")% of it and < $(calc "$MAX_FAIL_RATIO * 100")% of the calls failed;"
		echo "\"max sustained\" is the highest rate that held for ${HOLD_SECS} s (\`*\`: held only in ${STEP_SECS} s steps)."
		echo "CPU: utime+stime of all the proxy's processes (/proc/PID/stat) during a ${CPU_SECS} s run at ${CPU_RATE:-n/a} calls/s, per 1,000 successful calls."
		echo
		echo "Machine: $NCPU CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(uname -sr); other load before the run: ${BG_LOAD}% of all CPUs."
		echo "sipp: $(sipp -v 2>&1 | grep -o 'SIPp v[^ ]*' | head -1 | sed 's/\.$//'); load generator and proxy share the machine."
		echo
		echo "| proxy | max sustained calls/s | CPU s per 1000 calls @ ${CPU_RATE:-n/a}/s | notes |"
		echo "|---|---|---|---|"
		for prof in $PROFILES; do
			echo "| $prof | $(max_cell "$prof") | ${R_CPU1K[$prof]:--} | ${R_NOTE[$prof]:-}${R_CPUNOTE[$prof]:-} |"
		done
		echo
		if [ "${SCEN_PER_CALL:-1}" -gt 1 ]; then
			for prof in $PROFILES; do
				case "${R_STATUS[$prof]:-}" in ok | unconfirmed) ;; *) continue ;; esac
				echo "- $prof: ${R_MAX[$prof]} calls/s = $((R_MAX[$prof] * SCEN_PER_CALL)) $SCEN_PER_CALL_WHAT/s;" \
					"CPU per 1,000 $SCEN_PER_CALL_WHAT (call set-up included): $(calc "sprintf(\"%.4f\", ${R_CPU1K[$prof]:-0} / $SCEN_PER_CALL)") s"
			done
			echo
		fi
		for prof in $PROFILES; do
			[ "$prof" = "$REF" ] && continue
			echo "Ratios $prof/$REF: max sustained rate $(ratio "${R_MAX[$prof]:-}" "${R_MAX[$REF]:-}"), CPU per call $(ratio "${R_CPU1K[$prof]:-}" "${R_CPU1K[$REF]:-}")."
		done
		case " $PROFILES " in *" sipdlgd-xdp "*)
			echo
			echo "Generic XDP on lo (sipdlgd-xdp) is not what a box runs: on lo every datagram of the call, the proxy's own sends included, passes the program in the sending process's softirq (charged to the proxy when it sent it, with tick accounting), and generic XDP may copy an skb that lacks its 256 bytes of headroom; the controller's map writes per call (bpf() system calls) come on top. Native XDP on veth in three namespaces, the issue's topology, alternated runs and medians: bench-cps-ns.sh, LATEST-cps-ns.md."
			;;
		esac
		echo
		n=0
		for prof in $PROFILES; do
			if [ "${R_NOISY[$prof]:-0}" -gt 0 ]; then
				n=1
				echo "Other load: during ${R_NOISY[$prof]} of ${R_NSTEPS[$prof]} steps of $prof, other processes used ≥ ${DISTURB_PCT}% of a CPU (column \"other CPU\")."
			fi
		done
		if [ "$n" = 1 ]; then
			echo "The machine was shared during this run: the figures are lower and noisier than on an idle one."
			echo
		fi
		if [ -n "${BUILD_FAILED:-}" ]; then
			echo "\`make all\` failed before this run (see \`${RUN_DIR#"$REPO_DIR"/}/build.log\`); build/sipdlgd may be stale or missing."
			echo
		fi
		echo "Total run time: $((TOTAL / 60)) min $((TOTAL % 60)) s. Raw data: \`${RUN_DIR#"$REPO_DIR"/}/\` (sipp CSV, error logs, proxy logs)."
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
			echo "| step | target/s | s | calls | ok | failed | sipp/s | proxy CPU s | CPU s/1000 | UAC CPU | UAS CPU | other CPU | verdict |"
			echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
			printf '%s' "${R_STEPS[$prof]}"
		done
	} >"$REPORT"
	# The same figures for programs (results/LATEST.md, the charts):
	# "summary" rows, then the "step" rows that record() wrote.
	{
		printf '# bench-cps %s %s\tscenario %s\tper_call %s\tcpu_rate %s\thold_secs %s\tstep_secs %s\n' "$TAG" "$STAMP" \
			"$SCENARIO" "${SCEN_PER_CALL:-1}" "${CPU_RATE:--}" "$HOLD_SECS" "$STEP_SECS"
		printf '# summary\tprofile\tmax_per_s\tstatus\tcpu_s_per_1000\tcpu_rate\n'
		printf '# step\tprofile\tstep\trate\tsecs\tcreated\tok\tfailed\tachieved\tproxy_cpu_s\tcpu_s_per_1000\tverdict\n'
		for prof in $PROFILES; do
			printf 'summary\t%s\t%s\t%s\t%s\t%s\n' "$prof" "${R_MAX[$prof]:--}" "${R_STATUS[$prof]:--}" \
				"${R_CPU1K[$prof]:--}" "${CPU_RATE:--}"
		done
		cat "$RUN_DIR/steps.tsv" 2>/dev/null
	} >"$RESULTS/$TAG-$STAMP.tsv"
	# LATEST-*.md (kept in git) only ever holds a complete run.
	if [ -z "$why" ]; then
		cp "$REPORT" "$LATEST"
		cp "$RESULTS/$TAG-$STAMP.tsv" "${LATEST%.md}.tsv"
	fi

	# Keep the raw data of the last 5 runs only.
	ls -1dt "$RESULTS"/cps*-[0-9]*/ 2>/dev/null | tail -n +6 | while read -r old; do rm -rf "$old"; done

	# The summary on stdout.
	echo
	echo "bench-cps: $SCEN_DESC, ${BENCH_TRANSPORT_NOTE:-UDP} on $BENCH_ADDR, $NCPU CPUs (other load ${BG_LOAD}%)"
	printf '%-16s %22s %26s\n' proxy "max sustained calls/s" "CPU s/1000 calls @ ${CPU_RATE:-n/a}/s"
	for prof in $PROFILES; do
		printf '%-16s %22s %26s\n' "$prof" "$(max_cell "$prof")" "${R_CPU1K[$prof]:--}"
	done
	for prof in $PROFILES; do
		n="${R_NOTE[$prof]:-}${R_CPUNOTE[$prof]:-}"
		[ -n "$n" ] && echo "  $prof: $n"
	done
	for prof in $PROFILES; do
		[ "${R_NOISY[$prof]:-0}" -gt 0 ] &&
			echo "  $prof: other processes used >= ${DISTURB_PCT}% of a CPU during ${R_NOISY[$prof]} of ${R_NSTEPS[$prof]} steps (shared machine: noisy figures)"
	done
	for prof in $PROFILES; do
		[ "$prof" = "$REF" ] && continue
		echo "ratio $prof/$REF: max rate $(ratio "${R_MAX[$prof]:-}" "${R_MAX[$REF]:-}"), CPU per call $(ratio "${R_CPU1K[$prof]:-}" "${R_CPU1K[$REF]:-}")"
	done
	[ -n "$why" ] && echo "PARTIAL: the run was $why"
	if [ -n "$why" ]; then
		echo "total $((TOTAL / 60)) min $((TOTAL % 60)) s; partial report ${REPORT#"$REPO_DIR"/}"
	else
		echo "total $((TOTAL / 60)) min $((TOTAL % 60)) s; report ${REPORT#"$REPO_DIR"/} (and ${LATEST#"$REPO_DIR"/})"
	fi
}

# --- phase 1: every profile's highest sustained rate --------------------------

set -- $PROFILES
NPROF=$#
CPU_RESERVE=$((NPROF * (CPU_SECS + STEP_OVERHEAD + 8)))
idx=0
for prof in $PROFILES; do
	pstart=$(now)
	left=$((DEADLINE - pstart - CPU_RESERVE - 10))
	PDEADLINE=$((pstart + left / (NPROF - idx)))
	idx=$((idx + 1))
	if ! load_profile "$prof"; then
		R_STATUS[$prof]=unavailable
		R_NOTE[$prof]="no such profile"
		continue
	fi
	R_DESC[$P_NAME]=$P_DESC
	log "== $P_LABEL: $P_DESC (time for the ramp: $((PDEADLINE - pstart)) s)"
	if ! p_prepare; then
		R_STATUS[$P_NAME]=unavailable
		R_NOTE[$P_NAME]=$P_UNAVAILABLE
		log "  $P_LABEL unavailable: $P_UNAVAILABLE"
		[ "$P_REQUIRED" = 1 ] && KAM_FATAL=1
		continue
	fi
	R_VERSION[$P_NAME]=$(p_version)
	mkdir -p "$RUN_DIR/$P_NAME/proxy"
	if ! p_start "$RUN_DIR/$P_NAME/proxy"; then
		p_stop
		R_STATUS[$P_NAME]=unavailable
		R_NOTE[$P_NAME]="did not start (see ${RUN_DIR#"$REPO_DIR"/}/$P_NAME/proxy/)"
		log "  $P_LABEL did not start"
		[ "$P_REQUIRED" = 1 ] && KAM_FATAL=1
		continue
	fi
	ramp
	p_stop
	wait_port_free "$PROXY_PORT" 10 || log "  warning: port $PROXY_PORT still bound after stopping $P_LABEL"
	R_SECS[$P_NAME]=$(($(now) - pstart))
	if [ "$P_REQUIRED" = 1 ] && [ "${R_STATUS[$P_NAME]}" = nonfunctional ]; then
		KAM_FATAL=1
	fi
done

# --- phase 2: CPU per 1,000 calls at a rate every functional profile held ----

min=""
for prof in $PROFILES; do
	case "${R_STATUS[$prof]:-}" in ok | unconfirmed) ;; *) continue ;; esac
	m=${R_MAX[$prof]}
	if [ -z "$min" ] || [ "$m" -lt "$min" ]; then min=$m; fi
done
if [ -n "$min" ]; then
	CPU_RATE=${BENCH_CPU_RATE:-$(awk -v m="$min" -v f="$CPU_FRACTION" 'BEGIN { r = int(m * f / 50) * 50; if (r < 50) r = 50; print r }')}
	log "== CPU per 1,000 calls at $CPU_RATE calls/s, ${CPU_SECS} s per profile"
	for prof in $PROFILES; do
		case "${R_STATUS[$prof]:-}" in ok | unconfirmed) ;; *) continue ;; esac
		load_profile "$prof" || continue
		PDEADLINE=$DEADLINE
		secs=$CPU_SECS
		room=$((DEADLINE - $(now) - STEP_OVERHEAD - 8))
		[ "$room" -lt "$secs" ] && secs=$room
		if [ "$secs" -lt 3 ]; then
			R_CPUNOTE[$P_NAME]="no time left for the CPU run"
			log "  $P_LABEL: no time left for the CPU run"
			continue
		fi
		mkdir -p "$RUN_DIR/$P_NAME/proxy-cpu"
		if ! p_start "$RUN_DIR/$P_NAME/proxy-cpu"; then
			p_stop
			R_CPUNOTE[$P_NAME]="did not start for the CPU run"
			continue
		fi
		DIRTY=0
		step cpu "$CPU_RATE" "$secs"
		R_CPU1K[$P_NAME]=${S_CPU1K:-}
		[ "$S_HOLDS" = 1 ] || R_CPUNOTE[$P_NAME]="the CPU run did not hold ($S_VERDICT: $S_WHY)"
		p_stop
		wait_port_free "$PROXY_PORT" 10
	done
fi

write_report
REPORTED=1

if [ "$KAM_FATAL" = 1 ]; then
	echo "bench-cps: the reference proxy (${PROFILES%% *}) could not be installed or run" >&2
	exit 1
fi
exit 0
}
