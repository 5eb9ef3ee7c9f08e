#!/bin/bash
# A TCP slowloris against sipdlgd, scaled down: a few hundred connections
# from 127.0.0.2-7, each trickling one byte of a never-ending message
# every 500 ms and reconnecting when closed (tests/e2e/helpers/slowloris.c),
# while sipp makes a call through the proxy:
#   0. guards off (per-source cap = max_connections, no outbound reserve,
#      an hour's message deadline): the flood holds every connection and a
#      TCP call from 127.0.0.1 cannot get in: the attack is real;
#   1. guards on, four attacking sources: each is held to its cap, the
#      message deadline cuts every trickling connection (which the bytes
#      do not extend), and a TCP call (caller -> proxy -> callee, both
#      legs TCP) made during the flood succeeds;
#   2. six attacking sources fill the clients' share (max_connections
#      less the outbound reserve): a newcomer evicts the oldest connection
#      that never sent a whole message, so a TCP call still gets in, and
#      its outbound leg gets a connection from the reserve.
# The caps are checked in core statistics and in the (rate-limited) log.
. "$(dirname "$0")/lib.sh"
e2e_init
need_sipp
SLOW="$E2E_ROOT/build/tests/e2e/slowloris"
if [ ! -x "$SLOW" ]; then
	not_ok "the slowloris helper is built" "run make test-build"
	e2e_finish
fi
if ! command -v jq >/dev/null 2>&1; then
	skip "slowloris" "jq is not installed"
	e2e_finish
fi
if ! e2e_port_block BASE 12000 400 10; then
	not_ok "a free block of 10 ports"
	e2e_finish
fi
SIPP_TIMEOUT=15
P=$BASE U_TCP=$((BASE + 1)) U_OUT=$((BASE + 2)) C=$((BASE + 3))
DLG_SOCK="$E2E_TMP/proxy-ctl.sock"

# core_stat NAME : core.NAME of the running proxy.
core_stat() {
	dlg_ctl stats core 2>/dev/null | jq -r --arg k "core.$1" '.[$k] // empty'
}
core_stat_ge() { [ "$(core_stat "$1")" -ge "$2" ] 2>/dev/null; }
core_stat_le() { [ "$(core_stat "$1")" -le "$2" ] 2>/dev/null; }

# max_open N : the most of N samples of core.tcp_open, 0.2 s apart.
max_open() {
	local m=0 v
	for _ in $(seq "$1"); do
		v=$(core_stat tcp_open)
		[ "${v:-0}" -gt "$m" ] && m=$v
		sleep 0.2
	done
	echo "$m"
}

# proxy_start NAME TCP-SECTION : a proxy routing "tcp" and "out" to the
# callees over TCP, with TCP-SECTION appended as its tcp: map.
proxy_start() {
	local cfg="$E2E_TMP/$1.yaml"
	proxy_config "$cfg" "$P" "tcp=tcp:127.0.0.1:$U_TCP" "out=tcp:127.0.0.1:$U_OUT"
	printf 'tcp: %s\n' "$2" >>"$cfg"
	sed -i 's/level: debug/level: info/' "$cfg"
	check "$1: the config passes sipdlgd --check" "$SIPDLGD" -c "$cfg" --check
	start_proxy "$1" "$cfg" "$P" || { not_ok "$1: the proxy starts" "$(proxy_diag)"; e2e_finish; }
}

# attack NAME SOURCES PER SECONDS : start the slowloris in the background.
attack() {
	( exec "$SLOW" -d "127.0.0.1:$P" -s "$2" -n "$3" -i 500 -t "$4" -r ) \
		>"$E2E_TMP/$1.out" 2>&1 </dev/null &
	ATTACK_PID=$!
	E2E_PIDS+=("$ATTACK_PID")
}

# attack_end : wait for it (bounded by its own -t) and print its figures.
attack_end() {
	for _ in $(seq 300); do kill -0 "$ATTACK_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$ATTACK_PID" 2>/dev/null
	wait "$ATTACK_PID" 2>/dev/null
	forget_pid "$ATTACK_PID"
}

# fig FILE KEY : one key=value figure of a slowloris report.
fig() { tr ' ' '\n' <"$1" | sed -n "s/^$2=//p"; }

# call NAME UAS-PORT UAC-ARGS... : one call (2 s long) to service NAME;
# sets UAC_RC and UAS_RC.
call() {
	local name=$1 uport=$2 uas_pid
	shift 2
	sipp_start "$name-uas" uas_call.xml -m 1 -i 127.0.0.1 -t t1 -p "$uport"
	uas_pid=$SIPP_PID
	wait_for 5 port_bound tcp "$uport"
	sipp_start "$name-uac" uac_call.xml -m 1 -recv_timeout 4000 -d 2000 "$@"
	sipp_wait "$SIPP_PID" 20; UAC_RC=$?
	sipp_wait "$uas_pid" 3; UAS_RC=$?
}

ATTACK4="127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5"
ATTACK6="$ATTACK4,127.0.0.6,127.0.0.7"

