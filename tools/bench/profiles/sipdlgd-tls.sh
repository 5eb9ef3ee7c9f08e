# profiles/sipdlgd-tls.sh - sipdlgd as the plain record-routing proxy over
# TLS on both sides (sipdlg-tls.yaml: workers 2, no dialog tracking, XDP
# off), behind the same stunnel front as kamailio-tls (lib.sh
# tls_front_start).  Sourced by lib.sh's load_profile.
#
# Knobs (environment): BENCH_SIPDLGD, BENCH_SIPDLGD_OPTS as profiles/sipdlgd.sh.

P_LABEL=sipdlgd-tls
P_REQUIRED=0
P_YAML=${BENCH_SIPDLG_TLS_YAML:-$BENCH_DIR/sipdlg-tls.yaml}
SIPDLGD=${BENCH_SIPDLGD:-$REPO_DIR/build/sipdlgd}
P_DESC="sipdlgd ($(basename "$P_YAML")), TLS both sides through stunnel"
tls_profile_defaults

# The config of this run: ports, socket, certificates of the run.
sipdlgd_tls_cfg() {
	subst_ports "$P_YAML" | sed -e "s/127\.0\.0\.1:15061/$BENCH_ADDR:$((PROXY_PORT + 1))/g" \
		-e "s/127\.0\.0\.1:15081/$BENCH_ADDR:$((UAS_PORT + 1))/g" \
		-e "s|/etc/sipdlg/bench-certs|$TLS_CERTS|g" \
		-e "s|/run/sipdlg/sipdlg-bench.sock|$1/sipdlgd.sock|"
}

p_prepare() {
	local out
	if [ ! -x "$SIPDLGD" ]; then
		P_UNAVAILABLE="$SIPDLGD is not built"
		return 1
	fi
	if ! tls_certs; then
		P_UNAVAILABLE="cannot make the TLS certificates (openssl)"
		return 1
	fi
	sipdlgd_tls_cfg "$RUN_DIR" >"$RUN_DIR/sipdlgd-tls-check.yaml"
	if ! out=$("$SIPDLGD" -c "$RUN_DIR/sipdlgd-tls-check.yaml" --check 2>&1); then
		P_UNAVAILABLE="sipdlgd --check rejected $P_YAML: $(printf '%s\n' "$out" | head -1 | cut -c1-200)"
		return 1
	fi
	return 0
}

p_version() {
	local v rev
	v=$("$SIPDLGD" -V 2>/dev/null | head -1)
	rev=$(git -C "$REPO_DIR" describe --always --dirty 2>/dev/null)
	echo "${v:-sipdlgd} (${rev:-no git}), $(openssl version 2>/dev/null)"
}

p_start() {
	local d=$1 cfg
	P_DIR=$d
	cfg="$d/sipdlgd.yaml"
	sipdlgd_tls_cfg "$d" >"$cfg"
	# shellcheck disable=SC2086
	( cd "$d" && exec "$SIPDLGD" -c "$cfg" ${BENCH_SIPDLGD_OPTS:-} ) >"$d/sipdlgd.log" 2>&1 &
	P_PID=$!
	bench_track "$P_PID"
	if ! wait_port_bound $((PROXY_PORT + 1)) "$P_PID" 20; then
		log "  sipdlgd did not bind TLS $BENCH_ADDR:$((PROXY_PORT + 1)); last log lines:"
		tail -5 "$d/sipdlgd.log" >&2
		return 1
	fi
	tls_front_start "$d" || return 1
	sleep 0.5
	return 0
}

p_stop() {
	tls_front_stop
	[ -n "$P_PID" ] || return 0
	stop_tree "$P_PID" 10
	bench_untrack "$P_PID"
	P_PID=""
}
