#!/bin/bash
# report.sh - the summary of `make bench`: tools/bench/results/LATEST.md
# (both systems side by side, the ratios against the issue's targets, the
# machine) and PNG charts made with gnuplot (Debian's gnuplot-nox,
# installed here when missing and root):
#   LATEST-calls.png    calls/s against failed calls (every ramp step)
#   LATEST-cpu.png      CPU s per 1,000 calls against calls/s (steps that held)
#   LATEST-info.png     INFO/s against failed calls (bench-info steps)
#   LATEST-forged.png   forged requests/s against failed real calls
#
# It runs nothing but gnuplot: it reads what the benchmarks left in
# results/: LATEST-cps-all.tsv (bench-cps with the four dialog profiles;
# else LATEST-cps-dialog.tsv and LATEST-cps-db.tsv), LATEST-info.tsv,
# LATEST-forged.tsv, LATEST-mem.md, LATEST-restore.md, LATEST-cluster.md, LATEST-xdp.txt and
# LATEST-perf.txt.  A missing piece is shown as "-" with a note.
#
# Environment: BENCH_REPORT_NO_CHARTS=1 (tables only).
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/bench/lib.sh
. "$BENCH_DIR/lib.sh"
RES=$BENCH_DIR/results
OUT=$RES/LATEST.md
WORK=$(mktemp -d /tmp/sipdlg-bench-report.XXXXXX) || exit 2
trap '[ -n "${BENCH_REPORT_KEEP:-}" ] || rm -rf "$WORK"' EXIT

# --- readers ------------------------------------------------------------------

# The cps figures: one run with all four profiles, else the two runs.
CPS_FILES=""
if [ -s "$RES/LATEST-cps-all.tsv" ]; then
	CPS_FILES="$RES/LATEST-cps-all.tsv"
	# a later dedicated run (make bench-cps with the dialog or db profiles,
	# full-length holds) wins for the profiles it has: summary() takes the
	# last file that has a profile
	for f in "$RES/LATEST-cps-dialog.tsv" "$RES/LATEST-cps-db.tsv"; do
		[ -s "$f" ] && [ "$f" -nt "$RES/LATEST-cps-all.tsv" ] && CPS_FILES="$CPS_FILES $f"
	done
else
	for f in "$RES/LATEST-cps-dialog.tsv" "$RES/LATEST-cps-db.tsv"; do
		[ -s "$f" ] && CPS_FILES="$CPS_FILES $f"
	done
fi

# summary FILES PROFILE COLUMN: a column of the profile's summary row
# ("-" when absent); the last file that has the profile wins.
summary() {
	local files=$1 prof=$2 col=$3 v
	[ -n "$files" ] || { echo "-"; return; }
	# shellcheck disable=SC2086
	v=$(cat $files 2>/dev/null | awk -F'\t' -v p="$prof" -v c="$col" '$1 == "summary" && $2 == p { v = $c } END { print v }')
	echo "${v:--}"
}

# cell VALUE STATUS: the figure as the report shows it (* unconfirmed, >= lower bound).
cell() {
	case "$2" in
	unconfirmed) echo "$1*" ;;
	lower-bound) echo "≥ $1" ;;
	nonfunctional | none) echo "0" ;;
	*) echo "$1" ;;
	esac
}

num() { case "$1" in '' | - | *[!0-9.]*) return 1 ;; *) return 0 ;; esac; }

# ratio A B: A/B with 2 decimals, or "-".
ratio() {
	if num "$1" && num "$2" && awk "BEGIN { exit !($2 > 0) }"; then
		awk "BEGIN { printf \"%.2f\", $1 / $2 }"
	else
		echo "-"
	fi
}

# verdict RATIO OP TARGET: "met" / "**not met**" / "-".
verdict() {
	num "$1" || { echo "-"; return; }
	if awk "BEGIN { exit !($1 $2 $3) }"; then echo "met"; else echo "**not met**"; fi
}

# source_line FILE: "FILE (its first line's date)".
source_of() {
	local f=$1 d
	[ -e "$f" ] || { echo "not run"; return; }
	d=$(head -1 "$f" | grep -oE '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}|[0-9]{8}-[0-9]{6}' | head -1)
	echo "[$(basename "$f")]($(basename "$f"))${d:+ ($d)}"
}

