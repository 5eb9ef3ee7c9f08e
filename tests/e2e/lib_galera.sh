# tests/e2e/lib_galera.sh - a private three-node MariaDB Galera cluster
# on 127.0.0.1 for one test (bash; source after tests/e2e/lib.sh and
# e2e_init).
#
#   galera_start BASE_PORT || { skip/fail; }
#   ... $GALERA_SOCK1..3, galera_sql N "SQL", galera_url N ...
#   galera_stop_node N; galera_restart_node N; wait_for 40 galera_ready N
#   (every node stopped and its directory removed at exit, pass or fail)
#
# Each node has its own datadir, socket, client port (BASE+N), group port
# (BASE+10+N), IST port (BASE+20+N) and rsync SST port (BASE+30+N); the
# first starts with --wsrep-new-cluster, the others join by SST.  The evs
# timeouts are shortened (suspect 3 s, inactive 6 s) as in
# /work/shared/reference/lab-notes.md.  The sipdlg database is created on
# node 1 with config/schema/mysql.sql and cluster.sql; Galera replicates
# it to the others.
#
# The nodes run the settings README "Several boxes" recommends for
# production: innodb_flush_log_at_trx_commit = 2 (a COMMIT returns once
# the write set is in the memory of every node; each node writes its redo
# log at commit and flushes it once a second, so only all three nodes
# losing power within that second loses a commit), wsrep_slave_threads = 2
# (two appliers: a node applies the other nodes' write sets while one is
# still committing), no binary log (log_bin off, as on the single
# MariaDB of the benchmarks).  Only memory is smaller than a real host's
# (32M buffer pool, 8M redo log, 32M gcache): GALERA_EXTRA_OPTS (more
# mariadbd options, appended last so they override these) sets them for
# a benchmark.
#
# Returns: 0 up (cluster size 3 on every node); 2 galera-4 or MariaDB not
# installed; 1 it failed (the error logs are printed).

GALERA_DIR=""
declare -a GALERA_PIDS=("" "" "" "")
GALERA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GALERA_LIB=""
GALERA_BASE=""

_galera_bin() {
	local b
	for b in "$@"; do
		if command -v "$b" >/dev/null 2>&1; then command -v "$b"; return 0; fi
		[ -x "/usr/sbin/$b" ] && { echo "/usr/sbin/$b"; return 0; }
	done
	return 1
}

galera_sock() { echo "$GALERA_DIR/n$1/mysqld.sock"; }
galera_url() { echo "mysql://root@unix($(galera_sock "$1"))/sipdlg"; }
galera_sql() {
	local n=$1; shift
	"$_GALERA_CLIENT" --no-defaults -S "$(galera_sock "$n")" -u root -N -B \
		sipdlg -e "$*"
}

# galera_stop_node N: TERM (KILL after 10 s).
galera_stop_node() {
	local pid=${GALERA_PIDS[$1]} i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	GALERA_PIDS[$1]=""
}

# galera_restart_node N: start a node stopped by galera_stop_node again
# on its datadir (a clean stop saved its position: it rejoins by IST).
# Does not wait: galera_ready N is true once it is back in a cluster of 3.
galera_restart_node() {
	[ -z "${GALERA_PIDS[$1]}" ] || return 0
	_galera_launch "$1" "$GALERA_BASE"
}
galera_ready() {	# N: in a cluster of 3 and synced (serving queries)
	_galera_ready "$1" 3 &&
	[ "$("$_GALERA_CLIENT" --no-defaults --connect-timeout=2 -S "$(galera_sock "$1")" \
		-u root -N -B -e "SHOW STATUS LIKE 'wsrep_ready'" 2>/dev/null | cut -f2)" = ON ]
}

galera_stop() {
	local n
	for n in 3 2 1; do galera_stop_node "$n"; done
	if [ -n "$GALERA_DIR" ]; then rm -rf "$GALERA_DIR"; GALERA_DIR=""; fi
}

