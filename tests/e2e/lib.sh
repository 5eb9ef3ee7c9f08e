# tests/e2e/lib.sh - shared helpers of the end-to-end tests (bash).
#
# Each test script sources this file, calls e2e_init, and reports results
# as TAP lines through ok/not_ok/skip.  Everything a test creates (network
# namespaces, veth links, daemons, pinned maps, temp dirs, mounts) is
# registered here and removed by the EXIT trap, pass or fail.  Every wait
# is bounded.

set -u

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SIPDLGD="$E2E_ROOT/build/sipdlgd"
SIPDLGCTL="$E2E_ROOT/build/sipdlgctl"
E2E_ID="sd$$"
E2E_TMP=""
E2E_N=0
E2E_FAILED=0
declare -a E2E_PIDS=() E2E_NETNS=() E2E_PINS=() E2E_MOUNTS=()

ok() { E2E_N=$((E2E_N + 1)); echo "ok $E2E_N - $*"; }
not_ok() {
	E2E_N=$((E2E_N + 1)); E2E_FAILED=$((E2E_FAILED + 1))
	echo "not ok $E2E_N - $1"
	shift
	[ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/# /'
	return 0
}
skip() { E2E_N=$((E2E_N + 1)); echo "ok $E2E_N - $1 # SKIP $2"; }

# check NAME CMD... : ok if CMD succeeds.
check() {
	local name=$1; shift
	local out
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "command: $*" "$out"; fi
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected: $2" "actual:   $3"; fi
}

# check_contains NAME NEEDLE HAYSTACK
check_contains() {
	case "$3" in
	*"$2"*) ok "$1" ;;
	*) not_ok "$1" "expected to find: $2" "in: $3" ;;
	esac
}