# mem_bpd PROFILE: bytes per dialog from LATEST-mem.md's table.
mem_bpd() {
	awk -F'|' -v p="$1" '{ gsub(/ /, "", $2) } $2 == p && $5 ~ /^ *[0-9]+ *$/ { gsub(/ /, "", $5); print $5; exit }' \
		"$RES/LATEST-mem.md" 2>/dev/null
}
mem_held() {
	awk -F'|' -v p="$1" '{ gsub(/ /, "", $2) } $2 == p && $5 ~ /^ *[0-9]+ *$/ { gsub(/ /, "", $3); print $3; exit }' \
		"$RES/LATEST-mem.md" 2>/dev/null
}

# xdp_ns LABEL: the median ns of a bench_xdp row (the third column from
# the end, the fourth in tables with the "over floor" column).
xdp_ns() {
	awk -v l="$1" '/^packet .* median / { back = / over floor$/ ? 3 : 2 }
		index($0, l) == 1 { print $(NF - back); exit }' "$RES/LATEST-xdp.txt" 2>/dev/null
}

# --- figures ------------------------------------------------------------------

CPS_SRC=""
for f in $CPS_FILES; do CPS_SRC="${CPS_SRC:+$CPS_SRC, }$(source_of "${f%.tsv}.md")"; done
[ -n "$CPS_SRC" ] || CPS_SRC="not run"

# md_cps PROFILE: "max status cpu1k cpu_rate source" from a bench-cps
# markdown report that has the profile (runs older than the TSV output):
# LATEST-cps-all.md, else LATEST-cps-dialog.md / LATEST-cps-db.md.
md_cps() {
	local f
	for f in "$RES/LATEST-cps-all.md" "$RES/LATEST-cps-dialog.md" "$RES/LATEST-cps-db.md"; do
		[ -e "$f" ] || continue
		awk -F'|' -v p="$1" -v f="$(basename "$f")" '
		/CPU s per 1000 calls @/ && !rate { r = $0; sub(/.*@ /, "", r); sub(/\/s.*/, "", r); rate = r }
		{ n = $2; gsub(/ /, "", n) }
		n == p && $3 ~ /[0-9]/ {
			m = $3; gsub(/ /, "", m); st = "ok"
			if (m ~ /\*$/) { st = "unconfirmed"; sub(/\*$/, "", m) }
			c = $4; gsub(/ /, "", c); if (c == "") c = "-"
			print m, st, c, (rate == "" ? "-" : rate), f; found = 1; exit
		}
		END { exit !found }' "$f" && return 0
	done
	return 1
}

declare -A V ST
CPS_MD=""
for p in kamailio-dialog sipdlgd-dialog kamailio-db sipdlgd-db sipdlgd-xdp; do
	V[cps_$p]=$(summary "$CPS_FILES" "$p" 3)
	ST[cps_$p]=$(summary "$CPS_FILES" "$p" 4)
	V[cpu_$p]=$(summary "$CPS_FILES" "$p" 5)
	V[cpurate_$p]=$(summary "$CPS_FILES" "$p" 6)
	if [ "${V[cps_$p]}" = "-" ] && row=$(md_cps "$p"); then
		# shellcheck disable=SC2086
		set -- $row
		V[cps_$p]=$1 ST[cps_$p]=$2 V[cpu_$p]=$3 V[cpurate_$p]=$4
		case " $CPS_MD " in *" $5 "*) ;; *) CPS_MD="$CPS_MD $5" ;; esac
	fi
done
if [ -n "$CPS_MD" ]; then
	for f in $CPS_MD; do CPS_SRC="${CPS_SRC#not run}${CPS_SRC:+, }$(source_of "$RES/$f")"; done
	CPS_SRC="${CPS_SRC#, } (older runs without step data: no chart)"
fi
# The XDP row compares sipdlgd with and without XDP from one invocation:
# make bench's cpsxdp piece (LATEST-cps-xdp.tsv), else the cps files.
XDP_FILES=$CPS_FILES
[ -s "$RES/LATEST-cps-xdp.tsv" ] && XDP_FILES="$RES/LATEST-cps-xdp.tsv"
for p in sipdlgd-dialog sipdlgd-xdp; do
	V[xcps_$p]=$(summary "$XDP_FILES" "$p" 3)
	ST[xcps_$p]=$(summary "$XDP_FILES" "$p" 4)
	V[xcpu_$p]=$(summary "$XDP_FILES" "$p" 5)