_galera_launch() {
	local n=$1 base=$2 extra=${3:-} d="$GALERA_DIR/n$1"
	mkdir -p "$d/data"
	# an rsync SST's daemon runs as nobody: it must write here
	[ -n "$extra" ] || chown nobody: "$d/data"
	"$_GALERA_SERVER" --no-defaults --datadir="$d/data" \
		--socket="$d/mysqld.sock" --port=$((base + n)) \
		--bind-address=127.0.0.1 --pid-file="$d/mysqld.pid" --user=root \
		--log-error="$d/error.log" --innodb-buffer-pool-size=32M \
		--innodb-log-file-size=8M --performance-schema=OFF \
		--binlog-format=ROW --default-storage-engine=InnoDB \
		--innodb-autoinc-lock-mode=2 --innodb-flush-log-at-trx-commit=2 \
		--skip-log-bin --wsrep-on=ON --wsrep-slave-threads=2 \
		--wsrep-provider="$GALERA_LIB" --wsrep-cluster-name=sipdlg_e2e \
		--wsrep-cluster-address="gcomm://127.0.0.1:$((base + 11)),127.0.0.1:$((base + 12)),127.0.0.1:$((base + 13))" \
		--wsrep-node-address=127.0.0.1 --wsrep-node-name="n$n" \
		--wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$((base + 10 + n));ist.recv_addr=127.0.0.1:$((base + 20 + n));gcache.size=32M;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S;evs.install_timeout=PT6S" \
		--wsrep-sst-method=rsync \
		--wsrep-sst-receive-address="127.0.0.1:$((base + 30 + n))" \
		$extra ${GALERA_EXTRA_OPTS:-} </dev/null >"$d/stdout.log" 2>&1 &
	GALERA_PIDS[$n]=$!
}

# _galera_wait N SECONDS: the node answers and sees 3 nodes (primary).
_galera_ready() {
	local v
	v=$("$_GALERA_CLIENT" --no-defaults --connect-timeout=2 -S "$(galera_sock "$1")" -u root -N -B \
		-e "SHOW STATUS LIKE 'wsrep_cluster_size'" 2>/dev/null | cut -f2)
	[ "${v:-0}" -ge "$2" ]
}

_galera_fail() {
	local n
	echo "# galera: $1"
	for n in 1 2 3; do
		[ -f "$GALERA_DIR/n$n/error.log" ] || continue
		echo "# node $n error log:"
		tail -n 15 "$GALERA_DIR/n$n/error.log" | sed 's/^/#   /'
	done
	return 1
}

_galera_trap_chain() {
	local prev
	prev=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
	if [ -n "$prev" ]; then
		# shellcheck disable=SC2064
		trap "$prev; galera_stop" EXIT
	else
		trap galera_stop EXIT
	fi
}

galera_start() {
	local base=$1 install n
	GALERA_BASE=$base
	_GALERA_SERVER=$(_galera_bin mariadbd mysqld) || return 2
	install=$(_galera_bin mariadb-install-db mysql_install_db) || return 2
	_GALERA_CLIENT=$(_galera_bin mariadb mysql) || return 2
	for GALERA_LIB in /usr/lib/galera/libgalera_smm.so \
			  /usr/lib/libgalera_smm.so ""; do
		[ -z "$GALERA_LIB" ] || [ -f "$GALERA_LIB" ] && break
	done
	[ -n "$GALERA_LIB" ] || return 2
	command -v rsync >/dev/null 2>&1 || return 2

	GALERA_DIR=$(mktemp -d /tmp/sipdlg-galera.XXXXXX) || return 1
	chmod 755 "$GALERA_DIR"
	_galera_trap_chain
	mkdir -p "$GALERA_DIR/n1"
	if ! "$install" --no-defaults --datadir="$GALERA_DIR/n1/data" \
		--user=root --auth-root-authentication-method=normal \
		--skip-test-db --skip-name-resolve \
		>"$GALERA_DIR/install.log" 2>&1; then
		tail -n 20 "$GALERA_DIR/install.log" | sed 's/^/# /'
		return 1
	fi
	_galera_launch 1 "$base" --wsrep-new-cluster
	wait_for 20 _galera_ready 1 1 || { _galera_fail "node 1 did not start"; return 1; }
	"$_GALERA_CLIENT" --no-defaults -S "$(galera_sock 1)" -u root \
		-e 'CREATE DATABASE sipdlg' &&
	"$_GALERA_CLIENT" --no-defaults -S "$(galera_sock 1)" -u root sipdlg \
		<"$GALERA_ROOT/config/schema/mysql.sql" &&
	"$_GALERA_CLIENT" --no-defaults -S "$(galera_sock 1)" -u root sipdlg \
		<"$GALERA_ROOT/config/schema/cluster.sql" ||
		{ _galera_fail "schema not loaded"; return 1; }
	# The joiners get the data by an rsync SST from node 1, one after the
	# other (about 15 s each on a busy 2-CPU machine).
	for n in 2 3; do
		_galera_launch "$n" "$base"
		wait_for 40 _galera_ready "$n" "$n" ||
			{ _galera_fail "node $n did not join"; return 1; }
	done
	return 0
}
