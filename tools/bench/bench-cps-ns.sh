#!/bin/bash
# bench-cps-ns.sh - CPU per basic call of sipdlgd with XDP attached (native,
# kernel relay on) against XDP detached, in the three-namespace topology of
# the relay tests and benchmarks (tests/e2e/lib_netns3.sh: caller | box |
# callee, veth pairs, the program attached natively on the box's veths).
# Issue #14's target: XDP attached + relay on costs no more CPU per call
# than XDP detached (<= 1.0x).
#
# sipp's UAC (tools/bench/sipp/uac.xml) runs in the caller namespace,
# sipdlgd in the box namespace, sipp's UAS (uas.xml) in the callee
# namespace; the basic call: INVITE, 180, 200, ACK, BYE, 200.  Each round
# runs both profiles at the same rate, one after the other, the order
# alternating between rounds (xdp first in odd rounds), sipdlgd restarted
# for each run.  The machine is shared: each run's figures are noisy, so
# the report gives every run, the median of each profile and the ratio of
# the medians, and the median of the per-round ratios (a round's two runs
# are seconds apart, so they see about the same other load).
#
# CPU, clock ticks read before and after the UAC's run:
#   proxy  user + system time of the box namespace's processes (sipdlgd);
#   box    proxy + irq and softirq of all CPUs (/proc/stat): the XDP
#          program runs in the veth's NAPI softirq, charged to no process;
#          on one host that softirq also holds the caller's and callee's
#          receive work, an upper bound for the box;
#   all    every CPU's busy time (sipp included, and other users' load).
# Each per 1,000 successful calls.  For the XDP profiles the report also
# says how many ACKs of the 2xx the kernel relayed (xdp.relay.ack:
# xdp.acks_confirmed + xdp.acks_late against the calls).
#
# BENCH_NS_BASE=PATH adds a third profile, xdp-relay-base: the same as
# xdp-relay with another sipdlgd binary (an older build: a before/after
# comparison in the same rounds).
#
# Environment: BENCH_NS_ROUNDS (9; one run's CPU time varies by ±25 % on
# this shared VM, so the ratio needs many rounds), BENCH_NS_RATE (calls/s, 800),
# BENCH_NS_SECS (s per run, 8), BENCH_NS_HOLD_MS (0: the UAC sends the
# BYE right after the ACK; N: it holds each call N ms first, so that the
# dialogs live through a flush of the deferred map writes as real calls
# do), BENCH_NS_STRACE=1 (also count sipdlgd's
# system calls in one extra run of each profile with strace -c -f: the
# syscalls per call; strace slows it down, so not in the CPU figures;
# BENCH_NS_STRACE_OPTS replaces -c, e.g. "-e trace=bpf" for every bpf()
# call with its command and map fd; strace is attached after start-up and
# stays until sipdlgd has ended), BENCH_NS_CALLGRIND=1 (one extra run of each
# profile, 40 calls/s for 12 s, with sipdlgd under valgrind's callgrind:
# the SIP workers' instructions per call, exact where CPU time is noise),
# BENCH_NS_SYSCALLS=0 (skips the
# extra run of each profile whose system calls perf stat counts by their
# tracepoints: per call, by call), BENCH_NS_PERF=1 (one extra run of
# each under perf record: sipdlgd's top symbols and its CPU per call split
# into user, bpf(), other system calls, softirq run in its context and
# other kernel time, and main vs worker threads), BENCH_NS_KEEP=DIR (a
# copy of the run's files).
# Report: tools/bench/results/LATEST-cps-ns.md and .tsv.  Needs root.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/lib_netns3.sh"
e2e_init
[ -n "${BENCH_NS_KEEP:-}" ] && trap "cp -r \"\$E2E_TMP\" \"$BENCH_NS_KEEP\"; e2e_cleanup" EXIT

