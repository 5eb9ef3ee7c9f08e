# lib.sh - shared pieces of the sipdlg benchmarks (sourced by bench-*.sh).
#
# Vocabulary:
#   profile   a proxy under test: tools/bench/profiles/NAME.sh defines how
#             to prepare, start, find the PIDs of and stop it (see
#             profiles/README in tools/bench/README.md).
#   scenario  a pair of sipp XML files plus options:
#             tools/bench/scenarios/NAME.sh sets SCEN_* variables.
#   step      one UAC run at a fixed rate for a fixed time against a running
#             profile, with a fresh UAS; its figures land in S_* variables.
#
# Everything listens on 127.0.0.1 only.  Every process started here is
# recorded and stopped by bench_cleanup (installed as an EXIT trap); every
# wait is bounded.
#
# Needs bash, awk (mawk is enough), coreutils, iproute2 (ss), sipp.

BENCH_DIR=${BENCH_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
REPO_DIR=${REPO_DIR:-$(cd "$BENCH_DIR/../.." && pwd)}

BENCH_ADDR=127.0.0.1
PROXY_PORT=${BENCH_PROXY_PORT:-15060}
UAS_PORT=${BENCH_UAS_PORT:-15080}
UAC_PORT=${BENCH_UAC_PORT:-15070}

HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
NCPU=$(nproc 2>/dev/null || echo 1)

# Pass/fail criterion of a step.
MAX_FAIL_RATIO=${BENCH_MAX_FAIL_RATIO:-0.001}	# < 0.1 % failed calls
MIN_RATE_RATIO=${BENCH_MIN_RATE_RATIO:-0.95}	# sipp reached >= 95 % of the target
SAT_CPU_PCT=${BENCH_SAT_CPU_PCT:-85}		# sipp above this % of a core = saturated

BENCH_STARTED_PIDS=()	# every long-running process started (root of its tree)
BENCH_POLICY_RC=""	# set when we installed /usr/sbin/policy-rc.d

# --- output -------------------------------------------------------------------

# log MESSAGE...: progress to stderr and to $RUN_LOG when set.
log() {
	local line
	line="$(date +%H:%M:%S) $*"
	printf '%s\n' "$line" >&2
	if [ -n "${RUN_LOG:-}" ]; then printf '%s\n' "$line" >>"$RUN_LOG"; fi
}

die() {
	log "ERROR: $*"
	exit 2
}

now() { date +%s; }

# bench_deadline: DEADLINE = START + BUDGET, but 10 s before make bench's
# BENCH_DEADLINE when that comes first.
bench_deadline() {
	DEADLINE=$((START + BUDGET))
	if [ -n "${BENCH_DEADLINE:-}" ] && [ "$((BENCH_DEADLINE - 10))" -lt "$DEADLINE" ]; then
		DEADLINE=$((BENCH_DEADLINE - 10))
	fi
}

# fmt EXPR: evaluate an awk expression, print with 3 significant decimals.
calc() { awk "BEGIN { printf \"%s\", $1 }"; }

# --- processes -------------------------------------------------------------

# proc_tree ROOT: ROOT and every live descendant, one PID per line.  Zombies
# (exited, not yet reaped) are left out.
proc_tree() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
	{
		pid = $1; s = $0; sub(/^.*\) /, "", s); split(s, f, " ")
		if (f[1] == "Z") next
		ppid[pid] = f[2]; alive[pid] = 1
	}
	END {
		if (!(root in alive)) exit
		out[root] = 1; n = 1; print root
		do {
			added = 0
			for (p in ppid)
				if (!(p in out) && (ppid[p] in out)) { out[p] = 1; print p; added = 1 }
		} while (added)
	}'
}

