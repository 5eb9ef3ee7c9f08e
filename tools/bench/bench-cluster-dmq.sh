#!/bin/bash
# bench-cluster-dmq.sh - the comparison for bench-cluster.sh's takeover
# (`make bench-cluster-dmq`, issue 15 part 6): two Kamailio 5.6 boxes
# replicating their dialogs over DMQ (dialog enable_dmq=1,
# kamailio/kamailio-dmq.cfg: the same hash_size, h_id_start 1 and 2 with
# h_id_step 2, Record-Route with the dialog cookie, 481 to in-dialog
# requests of unknown dialogs), a sipp UAS behind them, and what happens to
# box A's calls when A dies and its address moves to box B.
#
# Five network namespaces of its own on one bridge (a sixth, the hub):
#   caller 10.77.0.10 (sipp UACs, dmq_probe.py)   box A 10.77.0.1 (the VIP)
#   box B 10.77.0.2 (also listens on 10.77.0.1: ip_nonlocal_bind)
#   callee 10.77.0.20 (sipp UAS, tools/bench/sipp/dmq_uas.xml)
#
#   1. SHORT calls of caller "short" (dialog timeout SHORT_TO s, BYE on
#      timeout; sipp/dmq_uac_timeout.xml waits for the proxy's BYE), then N
#      calls (sipp/cluster_uac_hold.xml, RATE calls/s, each held so that
#      its BYE comes after the takeover) set up through A.
#   2. replication lag: A's and B's dlg.stats_active polled (dmq_poll.py,
#      jsonrpcs, ~1 ms); the time from A listing all its dialogs to B listing them.
#      Memory: core.shmmem real_used of A and B before and after, per dialog.
#   3. B serves A's dialogs before any takeover? An in-dialog INFO of three of
#      A's dialogs (dmq_probe.py, cookies from B's dlg.list) sent to B's own
#      address.
#   4. kill -9 of every process of A's namespace, A's link down, the INFO
#      probe started (nobody answers: the address is nowhere), A's address
#      added to B (ip addr add) and the caller's and callee's neighbour
#      caches flushed (what keepalived's gratuitous ARP does).  Time from
#      the start of the move until the probe through the VIP is answered
#      200 by B; then the N held calls' BYEs (A's Route, sent by the
#      caller's sipp) through B: answered 200 or 481, and whether B still
#      lists some of them 10 s after the last (dialogs stuck unconfirmed).
#   5. the SHORT calls' timeout on B: did the caller get B's timeout BYE, and
#      does B still list them after their timeout?
#
# Everything started here (namespaces, processes, the run directory's
# sockets) is removed at exit.  Exit status: 0 whatever the figures; 2 when
# it could not run.
#
# Environment (all optional):
#   BENCH_DMQ_DIALOGS     N, the held calls through A (default 1000)
#   BENCH_DMQ_RATE        calls/s of their setup (default 200: a shared
#                         2-CPU machine sets up 500/s with losses)
#   BENCH_DMQ_SHORT       calls with the short timeout (default 20)
#   BENCH_DMQ_MARGIN      seconds between the end of the setup and the first
#                         BYE (default 15, plus 30 % of the setup time: replication, memory, kill, move)
#   BENCH_DMQ_WAIT        bound of each wait, seconds (default 60)
#   BENCH_DMQ_SHM         Kamailio shared memory, MB (default 512)
#   BENCH_DMQ_WORKERS     dmq num_workers of both boxes (default 2)
#   BENCH_DEADLINE        absolute end (epoch seconds), set by `make bench`
set -u
{
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/bench/lib.sh
. "$BENCH_DIR/lib.sh"

N=${BENCH_DMQ_DIALOGS:-1000}
RATE=${BENCH_DMQ_RATE:-200}
SHORT=${BENCH_DMQ_SHORT:-20}
MARGIN=${BENCH_DMQ_MARGIN:-15}
WAIT=${BENCH_DMQ_WAIT:-60}
SHM=${BENCH_DMQ_SHM:-512}
DMQ_WORKERS=${BENCH_DMQ_WORKERS:-2}
CFG=$BENCH_DIR/kamailio/kamailio-dmq.cfg
PROBE=$BENCH_DIR/dmq_probe.py
POLL=$BENCH_DIR/dmq_poll.py
TOTAL_DLG=$((N + SHORT))
SETUP_S=$(((N + RATE - 1) / RATE))
# a loaded machine sets up slower than RATE: 30 % slack
HOLD_MS=$(((SETUP_S * 13 / 10 + MARGIN) * 1000))
# the short calls time out after the takeover, while the held calls end
SHORT_TO=$((HOLD_MS / 1000 + 6))
SIP_C=10.77.0.10 SIP_A=10.77.0.1 SIP_B=10.77.0.2 SIP_U=10.77.0.20
VIP=$SIP_A

START=$(now)
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$BENCH_DIR/results
RUN_DIR=$RESULTS/cluster-dmq-$STAMP
REPORT=$RESULTS/cluster-dmq-$STAMP.md
TSV=$RESULTS/cluster-dmq-$STAMP.tsv
mkdir -p "$RUN_DIR" || exit 2
RUN_LOG=$RUN_DIR/run.log
: >"$RUN_LOG"
bench_install_traps

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
for c in kamailio kamcmd sipp nsenter jq "$PY"; do
	command -v "$c" >/dev/null 2>&1 || die "$c is missing"
done
kamailio -c -f "$CFG" >"$RUN_DIR/check.log" 2>&1 || die "kamailio -c $CFG: $(grep -m1 -iE 'error|critical' "$RUN_DIR/check.log")"
KAM_VER=$(kamailio -v 2>/dev/null | sed -n 's/^version: //p' | head -1)
OTHER_LOAD=$(awk '{ print $1 }' /proc/loadavg)
# the ctl sockets' paths must fit a sun_path: a short directory of their own
CTL_DIR=$(mktemp -d /tmp/kdmq.XXXXXX) || die "mktemp"

# ---- namespaces ------------------------------------------------------------
NH="kdq$$h" NC="kdq$$c" NA="kdq$$a" NB="kdq$$b" NU="kdq$$u"
cleanup_ns() {
	local ns p
	for ns in "$NC" "$NA" "$NB" "$NU"; do
		# every process left in our namespaces (sipp -bg, kamailio children)
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	done
	for ns in "$NC" "$NA" "$NB" "$NU" "$NH"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$CTL_DIR"
}
prev=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
# shellcheck disable=SC2064
trap "$prev; cleanup_ns" EXIT
in_ns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }
{
	set -e
	for ns in "$NH" "$NC" "$NA" "$NB" "$NU"; do
		ip netns add "$ns"; ip -n "$ns" link set lo up
	done
	ip -n "$NH" link add br0 type bridge
	ip -n "$NH" link set br0 up
	for x in "c $NC $SIP_C" "a $NA $SIP_A" "b $NB $SIP_B" "u $NU $SIP_U"; do
		set -- $x
		ip -n "$NH" link add "p$1" type veth peer name eth0 netns "$2"
		ip -n "$NH" link set "p$1" master br0 up
		ip -n "$2" link set eth0 up
		ip -n "$2" addr add "$3/24" dev eth0
	done
	# box B binds A's address before it has it (keepalived setups do the same)
	in_ns "$NB" sysctl -qw net.ipv4.ip_nonlocal_bind=1
	set +e
} >"$RUN_DIR/netns.log" 2>&1 || die "network namespaces: $(tail -3 "$RUN_DIR/netns.log")"
in_ns "$NC" ping -c1 -W2 "$SIP_A" >/dev/null 2>&1 || die "caller cannot reach box A"