ROUNDS=${BENCH_NS_ROUNDS:-9}
RATE=${BENCH_NS_RATE:-800}
SECS=${BENCH_NS_SECS:-8}
SIPP_DIR=$ROOT/tools/bench/sipp
OUT=$ROOT/tools/bench/results/LATEST-cps-ns.md
TSV=$ROOT/tools/bench/results/LATEST-cps-ns.tsv
TCK=$(getconf CLK_TCK)
CPORT=5062 UPORT=5061
CALLS=$((RATE * SECS))
HOLD=${BENCH_NS_HOLD_MS:-0}
UAC_XML=$SIPP_DIR/uac.xml
if [ "$HOLD" -gt 0 ]; then
	# The same scenario with a pause between the ACK and the BYE.
	UAC_XML=$E2E_TMP/uac-hold.xml
	awk -v ms="$HOLD" '{ print } /<send ack_txn=/ { ack = 1 }
		ack && /<\/send>/ { print "  <pause milliseconds=\"" ms "\"/>"; ack = 0 }' "$SIPP_DIR/uac.xml" >"$UAC_XML"
fi
BASE=${BENCH_NS_BASE:-}
PROFS="xdp-relay xdp-off${BASE:+ xdp-relay-base}"
# BENCH_NS_COUNT=1: a profile xdp-count, XDP attached with the relay off
# (the kernel counts and matches only): what the relay itself adds.
[ "${BENCH_NS_COUNT:-0}" = 1 ] && PROFS="$PROFS xdp-count"
# BENCH_NS_PASS=1: a profile xdp-pass, sipdlgd as xdp-off with a trivial
# XDP_PASS program attached natively on the box's veths: what the veth
# driver's XDP receive path costs by itself.
[ "${BENCH_NS_PASS:-0}" = 1 ] && PROFS="$PROFS xdp-pass"
T0=$(date +%s)

command -v sipp >/dev/null || { echo "bench-cps-ns: sipp missing (apt-get install sip-tester)"; exit 1; }
[ -x "$SIPDLGD" ] || { echo "bench-cps-ns: $SIPDLGD missing (make all)"; exit 1; }
netns3_setup >/dev/null || { echo "bench-cps-ns: the namespaces could not be made"; exit 1; }

proxy_ticks() {
	local t=0 p f
	for p in $(ip netns pids "$N3_BOX" 2>/dev/null); do
		f=$(cut -d' ' -f14-17 "/proc/$p/stat" 2>/dev/null) || continue
		set -- $f
		t=$((t + $1 + $2 + $3 + $4))
	done
	echo "$t"
}
# all: every process's own CPU time (utime + stime + its reaped children's,
# as /proc/PID/stat gives them: the scheduler's exact run time split by
# ticks), summed.  Not /proc/stat's "cpu" line: on this VM it loses ticks
# (about 176 of 200 a second counted on 2 CPUs) and gave busy totals below
# sipdlgd's own time.  Interrupt work that ran in no task is not in it.
all_ticks() {
	cat /proc/[0-9]*/stat 2>/dev/null |
		awk '{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { printf "%d\n", t }'
}
soft_ticks() { awk '/^cpu / { print $7 + $8 }' /proc/stat; }
load1() { cut -d' ' -f1 /proc/loadavg; }

# perf_split PERF_DATA CALLS: where perf's samples of sipdlgd's threads
# went, CPU s per 1,000 calls: "total user syscalls bpf softirq
# other-kernel main+other-threads workers".  softirq: a sample whose
# stack holds the softirq entry (net_rx_action...), i.e. network receive
# work the kernel ran in sipdlgd's context (on one host: the peer veth's
# NAPI and the delivery to sipp); bpf: inside bpf(); syscalls: any other
# system call; other-kernel: page faults, scheduling, interrupts.
perf_split() {
	perf script -i "$1" -F comm,period,ip,sym,dso 2>/dev/null | awk -v calls="$2" '
		function flush() {
			if (!have) return
			cls = !kern ? "user" : soft ? "softirq" : bpf ? "bpf" : sys ? "syscall" : "kother"
			thr = comm ~ /^sipdlg-w/ ? "workers" : "main"
			s[cls] += per; t[thr] += per; tot += per; have = 0
		}
		/^[^ \t]/ { flush(); comm = $1; per = $NF; have = 1; first = 1; kern = soft = bpf = sys = 0; next }
		/^[ \t]*$/ { flush(); next }
		{
			if (first) { kern = $0 ~ /kernel\.kallsyms/; first = 0 }
			if ($0 ~ /net_rx_action|handle_softirqs|__do_softirq/) soft = 1
			if ($0 ~ /__x64_sys_bpf/) bpf = 1
			if ($0 ~ /__x64_sys_/) sys = 1
		}
		END {
			flush(); k = calls > 0 ? calls / 1000 : 1
			printf "%.4f %.4f %.4f %.4f %.4f %.4f %.4f %.4f\n", tot / 1e9 / k, s["user"] / 1e9 / k,
				s["syscall"] / 1e9 / k, s["bpf"] / 1e9 / k, s["softirq"] / 1e9 / k,
				s["kother"] / 1e9 / k, t["main"] / 1e9 / k, t["workers"] / 1e9 / k
		}'
}

