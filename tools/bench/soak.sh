#!/bin/bash
# soak.sh - `make soak` (issue 16): SOAK_SECONDS (default 3600) of mixed
# load and faults against one sipdlgd, with invariants checked while it
# runs and at the end.  Not part of `make test`.
#
# Set-up (everything private, removed at exit, pass or fail): a MariaDB
# of tests/lib/mariadb.sh (unix socket), two network namespaces joined by
# a veth pair (tests/e2e/lib.sh); sipdlgd in namespace A with XDP on its
# veth end, db_mode 1, xdp.invite_limit, unknown_dialog: drop, limits:
# and tcp: caps; every load generator in namespace B, each from an
# address of its own:
#   .2  sipp calls: INFO calls (INVITE, 20 INFO, BYE; tools/bench/sipp)
#       at SOAK_CPS and held calls (20 s, tests/e2e/sipp/uac_call.xml) at
#       SOAK_HELD_CPS, and the forged in-dialog requests of
#       tools/bench/flood.c at SOAK_FORGED_PPS
#   .3  a flood of initial INVITEs (SOAK_INVITE_PPS, python3), dropped in
#       the kernel beyond invite_limit
#   .4  garbage datagrams (random bytes, python3)
#   .5 .6  a TCP slowloris (tests/e2e/helpers/slowloris.c)
#   .7  a TCP probe every sample: OPTIONS over a new connection must be
#       answered (the slowloris must not lock clients out)
# Faults, once per cycle of SOAK_CYCLE seconds: the database stopped for
# 30 s (then started again), and sipdlgd killed with SIGKILL and started
# again (dialogs come back from the database).
#
# Invariants:
#   during: sipdlgd alive; after each restart, no dialog lost: every
#     dialog confirmed before the kill whose row is still in the database
#     is known again (listed in any state: one whose BYE came right after
#     the restart is ended and kept end_timeout); the TCP probe answered
#   end (load stopped, calls drained): dialog.active_dialogs and
#     early_dialogs 0, every profile 0, no row in the database, an empty
#     `sipdlgctl list`; a clean restart restores nothing (no dialog
#     resurrected); RSS back near its idle baseline (<= 1.5 x + 16 MB).
# Writes tools/bench/results/soak-STAMP.md and LATEST-soak.md; exit 0
# when every invariant held, 1 if one did not, 2 if it could not run.
#
# Environment: SOAK_SECONDS (3600), SOAK_CYCLE (300), SOAK_SAMPLE (10),
# SOAK_CPS (10), SOAK_HELD_CPS (2), SOAK_FORGED_PPS (300),
# SOAK_INVITE_PPS (300), SOAK_GARBAGE_PPS (50), SOAK_SLOW_CONNS (60 per
# source).
set -u
SOAK_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$SOAK_DIR/../.." && pwd)
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/lib/mariadb.sh"

SECS=${SOAK_SECONDS:-3600}
CYCLE=${SOAK_CYCLE:-300}
SAMPLE=${SOAK_SAMPLE:-10}
CPS=${SOAK_CPS:-10}
HELD_CPS=${SOAK_HELD_CPS:-2}
FORGED_PPS=${SOAK_FORGED_PPS:-300}
INVITE_PPS=${SOAK_INVITE_PPS:-300}
GARBAGE_PPS=${SOAK_GARBAGE_PPS:-50}
SLOW_CONNS=${SOAK_SLOW_CONNS:-60}

STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$SOAK_DIR/results
REPORT=$RESULTS/soak-$STAMP.md
LATEST=$RESULTS/LATEST-soak.md
FAILS=0
EVENTS=()

say() { echo "$(date +%H:%M:%S) $*" >&2; }
event() { say "$*"; EVENTS+=("$(date +%H:%M:%S) $*"); }
fail() { FAILS=$((FAILS + 1)); event "FAIL: $*"; }

for tool in sipp jq python3; do
	command -v "$tool" >/dev/null 2>&1 || { echo "soak: $tool is not installed" >&2; exit 2; }
done
e2e_init
# Private copies of the binaries: a rebuild during the hour changes nothing.
BIN="$E2E_TMP/bin"
mkdir -p "$BIN"
for b in sipdlgd sipdlgctl tools/bench/flood tests/e2e/slowloris; do
	[ -x "$ROOT/build/$b" ] || { echo "soak: build/$b is missing (make soak builds it)" >&2; exit 2; }
	cp "$ROOT/build/$b" "$BIN/"