# ---- the boxes -------------------------------------------------------------
PA="" PB=""
# start_box A|B
start_box() {
	local d=$RUN_DIR/box$1 ns=$NA me=$SIP_A peer=$SIP_B hid=1 vip=()
	[ "$1" = B ] && { ns=$NB; me=$SIP_B; peer=$SIP_A; hid=2; vip=(-A LISTEN_VIP); }
	mkdir -p "$d"
	( cd "$d" && exec nsenter --net="/run/netns/$ns" kamailio -f "$CFG" -DD -E -Y "$d" -w "$d" \
		-m "$SHM" -M 16 -A "MY_ADDR=$me" -A "VIP=$VIP" -A "H_ID_START=$hid" \
		-A "DMQ_SERVER=\"sip:$me:5060\"" -A "DMQ_PEER=\"sip:$peer:5060\"" \
		-A "UAS_URI=\"sip:$SIP_U:5080\"" -A "CTL_SOCKET=\"unix:$CTL_DIR/$1.ctl\"" \
		-A "JSONRPC_SOCKET=\"$CTL_DIR/$1.rpc\"" \
		-A "SHORT_TIMEOUT=\"$SHORT_TO\"" -A "DMQ_WORKERS=$DMQ_WORKERS" "${vip[@]}" ) >"$d/kamailio.log" 2>&1 &
	bench_track "$!"
	if [ "$1" = A ]; then PA=$!; else PB=$!; fi
}
kcmd() { local b=$1; shift; timeout 5 kamcmd -s "unix:$CTL_DIR/$b.ctl" "$@" 2>/dev/null; }
# rpc A|B METHOD [PARAM...]: one JSON-RPC call (jsonrpcs datagram socket)
rpc() { local b=$1; shift; timeout 5 "$PY" "$POLL" get "$CTL_DIR/$b.rpc" "$@" 2>/dev/null; }
# active A|B: confirmed dialogs the box lists (dlg.stats_active "all")
active() { rpc "$1" dlg.stats_active | jq -r '.all // empty'; }
# in_profile A|B VALUE: dialogs in profile caller with VALUE
in_profile() { rpc "$1" dlg.profile_get_size caller "$2" | jq -r 'if type == "object" then .count else . end'; }
# shm A|B: shared memory "used real_used" (core.shmmem; bench-mem reports used)
shm() { kcmd "$1" core.shmmem | awk '$1 == "used:" { u = $2 } $1 == "real_used:" { r = $2 } END { print u, r }'; }
# dmq_peers_up A|B: the box lists the other one as an active DMQ node
dmq_peers_up() {
	local other=$SIP_B; [ "$1" = B ] && other=$SIP_A
	kcmd "$1" dmq.list_nodes | tr -d '\t' | awk -v h="$other" '
		/^host:/ { host = $2 } /^status:/ { if (host == h && $2 == "active") ok = 1 } END { exit !ok }'
}
wait_for() {	# SECONDS CMD...
	local end=$(($(date +%s) + $1)); shift
	while [ "$(date +%s)" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
ns_ms() { echo $((($1 - $2) / 1000000)); }

log "bench-cluster-dmq: Kamailio $KAM_VER, $N held calls + $SHORT short-timeout calls ($SHORT_TO s) through box A; raw data in ${RUN_DIR#"$REPO_DIR"/}"
start_box A; start_box B
wait_for 20 kcmd A core.uptime && wait_for 20 kcmd B core.uptime || die "Kamailio did not start: $(tail -3 "$RUN_DIR"/box?/kamailio.log)"
t0=$(date +%s%N)
if ! wait_for "$WAIT" dmq_peers_up A || ! wait_for "$WAIT" dmq_peers_up B; then
	die "the DMQ peers did not see each other: A $(kcmd A dmq.list_nodes | tr '\n' ' ') B $(kcmd B dmq.list_nodes | tr '\n' ' ')"
fi
log "  DMQ peers active after $(ms_since "$t0") ms"
read -r U_A0 R_A0 < <(shm A); read -r U_B0 R_B0 < <(shm B)

declare -a TSV_ROWS=()
tsv() { TSV_ROWS+=("$(printf '%s\t' "$@" | sed 's/\t$//')"); }

# ---- 1. calls through A ----------------------------------------------------
( exec nsenter --net="/run/netns/$NU" sipp -sf "$BENCH_DIR/sipp/dmq_uas.xml" -i "$SIP_U" -p 5080 -t u1 \
	-trace_stat -stf "$RUN_DIR/uas.csv" -fd 1 -trace_err -error_file "$RUN_DIR/uas.err" -nostdin ) >/dev/null 2>&1 &
UAS_PID=$!; bench_track "$UAS_PID"
sleep 0.5
( exec nsenter --net="/run/netns/$NC" sipp "$VIP:5060" -sf "$BENCH_DIR/sipp/dmq_uac_timeout.xml" -i "$SIP_C" -p 5071 -t u1 \
	-m "$SHORT" -r 50 -l "$SHORT" -key from_user short -recv_timeout $(((SHORT_TO + WAIT) * 1000)) \
	-trace_stat -stf "$RUN_DIR/short.csv" -fd 1 -trace_err -error_file "$RUN_DIR/short.err" -nostdin ) >/dev/null 2>&1 &
SHORT_PID=$!; bench_track "$SHORT_PID"
sleep 1
T_CALLS=$(date +%s%N)
( exec nsenter --net="/run/netns/$NC" sipp "$VIP:5060" -sf "$BENCH_DIR/sipp/cluster_uac_hold.xml" -i "$SIP_C" -p 5070 -t u1 \
	-m "$N" -r "$RATE" -l $((N + 10)) -d "$HOLD_MS" -key from_user held -recv_timeout $((WAIT * 1000)) \
	-trace_stat -stf "$RUN_DIR/held.csv" -fd 1 -trace_err -error_file "$RUN_DIR/held.err" -nostdin ) >/dev/null 2>&1 &
HELD_PID=$!; bench_track "$HELD_PID"

# ---- 2. replication lag ----------------------------------------------------
# dmq_poll.py: A's and B's dlg.stats_active back to back, ~1 ms a poll
out=$(timeout $((SETUP_S + WAIT + 5)) "$PY" "$POLL" lag "$CTL_DIR/A.rpc" "$CTL_DIR/B.rpc" "$TOTAL_DLG" $(((SETUP_S + WAIT) * 1000)) 2>"$RUN_DIR/lag.trace")
case "$out" in
ok*) set -- $out; TA=$2 TB=$3 MAXDIFF=$4 ROUNDS=$5 CONF=$6 ;;
*) die "not all $TOTAL_DLG dialogs listed: A $(active A), B $(active B) ($out; sipp: $(tail -2 "$RUN_DIR/held.err" 2>/dev/null))" ;;
esac
SETUP_MS=$(ns_ms "$TA" "$T_CALLS")
LAG_MS=$(ns_ms "$TB" "$TA"); [ "$LAG_MS" -lt 0 ] && LAG_MS=0
[ "$CONF" = "$TOTAL_DLG" ] || log "  only $CONF of the $TOTAL_DLG calls were set up (sipp: $(tail -c 300 "$RUN_DIR/held.err" 2>/dev/null))"
log "  A lists its $CONF confirmed dialogs $SETUP_MS ms after the first call; B lists them $LAG_MS ms after A; B at most $MAXDIFF dialogs behind A ($ROUNDS polls)"
tsv lag a_confirmed 1 "$CONF"
tsv lag a_all_listed_ms 1 "$SETUP_MS"
tsv lag b_after_a_ms 1 "$LAG_MS"
tsv lag b_max_dialogs_behind 1 "$MAXDIFF"
# dialogs B holds in another state than confirmed (4), beyond A's own
A_STATES=$(rpc A dlg.stats_active) B_STATES=$(rpc B dlg.stats_active)
A_NOTCONF=$(echo "$A_STATES" | jq -r '.all - .ongoing')
B_NOTCONF=$(echo "$B_STATES" | jq -r '.all - .ongoing')
B_STUCK=$((B_NOTCONF - A_NOTCONF))
[ "$B_NOTCONF" = 0 ] || log "  not confirmed: A $A_NOTCONF ($A_STATES), B $B_NOTCONF ($B_STATES)"
tsv lag a_not_confirmed 1 "$A_NOTCONF"
tsv lag b_not_confirmed 1 "$B_NOTCONF"
# memory once the setup's transactions are gone (tm's wait timer, 5 s)
sleep 5.5
read -r U_A1 R_A1 < <(shm A); read -r U_B1 R_B1 < <(shm B)
per_dlg() { [ -n "$1" ] && [ -n "$2" ] && echo $((($2 - $1) / CONF)) || echo "-"; }
MEM_A=$(per_dlg "$U_A0" "$U_A1") MEM_B=$(per_dlg "$U_B0" "$U_B1")
MEMR_A=$(per_dlg "$R_A0" "$R_A1") MEMR_B=$(per_dlg "$R_B0" "$R_B1")
log "  shared memory per dialog, used (real_used): A (its own) $MEM_A ($MEMR_A) B, B (replicated) $MEM_B ($MEMR_B) B"

