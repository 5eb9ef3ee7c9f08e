#!/bin/bash
# bench-mem.sh - memory per dialog, side by side: Kamailio with its dialog
# module (profile kamailio-dialog) and sipdlgd tracking dialogs (profile
# sipdlgd-dialog), each holding the same number of confirmed dialogs
# (default 100,000), on 127.0.0.1 (`make bench-mem`).
#
# For each profile: start it, wait until it is idle, take a "before"
# snapshot; a sipp UAS answers every INVITE with 200 (Record-Route echoed)
# and, much later, the BYE; a sipp UAC sets up calls (INVITE, 200, ACK by
# the route set) at a fixed rate and holds each one (a long pause before
# the BYE).  When the proxy's count of active dialogs reaches the target
# (or stops growing), the transactions of the set-up are left to expire,
# an "after" snapshot is taken, and everything is stopped (the BYEs are
# never sent).  Memory per dialog = (after - before) / dialogs held:
#   sipdlgd   resident memory of its process (VmRSS, /proc/PID/status)
#   Kamailio  shared memory used (`kamcmd core.shmmem` "used", through the
#             ctl binrpc socket that BENCH_KAM_CTL=1 adds), plus, for
#             information, the private memory of all its processes
#             (sum of RssAnon, /proc/PID/status: the pkg pools as touched)
# Prints a table and the ratio sipdlgd/Kamailio; writes
# tools/bench/results/mem-<time>.md and LATEST-mem.md.  The targets of the
# issue (sipdlgd <= 0.5 x Kamailio, <= 1 KiB per dialog) are reported, not
# asserted.
#
# Exit status: 0 when Kamailio ran, whatever the figures; 1 when Kamailio
# could not be installed or run; 2 on a harness error.  A benchmark, not a
# test.
#
# Environment (all optional):
#   BENCH_MEM_PROFILES  profiles (default "kamailio-dialog sipdlgd-dialog";
#                       the first is the reference of the ratio)
#   BENCH_MEM_DIALOGS   dialogs to hold (default 100000)
#   BENCH_MEM_RATE      call set-up rate, calls/s (default 1500: at 2000/s
#                       Kamailio with 8 children lost ~5 % of the INVITEs on
#                       a shared 2-CPU machine)
#   BENCH_MEM_HOLD      seconds each call is held before its BYE (default:
#                       the fill time + 120 s, at least 120)
#   BENCH_MEM_BUDGET    seconds for the whole run (default 720; make: 780)
#   BENCH_DEADLINE      absolute end (epoch seconds), set by `make bench`
#   BENCH_NO_BUILD=1    do not run `make all` first
#   BENCH_SIPP_NICE, BENCH_PROXY_PORT / BENCH_UAS_PORT / BENCH_UAC_PORT: as bench-cps
set -u