done
SIPDLGD=$BIN/sipdlgd SIPDLGCTL=$BIN/sipdlgctl
mariadb_start; rc=$?
[ "$rc" -eq 0 ] || { echo "soak: no MariaDB (make deps)" >&2; exit 2; }

NSA="${E2E_ID}ka" NSB="${E2E_ID}kb" VA="${E2E_ID}kva" VB="${E2E_ID}kvb"
NET=10.237.$(( $$ % 200 ))
A=$NET.1 B=$NET.2 FL=$NET.3 GB=$NET.4 S1=$NET.5 S2=$NET.6 PR=$NET.7
P=5060 U_INFO=5080 U_HELD=5081 C_INFO=5070 C_HELD=5071 SINK=5999
netns_add "$NSA" && netns_add "$NSB" || { echo "soak: namespaces" >&2; exit 2; }
ip link add "$VA" netns "$NSA" type veth peer name "$VB" netns "$NSB"
ip -n "$NSA" addr add "$A/24" dev "$VA"
for a in $B $FL $GB $S1 $S2 $PR; do ip -n "$NSB" addr add "$a/24" dev "$VB"; done
ip -n "$NSA" link set "$VA" up
ip -n "$NSB" link set "$VB" up

SOCK="$E2E_TMP/ctl.sock"
new_pin_path PIN soak
CFG="$E2E_TMP/soak.yaml"
cat >"$CFG" <<EOF
listen: ["udp:$A:$P", "tcp:$A:$P"]
workers: 2
dialog:
  db_mode: 1
  db_url: "$MARIADB_URL"
  default_timeout: 120
  early_timeout: 20
  end_timeout: 10
  profiles_with_value: [caller]
  profiles_no_value: [inbound]
database:
  required: false
xdp:
  interfaces: [$VA]
  pin_path: $PIN
  unknown_dialog: drop
  invite_limit: { per_source_pps: 20, burst: 40 }
limits:
  max_early_dialogs: 2000
  max_transactions: 20000
tcp:
  max_connections: 400
  max_connections_per_source: 50
  reserved_outbound: 50
  message_timeout_ms: 5000
control:
  socket: $SOCK
log:
  level: notice
routes:
  - name: flood
    match: { method: INVITE, in_dialog: false, ruri_user: flood }
    actions: [ dlg_manage, { forward: "udp:$B:$SINK" } ]
  - name: held calls
    match: { method: INVITE, in_dialog: false, ruri_user: held }
    actions:
      - dlg_manage
      - set_dlg_profile: [caller, "\$fU"]
      - set_dlg_profile: [inbound]
      - forward: "udp:$B:$U_HELD"
  - name: info calls
    match: { method: INVITE, in_dialog: false }
    actions:
      - dlg_manage
      - set_dlg_profile: [caller, "\$fU"]
      - set_dlg_profile: [inbound]
      - forward: "udp:$B:$U_INFO"
EOF
"$SIPDLGD" -c "$CFG" --check >&2 || { echo "soak: config refused" >&2; exit 2; }