# ---- 3. three of A's dialogs, as B lists them ------------------------------
# sipp's Call-IDs are <call number>-<its pid>@<its address>: three calls
# (from 1, N/2 and N on; one that B holds unconfirmed is skipped), as B
# lists them (dlg.dlg_list CALLID); A's h_ids are odd
PROBE_DLGS=()
for ((k = 0; k < 10 && ${#PROBE_DLGS[@]} < 3; k++)); do
	for i in $((1 + k)) $(((N + 1) / 2 + k)) $((N - k)); do
		[ "${#PROBE_DLGS[@]}" -lt 3 ] || break
		rpc B dlg.dlg_list "$i-$HELD_PID@$SIP_C" >"$RUN_DIR/b-dlg-$i.json"
		r=$(jq -r '[if type == "array" then .[] else . end | select(.h_id % 2 == 1 and .state == 4)] | .[0] // empty |
			"\(.["call-id"]):\(.caller.tag):\(.callee.tag):\(.h_entry):\(.h_id)"' "$RUN_DIR/b-dlg-$i.json" 2>/dev/null)
		case " ${PROBE_DLGS[*]} " in *" $r "*) r="" ;; esac
		[ -n "$r" ] && PROBE_DLGS+=("$r")
	done
done
[ "${#PROBE_DLGS[@]}" = 3 ] || die "three of A's dialogs not found on B (${RUN_DIR#"$REPO_DIR"/}/b-dlg-*.json)"
probe() {	# ADDR WAIT_MS
	in_ns "$NC" "$PY" "$PROBE" "$1" "$SIP_C" 5072 5073 "$2" 20 "${PROBE_DLGS[@]}"
}
out=$(probe "$SIP_A" 3000); log "  INFO of three of A's dialogs to A: $out"
case "$out" in ok*) ;; *) die "A does not serve its own dialogs: $out (${RUN_DIR#"$REPO_DIR"/}/boxA/kamailio.log)" ;; esac
out=$(probe "$SIP_B" 3000); B_HOT=no
case "$out" in ok*) B_HOT=yes ;; esac
log "  the same INFO to B's own address before any takeover: $out"
tsv standby b_serves_before_takeover 1 "$B_HOT"

