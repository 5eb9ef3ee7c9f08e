#!/bin/bash
# bench-cluster.sh - several boxes on one MariaDB Galera cluster
# (`make bench-cluster`, issue 15 part 6).  Three figures, each against a
# baseline measured in the same run:
#
#   takeover  10,000 confirmed dialogs of box A (node 1) in the database
#             (build/tools/bench/gen_rows, rows as Kamailio writes them,
#             hash_id even: node 1's residue), A started on them; then
#             kill -9 A and time until box B serves them all: B's
#             dialog.active_dialogs = 10,000 and an in-dialog INFO of three
#             of A's dialogs (Route with A's cookie) sent to B is relayed
#             and answered 200 (tools/bench/cluster_probe.py; B answers
#             481 to a dialog it does not know), both polled every 20 ms,
#             bounded.  Two ways: `sipdlgctl cluster takeover 1` on B right
#             after the kill (standing in for keepalived's notify hook once
#             the address moved; target <= 2 s) and automatic detection
#             (heartbeat_interval 1 s, takeover_after 3 s; target <= 5 s
#             including detection).  Between runs A is restarted (fenced)
#             and B hands node 1 back.  Baseline: A's own start on the same
#             rows (launch to serving, the one-box restart).
#   cps       calls/s of one box with db_mode 1 on Galera node 1 (with its
#             cluster: section) against the same box on a single private
#             MariaDB: bench-cps.sh with the profiles sipdlgd-db and
#             sipdlgd-galera (profiles/sipdlgd-galera.sh), short steps
#             (target >= 80 %).
#   stale     staleness of a cluster-wide profile's count: calls at
#             each of BENCH_CLUSTER_STALE_RATES calls/s (default 0, the
#             baseline, then 1000) spread over both boxes (sipp, tools/bench/sipp/uac.xml, each call its own
#             caller value), and every ~2.5 s a marker call held 1 s on A
#             (cluster_uac_hold.xml, caller mk<k>): the time from A's
#             profile-size changing (0 -> 1 at the call, 1 -> 0 at its BYE)
#             until B's profile-size shows the same; A and B are polled
#             through sipdlgctl back to back, so each sample is an upper
#             bound (the last poll of A before the change counts as its
#             time; cluster_stale.py polls both over one JSON-RPC
#             connection each, about a millisecond a poll).  Baseline: the
#             same without background calls.  Target p99 <= 250 ms.  The
#             automatic takeovers of a live node during the run are
#             counted (a heartbeat late by more than takeover_after).
#
# The boxes run in two network namespaces of their own (each its own
# 127.0.0.1, the same ports: the same rows serve on either box), the Galera
# nodes on unix sockets under /tmp (tests/e2e/lib_galera.sh).  Everything
# started here is stopped at exit.  The machine is shared: the figures are
# noisy (the report says how loaded it was).
#
# Exit status: 0 whatever the figures; 2 when it could not run.
#
# Environment (all optional):
#   BENCH_CLUSTER_PARTS     which parts (default "takeover stale cps")
#   BENCH_CLUSTER_DIALOGS   dialogs of box A (default 10000)
#   BENCH_CLUSTER_RUNS      runs of each takeover kind (default 2)
#   BENCH_CLUSTER_WAIT      seconds a takeover may take before it counts as failed (30)
#   BENCH_CLUSTER_STALE_RATES    background calls/s over both boxes, one
#                                staleness run each (default "0 1000": the
#                                first, without calls, is the baseline)
#   BENCH_CLUSTER_STALE_MARKERS  marker calls (default 30; 2 samples each)
#   BENCH_CLUSTER_CPS_BUDGET     seconds for the cps part (default 390)
#   BENCH_CLUSTER_PORT_BASE      Galera ports BASE+1..BASE+33 (default 24100)
#   BENCH_DEADLINE          absolute end (epoch seconds), set by `make bench`
set -u
{
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/bench/lib.sh
. "$BENCH_DIR/lib.sh"

PARTS=${BENCH_CLUSTER_PARTS:-takeover stale cps}
N=${BENCH_CLUSTER_DIALOGS:-10000}
RUNS=${BENCH_CLUSTER_RUNS:-2}
WAIT=${BENCH_CLUSTER_WAIT:-30}
STALE_RATES=${BENCH_CLUSTER_STALE_RATES:-0 1000}
MARKERS=${BENCH_CLUSTER_STALE_MARKERS:-30}
CPS_BUDGET=${BENCH_CLUSTER_CPS_BUDGET:-390}
GBASE=${BENCH_CLUSTER_PORT_BASE:-24100}
SIPDLGD=$REPO_DIR/build/sipdlgd
SIPDLGCTL=$REPO_DIR/build/sipdlgctl
GEN_ROWS=$REPO_DIR/build/tools/bench/gen_rows
PROBE=$BENCH_DIR/cluster_probe.py
HASH=4096
HB=1
TAKEOVER_AFTER=3

START=$(now)
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$BENCH_DIR/results
RUN_DIR=$RESULTS/cluster-$STAMP
REPORT=$RESULTS/cluster-$STAMP.md
TSV=$RESULTS/cluster-$STAMP.tsv
mkdir -p "$RUN_DIR" || exit 2
RUN_LOG=$RUN_DIR/run.log
: >"$RUN_LOG"
bench_install_traps
wanted() { case " $PARTS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

for f in "$SIPDLGD" "$SIPDLGCTL" "$GEN_ROWS"; do
	[ -x "$f" ] || die "$f is not built (make bench-cluster builds it)"
done
PY=/usr/bin/python3	# not a pyenv shim: that takes seconds to start
[ -x "$PY" ] || PY=$(command -v python3)
for c in jq "$PY" sipp nsenter; do
	command -v "$c" >/dev/null 2>&1 || die "$c is missing"
done
OTHER_LOAD=$(awk '{ print $1 }' /proc/loadavg)

# ---- Galera (tests/e2e/lib_galera.sh wants wait_for) ----------------------
wait_for() {
	local tries=$(($1 * 10)); shift
	while [ "$tries" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}
# shellcheck source=tests/e2e/lib_galera.sh
. "$REPO_DIR/tests/e2e/lib_galera.sh"

# ---- namespaces: box A in NA, box B in NB ----------------------------------
NA="sdcba$$"; NB="sdcbb$$"
cleanup_ns() { ip netns del "$NA" 2>/dev/null; ip netns del "$NB" 2>/dev/null; }
prev=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
# shellcheck disable=SC2064
trap "$prev; cleanup_ns" EXIT
for ns in "$NA" "$NB"; do
	ip netns add "$ns" && ip -n "$ns" link set lo up || die "network namespace $ns"
done
in_ns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }

log "bench-cluster: parts '$PARTS'; raw data in ${RUN_DIR#"$REPO_DIR"/}"
# The Galera nodes get the memory of the single MariaDB of the cps
# baseline (profiles/sipdlgd-db.sh: a 128M buffer pool, MariaDB's default
# 96M redo log); lib_galera.sh's own settings are the production ones of
# README "Several boxes" (the report lists what differs).
export GALERA_EXTRA_OPTS="--innodb-buffer-pool-size=${BENCH_DB_POOL_MB:-128}M --innodb-log-file-size=96M ${BENCH_GALERA_OPTS:-}"
t0=$(date +%s%N)
galera_start "$GBASE"; rc=$?
[ "$rc" = 2 ] && die "galera-4, mariadb-server or rsync missing (make deps)"
[ "$rc" = 0 ] || die "the three-node Galera cluster did not start"
GALERA_UP_S=$(calc "sprintf(\"%.1f\", ($(date +%s%N) - $t0) / 1e9)")
GALERA_VER=$("$_GALERA_SERVER" --version 2>/dev/null | awk '{ print $3 }')
log "three-node Galera cluster up in $GALERA_UP_S s ($GALERA_DIR)"

SA=$RUN_DIR/a.sock; SB=$RUN_DIR/b.sock
# box_yaml FILE NODE BACKUP GALERA_NODE SOCK: a box of the 2-node cluster.
box_yaml() {
	cat >"$1" <<EOC
listen: ["udp:127.0.0.1:$PROXY_PORT"]
workers: 2
dialog:
  hash_size: $HASH
  default_timeout: 43200
  db_mode: 1
  db_url: "$(galera_url "$4")"
  profiles_with_value: [caller]
  profiles_no_value: [inbound]
database: {required: true}
xdp: {enabled: false}
cluster:
  node_id: $2
  nodes: 2
  address: "10.99.0.$2:$PROXY_PORT"
  heartbeat_interval: $HB
  takeover_after: $TAKEOVER_AFTER
  backup_of: [$3]
  profiles: [caller]
control:
  socket: $5
log: {level: notice}
routes:
  - name: in-dialog requests of dialogs this box does not serve
    match: { in_dialog: true, is_known_dlg: false }
    actions: [ { reply: "481 Call/Transaction Does Not Exist" } ]
  - name: calls
    match: { method: INVITE, in_dialog: false }
    actions:
      - dlg_manage
      - set_dlg_profile: [caller, "\$fU"]
      - set_dlg_profile: [inbound]
      - forward: "udp:127.0.0.1:$UAS_PORT"
EOC
}
box_yaml "$RUN_DIR/a.yaml" 1 2 1 "$SA"
box_yaml "$RUN_DIR/b.yaml" 2 1 2 "$SB"
for y in a b; do
	out=$("$SIPDLGD" -c "$RUN_DIR/$y.yaml" --check 2>&1) || die "sipdlgd --check $y.yaml: $out"
done

ctl() { local s=$1; shift; "$SIPDLGCTL" -s "$s" -t 2 -j "$@" 2>/dev/null; }
active() { ctl "$1" stats dialog | jq -r '.["dialog.active_dialogs"] // empty' 2>/dev/null; }
serves() { ctl "$1" cluster status | jq -c '.serves' 2>/dev/null; }
serves_is() { [ "$(serves "$1")" = "$2" ]; }
active_is() { [ "$(active "$1")" = "$2" ]; }
ns_ms() { calc "sprintf(\"%.0f\", ($1 - $2) / 1e6)"; }

PA=""; PB=""
# start_box A|B: launch in its namespace (no wait); sets PA / PB.
start_box() {
	local ns=$NA yaml=$RUN_DIR/a.yaml log
	[ "$1" = B ] && { ns=$NB; yaml=$RUN_DIR/b.yaml; }
	log=$RUN_DIR/box$1.log
	( exec nsenter --net="/run/netns/$ns" "$SIPDLGD" -c "$yaml" ) >>"$log" 2>&1 &
	bench_track "$!"
	if [ "$1" = A ]; then PA=$!; else PB=$!; fi
}
kill9_box() {	# A|B
	local p=$PA; [ "$1" = B ] && p=$PB
	[ -n "$p" ] || return 0
	kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; bench_untrack "$p"
	if [ "$1" = A ]; then PA=""; else PB=""; fi
}
stop_box() {	# A|B
	local p=$PA; [ "$1" = B ] && p=$PB
	[ -n "$p" ] || return 0
	stop_tree "$p" 10; bench_untrack "$p"
	if [ "$1" = A ]; then PA=""; else PB=""; fi
}

# until_active SOCK N SECONDS T0: poll every 20 ms; prints the ns of the
# first answer N (or nothing).
until_active() {
	local end=$(($(date +%s%N) + $3 * 1000000000)) a t
	while [ "$(date +%s%N)" -lt "$end" ]; do
		a=$(active "$1"); t=$(date +%s%N)
		[ "$a" = "$2" ] && { echo "$t"; return 0; }
		sleep 0.02
	done
	return 1
}

declare -a TSV_ROWS=()
tsv() { TSV_ROWS+=("$(printf '%s\t' "$@" | sed 's/\t$//')"); }
MD=""
md() { MD="$MD$*
"; }

# =========================== takeover =====================================
part_takeover() {
	local probe_args=() i r kind t0 tl tp out pp
	local -a MAN=() AUTO=()
	log "takeover: $N dialogs of node 1 into Galera node 1"
	t0=$(date +%s%N)
	if ! "$GEN_ROWS" "$N" "$HASH" "$PROXY_PORT" "$UAC_PORT" "$UAS_PORT" |
		"$_GALERA_CLIENT" --no-defaults -S "$(galera_sock 1)" -u root sipdlg >>"$RUN_LOG" 2>&1; then
		log "  inserting the rows failed"; return 1
	fi
	# gen_rows numbers hash_id 1..N; node 1 of 2 owns the even ones.
	galera_sql 1 "UPDATE dialog SET hash_id = hash_id * 2" || return 1
	log "  rows in $(calc "sprintf(\"%.1f\", ($(date +%s%N) - $t0) / 1e9)") s; on Galera node 2: $(galera_sql 2 "SELECT COUNT(*) FROM dialog")"
	for i in 1 $((N / 2)) "$N"; do
		r=$(galera_sql 2 "SELECT callid, from_tag, to_tag, hash_entry, hash_id FROM dialog WHERE callid = 'bench-restore-$i@127.0.0.1'" | tr '\t' ':')
		[ -n "$r" ] && probe_args+=("$r")
	done
	[ "${#probe_args[@]}" = 3 ] || { log "  probe dialogs not found"; return 1; }
	probe() {	# NS WAIT_MS: prints the python probe's line
		in_ns "$1" "$PY" "$PROBE" "$PROXY_PORT" "$UAC_PORT" "$UAS_PORT" "$2" 20 "${probe_args[@]}"
	}

	# Baseline: box A started on its rows, launch to serving.
	probe "$NA" $((WAIT * 1000)) >"$RUN_DIR/probe.out" 2>&1 &
	pp=$!
	sleep 0.5
	t0=$(date +%s%N)
	start_box A
	tl=$(until_active "$SA" "$N" "$WAIT") || { log "  box A did not load $N dialogs: $(active "$SA")"; return 1; }
	wait "$pp"
	out=$(cat "$RUN_DIR/probe.out")
	tp=$(echo "$out" | awk '$1 == "ok" { print $2 }')
	[ -n "$tp" ] || { log "  box A does not answer its dialogs' INFO: $out"; return 1; }
	BASE_MS=$(ns_ms "$((tl > tp ? tl : tp))" "$t0")
	log "  baseline: box A started on $N dialogs serves them after $BASE_MS ms (listed after $(ns_ms "$tl" "$t0") ms)"
	tsv takeover baseline_start_ms 1 "$BASE_MS"
	start_box B
	wait_for 15 serves_is "$SB" "[2]" || { log "  box B did not come up: $(serves "$SB")"; return 1; }

	# one_takeover KIND: kill -9 A, time until B serves; sets R_MS R_LIST
	# R_PROBE R_RPC R_INNER.
	one_takeover() {
		local kind=$1 pf=$RUN_DIR/probe.out t0 tl tp pp lp rpc n
		R_MS="-" R_LIST="-" R_PROBE="-" R_RPC="-" R_INNER="-"
		wait_for 5 serves_is "$SB" "[2]" || true
		# the probe and the poller run first (B answers 481 and lists
		# none of node 1's dialogs until it serves node 1)
		probe "$NB" $((WAIT * 1000)) >"$pf" 2>&1 &
		pp=$!
		until_active "$SB" "$N" "$WAIT" >"$RUN_DIR/listed.out" &
		lp=$!
		sleep 0.5
		kill9_box A
		t0=$(date +%s%N)
		if [ "$kind" = manual ]; then
			rpc=$(ctl "$SB" cluster takeover 1)
			R_RPC=$(echo "$rpc" | jq -r '.ms // empty')
			[ -n "$R_RPC" ] || log "  cluster takeover 1: $rpc"
		fi
		wait "$lp"
		wait "$pp"
		tl=$(cat "$RUN_DIR/listed.out")
		tp=$(awk '$1 == "ok" { print $2 }' "$pf")
		if [ -z "$tl" ] || [ -z "$tp" ]; then
			log "  $kind: B not serving after $WAIT s: active $(active "$SB"), probe $(cat "$pf")"
			return 1
		fi
		R_LIST=$(ns_ms "$tl" "$t0"); R_PROBE=$(ns_ms "$tp" "$t0")
		R_MS=$(ns_ms "$((tl > tp ? tl : tp))" "$t0")
		R_INNER=$(ctl "$SB" cluster status | jq -r '.last_takeover_ms // empty')
		# the listing itself (not timed)
		n=$(ctl "$SB" list | jq 'length')
		[ "$n" = "$N" ] || log "  $kind: sipdlgctl list on B shows $n dialogs"
		return 0
	}
	# give_back: A restarted (fenced), B hands node 1 back, A serves again.
	give_back() {
		start_box A
		wait_for 15 serves_is "$SA" "[]" || wait_for 5 serves_is "$SA" "null" || true
		out=$(ctl "$SB" cluster handback 1)
		until_active "$SA" "$N" "$WAIT" >/dev/null &&
			wait_for 5 active_is "$SB" 0 && wait_for 5 serves_is "$SA" "[1]" ||
			{ log "  handback failed: $out; A $(active "$SA") B $(active "$SB")"; return 1; }
	}
	for ((r = 1; r <= RUNS; r++)); do
		for kind in manual auto; do
			if [ -n "${BENCH_DEADLINE:-}" ] && [ "$(($(now) + 60))" -gt "$BENCH_DEADLINE" ]; then
				log "  no time left for $kind run $r"; break 2
			fi
			one_takeover "$kind" || { tsv takeover "${kind}_ms" "$r" -; continue; }
			log "  $kind run $r: B serves A's $N dialogs ${R_MS} ms after kill -9 (listed ${R_LIST} ms, INFO answered ${R_PROBE} ms; takeover RPC ${R_RPC} ms, B's own detection-to-loaded ${R_INNER} ms)"
			tsv takeover "${kind}_ms" "$r" "$R_MS"
			tsv takeover "${kind}_listed_ms" "$r" "$R_LIST"
			tsv takeover "${kind}_probe_ms" "$r" "$R_PROBE"
			tsv takeover "${kind}_loaded_inside_ms" "$r" "$R_INNER"
			if [ "$kind" = manual ]; then MAN+=("$R_MS"); else AUTO+=("$R_MS"); fi
			TK_ROWS="${TK_ROWS:-}| $kind | $r | $R_MS | $R_LIST | $R_PROBE | ${R_RPC:-} | ${R_INNER:-} |
"
			give_back || return 1
		done
	done
	stop_box A; stop_box B
	best() { printf '%s\n' "$@" | sort -n | head -1; }
	worst() { printf '%s\n' "$@" | sort -n | tail -1; }
	MAN_BEST=$( [ ${#MAN[@]} -gt 0 ] && best "${MAN[@]}"); MAN_WORST=$( [ ${#MAN[@]} -gt 0 ] && worst "${MAN[@]}")
	AUTO_BEST=$( [ ${#AUTO[@]} -gt 0 ] && best "${AUTO[@]}"); AUTO_WORST=$( [ ${#AUTO[@]} -gt 0 ] && worst "${AUTO[@]}")
	return 0
}

# ============================ staleness ===================================
declare -A SP50 SP99 SMAX SN SCALLS STO
part_stale() {
	local rate=$1 half=$(($1 / 2)) k samples=() out mp sp want x p
	galera_sql 1 "DELETE FROM dialog; DELETE FROM dialog_vars; DELETE FROM sipdlg_profile_counts; UPDATE sipdlg_nodes SET taken_over_by = 0" || return 1
	# this run's box logs start empty (the takeover part's are kept)
	for x in A B; do
		[ -f "$RUN_DIR/box$x.log" ] && mv "$RUN_DIR/box$x.log" "$RUN_DIR/box$x-before-stale$rate.log"
	done
	start_box A; start_box B
	wait_for 15 serves_is "$SA" "[1]" && wait_for 15 serves_is "$SB" "[2]" ||
		{ log "  boxes not up: A $(serves "$SA") B $(serves "$SB")"; return 1; }
	# background calls, half on each box: UAS and UAC in each namespace
	for x in "A $NA" "B $NB"; do
		set -- $x
		( exec nsenter --net="/run/netns/$2" sipp -sf "$BENCH_DIR/sipp/uas.xml" -i 127.0.0.1 -p "$UAS_PORT" -t u1 \
			-bg -trace_err -error_file "$RUN_DIR/uas$1.err" ) >/dev/null 2>&1
		[ "$half" -gt 0 ] || continue
		( exec nsenter --net="/run/netns/$2" sipp 127.0.0.1:"$PROXY_PORT" -sf "$BENCH_DIR/sipp/uac.xml" -i 127.0.0.1 \
			-p "$UAC_PORT" -t u1 -r "$half" -l $((half * 4)) -trace_stat -stf "$RUN_DIR/uac$1.csv" -fd 1 \
			-trace_err -error_file "$RUN_DIR/uac$1.err" ) >/dev/null 2>&1 &
		bench_track "$!"
		eval "UAC$1=\$!"
	done
	sleep 3
	log "  staleness: $rate calls/s over both boxes; $MARKERS marker calls on A"
	for ((k = 1; k <= MARKERS; k++)); do
		# the poller connects first, then the marker call starts
		"$PY" "$BENCH_DIR/cluster_stale.py" "$SA" "$SB" caller "mk$k" 1 5000 >"$RUN_DIR/stale.out" 2>&1 &
		sp=$!
		sleep 0.2
		( exec nsenter --net="/run/netns/$NA" sipp 127.0.0.1:"$PROXY_PORT" -sf "$BENCH_DIR/sipp/cluster_uac_hold.xml" \
			-i 127.0.0.1 -p $((UAC_PORT + 1)) -t u1 -m 1 -d 1000 -key from_user "mk$k" -timeout 15 \
			-trace_err -error_file "$RUN_DIR/marker.err" ) >/dev/null 2>&1 &
		mp=$!
		for want in 1 0; do
			[ "$want" = 1 ] && { wait "$sp"; out=$(cat "$RUN_DIR/stale.out" 2>/dev/null); }
			[ "$want" = 0 ] && out=$("$PY" "$BENCH_DIR/cluster_stale.py" "$SA" "$SB" caller "mk$k" 0 5000 2>&1)
			case "$out" in
			ok*) set -- $out; samples+=("$2"); tsv stale "ms_to_${want}@$rate" "$k" "$2"
			     tsv stale "ms_to_${want}_from_first_seen@$rate" "$k" "$3" ;;
			*) log "  marker $k, count $want: $out"; break ;;
			esac
		done
		wait "$mp"
		sleep 0.3
	done
	SN[$rate]=${#samples[@]}
	if [ "${SN[$rate]}" -gt 0 ]; then
		read -r SP50[$rate] SP99[$rate] SMAX[$rate] < <(printf '%s\n' "${samples[@]}" | sort -n | awk '
			{ v[NR] = $1 } END { i50 = int(NR * 0.5 + 0.5); i99 = int(NR * 0.99 + 0.999)
			if (i50 < 1) i50 = 1; if (i99 > NR) i99 = NR; print v[i50], v[i99], v[NR] }')
	fi
	SCALLS[$rate]=""
	for x in A B; do
		eval "p=\${UAC$x:-}"
		[ -n "$p" ] || continue
		stop_tree "$p" 5; bench_untrack "$p"
		SCALLS[$rate]="${SCALLS[$rate]}$x: $(sipp_calls "$RUN_DIR/uac$x.csv"); "
	done
	UACA=""; UACB=""
	# a live node taken over (its heartbeat late by more than takeover_after)
	STO[$rate]=$(cat "$RUN_DIR/boxA.log" "$RUN_DIR/boxB.log" | grep -c 'taking its dialogs over')
	[ "${STO[$rate]}" = 0 ] || log "  $rate calls/s: ${STO[$rate]} automatic takeover(s) of a live node (heartbeat late by > $TAKEOVER_AFTER s)"
	tsv stale "live_node_takeovers@$rate" 1 "${STO[$rate]}"
	pkill_uas
	stop_box A; stop_box B
	# the next run's logs start empty
	mv "$RUN_DIR/boxA.log" "$RUN_DIR/boxA-stale$rate.log"; mv "$RUN_DIR/boxB.log" "$RUN_DIR/boxB-stale$rate.log"
	return 0
}
# sipp_calls CSV: "N ok, M failed" from sipp's -trace_stat file.
sipp_calls() {
	awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "SuccessfulCall(C)") s = i; if ($i == "FailedCall(C)") f = i } }
		NR > 1 { ok = $s; bad = $f } END { printf "%s ok, %s failed", ok, bad }' "$1" 2>/dev/null
}
# the UAS were started with -bg: stop them by the port they hold (ours only)
pkill_uas() {
	local ns p
	for ns in "$NA" "$NB"; do
		for p in $(in_ns "$ns" ss -Hulnp "sport = :$UAS_PORT" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
			kill -TERM "$p" 2>/dev/null
		done
	done
}

# =============================== cps ======================================
part_cps() {
	local out
	out=$RUN_DIR/cps.out
	# what the Galera nodes run with, for the report (the single
	# MariaDB's are profiles/sipdlgd-db.sh's command line)
	GALERA_VARS=$(galera_sql 1 "SELECT CONCAT(LOWER(VARIABLE_NAME), ' ', VARIABLE_VALUE) FROM information_schema.GLOBAL_VARIABLES
		WHERE VARIABLE_NAME IN ('INNODB_FLUSH_LOG_AT_TRX_COMMIT', 'WSREP_SLAVE_THREADS', 'LOG_BIN', 'INNODB_BUFFER_POOL_SIZE',
		'INNODB_LOG_FILE_SIZE') ORDER BY 1" 2>/dev/null | awk '{ v = $2; if (v ~ /^[0-9]+$/ && v >= 1048576) v = v / 1048576 "M"; printf "%s%s = %s", (NR > 1 ? ", " : ""), $1, v }')
	GALERA_GCACHE=$(galera_sql 1 "SELECT @@wsrep_provider_options" 2>/dev/null | tr ';' '\n' | sed -n 's/^ *gcache.size = //p')
	BENCH_NO_BUILD=1 BENCH_PROFILES="sipdlgd-db sipdlgd-galera" BENCH_TAG=cps-cluster \
		BENCH_CPS_BUDGET="$CPS_BUDGET" BENCH_STEP_SECS=${BENCH_STEP_SECS:-6} \
		BENCH_HOLD_SECS=${BENCH_HOLD_SECS:-12} BENCH_CPU_SECS=${BENCH_CPU_SECS:-10} \
		BENCH_LADDER=${BENCH_LADDER:-1000 1500 2000 2500 3000 3500 4000} \
		BENCH_GALERA_URL="$(galera_url 1)" BENCH_GALERA_SOCK="$(galera_sock 1)" \
		timeout -k 20 $((CPS_BUDGET + 30)) bash "$BENCH_DIR/bench-cps.sh" >"$out" 2>&1
	CPS_DB=$(awk -F'|' '$2 ~ /^ sipdlgd-db / { gsub(/[ *]/, "", $3); print $3 }' "$RESULTS/LATEST-cps-cluster.md" 2>/dev/null)
	CPS_GAL=$(awk -F'|' '$2 ~ /^ sipdlgd-galera / { gsub(/[ *]/, "", $3); print $3 }' "$RESULTS/LATEST-cps-cluster.md" 2>/dev/null)
	tail -5 "$out" >&2
	tsv cps single_mariadb_cps 1 "${CPS_DB:--}"
	tsv cps galera_cps 1 "${CPS_GAL:--}"
}

wanted takeover && { part_takeover || log "takeover part failed"; }
if wanted stale; then
	for rate in $STALE_RATES; do
		part_stale "$rate" || log "staleness part at $rate calls/s failed"
	done
fi
wanted cps && { part_cps || log "cps part failed"; }

# ============================== report ====================================
verdict() {	# VALUE OP TARGET
	[ -n "$1" ] && [ "$1" != - ] || { echo "not measured"; return; }
	awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { ok = (op == "le") ? v <= t : v >= t; print ok ? "met" : "missed" }'
}
ratio() { [ -n "${1:-}" ] && [ -n "${2:-}" ] && [ "$1" != - ] && [ "$2" != - ] && [ "$2" != 0 ] && calc "sprintf(\"%.2f\", $1 / $2)" || echo "-"; }
TOTAL=$(($(now) - START))
CPS_RATIO_PCT=$( [ -n "${CPS_DB:-}" ] && [ -n "${CPS_GAL:-}" ] && [ "$CPS_DB" != 0 ] && calc "sprintf(\"%.0f\", 100 * $CPS_GAL / $CPS_DB)")
{
	echo "# bench-cluster $(date '+%Y-%m-%d %H:%M:%S')"
	echo
	echo "Two sipdlgd boxes (nodes 1 and 2 of a \`cluster:\` of 2, heartbeat_interval $HB s, takeover_after $TAKEOVER_AFTER s, db_mode 1),"
	echo "each in its own network namespace and on its own node of a three-node MariaDB $GALERA_VER Galera cluster on this machine"
	echo "(tests/e2e/lib_galera.sh, up in $GALERA_UP_S s). Machine: $NCPU CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(uname -sr);"
	echo "load average before the run $OTHER_LOAD: the machine is shared with other work, the figures are noisy."
	echo
	if wanted takeover; then
		echo "## Takeover of $N dialogs"
		echo
		echo "gen_rows' $N confirmed dialogs (rows as Kamailio writes them, hash_id even: node 1's) loaded by box A at its start;"
		echo "\`kill -9\` A, then time until box B serves them all: B's dialog.active_dialogs = $N **and** an in-dialog INFO of three of A's"
		echo "dialogs sent to B with A's Route cookie is relayed and answered 200 (cluster_probe.py; B answers 481 to dialogs it does not serve),"
		echo "both polled every 20 ms. Manual = \`sipdlgctl cluster takeover 1\` on B right after the kill (what keepalived's notify hook does"
		echo "once the address moved); auto = B's own detection (heartbeat older than takeover_after)."
		echo "Baseline: box A's own start on the same rows (launch to serving) = **${BASE_MS:-n/a} ms**."
		echo
		echo "| kind | run | served, ms | listed, ms | INFO answered, ms | takeover RPC, ms | B's detection-to-loaded, ms |"
		echo "|---|---|---|---|---|---|---|"
		printf '%s' "${TK_ROWS:-}"
		echo
		echo "- manual: best ${MAN_BEST:-n/a} ms, worst ${MAN_WORST:-n/a} ms; target ≤ 2000 ms: $(verdict "${MAN_WORST:-}" le 2000) (worst run); ratio to the baseline start $(ratio "${MAN_WORST:-}" "${BASE_MS:-}")."
		echo "- auto: best ${AUTO_BEST:-n/a} ms, worst ${AUTO_WORST:-n/a} ms; target ≤ 5000 ms: $(verdict "${AUTO_WORST:-}" le 5000) (worst run); ratio to the baseline start $(ratio "${AUTO_WORST:-}" "${BASE_MS:-}")."
		echo
	fi
	if wanted stale; then
		echo "## Staleness of a cluster-wide profile"
		echo
		echo "Background calls (tools/bench/sipp/uac.xml, no hold, each call its own caller value) spread over both boxes, and $MARKERS"
		echo "marker calls held 1 s on A (caller mk<k>, profile caller with scope cluster). A sample is the time from A's"
		echo "\`profile-size caller mk<k>\` changing (0→1 at the call, 1→0 after its BYE; the last poll of A before the change) until B's"
		echo "shows the same (B's own count is 0: it is A's published count); both polled over one JSON-RPC connection each"
		echo "(cluster_stale.py, ~1 ms a poll): upper bounds. Published every 100 ms (changed values only), read every 50 ms."
		echo "Baseline: the same without background calls."
		echo
		echo "| background calls/s | samples | p50 ms | p99 ms | max ms | target p99 ≤ 250 ms | live node taken over | background calls |"
		echo "|---|---|---|---|---|---|---|---|"
		for rate in $STALE_RATES; do
			echo "| $rate | ${SN[$rate]:-0} | ${SP50[$rate]:-n/a} | ${SP99[$rate]:-n/a} | ${SMAX[$rate]:-n/a} | $(verdict "${SP99[$rate]:-}" le 250) | ${STO[$rate]:-n/a} | ${SCALLS[$rate]:--} |"
		done
		set -- $STALE_RATES
		echo
		echo "Ratio p99 at ${!#} calls/s / p99 at $1 (baseline): $(ratio "${SP99[${!#}]:-}" "${SP99[$1]:-}")."

		echo
	fi
	if wanted cps; then
		echo "## Calls/s on Galera against a single MariaDB"
		echo
		echo "bench-cps.sh (basic-call, short steps) with the profiles sipdlgd-db (one private MariaDB, TCP) and sipdlgd-galera (Galera"
		echo "node 1 over its unix socket, with the box's \`cluster:\` section; the other two Galera nodes replicate every write); full table:"
		echo "[LATEST-cps-cluster.md](LATEST-cps-cluster.md)."
		echo
		echo "Database settings. Galera nodes: ${GALERA_VARS:-n/a}, gcache.size ${GALERA_GCACHE:-n/a} (README \"Several boxes\":"
		echo "a COMMIT returns once the write set is in all three nodes' memory, each node flushes its redo log once a second)."
		echo "Single MariaDB: innodb_flush_log_at_trx_commit = 1 (MariaDB's default: it is the only copy, so it flushes at every"
		echo "COMMIT), innodb_buffer_pool_size = ${BENCH_DB_POOL_MB:-128}M, innodb_log_file_size = 96M (default), log_bin = OFF."
		echo
		echo "**single MariaDB ${CPS_DB:-n/a} calls/s, Galera ${CPS_GAL:-n/a} calls/s: ${CPS_RATIO_PCT:-n/a} %**; target ≥ 80 %: $(verdict "${CPS_RATIO_PCT:-}" ge 80)."
		echo
	fi
	echo "Total run time: $TOTAL s. Raw data: \`${RUN_DIR#"$REPO_DIR"/}/\` (configurations, box logs, sipp errors)."
	echo "Run: \`make bench-cluster\` (BENCH_CLUSTER_PARTS=\"$PARTS\" BENCH_CLUSTER_DIALOGS=$N BENCH_CLUSTER_RUNS=$RUNS)."
} >"$REPORT"
{
	printf 'part\tfigure\trun\tvalue\n'
	printf '%s\n' "${TSV_ROWS[@]}"
} >"$TSV"
cp "$REPORT" "$RESULTS/LATEST-cluster.md"
cp "$TSV" "$RESULTS/LATEST-cluster.tsv"
ls -1dt "$RESULTS"/cluster-[0-9]*/ 2>/dev/null | tail -n +4 | while read -r old; do rm -rf "$old"; done
echo
wanted takeover && echo "bench-cluster: takeover of $N dialogs: manual worst ${MAN_WORST:-n/a} ms (target <= 2000), auto worst ${AUTO_WORST:-n/a} ms (target <= 5000); baseline start ${BASE_MS:-n/a} ms"
if wanted stale; then
	for rate in $STALE_RATES; do
		echo "bench-cluster: profile staleness at $rate calls/s: p99 ${SP99[$rate]:-n/a} ms over ${SN[$rate]:-0} samples (target <= 250); live node taken over ${STO[$rate]:-n/a} times"
	done
fi
wanted cps && echo "bench-cluster: calls/s Galera ${CPS_GAL:-n/a} vs single MariaDB ${CPS_DB:-n/a}: ${CPS_RATIO_PCT:-n/a} % (target >= 80)"
echo "report ${REPORT#"$REPO_DIR"/} (and results/LATEST-cluster.md/.tsv); total $TOTAL s"
exit 0
}
