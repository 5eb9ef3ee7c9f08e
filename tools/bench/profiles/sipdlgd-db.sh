# profiles/sipdlgd-db.sh - sipdlgd tracking dialogs with persistence:
# sipdlg-db.yaml (sipdlg-dialog.yaml plus db_mode 1) on a private MariaDB
# that the profile starts itself.  Compare with sipdlgd-dialog (db_mode 0)
# and kamailio-db in one run:
#   make bench-cps BENCH_PROFILES="sipdlgd-dialog sipdlgd-db kamailio-db"
#
# The private MariaDB (bdb_* below, also used by profiles/kamailio-db.sh):
# a fresh datadir in /tmp, --no-defaults (the system's /etc/mysql and any
# system service are never touched), listening on 127.0.0.1 on a free
# random TCP port (Kamailio's db_mysql takes host:port, not a socket path)
# plus a unix socket for the harness; user bench/bench with every right on
# the database sipdlg (config/schema/mysql.sql).  Started by the first
# p_start that needs it and kept for the rest of the run (the tables are
# emptied at every p_start, so each proxy starts with no dialog); stopped,
# and its directory removed, by lib.sh's cleanup at exit.
#
# Knobs (environment):
#   BENCH_DB_POOL_MB    InnoDB buffer pool, MB (default 128, MariaDB's default)
#   BENCH_DB_OPTS       more mariadbd options, e.g. "--innodb-flush-log-at-trx-commit=2"
#   and those of profiles/sipdlgd.sh.

BDB_PID=${BDB_PID:-}
BDB_DIR=${BDB_DIR:-}
BDB_URL=${BDB_URL:-}

_bdb_bin() {
	local b
	for b in "$@"; do
		if command -v "$b" >/dev/null 2>&1; then command -v "$b"; return 0; fi
		[ -x "/usr/sbin/$b" ] && { echo "/usr/sbin/$b"; return 0; }
	done
	return 1
}

# bdb_available: a MariaDB server, its installer and client are installed.
bdb_available() {
	_bdb_bin mariadbd mysqld >/dev/null && _bdb_bin mariadb-install-db mysql_install_db >/dev/null &&
		_bdb_bin mariadb mysql >/dev/null
}

# bdb_sql SQL...: as root, through the unix socket, in database sipdlg.
bdb_sql() {
	"$(_bdb_bin mariadb mysql)" --no-defaults -S "$BDB_DIR/mysqld.sock" -u root -N -B sipdlg -e "$*"
}

# bdb_start: start the private MariaDB unless it runs already, then empty
# the dialog tables.  Sets BDB_URL (mysql://bench:bench@127.0.0.1:PORT/sipdlg).
bdb_start() {
	local server install client port i
	if [ -n "$BDB_PID" ] && kill -0 "$BDB_PID" 2>/dev/null; then
		bdb_sql "TRUNCATE TABLE dialog; TRUNCATE TABLE dialog_vars" || return 1
		return 0
	fi
	if ! server=$(_bdb_bin mariadbd mysqld) || ! install=$(_bdb_bin mariadb-install-db mysql_install_db) ||
	   ! client=$(_bdb_bin mariadb mysql); then
		log "  no MariaDB server installed (apt-get install mariadb-server)"
		return 1
	fi
	BDB_DIR=$(mktemp -d /tmp/sipdlg-bench-db.XXXXXX) || return 1
	chmod 755 "$BDB_DIR"
	if ! "$install" --no-defaults --datadir="$BDB_DIR/data" --user=root \
		--auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
		>"$BDB_DIR/install.log" 2>&1; then
		log "  $install failed: $(tail -1 "$BDB_DIR/install.log")"
		rm -rf "$BDB_DIR"
		return 1
	fi
	for ((i = 0; i < 50; i++)); do
		port=$((20000 + RANDOM % 20000))
		[ -z "$(ss -Htln "sport = :$port" 2>/dev/null)" ] && break
	done
	# The subshell forwards SIGTERM (lib.sh's stop_tree signals the root
	# of a tree only), waits for the server and removes its directory.
	# shellcheck disable=SC2086
	(
		trap 'kill -TERM $child 2>/dev/null' TERM
		"$server" --no-defaults --datadir="$BDB_DIR/data" --socket="$BDB_DIR/mysqld.sock" \
			--port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
			--pid-file="$BDB_DIR/mysqld.pid" --user=root --log-error="$BDB_DIR/error.log" \
			--innodb-buffer-pool-size="${BENCH_DB_POOL_MB:-128}M" --skip-log-bin \
			--max-connections=500 ${BENCH_DB_OPTS:-} </dev/null >/dev/null 2>&1 &
		child=$!
		while kill -0 "$child" 2>/dev/null; do wait "$child"; done
		rm -rf "$BDB_DIR"
	) &
	BDB_PID=$!
	bench_track "$BDB_PID"
	for ((i = 0; i < 300; i++)); do
		kill -0 "$BDB_PID" 2>/dev/null || break
		"$client" --no-defaults -S "$BDB_DIR/mysqld.sock" -u root -e 'SELECT 1' >/dev/null 2>&1 && break
		sleep 0.1
	done
	if ! "$client" --no-defaults -S "$BDB_DIR/mysqld.sock" -u root -e 'SELECT 1' >/dev/null 2>&1; then
		log "  the private MariaDB did not start: $(tail -3 "$BDB_DIR/error.log" 2>/dev/null | tr '\n' ' ')"
		bdb_stop
		return 1
	fi
	if ! "$client" --no-defaults -S "$BDB_DIR/mysqld.sock" -u root -e "CREATE DATABASE sipdlg;
		CREATE USER 'bench'@'127.0.0.1' IDENTIFIED BY 'bench';
		CREATE USER 'bench'@'localhost' IDENTIFIED BY 'bench';
		GRANT ALL ON sipdlg.* TO 'bench'@'127.0.0.1'; GRANT ALL ON sipdlg.* TO 'bench'@'localhost'" ||
	   ! "$client" --no-defaults -S "$BDB_DIR/mysqld.sock" -u root sipdlg <"$REPO_DIR/config/schema/mysql.sql"; then
		log "  could not load config/schema/mysql.sql into the private MariaDB"
		bdb_stop
		return 1
	fi
	BDB_URL="mysql://bench:bench@127.0.0.1:$port/sipdlg"
	log "  private MariaDB $("$server" --version 2>/dev/null | awk '{ print $3 }') on 127.0.0.1:$port ($BDB_DIR)"
	return 0
}

