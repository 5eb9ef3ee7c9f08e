#!/bin/bash
# sipdlgd refuses to start, with a message a person can act on, when:
# the config is invalid (same messages as --check), an interface is
# missing, it is not root, bpffs is not mounted, the verifier rejects the
# program, the object lacks a knob, the cookie MAC key file is readable by
# others, the SIP port is taken, or another daemon owns the control
# socket.  sipdlgctl's exit codes are checked on the way.
. "$(dirname "$0")/lib.sh"
e2e_init

ctl_port=$((20000 + $$ % 20000))
SOCK="$E2E_TMP/ctl.sock"
new_pin_path PIN errors

# run_daemon_fail NAME CFG [ARGS...] : sipdlgd must exit non-zero in time;
# its stderr is left in $OUT.
run_daemon_fail() {
	local name=$1 cfg=$2; shift 2
	local rc
	OUT=$(timeout 20 "$SIPDLGD" -c "$cfg" "$@" 2>&1); rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then ok "$name"; else not_ok "$name" "exit status $rc" "$OUT"; fi
}

# --- configuration ------------------------------------------------------
BAD="$E2E_TMP/bad.yaml"
printf 'dialog:\n  hash_size: 1000\n  db_mode: 7\n' >"$BAD"
CHECK_OUT=$("$SIPDLGD" -c "$BAD" --check 2>&1); rc=$?
check_eq "--check exits 1 on an invalid file" 1 "$rc"
check_contains "--check names FILE:LINE:COL for hash_size" "$BAD:2:" "$CHECK_OUT"
check_contains "--check reports every problem (db_mode too)" "$BAD:3:" "$CHECK_OUT"
run_daemon_fail "the daemon refuses an invalid config" "$BAD"
check_eq "with the same messages as --check" "$CHECK_OUT" "$OUT"
out=$("$SIPDLGD" -c "$E2E_ROOT/config/sipdlg.yaml" --check 2>&1); rc=$?
check_eq "--check accepts the shipped config" "0 $E2E_ROOT/config/sipdlg.yaml: configuration is valid" "$rc $out"
OUT=$("$SIPDLGD" -c "$E2E_TMP/missing.yaml" --check 2>&1); rc=$?
check_eq "--check exits 1 on a missing file" 1 "$rc"
check_contains "and says the file is missing" "missing.yaml" "$OUT"

# --- XDP environment ----------------------------------------------------
CFG="$E2E_TMP/nosuch.yaml"
write_config "$CFG" "$SOCK" "$PIN" "nosuch$$" "udp:127.0.0.1:$ctl_port"
run_daemon_fail "a missing interface stops the start" "$CFG"
check_contains "and is named in the message" "interface 'nosuch$$' does not exist" "$OUT"

CFG="$E2E_TMP/lo.yaml"
write_config "$CFG" "$SOCK" "$PIN" lo "udp:127.0.0.1:$ctl_port"

run_daemon_fail "a program the verifier rejects stops the start" "$CFG" \
	--bpf-object "$E2E_ROOT/build/tests/fixtures/reject.bpf.o"
check_contains "the message says the verifier rejected it" "verifier rejected" "$OUT"
check_contains "and quotes the verifier log" "invalid access to packet" "$OUT"

run_daemon_fail "an object that lacks a knob this sipdlgd sets stops the start" "$CFG" \
	--bpf-object "$E2E_ROOT/build/tests/fixtures/old_knobs.bpf.o"
check_contains "the message names the knob" "has no knob 'mac_prev_enabled'" "$OUT"