ctl() { "$SIPDLGCTL" --socket "$SOCK" --json "$@" 2>/dev/null; }
dstat() { ctl stats | jq -r --arg k "$1" '.[$k] // 0' 2>/dev/null; }
xdp_count() { ctl xdp | jq -r ".counters.$1.packets // 0" 2>/dev/null; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
db_rows() { mariadb_sql "SELECT COUNT(*) FROM dialog" 2>/dev/null || echo "?"; }
listed() { ctl list | jq -r '.[] | select(.state != 5) | ."call-id"' 2>/dev/null | sort; }
profile() { ctl profile-size "$@" 2>/dev/null || echo "?"; }

DPID=""
start_sipdlgd() { # NAME
	start_daemon "$1" "$CFG" "$NSA" || return 1
	DPID=$DAEMON_PID
	LOGS+=("$E2E_TMP/$1.log")
}
LOGS=()
start_sipdlgd d0 || { echo "soak: sipdlgd does not start" >&2; exit 2; }
sleep 2
RSS0=$(rss_kb "$DPID")
event "sipdlgd up (pid $DPID), idle RSS ${RSS0} kB"

# --- load -------------------------------------------------------------------
BG_PID=""
bg_ns() { # NAME CMD... : run CMD in namespace B in the background; BG_PID
	local name=$1; shift
	( cd "$E2E_TMP" && exec nsenter --net="/run/netns/$NSB" "$@" ) \
		>"$E2E_TMP/$name.out" 2>&1 </dev/null &
	BG_PID=$!
	E2E_PIDS+=("$BG_PID")
}
SIPP_COMMON=(-nostdin -trace_stat -fd 10)
bg_ns uas-info sipp -sf "$ROOT/tools/bench/sipp/info_uas.xml" \
	-i "$B" -p "$U_INFO" -stf "$E2E_TMP/uas-info.csv" "${SIPP_COMMON[@]}"
uas_info=$BG_PID
bg_ns uas-held sipp -sf "$ROOT/tests/e2e/sipp/uas_call.xml" \
	-i "$B" -p "$U_HELD" -stf "$E2E_TMP/uas-held.csv" "${SIPP_COMMON[@]}"
uas_held=$BG_PID
sleep 0.5
bg_ns uac-info sipp -sf "$ROOT/tools/bench/sipp/info_uac.xml" \
	"$A:$P" -i "$B" -p "$C_INFO" -s info -r "$CPS" -m $((CPS * SECS)) \
	-l $((CPS * 10)) -recv_timeout 10000 -stf "$E2E_TMP/uac-info.csv" \
	"${SIPP_COMMON[@]}"
uac_info=$BG_PID
bg_ns uac-held sipp -sf "$ROOT/tests/e2e/sipp/uac_call.xml" \
	"$A:$P" -i "$B" -p "$C_HELD" -s held -r "$HELD_CPS" \
	-m $((HELD_CPS * SECS)) -d 20000 -recv_timeout 40000 \
	-stf "$E2E_TMP/uac-held.csv" "${SIPP_COMMON[@]}"
uac_held=$BG_PID
bg_ns forged "$BIN/flood" -d "$A:$P" -r "$FORGED_PPS" -t "$SECS"

cat >"$E2E_TMP/udp_load.py" <<'EOF'
# udp_load.py KIND DST PORT SRC RATE SECS: initial INVITEs or garbage
import os, random, socket, sys, time
kind, dst, port, src, rate, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]), float(sys.argv[6])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
end, i, t = time.time() + secs, 0, time.time()
while time.time() < end:
    i += 1
    if kind == "invite":
        m = ("INVITE sip:flood@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5998;branch=z9hG4bKsk%d\r\n"
             "From: <sip:f@%s>;tag=s%d\r\nTo: <sip:flood@%s>\r\nCall-ID: soak-%d-%d\r\n"
             "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContact: <sip:f@%s:5998>\r\n"
             "Content-Length: 0\r\n\r\n" % (dst, src, i, src, i, dst, os.getpid(), i, src)).encode()
    else:
        m = os.urandom(random.randint(1, 1400))
        if i % 3 == 0:
            m = b"INVITE sip:x SIP/2.0\r\n" + m
    try:
        s.sendto(m, (dst, port))
    except OSError:
        pass
    t += 1.0 / rate
    d = t - time.time()
    if d > 0:
        time.sleep(d)
print("sent", i)
EOF
bg_ns invites python3 "$E2E_TMP/udp_load.py" invite "$A" "$P" "$FL" "$INVITE_PPS" "$SECS"
bg_ns garbage python3 "$E2E_TMP/udp_load.py" garbage "$A" "$P" "$GB" "$GARBAGE_PPS" "$SECS"
bg_ns slowloris "$BIN/slowloris" -d "$A:$P" -s "$S1,$S2" -n "$SLOW_CONNS" -i 500 -t "$SECS" -r

