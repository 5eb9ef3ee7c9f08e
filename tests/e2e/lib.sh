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
