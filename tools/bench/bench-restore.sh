#!/bin/bash
# bench-restore.sh - restore of 100,000 dialogs at start (`make bench-restore`).
#
# Starts a private MariaDB (tests/lib/mariadb.sh: unix socket, temporary
# datadir, removed at exit), fills Kamailio 5.6's `dialog` table with N
# confirmed dialogs as Kamailio writes them (build/tools/bench/gen_rows:
# state 4, timeout one hour ahead, distinct Call-IDs, hash_entry =
# core_hash(Call-ID) & (hash_size - 1), profiles caller/inbound in xdata),
# then starts sipdlgd with db_mode 1 (tools/bench/sipdlg-db.yaml, XDP off)
# and measures the time from its launch until its control socket answers
# with dialog.active_dialogs = N.  The daemon is stopped and started again
# BENCH_RESTORE_RUNS times (the rows stay: db_mode 1 writes nothing for a
# restored dialog that does not change).  Target: <= 3 s for 100,000
# (reported, not asserted).  Writes results/restore-<time>.md and
# results/LATEST-restore.md.
#
# Exit status: 0 whatever the figures; 2 when it could not run (no
# MariaDB server, sipdlgd not built, the rows not restored at all).
#
# Environment (all optional):
#   BENCH_RESTORE_ROWS     dialogs (default 100000)
#   BENCH_RESTORE_RUNS     timed starts (default 3)
#   BENCH_RESTORE_HASH     dialog.hash_size (default 4096, Kamailio's default)
#   BENCH_RESTORE_FETCH    dialog.db_fetch_rows (default 200, Kamailio's default)
#   BENCH_RESTORE_POOL_MB  InnoDB buffer pool of the private server, MB (default
#                          128, MariaDB's default; tests/lib/mariadb.sh starts it
#                          with 32, too small for the 43 MB table: the restore's
#                          ORDER BY then re-reads pages from disk, ~4 s slower)
#   BENCH_RESTORE_TIMEOUT  seconds a start may take before it counts as failed (60)
#   BENCH_SIPDLGD          the daemon (default build/sipdlgd)
#   BENCH_DEADLINE         absolute end (epoch seconds), set by `make bench`
#   BENCH_PROXY_PORT / BENCH_UAS_PORT / BENCH_UAC_PORT  (15060 / 15080 / 15070)
set -u
{
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/bench/lib.sh
. "$BENCH_DIR/lib.sh"

ROWS=${BENCH_RESTORE_ROWS:-100000}
RUNS=${BENCH_RESTORE_RUNS:-3}
HASH=${BENCH_RESTORE_HASH:-4096}
FETCH=${BENCH_RESTORE_FETCH:-200}
POOL_MB=${BENCH_RESTORE_POOL_MB:-128}
START_TIMEOUT=${BENCH_RESTORE_TIMEOUT:-60}
SIPDLGD=${BENCH_SIPDLGD:-$REPO_DIR/build/sipdlgd}
SIPDLGCTL=$REPO_DIR/build/sipdlgctl
GEN_ROWS=$REPO_DIR/build/tools/bench/gen_rows
TARGET=3

START=$(now)
if [ -n "${BENCH_DEADLINE:-}" ] && [ "$((BENCH_DEADLINE - START))" -lt 120 ]; then
	echo "bench-restore: less than 2 minutes left, skipped" >&2
	exit 0
fi
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$BENCH_DIR/results
RUN_DIR=$RESULTS/restore-$STAMP
REPORT=$RESULTS/restore-$STAMP.md
LATEST=$RESULTS/LATEST-restore.md
mkdir -p "$RUN_DIR" || exit 2
RUN_LOG=$RUN_DIR/run.log
: >"$RUN_LOG"
bench_install_traps

for f in "$SIPDLGD" "$SIPDLGCTL" "$GEN_ROWS"; do
	[ -x "$f" ] || die "$f is not built (make bench-restore builds it)"
done
command -v jq >/dev/null 2>&1 || die "jq is missing (apt-get install jq)"
if [ -n "$(ss -Huln "sport = :$PROXY_PORT" 2>/dev/null)" ]; then
	die "UDP port $PROXY_PORT is in use already; set BENCH_PROXY_PORT"
fi

# shellcheck source=tests/lib/mariadb.sh
. "$REPO_DIR/tests/lib/mariadb.sh"
log "bench-restore: $ROWS dialogs, hash_size $HASH, db_fetch_rows $FETCH, $RUNS starts; raw data in ${RUN_DIR#"$REPO_DIR"/}"
mariadb_start
rc=$?
[ "$rc" = 2 ] && die "no MariaDB server installed (make deps / apt-get install mariadb-server)"
[ "$rc" = 0 ] || die "the private MariaDB did not start"
# innodb_buffer_pool_size is dynamic: back to MariaDB's default (or the knob).
mariadb_sql "SET GLOBAL innodb_buffer_pool_size = $((POOL_MB * 1048576))" >>"$RUN_LOG" 2>&1
for ((i = 0; i < 100; i++)); do
	case "$(mariadb_sql "SHOW STATUS LIKE 'Innodb_buffer_pool_resize_status'" 2>/dev/null)" in
	*Resizing* | *resizing* | *Withdraw* | *withdraw*) sleep 0.1 ;;
	*) break ;;
	esac
