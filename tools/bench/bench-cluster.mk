# tools/bench/bench-cluster.mk - `make bench-cluster`: several boxes on a
# three-node MariaDB Galera cluster (tools/bench/bench-cluster.sh): the
# takeover of 10,000 dialogs after kill -9 (manual and automatic), calls/s
# on Galera against one MariaDB, staleness of cluster-wide profile counts.
# Included by the top Makefile (uses its BUILD, CC, CFLAGS, LIB).
#   make bench-cluster BENCH_CLUSTER_PARTS="takeover stale" BENCH_CLUSTER_RUNS=3
# Needs galera-4, mariadb-server, rsync, sipp, python3, jq (make deps).

.PHONY: bench-cluster
bench-cluster: $(BUILD)/sipdlgd $(BUILD)/sipdlgctl $(BUILD)/tools/bench/gen_rows
	@timeout -k 30 1200 bash tools/bench/bench-cluster.sh