e2e_cleanup() {
	local pid ns pin m
	for pid in "${E2E_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${E2E_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ns in "${E2E_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	for pin in "${E2E_PINS[@]}"; do rm -rf "$pin"; done
	for m in "${E2E_MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
	[ -n "$E2E_TMP" ] && rm -rf "$E2E_TMP"
}

# e2e_init: root check, bpffs, temp dir, the cleanup trap.
e2e_init() {
	if [ "$(id -u)" -ne 0 ]; then
		skip "end-to-end tests" "need root"
		exit 0
	fi
	sh "$E2E_ROOT/tools/mount-bpffs.sh" >/dev/null || { not_ok "mount bpffs"; exit 1; }
	E2E_TMP=$(mktemp -d /tmp/sipdlg-e2e.XXXXXX)
	trap e2e_cleanup EXIT
	trap 'exit 130' INT TERM
}

# e2e_finish: exit status for run.sh (counts come from the TAP lines).
e2e_finish() {
	echo "1..$E2E_N"
	[ "$E2E_FAILED" -eq 0 ]
	exit $?
}

# wait_for SECONDS CMD... : poll CMD every 0.1 s; 0 when it succeeds.
wait_for() {
	local limit=$1; shift
	local tries=$((limit * 10))
	while [ "$tries" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

# wait_until SECONDS 'SHELL CONDITION': like wait_for, but the condition
# is evaluated again at each try, so command substitutions in it are
# re-run (wait_for 5 test "$(counter x)" -ge 3 would test one value).
wait_until() {
	local limit=$1 cond=$2
	local tries=$((limit * 10))
	while [ "$tries" -gt 0 ]; do
		eval "$cond" >/dev/null 2>&1 && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

# new_pin_path VAR NAME: set VAR to a pin directory of this test, removed
# at exit.  (Not "$(...)": a subshell would lose the registration.)
new_pin_path() {
	local p="/sys/fs/bpf/sipdlg-e2e-$E2E_ID-$2"
	E2E_PINS+=("$p")
	printf -v "$1" '%s' "$p"
}

# netns_add NAME: a network namespace of this test, removed at exit.
netns_add() {
	ip netns add "$1" || return 1
	E2E_NETNS+=("$1")
	ip -n "$1" link set lo up
}

# netns_addr NS DEV ADDR/LEN... : addresses on DEV in NS; IPv6 ones
# without duplicate address detection (usable at once).
netns_addr() {
	local ns=$1 dev=$2 a
	shift 2
	for a in "$@"; do
		case "$a" in
		*:*) ip -n "$ns" addr add "$a" dev "$dev" nodad || return 1 ;;
		*) ip -n "$ns" addr add "$a" dev "$dev" || return 1 ;;
		esac
	done
}

# veth_pair NSA VA NSB VB : a veth pair, VA in NSA and VB in NSB, both up.
# It goes with the namespaces (netns_add: removed by the EXIT trap).
veth_pair() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" &&
		ip -n "$1" link set "$2" up &&
		ip -n "$3" link set "$4" up
}

# netns_pair NSA NSB VA VB A/LEN B/LEN : the two-namespace set-up of the
# XDP tests: namespaces NSA and NSB of this test joined by a veth pair
# (VA in NSA with address A, VB in NSB with B), all removed at exit.
# 1 on failure, with the reason in $E2E_TMP/netns_pair.log.
netns_pair() {
	{
		netns_add "$1" && netns_add "$2" &&
			veth_pair "$1" "$3" "$2" "$4" &&
			netns_addr "$1" "$3" "$5" && netns_addr "$2" "$4" "$6"
	} >"$E2E_TMP/netns_pair.log" 2>&1
}

# in_ns NS CMD... : run CMD in the network namespace only (unlike
# 'ip netns exec', nsenter keeps our mounts, so /sys/fs/bpf stays bpffs).
in_ns() {
	local ns=$1; shift
	nsenter --net="/run/netns/$ns" "$@"
}

# start_daemon NAME CONFIG [NETNS] : start sipdlgd in the background and
# wait until its control socket answers.  Sets DAEMON_PID.
start_daemon() {
	local name=$1 cfg=$2 ns=${3:-}
	local sock
	sock=$(sed -n 's/^ *socket: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$cfg" | head -n1)
	# exec, so that $! is sipdlgd itself and signals reach it.
	if [ -n "$ns" ]; then
		( exec nsenter --net="/run/netns/$ns" "$SIPDLGD" -c "$cfg" ) >"$E2E_TMP/$name.log" 2>&1 &
	else
		( exec "$SIPDLGD" -c "$cfg" ) >"$E2E_TMP/$name.log" 2>&1 &
	fi
	DAEMON_PID=$!
	E2E_PIDS+=("$DAEMON_PID")
	if ! wait_for 15 "$SIPDLGCTL" --socket "$sock" version; then
		echo "# sipdlgd '$name' did not come up; its log:"
		sed 's/^/#   /' "$E2E_TMP/$name.log"
		return 1
	fi
}

# stop_daemon PID : SIGTERM and wait (bounded); 0 if it exited with 0.
stop_daemon() {
	local pid=$1 rc
	kill -TERM "$pid" 2>/dev/null || return 1
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"; wait "$pid" 2>/dev/null; return 1
	fi
	wait "$pid"; rc=$?
	return $rc
}

# write_config FILE SOCKET PIN_PATH IFACE LISTEN... : a minimal daemon config.
write_config() {
	local file=$1 sock=$2 pin=$3 iface=$4
	shift 4
	{
		echo "listen:"
		for l in "$@"; do echo "  - \"$l\""; done
		echo "dialog:"
		echo "  profiles_with_value: [caller]"
		echo "  profiles_no_value: [inbound]"
		echo "xdp:"
		echo "  interfaces: [$iface]"
		echo "  mode: auto"
		echo "  pin_path: $pin"
		echo "control:"
		echo "  socket: $sock"
		echo "log:"
		echo "  level: debug"
	} >"$file"
}

# send_udp NS HOST PORT COUNT : COUNT datagrams, one SIP OPTIONS each.
# cat writes the file in one write(), so each redirection is exactly one
# datagram (bash's own printf may flush at every line end).
send_udp() {
	local f="$E2E_TMP/udp-probe.txt"
	printf 'OPTIONS sip:probe@%s SIP/2.0\r\nCall-ID: e2e-probe\r\n\r\n' "$2" >"$f"
	if [ -n "$1" ]; then
		in_ns "$1" bash -c 'for i in $(seq "$4"); do cat "$1" >"/dev/udp/$2/$3"; done' \
			_ "$f" "$2" "$3" "$4" 2>/dev/null
	else
		bash -c 'for i in $(seq "$4"); do cat "$1" >"/dev/udp/$2/$3"; done' \
			_ "$f" "$2" "$3" "$4" 2>/dev/null
	fi
	return 0
}

# json_get JSON JQ-FILTER
json_get() { printf '%s' "$1" | jq -r "$2"; }

# --- sipp and the proxy under test (test_proxy_*.sh) ------------------------
SIPP_SCENARIOS="$E2E_ROOT/tests/e2e/sipp"

# forget_pid PID : drop PID from the cleanup list once it has been reaped
# (so that cleanup never signals a number the system gave to someone else).
forget_pid() {
	local p keep=()
	for p in "${E2E_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	E2E_PIDS=("${keep[@]}")
}

# port_bound udp|tcp PORT : a socket of this host listens on PORT.
port_bound() {
	ss -Hln "--$1" "sport = :$2" 2>/dev/null | grep -q .
}

# need_sipp : skip the whole test (exit 0) when sipp is not installed.
need_sipp() {
	command -v sipp >/dev/null 2>&1 && return 0
	skip "sipp calls" "sipp (package sip-tester) is not installed"
	exit 0
}

# proxy_config FILE PORT ROUTE... : a sipdlgd config for the proxy tests.
# It listens on UDP and TCP at 127.0.0.1:PORT and [::1]:PORT (the IPv6
# ones only if ::1 exists), without XDP, with its control socket in the
# test's temp dir.  Each ROUTE is USER=DEST: an initial request (no To-tag)
# for sip:USER@... is forwarded to DEST ("udp:H:P" or "tcp:H:P").  Any
# other initial request is left to the 404 rule; sequential requests
# follow their Route set.
proxy_config() {
	local file=$1 port=$2 r
	shift 2
	{
		echo "listen:"
		echo "  - \"udp:127.0.0.1:$port\""
		echo "  - \"tcp:127.0.0.1:$port\""
		if have_ipv6; then
			echo "  - \"udp:[::1]:$port\""
			echo "  - \"tcp:[::1]:$port\""
		fi
		echo "xdp: {enabled: false}"
		echo "control:"                      # block style: start_daemon reads it
		echo "  socket: $E2E_TMP/proxy-ctl.sock"
		echo "log: {level: debug}"
		echo "routes:"
		for r in "$@"; do
			echo "  - name: \"to ${r%%=*}\""
			echo "    match: { in_dialog: false, ruri_user: \"${r%%=*}\" }"
			echo "    actions: [ { forward: \"${r#*=}\" } ]"
		done
	} >"$file"
}

# have_ipv6 : ::1 is configured on this host.
have_ipv6() {
	[ -r /proc/net/if_inet6 ] && grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6
}

# start_proxy NAME CFG PORT ROUTE... : start the proxy under test and wait
# until it listens on UDP and TCP PORT.  Normally that is sipdlgd with CFG
# (made by proxy_config with the same PORT and ROUTEs).  A development aid:
# when SIPDLG_E2E_PROXY_CMD is set, that command runs instead, with
# PROXY_PORT and PROXY_ROUTES ("USER=DEST ...") in its environment, so the
# scenarios can be checked against another proxy.  Log: $E2E_TMP/NAME.log.
# Sets PROXY_PID and PROXY_LOG.
start_proxy() {
	local name=$1 cfg=$2 port=$3
	shift 3
	PROXY_LOG="$E2E_TMP/$name.log"
	if [ -n "${SIPDLG_E2E_PROXY_CMD:-}" ]; then
		# shellcheck disable=SC2086 # a command line: split on purpose
		( export PROXY_PORT="$port" PROXY_ROUTES="$*"
		  exec $SIPDLG_E2E_PROXY_CMD ) >"$PROXY_LOG" 2>&1 &
		PROXY_PID=$!
		E2E_PIDS+=("$PROXY_PID")
	else
		start_daemon "$name" "$cfg" || return 1
		PROXY_PID=$DAEMON_PID
	fi
	wait_for 15 port_bound udp "$port" && wait_for 5 port_bound tcp "$port" && return 0
	echo "# the proxy does not listen on port $port; its log:"
	tail -n 30 "$PROXY_LOG" | sed 's/^/#   /'
	return 1
}

# sipp_start NAME SCENARIO SIPP-ARGS... : run sipp in the background with
# scenario tests/e2e/sipp/SCENARIO.  Its files, all in $E2E_TMP: NAME.out
# (stdout/stderr), NAME.err (-trace_err), NAME.msg (-trace_msg),
# NAME.screen (final screen), NAME.csv (-trace_stat).  sipp's global
# -timeout (SIPP_TIMEOUT seconds, default 30; an error when reached)
# bounds it, and cleanup kills it on any exit.  Sets SIPP_PID.
sipp_start() {
	local name=$1 sf=$2
	shift 2
	rm -f "$E2E_TMP/$name".*
	( cd "$E2E_TMP" && exec sipp -sf "$SIPP_SCENARIOS/$sf" -nostdin \
		-trace_err -error_file "$E2E_TMP/$name.err" \
		-trace_msg -message_file "$E2E_TMP/$name.msg" \
		-trace_screen -screen_file "$E2E_TMP/$name.screen" \
		-trace_stat -stf "$E2E_TMP/$name.csv" \
		-timeout "${SIPP_TIMEOUT:-30}s" -timeout_error "$@" ) >"$E2E_TMP/$name.out" 2>&1 </dev/null &
	SIPP_PID=$!
	E2E_PIDS+=("$SIPP_PID")
}

# sipp_wait PID SECONDS : wait for a sipp started by sipp_start; kill it
# after SECONDS.  Returns sipp's exit status (0: every call succeeded;
# 1: some failed; 97/99/255/254: aborted, no call, fatal), 124 if killed.
sipp_wait() {
	local pid=$1 tries=$(($2 * 10)) rc
	while [ "$tries" -gt 0 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.1
		tries=$((tries - 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		forget_pid "$pid"
		return 124
	fi
	wait "$pid"; rc=$?
	forget_pid "$pid"
	return "$rc"
}

# sipp_stat NAME COLUMN : the last value of a -trace_stat column, e.g.
# SuccessfulCall(C) or FailedCall(C); empty if there is none.
sipp_stat() {
	[ -f "$E2E_TMP/$1.csv" ] || return 0
	awk -F';' -v col="$2" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
		c { v = $c }
		END { if (c) print v }' "$E2E_TMP/$1.csv"
}

# sipp_diag NAME... : what to print when a sipp run failed: the last
# entries of its error log, the last message it logged, and its screen
# when it logged no error.  One line per output line (for not_ok).
sipp_diag() {
	local n f
	for n in "$@"; do
		echo "--- sipp '$n':"
		f="$E2E_TMP/$n.err"
		if [ -s "$f" ]; then
			# sipp does not end its entries with a newline: split them
			# at their time stamps, keep the last ones, cut long lines.
			echo "error log (last entries):"
			tr -d '\r' <"$f" |
				sed -E 's/(.)([0-9]{4}-[0-9]{2}-[0-9]{2}\t[0-9:.]+\t)/\1\n\2/g' |
				grep -v '^ *$' | tail -n 6 | cut -c1-400
		else
			echo "no errors logged"
		fi
		f="$E2E_TMP/$n.msg"
		if [ -s "$f" ]; then
			echo "last message logged:"
			awk '/^----------------------------------------------- /{buf=""} {buf = buf $0 "\n"} END{printf "%s", buf}' "$f" |
				tr -d '\r' | head -n 25
		fi
		f="$E2E_TMP/$n.out"
		if [ -s "$f" ] && ! [ -s "$E2E_TMP/$n.err" ]; then
			echo "output (tail):"
			tr -d '\r' <"$f" | grep -v '^ *$' | tail -n 8
		fi
	done
}

# proxy_diag : the tail of the proxy's log, one line per output line.
proxy_diag() {
	echo "--- proxy log (tail):"
	tail -n 20 "$PROXY_LOG" 2>/dev/null
}

# sipp_call_check NAME UAC-NAME UAC-RC UAS-NAME UAS-RC CALLS : report one
# TAP line: both sipp instances exited with 0 and the caller counted CALLS
# successful calls and no failed one.  On failure the diagnostics of both
# and the proxy's log tail.
sipp_call_check() {
	local name=$1 uac=$2 uac_rc=$3 uas=$4 uas_rc=$5 calls=$6
	local succ fail why=()
	succ=$(sipp_stat "$uac" 'SuccessfulCall(C)')
	fail=$(sipp_stat "$uac" 'FailedCall(C)')
	[ "$uac_rc" -eq 0 ] || why+=("caller (sipp $uac) exit status $uac_rc")
	[ "$uas_rc" -eq 0 ] || why+=("callee (sipp $uas) exit status $uas_rc")
	[ "$succ" = "$calls" ] || why+=("caller counted ${succ:-no} successful calls, expected $calls")
	[ "${fail:-0}" = 0 ] || why+=("caller counted $fail failed calls")
	if [ ${#why[@]} -eq 0 ]; then
		ok "$name"
	else
		not_ok "$name" "${why[@]}" "$(sipp_diag "$uac" "$uas")" "$(proxy_diag)"
	fi
}

# --- dialogs through the proxy (test_dialog_*.sh) ---------------------------
# These read the daemon under test through sipdlgctl --json on $DLG_SOCK
# (the script sets it).  Every wait is bounded; every query prints an
# empty string, not an error, when the daemon does not answer.
DLG_SOCK=""

# e2e_port_block VAR FIRST SLOTS WIDTH : set VAR to the first port of a
# block of WIDTH ports, FIRST + k*WIDTH (0 <= k < SLOTS), k derived from
# $$; a block where some port is already bound (another test, another
# daemon on this host) is passed over.  1 if no free block in 50 tries.
e2e_port_block() {
	local var=$1 first=$2 slots=$3 width=$4 k try b bound
	bound=" $(ss -Hlntu 2>/dev/null | awk '{ n = split($5, a, ":"); print a[n] }' | tr '\n' ' ') "
	k=$(($$ % slots))
	for ((try = 0; try < 50 && try < slots; try++)); do
		b=$((first + k * width))
		local p clash=0
		for ((p = b; p < b + width; p++)); do
			case "$bound" in *" $p "*) clash=1; break ;; esac
		done
		if [ "$clash" -eq 0 ]; then
			printf -v "$var" '%s' "$b"
			return 0
		fi
		k=$(((k + 1) % slots))
	done
	return 1
}

# dlg_ctl ARGS... : sipdlgctl --json ARGS against $DLG_SOCK (stdout: the
# JSON-RPC result; the exit status is sipdlgctl's).
dlg_ctl() { "$SIPDLGCTL" --socket "$DLG_SOCK" --json "$@"; }

# dlg_stat NAME : the statistic dialog.NAME (stats.fetch), e.g.
# active_dialogs; empty if the daemon does not answer.
dlg_stat() {
	dlg_ctl stats dialog 2>/dev/null | jq -r --arg k "dialog.$1" '.[$k] // empty' 2>/dev/null
}

# dlg_stat_is NAME VALUE : dialog.NAME equals VALUE (for wait_for).
dlg_stat_is() { [ "$(dlg_stat "$1")" = "$2" ]; }

# dlg_active FIELD : a field of dlg.stats_active (starting, connecting,
# answering, ongoing, all).
dlg_active() {
	dlg_ctl rpc dlg.stats_active 2>/dev/null | jq -r --arg k "$1" '.[$k] // empty' 2>/dev/null
}

# dlg_active_is FIELD VALUE : for wait_for.
dlg_active_is() { [ "$(dlg_active "$1")" = "$2" ]; }

# dlg_by_callid CALLID : the dialog object of CALLID (dlg.dlg_list, the
# first one if the result is an array), compact; empty if none.
dlg_by_callid() {
	dlg_ctl list "$1" 2>/dev/null |
		jq -c 'if type == "array" then (.[0] // empty) else . end' 2>/dev/null
}

# dlg_state_of CALLID : the state of CALLID's dialog, empty if none.
dlg_state_of() { dlg_by_callid "$1" | jq -r '.state // empty' 2>/dev/null; }

# dlg_state_is CALLID STATE : for wait_for.
dlg_state_is() { [ "$(dlg_state_of "$1")" = "$2" ]; }

# dlg_ended CALLID : CALLID has no dialog, or only one in state 5.
dlg_ended() {
	local s
	s=$(dlg_state_of "$1")
	[ -z "$s" ] || [ "$s" = 5 ]
}

# dlg_profile_size PROFILE [VALUE] : dlg.profile_get_size.
dlg_profile_size() { dlg_ctl profile-size "$@" 2>/dev/null; }

# dlg_profile_size_is SIZE PROFILE [VALUE] : for wait_for.
dlg_profile_size_is() {
	local want=$1; shift
	[ "$(dlg_profile_size "$@")" = "$want" ]
}

# dlg_diag : the daemon's dialog statistics, its dialogs (one line each)
# and its log tail, one line per output line (for not_ok).
dlg_diag() {
	echo "--- dialog statistics: $(dlg_ctl stats dialog 2>&1 | jq -c . 2>/dev/null)"
	echo "--- dlg.stats_active: $(dlg_ctl rpc dlg.stats_active 2>&1 | jq -c . 2>/dev/null)"
	echo "--- dlg.list (h_entry h_id state call-id profiles):"
	dlg_ctl list 2>&1 | jq -r '.[] | "\(.h_entry) \(.h_id) state=\(.state) \(."call-id") \(.profiles | tostring)"' 2>/dev/null | tail -n 10
	proxy_diag
}

# sipp_received NAME METHOD : how many METHOD requests sipp NAME received
# (the start lines after "message received" in its -trace_msg log).
sipp_received() {
	awk -v m="$2" '/message received/ { want = 1; next }
		want && NF { if ($1 == m) n++; want = 0 }
		END { print n + 0 }' "$E2E_TMP/$1.msg" 2>/dev/null || echo 0
}

# sipp_received_hdr NAME METHOD HEADER : the value of HEADER in the first
# METHOD request sipp NAME received (CR removed); empty if none.
sipp_received_hdr() {
	tr -d '\r' <"$E2E_TMP/$1.msg" 2>/dev/null | awk -v m="$2" -v h="$3" '
		/message received/ { want = 1; inmsg = 0; next }
		want && NF { inmsg = ($1 == m); want = 0; next }
		/^-----------------------------------------------/ { inmsg = 0 }
		inmsg && tolower($0) ~ "^" tolower(h) ":" {
			sub(/^[^:]*: */, ""); print; exit }'
}

# uri_tag HEADER-VALUE : the tag parameter of a From/To value.
uri_tag() { printf '%s\n' "$1" | sed -n 's/.*;[ ]*tag=\([^;>, ]*\).*/\1/p'; }

# udp_send_sip FILE HOST PORT : send FILE as one UDP datagram, its lines
# ended with CRLF (FILE is written with plain LF).
udp_send_sip() {
	local f="$1.crlf"
	sed 's/$/\r/' "$1" >"$f"
	cat "$f" >"/dev/udp/$2/$3" 2>/dev/null
}

# udp_sink NAME PORT : socat on 127.0.0.1:PORT/udp writing every datagram
# it receives to $E2E_TMP/NAME.log (a black hole with a memory); stopped
# at exit.  Sets SINK_PID.
udp_sink() {
	( exec socat -u "UDP-RECV:$2,bind=127.0.0.1,reuseaddr" \
		"OPEN:$E2E_TMP/$1.log,creat,append" ) >/dev/null 2>&1 </dev/null &
	SINK_PID=$!
	E2E_PIDS+=("$SINK_PID")
	wait_for 5 port_bound udp "$2"
}

# rev_hex N : N in Kamailio's reverse hex (the did cookie's halves:
# least significant nibble first, lower case).
rev_hex() {
	local h
	h=$(printf '%x' "$1")
	printf '%s' "$h" | rev
}

# e2e_db_begin NAME : the start of a database test (tests/lib/mariadb.sh
# sourced): sipp and jq present, a private MariaDB up, a free block of 20
# ports in BASE.  Skips (mariadb-server, jq missing) or fails the test
# and ends it otherwise.
e2e_db_begin() {
	local rc
	need_sipp
	if ! command -v jq >/dev/null 2>&1; then
		skip "$1" "jq is not installed"
		e2e_finish
	fi
	mariadb_start; rc=$?
	if [ "$rc" -eq 2 ]; then
		skip "$1" "mariadb-server not installed (make deps)"
		e2e_finish
	fi
	[ "$rc" -eq 0 ] || { not_ok "private MariaDB starts"; e2e_finish; }
	if ! e2e_port_block BASE 10000 500 20; then
		not_ok "a free block of 20 ports"
		e2e_finish
	fi
}