# cpu_ticks PID...: the sum of utime+stime (clock ticks, /proc/PID/stat
# fields 14 and 15) of the given processes; each counts all its threads.
cpu_ticks() {
	local p f t=0 s rest
	for p in "$@"; do
		f=/proc/$p/stat
		[ -r "$f" ] || continue
		s=$(cat "$f" 2>/dev/null) || continue
		rest=${s##*) }
		# rest: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
		set -- $rest
		[ $# -ge 13 ] || continue
		t=$((t + ${12} + ${13}))
	done
	echo "$t"
}

# tree_ticks ROOT: CPU ticks of ROOT and all its descendants.
tree_ticks() {
	# shellcheck disable=SC2046
	cpu_ticks $(proc_tree "$1")
}

# bench_track PID: stop this process (and its descendants) at exit.
bench_track() { BENCH_STARTED_PIDS+=("$1"); }

# bench_untrack PID: it has been stopped already.
bench_untrack() {
	local keep=() p
	for p in "${BENCH_STARTED_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	BENCH_STARTED_PIDS=("${keep[@]}")
}

# stop_tree ROOT [SECONDS]: SIGTERM to ROOT, wait up to SECONDS (default 10)
# for ROOT and its descendants to go, then SIGKILL whatever is left.
stop_tree() {
	local root=$1 secs=${2:-10} pids left i
	pids=$(proc_tree "$root")
	[ -n "$pids" ] || { wait "$root" 2>/dev/null; return 0; }
	kill -TERM "$root" 2>/dev/null
	for ((i = 0; i < secs * 10; i++)); do
		left=""
		for p in $pids; do
			if [ -e "/proc/$p" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null; then
				left="$left $p"
			fi
		done
		[ -n "$left" ] || break
		sleep 0.1
	done
	if [ -n "$left" ]; then
		log "  ($(ps -o comm= -p "${left# }" 2>/dev/null | head -1) still running ${secs} s after SIGTERM: SIGKILL to$left)"
		# shellcheck disable=SC2086
		kill -KILL $left 2>/dev/null
	fi
	wait "$root" 2>/dev/null
	return 0
}

bench_cleanup() {
	local i
	trap - EXIT INT TERM HUP
	for ((i = ${#BENCH_STARTED_PIDS[@]} - 1; i >= 0; i--)); do
		stop_tree "${BENCH_STARTED_PIDS[$i]}" 5
	done
	BENCH_STARTED_PIDS=()
	if [ -n "$BENCH_POLICY_RC" ]; then rm -f /usr/sbin/policy-rc.d; fi
}

bench_install_traps() {
	trap bench_cleanup EXIT
	trap 'log "interrupted"; exit 130' INT TERM HUP
}

# port_owner PORT: the PIDs that have a UDP socket bound to 127.0.0.1:PORT
# (or to the wildcard address); a TCP listener for profiles whose sipp
# runs over TCP (P_PORT_PROTO=t, the TLS profiles).
port_owner() {
	ss "-H${P_PORT_PROTO:-u}lnp" "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}

# wait_port_free PORT SECONDS
wait_port_free() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ -z "$(ss "-H${P_PORT_PROTO:-u}ln" "sport = :$1" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_port_bound PORT ROOTPID SECONDS: until a process of ROOTPID's tree
# has bound the UDP port; fails early if ROOTPID died.
wait_port_bound() {
	local port=$1 root=$2 secs=$3 i o tree
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$root" 2>/dev/null || return 1
		o=$(port_owner "$port")
		if [ -n "$o" ]; then
			tree=" $(proc_tree "$root" | tr '\n' ' ') "
			for p in $o; do
				case "$tree" in *" $p "*) return 0 ;; esac
			done
		fi
		sleep 0.1
	done
	return 1
}

# settle ROOT [MAX]: wait until ROOT's tree is (nearly) idle: under 5 % of a
# CPU over half a second, at most MAX seconds (default 10).
settle() {
	local root=$1 max=${2:-10} a b i
	for ((i = 0; i < max * 2; i++)); do
		a=$(tree_ticks "$root")
		sleep 0.5
		b=$(tree_ticks "$root")
		[ $((b - a)) -le $((HZ / 40 + 1)) ] && return 0
	done
	return 0
}

# udp_drops PORT: datagrams dropped so far by the UDP sockets bound to PORT
# (sum of ss's skmem d counters: receive buffer full).
udp_drops() {
	ss -Huamn "sport = :$1" 2>/dev/null | grep -o 'd[0-9]*)' | tr -d 'd)' |
		awk '{ s += $1 } END { print s + 0 }'
}

# machine_ticks: "busy softirq" clock ticks of all CPUs so far (/proc/stat).
machine_ticks() {
	head -1 /proc/stat | awk '{ print $2 + $3 + $4 + $7 + $8 + $9, $8 }'
}

# busy_pct SECONDS: how busy the whole machine is (all CPUs, %), over SECONDS.
busy_pct() {
	local a b
	a=$(head -1 /proc/stat)
	sleep "$1"
	b=$(head -1 /proc/stat)
	printf '%s\n%s\n' "$a" "$b" | awk '
	{ idle = $5 + $6; tot = 0; for (i = 2; i <= NF; i++) tot += $i
	  if (NR == 1) { i0 = idle; t0 = tot } else { i1 = idle; t1 = tot } }
	END { d = t1 - t0; if (d <= 0) { print 0; exit }
	      printf "%.0f\n", 100 * (1 - (i1 - i0) / d) }'
}

# --- Kamailio from Debian ----------------------------------------------------

# ensure_kamailio: install Debian's kamailio package if missing, without
# letting it start a system service.  Returns non-zero when impossible.
ensure_kamailio() {
	local moddir
	if command -v kamailio >/dev/null 2>&1; then
		moddir=$(kamailio -h 2>/dev/null | sed -n 's/.*Modules search path (default: \(.*\)).*/\1/p')
		if [ -z "$moddir" ] || [ -e "$moddir/tm.so" ]; then
			return 0
		fi
	fi
	if [ "$(id -u)" -ne 0 ]; then
		log "kamailio is not installed and this is not root: run 'apt-get install kamailio' first"
		return 1
	fi
	log "installing Debian's kamailio package (benchmark only)"
	export DEBIAN_FRONTEND=noninteractive
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		BENCH_POLICY_RC=1
	fi
	if ! apt-get install -y -qq --no-install-recommends kamailio >>"${RUN_LOG:-/dev/null}" 2>&1; then
		log "apt-get install kamailio failed; trying apt-get update first"
		apt-get update -qq >>"${RUN_LOG:-/dev/null}" 2>&1
		apt-get install -y -qq --no-install-recommends kamailio >>"${RUN_LOG:-/dev/null}" 2>&1 || {
			if [ -n "$BENCH_POLICY_RC" ]; then rm -f /usr/sbin/policy-rc.d; BENCH_POLICY_RC=""; fi
			return 1
		}
	fi
	if [ -n "$BENCH_POLICY_RC" ]; then rm -f /usr/sbin/policy-rc.d; BENCH_POLICY_RC=""; fi
	# The package enables a system service; the benchmark runs its own.
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl stop kamailio.service >/dev/null 2>&1
		systemctl disable kamailio.service >/dev/null 2>&1
	fi
	command -v kamailio >/dev/null 2>&1
}

# --- profiles and scenarios ---------------------------------------------------

# Default hooks; a profile file overrides what it needs.
profile_defaults() {
	P_NAME=$1
	P_LABEL=$1
	P_DESC=""
	P_REQUIRED=0		# 1: the benchmark fails when this profile cannot run
	P_PID=""
	P_UNAVAILABLE=""	# reason, set by p_prepare when the profile cannot run
	P_DIR=""
	unset P_CFG P_YAML
	p_prepare() { return 0; }
	p_start() { return 1; }
	p_pids() { proc_tree "$P_PID"; }
	p_stop() {
		[ -n "$P_PID" ] || return 0
		stop_tree "$P_PID" 10
		bench_untrack "$P_PID"
		P_PID=""
	}
	p_version() { echo "?"; }
	# sipp over TCP for the TLS profiles (a TLS front is in between):
	# its -t mode, the protocol of the ports to wait for, another UAS
	# scenario and more UAS options, and the CPU of the front (counted
	# with the load generator, not as other load).
	P_SIPP_T=u1
	P_PORT_PROTO=u
	P_UAS_SF=""
	P_UAS_OPTS=""
	p_front_ticks() { echo 0; }
}

# load_profile NAME: source tools/bench/profiles/NAME.sh.
load_profile() {
	local f="$BENCH_DIR/profiles/$1.sh"
	[ -r "$f" ] || { log "no profile $1 ($f)"; return 1; }
	profile_defaults "$1"
	# shellcheck disable=SC1090
	. "$f"
}

# load_scenario NAME: source tools/bench/scenarios/NAME.sh.
load_scenario() {
	local f="$BENCH_DIR/scenarios/$1.sh"
	[ -r "$f" ] || die "no scenario $1 ($f)"
	SCEN_NAME=$1
	SCEN_DESC=""
	SCEN_UAC=""
	SCEN_UAS=""
	SCEN_UAC_OPTS=""
	SCEN_UAS_OPTS=""
	SCEN_PER_CALL=1		# requests of interest per call (info-call: 20 INFO)
	SCEN_PER_CALL_WHAT=calls
	# shellcheck disable=SC1090
	. "$f"
	[ -r "$SCEN_UAC" ] && [ -r "$SCEN_UAS" ] || die "scenario $1: missing $SCEN_UAC or $SCEN_UAS"
}

# subst_ports FILE > OUT: the checked-in configs use the default ports; a run
# with other ports gets a rewritten copy.
subst_ports() {
	sed -e "s/127\.0\.0\.1:15060/$BENCH_ADDR:$PROXY_PORT/g" \
	    -e "s/127\.0\.0\.1:15080/$BENCH_ADDR:$UAS_PORT/g" "$1"
}

# --- the TLS front (profiles kamailio-tls, sipdlgd-tls) ----------------------

# sipp has no TLS: stunnel speaks it for both sipp instances, the same way
# for every TLS profile.
#   sipp UAC -TCP-> BENCH_ADDR:PROXY_PORT (stunnel client, client cert)
#            -TLS-> BENCH_ADDR:PROXY_PORT+1 (the proxy under test)
#            -TLS-> BENCH_ADDR:UAS_PORT+1 (stunnel server, asks for the
#                   proxy's certificate) -TCP-> sipp UAS on UAS_PORT
# Certificates: tests/e2e/helpers/tls_certs.sh, once per run, in
# $RUN_DIR/certs (the proxy: sip.test; the callee: callee.test).
TLS_CERTS=""
FRONT_PID=""

tls_certs() {
	[ -n "$TLS_CERTS" ] && [ -s "$TLS_CERTS/sip.pem" ] && return 0
	TLS_CERTS=$RUN_DIR/certs
	bash "$REPO_DIR/tests/e2e/helpers/tls_certs.sh" "$TLS_CERTS" >>"$RUN_LOG" 2>&1
}

# tls_front_start DIR: stunnel for this profile's run; sets FRONT_PID.
tls_front_start() {
	local d=$1
	command -v stunnel >/dev/null 2>&1 || { log "  stunnel is missing (apt-get install stunnel4)"; return 1; }
	tls_certs || { log "  cannot make the TLS certificates (openssl)"; return 1; }
	cat >"$d/stunnel.conf" <<EOF
foreground = yes
pid =
output = $d/stunnel.log
debug = 3
[uac]
client = yes
accept = $BENCH_ADDR:$PROXY_PORT
connect = $BENCH_ADDR:$((PROXY_PORT + 1))
cert = $TLS_CERTS/client.pem
key = $TLS_CERTS/client.key
CAfile = $TLS_CERTS/ca.pem
verifyChain = yes
checkHost = sip.test
[uas]
accept = $BENCH_ADDR:$((UAS_PORT + 1))
connect = $BENCH_ADDR:$UAS_PORT
cert = $TLS_CERTS/callee.pem
key = $TLS_CERTS/callee.key
CAfile = $TLS_CERTS/ca.pem
verifyChain = yes
EOF
	( exec stunnel "$d/stunnel.conf" ) >"$d/stunnel.out" 2>&1 </dev/null &
	FRONT_PID=$!
	bench_track "$FRONT_PID"
	wait_port_bound "$PROXY_PORT" "$FRONT_PID" 10 && return 0
	log "  stunnel did not bind $BENCH_ADDR:$PROXY_PORT; see $d/stunnel.out"
	return 1
}

tls_front_stop() {
	[ -n "$FRONT_PID" ] || return 0
	stop_tree "$FRONT_PID" 5
	bench_untrack "$FRONT_PID"
	FRONT_PID=""
}

tls_front_ticks() { if [ -n "$FRONT_PID" ]; then tree_ticks "$FRONT_PID"; else echo 0; fi; }

# TLS profiles: sipp over TCP, the UAS's Contact names the front's TLS port.
tls_profile_defaults() {
	P_SIPP_T=t1
	P_PORT_PROTO=t
	P_UAS_SF=$BENCH_DIR/sipp/uas-tls.xml
	P_UAS_OPTS="-key contact_hp $BENCH_ADDR:$((UAS_PORT + 1))"
	p_front_ticks() { tls_front_ticks; }
}

# --- sipp -------------------------------------------------------------------

# The load generator runs at a higher priority than the proxy (and than
# anything else on the machine), so that a proxy with many workers does not
# starve it: what fails should be the proxy.
SIPP_NICE=${BENCH_SIPP_NICE:--10}

SIPP_COMMON="-nostdin -buff_size 4194304 -max_log_size 2000000 \
-watchdog_major_maxtriggers 1000000 -watchdog_minor_maxtriggers 1000000"

# start_uas DIR: a fresh UAS in DIR; sets UAS_PID.
start_uas() {
	local d=$1
	# shellcheck disable=SC2086
	( cd "$d" && exec nice -n "$SIPP_NICE" sipp -sf "${P_UAS_SF:-$SCEN_UAS}" -i "$BENCH_ADDR" -p "$UAS_PORT" \
		-t "$P_SIPP_T" $SIPP_COMMON -default_behaviors -bye -aa -recv_timeout 30000 \
		-trace_err -error_file uas_errors.log $SCEN_UAS_OPTS $P_UAS_OPTS ) >"$d/uas.out" 2>&1 &
	UAS_PID=$!
	bench_track "$UAS_PID"
	if ! wait_port_bound "$UAS_PORT" "$UAS_PID" 10; then
		log "  UAS (sipp) did not bind $BENCH_ADDR:$UAS_PORT; see $d/uas.out"
		return 1
	fi
	return 0
}

# children_ticks: sets CHILD_TICKS to the CPU time (ticks) of this shell's
# reaped children (and theirs).  Must run in the main shell, not in $(...):
# a subshell has children of its own.
children_ticks() {
	times >"$RUN_DIR/.times"
	CHILD_TICKS=$(awk -v hz="$HZ" 'NR == 2 {
		t = 0
		for (i = 1; i <= 2; i++) { v = $i; m = v; sub(/m.*/, "", m); s = v; sub(/^[0-9]*m/, "", s); sub(/s$/, "", s); t += m * 60 + s }
		printf "%d\n", t * hz + 0.5 }' "$RUN_DIR/.times")
}

# parse_stats CSV NCALLS: reads sipp's -stf file (';'-separated, header
# first).  Prints: created successful failed achieved_rate retrans watchdog
# outofcall timeout_recv unexpected rr_missing.  achieved_rate is the call
# creation rate while calls were still being created (-1: no such row).
parse_stats() {
	awk -F';' -v n="$2" '
	function epoch(v,   a, k) { k = split(v, a, "\t"); return a[k] + 0 }
	NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	{
		st = epoch($(col["StartTime"])); ct = epoch($(col["CurrentTime"]))
		created = $(col["TotalCallCreated"]) + 0
		ok = $(col["SuccessfulCall(C)"]) + 0; bad = $(col["FailedCall(C)"]) + 0
		retr = $(col["Retransmissions(C)"]) + 0
		wd = $(col["WatchdogMajor(C)"]) + $(col["WatchdogMinor(C)"])
		ooc = $(col["OutOfCallMsgs(C)"]) + 0
		tmo = $(col["FailedTimeoutOnRecv(C)"]) + 0
		unx = $(col["FailedUnexpectedMessage(C)"]) + 0
		rrm = $(col["FailedRegexpHdrNotFound(C)"]) + 0
		if (created < n && ct - st >= 1) ach = created / (ct - st)
	}
	END {
		if (NR < 2) { print "0 0 0 -1 0 0 0 0 0 0"; exit }
		if (ach == "") ach = -1
		printf "%d %d %d %.1f %d %d %d %d %d %d\n", created, ok, bad, ach, retr, wd, ooc, tmo, unx, rrm
	}' "$1"
}

# run_step TAG RATE SECS: one measured UAC run against the running profile.
# Sets S_* (see below) and returns 0 when the rate held.
run_step() {
	local tag=$1 rate=$2 secs=$3
	local d="$RUN_DIR/$P_NAME/$tag-$rate" n=$((rate * secs)) limit hard
	local p0 p1 c0 c1 u0 u1 f0 f1 t0 t1 rc stats
	mkdir -p "$d"
	S_RATE=$rate S_SECS=$secs S_CREATED=0 S_OK=0 S_FAIL=0 S_ACH=0 S_RETR=0
	S_PTICKS=0 S_UACPCT=0 S_UASPCT=0 S_WD=0 S_VERDICT="" S_WHY="" S_HOLDS=0
	S_PROXYDROPS=0 S_UASDROPS=0 S_OTHERPCT=0 S_SAT="" S_TMO=0 S_UNX=0 S_RRM=0
	S_DIR=$d S_CPU1K=""
	if ! start_uas "$d"; then
		S_VERDICT=ERROR S_WHY="UAS did not start"
		return 1
	fi
	limit=$((rate * 6))
	[ "$limit" -ge 1000 ] || limit=1000
	hard=$((secs * 2 + 20))
	u0=$(cpu_ticks "$UAS_PID")
	f0=$(p_front_ticks)
	p0=$(tree_ticks "$P_PID")
	children_ticks
	c0=$CHILD_TICKS
	local m0 m1 d0 d1
	m0=$(machine_ticks)
	d0=$(udp_drops "$PROXY_PORT")
	t0=$(date +%s%N)
	# shellcheck disable=SC2086
	( cd "$d" && exec timeout -k 5 $((hard + 10)) nice -n "$SIPP_NICE" sipp "$BENCH_ADDR:$PROXY_PORT" -sf "$SCEN_UAC" \
		-i "$BENCH_ADDR" -p "$UAC_PORT" -t "$P_SIPP_T" $SIPP_COMMON -default_behaviors -bye \
		-r "$rate" -rp 1000 -m "$n" -l "$limit" -recv_timeout 5000 \
		-timeout "${hard}s" -trace_stat -stf uac_stats.csv -fd 1 -trace_screen \
		-trace_err -error_file uac_errors.log $SCEN_UAC_OPTS ) >"$d/uac.out" 2>&1 &
	local uac=$!
	bench_track "$uac"
	wait "$uac"
	rc=$?
	t1=$(date +%s%N)
	children_ticks
	c1=$CHILD_TICKS
	p1=$(tree_ticks "$P_PID")
	u1=$(cpu_ticks "$UAS_PID")
	f1=$(p_front_ticks)
	m1=$(machine_ticks)
	d1=$(udp_drops "$PROXY_PORT")
	S_UASDROPS=$(udp_drops "$UAS_PORT")
	stop_tree "$UAS_PID" 5
	bench_untrack "$uac"
	bench_untrack "$UAS_PID"

	local el_ms=$(((t1 - t0) / 1000000))
	[ "$el_ms" -gt 0 ] || el_ms=1
	S_PTICKS=$((p1 - p0))
	S_UACPCT=$(((c1 - c0) * 100000 / HZ / el_ms))
	S_UASPCT=$(((u1 - u0) * 100000 / HZ / el_ms))
	S_PROXYDROPS=$((d1 - d0))
	# CPU used by everything else on the machine (softirq left out: the
	# loopback traffic of the step itself is accounted there).
	# shellcheck disable=SC2086
	set -- $m0 $m1
	S_OTHERPCT=$(((($3 - $1) - ($4 - $2) - S_PTICKS - (c1 - c0) - (u1 - u0) - (f1 - f0)) * 100000 / HZ / el_ms))
	[ "$S_OTHERPCT" -ge 0 ] || S_OTHERPCT=0
	if [ ! -s "$d/uac_stats.csv" ]; then
		S_VERDICT=ERROR S_WHY="sipp exited $rc without statistics (see $d/uac.out)"
		return 1
	fi
	stats=$(parse_stats "$d/uac_stats.csv" "$n")
	# shellcheck disable=SC2086
	set -- $stats
	S_CREATED=$1 S_OK=$2 S_FAIL=$(($1 - $2)) S_ACH=$4 S_RETR=$5 S_WD=$6
	S_TMO=$8 S_UNX=$9 S_RRM=${10}
	[ "$S_FAIL" -ge 0 ] || S_FAIL=0
	if awk "BEGIN { exit !($S_ACH < 0) }"; then
		S_ACH=$(calc "$S_CREATED * 1000 / $el_ms")
		awk "BEGIN { exit !($S_ACH > $rate) }" && S_ACH=$rate
	fi
	if [ "$S_OK" -gt 0 ]; then
		S_CPU1K=$(calc "sprintf(\"%.3f\", $S_PTICKS / $HZ * 1000 / $S_OK)")
	fi

	local fail_ok rate_ok sat=""
	fail_ok=$(awk "BEGIN { print ($S_CREATED > 0 && $S_FAIL / $S_CREATED < $MAX_FAIL_RATIO) ? 1 : 0 }")
	rate_ok=$(awk "BEGIN { print ($S_ACH >= $MIN_RATE_RATIO * $rate && $S_CREATED >= $MIN_RATE_RATIO * $n) ? 1 : 0 }")
	if [ "$S_UACPCT" -ge "$SAT_CPU_PCT" ]; then sat="sipp UAC at ${S_UACPCT}% CPU"; fi
	if [ "$S_UASPCT" -ge "$SAT_CPU_PCT" ]; then sat="${sat:+$sat, }sipp UAS at ${S_UASPCT}% CPU"; fi
	S_SAT=$sat
	if [ "$fail_ok" = 1 ] && [ "$rate_ok" = 1 ]; then
		S_VERDICT=held S_HOLDS=1
	elif [ "$fail_ok" = 1 ]; then
		S_VERDICT=short
		S_WHY="sipp reached only ${S_ACH} calls/s"
		if [ -n "$sat" ]; then S_WHY="$S_WHY: load generator limit ($sat)"; S_SIPP_LIMITED=1; fi
	else
		S_VERDICT=failed
		S_WHY="$(calc "sprintf(\"%.2f\", 100 * $S_FAIL / ($S_CREATED > 0 ? $S_CREATED : 1))")% failed"
		[ "$S_TMO" -gt 0 ] && S_WHY="$S_WHY; $S_TMO timed out"
		[ "$S_UNX" -gt 0 ] && S_WHY="$S_WHY; $S_UNX unexpected messages"
		[ "$S_RRM" -gt 0 ] && S_WHY="$S_WHY; $S_RRM 200 OK without Record-Route"
		[ -n "$sat" ] && S_WHY="$S_WHY; $sat"
	fi
	if [ "$S_HOLDS" != 1 ]; then
		[ "$S_PROXYDROPS" -gt 0 ] && S_WHY="$S_WHY; proxy socket dropped $S_PROXYDROPS datagrams"
		[ "$S_UASDROPS" -gt 0 ] && S_WHY="$S_WHY; UAS socket dropped $S_UASDROPS"
	fi
	[ "$S_WD" -gt 0 ] && S_WHY="${S_WHY:+$S_WHY; }sipp watchdog fired $S_WD times (starved of CPU)"
	[ "$S_OTHERPCT" -ge 20 ] && S_WHY="${S_WHY:+$S_WHY; }other processes used ${S_OTHERPCT}% of a CPU"
	return $((1 - S_HOLDS))
}

# step_line: one human line about the last step.
step_line() {
	printf '%-7s %6s/s x %2ss: %7s calls, %5s failed, sipp %7s/s, proxy %6.2f CPU s (%s s/1000), UAC %3s%% UAS %3s%% other %3s%%%s' \
		"$S_VERDICT" "$S_RATE" "$S_SECS" "$S_CREATED" "$S_FAIL" "$S_ACH" \
		"$(calc "$S_PTICKS / $HZ")" "${S_CPU1K:--}" "$S_UACPCT" "$S_UASPCT" "$S_OTHERPCT" "${S_WHY:+ - $S_WHY}"
}

# step_row: the last step as a markdown table row.
step_row() {
	printf '| %s | %s | %s | %s | %s | %s | %s | %.2f | %s | %s%% | %s%% | %s%% | %s %s |\n' \
		"$1" "$S_RATE" "$S_SECS" "$S_CREATED" "$S_OK" "$S_FAIL" "$S_ACH" \
		"$(calc "$S_PTICKS / $HZ")" "${S_CPU1K:--}" "$S_UACPCT" "$S_UASPCT" "$S_OTHERPCT" "$S_VERDICT" "${S_WHY:+($S_WHY)}"
}

# scenario_msg XML INDEX: what the INDEX-th message of a sipp scenario is
# ("recv 180", "send BYE"), for sipp's "message NAME uac:INDEX" errors.
scenario_msg() {
	awk -v want="$2" '
	/<(send|recv|pause|nop)[ >]/ {
		n++; pending = 0
		if ($0 ~ /<recv/) {
			d = $0; sub(/.*(response|request)="/, "", d); sub(/".*/, "", d)
			desc[n - 1] = "recv " d
		} else if ($0 ~ /<send/) { pending = 1; desc[n - 1] = "send" }
		else desc[n - 1] = "pause"
		next
	}
	pending && /[A-Za-z]/ && $0 !~ /CDATA/ {
		m = $1; if (m == "SIP/2.0") m = $2
		desc[n - 1] = "send " m; pending = 0
	}
	END { if ((want "") in desc) print desc[want] }' "$1"
}

# first_error DIR: the first call error sipp logged in a step, one line.
first_error() {
	local f="$1/uac_errors.log" e i
	[ -s "$f" ] || { echo ""; return; }
	# Entries start with "DATE<TAB>TIME<TAB>EPOCH: " and are not always
	# separated by newlines.
	e=$(grep -m1 -E 'Aborting|timeout|Dead call|Discarding|unexpected|regexp|header' "$f" |
		sed -E -e 's/^[^\t]*\t[^\t]*\t[0-9.]+: //' -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}\t.*//' |
		cut -c1-200)
	i=$(printf '%s' "$e" | sed -n -E 's/.*message [^ ]+ [a-z]+:([0-9]+) .*/\1/p')
	if [ -n "$i" ] && [ -n "${SCEN_UAC:-}" ]; then
		e="$e [uac:$i is: $(scenario_msg "$SCEN_UAC" "$i")]"
	fi
	printf '%s\n' "$e"
}
