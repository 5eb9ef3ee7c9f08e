# profiles/kamailio-tls.sh - Debian's Kamailio with its tls module
# (kamailio-tls-modules) as the plain record-routing proxy over TLS on both
# sides (kamailio/kamailio-tls.cfg: tm, rr, sl, maxfwd, tls; 8 TCP
# children), behind the same stunnel front as sipdlgd-tls (lib.sh
# tls_front_start), with the same certificates and checks: TLS 1.2 or
# later, mutual certificates, the chain checked both ways.  Sourced by
# lib.sh's load_profile.
#
# Knobs (environment): BENCH_KAM_SHM, BENCH_KAM_PKG, BENCH_KAM_CHILDREN,
# BENCH_KAM_OPTS as profiles/kamailio.sh, whose start and checks it shares
# (sourced below, then the TLS parts replaced).

P_CFG=${P_CFG:-$BENCH_DIR/kamailio/kamailio-tls.cfg}
# shellcheck disable=SC1091
. "$BENCH_DIR/profiles/kamailio.sh"
P_LABEL=kamailio-tls
P_REQUIRED=1
P_DESC="Kamailio (Debian package) with tls, $(basename "$P_CFG"), ${BENCH_KAM_CHILDREN:-8} TCP children, -m ${BENCH_KAM_SHM:-1024}, TLS both sides through stunnel"
tls_profile_defaults

# The tls module's file for this run: the run's certificates.
kam_tls_cfg() {
	local t=$TLS_CERTS
	cat <<CFG
[server:default]
method = TLSv1.2+
verify_certificate = yes
require_certificate = yes
private_key = $t/sip.key
certificate = $t/sip.pem
ca_list = $t/ca.pem

[client:default]
method = TLSv1.2+
verify_certificate = yes
require_certificate = yes
private_key = $t/sip.key
certificate = $t/sip.pem
ca_list = $t/ca.pem
server_name = callee.test
CFG
}

kam_defines() {
	printf '%s\n' -A "TLS_PORT=$((PROXY_PORT + 1))" \
		-A "UAS_URI=\"sip:$BENCH_ADDR:$((UAS_PORT + 1));transport=tls\"" \
		-A "TLS_CFG=\"$RUN_DIR/kamailio-tls.cfg\"" -A "CHILDREN=${BENCH_KAM_CHILDREN:-8}"
}

# The tls module is a package of its own.
ensure_kamailio_tls() {
	local moddir
	ensure_kamailio || return 1
	moddir=$(kamailio -h 2>/dev/null | sed -n 's/.*Modules search path (default: \(.*\)).*/\1/p')
	[ -n "$moddir" ] && [ -e "$moddir/tls.so" ] && return 0
	[ "$(id -u)" -eq 0 ] || { log "kamailio-tls-modules is not installed and this is not root"; return 1; }
	log "installing Debian's kamailio-tls-modules package (benchmark only)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kamailio-tls-modules >>"${RUN_LOG:-/dev/null}" 2>&1
}

p_prepare() {
	if ! ensure_kamailio_tls; then
		P_UNAVAILABLE="Debian's kamailio and kamailio-tls-modules packages could not be installed"
		return 1
	fi
	if ! tls_certs; then
		P_UNAVAILABLE="cannot make the TLS certificates (openssl)"
		return 1
	fi
	kam_tls_cfg >"$RUN_DIR/kamailio-tls.cfg"
	kam_check_cfg
}

p_start() {
	kam_start "$1" $((PROXY_PORT + 1)) "TLS " || return 1
	tls_front_start "$1" || return 1
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
