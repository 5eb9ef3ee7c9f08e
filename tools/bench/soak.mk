# tools/bench/soak.mk - `make soak` (issue 16): an hour of mixed load and
# faults against one sipdlgd with invariants checked throughout and at the
# end (tools/bench/soak.sh); report in tools/bench/results/LATEST-soak.md.
# Not part of `make test`.  Needs root, sipp, jq, python3, mariadb-server.
#   make soak SOAK_SECONDS=900

.PHONY: soak

SOAK_SECONDS ?= 3600

soak: $(BUILD)/sipdlgd $(BUILD)/sipdlgctl $(BENCH_FLOOD) $(BUILD)/tests/e2e/slowloris
	@SOAK_SECONDS=$(SOAK_SECONDS) timeout -k 30 $$(( $(SOAK_SECONDS) + 900 )) \
		bash tools/bench/soak.sh
