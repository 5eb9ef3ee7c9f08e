# profiles/sipdlgd-xdp.sh - sipdlgd tracking dialogs with the XDP fast path
# on lo (sipdlg-xdp.yaml: generic mode, xdp.unknown_dialog: drop).  The
# maps are pinned under /sys/fs/bpf/sipdlg-bench-<pid>, removed at stop.
# Needs root (BPF).  Same knobs as profiles/sipdlgd.sh.
P_YAML=$BENCH_DIR/sipdlg-xdp.yaml
# shellcheck disable=SC1091
. "$BENCH_DIR/profiles/sipdlgd.sh"
P_LABEL=sipdlgd-xdp
P_DESC="$P_DESC, XDP generic on lo, unknown_dialog: drop"
XDP_PIN=/sys/fs/bpf/sipdlg-bench-$$

eval "_sipdlgd_start() $(declare -f p_start | tail -n +2)"

p_start() {
	local d=$1 yaml=$P_YAML rc
	sed -e "s|^\(  pin_path:\).*|\1 $XDP_PIN|" "$yaml" >"$d/sipdlg-xdp.src.yaml"
	P_YAML=$d/sipdlg-xdp.src.yaml
	_sipdlgd_start "$d"
	rc=$?
	P_YAML=$yaml
	return $rc
}

p_stop() {
	[ -n "$P_PID" ] || return 0
	stop_tree "$P_PID" 10
	bench_untrack "$P_PID"
	P_PID=""
	case "$XDP_PIN" in /sys/fs/bpf/sipdlg-bench-*) rm -rf "$XDP_PIN" ;; esac
}
