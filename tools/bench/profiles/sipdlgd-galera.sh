# profiles/sipdlgd-galera.sh - sipdlgd-db (sipdlg-db.yaml, db_mode 1) on
# node 1 of a three-node MariaDB Galera cluster instead of one private
# MariaDB, with the box's cluster: section (node 1 of 2, heartbeats every
# second, cluster-wide profile caller).  The cluster is not started here:
# bench-cluster.sh starts it (tests/e2e/lib_galera.sh) and passes
#   BENCH_GALERA_URL    db_url of Galera node 1 (mysql://root@unix(...)/sipdlg)
#   BENCH_GALERA_SOCK   its unix socket (the tables are emptied at each start)
# Run by `make bench-cluster` as
#   BENCH_PROFILES="sipdlgd-db sipdlgd-galera" bench-cps.sh
# and unavailable without those variables.

P_YAML=$BENCH_DIR/sipdlg-db.yaml
# shellcheck disable=SC1091
. "$BENCH_DIR/profiles/sipdlgd.sh"
P_LABEL=sipdlgd-galera
P_DESC="$P_DESC, db_mode 1 on node 1 of a three-node Galera cluster (unix socket), cluster: node 1 of 2"

eval "_sipdlgd_prepare() $(declare -f p_prepare | tail -n +2)"
eval "_sipdlgd_start() $(declare -f p_start | tail -n +2)"

p_prepare() {
	if [ -z "${BENCH_GALERA_URL:-}" ] || [ ! -S "${BENCH_GALERA_SOCK:-}" ]; then
		P_UNAVAILABLE="no Galera cluster (run it through make bench-cluster)"
		return 1
	fi
	_sipdlgd_prepare
}

p_start() {
	local d=$1 yaml=$P_YAML rc client
	client=$(command -v mariadb || command -v mysql)
	"$client" --no-defaults -S "$BENCH_GALERA_SOCK" -u root sipdlg -e \
		"DELETE FROM dialog; DELETE FROM dialog_vars; DELETE FROM sipdlg_profile_counts; DELETE FROM sipdlg_nodes" || return 1
	{
		sed -e "s|^\(  db_url:\).*|\1 \"$BENCH_GALERA_URL\"|" "$yaml"
		cat <<EOC
cluster:
  node_id: 1
  nodes: 2
  address: "127.0.0.1:15060"
  heartbeat_interval: 1
  takeover_after: 3
  backup_of: [2]
  profiles: [caller]
EOC
	} >"$d/sipdlg-galera.src.yaml"
	P_YAML=$d/sipdlg-galera.src.yaml
	_sipdlgd_start "$d"
	rc=$?
	P_YAML=$yaml
	return $rc
}

p_stop() {
	[ -n "$P_PID" ] || return 0
	log "  sipdlgd-galera: $("$REPO_DIR/build/sipdlgctl" -s "$P_DIR/sipdlgd.sock" -t 2 -j stats db 2>/dev/null |
		jq -r 'to_entries | map("\(.key)=\(.value)") | join(" ")' 2>/dev/null)"
	stop_tree "$P_PID" 10
	bench_untrack "$P_PID"
	P_PID=""
}