done
POOL_NOW=$(($(mariadb_sql "SELECT @@innodb_buffer_pool_size") / 1048576))
log "private MariaDB on $MARIADB_SOCKET, InnoDB buffer pool $POOL_NOW MB"

t0=$(date +%s%N)
if ! "$GEN_ROWS" "$ROWS" "$HASH" "$PROXY_PORT" "$UAC_PORT" "$UAS_PORT" |
	"$_MARIADB_CLIENT" --no-defaults -S "$MARIADB_SOCKET" -u root sipdlg >>"$RUN_LOG" 2>&1; then
	die "inserting the rows failed (see ${RUN_LOG#"$REPO_DIR"/})"
fi
t1=$(date +%s%N)
n=$(mariadb_sql "SELECT COUNT(*) FROM dialog")
INSERT_S=$(calc "sprintf(\"%.1f\", ($t1 - $t0) / 1e9)")
[ "$n" = "$ROWS" ] || die "$n rows in the dialog table, $ROWS expected"
mariadb_sql "ANALYZE TABLE dialog" >/dev/null 2>&1
TABLE_MB=$(mariadb_sql "SELECT ROUND((data_length + index_length) / 1048576, 1) FROM information_schema.tables WHERE table_schema='sipdlg' AND table_name='dialog'")
log "$ROWS rows inserted in $INSERT_S s (table ${TABLE_MB} MB)"

CFG=$RUN_DIR/sipdlgd.yaml
SOCK=$RUN_DIR/sipdlgd.sock
subst_ports "$BENCH_DIR/sipdlg-db.yaml" | sed \
	-e "s|/run/sipdlg/sipdlg-bench.sock|$SOCK|" \
	-e "s|^\(  db_url:\).*|\1 \"$MARIADB_URL\"|" \
	-e "s|^\(  level:\).*|\1 info|" >"$CFG"
printf '  hash_size: %s\n  db_fetch_rows: %s\n' "$HASH" "$FETCH" >"$RUN_DIR/dialog-extra"
# the dialog: section gets hash_size and db_fetch_rows.
sed -i "/^dialog:/r $RUN_DIR/dialog-extra" "$CFG"
rm -f "$RUN_DIR/dialog-extra"
out=$("$SIPDLGD" -c "$CFG" --check 2>&1) || die "sipdlgd --check rejected $CFG: $out"

active() {
	"$SIPDLGCTL" -s "$SOCK" -t 2 -j stats dialog 2>/dev/null |
		jq -r '.["dialog.active_dialogs"] // empty' 2>/dev/null
}

