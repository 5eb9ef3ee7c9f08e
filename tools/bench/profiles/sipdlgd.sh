# profiles/sipdlgd.sh - sipdlgd as the plain record-routing proxy
# (sipdlg-proxy.yaml: workers 2, no dialog tracking, XDP off).
# Sourced by lib.sh's load_profile.
#
# Knobs (environment):
#   BENCH_SIPDLGD       the daemon (default build/sipdlgd)
#   BENCH_SIPDLGD_OPTS  more options, e.g. "-l debug"
#   BENCH_SIPDLG_YAML   another config for this profile (ports 15060/15080
#                       and the socket path are rewritten as for the default)

P_LABEL=sipdlgd
P_REQUIRED=0
P_YAML=${P_YAML:-${BENCH_SIPDLG_YAML:-$BENCH_DIR/sipdlg-proxy.yaml}}
SIPDLGD=${BENCH_SIPDLGD:-$REPO_DIR/build/sipdlgd}
P_DESC="sipdlgd ($(basename "$P_YAML"))"

p_prepare() {
	local out
	if [ ! -x "$SIPDLGD" ]; then
		P_UNAVAILABLE="$SIPDLGD is not built"
		return 1
	fi
	if ! out=$("$SIPDLGD" -c "$P_YAML" --check 2>&1); then
		P_UNAVAILABLE="sipdlgd --check rejected $P_YAML: $(printf '%s\n' "$out" | head -1 | cut -c1-200)"
		return 1
	fi
	return 0
}

p_version() {
	local v rev
	v=$("$SIPDLGD" -V 2>/dev/null | head -1)
	rev=$(git -C "$REPO_DIR" describe --always --dirty 2>/dev/null)
	echo "${v:-sipdlgd} (${rev:-no git})"
}

p_start() {
	local d=$1 cfg
	P_DIR=$d
	cfg="$d/sipdlgd.yaml"
	subst_ports "$P_YAML" | sed -e "s|/run/sipdlg/sipdlg-bench.sock|$d/sipdlgd.sock|" >"$cfg"
	# shellcheck disable=SC2086
	( cd "$d" && exec "$SIPDLGD" -c "$cfg" ${BENCH_SIPDLGD_OPTS:-} ) >"$d/sipdlgd.log" 2>&1 &
	P_PID=$!
	bench_track "$P_PID"
	if ! wait_port_bound "$PROXY_PORT" "$P_PID" 20; then
		log "  sipdlgd did not bind $BENCH_ADDR:$PROXY_PORT; last log lines:"
		tail -5 "$d/sipdlgd.log" >&2
		return 1
	fi
	sleep 0.5
	return 0
}