# A cookie MAC key file that others may read: refused by --check and at
# start with the same message.
KCFG="$E2E_TMP/mac.yaml"
write_config "$KCFG" "$SOCK" "$PIN" lo "udp:127.0.0.1:$ctl_port"
sed -i "s|^  pin_path: .*|&\n  cookie_mac: { key_file: $E2E_TMP/mac.key }|" "$KCFG"
printf '000102030405060708090a0b0c0d0e0f\n' >"$E2E_TMP/mac.key"
chmod 0644 "$E2E_TMP/mac.key"
CHECK_OUT=$("$SIPDLGD" -c "$KCFG" --check 2>&1); rc=$?
check_eq "--check refuses a key file readable by others" 1 "$rc"
check_contains "saying what to do" "(mode 0644); whoever reads the key can forge cookies: run 'chmod 600" "$CHECK_OUT"
run_daemon_fail "the daemon refuses it too" "$KCFG"
check_eq "with the same message" "$CHECK_OUT" "$OUT"

if command -v setpriv >/dev/null; then
	mkdir -p "$E2E_TMP/nobody" && chmod 0777 "$E2E_TMP/nobody" && chmod 0755 "$E2E_TMP"
	NCFG="$E2E_TMP/nobody/nobody.yaml"
	write_config "$NCFG" "$E2E_TMP/nobody/ctl.sock" "$PIN" lo "udp:127.0.0.1:$ctl_port"
	chmod 0644 "$NCFG"
	OUT=$(timeout 20 setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all --bounding-set=-all "$SIPDLGD" -c "$NCFG" 2>&1); rc=$?
	check_eq "without root the start fails" 1 "$rc"
	check_contains "and the message says root or CAP_BPF is needed" "needs root or CAP_BPF" "$OUT"
else
	skip "without root the start fails" "setpriv missing"
fi

if command -v unshare >/dev/null; then
	OUT=$(timeout 20 unshare -m --propagation private sh -c \
		'while umount /sys/fs/bpf 2>/dev/null; do :; done; exec "$0" -c "$1"' \
		"$SIPDLGD" "$CFG" 2>&1); rc=$?
	check_eq "without bpffs the start fails" 1 "$rc"
	check_contains "and the message says how to mount it" "mount -t bpf bpf /sys/fs/bpf" "$OUT"
else
	skip "without bpffs the start fails" "unshare missing"
fi

# --- sockets -------------------------------------------------------------
if start_daemon first "$CFG"; then
	ok "a daemon on lo starts"
	run_daemon_fail "a second daemon on the same control socket is refused" "$CFG"
	check_contains "and says another sipdlgd answers" "another sipdlgd" "$OUT"
	"$SIPDLGCTL" --socket "$SOCK" version >/dev/null
	check_eq "the first daemon still serves" 0 "$?"
	"$SIPDLGCTL" --socket "$SOCK" rpc no.such.method >/dev/null 2>&1
	check_eq "sipdlgctl exits 1 on an RPC error" 1 "$?"
	"$SIPDLGCTL" --socket "$SOCK" --json stats >/dev/null
	check_eq "sipdlgctl stats exits 0" 0 "$?"
	CFG2="$E2E_TMP/port.yaml"
	new_pin_path PIN2 port
	write_config "$CFG2" "$E2E_TMP/ctl2.sock" "$PIN2" lo "udp:127.0.0.1:$ctl_port"
	run_daemon_fail "a SIP port in use stops the start" "$CFG2"
	check_contains "and the message names the address" "127.0.0.1:$ctl_port" "$OUT"
	stop_daemon "$DAEMON_PID"
	check_eq "the control socket is removed at exit" "" "$(ls "$SOCK" 2>/dev/null)"
else
	not_ok "a daemon on lo starts"
fi
"$SIPDLGCTL" --socket "$SOCK" stats >/dev/null 2>&1
check_eq "sipdlgctl exits 2 when nothing listens" 2 "$?"
OUT=$("$SIPDLGCTL" --socket "$SOCK" stats 2>&1)
check_contains "and names the socket" "$SOCK" "$OUT"
check_eq "lo has no XDP program left" "" "$(ip link show lo | grep -o 'xdp[a-z]*')"

e2e_finish