# One brace group: bash parses the whole script before running it.
{
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/bench/lib.sh
. "$BENCH_DIR/lib.sh"

START=$(now)
BUDGET=${BENCH_MEM_BUDGET:-720}
bench_deadline
PROFILES=${BENCH_MEM_PROFILES:-kamailio-dialog sipdlgd-dialog}
TARGET=${BENCH_MEM_DIALOGS:-100000}
RATE=${BENCH_MEM_RATE:-1500}
FILL_SECS=$(((TARGET + RATE - 1) / RATE))
HOLD=${BENCH_MEM_HOLD:-$((FILL_SECS + 120))}
[ "$HOLD" -ge 120 ] || HOLD=120
PLATEAU_POLLS=4		# count unchanged for 4 polls (2 s apart) after the fill: plateau
TXN_WAIT=40		# at most this long for the set-up transactions to expire
# Kamailio's control socket (profiles/kamailio.sh: -A CTL_SOCKET=...).
export BENCH_KAM_CTL=1
SIPDLGCTL=${BENCH_SIPDLGCTL:-$REPO_DIR/build/sipdlgctl}
UAC_XML=$BENCH_DIR/sipp/mem_uac.xml
UAS_XML=$BENCH_DIR/sipp/mem_uas.xml

STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$BENCH_DIR/results
TAG=${BENCH_TAG:-mem}
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

# Per profile results.
declare -A R_KIND R_HELD R_BPD R_PRIV R_BEFORE R_AFTER R_PBEFORE R_PAFTER R_NOTE R_STATUS R_VERSION R_DESC
declare -A R_RBEFORE R_RAFTER R_REAL
declare -A R_SECS R_FILL R_CREATED R_FAILED R_SIPPMEM R_EXTRA
KAM_FATAL=0

# --- preconditions ------------------------------------------------------------

command -v sipp >/dev/null 2>&1 || die "sipp is missing (apt-get install sip-tester)"
command -v ss >/dev/null 2>&1 || die "ss is missing (apt-get install iproute2)"
for port in "$PROXY_PORT" "$UAS_PORT" "$UAC_PORT"; do
	if [ -n "$(ss -Huln "sport = :$port" 2>/dev/null)" ]; then
		die "UDP port $port is in use already; set BENCH_PROXY_PORT/BENCH_UAS_PORT/BENCH_UAC_PORT"
	fi
done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

log "bench-mem: profiles: $PROFILES; $TARGET dialogs at $RATE calls/s, held $HOLD s; budget $((DEADLINE - START)) s; raw data in ${RUN_DIR#"$REPO_DIR"/}"

if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
	log "building sipdlgd (make all)"
	if ! make -C "$REPO_DIR" --no-print-directory all >"$RUN_DIR/build.log" 2>&1; then
		log "  make all failed (see ${RUN_DIR#"$REPO_DIR"/}/build.log); profiles that need build/ may be skipped"
	fi
fi

BG_LOAD=$(busy_pct 2)
log "other load on the machine: ${BG_LOAD}% of ${NCPU} CPUs busy before the run"

# --- measuring ----------------------------------------------------------------

# status_kb PID FIELD: a /proc/PID/status field in kB (0 when gone).
status_kb() {
	awk -v f="$2:" '$1 == f { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# tree_kb FIELD: the sum of a status field over the profile's processes.
tree_kb() {
	local p t=0 v
	for p in $(p_pids); do
		v=$(status_kb "$p" "$1")
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

kam_rpc() { timeout 10 kamcmd -s "unix:$P_DIR/kamailio_ctl" "$@" 2>/dev/null; }

# rpc_field NAME: a "NAME: VALUE" line of kamcmd's output, or a
# "NAME": VALUE member of sipdlgctl's JSON (stdin).
rpc_field() {
	awk -v k="$1" '{ gsub(/[",]/, ""); sub(/^[ \t]+/, "") }
		$1 == k ":" { print $2; exit }'
}

# active_count: confirmed dialogs the running profile holds now ("" when
# it does not answer).
active_count() {
	local out a o
	if [ "${R_KIND[$P_NAME]}" = kamailio ]; then
		out=$(kam_rpc dlg.stats_active) || return 0
		a=$(printf '%s\n' "$out" | rpc_field answering)
		o=$(printf '%s\n' "$out" | rpc_field ongoing)
		[ -n "$o" ] && echo $((${a:-0} + o))
	else
		"$SIPDLGCTL" --socket "$P_DIR/sipdlgd.sock" --json stats dialog 2>/dev/null | rpc_field dialog.active_dialogs
	fi
}

# unconfirmed_count: dialogs the proxy keeps in other states (Kamailio:
# dlg.stats_active all - answering - ongoing; sipdlgd: dialog.early_dialogs).
unconfirmed_count() {
	local out a o l
	if [ "${R_KIND[$P_NAME]}" = kamailio ]; then
		out=$(kam_rpc dlg.stats_active) || return 0
		a=$(printf '%s\n' "$out" | rpc_field answering)
		o=$(printf '%s\n' "$out" | rpc_field ongoing)
		l=$(printf '%s\n' "$out" | rpc_field all)
		[ -n "$l" ] && echo $((l - ${a:-0} - ${o:-0}))
	else
		"$SIPDLGCTL" --socket "$P_DIR/sipdlgd.sock" --json stats dialog 2>/dev/null | rpc_field dialog.early_dialogs
	fi
}

# open_transactions: transactions the proxy still keeps.
open_transactions() {
	if [ "${R_KIND[$P_NAME]}" = kamailio ]; then
		kam_rpc tm.stats | rpc_field current
	else
		"$SIPDLGCTL" --socket "$P_DIR/sipdlgd.sock" --json stats sip 2>/dev/null | rpc_field sip.active_transactions
	fi
}

# mem_main: the figure compared, bytes: Kamailio's shm "used", sipdlgd's VmRSS.
# mem_priv: bytes: Kamailio's private memory (sum of RssAnon), sipdlgd's RssAnon.
mem_main() {
	if [ "${R_KIND[$P_NAME]}" = kamailio ]; then
		kam_rpc core.shmmem | rpc_field used
	else
		echo $(($(status_kb "$P_PID" VmRSS) * 1024))
	fi
}
mem_priv() { echo $(($(tree_kb RssAnon) * 1024)); }
# kam_real: Kamailio's shm "real_used" (used + the allocator's fragment headers).
kam_real() { kam_rpc core.shmmem | rpc_field real_used; }

# --- one profile --------------------------------------------------------------

run_profile() {
	local name=$1 d t0 uas uac n last same=0 i polls maxwait tx m0 m1 q0 q1 held
	if ! load_profile "$name"; then
		R_STATUS[$name]=skipped R_NOTE[$name]="no such profile"
		return 1
	fi
	R_DESC[$name]=$P_DESC
	R_VERSION[$name]=$(p_version)
	if [ -n "${P_CFG:-}" ]; then R_KIND[$name]=kamailio; else R_KIND[$name]=sipdlgd; fi
	if ! p_prepare; then
		log "$name: not available: $P_UNAVAILABLE"
		R_STATUS[$name]=skipped R_NOTE[$name]=$P_UNAVAILABLE
		[ "$P_REQUIRED" = 1 ] || [ "${R_KIND[$name]}" = kamailio ] && KAM_FATAL=1
		return 1
	fi
	d=$RUN_DIR/$name
	mkdir -p "$d/proxy" "$d/sipp"
	t0=$(now)
	log "$name: starting"
	if ! p_start "$d/proxy"; then
		R_STATUS[$name]=failed R_NOTE[$name]="did not start (see ${d#"$REPO_DIR"/}/proxy)"
		[ "${R_KIND[$name]}" = kamailio ] && KAM_FATAL=1
		p_stop
		return 1
	fi
	settle "$P_PID" 10
	for ((i = 0; i < 50; i++)); do
		[ -n "$(active_count)" ] && break
		sleep 0.2
	done
	if [ -z "$(active_count)" ]; then
		R_STATUS[$name]=failed R_NOTE[$name]="its control socket does not answer"
		[ "${R_KIND[$name]}" = kamailio ] && KAM_FATAL=1
		p_stop
		return 1
	fi
	m0=$(mem_main) q0=$(mem_priv)
	R_BEFORE[$name]=$m0 R_PBEFORE[$name]=$q0
	[ "${R_KIND[$name]}" = kamailio ] && R_RBEFORE[$name]=$(kam_real)
	log "$name: before: $(mem_line "$m0" "$q0")"

	# UAS: no -recv_timeout (the BYE comes after the hold); -l above the target.
	# shellcheck disable=SC2086
	( cd "$d/sipp" && exec nice -n "$SIPP_NICE" sipp -sf "$UAS_XML" -i "$BENCH_ADDR" -p "$UAS_PORT" $SIPP_COMMON \
		-default_behaviors -bye -aa -l $((TARGET * 2)) \
		-trace_err -error_file uas_errors.log ) >"$d/sipp/uas.out" 2>&1 &
	uas=$!
	bench_track "$uas"
	if ! wait_port_bound "$UAS_PORT" "$uas" 10; then
		R_STATUS[$name]=error R_NOTE[$name]="sipp UAS did not start (see ${d#"$REPO_DIR"/}/sipp/uas.out)"
		stop_tree "$uas" 5; bench_untrack "$uas"; p_stop
		return 1
	fi
	# shellcheck disable=SC2086
	( cd "$d/sipp" && exec timeout -k 5 $((HOLD + 120)) nice -n "$SIPP_NICE" sipp "$BENCH_ADDR:$PROXY_PORT" -sf "$UAC_XML" \
		-i "$BENCH_ADDR" -p "$UAC_PORT" $SIPP_COMMON -default_behaviors -bye \
		-r "$RATE" -rp 1000 -m "$TARGET" -l "$TARGET" -d $((HOLD * 1000)) -recv_timeout 30000 \
		-timeout "$((HOLD + 90))s" -trace_stat -stf uac_stats.csv -fd 2 \
		-trace_err -error_file uac_errors.log ) >"$d/sipp/uac.out" 2>&1 &
	uac=$!
	bench_track "$uac"
	log "$name: sipp UAC setting up $TARGET calls at $RATE/s (about $FILL_SECS s)"

	# Poll until the target, a plateau after the fill, the end of the
	# profile's share of the time, or sipp's end.
	maxwait=$((FILL_SECS * 2 + 60))
	left=$(((DEADLINE - $(now) - 30) / ${REMAINING:-1}))
	[ "$maxwait" -le "$left" ] || maxwait=$left
	last=-1 n=0 polls=0
	local tu0 el
	tu0=$(now)
	while :; do
		sleep 2
		polls=$((polls + 1))
		n=$(active_count)
		n=${n:-0}
		el=$(($(now) - tu0))
		if [ $((polls % 5)) = 0 ]; then log "  $name: $n confirmed dialogs after $el s"; fi
		[ "$n" -ge "$TARGET" ] && break
		if [ "$n" = "$last" ] && [ "$n" -gt 0 ]; then same=$((same + 1)); else same=0; fi
		last=$n
		if [ "$el" -ge "$FILL_SECS" ] && [ "$same" -ge "$PLATEAU_POLLS" ]; then
			R_NOTE[$name]="the count stopped growing at $n"
			break
		fi
		if ! kill -0 "$uac" 2>/dev/null; then
			R_NOTE[$name]="sipp UAC exited early (see ${d#"$REPO_DIR"/}/sipp/uac.out)"
			break
		fi
		if [ "$el" -ge "$maxwait" ]; then
			R_NOTE[$name]="time's up at $n dialogs"
			break
		fi
	done
	R_FILL[$name]=$el
	log "$name: $n confirmed dialogs after $el s${R_NOTE[$name]:+ (${R_NOTE[$name]})}"

	# Let the transactions of the set-up go (Kamailio keeps an answered
	# INVITE's transaction a few seconds), so that only dialogs remain.
	for ((i = 0; i < TXN_WAIT; i++)); do
		tx=$(open_transactions)
		[ "${tx:-0}" -le 0 ] && break
		sleep 1
	done
	[ "${tx:-0}" -le 0 ] || R_EXTRA[$name]="${tx} transactions still open at the measurement"
	settle "$P_PID" 5
	held=$(active_count)
	held=${held:-$n}
	local unc
	unc=$(unconfirmed_count)
	if [ "${unc:-0}" -gt 0 ]; then
		R_EXTRA[$name]="${R_EXTRA[$name]:+${R_EXTRA[$name]}; }$unc more dialogs not confirmed (early) at the measurement"
	fi
	m1=$(mem_main) q1=$(mem_priv)
	R_AFTER[$name]=$m1 R_PAFTER[$name]=$q1 R_HELD[$name]=$held
	[ "${R_KIND[$name]}" = kamailio ] && R_RAFTER[$name]=$(kam_real)
	log "$name: after:  $(mem_line "$m1" "$q1"), $held dialogs, open transactions ${tx:-?}"
	if [ "$held" -gt 0 ] && [ -n "$m0" ] && [ -n "$m1" ]; then
		R_BPD[$name]=$(((m1 - m0) / held))
		R_PRIV[$name]=$(((q1 - q0) / held))
		if [ -n "${R_RBEFORE[$name]:-}" ] && [ -n "${R_RAFTER[$name]:-}" ]; then
			R_REAL[$name]=$(((R_RAFTER[$name] - R_RBEFORE[$name]) / held))
		fi
		R_STATUS[$name]=ok
	else
		R_STATUS[$name]=failed
		R_NOTE[$name]="${R_NOTE[$name]:+${R_NOTE[$name]}; }no dialogs held or no memory figures"
	fi
	R_SIPPMEM[$name]="UAC $(($(status_kb "$uac" VmRSS) / 1024)) MB, UAS $(($(status_kb "$uas" VmRSS) / 1024)) MB"
	# The UAC's process is `timeout`; sipp is its child.
	local sp
	sp=$(proc_tree "$uac" | tail -1)
	[ -n "$sp" ] && R_SIPPMEM[$name]="UAC $(($(status_kb "$sp" VmRSS) / 1024)) MB, UAS $(($(status_kb "$uas" VmRSS) / 1024)) MB"
	if [ -s "$d/sipp/uac_stats.csv" ]; then
		# shellcheck disable=SC2046
		set -- $(parse_stats "$d/sipp/uac_stats.csv" "$TARGET")
		R_CREATED[$name]=$1 R_FAILED[$name]=$3
	fi

	stop_tree "$uac" 5; bench_untrack "$uac"
	stop_tree "$uas" 5; bench_untrack "$uas"
	p_stop
	R_SECS[$name]=$(($(now) - t0))
	log "$name: done in ${R_SECS[$name]} s"
	wait_port_free "$PROXY_PORT" 10
	wait_port_free "$UAS_PORT" 10
	return 0
}

# mem_line MAIN PRIV: one human line of a snapshot.
mem_line() {
	if [ "${R_KIND[$P_NAME]}" = kamailio ]; then
		echo "shm used $(mb "$1") MB, private (RssAnon, all processes) $(mb "$2") MB"
	else
		echo "VmRSS $(mb "$1") MB (RssAnon $(mb "$2") MB)"
	fi
}
mb() { calc "sprintf(\"%.1f\", ${1:-0} / 1048576)"; }

# --- report -------------------------------------------------------------------

# table: the markdown summary table.
table() {
	local p ref="" refb="" refp=""
	echo "| proxy | dialogs held | measured | bytes per dialog | ratio to ${PROFILE_LIST[0]} | private bytes per dialog (info) |"
	echo "|---|---|---|---|---|---|"
	ref=${PROFILE_LIST[0]}
	refb=${R_BPD[$ref]:-}
	refp=${R_PRIV[$ref]:-}
	for p in "${PROFILE_LIST[@]}"; do
		if [ "${R_STATUS[$p]:-}" != ok ]; then
			echo "| $p | ${R_HELD[$p]:--} | - | - | - | ${R_STATUS[$p]:-not run}: ${R_NOTE[$p]:-} |"
			continue
		fi
		local what ratio="-" priv
		if [ "${R_KIND[$p]}" = kamailio ]; then
			what="shm used (core.shmmem)"
			priv="${R_PRIV[$p]} (RssAnon of all processes; shm + private: $((R_BPD[$p] + R_PRIV[$p]))${R_REAL[$p]:+; shm real_used: ${R_REAL[$p]}})"
		else
			what="VmRSS"
			priv="${R_PRIV[$p]} (RssAnon)"
		fi
		if [ "$p" != "$ref" ] && [ -n "$refb" ] && [ "$refb" -gt 0 ]; then
			ratio=$(calc "sprintf(\"%.2f\", ${R_BPD[$p]} / $refb)")
			if [ "${R_KIND[$ref]}" = kamailio ] && [ -n "$refp" ] && [ $((refb + refp)) -gt 0 ]; then
				ratio="$ratio (vs shm + private: $(calc "sprintf(\"%.2f\", ${R_BPD[$p]} / ($refb + $refp))"))"
			fi
		fi
		echo "| $p | ${R_HELD[$p]} | $what | ${R_BPD[$p]} | $ratio | $priv |"
	done
}

# targets: the issue's targets, reported.
targets() {
	local p k="" s=""
	for p in "${PROFILE_LIST[@]}"; do
		[ "${R_STATUS[$p]:-}" = ok ] || continue
		if [ "${R_KIND[$p]}" = kamailio ] && [ -z "$k" ]; then k=$p; fi
		if [ "${R_KIND[$p]}" = sipdlgd ] && [ -z "$s" ]; then s=$p; fi
	done
	[ -n "$s" ] || { echo "Targets: no sipdlgd figure."; return; }
	local b=${R_BPD[$s]}
	echo "Targets of the issue (reported, not asserted):"
	echo
	if [ "$b" -le 1024 ]; then
		echo "- $s <= 1 KiB per dialog: **met** ($b bytes)"
	else
		echo "- $s <= 1 KiB per dialog: **not met** ($b bytes)"
	fi
	if [ -n "$k" ] && [ "${R_BPD[$k]}" -gt 0 ]; then
		local r
		r=$(calc "sprintf(\"%.2f\", $b / ${R_BPD[$k]})")
		if awk "BEGIN { exit !($r <= 0.5) }"; then
			echo "- $s <= 0.5 x $k (shm): **met** (${r} x)"
		else
			echo "- $s <= 0.5 x $k (shm): **not met** (${r} x)"
		fi
	else
		echo "- $s <= 0.5 x Kamailio: no Kamailio figure"
	fi
}

write_report() {
	local why=${1:-} p total
	total=$(($(now) - START))
	{
		echo "# bench-mem ($TAG: ${PROFILE_LIST[*]}) $(date '+%Y-%m-%d %H:%M:%S')"
		echo
		[ -n "$why" ] && { echo "**Incomplete run: $why.**"; echo; }
		echo "Each proxy in turn holds up to $TARGET confirmed dialogs: sipp UAC (\`sipp/mem_uac.xml\`) sets up calls at $RATE calls/s"
		echo "(INVITE, 200 with Record-Route, ACK by the route set) and holds each for $HOLD s; sipp UAS (\`sipp/mem_uas.xml\`) answers."
		echo "Measured when the proxy's count of confirmed dialogs (sipdlgd: \`sipdlgctl stats dialog\` dialog.active_dialogs;"
		echo "Kamailio: \`kamcmd dlg.stats_active\` answering + ongoing) reached the target or stopped growing, and the set-up"
		echo "transactions had expired (sip.active_transactions / \`tm.stats\` current = 0, at most $TXN_WAIT s)."
		echo "Bytes per dialog = (after - before) / dialogs held: sipdlgd's VmRSS (/proc/PID/status); Kamailio's shared memory"
		echo "\"used\" (\`kamcmd core.shmmem\` over the ctl socket). Private memory (sum of RssAnon of the proxy's processes: Kamailio's"
		echo "pkg pools as touched) is given for information, and so is Kamailio's shm \"real_used\" (used + fragment headers)."
		echo "sipdlgd's RSS also keeps pages its allocator used for the set-up's transactions at their peak and has not returned"
		echo "(at 2000 calls/s a run gave ~90 bytes per dialog more than at 1500), so it is an upper bound of what the dialogs use."
		echo
		echo "Machine: $NCPU CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1 | awk '{ print $1, $2, $3 }')), Linux $(uname -r);"
		echo "other load before the run: ${BG_LOAD}% of all CPUs. sipp: $(sipp -v 2>/dev/null | grep -o 'SIPp v[^ ,]*' | head -1)."
		echo
		table
		echo
		targets
		echo
		for p in "${PROFILE_LIST[@]}"; do
			[ "${R_HELD[$p]:-0}" -lt "$TARGET" ] 2>/dev/null || continue
			[ -n "${R_HELD[$p]:-}" ] || continue
			echo "Note: $p held ${R_HELD[$p]} of the $TARGET dialogs asked for${R_NOTE[$p]:+ (${R_NOTE[$p]})}; the figure is per dialog held."
		done
		echo
		echo "Total run time: $((total / 60)) min $((total % 60)) s. Raw data: \`${RUN_DIR#"$REPO_DIR"/}/\` (sipp CSV and error logs, proxy logs)."
		echo
		echo "## Details"
		echo
		echo "| proxy | before | after | private before | private after | fill s | sipp created / failed | sipp memory | time s | notes |"
		echo "|---|---|---|---|---|---|---|---|---|---|"
		for p in "${PROFILE_LIST[@]}"; do
			echo "| $p | $(mb "${R_BEFORE[$p]:-0}") MB | $(mb "${R_AFTER[$p]:-0}") MB | $(mb "${R_PBEFORE[$p]:-0}") MB | $(mb "${R_PAFTER[$p]:-0}") MB | ${R_FILL[$p]:--} | ${R_CREATED[$p]:--} / ${R_FAILED[$p]:--} | ${R_SIPPMEM[$p]:--} | ${R_SECS[$p]:--} | ${R_STATUS[$p]:-not run}${R_NOTE[$p]:+; ${R_NOTE[$p]}}${R_EXTRA[$p]:+; ${R_EXTRA[$p]}} |"
		done
		echo
		echo "## Versions"
		echo
		for p in "${PROFILE_LIST[@]}"; do
			echo "- $p: ${R_VERSION[$p]:-?} — ${R_DESC[$p]:-}"
		done
	} >"$REPORT"
	REPORTED=1
	if [ -z "$why" ]; then cp "$REPORT" "$LATEST"; fi
}

# --- main ---------------------------------------------------------------------

read -r -a PROFILE_LIST <<<"$PROFILES"
REMAINING=${#PROFILE_LIST[@]}
for p in "${PROFILE_LIST[@]}"; do
	if [ $((DEADLINE - $(now))) -lt $((FILL_SECS + 60)) ]; then
		log "$p: skipped, not enough time left"
		R_STATUS[$p]=skipped R_NOTE[$p]="not enough time left"
		REMAINING=$((REMAINING - 1))
		continue
	fi
	run_profile "$p"
	REMAINING=$((REMAINING - 1))
	[ "$REMAINING" -ge 1 ] || REMAINING=1
done

write_report ""
# Raw data of the last 5 runs only.
ls -1dt "$RESULTS/$TAG"-[0-9]*/ 2>/dev/null | tail -n +6 | while read -r old; do rm -rf "$old"; done

echo
table
echo
targets
for p in "${PROFILE_LIST[@]}"; do
	if [ -n "${R_HELD[$p]:-}" ] && [ "${R_HELD[$p]}" -lt "$TARGET" ] 2>/dev/null; then
		echo "Note: $p held ${R_HELD[$p]} of the $TARGET dialogs asked for${R_NOTE[$p]:+ (${R_NOTE[$p]})}."
	fi
done
echo
echo "Total run time: $(($(now) - START)) s. Report: ${REPORT#"$REPO_DIR"/}"
[ "$KAM_FATAL" = 0 ] || exit 1
exit 0
}