# bdb_stop: stop the private MariaDB (its subshell removes the directory).
bdb_stop() {
	[ -n "$BDB_PID" ] || return 0
	stop_tree "$BDB_PID" 20
	bench_untrack "$BDB_PID"
	BDB_PID=""
	BDB_URL=""
	[ -n "$BDB_DIR" ] && rm -rf "$BDB_DIR"
	BDB_DIR=""
}

# bdb_rows: "dialog rows / dialog_vars rows" now.
bdb_rows() {
	echo "$(bdb_sql "SELECT COUNT(*) FROM dialog" 2>/dev/null)/$(bdb_sql "SELECT COUNT(*) FROM dialog_vars" 2>/dev/null)"
}

# profiles/kamailio-db.sh sources this file for the bdb_* functions only.
if [ "${1:-}" = --bdb-only ]; then return 0; fi

P_YAML=$BENCH_DIR/sipdlg-db.yaml
# shellcheck disable=SC1091
. "$BENCH_DIR/profiles/sipdlgd.sh"
P_LABEL=sipdlgd-db
P_DESC="$P_DESC, db_mode 1 on a private MariaDB (TCP 127.0.0.1)"

eval "_sipdlgd_prepare() $(declare -f p_prepare | tail -n +2)"
eval "_sipdlgd_start() $(declare -f p_start | tail -n +2)"

p_prepare() {
	if ! bdb_available; then
		P_UNAVAILABLE="no MariaDB server installed (apt-get install mariadb-server)"
		return 1
	fi
	_sipdlgd_prepare
}

p_start() {
	local d=$1 yaml=$P_YAML rc
	bdb_start || return 1
	# The checked-in db_url names a placeholder port: this run's server.
	sed -e "s|^\(  db_url:\).*|\1 \"$BDB_URL\"|" "$yaml" >"$d/sipdlg-db.src.yaml"
	P_YAML=$d/sipdlg-db.src.yaml
	_sipdlgd_start "$d"
	rc=$?
	P_YAML=$yaml
	return $rc
}

# p_stop: note the database thread's counters and the rows left (calls
# still open when a step ended leave theirs), then stop sipdlgd.
p_stop() {
	local s
	[ -n "$P_PID" ] || return 0
	s=$("$REPO_DIR/build/sipdlgctl" -s "$P_DIR/sipdlgd.sock" -t 2 -j stats db 2>/dev/null |
		jq -r 'to_entries | map("\(.key)=\(.value)") | join(" ")' 2>/dev/null)
	log "  sipdlgd-db: ${s:-no db statistics}; rows dialog/dialog_vars: $(bdb_rows)"
	stop_tree "$P_PID" 10
	bench_untrack "$P_PID"
	P_PID=""
}