# ---- 4. kill -9 A, its address to B ----------------------------------------
# A's setup transactions may still have been in tm's wait timer: again
read -r U_A2 R_A2 < <(shm A)
if [ -n "$U_A2" ] && [ -n "$U_A1" ] && [ "$U_A2" -lt "$U_A1" ]; then
	MEM_A=$(per_dlg "$U_A0" "$U_A2") MEMR_A=$(per_dlg "$R_A0" "$R_A2")
	log "  A per dialog just before the kill: $MEM_A ($MEMR_A) B"
fi
tsv mem a_used_bytes_per_dialog 1 "$MEM_A"
tsv mem b_used_bytes_per_dialog 1 "$MEM_B"
tsv mem a_real_used_bytes_per_dialog 1 "$MEMR_A"
tsv mem b_real_used_bytes_per_dialog 1 "$MEMR_B"
ACTIVE_B_BEFORE=$(rpc B dlg.stats_active | jq -r '.all')
# DMQ carries profile membership: B counts A's calls in its profiles
PROF_A=$(in_profile A held) PROF_B=$(in_profile B held)
log "  profile caller=held before the kill: A counts $PROF_A, B $PROF_B"
tsv standby profile_held_a 1 "$PROF_A"
tsv standby profile_held_b 1 "$PROF_B"
[ "$ACTIVE_B_BEFORE" -ge "$CONF" ] 2>/dev/null || log "  (B lists $ACTIVE_B_BEFORE dialogs before the kill: BYEs started already? raise BENCH_DMQ_MARGIN)"
disown "$PA" 2>/dev/null	# no "Killed" job notice
for p in $(ip netns pids "$NA"); do kill -KILL "$p" 2>/dev/null; done
T_KILL=$(date +%s%N)
bench_untrack "$PA"; PA=""
ip -n "$NA" link set eth0 down
# the probe starts while nobody has the address (no answers: the box is off)
probe "$SIP_A" $((WAIT * 1000)) >"$RUN_DIR/probe.out" 2>&1 &
PP=$!
sleep 0.5
T_MOVE=$(date +%s%N)
ip -n "$NB" addr add "$VIP/24" dev eth0
T_ADDED=$(date +%s%N)
ip -n "$NC" neigh flush dev eth0; ip -n "$NU" neigh flush dev eth0
T_FLUSHED=$(date +%s%N)
log "  kill -9 A; its address on B $(ns_ms "$T_MOVE" "$T_KILL") ms later (the probe already sending)"
wait "$PP"
# until B lists none of the held calls (profile caller, value held), at
# most 10 s after their last BYE was due
TEND="" GHOSTS=0
FIRST_BYE_MS=$(((T_CALLS / 1000000 + HOLD_MS) - T_MOVE / 1000000))
LAST_BYE_MS=$((FIRST_BYE_MS + SETUP_MS))
out=$(timeout $((LAST_BYE_MS / 1000 + 20)) "$PY" "$POLL" le "$CTL_DIR/B.rpc" 0 $((LAST_BYE_MS + 10000)) dlg.profile_get_size caller held)
case "$out" in
ok*) set -- $out; TEND=$2 ;;
*) GHOSTS=$(in_profile B held); log "  B still lists $GHOSTS held calls 10 s after their last BYE" ;;
esac
pout=$(cat "$RUN_DIR/probe.out")
SERVED_MS="-" FIRST_MS="-"
case "$pout" in
ok*) set -- $pout; SERVED_MS=$(ns_ms "$2" "$T_MOVE"); FIRST_MS=$(ns_ms "$4" "$T_MOVE") ;;
esac
log "  INFO through the address answered 200 by B ${SERVED_MS} ms after the move (probe: $pout)"
tsv takeover served_after_move_ms 1 "$SERVED_MS"
# the held calls' BYEs
wait_for $((HOLD_MS / 1000 + WAIT)) bash -c "! kill -0 $HELD_PID 2>/dev/null"
wait "$HELD_PID" 2>/dev/null; bench_untrack "$HELD_PID"
sipp_col() {	# CSV COLUMN: the last row's value
	awk -F';' -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i } NR > 1 { v = $k } END { print v + 0 }' "$1" 2>/dev/null
}
HELD_OK=$(sipp_col "$RUN_DIR/held.csv" "SuccessfulCall(C)")
HELD_FAIL=$(sipp_col "$RUN_DIR/held.csv" "FailedCall(C)")
BYE_481=$(grep -c '481 Call/Transaction' "$RUN_DIR/held.err" 2>/dev/null); BYE_481=${BYE_481:-0}
ENDED_MS="-"; [ -n "$TEND" ] && ENDED_MS=$(ns_ms "$TEND" "$T_MOVE")
log "  held calls: $HELD_OK ended by their BYE through B (200), $HELD_FAIL failed ($BYE_481 answered 481); B lists none of them $ENDED_MS ms after the move (their BYEs were sent from ~$FIRST_BYE_MS to ~$LAST_BYE_MS ms)"
tsv takeover held_calls_ok 1 "$HELD_OK"
tsv takeover held_calls_failed 1 "$HELD_FAIL"
tsv takeover held_bye_481 1 "$BYE_481"
tsv takeover b_lists_none_after_move_ms 1 "$ENDED_MS"
tsv takeover b_still_lists_after_bye 1 "$GHOSTS"