cat >"$E2E_TMP/tcp_probe.py" <<'EOF'
# tcp_probe.py DST PORT SRC: OPTIONS over a new TCP connection; 0 if answered
import socket, sys
dst, port, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
try:
    s = socket.create_connection((dst, port), timeout=10, source_address=(src, 0))
    lp = s.getsockname()[1]
    s.sendall(("OPTIONS sip:probe@%s SIP/2.0\r\nVia: SIP/2.0/TCP %s:%d;branch=z9hG4bKprobe\r\n"
               "From: <sip:p@%s>;tag=p\r\nTo: <sip:probe@%s>\r\nCall-ID: probe-%d\r\n"
               "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
               % (dst, src, lp, src, dst, lp)).encode())
    d = s.recv(4096)
    sys.exit(0 if d.startswith(b"SIP/2.0 ") else 1)
except Exception:
    sys.exit(1)
EOF
# 15 s: on a shared 2-CPU host at load 18 the probe alone took up to 5.6 s
probe() { in_ns "$NSB" timeout 15 python3 "$E2E_TMP/tcp_probe.py" "$A" "$P" "$PR"; }

# --- faults -------------------------------------------------------------------
DB_DOWN_AT=60 KILL_AT=180
[ "$CYCLE" -lt 240 ] && { DB_DOWN_AT=$((CYCLE / 5)); KILL_AT=$((CYCLE * 3 / 5)); }

db_outage() {
	event "database stopped (outage 30 s)"
	mariadb_pause
	sleep 30
	mariadb_resume || fail "MariaDB does not come back"
	event "database started again"
}

LOST_TOTAL=0
kill_restart() {
	local before db_after after lost
	ctl list | jq -r '.[] | select(.state == 4) | ."call-id"' 2>/dev/null | sort >"$E2E_TMP/before"
	before=$(wc -l <"$E2E_TMP/before")
	kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null
	forget_pid "$DPID"
	event "sipdlgd killed with SIGKILL ($before confirmed dialogs listed)"
	if ! start_sipdlgd "d$((++NSTART))"; then
		fail "sipdlgd does not start again after SIGKILL"
		return 1
	fi
	sleep 2
	# the listing first (every state: a dialog whose BYE came right after
	# the restart is state 5 and known), then the rows: a row is deleted
	# after its dialog ends, never before
	ctl list | jq -r '.[] | ."call-id"' 2>/dev/null | sort -u >"$E2E_TMP/after"
	mariadb_sql "SELECT callid FROM dialog" 2>/dev/null | sort >"$E2E_TMP/db_after"
	# lost: confirmed before, its row still there, unknown to sipdlgd
	lost=$(comm -12 "$E2E_TMP/before" "$E2E_TMP/db_after" | comm -23 - "$E2E_TMP/after" | wc -l)
	LOST_TOTAL=$((LOST_TOTAL + lost))
	event "sipdlgd restarted (pid $DPID): $(wc -l <"$E2E_TMP/after") dialogs listed, $(wc -l <"$E2E_TMP/db_after") rows, $lost lost"
	[ "$lost" -eq 0 ] || fail "$lost dialogs lost across the SIGKILL"
}
NSTART=0

# --- the run ------------------------------------------------------------------
TSV="$E2E_TMP/samples.tsv"
printf 't_s\trss_kb\tactive\tearly\tdb_rows\ttcp_open\tinvite_rate_dropped\tforged_dropped\tprobe\n' >"$TSV"
T0=$(date +%s)
PROBE_FAIL=0 PROBE_N=0 RSS_MAX=0 NEXT_DB=$DB_DOWN_AT NEXT_KILL=$KILL_AT
while :; do
	now=$(( $(date +%s) - T0 ))
	[ "$now" -ge "$SECS" ] && break
	if [ "$now" -ge "$NEXT_DB" ]; then
		NEXT_DB=$((NEXT_DB + CYCLE))
		[ $((now + 40)) -lt "$SECS" ] && db_outage
	elif [ "$now" -ge "$NEXT_KILL" ]; then
		NEXT_KILL=$((NEXT_KILL + CYCLE))
		[ $((now + 60)) -lt "$SECS" ] && kill_restart
	fi
	if ! kill -0 "$DPID" 2>/dev/null; then
		fail "sipdlgd died (see its log)"
		start_sipdlgd "d$((++NSTART))" || break
	fi
	p=ok; PROBE_N=$((PROBE_N + 1))
	probe || { p=FAIL; PROBE_FAIL=$((PROBE_FAIL + 1)); }
	r=$(rss_kb "$DPID"); [ "${r:-0}" -gt "$RSS_MAX" ] && RSS_MAX=$r
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(( $(date +%s) - T0 ))" "$r" \
		"$(dstat dialog.active_dialogs)" "$(dstat dialog.early_dialogs)" "$(db_rows)" \
		"$(dstat core.tcp_open)" "$(xdp_count invite_rate_dropped)" \
		"$(xdp_count dlg_unknown_dropped)" "$p" >>"$TSV"
	sleep "$SAMPLE"
