# profiles/kamailio-db.sh - Kamailio with the dialog module in db_mode 1
# (kamailio/kamailio-db.cfg: kamailio-dialog.cfg plus db_mysql; Kamailio
# writes every change of a dialog in the SIP worker that makes it) on the
# private MariaDB of profiles/sipdlgd-db.sh (TCP on 127.0.0.1, started by
# the first profile that needs it, tables emptied at every start).  Needs
# Debian's kamailio-mysql-modules, installed here when missing (root).
# Same knobs as profiles/kamailio.sh and profiles/sipdlgd-db.sh.
P_CFG=$BENCH_DIR/kamailio/kamailio-db.cfg
# shellcheck disable=SC1091
. "$BENCH_DIR/profiles/kamailio.sh"
# shellcheck disable=SC1091
. "$BENCH_DIR/profiles/sipdlgd-db.sh" --bdb-only
P_LABEL=kamailio-db
P_REQUIRED=0
P_DESC="$P_DESC, dialog db_mode 1 on a private MariaDB (TCP 127.0.0.1)"

eval "_kam_defines() $(declare -f kam_defines | tail -n +2)"
eval "_kam_prepare() $(declare -f p_prepare | tail -n +2)"
eval "_kam_start() $(declare -f p_start | tail -n +2)"

kam_defines() {
	_kam_defines
	if [ -n "$BDB_URL" ]; then printf '%s\n' -A "DBURL=\"$BDB_URL\""; fi
}

# kam_moddir: where Kamailio looks for its modules.
kam_moddir() {
	kamailio -h 2>/dev/null | sed -n 's/.*Modules search path (default: \(.*\)).*/\1/p'
}

p_prepare() {
	local moddir
	if ! bdb_available; then
		P_UNAVAILABLE="no MariaDB server installed (apt-get install mariadb-server)"
		return 1
	fi
	if ! ensure_kamailio; then
		P_UNAVAILABLE="Debian's kamailio package could not be installed"
		return 1
	fi
	moddir=$(kam_moddir)
	if [ -n "$moddir" ] && [ ! -e "$moddir/db_mysql.so" ]; then
		if [ "$(id -u)" -ne 0 ]; then
			P_UNAVAILABLE="db_mysql.so is missing: apt-get install kamailio-mysql-modules"
			return 1
		fi
		log "installing Debian's kamailio-mysql-modules (benchmark only)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			kamailio-mysql-modules >>"${RUN_LOG:-/dev/null}" 2>&1
		if [ ! -e "$moddir/db_mysql.so" ]; then
			P_UNAVAILABLE="kamailio-mysql-modules could not be installed"
			return 1
		fi
	fi
	_kam_prepare
}

p_start() {
	bdb_start || return 1
	_kam_start "$@"
}

p_stop() {
	[ -n "$P_PID" ] || return 0
	log "  kamailio-db: rows dialog/dialog_vars: $(bdb_rows); $(grep -c ERROR "$P_DIR/kamailio.log" 2>/dev/null) ERROR lines in its log"
	stop_tree "$P_PID" 10
	bench_untrack "$P_PID"
	P_PID=""
}