# ---- 5. the short calls' timeout on B --------------------------------------
left=$(( (T_CALLS / 1000000000) + SHORT_TO + WAIT - $(date +%s) ))
[ "$left" -lt 5 ] && left=5
wait_for "$left" bash -c "! kill -0 $SHORT_PID 2>/dev/null"
wait "$SHORT_PID" 2>/dev/null; bench_untrack "$SHORT_PID"
SHORT_BYE=$(sipp_col "$RUN_DIR/short.csv" "SuccessfulCall(C)")
SHORT_NOBYE=$(sipp_col "$RUN_DIR/short.csv" "FailedCall(C)")
B_LEFT=$(active B)
B_LEFT_LIST=$(in_profile B short)
UAS_OK=$(sipp_col "$RUN_DIR/uas.csv" "SuccessfulCall(C)")
SHORT_CALLEE_BYE=$((UAS_OK - HELD_OK)); [ "$SHORT_CALLEE_BYE" -lt 0 ] && SHORT_CALLEE_BYE=0
log "  short calls (timeout $SHORT_TO s, BYE on timeout): caller got B's BYE for $SHORT_BYE of $SHORT, callee for $SHORT_CALLEE_BYE; B lists $B_LEFT_LIST of them after their timeout (dlg.stats_active $B_LEFT)"
tsv timeout caller_got_bye 1 "$SHORT_BYE"
tsv timeout caller_no_bye 1 "$SHORT_NOBYE"
tsv timeout callee_got_bye 1 "$SHORT_CALLEE_BYE"
tsv timeout b_still_lists 1 "$B_LEFT_LIST"
tsv timeout b_timed_out 1 "$(grep -c 'dlg_ontimeout(): dlg timeout' "$RUN_DIR/boxB/kamailio.log")"
B_TIMEOUTS=$(grep -c 'dlg_ontimeout(): dlg timeout' "$RUN_DIR/boxB/kamailio.log")
B_ERRS=$(grep -cE 'ERROR|CRITICAL' "$RUN_DIR/boxB/kamailio.log")
B_TO_ERR=$(grep -m1 -E 'ERROR|CRITICAL' "$RUN_DIR/boxB/kamailio.log" | sed 's/^.*: //' | cut -c1-160)