done
event "load time over after $(( $(date +%s) - T0 )) s: stopping the floods, draining the calls"

# --- the end ------------------------------------------------------------------
for pid in "${E2E_PIDS[@]}"; do
	[ "$pid" = "$DPID" ] || [ "$pid" = "$uac_info" ] || [ "$pid" = "$uac_held" ] ||
		[ "$pid" = "$uas_info" ] || [ "$pid" = "$uas_held" ] || kill -TERM "$pid" 2>/dev/null
done
# sipp: no new calls (SIGUSR1 is sipp's soft stop), let the calls end
kill -USR1 "$uac_info" "$uac_held" 2>/dev/null
for _ in $(seq 90); do
	kill -0 "$uac_info" 2>/dev/null || kill -0 "$uac_held" 2>/dev/null || break
	sleep 1
done
say "sipp callers done (or stopped after 90 s)"
kill -TERM "$uac_info" "$uac_held" "$uas_info" "$uas_held" 2>/dev/null
# the flood's early dialogs end by Timer B / early_timeout, a call whose
# caller gave up without a BYE (caught by a SIGKILL) by default_timeout
# (120 s): bounded wait beyond that
drain_end=$(( $(date +%s) + 200 ))
while [ "$(date +%s)" -lt "$drain_end" ]; do
	a=$(dstat dialog.active_dialogs) e=$(dstat dialog.early_dialogs)
	t=$(dstat sip.active_transactions) l=$(ctl list | jq length 2>/dev/null)
	say "draining: active $a, early $e, transactions $t, listed $l, rows $(db_rows)"
	[ "$a" = 0 ] && [ "$e" = 0 ] && [ "$t" = 0 ] && [ "$l" = 0 ] && break
	sleep 5
done
sleep 3
END_ACTIVE=$(dstat dialog.active_dialogs) END_EARLY=$(dstat dialog.early_dialogs)
END_ROWS=$(db_rows) END_LIST=$(listed | wc -l) END_LIST_ALL=$(ctl list | jq length 2>/dev/null)
END_CALLER=$(profile caller) END_INBOUND=$(profile inbound)
END_TX=$(dstat sip.active_transactions)
RSS_END=$(rss_kb "$DPID")
[ "$END_ACTIVE" = 0 ] && [ "$END_EARLY" = 0 ] || fail "dialogs left: active $END_ACTIVE, early $END_EARLY"
[ "$END_ROWS" = 0 ] || fail "$END_ROWS rows left in the dialog table"
[ "$END_LIST" = 0 ] || fail "sipdlgctl list still shows $END_LIST live dialogs"
[ "$END_TX" = 0 ] || fail "$END_TX transactions still active"
[ "$END_CALLER" = 0 ] && [ "$END_INBOUND" = 0 ] || fail "profiles not back to 0: caller $END_CALLER, inbound $END_INBOUND"
RSS_LIMIT=$(( RSS0 * 3 / 2 + 16384 ))
[ "${RSS_END:-0}" -le "$RSS_LIMIT" ] || fail "RSS $RSS_END kB is not back near its baseline $RSS0 kB (limit $RSS_LIMIT)"
[ "$PROBE_FAIL" -eq 0 ] || fail "$PROBE_FAIL of $PROBE_N TCP probes unanswered"
# a clean restart: nothing comes back (no dialog resurrected)
stop_daemon "$DPID"; forget_pid "$DPID"
start_sipdlgd final || fail "sipdlgd does not start at the end"
sleep 2
RESTORED=$(dstat dialog.active_dialogs)
[ "$RESTORED" = 0 ] || fail "a clean restart restored $RESTORED dialogs (resurrected)"
INV_DROP=$(xdp_count invite_rate_dropped) FORGED_DROP=$(xdp_count dlg_unknown_dropped)
stop_daemon "$DPID"; forget_pid "$DPID"

