# profiles/sipdlgd-forged.sh - sipdlgd tracking dialogs with the XDP fast
# path on lo (sipdlg-forged.yaml: generic mode, xdp.unknown_dialog: drop,
# and a last rule dropping in-dialog requests of unknown dialogs that the
# kernel passed), the sipdlgd side of bench-forged.  The maps are pinned
# under /sys/fs/bpf/sipdlg-bench-<pid> (or BENCH_XDP_PIN), removed at stop; bpffs is mounted
# by tools/mount-bpffs.sh when needed.  Needs root (BPF).  Same knobs as
# profiles/sipdlgd.sh.
P_YAML=$BENCH_DIR/sipdlg-forged.yaml
# shellcheck disable=SC1091
. "$BENCH_DIR/profiles/sipdlgd.sh"
P_LABEL=sipdlgd-forged
P_DESC="$P_DESC, XDP generic on lo, unknown_dialog: drop"
XDP_PIN=${BENCH_XDP_PIN:-/sys/fs/bpf/sipdlg-bench-$$}

eval "_sipdlgd_prepare() $(declare -f p_prepare | tail -n +2)"
eval "_sipdlgd_start() $(declare -f p_start | tail -n +2)"

p_prepare() {
	bash "$REPO_DIR/tools/mount-bpffs.sh" >/dev/null 2>&1
	_sipdlgd_prepare
}
p_start() {
	local d=$1 yaml=$P_YAML rc
	sed -e "s|^\(  pin_path:\).*|\1 $XDP_PIN|" "$yaml" >"$d/sipdlg-forged.src.yaml"
	P_YAML=$d/sipdlg-forged.src.yaml
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