# config PROFILE FILE: the box's sipdlgd, as tools/bench/sipdlg-dialog.yaml
# (2 workers, dialog profiles) with XDP detached (xdp-off) or attached
# natively on both veths with the kernel relay on (xdp-relay).
config() {
	local prof=$1 file=$2 pin
	new_pin_path pin "$prof"
	{
		echo "listen: [\"udp:$N3_BOX4:5060\"]"
		echo "workers: 2"
		echo "dialog:"
		echo "  default_timeout: 43200"
		echo "  db_mode: 0"
		echo "  profiles_with_value: [caller]"
		echo "  profiles_no_value: [inbound]"
		echo "xdp:"
		if [ "$prof" != xdp-off ] && [ "$prof" != xdp-pass ]; then
			echo "  enabled: true"
			echo "  interfaces: [$N3_VBC, $N3_VBE]"
			echo "  mode: native"
			echo "  pin_path: $pin"
			echo "  unknown_dialog: drop"
			if [ "$prof" = xdp-count ]; then
				echo "  relay: { enabled: false }"
			else
				echo "  relay: { enabled: true }"
			fi
		else
			echo "  enabled: false"
		fi
		echo "control:"
		echo "  socket: $E2E_TMP/$prof.sock"
		echo "log:"
		echo "  level: warn"
		echo "routes:"
		echo "  - match: { method: INVITE, in_dialog: false }"
		echo "    actions:"
		echo "      - dlg_manage"
		echo "      - set_dlg_profile: [caller, \"\$fU\"]"
		echo "      - set_dlg_profile: [inbound]"
		echo "      - forward: \"udp:$N3_E4:$CPORT\""
	} >"$file"
}

