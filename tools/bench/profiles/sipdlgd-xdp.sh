# profiles/sipdlgd-xdp.sh - sipdlgd tracking dialogs with the XDP fast path
# attached to lo in generic mode (sipdlg-xdp.yaml), against sipdlgd-dialog
# (XDP off) in the same run: what the fast path costs the whole system.
# Needs bpffs (tools/mount-bpffs.sh mounts it); the maps pinned under
# /sys/fs/bpf/sipdlg-bench are removed when the profile stops.
P_YAML=$BENCH_DIR/sipdlg-xdp.yaml
# shellcheck disable=SC1091
. "$BENCH_DIR/profiles/sipdlgd.sh"
P_LABEL=sipdlgd-xdp
P_DESC="sipdlgd (sipdlg-xdp.yaml: XDP generic on lo, unknown_dialog drop)"
XDP_PIN=/sys/fs/bpf/sipdlg-bench

eval "$(declare -f p_prepare | sed '1s/p_prepare/p_prepare_sipdlgd/')"
p_prepare() {
	bash "$REPO_DIR/tools/mount-bpffs.sh" >/dev/null 2>&1
	rm -rf "$XDP_PIN"
	p_prepare_sipdlgd
}

p_stop() {
	if [ -n "$P_PID" ]; then
		stop_tree "$P_PID" 10
		bench_untrack "$P_PID"
	fi
	rm -rf "$XDP_PIN"
	return 0
}