done
INFO_TSV=$RES/LATEST-info.tsv
[ -s "$INFO_TSV" ] || INFO_TSV=""
PER_CALL=$(head -1 "$INFO_TSV" 2>/dev/null | sed -n 's/.*per_call \([0-9]*\).*/\1/p')
PER_CALL=${PER_CALL:-20}
for p in kamailio-dialog sipdlgd-dialog; do
	c=$(summary "$INFO_TSV" "$p" 3)
	ST[info_$p]=$(summary "$INFO_TSV" "$p" 4)
	if num "$c"; then V[info_$p]=$((c * PER_CALL)); else V[info_$p]="-"; fi
	c=$(summary "$INFO_TSV" "$p" 5)
	if num "$c"; then V[infocpu_$p]=$(awk "BEGIN { printf \"%.4f\", $c / $PER_CALL }"); else V[infocpu_$p]="-"; fi
	V[inforate_$p]=$(summary "$INFO_TSV" "$p" 6)
done
FORGED_TSV=$RES/LATEST-forged.tsv
[ -s "$FORGED_TSV" ] || FORGED_TSV=""
# How the flooders sent (the header's "send" field; older files: UDP sockets).
FORGED_SEND="UDP sockets to 127.0.0.1"
if [ -n "$FORGED_TSV" ] && head -1 "$FORGED_TSV" | grep -q "$(printf '\tsend packet')"; then
	FORGED_SEND="AF_PACKET frames on lo (qdisc bypassed) in a network namespace of the run's own"
fi
for p in kamailio-forged sipdlgd-forged; do
	V[forged_$p]=$(summary "$FORGED_TSV" "$p" 3)
	ST[forged_$p]=$(summary "$FORGED_TSV" "$p" 4)
done
V[mem_k]=$(mem_bpd kamailio-dialog); V[mem_s]=$(mem_bpd sipdlgd-dialog)
V[memheld_k]=$(mem_held kamailio-dialog); V[memheld_s]=$(mem_held sipdlgd-dialog)
V[restore]=$(sed -n 's/.*\*\*Best: \([0-9.]*\) s\*\*.*/\1/p' "$RES/LATEST-restore.md" 2>/dev/null | head -1)
V[restore_n]=$(sed -n 's/.*\*\*Best: [0-9.]* s\*\* for \([0-9]*\) dialogs.*/\1/p' "$RES/LATEST-restore.md" 2>/dev/null | head -1)
# The hold of the cps runs (30 s in make bench).
HOLD=$(for f in $CPS_FILES; do head -1 "$f" | sed -n 's/.*hold_secs \([0-9]*\).*/\1/p'; done | sort -n | head -1)
if [ -z "$HOLD" ] && [ -n "$CPS_MD" ]; then
	HOLD=$(for f in $CPS_MD; do sed -n 's/.*highest rate that held for \([0-9]*\) s.*/\1/p' "$RES/$f"; done | sort -n | head -1)
fi
INFO_HOLD=$(head -1 "$INFO_TSV" 2>/dev/null | sed -n 's/.*hold_secs \([0-9]*\).*/\1/p')
V[xdp_bye]=$(xdp_ns "in-dialog BYE, cookie in 1st Route")
V[xdp_unknown]=$(xdp_ns "unknown cookie")
V[xdp_floor]=$(xdp_ns "floor (trivial XDP_PASS)")
V[xdp_reply]=$(xdp_ns "reply within a dialog")

d() { local v=${1:-}; echo "${v:--}"; }