# run_once PROFILE ROUND [strace]: one sipdlgd, one UAC run of CALLS
# calls at RATE; prints "ok failed proxy_ticks soft_ticks all_ticks secs load"
# (strace: strace -c -f attached to the running sipdlgd from just before
# the UAC's run until sipdlgd has ended, so start-up's system calls are
# not counted per call, the end of the dialogs still held at exit is; the
# summary in PROFILE-strace.txt).
run_once() {
	local prof=$1 round=$2 st=${3:-} d="$E2E_TMP/$1-$2" pid uas uac rc p0 a0 s0 p1 a1 s1 t0 t1 ok fail spid=
	mkdir -p "$d"
	config "$prof" "$d/sipdlg.yaml"
	if [ "$prof" = xdp-pass ]; then
		ip -n "$N3_BOX" link set dev "$N3_VBC" xdpdrv obj "$N3_PASS_OBJ" sec xdp &&
		ip -n "$N3_BOX" link set dev "$N3_VBE" xdpdrv obj "$N3_PASS_OBJ" sec xdp || { echo "xdp-pass attach failed"; return 1; }
	else
		ip -n "$N3_BOX" link set dev "$N3_VBC" xdpdrv off 2>/dev/null
		ip -n "$N3_BOX" link set dev "$N3_VBE" xdpdrv off 2>/dev/null
	fi
	if [ "$st" = callgrind ]; then
		# sipdlgd under callgrind: every instruction its threads run
		local bin=$SIPDLGD
		[ "$prof" = xdp-relay-base ] && bin=$BASE
		printf '#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=%s/cg.out %s "$@"\n' \
			"$d" "$bin" >"$d/vg.sh"
		chmod +x "$d/vg.sh"
		SIPDLGD=$d/vg.sh start_daemon "$prof-$round" "$d/sipdlg.yaml" "$N3_BOX" >"$d/start.out" || { echo "start failed"; return 1; }
	elif [ "$prof" = xdp-relay-base ]; then
		SIPDLGD=$BASE start_daemon "$prof-$round" "$d/sipdlg.yaml" "$N3_BOX" >"$d/start.out" || { echo "start failed"; return 1; }
	else
		start_daemon "$prof-$round" "$d/sipdlg.yaml" "$N3_BOX" >"$d/start.out" || { echo "start failed"; return 1; }
	fi
	pid=$DAEMON_PID
	( cd "$d" && exec nsenter --net="/run/netns/$N3_CALLEE" sipp -sf "$SIPP_DIR/uas.xml" -nostdin \
		-i "$N3_E4" -p "$CPORT" -trace_err -error_file "$d/uas.err" ) >"$d/uas.out" 2>&1 </dev/null &
	uas=$!; E2E_PIDS+=("$uas")
	wait_for 5 in_ns "$N3_CALLEE" ss -Hlnu "sport = :$CPORT"
	if [ "$st" = strace ]; then
		# -p with -f: every thread of sipdlgd, from now until the INT.
		strace ${BENCH_NS_STRACE_OPTS:--c} -f -p "$pid" -o "$d/strace.txt" 2>"$d/strace.err" &
		spid=$!; E2E_PIDS+=("$spid")
		wait_for 5 grep -q "^TracerPid:[[:space:]]*[1-9]" "/proc/$pid/status"
	fi
	sleep 0.5
	p0=$(proxy_ticks) a0=$(all_ticks) s0=$(soft_ticks) t0=$(date +%s.%N)
	( cd "$d" && exec nsenter --net="/run/netns/$N3_CALLER" sipp -sf "$UAC_XML" -nostdin \
		"$N3_BOX4:5060" -s callee -i "$N3_C4" -p "$UPORT" -r "$RATE" -m "$CALLS" \
		-timeout "$((SECS + 20))s" -timeout_error \
		-trace_stat -stf "$d/uac.csv" -fd 1 -trace_err -error_file "$d/uac.err" ) >"$d/uac.out" 2>&1 </dev/null &
	uac=$!; E2E_PIDS+=("$uac")
	# perf: where sipdlgd's CPU goes (its threads, kernel work in their
	# context included), sampled during the run.
	# syscalls: sipdlgd's system calls counted by their tracepoints
	# (perf stat: no strace slow-down), during the run.
	if [ "$st" = syscalls ]; then
		timeout -k 2 $((SECS + 5)) perf stat -x, -e "$SYSC_EVENTS" -o "$d/sysc.txt" -p "$pid" -- sleep "$SECS" \
			>"$d/perf.out" 2>&1
	fi
	if [ "$st" = perf ]; then
		timeout -k 2 $((SECS + 5)) perf record -q -F 1999 -g -o "$d/perf.data" -p "$pid" -- sleep "$SECS" \
			>"$d/perf.out" 2>&1
	fi
	wait "$uac"; rc=$?; forget_pid "$uac"
	p1=$(proxy_ticks) a1=$(all_ticks) s1=$(soft_ticks) t1=$(date +%s.%N)
	ok=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "SuccessfulCall(C)") s = i; if ($i == "FailedCall(C)") f = i }; next }
		{ a = $s; b = $f } END { print (a == "" ? 0 : a), (b == "" ? 0 : b) }' "$d/uac.csv" 2>/dev/null)
	[ -n "$ok" ] || ok="0 0"
	kill "$uas" 2>/dev/null; wait "$uas" 2>/dev/null; forget_pid "$uas"
	# xdp.relay.ack: how many ACKs of the 2xx the kernel relayed (each
	# gives one event, confirmed or late): into ACKS for the report.
	if [ "$prof" != xdp-off ] && [ -z "$st" ]; then
		"$SIPDLGCTL" --socket "$E2E_TMP/$prof.sock" --json stats xdp 2>/dev/null |
			jq -r --arg p "$prof" --arg r "$round" --arg ok "${ok%% *}" \
			'"ack\t\($r)\t\($p)\t\($ok)\t\(."xdp.acks_confirmed" // 0)\t\(."xdp.acks_late" // 0)"' \
			>>"$E2E_TMP/acks.tsv" 2>/dev/null
	fi
	# Under strace, sipdlgd ends traced: the dialogs still held (a BYE's
	# transaction keeps its dialog for a while) end then, and their map
	# deletions are per-call work too; strace writes its summary when
	# sipdlgd is gone.
	kill -TERM "$pid" 2>/dev/null
	if [ -n "$spid" ]; then
		for _ in $(seq 100); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
		kill -INT "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; forget_pid "$spid"
	fi
	# (callgrind writes its counts at the exit, slowly)
	for _ in $(seq $([ "$st" = callgrind ] && echo 600 || echo 50)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; forget_pid "$pid"
	# the SIP workers' instructions (tp_worker_main and all it calls)
	# per completed call; start-up and the main thread's ticks are not in
	# it
	[ "$st" = callgrind ] && callgrind_annotate --inclusive=yes --threshold=100 "$d/cg.out" 2>/dev/null |
		awk -v calls="${ok%% *}" '/tp_core\.c:tp_worker_main / { gsub(",", "", $1)
			if (calls > 0) printf "%.0f\n", $1 / calls; exit }' >"$E2E_TMP/$prof-cg.txt"
	[ "$st" = strace ] && cp "$d/strace.txt" "$E2E_TMP/$prof-strace.txt" 2>/dev/null
	[ "$st" = syscalls ] && awk -F, -v calls="${ok%% *}" '$3 ~ /sys_enter_/ {
			n = $3; sub(/.*sys_enter_/, "", n); printf "%s %.2f\n", n, (calls > 0 ? $1 / calls : 0) }' \
		"$d/sysc.txt" >"$E2E_TMP/$prof-sysc.txt" 2>/dev/null
	if [ "$st" = perf ]; then
		perf report -i "$d/perf.data" --no-children --sort sym --stdio -g none --percent-limit 1.5 \
			2>/dev/null | grep -v '^#' | grep -v '^$' | head -25 >"$E2E_TMP/$prof-perf.txt"
		perf_split "$d/perf.data" "${ok%% *}" >"$E2E_TMP/$prof-split.txt"
	fi
	echo "$ok $((p1 - p0)) $((s1 - s0)) $((a1 - a0)) $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') $(load1) $rc"
}

