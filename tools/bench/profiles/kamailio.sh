# profiles/kamailio.sh - Debian's Kamailio as the plain record-routing,
# transaction-stateful proxy (kamailio/kamailio-proxy.cfg: tm, rr, sl,
# maxfwd; 8 children).  Sourced by lib.sh's load_profile.
#
# Knobs (environment):
#   BENCH_KAM_SHM       shared memory, MB (-m; default 1024: the packaged
#                       64 MB runs out of transactions above ~1000 calls/s)
#   BENCH_KAM_PKG       private memory per process, MB (-M; default 16)
#   BENCH_KAM_CHILDREN  UDP worker processes (default 8)
#   BENCH_KAM_OPTS      more kamailio options, e.g. "-x tlsf"
#   BENCH_KAM_CTL=1     load ctl with a binrpc socket in the run directory
#                       (for `kamcmd -s unix:DIR/kamailio_ctl core.shmmem`)

P_LABEL=kamailio
P_REQUIRED=1
P_CFG=${P_CFG:-$BENCH_DIR/kamailio/kamailio-proxy.cfg}
P_DESC="Kamailio (Debian package), $(basename "$P_CFG"), ${BENCH_KAM_CHILDREN:-8} children, -m ${BENCH_KAM_SHM:-1024}"

kam_defines() {
	printf '%s\n' -A "PROXY_PORT=$PROXY_PORT" -A "UAS_URI=\"sip:$BENCH_ADDR:$UAS_PORT\"" \
		-A "CHILDREN=${BENCH_KAM_CHILDREN:-8}"
	if [ "${BENCH_KAM_CTL:-0}" = 1 ] && [ -n "$P_DIR" ]; then
		printf '%s\n' -A "CTL_SOCKET=\"unix:$P_DIR/kamailio_ctl\""
	fi
}

# kam_check_cfg: `kamailio -c` on P_CFG with kam_defines; 1 with the
# reason in P_UNAVAILABLE when it refuses the file.
kam_check_cfg() {
	local out defs=()
	mapfile -t defs < <(kam_defines)
	if ! out=$(kamailio -c -f "$P_CFG" "${defs[@]}" 2>&1); then
		P_UNAVAILABLE="kamailio -c rejected $P_CFG: $(printf '%s\n' "$out" | grep -m1 -iE 'error|critical' | cut -c1-200)"
		return 1
	fi
	return 0
}

p_prepare() {
	if ! ensure_kamailio; then
		P_UNAVAILABLE="Debian's kamailio package could not be installed"
		return 1
	fi
	kam_check_cfg
}

p_version() { kamailio -v 2>/dev/null | sed -n 's/^version: //p' | head -1; }

# kam_start DIR PORT [WHAT]: kamailio on P_CFG, run directory DIR, until
# it binds PORT (WHAT, e.g. "TLS ", for the message) and its workers are
# up.  Sets P_DIR and P_PID.
kam_start() {
	local d=$1 port=$2 what=${3:-} defs=() i n
	P_DIR=$d
	mapfile -t defs < <(kam_defines)
	# -DD: the creator stays in the foreground (its PID is the root of the
	# process tree), the workers are its children.  -E: log to stderr.
	# shellcheck disable=SC2086
	( cd "$d" && exec kamailio -f "$P_CFG" -DD -E -Y "$d" -w "$d" \
		-m "${BENCH_KAM_SHM:-1024}" -M "${BENCH_KAM_PKG:-16}" "${defs[@]}" \
		${BENCH_KAM_OPTS:-} ) >"$d/kamailio.log" 2>&1 &
	P_PID=$!
	bench_track "$P_PID"
	if ! wait_port_bound "$port" "$P_PID" 20; then
		log "  kamailio did not bind $what$BENCH_ADDR:$port; last log lines:"
		tail -5 "$d/kamailio.log" >&2
		return 1
	fi
	# The socket is bound before the workers fork: wait for them.
	for ((i = 0; i < 100; i++)); do
		n=$(proc_tree "$P_PID" | wc -l)
		[ "$n" -gt "${BENCH_KAM_CHILDREN:-8}" ] && break
		sleep 0.1
	done
	return 0
}

p_start() {
	kam_start "$1" "$PROXY_PORT" || return 1
	sleep 0.5
	return 0
}
