#!/bin/bash
# run-all.sh [SECONDS] - `make bench`: every benchmark of tools/bench in one
# run bounded to SECONDS (default 2100 = 35 min), then the summary
# results/LATEST.md with its charts (report.sh).
#
# The plan (planned seconds at the default total; with another total each
# share scales with it):
#   build     make all, the flooder, bench_xdp, gen_rows        (untimed)
#   xdp       make bench-xdp (BPF_PROG_TEST_RUN ns/packet)       40 s
#   restore   bench-restore.sh (100,000 dialogs from MySQL)      50 s
#   mem       bench-mem.sh (100,000 held dialogs, both)          270 s
#   info      bench-info.sh (INFO/s in held calls, both)         240 s
#   forged    bench-forged.sh (forged requests/s, both)          170 s
#   inforelay bench-info-relay.sh (in-dialog INFO/s through the box in
#             three namespaces: Kamailio, sipdlgd relay off / on;
#             ramp 5 s per rate, the 30 s hold of issue #14, a
#             hold ladder down from the best ramp rate)          420 s
#   cluster   bench-cluster.sh, takeover and staleness only (three
#             Galera nodes, two boxes; one takeover of 10,000 dialogs
#             of each kind, 15 marker calls)                     300 s
#   cpsns     bench-cps-ns.sh (CPU per basic call, XDP native with
#             the relay on against XDP detached, three namespaces,
#             7 alternated rounds, medians and their spread, and
#             the system calls per call; one run's CPU time varies
#             by ±25 % here, 3 rounds said nothing)              240 s
#   cpsxdp    bench-cps.sh with sipdlgd-dialog and sipdlgd-xdp
#             (XDP attached, generic on lo, against not; short
#             ladder 2000 4000, 10 s hold)                       150 s
#   cps       bench-cps.sh with kamailio-dialog sipdlgd-dialog
#             kamailio-db sipdlgd-db (calls/s, CPU per call;
#             ladder 1000 2000 3000 4000 5000 6000 8000 ...)     the rest (~4.5 min)
#   report    report.sh (LATEST.md and the PNG charts)           30 s reserved
# Each piece gets its share (bench-info and bench-forged plan to use all of
# it), never more than the time left minus the shares of the pieces after
# it; what the short pieces leave unused goes to cps, the last one;
# timeout(1) stops it at that point (its traps stop every process it
# started).  A piece that does not get 30 s is skipped and said so.  The
# plan and times go to stderr and results/LATEST-bench.log.
#
# Environment: BENCH_ONLY="xdp info ..." runs only those pieces (the report
# always runs); the knobs of each script work as usual.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$dir/../.." && pwd)
total=${1:-2100}
start=$(date +%s)
deadline=$((start + total))
RES=$dir/results
mkdir -p "$RES"
LOG=$RES/bench-$(date +%Y%m%d-%H%M%S).log
: >"$LOG"

say() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$LOG" >&2; }

# scale SECONDS: a share of the default 2100 s plan scaled to this total.
# The short pieces keep up to 45 s (they need about that whatever the total).
scale() {
	local s=$(($1 * total / 2100)) m=$(($1 < 45 ? $1 : 45))
	echo $((s > m ? s : m))
}

PIECES="xdp restore mem info forged inforelay cluster cpsns cpsxdp cps"
declare -A SHARE=(
	[xdp]=$(scale 40) [restore]=$(scale 50) [mem]=$(scale 270)
	[info]=$(scale 240) [forged]=$(scale 170) [inforelay]=$(scale 420)
	[cluster]=$(scale 300) [cpsns]=$(scale 240)
	[cpsxdp]=$(scale 150) [cps]=0
)
REPORT_RESERVE=30
failed="" ran=0 skipped=""

