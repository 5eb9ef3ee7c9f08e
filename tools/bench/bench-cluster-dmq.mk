# tools/bench/bench-cluster-dmq.mk - `make bench-cluster-dmq`: the Kamailio
# side of bench-cluster's takeover (tools/bench/bench-cluster-dmq.sh): two
# Kamailio 5.6 boxes with dialog replication over DMQ, box A killed, its
# address moved to box B; replication lag, B serving A's dialogs, timeouts,
# memory per dialog.  Not part of `make test` nor of `make bench`.
# Included by the top Makefile.
#   make bench-cluster-dmq BENCH_DMQ_DIALOGS=10000
# Needs kamailio (Debian's package: dialog, dmq, jsonrpcs, ctl modules),
# sipp, python3, jq.

.PHONY: bench-cluster-dmq
bench-cluster-dmq:
	@timeout -k 30 900 bash tools/bench/bench-cluster-dmq.sh