R_CPS0=$(ratio "${V[cps_sipdlgd-dialog]}" "${V[cps_kamailio-dialog]}")
R_CPS1=$(ratio "${V[cps_sipdlgd-db]}" "${V[cps_kamailio-db]}")
R_CPU0=$(ratio "${V[cpu_sipdlgd-dialog]}" "${V[cpu_kamailio-dialog]}")
R_CPU1=$(ratio "${V[cpu_sipdlgd-db]}" "${V[cpu_kamailio-db]}")
R_XDPCPS=$(ratio "${V[xcps_sipdlgd-xdp]}" "${V[xcps_sipdlgd-dialog]}")
R_XDPCPU=$(ratio "${V[xcpu_sipdlgd-xdp]}" "${V[xcpu_sipdlgd-dialog]}")
R_INFO=$(ratio "${V[info_sipdlgd-dialog]}" "${V[info_kamailio-dialog]}")
R_INFOCPU=$(ratio "${V[infocpu_sipdlgd-dialog]}" "${V[infocpu_kamailio-dialog]}")
R_MEM=$(ratio "${V[mem_s]:-}" "${V[mem_k]:-}")
R_FORGED=$(ratio "${V[forged_sipdlgd-forged]}" "${V[forged_kamailio-forged]}")
R_FORGED_CELL=$R_FORGED
[ "${ST[forged_sipdlgd-forged]}" = lower-bound ] && num "$R_FORGED" && R_FORGED_CELL="≥ $R_FORGED"
FORGED_VERDICT=$(verdict "$R_FORGED" '>=' 10)
if [ "$FORGED_VERDICT" != met ] && [ "${ST[forged_sipdlgd-forged]}" = lower-bound ]; then
	FORGED_VERDICT="not shown (sipdlgd's figure is the flooder's limit)"
fi

# --- charts -------------------------------------------------------------------

CHARTS=""
ensure_gnuplot() {
	command -v gnuplot >/dev/null 2>&1 && return 0
	[ "$(id -u)" -eq 0 ] || return 1
	echo "report: installing Debian's gnuplot-nox (benchmark only)" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null 2>&1 || {
		apt-get update -qq >/dev/null 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null 2>&1
	}
	command -v gnuplot >/dev/null 2>&1
}

# steps_dat FILES PROFILE XCOL YEXPR OUT [HELD]: "x y" rows of a profile's
# step rows, sorted by x; YEXPR is awk over the fields (f = failed %).
steps_dat() {
	local files=$1 prof=$2 xcol=$3 yexpr=$4 out=$5 held=${6:-0}
	# shellcheck disable=SC2086
	cat $files 2>/dev/null | awk -F'\t' -v p="$prof" -v xc="$xcol" -v held="$held" '
	$1 == "step" && $2 == p {
		if (held && $NF != "held" && $12 != "held") next
		x = $xc + 0; if (x <= 0) next
		print x "\t" '"$yexpr"'
	}' | sort -n >"$out"
	[ -s "$out" ]
}