wanted() { [ -z "${BENCH_ONLY:-}" ] || case " $BENCH_ONLY " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# piece_xdp SECONDS: bench_xdp's table into results/LATEST-xdp.txt.
piece_xdp() {
	local out
	out=$RES/xdp-$(date +%Y%m%d-%H%M%S).txt
	{
		echo "# make bench-xdp $(date '+%Y-%m-%d %H:%M:%S'), $(uname -sr)"
		timeout -k 5 "$1" make -C "$repo" --no-print-directory -s bench-xdp \
			BENCH_XDP_ARGS="${BENCH_XDP_ARGS:--r 200000 -n 5}"
	} >"$out" 2>&1
	local rc=$?
	cat "$out" >&2
	[ "$rc" = 0 ] && cp "$out" "$RES/LATEST-xdp.txt"
	return "$rc"
}

piece_restore() { timeout -k 20 "$1" bash "$dir/bench-restore.sh"; }
piece_mem() { BENCH_MEM_BUDGET=$1 timeout -k 20 "$1" bash "$dir/bench-mem.sh"; }
piece_info() { BENCH_INFO_BUDGET=$1 timeout -k 20 "$1" bash "$dir/bench-info.sh"; }
piece_forged() { BENCH_FORGED_BUDGET=$1 timeout -k 20 "$1" bash "$dir/bench-forged.sh"; }
# The kernel relay (LATEST-info-relay.md); needs build/tests/fixtures (make
# test-build) for the veth peers' XDP_PASS program, and the XDP sink and
# counter (relay_xdp).
piece_inforelay() {
	make -C "$repo" --no-print-directory -s test-build build/tools/bench/relay_sink \
		build/tools/bench/relay_xdp build/tools/bench/flood >/dev/null 2>&1
	BENCH_RELAY_SECS=${BENCH_RELAY_SECS:-30} BENCH_RELAY_STEP_SECS=${BENCH_RELAY_STEP_SECS:-5} \
		timeout -k 20 "$1" bash "$dir/bench-info-relay.sh"
}
# Several boxes on Galera (LATEST-cluster.*): the takeover and the
# staleness of cluster-wide counts; its calls/s part (bench-cps on Galera
# against one MariaDB) only in `make bench-cluster`.
piece_cluster() {
	BENCH_CLUSTER_PARTS=${BENCH_CLUSTER_PARTS:-takeover stale} BENCH_CLUSTER_RUNS=${BENCH_CLUSTER_RUNS:-1} \
	BENCH_CLUSTER_STALE_MARKERS=${BENCH_CLUSTER_STALE_MARKERS:-15} \
		timeout -k 20 "$1" bash "$dir/bench-cluster.sh"
}
# CPU per basic call with XDP attached natively (relay on) against
# detached, in the relay's three namespaces (LATEST-cps-ns.*).
piece_cpsns() {
	make -C "$repo" --no-print-directory -s test-build >/dev/null 2>&1
	BENCH_NS_ROUNDS=${BENCH_NS_ROUNDS:-7} BENCH_NS_SECS=${BENCH_NS_SECS:-6} \
		timeout -k 20 "$1" bash "$dir/bench-cps-ns.sh"
}
# What XDP costs the whole system: sipdlgd without and with the fast path
# in one run (LATEST-cps-xdp.*), short, so that the comparisons with
# Kamailio keep their time.
piece_cpsxdp() {
	BENCH_PROFILES="sipdlgd-dialog sipdlgd-xdp" BENCH_TAG=cps-xdp \
	BENCH_CPS_BUDGET=$1 BENCH_LADDER="2000 4000" BENCH_STEP_SECS=6 \
	BENCH_SEARCH_STEPS=0 BENCH_HOLD_SECS=10 BENCH_CPU_SECS=10 \
		timeout -k 20 "$1" bash "$dir/bench-cps.sh"
}
# The four dialog profiles, Kamailio first in each pair; 6 s ramp steps,
# the 30 s hold, 15 s CPU runs.  MariaDB's CPU counts as other load:
# failed steps are not retried for it (BENCH_DISTURB_PCT=150).
piece_cps() {
	BENCH_PROFILES=${BENCH_CPS_PROFILES:-kamailio-dialog sipdlgd-dialog kamailio-db sipdlgd-db} \
	BENCH_LADDER=${BENCH_LADDER:-1000 2000 3000 4000 5000 6000 8000 12000 16000} \
	BENCH_TAG=cps-all BENCH_CPS_BUDGET=$1 \
	BENCH_STEP_SECS=${BENCH_STEP_SECS:-6} BENCH_HOLD_SECS=${BENCH_HOLD_SECS:-30} \
	BENCH_CPU_SECS=${BENCH_CPU_SECS:-15} BENCH_SEARCH_STEPS=${BENCH_SEARCH_STEPS:-2} \
	BENCH_DISTURB_PCT=${BENCH_DISTURB_PCT:-150} \
		timeout -k 20 "$1" bash "$dir/bench-cps.sh"
}

say "plan: $PIECES, then the report; $total s in all (until $(date -d "@$deadline" +%H:%M:%S))"

# --- build once ---------------------------------------------------------------
say "build: make all and the benchmark tools"
if ! make -C "$repo" --no-print-directory all build/tools/bench/flood build/tools/bench/bench_xdp \
	build/tools/bench/gen_rows >>"$LOG" 2>&1; then
	say "build failed (see $LOG); the pieces run with what is there"
fi
export BENCH_NO_BUILD=1
export BENCH_DEADLINE=$((deadline - REPORT_RESERVE))

# --- the pieces -----------------------------------------------------------------
set -- $PIECES
while [ $# -gt 0 ]; do
	p=$1
	shift
	later=0
	for q in "$@"; do wanted "$q" && later=$((later + ${SHARE[$q]})); done
	left=$((deadline - REPORT_RESERVE - $(date +%s)))
	if ! wanted "$p"; then continue; fi
	if [ "${SHARE[$p]}" = 0 ]; then
		give=$((left - later))		# the last big piece takes the rest
	else
		give=${SHARE[$p]}
		[ "$give" -le $((left - later)) ] || give=$((left - later))
	fi
	if [ "$give" -lt 30 ]; then
		say "skipping $p: $give s left for it"
		skipped="$skipped $p"
		continue
	fi
	say "$p: at most $give s"
	t0=$(date +%s)
	"piece_$p" "$give" 2>&1 | tee -a "$LOG"
	rc=${PIPESTATUS[0]}
	used=$(($(date +%s) - t0))
	ran=$((ran + 1))
	say "$p: done in $used s (exit $rc)"
	[ "$rc" = 0 ] || failed="$failed $p($rc)"
done

# --- the summary ----------------------------------------------------------------
say "report: results/LATEST.md and the charts"
cp "$LOG" "$RES/LATEST-bench.log"
timeout -k 5 $((REPORT_RESERVE + 60)) bash "$dir/report.sh" >/dev/null
say "$ran pieces in $(($(date +%s) - start)) s${skipped:+; skipped:$skipped}${failed:+; failed:$failed}; summary tools/bench/results/LATEST.md"
cp "$LOG" "$RES/LATEST-bench.log"
[ -z "$failed" ]