stop_tree "$UAS_PID" 5; bench_untrack "$UAS_PID"
stop_tree "$PB" 10; bench_untrack "$PB"; PB=""

# ---- report ----------------------------------------------------------------
TOTAL=$(($(now) - START))
{
	echo "# bench-cluster-dmq $(date '+%Y-%m-%d %H:%M:%S')"
	echo
	echo "Two Kamailio $KAM_VER boxes (kamailio-dmq.cfg: dialog enable_dmq=1, hash_size 4096, h_id_start 1 / 2, h_id_step 2,"
	echo "db_mode 0, 4 children, dmq num_workers $DMQ_WORKERS, -m $SHM), each in its own network namespace on one bridge, a sipp UAS behind them; the"
	echo "comparison for [LATEST-cluster.md](LATEST-cluster.md) (sipdlg on Galera). Machine: $NCPU CPUs"
	echo "($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(uname -sr); load average before the run $OTHER_LOAD (shared machine)."
	echo
	echo "$N calls held through box A (set up at $RATE calls/s, each held $((HOLD_MS / 1000)) s) and $SHORT calls with a $SHORT_TO s"
	echo "dialog timeout and BYE on timeout (\`\$dlg_ctx(timeout_bye)\`). Then \`kill -9\` of A's processes, A's link down, A's"
	echo "address added to B (B already listens on it: ip_nonlocal_bind) and the neighbour caches flushed (keepalived's gratuitous ARP)."
	echo
	echo "| figure | value |"
	echo "|---|---|"
	echo "| A lists its $CONF confirmed dialogs (of $TOTAL_DLG calls), after the first call | $SETUP_MS ms |"
	echo "| **replication lag**: B lists them all, after A does | **$LAG_MS ms** (A's dlg.stats_active ongoing, B's all, back to back over jsonrpcs, $ROUNDS polls) |
| B behind A during the setup, at most | $MAXDIFF dialogs |
| dialogs in another state than confirmed: on A / on B (B's beyond A's: $B_STUCK) | $A_NOTCONF / $B_NOTCONF (A: \`$A_STATES\`; B: \`$B_STATES\`) |"
	echo "| B answers an in-dialog INFO of A's dialogs at B's own address before any takeover | $B_HOT |
| profile caller=held (A's calls) before the kill: A's count / B's count | $PROF_A / $PROF_B |"
	echo "| address moved, after kill -9 (the probe started in between) | $(ns_ms "$T_MOVE" "$T_KILL") ms; \`ip addr add\` done after $(ns_ms "$T_ADDED" "$T_MOVE") ms, neighbour caches flushed after $(ns_ms "$T_FLUSHED" "$T_MOVE") ms |"
	echo "| **B serves A's dialogs** (INFO of three of them through the address answered 200), after the move (B has them already: this is the address move and ARP) | **$SERVED_MS ms** (first 200 $FIRST_MS ms; probe rounds of up to 100 ms) |"
	echo "| held calls ended by their own BYE (A's Route) through B | $HELD_OK of $N ($HELD_FAIL failed, $BYE_481 answered 481) |"
	echo "| B lists none of the held calls, after the move (their BYEs sent from ~$FIRST_BYE_MS to ~$LAST_BYE_MS ms) | $ENDED_MS ms |
| held calls B still lists 10 s after their last BYE (the ones stuck in state 1: a BYE in an early state is ignored) | $GHOSTS |"
	echo "| short calls: **timeout BYE** from B to the caller / to the callee | **$SHORT_BYE / $SHORT_CALLEE_BYE of $SHORT** |"
	echo "| short calls B still lists after their timeout (profile caller=short) | $B_LEFT_LIST of $SHORT (B's dlg.stats_active then: $B_LEFT) |
| dialogs B timed out (its log: \`dlg_ontimeout(): dlg timeout\`) | $B_TIMEOUTS |"
	echo "| **shared memory per dialog**: A (own dialogs) / B (replicated), core.shmmem used (real_used) | **$MEM_A / $MEM_B bytes** ($MEMR_A / $MEMR_B) |"
	echo "| ERROR/CRITICAL lines in B's log | $B_ERRS${B_TO_ERR:+ (first: \`$B_TO_ERR\`)} |"
	echo
	echo "Total run time: $TOTAL s. Raw data: \`${RUN_DIR#"$REPO_DIR"/}/\` (box logs, sipp CSV and errors, the probed dialogs as B lists them)."
	echo "Run: \`make bench-cluster-dmq BENCH_DMQ_DIALOGS=$N\` (BENCH_DMQ_RATE=$RATE BENCH_DMQ_SHORT=$SHORT BENCH_DMQ_MARGIN=$MARGIN BENCH_DMQ_WORKERS=$DMQ_WORKERS)."
} >"$REPORT"
{
	printf 'part\tfigure\trun\tvalue\n'
	printf '%s\n' "${TSV_ROWS[@]}"
} >"$TSV"
cp "$REPORT" "$RESULTS/LATEST-cluster-dmq.md"
cp "$TSV" "$RESULTS/LATEST-cluster-dmq.tsv"
ls -1dt "$RESULTS"/cluster-dmq-[0-9]*/ 2>/dev/null | tail -n +4 | while read -r old; do rm -rf "$old"; done
echo
echo "bench-cluster-dmq: Kamailio DMQ, $N dialogs: replication lag $LAG_MS ms; B serves A's dialogs $SERVED_MS ms after the address moves; $HELD_OK/$N BYEs through B ok"
echo "bench-cluster-dmq: timeout BYEs from B for A's dialogs: caller $SHORT_BYE/$SHORT, callee $SHORT_CALLEE_BYE/$SHORT; B still lists $B_LEFT_LIST/$SHORT; shm per dialog A $MEM_A B, B $MEM_B B"
echo "report ${REPORT#"$REPO_DIR"/} (and results/LATEST-cluster-dmq.md/.tsv); total $TOTAL s"
exit 0
}