plot_lines() {	# TITLE XLABEL YLABEL PNG LOGX LOGY "file|title" ...
	local title=$1 xl=$2 yl=$3 png=$4 logx=$5 logy=$6 s="" spec f t
	shift 6
	for spec in "$@"; do
		f=${spec%%|*} t=${spec#*|}
		[ -s "$f" ] || continue
		s="${s:+$s, }'$f' using 1:2 smooth unique with linespoints lw 2 pt 7 title '$t'"
	done
	[ -n "$s" ] || return 1
	{
		echo "set terminal $TERM_PNG size 1000,540"
		echo "set output '$png'"
		echo "set title '$title'"
		echo "set xlabel '$xl'"
		echo "set ylabel '$yl'"
		echo "set grid"
		echo "set key outside right top"
		[ "$logx" = 1 ] && echo "set logscale x"
		if [ "$logy" = 1 ]; then
			echo "set logscale y"
			echo "set yrange [0.008:150]"
			echo "set ytics ('0' 0.01, '0.1' 0.1, '1' 1, '10' 10, '100' 100)"
			echo "set arrow from graph 0, first 0.1 to graph 1, first 0.1 nohead dt 2 lc rgb 'red'"
			echo "set label '0.1 % (limit)' at graph 0.01, first 0.13 tc rgb 'red'"
		else
			echo "set yrange [0:*]"
		fi
		echo "plot $s"
	} >"$WORK/plot.gp"
	gnuplot "$WORK/plot.gp" 2>>"$WORK/gnuplot.err"
}

# failed % with a floor of 0.01 (log axis): created $6, failed $8.
FPCT='(($6 > 0 ? 100 * $8 / $6 : 100) < 0.01 ? 0.01 : ($6 > 0 ? 100 * $8 / $6 : 100))'
if [ "${BENCH_REPORT_NO_CHARTS:-0}" != 1 ] && ensure_gnuplot; then
	if gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1; then TERM_PNG="pngcairo font ',10'"; else TERM_PNG=png; fi
	specs=() cspecs=()
	for p in kamailio-dialog sipdlgd-dialog kamailio-db sipdlgd-db; do
		steps_dat "$CPS_FILES" "$p" 4 "$FPCT" "$WORK/calls-$p.dat" && specs+=("$WORK/calls-$p.dat|$p")
		steps_dat "$CPS_FILES" "$p" 4 '$11' "$WORK/cpu-$p.dat" 1 && cspecs+=("$WORK/cpu-$p.dat|$p")
	done
	# CPU per 1,000 calls: only steps that held and have a figure.
	for f in "$WORK"/cpu-*.dat; do [ -e "$f" ] && awk '$2 ~ /^[0-9.]+$/' "$f" >"$f.x" && mv "$f.x" "$f"; done
	plot_lines "calls/s against failed calls (ramp, search, hold and CPU steps; basic-call)" \
		"calls/s (target)" "failed calls, %" "$RES/LATEST-calls.png" 0 1 "${specs[@]}" && CHARTS="$CHARTS LATEST-calls.png"
	plot_lines "proxy CPU seconds per 1,000 calls (steps that held)" \
		"calls/s" "CPU s per 1000 calls (all processes of the proxy)" "$RES/LATEST-cpu.png" 0 0 "${cspecs[@]}" && CHARTS="$CHARTS LATEST-cpu.png"
	specs=()
	for p in kamailio-dialog sipdlgd-dialog; do
		steps_dat "$INFO_TSV" "$p" 4 "$FPCT" "$WORK/info-$p.dat" &&
			awk -v k="$PER_CALL" '{ print $1 * k "\t" $2 }' "$WORK/info-$p.dat" >"$WORK/info-$p.k" && specs+=("$WORK/info-$p.k|$p")
	done
	plot_lines "in-dialog INFO/s against failed calls ($PER_CALL INFO per call)" \
		"INFO requests/s (target)" "failed calls, %" "$RES/LATEST-info.png" 0 1 "${specs[@]}" && CHARTS="$CHARTS LATEST-info.png"
	specs=()
	for p in kamailio-forged sipdlgd-forged; do
		# forged: sent/s $5, created $7, failed $9
		steps_dat "$FORGED_TSV" "$p" 5 '(($7 > 0 ? 100 * $9 / $7 : 100) < 0.01 ? 0.01 : ($7 > 0 ? 100 * $9 / $7 : 100))' \
			"$WORK/forged-$p.dat" && specs+=("$WORK/forged-$p.dat|$p")
	done
	plot_lines "forged in-dialog requests/s against failed real calls (200 calls/s)" \
		"forged requests/s sent" "failed real calls, %" "$RES/LATEST-forged.png" 1 1 "${specs[@]}" && CHARTS="$CHARTS LATEST-forged.png"
fi

# --- LATEST.md ------------------------------------------------------------------

kv=$(kamailio -v 2>/dev/null | sed -n 's/^version: //p' | head -1)
sv=$(git -C "$REPO_DIR" describe --always --dirty 2>/dev/null)
cpu_k0=$(d "${V[cpurate_kamailio-dialog]}")
{
	echo "# sipdlgd vs Kamailio: benchmark summary ($(date '+%Y-%m-%d %H:%M'))"
	echo
	echo "Machine: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1 | sed 's/  */ /g'), $NCPU cores ($(nproc --all 2>/dev/null || echo "$NCPU") online), $(uname -sr)."
	echo "Kamailio: ${kv:-not installed} (Debian package, dialog module); sipdlgd: ${sv:-?}. Everything (proxy, sipp, flooder, MariaDB) on 127.0.0.1 of this one machine."
	echo "Both systems run the same sipp scenarios in turn (Kamailio first) in each benchmark."
	echo
	echo "| | figure | Kamailio | sipdlgd | sipdlgd / Kamailio | target of the issue | |"
	echo "|---|---|---|---|---|---|---|"
	echo "| a | calls/s sustained ${HOLD:-?} s, < 0.1 % failed, dialog tracking, db_mode 0 | $(cell "${V[cps_kamailio-dialog]}" "${ST[cps_kamailio-dialog]}") | $(cell "${V[cps_sipdlgd-dialog]}" "${ST[cps_sipdlgd-dialog]}") | $R_CPS0 | ≥ 2 | $(verdict "$R_CPS0" '>=' 2) |"
	echo "| a | calls/s sustained ${HOLD:-?} s, < 0.1 % failed, db_mode 1 (MariaDB) | $(cell "${V[cps_kamailio-db]}" "${ST[cps_kamailio-db]}") | $(cell "${V[cps_sipdlgd-db]}" "${ST[cps_sipdlgd-db]}") | $R_CPS1 | ≥ 2 | $(verdict "$R_CPS1" '>=' 2) |"
	echo "| b | CPU s per 1,000 calls, db_mode 0, at $cpu_k0 calls/s | $(d "${V[cpu_kamailio-dialog]}") | $(d "${V[cpu_sipdlgd-dialog]}") | $R_CPU0 | ≤ 0.5 | $(verdict "$R_CPU0" '<=' 0.5) |"
	echo "| b | CPU s per 1,000 calls, db_mode 1, at $(d "${V[cpurate_kamailio-db]}") calls/s | $(d "${V[cpu_kamailio-db]}") | $(d "${V[cpu_sipdlgd-db]}") | $R_CPU1 | ≤ 0.5 | $(verdict "$R_CPU1" '<=' 0.5) |"
	echo "| b | sipdlgd with XDP attached (generic on lo, unknown_dialog: drop, xdp.relay on) against without: calls/s; CPU s per 1,000 calls | - | $(cell "${V[xcps_sipdlgd-xdp]}" "${ST[xcps_sipdlgd-xdp]}") vs $(cell "${V[xcps_sipdlgd-dialog]}" "${ST[xcps_sipdlgd-dialog]}"); $(d "${V[xcpu_sipdlgd-xdp]}") vs $(d "${V[xcpu_sipdlgd-dialog]}") | $R_XDPCPS; $R_XDPCPU (XDP / no XDP) | CPU ≤ 1.00× (issue #14: relay on costs no more per basic call) | |"
	echo "| c | in-dialog INFO/s sustained ${INFO_HOLD:-?} s, < 0.1 % failed calls ($PER_CALL INFO per call) | $(cell "${V[info_kamailio-dialog]}" "${ST[info_kamailio-dialog]}") | $(cell "${V[info_sipdlgd-dialog]}" "${ST[info_sipdlgd-dialog]}") | $R_INFO | (none) | |"
	echo "| c | CPU s per 1,000 INFO (call set-up included), at $(d "${V[inforate_kamailio-dialog]}") calls/s | $(d "${V[infocpu_kamailio-dialog]}") | $(d "${V[infocpu_sipdlgd-dialog]}") | $R_INFOCPU | (none) | |"
	echo "| d | bytes per dialog, 100,000 held calls (Kamailio: shm; sipdlgd: RSS) | $(d "${V[mem_k]}")$([ -n "${V[memheld_k]}" ] && [ "${V[memheld_k]}" != 100000 ] && echo " (${V[memheld_k]} held)") | $(d "${V[mem_s]}")$([ -n "${V[memheld_s]}" ] && [ "${V[memheld_s]}" != 100000 ] && echo " (${V[memheld_s]} held)") | $R_MEM | ≤ 0.5 | $(verdict "$R_MEM" '<=' 0.5) |"
	echo "| e | forged in-dialog requests/s absorbed while 200 calls/s hold | $(cell "${V[forged_kamailio-forged]}" "${ST[forged_kamailio-forged]}") | $(cell "${V[forged_sipdlgd-forged]}" "${ST[forged_sipdlgd-forged]}") | $R_FORGED_CELL | ≥ 10 | $FORGED_VERDICT |"
	echo "| f | XDP ns/packet: in-dialog BYE matched / unknown cookie / 200 OK in a dialog (floor: ${V[xdp_floor]:--}) | - | $(d "${V[xdp_bye]}") / $(d "${V[xdp_unknown]}") / $(d "${V[xdp_reply]}") | | | |"
	echo "| | restore $(d "${V[restore_n]:-}") dialogs from MySQL at start, s | - | $(d "${V[restore]}") | | ≤ 3 s | $(verdict "${V[restore]:-}" '<=' 3) |"
	echo
	echo "\`*\`: held only in short ramp steps, not for the full hold; \`≥\`: the load generator (flooder) could not send faster, the proxy absorbed all it got."
	echo "Ratios use the figures as shown; a \`-\` is a benchmark that did not run or did not finish (see its own report)."
	echo
	echo "## Charts"
	echo
	if [ -n "$CHARTS" ]; then
		for c in $CHARTS; do echo "![${c%.png}]($c)"; echo; done
	else
		echo "No charts (gnuplot missing, or no step data)."
		echo
	fi
	echo "## Where the figures come from"
	echo
	echo "- a, b: bench-cps with the profiles kamailio-dialog, sipdlgd-dialog, kamailio-db, sipdlgd-db (basic-call: INVITE, 180, 200, ACK, BYE; ramp, bisection, 30 s hold, then CPU at one rate all of them held): $CPS_SRC"
	[ -s "$RES/LATEST-cps-xdp.tsv" ] && echo "- b, XDP attached against not: bench-cps with sipdlgd-dialog and sipdlgd-xdp in one run: $(source_of "$RES/LATEST-cps-xdp.md")"
	echo "- c: bench-info (info-call: $PER_CALL INFO per held call, same ramp; INFO/s = calls/s × $PER_CALL): $(source_of "$RES/LATEST-info.md")"
	echo "- d: bench-mem (100,000 confirmed dialogs held): $(source_of "$RES/LATEST-mem.md")"
	echo "- e: bench-forged (flood.c BYEs with unknown \`;did=\` cookies, $FORGED_SEND; absorbed = sent less lost before the proxy; sipdlgd with XDP generic on lo, unknown_dialog: drop; Kamailio drops !is_known_dlg() after loose_route): $(source_of "$RES/LATEST-forged.md")"
	echo "- f: make bench-xdp (BPF_PROG_TEST_RUN, median ns): $(source_of "$RES/LATEST-xdp.txt")"
	echo "- restore: bench-restore: $(source_of "$RES/LATEST-restore.md")"
	[ -s "$RES/LATEST-relay.md" ] && echo "- kernel relay (in-dialog INFO through the box, three namespaces, Kamailio / sipdlgd relay off / on): $(source_of "$RES/LATEST-relay.md")"
	[ -e "$RES/LATEST-perf.txt" ] && echo "- where sipdlgd's CPU goes: make bench-perf: $(source_of "$RES/LATEST-perf.txt")"
	[ -e "$RES/LATEST-bench.log" ] && echo "- the run's plan and times: [LATEST-bench.log](LATEST-bench.log)"
	echo
	echo "The machine may be shared: each report lists the CPU other processes used during every step (\"other CPU\")."
	if [ -s "$RES/LATEST-relay.md" ]; then
		echo
		echo "## Kernel relay (bench-info-relay)"
		echo
		# its summary (held rates, CPU per 1,000 against Kamailio's); the
		# steps are in LATEST-relay.md / .tsv
		sed -n '/^## Summary/,$p' "$RES/LATEST-relay.md" | tail -n +3
	fi
	if [ -s "$RES/LATEST-cluster.md" ]; then
		echo
		echo "## Several boxes on Galera (bench-cluster)"
		echo
		echo "Takeover of a dead box's dialogs, staleness of cluster-wide profile counts, calls/s on Galera against one MariaDB;"
		echo "each against a baseline of the same run: $(source_of "$RES/LATEST-cluster.md")."
		echo
		# its verdict lines and the staleness table
		grep -E '^- (manual|auto):' "$RES/LATEST-cluster.md"
		echo
		sed -n '/^## Staleness/,/^## /p' "$RES/LATEST-cluster.md" | grep -E '^\|'
		echo
		grep -E '^\*\*single MariaDB' "$RES/LATEST-cluster.md"
	fi
} >"$OUT"
cat "$OUT"
if [ -s "$WORK/gnuplot.err" ]; then
	echo "report: gnuplot said:" >&2
	head -5 "$WORK/gnuplot.err" >&2
fi
exit 0