# --- 0. guards off: the flood locks the TCP call out ------------------------
proxy_start off "{ max_connections: 200, max_connections_per_source: 200, reserved_outbound: 0, message_timeout_ms: 3600000 }"
attack off "$ATTACK4" 60 10
wait_for 5 core_stat_ge tcp_open 200
held=$(max_open 3)
call off "$U_TCP" "127.0.0.1:$P" -i 127.0.0.1 -t t1 -p "$C" -s tcp
attack_end
succ=$(sipp_stat off-uac 'SuccessfulCall(C)')
if [ "${succ:-0}" = 0 ] && [ "$(fig "$E2E_TMP/off.out" cut)" = 0 ]; then
	ok "guards off: the flood held all $held connections, none cut, and the TCP call failed"
else
	not_ok "guards off: the flood locks the TCP call out (the attack is real)" \
		"successful calls: ${succ:-none}" "slowloris: $(cat "$E2E_TMP/off.out")"
fi
stop_daemon "$PROXY_PID"; forget_pid "$PROXY_PID"

# --- 1. guards on: per-source cap and message deadline ----------------------
proxy_start on "{ max_connections: 200, max_connections_per_source: 40, reserved_outbound: 20, message_timeout_ms: 2000 }"
attack on "$ATTACK4" 60 14
wait_for 5 core_stat_ge tcp_refused_per_source 1
held=$(max_open 10)    # the flood at its height: 4 x 40 held, the rest retrying
call on "$U_TCP" "127.0.0.1:$P" -i 127.0.0.1 -t t1 -p $((C + 1)) -s tcp
sipp_call_check "guards on: a TCP call made during the flood (4 sources x 60 trickling connections) succeeds" \
	on-uac "$UAC_RC" on-uas "$UAS_RC" 1
attack_end
R="$E2E_TMP/on.out"
if [ "$held" -ge 120 ] && [ "$held" -le 160 ]; then
	ok "guards on: the flood held $held connections at most (4 sources x cap 40)"
else
	not_ok "guards on: each source is held to its cap" "core.tcp_open sampled up to $held"
fi
life=$(fig "$R" life_max_ms)
# A life is at most: first byte (<= 500 ms after connect) + deadline 2000
# + the sweep period (deadline / 4) + slack for a loaded host.
if [ "$(fig "$R" cut)" -gt 0 ] && [ "${life:-99999}" -le 4500 ]; then
	ok "guards on: $(fig "$R" cut) trickling connections cut, none lived past $life ms (deadline 2000 ms, a byte every 500 ms)"
else
	not_ok "guards on: the message deadline cuts trickling connections" "slowloris: $(cat "$R")"
fi
n_to=$(core_stat tcp_message_timeout) n_src=$(core_stat tcp_refused_per_source)
check_eq "guards on: core.tcp_message_timeout and tcp_refused_per_source count, tcp_refused_inbound does not" \
	"yes 0" "$( [ "${n_to:-0}" -gt 0 ] && [ "${n_src:-0}" -gt 0 ] && echo yes) $(core_stat tcp_refused_inbound)"
l_src=$(grep -c 'max_connections_per_source' "$PROXY_LOG")
l_to=$(grep -c 'message_timeout_ms' "$PROXY_LOG")
if [ "$l_src" -ge 1 ] && [ "$l_src" -le 3 ] && [ "$l_to" -ge 1 ] && [ "$l_to" -le 3 ] &&
	grep -q 'more like it in the last 10 s' "$PROXY_LOG"; then
	ok "guards on: logged, rate-limited: $l_src lines for $n_src per-source refusals, $l_to for $n_to deadlines"
else
	not_ok "guards on: the caps are logged at most once per 10 s" \
		"$l_src lines for $n_src refusals, $l_to for $n_to deadlines" "$(grep 'tcp:' "$PROXY_LOG" | head -5)"
fi
echo "# guards on, slowloris: $(cat "$R")"

# --- 2. the clients' share full: eviction and the outbound reserve ---------
wait_for 10 core_stat_le tcp_open 0
attack full "$ATTACK6" 45 12
wait_for 6 core_stat_ge tcp_evicted 1
held=$(max_open 10)
call full "$U_OUT" "127.0.0.1:$P" -i 127.0.0.1 -t t1 -p $((C + 2)) -s out
sipp_call_check "clients' share full (6 sources x 40 > 180): a TCP call gets in and out" \
	full-uac "$UAC_RC" full-uas "$UAS_RC" 1
attack_end
n_ev=$(core_stat tcp_evicted)
# 180 for clients, at most 16 evicted ones not closed yet, the call's
# outbound leg: never above max_connections (200).
if [ "$held" -le 200 ] && [ "${n_ev:-0}" -gt 0 ] &&
	grep -q 'never sent a whole message' "$PROXY_LOG"; then
	ok "clients' share full: at most $held open (max 200, share 180), $n_ev silent connections evicted for newcomers (core.tcp_evicted), logged"
else
	not_ok "clients' share full: the share holds and newcomers evict silent connections" \
		"core.tcp_open sampled up to $held; tcp_evicted: ${n_ev:-none}" "$(grep 'tcp:' "$PROXY_LOG" | tail -5)"
fi
echo "# clients' share full, slowloris: $(cat "$E2E_TMP/full.out")"
echo "# clients' share full, proxy: $(dlg_ctl stats core | jq -c 'with_entries(select(.key|test("tcp_(refused|evicted|message)")))')"
if stop_daemon "$PROXY_PID"; then ok "the proxy stops cleanly"; else not_ok "the proxy stops cleanly" "exit status not 0"; fi
forget_pid "$PROXY_PID"
e2e_finish