{
	echo "# bench-cps-ns $(date -u +%Y%m%d-%H%M%S)	rate $RATE	secs $SECS	rounds $ROUNDS"
	echo "# run	round	profile	ok	failed	proxy_cpu_s_per_1000	box_cpu_s_per_1000	all_cpu_s_per_1000	secs	load1	sipp_rc"
} >"$TSV"
for r in $(seq "$ROUNDS"); do
	# Rotate the order: each profile runs first, second (and third)
	# equally often.
	set -- $PROFS
	for _ in $(seq $(( (r - 1) % $# ))); do set -- "${@:2}" "$1"; done
	order="$*"
	for prof in $order; do
		set -- $(run_once "$prof" "$r")
		if [ $# -lt 8 ]; then
			printf 'run\t%s\t%s\tfailed to run\n' "$r" "$prof" >>"$TSV"
			continue
		fi
		awk -v r="$r" -v p="$prof" -v ok="$1" -v f="$2" -v pt="$3" -v st="$4" -v at="$5" -v s="$6" -v l="$7" \
			-v rc="$8" -v tck="$TCK" 'BEGIN { k = (ok > 0 ? ok / 1000 : 1)
			printf "run\t%s\t%s\t%d\t%d\t%.4f\t%.4f\t%.4f\t%s\t%s\t%s\n", r, p, ok, f,
				pt / tck / k, (pt + st) / tck / k, at / tck / k, s, l, rc }' >>"$TSV"
	done
done
if [ "${BENCH_NS_STRACE:-0}" = 1 ]; then
	for prof in $PROFS; do
		set -- $(run_once "$prof" strace strace)
		printf 'strace\t%s\t%s\n' "$prof" "${1:-0}" >>"$TSV"
	done
fi
SYSC_EVENTS=$(for c in epoll_wait recvmmsg sendmmsg futex bpf mprotect madvise brk mmap munmap; do
	printf 'syscalls:sys_enter_%s,' "$c"; done)
SYSC_EVENTS=${SYSC_EVENTS%,}
if [ "${BENCH_NS_SYSCALLS:-1}" = 1 ] && perf stat -e syscalls:sys_enter_bpf true >/dev/null 2>&1; then
	for prof in $PROFS; do
		set -- $(run_once "$prof" syscalls syscalls)
		printf 'syscalls\t%s\t%s\n' "$prof" "${1:-0}" >>"$TSV"
	done
fi
if [ "${BENCH_NS_CALLGRIND:-0}" = 1 ] && command -v valgrind >/dev/null; then
	# slow under valgrind: 40 calls/s for 12 s
	r0=$RATE s0=$SECS c0=$CALLS
	RATE=40 SECS=12 CALLS=480
	for prof in $PROFS; do
		set -- $(run_once "$prof" callgrind callgrind)
		printf 'callgrind\t%s\t%s\n' "$prof" "${1:-0}" >>"$TSV"
	done
	RATE=$r0 SECS=$s0 CALLS=$c0
fi
if [ "${BENCH_NS_PERF:-0}" = 1 ]; then
	for prof in $PROFS; do
		set -- $(run_once "$prof" perf perf)
		printf 'perf\t%s\t%s\n' "$prof" "${1:-0}" >>"$TSV"
	done
fi

# stats COLUMN PROFILE [REF]: of the runs that completed every call,
# "median(REF) median(PROFILE) ratio-of-medians median-of-round-ratios
# runs(REF) runs(PROFILE)"; REF defaults to xdp-off.
stats() {
	awk -F'\t' -v want="$1" -v X="$2" -v O="${3:-xdp-off}" -v calls="$CALLS" '
		function med(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return n == 0 ? "" : (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) }
		$1 == "run" && NF >= 11 && $5 == 0 && $4 >= 0.999 * calls { v[$3, ++n[$3]] = $want; byr[$2, $3] = $want }
		END {
			for (i = 1; i <= n[O]; i++) a[i] = v[O, i]; mo = med(a, n[O]); delete a
			for (i = 1; i <= n[X]; i++) a[i] = v[X, i]; mx = med(a, n[X]); delete a
			k = 0; for (key in byr) { split(key, q, SUBSEP); r = q[1]
				if (q[2] == X && ((r, O) in byr) && byr[r, O] > 0) a[++k] = byr[r, X] / byr[r, O] }
			mr = med(a, k)
			# the spread of the round ratios: quartiles (a[] is sorted
			# by med()), and in how many rounds X cost no more than O
			low = 0; for (i = 1; i <= k; i++) if (a[i] <= 1) low++
			q1 = k ? a[int((k - 1) / 4) + 1] : ""; q3 = k ? a[k - int((k - 1) / 4)] : ""
			printf "%s %s %s %s %d %d %s %s %d/%d\n", (mo == "" ? "-" : sprintf("%.4f", mo)), (mx == "" ? "-" : sprintf("%.4f", mx)),
				(mo > 0 && mx != "" ? sprintf("%.2f", mx / mo) : "-"), (mr == "" ? "-" : sprintf("%.2f", mr)), n[O], n[X],
				(q1 == "" ? "-" : sprintf("%.2f", q1)), (q3 == "" ? "-" : sprintf("%.2f", q3)), low, k }' "$TSV"
}
# prof_header FIRST: a markdown table's header, FIRST then a column per
# profile.
prof_header() {
	local prof
	printf '| %s |' "$1"; for prof in $PROFS; do printf ' %s |' "$prof"; done; echo
	printf '|---|'; for prof in $PROFS; do printf -- '---|'; done; echo
}
# table PROFILE [REF]: the three CPU rows of PROFILE against REF.
table() {
	local o=${2:-xdp-off} k c
	echo "| CPU s / 1,000 calls | $o (median) | $1 (median) | ratio of medians | median of round ratios | quartiles of round ratios | rounds with ratio ≤ 1 |"
	echo "|---|---|---|---|---|---|---|"
	for k in "6 proxy (sipdlgd)" "7 box (proxy + softirq)" "8 all processes"; do
		c=${k%% *}
		set -- "$1" "$o" $(stats "$c" "$1" "$o")
		echo "| ${k#* } | $3 | $4 | $5 | $6 | $9–${10} | ${11} |"
	done
	echo
	echo "Runs counted (no failed call, ≥ 99.9 % of the calls completed): $o $7, $1 $8 of $ROUNDS."
}
{
	echo "# CPU per basic call: XDP attached (native, relay on) vs detached, three namespaces (bench-cps-ns.sh)"
	echo
	echo "$(date -u '+%F %T') UTC, $(nproc) CPUs, kernel $(uname -r), $(sipp -v 2>/dev/null | grep -o 'SIPp v[^ ]*' | head -1); $ROUNDS rounds of $CALLS calls at $RATE calls/s$([ "$HOLD" -gt 0 ] && echo ", each held $HOLD ms between ACK and BYE"), total $(( $(date +%s) - T0 )) s; 1-minute load average at the end $(load1) on $(nproc) CPUs."
	echo "Topology: tests/e2e/lib_netns3.sh: sipp UAC (tools/bench/sipp/uac.xml) in the caller namespace, sipdlgd (2 workers, dialog profiles, as sipdlg-dialog.yaml) in the box namespace, sipp UAS (uas.xml) in the callee namespace; veth pairs."
	echo "xdp-relay: the XDP program attached in native mode on both box veths, xdp.relay on, unknown_dialog drop; xdp-off: xdp.enabled false${BASE:+; xdp-relay-base: xdp-relay with the sipdlgd binary $BASE (before the changes)}. The same basic call (INVITE, 180, 200, ACK, BYE, 200)."
	echo "Each round runs every profile, the order rotating between rounds, sipdlgd restarted for each run. The machine is shared by other jobs: single runs are noisy, the medians and the median of the per-round ratios are the figures."
	echo "CPU s per 1,000 calls: proxy = the box namespace's processes (sipdlgd, user+system; with tick accounting a softirq that runs while sipdlgd is on the CPU is charged to it too); box = proxy + irq/softirq of all CPUs (the XDP program runs in the veth's softirq; on one host this also holds the caller's and callee's receive softirq, and it overlaps proxy); all processes = every process's CPU time from /proc/PID/stat (sipp and any other load on the machine included; /proc/stat's cpu line is not used: on this VM it loses ticks). box's softirq part comes from /proc/stat and undercounts for the same reason. Round ratio quartiles and the number of rounds where the profile cost no more than the reference show the spread."
	echo
	table xdp-relay
	if [ -n "$BASE" ]; then
		echo
		echo "Before the changes (the same rounds):"
		echo
		table xdp-relay-base
		echo
		echo "After against before:"
		echo
		table xdp-relay xdp-relay-base
	fi
	if [ "${BENCH_NS_PASS:-0}" = 1 ]; then
		echo
		echo "A trivial XDP_PASS program on the box's veths, sipdlgd as xdp-off (xdp-pass), against detached:"
		echo
		table xdp-pass
	fi
	if [ "${BENCH_NS_COUNT:-0}" = 1 ]; then
		echo
		echo "XDP attached, relay off (xdp-count), against detached:"
		echo
		table xdp-count
		echo
		echo "Relay on against relay off (both attached):"
		echo
		table xdp-relay xdp-count
	fi
	echo
	echo "Target (issue #14): proxy CPU per call with XDP attached and relay on ≤ 1.0× XDP detached."
	if [ -s "$E2E_TMP/acks.tsv" ]; then
		echo
		echo "ACK of the 2xx relayed by the kernel (xdp.relay.ack; xdp.acks_confirmed + xdp.acks_late of each run, against its completed calls; the rest reached the controller):"
		echo
		for prof in $PROFS; do
			awk -F'\t' -v p="$prof" '$3 == p { n += $4; c += $5; l += $6 }
				END { if (n) printf "- %s: %d of %d (%.1f %%), of them %d confirmed by the event, %d late\n", p, c + l, n, 100 * (c + l) / n, c, l }' \
				"$E2E_TMP/acks.tsv"
		done
	fi
	if [ "${BENCH_NS_STRACE:-0}" = 1 ]; then
		echo
		echo "## System calls of sipdlgd per call (strace -c -f -p, attached from the UAC's start to sipdlgd's exit: start-up not counted; one extra run each, $CALLS calls; strace slows sipdlgd, not in the CPU figures)"
		for prof in $PROFS; do
			okc=$(awk -F'\t' -v p="$prof" '$1 == "strace" && $2 == p { print $3 }' "$TSV")
			echo
			echo "$prof ($okc calls completed): calls per call of the busiest system calls"
			echo
			echo "| syscall | calls | per call |"
			echo "|---|---|---|"
			awk -v n="${okc:-0}" '$1 ~ /^[0-9.]+$/ && NF >= 5 { c = $4; s = $NF; if (s == "total") next
				printf "| %s | %d | %.2f |\n", s, c, (n > 0 ? c / n : 0) }' "$E2E_TMP/$prof-strace.txt" 2>/dev/null |
				sort -t'|' -k3 -nr | head -8
		done
	fi
	if ls "$E2E_TMP"/*-sysc.txt >/dev/null 2>&1; then
		echo
		echo "System calls of sipdlgd per call, counted by their tracepoints (perf stat, one extra run of each profile; deterministic enough to compare where the CPU figures are noise):"
		echo
		prof_header 'system call'
		for c in $(awk '{ print $1 }' "$E2E_TMP"/*-sysc.txt | sort -u); do
			printf '| %s |' "$c"
			for prof in $PROFS; do printf ' %s |' "$(awk -v c="$c" '$1 == c { print $2 }' "$E2E_TMP/$prof-sysc.txt" 2>/dev/null)"; done
			echo
		done
		printf '| all of these |'
		for prof in $PROFS; do printf ' %s |' "$(awk '{ t += $2 } END { printf "%.2f", t }' "$E2E_TMP/$prof-sysc.txt" 2>/dev/null)"; done
		echo
	fi
	if ls "$E2E_TMP"/*-cg.txt >/dev/null 2>&1; then
		echo
		echo "Instructions the SIP workers of sipdlgd ran per call (valgrind --tool=callgrind, one extra run of each profile at 40 calls/s for 12 s; user space only, exact: the bpf() calls' kernel work and the veth's are not in it):"
		echo
		prof_header ''
		printf '| worker instructions per call |'
		for prof in $PROFS; do printf ' %s |' "$(cat "$E2E_TMP/$prof-cg.txt" 2>/dev/null)"; done
		echo
		a=$(cat "$E2E_TMP/xdp-relay-cg.txt" 2>/dev/null) b=$(cat "$E2E_TMP/xdp-off-cg.txt" 2>/dev/null)
		[ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt 0 ] && echo && echo "xdp-relay / xdp-off: $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", a / b }')"
	fi
	if [ "${BENCH_NS_PERF:-0}" = 1 ]; then
		echo
		echo "## Where sipdlgd's CPU goes (perf record -F 1999 -g -p, one extra run each)"
		echo
		echo "perf's samples of sipdlgd's threads, CPU s per 1,000 calls (the run's calls; perf samples for BENCH_NS_SECS): user; kernel split into bpf(), the other system calls, softirq (network receive work run in sipdlgd's context: the peer veth's NAPI and the delivery to sipp, which on one host is not the proxy's own work) and the rest (page faults, scheduling); and by thread (main+other: the main loop, timer and DB threads; workers: the SIP workers)."
		echo
		echo "| profile | total | user | syscalls | bpf() | softirq | other kernel | main+other threads | workers |"
		echo "|---|---|---|---|---|---|---|---|---|"
		for prof in $PROFS; do
			set -- $(cat "$E2E_TMP/$prof-split.txt" 2>/dev/null)
			[ $# -ge 8 ] && echo "| $prof | $1 | $2 | $3 | $4 | $5 | $6 | $7 | $8 |"
		done
		echo
		echo "Top symbols (≥ 1.5 % of its samples):"
		for prof in $PROFS; do
			echo
			echo "$prof:"
			echo
			echo '```'
			cat "$E2E_TMP/$prof-perf.txt" 2>/dev/null
			echo '```'
		done
	fi
	echo
	echo "## Runs"
	echo
	echo "| round | profile | calls ok | failed | proxy CPU/1k | box CPU/1k | all CPU/1k | s | load |"
	echo "|---|---|---|---|---|---|---|---|---|"
	awk -F'\t' '$1 == "run" && NF >= 11 { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6, $7, $8, $9, $10 }
		$1 == "run" && NF < 11 { printf "| %s | %s | %s | | | | | | |\n", $2, $3, $4 }' "$TSV"
	echo
	echo "Command: \`sudo BENCH_NS_ROUNDS=$ROUNDS BENCH_NS_RATE=$RATE BENCH_NS_SECS=$SECS$([ "$HOLD" -gt 0 ] && echo " BENCH_NS_HOLD_MS=$HOLD") BENCH_NS_STRACE=${BENCH_NS_STRACE:-0} BENCH_NS_PERF=${BENCH_NS_PERF:-0}${BASE:+ BENCH_NS_BASE=$BASE} bash tools/bench/bench-cps-ns.sh\`."
} >"$OUT"
cat "$OUT"