# one_start I: start sipdlgd, time until the control socket answers and
# until active_dialogs = ROWS; sets R_CTL R_ALL R_LOGMSG R_RSS; stops it.
one_start() {
	local i=$1 log=$RUN_DIR/sipdlgd-$1.log pid t0 t a deadline
	R_CTL="-" R_ALL="-" R_LOGMSG="" R_LOGSECS="" R_RSS="-" R_CPU="-"
	( cd "$RUN_DIR" && exec "$SIPDLGD" -c "$CFG" ) >"$log" 2>&1 &
	pid=$!
	t0=$(date +%s%N)
	bench_track "$pid"
	deadline=$((t0 + START_TIMEOUT * 1000000000))
	while :; do
		t=$(date +%s%N)
		if [ "$t" -gt "$deadline" ]; then
			log "  start $i: not done after $START_TIMEOUT s (active_dialogs ${a:-none})"
			break
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			log "  start $i: sipdlgd exited; last log lines:"
			tail -5 "$log" >&2
			break
		fi
		if [ -S "$SOCK" ]; then
			a=$(active)
			if [ -n "$a" ]; then
				[ "$R_CTL" = "-" ] && R_CTL=$(calc "sprintf(\"%.3f\", ($t - $t0) / 1e9)")
				if [ "$a" = "$ROWS" ]; then
					t=$(date +%s%N)
					R_ALL=$(calc "sprintf(\"%.3f\", ($t - $t0) / 1e9)")
					break
				fi
			fi
		fi
		sleep 0.02
	done
	R_LOGMSG=$(grep -o 'restored [0-9]* dialogs.*' "$log" | head -1)
	# The daemon's own view: its first log line to "restored N dialogs".
	R_LOGSECS=$(awk '
		function sec(t,   a) { split(t, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
		NR == 1 { t0 = sec($1) }
		/restored [0-9]+ dialogs/ { d = sec($1) - t0; if (d < 0) d += 86400; printf "%.3f", d; exit }' "$log")
	R_RSS=$(awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null)
	R_CPU=$(calc "sprintf(\"%.2f\", $(tree_ticks "$pid") / $HZ)")
	stop_tree "$pid" 10
	bench_untrack "$pid"
	wait_port_free "$PROXY_PORT" 10
	rm -f "$SOCK"
}

ROWS_MD=""
BEST=""
for ((i = 1; i <= RUNS; i++)); do
	if [ -n "${BENCH_DEADLINE:-}" ] && [ "$(($(now) + START_TIMEOUT + 20))" -gt "$BENCH_DEADLINE" ]; then
		log "  no time left for start $i"
		break
	fi
	one_start "$i"
	log "  start $i: control socket after ${R_CTL} s, active_dialogs = $ROWS after ${R_ALL} s (log: restore took ${R_LOGSECS:-?} s); CPU ${R_CPU} s, RSS ${R_RSS:-?} MB; log: ${R_LOGMSG:-no 'restored' line}"
	ROWS_MD="$ROWS_MD| $i | $R_CTL | $R_ALL | ${R_LOGSECS:--} | $R_CPU | ${R_RSS:--} | ${R_LOGMSG:-} |
"
	if [ "$R_ALL" != "-" ] && { [ -z "$BEST" ] || awk "BEGIN { exit !($R_ALL < $BEST) }"; }; then
		BEST=$R_ALL
	fi
	# db_mode 1 must leave the rows alone.
	n=$(mariadb_sql "SELECT COUNT(*) FROM dialog WHERE state = 4")
	if [ "$n" != "$ROWS" ]; then
		log "  after start $i: $n rows in state 4 (not $ROWS): the next starts restore fewer"
	fi
done

TOTAL=$(($(now) - START))
if [ -n "$BEST" ]; then
	VERDICT=$(awk "BEGIN { print ($BEST <= $TARGET) ? \"met\" : \"missed\" }")
else
	VERDICT="not measured (no start restored every row)"
fi
{
	echo "# bench-restore $(date '+%Y-%m-%d %H:%M:%S')"
	echo
	echo "sipdlgd starts with db_mode 1 on a private MariaDB ($(mariadbd --version 2>/dev/null | awk '{ print $3 }' || true), unix socket) holding"
	echo "$ROWS confirmed dialogs in Kamailio 5.6's \`dialog\` table (state 4, timeout one hour ahead, profiles caller/inbound in xdata,"
	echo "hash_entry = core_hash(Call-ID) & $((HASH - 1))); hash_size $HASH, db_fetch_rows $FETCH, XDP off."
	echo "Time from the launch of sipdlgd until \`sipdlgctl stats dialog\` answers with dialog.active_dialogs = $ROWS (polled every 20 ms)."
	echo
	echo "Machine: $NCPU CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(uname -sr)."
	echo "Rows inserted in $INSERT_S s (table ${TABLE_MB} MB, InnoDB buffer pool $POOL_NOW MB)."
	echo
	echo "**Best: ${BEST:-n/a} s** for $ROWS dialogs; target ≤ $TARGET s: $VERDICT."
	echo
	echo "| start | control socket answers, s | active_dialogs = $ROWS, s | restore per the log, s | sipdlgd CPU s | RSS MB | log |"
	echo "|---|---|---|---|---|---|---|"
	printf '%s' "$ROWS_MD"
	echo
	echo "Total run time: $TOTAL s. Raw data: \`${RUN_DIR#"$REPO_DIR"/}/\` (configuration, sipdlgd logs)."
} >"$REPORT"
cp "$REPORT" "$LATEST"
ls -1dt "$RESULTS"/restore-[0-9]*/ 2>/dev/null | tail -n +6 | while read -r old; do rm -rf "$old"; done
echo
echo "bench-restore: $ROWS dialogs restored in ${BEST:-n/a} s (best of $RUNS starts; target <= $TARGET s: $VERDICT)"
echo "report ${REPORT#"$REPO_DIR"/} (and ${LATEST#"$REPO_DIR"/}); total $TOTAL s"
exit 0
}
