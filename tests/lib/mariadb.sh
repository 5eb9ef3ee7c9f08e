# tests/lib/mariadb.sh - a private MariaDB server for one test (bash).
#
#   . tests/lib/mariadb.sh
#   mariadb_start || { skip ...; exit 0; }   # or fail
#   ... use $MARIADB_SOCKET, $MARIADB_URL, mariadb_sql "SELECT ..." ...
#   (stopped and removed at exit, pass or fail)
#
# mariadb_start creates a data directory in a fresh mktemp dir, starts
# mariadbd on a unix socket only (--skip-networking, --no-defaults, so the
# system's /etc/mysql and any system service are never touched), waits
# (bounded) for it, creates the database `sipdlg` and loads
# config/schema/mysql.sql.  It exports:
#   MARIADB_DIR     the temp dir (datadir, socket, pid file, error log)
#   MARIADB_SOCKET  the socket path
#   MARIADB_URL     mysql://root@unix(<socket>)/sipdlg  (sipdlg's socket form)
#   SIPDLG_TEST_DB_SOCKET  = MARIADB_SOCKET, for tests/unit/test_db_live
# The server runs as root (tests run as root; mariadbd needs --user=root
# then).  Its stop is chained in front of whatever EXIT trap is already set
# (e.g. tests/e2e/lib.sh's), so call e2e_init first.
#
# Return codes: 0 started; 2 no MariaDB server installed (callers usually
# skip); 1 it failed to start (the error log is printed on stderr).

MARIADB_DIR=""
MARIADB_SOCKET=""
MARIADB_URL=""
MARIADB_PID=""
MARIADB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

_mariadb_bin() {
	local b
	for b in "$@"; do
		if command -v "$b" >/dev/null 2>&1; then command -v "$b"; return 0; fi
		[ -x "/usr/sbin/$b" ] && { echo "/usr/sbin/$b"; return 0; }
	done
	return 1
}

# mariadb_sql SQL... : run SQL as root in database sipdlg; prints rows
# tab-separated without column names.
mariadb_sql() {
	"$_MARIADB_CLIENT" --no-defaults -S "$MARIADB_SOCKET" -u root -N -B \
		sipdlg -e "$*"
}

# mariadb_stop: stop the server (TERM, then KILL after 10 s) and remove
# its directory.  Idempotent.
mariadb_stop() {
	local i
	if [ -n "$MARIADB_PID" ]; then
		kill -TERM "$MARIADB_PID" 2>/dev/null
		for i in $(seq 100); do
			kill -0 "$MARIADB_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$MARIADB_PID" 2>/dev/null
		wait "$MARIADB_PID" 2>/dev/null
		MARIADB_PID=""
	fi
	if [ -n "$MARIADB_DIR" ]; then
		rm -rf "$MARIADB_DIR"
		MARIADB_DIR=""
	fi
}

# mariadb_pause / mariadb_resume: stop the server and start it again on
# the same datadir and socket (for "the database went away" tests).
mariadb_pause() {
	[ -n "$MARIADB_PID" ] || return 1
	kill -TERM "$MARIADB_PID" 2>/dev/null
	local i
	for i in $(seq 100); do
		kill -0 "$MARIADB_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$MARIADB_PID" 2>/dev/null
	wait "$MARIADB_PID" 2>/dev/null
	MARIADB_PID=""
}
mariadb_resume() {
	_mariadb_launch
}

_mariadb_launch() {
	"$_MARIADB_SERVER" --no-defaults --datadir="$MARIADB_DIR/data" \
		--socket="$MARIADB_SOCKET" --skip-networking \
		--pid-file="$MARIADB_DIR/mysqld.pid" --user=root \
		--log-error="$MARIADB_DIR/error.log" \
		--innodb-buffer-pool-size=32M --innodb-log-file-size=8M \
		--skip-log-bin \
		</dev/null >/dev/null 2>&1 &
	MARIADB_PID=$!
	# Wait up to 20 s for the socket to answer.
	local i
	for i in $(seq 200); do
		if ! kill -0 "$MARIADB_PID" 2>/dev/null; then
			echo "mariadb.sh: mariadbd exited at start:" >&2
			tail -n 20 "$MARIADB_DIR/error.log" >&2
			MARIADB_PID=""
			return 1
		fi
		if [ -S "$MARIADB_SOCKET" ] && "$_MARIADB_CLIENT" --no-defaults \
			-S "$MARIADB_SOCKET" -u root -e 'SELECT 1' \
			>/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "mariadb.sh: mariadbd did not answer within 20 s:" >&2
	tail -n 20 "$MARIADB_DIR/error.log" >&2
	return 1
}

_mariadb_trap_chain() {
	local prev
	prev=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
	if [ -n "$prev" ]; then
		# shellcheck disable=SC2064
		trap "mariadb_stop; $prev" EXIT
	else
		trap mariadb_stop EXIT
	fi
}

mariadb_start() {
	local install
	_MARIADB_SERVER=$(_mariadb_bin mariadbd mysqld) || return 2
	install=$(_mariadb_bin mariadb-install-db mysql_install_db) || return 2
	_MARIADB_CLIENT=$(_mariadb_bin mariadb mysql) || return 2

	MARIADB_DIR=$(mktemp -d /tmp/sipdlg-mariadb.XXXXXX) || return 1
	chmod 755 "$MARIADB_DIR"
	MARIADB_SOCKET="$MARIADB_DIR/mysqld.sock"
	_mariadb_trap_chain

	if ! "$install" --no-defaults --datadir="$MARIADB_DIR/data" \
		--user=root --auth-root-authentication-method=normal \
		--skip-test-db --skip-name-resolve \
		>"$MARIADB_DIR/install.log" 2>&1; then
		echo "mariadb.sh: $install failed:" >&2
		tail -n 20 "$MARIADB_DIR/install.log" >&2
		return 1
	fi
	_mariadb_launch || return 1

	if ! "$_MARIADB_CLIENT" --no-defaults -S "$MARIADB_SOCKET" -u root \
		-e 'CREATE DATABASE sipdlg' ||
	   ! "$_MARIADB_CLIENT" --no-defaults -S "$MARIADB_SOCKET" -u root \
		sipdlg <"$MARIADB_ROOT/config/schema/mysql.sql"; then
		echo "mariadb.sh: could not load config/schema/mysql.sql" >&2
		return 1
	fi
	MARIADB_URL="mysql://root@unix($MARIADB_SOCKET)/sipdlg"
	SIPDLG_TEST_DB_SOCKET=$MARIADB_SOCKET
	export MARIADB_DIR MARIADB_SOCKET MARIADB_URL SIPDLG_TEST_DB_SOCKET
	return 0
}