# --- report -------------------------------------------------------------------
csv_last() { # FILE COLUMN
	[ -f "$1" ] || { echo "?"; return; }
	awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
		c { v = $c } END { print (c ? v : "?") }' "$1"
}
mkdir -p "$RESULTS"
{
	echo "# make soak: $(date -u +%Y-%m-%dT%H:%MZ), $SECS s"
	echo
	if [ "$FAILS" -eq 0 ]; then echo "**Every invariant held.**"; else echo "**$FAILS invariant(s) failed** (see Events)."; fi
	echo
	echo "Host: $(nproc) CPU(s), $(uname -r); shared with other work while it ran."
	echo "Load (namespace B -> sipdlgd with XDP on a veth in namespace A):"
	echo "INFO calls $CPS/s (INVITE, 20 INFO, BYE), held calls $HELD_CPS/s (20 s),"
	echo "forged in-dialog requests $FORGED_PPS/s, initial INVITE flood $INVITE_PPS/s from one"
	echo "source (xdp.invite_limit 20/s burst 40), garbage $GARBAGE_PPS/s, TCP slowloris"
	echo "$SLOW_CONNS connections x 2 sources, a TCP probe every ${SAMPLE} s; per cycle of"
	echo "${CYCLE} s the database stopped 30 s and sipdlgd killed (SIGKILL) and restarted."
	echo
	echo "| figure | value |"
	echo "|---|---|"
	echo "| INFO calls ok / failed | $(csv_last "$E2E_TMP/uac-info.csv" 'SuccessfulCall(C)') / $(csv_last "$E2E_TMP/uac-info.csv" 'FailedCall(C)') |"
	echo "| held calls ok / failed | $(csv_last "$E2E_TMP/uac-held.csv" 'SuccessfulCall(C)') / $(csv_last "$E2E_TMP/uac-held.csv" 'FailedCall(C)') |"
	echo "| INVITEs dropped in the kernel (last daemon run) | $INV_DROP |"
	echo "| forged requests dropped in the kernel (last run) | $FORGED_DROP |"
	echo "| dialogs lost across SIGKILLs | $LOST_TOTAL |"
	echo "| TCP probes unanswered | $PROBE_FAIL of $PROBE_N |"
	echo "| RSS idle at start / max / end (kB) | $RSS0 / $RSS_MAX / $RSS_END (limit $RSS_LIMIT) |"
	echo "| at the end: active, early, rows, listed live (all) | $END_ACTIVE, $END_EARLY, $END_ROWS, $END_LIST ($END_LIST_ALL) |"
	echo "| at the end: profiles caller, inbound; tx_active | $END_CALLER, $END_INBOUND; $END_TX |"
	echo "| dialogs restored by a clean restart at the end | $RESTORED |"
	echo
	echo "Failed calls are calls caught by a SIGKILL (their transactions die with"
	echo "the process) or timed out while sipdlgd was down; they are reported, not"
	echo "an invariant."
	echo
	echo "## Events"
	echo
	for e in "${EVENTS[@]}"; do echo "- $e"; done
	echo
	echo "## Samples (every ${SAMPLE} s; one line a minute shown)"
	echo
	awk -F'\t' -v every=$(( 60 / SAMPLE > 0 ? 60 / SAMPLE : 1 )) '
		NR == 1 { printf "|"; for (i = 1; i <= NF; i++) printf " %s |", $i; printf "\n|"; for (i = 1; i <= NF; i++) printf "---|"; printf "\n"; next }
		(NR - 2) % every == 0 { printf "|"; for (i = 1; i <= NF; i++) printf " %s |", $i; printf "\n" }' "$TSV"
	echo
	echo "## Warnings logged by sipdlgd (distinct, first 20)"
	echo
	echo '```'
	cat "${LOGS[@]}" 2>/dev/null | grep -E ' (warn|error) ' | sed 's/^[0-9:.]* //' | sort | uniq -c | sort -rn | head -20
	echo '```'
} >"$REPORT"
cp "$REPORT" "$LATEST"
say "report: $REPORT ($FAILS failed)"
[ "$FAILS" -eq 0 ]
exit $?
