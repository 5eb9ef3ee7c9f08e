#!/bin/bash
# `make run` starts sipdlgd on config/sipdlg.yaml (SIP on 127.0.0.1:5060,
# XDP on lo, control socket /run/sipdlg/sipdlg.sock) and sipdlgctl answers.
. "$(dirname "$0")/lib.sh"
e2e_init
SOCK=/run/sipdlg/sipdlg.sock
if "$SIPDLGCTL" --socket "$SOCK" version >/dev/null 2>&1; then
	skip "make run" "a sipdlgd already answers on $SOCK"
	e2e_finish
fi
if ip link show lo | grep -q xdp; then
	skip "make run" "lo already has an XDP program"
	e2e_finish
fi
PIN=/sys/fs/bpf/sipdlg
[ -e "$PIN" ] || E2E_PINS+=("$PIN")   # remove it afterwards only if we made it

setsid make -C "$E2E_ROOT" --no-print-directory run >"$E2E_TMP/run.log" 2>&1 &
RUN_PID=$!
E2E_PIDS+=("$RUN_PID")
if wait_for 60 "$SIPDLGCTL" version; then
	ok "make run starts sipdlgd (default socket answers)"
else
	not_ok "make run starts sipdlgd (default socket answers)" "$(tail -n 30 "$E2E_TMP/run.log")"
	e2e_finish
fi
out=$("$SIPDLGCTL" stats); rc=$?
check_eq "sipdlgctl stats answers" 0 "$rc"
check_contains "with the dialog statistics" "dialog" "$out"
out=$("$SIPDLGCTL" xdp); rc=$?
check_eq "sipdlgctl xdp answers" 0 "$rc"
check_contains "and shows XDP on lo" "lo" "$out"
st=$("$SIPDLGCTL" --json xdp)
check_eq "XDP on lo runs in generic mode (lo has no driver XDP)" generic "$(json_get "$st" '.interfaces[0].mode')"
check_eq "the fast path watches UDP 5060" 5060 "$(json_get "$st" '.sip_ports[0]')"
before=$(json_get "$st" '.counters.sip_udp4.packets')
send_udp "" 127.0.0.1 5060 3
wait_until 5 '[ "$(json_get "$("$SIPDLGCTL" --json xdp)" .counters.sip_udp4.packets)" -ge $((before + 3)) ]'
check_eq "datagrams to 127.0.0.1:5060 are counted on lo" $((before + 3)) \
	"$(json_get "$("$SIPDLGCTL" --json xdp)" '.counters.sip_udp4.packets')"
for m in dialogs counters; do
	check "bpftool dumps /sys/fs/bpf/sipdlg/$m with field names" \
		sh -c "bpftool map dump pinned /sys/fs/bpf/sipdlg/$m | grep -q '\"key\"\\|\"h_entry\"\\|\"packets\"' || bpftool map dump pinned /sys/fs/bpf/sipdlg/$m | grep -q '^\\[\\]\$'"
done
# Anchored, so that the pattern does not match the shells that search for it.
PAT='^build/sipdlgd -c config/sipdlg.yaml'
pkill -TERM -f "$PAT"
wait_for 10 sh -c "! pgrep -f '$PAT'"
check "sipdlgd stops on SIGTERM" sh -c "! pgrep -f '$PAT'"
check "the control socket is gone" test ! -e "$SOCK"
e2e_finish
