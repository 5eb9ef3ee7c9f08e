#!/bin/bash
# perf-profile.sh - where sipdlgd spends its CPU (`make bench-perf`).
#
# Starts the profile sipdlgd-dialog (dialog tracking, XDP off), runs the
# basic-call scenario through it at a fixed rate and records sipdlgd (all
# its threads, user and kernel) with `perf record -g` meanwhile.  Prints
# the top symbols by self time (`perf report --stdio --no-children`, top
# 25) and writes them to results/perf-<time>.txt and results/LATEST-perf.txt,
# with the step's figures (calls, failures, CPU per 1,000 calls).  Installs
# Debian's linux-perf when perf is missing (root).
#
# Environment (all optional):
#   BENCH_PERF_PROFILE  profile to record (default sipdlgd-dialog)
#   BENCH_PERF_RATE     calls/s (default 1000)
#   BENCH_PERF_SECS     seconds of calls, and of recording (default 15)
#   BENCH_PERF_FREQ     samples/s (default 999)
#   BENCH_PERF_TOP      symbols listed (default 25)
#   BENCH_PERF_SCENARIO scenario (default basic-call; info-call for INFO)
#   BENCH_NO_BUILD=1    do not run `make all` first
#   and the port and sipp knobs of bench-cps.sh.
set -u

# One brace group: bash parses the whole script before running it.
{
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/bench/lib.sh
. "$BENCH_DIR/lib.sh"

PROFILE=${BENCH_PERF_PROFILE:-sipdlgd-dialog}
RATE=${BENCH_PERF_RATE:-1000}
SECS=${BENCH_PERF_SECS:-15}
FREQ=${BENCH_PERF_FREQ:-999}
TOP=${BENCH_PERF_TOP:-25}
SCENARIO=${BENCH_PERF_SCENARIO:-basic-call}

STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$BENCH_DIR/results
RUN_DIR=$RESULTS/perf-$STAMP
OUT=$RESULTS/perf-$STAMP.txt
mkdir -p "$RUN_DIR" || exit 2
RUN_LOG=$RUN_DIR/run.log
: >"$RUN_LOG"
bench_install_traps

# ensure_perf: a perf that runs (Debian's linux-perf; /usr/bin/perf is a
# wrapper that needs the versioned binary).
ensure_perf() {
	if command -v perf >/dev/null 2>&1 && perf version >/dev/null 2>&1; then
		return 0
	fi
	[ "$(id -u)" -eq 0 ] || { log "perf is missing: apt-get install linux-perf"; return 1; }
	log "installing Debian's linux-perf (benchmark only)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-perf >>"$RUN_LOG" 2>&1 || {
		apt-get update -qq >>"$RUN_LOG" 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-perf >>"$RUN_LOG" 2>&1
	}
	command -v perf >/dev/null 2>&1 && perf version >/dev/null 2>&1
}

command -v sipp >/dev/null 2>&1 || die "sipp is missing (apt-get install sip-tester)"
ensure_perf || die "perf does not run (apt-get install linux-perf)"
for port in "$PROXY_PORT" "$UAS_PORT" "$UAC_PORT"; do
	if [ -n "$(ss -Huln "sport = :$port" 2>/dev/null)" ]; then
		die "UDP port $port is in use already; set BENCH_PROXY_PORT/BENCH_UAS_PORT/BENCH_UAC_PORT"
	fi
done
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
	log "building sipdlgd (make all)"
	make -C "$REPO_DIR" --no-print-directory all >"$RUN_DIR/build.log" 2>&1 ||
		log "  make all failed (see ${RUN_DIR#"$REPO_DIR"/}/build.log)"
fi
load_scenario "$SCENARIO"
load_profile "$PROFILE" || die "no profile $PROFILE"
p_prepare || die "$PROFILE: $P_UNAVAILABLE"
ulimit -n 65536 2>/dev/null || true

mkdir -p "$RUN_DIR/proxy"
p_start "$RUN_DIR/proxy" || die "$PROFILE did not start (see ${RUN_DIR#"$REPO_DIR"/}/proxy/)"
settle "$P_PID" 5
log "perf-profile: $P_LABEL, $SCENARIO at $RATE calls/s for $SECS s, perf record -g -F $FREQ -p $P_PID"

# perf records for the UAC's whole run: it starts just before the step
# (the UAS start takes a moment) and stops at SECS + 1.
perf record -g -F "$FREQ" -p "$P_PID" -o "$RUN_DIR/perf.data" -- sleep $((SECS + 1)) \
	>"$RUN_DIR/perf-record.log" 2>&1 &
PERF_PID=$!
bench_track "$PERF_PID"
run_step perf "$RATE" "$SECS"
wait "$PERF_PID"
bench_untrack "$PERF_PID"
p_stop

{
	echo "# perf-profile $(date '+%Y-%m-%d %H:%M:%S'): $P_LABEL ($P_DESC), $(p_version)"
	echo "# scenario $SCENARIO ($SCEN_DESC) at $RATE calls/s for $SECS s;" \
		"perf record -g -F $FREQ -p PID (all threads, user + kernel)"
	echo "# step: $(step_line)"
	echo "# machine: $NCPU CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(uname -sr)"
	echo "# top $TOP symbols by self time: perf report --stdio --no-children --sort dso,symbol"
	echo
	perf report -i "$RUN_DIR/perf.data" --stdio --no-children --sort dso,symbol -g none \
		--percent-limit 0.01 2>/dev/null | grep -v '^#' | grep -v '^$' |
		sed -E 's/([[:space:]]+-)+[[:space:]]*$//' | head -n "$TOP"
} >"$OUT"
cp "$OUT" "$RESULTS/LATEST-perf.txt"
ls -1dt "$RESULTS"/perf-[0-9]*/ 2>/dev/null | tail -n +4 | while read -r old; do rm -rf "$old"; done
cat "$OUT"
echo "report ${OUT#"$REPO_DIR"/} (and tools/bench/results/LATEST-perf.txt); perf.data in ${RUN_DIR#"$REPO_DIR"/}/"
exit 0
}
